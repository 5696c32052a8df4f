/* SPDX-License-Identifier: MIT */
/*
 * cyris-fw — range isolation and forwarding rules in nftables, one
 * transaction per command. A thin layer over net/fw*.c.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "cli.h"
#include "cyris/conf.h"
#include "cyris/fw.h"
#include "cyris/lock.h"
#include "../net/base/util.h"

static const char help[] =
"Usage: cyris-fw [-j] [-p] [-n NETNS] [--force] COMMAND\n"
"       cyris-fw [-n NETNS] [--force] -b FILE|-\n"
"\n"
"Range isolation and forwarding rules in nftables: one inet table per range,\n"
"replaced atomically, judging only packets that touch the range's interfaces.\n"
"\n"
"Commands:\n"
"  apply R FILE|-        replace R's whole policy (isolation + the rules in\n"
"                        FILE, one per line) in one transaction\n"
"  allow R RULE          add one rule in its own transaction\n"
"  expose R HOSTPORT to IP:PORT [proto tcp|udp] [from CIDR] [snat]\n"
"                        a host port leads to one guest's port (DNAT + the\n"
"                        one forward accept it needs), for clients outside\n"
"                        the range; snat: from the host's address (a guest\n"
"                        that answers through a gateway guest); refused on\n"
"                        a TCP port a host service listens on, and for an\n"
"                        IP on no network of R (unless --force)\n"
"  nat R out IFACE       masquerade R's traffic leaving through IFACE\n"
"  show [R]              R's policy (every cyris table) with counters\n"
"  check R FILE|-        parse and resolve, print the nft rules that apply\n"
"                        would install, change nothing\n"
"  destroy R             remove R's table and nothing else\n"
"\n"
"Rules (CyRIS syntax): src=NET|CIDR,... dst=NET|CIDR|host,... sport=P,...\n"
"dport=P|LO-HI,... proto=tcp|udp|icmp. A network name stands for the subnets\n"
"of the range's interfaces on that network (found from cyris tags); dst=host\n"
"is the host itself. A port rule without proto allows TCP and UDP. A source\n"
"counts only from the interface its route leaves through (no borrowed\n"
"addresses). A line \"uplink IFACE from MAC\" (a gateway guest's, as\n"
"cyris-topo plan --emit fw --gateway writes it) takes sources outside\n"
"IFACE's subnets on IFACE only from that MAC (the host's bridge).\n"
"Example: src=office,external dst=internal dport=3306\n"
"\n"
"Options:\n"
"  -j, --json            JSON output (show, check)\n"
"  -p, --pretty          indent JSON\n"
"  -n, --netns NETNS     work in /run/netns/NETNS, a path, or pid:PID\n"
"  -b, --batch FILE|-    one command per line; stops at the first failure\n"
"      --force           replace or remove a table cyris does not own;\n"
"                        expose to an IP on no network of the range\n"
"  -h, --help            this text;  -V, --version\n"
"\n"
"Environment: CYRIS_FW_INJECT_BAD_RULE=N makes the N-th kernel rule of a\n"
"batch invalid (for tests of the all-or-nothing behaviour);\n"
"CYRIS_FW_RCVBUF=BYTES caps the receive buffer of a batch, so that its ACKs\n"
"overflow it (for tests of how apply then tells what the kernel committed).\n"
"\n"
"Exit status: 0 success, 1 an operation failed (or a bad rule), 2 usage error.\n";

static struct cyris_fw *fw_ctx;
static struct cyris_conf *conf;

static void lock_wait(void *arg, const char *path, long holder)
{
	if (holder)
		cli_msg(arg, "waiting for the host lock %s (held by pid %ld)", path, holder);
	else
		cli_msg(arg, "waiting for the host lock %s", path);
}

/* The host lock (cyris/lock.h), around what checks the host's state and
 * then adds to it. */
static int host_lock(struct cli *c, int *ret_fd)
{
	struct cyris_error err;
	int r = cyris_host_lock(conf, c->netns, NULL, lock_wait, c, ret_fd, &err);

	return r < 0 ? cli_fail(c, &err) : CLI_OK;
}

