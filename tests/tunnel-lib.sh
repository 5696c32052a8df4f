# tests/tunnel-lib.sh — the world of the tunnel tests, sourced after lib.sh.
#
#   this namespace (lib.sh's)   runs cyris-tunnel             10.66.1.1, 10.66.3.1
#   rh       the range host     sshd on 10.66.1.2:22           10.66.1.2, 10.66.2.1
#   guest    behind rh          tcpio: echo 7, sink 8, source 9   10.66.2.2
#   trainee  the client side    connects to 10.66.3.1:PORT      10.66.3.2
#
# This namespace has no route to 10.66.2.0/24: whatever reaches the guest
# went through the SSH server. sshd runs with a host key and an authorized
# key generated here; HOME points into the test's directory so that nothing
# of root's ~/.ssh is read or written.

TMP=$(mktemp -d /tmp/cyris-tunnel-test.XXXXXX)
export HOME=$TMP/home
mkdir -p "$HOME" && chmod 700 "$HOME"
unset SSH_AUTH_SOCK
export CYRIS_RUNTIME_DIR=/run/cyris
TCPIO=$CYRIS_BUILD/tests/helpers/tcpio
RH=10.66.1.2
GUEST=10.66.2.2
LADDR=10.66.3.1
SSHD_PID=
GUEST_PID=

[ "$(id -u)" = 0 ] || skip_all "sshd needs root"
[ -x /usr/sbin/sshd ] || skip_all "no /usr/sbin/sshd (make deps installs openssh-server)"
command -v ssh-keygen >/dev/null || skip_all "no ssh-keygen (openssh-client)"
[ -x "$TCPIO" ] || skip_all "no $TCPIO (make)"

