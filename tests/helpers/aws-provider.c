/* SPDX-License-Identifier: MIT */
/*
 * Drives the "aws" provider through the provider interface only
 * (cyris_provider_open() and p->ops), as cyris-topo drives a provider:
 *
 *   aws-provider create NAME RANGE GUEST AMI NET IP   (the range's network NET
 *                                                      and its group, made first)
 *   aws-provider list RANGE | status NAME | ip NAME | destroy NAME
 *
 * Prints what the interface returns, one line per guest, "key=value"
 * words, so that the test can compare it with boto3's view. The endpoint
 * and credentials come from the AWS conventions (environment).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cyris/conf.h"
#include "cyris/provider.h"

static void print_info(const struct cyris_guest_info *g)
{
	char ip[CYRIS_IPSTRLEN] = "-";

	if (g->ip.family)
		cyris_ip_format(&g->ip, ip, sizeof(ip));
	printf("name=%s id=%s status=%s provider=%s ip=%s source=%s range=%s instance=%u guest=%s role=%s\n",
	       g->vm_name, g->vm_id, cyris_vm_status_str(g->status), g->provider, ip,
	       g->ip_source[0] ? g->ip_source : "-", g->tag.range, g->tag.instance, g->tag.guest, g->tag.role);
}

static int fail(struct cyris_provider *p, const char *what, int r)
{
	const struct cyris_error *e = p->ops->error ? p->ops->error(p) : NULL;
	char buf[CYRIS_ERROR_MSG_MAX + CYRIS_ERROR_DETAIL_MAX + 16];

	if (e && e->code) {
		cyris_error_format(e, buf, sizeof(buf));
		fprintf(stderr, "aws-provider: %s: %s\n", what, buf);
	} else {
		fprintf(stderr, "aws-provider: %s: %s\n", what, strerror(-r));
	}
	return 1;
}

static int run(struct cyris_provider *p, int argc, char **argv)
{
	struct cyris_guest_info g, *v = NULL;
	enum cyris_vm_status st;
	size_t n = 0, i;
	int r;

	if (argc == 8 && strcmp(argv[1], "create") == 0) {
		struct cyris_guest_spec s = { .name = argv[2], .guest_id = argv[4], .index = 1,
					      .base_image = argv[5], .n_nics = 1 };

		snprintf(s.tag.range, sizeof(s.tag.range), "%s", argv[3]);
		snprintf(s.tag.guest, sizeof(s.tag.guest), "%s", argv[4]);
		s.tag.instance = 1;
		snprintf(s.nics[0].nic, sizeof(s.nics[0].nic), "eth0");
		snprintf(s.nics[0].net, sizeof(s.nics[0].net), "%s", argv[6]);
		if (cyris_ip_parse(argv[7], &s.nics[0].addr.ip) < 0)
			return fprintf(stderr, "aws-provider: bad address %s\n", argv[7]), 2;
		s.nics[0].addr.len = 32;
		if ((r = p->ops->create(p, &s, &g)) < 0)
			return fail(p, "create", r);
		print_info(&g);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "list") == 0) {
		if ((r = p->ops->list(p, argv[2], &v, &n)) < 0)
			return fail(p, "list", r);
		for (i = 0; i < n; i++)
			print_info(&v[i]);
		free(v);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "status") == 0) {
		if ((r = p->ops->status(p, argv[2], &st)) < 0)
			return fail(p, "status", r);
		printf("%s\n", cyris_vm_status_str(st));
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "ip") == 0) {
		memset(&g, 0, sizeof(g));
		if ((r = p->ops->ip(p, argv[2], &g)) < 0)
			return fail(p, "ip", r);
		print_info(&g);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "destroy") == 0) {
		if ((r = p->ops->destroy(p, argv[2], false)) < 0)
			return fail(p, "destroy", r);
		return 0;
	}
	fprintf(stderr, "usage: aws-provider create NAME RANGE GUEST AMI NET IP | list RANGE | status NAME | "
		"ip NAME | destroy NAME\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct cyris_conf *conf = cyris_conf_new();
	struct cyris_provider *p = NULL;
	struct cyris_error err;
	int r, rc;

	if (!conf)
		return 1;
	if ((r = cyris_conf_load(conf, &err)) < 0) {
		fprintf(stderr, "aws-provider: %s\n", err.msg);
		cyris_conf_free(conf);
		return 1;
	}
	if ((r = cyris_provider_open("aws", conf, NULL, &p)) < 0) {
		fprintf(stderr, "aws-provider: open: %s\n", strerror(-r));
		cyris_conf_free(conf);
		return 1;
	}
	rc = run(p, argc, argv);
	cyris_provider_free(p);
	cyris_conf_free(conf);
	return rc;
}
