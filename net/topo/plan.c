/* SPDX-License-Identifier: MIT */
/* From a range description to the plan of what one host builds. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/socket.h>

#include "cyris/fw.h"
#include "cyris/plan.h"
#include "../base/conf-priv.h"
#include "../base/util.h"

/* Limits of one plan: a file of a few lines may ask for a million guests. */
#define PLAN_GUESTS_MAX 16384
#define PLAN_NETS_MAX 16384
#define PLAN_RULES_MAX 8192

/* A site's networks and guests by name, and each guest's NICs: so that a
 * site of thousands costs n log n to plan, not n squared. */
struct name_ref {
	const char *name;
	size_t i;
};

struct site_nic {
	size_t net;                        /* index in the site's nets */
	const struct cyris_range_member *m;
	bool gateway;
};

struct site_index {
	const struct cyris_range_site *s;
	struct name_ref *nets, *guests;    /* sorted by name */
	size_t *first;                     /* guest entry -> its first clone in an instance */
	struct site_nic *nics;             /* grouped by guest entry, in file order */
	size_t *nic_start;                 /* guest entry -> its first NIC in nics */
};

struct pctx {
	const struct cyris_range *r;
	const struct cyris_conf *conf;
	const struct cyris_plan_opts *o;
	struct cyris_plan *p;
	struct cyris_error *err;
	struct site_index *x;              /* the site being planned */
};

