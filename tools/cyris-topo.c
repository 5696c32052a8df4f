/* SPDX-License-Identifier: MIT */
/*
 * cyris-topo — a CyRIS range file becomes a running, isolated topology, and
 * goes away cleanly. A thin layer over net/range.c, plan.c, topo.c, probe.c.
 */
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli.h"
#include "cyris/aws.h"
#include "cyris/conf.h"
#include "cyris/fw.h"
#include "cyris/link.h"
#include "cyris/plan.h"
#include "cyris/range.h"
#include "cyris/topo.h"
#include "cyris/vm.h"
#include "../net/base/util.h"

static const char help[] =
"Usage: cyris-topo [-j] [-p] [-n NETNS] COMMAND\n"
"\n"
"A CyRIS range file (YAML) becomes a running, isolated topology on this host:\n"
"bridges, guests, firewall, entry points; and goes away again, found from the\n"
"kernel's tags alone.\n"
"\n"
"Commands:\n"
"  check FILE [--provider netns|libvirt]\n"
"                                  validate only: everything plan and up check\n"
"                                  of the file, against the configuration\n"
"  plan FILE [--instance I] [--host ID]\n"
"                                  everything up would create: kernel names,\n"
"                                  subnets, addresses, MACs, resolved rules\n"
"  plan FILE --emit bridge|fw|vm [--gateway NAME] [--instance I] [--host ID]\n"
"  plan FILE --emit aws [--ssh-from CIDR] [--ssh-key FILE]... [--image AMI]\n"
"                                  the plan as input for one tool: a batch for\n"
"                                  cyris-bridge -b -, rules for cyris-fw apply R -\n"
"                                  (the host's, or those a gateway guest enforces),\n"
"                                  cyris-vm -b - command lines; with --provider\n"
"                                  libvirt, the bridge batch leaves the guests\n"
"                                  to cyris-vm; aws: a cyris-aws -b - batch that\n"
"                                  makes what up --provider aws makes (it reads\n"
"                                  EC2 to resolve images, and changes nothing)\n"
"  up FILE [--provider netns|libvirt|aws] [--host ID]\n"
"       [--ssh-from CIDR] [--ssh-key FILE]... [--image AMI]\n"
"                                  build it, as a transaction: the first failure\n"
"                                  (or Ctrl-C) undoes everything done; entry\n"
"                                  points get host ports from 60000 up that no\n"
"                                  host service listens on, for clients outside\n"
"                                  the range (forwarding on the default route's\n"
"                                  interface only, when the host does not forward)\n"
"                                  with --provider aws (or a file whose guests are\n"
"                                  all basevm_type: aws) on EC2 instead: a VPC per\n"
"                                  instance, everything tagged; entry points get an\n"
"                                  Elastic IP with port 22 open to --ssh-from only\n"
"  down R [--provider aws]         remove everything of range R on this host,\n"
"                                  its tunnels first (on EC2: everything tagged R)\n"
"  show R [--dot] [--provider aws] the live range (-j JSON, --dot Graphviz)\n"
"  ls [--provider aws]             ranges present on this host (in the region)\n"
"                                  Without --provider, down and show of a range not\n"
"                                  on this host, and ls, look on AWS too when AWS is\n"
"                                  configured (credentials and a region/endpoint);\n"
"                                  --provider netns keeps them on this host\n"
"  probe R [--timeout MS]          try each allowed flow and a sample of denied\n"
"                                  ones between guests; a table against the rules\n"
"\n"
"Options:\n"
"  -j, --json            JSON output\n"
"  -p, --pretty          indent JSON\n"
"  -n, --netns NETNS     the host's side lives in this namespace\n"
"  -h, --help            this text;  -V, --version\n"
"\n"
"Environment: CYRIS_CONFIG (the configuration file, see cyris.conf(5)),\n"
"CYRIS_SUBNET_POOL, CYRIS_SUBNET_SIZE, CYRIS_IFNAME_PREFIX, CYRIS_LIBVIRT_URI, ...;\n"
"CYRIS_TOPO_FAIL_AT=N makes up fail before its step N (tests of the rollback);\n"
"CYRIS_TOPO_DOWN_FAIL_AT=N makes down fail before its step N of 4 (tunnels and\n"
"guests, links, namespaces, firewall table); CYRIS_TOPO_STEP_DELAY_MS=MS slows every\n"
"step of up (tests of interruptions); CYRIS_TOPO_THREADS=1|2 makes up build its\n"
"netns guests on one thread or two (default: two for 32 or more); CYRIS_TOPO_TIMING=1\n"
"prints the time each kind of step of up or down took, on stderr. With --provider aws:\n"
"AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_PROFILE,\n"
"AWS_REGION, AWS_ENDPOINT_URL_EC2, ... as cyris-aws(8) says.\n"
"\n"
"up and down hold the host lock (a file in RUNTIME_DIR, see cyris-topo(8)):\n"
"ranges brought up at once are built one after the other, and a down waits\n"
"for an up that is running.\n"
"\n"
"Exit status: 0 success, 1 an operation failed (or probe saw a flow disagree\n"
"with the rules), 2 usage error, 128+N when signal N (SIGINT, SIGTERM, SIGHUP)\n"
"interrupted up or down.\n";

/* options of the commands */
static struct {
	unsigned instance;
	const char *emit, *gateway, *provider, *host, *ssh_from, *image;
	const char *ssh_keys[16];
	size_t n_ssh_keys;
	bool dot;
	unsigned timeout;
} opt = { .timeout = 500 };

enum { O_INSTANCE = 1000, O_EMIT, O_GATEWAY, O_PROVIDER, O_HOST, O_DOT, O_TIMEOUT, O_SSH_FROM, O_SSH_KEY, O_IMAGE };

static const struct option longopts[] = {
	{ "instance", required_argument, NULL, O_INSTANCE },
	{ "emit", required_argument, NULL, O_EMIT },
	{ "gateway", required_argument, NULL, O_GATEWAY },
	{ "provider", required_argument, NULL, O_PROVIDER },
	{ "host", required_argument, NULL, O_HOST },
	{ "dot", no_argument, NULL, O_DOT },
	{ "timeout", required_argument, NULL, O_TIMEOUT },
	{ "ssh-from", required_argument, NULL, O_SSH_FROM },
	{ "ssh-key", required_argument, NULL, O_SSH_KEY },
	{ "image", required_argument, NULL, O_IMAGE },
	{ 0 },
};

