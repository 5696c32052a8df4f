/* SPDX-License-Identifier: MIT */
/*
 * cyris-bridge — bridges, veth pairs, taps and VXLAN for cyber ranges.
 * A thin layer over libcyris: parse words, call the library, report.
 */
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "cli.h"
#include "cyris/addr.h"
#include "cyris/conf.h"
#include "cyris/link.h"
#include "cyris/neigh.h"
#include "cyris/netns.h"
#include "cyris/route.h"
#include "cyris/tag.h"
#include "linkfmt.h"
#include "../net/base/util.h"

static const char help[] =
"Usage: cyris-bridge [-j] [-p] [-n NETNS] [--force] COMMAND\n"
"       cyris-bridge [-n NETNS] [--force] -b FILE|-\n"
"\n"
"Bridges, veth pairs, taps and VXLAN links for cyber ranges, tagged with\n"
"their owner so that they can be listed and removed exactly.\n"
"\n"
"Commands:\n"
"  add [BRIDGE] [range R] [net N] [inst I] [addr CIDR]... [stp on|off]\n"
"      [forward-delay CS] [vlan-filtering on|off] [mtu N] [mac MAC]\n"
"                        create (or confirm) a bridge; without BRIDGE the\n"
"                        name is derived from R and N and printed\n"
"  del NAME              delete a link cyris owns\n"
"  veth NAME peer PEER [master BRIDGE] [peer-netns NETNS] [range R] [net N]\n"
"      [inst I] [guest G] [nic N] [mtu N] [mac MAC] [peer-mac MAC] [peer-down]\n"
"                        a veth pair, both ends up (the peer down with\n"
"                        peer-down), the peer optionally in another netns\n"
"  tap NAME [master BRIDGE] [owner UID] [group GID] [vnet-hdr] [range R] [net N]\n"
"      [mtu N] [mac MAC]  a persistent tap, the device a VM NIC plugs into\n"
"  vxlan NAME id VNI remote IP [local IP] [dstport PORT] [dev IFACE]\n"
"      [master BRIDGE] [range R] [net N]\n"
"  attach PORT BRIDGE    make PORT a port of BRIDGE\n"
"  detach PORT           release PORT from its bridge\n"
"  set NAME [up|down] [mtu N] [mac MAC] [forwarding on|off]\n"
"  route add|del DEST|default via GW [dev NAME]\n"
"                        routes cyris adds carry proto 199; del touches\n"
"                        only those unless --force\n"
"  remote add VXLAN IP    flood to one more host (head-end replication)\n"
"  in NETNS COMMAND...   run one command in another namespace (for batches)\n"
"  netns add NAME [range R] [inst I] [guest G]\n"
"  netns del NAME | netns list [range R]\n"
"                        named namespaces (/run/netns); cyris's are those it\n"
"                        recorded in /run/cyris/netns, not what lo says\n"
"  addr add|del CIDR dev NAME\n"
"  show [NAME] [range R] bridges with their ports, addresses, alias, altnames\n"
"  fdb [BRIDGE] [all]    learned MAC -> port (all: also the ports' own)\n"
"  neigh [dev NAME] [mac MAC]\n"
"                        ARP/NDP entries; with mac: the best address for it\n"
"  name R N [inst I]     print the kernel name derived for (R, N)\n"
"  destroy range R       delete every link tagged with range R, nothing else\n"
"\n"
"Options:\n"
"  -j, --json            JSON output (show, fdb, neigh, name, add,\n"
"                        destroy, netns list)\n"
"  -p, --pretty          indent JSON\n"
"  -n, --netns NETNS     work in /run/netns/NETNS, a path, or pid:PID\n"
"  -b, --batch FILE|-    one command per line from FILE or stdin, in one\n"
"                        process; stops at the first failing line (FILE:LINE)\n"
"      --force           change links that cyris does not own\n"
"  -h, --help            this text;  -V, --version\n"
"\n"
"Links cyris creates carry the alias \"cyris range=R net=N role=...\" and the\n"
"range's netdev group. del, detach, set, attach, addr and destroy refuse links\n"
"without that tag unless --force.\n"
"\n"
"Exit status: 0 success, 1 an operation failed, 2 usage error.\n";

/* Links this process created or looked up, so that a batch does not ask the
 * kernel for an index it already knows. */
struct known {
	char name[CYRIS_ALTNAMSIZ];
	int ifindex;
	bool owned;
	char kind[16];
};

struct state {
	struct known *v;
	size_t n, cap;
	char kind;                  /* first letter of derived names */
};

static struct state *st(struct cli *c)
{
	return c->data;
}

static void forget(struct cli *c, int ifindex)
{
	struct state *s = st(c);
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->v[i].ifindex == ifindex || ifindex == 0)
			s->v[i].ifindex = 0;
}

static void remember(struct cli *c, const char *name, int ifindex, bool owned,
		     const char *kind)
{
	struct state *s = st(c);
	struct known *k = cyris_grow((void **)&s->v, &s->n, &s->cap, sizeof(*k));

	if (!k)
		return; /* only a cache */
	snprintf(k->name, sizeof(k->name), "%s", name);
	snprintf(k->kind, sizeof(k->kind), "%s", kind);
	k->ifindex = ifindex;
	k->owned = owned;
}

static const struct known *lookup(struct cli *c, const char *name)
{
	struct state *s = st(c);
	size_t i = s->n;

	while (i--)
		if (s->v[i].ifindex && streq(s->v[i].name, name))
			return &s->v[i];
	return NULL;
}

/*
 * Find link @name. With @modify, refuse a link cyris does not own unless
 * --force. Returns 0 and the index, or an exit code (the error is reported).
 */
