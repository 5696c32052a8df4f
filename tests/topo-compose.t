#!/bin/bash
# contrib/range.sh builds a range with the single-purpose tools only
# (cyris-topo plan --emit ... | cyris-bridge -b - / cyris-fw apply R -);
# the kernel state is the same as cyris-topo up's.
. "$(dirname "$0")/lib.sh"
export PATH=$CYRIS_BIN:$PATH

for n in dmz full basic; do
	f=$EXAMPLES/$n.yml
	range=$(cyris-topo -j plan "$f" | json .range)
	empty=$(host_state)
	ok "$n: cyris-topo up" cyris-topo up "$f"
	want_host=$(host_state); want_guests=$(guests_state)
	ok "$n: cyris-topo down" cyris-topo down "$range"
	ok "$n: contrib/range.sh up" "$CYRIS_SRC/contrib/range.sh" up "$f"
	is "$(host_state)" "$want_host" "$n: the host's links, addresses, routes, rules are the same"
	is "$(guests_state)" "$want_guests" "$n: every guest's links, addresses, routes, rules are the same"
	ok "$n: cyris-topo probe agrees with the rules" cyris-topo probe "$range"
	ok "$n: contrib/range.sh down" "$CYRIS_SRC/contrib/range.sh" down "$f"
	is "$(host_state)" "$empty" "$n: nothing is left"
done
done_testing
