#!/bin/bash
# cyris-tunnel against a real OpenSSH server (tunnel-lib.sh builds the
# namespaces): open returns once the tunnel is up and leaves a daemon, data
# goes through byte-exact, 50 connections at once, list shows them, close
# stops exactly that tunnel, --foreground, and nothing is left behind.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tunnel-lib.sh"

sshd_start || skip_all "sshd does not start here"
guest_start || skip_all "the guest service does not start"

ok "this namespace cannot reach the guest itself" bash -c "! ip route get $GUEST >/dev/null 2>&1"
ok "open 124 --listen $LADDR:2222 --to $GUEST:7" tunnel_open 124 2222 7
pid=$(tunnel_json 124 2222 pid)
like "$pid" '^[0-9]+$' "list -j records the pid"
ok "the pid is a running process" test -d "/proc/$pid"
is "$(awk '/^PPid:/ { print $2 }' "/proc/$pid/status" | grep -cx "$$")" 0 "the daemon is not the test's child"
is "$(readlink /proc/$pid/fd/0)" /dev/null "its stdin is /dev/null"
is "$(ss -Hltnp "sport = :2222" | grep -o "pid=$pid" | head -1)" "pid=$pid" "the daemon listens on $LADDR:2222"
is "$(tunnel_json 124 2222 state)" up "state up"
is "$(tunnel_json 124 2222 target)" "$GUEST:7" "target"
is "$(tunnel_json 124 2222 via)" "root@$RH:22" "via"
is "$(tunnel_json 124 2222 cipher)" aes128-gcm@openssh.com "cipher negotiated"
ok "the state file is JSON with schema 1" bash -c "jq -e '.schema == 1 and .range == \"124\"' '/run/cyris/tunnels/124@$LADDR:2222.json'"
like "$(cyris-tunnel list)" "^RANGE +LISTEN +TARGET +VIA +PID +CONNS +BYTES +STATE" "list has a header"
like "$(cyris-tunnel list 124 | tail -1)" "^124 +$LADDR:2222 +$GUEST:7 +root@$RH:22 +$pid +0 +0 +up$" "list shows the tunnel"
like "$(grep 'Accepted publickey' "$TMP/sshd.log")" "Accepted publickey for root from 10.66.1.1" "sshd saw a public-key login"

# byte-exact round trips, checked by tools that are not cyris's
head -c 8M /dev/urandom > "$TMP/rand"
in_trainee socat -t 30 -T 60 - "TCP:$LADDR:2222" < "$TMP/rand" > "$TMP/back"
is "$(sha256sum < "$TMP/back")" "$(sha256sum < "$TMP/rand")" "8 MiB through the echo service: same sha256"
ok "a second tunnel to the sink" tunnel_open 124 2223 8
ok "a third to the source" tunnel_open 124 2224 9
like "$(in_trainee "$TCPIO" upload $LADDR 2223 32M 2>&1)" "^ok upload bytes=33554432" "32 MiB upload: the sink's count and checksum match"
like "$(in_trainee "$TCPIO" download $LADDR 2224 32M 2>&1)" "^ok download bytes=33554432" "32 MiB download: every byte checked"
like "$(in_trainee "$TCPIO" echo $LADDR 2222 50 1M 2>&1)" "^ok conns=50 bytes=1048576" "50 concurrent connections x 1 MiB echoed byte-exact"
# counters reach the state file within 0.2 s
json_is() { [ "$(tunnel_json 124 2222 "$1")" = "$2" ]; }
wait_for 5 json_is bytes_down $((58 * 1048576))
is "$(tunnel_json 124 2222 connections_total)" 51 "51 connections counted"
is "$(tunnel_json 124 2222 bytes_up)" $((8 * 1048576 + 50 * 1048576)) "bytes_up counts every byte sent"
is "$(tunnel_json 124 2222 bytes_down)" $((8 * 1048576 + 50 * 1048576)) "bytes_down counts every byte echoed"

