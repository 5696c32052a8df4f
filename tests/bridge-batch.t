#!/bin/bash
# Batch mode: one process, one socket; the first failing line is reported
# as FILE:LINE and nothing after it runs.
. "$(dirname "$0")/lib.sh"

f=$(mktemp)
cat > "$f" <<'B'
# a range in a batch
add br-a range 3 net a addr 10.3.1.1/24
veth va1 peer pa1 master br-a range 3 net a   # trailing comment

add br-b range 3 net b addr 10.3.2.1/24
veth vb1 peer pb1 master br-b range 3 net b
B
ok "a batch file runs" cyris-bridge -b "$f"
is "$(ip -j link show va1 | json '.[0].master') $(ip -j link show vb1 | json '.[0].master')" "br-a br-b" "every line took effect"
ok "the same batch again is idempotent" cyris-bridge -b "$f"

before=$(links_state)
cat > "$f" <<'B'
add br-c range 3 net c
veth vc1 peer pc1 master br-c range 3
veth vc2 peer pc2 master nosuch range 3
veth vc3 peer pc3 master br-c range 3
B
err=$(cyris-bridge -b "$f" 2>&1)
is "$?" 1 "a failing line makes the batch fail"
is "$err" "$f:3: nosuch: no such link" "the error is reported as FILE:LINE"
ok "lines before it ran" ip link show vc1
ok "nothing after it ran" bash -c '! ip link show vc3 2>/dev/null'

err=$(printf 'show\nadd br-d bogus 1\nadd br-e\n' | cyris-bridge -b - 2>&1 >/dev/null)
is "$?" 2 "a usage error in a batch exits 2"
is "$err" "<stdin>:2: add: unknown keyword 'bogus'" "stdin lines are numbered too"
ok "the line after a usage error did not run" bash -c '! ip link show br-e 2>/dev/null'
# a NUL byte would end the line's words early: "add br-n\0 stp on" must not add br-n with STP off
printf 'add br-m\nadd br-n\0 stp on\nadd br-o\n' > "$f.nul"
err=$(cyris-bridge -b "$f.nul" 2>&1 >/dev/null)
is "$?" 2 "a NUL byte in a batch line is a usage error"
is "$err" "$f.nul:2: a NUL byte in the line" "  named as FILE:LINE"
ok "  the line before it ran" ip link show br-m
ok "  neither it nor the line after it ran" bash -c '! ip link show br-n 2>/dev/null && ! ip link show br-o 2>/dev/null'
rm -f "$f.nul"
exits 2 "an unbalanced quote" bash -c "echo \"add 'x\" | $CYRIS_BIN/cyris-bridge -b - 2>/dev/null"
exits 2 "-b with a command is a usage error" cyris-bridge -b "$f" show
exits 1 "a missing batch file" cyris-bridge -b /nonexistent/file
printf 'show\nshow br-a\n' | cyris-bridge -j -b - > "$f.out"
is "$(wc -l < "$f.out")" 2 "show in a batch prints one JSON document per command"
ok "in a batch, -n applies to every line" bash -c "ip netns add other && echo 'add br-x' | $CYRIS_BIN/cyris-bridge -n other -b - && ip -n other link show br-x >/dev/null"
rm -f "$f" "$f.out"
done_testing
