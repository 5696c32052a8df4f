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

# gen N: N rules, every ordered pair of networks, one TCP port each (one
# kernel rule each)
gen() {
	awk -v n="$1" -v nets=$NNETS 'BEGIN { for (i = 0; i < n; i++) {
		s = i % nets; d = (int(i / nets) + s + 1) % nets; if (s == d) d = (d + 1) % nets
		printf "src=n%d dst=n%d dport=%d proto=tcp\n", s, d, 1000 + i % 60000 } }'
}
gen "$NRULES" > "$W/rules"
for ((n = 0; n < NNETS; n++)); do echo "add range bench net n$n addr 10.99.$n.1/24"; done > "$W/bridges"

# setup VARIANT: a fresh namespace with the range's bridges; then time it
one() {
	in_netns bash -c '
		. "'"$BENCH_DIR"'/lib.sh"
		v=$1 W=$2 rules=$W/${4:-rules}
		"$CYRIS_BIN/cyris-bridge" -b "$W/bridges" >/dev/null || exit 1
		"$CYRIS_BIN/cyris-fw" check bench "$rules" > "$W/nft.$$" || exit 1
		case $v in
		a) timed t "$CYRIS_BIN/cyris-fw" apply bench "$rules" ;;
		ma) "$BENCH_BIN/maxrss" "$CYRIS_BIN/cyris-fw" apply bench "$rules" 2>"$W/rss.$$" >/dev/null; timed_rc=$?
		    t=$(awk "/maxrss_kib/ { print \$2 }" "$W/rss.$$"); rm -f "$W/rss.$$" ;;
		mb) "$BENCH_BIN/maxrss" nft -f "$W/nft.$$" 2>"$W/rss.$$" >/dev/null; timed_rc=$?
		    t=$(awk "/maxrss_kib/ { print \$2 }" "$W/rss.$$"); rm -f "$W/rss.$$" ;;
		b) timed t nft -f "$W/nft.$$" ;;
		c) timed t bash -c "while read -r l; do nft \"\$l\" || exit 1; done < $W/nft.$$" ;;
		ra) "$CYRIS_BIN/cyris-fw" apply bench "$rules"; timed t "$CYRIS_BIN/cyris-fw" apply bench "$rules" ;;
		rb) nft -f "$W/nft.$$"
		    { echo "delete table inet cyris_bench"; cat "$W/nft.$$"; } > "$W/re.$$"
		    timed t nft -f "$W/re.$$" ;;
		esac
		rc=$timed_rc
		got=$(nft -j list table inet cyris_bench | jq "[.nftables[] | select(.rule.chain==\"allow\")] | length")
		rm -f "$W/nft.$$" "$W/re.$$"
		[ "$rc" = 0 ] && [ "$got" = "$3" ] || { echo "bench: fw variant $v failed (rc $rc, $got rules)" >&2; exit 1; }
		echo "$t"' _ "$1" "$W" "${3:-$NRULES}" "${4:-rules}"
}

declare -A T m
echo "== fw: $NRULES rules, $RUNS runs, interleaved"
for ((r = 0; r < RUNS; r++)); do
	for v in a b ra rb; do T[$v]="${T[$v]:-} $(one $v)"; done
	[ $r -lt 3 ] && T[c]="${T[c]:-} $(one c)"
done
for v in a b c ra rb; do m[$v]=$(median ${T[$v]}); done

# the scale curve: N kernel rules, cyris-fw apply beside nft -f of the same
# ruleset, interleaved; and the peak RSS of each
if [ "$QUICK" = 1 ]; then FW_NS=${FW_NS:-500 5000}; SCALE_RUNS=${SCALE_RUNS:-1}; else FW_NS=${FW_NS:-500 5000 50000}; fi
declare -A S
echo "== fw: scale curve at $FW_NS kernel rules, ${SCALE_RUNS:-3} runs, interleaved"
for n in $FW_NS; do
	gen "$n" > "$W/rules.$n"
	for ((r = 0; r < ${SCALE_RUNS:-3}; r++)); do
		for v in a b; do S[$v$n]="${S[$v$n]:-} $(one $v _ "$n" "rules.$n")"; done
	done
	for v in ma mb; do S[$v$n]=$(one $v _ "$n" "rules.$n"); done
done
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
	echo
	echo "| kernel rules | \`cyris-fw apply\` ms | per rule µs | \`nft -f\` ms | vs nft -f | peak RSS KiB: cyris-fw / nft |"
	echo "|---:|---:|---:|---:|---:|---:|"
	for n in $FW_NS; do
		a=$(median ${S[a$n]}); b=$(median ${S[b$n]})
		echo "| $n | $a | $(awk -v a="$a" -v n="$n" 'BEGIN { printf "%.1f", a * 1000 / n }') | $b | $(ratio "$a" "$b") | ${S[ma$n]} / ${S[mb$n]} |"
	done
} | tee "$BENCH_OUT/fw.md"
