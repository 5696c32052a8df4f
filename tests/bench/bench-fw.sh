#!/bin/bash
# Firewall benchmark: a 500-rule policy for one range (20 networks; every
# rule expands to one kernel rule) installed by
#   (a) cyris-fw apply              one batch, libnftnl, no parser
#   (b) nft -f                      the same ruleset (cyris-fw check's output)
#   (c) one nft process per rule    how an iptables-era tool does it
# and a full replace of the installed policy by (a) and (b).
. "$(dirname "$0")/lib.sh"

NRULES=${NRULES:-500}
NNETS=20
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

# the rules: every ordered pair of networks, one TCP port each
i=0
while [ $i -lt "$NRULES" ]; do
	s=$((i % NNETS)); d=$(((i / NNETS + s + 1) % NNETS))
	[ $s = $d ] && d=$(((d + 1) % NNETS))
	echo "src=n$s dst=n$d dport=$((1000 + i)) proto=tcp"
	i=$((i + 1))
done > "$W/rules"
for ((n = 0; n < NNETS; n++)); do echo "add range bench net n$n addr 10.99.$n.1/24"; done > "$W/bridges"

# setup VARIANT: a fresh namespace with the range's bridges; then time it
one() {
	in_netns bash -c '
		. "'"$BENCH_DIR"'/lib.sh"
		v=$1 W=$2
		"$CYRIS_BIN/cyris-bridge" -b "$W/bridges" >/dev/null || exit 1
		"$CYRIS_BIN/cyris-fw" check bench "$W/rules" > "$W/nft.$$" || exit 1
		case $v in
		a) timed t "$CYRIS_BIN/cyris-fw" apply bench "$W/rules" ;;
		b) timed t nft -f "$W/nft.$$" ;;
		c) timed t bash -c "while read -r l; do nft \"\$l\" || exit 1; done < $W/nft.$$" ;;
		ra) "$CYRIS_BIN/cyris-fw" apply bench "$W/rules"; timed t "$CYRIS_BIN/cyris-fw" apply bench "$W/rules" ;;
		rb) nft -f "$W/nft.$$"
		    { echo "delete table inet cyris_bench"; cat "$W/nft.$$"; } > "$W/re.$$"
		    timed t nft -f "$W/re.$$" ;;
		esac
		rc=$timed_rc
		got=$(nft -j list table inet cyris_bench | jq "[.nftables[] | select(.rule.chain==\"allow\")] | length")
		rm -f "$W/nft.$$" "$W/re.$$"
		[ "$rc" = 0 ] && [ "$got" = "'"$NRULES"'" ] || { echo "bench: fw variant $v failed (rc $rc, $got rules)" >&2; exit 1; }
		echo "$t"' _ "$1" "$W"
}

declare -A T m
echo "== fw: $NRULES rules, $RUNS runs, interleaved"
for ((r = 0; r < RUNS; r++)); do
	for v in a b ra rb; do T[$v]="${T[$v]:-} $(one $v)"; done
	[ $r -lt 3 ] && T[c]="${T[c]:-} $(one c)"
done
for v in a b c ra rb; do m[$v]=$(median ${T[$v]}); done
{
	echo "### Firewall: a $NRULES-rule policy for one range"
	echo
	echo "Machine: $(machine). Median of $RUNS runs (3 for one process per rule), variants interleaved, each in a fresh network namespace with the range's 20 bridges."
	echo
	echo "| install | ms | vs nft -f |"
	echo "|---|---:|---:|"
	echo "| (a) \`cyris-fw apply\` (resolves the networks from the kernel, one batch) | ${m[a]} | $(ratio "${m[a]}" "${m[b]}") |"
	echo "| (b) \`nft -f\` with the same ruleset | ${m[b]} | 1.00 |"
	echo "| (c) one \`nft\` process per rule | ${m[c]} | $(ratio "${m[c]}" "${m[b]}") |"
	echo "| replace: \`cyris-fw apply\` again | ${m[ra]} | $(ratio "${m[ra]}" "${m[rb]}") |"
	echo "| replace: \`nft -f\` with \`delete table\` + the ruleset | ${m[rb]} | 1.00 |"
	echo
	echo "(c) / (a) = $(ratio "${m[c]}" "${m[a]}")x."
} | tee "$BENCH_OUT/fw.md"
