/* SPDX-License-Identifier: MIT */
/*
 * cyris/link.h — network links: bridges, veth pairs, taps, VXLAN; their
 * ports, state, tags; reading them back; range-wide teardown.
 *
 * Every create is exclusive (NLM_F_EXCL) and tags the new link with its
 * owner; when a step after the kernel created the link fails, the link is
 * deleted again, so a failed create leaves nothing.
 */
#ifndef CYRIS_LINK_H
#define CYRIS_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cyris/addr.h"
#include "cyris/nl.h"
#include "cyris/tag.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default)

/* A link as the kernel reports it. */
struct cyris_link {
	int ifindex;
	char name[CYRIS_IFNAMSIZ];
	char kind[16];            /* IFLA_INFO_KIND ("bridge", "veth", "vxlan",
				     "tun", ...), "" when the kernel gives none */
	char slave_kind[16];      /* IFLA_INFO_SLAVE_KIND ("bridge" for a port) */
	int master;               /* ifindex of the master, 0 if none */
	int peer;                 /* IFLA_LINK: veth peer ifindex, 0 if none */
	int peer_netnsid;         /* -1: the peer is in this namespace */
	unsigned flags;           /* IFF_* */
	uint8_t operstate;        /* IF_OPER_* */
	unsigned mtu;
	uint32_t group;
	uint8_t mac[6];
	bool has_mac;
	char alias[CYRIS_ALIASSIZ];
	bool owned;               /* the alias is a cyris tag */
	struct cyris_tag tag;     /* parsed alias when owned */
	char (*altnames)[CYRIS_ALTNAMSIZ];
	size_t n_altnames;
	/* bridge */
	uint32_t stp_state, forward_delay;   /* forward delay in centiseconds */
	bool vlan_filtering;
	/* vxlan */
	uint32_t vni;
	struct cyris_ip remote, local;
	uint16_t dstport;
	/* tun/tap */
	long tun_owner;                      /* uid or -1 */
	bool tun_persist;
};

struct cyris_link_list {
	struct cyris_link *v;
	size_t n, cap;
};

/* What every created link may carry. */
struct cyris_link_cfg {
	const char *name;               /* required, <= 15 bytes */
	const struct cyris_tag *tag;    /* ownership tag; NULL = untagged */
	const char *altname;            /* NULL = none; failure to set it is
					   ignored where the kernel lacks
					   altnames (EOPNOTSUPP) */
	int master;                     /* ifindex of a bridge, 0 = none */
	bool up;
	unsigned mtu;                   /* 0 = kernel default */
	const uint8_t *mac;             /* NULL = random */
};

struct cyris_bridge_cfg {
	bool stp;                       /* default off */
	unsigned forward_delay;         /* centiseconds; default 0 */
	bool vlan_filtering;
};

struct cyris_veth_cfg {
	const char *peer;               /* peer name (in its namespace) */
	const char *peer_netns;         /* NULL = ours; else as cyris_nl_open */
	const uint8_t *peer_mac;        /* NULL = random */
	bool peer_up;
	unsigned peer_mtu;              /* 0 = same as the link's */
	const struct cyris_tag *peer_tag; /* the peer's alias, NULL = none */
	struct cyris_nl *peer_nl;       /* a context already open in the peer's
					   namespace (NULL: one is opened); the
					   peer's tag and up are its request,
					   queued while it is batching */
	int *ret_peer_ifindex;          /* not NULL: set to the peer's index in
					   its namespace */
};

struct cyris_vxlan_cfg {
	uint32_t vni;                   /* 0 .. 2^24-1 */
	struct cyris_ip remote;         /* family 0 = none (learning only) */
	struct cyris_ip local;          /* family 0 = any */
	uint16_t dstport;               /* 0 = 4789 */
	int dev;                        /* underlay ifindex, 0 = any */
};

struct cyris_tap_cfg {
	long owner;                     /* uid, -1 = none */
	long group;                     /* gid, -1 = none */
	bool vnet_hdr;                  /* IFF_VNET_HDR, as QEMU wants */
};

/* Create links. On success *ret_ifindex (may be NULL) is the new index. */
int cyris_bridge_create(struct cyris_nl *nl, const struct cyris_link_cfg *cfg,
			const struct cyris_bridge_cfg *br, int *ret_ifindex);
int cyris_veth_create(struct cyris_nl *nl, const struct cyris_link_cfg *cfg,
		      const struct cyris_veth_cfg *veth, int *ret_ifindex);
int cyris_vxlan_create(struct cyris_nl *nl, const struct cyris_link_cfg *cfg,
		       const struct cyris_vxlan_cfg *vx, int *ret_ifindex);
/* A persistent tap made with the TUN ioctls in the context's namespace. */
int cyris_tap_create(struct cyris_nl *nl, const struct cyris_link_cfg *cfg,
		     const struct cyris_tap_cfg *tap, int *ret_ifindex);

