/* SPDX-License-Identifier: MIT */
/* cyris/route.h — routes (RTM_NEWROUTE / RTM_DELROUTE), main table. */
#ifndef CYRIS_ROUTE_H
#define CYRIS_ROUTE_H

#include <stdbool.h>

#include "cyris/addr.h"
#include "cyris/nl.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default)

/* Routes cyris adds carry this protocol number ("proto 199" in ip route):
 * their owner mark. A delete without @force matches only such routes. */
#define CYRIS_RTPROT 199

/*
 * Add (or, with @replace, replace) a route to @dst (length 0: the default
 * route) via @gw (family 0: none, on-link) out of @ifindex (0: let the kernel
 * choose from @gw). Returns 0 or -errno (-EEXIST when it is there).
 */
int cyris_route_add(struct cyris_nl *nl, const struct cyris_prefix *dst,
		    const struct cyris_ip *gw, int ifindex, bool replace);
int cyris_route_del(struct cyris_nl *nl, const struct cyris_prefix *dst,
		    const struct cyris_ip *gw, int ifindex, bool force);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
