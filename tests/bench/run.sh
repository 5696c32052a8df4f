#!/bin/bash
# make bench: every benchmark in tests/bench, one after the other (they
# must not share the two cores). Each writes its tables to
# build/default/bench-results/NAME.md; the tables of each benchmark that
# finished then replace that benchmark's in tests/bench/README.md.
set -u
cd "$(dirname "$0")"
[ "$(id -u)" = 0 ] || { echo "make bench: needs root (namespaces, links, libvirt)" >&2; exit 1; }
out=${BENCH_OUT:-${CYRIS_BUILD:-$(cd ../.. && pwd)/build/default}/bench-results}
rc=0
for b in ${BENCHES:-bench-*.sh}; do
	echo "### $b"
	if bash "./$b"; then
		n=${b#bench-}
		./update-readme.sh README.md "$out" "${n%.sh}" || rc=1
	else
		rc=1
	fi
done
exit $rc
