/* SPDX-License-Identifier: MIT */
/*
 * CyRIS range files: a document built from libyaml's events (with limits),
 * then validation. Unknown keys are the layer above's (tasks, accounts,
 * packages) and are ignored.
 */
#include <ctype.h>
#include <sys/socket.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "cyris/fw.h"
#include "cyris/plan.h"
#include "cyris/range.h"
#include "../base/util.h"

struct ctx {
	yaml_document_t *doc;
	const char *file;
	struct cyris_error *err;
	struct cyris_range *r;
	/* the capacities of r's arrays: they live as long as the arrays, since
	 * a file may give host_settings or guest_settings more than once */
	size_t cap_hosts, cap_guestdefs, cap_sites;
};

static struct cyris_mark mark_of(const yaml_node_t *n)
{
	struct cyris_mark m = {0};

	if (n) {
		m.line = (unsigned)n->start_mark.line + 1;
		m.column = (unsigned)n->start_mark.column + 1;
	}
	return m;
}

static int fail_mark(struct ctx *c, struct cyris_mark m, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail_mark(struct ctx *c, struct cyris_mark m, const char *fmt, ...)
{
	va_list ap;

	cyris_error_set(c->err, -EINVAL, "%s:%u:%u: ", c->file, m.line, m.column);
	va_start(ap, fmt);
	cyris_error_appendv(c->err, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

#define fail(c, node, ...) fail_mark((c), mark_of(node), __VA_ARGS__)

static yaml_node_t *node(struct ctx *c, int id)
{
	return yaml_document_get_node(c->doc, id);
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* The value of @key in mapping @map, or NULL. */
static yaml_node_t *get(struct ctx *c, yaml_node_t *map, const char *key)
{
	yaml_node_pair_t *p;

	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		const char *k = scalar(node(c, p->key));

		if (k && streq(k, key))
			return node(c, p->value);
	}
	return NULL;
}

/* A scalar of @map into @dst; @required makes its absence an error. */
static int get_str(struct ctx *c, yaml_node_t *map, const char *key, char *dst,
		   size_t size, bool required)
{
	yaml_node_t *v = get(c, map, key);
	const char *s = scalar(v);

	dst[0] = '\0';
	if (!v) {
		if (required)
			return fail(c, map, "'%s' is missing", key);
		return 0;
	}
	if (!s)
		return fail(c, v, "'%s' must be a single value", key);
	if (strlen(s) >= size)
		return fail(c, v, "'%s' is too long (at most %zu bytes)", key, size - 1);
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

static int get_id(struct ctx *c, yaml_node_t *map, const char *key, char *dst, bool required)
{
	int r = get_str(c, map, key, dst, CYRIS_ID_MAX + 1, required);

	if (r == 0 && required && !dst[0])
		return fail(c, get(c, map, key), "'%s' is empty", key);
	if (r == 0 && dst[0] && !cyris_id_valid(dst))
		return fail(c, get(c, map, key), "'%s' is not a valid id (1-%d of A-Z a-z 0-9 _ . -, "
			    "not starting with - or .)", dst, CYRIS_ID_MAX);
	return r;
}

static int get_uint(struct ctx *c, yaml_node_t *map, const char *key, unsigned dflt,
		    unsigned min, unsigned max, unsigned *ret)
{
	yaml_node_t *v = get(c, map, key);
	unsigned long n;

	*ret = dflt;
	if (!v)
		return 0;
	if (!scalar(v) || cyris_parse_uint(scalar(v), max, &n) < 0 || n < min)
		return fail(c, v, "'%s' must be a number in %u..%u", key, min, max);
	*ret = (unsigned)n;
	return 0;
}

static int get_bool(struct ctx *c, yaml_node_t *map, const char *key, bool *ret)
{
	static const char *const yes[] = { "yes", "true", "on", "y", "Yes", "True", "YES", "TRUE" };
	static const char *const no[] = { "no", "false", "off", "n", "No", "False", "NO", "FALSE" };
	yaml_node_t *v = get(c, map, key);
	size_t i;

	*ret = false;
	if (!v)
		return 0;
	for (i = 0; scalar(v) && i < ARRAY_SIZE(yes); i++) {
		if (streq(scalar(v), yes[i]))
			return *ret = true, 0;
		if (streq(scalar(v), no[i]))
			return 0;
	}
	return fail(c, v, "'%s' must be yes or no", key);
}

/* Iterate a sequence node: each item's node. */
#define for_items(c, seq, it)                                                          \
	for (yaml_node_item_t *_i_##it = (seq)->data.sequence.items.start;             \
	     _i_##it < (seq)->data.sequence.items.top && ((it) = node((c), *_i_##it), 1); \
	     _i_##it++)

static int need_seq(struct ctx *c, yaml_node_t *n, const char *what)
{
	if (!n || n->type != YAML_SEQUENCE_NODE)
		return fail(c, n, "'%s' must be a list", what);
	return 0;
}

/* ---- sections ------------------------------------------------------------ */

#define RANGE_GUESTDEFS_MAX 1024       /* guest_settings entries (16 KiB each) */
#define RANGE_SITE_HOSTS_MAX 64        /* hosts of one clone_settings host entry */

static int parse_hosts(struct ctx *c, yaml_node_t *seq)
{
	yaml_node_t *it;
	int r;

	if ((r = need_seq(c, seq, "host_settings")))
		return r;
	for_items(c, seq, it) {
		struct cyris_range_host *h = cyris_grow((void **)&c->r->hosts, &c->r->n_hosts, &c->cap_hosts,
								    sizeof(*h));

		if (!h)
			return -ENOMEM;
		h->mark = mark_of(it);
		if ((r = get_id(c, it, "id", h->id, true)) ||
		    (r = get_str(c, it, "mgmt_addr", h->mgmt_addr, sizeof(h->mgmt_addr), false)) ||
		    (r = get_str(c, it, "account", h->account, sizeof(h->account), false)))
			return r;
	}
	return 0;
}

static int parse_guestdefs(struct ctx *c, yaml_node_t *seq)
{
	yaml_node_t *it;
	int r;

	if ((r = need_seq(c, seq, "guest_settings")))
		return r;
	for_items(c, seq, it) {
		struct cyris_range_guestdef **slot = cyris_grow((void **)&c->r->guestdefs,
							       &c->r->n_guestdefs, &c->cap_guestdefs,
							       sizeof(*slot));
		struct cyris_range_guestdef *g;

		/* each its own allocation: the record may grow (cyris/range.h) */
		if (!slot || !(g = *slot = calloc(1, sizeof(*g))))
			return -ENOMEM;
		g->mark = mark_of(it);
		/* each entry holds four paths: keep the whole within bounds */
		if (c->r->n_guestdefs > RANGE_GUESTDEFS_MAX)
			return fail(c, it, "more than %d guest_settings entries", RANGE_GUESTDEFS_MAX);
		if ((r = get_id(c, it, "id", g->id, true)) ||
		    (r = get_id(c, it, "basevm_host", g->basevm_host, false)) ||
		    (r = get_str(c, it, "basevm_config_file", g->basevm_config_file,
				 sizeof(g->basevm_config_file), false)) ||
		    (r = get_str(c, it, "basevm_type", g->basevm_type, sizeof(g->basevm_type), false)) ||
		    (r = get_str(c, it, "basevm_os_type", g->basevm_os_type, sizeof(g->basevm_os_type), false)) ||
		    (r = get_str(c, it, "image", g->image, sizeof(g->image), false)) ||
		    (r = get_str(c, it, "kernel", g->kernel, sizeof(g->kernel), false)) ||
		    (r = get_str(c, it, "initrd", g->initrd, sizeof(g->initrd), false)) ||
		    (r = get_str(c, it, "cmdline", g->cmdline, sizeof(g->cmdline), false)) ||
		    (r = get_uint(c, it, "memory", 0, 16, 1u << 20, &g->memory_mib)) ||
		    (r = get_uint(c, it, "vcpus", 0, 1, 256, &g->vcpus)))
			return r;
		if (g->basevm_type[0] && !streq(g->basevm_type, "kvm") && !streq(g->basevm_type, "aws"))
			return fail(c, get(c, it, "basevm_type"), "basevm_type must be kvm or aws");
		/* a range lives on one kind of infrastructure (no kvm+aws yet) */
		if (c->r->n_guestdefs > 1 && streq(g->basevm_type, "aws") !=
		    streq(c->r->guestdefs[0]->basevm_type, "aws"))
			return fail(c, get(c, it, "basevm_type") ? get(c, it, "basevm_type") : it,
				    "guest %s is %s but guest %s is %s: one range on both KVM and AWS is not "
				    "supported", g->id, streq(g->basevm_type, "aws") ? "aws" : "kvm",
				    c->r->guestdefs[0]->id, streq(g->basevm_type, "aws") ? "kvm" : "aws");
	}
	return 0;
}


/* "guest.ethN" at @m. */
static int parse_member(struct ctx *c, const char *text, struct cyris_mark m,
			struct cyris_range_member *ret)
{
	const char *dot = strrchr(text, '.');
	unsigned long idx;

	memset(ret, 0, sizeof(*ret));
	ret->mark = m;
	if (!dot || (size_t)(dot - text) > CYRIS_ID_MAX || strncmp(dot + 1, "eth", 3) != 0 ||
	    cyris_parse_uint(dot + 4, 63, &idx) < 0 || strlen(dot + 1) >= sizeof(ret->nic))
		return fail_mark(c, m, "'%s' is not GUEST.ethN", text);
	memcpy(ret->guest, text, (size_t)(dot - text));
	ret->guest[dot - text] = '\0';
	if (!cyris_id_valid(ret->guest))
		return fail_mark(c, m, "'%s' is not a valid guest id", ret->guest);
	memcpy(ret->nic, dot + 1, strlen(dot + 1) + 1);
	ret->nic_index = (unsigned)idx;
	return 0;
}

/* members: "a.eth0, b.eth0" or a list of them. */
static int parse_members(struct ctx *c, yaml_node_t *v, struct cyris_range_net *n)
{
	size_t cap = 0;
	yaml_node_t *it;
	int r;

	if (v && v->type == YAML_SEQUENCE_NODE) {
		for_items(c, v, it) {
			struct cyris_range_member *m = cyris_grow((void **)&n->members, &n->n_members,
								  &cap, sizeof(*m));

			if (!m)
				return -ENOMEM;
			if (!scalar(it))
				return fail(c, it, "a member must be GUEST.ethN");
			if ((r = parse_member(c, scalar(it), mark_of(it), m)))
				return r;
		}
		return 0;
	}
	if (!scalar(v))
		return fail(c, v ? v : NULL, "'members' must be GUEST.ethN, ... or a list");
	{
		_cleanup_free_ char *copy = strdup(scalar(v));
		char *save = NULL, *tok;

		if (!copy)
			return -ENOMEM;
		for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			struct cyris_range_member *m = cyris_grow((void **)&n->members, &n->n_members,
								  &cap, sizeof(*m));
			struct cyris_mark mk = mark_of(v);
			char *t = cyris_trim(tok);

			if (!m)
				return -ENOMEM;
			/* point at the member inside a plain one-line scalar */
			if (v->start_mark.line == v->end_mark.line)
				mk.column += (unsigned)(t - copy);
			if ((r = parse_member(c, t, mk, m)))
				return r;
		}
	}
	return n->n_members ? 0 : fail(c, v, "'members' is empty");
}

static int parse_nets(struct ctx *c, yaml_node_t *topo, struct cyris_range_site *s)
{
	yaml_node_t *t, *nets, *it;
	size_t cap = 0;
	int r;

	if ((r = need_seq(c, topo, "topology")))
		return r;
	for_items(c, topo, t) {
		char type[32];

		if ((r = get_str(c, t, "type", type, sizeof(type), false)))
			return r;
		if (type[0] && !streq(type, "custom"))
			return fail(c, get(c, t, "type"), "topology type '%s' is not supported (custom)", type);
		nets = get(c, t, "networks");
		if ((r = need_seq(c, nets, "networks")))
			return r;
		for_items(c, nets, it) {
			struct cyris_range_net *n = cyris_grow((void **)&s->nets, &s->n_nets, &cap, sizeof(*n));
			yaml_node_t *gw;

			if (!n)
				return -ENOMEM;
			n->mark = mark_of(it);
			if ((r = get_id(c, it, "name", n->name, true)))
				return r;
			if (get(c, it, "members") && (r = parse_members(c, get(c, it, "members"), n)))
				return r;
			gw = get(c, it, "gateway");
			if (gw) {
				if (!scalar(gw))
					return fail(c, gw, "'gateway' must be GUEST.ethN");
				if ((r = parse_member(c, cyris_trim((char *)scalar(gw)), mark_of(gw), &n->gateway)))
					return r;
				n->has_gateway = true;
			}
		}
	}
	return 0;
}

static int parse_rules(struct ctx *c, yaml_node_t *seq, struct cyris_range_clone *g)
{
	yaml_node_t *it;
	size_t cap = 0;
	int r;

	if ((r = need_seq(c, seq, "forwarding_rules")))
		return r;
	for_items(c, seq, it) {
		struct cyris_range_rule *ru = cyris_grow((void **)&g->rules, &g->n_rules, &cap, sizeof(*ru));
		yaml_node_t *v = get(c, it, "rule");

		if (!ru)
			return -ENOMEM;
		if (!scalar(v))
			return fail(c, v ? v : it, "a forwarding rule is '- rule: src=... dst=...'");
		if (strlen(scalar(v)) >= sizeof(ru->text))
			return fail(c, v, "rule too long");
		memcpy(ru->text, scalar(v), strlen(scalar(v)) + 1);
		ru->mark = mark_of(v);
	}
	return 0;
}

static int parse_site(struct ctx *c, yaml_node_t *h, struct cyris_range_site *s)
{
	char ids[256], *save = NULL, *tok;
	yaml_node_t *guests, *it;
	size_t cap = 0, hcap = 0;
	int r;

	s->mark = mark_of(h);
	if ((r = get_str(c, h, "host_id", ids, sizeof(ids), true)))
		return r;
	for (tok = strtok_r(ids, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char (*slot)[CYRIS_ID_MAX + 1];
		char *t = cyris_trim(tok);

		if (!cyris_id_valid(t))
			return fail(c, get(c, h, "host_id"), "'%s' is not a valid host id", t);
		if (s->n_hosts >= RANGE_SITE_HOSTS_MAX)
			return fail(c, get(c, h, "host_id"), "more than %d hosts in one host_id", RANGE_SITE_HOSTS_MAX);
		slot = cyris_grow((void **)&s->hosts, &s->n_hosts, &hcap, sizeof(*slot));
		if (!slot)
			return -ENOMEM;
		memcpy(*slot, t, strlen(t) + 1);
	}
	if ((r = get_uint(c, h, "instance_number", 1, 1, 1000, &s->instances)))
		return r;
	if (get(c, h, "forwarding_rules"))
		return fail(c, get(c, h, "forwarding_rules"),
			    "forwarding_rules belong to a guest entry under 'guests' (in CyRIS, the gateway's)");
	guests = get(c, h, "guests");
	if ((r = need_seq(c, guests, "guests")))
		return r;
	for_items(c, guests, it) {
		struct cyris_range_clone *g = cyris_grow((void **)&s->guests, &s->n_guests, &cap, sizeof(*g));

		if (!g)
			return -ENOMEM;
		g->mark = mark_of(it);
		if ((r = get_id(c, it, "guest_id", g->guest_id, true)) ||
		    (r = get_uint(c, it, "number", 1, 1, 1000, &g->number)) ||
		    (r = get_bool(c, it, "entry_point", &g->entry_point)))
			return r;
		if (get(c, it, "forwarding_rules") && (r = parse_rules(c, get(c, it, "forwarding_rules"), g)))
			return r;
	}
	if (!get(c, h, "topology"))
		return fail(c, h, "'topology' is missing");
	return parse_nets(c, get(c, h, "topology"), s);
}

static int parse_clone(struct ctx *c, yaml_node_t *seq, yaml_node_t *where)
{
	yaml_node_t *item, *hosts, *h;
	size_t n = 0;
	int r;

	if ((r = need_seq(c, seq, "clone_settings")))
		return r;
	for_items(c, seq, item) {
		if (++n > 1)
			return fail(c, item, "one range per file: a second clone_settings entry");
		if (!get(c, item, "range_id"))
			return fail(c, item, "'range_id' is missing");
		c->r->id_mark = mark_of(get(c, item, "range_id"));
		if ((r = get_id(c, item, "range_id", c->r->id, true)))
			return r;
		hosts = get(c, item, "hosts");
		if ((r = need_seq(c, hosts, "hosts")))
			return r;
		for_items(c, hosts, h) {
			struct cyris_range_site *s = cyris_grow((void **)&c->r->sites, &c->r->n_sites,
								&c->cap_sites, sizeof(*s));

			if (!s)
				return -ENOMEM;
			if ((r = parse_site(c, h, s)))
				return r;
		}
	}
	if (!n)
		return fail(c, where, "clone_settings is empty: no range_id");
	return 0;
}

/* ---- validation ---------------------------------------------------------- */

/*
 * Every lookup and duplicate check goes through a sorted index, so that a
 * file of many hosts, guests or networks costs n log n, not n squared.
 */
struct ref {
	const char *key;
	size_t i, j;                   /* where: item, or site and item */
};

static int ref_cmp(const void *a, const void *b)
{
	const struct ref *x = a, *y = b;
	int r = strcmp(x->key, y->key);

	if (r)
		return r;
	if (x->i != y->i)
		return x->i < y->i ? -1 : 1;
	return x->j < y->j ? -1 : x->j > y->j;
}

static void ref_sort(struct ref *v, size_t n)
{
	qsort(v, n, sizeof(*v), ref_cmp);
}

/* The first entry of @key in sorted @v, or NULL. */
static const struct ref *ref_find(const struct ref *v, size_t n, const char *key)
{
	_Static_assert(offsetof(struct ref, key) == 0, "the key comes first (cyris_find_sorted)");
	return cyris_find_sorted(v, n, sizeof(*v), key);
}

/* The repeat that comes first in file order (by i, j), or NULL. */
static const struct ref *ref_first_dup(const struct ref *v, size_t n)
{
	const struct ref *best = NULL;
	size_t k;

	for (k = 1; k < n; k++)
		if (streq(v[k].key, v[k - 1].key) &&
		    (!best || v[k].i < best->i || (v[k].i == best->i && v[k].j < best->j)))
			best = &v[k];
	return best;
}

struct index {
	struct ref *hosts, *guestdefs, *nets;
	size_t n_hosts, n_guestdefs, n_nets;
};

const struct cyris_range_host *cyris_range_host(const struct cyris_range *r, const char *id)
{
	size_t i;

	for (i = 0; i < r->n_hosts; i++)
		if (streq(r->hosts[i].id, id))
			return &r->hosts[i];
	return NULL;
}

const struct cyris_range_guestdef *cyris_range_guestdef(const struct cyris_range *r, const char *id)
{
	size_t i;

	for (i = 0; i < r->n_guestdefs; i++)
		if (streq(r->guestdefs[i]->id, id))
			return r->guestdefs[i];
	return NULL;
}

static const struct cyris_range_net *site_net(const struct ctx *c, const struct index *x, const char *name,
					      const struct cyris_range_site **ret_site)
{
	const struct ref *f = ref_find(x->nets, x->n_nets, name);

	if (!f)
		return NULL;
	if (ret_site)
		*ret_site = &c->r->sites[f->i];
	return &c->r->sites[f->i].nets[f->j];
}

static bool is_member(const struct cyris_range_net *n, const char *guest)
{
	size_t i;

	for (i = 0; i < n->n_members; i++)
		if (streq(n->members[i].guest, guest))
			return true;
	return false;
}

static bool on_net(const struct cyris_range_net *n, const char *guest)
{
	return (n->has_gateway && streq(n->gateway.guest, guest)) || is_member(n, guest);
}

/* The first NET.GUEST reading of @name after @from (a dot of it): NET a
 * network of @s that GUEST is on; its dot, or NULL. */
static const char *member_split(const struct ctx *c, const struct index *x,
				const struct cyris_range_site *s, const char *name, const char *from)
{
	const struct cyris_range_site *ns = NULL;
	const struct cyris_range_net *n;
	char net[CYRIS_ID_MAX + 1];
	const char *dot;

	for (dot = from; dot && (size_t)(dot - name) <= CYRIS_ID_MAX; dot = strchr(dot + 1, '.')) {
		memcpy(net, name, (size_t)(dot - name));
		net[dot - name] = '\0';
		if ((n = site_net(c, x, net, &ns)) && ns == s && on_net(n, dot + 1))
			return dot;
	}
	return NULL;
}

/* A rule endpoint: a network of the site, or NET.GUEST (a member of NET).
 * Network names and guest ids may hold dots, so a name can have more than
 * one reading (network x.a, and guest a on network x): refused, naming
 * them, rather than one picked without a word. */
static int check_endpoint(struct ctx *c, const struct index *x, const struct cyris_range_site *s,
			  const struct cyris_range_rule *ru, const char *name)
{
	const struct cyris_range_site *ns = NULL;
	const struct cyris_range_net *n;
	char net[CYRIS_ID_MAX + 1];
	const char *dot = strchr(name, '.'), *m = dot ? member_split(c, x, s, name, dot) : NULL;
	const char *m2 = m ? member_split(c, x, s, name, strchr(m + 1, '.')) : NULL;

	if (site_net(c, x, name, &ns) && ns == s && m)
		return fail_mark(c, ru->mark, "rule '%s': '%s' is ambiguous: network '%s', or guest '%s' "
				 "on network '%.*s' (rename one of them)", ru->text, name, name, m + 1,
				 (int)(m - name), name);
	if (m2)
		return fail_mark(c, ru->mark, "rule '%s': '%s' is ambiguous: guest '%s' on network '%.*s', "
				 "or guest '%s' on network '%.*s' (rename one of them)", ru->text, name,
				 m + 1, (int)(m - name), name, m2 + 1, (int)(m2 - name), name);
	if (m)
		return 0;
	if (site_net(c, x, name, &ns))
		return ns == s ? 0 : fail_mark(c, ru->mark, "rule '%s': network '%s' is on another host entry",
					       ru->text, name);
	if (!dot || (size_t)(dot - name) > CYRIS_ID_MAX)
		return fail_mark(c, ru->mark, "rule '%s': no network '%s'", ru->text, name);
	memcpy(net, name, (size_t)(dot - name));
	net[dot - name] = '\0';
	n = site_net(c, x, net, &ns);
	if (!n || ns != s)
		return fail_mark(c, ru->mark, "rule '%s': no network '%s' (in '%s')", ru->text, net, name);
	return fail_mark(c, ru->mark, "rule '%s': '%s' is not a member of network '%s'",
			 ru->text, dot + 1, net);
}

/* The address families of a rule side: 1 IPv4, 2 IPv6 (a range's networks
 * are IPv4); 0 when it names the host only. */
static unsigned side_families(const struct cyris_fw_endpoint *v, size_t n)
{
	unsigned m = 0;
	size_t i;

	for (i = 0; i < n; i++)
		if (!v[i].is_host)
			m |= v[i].is_prefix && v[i].prefix.ip.family == AF_INET6 ? 2 : 1;
	return m;
}

static int check_rule(struct ctx *c, const struct index *x, const struct cyris_range_site *s,
		      const struct cyris_range_rule *ru)
{
	struct cyris_fw_rule fr;
	unsigned fs, fd;
	struct cyris_error err;
	size_t i;
	int r;

	if (cyris_fw_rule_parse(ru->text, &fr, &err) < 0)
		return fail_mark(c, ru->mark, "rule '%s': %s", ru->text, err.msg);
	for (i = 0; i < fr.n_src; i++)
		if (!fr.src[i].is_prefix && (r = check_endpoint(c, x, s, ru, fr.src[i].name)))
			return r;
	for (i = 0; i < fr.n_dst; i++)
		if (!fr.dst[i].is_prefix && !fr.dst[i].is_host &&
		    (r = check_endpoint(c, x, s, ru, fr.dst[i].name)))
			return r;
	/* a source without a destination of its family (or the reverse)
	 * would be left out of the kernel's rules without a word */
	fs = side_families(fr.src, fr.n_src);
	fd = side_families(fr.dst, fr.n_dst);
	if (fr.n_src && fr.n_dst && fd && fs != fd)
		return fail_mark(c, ru->mark, "rule '%s': mixes IPv4 and IPv6 (src and dst must be of one "
				 "address family; a range's networks are IPv4)", ru->text);
	return 0;
}

/* The site's guests, sorted by id. */
static int site_index(struct ctx *c, const struct cyris_range_site *s, struct ref **ret)
{
	struct ref *v = calloc(s->n_guests + 1, sizeof(*v));
	const struct ref *d;
	size_t i;

	if (!v)
		return -ENOMEM;
	for (i = 0; i < s->n_guests; i++)
		v[i] = (struct ref){ s->guests[i].guest_id, i, 0 };
	ref_sort(v, s->n_guests);
	*ret = v;
	if ((d = ref_first_dup(v, s->n_guests)))
		return fail_mark(c, s->guests[d->i].mark, "guest '%s' is listed twice", d->key);
	return 0;
}

/* Every (guest, NIC) of the site's networks, in file order: each network's
 * members, then its gateway. */
static size_t site_nics(const struct cyris_range_site *s, const struct cyris_range_member **v)
{
	size_t i, j, n = 0;

	for (i = 0; i < s->n_nets; i++) {
		for (j = 0; j < s->nets[i].n_members; j++) {
			if (v)
				v[n] = &s->nets[i].members[j];
			n++;
		}
		if (s->nets[i].has_gateway) {
			if (v)
				v[n] = &s->nets[i].gateway;
			n++;
		}
	}
	return n;
}

static int nic_ref_cmp(const void *a, const void *b)
{
	const struct ref *x = a, *y = b;
	const struct cyris_range_member *m = (const void *)x->key, *o = (const void *)y->key;
	int r = strcmp(m->guest, o->guest);

	if (!r)
		r = strcmp(m->nic, o->nic);
	return r ? r : x->i < y->i ? -1 : x->i > y->i;
}

/* For each (guest, NIC) in file order, the network where it came first. */
static int first_nets(const struct cyris_range_member **nics, size_t n,
		      const struct cyris_range_member ***ret_first)
{
	_cleanup_free_ struct ref *v = calloc(n + 1, sizeof(*v));
	const struct cyris_range_member **first = calloc(n + 1, sizeof(*first));
	size_t k, head = 0;

	if (!v || !first) {
		free(first);
		return -ENOMEM;
	}
	for (k = 0; k < n; k++)
		v[k] = (struct ref){ (const char *)nics[k], k, 0 };
	qsort(v, n, sizeof(*v), nic_ref_cmp);
	for (k = 0; k < n; k++) {
		const struct cyris_range_member *m = nics[v[k].i], *h = nics[v[head].i];

		if (k && (!streq(m->guest, h->guest) || !streq(m->nic, h->nic)))
			head = k;
		first[v[k].i] = nics[v[head].i];
	}
	*ret_first = first;
	return 0;
}

static const char *net_of(const struct cyris_range_site *s, const struct cyris_range_member *m)
{
	size_t i;

	for (i = 0; i < s->n_nets; i++)
		if ((s->nets[i].n_members && m >= s->nets[i].members &&
		     m < s->nets[i].members + s->nets[i].n_members) ||
		    m == &s->nets[i].gateway)
			return s->nets[i].name;
	return "?";
}

#define BRIDGE_PORTS_MAX 1023          /* the kernel's BR_MAX_PORTS, port 0 reserved */

/* The ports cyris puts on a network's bridge (one instance): a link per
 * member clone, the gateway's; with several hosts a VXLAN port, while the
 * clones are spread over the hosts in turn. */
static int check_ports(struct ctx *c, const struct cyris_range_site *s, const struct cyris_range_net *n,
		       const struct ref *gi)
{
	unsigned long all = n->has_gateway, spread = n->has_gateway + (s->n_hosts > 1);
	size_t i, h = s->n_hosts ? s->n_hosts : 1;

	for (i = 0; i < n->n_members; i++) {
		const struct ref *f = ref_find(gi, s->n_guests, n->members[i].guest);
		unsigned number = f ? s->guests[f->i].number : 1;

		all += number;
		spread += (number + h - 1) / h;
	}
	if (all > BRIDGE_PORTS_MAX || spread > BRIDGE_PORTS_MAX)
		return fail_mark(c, n->mark, "network '%s' needs %lu ports on its bridge (its members' clones%s); "
				 "a Linux bridge holds at most %d", n->name, spread > all ? spread : all,
				 spread > all ? " on one host, and a VXLAN port" : "", BRIDGE_PORTS_MAX);
	return 0;
}

static unsigned digits(unsigned v)
{
	unsigned d = 1;

	while (v >= 10)
		v /= 10, d++;
	return d;
}

static int check_guests(struct ctx *c, const struct index *x, const struct cyris_range_site *s)
{
	size_t i;

	for (i = 0; i < s->n_guests; i++) {
		const struct cyris_range_clone *g = &s->guests[i];

		if (!ref_find(x->guestdefs, x->n_guestdefs, g->guest_id))
			return fail_mark(c, g->mark, "unknown guest '%s' (not in guest_settings)", g->guest_id);
		/* the kernel's tags and names carry clone k as "G.k" */
		if (strlen(g->guest_id) + 1 + digits(g->number) > CYRIS_ID_MAX)
			return fail_mark(c, g->mark, "guest id '%s' is too long for number: %u (clone names "
					 "'%s.%u' are at most %d bytes)", g->guest_id, g->number,
					 g->guest_id, g->number, CYRIS_ID_MAX);
	}
	return 0;
}

static int check_nets(struct ctx *c, const struct index *x, const struct cyris_range_site *s,
		      const struct ref *gi)
{
	_cleanup_free_ const struct cyris_range_member **nics = NULL, **first = NULL;
	_cleanup_free_ unsigned *n_nics = calloc(s->n_guests + 1, sizeof(*n_nics));
	size_t n = site_nics(s, NULL), i, j, k = 0;
	int r;

	nics = calloc(n + 1, sizeof(*nics));
	if (!nics || !n_nics)
		return -ENOMEM;
	site_nics(s, nics);
	if ((r = first_nets(nics, n, &first)) < 0)
		return r;
	for (i = 0; i < s->n_nets; i++) {
		const struct cyris_range_net *net = &s->nets[i];
		const struct cyris_range_site *other = NULL;

		if (site_net(c, x, net->name, &other) != net)
			return fail_mark(c, net->mark, "duplicate network name '%s'", net->name);
		for (j = 0; j <= net->n_members; j++, k++) {
			const struct cyris_range_member *m = j < net->n_members ? &net->members[j] : &net->gateway;
			bool gw = j == net->n_members;
			const struct ref *f;

			if (gw && !net->has_gateway) {
				k--;
				continue;
			}
			if (!(f = ref_find(gi, s->n_guests, m->guest)))
				return fail_mark(c, m->mark, "unknown guest '%s' in %s (not in this host entry's guests)",
						 m->guest, gw ? "gateway" : "members");
			if (gw && s->guests[f->i].number != 1)
				return fail_mark(c, m->mark, "gateway guest '%s' must have number: 1", m->guest);
			if (first[k] != m)
				return fail_mark(c, m->mark, "%s.%s is already on network '%s'",
						 m->guest, m->nic, net_of(s, first[k]));
			if (++n_nics[f->i] > CYRIS_PLAN_MAX_NICS)
				return fail_mark(c, m->mark, "guest '%s' has more than %d NICs", m->guest,
						 CYRIS_PLAN_MAX_NICS);
			if (gw && is_member(net, m->guest))
				return fail_mark(c, m->mark, "'%s' is the gateway of network '%s' and one of its "
						 "members too", m->guest, net->name);
		}
		if ((r = check_ports(c, s, net, gi)))
			return r;
	}
	return 0;
}

static int validate_site(struct ctx *c, const struct index *x, const struct cyris_range_site *s)
{
	_cleanup_free_ struct ref *gi = NULL;
	size_t i, j;
	int r;

	for (i = 0; i < s->n_hosts; i++) {
		if (!ref_find(x->hosts, x->n_hosts, s->hosts[i]))
			return fail_mark(c, s->mark, "unknown host '%s' (not in host_settings)", s->hosts[i]);
		for (j = 0; j < i; j++)
			if (streq(s->hosts[i], s->hosts[j]))
				return fail_mark(c, s->mark, "host '%s' is listed twice", s->hosts[i]);
	}
	if ((r = check_guests(c, x, s)) || (r = site_index(c, s, &gi)) || (r = check_nets(c, x, s, gi)))
		return r;
	for (i = 0; i < s->n_guests; i++)
		for (j = 0; j < s->guests[i].n_rules; j++)
			if ((r = check_rule(c, x, s, &s->guests[i].rules[j])))
				return r;
	return 0;
}

static int build_index(const struct cyris_range *rg, struct index *x)
{
	size_t i, j, n = 0;

	for (i = 0; i < rg->n_sites; i++)
		n += rg->sites[i].n_nets;
	x->hosts = calloc(rg->n_hosts + 1, sizeof(*x->hosts));
	x->guestdefs = calloc(rg->n_guestdefs + 1, sizeof(*x->guestdefs));
	x->nets = calloc(n + 1, sizeof(*x->nets));
	if (!x->hosts || !x->guestdefs || !x->nets)
		return -ENOMEM;
	for (i = 0; i < rg->n_hosts; i++)
		x->hosts[x->n_hosts++] = (struct ref){ rg->hosts[i].id, i, 0 };
	for (i = 0; i < rg->n_guestdefs; i++)
		x->guestdefs[x->n_guestdefs++] = (struct ref){ rg->guestdefs[i]->id, i, 0 };
	for (i = 0; i < rg->n_sites; i++)
		for (j = 0; j < rg->sites[i].n_nets; j++)
			x->nets[x->n_nets++] = (struct ref){ rg->sites[i].nets[j].name, i, j };
	ref_sort(x->hosts, x->n_hosts);
	ref_sort(x->guestdefs, x->n_guestdefs);
	ref_sort(x->nets, x->n_nets);
	return 0;
}

static int validate(struct ctx *c)
{
	struct index x = {0};
	const struct ref *d;
	size_t i;
	int r = build_index(c->r, &x);

	if (r == 0 && (d = ref_first_dup(x.hosts, x.n_hosts)))
		r = fail_mark(c, c->r->hosts[d->i].mark, "duplicate host id '%s'", d->key);
	if (r == 0 && (d = ref_first_dup(x.guestdefs, x.n_guestdefs)))
		r = fail_mark(c, c->r->guestdefs[d->i]->mark, "duplicate guest id '%s'", d->key);
	for (i = 0; r == 0 && i < c->r->n_sites; i++)
		r = validate_site(c, &x, &c->r->sites[i]);
	free(x.hosts);
	free(x.guestdefs);
	free(x.nets);
	return r;
}

static int parse_root(struct ctx *c)
{
	yaml_node_t *root = yaml_document_get_root_node(c->doc), *it, *clone = NULL;
	int r;

	if (!root)
		return fail_mark(c, (struct cyris_mark){ 1, 1 }, "empty file");
	if (root->type != YAML_SEQUENCE_NODE)
		return fail(c, root, "a range file is a list of host_settings, guest_settings and clone_settings");
	for_items(c, root, it) {
		yaml_node_t *v;

		if ((v = get(c, it, "host_settings")) && (r = parse_hosts(c, v)))
			return r;
		if ((v = get(c, it, "guest_settings")) && (r = parse_guestdefs(c, v)))
			return r;
		if ((v = get(c, it, "clone_settings"))) {
			if (clone)
				return fail(c, v, "clone_settings given twice");
			clone = v;
			if ((r = parse_clone(c, v, it)))
				return r;
		}
	}
	if (!clone)
		return fail(c, root, "no clone_settings: 'range_id' is missing");
	return validate(c);
}

/*
 * libyaml's document loader has no limit: no nesting depth (its scanner then
 * costs the square of the depth), aliases that a consumer expands without
 * bound, the first of two equal keys silently winning, a "\0" escape cutting
 * a value short. So the document is built here from libyaml's events, with
 * limits that answer any input fast, at its FILE:LINE:COLUMN.
 */
#define RANGE_FILE_MAX (1u << 20)      /* bytes */
#define RANGE_DEPTH_MAX 64             /* nested collections */
#define RANGE_NODES_MAX (1u << 17)     /* nodes, each alias counted as what it stands for */
#define RANGE_ANCHORS_MAX 1024

struct anchor {
	uint64_t hash;
	const char *name;              /* owned by the node's event: copied */
	int id;
};

struct frame {
	int id;                        /* the open collection */
	int key;                       /* a mapping's key waiting for its value */
	size_t expanded;               /* the count when it opened */
};

struct loader {
	struct ctx *c;
	yaml_parser_t *parser;
	yaml_document_t *doc;
	struct frame stack[RANGE_DEPTH_MAX];
	size_t depth;
	size_t expanded;               /* nodes so far, aliases expanded */
	uint32_t *weight;              /* per node id: its expanded size, 0 = still open */
	size_t n_weight, cap_weight;
	struct anchor *anchors;
	size_t n_anchors, cap_anchors;
	bool done;                     /* the document ended */
};

static uint64_t name_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

static struct cyris_mark ev_mark(const yaml_event_t *e)
{
	return (struct cyris_mark){ (unsigned)e->start_mark.line + 1, (unsigned)e->start_mark.column + 1 };
}

static int count(struct loader *l, const yaml_event_t *e, size_t n)
{
	l->expanded += n;
	if (l->expanded > RANGE_NODES_MAX)
		return fail_mark(l->c, ev_mark(e), "more than %u YAML nodes%s (a range file is smaller)",
				 RANGE_NODES_MAX, e->type == YAML_ALIAS_EVENT ? " with its aliases expanded" : "");
	return 0;
}

static int set_weight(struct loader *l, int id, size_t w)
{
	uint32_t *slot;

	while (l->n_weight < (size_t)id)
		if (!(slot = cyris_grow((void **)&l->weight, &l->n_weight, &l->cap_weight, sizeof(*slot))))
			return -ENOMEM;
	l->weight[id - 1] = (uint32_t)w;
	return 0;
}

static int add_anchor(struct loader *l, const yaml_event_t *e, const yaml_char_t *name, int id)
{
	uint64_t h;
	struct anchor *a;
	size_t i;

	if (!name)
		return 0;
	h = name_hash((const char *)name);
	for (i = 0; i < l->n_anchors; i++)
		if (l->anchors[i].hash == h && streq(l->anchors[i].name, (const char *)name))
			return fail_mark(l->c, ev_mark(e), "anchor '&%s' is defined twice", name);
	if (l->n_anchors >= RANGE_ANCHORS_MAX)
		return fail_mark(l->c, ev_mark(e), "more than %d anchors", RANGE_ANCHORS_MAX);
	if (!(a = cyris_grow((void **)&l->anchors, &l->n_anchors, &l->cap_anchors, sizeof(*a))) ||
	    !(a->name = strdup((const char *)name)))
		return -ENOMEM;
	a->hash = h;
	a->id = id;
	return 0;
}

/* Hang node @id on the open collection (or make it the root). */
static int attach(struct loader *l, const yaml_event_t *e, int id)
{
	struct frame *f;

	if (!l->depth)
		return 0;                      /* the root: node 1 */
	f = &l->stack[l->depth - 1];
	if (yaml_document_get_node(l->doc, f->id)->type == YAML_SEQUENCE_NODE)
		return yaml_document_append_sequence_item(l->doc, f->id, id) ? 0 : -ENOMEM;
	if (!f->key) {
		f->key = id;
		return 0;
	}
	if (!yaml_document_append_mapping_pair(l->doc, f->id, f->key, id))
		return -ENOMEM;
	f->key = 0;
	(void)e;
	return 0;
}

static void set_marks(yaml_node_t *n, const yaml_event_t *e)
{
	n->start_mark = e->start_mark;
	n->end_mark = e->end_mark;
}

struct keyref {
	const char *s;
	size_t len, pos;
	const yaml_node_t *node;
};

static int keyref_cmp(const void *a, const void *b)
{
	const struct keyref *x = a, *y = b;
	int r;

	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	if ((r = memcmp(x->s, y->s, x->len)))
		return r;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static bool same_key(const struct keyref *x, const struct keyref *y)
{
	return x->len == y->len && !memcmp(x->s, y->s, x->len);
}

/* Two equal keys in one mapping: the first would silently win. Sorted, so
 * that a mapping of any size costs n log n; the earliest repeat is named. */
static int check_keys(struct loader *l, const yaml_node_t *map)
{
	size_t n = (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start), k = 0, i;
	_cleanup_free_ struct keyref *v = NULL;
	const struct keyref *dup = NULL, *first = NULL;

	if (n < 2)
		return 0;
	if (!(v = calloc(n, sizeof(*v))))
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		const yaml_node_t *key = yaml_document_get_node(l->doc, map->data.mapping.pairs.start[i].key);

		if (key && key->type == YAML_SCALAR_NODE)
			v[k++] = (struct keyref){ (const char *)key->data.scalar.value, key->data.scalar.length,
						  i, key };
	}
	qsort(v, k, sizeof(*v), keyref_cmp);
	/* equal keys are neighbours, in file order: the second of a run repeats */
	for (i = 1; i < k; i++)
		if (same_key(&v[i], &v[i - 1]) && (i < 2 || !same_key(&v[i - 1], &v[i - 2])) &&
		    (!dup || v[i].pos < dup->pos)) {
			dup = &v[i];
			first = &v[i - 1];
		}
	if (!dup)
		return 0;
	return fail_mark(l->c, mark_of(dup->node), "duplicate key '%s' (first at line %u)", dup->s,
			 mark_of(first->node).line);
}

static int on_scalar(struct loader *l, const yaml_event_t *e)
{
	size_t len = e->data.scalar.length;
	int id, r;

	if (strlen((const char *)e->data.scalar.value) != len)
		return fail_mark(l->c, ev_mark(e), "a NUL byte (\\0) inside a value");
	if ((r = count(l, e, 1)))
		return r;
	id = yaml_document_add_scalar(l->doc, NULL, e->data.scalar.value, (int)len, e->data.scalar.style);
	if (!id)
		return -ENOMEM;
	set_marks(yaml_document_get_node(l->doc, id), e);
	if ((r = set_weight(l, id, 1)) || (r = add_anchor(l, e, e->data.scalar.anchor, id)))
		return r;
	return attach(l, e, id);
}

static int on_start(struct loader *l, const yaml_event_t *e)
{
	bool seq = e->type == YAML_SEQUENCE_START_EVENT;
	int id, r;

	if (l->depth >= RANGE_DEPTH_MAX)
		return fail_mark(l->c, ev_mark(e), "nested deeper than %d levels", RANGE_DEPTH_MAX);
	if ((r = count(l, e, 1)))
		return r;
	id = seq ? yaml_document_add_sequence(l->doc, NULL, e->data.sequence_start.style)
		 : yaml_document_add_mapping(l->doc, NULL, e->data.mapping_start.style);
	if (!id)
		return -ENOMEM;
	set_marks(yaml_document_get_node(l->doc, id), e);
	if ((r = set_weight(l, id, 0)) ||
	    (r = add_anchor(l, e, seq ? e->data.sequence_start.anchor : e->data.mapping_start.anchor, id)) ||
	    (r = attach(l, e, id)))
		return r;
	l->stack[l->depth++] = (struct frame){ .id = id, .expanded = l->expanded - 1 };
	return 0;
}

static int on_end(struct loader *l, const yaml_event_t *e)
{
	struct frame *f = &l->stack[--l->depth];
	yaml_node_t *n = yaml_document_get_node(l->doc, f->id);
	int r;

	n->end_mark = e->end_mark;
	if (n->type == YAML_MAPPING_NODE && (r = check_keys(l, n)))
		return r;
	return set_weight(l, f->id, l->expanded - f->expanded);
}

static int on_alias(struct loader *l, const yaml_event_t *e)
{
	const char *name = (const char *)e->data.alias.anchor;
	uint64_t h = name_hash(name);
	size_t i;
	int r;

	for (i = l->n_anchors; i-- > 0;)
		if (l->anchors[i].hash == h && streq(l->anchors[i].name, name))
			break;
	if (i == (size_t)-1)
		return fail_mark(l->c, ev_mark(e), "alias '*%s' to no anchor", name);
	if (!l->weight[l->anchors[i].id - 1])
		return fail_mark(l->c, ev_mark(e), "alias '*%s' inside the node it names", name);
	if ((r = count(l, e, l->weight[l->anchors[i].id - 1])))
		return r;
	return attach(l, e, l->anchors[i].id);
}

static int on_event(struct loader *l, const yaml_event_t *e)
{
	switch (e->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (l->done)
			return fail_mark(l->c, ev_mark(e), "a second YAML document (a range file is one)");
		return yaml_document_initialize(l->doc, NULL, NULL, NULL, 1, 1) ? 0 : -ENOMEM;
	case YAML_DOCUMENT_END_EVENT:
		l->done = true;
		return 0;
	case YAML_SCALAR_EVENT:
		return on_scalar(l, e);
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		return on_start(l, e);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return on_end(l, e);
	case YAML_ALIAS_EVENT:
		return on_alias(l, e);
	default:
		return 0;
	}
}

/* Read @file whole (at most RANGE_FILE_MAX bytes) into *ret. */
static int read_file(struct ctx *c, const char *file, unsigned char **ret, size_t *ret_len)
{
	_cleanup_fclose_ FILE *f = fopen(file, "re");
	_cleanup_free_ unsigned char *buf = NULL;
	size_t len = 0, got;

	if (!f)
		return cyris_error_set(c->err, -errno, "%s: %s", file, strerror(errno));
	if (!(buf = malloc(RANGE_FILE_MAX + 1)))
		return -ENOMEM;
	while (len <= RANGE_FILE_MAX && (got = fread(buf + len, 1, RANGE_FILE_MAX + 1 - len, f)) > 0)
		len += got;
	if (ferror(f))
		return cyris_error_set(c->err, -EIO, "%s: %s", file, strerror(EIO));
	if (len > RANGE_FILE_MAX)
		return cyris_error_set(c->err, -EFBIG, "%s: larger than %u bytes (1 MiB): not a range file",
				  file, RANGE_FILE_MAX);
	*ret = TAKE_PTR(buf);
	*ret_len = len;
	return 0;
}

/* The line and column (in characters, as libyaml counts them) of byte
 * @off of @buf. */
static struct cyris_mark offset_mark(const unsigned char *buf, size_t len, size_t off)
{
	struct cyris_mark m = { 1, 1 };
	size_t i;

	for (i = 0; i < off && i < len; i++) {
		if (buf[i] == '\n' || (buf[i] == '\r' && (i + 1 >= len || buf[i + 1] != '\n')))
			m.line++, m.column = 1;
		else if (buf[i] == '\r')
			;                               /* CR LF: one break */
		else if ((buf[i] & 0xc0) != 0x80)   /* not a UTF-8 continuation byte */
			m.column++;
	}
	return m;
}

/* Parse @buf into c->doc (empty when the file has no document). */
static int load_doc(struct ctx *c, const unsigned char *buf, size_t len)
{
	struct loader l = { .c = c, .doc = c->doc };
	yaml_parser_t parser;
	yaml_event_t e;
	size_t i;
	int r = 0;

	memset(c->doc, 0, sizeof(*c->doc));
	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, buf, len);
	l.parser = &parser;
	do {
		if (!yaml_parser_parse(&parser, &e)) {
			struct cyris_mark m = { (unsigned)parser.problem_mark.line + 1,
						(unsigned)parser.problem_mark.column + 1 };

			/* the reader (bad bytes, a NUL) sets no mark, only the
			 * byte offset */
			if (parser.error == YAML_READER_ERROR)
				m = offset_mark(buf, len, parser.problem_offset);
			if (parser.error == YAML_READER_ERROR && parser.problem_value == 0 &&
			    parser.problem_offset < len && buf[parser.problem_offset] == '\0')
				r = fail_mark(c, m, "a NUL byte in the file (YAML allows none)");
			else
				r = fail_mark(c, m, "YAML: %s", parser.problem ? parser.problem : "syntax error");
			break;
		}
		r = on_event(&l, &e);
		i = e.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&e);
	} while (r == 0 && !i);
	yaml_parser_delete(&parser);
	for (i = 0; i < l.n_anchors; i++)
		free((char *)l.anchors[i].name);
	free(l.anchors);
	free(l.weight);
	if (r < 0) {
		yaml_document_delete(c->doc);
		memset(c->doc, 0, sizeof(*c->doc));
	}
	return r;
}

int cyris_range_load(const char *file, struct cyris_range **ret, struct cyris_error *err)
{
	struct cyris_range *r = NULL;
	yaml_document_t doc;
	struct ctx c = { .doc = &doc, .file = file, .err = err };
	_cleanup_free_ unsigned char *buf = NULL;
	size_t len = 0;
	int rc;

	cyris_error_clear(err);
	if ((rc = read_file(&c, file, &buf, &len)) < 0 || (rc = load_doc(&c, buf, len)) < 0)
		return rc;
	r = calloc(1, sizeof(*r));
	c.r = r;
	if (!r) {
		rc = -ENOMEM;
	} else if (strlen(file) >= sizeof(r->file)) {
		rc = cyris_error_set(err, -ENAMETOOLONG, "%s: %s", file, strerror(ENAMETOOLONG));
	} else {
		memcpy(r->file, file, strlen(file) + 1);
		rc = parse_root(&c);
	}
	yaml_document_delete(&doc);
	if (rc < 0) {
		cyris_range_free(r);
		return rc;
	}
	*ret = r;
	return 0;
}

void cyris_range_free(struct cyris_range *r)
{
	size_t i, j, k;

	if (!r)
		return;
	for (i = 0; i < r->n_sites; i++) {
		struct cyris_range_site *s = &r->sites[i];

		for (j = 0; j < s->n_guests; j++)
			free(s->guests[j].rules);
		for (k = 0; k < s->n_nets; k++)
			free(s->nets[k].members);
		free(s->hosts);
		free(s->guests);
		free(s->nets);
	}
	free(r->sites);
	free(r->hosts);
	for (i = 0; i < r->n_guestdefs; i++)
		free(r->guestdefs[i]);
	free(r->guestdefs);
	free(r);
}
