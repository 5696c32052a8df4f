/* SPDX-License-Identifier: MIT */
/*
 * Tunnel state files: RUNTIME_DIR/tunnels/RANGE@LISTEN.json, one small flat
 * JSON object per running tunnel, written atomically by the tunnel itself;
 * listing them, and stopping a tunnel only when the recorded process really
 * is that tunnel (same start time, holds the recorded listening socket).
 */
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>

#include "cyris/tunnel.h"
#include "tunnel-priv.h"
#include "../base/json.h"
#include "../base/util.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

void tunnel_format_ep(const struct cyris_ip *ip, unsigned port, char *buf, size_t size)
{
	char a[CYRIS_IPSTRLEN];

	if (!ip->family)
		snprintf(buf, size, "0.0.0.0:%u", port);
	else if (ip->family == AF_INET6)
		snprintf(buf, size, "[%s]:%u", cyris_ip_format(ip, a, sizeof(a)), port);
	else
		snprintf(buf, size, "%s:%u", cyris_ip_format(ip, a, sizeof(a)), port);
}

int tunnel_proc_start_time(pid_t pid, unsigned long long *ret)
{
	char path[64], buf[1024], *p;
	unsigned long long v = 0;
	ssize_t n;
	int fd, field;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	/* the command name may hold spaces and ')': fields follow the last ')' */
	p = strrchr(buf, ')');
	if (!p)
		return -EIO;
	p++;
	for (field = 3; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%llu", &v) != 1)
		return -EIO;
	*ret = v;
	return 0;
}

/* ---- writing ----------------------------------------------------------------- */

/*
 * Open directory @name (relative to @at; @shown is its full name for
 * messages) without following a symlink, making it first when @create.
 * Refused unless it belongs to this user (or root) and nobody else may
 * write in it: in a directory others can write, they could plant a symlink
 * where a state file goes, or a forged state file naming any process.
 * Returns the fd, -ENOENT when it is missing, or -errno with @err set.
 */
static int trusted_dir(int at, const char *name, const char *shown, bool create,
		       struct cyris_error *err)
{
	struct stat st;
	int fd, r;

	if (create && mkdirat(at, name, 0755) < 0 && errno != EEXIST)
		return cyris_error_set(err, -errno, "%s: %s", shown, strerror(errno));
	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		if (r == -ELOOP || r == -ENOTDIR)
			return cyris_error_set(err, -ENOTDIR, "%s: not a directory (a symlink or a file): refused",
				       shown);
		return cyris_error_set(err, r, "%s: %s", shown, strerror(-r));
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		close(fd);
		return cyris_error_set(err, r, "%s: %s", shown, strerror(-r));
	}
	if (st.st_uid != geteuid() && st.st_uid != 0) {
		close(fd);
		return cyris_error_set(err, -EPERM, "%s: owned by uid %u, not by this user or root: refused",
			       shown, (unsigned)st.st_uid);
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		close(fd);
		return cyris_error_set(err, -EPERM, "%s: writable by %s (mode %04o): refused", shown,
			       st.st_mode & S_IWOTH ? "others" : "its group",
			       (unsigned)(st.st_mode & 07777));
	}
	return fd;
}

/* RUNTIME_DIR/tunnels, both checked by trusted_dir(); its full name in @dir. */
static int state_dir_open(const char *runtime_dir, bool create, char *dir, size_t size,
			  struct cyris_error *err)
{
	int rfd, fd;

	if ((size_t)snprintf(dir, size, "%s/tunnels", runtime_dir) >= size)
		return cyris_error_set(err, -ENAMETOOLONG, "%s/tunnels: %s", runtime_dir,
			       strerror(ENAMETOOLONG));
	rfd = trusted_dir(AT_FDCWD, runtime_dir, runtime_dir, create, err);
	if (rfd < 0)
		return rfd;
	fd = trusted_dir(rfd, "tunnels", dir, create, err);
	close(rfd);
	return fd;
}

/* The temporary file, made anew (O_EXCL, never through a symlink): one a
 * crashed process of the same pid left behind goes first. */
static int open_tmp(int dfd, const char *tmp)
{
	int fd = -1, attempt;

	for (attempt = 0; attempt < 2; attempt++) {
		fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd >= 0 || errno != EEXIST || unlinkat(dfd, tmp, 0) < 0)
			break;
	}
	return fd < 0 ? -errno : fd;
}