/* A test variable of the environment (see --help), 0 when unset or bad. */
static int env_int(const char *name, unsigned long max)
{
	const char *s = getenv(name);
	unsigned long v;

	return s && cyris_parse_uint(s, max, &v) == 0 ? (int)v : 0;
}

static int fw(struct cli *c, struct cyris_fw **ret)
{
	int r;

	if (!fw_ctx) {
		if ((r = cyris_fw_open(&fw_ctx, c->netns)) < 0) {
			if (c->netns)
				return cli_err(c, r, "netns %s", c->netns);
			return cli_err(c, r, "nftables");
		}
		cyris_fw_set_bad_rule(fw_ctx, env_int("CYRIS_FW_INJECT_BAD_RULE", 1000000));
		cyris_fw_set_rcvbuf(fw_ctx, env_int("CYRIS_FW_RCVBUF", INT_MAX / 2));
	}
	*ret = fw_ctx;
	return CLI_OK;
}

/* Report the last library error: the rule that caused it when there is one. */
static int fw_fail(struct cli *c, int r, const char *file, const char *what)
{
	const struct cyris_fw_error *e = fw_ctx ? cyris_fw_last_error(fw_ctx) : NULL;
	struct cyris_error x;

	if (e && e->rule >= 0 && e->line && file) {
		/* FILE:LINE: of the rule, as for a rule that does not parse */
		cyris_error_set(&x, r, "%s:%u: rule '%s': %s", streq(file, "-") ? "<stdin>" : file,
				e->line, e->text, strerror(-r));
		if (e->e.detail[0])
			cyris_error_detail(&x, e->e.source, "%s", e->e.detail);
		return cli_fail_input(&x);
	}
	if (e && e->e.code == r)
		return cli_failf(c, &e->e, "%s", what);
	cyris_error_set(&x, r, "%s", strerror(-r));
	return cli_failf(c, &x, "%s", what);
}

static int parse_range(struct cli *c, const char *r)
{
	if (!cyris_id_valid(r))
		return cli_usage(c, "range '%s' is not a valid id (1-%d of A-Z a-z 0-9 _ . -, "
				 "not starting with - or .)", r, CYRIS_ID_MAX);
	return CLI_OK;
}

/* Strip a line of a rules file: comments, "- rule:" as in CyRIS's YAML. */
static char *rule_text(char *line)
{
	char *s = line, *e;

	if ((e = strchr(s, '#')))
		*e = '\0';
	while (*s == ' ' || *s == '\t')
		s++;
	if (s[0] == '-' && (s[1] == ' ' || s[1] == '\t'))
		for (s++; *s == ' ' || *s == '\t'; s++)
			;
	if (strncmp(s, "rule:", 5) == 0)
		s += 5;
	return cyris_trim(s);
}

/* Is @ifname one of @p's interfaces (as resolved from the kernel)? */
static bool range_iface(const struct cyris_fw_policy *p, const char *ifname)
{
	size_t i, j;

	for (i = 0; i < p->n_nets; i++)
		for (j = 0; j < p->nets[i].n_ifnames; j++)
			if (streq(p->nets[i].ifnames[j], ifname))
				return true;
	return false;
}

/* Read the rules of @file into @p (already resolved). Every error is
 * FILE:LINE: message, exit 1, and nothing is applied. */
