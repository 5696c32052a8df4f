#!/bin/bash
# The EC2 client (vm/aws/) against moto, for real: calls, AWS's errors,
# NextToken pages, retries through the fault-injecting proxy, signatures
# checked by moto and compared with botocore's and curl's, credentials by
# the AWS conventions, and no secret in any output.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/aws-lib.sh"

OUT=$AWS_TMP/all-output      # every output of the client, searched for secrets at the end
call() { # aws-call ARGS: stdout to $AWS_TMP/out, stderr to $AWS_TMP/err; its exit code
	"$AWS_CALL" "$@" > "$AWS_TMP/out" 2> "$AWS_TMP/err"
	local rc=$?
	cat "$AWS_TMP/out" "$AWS_TMP/err" >> "$OUT"
	return $rc
}
err() { head -1 "$AWS_TMP/err"; }
errline() { sed -n 2p "$AWS_TMP/err"; }   # code=... errno=... text=...
count_keys() { aws_boto "print(len(ec2.describe_key_pairs(Filters=[{'Name': 'key-name', 'Values': ['$1']}])['KeyPairs']))"; }
count_groups() { aws_boto "print(len(ec2.describe_security_groups(Filters=[{'Name': 'group-name', 'Values': ['$1']}])['SecurityGroups']))"; }

aws_moto_start; is "$?" 0 "moto answers on 127.0.0.1" || { done_testing; exit 1; }

# ---- calls and errors --------------------------------------------------------
ok "DescribeVpcs works" call DescribeVpcs
like "$(cat "$AWS_TMP/out")" '<vpcId>vpc-[0-9a-f]+</vpcId>' "the answer is EC2's XML (a VPC id)"
like "$(tail -1 "$AWS_TMP/out")" '^requests=1$' "one request"

call DescribeSubnets SubnetId.1=subnet-0abc
is "$?" 1 "an unknown subnet fails (exit 1)"
is "$(err)" "aws-call: DescribeSubnets (aws: InvalidSubnetID.NotFound: The subnet ID 'subnet-0abc' does not exist)" \
	"AWS's code and message are kept, once, after the action"
is "$(errline)" "code=InvalidSubnetID.NotFound errno=2 text=InvalidSubnetID.NotFound: The subnet ID 'subnet-0abc' does not exist" \
	"-ENOENT, aws_error_code() and aws_error_text()"

# parameters with spaces, '+', '/', '=', '&' and UTF-8 arrive as they were
name='cyris a+b/c=d&e é'
ok "CreateSecurityGroup with an awkward name" call CreateSecurityGroup "GroupName=$name" "GroupDescription=x y"
is "$(aws_boto "print([g['Description'] for g in ec2.describe_security_groups()['SecurityGroups'] if g['GroupName'] == '$name'])")" \
	"['x y']" "boto3 finds that group, with its name and description exact"

# ---- NextToken -------------------------------------------------------------
aws_boto '
for i in range(12):
    ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1, InstanceType="t3.micro")' >/dev/null 2>&1
ok "DescribeInstances in pages of 5" call --pages DescribeInstances MaxResults=5
is "$(grep -c '^# page' "$AWS_TMP/out")" 3 "12 reservations in pages of 5: 3 pages"
is "$(grep -o '<instanceId>i-[0-9a-f]*</instanceId>' "$AWS_TMP/out" | sort -u | wc -l)" 12 \
	"each of the 12 instances once"
is "$(grep -o '<instanceId>i-[0-9a-f]*</instanceId>' "$AWS_TMP/out" | wc -l)" 12 "and no instance twice"
like "$(grep -c nextToken "$AWS_TMP/out")" '^2$' "two pages carried a nextToken, the last none"

# ---- retries through the proxy ---------------------------------------------
aws_proxy_start --throttle 2; is "$?" 0 "the proxy throttles the first 2 calls"
ok "CreateKeyPair gets through the throttling" call --retry 6,10 CreateKeyPair KeyName=k-throttle
is "$(aws_proxy_stats '"\(.calls) \(.forwarded)"')" "3 1" "3 calls, one forwarded to moto"
is "$(count_keys k-throttle)" 1 "exactly one key pair made"
aws_proxy_stop

aws_proxy_start --error500 1 --drop 1 --throttle 1 --throttle-code Throttling; is "$?" 0 "the proxy answers 500, then drops a connection, then Throttling"
ok "CreateSecurityGroup gets through" call --retry 6,10 CreateSecurityGroup GroupName=g-retry GroupDescription=retry
is "$(aws_proxy_stats '"\(.calls) \(.forwarded)"')" "4 1" "4 calls, one forwarded"
is "$(count_groups g-retry)" 1 "exactly one group made"
aws_proxy_stop

