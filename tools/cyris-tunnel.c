/* SPDX-License-Identifier: MIT */
/*
 * cyris-tunnel — trainee entry points: a local port forwarded over SSH
 * (libssh, direct-tcpip) to IP:PORT behind a range host, with a state file
 * per tunnel so that list and close find exactly that process.
 */
#include <signal.h>
#include <stdio.h>

#include "cli.h"
#include "cyris/conf.h"
#include "cyris/tag.h"
#include "cyris/tunnel.h"
#include "../net/base/util.h"

static const char help[] =
"Usage: cyris-tunnel [-j] [-p] COMMAND\n"
"\n"
"Trainee entry points: a local TCP port forwarded over SSH to IP:PORT behind\n"
"a range host, in-process (libssh), checked, reconnecting, and recorded so\n"
"that it can be listed and closed exactly.\n"
"\n"
"Commands:\n"
"  open R --via USER@HOST[:PORT] --listen [ADDR:]PORT --to IP:PORT\n"
"       [--identity KEYFILE] [--known-hosts FILE] [--accept-new] [--foreground]\n"
"                        listen on [ADDR:]PORT (default address 0.0.0.0) and\n"
"                        forward each connection through USER@HOST to IP:PORT;\n"
"                        returns once the port is bound and the SSH session is\n"
"                        authenticated, leaving the tunnel in the background\n"
"  list [R]              open tunnels: range, listen, target, via, pid,\n"
"                        connections, bytes, state (up, reconnecting, dead)\n"
"  close R [PORT]        stop R's tunnel(s) (the one listening on PORT) by\n"
"                        their recorded pid, and remove their state\n"
"\n"
"Options:\n"
"  -j, --json            JSON output (open, list, close)\n"
"  -p, --pretty          indent JSON\n"
"      --via USER@HOST[:PORT]   the SSH server (port 22 by default)\n"
"      --listen [ADDR:]PORT     where trainees connect\n"
"      --to IP:PORT             where the server forwards to\n"
"      --identity KEYFILE       the private key; without it the agent\n"
"                               (SSH_AUTH_SOCK), then ~/.ssh/id_*\n"
"      --known-hosts FILE       the only known_hosts file read (default\n"
"                               ~/.ssh/known_hosts and /etc/ssh/ssh_known_hosts)\n"
"      --accept-new             record a host key seen for the first time\n"
"      --foreground             stay in the foreground (stop with SIGTERM/SIGINT)\n"
"  -h, --help            this text;  -V, --version\n"
"\n"
"Host keys are checked strictly: an unknown key is refused unless\n"
"--accept-new, a changed key always. Authentication is by public key only;\n"
"there is no password option. When the SSH session drops, the tunnel\n"
"reconnects (backoff 0.25 s doubling to 30 s) and keeps its port. close\n"
"signals a pid only if it is still that tunnel (start time and listening\n"
"socket match); it never touches another process.\n"
"\n"
"Environment:\n"
"  CYRIS_RUNTIME_DIR     state directory (tunnels/ under it); default\n"
"                        /run/cyris as root, $XDG_RUNTIME_DIR/cyris otherwise\n"
"  XDG_RUNTIME_DIR       see above\n"
"  CYRIS_CONFIG          configuration file (default /etc/cyris/cyris.conf)\n"
"  SSH_AUTH_SOCK         the SSH agent, used when --identity is not given\n"
"\n"
"Exit status: 0 success, 1 an operation failed, 2 usage error.\n";

struct opts {
	const char *via, *listen, *to, *identity, *known_hosts;
	bool accept_new, foreground;
};

enum { O_VIA = 0x100, O_LISTEN, O_TO, O_IDENTITY, O_KNOWN_HOSTS, O_ACCEPT_NEW, O_FOREGROUND };

static const struct option long_opts[] = {
	{ "via", required_argument, NULL, O_VIA },
	{ "listen", required_argument, NULL, O_LISTEN },
	{ "to", required_argument, NULL, O_TO },
	{ "identity", required_argument, NULL, O_IDENTITY },
	{ "known-hosts", required_argument, NULL, O_KNOWN_HOSTS },
	{ "accept-new", no_argument, NULL, O_ACCEPT_NEW },
	{ "foreground", no_argument, NULL, O_FOREGROUND },
	{ 0 },
};

