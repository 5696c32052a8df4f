/* SPDX-License-Identifier: MIT */
/*
 * Links: create (bridge, veth, vxlan, tap), change, delete, read back.
 *
 * A created link is put in its range's netdev group in the very message
 * that creates it, then tagged (alias) and named (altname). If anything
 * after the kernel's create fails the link is deleted again.
 *
 * The kernel takes neither an alias nor an altname in a create (it accepts
 * and drops IFLA_IFALIAS and IFLA_PROP_LIST there; a veth peer's ifinfomsg
 * is the same, and a peer cannot be brought up in it: ENOTCONN), so a tag
 * costs a message of its own. It is set while the link is down, when it
 * costs the kernel no more than the lookup: a change to a link that is up
 * is a NETDEV_CHANGE (a notification built, and for a link up without a
 * carrier a walk of the namespace's whole IPv6 route table,
 * rt6_sync_down_dev). So a tagged link is created down, and its tag, its
 * altname and then its up go in one sendmsg after the create's ACK
 * (cyris_nl_talk_many): never before it, or a create that failed on a
 * name someone else holds would tag that link.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <linux/ip.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <poll.h>
#include <signal.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>

#include "cyris/link.h"
#include "nl-priv.h"

#ifndef IFLA_PROP_LIST
#define IFLA_PROP_LIST 52
#define IFLA_ALT_IFNAME 53
#endif
#ifndef RTM_NEWLINKPROP
#define RTM_NEWLINKPROP 108
#endif

/* ---- building requests ------------------------------------------------ */

/* Optional changes to an existing link, sent as one RTM_NEWLINK. */
struct link_change {
	const char *alias;
	bool set_master;
	int master;
	int up;                  /* -1: leave, 0: down, 1: up */
	unsigned mtu;
	const uint8_t *mac;
	bool set_group;
	uint32_t group;
	int ns_fd;               /* -1: leave */
	pid_t ns_pid;            /* 0: leave */
	const char *name;        /* rename */
	bool no_ll6;             /* no IPv6 link-local address (a bridge port) */
};

#define LINK_CHANGE_INIT { .up = -1, .ns_fd = -1 }

static struct nl_msg *link_msg(int type, int flags, int ifindex, int up)
{
	struct ifinfomsg ifi = {
		.ifi_family = AF_UNSPEC,
		.ifi_index = ifindex,
		.ifi_flags = up > 0 ? IFF_UP : 0,
		.ifi_change = up >= 0 ? IFF_UP : 0,
	};

	return cyris_nlmsg_new(type, flags, &ifi, sizeof(ifi));
}

/* Put a string as an attribute, for names that must fit the kernel. */
static int put_name(struct nl_msg *msg, int type, const char *name)
{
	return nla_put_string(msg, type, name) < 0 ? -EMSGSIZE : 0;
}

static int put_change(struct nl_msg *msg, const struct link_change *c)
{
	int r = 0;

	if (c->name)
		r |= nla_put_string(msg, IFLA_IFNAME, c->name);
	if (c->alias)
		r |= nla_put_string(msg, IFLA_IFALIAS, c->alias);
	if (c->set_master)
		r |= nla_put_u32(msg, IFLA_MASTER, (uint32_t)c->master);
	if (c->mtu)
		r |= nla_put_u32(msg, IFLA_MTU, c->mtu);
	if (c->mac)
		r |= nla_put(msg, IFLA_ADDRESS, 6, c->mac);
	if (c->set_group)
		r |= nla_put_u32(msg, IFLA_GROUP, c->group);
	if (c->ns_fd >= 0)
		r |= nla_put_u32(msg, IFLA_NET_NS_FD, (uint32_t)c->ns_fd);
	if (c->ns_pid > 0)
		r |= nla_put_u32(msg, IFLA_NET_NS_PID, (uint32_t)c->ns_pid);
	if (c->no_ll6) {
		/* IFLA_AF_SPEC { AF_INET6 { IFLA_INET6_ADDR_GEN_MODE = NONE } } */
		struct nlattr *spec = nla_nest_start(msg, IFLA_AF_SPEC), *af;

		if (!spec || !(af = nla_nest_start(msg, AF_INET6)) ||
		    nla_put_u8(msg, IFLA_INET6_ADDR_GEN_MODE, IN6_ADDR_GEN_MODE_NONE) < 0)
			return -EMSGSIZE;
		nla_nest_end(msg, af);
		nla_nest_end(msg, spec);
	}
	return r ? -EMSGSIZE : 0;
}

/* The RTM_NEWLINK that applies @c to the link @ifindex, or when it is 0
 * to the link named @name (the kernel looks it up: no round trip to learn
 * the index); NULL and *ret (-errno) when it cannot be made. */
static struct nl_msg *change_msg(int ifindex, const char *name, const struct link_change *c,
				 int *ret)
{
	struct nl_msg *msg;
	int r;

	*ret = -EINVAL;
	if (ifindex < 0 || (ifindex == 0 && (!name || c->name)))
		return NULL;
	*ret = -ENOMEM;
	msg = link_msg(RTM_NEWLINK, 0, ifindex, c->up);
	if (!msg)
		return NULL;
	r = put_change(msg, c);
	if (r == 0 && ifindex == 0)
		r = put_name(msg, IFLA_IFNAME, name);
	if (r < 0) {
		nlmsg_free(msg);
		*ret = r;
		return NULL;
	}
	return msg;
}

/*
 * Send @c: @now waits for the answer (cyris_nl_talk); otherwise it is the
 * same as a request of the caller's, queued when @nl is batching.
 */
static int link_change_send(struct cyris_nl *nl, int ifindex, const char *name,
			    const struct link_change *c, bool now)
{
	int r;
	struct nl_msg *msg = change_msg(ifindex, name, c, &r);

	if (!msg)
		return r;
	r = now ? cyris_nl_talk(nl, msg, NULL, NULL) : cyris_nl_send(nl, msg);
	nlmsg_free(msg);
	return r;
}

/* Apply @c now and wait for the answer. */
static int link_apply_to(struct cyris_nl *nl, int ifindex, const char *name,
			 const struct link_change *c)
{
	return link_change_send(nl, ifindex, name, c, true);
}

static int link_apply(struct cyris_nl *nl, int ifindex, const struct link_change *c)
{
	return ifindex > 0 ? link_apply_to(nl, ifindex, NULL, c) : -EINVAL;
}

/* The same as a request of the caller's: queued when @nl is batching. */
static int link_set_to(struct cyris_nl *nl, int ifindex, const char *name,
		       const struct link_change *c)
{
	return link_change_send(nl, ifindex, name, c, false);
}

static int link_set(struct cyris_nl *nl, int ifindex, const struct link_change *c)
{
	return ifindex > 0 ? link_set_to(nl, ifindex, NULL, c) : -EINVAL;
}

/* Is there anything to set on the link @cfg makes once the kernel has it? */
static bool needs_finish(const struct cyris_link_cfg *cfg, const char *alias)
{
	return alias[0] || cfg->altname;
}

/*
 * The attributes every new link carries: name, mtu, mac, master, group.
 * With @echo the kernel sends the new link back, which tells its index.
 * It is made up when @up, else down.
 */
static struct nl_msg *newlink_begin(const struct cyris_link_cfg *cfg, bool echo, bool up)
{
	struct link_change c = LINK_CHANGE_INIT;
	struct nl_msg *msg;

