/* SPDX-License-Identifier: MIT */
/*
 * What an entry point needs to know about the host: the TCP ports its own
 * services listen on (NETLINK_SOCK_DIAG, so an entry port never takes one
 * over), whether it forwards IPv4, and where outside clients come in.
 * It lives in net/rtnl/ because each of these is a netlink query of the
 * kernel's state (RTM_GETNETCONF and RTM_GETROUTE on the rtnl context,
 * NETLINK_SOCK_DIAG on a socket of its own) and the firewall, the topology
 * and the preflight, which all ask it, sit above rtnl.
 */
#include <linux/inet_diag.h>
#include <linux/netconf.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "cyris/entry.h"
#include "nl-priv.h"

/* ---- listening sockets: sock_diag ---------------------------------------- */

#define DIAG_BUF 65536   /* a dump's datagrams are far smaller; a bigger one is refused */

struct ports {
	uint16_t *v;
	size_t n, cap;
};

static int add_port(struct ports *p, uint16_t port)
{
	uint16_t *x = cyris_grow((void **)&p->v, &p->n, &p->cap, sizeof(*x));

	if (!x)
		return -ENOMEM;
	*x = port;
	return 0;
}

/* The replies of one dump; 1 when the kernel marked it interrupted. */
static int diag_read(int fd, uint32_t seq, char *buf, struct ports *p)
{
	bool intr = false;

	for (;;) {
		ssize_t len = recv(fd, buf, DIAG_BUF, MSG_TRUNC);
		struct nlmsghdr *h;

		if (len < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (len > DIAG_BUF)
			return -EMSGSIZE;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)len); h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_seq != seq)
				continue;
			if (h->nlmsg_flags & NLM_F_DUMP_INTR)
				intr = true;
			if (h->nlmsg_type == NLMSG_DONE)
				return intr ? 1 : 0;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);

				if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
					return -EPROTO;
				return e->error < 0 ? e->error : -EPROTO;
			}
			if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY) {
				const struct inet_diag_msg *m = NLMSG_DATA(h);
				int r;

				if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
					return -EPROTO;
				if ((r = add_port(p, ntohs(m->id.idiag_sport))) < 0)
					return r;
			}
		}
	}
}

static int diag_dump(int fd, uint8_t family, uint8_t proto, uint32_t states, uint32_t seq, char *buf,
		     struct ports *p)
{
	struct {
		struct nlmsghdr h;
		struct inet_diag_req_v2 r;
	} req = {
		.h = { .nlmsg_len = sizeof(req), .nlmsg_type = SOCK_DIAG_BY_FAMILY,
		       .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = seq },
		.r = { .sdiag_family = family, .sdiag_protocol = proto, .idiag_states = states },
	};
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };

	if (sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	return diag_read(fd, seq, buf, p);
}

