#!/bin/bash
# cyris-vm's refusals and failures against a real libvirtd: usage errors
# (exit 2, nothing made), a create that fails after its overlay and seed
# were made (at start: a bridge that does not exist) or at its seed (a
# foreign volume in the way) removes what it made and nothing else, a
# foreign domain is not touched without --force, a second create of a name
# changes nothing, libvirt's message reaches the user, and a daemon that
# comes up late is waited for.
VM_GUESTS=fast
. "$(dirname "$0")/vm-lib.sh"

vm_fast_guest
netns_add vmns
cyris-bridge -n vmns add br-e range 32 net e addr 10.32.0.1/24 >/dev/null
vm_libvirtd vmns
IMG=/var/lib/cyris/images
state() { # what libvirt holds: domains, volumes, files of the pool
	virsh -q list --all --name | sort
	virsh -q vol-list cyris 2>/dev/null | awk '{ print $1 }' | sort
	ls "$IMG" 2>/dev/null
}
create() { # create NAME [ARGS...]
	local n=$1
	shift
	cyris-vm create "$n" --base "$FAST_BASE" --range 32 --kernel "$FAST_KERNEL" \
		--initrd "$FAST_INITRD" --cmdline "$(fast_cmdline 10.32.0.9/24 10.32.0.1 cyris.noacpi)" "$@"
}

# usage errors: exit 2, libvirt never asked
before=$(state)
exits 2 "no command" cyris-vm
exits 2 "unknown command" cyris-vm frobnicate
exits 2 "create without --base" cyris-vm create x1
exits 2 "a bad guest name" create 'x/1' --nic br-e
exits 2 "a guest name with a space" create 'x 1' --nic br-e
exits 2 "a bad --nic MAC" create x1 --nic br-e,mac=zz
exits 2 "a multicast MAC" create x1 --nic br-e,mac=01:00:5e:00:00:01
exits 2 "a bad --nic option" create x1 --nic br-e,speed=10
exits 2 "a bad --ip" create x1 --nic br-e --ip 10.32.0.300/24
exits 2 "--ip without a prefix length" create x1 --nic br-e --ip 10.32.0.3
exits 2 "--ip with a gateway of the other family" create x1 --nic br-e --ip 10.32.0.3/24,gw=fd00::1
exits 2 "--ip without a --nic" create x1 --ip 10.32.0.3/24
exits 2 "--memory 0" create x1 --memory 0
exits 2 "--vcpus many" create x1 --vcpus 100000
exits 2 "a missing --ssh-key file" create x1 --ssh-key /nonexistent
printf 'not a key\n' > "$VM_TMP/bad.pub"
exits 2 "an --ssh-key file without a key" create x1 --ssh-key "$VM_TMP/bad.pub"
exits 2 "a base image given relative that is not there" cyris-vm create x1 --base no/such.img
exits 2 "--initrd without --kernel" cyris-vm create x1 --base "$FAST_BASE" --initrd "$FAST_INITRD"
exits 2 "--virt-type xen" cyris-vm --virt-type xen list
exits 2 "an option of another command" cyris-vm start x1 --base "$FAST_BASE"
exits 2 "list --wait" cyris-vm list --wait 3
exits 2 "destroy with neither NAME nor --range" cyris-vm destroy
exits 2 "destroy with both" cyris-vm destroy x1 --range 32
exits 2 "a bad range" cyris-vm list --range 'a b'
exits 2 "CYRIS_VIRT_TYPE=xen" env CYRIS_VIRT_TYPE=xen "$CYRIS_BIN/cyris-vm" list
exits 2 "--instance 0" cyris-vm create x1 --base "$FAST_BASE" --instance 0
exits 2 "a bad --guest" cyris-vm create x1 --base "$FAST_BASE" --guest 'a b'
like "$(cyris-vm create x1 2>&1)" "^cyris-vm: create needs --base IMAGE" "the usage error says what is missing"
# batch lines: their own options, each checked; the connection's stay outside
printf 'list\ncreate x1 --memory 5 --base %s\nlist\n' "$FAST_BASE" > "$VM_TMP/b1"
fails_with 2 "^$VM_TMP/b1:2: --memory '5' is not a number" "a batch line's bad option: FILE:LINE, exit 2" \
	cyris-vm -b "$VM_TMP/b1"
fails_with 2 "^<stdin>:1: '-j' belongs on the command line" "-j in a batch line is refused" \
	sh -c 'echo "list -j" | "$0" -b -' "$CYRIS_BIN/cyris-vm"
