/* SPDX-License-Identifier: MIT */
/* IP addresses and prefixes; RTM_{NEW,DEL,GET}ADDR. */
#include <arpa/inet.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include "cyris/addr.h"
#include "nl-priv.h"

size_t cyris_ip_len(const struct cyris_ip *ip)
{
	return ip->family == AF_INET ? 4 : ip->family == AF_INET6 ? 16 : 0;
}

int cyris_ip_parse(const char *s, struct cyris_ip *ret)
{
	struct cyris_ip ip = {0};

	if (!s)
		return -EINVAL;
	if (inet_pton(AF_INET, s, ip.a) == 1)
		ip.family = AF_INET;
	else if (inet_pton(AF_INET6, s, ip.a) == 1)
		ip.family = AF_INET6;
	else
		return -EINVAL;
	*ret = ip;
	return 0;
}

int cyris_prefix_parse(const char *s, bool need_len, struct cyris_prefix *ret)
{
	char buf[CYRIS_PREFIXSTRLEN];
	struct cyris_prefix p = {0};
	const char *slash;
	unsigned long len;
	size_t n;

	if (!s)
		return -EINVAL;
	slash = strchr(s, '/');
	n = slash ? (size_t)(slash - s) : strlen(s);
	if (n >= sizeof(buf) || (!slash && need_len))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (cyris_ip_parse(buf, &p.ip) < 0)
		return -EINVAL;
	len = cyris_ip_len(&p.ip) * 8;
	if (slash && cyris_parse_uint(slash + 1, len, &len) < 0)
		return -EINVAL;
	p.len = (uint8_t)len;
	*ret = p;
	return 0;
}

const char *cyris_ip_format(const struct cyris_ip *ip, char *buf, size_t size)
{
	if (!ip->family || !inet_ntop(ip->family, ip->a, buf, (socklen_t)size))
		snprintf(buf, size, "?");
	return buf;
}

const char *cyris_prefix_format(const struct cyris_prefix *p, char *buf,
				size_t size)
{
	char ip[CYRIS_IPSTRLEN];

	snprintf(buf, size, "%s/%u", cyris_ip_format(&p->ip, ip, sizeof(ip)),
		 p->len);
	return buf;
}

bool cyris_ip_equal(const struct cyris_ip *a, const struct cyris_ip *b)
{
	return a->family == b->family &&
	       memcmp(a->a, b->a, cyris_ip_len(a)) == 0;
}

struct cyris_prefix cyris_prefix_network(const struct cyris_prefix *p)
{
	struct cyris_prefix r = *p;
	size_t i, n = cyris_ip_len(&p->ip);

	for (i = 0; i < n; i++) {
		unsigned bits = p->len > i * 8 ? p->len - (unsigned)i * 8 : 0;

		if (bits < 8)
			r.ip.a[i] &= (uint8_t)(0xff00u >> bits);
	}
	return r;
}

bool cyris_prefix_contains(const struct cyris_prefix *p,
			   const struct cyris_ip *ip)
{
	struct cyris_prefix q = { .ip = *ip, .len = p->len };
	struct cyris_prefix a = cyris_prefix_network(p), b;

	if (ip->family != p->ip.family)
		return false;
	b = cyris_prefix_network(&q);
	return cyris_ip_equal(&a.ip, &b.ip);
}

bool cyris_prefix_overlap(const struct cyris_prefix *a,
			  const struct cyris_prefix *b)
{
	const struct cyris_prefix *wide = a->len <= b->len ? a : b;
	const struct cyris_prefix *narrow = wide == a ? b : a;

	return cyris_prefix_contains(wide, &narrow->ip);
}

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
	r = cyris_nl_talk(nl, msg, NULL, NULL);
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
