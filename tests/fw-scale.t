#!/bin/bash
# A policy of 24,000 kernel rules: every message of the batch is
# acknowledged, and nfnetlink queues all the ACKs before sendmsg() returns,
# so they overflowed the old fixed 8 MiB receive buffer: apply exited 1
# ("reading the replies: No buffer space available") although the kernel
# had committed. Now the exit status says what the kernel did, with the
# buffer sized for the batch and, when ACKs are lost anyway (forced here
# with CYRIS_FW_RCVBUF, as an unprivileged caller's net.core.rmem_max
# would), from the ruleset generation.
. "$(dirname "$0")/lib.sh"

NRULES=24000
NNETS=20
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
for ((n = 0; n < NNETS; n++)); do echo "add range 900 net n$n addr 10.99.$n.1/24"; done > "$W/bridges"
cyris-bridge -b "$W/bridges" >/dev/null || { echo "Bail out! bridges"; exit 1; }
# every ordered pair of networks, a TCP port each: one kernel rule a line
for ((i = 0; i < NRULES; i++)); do
	s=$((i % NNETS)); d=$(((i / NNETS + s + 1) % NNETS))
	[ $s = $d ] && d=$(((d + 1) % NNETS))
	echo "src=n$s dst=n$d dport=$((1000 + i)) proto=tcp"
done > "$W/rules"
"$CYRIS_BIN/cyris-fw" check 900 "$W/rules" > "$W/nft" || { echo "Bail out! check"; exit 1; }
want=$(grep -c '^add rule inet cyris_900 allow ' "$W/nft")
last=$(grep -c '^add rule' "$W/nft")   # the batch's last kernel rule
diag "$want rules in the allow chain, $last kernel rules in all"
# (nft -j takes 4 s over 24,000 rules here, its text 1.6 s: the first
# count is nft -j's, the others the text's)
allow_j() { nft -j list chain inet cyris_900 allow | jq '[.nftables[] | select(.rule)] | length'; }
allow() { nft list chain inet cyris_900 allow | grep -c ' accept comment '; }
state() { nft list ruleset | md5sum; }

ok "apply of $NRULES rules: exit 0" cyris-fw apply 900 "$W/rules"
is "$(allow_j)" "$want" "the kernel has every rule (nft -j)"
ok "apply again (the old table goes in the same batch): exit 0" cyris-fw apply 900 "$W/rules"
is "$(allow)" "$want" "every rule, once"
ok "ACKs lost (a 64 KiB receive buffer), the kernel committed: exit 0" \
	env CYRIS_FW_RCVBUF=65536 "$CYRIS_BIN/cyris-fw" apply 900 "$W/rules"
is "$(allow)" "$want" "and it has every rule"

before=$(state)
err=$(CYRIS_FW_INJECT_BAD_RULE=$last cyris-fw apply 900 "$W/rules" 2>&1)
is "$?" 1 "the batch's last rule rejected: exit 1"
like "$err" "^$W/rules:$NRULES: rule 'src=n" "the error names it, at FILE:LINE"
is "$(state)" "$before" "nothing of the batch was committed"
err=$(CYRIS_FW_RCVBUF=65536 CYRIS_FW_INJECT_BAD_RULE=$last cyris-fw apply 900 "$W/rules" 2>&1)
is "$?" 1 "rejected with its ACKs lost: exit 1"
like "$err" "^cyris-fw: apply: the kernel rejected the batch .*nothing was changed" "it says so"
is "$(state)" "$before" "nothing was committed"

ok "destroy" cyris-fw destroy 900
empty=$(state)
err=$(CYRIS_FW_RCVBUF=65536 CYRIS_FW_INJECT_BAD_RULE=$last cyris-fw apply 900 "$W/rules" 2>&1)
is "$?" 1 "a first apply rejected with its ACKs lost: exit 1"
is "$(state)" "$empty" "no table came in"
done_testing
