/* SPDX-License-Identifier: MIT */
/* Placeholder until the libvirt driver (vm/) is merged: the provider is
 * reported as not built in. */
#include <errno.h>

#include "cyris/provider.h"

int cyris_provider_libvirt_new(struct cyris_provider *p)
{
	(void)p;
	return -EOPNOTSUPP;
}
