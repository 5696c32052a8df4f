#!/bin/bash
# Host keys and authentication against a real sshd: an unknown key is
# refused unless --accept-new (which records it), a changed key is always
# refused with a clear message; a key the server does not know fails; the
# agent works; a taken listen port or an unreachable server makes open fail
# before anything is left running.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tunnel-lib.sh"

sshd_start || skip_all "sshd does not start here"
guest_start || skip_all "the guest service does not start"
nothing_left() { [ -z "$(tunnel_pids)" ] && [ -z "$(ls /run/cyris/tunnels 2>/dev/null)" ]; }
logins() { grep -c '^Connection from' "$TMP/sshd.log"; }
fp() { ssh-keygen -lf "$1" | awk '{ print $2 }'; }
accepted() { grep -c 'Accepted publickey' "$TMP/sshd.log"; }
req() { printf '%s' "$1" | sed 's/[][\.*^$+?(){}|]/\\&/g'; }   # quote for a regex

# unknown host key
: > "$TMP/kh-empty"
err=$(tunnel_open 124 2222 7 --known-hosts "$TMP/kh-empty" 2>&1)
is "$?" 1 "an unknown host key: open exits 1"
like "$err" "^cyris-tunnel: open 124: host key of $RH:22 \(ssh-ed25519 $(req "$(fp "$TMP/host_key.pub")")\) is not in $TMP/kh-empty; use --accept-new" "and names the key and the file"
ok "nothing is left running, no state" nothing_left
is "$(wc -c < "$TMP/kh-empty")" 0 "known_hosts untouched"

# --accept-new records it
ok "--accept-new: open succeeds" tunnel_open 124 2222 7 --known-hosts "$TMP/kh-new" --accept-new
ok "the key is now in the file" ssh-keygen -F "$RH" -f "$TMP/kh-new"
is "$(ssh-keygen -lf "$TMP/kh-new" | awk '{ print $2 }')" "$(fp "$TMP/host_key.pub")" "it is the server's key"
like "$(in_trainee "$TCPIO" echo $LADDR 2222 2 64K 2>&1)" "^ok" "the tunnel works"
ok "close" cyris-tunnel close 124
ok "the recorded key is accepted without --accept-new" tunnel_open 124 2222 7 --known-hosts "$TMP/kh-new"
ok "close" cyris-tunnel close 124

# a changed key
ssh-keygen -q -t ed25519 -N '' -f "$TMP/other_key"
echo "$RH $(cut -d' ' -f1,2 "$TMP/other_key.pub")" > "$TMP/kh-changed"
cp "$TMP/kh-changed" "$TMP/kh-changed.orig"
n=$(logins) a=$(accepted)
err=$(tunnel_open 124 2222 7 --known-hosts "$TMP/kh-changed" 2>&1)
is "$?" 1 "a changed host key: open exits 1"
like "$err" "host key of $RH:22 has CHANGED \(now ssh-ed25519 $(req "$(fp "$TMP/host_key.pub")")\), it does not match $TMP/kh-changed: refusing to connect" "says CHANGED, the new fingerprint and the file"
ok "nothing is left running, no state" nothing_left
is "$(logins)" $((n + 1)) "it did reach the server (and went no further)"
is "$(accepted)" "$a" "no login happened"
exits 1 "--accept-new does not accept a changed key" tunnel_open 124 2222 7 --known-hosts "$TMP/kh-changed" --accept-new
ok "known_hosts unchanged" cmp "$TMP/kh-changed" "$TMP/kh-changed.orig"
ok "nothing left" nothing_left

# authentication
ssh-keygen -q -t ed25519 -N '' -f "$TMP/id_stranger"
err=$(tunnel_open 124 2222 7 --identity "$TMP/id_stranger" 2>&1)
is "$?" 1 "a key the server does not know: exit 1"
like "$err" "root@$RH:22: public key authentication failed \($TMP/id_stranger\)" "says authentication failed"
ok "nothing left" nothing_left
err=$(tunnel_open 124 2222 7 --identity "$TMP/nosuchkey" 2>&1)
is "$?" 1 "a missing key file: exit 1"
like "$err" "identity $TMP/nosuchkey: No such file or directory" "says so"
ssh-keygen -q -t ed25519 -N 'secret' -f "$TMP/id_locked"
cat "$TMP/id_locked.pub" >> "$TMP/authorized_keys"
like "$(tunnel_open 124 2222 7 --identity "$TMP/id_locked" 2>&1)" "cannot load the private key \(a key with a passphrase must come through the agent\)" "a key with a passphrase is not prompted for"

# the agent: no --identity, the key is in ssh-agent (started here, -D)
ssh-agent -D -a "$TMP/agent.sock" >/dev/null 2>&1 &
bg_track $!
wait_for 5 test -S "$TMP/agent.sock"
SSH_AUTH_SOCK=$TMP/agent.sock ssh-add -q "$TMP/id_user" 2>/dev/null
SSH_AUTH_SOCK=$TMP/agent.sock ok "with the agent (SSH_AUTH_SOCK), without --identity" \
	topen 124 --via "root@$RH" --listen "$LADDR:2222" --to "$GUEST:7" --known-hosts "$TMP/known_hosts"
like "$(in_trainee "$TCPIO" echo $LADDR 2222 2 64K 2>&1)" "^ok" "that tunnel works"
ok "close" cyris-tunnel close 124
exits 1 "no agent and no --identity: none of the default keys is authorized" \
	topen 124 --via "root@$RH" --listen "$LADDR:2222" --to "$GUEST:7" --known-hosts "$TMP/known_hosts"

# a taken listen port: refused before any daemon, before any SSH connection
socat TCP-LISTEN:2230,bind=$LADDR,reuseaddr,fork /dev/null &
sp=$!
bg_track $sp
wait_for 5 bash -c "ss -Hltn 'sport = :2230' | grep -q ."
n=$(logins)
err=$(tunnel_open 124 2230 7 2>&1)
is "$?" 1 "a listen port in use: open exits 1"
like "$err" "^cyris-tunnel: open 124: listen $LADDR:2230: Address already in use$" "says so"
is "$(logins)" "$n" "it did not even connect to the server"
ok "no daemon, no state" nothing_left
kill $sp
err=$(topen 124 --via "root@$RH" --listen 0.0.0.0:2231 --to "$GUEST:7" --identity "$TMP/id_user" --known-hosts "$TMP/known_hosts" 2>&1)
is "$?" 0 "0.0.0.0:2231 (the default address form)"
exits 1 "then $LADDR:2231 is taken too" tunnel_open 125 2231 7
ok "close 124" cyris-tunnel close 124
exits 0 "--listen PORT alone means 0.0.0.0" topen 124 --via "root@$RH" --listen 2232 --to "$GUEST:7" --identity "$TMP/id_user" --known-hosts "$TMP/known_hosts"
is "$(cyris-tunnel -j list 124 | jq -r '.tunnels[0].listen')" "0.0.0.0:2232" "listed as 0.0.0.0:2232"
ok "close 124" cyris-tunnel close 124

# an unreachable server
err=$(topen 124 --via "root@$RH:2200" --listen "$LADDR:2222" --to "$GUEST:7" --identity "$TMP/id_user" --known-hosts "$TMP/known_hosts" 2>&1)
is "$?" 1 "no server on that port: exit 1"
like "$err" "connect to $RH:2200: Connection refused" "says Connection refused"
ok "the listen port was released" bash -c "! ss -Hltn 'sport = :2222' | grep -q ."
ok "nothing left at the end" nothing_left
ok "the daemons' valgrind reports (CYRIS_VALGRIND=1) are clean" daemons_clean
done_testing