	msg = link_msg(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | (echo ? NLM_F_ECHO : 0),
		       0, up ? 1 : -1);
	if (!msg)
		return NULL;
	c.name = cfg->name;
	c.mtu = cfg->mtu;
	c.mac = cfg->mac;
	c.set_master = cfg->master > 0;
	c.master = cfg->master;
	if (cfg->tag && cfg->tag->range[0]) {
		c.set_group = true;
		c.group = cyris_range_group(cfg->tag->range);
	}
	if (put_change(msg, &c) < 0) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

/* ---- creating --------------------------------------------------------- */

struct echo {
	const char *name;
	int ifindex;
	int peer;               /* IFLA_LINK: a veth's peer, in its namespace */
};

static int on_echo(struct nl_msg *msg, void *arg)
{
	struct echo *e = arg;
	struct nlmsghdr *h = nlmsg_hdr(msg);
	struct ifinfomsg *ifi = nlmsg_data(h);
	struct nlattr *tb[IFLA_MAX + 1];

	if (h->nlmsg_type != RTM_NEWLINK ||
	    nlmsg_parse(h, sizeof(*ifi), tb, IFLA_MAX, NULL) < 0)
		return NL_OK;
	if (tb[IFLA_IFNAME] && streq(nla_get_string(tb[IFLA_IFNAME]), e->name)) {
		e->ifindex = ifi->ifi_index;
		/* a peer in another namespace may have the same number */
		if (tb[IFLA_LINK] && ((int)nla_get_u32(tb[IFLA_LINK]) != ifi->ifi_index ||
				      tb[IFLA_LINK_NETNSID]))
			e->peer = (int)nla_get_u32(tb[IFLA_LINK]);
	}
	return NL_OK;
}

/* The create was asked to echo the new link; a kernel before 6.3 does not:
 * then read it back. */
static int echo_or_get(struct cyris_nl *nl, struct echo *e, bool want_peer)
{
	struct cyris_link l = {0};
	int r;

	if (e->ifindex > 0 && (!want_peer || e->peer > 0))
		return 0;
	r = cyris_link_get(nl, e->name, &l);
	cyris_link_clear(&l);
	if (r < 0)
		return r;
	e->ifindex = l.ifindex;
	e->peer = l.peer;
	return want_peer && e->peer <= 0 ? -EPROTO : 0;
}

static int del_by(struct cyris_nl *nl, int ifindex, const char *name)
{
	struct nl_msg *msg;
	int r;

	if (ifindex < 0 || (ifindex == 0 && !name))
		return -EINVAL;
	msg = link_msg(RTM_DELLINK, 0, ifindex, -1);
	if (!msg)
		return -ENOMEM;
	r = ifindex ? 0 : put_name(msg, IFLA_IFNAME, name);
	if (r == 0)
		r = cyris_nl_talk(nl, msg, NULL, NULL);
	nlmsg_free(msg);
	return r;
}

/* Delete a link just made (by index, or by name when the index is 0) after
 * a failure, without losing the failure's message. */
static void undo_create(struct cyris_nl *nl, int ifindex, const char *name)
{
	struct cyris_error saved = nl->error;

	(void)del_by(nl, ifindex, name);
	nl->error = saved;
}

static int validate_cfg(const struct cyris_link_cfg *cfg, char alias[CYRIS_ALIASSIZ])
{
	alias[0] = '\0';
	if (!cfg || !cyris_ifname_valid(cfg->name))
		return -EINVAL;
	if (cfg->altname && (strlen(cfg->altname) >= CYRIS_ALTNAMSIZ ||
			     strchr(cfg->altname, '/') || strchr(cfg->altname, ' ')))
		return -EINVAL;
	return cfg->tag ? cyris_tag_format(cfg->tag, alias, CYRIS_ALIASSIZ) : 0;
}

static struct nl_msg *altname_msg(int ifindex, const char *name, const char *altname, int *ret);
static int altname_add(struct cyris_nl *nl, int ifindex, const char *altname, bool queue);

/* The requests that finish a new link, sent together once its create is
 * acknowledged. */
struct finish {
	struct cyris_nl_req req[5];
	size_t n;
	int tag_at;             /* the tag with "no IPv6 link-local" in req, or -1 */
};

#define FINISH_INIT { .tag_at = -1 }

static int finish_add(struct finish *f, struct nl_msg *msg, int r, int ignore)
{
	if (!msg)
		return r;
	f->req[f->n].msg = msg;
	f->req[f->n].ignore = ignore;
	f->n++;
	return 0;
}

/* A change of the link @ifindex (by @name when it is 0) to finish it. */
static int finish_change(struct finish *f, int ifindex, const char *name,
			 const struct link_change *c)
{
	int r;
	struct nl_msg *msg = change_msg(ifindex, name, c, &r);

	return finish_add(f, msg, r, 0);
}

/* The new link's tag (on a bridge port with no IPv6 link-local address),
 * its altname, then, when @up, its up. */
static int finish_link(struct finish *f, int ifindex, const struct cyris_link_cfg *cfg,
		       const char *alias, bool up)
{
	struct link_change c = LINK_CHANGE_INIT;
	struct nl_msg *msg;
	int r = 0;

	if (alias[0]) {
		c.alias = alias;
		/* A bridge port has no use for an IPv6 address of its own, and
		 * each one is routes in the namespace's IPv6 table that the
		 * kernel walks (or lists) again for every link that changes:
		 * without them a range's cost per guest does not grow with
		 * its size. (Set while the port is down: none is made.) */
		c.no_ll6 = cfg->master > 0;
		msg = change_msg(ifindex, cfg->name, &c, &r);
		if (c.no_ll6 && msg)
			f->tag_at = (int)f->n;
		/* a kernel without IPv6 refuses the whole change: see finish_send */
		if ((r = finish_add(f, msg, r, c.no_ll6 ? -EAFNOSUPPORT : 0)) < 0)
			return r;
	}
	if (cfg->altname) {
		msg = altname_msg(ifindex, cfg->name, cfg->altname, &r);
		/* kernels before 5.5 have no altnames: the alias still tags it */
		if ((r = finish_add(f, msg, r, -EOPNOTSUPP)) < 0)
			return r;
	}
	if (up) {
		c = (struct link_change)LINK_CHANGE_INIT;
		c.up = 1;
		r = finish_change(f, ifindex, cfg->name, &c);
	}
	return r;
}

/* Send @f in one sendmsg. The tag of a kernel without IPv6 goes again
 * without its IPv6 part (the link then came up untagged for a moment:
 * without IPv6 that costs no route walk). */
static int finish_send(struct cyris_nl *nl, struct finish *f, int ifindex,
		       const char *name, const char *alias)
{
	int r = cyris_nl_talk_many(nl, f->req, f->n);

	if (r == 0 && f->tag_at >= 0 && f->req[f->tag_at].result == -EAFNOSUPPORT) {
		struct link_change c = LINK_CHANGE_INIT;

		c.alias = alias;
		r = link_apply_to(nl, ifindex, name, &c);
	}
	return r;
}

static void finish_free(struct finish *f)
{
	while (f->n)
		nlmsg_free(f->req[--f->n].msg);
}

/* Send the create request @msg, then tag and name the new link, and bring
 * it up when @up_after (it was made down for its tag). Only when the
 * caller wants the index (@ret_ifindex) was it asked to be echoed;
 * otherwise everything after the create goes by name. */
static int link_create(struct cyris_nl *nl, struct nl_msg *msg,
		       const struct cyris_link_cfg *cfg, const char *alias, bool up_after,
		       int *ret_ifindex)
{
	struct echo e = { .name = cfg->name };
	struct finish f = FINISH_INIT;
	int r;

	r = cyris_nl_talk(nl, msg, ret_ifindex ? on_echo : NULL, &e);
	if (r == 0 && ret_ifindex)
		r = echo_or_get(nl, &e, false);
	if (r < 0)
		return r;
	if (needs_finish(cfg, alias) || up_after) {
		r = finish_link(&f, e.ifindex, cfg, alias, up_after);
		if (r == 0)
			r = finish_send(nl, &f, e.ifindex, cfg->name, alias);
		finish_free(&f);
		if (r < 0) {
			undo_create(nl, e.ifindex, cfg->name);
			return r;
		}
	}
	if (ret_ifindex)
		*ret_ifindex = e.ifindex;
	return 0;
}

/* Open IFLA_LINKINFO, put the kind and open IFLA_INFO_DATA. */
static struct nlattr *linkinfo_begin(struct nl_msg *msg, const char *kind,
				     struct nlattr **ret_info)
{
	struct nlattr *info = nla_nest_start(msg, IFLA_LINKINFO);

