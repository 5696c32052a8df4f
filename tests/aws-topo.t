#!/bin/bash
# A range on EC2 (moto): cyris-topo up --provider aws, checked by an
# independent boto3 client (tests/helpers/aws-inspect.py) against the plan;
# show, ls, down; nothing tagged left after down, after a failure injected
# at each step, after kill -9, after SIGINT; faults from the proxy; bad input.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/aws-lib.sh"

aws_range_world

aws_moto_start; is "$?" 0 "moto answers on 127.0.0.1" || { done_testing; exit 1; }
AMI=$(aws_boto 'print(sorted(i["ImageId"] for i in ec2.describe_images(Owners=["amazon"])["Images"])[0])')
like "$AMI" '^ami-' "an image of moto's"
ssh-keygen -q -t ed25519 -N '' -C cyris-test -f "$AWS_TMP/key" || exit 1
UP=(--provider aws --image "$AMI" --ssh-from 192.0.2.0/24 --ssh-key "$AWS_TMP/key.pub")

# ---- up, checked against the plan ---------------------------------------------
"$T" plan "$DMZ" -j > "$AWS_TMP/plan.json"
ok "up dmz.yml --provider aws" "$T" up "$DMZ" "${UP[@]}"
inspect state 124 > "$AWS_TMP/state.json"
is "$(python3 - "$AWS_TMP/plan.json" "$AWS_TMP/state.json" "$AMI" <<'EOF'
import ipaddress, json, sys
plan = json.load(open(sys.argv[1])); st = json.load(open(sys.argv[2])); ami = sys.argv[3]
bad = []
def aws_ip(a, net):   # AWS reserves the first four addresses: .1-.3 move up by 3
    a = ipaddress.ip_interface(a); n = ipaddress.ip_network(net)
    off = int(a.ip) - int(n.network_address)
    return str(a.ip + 3) if 1 <= off <= 3 else str(a.ip)
nets = {n["name"]: n["subnet"] for n in plan["networks"]}
if len(st["vpcs"]) != 1: bad.append("vpcs: %d" % len(st["vpcs"]))
vpc = ipaddress.ip_network(st["vpcs"][0]["cidr"])
for n, c in nets.items():
    if not ipaddress.ip_network(c).subnet_of(vpc): bad.append("vpc does not cover " + c)
got = {s["tags"].get("cyris:net"): s["cidr"] for s in st["subnets"]}
if got != nets: bad.append("subnets %s != plan %s" % (got, nets))
if len({s["az"] for s in st["subnets"]}) != 1: bad.append("subnets in several zones")
for g in st["groups"]:
    if any("0.0.0.0/0" in e for e in g["egress"]): bad.append("group %s: allow-all egress" % g["name"])
    if g["egress"] != ["-1 - %s" % vpc]: bad.append("group %s: egress %s" % (g["name"], g["egress"]))
    for r in g["ingress"]:
        if r.endswith(" 0.0.0.0/0"): bad.append("group %s: open to the internet: %s" % (g["name"], r))
grp = {g["name"]: g for g in st["groups"]}
for n, c in nets.items():
    g = grp.get("cyris-124-i1-" + n)
    if not g or ("-1 - " + c) not in g["ingress"]: bad.append("network %s: its own traffic not allowed" % n)
fw = grp.get("cyris-124-i1-firewall.1", {"ingress": []})
if fw["ingress"] != ["tcp 22-22 192.0.2.0/24"]: bad.append("entry point: %s" % fw["ingress"])
o, x = nets["office"], nets["external"]
want = {"cyris-124-i1-dbsrv.1": sorted("%s 3306-3306 %s" % (p, s) for p in ("tcp", "udp") for s in (o, x)),
        "cyris-124-i1-filesrv.1": sorted("%s %d-%d %s" % (p, q, q, s) for p in ("tcp", "udp") for q in (139, 445) for s in (o, x)),
        "cyris-124-i1-external": sorted(["-1 - " + x] + ["%s %d-%d %s" % (p, q, q, o) for p in ("tcp", "udp") for q in (25, 53)])}
for k, v in want.items():
    if grp.get(k, {}).get("ingress") != v: bad.append("%s: %s != %s" % (k, grp.get(k, {}).get("ingress"), v))
