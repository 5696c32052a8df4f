#!/bin/bash
# up is a transaction: a failure injected before each of its steps, and
# Ctrl-C in the middle, leave the host exactly as before; after kill -9 at
# random points, down R leaves nothing.
. "$(dirname "$0")/lib.sh"

f=$EXAMPLES/dmz.yml
steps=$(cyris-topo -j plan "$f" | json .steps)
ok "dmz.yml takes $steps steps" test "$steps" -ge 9
before=$(host_state)
for ((i = 1; i <= steps; i++)); do
	err=$(CYRIS_TOPO_FAIL_AT=$i cyris-topo up "$f" 2>&1)
	rc=$?
	is "$rc" 1 "failure before step $i: up fails"
	like "$err" "injected failure at step $i .*rolled back" "  and says it rolled back"
	is "$(host_state)" "$before" "  the host is exactly as before"
done
# the same with two instances and a host-routed range
for g in full basic; do
	n=$(cyris-topo -j plan "$EXAMPLES/$g.yml" | json .steps)
	bad=0
	for ((i = 1; i <= n; i++)); do
		CYRIS_TOPO_FAIL_AT=$i cyris-topo up "$EXAMPLES/$g.yml" >/dev/null 2>&1
		[ "$(host_state)" = "$before" ] || { bad=$i; break; }
	done
	is "$bad" 0 "$g.yml: a failure at any of its $n steps leaves the host as before"
done

# A signal in the middle of up: sent once up has made a link of the range
# (its later steps are each 100 ms slower, so it is mid-way)
midway() { ip -j link show | jq -e 'any(.[]; (.ifalias // "") | test("range=124\\b"))' >/dev/null; }
# SIGINT (Ctrl-C), SIGTERM and SIGHUP (the operator's session went away):
# each rolls back, and up exits 128 + the signal's number
for sig in INT:130 TERM:143 HUP:129; do
	CYRIS_TOPO_STEP_DELAY_MS=100 "$CYRIS_BIN/cyris-topo" up "$f" >/dev/null 2>/tmp/.int.$$ &
	pid=$!
	ok "up is under way" wait_for 30 midway
	kill -"${sig%:*}" $pid
	wait $pid
	is "$?" "${sig#*:}" "SIG${sig%:*} during up: exit ${sig#*:}"
	like "$(cat /tmp/.int.$$)" "interrupted before .*rolled back" "it rolled back"
	is "$(host_state)" "$before" "the host is exactly as before"
	rm -f /tmp/.int.$$
done

# Killed as soon as its first guest exists: the range's table is already
# there (up makes it before any guest), so nothing of the range runs
# without its isolation at any point of up
has_guest() { [ -n "$(ls /run/netns 2>/dev/null)" ]; }
CYRIS_TOPO_STEP_DELAY_MS=100 "$CYRIS_BIN/cyris-topo" up "$f" >/dev/null 2>&1 &
pid=$!
ok "a first guest is made" wait_for 30 has_guest
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
ok "  and the range's table was there before it" nft list table inet cyris_124
ok "  down 124 after the kill" cyris-topo down 124
is "$(host_state)" "$before" "  zero leftovers"

# kill -9 at random points: down finds everything from the tags
for k in 1 2 3 4 5; do
	ms=$((RANDOM % 900 + 50))
	CYRIS_TOPO_STEP_DELAY_MS=100 "$CYRIS_BIN/cyris-topo" up "$f" >/dev/null 2>&1 &
	pid=$!
	# (a random delay is the point here, not a wait for something)
	sleep "$(awk -v m=$ms 'BEGIN { print m / 1000 }')"
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	ok "kill -9 after ${ms} ms, then down 124" cyris-topo down 124
	is "$(host_state)" "$before" "  zero leftovers"
done
done_testing
