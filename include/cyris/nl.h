/* SPDX-License-Identifier: MIT */
/*
 * cyris/nl.h — the rtnetlink context every net call takes.
 *
 * One context per process (or per target namespace): a libnl socket bound
 * to a network namespace, with NETLINK_EXT_ACK enabled. Every change asks
 * for an acknowledgement and every reply is read. Errors come back as
 * -errno. The context keeps the kernel's side of the last failed request
 * (cyris/error.h): cyris_nl_error() gives its code and, when the kernel
 * attached an extended-ack message, that text as the detail (source
 * "kernel"). The message is empty: the caller names the object it asked for
 * ("add cr124-n1: File exists (kernel: ...)").
 */
#ifndef CYRIS_NL_H
#define CYRIS_NL_H

#include <stdbool.h>
#include <sys/types.h>

#include "cyris/error.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default)

struct cyris_nl;

/*
 * Open a context in the namespace named by @netns:
 *   NULL or ""        the caller's own namespace
 *   "NAME"            /run/netns/NAME (as created by `ip netns add`)
 *   "/path"           any nsfs file, e.g. /proc/PID/ns/net
 *   "pid:PID"         the namespace of process PID
 * Returns 0 and stores the context in *ret, or -errno.
 */
int cyris_nl_open(struct cyris_nl **ret, const char *netns);

/* Close the context; NULL is a no-op. */
void cyris_nl_close(struct cyris_nl *nl);

/* The kernel's error of the last request (code 0 when it succeeded), with
 * its extended-ack text as the detail. Valid until the next call on @nl. */
const struct cyris_error *cyris_nl_error(const struct cyris_nl *nl);

/* The namespace spec the context was opened with (never NULL; "" = own). */
const char *cyris_nl_netns(const struct cyris_nl *nl);

/*
 * Batches. After cyris_nl_batch_begin(), the requests on @nl that need
 * nothing back but their acknowledgement — an address or route added or
 * removed, a link's up, alias, tag, master, MTU, MAC, altname or
 * forwarding set, a link deleted — are queued instead of sent, and each call returns 0.
 * cyris_nl_batch_end() sends what is queued in one sendmsg (a few at a
 * time), each request with its own sequence number and acknowledgement,
 * reads every answer, ends the batch, and returns 0 or the first failure
 * in the order the requests were made, whose kernel text is then in
 * cyris_nl_error(). A call that waits for its own answer (a read, a
 * create) sends the queue first and returns its own result; once a queued
 * request has failed, later requests of the batch are not sent (each
 * returns that failure). The kernel runs the requests of one sendmsg in
 * order whatever became of the one before: batch only requests that are
 * right to make even after an earlier one failed, e.g. the configuration
 * of an object that is undone as a whole on failure. Closing a context
 * drops what it has not sent.
 */
void cyris_nl_batch_begin(struct cyris_nl *nl);
int cyris_nl_batch_end(struct cyris_nl *nl);

/*
 * An fd on the context's namespace (owned by the context; do not close),
 * for callers that need to create objects there by other means (TUN ioctls,
 * sockets). Returns the fd or -errno.
 */
int cyris_nl_netns_fd(const struct cyris_nl *nl);

/*
 * Open an fd on the namespace named by @spec (same forms as cyris_nl_open;
 * NULL means the caller's own). Returns the fd (O_CLOEXEC) or -errno.
 */
int cyris_netns_open(const char *spec);

/*
 * Switch the calling thread into namespace @fd; the fd of the namespace it
 * was in is stored in *ret_old for cyris_netns_leave(). Returns 0 or -errno.
 */
int cyris_netns_enter(int fd, int *ret_old);

/* Switch back to the namespace saved by cyris_netns_enter() and close it. */
int cyris_netns_leave(int old);

/* true when @spec names a process ("pid:N"); its pid is stored in *ret_pid. */
bool cyris_netns_is_pid(const char *spec, pid_t *ret_pid);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
