#!/bin/bash
# Rules of any size are installed exactly as written: a resolved rule longer
# than a kernel comment keeps its port and protocol (issue 10, item 2), and a
# network name that stands for nine instances' bridges comes up (issue 13).
. "$(dirname "$0")/lib.sh"
export PATH=$CYRIS_BIN:$PATH

empty=$(host_state)
f=$CYRIS_SRC/tests/ranges/widerule.yml
rule=$(cyris-topo -j plan "$f" | json '.rules[0].rule')
like "$rule" ' dport=3306 proto=tcp$' "the plan shows the whole resolved rule"
ok "and it is longer than a kernel comment" test "${#rule}" -gt 255
ok "up a range whose resolved rule is longer than 255 bytes" cyris-topo up "$f"
srcs=$(echo "$rule" | sed 's/^src=//; s/ .*//' | tr , '\n' | sort | xargs)

# what the kernel has: a few rules with the sources in anonymous sets (as
# many as keep each comment whole), each with tcp dport 3306
allow=$(nft -j list chain inet cyris_301 allow | jq -c '[.nftables[] | select(.rule) | .rule]')
n=$(echo "$allow" | jq length)
ok "fewer kernel rules ($n) than sources (16)" test "$n" -ge 1 -a "$n" -lt 16
# (nft shows "meta l4proto tcp th dport 3306" as "tcp dport 3306")
is "$(echo "$allow" | jq '[.[] | select([.expr[] | .match? | select(.left.payload.field == "dport")] | length == 1)] | length')" "$n" \
   "every one matches one destination port"
is "$(echo "$allow" | jq '[.[] | select([.expr[] | .match? | select(.left.payload == {protocol: "tcp", field: "dport"} and .right == 3306)] | length == 1)] | length')" "$n" \
   "and it is tcp dport 3306"
is "$(echo "$allow" | jq '[.[] | .expr[] | .match? | select(.left.meta.key == "l4proto" and .right != "tcp")] | length')" 0 \
   "no other protocol"
is "$(echo "$allow" | jq '[.[] | select([.expr[] | .match? | select(.left.payload.field == "saddr" and (.right | type == "object") and .right.set)] | length == 1)] | length')" "$n" \
   "each matches its sources as one set"
is "$(echo "$allow" | jq -r '[.[] | .comment | test("^src=[0-9./,]+ dst=10\\.200\\.0\\.10 dport=3306 proto=tcp$")] | all')" true \
   "each kernel rule's comment is its own exact share"
is "$(echo "$allow" | jq -r '.[] | .comment' | sed 's/^src=//; s/ .*//' | tr , '\n' | sort | xargs)" "$srcs" \
   "together they are exactly the rule's sources"

# real packets
db=cyris-301-1-dbsrv-1
listen_in $db tcp:22 tcp:3306
drops() { cyris-fw -j show 301 | json '[.ranges[0].rules[] | select(.comment == "isolation: from range 301") | .packets] | add'; }
ok "n1 -> db tcp/3306 passes" can tcp cyris-301-1-g1-1 10.200.0.10 3306
ok "n14 -> db tcp/3306 passes" can tcp cyris-301-1-g14-1 10.200.0.10 3306
before=$(drops)
ok "n1 -> db tcp/22 is dropped (times out)" cannot_fw 301 tcp cyris-301-1-g1-1 10.200.0.10 22
ok "and the isolation drop counted it" test "$(drops)" -gt "$before"
ok "n1 -> db udp/3306 is dropped (the rule says tcp)" cannot_fw 301 udp cyris-301-1-g1-1 10.200.0.10 3306
ok "n15 (not in the rule) -> db tcp/3306 is dropped" cannot_fw 301 tcp cyris-301-1-g15-1 10.200.0.10 3306
ok "probe agrees with the rules" cyris-topo probe 301
ok "down 301" cyris-topo down 301

f=$CYRIS_SRC/tests/ranges/nine.yml
ok "up nine instances (a network name stands for nine bridges)" cyris-topo up "$f"
web=$(cyris-topo -j show 302 | json '.guests[] | select(.guest_id == "web" and .instance == 9) | .nics[0].ip')
listen_in cyris-302-9-web-1 tcp:80 tcp:22
ok "instance 9: office -> dmz tcp/80 passes" can tcp cyris-302-9-desktop-1 "$web" 80
ok "instance 9: office -> dmz tcp/22 is dropped" cannot_fw 302 tcp cyris-302-9-desktop-1 "$web" 22
ok "instance 1's office cannot reach instance 9's dmz" cannot_fw 302 tcp cyris-302-1-desktop-1 "$web" 80
ok "probe agrees with the rules" cyris-topo probe 302
ok "down 302" cyris-topo down 302
is "$(host_state)" "$empty" "nothing is left"

# A rule whose sources, source ports and destination ports do not fit one
# comment is split into a few kernel rules, not into the product of its
# lists: bounded however the lists grow (2048 kernel rules before)
f=$CYRIS_SRC/tests/ranges/manyshares.yml
t0=$(date +%s%N)
ok "up a rule of 16 sources x 8 sport ranges x 8 dport ranges" cyris-topo up "$f"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
limit=3000
[ "${CYRIS_VALGRIND:-0}" = 1 ] && limit=30000
ok "  in ${ms} ms (under ${limit})" test "$ms" -lt "$limit"
allow=$(nft -j list chain inet cyris_303 allow | jq -c '[.nftables[] | select(.rule) | .rule]')
n=$(echo "$allow" | jq length)
ok "  as $n kernel rules (at most 8)" test "$n" -ge 1 -a "$n" -le 8
is "$(echo "$allow" | jq '[.[] | .expr[] | .match? | select(.left.payload.field == "dport") | .right.set[]?] | unique | length')" 8 \
   "  together they hold the 8 destination port ranges"
is "$(echo "$allow" | jq '[.[] | .expr[] | .match? | select(.left.payload.field == "sport") | .right.set[]?] | unique | length')" 8 \
   "  and the 8 source port ranges"
ok "down 303" cyris-topo down 303
is "$(host_state)" "$empty" "nothing is left"
done_testing
