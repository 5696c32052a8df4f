#!/bin/bash
# Key injection for real: a Debian image with cloud-init (built with
# mmdebstrap, cached) boots an overlay with the seed ISO cyris-vm wrote; the
# guest takes its hostname and static address from the seed, the guest
# agent reports the address, SSH — and cyris-tunnel — log in with the
# injected key and with nothing else, and an ACPI shutdown stops it.
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

# cyris-tunnel logs in with the injected key too: an entry point from vmns's
# 127.0.0.1:2222 to the guest's own sshd, through an SSH session to the guest
T="ip netns exec vmns env -u SSH_AUTH_SOCK HOME=$VM_TMP $CYRIS_BIN/cyris-tunnel"
ok "cyris-tunnel open with the injected key" $T open 35 --via debian@10.35.0.21 \
	--listen 127.0.0.1:2222 --to 127.0.0.1:22 --identity "$VM_TMP/k1" \
	--known-hosts "$VM_TMP/known_hosts" --accept-new
is "$(ip netns exec vmns ssh -p 2222 -i "$VM_TMP/k1" -o IdentitiesOnly=yes -o BatchMode=yes \
	-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
	-o ConnectTimeout=5 debian@127.0.0.1 hostname)" c1 "ssh through the tunnel reaches the guest"
is "$($T -j list 35 | json '.tunnels[0].target')" 127.0.0.1:22 "cyris-tunnel list shows it"
ok "cyris-tunnel close 35" $T close 35
out=$($T open 35 --via debian@10.35.0.21 --listen 127.0.0.1:2223 --to 127.0.0.1:22 \
	--identity "$VM_TMP/k2" --known-hosts "$VM_TMP/known_hosts" 2>&1)
is "$?" 1 "cyris-tunnel open with another key fails (exit 1)"
like "$out" "auth|denied|rejected" "and says why: $out"
ip netns exec vmns bash -c 'exec 3<>/dev/tcp/127.0.0.1/2223' 2>/dev/null
is "$?" 1 "and listens on nothing"

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
