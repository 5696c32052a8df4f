#!/bin/bash
# The tunnel's state files against a hostile directory: a symlink planted
# where the temporary or the state file goes is replaced, never followed
# (its target stays as it was); a runtime or tunnels/ directory that is not
# this user's (or root's), or that its group or others may write, or that
# is a symlink, is refused by open, list and close, naming it, and nothing
# is left running; close of a state file whose pid is now another process
# says so and leaves that process alone.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tunnel-lib.sh"

sshd_start || skip_all "sshd does not start here"
guest_start || skip_all "the guest service does not start"
D=/run/cyris/tunnels
mkdir -p "$D"

# symlinks where this tunnel's temporary file (its pid is the coproc's,
# kept by exec) and its state file go
echo precious > "$TMP/victim"
cp "$TMP/victim" "$TMP/victim.orig"
ST="$D/130@$LADDR:2230.json"
coproc FG {
	ln -s "$TMP/victim" "$D/.130@$LADDR:2230.$BASHPID.tmp"
	ln -s "$TMP/victim" "$D/130@$LADDR:2230.json"
	exec "$CYRIS_BIN/cyris-tunnel" open 130 --via "root@$RH" --listen "$LADDR:2230" --to "$GUEST:7" \
		--identity "$TMP/id_user" --known-hosts "$TMP/known_hosts" --foreground -j 2>"$TMP/fg.err"
}
fgpid=$FG_PID
bg_track "$fgpid"
read -r -t 30 line <&"${FG[0]}"
is "$(echo "$line" | jq -r .state 2>&1)" up "a tunnel with symlinks planted at its temporary and state files comes up"
ok "  the symlinks' target is untouched" cmp "$TMP/victim" "$TMP/victim.orig"
ok "  the state file is a file of its own now" bash -c "test -f '$ST' && ! test -L '$ST'"
is "$(jq -r .pid "$ST" 2>&1)" "$fgpid" "  and records the tunnel"
# a symlink planted again before the next rewrite (the counters of a connection)
ln -s "$TMP/victim" "$D/.130@$LADDR:2230.$fgpid.tmp"
like "$(in_trainee "$TCPIO" echo $LADDR 2230 1 64K 2>&1)" "^ok" "the tunnel forwards"
total_is() { [ "$(jq -r .connections_total "$ST")" = 1 ]; }
ok "the state file was rewritten with the connection" wait_for 5 total_is
ok "  the target is still untouched" cmp "$TMP/victim" "$TMP/victim.orig"
ok "  no temporary file is left" bash -c "! ls -A '$D' | grep -q tmp"

# a state file whose pid is now another process
sleep 300 &
other=$!
bg_track "$other"
jq --argjson p "$other" '.pid = $p | .range = "131" | .listen = "10.66.3.1:2231" | .listen_port = 2231' \
	"$ST" > "$D/131@$LADDR:2231.json"
out=$(cyris-tunnel close 131)
is "$?" 0 "close of a state file whose pid is another process"
like "$out" "^131 $LADDR:2231: not running; pid $other is another process \(left alone\); state removed$" \
	"  says the pid is another process"
ok "  which runs on" kill -0 "$other"
ok "  and the state file is gone" test ! -e "$D/131@$LADDR:2231.json"
jq --argjson p "$other" '.pid = $p | .range = "131"' "$ST" > "$D/131@$LADDR:2231.json"
is "$(cyris-tunnel -j close 131 | jq -c '.closed[0] | [.was_running, .pid_is_other_process]')" \
	'[false,true]' "  close -j: was_running false, pid_is_other_process true"
ok "  and it still runs" kill -0 "$other"
ok "close 130" cyris-tunnel close 130
ok "  the tunnel exits" wait_for 10 proc_gone "$fgpid"
kill -9 "$fgpid" 2>/dev/null
wait "$fgpid" 2>/dev/null

# runtime directories others could write in, or not this user's
W=$TMP/wide G=$TMP/group N=$TMP/nobody L=$TMP/link
mkdir -m 0777 "$W"
mkdir -m 0755 "$G" "$N" "$L" "$TMP/elsewhere"
mkdir -m 0775 "$G/tunnels"
chown 65534 "$N"
ln -s "$TMP/elsewhere" "$L/tunnels"
no_tunnels() { [ -z "$(tunnel_pids)" ]; }
refused() { # refused DIR ERE DESC: open, list and close under DIR fail, naming it
	local dir=$1 pat=$2 desc=$3 err
	err=$(CYRIS_RUNTIME_DIR=$dir tunnel_open 132 2232 7 2>&1)
	is "$?" 1 "$desc: open exits 1"
	like "$err" "^cyris-tunnel: open 132: state file: $pat" "  naming the directory"
	ok "  nothing listens" bash -c "! ss -Hltn 'sport = :2232' | grep -q ."
	ok "  no tunnel process is left" wait_for 5 no_tunnels
	fails_with 1 "^cyris-tunnel: list: $pat" "$desc: list" env CYRIS_RUNTIME_DIR="$dir" "$CYRIS_BIN/cyris-tunnel" list
	fails_with 1 "^cyris-tunnel: list: $pat" "$desc: close" env CYRIS_RUNTIME_DIR="$dir" "$CYRIS_BIN/cyris-tunnel" close 132
	# (a tunnel that was wrongly started there does not hold the port for the next case)
	for p in $(tunnel_pids); do kill "$p"; done
}
refused "$W" "$W: writable by others \(mode 0777\): refused" "a runtime directory of mode 0777"
ok "  nothing was made in it" test -z "$(ls -A "$W")"
refused "$G" "$G/tunnels: writable by its group \(mode 0775\): refused" "a tunnels/ directory of mode 0775"
ok "  nothing was made in it" test -z "$(ls -A "$G/tunnels")"
refused "$N" "$N: owned by uid 65534, not by this user or root: refused" "a runtime directory of another user"
ok "  nothing was made in it" test -z "$(ls -A "$N")"
refused "$L" "$L/tunnels: not a directory \(a symlink or a file\): refused" "tunnels/ a symlink to a directory"
ok "  nothing was made where it points" test -z "$(ls -A "$TMP/elsewhere")"

# a runtime directory of this user that is missing: made, 0755
open_new() { CYRIS_RUNTIME_DIR=$TMP/new tunnel_open 133 2233 7; }
ok "open under a missing runtime directory" open_new
is "$(stat -c %a "$TMP/new" "$TMP/new/tunnels" | tr '\n' ' ')" "755 755 " "  which it made, mode 0755"
ok "close 133" env CYRIS_RUNTIME_DIR="$TMP/new" "$CYRIS_BIN/cyris-tunnel" close 133
is "$(tunnel_pids)" "" "no cyris-tunnel process is left"
done_testing
