/* SPDX-License-Identifier: MIT */
/*
 * Tunnels over SSH with libssh: the session (TCP connect, host key,
 * authentication), one poll() loop forwarding every accepted connection
 * over its own direct-tcpip channel, reconnection, and the daemon.
 *
 * Data path. Trainee -> target: read at most the channel's remote window
 * from the socket and hand it to ssh_channel_write(), which then never has
 * to wait; nothing is read while libssh still has unsent output (the SSH
 * socket is full), so memory stays bounded. Target -> trainee: libssh calls
 * on_data() with the decrypted payload, which goes straight to the
 * trainee's socket; what the socket does not take stays in libssh's channel
 * buffer, which also stops the window from growing (back-pressure), and is
 * drained when the socket becomes writable.
 */
#include <dirent.h>
#include <limits.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include <libssh/callbacks.h>
#include <libssh/libssh.h>

#include "cyris/tunnel.h"
#include "tunnel-priv.h"
#include "../base/util.h"

#define MAX_CONNS 1000
#define IO_CHUNK (256 * 1024)
#define CONNECT_TIMEOUT_S 10
#define PUMP_ROUNDS 64           /* libssh reads 4 KiB per round */
#define STATE_DELAY_MS 200       /* counters reach the state file this late */
/* AES-GCM first: with AES instructions it is the cheapest AEAD; then what
 * OpenSSH offers by default. */
#define CIPHERS "aes128-gcm@openssh.com,aes256-gcm@openssh.com," \
		"chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr"

struct conn {
	struct cyris_tunnel *t;
	int fd;
	int pidx;               /* its slot in the poll set, -1 if none */
	ssh_channel ch;
	struct ssh_channel_callbacks_struct cb;
	bool open;              /* the server confirmed the channel */
	bool client_eof;        /* the trainee finished sending (EOF sent on) */
	bool remote_eof, remote_closed;
	bool shut_wr;           /* the trainee's receiving side is shut */
	bool blocked;           /* libssh holds data the trainee did not take */
	bool failed;            /* reset the trainee, close the channel */
	uint8_t *pend;          /* read out of libssh, not yet sent */
	size_t pend_off, pend_len;
	char peer[CYRIS_IPSTRLEN];
	unsigned peer_port;
};