static int read_rules(struct cli *c, const char *file, struct cyris_fw_policy *p)
{
	_cleanup_free_ char *line = NULL;
	const char *shown = streq(file, "-") ? "<stdin>" : file;
	size_t cap = 0;
	ssize_t len;
	unsigned no = 0;
	FILE *f;
	int r = CLI_OK;

	f = streq(file, "-") ? stdin : fopen(file, "re");
	if (!f)
		return cli_err(c, -errno, "%s", file);
	while ((len = getline(&line, &cap, f)) >= 0) {
		struct cyris_fw_rule rule;
		struct cyris_error err;
		char *s;

		no++;
		if (memchr(line, '\0', (size_t)len)) {
			/* the rest of the line would silently go */
			fprintf(stderr, "%s:%u: a NUL byte in the line\n", shown, no);
			r = CLI_FAIL;
			break;
		}
		s = rule_text(line);
		if (!*s)
			continue;
		if (strncmp(s, "uplink ", 7) == 0) {
			/* a gateway's uplink guard (cyris-topo plan --emit fw --gateway) */
			struct cyris_fw_uplink u;
			int k = cyris_fw_uplink_parse(s, &u);

			if (k == 0 && !range_iface(p, u.ifname))
				k = -ENODEV;
			if (k == 0 && (k = cyris_fw_policy_add_uplink(p, u.ifname, u.mac)) == 0)
				continue;
			fprintf(stderr, "%s:%u: '%s': %s\n", shown, no, s, k == -EEXIST
				? "a second uplink line for that interface"
				: k == -EINVAL ? "not 'uplink IFACE from MAC'"
				: k == -ENODEV ? "not an interface of the range here" : strerror(-k));
			r = CLI_FAIL;
			break;
		}
		if (cyris_fw_rule_parse(s, &rule, &err) < 0 ||
		    (rule.line = no, cyris_fw_policy_add_rule(p, &rule, &err) < 0)) {
			struct cyris_error at;

			cyris_error_set(&at, err.code, "%s:%u: %s", shown, no, err.msg);
			cli_fail_input(&at);
			r = CLI_FAIL;
			break;
		}
	}
	if (f != stdin)
		fclose(f);
	return r;
}

/* A policy for @range: networks from the kernel, rules from @file. */
static int load_policy(struct cli *c, const char *range, const char *file,
		       struct cyris_fw_policy *p)
{
	struct cyris_fw *f;
	int r;

	if ((r = parse_range(c, range)))
		return r;
	if (cyris_fw_policy_init(p, range) < 0)
		return cli_err(c, -EINVAL, "%s", range);
	if ((r = fw(c, &f)))
		return r;
	r = cyris_fw_resolve(f, p);
	if (r < 0)
		return cli_err(c, r, "range %s: reading its interfaces", range);
	return read_rules(c, file, p);
}

static void warn_host_drops(struct cli *c, struct cyris_fw *f)
{
	char buf[512];

	if (cyris_fw_foreign_drops(f, buf, sizeof(buf)) > 0)
		cli_msg(c, "warning: the forward hook also has policy drop in %s: range traffic "
			"that cyris accepts may still be dropped there", buf);
}

static int cmd_apply(struct cli *c, int argc, char **argv)
{
	struct cyris_fw_policy p;
	struct cyris_fw *f;
	int r;

	(void)argc;
	r = load_policy(c, argv[0], argv[1], &p);
	if (r == CLI_OK && (r = fw(c, &f)) == CLI_OK) {
		warn_host_drops(c, f);
		int k = cyris_fw_apply(f, &p, c->force);

		if (k == -EEXIST)
			r = fw_fail(c, k, argv[1], "apply: its table exists and is not cyris's (--force replaces it)");
		else if (k < 0)
			r = fw_fail(c, k, argv[1], "apply");
	}
	cyris_fw_policy_clear(&p);
	return r;
}

