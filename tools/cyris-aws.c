/* SPDX-License-Identifier: MIT */
/*
 * cyris-aws — a range's pieces on EC2, one at a time: VPC, subnet,
 * security group and its rules, instances; and everything of a range
 * found by its tags and removed. A thin layer over cyris/aws.h.
 */
#include <signal.h>
#include <sys/socket.h>
#include <stdio.h>

#include "cli.h"
#include "cyris/aws.h"
#include "cyris/conf.h"
#include "cyris/tag.h"
#include "cyris/vm.h"
#include "../net/base/util.h"

static const char help[] =
"Usage: cyris-aws [-j] [-p] [--region R] [--endpoint URL] COMMAND\n"
"\n"
"A range's pieces on EC2, each tagged at creation (cyris:range, cyris:instance,\n"
"cyris:guest, cyris:role), and everything of a range found by those tags.\n"
"\n"
"Commands:\n"
"  claim R [--ssh-key FILE]\n"
"                        claim range R for one build (first in a batch): its key\n"
"                        pair cyris-R (FILE's first key, else one AWS makes),\n"
"                        refused when it is there already (another build of R)\n"
"  vpc create R CIDR [--instance I]\n"
"                        a VPC for range R\n"
"  subnet create R NET CIDR [--vpc ID] [--instance I]\n"
"                        a subnet for network NET (in the range's VPC)\n"
"  sg create R NAME [--vpc ID] [--net NET] [--guest G.k] [--instance I]\n"
"                        a security group: AWS's allow-all egress revoked (egress\n"
"                        inside the VPC only); with --net, NET's subnet let in\n"
"  sg allow GROUP RULE   let into GROUP (sg-... or its name) what the CyRIS rule\n"
"                        (as cyris-fw takes it) allows from its sources\n"
"  instance create NAME --range R --image AMI [--type T]\n"
"       [--nic SUBNET[,ip=A][,sg=GROUP]...[,route]]... [--ssh-key FILE]... [--guest G.k]\n"
"       [--instance I] [--gateway] [--public]\n"
"                        an instance with one ENI per --nic (a subnet id, or a\n"
"                        network name of R with that network's group, and\n"
"                        more groups), the keys in its cloud-init and the first\n"
"                        as the range's key pair; --gateway: no source/dest\n"
"                        check, and the subnet of each NIC marked route (none\n"
"                        marked: of each NIC) sends the VPC's other subnets\n"
"                        through it; --public: an Elastic IP behind the VPC's\n"
"                        internet gateway\n"
"  instance terminate NAME   terminate it and wait (--force: an untagged i-...)\n"
"  instance list [--range R] the instances of R (of every range)\n"
"  instance status NAME  pending, running, stopped, ...\n"
"  instance ip NAME [--wait S]   its public address, else its private one\n"
"  destroy --range R     everything tagged with R, in dependency order\n"
"  ls                    ranges present in the region\n"
"\n"
"Options:\n"
"  -j, --json            JSON output\n"
"  -p, --pretty          indent JSON\n"
"  -b, --batch FILE|-    one command per line, on one connection\n"
"      --region R        the region (else AWS_REGION, AWS_DEFAULT_REGION, the\n"
"                        profile's, aws_region in cyris.conf, us-west-2)\n"
"      --endpoint URL    the EC2 endpoint (else AWS_ENDPOINT_URL_EC2,\n"
"                        AWS_ENDPOINT_URL, aws_endpoint, the region's)\n"
"      --force           instance terminate: an instance without cyris's tags\n"
"  -h, --help            this text;  -V, --version\n"
"\n"
"Environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,\n"
"AWS_PROFILE, AWS_REGION, AWS_DEFAULT_REGION, AWS_ENDPOINT_URL_EC2,\n"
"AWS_ENDPOINT_URL (and ~/.aws/credentials, ~/.aws/config); CYRIS_CONFIG.\n"
"\n"
"Exit status: 0 success, 1 an operation failed, 2 usage error.\n";

