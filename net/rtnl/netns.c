/* SPDX-License-Identifier: MIT */
/*
 * Named network namespaces, made the way `ip netns add` makes them (a bind
 * mount of the namespace on /run/netns/NAME). Who owns one is recorded on
 * the host, where nothing inside the namespace can write: a record
 * /run/cyris/netns/NAME holding the namespace's inode and cookie and its
 * tag. The tag is also put on the loopback, for people to read; anything
 * root inside the namespace can rewrite that, so it decides nothing.
 */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sys/vfs.h>

#include "cyris/link.h"
#include "cyris/netns.h"
#include "nl-priv.h"

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif
#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

#define RUN_DIR "/run/cyris"

/* What names one namespace for as long as it lives: its nsfs inode, and
 * its cookie, which the kernel never hands out twice (inodes are reused).
 * @dir is the device of the /run/netns it was named in: a mount namespace
 * with a /run/netns of its own (a simulated host) may share /run/cyris, and
 * must not take the others' records for records of nothing. */
struct ns_id {
	unsigned long long ino, cookie, dir;
};

bool cyris_netns_name_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	return n > 0 && n < CYRIS_NETNS_NAMSIZ && !strchr(name, '/') &&
	       !streq(name, ".") && !streq(name, "..");
}

/* /run/netns must be a shared mount point, so that the bind mounts made
 * here are seen from other mount namespaces (what iproute2 does too).
 * Making it shared again walks every mount under it (the kernel gives each
 * a peer group): once per mount of /run/netns and mount namespace, not per
 * namespace made, or a range's cost per guest grows with its size. */
static pthread_mutex_t prepare_lock = PTHREAD_MUTEX_INITIALIZER;

static int prepare_dir(void)
{
	/* the mount (its id, never reused while it lives) made shared last,
	 * and the mount namespace it was seen from */
	static _Thread_local unsigned long long done_mnt, done_mntns;
	struct statx sx;
	struct stat ms;
	int r;

	if (mkdir(CYRIS_NETNS_DIR, 0755) < 0 && errno != EEXIST)
		return -errno;
	if (statx(AT_FDCWD, CYRIS_NETNS_DIR, 0, STATX_MNT_ID, &sx) == 0 && (sx.stx_mask & STATX_MNT_ID) &&
	    stat("/proc/thread-self/ns/mnt", &ms) == 0 &&
	    done_mnt == sx.stx_mnt_id && done_mntns == (unsigned long long)ms.st_ino)
		return 0;
	/* one thread of the process at a time: two that both found no mount
	 * there would each bind it onto itself, one on top of the other */
	pthread_mutex_lock(&prepare_lock);
	r = mount("", CYRIS_NETNS_DIR, "none", MS_SHARED | MS_REC, NULL) < 0 ? -errno : 0;
	if (r == -EINVAL)
		r = mount(CYRIS_NETNS_DIR, CYRIS_NETNS_DIR, "none", MS_BIND | MS_REC, NULL) < 0 ||
		    mount("", CYRIS_NETNS_DIR, "none", MS_SHARED | MS_REC, NULL) < 0 ? -errno : 0;
	pthread_mutex_unlock(&prepare_lock);
	if (r < 0)
		return r;
	/* the mount it is now (a bind of itself is a new one) */
	if (statx(AT_FDCWD, CYRIS_NETNS_DIR, 0, STATX_MNT_ID, &sx) == 0 && (sx.stx_mask & STATX_MNT_ID) &&
	    stat("/proc/thread-self/ns/mnt", &ms) == 0) {
		done_mnt = sx.stx_mnt_id;
		done_mntns = (unsigned long long)ms.st_ino;
	}
	return 0;
}

/* The cookie of the namespace the calling thread is in; 0 on kernels
 * without SO_NETNS_COOKIE (before 5.14), where the inode alone decides. */
static int cookie_here(unsigned long long *ret)
{
	socklen_t len = sizeof(*ret);
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	*ret = 0;
	if (fd < 0)
		return -errno;
	if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, ret, &len) < 0 && errno != ENOPROTOOPT)
		return -errno;
	return 0;
}

