/* SPDX-License-Identifier: MIT */
/*
 * cyris/plan.h — everything a range will create on a host, decided before
 * anything is created: kernel names, subnets, gateway and member addresses,
 * MACs, VXLAN VNIs, where each forwarding rule is enforced, entry points.
 *
 * Deterministic: the same file, configuration and host state give the same
 * plan. Subnets come first-fit from the configured pool, skipping every
 * prefix already in use on the host (other ranges, the host's own).
 *
 * Instances: instance_number N builds N isolated copies. Guests: number K
 * clones; clone k of guest G is "G.k". A site listing several hosts spreads
 * the clones of each guest over them in turn; a network whose members land
 * on several hosts is joined by VXLAN (one VNI per range/instance/network)
 * between those hosts' mgmt_addr.
 *
 * Addresses in a network's subnet: the gateway is .1 — the host's bridge,
 * or the network's gateway guest (then the host's bridge gets the last
 * address, for entry points); members get .10, .11, ... in file order.
 */
#ifndef CYRIS_PLAN_H
#define CYRIS_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cyris/addr.h"
#include "cyris/conf.h"
#include "cyris/fw.h"
#include "cyris/range.h"
#include "cyris/tag.h"
#include "cyris/error.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default)

#define CYRIS_PLAN_MAX_NICS 8
#define CYRIS_ENTRY_PORT_BASE 60000   /* first host port of entry points */
#define CYRIS_PLAN_MAX_INGRESS 8

struct cyris_plan_net {
	char name[CYRIS_ID_MAX + 1];
	unsigned instance;
	char bridge[CYRIS_IFNAMSIZ];
	char altname[CYRIS_ALTNAMSIZ];
	struct cyris_prefix subnet;        /* the network */
	struct cyris_prefix host_addr;     /* the host's address on the bridge */
	struct cyris_ip gateway;           /* the guests' default gateway */
	int gw_guest;                      /* index of the gateway guest, -1: the host */
	bool host_routes;                  /* this host routes for it (forwarding on) */
	bool local;                        /* its bridge is built on this host */
	uint32_t vni;                      /* 0: the network stays on one host */
	char vxlan[CYRIS_IFNAMSIZ];
	struct cyris_ip remotes[8];        /* other hosts' mgmt_addr */
	size_t n_remotes;
	struct cyris_ip local_ip;          /* this host's mgmt_addr (VXLAN) */
	uint8_t mac[6];                    /* its bridge's, fixed by the plan: a
					      gateway guest's table names it */
};

struct cyris_plan_nic {
	char nic[16];                      /* eth0 ... */
	int net;                           /* index into nets */
	struct cyris_prefix addr;          /* address/length */
	uint8_t mac[6];
	char host_ifname[CYRIS_IFNAMSIZ];  /* host side of its link */
};

struct cyris_plan_guest {
	char guest_id[CYRIS_ID_MAX + 1];
	unsigned index;                    /* 1..number */
	unsigned instance;
	char tag_guest[CYRIS_ID_MAX + 1];  /* "G.k" */
	char name[128];                    /* namespace or domain name */
	char host[CYRIS_ID_MAX + 1];
	bool local;
	bool gateway;                      /* routes between its NICs */
	bool entry_point;
	struct cyris_plan_nic nics[CYRIS_PLAN_MAX_NICS];
	size_t n_nics;
	const struct cyris_range_guestdef *def;
	/* a gateway: the NIC its default route leaves through, and the MAC
	 * of the next hop there (the host's bridge, or the guest routing for
	 * that network); uplink[0] = none */
	char uplink[16];
	uint8_t uplink_mac[6];
};

/* A forwarding rule of one instance, member names resolved to addresses:
 * carried as data to the firewall, never re-parsed from a text (its text,
 * cyris_fw_rule_text(), is for people and for `cyris-fw apply`). */
struct cyris_plan_rule {
	unsigned instance;
	int at;                            /* -1: the host; else the gateway guest */
	struct cyris_fw_rule fw;           /* resolved; fw.line = mark.line */
	char orig[256];                    /* as written */
	struct cyris_mark mark;
};

struct cyris_plan_expose {
	int guest;
	uint16_t host_port, port;
	bool snat;                         /* the host masquerades it (behind a gateway guest) */
};

struct cyris_plan {
	char range[CYRIS_ID_MAX + 1];
	char host[CYRIS_ID_MAX + 1];       /* --host, "" = everything here */
	unsigned instances;
	struct cyris_plan_net *nets;
	size_t n_nets, cap_nets;
	struct cyris_plan_guest *guests;
	size_t n_guests, cap_guests;
	struct cyris_plan_rule *rules;
	size_t n_rules, cap_rules;
	struct cyris_plan_expose *exposes;
	size_t n_exposes, cap_exposes;
	char ifname_kind;                  /* first letter of bridge names */
	/* how outside clients reach the entry points (cyris_topo_plan fills
	 * these from the host's state): the host forwards IPv4 everywhere, or
	 * they come in on the interfaces of the default routes, which forward
	 * already (the admin's doing) or get forwarding from up for entry
	 * points only (@ingress); else entry points answer this host only */
	bool host_forwards;
	bool entry_outside;
	char ingress[CYRIS_PLAN_MAX_INGRESS][CYRIS_IFNAMSIZ];
	size_t n_ingress;
};

struct cyris_plan_opts {
	const char *host;                  /* build this host's share (NULL: all) */
	unsigned instance;                 /* only this instance (0: all) */
	const struct cyris_prefix *used;   /* prefixes in use on the host */
	size_t n_used;
	const uint16_t *used_ports;        /* host ports already exposed or listened on */
	size_t n_used_ports;
	bool check;                        /* also what --host would need of each host */
};

/*
 * Plan @r. Returns 0 and *ret, or -errno with a message in @err
 * ("FILE:LINE:COLUMN: ..." when it is about the file).
 */
int cyris_plan_build(const struct cyris_range *r, const struct cyris_conf *conf,
		     const struct cyris_plan_opts *o, struct cyris_plan **ret,
		     struct cyris_error *err);
void cyris_plan_free(struct cyris_plan *p);

/* The MAC of (range, instance, guest, index, nic): locally administered. */
void cyris_plan_mac(const char *range, unsigned instance, const char *guest,
		    unsigned index, const char *nic, uint8_t ret[6]);

/*
 * The plan as input for the single-purpose tools (cyris-topo plan --emit),
 * written to @f: a cyris-bridge batch (the networks, and with @guests the
 * guests' namespaces and veths, as the netns provider makes them); the
 * rules for cyris-fw apply enforced on the host (@gateway NULL) or in the
 * gateway guest @gateway (-EINVAL with a message in @err when it is not
 * one); cyris-vm create lines. 0, or -EIO when @f failed.
 */
int cyris_plan_emit_bridge(const struct cyris_plan *p, bool guests, FILE *f);
int cyris_plan_emit_fw(const struct cyris_plan *p, const char *gateway, FILE *f,
		       struct cyris_error *err);
int cyris_plan_emit_vm(const struct cyris_plan *p, FILE *f);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
