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
# QUICK=1: one run per figure, and the benchmarks' smaller sizes only
QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then RUNS=${RUNS:-1}; else RUNS=${RUNS:-5}; fi
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

# Network namespaces alive in the kernel, dying ones included: a namespace
# a run leaves is destroyed after it, asynchronously, holding RTNL, and the
# next run would wait for it. The net_namespace slab counts every one.
ns_count() {
	local n
	if read -r n _ < /sys/kernel/slab/net_namespace/objects 2>/dev/null; then
		echo "$n"
	else
		awk '$1 == "net_namespace" { print $2; f = 1 } END { if (!f) print -1 }' /proc/slabinfo
	fi
}

# settle [COUNT]: wait until the kernel has freed the namespaces of the last
# run, i.e. the slab count is back to COUNT (default: what it was when the
# benchmark started, NS_BASE), at most SETTLE_MAX seconds (default 600);
# fails, saying so, if it never comes back (SETTLE_SLACK: that many more are
# tolerated, where other work holds namespaces). SETTLE_WAITED: the ms it took.
settle() {
	local want=${1:-$NS_BASE} max=${SETTLE_MAX:-600} s n
	s=${EPOCHREALTIME/./}
	n=$(ns_count)
	[ "$n" -ge 0 ] || { echo "bench: no net_namespace slab to wait on" >&2; return 1; }
	# SETTLE_SLACK: namespaces other work on a shared host may hold meanwhile
	while [ "$n" -gt $((want + ${SETTLE_SLACK:-0})) ]; do
		if [ $(((${EPOCHREALTIME/./} - s) / 1000000)) -ge "$max" ]; then
			echo "bench: $((n - want)) network namespaces still not freed by the kernel after ${max} s" >&2
			return 1
		fi
		sleep 0.05
		n=$(ns_count)
	done
	SETTLE_WAITED=$(((${EPOCHREALTIME/./} - s) / 1000))
	SETTLE_TOTAL=$((${SETTLE_TOTAL:-0} + SETTLE_WAITED))
}

# quiet: wait (at most QUIET_MAX seconds, default 60) until the 1-minute
# load average is under LOAD_MAX (0.7): the machine is shared, and a figure
# taken under someone else's load measures them. Says so when it gives up.
quiet() {
	local max=${QUIET_MAX:-60} lim=${LOAD_MAX:-0.7} s=$SECONDS l
	while read -r l _ < /proc/loadavg && awk -v l="$l" -v m="$lim" 'BEGIN { exit !(l >= m) }'; do
		if [ $((SECONDS - s)) -ge "$max" ]; then
			echo "bench: load $l still >= $lim after ${max} s; measuring anyway" >&2
			return 0
		fi
		sleep 1
	done
}

# in_netns [-m] CMD...: run CMD in a fresh network namespace (-m: and a
# private mount namespace with its own /run/netns and /run/cyris), then
# wait until the kernel has freed every namespace CMD made and its own
# (settle), so that the next run starts on a quiet kernel; and before it,
# waits for a quiet machine (quiet). CMD's status is
# kept; a namespace that never goes away makes it 1.
in_netns() {
	local base rc mnt=
	[ "${1:-}" = -m ] && { mnt=1; shift; }
	settle || return 1
	quiet
	base=$(ns_count)
	if [ -n "$mnt" ]; then
		unshare -n -m --propagation private -- bash -c '
			mkdir -p /run/netns /run/cyris &&
			mount -t tmpfs -o mode=0755 bench /run/netns &&
			mount -t tmpfs -o mode=0755 bench /run/cyris && ip link set lo up && exec "$@"' _ "$@"
	else
		unshare -n -- "$@"
	fi
	rc=$?
	settle "$base" || return 1
	return $rc
}

# the count with nothing of ours alive; another process's namespaces that
# come and go meanwhile only make a wait shorter
NS_BASE=$(ns_count)
