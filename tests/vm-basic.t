#!/bin/bash
# cyris-vm against a real libvirtd with real QEMU (TCG) guests — the fast
# busybox guest on a cyris bridge: create -> running; the NIC on the bridge
# with the given MAC; the metadata tag; the disk an overlay of the base; the
# seed ISO; the address from the neighbour table (and the port from the
# FDB); list and status; a graceful and a forced stop; start; clone;
# destroy --range leaving no domain, volume, ISO or tap, and nothing else
# gone.
VM_GUESTS=fast
. "$(dirname "$0")/vm-lib.sh"

vm_fast_guest
netns_add vmns
cyris-bridge -n vmns add br-a range 31 net a addr 10.31.0.1/24 >/dev/null
vm_libvirtd vmns
NS=urn:x-cyris:libvirt:domain:1
IMG=/var/lib/cyris/images
xp() { xmllint --xpath "$1" - 2>/dev/null; }   # xp XPATH < XML
fast() { # fast NAME NIC CIDR GW [WORD...]: create a fast guest with that address
	local name=$1 nic=$2
	shift 2
	cyris-vm -n vmns create "$name" --base "$FAST_BASE" --range 31 --memory 160 \
		--nic "$nic" --ip "$1,gw=$2" --kernel "$FAST_KERNEL" --initrd "$FAST_INITRD" \
		--cmdline "$(fast_cmdline "$@")"
}

t0=$EPOCHREALTIME
ok "create g1 on cyris bridge br-a" fast g1 br-a,mac=52:54:00:31:00:01 10.31.0.11/24 10.31.0.1
diag "create took $(echo "$EPOCHREALTIME - $t0" | bc) s"
is "$(dom_state g1)" running "libvirt runs g1"
x=$(virsh dumpxml g1)
is "$(echo "$x" | xp 'string(/domain/@type)')" qemu "domain type qemu (CYRIS_VIRT_TYPE)"
is "$(echo "$x" | xp 'string(//devices/interface/@type)')" bridge "the NIC is type='bridge'"
is "$(echo "$x" | xp 'string(//devices/interface/source/@bridge)')" br-a "on br-a"
is "$(echo "$x" | xp 'string(//devices/interface/mac/@address)')" 52:54:00:31:00:01 "with the MAC given"
tap=$(echo "$x" | xp 'string(//devices/interface/target/@dev)')
is "$(ip -n vmns -j link show "$tap" | json '.[0].master')" br-a "its tap $tap is a port of br-a in vmns"
is "$(echo "$x" | xp 'string(/domain/memory)')" 163840 "160 MiB of memory"
is "$(echo "$x" | xp 'string(//os/kernel)')" "$FAST_KERNEL" "direct kernel boot"
is "$(echo "$x" | xp 'string(//serial[@type="file"]/source/@path)')" /var/log/libvirt/qemu/g1-serial.log \
	"the serial console goes to a file"
m=$(virsh metadata g1 "$NS")
is "$(echo "$m" | xp 'string(/vm/@range)')" 31 "metadata tags range 31"
is "$(echo "$m" | xp 'string(/vm/@role)') $(echo "$m" | xp 'string(/vm/@state)')" "guest ready" \
	"role guest, state ready"
vol=$(virsh vol-dumpxml --pool cyris g1.qcow2)
is "$(echo "$vol" | xp 'string(/volume/target/format/@type)')" qcow2 "the disk is a qcow2 volume of pool cyris"
is "$(echo "$vol" | xp 'string(/volume/backingStore/path)')" "$FAST_BASE" "backed by the base (libvirt)"
is "$(qemu-img info -U --output=json "$IMG/g1.qcow2" | json '."backing-filename"')" "$FAST_BASE" \
	"backed by the base (qemu-img)"
is "$(echo "$x" | xp 'string(//disk[@device="disk"]/source/@volume)')" g1.qcow2 "the domain's disk is that overlay"

# the seed as libvirt holds it
virsh -q vol-download --pool cyris g1-seed.iso "$VM_TMP/seed.iso"
like "$(isoinfo -d -i "$VM_TMP/seed.iso")" "Volume id: cidata" "the seed ISO is volume 'cidata'"
is "$(isoinfo -R -f -i "$VM_TMP/seed.iso" | sort | tr '\n' ' ')" "/meta-data /network-config /user-data " \
	"with meta-data, network-config, user-data (Rock Ridge names)"
like "$(isoinfo -R -x /meta-data -i "$VM_TMP/seed.iso")" 'local-hostname: "g1"' "meta-data names host g1"
net=$(isoinfo -R -x /network-config -i "$VM_TMP/seed.iso")
like "$net" 'macaddress: "52:54:00:31:00:01"' "network-config matches the NIC by its (quoted) MAC"
like "$net" '"10.31.0.11/24"' "and gives it the static address"
like "$net" 'gateway4: "10.31.0.1"' "and the gateway"
is "$(echo "$x" | xp 'string(//disk[@device="cdrom"]/source/@volume)')" g1-seed.iso "attached as a CD-ROM"

# the address: libvirt's lease/agent/arp sources have nothing here (and
# libvirt 9.0's ARP reader fails on this kernel); cyris's netlink lookup
# finds the MAC in br-a's neighbour table
t0=$EPOCHREALTIME
a=$(cyris-vm -n vmns -j wait-ip g1 --timeout 90)
ok "wait-ip g1" test -n "$a"
diag "address known $(echo "$EPOCHREALTIME - $t0" | bc) s after create returned"
is "$(echo "$a" | json '.ip_address') $(echo "$a" | json '.ip_source')" "10.31.0.11 neigh" \
	"g1's address from the neighbour table"
