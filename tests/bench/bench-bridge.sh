#!/bin/bash
# Bridge benchmark: N bridges, each up with an address and 4 veth pairs
# attached and up (N x 15 `ip` operations), built by
#   (a) cyris-bridge -b            one process, one socket
#   (b) ip -batch                  the same 15 operations per bridge
#   (c) one ip process per op      how the Python range tools do it
#   (d) nlfloor                    raw rtnetlink, fewest messages: the floor
# then destroyed; and the scale curve of (a) at 10, 100, 1000 bridges.
. "$(dirname "$0")/lib.sh"

N=${N:-100}
if [ "$QUICK" = 1 ]; then SCALE_NS=${SCALE_NS:-10 100}; SCALE_RUNS=${SCALE_RUNS:-1}; fi
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

gen() { # gen N: the three scripts for N bridges
	local n=$1 i j a
	: > "$W/cyris.$n"; : > "$W/ip.$n"; : > "$W/del.$n"; : > "$W/grp.$n"
	: > "$W/bronly.$n"; : > "$W/vethonly.$n"
	for ((i = 0; i < n; i++)); do
		a="10.$((i / 250)).$((i % 250)).1/24"
		echo "add br$i range bench net n$i addr $a" >> "$W/cyris.$n"
		printf 'link add br%d type bridge\nlink set br%d up\naddr add %s dev br%d\n' $i $i "$a" $i >> "$W/ip.$n"
		echo "link del br$i" >> "$W/del.$n"
		echo "link set br$i group 4242" >> "$W/grp.$n"
		echo "link add br$i group 4242 type bridge" >> "$W/bronly.$n"
		for ((j = 0; j < 4; j++)); do
			# peer-down: the same end state as (b), whose peers stay down
			echo "veth v${i}_$j peer p${i}_$j master br$i range bench peer-down" >> "$W/cyris.$n"
			printf 'link add v%d_%d type veth peer name p%d_%d\nlink set v%d_%d master br%d\nlink set v%d_%d up\n' \
				$i $j $i $j $i $j $i $i $j >> "$W/ip.$n"
			echo "link del v${i}_$j" >> "$W/del.$n"
			echo "link set v${i}_$j group 4242" >> "$W/grp.$n"
			echo "link add v${i}_$j group 4242 type veth peer name p${i}_$j" >> "$W/vethonly.$n"
		done
	done
}

per_process() { # one `ip` process per line of $1
	local line
	while read -r line; do ip $line || return 1; done < "$1"
}

check_topology() { # the built topology has 1 + 9N links
	local got
	got=$(ip -o link show | wc -l)
	[ "$got" = $((1 + 9 * $1)) ] || { echo "bench: expected $((1 + 9 * $1)) links, got $got" >&2; return 1; }
}

# one_build VARIANT N: build in a fresh netns, print ms, clean up untimed
one_build() {
	in_netns bash -c '
		. "'"$BENCH_DIR"'/lib.sh"
		v=$1 n=$2 W=$3
		case $v in
		a) timed t "$CYRIS_BIN/cyris-bridge" -b "$W/cyris.$n" ;;
		b) timed t ip -batch "$W/ip.$n" ;;
		c) timed t bash -c "while read -r l; do ip \$l || exit 1; done < $W/ip.$n" ;;
		d) timed t "$BENCH_BIN/nlfloor" build "$n" ;;
		p) sed "s/ peer-down//" "$W/cyris.$n" > "$W/cyris-up.$n"; timed t "$CYRIS_BIN/cyris-bridge" -b "$W/cyris-up.$n" ;;
		esac
		rc=$timed_rc
		got=$(ip -o link show | wc -l)
		[ "$rc" = 0 ] && [ "$got" = $((1 + 9 * n)) ] || { echo "bench: variant $v failed (rc $rc, $got links)" >&2; exit 1; }
		# the same untimed cleanup for all: one group delete
		[ "$v" = d ] || ip -batch "$W/grp.$n" >/dev/null 2>&1
		"$BENCH_BIN/nlfloor" destroy
		echo "$t"
	' _ "$1" "$2" "$W"
}

# one_destroy VARIANT N: build untimed, then time the teardown
one_destroy() {
	in_netns bash -c '
		. "'"$BENCH_DIR"'/lib.sh"
		v=$1 n=$2 W=$3
		case $v in
		e|f) ;;
		*) "$CYRIS_BIN/cyris-bridge" -b "$W/cyris.$n" >/dev/null || exit 1 ;;
		esac
		case $v in
		a) timed t "$CYRIS_BIN/cyris-bridge" destroy range bench ;;
		b) timed t ip -batch "$W/del.$n" ;;
		d) ip -batch "$W/grp.$n" >/dev/null; timed t "$BENCH_BIN/nlfloor" destroy ;;
		# where the floor goes: the bridges alone, the veth pairs alone
		e) ip -batch "$W/bronly.$n" >/dev/null; timed t "$BENCH_BIN/nlfloor" destroy ;;
		f) ip -batch "$W/vethonly.$n" >/dev/null; timed t "$BENCH_BIN/nlfloor" destroy ;;
		esac
		[ "$(ip -o link show | wc -l)" = 1 ] || { echo "bench: destroy $v left links" >&2; exit 1; }
		echo "$t"
	' _ "$1" "$2" "$W"
}

declare -A B D mb md
gen "$N"
echo "== bridge: build $N bridges x (address + 4 veth pairs) = $((N * 15)) ip operations; $RUNS runs, interleaved"
for ((r = 0; r < RUNS; r++)); do
	for v in a b c d p; do
		B[$v]="${B[$v]:-} $(one_build $v "$N")"
		settle
	done
