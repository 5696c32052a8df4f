/* SPDX-License-Identifier: MIT */
/* struct cyris_error: set, clear, format (cyris/error.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cyris/error.h"

/* vsnprintf into @buf, ending in "..." when it did not fit. */
static void put(char *buf, size_t size, const char *fmt, va_list ap)
{
	int n = vsnprintf(buf, size, fmt, ap);

	if (n >= 0 && (size_t)n >= size && size > 4)
		memcpy(buf + size - 4, "...", 4);
}

void cyris_error_clear(struct cyris_error *e)
{
	if (!e)
		return;
	e->code = 0;
	e->source = CYRIS_ERROR_NONE;
	e->msg[0] = '\0';
	e->detail[0] = '\0';
}

int cyris_error_setv(struct cyris_error *e, int code, const char *fmt, va_list ap)
{
	if (!e)
		return code;
	cyris_error_clear(e);
	e->code = code;
	put(e->msg, sizeof(e->msg), fmt, ap);
	return code;
}

int cyris_error_set(struct cyris_error *e, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	code = cyris_error_setv(e, code, fmt, ap);
	va_end(ap);
	return code;
}

void cyris_error_appendv(struct cyris_error *e, const char *fmt, va_list ap)
{
	size_t len;

	if (!e)
		return;
	len = strlen(e->msg);
	if (sizeof(e->msg) - len <= 4) {   /* no room: the end says so */
		memcpy(e->msg + sizeof(e->msg) - 4, "...", 4);
		return;
	}
	put(e->msg + len, sizeof(e->msg) - len, fmt, ap);
}

void cyris_error_append(struct cyris_error *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cyris_error_appendv(e, fmt, ap);
	va_end(ap);
}

void cyris_error_detail(struct cyris_error *e, enum cyris_error_source source,
			const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return;
	e->source = source;
	va_start(ap, fmt);
	put(e->detail, sizeof(e->detail), fmt, ap);
	va_end(ap);
}

const char *cyris_error_source_name(enum cyris_error_source source)
{
	switch (source) {
	case CYRIS_ERROR_KERNEL: return "kernel";
	case CYRIS_ERROR_NFT: return "nft";
	case CYRIS_ERROR_LIBVIRT: return "libvirt";
	case CYRIS_ERROR_LIBSSH: return "libssh";
	case CYRIS_ERROR_AWS: return "aws";
	case CYRIS_ERROR_NONE: break;
	}
	return NULL;
}

int cyris_error_format(const struct cyris_error *e, char *buf, size_t size)
{
	const char *src = cyris_error_source_name(e->source);
	const char *msg = e->msg[0] ? e->msg : strerror(e->code < 0 ? -e->code : e->code);

	if (e->detail[0] && src)
		return snprintf(buf, size, "%s (%s: %s)", msg, src, e->detail);
	return snprintf(buf, size, "%s", msg);
}
