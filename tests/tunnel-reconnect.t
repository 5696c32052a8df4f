#!/bin/bash
# The SSH session drops (sshd and its session processes killed): the tunnel
# says "reconnecting", keeps its port, and once sshd is back it reconnects
# by itself and new connections work; a server back with another host key
# is refused while it lasts.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tunnel-lib.sh"

sshd_start || skip_all "sshd does not start here"
guest_start || skip_all "the guest service does not start"
state_is() { [ "$(tunnel_json 124 2222 state)" = "$1" ]; }

ok "open" tunnel_open 124 2222 7
pid=$(tunnel_json 124 2222 pid)
like "$(in_trainee "$TCPIO" echo $LADDR 2222 4 256K 2>&1)" "^ok" "it forwards"
# a connection that is open when the session drops
coproc HOLD { in_trainee "$TCPIO" hold $LADDR 2222 1 2>&1; }
bg_track "$HOLD_PID"
read -r -t 30 line <&"${HOLD[0]}"
is "$line" "ready 1" "a connection is open"

sshd_stop
ok "sshd and its sessions are gone" test -z "$(ip netns pids rh)"
ok "list says reconnecting" wait_for 10 state_is reconnecting
like "$(cyris-tunnel list 124)" "reconnecting"$'\n'"  last error: " "the text list says why"
ok "the same process" test -d "/proc/$pid"
ok "it still holds its port" bash -c "ss -Hltnp 'sport = :2222' | grep -q 'pid=$pid'"
exec {HOLD[1]}>&-
read -r -t 30 line <&"${HOLD[0]}"
like "$line" "^tcpio: (write: Connection reset by peer|hold: connection 0: no echo)" "the connection open at the drop was reset, not left hanging"

sshd_start || exit 1
ok "it reconnects by itself" wait_for 15 state_is up
is "$(tunnel_json 124 2222 reconnects)" 1 "reconnects = 1"
is "$(tunnel_json 124 2222 pid)" "$pid" "still the same process"
like "$(in_trainee "$TCPIO" echo $LADDR 2222 10 1M 2>&1)" "^ok conns=10" "new connections work: 10 x 1 MiB byte-exact"

# while the server is down, a trainee that connects waits in the backlog
sshd_stop
ok "reconnecting again" wait_for 10 state_is reconnecting
in_trainee "$TCPIO" echo $LADDR 2222 1 64K > "$TMP/early.out" 2>&1 &
early=$!
bg_track $early
# the server comes back once the kernel holds the trainee's connection in
# the listening socket's accept queue (its Recv-Q)
early_queued() { [ "$(ss -Hltn "sport = :2222" | awk '{ print $2 }')" -ge 1 ]; }
ok "the early connection waits in the tunnel's backlog" wait_for 30 early_queued
sshd_start || exit 1
wait $early
is "$?" 0 "a connection made during the outage is served once the session is back"
is "$(tunnel_json 124 2222 reconnects)" 2 "reconnects = 2"

# back with another host key: refused, and it keeps trying
sshd_stop
ok "reconnecting" wait_for 10 state_is reconnecting
ssh-keygen -q -t ed25519 -N '' -f "$TMP/evil_key"
sshd_start "$TMP/evil_key" || exit 1
ok "the new host key is refused" wait_for 15 bash -c "jq -r .last_error /run/cyris/tunnels/*.json | grep -q 'has CHANGED'"
is "$(tunnel_json 124 2222 state)" reconnecting "still reconnecting, not up"
sshd_stop
sshd_start || exit 1
ok "the right server is back: up (backoff is bounded)" wait_for 40 state_is up
like "$(in_trainee "$TCPIO" echo $LADDR 2222 2 256K 2>&1)" "^ok" "and it forwards"
ok "close" cyris-tunnel close 124
ok "the process is gone" wait_for 5 proc_gone "$pid"
is "$(tunnel_pids)" "" "no cyris-tunnel process is left"
ok "the daemons' valgrind reports (CYRIS_VALGRIND=1) are clean" daemons_clean
done_testing