/*
 * Idempotent creates. cyris_link_adopt() is for a create that failed with
 * EEXIST: the link @cfg->name is accepted when cyris owns it, it is of
 * @kind ("bridge", "veth", "tun", "vxlan") and its tag's range and net are
 * those of @cfg->tag where given; then its master is set to @cfg->master
 * when that is not 0. It returns 0 (and *ret_ifindex), or -EEXIST with
 * "NAME: exists and is not owned by cyris" or "NAME: exists as a different
 * KIND link (ALIAS)" in cyris_nl_error(), or another -errno.
 *
 * cyris_bridge_ensure() creates the bridge, or accepts the existing one
 * (as cyris_link_adopt) when it also has the MTU and MAC of @cfg (where
 * given) and the properties of @br named in @given (CYRIS_BRIDGE_GIVEN_*).
 * Returns 1 created, 0 accepted, -EEXIST when it differs ("NAME: exists
 * with stp off, not on; mtu 1500, not 1400" in cyris_nl_error()), or
 * another -errno.
 */
#define CYRIS_BRIDGE_GIVEN_STP            0x1u
#define CYRIS_BRIDGE_GIVEN_FORWARD_DELAY  0x2u
#define CYRIS_BRIDGE_GIVEN_VLAN_FILTERING 0x4u
int cyris_link_adopt(struct cyris_nl *nl, const struct cyris_link_cfg *cfg,
		     const char *kind, int *ret_ifindex);
int cyris_bridge_ensure(struct cyris_nl *nl, const struct cyris_link_cfg *cfg,
			const struct cyris_bridge_cfg *br, unsigned given, int *ret_ifindex);

/* Change one property of an existing link. */
int cyris_link_set_master(struct cyris_nl *nl, int ifindex, int master);
int cyris_link_set_up(struct cyris_nl *nl, int ifindex, bool up);
int cyris_link_set_mtu(struct cyris_nl *nl, int ifindex, unsigned mtu);
int cyris_link_set_mac(struct cyris_nl *nl, int ifindex, const uint8_t mac[6]);
int cyris_link_set_alias(struct cyris_nl *nl, int ifindex, const char *alias);
int cyris_link_set_tag(struct cyris_nl *nl, int ifindex,
		       const struct cyris_tag *tag);
int cyris_link_add_altname(struct cyris_nl *nl, int ifindex,
			   const char *altname);
/* IPv4 forwarding on this interface only (devconf "forwarding"), so a
 * range's bridges route without turning the host into a router. */
int cyris_link_set_forwarding(struct cyris_nl *nl, int ifindex, bool on);

/* Move a link into namespace @netns (a spec as for cyris_nl_open), renaming
 * it to @new_name there when not NULL. */
int cyris_link_set_netns(struct cyris_nl *nl, int ifindex, const char *netns,
			 const char *new_name);

/* Delete one link. */
int cyris_link_del(struct cyris_nl *nl, int ifindex);
/*
 * Delete many links in as few kernel operations as possible: they are moved
 * into a netdev group no other link uses and removed with one group delete
 * (one unregister batch in the kernel), falling back to one by one.
 */
int cyris_link_del_many(struct cyris_nl *nl, const int *ifindex, size_t n);

/* Read links. cyris_link_get() accepts a name or an altname; -ENODEV when
 * there is none. Free what they fill with cyris_link_clear() /
 * cyris_link_list_free(). */
int cyris_link_get(struct cyris_nl *nl, const char *name, struct cyris_link *ret);
int cyris_link_get_index(struct cyris_nl *nl, int ifindex, struct cyris_link *ret);
int cyris_link_list(struct cyris_nl *nl, struct cyris_link_list *ret);
void cyris_link_clear(struct cyris_link *l);
void cyris_link_list_free(struct cyris_link_list *l);
const struct cyris_link *cyris_link_list_find(const struct cyris_link_list *l,
					      int ifindex);
const struct cyris_link *cyris_link_list_find_name(const struct cyris_link_list *l,
						   const char *name);

/* Delete every link @match accepts, with as few kernel operations as
 * possible (see cyris_link_del_many); @group, when not 0, is a group those
 * links already share. *ret_count (may be NULL) is how many matched. */
int cyris_link_del_where(struct cyris_nl *nl,
			 bool (*match)(const struct cyris_link *l, void *arg), void *arg,
			 uint32_t group, size_t *ret_count);

/* Delete every link whose tag names range @range, and nothing else.
 * *ret_count (may be NULL) is how many were deleted. */
int cyris_range_destroy(struct cyris_nl *nl, const char *range, size_t *ret_count);

/* "up", "down", "unknown", ... from IF_OPER_* */
const char *cyris_operstate_str(uint8_t operstate);

/* MAC addresses: "02:00:5e:10:00:01" */
int cyris_mac_parse(const char *s, uint8_t ret[6]);
const char *cyris_mac_format(const uint8_t mac[6], char buf[18]);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