	if (!info || nla_put_string(msg, IFLA_INFO_KIND, kind) < 0)
		return NULL;
	*ret_info = info;
	return nla_nest_start(msg, IFLA_INFO_DATA);
}

/* Whether a link asked up is made down, to be tagged first and brought up
 * after (see the top of this file). */
static bool up_after(const struct cyris_link_cfg *cfg, const char *alias)
{
	return cfg->up && needs_finish(cfg, alias);
}

int cyris_bridge_create(struct cyris_nl *nl, const struct cyris_link_cfg *cfg,
			const struct cyris_bridge_cfg *br, int *ret_ifindex)
{
	static const struct cyris_bridge_cfg defaults = {0};
	char alias[CYRIS_ALIASSIZ];
	struct nlattr *info, *data;
	_cleanup_nlmsg_ struct nl_msg *msg = NULL;
	int r;

	r = validate_cfg(cfg, alias);
	if (r < 0)
		return r;
	if (!br)
		br = &defaults;
	msg = newlink_begin(cfg, ret_ifindex != NULL, cfg->up && !up_after(cfg, alias));
	if (!msg)
		return -ENOMEM;
	data = linkinfo_begin(msg, "bridge", &info);
	if (!data ||
	    nla_put_u32(msg, IFLA_BR_FORWARD_DELAY, br->forward_delay) < 0 ||
	    nla_put_u32(msg, IFLA_BR_STP_STATE, br->stp ? 1 : 0) < 0 ||
	    (br->vlan_filtering && nla_put_u8(msg, IFLA_BR_VLAN_FILTERING, 1) < 0))
		return -EMSGSIZE;
	nla_nest_end(msg, data);
	nla_nest_end(msg, info);
	return link_create(nl, msg, cfg, alias, up_after(cfg, alias), ret_ifindex);
}

/* Open the peer's namespace: an fd, or a pid the kernel resolves. */
static int peer_ns(const char *spec, int *ret_fd, pid_t *ret_pid)
{
	*ret_fd = -1;
	*ret_pid = 0;
	if (!spec || !*spec)
		return 0;
	if (cyris_netns_is_pid(spec, ret_pid))
		return 0;
	*ret_fd = cyris_netns_open(spec);
	return *ret_fd < 0 ? *ret_fd : 0;
}

/* A peer in another namespace is tagged and brought up from inside it, by
 * name, in one message: the route walk its tag costs there while it has
 * no carrier yet (see the top) is that of a namespace of its own, which
 * has next to no routes. Through @veth->peer_nl, that request is the
 * caller's: queued when it is batching. */
static int veth_peer_finish(struct cyris_nl *nl, const struct cyris_veth_cfg *veth,
			    const char *palias)
{
	struct link_change c = LINK_CHANGE_INIT;
	_cleanup_nl_ struct cyris_nl *pnl = NULL;
	int r;

	c.up = veth->peer_up ? 1 : -1;
	c.alias = palias[0] ? palias : NULL;
	if (veth->peer_nl)
		return link_set_to(veth->peer_nl, 0, veth->peer, &c);
	r = cyris_nl_open(&pnl, veth->peer_netns);
	if (r == 0)
		r = link_apply_to(pnl, 0, veth->peer, &c);
	if (r < 0 && pnl && pnl->error.code)
		nl->error = pnl->error;
	return r;
}

/*
 * The pair is made with the link down when it is to be tagged, and its
 * peer (always down at first: the kernel cannot bring it up in the
 * create). Then, in one sendmsg after the create's ACK: a peer in this
 * namespace tagged while down, the link's tag and altname, the link up,
 * the peer up. A peer elsewhere is finished from its own namespace.
 */
int cyris_veth_create(struct cyris_nl *nl, const struct cyris_link_cfg *cfg,
		      const struct cyris_veth_cfg *veth, int *ret_ifindex)
{
	struct ifinfomsg peer = { .ifi_family = AF_UNSPEC };
	struct link_change pc = LINK_CHANGE_INIT;
	char alias[CYRIS_ALIASSIZ], palias[CYRIS_ALIASSIZ] = "";
	struct nlattr *info, *data, *pn;
	_cleanup_close_ int nsfd = -1;
	_cleanup_nlmsg_ struct nl_msg *msg = NULL;
	struct finish f = FINISH_INIT;
	struct echo e = {0};
	bool same_ns, echo;
	int r;

	r = validate_cfg(cfg, alias);
	if (r < 0)
		return r;
	if (!veth || !cyris_ifname_valid(veth->peer))
		return -EINVAL;
	if (veth->peer_tag && (r = cyris_tag_format(veth->peer_tag, palias, sizeof(palias))) < 0)
		return r;
	r = peer_ns(veth->peer_netns, &nsfd, &pc.ns_pid);
	if (r < 0)
		return r;
	same_ns = nsfd < 0 && pc.ns_pid == 0;
	echo = ret_ifindex || veth->ret_peer_ifindex;
	e.name = cfg->name;
	pc.ns_fd = nsfd;
	pc.name = veth->peer;
	pc.mac = veth->peer_mac;
	pc.mtu = veth->peer_mtu ? veth->peer_mtu : cfg->mtu;
	msg = newlink_begin(cfg, echo, cfg->up && !up_after(cfg, alias));
	if (!msg)
		return -ENOMEM;
	data = linkinfo_begin(msg, "veth", &info);
	if (!data || !(pn = nla_nest_start(msg, VETH_INFO_PEER)) ||
	    nlmsg_append(msg, &peer, sizeof(peer), NLMSG_ALIGNTO) < 0 ||
	    put_change(msg, &pc) < 0)
		return -EMSGSIZE;
	nla_nest_end(msg, pn);
	nla_nest_end(msg, data);
	nla_nest_end(msg, info);
	r = cyris_nl_talk(nl, msg, echo ? on_echo : NULL, &e);
	if (r == 0 && echo)
		r = echo_or_get(nl, &e, veth->ret_peer_ifindex != NULL);
	if (r < 0)
		return r;
	if (same_ns && palias[0]) {
		struct link_change c = LINK_CHANGE_INIT;

		c.alias = palias;
		r = finish_change(&f, 0, veth->peer, &c);
	}
	if (r == 0 && needs_finish(cfg, alias))
		r = finish_link(&f, e.ifindex, cfg, alias, up_after(cfg, alias));
	if (r == 0 && same_ns && veth->peer_up) {
		struct link_change c = LINK_CHANGE_INIT;

		c.up = 1;
		r = finish_change(&f, 0, veth->peer, &c);
	}
	if (r == 0 && f.n)
		r = finish_send(nl, &f, e.ifindex, cfg->name, alias);
	finish_free(&f);
	if (r == 0 && !same_ns && (veth->peer_up || palias[0]))
		r = veth_peer_finish(nl, veth, palias);
	if (r < 0) {
		undo_create(nl, e.ifindex, cfg->name);
		return r;
	}
	if (ret_ifindex)
		*ret_ifindex = e.ifindex;
	if (veth->ret_peer_ifindex)
		*veth->ret_peer_ifindex = e.peer;
	return 0;
}

int cyris_vxlan_create(struct cyris_nl *nl, const struct cyris_link_cfg *cfg,
		       const struct cyris_vxlan_cfg *vx, int *ret_ifindex)
{
	char alias[CYRIS_ALIASSIZ];
	struct nlattr *info, *data;
	_cleanup_nlmsg_ struct nl_msg *msg = NULL;
	bool v6;
	int r;

	r = validate_cfg(cfg, alias);
	if (r < 0)
		return r;
	if (!vx || vx->vni >= (1u << 24))
		return -EINVAL;
	v6 = vx->remote.family == AF_INET6 || vx->local.family == AF_INET6;
	if (vx->remote.family && vx->local.family &&
	    vx->remote.family != vx->local.family)
		return -EINVAL;
	msg = newlink_begin(cfg, ret_ifindex != NULL, cfg->up && !up_after(cfg, alias));
	if (!msg)
		return -ENOMEM;
	data = linkinfo_begin(msg, "vxlan", &info);
	if (!data || nla_put_u32(msg, IFLA_VXLAN_ID, vx->vni) < 0 ||
	    nla_put_u16(msg, IFLA_VXLAN_PORT, htons(vx->dstport ? vx->dstport : 4789)) < 0 ||
	    nla_put_u8(msg, IFLA_VXLAN_LEARNING, 1) < 0 ||
	    (vx->remote.family &&
	     nla_put(msg, v6 ? IFLA_VXLAN_GROUP6 : IFLA_VXLAN_GROUP,
		     (int)cyris_ip_len(&vx->remote), vx->remote.a) < 0) ||
	    (vx->local.family &&
	     nla_put(msg, v6 ? IFLA_VXLAN_LOCAL6 : IFLA_VXLAN_LOCAL,
		     (int)cyris_ip_len(&vx->local), vx->local.a) < 0) ||
	    (vx->dev > 0 && nla_put_u32(msg, IFLA_VXLAN_LINK, (uint32_t)vx->dev) < 0))
		return -EMSGSIZE;
	nla_nest_end(msg, data);
	nla_nest_end(msg, info);
	return link_create(nl, msg, cfg, alias, up_after(cfg, alias), ret_ifindex);
}

/* Open /dev/net/tun in the context's namespace: the device is made in the
 * namespace of the process that opened the file. */
static int tun_open(struct cyris_nl *nl)
{
	int old = -1, fd, r;

	if (nl->nsfd >= 0) {
		r = cyris_netns_enter(nl->nsfd, &old);
		if (r < 0)
			return r;
	}
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	r = fd < 0 ? -errno : fd;
	if (old >= 0) {
		int r2 = cyris_netns_leave(old);

		if (r2 < 0) {
			if (fd >= 0)
				close(fd);
			return r2;
		}
	}
	return r;
}

int cyris_tap_create(struct cyris_nl *nl, const struct cyris_link_cfg *cfg,
		     const struct cyris_tap_cfg *tap, int *ret_ifindex)
{
	struct link_change c = LINK_CHANGE_INIT;
	char alias[CYRIS_ALIASSIZ];
	struct cyris_link l = {0};
	_cleanup_close_ int fd = -1;
	struct ifreq ifr = {0};
	int r, ifindex;

	r = validate_cfg(cfg, alias);
	if (r < 0)
		return r;
	/* TUNSETIFF on an existing persistent tap attaches to it: refuse. */
	r = cyris_link_get(nl, cfg->name, &l);
	cyris_link_clear(&l);
	if (r == 0)
		return -EEXIST;
	if (r != -ENODEV)
		return r;
	fd = tun_open(nl);
	if (fd < 0)
		return fd;
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (tap && tap->vnet_hdr ? IFF_VNET_HDR : 0);
	memcpy(ifr.ifr_name, cfg->name, strlen(cfg->name) + 1);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		return -errno;
	if (tap && tap->owner >= 0 && ioctl(fd, TUNSETOWNER, (unsigned long)tap->owner) < 0)
		return -errno;
	if (tap && tap->group >= 0 && ioctl(fd, TUNSETGROUP, (unsigned long)tap->group) < 0)
		return -errno;
	r = cyris_link_get(nl, cfg->name, &l);
	ifindex = l.ifindex;
	cyris_link_clear(&l);
	if (r < 0)
		return r;
	/* Until TUNSETPERSIST the device dies with this fd, so a crash here
	 * leaves nothing behind. */
	c.alias = alias[0] ? alias : NULL;
	c.set_master = cfg->master > 0;
	c.master = cfg->master;
	c.mtu = cfg->mtu;
	c.mac = cfg->mac;
	c.up = cfg->up ? 1 : -1;
	if (cfg->tag && cfg->tag->range[0]) {
		c.set_group = true;
		c.group = cyris_range_group(cfg->tag->range);
	}
	r = link_apply(nl, ifindex, &c);
	if (r == 0 && cfg->altname) {
		r = altname_add(nl, ifindex, cfg->altname, false);
		if (r == -EOPNOTSUPP)
			r = 0;
	}
	if (r == 0 && ioctl(fd, TUNSETPERSIST, 1UL) < 0)
		r = -errno;
	if (r < 0)
		return r;
	if (ret_ifindex)
		*ret_ifindex = ifindex;
	return 0;
}

/* ---- changing --------------------------------------------------------- */

int cyris_link_set_master(struct cyris_nl *nl, int ifindex, int master)
{
	struct link_change c = LINK_CHANGE_INIT;

	c.set_master = true;
	c.master = master > 0 ? master : 0;
	return link_set(nl, ifindex, &c);
}

int cyris_link_set_up(struct cyris_nl *nl, int ifindex, bool up)
{
	struct link_change c = LINK_CHANGE_INIT;

	c.up = up ? 1 : 0;
	return link_set(nl, ifindex, &c);
}

int cyris_link_set_mtu(struct cyris_nl *nl, int ifindex, unsigned mtu)
{
	struct link_change c = LINK_CHANGE_INIT;

	if (!mtu)
		return -EINVAL;
	c.mtu = mtu;
	return link_set(nl, ifindex, &c);
}

int cyris_link_set_mac(struct cyris_nl *nl, int ifindex, const uint8_t mac[6])
{
	struct link_change c = LINK_CHANGE_INIT;

	c.mac = mac;
	return link_set(nl, ifindex, &c);
}

int cyris_link_set_alias(struct cyris_nl *nl, int ifindex, const char *alias)
{
	struct link_change c = LINK_CHANGE_INIT;

	if (!alias || strlen(alias) >= CYRIS_ALIASSIZ)
		return -EINVAL;
	c.alias = alias;
	return link_set(nl, ifindex, &c);
}

int cyris_link_set_up_alias(struct cyris_nl *nl, const char *name, const char *alias)
{
	struct link_change c = LINK_CHANGE_INIT;

	if (!alias || strlen(alias) >= CYRIS_ALIASSIZ)
		return -EINVAL;
	c.up = 1;
	c.alias = alias[0] ? alias : NULL;
	return link_apply_to(nl, 0, name, &c);
}

int cyris_link_set_tag(struct cyris_nl *nl, int ifindex, const struct cyris_tag *tag)
{
	struct link_change c = LINK_CHANGE_INIT;
	char alias[CYRIS_ALIASSIZ];
	int r = cyris_tag_format(tag, alias, sizeof(alias));

	if (r < 0)
		return r;
	c.alias = alias;
	if (tag->range[0]) {
		c.set_group = true;
		c.group = cyris_range_group(tag->range);
	}
	return link_set(nl, ifindex, &c);
}

static struct nl_msg *altname_msg(int ifindex, const char *name, const char *altname, int *ret)
{
	struct nlattr *props;
	struct nl_msg *msg;

