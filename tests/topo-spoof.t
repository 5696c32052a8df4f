#!/bin/bash
# A guest cannot borrow another network's source address (issue 10, item 4):
# only network a may reach db on 3306; a guest on network b that sends with
# a's address (a secondary address in its namespace) is dropped before db,
# where the host routes and where a gateway guest does. Through the
# gateway, a guest on its uplink network cannot claim an outside address
# either (the uplink guard; IPv4 and IPv6), also not with the host's
# bridge's MAC (the bridge guard), while the host's own frames from such an
# address pass. Real packets: UDP datagrams and TCP SYNs,
# counted where they would arrive.
. "$(dirname "$0")/lib.sh"
export PATH=$CYRIS_BIN:$PATH

# spy NS: a counting table in NS (the target), to see what arrives there
spy() {
	ip netns exec "$1" nft -f - <<'N'
table ip spy {
	chain pre {
		type filter hook prerouting priority -400; policy accept;
		udp dport 3306 counter
		tcp dport 3306 tcp flags & (syn|ack) == syn counter
	}
}
N
}
# arrived NS udp|tcp: how many datagrams / SYNs for 3306 reached NS
arrived() {
	ip netns exec "$1" nft -j list chain ip spy pre |
		jq --arg p "$2" '[.nftables[] | select(.rule) | .rule | select(any(.expr[]; .match?.left.payload.protocol == $p)) |
			.expr[] | .counter?.packets // empty] | add'
}

# no_answer_as SRC PROTO NS ADDR PORT: from NS with source SRC, nothing
# comes back at all (netcheck's exit 1, a timeout: not refused, not unreachable)
no_answer_as() {
	local rc
	NETCHECK_SRC=$1 ip netns exec "$3" "$NETCHECK" connect "$2" "$4" "$5" 700 >/dev/null 2>&1
	rc=$?
	[ $rc = 1 ] || { echo "netcheck exit $rc, not 1 (a timeout)"; return 1; }
}

