#!/bin/sh
# udhcpc event script of the fast test guest
case $1 in
bound|renew)
	ip addr flush dev "$interface"
	ip addr add "$ip/${mask:-24}" dev "$interface"
	[ -z "$router" ] || { ip route add default via "${router%% *}" dev "$interface"; ping -i 1 "${router%% *}" > /dev/null 2>&1 & }
	;;
esac
exit 0
