#!/bin/bash
# Range files as an attacker or a careless user writes them. check refuses
# whatever plan and up refuse, at FILE:LINE; and any input up to 1 MB is
# answered in well under a second and 100 MB (aliases, nesting, sizes, many
# hosts, networks, guests and rules).
. "$(dirname "$0")/lib.sh"

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
HEAD='- host_settings:
  - id: host_1
    mgmt_addr: localhost
- guest_settings:
  - id: desk
    basevm_type: kvm
  - id: fw
    basevm_type: kvm
'

# range FILE GUEST_LINES NET_LINES [INSTANCES]: a range file of one site
range() {
	{
		printf '%s' "$HEAD"
		printf -- '- clone_settings:\n  - range_id: 7\n    hosts:\n    - host_id: host_1\n'
		printf '      instance_number: %s\n      guests:\n%s\n' "${4:-1}" "$2"
		printf '      topology:\n      - type: custom\n        networks:\n%s\n' "$3"
	} > "$T/$1"
}

# refused FILE LINE:COL ERE DESC: check, plan and up all refuse FILE, check
# at FILE:LINE:COL, and up creates nothing
refused() {
	local f=$T/$1 at=$2 pat=$3 desc=$4 before
	fails_with 1 "^$f:$at: $pat" "$desc: check" cyris-topo check "$f"
	exits 1 "$desc: plan refuses it too" cyris-topo plan "$f"
	before=$(host_state)
	exits 1 "$desc: up refuses it too" cyris-topo up "$f"
	is "$(host_state)" "$before" "$desc: and up created nothing"
}

# ---- what plan or up refused and check passed ----------------------------------

range empty.yml '      - guest_id: desk' '        - name: a
          members: desk.eth0'
sed -i 's/range_id: 7/range_id: ""/' "$T/empty.yml"
refused empty.yml 10:15 "'range_id' is empty" "an empty range_id"

range long.yml '      - guest_id: abcdefghijabcdefghijabcdefghij12
        number: 2' '        - name: a
          members: abcdefghijabcdefghijabcdefghij12.eth0'
sed -i 's/- id: desk/- id: abcdefghijabcdefghijabcdefghij12/' "$T/long.yml"
refused long.yml 15:9 "guest id 'abcdefghijabcdefghijabcdefghij12' is too long for number: 2" \
	"a guest id too long for its clones' kernel tags"

range number.yml '      - guest_id: desk
        number: 245' '        - name: a
          members: desk.eth0'
refused number.yml 20:11 "network a has more members than a /24 holds" "number beyond the subnet"

range instances.yml '      - guest_id: desk' '        - name: a
          members: desk.eth0' 257
refused instances.yml 19:11 "subnet_pool 10\.200\.0\.0/16 has no free /24 left for network a \(instance 257\)" \
	"instance_number beyond the address pool"

range gateway.yml '      - guest_id: desk
      - guest_id: fw' '        - name: a
          members: desk.eth0, fw.eth1
          gateway: fw.eth0'
refused gateway.yml 22:20 "'fw' is the gateway of network 'a' and one of its members too" \
	"a guest both gateway and member of one network"

range mixed.yml '      - guest_id: desk
        forwarding_rules:
        - rule: src=a dst=fd00::/64 dport=22' '        - name: a
          members: desk.eth0'
refused mixed.yml 17:17 "rule 'src=a dst=fd00::/64 dport=22': mixes IPv4 and IPv6" "a rule mixing IPv4 and IPv6"

range ports.yml '      - guest_id: desk
        number: 1000
      - guest_id: fw
        number: 24' '        - name: a
          members: desk.eth0, fw.eth0'
sed -i 's/^    - host_id: host_1$/&\n      # a \/16 holds them all/' "$T/ports.yml"
CYRIS_SUBNET_SIZE=16 CYRIS_SUBNET_POOL=10.0.0.0/8 refused ports.yml 23:11 \
	"network 'a' needs 1024 ports on its bridge \(its members' clones\); a Linux bridge holds at most 1023" \
	"more members than a bridge's ports"

