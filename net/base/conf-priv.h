/* SPDX-License-Identifier: MIT */
/*
 * The configuration's fields, for the library's modules (opaque to callers:
 * cyris/conf.h). Only the library includes this header.
 */
#ifndef CYRIS_CONF_PRIV_H
#define CYRIS_CONF_PRIV_H

#include <limits.h>
#include <stdbool.h>

#include "cyris/conf.h"
#include "cyris/ip.h"

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
	/* EC2 (vm/aws/): the AWS conventions (AWS_REGION, ...) come first */
	char aws_region[32];
	bool aws_region_set;             /* given (file, flag), not the default */
	char aws_vpc_id[32];            /* "" = none */
	char aws_subnet_id[32];         /* "" = none */
	char aws_key_pair_name[256];
	char aws_instance_type[32];
	char aws_endpoint[512];         /* "" = the region's */
	char path[PATH_MAX];            /* the file read, "" if none */
};

#endif