static int handle_opt(struct cli *c, int o, const char *arg)
{
	unsigned long v;

	switch (o) {
	case O_INSTANCE:
		if (cyris_parse_uint(arg, 1000, &v) < 0 || !v)
			return cli_usage(c, "--instance takes a number in 1..1000");
		opt.instance = (unsigned)v;
		return 0;
	case O_EMIT:
		if (!streq(arg, "bridge") && !streq(arg, "fw") && !streq(arg, "vm") && !streq(arg, "aws"))
			return cli_usage(c, "--emit takes bridge, fw, vm or aws");
		opt.emit = arg;
		return 0;
	case O_GATEWAY: opt.gateway = arg; return 0;
	case O_PROVIDER:
		if (!streq(arg, "netns") && !streq(arg, "libvirt") && !streq(arg, "aws"))
			return cli_usage(c, "--provider takes netns, libvirt or aws");
		opt.provider = arg;
		return 0;
	case O_HOST:
		if (!cyris_id_valid(arg))
			return cli_usage(c, "--host '%s' is not a host id", arg);
		opt.host = arg;
		return 0;
	case O_DOT: opt.dot = true; return 0;
	case O_SSH_FROM: opt.ssh_from = arg; return 0;
	case O_IMAGE: opt.image = arg; return 0;
	case O_SSH_KEY:
		if (opt.n_ssh_keys >= ARRAY_SIZE(opt.ssh_keys))
			return cli_usage(c, "more than %zu --ssh-key", ARRAY_SIZE(opt.ssh_keys));
		opt.ssh_keys[opt.n_ssh_keys++] = arg;
		return 0;
	case O_TIMEOUT:
		if (cyris_parse_uint(arg, 60000, &v) < 0 || v < 10)
			return cli_usage(c, "--timeout takes milliseconds in 10..60000");
		opt.timeout = (unsigned)v;
		return 0;
	}
	return CLI_USAGE;
}

static const struct cli_ext ext = { .longopts = longopts, .handle = handle_opt };

static struct cyris_conf *conf;    /* load_conf(), freed by main */

static int load_conf(struct cli *c)
{
	struct cyris_error err;
	int r;

	if (!conf && !(conf = cyris_conf_new()))
		return cli_err(c, -ENOMEM, "configuration");
	r = cyris_conf_load(conf, &err);
	return r < 0 ? cli_fail(c, &err) : CLI_OK;
}

static int load_range(struct cli *c, const char *file, struct cyris_range **ret)
{
	struct cyris_error err;
	int r = cyris_range_load(file, ret, &err);

	(void)c;
	/* FILE:LINE:COLUMN: message, like a compiler */
	return r < 0 ? cli_fail_input(&err) : CLI_OK;
}

static struct cyris_topo_opts topo_opts(struct cli *c)
{
	struct cyris_topo_opts o = {
		.provider = opt.provider,
		.host = opt.host,
		.instance = opt.instance,
		.netns = c->netns,
	};

	return o;
}

/* ---- check / plan ----------------------------------------------------------- */

/* What up refuses of a plan for the provider: libvirt guests cannot be
 * given rules from inside, so no rule may be enforced in a gateway guest. */
static int check_provider(const struct cyris_plan *p, const char *file)
{
	size_t i;

	if (!opt.provider || !streq(opt.provider, "libvirt"))
		return CLI_OK;
	for (i = 0; i < p->n_rules; i++) {
		const struct cyris_plan_rule *ru = &p->rules[i];

		if (ru->at < 0)
			continue;
		if (ru->mark.line)
			fprintf(stderr, "%s:%u:%u: rule '%s': enforced in gateway guest %s, and rules inside a "
				"VM gateway need the netns provider\n", file, ru->mark.line, ru->mark.column,
				ru->orig, p->guests[ru->at].name);
		else
			fprintf(stderr, "%s: entry point %s is a gateway guest: its rule would be enforced "
				"inside it, and rules inside a VM gateway need the netns provider\n", file,
				p->guests[ru->at].name);
		return CLI_FAIL;
	}
	return CLI_OK;
}

static int cmd_check(struct cli *c, int argc, char **argv)
{
	/* the plan of an empty host, and what each host of a multi-host site
	 * would need: everything plan and up check of the file */
	struct cyris_plan_opts po = { .check = true };
	struct cyris_range *r;
	struct cyris_plan *p;
	struct cyris_error err;
	int rc;

	(void)argc;
	if ((rc = load_conf(c)) || (rc = load_range(c, argv[0], &r)))
		return rc;
	if (cyris_plan_build(r, conf, &po, &p, &err) < 0) {
		cyris_range_free(r);
		return cli_fail_input(&err);
	}
	rc = check_provider(p, r->file);
	cyris_plan_free(p);
	if (rc) {
		cyris_range_free(r);
		return rc;
	}
	if (c->json) {
		struct json *j = cli_json(c);
		size_t i, nn = 0, ng = 0;

		for (i = 0; i < r->n_sites; i++) {
			nn += r->sites[i].n_nets;
			for (size_t k = 0; k < r->sites[i].n_guests; k++)
				ng += r->sites[i].guests[k].number;
		}
		json_obj_open(j, NULL);
		json_str(j, "file", argv[0]);
		json_str(j, "range", r->id);
		json_uint(j, "networks", nn);
		json_uint(j, "guests_per_instance", ng);
		json_bool(j, "valid", true);
		json_obj_close(j);
		json_end(j);
	} else {
		printf("%s: range %s is valid\n", argv[0], r->id);
	}
	cyris_range_free(r);
	return CLI_OK;
}

static void fmt_mac(const uint8_t m[6], char buf[18])
{
	cyris_mac_format(m, buf);
}

