/* SPDX-License-Identifier: MIT */
/*
 * Preflight: what the host can do, probed for real where it can be.
 */
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cyris/check.h"
#include "cyris/fw.h"
#include "cyris/link.h"
#include "cyris/netns.h"
#include "cyris/provider.h"
#include "cyris/entry.h"
#include "../base/conf-priv.h"
#include "../base/util.h"
#include "topo-priv.h"

struct cyris_check_list {
	struct cyris_check_item *v;
	size_t n, cap;
	int failed;
};

static void vadd(struct cyris_check_list *it, const char *name, bool ok, bool needed,
		 const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));
static void vadd(struct cyris_check_list *it, const char *name, bool ok, bool needed,
		 const char *fmt, va_list ap)
{
	struct cyris_check_item *x = cyris_grow((void **)&it->v, &it->n, &it->cap, sizeof(*x));

	if (!x)
		return;
	snprintf(x->name, sizeof(x->name), "%s", name);
	x->ok = ok;
	x->needed = needed;
	vsnprintf(x->detail, sizeof(x->detail), fmt, ap);
	if (needed && !ok)
		it->failed++;
}

void cyris_check_add(struct cyris_check_list *it, const char *name, bool ok, bool needed,
		     const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vadd(it, name, ok, needed, fmt, ap);
	va_end(ap);
}

static void add(struct cyris_check_list *it, const char *name, bool ok, bool needed,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void add(struct cyris_check_list *it, const char *name, bool ok, bool needed,
		const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vadd(it, name, ok, needed, fmt, ap);
	va_end(ap);
}

static bool has_cap(int cap)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = {{0}};

	if (syscall(SYS_capget, &h, d) < 0)
		return false;
	return d[cap / 32].effective & (1u << (cap % 32));
}

/* Links and nf_tables, created and deleted in a namespace that dies with
 * this check: the host is never touched. */
static void probe_kernel(struct cyris_check_list *it)
{
	struct cyris_link_cfg br = { .name = "ck-br", .up = true };
	struct cyris_link_cfg ve = { .name = "ck-v0" };
	struct cyris_link_cfg vx = { .name = "ck-vx" };
	struct cyris_veth_cfg vc = { .peer = "ck-v1" };
	struct cyris_vxlan_cfg xc = { .vni = 42 };
	struct cyris_fw_policy pol;
	struct cyris_nl *nl = NULL;
	struct cyris_fw *fw = NULL;
	int old = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC), r;

	if (old < 0 || unshare(CLONE_NEWNET) < 0) {
		add(it, "namespaces", false, true, "cannot make a network namespace: %s", strerror(errno));
		if (old >= 0)
			close(old);
		return;
	}
	r = cyris_nl_open(&nl, NULL);
	if (r == 0)
		r = cyris_bridge_create(nl, &br, NULL, NULL);
	add(it, "bridge", r == 0, true, "%s", r == 0 ? "a bridge made in a scratch namespace" : strerror(-r));
	r = nl ? cyris_veth_create(nl, &ve, &vc, NULL) : -ENOTCONN;
	add(it, "veth", r == 0, true, "%s", r == 0 ? "a veth pair made in a scratch namespace" : strerror(-r));
	(void)cyris_ip_parse("192.0.2.1", &xc.remote);
	r = nl ? cyris_vxlan_create(nl, &vx, &xc, NULL) : -ENOTCONN;
	add(it, "vxlan", r == 0, true, "%s", r == 0 ? "a VXLAN link made in a scratch namespace" : strerror(-r));
	r = cyris_fw_open(&fw, NULL);
	if (r == 0 && (r = cyris_fw_policy_init(&pol, "cyris-check")) == 0) {
		r = cyris_fw_apply(fw, &pol, false);
		if (r == 0)
			r = cyris_fw_destroy(fw, "cyris-check", false);
		cyris_fw_policy_clear(&pol);
	}
	add(it, "nf_tables", r == 0, true, "%s", r == 0 ? "a range table applied and removed" : strerror(-r));
	cyris_fw_free(fw);
	cyris_nl_close(nl);
	if (setns(old, CLONE_NEWNET) < 0)
		add(it, "namespaces", false, true, "cannot return to this namespace: %s", strerror(errno));
	close(old);
}