static int resolve(struct cli *c, const char *name, bool modify, struct known *ret)
{
	const struct known *k = lookup(c, name);
	struct cyris_link l = {0};
	struct cyris_nl *nl;
	int r;

	if (!k) {
		if (strlen(name) >= CYRIS_ALTNAMSIZ || strchr(name, '/'))
			return cli_usage(c, "%s: not a valid link name", name);
		r = cli_nl(c, &nl);
		if (r < 0)
			return CLI_FAIL;
		r = cyris_link_get(nl, name, &l);
		if (r == -ENODEV) {
			cli_msg(c, "%s: no such link", name);
			return CLI_FAIL;
		}
		if (r < 0)
			return cli_err(c, r, "%s", name);
		remember(c, name, l.ifindex, l.owned, l.kind);
		cyris_link_clear(&l);
		k = lookup(c, name);
		if (!k)
			return cli_err(c, -ENOMEM, "%s", name);
	}
	if (modify && !k->owned && !c->force) {
		cli_msg(c, "%s: not owned by cyris (no cyris tag); use --force to change it", name);
		return CLI_FAIL;
	}
	*ret = *k;
	return CLI_OK;
}

/* Positional words, with the messages of the keyword parser (cli.c). */
static int parse_name(struct cli *c, const char *what, const char *s)
{
	const char *v;

	return cli_parse_word(c, &(const struct cli_kw){ .name = what, .type = CLI_KW_IFNAME }, s, &v);
}

static int parse_id(struct cli *c, const char *what, const char *s)
{
	const char *v;

	return cli_parse_word(c, &(const struct cli_kw){ .name = what, .type = CLI_KW_ID }, s, &v);
}

static int parse_uint(struct cli *c, const char *what, const char *s,
		      unsigned long max, unsigned long *ret)
{
	return cli_parse_word(c, &(const struct cli_kw){ .name = what, .type = CLI_KW_UINT, .max = max },
			      s, ret);
}

static int parse_mac(struct cli *c, const char *s, uint8_t mac[6])
{
	return cli_parse_word(c, &(const struct cli_kw){ .name = "mac", .type = CLI_KW_MAC }, s, mac);
}

/* Options most link commands share. */
struct common {
	const char *range, *net, *master, *guest, *nic;
	unsigned long inst, mtu;
	uint8_t mac[6];
	bool has_mac;
};

/* The keyword tables (cli_keywords) of the commands, each over its own
 * option struct T with a struct common o. */
#define KW(T, n, t, f, ...) { .name = n, .type = t, .off = offsetof(T, f), __VA_ARGS__ }
/* 0 would mean "leave it": the kernel checks the device's range */
#define KW_MTU_MAC(T)                                                           \
	KW(T, "mtu", CLI_KW_UINT, o.mtu, .min = 1, .max = UINT32_MAX,           \
	   .bad = "mtu '%s' is not an MTU (at least 68, at most the device's maximum)"), \
	KW(T, "mac", CLI_KW_MAC, o.mac, .seen = CLI_KW_SEEN(T, o.has_mac))
#define KW_COMMON(T)                                                            \
	KW(T, "range", CLI_KW_ID, o.range),                                     \
	KW(T, "net", CLI_KW_ID, o.net),                                         \
	KW(T, "master", CLI_KW_STR, o.master),                                  \
	KW(T, "guest", CLI_KW_ID, o.guest),                                     \
	KW(T, "nic", CLI_KW_ID, o.nic),                                         \
	KW(T, "inst", CLI_KW_UINT, o.inst, .max = UINT32_MAX),                  \
	KW_MTU_MAC(T)

static void fill_tag(struct cyris_tag *t, const struct common *o, const char *role)
{
	memset(t, 0, sizeof(*t));
	if (o->range)
		snprintf(t->range, sizeof(t->range), "%s", o->range);
	if (o->net)
		snprintf(t->net, sizeof(t->net), "%s", o->net);
	if (o->guest)
		snprintf(t->guest, sizeof(t->guest), "%s", o->guest);
	if (o->nic)
		snprintf(t->nic, sizeof(t->nic), "%s", o->nic);
	snprintf(t->role, sizeof(t->role), "%s", role);
	t->instance = (unsigned)o->inst;
}

/* Resolve the master bridge of @o (it must be a bridge cyris owns). */
static int resolve_master(struct cli *c, const struct common *o, int *ret)
{
	struct known k;
	int r;

	*ret = 0;
	if (!o->master)
		return CLI_OK;
	r = resolve(c, o->master, true, &k);
	if (r)
		return r;
	if (!streq(k.kind, "bridge")) {
		cli_msg(c, "%s: not a bridge", o->master);
		return CLI_FAIL;
	}
	*ret = k.ifindex;
	return CLI_OK;
}

/* An existing link the library refused (cyris_link_adopt,
 * cyris_bridge_ensure): its message names each difference. */
static int refused(struct cli *c, const char *what, int r, const char *name)
{
	if (r == -EEXIST) {
		cli_msg(c, "%s%s", what, cyris_nl_error(c->nl)->msg);
		return CLI_FAIL;
	}
	return cli_err(c, r, "%s%s", what, name);
}

static void print_created(struct cli *c, const char *name, int ifindex, bool created,
			  bool print_text)
{
	if (c->json) {
		struct json *j = cli_json(c);

		json_obj_open(j, NULL);
		json_str(j, "name", name);
		json_int(j, "ifindex", ifindex);
		json_bool(j, "created", created);
		json_obj_close(j);
		json_end(j);
	} else if (print_text) {
		printf("%s\n", name);
	}
}

