/* SPDX-License-Identifier: MIT */
/* The host lock: exclusive between processes, gone with its holder (kill -9
 * included), a wait that the cancel flag stops, a second take in the same
 * process refused instead of waiting for itself, and a runtime directory
 * that is a symlink or writable by others refused. Without privileges. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cyris/conf.h"
#include "../../net/base/conf-priv.h"   /* runtime_dir set directly */
#include "cyris/lock.h"
#include "../tap.h"

static char top[64];                 /* the test's temporary directory */
static struct cyris_conf conf;       /* runtime_dir: TOP/run */
static volatile sig_atomic_t cancel;
static int waited;
static long waited_for;

static void on_wait(void *arg, const char *path, long holder)
{
	(void)arg;
	(void)path;
	waited++;
	waited_for = holder;
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000L + (t.tv_nsec - t0->tv_nsec) / 1000000L;
}

/* A child that takes the lock, says so through a pipe, then sleeps. */
static pid_t holder(void)
{
	int p[2], fd;
	pid_t pid;
	char c;

	if (pipe(p) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		if (cyris_host_lock(&conf, NULL, NULL, NULL, NULL, &fd, NULL) < 0)
			_exit(1);
		(void)!write(p[1], "x", 1);
		pause();
		_exit(0);
	}
	close(p[1]);
	if (read(p[0], &c, 1) != 1)
		pid = -1;
	close(p[0]);
	return pid;
}

static void on_alarm(int sig)
{
	(void)sig;
	cancel = 1;
}

static void test_between_processes(void)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct itimerval it = { .it_value = { 1, 300000 } };
	struct timespec t0;
	struct cyris_error err = {0};
	int fd = -1, r;
	pid_t pid = holder();

	ok(pid > 0, "a child takes the lock");
	/* we wait; a timer sets the cancel flag after 1.3 s */
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = cyris_host_lock(&conf, NULL, &cancel, on_wait, NULL, &fd, &err);
	is_int(r, -ECANCELED, "while it holds it we wait, until the cancel flag stops us");
	ok(ms_since(&t0) >= 1200 && ms_since(&t0) < 3000, "after the 1.3 s the flag took (%ld ms)", ms_since(&t0));
	ok(strstr(err.msg, "interrupted while waiting for the host lock") != NULL, "and say so: %s", err.msg);
	is_int(waited, 1, "the wait was reported once, after about a second");
	is_int((int)waited_for, (int)pid, "naming the holder's pid");
	/* kill -9 of the holder: the lock is free at once */
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	cancel = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = cyris_host_lock(&conf, NULL, &cancel, on_wait, NULL, &fd, &err);
	is_int(r, 0, "after kill -9 of its holder the lock is ours");
	ok(ms_since(&t0) < 500, "  at once (%ld ms)", ms_since(&t0));
	is_int(cyris_host_lock(&conf, NULL, NULL, NULL, NULL, &(int){0}, &err), -EDEADLK,
	       "taking it again in this process is refused, not a wait for ourselves");
	cyris_host_unlock(fd);
	r = cyris_host_lock(&conf, NULL, NULL, NULL, NULL, &fd, &err);
	is_int(r, 0, "released, it can be taken again");
	cyris_host_unlock(fd);
}

static void test_bad_dirs(void)
{
	const char *dir = conf.runtime_dir;
	struct cyris_error err = {0};
	char link[sizeof(top) + 8];
	static struct cyris_conf c;
	int fd;

	chmod(dir, 0775);
	is_int(cyris_host_lock(&conf, NULL, NULL, NULL, NULL, &fd, &err), -EPERM,
	       "a runtime directory writable by its group is refused");
	ok(strstr(err.msg, "writable by no one else") != NULL, "  saying why: %s", err.msg);
	chmod(dir, 0755);
	c = conf;
	snprintf(link, sizeof(link), "%s/link", top);
	ok(symlink(dir, link) == 0, "a symlink to the runtime directory");
	snprintf(c.runtime_dir, sizeof(c.runtime_dir), "%s", link);
	is_int(cyris_host_lock(&c, NULL, NULL, NULL, NULL, &fd, &err), -ELOOP,
	       "  is refused as the runtime directory");
	unlink(link);
	/* the lock file itself a symlink (to a file someone wants truncated) */
	{
		char victim[sizeof(top) + 8], lock[sizeof(conf.runtime_dir) + 32];
		struct stat ns;
		int v;

		snprintf(victim, sizeof(victim), "%s/victim", top);
		v = open(victim, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		ok(v >= 0 && write(v, "keep\n", 5) == 5 && stat("/proc/self/ns/net", &ns) == 0,
		   "a file to protect");
		close(v);
		snprintf(lock, sizeof(lock), "%s/net-%llu.lock", dir, (unsigned long long)ns.st_ino);
		unlink(lock);
		ok(symlink(victim, lock) == 0, "the lock file is a symlink to it");
		is_int(cyris_host_lock(&conf, NULL, NULL, NULL, NULL, &fd, &err), -ELOOP,
		       "  is refused");
		ok(stat(victim, &ns) == 0 && ns.st_size == 5, "  and the file it points to is untouched");
		unlink(lock);
		unlink(victim);
	}
	is_int(cyris_host_lock(&conf, "no-such-ns-here", NULL, NULL, NULL, &fd, &err), -ENOENT,
	       "a namespace that does not exist: -ENOENT");
}

/* The lock files, the runtime directory, the temporary one. */
static void tidy(void)
{
	DIR *d = opendir(conf.runtime_dir);
	struct dirent *e;

	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.')
			unlinkat(dirfd(d), e->d_name, 0);
	if (d)
		closedir(d);
	rmdir(conf.runtime_dir);
	rmdir(top);
}

int main(void)
{
	snprintf(top, sizeof(top), "/tmp/cyris-lock-XXXXXX");
	if (!mkdtemp(top)) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	cyris_conf_defaults(&conf);
	snprintf(conf.runtime_dir, sizeof(conf.runtime_dir), "%s/run", top);
	test_between_processes();
	test_bad_dirs();
	tidy();
	return done();
}
