/* SPDX-License-Identifier: MIT */
/*
 * cyris/error.h — the one shape of an error's detail.
 *
 * Every call returns 0 (or a count) or -errno. What a caller prints is a
 * struct cyris_error: the code, a message that names the object
 * ("bridge cr124-n1 (network office): File exists", "FILE:LINE:COL: ..."),
 * and the subsystem's own text where there is one (the kernel's extended
 * ack, libvirt's or libssh's message, nftables'). cyris_error_format() makes
 * one line of it, "what object: message (kernel: detail)"; the tools print
 * that once, prefixed by their name.
 *
 * Where the error lives:
 *  - a call that works in a context (cyris_nl, cyris_fw, cyris_tunnel,
 *    cyris_virt) records its last failure in that context, as libnl,
 *    libvirt and libssh do with their handles: the detail belongs to the
 *    connection it came from, and the many short calls on a context keep
 *    their signatures;
 *  - a call without a context (loading a file, planning, a topology run,
 *    the host lock, the tunnel state directory) takes a
 *    `struct cyris_error *err` as its last argument, filled on failure and
 *    untouched on success; NULL means the caller wants only the code.
 *
 * The message and the detail are fixed-size; what does not fit is cut and
 * ends in "...", never silently.
 */
#ifndef CYRIS_ERROR_H
#define CYRIS_ERROR_H

#include <stdarg.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default)

/* Whose text the detail is. */
enum cyris_error_source {
	CYRIS_ERROR_NONE = 0,
	CYRIS_ERROR_KERNEL,             /* netlink extended ack */
	CYRIS_ERROR_NFT,                /* nftables (libnftnl, the kernel's nf_tables) */
	CYRIS_ERROR_LIBVIRT,
	CYRIS_ERROR_LIBSSH,
	CYRIS_ERROR_AWS,                /* EC2's error code and message */
};

#define CYRIS_ERROR_MSG_MAX 2048
#define CYRIS_ERROR_DETAIL_MAX 512

struct cyris_error {
	int code;                               /* -errno; 0 = no error */
	enum cyris_error_source source;         /* of @detail */
	char msg[CYRIS_ERROR_MSG_MAX];          /* "what object: message", "" = none */
	char detail[CYRIS_ERROR_DETAIL_MAX];    /* the subsystem's text, "" = none */
};

/* No error: code 0, empty message and detail. NULL is a no-op. */
void cyris_error_clear(struct cyris_error *e);

/* Set @e's code and message (printf), clearing the detail; returns @code,
 * so that `return cyris_error_set(err, -ENOENT, "...")` works. NULL @e only
 * returns @code. */
int cyris_error_set(struct cyris_error *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Add to the end of @e's message (printf), keeping the rest. */
void cyris_error_append(struct cyris_error *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The same with a va_list, for a caller's own printf-like helpers. */
int cyris_error_setv(struct cyris_error *e, int code, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
void cyris_error_appendv(struct cyris_error *e, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* Set @e's detail (printf) and its source, keeping code and message. */
void cyris_error_detail(struct cyris_error *e, enum cyris_error_source source,
			const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* "kernel", "nft", "libvirt", "libssh", "aws"; NULL for CYRIS_ERROR_NONE. */
const char *cyris_error_source_name(enum cyris_error_source source);

/*
 * One line into @buf: "MESSAGE (SOURCE: DETAIL)", the parenthesis only with
 * a detail; a message that is empty reads as strerror(-code). Always
 * NUL-terminated; returns the length it needed (as snprintf), so a result
 * >= @size tells that it was cut.
 */
int cyris_error_format(const struct cyris_error *e, char *buf, size_t size);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