is "$(ip -n vmns -j neigh show 10.31.0.11 | json '.[0].lladdr')" 52:54:00:31:00:01 "the kernel agrees"
is "$(echo "$a" | json '.bridge') $(echo "$a" | json '.port')" "br-a $tap" "on br-a, port $tap"
is "$(bridge -n vmns -j fdb show br br-a | json '.[] | select(.mac=="52:54:00:31:00:01") | .ifname')" "$tap" \
	"the FDB puts that MAC on $tap"
like "$(cyris-vm -n vmns ip g1)" "^10.31.0.11 neigh bridge br-a port $tap$" "text form"
is "$(ip netns exec vmns "$CYRIS_BIN/cyris-vm" -j ip g1 | json '.ip_address')" 10.31.0.11 \
	"cyris-vm inside the namespace finds it too"
ok "the guest booted with its command line (serial console file)" \
	wait_for 30 grep -q "cyris-guest: eth0 52:54:00:31:00:01 10.31.0.11/24" /var/log/libvirt/qemu/g1-serial.log

l=$(cyris-vm -n vmns -j list --range 31)
is "$(echo "$l" | json '.vms | length')" 1 "list --range 31: one VM"
is "$(echo "$l" | json '.vms[0].vm_id')" "$(virsh domuuid g1 | head -1)" "vm_id is libvirt's UUID"
is "$(echo "$l" | json '.vms[0] | "\(.vm_name) \(.status) \(.ip_address) \(.ip_source) \(.provider) \(.metadata.range)"')" \
	"g1 running 10.31.0.11 neigh libvirt 31" "name, status, address, source, provider, range"
like "$(echo "$l" | json '.vms[0].created_at')" '^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$' "created_at"
is "$(echo "$l" | json '.vms[0].macs[0]')" 52:54:00:31:00:01 "macs"
is "$(cyris-vm -n vmns -j list --range 99 | json '.vms | length')" 0 "list --range 99: none"
is "$(cyris-vm status g1)" running "status g1: running"

# a graceful stop: the guest's acpid powers it off
s=$(cyris-vm -j stop g1 --timeout 30)
is "$(echo "$s" | json '.forced')" false "stop g1: graceful"
is "$(dom_state g1)" "shut off" "libvirt: shut off"
ok "the guest saw the power button" grep -q "power button" /var/log/libvirt/qemu/g1-serial.log
is "$(cyris-vm status g1)" stopped "status: stopped"
ok "start g1" cyris-vm start g1
is "$(dom_state g1)" running "running again"
ok "start of a running guest is fine" cyris-vm start g1

# a guest that ignores the power button is powered off after the timeout
ok "create g3 by the bridge's altname" fast g3 cyris-31-a 10.31.0.13/24 10.31.0.1 cyris.noacpi
is "$(virsh dumpxml g3 | xp 'string(//interface/source/@bridge)')" br-a "libvirt got the kernel name"
# wait-ip on a terminal shows its progress (g3's kernel is still booting)
out=$(script -qec "$CYRIS_BIN/cyris-vm -n vmns wait-ip g3 --timeout 1" /dev/null 2>&1)
like "$out" "waiting for the address of g3: 0/1 s" "wait-ip shows progress on a terminal"
like "$out" "no address for 'g3' after 1 s" "and gives up after its timeout"
t0=$SECONDS
is "$(cyris-vm -j stop g3 --timeout 2 | json '.forced')" true "stop g3 --timeout 2: forced"
is "$(dom_state g3)" "shut off" "g3 is off"

# clone: new overlay on the same base, new MAC, same bridge and boot
ok "clone g1 g2" cyris-vm -n vmns clone g1 g2
is "$(dom_state g2)" running "g2 runs"
x2=$(virsh dumpxml g2)
mac2=$(echo "$x2" | xp 'string(//interface/mac/@address)')
ok "g2 has a MAC of its own ($mac2)" test "$mac2" != 52:54:00:31:00:01 -a -n "$mac2"
is "$(echo "$x2" | xp 'string(//interface/source/@bridge)')" br-a "on the same bridge"
is "$(qemu-img info -U --output=json "$IMG/g2.qcow2" | json '."backing-filename"')" "$FAST_BASE" \
	"its own overlay on the same base"
is "$(virsh metadata g2 "$NS" | xp 'string(/vm/@range)')" 31 "in range 31"
is "$(echo "$x2" | xp 'string(//os/cmdline)')" "$(echo "$x" | xp 'string(//os/cmdline)')" "the same boot"

# destroy --range: every guest of the range, its overlay and seed, nothing else
touch "$IMG/not-cyris.img"
d=$(cyris-vm -j destroy --range 31)
is "$(echo "$d" | json '.destroyed')" 3 "destroy --range 31: three guests"
is "$(virsh -q list --all | wc -l)" 0 "no domain left"
is "$(ls "$IMG" | tr '\n' ' ')" "not-cyris.img " "no overlay or seed left, the other file kept"
is "$(ip -n vmns -o link show type tun | wc -l)" 0 "no tap left"
ok "the bridge is still there" ip -n vmns link show br-a
ok "the base image is untouched" test -f "$FAST_BASE"
is "$(cyris-vm -j list | json '.vms | length')" 0 "list: none"
done_testing
