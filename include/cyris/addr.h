/* SPDX-License-Identifier: MIT */
/*
 * cyris/addr.h — interface addresses (RTM_*ADDR). The address and prefix
 * values themselves are cyris/ip.h's.
 */
#ifndef CYRIS_ADDR_H
#define CYRIS_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cyris/ip.h"
#include "cyris/nl.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default)

/* An address on an interface, as the kernel reports it. */
struct cyris_addr {
	int ifindex;
	struct cyris_prefix prefix;
	uint8_t scope;
	uint32_t flags;          /* IFA_F_* */
};

struct cyris_addr_list {
	struct cyris_addr *v;
	size_t n, cap;
};

/* Add / delete @p on @ifindex. IPv6 addresses are added with IFA_F_NODAD
 * (range addresses are planned, not discovered). Returns 0 or -errno
 * (-EEXIST when the address is already there). */
int cyris_addr_add(struct cyris_nl *nl, int ifindex,
		   const struct cyris_prefix *p);
int cyris_addr_del(struct cyris_nl *nl, int ifindex,
		   const struct cyris_prefix *p);

/* List addresses of @ifindex (0: of every interface), both families. */
int cyris_addr_list(struct cyris_nl *nl, int ifindex,
		    struct cyris_addr_list *ret);
void cyris_addr_list_free(struct cyris_addr_list *l);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