# 50 connections held open: list shows them, then they finish cleanly
coproc HOLD { in_trainee "$TCPIO" hold $LADDR 2222 50 2>&1; }
bg_track "$HOLD_PID"
read -r -t 30 line <&"${HOLD[0]}"
is "$line" "ready 50" "50 connections open and echoing"
ok "list shows 50 connections" wait_for 5 conns_is 124 2222 50
like "$(cyris-tunnel list 124 | grep "$LADDR:2222")" " 50 +[0-9]+ up$" "the text list too"
exec {HOLD[1]}>&-
read -r -t 30 line <&"${HOLD[0]}"
is "$line" "ok hold 50" "each still works, then closes"
ok "list shows 0 connections again" wait_for 5 conns_is 124 2222 0

# another range's tunnel must survive close 124 2222
ok "range 125 has its own tunnel" tunnel_open 125 2225 7
pid125=$(tunnel_json 125 2225 pid)
ok "close 124 2222" cyris-tunnel close 124 2222
ok "its process is gone" wait_for 5 proc_gone "$pid"
ok "its state is gone" bash -c "! test -e '/run/cyris/tunnels/124@$LADDR:2222.json'"
ok "its port is free" bash -c "! ss -Hltn 'sport = :2222' | grep -q ."
is "$(cyris-tunnel -j list 124 | jq -r '[.tunnels[].listen_port | tostring] | join(" ")')" "2223 2224" "124's other tunnels are still listed"
ok "range 125's tunnel still runs" test -d "/proc/$pid125"
like "$(in_trainee "$TCPIO" echo $LADDR 2225 1 64K 2>&1)" "^ok" "and still forwards"
exits 1 "close 124 2222 again: nothing to close" cyris-tunnel close 124 2222
like "$(cyris-tunnel close 124 2222 2>&1)" "range 124 has no tunnel on port 2222" "says so"
ok "close 124 (both others)" cyris-tunnel close 124
is "$(cyris-tunnel -j list 124 | jq '.tunnels | length')" 0 "none left in 124"

# a state file whose pid is now another process: close must not touch it
sleep 300 &
other=$!
bg_track "$other"
jq --argjson p "$other" '.pid = $p' "/run/cyris/tunnels/125@$LADDR:2225.json" > "$TMP/fake.json"
jq '.range = "126" | .listen = "10.66.3.1:2226" | .listen_port = 2226' "$TMP/fake.json" > "/run/cyris/tunnels/126@$LADDR:2226.json"
is "$(cyris-tunnel -j list 126 | jq -r '.tunnels[0].state')" dead "a recorded pid that is not the tunnel is listed as dead"
like "$(cyris-tunnel close 126)" "not running; pid $other is another process \(left alone\); state removed" "close removes that stale state, saying the pid is another process"
ok "and leaves the other process alone" kill -0 "$other"
kill "$other"

# --foreground: this process is the tunnel; -j prints it once it is up
coproc FG { tunnel_open 127 2227 7 --foreground -j 2>"$TMP/fg.err"; }
bg_track "$FG_PID"
read -r -t 30 line <&"${FG[0]}"
is "$(echo "$line" | jq -r '.state + " " + .range + " " + .listen')" "up 127 $LADDR:2227" "--foreground -j reports when it is up"
like "$(in_trainee "$TCPIO" echo $LADDR 2227 4 256K 2>&1)" "^ok" "and forwards"
fgpid=$FG_PID
ok "close 127 stops it" cyris-tunnel close 127
wait "$fgpid"
is "$?" 0 "the foreground tunnel exits 0 on SIGTERM (and valgrind-clean when CYRIS_VALGRIND=1)"

ok "close 125" cyris-tunnel close 125
is "$(tunnel_pids)" "" "no cyris-tunnel process is left"
ok "the daemons' valgrind reports (CYRIS_VALGRIND=1) are clean" daemons_clean
is "$(ls /run/cyris/tunnels)" "" "no state file is left"
done_testing
