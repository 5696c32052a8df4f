#!/bin/bash
# cyris-fw with real packets: allowed flows pass, every other flow between
# networks is dropped, range A cannot reach range B, guests reach host
# services only when allowed, dport=53 lets UDP DNS through. Every denied
# flow is a drop (a timeout) that a drop rule of the range's table counted.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fw-setup.sh"

fw_setup || { echo "Bail out! setup failed"; exit 1; }
host_listen
ok "before any policy, desk reaches db on 22 (routed by the host)" can tcp desk 10.124.2.10 22
rules=$(mktemp)
cat > "$rules" <<'R'
# the forwarding rules of CyRIS's dmz.yml, members resolved to addresses
- rule: src=office,external dst=internal dport=3306
src=office dst=external dport=25,53
src=office dst=host dport=53 proto=udp
src=office dst=10.124.2.11 proto=icmp
R
ok "apply range 124" cyris-fw apply 124 "$rules"
ok "apply range 200 (isolation only)" cyris-fw apply 200 /dev/null

js=$(nft -j list ruleset)
is "$(echo "$js" | json '[.nftables[] | select(.table.name=="cyris_124") | .table.family] | join(" ")')" "inet bridge" \
	"the kernel has table inet cyris_124 (and bridge cyris_124, the bridges' own MACs)"
like "$(nft list table inet cyris_124)" 'comment "cyris range=124"' "tagged with its range (nft -j of 1.0.6 omits table comments)"
is "$(echo "$js" | json '[.nftables[] | select(.set.name=="ifaces" and .set.table=="cyris_124") | .set.elem[]] | sort | join(" ")')" \
   "$(echo "$br_external $br_internal $br_office" | tr ' ' '\n' | sort | xargs)" "its ifaces set holds the range's three bridges"
is "$(echo "$js" | json '[.nftables[] | select(.chain.table=="cyris_124" and .chain.family=="inet" and .chain.hook) | "\(.chain.name):\(.chain.hook):\(.chain.policy)"] | join(" ")')" \
   "forward:forward:accept input:input:accept prerouting:prerouting:accept output:output:accept postrouting:postrouting:accept" "base chains hook forward/input/nat with policy accept"

# allowed
ok "office -> internal tcp/3306" can tcp desk 10.124.2.10 3306
ok "office -> internal udp/3306 (no proto: TCP and UDP)" can udp desk 10.124.2.10 3306
ok "office -> the other internal host too (the rule names a network)" can tcp desk 10.124.2.11 3306
ok "external -> internal tcp/3306" can tcp mail 10.124.2.10 3306
ok "office -> external tcp/25" can tcp desk 10.124.3.10 25
ok "office -> external udp/53 (DNS)" can udp desk 10.124.3.10 53
ok "office -> external tcp/53" can tcp desk 10.124.3.10 53
ok "office -> 10.124.2.11 icmp" pings desk 10.124.2.11
ok "inside one network (bridged, not judged): db -> fs tcp/22" can tcp db 10.124.2.11 22
ok "office -> host udp/53 (dst=host)" can udp desk 10.124.1.1 53
# denied
ok "office -> internal tcp/22 is dropped" cannot_fw 124 tcp desk 10.124.2.10 22
ok "office -> 10.124.2.10 icmp is dropped" dropped_by 124 unpingable desk 10.124.2.10
ok "internal -> office is dropped (rules are one-way)" cannot_fw 124 tcp db 10.124.1.10 3306
ok "internal -> external is dropped" cannot_fw 124 tcp db 10.124.3.10 25
ok "external -> office is dropped" cannot_fw 124 tcp mail 10.124.1.10 22
ok "external -> internal udp/53 is dropped" cannot_fw 124 udp mail 10.124.2.10 53
ok "office -> host tcp/53 is dropped (the rule says udp)" cannot_fw 124 tcp desk 10.124.1.1 53
ok "office -> host tcp/8080 is dropped" cannot_fw 124 tcp desk 10.124.1.1 8080
ok "internal -> host udp/53 is dropped" cannot_fw 124 udp db 10.124.2.1 53
# between ranges
ok "range 124 -> range 200 is dropped" cannot_fw 124,200 tcp desk 10.200.1.10 22
ok "range 200 -> range 124 is dropped" cannot_fw 124,200 tcp b1 10.124.1.10 22
ok "range 200 -> range 124 on an allowed port too" cannot_fw 124,200 tcp b1 10.124.2.10 3306
ok "range 200 cannot ping range 124" dropped_by 124,200 unpingable b1 10.124.1.10
ok "range 200 -> host is dropped" cannot_fw 200 tcp b1 10.200.1.1 8080
# the outside and the host
ok "range -> outside is dropped without nat" cannot_fw 124 tcp desk 192.0.2.50 22
ok "outside -> range is dropped" cannot_fw 124 tcp client 10.124.1.10 22
ok "the host still reaches a guest (its own traffic is not judged)" can tcp - 10.124.2.10 22
ok "the client still reaches the host (not range traffic)" can tcp client 192.0.2.1 8080