/* The identity of the namespace at @path; -EINVAL when it is none. */
static int ns_identity(const char *path, struct ns_id *ret)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct statfs sf;
	struct stat st;
	int old, r;

	if (fd < 0)
		return -errno;
	if (fstatfs(fd, &sf) < 0 || fstat(fd, &st) < 0)
		return -errno;
	if (sf.f_type != NSFS_MAGIC)
		return -EINVAL;
	ret->ino = st.st_ino;
	if ((r = cyris_netns_enter(fd, &old)) < 0)
		return r;
	r = cookie_here(&ret->cookie);
	old = cyris_netns_leave(old);
	return r < 0 ? r : old;
}

/* A directory that only its owner (us, or root) can write. */
static int trusted_dir(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode) || (st.st_uid != geteuid() && st.st_uid != 0) ||
	    (st.st_mode & (S_IWGRP | S_IWOTH)))
		return -EPERM;
	return 0;
}

/* The directory of the records, opened (made first when @make); -ENOENT
 * when it is not there, -EPERM when someone else could write in it. */
static int record_dir(bool make)
{
	_cleanup_close_ int top = -1;
	int fd, r;

	if (make && mkdir(RUN_DIR, 0755) < 0 && errno != EEXIST)
		return -errno;
	top = open(RUN_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (top < 0)
		return -errno;
	if ((r = trusted_dir(top)) < 0)
		return r;
	if (make && mkdirat(top, "netns", 0755) < 0 && errno != EEXIST)
		return -errno;
	fd = openat(top, "netns", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if ((r = trusted_dir(fd)) < 0) {
		close(fd);
		return r;
	}
	return fd;
}

static int record_write(int dir, const char *name, const struct ns_id *id, const char *alias)
{
	char buf[64 + CYRIS_ALIASSIZ];
	_cleanup_close_ int fd = -1;
	int n = snprintf(buf, sizeof(buf), "ino=%llu cookie=%llu dir=%llu\n%s\n", id->ino, id->cookie,
			 id->dir, alias);

	/* a record left by a namespace that is gone (the name is ours now) */
	if (unlinkat(dir, name, 0) < 0 && errno != ENOENT)
		return -errno;
	fd = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (write(fd, buf, (size_t)n) != n)
		return errno ? -errno : -EIO;
	return 0;
}

/* 1 and the record of @name, 0 when there is none (or it is not one). */
static int record_read(int dir, const char *name, struct ns_id *id, struct cyris_tag *tag)
{
	char buf[64 + CYRIS_ALIASSIZ + 2], *alias, *end;
	/* (O_NONBLOCK: a FIFO planted in the directory does not hang us) */
	_cleanup_close_ int fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	ssize_t n;

	if (fd < 0)
		return errno == ENOENT || errno == ELOOP ? 0 : -errno;
	/* a record is cyris's only when only cyris could have written it: a
	 * regular file of root or this user, writable by nobody else */
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || (st.st_uid != 0 && st.st_uid != geteuid()) ||
	    (st.st_mode & (S_IWGRP | S_IWOTH)))
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	if (sscanf(buf, "ino=%llu cookie=%llu dir=%llu", &id->ino, &id->cookie, &id->dir) != 3 ||
	    !(alias = strchr(buf, '\n')) || !(end = strchr(++alias, '\n')))
		return 0;
	*end = '\0';
	return cyris_tag_parse(alias, tag) ? 1 : 0;
}

/* Is /run/netns/@name the namespace recorded for it? 1 and its tag, 0 when
 * not (no record, or the record is of a namespace gone), -errno. */
static int owner_at(int dir, const char *name, const char *path, struct cyris_tag *ret)
{
	struct ns_id want, have;
	struct cyris_tag t;
	int r = dir < 0 ? 0 : record_read(dir, name, &want, &t);

	if (r <= 0)
		return r;
	if ((r = ns_identity(path, &have)) < 0)
		return r;
	if (have.ino != want.ino || have.cookie != want.cookie)
		return 0;
	if (ret)
		*ret = t;
	return 1;
}

/* In the new namespace: loopback up, and the tag on it, in one request
 * (by name: no round trip for its index). *ret_nl, when not NULL, is the
 * context that did it, kept open. */
static int setup_inside(const char *name, const char *alias, struct cyris_nl **ret_nl)
{
	struct cyris_nl *nl;
	int r = cyris_nl_open_here(&nl, name);

	if (r < 0)
		return r;
	r = cyris_link_set_up_alias(nl, "lo", alias);
	if (r == 0 && ret_nl)
		*ret_nl = nl;
	else
		cyris_nl_close(nl);
	return r;
}

int cyris_netns_create(const char *name, const struct cyris_tag *tag)
{
	return cyris_netns_create_nl(name, tag, NULL);
}

int cyris_netns_create_nl(const char *name, const struct cyris_tag *tag,
			  struct cyris_nl **ret_nl)
{
	struct cyris_nl *nl = NULL;
	char path[sizeof(CYRIS_NETNS_DIR) + CYRIS_NETNS_NAMSIZ], alias[CYRIS_ALIASSIZ] = "";
	_cleanup_close_ int old = -1, dir = -1;
	bool made = false, recorded = false;
	struct ns_id id = {0};
	struct stat st;
	int fd, r;

	if (!cyris_netns_name_valid(name))
		return -EINVAL;
	if (tag && (r = cyris_tag_format(tag, alias, sizeof(alias))) < 0)
		return r;
	if ((r = prepare_dir()) < 0)
		return r;
	if (tag && (dir = record_dir(true)) < 0)
		return dir;
	if (tag) {
		if (stat(CYRIS_NETNS_DIR, &st) < 0)
			return -errno;
		id.dir = (unsigned long long)st.st_dev;
	}
	snprintf(path, sizeof(path), "%s/%s", CYRIS_NETNS_DIR, name);
	if (access(path, F_OK) == 0)
		return -EEXIST;
	old = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (old < 0 || unshare(CLONE_NEWNET) < 0)
		return -errno;
	r = setup_inside(name, alias, ret_nl ? &nl : NULL);
	if (r == 0 && tag) {
		if (stat("/proc/thread-self/ns/net", &st) < 0)
			r = -errno;
		else
			id.ino = st.st_ino, r = cookie_here(&id.cookie);
	}
	/* The name is claimed, then recorded, then given to the namespace: a
	 * process killed before the bind mount takes the namespace with it,
	 * and after it, the record names its owner. */
	if (r == 0) {
		fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
		if (fd < 0) {
			r = -errno;
		} else {
			close(fd);
			made = true;
			if (tag && (r = record_write(dir, name, &id, alias)) == 0)
				recorded = true;
			if (r == 0 && mount("/proc/thread-self/ns/net", path, "none", MS_BIND, NULL) < 0)
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
	if (r < 0 && recorded)
		(void)unlinkat(dir, name, 0);
	if (r < 0)
		cyris_nl_close(nl);
	else if (ret_nl)
		*ret_nl = nl;
	return r;
}

int cyris_netns_delete(const char *name)
{
	char path[sizeof(CYRIS_NETNS_DIR) + CYRIS_NETNS_NAMSIZ];
	_cleanup_close_ int dir = -1;

	if (!cyris_netns_name_valid(name))
		return -EINVAL;
	snprintf(path, sizeof(path), "%s/%s", CYRIS_NETNS_DIR, name);
	if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
		return -errno;
	if (unlink(path) < 0)
		return -errno;
	/* the record goes after the name: killed in between, it is a record
	 * of nothing, which cyris_netns_prune() removes */
	if ((dir = record_dir(false)) >= 0 && unlinkat(dir, name, 0) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

int cyris_netns_tag(const char *name, struct cyris_tag *ret)
{
	char path[sizeof(CYRIS_NETNS_DIR) + CYRIS_NETNS_NAMSIZ];
	_cleanup_close_ int dir = -1;
	struct stat st;

	if (!cyris_netns_name_valid(name))
		return -EINVAL;
	snprintf(path, sizeof(path), "%s/%s", CYRIS_NETNS_DIR, name);
	if (stat(path, &st) < 0)
		return -errno;
	/* no directory of records: nothing is cyris's */
	if ((dir = record_dir(false)) < 0 && dir != -ENOENT)
		return dir;
	return owner_at(dir, name, path, ret);
}

int cyris_netns_list(const char *range, struct cyris_netns_entry **ret, size_t *ret_n)
{
	struct cyris_netns_entry *v = NULL;
	size_t n = 0, cap = 0;
	_cleanup_close_ int dir = -1;
	struct dirent *de;
	DIR *d;

	if ((dir = record_dir(false)) < 0 && dir != -ENOENT)
		return dir;
	d = opendir(CYRIS_NETNS_DIR);
	if (!d || dir < 0) {
		if (d)
			closedir(d);
		else if (errno != ENOENT)
			return -errno;
		*ret = NULL;
		*ret_n = 0;
		return 0;
	}
	while ((de = readdir(d))) {
		char path[sizeof(CYRIS_NETNS_DIR) + CYRIS_NETNS_NAMSIZ];
		struct cyris_tag tag;
		struct cyris_netns_entry *e;

		if (de->d_name[0] == '.' || !cyris_netns_name_valid(de->d_name) ||
		    snprintf(path, sizeof(path), "%s/%s", CYRIS_NETNS_DIR, de->d_name) >= (int)sizeof(path))
			continue;
		/* not ours, gone meanwhile, or not a namespace: skip */
		if (owner_at(dir, de->d_name, path, &tag) != 1)
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

/* An empty regular file that is no namespace: a name claimed by
 * cyris_netns_create() that never got its namespace (the process was killed
 * in between). */
static bool abandoned(const char *path)
{
	struct statfs sf;
	struct stat st;

	return lstat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0 &&
	       statfs(path, &sf) == 0 && sf.f_type != NSFS_MAGIC;
}

/* Prune the record @name of @dir if it names no namespace of the
 * /run/netns on device @here: 1 pruned, 0 kept. */
static int prune_one(int dir, const char *name, const char *range, unsigned long long here)
{
	char path[sizeof(CYRIS_NETNS_DIR) + CYRIS_NETNS_NAMSIZ];
	struct cyris_tag tag;
	struct ns_id id;
	int k = record_read(dir, name, &id, &tag), o;

	if (k < 0 || (range && (k == 0 || !cyris_tag_in_range(&tag, range))) ||
	    (k == 1 && id.dir != here))
		return 0;
	if (snprintf(path, sizeof(path), "%s/%s", CYRIS_NETNS_DIR, name) >= (int)sizeof(path))
		return 0;
	if (k == 1) {
		o = owner_at(dir, name, path, NULL);
		/* the recorded namespace, or one we cannot look at: kept */
		if (o == 1 || (o < 0 && o != -ENOENT && o != -EINVAL))
			return 0;
		if (o == -EINVAL && abandoned(path) && unlink(path) < 0 && errno != ENOENT)
			return -errno;
	}
	/* a record of nothing (or of a namespace gone, whatever has the name
	 * now), or a file that is no record */
	if (unlinkat(dir, name, 0) < 0 && errno != ENOENT)
		return -errno;
	return 1;
}

int cyris_netns_prune(const char *range, size_t *ret_n)
{
	_cleanup_close_ int dir = record_dir(false);
	size_t count = 0;
	struct dirent *de;
	struct stat st;
	int r = 0, fd;
	DIR *d;

	if (ret_n)
		*ret_n = 0;
	if (dir < 0)
		return dir == -ENOENT ? 0 : dir;
	if (stat(CYRIS_NETNS_DIR, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if ((fd = dup(dir)) < 0 || !(d = fdopendir(fd))) {
		r = -errno;
		if (fd >= 0)
			close(fd);
		return r;
	}
	while (r >= 0 && (de = readdir(d))) {
		if (de->d_name[0] == '.' || !cyris_netns_name_valid(de->d_name))
			continue;
		r = prune_one(dir, de->d_name, range, (unsigned long long)st.st_dev);
		count += r > 0;
	}
	closedir(d);
	if (ret_n)
		*ret_n = count;
	return r < 0 ? r : 0;
}
