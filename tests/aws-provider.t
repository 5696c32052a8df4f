#!/bin/bash
# The "aws" provider through the provider interface only
# (tests/helpers/aws-provider: create / list / status / ip / destroy), as
# cyris-topo drives a provider, against moto; boto3 checks what it made.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/aws-lib.sh"

H=$CYRIS_BUILD/tests/helpers/aws-provider
A=$(tool_path cyris-aws)
aws_moto_start; is "$?" 0 "moto answers on 127.0.0.1" || { done_testing; exit 1; }
AMI=$(aws_boto 'print(sorted(i["ImageId"] for i in ec2.describe_images(Owners=["amazon"])["Images"])[0])')

# the range's network first (as cyris-topo up makes it)
"$A" vpc create 130 10.130.0.0/16 > /dev/null && "$A" subnet create 130 lan 10.130.1.0/24 > /dev/null &&
	"$A" sg create 130 cyris-130-i1-lan --net lan > /dev/null
is "$?" 0 "a VPC, subnet and group for range 130"

out=$("$H" create cyris-130-1-web-1 130 web.1 "$AMI" lan 10.130.1.10)
is "$?" 0 "create through the provider"
like "$out" "^name=cyris-130-1-web-1 id=i-[0-9a-f]+ status=(creating|running) provider=aws ip=10.130.1.10 .* range=130 instance=1 guest=web.1 role=guest$" \
	"... returns its name, id, status, address and tags"
id=$(sed -n 's/.* id=\(i-[0-9a-f]*\) .*/\1/p' <<< "$out")
is "$(aws_boto "
i = ec2.describe_instances(InstanceIds=['$id'])['Reservations'][0]['Instances'][0]
t = {x['Key']: x['Value'] for x in i['Tags']}
g = [x['GroupName'] for x in i['NetworkInterfaces'][0]['Groups']]
print(i['PrivateIpAddress'], t['cyris:range'], t['cyris:guest'], t['Name'], ','.join(g), i['ImageId'] == '$AMI')")" \
	"10.130.1.10 130 web.1 cyris-130-1-web-1 cyris-130-i1-lan True" "boto3: its address, tags, network group and image"
like "$("$H" list 130)" "^name=cyris-130-1-web-1 id=$id status=running provider=aws " "list finds it by tag"
is "$("$H" list 131)" "" "list of another range: nothing"
is "$("$H" status cyris-130-1-web-1)" "running" "status"
like "$("$H" ip cyris-130-1-web-1)" " ip=10.130.1.10 source=private " "ip: its private address (no public one)"
"$H" status cyris-130-1-nope > /dev/null 2> "$AWS_TMP/err"
is "$?" 1 "status of an unknown guest fails"
like "$(cat "$AWS_TMP/err")" "instance cyris-130-1-nope: not found" "... saying so"
ok "destroy through the provider" "$H" destroy cyris-130-1-web-1
is "$("$H" list 130)" "" "list: gone"
is "$(aws_boto "print(ec2.describe_instances(InstanceIds=['$id'])['Reservations'][0]['Instances'][0]['State']['Name'])")" \
	terminated "boto3: terminated"

# an instance without cyris's tags is not the provider's to destroy
other=$(aws_boto "print(ec2.run_instances(ImageId='$AMI', MinCount=1, MaxCount=1)['Instances'][0]['InstanceId'])")
"$H" destroy "$other" > /dev/null 2> "$AWS_TMP/err"
is "$?" 1 "destroy of an untagged instance is refused"
like "$(cat "$AWS_TMP/err")" "not cyris's" "... saying it is not cyris's"
is "$(aws_boto "print(ec2.describe_instances(InstanceIds=['$other'])['Reservations'][0]['Instances'][0]['State']['Name'])")" \
	running "and it still runs"
"$A" destroy --range 130 > /dev/null
done_testing