struct cyris_tunnel {
	struct cyris_tunnel_cfg cfg;
	char *identity, *known_hosts, *runtime_dir;
	char to_host[CYRIS_IPSTRLEN];
	struct cyris_error err;   /* cyris_tunnel_error() */
	int lfd;
	ssh_key key;
	ssh_session s;
	ssh_event ev;
	bool lost;              /* the session failed; drop it */
	struct conn **c;
	size_t n, cap;
	uint8_t *buf;
	struct pollfd *pfd;
	size_t pfd_cap;
	unsigned backoff_ms;
	long long next_try, accept_pause, state_due;
	bool dirty;
	struct cyris_tunnel_info info;
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int seterr(struct cyris_tunnel *t, int r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int seterr(struct cyris_tunnel *t, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	r = cyris_error_setv(&t->err, r, fmt, ap);
	va_end(ap);
	return r;
}

/* seterr(), with libssh's message of @s as the detail. */
static int seterr_ssh(struct cyris_tunnel *t, int r, ssh_session s, const char *what, ...)
	__attribute__((format(printf, 4, 5)));
static int seterr_ssh(struct cyris_tunnel *t, int r, ssh_session s, const char *what, ...)
{
	const char *e = ssh_get_error(s);
	va_list ap;

	va_start(ap, what);
	cyris_error_setv(&t->err, r, what, ap);
	va_end(ap);
	if (e && *e)
		cyris_error_detail(&t->err, CYRIS_ERROR_LIBSSH, "%s", e);
	return r;
}

const char *cyris_tunnel_state_str(enum cyris_tunnel_state s)
{
	switch (s) {
	case CYRIS_TUNNEL_STARTING: return "starting";
	case CYRIS_TUNNEL_UP: return "up";
	case CYRIS_TUNNEL_RECONNECTING: return "reconnecting";
	case CYRIS_TUNNEL_DEAD: return "dead";
	}
	return "unknown";
}

/* ---- parsing ------------------------------------------------------------- */

static int parse_port(const char *s, unsigned *ret)
{
	unsigned long v;

	if (cyris_parse_uint(s, 65535, &v) < 0 || v == 0)
		return -EINVAL;
	*ret = (unsigned)v;
	return 0;
}

/* Split "HOST:PORT" / "[V6]:PORT" / "HOST" (when @port_optional) into a
 * host (brackets removed) and the port string (NULL if none). */
static int split_hostport(const char *s, char *host, size_t size, const char **ret_port)
{
	const char *end, *colon;
	size_t n;

	if (s[0] == '[') {
		end = strchr(s, ']');
		if (!end || (end[1] && end[1] != ':'))
			return -EINVAL;
		n = (size_t)(end - s - 1);
		*ret_port = end[1] ? end + 2 : NULL;
		s++;
	} else {
		colon = strrchr(s, ':');
		if (colon && strchr(s, ':') != colon)
			return -EINVAL;          /* a bare IPv6 address needs [] */
		n = colon ? (size_t)(colon - s) : strlen(s);
		*ret_port = colon ? colon + 1 : NULL;
	}
	if (n == 0 || n >= size)
		return -EINVAL;
	memcpy(host, s, n);
	host[n] = '\0';
	return 0;
}

int cyris_tunnel_parse_via(const char *s, struct cyris_tunnel_cfg *cfg)
{
	const char *at = strchr(s, '@'), *port;
	size_t n, i;

	if (!at || at == s || (size_t)(at - s) >= sizeof(cfg->user))
		return -EINVAL;
	n = (size_t)(at - s);
	for (i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", s[i]))
			return -EINVAL;
	if (split_hostport(at + 1, cfg->host, sizeof(cfg->host), &port) < 0)
		return -EINVAL;
	for (i = 0; cfg->host[i]; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:", cfg->host[i]))
			return -EINVAL;
	cfg->port = 22;
	if (port && parse_port(port, &cfg->port) < 0)
		return -EINVAL;
	memcpy(cfg->user, s, n);
	cfg->user[n] = '\0';
	return 0;
}

int cyris_tunnel_parse_listen(const char *s, struct cyris_tunnel_cfg *cfg)
{
	char host[CYRIS_IPSTRLEN];
	const char *port;

	if (!strchr(s, ':')) {
		memset(&cfg->listen_ip, 0, sizeof(cfg->listen_ip));
		return parse_port(s, &cfg->listen_port);
	}
	if (split_hostport(s, host, sizeof(host), &port) < 0 || !port ||
	    cyris_ip_parse(host, &cfg->listen_ip) < 0)
		return -EINVAL;
	return parse_port(port, &cfg->listen_port);
}

int cyris_tunnel_parse_to(const char *s, struct cyris_tunnel_cfg *cfg)
{
	char host[CYRIS_IPSTRLEN];
	const char *port;

	if (split_hostport(s, host, sizeof(host), &port) < 0 || !port ||
	    cyris_ip_parse(host, &cfg->to_ip) < 0)
		return -EINVAL;
	return parse_port(port, &cfg->to_port);
}

/* ---- life cycle ------------------------------------------------------------ */

int cyris_tunnel_new(const struct cyris_tunnel_cfg *cfg, struct cyris_tunnel **ret)
{
	struct cyris_tunnel *t;
	struct cyris_tunnel_info *i;

	if (!cyris_id_valid(cfg->range) || !cfg->user[0] || !cfg->host[0] ||
	    !cfg->listen_port || !cfg->to_port || !cfg->to_ip.family)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->cfg = *cfg;
	t->lfd = -1;
	if (!t->cfg.port)
		t->cfg.port = 22;
	t->identity = cfg->identity ? strdup(cfg->identity) : NULL;
	t->known_hosts = cfg->known_hosts ? strdup(cfg->known_hosts) : NULL;
	t->runtime_dir = cfg->runtime_dir ? strdup(cfg->runtime_dir) : NULL;
	t->buf = malloc(IO_CHUNK);
	if ((cfg->identity && !t->identity) || (cfg->known_hosts && !t->known_hosts) ||
	    (cfg->runtime_dir && !t->runtime_dir) || !t->buf) {
		cyris_tunnel_free(t);
		return -ENOMEM;
	}
	t->cfg.identity = t->identity;
	t->cfg.known_hosts = t->known_hosts;
	t->cfg.runtime_dir = t->runtime_dir;
	cyris_ip_format(&cfg->to_ip, t->to_host, sizeof(t->to_host));

	i = &t->info;
	snprintf(i->range, sizeof(i->range), "%s", cfg->range);
	if (strchr(t->cfg.host, ':'))
		snprintf(i->via, sizeof(i->via), "%s@[%s]:%u", cfg->user, cfg->host, t->cfg.port);
	else
		snprintf(i->via, sizeof(i->via), "%s@%s:%u", cfg->user, cfg->host, t->cfg.port);
	tunnel_format_ep(&cfg->listen_ip, cfg->listen_port, i->listen, sizeof(i->listen));
	tunnel_format_ep(&cfg->to_ip, cfg->to_port, i->target, sizeof(i->target));
	i->listen_port = cfg->listen_port;
	i->state = CYRIS_TUNNEL_STARTING;
	i->since = (long long)time(NULL);
	*ret = t;
	return 0;
}

static void conn_free(struct cyris_tunnel *t, struct conn *c, bool reset);
static void session_close(struct cyris_tunnel *t);

void cyris_tunnel_free(struct cyris_tunnel *t)
{
	if (!t)
		return;
	session_close(t);
	if (t->lfd >= 0)
		close(t->lfd);
	ssh_key_free(t->key);
	free(t->c);
	free(t->pfd);
	free(t->buf);
	free(t->identity);
	free(t->known_hosts);
	free(t->runtime_dir);
	free(t);
}

const struct cyris_error *cyris_tunnel_error(const struct cyris_tunnel *t)
{
	return &t->err;
}

void cyris_tunnel_get_info(const struct cyris_tunnel *t, struct cyris_tunnel_info *ret)
{
	*ret = t->info;
	ret->connections = (unsigned)t->n;
}

int cyris_tunnel_listen(struct cyris_tunnel *t)
{
	int family = t->cfg.listen_ip.family ? t->cfg.listen_ip.family : AF_INET;
	struct sockaddr_storage ss = {0};
	socklen_t sl;
	struct stat st;
	int one = 1, fd;

	if (t->lfd >= 0)
		return 0;
	if (family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)t->cfg.listen_port);
		memcpy(&s6->sin6_addr, t->cfg.listen_ip.a, 16);
		sl = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)t->cfg.listen_port);
		if (t->cfg.listen_ip.family)
			memcpy(&s4->sin_addr, t->cfg.listen_ip.a, 4);
		sl = sizeof(*s4);
	}
	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return seterr(t, -errno, "listen %s: %s", t->info.listen, strerror(errno));
	/* SO_REUSEADDR only skips TIME_WAIT; a socket listening on the port
	 * still makes bind() fail, which is the check open needs. */
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, SOMAXCONN) < 0 ||
	    fstat(fd, &st) < 0) {
		int r = -errno;

		close(fd);
		return seterr(t, r, "listen %s: %s", t->info.listen, strerror(-r));
	}
	t->lfd = fd;
	t->info.listen_inode = (unsigned long long)st.st_ino;
	return 0;
}

