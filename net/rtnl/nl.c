/* SPDX-License-Identifier: MIT */
/*
 * The rtnetlink context: one libnl socket in a chosen network namespace,
 * extended acks on, every request acknowledged, every error turned into
 * -errno at this boundary (libnl's -NLE_* codes never reach callers).
 */
#include <fcntl.h>
#include <limits.h>
#include <linux/netlink.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <netlink/socket.h>
#include <netlink/handlers.h>
#include <netlink/errno.h>

#include "nl-priv.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

int cyris_nle_errno(int nle)
{
	switch (nle < 0 ? -nle : nle) {
	case 0: return 0;
	case NLE_NOMEM: return -ENOMEM;
	case NLE_EXIST: return -EEXIST;
	case NLE_OBJ_NOTFOUND: return -ENOENT;
	case NLE_NODEV: return -ENODEV;
	case NLE_PERM: return -EPERM;
	case NLE_NOACCESS: return -EACCES;
	case NLE_INVAL: return -EINVAL;
	case NLE_RANGE: return -ERANGE;
	case NLE_BUSY: return -EBUSY;
	case NLE_AGAIN: return -EAGAIN;
	case NLE_INTR: return -EINTR;
	case NLE_OPNOTSUPP: return -EOPNOTSUPP;
	case NLE_AF_NOSUPPORT: return -EAFNOSUPPORT;
	case NLE_MSGSIZE: case NLE_MSG_TOOSHORT: case NLE_MSG_TRUNC:
		return -EMSGSIZE;
	case NLE_BAD_SOCK: return -EBADF;
	case NLE_PROTO_MISMATCH: case NLE_SEQ_MISMATCH: case NLE_MSG_OVERFLOW:
	case NLE_PARSE_ERR: case NLE_MSGTYPE_NOSUPPORT:
		return -EPROTO;
	case NLE_NOATTR: return -ENODATA;
	case NLE_DUMP_INTR: return -EAGAIN;
	case NLE_IMMUTABLE: return -EROFS;
	default: return -EIO;
	}
}

bool cyris_netns_is_pid(const char *spec, pid_t *ret_pid)
{
	unsigned long pid;

	if (!spec || strncmp(spec, "pid:", 4) != 0)
		return false;
	if (cyris_parse_uint(spec + 4, INT_MAX, &pid) < 0 || pid == 0)
		return false;
	if (ret_pid)
		*ret_pid = (pid_t)pid;
	return true;
}

