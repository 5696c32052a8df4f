#!/bin/bash
# Topology benchmark: a generated range of NETS networks x 10 guests (netns
# provider, a rule from each network to the next), `cyris-topo up` and
# `cyris-topo down`, beside the raw-netlink floor of the same topology at
# the same N (nlfloor topo: bridges, named namespaces, veths, addresses,
# routes, nothing else), interleaved, each run in a fresh network and mount
# namespace; the scale curve at 10, 50 and 200 networks, and 40 instances
# of contrib/cyris-examples/dmz.yml (gateways with their own firewalls,
# entry points). CYRIS_BIN_BEFORE=DIR adds the cyris-topo of another build,
# interleaved too (a before/after). QUICK=1: 10 and 50 networks and the
# 40 instances, one run each.
. "$(dirname "$0")/lib.sh"

W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
if [ "$QUICK" = 1 ]; then SIZES=${SIZES:-10 50}; else SIZES=${SIZES:-10 50 200}; fi
VARIANTS="a f${CYRIS_BIN_BEFORE:+ o}"
declare -A U D R

one() { # one VARIANT FILE RANGE GUESTS NETS: "up_ms down_ms"
	in_netns -m bash -c '
		. "'"$BENCH_DIR"'/lib.sh"
		v=$1 f=$2 id=$3 guests=$4 nets=$5
		bin=$CYRIS_BIN
		[ "$v" = o ] && bin=$CYRIS_BIN_BEFORE
		# a host that has run cyris in this boot: the kernel probes of the
		# preflight are recorded (this namespace has a fresh /run/cyris)
		# (its scratch namespaces then torn down before the timing: settle)
		[ "$v" = f ] || { "$bin/cyris-check" >/dev/null 2>&1; settle; }
		case $v in
		a|o) timed u "$bin/cyris-topo" up "$f" ;;
		f) timed u "$BENCH_BIN/nlfloor" topo "$nets" 10 ;;
		esac
		[ "$timed_rc" = 0 ] || exit 1
		n=$(ls /run/netns | wc -l)
		case $v in
		a|o) timed d "$bin/cyris-topo" down "$id" ;;
		f) timed d "$BENCH_BIN/nlfloor" topo-destroy ;;
		esac
		[ "$timed_rc" = 0 ] || exit 1
		[ "$n" = "$guests" ] && [ "$(ls /run/netns | wc -l)" = 0 ] && [ "$(ip -o link show | wc -l)" = 1 ] ||
			{ echo "bench: topo $v: $guests guests, got $n" >&2; exit 1; }
		echo "$u $d"' _ "$@"
}

rss() { # rss FILE RANGE: peak RSS in KiB of cyris-topo up and of down
	in_netns -m bash -c '
		. "'"$BENCH_DIR"'/lib.sh"
		u=$("$BENCH_BIN/maxrss" "$CYRIS_BIN/cyris-topo" up "$1" 2>&1 >/dev/null | awk "/maxrss_kib/ { print \$2 }")
		d=$("$BENCH_BIN/maxrss" "$CYRIS_BIN/cyris-topo" down "$2" 2>&1 >/dev/null | awk "/maxrss_kib/ { print \$2 }")
		echo "$u $d"' _ "$@"
}

sed 's/instance_number: 1$/instance_number: 40/' "$CYRIS_SRC/contrib/cyris-examples/dmz.yml" > "$W/dmz40.yml"
echo "== topo: N networks x 10 guests ($SIZES) and 40 x dmz.yml, up and down; variants $VARIANTS interleaved, $RUNS runs"
for n in $SIZES; do
	bash "$BENCH_DIR/gen-range.sh" "$n" 10 > "$W/r$n.yml"
	runs=$RUNS
	[ "$n" -ge 200 ] && [ "$runs" -gt 3 ] && runs=3
	for ((r = 0; r < runs; r++)); do
		for v in $VARIANTS; do
			out=$(one $v "$W/r$n.yml" 900 $((n * 10)) "$n") || { echo "bench: topo $v with $n networks failed" >&2; exit 1; }
			U[$v$n]="${U[$v$n]:-} ${out% *}"
			D[$v$n]="${D[$v$n]:-} ${out#* }"
		done
	done
	R[$n]=$(rss "$W/r$n.yml" 900)
done
for ((r = 0; r < RUNS; r++)); do
	for v in a${CYRIS_BIN_BEFORE:+ o}; do
		out=$(one $v "$W/dmz40.yml" 124 200 0) || { echo "bench: topo $v, 40 x dmz.yml failed" >&2; exit 1; }
		U[${v}dmz]="${U[${v}dmz]:-} ${out% *}"
		D[${v}dmz]="${D[${v}dmz]:-} ${out#* }"
	done
done
R[dmz]=$(rss "$W/dmz40.yml" 124)
{
	echo "### Topology: a generated range, N networks x 10 guests (netns provider), beside the raw-netlink floor"
	echo
	echo "Machine: $(machine). Median of $RUNS runs (at most 3 at 200 networks), variants interleaved, each in a fresh network and mount namespace, after the kernel has freed the namespaces of the run before."
	echo
	echo "| range | guests | \`up\` ms | per guest ms | floor ms | vs floor | \`down\` ms | per guest ms | floor ms | vs floor |${CYRIS_BIN_BEFORE:+ before: up ms / down ms |} peak RSS KiB up / down |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|${CYRIS_BIN_BEFORE:+---:|}---:|"
	for n in $SIZES; do
		g=$((n * 10))
		u=$(median ${U[a$n]}); d=$(median ${D[a$n]}); fu=$(median ${U[f$n]}); fd=$(median ${D[f$n]})
		before=
		[ -n "${CYRIS_BIN_BEFORE:-}" ] && before=" $(median ${U[o$n]}) / $(median ${D[o$n]}) |"
		echo "| $n x 10 | $g | $u | $(ratio "$u" $g) | $fu | $(ratio "$u" "$fu") | $d | $(ratio "$d" $g) | $fd | $(ratio "$d" "$fd") |$before ${R[$n]% *} / ${R[$n]#* } |"
	done
	u=$(median ${U[admz]}); d=$(median ${D[admz]})
	before=
	[ -n "${CYRIS_BIN_BEFORE:-}" ] && before=" $(median ${U[odmz]}) / $(median ${D[odmz]}) |"
	echo "| 40 x dmz.yml (120 networks) | 200 | $u | $(ratio "$u" 200) | - | - | $d | $(ratio "$d" 200) | - | - |$before ${R[dmz]% *} / ${R[dmz]#* } |"
	echo
	echo "Targets: per guest at the largest N within 1.2x of the smallest; up of 200 x 10 < 5000 ms, down < 4000 ms; 40 x dmz.yml up < 4000 ms; within 1.15x of the floor; peak RSS < 50 MB."
} | tee "$BENCH_OUT/topo.md"