struct add_opts {
	struct common o;
	struct cyris_bridge_cfg br;
	unsigned long forward_delay;
	bool stp, has_forward_delay, vlan_filtering;
	struct cyris_prefix *addrs;
	size_t naddr;
};

static int add_addr(struct cli *c, const char *v, void *opts)
{
	struct add_opts *a = opts;

	if (cyris_prefix_parse(v, true, &a->addrs[a->naddr]) < 0)
		return cli_usage(c, "'%s' is not an address with a prefix length (CIDR)", v);
	a->naddr++;
	return CLI_OK;
}

static const struct cli_kw add_kw[] = {
	KW_COMMON(struct add_opts),
	KW(struct add_opts, "addr", CLI_KW_FN, addrs, .fn = add_addr),
	KW(struct add_opts, "stp", CLI_KW_BOOL, br.stp, .seen = CLI_KW_SEEN(struct add_opts, stp)),
	KW(struct add_opts, "vlan-filtering", CLI_KW_BOOL, br.vlan_filtering,
	   .seen = CLI_KW_SEEN(struct add_opts, vlan_filtering)),
	KW(struct add_opts, "forward-delay", CLI_KW_UINT, forward_delay, .max = 3000,
	   .seen = CLI_KW_SEEN(struct add_opts, has_forward_delay)),
	{ 0 }
};

static int cmd_add(struct cli *c, int argc, char **argv)
{
	struct add_opts a = {0};
	struct common o;
	struct cyris_link_cfg cfg = {0};
	struct cyris_tag tag;
	struct cyris_nl *nl;
	_cleanup_free_ struct cyris_prefix *addrs = NULL;
	char name[CYRIS_IFNAMSIZ], alt[CYRIS_ALTNAMSIZ];
	const char *given = NULL;
	size_t naddr, k;
	unsigned given_br = 0;
	bool created;
	int i = 0, r, ifindex;

	addrs = a.addrs = calloc((size_t)argc + 1, sizeof(*addrs));
	if (!addrs)
		return cli_err(c, -ENOMEM, "add");
	if (argc > 0 && !cli_kw_find(add_kw, argv[0]))
		given = argv[i++];
	if ((r = cli_keywords(c, "add", add_kw, argc, argv, i, &a)))
		return r;
	o = a.o;
	naddr = a.naddr;
	a.br.forward_delay = (unsigned)a.forward_delay;
	given_br = (a.stp ? CYRIS_BRIDGE_GIVEN_STP : 0) |
		   (a.has_forward_delay ? CYRIS_BRIDGE_GIVEN_FORWARD_DELAY : 0) |
		   (a.vlan_filtering ? CYRIS_BRIDGE_GIVEN_VLAN_FILTERING : 0);
	if (o.master)
		return cli_usage(c, "add: a bridge takes no master");
	if (given) {
		if ((r = parse_name(c, "bridge name", given)))
			return r;
		snprintf(name, sizeof(name), "%s", given);
	} else if (!o.range || !o.net) {
		return cli_usage(c, "add: give a BRIDGE name, or range R and net N to derive it");
	} else if (cyris_name_bridge_kind(st(c)->kind, o.range, o.net, (unsigned)o.inst, name) < 0) {
		return cli_usage(c, "add: cannot derive a name from range %s net %s", o.range, o.net);
	}
	fill_tag(&tag, &o, "bridge");
	cfg.name = name;
	cfg.tag = &tag;
	cfg.up = true;
	cfg.mtu = (unsigned)o.mtu;
	cfg.mac = o.has_mac ? o.mac : NULL;
	if (o.range && o.net && cyris_altname_bridge(o.range, o.net, (unsigned)o.inst, alt) == 0)
		cfg.altname = alt;
	if (cli_nl(c, &nl) < 0)
		return CLI_FAIL;
	r = cyris_bridge_ensure(nl, &cfg, &a.br, given_br, &ifindex);
	if (r < 0)
		return refused(c, "add ", r, name);
	created = r > 0;
	remember(c, name, ifindex, true, "bridge");
	for (k = 0; k < naddr; k++) {
		char buf[CYRIS_PREFIXSTRLEN];

		r = cyris_addr_add(nl, ifindex, &addrs[k]);
		if (r == -EEXIST)
			continue;
		if (r < 0) {
			cli_err(c, r, "add %s: addr %s", name,
				cyris_prefix_format(&addrs[k], buf, sizeof(buf)));
			if (created) {
				(void)cyris_link_del(nl, ifindex);
				forget(c, ifindex);
			}
			return CLI_FAIL;
		}
	}
	print_created(c, name, ifindex, created, !given);
	return CLI_OK;
}

static int cmd_del(struct cli *c, int argc, char **argv)
{
	struct known k;
	int r;

	(void)argc;
	if ((r = resolve(c, argv[0], true, &k)))
		return r;
	r = cyris_link_del(c->nl, k.ifindex);
	if (r < 0)
		return cli_err(c, r, "del %s", argv[0]);
	forget(c, k.ifindex);
	return CLI_OK;
}

/* Create a link with @create; on EEXIST confirm the existing one. */
static int create_link(struct cli *c, const char *kind, const struct common *o,
		       struct cyris_link_cfg *cfg, const void *extra,
		       int (*create)(struct cyris_nl *, const struct cyris_link_cfg *,
				     const void *, int *))
{
	struct cyris_tag tag;
	struct cyris_nl *nl;
	int r, master;

	if ((r = resolve_master(c, o, &master)))
		return r;
	if (cli_nl(c, &nl) < 0)
		return CLI_FAIL;
	fill_tag(&tag, o, kind);
	cfg->tag = &tag;
	cfg->master = master;
	cfg->up = true;
	cfg->mtu = (unsigned)o->mtu;
	cfg->mac = o->has_mac ? o->mac : NULL;
	/* no index wanted back: the library then goes by name, one reply less */
	r = create(nl, cfg, extra, NULL);
	if (r == -EEXIST) {
		int ifindex;

		r = cyris_link_adopt(nl, cfg, streq(kind, "tap") ? "tun" : kind, &ifindex);
		if (r < 0)
			return refused(c, "", r, cfg->name);
		remember(c, cfg->name, ifindex, true, streq(kind, "tap") ? "tun" : kind);
		return CLI_OK;
	}
	if (r < 0)
		return cli_err(c, r, "%s %s", kind, cfg->name);
	return CLI_OK;
}