int cyris_netns_open(const char *spec)
{
	char path[PATH_MAX];
	pid_t pid;
	int fd;

	if (!spec || !*spec)
		snprintf(path, sizeof(path), "/proc/self/ns/net");
	else if (cyris_netns_is_pid(spec, &pid))
		snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	else if (spec[0] == '/')
		snprintf(path, sizeof(path), "%s", spec);
	else if (strchr(spec, '/') || streq(spec, ".") || streq(spec, "..") ||
		 strncmp(spec, "pid:", 4) == 0)
		return -EINVAL;
	else if (snprintf(path, sizeof(path), "/run/netns/%s", spec) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int cyris_netns_enter(int fd, int *ret_old)
{
	int old = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);

	if (old < 0)
		return -errno;
	if (setns(fd, CLONE_NEWNET) < 0) {
		int r = -errno;

		close(old);
		return r;
	}
	*ret_old = old;
	return 0;
}

int cyris_netns_leave(int old)
{
	int r = setns(old, CLONE_NEWNET) < 0 ? -errno : 0;

	close(old);
	return r;
}

static int on_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct cyris_nl *nl = arg;
	struct nlmsghdr *h = (struct nlmsghdr *)((char *)e - NLMSG_HDRLEN);
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	size_t off = sizeof(*e);

	(void)nla;
	nl->done = 1;
	nl->err = e->error < 0 ? e->error : -EIO;
	nl->error.code = nl->err;
	if (!(h->nlmsg_flags & NLM_F_ACK_TLVS))
		return NL_STOP;
	/* the TLVs follow the error and, unless capped, the echoed request */
	if (!(h->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - sizeof(e->msg);
	if (NLMSG_HDRLEN + off >= h->nlmsg_len)
		return NL_STOP;
	if (nla_parse(tb, NLMSGERR_ATTR_MAX, (struct nlattr *)((char *)e + off),
		      (int)(h->nlmsg_len - NLMSG_HDRLEN - off), NULL) == 0 &&
	    tb[NLMSGERR_ATTR_MSG])
		cyris_error_detail(&nl->error, CYRIS_ERROR_KERNEL, "%.*s",
				   nla_len(tb[NLMSGERR_ATTR_MSG]),
				   (const char *)nla_data(tb[NLMSGERR_ATTR_MSG]));
	return NL_STOP;
}

static int on_valid(struct nl_msg *msg, void *arg)
{
	struct cyris_nl *nl = arg;

	if (nlmsg_hdr(msg)->nlmsg_flags & NLM_F_DUMP_INTR)
		nl->intr = 1;
	return nl->valid ? nl->valid(msg, nl->valid_arg) : NL_OK;
}

/* The ACK of a request, or the NLMSG_DONE of a dump: the exchange is over. */
/* A dump the kernel marks interrupted (the link list changed meanwhile):
 * note it and read on to its end, so that nothing of it is left in the
 * socket; cyris_nl_dump() then runs it again. */
static int on_dump_intr(struct nl_msg *msg, void *arg)
{
	struct cyris_nl *nl = arg;

	(void)msg;
	nl->intr = 1;
	return NL_OK;
}

static int on_stop(struct nl_msg *msg, void *arg)
{
	struct cyris_nl *nl = arg;

	(void)msg;
	nl->done = 1;
	return NL_STOP;
}

static int nl_setup(struct cyris_nl *nl)
{
	static const int on = 1;
	int fd, r;

	nl->sk = nl_socket_alloc();
	nl->cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!nl->sk || !nl->cb)
		return -ENOMEM;
	r = nl_connect(nl->sk, NETLINK_ROUTE);
	if (r < 0)
		return errno ? -errno : cyris_nle_errno(r);
	fd = nl_socket_get_fd(nl->sk);
	/* extended acks and capped acks are best effort: old kernels lack them */
	(void)setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &on, sizeof(on));
	(void)setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &on, sizeof(on));
	(void)setsockopt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &on, sizeof(on));
	/* one read per reply: a buffer big enough for any message the kernel
	 * sends here (dump skbs are at most 32 KiB), instead of peeking first */
	nl_socket_disable_msg_peek(nl->sk);
	nl_socket_set_msg_buf_size(nl->sk, 65536);
	nl_cb_err(nl->cb, NL_CB_CUSTOM, on_error, nl);
	nl_cb_set(nl->cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, nl);
	nl_cb_set(nl->cb, NL_CB_ACK, NL_CB_CUSTOM, on_stop, nl);
	nl_cb_set(nl->cb, NL_CB_DUMP_INTR, NL_CB_CUSTOM, on_dump_intr, nl);
	nl_cb_set(nl->cb, NL_CB_FINISH, NL_CB_CUSTOM, on_stop, nl);
	return 0;
}

/* A handle for @spec ("" or NULL: here), no socket yet. */
static struct cyris_nl *nl_alloc(const char *spec)
{
	struct cyris_nl *nl = calloc(1, sizeof(*nl));

	if (!nl)
		return NULL;
	nl->nsfd = -1;
	nl->spec = strdup(spec ? spec : "");
	if (!nl->spec) {
		free(nl);
		return NULL;
	}
	return nl;
}

/* @nl's socket made in the namespace of its nsfd (none: here). */
static int nl_setup_in(struct cyris_nl *nl)
{
	int old = -1, r, r2;

	if (nl->nsfd >= 0 && (r = cyris_netns_enter(nl->nsfd, &old)) < 0)
		return r;
	r = nl_setup(nl);
	if (old >= 0 && (r2 = cyris_netns_leave(old)) < 0 && r == 0)
		r = r2;
	return r;
}

/* The end of each open: after its namespace step gave @r, @nl's socket made
 * (in its nsfd's namespace with @enter, else here) and @nl handed over in
 * *@ret, or @nl freed. */
static int nl_open_finish(struct cyris_nl *nl, int r, bool enter, struct cyris_nl **ret)
{
	if (r == 0)
		r = enter ? nl_setup_in(nl) : nl_setup(nl);
	if (r < 0) {
		cyris_nl_close(nl);
		return r;
	}
	*ret = nl;
	return 0;
}

int cyris_nl_open(struct cyris_nl **ret, const char *netns)
{
	struct cyris_nl *nl = nl_alloc(netns);
	int r = 0;

	if (!nl)
		return -ENOMEM;
	if (netns && *netns && (nl->nsfd = cyris_netns_open(netns)) < 0)
		r = nl->nsfd;
	return nl_open_finish(nl, r, true, ret);
}