static void plan_json(struct cli *c, const struct cyris_plan *p)
{
	struct json *j = cli_json(c);
	char b[CYRIS_PREFIXSTRLEN], mac[18];
	size_t i, k;

	json_obj_open(j, NULL);
	json_str(j, "range", p->range);
	json_str(j, "host", p->host[0] ? p->host : NULL);
	json_uint(j, "instances", p->instances);
	json_uint(j, "steps", cyris_topo_steps(p));
	json_arr_open(j, "networks");
	for (i = 0; i < p->n_nets; i++) {
		const struct cyris_plan_net *n = &p->nets[i];

		json_obj_open(j, NULL);
		json_str(j, "name", n->name);
		json_uint(j, "instance", n->instance);
		json_str(j, "bridge", n->bridge);
		json_str(j, "altname", n->altname);
		json_str(j, "subnet", cyris_prefix_format(&n->subnet, b, sizeof(b)));
		json_str(j, "gateway", cyris_ip_format(&n->gateway, b, sizeof(b)));
		json_str(j, "gateway_guest", n->gw_guest >= 0 ? p->guests[n->gw_guest].name : NULL);
		json_str(j, "host_address", cyris_prefix_format(&n->host_addr, b, sizeof(b)));
		json_bool(j, "host_routes", n->host_routes);
		json_bool(j, "local", n->local);
		if (n->vni) {
			json_uint(j, "vni", n->vni);
			json_str(j, "vxlan", n->vxlan);
			json_arr_open(j, "remotes");
			for (k = 0; k < n->n_remotes; k++)
				json_str(j, NULL, cyris_ip_format(&n->remotes[k], b, sizeof(b)));
			json_arr_close(j);
		}
		json_obj_close(j);
	}
	json_arr_close(j);
	json_arr_open(j, "guests");
	for (i = 0; i < p->n_guests; i++) {
		const struct cyris_plan_guest *g = &p->guests[i];

		json_obj_open(j, NULL);
		json_str(j, "guest_id", g->guest_id);
		json_uint(j, "index", g->index);
		json_uint(j, "instance", g->instance);
		json_str(j, "name", g->name);
		json_str(j, "host", g->host[0] ? g->host : NULL);
		json_bool(j, "local", g->local);
		json_bool(j, "gateway", g->gateway);
		json_bool(j, "entry_point", g->entry_point);
		json_arr_open(j, "nics");
		for (k = 0; k < g->n_nics; k++) {
			const struct cyris_plan_nic *n = &g->nics[k];

			json_obj_open(j, NULL);
			json_str(j, "nic", n->nic);
			json_str(j, "network", p->nets[n->net].name);
			json_str(j, "ip", cyris_prefix_format(&n->addr, b, sizeof(b)));
			fmt_mac(n->mac, mac);
			json_str(j, "mac", mac);
			json_str(j, "host_ifname", n->host_ifname);
			json_obj_close(j);
		}
		json_arr_close(j);
		json_obj_close(j);
	}
	json_arr_close(j);
	json_arr_open(j, "rules");
	for (i = 0; i < p->n_rules; i++) {
		const struct cyris_plan_rule *r = &p->rules[i];
		_cleanup_free_ char *t = cyris_fw_rule_text(&r->fw);

		json_obj_open(j, NULL);
		json_uint(j, "instance", r->instance);
		json_str(j, "at", r->at < 0 ? "host" : p->guests[r->at].name);
		json_str(j, "rule", t ? t : r->fw.text);
		json_str(j, "source", r->orig);
		json_uint(j, "line", r->mark.line);
		json_uint(j, "column", r->mark.column);
		json_obj_close(j);
	}
	json_arr_close(j);
	json_arr_open(j, "entry_points");
	for (i = 0; i < p->n_exposes; i++) {
		const struct cyris_plan_expose *e = &p->exposes[i];

		json_obj_open(j, NULL);
		json_str(j, "guest", p->guests[e->guest].name);
		json_str(j, "ip", cyris_ip_format(&p->guests[e->guest].nics[0].addr.ip, b, sizeof(b)));
		json_uint(j, "port", e->port);
		json_uint(j, "host_port", e->host_port);
		json_bool(j, "snat", e->snat);
		json_obj_close(j);
	}
	json_arr_close(j);
	json_obj_close(j);
	json_end(j);
}

static void plan_text(const struct cyris_plan *p)
{
	char b[CYRIS_PREFIXSTRLEN], g[CYRIS_IPSTRLEN], mac[18];
	size_t i, k;

	printf("range %s%s%s: %u instance(s), %zu steps\n", p->range, p->host[0] ? " on " : "",
	       p->host, p->instances, cyris_topo_steps(p));
	for (i = 0; i < p->n_nets; i++) {
		const struct cyris_plan_net *n = &p->nets[i];

		printf("  network %-10s inst %u  bridge %-15s %-18s gateway %s%s%s", n->name, n->instance,
		       n->bridge, cyris_prefix_format(&n->subnet, b, sizeof(b)),
		       cyris_ip_format(&n->gateway, g, sizeof(g)),
		       n->gw_guest >= 0 ? " (" : " (host", n->gw_guest >= 0 ? p->guests[n->gw_guest].name : "");
		printf(")%s", n->local ? "" : "  [not on this host]");
		if (n->vni)
			printf("  vxlan %s vni %u", n->vxlan, n->vni);
		printf("\n");
	}
	for (i = 0; i < p->n_guests; i++) {
		const struct cyris_plan_guest *gu = &p->guests[i];

		printf("  guest   %-24s%s%s%s\n", gu->name, gu->gateway ? "  gateway" : "",
		       gu->entry_point ? "  entry point" : "", gu->local ? "" : "  [on another host]");
		for (k = 0; k < gu->n_nics; k++) {
			fmt_mac(gu->nics[k].mac, mac);
			printf("    %-5s %-10s %-18s %s  %s\n", gu->nics[k].nic, p->nets[gu->nics[k].net].name,
			       cyris_prefix_format(&gu->nics[k].addr, b, sizeof(b)), mac, gu->nics[k].host_ifname);
		}
	}
	for (i = 0; i < p->n_rules; i++) {
		_cleanup_free_ char *t = cyris_fw_rule_text(&p->rules[i].fw);

		printf("  rule    inst %u at %-22s %s\n", p->rules[i].instance,
		       p->rules[i].at < 0 ? "host" : p->guests[p->rules[i].at].name, t ? t : p->rules[i].fw.text);
	}
	for (i = 0; i < p->n_exposes; i++)
		printf("  entry   host port %u -> %s:%u%s\n", p->exposes[i].host_port,
		       p->guests[p->exposes[i].guest].name, p->exposes[i].port,
		       p->exposes[i].snat ? " (from the host's address: it answers through a gateway guest)" : "");
}

static int aws_emit(struct cli *c, const struct cyris_range *r, const struct cyris_plan *p);

static int cmd_plan(struct cli *c, int argc, char **argv)
{
	struct cyris_topo_opts o = topo_opts(c);
	struct cyris_range *r;
	struct cyris_plan *p;
	struct cyris_error err;
	int rc;

	(void)argc;
	if ((rc = load_conf(c)) || (rc = load_range(c, argv[0], &r)))
		return rc;
	rc = cyris_topo_plan(r, conf, &o, &p, &err);
	if (rc < 0) {
		cyris_range_free(r);
		return cli_fail(c, &err);
	}
	rc = CLI_OK;
	if (opt.emit && streq(opt.emit, "aws")) {
		rc = aws_emit(c, r, p);
	} else if (opt.emit && streq(opt.emit, "fw")) {
		rc = cyris_plan_emit_fw(p, opt.gateway, stdout, &err);
		rc = rc == -EINVAL ? cli_usage(c, "--gateway %s", err.msg) : rc < 0 ? cli_fail(c, &err) : CLI_OK;
	} else if (opt.emit) {
		rc = streq(opt.emit, "bridge")
			? cyris_plan_emit_bridge(p, !opt.provider || !streq(opt.provider, "libvirt"), stdout)
			: cyris_plan_emit_vm(p, stdout);
		rc = rc < 0 ? cli_err(c, rc, "plan %s --emit %s", argv[0], opt.emit) : CLI_OK;
	} else if (c->json)
		plan_json(c, p);
	else
		plan_text(p);
	cyris_plan_free(p);
	cyris_range_free(r);
	return rc;
}

/* ---- up / down ---------------------------------------------------------------- */

static volatile sig_atomic_t interrupted;   /* the signal that came */

static void on_signal(int sig)
{
	interrupted = sig;
}

/* SIGINT, SIGTERM and SIGHUP (the operator's session went away) set the
 * cancel flag (up rolls back, down stops); the exit status is then 128 +
 * the signal's number, as if it had killed us. A closed output pipe must
 * not kill an up half way either: SIGPIPE is ignored (the write fails). */
static void catch_signals(struct cyris_topo_opts *o)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	o->cancel = &interrupted;
}

