#!/usr/bin/env python3
# tests/bench/aws-boto.py up|down RANGE AMI CIDR — the boto3 path of the AWS
# benchmark: the resources cyris-topo up --provider aws makes for dmz.yml,
# made the way the Python system does it, one call per resource (create,
# then tag it in a second call), and taken down by looking each resource up
# by its tag and deleting it, one describe and one delete per resource.
import os
import sys
import time

import boto3

NETS = [("external", "10.200.0.0/24"), ("internal", "10.200.1.0/24"), ("office", "10.200.2.0/24")]
# guest: [(net, address)], role
GUESTS = [("firewall.1", [("external", "10.200.0.4"), ("internal", "10.200.1.4"), ("office", "10.200.2.4")]),
          ("dnsmail.1", [("external", "10.200.0.10")]), ("filesrv.1", [("internal", "10.200.1.10")]),
          ("dbsrv.1", [("internal", "10.200.1.11")]), ("desktop.1", [("office", "10.200.2.10")])]
RULES = {"external": [("tcp", 25, "10.200.2.0/24"), ("udp", 25, "10.200.2.0/24"),
                      ("tcp", 53, "10.200.2.0/24"), ("udp", 53, "10.200.2.0/24")],
         "filesrv.1": [(p, q, s) for p in ("tcp", "udp") for q in (139, 445)
                       for s in ("10.200.2.0/24", "10.200.0.0/24")],
         "dbsrv.1": [(p, 3306, s) for p in ("tcp", "udp") for s in ("10.200.2.0/24", "10.200.0.0/24")]}


def ec2():
    return boto3.client("ec2", endpoint_url=os.environ["AWS_ENDPOINT_URL_EC2"],
                        region_name=os.environ.get("AWS_REGION", "us-east-1"))


def tag(c, rid, rng, **kv):
    tags = [{"Key": "cyris:range", "Value": rng}] + [{"Key": "cyris:" + k, "Value": v} for k, v in kv.items()]
    c.create_tags(Resources=[rid], Tags=tags)


