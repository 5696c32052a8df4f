/* SPDX-License-Identifier: MIT */
/*
 * Private to net/topo/: the table of providers built into the library and
 * the netns provider's preflight checks.
 */
#ifndef CYRIS_TOPO_PRIV_H
#define CYRIS_TOPO_PRIV_H

#include "cyris/check.h"
#include "cyris/provider.h"

/*
 * The built-in providers, NULL-terminated, in the order their checks are
 * listed. Not written here: the Makefile generates it from PROVIDERS (each
 * provider defines `const struct cyris_provider_def cyris_provider_def_NAME`
 * in its own folder), so nothing in net/ names a provider of vm/.
 */
extern const struct cyris_provider_def *const cyris_builtin_providers[];

/* check.c: named namespaces, what the netns provider needs. */
void cyris_check_netns(struct cyris_check_list *l, const struct cyris_conf *conf, bool needed);

#endif