static void lock_wait(void *arg, const char *path, long holder)
{
	struct cli *c = arg;

	if (holder)
		cli_msg(c, "waiting for the host lock %s (held by pid %ld)", path, holder);
	else
		cli_msg(c, "waiting for the host lock %s", path);
}

static unsigned step_delay_ms;   /* CYRIS_TOPO_STEP_DELAY_MS: tests interrupt mid-way */

/*
 * CYRIS_TOPO_TIMING=1: the time of each kind of step (the first word of
 * its label) on stderr at the end, with the mean of its first and last
 * quarter, so that a cost per object that grows with the range shows.
 * A step lasts from its progress call to the next one (or the end).
 */
static struct timing {
	bool on;
	double t0, last;               /* ms: the start, the last progress call */
	char kind[16];                 /* the step running since @last */
	struct timing_kind { char name[16]; size_t n; double ms; double *each; size_t cap; } k[8];
	size_t nk;
} timing;

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void timing_start(void)
{
	const char *v = getenv("CYRIS_TOPO_TIMING");

	timing.on = v && *v && !streq(v, "0");
	timing.t0 = timing.last = now_ms();
	snprintf(timing.kind, sizeof(timing.kind), "before");
}

/* the step since the last call ends now; @what (NULL: the end) begins */
static void timing_mark(const char *what)
{
	double t = now_ms(), *e;
	struct timing_kind *k = NULL;
	size_t i;

	if (!timing.on)
		return;
	for (i = 0; i < timing.nk && !k; i++)
		if (streq(timing.k[i].name, timing.kind))
			k = &timing.k[i];
	if (!k && timing.nk < sizeof(timing.k) / sizeof(timing.k[0])) {
		k = &timing.k[timing.nk++];
		snprintf(k->name, sizeof(k->name), "%s", timing.kind);
	}
	if (k && (e = cyris_grow((void **)&k->each, &k->n, &k->cap, sizeof(*e)))) {
		*e = t - timing.last;
		k->ms += *e;
	}
	timing.last = t;
	if (what)
		snprintf(timing.kind, sizeof(timing.kind), "%.*s", (int)strcspn(what, " "), what);
}

static double quarter_mean(const struct timing_kind *k, bool last)
{
	size_t q = k->n / 4 ? k->n / 4 : 1, i, from = last ? k->n - q : 0;
	double s = 0;

	for (i = from; i < from + q; i++)
		s += k->each[i];
	return s / (double)q;
}

static void timing_report(const char *cmd)
{
	size_t i;

	if (!timing.on)
		return;
	timing_mark(NULL);
	fprintf(stderr, "timing: %s %.1f ms\n", cmd, timing.last - timing.t0);
	for (i = 0; i < timing.nk; i++) {
		struct timing_kind *k = &timing.k[i];

		fprintf(stderr, "timing:   %-10s %6zu x %9.3f ms = %9.1f ms (first quarter %.3f, last %.3f)\n",
			k->name, k->n, k->ms / (double)k->n, k->ms, quarter_mean(k, false), quarter_mean(k, true));
		free(k->each);
	}
}

static void progress(void *arg, size_t step, size_t n, const char *what)
{
	(void)arg;
	timing_mark(what);
	if (isatty(STDERR_FILENO)) {
		fprintf(stderr, "\r\033[K[%zu/%zu] %s", step, n, what);
		if (step == n)
			fputs("\r\033[K", stderr);
		fflush(stderr);
	}
	if (step_delay_ms)
		usleep(step_delay_ms * 1000);
}

/* Where outside clients come in, when the host does not forward as a whole. */
static void entry_way_in(const struct cyris_plan *p)
{
	size_t i;

	if (!p->entry_outside) {
		printf("entry points: this host does not forward IPv4 (net.ipv4.ip_forward = 0) and has no "
		       "default route to say where clients from outside come in; turn forwarding on on that "
		       "interface (net.ipv4.conf.IF.forwarding = 1) to let them in\n");
		return;
	}
	printf("entry points: IPv4 forwarding on for clients coming in on");
	for (i = 0; i < p->n_ingress; i++)
		printf("%s %s", i ? "," : "", p->ingress[i]);
	printf(" (the default route's), not host-wide: only what entry points DNAT is forwarded from there\n");
}

/* ---- on EC2 (cyris/aws.h) ------------------------------------------------------ */

static bool on_aws(const struct cyris_range *r)
{
	bool aws = false;
	struct cyris_error err;

	if (opt.provider)
		return streq(opt.provider, "aws");
	return r && cyris_ec2_range_kind(r, &aws, &err) == 0 && aws;
}

static int aws_open_conn(struct cli *c, struct cyris_ec2 **ret)
{
	struct cyris_error err;

	if (cyris_ec2_open(conf, NULL, ret, &err) < 0)
		return cli_fail(c, &err);
	return CLI_OK;
}

/*
 * Without --provider, down and show of a range that is not on this host, and
 * ls, look on AWS too when AWS is configured (cyris_ec2_configured():
 * credentials and a region or endpoint, read from the environment and
 * files; nothing is contacted when it is not). A broken AWS configuration
 * is reported; the exit code then.
 */
static int aws_here(struct cli *c, bool *ret)
{
	struct cyris_error err;
	int r;

	*ret = false;
	if (opt.provider)
		return CLI_OK;
	if ((r = cyris_ec2_configured(conf, &err)) < 0)
		return cli_failf(c, &err, "AWS");
	*ret = r > 0;
	return CLI_OK;
}

static void aws_progress(void *arg, size_t step, const char *what)
{
	progress(arg, step, 0, what);
}

/* the keys of every --ssh-key FILE into @keys */
static int ssh_keys_load(struct cli *c, struct cyris_ssh_keys *keys)
{
	struct cyris_error err;
	size_t i;

	for (i = 0; i < opt.n_ssh_keys; i++)
		if (cyris_ssh_keys_load(opt.ssh_keys[i], keys, &err) < 0)
			return cli_fail(c, &err);
	return CLI_OK;
}