static int cmd_check(struct cli *c, int argc, char **argv)
{
	_cleanup_free_ char *script = NULL;
	struct cyris_fw_policy p;
	size_t i, j;
	int r, n;

	(void)argc;
	r = load_policy(c, argv[0], argv[1], &p);
	if (r != CLI_OK)
		goto out;
	if (!c->json) {
		/* printed as it is planned: nothing of a large policy's
		 * expansion is kept */
		n = cyris_fw_explain_file(&p, stdout);
		if (n < 0)
			r = cli_err(c, n, "check %s", argv[0]);
		goto out;
	}
	n = cyris_fw_explain(&p, &script);
	if (n < 0) {
		r = cli_err(c, n, "check %s", argv[0]);
		goto out;
	}
	struct json *js = cli_json(c);
	char tbl[CYRIS_FW_TABLESIZ], buf[CYRIS_PREFIXSTRLEN];

	cyris_fw_table_name(p.range, tbl, sizeof(tbl));
	json_obj_open(js, NULL);
	json_str(js, "range", p.range);
	json_str(js, "table", tbl);
	json_arr_open(js, "networks");
	for (i = 0; i < p.n_nets; i++) {
		json_obj_open(js, NULL);
		json_str(js, "name", p.nets[i].name);
		json_arr_open(js, "ifaces");
		for (j = 0; j < p.nets[i].n_ifnames; j++)
			json_str(js, NULL, p.nets[i].ifnames[j]);
		json_arr_close(js);
		json_arr_open(js, "addresses");
		for (j = 0; j < p.nets[i].n_addrs; j++)
			json_str(js, NULL, cyris_prefix_format(&p.nets[i].addrs[j], buf, sizeof(buf)));
		json_arr_close(js);
		json_obj_close(js);
	}
	json_arr_close(js);
	json_arr_open(js, "rules");
	for (i = 0; i < p.n_rules; i++) {
		struct cyris_fw_rule ru;
		_cleanup_free_ char *t = NULL;

		(void)cyris_fw_policy_rule(&p, i, &ru);
		t = cyris_fw_rule_text(&ru);
		json_obj_open(js, NULL);
		json_uint(js, "line", ru.line);
		json_str(js, "rule", t ? t : ru.text);
		json_obj_close(js);
	}
	json_arr_close(js);
	json_uint(js, "kernel_rules", (unsigned)n);
	json_str(js, "nft", script);
	json_obj_close(js);
	json_end(js);
out:
	cyris_fw_policy_clear(&p);
	return r;
}

static int cmd_allow(struct cli *c, int argc, char **argv)
{
	struct cyris_fw_rule rule;
	char text[1024] = "";
	struct cyris_error err;
	struct cyris_fw *f;
	int i, r;

	if ((r = parse_range(c, argv[0])))
		return r;
	/* the rule may come as one word or several */
	for (i = 1; i < argc; i++) {
		size_t len = strlen(text);

		if ((size_t)snprintf(text + len, sizeof(text) - len, "%s%s", i > 1 ? " " : "", argv[i]) >=
		    sizeof(text) - len) {
			cli_msg(c, "rule: longer than %zu bytes", sizeof(text) - 1);
			return CLI_FAIL;
		}
	}
	if (cyris_fw_rule_parse(text, &rule, &err) < 0)
		return cli_failf(c, &err, "rule '%s'", text);
	if ((r = fw(c, &f)))
		return r;
	cyris_error_clear(&err);
	r = cyris_fw_allow(f, argv[0], &rule, &err);
	if (r < 0 && err.msg[0])
		return cli_failf(c, &err, "rule '%s'", rule.text);
	return r < 0 ? fw_fail(c, r, NULL, "allow") : CLI_OK;
}

static int parse_port(struct cli *c, const char *s, uint16_t *ret)
{
	unsigned long v;

	if (cyris_parse_uint(s, 65535, &v) < 0 || !v)
		return cli_usage(c, "'%s' is not a port in 1..65535", s);
	*ret = (uint16_t)v;
	return CLI_OK;
}

static int cmd_expose(struct cli *c, int argc, char **argv)
{
	struct cyris_fw_expose e = { .proto = CYRIS_FW_TCP };
	char ip[64], *colon;
	struct cyris_fw *f;
	const char *v;
	int i, r, lock;

	if ((r = parse_range(c, argv[0])) || (r = parse_port(c, argv[1], &e.host_port)))
		return r;
	if (!streq(argv[2], "to"))
		return cli_usage(c, "expose: R HOSTPORT to IP:PORT [proto tcp|udp] [from CIDR] [snat]");
	snprintf(ip, sizeof(ip), "%s", argv[3]);
	colon = strrchr(ip, ':');
	if (!colon)
		return cli_usage(c, "expose: '%s' is not IP:PORT", argv[3]);
	*colon = '\0';
	if (cyris_ip_parse(ip, &e.to) < 0 || e.to.family != AF_INET)
		return cli_usage(c, "expose: '%s' is not an IPv4 address", ip);
	if ((r = parse_port(c, colon + 1, &e.to_port)))
		return r;
	for (i = 4; i < argc; i++) {
		const char *kw = argv[i];

		if (streq(kw, "snat")) {
			e.snat = true;
			continue;
		}
		if (!(v = cli_value(c, argc, argv, &i)))
			return CLI_USAGE;
		if (streq(kw, "proto") && (streq(v, "tcp") || streq(v, "udp")))
			e.proto = streq(v, "udp") ? CYRIS_FW_UDP : CYRIS_FW_TCP;
		else if (streq(kw, "proto"))
			return cli_usage(c, "expose: proto is tcp or udp, not '%s'", v);
		else if (streq(kw, "from")) {
			if (cyris_prefix_parse(v, false, &e.from) < 0 || e.from.ip.family != AF_INET)
				return cli_usage(c, "expose: '%s' is not an IPv4 CIDR", v);
			e.from = cyris_prefix_network(&e.from);
		} else
			return cli_usage(c, "expose: unknown keyword '%s'", kw);
	}
	if ((r = fw(c, &f)) || (r = host_lock(c, &lock)))
		return r;
	/* another range's expose of the same port cannot come between the
	 * check that it is free and the table that takes it */
	r = cyris_fw_expose(f, argv[0], &e, c->force);
	cyris_host_unlock(lock);
	return r < 0 ? fw_fail(c, r, NULL, "expose") : CLI_OK;
}

