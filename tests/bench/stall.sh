#!/bin/bash
# stall.sh OUT: in a network namespace of its own, add a dummy link with
# `ip link add` (a veth pair, deleted again), in a loop, until killed (SIGTERM);
# the start and end of each `ip link add` and of each `ip link del` (µs since
# the epoch) go to OUT, one operation per line: both wait for RTNL, and a
# loop stuck in an untimed delete would hide the stall.
# The longest operation that overlaps a timed window is the longest wait
# an unrelated netlink user saw during it.
out=$1
exec unshare -n -- bash -c '
	trap "exit 0" TERM
	while :; do
		s=${EPOCHREALTIME/./}
		ip link add bench0 type veth peer name bench1
		e=${EPOCHREALTIME/./}
		ip link del bench0
		d=${EPOCHREALTIME/./}
		echo "$s $e"
		echo "$e $d"
	done > "$1"' _ "$out"
