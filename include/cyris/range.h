/* SPDX-License-Identifier: MIT */
/*
 * cyris/range.h — CyRIS range descriptions (YAML), parsed with libyaml and
 * validated for what this layer needs: hosts, guests, networks, forwarding
 * rules, entry points. What belongs to the layer above (tasks inside guests)
 * is ignored without error. Every error names FILE:LINE:COLUMN.
 */
#ifndef CYRIS_RANGE_H
#define CYRIS_RANGE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "cyris/tag.h"
#include "cyris/error.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default)

struct cyris_mark {
	unsigned line, column;            /* 1-based; 0 = unknown */
};

struct cyris_range_host {                 /* host_settings */
	char id[CYRIS_ID_MAX + 1];
	char mgmt_addr[64];
	char account[64];
	struct cyris_mark mark;
};

/* guest_settings. The library allocates each one (struct cyris_range holds
 * pointers), so a field added at the end in a later version does not move
 * anything a caller built against this one reads: never allocate, copy or
 * index one by value. */
struct cyris_range_guestdef {
	char id[CYRIS_ID_MAX + 1];
	char basevm_host[CYRIS_ID_MAX + 1];
	char basevm_config_file[PATH_MAX];
	char basevm_type[16];             /* kvm | aws */
	char basevm_os_type[32];
	/* cyris extensions for the libvirt provider (optional) */
	char image[PATH_MAX];             /* base disk image */
	char kernel[PATH_MAX], initrd[PATH_MAX], cmdline[256];
	unsigned memory_mib, vcpus;
	struct cyris_mark mark;
};

struct cyris_range_member {               /* "guest.ethN" */
	char guest[CYRIS_ID_MAX + 1];
	char nic[16];
	unsigned nic_index;               /* N of ethN */
	struct cyris_mark mark;
};

struct cyris_range_net {
	char name[CYRIS_ID_MAX + 1];
	struct cyris_range_member *members;
	size_t n_members;
	struct cyris_range_member gateway;
	bool has_gateway;
	struct cyris_mark mark;
};

struct cyris_range_rule {
	char text[256];
	struct cyris_mark mark;
};

struct cyris_range_clone {                /* clone_settings.hosts[].guests[] */
	char guest_id[CYRIS_ID_MAX + 1];
	unsigned number;
	bool entry_point;
	struct cyris_range_rule *rules;
	size_t n_rules;
	struct cyris_mark mark;
};

struct cyris_range_site {                 /* clone_settings.hosts[] */
	char (*hosts)[CYRIS_ID_MAX + 1];  /* host_id: one or a comma list */
	size_t n_hosts;
	unsigned instances;               /* instance_number */
	struct cyris_range_clone *guests;
	size_t n_guests;
	struct cyris_range_net *nets;
	size_t n_nets;
	struct cyris_mark mark;
};

struct cyris_range {
	char file[PATH_MAX];
	char id[CYRIS_ID_MAX + 1];
	struct cyris_mark id_mark;
	struct cyris_range_host *hosts;
	size_t n_hosts;
	struct cyris_range_guestdef **guestdefs;   /* see above */
	size_t n_guestdefs;
	struct cyris_range_site *sites;
	size_t n_sites;
};

/*
 * Parse and validate @file. Returns 0 and *ret, or -EINVAL (-errno for I/O,
 * -EFBIG over 1 MiB) with "FILE:LINE:COLUMN: message" in @err. Any input
 * costs bounded time and memory: beyond 64 nested levels, 131072 YAML nodes
 * (aliases expanded) or 1024 anchors the file is refused; duplicate keys and
 * NUL bytes in values are errors.
 */
int cyris_range_load(const char *file, struct cyris_range **ret, struct cyris_error *err);
void cyris_range_free(struct cyris_range *r);

/* Lookups (NULL when absent). */
const struct cyris_range_host *cyris_range_host(const struct cyris_range *r, const char *id);
const struct cyris_range_guestdef *cyris_range_guestdef(const struct cyris_range *r, const char *id);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