#define MAX_KEYS 16

struct opts {
	const char *region, *endpoint;        /* for the whole run */
	/* per command (a batch line's own) */
	const char *vpc, *net, *range, *image, *type, *guest;
	const char *nics[CYRIS_GUEST_MAX_NICS];
	size_t n_nics;
	const char *keys[MAX_KEYS];
	size_t n_keys;
	unsigned instance, wait;
	bool gateway, public_ip;
};

enum { O_REGION = 0x100, O_ENDPOINT, O_VPC, O_NET, O_RANGE, O_IMAGE, O_TYPE, O_NIC, O_SSH_KEY, O_INSTANCE,
       O_WAIT, O_GATEWAY, O_GUEST, O_PUBLIC };

static const struct option long_opts[] = {
	{ "region", required_argument, NULL, O_REGION },
	{ "endpoint", required_argument, NULL, O_ENDPOINT },
	{ "vpc", required_argument, NULL, O_VPC },
	{ "net", required_argument, NULL, O_NET },
	{ "range", required_argument, NULL, O_RANGE },
	{ "image", required_argument, NULL, O_IMAGE },
	{ "type", required_argument, NULL, O_TYPE },
	{ "nic", required_argument, NULL, O_NIC },
	{ "ssh-key", required_argument, NULL, O_SSH_KEY },
	{ "instance", required_argument, NULL, O_INSTANCE },
	{ "wait", required_argument, NULL, O_WAIT },
	{ "gateway", no_argument, NULL, O_GATEWAY },
	{ "guest", required_argument, NULL, O_GUEST },
	{ "public", no_argument, NULL, O_PUBLIC },
	{ 0 },
};

static struct cyris_conf *conf;
static struct cyris_ec2 *ec2;

static int handle_opt(struct cli *c, int opt, const char *arg)
{
	struct opts *o = c->data;
	unsigned long v;

	switch (opt) {
	case O_REGION:
		if (c->line)
			return cli_usage(c, "--region is for the whole run, not one batch line");
		o->region = arg;
		break;
	case O_ENDPOINT:
		if (c->line)
			return cli_usage(c, "--endpoint is for the whole run, not one batch line");
		o->endpoint = arg;
		break;
	case O_VPC: o->vpc = arg; break;
	case O_NET:
		if (!cyris_id_valid(arg))
			return cli_usage(c, "--net '%s' is not a network id", arg);
		o->net = arg;
		break;
	case O_RANGE:
		if (!cyris_id_valid(arg))
			return cli_usage(c, "--range '%s' is not a range id (1-%d of A-Z a-z 0-9 _ . -)", arg,
					 CYRIS_ID_MAX);
		o->range = arg;
		break;
	case O_IMAGE: o->image = arg; break;
	case O_TYPE: o->type = arg; break;
	case O_NIC:
		if (o->n_nics >= CYRIS_GUEST_MAX_NICS)
			return cli_usage(c, "more than %d --nic", CYRIS_GUEST_MAX_NICS);
		o->nics[o->n_nics++] = arg;
		break;
	case O_SSH_KEY:
		if (o->n_keys >= MAX_KEYS)
			return cli_usage(c, "more than %d --ssh-key", MAX_KEYS);
		o->keys[o->n_keys++] = arg;
		break;
	case O_INSTANCE:
		if (cyris_parse_uint(arg, 1000, &v) < 0 || !v)
			return cli_usage(c, "--instance takes a number in 1..1000");
		o->instance = (unsigned)v;
		break;
	case O_WAIT:
		if (cyris_parse_uint(arg, 3600, &v) < 0)
			return cli_usage(c, "--wait takes seconds in 0..3600");
		o->wait = (unsigned)v;
		break;
	case O_GATEWAY: o->gateway = true; break;
	case O_PUBLIC: o->public_ip = true; break;
	case O_GUEST:
		if (!cyris_id_valid(arg))
			return cli_usage(c, "--guest '%s' is not a guest id (G.k)", arg);
		o->guest = arg;
		break;
	default: return cli_usage(c, "unknown option");
	}
	return CLI_OK;
}