# a name with two readings: network a.desk, or guest desk on network a
range dotted.yml '      - guest_id: desk
        forwarding_rules:
        - rule: src=a.desk dst=a dport=22
      - guest_id: fw' '        - name: a
          members: desk.eth0
        - name: a.desk
          members: fw.eth0'
refused dotted.yml 17:17 "rule 'src=a\.desk dst=a dport=22': 'a\.desk' is ambiguous: network 'a\.desk', or guest 'desk' on network 'a' \(rename one of them\)" \
	"a network x.a next to guest a on network x"
# two member readings: guest b.desk on network a, or guest desk on network a.b
range dotted2.yml '      - guest_id: desk
        forwarding_rules:
        - rule: src=a.b.desk dst=a dport=22
      - guest_id: b.desk' '        - name: a
          members: b.desk.eth0
        - name: a.b
          members: desk.eth0'
sed -i 's/- id: fw/- id: b.desk/' "$T/dotted2.yml"
refused dotted2.yml 17:17 "rule 'src=a\.b\.desk dst=a dport=22': 'a\.b\.desk' is ambiguous: guest 'b\.desk' on network 'a', or guest 'desk' on network 'a\.b'" \
	"a name that is a member of two networks"
# one reading only, past the first dot: guest desk on network a.b (plan agrees)
range dotted3.yml '      - guest_id: desk
        forwarding_rules:
        - rule: src=a.b.desk dst=a dport=22
      - guest_id: fw' '        - name: a
          members: fw.eth0
        - name: a.b
          members: desk.eth0'
ok "a name with one reading past its first dot (guest desk on network a.b): check" cyris-topo check "$T/dotted3.yml"
p3=$(cyris-topo -j plan "$T/dotted3.yml")
is "$(echo "$p3" | json '.rules[0].rule | split(" ")[0]')" \
	"src=$(echo "$p3" | json '.guests[] | select(.guest_id == "desk") | .nics[0].ip | split("/")[0]')" \
	"  and plan resolves it to desk's address on a.b"

# clone 2 lands on host_2: the network spans two hosts, and host_1 has no address for it
sed -e 's/number: 1$/number: 2/' "$CYRIS_SRC/contrib/cyris-examples/basic-multi_host.yml" > "$T/span.yml"
fails_with 1 "^$T/span.yml:3:5: host host_1: mgmt_addr 'localhost' must be an IP address" \
	"a network across hosts whose mgmt_addr is a name: check" cyris-topo check "$T/span.yml"
exits 1 "  plan --host host_2 refuses it too" cyris-topo plan "$T/span.yml" --host host_2
ok "  while a range on one host of that file is fine" cyris-topo check "$CYRIS_SRC/contrib/cyris-examples/basic-multi_host.yml"

# rules inside a gateway guest: the netns provider only
dmz=$CYRIS_SRC/contrib/cyris-examples/dmz.yml
fails_with 1 "^$dmz:93:17: rule 'src=office,external dst=internal\.dbsrv dport=3306': enforced in gateway guest cyris-124-1-firewall-1, and rules inside a VM gateway need the netns provider" \
	"rules in a gateway guest, for libvirt guests: check --provider libvirt" cyris-topo check --provider libvirt "$dmz"
ok "  with netns guests it is fine" cyris-topo check --provider netns "$dmz"

# ---- bounded cost ---------------------------------------------------------------------

# Under a sanitizer or valgrind everything is slower and bigger. 2 s, not
# 1: one run at load 5 took just over 1 s of wall time.
TIME_MS=2000 RSS_KB=102400
if [ "${CYRIS_VALGRIND:-0}" = 1 ]; then TIME_MS=30000 RSS_KB=512000
elif [ "${CYRIS_SAN:-0}" = 1 ]; then TIME_MS=5000 RSS_KB=512000; fi
MAXRSS=$CYRIS_BUILD/bench/maxrss
VG=()
[ "${CYRIS_VALGRIND:-0}" = 1 ] && VG=(valgrind -q --error-exitcode=99 --leak-check=full
	--errors-for-leak-kinds=definite,indirect)

