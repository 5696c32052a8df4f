/* SPDX-License-Identifier: MIT */
/* From a range description to the plan of what one host builds. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <sys/socket.h>

#include "cyris/fw.h"
#include "cyris/plan.h"
#include "util.h"

struct pctx {
	const struct cyris_range *r;
	const struct cyris_conf *conf;
	const struct cyris_plan_opts *o;
	struct cyris_plan *p;
	char *err;
	size_t errlen;
};

static int fail(struct pctx *c, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct pctx *c, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	r = cyris_verrf(c->err, c->errlen, r, fmt, ap);
	va_end(ap);
	return r;
}

static uint64_t fnv(uint64_t h, const char *s)
{
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	h ^= 0x1f;
	return h * 0x100000001b3ULL;
}

void cyris_plan_mac(const char *range, unsigned instance, const char *guest,
		    unsigned index, const char *nic, uint8_t ret[6])
{
	char num[32];
	uint64_t h = fnv(0xcbf29ce484222325ULL, "mac");
	int i;

	snprintf(num, sizeof(num), "%u/%u", instance, index);
	h = fnv(fnv(fnv(fnv(h, range), num), guest), nic);
	/* a finalizer: FNV's low bytes barely move for a last-character change */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	ret[0] = 0x02;               /* locally administered, unicast */
	for (i = 1; i < 6; i++, h >>= 8)
		ret[i] = (uint8_t)h;
}

static uint32_t vni_of(const char *range, unsigned instance, const char *net)
{
	char num[16];
	uint64_t h;

	snprintf(num, sizeof(num), "%u", instance);
	h = fnv(fnv(fnv(fnv(0xcbf29ce484222325ULL, "vni"), range), num), net);
	return 1 + (uint32_t)((h ^ (h >> 32)) % 0xfffffeu);
}

/* The @n-th address of @net (host order arithmetic on IPv4). */
static struct cyris_prefix nth(const struct cyris_prefix *net, uint32_t n)
{
	struct cyris_prefix p = *net;
	uint32_t a;

	memcpy(&a, net->ip.a, 4);
	a = htonl(ntohl(a) + n);
	memcpy(p.ip.a, &a, 4);
	return p;
}

static uint32_t block_size(unsigned len)
{
	return len >= 32 ? 1 : 1u << (32 - len);
}

/* ---- subnets -------------------------------------------------------------- */

static bool taken(struct pctx *c, const struct cyris_prefix *cand, size_t upto)
{
	size_t i;

	for (i = 0; i < c->o->n_used; i++)
		if (c->o->used[i].ip.family == AF_INET && cyris_prefix_overlap(&c->o->used[i], cand))
			return true;
	for (i = 0; i < upto; i++)
		if (cyris_prefix_overlap(&c->p->nets[i].subnet, cand))
			return true;
	return false;
}

static int allocate_subnets(struct pctx *c)
{
	const struct cyris_prefix *pool = &c->conf->subnet_pool;
	unsigned size = c->conf->subnet_size;
	uint32_t blocks, next = 0, i;

	if (size < pool->len)
		return fail(c, -EINVAL, "subnet_size /%u is larger than subnet_pool /%u", size, pool->len);
	blocks = 1u << (size - pool->len > 24 ? 24 : size - pool->len);
	for (i = 0; i < c->p->n_nets; i++) {
		struct cyris_prefix cand;

		for (;; next++) {
			if (next >= blocks) {
				char b[CYRIS_PREFIXSTRLEN];

				return fail(c, -ENOSPC, "subnet_pool %s has no free /%u left for network %s "
					    "(instance %u)", cyris_prefix_format(pool, b, sizeof(b)), size,
					    c->p->nets[i].name, c->p->nets[i].instance);
			}
			cand = nth(pool, next * block_size(size));
			cand.len = (uint8_t)size;
			if (!taken(c, &cand, i))
				break;
		}
		c->p->nets[i].subnet = cand;
		next++;
	}
	return 0;
}

