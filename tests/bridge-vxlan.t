#!/bin/bash
# VXLAN: two "hosts" (namespaces) on an underlay; on each a bridge with a
# VXLAN port and a guest; the guests ping each other across.
. "$(dirname "$0")/lib.sh"

for h in 1 2; do netns_add host$h; netns_add guest$h; done
ip link add u1 netns host1 type veth peer name u2 netns host2
ip -n host1 addr add 172.31.0.1/24 dev u1 && ip -n host1 link set u1 up
ip -n host2 addr add 172.31.0.2/24 dev u2 && ip -n host2 link set u2 up
for h in 1 2; do
	other=$((3 - h))
	ok "host$h: bridge" cyris-bridge -n host$h add br0 range 9 net office
	ok "host$h: vxlan to host$other" cyris-bridge -n host$h vxlan vx0 id 4242 remote 172.31.0.$other \
		local 172.31.0.$h master br0 range 9 net office
	ok "host$h: guest veth" cyris-bridge -n host$h veth vg peer eth0 peer-netns guest$h master br0 range 9
	ip -n guest$h addr add 10.9.0.$h/24 dev eth0
done
js=$(cyris-bridge -n host1 -j show vx0)
is "$(echo "$js" | json '.links[0] | "\(.vni) \(.remote) \(.local) \(.dstport)"')" "4242 172.31.0.2 172.31.0.1 4789" "show reports VNI, remote, local, port"
is "$(ip -n host1 -j -d link show vx0 | json '.[0].linkinfo.info_data.id')" 4242 "the kernel agrees on the VNI"
ok "guest1 pings guest2 across the VXLAN" ip netns exec guest1 ping -c2 -W2 10.9.0.2
mac2=$(ip -n guest2 -j link show eth0 | json '.[0].address')
fdb=$(cyris-bridge -n host1 -j fdb br0)
is "$(echo "$fdb" | json --arg m "$mac2" '.fdb[] | select(.mac==$m) | .port')" vx0 "host1's bridge learned guest2's MAC behind vx0"
is "$(cyris-bridge -n host1 -j fdb | json '.fdb[] | select(.mac=="00:00:00:00:00:00") | .dst')" 172.31.0.2 "the VXLAN default remote is listed"
ok "another dstport" cyris-bridge -n host1 vxlan vx1 id 7 remote 172.31.0.2 dstport 8472 range 9
is "$(ip -n host1 -j -d link show vx1 | json '.[0].linkinfo.info_data.port')" 8472 "dstport 8472"
ok "IPv6 remote" cyris-bridge -n host1 vxlan vx6 id 8 remote fd00::2 range 9
is "$(ip -n host1 -j -d link show vx6 | json '.[0].linkinfo.info_data.group6 // .[0].linkinfo.info_data.remote6 // "none"')" fd00::2 "an IPv6 remote"
done_testing
