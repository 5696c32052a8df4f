/* SPDX-License-Identifier: MIT */
/*
 * From a policy to the list of kernel rules of its table, and that list in
 * nft's syntax. Pure functions: no kernel here.
 */
#include <netinet/in.h>
#include <linux/netfilter.h>
#include <limits.h>
#include <stdarg.h>
#include <sys/socket.h>

#include "fw-priv.h"
#include "cyris/link.h"
#include "../base/util.h"

const struct fw_chain_def fw_chains[] = {
	{ "forward", "filter", NF_INET_FORWARD, 0 },
	{ "input", "filter", NF_INET_LOCAL_IN, 0 },
	{ "prerouting", "nat", NF_INET_PRE_ROUTING, -100 },
	{ "output", "nat", NF_INET_LOCAL_OUT, -100 },
	{ "postrouting", "nat", NF_INET_POST_ROUTING, 100 },
	{ "allow", NULL, 0, 0 },
	{ "services", NULL, 0, 0 },
	{ "expose", NULL, 0, 0 },
	{ "egress", NULL, 0, 0 },
};
const size_t fw_n_chains = ARRAY_SIZE(fw_chains);


static struct fw_krule *krule(struct fw_plan *plan, const char *chain,
			      enum fw_verdict v, const char *comment)
{
	struct fw_krule *k = cyris_grow((void **)&plan->v, &plan->n, &plan->cap, sizeof(*k));

	if (!k)
		return NULL;
	k->chain = chain;
	k->verdict = v;
	k->rule = -1;
	if (comment)
		snprintf(k->comment, sizeof(k->comment), "%s", comment);
	return k;
}

static struct fw_match *match(struct fw_krule *k, enum fw_match_kind kind, unsigned v)
{
	struct fw_match *m = &k->m[k->n++];

	memset(m, 0, sizeof(*m));
	m->kind = kind;
	m->v = v;
	return m;
}

void fw_plan_reset(struct fw_plan *plan)
{
	size_t i, j;

	for (i = 0; i < plan->n; i++)
		for (j = 0; j < plan->v[i].n; j++) {
			free(plan->v[i].m[j].pfx_set);
			free(plan->v[i].m[j].port_set);
		}
	plan->n = 0;
}

void fw_plan_clear(struct fw_plan *plan)
{
	fw_plan_reset(plan);
	free(plan->v);
	memset(plan, 0, sizeof(*plan));
}

/* ---- expanding one rule ------------------------------------------------ */

/* The prefixes of @list for @family (deduplicated) into *@ret (malloc'd);
 * returns how many, or -ENOMEM. */
static int endpoints(const struct cyris_fw_policy *p, const struct cyris_fw_endpoint *list,
		     size_t n, int family, struct cyris_prefix **ret)
{
	struct cyris_prefix *out = NULL;
	size_t i, j, k, cnt = 0, cap = 0;

	for (i = 0; i < n; i++) {
		const struct cyris_fw_endpoint *e = &list[i];
		const struct cyris_prefix *v = &e->prefix;
		size_t nv = 1;

		if (e->is_host)
			continue;
		for (j = 0; !e->is_prefix && j < p->n_nets && !streq(p->nets[j].name, e->name); j++)
			;
		if (!e->is_prefix) {
			if (j == p->n_nets)
				continue;
			v = p->nets[j].addrs;
			nv = p->nets[j].n_addrs;
		}
		for (k = 0; k < nv; k++) {
			struct cyris_prefix net = cyris_prefix_network(&v[k]), *slot;
			size_t d;

			if (net.ip.family != family)
				continue;
			for (d = 0; d < cnt && !(out[d].len == net.len &&
						 cyris_ip_equal(&out[d].ip, &net.ip)); d++)
				;
			if (d < cnt)
				continue;
			if (!(slot = cyris_grow((void **)&out, &cnt, &cap, sizeof(*slot)))) {
				free(out);
				return -ENOMEM;
			}
			*slot = net;
		}
	}
	*ret = out;
	return (int)cnt;
}

static bool has_host(const struct cyris_fw_endpoint *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (list[i].is_host)
			return true;
	return false;
}

static bool has_addresses(const struct cyris_fw_endpoint *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!list[i].is_host)
			return true;
	return false;
}

/* The l4 protocols of @proto for @family (0 = both families). */
static size_t l4protos(unsigned proto, int family, unsigned out[4])
{
	size_t n = 0;

	if (proto & CYRIS_FW_TCP)
		out[n++] = IPPROTO_TCP;
	if (proto & CYRIS_FW_UDP)
		out[n++] = IPPROTO_UDP;
	if ((proto & CYRIS_FW_ICMP) && family != AF_INET6)
		out[n++] = IPPROTO_ICMP;
	if ((proto & CYRIS_FW_ICMP) && family != AF_INET)
		out[n++] = IPPROTO_ICMPV6;
	return n;
}

/* One kernel rule's share of a rule: lists of prefixes, protocols and
 * ports (n = 0: any). */
struct expand {
	const struct cyris_fw_rule *r;
	int index;
	const char *chain;
	int family;                     /* 0: no address match */
	const struct cyris_prefix *src, *dst;
	size_t ns, nd;
	const unsigned *l4;
	size_t nl4;
	const struct cyris_fw_ports *sp, *dp;
	size_t nsp, ndp;
	struct fw_plan *plan;
};