static int aws_up(struct cli *c, struct cyris_range *r, struct cyris_topo_opts *o)
{
	struct cyris_ec2_up_opts uo = { .file = r->file, .ssh_from = opt.ssh_from, .cancel = &interrupted,
					.image = opt.image };
	const char *fail_at = getenv("CYRIS_TOPO_FAIL_AT");
	struct cyris_ssh_keys keys = { 0 };
	struct cyris_ec2 *e = NULL;
	struct cyris_plan *p = NULL;
	struct cyris_error err;
	unsigned long n;
	size_t i;
	int rc;

	const char *delay = getenv("CYRIS_TOPO_STEP_DELAY_MS");

	if (fail_at && cyris_parse_uint(fail_at, 1000000, &n) == 0)
		uo.fail_at = (unsigned)n;
	if (delay && cyris_parse_uint(delay, 60000, &n) == 0)
		step_delay_ms = (unsigned)n;
	if (step_delay_ms) {
		uo.progress = aws_progress;
		uo.progress_arg = c;
	}
	if ((rc = ssh_keys_load(c, &keys)))
		goto out;
	uo.ssh_keys = (const char *const *)keys.v;
	uo.n_ssh_keys = keys.n;
	if (cyris_topo_plan(r, conf, o, &p, &err) < 0) {
		rc = cli_fail(c, &err);
		goto out;
	}
	if ((rc = aws_open_conn(c, &e)))
		goto out;
	catch_signals(o);
	if (cyris_ec2_up(e, p, conf, &uo, &err) < 0) {
		rc = cli_failf(c, &err, "up %s", r->id);
		if (interrupted)
			rc = 128 + interrupted;
		goto out;
	}
	if (c->json) {
		plan_json(c, p);
	} else {
		struct cyris_ec2_instance *v = NULL;
		size_t nv = 0;
		char ip[CYRIS_IPSTRLEN];

		printf("range %s is up on AWS: %zu networks, %zu guests\n", p->range, p->n_nets, p->n_guests);
		if (cyris_ec2_instance_list(e, p->range, &v, &nv) == 0)
			for (i = 0; i < nv; i++)
				if (v[i].public_ip.family)
					printf("entry point: %s (%s) at %s, port 22 from %s\n", v[i].name, v[i].guest,
					       cyris_ip_format(&v[i].public_ip, ip, sizeof(ip)), opt.ssh_from);
		free(v);
	}
	rc = CLI_OK;
out:
	cyris_ssh_keys_free(&keys);
	cyris_ec2_free(e);
	cyris_plan_free(p);
	return rc;
}

static int aws_emit(struct cli *c, const struct cyris_range *r, const struct cyris_plan *p)
{
	struct cyris_ec2_up_opts uo = { .file = r->file, .ssh_from = opt.ssh_from, .image = opt.image,
					.ssh_key_files = opt.ssh_keys, .n_ssh_key_files = opt.n_ssh_keys };
	struct cyris_ssh_keys keys = { 0 };
	struct cyris_ec2 *e = NULL;
	struct cyris_error err;
	int rc;

	/* read here too: a file that is no key fails now, not in the batch */
	if ((rc = ssh_keys_load(c, &keys)))
		goto out;
	uo.ssh_keys = (const char *const *)keys.v;
	uo.n_ssh_keys = keys.n;
	if ((rc = aws_open_conn(c, &e)))
		goto out;
	rc = cyris_ec2_emit(e, p, conf, &uo, stdout, &err) < 0 ? cli_failf(c, &err, "plan %s --emit aws", r->id)
							       : CLI_OK;
out:
	cyris_ssh_keys_free(&keys);
	cyris_ec2_free(e);
	return rc;
}

static int aws_down(struct cli *c, const char *range, struct cyris_topo_opts *o, bool local_too)
{
	struct cyris_ec2_down_stats st;
	struct cyris_ec2 *e = NULL;
	int rc;

	if ((rc = aws_open_conn(c, &e)))
		return rc;
	catch_signals(o);
	if (cyris_ec2_destroy(e, range, &interrupted, &st) < 0) {
		rc = cli_failf(c, cyris_ec2_error(e), "down %s", range);
		cyris_ec2_free(e);
		return interrupted ? 128 + interrupted : rc;
	}
	cyris_ec2_free(e);
	if (c->json) {
		struct json *j = cli_json(c);

		json_obj_open(j, NULL);
		json_str(j, "range", range);
		json_str(j, "provider", "aws");
		json_uint(j, "instances", st.instances);
		json_uint(j, "addresses", st.addresses);
		json_uint(j, "security_groups", st.groups);
		json_uint(j, "subnets", st.subnets);
		json_uint(j, "route_tables", st.route_tables);
		json_uint(j, "internet_gateways", st.gateways);
		json_uint(j, "key_pairs", st.key_pairs);
		json_uint(j, "vpcs", st.vpcs);
		json_obj_close(j);
		json_end(j);
	} else if (st.instances + st.groups + st.subnets + st.vpcs + st.key_pairs + st.addresses == 0) {
		printf("range %s: nothing on %sAWS\n", range, local_too ? "this host nor on " : "");
	} else {
		printf("range %s is down on AWS: %zu instances, %zu subnets, %zu groups, %zu VPCs removed\n", range,
		       st.instances, st.subnets, st.groups, st.vpcs);
	}
	return CLI_OK;
}

static int aws_show(struct cli *c, const char *range, bool local_too)
{
	struct cyris_ec2_instance *v = NULL;
	struct cyris_ec2 *e = NULL;
	char a[CYRIS_IPSTRLEN], b[CYRIS_IPSTRLEN];
	size_t n = 0, i, k;
	int rc;

	if ((rc = aws_open_conn(c, &e)))
		return rc;
	if (cyris_ec2_instance_list(e, range, &v, &n) < 0) {
		rc = cli_failf(c, cyris_ec2_error(e), "show %s", range);
		cyris_ec2_free(e);
		return rc;
	}
	cyris_ec2_free(e);
	if (!n) {
		cli_msg(c, "range %s: nothing on %sAWS", range, local_too ? "this host nor on " : "");
		free(v);
		return CLI_FAIL;
	}
	if (c->json) {
		struct json *j = cli_json(c);

		json_obj_open(j, NULL);
		json_str(j, "range", range);
		json_str(j, "provider", "aws");
		json_arr_open(j, "guests");
		for (i = 0; i < n; i++) {
			json_obj_open(j, NULL);
			json_str(j, "guest", v[i].guest);
			json_uint(j, "instance", v[i].instance);
			json_str(j, "name", v[i].name);
			json_str(j, "id", v[i].id);
			json_str(j, "state", v[i].state);
			json_str(j, "role", v[i].role);
			json_str(j, "public_ip", v[i].public_ip.family ? cyris_ip_format(&v[i].public_ip, a, sizeof(a)) : NULL);
			json_arr_open(j, "nics");
			for (k = 0; k < v[i].n_enis; k++) {
				json_obj_open(j, NULL);
				json_str(j, "eni", v[i].enis[k]);
				json_str(j, "ip", v[i].eni_ips[k].family ? cyris_ip_format(&v[i].eni_ips[k], b, sizeof(b)) : NULL);
				json_obj_close(j);
			}
			json_arr_close(j);
			json_obj_close(j);
		}
		json_arr_close(j);
		json_obj_close(j);
		json_end(j);
	} else {
		printf("range %s (AWS)\n", range);
		for (i = 0; i < n; i++) {
			printf("  guest   %-24s %-20s %-8s %s%s\n", v[i].name, v[i].id, v[i].state,
			       v[i].public_ip.family ? "public " : "",
			       v[i].public_ip.family ? cyris_ip_format(&v[i].public_ip, a, sizeof(a)) : "");
			for (k = 0; k < v[i].n_enis; k++)
				printf("    eth%zu  %-22s %s\n", k, v[i].enis[k],
				       v[i].eni_ips[k].family ? cyris_ip_format(&v[i].eni_ips[k], b, sizeof(b)) : "-");
		}
	}
	free(v);
	return CLI_OK;
}

