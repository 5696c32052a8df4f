#!/bin/bash
# The libvirt provider through the provider interface alone (create /
# list / status / ip / destroy, as cyris-topo calls it), against a real
# libvirtd and a real fast guest; each answer checked against libvirt.
VM_GUESTS=fast
. "$(dirname "$0")/vm-lib.sh"

vm_fast_guest
netns_add vmns
cyris-bridge -n vmns add br-p range 34 net p addr 10.34.0.1/24 >/dev/null
vm_libvirtd vmns
H=$CYRIS_BUILD/tests/helpers/vm-provider
[ -x "$H" ] || skip_all "the helper $H is not built"
P() {
	if [ "${CYRIS_VALGRIND:-0}" = 1 ]; then
		valgrind -q --error-exitcode=99 --leak-check=full \
			--errors-for-leak-kinds=definite,indirect "$H" vmns "$@"
	else
		"$H" vmns "$@"
	fi
}
field() { tr ' ' '\n' | sed -n "s/^$1=//p" | head -1; }

out=$(P create p1 34 desktop "$FAST_BASE" br-p 52:54:00:34:00:01 10.34.0.21/24 10.34.0.1 \
	"$FAST_KERNEL" "$FAST_INITRD" "$(fast_cmdline 10.34.0.21/24 10.34.0.1)")
ok "ops->create" test $? = 0
is "$(echo "$out" | head -1)" ops=libvirt "the provider is libvirt"
info=$(echo "$out" | sed -n 2p)
is "$(echo "$info" | field status)" running "create returns status running"
is "$(echo "$info" | field id)" "$(virsh domuuid p1 | head -1)" "and libvirt's UUID"
is "$(echo "$info" | field mac)" 52:54:00:34:00:01 "and the planned MAC"
is "$(dom_state p1)" running "libvirt runs it"
m=$(virsh metadata p1 urn:x-cyris:libvirt:domain:1)
is "$(echo "$m" | xmllint --xpath 'concat(/vm/@range, " ", /vm/@instance, " ", /vm/@guest, " ", /vm/@role)' -)" \
	"34 1 desktop guest" "the tag has range, instance, guest and role"
is "$(P status p1 | sed -n 2p)" status=running "ops->status"

for i in $(seq 150); do
	a=$(P ip p1) && break
	sleep 0.2
done
is "$(echo "$a" | sed -n 2p | field ip) $(echo "$a" | sed -n 2p | field source)" "10.34.0.21 neigh" \
	"ops->ip: the address and its source"
l=$(P list 34)
is "$(echo "$l" | sed 1d | wc -l)" 1 "ops->list 34: one guest"
is "$(echo "$l" | sed -n 2p | field name) $(echo "$l" | sed -n 2p | field ip) $(echo "$l" | sed -n 2p | field guest)" \
	"p1 10.34.0.21 desktop" "with its address and tag"
is "$(P list 35 | sed 1d | wc -l)" 0 "ops->list 35: none"
is "$(P ip nope | tail -1)" "error=No such file or directory" "ops->ip of an unknown guest: -ENOENT"
ok "ops->destroy" P destroy p1
is "$(virsh -q list --all | wc -l) $(virsh -q vol-list cyris | wc -l)" "0 0" "nothing left in libvirt"
done_testing
