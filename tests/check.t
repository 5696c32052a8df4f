#!/bin/bash
# cyris-check: each capability probed for real; cyris-topo up refuses with
# the list when something is missing, and creates nothing.
. "$(dirname "$0")/lib.sh"

js=$(cyris-check -j)
is "$?" 0 "the netns provider's needs are met here"
is "$(echo "$js" | json '[.checks[] | select(.needed) | select(.ok | not)] | length')" 0 "no needed check fails"
for c in cap_net_admin bridge veth vxlan nf_tables named_netns; do
	is "$(echo "$js" | json --arg c $c '.checks[] | select(.name==$c) | .ok')" true "$c: usable"
done
is "$(ls /run/netns | wc -l)" 0 "the checks left no namespace behind"
is "$(ip -o link | grep -vc ': lo:')" 0 "nor a link here"
is "$(nft list tables | wc -l)" 0 "nor a table"

# the kernel's probes once a boot: a pass is recorded as the boot id and the
# mount and user namespaces, and up then makes no scratch namespace; a
# record that is not a pass of this boot in these namespaces, or that
# someone else could have written, is not trusted
stamp=/run/cyris/kernel-checked
boot=$(kernel_record)
like "$boot" "^[0-9a-f-]{36} mnt:[0-9]+ user:[0-9]+$" "(the record's form)"
is "$(cat $stamp 2>/dev/null)" "$boot" "cyris-check records its pass as this boot's id and namespaces"
is "$(stat -c %u $stamp)" 0 "  a file of root's"
is "$(( 0$(stat -c %a $stamp) & 022 ))" 0 "  that no one else can write"
W=$(mktemp -d); trap '_cleanup; rm -rf "$W"' EXIT
newnets() { # newnets TOOL ARG...: "N exit RC": the network namespaces TOOL made (strace: unshare and clone), its status
	local t=$1; shift
	# (LeakSanitizer cannot run under ptrace)
	ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0 ${NEWNETS_IN:-} \
		strace -f -qq -e trace=unshare,clone,clone3 -e signal=none -o "$W/st" "$CYRIS_BIN/$t" "$@" >/dev/null 2>"$W/err"
	local rc=$?   # (strace exits with the command's status)
	[ "$rc" = 0 ] || cat "$W/err" >&2
	echo "$(grep -c 'CLONE_NEWNET' "$W/st") exit $rc"
}
r1=$W/one.yml
cat > "$r1" <<'Y'
- host_settings:
  - id: h
    mgmt_addr: localhost
    virbr_addr: 10.0.0.1
    account: root
- guest_settings:
  - id: g
    basevm_host: h
    basevm_type: kvm
- clone_settings:
  - range_id: 301
    hosts:
    - host_id: h
      instance_number: 1
      guests:
      - guest_id: g
        number: 1
      topology:
      - type: custom
        networks:
        - name: office
          members: g.eth0
Y
is "$(newnets cyris-topo up "$r1")" "1 exit 0" "up with the record: one namespace, its guest's (no scratch namespace)"
cyris-topo down 301 >/dev/null
echo "00000000-0000-0000-0000-000000000000 ${boot#* }" > $stamp
is "$(newnets cyris-topo up "$r1")" "3 exit 0" "up with a record of another boot: the scratch namespaces are made again"
is "$(cat $stamp)" "$boot" "  and the pass recorded for this boot"
cyris-topo down 301 >/dev/null
chmod 666 $stamp
is "$(newnets cyris-topo up "$r1")" "3 exit 0" "a record others can write is not trusted"
cyris-topo down 301 >/dev/null
chown 65534 $stamp; chmod 644 $stamp
is "$(newnets cyris-topo up "$r1")" "3 exit 0" "nor one of another user's"
is "$(stat -c %u $stamp)" 0 "  which the pass replaces with root's"
cyris-topo down 301 >/dev/null
echo "$boot" > "$W/record"; rm -f $stamp; ln -s "$W/record" $stamp
is "$(newnets cyris-topo up "$r1")" "3 exit 0" "nor a symbolic link to the right id"
is "$(stat -c %F $stamp)" "regular file" "  which the pass replaces with a file"
cyris-topo down 301 >/dev/null
# (another mount namespace, whose mounts under /run/netns still propagate here)
is "$(NEWNETS_IN='unshare -m --propagation unchanged' newnets cyris-topo up "$r1")" "3 exit 0" \
	"a record of this boot made in another mount namespace is not trusted"
unlike "$(cat $stamp)" " ${boot#* }\$" "  the pass recorded for that one"
cyris-topo down 301 >/dev/null
is "$(newnets cyris-topo up "$r1")" "3 exit 0" "  whose record is not trusted back here"
is "$(cat $stamp)" "$boot" "  and the pass recorded for this one again"
cyris-topo down 301 >/dev/null
is "$(newnets cyris-check)" "2 exit 0" "cyris-check probes every time, record or not"
mount -o remount,ro /run/netns
cyris-check >/dev/null 2>&1
is "$?" 1 "a probe that fails (a read-only /run/netns): cyris-check exits 1"
ok "  and removes the record" test ! -e $stamp
mount -o remount,rw /run/netns