inst = {i["name"]: i for i in st["instances"]}
if sorted(inst) != sorted(g["name"] for g in plan["guests"]): bad.append("instances %s" % sorted(inst))
for g in plan["guests"]:
    i = inst.get(g["name"])
    if not i: continue
    if i["image"] != ami or i["key"] != "cyris-124": bad.append("%s: image %s key %s" % (g["name"], i["image"], i["key"]))
    t = i["tags"]
    if (t.get("cyris:range"), t.get("cyris:guest"), t.get("cyris:instance")) != ("124", "%s.%d" % (g["guest_id"], g["index"]), "1"):
        bad.append("%s: tags %s" % (g["name"], t))
    ips = [n["ip"] for n in i["nics"]]
    want_ips = [aws_ip(n["ip"], nets[n["network"]]) for n in g["nics"]]
    if ips != want_ips: bad.append("%s: addresses %s != %s" % (g["name"], ips, want_ips))
    for n, pn in zip(i["nics"], g["nics"]):
        if n["subnet"] != "subnet:" + pn["network"]: bad.append("%s: nic in %s" % (g["name"], n["subnet"]))
        if "sg:cyris-124-i1-" + pn["network"] not in n["groups"]: bad.append("%s: groups %s" % (g["name"], n["groups"]))
        if n["source_dest_check"] == g["gateway"]: bad.append("%s: source/dest check %s" % (g["name"], n["source_dest_check"]))
        if not n["delete_on_termination"]: bad.append("%s: ENI kept on termination" % g["name"])
    if (i["nics"][0]["public_ip"] == "yes") != g["entry_point"]: bad.append("%s: public address" % g["name"])
rts = {tuple(t["subnets"]): t["routes"] for t in st["route_tables"]}
for n in nets:
    r = rts.get(("subnet:" + n,), [])
    gwnic = [k for k, pn in enumerate(plan["guests"][0]["nics"]) if pn["network"] == n][0]
    for m, c in nets.items():
        if m != n and "%s -> eni:cyris-124-1-firewall-1/%d" % (c, gwnic) not in r:
            bad.append("route %s -> %s not through the firewall: %s" % (n, m, r))
if "0.0.0.0/0 -> igw" not in rts.get(("subnet:external",), []): bad.append("no internet route for the entry point")
if len(st["internet_gateways"]) != 1 or len(st["addresses"]) != 1: bad.append("igw/eip")
if [k["name"] for k in st["key_pairs"]] != ["cyris-124"]: bad.append("key pairs %s" % st["key_pairs"])
print("\n".join(bad))
EOF
)" "" "what boto3 sees is the plan: VPC, subnets, groups and rules, instances, ENIs, routes, entry point, tags"

like "$("$T" show 124 --provider aws)" "cyris-124-1-firewall-1 +i-[0-9a-f]+ +running +public " "show lists the instances, the entry's public address"
is "$("$T" -j show 124 --provider aws | jq -r '[.guests[].nics[].ip] | sort | join(" ")')" \
	"$(jq -r '.instances[].nics[].ip' "$AWS_TMP/state.json" | sort | paste -sd' ' -)" "show -j: the addresses boto3 sees"
is "$("$T" ls --provider aws)" "124" "ls finds the range in the region"
is "$("$A" ls)" "124" "cyris-aws ls too"

# ---- without --provider: show, ls and down look on AWS when it is configured ----
like "$("$T" show 124)" "cyris-124-1-firewall-1 +i-[0-9a-f]+ +running +public " \
	"show 124 without --provider: not on this host, so from AWS"
"$CYRIS_BIN/cyris-bridge" add range 130 net n > /dev/null || exit 1
is "$("$T" ls)" "130
124 aws" "ls without --provider: this host's ranges, then AWS's"
is "$("$T" -j ls | jq -c 'del(.schema)')" '{"ranges":["130"],"aws_ranges":["124"]}' "ls -j: ranges and aws_ranges"
is "$("$T" ls --provider netns)" "130" "ls --provider netns: this host's only"
DEAD=http://127.0.0.1:$(aws_free_port)
AWS_ENDPOINT_URL_EC2=$DEAD "$T" ls > "$AWS_TMP/out" 2> "$AWS_TMP/err"
is "$?" 1 "ls when AWS cannot be reached: exit 1"
is "$(cat "$AWS_TMP/out")" "130" "... this host's ranges still listed"
like "$(cat "$AWS_TMP/err")" "^cyris-topo: warning: ls: AWS at $DEAD/: .*connect" \
	"... and a warning naming the endpoint and the error"
