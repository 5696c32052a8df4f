# tests/lib.sh — shared by the shell tests; source it first thing:
#
#     . "$(dirname "$0")/lib.sh"
#
# It re-runs the test inside fresh network and mount namespaces (unshare -nm
# as root, unshare -Urnm otherwise) with a private /run/netns, so a test
# never sees or touches the host's interfaces, rules or namespaces, and
# everything it made disappears with it. Output is TAP. When the private
# /run/netns or /run/cyris cannot be mounted, the file is skipped (a
# failure with CI=true) rather than touch the host's directories.
#
# Real packets (tests/helpers/netcheck; its header lists the exit codes):
#   can PROTO NS ADDR PORT      a round trip works ("-" = this namespace)
#   cannot PROTO NS ADDR PORT   a DROP: nothing at all came back within
#                               $CAN_MS (no answer, no RST, no ICMP error);
#                               a refusal, an unreachable or a usage error
#                               fails it
#   refused PROTO NS ADDR PORT  a host answered that nothing listens there
#                               (TCP RST, ICMP port unreachable for UDP)
#   unreachable PROTO NS ADDR PORT  no route, or an ICMP host/net
#                               unreachable came back
#   fw_drops RANGE[@NS][,...]   packets counted so far by the drop rules of
#                               table inet cyris_RANGE (here, or in NS: a
#                               gateway guest's table), summed
#   nft_drops                   the same sum, over the nft -j output on stdin
#   cannot_fw RANGE[@NS][,...] PROTO NS ADDR PORT  a drop (as cannot) that
#                               those tables did: a drop counter moved
#   dropped_by RANGE[@NS][,...] CMD...  CMD succeeds and a drop counter of
#                               those tables moved meanwhile
#   unpingable NS ADDR          one ping from NS: no reply and no ICMP error
#   no_icmp_ratelimit [NS]      ICMP errors unlimited here (or in NS); done
#                               for the test's namespace and by netns_add,
#                               so that a rate-limited refusal never passes
#                               for a drop. A drop the firewall makes is told
#                               by its counter: prefer cannot_fw.
# TAP: plan, ok, is, like, unlike, exits, fails_with, skip, diag, and
#   todo REASON DESC CMD...     as ok, for a known defect ("# TODO REASON":
#                               its failure does not fail the file)
# Waiting for things (never a bare sleep):
#   listen_in NS tcp:P udp:P .. an answering service in NS ("-" = here),
#                               returns once it listens (a FIFO handshake)
#   wait_for SECONDS CMD...     poll CMD until it succeeds; fails (saying
#                               what it waited for) when SECONDS pass

set -u
TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CYRIS_SRC=${CYRIS_SRC:-$(dirname "$TESTS_DIR")}
CYRIS_BUILD=${CYRIS_BUILD:-$CYRIS_SRC/build/default}
CYRIS_BIN=${CYRIS_BIN:-$CYRIS_BUILD/bin}
export CYRIS_SRC CYRIS_BUILD CYRIS_BIN

_tap_n=0
_tap_failed=0
_tap_planned=

in_ci() { [ "${CI:-}" = true ]; }

# skip_all REASON: skip the whole file (a failure in CI).
skip_all() {
	if in_ci; then
		echo "1..1"
		echo "not ok 1 - skipped in CI: $*"
		exit 1
	fi
	echo "1..0 # SKIP $*"
	exit 0
}

if [ -z "${CYRIS_IN_NS:-}" ]; then
	export CYRIS_IN_NS=1
	if [ "$(id -u)" = 0 ]; then
		exec unshare --net --mount --propagation private -- bash "$0" "$@"
	elif unshare -Urnm true 2>/dev/null; then
		exec unshare -Urnm --propagation private -- bash "$0" "$@"
	fi
	skip_all "cannot create network namespaces here"
fi

