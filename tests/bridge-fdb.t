#!/bin/bash
# The FDB (MAC -> port) and the neighbour table searched by MAC, after real
# traffic between two guests on a cyris bridge.
. "$(dirname "$0")/lib.sh"

netns_add g1
netns_add g2
cyris-bridge add br0 range 4 net a addr 10.4.0.1/24 addr fd04::1/64 >/dev/null
for g in 1 2; do
	cyris-bridge veth vg$g peer eth0 peer-netns g$g master br0 range 4 \
		peer-mac 02:00:00:00:04:0$g
	ip -n g$g addr add 10.4.0.1$g/24 dev eth0
	ip -n g$g addr add fd04::1$g/64 dev eth0 nodad
done
ok "g1 pings g2 through the bridge" ip netns exec g1 ping -c1 -W2 10.4.0.12
ok "g2 pings the bridge address" ip netns exec g2 ping -c1 -W2 10.4.0.1
ok "g2 pings the bridge over IPv6" ip netns exec g2 ping -6 -c1 -W2 fd04::1
fdb=$(cyris-bridge -j fdb br0)
is "$(echo "$fdb" | json '.fdb[] | select(.mac=="02:00:00:00:04:01") | "\(.port) \(.state)"')" "vg1 learned" "g1's MAC was learned on vg1"
is "$(echo "$fdb" | json '.fdb[] | select(.mac=="02:00:00:00:04:02") | .port')" vg2 "g2's MAC on vg2"
is "$(echo "$fdb" | json '[.fdb[] | select(.state=="permanent")] | length')" 0 "ports' own MACs only with 'all'"
ok "'all' lists them too" test "$(cyris-bridge -j fdb br0 all | json '[.fdb[] | select(.state=="permanent")] | length')" -gt 0
like "$(cyris-bridge fdb br0)" "02:00:00:00:04:02 port vg2 bridge br0 learned" "text form"
kern=$(bridge -j fdb show br br0 | json '.[] | select(.mac=="02:00:00:00:04:02") | .ifname')
is "$kern" vg2 "bridge(8) agrees"
n=$(cyris-bridge -j neigh mac 02:00:00:00:04:02)
is "$(echo "$n" | json '.neighbours[0] | "\(.ip) \(.dev)"')" "10.4.0.12 br0" "the neighbour table gives g2's IPv4 address by MAC"
n=$(cyris-bridge -j neigh dev br0)
ok "neigh dev br0 lists both families" test "$(echo "$n" | json '[.neighbours[] | select(.mac=="02:00:00:00:04:02")] | length')" -ge 2
exits 1 "an unknown MAC is an error" cyris-bridge neigh mac 02:99:99:99:99:99
exits 1 "fdb of a non-bridge" cyris-bridge fdb vg1
done_testing
