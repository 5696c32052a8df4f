#!/bin/bash
# contrib/range.sh builds a range with the single-purpose tools only
# (cyris-topo plan --emit ... | cyris-bridge -b - / cyris-fw apply R -);
# the kernel state is the same as cyris-topo up's.
. "$(dirname "$0")/lib.sh"
export PATH=$CYRIS_BIN:$PATH

# uplink_macs: every gateway guest's uplink guard (the MAC its table lets
# outside sources come from) is the MAC of one of the host's bridges:
# prints how many guards there are, or "NAME: MAC is no bridge's"
uplink_macs() {
	local ns mac n=0 bridges
	bridges=$(ip -j link show type bridge | jq -r '.[].address')
	for ns in $(ls /run/netns); do
		for mac in $(ip netns exec "$ns" nft -j list ruleset | jq -r '.nftables[].rule.comment? // empty |
				select(startswith("uplink ")) | split(" ")[3]' | sort -u); do
			n=$((n + 1))
			printf '%s\n' "$bridges" | grep -qx "$mac" || { echo "$ns: $mac is no bridge's"; return; }
		done
	done
	echo $n
}

for n in dmz full basic; do
	f=$EXAMPLES/$n.yml
	range=$(cyris-topo -j plan "$f" | json .range)
	empty=$(host_state)
	ok "$n: cyris-topo up" cyris-topo up "$f"
	want_host=$(host_state); want_guests=$(guests_state)
	want_uplinks=$(uplink_macs)
	case $n in basic) ;; *) ok "$n: its gateway guards its uplink by the bridge's MAC" test "$want_uplinks" -gt 0 ;; esac
	ok "$n: cyris-topo down" cyris-topo down "$range"
	ok "$n: contrib/range.sh up" "$CYRIS_SRC/contrib/range.sh" up "$f"
	is "$(host_state)" "$want_host" "$n: the host's links, addresses, routes, rules are the same"
	is "$(guests_state)" "$want_guests" "$n: every guest's links, addresses, routes, rules are the same"
	is "$(uplink_macs)" "$want_uplinks" "$n: and the uplink guards name the bridges' real MACs"
	ok "$n: cyris-topo probe agrees with the rules" cyris-topo probe "$range"
	ok "$n: contrib/range.sh down" "$CYRIS_SRC/contrib/range.sh" down "$f"
	is "$(host_state)" "$empty" "$n: nothing is left"
done
done_testing