static int veth_create(struct cyris_nl *nl, const struct cyris_link_cfg *cfg,
		       const void *x, int *ret)
{
	return cyris_veth_create(nl, cfg, x, ret);
}

struct veth_opts {
	struct common o;
	const char *peer, *peer_netns;
	uint8_t peer_mac[6];
	bool has_peer_mac;
	int peer_down;
};

static const struct cli_kw veth_kw[] = {
	KW_COMMON(struct veth_opts),
	KW(struct veth_opts, "peer", CLI_KW_IFNAME, peer, .label = "peer name"),
	KW(struct veth_opts, "peer-netns", CLI_KW_STR, peer_netns),
	KW(struct veth_opts, "peer-mac", CLI_KW_MAC, peer_mac,
	   .seen = CLI_KW_SEEN(struct veth_opts, has_peer_mac)),
	KW(struct veth_opts, "peer-down", CLI_KW_FLAG, peer_down, .min = 1),
	{ 0 }
};

static int cmd_veth(struct cli *c, int argc, char **argv)
{
	struct cyris_veth_cfg veth = {0};
	struct cyris_link_cfg cfg = { .name = argv[0] };
	struct cyris_tag ptag;
	struct veth_opts a = {0};
	struct common o;
	int r;

	if ((r = parse_name(c, "veth name", argv[0])) ||
	    (r = cli_keywords(c, "veth", veth_kw, argc, argv, 1, &a)))
		return r;
	o = a.o;
	veth.peer = a.peer;
	veth.peer_netns = a.peer_netns;
	veth.peer_mac = a.has_peer_mac ? a.peer_mac : NULL;
	veth.peer_up = !a.peer_down;
	if (!veth.peer)
		return cli_usage(c, "veth: 'peer PEER' is required");
	if (!veth.peer_netns && streq(veth.peer, argv[0]))
		return cli_usage(c, "veth: the peer needs a name of its own");
	/* in a range, the peer is tagged too: a guest's NIC */
	if (o.range) {
		fill_tag(&ptag, &o, "nic");
		veth.peer_tag = &ptag;
	}
	return create_link(c, "veth", &o, &cfg, &veth, veth_create);
}

static int tap_create(struct cyris_nl *nl, const struct cyris_link_cfg *cfg,
		      const void *x, int *ret)
{
	return cyris_tap_create(nl, cfg, x, ret);
}

struct tap_opts {
	struct common o;
	unsigned long owner, group;
	bool has_owner, has_group;
	int vnet_hdr;
};

static const struct cli_kw tap_kw[] = {
	KW_COMMON(struct tap_opts),
	KW(struct tap_opts, "owner", CLI_KW_UINT, owner, .max = UINT32_MAX - 1,
	   .seen = CLI_KW_SEEN(struct tap_opts, has_owner)),
	KW(struct tap_opts, "group", CLI_KW_UINT, group, .max = UINT32_MAX - 1,
	   .seen = CLI_KW_SEEN(struct tap_opts, has_group)),
	KW(struct tap_opts, "vnet-hdr", CLI_KW_FLAG, vnet_hdr, .min = 1),
	{ 0 }
};

static int cmd_tap(struct cli *c, int argc, char **argv)
{
	struct cyris_tap_cfg tap = { .owner = -1, .group = -1 };
	struct cyris_link_cfg cfg = { .name = argv[0] };
	struct tap_opts a = {0};
	int r;

	if ((r = parse_name(c, "tap name", argv[0])) ||
	    (r = cli_keywords(c, "tap", tap_kw, argc, argv, 1, &a)))
		return r;
	if (a.has_owner)
		tap.owner = (long)a.owner;
	if (a.has_group)
		tap.group = (long)a.group;
	tap.vnet_hdr = a.vnet_hdr;
	return create_link(c, "tap", &a.o, &cfg, &tap, tap_create);
}

static int vxlan_create(struct cyris_nl *nl, const struct cyris_link_cfg *cfg,
			const void *x, int *ret)
{
	return cyris_vxlan_create(nl, cfg, x, ret);
}

struct vxlan_opts {
	struct common o;
	struct cyris_vxlan_cfg vx;
	unsigned long id, dstport;
	bool has_id;
};

static int vxlan_ip(struct cli *c, const char *kw, const char *v, struct cyris_ip *ip)
{
	if (cyris_ip_parse(v, ip) < 0)
		return cli_usage(c, "vxlan: %s '%s' is not an IP address", kw, v);
	return CLI_OK;
}

static int vxlan_remote(struct cli *c, const char *v, void *opts)
{
	return vxlan_ip(c, "remote", v, &((struct vxlan_opts *)opts)->vx.remote);
}

static int vxlan_local(struct cli *c, const char *v, void *opts)
{
	return vxlan_ip(c, "local", v, &((struct vxlan_opts *)opts)->vx.local);
}

static int vxlan_dev(struct cli *c, const char *v, void *opts)
{
	struct known dev;
	int r = resolve(c, v, false, &dev);

	if (r == CLI_OK)
		((struct vxlan_opts *)opts)->vx.dev = dev.ifindex;
	return r;
}

