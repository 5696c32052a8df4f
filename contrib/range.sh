#!/bin/bash
# contrib/range.sh up|down FILE [netns|libvirt] — a CyRIS range up and down
# with the single-purpose tools only: the plan cyris-topo computes, piped
# into cyris-bridge -b -, cyris-fw apply R -, and (libvirt) cyris-vm -b -.
# The result is the same state as `cyris-topo up FILE --provider P` (tests
# prove it: tests/topo-compose.t, tests/vm-topo.t).
#
#   contrib/range.sh up contrib/cyris-examples/dmz.yml
#   contrib/range.sh down contrib/cyris-examples/dmz.yml
#
# CYRIS_NETNS=NS runs the host's side in namespace NS (as -n NS).
set -euo pipefail
usage() { echo "usage: $0 up|down FILE [netns|libvirt]" >&2; exit 2; }
[ $# = 2 ] || [ $# = 3 ] || usage
action=$1 file=$2 provider=${3:-netns}
case $provider in netns|libvirt) ;; *) usage ;; esac
n=${CYRIS_NETNS:+-n $CYRIS_NETNS}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Plan once, before anything exists: every later step uses these files.
cyris-topo $n -j plan "$file" > "$work/plan.json"
range=$(jq -r .range "$work/plan.json")

case $action in
up)
	gateways=$(jq -r '.guests[] | select(.gateway and .local) | .name' "$work/plan.json")
	cyris-topo $n plan "$file" --emit bridge --provider "$provider" > "$work/bridge"
	cyris-topo $n plan "$file" --emit fw > "$work/fw.host"
	for gw in $gateways; do
		cyris-topo $n plan "$file" --emit fw --gateway "$gw" > "$work/fw.$gw"
		if [ "$provider" = libvirt ] && grep -v '^uplink ' "$work/fw.$gw" | grep -q '^[^#]'; then
			# as cyris-topo up: a VM enforces its rules itself (and
			# has no uplink guard: that needs rules in the guest)
			echo "$0: $gw is a gateway with rules: not with libvirt guests" >&2
			exit 1
		fi
	done
	# networks; netns guests (namespaces, veths, addresses, routes)
	cyris-bridge $n -b "$work/bridge"
	# the host's policy, then each gateway guest's
	cyris-fw $n apply "$range" "$work/fw.host"
	if [ "$provider" = netns ]; then
		for gw in $gateways; do
			cyris-fw -n "$gw" apply "$range" "$work/fw.$gw"
		done
	else
		# VM guests, one batch over one libvirt connection
		cyris-topo $n plan "$file" --emit vm | cyris-vm $n -b -
	fi
	# entry points
	jq -r '.entry_points[] | "\(.host_port) \(.ip) \(.port) \(if .snat then "snat" else "" end)"' "$work/plan.json" |
	while read -r hport ip port snat; do
		cyris-fw $n expose "$range" "$hport" to "$ip:$port" $snat
	done
	;;
down)
	# as cyris-topo down: the firewall last, so that what is left when this
	# stops half way is still isolated
	if [ "$provider" = libvirt ]; then
		cyris-vm $n destroy --range "$range"
	fi
	cyris-bridge $n destroy range "$range"
	for ns in $(cyris-bridge netns list range "$range"); do
		cyris-bridge netns del "$ns"
	done
	cyris-fw $n destroy "$range" || true
	;;
*)
	usage
	;;
esac
