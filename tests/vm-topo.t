#!/bin/bash
# A range file whose guests are QEMU guests: cyris-topo up --provider
# libvirt makes the range's bridges, one libvirt domain per guest (the fast
# guest, on the planned bridge with the planned MAC and address) and the
# range's firewall; the guests' own pings show which flows the firewall lets
# through; down leaves no domain, volume, link or table. Then the same plan
# as batches: cyris-topo plan --emit bridge | cyris-bridge -b -, and
# --emit vm | cyris-vm -b -.
VM_GUESTS=fast
. "$(dirname "$0")/vm-lib.sh"

vm_fast_guest
netns_add vmns
vm_libvirtd vmns
NS=urn:x-cyris:libvirt:domain:1
export PATH=$CYRIS_BIN:$PATH      # for contrib/range.sh
xp() { xmllint --xpath "$1" - 2>/dev/null; }
# What cyris-topo up and contrib/range.sh must agree on: bridges, their
# forwarding and addresses, the ruleset, the tagged domains.
lv_state() {
	local d br
	ip -n vmns -j link show type bridge | jq -r '.[] | "\(.ifname) \(.ifalias // "-")"' | sort
	for br in $(ip -n vmns -j link show type bridge | jq -r '.[].ifname'); do
		echo "$br forwarding $(ip netns exec vmns cat /proc/sys/net/ipv4/conf/$br/forwarding)"
	done
	ip -n vmns -j addr show | jq -r '.[] | .ifname as $i | .addr_info[]? | select(.scope != "link") |
		"\($i) \(.local)/\(.prefixlen)"' | sort
	ip netns exec vmns nft -j list ruleset | jq -cS 'del(.. | .handle?) | del(.. | .counter?)'
	for d in $(virsh -q list --name | sort); do
		echo "$d $(virsh dumpxml "$d" | xp 'concat(//interface/source/@bridge, " ", //interface/mac/@address, " ", //memory)')" \
			"$(virsh metadata "$d" "$NS" | xp 'concat(/vm/@range, " ", /vm/@instance, " ", /vm/@guest, " ", /vm/@role)')"
	done
}

# desktop on office, web on servers; office may ping servers, nothing else
range_file() { # range_file DESKTOP_CMDLINE WEB_CMDLINE
	cat <<-EOF
	- host_settings:
	  - id: host_1
	    mgmt_addr: localhost
	    account: root
	- guest_settings:
	  - id: desktop
	    image: $FAST_BASE
	    kernel: $FAST_KERNEL
	    initrd: $FAST_INITRD
	    cmdline: "$1"
	    memory: 160
	  - id: web
	    image: $FAST_BASE
	    kernel: $FAST_KERNEL
	    initrd: $FAST_INITRD
	    cmdline: "$2"
	    memory: 160
	- clone_settings:
	  - range_id: 41
	    hosts:
	    - host_id: host_1
	      instance_number: 1
	      guests:
	      - guest_id: desktop
	        number: 1
	        forwarding_rules:
	        - rule: src=office dst=servers proto=icmp
	      - guest_id: web
	        number: 1
	      topology:
	      - type: custom
	        networks:
	        - name: office
	          members: desktop.eth0
	        - name: servers
	          members: web.eth0
	EOF
}