# libvirt and libcurl (dozens of shared libraries each) are loaded when
# first needed, not linked: a range of namespaces never maps them
is "$(for t in "$CYRIS_BIN"/cyris-*; do readelf -d "$t"; done | grep -cE 'NEEDED.*\[(libvirt|libcurl)\.')" 0 \
	"no tool links libvirt or libcurl"
ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0 \
	strace -f -qq -e trace=openat -e signal=none -o "$W/open" "$CYRIS_BIN/cyris-topo" up "$r1" >/dev/null
is "$?" 0 "up of a range of namespaces"
is "$(grep -cE 'lib(virt|curl)\.so' "$W/open")" 0 "  opens neither libvirt nor libcurl"
ok "  (the trace is of the loader's opens)" grep -q 'libnl-3\.so' "$W/open"
cyris-topo down 301 >/dev/null
# one that cannot be loaded: the first call that needs it says so, once
mkdir "$W/badlib"; : > "$W/badlib/libvirt.so.0"; : > "$W/badlib/libcurl.so.4"
out=$(LD_LIBRARY_PATH=$W/badlib cyris-check --provider libvirt 2>&1)
is "$?" 1 "a libvirt that cannot be loaded: the libvirt provider's check fails"
like "$out" "✗ libvirt +[^ ]+: cannot load libvirt: $W/badlib/libvirt\.so\.0: file too short" "  with the loader's message"
out=$(LD_LIBRARY_PATH=$W/badlib cyris-vm list 2>&1)
is "$?" 1 "  cyris-vm list exits 1"
is "$out" "cyris-vm: list: cannot load libvirt: $W/badlib/libvirt.so.0: file too short" "  with one message"
out=$(LD_LIBRARY_PATH=$W/badlib AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=x AWS_REGION=us-east-1 \
	cyris-aws --endpoint http://127.0.0.1:9/ ls 2>&1)
is "$?" 1 "a libcurl that cannot be loaded: cyris-aws exits 1"
like "$out" "cannot load libcurl: $W/badlib/libcurl\.so\.4: file too short" "  with the loader's message"

# entry points: can clients from outside reach them? (reported, never a failure)
entry() { cyris-check -j | json '.checks[] | select(.name=="entry_points") | "\(.ok) \(.needed) \(.detail)"'; }
sysctl -qw net.ipv4.conf.all.forwarding=0
like "$(entry)" "^false false net.ipv4.ip_forward = 0 and no default route: entry points answer this host only" \
	"entry points: no forwarding and no default route: this host only"
ip link add up0 type veth peer name up1 && ip link set up1 up && ip link set up0 up
ip addr add 192.0.2.1/24 dev up0 && ip route add default via 192.0.2.9
like "$(entry)" "^true false .*come in on up0 \(the default route's\), where up turns forwarding on for entry points only" \
	"entry points: up0 holds the default route: up turns forwarding on there"
sysctl -qw net.ipv4.conf.up0.forwarding=1
like "$(entry)" "^true false .*come in on up0 \(the default route's\), which forwards already" \
	"entry points: up0 forwards already"
sysctl -qw net.ipv4.conf.all.forwarding=1
like "$(entry)" "^true false the host forwards IPv4" "entry points: the host forwards"
sysctl -qw net.ipv4.conf.all.forwarding=0
ip link del up0
out=$(CYRIS_LIBVIRT_URI='qemu+unix:///system?socket=/nonexistent/sock' cyris-check --provider libvirt 2>&1)
is "$?" 1 "libvirt provider without a libvirt: exit 1"
like "$out" "✗ libvirt +qemu\+unix:///system\?socket=/nonexistent/sock: " "  libvirt is reported missing, with its message"
js=$(CYRIS_LIBVIRT_URI=test:///default cyris-check -j --provider libvirt)
is "$(echo "$js" | json '.checks[] | select(.name=="libvirt") | .ok')" true "libvirt's test driver is reachable"
like "$(echo "$js" | json '.checks[] | select(.name=="libvirt") | .detail')" "^test:///default: libvirt [0-9]+\." "  with its version"
exits 2 "a bad --provider is a usage error" cyris-check --provider xen

# an unprivileged user: up refuses before making anything
before=$(host_state)
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all \
	"$CYRIS_BIN/cyris-topo" up "$EXAMPLES/basic.yml" 2>&1)
is "$?" 1 "up without CAP_NET_ADMIN fails"
like "$out" "cannot run a netns range \(cyris-check\): cap_net_admin: no CAP_NET_ADMIN" "  naming what is missing"
is "$(host_state)" "$before" "  and creates nothing"
done_testing
