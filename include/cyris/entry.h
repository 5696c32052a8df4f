/* SPDX-License-Identifier: MIT */
/*
 * cyris/entry.h — what an entry point needs to know about the host: the
 * ports its services listen on (sock_diag), whether it forwards IPv4 and
 * on which interfaces outside clients come in (the default routes).
 * Implemented in net/rtnl/entry.c (netlink queries, like the rest of
 * rtnl); used by the firewall, the topology and the preflight.
 */
#ifndef CYRIS_ENTRY_H
#define CYRIS_ENTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cyris/nl.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default)

/*
 * The TCP ports that sockets listen on in namespace @netns (NULL or "": the
 * caller's), IPv4 and IPv6, asked of the kernel through NETLINK_SOCK_DIAG.
 * *ret (sorted, no duplicates; free it) and *ret_n. Returns 0 or -errno.
 */
int cyris_listening_ports(const char *netns, uint16_t **ret, size_t *ret_n);

/* The same for UDP: the ports UDP sockets are bound to. */
int cyris_udp_ports(const char *netns, uint16_t **ret, size_t *ret_n);

/* Is @port in @v (as from cyris_listening_ports)? */
bool cyris_port_listed(const uint16_t *v, size_t n, uint16_t port);

/*
 * IPv4 forwarding of interface @ifindex, or of the host as a whole
 * (net.ipv4.conf.all.forwarding, the ip_forward switch) for @ifindex 0,
 * read with RTM_GETNETCONF. Returns 0 with *ret, or -errno.
 */
int cyris_ipv4_forwarding(struct cyris_nl *nl, int ifindex, bool *ret);

#define CYRIS_MAX_INGRESS 8

/*
 * The interfaces of the IPv4 default routes of the main table (every next
 * hop of a multipath one): where clients from outside come in. Up to
 * CYRIS_MAX_INGRESS ifindexes into @ret, their count into *ret_n; -E2BIG
 * when there are more.
 */
int cyris_default_route_ifs(struct cyris_nl *nl, int ret[CYRIS_MAX_INGRESS], size_t *ret_n);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