static const struct cli_kw vxlan_kw[] = {
	KW_COMMON(struct vxlan_opts),
	KW(struct vxlan_opts, "id", CLI_KW_UINT, id, .max = (1u << 24) - 1,
	   .seen = CLI_KW_SEEN(struct vxlan_opts, has_id)),
	KW(struct vxlan_opts, "remote", CLI_KW_FN, vx.remote, .fn = vxlan_remote),
	KW(struct vxlan_opts, "local", CLI_KW_FN, vx.local, .fn = vxlan_local),
	KW(struct vxlan_opts, "dstport", CLI_KW_UINT, dstport, .max = 65535),
	KW(struct vxlan_opts, "dev", CLI_KW_FN, vx.dev, .fn = vxlan_dev),
	{ 0 }
};

static int cmd_vxlan(struct cli *c, int argc, char **argv)
{
	struct vxlan_opts a = {0};
	struct cyris_vxlan_cfg vx;
	struct cyris_link_cfg cfg = { .name = argv[0] };
	bool has_id;
	int r;

	if ((r = parse_name(c, "vxlan name", argv[0])) ||
	    (r = cli_keywords(c, "vxlan", vxlan_kw, argc, argv, 1, &a)))
		return r;
	vx = a.vx;
	vx.vni = (uint32_t)a.id;
	vx.dstport = (uint16_t)a.dstport;
	has_id = a.has_id;
	if (!has_id || !vx.remote.family)
		return cli_usage(c, "vxlan: 'id VNI' and 'remote IP' are required");
	if (vx.local.family && vx.local.family != vx.remote.family)
		return cli_usage(c, "vxlan: local and remote must be of one family");
	return create_link(c, "vxlan", &a.o, &cfg, &vx, vxlan_create);
}

static int cmd_attach(struct cli *c, int argc, char **argv)
{
	struct known port, br;
	int r;

	(void)argc;
	if ((r = resolve(c, argv[0], true, &port)) || (r = resolve(c, argv[1], true, &br)))
		return r;
	if (!streq(br.kind, "bridge")) {
		cli_msg(c, "%s: not a bridge", argv[1]);
		return CLI_FAIL;
	}
	r = cyris_link_set_master(c->nl, port.ifindex, br.ifindex);
	return r < 0 ? cli_err(c, r, "attach %s %s", argv[0], argv[1]) : CLI_OK;
}

static int cmd_detach(struct cli *c, int argc, char **argv)
{
	struct known port;
	int r;

	(void)argc;
	if ((r = resolve(c, argv[0], true, &port)))
		return r;
	r = cyris_link_set_master(c->nl, port.ifindex, 0);
	return r < 0 ? cli_err(c, r, "detach %s", argv[0]) : CLI_OK;
}

struct set_opts {
	struct common o;
	int up;
	bool forwarding, has_forwarding;
};

static const struct cli_kw set_kw[] = {
	KW(struct set_opts, "up", CLI_KW_FLAG, up, .min = 1),
	KW(struct set_opts, "down", CLI_KW_FLAG, up, .min = 0),
	KW(struct set_opts, "forwarding", CLI_KW_BOOL, forwarding,
	   .seen = CLI_KW_SEEN(struct set_opts, has_forwarding)),
	KW_MTU_MAC(struct set_opts),
	{ 0 }
};

static int cmd_set(struct cli *c, int argc, char **argv)
{
	struct set_opts a = { .up = -1 };
	struct common o;
	struct known k;
	int r, up, fwd;

	if ((r = cli_keywords(c, "set", set_kw, argc, argv, 1, &a)))
		return r;
	o = a.o;
	up = a.up;
	fwd = a.has_forwarding ? a.forwarding : -1;
	if ((r = resolve(c, argv[0], true, &k)))
		return r;
	if (o.mtu && (r = cyris_link_set_mtu(c->nl, k.ifindex, (unsigned)o.mtu)) < 0)
		return cli_err(c, r, "set %s mtu %lu", argv[0], o.mtu);
	if (o.has_mac && (r = cyris_link_set_mac(c->nl, k.ifindex, o.mac)) < 0)
		return cli_err(c, r, "set %s mac", argv[0]);
	if (up >= 0 && (r = cyris_link_set_up(c->nl, k.ifindex, up)) < 0)
		return cli_err(c, r, "set %s %s", argv[0], up ? "up" : "down");
	if (fwd >= 0 && (r = cyris_link_set_forwarding(c->nl, k.ifindex, fwd)) < 0)
		return cli_err(c, r, "set %s forwarding", argv[0]);
	return CLI_OK;
}

static int cmd_addr(struct cli *c, int argc, char **argv)
{
	struct cyris_prefix p;
	struct known k;
	bool add;
	int r;

	(void)argc;
	if (!streq(argv[0], "add") && !streq(argv[0], "del"))
		return cli_usage(c, "addr: add or del, not '%s'", argv[0]);
	add = streq(argv[0], "add");
	if (cyris_prefix_parse(argv[1], true, &p) < 0)
		return cli_usage(c, "'%s' is not an address with a prefix length (CIDR)", argv[1]);
	if (!streq(argv[2], "dev"))
		return cli_usage(c, "addr: expected 'dev NAME', got '%s'", argv[2]);
	if ((r = resolve(c, argv[3], true, &k)))
		return r;
	r = add ? cyris_addr_add(c->nl, k.ifindex, &p) : cyris_addr_del(c->nl, k.ifindex, &p);
	if (r == -EEXIST && add)
		return CLI_OK;
	return r < 0 ? cli_err(c, r, "addr %s %s dev %s", argv[0], argv[1], argv[3]) : CLI_OK;
}