int cyris_nl_open_same(struct cyris_nl **ret, const struct cyris_nl *like)
{
	struct cyris_nl *nl = nl_alloc(like->spec);
	int r = 0;

	if (!nl)
		return -ENOMEM;
	if (like->nsfd >= 0 && (nl->nsfd = fcntl(like->nsfd, F_DUPFD_CLOEXEC, 0)) < 0)
		r = -errno;
	return nl_open_finish(nl, r, true, ret);
}

static void queue_drop(struct cyris_nl *nl)
{
	while (nl->n_queued)
		nlmsg_free(nl->queue[--nl->n_queued]);
}

int cyris_nl_open_here(struct cyris_nl **ret, const char *spec)
{
	struct cyris_nl *nl = nl_alloc(spec);
	int r = 0;

	if (!nl)
		return -ENOMEM;
	/* (made here, in the thread's namespace, which is @spec's) */
	if (spec && *spec &&
	    (nl->nsfd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)) < 0)
		r = -errno;
	return nl_open_finish(nl, r, false, ret);
}

void cyris_nl_close(struct cyris_nl *nl)
{
	if (!nl)
		return;
	queue_drop(nl);   /* a batch never ended is not sent */
	if (nl->cb)
		nl_cb_put(nl->cb);
	if (nl->sk)
		nl_socket_free(nl->sk);
	if (nl->nsfd >= 0)
		close(nl->nsfd);
	free(nl->spec);
	free(nl);
}

const struct cyris_error *cyris_nl_error(const struct cyris_nl *nl)
{
	return &nl->error;
}

const char *cyris_nl_netns(const struct cyris_nl *nl)
{
	return nl->spec;
}

int cyris_nl_netns_fd(const struct cyris_nl *nl)
{
	return nl->nsfd >= 0 ? nl->nsfd : -ENOENT;
}

struct nl_msg *cyris_nlmsg_new(int type, int flags, const void *hdr,
			       size_t hdrlen)
{
	struct nl_msg *msg = nlmsg_alloc_simple(type, flags);

	if (msg && hdrlen && nlmsg_append(msg, (void *)hdr, hdrlen, NLMSG_ALIGNTO) < 0) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

/* Read replies until the exchange of the request last sent is over: its
 * ACK or error, or a dump's NLMSG_DONE. libnl returns after each datagram
 * that is not multipart (a GETLINK answer comes before its ACK), so read
 * until then: no reply is left behind for the next request to mistake. */
static int wait_done(struct cyris_nl *nl)
{
	int r;

	nl->err = 0;
	nl->intr = 0;
	nl->done = 0;
	cyris_error_clear(&nl->error);
	do
		r = nl_recvmsgs(nl->sk, nl->cb);
	while (r >= 0 && !nl->done);
	if (nl->err)
		return nl->err;
	return r < 0 ? cyris_nle_errno(r) : 0;
}

/* Send @n messages in one sendmsg, each completed by libnl (port, a
 * sequence number of its own, NLM_F_REQUEST, NLM_F_ACK). */
static int send_all(struct cyris_nl *nl, struct nl_msg **msgs, size_t n)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct iovec iov[CYRIS_NL_BATCH_MAX];
	struct msghdr mh = { .msg_name = &kernel, .msg_namelen = sizeof(kernel),
			     .msg_iov = iov, .msg_iovlen = n };
	size_t i, total = 0;
	ssize_t w;

	if (n == 0 || n > CYRIS_NL_BATCH_MAX)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		struct nlmsghdr *h = nlmsg_hdr(msgs[i]);

		h->nlmsg_flags |= NLM_F_ACK;
		h->nlmsg_seq = NL_AUTO_SEQ;
		nl_complete_msg(nl->sk, msgs[i]);
		iov[i].iov_base = h;
		iov[i].iov_len = h->nlmsg_len;
		total += h->nlmsg_len;
	}
	do
		w = sendmsg(nl_socket_get_fd(nl->sk), &mh, 0);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		return -errno;
	return (size_t)w == total ? 0 : -EMSGSIZE;
}

