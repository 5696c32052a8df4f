#!/bin/bash
# One transaction per command: a re-apply never interrupts flows (of its
# own range or another), a bad line or a batch the kernel rejects leaves
# the previous policy exactly in force.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fw-setup.sh"

fw_setup || { echo "Bail out! setup failed"; exit 1; }
ra=$(mktemp); rb=$(mktemp)
echo "src=office dst=internal dport=3306" > "$ra"
echo "src=lab dst=host dport=53" > "$rb"
cyris-fw apply 124 "$ra" && cyris-fw apply 200 "$rb" || echo "Bail out! apply failed"

# a flow in range 124 across 20 re-applies of range 200 and 5 of its own
# (the re-applies start once the stream says its connection is up; the
# stream would run for 600 s, a SIGTERM ends it when they are done)
fifo=$(mktemp -u); mkfifo "$fifo"
ip netns exec desk "$NETCHECK" stream 10.124.2.10 3306 600 300 > "$fifo" 2>/tmp/.flow.$$ &
flow=$!
exec 3< "$fifo"; rm -f "$fifo"
read -r -t 30 line <&3
is "$line" connected "the flow is up before the re-applies"
failed=0
for i in $(seq 20); do cyris-fw apply 200 "$rb" || failed=$((failed + 1)); done
for i in $(seq 5); do cyris-fw apply 124 "$ra" || failed=$((failed + 1)); done
is "$failed" 0 "all 25 re-applies succeeded"
kill $flow; wait $flow
ok "a range-124 flow ran without a stall over 300 ms across them" test $? = 0
diag "$(cat <&3) $(cat /tmp/.flow.$$)"
exec 3<&-
rm -f /tmp/.flow.$$
ok "range 124's rule still works after them" can tcp desk 10.124.2.10 3306
ok "and its isolation too" cannot_fw 124 tcp desk 10.124.2.10 22

before=$(ruleset)
bad=$(mktemp)
printf 'src=office dst=internal dport=3306\n\n# fine so far\nsrc=office dst=nowhere dport=1\n' > "$bad"
err=$(cyris-fw apply 124 "$bad" 2>&1)
is "$?" 1 "a rule naming an unknown network: exit 1"
is "$err" "$bad:4: dst: no network 'nowhere' in range 124" "reported as FILE:LINE"
printf 'src=office dst=internal dport=99999\n' > "$bad"
like "$(cyris-fw apply 124 "$bad" 2>&1)" "^$bad:1: dport: '99999' is not a port" "a bad port: FILE:LINE"
printf 'src=office dst=internal colour=red\n' > "$bad"
like "$(cyris-fw apply 124 "$bad" 2>&1)" "^$bad:1: unknown key 'colour'" "an unknown key: FILE:LINE"
printf 'src=office dst=internal.dbsrv dport=3306\n' > "$bad"
like "$(cyris-fw apply 124 "$bad" 2>&1)" "member names are resolved by cyris-topo" "a member name gets a hint"
# a NUL byte would silently end the line: "proto=udp" would go
printf 'src=office dst=internal dport=3306\n\nsrc=office dst=external dport=53\0 proto=udp\n' > "$bad"
err=$(cyris-fw apply 124 "$bad" 2>&1)
is "$?" 1 "a NUL byte inside a rule line: exit 1"
is "$err" "$bad:3: a NUL byte in the line" "reported as FILE:LINE"
err=$(cyris-fw check 124 - < "$bad" 2>&1)
is "$err" "<stdin>:3: a NUL byte in the line" "check too, on stdin"
is "$(ruleset)" "$before" "none of them changed the ruleset"

# a batch the kernel rejects: the 30th kernel rule made invalid
printf 'src=office dst=internal dport=3306\nsrc=office dst=external dport=25,53\n' > "$bad"
n=$(cyris-fw check 124 "$bad" | grep -c '^add rule')
err=$(CYRIS_FW_INJECT_BAD_RULE=$n cyris-fw apply 124 "$bad" 2>&1)
is "$?" 1 "a batch the kernel rejects: exit 1"
like "$err" "^$bad:2: rule 'src=office dst=external dport=25,53 proto=tcp,udp': " "the error names the rule that caused it, at FILE:LINE"
is "$(ruleset)" "$before" "the old policy is exactly in force"
ok "and still works" can tcp desk 10.124.2.10 3306
ok "the new rule did not come in" cannot_fw 124 tcp desk 10.124.3.10 25
err=$(CYRIS_FW_INJECT_BAD_RULE=1 cyris-fw apply 124 "$bad" 2>&1)
like "$err" "apply: not range traffic: " "a rejected skeleton rule is named by its role"
is "$(ruleset)" "$before" "unchanged again"
exits 0 "the same file applies when nothing is injected" cyris-fw apply 124 "$bad"
ok "now office -> external tcp/25 passes" can tcp desk 10.124.3.10 25

# (ruleset leaves out the counters: the guests' own IPv6 chatter moves them)
before=$(ruleset)
ok "check runs" cyris-fw check 124 "$ra"
is "$(ruleset)" "$before" "check changes nothing"
js=$(cyris-fw -j check 124 "$ra")
is "$(echo "$js" | json '.rules[0] | "\(.line) \(.rule)"')" "1 src=office dst=internal dport=3306 proto=tcp,udp" "check -j lists the rules with their lines"
is "$(echo "$js" | json '[.networks[].name] | sort | join(",")')" "external,internal,office" "and the networks it resolved"
ok "check's nft script is valid nft (nft -c -f)" bash -c "echo '$js' | jq -r .nft | nft -c -f -"
rm -f "$ra" "$rb" "$bad"
done_testing