/* route add|del DEST|default via GW [dev NAME] */
static int cmd_route(struct cli *c, int argc, char **argv)
{
	struct cyris_prefix dst = {0};
	struct cyris_ip gw = {0};
	struct known dev = { .ifindex = 0 };
	struct cyris_nl *nl;
	bool add;
	int i, r;

	if (!streq(argv[0], "add") && !streq(argv[0], "del"))
		return cli_usage(c, "route: add or del, not '%s'", argv[0]);
	add = streq(argv[0], "add");
	if (!streq(argv[1], "default") && cyris_prefix_parse(argv[1], false, &dst) < 0)
		return cli_usage(c, "route: '%s' is not default or a CIDR", argv[1]);
	for (i = 2; i < argc; i++) {
		const char *kw = argv[i], *v = cli_value(c, argc, argv, &i);

		if (!v)
			return CLI_USAGE;
		if (streq(kw, "via")) {
			if (cyris_ip_parse(v, &gw) < 0)
				return cli_usage(c, "route: via '%s' is not an address", v);
		} else if (streq(kw, "dev")) {
			/* the route changes what goes out of that link */
			if ((r = resolve(c, v, true, &dev)))
				return r;
		} else {
			return cli_usage(c, "route: unknown keyword '%s'", kw);
		}
	}
	if (!gw.family && !dev.ifindex)
		return cli_usage(c, "route: give 'via GW' or 'dev NAME'");
	if (streq(argv[1], "default"))
		dst.ip.family = gw.family ? gw.family : AF_INET;
	if (gw.family && gw.family != dst.ip.family)
		return cli_usage(c, "route: destination and gateway differ in family");
	if (cli_nl(c, &nl) < 0)
		return CLI_FAIL;
	r = add ? cyris_route_add(nl, &dst, &gw, dev.ifindex, false)
		: cyris_route_del(nl, &dst, &gw, dev.ifindex, c->force);
	if (r == -EEXIST && add)
		return CLI_OK;
	if (r == -ESRCH && !add && !c->force) {
		cli_msg(c, "route del %s: no such route made by cyris (--force deletes any)", argv[1]);
		return CLI_FAIL;
	}
	return r < 0 ? cli_err(c, r, "route %s %s", argv[0], argv[1]) : CLI_OK;
}

struct netns_opts {
	struct common o;
};

static const struct cli_kw netns_kw[] = {
	KW_COMMON(struct netns_opts),
	{ 0 }
};

/* netns add NAME [range R] [inst I] [guest G] | del NAME | list [range R] */
static int cmd_netns(struct cli *c, int argc, char **argv)
{
	struct netns_opts a = {0};
	struct common o = {0};
	struct cyris_tag tag;
	int r;

	if (streq(argv[0], "list")) {
		struct cyris_netns_entry *v = NULL;
		size_t n = 0, k;

		if (argc == 3 && streq(argv[1], "range") && !(r = parse_id(c, "range", argv[2])))
			o.range = argv[2];
		else if (argc != 1)
			return r ? r : cli_usage(c, "netns list [range R]");
		r = cyris_netns_list(o.range, &v, &n);
		if (r == -EPERM)
			return cli_err(c, r, "netns list: %s must be owned by root or this user and "
				       "writable by no one else", CYRIS_NETNS_RECORDS);
		if (r < 0)
			return cli_err(c, r, "netns list");
		if (c->json) {
			struct json *j = cli_json(c);

			json_obj_open(j, NULL);
			json_arr_open(j, "netns");
			for (k = 0; k < n; k++) {
				char alias[CYRIS_ALIASSIZ];

				cyris_tag_format(&v[k].tag, alias, sizeof(alias));
				json_obj_open(j, NULL);
				json_str(j, "name", v[k].name);
				json_str(j, "tag", alias);
				json_obj_close(j);
			}
			json_arr_close(j);
			json_obj_close(j);
			json_end(j);
		} else {
			for (k = 0; k < n; k++)
				printf("%s\n", v[k].name);
		}
		free(v);
		return CLI_OK;
	}
	if (argc < 2 || !cyris_netns_name_valid(argv[1]))
		return cli_usage(c, "netns: add|del NAME, or list");
	if (streq(argv[0], "del")) {
		if (argc != 2)
			return cli_usage(c, "netns del NAME");
		r = cyris_netns_tag(argv[1], NULL);
		if (r == -ENOENT) {
			cli_msg(c, "netns %s: no such namespace", argv[1]);
			return CLI_FAIL;
		}
		if (r == 0 && !c->force) {
			cli_msg(c, "netns %s: not made by cyris (no record in %s); use --force", argv[1],
				CYRIS_NETNS_RECORDS);
			return CLI_FAIL;
		}
		if (r < 0 && !c->force)
			return cli_err(c, r, "netns del %s: who owns it", argv[1]);
		r = cyris_netns_delete(argv[1]);
		return r < 0 ? cli_err(c, r, "netns del %s", argv[1]) : CLI_OK;
	}
	if (!streq(argv[0], "add"))
		return cli_usage(c, "netns: add, del or list, not '%s'", argv[0]);
	if ((r = cli_keywords(c, "netns add", netns_kw, argc, argv, 2, &a)))
		return r;
	o = a.o;
	fill_tag(&tag, &o, "guest");
	r = cyris_netns_create(argv[1], &tag);
	if (r == -EEXIST) {
		struct cyris_tag cur;

		/* confirm: ours, and the same owner */
		if (cyris_netns_tag(argv[1], &cur) == 1 && (!o.range || streq(cur.range, o.range)))
			return CLI_OK;
		cli_msg(c, "netns %s: exists and is not this owner's", argv[1]);
		return CLI_FAIL;
	}
	return r < 0 ? cli_err(c, r, "netns add %s", argv[1]) : CLI_OK;
}

