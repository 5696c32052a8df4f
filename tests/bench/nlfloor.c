/* SPDX-License-Identifier: MIT */
/*
 * The kernel floor for the bridge benchmark: the same topology as
 * `ip -batch` builds (N bridges, each up with an address and 4 veth pairs
 * attached and up), with the fewest rtnetlink messages a program can send
 * — raw socket, no library, one ACK read per request.
 *
 *   nlfloor build N      create it (every link in netdev group 4242)
 *   nlfloor destroy      delete group 4242 in one request
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define GROUP 4242

static int fd;
static unsigned seq;
static char buf[8192];

static struct nlmsghdr *begin(int type, int flags)
{
	struct nlmsghdr *h = (struct nlmsghdr *)buf;

	memset(buf, 0, sizeof(buf));
	h->nlmsg_len = NLMSG_HDRLEN;
	h->nlmsg_type = (unsigned short)type;
	h->nlmsg_flags = (unsigned short)(NLM_F_REQUEST | NLM_F_ACK | flags);
	h->nlmsg_seq = ++seq;
	return h;
}

static void *put(struct nlmsghdr *h, const void *data, size_t len)
{
	void *p = (char *)h + NLMSG_ALIGN(h->nlmsg_len);

	memcpy(p, data, len);
	h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + (unsigned)len;
	return p;
}

static struct rtattr *attr(struct nlmsghdr *h, int type, const void *data, size_t len)
{
	struct rtattr *a = (struct rtattr *)((char *)h + NLMSG_ALIGN(h->nlmsg_len));

	a->rta_type = (unsigned short)type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(a), data, len);
	h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + RTA_ALIGN(a->rta_len);
	return a;
}

static void nest_end(struct nlmsghdr *h, struct rtattr *a)
{
	a->rta_len = (unsigned short)((char *)h + h->nlmsg_len - (char *)a);
}

static int talk(struct nlmsghdr *h)
{
	char rb[4096];
	struct nlmsghdr *r;
	ssize_t n;

	if (send(fd, h, h->nlmsg_len, 0) < 0)
		return -errno;
	for (;;) {
		n = recv(fd, rb, sizeof(rb), 0);
		if (n < 0)
			return -errno;
		for (r = (struct nlmsghdr *)rb; NLMSG_OK(r, (size_t)n); r = NLMSG_NEXT(r, n))
			if (r->nlmsg_type == NLMSG_ERROR && r->nlmsg_seq == h->nlmsg_seq)
				return ((struct nlmsgerr *)NLMSG_DATA(r))->error;
	}
}

/* A NEWLINK request, up, in GROUP; *ret_li is the open IFLA_LINKINFO. */
static struct nlmsghdr *newlink(const char *name, const char *kind, int master,
				int ifindex, struct rtattr **ret_li)
{
	struct ifinfomsg ifi = { .ifi_flags = IFF_UP, .ifi_change = IFF_UP,
				 .ifi_index = ifindex };
	struct nlmsghdr *h = begin(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	unsigned g = GROUP;

	put(h, &ifi, sizeof(ifi));
	attr(h, IFLA_IFNAME, name, strlen(name) + 1);
	attr(h, IFLA_GROUP, &g, 4);
	if (master)
		attr(h, IFLA_MASTER, &master, 4);
	*ret_li = attr(h, IFLA_LINKINFO, NULL, 0);
	attr(h, IFLA_INFO_KIND, kind, strlen(kind));
	return h;
}

static int build(int n)
{
	char name[IFNAMSIZ], peer[IFNAMSIZ];
	int i, j, r;

	for (i = 0; i < n; i++) {
		struct ifaddrmsg ifa = { .ifa_family = AF_INET, .ifa_prefixlen = 24 };
		struct nlmsghdr *h;
		struct rtattr *li;
		unsigned addr = htonl(0x0a000001u | (unsigned)(i / 250) << 16 | (unsigned)(i % 250) << 8);
		int br;

		snprintf(name, sizeof(name), "br%d", i);
		/* the bridge's index is chosen here, so nothing is looked up */
		br = 100000 + i;
		h = newlink(name, "bridge", 0, br, &li);
		nest_end(h, li);
		if ((r = talk(h)) < 0)
			return r;
		h = begin(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
		ifa.ifa_index = (unsigned)br;
		put(h, &ifa, sizeof(ifa));
		attr(h, IFA_LOCAL, &addr, 4);
		attr(h, IFA_ADDRESS, &addr, 4);
		if ((r = talk(h)) < 0)
			return r;
		for (j = 0; j < 4; j++) {
			struct ifinfomsg pi = {0};
			struct rtattr *data, *pe;

			snprintf(name, sizeof(name), "v%d_%d", i, j);
			snprintf(peer, sizeof(peer), "p%d_%d", i, j);
			h = newlink(name, "veth", br, 0, &li);
			data = attr(h, IFLA_INFO_DATA, NULL, 0);
			pe = attr(h, VETH_INFO_PEER, NULL, 0);
			put(h, &pi, sizeof(pi));
			attr(h, IFLA_IFNAME, peer, strlen(peer) + 1);
			nest_end(h, pe);
			nest_end(h, data);
			nest_end(h, li);
			if ((r = talk(h)) < 0)
				return r;
		}
	}
	return 0;
}

static int destroy(void)
{
	struct ifinfomsg ifi = {0};
	struct nlmsghdr *h = begin(RTM_DELLINK, 0);
	unsigned g = GROUP;

	put(h, &ifi, sizeof(ifi));
	attr(h, IFLA_GROUP, &g, 4);
	return talk(h);
}

int main(int argc, char **argv)
{
	int r;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return 1;
	if (argc == 3 && strcmp(argv[1], "build") == 0)
		r = build(atoi(argv[2]));
	else if (argc == 2 && strcmp(argv[1], "destroy") == 0)
		r = destroy();
	else
		return 2;
	if (r < 0)
		fprintf(stderr, "nlfloor: %s\n", strerror(-r));
	return r < 0;
}
