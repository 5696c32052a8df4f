/* SPDX-License-Identifier: MIT */
/*
 * A range on this host: planning against the host's state, building it as a
 * transaction (undo log, rolled back on the first failure or on a cancel),
 * reading it back, and taking it down from the kernel's tags alone.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/socket.h>

#include "cyris/check.h"
#include "cyris/fw.h"
#include "cyris/link.h"
#include "cyris/lock.h"
#include "cyris/neigh.h"
#include "cyris/netns.h"
#include "cyris/topo.h"
#include "cyris/tunnel.h"
#include "cyris/entry.h"
#include "../base/conf-priv.h"
#include "../base/util.h"


static const char *provider_name(const struct cyris_topo_opts *o)
{
	return o && o->provider ? o->provider : "netns";
}

/* ---- the host's state ------------------------------------------------------ */

/* Prefixes in use (every IPv4 network on an interface) and host ports
 * already exposed by cyris tables or listened on (sock_diag). */
static int host_state(const struct cyris_topo_opts *o, struct cyris_prefix **ret_used,
		      size_t *ret_n, uint16_t **ret_ports, size_t *ret_np)
{
	struct cyris_addr_list a = {0};
	struct cyris_fw_table *t = NULL;
	struct cyris_prefix *used;
	struct cyris_fw *fw = NULL;
	struct cyris_nl *nl;
	uint16_t *ports = NULL;
	size_t i, j, n = 0, nt = 0, np = 0, cap = 0;
	int r = cyris_nl_open(&nl, o ? o->netns : NULL);

	if (r < 0)
		return r;
	r = cyris_addr_list(nl, 0, &a);
	cyris_nl_close(nl);
	if (r < 0)
		return r;
	used = calloc(a.n + 1, sizeof(*used));
	if (!used) {
		cyris_addr_list_free(&a);
		return -ENOMEM;
	}
	for (i = 0; i < a.n; i++)
		if (a.v[i].prefix.ip.family == AF_INET)
			used[n++] = cyris_prefix_network(&a.v[i].prefix);
	cyris_addr_list_free(&a);
	if ((r = cyris_fw_open(&fw, o ? o->netns : NULL)) == 0 &&
	    (r = cyris_fw_show(fw, NULL, &t, &nt)) == 0) {
		for (i = 0; i < nt; i++)
			for (j = 0; j < t[i].n_rules; j++) {
				struct cyris_fw_expose e;

				if (streq(t[i].rules[j].chain, "prerouting") &&
				    cyris_fw_expose_parse(t[i].rules[j].comment, &e) == 0 &&
				    cyris_grow((void **)&ports, &np, &cap, sizeof(*ports)))
					ports[np - 1] = e.host_port;
			}
		cyris_fw_tables_free(t, nt);
	}
	cyris_fw_free(fw);
	/* and the ports the host's own services listen on: an entry port
	 * must not take one over */
	if (r == 0) {
		_cleanup_free_ uint16_t *l = NULL;
		size_t nlisten = 0;

		r = cyris_listening_ports(o ? o->netns : NULL, &l, &nlisten);
		for (i = 0; r == 0 && i < nlisten; i++) {
			if (!cyris_grow((void **)&ports, &np, &cap, sizeof(*ports)))
				r = -ENOMEM;
			else
				ports[np - 1] = l[i];
		}
	}
	*ret_used = used;
	*ret_n = n;
	*ret_ports = ports;
	*ret_np = np;
	return r;
}

/* ---- entry points' way in --------------------------------------------------- */

typedef char ifname_t[CYRIS_IFNAMSIZ];

/* The interfaces whose forwarding cyris turned on for entry points: the
 * ingress guards in the cyris tables (of @range, or of every range but
 * @not_range when @range is NULL). */
