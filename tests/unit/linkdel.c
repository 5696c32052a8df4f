/* SPDX-License-Identifier: MIT */
/* Deleting links: a set deleted in one group request is gone, a set whose
 * links all went meanwhile is no failure (the kernel's ENODEV for an empty
 * group), a link the kernel will not delete still fails; and a second
 * context opened "the same" as another is in that one's namespace even
 * after its name was bound to another namespace. Needs root: it runs in
 * namespaces of its own (network and mount). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <net/if.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "cyris/link.h"
#include "cyris/nl.h"
#include "../../net/rtnl/nl-priv.h"   /* cyris_nl_open_same */
#include "../tap.h"

static int bridge(struct cyris_nl *nl, const char *name)
{
	struct cyris_link_cfg cfg = { .name = name };
	struct cyris_bridge_cfg br = {0};
	int ifindex = 0, r = cyris_bridge_create(nl, &cfg, &br, &ifindex);

	return r < 0 ? r : ifindex;
}

static bool has(struct cyris_nl *nl, const char *name)
{
	struct cyris_link k;

	return cyris_link_get(nl, name, &k) == 0;
}

/* bind the calling thread's network namespace onto @path */
static int bind_here(const char *path)
{
	return mount("/proc/thread-self/ns/net", path, NULL, MS_BIND, NULL) < 0 ? -errno : 0;
}

int main(void)
{
	char dir[] = "/tmp/cyris-linkdel-XXXXXX", path[64];
	struct cyris_nl *nl = NULL, *same = NULL, *byname = NULL;
	int a, b, set[2], r, fd;

	if (geteuid() != 0) {
		skip("needs root (namespaces of its own)");
		return done();
	}
	if (unshare(CLONE_NEWNS | CLONE_NEWNET) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		ok(false, "namespaces of its own: %s", strerror(errno));
		return done();
	}
	if (!mkdtemp(dir)) {
		ok(false, "a temporary directory: %s", strerror(errno));
		return done();
	}
	snprintf(path, sizeof(path), "%s/ns", dir);
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
	is_int(bind_here(path), 0, "namespace A bound on %s", path);
	is_int(cyris_nl_open(&nl, path), 0, "a context opened by that path (in A)");
	if (!nl)
		return done();

	/* deleting a set */
	a = bridge(nl, "cyt-a");
	b = bridge(nl, "cyt-b");
	ok(a > 0 && b > 0, "two bridges made (%d, %d)", a, b);
	set[0] = a;
	set[1] = b;
	is_int(cyris_link_del_many(nl, set, 2), 0, "both deleted at once");
	ok(!has(nl, "cyt-a") && !has(nl, "cyt-b"), "  neither is left");
	is_int(cyris_link_del_many(nl, set, 2), 0,
	       "deleting them again: every link already gone is no failure (an empty group)");
	set[0] = (int)if_nametoindex("lo");
	set[1] = bridge(nl, "cyt-c");
	r = cyris_link_del_many(nl, set, 2);
	ok(r < 0, "a set holding the loopback fails (%s)", strerror(-r));
	ok(has(nl, "lo"), "  the loopback is still there");
	cyris_link_del(nl, set[1]);

	/* the name now names another namespace B */
	ok(umount2(path, MNT_DETACH) == 0 && unshare(CLONE_NEWNET) == 0 && bind_here(path) == 0,
	   "%s rebound to a new namespace B", path);
	is_int(cyris_nl_open_same(&same, nl), 0, "a context opened the same as the first");
	is_int(cyris_nl_open(&byname, path), 0, "a context opened by the path again");
	if (same && byname) {
		ok(bridge(same, "cyt-same") > 0, "  a bridge made through the same one");
		ok(has(nl, "cyt-same"), "  it is in A, the first context's namespace");
		ok(!has(byname, "cyt-same"), "  not in B, which the path names now");
	}
	cyris_nl_close(same);
	cyris_nl_close(byname);
	cyris_nl_close(nl);
	umount2(path, MNT_DETACH);
	unlink(path);
	rmdir(dir);
	return done();
}
