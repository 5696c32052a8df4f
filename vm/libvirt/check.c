/* SPDX-License-Identifier: MIT */
/* Is libvirt reachable? A read-only connection and its versions; can a
 * create get the directories it hands libvirt? */
#include <stdio.h>
#include <sys/stat.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "cyris/check.h"
#include "vm-priv.h"

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

/* VM_CONSOLE_DIR and the parent libvirt's package makes with it; the
 * first one's parent (/var/log) is the system's. */
static const struct {
	const char *path, *parent;
} console_dirs[] = {
	{ "/var/log/libvirt", "/var/log" },
	{ VM_CONSOLE_DIR, "/var/log/libvirt" },
};

int vm_console_dir_probe(char *detail, size_t size)
{
	struct stat st;
	size_t i;

	for (i = 0; i < sizeof(console_dirs) / sizeof(console_dirs[0]); i++) {
		const char *p = console_dirs[i].path, *parent = console_dirs[i].parent;

		if (stat(p, &st) == 0) {
			if (S_ISDIR(st.st_mode))
				continue;
			snprintf(detail, size, "%s: not a directory", p);
			return -ENOTDIR;
		}
		if (errno != ENOENT) {
			snprintf(detail, size, "%s: %s", p, strerror(errno));
			return -errno;
		}
		/* the rest is made below it: can this process write here? */
		if (stat(parent, &st) < 0 || !S_ISDIR(st.st_mode) || access(parent, W_OK | X_OK) < 0) {
			int e = stat(parent, &st) < 0 ? errno : !S_ISDIR(st.st_mode) ? ENOTDIR :
				access(parent, W_OK | X_OK) < 0 ? errno : EIO;

			snprintf(detail, size, "%s: missing, and %s cannot be written here: %s",
				 VM_CONSOLE_DIR, parent, strerror(e));
			return -e;
		}
		snprintf(detail, size, "%s: missing, made by cyris-vm create", VM_CONSOLE_DIR);
		return 0;
	}
	snprintf(detail, size, "%s: there", VM_CONSOLE_DIR);
	return 1;
}

int vm_console_dir_make(char *err, size_t size)
{
	struct stat st;
	size_t i;

	for (i = 0; i < sizeof(console_dirs) / sizeof(console_dirs[0]); i++) {
		const char *p = console_dirs[i].path;

		/* EEXIST: there, or made at the same moment by another create */
		if (mkdir(p, 0700) < 0 && errno != EEXIST) {
			snprintf(err, size, "%s: %s", p, strerror(errno));
			return -errno;
		}
		if (stat(p, &st) < 0 || !S_ISDIR(st.st_mode)) {
			int e = stat(p, &st) < 0 ? errno : ENOTDIR;

			snprintf(err, size, "%s: %s", p, strerror(e));
			return -e;
		}
	}
	return 0;
}

bool cyris_check_libvirt_console(const char *uri, char *detail, size_t size)
{
	if (strstr(uri, "://") && !strstr(uri, ":///")) {
		/* a remote libvirt: the directory is that host's */
		snprintf(detail, size, "%s on the host of %s", VM_CONSOLE_DIR, uri);
		return true;
	}
	return vm_console_dir_probe(detail, size) >= 0;
}