	*ret = -EINVAL;
	if (!altname || !*altname || strlen(altname) >= CYRIS_ALTNAMSIZ ||
	    ifindex < 0 || (ifindex == 0 && !name))
		return NULL;
	*ret = -ENOMEM;
	msg = link_msg(RTM_NEWLINKPROP, NLM_F_CREATE | NLM_F_EXCL, ifindex, -1);
	if (!msg)
		return NULL;
	*ret = -EMSGSIZE;
	props = nla_nest_start(msg, IFLA_PROP_LIST);
	if (props && put_name(msg, IFLA_ALT_IFNAME, altname) == 0) {
		nla_nest_end(msg, props);
		if (ifindex || put_name(msg, IFLA_IFNAME, name) == 0)
			return msg;
	}
	nlmsg_free(msg);
	return NULL;
}

/* An altname now (@queue false) or as the caller's request. */
static int altname_add(struct cyris_nl *nl, int ifindex, const char *altname, bool queue)
{
	int r;
	struct nl_msg *msg = ifindex > 0 ? altname_msg(ifindex, NULL, altname, &r) : NULL;

	if (ifindex <= 0)
		return -EINVAL;
	if (!msg)
		return r;
	r = queue ? cyris_nl_send(nl, msg) : cyris_nl_talk(nl, msg, NULL, NULL);
	nlmsg_free(msg);
	return r;
}

int cyris_link_add_altname(struct cyris_nl *nl, int ifindex, const char *altname)
{
	return altname_add(nl, ifindex, altname, true);
}

int cyris_link_set_forwarding(struct cyris_nl *nl, int ifindex, bool on)
{
	struct nlattr *spec, *af, *conf;
	struct nl_msg *msg;
	int r = -EMSGSIZE;

	if (ifindex <= 0)
		return -EINVAL;
	msg = link_msg(RTM_NEWLINK, 0, ifindex, -1);
	if (!msg)
		return -ENOMEM;
	/* IFLA_AF_SPEC { AF_INET { IFLA_INET_CONF { [FORWARDING] = on } } } */
	if ((spec = nla_nest_start(msg, IFLA_AF_SPEC)) && (af = nla_nest_start(msg, AF_INET)) &&
	    (conf = nla_nest_start(msg, IFLA_INET_CONF)) &&
	    nla_put_u32(msg, IPV4_DEVCONF_FORWARDING, on ? 1 : 0) == 0) {
		nla_nest_end(msg, conf);
		nla_nest_end(msg, af);
		nla_nest_end(msg, spec);
		r = cyris_nl_send(nl, msg);
	}
	nlmsg_free(msg);
	return r;
}

int cyris_link_set_netns(struct cyris_nl *nl, int ifindex, const char *netns,
			 const char *new_name)
{
	struct link_change c = LINK_CHANGE_INIT;
	_cleanup_close_ int fd = -1;
	int r;

	if (new_name && !cyris_ifname_valid(new_name))
		return -EINVAL;
	r = peer_ns(netns, &fd, &c.ns_pid);
	if (r < 0)
		return r;
	if (fd < 0 && c.ns_pid == 0)
		return -EINVAL;
	c.ns_fd = fd;
	c.name = new_name;
	/* never queued: the fd in the request is closed on return */
	return link_apply(nl, ifindex, &c);
}

/* ---- deleting --------------------------------------------------------- */

int cyris_link_del(struct cyris_nl *nl, int ifindex)
{
	struct nl_msg *msg;
	int r;

	if (ifindex <= 0)
		return -EINVAL;
	msg = link_msg(RTM_DELLINK, 0, ifindex, -1);
	if (!msg)
		return -ENOMEM;
	r = cyris_nl_send(nl, msg);
	nlmsg_free(msg);
	return r;
}

/* Delete every link of @group. The kernel answers ENODEV when the group
 * holds none, which here means every link moved into it went meanwhile
 * (the group was picked unused): that is what was asked for. */
static int group_del(struct cyris_nl *nl, uint32_t group)
{
	struct nl_msg *msg = link_msg(RTM_DELLINK, 0, 0, -1);
	int r = -EMSGSIZE;

	if (!msg)
		return -ENOMEM;
	if (nla_put_u32(msg, IFLA_GROUP, group) == 0)
		r = cyris_nl_talk(nl, msg, NULL, NULL);
	nlmsg_free(msg);
	return r == -ENODEV ? 0 : r;
}

static bool group_used(const struct cyris_link_list *l, uint32_t g)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->v[i].group == g)
			return true;
	return false;
}