is "$(wc -l < "$AWS_TMP/err")" 1 "... on one line"
is "$(AWS_ENDPOINT_URL_EC2=$DEAD "$T" -j ls 2> /dev/null | jq -c '[.ranges, .aws_ranges, (.aws_error | test("connect"))]')" \
	'[["130"],[],true]' "ls -j: the error as aws_error"

before=$(tagged 124 | wc -l)
"$T" up "$DMZ" "${UP[@]}" > /dev/null 2> "$AWS_TMP/err"
is "$?" 1 "a second up fails"
like "$(cat "$AWS_TMP/err")" "range 124 is already on AWS" "... saying the range is there"
is "$(tagged 124 | wc -l)" "$before" "... and makes nothing (and removes nothing)"

like "$("$T" down 124)" "^range 124 is down on AWS: 5 instances" "down 124 without --provider: not on this host, so on AWS"
is "$(tagged 124)" "" "after down nothing tagged with the range remains"
is "$("$T" down 124; echo "rc=$?")" "range 124: nothing on this host nor on AWS
rc=0" "down again: nothing on this host nor on AWS (exit 0)"
"$T" show 124 > /dev/null 2> "$AWS_TMP/err"
is "$?:$(cat "$AWS_TMP/err")" "1:cyris-topo: range 124: nothing on this host nor on AWS" "show of it: exit 1, nothing on either"
like "$("$T" down 130)" "^range 130 is down: " "down of a range on this host stays on this host"
is "$("$T" ls; echo "rc=$?")" "rc=0" "ls: no range left (exit 0)"