# what counted what
sh=$(cyris-fw -j show 124)
is "$(echo "$sh" | json '[.ranges[0].rules[] | select(.comment // "" | startswith("src=office,external dst=internal")) | .packets] | add > 0')" true \
   "show: the 3306 rule counted packets"
is "$(echo "$sh" | json '[.ranges[0].rules[] | select(.comment=="isolation: from range 124") | .packets] | add > 0')" true \
   "show: the isolation drop counted packets"
like "$(cyris-fw show)" "range 200: table inet cyris_200" "text show lists every range"

# allow one more rule in its own transaction
ok "allow 124 src=internal dst=office dport=22" cyris-fw allow 124 src=internal dst=office dport=22
ok "internal -> office tcp/22 now passes" can tcp db 10.124.1.10 22
ok "internal -> office tcp/25 still dropped" cannot_fw 124 tcp db 10.124.1.10 25
# a rule longer than a comment (nft keeps 127 bytes): every kernel rule
# says exactly its own share, none a cut text
long="src=office,internal,198.51.100.0/25,198.51.100.128/25,203.0.113.0/25,203.0.113.128/25 dst=external dport=2000-2001,3000-3001"
comments() { nft -j list chain inet cyris_124 allow | jq -r '.nftables[] | select(.rule) | "\(.rule.handle) \(.rule.comment)"' | sort; }
was=$(comments)
ok "allow 124 a rule of ${#long} bytes" cyris-fw allow 124 "$long"
cm=$(comm -13 <(echo "$was") <(comments) | cut -d' ' -f2-)
is "$(echo "$cm" | wc -l)" 2 "two kernel rules (anonymous sets), each comment under 128 bytes"
is "$(echo "$cm" | grep -Evc '^src=[0-9./,]+ dst=10\.124\.3\.0/24 dport=2000-2001,3000-3001 proto=tcp,udp$')" 0 \
   "each comment is its own exact share"
is "$(echo "$cm" | sed 's/^src=//; s/ .*//' | tr , '\n' | sort | xargs)" \
   "10.124.1.0/24 10.124.2.0/24 198.51.100.0/25 198.51.100.128/25 203.0.113.0/25 203.0.113.128/25" \
   "together they name every source once"
# overlapping entries and the top of the address and port space in one set
was=$(comments)
ok "allow overlapping CIDRs and port ranges" \
	cyris-fw allow 124 src=10.124.1.0/24,10.124.0.0/16,128.0.0.0/1 dst=internal dport=1000-2000,1500-2500,65000-65535 proto=tcp
h=$(comm -13 <(echo "$was") <(comments) | cut -d' ' -f1)
like "$(nft -a list chain inet cyris_124 allow | grep "# handle $h\$")" \
	'ip saddr \{ 10\.124\.0\.0/16, 128\.0\.0\.0/1 \} ip daddr 10\.124\.2\.0/24 tcp dport \{ 1000-2500, 65000-65535 \}' \
	"the kernel holds them merged: one set of addresses, one of ports"
rm -f "$rules"
done_testing
