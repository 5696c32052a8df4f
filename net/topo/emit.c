/* SPDX-License-Identifier: MIT */
/*
 * A plan as input for the single-purpose tools: a cyris-bridge batch, the
 * rules for cyris-fw apply, cyris-vm command lines (cyris-topo plan --emit).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cyris/link.h"
#include "cyris/plan.h"
#include "cyris/range.h"
#include "../base/util.h"

/* 0, or -EIO when @f could not take it all. */
static int flushed(FILE *f)
{
	return ferror(f) || fflush(f) ? -EIO : 0;
}

int cyris_plan_emit_bridge(const struct cyris_plan *p, bool guests, FILE *f)
{
	char b[CYRIS_PREFIXSTRLEN], ip[CYRIS_IPSTRLEN], mac[18];
	size_t i, k;

	fprintf(f, "# cyris-bridge -b - input for range %s (cyris-topo plan --emit bridge)\n", p->range);
	for (i = 0; i < p->n_nets; i++) {
		const struct cyris_plan_net *n = &p->nets[i];

		if (!n->local)
			continue;
		fprintf(f, "add %s range %s net %s inst %u addr %s mac %s\n", n->bridge, p->range, n->name,
			n->instance, cyris_prefix_format(&n->host_addr, b, sizeof(b)),
			cyris_mac_format(n->mac, mac));
		fprintf(f, "set %s forwarding on\n", n->bridge);
		if (n->vni) {
			fprintf(f, "vxlan %s id %u remote %s", n->vxlan, n->vni,
				cyris_ip_format(&n->remotes[0], ip, sizeof(ip)));
			fprintf(f, " local %s master %s range %s net %s inst %u\n",
				cyris_ip_format(&n->local_ip, ip, sizeof(ip)), n->bridge, p->range, n->name,
				n->instance);
			for (k = 1; k < n->n_remotes; k++)
				fprintf(f, "remote add %s %s\n", n->vxlan,
					cyris_ip_format(&n->remotes[k], ip, sizeof(ip)));
		}
	}
	for (i = 0; guests && i < p->n_guests; i++) {
		const struct cyris_plan_guest *g = &p->guests[i];
		bool routed = false;

		if (!g->local)
			continue;
		fprintf(f, "netns add %s range %s inst %u guest %s\n", g->name, p->range, g->instance,
			g->tag_guest);
		for (k = 0; k < g->n_nics; k++) {
			const struct cyris_plan_nic *n = &g->nics[k];

			fprintf(f, "veth %s peer %s peer-netns %s master %s range %s net %s inst %u guest %s nic %s peer-mac %s\n",
				n->host_ifname, n->nic, g->name, p->nets[n->net].bridge, p->range,
				p->nets[n->net].name, g->instance, g->tag_guest, n->nic,
				cyris_mac_format(n->mac, mac));
		}
		for (k = 0; k < g->n_nics; k++) {
			const struct cyris_plan_nic *n = &g->nics[k];
			const struct cyris_plan_net *net = &p->nets[n->net];

			fprintf(f, "in %s addr add %s dev %s\n", g->name,
				cyris_prefix_format(&n->addr, b, sizeof(b)), n->nic);
			if (g->gateway)
				fprintf(f, "in %s set %s forwarding on\n", g->name, n->nic);
			if (!routed) {
				/* as the netns provider: via the gateway; a gateway via the host */
				const struct cyris_ip *via = cyris_ip_equal(&n->addr.ip, &net->gateway)
					? &net->host_addr.ip : &net->gateway;

				fprintf(f, "in %s route add default via %s dev %s\n", g->name,
					cyris_ip_format(via, ip, sizeof(ip)), n->nic);
				routed = true;
			}
		}
	}
	return flushed(f);
}

int cyris_plan_emit_fw(const struct cyris_plan *p, const char *gateway, FILE *f,
		       struct cyris_error *err)
{
	int at = -1;
	size_t i;

	if (gateway) {
		for (i = 0; i < p->n_guests && !streq(p->guests[i].name, gateway); i++)
			;
		if (i == p->n_guests || !p->guests[i].gateway)
			return cyris_error_set(err, -EINVAL, "'%s' is not a gateway guest of the plan",
					       gateway);
		at = (int)i;
	}
	fprintf(f, "# cyris-fw apply %s - input: the rules enforced %s%s\n", p->range,
		at < 0 ? "on the host" : "in ", at < 0 ? "" : gateway);
	for (i = 0; i < p->n_rules; i++) {
		_cleanup_free_ char *t = NULL;

		if (p->rules[i].at != at)
			continue;
		if (!(t = cyris_fw_rule_text(&p->rules[i].fw)))
			return cyris_error_set(err, -ENOMEM, "rule '%s': %s", p->rules[i].orig,
					       strerror(ENOMEM));
		fprintf(f, "%s\n", t);
	}
	if (at >= 0 && p->guests[at].uplink[0]) {
		char mac[18];

		fprintf(f, "uplink %s from %s\n", p->guests[at].uplink,
			cyris_mac_format(p->guests[at].uplink_mac, mac));
	}
	if (flushed(f) < 0)
		return cyris_error_set(err, -EIO, "the rules of range %s: %s", p->range, strerror(EIO));
	return 0;
}

/* " OPT WORD", WORD quoted for a batch line (and the shell) when needed. */
static void put_opt(FILE *f, const char *name, const char *w)
{
	fprintf(f, " %s ", name);
	cyris_fput_word(f, w);
}

int cyris_plan_emit_vm(const struct cyris_plan *p, FILE *f)
{
	char b[CYRIS_PREFIXSTRLEN], ip[CYRIS_IPSTRLEN], mac[18];
	size_t i, k;

	fprintf(f, "# cyris-vm command lines for range %s (cyris-topo plan --emit vm)\n", p->range);
	for (i = 0; i < p->n_guests; i++) {
		const struct cyris_plan_guest *g = &p->guests[i];
		const struct cyris_range_guestdef *d = g->def;

		if (!g->local)
			continue;
		fprintf(f, "create %s", g->name);
		put_opt(f, "--base", d && d->image[0] ? d->image :
			d && d->basevm_config_file[0] ? d->basevm_config_file : "-");
		fprintf(f, " --range %s --instance %u --guest %s", p->range, g->instance, g->tag_guest);
		if (d && d->memory_mib)
			fprintf(f, " --memory %u", d->memory_mib);
		if (d && d->vcpus)
			fprintf(f, " --vcpus %u", d->vcpus);
		for (k = 0; k < g->n_nics; k++)
			fprintf(f, " --nic %s,mac=%s", p->nets[g->nics[k].net].bridge,
				cyris_mac_format(g->nics[k].mac, mac));
		if (g->n_nics) {
			const struct cyris_plan_net *n = &p->nets[g->nics[0].net];

			fprintf(f, " --ip %s", cyris_prefix_format(&g->nics[0].addr, b, sizeof(b)));
			if (!g->gateway)
				fprintf(f, ",gw=%s", cyris_ip_format(&n->gateway, ip, sizeof(ip)));
		}
		if (d && d->kernel[0])
			put_opt(f, "--kernel", d->kernel);
		if (d && d->kernel[0] && d->initrd[0])
			put_opt(f, "--initrd", d->initrd);
		if (d && d->kernel[0] && d->cmdline[0])
			put_opt(f, "--cmdline", d->cmdline);
		fputc('\n', f);
	}
	return flushed(f);
}