aws_proxy_start --throttle 1000; is "$?" 0 "the proxy throttles every call"
start=$(date +%s%N)
call --retry 3,100 DescribeVpcs
is "$?" 1 "throttled to the end: exit 1"
ms=$((($(date +%s%N) - start) / 1000000))
like "$(err)" 'DescribeVpcs \(after 3 tries\) \(aws: RequestLimitExceeded: injected by aws-proxy\)' \
	"the error says RequestLimitExceeded, after 3 tries"
is "$(aws_proxy_stats .calls)" 3 "the tries are bounded: 3 calls"
ok "it backed off between them (>= 150 ms for 100 ms then 200 ms, jittered to half; took $ms ms)" test "$ms" -ge 150
like "$(errline)" '^code=RequestLimitExceeded errno=11 ' "-EAGAIN"
aws_proxy_stop

# DependencyViolation is the caller's to retry (teardown): the client does not
aws_boto 'ec2.create_security_group(GroupName="g-dep", Description="dep")' >/dev/null
aws_proxy_start --dependency-violation DeleteSecurityGroup; is "$?" 0 "the proxy refuses the first DeleteSecurityGroup"
call DeleteSecurityGroup GroupName=g-dep
is "$?" 1 "DependencyViolation: exit 1"
like "$(errline)" '^code=DependencyViolation errno=16 ' "-EBUSY with the code for the caller"
is "$(aws_proxy_stats .calls)" 1 "not retried by the client"
ok "the caller's second try deletes it" call DeleteSecurityGroup GroupName=g-dep
is "$(count_groups g-dep)" 0 "the group is gone"
aws_proxy_stop

# the proxy's own knobs the teardown tests use: --fail ACTION:N=CODE, and faults set while it runs
aws_proxy_start --fail CreateKeyPair:2=InvalidKeyPair.Duplicate; is "$?" 0 "the proxy fails the 2nd CreateKeyPair"
call CreateKeyPair KeyName=k-fail-1; rc1=$?
call CreateKeyPair KeyName=k-fail-2; rc2=$?
is "$rc1 $rc2 $(errline | cut -d' ' -f1,2)" "0 1 code=InvalidKeyPair.Duplicate errno=17" "the first gets through, the second fails with -EEXIST"
is "$(count_keys k-fail-2)" 0 "and did not reach moto"
python3 -c 'import sys, urllib.request; urllib.request.urlopen(urllib.request.Request(sys.argv[1],
	data=b"{\"throttle\": 1}", method="POST"))' "$PROXY_URL/__proxy__/config"
call --retry 3,10 CreateKeyPair KeyName=k-fail-3
# (boto3's DescribeKeyPairs above went through the proxy too: 5 calls)
is "$?:$(aws_proxy_stats '"\(.calls) \(.forwarded) \(.faults)"')" "0:5 3 2" "POST /__proxy__/config: a throttle set while running, retried"
aws_proxy_stop

# an answer lost after the call was made: the client retries, and a call
# that is not idempotent meets what the first one made (RunInstances'
# ClientToken is the caller's guard)
aws_proxy_start --drop-answer 1; is "$?" 0 "the proxy loses the first answer"
call --retry 3,10 CreateKeyPair KeyName=k-lost
is "$?:$(errline | cut -d' ' -f1)" "1:code=InvalidKeyPair.Duplicate" "the retry meets the key pair the first call made"
is "$(aws_proxy_stats '"\(.calls) \(.forwarded)"'):$(count_keys k-lost)" "2 2:1" "both reached moto, one key pair exists"
aws_proxy_stop

# a change that is not a create, its answer lost after moto did it: the retry
# is told the rule exists already, and that is its success (aws_retry_done);
# the same answer to a first attempt, or after throttling only (which did
# nothing), stays the error it is
G=$(aws_boto 'print(ec2.create_security_group(GroupName="g-idem", Description="idem")["GroupId"])')
rule() { echo GroupId=$G IpPermissions.1.IpProtocol=tcp IpPermissions.1.FromPort=22 IpPermissions.1.ToPort=22 \
	"IpPermissions.1.IpRanges.1.CidrIp=$1"; }