/* ---- guests and networks -------------------------------------------------- */

static bool site_has_host(const struct cyris_range_site *s, const char *host)
{
	size_t i;

	for (i = 0; i < s->n_hosts; i++)
		if (streq(s->hosts[i], host))
			return true;
	return false;
}

static int net_index(struct pctx *c, size_t base, size_t n_nets, const char *name)
{
	size_t i;

	for (i = base; i < base + n_nets; i++)
		if (streq(c->p->nets[i].name, name))
			return (int)i;
	return -1;
}

static int add_nets(struct pctx *c, const struct cyris_range_site *s, unsigned inst)
{
	size_t i;

	for (i = 0; i < s->n_nets; i++) {
		struct cyris_plan_net *n = cyris_grow((void **)&c->p->nets, &c->p->n_nets,
						      &c->p->cap_nets, sizeof(*n));
		if (!n)
			return -ENOMEM;
		snprintf(n->name, sizeof(n->name), "%s", s->nets[i].name);
		n->instance = inst;
		n->gw_guest = -1;
		if (cyris_name_bridge_kind(c->p->ifname_kind, c->r->id, n->name, inst, n->bridge) < 0 ||
		    cyris_altname_bridge(c->r->id, n->name, inst, n->altname) < 0)
			return fail(c, -EINVAL, "cannot name network %s", n->name);
	}
	return 0;
}

/* Add clone @k of guest @g with its NICs on this instance's networks. */
static int add_guest(struct pctx *c, const struct cyris_range_site *s, size_t net_base,
		     const struct cyris_range_clone *g, unsigned inst, unsigned k)
{
	struct cyris_plan_guest *pg = cyris_grow((void **)&c->p->guests, &c->p->n_guests,
						 &c->p->cap_guests, sizeof(*pg));
	bool multi = c->o->host && *c->o->host && s->n_hosts > 1;
	/* with --host, the clones of a guest take turns over the site's hosts */
	const char *host = !s->n_hosts ? "" : multi ? s->hosts[(k - 1) % s->n_hosts] : s->hosts[0];
	size_t i, j;

	if (!pg)
		return -ENOMEM;
	snprintf(pg->guest_id, sizeof(pg->guest_id), "%s", g->guest_id);
	pg->index = k;
	pg->instance = inst;
	if (snprintf(pg->tag_guest, sizeof(pg->tag_guest), "%s.%u", g->guest_id, k) >=
	    (int)sizeof(pg->tag_guest))
		return fail(c, -EINVAL, "guest id %s.%u is too long", g->guest_id, k);
	if (cyris_name_guest(c->r->id, inst, g->guest_id, k, pg->name, sizeof(pg->name)) < 0)
		return fail(c, -EINVAL, "guest %s.%u of range %s: its name does not fit in %zu bytes",
			    g->guest_id, k, c->r->id, sizeof(pg->name) - 1);
	snprintf(pg->host, sizeof(pg->host), "%s", host);
	pg->local = !c->o->host || !*c->o->host || streq(pg->host, c->o->host);
	pg->entry_point = g->entry_point;
	pg->def = cyris_range_guestdef(c->r, g->guest_id);
	for (i = 0; i < s->n_nets; i++) {
		const struct cyris_range_net *n = &s->nets[i];

		for (j = 0; j <= n->n_members; j++) {
			const struct cyris_range_member *m = j < n->n_members ? &n->members[j]
					: (n->has_gateway ? &n->gateway : NULL);
			struct cyris_plan_nic *nic;

			if (!m || !streq(m->guest, g->guest_id))
				continue;
			if (pg->n_nics >= CYRIS_PLAN_MAX_NICS)
				return fail(c, -E2BIG, "guest %s has more than %d NICs", g->guest_id,
					    CYRIS_PLAN_MAX_NICS);
			nic = &pg->nics[pg->n_nics++];
			snprintf(nic->nic, sizeof(nic->nic), "%s", m->nic);
			nic->net = net_index(c, net_base, s->n_nets, n->name);
			if (j == n->n_members)
				pg->gateway = true;
		}
	}
	return 0;
}