/* ---- the SSH session ------------------------------------------------------- */

static void tune_socket(int fd)
{
	int one = 1, idle = 15, intvl = 5, cnt = 3;
	unsigned user_timeout = 30000;

	/* a dead range host is noticed in about 30 s even when idle */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout, sizeof(user_timeout));
}

/* Non-blocking connect to one address, waiting on @stop_fd too. */
static int connect_one(const struct addrinfo *ai, int stop_fd, int *ret_fd)
{
	struct pollfd p[2];
	socklen_t el = sizeof(int);
	int fd, e = 0, r;

	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		goto done;
	if (errno != EINPROGRESS) {
		r = -errno;
		close(fd);
		return r;
	}
	p[0] = (struct pollfd){ .fd = fd, .events = POLLOUT };
	p[1] = (struct pollfd){ .fd = stop_fd, .events = POLLIN };
	do
		r = poll(p, stop_fd >= 0 ? 2 : 1, CONNECT_TIMEOUT_S * 1000);
	while (r < 0 && errno == EINTR);
	if (r <= 0 || (p[1].revents & POLLIN)) {
		close(fd);
		return r < 0 ? -errno : r == 0 ? -ETIMEDOUT : -EINTR;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) < 0)
		e = errno;
	if (e) {
		close(fd);
		return -e;
	}
done:
	tune_socket(fd);
	*ret_fd = fd;
	return 0;
}

static int tcp_connect(struct cyris_tunnel *t, int stop_fd, int *ret_fd)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res, *ai;
	char port[8];
	int r = -EHOSTUNREACH, g;

	snprintf(port, sizeof(port), "%u", t->cfg.port);
	g = getaddrinfo(t->cfg.host, port, &hints, &res);
	if (g != 0)
		return seterr(t, -EHOSTUNREACH, "cannot resolve %s: %s", t->cfg.host,
			      g == EAI_SYSTEM ? strerror(errno) : gai_strerror(g));
	for (ai = res; ai; ai = ai->ai_next) {
		r = connect_one(ai, stop_fd, ret_fd);
		if (r == 0 || r == -EINTR)
			break;
	}
	freeaddrinfo(res);
	if (r < 0)
		return seterr(t, r, "connect to %s:%u: %s", t->cfg.host, t->cfg.port,
			      r == -EINTR ? "interrupted" : strerror(-r));
	return 0;
}

/* Compare the server's key with known_hosts; record a new one if asked. */
static int check_host_key(struct cyris_tunnel *t, ssh_session s)
{
	_cleanup_free_ char *kh = NULL;
	ssh_key srv = NULL;
	unsigned char *hash = NULL;
	char *fp = NULL, *khp = NULL;
	const char *type;
	size_t hlen = 0;
	enum ssh_known_hosts_e k;
	int r = 0;

	if (ssh_get_server_publickey(s, &srv) < 0)
		return seterr_ssh(t, -EPROTO, s, "%s: no host key", t->info.via);
	type = ssh_key_type_to_char(ssh_key_type(srv));
	if (ssh_get_publickey_hash(srv, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) == 0)
		fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
	if (ssh_options_get(s, SSH_OPTIONS_KNOWNHOSTS, &khp) == SSH_OK) {
		kh = strdup(khp);
		ssh_string_free_char(khp);
	}
	k = ssh_session_is_known_server(s);
	switch (k) {
	case SSH_KNOWN_HOSTS_OK:
		break;
	case SSH_KNOWN_HOSTS_CHANGED:
	case SSH_KNOWN_HOSTS_OTHER:
		r = seterr(t, -EKEYREJECTED,
			   "host key of %s:%u has CHANGED (now %s %s), it does not match %s: "
			   "refusing to connect; if the change is expected, remove the old key "
			   "from that file", t->cfg.host, t->cfg.port, type ? type : "?",
			   fp ? fp : "?", kh ? kh : "known_hosts");
		break;
	case SSH_KNOWN_HOSTS_UNKNOWN:
	case SSH_KNOWN_HOSTS_NOT_FOUND:
		if (!t->cfg.accept_new) {
			r = seterr(t, -ENOKEY, "host key of %s:%u (%s %s) is not in %s",
				   t->cfg.host, t->cfg.port, type ? type : "?", fp ? fp : "?",
				   kh ? kh : "known_hosts");
			break;
		}
		if (ssh_session_update_known_hosts(s) != SSH_OK)
			r = seterr_ssh(t, -EIO, s, "recording the host key of %s:%u", t->cfg.host,
				       t->cfg.port);
		break;
	case SSH_KNOWN_HOSTS_ERROR:
	default:
		r = seterr_ssh(t, -EIO, s, "checking the host key of %s:%u", t->cfg.host,
			       t->cfg.port);
		break;
	}
	ssh_string_free_char(fp);
	ssh_clean_pubkey_hash(&hash);
	ssh_key_free(srv);
	return r;
}

