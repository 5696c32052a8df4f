/* SPDX-License-Identifier: MIT */
/*
 * Drives the libvirt provider through the provider interface only
 * (cyris_provider_libvirt_new and p->ops), as cyris-topo does:
 *
 *   vm-provider NETNS create NAME RANGE GUEST BASE BRIDGE MAC CIDR GW KERNEL INITRD CMDLINE
 *   vm-provider NETNS list RANGE | status NAME | ip NAME | destroy NAME [force]
 *
 * Prints what the interface returns, one "key=value" per line, so that the
 * test can compare it with libvirt's own view.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cyris/conf.h"
#include "cyris/link.h"
#include "cyris/provider.h"
#include "cyris/vm.h"

static void print_info(const struct cyris_guest_info *g)
{
	char ip[CYRIS_IPSTRLEN] = "-", mac[18];
	size_t i;

	if (g->ip.family)
		cyris_ip_format(&g->ip, ip, sizeof(ip));
	printf("name=%s id=%s status=%s provider=%s ip=%s source=%s range=%s instance=%u guest=%s role=%s created=%lld",
	       g->vm_name, g->vm_id, cyris_vm_status_str(g->status), g->provider, ip,
	       g->ip_source[0] ? g->ip_source : "-", g->tag.range, g->tag.instance,
	       g->tag.guest, g->tag.role, (long long)g->created_at);
	for (i = 0; i < g->n_macs; i++)
		printf(" mac=%s", cyris_mac_format(g->macs[i], mac));
	putchar('\n');
}

static int create(struct cyris_provider *p, char **a)
{
	struct cyris_guest_spec s = {0};
	struct cyris_guest_info info = {0};
	struct cyris_guest_nic *n = &s.nics[0];
	int r;

	s.name = a[0];
	snprintf(s.tag.range, sizeof(s.tag.range), "%s", a[1]);
	snprintf(s.tag.guest, sizeof(s.tag.guest), "%s", a[2]);
	snprintf(s.tag.role, sizeof(s.tag.role), "guest");
	s.tag.instance = 1;
	s.guest_id = a[2];
	s.index = 1;
	s.base_image = a[3];
	snprintf(n->nic, sizeof(n->nic), "eth0");
	snprintf(n->bridge, sizeof(n->bridge), "%s", a[4]);
	if (cyris_mac_parse(a[5], n->mac) < 0 || cyris_prefix_parse(a[6], true, &n->addr) < 0 ||
	    cyris_ip_parse(a[7], &n->gateway) < 0)
		return -22;
	s.n_nics = 1;
	s.memory_mib = 160;
	s.kernel = a[8];
	s.initrd = a[9];
	s.cmdline = a[10];
	r = p->ops->create(p, &s, &info);
	if (r == 0)
		print_info(&info);
	return r;
}

int main(int argc, char **argv)
{
	struct cyris_provider p = {0};
	struct cyris_conf *conf = cyris_conf_new();
	struct cyris_error err = {0};
	int r;

	cyris_vm_quiet_libvirt();
	if (argc < 4)
		return 2;
	if (!conf || cyris_conf_load(conf, &err) < 0) {
		fprintf(stderr, "%s\n", conf ? err.msg : strerror(ENOMEM));
		cyris_conf_free(conf);
		return 2;
	}
	p.conf = conf;
	snprintf(p.netns, sizeof(p.netns), "%s", argv[1]);
	r = cyris_provider_libvirt_new(&p);
	if (r < 0) {
		fprintf(stderr, "libvirt provider: %s\n", strerror(-r));
		cyris_conf_free(conf);
		return 1;
	}
	printf("ops=%s\n", p.ops->name);
	if (!strcmp(argv[2], "create") && argc == 14) {
		r = create(&p, argv + 3);
	} else if (!strcmp(argv[2], "list")) {
		struct cyris_guest_info *v = NULL;
		size_t n = 0, i;

		r = p.ops->list(&p, argv[3], &v, &n);
		for (i = 0; r == 0 && i < n; i++)
			print_info(&v[i]);
		free(v);
	} else if (!strcmp(argv[2], "status")) {
		enum cyris_vm_status s;

		r = p.ops->status(&p, argv[3], &s);
		if (r == 0)
			printf("status=%s\n", cyris_vm_status_str(s));
	} else if (!strcmp(argv[2], "ip")) {
		struct cyris_guest_info g = {0};

		r = p.ops->ip(&p, argv[3], &g);
		if (r == 0)
			print_info(&g);
	} else if (!strcmp(argv[2], "destroy")) {
		r = p.ops->destroy(&p, argv[3], argc > 4 && !strcmp(argv[4], "force"));
	} else {
		r = -22;
	}
	if (r < 0)
		printf("error=%s\n", strerror(-r));
	p.ops->free(&p);
	cyris_conf_free(conf);
	return r < 0 ? 1 : 0;
}