static int fail(struct pctx *c, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct pctx *c, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cyris_error_setv(c->err, r, fmt, ap);
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

/* The plan's own subnets come in increasing order, one block each, so a
 * candidate can only meet a prefix in use on the host. */
static bool taken(struct pctx *c, const struct cyris_prefix *cand)
{
	size_t i;

	for (i = 0; i < c->o->n_used; i++)
		if (c->o->used[i].ip.family == AF_INET && cyris_prefix_overlap(&c->o->used[i], cand))
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
			if (!taken(c, &cand))
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

static int name_ref_cmp(const void *a, const void *b)
{
	const struct name_ref *x = a, *y = b;
	int r = strcmp(x->name, y->name);

	return r ? r : x->i < y->i ? -1 : x->i > y->i;
}

static const struct name_ref *name_find(const struct name_ref *v, size_t n, const char *name)
{
	_Static_assert(offsetof(struct name_ref, name) == 0, "the key comes first (cyris_find_sorted)");
	return cyris_find_sorted(v, n, sizeof(*v), name);
}

static void site_index_free(struct site_index *x)
{
	if (!x)
		return;
	free(x->nets);
	free(x->guests);
	free(x->first);
	free(x->nics);
	free(x->nic_start);
	free(x);
}

static int guest_entry(const struct site_index *x, const char *guest)
{
	const struct name_ref *f = name_find(x->guests, x->s->n_guests, guest);

	return f ? (int)f->i : -1;
}

static int site_index_new(const struct cyris_range_site *s, struct site_index **ret)
{
	struct site_index *x = calloc(1, sizeof(*x));
	size_t i, j, n = 0, *fill;

	if (!x)
		return -ENOMEM;
	x->s = s;
	for (i = 0; i < s->n_nets; i++)
		n += s->nets[i].n_members + s->nets[i].has_gateway;
	x->nets = calloc(s->n_nets + 1, sizeof(*x->nets));
	x->guests = calloc(s->n_guests + 1, sizeof(*x->guests));
	x->first = calloc(s->n_guests + 1, sizeof(*x->first));
	x->nics = calloc(n + 1, sizeof(*x->nics));
	x->nic_start = calloc(s->n_guests + 2, sizeof(*x->nic_start));
	if (!x->nets || !x->guests || !x->first || !x->nics || !x->nic_start) {
		site_index_free(x);
		return -ENOMEM;
	}
	for (i = 0; i < s->n_nets; i++)
		x->nets[i] = (struct name_ref){ s->nets[i].name, i };
	qsort(x->nets, s->n_nets, sizeof(*x->nets), name_ref_cmp);
	for (i = 0; i < s->n_guests; i++) {
		x->guests[i] = (struct name_ref){ s->guests[i].guest_id, i };
		x->first[i + 1] = x->first[i] + s->guests[i].number;
	}
	qsort(x->guests, s->n_guests, sizeof(*x->guests), name_ref_cmp);
	/* count each guest's NICs, then lay them out in file order */
	for (i = 0; i < s->n_nets; i++)
		for (j = 0; j <= s->nets[i].n_members; j++) {
			const struct cyris_range_member *m = j < s->nets[i].n_members ? &s->nets[i].members[j]
					: s->nets[i].has_gateway ? &s->nets[i].gateway : NULL;
			int e = m ? guest_entry(x, m->guest) : -1;

			if (e >= 0)
				x->nic_start[e + 2]++;
		}
	for (i = 2; i < s->n_guests + 2; i++)
		x->nic_start[i] += x->nic_start[i - 1];
	fill = x->nic_start + 1;
	for (i = 0; i < s->n_nets; i++)
		for (j = 0; j <= s->nets[i].n_members; j++) {
			const struct cyris_range_member *m = j < s->nets[i].n_members ? &s->nets[i].members[j]
					: s->nets[i].has_gateway ? &s->nets[i].gateway : NULL;
			int e = m ? guest_entry(x, m->guest) : -1;

			if (e >= 0)
				x->nics[fill[e]++] = (struct site_nic){ i, m, j == s->nets[i].n_members };
		}
	*ret = x;
	return 0;
}

static int net_index(struct pctx *c, size_t base, size_t n_nets, const char *name)
{
	const struct name_ref *f;
	size_t i;

	if (c->x && c->x->s->n_nets == n_nets) {
		f = name_find(c->x->nets, n_nets, name);
		return f ? (int)(base + f->i) : -1;
	}
	for (i = base; i < base + n_nets; i++)
		if (streq(c->p->nets[i].name, name))
			return (int)i;
	return -1;
}

/* The clones of guest @guest in an instance: [*lo, *hi) from its first guest. */
static void clones_of(struct pctx *c, const char *guest, size_t *lo, size_t *hi)
{
	int e = c->x ? guest_entry(c->x, guest) : -1;

	*lo = e < 0 ? 0 : c->x->first[e];
	*hi = e < 0 ? 0 : c->x->first[e] + c->x->s->guests[e].number;
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
			return fail(c, -EINVAL, "%s:%u:%u: cannot name network %s", c->r->file,
				    s->nets[i].mark.line, s->nets[i].mark.column, n->name);
	}
	return 0;
}

/* Add clone @k of guest @g with its NICs on this instance's networks. */
static int add_guest(struct pctx *c, const struct cyris_range_site *s, size_t net_base,
		     const struct cyris_range_clone *g, const struct cyris_range_guestdef *def,
		     unsigned inst, unsigned k)
{
	size_t e = (size_t)(g - s->guests);
	struct cyris_plan_guest *pg = cyris_grow((void **)&c->p->guests, &c->p->n_guests,
						 &c->p->cap_guests, sizeof(*pg));
	bool multi = c->o->host && *c->o->host && s->n_hosts > 1;
	/* with --host, the clones of a guest take turns over the site's hosts */
	const char *host = !s->n_hosts ? "" : multi ? s->hosts[(k - 1) % s->n_hosts] : s->hosts[0];
	size_t i;

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
	pg->def = def;
	for (i = c->x->nic_start[e]; i < c->x->nic_start[e + 1]; i++) {
		const struct site_nic *sn = &c->x->nics[i];
		struct cyris_plan_nic *nic;

		if (pg->n_nics >= CYRIS_PLAN_MAX_NICS)
			return fail(c, -E2BIG, "%s:%u:%u: guest %s has more than %d NICs", c->r->file,
				    sn->m->mark.line, sn->m->mark.column, g->guest_id, CYRIS_PLAN_MAX_NICS);
		nic = &pg->nics[pg->n_nics++];
		snprintf(nic->nic, sizeof(nic->nic), "%s", sn->m->nic);
		nic->net = (int)(net_base + sn->net);
		if (sn->gateway)
			pg->gateway = true;
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
					return fail(c, -ENOSPC, "%s:%u:%u: network %s has more members than a /%u holds",
						    c->r->file, rn->mark.line, rn->mark.column, n->name, n->subnet.len);
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

static int span_error(struct pctx *c, const struct cyris_range_site *s, size_t net, size_t n_on)
{
	const struct cyris_range_net *rn = &s->nets[net];

	return fail(c, -E2BIG, "%s:%u:%u: network %s spans %zu hosts: its VXLAN reaches at most %zu others",
		    c->r->file, rn->mark.line, rn->mark.column, rn->name, n_on,
		    ARRAY_SIZE(((struct cyris_plan_net *)NULL)->remotes));
}

/* What --host would need of network @net of @s on any of its hosts: clone k
 * of a guest goes to host (k - 1) mod H, so the network spans the first
 * max(min(number, H)) hosts; each needs an address to carry it. */
static int check_span(struct pctx *c, const struct cyris_range_site *s, size_t net)
{
	const struct cyris_range_net *rn = &s->nets[net];
	struct cyris_ip ip;
	size_t n_on = rn->has_gateway ? 1 : 0, i, h;
	int r;

	if (s->n_hosts < 2)
		return 0;
	for (i = 0; i < rn->n_members; i++) {
		int e = guest_entry(c->x, rn->members[i].guest);
		size_t k = e < 0 ? 1 : s->guests[e].number;

		if (k > n_on)
			n_on = k < s->n_hosts ? k : s->n_hosts;
	}
	if (n_on > ARRAY_SIZE(((struct cyris_plan_net *)NULL)->remotes) + 1)
		return span_error(c, s, net, n_on);
	for (h = 0; n_on > 1 && h < n_on; h++)
		if ((r = parse_mgmt(c, s->hosts[h], &ip)) < 0)
			return r;
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
			if (c->o->check && (r = check_span(c, s, i - net_base)) < 0)
				return r;
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
			if (!on[h] || streq(s->hosts[h], c->o->host))
				continue;
			if (n->n_remotes >= ARRAY_SIZE(n->remotes))
				return span_error(c, s, i - net_base, n_on);
			if ((r = parse_mgmt(c, s->hosts[h], &n->remotes[n->n_remotes++])) < 0)
				return r;
		}
	}
	return 0;
}

/* ---- rules ----------------------------------------------------------------- */

/* Has a clone of guest @guest a NIC on network @ni? */
static bool member_on(struct pctx *c, const char *guest, size_t guest_base, size_t guest_end, int ni)
{
	size_t lo, hi, i, j;

	clones_of(c, guest, &lo, &hi);
	for (i = guest_base + lo; i < guest_base + hi && i < guest_end; i++)
		for (j = 0; streq(c->p->guests[i].guest_id, guest) && j < c->p->guests[i].n_nics; j++)
			if (c->p->guests[i].nics[j].net == ni)
				return true;
	return false;
}

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
	if (ni < 0 && dot) {
		/* NET.GUEST, where NET may hold dots too: the reading whose
		 * guest is on that network (check refuses a name with two) */
		const char *first = dot;

		for (; dot && (size_t)(dot - e->name) <= CYRIS_ID_MAX; dot = strchr(dot + 1, '.')) {
			memcpy(net, e->name, (size_t)(dot - e->name));
			net[dot - e->name] = '\0';
			if ((ni = net_index(c, net_base, n_nets, net)) >= 0 &&
			    member_on(c, dot + 1, guest_base, guest_end, ni))
				break;
			ni = -1;
		}
		if (ni < 0 && (size_t)(first - e->name) <= CYRIS_ID_MAX) {
			dot = first;
			memcpy(net, e->name, (size_t)(dot - e->name));
			net[dot - e->name] = '\0';
			ni = net_index(c, net_base, n_nets, net);
		}
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
	size_t lo, hi;

	clones_of(c, dot + 1, &lo, &hi);
	for (i = guest_base + lo; i < guest_base + hi && i < guest_end; i++) {
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

			if (cyris_fw_rule_parse(ru->text, &fr, NULL) < 0)
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
	if (cyris_fw_rule_parse(text, &pr->fw, NULL) < 0)
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

/* ---- the gateways' uplinks ------------------------------------------------- */

/*
 * Each bridge gets a MAC the plan fixes (a bridge whose MAC the kernel
 * chose follows its ports' MACs as they come and go), so that a gateway
 * guest's table can name it before the bridge exists (plan --emit fw
 * --gateway) and it stays what that table says. The host's name goes into
 * it: the bridges of one network on several hosts share a segment.
 */
static void add_uplinks(struct pctx *c)
{
	char who[CYRIS_ID_MAX + 8];
	size_t i, j;

	snprintf(who, sizeof(who), "host:%s", c->p->host);
	for (i = 0; i < c->p->n_nets; i++)
		cyris_plan_mac(c->p->range, c->p->nets[i].instance, who, 0, c->p->nets[i].name,
			       c->p->nets[i].mac);
	for (i = 0; i < c->p->n_guests; i++) {
		struct cyris_plan_guest *g = &c->p->guests[i];
		const struct cyris_plan_nic *nic = g->n_nics ? &g->nics[0] : NULL;
		const struct cyris_plan_net *n = nic ? &c->p->nets[nic->net] : NULL;
		struct cyris_ip via;

		/* the default route's NIC and next hop, as guest_spec() and
		 * emit bridge set them */
		if (!g->gateway || !g->local || !n || !n->gateway.family)
			continue;
		via = cyris_ip_equal(&nic->addr.ip, &n->gateway) ? n->host_addr.ip : n->gateway;
		if (cyris_ip_equal(&via, &n->host_addr.ip)) {
			memcpy(g->uplink_mac, n->mac, 6);
		} else if (n->gw_guest >= 0) {
			const struct cyris_plan_guest *o = &c->p->guests[n->gw_guest];

			for (j = 0; j < o->n_nics && !cyris_ip_equal(&o->nics[j].addr.ip, &via); j++)
				;
			if (j == o->n_nics)
				continue;
			memcpy(g->uplink_mac, o->nics[j].mac, 6);
		} else {
			continue;
		}
		snprintf(g->uplink, sizeof(g->uplink), "%s", nic->nic);
	}
}

/* ---- the plan -------------------------------------------------------------- */

static int plan_site(struct pctx *c, const struct cyris_range_site *s)
{
	_cleanup_free_ const struct cyris_range_guestdef **defs = calloc(s->n_guests + 1, sizeof(*defs));
	unsigned inst;
	size_t i;
	int r = 0;

	if (!defs)
		return -ENOMEM;
	for (i = 0; i < s->n_guests; i++)
		defs[i] = cyris_range_guestdef(c->r, s->guests[i].guest_id);
	for (inst = 1; r == 0 && inst <= s->instances; inst++) {
		size_t net_base = c->p->n_nets;

		if (c->o->instance && inst != c->o->instance)
			continue;
		if ((r = add_nets(c, s, inst)) < 0)
			break;
		for (i = 0; r == 0 && i < s->n_guests; i++)
			for (unsigned k = 1; r == 0 && k <= s->guests[i].number; k++)
				r = add_guest(c, s, net_base, &s->guests[i], defs[i], inst, k);
	}
	return r;
}

/* Run @fn for site @s with its index at hand. */
static int with_index(struct pctx *c, const struct cyris_range_site *s, int (*fn)(struct pctx *,
		      const struct cyris_range_site *, size_t *, size_t *), size_t *nb, size_t *gb)
{
	int r = site_index_new(s, &c->x);

	if (r < 0)
		return r;
	r = fn(c, s, nb, gb);
	site_index_free(c->x);
	c->x = NULL;
	return r;
}

static int plan_site_fn(struct pctx *c, const struct cyris_range_site *s, size_t *nb, size_t *gb)
{
	(void)nb;
	(void)gb;
	return plan_site(c, s);
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

/* Before anything is allocated: does the plan fit the pool and the limits? */
static int check_size(struct pctx *c)
{
	const struct cyris_prefix *pool = &c->conf->subnet_pool;
	unsigned size = c->conf->subnet_size;
	uint64_t blocks = size < pool->len ? 0 : 1u << (size - pool->len > 24 ? 24 : size - pool->len);
	uint64_t nets = 0, guests = 0, rules = 0;
	size_t i, j;

	for (i = 0; i < c->r->n_sites; i++) {
		const struct cyris_range_site *s = &c->r->sites[i];
		uint64_t inst = c->o->instance ? 1 : s->instances, per_guests = 0, per_rules = 0;

		for (j = 0; j < s->n_guests; j++) {
			per_guests += s->guests[j].number;
			per_rules += s->guests[j].n_rules + (s->guests[j].entry_point ? s->guests[j].number : 0);
		}
		if (size >= pool->len && s->n_nets && nets + inst * s->n_nets > blocks) {
			const struct cyris_range_net *n = &s->nets[(blocks - nets) % s->n_nets];
			char b[CYRIS_PREFIXSTRLEN];

			return fail(c, -ENOSPC, "%s:%u:%u: subnet_pool %s has no free /%u left for network %s "
				    "(instance %u)", c->r->file, n->mark.line, n->mark.column,
				    cyris_prefix_format(pool, b, sizeof(b)), size, n->name,
				    (unsigned)((blocks - nets) / s->n_nets + 1));
		}
		nets += inst * s->n_nets;
		guests += inst * per_guests;
		rules += inst * per_rules;
		if (nets > PLAN_NETS_MAX || guests > PLAN_GUESTS_MAX || rules > PLAN_RULES_MAX)
			return fail(c, -E2BIG, "%s:%u:%u: the range plans more than %d %s (clones and "
				    "instances counted)", c->r->file, s->mark.line, s->mark.column,
				    nets > PLAN_NETS_MAX ? PLAN_NETS_MAX : guests > PLAN_GUESTS_MAX ? PLAN_GUESTS_MAX
				    : PLAN_RULES_MAX, nets > PLAN_NETS_MAX ? "networks" : guests > PLAN_GUESTS_MAX
				    ? "guests" : "forwarding rules");
	}
	/* the arrays at their final size: no doubling on the way (whose
	 * old and new copies would be alive together) */
	if ((nets && !(c->p->nets = calloc(nets, sizeof(*c->p->nets)))) ||
	    (guests && !(c->p->guests = calloc(guests, sizeof(*c->p->guests)))) ||
	    (rules && !(c->p->rules = calloc(rules, sizeof(*c->p->rules)))))
		return -ENOMEM;
	c->p->cap_nets = nets;
	c->p->cap_guests = guests;
	c->p->cap_rules = rules;
	return 0;
}

/* Two objects the plan names alike in one kernel namespace: the 15-byte
 * kernel names are hashes of longer ids, and up would fail half way on
 * the second with "File exists". Refused here, so that check says it. */
struct kname {
	const char *name;
	char what[CYRIS_ID_MAX * 2 + 48];
};

static int cmp_kname(const void *a, const void *b)
{
	return strcmp(((const struct kname *)a)->name, ((const struct kname *)b)->name);
}

static int check_names(struct pctx *c)
{
	const struct cyris_plan *p = c->p;
	_cleanup_free_ struct kname *v = NULL;
	size_t i, j, n = 0, cap = p->n_nets * 2 + p->n_guests * (CYRIS_PLAN_MAX_NICS + 1);

	if (!cap)
		return 0;
	if (!(v = calloc(cap, sizeof(*v))))
		return -ENOMEM;
	for (i = 0; i < p->n_nets; i++) {
		v[n].name = p->nets[i].bridge;
		snprintf(v[n++].what, sizeof(v[0].what), "the bridge of network %s (instance %u)",
			 p->nets[i].name, p->nets[i].instance);
		if (p->nets[i].vni) {
			v[n].name = p->nets[i].vxlan;
			snprintf(v[n++].what, sizeof(v[0].what), "the vxlan of network %s (instance %u)",
				 p->nets[i].name, p->nets[i].instance);
		}
	}
	for (i = 0; i < p->n_guests; i++)
		for (j = 0; j < p->guests[i].n_nics; j++) {
			if (!p->guests[i].nics[j].host_ifname[0])
				continue;
			v[n].name = p->guests[i].nics[j].host_ifname;
			snprintf(v[n++].what, sizeof(v[0].what), "the link of %s %s (instance %u)",
				 p->guests[i].tag_guest, p->guests[i].nics[j].nic, p->guests[i].instance);
		}
	qsort(v, n, sizeof(*v), cmp_kname);
	for (i = 1; i < n; i++)
		if (v[i].name[0] && streq(v[i].name, v[i - 1].name))
			return fail(c, -EEXIST, "%s: %s and %s would both be named %s (kernel names are "
				    "%d bytes, derived from the ids): rename one of them", c->r->file,
				    v[i - 1].what, v[i].what, v[i].name, CYRIS_IFNAMSIZ - 1);
	return 0;
}

int cyris_plan_build(const struct cyris_range *r, const struct cyris_conf *conf,
		     const struct cyris_plan_opts *o, struct cyris_plan **ret,
		     struct cyris_error *err)
{
	static const struct cyris_plan_opts none = {0};
	struct cyris_plan *p = calloc(1, sizeof(*p));
	struct pctx c = { .r = r, .conf = conf, .o = o ? o : &none, .p = p, .err = err };
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
	if (rc == 0)
		rc = check_size(&c);
	for (i = 0; rc == 0 && i < r->n_sites; i++) {
		if (c.o->instance && c.o->instance > r->sites[i].instances)
			rc = fail(&c, -EINVAL, "%s: range %s has %u instance(s), not %u", r->file, r->id,
				  r->sites[i].instances, c.o->instance);
		if (rc == 0)
			rc = with_index(&c, &r->sites[i], plan_site_fn, NULL, NULL);
		p->instances = r->sites[i].instances > p->instances ? r->sites[i].instances : p->instances;
	}
	if (rc == 0)
		rc = allocate_subnets(&c);
	for (i = 0; rc == 0 && i < r->n_sites; i++)
		rc = with_index(&c, &r->sites[i], finish_site, &nb, &gb);
	if (rc == 0)
		rc = add_exposes(&c);
	if (rc == 0)
		add_uplinks(&c);
	if (rc == 0)
		rc = check_names(&c);
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