static void reset(struct cli *c)
{
	struct opts *o = c->data;
	const char *region = o->region, *endpoint = o->endpoint;

	*o = (struct opts){ .region = region, .endpoint = endpoint };
}

static const struct cli_ext ext = { .longopts = long_opts, .handle = handle_opt, .reset = reset };

/* The one connection of this run, opened on first use. */
static int connect_ec2(struct cli *c)
{
	struct opts *o = c->data;
	struct cyris_ec2_opts eo = { .region = o->region, .endpoint = o->endpoint };
	struct cyris_error err;
	int r;

	if (ec2)
		return CLI_OK;
	if (!conf) {
		if (!(conf = cyris_conf_new()))
			return cli_err(c, -ENOMEM, "configuration");
		if ((r = cyris_conf_load(conf, &err)) < 0)
			return cli_fail_input(&err);
	}
	if ((r = cyris_ec2_open(conf, &eo, &ec2, &err)) < 0)
		return cli_fail(c, &err);
	return CLI_OK;
}

static int failed(struct cli *c)
{
	return cli_fail(c, cyris_ec2_error(ec2));
}

static int need_range(struct cli *c, const char *s)
{
	if (!cyris_id_valid(s))
		return cli_usage(c, "range '%s' is not a valid id (1-%d of A-Z a-z 0-9 _ . -)", s, CYRIS_ID_MAX);
	return CLI_OK;
}

/* Options that belong to other commands are usage errors. */
static int only(struct cli *c, const char *cmd, const char *allowed)
{
	struct opts *o = c->data;
	const struct { const char *name; bool set; } v[] = {
		{ "vpc", o->vpc }, { "net", o->net }, { "range", o->range }, { "image", o->image },
		{ "type", o->type }, { "nic", o->n_nics }, { "ssh-key", o->n_keys }, { "instance", o->instance },
		{ "wait", o->wait }, { "gateway", o->gateway }, { "guest", o->guest }, { "public", o->public_ip },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(v); i++) {
		char w[24];

		snprintf(w, sizeof(w), " %s ", v[i].name);
		if (v[i].set && !strstr(allowed, w))
			return cli_usage(c, "%s: --%s does not belong to it", cmd, v[i].name);
	}
	if (c->force && !strstr(allowed, " force "))
		return cli_usage(c, "%s: --force does not belong to it", cmd);
	return CLI_OK;
}

static void print_id(struct cli *c, const char *kind, const char *id)
{
	if (c->json) {
		struct json *j = cli_json(c);

		json_obj_open(j, NULL);
		json_str(j, kind, id);
		json_obj_close(j);
		json_end(j);
	} else {
		printf("%s\n", id);
	}
}

/* ---- vpc / subnet / sg ------------------------------------------------------------ */

static int parse_cidr(struct cli *c, const char *s, struct cyris_prefix *p)
{
	if (cyris_prefix_parse(s, true, p) < 0 || p->ip.family != AF_INET)
		return cli_usage(c, "'%s' is not an IPv4 CIDR (A.B.C.D/N)", s);
	return CLI_OK;
}

static int cmd_vpc(struct cli *c, int argc, char **argv)
{
	struct opts *o = c->data;
	struct cyris_prefix p;
	char id[CYRIS_AWS_IDSIZ];
	int rc;

	if (!streq(argv[0], "create") || argc != 3)
		return cli_usage(c, "vpc create R CIDR");
	if ((rc = only(c, "vpc create", " instance ")) || (rc = need_range(c, argv[1])) ||
	    (rc = parse_cidr(c, argv[2], &p)) || (rc = connect_ec2(c)))
		return rc;
	struct cyris_ec2_owner w = { .range = argv[1], .instance = o->instance };

	if (cyris_ec2_vpc_create(ec2, &w, &p, id) < 0)
		return failed(c);
	print_id(c, "vpc_id", id);
	return CLI_OK;
}

