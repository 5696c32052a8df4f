#!/bin/bash
# destroy range R deletes every link tagged with R — found from the kernel's
# tags alone — and leaves other ranges' and foreign links intact.
. "$(dirname "$0")/lib.sh"

netns_add g
ip link add hostbr type bridge
ip link add hv0 type veth peer name hv1
ip link set hv0 master hostbr
ip link set hostbr alias "cyrus range=11"      # looks similar, is not ours
for r in 11 12; do
	cyris-bridge -b - <<B || echo "setup of range $r failed"
add range $r net a addr 10.$r.1.1/24
add range $r net b addr 10.$r.2.1/24
veth v$r-1 peer p$r-1 master cyris-$r-a range $r net a
veth v$r-2 peer eth$r master cyris-$r-b peer-netns g range $r net b
tap t$r master cyris-$r-a range $r
vxlan x$r id $r remote 192.0.2.$r master cyris-$r-b range $r
B
done
# a foreign port on a cyris bridge, and a cyris link with no range
ip link set hv1 master cyris-11-a
cyris-bridge veth norange peer norange-p >/dev/null
# an untagged link in range 11's group: what a create killed before it
# could tag its link leaves behind
group11=$(ip -j -d link show "$(cyris-bridge name 11 a)" | json '.[0].group')
cyris-bridge veth orphan peer orphan-p range 11 >/dev/null
ip link set orphan alias ""
is "$(ip -j -d link show orphan | json '"\(.[0].group) \(.[0].ifalias // "none")"')" "$group11 none" \
	"the orphan is in range 11's group, untagged"
# an untagged link in another group that merely looks like ours
ip link add lookalike type veth peer name lookalike-p
ip link set lookalike group 7

before=$(links_state)
is "$(echo "$before" | grep -c 'cyris range=11')" 8 "range 11 has 8 tagged links here (2 bridges, 2 veths, a tap, a vxlan, 2 veth peers)"
out=$(cyris-bridge -j destroy range 11)
is "$?" 0 "destroy range 11"
is "$(echo "$out" | json .deleted)" 9 "it deleted the 8 tagged links of range 11 and the orphan"
is "$(echo "$out" | json .schema)" 1 "destroy -j carries the schema version"
after=$(links_state)
is "$(echo "$after" | grep -c 'cyris range=11')" 0 "no link of range 11 is left"
is "$(echo "$after" | grep -c 'cyris range=12')" 7 "every link of range 12 is still there"
gone='cyris range=11|^(p11-1|orphan|orphan-p)\b'
is "$after" "$(echo "$before" | grep -Ev "$gone" | sed "s/\t$(cyris-bridge name 11 a)\t/\t-\t/")" \
   "everything else is exactly as it was (hv1 only lost its master)"
ok "the foreign bridge and its port are there" ip link show hv0
ok "hv1 (foreign port of a range-11 bridge) survived" ip link show hv1
ok "the lookalike survived" ip link show lookalike
ok "range 11's peer in g went with its veth" bash -c '! ip -n g link show eth11 2>/dev/null'
ok "range 12's peer in g is still there" ip -n g link show eth12
ok "destroy of a range with nothing left succeeds" cyris-bridge destroy range 11
ok "destroy range 12" cyris-bridge destroy range 12
is "$(links_state | grep -c 'cyris range=1[12]')" 0 "both ranges are gone"
ok "the range-less cyris link was not touched" ip link show norange
done_testing
