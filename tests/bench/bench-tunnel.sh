#!/bin/bash
# Tunnel benchmark: one 256 MiB transfer each way and connection set-up
# latency (connect + one byte there and back, median of 100) through
#   (a) cyris-tunnel            libssh, in-process, one poll loop
#   (b) ssh -N -L (OpenSSH)     the same forwards, the same cipher
#   (c) no tunnel               the range host itself talking to the guest:
#                               what the path costs without SSH
# on the same namespaces (tests/tunnel-lib.sh: trainee -> this namespace
# -> range host's sshd -> guest), variants interleaved, in the same run.
# Both SSH variants use aes128-gcm@openssh.com (checked, not assumed).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib.sh"
settle || exit 1   # the namespaces of the benchmark before have gone
. "$TESTS_DIR/tunnel-lib.sh"

SIZE=${SIZE:-256M}
TRUNS=${TRUNS:-5}
LRUNS=${LRUNS:-3}
sshd_start || { echo "bench-tunnel: sshd does not start" >&2; exit 1; }
guest_start || { echo "bench-tunnel: no guest service" >&2; exit 1; }

# (a) three tunnels: sink, source, echo
tunnel_open bench 2300 8 && tunnel_open bench 2301 9 && tunnel_open bench 2302 7 || exit 1
# (b) OpenSSH, the same three forwards on one session
ssh -F /dev/null -N -v -E "$TMP/ssh.log" -o BatchMode=yes -o StrictHostKeyChecking=yes \
	-o UserKnownHostsFile="$TMP/known_hosts" -o ExitOnForwardFailure=yes \
	-c aes128-gcm@openssh.com -i "$TMP/id_user" \
	-L "$LADDR:3300:$GUEST:8" -L "$LADDR:3301:$GUEST:9" -L "$LADDR:3302:$GUEST:7" "root@$RH" &
bg_track $!
wait_for 10 bash -c "ss -Hltn 'sport = :3302' | grep -q ." || { echo "bench-tunnel: ssh -L did not start" >&2; exit 1; }
c_cipher=$(cyris-tunnel -j list bench | jq -r '.tunnels[0].cipher')
s_cipher=$(sed -n 's/.*kex: client->server cipher: \([^ ]*\).*/\1/p' "$TMP/ssh.log" | head -1)
[ "$c_cipher" = "$s_cipher" ] || { echo "bench-tunnel: ciphers differ: $c_cipher vs $s_cipher" >&2; exit 1; }

# field VAR KEY LINE: the number after KEY= in LINE
field() { local -n _v=$1; _v=$(sed -n "s/.* $2=\([0-9.]*\).*/\1/p" <<< "$3"); [ -n "$_v" ]; }
xfer() { # xfer VARIANT upload|download: MiB/s of one transfer
	local out v
	case $1 in
	a) out=$(in_trainee "$TCPIO" "$2" $LADDR $([ "$2" = upload ] && echo 2300 || echo 2301) "$SIZE") ;;
	b) out=$(in_trainee "$TCPIO" "$2" $LADDR $([ "$2" = upload ] && echo 3300 || echo 3301) "$SIZE") ;;
	c) out=$(ip netns exec rh "$TCPIO" "$2" $GUEST $([ "$2" = upload ] && echo 8 || echo 9) "$SIZE") ;;
	esac || { echo "bench-tunnel: $1 $2 failed: $out" >&2; exit 1; }
	field v mib_s "$out" && echo "$v"
}
lat() { # lat VARIANT: median microseconds of 100 set-ups
	local out v
	case $1 in
	a) out=$(in_trainee "$TCPIO" latency $LADDR 2302 100) ;;
	b) out=$(in_trainee "$TCPIO" latency $LADDR 3302 100) ;;
	c) out=$(ip netns exec rh "$TCPIO" latency $GUEST 7 100) ;;
	esac || { echo "bench-tunnel: $1 latency failed: $out" >&2; exit 1; }
	field v median_us "$out" && echo "$v"
}
fmedian() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

declare -A U D L
echo "== tunnel: $SIZE up and down, $TRUNS runs; latency: $LRUNS x 100 set-ups; variants interleaved"
for ((r = 0; r < TRUNS; r++)); do
	for v in a b c; do
		U[$v]="${U[$v]:-} $(xfer $v upload)" || exit 1
		D[$v]="${D[$v]:-} $(xfer $v download)" || exit 1
	done
done
for ((r = 0; r < LRUNS; r++)); do
	for v in a b c; do L[$v]="${L[$v]:-} $(lat $v)" || exit 1; done
done
declare -A mu md ml
for v in a b c; do
	mu[$v]=$(fmedian ${U[$v]}); md[$v]=$(fmedian ${D[$v]}); ml[$v]=$(fmedian ${L[$v]})
done
rss=$(awk '/^VmHWM/ { print $2 }' "/proc/$(tunnel_json bench 2300 pid)/status")
cyris-tunnel close bench >/dev/null

{
	echo "### Tunnels: cyris-tunnel vs \`ssh -N -L\`"
	echo
	echo "Machine: $(machine). Trainee namespace -> tunnel -> sshd (OpenSSH, range-host namespace) -> guest namespace, veth links; cipher $c_cipher for both. Throughput: median of $TRUNS transfers of $SIZE each way, every byte checked; set-up: connect + 1 byte echoed, median of 100, median of $LRUNS runs. Variants interleaved."
	echo
	echo "| | upload MiB/s | vs ssh | download MiB/s | vs ssh | set-up µs | vs ssh |"
	echo "|---|---:|---:|---:|---:|---:|---:|"
	echo "| (a) \`cyris-tunnel\` | ${mu[a]} | $(ratio "${mu[a]}" "${mu[b]}") | ${md[a]} | $(ratio "${md[a]}" "${md[b]}") | ${ml[a]} | $(ratio "${ml[a]}" "${ml[b]}") |"
	echo "| (b) \`ssh -N -L\` | ${mu[b]} | 1.00 | ${md[b]} | 1.00 | ${ml[b]} | 1.00 |"
	echo "| (c) no tunnel (range host -> guest) | ${mu[c]} | $(ratio "${mu[c]}" "${mu[b]}") | ${md[c]} | $(ratio "${md[c]}" "${md[b]}") | ${ml[c]} | $(ratio "${ml[c]}" "${ml[b]}") |"
	echo
	echo "Targets: throughput >= 0.80 x OpenSSH, set-up <= 1.20 x. Peak RSS of the tunnel daemon: $((rss / 1024)) MiB ($rss KiB)."
} | tee "$BENCH_OUT/tunnel.md"