static int nic_cmp(const void *a, const void *b)
{
	const struct cyris_plan_nic *x = a, *y = b;
	unsigned long i, k;

	(void)cyris_parse_uint(x->nic + 3, 63, &i);
	(void)cyris_parse_uint(y->nic + 3, 63, &k);
	return (int)i - (int)k;
}

/* Gateways, addresses, MACs, host-side names — once subnets are known. */
static int address(struct pctx *c, const struct cyris_range_site *s, size_t net_base,
		   size_t guest_base, size_t guest_end, unsigned inst)
{
	_cleanup_free_ uint32_t *next = calloc(s->n_nets + 1, sizeof(*next));
	size_t i, j;

	if (!next)
		return -ENOMEM;
	for (i = 0; i < s->n_nets; i++) {
		struct cyris_plan_net *n = &c->p->nets[net_base + i];
		uint32_t size = block_size(n->subnet.len);

		if (size < 16)
			return fail(c, -EINVAL, "subnet_size /%u is too small for a network", n->subnet.len);
		n->gateway = nth(&n->subnet, 1).ip;
		n->host_addr = nth(&n->subnet, 1);
		n->host_routes = true;
		next[i] = 10;
	}
	for (i = guest_base; i < guest_end; i++) {
		struct cyris_plan_guest *g = &c->p->guests[i];

		qsort(g->nics, g->n_nics, sizeof(g->nics[0]), nic_cmp);
		for (j = 0; j < g->n_nics; j++) {
			struct cyris_plan_nic *nic = &g->nics[j];
			struct cyris_plan_net *n = &c->p->nets[nic->net];
			const struct cyris_range_net *rn = &s->nets[(size_t)nic->net - net_base];
			uint32_t size = block_size(n->subnet.len);
			char ki[16], kk[16];
			const char *parts[5] = { c->r->id, g->guest_id, ki, kk, nic->nic };

			if (rn->has_gateway && streq(rn->gateway.guest, g->guest_id) &&
			    streq(rn->gateway.nic, nic->nic)) {
				/* the gateway guest holds .1; the host keeps the last address */
				nic->addr = nth(&n->subnet, 1);
				n->gw_guest = (int)i;
				n->host_routes = false;
				n->host_addr = nth(&n->subnet, size - 2);
			} else {
				if (next[nic->net - (int)net_base] >= size - 2)
					return fail(c, -ENOSPC, "network %s has more members than a /%u holds",
						    n->name, n->subnet.len);
				nic->addr = nth(&n->subnet, next[nic->net - (int)net_base]++);
			}
			nic->addr.len = n->subnet.len;
			cyris_plan_mac(c->r->id, inst, g->guest_id, g->index, nic->nic, nic->mac);
			snprintf(ki, sizeof(ki), "%u", inst);
			snprintf(kk, sizeof(kk), "%u", g->index);
			if (cyris_name_derive('v', parts, 5, nic->host_ifname) < 0)
				return fail(c, -EINVAL, "cannot name the link of %s %s", g->tag_guest, nic->nic);
		}
	}
	return 0;
}

/* ---- several hosts: who builds what, VXLAN ------------------------------- */

static int parse_mgmt(struct pctx *c, const char *host, struct cyris_ip *ret)
{
	const struct cyris_range_host *h = cyris_range_host(c->r, host);

	if (!h || cyris_ip_parse(h->mgmt_addr, ret) < 0)
		return fail(c, -EINVAL, "%s:%u:%u: host %s: mgmt_addr '%s' must be an IP address to carry "
			    "a network across hosts", c->r->file, h ? h->mark.line : 0, h ? h->mark.column : 0,
			    host, h ? h->mgmt_addr : "");
	return 0;
}