static int cmd_subnet(struct cli *c, int argc, char **argv)
{
	struct opts *o = c->data;
	struct cyris_prefix p;
	char id[CYRIS_AWS_IDSIZ];
	int rc;

	if (!streq(argv[0], "create") || argc != 4)
		return cli_usage(c, "subnet create R NET CIDR [--vpc ID]");
	if ((rc = only(c, "subnet create", " vpc instance ")) || (rc = need_range(c, argv[1])))
		return rc;
	if (!cyris_id_valid(argv[2]))
		return cli_usage(c, "network '%s' is not a valid id", argv[2]);
	if ((rc = parse_cidr(c, argv[3], &p)) || (rc = connect_ec2(c)))
		return rc;
	struct cyris_ec2_owner w = { .range = argv[1], .instance = o->instance, .net = argv[2] };

	if (cyris_ec2_subnet_create(ec2, &w, &p, o->vpc, NULL, id) < 0)
		return failed(c);
	print_id(c, "subnet_id", id);
	return CLI_OK;
}

static int cmd_sg(struct cli *c, int argc, char **argv)
{
	struct opts *o = c->data;
	char id[CYRIS_AWS_IDSIZ];
	int rc;

	if (streq(argv[0], "allow") && argc == 3) {
		if ((rc = only(c, "sg allow", "")) || (rc = connect_ec2(c)))
			return rc;
		if (cyris_ec2_sg_allow(ec2, argv[1], argv[2]) < 0)
			return failed(c);
		return CLI_OK;
	}
	if (!streq(argv[0], "create") || argc != 3)
		return cli_usage(c, "sg create R NAME [--vpc ID] [--net NET] | sg allow GROUP RULE");
	if ((rc = only(c, "sg create", " vpc net guest instance ")) || (rc = need_range(c, argv[1])) ||
	    (rc = connect_ec2(c)))
		return rc;
	struct cyris_ec2_owner w = { .range = argv[1], .instance = o->instance, .net = o->net, .guest = o->guest };

	if (cyris_ec2_sg_create(ec2, &w, argv[2], o->vpc, id) < 0)
		return failed(c);
	print_id(c, "group_id", id);
	return CLI_OK;
}

/* ---- instances ----------------------------------------------------------------------- */

static void inst_json(struct json *j, const struct cyris_ec2_instance *in)
{
	char b[CYRIS_IPSTRLEN];
	size_t k;

	json_obj_open(j, NULL);
	json_str(j, "name", in->name);
	json_str(j, "id", in->id);
	json_str(j, "range", in->range[0] ? in->range : NULL);
	json_uint(j, "instance", in->instance);
	json_str(j, "guest", in->guest[0] ? in->guest : NULL);
	json_str(j, "role", in->role[0] ? in->role : NULL);
	json_str(j, "state", in->state);
	json_str(j, "private_ip", in->private_ip.family ? cyris_ip_format(&in->private_ip, b, sizeof(b)) : NULL);
	json_str(j, "public_ip", in->public_ip.family ? cyris_ip_format(&in->public_ip, b, sizeof(b)) : NULL);
	json_arr_open(j, "nics");
	for (k = 0; k < in->n_enis; k++) {
		json_obj_open(j, NULL);
		json_str(j, "eni", in->enis[k]);
		json_str(j, "ip", in->eni_ips[k].family ? cyris_ip_format(&in->eni_ips[k], b, sizeof(b)) : NULL);
		json_obj_close(j);
	}
	json_arr_close(j);
	json_obj_close(j);
}

