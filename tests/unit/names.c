/* SPDX-License-Identifier: MIT */
/* Unit tests without privileges: derived names, tags, addresses, MACs. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>

#include "cyris/addr.h"
#include "cyris/link.h"
#include "cyris/tag.h"
#include "../tap.h"

static int cmp_str(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

/* 200 ranges x 100 networks: every derived name is valid, at most 15
 * bytes, and no two (range, net) pairs share one. */
static void test_names_distinct(void)
{
	enum { NR = 200, NN = 100 };
	static char names[NR * NN][CYRIS_IFNAMSIZ];
	char r[16], n[16];
	size_t i, k = 0, bad = 0, dup = 0;

	for (i = 0; i < NR; i++) {
		for (size_t j = 0; j < NN; j++, k++) {
			snprintf(r, sizeof(r), "%zu", 100 + i);
			snprintf(n, sizeof(n), "net%zu", j);
			if (cyris_name_bridge(r, n, 0, names[k]) < 0 ||
			    strlen(names[k]) > 15 || !cyris_ifname_valid(names[k]))
				bad++;
		}
	}
	qsort(names, k, sizeof(names[0]), cmp_str);
	for (i = 1; i < k; i++)
		if (strcmp(names[i - 1], names[i]) == 0)
			dup++;
	is_int(bad, 0, "%zu derived names are valid and at most 15 bytes", k);
	is_int(dup, 0, "no two of %zu (range, net) pairs share a name", k);
}

static void test_names(void)
{
	char a[CYRIS_IFNAMSIZ], b[CYRIS_IFNAMSIZ], alt[CYRIS_ALTNAMSIZ];
	const char *parts[] = { "124", "office" };

	ok(cyris_name_bridge("124", "office", 0, a) == 0, "derive a name");
	cyris_name_bridge("124", "office", 0, b);
	is_str(a, b, "derivation is deterministic");
	is_str(a, "c124-of-5tx1pd", "the name is stable across releases");
	cyris_name_bridge("124", "office", 1, b);
	is_str(a, b, "instance 1 is the plain name");
	cyris_name_bridge("124", "office", 2, b);
	ok(strcmp(a, b) != 0, "instance 2 gets another name (%s)", b);
	cyris_name_bridge("1240", "ffice", 0, b);
	ok(strcmp(a, b) != 0, "shifting characters between parts changes the name");
	cyris_name_derive('v', parts, 2, b);
	ok(b[0] == 'v' && strcmp(a + 1, b + 1) != 0, "the kind is part of the hash");
	ok(cyris_name_bridge("a-very-long-range-id-0123456789", "a-long-network-name", 0, a) == 0 &&
	   strlen(a) <= 15, "long ids still give <= 15 bytes (%s)", a);
	is_int(cyris_name_bridge("bad id", "x", 0, a), -EINVAL, "a space in an id is refused");
	is_int(cyris_name_bridge("", "x", 0, a), -EINVAL, "an empty id is refused");
	is_int(cyris_name_bridge("r", "x/y", 0, a), -EINVAL, "a slash is refused");
	cyris_altname_bridge("124", "office", 0, alt);
	is_str(alt, "cyris-124-office", "the readable altname");
	cyris_altname_bridge("124", "office", 3, alt);
	is_str(alt, "cyris-124-i3-office", "the altname of instance 3");
	ok((cyris_range_group("124") & 0xc0000000u) == 0x40000000u,
	   "range groups are in 0x40000000..0x7fffffff");
	ok(cyris_range_group("124") != cyris_range_group("125"), "ranges get different groups");
}

static void test_ifname(void)
{
	ok(cyris_ifname_valid("eth0"), "eth0 is a valid name");
	ok(cyris_ifname_valid("123456789012345"), "15 bytes is valid");
	ok(!cyris_ifname_valid("1234567890123456"), "16 bytes is not");
	ok(!cyris_ifname_valid("a b") && !cyris_ifname_valid("a/b") &&
	   !cyris_ifname_valid("a:b") && !cyris_ifname_valid(".") &&
	   !cyris_ifname_valid("..") && !cyris_ifname_valid(""),
	   "space, slash, colon, dot, dot-dot and empty are not");
}

