#!/bin/bash
# Bad input: one clear line on stderr naming the object, exit 2 for usage
# and 1 for failed operations, and no change at all.
. "$(dirname "$0")/lib.sh"

cyris-bridge add br0 range 1 net a >/dev/null
before=$(links_state; ip -br addr)
check() { fails_with "$1" "$2" "$3" cyris-bridge "${@:4}"; }
check 2 "'bridge-name-too-long' is too long" "a 20-byte name" add bridge-name-too-long
check 2 "'10.0.0.300/24' is not an address" "a bad CIDR" add br1 addr 10.0.0.300/24
check 2 "'10.0.0.1' is not an address with a prefix" "a CIDR without length" add br1 addr 10.0.0.1
check 2 "unknown keyword 'colour'" "an unknown keyword" add br1 colour red
check 2 "unknown command 'ad'" "no prefix matching" ad br1
check 2 "'master' needs a value" "a keyword without value" veth v1 peer p1 master
check 2 "'peer PEER' is required" "veth without peer" veth v1 mtu 1400 range 1
check 2 "range 'a b' is not a valid id" "a bad range id" add range "a b" net x
check 2 "give a BRIDGE name, or range R and net N" "add without name or range" add
check 2 "id '16777216' is not a number" "a VNI out of range" vxlan vx1 id 16777216 remote 10.0.0.2
check 2 "'id VNI' and 'remote IP' are required" "vxlan without remote" vxlan vx1 id 5 dstport 4789
check 2 "is not a MAC address" "a bad MAC" set br0 mac 02:00:00:00:00
check 1 "nosuch: no such link" "an unknown link" attach nosuch br0
check 1 "nosuch: no such link" "an unknown master" veth v1 peer p1 master nosuch
check 1 "netns nons: No such file or directory" "an unknown netns" -n nons show
check 2 "unknown option" "an unknown option" --colour show
# mtu 0 would leave the MTU as it is: refused; out of the device's range: the kernel says so
check 2 "mtu '0' is not an MTU" "set mtu 0" set br0 mtu 0
check 2 "mtu '0' is not an MTU" "add mtu 0" add br1 mtu 0
check 2 "mtu '0' is not an MTU" "veth mtu 0" veth v1 peer p1 mtu 0
check 1 "^cyris-bridge: set br0 mtu 10: Invalid argument \(kernel: mtu less than device minimum\)$" \
	"set mtu below the device's minimum: tool: object: message (kernel: its extended ACK), once" set br0 mtu 10
is "$(cyris-bridge set br0 mtu 10 2>&1 | wc -l)" 1 "  on one line"
check 1 "set br0 mtu 70000: .*mtu greater than device maximum" "set mtu above the device's maximum" set br0 mtu 70000
check 1 "add br1: .*mtu greater than device maximum" "add with an mtu above the maximum" add br1 mtu 70000
# add of a bridge that exists and differs from what add gives: each difference named
check 1 "add br0: exists with stp off, not on$" "add of an existing bridge with another stp" add br0 range 1 net a stp on
check 1 "add br0: exists with forward-delay 0, not 1500; vlan-filtering off, not on; mtu 1500, not 1400$" \
	"add of an existing bridge with another forward delay, VLAN filtering and MTU" \
	add br0 range 1 net a forward-delay 1500 vlan-filtering on mtu 1400
mac=$(ip -j link show br0 | json -r '.[0].address')
check 1 "add br0: exists with mac $mac, not 02:00:00:00:00:01$" "add of an existing bridge with another MAC" \
	add br0 range 1 net a mac 02:00:00:00:00:01 addr 10.9.9.1/24
ok "add br0 with what it has succeeds" cyris-bridge add br0 range 1 net a stp off forward-delay 0 mtu 1500 mac "$mac"
# VLAN filtering: this kernel may lack it (CONFIG_BRIDGE_VLAN_FILTERING)
vbefore=$(links_state)
if out=$(cyris-bridge add brv vlan-filtering on 2>&1); then
	is "$(ip -j -d link show brv | json '.[0].linkinfo.info_data.vlan_filtering')" 1 "vlan-filtering on: the kernel filters VLANs on brv"
	cyris-bridge del brv
else
	like "$out" "^cyris-bridge: add brv: Operation not supported" "vlan-filtering on a kernel without it: the kernel's error, named"
	is "$(links_state)" "$vbefore" "and no bridge is left behind"
fi
exits 2 "no command at all" cyris-bridge
is "$(links_state; ip -br addr)" "$before" "nothing changed in the kernel"
out=$(cyris-bridge --help)
is "$?" 0 "--help exits 0"
like "$out" "^Usage: cyris-bridge" "--help prints usage on stdout"
like "$(cyris-bridge --version)" "^cyris-bridge [0-9]" "--version"
done_testing
