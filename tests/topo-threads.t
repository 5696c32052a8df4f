#!/bin/bash
# up makes a long run of guests (32 or more that are no gateway) on two
# threads, each with its own netlink sockets. The range it builds is the
# one a single thread builds, as the kernel reports it; a failure in the
# second thread, an injected failure at any step, SIGINT and kill -9 leave
# nothing behind (after down, for kill -9), as with one thread.
. "$(dirname "$0")/lib.sh"

W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
# 10 instances of dmz.yml: 10 gateways (each with its firewall, made first),
# then a run of 40 guests, entry points, 30 networks
sed 's/instance_number: 1$/instance_number: 10/' "$EXAMPLES/dmz.yml" > "$W/dmz10.yml"

# What ip -d, nft and sysctl say about the host and every namespace, less
# what differs between two builds on one thread as well: indexes, the
# kernel's random MACs of the host-side veths, bridge timers and port
# numbers (the order the ports were added), IPv6 link-local state (DAD).
NORM='walk(if type == "object" then del(.ifindex, .link_index, .link_netnsid, .gc_timer, .hello_timer,
	.tcn_timer, .topology_change_timer, .hold_timer, .forward_delay_timer, .message_age_timer, .handle)
	| if has("designated_port") then del(.no, .id, .designated_port) else . end else . end)'
dump_ns() {
	local n=() x=(nft)
	[ -n "${1:-}" ] && n=(-n "$1") x=(ip netns exec "$1" nft)
	echo "== ${1:-host}"
	ip "${n[@]}" -j -d link show | jq -S "$NORM"' | map(if .linkinfo.info_kind == "veth" and .master
		then del(.address) else . end) | sort_by(.ifname)'
	ip "${n[@]}" -j addr show | jq -S "$NORM"' | map(del(.address) | .addr_info |= map(select(.scope != "link")))
		| sort_by(.ifname)'
	ip "${n[@]}" -4 -j route show table all | jq -S 'sort_by(.dst, .dev, .table)'
	ip "${n[@]}" -6 -j route show table all | jq -S 'map(select(.dst | test("^(fe80|ff00)") | not))
		| sort_by(.dst, .dev, .table)'
	ip netns exec "${1:-/proc/self/ns/net}" sh -c 'cd /proc/sys/net &&
		grep -r . ipv4/ip_forward ipv4/conf/*/forwarding ipv6/conf/*/forwarding' 2>/dev/null
	"${x[@]}" -j list ruleset | jq -S "$NORM"
}
dump_all() {
	local ns
	dump_ns
	for ns in $(ls /run/netns | sort); do dump_ns "$ns"; done
	ls /run/cyris/netns | sort
}
# the number of threads of process $1, at most, until it exits
max_threads() {
	local m=0 t
	while t=$(awk '/^State:/ && $2 == "Z" { exit } /^Threads:/ { print $2 }' "/proc/$1/status" 2>/dev/null) &&
		[ -n "$t" ]; do
		[ "$t" -gt "$m" ] && m=$t
		sleep 0.01
	done
	echo "$m"
}
cyris-topo -j plan "$W/dmz10.yml" > "$W/plan.json"
jq -r '.guests[] | .name as $g | .nics[] | "\($g) \(.nic) \(.ip) \(.mac)"' "$W/plan.json" | sort > "$W/plan"
before=$(host_state)

# one thread, then two (the default for a run this long), the same range
CYRIS_TOPO_THREADS=1 CYRIS_TOPO_STEP_DELAY_MS=5 "$CYRIS_BIN/cyris-topo" up "$W/dmz10.yml" >/dev/null &
pid=$!
is "$(max_threads $pid)" 1 "CYRIS_TOPO_THREADS=1: up runs on one thread"
wait $pid
is "$?" 0 "  and builds 10 x dmz.yml"
one=$(dump_all)
is "$(ls /run/netns | wc -l)" 50 "  50 guests"
ok "down" cyris-topo down 124
is "$(host_state)" "$before" "  the host is as before"

CYRIS_TOPO_STEP_DELAY_MS=5 "$CYRIS_BIN/cyris-topo" up "$W/dmz10.yml" >/dev/null 2>"$W/err" &
pid=$!
is "$(max_threads $pid)" 2 "by default, up makes the run of 40 guests on two threads"
wait $pid
is "$?" 0 "  and builds 10 x dmz.yml"
is "$(cat "$W/err")" "" "  saying nothing on stderr"
two=$(dump_all)
is "$(ls /run/netns | wc -l)" 50 "  50 guests"
ok "  the kernel's state is the one built on one thread ($(echo "$one" | wc -l) lines of ip, nft, sysctl)" \
	test "$one" = "$two"
