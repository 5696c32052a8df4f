/* SPDX-License-Identifier: MIT */
/*
 * cyris/check.h — can this host run a range? Each capability a range needs,
 * probed for real: bridges, veths, VXLAN and nf_tables by creating and
 * deleting a scratch object in a throw-away namespace; /dev/kvm; libvirt.
 */
#ifndef CYRIS_CHECK_H
#define CYRIS_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "cyris/conf.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default)

struct cyris_check_item {
	char name[32];
	bool ok;
	bool needed;                 /* the provider asked about needs it */
	char detail[256];
};

/*
 * Run the checks for @provider ("netns" or "libvirt"; NULL: "netns"): the
 * host's, then each built-in provider's (struct cyris_provider_def) — every
 * one with @all, else only those @provider needs. *ret gets the items (free it); returns how many
 * needed items failed, or -errno.
 */
int cyris_check_run(const char *provider, const struct cyris_conf *conf, bool all,
		    struct cyris_check_item **ret, size_t *ret_n);

/*
 * What up runs first: cyris_check_run(@provider, @conf, false, ...) without
 * the entry-point report, and with the kernel's probes (bridge, veth, VXLAN
 * and nf_tables in a scratch namespace, a named namespace) skipped when they
 * passed earlier in this boot: each run of either function that makes them
 * records a pass in the runtime directory as the kernel's boot id
 * (RUNTIME_DIR/kernel-checked, a file of this uid that no one else can
 * write) and removes the record when one fails. The capability checks and
 * the other providers' (libvirt, AWS) run every time.
 */
int cyris_check_preflight(const char *provider, const struct cyris_conf *conf,
			  struct cyris_check_item **ret, size_t *ret_n);

/*
 * The items cyris_check_run() collects, for a provider's checks (struct
 * cyris_provider_def): add one item; @fmt gives its detail. A needed item
 * that is not @ok counts as failed.
 */
struct cyris_check_list;
void cyris_check_add(struct cyris_check_list *l, const char *name, bool ok, bool needed,
		     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
