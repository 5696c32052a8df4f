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

# A namespace a run leaves is destroyed after it, asynchronously, by the
# kernel's "netns" workqueue (cleanup_net), holding RTNL for much of it; the
# next run would wait for it. While a worker runs that work its name reads
# "kworker/...+netns" (the kernel shows the workqueue it is running), so
# that is what tells a cleanup still going. The net_namespace slab count is
# too coarse for this: it counts slots in per-CPU slabs that are already
# free, and on this host it never got back to its base (it read 8 "alive"
# with no namespace left, 30 s later, even after a shrink).
netns_cleaning() { # true while a kworker runs the netns workqueue
	local f c
	for f in /proc/[0-9]*/comm; do
		read -r c 2>/dev/null < "$f" || continue
		case $c in kworker/*+netns) return 0 ;; esac
	done
	return 1
}

netns_wq_seen() { # the kernel names its netns workers, so the wait can trust them
	local f c
	for f in /proc/[0-9]*/comm; do
		read -r c 2>/dev/null < "$f" || continue
		case $c in kworker/*netns* | netns) return 0 ;; esac
	done
	return 1
}

# settle: wait until the kernel has finished destroying the namespaces of the
# last run: no netns worker busy for SETTLE_QUIET_MS in a row (default 300:
# a namespace's last reference, such as a bind mount, can be dropped a little
# after the process that held it exits), at most SETTLE_MAX seconds (600);
# fails, saying so, if the cleanup never ends. SETTLE_WAITED: the ms it took.
settle() {
	local max=${SETTLE_MAX:-600} q=${SETTLE_QUIET_MS:-300} s t idle=
	netns_wq_seen || { echo "bench: no netns workqueue worker to watch (kernel too old?)" >&2; return 1; }
	s=${EPOCHREALTIME/./}
	while :; do
		t=${EPOCHREALTIME/./}
		if netns_cleaning; then
			idle=
		elif [ -z "$idle" ]; then
			idle=$t
		elif [ $(((t - idle) / 1000)) -ge "$q" ]; then
			break
		fi
		if [ $(((t - s) / 1000000)) -ge "$max" ]; then
			echo "bench: the kernel was still destroying network namespaces after ${max} s" >&2
			return 1
		fi
		sleep 0.025
	done
	SETTLE_WAITED=$(((idle - s) / 1000))
	SETTLE_TOTAL=$((${SETTLE_TOTAL:-0} + SETTLE_WAITED))
}

# cpu_busy: the percentage of both cores' time that was busy over the next
# half second (from /proc/stat; iowait counts as idle)
cpu_busy() {
	local a b
	read -r _ a < /proc/stat
	sleep 0.5
	read -r _ b < /proc/stat
	awk -v a="$a" -v b="$b" 'BEGIN {
		split(a, x, " "); split(b, y, " ")
		for (i in y) { d = y[i] - x[i]; t += d; if (i == 4 || i == 5) idle += d }
		printf "%d", (t > 0 ? 100 * (t - idle) / t : 0) }'
}

# quiet: wait (at most QUIET_MAX seconds, default 60) until the cores are
# busy less than QUIET_BUSY percent (10) over half a second: the machine
# is shared, and a figure taken under someone else's work measures them.
# (The load average is no use here: it still counts this benchmark's own
# last run for a minute after it.) Says so when it gives up.
quiet() {
	local max=${QUIET_MAX:-60} lim=${QUIET_BUSY:-10} s=$SECONDS b
	while b=$(cpu_busy) && [ "$b" -ge "$lim" ]; do
		if [ $((SECONDS - s)) -ge "$max" ]; then
			echo "bench: cores still ${b}% busy after ${max} s; measuring anyway" >&2
			return 0
		fi
	done
}

# in_netns [-m] CMD...: run CMD in a fresh network namespace (-m: and a
# private mount namespace with its own /run/netns and /run/cyris), then
# wait until the kernel has destroyed every namespace CMD made and its own
# (settle), so that the next run starts on a quiet kernel; and before it,
# waits for a quiet machine (quiet). CMD's status is
# kept; a cleanup that never ends makes it 1.
in_netns() {
	local rc mnt=
	[ "${1:-}" = -m ] && { mnt=1; shift; }
	settle || return 1
	quiet
	if [ -n "$mnt" ]; then
		unshare -n -m --propagation private -- bash -c '
			mkdir -p /run/netns /run/cyris &&
			mount -t tmpfs -o mode=0755 bench /run/netns &&
			mount -t tmpfs -o mode=0755 bench /run/cyris && ip link set lo up && exec "$@"' _ "$@"
	else
		unshare -n -- "$@"
	fi
	rc=$?
	settle || return 1
	return $rc
}