/* remote add|del VXLAN IP: one more (or one less) host the VXLAN floods to */
static int cmd_remote(struct cli *c, int argc, char **argv)
{
	struct cyris_ip ip;
	struct known k;
	int r;

	(void)argc;
	if (!streq(argv[0], "add"))
		return cli_usage(c, "remote: only 'add' is supported");
	if (cyris_ip_parse(argv[2], &ip) < 0)
		return cli_usage(c, "remote: '%s' is not an IP address", argv[2]);
	if ((r = resolve(c, argv[1], true, &k)))
		return r;
	if (!streq(k.kind, "vxlan")) {
		cli_msg(c, "%s: not a vxlan link", argv[1]);
		return CLI_FAIL;
	}
	r = cyris_fdb_append_remote(c->nl, k.ifindex, &ip);
	if (r == -EEXIST)
		return CLI_OK;
	return r < 0 ? cli_err(c, r, "remote add %s %s", argv[1], argv[2]) : CLI_OK;
}

/* in NETNS COMMAND...: one command in another namespace (batch files built
 * by cyris-topo plan --emit bridge configure guests this way) */
static int cmd_in(struct cli *c, int argc, char **argv)
{
	struct state *s = st(c), saved_state = *s, empty = { .kind = s->kind };
	struct cyris_nl *saved_nl = c->nl;
	const char *saved_ns = c->netns;
	int r;

	if (!cyris_netns_name_valid(argv[0]) && argv[0][0] != '/' && !cyris_netns_is_pid(argv[0], NULL))
		return cli_usage(c, "in: '%s' is not a namespace", argv[0]);
	if (streq(argv[1], "in"))
		return cli_usage(c, "in: one namespace at a time");
	c->netns = argv[0];
	c->nl = NULL;
	*s = empty;                  /* links known here are not known there */
	r = cli_run(c, argc - 1, argv + 1);
	cyris_nl_close(c->nl);
	free(s->v);
	*s = saved_state;
	c->nl = saved_nl;
	c->netns = saved_ns;
	return r;
}

static int cmd_show(struct cli *c, int argc, char **argv)
{
	struct show_filter flt = {0};
	struct cyris_link_list links = {0};
	struct cyris_addr_list addrs = {0};
	struct cyris_nl *nl;
	int i, r;

	for (i = 0; i < argc; i++) {
		if (streq(argv[i], "range")) {
			if (!(flt.range = cli_value(c, argc, argv, &i)))
				return CLI_USAGE;
			if ((r = parse_id(c, "range", flt.range)))
				return r;
		} else if (!flt.name) {
			flt.name = argv[i];
		} else {
			return cli_usage(c, "show: unexpected '%s'", argv[i]);
		}
	}
	if (cli_nl(c, &nl) < 0)
		return CLI_FAIL;
	r = cyris_link_list(nl, &links);
	if (r == 0)
		r = cyris_addr_list(nl, 0, &addrs);
	if (r < 0) {
		cyris_link_list_free(&links);
		return cli_err(c, r, "show");
	}
	r = CLI_OK;
	if (flt.name && !cyris_link_list_find_name(&links, flt.name)) {
		cli_msg(c, "%s: no such link", flt.name);
		r = CLI_FAIL;
	} else {
		linkfmt_show(stdout, c->json ? cli_json(c) : NULL, &links, &addrs, &flt);
	}
	cyris_addr_list_free(&addrs);
	cyris_link_list_free(&links);
	return r;
}

static int cmd_fdb(struct cli *c, int argc, char **argv)
{
	struct cyris_link_list links = {0};
	struct cyris_fdb_list fdb = {0};
	struct known br = { .ifindex = 0 };
	struct cyris_nl *nl;
	bool all = false;
	int r;

	if (argc > 0 && streq(argv[argc - 1], "all")) {
		all = true;
		argc--;
	}
	if (argc > 1)
		return cli_usage(c, "fdb: [BRIDGE] [all]");
	if (argc > 0 && (r = resolve(c, argv[0], false, &br)))
		return r;
	if (argc > 0 && !streq(br.kind, "bridge")) {
		cli_msg(c, "%s: not a bridge", argv[0]);
		return CLI_FAIL;
	}
	if (cli_nl(c, &nl) < 0)
		return CLI_FAIL;
	r = cyris_link_list(nl, &links);
	if (r == 0)
		r = cyris_fdb_list(nl, br.ifindex, &fdb);
	if (r == 0)
		linkfmt_fdb(stdout, c->json ? cli_json(c) : NULL, &links, &fdb, all);
	cyris_fdb_list_free(&fdb);
	cyris_link_list_free(&links);
	return r < 0 ? cli_err(c, r, "fdb") : CLI_OK;
}