/* The netns provider's checks (struct cyris_provider_def). */
void cyris_check_netns(struct cyris_check_list *it, const struct cyris_conf *conf, bool needed)
{
	char name[64];
	int r;

	(void)conf;
	snprintf(name, sizeof(name), "cyris-check-%d", (int)getpid());
	r = cyris_netns_create(name, NULL);
	if (r == 0)
		r = cyris_netns_delete(name);
	add(it, "named_netns", r == 0, needed, "%s/%s %s", CYRIS_NETNS_DIR, name,
	    r == 0 ? "made and removed" : strerror(-r));
}

/* Can clients from outside reach entry points (see entry_ingress in topo.c)? */
static void probe_entry(struct cyris_check_list *it)
{
	int ifs[CYRIS_MAX_INGRESS];
	char names[CYRIS_MAX_INGRESS * (CYRIS_IFNAMSIZ + 2)] = "";
	struct cyris_nl *nl = NULL;
	bool all_on = false, some_on = false, on;
	size_t i, n = 0;
	int r = cyris_nl_open(&nl, NULL);

	if (r == 0)
		r = cyris_ipv4_forwarding(nl, 0, &all_on);
	if (r == 0 && !all_on)
		r = cyris_default_route_ifs(nl, ifs, &n);
	for (i = 0; r == 0 && i < n; i++) {
		struct cyris_link l;

		if (cyris_link_get_index(nl, ifs[i], &l) < 0)
			continue;
		if (cyris_ipv4_forwarding(nl, ifs[i], &on) == 0)
			some_on |= on;
		snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s", i ? ", " : "", l.name);
		cyris_link_clear(&l);
	}
	cyris_nl_close(nl);
	if (r < 0)
		add(it, "entry_points", false, false, "cannot read the host's forwarding and routes: %s",
		    strerror(-r));
	else if (all_on)
		add(it, "entry_points", true, false, "the host forwards IPv4 (net.ipv4.ip_forward = 1): "
		    "entry points are reachable from outside");
	else if (n)
		add(it, "entry_points", true, false, "net.ipv4.ip_forward = 0: clients from outside come in "
		    "on %s (the default route's), %s", names, some_on ? "which forwards already"
		    : "where up turns forwarding on for entry points only");
	else
		add(it, "entry_points", false, false, "net.ipv4.ip_forward = 0 and no default route: entry "
		    "points answer this host only (net.ipv4.conf.IF.forwarding = 1 where clients come in "
		    "lets them in)");
}

/*
 * The kernel's probes (links and nf_tables in a scratch namespace, a named
 * namespace) hold for the boot they ran in, and the named namespace's for
 * the mount namespace (its /run/netns) and the user namespace (what the
 * capabilities allow) they ran in: a pass is recorded in the runtime
 * directory as the kernel's boot id and those two namespaces, so that up
 * does not make and throw away two namespaces each time (their teardown
 * runs later, holding RTNL, beside the range being built). Only a file of
 * this uid that no one else can write counts.
 */
#define STAMP_NAME "kernel-checked"

/* "BOOT-ID mnt:INODE user:INODE" of this boot and the caller's namespaces */
static bool stamp_key(char *buf, size_t size)
{
	int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, size - 1);
	struct stat mnt, user;
	size_t len;

	if (fd >= 0)
		close(fd);
	if (n <= 0 || stat("/proc/thread-self/ns/mnt", &mnt) < 0 ||
	    stat("/proc/thread-self/ns/user", &user) < 0)
		return false;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	len = strlen(buf);
	n = snprintf(buf + len, size - len, " mnt:%llu user:%llu\n",
		     (unsigned long long)mnt.st_ino, (unsigned long long)user.st_ino);
	return n > 0 && (size_t)n < size - len;
}

static bool stamp_valid(const struct cyris_conf *conf, const char *boot)
{
	char buf[128];
	struct stat st;
	ssize_t n = -1;
	int dir, fd;

	if (cyris_runtime_dir_open(conf, &dir, NULL) < 0)
		return false;
	fd = openat(dir, STAMP_NAME, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	close(dir);
	if (fd < 0)
		return false;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
	    !(st.st_mode & (S_IWGRP | S_IWOTH)))
		n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	return streq(buf, boot);
}

