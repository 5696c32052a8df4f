# tests/bench/lib.sh — shared by the benchmark scripts.
# Times are wall clock from bash's $EPOCHREALTIME, in milliseconds; every
# figure is a median of repeated runs; comparisons are ratios between
# variants measured interleaved in the same run on the same machine.

set -u
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CYRIS_SRC=${CYRIS_SRC:-$(dirname "$(dirname "$BENCH_DIR")")}
CYRIS_BUILD=${CYRIS_BUILD:-$CYRIS_SRC/build/default}
CYRIS_BIN=${CYRIS_BIN:-$CYRIS_BUILD/bin}
BENCH_BIN=$CYRIS_BUILD/bench
BENCH_OUT=${BENCH_OUT:-$CYRIS_BUILD/bench-results}
RUNS=${RUNS:-5}
mkdir -p "$BENCH_OUT"

now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }

# timed VAR CMD...: run CMD (output discarded); its wall time in ms goes to
# VAR and its exit status to $timed_rc
timed() {
	local -n _out=$1
	local s e
	shift
	local err=${TMPDIR:-/tmp}/cyris-bench-err.$$
	s=${EPOCHREALTIME/./}
	"$@" >/dev/null 2>"$err"
	timed_rc=$?
	e=${EPOCHREALTIME/./}
	_out=$(((e - s) / 1000))
	# a failure is reported with what the command said
	[ "$timed_rc" = 0 ] || { echo "bench: $* failed (exit $timed_rc):" >&2; cat "$err" >&2; }
	rm -f "$err"
}

median() { # median N...
	printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

machine() {
	echo "$(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), kernel $(uname -r), $(awk -F: '/model name/ { sub(/^ /, "", $2); print $2; exit }' /proc/cpuinfo)"
}

# Let the kernel finish deferred work (RCU, netns cleanup) of the last run.
settle() { sleep "${SETTLE:-1}"; }

# in_netns CMD...: run CMD in a fresh network namespace
in_netns() { unshare -n -- "$@"; }