static int authenticate(struct cyris_tunnel *t, ssh_session s)
{
	int rc;

	if (t->key)
		rc = ssh_userauth_publickey(s, NULL, t->key);
	else
		rc = ssh_userauth_publickey_auto(s, NULL, NULL);
	if (rc == SSH_AUTH_SUCCESS)
		return 0;
	if (rc == SSH_AUTH_ERROR)
		return seterr_ssh(t, -EPROTO, s, "%s: authentication", t->info.via);
	return seterr(t, -EACCES, "%s: public key authentication failed (%s)", t->info.via,
		      t->identity ? t->identity : "agent and default keys");
}

static int set_options(struct cyris_tunnel *t, ssh_session s, int fd)
{
	int verbosity = SSH_LOG_NOLOG, port = (int)t->cfg.port;
	long timeout = CONNECT_TIMEOUT_S;
	bool no = false;
	socket_t sfd = fd;

	/* No ~/.ssh/config: nothing from it (ProxyCommand, other hosts' keys)
	 * changes what cyris does. */
	if (ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &no) < 0 ||
	    ssh_options_set(s, SSH_OPTIONS_LOG_VERBOSITY, &verbosity) < 0 ||
	    ssh_options_set(s, SSH_OPTIONS_HOST, t->cfg.host) < 0 ||
	    ssh_options_set(s, SSH_OPTIONS_PORT, &port) < 0 ||
	    ssh_options_set(s, SSH_OPTIONS_USER, t->cfg.user) < 0 ||
	    ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &timeout) < 0 ||
	    ssh_options_set(s, SSH_OPTIONS_CIPHERS_C_S, CIPHERS) < 0 ||
	    ssh_options_set(s, SSH_OPTIONS_CIPHERS_S_C, CIPHERS) < 0 ||
	    ssh_options_set(s, SSH_OPTIONS_PASSWORD_AUTH, &no) < 0 ||
	    ssh_options_set(s, SSH_OPTIONS_KBDINT_AUTH, &no) < 0 ||
	    ssh_options_set(s, SSH_OPTIONS_GSSAPI_AUTH, &no) < 0)
		return seterr_ssh(t, -EINVAL, s, "%s: options", t->info.via);
	if (t->known_hosts &&
	    (ssh_options_set(s, SSH_OPTIONS_KNOWNHOSTS, t->known_hosts) < 0 ||
	     ssh_options_set(s, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, t->known_hosts) < 0))
		return seterr_ssh(t, -EINVAL, s, "known hosts %s", t->known_hosts);
	/* the socket is ours: connected with a timeout and tuned */
	if (ssh_options_set(s, SSH_OPTIONS_FD, &sfd) < 0)
		return seterr_ssh(t, -EINVAL, s, "%s: socket", t->info.via);
	return 0;
}

/* Connect, verify, authenticate: on success t->s and t->ev are set. */
static int session_open(struct cyris_tunnel *t, int stop_fd)
{
	ssh_session s;
	const char *cipher;
	int fd = -1, r;

	r = tcp_connect(t, stop_fd, &fd);
	if (r < 0)
		return r;
	s = ssh_new();
	if (!s) {
		close(fd);
		return seterr(t, -ENOMEM, "%s: out of memory", t->info.via);
	}
	r = set_options(t, s, fd);
	if (r < 0) {
		ssh_free(s);
		close(fd);   /* not libssh's until the option is set */
		return r;
	}
	if (ssh_connect(s) != SSH_OK)
		r = seterr_ssh(t, -EPROTO, s, "%s: SSH handshake", t->info.via);
	if (r == 0)
		r = check_host_key(t, s);
	if (r == 0)
		r = authenticate(t, s);
	if (r == 0) {
		t->ev = ssh_event_new();
		if (!t->ev || ssh_event_add_session(t->ev, s) != SSH_OK)
			r = seterr(t, -ENOMEM, "%s: event loop: out of memory", t->info.via);
	}
	if (r < 0) {
		ssh_event_free(t->ev);
		t->ev = NULL;
		ssh_disconnect(s);
		ssh_free(s);   /* closes the socket */
		return r;
	}
	ssh_set_blocking(s, 0);
	cipher = ssh_get_cipher_out(s);
	snprintf(t->info.cipher, sizeof(t->info.cipher), "%s", cipher ? cipher : "");
	t->s = s;
	t->lost = false;
	return 0;
}

static void session_close(struct cyris_tunnel *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		conn_free(t, t->c[i], true);
	t->n = 0;
	if (t->ev && t->s)
		ssh_event_remove_session(t->ev, t->s);
	ssh_event_free(t->ev);
	t->ev = NULL;
	if (t->s) {
		if (!t->lost)
			ssh_disconnect(t->s);
		ssh_free(t->s);
		t->s = NULL;
	}
}

