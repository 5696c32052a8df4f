/* SPDX-License-Identifier: MIT */
/*
 * The embedded provider: a guest is a network namespace (/run/netns/NAME,
 * recorded as its range's on the host), one veth per NIC into its network's
 * bridge, its address, a default route via its gateway, forwarding when it
 * is a gateway. Everything is found again from the kernel's tags and the
 * namespaces' records, never from what a guest can write.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include "cyris/link.h"
#include "cyris/netns.h"
#include "cyris/provider.h"
#include "cyris/route.h"
#include "../base/util.h"
#include "topo-priv.h"

struct netns_priv {
	struct cyris_nl *host;          /* the namespace the bridges are in */
	/* bridge name -> ifindex, looked up once */
	struct { char name[CYRIS_ALTNAMSIZ]; int ifindex; } *br;
	size_t n_br, cap_br;
};

static struct netns_priv *priv(struct cyris_provider *p)
{
	return p->priv;
}

static int host_nl(struct cyris_provider *p, struct cyris_nl **ret)
{
	struct netns_priv *pv = priv(p);
	int r;

	if (!pv->host && (r = cyris_nl_open(&pv->host, p->netns[0] ? p->netns : NULL)) < 0)
		return r;
	*ret = pv->host;
	return 0;
}

static int bridge_index(struct cyris_provider *p, const char *name, int *ret)
{
	struct netns_priv *pv = priv(p);
	struct cyris_link l;
	struct cyris_nl *nl;
	size_t i;
	int r;

	for (i = 0; i < pv->n_br; i++)
		if (streq(pv->br[i].name, name))
			return *ret = pv->br[i].ifindex, 0;
	if ((r = host_nl(p, &nl)) < 0 || (r = cyris_link_get(nl, name, &l)) < 0)
		return r;
	cyris_link_clear(&l);
	if (!l.owned || !streq(l.kind, "bridge"))
		return -EPERM;   /* a guest plugs only into a cyris bridge */
	if (cyris_grow((void **)&pv->br, &pv->n_br, &pv->cap_br, sizeof(*pv->br))) {
		snprintf(pv->br[pv->n_br - 1].name, sizeof(pv->br[0].name), "%s", name);
		pv->br[pv->n_br - 1].ifindex = l.ifindex;
	}
	*ret = l.ifindex;
	return 0;
}

static void nic_tag(struct cyris_tag *t, const struct cyris_guest_spec *s,
		    const struct cyris_guest_nic *n, const char *role)
{
	*t = s->tag;
	snprintf(t->net, sizeof(t->net), "%s", n->net);
	snprintf(t->nic, sizeof(t->nic), "%s", n->nic);
	snprintf(t->role, sizeof(t->role), "%s", role);
}

/* Inside the guest: addresses, forwarding, the default route, on the NICs
 * whose indexes are @nic_ifindex. The caller batches them. */
static int configure_inside(const struct cyris_guest_spec *s, struct cyris_nl *nl,
			    const int *nic_ifindex)
{
	bool routed = false;
	size_t i;
	int r = 0;

	for (i = 0; r == 0 && i < s->n_nics; i++) {
		const struct cyris_guest_nic *n = &s->nics[i];

		if (n->addr.ip.family && (r = cyris_addr_add(nl, nic_ifindex[i], &n->addr)) < 0)
			break;
		if (s->forwarding && (r = cyris_link_set_forwarding(nl, nic_ifindex[i], true)) < 0)
			break;
		if (!routed && n->gateway.family) {
			struct cyris_prefix any = { .ip.family = n->gateway.family };

			r = cyris_route_add(nl, &any, &n->gateway, nic_ifindex[i], false);
			routed = true;
		}
	}
	return r;
}

static int netns_destroy(struct cyris_provider *p, const char *name, bool force);

/*
 * A guest: its namespace (loopback up and tagged, one request), then for
 * each NIC the veth pair made from the host (the host end tagged and up:
 * one create, one sendmsg after it), and inside the guest, in one sendmsg
 * at the end, each NIC's tag and up, the addresses, forwarding and the
 * default route. That batch goes last: what fails in it is undone with the
 * whole guest, whose host ends are tagged by then.
 */