static void comment_prefixes(FILE *f, const char *key, const struct cyris_prefix *v, size_t n)
{
	char buf[CYRIS_PREFIXSTRLEN];
	size_t i;

	for (i = 0; i < n; i++) {
		if (v[i].len == cyris_ip_len(&v[i].ip) * 8)
			cyris_ip_format(&v[i].ip, buf, sizeof(buf));
		else
			cyris_prefix_format(&v[i], buf, sizeof(buf));
		fprintf(f, "%s%s", i ? "," : key, buf);
	}
}

static void comment_ports(FILE *f, const char *key, const struct cyris_fw_ports *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		fprintf(f, v[i].lo == v[i].hi ? "%s%u" : "%s%u-%u", i ? "," : key, v[i].lo, v[i].hi);
}

/* The share @x in the rules' own syntax, into @buf; false when it does not
 * fit in a comment. */
static bool share_comment(const struct expand *x, char *buf, size_t size)
{
	FILE *f = fmemopen(buf, size, "w");
	bool icmp = false;
	size_t i;

	if (!f)
		return false;
	comment_prefixes(f, " src=", x->src, x->ns);
	comment_prefixes(f, " dst=", x->dst, x->nd);
	if (!x->nd && streq(x->chain, "services"))
		fputs(" dst=host", f);
	comment_ports(f, " sport=", x->sp, x->nsp);
	comment_ports(f, " dport=", x->dp, x->ndp);
	for (i = 0; i < x->nl4; i++) {
		bool is_icmp = x->l4[i] == IPPROTO_ICMP || x->l4[i] == IPPROTO_ICMPV6;

		if (is_icmp && icmp)
			continue;
		icmp |= is_icmp;
		fprintf(f, "%s%s", i ? "," : " proto=",
			x->l4[i] == IPPROTO_TCP ? "tcp" : x->l4[i] == IPPROTO_UDP ? "udp" : "icmp");
	}
	if (fclose(f) != 0 || strlen(buf) >= FW_COMMENT_MAX)
		return false;
	/* the leading space */
	memmove(buf, buf + (buf[0] == ' '), strlen(buf + (buf[0] == ' ')) + 1);
	return true;
}

/* A match on one value, or on an anonymous set of them. */
static int match_prefixes(struct fw_krule *k, enum fw_match_kind kind,
			  const struct cyris_prefix *v, size_t n)
{
	struct fw_match *m = match(k, kind, 0);

	m->pfx = v[0];
	if (n > 1) {
		if (!(m->pfx_set = malloc(n * sizeof(*v))))
			return -ENOMEM;
		memcpy(m->pfx_set, v, n * sizeof(*v));
		m->n_set = n;
	}
	return 0;
}

static int match_ports(struct fw_krule *k, enum fw_match_kind kind,
		       const struct cyris_fw_ports *v, size_t n)
{
	struct fw_match *m = match(k, kind, 0);

	m->ports = v[0];
	if (n > 1) {
		if (!(m->port_set = malloc(n * sizeof(*v))))
			return -ENOMEM;
		memcpy(m->port_set, v, n * sizeof(*v));
		m->n_set = n;
	}
	return 0;
}

/* One kernel rule for share @x, with @comment. */
static int emit(const struct expand *x, const char *comment)
{
	struct fw_krule *k = krule(x->plan, x->chain, FV_ACCEPT, comment);
	size_t i;
	int rc = 0;

	if (!k)
		return -ENOMEM;
	k->rule = x->index;
	k->counter = true;
	if (x->family)
		match(k, FM_NFPROTO, x->family == AF_INET ? NFPROTO_IPV4 : NFPROTO_IPV6);
	if (x->ns)
		rc = match_prefixes(k, FM_SADDR, x->src, x->ns);
	if (rc == 0 && x->nd)
		rc = match_prefixes(k, FM_DADDR, x->dst, x->nd);
	if (rc == 0 && x->nl4) {
		struct fw_match *m = match(k, FM_L4PROTO, x->l4[0]);

		for (i = 0; x->nl4 > 1 && i < x->nl4; i++)
			m->l4_set[i] = (uint8_t)x->l4[i];
		m->n_set = x->nl4 > 1 ? x->nl4 : 0;
	}
	if (rc == 0 && x->nsp)
		rc = match_ports(k, FM_SPORT, x->sp, x->nsp);
	if (rc == 0 && x->ndp)
		rc = match_ports(k, FM_DPORT, x->dp, x->ndp);
	/* a source is believed only from where the route back to it goes: a
	 * guest cannot claim another network's address */
	if (rc == 0 && x->ns)
		match(k, FM_FIB_RPF, 0);
	return rc;
}

/* Splitting a rule for its comments stops after this many halvings (at
 * most 2^3 = 8 kernel rules a family): every list halved at each level
 * would make a product of the lists, the cartesian expansion that sets are
 * there to avoid, and a few lines of rules could hold the kernel's commit
 * for minutes. Past it the kernel rule keeps the whole share, with a note
 * that names the rule's line instead of its text. */
