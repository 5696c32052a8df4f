/* SPDX-License-Identifier: MIT */
/* Private to net/: the request/reply plumbing behind struct cyris_nl. */
#ifndef CYRIS_NL_PRIV_H
#define CYRIS_NL_PRIV_H

#include <netlink/netlink.h>
#include <netlink/msg.h>
#include <netlink/attr.h>

#include "cyris/link.h"
#include "cyris/nl.h"
#include "../base/util.h"

struct cyris_nl {
	struct nl_sock *sk;
	struct nl_cb *cb;
	int nsfd;                 /* target namespace, -1 for our own */
	char *spec;               /* what the caller asked for ("" = own) */
	/* per-request state, read by the callbacks */
	int err;                  /* -errno from the kernel's NLMSG_ERROR */
	int intr;                 /* a dump was interrupted (NLM_F_DUMP_INTR) */
	int done;                 /* the ACK, error or NLMSG_DONE was read */
	nl_recvmsg_msg_cb_t valid;
	void *valid_arg;
	struct cyris_error error;  /* cyris_nl_error(): the kernel's code and ext-ack */
};

/*
 * Send @msg (NLM_F_ACK is added) and read replies until its ACK or error.
 * Replies carrying data (NLM_F_ECHO) go to @cb when it is not NULL.
 * Returns 0 or -errno; on a kernel error the ext-ack text is kept.
 * @msg is not freed.
 */
int cyris_nl_talk(struct cyris_nl *nl, struct nl_msg *msg,
		  nl_recvmsg_msg_cb_t cb, void *arg);

/*
 * Send the dump request @msg (NLM_F_DUMP is added) and feed every reply to
 * @cb until NLMSG_DONE. An interrupted dump is restarted (the callback's
 * state is reset by @reset, which may be NULL) up to a few times.
 */
int cyris_nl_dump(struct cyris_nl *nl, struct nl_msg *msg,
		  nl_recvmsg_msg_cb_t cb, void *arg,
		  void (*reset)(void *arg));

/* Typed cleanup (util.h's _cleanup_): the message, or the context, is
 * freed when the variable goes out of scope; TAKE_PTR hands it on. */
static inline void cyris_nlmsg_freep(struct nl_msg **m) { if (*m) nlmsg_free(*m); }
static inline void cyris_nl_closep(struct cyris_nl **nl) { cyris_nl_close(*nl); }
#define _cleanup_nlmsg_ _cleanup_(cyris_nlmsg_freep)
#define _cleanup_nl_ _cleanup_(cyris_nl_closep)
/* a list (cyris_link_list_free) freed at the end of its scope */
#define _cleanup_link_list_ _cleanup_(cyris_link_list_free)

/* Convert a libnl -NLE_* code to -errno (never returns 0 for an error). */
int cyris_nle_errno(int nle);

/* Shorthand: a new message of @type with @flags, and a zeroed header
 * struct of @hdrlen bytes appended; NULL on ENOMEM. */
struct nl_msg *cyris_nlmsg_new(int type, int flags, const void *hdr,
			       size_t hdrlen);

#endif