static void inst_text(const struct cyris_ec2_instance *in)
{
	char a[CYRIS_IPSTRLEN], b[CYRIS_IPSTRLEN];

	printf("%-28s %-20s %-10s %-15s %s\n", in->name[0] ? in->name : "-", in->id, in->state,
	       in->private_ip.family ? cyris_ip_format(&in->private_ip, a, sizeof(a)) : "-",
	       in->public_ip.family ? cyris_ip_format(&in->public_ip, b, sizeof(b)) : "-");
}

/* The public keys of @path (one or more lines) into @v. */
static int load_keys(struct cli *c, struct cyris_ssh_keys *keys)
{
	struct opts *o = c->data;
	struct cyris_error err;
	size_t i;

	for (i = 0; i < o->n_keys; i++)
		if (cyris_ssh_keys_load(o->keys[i], keys, &err) < 0)
			return cli_fail(c, &err);
	return CLI_OK;
}

static int cmd_claim(struct cli *c, int argc, char **argv)
{
	struct cyris_ssh_keys keys = { 0 };
	int rc;

	(void)argc;
	if ((rc = only(c, "claim", " ssh-key ")) || (rc = need_range(c, argv[0])) || (rc = load_keys(c, &keys)) ||
	    (rc = connect_ec2(c)))
		goto out;
	if (cyris_ec2_range_claim(ec2, argv[0], keys.n ? keys.v[0] : NULL) < 0)
		rc = failed(c);
out:
	cyris_ssh_keys_free(&keys);
	return rc;
}

static int inst_create(struct cli *c, const char *name)
{
	struct opts *o = c->data;
	struct cyris_ec2_instance_spec s = {
		.name = name, .owner = { .range = o->range, .instance = o->instance, .guest = o->guest },
		.image = o->image, .type = o->type, .forwarding = o->gateway, .gateway_routes = o->gateway,
		.public_ip = o->public_ip, .role = o->gateway ? "gateway" : o->public_ip ? "entry" : NULL,
	};
	const char *groups[CYRIS_GUEST_MAX_NICS][4];
	char key_name[96];
	struct cyris_ssh_keys keys = { 0 };
	struct cyris_ec2_instance in;
	char subnets[CYRIS_GUEST_MAX_NICS][128];
	size_t i;
	int rc;

	if ((rc = only(c, "instance create", " range image type nic ssh-key instance gateway guest public ")))
		return rc;
	if (!o->range || !o->image || !o->n_nics)
		return cli_usage(c, "instance create NAME --range R --image AMI --nic SUBNET[,ip=A]...");
	if (!cyris_id_valid(name))
		return cli_usage(c, "instance '%s' is not a valid name (1-%d of A-Z a-z 0-9 _ . -)", name,
				 CYRIS_ID_MAX);
	for (i = 0; i < o->n_nics; i++) {
		char *w, *save = NULL;

		if (cyris_strlcpy(subnets[i], o->nics[i], sizeof(subnets[i])) < 0)
			return cli_usage(c, "--nic '%s' is too long", o->nics[i]);
		w = strtok_r(subnets[i], ",", &save);
		if (!w || !*w)
			return cli_usage(c, "--nic '%s' is not SUBNET[,ip=A][,sg=GROUP]...", o->nics[i]);
		s.nics[i].subnet = w;
		s.nics[i].groups = groups[i];
		while ((w = strtok_r(NULL, ",", &save))) {
			if (strncmp(w, "ip=", 3) == 0 && !s.nics[i].ip.family && cyris_ip_parse(w + 3, &s.nics[i].ip) == 0 &&
			    s.nics[i].ip.family == AF_INET)
				continue;
			if (streq(w, "route") && !s.nics[i].route) {
				s.nics[i].route = true;
				continue;
			}
			if (strncmp(w, "sg=", 3) == 0 && w[3] && s.nics[i].n_groups < ARRAY_SIZE(groups[i])) {
				groups[i][s.nics[i].n_groups++] = w + 3;
				continue;
			}
			return cli_usage(c, "--nic '%s': '%s' is not ip=IPV4 (once), route (once) or sg=GROUP (up to %zu)",
					 o->nics[i], w, ARRAY_SIZE(groups[i]));
		}
	}
	s.n_nics = o->n_nics;
	if ((rc = load_keys(c, &keys)))
		goto out;
	s.ssh_keys = (const char *const *)keys.v;
	s.n_ssh_keys = keys.n;
	if ((rc = connect_ec2(c)))
		goto out;
	/* the range's key pair, as up imports it: its first key */
	if (keys.n) {
		struct cyris_ec2_owner w = { .range = o->range, .instance = 1 };

		snprintf(key_name, sizeof(key_name), "cyris-%s", o->range);
		if (cyris_ec2_keypair_import(ec2, &w, key_name, keys.v[0]) < 0 &&
		    cyris_ec2_error(ec2)->code != -EEXIST) {
			rc = failed(c);
			goto out;
		}
		s.key_name = key_name;
	}
	if (cyris_ec2_instance_create(ec2, &s, &in) < 0) {
		rc = failed(c);
		goto out;
	}
	if (c->json) {
		struct json *j = cli_json(c);

		inst_json(j, &in);
		json_end(j);
	} else {
		printf("%s\n", in.id);
	}
	rc = CLI_OK;
out:
	cyris_ssh_keys_free(&keys);
	return rc;
}