static int ingress_guards(const struct cyris_topo_opts *o, const char *range, const char *not_range,
			  ifname_t **ret, size_t *ret_n)
{
	struct cyris_fw_table *t = NULL;
	struct cyris_fw *fw = NULL;
	ifname_t *v = NULL;
	size_t i, j, n = 0, cap = 0, nt = 0;
	int r = cyris_fw_open(&fw, o ? o->netns : NULL);

	if (r == 0)
		r = cyris_fw_show(fw, range, &t, &nt);
	for (i = 0; r == 0 && i < nt; i++)
		for (j = 0; r == 0 && j < t[i].n_rules; j++) {
			ifname_t name;

			if ((not_range && streq(t[i].range, not_range)) || !streq(t[i].rules[j].chain, "forward") ||
			    cyris_fw_ingress_parse(t[i].rules[j].comment, name) < 0)
				continue;
			if (!cyris_grow((void **)&v, &n, &cap, sizeof(*v)))
				r = -ENOMEM;
			else
				memcpy(v[n - 1], name, sizeof(name));
		}
	cyris_fw_tables_free(t, nt);
	cyris_fw_free(fw);
	if (r < 0) {
		free(v);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

static bool listed(const ifname_t *v, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (streq(v[i], name))
			return true;
	return false;
}

/*
 * How outside clients reach @p's entry points. A DNATed connection is
 * forwarded from the interface it came in on, and the kernel forwards only
 * from an interface with forwarding on. When the host as a whole does not
 * forward (net.ipv4.ip_forward = 0, a stock host), up turns it on exactly
 * where it is needed, not with the global switch: on the range's bridges
 * (do_bridge) and on the interfaces of the default routes, where clients
 * from outside come in (ST_INGRESS). The range's table then drops whatever
 * else would now be forwarded from those (fw_plan_ingress), and that rule
 * is cyris's record that it turned the forwarding on: a default route's
 * interface that forwards with no such record is the admin's doing and is
 * left alone; the last range that holds the record turns it off at down.
 * With no default route, the entry points answer this host only, and up
 * says so.
 */
static int entry_ingress(const struct cyris_topo_opts *o, struct cyris_plan *p)
{
	_Static_assert(CYRIS_MAX_INGRESS == CYRIS_PLAN_MAX_INGRESS, "one limit");
	_cleanup_free_ ifname_t *ours = NULL;
	int ifs[CYRIS_MAX_INGRESS];
	struct cyris_nl *nl;
	size_t i, n = 0, n_ours = 0;
	int r;

	p->n_ingress = 0;
	p->entry_outside = false;
	if (!p->n_exposes)
		return 0;
	if ((r = cyris_nl_open(&nl, o ? o->netns : NULL)) < 0)
		return r;
	r = cyris_ipv4_forwarding(nl, 0, &p->host_forwards);
	if (r == 0 && !p->host_forwards)
		r = cyris_default_route_ifs(nl, ifs, &n);
	if (r == 0 && n)
		r = ingress_guards(o, NULL, NULL, &ours, &n_ours);
	p->entry_outside = p->host_forwards || n > 0;
	for (i = 0; r == 0 && i < n && i < CYRIS_PLAN_MAX_INGRESS; i++) {
		struct cyris_link l;
		bool on = false;

		if ((r = cyris_link_get_index(nl, ifs[i], &l)) < 0 ||
		    (r = cyris_ipv4_forwarding(nl, ifs[i], &on)) < 0)
			break;
		if (!on || listed(ours, n_ours, l.name))
			snprintf(p->ingress[p->n_ingress++], sizeof(p->ingress[0]), "%s", l.name);
		cyris_link_clear(&l);
	}
	cyris_nl_close(nl);
	return r;
}

/* After range @range's table is gone: forwarding off on the interfaces it
 * had turned on for entry points that no other range's table still holds. */
static int ingress_release(const struct cyris_topo_opts *o, const char *range,
			   const ifname_t *had, size_t n_had)
{
	_cleanup_free_ ifname_t *others = NULL;
	struct cyris_nl *nl;
	size_t i, n = 0;
	int r;

	if (!n_had)
		return 0;
	if ((r = ingress_guards(o, NULL, range, &others, &n)) < 0 ||
	    (r = cyris_nl_open(&nl, o ? o->netns : NULL)) < 0)
		return r;
	for (i = 0; r == 0 && i < n_had; i++) {
		struct cyris_link l;

		if (listed(others, n, had[i]) || cyris_link_get(nl, had[i], &l) < 0)
			continue;   /* still needed, or gone with its forwarding */
		cyris_link_clear(&l);
		r = cyris_link_set_forwarding(nl, l.ifindex, false);
	}
	cyris_nl_close(nl);
	return r;
}

int cyris_topo_plan(const struct cyris_range *r, const struct cyris_conf *conf,
		    const struct cyris_topo_opts *o, struct cyris_plan **ret,
		    struct cyris_error *err)
{
	struct cyris_plan_opts po = { .host = o ? o->host : NULL, .instance = o ? o->instance : 0 };
	struct cyris_prefix *used = NULL;
	uint16_t *ports = NULL;
	int rc = host_state(o, &used, &po.n_used, &ports, &po.n_used_ports);

	if (rc < 0) {
		free(used);
		free(ports);
		return cyris_error_set(err, rc, "reading this host's addresses and rules: %s", strerror(-rc));
	}
	po.used = used;
	po.used_ports = ports;
	rc = cyris_plan_build(r, conf, &po, ret, err);
	free(used);
	free(ports);
	if (rc == 0 && (rc = entry_ingress(o, *ret)) < 0) {
		cyris_plan_free(*ret);
		*ret = NULL;
		return cyris_error_set(err, rc, "reading this host's forwarding and default routes: %s",
				  strerror(-rc));
	}
	return rc;
}

/* ---- steps ------------------------------------------------------------------ */

enum step_kind { ST_BRIDGE, ST_VXLAN, ST_GUEST, ST_FW_HOST, ST_FW_GW, ST_INGRESS };

struct step {
	enum step_kind kind;
	size_t idx;
};

static bool has_rules_at(const struct cyris_plan *p, int at)
{
	size_t i;

	for (i = 0; i < p->n_rules; i++)
		if (p->rules[i].at == at)
			return true;
	return false;
}

/*
 * The order of up. The range's table comes right after its bridges (it
 * names their interfaces; the guests' addresses are in the plan) and
 * before any guest, so that whatever an interrupted or killed up leaves
 * is isolated as the running range is. A gateway guest gets its own table
 * right after it is made, before the guests it routes for exist.
 */
static size_t list_steps(const struct cyris_plan *p, struct step *v)
{
	size_t i, n = 0;
	bool any = false;
	int pass;

#define STEP(k, x) do { if (v) v[n] = (struct step){ (k), (x) }; n++; } while (0)
	for (i = 0; i < p->n_nets; i++) {
		if (!p->nets[i].local)
			continue;
		any = true;
		STEP(ST_BRIDGE, i);
		if (p->nets[i].vni)
			STEP(ST_VXLAN, i);
	}
	if (any)
		STEP(ST_FW_HOST, 0);
	/* after the table: forwarding from outside opens once the range's
	 * isolation is in place */
	if (any && p->n_exposes && !p->host_forwards && p->n_ingress)
		STEP(ST_INGRESS, 0);
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < p->n_guests; i++) {
			if (!p->guests[i].local || p->guests[i].gateway != (pass == 0))
				continue;
			STEP(ST_GUEST, i);
			if (p->guests[i].gateway)
				STEP(ST_FW_GW, i);
		}
#undef STEP
	return n;
}

size_t cyris_topo_steps(const struct cyris_plan *plan)
{
	return list_steps(plan, NULL);
}

struct run {
	const struct cyris_plan *p;
	const struct cyris_conf *conf;
	const struct cyris_topo_opts *o;
	struct cyris_nl *nl;              /* the host namespace */
	struct cyris_provider *prov;
	struct cyris_fw *fw;              /* the host's firewall */
	int fwd_on[CYRIS_PLAN_MAX_INGRESS]; /* ingress interfaces up turned forwarding on */
	size_t n_fwd_on;
	struct cyris_error *err;
};

static void net_tag(struct cyris_tag *t, const struct cyris_plan *p,
		    const struct cyris_plan_net *n, const char *role)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->range, sizeof(t->range), "%s", p->range);
	snprintf(t->net, sizeof(t->net), "%s", n->name);
	snprintf(t->role, sizeof(t->role), "%s", role);
	t->instance = n->instance;
}

/* A create that found its name taken (-EEXIST): say whose it is. @want
 * describes what was to be made; the name may be held as a kernel name or
 * an altname. */
static int collision(struct run *x, int r, const char *name, const char *altname,
		     const struct cyris_tag *want)
{
	char mine[240], theirs[240];
	const char *which = name;
	struct cyris_link l;

	(void)cyris_tag_describe(want, mine, sizeof(mine));
	if (cyris_link_get(x->nl, name, &l) < 0) {
		if (!altname || !altname[0] || cyris_link_get(x->nl, altname, &l) < 0)
			return cyris_error_set(x->err, r, "%s (%s): %s", mine, name, strerror(-r));
		which = altname;
	}
	if (l.owned)
		(void)cyris_tag_describe(&l.tag, theirs, sizeof(theirs));
	else
		snprintf(theirs, sizeof(theirs), "%s link %s, which cyris did not make",
			 l.kind[0] ? l.kind : "a", l.name);
	cyris_link_clear(&l);
	return cyris_error_set(x->err, r, "name %s of %s collides with %s", which, mine, theirs);
}

static int do_bridge(struct run *x, const struct cyris_plan_net *n)
{
	struct cyris_tag tag;
	struct cyris_link_cfg cfg = { .name = n->bridge, .tag = &tag, .altname = n->altname, .up = true,
				      .mac = n->mac };
	int ifindex, r;

	net_tag(&tag, x->p, n, "bridge");
	r = cyris_bridge_create(x->nl, &cfg, NULL, &ifindex);
	if (r == 0)
		r = cyris_addr_add(x->nl, ifindex, &n->host_addr);
	/* forwarding on the range's bridges only (not the host's ip_forward):
	 * routing where the host is the gateway, entry points' DNAT replies
	 * everywhere; the range's table decides what may cross */
	if (r == 0)
		r = cyris_link_set_forwarding(x->nl, ifindex, true);
	if (r == -EEXIST)
		return collision(x, r, n->bridge, n->altname, &tag);
	if (r < 0) {
		(void)cyris_link_del(x->nl, ifindex);
		return cyris_error_set(x->err, r, "bridge %s (network %s): %s", n->bridge, n->name,
			    strerror(-r));
	}
	return 0;
}

