/* SPDX-License-Identifier: MIT */
/*
 * cyris/lock.h — one host, many ranges, at once.
 *
 * Whatever reads the host's state to allocate from it (subnets, entry
 * ports) and then creates what it allocated holds the host lock for the
 * whole of it, so that two ranges brought up at the same moment never plan
 * against the same state: cyris_topo_up and cyris_topo_down take it
 * themselves (do not call them while holding it), and so does cyris-fw
 * expose. A harness that calls the lower layers (cyris_topo_plan followed
 * by its own creation, cyris_fw_expose) takes it around them.
 *
 * The lock is flock(2) LOCK_EX on the network namespace the host's side
 * lives in (its nsfs inode: the state allocated from is that namespace's),
 * however it is named and whatever runtime directory a caller is
 * configured with, and on RUNTIME_DIR/net-INODE.lock, where the holder
 * writes its pid for those who wait. The kernel drops both when the
 * process dies, kill -9 included: there is no stale lock to clean up.
 */
#ifndef CYRIS_LOCK_H
#define CYRIS_LOCK_H

#include <signal.h>
#include <stddef.h>

#include "cyris/conf.h"
#include "cyris/error.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default)

/* Called once when the lock has been waited for about a second: @path is
 * the lock file, @holder the pid that took it last (0: unknown). */
typedef void (*cyris_lock_wait_fn)(void *arg, const char *path, long holder);

/*
 * Take the host lock of @netns (NULL: ours; else as cyris_nl_open() takes
 * it: a name in /run/netns, a path or pid:PID), waiting as long as
 * another process holds it. Returns 0 and the lock's descriptor in
 * *ret_fd, -ECANCELED when *@cancel (may be NULL) became non-zero while
 * waiting, -EDEADLK when this process holds it already, or -errno with a
 * message in @err (the runtime directory is checked as
 * cyris_runtime_dir_open() does). @conf NULL: the defaults.
 */
int cyris_host_lock(const struct cyris_conf *conf, const char *netns,
		    volatile sig_atomic_t *cancel, cyris_lock_wait_fn waiting, void *arg,
		    int *ret_fd, struct cyris_error *err);

/* Release it (a negative @fd is a no-op). */
void cyris_host_unlock(int fd);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
