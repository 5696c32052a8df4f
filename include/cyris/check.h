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

struct cyris_check_item {
	char name[32];
	bool ok;
	bool needed;                 /* the provider asked about needs it */
	char detail[256];
};

/*
 * Run the checks for @provider ("netns" or "libvirt"): every one with @all,
 * else only those it needs. *ret gets the items (free it); returns how many
 * needed items failed, or -errno.
 */
int cyris_check_run(const char *provider, const struct cyris_conf *conf, bool all,
		    struct cyris_check_item **ret, size_t *ret_n);

/* The libvirt part (vm/check.c): reachable at @uri? version in @detail. */
bool cyris_check_libvirt(const char *uri, char *detail, size_t size);
/* Can a create at @uri get the serial console directory (there, or made by
 * the create)? Why in @detail. A remote host's is not looked at. */
bool cyris_check_libvirt_console(const char *uri, char *detail, size_t size);

#ifdef __cplusplus
}
#endif
#endif
