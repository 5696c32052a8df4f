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
 *   aws_region        -                     us-west-2 (AWS_REGION etc. first)
 *   aws_vpc_id        -                     ""     (none; only cyris-check uses it)
 *   aws_subnet_id     -                     ""     (none; only cyris-check uses it)
 *   aws_key_pair_name -                     cyris-keypair (read, unused: always cyris-R)
 *   aws_instance_type -                     t3.micro
 *   aws_endpoint      -                     ""     (AWS_ENDPOINT_URL_EC2 etc.
 *                                           first, else the region's)
 */
#ifndef CYRIS_CONF_H
#define CYRIS_CONF_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "cyris/ip.h"
#include "cyris/error.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default)

#define CYRIS_CONF_PATH "/etc/cyris/cyris.conf"

/*
 * Opaque: it grows with every provider (the fields are the keys above), so
 * a caller holds a pointer from cyris_conf_new() and reads a value with
 * cyris_conf_get(). The library and its providers borrow it.
 */
struct cyris_conf;

/* A configuration with the built-in defaults; NULL when out of memory. */
struct cyris_conf *cyris_conf_new(void);
void cyris_conf_free(struct cyris_conf *c);

/* Fill @c with the built-in defaults only. */
void cyris_conf_defaults(struct cyris_conf *c);

/*
 * Defaults, then the file ($CYRIS_CONFIG or CYRIS_CONF_PATH; a missing
 * default file is not an error, a missing $CYRIS_CONFIG is), then the
 * environment. On error returns -errno and writes "FILE:LINE: message" (or
 * "VARIABLE: message") into @err.
 */
int cyris_conf_load(struct cyris_conf *c, struct cyris_error *err);

/* Set one key (as from the file); used for flags too. -EINVAL / -ENOENT
 * (unknown key) with a message in @err. */
int cyris_conf_set(struct cyris_conf *c, const char *key, const char *value,
		   struct cyris_error *err);

/*
 * The value of @key as the file would write it ("10.200.0.0/16", "24",
 * "yes"), into @buf of @size bytes; "path" gives the file that was read ("" if
 * none). Returns its length, -ENOENT for an unknown key, -ENAMETOOLONG when
 * it does not fit.
 */
int cyris_conf_get(const struct cyris_conf *c, const char *key, char *buf, size_t size);

/*
 * Open the runtime directory (created 0755 when missing) as an O_DIRECTORY
 * descriptor for openat(). Refused (-EPERM, with the reason in @err) when
 * it is a symbolic link, is not owned by the effective user or is writable
 * by group or others: files made there must not be someone else's to swap.
 */
int cyris_runtime_dir_open(const struct cyris_conf *c, int *ret_fd, struct cyris_error *err);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