# Inside: a private /run/netns (and /run/cyris) for this test alone. If
# either cannot be mounted, the test would add to and delete from the
# host's own directory: skip instead (a failure in CI).
if mkdir -p /run/netns 2>/dev/null; then
	mount -t tmpfs -o mode=755 cyris-test /run/netns 2>/dev/null ||
		skip_all "cannot mount a private tmpfs on /run/netns"
else
	{ mount -t tmpfs -o mode=755 cyris-test /run 2>/dev/null && mkdir -p /run/netns; } ||
		skip_all "cannot mount a private tmpfs on /run"
fi
{ mkdir -p /run/cyris 2>/dev/null && mount -t tmpfs -o mode=755 cyris-test /run/cyris 2>/dev/null; } ||
	skip_all "cannot mount a private tmpfs on /run/cyris"
ip link set lo up
# No ICMP rate limit here and in the namespaces netns_add makes: a limited
# "port unreachable" would make a refusal look like a drop to netcheck.
no_icmp_ratelimit() { # [NS]
	${1:+ip netns exec "$1"} sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0 >/dev/null 2>&1
	return 0
}
no_icmp_ratelimit

plan() { _tap_planned=$1; echo "1..$1"; }
diag() { printf '# %s\n' "$*"; }

ok() { # ok DESC CMD...: passes when CMD exits 0; its output is shown on failure
	local desc=$1 out rc; shift
	_tap_n=$((_tap_n + 1))
	out=$("$@" 2>&1)
	rc=$?
	if [ $rc = 0 ]; then
		echo "ok $_tap_n - $desc"
	else
		echo "not ok $_tap_n - $desc"
		[ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/#   /'
		_tap_failed=$((_tap_failed + 1))
		return 1
	fi
}

is() { # is GOT WANT DESC
	_tap_n=$((_tap_n + 1))
	if [ "$1" = "$2" ]; then
		echo "ok $_tap_n - $3"
	else
		echo "not ok $_tap_n - $3"
		diag "  got:  '$1'"
		diag "  want: '$2'"
		_tap_failed=$((_tap_failed + 1))
		return 1
	fi
}

like() { # like GOT ERE DESC
	_tap_n=$((_tap_n + 1))
	if printf '%s' "$1" | grep -Eq -- "$2"; then
		echo "ok $_tap_n - $3"
	else
		echo "not ok $_tap_n - $3"
		diag "  got:  '$1'"
		diag "  want: /$2/"
		_tap_failed=$((_tap_failed + 1))
		return 1
	fi
}

unlike() { # unlike GOT ERE DESC
	_tap_n=$((_tap_n + 1))
	if printf '%s' "$1" | grep -Eq -- "$2"; then
		echo "not ok $_tap_n - $3"
		diag "  got:  '$1'"
		diag "  not:  /$2/"
		_tap_failed=$((_tap_failed + 1))
		return 1
	fi
	echo "ok $_tap_n - $3"
}

exits() { # exits CODE DESC CMD...: passes when CMD exits with CODE
	local want=$1 desc=$2 got; shift 2
	"$@" >/dev/null 2>&1
	got=$?
	is "$got" "$want" "$desc (exit $want)"
}

fails_with() { # fails_with CODE ERE DESC CMD...: CMD exits CODE, its first stderr line matches
	local code=$1 pat=$2 desc=$3 err got; shift 3
	err=$("$@" 2>&1 >/dev/null)
	got=$?
	is "$got" "$code" "$desc: exit $code"
	like "$(echo "$err" | head -1)" "$pat" "$desc: says so"
}

todo() { # todo REASON DESC CMD...: as ok, for a known defect: TAP's "# TODO"
	# keeps a failure from failing the file, and prove reports a pass
	local why=$1 desc=$2 out rc; shift 2
	_tap_n=$((_tap_n + 1))
	out=$("$@" 2>&1)
	rc=$?
	if [ $rc = 0 ]; then
		echo "ok $_tap_n - $desc # TODO $why"
	else
		echo "not ok $_tap_n - $desc # TODO $why"
		[ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/#   /'
		return 1
	fi
}

skip() { # skip DESC REASON
	_tap_n=$((_tap_n + 1))
	if in_ci; then
		echo "not ok $_tap_n - $1 # skipped in CI: $2"
		_tap_failed=$((_tap_failed + 1))
	else
		echo "ok $_tap_n - $1 # SKIP $2"
	fi
}

done_testing() {
	[ -n "$_tap_planned" ] || echo "1..$_tap_n"
	if [ -n "$_tap_planned" ] && [ "$_tap_planned" != "$_tap_n" ]; then
		diag "planned $_tap_planned tests, ran $_tap_n"
		exit 1
	fi
	[ "$_tap_failed" = 0 ]
	exit $?
}

# The tools, run under valgrind when CYRIS_VALGRIND=1.
run_tool() {
	local t=$1; shift
	if [ "${CYRIS_VALGRIND:-0}" = 1 ]; then
		valgrind -q --error-exitcode=99 --leak-check=full \
			--errors-for-leak-kinds=definite,indirect \
			"$CYRIS_BIN/$t" "$@"
	else
		"$CYRIS_BIN/$t" "$@"
	fi
}
for _t in cyris-bridge cyris-fw cyris-topo cyris-vm cyris-tunnel cyris-check cyris-aws; do
	eval "$_t() { run_tool $_t \"\$@\"; }"
done
unset _t

# tool_path NAME: a path to run tool NAME by (for `env`, `&` and signals,
# where a shell function does not do): the binary itself, or under
# CYRIS_VALGRIND=1 a script that execs it under valgrind (exec: the pid is
# the tool's, so signals reach it).
tool_path() {
	if [ "${CYRIS_VALGRIND:-0}" = 1 ]; then
		local d=/tmp/cyris-tools.$$
		mkdir -p -m 700 "$d" && printf '#!/bin/sh\nexec valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect "%s" "$@"\n' \
			"$CYRIS_BIN/$1" > "$d/$1" && chmod +x "$d/$1" && echo "$d/$1"
	else
		echo "$CYRIS_BIN/$1"
	fi
}

# Kernel state, for "changed nothing" checks: links (name, kind, master,
# alias, group, admin up/down) of the current namespace, one per line,
# sorted. (Not operstate: the kernel settles that asynchronously.)
links_state() {
	ip -j -d link show "$@" | jq -r '.[] | [.ifname, (.linkinfo.info_kind // "-"),
		(.master // "-"), (.ifalias // "-"), (.group // "-"),
		(if (.flags | index("UP")) then "up" else "down" end)] | @tsv' | sort
}

# json QUERY: run jq -r QUERY over stdin
json() { jq -r "$@"; }
# what a pass of the kernel's probes is recorded as (net/topo/check.c): this
# boot, and the mount and user namespaces it was probed in
kernel_record() {
	echo "$(cat /proc/sys/kernel/random/boot_id) mnt:$(stat -L -c %i /proc/self/ns/mnt) user:$(stat -L -c %i /proc/self/ns/user)"
}

# Namespaces made here live in the private /run/netns and die with the test.
netns_add() { ip netns add "$1" && ip -n "$1" link set lo up && no_icmp_ratelimit "$1"; }

# Background processes to kill at exit.
_bg_pids=
bg_track() { _bg_pids="$_bg_pids $1"; }
_cleanup() {
	local p
	for p in $_bg_pids; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "/tmp/cyris-tools.$$"
}
trap _cleanup EXIT

# ---- guests and real packets (tests/helpers/netcheck) ----------------------
NETCHECK=$CYRIS_BUILD/tests/helpers/netcheck

# guest_add NS BRIDGE ADDR/LEN [GATEWAY]: a namespace on BRIDGE through a
# cyris veth, with its address and default route.
guest_add() {
	local ns=$1 br=$2 addr=$3 gw=${4:-} host="vh-$1"
	netns_add "$ns" || return 1
	"$CYRIS_BIN/cyris-bridge" veth "${host:0:15}" peer eth0 peer-netns "$ns" master "$br" >/dev/null || return 1
	ip -n "$ns" addr add "$addr" dev eth0 || return 1
	[ -z "$gw" ] || ip -n "$ns" route add default via "$gw"
}

# listen_in NS tcp:PORT udp:PORT ...: an answering service in NS ("-" =
# this namespace), killed at exit; returns once it listens
listen_in() {
	local ns=$1 fifo line; shift
	fifo=$(mktemp -u)
	mkfifo "$fifo"
	if [ "$ns" = - ]; then
		"$NETCHECK" listen "$@" > "$fifo" &
	else
		ip netns exec "$ns" "$NETCHECK" listen "$@" > "$fifo" &
	fi
	bg_track $!
	# (the read returns at "listening", or at EOF when the listener died)
	read -r -t 30 line < "$fifo"
	rm -f "$fifo"
	[ "$line" = listening ]
}

# wait_for SECONDS CMD...: run CMD every 50 ms until it succeeds; when
# SECONDS pass first, say what did not happen and fail. For state that can
# only be polled (a file appearing, a process gone); an event a tool
# announces on a pipe is waited for by reading that pipe.
wait_for() {
	local secs=$1 end; shift
	end=$(($(date +%s%N) / 1000000 + secs * 1000))
	until "$@" >/dev/null 2>&1; do
		if [ $(($(date +%s%N) / 1000000)) -ge "$end" ]; then
			echo "wait_for: not within ${secs}s: $*" >&2
			return 1
		fi
		sleep 0.05
	done
}

# _netcheck PROTO FROM_NS ADDR PORT: netcheck connect's exit code (see
# tests/helpers/netcheck.c: 0 answered, 1 timed out, 3 refused, 4 unreachable)
_netcheck() {
	local proto=$1 ns=$2 addr=$3 port=$4
	if [ "$ns" = - ]; then
		"$NETCHECK" connect "$proto" "$addr" "$port" "${CAN_MS:-700}" >/dev/null 2>&1
	else
		ip netns exec "$ns" "$NETCHECK" connect "$proto" "$addr" "$port" "${CAN_MS:-700}" >/dev/null 2>&1
	fi
}
_netcheck_is() { # _netcheck_is WANT PROTO FROM_NS ADDR PORT
	local want=$1 rc; shift
	_netcheck "$@"
	rc=$?
	[ "$rc" = "$want" ] && return 0
	case $rc in
	0) echo "$*: answered" ;; 1) echo "$*: timed out (dropped)" ;;
	3) echo "$*: refused" ;; 4) echo "$*: unreachable" ;;
	*) echo "$*: netcheck failed (exit $rc)" ;;
	esac
	return 1
}
# can PROTO FROM_NS ADDR PORT: a round trip works ("-" = this namespace)
can() { _netcheck_is 0 "$@"; }
# cannot PROTO FROM_NS ADDR PORT: a drop, nothing came back at all
cannot() { _netcheck_is 1 "$@"; }
# refused PROTO FROM_NS ADDR PORT: RST, or ICMP port unreachable (UDP)
refused() { _netcheck_is 3 "$@"; }
# unreachable PROTO FROM_NS ADDR PORT: no route, or ICMP host/net unreachable
unreachable() { _netcheck_is 4 "$@"; }