# ---- with AWS not configured: down, show and ls make no request ---------------------
aws_proxy_start
quiet() { # DESC WANT CMD...: exit and output as WANT
	local desc=$1 want=$2; shift 2
	is "$("$@" 2>&1; echo "rc=$?")" "$want" "$desc"
}
nocreds() { env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$@"; }
quiet "no credentials: down 124" "range 124: nothing on this host
rc=0" nocreds "$T" down 124
quiet "no credentials: show 124" "cyris-topo: range 124: nothing on this host
rc=1" nocreds "$T" show 124
quiet "no credentials: ls" "rc=0" nocreds "$T" ls
is "$(aws_proxy_stats .calls)" 0 "... no request reached the endpoint (AWS_ENDPOINT_URL_EC2 at a counting proxy)"
quiet "no region nor endpoint: show 124" "cyris-topo: range 124: nothing on this host
rc=1" env -u AWS_REGION -u AWS_ENDPOINT_URL_EC2 "$T" show 124
quiet "no region nor endpoint: ls" "rc=0" env -u AWS_REGION -u AWS_ENDPOINT_URL_EC2 "$T" ls
quiet "configured: ls asks AWS" "rc=0" "$T" ls
ok "... and the proxy counts that request" test "$(aws_proxy_stats .calls)" -gt 0
printf '[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n' "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" \
	> "$AWS_SHARED_CREDENTIALS_FILE"
before=$(aws_proxy_stats .calls)
quiet "keys in ~/.aws/credentials, no region but an endpoint: ls asks AWS" "rc=0" nocreds env -u AWS_REGION "$T" ls
ok "... (a request reached the proxy)" test "$(aws_proxy_stats .calls)" -gt "$before"
: > "$AWS_SHARED_CREDENTIALS_FILE"
quiet "half a key: show of a range not here is an error" \
	"cyris-topo: AWS: AWS credentials: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not
rc=1" env -u AWS_SECRET_ACCESS_KEY "$T" show 124
quiet "half a key: ls warns, exit 1" \
	"cyris-topo: warning: ls: AWS: AWS credentials: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not
rc=1" env -u AWS_SECRET_ACCESS_KEY "$T" ls
aws_proxy_stop

# ---- plan --emit aws | cyris-aws -b - builds the same range as up ------------------
# (the zone and the claim's token are each run's own)
noaz() { jq 'del(.subnets[].az) | del(.key_pairs[].tags["cyris:claim"])' "$1"; }
"$T" plan "$DMZ" --emit aws --image "$AMI" --ssh-from 192.0.2.0/24 --ssh-key "$AWS_TMP/key.pub" > "$AWS_TMP/emit.txt"
is "$?" 0 "plan --emit aws"
is "$(tagged 124)" "" "... creates nothing"
ok "cyris-aws -b - of it" bash -c "\"$A\" -b - < \"$AWS_TMP/emit.txt\" > /dev/null"
inspect state 124 > "$AWS_TMP/batch.json"
is "$(noaz "$AWS_TMP/batch.json")" "$(noaz "$AWS_TMP/state.json")" \
	"the same VPC, subnets, groups and rules, instances, ENIs, routes, addresses, key pair and tags as up"
is "$(jq -r '[.subnets[].az] | unique | length' "$AWS_TMP/batch.json")" 1 "its subnets are in one zone too"
ok "cyris-aws destroy --range 124" "$A" destroy --range 124
is "$(tagged 124)" "" "nothing tagged left"

# ---- a rule without src: from the range's own VPC, never the internet ----------
# (on the other backends such a rule means any source inside the range; only
# the entry port is reachable from outside)
sed "s/ami-12345678/$AMI/" > "$AWS_TMP/nosrc.yml" <<'EOF'
- host_settings:
  - id: h
    mgmt_addr: localhost
    account: u
- guest_settings:
  - id: fw
    basevm_type: aws
    image: ami-12345678
  - id: web
    basevm_type: aws
    image: ami-12345678
- clone_settings:
  - range_id: 127
    hosts:
    - host_id: h
      instance_number: 1
      guests:
      - guest_id: fw
        number: 1
        entry_point: yes
        forwarding_rules:
        - rule: dst=inside dport=80 proto=tcp
        - rule: dport=8080 proto=tcp
      - guest_id: web
        number: 1
      topology:
      - type: custom
        networks:
        - name: outside
          members: fw.eth0
        - name: inside
          members: web.eth0
          gateway: fw.eth1
EOF
# Every ingress CIDR is inside the VPC but the entry point's --ssh-from, and
# the rules without src are there, from the VPC.
nosrc_check() { # STATE.json
	python3 - "$1" <<-'EOF'
	import ipaddress, json, sys
	st = json.load(open(sys.argv[1])); bad = []
	vpc = ipaddress.ip_network(st["vpcs"][0]["cidr"])
	for g in st["groups"]:
	    for r in g["ingress"]:
	        if ipaddress.ip_network(r.split()[-1]).subnet_of(vpc): continue
	        if g["name"] == "cyris-127-i1-fw.1" and r == "tcp 22-22 192.0.2.0/24": continue
	        bad.append("%s: %s is outside the VPC %s" % (g["name"], r, vpc))
	grp = {g["name"]: g["ingress"] for g in st["groups"]}
	for n in ("inside", "outside"):
	    for w in ["tcp 8080-8080 %s" % vpc] + (["tcp 80-80 %s" % vpc] if n == "inside" else []):
	        if w not in grp.get("cyris-127-i1-" + n, []): bad.append("%s: no '%s': %s" % (n, w, grp.get("cyris-127-i1-" + n)))
	print("\n".join(bad))
	EOF
}
ok "up a range with rules without src" "$T" up "$AWS_TMP/nosrc.yml" "${UP[@]}"
inspect state 127 > "$AWS_TMP/nosrc.json"
is "$(nosrc_check "$AWS_TMP/nosrc.json")" "" \
	"boto3: no group rule but --ssh-from's has a CIDR outside the VPC; the src-less rules are from the VPC"
ok "down 127" "$T" down 127 --provider aws
"$T" plan "$AWS_TMP/nosrc.yml" --emit aws --image "$AMI" --ssh-from 192.0.2.0/24 --ssh-key "$AWS_TMP/key.pub" |
	"$A" -b - > /dev/null
is "$?" 0 "plan --emit aws | cyris-aws -b - of it"
inspect state 127 > "$AWS_TMP/nosrc-b.json"
is "$(nosrc_check "$AWS_TMP/nosrc-b.json")" "" "cyris-aws sg allow: a rule without src is from the VPC too"
is "$(jq .groups "$AWS_TMP/nosrc-b.json")" "$(jq .groups "$AWS_TMP/nosrc.json")" "... the same groups and rules as up"
# fw is the gateway of inside but not of outside (the host is, there): only
# inside's route table goes through fw, in both build paths
is "$(noaz "$AWS_TMP/nosrc-b.json")" "$(noaz "$AWS_TMP/nosrc.json")" \
	"... and the same route tables (fw routes only the network it is the gateway of), instances and tags"
ok "destroy --range 127" "$A" destroy --range 127
is "$(tagged 127)" "" "nothing tagged left"

# ---- a file whose guests are all basevm_type aws: AWS without --provider ------
NEWEST=$(aws_boto '
im = ec2.describe_images(Owners=["amazon"], Filters=[{"Name": "name", "Values": ["al2023-ami-2023.*-x86_64"]}])["Images"]
print(max(im, key=lambda i: (i["CreationDate"], i["Name"]))["ImageId"])')
ok "up basic-aws.yml (basevm_type aws) without --provider" "$T" up "$CYRIS_SRC/contrib/cyris-examples/basic-aws.yml" --ssh-from 198.51.100.7/32
is "$(inspect state 123 | jq -r '.instances[].image')" "$NEWEST" "amazon_linux is the newest al2023 x86_64 image (DescribeImages)"
ok "down 123" "$T" down 123 --provider aws
is "$(tagged 123)" "" "nothing tagged left"

# ---- a failure at each step of up leaves nothing ----------------------------------
n=1 left= steps=0
while [ $n -lt 200 ]; do
	CYRIS_TOPO_FAIL_AT=$n "$T" up "$DMZ" "${UP[@]}" > /dev/null 2> "$AWS_TMP/err"
	rc=$?
	[ $rc = 0 ] && break
	grep -q "failure injected before change $n" "$AWS_TMP/err" || left+=" step $n: $(head -1 "$AWS_TMP/err")"
	[ -z "$(tagged 124)" ] || { left+=" step $n left: $(tagged 124 | tr '\n' ' ')"; "$T" down 124 --provider aws >/dev/null; }
	n=$((n + 1))
done
steps=$((n - 1))
is "$rc" 0 "up with the failure after its last step succeeds (after $steps injected failures)"
ok "more than 30 steps were each failed" test "$steps" -gt 30
is "$left" "" "each injected failure: exit 1, its message, nothing tagged left (rolled back)"
"$T" down 124 --provider aws > /dev/null
is "$(tagged 124)" "" "down after the last one leaves nothing"

# ---- kill -9 at several points, then down -------------------------------------------
for ms in 150 600 1500; do
	CYRIS_TOPO_STEP_DELAY_MS=40 "$T" up "$DMZ" "${UP[@]}" > /dev/null 2>&1 &
	pid=$!
	sleep "$(printf '0.%03d' $((ms % 1000)))"; [ $ms -ge 1000 ] && sleep $((ms / 1000))
	kill -9 $pid; wait $pid 2>/dev/null
	made=$(tagged 124 | wc -l)
	"$T" down 124 --provider aws > /dev/null 2> "$AWS_TMP/err"
	is "$?:$(tagged 124)" "0:" "kill -9 of up after ${ms} ms ($made tagged resources), then down: nothing left"
done

# ---- SIGINT rolls back ----------------------------------------------------------------
# (steps slowed enough that up is still running when the poll, a python
# process each time, has seen 5 resources, also on a loaded machine)
CYRIS_TOPO_STEP_DELAY_MS=250 "$T" up "$DMZ" "${UP[@]}" > /dev/null 2> "$AWS_TMP/err" &
pid=$!
wait_for 20 bash -c "[ \$(AWS_ENDPOINT_URL=$MOTO_URL python3 $INSPECT tagged 124 | wc -l) -ge 5 ]"
kill -INT $pid; wait $pid
is "$?" 130 "up interrupted by SIGINT exits 130"
like "$(cat "$AWS_TMP/err")" "interrupted.*rolled back" "... saying it rolled back"
is "$(tagged 124)" "" "... and nothing tagged is left"

# ---- faults: throttling, a 500, a dropped connection, DependencyViolation --------------
aws_proxy_start --throttle 3 --error500 1 --drop 1 --dependency-violation DeleteSecurityGroup
ok "up through throttling, a 500 and a dropped connection" "$T" up "$DMZ" "${UP[@]}"
is "$(aws_boto 'print(sum(len(r["Instances"]) for r in ec2.describe_instances(Filters=[{"Name": "tag:cyris:range", "Values": ["124"]}, {"Name": "instance-state-name", "Values": ["running", "pending"]}])["Reservations"]))')" \
	5 "the range came up exactly once: 5 instances, no twin"
ok "down through a DependencyViolation on the first DeleteSecurityGroup" "$T" down 124 --provider aws
is "$(jq -r 'select(.action == "DeleteSecurityGroup") | .verdict' "$AWS_TMP/proxy.log" | sort | uniq -c | awk '{ print $2 "=" $1 }' | paste -sd' ' -)" \
	"failed=1 forwarded=6" "the proxy refused the first DeleteSecurityGroup once; all 6 groups were deleted"
is "$(jq -r 'select(.verdict != "forwarded") | .verdict' "$AWS_TMP/proxy.log" | sort | uniq -c | awk '{ print $2 "=" $1 }' | paste -sd' ' -)" \
	"dropped=1 error500=1 failed=1 throttled=3" "and it did throttle, answer 500 and drop a connection"
is "$(tagged 124)" "" "nothing tagged left"
aws_proxy_stop

# ---- faults on requests sent at once (a level: group rules, routes, deletes) ----
# up's error in $AWS_TMP/err: one line, REGEX, "(rolled back: nothing was
# left)", then TAIL (a regex; default anything); nothing tagged left
rolled_back() { # DESC REGEX [TAIL]
	like "$(cat "$AWS_TMP/err")" "^cyris-topo: up 124: $2 \\(rolled back: nothing was left\\)${3:-}" "$1"
	is "$(wc -l < "$AWS_TMP/err")" 1 "... on one line"
	is "$(tagged 124)" "" "... nothing tagged left"
}
: > "$AWS_TMP/proxy.log"
aws_proxy_start --fail AuthorizeSecurityGroupIngress:3=Throttling --fail CreateRoute:2=RequestLimitExceeded \
	--fail AssociateRouteTable:1=InternalError --fail DeleteSecurityGroup:2=RequestLimitExceeded \
	--fail DeleteSubnet:1=InternalError --dependency-violation DeleteRouteTable
ok "up with faults on requests in flight together" "$T" up "$DMZ" "${UP[@]}"
inspect state 124 > "$AWS_TMP/par.json"
is "$(noaz "$AWS_TMP/par.json")" "$(noaz "$AWS_TMP/state.json")" \
	"... the same groups and rules, instances, routes and tags as without faults"
ok "down with faults on requests in flight together" "$T" down 124 --provider aws
is "$(tagged 124)" "" "... nothing tagged left"
is "$(jq -r 'select(.verdict == "failed") | .action' "$AWS_TMP/proxy.log" | sort | paste -sd' ' -)" \
	"AssociateRouteTable AuthorizeSecurityGroupIngress CreateRoute DeleteRouteTable DeleteSecurityGroup DeleteSubnet" \
	"each fault was injected, once"
is "$(jq -r 'select(.verdict == "forwarded") | .action' "$AWS_TMP/proxy.log" | grep -cx -e CreateRoute -e DeleteSecurityGroup -e DeleteSubnet)" \
	"$((7 + 6 + 3))" "... and each of those requests then made once: 7 routes, 6 groups, 3 subnets"
aws_proxy_stop
# a request of a level that fails for good: its error, exact; the rest waited for; rolled back
aws_proxy_start --fail CreateRoute:3=InvalidParameterValue
"$T" up "$DMZ" "${UP[@]}" > /dev/null 2> "$AWS_TMP/err"
is "$?" 1 "up with the 3rd CreateRoute refused: exit 1"
# (which route is the 3rd to reach the proxy depends on the order the level's requests arrive)
rolled_back "... that request's error with AWS's code and message, rolled back" \
	"create-route (via the gateway guest|to the internet gateway)" " \\(aws: InvalidParameterValue: injected by aws-proxy\\)\$"
aws_proxy_stop

# ---- faults on the groups' rules, sent at once after the creates ------------------
# a throttled, a 500 and a dropped request, none of which reached moto: the
# same range as without faults
: > "$AWS_TMP/proxy.log"
aws_proxy_start --fail RevokeSecurityGroupEgress:2=RequestLimitExceeded --error500-of AuthorizeSecurityGroupEgress:3 \
	--drop-of RevokeSecurityGroupEgress:5 --fail AuthorizeSecurityGroupEgress:6=Throttling
ok "up with faults on the groups' revokes and egress rules" "$T" up "$DMZ" "${UP[@]}"
inspect state 124 > "$AWS_TMP/sg.json"
is "$(noaz "$AWS_TMP/sg.json")" "$(noaz "$AWS_TMP/state.json")" \
	"... the same groups and rules (no allow-all egress), instances, routes and tags as without faults"
is "$(jq -r 'select(.verdict != "forwarded") | "\(.action)=\(.verdict)"' "$AWS_TMP/proxy.log" | sort | paste -sd' ' -)" \
	"AuthorizeSecurityGroupEgress=error500 AuthorizeSecurityGroupEgress=failed RevokeSecurityGroupEgress=dropped RevokeSecurityGroupEgress=failed" \
	"... each fault was injected, once"
is "$(jq -r 'select(.verdict == "forwarded") | .action' "$AWS_TMP/proxy.log" | grep -x -e RevokeSecurityGroupEgress -e AuthorizeSecurityGroupEgress | sort | uniq -c | awk '{ print $2 "=" $1 }' | paste -sd' ' -)" \
	"AuthorizeSecurityGroupEgress=6 RevokeSecurityGroupEgress=6" "... and each group's revoke and egress rule then made once"
# the order up keeps: every group made before its rules, every rule answered
# before the first instance
is "$(jq -r 'select(.verdict == "forwarded") | .action' "$AWS_TMP/proxy.log" | awk '
	/^CreateSecurityGroup$/ { if (rules) bad = bad " create-after-rule"; groups++ }
	/^(Revoke|Authorize)SecurityGroup/ { rules++; if (inst) bad = bad " rule-after-instance" }
	/^RunInstances$/ { inst++ }
	END { print groups, rules, inst bad }')" "6 18 5" \
	"... the 6 creates, then their 18 rules (revokes, egress, ingress), then the 5 RunInstances"
ok "down" "$T" down 124 --provider aws
is "$(tagged 124)" "" "... nothing tagged left"
aws_proxy_stop
# answers lost after the work was done: the retry finds the rule made (or
# gone) already, which on a retry is its success (aws_retry_done): the same
# range as without faults
: > "$AWS_TMP/proxy.log"
aws_proxy_start --drop-answer-of AuthorizeSecurityGroupEgress:2 --error500-after RevokeSecurityGroupEgress:4
"$T" up "$DMZ" "${UP[@]}" > /dev/null 2> "$AWS_TMP/err"
is "$?:$(cat "$AWS_TMP/err")" "0:" "up with an egress rule's answer lost and a revoke answered 500 after it was made: exit 0"
is "$(jq -r 'select(.verdict != "forwarded") | "\(.action)=\(.verdict)"' "$AWS_TMP/proxy.log" | sort | paste -sd' ' -)" \
	"AuthorizeSecurityGroupEgress=answer-dropped RevokeSecurityGroupEgress=done-error500" \
	"... both injected"
inspect state 124 > "$AWS_TMP/sg2.json"
is "$(noaz "$AWS_TMP/sg2.json")" "$(noaz "$AWS_TMP/state.json")" "... the range exactly as without faults"
ok "... down" "$T" down 124 --provider aws
is "$(tagged 124)" "" "... nothing tagged left"
aws_proxy_stop

# ---- bad input: one clear error, nothing created ------------------------------------------
nothing() { [ -z "$(tagged 124)" ] && [ -z "$(tagged 125)" ]; }
fails() { # DESC EXIT REGEX CMD...: exit code, one line matching REGEX, nothing made
	local desc=$1 want=$2 re=$3; shift 3
	"$@" > /dev/null 2> "$AWS_TMP/err"
	local rc=$?
	is "$rc" "$want" "$desc: exit $want"
	like "$(cat "$AWS_TMP/err")" "$re" "$desc: the message"
	[ "$want" = 2 ] || is "$(wc -l < "$AWS_TMP/err")" 1 "$desc: one line"
	ok "$desc: nothing created" nothing
}
fails "entry point without --ssh-from" 1 "dmz.yml:[0-9]+:[0-9]+: guest firewall is an entry point: .*--ssh-from" \
	"$T" up "$DMZ" --provider aws --image "$AMI"
fails "unknown AMI" 1 "image ami-0123456789abcdef0" "$T" up "$DMZ" --provider aws --image ami-0123456789abcdef0 --ssh-from 192.0.2.0/24
cat > "$AWS_TMP/sport.yml" <<EOF
- host_settings:
  - id: h
    mgmt_addr: localhost
    account: u
- guest_settings:
  - id: a
    basevm_type: aws
    image: $AMI
- clone_settings:
  - range_id: 125
    hosts:
    - host_id: h
      instance_number: 1
      guests:
      - guest_id: a
        number: 2
        forwarding_rules:
        - rule: src=n sport=53 dport=53
      topology:
      - type: custom
        networks:
        - name: n
          members: a.eth0
EOF
fails "a rule groups cannot express (sport)" 1 "sport.yml:[0-9]+:[0-9]+: rule 'src=n sport=53 dport=53': on AWS: .*source port" \
	"$T" up "$AWS_TMP/sport.yml"
cat > "$AWS_TMP/mixed.yml" <<EOF
- guest_settings:
  - id: a
    basevm_type: aws
  - id: b
    basevm_type: kvm
- clone_settings:
  - range_id: 125
    hosts:
    - host_id: h
      instance_number: 1
      guests:
      - guest_id: a
        number: 1
      topology:
      - type: custom
        networks:
        - name: n
          members: a.eth0
EOF
fails "a file mixing kvm and aws guests" 1 "mixed.yml:5:[0-9]+: guest b is kvm but guest a is aws" "$T" up "$AWS_TMP/mixed.yml"
fails "no credentials" 1 "no AWS credentials" env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$T" up "$DMZ" "${UP[@]}"
fails "a malformed endpoint" 1 "endpoint" env AWS_ENDPOINT_URL_EC2=htp:/x "$T" up "$DMZ" "${UP[@]}"
fails "a bad region" 1 "region" "$A" --region 'us west' vpc create 125 10.9.0.0/16
fails "an unknown subnet" 1 "run-instances x.1.*InvalidSubnetID.NotFound" \
	"$A" instance create x.1 --range 125 --image "$AMI" --nic subnet-0abc
fails "usage: no CIDR" 2 "." "$A" vpc create 125
fails "usage: --provider bogus" 2 "." "$T" up "$DMZ" --provider bogus

# ---- a RunInstances whose answer is lost: found by its tags, not sent again ----
# (it carries a ClientToken, AWS's own guard; more in aws-once.t)
"$A" vpc create 126 10.126.0.0/16 > /dev/null && sub=$("$A" subnet create 126 n 10.126.0.0/24)
: > "$AWS_TMP/proxy.log"
aws_proxy_start --drop-answer 1
"$A" instance create x.1 --range 126 --image "$AMI" --nic "$sub" > /dev/null 2> "$AWS_TMP/err"
is "$?" 0 "instance create gets through an answer lost after the call was made"
is "$(jq -r 'select(.action == "RunInstances") | .body' "$AWS_TMP/proxy.log" | python3 -c '
import sys, urllib.parse
print(" ".join(urllib.parse.parse_qs(l.strip())["ClientToken"][0] for l in sys.stdin))' | awk '{ print NF, ($1 ~ /^cyris-[0-9a-f]+$/ && length($1) == 22) ? "token" : "no token" }')" \
	"1 token" "RunInstances was sent once, with its ClientToken: the retry found the instance by its tags"
aws_proxy_stop
"$A" destroy --range 126 > /dev/null
is "$(tagged 126)" "" "destroy --range 126: nothing left"

# ---- untagged resources are not touched ----------------------------------------------------
vpc=$(inspect untagged-vpc 10.77.0.0/16)
"$A" destroy --range 124 > /dev/null
is "$(aws_boto "print(len(ec2.describe_vpcs(VpcIds=['$vpc'])['Vpcs']))")" 1 "destroy leaves a VPC without cyris's tags alone"

done_testing