static int cmd_neigh(struct cli *c, int argc, char **argv)
{
	struct cyris_link_list links = {0};
	struct cyris_neigh_list nb = {0};
	struct known dev = { .ifindex = 0 };
	const char *v = NULL;
	uint8_t mac[6];
	bool has_mac = false;
	struct cyris_nl *nl;
	int i, r;

	for (i = 0; i < argc; i++) {
		if (streq(argv[i], "mac")) {
			if (!(v = cli_value(c, argc, argv, &i)))
				return CLI_USAGE;
			if ((r = parse_mac(c, v, mac)))
				return r;
			has_mac = true;
		} else if (streq(argv[i], "dev")) {
			if (!(v = cli_value(c, argc, argv, &i)))
				return CLI_USAGE;
			if ((r = resolve(c, v, false, &dev)))
				return r;
		} else {
			return cli_usage(c, "neigh: unknown keyword '%s'", argv[i]);
		}
	}
	if (cli_nl(c, &nl) < 0)
		return CLI_FAIL;
	r = cyris_link_list(nl, &links);
	if (r == 0 && has_mac) {
		struct cyris_neigh n;

		r = cyris_neigh_find_mac(nl, mac, dev.ifindex, &n);
		if (r == 0) {
			nb.v = malloc(sizeof(n));
			if (nb.v) {
				nb.v[0] = n;
				nb.n = nb.cap = 1;
			} else {
				r = -ENOMEM;
			}
		}
	} else if (r == 0) {
		r = cyris_neigh_list(nl, dev.ifindex, 0, &nb);
	}
	if (r == -ENOENT) {
		char buf[18];

		cli_msg(c, "no neighbour has MAC %s", cyris_mac_format(mac, buf));
		cyris_link_list_free(&links);
		return CLI_FAIL;
	}
	if (r == 0)
		linkfmt_neigh(stdout, c->json ? cli_json(c) : NULL, &links, &nb);
	cyris_neigh_list_free(&nb);
	cyris_link_list_free(&links);
	return r < 0 ? cli_err(c, r, "neigh") : CLI_OK;
}

static int cmd_name(struct cli *c, int argc, char **argv)
{
	char name[CYRIS_IFNAMSIZ], alt[CYRIS_ALTNAMSIZ];
	unsigned long inst = 0;
	int r;

	if ((r = parse_id(c, "range", argv[0])) || (r = parse_id(c, "net", argv[1])))
		return r;
	if (argc == 4) {
		if (!streq(argv[2], "inst"))
			return cli_usage(c, "name: unexpected '%s'", argv[2]);
		if ((r = parse_uint(c, "inst", argv[3], UINT32_MAX, &inst)))
			return r;
	} else if (argc != 2) {
		return cli_usage(c, "name: R N [inst I]");
	}
	if (cyris_name_bridge_kind(st(c)->kind, argv[0], argv[1], (unsigned)inst, name) < 0 ||
	    cyris_altname_bridge(argv[0], argv[1], (unsigned)inst, alt) < 0)
		return cli_usage(c, "name: cannot derive a name");
	if (c->json) {
		struct json *j = cli_json(c);

		json_obj_open(j, NULL);
		json_str(j, "range", argv[0]);
		json_str(j, "net", argv[1]);
		json_uint(j, "instance", inst);
		json_str(j, "name", name);
		json_str(j, "altname", alt);
		json_obj_close(j);
		json_end(j);
	} else {
		printf("%s\n", name);
	}
	return CLI_OK;
}

static int cmd_destroy(struct cli *c, int argc, char **argv)
{
	struct cyris_nl *nl;
	size_t n = 0;
	int r;

	(void)argc;
	if (!streq(argv[0], "range"))
		return cli_usage(c, "destroy: expected 'range R'");
	if ((r = parse_id(c, "range", argv[1])))
		return r;
	if (cli_nl(c, &nl) < 0)
		return CLI_FAIL;
	r = cyris_range_destroy(nl, argv[1], &n);
	forget(c, 0);
	if (r < 0)
		return cli_err(c, r, "destroy range %s", argv[1]);
	if (c->json) {
		struct json *j = cli_json(c);

		json_obj_open(j, NULL);
		json_str(j, "range", argv[1]);
		json_uint(j, "deleted", n);
		json_obj_close(j);
		json_end(j);
	}
	return CLI_OK;
}

static const struct cli_cmd cmds[] = {
	{ "add", 0, -1, cmd_add },
	{ "del", 1, 1, cmd_del },
	{ "veth", 3, -1, cmd_veth },
	{ "tap", 1, -1, cmd_tap },
	{ "vxlan", 5, -1, cmd_vxlan },
	{ "attach", 2, 2, cmd_attach },
	{ "detach", 1, 1, cmd_detach },
	{ "set", 2, -1, cmd_set },
	{ "addr", 4, 4, cmd_addr },
	{ "show", 0, 3, cmd_show },
	{ "fdb", 0, 2, cmd_fdb },
	{ "neigh", 0, 4, cmd_neigh },
	{ "route", 4, 6, cmd_route },
	{ "remote", 3, 3, cmd_remote },
	{ "in", 2, -1, cmd_in },
	{ "netns", 1, 12, cmd_netns },
	{ "name", 2, 4, cmd_name },
	{ "destroy", 2, 2, cmd_destroy },
	{ 0 },
};

int main(int argc, char **argv)
{
	struct state s = { .kind = 'c' };
	struct cyris_conf *conf = cyris_conf_new();
	struct cyris_error err;
	char prefix[4];
	struct cli c = {
		.prog = "cyris-bridge",
		.help = help,
		.cmds = cmds,
		.batch_ok = true,
		.data = &s,
	};
	int r;

	/* derived names follow the configuration (ifname_prefix) */
	if (!conf)
		cyris_error_set(&err, -ENOMEM, "configuration: %s", strerror(ENOMEM));
	else if ((r = cyris_conf_load(conf, &err)) == 0 &&
		 (r = cyris_conf_get(conf, "ifname_prefix", prefix, sizeof(prefix))) < 0)
		cyris_error_set(&err, r, "configuration: ifname_prefix: %s", strerror(-r));
	cyris_conf_free(conf);
	if (!conf || r < 0)
		return cli_fail(&c, &err);
	s.kind = prefix[0];
	r = cli_main(&c, argc, argv);
	free(s.v);
	return r;
}
