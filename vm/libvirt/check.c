/* SPDX-License-Identifier: MIT */
/* The libvirt provider's preflight: /dev/kvm; is libvirt reachable (a
 * read-only connection and its versions)? Can a create get the directories
 * it hands libvirt? (struct cyris_provider_def in provider-libvirt.c) */
#include <fcntl.h>
#include <grp.h>
#include <linux/kvm.h>
#include <pwd.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "cyris/check.h"
#include "../../net/base/conf-priv.h"
#include "vm-priv.h"

/* Reachable at @uri? Its version in @detail. */
static bool check_libvirt(const char *uri, char *detail, size_t size)
{
	unsigned long lib = 0, hv = 0;
	virConnectPtr c;
	virErrorPtr e;

	if (virt_dl_load() < 0) {
		snprintf(detail, size, "%s: cannot load libvirt: %s", uri, virt_dl_error());
		return false;
	}
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

int vm_console_dir_make(struct cyris_error *err)
{
	struct stat st;
	size_t i;

	for (i = 0; i < sizeof(console_dirs) / sizeof(console_dirs[0]); i++) {
		const char *p = console_dirs[i].path;

		/* EEXIST: there, or made at the same moment by another create */
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			return cyris_error_set(err, -errno, "%s: %s", p, strerror(errno));
		if (stat(p, &st) < 0 || !S_ISDIR(st.st_mode)) {
			int e = stat(p, &st) < 0 ? errno : ENOTDIR;

			return cyris_error_set(err, -e, "%s: %s", p, strerror(e));
		}
	}
	return 0;
}

/* Can a create at @uri get the serial console directory (there, or made by
 * the create)? Why in @detail. A remote host's is not looked at. */
static bool check_console(const char *uri, char *detail, size_t size)
{
	if (strstr(uri, "://") && !strstr(uri, ":///")) {
		/* a remote libvirt: the directory is that host's */
		snprintf(detail, size, "%s on the host of %s", VM_CONSOLE_DIR, uri);
		return true;
	}
	return vm_console_dir_probe(detail, size) >= 0;
}

static void probe_kvm(struct cyris_check_list *it, bool needed)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC), api, vm;

	if (fd < 0) {
		cyris_check_add(it, "kvm", false, needed, "/dev/kvm: %s (guests run under TCG: virt_type = qemu)",
		    strerror(errno));
		return;
	}
	api = ioctl(fd, KVM_GET_API_VERSION, 0);
	vm = ioctl(fd, KVM_CREATE_VM, 0);
	cyris_check_add(it, "kvm", vm >= 0, needed, "/dev/kvm: API %d, %s", api,
	    vm >= 0 ? "a VM can be created (libvirt's capabilities decide kvm or qemu)"
		    : "no VM can be created: guests run under TCG (virt_type = qemu)");
	if (vm >= 0)
		close(vm);
	close(fd);
}

/* Can user @name read and enter @dir (by its mode bits)? */
static bool readable_by(const char *dir, const char *name, char *who, size_t size)
{
	struct passwd *pw = getpwnam(name);
	struct stat st;
	gid_t groups[64];
	int ng = 64, i;
	mode_t need;

	snprintf(who, size, "%s", name);
	if (!pw || stat(dir, &st) < 0)
		return false;
	if (pw->pw_uid == 0)
		return true;
	if (st.st_uid == pw->pw_uid)
		need = S_IRUSR | S_IXUSR;
	else {
		need = S_IROTH | S_IXOTH;
		if (getgrouplist(name, pw->pw_gid, groups, &ng) >= 0)
			for (i = 0; i < ng; i++)
				if (groups[i] == st.st_gid)
					need = S_IRGRP | S_IXGRP;
	}
	return (st.st_mode & need) == need;
}

void vm_checks(struct cyris_check_list *it, const struct cyris_conf *conf, bool lv)
{
	char detail[sizeof(conf->libvirt_uri) + 256], who[64];
	struct stat st;

	probe_kvm(it, false);
	cyris_check_add(it, "libvirt", check_libvirt(conf->libvirt_uri, detail, sizeof(detail)), lv,
			"%s", detail);
	if (strstr(conf->libvirt_uri, "://") && !strstr(conf->libvirt_uri, ":///"))
		/* a remote libvirt: its directory is on that host */
		cyris_check_add(it, "image_dir", true, lv, "%s on the host of %s", conf->image_dir,
				conf->libvirt_uri);
	else if (stat(conf->image_dir, &st) < 0)
		/* libvirt builds the storage pool's directory when it makes the pool */
		cyris_check_add(it, "image_dir", errno == ENOENT, lv, "%s: %s%s", conf->image_dir,
				strerror(errno),
				errno == ENOENT ? " (libvirt creates it with the storage pool)" : "");
	else {
		bool ok = readable_by(conf->image_dir, "libvirt-qemu", who, sizeof(who)) ||
			  readable_by(conf->image_dir, "root", who, sizeof(who));

		cyris_check_add(it, "image_dir", ok, lv, "%s %s by %s", conf->image_dir,
				ok ? "readable" : "not readable", who);
	}
	cyris_check_add(it, "console_dir", check_console(conf->libvirt_uri, detail, sizeof(detail)),
			lv, "%s", detail);
}