# bounded EXIT ERE DESC FILE [ENV...]: check FILE exits EXIT with a first line
# matching ERE, within TIME_MS and RSS_KB
bounded() {
	local code=$1 pat=$2 desc=$3 f=$T/$4 t0 t1 rc ms kb out; shift 4
	t0=$EPOCHREALTIME
	out=$(env "$@" "$MAXRSS" "${VG[@]}" "$CYRIS_BIN/cyris-topo" check "$f" 2>&1)
	rc=$?
	t1=$EPOCHREALTIME
	ms=$(( (${t1/./} - ${t0/./}) / 1000 ))
	kb=$(echo "$out" | sed -n 's/^maxrss_kib //p')
	is "$rc" "$code" "$desc ($(stat -c %s "$f") bytes): exit $code"
	like "$(echo "$out" | head -1)" "$pat" "  says so"
	ok "  in ${ms} ms (at most $TIME_MS)" test "$ms" -le "$TIME_MS"
	ok "  in ${kb} KiB (at most $RSS_KB)" test "${kb:-999999999}" -le "$RSS_KB"
}

gen() { perl -e "$2" > "$T/$1"; }
# the CyRIS head, for perl
P_HEAD='print "- host_settings:\n  - id: host_1\n    mgmt_addr: localhost\n";'

gen laughs.yml "$P_HEAD"'print "- tasks:\n  - &a [x, x, x, x, x, x, x, x, x, x]\n";
	for $i (1..9) { my $p = chr(96 + $i); print "  - &", chr(97 + $i), " [", join(", ", ("*$p") x 10), "]\n" }'
bounded 1 ":10:9: more than 131072 YAML nodes with its aliases expanded" "a billion laughs" laughs.yml

gen alias-guests.yml "$P_HEAD"'print "- tasks: &g {id: g1}\n- guest_settings: [", "*g, " x 249000, "*g]\n"'
bounded 1 ":5:174760: more than 131072 YAML nodes with its aliases expanded" \
	"1 MB of aliases to one guest" alias-guests.yml

gen guest-ids.yml "$P_HEAD"'print "- guest_settings:\n"; print "  - id: g$_\n" for 1..56000'
bounded 1 ":43691:9: more than 131072 YAML nodes" "840 KB of distinct guest ids" guest-ids.yml

gen guest-ids-1025.yml "$P_HEAD"'print "- guest_settings:\n"; print "  - id: g$_\n" for 1..1025'
bounded 1 ":1029:5: more than 1024 guest_settings entries" "1025 guest definitions" guest-ids-1025.yml

gen nested.yml "$P_HEAD"'print "- tasks: ", "[" x 200000, "\n"'
bounded 1 ":4:72: nested deeper than 64 levels" "200 KB of nested [" nested.yml

gen nested-map.yml "$P_HEAD"'print "- tasks:\n"; print "  " x $_, "k$_:\n" for 1..65'
bounded 1 ":68:129: nested deeper than 64 levels" "65 nested mappings" nested-map.yml

gen flat.yml "$P_HEAD"'print "- tasks: [", "a," x 499000, "a]\n"'
bounded 1 ":4:262131: more than 131072 YAML nodes" "1 MB of one list" flat.yml

gen big.yml "$P_HEAD"'print "# padding\n" x 110000'
bounded 1 " larger than 1048576 bytes \(1 MiB\): not a range file" "a file over 1 MiB" big.yml

gen scalar.yml "$P_HEAD"'print "- tasks: ", "a" x 1000000, "\n"'
bounded 1 ":1:1: no clone_settings" "a 1 MB value" scalar.yml