#define SHARE_DEPTH_MAX 3

/* Share @x as kernel rules whose comments each say exactly their share: one
 * when it fits a comment, else halves of its longest list. */
static int emit_shares(const struct expand *x, unsigned depth)
{
	char buf[256];
	struct expand a = *x, b = *x;
	size_t longest = 1;
	int which = -1, rc;

	if (share_comment(x, buf, sizeof(buf)))
		return emit(x, buf);
	if (depth >= SHARE_DEPTH_MAX)
		goto note;
	if (x->ns > longest)
		longest = x->ns, which = 0;
	if (x->nd > longest)
		longest = x->nd, which = 1;
	if (x->nsp > longest)
		longest = x->nsp, which = 2;
	if (x->ndp > longest)
		longest = x->ndp, which = 3;
	switch (which) {
	case 0: a.ns = longest / 2; b.src += a.ns; b.ns -= a.ns; break;
	case 1: a.nd = longest / 2; b.dst += a.nd; b.nd -= a.nd; break;
	case 2: a.nsp = longest / 2; b.sp += a.nsp; b.nsp -= a.nsp; break;
	case 3: a.ndp = longest / 2; b.dp += a.ndp; b.ndp -= a.ndp; break;
	default:
		goto note;
	}
	rc = emit_shares(&a, depth + 1);
	return rc < 0 ? rc : emit_shares(&b, depth + 1);
note:
	/* single entries and still too long (long IPv6 prefixes and port
	 * ranges), or split as far as it may be: say so, in a form no reader
	 * takes for a rule */
	snprintf(buf, sizeof(buf), "rule at line %u: too long for a comment", x->r->line);
	return emit(x, buf);
}

/* Emit one chain's share of a rule: one kernel rule per address family,
 * its lists as anonymous sets. */
static int expand_chain(const struct cyris_fw_policy *p, struct expand *x, bool dst_any,
			size_t *emitted)
{
	static const int families[] = { AF_INET, AF_INET6 };
	const struct cyris_fw_rule *r = x->r;
	bool whole = !r->long_text && strlen(r->text) < FW_COMMENT_MAX;
	unsigned l4[4];
	size_t f;
	int rc = 0;

	x->sp = r->sport;
	x->nsp = r->n_sport;
	x->dp = r->dport;
	x->ndp = r->n_dport;
	x->l4 = l4;
	if (!r->n_src && dst_any) {
		x->family = 0;
		x->ns = x->nd = 0;
		x->nl4 = r->proto ? l4protos(r->proto, 0, l4) : 0;
		(*emitted)++;
		return whole ? emit(x, r->text) : emit_shares(x, 0);
	}
	for (f = 0; rc == 0 && f < ARRAY_SIZE(families); f++) {
		_cleanup_free_ struct cyris_prefix *src = NULL, *dst = NULL;
		int ns = endpoints(p, r->src, r->n_src, families[f], &src);
		int nd = dst_any || ns < 0 ? 0 : endpoints(p, r->dst, r->n_dst, families[f], &dst);

		if (ns < 0 || nd < 0)
			return -ENOMEM;
		if ((r->n_src && !ns) || (!dst_any && !nd))
			continue;
		x->family = families[f];
		x->src = src;
		x->ns = (size_t)ns;
		x->dst = dst;
		x->nd = (size_t)nd;
		x->nl4 = r->proto ? l4protos(r->proto, families[f], l4) : 0;
		(*emitted)++;
		rc = whole ? emit(x, r->text) : emit_shares(x, 0);
		x->src = x->dst = NULL;
		x->ns = x->nd = 0;
	}
	return rc;
}

int fw_plan_rule(const struct cyris_fw_policy *p, const struct cyris_fw_rule *r,
		 int index, struct fw_plan *plan, struct cyris_error *err)
{
	struct expand x = { .r = r, .index = index, .plan = plan };
	size_t emitted = 0;
	int rc;

	/* dst=host: into the host (chain services); anything else forwarded */
	if (has_host(r->dst, r->n_dst)) {
		x.chain = "services";
		if ((rc = expand_chain(p, &x, true, &emitted)) < 0)
			return rc;
	}
	if (!r->n_dst || has_addresses(r->dst, r->n_dst)) {
		size_t before = emitted;

		x.chain = "allow";
		if ((rc = expand_chain(p, &x, !r->n_dst, &emitted)) < 0)
			return rc;
		if (emitted == before)
			return cyris_error_set(err, -EINVAL, "src and dst share no address family");
	}
	if (!emitted)
		return cyris_error_set(err, -EINVAL, "the source has no address of any family");
	return 0;
}

/* ---- exposes and NAT ---------------------------------------------------- */

void fw_expose_comment(const struct cyris_fw_expose *e, char *buf, size_t size)
{
	char to[CYRIS_IPSTRLEN], from[CYRIS_PREFIXSTRLEN];

	cyris_ip_format(&e->to, to, sizeof(to));
	if (e->from.ip.family)
		snprintf(buf, size, "expose %u to %s:%u proto %s from %s%s", e->host_port, to,
			 e->to_port, e->proto == CYRIS_FW_UDP ? "udp" : "tcp",
			 cyris_prefix_format(&e->from, from, sizeof(from)), e->snat ? " snat" : "");
	else
		snprintf(buf, size, "expose %u to %s:%u proto %s%s", e->host_port, to,
			 e->to_port, e->proto == CYRIS_FW_UDP ? "udp" : "tcp", e->snat ? " snat" : "");
}

