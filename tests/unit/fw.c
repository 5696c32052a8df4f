/* SPDX-License-Identifier: MIT */
/* Firewall rules without a kernel: parsing, validation, the expansion into
 * kernel rules (golden: tests/dumps/fw-check.nft). */
#include <errno.h>
#include <sys/socket.h>

#include "cyris/fw.h"
#include "../tap.h"

static void parses(const char *in, const char *canon)
{
	struct cyris_fw_rule r;
	struct cyris_error err = {0};

	if (ok(cyris_fw_rule_parse(in, &r, &err) == 0, "parses: %s", in))
		is_str(r.text, canon, "  canonical text");
	else
		diag("error: %s", err.msg);
}

static void refuses(const char *in, const char *msg)
{
	struct cyris_fw_rule r;
	struct cyris_error err = {0};

	ok(cyris_fw_rule_parse(in, &r, &err) == -EINVAL, "refuses: %s", in);
	is_str(err.msg, msg, "  with the message");
}

static void test_parse(void)
{
	struct cyris_fw_rule r;

	parses("src=office,external dst=internal dport=3306",
	       "src=office,external dst=internal dport=3306 proto=tcp,udp");
	parses("  dst=internal    src=office  dport=25,53 ", "src=office dst=internal dport=25,53 proto=tcp,udp");
	parses("src=office dst=external dport=25 proto=tcp", "src=office dst=external dport=25 proto=tcp");
	parses("src=10.0.0.7/24 dst=10.1.0.5 proto=icmp", "src=10.0.0.7/24 dst=10.1.0.5 proto=icmp");
	parses("src=office dst=host dport=53 proto=udp", "src=office dst=host dport=53 proto=udp");
	parses("src=a dst=b sport=1024-65535 dport=80", "src=a dst=b sport=1024-65535 dport=80 proto=tcp,udp");
	parses("src=a dst=b", "src=a dst=b");
	cyris_fw_rule_parse("src=10.0.0.7/24 dst=b", &r, NULL);
	ok(r.src[0].is_prefix && r.src[0].prefix.len == 24 && r.src[0].prefix.ip.a[3] == 0,
	   "a CIDR source is kept as its network");
	refuses("src=office dst=internal colour=red", "unknown key 'colour' (src, dst, sport, dport, proto)");
	refuses("src=office src=lab dst=x", "src given twice");
	refuses("src=office dst=internal dport=0", "dport: '0' is not a port in 1..65535 or a range lo-hi");
	refuses("src=office dst=internal dport=70000", "dport: '70000' is not a port in 1..65535 or a range lo-hi");
	refuses("src=office dst=internal dport=90-80", "dport: range 90-80 is empty");
	refuses("src=office dst=internal proto=sctp", "proto: 'sctp' is not tcp, udp or icmp");
	refuses("src=office dst=internal dport=22 proto=icmp", "icmp has no ports");
	refuses("src=host dst=office", "src=host is not a forwarding source (the host's own traffic is not filtered)");
	refuses("src=10.0.0.300 dst=office", "src: '10.0.0.300' is not an address or CIDR");
	refuses("src=of fice", "'fice' is not key=value");
	refuses("src= dst=x", "src: empty value");
	refuses("", "empty rule");
}

