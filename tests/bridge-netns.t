#!/bin/bash
# Namespaces: -n NETNS, veth peers moved into another namespace (by name and
# by pid) and named there, taps made inside a namespace.
. "$(dirname "$0")/lib.sh"

netns_add r1
netns_add g1
ok "a bridge inside netns r1" cyris-bridge -n r1 add br0 range 5 net a addr 10.5.0.1/24
ok "it is in r1" ip -n r1 link show br0
ok "and not here" bash -c '! ip link show br0 2>/dev/null'
ok "veth in r1 with its peer moved into g1 as eth0" \
	cyris-bridge -n r1 veth v-g1 peer eth0 master br0 peer-netns g1 range 5 net a
is "$(ip -n g1 -j link show eth0 | json '.[0].operstate')" UP "g1 has eth0, up"
is "$(ip -n r1 -j link show v-g1 | json '.[0].master')" br0 "the host side is on br0 in r1"
ip -n g1 addr add 10.5.0.2/24 dev eth0
ok "g1 reaches the bridge address through it" ip netns exec g1 ping -c1 -W2 10.5.0.1

# a namespace named by pid: a process that sleeps in its own netns (it
# only holds the namespace, and is killed at exit); the test goes on once
# the process is in a namespace other than this one
unshare -n sleep 600 &
pid=$!
bg_track $pid
own_netns() { [ "$(readlink /proc/$pid/ns/net)" != "$(readlink /proc/self/ns/net)" ]; }
ok "the process is in its own namespace" wait_for 30 own_netns
ok "peer moved into pid:$pid" cyris-bridge -n r1 veth v-p peer eth7 master br0 peer-netns "pid:$pid" range 5
ok "it is in that process' namespace" nsenter -t "$pid" -n ip link show eth7
ok "-n pid:PID targets it too" cyris-bridge -n "pid:$pid" add br-pid
ok "the bridge is there" nsenter -t "$pid" -n ip link show br-pid
ok "-n /proc/PID/ns/net too" cyris-bridge -n "/proc/$pid/ns/net" del br-pid
ok "and it is gone" bash -c "! nsenter -t $pid -n ip link show br-pid 2>/dev/null"

ok "a tap inside r1" cyris-bridge -n r1 tap tap9 master br0 owner 0 range 5
is "$(ip -n r1 -j -d link show tap9 | json '.[0].linkinfo.info_data.type')" tap "the tap is in r1"
ok "no tap here" bash -c '! ip link show tap9 2>/dev/null'
exits 1 "a second tap of that name is refused" cyris-bridge -n r1 tap tap9 range 6
ok "but the same tap confirmed is fine" cyris-bridge -n r1 tap tap9 master br0 range 5
ok "destroy range 5 in r1" cyris-bridge -n r1 destroy range 5
is "$(ip -n r1 -o link | grep -vc ': lo:')" 0 "r1 is empty again"
ok "g1's eth0 went with its veth" bash -c '! ip -n g1 link show eth0 2>/dev/null'
done_testing
