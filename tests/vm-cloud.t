#!/bin/bash
# Key injection for real: a Debian image with cloud-init (built with
# mmdebstrap, cached) boots an overlay with the seed ISO cyris-vm wrote; the
# guest takes its hostname and static address from the seed, the guest
# agent reports the address, SSH logs in with the injected key and with
# nothing else, and an ACPI shutdown stops it.
VM_GUESTS=cloud
. "$(dirname "$0")/vm-lib.sh"

vm_need ssh ssh-keygen
vm_cloud_guest
netns_add vmns
cyris-bridge -n vmns add br-c range 35 net c addr 10.35.0.1/24 >/dev/null
vm_libvirtd vmns
ssh-keygen -q -t ed25519 -N '' -C cyris-test-key -f "$VM_TMP/k1"
ssh-keygen -q -t ed25519 -N '' -C other-key -f "$VM_TMP/k2"
ssh_to() { # ssh_to KEY CMD...: as the image's default user, from inside vmns
	local key=$1
	shift
	ip netns exec vmns ssh -i "$key" -o IdentitiesOnly=yes -o BatchMode=yes \
		-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
		-o ConnectTimeout=5 debian@10.35.0.21 "$@"
}

t0=$SECONDS
ok "create c1 from the cloud image with key and address" \
	cyris-vm -n vmns create c1 --base "$CLOUD_BASE" --range 35 --memory 768 --vcpus 2 \
	--nic br-c --ip 10.35.0.21/24,gw=10.35.0.1 --ssh-key "$VM_TMP/k1.pub" \
	--kernel "$CLOUD_KERNEL" --initrd "$CLOUD_INITRD" \
	--cmdline "root=/dev/vda rw console=ttyS0 quiet"
is "$(qemu-img info -U --output=json /var/lib/cyris/images/c1.qcow2 | json '."backing-filename"')" \
	"$CLOUD_BASE" "its disk is an overlay of the cloud image"

# sshd answers once cloud-init has written the key and the host keys; it
# is restarted once more by cloud-init's later stages: wait for them
for i in $(seq 600); do
	ssh_to "$VM_TMP/k1" true 2>/dev/null && break
	dom_state c1 | grep -q running || break
	sleep 0.5
done
diag "ssh answered $((SECONDS - t0)) s after create"
for i in $(seq 300); do
	st=$(ssh_to "$VM_TMP/k1" cloud-init status 2>/dev/null)
	case $st in *done*|*error*) break ;; esac
	dom_state c1 | grep -q running || break
	sleep 1
done
diag "cloud-init finished $((SECONDS - t0)) s after create"
is "$st" "status: done" "cloud-init ran to the end without error" ||
	ssh_to "$VM_TMP/k1" 'cloud-init status --long; grep -E "WARNING|ERROR|Traceback" /var/log/cloud-init.log | tail -20' 2>&1 |
	sed 's/^/#   /'
ok "ssh -i KEY logs in with the injected key" ssh_to "$VM_TMP/k1" true
is "$(ssh_to "$VM_TMP/k1" hostname)" c1 "the guest took its hostname from the seed"
like "$(ssh_to "$VM_TMP/k1" ip -4 -o addr show scope global)" "inet 10\.35\.0\.21/24" \
	"and its static address"
like "$(ssh_to "$VM_TMP/k1" ip route show default)" "default via 10\.35\.0\.1" "and its gateway"
like "$(ssh_to "$VM_TMP/k1" cat /run/cloud-init/result.json)" "DataSourceNoCloud" \
	"cloud-init read the NoCloud seed"
like "$(ssh_to "$VM_TMP/k1" cat .ssh/authorized_keys)" "cyris-test-key" "the key is authorized"
is "$(ssh_to "$VM_TMP/k1" cat .ssh/authorized_keys | grep -c .)" 1 "and no other"
ssh_to "$VM_TMP/k2" true 2>/dev/null
is "$?" 255 "another key is refused (ssh exits 255)"
methods=$(ip netns exec vmns ssh -v -o BatchMode=yes -o PreferredAuthentications=none \
	-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null debian@10.35.0.21 true 2>&1 |
	sed -n 's/.*Authentications that can continue: //p' | head -1 | tr -d '\r ')
is "$methods" publickey "the server offers nothing but public keys"

# the guest agent runs: libvirt's agent source answers first
for i in $(seq 60); do
	a=$(cyris-vm -n vmns -j ip c1) && [ "$(echo "$a" | json .ip_source)" = agent ] && break
	sleep 0.5
done
is "$(echo "$a" | json '"\(.ip_address)/\(.prefix) \(.ip_source)"')" "10.35.0.21/24 agent" \
	"cyris-vm ip: the address from the guest agent"
ip netns exec vmns ping -c1 -W2 10.35.0.21 >/dev/null
is "$(cyris-vm -n vmns -j ip c1 | json .ip_address)" 10.35.0.21 "the same address either way"

t0=$SECONDS
is "$(cyris-vm -j stop c1 --timeout 120 | json .forced)" false "an ACPI shutdown stops it"
diag "stopped in $((SECONDS - t0)) s"
ok "destroy c1" cyris-vm destroy c1
is "$(virsh -q list --all | wc -l) $(virsh -q vol-list cyris | wc -l)" "0 0" "nothing left"
done_testing
