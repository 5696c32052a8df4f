#!/bin/bash
# Soak: dmz.yml up and down 100 times in a row (20 under valgrind). Every
# cycle comes up whole and goes down whole, and at the end the host is
# exactly as it was before the first one: no link, address, route, rule,
# namespace or runtime file left, and no cyris process still running.
. "$(dirname "$0")/lib.sh"

f=$EXAMPLES/dmz.yml
cycles=100
[ "${CYRIS_VALGRIND:-0}" = 1 ] && cycles=20
want=$(cyris-topo -j plan "$f" | json '.guests | length')
ok "dmz.yml plans guests" test "$want" -ge 1

before=$(host_state)
# (the host locks and the record of the kernel's probes, made by the first
# up of a boot and kept by design, aside)
runtime() { find /run/cyris -mindepth 1 ! -type d ! -name '*.lock' ! -name kernel-checked 2>/dev/null | sort; }
runtime_before=$(runtime)
bad_up=0 bad_down=0 bad_count=0 first=
for ((i = 1; i <= cycles; i++)); do
	if ! out=$(cyris-topo up "$f" 2>&1); then
		bad_up=$((bad_up + 1)); first=${first:-"cycle $i up: $out"}
	fi
	n=$(ls /run/netns | wc -l)
	if [ "$n" != "$want" ]; then
		bad_count=$((bad_count + 1)); first=${first:-"cycle $i: $n namespaces, want $want"}
	fi
	if ! out=$(cyris-topo down 124 2>&1); then
		bad_down=$((bad_down + 1)); first=${first:-"cycle $i down: $out"}
	fi
done
[ -z "$first" ] || diag "first failure: $first"
is "$bad_up" 0 "$cycles cycles: every up succeeded"
is "$bad_count" 0 "  every up made all $want guest namespaces"
is "$bad_down" 0 "  every down succeeded"
is "$(host_state)" "$before" "after $cycles cycles the host is exactly as before"
is "$(runtime)" "$runtime_before" \
	"  and the runtime directory holds nothing new"
# (only this test's: other tests run cyris at the same time, in their own namespaces)
mine=0 me=$(readlink /proc/self/ns/net)
for p in $(pgrep -f "$CYRIS_BIN/cyris-"); do
	[ "$(readlink "/proc/$p/ns/net" 2>/dev/null)" = "$me" ] && mine=$((mine + 1))
done
is "$mine" 0 "  and no cyris process is left running in this namespace"
done_testing
