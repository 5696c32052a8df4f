#!/bin/bash
# Topology benchmark: a generated range of NETS networks x 10 guests (netns
# provider, a rule from each network to the next), `cyris-topo up` and
# `cyris-topo down`, each in a fresh network and mount namespace; the
# scale curve at 10, 50 and 200 networks.
. "$(dirname "$0")/lib.sh"

W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
declare -A U D

one() { # one NETS: "up_ms down_ms"
	in_netns -m bash -c '
		. "'"$BENCH_DIR"'/lib.sh"
		timed u "$CYRIS_BIN/cyris-topo" up "$1"
		[ "$timed_rc" = 0 ] || exit 1
		n=$(ls /run/netns | wc -l)
		timed d "$CYRIS_BIN/cyris-topo" down 900; [ "$timed_rc" = 0 ] || exit 1
		[ "$n" = "$2" ] && [ "$(ls /run/netns | wc -l)" = 0 ] || { echo "bench: topo $2 guests, got $n" >&2; exit 1; }
		echo "$u $d"' _ "$W/r$1.yml" $(($1 * 10))
}

echo "== topo: NETS networks x 10 guests, up and down"
for n in 10 50 200; do
	bash "$BENCH_DIR/gen-range.sh" $n 10 > "$W/r$n.yml"
	runs=$RUNS
	[ $n = 200 ] && runs=3
	for ((r = 0; r < runs; r++)); do
		out=$(one $n) || { echo "bench: topo with $n networks failed" >&2; exit 1; }
		U[$n]="${U[$n]:-} ${out% *}"
		D[$n]="${D[$n]:-} ${out#* }"
	done
done
{
	echo "### Topology: a generated range, N networks x 10 guests (netns provider)"
	echo
	echo "Machine: $(machine). Median of $RUNS runs (3 at 200 networks), each in a fresh namespace."
	echo
	echo "| networks | guests | \`up\` ms | per guest ms | \`down\` ms |"
	echo "|---:|---:|---:|---:|---:|"
	for n in 10 50 200; do
		u=$(median ${U[$n]}); d=$(median ${D[$n]})
		echo "| $n | $((n * 10)) | $u | $(ratio "$u" $((n * 10))) | $d |"
	done
	echo
	echo "Targets at 50 x 10: up < 3000 ms, down < 1500 ms."
} | tee "$BENCH_OUT/topo.md"