int cyris_fw_expose_parse(const char *c, struct cyris_fw_expose *ret)
{
	char to[64], proto[8], from[64];
	struct cyris_fw_expose e = {0};
	unsigned hp, tp;
	int n;

	from[0] = '\0';
	n = sscanf(c, "expose %u to %63[0-9.]:%u proto %7s from %63s", &hp, to, &tp, proto, from);
	if (n < 4 || hp == 0 || hp > 65535 || tp == 0 || tp > 65535 ||
	    cyris_ip_parse(to, &e.to) < 0 || (n == 5 && cyris_prefix_parse(from, false, &e.from) < 0))
		return -EINVAL;
	e.snat = strlen(c) > 5 && streq(c + strlen(c) - 5, " snat");
	e.host_port = (uint16_t)hp;
	e.to_port = (uint16_t)tp;
	e.proto = streq(proto, "udp") ? CYRIS_FW_UDP : CYRIS_FW_TCP;
	*ret = e;
	return 0;
}

int fw_plan_expose(const struct cyris_fw_expose *e, struct fw_plan *plan)
{
	unsigned l4 = e->proto == CYRIS_FW_UDP ? IPPROTO_UDP : IPPROTO_TCP;
	struct cyris_prefix to = { .ip = e->to, .len = 32 };
	char comment[256];
	struct fw_krule *k;

	fw_expose_comment(e, comment, sizeof(comment));
	k = krule(plan, "prerouting", FV_DNAT, comment);
	if (!k)
		return -ENOMEM;
	k->counter = true;
	match(k, FM_FIB_LOCAL, 0);
	/* only from outside the range: a guest of the range that may not
	 * reach the entry guest must not get there through the host's port
	 * (it meets the input chain's isolation instead) */
	match(k, FM_IIF_NOT_IN_SET, 0);
	match(k, FM_NFPROTO, NFPROTO_IPV4);
	if (e->from.ip.family)
		match(k, FM_SADDR, 0)->pfx = e->from;
	match(k, FM_L4PROTO, l4);
	match(k, FM_DPORT, 0)->ports = (struct cyris_fw_ports){ e->host_port, e->host_port };
	k->nat_ip = e->to;
	k->nat_port = e->to_port;
	/* the same for connections the host itself makes to its own port */
	if (!e->from.ip.family) {
		struct fw_krule *o = krule(plan, "output", FV_DNAT, comment);

		if (!o)
			return -ENOMEM;
		size_t i, j;

		*o = plan->v[plan->n - 2];
		o->chain = "output";
		/* no input interface on this hook: the host's own connections */
		for (i = j = 0; i < o->n; i++)
			if (o->m[i].kind != FM_IIF_NOT_IN_SET)
				o->m[j++] = o->m[i];
		o->n = j;
	}
	/* the one forward accept the DNAT needs */
	k = krule(plan, "expose", FV_ACCEPT, comment);
	if (!k)
		return -ENOMEM;
	k->counter = true;
	match(k, FM_CT_DNAT, 0);
	match(k, FM_NFPROTO, NFPROTO_IPV4);
	match(k, FM_DADDR, 0)->pfx = to;
	match(k, FM_L4PROTO, l4);
	match(k, FM_DPORT, 0)->ports = (struct cyris_fw_ports){ e->to_port, e->to_port };
	/* a guest that answers through another router (a gateway guest) gets
	 * the connection from the host's own address, so that its answer
	 * comes back here to be un-DNATed (see plan.c, behind_gateway) */
	if (e->snat) {
		struct fw_krule *s = krule(plan, "postrouting", FV_MASQ, comment);

		if (!s)
			return -ENOMEM;
		*s = plan->v[plan->n - 2];
		s->chain = "postrouting";
		s->verdict = FV_MASQ;
	}
	return 0;
}

int fw_plan_nat(const char *ifname, struct fw_plan *plan)
{
	char comment[64];
	struct fw_krule *k;

	snprintf(comment, sizeof(comment), FW_NAT_PREFIX "%s", ifname);
	k = krule(plan, "postrouting", FV_MASQ, comment);
	if (!k)
		return -ENOMEM;
	k->counter = true;
	match(k, FM_IIF_IN_SET, 0);
	snprintf(match(k, FM_OIFNAME, 0)->name, CYRIS_IFNAMSIZ, "%s", ifname);
	k = krule(plan, "egress", FV_ACCEPT, comment);
	if (!k)
		return -ENOMEM;
	k->counter = true;
	match(k, FM_IIF_IN_SET, 0);
	snprintf(match(k, FM_OIFNAME, 0)->name, CYRIS_IFNAMSIZ, "%s", ifname);
	return 0;
}

