/* SPDX-License-Identifier: MIT */
/*
 * cyris/tunnel.h — trainee entry points: a local TCP port forwarded over
 * SSH to IP:PORT behind a range host, in-process with libssh.
 *
 * One tunnel = one listening socket + one SSH session. Each accepted TCP
 * connection gets its own "direct-tcpip" channel on that session; every
 * connection of the tunnel is served by one poll() loop. When the session
 * drops, the tunnel reconnects with bounded exponential backoff and keeps
 * its listening socket (new connections wait in the kernel's backlog).
 *
 * Host keys are checked strictly against known_hosts; a first-seen key is
 * recorded only when asked (accept_new), a changed key is always refused.
 * Authentication is by public key: a key file, or the agent and the default
 * key files. There is no password authentication.
 *
 * A running tunnel records its state as a small JSON file,
 * RUNTIME_DIR/tunnels/RANGE@LISTEN.json (written atomically: temporary
 * file + rename), with its pid, the process start time and the inode of its
 * listening socket, so that list and stop find it again and stop signals a
 * process only if it really is that tunnel.
 *
 * Functions return 0 (or a count) on success and -errno on failure; the
 * failure's record (cyris/error.h: what failed, with libssh's message as the
 * detail where libssh said something) is kept in the tunnel for the caller,
 * cyris_tunnel_error(); the state functions, which have no tunnel, fill the
 * struct cyris_error *err they are given.
 */
#ifndef CYRIS_TUNNEL_H
#define CYRIS_TUNNEL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "cyris/addr.h"
#include "cyris/tag.h"
#include "cyris/error.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default)

/* Version of the state file's keys. */
#define CYRIS_TUNNEL_SCHEMA 1

#define CYRIS_TUNNEL_USERSIZ 64
#define CYRIS_TUNNEL_HOSTSIZ 256
#define CYRIS_TUNNEL_EPSIZ 64           /* "ADDR:PORT", "[v6]:PORT" */
#define CYRIS_TUNNEL_VIASIZ (CYRIS_TUNNEL_USERSIZ + CYRIS_TUNNEL_HOSTSIZ + 16)

/* Backoff between reconnection attempts: doubles from MIN up to MAX. */
#define CYRIS_TUNNEL_BACKOFF_MIN_MS 250
#define CYRIS_TUNNEL_BACKOFF_MAX_MS 30000

enum cyris_tunnel_state {
	CYRIS_TUNNEL_STARTING,          /* not yet authenticated */
	CYRIS_TUNNEL_UP,                /* session up, accepting */
	CYRIS_TUNNEL_RECONNECTING,      /* session lost, retrying */
	CYRIS_TUNNEL_DEAD,              /* recorded, but no such process now */
};

/* "starting", "up", "reconnecting", "dead". */
const char *cyris_tunnel_state_str(enum cyris_tunnel_state s);

/* What to open. Strings of the pointer members are borrowed by
 * cyris_tunnel_new(), which copies them. */
struct cyris_tunnel_cfg {
	char range[CYRIS_ID_MAX + 1];
	char user[CYRIS_TUNNEL_USERSIZ];
	char host[CYRIS_TUNNEL_HOSTSIZ];  /* SSH server: a name or an address */
	unsigned port;                    /* SSH port; 0 = 22 */
	struct cyris_ip listen_ip;        /* family 0 = 0.0.0.0 */
	unsigned listen_port;
	struct cyris_ip to_ip;            /* where the server connects to */
	unsigned to_port;
	const char *identity;             /* private key file; NULL = the agent,
					     then ~/.ssh's default keys */
	const char *known_hosts;          /* NULL = ~/.ssh/known_hosts and
					     /etc/ssh/ssh_known_hosts; a file
					     given here is the only one read */
	bool accept_new;                  /* record a host key never seen */
	const char *runtime_dir;          /* state goes to RUNTIME_DIR/tunnels;
					     NULL = keep no state file */
};

/* Parse "USER@HOST[:PORT]" (HOST may be "[v6]") into @cfg's user, host and
 * port. 0 or -EINVAL. */
int cyris_tunnel_parse_via(const char *s, struct cyris_tunnel_cfg *cfg);

/* Parse "[ADDR:]PORT" (ADDR an IPv4 address or "[v6]") into @cfg's listen
 * address. 0 or -EINVAL. */
int cyris_tunnel_parse_listen(const char *s, struct cyris_tunnel_cfg *cfg);

/* Parse "IP:PORT" (or "[v6]:PORT") into @cfg's target. 0 or -EINVAL. */
int cyris_tunnel_parse_to(const char *s, struct cyris_tunnel_cfg *cfg);

/* A tunnel as recorded in its state file (or as it runs). */
struct cyris_tunnel_info {
	char range[CYRIS_ID_MAX + 1];
	char via[CYRIS_TUNNEL_VIASIZ];    /* "user@host:port" */
	char listen[CYRIS_TUNNEL_EPSIZ];  /* "0.0.0.0:2222" */
	unsigned listen_port;
	char target[CYRIS_TUNNEL_EPSIZ];  /* "10.0.0.5:22" */
	pid_t pid;
	unsigned long long start_time;    /* /proc/PID/stat field 22 */
	unsigned long long listen_inode;  /* inode of the listening socket */
	enum cyris_tunnel_state state;
	unsigned connections;             /* open now */
	unsigned long long connections_total;
	unsigned long long bytes_up;      /* trainee -> target */
	unsigned long long bytes_down;    /* target -> trainee */
	unsigned reconnects;              /* sessions re-established */
	long long since;                  /* when it was opened (epoch s) */
	long long updated;                /* when the state was written */
	char cipher[48];                  /* negotiated, e.g. aes128-gcm@openssh.com */
	char last_error[512];             /* "" when none */
	char path[PATH_MAX];              /* the state file */
};