count_rule() { aws_boto "print(sum(1 for p in ec2.describe_security_groups(GroupIds=['$G'])['SecurityGroups'][0]['IpPermissions'] for r in p['IpRanges'] if r['CidrIp'] == '$1'))"; }
ok "AuthorizeSecurityGroupIngress (moto, no proxy)" call AuthorizeSecurityGroupIngress $(rule 10.1.0.0/16)
call AuthorizeSecurityGroupIngress $(rule 10.1.0.0/16)
is "$?:$(errline | cut -d' ' -f1,2)" "1:code=InvalidPermission.Duplicate errno=17" "the same rule again, a first attempt: Duplicate is an error (-EEXIST)"
aws_proxy_start --throttle 1; is "$?" 0 "the proxy throttles the first call"
call --retry 3,10 AuthorizeSecurityGroupIngress $(rule 10.1.0.0/16)
is "$?:$(errline | cut -d' ' -f1)" "1:code=InvalidPermission.Duplicate" "... also after a throttled try (nothing was done): an error"
aws_proxy_stop
aws_proxy_start --drop-answer-of AuthorizeSecurityGroupIngress; is "$?" 0 "the proxy loses the first answer of AuthorizeSecurityGroupIngress"
ok "a new rule through a lost answer: the retry's Duplicate is its success" call --retry 3,10 AuthorizeSecurityGroupIngress $(rule 10.2.0.0/16)
is "$(grep -c '^# no answer: done by an earlier attempt$' "$AWS_TMP/out")" 1 "... said so (no answer to show)"
is "$(aws_proxy_stats '"\(.calls) \(.forwarded)"'):$(count_rule 10.2.0.0/16)" "2 2:1" "... both reached moto, the rule is there once"
aws_proxy_stop
aws_proxy_start --error500-after RevokeSecurityGroupIngress --log "$AWS_TMP/idem.log"; is "$?" 0 "the proxy answers 500 after moto revoked"
ok "a revoke answered 500 after it was done: the retry's NotFound is its success" call --retry 3,10 RevokeSecurityGroupIngress $(rule 10.2.0.0/16)
is "$(jq -r 'select(.action == "RevokeSecurityGroupIngress") | .verdict' "$AWS_TMP/idem.log" | paste -sd' ' -):$(count_rule 10.2.0.0/16)" \
	"done-error500 forwarded:0" "... both reached moto, the rule is gone"
is "$(jq -r 'select(.action == "RevokeSecurityGroupIngress") | .peer' "$AWS_TMP/idem.log" | sort -u | wc -l)" 2 \
	"... the retry went on a new connection (the 500's was still open)"
aws_proxy_stop
call RevokeSecurityGroupIngress $(rule 10.2.0.0/16)
is "$?:$(errline | cut -d' ' -f1,2)" "1:code=InvalidPermission.NotFound errno=2" "a first revoke of a rule not there: NotFound is an error (-ENOENT)"

# ---- requests in parallel (aws_call_many), faults while they are in flight ----
aws_proxy_start --drop 1 --throttle 2 --error500 1; is "$?" 0 "the proxy drops a connection, throttles 2 calls, answers one 500"
many=(); for k in 1 2 3 4 5 6; do many+=(CreateKeyPair "KeyName=k-par-$k" --); done
ok "6 CreateKeyPair at once get through the faults" call --retry 8,10 --many "${many[@]}"
is "$(grep -c '^[1-6] rc=0 code=$' "$AWS_TMP/out")" 6 "each of the 6 succeeded"
is "$(grep '^peak=' "$AWS_TMP/out")" "peak=4" "4 were in flight at once (the bound): the 4 faults hit requests in flight together"
is "$(aws_proxy_stats '"\(.calls) \(.forwarded) \(.faults)"')" "10 6 4" "10 calls: 4 faults, each retried, 6 forwarded"
is "$(aws_boto "print(sorted(k['KeyName'] for k in ec2.describe_key_pairs()['KeyPairs'] if k['KeyName'].startswith('k-par-')))")" \
	"['k-par-1', 'k-par-2', 'k-par-3', 'k-par-4', 'k-par-5', 'k-par-6']" "exactly the 6 key pairs: none twice, none missing"
aws_proxy_stop

# the first failure in the level's order is the one reported, whichever
# answered first (the 4th is refused by the proxy at once, the 2nd by moto),
# and every other request is still waited for
aws_proxy_start --fail DescribeVpcs=InvalidVpcID.NotFound; is "$?" 0 "the proxy refuses DescribeVpcs"
call --retry 3,10 --many CreateKeyPair KeyName=k-ord-1 -- DescribeSubnets SubnetId.1=subnet-0abc -- \
	CreateKeyPair KeyName=k-ord-3 -- DescribeVpcs -- CreateKeyPair KeyName=k-ord-5
