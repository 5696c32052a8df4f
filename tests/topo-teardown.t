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
is "$(host_state)" "$before" "the host is exactly as before"
ok "down again: nothing to do" cyris-topo down 124
done_testing
