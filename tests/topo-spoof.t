#!/bin/bash
# A guest cannot borrow another network's source address (issue 10, item 4):
# only network a may reach db on 3306; a guest on network b that sends with
# a's address (a secondary address in its namespace) is dropped before db,
# where the host routes and where a gateway guest does. Real packets: UDP
# datagrams and TCP SYNs, counted where they would arrive.
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

empty=$(host_state)
for kind in routed gw; do
	f=$CYRIS_SRC/tests/ranges/spoof-$kind.yml
	range=$(cyris-topo -j plan "$f" | json .range)
	ok "$kind: up range $range" cyris-topo up "$f" || continue
	s=$(cyris-topo -j show "$range")
	ip_of() { echo "$s" | json --arg g "$1" '.guests[] | select(.guest_id == $g) | .nics[0].ip'; }
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
	ok "$kind: down" cyris-topo down "$range"
done
is "$(host_state)" "$empty" "nothing is left"
done_testing