is "$?" 1 "a level with two failures: exit 1"
is "$(err)" "aws-call: DescribeSubnets (aws: InvalidSubnetID.NotFound: The subnet ID 'subnet-0abc' does not exist)" \
	"the error is the first failing request's (the 2nd), AWS's code and message exact"
is "$(grep ' rc=' "$AWS_TMP/out" | paste -sd' ' -)" \
	"1 rc=0 code= 2 rc=-2 code=InvalidSubnetID.NotFound 3 rc=0 code= 4 rc=-2 code=InvalidVpcID.NotFound 5 rc=0 code=" \
	"each request has its own result"
is "$(aws_boto "print(sorted(k['KeyName'] for k in ec2.describe_key_pairs()['KeyPairs'] if k['KeyName'].startswith('k-ord-')))")" \
	"['k-ord-1', 'k-ord-3', 'k-ord-5']" "the requests around the failures were made"
aws_proxy_stop

# ---- a bounded answer ------------------------------------------------------
call --max-answer 300 DescribeInstances
is "$?" 1 "an answer over the limit fails"
like "$(err)" 'DescribeInstances: the answer from http://127\.0\.0\.1:[0-9]+/ is larger than 300 bytes: refused' \
	"it says the answer was too large (never cut)"
like "$(errline)" '^code= errno=27 ' "-EFBIG"

# ---- credentials, region, endpoint -----------------------------------------
( unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY; call DescribeVpcs ); rc=$?
is "$rc" 1 "no credentials: exit 1"
is "$(err)" "aws-call: no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or give profile default keys in $AWS_SHARED_CREDENTIALS_FILE" \
	"no credentials: one clear line"
( unset AWS_SECRET_ACCESS_KEY; call DescribeVpcs ); rc=$?
is "$rc:$(err)" "1:aws-call: AWS credentials: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not" \
	"half the keys: says which is missing"
( AWS_PROFILE=nosuch call DescribeVpcs ); rc=$?
is "$rc:$(err)" "1:aws-call: AWS profile nosuch: not in $AWS_SHARED_CREDENTIALS_FILE nor in $AWS_CONFIG_FILE" \
	"an unknown profile: exit 1, names both files"
call --region moon DescribeVpcs
is "$?:$(err)" "1:aws-call: AWS region 'moon': not a region name (us-west-2, eu-central-1)" "a bad region: exit 1, says so"
( AWS_REGION=us-west-2x call DescribeVpcs ); rc=$?
is "$rc:$(err)" "1:aws-call: AWS region 'us-west-2x': not a region name (us-west-2, eu-central-1)" "AWS_REGION is checked the same way"
call --endpoint 'http//127.0.0.1:1' DescribeVpcs
is "$?:$(err)" "1:aws-call: AWS endpoint 'http//127.0.0.1:1': not a URL" "a malformed endpoint URL: exit 1 at open"
call --endpoint 'ftp://127.0.0.1/' DescribeVpcs
is "$?:$(err)" "1:aws-call: AWS endpoint 'ftp://127.0.0.1/': the scheme is not http or https" "an endpoint that is not http(s)"
call --endpoint "http://127.0.0.1:$MOTO_PORT/?x=1" DescribeVpcs
like "$?:$(err)" "^1:aws-call: AWS endpoint .*: a query or fragment in an endpoint URL is not allowed" "an endpoint with a query"
call --endpoint "http://AKIAX:$AWS_SECRET_ACCESS_KEY@127.0.0.1:$MOTO_PORT/" DescribeVpcs
is "$?:$(err)" "1:aws-call: AWS endpoint '(with user information)': user information in an endpoint URL is not allowed" \
	"user information in the URL is refused and not echoed"
port=$(aws_free_port)
call --retry 2,10 --endpoint "http://127.0.0.1:$port" DescribeVpcs
like "$?:$(err)" "^1:aws-call: DescribeVpcs: cannot connect to http://127\.0\.0\.1:$port/: " "nothing listening: exit 1, names the endpoint"
( export AWS_ENDPOINT_URL_EC2=; AWS_ENDPOINT_URL=$MOTO_URL call DescribeVpcs ); rc=$?
is "$rc" 0 "AWS_ENDPOINT_URL is used when AWS_ENDPOINT_URL_EC2 is not set"
printf 'aws_endpoint = %s\n' "$MOTO_URL" > "$CYRIS_CONFIG"
( export AWS_ENDPOINT_URL_EC2=; call DescribeVpcs ); rc=$?
is "$rc" 0 "cyris.conf's aws_endpoint is used when no AWS_ENDPOINT_URL* is set"
: > "$CYRIS_CONFIG"