static int cmd_nat(struct cli *c, int argc, char **argv)
{
	struct cyris_fw *f;
	int r;

	(void)argc;
	if ((r = parse_range(c, argv[0])))
		return r;
	if (!streq(argv[1], "out"))
		return cli_usage(c, "nat: R out IFACE");
	if (!cyris_ifname_valid(argv[2]))
		return cli_usage(c, "nat: '%s' is not an interface name", argv[2]);
	if ((r = fw(c, &f)))
		return r;
	r = cyris_fw_nat(f, argv[0], argv[2]);
	return r < 0 ? fw_fail(c, r, NULL, "nat") : CLI_OK;
}

/* The table of @range guards the forwarding cyris-topo up turned on for
 * its entry points (a rule commented "ingress IF"): removing it alone would
 * leave that forwarding on with nothing guarding it and no record of who
 * turned it on. cyris-topo down turns the forwarding off, then removes the
 * table. */
static int ingress_rule(const struct cyris_fw_table *t, const struct cyris_fw_krule *k, void *data)
{
	char *ifname = data;

	(void)t;
	/* the first one found (the walk stops there) */
	return cyris_fw_ingress_parse(k->comment, ifname) == 0 ? -EEXIST : 0;
}

static int guards_ingress(struct cli *c, struct cyris_fw *f, const char *range)
{
	struct cyris_error e = {0};
	char ifname[CYRIS_IFNAMSIZ] = "";

	/* a rule at a time: a table of many rules is not held */
	if (cyris_fw_show_each(f, range, "forward", NULL, ingress_rule, ifname) != -EEXIST)
		return 0;   /* none, or destroy says what is wrong */
	cyris_error_set(&e, -EBUSY, "the table guards the forwarding on %s that cyris-topo up turned on "
			"for entry points; cyris-topo down %s turns it off and removes the table "
			"(--force removes the table alone)", ifname, range);
	return cli_failf(c, &e, "destroy");
}

static int cmd_destroy(struct cli *c, int argc, char **argv)
{
	struct cyris_fw *f;
	int r;

	(void)argc;
	if ((r = parse_range(c, argv[0])) || (r = fw(c, &f)))
		return r;
	if (!c->force && (r = guards_ingress(c, f, argv[0])) != 0)
		return r;
	r = cyris_fw_destroy(f, argv[0], c->force);
	if (r == -EPERM)
		return fw_fail(c, r, NULL, "destroy (--force removes it)");
	return r < 0 ? fw_fail(c, r, NULL, "destroy") : CLI_OK;
}

/* show prints each table and each rule as the kernel's dump brings it:
 * nothing of a large table is kept. */
static int show_table_text(const struct cyris_fw_table *t, void *data)
{
	size_t i;

	(void)data;
	printf("range %s: table inet %s\n  ifaces:", t->range, t->name);
	for (i = 0; i < t->n_ifaces; i++)
		printf(" %s", t->ifaces[i]);
	printf("%s\n", t->n_ifaces ? "" : " (none)");
	return 0;
}