static bool in_set(const int *v, size_t n, int x)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i] == x)
			return true;
	return false;
}

/* true when every link of group @g is in @set (and the group is not 0). */
static bool group_is_exactly(const struct cyris_link_list *l, uint32_t g,
			     const int *set, size_t n)
{
	size_t i;

	if (g == 0)
		return false;
	for (i = 0; i < l->n; i++)
		if (l->v[i].group == g && !in_set(set, n, l->v[i].ifindex))
			return false;
	return true;
}

/* Delete @set one link at a time; a link already gone (a veth whose peer
 * went first) is not an error. */
static int del_each(struct cyris_nl *nl, const int *set, size_t n)
{
	size_t i;
	int r;

	for (i = 0; i < n; i++) {
		r = set[i] > 0 ? del_by(nl, set[i], NULL) : -EINVAL;
		if (r < 0 && r != -ENODEV)
			return r;
	}
	return 0;
}

/* A group nobody uses: none of the host's links in it, nor the piece in
 * flight (@prev, 0: none); 0 when getrandom() fails. */
static uint32_t del_group_pick(const struct cyris_link_list *l, uint32_t prev)
{
	uint32_t g;

	do {
		if (getrandom(&g, sizeof(g), 0) != sizeof(g))
			return 0;
		/* 0x20000000..0x3fffffff: apart from range groups */
		g = (g & 0x1fffffffu) | 0x20000000u;
	} while (g == prev || group_used(l, g));
	return g;
}

/* Move @set into group @g (a link gone meanwhile is no failure). */
static int del_move(struct cyris_nl *nl, const int *set, size_t n, uint32_t g)
{
	struct link_change c = LINK_CHANGE_INIT;
	size_t i;
	int r;

	c.set_group = true;
	c.group = g;
	for (i = 0; i < n; i++)
		if ((r = link_apply(nl, set[i], &c)) < 0 && r != -ENODEV)
			return r;
	return 0;
}

static int del_many(struct cyris_nl *nl, const struct cyris_link_list *l,
		    const int *set, size_t n, uint32_t hint)
{
	uint32_t g = hint;
	int r;

	if (n == 0)
		return 0;
	if (n == 1)
		return del_each(nl, set, n);
	/* else move the links into a group nobody uses, then delete it */
	if (!group_is_exactly(l, g, set, n) &&
	    (!(g = del_group_pick(l, 0)) || del_move(nl, set, n, g) < 0))
		return del_each(nl, set, n);
	r = group_del(nl, g);
	/* a kernel that cannot delete by group: one at a time */
	return r == -EOPNOTSUPP || r == -EINVAL ? del_each(nl, set, n) : r;
}

int cyris_link_del_many(struct cyris_nl *nl, const int *ifindex, size_t n)
{
	_cleanup_link_list_ struct cyris_link_list l = {0};
	int r;

	if (n < 2)
		return del_each(nl, ifindex, n);
	r = cyris_link_list(nl, &l);
	if (r == 0)
		r = del_many(nl, &l, ifindex, n, 0);
	return r;
}

int cyris_link_del_where(struct cyris_nl *nl,
			 bool (*match)(const struct cyris_link *l, void *arg), void *arg,
			 uint32_t group, size_t *ret_count)
{
	_cleanup_link_list_ struct cyris_link_list l = {0};
	_cleanup_free_ int *set = NULL;
	size_t i, n = 0;
	int r = cyris_link_list(nl, &l);

	if (r < 0)
		return r;
	set = calloc(l.n + 1, sizeof(*set));
	if (!set)
		return -ENOMEM;
	for (i = 0; i < l.n; i++)
		if (match(&l.v[i], arg))
			set[n++] = l.v[i].ifindex;
	r = del_many(nl, &l, set, n, group);
	if (r == 0 && ret_count)
		*ret_count = n;
	return r;
}

struct range_match {
	const char *range;
	uint32_t group;
};

/* tagged for this range, or an untagged link left in the range's group by
 * a create that died before tagging it */
static bool in_range(const struct cyris_link *k, void *arg)
{
	const struct range_match *m = arg;

	return (k->owned && cyris_tag_in_range(&k->tag, m->range)) ||
	       (!k->alias[0] && k->group == m->group);
}