# a session token is sent, and signed
aws_proxy_start; is "$?" 0 "the proxy logs the requests"
( AWS_SESSION_TOKEN=FwoGZXIvYXdzEXAMPLEtoken call DescribeVpcs ); rc=$?
is "$rc" 0 "a call with AWS_SESSION_TOKEN"
is "$(tail -1 "$AWS_TMP/proxy.log" | jq -r '.headers[] | select(.[0] == "X-Amz-Security-Token") | .[1]')" \
	"FwoGZXIvYXdzEXAMPLEtoken" "X-Amz-Security-Token is sent"
like "$(tail -1 "$AWS_TMP/proxy.log" | jq -r '.headers[] | select(.[0] == "Authorization") | .[1]')" \
	'SignedHeaders=content-type;host;x-amz-date;x-amz-security-token,' "and signed"
aws_proxy_stop

# ---- signatures checked by moto --------------------------------------------
aws_auth_on; is "$?" 0 "moto checks signatures from now on (an IAM user and key made first)"
( export AWS_ACCESS_KEY_ID=$AWS_REAL_KEY_ID AWS_SECRET_ACCESS_KEY=$AWS_REAL_SECRET; call DescribeVpcs ); rc=$?
is "$rc" 0 "moto accepts the client's signature"
( export AWS_ACCESS_KEY_ID=$AWS_REAL_KEY_ID AWS_SECRET_ACCESS_KEY=$AWS_REAL_SECRET
  call CreateSecurityGroup "GroupName=signed $name" "GroupDescription=a b" ); rc=$?
is "$rc" 0 "and over a body with spaces, '+', '/', '&', '=' and UTF-8"
( export AWS_ACCESS_KEY_ID=$AWS_REAL_KEY_ID AWS_SECRET_ACCESS_KEY=wrongSecret0123456789; call DescribeVpcs ); rc=$?
is "$rc" 1 "a wrong secret: exit 1"
is "$(err)" "aws-call: DescribeVpcs (aws: AuthFailure: AWS was not able to validate the provided access credentials)" \
	"a wrong secret: AuthFailure, one clear line"
like "$(errline)" '^code=AuthFailure errno=13 ' "-EACCES"

# keys from a profile: the credentials file, and a [profile x] in the config file
printf '[other]\naws_access_key_id = AKIAWRONG\naws_secret_access_key = wrong\n[lab]\naws_access_key_id = %s\naws_secret_access_key = %s\n' \
	"$AWS_REAL_KEY_ID" "$AWS_REAL_SECRET" > "$AWS_SHARED_CREDENTIALS_FILE"
printf '[profile lab]\nregion = eu-west-1\n' > "$AWS_CONFIG_FILE"
( unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION; AWS_PROFILE=lab call DescribeVpcs ); rc=$?
is "$rc" 0 "AWS_PROFILE=lab: keys from the credentials file accepted by moto"
( unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION; AWS_PROFILE=lab call DescribeAvailabilityZones ); rc=$?
like "$rc:$(grep -o '<regionName>[^<]*' "$AWS_TMP/out" | sort -u | tr '\n' ' ')" '^0:<regionName>eu-west-1 $' \
	"the region came from [profile lab] in the config file"
: > "$AWS_SHARED_CREDENTIALS_FILE"
printf '[profile cfg]\naws_access_key_id = %s\naws_secret_access_key = %s\n' "$AWS_REAL_KEY_ID" "$AWS_REAL_SECRET" > "$AWS_CONFIG_FILE"
( unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY; call --profile cfg DescribeVpcs ); rc=$?
is "$rc" 0 "keys in the config file's [profile cfg] are used"
printf '[profile role]\nrole_arn = arn:aws:iam::123456789012:role/x\nsource_profile = cfg\n' > "$AWS_CONFIG_FILE"
( unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY; AWS_PROFILE=role call DescribeVpcs ); rc=$?
is "$rc:$(err)" "1:aws-call: AWS profile role: role_arn is not supported: give it aws_access_key_id and aws_secret_access_key" \
	"a role profile is refused by name"
: > "$AWS_CONFIG_FILE"

