/* SPDX-License-Identifier: MIT */
/* Shared by net/tunnel.c and net/tunnel-state.c (not installed). */
#ifndef CYRIS_TUNNEL_PRIV_H
#define CYRIS_TUNNEL_PRIV_H

#include "cyris/tunnel.h"

/* The start time (clock ticks since boot, /proc/PID/stat field 22) of
 * process @pid. 0, -ESRCH, -EIO. */
int tunnel_proc_start_time(pid_t pid, unsigned long long *ret);

/* Write @i as RUNTIME_DIR/tunnels/RANGE@LISTEN.json, atomically (a
 * temporary file made with O_EXCL|O_NOFOLLOW, renamed over it), in
 * directories of this user or root that nobody else can write (made when
 * missing); fills i->path. 0 or -errno with a message naming the
 * directory or file in @err. */
int tunnel_state_write(const char *runtime_dir, struct cyris_tunnel_info *i,
		       struct cyris_error *err);

/* Parse the text of a state file (NUL-terminated) into @i: 0, or
 * -EBADMSG when it is not a state file (the fuzz harness calls it). */
int tunnel_state_parse(const char *text, struct cyris_tunnel_info *i);

/* Remove @i's state file if it still describes the same process. */
void tunnel_state_remove(const struct cyris_tunnel_info *i);

/* "ADDR:PORT", or "[ADDR]:PORT" for IPv6; family 0 means 0.0.0.0. */
void tunnel_format_ep(const struct cyris_ip *ip, unsigned port, char *buf, size_t size);

#endif