static int cmp_port(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

static int diag_socket(const char *netns)
{
	int old = -1, fd, r, nsfd;

	if (!netns || !*netns)
		fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	else {
		/* a netlink socket answers for the namespace it was made in */
		if ((nsfd = cyris_netns_open(netns)) < 0)
			return nsfd;
		r = cyris_netns_enter(nsfd, &old);
		close(nsfd);
		if (r < 0)
			return r;
		fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
		r = fd < 0 ? -errno : 0;
		if (cyris_netns_leave(old) < 0 && fd >= 0) {
			close(fd);
			return -EIO;
		}
		if (r < 0)
			return r;
	}
	return fd < 0 ? -errno : fd;
}

static int bound_ports(const char *netns, uint8_t proto, uint32_t states, uint16_t **ret,
		       size_t *ret_n)
{
	static const uint8_t families[] = { AF_INET, AF_INET6 };
	_cleanup_free_ char *buf = malloc(DIAG_BUF);
	_cleanup_close_ int fd = diag_socket(netns);
	struct ports p = {0};
	size_t i, j, k;
	int r = 0, tries;

	if (fd < 0)
		return fd;
	if (!buf)
		return -ENOMEM;
	for (i = 0; r >= 0 && i < ARRAY_SIZE(families); i++) {
		size_t start = p.n;

		/* an interrupted dump (sockets came and went) is read again */
		for (tries = 0; (r = diag_dump(fd, families[i], proto, states, (uint32_t)(i * 8 + tries + 1),
						buf, &p)) == 1 &&
		     tries < 5; tries++)
			p.n = start;
		if (r == 1)
			r = -EAGAIN;
		/* no IPv6 in this kernel: no IPv6 sockets either */
		if (r == -ENOENT && families[i] == AF_INET6)
			r = 0;
	}
	if (r < 0) {
		free(p.v);
		return r;
	}
	if (p.n)
		qsort(p.v, p.n, sizeof(*p.v), cmp_port);
	for (j = k = 0; j < p.n; j++)
		if (!k || p.v[k - 1] != p.v[j])
			p.v[k++] = p.v[j];
	*ret = p.v;
	*ret_n = k;
	return 0;
}

int cyris_listening_ports(const char *netns, uint16_t **ret, size_t *ret_n)
{
	return bound_ports(netns, IPPROTO_TCP, 1u << TCP_LISTEN, ret, ret_n);
}

int cyris_udp_ports(const char *netns, uint16_t **ret, size_t *ret_n)
{
	/* every state: a UDP service is a bound socket, which sock_diag shows
	 * as TCP_CLOSE (unconnected) or TCP_ESTABLISHED (connected) */
	return bound_ports(netns, IPPROTO_UDP, ~0u, ret, ret_n);
}

bool cyris_port_listed(const uint16_t *v, size_t n, uint16_t port)
{
	return n && bsearch(&port, v, n, sizeof(*v), cmp_port);
}

/* ---- forwarding: RTM_GETNETCONF -------------------------------------------- */

struct fwd {
	bool seen, on;
};

static int on_netconf(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[NETCONFA_MAX + 1];
	struct fwd *f = arg;

	if (nlmsg_hdr(msg)->nlmsg_type == RTM_NEWNETCONF &&
	    nlmsg_parse(nlmsg_hdr(msg), sizeof(struct netconfmsg), tb, NETCONFA_MAX, NULL) == 0 &&
	    tb[NETCONFA_FORWARDING]) {
		f->seen = true;
		f->on = nla_get_s32(tb[NETCONFA_FORWARDING]) != 0;
	}
	return NL_OK;
}

int cyris_ipv4_forwarding(struct cyris_nl *nl, int ifindex, bool *ret)
{
	struct netconfmsg ncm = { .ncm_family = AF_INET };
	struct fwd f = {0};
	struct nl_msg *msg;
	int r = -EMSGSIZE;

	if (ifindex < 0)
		return -EINVAL;
	msg = cyris_nlmsg_new(RTM_GETNETCONF, 0, &ncm, sizeof(ncm));
	if (!msg)
		return -ENOMEM;
	if (nla_put_s32(msg, NETCONFA_IFINDEX, ifindex ? ifindex : NETCONFA_IFINDEX_ALL) == 0)
		r = cyris_nl_talk(nl, msg, on_netconf, &f);
	nlmsg_free(msg);
	if (r == 0 && !f.seen)
		r = -ENODATA;
	if (r == 0)
		*ret = f.on;
	return r;
}

/* ---- the default routes ----------------------------------------------------- */

struct defs {
	int *v;
	size_t n;
	int err;
};

static void add_if(struct defs *d, int ifindex)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (d->v[i] == ifindex)
			return;
	if (ifindex <= 0)
		return;
	if (d->n >= CYRIS_MAX_INGRESS)
		d->err = -E2BIG;   /* refused, not cut short */
	else
		d->v[d->n++] = ifindex;
}

static int on_route(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *h = nlmsg_hdr(msg);
	const struct rtmsg *rtm = nlmsg_data(h);
	struct nlattr *tb[RTA_MAX + 1];
	struct defs *d = arg;
	uint32_t table;

	if (h->nlmsg_type != RTM_NEWROUTE || nlmsg_parse(h, sizeof(*rtm), tb, RTA_MAX, NULL) < 0)
		return NL_OK;
	table = tb[RTA_TABLE] ? nla_get_u32(tb[RTA_TABLE]) : rtm->rtm_table;
	if (rtm->rtm_family != AF_INET || rtm->rtm_dst_len || rtm->rtm_type != RTN_UNICAST ||
	    table != RT_TABLE_MAIN)
		return NL_OK;
	if (tb[RTA_OIF])
		add_if(d, (int)nla_get_u32(tb[RTA_OIF]));
	if (tb[RTA_MULTIPATH]) {
		const struct rtnexthop *nh = nla_data(tb[RTA_MULTIPATH]);
		int len = nla_len(tb[RTA_MULTIPATH]);

		while (len >= (int)sizeof(*nh) && nh->rtnh_len >= sizeof(*nh) && nh->rtnh_len <= len) {
			add_if(d, nh->rtnh_ifindex);
			len -= RTNH_ALIGN(nh->rtnh_len);
			nh = RTNH_NEXT(nh);
		}
	}
	return NL_OK;
}

static void route_reset(void *arg)
{
	((struct defs *)arg)->n = 0;
	((struct defs *)arg)->err = 0;
}

int cyris_default_route_ifs(struct cyris_nl *nl, int ret[CYRIS_MAX_INGRESS], size_t *ret_n)
{
	struct rtmsg rtm = { .rtm_family = AF_INET };
	struct defs d = { .v = ret };
	struct nl_msg *msg = cyris_nlmsg_new(RTM_GETROUTE, 0, &rtm, sizeof(rtm));
	int r;

	if (!msg)
		return -ENOMEM;
	r = cyris_nl_dump(nl, msg, on_route, &d, route_reset);
	nlmsg_free(msg);
	if (r == 0)
		r = d.err;
	if (r == 0)
		*ret_n = d.n;
	return r;
}
