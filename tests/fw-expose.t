#!/bin/bash
# expose, nat, destroy and ownership of tables; the host-firewall warning.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fw-setup.sh"

fw_setup || { echo "Bail out! setup failed"; exit 1; }
cyris-fw apply 124 /dev/null && cyris-fw apply 200 /dev/null || echo "Bail out! apply failed"

ok "expose 124 2222 to db:22" cyris-fw expose 124 2222 to 10.124.2.10:22
is "$(answer tcp client 192.0.2.1 2222)" 192.0.2.50 "the client reaches db's port 22 through host port 2222"
# (the client reaches the host itself, not a range: where nothing is exposed
# and nothing listens, the host's own stack refuses, and that is the outcome)
ok "it does not reach db's 3306 that way (the host refuses: nothing exposed there)" refused tcp client 192.0.2.1 3306
ok "nor db directly" cannot_fw 124 tcp client 10.124.2.10 22
ok "nor another guest" cannot_fw 124 tcp client 10.124.1.10 22
ok "nor another host port (the host refuses)" refused tcp client 192.0.2.1 2223
ok "range 200 cannot use range 124's exposed port" cannot_fw 200 tcp b1 10.200.1.1 2222
exits 1 "the same host port twice is refused" cyris-fw expose 124 2222 to 10.124.2.11:22
exits 1 "another range cannot take it either" cyris-fw expose 200 2222 to 10.200.1.10:22
like "$(cyris-fw expose 200 2222 to 10.200.1.10:22 2>&1)" "another range exposes that host port" "and says why"
ok "a guest of range 124 does not get to db through the host's port (only clients outside do)" \
	cannot_fw 124 tcp desk 10.124.1.1 2222
host_listen
exits 1 "a port a host service listens on is refused" cyris-fw expose 124 8080 to 10.124.2.10:22
like "$(cyris-fw expose 124 8080 to 10.124.2.10:22 2>&1)" "a service of the host listens on that TCP port" "and says why"
is "$(answer tcp client 192.0.2.1 8080)" 192.0.2.50 "the host's service still answers there"
exits 1 "a UDP port a host service is bound to is refused too" cyris-fw expose 124 53 to 10.124.3.10:53 proto udp
like "$(cyris-fw expose 124 53 to 10.124.3.10:53 proto udp 2>&1)" "a service of the host listens on that UDP port" "  and says why"
ok "expose 124 2224 to fs:22 snat" cyris-fw expose 124 2224 to 10.124.2.11:22 snat
is "$(answer tcp client 192.0.2.1 2224)" 10.124.2.1 "with snat, fs sees the connection from the host's address"
ok "expose udp from a prefix" cyris-fw expose 124 5353 to 10.124.3.10:53 proto udp from 192.0.2.48/29
ok "the client (192.0.2.50) reaches it" can udp client 192.0.2.1 5353
ip -n client addr add 192.0.2.99/24 dev eth0
ok "from 192.0.2.50 explicitly too" env NETCHECK_SRC=192.0.2.50 ip netns exec client $NETCHECK connect udp 192.0.2.1 5353 700
# (not DNATed, the datagram is for the host itself, where nothing listens on
# 5353: an ICMP port unreachable, netcheck's "refused")
exits 3 "but not from 192.0.2.99 (outside the prefix: the host refuses)" env NETCHECK_SRC=192.0.2.99 ip netns exec client $NETCHECK connect udp 192.0.2.1 5353 700

# nat: egress for one range
ok "desk cannot reach the outside" cannot_fw 124 tcp desk 192.0.2.50 22
ok "nat 124 out up0" cyris-fw nat 124 out up0
masq() { nft -j list chain inet cyris_124 postrouting | jq '[.nftables[] | select(.rule) | .rule.comment] | length'; }
n_masq=$(masq)
ok "nat 124 out up0 again" cyris-fw nat 124 out up0
is "$(masq)" "$n_masq" "  adds no second masquerade rule"
is "$(answer tcp desk 192.0.2.50 22)" 192.0.2.1 "desk reaches the outside, masqueraded as the host"
ok "range 200 still cannot" cannot_fw 200 tcp b1 192.0.2.50 22
ok "internal still cannot reach office (nat is egress only)" cannot_fw 124 tcp db 10.124.1.10 22

# refused, and nothing changes: a port into another range, NAT out of the loopback,
# a missing interface or a range's own bridge
rs=$(ruleset)
fails_with 1 "10.200.1.10 is on .*, a network of range 200, not of range 124" \
	"expose 124 to range 200's guest is refused" cyris-fw expose 124 2224 to 10.200.1.10:22
fails_with 1 "10.200.1.1 is on .*, a network of range 200" \
	"expose 124 to range 200's host address is refused" cyris-fw expose 124 2224 to 10.200.1.1:22
fails_with 1 "expose: 192\.0\.2\.50 is on no network of range 124 \(--force exposes it anyway\)" \
	"expose 124 to an address on no range network (the client outside) is refused" \
	cyris-fw expose 124 2225 to 192.0.2.50:22
fails_with 1 "expose: 203\.0\.113\.9 is on no network of range 124" \
	"expose 124 to an address the host has no route to is refused" cyris-fw expose 124 2225 to 203.0.113.9:22
fails_with 1 "lo is the loopback" "nat 124 out lo is refused" cyris-fw nat 124 out lo
fails_with 1 "no interface nosuch0" "nat 124 out a missing interface is refused" cyris-fw nat 124 out nosuch0
fails_with 1 "is an interface of range 200, not a way out" "nat 124 out range 200's bridge is refused" \
	cyris-fw nat 124 out "$br_lab"