# the header set really sent, signed the same by botocore
aws_proxy_start; is "$?" 0 "the proxy logs, moto checks"
( export AWS_ACCESS_KEY_ID=$AWS_REAL_KEY_ID AWS_SECRET_ACCESS_KEY=$AWS_REAL_SECRET
  call DescribeSecurityGroups "Filter.1.Name=group-name" "Filter.1.Value.1=signed $name" ); rc=$?
is "$rc" 0 "a filtered Describe through the proxy, accepted"
resign() { # LOG-LINE: botocore's Authorization for the request logged, signed over the same headers
	python3 - "$1" "$AWS_REAL_KEY_ID" "$AWS_REAL_SECRET" <<-'EOF'
	import json, sys
	from botocore.auth import SigV4Auth
	from botocore.awsrequest import AWSRequest
	from botocore.credentials import Credentials
	req = json.loads(sys.argv[1])
	h = dict(req["headers"])
	signed = h["Authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
	scope = h["Authorization"].split("Credential=")[1].split(",")[0].split("/")
	r = AWSRequest(method=req["method"], url="http://" + h["Host"] + req["path"], data=req["body"].encode())
	for k, v in req["headers"]:
	    if k.lower() in signed and k.lower() != "host":
	        r.headers[k] = v
	r.context["timestamp"] = h["X-Amz-Date"]
	a = SigV4Auth(Credentials(sys.argv[2], sys.argv[3]), scope[3], scope[2])
	cr = a.canonical_request(r)
	print("AWS4-HMAC-SHA256 Credential=%s, SignedHeaders=%s, Signature=%s" % (
	    a.scope(r), a.signed_headers(a.headers_to_sign(r)),
	    a.signature(a.string_to_sign(r, cr), r)))
	EOF
}
line=$(tail -1 "$AWS_TMP/proxy.log")
sent=$(jq -r '.headers[] | select(.[0] == "Authorization") | .[1]' <<< "$line")
like "$sent" 'SignedHeaders=content-type;host;x-amz-date, ' "the client signs Content-Type, Host and X-Amz-Date"
is "$(jq -r '.headers[] | select(.[0] == "Content-Type") | .[1]' <<< "$line")" \
	"application/x-www-form-urlencoded; charset=utf-8" "with the charset it sends"
is "$(resign "$line")" "$sent" "botocore's SigV4Auth signs that request the same"

# curl --aws-sigv4's request, signed the same by the client
curl -s --aws-sigv4 "aws:amz:us-east-1:ec2" --user "$AWS_REAL_KEY_ID:$AWS_REAL_SECRET" \
	-H 'Content-Type: application/x-www-form-urlencoded; charset=utf-8' \
	-d 'Action=DescribeVpcs&Version=2016-11-15' "$PROXY_URL/" > "$AWS_TMP/curl.out"
line=$(tail -1 "$AWS_TMP/proxy.log")
csent=$(jq -r '.headers[] | select(.[0] == "Authorization") | .[1]' <<< "$line")
like "$csent" 'SignedHeaders=content-type;host;x-amz-date, ' "curl --aws-sigv4 signed the same header set"
date=$(jq -r '.headers[] | select(.[0] == "X-Amz-Date") | .[1]' <<< "$line")
host=$(jq -r '.headers[] | select(.[0] == "Host") | .[1]' <<< "$line")
mine=$(AWS_ACCESS_KEY_ID=$AWS_REAL_KEY_ID AWS_SECRET_ACCESS_KEY=$AWS_REAL_SECRET "$AWS_CALL" --sign POST / "" "$date" \
	us-east-1 ec2 'Action=DescribeVpcs&Version=2016-11-15' \
	"Content-Type: application/x-www-form-urlencoded; charset=utf-8" "Host: $host" "X-Amz-Date: $date")
is "$mine" "$csent" "the client's signer gives curl's signature for curl's request"
aws_proxy_stop

# ---- no secret in any output -----------------------------------------------
for s in "$AWS_SECRET_ACCESS_KEY" "$AWS_REAL_SECRET" wrongSecret0123456789 FwoGZXIvYXdzEXAMPLEtoken; do
	ok "a secret (${s:0:4}...) appears in no output of the client" bash -c '! grep -qF -- "$1" "$2"' _ "$s" "$OUT"
done
ok "nor in moto's view of the requests' URLs" bash -c '! grep -qF -- "$1" "$2"' _ "$AWS_REAL_SECRET" "$AWS_TMP/moto.log"

done_testing
