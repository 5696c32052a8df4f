/* SPDX-License-Identifier: MIT */
/*
 * cyris/conf.h — the one configuration every tool reads.
 *
 * /etc/cyris/cyris.conf (or $CYRIS_CONFIG), lines of `key = value`, '#'
 * comments. Precedence: a tool's flag > environment > file > built-in
 * default. An unknown key or a bad value is an error naming FILE:LINE.
 *
 *   key              environment            default
 *   libvirt_uri      CYRIS_LIBVIRT_URI      qemu:///system
 *   virt_type        CYRIS_VIRT_TYPE        auto   (kvm|qemu|auto)
 *   storage_pool     CYRIS_STORAGE_POOL     cyris
 *   image_dir        CYRIS_IMAGE_DIR        /var/lib/cyris/images
 *   ifname_prefix    CYRIS_IFNAME_PREFIX    c      (one letter: derived bridge names)
 *   subnet_pool      CYRIS_SUBNET_POOL      10.200.0.0/16
 *   subnet_size      CYRIS_SUBNET_SIZE      24     (prefix length per network)
 *   cloud_init       CYRIS_CLOUD_INIT       yes
 *   runtime_dir      CYRIS_RUNTIME_DIR      /run/cyris as root,
 *                                           $XDG_RUNTIME_DIR/cyris otherwise
 */
#ifndef CYRIS_CONF_H
#define CYRIS_CONF_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "cyris/ip.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default)

#define CYRIS_CONF_PATH "/etc/cyris/cyris.conf"

struct cyris_conf {
	char libvirt_uri[256];
	char virt_type[8];              /* "kvm", "qemu" or "auto" */
	char storage_pool[64];
	char image_dir[PATH_MAX];
	char ifname_prefix[3];
	struct cyris_prefix subnet_pool;
	unsigned subnet_size;
	bool cloud_init;
	char runtime_dir[PATH_MAX];
	char path[PATH_MAX];            /* the file read, "" if none */
};

/* Fill @c with the built-in defaults only. */
void cyris_conf_defaults(struct cyris_conf *c);

/*
 * Defaults, then the file ($CYRIS_CONFIG or CYRIS_CONF_PATH; a missing
 * default file is not an error, a missing $CYRIS_CONFIG is), then the
 * environment. On error returns -errno and writes "FILE:LINE: message" (or
 * "VARIABLE: message") into @err.
 */
int cyris_conf_load(struct cyris_conf *c, char *err, size_t errlen);

/* Set one key (as from the file); used for flags too. -EINVAL / -ENOENT
 * (unknown key) with a message in @err. */
int cyris_conf_set(struct cyris_conf *c, const char *key, const char *value,
		   char *err, size_t errlen);

/*
 * Open the runtime directory (created 0755 when missing) as an O_DIRECTORY
 * descriptor for openat(). Refused (-EPERM, with the reason in @err) when
 * it is a symbolic link, is not owned by the effective user or is writable
 * by group or others: files made there must not be someone else's to swap.
 */
int cyris_runtime_dir_open(const struct cyris_conf *c, int *ret_fd, char *err, size_t errlen);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