/* Record a pass under @boot (stamp_key()), or with NULL remove the record. */
static void stamp_set(const struct cyris_conf *conf, const char *boot)
{
	char tmp[64];
	int dir, fd;

	if (cyris_runtime_dir_open(conf, &dir, NULL) < 0)
		return;
	if (!boot) {
		(void)unlinkat(dir, STAMP_NAME, 0);
		close(dir);
		return;
	}
	snprintf(tmp, sizeof(tmp), ".%s.%d", STAMP_NAME, (int)getpid());
	(void)unlinkat(dir, tmp, 0);   /* left by a process of this pid that was killed */
	fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd >= 0) {
		size_t len = strlen(boot);
		bool ok = write(fd, boot, len) == (ssize_t)len;

		ok = close(fd) == 0 && ok;
		if (!ok || renameat(dir, tmp, dir, STAMP_NAME) < 0)
			(void)unlinkat(dir, tmp, 0);
	}
	close(dir);
}

/* how many of the items from @from are not ok, needed or not */
static int failed_since(const struct cyris_check_list *it, size_t from)
{
	int n = 0;

	for (; from < it->n; from++)
		n += !it->v[from].ok;
	return n;
}

/* @preflight: what up needs, the kernel's probes once a boot (see above). */
static int check_run(const char *provider, const struct cyris_conf *conf, bool all, bool preflight,
		     struct cyris_check_item **ret, size_t *ret_n)
{
	struct cyris_check_list it = {0};
	bool netns = !provider || streq(provider, "netns");
	const struct cyris_provider_def *const *d;
	char boot[128] = "";
	bool stamped, ns_probed = false;
	int kernel_failed;
	size_t from;

	add(&it, "cap_net_admin", has_cap(CAP_NET_ADMIN), true,
	    has_cap(CAP_NET_ADMIN) ? "CAP_NET_ADMIN here" : "no CAP_NET_ADMIN: run as root");
	add(&it, "cap_sys_admin", has_cap(CAP_SYS_ADMIN), netns,
	    has_cap(CAP_SYS_ADMIN) ? "CAP_SYS_ADMIN (named namespaces)" : "no CAP_SYS_ADMIN: no named namespaces");
	if (!conf || !stamp_key(boot, sizeof(boot)))
		boot[0] = 0;
	/* (the probes need CAP_SYS_ADMIN too whatever the provider: without it
	 * they run, and fail, as they would with no record; a missing
	 * CAP_NET_ADMIN has failed already) */
	stamped = preflight && boot[0] && it.failed == 0 && has_cap(CAP_SYS_ADMIN) &&
		  stamp_valid(conf, boot);
	from = it.n;
	if (stamped)
		add(&it, "kernel", true, true, "links, nf_tables and named namespaces probed earlier in "
		    "this boot (%s/%s)", conf->runtime_dir, STAMP_NAME);
	else
		probe_kernel(&it);
	kernel_failed = failed_since(&it, from);
	if (!preflight)
		probe_entry(&it);
	/* each provider's own, in the table's order: the one asked about needs them */
	for (d = cyris_builtin_providers; *d; d++) {
		bool mine = streq((*d)->name, provider ? provider : "netns");

		if (!(*d)->checks || !(all || mine))
			continue;
		if (streq((*d)->name, "netns")) {
			if (stamped)
				continue;
			from = it.n;
			(*d)->checks(&it, conf, mine);
			kernel_failed += failed_since(&it, from);
			ns_probed = true;
			continue;
		}
		(*d)->checks(&it, conf, mine);
	}
	/* record what the probes found for the next up: a failure removes the
	 * record; a pass of all of them, as root would run them, makes it */
	if (!stamped && boot[0] && it.v && it.v[0].ok && (kernel_failed || ns_probed))
		stamp_set(conf, kernel_failed ? NULL : boot);
	*ret = it.v;
	*ret_n = it.n;
	return it.failed;
}

int cyris_check_run(const char *provider, const struct cyris_conf *conf, bool all,
		    struct cyris_check_item **ret, size_t *ret_n)
{
	return check_run(provider, conf, all, false, ret, ret_n);
}

int cyris_check_preflight(const char *provider, const struct cyris_conf *conf,
			  struct cyris_check_item **ret, size_t *ret_n)
{
	return check_run(provider, conf, false, true, ret, ret_n);
}