static int handle_opt(struct cli *c, int opt, const char *arg)
{
	struct opts *o = c->data;

	switch (opt) {
	case O_VIA: o->via = arg; break;
	case O_LISTEN: o->listen = arg; break;
	case O_TO: o->to = arg; break;
	case O_IDENTITY: o->identity = arg; break;
	case O_KNOWN_HOSTS: o->known_hosts = arg; break;
	case O_ACCEPT_NEW: o->accept_new = true; break;
	case O_FOREGROUND: o->foreground = true; break;
	default: return cli_usage(c, "unknown option");
	}
	return CLI_OK;
}

static const struct cli_ext ext = { .longopts = long_opts, .handle = handle_opt };

static int check_common(struct cli *c)
{
	if (c->netns)
		return cli_usage(c, "-n: a tunnel runs in the namespace it is started in");
	if (c->force)
		return cli_usage(c, "--force: close never signals a process that is not the tunnel");
	return CLI_OK;
}

static int no_open_opts(struct cli *c, const char *cmd)
{
	struct opts *o = c->data;

	if (o->via || o->listen || o->to || o->identity || o->known_hosts ||
	    o->accept_new || o->foreground)
		return cli_usage(c, "%s: --via, --listen, --to, --identity, --known-hosts, "
				 "--accept-new and --foreground belong to open", cmd);
	return CLI_OK;
}

static int parse_range(struct cli *c, const char *s)
{
	if (!cyris_id_valid(s))
		return cli_usage(c, "range '%s' is not a valid id (1-%d of A-Z a-z 0-9 _ . -)",
				 s, CYRIS_ID_MAX);
	return CLI_OK;
}

/* The configuration's runtime directory into @dir. */
static int runtime_dir(struct cli *c, char dir[PATH_MAX])
{
	struct cyris_conf *conf = cyris_conf_new();
	struct cyris_error err;
	int r;

	if (!conf)
		return cli_err(c, -ENOMEM, "configuration");
	r = cyris_conf_load(conf, &err);
	if (r < 0)
		cli_failf(c, &err, "configuration");
	else if ((r = cyris_conf_get(conf, "runtime_dir", dir, PATH_MAX)) < 0)
		cli_err(c, r, "configuration: runtime_dir");
	cyris_conf_free(conf);
	return r < 0 ? CLI_FAIL : CLI_OK;
}

static void print_info_json(struct json *j, const struct cyris_tunnel_info *i)
{
	json_obj_open(j, NULL);
	json_str(j, "range", i->range);
	json_str(j, "listen", i->listen);
	json_uint(j, "listen_port", i->listen_port);
	json_str(j, "target", i->target);
	json_str(j, "via", i->via);
	json_int(j, "pid", i->pid);
	json_str(j, "state", cyris_tunnel_state_str(i->state));
	json_uint(j, "connections", i->connections);
	json_uint(j, "connections_total", i->connections_total);
	json_uint(j, "bytes_up", i->bytes_up);
	json_uint(j, "bytes_down", i->bytes_down);
	json_uint(j, "bytes", i->bytes_up + i->bytes_down);
	json_uint(j, "reconnects", i->reconnects);
	json_int(j, "since", i->since);
	json_int(j, "updated", i->updated);
	json_str(j, "cipher", i->cipher[0] ? i->cipher : NULL);
	json_str(j, "last_error", i->last_error[0] ? i->last_error : NULL);
	json_str(j, "state_file", i->path);
	json_obj_close(j);
}

static int open_failed(struct cli *c, const char *range, int r, const struct cyris_error *e)
{
	struct cyris_error x = *e;

	if (!x.msg[0])
		cyris_error_set(&x, r, "%s", strerror(-r));
	if (r == -ENOKEY)
		cyris_error_append(&x, "; use --accept-new to record it");
	return cli_failf(c, &x, "open %s", range);
}

