/* SPDX-License-Identifier: MIT */
/*
 * cyris-check — can this host run a range? Each capability, probed for real.
 */
#include <stdio.h>

#include "cli.h"
#include "cyris/check.h"
#include "cyris/conf.h"
#include "cyris/vm.h"
#include "../net/base/util.h"

static const char help[] =
"Usage: cyris-check [-j] [-p] [--provider netns|libvirt|aws] [run]\n"
"\n"
"Checks, for this host, each capability a range needs: CAP_NET_ADMIN;\n"
"bridges, veths, VXLAN and nf_tables really usable (made and removed in a\n"
"throw-away namespace); named namespaces; /dev/kvm; libvirt reachable\n"
"(version, URI); the image directory readable by the QEMU user; whether\n"
"clients from outside can reach entry points (IPv4 forwarding, the default\n"
"route's interface; reported, not required). With --provider aws: AWS\n"
"credentials found and accepted, the EC2 endpoint answers, the region is\n"
"offered, the VPC quota is not used up, a CreateVpc would get through.\n"
"cyris-topo up runs the same checks first and refuses with the list.\n"
"\n""Commands:\n"
"  run                   the checks (the default when no command is given)\n"
"\n"
"Options:\n"
"  -j, --json            JSON output\n"
"  -p, --pretty          indent JSON\n"
"      --provider P      what must work: netns (default), libvirt or aws\n"
"  -h, --help            this text;  -V, --version\n"
"\n"
"Environment: CYRIS_CONFIG, CYRIS_LIBVIRT_URI, CYRIS_IMAGE_DIR (cyris.conf(5));\n"
"AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_PROFILE,\n"
"AWS_REGION, AWS_DEFAULT_REGION, AWS_ENDPOINT_URL_EC2, AWS_ENDPOINT_URL,\n"
"AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE.\n"
"\n"
"Exit status: 0 the provider's needs are met, 1 something it needs is\n"
"missing, 2 usage error.\n";

static const char *provider = "netns";

enum { O_PROVIDER = 1000 };
static const struct option longopts[] = {
	{ "provider", required_argument, NULL, O_PROVIDER },
	{ 0 },
};

static int handle(struct cli *c, int o, const char *arg)
{
	if (o != O_PROVIDER)
		return CLI_USAGE;
	if (!streq(arg, "netns") && !streq(arg, "libvirt") && !streq(arg, "aws"))
		return cli_usage(c, "--provider takes netns, libvirt or aws");
	provider = arg;
	return 0;
}

static const struct cli_ext ext = { .longopts = longopts, .handle = handle };

static int run(struct cli *c)
{
	struct cyris_check_item *v = NULL;
	struct cyris_conf *conf = cyris_conf_new();
	struct cyris_error err;
	size_t n = 0, i;
	int failed;

	if (!conf)
		return cli_err(c, -ENOMEM, "configuration");
	if (cyris_conf_load(conf, &err) < 0) {
		cyris_conf_free(conf);
		return cli_fail(c, &err);
	}
	failed = cyris_check_run(provider, conf, true, &v, &n);
	cyris_conf_free(conf);
	if (failed < 0)
		return cli_err(c, failed, "check");
	/* a provider that is not built in adds no item: never "ready" */
	if (streq(provider, "aws")) {
		for (i = 0; i < n && strncmp(v[i].name, "aws_", 4) != 0; i++)
			;
		if (i == n) {
			free(v);
			return cli_err(c, -EOPNOTSUPP, "provider aws: not built into this libcyris");
		}
	}
	if (c->json) {
		struct json *j = cli_json(c);

		json_obj_open(j, NULL);
		json_str(j, "provider", provider);
		json_bool(j, "ok", failed == 0);
		json_arr_open(j, "checks");
		for (i = 0; i < n; i++) {
			json_obj_open(j, NULL);
			json_str(j, "name", v[i].name);
			json_bool(j, "ok", v[i].ok);
			json_bool(j, "needed", v[i].needed);
			json_str(j, "detail", v[i].detail);
			json_obj_close(j);
		}
		json_arr_close(j);
		json_obj_close(j);
		json_end(j);
	} else {
		for (i = 0; i < n; i++)
			printf("%s %-14s %s%s\n", v[i].ok ? "✓" : v[i].needed ? "✗" : "-", v[i].name,
			       v[i].detail, !v[i].ok && !v[i].needed ? " (not needed)" : "");
		printf("%s provider: %s\n", provider, failed ? "something it needs is missing" : "ready");
	}
	free(v);
	return failed ? CLI_FAIL : CLI_OK;
}

static int cmd_none(struct cli *c, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return run(c);
}

static const struct cli_cmd cmds[] = {
	{ "run", 0, 0, cmd_none },
	{ 0 },
};

int main(int argc, char **argv)
{
	struct cli c = { .prog = "cyris-check", .help = help, .cmds = cmds, .ext = &ext };
	char *def[] = { argv[0], "run", NULL };
	int i;

	cyris_vm_quiet_libvirt();   /* libvirt's message is reported once, by us */
	/* no command: the checks are the command */
	for (i = 1; i < argc; i++)
		if (argv[i][0] != '-' && !(i > 1 && streq(argv[i - 1], "--provider")))
			break;
	if (i == argc) {
		char **args = calloc((size_t)argc + 2, sizeof(*args));
		int r;

		if (!args)
			return CLI_FAIL;
		memcpy(args, argv, (size_t)argc * sizeof(*args));
		args[argc] = def[1];
		r = cli_main(&c, argc + 1, args);
		free(args);
		return r;
	}
	return cli_main(&c, argc, argv);
}
