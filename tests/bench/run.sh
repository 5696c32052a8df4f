#!/bin/bash
# make bench: every benchmark in tests/bench, one after the other (they
# must not share the two cores). Results: build/default/bench-results/*.md
set -u
cd "$(dirname "$0")"
[ "$(id -u)" = 0 ] || { echo "make bench: needs root (namespaces, links, libvirt)" >&2; exit 1; }
rc=0
for b in ${BENCHES:-bench-*.sh}; do
	echo "### $b"
	bash "./$b" || rc=1
done
exit $rc
