#!/bin/bash
# One host, many ranges, at once: ranges brought up at the same moment
# hold the host lock in turn, so each gets its own subnets and its own
# entry port, and each entry port leads into its own range. A down started
# during an up of the same range waits for it, then removes it. SIGTERM
# while up waits for the lock exits 143 and leaves nothing. Two exposes of
# one host port at once: one wins.
. "$(dirname "$0")/lib.sh"

T=$(mktemp -d)
trap '_cleanup; rm -rf "$T"' EXIT
R="701 702 703 704"
ROUNDS=5

# range R: an entry guest e on network a, a guest w on network b
gen() {
	cat <<Y
- host_settings:
  - id: host_1
    mgmt_addr: localhost
    account: cyuser
- guest_settings:
  - id: e
    basevm_host: host_1
    basevm_type: kvm
  - id: w
    basevm_host: host_1
    basevm_type: kvm
- clone_settings:
  - range_id: $1
    hosts:
    - host_id: host_1
      instance_number: 1
      guests:
      - guest_id: e
        number: 1
        entry_point: yes
      - guest_id: w
        number: 1
      topology:
      - type: custom
        networks:
        - name: a
          members: e.eth0
        - name: b
          members: w.eth0
Y
}
for r in $R; do gen $r > "$T/$r.yml"; done

# the outside: a client on an uplink; forwarding on the uplink only (the
# entry points' DNAT crosses it)
netns_add client
ip link add up0 type veth peer name eth0 netns client
ip addr add 192.0.2.1/24 dev up0 && ip link set up0 up
ip -n client addr add 192.0.2.50/24 dev eth0 && ip -n client link set eth0 up
ip -n client route add default via 192.0.2.1
sysctl -qw net.ipv4.conf.up0.forwarding=1
before=$(host_state)

# in range R's entry guest, port 22 answers "range R"
serve() {
	local ns
	ns=$(cyris-topo -j show $1 | json '.guests[] | select(.guest_id == "e") | .netns')
	ip netns exec "$ns" socat TCP-LISTEN:22,fork,reuseaddr SYSTEM:"echo range $1" &
	bg_track $!
	wait_for 30 listens "$ns"
}
listens() { [ -n "$(ip netns exec "$1" ss -Hltn 'sport = :22')" ]; }
# who answers on the host's port P, seen from the client
through() { ip netns exec client socat -T2 - TCP:192.0.2.1:$1,connect-timeout=2 </dev/null 2>/dev/null; }

