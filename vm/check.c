/* SPDX-License-Identifier: MIT */
/* Is libvirt reachable? A read-only connection and its versions. */
#include <stdio.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "cyris/check.h"

static void quiet(void *data, virErrorPtr err)
{
	(void)data;
	(void)err;
}

bool cyris_check_libvirt(const char *uri, char *detail, size_t size)
{
	unsigned long lib = 0, hv = 0;
	virConnectPtr c;
	virErrorPtr e;

	virSetErrorFunc(NULL, quiet);
	c = virConnectOpenReadOnly(uri);
	if (!c) {
		e = virGetLastError();
		snprintf(detail, size, "%s: %s", uri, e && e->message ? e->message : "cannot connect");
		return false;
	}
	(void)virConnectGetLibVersion(c, &lib);
	(void)virConnectGetVersion(c, &hv);
	snprintf(detail, size, "%s: libvirt %lu.%lu.%lu, hypervisor %lu.%lu.%lu", uri,
		 lib / 1000000, lib / 1000 % 1000, lib % 1000, hv / 1000000, hv / 1000 % 1000, hv % 1000);
	virConnectClose(c);
	return true;
}