static int load_identity(struct cyris_tunnel *t)
{
	if (!t->identity || t->key)
		return 0;
	if (access(t->identity, R_OK) < 0)
		return seterr(t, -errno, "identity %s: %s", t->identity, strerror(errno));
	if (ssh_pki_import_privkey_file(t->identity, NULL, NULL, NULL, &t->key) != SSH_OK) {
		t->key = NULL;
		return seterr(t, -EINVAL, "identity %s: cannot load the private key "
			      "(a key with a passphrase must come through the agent)", t->identity);
	}
	return 0;
}

static void state_mark(struct cyris_tunnel *t, bool urgent)
{
	long long due = urgent ? 0 : now_ms() + STATE_DELAY_MS;

	if (!t->dirty || due < t->state_due)
		t->state_due = due;
	t->dirty = true;
}

static void state_flush(struct cyris_tunnel *t)
{
	if (!t->runtime_dir)
		return;
	t->info.connections = (unsigned)t->n;
	t->info.updated = (long long)time(NULL);
	(void)tunnel_state_write(t->runtime_dir, &t->info, NULL);
	t->dirty = false;
}

int cyris_tunnel_connect(struct cyris_tunnel *t, int stop_fd)
{
	struct cyris_error err;
	int r;

	cyris_error_clear(&t->err);
	if (t->s)
		return 0;
	r = load_identity(t);
	if (r < 0)
		return r;
	r = session_open(t, stop_fd);
	if (r < 0)
		return r;
	t->info.pid = getpid();
	(void)tunnel_proc_start_time(t->info.pid, &t->info.start_time);
	t->info.state = CYRIS_TUNNEL_UP;
	if (t->runtime_dir) {
		t->info.connections = 0;
		t->info.updated = (long long)time(NULL);
		r = tunnel_state_write(t->runtime_dir, &t->info, &err);
		if (r < 0)
			return seterr(t, r, "state file: %s", err.msg);
	}
	return 0;
}

/* ---- connections ------------------------------------------------------------ */

static int on_data(ssh_session s, ssh_channel ch, void *data, uint32_t len,
		   int is_stderr, void *userdata)
{
	struct conn *c = userdata;
	ssize_t n;

	(void)s;
	(void)ch;
	if (is_stderr || c->failed)
		return (int)len;                  /* nothing to deliver it to */
	if (c->blocked || c->pend_len) {
		c->blocked = true;                /* keep the order: later */
		return 0;
	}
	n = send(c->fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			c->failed = true;
			return (int)len;
		}
		n = 0;
	}
	c->t->info.bytes_down += (unsigned long long)n;
	if ((uint32_t)n < len)
		c->blocked = true;
	return (int)n;
}

static void on_eof(ssh_session s, ssh_channel ch, void *userdata)
{
	struct conn *c = userdata;

	(void)s;
	(void)ch;
	c->remote_eof = true;
}

static void on_close(ssh_session s, ssh_channel ch, void *userdata)
{
	struct conn *c = userdata;

	(void)s;
	(void)ch;
	c->remote_closed = true;
}

static void conn_free(struct cyris_tunnel *t, struct conn *c, bool reset)
{
	if (c->ch) {
		ssh_remove_channel_callbacks(c->ch, &c->cb);
		if (t->s && !t->lost)
			ssh_channel_free(c->ch);   /* sends the close if still open */
	}
	if (reset) {
		/* an aborted forward resets the trainee's connection: a FIN
		 * would look like a complete transfer */
		struct linger l = { .l_onoff = 1, .l_linger = 0 };

		(void)setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	}
	close(c->fd);
	free(c->pend);
	free(c);
}

static void conn_new(struct cyris_tunnel *t, int fd, const struct sockaddr_storage *ss,
		     socklen_t sl)
{
	struct conn *c = calloc(1, sizeof(*c));
	char port[8] = "0";
	int one = 1, rc;

	if (!c || !cyris_grow((void **)&t->c, &t->n, &t->cap, sizeof(*t->c))) {
		free(c);
		close(fd);
		return;
	}
	t->c[t->n - 1] = c;
	c->t = t;
	c->fd = fd;
	c->pidx = -1;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (getnameinfo((const struct sockaddr *)ss, sl, c->peer, sizeof(c->peer), port,
			sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		snprintf(c->peer, sizeof(c->peer), "0.0.0.0");
	c->peer_port = (unsigned)atoi(port);
	t->info.connections_total++;
	state_mark(t, false);
	c->ch = ssh_channel_new(t->s);
	if (!c->ch) {
		c->failed = c->open = true;
		return;
	}
	ssh_callbacks_init(&c->cb);
	c->cb.userdata = c;
	c->cb.channel_data_function = on_data;
	c->cb.channel_eof_function = on_eof;
	c->cb.channel_close_function = on_close;
	ssh_set_channel_callbacks(c->ch, &c->cb);
	rc = ssh_channel_open_forward(c->ch, t->to_host, (int)t->cfg.to_port, c->peer,
				      (int)c->peer_port);
	if (rc == SSH_OK)
		c->open = true;
	else if (rc == SSH_ERROR)
		c->failed = c->open = true;   /* denied, or the session failed */
}

static void do_accept(struct cyris_tunnel *t)
{
	int k;

	for (k = 0; k < 64 && t->n < MAX_CONNS && !t->lost; k++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int fd = accept4(t->lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM)
				t->accept_pause = now_ms() + 100;
			if (errno == ECONNABORTED || errno == EINTR)
				continue;
			return;
		}
		conn_new(t, fd, &ss, sl);
	}
}

/* A channel still opening: confirmed, denied, or not yet. */
static void conn_check_open(struct cyris_tunnel *t, struct conn *c)
{
	int rc;

	if (ssh_channel_is_open(c->ch)) {
		c->open = true;
		return;
	}
	rc = ssh_channel_open_forward(c->ch, t->to_host, (int)t->cfg.to_port, c->peer,
				      (int)c->peer_port);
	if (rc == SSH_OK) {
		c->open = true;
	} else if (rc == SSH_ERROR) {
		c->open = c->failed = true;
		snprintf(t->info.last_error, sizeof(t->info.last_error), "open %s: %s",
			 t->info.target, ssh_get_error(t->s));
		state_mark(t, false);
	}
}

/* Trainee -> target: at most the remote window, so the write is whole. */
static void conn_up(struct cyris_tunnel *t, struct conn *c)
{
	uint32_t win = ssh_channel_window_size(c->ch);
	size_t want = win < IO_CHUNK ? win : IO_CHUNK;
	ssize_t n;
	int w;

	if (!want)
		return;
	n = recv(c->fd, t->buf, want, MSG_DONTWAIT);
	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			c->failed = true;
		return;
	}
	if (n == 0) {
		c->client_eof = true;
		if (ssh_channel_send_eof(c->ch) == SSH_ERROR)
			c->failed = true;
		return;
	}
	w = ssh_channel_write(c->ch, t->buf, (uint32_t)n);
	if (w != (int)n)
		c->failed = true;
	else
		t->info.bytes_up += (unsigned long long)n;
	state_mark(t, false);
}

