#!/bin/bash
# Entry points from outside, on a host that does not forward IPv4 (a stock
# host: net.ipv4.ip_forward = 0): a client namespace on a veth is "outside",
# the host's default route goes that way. Both shapes: the entry guest on a
# network the host routes, and a desktop behind a gateway guest (full.yml).
# The entry port skips a port a host service listens on; a guest inside the
# range that its rules keep from the entry guest does not get there through
# the host's entry port either (a real drop: a timeout).
. "$(dirname "$0")/lib.sh"

sysctl -qw net.ipv4.conf.all.forwarding=0 net.ipv4.conf.default.forwarding=0
is "$(sysctl -n net.ipv4.ip_forward)" 0 "the host does not forward (as a stock host)"

# the outside: a client on an uplink; the host's default route points there
netns_add client
ip link add up0 type veth peer name eth0 netns client
ip addr add 192.0.2.1/24 dev up0 && ip link set up0 up
ip -n client addr add 192.0.2.50/24 dev eth0 && ip -n client link set eth0 up
ip -n client route add default via 192.0.2.1
ip route add default via 192.0.2.50
is "$(cat /proc/sys/net/ipv4/conf/up0/forwarding)" 0 "the uplink does not forward before up"
fwd_up0() { cat /proc/sys/net/ipv4/conf/up0/forwarding; }
# a network of the host's own that the admin lets out (forwarding on its
# interface) but the outside must not reach
netns_add lan
ip link add lan0 type veth peer name eth0 netns lan
ip addr add 10.99.0.1/24 dev lan0 && ip link set lan0 up
sysctl -qw net.ipv4.conf.lan0.forwarding=1
ip -n lan addr add 10.99.0.2/24 dev eth0 && ip -n lan link set eth0 up
ip -n lan route add default via 10.99.0.1
ip -n client route add 10.99.0.0/24 via 192.0.2.1
listen_in lan tcp:22
# (no firewall yet: a host that does not forward on up0 drops the packet
# without an ICMP error, so this is a timeout too)
ok "the outside does not reach the host's lan (the host does not forward)" cannot tcp client 10.99.0.2 22

# a failed up leaves the uplink as it was (the rollback turns forwarding off again)
steps=$(cyris-topo -j plan "$EXAMPLES/full.yml" | json .steps)
CYRIS_TOPO_FAIL_AT=$steps cyris-topo up "$EXAMPLES/full.yml" >/dev/null 2>&1
is "$?:$(fwd_up0)" "1:0" "an up that fails at its last step ($steps) leaves the uplink not forwarding"

# a host service on the first entry port
listen_in - tcp:60000 || echo "Bail out! the host's service did not start"

# ---- shape 1: the host routes for the entry guest's network -------------------
out=$(cyris-topo up "$CYRIS_SRC/tests/ranges/entry-direct.yml" 2>&1)
ok "up entry-direct.yml" test $? = 0 || diag "$out"
port1=$(cyris-topo -j show 310 | json '.entry_points[0].host_port')
is "$port1" 60001 "the entry port skips 60000, where a host service listens"
like "$out" "entry point: host port 60001 -> cyris-310-1-desktop-1" "up announces that port"
like "$out" "forwarding on for clients coming in on up0" "up says where it lets clients in"
is "$(fwd_up0) $(sysctl -n net.ipv4.ip_forward)" "1 0" \
	"forwarding is on on the uplink only, not host-wide"
ok "the outside still does not reach the host's lan: only what entry points DNAT is forwarded" \
	cannot_fw 310 tcp client 10.99.0.2 22
ingress_rules() { nft -j list table inet "cyris_$1" | jq -c '[.nftables[].rule.comment? // empty | select(startswith("ingress "))]'; }
is "$(ingress_rules 310)" '["ingress up0: forwarding for entry points only"]' "range 310's table holds that rule"
ok "cyris-fw apply 310 (a re-apply)" cyris-fw apply 310 /dev/null
is "$(ingress_rules 310)" '["ingress up0: forwarding for entry points only"]' "the re-apply keeps it"
fails_with 1 "destroy: the table guards the forwarding on up0 .*cyris-topo down 310" \
	"cyris-fw destroy 310 alone refuses: the uplink would forward unguarded" cyris-fw destroy 310
is "$(ingress_rules 310)" '["ingress up0: forwarding for entry points only"]' "  the table is still there"
listen_in cyris-310-1-desktop-1 tcp:22
is "$(answer tcp client 192.0.2.1 "$port1")" 192.0.2.50 \
	"a client outside reaches the desktop's port 22 through host port $port1 (and keeps its address)"