# uplink_guard [6]: packets the gateway's uplink guard (IPv4, or IPv6) dropped
# (-1: it has none)
uplink_guard() {
	cyris-fw -n "$where" -j show "$range" |
		json "[.ranges[0].rules[] | select((.comment // \"\") | startswith(\"uplink eth0 \")) | .packets] |
			if length == 4 then (if \"${1:-4}\" == \"6\" then .[1] + .[3] else .[0] + .[2] end) else -1 end"
}

# bridge_guard: frames the host's bridges dropped for carrying a bridge's own MAC
# (-1: there is no such table)
bridge_guard() {
	local j
	j=$(nft -j list table bridge "cyris_$range" 2>/dev/null) || { echo -1; return; }
	echo "$j" | json '[.nftables[].rule.expr? // empty | .[] | .counter?.packets // empty] | add // -1'
}

# Through the gateway: ga is on fw's uplink network (a; fw's default route
# goes that way, to the host), where "fib saddr . iif" holds for any
# outside address. The outside network 198.51.100.0/24 may reach db (a
# rule of fw's); ga claiming 198.51.100.7 must not (issue 10, item 4). The
# host itself, sending from that address through fw, still gets through.
uplink_spoof() {
	local out=198.51.100.7 g4 g6 b4 b6 fwll
	udp0=$(arrived "$db" udp) tcp0=$(arrived "$db" tcp) g4=$(uplink_guard)
	ip -n "$ga" addr add "$out/32" dev eth0
	ok "gw: a sending as the outside ($out) gets no UDP answer" no_answer_as "$out" udp "$ga" "$dbip" 3306
	ok "gw: a sending as the outside gets no TCP connection" no_answer_as "$out" tcp "$ga" "$dbip" 3306
	is "$(arrived "$db" udp)" "$udp0" "gw: no datagram from a as the outside reached db"
	is "$(arrived "$db" tcp)" "$tcp0" "gw: no SYN from a as the outside reached db"
	ok "gw: the gateway's uplink guard dropped them" test "$(uplink_guard)" -ge $((g4 + 2))
	# ... nor by also taking the host's bridge's MAC, the one fw's guard
	# believes: the host's bridge drops frames from a port with its own MAC
	local brmac gamac fwmac
	brmac=$(ip -j link show dev "$(echo "$s" | json '.networks[] | select(.name == "a") | .bridge')" | jq -r '.[0].address')
	gamac=$(ip -n "$ga" -j link show dev eth0 | jq -r '.[0].address')
	fwmac=$(ip -n "$where" -j link show dev eth0 | jq -r '.[0].address')
	# (fw's ARP answers to that MAC would go to the host: a static entry;
	# after the change of address, which flushes the neighbours)
	ip -n "$ga" link set eth0 address "$brmac"
	ip -n "$ga" neigh replace "$(ip_of fw)" lladdr "$fwmac" dev eth0 nud permanent
	udp0=$(arrived "$db" udp) tcp0=$(arrived "$db" tcp) b0=$(bridge_guard)
	ok "gw: a as the outside and with the bridge's MAC gets no UDP answer" no_answer_as "$out" udp "$ga" "$dbip" 3306
	ok "gw: nor a TCP connection" no_answer_as "$out" tcp "$ga" "$dbip" 3306
	is "$(arrived "$db" udp) $(arrived "$db" tcp)" "$udp0 $tcp0" "gw: none of those reached db"
	ok "gw: the host's bridge dropped them (forged: its own MAC from a port)" test "$(bridge_guard)" -ge $((b0 + 2))
	ip -n "$ga" link set eth0 address "$gamac"
	ip -n "$ga" neigh del "$(ip_of fw)" dev eth0
	ip -n "$ga" addr del "$out/32" dev eth0
	# the host, from the outside address, routed through fw: the frames
	# come from the host's bridge, and pass
	ip addr add "$out/32" dev lo
	ip route add "$dbip/32" via "$(ip_of fw)"
	g4=$(uplink_guard)
	ok "gw: the host sending as the outside through fw reaches db (udp)" \
		env NETCHECK_SRC=$out "$NETCHECK" connect udp "$dbip" 3306 700
	ok "gw: and (tcp)" env NETCHECK_SRC=$out "$NETCHECK" connect tcp "$dbip" 3306 700
	is "$(uplink_guard)" "$g4" "gw: the uplink guard dropped none of the host's"
	ip route del "$dbip/32"
	ip addr del "$out/32" dev lo
	# IPv6: the range has none, so no source but link-local passes from a
	# neighbour on the uplink (fw's own address is link-local)
	g6=$(uplink_guard 6)
	fwll=$(ip -n "$where" -j addr show dev eth0 | jq -r '.[0].addr_info[] | select(.family=="inet6") | .local')
	ip -n "$ga" addr add 2001:db8::7/128 dev eth0 nodad
	ip netns exec "$ga" ping -6 -c 2 -i 0.2 -W 1 -I 2001:db8::7 "$fwll%eth0" >/dev/null 2>&1
	ok "gw: a sending IPv6 from a global address to fw is dropped by the guard" \
		test "$(uplink_guard 6)" -ge $((g6 + 2))
	ip -n "$ga" addr del 2001:db8::7/128 dev eth0
	# a re-apply without it keeps it (as exposes and NAT interfaces)
	guard_comments() { cyris-fw -n "$where" -j show "$range" | json -c '[.ranges[0].rules[] | .comment // empty | select(startswith("uplink "))] | unique'; }
	want=$(guard_comments)
	ok "gw: cyris-fw -n fw apply $range /dev/null (a re-apply)" cyris-fw -n "$where" apply "$range" /dev/null
	is "$(guard_comments)" "$want" "gw: the re-apply keeps the uplink guard"
	is "$(uplink_guard)" 0 "gw: (a new table: its counters start again)"
	# check's nft text of the guard is what apply installs (loaded by nft
	# itself into a scratch namespace, both read back with nft -j)
	guard_rules() { ip netns exec "$1" nft -j list table inet "cyris_$range" | jq -c '.nftables[] | select(.rule) |
		.rule | select((.comment // "") | startswith("uplink ")) | del(.handle) | del(.expr[] | select(has("counter")))'; }
	netns_add scratch
	ok "gw: check's text of the guard loads into nft" bash -c \
		"echo 'uplink eth0 from $brmac' | $CYRIS_BIN/cyris-fw -n $where check $range - | ip netns exec scratch nft -f -"
	is "$(guard_rules "$where" | wc -l)" 4 "gw: apply installed the guard's four rules (forward and input, IPv4 and IPv6)"
	is "$(guard_rules scratch)" "$(guard_rules "$where")" "gw: and check's text is the table apply installed"
	ip netns delete scratch
	apply_line() { echo "$1" | cyris-fw -n "$where" apply "$range" -; }
	fails_with 1 "<stdin>:1: 'uplink eth9 from 02:00:00:00:00:01': not an interface of the range here" \
		"gw: an uplink line for an interface the range has not there is refused at FILE:LINE" \
		apply_line "uplink eth9 from 02:00:00:00:00:01"
	fails_with 1 "<stdin>:1: 'uplink eth0 from 02:00:00': not 'uplink IFACE from MAC'" \
		"gw: a malformed uplink line too" apply_line "uplink eth0 from 02:00:00"
	is "$(guard_comments)" "$want" "gw: and they changed nothing"
}

empty=$(host_state)
for kind in routed gw; do
	f=$CYRIS_SRC/tests/ranges/spoof-$kind.yml
	range=$(cyris-topo -j plan "$f" | json .range)
	ok "$kind: up range $range" cyris-topo up "$f" || continue
	s=$(cyris-topo -j show "$range")
	ip_of() { echo "$s" | json --arg g "$1" '.guests[] | select(.guest_id == $g) | .nics[0].ip'; }
	# (fw: its first NIC, eth0, is on network a, its uplink)
	ga=cyris-$range-1-ga-1 gb=cyris-$range-1-gb-1 db=cyris-$range-1-dbsrv-1
	a=$(ip_of ga) dbip=$(ip_of dbsrv)
	[ $kind = routed ] && where=- || where=cyris-$range-1-fw-1
	drops() {
		if [ "$where" = - ]; then cyris-fw -j show "$range"; else cyris-fw -n "$where" -j show "$range"; fi |
			json "[.ranges[0].rules[] | select(.comment == \"isolation: from range $range\") | .packets] | add"
	}
	listen_in "$db" tcp:3306 udp:3306
	spy "$db"
	# b claims a's address
	ip -n "$gb" addr add "$a/32" dev eth0
	before=$(drops)
	ok "$kind: b sending as a ($a) gets no UDP answer" no_answer_as "$a" udp "$gb" "$dbip" 3306
	ok "$kind: b sending as a gets no TCP connection" no_answer_as "$a" tcp "$gb" "$dbip" 3306
	is "$(arrived "$db" udp)" 0 "$kind: no spoofed datagram reached db"
	is "$(arrived "$db" tcp)" 0 "$kind: no spoofed SYN reached db"
	ok "$kind: the range's drop counted them" test "$(drops)" -gt "$before"
	# the genuine source passes
	ok "$kind: a -> db udp/3306 passes" can udp "$ga" "$dbip" 3306
	ok "$kind: a -> db tcp/3306 passes" can tcp "$ga" "$dbip" 3306
	ok "$kind: and they arrived at db" test "$(arrived "$db" udp)" -gt 0 -a "$(arrived "$db" tcp)" -gt 0
	[ "$where" = - ] && fwr=$range || fwr=$range@$where
	ok "$kind: b with its own address is still dropped" cannot_fw "$fwr" tcp "$gb" "$dbip" 3306
	[ $kind = gw ] && uplink_spoof
	ok "$kind: down" cyris-topo down "$range"
done
is "$(host_state)" "$empty" "nothing is left"
done_testing