static int netns_create(struct cyris_provider *p, const struct cyris_guest_spec *s,
			struct cyris_guest_info *ret)
{
	struct cyris_tag tag = s->tag;
	struct cyris_nl *nl, *gnl = NULL;
	int nic_ifindex[CYRIS_GUEST_MAX_NICS];
	size_t i;
	int r, r2;

	if (!s->name || !cyris_netns_name_valid(s->name) || s->n_nics > CYRIS_GUEST_MAX_NICS)
		return -EINVAL;
	if ((r = host_nl(p, &nl)) < 0)
		return r;
	snprintf(tag.role, sizeof(tag.role), "guest");
	/* one context inside the guest for all that is done there */
	if ((r = cyris_netns_create_nl(s->name, &tag, &gnl)) < 0)
		return r;
	cyris_nl_batch_begin(gnl);
	for (i = 0; r == 0 && i < s->n_nics; i++) {
		const struct cyris_guest_nic *n = &s->nics[i];
		struct cyris_tag ht, pt;
		struct cyris_link_cfg cfg = { .name = n->host_ifname, .tag = &ht, .up = true };
		struct cyris_veth_cfg veth = { .peer = n->nic, .peer_netns = s->name,
					       .peer_mac = n->mac, .peer_up = true, .peer_tag = &pt,
					       .peer_nl = gnl, .ret_peer_ifindex = &nic_ifindex[i] };

		nic_tag(&ht, s, n, "veth");
		nic_tag(&pt, s, n, "nic");
		if (!n->bridge[0] || !n->host_ifname[0]) {
			r = -EINVAL;
			break;
		}
		if ((r = bridge_index(p, n->bridge, &cfg.master)) < 0)
			break;
		r = cyris_veth_create(nl, &cfg, &veth, NULL);
	}
	if (r == 0)
		r = configure_inside(s, gnl, nic_ifindex);
	r2 = cyris_nl_batch_end(gnl);
	if (r == 0)
		r = r2;
	cyris_nl_close(gnl);
	if (r < 0) {
		(void)netns_destroy(p, s->name, true);
		return r;
	}
	if (ret) {
		memset(ret, 0, sizeof(*ret));
		snprintf(ret->vm_name, sizeof(ret->vm_name), "%s", s->name);
		snprintf(ret->provider, sizeof(ret->provider), "netns");
		ret->status = CYRIS_VM_RUNNING;
		ret->tag = tag;
		ret->created_at = time(NULL);
		for (i = 0; i < s->n_nics; i++)
			memcpy(ret->macs[ret->n_macs++], s->nics[i].mac, 6);
		if (s->n_nics && s->nics[0].addr.ip.family) {
			ret->ip = s->nics[0].addr.ip;
			snprintf(ret->ip_source, sizeof(ret->ip_source), "plan");
		}
	}
	return 0;
}

/* The host side of a guest's NICs: links tagged with its range, instance
 * and guest, deleted before the namespace so that nothing lingers. */
static bool guest_link(const struct cyris_link *k, void *arg)
{
	const struct cyris_tag *t = arg;

	return k->owned && streq(k->tag.range, t->range) && k->tag.instance == t->instance &&
	       streq(k->tag.guest, t->guest) && streq(k->tag.role, "veth");
}

static int delete_host_links(struct cyris_provider *p, struct cyris_tag *t)
{
	struct cyris_nl *nl;
	int r = host_nl(p, &nl);

	return r < 0 ? r : cyris_link_del_where(nl, guest_link, t, 0, NULL);
}

static int netns_destroy(struct cyris_provider *p, const char *name, bool force)
{
	struct cyris_tag t;
	int r = cyris_netns_tag(name, &t);

	if (r < 0)
		return r;
	if (r == 0 && !force)
		return -EPERM;
	if (r == 1 && t.guest[0] && (r = delete_host_links(p, &t)) < 0)
		return r;
	return cyris_netns_delete(name);
}

