#!/bin/bash
# The demo (`sudo make demo`): CyRIS's dmz.yml becomes a running range —
# a firewall guest routing between three networks, four guests, the
# forwarding rules enforced, an entry point — then is probed with real
# packets and taken down. Run by make demo inside a network namespace of
# its own, so the host's interfaces and rules are never touched.
set -u
bin=${CYRIS_BIN:-$(dirname "$0")/../build/default/bin}
file=${1:-$(dirname "$0")/cyris-examples/dmz.yml}
export PATH=$bin:$PATH

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "cyris-topo check $file"
cyris-topo check "$file" || exit 1
range=$(cyris-topo -j plan "$file" | jq -r .range)

say "cyris-topo up (range $range)"
start=${EPOCHREALTIME/./}
cyris-topo up "$file" || exit 1
echo "(built in $(( (${EPOCHREALTIME/./} - start) / 1000 )) ms)"

say "cyris-topo show $range"
cyris-topo show "$range"

say "cyris-fw show $range (the host's table)"
cyris-fw show "$range" | head -20

say "cyris-topo probe $range: each allowed flow and a sample of denied ones, with real packets"
cyris-topo probe "$range"
probe=$?

say "cyris-topo down $range"
cyris-topo down "$range"
left=$(cyris-topo ls; ip -o link show | grep -v ': lo:'; ls /run/netns 2>/dev/null; nft list tables)
if [ -n "$left" ]; then
	echo "left behind:"; echo "$left"
	exit 1
fi
echo "nothing left behind"
exit $probe
