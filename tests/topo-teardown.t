#!/bin/bash
# down takes a range apart in the order that keeps it isolated: guests,
# links and namespaces first, the firewall table last. A down stopped
# before any of its steps leaves the table in place while anything of the
# range is left (a guest still cannot reach the host's services), and a
# second down finishes the job.
. "$(dirname "$0")/lib.sh"

f=$EXAMPLES/dmz.yml
fwg=cyris-124-1-firewall-1
before=$(host_state)
# (the inet table; its bridge table comes and goes with it)
tables() { nft -j list tables | jq '[.nftables[] | select(.table.family? == "inet")] | length'; }
links() { ip -o link show | grep -vc ': lo:'; }
spaces() { ls /run/netns | wc -l; }

# a service of the host's own, on every address
listen_in - tcp:8080 || echo "Bail out! the host's service did not start"

ok "up dmz.yml (range 124)" cyris-topo up "$f"
br=$(cyris-topo -j show 124 | json '.networks[] | select(.name=="external") | .bridge')
hostip=$(ip -j addr show dev "$br" | json '.[0].addr_info[] | select(.family=="inet") | .local')
ok "the host answers on $hostip:8080 from here" can tcp - "$hostip" 8080
ok "the firewall guest cannot reach the host's service ($hostip:8080)" cannot_fw 124 tcp $fwg "$hostip" 8080

# stopped before step 1 (libvirt guests), 2 (links), 3 (namespaces), 4 (table)
what=("" "libvirt guests" links namespaces "firewall table")
for k in 1 2 3 4; do
	fails_with 1 "injected failure at step $k \\(${what[$k]}\\)" "down stopped before step $k" \
		env CYRIS_TOPO_DOWN_FAIL_AT=$k "$CYRIS_BIN/cyris-topo" down 124
	left="$(links) links, $(spaces) namespaces"
	is "$(tables)" 1 "  $left left: the range's table is still there"
	if [ "$(spaces)" -gt 0 ] && [ "$(links)" -gt 0 ]; then
		ok "  the firewall guest still cannot reach the host's service" cannot_fw 124 tcp $fwg "$hostip" 8080
	fi
done
is "$(links) $(spaces)" "0 0" "before the table: no link and no namespace of the range are left"
out=$(cyris-topo down 124)
is "$?" 0 "a second down finishes"
is "$out" "range 124 is down: 0 guests, 0 links, 1 firewall tables removed" "  removing the table alone"
# a larger range goes in pieces (100 ports or 3 bridges each, ports first),
# each a group delete of its own, sent alternately by two threads on two
# sockets; a link of someone else's in the host stays
r12=$(mktemp)
bash "$CYRIS_SRC/tests/bench/gen-range.sh" 12 10 903 > "$r12"
ok "up of 12 networks x 10 guests (range 903)" cyris-topo up "$r12"
ip link add keep0 type bridge
ip link add keep1 type veth peer name keep2 && ip link set keep1 master keep0
is "$(ip -o link show | grep -c '^[0-9]*: v903-')" 120 "  its 120 host ends are there"
st=$(mktemp)
# (LeakSanitizer cannot run under ptrace: topo-scale.t checks a down in pieces for leaks)
ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0 \
	strace -f -qq -e trace=sendmsg -e signal=none -o "$st" "$CYRIS_BIN/cyris-topo" down 903 >/dev/null
is "$?" 0 "down 903"
# (100 ports; 20 ports and 2 bridges; 3, 3 and 3 bridges; the last one
# alone, by its index)
is "$(grep 'RTM_DELLINK' "$st" | grep -c 'IFLA_GROUP')" 5 "  5 group deletes"
is "$(grep -c 'RTM_DELLINK' "$st")" 6 "  and one delete of a single link"
is "$(grep 'RTM_DELLINK' "$st" | grep 'IFLA_GROUP' | awk '{ print $1 }' | sort -u | wc -l)" 2 \
	"  sent by two threads"
is "$(grep 'RTM_DELLINK' "$st" | grep 'IFLA_GROUP' | awk '{ print $1 }' | uniq | wc -l)" 5 \
	"  alternately"
is "$(ip -o link show | grep -c 'v903-\|b903-')" 0 "  nothing of range 903 is left"
is "$(ip -o link show | awk -F': ' '{ print $2 }' | sed 's/@.*//' | grep -c '^keep[0-2]$')" 3 \
	"  a bridge, its port and the port's peer of someone else's stay"
is "$(ip -j link show keep1 | jq -r '.[0].master')" keep0 "  and the port stays on its bridge"
ip link del keep1; ip link del keep0
rm -f "$st" "$r12"

is "$(host_state)" "$before" "the host is exactly as before"
ok "down again: nothing to do" cyris-topo down 124
done_testing
