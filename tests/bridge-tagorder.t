#!/bin/bash
# The end state of a tagged create, which the library reaches by making the
# link down, tagging it while down and bringing it up in one sendmsg after
# the create's ACK: every end tagged and in the state asked, a bridge port
# without an IPv6 link-local address, and nothing of anyone else's touched
# when a create fails. Checked against ip -j.
. "$(dirname "$0")/lib.sh"

link() { ip -j -d link show "$@" | jq -r ".[0]$J"; }
up() { ip -j link show "$@" | jq -r '.[0].flags | index("UP") != null'; }

br=$(cyris-bridge add range 124 net office addr 10.1.0.1/24)
is "$(J=.ifalias link "$br")" "cyris range=124 net=office role=bridge" "the bridge is tagged"
is "$(J='.altnames[0]' link "$br")" "cyris-124-office" "and has its altname"
is "$(up "$br")" true "and is up (made down, tagged, then brought up)"

ok "a veth, its peer up (the default)" cyris-bridge veth v1 peer p1 master "$br" range 124 net office
is "$(J=.ifalias link v1)" "cyris range=124 net=office role=veth" "the port is tagged"
like "$(J=.ifalias link p1)" "^cyris range=124 net=office .*role=" "the peer is tagged"
is "$(up v1) $(up p1)" "true true" "both ends are up"
is "$(J=.master link v1)" "$br" "the port is on the bridge"
is "$(J=.inet6_addr_gen_mode link v1)" none "the port makes no IPv6 link-local address"
# the carrier comes after the request (linkwatch): wait for it, up to 30 s
for ((i = 0; i < 300; i++)); do [ "$(J=.operstate link v1)" = UP ] && break; sleep 0.1; done
is "$(J=.operstate link v1)" UP "the port gets its carrier"
is "$(ip -j -6 addr show dev v1 | jq -r '[.[0].addr_info[]? | select(.scope == "link")] | length')" 0 \
	"and has no IPv6 link-local address then either"

ok "a veth whose peer stays down" cyris-bridge veth v2 peer p2 master "$br" range 124 net office peer-down
is "$(up v2) $(up p2)" "true false" "the port is up, the peer down"
like "$(J=.ifalias link p2)" "^cyris range=124 net=office " "the peer is tagged all the same"
is "$(J=.inet6_addr_gen_mode link v2)" none "the port makes no IPv6 link-local address"

ip netns add tagorder-peer
ok "a veth whose peer is in another namespace" \
	cyris-bridge veth v3 peer p3 peer-netns tagorder-peer master "$br" range 124 net office
is "$(up v3)" true "the port is up"
is "$(ip -n tagorder-peer -j link show p3 | jq -r '.[0].flags | index("UP") != null')" true \
	"the peer is up in its namespace"
like "$(ip -n tagorder-peer -j link show p3 | jq -r '.[0].ifalias')" "^cyris range=124 net=office " \
	"and tagged there"

# A create that fails on a name someone else holds must leave that link as
# it was: the tag is never sent before the create's ACK.
ip link add v4 type veth peer name theirs4
ip link set v4 alias "not cyris"
exits 1 "a veth on a name taken by a link cyris did not make is refused" \
	cyris-bridge veth v4 peer p4 master "$br" range 124 net office
is "$(J=.ifalias link v4)" "not cyris" "that link keeps its alias"
is "$(J='.master // "none"' link v4)" none "and is not put on the bridge"
is "$(J=.inet6_addr_gen_mode link v4)" eui64 "nor changed otherwise"
ok "no peer was made for the refused create" bash -c '! ip link show p4 2>/dev/null'
ip link add v5 type bridge
exits 1 "a bridge on a name taken by a link cyris did not make is refused" \
	cyris-bridge add v5 range 124 net lab
is "$(J='.ifalias // ""' link v5)" "" "that bridge stays untagged"
is "$(J='.altnames // [] | length' link v5)" 0 "and gets no altname"
ip netns del tagorder-peer
done_testing