/* Send and read the answers of @n requests (see cyris_nl_talk_many). */
static int talk_many(struct cyris_nl *nl, struct cyris_nl_req *req, size_t n)
{
	struct nl_msg *msgs[CYRIS_NL_BATCH_MAX];
	struct cyris_error first;
	int r, failed = 0;
	size_t i;

	for (i = 0; i < n && i < CYRIS_NL_BATCH_MAX; i++)
		msgs[i] = req[i].msg;
	nl->valid = NULL;
	cyris_error_clear(&nl->error);
	if ((r = send_all(nl, msgs, n)) < 0)
		return r;
	for (i = 0; i < n; i++) {
		r = wait_done(nl);
		req[i].result = r;
		/* a failure to read (not the kernel's answer): the rest is lost */
		if (r < 0 && !nl->done)
			return r;
		if (r < 0 && r != req[i].ignore && !failed) {
			failed = r;
			first = nl->error;
		}
	}
	if (failed)
		nl->error = first;
	else
		cyris_error_clear(&nl->error);
	return failed;
}

/* Send what the batch queued, keeping its first failure for
 * cyris_nl_batch_end(). */
static void queue_flush(struct cyris_nl *nl)
{
	struct cyris_nl_req req[CYRIS_NL_BATCH_MAX] = {{0}};
	size_t i, n = nl->n_queued;
	int r;

	if (n == 0)
		return;
	for (i = 0; i < n; i++)
		req[i].msg = nl->queue[i];
	r = talk_many(nl, req, n);
	if (r < 0 && !nl->batch_err) {
		nl->batch_err = r;
		nl->batch_error = nl->error;
	}
	queue_drop(nl);
}

static int send_and_wait(struct cyris_nl *nl, struct nl_msg *msg)
{
	int r;

	queue_flush(nl);
	errno = 0;
	nlmsg_hdr(msg)->nlmsg_seq = NL_AUTO_SEQ; /* a resent dump gets a fresh one */
	r = nl_send_auto(nl->sk, msg);
	if (r < 0)
		return errno ? -errno : cyris_nle_errno(r);
	return wait_done(nl);
}

int cyris_nl_talk_many(struct cyris_nl *nl, struct cyris_nl_req *req, size_t n)
{
	if (n > CYRIS_NL_BATCH_MAX)
		return -EINVAL;
	queue_flush(nl);
	return n ? talk_many(nl, req, n) : 0;
}

int cyris_nl_send(struct cyris_nl *nl, struct nl_msg *msg)
{
	if (!nl->batching)
		return cyris_nl_talk(nl, msg, NULL, NULL);
	/* nothing more is sent of a batch that failed */
	if (nl->batch_err)
		return nl->batch_err;
	if (nl->n_queued == CYRIS_NL_BATCH_MAX)
		queue_flush(nl);
	if (nl->batch_err)
		return nl->batch_err;
	nlmsg_get(msg);
	nl->queue[nl->n_queued++] = msg;
	return 0;
}

void cyris_nl_batch_begin(struct cyris_nl *nl)
{
	if (!nl || nl->batching)
		return;
	nl->batching = true;
	nl->batch_err = 0;
}

int cyris_nl_batch_end(struct cyris_nl *nl)
{
	int r;

	if (!nl || !nl->batching)
		return 0;
	queue_flush(nl);
	nl->batching = false;
	r = nl->batch_err;
	nl->batch_err = 0;
	if (r < 0)
		nl->error = nl->batch_error;
	return r;
}

int cyris_nl_talk(struct cyris_nl *nl, struct nl_msg *msg,
		  nl_recvmsg_msg_cb_t cb, void *arg)
{
	int r;

	nlmsg_hdr(msg)->nlmsg_flags |= NLM_F_ACK;
	nl->valid = cb;
	nl->valid_arg = arg;
	r = send_and_wait(nl, msg);
	nl->valid = NULL;
	return r;
}

int cyris_nl_dump(struct cyris_nl *nl, struct nl_msg *msg,
		  nl_recvmsg_msg_cb_t cb, void *arg, void (*reset)(void *arg))
{
	int r, tries = 0;

	nlmsg_hdr(msg)->nlmsg_flags |= NLM_F_DUMP;
	nl->valid = cb;
	nl->valid_arg = arg;
	do {
		if (tries && reset)
			reset(arg);
		r = send_and_wait(nl, msg);
	} while (r == 0 && nl->intr && ++tries < 5);
	nl->valid = NULL;
	if (r == 0 && nl->intr)
		r = -EAGAIN;
	return r;
}