# Every process started here is killed at exit, and so is any tunnel
# recorded in this test's private runtime directory.
_tunnel_cleanup() {
	local f p
	for f in /run/cyris/tunnels/*.json; do
		[ -e "$f" ] || continue
		p=$(jq -r .pid "$f" 2>/dev/null)
		# only a process of this namespace holding the recorded socket
		[ -n "$p" ] && [ -d "/proc/$p" ] &&
			[ "$(readlink "/proc/$p/ns/net")" = "$(readlink /proc/self/ns/net)" ] &&
			kill "$p" 2>/dev/null
	done
	_cleanup
	rm -rf "$TMP"
}
trap _tunnel_cleanup EXIT

veth() { # veth NS-A IF-A ADDR-A NS-B IF-B ADDR-B ("-" = this namespace)
	local na=$1 ia=$2 aa=$3 nb=$4 ib=$5 ab=$6
	ip link add "$ia" type veth peer name "$ib" || return 1
	[ "$na" = - ] || ip link set "$ia" netns "$na"
	[ "$nb" = - ] || ip link set "$ib" netns "$nb"
	_ns_ip "$na" addr add "$aa" dev "$ia" && _ns_ip "$na" link set "$ia" up &&
		_ns_ip "$nb" addr add "$ab" dev "$ib" && _ns_ip "$nb" link set "$ib" up
}
_ns_ip() { local ns=$1; shift; if [ "$ns" = - ]; then ip "$@"; else ip -n "$ns" "$@"; fi; }

netns_add rh && netns_add guest && netns_add trainee || skip_all "cannot create namespaces"
veth - v-rh 10.66.1.1/24 rh eth0 10.66.1.2/24 &&
	veth rh v-guest 10.66.2.1/24 guest eth0 10.66.2.2/24 &&
	veth - v-tr 10.66.3.1/24 trainee eth0 10.66.3.2/24 || skip_all "cannot create veth pairs"

ssh-keygen -q -t ed25519 -N '' -C cyris-test-host -f "$TMP/host_key" || skip_all "ssh-keygen failed"
ssh-keygen -q -t ed25519 -N '' -C cyris-test-user -f "$TMP/id_user"
cp "$TMP/id_user.pub" "$TMP/authorized_keys"
# a known_hosts with the real host key, as an administrator would have it
echo "$RH $(cut -d' ' -f1,2 "$TMP/host_key.pub")" > "$TMP/known_hosts"

cat > "$TMP/sshd_config" <<EOF
ListenAddress $RH:22
HostKey $TMP/host_key
PidFile none
AuthorizedKeysFile $TMP/authorized_keys
StrictModes no
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
AllowTcpForwarding yes
PermitOpen any
MaxStartups 200
LogLevel VERBOSE
EOF

# sshd_start [HOSTKEY]: start sshd in rh and wait until it listens
sshd_start() {
	local key=${1:-$TMP/host_key}
	mkdir -p /run/sshd && chmod 755 /run/sshd
	ip netns exec rh /usr/sbin/sshd -D -e -f "$TMP/sshd_config" -h "$key" \
		>>"$TMP/sshd.log" 2>&1 &
	SSHD_PID=$!
	bg_track "$SSHD_PID"
	wait_for 30 _sshd_settled
	ip netns exec rh ss -Hltn "sport = :22" | grep -q . && return 0
	echo "sshd did not start:" >&2
	cat "$TMP/sshd.log" >&2
	return 1
}

# sshd listens, or is gone (then waiting longer is no use)
_sshd_settled() {
	ip netns exec rh ss -Hltn "sport = :22" | grep -q . || ! kill -0 "$SSHD_PID" 2>/dev/null
}

# sshd_stop: kill sshd and every session process it forked (all of them
# are in rh, and nothing else runs there)
sshd_stop() {
	local p
	for p in $(ip netns pids rh); do kill "$p" 2>/dev/null; done
	for p in $(seq 50); do
		[ -z "$(ip netns pids rh)" ] && return 0
		sleep 0.05
	done
	for p in $(ip netns pids rh); do kill -9 "$p" 2>/dev/null; done
}

guest_start() {
	ip netns exec guest "$TCPIO" serve "$GUEST" 7 >>"$TMP/guest.log" 2>&1 &
	GUEST_PID=$!
	bg_track "$GUEST_PID"
	wait_for 30 _guest_listens
}
_guest_listens() { [ "$(ip netns exec guest ss -Hltn | wc -l)" -ge 3 ]; }

in_trainee() { ip netns exec trainee "$@"; }

# topen ARGS...: cyris-tunnel open ARGS, its stderr shown as usual. The
# daemon's stderr is /dev/null, but under valgrind the daemon keeps
# valgrind's copy of the original stderr for its report: that copy goes to
# a file of its own (so that no $(...) waits on it for ever), and
# daemons_clean checks those files once the daemons have exited.
_topen_n=0
topen() {
	local f rc
	_topen_n=$((_topen_n + 1))
	f=$TMP/open.$_topen_n.err
	cyris-tunnel open "$@" 2>>"$f"
	rc=$?
	cat "$f" >&2
	return $rc
}
daemons_clean() { # valgrind records other than "possibly lost" (which the
	# suite's valgrind options do not count as errors either), per process
	! cat "$TMP"/open.*.err 2>/dev/null | awk '
		function flush(p) { if (rec[p] != "" && rec[p] !~ /possibly lost|^Warning: /) printf "%s", rec[p]; rec[p] = "" }
		match($0, /^==[0-9]+==/) { p = substr($0, 1, RLENGTH); t = substr($0, RLENGTH + 1); sub(/^ /, "", t)
			if (t == "") flush(p); else rec[p] = rec[p] p " " t "\n" }
		END { for (p in rec) flush(p) }' | grep .
}

# tunnel_open R PORT TARGETPORT [ARGS...]: open a tunnel from LADDR:PORT
tunnel_open() {
	local r=$1 port=$2 tport=$3; shift 3
	topen "$r" --via "root@$RH" --listen "$LADDR:$port" --to "$GUEST:$tport" \
		--identity "$TMP/id_user" --known-hosts "$TMP/known_hosts" "$@"
}

# tunnel_json R PORT KEY: one key of one tunnel, from list -j
tunnel_json() {
	cyris-tunnel -j list "$1" | jq -r --arg l "$LADDR:$2" ".tunnels[] | select(.listen == \$l) | .$3"
}

# the processes of this namespace whose command line runs cyris-tunnel
tunnel_pids() {
	local p me
	me=$(readlink /proc/self/ns/net)
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/ns/net" 2>/dev/null)" = "$me" ] || continue
		tr '\0' ' ' < "$p/cmdline" 2>/dev/null | grep -q 'cyris-tunnel open' && echo "${p#/proc/}"
	done
}

# proc_gone PID: the process has exited (a zombie not yet reaped by init
# counts as exited)
proc_gone() {
	[ ! -d "/proc/$1" ] || [ "$(awk '/^State:/ { print $2 }' "/proc/$1/status" 2>/dev/null)" = Z ]
}

# conns_is R PORT N: list -j shows N open connections on that tunnel
conns_is() { [ "$(tunnel_json "$1" "$2" connections)" = "$3" ]; }