int cyris_fw_ingress_parse(const char *c, char ifname[CYRIS_IFNAMSIZ])
{
	size_t n = strlen(FW_INGRESS_PREFIX);
	const char *colon;

	if (strncmp(c, FW_INGRESS_PREFIX, n) != 0 || !(colon = strchr(c + n, ':')) ||
	    (size_t)(colon - c - n) >= CYRIS_IFNAMSIZ || colon == c + n)
		return -EINVAL;
	memcpy(ifname, c + n, (size_t)(colon - c - n));
	ifname[colon - c - n] = '\0';
	return cyris_ifname_valid(ifname) ? 0 : -EINVAL;
}

/* Forwarding from an interface that forwards only for entry points: what
 * is not DNATed and not an answer is dropped, before anything else of the
 * chain can accept it (the comment is cyris's record of that forwarding). */
int fw_plan_ingress(const char *ifname, struct fw_plan *plan)
{
	char comment[96];
	struct fw_krule *k;

	snprintf(comment, sizeof(comment), FW_INGRESS_PREFIX "%s: forwarding for entry points only", ifname);
	k = krule(plan, "forward", FV_DROP, comment);
	if (!k)
		return -ENOMEM;
	k->counter = true;
	snprintf(match(k, FM_IIFNAME, 0)->name, CYRIS_IFNAMSIZ, "%s", ifname);
	match(k, FM_CT_NOT_ESTREL, 0);
	match(k, FM_CT_NOT_DNAT, 0);
	return 0;
}

/* ---- a gateway's uplink ------------------------------------------------- */

/* The sources an uplink takes from anyone, for @family: its own subnets
 * (and, for IPv6, link-local and unspecified ones: neighbour discovery);
 * into *@ret (malloc'd), how many or -ENOMEM. */
static int uplink_sources(const struct cyris_fw_policy *p, const char *ifname, int family,
			  struct cyris_prefix **ret)
{
	struct cyris_prefix *v = NULL, *slot;
	size_t i, j, n = 0, cap = 0;

	for (i = 0; i < p->n_nets; i++) {
		const struct cyris_fw_net *net = &p->nets[i];

		for (j = 0; j < net->n_ifnames && !streq(net->ifnames[j], ifname); j++)
			;
		for (size_t k = 0; j < net->n_ifnames && k < net->n_addrs; k++) {
			if (net->addrs[k].ip.family != family)
				continue;
			if (!(slot = cyris_grow((void **)&v, &n, &cap, sizeof(*slot))))
				goto nomem;
			*slot = cyris_prefix_network(&net->addrs[k]);
		}
	}
	if (family == AF_INET6) {
		static const char *const nd[] = { "fe80::/10", "::/128" };

		for (i = 0; i < ARRAY_SIZE(nd); i++) {
			if (!(slot = cyris_grow((void **)&v, &n, &cap, sizeof(*slot))))
				goto nomem;
			(void)cyris_prefix_parse(nd[i], false, slot);
		}
	}
	*ret = v;
	return (int)n;
nomem:
	free(v);
	return -ENOMEM;
}

void fw_uplink_comment(const struct cyris_fw_uplink *u, char *buf, size_t size)
{
	char mac[18];

	snprintf(buf, size, FW_UPLINK_PREFIX "%s from %s (other sources than its subnets only from "
		 "there)", u->ifname, cyris_mac_format(u->mac, mac));
}

/*
 * A gateway guest's uplink takes a source from outside its own subnets
 * only from the next hop there (the host's bridge, by its MAC): the
 * gateway's default route leaves through the uplink, so for any outside
 * address "fib saddr . iif" holds, and a neighbour on the uplink network
 * that claims one (198.51.100.7, or an outside server's address, to slip
 * into one of its connections) would pass. Of what the gateway sees of a
 * frame only its Ethernet source tells the host's routed frames from a
 * neighbour's: the source address is the claim itself, the uplink's next
 * hop address never appears in a forwarded packet, and the host's bridge
 * does not stamp anything else. The MAC is the plan's (fixed when the
 * bridge is made, so it does not follow the ports' MACs). A neighbour
 * could send with that MAC too, and only the host's bridge knows which port
 * a frame came in on: the host's table for the range drops a frame that a
 * range bridge forwards from a port with its own MAC (fw.c, the bridge
 * guard), so no guest's frame carries it here.
 *
 * In forward and input, before "established": an answer to a connection
 * the range made to the outside comes only from the host too, so a forged
 * one cannot ride on its conntrack entry.
 */
int fw_plan_uplink(const struct cyris_fw_policy *p, const struct cyris_fw_uplink *u,
		   struct fw_plan *plan)
{
	static const char *const chains[] = { "forward", "input" };
	static const int families[] = { AF_INET, AF_INET6 };
	char comment[FW_COMMENT_MAX];
	size_t c, f;