/*
 * A range's teardown, in pieces. The kernel deletes a group under RTNL, and
 * every other netlink change on the host (another range's up, libvirt, the
 * network manager) waits until it is done: removing a bridge costs an
 * rcu_barrier() (br_multicast_dev_del, about 16-22 ms here), each of its
 * ports a synchronize_net() (about 1.7 ms), so one request for a range of
 * 100 networks held RTNL for about 2 s. Deleted in requests of at most
 * DEL_BUDGET units (a port or other link 1, a bridge 30: 100 ports or 3
 * bridges, about 70 ms either, measured), the longest wait is one
 * request's. Ports go first, so that a bridge costs only itself.
 */
#define DEL_BUDGET 100
#define DEL_BRIDGE_COST 30

/*
 * Two senders. A delete request also costs its sender the kernel's
 * netdev_run_todo() after RTNL is released (an rcu_barrier(), 15-20 ms
 * here), which one sender pays between every two pieces. So the pieces go
 * out on two sockets, each with a thread blocked in its request, and the
 * next piece is sent when the last link of the one before has been
 * reported deleted (RTM_DELLINK on a socket listening to the links), which
 * the kernel sends just before it leaves RTNL: that piece's own wait then
 * overlaps the next one's RTNL part. The next piece goes 5 ms after that
 * report, when the one before has left RTNL (which takes it a few more ms):
 * a third party that waited for RTNL during a piece then comes before the
 * next piece, not after it too (sent at once, it waited for two pieces:
 * 133-149 ms against 78-90 ms, measured with tests/bench/stall.sh).
 */
struct del_pipe;

struct del_sender {
	struct del_pipe *p;
	struct cyris_nl *nl;
	pthread_t t;
	bool started, busy, quit;
	uint32_t group;                /* the piece's group, while busy */
	const int *set;                /* its links */
	size_t n;
	int rc;                        /* of the last piece */
};

struct del_pipe {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct del_sender s[2];
	struct cyris_nl *mon;          /* subscribed to RTNLGRP_LINK */
	int monfd;
};

static void *del_sender_main(void *arg)
{
	struct del_sender *s = arg;
	struct del_pipe *p = s->p;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		uint32_t g;
		int r;

		while (!s->busy && !s->quit)
			pthread_cond_wait(&p->cond, &p->lock);
		if (!s->busy)
			break;
		g = s->group;
		pthread_mutex_unlock(&p->lock);
		r = group_del(s->nl, g);
		pthread_mutex_lock(&p->lock);
		s->rc = r;
		s->busy = false;
		pthread_cond_broadcast(&p->cond);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

static void del_pipe_close(struct del_pipe *p)
{
	size_t i;

	pthread_mutex_lock(&p->lock);
	for (i = 0; i < 2; i++)
		p->s[i].quit = true;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	for (i = 0; i < 2; i++) {
		if (p->s[i].started)
			pthread_join(p->s[i].t, NULL);
		cyris_nl_close(p->s[i].nl);
	}
	cyris_nl_close(p->mon);
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
}

/* Both sockets and the listener in @nl's namespace (the one it holds, not
 * whatever its name names now), both threads running. */
static int del_pipe_open(struct cyris_nl *nl, struct del_pipe *p)
{
	int grp = RTNLGRP_LINK, buf = 4 << 20, r = 0;
	pthread_attr_t attr;
	sigset_t all;
	size_t i;

	memset(p, 0, sizeof(*p));
	p->monfd = -1;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	for (i = 0; r == 0 && i < 2; i++) {
		p->s[i].p = p;
		r = cyris_nl_open_same(&p->s[i].nl, nl);
	}
	if (r == 0 && (r = cyris_nl_open_same(&p->mon, nl)) == 0) {
		p->monfd = nl_socket_get_fd(p->mon->sk);
		if (setsockopt(p->monfd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &grp, sizeof(grp)) < 0)
			r = -errno;
		else if (setsockopt(p->monfd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)) < 0)
			(void)setsockopt(p->monfd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	}
	/* the threads are born with every signal blocked: signals stay with
	 * the caller's threads (whose own mask is never touched) */
	sigfillset(&all);
	if (r == 0 && (r = -pthread_attr_init(&attr)) == 0) {
		r = -pthread_attr_setsigmask_np(&attr, &all);
		for (i = 0; r == 0 && i < 2; i++) {
			r = -pthread_create(&p->s[i].t, &attr, del_sender_main, &p->s[i]);
			p->s[i].started = r == 0;
		}
		pthread_attr_destroy(&attr);
	}
	if (r < 0)
		del_pipe_close(p);
	return r;
}

static void del_sender_idle(struct del_pipe *p, struct del_sender *s)
{
	pthread_mutex_lock(&p->lock);
	while (s->busy)
		pthread_cond_wait(&p->cond, &p->lock);
	pthread_mutex_unlock(&p->lock);
}

/*
 * Wait until @s is idle: its last piece's status, as one sender's would be
 * (a kernel that cannot delete by group: that piece one link at a time; a
 * failure's message copied to @nl, where the caller reads it). With @keep
 * false (a failure is kept already) only the wait: nothing more is
 * deleted, and that failure's message stays.
 */
static int del_sender_done(struct cyris_nl *nl, struct del_pipe *p, struct del_sender *s, bool keep)
{
	int r;

	del_sender_idle(p, s);
	r = s->rc;
	if (!keep)
		r = 0;
	else if (r == -EOPNOTSUPP || r == -EINVAL)
		r = del_each(nl, s->set, s->n);
	else if (r < 0)
		nl->error = s->nl->error;
	s->rc = 0;
	s->n = 0;
	return r;
}

static bool del_sender_busy(struct del_pipe *p, struct del_sender *s)
{
	bool b;

	pthread_mutex_lock(&p->lock);
	b = s->busy;
	pthread_mutex_unlock(&p->lock);
	return b;
}

/* Until every link of @s's piece was reported deleted, or @s is done. */
static void del_watch(struct del_pipe *p, struct del_sender *s)
{
	_cleanup_free_ bool *seen = calloc(s->n ? s->n : 1, sizeof(*seen));
	char buf[32768] __attribute__((aligned(NLMSG_ALIGNTO)));
	size_t left = s->n, i;

	while (seen && left && del_sender_busy(p, s)) {
		struct pollfd pf = { .fd = p->monfd, .events = POLLIN };
		struct nlmsghdr *h;
		ssize_t len;

		if (poll(&pf, 1, 5) <= 0)
			continue;
		len = recv(p->monfd, buf, sizeof(buf), MSG_DONTWAIT);
		if (len < 0 && errno == ENOBUFS)
			break;      /* notifications lost: wait for the answer instead */
		if (len <= 0)
			continue;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
			const struct ifinfomsg *ifi = NLMSG_DATA(h);

			/* the link's own (a bridge port's leaving is AF_BRIDGE) */
			if (h->nlmsg_type != RTM_DELLINK || h->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)) ||
			    ifi->ifi_family != AF_UNSPEC)
				continue;
			for (i = 0; i < s->n; i++)
				if (!seen[i] && s->set[i] == ifi->ifi_index) {
					seen[i] = true;
					left--;
				}
		}
	}
	if (!seen || left)
		del_sender_idle(p, s);
}

