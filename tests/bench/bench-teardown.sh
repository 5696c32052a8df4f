#!/bin/bash
# Teardown benchmark: what `cyris-topo down` of a range of NETS networks x
# 10 guests costs the rest of the host. While it runs, an unrelated
# `ip link add` loops in a namespace of its own (stall.sh); its longest
# call overlapping the down is the longest stall another netlink user saw.
#   (a) cyris-topo down                      the links deleted in pieces
#   (b) ip link delete group G, then down    one request for every link of
#                                            the range: the single-request floor
# Variants interleaved, each run in a fresh network and mount namespace.
. "$(dirname "$0")/lib.sh"

NETS=${NETS:-100}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
bash "$BENCH_DIR/gen-range.sh" "$NETS" 10 > "$W/r.yml"

one() { # one VARIANT: "down_ms stall_ms idle_ms"
	in_netns -m bash -c '
		. "'"$BENCH_DIR"'/lib.sh"
		v=$1 W=$2
		# the preflight'"'"'s scratch namespaces made and gone before (see bench-topo.sh)
		"$CYRIS_BIN/cyris-check" >/dev/null 2>&1; settle
		"$CYRIS_BIN/cyris-topo" up "$W/r.yml" >/dev/null || exit 1
		g=$(ip -j -d link show type bridge | jq -r "first(.[] | .group)")
		"$BENCH_DIR/stall.sh" "$W/st.$$" & sp=$!
		sleep 1
		s=${EPOCHREALTIME/./}
		case $v in
		a) timed t "$CYRIS_BIN/cyris-topo" down 900 ;;
		b) timed t bash -c "ip link delete group $g && exec $CYRIS_BIN/cyris-topo down 900" ;;
		esac
		rc=$timed_rc
		e=${EPOCHREALTIME/./}
		sleep 0.3
		kill $sp; wait $sp
		[ "$rc" = 0 ] && [ "$(ls /run/netns | wc -l)" = 0 ] && [ "$(ip -o link show | wc -l)" = 1 ] ||
			{ echo "bench: teardown variant $v failed (rc $rc)" >&2; exit 1; }
		# the longest ip link add overlapping the down; the longest before it
		awk -v s="$s" -v e="$e" "
			\$2 > s && \$1 < e { d = \$2 - \$1; if (d > m) m = d }
			\$2 <= s { d = \$2 - \$1; if (d > b) b = d }
			END { printf \"%d %d\", m / 1000, b / 1000 }" "$W/st.$$"
		rm -f "$W/st.$$"
		echo " $t"' _ "$1" "$W"
}

declare -A T S I m
echo "== teardown: $NETS networks x 10 guests, $RUNS runs, interleaved"
for ((r = 0; r < RUNS; r++)); do
	for v in a b; do
		out=$(one $v) || { echo "bench: teardown $v failed" >&2; exit 1; }
		read -r st idle t <<< "$out"
		T[$v]="${T[$v]:-} $t"; S[$v]="${S[$v]:-} $st"; I[$v]="${I[$v]:-} $idle"
	done
done
for v in a b; do m[T$v]=$(median ${T[$v]}); m[S$v]=$(median ${S[$v]}); m[I$v]=$(median ${I[$v]}); done
{
	echo "### Teardown: \`cyris-topo down\` of $NETS networks x 10 guests, and the rest of the host"
	echo
	echo "Machine: $(machine). Median of $RUNS runs, variants interleaved, each in a fresh network namespace; an unrelated \`ip link add\` loops in another namespace meanwhile."
	echo
	echo "| down | ms | vs floor | longest \`ip link add\` during it, ms | longest before it, ms |"
	echo "|---|---:|---:|---:|---:|"
	echo "| (a) \`cyris-topo down\` (links deleted in pieces) | ${m[Ta]} | $(ratio "${m[Ta]}" "${m[Tb]}") | ${m[Sa]} | ${m[Ia]} |"
	echo "| (b) floor: \`ip link delete group\` (one request), then \`cyris-topo down\` | ${m[Tb]} | 1.00 | ${m[Sb]} | ${m[Ib]} |"
	echo
	echo "Each run of (a), in order: ms$(printf ' %s' ${T[a]}); longest stall ms$(printf ' %s' ${S[a]})."
	echo
	echo "Targets: the longest stall under 100 ms; (a) within 1.10x of (b)."
} | tee "$BENCH_OUT/teardown.md"
