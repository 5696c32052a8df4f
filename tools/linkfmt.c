/* SPDX-License-Identifier: MIT */
#include <linux/if.h>
#include <linux/neighbour.h>

#include "linkfmt.h"
#include "../net/base/util.h"

static const char *state_of(const struct cyris_link *k)
{
	if (!(k->flags & IFF_UP))
		return "down";
	return cyris_operstate_str(k->operstate);
}

static void json_tag(struct json *j, const struct cyris_link *k)
{
	if (!k->owned) {
		json_null(j, "owner");
		return;
	}
	json_obj_open(j, "owner");
	json_str(j, "range", k->tag.range[0] ? k->tag.range : NULL);
	json_str(j, "net", k->tag.net[0] ? k->tag.net : NULL);
	json_str(j, "role", k->tag.role[0] ? k->tag.role : NULL);
	if (k->tag.instance)
		json_uint(j, "instance", k->tag.instance);
	if (k->tag.guest[0])
		json_str(j, "guest", k->tag.guest);
	if (k->tag.nic[0])
		json_str(j, "nic", k->tag.nic);
	json_obj_close(j);
}

void linkfmt_json_link(struct json *j, const struct cyris_link *k,
		       const struct cyris_addr_list *addrs)
{
	char buf[CYRIS_PREFIXSTRLEN];
	size_t i;

	json_str(j, "name", k->name);
	json_int(j, "ifindex", k->ifindex);
	json_str(j, "kind", k->kind[0] ? k->kind : NULL);
	json_str(j, "state", state_of(k));
	json_str(j, "mac", k->has_mac ? cyris_mac_format(k->mac, buf) : NULL);
	json_uint(j, "mtu", k->mtu);
	json_str(j, "alias", k->alias[0] ? k->alias : NULL);
	json_bool(j, "owned", k->owned);
	json_tag(j, k);
	json_arr_open(j, "altnames");
	for (i = 0; i < k->n_altnames; i++)
		json_str(j, NULL, k->altnames[i]);
	json_arr_close(j);
	json_arr_open(j, "addresses");
	for (i = 0; addrs && i < addrs->n; i++)
		if (addrs->v[i].ifindex == k->ifindex)
			json_str(j, NULL, cyris_prefix_format(&addrs->v[i].prefix, buf, sizeof(buf)));
	json_arr_close(j);
	if (streq(k->kind, "bridge")) {
		json_bool(j, "stp", k->stp_state != 0);
		json_uint(j, "forward_delay", k->forward_delay);
		json_bool(j, "vlan_filtering", k->vlan_filtering);
	} else if (streq(k->kind, "vxlan")) {
		json_uint(j, "vni", k->vni);
		json_str(j, "remote", k->remote.family ? cyris_ip_format(&k->remote, buf, sizeof(buf)) : NULL);
		json_str(j, "local", k->local.family ? cyris_ip_format(&k->local, buf, sizeof(buf)) : NULL);
		json_uint(j, "dstport", k->dstport);
	} else if (streq(k->kind, "tun")) {
		if (k->tun_owner >= 0)
			json_int(j, "owner_uid", k->tun_owner);
		else
			json_null(j, "owner_uid");
		json_bool(j, "persist", k->tun_persist);
	}
}

static void text_link(FILE *f, const struct cyris_link *k,
		      const struct cyris_addr_list *addrs, const char *indent)
{
	char buf[CYRIS_PREFIXSTRLEN];
	size_t i;

	fprintf(f, "%s%-15s %-6s %-8s %s mtu %u", *indent ? "  port " : "", k->name,
		k->kind[0] ? k->kind : "-", state_of(k),
		k->has_mac ? cyris_mac_format(k->mac, buf) : "-", k->mtu);
	if (streq(k->kind, "vxlan"))
		fprintf(f, " vni %u dstport %u", k->vni, k->dstport);
	fputc('\n', f);
	for (i = 0; i < k->n_altnames; i++)
		fprintf(f, "%s    altname %s\n", indent, k->altnames[i]);
	if (k->alias[0])
		fprintf(f, "%s    alias   %s%s\n", indent, k->alias,
			k->owned ? "" : "  (not cyris)");
	for (i = 0; addrs && i < addrs->n; i++)
		if (addrs->v[i].ifindex == k->ifindex)
			fprintf(f, "%s    addr    %s\n", indent,
				cyris_prefix_format(&addrs->v[i].prefix, buf, sizeof(buf)));
}

static bool in_range(const struct cyris_link *k, const char *range)
{
	return !range || (k->owned && cyris_tag_in_range(&k->tag, range));
}

static void print_one(FILE *f, struct json *j, const struct cyris_link *k,
		      const struct cyris_addr_list *addrs, const char *indent)
{
	if (j) {
		json_obj_open(j, NULL);
		linkfmt_json_link(j, k, addrs);
		json_obj_close(j);
	} else {
		text_link(f, k, addrs, indent);
	}
}