static void test_policy(void)
{
	struct cyris_fw_policy p;
	struct cyris_fw_rule r;
	struct cyris_prefix a[2];
	struct cyris_ip desk;
	struct cyris_error err = {0};
	char *script = NULL;
	char *want = NULL;
	const char *src = getenv("CYRIS_SRC");
	char path[4096];
	FILE *f;
	size_t cap = 0;
	int n;

	ok(cyris_fw_policy_init(&p, "124") == 0, "a policy for range 124");
	is_int(cyris_fw_policy_init(&(struct cyris_fw_policy){0}, "bad id"), -EINVAL, "an invalid range id is refused");
	cyris_prefix_parse("10.124.1.1/24", true, &a[0]);
	cyris_prefix_parse("fd00:124:1::1/64", true, &a[1]);
	cyris_fw_policy_add_iface(&p, "office", "c124-of-x", a, 2);
	cyris_prefix_parse("10.124.2.1/24", true, &a[0]);
	cyris_fw_policy_add_iface(&p, "internal", "c124-in-x", a, 1);
	cyris_fw_policy_add_iface(&p, "empty", "c124-em-x", NULL, 0);
	cyris_fw_rule_parse("src=office dst=nowhere dport=1", &r, NULL);
	is_int(cyris_fw_policy_add_rule(&p, &r, &err), -EINVAL, "an unknown network is refused");
	is_str(err.msg, "dst: no network 'nowhere' in range 124", "  named");
	cyris_fw_rule_parse("src=office dst=empty dport=1", &r, NULL);
	cyris_fw_policy_add_rule(&p, &r, &err);
	is_str(err.msg, "dst: network 'empty' has no address", "a network without an address is refused");
	cyris_fw_rule_parse("src=office,internal dst=internal dport=3306", &r, NULL);
	ok(cyris_fw_policy_add_rule(&p, &r, &err) == 0, "a valid rule is added");
	cyris_fw_rule_parse("src=office dst=host,internal proto=icmp", &r, NULL);
	ok(cyris_fw_policy_add_rule(&p, &r, &err) == 0, "a rule to the host and a network");
	cyris_fw_rule_parse("dport=80 proto=tcp", &r, NULL);
	ok(cyris_fw_policy_add_rule(&p, &r, &err) == 0, "a rule without addresses");
	ok(cyris_fw_policy_add_expose(&p, &(struct cyris_fw_expose){ .host_port = 2222, .to_port = 22,
		.proto = CYRIS_FW_TCP, .to = a[0].ip }) == 0, "an expose");
	is_int(cyris_fw_policy_add_expose(&p, &(struct cyris_fw_expose){ .host_port = 2222, .to_port = 23,
		.proto = CYRIS_FW_TCP, .to = a[0].ip }), -EADDRINUSE, "the same host port twice is refused");
	cyris_ip_parse("10.124.1.10", &desk);
	ok(cyris_fw_policy_add_expose(&p, &(struct cyris_fw_expose){ .host_port = 2223, .to_port = 22,
		.proto = CYRIS_FW_TCP, .to = desk, .snat = true }) == 0, "an expose with snat");
	ok(cyris_fw_policy_add_nat(&p, "eth0") == 0, "a NAT interface");
	ok(cyris_fw_policy_add_ingress(&p, "eth1") == 0, "an ingress interface of entry points");
	is_int(cyris_fw_policy_add_ingress(&p, "not an ifname"), -EINVAL, "an ingress must be an interface name");
	n = cyris_fw_explain(&p, &script);
	ok(n > 0, "the policy expands into %d kernel rules", n);
	snprintf(path, sizeof(path), "%s/tests/dumps/fw-check.nft", src ? src : ".");
	if (getenv("CYRIS_UPDATE_GOLDEN") && (f = fopen(path, "w"))) {
		fputs(script, f);
		fclose(f);
	}
	if ((f = fopen(path, "r"))) {
		if (getdelim(&want, &cap, '\0', f) < 0) {
			free(want);
			want = NULL;
		}
		fclose(f);
	}
	if (!ok(want && script && strcmp(want, script) == 0, "the nft script matches fw-check.nft"))
		diag("got:\n%s", script ? script : "(null)");
	free(want);
	free(script);
	cyris_fw_policy_clear(&p);
}

/* A canonical text longer than the rule's text buffer: shortened for
 * messages (never a valid rule), whole from cyris_fw_rule_text(). */
static void test_long_text(void)
{
	const char *in = "src=198.51.100.0/25,198.51.100.128/25,203.0.113.0/25,203.0.113.128/25,"
			 "192.0.2.0/26,192.0.2.64/26,192.0.2.128/26,192.0.2.192/26,10.10.10.0/24,"
			 "10.10.11.0/24,10.10.12.0/24,10.10.13.0/24 dst=10.20.30.40,10.20.30.41 "
			 "sport=1000-2000,3000-4000 dport=3306,3307,3308 proto=tcp";
	struct cyris_fw_rule r, back;
	char *t;

	ok(cyris_fw_rule_parse(in, &r, NULL) == 0, "a rule of %zu bytes parses", strlen(in));
	ok(r.long_text, "  its canonical text is long");
	ok(strlen(r.text) < sizeof(r.text) && strcmp(r.text + strlen(r.text) - 4, " ...") == 0,
	   "  text is a shortened form ending in ' ...'");
	ok(cyris_fw_rule_parse(r.text, &back, NULL) < 0, "  which does not parse as a rule");
	t = cyris_fw_rule_text(&r);
	is_str(t, in, "  cyris_fw_rule_text() gives it whole");
	free(t);
}

/* A policy keeps its rules packed: each comes back field for field as it
 * went in (names, prefixes, host, ports, a long text, its line), in order. */