def up(c, rng, ami, cidr):
    vpc = c.create_vpc(CidrBlock="10.200.0.0/22")["Vpc"]["VpcId"]
    tag(c, vpc, rng, role="vpc")
    subnets, groups = {}, {}
    for n, cdr in NETS:
        subnets[n] = c.create_subnet(VpcId=vpc, CidrBlock=cdr)["Subnet"]["SubnetId"]
        tag(c, subnets[n], rng, net=n)
    for name, own in [(n, c) for n, c in NETS] + [(g, None) for g in ("firewall.1", "filesrv.1", "dbsrv.1")]:
        g = c.create_security_group(GroupName="b-%s-%s" % (rng, name), Description="x", VpcId=vpc)["GroupId"]
        tag(c, g, rng, group=name)
        c.revoke_security_group_egress(GroupId=g, IpPermissions=[{"IpProtocol": "-1",
                                                                  "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        c.authorize_security_group_egress(GroupId=g, IpPermissions=[{"IpProtocol": "-1",
                                                                     "IpRanges": [{"CidrIp": "10.200.0.0/22"}]}])
        if own:
            c.authorize_security_group_ingress(GroupId=g, IpPermissions=[{"IpProtocol": "-1",
                                                                          "IpRanges": [{"CidrIp": own}]}])
        for p, port, src in RULES.get(name, []):
            c.authorize_security_group_ingress(GroupId=g, IpProtocol=p, FromPort=port, ToPort=port, CidrIp=src)
        groups[name] = g
    c.authorize_security_group_ingress(GroupId=groups["firewall.1"], IpProtocol="tcp", FromPort=22, ToPort=22,
                                       CidrIp=cidr)
    igw = c.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    tag(c, igw, rng, role="igw")
    c.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    enis = {}
    for g, nics in GUESTS:
        spec = []
        for k, (n, a) in enumerate(nics):
            gs = [groups[n]] + ([groups[g]] if g in groups else [])
            spec.append({"DeviceIndex": k, "SubnetId": subnets[n], "PrivateIpAddress": a, "Groups": gs,
                         "DeleteOnTermination": True})
        i = c.run_instances(ImageId=ami, InstanceType="t3.micro", MinCount=1, MaxCount=1,
                            NetworkInterfaces=spec)["Instances"][0]
        tag(c, i["InstanceId"], rng, guest=g)
        enis[g] = [n["NetworkInterfaceId"] for n in sorted(i["NetworkInterfaces"],
                                                           key=lambda n: n["Attachment"]["DeviceIndex"])]
    for e in enis["firewall.1"]:
        c.modify_network_interface_attribute(NetworkInterfaceId=e, SourceDestCheck={"Value": False})
    for k, (n, _) in enumerate(NETS):
        rt = c.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        tag(c, rt, rng, net=n)
        for m, cdr in NETS:
            if m != n:
                c.create_route(RouteTableId=rt, DestinationCidrBlock=cdr, NetworkInterfaceId=enis["firewall.1"][k])
        if n == "external":
            c.create_route(RouteTableId=rt, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
        c.associate_route_table(RouteTableId=rt, SubnetId=subnets[n])
    a = c.allocate_address(Domain="vpc")["AllocationId"]
    tag(c, a, rng, role="entry")
    c.associate_address(AllocationId=a, NetworkInterfaceId=enis["firewall.1"][0])


def one(c, rng, kind):
    """the ids of @kind tagged with @rng, as a Python system lists them"""
    f = [{"Name": "tag:cyris:range", "Values": [rng]}]
    if kind == "address":
        return [(a["AllocationId"], a.get("AssociationId")) for a in c.describe_addresses(Filters=f)["Addresses"]]
    if kind == "instance":
        return [i["InstanceId"] for r in c.describe_instances(Filters=f)["Reservations"] for i in r["Instances"]
                if i["State"]["Name"] != "terminated"]
    if kind == "group":
        return [g["GroupId"] for g in c.describe_security_groups(Filters=f)["SecurityGroups"]]
    if kind == "subnet":
        return [s["SubnetId"] for s in c.describe_subnets(Filters=f)["Subnets"]]
    if kind == "table":
        return [(t["RouteTableId"], [a["RouteTableAssociationId"] for a in t["Associations"] if not a["Main"]])
                for t in c.describe_route_tables(Filters=f)["RouteTables"]]
    if kind == "igw":
        return [(g["InternetGatewayId"], [a["VpcId"] for a in g["Attachments"]])
                for g in c.describe_internet_gateways(Filters=f)["InternetGateways"]]
    if kind == "vpc":
        return [v["VpcId"] for v in c.describe_vpcs(Filters=f)["Vpcs"]]


def down(c, rng):
    for a, assoc in one(c, rng, "address"):
        if assoc:
            c.disassociate_address(AssociationId=assoc)
        c.release_address(AllocationId=a)
    for i in one(c, rng, "instance"):
        c.terminate_instances(InstanceIds=[i])
        while c.describe_instances(InstanceIds=[i])["Reservations"][0]["Instances"][0]["State"]["Name"] != "terminated":
            time.sleep(0.2)
    for g in one(c, rng, "group"):
        c.describe_security_groups(GroupIds=[g])
        c.delete_security_group(GroupId=g)
    for s in one(c, rng, "subnet"):
        c.describe_subnets(SubnetIds=[s])
        c.delete_subnet(SubnetId=s)
    for t, assocs in one(c, rng, "table"):
        for a in assocs:
            c.disassociate_route_table(AssociationId=a)
        c.delete_route_table(RouteTableId=t)
    for g, vpcs in one(c, rng, "igw"):
        for v in vpcs:
            c.detach_internet_gateway(InternetGatewayId=g, VpcId=v)
        c.delete_internet_gateway(InternetGatewayId=g)
    for v in one(c, rng, "vpc"):
        c.describe_vpcs(VpcIds=[v])
        c.delete_vpc(VpcId=v)


if __name__ == "__main__":
    c = ec2()
    if sys.argv[1] == "up":
        up(c, sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        down(c, sys.argv[2])