static int aws_ls(struct cli *c)
{
	char (*v)[CYRIS_ID_MAX + 1] = NULL;
	struct cyris_ec2 *e = NULL;
	size_t n = 0;
	int rc;

	if ((rc = aws_open_conn(c, &e)))
		return rc;
	if (cyris_ec2_ls(e, &v, &n) < 0) {
		rc = cli_failf(c, cyris_ec2_error(e), "ls");
		cyris_ec2_free(e);
		return rc;
	}
	cyris_ec2_free(e);
	cli_print_ids(c, "ranges", (const char (*)[CYRIS_ID_MAX + 1])v, n);
	free(v);
	return CLI_OK;
}

static int cmd_up(struct cli *c, int argc, char **argv)
{
	struct cyris_topo_opts o = topo_opts(c);
	struct cyris_range *r;
	struct cyris_plan *p = NULL;
	const char *fail_at = getenv("CYRIS_TOPO_FAIL_AT");
	const char *delay = getenv("CYRIS_TOPO_STEP_DELAY_MS");
	const char *threads = getenv("CYRIS_TOPO_THREADS");
	unsigned long n;
	struct cyris_error err;
	int rc;

	(void)argc;
	if ((rc = load_conf(c)) || (rc = load_range(c, argv[0], &r)))
		return rc;
	if (on_aws(r)) {
		o.provider = NULL;
		rc = aws_up(c, r, &o);
		cyris_range_free(r);
		return rc;
	}
	if (opt.ssh_from || opt.n_ssh_keys || opt.image) {
		cyris_range_free(r);
		return cli_usage(c, "--ssh-from, --ssh-key and --image are for up on AWS");
	}
	if (fail_at && cyris_parse_uint(fail_at, 1000000, &n) == 0)
		o.fail_at = (unsigned)n;
	if (delay && cyris_parse_uint(delay, 60000, &n) == 0)
		step_delay_ms = (unsigned)n;
	if (threads && cyris_parse_uint(threads, 2, &n) == 0)
		o.threads = (unsigned)n;
	timing_start();
	if (isatty(STDERR_FILENO) || step_delay_ms || timing.on)
		o.progress = progress;
	o.lock_wait = lock_wait;
	o.progress_arg = c;
	catch_signals(&o);
	rc = cyris_topo_up(r, conf, &o, &p, &err);
	timing_report("up");
	if (isatty(STDERR_FILENO))
		fputs("\r\033[K", stderr);
	if (rc < 0) {
		if (rc != -EEXIST)
			cyris_error_append(&err, " (rolled back: nothing was left)");
		cli_failf(c, &err, "up %s", r->id);
		cyris_range_free(r);
		return interrupted ? 128 + interrupted : CLI_FAIL;
	}
	if (c->json) {
		plan_json(c, p);
	} else {
		size_t i, nn = 0, ng = 0;

		for (i = 0; i < p->n_nets; i++)
			nn += p->nets[i].local;
		for (i = 0; i < p->n_guests; i++)
			ng += p->guests[i].local;
		printf("range %s is up: %zu networks, %zu guests\n", p->range, nn, ng);
		for (i = 0; i < p->n_exposes; i++) {
			char ip[CYRIS_IPSTRLEN];

			printf("entry point: host port %u -> %s (%s:%u)%s\n", p->exposes[i].host_port,
			       p->guests[p->exposes[i].guest].name,
			       cyris_ip_format(&p->guests[p->exposes[i].guest].nics[0].addr.ip, ip, sizeof(ip)),
			       p->exposes[i].port, p->entry_outside ? "" : ", from this host only");
		}
		if (p->n_exposes && (!p->entry_outside || p->n_ingress))
			entry_way_in(p);
	}
	cyris_plan_free(p);
	cyris_range_free(r);
	return CLI_OK;
}

static int cmd_down(struct cli *c, int argc, char **argv)
{
	struct cyris_topo_opts o = topo_opts(c);
	struct cyris_topo_down_stats st;
	const char *fail_at = getenv("CYRIS_TOPO_DOWN_FAIL_AT");
	unsigned long n;
	struct cyris_error err;
	int rc;

	(void)argc;
	if (!cyris_id_valid(argv[0]))
		return cli_usage(c, "'%s' is not a range id (1-%d of A-Z a-z 0-9 _ . -, not starting with - or .)",
				 argv[0], CYRIS_ID_MAX);
	if ((rc = load_conf(c)))
		return rc;
	if (on_aws(NULL))
		return aws_down(c, argv[0], &o, false);
	if (fail_at && cyris_parse_uint(fail_at, 1000, &n) == 0)
		o.fail_at = (unsigned)n;
	o.lock_wait = lock_wait;
	o.progress_arg = c;
	timing_start();
	if (timing.on)
		o.progress = progress;
	catch_signals(&o);
	rc = cyris_topo_down(argv[0], conf, &o, &st, &err);
	timing_report("down");
	if (rc < 0) {
		cli_failf(c, &err, "down %s", argv[0]);
		return interrupted ? 128 + interrupted : CLI_FAIL;
	}
	if (st.tables + st.guests + st.links + st.namespaces + st.tunnels == 0) {
		bool aws;

		/* not on this host: on AWS, when AWS is configured */
		if ((rc = aws_here(c, &aws)) || aws)
			return rc ? rc : aws_down(c, argv[0], &o, true);
	}
	if (c->json) {
		struct json *j = cli_json(c);

		json_obj_open(j, NULL);
		json_str(j, "range", argv[0]);
		json_uint(j, "tables", st.tables);
		json_uint(j, "guests", st.guests);
		json_uint(j, "links", st.links);
		json_uint(j, "namespaces", st.namespaces);
		json_uint(j, "tunnels", st.tunnels);
		json_obj_close(j);
		json_end(j);
	} else if (st.tables + st.guests + st.links + st.namespaces + st.tunnels == 0) {
		printf("range %s: nothing on this host\n", argv[0]);
	} else {
		printf("range %s is down: %zu guests, %zu links, %zu firewall tables removed", argv[0],
		       st.guests, st.links, st.tables);
		if (st.tunnels)
			printf(", %zu tunnels closed", st.tunnels);
		putchar('\n');
	}
	return CLI_OK;
}

/* ---- show / ls / probe --------------------------------------------------------- */

