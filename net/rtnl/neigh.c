/* SPDX-License-Identifier: MIT */
/*
 * The bridge FDB and the ARP/NDP table, parsed with libnl-route-3's
 * rtnl_neigh from our own dump loop.
 */
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <netlink/addr.h>
#include <netlink/route/neighbour.h>
#include <sys/socket.h>

#include "cyris/neigh.h"
#include "nl-priv.h"

struct neigh_dump {
	int family;             /* AF_BRIDGE for the FDB */
	int ifindex, master;    /* filters, 0 = any */
	void **v;
	size_t *n, *cap, size;
	int err;
};

static void copy_ip(struct cyris_ip *ip, struct nl_addr *a)
{
	int fam = a ? nl_addr_get_family(a) : 0;
	size_t n = fam == AF_INET ? 4 : fam == AF_INET6 ? 16 : 0;

	if (!n || nl_addr_get_len(a) != n)
		return;
	ip->family = fam;
	memcpy(ip->a, nl_addr_get_binary_addr(a), n);
}

static bool copy_mac(uint8_t mac[6], struct nl_addr *a)
{
	if (!a || nl_addr_get_len(a) != 6)
		return false;
	memcpy(mac, nl_addr_get_binary_addr(a), 6);
	return true;
}

static int fill(struct neigh_dump *d, struct rtnl_neigh *ne)
{
	void *slot = cyris_grow(d->v, d->n, d->cap, d->size);

	if (!slot)
		return -ENOMEM;
	if (d->family == AF_BRIDGE) {
		struct cyris_fdb *f = slot;

		f->ifindex = rtnl_neigh_get_ifindex(ne);
		f->master = rtnl_neigh_get_master(ne) > 0 ? rtnl_neigh_get_master(ne) : 0;
		(void)copy_mac(f->mac, rtnl_neigh_get_lladdr(ne));
		f->vlan = rtnl_neigh_get_vlan(ne) > 0 ? (uint16_t)rtnl_neigh_get_vlan(ne) : 0;
		f->state = (uint16_t)rtnl_neigh_get_state(ne);
		f->flags = (uint8_t)rtnl_neigh_get_flags(ne);
		copy_ip(&f->dst, rtnl_neigh_get_dst(ne));
	} else {
		struct cyris_neigh *n = slot;

		n->ifindex = rtnl_neigh_get_ifindex(ne);
		copy_ip(&n->ip, rtnl_neigh_get_dst(ne));
		n->has_mac = copy_mac(n->mac, rtnl_neigh_get_lladdr(ne));
		n->state = (uint16_t)rtnl_neigh_get_state(ne);
	}
	return 0;
}

static int on_neigh(struct nl_msg *msg, void *arg)
{
	struct neigh_dump *d = arg;
	struct nlmsghdr *h = nlmsg_hdr(msg);
	struct rtnl_neigh *ne = NULL;
	int fam, r;

	if (h->nlmsg_type != RTM_NEWNEIGH || rtnl_neigh_parse(h, &ne) < 0)
		return NL_OK;
	fam = rtnl_neigh_get_family(ne);
	r = 0;
	if ((d->family == AF_BRIDGE) == (fam == AF_BRIDGE) &&
	    (!d->family || d->family == fam) &&
	    (!d->ifindex || rtnl_neigh_get_ifindex(ne) == d->ifindex) &&
	    (!d->master || rtnl_neigh_get_master(ne) == d->master))
		r = fill(d, ne);
	rtnl_neigh_put(ne);
	if (r < 0) {
		d->err = r;
		return NL_STOP;
	}
	return NL_OK;
}

static void neigh_reset(void *arg)
{
	struct neigh_dump *d = arg;

	*d->n = 0;
}

static int neigh_dump(struct cyris_nl *nl, struct neigh_dump *d)
{
	/* strict checking wants filters as attributes, not in the header */
	struct ndmsg ndm = { .ndm_family = (uint8_t)d->family };
	struct nl_msg *msg = cyris_nlmsg_new(RTM_GETNEIGH, 0, &ndm, sizeof(ndm));
	int r = -EMSGSIZE;

	if (!msg)
		return -ENOMEM;
	if ((!d->master || nla_put_u32(msg, NDA_MASTER, (uint32_t)d->master) == 0) &&
	    (!d->ifindex || d->family == AF_BRIDGE ||
	     nla_put_u32(msg, NDA_IFINDEX, (uint32_t)d->ifindex) == 0))
		r = cyris_nl_dump(nl, msg, on_neigh, d, neigh_reset);
	nlmsg_free(msg);
	return r < 0 ? r : d->err;
}

