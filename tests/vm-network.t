#!/bin/bash
# A NIC on a libvirt network (type='network', libvirt's dnsmasq for DHCP):
# the guest's address comes from libvirt's lease source; a clone gets a new
# MAC and its own lease; destroy removes both and leaves the network.
VM_GUESTS=fast
. "$(dirname "$0")/vm-lib.sh"

vm_need dnsmasq iptables
vm_fast_guest
netns_add vmns
vm_libvirtd vmns
cat > "$VM_TMP/net.xml" <<'EOF'
<network>
  <name>cyris-test</name>
  <bridge name='virbr-cy' stp='off' delay='0'/>
  <ip address='10.33.0.1' netmask='255.255.255.0'>
    <dhcp><range start='10.33.0.100' end='10.33.0.199'/></dhcp>
  </ip>
</network>
EOF
virsh -q net-define "$VM_TMP/net.xml" >/dev/null
out=$(virsh -q net-start cyris-test 2>&1) || skip_all "libvirt cannot start a network here: $out"
ok "libvirt's network runs its bridge in vmns" ip -n vmns link show virbr-cy

ok "create n1 with a NIC on network cyris-test" \
	cyris-vm -n vmns create n1 --base "$FAST_BASE" --range 33 --memory 160 \
	--nic network=cyris-test,mac=52:54:00:33:00:01 --kernel "$FAST_KERNEL" \
	--initrd "$FAST_INITRD" --cmdline "$(fast_cmdline dhcp)"
x=$(virsh dumpxml n1)
is "$(echo "$x" | xmllint --xpath 'string(//interface/@type)' -)" network "the NIC is type='network'"
is "$(echo "$x" | xmllint --xpath 'string(//interface/source/@network)' -)" cyris-test "on cyris-test"
t0=$EPOCHREALTIME
a=$(cyris-vm -n vmns -j wait-ip n1 --timeout 90)
diag "address known after $(echo "$EPOCHREALTIME - $t0" | bc) s (from $(echo "$a" | json .ip_source))"
# dnsmasq hands the lease to libvirt through a helper process a moment
# after the guest has it (and may already be in the neighbour table)
lease_src() { # lease_src NAME: until the lease source answers
	local i a
	for i in $(seq 100); do
		a=$(cyris-vm -n vmns -j ip "$1")
		[ "$(echo "$a" | json .ip_source)" = lease ] && break
		sleep 0.2
	done
	echo "$a"
}
a=$(lease_src n1)
is "$(echo "$a" | json '.ip_source')" lease "found through libvirt's DHCP lease"
lease=$(virsh -q net-dhcp-leases cyris-test --mac 52:54:00:33:00:01 | awk '{ print $5 }')
is "$(echo "$a" | json '"\(.ip_address)/\(.prefix)"')" "$lease" "the lease libvirt holds ($lease)"
like "$lease" '^10\.33\.0\.1[0-9][0-9]/24$' "in the DHCP range"
# (the guest writes that line to its console after its DHCP client has the
# lease: under load, after libvirt knows it)
ok "the guest has it (serial console)" wait_for 30 grep -q "cyris-guest: eth0 52:54:00:33:00:01 ${lease%/*}/24" \
	/var/log/libvirt/qemu/n1-serial.log
is "$(cyris-vm -n vmns -j list --range 33 | json '.vms[0] | "\(.ip_address) \(.ip_source)"')" \
	"${lease%/*} lease" "list reports it with its source"

ok "clone n1 n2" cyris-vm -n vmns clone n1 n2
mac2=$(virsh dumpxml n2 | xmllint --xpath 'string(//interface/mac/@address)' -)
ok "n2 has its own MAC ($mac2)" test -n "$mac2" -a "$mac2" != 52:54:00:33:00:01
is "$(virsh dumpxml n2 | xmllint --xpath 'string(//interface/source/@network)' -)" cyris-test \
	"on the same network"
cyris-vm -n vmns wait-ip n2 --timeout 90 >/dev/null
a2=$(lease_src n2)
is "$(echo "$a2" | json '.ip_source')" lease "n2's address from its lease"
ok "a different one" test "$(echo "$a2" | json '.ip_address')" != "${lease%/*}"
is "$(echo "$a2" | json '.mac')" "$mac2" "for its MAC"

ok "destroy --range 33" cyris-vm destroy --range 33
is "$(virsh -q list --all | wc -l) $(virsh -q vol-list cyris | wc -l)" "0 0" "no domain, no volume"
ok "the network is left alone" virsh -q net-info cyris-test
virsh -q net-destroy cyris-test >/dev/null
done_testing
