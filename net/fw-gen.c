/* SPDX-License-Identifier: MIT */
/*
 * From a policy to the list of kernel rules of its table, and that list in
 * nft's syntax. Pure functions: no kernel here.
 */
#include <netinet/in.h>
#include <linux/netfilter.h>
#include <stdarg.h>
#include <sys/socket.h>

#include "fw-priv.h"
#include "util.h"

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

void fw_plan_clear(struct fw_plan *plan)
{
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

struct expand {
	const struct cyris_fw_rule *r;
	int index;
	const char *chain;
	int family;                     /* 0: no address match */
	const struct cyris_prefix *src, *dst; /* NULL = any */
	struct fw_plan *plan;
};

static void comment_prefix(FILE *f, const char *key, const struct cyris_prefix *pfx)
{
	char buf[CYRIS_PREFIXSTRLEN];

	if (pfx->len == cyris_ip_len(&pfx->ip) * 8)
		cyris_ip_format(&pfx->ip, buf, sizeof(buf));
	else
		cyris_prefix_format(pfx, buf, sizeof(buf));
	fprintf(f, " %s=%s", key, buf);
}

/* A rule whose text does not fit in a comment: each kernel rule
 * says exactly its own share, in the same syntax (so that what the kernel
 * shows parses back to what it does). */
static void share_comment(const struct expand *x, unsigned l4, const struct cyris_fw_ports *sp,
			  const struct cyris_fw_ports *dp, char *buf, size_t size)
{
	FILE *f = fmemopen(buf, size, "w");

	if (!f) {
		buf[0] = '\0';
		return;
	}
	if (x->src)
		comment_prefix(f, "src", x->src);
	if (x->dst)
		comment_prefix(f, "dst", x->dst);
	else if (streq(x->chain, "services"))
		fputs(" dst=host", f);
	if (sp)
		fprintf(f, sp->lo == sp->hi ? " sport=%u" : " sport=%u-%u", sp->lo, sp->hi);
	if (dp)
		fprintf(f, dp->lo == dp->hi ? " dport=%u" : " dport=%u-%u", dp->lo, dp->hi);
	if (l4)
		fprintf(f, " proto=%s", l4 == IPPROTO_TCP ? "tcp" : l4 == IPPROTO_UDP ? "udp" : "icmp");
	if (fclose(f) != 0 || strlen(buf) >= FW_COMMENT_MAX) {
		/* (two long IPv6 prefixes and port ranges): say so, in a form
		 * that no reader takes for a rule */
		snprintf(buf, size, "rule at line %u: too long for a comment", x->r->line);
		return;
	}
	/* the leading space */
	memmove(buf, buf + (buf[0] == ' '), strlen(buf + (buf[0] == ' ')) + 1);
}

/* Emit the rules for one (src, dst) pair: protocols x sports x dports. */
static int expand_ports(const struct expand *x)
{
	const struct cyris_fw_rule *r = x->r;
	unsigned protos[4];
	size_t np = r->proto ? l4protos(r->proto, x->family, protos) : 1;
	size_t nsp = r->n_sport ? r->n_sport : 1, ndp = r->n_dport ? r->n_dport : 1;
	size_t a, b, c;

	for (a = 0; a < np; a++)
		for (b = 0; b < nsp; b++)
			for (c = 0; c < ndp; c++) {
				bool whole = !r->long_text && strlen(r->text) < FW_COMMENT_MAX;
				struct fw_krule *k = krule(x->plan, x->chain, FV_ACCEPT,
							   whole ? r->text : NULL);

				if (!k)
					return -ENOMEM;
				if (!whole)
					share_comment(x, r->proto ? protos[a] : 0,
						      r->n_sport ? &r->sport[b] : NULL,
						      r->n_dport ? &r->dport[c] : NULL,
						      k->comment, sizeof(k->comment));
				k->rule = x->index;
				k->counter = true;
				if (x->family)
					match(k, FM_NFPROTO, x->family == AF_INET ? NFPROTO_IPV4 : NFPROTO_IPV6);
				if (x->src)
					match(k, FM_SADDR, 0)->pfx = *x->src;
				if (x->dst)
					match(k, FM_DADDR, 0)->pfx = *x->dst;
				if (r->proto)
					match(k, FM_L4PROTO, protos[a]);
				if (r->n_sport)
					match(k, FM_SPORT, 0)->ports = r->sport[b];
				if (r->n_dport)
					match(k, FM_DPORT, 0)->ports = r->dport[c];
				/* a source is believed only from where the
				 * route back to it goes: a guest cannot claim
				 * another network's address */
				if (x->src)
					match(k, FM_FIB_RPF, 0);
			}
	return 0;
}

/* Emit one chain's share of a rule: the src x dst address pairs. */
static int expand_chain(const struct cyris_fw_policy *p, struct expand *x, bool dst_any,
			size_t *emitted)
{
	static const int families[] = { AF_INET, AF_INET6 };
	const struct cyris_fw_rule *r = x->r;
	size_t f, i, j;
	int rc = 0;

	if (!r->n_src && dst_any) {
		x->family = 0;
		x->src = x->dst = NULL;
		(*emitted)++;
		return expand_ports(x);
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
		for (i = 0; rc == 0 && i < (size_t)(ns ? ns : 1); i++)
			for (j = 0; rc == 0 && j < (size_t)(nd ? nd : 1); j++) {
				x->src = ns ? &src[i] : NULL;
				x->dst = nd ? &dst[j] : NULL;
				(*emitted)++;
				rc = expand_ports(x);
			}
		x->src = x->dst = NULL;
	}
	return rc;
}

int fw_plan_rule(const struct cyris_fw_policy *p, const struct cyris_fw_rule *r,
		 int index, struct fw_plan *plan, char *err, size_t errlen)
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
			return cyris_errf(err, errlen, -EINVAL, "src and dst share no address family");
	}
	if (!emitted)
		return cyris_errf(err, errlen, -EINVAL, "the source has no address of any family");
	return 0;
}