/* The MACs of a guest's tagged NICs, and its first IPv4 address. */
static void inspect(const char *name, struct cyris_guest_info *g)
{
	struct cyris_link_list l = {0};
	struct cyris_addr_list a = {0};
	struct cyris_nl *nl;
	size_t i, j;

	if (cyris_nl_open(&nl, name) < 0)
		return;
	if (cyris_link_list(nl, &l) == 0 && cyris_addr_list(nl, 0, &a) == 0) {
		for (i = 0; i < l.n; i++) {
			if (!l.v[i].owned || !streq(l.v[i].tag.role, "nic"))
				continue;
			if (g->n_macs < CYRIS_GUEST_MAX_NICS && l.v[i].has_mac)
				memcpy(g->macs[g->n_macs++], l.v[i].mac, 6);
			for (j = 0; j < a.n && !g->ip.family; j++)
				if (a.v[j].ifindex == l.v[i].ifindex && a.v[j].prefix.ip.family == AF_INET) {
					g->ip = a.v[j].prefix.ip;
					snprintf(g->ip_source, sizeof(g->ip_source), "netns");
				}
		}
	}
	cyris_addr_list_free(&a);
	cyris_link_list_free(&l);
	cyris_nl_close(nl);
}

static void fill_info(const struct cyris_netns_entry *e, struct cyris_guest_info *g)
{
	char path[sizeof(CYRIS_NETNS_DIR) + CYRIS_NETNS_NAMSIZ];
	struct stat st;

	memset(g, 0, sizeof(*g));
	snprintf(g->vm_name, sizeof(g->vm_name), "%s", e->name);
	snprintf(g->provider, sizeof(g->provider), "netns");
	g->tag = e->tag;
	g->status = CYRIS_VM_RUNNING;
	snprintf(path, sizeof(path), "%s/%s", CYRIS_NETNS_DIR, e->name);
	if (stat(path, &st) == 0) {
		/* the nsfs inode names the namespace itself */
		snprintf(g->vm_id, sizeof(g->vm_id), "net:[%lu]", (unsigned long)st.st_ino);
		g->created_at = st.st_mtime;
	}
	inspect(e->name, g);
}

static int netns_list(struct cyris_provider *p, const char *range,
		      struct cyris_guest_info **ret, size_t *ret_n)
{
	struct cyris_netns_entry *v = NULL;
	struct cyris_guest_info *g;
	size_t n = 0, i, k = 0;
	int r = cyris_netns_list(range, &v, &n);

	(void)p;
	if (r < 0)
		return r;
	g = calloc(n + 1, sizeof(*g));
	if (!g) {
		free(v);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++)
		if (streq(v[i].tag.role, "guest"))
			fill_info(&v[i], &g[k++]);
	free(v);
	*ret = g;
	*ret_n = k;
	return 0;
}

static int netns_status(struct cyris_provider *p, const char *name, enum cyris_vm_status *ret)
{
	int r = cyris_netns_tag(name, NULL);

	(void)p;
	if (r < 0)
		return r;
	*ret = CYRIS_VM_RUNNING;
	return 0;
}

static int netns_ip(struct cyris_provider *p, const char *name, struct cyris_guest_info *ret)
{
	struct cyris_netns_entry e = {0};
	int r = cyris_netns_tag(name, &e.tag);

	(void)p;
	if (r < 0)
		return r;
	snprintf(e.name, sizeof(e.name), "%s", name);
	fill_info(&e, ret);
	return ret->ip.family ? 0 : -ENOENT;
}

static void netns_free(struct cyris_provider *p)
{
	struct netns_priv *pv = priv(p);

	if (!pv)
		return;
	cyris_nl_close(pv->host);
	free(pv->br);
	free(pv);
	p->priv = NULL;
}

static const struct cyris_provider_ops netns_ops = {
	.name = "netns",
	.create = netns_create,
	.destroy = netns_destroy,
	.list = netns_list,
	.status = netns_status,
	.ip = netns_ip,
	.free = netns_free,
};

int cyris_provider_netns_new(struct cyris_provider *p)
{
	p->priv = calloc(1, sizeof(struct netns_priv));
	if (!p->priv)
		return -ENOMEM;
	p->ops = &netns_ops;
	return 0;
}

const struct cyris_provider_def cyris_provider_def_netns = {
	.name = "netns",
	.init = cyris_provider_netns_new,
	.checks = cyris_check_netns,
};