static void test_packed(void)
{
	static const char *const in[] = {
		"src=office,10.9.0.0/16 dst=host,internal,10.9.3.5,fd00:1::5 sport=1000-2000 dport=22,53 proto=tcp,udp",
		"src=198.51.100.0/25,198.51.100.128/25,203.0.113.0/25,203.0.113.128/25,192.0.2.0/26,"
		"192.0.2.64/26,192.0.2.128/26,192.0.2.192/26,10.10.10.0/24,10.10.11.0/24,10.10.12.0/24,"
		"10.10.13.0/24 dst=10.20.30.40,10.20.30.41 sport=1000-2000,3000-4000 dport=3306,3307 proto=tcp",
		"proto=icmp",
	};
	struct cyris_fw_policy p;
	struct cyris_fw_rule r[3], back;
	struct cyris_prefix a;
	size_t i;
	bool same = true;

	cyris_fw_policy_init(&p, "9");
	cyris_prefix_parse("10.9.1.1/24", false, &a);
	cyris_fw_policy_add_iface(&p, "office", "eth0", &a, 1);
	cyris_prefix_parse("fd00:9::1/64", false, &a);
	cyris_fw_policy_add_iface(&p, "internal", "eth1", &a, 1);
	for (i = 0; i < 3; i++) {
		cyris_fw_rule_parse(in[i], &r[i], NULL);
		r[i].line = (unsigned)(10 * i + 7);
		if (cyris_fw_policy_add_rule(&p, &r[i], NULL) < 0)
			same = false;
	}
	ok(same && p.n_rules == 3, "three rules added");
	for (i = 0; i < 3; i++) {
		char *t;

		memset(&back, 0x55, sizeof(back));
		is_int(cyris_fw_policy_rule(&p, i, &back), 0, "rule %zu read back", i);
		ok(memcmp(&back, &r[i], sizeof(back)) == 0, "  the same, byte for byte");
		t = cyris_fw_rule_text(&back);
		is_str(t, in[i], "  its whole text");
		free(t);
	}
	ok(r[1].long_text, "  (the second one's text is long)");
	is_int(cyris_fw_policy_rule(&p, 3, &back), -ENOENT, "none past the last");
	cyris_fw_policy_clear(&p);
}

/* A gateway's uplink guard: its rules in nft syntax, its comment read back. */
static void test_uplink(void)
{
	static const uint8_t mac[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
	struct cyris_prefix a;
	struct cyris_fw_policy p;
	struct cyris_fw_uplink u;
	char *script = NULL;

	cyris_prefix_parse("10.1.0.1/24", false, &a);
	cyris_fw_policy_init(&p, "7");
	cyris_fw_policy_add_iface(&p, "up", "eth0", &a, 1);
	cyris_fw_policy_add_iface(&p, "in", "eth1", NULL, 0);
	is_int(cyris_fw_policy_add_uplink(&p, "eth0", mac), 0, "an uplink");
	is_int(cyris_fw_policy_add_uplink(&p, "eth0", mac), -EEXIST, "  a second one for eth0: -EEXIST");
	ok(cyris_fw_explain(&p, &script) > 0, "explained");
	ok(script && strstr(script, "add rule inet cyris_7 forward iifname \"eth0\" meta nfproto ipv4 "
			    "ip saddr != 10.1.0.0/24 ether saddr != 02:11:22:33:44:55 counter drop"),
	   "  forward: IPv4 from outside eth0's subnet only from the host's MAC");
	ok(script && strstr(script, "add rule inet cyris_7 input iifname \"eth0\" meta nfproto ipv6 "
			    "ip6 saddr != { fe80::/10, :: } ether saddr != 02:11:22:33:44:55 counter drop"),
	   "  input: IPv6 but link-local only from the host's MAC");
	ok(script && strstr(script, "drop comment \"uplink eth0 from 02:11:22:33:44:55 "), "  its comment");
	ok(script && strstr(script, "uplink eth0") < strstr(script, "not range traffic"),
	   "  before anything else of the chain");
	free(script);
	cyris_fw_policy_clear(&p);
	is_int(cyris_fw_uplink_parse("uplink eth0 from 02:11:22:33:44:55 (other sources)", &u), 0,
	       "the comment parses");
	ok(strcmp(u.ifname, "eth0") == 0 && memcmp(u.mac, mac, 6) == 0, "  back to its interface and MAC");
	is_int(cyris_fw_uplink_parse("uplink eth0 from 02:11:22:33:44", &u), -EINVAL, "a short MAC: no");
	is_int(cyris_fw_uplink_parse("uplink eth0 from 02:11:22:33:44:55x", &u), -EINVAL, "a longer word: no");
	is_int(cyris_fw_uplink_parse("ingress up0: forwarding", &u), -EINVAL, "another comment: no");
}

int main(void)
{
	char name[CYRIS_FW_TABLESIZ];

	test_parse();
	test_policy();
	test_long_text();
	test_packed();
	cyris_fw_table_name("a-b.c", name, sizeof(name));
	is_str(name, "cyris_a-b.c", "a table is named after its range as it is");
	test_uplink();
	return done();
}
