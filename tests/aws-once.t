#!/bin/bash
# A range on EC2 comes up exactly once (moto, checked by boto3): two ups
# of one range at the same moment (cyris-topo up, cyris-aws -b) -> one
# comes up, the other fails at once and removes nothing (the claim: key
# pair cyris-R); an up after a crashed one is refused until down; a create
# whose answer is lost (or turned into a 500 after the work was done) is
# found by its tags and adopted, never made twice; aws_region in cyris.conf
# alone counts as AWS configured.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/aws-lib.sh"

aws_range_world
# what boto3 sees of range 124, ids by name; the claim's token and the
# zone are each run's own
state() { inspect state 124 | jq -S 'del(.subnets[].az) | del(.key_pairs[].tags["cyris:claim"])'; }
kinds() { tagged 124 | awk '{ print $1 }' | sort | uniq -c | awk '{ print $2 "=" $1 }' | paste -sd' ' -; }
proxy_config() { # JSON: the proxy's faults from now on
	python3 -c 'import sys, urllib.request; urllib.request.urlopen(urllib.request.Request(sys.argv[1],
		data=sys.argv[2].encode(), method="POST"))' "$PROXY_URL/__proxy__/config" "$1"
}

aws_moto_start; is "$?" 0 "moto answers on 127.0.0.1" || { done_testing; exit 1; }
AMI=$(aws_boto 'print(sorted(i["ImageId"] for i in ec2.describe_images(Owners=["amazon"])["Images"])[0])')
ssh-keygen -q -t ed25519 -N '' -C cyris-test -f "$AWS_TMP/key" || exit 1
UP=(--provider aws --image "$AMI" --ssh-from 192.0.2.0/24 --ssh-key "$AWS_TMP/key.pub")
NOKEY=(--provider aws --image "$AMI" --ssh-from 192.0.2.0/24)

# ---- the normal end state, once ---------------------------------------------------
ok "up dmz.yml (the reference)" "$T" up "$DMZ" "${UP[@]}"
state > "$AWS_TMP/ref.json"
REF_KINDS=$(kinds)
like "$REF_KINDS" "^elastic-ip=1 instance=5 internet-gateway=1 key-pair=1 (network-interface=[0-9]+ )?route-table=[0-9]+ security-group=[0-9]+ subnet=3 vpc=1$" \
	"what one up makes: $REF_KINDS"
is "$(aws_boto 'print(sorted(t["Key"] for t in ec2.describe_key_pairs(KeyNames=["cyris-124"])["KeyPairs"][0]["Tags"]))')" \
	"['Name', 'cyris:claim', 'cyris:instance', 'cyris:range', 'cyris:role']" "the claim is the key pair cyris-124, tagged at creation"
ok "down" "$T" down 124 --provider aws
is "$(tagged 124)" "" "nothing tagged left"
ok "up without --ssh-key (the reference)" "$T" up "$DMZ" "${NOKEY[@]}"
REF_NOKEY=$(kinds)
like "$REF_NOKEY" "key-pair=1 " "... claims the range with a key pair too: $REF_NOKEY"
is "$(inspect state 124 | jq -r '[.instances[].key] | unique | join(" ")')" "" "... which no instance uses (no key was given)"
ok "down" "$T" down 124 --provider aws
is "$(tagged 124)" "" "nothing tagged left"

# ---- two ups at the same moment --------------------------------------------------
# The existence check (DescribeVpcs) is held back 2 s by the proxy, so both
# ups are past it before either makes anything (also on a loaded machine).
# moto checks a key pair's name and stores it in two steps (two threads at
# once may both get through; AWS is atomic): the proxy lets the claims reach
# it one at a time.
aws_proxy_start --delay DescribeVpcs=2000 --serialize ImportKeyPair --serialize CreateKeyPair \
	--log "$AWS_TMP/race.log"
