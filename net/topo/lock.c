/* SPDX-License-Identifier: MIT */
/*
 * The host lock: flock(2) on the network namespace itself (its nsfs inode,
 * the same for every process however it names the namespace, whatever
 * runtime directory it is configured with), and on a file in the runtime
 * directory that tells waiters who holds it. Taken by everything that
 * allocates from the host's state and then creates.
 */
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "cyris/lock.h"
#include "cyris/nl.h"
#include "../base/conf-priv.h"
#include "../base/util.h"

#define POLL_MS 10          /* between two tries while another holds it */
#define WAIT_NOTICE_MS 1000 /* then the caller hears that we wait */

/* The lock this process holds: a second cyris_host_lock() of the same file
 * (another open file description) would wait for itself forever. */
static struct {
	int fd, nsfd;
	ino_t ino, ns_ino;
	dev_t dev, ns_dev;
} held = { .fd = -1, .nsfd = -1 };

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* "net-INODE.lock": one lock per network namespace, however it is named
 * (ours, /run/netns/NAME, a path, pid:PID), since that is where the state
 * that is allocated from (addresses, tables) lives. */
static int lock_name(const char *netns, char *buf, size_t size, int *ret_nsfd)
{
	struct stat st;
	int fd = cyris_netns_open(netns), r = 0;

	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0)
		r = -errno;
	if (r == 0 && (size_t)snprintf(buf, size, "net-%llu.lock", (unsigned long long)st.st_ino) >= size)
		r = -ENAMETOOLONG;
	if (r < 0)
		close(fd);
	else
		*ret_nsfd = fd;
	return r;
}

/* Both locks or neither: the namespace's first (every taker agrees on it),
 * then the file's. */
static int try_lock(int nsfd, int fd)
{
	int e;

	if (flock(nsfd, LOCK_EX | LOCK_NB) < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	e = errno;
	(void)flock(nsfd, LOCK_UN);
	errno = e;
	return -1;
}

/* The pid that took the lock last, as it wrote it (0: unknown). */
static long holder_of(int fd)
{
	char buf[24];
	unsigned long pid;
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return cyris_parse_uint(buf, 4194304, &pid) == 0 ? (long)pid : 0;
}

static int open_lock_file(const struct cyris_conf *conf, const char *name, char *path, size_t size,
			  int *ret_fd, struct cyris_error *err);

static int open_lock(const struct cyris_conf *conf, const char *netns, char *path, size_t size,
		     int *ret_fd, int *ret_nsfd, struct cyris_error *err)
{
	char name[NAME_MAX + 1];
	struct stat st;
	int r = lock_name(netns, name, sizeof(name), ret_nsfd);

	if (r < 0)
		return cyris_error_set(err, r, "host lock: network namespace %s: %s",
				  netns ? netns : "(ours)", strerror(-r));
	if (held.fd >= 0 && fstat(*ret_nsfd, &st) == 0 && st.st_ino == held.ns_ino &&
	    st.st_dev == held.ns_dev) {
		close(*ret_nsfd);
		*ret_nsfd = -1;
		return cyris_error_set(err, -EDEADLK, "host lock of network namespace %s: this process "
				       "holds it already", netns ? netns : "(ours)");
	}
	r = open_lock_file(conf, name, path, size, ret_fd, err);
	if (r < 0) {
		close(*ret_nsfd);
		*ret_nsfd = -1;
	}
	return r;
}

static int open_lock_file(const struct cyris_conf *conf, const char *name, char *path, size_t size,
			  int *ret_fd, struct cyris_error *err)
{
	struct stat st;
	int dir, fd, r;

	if ((size_t)snprintf(path, size, "%s/%s", conf->runtime_dir, name) >= size)
		return cyris_error_set(err, -ENAMETOOLONG, "host lock in %s: %s", conf->runtime_dir,
				  strerror(ENAMETOOLONG));
	if ((r = cyris_runtime_dir_open(conf, &dir, err)) < 0)
		return r;
	fd = openat(dir, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0644);
	r = fd < 0 ? -errno : 0;
	close(dir);
	if (r < 0)
		return cyris_error_set(err, r, "host lock %s: %s", path,
				  r == -ELOOP ? "is a symbolic link" : strerror(-r));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
		close(fd);
		return cyris_error_set(err, -EPERM, "host lock %s: not a regular file of uid %u", path,
				  (unsigned)geteuid());
	}
	if (held.fd >= 0 && held.ino == st.st_ino && held.dev == st.st_dev) {
		close(fd);
		return cyris_error_set(err, -EDEADLK, "host lock %s: this process holds it already", path);
	}
	*ret_fd = fd;
	return 0;
}

int cyris_host_lock(const struct cyris_conf *conf, const char *netns,
		    volatile sig_atomic_t *cancel, cyris_lock_wait_fn waiting, void *arg,
		    int *ret_fd, struct cyris_error *err)
{
	_cleanup_free_ struct cyris_conf *dflt = NULL;
	char path[PATH_MAX + NAME_MAX + 2], pid[24];
	const struct timespec pause = { 0, POLL_MS * 1000000L };
	long start = now_ms();
	struct stat st, nst;
	bool told = false;
	int fd = -1, nsfd = -1, r;

	if (!conf) {
		if (!(dflt = malloc(sizeof(*dflt))))
			return -ENOMEM;
		cyris_conf_defaults(dflt);
		conf = dflt;
	}
	if ((r = open_lock(conf, netns, path, sizeof(path), &fd, &nsfd, err)) < 0)
		return r;
	/* tries, not a blocking flock(): a signal that comes just before the
	 * call would not interrupt it, and the caller's cancel flag must */
	while (try_lock(nsfd, fd) < 0) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			r = -errno;
			close(fd);
			close(nsfd);
			return cyris_error_set(err, r, "host lock %s: %s", path, strerror(-r));
		}
		if (cancel && *cancel) {
			close(fd);
			close(nsfd);
			return cyris_error_set(err, -ECANCELED, "interrupted while waiting for the host lock %s",
					  path);
		}
		if (!told && waiting && now_ms() - start >= WAIT_NOTICE_MS) {
			waiting(arg, path, holder_of(fd));
			told = true;
		}
		nanosleep(&pause, NULL);
	}
	/* who holds it, for those who wait (informative only) */
	r = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == 0)
		(void)!pwrite(fd, pid, (size_t)r, 0);
	if (fstat(fd, &st) == 0 && fstat(nsfd, &nst) == 0) {
		held.fd = fd;
		held.ino = st.st_ino;
		held.dev = st.st_dev;
		held.ns_ino = nst.st_ino;
		held.ns_dev = nst.st_dev;
	}
	held.nsfd = nsfd;
	*ret_fd = fd;
	return 0;
}

void cyris_host_unlock(int fd)
{
	if (fd < 0)
		return;
	(void)!ftruncate(fd, 0);
	close(fd);   /* the last reference: flock's lock goes with it */
	if (fd == held.fd) {
		held.fd = -1;
		if (held.nsfd >= 0)
			close(held.nsfd);
		held.nsfd = -1;
	}
}
