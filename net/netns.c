/* SPDX-License-Identifier: MIT */
/*
 * Named network namespaces, made the way `ip netns add` makes them (a bind
 * mount of the namespace on /run/netns/NAME), tagged on their loopback.
 */
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "cyris/link.h"
#include "cyris/netns.h"
#include "util.h"

bool cyris_netns_name_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	return n > 0 && n < CYRIS_NETNS_NAMSIZ && !strchr(name, '/') &&
	       !streq(name, ".") && !streq(name, "..");
}

/* /run/netns must be a shared mount point, so that the bind mounts made
 * here are seen from other mount namespaces (what iproute2 does too). */
static int prepare_dir(void)
{
	if (mkdir(CYRIS_NETNS_DIR, 0755) < 0 && errno != EEXIST)
		return -errno;
	if (mount("", CYRIS_NETNS_DIR, "none", MS_SHARED | MS_REC, NULL) == 0)
		return 0;
	if (errno != EINVAL)
		return -errno;
	if (mount(CYRIS_NETNS_DIR, CYRIS_NETNS_DIR, "none", MS_BIND | MS_REC, NULL) < 0)
		return -errno;
	return mount("", CYRIS_NETNS_DIR, "none", MS_SHARED | MS_REC, NULL) < 0 ? -errno : 0;
}

/* In the new namespace: loopback up, and the tag on it. */
static int setup_inside(const char *alias)
{
	struct cyris_nl *nl;
	struct cyris_link lo;
	int r = cyris_nl_open(&nl, NULL);

	if (r < 0)
		return r;
	r = cyris_link_get(nl, "lo", &lo);
	if (r == 0) {
		cyris_link_clear(&lo);
		r = cyris_link_set_up(nl, lo.ifindex, true);
		if (r == 0 && alias[0])
			r = cyris_link_set_alias(nl, lo.ifindex, alias);
	}
	cyris_nl_close(nl);
	return r;
}

int cyris_netns_create(const char *name, const struct cyris_tag *tag)
{
	char path[sizeof(CYRIS_NETNS_DIR) + CYRIS_NETNS_NAMSIZ], alias[CYRIS_ALIASSIZ] = "";
	_cleanup_close_ int old = -1;
	bool made = false;
	int fd, r;

	if (!cyris_netns_name_valid(name))
		return -EINVAL;
	if (tag && (r = cyris_tag_format(tag, alias, sizeof(alias))) < 0)
		return r;
	if ((r = prepare_dir()) < 0)
		return r;
	snprintf(path, sizeof(path), "%s/%s", CYRIS_NETNS_DIR, name);
	if (access(path, F_OK) == 0)
		return -EEXIST;
	old = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (old < 0 || unshare(CLONE_NEWNET) < 0)
		return -errno;
	/* Tagged before it gets a name: a process killed before the bind
	 * mount takes the namespace with it; after it, down finds the tag. */
	r = setup_inside(alias);
	if (r == 0) {
		fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
		if (fd < 0) {
			r = -errno;
		} else {
			close(fd);
			made = true;
			if (mount("/proc/thread-self/ns/net", path, "none", MS_BIND, NULL) < 0)
				r = -errno;
		}
	}
	/* back home, whatever happened */
	if (setns(old, CLONE_NEWNET) < 0 && r == 0)
		r = -errno;
	if (r < 0 && made) {
		(void)umount2(path, MNT_DETACH);
		unlink(path);
	}
	return r;
}

int cyris_netns_delete(const char *name)
{
	char path[sizeof(CYRIS_NETNS_DIR) + CYRIS_NETNS_NAMSIZ];

	if (!cyris_netns_name_valid(name))
		return -EINVAL;
	snprintf(path, sizeof(path), "%s/%s", CYRIS_NETNS_DIR, name);
	if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
		return -errno;
	return unlink(path) < 0 ? -errno : 0;
}

int cyris_netns_tag(const char *name, struct cyris_tag *ret)
{
	struct cyris_nl *nl;
	struct cyris_link lo;
	int r;

	if (!cyris_netns_name_valid(name))
		return -EINVAL;
	r = cyris_nl_open(&nl, name);
	if (r < 0)
		return r;
	r = cyris_link_get(nl, "lo", &lo);
	cyris_nl_close(nl);
	if (r < 0)
		return r;
	r = lo.owned ? 1 : 0;
	if (r && ret)
		*ret = lo.tag;
	cyris_link_clear(&lo);
	return r;
}

int cyris_netns_list(const char *range, struct cyris_netns_entry **ret, size_t *ret_n)
{
	struct cyris_netns_entry *v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d = opendir(CYRIS_NETNS_DIR);

	if (!d) {
		if (errno != ENOENT)
			return -errno;
		*ret = NULL;
		*ret_n = 0;
		return 0;
	}
	while ((de = readdir(d))) {
		struct cyris_tag tag;
		struct cyris_netns_entry *e;

		if (de->d_name[0] == '.' || !cyris_netns_name_valid(de->d_name))
			continue;
		/* not ours, gone meanwhile, or not a namespace: skip */
		if (cyris_netns_tag(de->d_name, &tag) != 1)
			continue;
		if (range && !cyris_tag_in_range(&tag, range))
			continue;
		e = cyris_grow((void **)&v, &n, &cap, sizeof(*e));
		if (!e) {
			closedir(d);
			free(v);
			return -ENOMEM;
		}
		memcpy(e->name, de->d_name, strlen(de->d_name) + 1); /* valid: < NAMSIZ */
		e->tag = tag;
	}
	closedir(d);
	*ret = v;
	*ret_n = n;
	return 0;
}
