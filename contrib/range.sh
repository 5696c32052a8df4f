#!/bin/bash
# contrib/range.sh up|down FILE — a CyRIS range up and down with the
# single-purpose tools only: the plan cyris-topo computes, piped into
# cyris-bridge -b -, cyris-fw apply R -, and cyris-vm for VM guests.
# The result is the same kernel state as `cyris-topo up FILE` (a test
# proves it: tests/topo-compose.t).
#
#   contrib/range.sh up contrib/cyris-examples/dmz.yml
#   contrib/range.sh down contrib/cyris-examples/dmz.yml
set -euo pipefail
[ $# = 2 ] || { echo "usage: $0 up|down FILE" >&2; exit 2; }
action=$1 file=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Plan once, before anything exists: every later step uses these files.
cyris-topo -j plan "$file" > "$work/plan.json"
range=$(jq -r .range "$work/plan.json")

case $action in
up)
	cyris-topo plan "$file" --emit bridge > "$work/bridge"
	cyris-topo plan "$file" --emit fw > "$work/fw.host"
	for gw in $(jq -r '.guests[] | select(.gateway and .local) | .name' "$work/plan.json"); do
		cyris-topo plan "$file" --emit fw --gateway "$gw" > "$work/fw.$gw"
	done
	# networks, guests (namespaces, veths, addresses, routes)
	cyris-bridge -b "$work/bridge"
	# the host's policy, then each gateway guest's
	cyris-fw apply "$range" "$work/fw.host"
	for gw in $(jq -r '.guests[] | select(.gateway and .local) | .name' "$work/plan.json"); do
		cyris-fw -n "$gw" apply "$range" "$work/fw.$gw"
	done
	# entry points
	jq -r '.entry_points[] | "\(.host_port) \(.ip) \(.port)"' "$work/plan.json" |
	while read -r hport ip port; do
		cyris-fw expose "$range" "$hport" to "$ip:$port"
	done
	;;
down)
	cyris-fw destroy "$range" || true
	cyris-bridge destroy range "$range"
	for ns in $(cyris-bridge netns list range "$range"); do
		cyris-bridge netns del "$ns"
	done
	;;
*)
	echo "usage: $0 up|down FILE" >&2
	exit 2
	;;
esac
