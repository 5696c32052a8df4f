/* SPDX-License-Identifier: MIT */
/*
 * A range on this host: planning against the host's state, building it as a
 * transaction (undo log, rolled back on the first failure or on a cancel),
 * reading it back, and taking it down from the kernel's tags alone.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <sys/socket.h>

#include "cyris/check.h"
#include "cyris/fw.h"
#include "cyris/link.h"
#include "cyris/neigh.h"
#include "cyris/netns.h"
#include "cyris/topo.h"
#include "fw-priv.h"
#include "util.h"


static const char *provider_name(const struct cyris_topo_opts *o)
{
	return o && o->provider ? o->provider : "netns";
}

/* ---- the host's state ------------------------------------------------------ */

/* Prefixes in use (every IPv4 network on an interface) and host ports
 * already exposed by cyris tables. */
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
				    fw_expose_parse(t[i].rules[j].comment, &e) == 0 &&
				    cyris_grow((void **)&ports, &np, &cap, sizeof(*ports)))
					ports[np - 1] = e.host_port;
			}
		cyris_fw_tables_free(t, nt);
	}
	cyris_fw_free(fw);
	*ret_used = used;
	*ret_n = n;
	*ret_ports = ports;
	*ret_np = np;
	return r;
}

int cyris_topo_plan(const struct cyris_range *r, const struct cyris_conf *conf,
		    const struct cyris_topo_opts *o, struct cyris_plan **ret,
		    char *err, size_t errlen)
{
	struct cyris_plan_opts po = { .host = o ? o->host : NULL, .instance = o ? o->instance : 0 };
	struct cyris_prefix *used = NULL;
	uint16_t *ports = NULL;
	int rc = host_state(o, &used, &po.n_used, &ports, &po.n_used_ports);

	if (rc < 0) {
		free(used);
		free(ports);
		return cyris_errf(err, errlen, rc, "reading this host's addresses and rules: %s", strerror(-rc));
	}
	po.used = used;
	po.used_ports = ports;
	rc = cyris_plan_build(r, conf, &po, ret, err, errlen);
	free(used);
	free(ports);
	return rc;
}

/* ---- steps ------------------------------------------------------------------ */

enum step_kind { ST_BRIDGE, ST_VXLAN, ST_GUEST, ST_FW_HOST, ST_FW_GW };

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

