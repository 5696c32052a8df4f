#!/bin/bash
# Ownership: cyris-bridge refuses to change links it does not own.
. "$(dirname "$0")/lib.sh"

# "foreign" links, made the way an administrator would (this kernel has no
# dummy type: a bridge and a veth pair stand in for eth0 and friends).
ip link add eth0 type bridge
ip addr add 192.0.2.1/24 dev eth0
ip link add fv0 type veth peer name fv1
ip link set fv0 alias "uplink to the core"
cyris-bridge add cbr range 7 net a >/dev/null
cyris-bridge veth cv0 peer cv1 range 7 >/dev/null
before=$(links_state; ip -br addr)

exits 1 "del eth0 is refused" cyris-bridge del eth0
like "$(cyris-bridge del eth0 2>&1)" "eth0: not owned by cyris" "with a message naming it"
exits 1 "detach of a foreign port is refused" cyris-bridge detach fv0
exits 1 "attach of a foreign port is refused" cyris-bridge attach fv0 cbr
exits 1 "attach to a foreign bridge is refused" cyris-bridge attach cv0 eth0
exits 1 "veth into a foreign bridge is refused" cyris-bridge veth cv2 peer cv3 master eth0
exits 1 "addr add on a foreign link is refused" cyris-bridge addr add 192.0.2.9/24 dev eth0
exits 1 "addr del on a foreign link is refused" cyris-bridge addr del 192.0.2.1/24 dev eth0
exits 1 "set on a foreign link is refused" cyris-bridge set fv0 down
exits 1 "add over a foreign bridge is refused" cyris-bridge add eth0
exits 1 "add over a foreign veth name is refused" cyris-bridge add fv0
exits 1 "a veth named like a foreign link is refused" cyris-bridge veth fv0 peer x1
exits 1 "a cyris bridge of another range is not confirmed" cyris-bridge add cbr range 8 net a
exits 1 "a cyris veth is not a bridge" cyris-bridge add cv0
exits 1 "a veth into a veth is refused" cyris-bridge veth cv4 peer cv5 master cv0
# the refusals of the idempotent create (cyris_link_adopt) name what differs
fails_with 1 "^cyris-bridge: add eth0: exists and is not owned by cyris$" "add over a foreign bridge: why" \
	cyris-bridge add eth0
fails_with 1 "^cyris-bridge: fv0: exists and is not owned by cyris$" "a veth named like a foreign link: why" \
	cyris-bridge veth fv0 peer x1
fails_with 1 "^cyris-bridge: add cbr: exists as a different bridge link \(cyris range=7 net=a" \
	"a cyris bridge of another range: why, with its tag" cyris-bridge add cbr range 8 net a
fails_with 1 "^cyris-bridge: add cv0: exists as a different veth link" "a cyris veth is not a bridge: why" \
	cyris-bridge add cv0
ok "destroy range 7" cyris-bridge destroy range 7
after=$(links_state; ip -br addr)
is "$(echo "$after" | grep -c 'eth0\|fv0\|fv1')" "$(echo "$before" | grep -c 'eth0\|fv0\|fv1')" "foreign links are all still there"
ok "foreign state is untouched" test "$(echo "$before" | grep -v 'cbr\|cv0\|cv1')" = "$(echo "$after")"
ok "cyris links of range 7 are gone" bash -c '! ip link show cbr 2>/dev/null && ! ip link show cv0 2>/dev/null'

ok "--force detaches a foreign port" cyris-bridge --force attach fv0 eth0
is "$(ip -j link show fv0 | json '.[0].master')" eth0 "fv0 is on eth0"
ok "del eth0 --force (after the command) works" cyris-bridge del eth0 --force
ok "eth0 is gone" bash -c '! ip link show eth0 2>/dev/null'
done_testing