static int do_vxlan(struct run *x, const struct cyris_plan_net *n)
{
	struct cyris_tag tag;
	struct cyris_link_cfg cfg = { .name = n->vxlan, .tag = &tag, .up = true };
	struct cyris_vxlan_cfg vx = { .vni = n->vni, .remote = n->remotes[0], .local = n->local_ip };
	struct cyris_link br;
	int ifindex, r;
	size_t i;

	net_tag(&tag, x->p, n, "vxlan");
	r = cyris_link_get(x->nl, n->bridge, &br);
	if (r == 0) {
		cfg.master = br.ifindex;
		cyris_link_clear(&br);
		r = cyris_vxlan_create(x->nl, &cfg, &vx, &ifindex);
	}
	for (i = 1; r == 0 && i < n->n_remotes; i++)
		r = cyris_fdb_append_remote(x->nl, ifindex, &n->remotes[i]);
	if (r == -EEXIST)
		return collision(x, r, n->vxlan, NULL, &tag);
	if (r < 0)
		return cyris_error_set(x->err, r, "vxlan %s (network %s, VNI %u): %s", n->vxlan, n->name,
			    n->vni, strerror(-r));
	return 0;
}

static void guest_spec(const struct cyris_plan *p, const struct cyris_plan_guest *g,
		       struct cyris_guest_spec *s)
{
	size_t i;

	memset(s, 0, sizeof(*s));
	s->name = g->name;
	snprintf(s->tag.range, sizeof(s->tag.range), "%s", p->range);
	snprintf(s->tag.guest, sizeof(s->tag.guest), "%s", g->tag_guest);
	snprintf(s->tag.role, sizeof(s->tag.role), "guest");
	s->tag.instance = g->instance;
	s->guest_id = g->guest_id;
	s->index = g->index;
	s->forwarding = g->gateway;
	s->hostname = g->name;
	if (g->def) {
		s->base_image = g->def->image[0] ? g->def->image : NULL;
		s->kernel = g->def->kernel[0] ? g->def->kernel : NULL;
		s->initrd = g->def->initrd[0] ? g->def->initrd : NULL;
		s->cmdline = g->def->cmdline[0] ? g->def->cmdline : NULL;
		s->memory_mib = g->def->memory_mib;
		s->vcpus = g->def->vcpus;
	}
	for (i = 0; i < g->n_nics && i < CYRIS_GUEST_MAX_NICS; i++) {
		const struct cyris_plan_nic *pn = &g->nics[i];
		const struct cyris_plan_net *n = &p->nets[pn->net];
		struct cyris_guest_nic *sn = &s->nics[s->n_nics++];

		snprintf(sn->nic, sizeof(sn->nic), "%s", pn->nic);
		snprintf(sn->bridge, sizeof(sn->bridge), "%s", n->bridge);
		snprintf(sn->net, sizeof(sn->net), "%s", n->name);
		snprintf(sn->host_ifname, sizeof(sn->host_ifname), "%s", pn->host_ifname);
		memcpy(sn->mac, pn->mac, 6);
		sn->addr = pn->addr;
		/* the default route goes through the network's gateway; the
		 * gateway itself goes through the host (upstream) */
		sn->gateway = cyris_ip_equal(&pn->addr.ip, &n->gateway) ? n->host_addr.ip : n->gateway;
	}
}

/* A netns guest whose namespace or host-side link name is taken. */
static int guest_collision(struct run *x, int r, const struct cyris_guest_spec *s)
{
	char mine[240], theirs[240];
	struct cyris_tag t;
	size_t i;
	int k = cyris_netns_tag(s->name, &t);

	(void)cyris_tag_describe(&s->tag, mine, sizeof(mine));
	if (k >= 0) {
		if (k == 1)
			(void)cyris_tag_describe(&t, theirs, sizeof(theirs));
		else
			snprintf(theirs, sizeof(theirs), "a namespace cyris did not make");
		return cyris_error_set(x->err, r, "namespace %s of %s collides with %s", s->name,
				  mine, theirs);
	}
	for (i = 0; i < s->n_nics; i++) {
		struct cyris_link l;

		if (cyris_link_get(x->nl, s->nics[i].host_ifname, &l) < 0)
			continue;
		cyris_link_clear(&l);
		t = s->tag;
		snprintf(t.net, sizeof(t.net), "%s", s->nics[i].net);
		snprintf(t.nic, sizeof(t.nic), "%s", s->nics[i].nic);
		snprintf(t.role, sizeof(t.role), "veth");
		return collision(x, r, s->nics[i].host_ifname, NULL, &t);
	}
	return cyris_error_set(x->err, r, "%s (%s): %s", mine, s->name, strerror(-r));
}

static int do_guest(struct run *x, const struct cyris_plan_guest *g)
{
	struct cyris_guest_spec s;
	int r;

	guest_spec(x->p, g, &s);
	r = x->prov->ops->create(x->prov, &s, NULL);
	if (r == -EEXIST && streq(x->prov->ops->name, "netns"))
		return guest_collision(x, r, &s);
	if (r < 0) {
		const struct cyris_error *e = x->prov->ops->error ? x->prov->ops->error(x->prov) : NULL;

		cyris_error_set(x->err, r, "guest %s (%s): %s", g->tag_guest, g->name,
				e && e->msg[0] ? e->msg : strerror(-r));
		if (e && e->detail[0])
			cyris_error_detail(x->err, e->source, "%s", e->detail);
	}
	return r < 0 ? r : 0;
}

/* The policy of one enforcement point: @at = -1 the host, else a guest. */
static int apply_policy(struct run *x, struct cyris_fw *fw, int at)
{
	struct cyris_fw_policy pol;
	struct cyris_error m;
	size_t i;
	int r = cyris_fw_policy_init(&pol, x->p->range);

	if (r == 0)
		r = cyris_fw_resolve(fw, &pol);
	for (i = 0; r == 0 && i < x->p->n_rules; i++) {
		const struct cyris_plan_rule *pr = &x->p->rules[i];

		if (pr->at != at)
			continue;
		/* the resolved rule as data: nothing re-parsed, nothing cut */
		r = cyris_fw_policy_add_rule(&pol, &pr->fw, &m);
		if (r < 0) {
			cyris_fw_policy_clear(&pol);
			return cyris_error_set(x->err, r, "rule '%s': %s", pr->orig, m.msg);
		}
	}
	for (i = 0; r == 0 && at == -1 && i < x->p->n_exposes; i++) {
		const struct cyris_plan_expose *pe = &x->p->exposes[i];
		struct cyris_fw_expose e = { .host_port = pe->host_port, .to_port = pe->port,
					     .proto = CYRIS_FW_TCP, .snat = pe->snat,
					     .to = x->p->guests[pe->guest].nics[0].addr.ip };

		r = cyris_fw_policy_add_expose(&pol, &e);
	}
	for (i = 0; r == 0 && at == -1 && i < x->p->n_ingress; i++)
		r = cyris_fw_policy_add_ingress(&pol, x->p->ingress[i]);
	if (r == 0 && at >= 0 && x->p->guests[at].uplink[0])
		r = cyris_fw_policy_add_uplink(&pol, x->p->guests[at].uplink, x->p->guests[at].uplink_mac);
	if (r == 0 && (r = cyris_fw_apply(fw, &pol, false)) < 0) {
		const struct cyris_fw_error *e = cyris_fw_last_error(fw);

		r = cyris_error_set(x->err, r, "firewall%s%s: %s: %s", at < 0 ? "" : " in ",
			 at < 0 ? "" : x->p->guests[at].name, e->text, strerror(-r));
		if (e->e.detail[0])
			cyris_error_detail(x->err, e->e.source, "%s", e->e.detail);
	}
	cyris_fw_policy_clear(&pol);
	return r;
}

