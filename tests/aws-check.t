#!/bin/bash
# The AWS preflight (vm/aws/check.c: cyris-check --provider aws) against
# moto: "ready" only when a create would get through; each way it is not
# (no credentials, refused credentials, no endpoint, a region the endpoint
# does not serve, the VPC quota used up, a configured VPC or subnet that is
# not there) fails its own item.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/aws-lib.sh"

check() { "$AWS_CALL" --check "${1:-needed}" > "$AWS_TMP/check" 2>&1; }
item() { grep "^$1 " "$AWS_TMP/check"; }
vpcs() { aws_boto 'print(len(ec2.describe_vpcs()["Vpcs"]))'; }

aws_moto_start; is "$?" 0 "moto answers" || { done_testing; exit 1; }

before=$(vpcs)
check; is "$?" 0 "moto with the test's keys: ready"
like "$(item aws_creds)" '^aws_creds ok needed: from environment \(AWS_ACCESS_KEY_ID\), accepted$' "credentials found and accepted"
like "$(item aws_endpoint)" "^aws_endpoint ok needed: $MOTO_URL/ answers$" "the endpoint answers"
like "$(item aws_region)" '^aws_region ok needed: us-east-1 is offered \([0-9]+ regions offered\)$' "the region is offered"
like "$(item aws_vpc_quota)" "^aws_vpc_quota ok needed: $before of 5 VPCs in us-east-1 used$" "the VPC quota is read (vpc-max and the VPCs there)"
like "$(item aws_create)" '^aws_create ok needed: CreateVpc got through \(the endpoint ignores DryRun: vpc-[0-9a-f]+ was made and deleted again\)$' \
	"a CreateVpc got through"
is "$(vpcs)" "$before" "and left no VPC behind"

# another provider asked about: nothing is sent
aws_proxy_start; is "$?" 0 "a proxy counts the calls"
check other; is "$?" 0 "for another provider: nothing needed fails"
like "$(cat "$AWS_TMP/check")" '^aws_creds ok -: from environment \(AWS_ACCESS_KEY_ID\) \(the endpoint is asked with --provider aws only\)' \
	"only the credentials are looked up"
is "$(aws_proxy_stats .calls)" 0 "and no request reaches the endpoint"
aws_proxy_stop

# the quota used up
aws_boto "
for i in range(5 - $before):
    ec2.create_vpc(CidrBlock='10.%d.0.0/16' % (100 + i))"
check; is "$?" 1 "5 of 5 VPCs: not ready (exit 1)"
is "$(item aws_vpc_quota)" "aws_vpc_quota FAILED needed: 5 of 5 VPCs in us-east-1 used: a range cannot get its VPC" \
	"the quota item says why"

# a configured VPC and subnet that are not there
printf 'aws_vpc_id = vpc-0123456789abcdef0\naws_subnet_id = subnet-0abc\n' > "$CYRIS_CONFIG"
check; is "$?" 1 "a configured VPC and subnet that do not exist: not ready"
like "$(item aws_vpc_id)" "^aws_vpc_id FAILED needed: vpc-0123456789abcdef0: InvalidVpcID.NotFound: " "the VPC item names it"
is "$(item aws_subnet_id)" "aws_subnet_id FAILED needed: subnet-0abc: InvalidSubnetID.NotFound: The subnet ID 'subnet-0abc' does not exist" \
	"the subnet item names it, with AWS's message"
: > "$CYRIS_CONFIG"

# no credentials; no endpoint; a region the endpoint does not serve
( unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY; check ); rc=$?
is "$rc" 1 "no credentials: not ready"
like "$(item aws_creds)" '^aws_creds FAILED needed: no AWS credentials: ' "the credentials item says so"
like "$(item aws_endpoint)" '^aws_endpoint FAILED needed: not checked: no client$' "the rest is not checked, and not ready"
port=$(aws_free_port)
( AWS_ENDPOINT_URL_EC2=http://127.0.0.1:$port check ); rc=$?
is "$rc" 1 "nothing listening at the endpoint: not ready"
like "$(item aws_endpoint)" "^aws_endpoint FAILED needed: http://127\.0\.0\.1:$port/ \(region us-east-1\): cannot connect to " \
	"the endpoint item names it"
( AWS_REGION=xx-nowhere-1 check ); rc=$?
is "$rc" 1 "a region moto does not serve: not ready"
like "$(grep FAILED "$AWS_TMP/check" | head -1)" '^aws_(endpoint|region) FAILED needed: .*xx-nowhere-1' "it names the region"

# refused credentials
aws_auth_on; is "$?" 0 "moto checks signatures"
( export AWS_ACCESS_KEY_ID=$AWS_REAL_KEY_ID AWS_SECRET_ACCESS_KEY=wrongSecret0123456789; check ); rc=$?
is "$rc" 1 "a wrong secret: not ready"
is "$(item aws_creds)" "aws_creds FAILED needed: from environment (AWS_ACCESS_KEY_ID), refused: AuthFailure: AWS was not able to validate the provided access credentials" \
	"the credentials item says they were refused"
like "$(item aws_endpoint)" '^aws_endpoint ok needed: ' "while the endpoint answers"
ok "the secret is not in the output" bash -c '! grep -qF wrongSecret0123456789 "$1"' _ "$AWS_TMP/check"
( export AWS_ACCESS_KEY_ID=$AWS_REAL_KEY_ID AWS_SECRET_ACCESS_KEY=$AWS_REAL_SECRET; check ); rc=$?
is "$rc" 1 "the real key, quota still used up: not ready"
like "$(item aws_creds)" '^aws_creds ok needed: .*accepted$' "the real key is accepted"

done_testing