static int show_rule_text(const struct cyris_fw_table *t, const struct cyris_fw_krule *k, void *data)
{
	(void)t;
	(void)data;
	printf("  %-11s %-10s %10llu pkts %12llu bytes  %s\n", k->chain,
	       k->verdict[0] ? k->verdict : "-", (unsigned long long)k->packets,
	       (unsigned long long)k->bytes, k->comment);
	return 0;
}

struct show_json {
	struct json *j;
	bool open;               /* a table's object is open */
};

static void show_json_close(struct show_json *x)
{
	if (!x->open)
		return;
	json_arr_close(x->j);
	json_obj_close(x->j);
	x->open = false;
}

static int show_table_json(const struct cyris_fw_table *t, void *data)
{
	struct show_json *x = data;
	size_t i;

	show_json_close(x);
	json_obj_open(x->j, NULL);
	json_str(x->j, "range", t->range);
	json_str(x->j, "table", t->name);
	json_arr_open(x->j, "ifaces");
	for (i = 0; i < t->n_ifaces; i++)
		json_str(x->j, NULL, t->ifaces[i]);
	json_arr_close(x->j);
	json_arr_open(x->j, "rules");
	x->open = true;
	return 0;
}

static int show_rule_json(const struct cyris_fw_table *t, const struct cyris_fw_krule *k, void *data)
{
	struct json *j = ((struct show_json *)data)->j;

	(void)t;
	json_obj_open(j, NULL);
	json_str(j, "chain", k->chain);
	json_uint(j, "handle", k->handle);
	json_str(j, "comment", k->comment[0] ? k->comment : NULL);
	json_str(j, "verdict", k->verdict[0] ? k->verdict : NULL);
	json_uint(j, "packets", k->packets);
	json_uint(j, "bytes", k->bytes);
	json_obj_close(j);
	return 0;
}

static int cmd_show(struct cli *c, int argc, char **argv)
{
	const char *range = argc ? argv[0] : NULL;
	struct cyris_fw *f;
	int r;

	if (argc && (r = parse_range(c, argv[0])))
		return r;
	if ((r = fw(c, &f)))
		return r;
	if (range) {
		/* that it has a table, before anything is printed */
		r = cyris_fw_show_each(f, range, NULL, NULL, NULL, NULL);
		if (r < 0)
			return cli_err(c, r, "show");
		if (r == 0) {
			cli_msg(c, "range %s has no table", range);
			return CLI_FAIL;
		}
	}
	if (c->json) {
		struct show_json x = { .j = cli_json(c) };

		json_obj_open(x.j, NULL);
		json_arr_open(x.j, "ranges");
		r = cyris_fw_show_each(f, range, NULL, show_table_json, show_rule_json, &x);
		show_json_close(&x);
		json_arr_close(x.j);
		json_obj_close(x.j);
		json_end(x.j);
	} else {
		r = cyris_fw_show_each(f, range, NULL, show_table_text, show_rule_text, NULL);
	}
	return r < 0 ? cli_err(c, r, "show") : CLI_OK;
}

static const struct cli_cmd cmds[] = {
	{ "apply", 2, 2, cmd_apply },
	{ "check", 2, 2, cmd_check },
	{ "allow", 2, -1, cmd_allow },
	{ "expose", 4, 9, cmd_expose },
	{ "nat", 3, 3, cmd_nat },
	{ "show", 0, 1, cmd_show },
	{ "destroy", 1, 1, cmd_destroy },
	{ 0 },
};

int main(int argc, char **argv)
{
	struct cli c = {
		.prog = "cyris-fw",
		.help = help,
		.cmds = cmds,
		.batch_ok = true,
	};
	struct cyris_error err;
	int r;

	/* a broken configuration is an error for every tool alike; the
	 * runtime directory holds the host lock */
	if (!(conf = cyris_conf_new()))
		cyris_error_set(&err, -ENOMEM, "%s", strerror(ENOMEM));
	if (!conf || cyris_conf_load(conf, &err) < 0) {
		cyris_conf_free(conf);
		return cli_fail(&c, &err);
	}
	r = cli_main(&c, argc, argv);
	cyris_fw_free(fw_ctx);
	cyris_conf_free(conf);
	return r;
}
