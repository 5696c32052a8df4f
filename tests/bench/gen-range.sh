#!/bin/bash
# gen-range.sh NETS GUESTS [RANGE]: a CyRIS range file with NETS networks,
# GUESTS clones on each, and a rule from every network to the next.
nets=$1 guests=$2 range=${3:-900}
cat <<H
- host_settings:
  - id: host_1
    mgmt_addr: localhost
    account: cyuser
- guest_settings:
H
for ((i = 0; i < nets; i++)); do
	printf '  - id: g%d\n    basevm_host: host_1\n    basevm_type: kvm\n' $i
done
printf -- '- clone_settings:\n  - range_id: %s\n    hosts:\n    - host_id: host_1\n      instance_number: 1\n      guests:\n' "$range"
for ((i = 0; i < nets; i++)); do
	printf '      - guest_id: g%d\n        number: %d\n' $i "$guests"
	if [ $i = 0 ]; then
		echo "        forwarding_rules:"
		for ((k = 0; k < nets; k++)); do
			printf '        - rule: src=n%d dst=n%d dport=80\n' $k $(((k + 1) % nets))
		done
	fi
done
printf '      topology:\n      - type: custom\n        networks:\n'
for ((i = 0; i < nets; i++)); do
	printf '        - name: n%d\n          members: g%d.eth0\n' $i $i
done