/* Send what is pending; 0 when all went, -EAGAIN when the socket is full,
 * or the send error. */
static int send_all(struct conn *c, const uint8_t *p, size_t len, size_t *ret_sent)
{
	ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);

	*ret_sent = 0;
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? -EAGAIN : -errno;
	*ret_sent = (size_t)n;
	c->t->info.bytes_down += (unsigned long long)n;
	return (size_t)n == len ? 0 : -EAGAIN;
}

/* Target -> trainee, when the trainee's socket is writable again. */
static void conn_drain(struct cyris_tunnel *t, struct conn *c)
{
	size_t sent;
	int r, n;

	for (;;) {
		if (c->pend_len) {
			r = send_all(c, c->pend + c->pend_off, c->pend_len, &sent);
			c->pend_off += sent;
			c->pend_len -= sent;
			if (r < 0) {
				c->failed = r != -EAGAIN;
				return;
			}
		}
		if (!c->blocked)
			return;
		n = ssh_channel_read_nonblocking(c->ch, t->buf, IO_CHUNK, 0);
		if (n <= 0) {
			c->blocked = false;   /* libssh's buffer is empty */
			if (n == SSH_ERROR && !c->remote_closed)
				c->failed = true;
			return;
		}
		r = send_all(c, t->buf, (size_t)n, &sent);
		if (r == -EAGAIN) {
			if (!c->pend && !(c->pend = malloc(IO_CHUNK))) {
				c->failed = true;
				return;
			}
			memcpy(c->pend, t->buf + sent, (size_t)n - sent);
			c->pend_off = 0;
			c->pend_len = (size_t)n - sent;
			return;
		}
		if (r < 0) {
			c->failed = true;
			return;
		}
	}
}

/* Decide what is left of a connection; true when it was freed. */
static bool conn_step(struct cyris_tunnel *t, struct conn *c)
{
	bool drained = !c->blocked && !c->pend_len;

	if (!c->open)
		return false;          /* freed only once the server answered */
	if (c->failed) {
		conn_free(t, c, true);
		return true;
	}
	if ((c->remote_eof || c->remote_closed) && drained && !c->shut_wr) {
		(void)shutdown(c->fd, SHUT_WR);
		c->shut_wr = true;
	}
	if ((c->remote_closed && drained) || (c->client_eof && c->shut_wr)) {
		conn_free(t, c, false);
		return true;
	}
	return false;
}

/* ---- the loop ------------------------------------------------------------------ */

static bool session_dead(struct cyris_tunnel *t)
{
	return t->lost || (ssh_get_status(t->s) & (SSH_CLOSED | SSH_CLOSED_ERROR)) ||
	       ssh_get_fd(t->s) < 0;
}

/* Let libssh read and process what arrived; true if it did anything. */
static bool pump_ssh(struct cyris_tunnel *t)
{
	bool any = false;
	int i, rc;

	for (i = 0; i < PUMP_ROUNDS; i++) {
		rc = ssh_event_dopoll(t->ev, 0);
		if (rc == SSH_AGAIN)
			break;
		any = true;
		if (rc == SSH_ERROR) {
			t->lost = true;
			break;
		}
	}
	return any;
}

static void session_lost(struct cyris_tunnel *t)
{
	const char *e = t->s ? ssh_get_error(t->s) : NULL;

	snprintf(t->info.last_error, sizeof(t->info.last_error), "session lost: %s",
		 e && *e ? e : "connection closed");
	t->lost = true;
	session_close(t);
	t->info.state = CYRIS_TUNNEL_RECONNECTING;
	t->backoff_ms = CYRIS_TUNNEL_BACKOFF_MIN_MS;
	t->next_try = now_ms() + t->backoff_ms;
	state_mark(t, true);
}