race() { # ROUND ARGS...: two ups at once; one exit 0, one exit 1 with the message
	local round=$1; shift
	"$T" up "$DMZ" "$@" > "$AWS_TMP/o1" 2> "$AWS_TMP/e1" & local p1=$!
	"$T" up "$DMZ" "$@" > "$AWS_TMP/o2" 2> "$AWS_TMP/e2" & local p2=$!
	wait $p1; local r1=$?
	wait $p2; local r2=$?
	local lose=2
	[ $r1 = 1 ] && lose=1
	is "$(printf '%s\n' $r1 $r2 | sort | paste -sd' ' -)" "0 1" "round $round: one up exits 0, the other 1"
	# the loser is refused at the claim, or, when it started late enough
	# (valgrind on a loaded machine) that the winner's VPC is there, at
	# the existence check before it: either is its one line
	like "$(cat "$AWS_TMP/e$lose")" \
		"^cyris-topo: up 124: range 124 is (claimed on AWS already \(key pair cyris-124\): another up of it is running, or one was interrupted \(then cyris-topo down 124 removes what it left\)|already on AWS \(VPC vpc-[0-9a-f]+\); cyris-topo down 124 first)\$" \
		"round $round: the other says why"
	is "$(wc -l < "$AWS_TMP/e$lose")" 1 "round $round: ... on one line"
	# the claims this round made: the winner's, and the loser's unless
	# the existence check refused it first
	if grep -q 'already on AWS (VPC' "$AWS_TMP/e$lose"; then CLAIMS[$round]=1; else CLAIMS[$round]=2; fi
}
CLAIMS=()
for round in 1 2; do
	race $round "${UP[@]}"
	is "$(kinds)" "$REF_KINDS" "round $round: boto3 sees exactly one range: $REF_KINDS"
	is "$(state)" "$(cat "$AWS_TMP/ref.json")" "round $round: ... the same VPC, subnets, groups, instances, routes and tags as one up alone"
	ok "round $round: down" "$T" down 124 --provider aws
	is "$(tagged 124)" "" "round $round: nothing tagged left"
done
race 3 "${NOKEY[@]}"
is "$(kinds)" "$REF_NOKEY" "round 3 (no ssh key): exactly one range: $REF_NOKEY"
ok "round 3: down" "$T" down 124 --provider aws
is "$(tagged 124)" "" "round 3: nothing tagged left"
is "$(jq -r 'select(.action == "ImportKeyPair" or .action == "CreateKeyPair") | .action' "$AWS_TMP/race.log" | sort | uniq -c | awk '{ print $2 "=" $1 }' | paste -sd' ' -)" \
	"CreateKeyPair=${CLAIMS[3]} ImportKeyPair=$((CLAIMS[1] + CLAIMS[2]))" \
	"each up of each round that got past the existence check tried the claim once"

# ---- two cyris-aws -b of the same plan at once -------------------------------------
"$T" plan "$DMZ" --emit aws --image "$AMI" --ssh-from 192.0.2.0/24 --ssh-key "$AWS_TMP/key.pub" > "$AWS_TMP/emit.txt"
is "$(grep -v '^#' "$AWS_TMP/emit.txt" | head -1)" "claim 124 --ssh-key $AWS_TMP/key.pub" "plan --emit aws starts with the claim"
proxy_config '{"delay": ["ImportKeyPair=500"], "serialize": ["ImportKeyPair"]}'
"$A" -b "$AWS_TMP/emit.txt" > /dev/null 2> "$AWS_TMP/e1" & p1=$!
"$A" -b "$AWS_TMP/emit.txt" > /dev/null 2> "$AWS_TMP/e2" & p2=$!
wait $p1; r1=$?
wait $p2; r2=$?
is "$(printf '%s\n' $r1 $r2 | sort | paste -sd' ' -)" "0 1" "two cyris-aws -b of one plan at once: one exits 0, the other 1"
like "$(cat "$AWS_TMP/e1" "$AWS_TMP/e2")" "^$AWS_TMP/emit.txt:2: range 124 is claimed on AWS already \(key pair cyris-124\)" \
	"... the other stopped at its claim line"
is "$(kinds)" "$REF_KINDS" "... and boto3 sees exactly one range"
ok "destroy --range 124" "$A" destroy --range 124
is "$(tagged 124)" "" "nothing tagged left"
aws_proxy_stop