static int inst_list(struct cli *c)
{
	struct opts *o = c->data;
	struct cyris_ec2_instance *v = NULL;
	size_t n = 0, i;
	int rc;

	if ((rc = only(c, "instance list", " range ")) || (rc = connect_ec2(c)))
		return rc;
	if (cyris_ec2_instance_list(ec2, o->range, &v, &n) < 0)
		return failed(c);
	if (c->json) {
		struct json *j = cli_json(c);

		json_obj_open(j, NULL);
		json_arr_open(j, "instances");
		for (i = 0; i < n; i++)
			inst_json(j, &v[i]);
		json_arr_close(j);
		json_obj_close(j);
		json_end(j);
	} else {
		for (i = 0; i < n; i++)
			inst_text(&v[i]);
	}
	free(v);
	return CLI_OK;
}

static int inst_ip(struct cli *c, const char *name)
{
	struct opts *o = c->data;
	struct cyris_ec2_instance in;
	const struct cyris_ip *ip;
	char b[CYRIS_IPSTRLEN];
	unsigned waited = 0;
	int rc;

	if ((rc = only(c, "instance ip", " wait ")) || (rc = connect_ec2(c)))
		return rc;
	for (;;) {
		if (cyris_ec2_instance_get(ec2, name, &in) < 0)
			return failed(c);
		ip = in.public_ip.family ? &in.public_ip : in.private_ip.family ? &in.private_ip : NULL;
		if (ip || waited >= o->wait * 1000)
			break;
		usleep(500 * 1000);
		waited += 500;
	}
	if (!ip) {
		cli_msg(c, "instance %s: no address yet", name);
		return CLI_FAIL;
	}
	if (c->json) {
		struct json *j = cli_json(c);

		json_obj_open(j, NULL);
		json_str(j, "name", name);
		json_str(j, "ip", cyris_ip_format(ip, b, sizeof(b)));
		json_str(j, "source", in.public_ip.family ? "public" : "private");
		json_obj_close(j);
		json_end(j);
	} else {
		printf("%s\n", cyris_ip_format(ip, b, sizeof(b)));
	}
	return CLI_OK;
}

