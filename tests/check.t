#!/bin/bash
# cyris-check: each capability probed for real; cyris-topo up refuses with
# the list when something is missing, and creates nothing.
. "$(dirname "$0")/lib.sh"

js=$(cyris-check -j)
is "$?" 0 "the netns provider's needs are met here"
is "$(echo "$js" | json '[.checks[] | select(.needed) | select(.ok | not)] | length')" 0 "no needed check fails"
for c in cap_net_admin bridge veth vxlan nf_tables named_netns; do
	is "$(echo "$js" | json --arg c $c '.checks[] | select(.name==$c) | .ok')" true "$c: usable"
done
is "$(ls /run/netns | wc -l)" 0 "the checks left no namespace behind"
is "$(ip -o link | grep -vc ': lo:')" 0 "nor a link here"
is "$(nft list tables | wc -l)" 0 "nor a table"

# entry points: can clients from outside reach them? (reported, never a failure)
entry() { cyris-check -j | json '.checks[] | select(.name=="entry_points") | "\(.ok) \(.needed) \(.detail)"'; }
sysctl -qw net.ipv4.conf.all.forwarding=0
like "$(entry)" "^false false net.ipv4.ip_forward = 0 and no default route: entry points answer this host only" \
	"entry points: no forwarding and no default route: this host only"
ip link add up0 type veth peer name up1 && ip link set up1 up && ip link set up0 up
ip addr add 192.0.2.1/24 dev up0 && ip route add default via 192.0.2.9
like "$(entry)" "^true false .*come in on up0 \(the default route's\), where up turns forwarding on for entry points only" \
	"entry points: up0 holds the default route: up turns forwarding on there"
sysctl -qw net.ipv4.conf.up0.forwarding=1
like "$(entry)" "^true false .*come in on up0 \(the default route's\), which forwards already" \
	"entry points: up0 forwards already"
sysctl -qw net.ipv4.conf.all.forwarding=1
like "$(entry)" "^true false the host forwards IPv4" "entry points: the host forwards"
sysctl -qw net.ipv4.conf.all.forwarding=0
ip link del up0
out=$(CYRIS_LIBVIRT_URI='qemu+unix:///system?socket=/nonexistent/sock' cyris-check --provider libvirt 2>&1)
is "$?" 1 "libvirt provider without a libvirt: exit 1"
like "$out" "✗ libvirt +qemu\+unix:///system\?socket=/nonexistent/sock: " "  libvirt is reported missing, with its message"
js=$(CYRIS_LIBVIRT_URI=test:///default cyris-check -j --provider libvirt)
is "$(echo "$js" | json '.checks[] | select(.name=="libvirt") | .ok')" true "libvirt's test driver is reachable"
like "$(echo "$js" | json '.checks[] | select(.name=="libvirt") | .detail')" "^test:///default: libvirt [0-9]+\." "  with its version"
exits 2 "a bad --provider is a usage error" cyris-check --provider xen

# an unprivileged user: up refuses before making anything
before=$(host_state)
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all \
	"$CYRIS_BIN/cyris-topo" up "$EXAMPLES/basic.yml" 2>&1)
is "$?" 1 "up without CAP_NET_ADMIN fails"
like "$out" "cannot run a netns range \(cyris-check\): cap_net_admin: no CAP_NET_ADMIN" "  naming what is missing"
is "$(host_state)" "$before" "  and creates nothing"
done_testing