static int do_fw_host(struct run *x)
{
	int r = 0;

	if (!x->fw && (r = cyris_fw_open(&x->fw, x->o->netns)) < 0)
		return cyris_error_set(x->err, r, "nftables: %s", strerror(-r));
	r = apply_policy(x, x->fw, -1);
	if (r == -EEXIST) {
		char table[CYRIS_FW_TABLESIZ] = "";

		(void)cyris_fw_table_name(x->p->range, table, sizeof(table));
		return cyris_error_set(x->err, r, "name %s of the firewall table of range %s collides "
				  "with a table that is not range %s's", table, x->p->range, x->p->range);
	}
	return r;
}

static int do_fw_gw(struct run *x, size_t gi)
{
	struct cyris_fw *fw;
	int r;

	if (!streq(x->prov->ops->name, "netns"))
		return has_rules_at(x->p, (int)gi)
			? cyris_error_set(x->err, -EOPNOTSUPP, "gateway %s: rules inside a VM gateway need "
			       "the netns provider", x->p->guests[gi].name)
			: 0;
	if ((r = cyris_fw_open(&fw, x->p->guests[gi].name)) < 0)
		return cyris_error_set(x->err, r, "nftables in %s: %s", x->p->guests[gi].name, strerror(-r));
	r = apply_policy(x, fw, (int)gi);
	cyris_fw_free(fw);
	return r;
}

/* Forwarding on the interfaces outside clients come in on, where it is
 * off (see entry_ingress); the rollback turns off what this turned on. */
static int do_ingress(struct run *x)
{
	size_t i;
	int r = 0;

	for (i = 0; i < x->p->n_ingress; i++) {
		struct cyris_link l;
		bool on = false;

		if ((r = cyris_link_get(x->nl, x->p->ingress[i], &l)) < 0)
			break;
		cyris_link_clear(&l);
		if ((r = cyris_ipv4_forwarding(x->nl, l.ifindex, &on)) < 0 ||
		    (!on && (r = cyris_link_set_forwarding(x->nl, l.ifindex, true)) < 0))
			break;
		if (!on)
			x->fwd_on[x->n_fwd_on++] = l.ifindex;
	}
	if (r < 0) {
		while (x->n_fwd_on)
			(void)cyris_link_set_forwarding(x->nl, x->fwd_on[--x->n_fwd_on], false);
		return cyris_error_set(x->err, r, "forwarding on %s (the entry points' way in): %s",
				  x->p->ingress[i], strerror(-r));
	}
	return 0;
}

static const char *step_label(const struct cyris_plan *p, const struct step *s, char *buf, size_t size)
{
	switch (s->kind) {
	case ST_BRIDGE: snprintf(buf, size, "bridge %s (%s)", p->nets[s->idx].bridge, p->nets[s->idx].name); break;
	case ST_VXLAN: snprintf(buf, size, "vxlan %s", p->nets[s->idx].vxlan); break;
	case ST_GUEST: snprintf(buf, size, "guest %s", p->guests[s->idx].name); break;
	case ST_FW_HOST: snprintf(buf, size, "firewall"); break;
	case ST_FW_GW: snprintf(buf, size, "firewall in %s", p->guests[s->idx].name); break;
	case ST_INGRESS: snprintf(buf, size, "forwarding on %s (entry points)", p->ingress[0]); break;
	}
	return buf;
}

static int do_step(struct run *x, const struct step *s)
{
	switch (s->kind) {
	case ST_BRIDGE: return do_bridge(x, &x->p->nets[s->idx]);
	case ST_VXLAN: return do_vxlan(x, &x->p->nets[s->idx]);
	case ST_GUEST: return do_guest(x, &x->p->guests[s->idx]);
	case ST_FW_HOST: return do_fw_host(x);
	case ST_FW_GW: return do_fw_gw(x, s->idx);
	case ST_INGRESS: return do_ingress(x);
	}
	return -EINVAL;
}

/* Undo one step that succeeded; errors are ignored, the rest goes on. */
static void undo_step(struct run *x, const struct step *s)
{
	struct cyris_link l;

	switch (s->kind) {
	case ST_BRIDGE:
	case ST_VXLAN:
		if (cyris_link_get(x->nl, s->kind == ST_BRIDGE ? x->p->nets[s->idx].bridge
							       : x->p->nets[s->idx].vxlan, &l) == 0) {
			if (l.owned)
				(void)cyris_link_del(x->nl, l.ifindex);
			cyris_link_clear(&l);
		}
		break;
	case ST_GUEST:
		(void)x->prov->ops->destroy(x->prov, x->p->guests[s->idx].name, true);
		break;
	case ST_FW_HOST:
		(void)cyris_fw_destroy(x->fw, x->p->range, false);
		break;
	case ST_FW_GW:
		break;  /* the table goes with the guest's namespace */
	case ST_INGRESS:
		while (x->n_fwd_on)
			(void)cyris_link_set_forwarding(x->nl, x->fwd_on[--x->n_fwd_on], false);
		break;
	}
}

/* Is anything of @range already here? */
static int present(const char *range, const struct cyris_topo_opts *o, struct cyris_nl *nl)
{
	struct cyris_link_list l = {0};
	struct cyris_netns_entry *ns = NULL;
	size_t i, n = 0;
	int r = cyris_link_list(nl, &l), found = 0;

	for (i = 0; r == 0 && i < l.n; i++)
		found |= l.v[i].owned && cyris_tag_in_range(&l.v[i].tag, range);
	cyris_link_list_free(&l);
	if (r == 0 && !found && !(o && o->netns) && (r = cyris_netns_list(range, &ns, &n)) == 0)
		found = n > 0;
	free(ns);
	return r < 0 ? r : found;
}

/* The checks cyris-check runs, before anything is made: refuse with the
 * list of what is missing instead of failing half way. */
static int preflight(const char *provider, const struct cyris_conf *conf, struct cyris_error *err)
{
	struct cyris_check_item *v = NULL;
	size_t n = 0, i, len = 0;
	int failed = cyris_check_preflight(provider, conf, &v, &n);
	char msg[CYRIS_ERROR_MSG_MAX] = "";

	if (failed > 0 && err) {
		for (i = 0; i < n && len < sizeof(msg); i++)
			if (v[i].needed && !v[i].ok)
				len += (size_t)snprintf(msg + len, sizeof(msg) - len, " %s: %s;",
							v[i].name, v[i].detail);
		cyris_error_set(err, -EPERM, "this host cannot run a %s range (cyris-check):%s",
				provider, msg);
	}
	free(v);
	return failed > 0 ? -EPERM : failed;
}

/* ---- guests on two threads ---------------------------------------------------- */

/*
 * Most of up is its guests, and most of a netns guest is the kernel's work:
 * the namespace (whose setup runs mostly outside RTNL), the veth, the
 * address and the route (RTNL serialises only the kernel's part of each).
 * So a run of guests that need nothing but what is already up — the
 * guests that are no gateway: the gateways and their tables come before
 * them — is shared by two threads, each with its own provider (its own
 * netlink sockets and bridge lookups) and host socket, when the run is long
 * enough to pay. A thread claims the next step in order under one lock,
 * and everything that concerns the step as a whole happens at the claim:
 * the progress call, the injected failure, and (on the thread that called
 * up, the one signals are delivered to) the cancel. The first failure, in
 * either thread, stops both after the step each has in hand; the error kept
 * is the one of the lowest step that failed; the rollback then undoes every
 * step that completed, wherever it ran.
 */