/* One flat object on one line, through the one JSON writer (net/base/json.c). */
static void put_state(FILE *f, const struct cyris_tunnel_info *i)
{
	struct json j;

	json_init(&j, f, false);
	json_obj_open(&j, NULL);
	json_int(&j, "schema", CYRIS_TUNNEL_SCHEMA);
	json_str(&j, "range", i->range);
	json_str(&j, "via", i->via);
	json_str(&j, "listen", i->listen);
	json_uint(&j, "listen_port", i->listen_port);
	json_str(&j, "target", i->target);
	json_int(&j, "pid", (int)i->pid);
	json_uint(&j, "start_time", i->start_time);
	json_uint(&j, "listen_inode", i->listen_inode);
	json_str(&j, "state", cyris_tunnel_state_str(i->state));
	json_uint(&j, "connections", i->connections);
	json_uint(&j, "connections_total", i->connections_total);
	json_uint(&j, "bytes_up", i->bytes_up);
	json_uint(&j, "bytes_down", i->bytes_down);
	json_uint(&j, "reconnects", i->reconnects);
	json_int(&j, "since", i->since);
	json_int(&j, "updated", i->updated);
	json_str(&j, "cipher", i->cipher);
	json_str(&j, "last_error", i->last_error);
	json_obj_close(&j);
	json_end(&j);
}

int tunnel_state_write(const char *runtime_dir, struct cyris_tunnel_info *i,
		       struct cyris_error *err)
{
	char dir[PATH_MAX], name[NAME_MAX + 1], tmp[NAME_MAX + 1];
	FILE *f;
	int dfd, fd, r;

	dfd = state_dir_open(runtime_dir, true, dir, sizeof(dir), err);
	if (dfd < 0)
		return dfd;
	r = -ENAMETOOLONG;
	if ((size_t)snprintf(name, sizeof(name), "%s@%s.json", i->range, i->listen) >= sizeof(name) ||
	    (size_t)snprintf(tmp, sizeof(tmp), ".%s@%s.%d.tmp", i->range, i->listen,
			     (int)getpid()) >= sizeof(tmp) ||
	    (size_t)snprintf(i->path, sizeof(i->path), "%s/%s", dir, name) >= sizeof(i->path))
		goto fail;
	fd = open_tmp(dfd, tmp);
	if (fd < 0) {
		r = fd;
		goto fail;
	}
	f = fdopen(fd, "w");
	if (!f) {
		r = -errno;
		close(fd);
		goto fail_tmp;
	}
	put_state(f, i);
	r = fflush(f) != 0 || ferror(f) ? -EIO : 0;
	if (fclose(f) != 0 && r == 0)
		r = -EIO;
	if (r < 0)
		goto fail_tmp;
	/* rename replaces whatever has the name, a symlink too, never its target */
	if (renameat(dfd, tmp, dfd, name) < 0) {
		r = -errno;
		goto fail_tmp;
	}
	close(dfd);
	return 0;
fail_tmp:
	(void)unlinkat(dfd, tmp, 0);
fail:
	close(dfd);
	return cyris_error_set(err, r, "%s/%s: %s", dir, name, strerror(-r));
}

/* ---- reading: a flat object of strings and integers ---------------------- */

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/* A JSON string at @p into @out (truncated to @size); returns the end. */
static const char *get_str(const char *p, char *out, size_t size)
{
	size_t n = 0;

	if (*p++ != '"')
		return NULL;
	while (*p && *p != '"') {
		char ch = *p++;

		if (ch == '\\') {
			ch = *p++;
			switch (ch) {
			case 'n': ch = '\n'; break;
			case 't': ch = '\t'; break;
			case 'r': ch = '\r'; break;
			case 'b': ch = '\b'; break;
			case 'f': ch = '\f'; break;
			case 'u': {
				unsigned v = 0;

				if (sscanf(p, "%4x", &v) != 1 || strlen(p) < 4)
					return NULL;
				p += 4;
				ch = v < 0x80 ? (char)v : '?';
				break;
			}
			case '"': case '\\': case '/': break;
			default: return NULL;
			}
		}
		if (n + 1 < size)
			out[n++] = ch;
	}
	if (*p != '"')
		return NULL;
	if (size)
		out[n] = '\0';
	return p + 1;
}