gen keys.yml "$P_HEAD"'print "- tasks: {", join(", ", map { "k$_: v" } 1..60000), "}\n"'
bounded 1 ":1:1: no clone_settings" "a mapping of 60000 keys" keys.yml

gen dupkeys.yml "$P_HEAD"'print "- tasks: {", join(", ", map { "k$_: v" } 1..60000), ", k17: v}\n"'
bounded 1 ":4:[0-9]+: duplicate key 'k17' \(first at line 4\)" "a mapping of 60000 keys, one twice" dupkeys.yml

gen anchors.yml "$P_HEAD"'print "- tasks:\n"; print "  - &a$_ x\n" for 1..1024;
	print "  - [", join(", ", map { "*a" . ($_ % 1024 + 1) } 1..120000), "]\n"'
bounded 1 ":1:1: no clone_settings" "1024 anchors, 120000 aliases" anchors.yml

gen hosts.yml 'print "- host_settings:\n"; print "  - {id: h$_}\n" for 1..43000;
	print "  - {id: h42999}\n- guest_settings:\n  - id: g\n- clone_settings:\n  - range_id: 1\n    hosts: []\n"'
bounded 1 ":43002:5: duplicate host id 'h42999'" "43001 hosts, the last one twice" hosts.yml

gen members.yml "$P_HEAD"'print "- guest_settings:\n  - id: g\n- clone_settings:\n  - range_id: 1\n    hosts:\n    - host_id: host_1\n      guests:\n      - guest_id: g\n      topology:\n      - type: custom\n        networks:\n        - name: n\n          members: ";
	print join(", ", map { "g.eth" . ($_ % 64) } 1..100000), "\n"'
bounded 1 ":16:84: guest 'g' has more than 8 NICs" "100000 members in one value" members.yml

gen sites.yml "$P_HEAD"'print "- guest_settings:\n  - id: g\n- clone_settings:\n  - range_id: 1\n    hosts:\n";
	print "    - {host_id: host_1, guests: [], topology: []}\n" x 18000'
bounded 0 "range 1 is valid" "18000 host entries" sites.yml

# 1000 guests of 16 clones on 8000 networks, 4000 rules naming members
gen plan.yml "$P_HEAD"'print "- guest_settings:\n"; print "  - id: g$_\n" for 0..999;
	print "- clone_settings:\n  - range_id: 1\n    hosts:\n    - host_id: host_1\n      guests:\n";
	for $i (0..999) {
		print "      - guest_id: g$i\n        number: 16\n";
		next if $i;
		print "        forwarding_rules:\n";
		printf "        - rule: src=n%d dst=n%d.g%d dport=80\n", $_, ($_ + 1) % 8000, (($_ + 1) % 8000) / 8 for 0..3999;
	}
	print "      topology:\n      - type: custom\n        networks:\n";
	printf "        - name: n%d\n          members: g%d.eth%d\n", $_, $_ / 8, $_ % 8 for 0..7999'
bounded 0 "range 1 is valid" "a plan of 16000 guests, 8000 networks, 4000 rules" plan.yml CYRIS_SUBNET_POOL=10.0.0.0/8
sed 's/^    - host_id: host_1$/&\n      instance_number: 2/' "$T/plan.yml" > "$T/plan2.yml"
bounded 1 ":1008:7: the range plans more than 16384 guests \\(clones and instances counted\\)" "  that twice, in two instances" plan2.yml \
	CYRIS_SUBNET_POOL=10.0.0.0/8
# two networks whose ids hash to the same 15-byte bridge name: check
# refuses (up would fail half way on the second bridge)
kc=$CYRIS_SRC/tests/ranges/kname-collide.yml
fails_with 1 "^$kc: the bridge of network ab198878 .* and the bridge of network ab255542 .* would both be named c7-ab-" \
	"check: two networks with one kernel name" cyris-topo check "$kc"
before=$(host_state)
exits 1 "up refuses it too" cyris-topo up "$kc"
is "$(host_state)" "$before" "  and creates nothing"
done_testing
