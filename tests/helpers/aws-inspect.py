#!/usr/bin/env python3
# tests/helpers/aws-inspect.py — an independent look (boto3) at what cyris
# made on EC2: the tests compare it with the plan, never with cyris's own
# account of it.
#
#   aws-inspect.py state RANGE    one JSON document, ids replaced by names, sorted:
#                                 vpcs, subnets, groups (rules), instances (ENIs,
#                                 addresses, source/dest check), route tables,
#                                 internet gateways, addresses, key pairs, tags
#   aws-inspect.py tagged RANGE   every resource tagged cyris:range=RANGE, one
#                                 "KIND ID" a line (nothing: none is left)
#   aws-inspect.py untagged-vpc CIDR   make a VPC without cyris's tags (prints its id)
#
# The endpoint comes from AWS_ENDPOINT_URL; credentials from the environment.
import json
import os
import sys

import boto3


def client():
    return boto3.client("ec2", endpoint_url=os.environ["AWS_ENDPOINT_URL"],
                        region_name=os.environ.get("AWS_REGION", "us-west-2"))


def tags(o):
    return {t["Key"]: t["Value"] for t in o.get("Tags", [])}


def flt(rng):
    return [{"Name": "tag:cyris:range", "Values": [rng]}]


def reservations(c, f):
    """every page: EC2 (and moto, at 100) answers DescribeInstances in pages,
    and a test that made many ranges has more reservations than one holds"""
    return [r for p in c.get_paginator("describe_instances").paginate(Filters=f) for r in p["Reservations"]]


def tagged(c, rng):
    out = []
    f = flt(rng)
    for v in c.describe_vpcs(Filters=f)["Vpcs"]:
        out.append(("vpc", v["VpcId"]))
    for s in c.describe_subnets(Filters=f)["Subnets"]:
        out.append(("subnet", s["SubnetId"]))
    for g in c.describe_security_groups(Filters=f)["SecurityGroups"]:
        out.append(("security-group", g["GroupId"]))
    for r in reservations(c, f):
        for i in r["Instances"]:
            if i["State"]["Name"] != "terminated":
                out.append(("instance", i["InstanceId"]))
    for n in c.describe_network_interfaces(Filters=f)["NetworkInterfaces"]:
        out.append(("network-interface", n["NetworkInterfaceId"]))
    for t in c.describe_route_tables(Filters=f)["RouteTables"]:
        out.append(("route-table", t["RouteTableId"]))
    for g in c.describe_internet_gateways(Filters=f)["InternetGateways"]:
        out.append(("internet-gateway", g["InternetGatewayId"]))
    for a in c.describe_addresses(Filters=f)["Addresses"]:
        out.append(("elastic-ip", a["AllocationId"]))
    for k in c.describe_key_pairs(Filters=f)["KeyPairs"]:
        out.append(("key-pair", k["KeyPairId"]))
    return out