/* In the foreground: this process is the tunnel, until SIGTERM/SIGINT. */
static int open_foreground(struct cli *c, struct cyris_tunnel *t, const char *range)
{
	struct cyris_tunnel_info info;
	int sfd = cyris_tunnel_stop_signals(), r;

	if (sfd < 0)
		return cli_err(c, sfd, "signalfd");
	r = cyris_tunnel_listen(t);
	if (r == 0)
		r = cyris_tunnel_connect(t, sfd);
	if (r < 0) {
		close(sfd);
		return open_failed(c, range, r, cyris_tunnel_error(t));
	}
	if (c->json) {
		struct json *j = cli_json(c);

		cyris_tunnel_get_info(t, &info);
		print_info_json(j, &info);
		json_end(j);
	}
	fflush(stdout);
	r = cyris_tunnel_run(t, sfd);
	close(sfd);
	if (r < 0)
		return cli_failf(c, cyris_tunnel_error(t), "%s", range);
	return CLI_OK;
}

static int cmd_open(struct cli *c, int argc, char **argv)
{
	struct opts *o = c->data;
	struct cyris_tunnel_cfg cfg = {0};
	struct cyris_tunnel_info info;
	struct cyris_tunnel *t = NULL;
	char dir[PATH_MAX];
	pid_t pid;
	int r;

	(void)argc;
	if ((r = check_common(c)) || (r = parse_range(c, argv[0])))
		return r;
	if (!o->via || !o->listen || !o->to)
		return cli_usage(c, "open: --via, --listen and --to are required");
	if (cyris_tunnel_parse_via(o->via, &cfg) < 0)
		return cli_usage(c, "--via '%s' is not USER@HOST[:PORT]", o->via);
	if (cyris_tunnel_parse_listen(o->listen, &cfg) < 0)
		return cli_usage(c, "--listen '%s' is not [ADDR:]PORT (port 1-65535)", o->listen);
	if (cyris_tunnel_parse_to(o->to, &cfg) < 0)
		return cli_usage(c, "--to '%s' is not IP:PORT (port 1-65535)", o->to);
	if ((o->identity && !*o->identity) || (o->known_hosts && !*o->known_hosts))
		return cli_usage(c, "--identity and --known-hosts need a file name");
	if ((r = runtime_dir(c, dir)))
		return r;
	snprintf(cfg.range, sizeof(cfg.range), "%s", argv[0]);
	cfg.identity = o->identity;
	cfg.known_hosts = o->known_hosts;
	cfg.accept_new = o->accept_new;
	cfg.runtime_dir = dir;
	r = cyris_tunnel_new(&cfg, &t);
	if (r < 0)
		return cli_err(c, r, "open %s", argv[0]);
	if (o->foreground) {
		r = open_foreground(c, t, argv[0]);
		cyris_tunnel_free(t);
		return r;
	}
	r = cyris_tunnel_start(t, &pid);
	if (r < 0) {
		r = open_failed(c, argv[0], r, cyris_tunnel_error(t));
		cyris_tunnel_free(t);
		return r;
	}
	if (c->json) {
		struct json *j = cli_json(c);

		cyris_tunnel_get_info(t, &info);
		print_info_json(j, &info);
		json_end(j);
	}
	cyris_tunnel_free(t);
	return CLI_OK;
}

static int list_tunnels(struct cli *c, const char *range, struct cyris_tunnel_info **ret,
			size_t *ret_n)
{
	struct cyris_error err;
	char dir[PATH_MAX];
	int r;

	if ((r = runtime_dir(c, dir)))
		return r;
	if (cyris_tunnel_list(dir, range, ret, ret_n, &err) < 0)
		return cli_failf(c, &err, "list");
	return CLI_OK;
}