static int spread(struct pctx *c, const struct cyris_range_site *s, size_t net_base,
		  size_t guest_base, size_t guest_end)
{
	bool multi = c->o->host && *c->o->host && s->n_hosts > 1;
	size_t i, j, h;
	int r;

	for (i = net_base; i < net_base + s->n_nets; i++) {
		struct cyris_plan_net *n = &c->p->nets[i];
		bool on[64] = { false };
		const char *gw_host = NULL;
		size_t n_on = 0, pos = 0;

		if (!multi) {
			n->local = !c->o->host || !*c->o->host || site_has_host(s, c->o->host);
			continue;
		}
		for (j = guest_base; j < guest_end; j++) {
			const struct cyris_plan_guest *g = &c->p->guests[j];

			for (size_t k = 0; k < g->n_nics; k++)
				for (h = 0; h < s->n_hosts && h < ARRAY_SIZE(on); h++)
					if (g->nics[k].net == (int)i && streq(g->host, s->hosts[h]))
						on[h] = true;
		}
		for (h = 0; h < s->n_hosts && h < ARRAY_SIZE(on); h++) {
			if (!on[h])
				continue;
			n_on++;
			if (!gw_host)
				gw_host = s->hosts[h];
			if (streq(s->hosts[h], c->o->host))
				pos = n_on;
		}
		n->local = pos > 0;
		/* the first host with members routes for it; the others keep
		 * other addresses on the same segment */
		if (n->gw_guest < 0)
			n->host_routes = gw_host && streq(gw_host, c->o->host);
		if (n->local && pos > 1)
			n->host_addr = nth(&n->subnet, block_size(n->subnet.len) - 1 - (uint32_t)pos);
		if (n_on < 2 || !n->local)
			continue;
		n->vni = vni_of(c->r->id, n->instance, n->name);
		{
			const char *parts[3] = { c->r->id, n->name, NULL };
			char num[16];

			snprintf(num, sizeof(num), "%u", n->instance);
			parts[2] = num;
			(void)cyris_name_derive('x', parts, 3, n->vxlan);
		}
		if ((r = parse_mgmt(c, c->o->host, &n->local_ip)) < 0)
			return r;
		for (h = 0; h < s->n_hosts && h < ARRAY_SIZE(on); h++) {
			if (!on[h] || streq(s->hosts[h], c->o->host) || n->n_remotes >= ARRAY_SIZE(n->remotes))
				continue;
			if ((r = parse_mgmt(c, s->hosts[h], &n->remotes[n->n_remotes++])) < 0)
				return r;
		}
	}
	return 0;
}

/* ---- rules ----------------------------------------------------------------- */

/* Replace endpoint @e (a network name, or NET.GUEST) with the addresses it
 * means in this instance; note which gateway enforces it. */
