/* SPDX-License-Identifier: MIT */
/*
 * Idempotent creates: a link that exists is accepted when it is cyris's,
 * of the kind asked for, and agrees with what was asked; otherwise the
 * create is refused naming each difference (cyris_nl_error()).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cyris/link.h"
#include "nl-priv.h"

int cyris_link_adopt(struct cyris_nl *nl, const struct cyris_link_cfg *cfg,
		     const char *kind, int *ret_ifindex)
{
	const struct cyris_tag *t = cfg->tag;
	struct cyris_link l = {0};
	int r = cyris_link_get(nl, cfg->name, &l);

	if (r < 0)
		return r;
	if (ret_ifindex)
		*ret_ifindex = l.ifindex;
	if (!l.owned)
		r = cyris_error_set(&nl->error, -EEXIST, "%s: exists and is not owned by cyris",
				    cfg->name);
	else if (!streq(l.kind, kind) || (t && t->range[0] && !streq(l.tag.range, t->range)) ||
		 (t && t->net[0] && !streq(l.tag.net, t->net)))
		r = cyris_error_set(&nl->error, -EEXIST, "%s: exists as a different %s link (%s)",
				    cfg->name, l.kind, l.alias);
	else if (cfg->master && l.master != cfg->master)
		r = cyris_link_set_master(nl, l.ifindex, cfg->master);
	cyris_link_clear(&l);
	return r;
}

static void differs(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void differs(char *buf, size_t size, const char *fmt, ...)
{
	size_t n = strlen(buf);
	va_list ap;

	if (n)
		n += (size_t)snprintf(buf + n, size - n, "; ");
	va_start(ap, fmt);
	vsnprintf(buf + n, size - n, fmt, ap);
	va_end(ap);
}

/* "exists with A, not B; ...": each property asked for that the bridge
 * does not have. 0 when it agrees. */
static int bridge_agrees(struct cyris_nl *nl, const struct cyris_link_cfg *cfg,
			 const struct cyris_bridge_cfg *br, unsigned given, int ifindex)
{
	struct cyris_link l = {0};
	char d[512] = "", a[18], b[18];
	int r = cyris_link_get_index(nl, ifindex, &l);

	if (r < 0)
		return r;
	/* five short items: d cannot fill */
	if ((given & CYRIS_BRIDGE_GIVEN_STP) && (l.stp_state != 0) != br->stp)
		differs(d, sizeof(d), "stp %s, not %s", l.stp_state ? "on" : "off", br->stp ? "on" : "off");
	if ((given & CYRIS_BRIDGE_GIVEN_FORWARD_DELAY) && l.forward_delay != br->forward_delay)
		differs(d, sizeof(d), "forward-delay %u, not %u", l.forward_delay, br->forward_delay);
	if ((given & CYRIS_BRIDGE_GIVEN_VLAN_FILTERING) && l.vlan_filtering != br->vlan_filtering)
		differs(d, sizeof(d), "vlan-filtering %s, not %s", l.vlan_filtering ? "on" : "off",
			br->vlan_filtering ? "on" : "off");
	if (cfg->mtu && l.mtu != cfg->mtu)
		differs(d, sizeof(d), "mtu %u, not %u", l.mtu, cfg->mtu);
	if (cfg->mac && (!l.has_mac || memcmp(l.mac, cfg->mac, 6)))
		differs(d, sizeof(d), "mac %s, not %s", cyris_mac_format(l.mac, a),
			cyris_mac_format(cfg->mac, b));
	cyris_link_clear(&l);
	if (!d[0])
		return 0;
	return cyris_error_set(&nl->error, -EEXIST, "%s: exists with %s", cfg->name, d);
}

int cyris_bridge_ensure(struct cyris_nl *nl, const struct cyris_link_cfg *cfg,
			const struct cyris_bridge_cfg *br, unsigned given, int *ret_ifindex)
{
	static const struct cyris_bridge_cfg defaults = {0};
	int ifindex = 0, r;

	if (!br)
		br = &defaults;
	r = cyris_bridge_create(nl, cfg, br, &ifindex);
	if (r != -EEXIST) {
		if (r == 0 && ret_ifindex)
			*ret_ifindex = ifindex;
		return r < 0 ? r : 1;
	}
	r = cyris_link_adopt(nl, cfg, "bridge", &ifindex);
	if (r == 0)
		r = bridge_agrees(nl, cfg, br, given, ifindex);
	if (r == 0 && ret_ifindex)
		*ret_ifindex = ifindex;
	return r;
}