is "$(answer tcp client 192.0.2.1 60000)" 192.0.2.50 "the host's own service on 60000 still answers"
s310=$(cyris-topo -j show 310)
lab_host=$(echo "$s310" | json '.networks[] | select(.name=="lab") | .gateway')
desk=$(echo "$s310" | json '.guests[] | select(.guest_id=="desktop") | .nics[0].ip')
ok "the intruder on lab may not reach the desktop" cannot_fw 310 tcp cyris-310-1-intruder-1 "$desk" 22
ok "nor through the host's entry port on its own network ($lab_host:$port1)" \
	cannot_fw 310 tcp cyris-310-1-intruder-1 "$lab_host" "$port1"
ok "nor through the host's entry port on the uplink address" \
	cannot_fw 310 tcp cyris-310-1-intruder-1 192.0.2.1 "$port1"

# ---- shape 2: the desktop answers through its gateway guest (full.yml) ---------
out=$(cyris-topo up "$EXAMPLES/full.yml" 2>&1)
ok "up full.yml (the desktop behind the firewall guest)" test $? = 0 || diag "$out"
s125=$(cyris-topo -j show 125)
port2=$(echo "$s125" | json '[.entry_points[].host_port] | sort | .[0]')
is "$port2" 60002 "its entry port is neither the host service's nor range 310's"
bridge_addr() { # bridge_addr NET INSTANCE: the host's address on range 125's bridge of NET
	ip -j addr show dev "$(echo "$s125" | json --arg n "$1" --argjson i "$2" \
		'.networks[] | select(.name==$n and .instance==$i) | .bridge')" |
		jq -r '.[0].addr_info[] | select(.family=="inet") | .local'
}
listen_in cyris-125-1-desktop-1 tcp:22
listen_in cyris-125-2-desktop-1 tcp:22
is "$(answer tcp client 192.0.2.1 "$port2")" "$(bridge_addr office 1)" \
	"a client outside reaches the desktop behind the firewall through host port $port2 (from the host's office address)"
is "$(answer tcp client 192.0.2.1 $((port2 + 1)))" "$(bridge_addr office 2)" \
	"and instance 2's desktop through host port $((port2 + 1))"
# (the webserver's way out is the firewall guest: its own table drops)
fw1=125@cyris-125-1-firewall-1
ok "the webserver may not reach the desktop (no rule from servers to office)" \
	cannot_fw $fw1 tcp cyris-125-1-webserver-1 "$(echo "$s125" | json '.guests[] | select(.guest_id=="desktop" and .instance==1) | .nics[0].ip')" 22
servers_host=$(bridge_addr servers 1)
ok "nor through the host's entry port on its own network ($servers_host:$port2)" \
	cannot_fw 125 tcp cyris-125-1-webserver-1 "$servers_host" "$port2"
ok "nor through the host's entry port on the uplink address" \
	cannot_fw $fw1 tcp cyris-125-1-webserver-1 192.0.2.1 "$port2"
is "$(answer tcp client 192.0.2.1 "$port1")" 192.0.2.50 "range 310's entry point still answers"

# ---- and the gateway guest itself as the entry point (dmz.yml) ------------------
ok "up dmz.yml (the firewall guest is the entry point)" cyris-topo up "$EXAMPLES/dmz.yml"
port3=$(cyris-topo -j show 124 | json '.entry_points[0].host_port')
listen_in cyris-124-1-firewall-1 tcp:22
is "$(answer tcp client 192.0.2.1 "$port3")" 192.0.2.50 \
	"a client outside reaches the firewall guest through host port $port3 (with its own address)"
ok "down 124" cyris-topo down 124

# ---- down -------------------------------------------------------------------------
ok "down 125" cyris-topo down 125
is "$(fwd_up0)" 1 "the uplink still forwards for range 310"
is "$(answer tcp client 192.0.2.1 "$port1")" 192.0.2.50 "whose entry point still answers"
ok "down 310" cyris-topo down 310
is "$(fwd_up0)" 0 "the last range's down turns the uplink's forwarding off again"
# (no range left, so no table: the uplink's forwarding is off again, and
# the host drops it as at the start)
ok "the outside does not reach the host's lan" cannot tcp client 10.99.0.2 22

# an uplink that forwards by the admin's doing is left as it is, with no drop of cyris's
sysctl -qw net.ipv4.conf.up0.forwarding=1
ok "up entry-direct.yml on an uplink that forwards already" cyris-topo up "$CYRIS_SRC/tests/ranges/entry-direct.yml"
is "$(ingress_rules 310)" '[]' "the range's table holds no record of the uplink's forwarding"
listen_in cyris-310-1-desktop-1 tcp:22
ok "the client reaches the entry point" can tcp client 192.0.2.1 "$port1"
ok "and the admin's routing still works (the outside reaches the lan)" can tcp client 10.99.0.2 22
ok "down 310" cyris-topo down 310
is "$(fwd_up0)" 1 "the uplink still forwards: it was not cyris's doing"
done_testing
