/* SPDX-License-Identifier: MIT */
/* Printing links, bridges and FDB entries as text or JSON (one code path). */
#ifndef CYRIS_LINKFMT_H
#define CYRIS_LINKFMT_H

#include <stdio.h>

#include "cyris/addr.h"
#include "cyris/link.h"
#include "cyris/neigh.h"
#include "../net/base/json.h"

struct show_filter {
	const char *name;    /* one link (name or altname), NULL = all */
	const char *range;   /* only links tagged with this range, NULL = all */
};

/*
 * Bridges with their ports and addresses, then (without a name filter) the
 * cyris links that have no master. With @j NULL, text to @f.
 * Returns the number of links printed.
 */
size_t linkfmt_show(FILE *f, struct json *j, const struct cyris_link_list *links,
		    const struct cyris_addr_list *addrs,
		    const struct show_filter *flt);

/* FDB entries, ports and bridges by name. Without @all, only entries a
 * bridge learned or was given (not the ports' own addresses) and VXLAN
 * remotes. */
void linkfmt_fdb(FILE *f, struct json *j, const struct cyris_link_list *links,
		 const struct cyris_fdb_list *fdb, bool all);

/* Neighbour (ARP/NDP) entries. */
void linkfmt_neigh(FILE *f, struct json *j, const struct cyris_link_list *links,
		   const struct cyris_neigh_list *nb);

/* One link's fields as members of an open JSON object. */
void linkfmt_json_link(struct json *j, const struct cyris_link *k,
		       const struct cyris_addr_list *addrs);

#endif