	fw_uplink_comment(u, comment, sizeof(comment));
	for (c = 0; c < ARRAY_SIZE(chains); c++)
		for (f = 0; f < ARRAY_SIZE(families); f++) {
			struct cyris_prefix *src = NULL;
			int n = uplink_sources(p, u->ifname, families[f], &src), i;
			struct fw_krule *k;
			struct fw_match *m;

			/* a /0 on the uplink: no source is from outside it */
			for (i = 0; i < n && src[i].len; i++)
				;
			if (n > 0 && i < n) {
				free(src);
				continue;
			}
			if (!(k = n < 0 ? NULL : krule(plan, chains[c], FV_DROP, comment))) {
				free(src);
				return -ENOMEM;
			}
			k->counter = true;
			snprintf(match(k, FM_IIFNAME, 0)->name, CYRIS_IFNAMSIZ, "%s", u->ifname);
			match(k, FM_NFPROTO, families[f] == AF_INET ? NFPROTO_IPV4 : NFPROTO_IPV6);
			if (n > 0) {
				/* one prefix: a compare, as nft writes it; more: a set */
				m = match(k, FM_SADDR_NOT_IN, 0);
				m->pfx = src[0];
				if (n > 1) {
					m->pfx_set = TAKE_PTR(src);   /* the plan owns it now */
					m->n_set = (size_t)n;
				}
			}
			free(src);
			memcpy(match(k, FM_ETHER_SADDR_NOT, 0)->mac, u->mac, 6);
		}
	return 0;
}

/* ---- the whole table ---------------------------------------------------- */

/* The fixed skeleton: what makes a range a range. */
static int plan_skeleton(const struct cyris_fw_policy *p, struct fw_plan *plan)
{
	static const char *const jumps[] = { "allow", "expose", "egress" };
	char c1[96], c2[96];
	struct fw_krule *k;
	size_t i;

	snprintf(c1, sizeof(c1), "isolation: from range %s", p->range);
	snprintf(c2, sizeof(c2), "isolation: into range %s", p->range);
	/* forward: judge only packets that touch the range's interfaces */
	if (!(k = krule(plan, "forward", FV_RETURN, "not range traffic")))
		return -ENOMEM;
	match(k, FM_IIF_NOT_IN_SET, 0);
	match(k, FM_OIF_NOT_IN_SET, 0);
	if (!(k = krule(plan, "forward", FV_ACCEPT, "established")))
		return -ENOMEM;
	match(k, FM_CT_ESTREL, 0);
	/* Inside one network nothing is judged. Bridged traffic reaches this
	 * hook only through br_netfilter (bridge-nf-call-iptables), and then
	 * with the bridge as both input and output interface. */
	for (i = 0; i < p->n_nets; i++)
		for (size_t j = 0; j < p->nets[i].n_ifnames; j++) {
			if (!(k = krule(plan, "forward", FV_ACCEPT, "within one network")))
				return -ENOMEM;
			snprintf(match(k, FM_IIFNAME, 0)->name, CYRIS_IFNAMSIZ, "%s", p->nets[i].ifnames[j]);
			snprintf(match(k, FM_OIFNAME, 0)->name, CYRIS_IFNAMSIZ, "%s", p->nets[i].ifnames[j]);
		}
	for (i = 0; i < ARRAY_SIZE(jumps); i++) {
		if (!(k = krule(plan, "forward", FV_JUMP, NULL)))
			return -ENOMEM;
		k->target = jumps[i];
	}
	if (!(k = krule(plan, "forward", FV_DROP, c1)))
		return -ENOMEM;
	k->counter = true;
	match(k, FM_IIF_IN_SET, 0);
	if (!(k = krule(plan, "forward", FV_DROP, c2)))
		return -ENOMEM;
	k->counter = true;
	match(k, FM_OIF_IN_SET, 0);
	/* input: from the range to the host only what dst=host rules allow */
	if (!(k = krule(plan, "input", FV_RETURN, "not range traffic")))
		return -ENOMEM;
	match(k, FM_IIF_NOT_IN_SET, 0);
	if (!(k = krule(plan, "input", FV_ACCEPT, "established")))
		return -ENOMEM;
	match(k, FM_CT_ESTREL, 0);
	if (!(k = krule(plan, "input", FV_JUMP, NULL)))
		return -ENOMEM;
	k->target = "services";
	if (!(k = krule(plan, "input", FV_DROP, c1)))
		return -ENOMEM;
	k->counter = true;
	return 0;
}

/* Hand the plan so far to @each and empty it, when there is an @each and
 * the plan holds at least @min rules. */
static int flush(struct fw_plan *plan, size_t min, fw_plan_cb each, void *data)
{
	int r;

	if (!each || !plan->n || plan->n < min)
		return 0;
	r = each(plan, data);
	fw_plan_reset(plan);
	return r;
}

/* Every kernel rule of @p into @plan; with @each, in pieces (see
 * fw_plan_policy_each()). */
static int plan_policy(const struct cyris_fw_policy *p, struct fw_plan *plan,
		       fw_plan_cb each, void *data, struct cyris_error *err)
{
	struct cyris_fw_rule rule;
	size_t i;
	int r;

	for (i = 0; i < p->n_uplinks; i++)
		if ((r = fw_plan_uplink(p, &p->uplinks[i], plan)) < 0)
			return r;
	for (i = 0; i < p->n_ingress; i++)
		if ((r = fw_plan_ingress(p->ingress[i], plan)) < 0)
			return r;
	if ((r = plan_skeleton(p, plan)) < 0)
		return r;
	for (i = 0; i < p->n_rules; i++) {
		struct cyris_error m;

		(void)cyris_fw_policy_rule(p, i, &rule);
		r = fw_plan_rule(p, &rule, (int)i, plan, &m);
		if (r < 0)
			return cyris_error_set(err, r, "rule '%s': %s", rule.text, m.msg);
		if ((r = flush(plan, FW_PLAN_PIECE, each, data)) < 0)
			return r;
	}
	for (i = 0; i < p->n_exposes; i++)
		if ((r = fw_plan_expose(&p->exposes[i], plan)) < 0)
			return r;
	for (i = 0; i < p->n_nat; i++)
		if ((r = fw_plan_nat(p->nat[i], plan)) < 0)
			return r;
	return flush(plan, 0, each, data);
}