#define TWO_THREADS_MIN 32   /* guests in a run, below which one thread does it */

struct par {
	struct run *x;
	const struct step *steps;
	bool *ok;                         /* the steps completed */
	size_t next, end, n;              /* the next to claim, the end of the run, all steps */
	bool stop;
	size_t failed;                    /* the lowest step that failed (end: none) */
	int rc;
	struct cyris_error err;           /* its error */
	bool second_claimed;              /* the second thread made its first claim */
	pthread_mutex_t lock;
	pthread_cond_t claimed;
};

struct worker {
	struct par *par;
	struct run x;                     /* the run with this thread's sockets */
	struct cyris_error err;
	bool caller;                      /* the thread that called up: reads *cancel */
};

/* (with the lock) step @k failed with @rc, @e saying why */
static void par_fail(struct par *pa, size_t k, int rc, const struct cyris_error *e)
{
	pa->stop = true;
	if (k >= pa->failed)
		return;
	pa->failed = k;
	pa->rc = rc;
	pa->err = *e;
}

/* The next step for @w, or SIZE_MAX when there is none or the run stops. */
static size_t par_claim(struct worker *w)
{
	struct par *pa = w->par;
	const struct cyris_topo_opts *o = pa->x->o;
	size_t k = SIZE_MAX;
	char label[200];

	pthread_mutex_lock(&pa->lock);
	if (pa->stop || pa->next == pa->end)
		goto out;
	k = pa->next++;
	step_label(pa->x->p, &pa->steps[k], label, sizeof(label));
	if (o->progress)
		o->progress(o->progress_arg, k + 1, pa->n, label);
	if (w->caller && o->cancel && *o->cancel)
		cyris_error_set(&w->err, -ECANCELED, "interrupted before %s", label);
	else if (o->fail_at == k + 1)
		cyris_error_set(&w->err, -EIO, "injected failure at step %zu (%s)", k + 1, label);
	else
		goto out;
	par_fail(pa, k, w->err.code, &w->err);
	k = SIZE_MAX;
out:
	if (!w->caller && !pa->second_claimed) {
		pa->second_claimed = true;
		pthread_cond_signal(&pa->claimed);
	}
	pthread_mutex_unlock(&pa->lock);
	return k;
}

static void *par_work(void *arg)
{
	struct worker *w = arg;
	struct par *pa = w->par;
	size_t k;

	while ((k = par_claim(w)) != SIZE_MAX) {
		int r;

		cyris_error_clear(&w->err);
		r = do_step(&w->x, &pa->steps[k]);
		pthread_mutex_lock(&pa->lock);
		if (r < 0) {
			if (!w->err.msg[0])
				cyris_error_set(&w->err, r, "step %zu: %s", k + 1, strerror(-r));
			par_fail(pa, k, r, &w->err);
		} else {
			pa->ok[k] = true;
		}
		pthread_mutex_unlock(&pa->lock);
	}
	return NULL;
}

/* How many threads build a run of @n guests: o->threads (CYRIS_TOPO_THREADS),
 * else two when the run is long enough to pay and two CPUs can run them. */
static unsigned par_threads(const struct run *x, size_t n)
{
	cpu_set_t cpus;

	if (!streq(x->prov->ops->name, "netns"))
		return 1;   /* the one provider whose create is known to be thread-safe */
	if (x->o->threads)
		return x->o->threads > 1 ? 2 : 1;
	if (n < TWO_THREADS_MIN)
		return 1;
	return sched_getaffinity(0, sizeof(cpus), &cpus) == 0 && CPU_COUNT(&cpus) < 2 ? 1 : 2;
}

/* The second thread's run: a provider and a host socket of its own. */
static int par_second(struct run *x, struct worker *w)
{
	int r;

	w->x = *x;
	w->x.nl = NULL;
	w->x.prov = NULL;
	w->x.fw = NULL;   /* (no guest step uses the host's firewall) */
	w->x.err = &w->err;
	if ((r = cyris_nl_open(&w->x.nl, x->o->netns)) < 0 ||
	    (r = cyris_provider_open(x->prov->ops->name, x->conf, x->o->netns, &w->x.prov)) < 0) {
		cyris_nl_close(w->x.nl);
		w->x.nl = NULL;
		return r;
	}
	return 0;
}

/*
 * Steps [@from, @end) of @steps (all of them ST_GUEST), of @n in all, on
 * two threads; @ok marks those that completed. The first is made alone (it
 * prepares /run/netns, which two threads must not do at once), the second
 * is the second thread's (so that which thread makes which step is not
 * left to chance where it matters: at the start), then each takes the next.
 * 0, or the error of the lowest step that failed, in *ret_failed. Without a
 * second thread (no socket, no thread to be had) the calling thread does
 * them all.
 */
static int par_run(struct run *x, const struct step *steps, bool *ok, size_t from, size_t end,
		   size_t n, size_t *ret_failed)
{
	struct par pa = { .x = x, .steps = steps, .ok = ok, .next = from, .end = from + 1, .n = n,
			  .failed = SIZE_MAX };
	struct worker me = { .par = &pa, .x = *x, .caller = true }, other = { .par = &pa };
	pthread_attr_t attr;
	sigset_t all;
	pthread_t t;
	bool two = false;

	pthread_mutex_init(&pa.lock, NULL);
	pthread_cond_init(&pa.claimed, NULL);
	me.x.err = &me.err;
	par_work(&me);
	pa.end = end;
	if (!pa.stop && par_second(x, &other) == 0 && pthread_attr_init(&attr) == 0) {
		/* signals stay with the caller's thread, which checks the cancel
		 * (the second one is born with all of them blocked; the
		 * caller's own mask is never touched) */
		sigfillset(&all);
		two = pthread_attr_setsigmask_np(&attr, &all) == 0 &&
		      pthread_create(&t, &attr, par_work, &other) == 0;
		pthread_attr_destroy(&attr);
	}
	pthread_mutex_lock(&pa.lock);
	while (two && !pa.second_claimed)
		pthread_cond_wait(&pa.claimed, &pa.lock);
	pthread_mutex_unlock(&pa.lock);
	par_work(&me);
	if (two)
		pthread_join(t, NULL);
	cyris_nl_close(other.x.nl);
	cyris_provider_free(other.x.prov);
	pthread_cond_destroy(&pa.claimed);
	pthread_mutex_destroy(&pa.lock);
	if (pa.failed == SIZE_MAX)
		return 0;
	if (x->err)
		*x->err = pa.err;
	*ret_failed = pa.failed;
	return pa.rc;
}

/* The end of the run of guest steps from @i (@i itself when it is none). */
static size_t guest_run_end(const struct step *steps, size_t i, size_t n)
{
	while (i < n && steps[i].kind == ST_GUEST)
		i++;
	return i;
}

int cyris_topo_up(const struct cyris_range *r, const struct cyris_conf *conf,
		  const struct cyris_topo_opts *o, struct cyris_plan **ret_plan,
		  struct cyris_error *err)
{
	struct run x = { .conf = conf, .o = o, .err = err };
	struct cyris_plan *p = NULL;
	struct step *steps = NULL;
	size_t n, done = 0;
	bool *ok = NULL;
	char label[200];
	int rc, lock = -1;