static void set_field(struct cyris_tunnel_info *i, const char *key, const char *s,
		      long long v, bool is_num)
{
#define STR(k) if (!is_num && streq(key, #k)) { snprintf(i->k, sizeof(i->k), "%s", s); return; }
#define NUM(k, type) if (is_num && streq(key, #k)) { i->k = (type)v; return; }
	STR(range) STR(via) STR(listen) STR(target) STR(cipher) STR(last_error)
	NUM(listen_port, unsigned) NUM(pid, pid_t) NUM(start_time, unsigned long long)
	NUM(listen_inode, unsigned long long) NUM(connections, unsigned)
	NUM(connections_total, unsigned long long) NUM(bytes_up, unsigned long long)
	NUM(bytes_down, unsigned long long) NUM(reconnects, unsigned)
	NUM(since, long long) NUM(updated, long long)
#undef STR
#undef NUM
	if (!is_num && streq(key, "state")) {
		i->state = streq(s, "up") ? CYRIS_TUNNEL_UP :
			   streq(s, "reconnecting") ? CYRIS_TUNNEL_RECONNECTING :
			   streq(s, "starting") ? CYRIS_TUNNEL_STARTING : CYRIS_TUNNEL_DEAD;
	}
}

int tunnel_state_parse(const char *text, struct cyris_tunnel_info *i)
{
	const char *p = skip_ws(text);
	char key[32], sval[512];

	memset(i, 0, sizeof(*i));
	i->state = CYRIS_TUNNEL_DEAD;
	if (*p++ != '{')
		return -EBADMSG;
	p = skip_ws(p);
	if (*p == '}')
		return -EBADMSG;
	for (;;) {
		p = get_str(skip_ws(p), key, sizeof(key));
		if (!p)
			return -EBADMSG;
		p = skip_ws(p);
		if (*p++ != ':')
			return -EBADMSG;
		p = skip_ws(p);
		if (*p == '"') {
			p = get_str(p, sval, sizeof(sval));
			if (!p)
				return -EBADMSG;
			set_field(i, key, sval, 0, false);
		} else if (*p == '-' || (*p >= '0' && *p <= '9')) {
			char *end;
			long long v;

			errno = 0;
			v = strtoll(p, &end, 10);
			if (errno || end == p)
				return -EBADMSG;
			p = end;
			set_field(i, key, NULL, v, true);
		} else if (!strncmp(p, "null", 4) || !strncmp(p, "true", 4)) {
			p += 4;
		} else if (!strncmp(p, "false", 5)) {
			p += 5;
		} else {
			return -EBADMSG;
		}
		p = skip_ws(p);
		if (*p == '}')
			break;
		if (*p++ != ',')
			return -EBADMSG;
	}
	if (!cyris_id_valid(i->range) || i->pid <= 0 || !i->listen[0])
		return -EBADMSG;
	return 0;
}

static int read_state_at(int dfd, const char *name, const char *path,
			 struct cyris_tunnel_info *i)
{
	char buf[4096];
	ssize_t n;
	int fd, r;

	fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	r = tunnel_state_parse(buf, i);
	if (r < 0)
		return r;
	snprintf(i->path, sizeof(i->path), "%s", path);
	return 0;
}

static int read_state(const char *path, struct cyris_tunnel_info *i)
{
	return read_state_at(AT_FDCWD, path, path, i);
}

/* ---- is it that tunnel? ------------------------------------------------------ */

static bool holds_socket(pid_t pid, unsigned long long inode)
{
	char dir[64], path[384], link[64], want[64];
	struct dirent *e;
	bool found = false;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	snprintf(want, sizeof(want), "socket:[%llu]", inode);
	d = opendir(dir);
	if (!d)
		return false;
	while (!found && (e = readdir(d))) {
		ssize_t n;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		found = streq(link, want);
	}
	closedir(d);
	return found;
}

int cyris_tunnel_alive(const struct cyris_tunnel_info *i)
{
	unsigned long long st;

	if (i->pid <= 0 || tunnel_proc_start_time(i->pid, &st) < 0 || st != i->start_time)
		return 0;
	return holds_socket(i->pid, i->listen_inode) ? 1 : 0;
}

void tunnel_state_remove(const struct cyris_tunnel_info *i)
{
	struct cyris_tunnel_info cur;

	/* a tunnel opened since on the same address owns the file now */
	if (read_state(i->path, &cur) == 0 &&
	    (cur.pid != i->pid || cur.start_time != i->start_time))
		return;
	(void)unlink(i->path);
}

/* ---- list and stop ------------------------------------------------------------- */

static int cmp_info(const void *a, const void *b)
{
	const struct cyris_tunnel_info *x = a, *y = b;
	int r = strcmp(x->range, y->range);

	if (r)
		return r;
	if (x->listen_port != y->listen_port)
		return x->listen_port < y->listen_port ? -1 : 1;
	return strcmp(x->listen, y->listen);
}

int cyris_tunnel_list(const char *runtime_dir, const char *range,
		      struct cyris_tunnel_info **ret, size_t *ret_n,
		      struct cyris_error *err)
{
	struct cyris_tunnel_info *v = NULL, *slot, cur;
	char dir[PATH_MAX], path[PATH_MAX + 300];
	size_t n = 0, cap = 0;
	struct dirent *e;
	DIR *d = NULL;
	int fd;

