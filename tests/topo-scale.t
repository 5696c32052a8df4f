#!/bin/bash
# A range too large for any fixed-size buffer in a dump path: 160 networks
# (at 145 an 8 KiB read of the firewall's interface set made show, probe,
# ls and cyris-fw show fail with "No space left on device"), 20 guests that
# are entry points (show used to list 16), and a rule to every one of 259
# guests (probe used to try 256 destinations of a rule). What cyris reads
# back is checked against what ip and nft say.
#
# (Neighbour entries are host-wide, at most net.ipv4.neigh.default.
# gc_thresh3 = 1024 in use at once across every namespace: the probe here
# needs about 420, so the guests are one per network, and 100 on the last.)
. "$(dirname "$0")/lib.sh"

NETS=${CYRIS_SCALE_NETS:-160}
ENTRIES=20
LAST=100
range=$(mktemp)
trap 'rm -f "$range"' EXIT
# gen-range.sh's range: the first $ENTRIES guests entry points, $LAST
# guests on the last network, and a rule from n0 to every guest
"$TESTS_DIR/bench/gen-range.sh" "$NETS" 1 | awk -v n="$ENTRIES" -v last="g$((NETS - 1))" -v many="$LAST" '
	/^      - guest_id: g[0-9]+$/ { id = $3 }
	/^        number: 1$/ && id == last { print "        number: " many; next }
	{ print }
	/^        number: 1$/ && substr(id, 2) + 0 < n { print "        entry_point: yes" }
	/^        forwarding_rules:$/ { print "        - rule: src=n0 dport=8080" }' > "$range"
GUESTS=$((NETS - 1 + LAST))

empty=$(host_state)
CYRIS_TOPO_TIMING=1 cyris-topo up "$range" >/dev/null 2>"$range.timing"
is "$?" 0 "up: $NETS networks"
# the per-step timer: every guest and bridge counted, nothing else on stderr
is "$(awk '$2 == "guest" { print $3 }' "$range.timing")" "$GUESTS" "CYRIS_TOPO_TIMING: each guest step timed"
is "$(awk '$2 == "bridge" { print $3 }' "$range.timing")" "$NETS" "CYRIS_TOPO_TIMING: each bridge step timed"
is "$(grep -vc '^timing: ' "$range.timing")" 0 "CYRIS_TOPO_TIMING: only timing lines on stderr"
rm -f "$range.timing"
# a bridge port has no IPv6 address of its own (each would be routes the
# kernel walks for every link made after it)
ll=$({ ip -j link show; ip -j -6 addr show; } | jq -s \
	'(.[0] | map(select(.master != null) | {key: .ifname, value: true}) | from_entries) as $ports |
	 [.[1][] | select($ports[.ifname // ""]) | .addr_info[]] | length')
is "$ll" 0 "the guests' host-side ports have no IPv6 address"
is "$(cyris-topo ls)" 900 "ls lists the range"
ok "ls -j as well" bash -c "$CYRIS_BIN/cyris-topo -j ls >/dev/null"

s=$(cyris-topo -j show 900)
is "$?" 0 "show -j: exit 0"
bridges=$(ip -j -d link show type bridge | jq '[.[] | select((.ifalias // "") | test("^cyris range=900 "))] | length')
is "$(echo "$s" | jq '.networks | length')" "$NETS" "show: every network"
is "$bridges" "$NETS" "ip link: a tagged bridge for each"
is "$(echo "$s" | jq '[.networks[].bridge] | unique | length')" "$NETS" "show: each with its own bridge"
is "$(echo "$s" | jq '.guests | length')" "$GUESTS" "show: every guest"
is "$(ls /run/netns | wc -l)" "$GUESTS" "/run/netns: a namespace for each"
veths=$(ip -j -d link show type veth | jq '[.[] | select(.master != null)] | length')
is "$(echo "$s" | jq '[.guests[].nics[]] | length')" "$veths" "show: a NIC for each veth on a bridge"
dnats=$(nft -j list chain inet cyris_900 prerouting | jq '[.nftables[] | select(.rule)] | length')
is "$(echo "$s" | jq '[.entry_points[].host_port] | unique | length')" "$ENTRIES" "show: all $ENTRIES entry points"
is "$dnats" "$ENTRIES" "nft: a DNAT rule for each"

f=$(cyris-fw -j show 900)
is "$?" 0 "cyris-fw show -j: exit 0"
is "$(echo "$f" | jq '.ranges[0].ifaces | length')" \
	"$(nft -j list set inet cyris_900 ifaces | jq '[.nftables[] | select(.set) | .set.elem[]] | length')" \
	"cyris-fw show: every interface of the set"
is "$(echo "$f" | jq '.ranges[0].rules | length')" \
	"$(nft -j list table inet cyris_900 | jq '[.nftables[] | select(.rule)] | length')" \
	"cyris-fw show: every kernel rule of the table"
ok "cyris-fw show (text)" bash -c "$CYRIS_BIN/cyris-fw show 900 >/dev/null"

out=$(cyris-topo -j probe 900 2>&1)
is "$?" 0 "probe: exit 0"
is "$(echo "$out" | jq '[.flows[] | select(.ok | not)] | length')" 0 "probe: every flow as the rules say"
is "$(echo "$out" | jq '[.flows[] | select(.proto == "tcp" and .port == 8080) | .ip] | unique | length')" \
	$((GUESTS - 1)) "probe: the rule to every guest tries each one outside n0"
fails_with 1 "^cyris-topo: probe 900: Too many open files" "probe with too few descriptors for its sockets" \
	bash -c "ulimit -n 256 && exec $CYRIS_BIN/cyris-topo probe 900"
CYRIS_TOPO_TIMING=1 cyris-topo down 900 >/dev/null 2>"$range.timing"
is "$?" 0 "down"
is "$(awk '$2 ~ /^(libvirt|links|namespaces|firewall)$/ { n++ } END { print n }' "$range.timing")" 4 \
	"CYRIS_TOPO_TIMING: the 4 steps of down timed"
rm -f "$range.timing"
is "$(cyris-topo ls)" "" "ls: nothing left"
is "$(host_state)" "$empty" "the host is as before"
done_testing