int fw_plan_policy(const struct cyris_fw_policy *p, struct fw_plan *plan,
		   struct cyris_error *err)
{
	return plan_policy(p, plan, NULL, NULL, err);
}

int fw_plan_policy_each(const struct cyris_fw_policy *p, fw_plan_cb each, void *data,
			struct cyris_error *err)
{
	struct fw_plan plan = {0};
	int r = plan_policy(p, &plan, each, data, err);

	fw_plan_clear(&plan);
	return r;
}

/* ---- nft syntax --------------------------------------------------------- */

static const char *l4name(unsigned v)
{
	switch (v) {
	case IPPROTO_TCP: return "tcp";
	case IPPROTO_UDP: return "udp";
	case IPPROTO_ICMP: return "icmp";
	case IPPROTO_ICMPV6: return "ipv6-icmp";
	default: return "?";
	}
}

static void print_prefix(FILE *f, const struct cyris_prefix *p)
{
	char buf[CYRIS_PREFIXSTRLEN];

	if (p->len == cyris_ip_len(&p->ip) * 8)
		cyris_ip_format(&p->ip, buf, sizeof(buf));
	else
		cyris_prefix_format(p, buf, sizeof(buf));
	fputs(buf, f);
}

/* An anonymous set, as nft writes it. */
static void print_set(FILE *f, const struct fw_match *m)
{
	size_t i;

	fputs(" {", f);
	for (i = 0; i < m->n_set; i++) {
		fputs(i ? ", " : " ", f);
		if (m->pfx_set)
			print_prefix(f, &m->pfx_set[i]);
		else if (m->port_set && m->port_set[i].lo != m->port_set[i].hi)
			fprintf(f, "%u-%u", m->port_set[i].lo, m->port_set[i].hi);
		else if (m->port_set)
			fprintf(f, "%u", m->port_set[i].lo);
		else
			fputs(l4name(m->l4_set[i]), f);
	}
	fputs(" }", f);
}

static void print_match(FILE *f, const struct fw_match *m, unsigned l4)
{
	char buf[CYRIS_PREFIXSTRLEN];
	const char *fam = m->pfx.ip.family == AF_INET6 ? "ip6" : "ip";
	const char *th = l4 == IPPROTO_UDP ? "udp" : l4 == IPPROTO_TCP ? "tcp" : "th";

	if (m->n_set) {
		if (m->kind == FM_SADDR_NOT_IN)
			fprintf(f, " %s saddr !=", fam);
		else if (m->kind == FM_SADDR || m->kind == FM_DADDR)
			fprintf(f, " %s %s", fam, m->kind == FM_SADDR ? "saddr" : "daddr");
		else if (m->kind == FM_L4PROTO)
			fputs(" meta l4proto", f);
		else
			fprintf(f, " %s %s", th, m->kind == FM_SPORT ? "sport" : "dport");
		print_set(f, m);
		return;
	}

	switch (m->kind) {
	case FM_IIF_IN_SET: fputs(" iifname @ifaces", f); break;
	case FM_IIF_NOT_IN_SET: fputs(" iifname != @ifaces", f); break;
	case FM_OIF_IN_SET: fputs(" oifname @ifaces", f); break;
	case FM_OIF_NOT_IN_SET: fputs(" oifname != @ifaces", f); break;
	case FM_IIFNAME: fprintf(f, " iifname \"%s\"", m->name); break;
	case FM_OIFNAME: fprintf(f, " oifname \"%s\"", m->name); break;
	case FM_NFPROTO: fprintf(f, " meta nfproto %s", m->v == NFPROTO_IPV6 ? "ipv6" : "ipv4"); break;
	case FM_SADDR:
	case FM_DADDR:
		if (m->pfx.len == cyris_ip_len(&m->pfx.ip) * 8)
			cyris_ip_format(&m->pfx.ip, buf, sizeof(buf));
		else
			cyris_prefix_format(&m->pfx, buf, sizeof(buf));
		fprintf(f, " %s %s %s", fam, m->kind == FM_SADDR ? "saddr" : "daddr", buf);
		break;
	case FM_L4PROTO: fprintf(f, " meta l4proto %s", l4name(m->v)); break;
	case FM_SPORT:
	case FM_DPORT:
		fprintf(f, " %s %s %u", th, m->kind == FM_SPORT ? "sport" : "dport", m->ports.lo);
		if (m->ports.hi != m->ports.lo)
			fprintf(f, "-%u", m->ports.hi);
		break;
	case FM_CT_ESTREL: fputs(" ct state established,related", f); break;
	case FM_CT_DNAT: fputs(" ct status dnat", f); break;
	case FM_FIB_LOCAL: fputs(" fib daddr type local", f); break;
	case FM_CT_NOT_ESTREL: fputs(" ct state ! established,related", f); break;
	case FM_CT_NOT_DNAT: fputs(" ct status ! dnat", f); break;
	case FM_FIB_RPF: fputs(" fib saddr . iif oif != 0", f); break;
	case FM_SADDR_NOT_IN:
		fprintf(f, " %s saddr != ", fam);
		print_prefix(f, &m->pfx);
		break;
	case FM_ETHER_SADDR_NOT: fprintf(f, " ether saddr != %s", cyris_mac_format(m->mac, buf)); break;
	}
}