done
echo "== bridge: destroy; $RUNS runs"
for ((r = 0; r < RUNS; r++)); do
	for v in a b d e f; do
		D[$v]="${D[$v]:-} $(one_destroy $v "$N")"
		settle
	done
done
for v in a b c d p; do mb[$v]=$(median ${B[$v]}); done
for v in a b d e f; do md[$v]=$(median ${D[$v]}); done

echo "== bridge: scale curve at ${SCALE_NS:-10 100 1000} bridges, cyris-bridge -b beside ip -batch and the floor, ${SCALE_RUNS:-3} runs each, interleaved"
declare -A SB SD SR
for n in ${SCALE_NS:-10 100 1000}; do
	gen "$n"
	for ((r = 0; r < ${SCALE_RUNS:-3}; r++)); do
		for v in a b d; do
			out=$(in_netns bash -c '
				. "'"$BENCH_DIR"'/lib.sh"
				v=$1 n=$2 W=$3
				case $v in
				a) timed b "$CYRIS_BIN/cyris-bridge" -b "$W/cyris.$n" ;;
				b) timed b ip -batch "$W/ip.$n" ;;
				d) timed b "$BENCH_BIN/nlfloor" build "$n" ;;
				esac
				[ "$timed_rc" = 0 ] || exit 1
				case $v in
				a) timed d "$CYRIS_BIN/cyris-bridge" destroy range bench ;;
				b) timed d ip -batch "$W/del.$n" ;;
				d) timed d "$BENCH_BIN/nlfloor" destroy ;;
				esac
				[ "$timed_rc" = 0 ] && [ "$(ip -o link show | wc -l)" = 1 ] || exit 1
				echo "$b $d"' _ "$v" "$n" "$W") || { echo "bench: scale $v at $n failed" >&2; exit 1; }
			SB[$v$n]="${SB[$v$n]:-} ${out% *}"
			SD[$v$n]="${SD[$v$n]:-} ${out#* }"
		done
	done
	# peak RSS of each tool building N bridges (untimed)
	for v in a b d; do
		case $v in
		a) cmd=("$CYRIS_BIN/cyris-bridge" -b "$W/cyris.$n") ;;
		b) cmd=(ip -batch "$W/ip.$n") ;;
		d) cmd=("$BENCH_BIN/nlfloor" build "$n") ;;
		esac
		SR[$v$n]=$(in_netns bash -c '"$1/maxrss" "${@:2}" 2>&1 >/dev/null | awk "/maxrss_kib/ { print \$2 }"' _ "$BENCH_BIN" "${cmd[@]}")
	done
done

{
	echo "### Bridges: $N bridges, each with an address and 4 veth pairs ($((N * 15)) \`ip\` operations)"
	echo
	echo "Machine: $(machine). Median of $RUNS runs, variants interleaved; each run in a fresh network namespace."
	echo
	echo "| build | ms | vs ip -batch | vs floor |"
	echo "|---|---:|---:|---:|"
	echo "| (a) \`cyris-bridge -b\` (tagged, altnames) | ${mb[a]} | $(ratio "${mb[a]}" "${mb[b]}") | $(ratio "${mb[a]}" "${mb[d]}") |"
	echo "| (b) \`ip -batch\`, the same operations | ${mb[b]} | 1.00 | $(ratio "${mb[b]}" "${mb[d]}") |"
	echo "| (c) one \`ip\` process per operation | ${mb[c]} | $(ratio "${mb[c]}" "${mb[b]}") | $(ratio "${mb[c]}" "${mb[d]}") |"
	echo "| (d) raw rtnetlink floor (\`nlfloor\`) | ${mb[d]} | $(ratio "${mb[d]}" "${mb[b]}") | 1.00 |"
	echo "| (a') \`cyris-bridge -b\`, peers also brought up (the default) | ${mb[p]} | $(ratio "${mb[p]}" "${mb[b]}") | $(ratio "${mb[p]}" "${mb[d]}") |"
	echo
	echo "(c) / (a) = $(ratio "${mb[c]}" "${mb[a]}")x: cyris is that many times faster than one process per operation."
	echo
	echo "| destroy | ms |"
	echo "|---|---:|"
	echo "| \`cyris-bridge destroy range\` | ${md[a]} |"
	echo "| \`ip -batch\` with one \`link del\` per bridge and veth | ${md[b]} |"
	echo "| floor: one group delete | ${md[d]} |"
	echo "| floor, the $N bridges alone (no ports) | ${md[e]} |"
	echo "| floor, the $((N * 4)) veth pairs alone (no bridge) | ${md[f]} |"
	echo
	echo "Scale: each N built and destroyed by each, interleaved, median of ${SCALE_RUNS:-3}; per bridge = ms / N; peak RSS of the build."
	echo
	echo "| bridges | build ms: cyris / ip -batch / floor | cyris per bridge ms | vs ip -batch | vs floor | destroy ms: cyris / ip -batch (link by link) / floor (group) | cyris per bridge ms | vs floor | peak RSS KiB: cyris / ip / floor |"
	echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	for n in ${SCALE_NS:-10 100 1000}; do
		for v in a b d; do mb[$v]=$(median ${SB[$v$n]}); md[s$v]=$(median ${SD[$v$n]}); done
		echo "| $n | ${mb[a]} / ${mb[b]} / ${mb[d]} | $(ratio "${mb[a]}" "$n") | $(ratio "${mb[a]}" "${mb[b]}") | $(ratio "${mb[a]}" "${mb[d]}") | ${md[sa]} / ${md[sb]} / ${md[sd]} | $(ratio "${md[sa]}" "$n") | $(ratio "${md[sa]}" "${md[sd]}") | ${SR[a$n]} / ${SR[b$n]} / ${SR[d$n]} |"
	done
} | tee "$BENCH_OUT/bridge.md"