static void show_json(struct cli *c, const struct cyris_live *lv)
{
	struct json *j = cli_json(c);
	char b[CYRIS_PREFIXSTRLEN], mac[18];
	size_t i, k;

	json_obj_open(j, NULL);
	json_str(j, "range", lv->range);
	json_arr_open(j, "networks");
	for (i = 0; i < lv->n_nets; i++) {
		const struct cyris_live_net *n = &lv->nets[i];

		json_obj_open(j, NULL);
		json_str(j, "name", n->name);
		json_uint(j, "instance", n->instance);
		json_str(j, "bridge", n->bridge);
		json_str(j, "subnet", n->subnet.ip.family ? cyris_prefix_format(&n->subnet, b, sizeof(b)) : NULL);
		json_str(j, "gateway", n->gateway.family ? cyris_ip_format(&n->gateway, b, sizeof(b)) : NULL);
		if (n->vni)
			json_uint(j, "vni", n->vni);
		json_obj_close(j);
	}
	json_arr_close(j);
	json_arr_open(j, "guests");
	for (i = 0; i < lv->n_guests; i++) {
		const struct cyris_live_guest *g = &lv->guests[i];
		bool netns = streq(g->provider, "netns");

		json_obj_open(j, NULL);
		json_str(j, "guest_id", g->guest_id);
		json_uint(j, "index", g->index);
		json_uint(j, "instance", g->instance);
		json_str(j, netns ? "netns" : "domain", g->name);
		json_str(j, "provider", g->provider);
		json_str(j, "status", cyris_vm_status_str(g->status));
		json_bool(j, "gateway", g->gateway);
		json_arr_open(j, "nics");
		for (k = 0; k < g->n_nics; k++) {
			json_obj_open(j, NULL);
			json_str(j, "nic", g->nics[k].nic);
			json_str(j, "network", g->nics[k].net[0] ? g->nics[k].net : NULL);
			json_str(j, "ip", g->nics[k].addr.ip.family
				 ? cyris_ip_format(&g->nics[k].addr.ip, b, sizeof(b)) : NULL);
			cyris_mac_format(g->nics[k].mac, mac);
			json_str(j, "mac", mac);
			json_obj_close(j);
		}
		json_arr_close(j);
		json_obj_close(j);
	}
	json_arr_close(j);
	json_bool(j, "firewall", lv->has_table);
	json_arr_open(j, "entry_points");
	for (i = 0; i < lv->n_entries; i++) {
		json_obj_open(j, NULL);
		json_uint(j, "host_port", lv->entry_ports[i]);
		json_str(j, "ip", cyris_ip_format(&lv->entry_to[i], b, sizeof(b)));
		json_obj_close(j);
	}
	json_arr_close(j);
	json_obj_close(j);
	json_end(j);
}

static void show_text(const struct cyris_live *lv)
{
	char b[CYRIS_PREFIXSTRLEN], g[CYRIS_IPSTRLEN], mac[18];
	size_t i, k;

	printf("range %s%s\n", lv->range, lv->has_table ? "" : "  (no firewall table!)");
	for (i = 0; i < lv->n_nets; i++)
		printf("  network %-10s inst %u  %-15s %-18s gateway %s%s\n", lv->nets[i].name,
		       lv->nets[i].instance, lv->nets[i].bridge,
		       cyris_prefix_format(&lv->nets[i].subnet, b, sizeof(b)),
		       cyris_ip_format(&lv->nets[i].gateway, g, sizeof(g)),
		       lv->nets[i].vni ? "  vxlan" : "");
	for (i = 0; i < lv->n_guests; i++) {
		const struct cyris_live_guest *gu = &lv->guests[i];

		printf("  guest   %-24s %s %s%s\n", gu->name, gu->provider, cyris_vm_status_str(gu->status),
		       gu->gateway ? "  gateway" : "");
		for (k = 0; k < gu->n_nics; k++)
			printf("    %-5s %-10s %-16s %s\n", gu->nics[k].nic, gu->nics[k].net,
			       gu->nics[k].addr.ip.family ? cyris_ip_format(&gu->nics[k].addr.ip, g, sizeof(g)) : "-",
			       cyris_mac_format(gu->nics[k].mac, mac));
	}
	for (i = 0; i < lv->n_entries; i++)
		printf("  entry   host port %u -> %s\n", lv->entry_ports[i],
		       cyris_ip_format(&lv->entry_to[i], g, sizeof(g)));
}

/* Graphviz: networks are ellipses, guests boxes, NICs the edges. */
static void show_dot(const struct cyris_live *lv)
{
	char b[CYRIS_PREFIXSTRLEN], g[CYRIS_IPSTRLEN];
	size_t i, k;

	printf("graph \"range %s\" {\n  graph [label=\"range %s\", fontname=\"sans\"];\n"
	       "  node [fontname=\"sans\"]; edge [fontname=\"sans\", fontsize=10];\n", lv->range, lv->range);
	printf("  host [shape=house, label=\"host\"];\n");
	for (i = 0; i < lv->n_nets; i++) {
		const struct cyris_live_net *n = &lv->nets[i];

		printf("  \"net:%s:%u\" [shape=ellipse, label=\"%s (inst %u)\\n%s\\n%s\"];\n", n->name,
		       n->instance, n->name, n->instance, cyris_prefix_format(&n->subnet, b, sizeof(b)),
		       n->bridge);
		if (n->host_addr.ip.family)
			printf("  host -- \"net:%s:%u\" [label=\"%s\", style=dashed];\n", n->name, n->instance,
			       cyris_ip_format(&n->host_addr.ip, g, sizeof(g)));
	}
	for (i = 0; i < lv->n_guests; i++) {
		const struct cyris_live_guest *gu = &lv->guests[i];

		printf("  \"%s\" [shape=box%s, label=\"%s.%u\\n%s\"];\n", gu->name,
		       gu->gateway ? ", style=bold" : "", gu->guest_id, gu->index, gu->name);
		for (k = 0; k < gu->n_nics; k++)
			if (gu->nics[k].net[0])
				printf("  \"%s\" -- \"net:%s:%u\" [label=\"%s %s\"];\n", gu->name, gu->nics[k].net,
				       gu->instance, gu->nics[k].nic,
				       gu->nics[k].addr.ip.family ? cyris_ip_format(&gu->nics[k].addr.ip, g, sizeof(g)) : "");
	}
	printf("}\n");
}

/* The live range @range, read back; an exit code when it cannot be (with
 * @ret_absent, a range not on this host is *ret_absent, unreported). */
static int live(struct cli *c, const char *what, const char *range, struct cyris_live **ret, bool *ret_absent)
{
	struct cyris_topo_opts o = topo_opts(c);
	int rc;

	if (!cyris_id_valid(range))
		return cli_usage(c, "'%s' is not a range id (1-%d of A-Z a-z 0-9 _ . -, not starting with - or .)",
				 range, CYRIS_ID_MAX);
	if ((rc = load_conf(c)))
		return rc;
	rc = cyris_topo_show(range, conf, &o, ret);
	if (rc == -ENOENT && ret_absent) {
		*ret_absent = true;
		return CLI_FAIL;
	}
	if (rc == -ENOENT) {
		cli_msg(c, "range %s: nothing on this host", range);
		return CLI_FAIL;
	}
	return rc < 0 ? cli_err(c, rc, "%s %s", what, range) : CLI_OK;
}

static int cmd_show(struct cli *c, int argc, char **argv)
{
	struct cyris_live *lv;
	bool absent = false;
	int rc;

	(void)argc;
	if (on_aws(NULL)) {
		if (!cyris_id_valid(argv[0]))
			return cli_usage(c, "'%s' is not a range id", argv[0]);
		return (rc = load_conf(c)) ? rc : aws_show(c, argv[0], false);
	}
	if ((rc = live(c, "show", argv[0], &lv, &absent))) {
		bool aws;

		if (!absent)
			return rc;
		/* not on this host: on AWS, when AWS is configured */
		if ((rc = aws_here(c, &aws)) || aws)
			return rc ? rc : aws_show(c, argv[0], true);
		cli_msg(c, "range %s: nothing on this host", argv[0]);
		return CLI_FAIL;
	}
	if (opt.dot)
		show_dot(lv);
	else if (c->json)
		show_json(c, lv);
	else
		show_text(lv);
	cyris_live_free(lv);
	return CLI_OK;
}