static void try_reconnect(struct cyris_tunnel *t, int stop_fd)
{
	if (session_open(t, stop_fd) == 0) {
		t->info.state = CYRIS_TUNNEL_UP;
		t->info.reconnects++;
		t->info.last_error[0] = '\0';
		t->backoff_ms = CYRIS_TUNNEL_BACKOFF_MIN_MS;
	} else {
		if ((size_t)cyris_error_format(&t->err, t->info.last_error, sizeof(t->info.last_error)) >=
		    sizeof(t->info.last_error))
			memcpy(t->info.last_error + sizeof(t->info.last_error) - 4, "...", 4);
		t->backoff_ms *= 2;
		if (t->backoff_ms > CYRIS_TUNNEL_BACKOFF_MAX_MS)
			t->backoff_ms = CYRIS_TUNNEL_BACKOFF_MAX_MS;
		t->next_try = now_ms() + t->backoff_ms;
	}
	state_mark(t, true);
}

static int min_timeout(int cur, long long due, long long now)
{
	long long d = due - now;

	if (d < 0)
		d = 0;
	if (d > 60000)
		d = 60000;
	return cur < 0 || d < cur ? (int)d : cur;
}

/* Fill the poll set: [0] stop, [1] listen, [2] SSH, then the trainees. */
static int build_poll(struct cyris_tunnel *t, int stop_fd, int *ret_timeout)
{
	long long now = now_ms();
	bool up = t->info.state == CYRIS_TUNNEL_UP && t->s;
	bool wpend = up && (ssh_get_poll_flags(t->s) & SSH_WRITE_PENDING);
	int timeout = -1;
	size_t i, k = 3;

	if (t->pfd_cap < t->n + 3) {
		struct pollfd *p = realloc(t->pfd, (t->n + 3 + 64) * sizeof(*p));

		if (!p)
			return -ENOMEM;
		t->pfd = p;
		t->pfd_cap = t->n + 3 + 64;
	}
	t->pfd[0] = (struct pollfd){ .fd = stop_fd, .events = POLLIN };
	t->pfd[1] = (struct pollfd){ .fd = -1 };
	t->pfd[2] = (struct pollfd){ .fd = -1 };
	if (up) {
		if (t->n < MAX_CONNS && now >= t->accept_pause)
			t->pfd[1] = (struct pollfd){ .fd = t->lfd, .events = POLLIN };
		else if (t->n < MAX_CONNS)
			timeout = min_timeout(timeout, t->accept_pause, now);
		t->pfd[2] = (struct pollfd){ .fd = ssh_get_fd(t->s),
					     .events = POLLIN | (wpend ? POLLOUT : 0) };
	} else if (t->info.state == CYRIS_TUNNEL_RECONNECTING) {
		timeout = min_timeout(timeout, t->next_try, now);
	}
	for (i = 0; i < t->n; i++) {
		struct conn *c = t->c[i];
		short ev = 0;

		c->pidx = -1;
		if (!up)
			continue;
		if (c->open && !c->failed && !c->client_eof && !c->remote_closed && !wpend &&
		    ssh_channel_window_size(c->ch) > 0)
			ev |= POLLIN;
		if (c->blocked || c->pend_len)
			ev |= POLLOUT;
		if (!ev)
			continue;
		c->pidx = (int)k;
		t->pfd[k++] = (struct pollfd){ .fd = c->fd, .events = ev };
	}
	if (t->dirty)
		timeout = min_timeout(timeout, t->state_due, now);
	*ret_timeout = timeout;
	return (int)k;
}

static void serve_conns(struct cyris_tunnel *t, bool ssh_input)
{
	size_t i, j;

	for (i = 0; i < t->n && !t->lost; i++) {
		struct conn *c = t->c[i];
		short re = c->pidx >= 0 ? t->pfd[c->pidx].revents : 0;

		if (!c->open) {
			/* a confirmation may also have been read inside another
			 * libssh call: is_open costs nothing, asking libssh again
			 * (which polls the socket) only when input came */
			if (ssh_channel_is_open(c->ch))
				c->open = true;
			else if (ssh_input)
				conn_check_open(t, c);
			continue;
		}
		if (re & (POLLOUT | POLLERR | POLLHUP))
			conn_drain(t, c);
		if ((re & (POLLIN | POLLERR | POLLHUP)) && !c->failed &&
		    !c->client_eof && !c->remote_closed)
			conn_up(t, c);
	}
	if (t->lost)
		return;
	for (i = j = 0; i < t->n; i++) {
		if (conn_step(t, t->c[i])) {
			state_mark(t, false);
			continue;
		}
		t->c[j++] = t->c[i];
	}
	t->n = j;
}

int cyris_tunnel_run(struct cyris_tunnel *t, int stop_fd)
{
	int r = 0, n, timeout;

	if (t->lfd < 0 || !t->s)
		return seterr(t, -EINVAL, "the tunnel is not listening and connected");
	for (;;) {
		n = build_poll(t, stop_fd, &timeout);
		if (n < 0) {
			r = seterr(t, n, "out of memory");
			break;
		}
		if (poll(t->pfd, (nfds_t)n, timeout) < 0 && errno != EINTR) {
			r = seterr(t, -errno, "poll: %s", strerror(errno));
			break;
		}
		if (t->pfd[0].revents)
			break;
		if (t->info.state == CYRIS_TUNNEL_UP) {
			bool input = t->pfd[2].revents && pump_ssh(t);

			if (t->pfd[1].revents & POLLIN)
				do_accept(t);
			serve_conns(t, input || t->pfd[1].revents);
			if (session_dead(t))
				session_lost(t);
		} else if (t->info.state == CYRIS_TUNNEL_RECONNECTING && now_ms() >= t->next_try) {
			try_reconnect(t, stop_fd);
		}
		if (t->dirty && now_ms() >= t->state_due)
			state_flush(t);
	}
	session_close(t);
	if (t->runtime_dir)
		tunnel_state_remove(&t->info);
	return r;
}

