/* SPDX-License-Identifier: MIT */
/*
 * cyris/neigh.h — the bridge forwarding database (MAC -> port, AF_BRIDGE
 * neighbours) and the ARP/NDP neighbour table, searchable by MAC. This is
 * how cyris finds a guest's address and port without asking the guest.
 */
#ifndef CYRIS_NEIGH_H
#define CYRIS_NEIGH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cyris/addr.h"
#include "cyris/nl.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default)

struct cyris_fdb {
	int ifindex;          /* the port */
	int master;           /* the bridge, 0 if the kernel did not say */
	uint8_t mac[6];
	uint16_t vlan;        /* 0 = none */
	uint16_t state;       /* NUD_* */
	uint8_t flags;        /* NTF_* */
	struct cyris_ip dst;  /* VXLAN remote, family 0 if none */
};

struct cyris_fdb_list {
	struct cyris_fdb *v;
	size_t n, cap;
};

struct cyris_neigh {
	int ifindex;
	struct cyris_ip ip;
	uint8_t mac[6];
	bool has_mac;
	uint16_t state;       /* NUD_* */
};

struct cyris_neigh_list {
	struct cyris_neigh *v;
	size_t n, cap;
};

/* FDB entries of bridge @bridge (0: of every bridge and VXLAN device). */
int cyris_fdb_list(struct cyris_nl *nl, int bridge, struct cyris_fdb_list *ret);
void cyris_fdb_list_free(struct cyris_fdb_list *l);

/* Add a default (all-zeros MAC) FDB entry to VXLAN device @ifindex pointing
 * at remote @dst: head-end replication to one more host. -EEXIST if there. */
int cyris_fdb_append_remote(struct cyris_nl *nl, int ifindex, const struct cyris_ip *dst);

/* "learned", "static" or "permanent" (a port's own address). */
const char *cyris_fdb_state_str(const struct cyris_fdb *f);

/* ARP/NDP entries on @ifindex (0: all), family AF_INET/AF_INET6/0 (both). */
int cyris_neigh_list(struct cyris_nl *nl, int ifindex, int family,
		     struct cyris_neigh_list *ret);
void cyris_neigh_list_free(struct cyris_neigh_list *l);

/*
 * Find the neighbour entry whose MAC is @mac on @ifindex (0: any link).
 * IPv4 wins over IPv6, a reachable entry over a stale one, a global IPv6
 * address over a link-local one. Returns 0, or -ENOENT when there is none.
 */
int cyris_neigh_find_mac(struct cyris_nl *nl, const uint8_t mac[6], int ifindex,
			 struct cyris_neigh *ret);

/* "reachable", "stale", "permanent", ... from NUD_* */
const char *cyris_nud_str(uint16_t state);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
