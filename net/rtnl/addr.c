/* SPDX-License-Identifier: MIT */
/* Interface addresses: RTM_{NEW,DEL,GET}ADDR. */
#include <arpa/inet.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include "cyris/addr.h"
#include "nl-priv.h"

static int addr_change(struct cyris_nl *nl, int type, int flags, int ifindex,
		       const struct cyris_prefix *p)
{
	struct ifaddrmsg ifa = {
		.ifa_family = (uint8_t)p->ip.family,
		.ifa_prefixlen = p->len,
		.ifa_index = (uint32_t)ifindex,
	};
	size_t alen = cyris_ip_len(&p->ip);
	struct nl_msg *msg;
	int r = -ENOMEM;

	if (!alen || ifindex <= 0)
		return -EINVAL;
	if (p->ip.family == AF_INET6 && type == RTM_NEWADDR)
		ifa.ifa_flags = IFA_F_NODAD;
	msg = cyris_nlmsg_new(type, flags, &ifa, sizeof(ifa));
	if (!msg)
		return -ENOMEM;
	if (nla_put(msg, IFA_LOCAL, (int)alen, p->ip.a) < 0 ||
	    nla_put(msg, IFA_ADDRESS, (int)alen, p->ip.a) < 0)
		goto out;
	if (p->ip.family == AF_INET6 && type == RTM_NEWADDR &&
	    nla_put_u32(msg, IFA_FLAGS, IFA_F_NODAD) < 0)
		goto out;
	r = cyris_nl_send(nl, msg);
out:
	nlmsg_free(msg);
	return r;
}

int cyris_addr_add(struct cyris_nl *nl, int ifindex, const struct cyris_prefix *p)
{
	return addr_change(nl, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, ifindex, p);
}

int cyris_addr_del(struct cyris_nl *nl, int ifindex, const struct cyris_prefix *p)
{
	return addr_change(nl, RTM_DELADDR, 0, ifindex, p);
}

struct addr_dump {
	struct cyris_addr_list *l;
	int ifindex;
	int err;
};

static int on_addr(struct nl_msg *msg, void *arg)
{
	struct addr_dump *d = arg;
	struct nlmsghdr *h = nlmsg_hdr(msg);
	struct ifaddrmsg *ifa = nlmsg_data(h);
	struct nlattr *tb[IFA_MAX + 1];
	struct nlattr *a;
	struct cyris_addr *slot;

	if (h->nlmsg_type != RTM_NEWADDR ||
	    nlmsg_parse(h, sizeof(*ifa), tb, IFA_MAX, NULL) < 0)
		return NL_OK;
	if (d->ifindex && (int)ifa->ifa_index != d->ifindex)
		return NL_OK;
	a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (!a || (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6))
		return NL_OK;
	slot = cyris_grow((void **)&d->l->v, &d->l->n, &d->l->cap, sizeof(*slot));
	if (!slot) {
		d->err = -ENOMEM;
		return NL_STOP;
	}
	slot->ifindex = (int)ifa->ifa_index;
	slot->prefix.ip.family = ifa->ifa_family;
	slot->prefix.len = ifa->ifa_prefixlen;
	memcpy(slot->prefix.ip.a, nla_data(a),
	       nla_len(a) < 16 ? (size_t)nla_len(a) : 16);
	slot->scope = ifa->ifa_scope;
	slot->flags = tb[IFA_FLAGS] ? nla_get_u32(tb[IFA_FLAGS]) : ifa->ifa_flags;
	return NL_OK;
}

static void addr_reset(void *arg)
{
	struct addr_dump *d = arg;

	d->l->n = 0;
}

int cyris_addr_list(struct cyris_nl *nl, int ifindex, struct cyris_addr_list *ret)
{
	struct ifaddrmsg ifa = { .ifa_family = AF_UNSPEC,
				 .ifa_index = (uint32_t)(ifindex > 0 ? ifindex : 0) };
	struct cyris_addr_list l = {0};
	struct addr_dump d = { .l = &l, .ifindex = ifindex };
	struct nl_msg *msg;
	int r;

	msg = cyris_nlmsg_new(RTM_GETADDR, 0, &ifa, sizeof(ifa));
	if (!msg)
		return -ENOMEM;
	r = cyris_nl_dump(nl, msg, on_addr, &d, addr_reset);
	nlmsg_free(msg);
	if (r == 0)
		r = d.err;
	if (r < 0) {
		cyris_addr_list_free(&l);
		return r;
	}
	*ret = l;
	return 0;
}

void cyris_addr_list_free(struct cyris_addr_list *l)
{
	if (!l)
		return;
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}
