# tests/aws-lib.sh — the world of the AWS tests, sourced after lib.sh.
#
# moto (a Python EC2 emulator, with boto3 beside it, under the default
# python3) runs on a free port of this test's own loopback (lib.sh's
# network namespace): nothing here can reach the internet. Without moto
# the file is skipped, and with CI=true it fails instead.
#
#   aws_moto_start              start moto, wait until it answers; sets
#                               MOTO_PORT, MOTO_URL, MOTO_PID and points
#                               AWS_ENDPOINT_URL_EC2 at it
#   aws_proxy_start [FAULT]...  tests/helpers/aws-proxy.py in front of moto
#                               (its options are the faults it injects);
#                               sets PROXY_PORT, PROXY_URL, PROXY_PID and
#                               points AWS_ENDPOINT_URL_EC2 at it
#   aws_proxy_stop              stop it (the endpoint is moto again)
#   aws_proxy_stats [JQ]        its counters (GET /__proxy__/stats), through jq
#   aws_boto PYTHON             run a boto3 snippet with `ec2` (a client of
#                               the endpoint in use) and `iam` (moto's)
#   aws_auth_on                 an IAM user with a key in moto, then moto's
#                               signature checking switched on; sets
#                               AWS_REAL_KEY_ID and AWS_REAL_SECRET
#   AWS_CALL ACTION K=V...      tests/helpers/aws-call (one client call)
#   aws_range_world             for the tests of whole ranges: T and A (the
#                               paths of cyris-topo and cyris-aws, under
#                               valgrind with CYRIS_VALGRIND=1), DMZ, a
#                               CYRIS_RUNTIME_DIR of the test's own
#   inspect ARGS... / tagged R  tests/helpers/aws-inspect.py (boto3) on moto
#
# The environment a test starts from: fake keys, region us-east-1, no
# profile, and AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE in the test's
# directory (so that root's ~/.aws is never read). Every process started
# here is killed by its pid at exit.

AWS_TMP=$(mktemp -d /tmp/cyris-aws-test.XXXXXX)
AWS_CALL=$CYRIS_BUILD/tests/helpers/aws-call
AWS_PROXY=$CYRIS_SRC/tests/helpers/aws-proxy.py
INSPECT=$CYRIS_SRC/tests/helpers/aws-inspect.py
MOTO_PID=
PROXY_PID=

python3 -c 'import moto, boto3, moto.server' 2>/dev/null ||
	skip_all "python3 cannot import moto and boto3 (pip install 'moto[server]' boto3)"
[ -x "$AWS_CALL" ] || skip_all "no $AWS_CALL (make)"

_aws_cleanup() {
	[ -z "$PROXY_PID" ] || kill "$PROXY_PID" 2>/dev/null
	[ -z "$MOTO_PID" ] || kill "$MOTO_PID" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$AWS_TMP"
}
trap '_aws_cleanup; _cleanup' EXIT

unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_DEFAULT_REGION AWS_ENDPOINT_URL \
	AWS_ENDPOINT_URL_EC2 AWS_SECURITY_TOKEN
export HOME=$AWS_TMP/home
mkdir -p "$HOME"
export AWS_ACCESS_KEY_ID=AKIATESTCYRIS0000001
export AWS_SECRET_ACCESS_KEY=cyrisTestSecret/0123456789+abcdefABCDEF
export AWS_REGION=us-east-1
export AWS_SHARED_CREDENTIALS_FILE=$AWS_TMP/credentials
export AWS_CONFIG_FILE=$AWS_TMP/config
export CYRIS_CONFIG=$AWS_TMP/cyris.conf
: > "$CYRIS_CONFIG"

# A free TCP port on 127.0.0.1 (the kernel's choice; closed again at once).
aws_free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

_aws_answers() { # URL: an HTTP answer at all
	python3 - "$1" <<-'EOF'
	import sys, urllib.request, urllib.error
	try:
	    urllib.request.urlopen(sys.argv[1], timeout=2)
	except urllib.error.HTTPError:
	    pass
	EOF
}