static int cmd_list(struct cli *c, int argc, char **argv)
{
	_cleanup_free_ struct cyris_tunnel_info *v = NULL;
	size_t n = 0, i;
	int r;

	if ((r = check_common(c)) || (r = no_open_opts(c, "list")) || (argc == 1 && (r = parse_range(c, argv[0]))))
		return r;
	if ((r = list_tunnels(c, argc ? argv[0] : NULL, &v, &n)))
		return r;
	if (c->json) {
		struct json *j = cli_json(c);

		json_obj_open(j, NULL);
		json_arr_open(j, "tunnels");
		for (i = 0; i < n; i++)
			print_info_json(j, &v[i]);
		json_arr_close(j);
		json_obj_close(j);
		json_end(j);
		return CLI_OK;
	}
	if (n)
		printf("%-10s %-22s %-22s %-28s %7s %5s %12s %s\n", "RANGE", "LISTEN", "TARGET",
		       "VIA", "PID", "CONNS", "BYTES", "STATE");
	for (i = 0; i < n; i++) {
		printf("%-10s %-22s %-22s %-28s %7d %5u %12llu %s\n", v[i].range, v[i].listen,
		       v[i].target, v[i].via, (int)v[i].pid, v[i].connections,
		       v[i].bytes_up + v[i].bytes_down, cyris_tunnel_state_str(v[i].state));
		if (v[i].last_error[0] && v[i].state != CYRIS_TUNNEL_UP)
			printf("  last error: %s\n", v[i].last_error);
	}
	return CLI_OK;
}

static int cmd_close(struct cli *c, int argc, char **argv)
{
	_cleanup_free_ struct cyris_tunnel_info *v = NULL;
	unsigned long port = 0;
	size_t n = 0, i, matched = 0;
	struct json *j = NULL;
	struct cyris_error err;
	int r, rc = CLI_OK;
	bool other;

	if ((r = check_common(c)) || (r = no_open_opts(c, "close")) || (r = parse_range(c, argv[0])))
		return r;
	if (argc == 2 && (cyris_parse_uint(argv[1], 65535, &port) < 0 || port == 0))
		return cli_usage(c, "close: PORT '%s' is not a port (1-65535)", argv[1]);
	if ((r = list_tunnels(c, argv[0], &v, &n)))
		return r;
	if (c->json) {
		j = cli_json(c);
		json_obj_open(j, NULL);
		json_arr_open(j, "closed");
	}
	for (i = 0; i < n; i++) {
		if (port && v[i].listen_port != port)
			continue;
		matched++;
		r = cyris_tunnel_stop(&v[i], 10000, &err);
		if (r < 0) {
			rc = cli_failf(c, &err, "close %s %s", v[i].range, v[i].listen);
			continue;
		}
		/* a stale state file's pid may name another process now */
		other = r == 0 && (kill(v[i].pid, 0) == 0 || errno == EPERM);
		if (j) {
			json_obj_open(j, NULL);
			json_str(j, "range", v[i].range);
			json_str(j, "listen", v[i].listen);
			json_int(j, "pid", v[i].pid);
			json_bool(j, "was_running", r == 1);
			json_bool(j, "pid_is_other_process", other);
			json_obj_close(j);
		} else if (other) {
			printf("%s %s: not running; pid %d is another process (left alone); state removed\n",
			       v[i].range, v[i].listen, (int)v[i].pid);
		} else if (r == 0) {
			printf("%s %s: was not running (pid %d); state removed\n", v[i].range,
			       v[i].listen, (int)v[i].pid);
		}
	}
	if (j) {
		json_arr_close(j);
		json_obj_close(j);
		json_end(j);
	}
	if (!matched) {
		if (port)
			cli_msg(c, "close: range %s has no tunnel on port %lu", argv[0], port);
		else
			cli_msg(c, "close: range %s has no tunnel", argv[0]);
		return CLI_FAIL;
	}
	return rc;
}

static const struct cli_cmd cmds[] = {
	{ "open", 1, 1, cmd_open },
	{ "list", 0, 1, cmd_list },
	{ "close", 1, 2, cmd_close },
	{ 0 },
};

int main(int argc, char **argv)
{
	struct opts o = {0};
	struct cli c = {
		.prog = "cyris-tunnel",
		.help = help,
		.cmds = cmds,
		.ext = &ext,
		.data = &o,
	};

	return cli_main(&c, argc, argv);
}