# The plan gives the addresses; the guests' kernel command lines carry them
# (the fast guest has no cloud-init).
range_file x x > "$VM_TMP/pre.yml"
P=$(cyris-topo -n vmns -j plan "$VM_TMP/pre.yml")
pg() { echo "$P" | json ".guests[] | select(.guest_id == \"$1\") | .$2"; }
D=$(pg desktop name); W=$(pg web name)
D_CIDR=$(pg desktop 'nics[0].ip'); W_CIDR=$(pg web 'nics[0].ip')
D_IP=${D_CIDR%/*}; W_IP=${W_CIDR%/*}
gw_of() { echo "$P" | json ".networks[] | select(.name == \"$1\") | .gateway"; }
range_file "$(fast_cmdline "$D_CIDR" "$(gw_of office)" "cyris.ping=$W_IP")" \
	"$(fast_cmdline "$W_CIDR" "$(gw_of servers)" "cyris.ping=$D_IP")" > "$VM_TMP/r41.yml"
P=$(cyris-topo -n vmns -j plan "$VM_TMP/r41.yml")
is "$(pg desktop 'nics[0].ip') $(pg web 'nics[0].ip')" "$D_CIDR $W_CIDR" \
	"the command lines do not change the plan"

out=$(cyris-topo -n vmns up "$VM_TMP/r41.yml" --provider libvirt 2>&1)
is "$?" 0 "up --provider libvirt" || diag "$out"
like "$out" "range 41 is up" "and says so"
is "$(virsh -q list --name | sort | xargs)" "$(echo "$D $W" | xargs -n1 | sort | xargs)" \
	"libvirt runs one domain per guest, named as planned"
for g in desktop web; do
	name=$(pg $g name)
	x=$(virsh dumpxml "$name")
	is "$(echo "$x" | xp 'string(//devices/interface/source/@bridge)')" \
		"$(echo "$P" | json ".networks[] | select(.name == \"$(pg $g 'nics[0].network')\") | .bridge")" \
		"$g: its NIC is on its network's bridge"
	is "$(echo "$x" | xp 'string(//devices/interface/mac/@address)')" "$(pg $g 'nics[0].mac')" \
		"$g: with the planned MAC"
	m=$(virsh metadata "$name" "$NS")
	is "$(echo "$m" | xp 'concat(/vm/@range, " ", /vm/@instance, " ", /vm/@guest)')" "41 1 $g.1" \
		"$g: the domain is tagged with range, instance and guest"
	is "$(cyris-vm -n vmns ip "$name" --wait 90 | cut -d' ' -f1,2)" "$(pg $g 'nics[0].ip' | cut -d/ -f1) neigh" \
		"$g: its planned address, from the neighbour table"
done
S=$(cyris-topo -n vmns -j show 41)
is "$(echo "$S" | json '[.guests[] | .provider] | unique | join(",")')" libvirt \
	"show: the guests come from the libvirt provider"
is "$(echo "$S" | json '[.guests[] | .nics[0].ip] | sort | join(" ")')" \
	"$(echo "$D_IP $W_IP" | xargs -n1 | sort | xargs)" "show: with their addresses"
is "$(echo "$S" | json '[.guests[] | "\(.domain) \(.nics[0].network) \(.nics[0].mac)"] | sort | join(",")')" \
	"$(echo "$P" | json '[.guests[] | "\(.name) \(.nics[0].network) \(.nics[0].mac)"] | sort | join(",")')" \
	"show: each domain's NIC on its network, with its MAC"
ok "the range's firewall table is there" ip netns exec vmns nft list table inet cyris_41
UP_STATE=$(lv_state)

# the guests' own pings, as each writes them to its serial console
serial() { cat "/var/log/libvirt/qemu/$1-serial.log" 2>/dev/null; }
wait_for 90 grep -q "ping $W_IP ok" "/var/log/libvirt/qemu/$D-serial.log"
like "$(serial "$D")" "ping $W_IP ok" "desktop (office) pings web (servers): the rule lets it through" || {
	ip netns exec vmns nft list ruleset | sed 's/^/# /'; ip -n vmns addr | sed 's/^/# /'
	ip -n vmns route | sed 's/^/# /'; ip netns exec vmns sysctl -a 2>/dev/null | grep forwarding | sed 's/^/# /'; serial "$W" | sed 's/^/# /'; }
wait_for 30 grep -q "ping $D_IP" "/var/log/libvirt/qemu/$W-serial.log"
# web pings every second and writes each change: once the firewall has
# dropped three of its pings, an "ok" would have shown
fw41() { ip netns exec vmns nft -j list table inet cyris_41 | nft_drops; }
dropped3() { [ "$(fw41)" -ge 3 ]; }
ok "the firewall dropped three of web's pings" wait_for 60 dropped3
like "$(serial "$W")" "ping $D_IP fail" "web (servers) cannot ping desktop (office)"
unlike "$(serial "$W")" "ping $D_IP ok" "not once"
drops=$(ip netns exec vmns nft -j list chain inet cyris_41 forward |
	jq '[.nftables[].rule? | select(. != null) | select(.comment // "" | test("isolation"))
	     | .expr[] | .counter?.packets // empty] | add // 0')
ok "the firewall's isolation rule counted the dropped pings ($drops)" test "${drops:-0}" -gt 0

out=$(cyris-topo -n vmns down 41 2>&1)
is "$?" 0 "down 41"
like "$out" "2 guests" "it removed both guests"
is "$(virsh -q list --all | wc -l)" 0 "no domain left"
is "$(virsh -q vol-list cyris 2>/dev/null | wc -l)" 0 "no volume left"
is "$(ip -n vmns -j link show | json '[.[] | select(.ifalias // "" | test("range=41"))] | length')" 0 \
	"no link of range 41 left"
exits 1 "no firewall table left" ip netns exec vmns nft list table inet cyris_41

# contrib/range.sh with the libvirt provider: the small tools alone
rm -f /var/log/libvirt/qemu/*-serial.log
out=$(CYRIS_NETNS=vmns "$CYRIS_SRC/contrib/range.sh" up "$VM_TMP/r41.yml" libvirt 2>&1)
is "$?" 0 "contrib/range.sh up FILE libvirt" || diag "$out"
is "$(lv_state)" "$UP_STATE" "the same state as cyris-topo up --provider libvirt"
wait_for 90 grep -q "ping $W_IP ok" "/var/log/libvirt/qemu/$D-serial.log"
like "$(serial "$D")" "ping $W_IP ok" "desktop pings web again"
out=$(CYRIS_NETNS=vmns "$CYRIS_SRC/contrib/range.sh" down "$VM_TMP/r41.yml" libvirt 2>&1)
is "$?" 0 "contrib/range.sh down FILE libvirt" || diag "$out"
is "$(virsh -q list --all | wc -l) $(virsh -q vol-list cyris 2>/dev/null | wc -l)" "0 0" \
	"no domain, no volume left"
is "$(ip -n vmns -j link show | json '[.[] | select(.ifalias // "" | test("range=41"))] | length')" 0 \
	"no link of range 41 left"

# the same plan as batches for cyris-bridge and cyris-vm
cyris-topo -n vmns plan "$VM_TMP/r41.yml" --emit bridge > "$VM_TMP/bridge.batch"
cyris-topo -n vmns plan "$VM_TMP/r41.yml" --emit vm > "$VM_TMP/vm.batch"
is "$(grep -c '^create ' "$VM_TMP/vm.batch")" 2 "--emit vm: one create line per guest"
ok "cyris-bridge -b: the range's bridges" cyris-bridge -n vmns -b "$VM_TMP/bridge.batch"
ok "cyris-vm -b: the guests" cyris-vm -n vmns -b "$VM_TMP/vm.batch"
is "$(cyris-vm -j list --range 41 | json '[.vms[].vm_name] | sort | join(" ")')" \
	"$(echo "$D $W" | xargs -n1 | sort | xargs)" "cyris-vm list --range 41: both, tagged"
is "$(virsh dumpxml "$W" | xp 'string(//devices/interface/mac/@address)')" "$(pg web 'nics[0].mac')" \
	"web has its planned MAC"
is "$(cyris-vm -n vmns ip "$D" --wait 90 | cut -d' ' -f1,2)" "$D_IP neigh" "desktop has its planned address"
ok "cyris-vm destroy --range 41" cyris-vm destroy --range 41
is "$(virsh -q list --all | wc -l)" 0 "no domain left"

# a batch stops at its first failing line and names it
{
	echo "# two guests, the second on a bridge that is not there"
	grep "^create $D " "$VM_TMP/vm.batch"
	sed -n 's/^create \([^ ]*web[^ ]*\) \(.*\) --nic [^ ]*/create \1 \2 --nic no-such-br/p' "$VM_TMP/vm.batch"
	echo "create never --base $FAST_BASE"
} > "$VM_TMP/bad.batch"
fails_with 1 "^$VM_TMP/bad.batch:3: create $W: .*no-such-br" \
	"the failing line is reported as FILE:LINE with libvirt's message" \
	cyris-vm -n vmns -b "$VM_TMP/bad.batch"
is "$(virsh -q list --all --name | xargs)" "$D" "the line before it took effect, the line after it did not run"
ok "cyris-vm destroy --range 41" cyris-vm destroy --range 41
cyris-bridge -n vmns destroy range 41 >/dev/null
is "$(virsh -q list --all | wc -l) $(virsh -q vol-list cyris 2>/dev/null | wc -l)" "0 0" \
	"nothing left in libvirt"
done_testing