/* @set: its first @n_other links are not bridges, the rest are */
static int del_chunked(struct cyris_nl *nl, const struct cyris_link_list *l, int *set, size_t n,
		       size_t n_other, uint32_t hint)
{
	const struct timespec gap = { .tv_nsec = 5000000 };
	_cleanup_free_ size_t *ends = NULL;
	size_t i, last, from = 0, np = 0;
	unsigned cost = 0;
	struct del_pipe p;
	uint32_t prev = 0;
	int r = 0, r2;

	if (n_other + (n - n_other) * DEL_BRIDGE_COST <= DEL_BUDGET)
		return del_many(nl, l, set, n, hint);
	/* the pieces: piece k ends before ends[k] */
	if (!(ends = calloc(n + 1, sizeof(*ends))))
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		unsigned c = i < n_other ? 1 : DEL_BRIDGE_COST;

		if (cost + c > DEL_BUDGET && i > from) {
			ends[np++] = i;
			from = i;
			cost = 0;
		}
		cost += c;
	}
	ends[np++] = n;
	if (del_pipe_open(nl, &p) < 0) {
		/* one sender, then */
		for (i = 0, from = 0; i < np; from = ends[i++])
			if ((r = del_many(nl, l, set + from, ends[i] - from, 0)) < 0)
				return r;
		return 0;
	}
	for (i = 0, from = 0; r == 0 && i < np; from = ends[i++]) {
		struct del_sender *s = &p.s[i % 2];
		size_t k = ends[i] - from;
		uint32_t g = 0;

		/* this sender's piece before (the other's may still be going) */
		if ((r = del_sender_done(nl, &p, s, true)) < 0)
			break;
		if (k < 2 || !(g = del_group_pick(l, prev)) || del_move(nl, set + from, k, g) < 0) {
			/* as one sender does it, once the other is done too */
			if ((r = del_sender_done(nl, &p, &p.s[(i + 1) % 2], true)) == 0)
				r = del_many(nl, l, set + from, k, 0);
			continue;
		}
		pthread_mutex_lock(&p.lock);
		s->group = prev = g;
		s->set = set + from;
		s->n = k;
		s->busy = true;
		pthread_cond_broadcast(&p.cond);
		pthread_mutex_unlock(&p.lock);
		del_watch(&p, s);
		if (!del_sender_busy(&p, s)) {
			/* answered already: a failure stops here, as with one sender */
			r = del_sender_done(nl, &p, s, true);
		} else if (i + 1 < np) {
			nanosleep(&gap, NULL);
		}
	}
	/* the last pieces, in their order; after a failure only waited for */
	for (last = i + 2; i < last; i++)
		if ((r2 = del_sender_done(nl, &p, &p.s[i % 2], r == 0)) < 0)
			r = r2;
	del_pipe_close(&p);
	return r;
}


int cyris_range_destroy(struct cyris_nl *nl, const char *range, size_t *ret_count)
{
	_cleanup_link_list_ struct cyris_link_list l = {0};
	_cleanup_free_ int *set = NULL;
	struct range_match m = { .range = range };
	size_t i, n = 0, n_other;
	int r;

	if (!cyris_id_valid(range))
		return -EINVAL;
	m.group = cyris_range_group(range);
	if ((r = cyris_link_list(nl, &l)) < 0)
		return r;
	set = calloc(l.n + 1, sizeof(*set));
	if (!set)
		return -ENOMEM;
	/* the ports and other links first, then the bridges */
	for (i = 0; i < l.n; i++)
		if (!streq(l.v[i].kind, "bridge") && in_range(&l.v[i], &m))
			set[n++] = l.v[i].ifindex;
	n_other = n;
	for (i = 0; i < l.n; i++)
		if (streq(l.v[i].kind, "bridge") && in_range(&l.v[i], &m))
			set[n++] = l.v[i].ifindex;
	r = del_chunked(nl, &l, set, n, n_other, m.group);
	if (r == 0 && ret_count)
		*ret_count = n;
	return r;
}

/* ---- reading ---------------------------------------------------------- */

static void parse_bridge(struct cyris_link *k, struct nlattr *data)
{
	struct nlattr *tb[IFLA_BR_MAX + 1];

	if (nla_parse_nested(tb, IFLA_BR_MAX, data, NULL) < 0)
		return;
	if (tb[IFLA_BR_STP_STATE])
		k->stp_state = nla_get_u32(tb[IFLA_BR_STP_STATE]);
	if (tb[IFLA_BR_FORWARD_DELAY])
		k->forward_delay = nla_get_u32(tb[IFLA_BR_FORWARD_DELAY]);
	if (tb[IFLA_BR_VLAN_FILTERING])
		k->vlan_filtering = nla_get_u8(tb[IFLA_BR_VLAN_FILTERING]);
}

static void get_ip(struct cyris_ip *ip, int family, struct nlattr *a)
{
	size_t n = family == AF_INET ? 4 : 16;

	if (!a || (size_t)nla_len(a) < n)
		return;
	ip->family = family;
	memcpy(ip->a, nla_data(a), n);
}

static void parse_vxlan(struct cyris_link *k, struct nlattr *data)
{
	struct nlattr *tb[IFLA_VXLAN_MAX + 1];

	if (nla_parse_nested(tb, IFLA_VXLAN_MAX, data, NULL) < 0)
		return;
	if (tb[IFLA_VXLAN_ID])
		k->vni = nla_get_u32(tb[IFLA_VXLAN_ID]);
	if (tb[IFLA_VXLAN_PORT])
		k->dstport = ntohs(nla_get_u16(tb[IFLA_VXLAN_PORT]));
	get_ip(&k->remote, AF_INET, tb[IFLA_VXLAN_GROUP]);
	get_ip(&k->remote, AF_INET6, tb[IFLA_VXLAN_GROUP6]);
	get_ip(&k->local, AF_INET, tb[IFLA_VXLAN_LOCAL]);
	get_ip(&k->local, AF_INET6, tb[IFLA_VXLAN_LOCAL6]);
}

static void parse_tun(struct cyris_link *k, struct nlattr *data)
{
	struct nlattr *tb[IFLA_TUN_MAX + 1];

	if (nla_parse_nested(tb, IFLA_TUN_MAX, data, NULL) < 0)
		return;
	if (tb[IFLA_TUN_OWNER])
		k->tun_owner = (long)nla_get_u32(tb[IFLA_TUN_OWNER]);
	if (tb[IFLA_TUN_PERSIST])
		k->tun_persist = nla_get_u8(tb[IFLA_TUN_PERSIST]);
}

static void parse_linkinfo(struct cyris_link *k, struct nlattr *info)
{
	struct nlattr *tb[IFLA_INFO_MAX + 1];

	if (nla_parse_nested(tb, IFLA_INFO_MAX, info, NULL) < 0)
		return;
	if (tb[IFLA_INFO_KIND])
		nla_strlcpy(k->kind, tb[IFLA_INFO_KIND], sizeof(k->kind));
	if (tb[IFLA_INFO_SLAVE_KIND])
		nla_strlcpy(k->slave_kind, tb[IFLA_INFO_SLAVE_KIND], sizeof(k->slave_kind));
	if (!tb[IFLA_INFO_DATA])
		return;
	if (streq(k->kind, "bridge"))
		parse_bridge(k, tb[IFLA_INFO_DATA]);
	else if (streq(k->kind, "vxlan"))
		parse_vxlan(k, tb[IFLA_INFO_DATA]);
	else if (streq(k->kind, "tun"))
		parse_tun(k, tb[IFLA_INFO_DATA]);
}

static int parse_altnames(struct cyris_link *k, struct nlattr *list)
{
	struct nlattr *a;
	size_t n = 0;
	int rem;

	nla_for_each_nested(a, list, rem)
		if (nla_type(a) == IFLA_ALT_IFNAME)
			n++;
	if (!n)
		return 0;
	k->altnames = calloc(n, sizeof(*k->altnames));
	if (!k->altnames)
		return -ENOMEM;
	nla_for_each_nested(a, list, rem)
		if (nla_type(a) == IFLA_ALT_IFNAME)
			nla_strlcpy(k->altnames[k->n_altnames++], a, CYRIS_ALTNAMSIZ);
	return 0;
}