	cyris_error_clear(err);
	if ((rc = preflight(provider_name(o), conf, err)) < 0)
		return rc;
	/* from reading the host's state (present, plan) to the last step or
	 * the end of the rollback: nobody else allocates meanwhile */
	if ((rc = cyris_host_lock(conf, o->netns, o->cancel, o->lock_wait, o->progress_arg, &lock,
				  err)) < 0)
		return rc;
	if ((rc = cyris_nl_open(&x.nl, o->netns)) < 0) {
		cyris_host_unlock(lock);
		return cyris_error_set(err, rc, "netlink: %s", strerror(-rc));
	}
	rc = present(r->id, o, x.nl);
	if (rc > 0)
		rc = cyris_error_set(err, -EEXIST, "range %s is already up on this host (cyris-topo down %s)",
			  r->id, r->id);
	else if (rc < 0)
		rc = cyris_error_set(err, rc, "reading this host's links and namespaces: %s", strerror(-rc));
	if (rc == 0)
		rc = cyris_topo_plan(r, conf, o, &p, err);
	if (rc == 0 && (rc = cyris_provider_open(provider_name(o), conf, o->netns, &x.prov)) < 0)
		rc = cyris_error_set(err, rc, "provider %s: %s", provider_name(o),
			  rc == -ENOENT ? "not built into this cyris" : strerror(-rc));
	if (rc < 0)
		goto out;
	x.p = p;
	n = list_steps(p, NULL);
	steps = calloc(n + 1, sizeof(*steps));
	if (!steps) {
		rc = -ENOMEM;
		goto out;
	}
	list_steps(p, steps);
	ok = calloc(n + 1, sizeof(*ok));
	if (!ok) {
		rc = -ENOMEM;
		goto out;
	}
	for (done = 0; done < n; done++) {
		size_t end = guest_run_end(steps, done, n);

		if (end > done + 1 && par_threads(&x, end - done) > 1) {
			if ((rc = par_run(&x, steps, ok, done, end, n, &done)) < 0)
				break;
			done = end - 1;
			continue;
		}
		step_label(p, &steps[done], label, sizeof(label));
		if (o->progress)
			o->progress(o->progress_arg, done + 1, n, label);
		if (o->cancel && *o->cancel) {
			rc = cyris_error_set(err, -ECANCELED, "interrupted before %s", label);
			break;
		}
		if (o->fail_at == done + 1) {
			rc = cyris_error_set(err, -EIO, "injected failure at step %zu (%s)", done + 1, label);
			break;
		}
		if ((rc = do_step(&x, &steps[done])) < 0)
			break;
		ok[done] = true;
	}
	if (rc < 0 && err && !err->msg[0])
		cyris_error_set(err, rc, "step %zu: %s", done + 1, strerror(-rc));
	if (rc < 0) {
		/* roll back: everything done (on two threads: not always a
		 * prefix of the steps), in reverse */
		while (n-- > 0)
			if (ok[n])
				undo_step(&x, &steps[n]);
	}
out:
	free(ok);
	free(steps);
	cyris_fw_free(x.fw);
	cyris_provider_free(x.prov);
	cyris_nl_close(x.nl);
	cyris_host_unlock(lock);
	if (rc == 0 && ret_plan)
		*ret_plan = p;
	else
		cyris_plan_free(p);
	return rc;
}

/* ---- down -------------------------------------------------------------------- */

static int destroy_guests(const char *prov_name, const char *range, const struct cyris_conf *conf,
			  const struct cyris_topo_opts *o, size_t *count, bool must)
{
	struct cyris_guest_info *g = NULL;
	struct cyris_provider *p;
	size_t i, n = 0;
	int r = must ? cyris_provider_open(prov_name, conf, o ? o->netns : NULL, &p)
		     : cyris_provider_probe(prov_name, conf, o ? o->netns : NULL, &p);

	if (r < 0)
		return must ? r : 0;
	r = p->ops->list(p, range, &g, &n);
	if (r < 0 && !must)
		r = 0;   /* a provider that is not reachable has nothing here */
	for (i = 0; r == 0 && i < n; i++) {
		r = p->ops->destroy(p, g[i].vm_name, false);
		if (r == 0)
			(*count)++;
	}
	free(g);
	cyris_provider_free(p);
	return r;
}

/* The steps of down, in their order: what runs a range first, what
 * isolates it last. */
static const char *const down_what[] = { "libvirt guests", "links", "namespaces", "firewall table" };

/* Before step @k (1-based) of down: stop there when asked to. */
static int down_gate(const char *range, const struct cyris_topo_opts *o, unsigned k,
		     struct cyris_error *err)
{
	if (o && o->progress)
		o->progress(o->progress_arg, k, sizeof(down_what) / sizeof(down_what[0]), down_what[k - 1]);
	if (o && o->cancel && *o->cancel)
		return cyris_error_set(err, -ECANCELED, "interrupted before removing the %s of range %s "
				  "(what is left is still isolated; down %s again removes it)",
				  down_what[k - 1], range, range);
	if (o && o->fail_at == k)
		return cyris_error_set(err, -EIO, "injected failure at step %u (%s)", k, down_what[k - 1]);
	return 0;
}

/* Stop every tunnel recorded for @range (cyris_tunnel_stop() signals only
 * the process its record names) and remove the records. */
static int close_tunnels(const char *range, const struct cyris_conf *conf, size_t *ret_n,
			 struct cyris_error *err)
{
	_cleanup_free_ struct cyris_tunnel_info *v = NULL;
	struct cyris_error m = {0};
	size_t i, n = 0;
	int r;

	r = cyris_tunnel_list(conf->runtime_dir, range, &v, &n, &m);
	for (i = 0; r == 0 && i < n; i++) {
		r = cyris_tunnel_stop(&v[i], 10000, &m);
		if (r == 1)
			(*ret_n)++;
		if (r > 0)
			r = 0;
	}
	if (r < 0)
		return cyris_error_set(err, r, "tunnels of range %s: %s", range,
				  m.msg[0] ? m.msg : strerror(-r));
	return 0;
}

static int down_locked(const char *range, const struct cyris_conf *conf,
		       const struct cyris_topo_opts *o, struct cyris_topo_down_stats *ret,
		       struct cyris_error *err)
{
	struct cyris_topo_down_stats st = {0};
	_cleanup_free_ ifname_t *ingress = NULL;
	struct cyris_netns_entry *ns = NULL;
	struct cyris_fw *fw = NULL;
	struct cyris_nl *nl = NULL;
	size_t i, n = 0, n_ingress = 0;
	int r;