fails_with 2 "^<stdin>:1: the connection options belong on the command line" \
	"-c in a batch line is refused" sh -c 'echo "list -c qemu:///system" | "$0" -b -' "$CYRIS_BIN/cyris-vm"
printf 'list\nlist --range 32\0 x\n' > "$VM_TMP/b3"
fails_with 2 "^$VM_TMP/b3:2: a NUL byte in the line" "a NUL byte in a batch line: FILE:LINE, exit 2" \
	cyris-vm -b "$VM_TMP/b3"
{ cat "$FAST_BASE.pub" 2>/dev/null; printf 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\0tail\n'; } > "$VM_TMP/nul.pub"
fails_with 2 "^cyris-vm: --ssh-key $VM_TMP/nul.pub:1: a NUL byte in the line" "a NUL byte in an --ssh-key file" \
	create x1 --ssh-key "$VM_TMP/nul.pub"
printf 'list --range 32\ndestroy\n' > "$VM_TMP/b2"
fails_with 2 "^$VM_TMP/b2:2: " "options do not carry over from one line to the next" \
	cyris-vm -b "$VM_TMP/b2"
is "$(state)" "$before" "none of them made anything"

# a failure at start, after the domain, the overlay and the seed were made
out=$(create x2 --nic no-such-br 2>&1)
rc=$?
is "$rc" 1 "create on a bridge that does not exist fails (exit 1)"
like "$out" "^cyris-vm: create x2: [^()]+ \(libvirt: [^)]*no-such-br" "the error names the domain and carries libvirt's message, as (libvirt: ...)"
diag "$out"
is "$(state)" "$before" "and leaves no domain, overlay or seed"

# a failure at the seed: a volume that is not ours has its name
virsh -q vol-create-as cyris x3-seed.iso 1M --format raw >/dev/null
before=$(state)
out=$(create x3 --nic br-e 2>&1)
is "$?" 1 "create x3 fails: x3-seed.iso exists"
like "$out" "x3" "the error names it ($out)"
is "$(state)" "$before" "the overlay and the domain are gone, the foreign volume stays"
ok "the foreign volume is still there" virsh -q vol-info --pool cyris x3-seed.iso

# the serial console's directory (libvirt's log directory, which the
# package makes at install and nothing else does) missing: the preflight
# says a create gets through, and the create makes it as libvirt's package
# does (0700)
LOGD=/var/log/libvirt/qemu
rm -rf "$LOGD"
out=$(cyris-check --provider libvirt 2>&1)
is "$?" 0 "cyris-check --provider libvirt without $LOGD: ready"
like "$out" "✓ console_dir +$LOGD: missing, made by cyris-vm create" "  saying the create makes it"
ok "create x5 without $LOGD" create x5 --nic br-e
is "$(stat -c '%F %a' "$LOGD" 2>&1)" "directory 700" "  which made it, mode 0700"
ok "  and the guest writes its console there" wait_for 60 grep -q "cyris-guest:" "$LOGD/x5-serial.log"
ok "destroy x5" cyris-vm destroy x5
# a file in its way: the preflight refuses, a create fails before libvirt
rm -rf "$LOGD"
: > "$LOGD"
out=$(cyris-check --provider libvirt 2>&1)
is "$?" 1 "cyris-check --provider libvirt with a file at $LOGD: not ready"
like "$out" "✗ console_dir +$LOGD: " "  naming the directory"
before=$(state)
fails_with 1 "^cyris-vm: create x6: .*$LOGD" "create with a file at $LOGD" create x6 --nic br-e
is "$(state)" "$before" "  and makes nothing"
rm -f "$LOGD"
mkdir -m 0700 "$LOGD"

# a directory where a file goes: refused before libvirt is asked to make anything
before=$(state)
fails_with 1 "^cyris-vm: create x7: .*base image $VM_TMP is a directory, not a regular file" \
	"--base a directory" cyris-vm create x7 --base "$VM_TMP" --nic br-e
fails_with 1 "^cyris-vm: create x7: .*base image /dev/null is a special file" \
	"--base /dev/null" cyris-vm create x7 --base /dev/null --nic br-e
fails_with 1 "^cyris-vm: create x7: .*kernel $VM_TMP is not a regular file" \
	"--kernel a directory" create x7 --kernel "$VM_TMP" --nic br-e
fails_with 1 "^cyris-vm: create x7: .*initrd /nonexistent: No such file" \
	"--initrd missing" create x7 --initrd /nonexistent --nic br-e
is "$(state)" "$before" "  none of them made anything"

# a name that is taken
ok "create x4" create x4 --nic br-e
uuid=$(virsh domuuid x4 | head -1)
before=$(state)
out=$(create x4 --nic br-e 2>&1)
is "$?" 1 "a second create x4 fails"
like "$out" "x4.*(exists)" "saying it exists"
is "$(state) $(virsh domuuid x4 | head -1)" "$before $uuid" "the first x4 is untouched"

# a domain cyris did not make
cat > "$VM_TMP/foreign.xml" <<EOF
<domain type='qemu'><name>foreign</name><memory unit='MiB'>64</memory>
<os><type arch='x86_64'>hvm</type></os>
<devices><disk type='file' device='disk'><source file='$FAST_BASE'/><target dev='vda' bus='virtio'/><readonly/></disk></devices>
</domain>
EOF
virsh -q define "$VM_TMP/foreign.xml" >/dev/null
exits 1 "destroy foreign is refused" cyris-vm destroy foreign
like "$(cyris-vm destroy foreign 2>&1)" "foreign.*no cyris tag" "because it has no cyris tag"
exits 1 "start foreign is refused" cyris-vm start foreign
is "$(dom_state foreign)" "shut off" "it was not started"
is "$(cyris-vm -j status foreign | json '"\(.owned) \(.metadata)"')" "false null" "status shows it is not cyris's"
is "$(cyris-vm -j list | json '[.vms[].vm_name] | join(" ")')" x4 "list shows only cyris's guests"
ok "destroy --range 32 leaves it alone" cyris-vm destroy --range 32
ok "foreign is still defined" virsh -q dominfo foreign
ok "destroy --force foreign" cyris-vm --force destroy foreign
ok "it is gone" bash -c '! virsh -q dominfo foreign 2>/dev/null'
ok "its disk (the base) is not" test -f "$FAST_BASE"
exits 1 "destroy of a domain that is not there" cyris-vm destroy foreign
like "$(cyris-vm status nope 2>&1)" "^cyris-vm: status nope: .*(not found|no such)" "status of an unknown domain"
virsh -q vol-delete --pool cyris x3-seed.iso >/dev/null

# a create killed after its define and its overlay: the domain is tagged
# "creating", and destroy finds it and the volume its tag names
virsh -q vol-create-as cyris y1.qcow2 1M --format qcow2 >/dev/null
cat > "$VM_TMP/y1.xml" <<EOF
<domain type='qemu'><name>y1</name><memory unit='MiB'>64</memory>
<metadata><cyris:vm xmlns:cyris="urn:x-cyris:libvirt:domain:1" state="creating" range="32"
 role="guest" created="2026-01-01T00:00:00Z" pool="cyris" overlay="y1.qcow2" seed="y1-seed.iso"
 base="$FAST_BASE"/></metadata>
<os><type arch='x86_64'>hvm</type></os></domain>
EOF
virsh -q define "$VM_TMP/y1.xml" >/dev/null
is "$(cyris-vm status y1)" creating "an interrupted create shows as creating"
is "$(cyris-vm -j list --range 32 | json '.vms[] | select(.vm_name=="y1") | .status')" creating "in list too"
ok "destroy --range 32 removes it" cyris-vm destroy --range 32
ok "the domain is gone" bash -c '! virsh -q dominfo y1 2>/dev/null'
ok "and the overlay it had made" bash -c '! virsh -q vol-info --pool cyris y1.qcow2 2>/dev/null'

# libvirt unreachable: the message is libvirt's, exit 1
out=$(cyris-vm -c qemu+unix:///system?socket=/nonexistent/sock list 2>&1)
is "$?" 1 "an unreachable URI fails (exit 1)"
like "$out" "Failed to connect socket" "with libvirt's message"

# a daemon that comes up a moment later is waited for (bounded backoff)
kill "$_vm_libvirtd_pid"
wait "$_vm_libvirtd_pid" 2>/dev/null
rm -f /run/libvirt/libvirt-sock
# (the delay is the scenario: cyris-vm must retry until the daemon answers)
( sleep 0.5; exec ip netns exec vmns libvirtd -p /run/libvirt/libvirtd.pid >> /var/log/libvirt/stderr.log 2>&1 ) &
_vm_libvirtd_pid=$!
t0=$EPOCHREALTIME
ok "list while libvirtd starts: retried until it answers" cyris-vm list
diag "answered after $(echo "$EPOCHREALTIME - $t0" | bc) s"
is "$(cyris-vm -j list | json '.vms | length')" 0 "and it lists nothing left"
done_testing