# fw_drops RANGE[@NS][,RANGE[@NS]...]: the packets the drop rules of the
# tables inet cyris_RANGE have counted (0 when they have none), in this
# namespace or, with @NS, in namespace NS (a gateway guest's own table)
fw_drops() {
	local r n=0 k
	for r in ${1//,/ }; do
		case $r in
		*@*) k=$(ip netns exec "${r#*@}" nft -j list table inet "cyris_${r%@*}" 2>/dev/null) ;;
		*) k=$(nft -j list table inet "cyris_$r" 2>/dev/null) ;;
		esac
		k=$(echo "$k" | nft_drops)
		n=$((n + ${k:-0}))
	done
	echo "$n"
}
# nft_drops: the packets counted by the drop rules in the nft -j output on stdin
nft_drops() {
	jq '[.nftables[]? | select(.rule) | .rule.expr | select(any(.[]; has("drop"))) |
		.[] | .counter?.packets // empty] | add // 0' 2>/dev/null
}
# cannot_fw RANGE[@NS][,...] PROTO FROM_NS ADDR PORT: a drop, and a range's
# firewall is what dropped it (a drop counter of one of those tables moved;
# name both ranges where both tables see the flow)
cannot_fw() { local r=$1; shift; dropped_by "$r" cannot "$@"; }
# dropped_by RANGE[@NS][,...] CMD...: CMD succeeds, and a drop counter of
# those tables moved while it ran
dropped_by() {
	local range=$1 before after; shift
	before=$(fw_drops "$range")
	"$@" || return 1
	after=$(fw_drops "$range")
	[ "$after" -gt "$before" ] && return 0
	echo "$*: no drop rule of $range counted it ($before -> $after)"
	return 1
}
# unpingable NS ADDR: an echo request from NS goes unanswered, and no ICMP
# error comes back either (a drop)
unpingable() {
	local out rc
	out=$(ip netns exec "$1" ping -c1 -W1 "$2" 2>&1)
	rc=$?
	[ $rc = 1 ] && ! printf '%s\n' "$out" | grep -Eq '^(From |[0-9]+ bytes from)' && return 0
	printf '%s\n' "$out"
	return 1
}
# answer PROTO FROM_NS ADDR PORT: the peer address the service saw
answer() {
	ip netns exec "$2" "$NETCHECK" connect "$1" "$3" "$4" "${CAN_MS:-700}" 2>/dev/null | cut -d' ' -f1
}
pings() { ip netns exec "$1" ping -c1 -W1 "$2" >/dev/null 2>&1; }

