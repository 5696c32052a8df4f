#!/bin/bash
# VM benchmark, with a private libvirtd (tests/vm-lib.sh) and the fast test
# guest (Debian's kernel, a busybox initramfs) under QEMU TCG:
#   (a) cyris-vm create: overlay volume + seed ISO (libisofs, uploaded) +
#       define + start, one process over libvirt's C API
#   (b) the shell path CyRIS takes: qemu-img create -b, genisoimage,
#       virsh define, virsh start (one process each)
# per VM (median of RUNS, a and b interleaved, each VM destroyed untimed
# before the next), 10 VMs created concurrently by each path, and the time
# from create to the guest's address known (cyris-vm wait-ip).
RUNS=${RUNS:-20}
VM_GUESTS=fast
. "$(dirname "$0")/../vm-lib.sh"
. "$(dirname "$0")/lib.sh"
settle || exit 1   # the namespaces of the benchmark before have gone
set +u

vm_fast_guest
netns_add vmns
"$CYRIS_BIN/cyris-bridge" -n vmns add br-b range bench net b addr 10.40.0.1/24 >/dev/null
vm_libvirtd vmns
IMG=/var/lib/cyris/images
W=$VM_TMP/bench
mkdir -p "$W"
CMD="console=ttyS0 quiet panic=-1"
export CYRIS_BIN IMG W FAST_BASE FAST_KERNEL FAST_INITRD CMD

cyris_create() { # cyris_create NAME I
	"$CYRIS_BIN/cyris-vm" -n vmns create "$1" --base "$FAST_BASE" --range bench \
		--memory 160 --nic "br-b,mac=52:54:00:40:00:$(printf %02x "$2")" \
		--ip "10.40.0.$((10 + $2))/24,gw=10.40.0.1" --kernel "$FAST_KERNEL" \
		--initrd "$FAST_INITRD" --cmdline "$CMD cyris.ip=10.40.0.$((10 + $2))/24 cyris.gw=10.40.0.1"
}

# What CyRIS does for one guest: an overlay with qemu-img, a seed with
# genisoimage from files the shell wrote, domain XML written by the shell,
# virsh define and virsh start.
shell_create() { # shell_create NAME I
	local n=$1 i=$2 d=$W/$1 ip mac
	ip=10.40.0.$((10 + i)); mac=52:54:00:40:01:$(printf %02x "$i")
	mkdir -p "$d"
	qemu-img create -q -f qcow2 -b "$FAST_BASE" -F raw "$IMG/$n.qcow2" || return 1
	printf 'instance-id: %s\nlocal-hostname: %s\n' "$n" "$n" > "$d/meta-data"
	printf '#cloud-config\nhostname: %s\n' "$n" > "$d/user-data"
	printf 'version: 2\nethernets:\n  eth0:\n    match: {macaddress: "%s"}\n    addresses: ["%s/24"]\n' \
		"$mac" "$ip" > "$d/network-config"
	genisoimage -quiet -output "$IMG/$n-seed.iso" -volid cidata -joliet -rock \
		"$d/user-data" "$d/meta-data" "$d/network-config" || return 1
	cat > "$d/dom.xml" <<-EOF
	<domain type='qemu'><name>$n</name><memory unit='MiB'>160</memory><vcpu>1</vcpu>
	<os><type arch='x86_64'>hvm</type><kernel>$FAST_KERNEL</kernel><initrd>$FAST_INITRD</initrd>
	<cmdline>$CMD cyris.ip=$ip/24 cyris.gw=10.40.0.1</cmdline></os>
	<features><acpi/><apic/></features>
	<devices>
	<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='$IMG/$n.qcow2'/><target dev='vda' bus='virtio'/></disk>
	<controller type='scsi' model='virtio-scsi'/>
	<disk type='file' device='cdrom'><driver name='qemu' type='raw'/><source file='$IMG/$n-seed.iso'/><target dev='sda' bus='scsi'/><readonly/></disk>
	<interface type='bridge'><mac address='$mac'/><source bridge='br-b'/><model type='virtio'/></interface>
	<serial type='file'><source path='/var/log/libvirt/qemu/$n-serial.log'/><target port='0'/></serial>
	<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>
	<memballoon model='none'/>
	</devices></domain>
	EOF
	virsh -q define "$d/dom.xml" >/dev/null && virsh -q start "$n" >/dev/null
}