aws_moto_start() {
	MOTO_PORT=$(aws_free_port) || return 1
	python3 -m moto.server -H 127.0.0.1 -p "$MOTO_PORT" > "$AWS_TMP/moto.log" 2>&1 &
	MOTO_PID=$!
	MOTO_URL=http://127.0.0.1:$MOTO_PORT
	wait_for 60 _aws_answers "$MOTO_URL/moto-api/" || { cat "$AWS_TMP/moto.log" >&2; return 1; }
	export AWS_ENDPOINT_URL_EC2=$MOTO_URL
}

aws_proxy_start() {
	rm -f "$AWS_TMP/proxy.port"
	python3 "$AWS_PROXY" --upstream "$MOTO_URL" --port-file "$AWS_TMP/proxy.port" \
		--log "$AWS_TMP/proxy.log" "$@" 2> "$AWS_TMP/proxy.err" &
	PROXY_PID=$!
	wait_for 30 test -s "$AWS_TMP/proxy.port" || { cat "$AWS_TMP/proxy.err" >&2; return 1; }
	PROXY_PORT=$(cat "$AWS_TMP/proxy.port")
	PROXY_URL=http://127.0.0.1:$PROXY_PORT
	wait_for 30 _aws_answers "$PROXY_URL/__proxy__/stats" || return 1
	export AWS_ENDPOINT_URL_EC2=$PROXY_URL
}

aws_proxy_stop() {
	[ -z "$PROXY_PID" ] || { kill "$PROXY_PID" 2>/dev/null; wait "$PROXY_PID" 2>/dev/null; }
	PROXY_PID=
	export AWS_ENDPOINT_URL_EC2=$MOTO_URL
}

aws_proxy_stats() { # [JQ]
	python3 -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1]).read().decode())' \
		"$PROXY_URL/__proxy__/stats" | jq -r "${1:-.}"
}

# aws_boto PYTHON: `ec2` and `iam` are boto3 clients of moto (ec2 of the
# endpoint in use), with the test's keys.
aws_boto() {
	python3 -c '
import os, sys, boto3
kw = dict(region_name=os.environ["AWS_REGION"],
          aws_access_key_id=os.environ.get("BOTO_KEY_ID", os.environ["AWS_ACCESS_KEY_ID"]),
          aws_secret_access_key=os.environ.get("BOTO_SECRET", os.environ["AWS_SECRET_ACCESS_KEY"]))
ec2 = boto3.client("ec2", endpoint_url=os.environ["AWS_ENDPOINT_URL_EC2"], **kw)
iam = boto3.client("iam", endpoint_url=os.environ["MOTO_URL"], **kw)
exec(sys.argv[1])' "$1"
}

aws_auth_on() {
	local keys
	keys=$(MOTO_URL=$MOTO_URL aws_boto '
import json
iam.create_user(UserName="cyris-test")
iam.put_user_policy(UserName="cyris-test", PolicyName="all", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
k = iam.create_access_key(UserName="cyris-test")["AccessKey"]
print(k["AccessKeyId"], k["SecretAccessKey"])') || return 1
	read -r AWS_REAL_KEY_ID AWS_REAL_SECRET <<< "$keys"
	# from now on every request must carry a valid signature
	python3 -c 'import sys, urllib.request; urllib.request.urlopen(urllib.request.Request(sys.argv[1],
		data=b"0", headers={"Content-Type": "text/plain"}, method="POST"))' "$MOTO_URL/moto-api/reset-auth"
}

export MOTO_URL

aws_range_world() {
	T=$(tool_path cyris-topo)
	A=$(tool_path cyris-aws)
	DMZ=$CYRIS_SRC/contrib/cyris-examples/dmz.yml
	export CYRIS_RUNTIME_DIR=$AWS_TMP/run
	mkdir -p -m 700 "$CYRIS_RUNTIME_DIR"
}
inspect() { AWS_ENDPOINT_URL=$MOTO_URL python3 "$INSPECT" "$@"; }
tagged() { inspect tagged "$1"; }