void fw_krule_print(FILE *f, const char *table, const struct fw_krule *k)
{
	char ip[CYRIS_IPSTRLEN];
	unsigned l4 = 0;
	size_t i;

	fprintf(f, "add rule inet %s %s", table, k->chain);
	for (i = 0; i < k->n; i++) {
		if (k->m[i].kind == FM_L4PROTO)
			l4 = k->m[i].n_set ? 0 : k->m[i].v;
		print_match(f, &k->m[i], l4);
	}
	if (k->counter)
		fputs(" counter", f);
	switch (k->verdict) {
	case FV_ACCEPT: fputs(" accept", f); break;
	case FV_DROP: fputs(" drop", f); break;
	case FV_RETURN: fputs(" return", f); break;
	case FV_JUMP: fprintf(f, " jump %s", k->target); break;
	case FV_DNAT:
		fprintf(f, " dnat ip to %s:%u", cyris_ip_format(&k->nat_ip, ip, sizeof(ip)), k->nat_port);
		break;
	case FV_MASQ: fputs(" masquerade", f); break;
	}
	if (k->comment[0]) {
		fputs(" comment ", f);
		/* nft's string syntax: no quotes inside */
		fputc('"', f);
		for (i = 0; k->comment[i]; i++)
			fputc(k->comment[i] == '"' ? '\'' : k->comment[i], f);
		fputc('"', f);
	}
}

/* The table, its set and its chains, in nft syntax. */
static void print_head(FILE *f, const struct cyris_fw_policy *p, const char *table)
{
	const char *sep = "";
	size_t i, j, n = 0;

	fprintf(f, "add table inet %s { comment \"cyris range=%s\"; }\n", table, p->range);
	fprintf(f, "add set inet %s ifaces { type ifname;", table);
	for (i = 0; i < p->n_nets; i++)
		n += p->nets[i].n_ifnames;
	if (n) {
		fputs(" elements = { ", f);
		for (i = 0; i < p->n_nets; i++)
			for (j = 0; j < p->nets[i].n_ifnames; j++, sep = ", ")
				fprintf(f, "%s\"%s\"", sep, p->nets[i].ifnames[j]);
		fputs(" };", f);
	}
	fputs(" }\n", f);
	for (i = 0; i < fw_n_chains; i++) {
		const struct fw_chain_def *c = &fw_chains[i];
		static const char *const hooks[] = { "prerouting", "input", "forward", "output", "postrouting" };

		if (c->type)
			fprintf(f, "add chain inet %s %s { type %s hook %s priority %d; policy accept; }\n",
				table, c->name, c->type, hooks[c->hook], c->prio);
		else
			fprintf(f, "add chain inet %s %s\n", table, c->name);
	}
}

static void print_rules(FILE *f, const char *table, const struct fw_plan *plan)
{
	size_t i;

	for (i = 0; i < plan->n; i++) {
		fw_krule_print(f, table, &plan->v[i]);
		fputc('\n', f);
	}
}

void fw_plan_print(FILE *f, const struct cyris_fw_policy *p, const struct fw_plan *plan)
{
	char table[CYRIS_FW_TABLESIZ];

	(void)cyris_fw_table_name(p->range, table, sizeof(table));
	print_head(f, p, table);
	print_rules(f, table, plan);
}

struct explain {
	FILE *f;
	char table[CYRIS_FW_TABLESIZ];
	size_t n;
};

static int explain_piece(const struct fw_plan *plan, void *data)
{
	struct explain *x = data;

	print_rules(x->f, x->table, plan);
	x->n += plan->n;
	return 0;
}

int cyris_fw_explain_file(const struct cyris_fw_policy *p, FILE *f)
{
	struct explain x = { .f = f };
	int r;

	if ((r = cyris_fw_table_name(p->range, x.table, sizeof(x.table))) < 0)
		return r;
	print_head(f, p, x.table);
	if ((r = fw_plan_policy_each(p, explain_piece, &x, NULL)) < 0)
		return r;
	if (ferror(f))
		return -EIO;
	return x.n > INT_MAX ? INT_MAX : (int)x.n;
}

int cyris_fw_explain(const struct cyris_fw_policy *p, char **ret)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int r;

	if (!f)
		return -ENOMEM;
	r = cyris_fw_explain_file(p, f);
	if (fclose(f) != 0 && r >= 0)
		r = -ENOMEM;
	if (r < 0) {
		free(buf);
		return r;
	}
	*ret = buf;
	return r;
}