# ---- an up after a crashed one --------------------------------------------------------
# (the claim made, then a kill -9 before anything else: the claim is all there is)
ok "a claim left behind (cyris-aws claim 124)" "$A" claim 124
"$T" up "$DMZ" "${UP[@]}" > /dev/null 2> "$AWS_TMP/err"
is "$?" 1 "up of the range then fails"
like "$(cat "$AWS_TMP/err")" "claimed on AWS already .*cyris-topo down 124 removes what it left" "... telling the user to run down"
is "$(kinds)" "key-pair=1" "... and leaves the claim alone (it made nothing, removed nothing)"
ok "down removes the claim" "$T" down 124 --provider aws
is "$(tagged 124)" "" "nothing tagged left"
ok "up now comes up" "$T" up "$DMZ" "${UP[@]}"
ok "down" "$T" down 124 --provider aws

# ---- kill -9 right after the claim, then down ------------------------------------------
aws_proxy_start --delay CreateVpc=3000 --log "$AWS_TMP/kill.log"
"$T" up "$DMZ" "${UP[@]}" > /dev/null 2>&1 & pid=$!
wait_for 20 bash -c "grep -q '\"action\": \"CreateVpc\"' '$AWS_TMP/kill.log'"
kill -9 $pid; wait $pid 2>/dev/null
sleep 3.5          # the held-back CreateVpc reaches moto meanwhile
made=$(kinds)
ok "down after a kill -9 between the claim and the VPC ($made)" "$T" down 124 --provider aws
is "$(tagged 124)" "" "nothing tagged left"
aws_proxy_stop

# ---- a create whose answer is lost: found by its tags, adopted ---------------------------
aws_proxy_start --log "$AWS_TMP/lost.log"
lost() { # FAULT ACTION[@TEXT]: the first call of ACTION (whose body holds TEXT) made, its answer lost (drop_answer_of) or a 500 (error500_after)
	local fault=$1 action=$2 base=${2%%@*}
	: > "$AWS_TMP/lost.log"
	proxy_config "{\"$fault\": [\"$action\"]}"
	"$T" up "$DMZ" "${UP[@]}" > /dev/null 2> "$AWS_TMP/err"
	is "$?:$(cat "$AWS_TMP/err")" "0:" "$fault $action: up exits 0"
	is "$(jq -r "select(.action == \"$base\") | .verdict" "$AWS_TMP/lost.log" | grep -v '^forwarded$' | paste -sd' ' -)" \
		"$([ "$fault" = drop_answer_of ] && echo answer-dropped || echo done-error500)" "$fault $action: the proxy did it, once"
	is "$(kinds)" "$REF_KINDS" "$fault $action: exactly one of each (boto3): no twin"
	is "$(state)" "$(cat "$AWS_TMP/ref.json")" "$fault $action: the same end state as an up without faults"
	"$T" down 124 --provider aws > /dev/null 2> "$AWS_TMP/err"
	is "$?:$(tagged 124)" "0:" "$fault $action: down leaves nothing tagged"
}
for action in ImportKeyPair CreateVpc CreateSubnet CreateSecurityGroup CreateInternetGateway RunInstances \
	CreateRouteTable AllocateAddress; do
	lost drop_answer_of $action
done
lost error500_after CreateSecurityGroup
lost error500_after RunInstances
# EC2 is eventually consistent: right after a create, a Describe may not list
# it. The lookup after a lost answer that comes back empty is asked again
# (after 200, 400 and 800 ms) before the create is sent again: here the
# first three lookups are answered empty, the fourth finds the VPC
: > "$AWS_TMP/lost.log"
proxy_config '{"drop_answer_of": ["CreateVpc"], "empty_answer_of": ["DescribeVpcs:2", "DescribeVpcs:3", "DescribeVpcs:4"]}'
"$T" up "$DMZ" "${UP[@]}" > /dev/null 2> "$AWS_TMP/err"
is "$?:$(cat "$AWS_TMP/err")" "0:" "CreateVpc's answer lost, three lookups empty: up exits 0"
is "$(jq -r 'select(.action == "CreateVpc" or .action == "DescribeVpcs") | "\(.action)=\(.verdict)"' "$AWS_TMP/lost.log" | head -6 | paste -sd' ' -)" \
	"DescribeVpcs=forwarded CreateVpc=answer-dropped DescribeVpcs=emptied DescribeVpcs=emptied DescribeVpcs=emptied DescribeVpcs=forwarded" \
	"... the existence check, the create, three empty lookups, the fourth found it"
