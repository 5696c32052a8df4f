#!/bin/bash
# Every CyRIS example: check, plan (golden JSON), up, probe, show, down —
# with the host exactly as before afterwards.
. "$(dirname "$0")/lib.sh"

for f in "$EXAMPLES"/*.yml; do
	n=$(basename "$f" .yml)
	ok "$n: check" cyris-topo check "$f"
	plan=$(cyris-topo -j -p plan "$f")
	golden=$CYRIS_SRC/tests/dumps/plan-$n.json
	[ -n "${CYRIS_UPDATE_GOLDEN:-}" ] && printf '%s\n' "$plan" > "$golden"
	is "$plan" "$(cat "$golden" 2>/dev/null)" "$n: plan matches tests/dumps/plan-$n.json"
	range=$(echo "$plan" | json .range)
	before=$(host_state)
	# on this host (basic-aws.yml alone would go to AWS: aws-topo.t takes it there)
	ok "$n: up" cyris-topo up "$f" --provider netns
	js=$(cyris-topo -j show "$range")
	is "$(echo "$js" | json '[.networks[] | "\(.name):\(.bridge):\(.subnet):\(.gateway)"] | sort | join(" ")')" \
	   "$(echo "$plan" | json '[.networks[] | "\(.name):\(.bridge):\(.subnet):\(.gateway)"] | sort | join(" ")')" \
	   "$n: show's networks are the plan's (names, bridges, subnets, gateways)"
	is "$(echo "$js" | json '[.guests[] | "\(.netns):\(.nics | map("\(.nic)=\(.network)=\(.ip)=\(.mac)") | join(","))"] | sort | join(" ")')" \
	   "$(echo "$plan" | json '[.guests[] | "\(.name):\(.nics | map("\(.nic)=\(.network)=\(.ip | sub("/.*"; ""))=\(.mac)") | join(","))"] | sort | join(" ")')" \
	   "$n: show's guests are the plan's (names, NICs, networks, addresses, MACs)"
	ok "$n: the kernel has the bridges" bash -c "for b in \$(echo '$plan' | jq -r '.networks[].bridge'); do ip link show \$b >/dev/null || exit 1; done"
	ok "$n: probe: every flow as the rules say" cyris-topo probe "$range"
	ok "$n: ls lists the range" bash -c "$CYRIS_BIN/cyris-topo ls | grep -qx '$range'"
	ok "$n: down" cyris-topo down "$range"
	is "$(host_state)" "$before" "$n: the host is exactly as before"
done
done_testing
