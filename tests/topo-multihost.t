#!/bin/bash
# Several hosts: three simulated hosts (namespaces on an underlay bridge,
# each with its own mount namespace for /run/netns) each build their share
# of one range with --host; the networks span them over VXLAN; guests of
# one network reach each other across hosts, guests of different networks
# still obey the rules.
. "$(dirname "$0")/lib.sh"

f=$CYRIS_SRC/tests/ranges/multihost.yml
ip link add ul type bridge && ip link set ul up
declare -A H
for h in 1 2 3; do
	netns_add host$h
	ip link add ul$h type veth peer name eth0 netns host$h
	ip link set ul$h master ul up
	ip -n host$h addr add 172.31.0.$h/24 dev eth0 && ip -n host$h link set eth0 up
	# the host: its network namespace, and a mount namespace of its own,
	# held by a process that sleeps until the test kills it; it says
	# "ready" once its /run/netns is mounted
	fifo=$(mktemp -u); mkfifo "$fifo"
	ip netns exec host$h unshare -m --propagation private \
		bash -c 'mount -t tmpfs cyris-host /run/netns && echo ready; exec sleep 600 >/dev/null' > "$fifo" &
	H[$h]=$!
	bg_track ${H[$h]}
	read -r -t 30 line < "$fifo"; rm -f "$fifo"
	[ "$line" = ready ] || echo "Bail out! host_$h has no private /run/netns"
done
on() { local h=$1; shift; nsenter -t "${H[$h]}" -m -n -- "$@"; }
guest() { local h=$1 g=$2; shift 2; on "$h" ip netns exec "$g" "$@"; }

for h in 1 2 3; do
	ok "host_$h: up --host host_$h" on $h "$CYRIS_BIN/cyris-topo" up "$f" --host host_$h
done
is "$(on 1 ls /run/netns | xargs)" "cyris-300-1-desktop-1 cyris-300-1-web-1" "host_1 runs desktop.1 and web.1"
is "$(on 2 ls /run/netns | xargs)" "cyris-300-1-desktop-2 cyris-300-1-web-2" "host_2 runs desktop.2 and web.2"
vni=$(on 1 ip -j -d link show type vxlan | jq -r '[.[].linkinfo.info_data.id] | sort | join(" ")')
is "$vni" "$(on 3 ip -j -d link show type vxlan | jq -r '[.[].linkinfo.info_data.id] | sort | join(" ")')" \
   "host_1 and host_3 use the same VNIs ($vni)"
is "$(on 1 bridge -j fdb show | jq -r '[.[] | select(.mac=="00:00:00:00:00:00") | .dst] | sort | unique | join(" ")')" \
   "172.31.0.2 172.31.0.3" "host_1's VXLANs flood to host_2 and host_3"
ip_of() { on "$1" ip -n "$2" -j addr show eth0 | jq -r '.[0].addr_info[] | select(.family=="inet") | .local'; }
d1=$(ip_of 1 cyris-300-1-desktop-1); d2=$(ip_of 2 cyris-300-1-desktop-2); d3=$(ip_of 3 cyris-300-1-desktop-3)
w3=$(ip_of 3 cyris-300-1-web-3); w1=$(ip_of 1 cyris-300-1-web-1)
ok "desktop.1 (host_1) pings desktop.2 (host_2)" guest 1 cyris-300-1-desktop-1 ping -c1 -W2 "$d2"
ok "desktop.2 (host_2) pings desktop.3 (host_3)" guest 2 cyris-300-1-desktop-2 ping -c1 -W2 "$d3"
ok "desktop.3 (host_3) pings desktop.1 (host_1)" guest 3 cyris-300-1-desktop-3 ping -c1 -W2 "$d1"
nc() { on "$1" ip netns exec "$2" "$NETCHECK" "${@:3}"; }
for h in 1 3; do
	# exec all the way down, so that $! is the listener itself; it says
	# "listening" on the FIFO once it does
	fifo=$(mktemp -u); mkfifo "$fifo"
	(exec nsenter -t "${H[$h]}" -m -n -- ip netns exec cyris-300-1-web-$h "$NETCHECK" listen tcp:80 tcp:22 \
		>"$fifo" 2>/dev/null) &
	bg_track $!
	read -r -t 30 line < "$fifo"; rm -f "$fifo"
	is "$line" listening "web.$h listens"
done
ok "desktop.2 -> web.3 tcp/80: allowed, routed by host_1 across two VXLANs" nc 2 cyris-300-1-desktop-2 connect tcp "$w3" 80 1500
ok "desktop.3 -> web.1 tcp/80: allowed" nc 3 cyris-300-1-desktop-3 connect tcp "$w1" 80 1500
# dropped: a timeout (netcheck's exit 1), and host_1's table, which routes
# between the networks, counted it
drops() { on 1 nft -j list table inet cyris_300 | nft_drops; }
before=$(drops)
exits 1 "desktop.2 -> web.3 tcp/22: dropped (a timeout)" nc 2 cyris-300-1-desktop-2 connect tcp "$w3" 22 700
exits 1 "web.1 -> desktop.3 tcp/22: dropped (a timeout)" nc 1 cyris-300-1-web-1 connect tcp "$d3" 22 700
ok "host_1's range table counted the drops" test "$(drops)" -ge $((before + 2))
for h in 1 2 3; do
	ok "host_$h: down 300" on $h "$CYRIS_BIN/cyris-topo" down 300
	is "$(on $h ip -o link | wc -l) $(on $h ls /run/netns | wc -l) $(on $h nft list tables | wc -l)" "2 0 0" \
	   "host_$h: only lo and its uplink are left, no namespace, no table"
done
done_testing