is "$(jq -r 'select(.action == "CreateVpc") | .action' "$AWS_TMP/lost.log" | wc -l)" 1 "... CreateVpc sent once"
is "$(kinds)" "$REF_KINDS" "... exactly one of each (boto3): no twin"
is "$(state)" "$(cat "$AWS_TMP/ref.json")" "... the same end state as an up without faults"
"$T" down 124 --provider aws > /dev/null 2> "$AWS_TMP/err"
is "$?:$(tagged 124)" "0:" "... down leaves nothing tagged"
# changes that are not creates, done at moto and their answer lost (or
# answered 500): the retry is told it is so already (a Duplicate rule, a
# revoked rule NotFound, RouteAlreadyExists, Resource.AlreadyAssociated),
# which on a retry is its success (aws_retry_done); AssociateAddress is
# idempotent on AWS (and moto) already
# (CreateRoute@GatewayId=: the route to the internet gateway, which moto
# answers RouteAlreadyExists when it is there; moto takes a route through
# an ENI again without complaint)
for action in AuthorizeSecurityGroupIngress AuthorizeSecurityGroupEgress RevokeSecurityGroupEgress CreateRoute \
	CreateRoute@GatewayId= AssociateRouteTable AttachInternetGateway AssociateAddress; do
	lost drop_answer_of $action
done
lost error500_after AuthorizeSecurityGroupIngress
lost error500_after CreateRoute@GatewayId=
lost error500_after AttachInternetGateway
# ... and in down: DetachInternetGateway's retry is told Gateway.NotAttached,
# a delete's *.NotFound (down took a thing already gone as gone before too),
# TerminateInstances moto's InvalidNetworkInterfaceID.NotFound (AWS: success; down
# then sees that none of the instances is live)
lost_down() { # FAULT ACTION: an up without faults, then down with the first call of ACTION done and its answer lost
	local fault=$1 action=$2
	proxy_config '{}'
	"$T" up "$DMZ" "${UP[@]}" > /dev/null 2> "$AWS_TMP/err"
	is "$?:$(cat "$AWS_TMP/err")" "0:" "down, $fault $action: the up before it (no faults)"
	: > "$AWS_TMP/lost.log"
	proxy_config "{\"$fault\": [\"$action\"]}"
	"$T" down 124 --provider aws > /dev/null 2> "$AWS_TMP/err"
	is "$?:$(cat "$AWS_TMP/err")" "0:" "down, $fault $action: exits 0"
	is "$(jq -r "select(.action == \"$action\") | .verdict" "$AWS_TMP/lost.log" | head -1)" \
		"$([ "$fault" = drop_answer_of ] && echo answer-dropped || echo done-error500)" "down, $fault $action: the proxy did it"
	is "$(tagged 124)" "" "down, $fault $action: nothing tagged left (boto3)"
}
for action in DetachInternetGateway DisassociateAddress ReleaseAddress TerminateInstances DeleteSecurityGroup \
	DeleteSubnet DisassociateRouteTable DeleteRouteTable DeleteInternetGateway DeleteVpc DeleteKeyPair; do
	lost_down drop_answer_of $action
done
lost_down error500_after DetachInternetGateway
lost_down error500_after DeleteVpc
# the retry after a lost answer goes on a new connection: after a 500 the
# old one is still open, and the retry is not sent on it
is "$(jq -r 'select(.action == "DeleteVpc") | .peer' "$AWS_TMP/lost.log" | sort -u | wc -l)" 2 \
	"down, error500_after DeleteVpc: the retry on a new connection"