static void print_bridge(FILE *f, struct json *j, const struct cyris_link_list *links,
			 const struct cyris_link *br, const struct cyris_addr_list *addrs)
{
	size_t i;

	if (j) {
		json_obj_open(j, NULL);
		linkfmt_json_link(j, br, addrs);
		json_arr_open(j, "ports");
	} else {
		text_link(f, br, addrs, "");
	}
	for (i = 0; i < links->n; i++) {
		if (links->v[i].master != br->ifindex)
			continue;
		print_one(f, j, &links->v[i], addrs, "       ");
	}
	if (j) {
		json_arr_close(j);
		json_obj_close(j);
	}
}

size_t linkfmt_show(FILE *f, struct json *j, const struct cyris_link_list *links,
		    const struct cyris_addr_list *addrs, const struct show_filter *flt)
{
	const struct cyris_link *only = NULL;
	size_t i, count = 0;

	if (flt->name)
		only = cyris_link_list_find_name(links, flt->name);
	if (j) {
		json_obj_open(j, NULL);
		json_arr_open(j, "bridges");
	}
	for (i = 0; i < links->n; i++) {
		const struct cyris_link *k = &links->v[i];

		if (!streq(k->kind, "bridge") || (only && k != only) || !in_range(k, flt->range))
			continue;
		print_bridge(f, j, links, k, addrs);
		count++;
	}
	if (j) {
		json_arr_close(j);
		json_arr_open(j, "links");
	}
	/* a link asked for by name, or cyris links attached to no bridge */
	for (i = 0; i < links->n; i++) {
		const struct cyris_link *k = &links->v[i];

		if (streq(k->kind, "bridge") || (only && k != only) ||
		    (!only && (k->master || !k->owned)) || !in_range(k, flt->range))
			continue;
		print_one(f, j, k, addrs, "");
		count++;
	}
	if (j) {
		json_arr_close(j);
		json_obj_close(j);
		json_end(j);
	}
	return count;
}

static const char *name_of(const struct cyris_link_list *links, int ifindex)
{
	const struct cyris_link *k = cyris_link_list_find(links, ifindex);

	return k ? k->name : NULL;
}

void linkfmt_fdb(FILE *f, struct json *j, const struct cyris_link_list *links,
		 const struct cyris_fdb_list *fdb, bool all)
{
	char mac[18], ip[CYRIS_IPSTRLEN];
	size_t i;

	if (j) {
		json_obj_open(j, NULL);
		json_arr_open(j, "fdb");
	}
	for (i = 0; i < fdb->n; i++) {
		const struct cyris_fdb *e = &fdb->v[i];
		const char *port = name_of(links, e->ifindex);
		const char *br = e->master ? name_of(links, e->master) : NULL;

		if (!all && !e->dst.family && (!e->master || (e->state & NUD_PERMANENT)))
			continue;
		cyris_mac_format(e->mac, mac);
		if (j) {
			json_obj_open(j, NULL);
			json_str(j, "mac", mac);
			json_str(j, "port", port);
			json_str(j, "bridge", br);
			json_str(j, "state", cyris_fdb_state_str(e));
			json_uint(j, "vlan", e->vlan);
			json_str(j, "dst", e->dst.family ? cyris_ip_format(&e->dst, ip, sizeof(ip)) : NULL);
			json_obj_close(j);
			continue;
		}
		fprintf(f, "%s port %s", mac, port ? port : "?");
		if (br)
			fprintf(f, " bridge %s", br);
		if (e->vlan)
			fprintf(f, " vlan %u", e->vlan);
		if (e->dst.family)
			fprintf(f, " dst %s", cyris_ip_format(&e->dst, ip, sizeof(ip)));
		fprintf(f, " %s\n", cyris_fdb_state_str(e));
	}
	if (j) {
		json_arr_close(j);
		json_obj_close(j);
		json_end(j);
	}
}

void linkfmt_neigh(FILE *f, struct json *j, const struct cyris_link_list *links,
		   const struct cyris_neigh_list *nb)
{
	char mac[18], ip[CYRIS_IPSTRLEN];
	size_t i;

	if (j) {
		json_obj_open(j, NULL);
		json_arr_open(j, "neighbours");
	}
	for (i = 0; i < nb->n; i++) {
		const struct cyris_neigh *n = &nb->v[i];
		const char *dev = name_of(links, n->ifindex);

		cyris_ip_format(&n->ip, ip, sizeof(ip));
		if (n->has_mac)
			cyris_mac_format(n->mac, mac);
		if (j) {
			json_obj_open(j, NULL);
			json_str(j, "ip", ip);
			json_str(j, "mac", n->has_mac ? mac : NULL);
			json_str(j, "dev", dev);
			json_str(j, "state", cyris_nud_str(n->state));
			json_obj_close(j);
		} else {
			fprintf(f, "%s dev %s lladdr %s %s\n", ip, dev ? dev : "?",
				n->has_mac ? mac : "-", cyris_nud_str(n->state));
		}
	}
	if (j) {
		json_arr_close(j);
		json_obj_close(j);
		json_end(j);
	}
}
