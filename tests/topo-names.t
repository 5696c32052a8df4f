#!/bin/bash
# Derived names cannot collide: ranges whose ids join to the same text with
# '-' or '_' (range 1 network a-b and range 1-a network b; ranges a-b and
# a_b; range a guest b-1-c and range a-1-b guest c) run side by side, and
# down of one leaves the other's links, namespaces and table. A name two
# objects would still share (a 15-byte kernel name) is refused as a
# collision that names both.
. "$(dirname "$0")/lib.sh"

dir=/tmp/.names.$$
mkdir -p "$dir"

mkrange() { # mkrange FILE RANGE NETWORK GUEST
	cat > "$1" <<EOF
---
- host_settings:
  - id: host_1
    mgmt_addr: localhost
    account: cyuser
- guest_settings:
  - id: $4
    basevm_host: host_1
    basevm_config_file: /dev/null
    basevm_type: kvm
- clone_settings:
  - range_id: $2
    hosts:
    - host_id: host_1
      instance_number: 1
      guests:
      - guest_id: $4
        number: 1
      topology:
      - type: custom
        networks:
        - name: $3
          members: $4.eth0
EOF
}

# Everything of range $1 on the host: its links (by their tag), the
# namespaces its plan $2 names (with their inodes: the same ones, not new
# ones of the same name), its table.
objs() {
	ip -j -d link show | jq -r --arg t "range=$1" '.[] |
		select((.ifalias // "") | split(" ") | any(. == $t)) |
		[.ifname, (.altnames // [] | join(",")), .ifalias, (.master // "-")] | @tsv' | sort
	for ns in $(echo "$2" | json '.guests[].name'); do
		[ -e "/run/netns/$ns" ] && echo "netns $ns $(stat -L -c %i "/run/netns/$ns")"
	done
	nft -j list table inet "cyris_$1" 2>/dev/null | jq -cS 'del(.. | .handle?) | del(.. | .counter?)'
}

# side_by_side DESC RANGE_A FILE_A RANGE_B FILE_B
side_by_side() {
	local desc=$1 ra=$2 fa=$3 rb=$4 fb=$5 pa pb before sb alt ns
	pa=$(cyris-topo -j plan "$fa"); pb=$(cyris-topo -j plan "$fb")
	before=$(host_state)
	ok "$desc: up range $ra" cyris-topo up "$fa"
	ok "$desc: up range $rb beside it" cyris-topo up "$fb"
	for r in "$ra" "$rb"; do
		[ "$r" = "$ra" ] && p=$pa || p=$pb
		alt=$(echo "$p" | json '.networks[0].altname')
		is "$(ip -j link show dev "$alt" | json '.[0].ifalias')" \
		   "cyris range=$r inst=1 net=$(echo "$p" | json '.networks[0].name') role=bridge" \
		   "$desc: altname $alt is range $r's bridge"
		ns=$(echo "$p" | json '.guests[0].name')
		ok "$desc: namespace $ns of range $r, with its NIC" ip -n "$ns" link show eth0
		like "$(nft list table inet "cyris_$r")" "comment \"cyris range=$r\"" "$desc: table cyris_$r is range $r's"
	done
	sb=$(objs "$rb" "$pb")
	ok "$desc: range $rb has links, a namespace and a table" test "$(echo "$sb" | wc -l)" -ge 4
	ok "$desc: down $ra" cyris-topo down -- "$ra"
	is "$(objs "$ra" "$pa")" "" "$desc: nothing of range $ra is left"
	is "$(objs "$rb" "$pb")" "$sb" "$desc: range $rb's links, namespace and table are untouched"
	ok "$desc: probe $rb still passes" cyris-topo probe "$rb"
	ok "$desc: down $rb" cyris-topo down -- "$rb"
	is "$(host_state)" "$before" "$desc: the host is as before"
}

mkrange "$dir/1.yml" 1 a-b desk
mkrange "$dir/1-a.yml" 1-a b desk
side_by_side "1/a-b and 1-a/b" 1 "$dir/1.yml" 1-a "$dir/1-a.yml"

mkrange "$dir/a-b.yml" a-b lan desk
mkrange "$dir/a_b.yml" a_b lan desk
side_by_side "a-b and a_b" a-b "$dir/a-b.yml" a_b "$dir/a_b.yml"

mkrange "$dir/g1.yml" a lan b-1-c
mkrange "$dir/g2.yml" a-1-b lan c
side_by_side "a/b-1-c and a-1-b/c" a "$dir/g1.yml" a-1-b "$dir/g2.yml"

# Two ranges whose bridges hash to the same 15-byte kernel name (found by
# a birthday search over the derivation of tests/unit/names.c).
mkrange "$dir/c1.yml" coll37178 lan desk
mkrange "$dir/c2.yml" coll222792 lan desk
p1=$(cyris-topo -j plan "$dir/c1.yml"); p2=$(cyris-topo -j plan "$dir/c2.yml")
br=$(echo "$p1" | json '.networks[0].bridge')
is "$(echo "$p2" | json '.networks[0].bridge')" "$br" "ranges coll37178 and coll222792 derive one bridge name ($br)"
before=$(host_state)
ok "up coll37178" cyris-topo up "$dir/c1.yml"
s1=$(objs coll37178 "$p1")
fails_with 1 "name $br of the bridge of network lan of range coll222792 collides with the bridge of network lan of range coll37178" \
	"up coll222792" cyris-topo up "$dir/c2.yml"
is "$(objs coll37178 "$p1")" "$s1" "coll37178 is untouched"
is "$(objs coll222792 "$p2")" "" "nothing of coll222792 is left"
ok "down coll37178" cyris-topo down coll37178
is "$(host_state)" "$before" "the host is as before"

# A namespace that has a guest's name and is not cyris's
netns_add cyris-x-1-desk-1
ino=$(stat -L -c %i /run/netns/cyris-x-1-desk-1)
mkrange "$dir/x.yml" x lan desk
before=$(host_state)
fails_with 1 "namespace cyris-x-1-desk-1 of guest desk.1 of range x collides with a namespace cyris did not make" \
	"up x beside a foreign namespace of its guest's name" cyris-topo up "$dir/x.yml"
is "$(host_state)" "$before" "  nothing is left of x"
is "$(stat -L -c %i /run/netns/cyris-x-1-desk-1)" "$ino" "  the foreign namespace is the same one"

# A table of the range's name that is not the range's (an old cyris named
# range a-b's table cyris_a_b)
nft add table inet cyris_a_b '{ comment "cyris range=a-b"; }'
nft add set inet cyris_a_b ifaces '{ type ifname; }'
before=$(host_state)
fails_with 1 "name cyris_a_b of the firewall table of range a_b collides with a table that is not range a_b's" \
	"up a_b beside a table of its name" cyris-topo up "$dir/a_b.yml"
is "$(host_state)" "$before" "  nothing is left of a_b, the other table is as it was"

rm -rf "$dir"
done_testing