static int resolve_endpoint(struct pctx *c, const struct cyris_range_rule *ru, size_t net_base,
			    size_t n_nets, size_t guest_base, size_t guest_end, struct cyris_fw_endpoint *out,
			    size_t *n_out, const struct cyris_fw_endpoint *e, int *at)
{
	char net[CYRIS_ID_MAX + 1];
	const char *dot = strchr(e->name, '.');
	int ni, gw;
	size_t i, j;

	if (*n_out >= CYRIS_FW_MAX_LIST)
		return fail(c, -E2BIG, "%s:%u:%u: rule '%s': more than %d addresses", c->r->file,
			    ru->mark.line, ru->mark.column, ru->text, CYRIS_FW_MAX_LIST);
	if (e->is_prefix || e->is_host) {
		out[(*n_out)++] = *e;
		return 0;
	}
	ni = net_index(c, net_base, n_nets, e->name);
	if (ni < 0 && dot && (size_t)(dot - e->name) <= CYRIS_ID_MAX) {
		memcpy(net, e->name, (size_t)(dot - e->name));
		net[dot - e->name] = '\0';
		ni = net_index(c, net_base, n_nets, net);
	} else {
		dot = NULL;
	}
	if (ni < 0)
		return fail(c, -EINVAL, "%s:%u:%u: rule '%s': cannot resolve '%s'", c->r->file,
			    ru->mark.line, ru->mark.column, ru->text, e->name);
	gw = c->p->nets[ni].gw_guest;
	if (*at == -2)
		*at = gw;
	else if (*at != gw)
		return fail(c, -EINVAL, "%s:%u:%u: rule '%s': its networks have different gateways, so no "
			    "single place sees that traffic", c->r->file, ru->mark.line, ru->mark.column,
			    ru->text);
	if (!dot) {
		struct cyris_fw_endpoint x = { .is_prefix = true, .prefix = c->p->nets[ni].subnet };

		cyris_prefix_format(&x.prefix, x.name, sizeof(x.name));
		out[(*n_out)++] = x;
		return 0;
	}
	for (i = guest_base; i < guest_end; i++) {
		const struct cyris_plan_guest *g = &c->p->guests[i];

		if (!streq(g->guest_id, dot + 1))
			continue;
		for (j = 0; j < g->n_nics; j++) {
			struct cyris_fw_endpoint x = { .is_prefix = true };

			if (g->nics[j].net != ni)
				continue;
			if (*n_out >= CYRIS_FW_MAX_LIST)
				return fail(c, -E2BIG, "%s:%u:%u: rule '%s': more than %d addresses",
					    c->r->file, ru->mark.line, ru->mark.column, ru->text, CYRIS_FW_MAX_LIST);
			x.prefix = g->nics[j].addr;
			x.prefix.len = 32;
			cyris_ip_format(&x.prefix.ip, x.name, sizeof(x.name));
			out[(*n_out)++] = x;
		}
	}
	return 0;
}

static int add_rules(struct pctx *c, const struct cyris_range_site *s, size_t net_base,
		     size_t guest_base, size_t guest_end, unsigned inst)
{
	size_t i, j, k;
	int r;

	for (i = 0; i < s->n_guests; i++) {
		for (j = 0; j < s->guests[i].n_rules; j++) {
			const struct cyris_range_rule *ru = &s->guests[i].rules[j];
			struct cyris_fw_rule fr;
			struct cyris_fw_endpoint src[CYRIS_FW_MAX_LIST], dst[CYRIS_FW_MAX_LIST];
			size_t ns = 0, nd = 0;
			struct cyris_plan_rule *pr;
			int at = -2;

			if (cyris_fw_rule_parse(ru->text, &fr, NULL, 0) < 0)
				return fail(c, -EINVAL, "%s:%u:%u: rule '%s' does not parse", c->r->file,
					    ru->mark.line, ru->mark.column, ru->text);
			for (k = 0; k < fr.n_src; k++)
				if ((r = resolve_endpoint(c, ru, net_base, s->n_nets, guest_base,
							  guest_end, src, &ns, &fr.src[k], &at)) < 0)
					return r;
			for (k = 0; k < fr.n_dst; k++)
				if ((r = resolve_endpoint(c, ru, net_base, s->n_nets, guest_base,
							  guest_end, dst, &nd, &fr.dst[k], &at)) < 0)
					return r;
			memcpy(fr.src, src, sizeof(src[0]) * ns);
			memcpy(fr.dst, dst, sizeof(dst[0]) * nd);
			fr.n_src = ns;
			fr.n_dst = nd;
			/* a text too long for a kernel comment is fine: the
			 * rule travels as data */
			if (cyris_fw_rule_format(&fr) == -ENOMEM)
				return -ENOMEM;
			fr.line = ru->mark.line;
			pr = cyris_grow((void **)&c->p->rules, &c->p->n_rules, &c->p->cap_rules, sizeof(*pr));
			if (!pr)
				return -ENOMEM;
			pr->instance = inst;
			pr->at = at == -2 ? -1 : at;
			pr->fw = fr;
			snprintf(pr->orig, sizeof(pr->orig), "%s", ru->text);
			pr->mark = ru->mark;
		}
	}
	return 0;
}