	if ((r = down_gate(range, o, 1, err)) < 0)
		return r;
	/* the range's entry tunnels first: one into a removed guest is useless */
	if ((r = close_tunnels(range, conf, &st.tunnels, err)) < 0)
		return r;
	/* VMs before the bridges their taps are on */
	r = destroy_guests("libvirt", range, conf, o, &st.guests,
			   o && o->provider && streq(o->provider, "libvirt"));
	if (r < 0)
		return cyris_error_set(err, r, "libvirt guests of range %s: %s", range, strerror(-r));
	if ((r = down_gate(range, o, 2, err)) < 0)
		return r;
	if ((r = cyris_nl_open(&nl, o ? o->netns : NULL)) == 0) {
		r = cyris_range_destroy(nl, range, &st.links);
		cyris_nl_close(nl);
	}
	if (r < 0)
		return cyris_error_set(err, r, "links of range %s: %s", range, strerror(-r));
	if ((r = down_gate(range, o, 3, err)) < 0)
		return r;
	/* the namespaces: those cyris made for the range, as its records say
	 * (never one only tagged on its loopback: anything inside can write
	 * that), then the records a kill -9 left without a namespace */
	r = cyris_netns_list(range, &ns, &n);
	for (i = 0; r == 0 && i < n; i++) {
		r = cyris_netns_delete(ns[i].name);
		if (r == 0 && streq(ns[i].tag.role, "guest"))
			st.guests++;
		if (r == 0)
			st.namespaces++;
	}
	free(ns);
	if (r == 0)
		r = cyris_netns_prune(range, NULL);
	if (r < 0)
		return cyris_error_set(err, r, "namespaces of range %s: %s%s", range, strerror(-r),
				  r == -EPERM ? " (" CYRIS_NETNS_RECORDS " must be owned by root or this user "
						"and writable by no one else)" : "");
	/* the firewall last: while anything of the range runs, its table
	 * isolates it; a down that stops before here is run again */
	if ((r = down_gate(range, o, 4, err)) < 0)
		return r;
	/* the forwarding this range turned on for its entry points goes off
	 * before the table that guards it and records it: a down stopped in
	 * between leaves neither an unguarded way in nor a lost record */
	r = ingress_guards(o, range, NULL, &ingress, &n_ingress);
	if (r == 0)
		r = ingress_release(o, range, ingress, n_ingress);
	if (r == 0)
		r = cyris_fw_open(&fw, o ? o->netns : NULL);
	if (r == 0) {
		r = cyris_fw_destroy(fw, range, false);
		if (r == 0)
			st.tables++;
		else if (r == -ENOENT)
			r = 0;
	}
	cyris_fw_free(fw);
	if (r < 0)
		return cyris_error_set(err, r, "firewall of range %s: %s", range, strerror(-r));
	if (ret)
		*ret = st;
	return 0;
}

int cyris_topo_down(const char *range, const struct cyris_conf *conf,
		    const struct cyris_topo_opts *o, struct cyris_topo_down_stats *ret,
		    struct cyris_error *err)
{
	int r, lock = -1;

	if (!cyris_id_valid(range))
		return cyris_error_set(err, -EINVAL, "'%s' is not a range id", range);
	/* an up of this range (or any) finishes or rolls back first */
	r = cyris_host_lock(conf, o ? o->netns : NULL, o ? o->cancel : NULL, o ? o->lock_wait : NULL,
			    o ? o->progress_arg : NULL, &lock, err);
	if (r < 0)
		return r;
	r = down_locked(range, conf, o, ret, err);
	cyris_host_unlock(lock);
	return r;
}

/* ---- show, ls ------------------------------------------------------------------ */

static void split_guest(const char *tag_guest, struct cyris_live_guest *g)
{
	const char *dot = strrchr(tag_guest, '.');
	unsigned long k = 0;

	snprintf(g->guest_id, sizeof(g->guest_id), "%s", tag_guest);
	if (dot && cyris_parse_uint(dot + 1, 100000, &k) == 0 && (size_t)(dot - tag_guest) < sizeof(g->guest_id)) {
		g->guest_id[dot - tag_guest] = '\0';
		g->index = (unsigned)k;
	}
}

/* The NICs of a netns guest: its links tagged role=nic. */
static void read_nics(struct cyris_live_guest *g)
{
	struct cyris_link_list l = {0};
	struct cyris_addr_list a = {0};
	struct cyris_nl *nl;
	size_t i, j;

	if (cyris_nl_open(&nl, g->name) < 0)
		return;
	if (cyris_link_list(nl, &l) == 0 && cyris_addr_list(nl, 0, &a) == 0) {
		for (i = 0; i < l.n && g->n_nics < CYRIS_GUEST_MAX_NICS; i++) {
			struct cyris_live_nic *n;

			if (!l.v[i].owned || !streq(l.v[i].tag.role, "nic"))
				continue;
			n = &g->nics[g->n_nics++];
			snprintf(n->nic, sizeof(n->nic), "%s", l.v[i].name);
			snprintf(n->net, sizeof(n->net), "%s", l.v[i].tag.net);
			memcpy(n->mac, l.v[i].mac, 6);
			for (j = 0; j < a.n; j++)
				if (a.v[j].ifindex == l.v[i].ifindex && a.v[j].prefix.ip.family == AF_INET) {
					n->addr = a.v[j].prefix;
					break;
				}
		}
	}
	cyris_addr_list_free(&a);
	cyris_link_list_free(&l);
	cyris_nl_close(nl);
}

static int live_nets(struct cyris_live *lv, struct cyris_nl *nl)
{
	struct cyris_link_list l = {0};
	struct cyris_addr_list a = {0};
	size_t i, j;
	int r = cyris_link_list(nl, &l);

	if (r == 0)
		r = cyris_addr_list(nl, 0, &a);
	for (i = 0; r == 0 && i < l.n; i++) {
		const struct cyris_link *k = &l.v[i];
		struct cyris_live_net *n;

		if (!k->owned || !cyris_tag_in_range(&k->tag, lv->range) || !streq(k->tag.role, "bridge"))
			continue;
		n = cyris_grow((void **)&lv->nets, &lv->n_nets, &lv->cap_nets, sizeof(*n));
		if (!n) {
			r = -ENOMEM;
			break;
		}
		snprintf(n->name, sizeof(n->name), "%s", k->tag.net);
		snprintf(n->bridge, sizeof(n->bridge), "%s", k->name);
		n->instance = k->tag.instance;
		for (j = 0; j < a.n; j++)
			if (a.v[j].ifindex == k->ifindex && a.v[j].prefix.ip.family == AF_INET) {
				n->host_addr = a.v[j].prefix;
				n->subnet = cyris_prefix_network(&a.v[j].prefix);
				break;
			}
		for (j = 0; j < l.n; j++)
			if (l.v[j].master == k->ifindex && streq(l.v[j].kind, "vxlan"))
				n->vni = l.v[j].vni;
	}
	cyris_addr_list_free(&a);
	cyris_link_list_free(&l);
	return r;
}

/* The gateway of each network: the guest holding its first address, else
 * the host. */
static void live_gateways(struct cyris_live *lv)
{
	size_t i, j, k;

	for (i = 0; i < lv->n_nets; i++) {
		struct cyris_live_net *n = &lv->nets[i];
		struct cyris_prefix first = n->subnet;
		uint32_t a;

		if (!n->subnet.ip.family)
			continue;
		memcpy(&a, first.ip.a, 4);
		a = htonl(ntohl(a) + 1);
		memcpy(first.ip.a, &a, 4);
		n->gateway = n->host_addr.ip;
		for (j = 0; j < lv->n_guests; j++)
			for (k = 0; k < lv->guests[j].n_nics; k++)
				if (lv->guests[j].instance == n->instance &&
				    cyris_ip_equal(&lv->guests[j].nics[k].addr.ip, &first.ip)) {
					n->gateway = first.ip;
					lv->guests[j].gateway = true;
				}
	}
}