def state(c, rng):
    f = flt(rng)
    names = {}
    vpcs = c.describe_vpcs(Filters=f)["Vpcs"]
    subnets = c.describe_subnets(Filters=f)["Subnets"]
    groups = c.describe_security_groups(Filters=f)["SecurityGroups"]
    for v in vpcs:
        names[v["VpcId"]] = "vpc:" + tags(v).get("Name", "?")
    for s in subnets:
        names[s["SubnetId"]] = "subnet:" + tags(s).get("cyris:net", "?")
    for g in groups:
        names[g["GroupId"]] = "sg:" + g["GroupName"]
    doc = {"vpcs": [], "subnets": [], "groups": [], "instances": [], "route_tables": [],
           "internet_gateways": [], "addresses": [], "key_pairs": []}
    for v in vpcs:
        doc["vpcs"].append({"cidr": v["CidrBlock"], "tags": tags(v)})
    for s in subnets:
        doc["subnets"].append({"cidr": s["CidrBlock"], "vpc": names.get(s["VpcId"]), "az": s["AvailabilityZone"],
                               "tags": tags(s)})

    def perms(ps):
        out = []
        for p in ps:
            for r in p.get("IpRanges", []):
                out.append("%s %s-%s %s" % (p["IpProtocol"], p.get("FromPort", ""), p.get("ToPort", ""),
                                            r["CidrIp"]))
            for u in p.get("UserIdGroupPairs", []):
                out.append("%s group %s" % (p["IpProtocol"], names.get(u["GroupId"], u["GroupId"])))
        return sorted(out)

    for g in groups:
        doc["groups"].append({"name": g["GroupName"], "vpc": names.get(g["VpcId"]), "tags": tags(g),
                              "ingress": perms(g["IpPermissions"]), "egress": perms(g["IpPermissionsEgress"])})
    enis = {n["NetworkInterfaceId"]: n for n in
            c.describe_network_interfaces(Filters=f)["NetworkInterfaces"]}
    for r in reservations(c, f):
        for i in r["Instances"]:
            if i["State"]["Name"] == "terminated":
                continue
            nics = []
            for n in sorted(i["NetworkInterfaces"], key=lambda n: n["Attachment"]["DeviceIndex"]):
                e = enis.get(n["NetworkInterfaceId"], {})
                names[n["NetworkInterfaceId"]] = "eni:%s/%d" % (tags(i).get("Name"), n["Attachment"]["DeviceIndex"])
                nics.append({"index": n["Attachment"]["DeviceIndex"], "ip": n["PrivateIpAddress"],
                             "subnet": names.get(n["SubnetId"], n["SubnetId"]),
                             "groups": sorted(names.get(g["GroupId"], g["GroupId"]) for g in n["Groups"]),
                             "source_dest_check": n.get("SourceDestCheck", True),
                             "delete_on_termination": n["Attachment"].get("DeleteOnTermination"),
                             "public_ip": "yes" if n.get("Association", {}).get("PublicIp") else "no",
                             "eni_tagged": bool(tags(e).get("cyris:range"))})
            doc["instances"].append({"name": tags(i).get("Name"), "tags": tags(i), "image": i["ImageId"],
                                     "type": i["InstanceType"], "key": i.get("KeyName"), "nics": nics})
    for t in c.describe_route_tables(Filters=f)["RouteTables"]:
        routes = sorted("%s -> %s" % (r.get("DestinationCidrBlock"),
                                      "igw" if r.get("GatewayId", "").startswith("igw-") else
                                      "local" if r.get("GatewayId") == "local" else
                                      names.get(r.get("NetworkInterfaceId"), r.get("NetworkInterfaceId")))
                        for r in t["Routes"])
        doc["route_tables"].append({"tags": tags(t), "routes": routes,
                                    "subnets": sorted(names.get(a.get("SubnetId"), "main")
                                                      for a in t["Associations"])})
    for g in c.describe_internet_gateways(Filters=f)["InternetGateways"]:
        doc["internet_gateways"].append({"tags": tags(g),
                                         "vpcs": sorted(names.get(a["VpcId"]) for a in g["Attachments"])})
    for a in c.describe_addresses(Filters=f)["Addresses"]:
        doc["addresses"].append({"tags": tags(a), "eni": names.get(a.get("NetworkInterfaceId"), None)})
    for k in c.describe_key_pairs(Filters=f)["KeyPairs"]:
        doc["key_pairs"].append({"name": k["KeyName"], "tags": tags(k)})
    for k in doc:
        doc[k].sort(key=lambda x: json.dumps(x, sort_keys=True))
    return doc


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: aws-inspect.py state|tagged RANGE | untagged-vpc CIDR")
    c = client()
    if sys.argv[1] == "state":
        print(json.dumps(state(c, sys.argv[2]), indent=1, sort_keys=True))
    elif sys.argv[1] == "tagged":
        for k, i in tagged(c, sys.argv[2]):
            print(k, i)
    elif sys.argv[1] == "untagged-vpc":
        print(c.create_vpc(CidrBlock=sys.argv[2])["Vpc"]["VpcId"])
    else:
        sys.exit("aws-inspect.py: unknown command " + sys.argv[1])


main()
