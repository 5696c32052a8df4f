#!/bin/bash
# AWS benchmark, against moto on this namespace's loopback (tests/aws-lib.sh),
# through the fault-free proxy that counts the requests:
#   (a) cyris-topo up contrib/cyris-examples/dmz.yml --provider aws, and down
#   (b) tests/bench/aws-boto.py: the same resources with boto3, one call per
#       resource, tags in a second call, down by one describe and one delete
#       per resource (as the Python system does)
# interleaved, $RUNS runs each, on the same server in the same run: wall time
# of up and down and the number of API requests each made.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/aws-lib.sh"

DMZ=$CYRIS_SRC/contrib/cyris-examples/dmz.yml
export CYRIS_RUNTIME_DIR=$AWS_TMP/run
mkdir -m 700 "$CYRIS_RUNTIME_DIR"
aws_moto_start || { echo "bench-aws: moto does not start" >&2; exit 1; }
aws_proxy_start || { echo "bench-aws: the proxy does not start" >&2; exit 1; }
AMI=$(aws_boto 'print(sorted(i["ImageId"] for i in ec2.describe_images(Owners=["amazon"])["Images"])[0])')
calls() { aws_proxy_stats .calls; }

declare -A T N
run() { # VARIANT up|down: its wall time (ms) and request count appended
	local v=$1 what=$2 ms c0 c1
	c0=$(calls)
	case $v/$what in
	a/up) timed ms "$CYRIS_BIN/cyris-topo" up "$DMZ" --provider aws --image "$AMI" --ssh-from 192.0.2.0/24 ;;
	a/down) timed ms "$CYRIS_BIN/cyris-topo" down 124 --provider aws ;;
	b/up) timed ms python3 "$BENCH_DIR/aws-boto.py" up b124 "$AMI" 192.0.2.0/24 ;;
	b/down) timed ms python3 "$BENCH_DIR/aws-boto.py" down b124 ;;
	esac
	[ "$timed_rc" = 0 ] || exit 1
	c1=$(calls)
	T[$v$what]="${T[$v$what]:-} $ms"
	N[$v$what]=$((c1 - c0))
}
echo "== aws: dmz.yml up and down against moto, $RUNS runs, variants interleaved"
for ((r = 0; r < RUNS; r++)); do
	for v in a b; do run $v up; run $v down; done
done
declare -A M
for k in aup adown bup bdown; do M[$k]=$(median ${T[$k]}); done
{
	echo "### A range on EC2 (moto): cyris vs boto3 one call per resource"
	echo
	echo "Machine: $(machine). moto $(python3 -c 'import moto; print(moto.__version__)') on 127.0.0.1, requests counted at tests/helpers/aws-proxy.py in front of it; \`cyris-topo up contrib/cyris-examples/dmz.yml --provider aws\` (3 networks, 5 instances, 6 groups, routes through the firewall, an entry point) and \`down\`, against \`tests/bench/aws-boto.py\` making the same resources; median of $RUNS runs, interleaved."
	echo
	echo "| | up ms | vs boto3 | up requests | down ms | vs boto3 | down requests |"
	echo "|---|---:|---:|---:|---:|---:|---:|"
	echo "| (a) \`cyris-topo --provider aws\` | ${M[aup]} | $(ratio "${M[aup]}" "${M[bup]}") | ${N[aup]} | ${M[adown]} | $(ratio "${M[adown]}" "${M[bdown]}") | ${N[adown]} |"
	echo "| (b) boto3, one call per resource | ${M[bup]} | 1.00 | ${N[bup]} | ${M[bdown]} | 1.00 | ${N[bdown]} |"
	echo
	echo "Targets: fewer requests than (b), wall time <= 0.5 x (b)."
} | tee "$BENCH_OUT/aws.md"