cleanup_all() { # untimed: both paths' guests and files
	"$CYRIS_BIN/cyris-vm" destroy --range bench >/dev/null 2>&1
	for d in $(virsh -q list --all --name); do
		virsh -q destroy "$d" >/dev/null 2>&1
		virsh -q undefine "$d" >/dev/null 2>&1
	done
	rm -f "$IMG"/*
	virsh -q pool-refresh cyris >/dev/null 2>&1
	sleep 0.5
}

running() { [ "$(virsh -q domstate "$1" 2>/dev/null | head -1)" = running ]; }

# the pool exists before the first timed run of either path
cyris_create warm 99 >/dev/null && cleanup_all

declare -A T
echo "== vm: one VM to running, $RUNS runs, cyris-vm and the shell path interleaved"
for ((r = 0; r < RUNS; r++)); do
	timed t cyris_create "c$r" "$r"
	[ "$timed_rc" = 0 ] && running "c$r" || { echo "bench: cyris-vm create failed" >&2; exit 1; }
	T[a]="${T[a]:-} $t"
	cleanup_all
	timed t shell_create "s$r" "$r"
	[ "$timed_rc" = 0 ] && running "s$r" || { echo "bench: the shell path failed" >&2; exit 1; }
	T[b]="${T[b]:-} $t"
	cleanup_all
done
ma=$(median ${T[a]}); mb=$(median ${T[b]})

concurrent() { # concurrent FN: 10 guests at once; prints ms
	local s e i pids=
	s=${EPOCHREALTIME/./}
	for i in $(seq 0 9); do
		"$1" "p$i" "$i" >/dev/null 2>&1 &
		pids="$pids $!"
	done
	for p in $pids; do wait "$p" || { echo "bench: a concurrent $1 failed" >&2; return 1; }; done
	e=${EPOCHREALTIME/./}
	for i in $(seq 0 9); do running "p$i" || return 1; done
	echo $(((e - s) / 1000))
}
echo "== vm: 10 VMs concurrently, 3 runs each"
for ((r = 0; r < 3; r++)); do
	T[ca]="${T[ca]:-} $(concurrent cyris_create)" || exit 1
	cleanup_all
	T[cb]="${T[cb]:-} $(concurrent shell_create)" || exit 1
	cleanup_all
done
mca=$(median ${T[ca]}); mcb=$(median ${T[cb]})

echo "== vm: create to address known (wait-ip: the neighbour table), 5 runs"
for ((r = 0; r < 5; r++)); do
	s=${EPOCHREALTIME/./}
	cyris_create "i$r" "$r" >/dev/null || exit 1
	"$CYRIS_BIN/cyris-vm" -n vmns wait-ip "i$r" --timeout 120 >/dev/null || exit 1
	e=${EPOCHREALTIME/./}
	T[ip]="${T[ip]:-} $(((e - s) / 1000))"
	cleanup_all
done
mip=$(median ${T[ip]})
s=${EPOCHREALTIME/./}
pids=
for i in $(seq 0 9); do
	cyris_create "q$i" "$i" >/dev/null &
	pids="$pids $!"
done
# (not a bare wait: libvirtd is a child of this shell too)
for p in $pids; do wait "$p" || exit 1; done
for i in $(seq 0 9); do "$CYRIS_BIN/cyris-vm" -n vmns wait-ip "q$i" --timeout 300 >/dev/null || exit 1; done
e=${EPOCHREALTIME/./}
mip10=$(((e - s) / 1000))
cleanup_all

{
	echo "### VMs: the fast test guest (Debian's kernel, busybox initramfs) under QEMU TCG"
	echo
	echo "Machine: $(machine). A private libvirtd (9.0) in a network namespace; medians; the two"
	echo "paths interleaved, every guest destroyed (untimed) before the next run."
	echo
	echo "| one VM: overlay + seed ISO + define + start, to running | ms | vs shell path |"
	echo "|---|---:|---:|"
	echo "| (a) \`cyris-vm create\` (libvirt C API, libisofs seed uploaded as a volume) | $ma | $(ratio "$ma" "$mb") |"
	echo "| (b) shell path: \`qemu-img create -b\` + \`genisoimage\` + \`virsh define\` + \`virsh start\` | $mb | 1.00 |"
	echo "| (a) 10 VMs created concurrently, until all run | $mca | $(ratio "$mca" "$mcb") |"
	echo "| (b) 10 VMs created concurrently, until all run | $mcb | 1.00 |"
	echo
	echo "Median of $RUNS runs (one VM) and of 3 runs (10 VMs); per VM when 10 are created at once:"
	echo "cyris-vm $(ratio "$mca" 10) ms, shell path $(ratio "$mcb" 10) ms."
	echo
	echo "| create to address known (\`cyris-vm wait-ip\`, neighbour table) | ms |"
	echo "|---|---:|"
	echo "| one VM (median of 5) | $mip |"
	echo "| 10 VMs created at once, until every address is known | $mip10 |"
} | tee "$BENCH_OUT/vm.md"
