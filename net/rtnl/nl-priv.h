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

/* Requests in one sendmsg: few enough that their ACKs (each a datagram of
 * its own) fit the socket's receive buffer however the kernel sizes them. */
#define CYRIS_NL_BATCH_MAX 16

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
	/* cyris_nl_batch_begin(): requests queued by cyris_nl_send(), each
	 * holding a reference of its own, sent by the next exchange that
	 * waits for its answer or by cyris_nl_batch_end() */
	bool batching;
	struct nl_msg *queue[CYRIS_NL_BATCH_MAX];
	size_t n_queued;
	int batch_err;             /* the first failure of a queued request */
	struct cyris_error batch_error;
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
 * A request that wants nothing back but its ACK: sent and waited for like
 * cyris_nl_talk(), or, while the context is batching, queued (0 is
 * returned; its result comes with the batch). @msg is not freed.
 */
int cyris_nl_send(struct cyris_nl *nl, struct nl_msg *msg);

/* One request of cyris_nl_talk_many(). */
struct cyris_nl_req {
	struct nl_msg *msg;
	int ignore;     /* an -errno that counts as success here (0: none) */
	int result;     /* set: 0 or the kernel's -errno */
};

/*
 * Send @n requests (at most CYRIS_NL_BATCH_MAX) in one sendmsg, each with
 * its own sequence number and NLM_F_ACK, and read every ACK; what was
 * queued on @nl goes first. The kernel runs them in order and does not
 * stop at a failure: put together only requests that are right to make
 * whatever became of those before them. Returns 0, or the first error
 * that is not its request's @ignore (its ext-ack kept), or the socket's
 * error when the answers could not all be read. Nothing is freed.
 */
int cyris_nl_talk_many(struct cyris_nl *nl, struct cyris_nl_req *req, size_t n);

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

/* A context in the calling thread's namespace, which is @spec's (an fd on
 * it is kept, as cyris_nl_open() keeps one). */
int cyris_nl_open_here(struct cyris_nl **ret, const char *spec);

/* Another context in the namespace @like was opened in: the very one,
 * through its fd, even if its name now names another. */
int cyris_nl_open_same(struct cyris_nl **ret, const struct cyris_nl *like);

/* The link named @name up, and tagged with @alias when it is not "", in
 * one request (for a loopback, whose tag costs no route walk: it is
 * always ready). */
int cyris_link_set_up_alias(struct cyris_nl *nl, const char *name, const char *alias);

/* Convert a libnl -NLE_* code to -errno (never returns 0 for an error). */
int cyris_nle_errno(int nle);

/* Shorthand: a new message of @type with @flags, and a zeroed header
 * struct of @hdrlen bytes appended; NULL on ENOMEM. */
struct nl_msg *cyris_nlmsg_new(int type, int flags, const void *hdr,
			       size_t hdrlen);

#endif