is "$(ruleset)" "$rs" "none of them changed the ruleset"
ok "range 200 still cannot reach the outside" cannot_fw 200 tcp b1 192.0.2.50 22
ok "with --force, an expose to an address on no range network is made" \
	cyris-fw --force expose 124 2225 to 192.0.2.50:22
is "$(nft -j list chain inet cyris_124 prerouting | jq -r '[.nftables[].rule.comment? // empty | select(startswith("expose 2225 "))] | .[0]')" \
	"expose 2225 to 192.0.2.50:22 proto tcp" "  (its DNAT is in)"
exits 1 "--force does not open another range's address" cyris-fw --force expose 124 2226 to 10.200.1.10:22

# a re-apply keeps the exposed ports and the NAT
echo "src=office dst=internal dport=3306" > /tmp/.r.$$
ok "re-apply 124 with a rule" cyris-fw apply 124 /tmp/.r.$$
ok "the exposed port survived the re-apply" can tcp client 192.0.2.1 2222
is "$(answer tcp client 192.0.2.1 2224)" 10.124.2.1 "and the snat one, with its snat"
ok "the NAT survived it" can tcp desk 192.0.2.50 22
ok "the new rule is in" can tcp desk 10.124.2.10 3306
rm -f /tmp/.r.$$

# the host's own firewall: a foreign table with policy drop on forward
nft add table inet hostfw
nft add chain inet hostfw fwdchain '{ type filter hook forward priority 10; policy drop; }'
nft add rule inet hostfw fwdchain accept comment '"the admin lets things through"'
nft add table ip legacy
nft add chain ip legacy FORWARD '{ type filter hook forward priority 0; policy drop; }'
like "$(cyris-fw apply 200 /dev/null 2>&1)" "warning: the forward hook also has policy drop in inet hostfw fwdchain, ip legacy FORWARD" "apply warns about a host firewall that drops"
nft delete table ip legacy
# more than the warning's line holds: whole names, then "..."
for i in $(seq 10 40); do
	nft add table ip legacy$i
	nft add chain ip legacy$i FORWARD '{ type filter hook forward priority 0; policy drop; }'
done
w=$(cyris-fw apply 200 /dev/null 2>&1 | sed -n 's/.*policy drop in \(.*\): range traffic.*/\1/p')
like "$w" '^inet hostfw fwdchain, ip legacy[0-9]+ FORWARD, .*, \.\.\.$' "a list too long for the warning ends in '...'"
is "$(echo "$w" | sed 's/, /\n/g' | grep -Evc '^(inet hostfw fwdchain|ip legacy[0-9]+ FORWARD|\.\.\.)$')" 0 "with whole names only"
for i in $(seq 10 40); do nft delete table ip legacy$i; done

# ownership: a table of our name that is not ours
nft add table inet cyris_999
exits 1 "destroy refuses a cyris-named table without the tag" cyris-fw destroy 999
like "$(cyris-fw destroy 999 2>&1)" "not own" "and says so"
exits 1 "apply refuses it too" cyris-fw apply 999 /dev/null
ok "it is still there" nft list table inet cyris_999
exits 1 "expose into a range without a table" cyris-fw expose 555 80 to 10.1.1.1:80
exits 1 "destroy of a range without a table" cyris-fw destroy 555

# the bridge guard next to the inet table: each range bridge's own MAC
# from a port is dropped; a bridge table of a range's name that is not
# cyris's is not taken over
brguard() { nft -j list table bridge "cyris_$1" | jq -c '[.nftables[] | select(.rule) | .rule.comment] | sort'; }
is "$(brguard 124)" "$(for b in "$br_office" "$br_internal" "$br_external"; do
	echo "bridge $b: its own MAC $(ip -j link show dev "$b" | jq -r '.[0].address') from a port is forged"
	done | jq -R . | jq -cs 'sort')" "range 124's bridge table guards its three bridges' MACs"
nft add table bridge cyris_777
cyris-bridge add range 777 net x addr 10.77.0.1/24 >/dev/null
exits 1 "apply refuses a foreign bridge table of its name" cyris-fw apply 777 /dev/null
like "$(cyris-fw apply 777 /dev/null 2>&1)" "apply: its table exists and is not cyris's" "  and says so"
ok "  which is still there, empty" test "$(nft -j list table bridge cyris_777 | jq '[.nftables[] | select(.chain)] | length')" = 0
ok "  with --force, apply replaces it" cyris-fw --force apply 777 /dev/null
like "$(nft list table bridge cyris_777)" 'comment "cyris range=777"' "  by cyris's"
ok "destroy 777 removes both" cyris-fw destroy 777
exits 1 "  (no bridge table left)" nft list table bridge cyris_777

before=$(nft -j list ruleset | jq -c '[.nftables[] | select(.table) | .table.name] | sort')
ok "destroy 124" cyris-fw destroy 124
after=$(nft -j list ruleset | jq -c '[.nftables[] | select(.table) | .table.name] | sort')
is "$after" "$(echo "$before" | jq -c 'map(select(. != "cyris_124"))')" "only cyris_124 is gone (inet and bridge)"
is "$(nft -j list table inet hostfw | jq -c '[.nftables[] | select(.rule) | .rule.comment]')" '["the admin lets things through"]' "the foreign table is untouched"
ok "destroy 200" cyris-fw destroy 200
is "$(nft -j list ruleset | jq '[.nftables[] | select(.table.name? // "" | test("^cyris_(124|200)$"))] | length')" 0 "no cyris range table is left"
ok "destroy --force takes the foreign cyris_999" cyris-fw --force destroy 999
ok "hostfw is still there" nft list table inet hostfw
done_testing