/* Fill @k from one RTM_NEWLINK message. */
static int parse_link(struct nlmsghdr *h, struct cyris_link *k)
{
	struct ifinfomsg *ifi = nlmsg_data(h);
	struct nlattr *tb[IFLA_MAX + 1];

	memset(k, 0, sizeof(*k));
	if (nlmsg_parse(h, sizeof(*ifi), tb, IFLA_MAX, NULL) < 0 || !tb[IFLA_IFNAME])
		return -EPROTO;
	k->ifindex = ifi->ifi_index;
	k->flags = ifi->ifi_flags;
	k->peer_netnsid = -1;
	k->tun_owner = -1;
	nla_strlcpy(k->name, tb[IFLA_IFNAME], sizeof(k->name));
	if (tb[IFLA_MASTER])
		k->master = (int)nla_get_u32(tb[IFLA_MASTER]);
	/* (a peer in another namespace may have the link's own number) */
	if (tb[IFLA_LINK] && ((int)nla_get_u32(tb[IFLA_LINK]) != k->ifindex ||
			      tb[IFLA_LINK_NETNSID]))
		k->peer = (int)nla_get_u32(tb[IFLA_LINK]);
	if (tb[IFLA_LINK_NETNSID])
		k->peer_netnsid = (int)nla_get_s32(tb[IFLA_LINK_NETNSID]);
	if (tb[IFLA_MTU])
		k->mtu = nla_get_u32(tb[IFLA_MTU]);
	if (tb[IFLA_GROUP])
		k->group = nla_get_u32(tb[IFLA_GROUP]);
	if (tb[IFLA_OPERSTATE])
		k->operstate = nla_get_u8(tb[IFLA_OPERSTATE]);
	if (tb[IFLA_ADDRESS] && nla_len(tb[IFLA_ADDRESS]) == 6) {
		memcpy(k->mac, nla_data(tb[IFLA_ADDRESS]), 6);
		k->has_mac = true;
	}
	if (tb[IFLA_IFALIAS]) {
		nla_strlcpy(k->alias, tb[IFLA_IFALIAS], sizeof(k->alias));
		k->owned = cyris_tag_parse(k->alias, &k->tag);
	}
	if (tb[IFLA_LINKINFO])
		parse_linkinfo(k, tb[IFLA_LINKINFO]);
	if (tb[IFLA_PROP_LIST])
		return parse_altnames(k, tb[IFLA_PROP_LIST]);
	return 0;
}

struct link_dump {
	struct cyris_link_list *l;
	int err;
};

static int on_link(struct nl_msg *msg, void *arg)
{
	struct link_dump *d = arg;
	struct nlmsghdr *h = nlmsg_hdr(msg);
	struct cyris_link k, *slot;

	if (h->nlmsg_type != RTM_NEWLINK || parse_link(h, &k) < 0)
		return NL_OK;
	slot = cyris_grow((void **)&d->l->v, &d->l->n, &d->l->cap, sizeof(*slot));
	if (!slot) {
		cyris_link_clear(&k);
		d->err = -ENOMEM;
		return NL_STOP;
	}
	*slot = k;
	return NL_OK;
}

static void link_reset(void *arg)
{
	struct link_dump *d = arg;
	size_t i;

	for (i = 0; i < d->l->n; i++)
		cyris_link_clear(&d->l->v[i]);
	d->l->n = 0;
}

/* A GETLINK request that leaves statistics out of the reply. */
static struct nl_msg *getlink_msg(int ifindex, int flags)
{
	struct nl_msg *msg = link_msg(RTM_GETLINK, flags, ifindex, -1);

	if (msg && nla_put_u32(msg, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS) < 0) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

int cyris_link_list(struct cyris_nl *nl, struct cyris_link_list *ret)
{
	_cleanup_link_list_ struct cyris_link_list l = {0};
	struct link_dump d = { .l = &l };
	_cleanup_nlmsg_ struct nl_msg *msg = getlink_msg(0, 0);
	int r;

	if (!msg)
		return -ENOMEM;
	r = cyris_nl_dump(nl, msg, on_link, &d, link_reset);
	if (r == 0)
		r = d.err;
	if (r < 0)
		return r;
	*ret = l;
	l = (struct cyris_link_list){0};        /* handed on */
	return 0;
}

struct link_one {
	struct cyris_link *k;
	int found;
	int err;
};

static int on_one(struct nl_msg *msg, void *arg)
{
	struct link_one *o = arg;
	struct nlmsghdr *h = nlmsg_hdr(msg);

	if (h->nlmsg_type != RTM_NEWLINK || o->found)
		return NL_OK;
	o->err = parse_link(h, o->k);
	o->found = o->err == 0;
	return NL_OK;
}

static int get_one(struct cyris_nl *nl, int ifindex, int attr, const char *name,
		   struct cyris_link *ret)
{
	struct cyris_link k;
	struct link_one o = { .k = &k };
	struct nl_msg *msg = getlink_msg(ifindex, 0);
	int r;

	if (!msg)
		return -ENOMEM;
	if (name && put_name(msg, attr, name) < 0) {
		nlmsg_free(msg);
		return -EINVAL;
	}
	r = cyris_nl_talk(nl, msg, on_one, &o);
	nlmsg_free(msg);
	if (r == 0 && !o.found)
		r = o.err ? o.err : -ENODEV;
	if (r < 0) {
		if (o.found)
			cyris_link_clear(&k);
		return r;
	}
	*ret = k;
	return 0;
}

int cyris_link_get(struct cyris_nl *nl, const char *name, struct cyris_link *ret)
{
	size_t n = name ? strlen(name) : 0;
	int r = -ENODEV;

	if (n == 0 || n >= CYRIS_ALTNAMSIZ || strchr(name, '/'))
		return -EINVAL;
	if (n < CYRIS_IFNAMSIZ)
		r = get_one(nl, 0, IFLA_IFNAME, name, ret);
	if (r == -ENODEV) {
		r = get_one(nl, 0, IFLA_ALT_IFNAME, name, ret);
		/* a kernel without altnames rejects the attribute */
		if (r == -EINVAL || r == -EOPNOTSUPP)
			r = -ENODEV;
	}
	/* RTM_GETLINK by name answers ENODEV; keep one code for "no such" */
	return r == -ENOENT ? -ENODEV : r;
}

int cyris_link_get_index(struct cyris_nl *nl, int ifindex, struct cyris_link *ret)
{
	if (ifindex <= 0)
		return -EINVAL;
	return get_one(nl, ifindex, 0, NULL, ret);
}

void cyris_link_clear(struct cyris_link *l)
{
	if (!l)
		return;
	free(l->altnames);
	l->altnames = NULL;
	l->n_altnames = 0;
}

void cyris_link_list_free(struct cyris_link_list *l)
{
	size_t i;

	if (!l)
		return;
	for (i = 0; i < l->n; i++)
		cyris_link_clear(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

const struct cyris_link *cyris_link_list_find(const struct cyris_link_list *l,
					      int ifindex)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->v[i].ifindex == ifindex)
			return &l->v[i];
	return NULL;
}

const struct cyris_link *cyris_link_list_find_name(const struct cyris_link_list *l,
						   const char *name)
{
	size_t i, j;

	for (i = 0; i < l->n; i++) {
		if (streq(l->v[i].name, name))
			return &l->v[i];
		for (j = 0; j < l->v[i].n_altnames; j++)
			if (streq(l->v[i].altnames[j], name))
				return &l->v[i];
	}
	return NULL;
}

const char *cyris_operstate_str(uint8_t s)
{
	static const char *const names[] = {
		[IF_OPER_UNKNOWN] = "unknown", [IF_OPER_NOTPRESENT] = "notpresent",
		[IF_OPER_DOWN] = "down", [IF_OPER_LOWERLAYERDOWN] = "lowerlayerdown",
		[IF_OPER_TESTING] = "testing", [IF_OPER_DORMANT] = "dormant",
		[IF_OPER_UP] = "up",
	};

	return s < ARRAY_SIZE(names) && names[s] ? names[s] : "unknown";
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int cyris_mac_parse(const char *s, uint8_t ret[6])
{
	uint8_t m[6];
	int i;

	if (!s || strlen(s) != 17)
		return -EINVAL;
	for (i = 0; i < 6; i++, s += 3) {
		int hi = hexval(s[0]), lo = hexval(s[1]);

		if (hi < 0 || lo < 0 || (i < 5 && s[2] != ':'))
			return -EINVAL;
		m[i] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(ret, m, 6);
	return 0;
}

const char *cyris_mac_format(const uint8_t mac[6], char buf[18])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1],
		 mac[2], mac[3], mac[4], mac[5]);
	return buf;
}