static int cmd_instance(struct cli *c, int argc, char **argv)
{
	struct cyris_ec2_instance in;
	int rc;

	if (streq(argv[0], "create") && argc == 2)
		return inst_create(c, argv[1]);
	if (streq(argv[0], "list") && argc == 1)
		return inst_list(c);
	if (streq(argv[0], "ip") && argc == 2)
		return inst_ip(c, argv[1]);
	if (streq(argv[0], "terminate") && argc == 2) {
		if ((rc = only(c, "instance terminate", " force ")) || (rc = connect_ec2(c)))
			return rc;
		if (cyris_ec2_instance_terminate(ec2, argv[1], c->force) < 0)
			return failed(c);
		return CLI_OK;
	}
	if (streq(argv[0], "status") && argc == 2) {
		if ((rc = only(c, "instance status", "")) || (rc = connect_ec2(c)))
			return rc;
		if (cyris_ec2_instance_get(ec2, argv[1], &in) < 0)
			return failed(c);
		if (c->json) {
			struct json *j = cli_json(c);

			inst_json(j, &in);
			json_end(j);
		} else {
			printf("%s\n", in.state);
		}
		return CLI_OK;
	}
	return cli_usage(c, "instance create|terminate|list|status|ip ...");
}

/* ---- destroy / ls -------------------------------------------------------------------- */

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	interrupted = sig;
}

static int cmd_destroy(struct cli *c, int argc, char **argv)
{
	struct opts *o = c->data;
	struct cyris_ec2_down_stats st;
	struct sigaction sa = { .sa_handler = on_signal };
	int rc;

	(void)argc;
	(void)argv;
	if ((rc = only(c, "destroy", " range ")))
		return rc;
	if (!o->range)
		return cli_usage(c, "destroy --range R");
	if ((rc = connect_ec2(c)))
		return rc;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (cyris_ec2_destroy(ec2, o->range, &interrupted, &st) < 0) {
		rc = failed(c);
		return interrupted ? 128 + interrupted : rc;
	}
	if (c->json) {
		struct json *j = cli_json(c);

		json_obj_open(j, NULL);
		json_str(j, "range", o->range);
		json_uint(j, "addresses", st.addresses);
		json_uint(j, "instances", st.instances);
		json_uint(j, "network_interfaces", st.enis);
		json_uint(j, "security_groups", st.groups);
		json_uint(j, "subnets", st.subnets);
		json_uint(j, "route_tables", st.route_tables);
		json_uint(j, "internet_gateways", st.gateways);
		json_uint(j, "key_pairs", st.key_pairs);
		json_uint(j, "vpcs", st.vpcs);
		json_obj_close(j);
		json_end(j);
	} else {
		printf("range %s: %zu instances, %zu addresses, %zu groups, %zu subnets, %zu route tables, "
		       "%zu gateways, %zu key pairs, %zu VPCs removed\n", o->range, st.instances, st.addresses,
		       st.groups, st.subnets, st.route_tables, st.gateways, st.key_pairs, st.vpcs);
	}
	return CLI_OK;
}

static int cmd_ls(struct cli *c, int argc, char **argv)
{
	char (*v)[CYRIS_ID_MAX + 1] = NULL;
	size_t n = 0;
	int rc;

	(void)argc;
	(void)argv;
	if ((rc = only(c, "ls", "")) || (rc = connect_ec2(c)))
		return rc;
	if (cyris_ec2_ls(ec2, &v, &n) < 0)
		return failed(c);
	cli_print_ids(c, "ranges", (const char (*)[CYRIS_ID_MAX + 1])v, n);
	free(v);
	return CLI_OK;
}

static const struct cli_cmd cmds[] = {
	{ "claim", 1, 1, cmd_claim },
	{ "vpc", 1, 3, cmd_vpc },
	{ "subnet", 1, 4, cmd_subnet },
	{ "sg", 1, 3, cmd_sg },
	{ "instance", 1, 2, cmd_instance },
	{ "destroy", 0, 0, cmd_destroy },
	{ "ls", 0, 0, cmd_ls },
	{ 0 },
};

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	struct cli c = {
		.prog = "cyris-aws",
		.help = help,
		.cmds = cmds,
		.ext = &ext,
		.batch_ok = true,
		.data = &o,
	};
	int r;

	signal(SIGPIPE, SIG_IGN);
	r = cli_main(&c, argc, argv);
	cyris_ec2_free(ec2);
	cyris_conf_free(conf);
	return r;
}
