#!/bin/bash
# cyris-bridge: create, confirm, show and delete — checked against ip -j.
. "$(dirname "$0")/lib.sh"

br=$(cyris-bridge add range 124 net office addr 10.1.0.1/24 addr fd00:124::1/64)
is "$br" "$(cyris-bridge name 124 office)" "add without a name prints the derived name"
is "$(ip -j -d link show "$br" | json '.[0].linkinfo.info_kind')" bridge "the kernel has a bridge of that name"
is "$(ip -j link show "$br" | json '.[0].ifalias')" "cyris range=124 net=office role=bridge" "it carries the owner tag"
is "$(ip -j link show "$br" | json '.[0].altnames[0]')" "cyris-124-office" "the readable altname is set"
is "$(ip -j -d link show "$br" | json '.[0].linkinfo.info_data | "\(.stp_state) \(.forward_delay)"')" "0 0" "STP off, forward delay 0"
is "$(ip -j link show "$br" | json '.[0].flags | index("UP") != null')" true "it is up"
is "$(ip -j addr show dev "$br" | json '[.[0].addr_info[] | select(.scope=="global") | "\(.local)/\(.prefixlen)"] | join(" ")')" \
	"10.1.0.1/24 fd00:124::1/64" "both addresses are on the bridge"

before=$(links_state)
out=$(cyris-bridge -j add range 124 net office addr 10.1.0.1/24)
is "$?" 0 "adding the same bridge again succeeds (idempotent)"
is "$(echo "$out" | json .created)" false "... and says it created nothing"
is "$(echo "$out" | json .schema)" 1 "add -j carries the schema version"
is "$(cyris-bridge -j name 124 office | json .schema)" 1 "name -j carries the schema version"
is "$(links_state)" "$before" "... and changes nothing"

is "$(cyris-bridge -j show "$br" | json '.bridges[0].name')" "$br" "show NAME finds it"
is "$(cyris-bridge -j show cyris-124-office | json '.bridges[0].name')" "$br" "show finds it by altname"
ok "veth into it" cyris-bridge veth v1 peer p1 master "$br" range 124 net office
is "$(ip -j link show v1 | json '.[0].master')" "$br" "the kernel shows v1 enslaved"
is "$(ip -j link show p1 | json '.[0].operstate')" UP "the peer is up"
js=$(cyris-bridge -j show range 124)
is "$(echo "$js" | json '.bridges[0].ports | map(.name) | join(",")')" v1 "show lists the port"
is "$(echo "$js" | json '.bridges[0].ports[0].ifindex')" "$(ip -j link show v1 | json '.[0].ifindex')" "with the kernel's ifindex"
is "$(echo "$js" | json '.bridges[0].mac')" "$(ip -j link show "$br" | json '.[0].address')" "and the kernel's MAC"
is "$(echo "$js" | json '.schema')" 1 "JSON carries a schema version"
like "$(cyris-bridge show)" "port v1 +veth" "text show lists the port"

ok "a named bridge with an address" cyris-bridge add br-lab range 124 net lab addr 10.2.0.1/24
is "$(ip -j link show br-lab | json '.[0].altnames[0]')" "cyris-124-lab" "a given name still gets the range altname"
ok "attach v1 to br-lab" cyris-bridge attach v1 br-lab
is "$(ip -j link show v1 | json '.[0].master')" br-lab "v1 moved to br-lab"
ok "detach v1" cyris-bridge detach v1
is "$(ip -j link show v1 | json '.[0].master // "none"')" none "v1 has no master"
ok "set v1 mtu and mac" cyris-bridge set v1 mtu 1400 mac 02:12:34:56:78:9a
is "$(ip -j link show v1 | json '"\(.[0].mtu) \(.[0].address)"')" "1400 02:12:34:56:78:9a" "the kernel agrees"
ok "set v1 down" cyris-bridge set v1 down
is "$(ip -j link show v1 | json '.[0].flags | index("UP") // "no"')" no "v1 is down"
ok "addr add" cyris-bridge addr add 10.2.0.9/24 dev br-lab
ok "addr add again is fine" cyris-bridge addr add 10.2.0.9/24 dev br-lab
ok "addr del" cyris-bridge addr del 10.2.0.9/24 dev br-lab
is "$(ip -j addr show dev br-lab | json '[.[0].addr_info[] | select(.scope=="global") | .local] | join(" ")')" 10.2.0.1 "only the first address is left"
exits 1 "addr del of an absent address fails" cyris-bridge addr del 10.2.0.9/24 dev br-lab

ok "del the veth" cyris-bridge del v1
ok "v1 and p1 are gone" bash -c '! ip link show v1 2>/dev/null && ! ip link show p1 2>/dev/null'
ok "del the bridge" cyris-bridge del "$br"
exits 1 "del of a missing link fails" cyris-bridge del "$br"
like "$(cyris-bridge del "$br" 2>&1)" "$br: no such link" "and names it"
ok "tap with an owner" cyris-bridge tap tap0 master br-lab owner 4242 vnet-hdr range 124
is "$(ip -j -d link show tap0 | json '.[0].linkinfo.info_data | "\(.type) \(.user) \(.pi) \(.vnet_hdr)"')" \
	"tap 4242 false true" "the kernel has a tap owned by uid 4242 with vnet_hdr"
is "$(ip -j -d link show tap0 | json '.[0].master')" br-lab "attached to br-lab"
ok "the tap persists after the tool exited" ip link show tap0
is "$(cyris-bridge -j show tap0 | json '.links[0].persist')" true "show says it persists"
done_testing