	/* a state file names a process that close signals: only from a
	 * directory nobody else can write */
	fd = state_dir_open(runtime_dir, false, dir, sizeof(dir), err);
	if (fd < 0 && fd != -ENOENT)
		return fd;
	if (fd >= 0 && !(d = fdopendir(fd))) {
		int r = -errno;

		close(fd);
		cyris_error_set(err, r, "%s: %s", dir, strerror(-r));
		return r;
	}
	while (d && (e = readdir(d))) {
		size_t len = strlen(e->d_name);

		if (e->d_name[0] == '.' || len < 6 || !streq(e->d_name + len - 5, ".json"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (read_state_at(dirfd(d), e->d_name, path, &cur) < 0)
			continue;   /* not ours, or half-written by hand */
		if (range && !streq(cur.range, range))
			continue;
		if (!cyris_tunnel_alive(&cur))
			cur.state = CYRIS_TUNNEL_DEAD;
		slot = cyris_grow((void **)&v, &n, &cap, sizeof(*v));
		if (!slot) {
			closedir(d);
			free(v);
			cyris_error_set(err, -ENOMEM, "out of memory");
			return -ENOMEM;
		}
		*slot = cur;
	}
	if (d)
		closedir(d);
	if (n)
		qsort(v, n, sizeof(*v), cmp_info);
	*ret = v;
	*ret_n = n;
	return 0;
}

static int wait_exit(int pidfd, unsigned timeout_ms)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };
	int r;

	do
		r = poll(&p, 1, (int)timeout_ms);
	while (r < 0 && errno == EINTR);
	return r > 0 ? 0 : -ETIMEDOUT;
}

/* Without pidfds (valgrind does not know them, kernels before 5.3): check,
 * signal, and poll until the tunnel is gone. The check and the kill are not
 * atomic, but the window is microseconds against a pid wrapping around. */
static int stop_by_pid(const struct cyris_tunnel_info *i, unsigned timeout_ms,
		       struct cyris_error *err)
{
	struct timespec ts = { .tv_nsec = 20 * 1000 * 1000 };
	unsigned waited;
	int sig = SIGTERM;

	for (;;) {
		if (!cyris_tunnel_alive(i) || kill(i->pid, sig) < 0) {
			tunnel_state_remove(i);
			return sig == SIGTERM ? 0 : 1;
		}
		for (waited = 0; waited < timeout_ms && cyris_tunnel_alive(i); waited += 20)
			nanosleep(&ts, NULL);
		if (!cyris_tunnel_alive(i))
			break;
		if (sig == SIGKILL) {
			cyris_error_set(err, -ETIMEDOUT, "pid %d did not exit", (int)i->pid);
			return -ETIMEDOUT;
		}
		sig = SIGKILL;
		timeout_ms = 2000;
	}
	tunnel_state_remove(i);
	return 1;
}

int cyris_tunnel_stop(const struct cyris_tunnel_info *i, unsigned timeout_ms,
		      struct cyris_error *err)
{
	int pidfd, r;

	/* Hold the process by a pidfd first, then check it is the tunnel:
	 * from then on the pid cannot name another process. */
	pidfd = (int)syscall(SYS_pidfd_open, i->pid, 0);
	if (pidfd < 0 && errno == ENOSYS)
		return stop_by_pid(i, timeout_ms, err);
	if (pidfd < 0 && errno != ESRCH) {
		r = -errno;
		cyris_error_set(err, r, "pid %d: %s", (int)i->pid, strerror(-r));
		return r;
	}
	if (pidfd < 0 || !cyris_tunnel_alive(i)) {
		if (pidfd >= 0)
			close(pidfd);
		tunnel_state_remove(i);
		return 0;
	}
	if (syscall(SYS_pidfd_send_signal, pidfd, SIGTERM, NULL, 0) < 0 && errno != ESRCH) {
		r = -errno;
		cyris_error_set(err, r, "pid %d: %s", (int)i->pid, strerror(-r));
		close(pidfd);
		return r;
	}
	if (wait_exit(pidfd, timeout_ms) < 0) {
		(void)syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
		if (wait_exit(pidfd, 2000) < 0) {
			close(pidfd);
			cyris_error_set(err, -ETIMEDOUT, "pid %d did not exit", (int)i->pid);
			return -ETIMEDOUT;
		}
	}
	close(pidfd);
	tunnel_state_remove(i);
	return 1;
}