struct cyris_tunnel;

/* A tunnel for @cfg (copied), not yet listening or connected. 0, -EINVAL
 * for an incomplete @cfg, -ENOMEM. */
int cyris_tunnel_new(const struct cyris_tunnel_cfg *cfg, struct cyris_tunnel **ret);

/* Close the session, every connection and the listening socket. The state
 * file is left alone (cyris_tunnel_run() removes it when it stops).
 * NULL is a no-op. */
void cyris_tunnel_free(struct cyris_tunnel *t);

/* The record of the last failure (code 0, empty message if none). */
const struct cyris_error *cyris_tunnel_error(const struct cyris_tunnel *t);

/* Bind and listen on the listen address (SO_REUSEADDR, never SO_REUSEPORT:
 * a port in use is an error). 0, -EADDRINUSE, -EACCES, ... */
int cyris_tunnel_listen(struct cyris_tunnel *t);

/*
 * Connect to the SSH server, check its host key, authenticate, and record
 * the state file (state "up"). @stop_fd (or -1): a readable fd aborts the
 * TCP connect with -EINTR. Errors: -ENOKEY (host key not known),
 * -EKEYREJECTED (host key changed), -EACCES (authentication failed),
 * -ECONNREFUSED / -ETIMEDOUT / -EHOSTUNREACH (TCP), -EPROTO (SSH handshake),
 * with the record in cyris_tunnel_error().
 */
int cyris_tunnel_connect(struct cyris_tunnel *t, int stop_fd);

/* The @stop_fd the process that runs a tunnel passes to connect and run.
 * This changes process-wide signal state, and is meant for that process
 * only (cyris_tunnel_start()'s daemon, or a tool that runs the tunnel in
 * the foreground): SIGPIPE is set to SIG_IGN (sigaction), SIGTERM, SIGINT
 * and SIGHUP are blocked in the calling thread's mask (sigprocmask) and
 * read from the returned signalfd. Returns the fd or -errno. */
int cyris_tunnel_stop_signals(void);

/*
 * Serve the tunnel until @stop_fd becomes readable (e.g. a signalfd): accept
 * connections, forward them, reconnect when the session drops, keep the
 * state file current. On return every connection is closed and the state
 * file removed. 0, or -errno on a fatal error (the listening socket failed).
 */
int cyris_tunnel_run(struct cyris_tunnel *t, int stop_fd);

/*
 * This call forks. Listen (if not done yet), flush every stdio stream
 * (fflush(NULL)), open a pipe and fork twice, with no exec: the first child
 * calls setsid() and forks the daemon, then exits at once; the caller reaps
 * that child (waitpid), so it is left with no child of its own. The daemon
 * changes to "/", closes every fd above 2 except the listening socket and
 * the pipe's write end, calls cyris_tunnel_stop_signals(), connects,
 * authenticates, records its state file and reports the result (-errno and
 * a message) over the pipe. On success it closes the pipe, points fds 0-2
 * at /dev/null and serves (cyris_tunnel_run()) until SIGTERM, SIGINT or
 * SIGHUP; on error it frees the tunnel and _exit(1)s, and the caller reads
 * EOF only once it is gone, so nothing outlives a failed start. Returns
 * only after the report: 0 with the daemon's pid in *@ret_pid, or the
 * daemon's error (-errno, record in cyris_tunnel_error(), sent back whole). The caller's
 * copy of the listening socket is closed; @t can then only be freed.
 */
int cyris_tunnel_start(struct cyris_tunnel *t, pid_t *ret_pid);

/* The tunnel's own view (counters, state) now. */
void cyris_tunnel_get_info(const struct cyris_tunnel *t, struct cyris_tunnel_info *ret);

/*
 * The tunnels recorded under @runtime_dir, of range @range (NULL = all),
 * sorted by range then listen port; each one's state is DEAD when its
 * process is gone (cyris_tunnel_alive() == 0). *@ret is one allocation
 * (free() it). 0 or -errno with a message in @err.
 */
int cyris_tunnel_list(const char *runtime_dir, const char *range,
		      struct cyris_tunnel_info **ret, size_t *ret_n,
		      struct cyris_error *err);

/* 1 when the process recorded in @i is that tunnel: same pid, same start
 * time, and it holds the recorded listening socket; 0 when not. */
int cyris_tunnel_alive(const struct cyris_tunnel_info *i);

/*
 * Stop the tunnel @i: when cyris_tunnel_alive(), SIGTERM it (through a
 * pidfd, so the pid cannot be reused under us) and wait up to @timeout_ms
 * for it to exit (then SIGKILL); remove its state file. Never signals a
 * process that is not the tunnel. Returns 1 when a process was stopped,
 * 0 when only a stale state file was removed, or -errno (message in @err).
 */
int cyris_tunnel_stop(const struct cyris_tunnel_info *i, unsigned timeout_ms,
		      struct cyris_error *err);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