# a first attempt told the rule exists is still an error: cyris-aws sg allow of a rule the group has
"$A" vpc create 127 10.127.0.0/16 > /dev/null && "$A" sg create 127 g127 > "$AWS_TMP/out" 2> "$AWS_TMP/err"
is "$?:$(cat "$AWS_TMP/err")" "0:" "cyris-aws sg create g127"
ok "sg allow a rule" "$A" sg allow g127 "src=10.127.1.0/24 dport=80 proto=tcp"
"$A" sg allow g127 "src=10.127.1.0/24 dport=80 proto=tcp" > /dev/null 2> "$AWS_TMP/err"
is "$?" 1 "the same rule again (a first attempt, no fault): exit 1"
like "$(cat "$AWS_TMP/err")" "InvalidPermission\.Duplicate" "... InvalidPermission.Duplicate, as before"
ok "destroy --range 127" "$A" destroy --range 127
is "$(tagged 127)" "" "nothing tagged left"
# RunInstances still carries its ClientToken (AWS's own guard against a
# twin; moto ignores it, so the tag lookup above is what the test proves)
"$A" vpc create 126 10.126.0.0/16 > /dev/null && sub=$("$A" subnet create 126 n 10.126.0.0/24)
: > "$AWS_TMP/lost.log"
proxy_config '{"drop_answer_of": ["RunInstances"]}'
ok "cyris-aws instance create through a lost answer" "$A" instance create x.1 --range 126 --image "$AMI" --nic "$sub"
is "$(jq -r 'select(.action == "RunInstances" or .action == "DescribeInstances") | .action' "$AWS_TMP/lost.log" | paste -sd' ' -)" \
	"RunInstances DescribeInstances" "... RunInstances sent once, then one DescribeInstances found what it made"
like "$(jq -r 'select(.action == "RunInstances") | .body' "$AWS_TMP/lost.log")" "ClientToken=cyris-[0-9a-f]{16}(&|$)" \
	"... and RunInstances carried its ClientToken"
is "$(aws_boto 'print(sum(len(r["Instances"]) for r in ec2.describe_instances(Filters=[{"Name": "tag:cyris:range", "Values": ["126"]}, {"Name": "instance-state-name", "Values": ["running", "pending"]}])["Reservations"]))')" \
	1 "... one instance"
ok "destroy --range 126" "$A" destroy --range 126
is "$(tagged 126)" "" "nothing tagged left"
aws_proxy_stop

# ---- aws_region in cyris.conf counts as AWS configured -----------------------------------
# (no region in the environment nor an endpoint: AWS is the region's own
# endpoint, which this test's network namespace cannot reach, so the warning
# proves that ls looked)
noenv() { env -u AWS_REGION -u AWS_ENDPOINT_URL_EC2 "$@"; }
: > "$CYRIS_CONFIG"
is "$(noenv "$T" ls 2>&1; echo "rc=$?")" "rc=0" "no region anywhere (cyris.conf's built-in default only): ls does not look on AWS"
echo "aws_region = eu-west-1" > "$CYRIS_CONFIG"
noenv "$T" ls > /dev/null 2> "$AWS_TMP/err"
is "$?" 1 "aws_region = eu-west-1 in cyris.conf: ls looks on AWS (unreachable here: exit 1)"
like "$(cat "$AWS_TMP/err")" "^cyris-topo: warning: ls: AWS at https://ec2\.eu-west-1\.amazonaws\.com/" "... at the region's endpoint"
noenv "$T" show 124 > /dev/null 2> "$AWS_TMP/err"
like "$(cat "$AWS_TMP/err")" "ec2\.eu-west-1\.amazonaws\.com" "... show of a range not on this host asks there too"
echo "aws_region = us-west-2" > "$CYRIS_CONFIG"
noenv "$T" ls > /dev/null 2> "$AWS_TMP/err"
like "$?:$(cat "$AWS_TMP/err")" "^1:cyris-topo: warning: ls: AWS at https://ec2\.us-west-2\.amazonaws\.com/" \
	"aws_region set to the default's value in the file counts too"
: > "$CYRIS_CONFIG"

done_testing
