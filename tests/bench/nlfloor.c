/* SPDX-License-Identifier: MIT */
/*
 * The kernel floor for the bridge benchmark: the same topology as
 * `ip -batch` builds (N bridges, each up with an address and 4 veth pairs
 * attached and up), with the fewest rtnetlink messages a program can send
 * — raw socket, no library, one ACK read per request.
 *
 *   nlfloor build N      create it (every link in netdev group 4242)
 *   nlfloor destroy      delete group 4242 in one request
 *
 * and the floor for the topology benchmark: NETS bridges with an address,
 * GUESTS named network namespaces on each (as `ip netns add` names them),
 * each with a veth on its bridge, its loopback up, an address and a
 * default route — what cyris-topo up makes of gen-range.sh's range,
 * without tags, firewall or checks.
 *
 *   nlfloor topo NETS GUESTS   create it (links in group 4242, /run/netns/fN_M)
 *   nlfloor topo-destroy       delete group 4242, then every /run/netns/f*
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
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

static int fd;      /* the socket talk() uses */
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

static int simple(int sock, int type, int flags, const void *hdr, size_t hlen,
		  int a1, const void *d1, size_t l1, int a2, const void *d2, size_t l2)
{
	struct nlmsghdr *h = begin(type, flags);
	int save = fd, r;

	put(h, hdr, hlen);
	if (a1)
		attr(h, a1, d1, l1);
	if (a2)
		attr(h, a2, d2, l2);
	fd = sock;
	r = talk(h);
	fd = save;
	return r;
}

/* A named namespace with a socket inside it: *ret_ns, *ret_sock. */
static int guest_ns(const char *name, int *ret_ns, int *ret_sock)
{
	char path[64];
	int old = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC), t, r = 0;

	*ret_ns = *ret_sock = -1;
	if (old < 0 || unshare(CLONE_NEWNET) < 0)
		return -errno;
	*ret_ns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	*ret_sock = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	snprintf(path, sizeof(path), "/run/netns/%s", name);
	if (*ret_ns < 0 || *ret_sock < 0 || (t = open(path, O_RDONLY | O_CREAT | O_EXCL, 0)) < 0 ||
	    close(t) < 0 || mount("/proc/thread-self/ns/net", path, "none", MS_BIND, NULL) < 0)
		r = -errno;
	if (setns(old, CLONE_NEWNET) < 0 && r == 0)
		r = -errno;
	close(old);
	return r;
}

static int topo(int nets, int guests)
{
	char name[IFNAMSIZ], ns[32];
	int i, j, r;

	if (nets < 1 || nets > 10000 || guests < 1 || guests > 250)
		return -EINVAL;
	for (i = 0; i < nets; i++) {
		struct ifaddrmsg ifa = { .ifa_family = AF_INET, .ifa_prefixlen = 24 };
		struct nlmsghdr *h;
		struct rtattr *li;
		unsigned net = 0x0a000000u | (unsigned)(i / 250) << 16 | (unsigned)(i % 250) << 8;
		unsigned addr = htonl(net | 1);
		int br = 100000 + i;

		snprintf(name, sizeof(name), "fb%d", i);
		h = newlink(name, "bridge", 0, br, &li);
		nest_end(h, li);
		if ((r = talk(h)) < 0)
			return r;
		ifa.ifa_index = (unsigned)br;
		if ((r = simple(fd, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &ifa, sizeof(ifa),
				IFA_LOCAL, &addr, 4, IFA_ADDRESS, &addr, 4)) < 0)
			return r;
		for (j = 0; j < guests; j++) {
			struct ifinfomsg pi = { .ifi_index = 2 }, up = { .ifi_flags = IFF_UP, .ifi_change = IFF_UP };
			struct rtmsg rt = { .rtm_family = AF_INET, .rtm_table = RT_TABLE_MAIN,
					    .rtm_protocol = RTPROT_BOOT, .rtm_scope = RT_SCOPE_UNIVERSE,
					    .rtm_type = RTN_UNICAST };
			struct rtattr *data, *pe;
			unsigned ga = htonl(net | (unsigned)(j + 2));
			int nsfd = -1, gs = -1, oif = 2;

			snprintf(ns, sizeof(ns), "f%d_%d", i, j);
			if ((r = guest_ns(ns, &nsfd, &gs)) < 0)
				return r;
			snprintf(name, sizeof(name), "h%d_%d", i % 10000, j % 250);
			h = newlink(name, "veth", br, 0, &li);
			data = attr(h, IFLA_INFO_DATA, NULL, 0);
			pe = attr(h, VETH_INFO_PEER, NULL, 0);
			put(h, &pi, sizeof(pi));
			attr(h, IFLA_IFNAME, "eth0", 5);
			attr(h, IFLA_NET_NS_FD, &nsfd, 4);
			nest_end(h, pe);
			nest_end(h, data);
			nest_end(h, li);
			if ((r = talk(h)) < 0)
				return r;
			up.ifi_index = 1;
			if ((r = simple(gs, RTM_NEWLINK, 0, &up, sizeof(up), 0, NULL, 0, 0, NULL, 0)) < 0)
				return r;
			up.ifi_index = 2;
			if ((r = simple(gs, RTM_NEWLINK, 0, &up, sizeof(up), 0, NULL, 0, 0, NULL, 0)) < 0)
				return r;
			ifa.ifa_index = 2;
			if ((r = simple(gs, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &ifa, sizeof(ifa),
					IFA_LOCAL, &ga, 4, IFA_ADDRESS, &ga, 4)) < 0)
				return r;
			if ((r = simple(gs, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, &rt, sizeof(rt),
					RTA_GATEWAY, &addr, 4, RTA_OIF, &oif, 4)) < 0)
				return r;
			close(gs);
			close(nsfd);
		}
	}
	return 0;
}

static int destroy(void);

static int topo_destroy(void)
{
	char path[300];
	struct dirent *de;
	DIR *d;
	int r = destroy();

	if (r < 0 || !(d = opendir("/run/netns")))
		return r < 0 ? r : -errno;
	while ((de = readdir(d)))
		if (de->d_name[0] == 'f') {
			snprintf(path, sizeof(path), "/run/netns/%s", de->d_name);
			if (umount2(path, MNT_DETACH) < 0 || unlink(path) < 0)
				r = -errno;
		}
	closedir(d);
	return r;
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
	else if (argc == 4 && strcmp(argv[1], "topo") == 0)
		r = topo(atoi(argv[2]), atoi(argv[3]));
	else if (argc == 2 && strcmp(argv[1], "topo-destroy") == 0)
		r = topo_destroy();
	else
		return 2;
	if (r < 0)
		fprintf(stderr, "nlfloor: %s\n", strerror(-r));
	return r < 0;
}