static size_t list_steps(const struct cyris_plan *p, struct step *v)
{
	size_t i, n = 0;
	bool any = false;

	for (i = 0; i < p->n_nets; i++) {
		if (!p->nets[i].local)
			continue;
		any = true;
		if (v)
			v[n] = (struct step){ ST_BRIDGE, i };
		n++;
		if (p->nets[i].vni) {
			if (v)
				v[n] = (struct step){ ST_VXLAN, i };
			n++;
		}
	}
	for (i = 0; i < p->n_guests; i++) {
		if (!p->guests[i].local)
			continue;
		if (v)
			v[n] = (struct step){ ST_GUEST, i };
		n++;
	}
	if (any) {
		if (v)
			v[n] = (struct step){ ST_FW_HOST, 0 };
		n++;
	}
	for (i = 0; i < p->n_guests; i++) {
		if (!p->guests[i].local || !p->guests[i].gateway)
			continue;
		if (v)
			v[n] = (struct step){ ST_FW_GW, i };
		n++;
	}
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
	char *err;
	size_t errlen;
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

static int do_bridge(struct run *x, const struct cyris_plan_net *n)
{
	struct cyris_tag tag;
	struct cyris_link_cfg cfg = { .name = n->bridge, .tag = &tag, .altname = n->altname, .up = true };
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
	if (r < 0) {
		if (r != -EEXIST)
			(void)cyris_link_del(x->nl, ifindex);
		return cyris_errf(x->err, x->errlen, r, "bridge %s (network %s): %s", n->bridge, n->name,
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
	if (r < 0)
		return cyris_errf(x->err, x->errlen, r, "vxlan %s (network %s, VNI %u): %s", n->vxlan, n->name,
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

static int do_guest(struct run *x, const struct cyris_plan_guest *g)
{
	struct cyris_guest_spec s;
	int r;

	guest_spec(x->p, g, &s);
	r = x->prov->ops->create(x->prov, &s, NULL);
	return r < 0 ? cyris_errf(x->err, x->errlen, r, "guest %s (%s): %s", g->tag_guest, g->name,
			    strerror(-r)) : 0;
}

/* The policy of one enforcement point: @at = -1 the host, else a guest. */
static int apply_policy(struct run *x, struct cyris_fw *fw, int at)
{
	struct cyris_fw_policy pol;
	char msg[300];
	size_t i;
	int r = cyris_fw_policy_init(&pol, x->p->range);

	if (r == 0)
		r = cyris_fw_resolve(fw, &pol);
	for (i = 0; r == 0 && i < x->p->n_rules; i++) {
		const struct cyris_plan_rule *pr = &x->p->rules[i];
		struct cyris_fw_rule fr;

		if (pr->at != at)
			continue;
		r = cyris_fw_rule_parse(pr->text, &fr, msg, sizeof(msg));
		fr.line = pr->mark.line;
		if (r == 0)
			r = cyris_fw_policy_add_rule(&pol, &fr, msg, sizeof(msg));
		if (r < 0) {
			cyris_fw_policy_clear(&pol);
			return cyris_errf(x->err, x->errlen, r, "rule '%s': %s", pr->orig, msg);
		}
	}
	for (i = 0; r == 0 && at == -1 && i < x->p->n_exposes; i++) {
		const struct cyris_plan_expose *pe = &x->p->exposes[i];
		struct cyris_fw_expose e = { .host_port = pe->host_port, .to_port = pe->port,
					     .proto = CYRIS_FW_TCP,
					     .to = x->p->guests[pe->guest].nics[0].addr.ip };

		r = cyris_fw_policy_add_expose(&pol, &e);
	}
	if (r == 0 && (r = cyris_fw_apply(fw, &pol, false)) < 0) {
		const struct cyris_fw_error *e = cyris_fw_last_error(fw);

		r = cyris_errf(x->err, x->errlen, r, "firewall%s%s: %s: %s%s%s", at < 0 ? "" : " in ",
			 at < 0 ? "" : x->p->guests[at].name, e->text, strerror(-r),
			 e->extack[0] ? " — " : "", e->extack);
	}
	cyris_fw_policy_clear(&pol);
	return r;
}

static int do_fw_host(struct run *x)
{
	int r = 0;

	if (!x->fw && (r = cyris_fw_open(&x->fw, x->o->netns)) < 0)
		return cyris_errf(x->err, x->errlen, r, "nftables: %s", strerror(-r));
	r = apply_policy(x, x->fw, -1);
	if (r == -EEXIST)
		return cyris_errf(x->err, x->errlen, r, "a table of range %s's name exists and is not cyris's",
			    x->p->range);
	return r;
}

static int do_fw_gw(struct run *x, size_t gi)
{
	struct cyris_fw *fw;
	int r;

	if (!streq(x->prov->ops->name, "netns"))
		return has_rules_at(x->p, (int)gi)
			? cyris_errf(x->err, x->errlen, -EOPNOTSUPP, "gateway %s: rules inside a VM gateway need "
			       "the netns provider", x->p->guests[gi].name)
			: 0;
	if ((r = cyris_fw_open(&fw, x->p->guests[gi].name)) < 0)
		return cyris_errf(x->err, x->errlen, r, "nftables in %s: %s", x->p->guests[gi].name, strerror(-r));
	r = apply_policy(x, fw, (int)gi);
	cyris_fw_free(fw);
	return r;
}

static const char *step_label(const struct cyris_plan *p, const struct step *s, char *buf, size_t size)
{
	switch (s->kind) {
	case ST_BRIDGE: snprintf(buf, size, "bridge %s (%s)", p->nets[s->idx].bridge, p->nets[s->idx].name); break;
	case ST_VXLAN: snprintf(buf, size, "vxlan %s", p->nets[s->idx].vxlan); break;
	case ST_GUEST: snprintf(buf, size, "guest %s", p->guests[s->idx].name); break;
	case ST_FW_HOST: snprintf(buf, size, "firewall"); break;
	case ST_FW_GW: snprintf(buf, size, "firewall in %s", p->guests[s->idx].name); break;
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
static int preflight(const char *provider, const struct cyris_conf *conf, char *err, size_t errlen)
{
	struct cyris_check_item *v = NULL;
	size_t n = 0, i, len;
	int failed = cyris_check_run(provider, conf, false, &v, &n);

	if (failed > 0 && err && errlen) {
		snprintf(err, errlen, "this host cannot run a %s range (cyris-check):", provider);
		for (i = 0; i < n; i++) {
			len = strlen(err);
			if (v[i].needed && !v[i].ok)
				snprintf(err + len, errlen - len, " %s: %s;", v[i].name, v[i].detail);
		}
	}
	free(v);
	return failed > 0 ? -EPERM : failed;
}

int cyris_topo_up(const struct cyris_range *r, const struct cyris_conf *conf,
		  const struct cyris_topo_opts *o, struct cyris_plan **ret_plan,
		  char *err, size_t errlen)
{
	struct run x = { .conf = conf, .o = o, .err = err, .errlen = errlen };
	struct cyris_plan *p = NULL;
	struct step *steps = NULL;
	size_t n, done = 0;
	char label[200];
	int rc;

	if ((rc = preflight(provider_name(o), conf, err, errlen)) < 0)
		return rc;
	if ((rc = cyris_nl_open(&x.nl, o->netns)) < 0)
		return cyris_errf(err, errlen, rc, "netlink: %s", strerror(-rc));
	rc = present(r->id, o, x.nl);
	if (rc > 0)
		rc = cyris_errf(err, errlen, -EEXIST, "range %s is already up on this host (cyris-topo down %s)",
			  r->id, r->id);
	else if (rc < 0)
		rc = cyris_errf(err, errlen, rc, "reading this host's links and namespaces: %s", strerror(-rc));
	if (rc == 0)
		rc = cyris_topo_plan(r, conf, o, &p, err, errlen);
	if (rc == 0 && (rc = cyris_provider_open(provider_name(o), conf, o->netns, &x.prov)) < 0)
		rc = cyris_errf(err, errlen, rc, "provider %s: %s", provider_name(o),
			  rc == -EOPNOTSUPP ? "not built into this cyris" : strerror(-rc));
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
	for (done = 0; done < n; done++) {
		step_label(p, &steps[done], label, sizeof(label));
		if (o->progress)
			o->progress(o->progress_arg, done + 1, n, label);
		if (o->cancel && *o->cancel) {
			rc = cyris_errf(err, errlen, -ECANCELED, "interrupted before %s", label);
			break;
		}
		if (o->fail_at == done + 1) {
			rc = cyris_errf(err, errlen, -EIO, "injected failure at step %zu (%s)", done + 1, label);
			break;
		}
		if ((rc = do_step(&x, &steps[done])) < 0)
			break;
	}
	if (rc < 0 && err && errlen && !err[0])
		cyris_errf(err, errlen, rc, "step %zu: %s", done + 1, strerror(-rc));
	if (rc < 0) {
		/* roll back: everything done, in reverse */
		while (done-- > 0)
			undo_step(&x, &steps[done]);
	}
out:
	free(steps);
	cyris_fw_free(x.fw);
	cyris_provider_free(x.prov);
	cyris_nl_close(x.nl);
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

int cyris_topo_down(const char *range, const struct cyris_conf *conf,
		    const struct cyris_topo_opts *o, struct cyris_topo_down_stats *ret,
		    char *err, size_t errlen)
{
	struct cyris_topo_down_stats st = {0};
	struct cyris_netns_entry *ns = NULL;
	struct cyris_fw *fw = NULL;
	struct cyris_nl *nl = NULL;
	size_t i, n = 0;
	int r;

	if (!cyris_id_valid(range))
		return cyris_errf(err, errlen, -EINVAL, "'%s' is not a range id", range);
	/* the firewall first: nothing of the range is left exposed meanwhile */
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
		return cyris_errf(err, errlen, r, "firewall of range %s: %s", range, strerror(-r));
	/* VMs before the bridges their taps are on */
	r = destroy_guests("libvirt", range, conf, o, &st.guests,
			   o && o->provider && streq(o->provider, "libvirt"));
	if (r < 0)
		return cyris_errf(err, errlen, r, "libvirt guests of range %s: %s", range, strerror(-r));
	if ((r = cyris_nl_open(&nl, o ? o->netns : NULL)) == 0) {
		r = cyris_range_destroy(nl, range, &st.links);
		cyris_nl_close(nl);
	}
	if (r < 0)
		return cyris_errf(err, errlen, r, "links of range %s: %s", range, strerror(-r));
	/* the namespaces: guests and anything else tagged with the range */
	r = cyris_netns_list(range, &ns, &n);
	for (i = 0; r == 0 && i < n; i++) {
		r = cyris_netns_delete(ns[i].name);
		if (r == 0 && streq(ns[i].tag.role, "guest"))
			st.guests++;
		if (r == 0)
			st.namespaces++;
	}
	free(ns);
	if (r < 0)
		return cyris_errf(err, errlen, r, "namespaces of range %s: %s", range, strerror(-r));
	if (ret)
		*ret = st;
	return 0;
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

		if (streq(t[0].rules[i].chain, "prerouting") && fw_expose_parse(t[0].rules[i].comment, &e) == 0)
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
