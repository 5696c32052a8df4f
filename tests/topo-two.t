#!/bin/bash
# Two ranges side by side: each works and neither reaches the other; one
# taken down, the other still works, untouched.
. "$(dirname "$0")/lib.sh"

empty=$(host_state)
ok "up dmz.yml (range 124)" cyris-topo up "$EXAMPLES/dmz.yml"
only124=$(host_state)
ok "up full.yml (range 125) beside it" cyris-topo up "$EXAMPLES/full.yml"
s124=$(cyris-topo -j show 124); s125=$(cyris-topo -j show 125)
is "$(cyris-topo ls | xargs)" "124 125" "ls lists both"
ok "their subnets do not overlap" bash -c "test -z \"\$(comm -12 <(echo '$s124' | jq -r '.networks[].subnet' | sort) <(echo '$s125' | jq -r '.networks[].subnet' | sort))\""
ok "probe 124" cyris-topo probe 124
ok "probe 125" cyris-topo probe 125
ip4() { echo "$1" | jq -r --arg g "$2" '.guests[] | select(.guest_id==$g and .instance==1) | .nics[0].ip'; }
listen_in cyris-125-1-desktop-1 tcp:22 tcp:3306
listen_in cyris-124-1-desktop-1 tcp:22
# (each flow crosses the host's tables of both ranges and the gateway
# guests' own: one of them has to count the drop)
fws=124,125,124@cyris-124-1-firewall-1,125@cyris-125-1-firewall-1,125@cyris-125-2-firewall-1
ok "124's desktop cannot reach 125's" cannot_fw $fws tcp cyris-124-1-desktop-1 "$(ip4 "$s125" desktop)" 22
ok "125's desktop cannot reach 124's" cannot_fw $fws tcp cyris-125-1-desktop-1 "$(ip4 "$s124" desktop)" 22
ok "125's webserver cannot reach 124's desktop" cannot_fw $fws tcp cyris-125-1-webserver-1 "$(ip4 "$s124" desktop)" 22
ok "instance 1 of 125 cannot reach instance 2" cannot_fw $fws tcp cyris-125-1-desktop-1 \
	"$(echo "$s125" | jq -r '.guests[] | select(.guest_id=="desktop" and .instance==2) | .nics[0].ip')" 22
ok "down 124" cyris-topo down 124
ok "125 still works (probe)" cyris-topo probe 125
is "$(cyris-topo ls | xargs)" 125 "only 125 is left"
is "$(cyris-topo -j show 125)" "$s125" "125 is exactly as it was"
ok "down 125" cyris-topo down 125
is "$(host_state)" "$empty" "the host is empty again"
done_testing
