#!/bin/bash
# An id never starts with '-' (on a command line "-1" is an option) or '.'
# (it names files: a tunnel's state file of range ".a" would be hidden): a range
# file that uses one is refused at FILE:LINE by check and up alike, and the
# tools refuse it as an argument, the same way everywhere.
. "$(dirname "$0")/lib.sh"

T=$(mktemp -d)
trap '_cleanup; rm -rf "$T"' EXIT
sed 's/range_id: 123/range_id: -1/' "$EXAMPLES/basic.yml" > "$T/range.yml"
sed 's/- name: office/- name: -office/' "$EXAMPLES/basic.yml" > "$T/net.yml"
sed 's/range_id: 123/range_id: 1-2/' "$EXAMPLES/basic.yml" > "$T/inner.yml"
sed 's/range_id: 123/range_id: .a/' "$EXAMPLES/basic.yml" > "$T/dot.yml"
line=$(grep -n 'range_id' "$T/range.yml" | cut -d: -f1)
before=$(host_state)

fails_with 1 "^$T/range.yml:$line:[0-9]+: '-1' is not a valid id .*not starting with -" \
	"check: range_id -1" cyris-topo check "$T/range.yml"
fails_with 1 "^$T/range.yml:$line:[0-9]+: '-1' is not a valid id" "up: range_id -1" cyris-topo up "$T/range.yml"
is "$(host_state)" "$before" "  nothing was made"
fails_with 1 "^$T/net.yml:[0-9]+:[0-9]+: '-office' is not a valid id" "check: a network named -office" \
	cyris-topo check "$T/net.yml"
ok "a '-' inside an id is still fine (range 1-2)" cyris-topo check "$T/inner.yml"
fails_with 1 "^$T/dot.yml:$line:[0-9]+: '.a' is not a valid id .*not starting with - or \\." \
	"check: range_id .a" cyris-topo check "$T/dot.yml"
fails_with 2 "'..' is not a range id" "down .." cyris-topo down ..
fails_with 2 "'-1' is not a range id .*not starting with -" "down -- -1" cyris-topo down -- -1
fails_with 2 "unknown option '-1'" "down -1" cyris-topo down -1
fails_with 2 "'-1' is not a range id" "show -- -1" cyris-topo show -- -1
fails_with 2 "range '-1' is not a valid id .*not starting with -" "cyris-fw destroy -- -1" cyris-fw destroy -- -1
done_testing
