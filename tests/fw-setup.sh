# Shared by the fw tests (sourced after lib.sh): this namespace is the
# "host" of two ranges with gateway addresses on their bridges and
# forwarding on; every network has guest namespaces; a "client" sits
# outside, on an uplink that belongs to no range.
sysctl -qw net.ipv4.ip_forward=1
sysctl -qw net.ipv6.conf.all.forwarding=1
fw_setup() {
	local b
	for n in office:1 internal:2 external:3; do
		b=$(cyris-bridge add range 124 net ${n%:*} addr 10.124.${n#*:}.1/24) || return 1
		eval "br_${n%:*}=$b"
	done
	br_lab=$(cyris-bridge add range 200 net lab addr 10.200.1.1/24) || return 1
	guest_add desk "$br_office" 10.124.1.10/24 10.124.1.1 &&
	guest_add db "$br_internal" 10.124.2.10/24 10.124.2.1 &&
	guest_add fs "$br_internal" 10.124.2.11/24 10.124.2.1 &&
	guest_add mail "$br_external" 10.124.3.10/24 10.124.3.1 &&
	guest_add b1 "$br_lab" 10.200.1.10/24 10.200.1.1 || return 1
	# the outside world: a client on an uplink
	netns_add client
	ip link add up0 type veth peer name eth0 netns client
	ip addr add 192.0.2.1/24 dev up0 && ip link set up0 up
	ip -n client addr add 192.0.2.50/24 dev eth0 && ip -n client link set eth0 up
	ip -n client route add default via 192.0.2.1
	for g in desk db fs mail b1 client; do
		listen_in $g tcp:22 tcp:25 tcp:53 tcp:3306 udp:53 udp:3306 || return 1
	done
}
# the host's own services (this namespace)
host_listen() { listen_in - tcp:8080 udp:53 tcp:53; }