/* ---- entry points ---------------------------------------------------------- */

static bool port_used(struct pctx *c, uint16_t port)
{
	size_t i;

	for (i = 0; i < c->o->n_used_ports; i++)
		if (c->o->used_ports[i] == port)
			return true;
	for (i = 0; i < c->p->n_exposes; i++)
		if (c->p->exposes[i].host_port == port)
			return true;
	return false;
}

/* An entry point that is itself a gateway guest filters its own input: let
 * the DNATed connections in (they keep their clients' source addresses). */
static int gateway_entry_rule(struct pctx *c, size_t gi, const struct cyris_plan_expose *e)
{
	const struct cyris_plan_guest *g = &c->p->guests[gi];
	struct cyris_plan_rule *pr;
	char text[64];

	if (!g->gateway)
		return 0;
	pr = cyris_grow((void **)&c->p->rules, &c->p->n_rules, &c->p->cap_rules, sizeof(*pr));
	if (!pr)
		return -ENOMEM;
	pr->instance = g->instance;
	pr->at = (int)gi;
	snprintf(text, sizeof(text), "dst=host dport=%u proto=tcp", e->port);
	if (cyris_fw_rule_parse(text, &pr->fw, NULL, 0) < 0)
		return -EINVAL;
	snprintf(pr->orig, sizeof(pr->orig), "entry_point: yes");
	return 0;
}

/*
 * Does the entry guest @gi answer through a gateway guest? Its default route
 * goes out of its first NIC (the one the host DNATs to) via that network's
 * gateway. When that is another guest, the reply to an outside client would
 * go to the gateway, which never saw the connection (the host DNATs straight
 * onto the network's bridge) and drops it. The host then also masquerades
 * the connection to its own address on that bridge: the guest answers the
 * host directly, on the link, and the host undoes both translations. Of the
 * ways to make the path symmetric this one works whatever the gateway is (a
 * namespace, or a VM cyris cannot put rules into) and adds no state or route
 * to it; the cost is that the guest sees the host's bridge address instead
 * of the client's. Where the host itself is the gateway, or the entry guest
 * is the gateway, the path is symmetric already and the client's address is
 * kept.
 */
static bool behind_gateway(struct pctx *c, size_t gi)
{
	const struct cyris_plan_guest *g = &c->p->guests[gi];
	int gw = c->p->nets[g->nics[0].net].gw_guest;

	return gw >= 0 && gw != (int)gi;
}

static int add_exposes(struct pctx *c)
{
	uint32_t port = CYRIS_ENTRY_PORT_BASE;
	size_t i;
	int r;

	for (i = 0; i < c->p->n_guests; i++) {
		const struct cyris_plan_guest *g = &c->p->guests[i];
		struct cyris_plan_expose *e;

		if (!g->entry_point || !g->local || !g->n_nics)
			continue;
		while (port <= 65535 && port_used(c, (uint16_t)port))
			port++;
		if (port > 65535)
			return fail(c, -ENOSPC, "no free host port for the entry point of %s", g->name);
		e = cyris_grow((void **)&c->p->exposes, &c->p->n_exposes, &c->p->cap_exposes, sizeof(*e));
		if (!e)
			return -ENOMEM;
		e->guest = (int)i;
		e->host_port = (uint16_t)port;
		e->port = 22;
		e->snat = behind_gateway(c, i);
		if ((r = gateway_entry_rule(c, i, e)) < 0)
			return r;
	}
	return 0;
}

/* ---- the plan -------------------------------------------------------------- */

