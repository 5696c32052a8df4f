/* SPDX-License-Identifier: MIT */
/* Routes in the main table. */
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include "cyris/route.h"
#include "nl-priv.h"

static int route_change(struct cyris_nl *nl, int type, int flags,
			const struct cyris_prefix *dst, const struct cyris_ip *gw,
			int ifindex, uint8_t proto)
{
	struct rtmsg rtm = {
		.rtm_family = (uint8_t)dst->ip.family,
		.rtm_dst_len = dst->len,
		.rtm_table = RT_TABLE_MAIN,
		.rtm_protocol = proto,
		.rtm_scope = gw && gw->family ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK,
		.rtm_type = RTN_UNICAST,
	};
	struct nl_msg *msg;
	int r = -EMSGSIZE;

	if (!cyris_ip_len(&dst->ip) || (gw && gw->family && gw->family != dst->ip.family) ||
	    (!(gw && gw->family) && ifindex <= 0))
		return -EINVAL;
	if (type == RTM_DELROUTE)
		rtm.rtm_scope = RT_SCOPE_NOWHERE;
	msg = cyris_nlmsg_new(type, flags, &rtm, sizeof(rtm));
	if (!msg)
		return -ENOMEM;
	if ((dst->len == 0 || nla_put(msg, RTA_DST, (int)cyris_ip_len(&dst->ip), dst->ip.a) == 0) &&
	    (!(gw && gw->family) || nla_put(msg, RTA_GATEWAY, (int)cyris_ip_len(gw), gw->a) == 0) &&
	    (ifindex <= 0 || nla_put_u32(msg, RTA_OIF, (uint32_t)ifindex) == 0))
		r = cyris_nl_send(nl, msg);
	nlmsg_free(msg);
	return r;
}

int cyris_route_add(struct cyris_nl *nl, const struct cyris_prefix *dst,
		    const struct cyris_ip *gw, int ifindex, bool replace)
{
	return route_change(nl, RTM_NEWROUTE,
			    NLM_F_CREATE | (replace ? NLM_F_REPLACE : NLM_F_EXCL),
			    dst, gw, ifindex, CYRIS_RTPROT);
}

int cyris_route_del(struct cyris_nl *nl, const struct cyris_prefix *dst,
		    const struct cyris_ip *gw, int ifindex, bool force)
{
	/* the kernel deletes only a route of the protocol given (0: any) */
	return route_change(nl, RTM_DELROUTE, 0, dst, gw, ifindex, force ? 0 : CYRIS_RTPROT);
}