/* ---- exposes and NAT ---------------------------------------------------- */

void fw_expose_comment(const struct cyris_fw_expose *e, char *buf, size_t size)
{
	char to[CYRIS_IPSTRLEN], from[CYRIS_PREFIXSTRLEN];

	cyris_ip_format(&e->to, to, sizeof(to));
	if (e->from.ip.family)
		snprintf(buf, size, "expose %u to %s:%u proto %s from %s", e->host_port, to,
			 e->to_port, e->proto == CYRIS_FW_UDP ? "udp" : "tcp",
			 cyris_prefix_format(&e->from, from, sizeof(from)));
	else
		snprintf(buf, size, "expose %u to %s:%u proto %s", e->host_port, to,
			 e->to_port, e->proto == CYRIS_FW_UDP ? "udp" : "tcp");
}

int fw_expose_parse(const char *c, struct cyris_fw_expose *ret)
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
		*o = plan->v[plan->n - 2];
		o->chain = "output";
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

int fw_plan_policy(const struct cyris_fw_policy *p, struct fw_plan *plan,
		   char *err, size_t errlen)
{
	size_t i;
	int r;

	if ((r = plan_skeleton(p, plan)) < 0)
		return r;
	for (i = 0; i < p->n_rules; i++) {
		char msg[200];

		r = fw_plan_rule(p, &p->rules[i], (int)i, plan, msg, sizeof(msg));
		if (r < 0)
			return cyris_errf(err, errlen, r, "rule '%s': %s", p->rules[i].text, msg);
	}
	for (i = 0; i < p->n_exposes; i++)
		if ((r = fw_plan_expose(&p->exposes[i], plan)) < 0)
			return r;
	for (i = 0; i < p->n_nat; i++)
		if ((r = fw_plan_nat(p->nat[i], plan)) < 0)
			return r;
	return 0;
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

static void print_match(FILE *f, const struct fw_match *m, unsigned l4)
{
	char buf[CYRIS_PREFIXSTRLEN];
	const char *fam = m->pfx.ip.family == AF_INET6 ? "ip6" : "ip";
	const char *th = l4 == IPPROTO_UDP ? "udp" : l4 == IPPROTO_TCP ? "tcp" : "th";

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
	case FM_FIB_RPF: fputs(" fib saddr . iif oif != 0", f); break;
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
			l4 = k->m[i].v;
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

void fw_plan_print(FILE *f, const struct cyris_fw_policy *p, const struct fw_plan *plan)
{
	char table[CYRIS_FW_TABLESIZ];
	const char *sep = "";
	size_t i, j, n = 0;

	(void)cyris_fw_table_name(p->range, table, sizeof(table));
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
	for (i = 0; i < plan->n; i++) {
		fw_krule_print(f, table, &plan->v[i]);
		fputc('\n', f);
	}
}

int cyris_fw_explain(const struct cyris_fw_policy *p, char **ret)
{
	struct fw_plan plan = {0};
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int r = fw_plan_policy(p, &plan, NULL, 0);

	if (r < 0) {
		fw_plan_clear(&plan);
		return r;
	}
	f = open_memstream(&buf, &len);
	if (!f) {
		fw_plan_clear(&plan);
		return -ENOMEM;
	}
	fw_plan_print(f, p, &plan);
	fclose(f);
	r = (int)plan.n;
	fw_plan_clear(&plan);
	*ret = buf;
	return r;
}