int cyris_fdb_list(struct cyris_nl *nl, int bridge, struct cyris_fdb_list *ret)
{
	struct cyris_fdb_list l = {0};
	struct neigh_dump d = { .family = AF_BRIDGE, .master = bridge > 0 ? bridge : 0,
				.v = (void **)&l.v, .n = &l.n, .cap = &l.cap,
				.size = sizeof(*l.v) };
	int r = neigh_dump(nl, &d);

	if (r < 0) {
		cyris_fdb_list_free(&l);
		return r;
	}
	*ret = l;
	return 0;
}

void cyris_fdb_list_free(struct cyris_fdb_list *l)
{
	if (!l)
		return;
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

const char *cyris_fdb_state_str(const struct cyris_fdb *f)
{
	if (f->state & NUD_PERMANENT)
		return "permanent";
	if (f->state & NUD_NOARP)
		return "static";
	return "learned";
}

int cyris_neigh_list(struct cyris_nl *nl, int ifindex, int family,
		     struct cyris_neigh_list *ret)
{
	struct cyris_neigh_list l = {0};
	struct neigh_dump d = { .family = family, .ifindex = ifindex > 0 ? ifindex : 0,
				.v = (void **)&l.v, .n = &l.n, .cap = &l.cap,
				.size = sizeof(*l.v) };
	int r;

	if (family != 0 && family != AF_INET && family != AF_INET6)
		return -EAFNOSUPPORT;
	r = neigh_dump(nl, &d);
	if (r < 0) {
		cyris_neigh_list_free(&l);
		return r;
	}
	*ret = l;
	return 0;
}

void cyris_neigh_list_free(struct cyris_neigh_list *l)
{
	if (!l)
		return;
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

/* Higher is better: IPv4 over IPv6, global over link-local, fresh over stale. */
static int rank(const struct cyris_neigh *n)
{
	int r = 0;

	if (n->ip.family == AF_INET)
		r += 8;
	else if (!(n->ip.a[0] == 0xfe && (n->ip.a[1] & 0xc0) == 0x80))
		r += 4;
	if (n->state & (NUD_REACHABLE | NUD_PERMANENT | NUD_NOARP))
		r += 2;
	else if (n->state & (NUD_STALE | NUD_DELAY | NUD_PROBE))
		r += 1;
	return r;
}

int cyris_neigh_find_mac(struct cyris_nl *nl, const uint8_t mac[6], int ifindex,
			 struct cyris_neigh *ret)
{
	struct cyris_neigh_list l = {0};
	const struct cyris_neigh *best = NULL;
	size_t i;
	int r = cyris_neigh_list(nl, ifindex, 0, &l);

	if (r < 0)
		return r;
	for (i = 0; i < l.n; i++) {
		const struct cyris_neigh *n = &l.v[i];

		if (!n->has_mac || memcmp(n->mac, mac, 6) != 0 || !n->ip.family ||
		    (n->state & (NUD_FAILED | NUD_INCOMPLETE)))
			continue;
		if (!best || rank(n) > rank(best))
			best = n;
	}
	if (best)
		*ret = *best;
	cyris_neigh_list_free(&l);
	return best ? 0 : -ENOENT;
}

const char *cyris_nud_str(uint16_t s)
{
	if (s & NUD_PERMANENT) return "permanent";
	if (s & NUD_NOARP) return "noarp";
	if (s & NUD_REACHABLE) return "reachable";
	if (s & NUD_STALE) return "stale";
	if (s & NUD_DELAY) return "delay";
	if (s & NUD_PROBE) return "probe";
	if (s & NUD_INCOMPLETE) return "incomplete";
	if (s & NUD_FAILED) return "failed";
	return "none";
}

int cyris_fdb_append_remote(struct cyris_nl *nl, int ifindex, const struct cyris_ip *dst)
{
	static const uint8_t zero[6];
	struct ndmsg ndm = { .ndm_family = AF_BRIDGE, .ndm_ifindex = ifindex,
			     .ndm_state = NUD_NOARP | NUD_PERMANENT, .ndm_flags = NTF_SELF };
	struct nl_msg *msg;
	int r = -EMSGSIZE;

	if (ifindex <= 0 || !cyris_ip_len(dst))
		return -EINVAL;
	msg = cyris_nlmsg_new(RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_APPEND, &ndm, sizeof(ndm));
	if (!msg)
		return -ENOMEM;
	if (nla_put(msg, NDA_LLADDR, 6, zero) == 0 &&
	    nla_put(msg, NDA_DST, (int)cyris_ip_len(dst), dst->a) == 0)
		r = cyris_nl_talk(nl, msg, NULL, NULL);
	nlmsg_free(msg);
	return r;
}