static void test_tags(void)
{
	struct cyris_tag t = {0}, u;
	char buf[CYRIS_ALIASSIZ];

	strcpy(t.range, "124");
	strcpy(t.net, "office");
	strcpy(t.role, "bridge");
	ok(cyris_tag_format(&t, buf, sizeof(buf)) > 0, "format a tag");
	is_str(buf, "cyris range=124 net=office role=bridge", "tag text");
	ok(cyris_tag_parse(buf, &u), "parse it back");
	ok(memcmp(&t, &u, sizeof(t)) == 0, "round trip keeps every field");
	t.instance = 2;
	strcpy(t.guest, "desktop.1");
	strcpy(t.nic, "eth0");
	cyris_tag_format(&t, buf, sizeof(buf));
	is_str(buf, "cyris range=124 inst=2 net=office guest=desktop.1 nic=eth0 role=bridge",
	       "a full tag");
	ok(cyris_tag_parse(buf, &u) && memcmp(&t, &u, sizeof(t)) == 0, "full round trip");
	ok(cyris_tag_parse("cyris", &u) && !u.range[0], "a bare 'cyris' is owned, no range");
	ok(cyris_tag_parse("cyris range=9 future=1", &u) && strcmp(u.range, "9") == 0,
	   "unknown keys are ignored");
	ok(!cyris_tag_parse("cyrisx range=1", NULL), "'cyrisx' is not a tag");
	ok(!cyris_tag_parse("uplink to core", NULL), "a foreign alias is not a tag");
	ok(!cyris_tag_parse(NULL, NULL), "no alias is not a tag");
	ok(cyris_tag_in_range(&t, "124") && !cyris_tag_in_range(&t, "12"),
	   "range match is exact");
	strcpy(t.range, "x y");
	ok(cyris_tag_format(&t, buf, sizeof(buf)) == -EINVAL, "an invalid id is not formatted");
}

static void test_prefix(void)
{
	struct cyris_prefix p, q;
	struct cyris_ip ip;
	char buf[CYRIS_PREFIXSTRLEN];

	ok(cyris_prefix_parse("10.1.2.3/24", true, &p) == 0 && p.ip.family == AF_INET &&
	   p.len == 24, "parse an IPv4 CIDR");
	is_str(cyris_prefix_format(&p, buf, sizeof(buf)), "10.1.2.3/24", "format it");
	q = cyris_prefix_network(&p);
	is_str(cyris_prefix_format(&q, buf, sizeof(buf)), "10.1.2.0/24", "its network");
	ok(cyris_prefix_parse("fd00::1/64", true, &p) == 0 && p.ip.family == AF_INET6,
	   "parse an IPv6 CIDR");
	is_int(cyris_prefix_parse("10.1.2.3", true, &p), -EINVAL, "a CIDR needs a length");
	ok(cyris_prefix_parse("10.1.2.3", false, &p) == 0 && p.len == 32,
	   "a bare address is a /32 when allowed");
	is_int(cyris_prefix_parse("10.1.2.300/24", true, &p), -EINVAL, "octet 300 is refused");
	is_int(cyris_prefix_parse("10.1.2.3/33", true, &p), -EINVAL, "/33 is refused");
	is_int(cyris_prefix_parse("10.1.2.3/", true, &p), -EINVAL, "an empty length is refused");
	is_int(cyris_prefix_parse("fd00::1/129", true, &p), -EINVAL, "/129 is refused");
	cyris_prefix_parse("10.0.0.0/16", true, &p);
	cyris_prefix_parse("10.0.5.0/24", true, &q);
	ok(cyris_prefix_overlap(&p, &q) && cyris_prefix_overlap(&q, &p), "/24 inside /16 overlaps");
	cyris_prefix_parse("10.1.0.0/16", true, &q);
	ok(!cyris_prefix_overlap(&p, &q), "10.0/16 and 10.1/16 do not overlap");
	cyris_ip_parse("10.0.255.255", &ip);
	ok(cyris_prefix_contains(&p, &ip), "10.0.255.255 is in 10.0.0.0/16");
}

static void test_mac(void)
{
	uint8_t m[6];
	char buf[18];

	ok(cyris_mac_parse("02:00:5E:10:00:01", m) == 0, "parse a MAC");
	is_str(cyris_mac_format(m, buf), "02:00:5e:10:00:01", "format it in lower case");
	is_int(cyris_mac_parse("02:00:5e:10:00", m), -EINVAL, "five bytes are refused");
	is_int(cyris_mac_parse("02-00-5e-10-00-01", m), -EINVAL, "dashes are refused");
	is_int(cyris_mac_parse("0g:00:5e:10:00:01", m), -EINVAL, "a non-hex digit is refused");
}

int main(void)
{
	test_names();
	test_names_distinct();
	test_ifname();
	test_tags();
	test_prefix();
	test_mac();
	return done();
}