/* The ranges on AWS beside this host's (ls without --provider): *ret_n
 * ranges, or a warning naming the endpoint and AWS's error, false. */
static bool aws_ls_beside(struct cli *c, char (**ret)[CYRIS_ID_MAX + 1], size_t *ret_n, struct cyris_error *ret_err)
{
	struct cyris_ec2 *e = NULL;
	bool ok = true;

	if (cyris_ec2_open(conf, NULL, &e, ret_err) < 0) {
		cli_failf(c, ret_err, "warning: ls: AWS");
		return false;
	}
	if (cyris_ec2_ls(e, ret, ret_n) < 0) {
		*ret_err = *cyris_ec2_error(e);
		cli_failf(c, ret_err, "warning: ls: AWS at %s", cyris_ec2_endpoint(e));
		ok = false;
	}
	cyris_ec2_free(e);
	return ok;
}

static int cmd_ls(struct cli *c, int argc, char **argv)
{
	struct cyris_topo_opts o = topo_opts(c);
	char (*v)[CYRIS_ID_MAX + 1] = NULL, (*av)[CYRIS_ID_MAX + 1] = NULL;
	struct cyris_error aerr = { 0 };
	size_t n = 0, an = 0, i;
	bool aws = false, aws_ok = true;
	int r, rc;

	(void)argc;
	(void)argv;
	if ((rc = load_conf(c)))
		return rc;
	if (on_aws(NULL))
		return aws_ls(c);
	rc = cyris_topo_ls(conf, &o, &v, &n);
	if (rc < 0)
		return cli_err(c, rc, "ls");
	/* AWS's ranges beside this host's when AWS is configured; a failure
	 * there is a warning, this host's are still listed (exit 1) */
	if (!opt.provider) {
		if ((r = cyris_ec2_configured(conf, &aerr)) < 0)
			aws = true, aws_ok = false, cli_failf(c, &aerr, "warning: ls: AWS");
		else if (r > 0)
			aws = true, aws_ok = aws_ls_beside(c, &av, &an, &aerr);
	}
	if (c->json) {
		struct json *j = cli_json(c);
		char msg[CYRIS_ERROR_MSG_MAX + CYRIS_ERROR_DETAIL_MAX + 32];

		json_obj_open(j, NULL);
		json_arr_open(j, "ranges");
		for (i = 0; i < n; i++)
			json_str(j, NULL, v[i]);
		json_arr_close(j);
		if (aws) {
			json_arr_open(j, "aws_ranges");
			for (i = 0; i < an; i++)
				json_str(j, NULL, av[i]);
			json_arr_close(j);
			if (!aws_ok) {
				cyris_error_format(&aerr, msg, sizeof(msg));
				json_str(j, "aws_error", msg);
			}
		}
		json_obj_close(j);
		json_end(j);
	} else {
		for (i = 0; i < n; i++)
			printf("%s\n", v[i]);
		for (i = 0; i < an; i++)
			printf("%s aws\n", av[i]);
	}
	free(v);
	free(av);
	return aws_ok ? CLI_OK : CLI_FAIL;
}

static const char *proto_name(unsigned p)
{
	return p == CYRIS_FW_UDP ? "udp" : p == CYRIS_FW_ICMP ? "icmp" : "tcp";
}

static int cmd_probe(struct cli *c, int argc, char **argv)
{
	struct cyris_probe *v = NULL;
	struct cyris_live *lv;
	size_t n = 0, i, bad = 0;
	char ip[CYRIS_IPSTRLEN], what[64];
	int rc;

	(void)argc;
	if ((rc = live(c, "probe", argv[0], &lv, NULL)))
		return rc;
	rc = cyris_topo_probe(lv, c->netns, opt.timeout, &v, &n);
	cyris_live_free(lv);
	if (rc < 0)
		return cli_err(c, rc, "probe %s", argv[0]);
	for (i = 0; i < n; i++)
		bad += v[i].expected != v[i].passed;
	if (c->json) {
		struct json *j = cli_json(c);

		json_obj_open(j, NULL);
		json_str(j, "range", argv[0]);
		json_arr_open(j, "flows");
		for (i = 0; i < n; i++) {
			json_obj_open(j, NULL);
			json_str(j, "from", v[i].from);
			json_str(j, "to", v[i].to);
			json_str(j, "ip", cyris_ip_format(&v[i].dst, ip, sizeof(ip)));
			json_str(j, "proto", proto_name(v[i].proto));
			json_uint(j, "port", v[i].port);
			json_bool(j, "expected", v[i].expected);
			json_bool(j, "passed", v[i].passed);
			json_bool(j, "ok", v[i].expected == v[i].passed);
			json_str(j, "rule", v[i].rule[0] ? v[i].rule : NULL);
			json_obj_close(j);
		}
		json_arr_close(j);
		json_uint(j, "mismatches", bad);
		json_obj_close(j);
		json_end(j);
	} else {
		printf("   %-8s %-8s %-16s %-16s %-15s %-9s %s\n", "expect", "saw", "from", "to", "address",
		       "flow", "rule");
		for (i = 0; i < n; i++) {
			if (v[i].proto == CYRIS_FW_ICMP)
				snprintf(what, sizeof(what), "icmp");
			else
				snprintf(what, sizeof(what), "%s/%u", proto_name(v[i].proto), v[i].port);
			printf("%s %-8s %-8s %-16s %-16s %-15s %-9s %s\n", v[i].expected == v[i].passed ? "✓" : "✗",
			       v[i].expected ? "allowed" : "blocked", v[i].passed ? "passed" : "dropped",
			       v[i].from_label, v[i].to_label, cyris_ip_format(&v[i].dst, ip, sizeof(ip)), what,
			       v[i].rule[0] ? v[i].rule : "-");
		}
		printf("%zu flows, %zu as the rules say, %zu not\n", n, n - bad, bad);
	}
	free(v);
	return bad ? CLI_FAIL : CLI_OK;
}

static const struct cli_cmd cmds[] = {
	{ "check", 1, 1, cmd_check },
	{ "plan", 1, 1, cmd_plan },
	{ "up", 1, 1, cmd_up },
	{ "down", 1, 1, cmd_down },
	{ "show", 1, 1, cmd_show },
	{ "ls", 0, 0, cmd_ls },
	{ "probe", 1, 1, cmd_probe },
	{ 0 },
};

int main(int argc, char **argv)
{
	struct cli c = {
		.prog = "cyris-topo",
		.help = help,
		.cmds = cmds,
		.ext = &ext,
	};
	int r;

	cyris_vm_quiet_libvirt();   /* libvirt's message is reported once, by us */
	r = cli_main(&c, argc, argv);

	cyris_conf_free(conf);
	return r;
}
