/* SPDX-License-Identifier: MIT */
/*
 * The pure parts of vm/aws/ec2.c: forwarding rules compiled to security
 * group permissions (and what groups cannot express), AWS's reserved
 * addresses, base64 and the cloud-init user-data.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cyris/fw.h"
#include "../../vm/aws/ec2-priv.h"
#include "../tap.h"

/* The permissions of @rule (CyRIS's syntax) as "proto from-to cidr; ...",
 * or "error: MESSAGE". */
static char *perms(const char *rule)
{
	static char out[CYRIS_ERROR_MSG_MAX + 16];
	struct cyris_ec2 e;
	struct cyris_fw_rule fr;
	struct ec2_perms p = { 0 };
	size_t i, n = 0;

	memset(&e, 0, sizeof(e));
	if (cyris_fw_rule_parse(rule, &fr, NULL) < 0) {
		snprintf(out, sizeof(out), "parse error");
		return out;
	}
	if (ec2_rule_perms(&e, &fr, "10.1.0.0/22", &p) < 0) {
		snprintf(out, sizeof(out), "error: %s", e.err.msg);
		free(p.v);
		return out;
	}
	out[0] = '\0';
	for (i = 0; i < p.n; i++)
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%s %d-%d %s", i ? "; " : "", p.v[i].proto,
				      p.v[i].from, p.v[i].to, p.v[i].cidr);
	free(p.v);
	return out;
}

static const char *moved(const char *subnet, const char *ip)
{
	static char out[64];
	struct cyris_prefix s;
	struct cyris_ip a, b;

	cyris_prefix_parse(subnet, true, &s);
	cyris_ip_parse(ip, &a);
	b = ec2_addr(&s, &a);
	return cyris_ip_format(&b, out, sizeof(out));
}

int main(void)
{
	char *s;

	/* rules */
	is_str(perms("src=10.1.0.0/24 dport=22"), "tcp 22-22 10.1.0.0/24; udp 22-22 10.1.0.0/24",
	       "a port without proto: TCP and UDP");
	is_str(perms("src=10.1.0.0/24 dport=3306 proto=tcp"), "tcp 3306-3306 10.1.0.0/24", "proto=tcp: TCP only");
	is_str(perms("src=10.1.0.0/24"), "-1 0-0 10.1.0.0/24", "no port, no proto: every protocol");
	is_str(perms("src=10.1.0.7 dport=1000-2000 proto=udp"), "udp 1000-2000 10.1.0.7/32",
	       "an address is its /32, a range of ports one permission");
	is_str(perms("src=10.1.0.0/24 proto=icmp"), "icmp -1--1 10.1.0.0/24", "ICMP: every type");
	is_str(perms("dport=80 proto=tcp"), "tcp 80-80 10.1.0.0/22", "no src: from the range's VPC, not the internet");
	is_str(perms("proto=icmp"), "icmp -1--1 10.1.0.0/22", "no src, ICMP: from the VPC");
	is_str(perms("src=10.1.0.0/24,10.2.0.0/24 dport=25,53 proto=tcp"),
	       "tcp 25-25 10.1.0.0/24; tcp 53-53 10.1.0.0/24; tcp 25-25 10.2.0.0/24; tcp 53-53 10.2.0.0/24",
	       "lists: each source with each port");
	is_str(perms("src=10.1.0.0/24 sport=53 dport=53"),
	       "error: rule 'src=10.1.0.0/24 sport=53 dport=53 proto=tcp,udp': security groups cannot match a source port (sport)",
	       "sport is refused: groups cannot match it");
	is_str(perms("src=10.1.0.0/24 dst=host dport=22"),
	       "error: rule 'src=10.1.0.0/24 dst=host dport=22 proto=tcp,udp': there is no host in a VPC (dst=host)",
	       "dst=host is refused");
	is_str(perms("src=office dport=22"),
	       "error: rule 'src=office dport=22 proto=tcp,udp': 'office' is no network of the range",
	       "an unresolved name is refused");

	/* AWS's reserved addresses */
	is_str(moved("10.200.0.0/24", "10.200.0.1"), "10.200.0.4", ".1 (a gateway guest's) becomes .4");
	is_str(moved("10.200.0.0/24", "10.200.0.3"), "10.200.0.6", ".3 becomes .6");
	is_str(moved("10.200.0.0/24", "10.200.0.10"), "10.200.0.10", "members stay where they are");
	is_str(moved("10.200.0.0/24", "10.9.0.1"), "10.9.0.1", "an address outside the subnet is left alone");

	/* base64 (RFC 4648 test vectors) */
	s = ec2_base64("", 0); is_str(s, "", "base64 of nothing"); free(s);
	s = ec2_base64("f", 1); is_str(s, "Zg==", "base64 f"); free(s);
	s = ec2_base64("fo", 2); is_str(s, "Zm8=", "base64 fo"); free(s);
	s = ec2_base64("foo", 3); is_str(s, "Zm9v", "base64 foo"); free(s);
	s = ec2_base64("foobar", 6); is_str(s, "Zm9vYmFy", "base64 foobar"); free(s);

	/* cloud-init */
	{
		const char *keys[] = { "ssh-ed25519 AAAA a\"b\\c" };

		s = ec2_user_data("cyris-1-1-a-1", keys, 1);
		/* #cloud-config\nhostname: "cyris-1-1-a-1"\npreserve_hostname: false\nssh_authorized_keys:\n  - "ssh-ed25519 AAAA a\"b\\c"\n */
		is_str(s, "I2Nsb3VkLWNvbmZpZwpob3N0bmFtZTogImN5cmlzLTEtMS1hLTEiCnByZXNlcnZlX2hvc3RuYW1lOiBmYWxzZQpzc2hfYXV0aG9yaXplZF9rZXlzOgogIC0gInNzaC1lZDI1NTE5IEFBQUEgYVwiYlxcYyIK",
		       "user-data: hostname and keys, quoted for YAML, base64");
		free(s);
	}
	return done();
}