static int plan_site(struct pctx *c, const struct cyris_range_site *s)
{
	unsigned inst;
	size_t i;
	int r;

	for (inst = 1; inst <= s->instances; inst++) {
		size_t net_base = c->p->n_nets;

		if (c->o->instance && inst != c->o->instance)
			continue;
		if ((r = add_nets(c, s, inst)) < 0)
			return r;
		for (i = 0; i < s->n_guests; i++)
			for (unsigned k = 1; k <= s->guests[i].number; k++)
				if ((r = add_guest(c, s, net_base, &s->guests[i], inst, k)) < 0)
					return r;
	}
	return 0;
}

static int finish_site(struct pctx *c, const struct cyris_range_site *s, size_t *net_base,
		       size_t *guest_base)
{
	unsigned inst;
	int r;

	for (inst = 1; inst <= s->instances; inst++) {
		size_t gcount = 0, i;

		if (c->o->instance && inst != c->o->instance)
			continue;
		for (i = 0; i < s->n_guests; i++)
			gcount += s->guests[i].number;
		if ((r = address(c, s, *net_base, *guest_base, *guest_base + gcount, inst)) < 0 ||
		    (r = spread(c, s, *net_base, *guest_base, *guest_base + gcount)) < 0 ||
		    (r = add_rules(c, s, *net_base, *guest_base, *guest_base + gcount, inst)) < 0)
			return r;
		*net_base += s->n_nets;
		*guest_base += gcount;
	}
	return 0;
}

int cyris_plan_build(const struct cyris_range *r, const struct cyris_conf *conf,
		     const struct cyris_plan_opts *o, struct cyris_plan **ret,
		     char *err, size_t errlen)
{
	static const struct cyris_plan_opts none = {0};
	struct cyris_plan *p = calloc(1, sizeof(*p));
	struct pctx c = { .r = r, .conf = conf, .o = o ? o : &none, .p = p, .err = err, .errlen = errlen };
	size_t i, nb = 0, gb = 0;
	bool has_host = false;
	int rc = 0;

	if (!p)
		return -ENOMEM;
	snprintf(p->range, sizeof(p->range), "%s", r->id);
	p->ifname_kind = conf->ifname_prefix[0] ? conf->ifname_prefix[0] : 'c';
	if (c.o->host && *c.o->host) {
		snprintf(p->host, sizeof(p->host), "%s", c.o->host);
		if (!cyris_range_host(r, c.o->host))
			rc = fail(&c, -EINVAL, "%s: host '%s' is not in host_settings", r->file, c.o->host);
		for (i = 0; i < r->n_sites; i++)
			has_host |= site_has_host(&r->sites[i], c.o->host);
		if (rc == 0 && !has_host)
			rc = fail(&c, -EINVAL, "%s: host '%s' has no share of range %s", r->file, c.o->host, r->id);
	}
	for (i = 0; rc == 0 && i < r->n_sites; i++) {
		if (c.o->instance && c.o->instance > r->sites[i].instances)
			rc = fail(&c, -EINVAL, "%s: range %s has %u instance(s), not %u", r->file, r->id,
				  r->sites[i].instances, c.o->instance);
		if (rc == 0)
			rc = plan_site(&c, &r->sites[i]);
		p->instances = r->sites[i].instances > p->instances ? r->sites[i].instances : p->instances;
	}
	if (rc == 0)
		rc = allocate_subnets(&c);
	for (i = 0; rc == 0 && i < r->n_sites; i++)
		rc = finish_site(&c, &r->sites[i], &nb, &gb);
	if (rc == 0)
		rc = add_exposes(&c);
	if (rc < 0) {
		cyris_plan_free(p);
		return rc;
	}
	*ret = p;
	return 0;
}

void cyris_plan_free(struct cyris_plan *p)
{
	if (!p)
		return;
	free(p->nets);
	free(p->guests);
	free(p->rules);
	free(p->exposes);
	free(p);
}