[ "$one" = "$two" ] || diff <(echo "$one") <(echo "$two") | head -20 | sed 's/^/# /'
# and as the plan (made on the empty host) says: each guest's addresses and MACs
for ns in $(ls /run/netns); do
	ip -n "$ns" -j addr show | jq -r --arg g "$ns" '.[] | select(.ifname != "lo") | .ifname as $i | .address as $m |
		.addr_info[] | select(.family == "inet") | "\($g) \($i) \(.local)/\(.prefixlen) \($m)"'
done | sort > "$W/kernel"
ok "  every guest's addresses and MACs are the plan's ($(wc -l < "$W/plan") NICs)" cmp -s "$W/plan" "$W/kernel"
out=$(cyris-topo -j probe 124 2>&1)
is "$(echo "$out" | jq '[.flows[] | select(.ok | not)] | length')" 0 "  probe: every flow as the rules say"
ok "down" cyris-topo down 124
is "$(host_state)" "$before" "  the host is as before"

# A failure in the second thread: its first step is the run's second
# guest (the first is made before it starts). Its host-side name is taken.
first=$(jq -r '[.guests[] | select(.gateway | not)][1] | .nics[0].host_ifname' "$W/plan.json")
name=$(jq -r '[.guests[] | select(.gateway | not)][1] | .name' "$W/plan.json")
is "$name" cyris-124-1-filesrv-1 "the run's second guest is filesrv.1 of instance 1"
ip link add "$first" type veth peer name "${first:0:12}-p"
before_dummy=$(host_state)
CYRIS_TOPO_STEP_DELAY_MS=30 "$CYRIS_BIN/cyris-topo" up "$W/dmz10.yml" >/dev/null 2>"$W/err" &
pid=$!
is "$(max_threads $pid)" 2 "a collision in the second thread's first step ($name)"
wait $pid
is "$?" 1 "  up fails"
like "$(cat "$W/err")" "^cyris-topo: up 124: name $first of the veth of guest filesrv.1 eth0 on network internal of range 124 collides with veth link $first, which cyris did not make$" \
	"  naming the object and what holds its name"
is "$(host_state)" "$before_dummy" "  the host is exactly as before (the veth pair kept)"
ip link del "$first"

# an injected failure before each step, and a failure at the last guest,
# with two threads forced on a smaller range (3 instances: a run of 12)
sed 's/instance_number: 1$/instance_number: 3/' "$EXAMPLES/dmz.yml" > "$W/dmz3.yml"
n=$(cyris-topo -j plan "$W/dmz3.yml" | json .steps)
bad=0
for ((i = 1; i <= n; i++)); do
	err=$(CYRIS_TOPO_THREADS=2 CYRIS_TOPO_FAIL_AT=$i "$CYRIS_BIN/cyris-topo" up "$W/dmz3.yml" 2>&1)
	[[ "$err" =~ "injected failure at step $i "(.*)"rolled back" ]] && [ "$(host_state)" = "$before" ] ||
		{ bad=$i; break; }
done
is "$bad" 0 "CYRIS_TOPO_THREADS=2: a failure before any of $n steps is reported and leaves the host as before"
last=$(cyris-topo -j plan "$W/dmz3.yml" | jq -r '.guests[-1].name')
ip netns add "$last"
before_ns=$(host_state)
err=$(CYRIS_TOPO_THREADS=2 "$CYRIS_BIN/cyris-topo" up "$W/dmz3.yml" 2>&1)
is "$?" 1 "the last guest's namespace is taken: up fails"
like "$err" "^cyris-topo: up 124: namespace $last of guest desktop.1 of instance 3 of range 124 collides with a namespace cyris did not make$" \
	"  saying which"
is "$(host_state)" "$before_ns" "  the host is exactly as before"
ip netns del "$last"

# SIGINT in the middle of the two threads' run, and kill -9
midway() { [ "$(ls /run/netns | wc -l)" -ge 15 ]; }
CYRIS_TOPO_STEP_DELAY_MS=20 "$CYRIS_BIN/cyris-topo" up "$W/dmz10.yml" >/dev/null 2>"$W/err" &
pid=$!
ok "up is in the two threads' run" wait_for 60 midway
kill -INT $pid
wait $pid
is "$?" 130 "SIGINT: exit 130"
like "$(cat "$W/err")" "interrupted before guest .*rolled back" "  rolled back"
is "$(host_state)" "$before" "  the host is exactly as before"
CYRIS_TOPO_STEP_DELAY_MS=20 "$CYRIS_BIN/cyris-topo" up "$W/dmz10.yml" >/dev/null 2>&1 &
pid=$!
ok "up is in the two threads' run again" wait_for 60 midway
kill -9 $pid
wait $pid 2>/dev/null
ok "kill -9, then down 124" cyris-topo down 124
is "$(host_state)" "$before" "  zero leftovers"
done_testing