# The nftables ruleset as JSON without counters (traffic changes those).
ruleset() { nft -j list ruleset | jq -cS 'del(.. | .counter?)'; }

# Everything a range could leave behind in this namespace, for "the host is
# exactly as before" checks: links, addresses, routes, rules, namespaces.
host_state() {
	links_state
	# (not link-local addresses: they follow the kernel's random MACs)
	ip -j addr show | jq -r '.[] | .ifname as $i | .addr_info[]? | select(.scope != "link") |
		"\($i) \(.local)/\(.prefixlen)"' | sort
	ip -j route show table all 2>/dev/null | jq -r '.[] | select((.dst | test("^(fe80|ff00)")) | not) |
		"\(.dst) \(.dev // "-") \(.gateway // "-")"' | sort
	nft -j list ruleset | jq -cS 'del(.. | .handle?) | del(.. | .counter?)'
	ls /run/netns 2>/dev/null | sort
	ls /run/cyris/netns 2>/dev/null | sed 's/^/record /' | sort
}

EXAMPLES=$CYRIS_SRC/contrib/cyris-examples

# Inside every namespace in /run/netns: links (MACs of tagged NICs, which
# are planned), addresses, routes, forwarding, rules.
guests_state() {
	local ns
	for ns in $(ls /run/netns 2>/dev/null | sort); do
		echo "== $ns"
		ip -n "$ns" -j link show | jq -r '.[] | [.ifname, (.ifalias // "-"), (if .ifalias then .address else "-" end), .operstate] | @tsv' | sort
		ip -n "$ns" -j addr show | jq -r '.[] | .ifname as $i | .addr_info[]? | "\($i) \(.local)/\(.prefixlen)"' | sort
		ip -n "$ns" -j route show | jq -r '.[] | "\(.dst) \(.dev) \(.gateway // "-") \(.protocol // "-")"' | sort
		ip netns exec "$ns" sh -c 'for f in /proc/sys/net/ipv4/conf/eth*/forwarding; do [ -e "$f" ] && echo "$f $(cat $f)"; done'
		ip netns exec "$ns" nft -j list ruleset | jq -cS 'del(.. | .handle?) | del(.. | .counter?)'
	done
}