static int live_guests(struct cyris_live *lv, const struct cyris_conf *conf,
		       const struct cyris_topo_opts *o)
{
	struct cyris_netns_entry *ns = NULL;
	size_t i, n = 0;
	int r = cyris_netns_list(lv->range, &ns, &n);
	struct cyris_provider *p;

	for (i = 0; r == 0 && i < n; i++) {
		struct cyris_live_guest *g;

		if (!streq(ns[i].tag.role, "guest"))
			continue;
		g = cyris_grow((void **)&lv->guests, &lv->n_guests, &lv->cap_guests, sizeof(*g));
		if (!g) {
			r = -ENOMEM;
			break;
		}
		snprintf(g->name, sizeof(g->name), "%s", ns[i].name);
		snprintf(g->provider, sizeof(g->provider), "netns");
		split_guest(ns[i].tag.guest, g);
		g->instance = ns[i].tag.instance;
		g->status = CYRIS_VM_RUNNING;
		read_nics(g);
	}
	free(ns);
	/* libvirt's guests, when there is a libvirt to ask */
	if (r == 0 && cyris_provider_probe("libvirt", conf, o ? o->netns : NULL, &p) == 0) {
		struct cyris_guest_info *v = NULL;
		size_t m = 0;

		if (p->ops->list(p, lv->range, &v, &m) == 0)
			for (i = 0; i < m; i++) {
				struct cyris_live_guest *g = cyris_grow((void **)&lv->guests, &lv->n_guests,
									&lv->cap_guests, sizeof(*g));

				if (!g)
					break;
				snprintf(g->name, sizeof(g->name), "%s", v[i].vm_name);
				snprintf(g->provider, sizeof(g->provider), "libvirt");
				split_guest(v[i].tag.guest, g);
				g->instance = v[i].tag.instance;
				g->status = v[i].status;
				for (size_t k = 0; k < v[i].n_macs && k < CYRIS_GUEST_MAX_NICS; k++) {
					snprintf(g->nics[k].nic, sizeof(g->nics[k].nic), "eth%zu", k);
					memcpy(g->nics[k].mac, v[i].macs[k], 6);
					/* its network: the one whose bridge it is on */
					for (size_t b = 0; b < lv->n_nets; b++)
						if (streq(lv->nets[b].bridge, v[i].nic_sources[k]))
							snprintf(g->nics[k].net, sizeof(g->nics[k].net), "%s",
								 lv->nets[b].name);
					if (k == 0 && v[i].ip.family)
						g->nics[k].addr = (struct cyris_prefix){ .ip = v[i].ip, .len = 32 };
					g->n_nics++;
				}
			}
		free(v);
		cyris_provider_free(p);
	}
	return r;
}

static int add_entry(struct cyris_live *lv, uint16_t port, const struct cyris_ip *to)
{
	if (lv->n_entries == lv->cap_entries) {
		size_t cap = lv->cap_entries ? 2 * lv->cap_entries : 16;
		uint16_t *p = realloc(lv->entry_ports, cap * sizeof(*p));
		struct cyris_ip *t;

		if (!p)
			return -ENOMEM;
		lv->entry_ports = p;
		t = realloc(lv->entry_to, cap * sizeof(*t));
		if (!t)
			return -ENOMEM;
		lv->entry_to = t;
		lv->cap_entries = cap;
	}
	lv->entry_ports[lv->n_entries] = port;
	lv->entry_to[lv->n_entries++] = *to;
	return 0;
}

static int live_table(struct cyris_live *lv, const struct cyris_topo_opts *o)
{
	struct cyris_fw_table *t = NULL;
	struct cyris_fw *fw;
	size_t n = 0, i;
	int r = cyris_fw_open(&fw, o ? o->netns : NULL);

	if (r < 0)
		return r;
	r = cyris_fw_show(fw, lv->range, &t, &n);
	lv->has_table = r == 0 && n > 0;
	for (i = 0; lv->has_table && r == 0 && i < t[0].n_rules; i++) {
		struct cyris_fw_expose e;

		if (streq(t[0].rules[i].chain, "prerouting") && cyris_fw_expose_parse(t[0].rules[i].comment, &e) == 0)
			r = add_entry(lv, e.host_port, &e.to);
	}
	cyris_fw_tables_free(t, n);
	cyris_fw_free(fw);
	return r;
}

int cyris_topo_show(const char *range, const struct cyris_conf *conf,
		    const struct cyris_topo_opts *o, struct cyris_live **ret)
{
	struct cyris_live *lv;
	struct cyris_nl *nl;
	int r;

	if (!cyris_id_valid(range))
		return -EINVAL;
	lv = calloc(1, sizeof(*lv));
	if (!lv)
		return -ENOMEM;
	snprintf(lv->range, sizeof(lv->range), "%s", range);
	r = cyris_nl_open(&nl, o ? o->netns : NULL);
	if (r == 0) {
		r = live_nets(lv, nl);
		cyris_nl_close(nl);
	}
	if (r == 0)
		r = live_guests(lv, conf, o);
	if (r == 0)
		r = live_table(lv, o);
	if (r == 0 && !lv->n_nets && !lv->n_guests && !lv->has_table)
		r = -ENOENT;
	if (r < 0) {
		cyris_live_free(lv);
		return r;
	}
	live_gateways(lv);
	*ret = lv;
	return 0;
}

void cyris_live_free(struct cyris_live *l)
{
	if (!l)
		return;
	free(l->nets);
	free(l->guests);
	free(l->entry_ports);
	free(l->entry_to);
	free(l);
}

static int add_range(char (**v)[CYRIS_ID_MAX + 1], size_t *n, size_t *cap, const char *range)
{
	size_t i;

	if (!range[0])
		return 0;
	for (i = 0; i < *n; i++)
		if (streq((*v)[i], range))
			return 0;
	if (!cyris_grow((void **)v, n, cap, sizeof(**v)))
		return -ENOMEM;
	snprintf((*v)[*n - 1], sizeof((*v)[0]), "%s", range);
	return 0;
}

static int cmp_range(const void *a, const void *b)
{
	return strcmp(a, b);
}

int cyris_topo_ls(const struct cyris_conf *conf, const struct cyris_topo_opts *o,
		  char (**ret)[CYRIS_ID_MAX + 1], size_t *ret_n)
{
	char (*v)[CYRIS_ID_MAX + 1] = NULL;
	struct cyris_link_list l = {0};
	struct cyris_netns_entry *ns = NULL;
	struct cyris_fw_table *t = NULL;
	struct cyris_fw *fw = NULL;
	struct cyris_nl *nl;
	size_t i, n = 0, cap = 0, nn = 0, nt = 0;
	int r = cyris_nl_open(&nl, o ? o->netns : NULL);

	(void)conf;
	if (r == 0) {
		r = cyris_link_list(nl, &l);
		cyris_nl_close(nl);
	}
	for (i = 0; r == 0 && i < l.n; i++)
		if (l.v[i].owned)
			r = add_range(&v, &n, &cap, l.v[i].tag.range);
	cyris_link_list_free(&l);
	if (r == 0 && (r = cyris_netns_list(NULL, &ns, &nn)) == 0)
		for (i = 0; r == 0 && i < nn; i++)
			r = add_range(&v, &n, &cap, ns[i].tag.range);
	free(ns);
	if (r == 0 && (r = cyris_fw_open(&fw, o ? o->netns : NULL)) == 0 &&
	    (r = cyris_fw_show(fw, NULL, &t, &nt)) == 0)
		for (i = 0; r == 0 && i < nt; i++)
			r = add_range(&v, &n, &cap, t[i].range);
	cyris_fw_tables_free(t, nt);
	cyris_fw_free(fw);
	if (r < 0) {
		free(v);
		return r;
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_range);
	*ret = v;
	*ret_n = n;
	return 0;
}