bad_rc= bad_nets= bad_ports= bad_entry= bad_down= bad_left=
for ((round = 1; round <= ROUNDS; round++)); do
	pids=
	for r in $R; do
		"$CYRIS_BIN/cyris-topo" up "$T/$r.yml" >"$T/up.$r" 2>&1 &
		pids="$pids $!"
	done
	for p in $pids; do wait "$p" || bad_rc="$bad_rc round $round: up exit $?;"; done
	# the bridges' host addresses (the pool is 10.200.0.0/16 in /24s): one
	# subnet each, none shared
	nets=$(ip -j addr show | jq -r '.[].addr_info[] | select(.family == "inet") | .local |
		select(startswith("10.200."))' | cut -d. -f1-3 | sort)
	[ "$(echo "$nets" | wc -l)" = 8 ] && [ -z "$(echo "$nets" | uniq -d)" ] ||
		bad_nets="$bad_nets round $round: $(echo $nets);"
	ports=
	for r in $R; do
		p=$(cyris-topo -j show $r | json '.entry_points[0].host_port')
		ports="$ports $p"
		serve $r || bad_entry="$bad_entry round $round: no listener in $r;"
		got=$(through "$p")
		[ "$got" = "range $r" ] || bad_entry="$bad_entry round $round: port $p of $r answers '$got';"
	done
	[ "$(echo $ports | wc -w)" = 4 ] && [ -z "$(printf '%s\n' $ports | sort | uniq -d)" ] ||
		bad_ports="$bad_ports round $round:$ports;"
	pids=
	for r in $R; do
		"$CYRIS_BIN/cyris-topo" down $r >/dev/null 2>&1 &
		pids="$pids $!"
	done
	for p in $pids; do wait "$p" || bad_down="$bad_down round $round: down exit $?;"; done
	_cleanup 2>/dev/null; _bg_pids=
	[ "$(host_state)" = "$before" ] || bad_left="$bad_left round $round;"
done
is "$bad_rc" "" "$ROUNDS rounds of 4 ranges up at once: every up exits 0"
is "$bad_nets" "" "  the 8 networks have 8 distinct subnets each time"
is "$bad_ports" "" "  the 4 entry points have 4 distinct host ports each time"
is "$bad_entry" "" "  each entry port reaches its own range's entry guest"
is "$bad_down" "" "  the 4 downs at once exit 0"
is "$bad_left" "" "  and leave the host exactly as before"

# the lock file names its holder: wait until process $1 holds the lock
lockfile=/run/cyris/net-$(stat -L -c %i /proc/self/ns/net).lock
holds() { wait_for 30 _holds "$1"; }
_holds() { [ "$(cat "$lockfile" 2>/dev/null)" = "$1" ]; }
# until file $1 says "waiting for the host lock"
says_waiting() { wait_for 30 grep -q "waiting for the host lock" "$1"; }

# down during an up of the same range: it waits for the up, then removes it
CYRIS_TOPO_STEP_DELAY_MS=400 "$CYRIS_BIN/cyris-topo" up "$T/701.yml" >/dev/null 2>"$T/up.err" &
up=$!
ok "up 701 (slowed down) holds the lock" holds $up
out=$("$CYRIS_BIN/cyris-topo" down 701 2>&1)
is "$?" 0 "down 701 during up 701: exit 0"
wait $up
is "$?" 0 "  the up exits 0 too"
like "$out" "waiting for the host lock .*\\(held by pid $up\\)" "  down said it waited for the up ($up)"
like "$out" "range 701 is down: 2 guests" "  then removed what the up made"
is "$(host_state)" "$before" "  nothing of range 701 is left"

# two ups configured with different runtime directories still exclude
# each other: the lock is the network namespace itself, not only a file
mkdir -m 755 "$T/rt"
CYRIS_TOPO_STEP_DELAY_MS=400 "$CYRIS_BIN/cyris-topo" up "$T/701.yml" >/dev/null 2>&1 &
up=$!
ok "up 701 (slowed down) holds the lock" holds $up
out=$(CYRIS_RUNTIME_DIR=$T/rt "$CYRIS_BIN/cyris-topo" up "$T/702.yml" 2>&1)
is "$?" 0 "up 702 with another runtime directory: exit 0"
wait $up
like "$out" "waiting for the host lock" "  it waited for up 701"
nets=$(ip -j addr show | jq -r '.[].addr_info[] | select(.family == "inet") | .local |
	select(startswith("10.200."))' | cut -d. -f1-3 | sort)
is "$(echo "$nets" | uniq -d)" "" "  the two ranges' subnets are distinct ($(echo $nets))"
is "$(cyris-topo -j show 701 | json '.entry_points[0].host_port') $(cyris-topo -j show 702 | json '.entry_points[0].host_port')" \
   "60000 60001" "  and so are their entry ports"
ok "down 701" cyris-topo down 701
ok "down 702" cyris-topo down 702
is "$(host_state)" "$before" "  nothing of either is left"

# SIGTERM while up waits for the lock: 143, nothing made; SIGINT while
# down waits: 130, nothing removed
CYRIS_TOPO_STEP_DELAY_MS=800 "$CYRIS_BIN/cyris-topo" up "$T/702.yml" >/dev/null 2>&1 &
first=$!
holds $first
"$CYRIS_BIN/cyris-topo" up "$T/703.yml" >/dev/null 2>"$T/term.err" &
second=$!
ok "a second up waits for the lock, and says so" says_waiting "$T/term.err"
kill -TERM $second
wait $second
is "$?" 143 "SIGTERM while up waits for the lock: exit 143"
like "$(cat "$T/term.err")" "interrupted while waiting for the host lock" "  and says so"
"$CYRIS_BIN/cyris-topo" down 702 >/dev/null 2>"$T/int.err" &
down=$!
ok "a down of the range being built waits" says_waiting "$T/int.err"
kill -INT $down
wait $down
is "$?" 130 "SIGINT while down waits for the lock: exit 130"
like "$(cat "$T/int.err")" "interrupted while waiting for the host lock" "  and says so"
wait $first
is "$?" 0 "the up holding the lock is not disturbed"
is "$(cyris-topo ls | xargs)" 702 "  only its range is there"
is "$(cyris-topo -j show 702 | json '[.guests[].guest_id] | sort | join(" ")')" "e w" "  whole: both guests"
ok "down 702" cyris-topo down 702
is "$(host_state)" "$before" "the host is exactly as before"

# cyris-fw expose checks that a host port is free and takes it under the
# lock: of two ranges exposing one port at once, exactly one gets it
cyris-bridge add range 801 net a addr 10.81.0.1/24 >/dev/null
cyris-bridge add range 802 net a addr 10.82.0.1/24 >/dev/null
bad=
for i in $(seq 40); do
	cyris-fw apply 801 /dev/null && cyris-fw apply 802 /dev/null
	"$CYRIS_BIN/cyris-fw" expose 801 7000 to 10.81.0.10:22 2>/dev/null & a=$!
	"$CYRIS_BIN/cyris-fw" expose 802 7000 to 10.82.0.10:22 2>/dev/null & b=$!
	wait $a; ra=$?; wait $b; rb=$?
	[ "$ra$rb" = 01 ] || [ "$ra$rb" = 10 ] || bad="$bad $i:$ra$rb"
	cyris-fw destroy 801 && cyris-fw destroy 802
done
is "$bad" "" "40 times two ranges expose host port 7000 at once: one gets it, the other is refused"
done_testing