/* ---- the daemon ------------------------------------------------------------------ */

struct ready_msg {
	int32_t err;
	int32_t pid;
	int32_t source;         /* of detail */
	char msg[CYRIS_ERROR_MSG_MAX];     /* the whole record: less than PIPE_BUF, */
	char detail[CYRIS_ERROR_DETAIL_MAX]; /* so one write, nothing cut */
};

/* Close inherited descriptors the daemon has no use for (a pipe the
 * caller's caller waits on, for one). */
static void close_stray_fds(int keep1, int keep2)
{
	DIR *d = opendir("/proc/self/fd");
	int fds[256], n = 0, i;
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)) && n < (int)ARRAY_SIZE(fds)) {
		unsigned long v;

		if (cyris_parse_uint(e->d_name, INT_MAX, &v) < 0)
			continue;
		if ((int)v > 2 && (int)v != keep1 && (int)v != keep2 && (int)v != dirfd(d))
			fds[n++] = (int)v;
	}
	closedir(d);
	for (i = 0; i < n; i++)
		close(fds[i]);
}

static void to_devnull(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return;
	dup2(fd, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	if (fd > 2)
		close(fd);
}

static void report(int wfd, int err, const struct cyris_error *e)
{
	struct ready_msg m = { .err = err, .pid = (int32_t)getpid(), .source = (int32_t)e->source };

	_Static_assert(sizeof(m) <= PIPE_BUF, "the report is one atomic write");
	memcpy(m.msg, e->msg, sizeof(m.msg));
	memcpy(m.detail, e->detail, sizeof(m.detail));
	(void)!write(wfd, &m, sizeof(m));
}

int cyris_tunnel_stop_signals(void)
{
	struct sigaction sa = { .sa_handler = SIG_IGN };
	sigset_t mask;
	int sfd;

	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	return sfd < 0 ? -errno : sfd;
}

static __attribute__((noreturn)) void daemon_main(struct cyris_tunnel *t, int wfd)
{
	int sfd, r;

	(void)!chdir("/");
	close_stray_fds(t->lfd, wfd);
	sfd = cyris_tunnel_stop_signals();
	if (sfd < 0) {
		struct cyris_error e;

		cyris_error_set(&e, sfd, "signalfd: %s", strerror(-sfd));
		report(wfd, sfd, &e);
		_exit(1);
	}
	r = cyris_tunnel_connect(t, sfd);
	report(wfd, r, &t->err);
	if (r == 0) {
		close(wfd);
		to_devnull();
		r = cyris_tunnel_run(t, sfd);
	}
	/* after a failure the pipe stays open until the process is gone:
	 * the caller waits for that, so nothing outlives a failed open */
	close(sfd);
	cyris_tunnel_free(t);
	_exit(r < 0 ? 1 : 0);
}

int cyris_tunnel_start(struct cyris_tunnel *t, pid_t *ret_pid)
{
	struct ready_msg m;
	size_t got = 0;
	ssize_t k;
	int p[2], r, status;
	pid_t pid;

	r = cyris_tunnel_listen(t);
	if (r < 0)
		return r;
	if (pipe2(p, O_CLOEXEC) < 0)
		return seterr(t, -errno, "pipe: %s", strerror(errno));
	fflush(NULL);   /* or the children would write the caller's buffers again */
	pid = fork();
	if (pid < 0) {
		r = -errno;
		close(p[0]);
		close(p[1]);
		return seterr(t, r, "fork: %s", strerror(-r));
	}
	if (pid == 0) {
		/* the intermediate child: a new session, then the daemon, so
		 * that the daemon is nobody's child and has no terminal */
		close(p[0]);
		setsid();
		pid = fork();
		if (pid != 0)
			_exit(pid < 0 ? 1 : 0);
		daemon_main(t, p[1]);
	}
	close(p[1]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	close(t->lfd);   /* the daemon has it */
	t->lfd = -1;
	for (;;) {   /* the report, then EOF (at once, or when a failed daemon is gone) */
		char rest[64];

		if (got < sizeof(m))
			k = read(p[0], (char *)&m + got, sizeof(m) - got);
		else
			k = read(p[0], rest, sizeof(rest));
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		if (got < sizeof(m))
			got += (size_t)k;
	}
	close(p[0]);
	if (got < sizeof(m))
		return seterr(t, -ECHILD, "the tunnel process ended before it was ready");
	m.msg[sizeof(m.msg) - 1] = '\0';
	m.detail[sizeof(m.detail) - 1] = '\0';
	if (m.err < 0) {
		cyris_error_set(&t->err, m.err, "%s", m.msg);   /* as the daemon had it */
		if (m.detail[0])
			cyris_error_detail(&t->err, (enum cyris_error_source)m.source, "%s", m.detail);
		return m.err;
	}
	*ret_pid = (pid_t)m.pid;
	t->info.pid = (pid_t)m.pid;
	t->info.state = CYRIS_TUNNEL_UP;
	return 0;
}
