/* SPDX-License-Identifier: MIT */
/* Unit tests without privileges: derived names, tags, addresses, MACs. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>

#include "cyris/addr.h"
#include "cyris/fw.h"
#include "cyris/link.h"
#include "cyris/netns.h"
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

/* Every id of up to 3 characters over {a, _, ., -} that does not start
 * with '-' or '.' (an id never does: an option, a hidden file): 42 ids. */
static size_t small_ids(char (*v)[4])
{
	static const char al[] = "a_.-";
	size_t n = 0, len, i, k;

	for (len = 1; len <= 3; len++) {
		size_t total = 1;

		for (i = 0; i < len; i++)
			total *= 4;
		for (k = 0; k < total; k++) {
			size_t x = k;

			for (i = 0; i < len; i++, x /= 4)
				v[n][i] = al[x % 4];
			v[n][len] = '\0';
			if (v[n][0] != '-' && v[n][0] != '.')
				n++;
		}
	}
	return n;
}

/* The readable names are injective: no two lists of ids share one, even
 * where the ids hold the separators. */
static void test_names_injective(void)
{
	static char ids[84][4];
	static char alt[84 * 84 * 2][CYRIS_ALTNAMSIZ], ns[84 * 84][CYRIS_NETNS_NAMSIZ];
	static char tbl[84][CYRIS_FW_TABLESIZ];
	size_t n = small_ids(ids), i, j, na = 0, nn = 0, dup = 0, bad = 0;

	for (i = 0; i < n; i++) {
		for (j = 0; j < n; j++) {
			bad += cyris_altname_bridge(ids[i], ids[j], 0, alt[na++]) < 0;
			bad += cyris_altname_bridge(ids[i], ids[j], 2, alt[na++]) < 0;
			bad += cyris_name_guest(ids[i], 1, ids[j], 1, ns[nn], sizeof(ns[0])) < 0;
			bad += !cyris_netns_name_valid(ns[nn]) || !cyris_id_valid(ns[nn] + 6) ||
			       strlen(ns[nn]) > CYRIS_ID_MAX * 2 + 20;
			nn++;
		}
		bad += cyris_fw_table_name(ids[i], tbl[i], sizeof(tbl[0])) < 0;
	}
	is_int(bad, 0, "%zu altnames, %zu namespace names, %zu table names made, valid names", na, nn, n);
	qsort(alt, na, sizeof(alt[0]), cmp_str);
	qsort(ns, nn, sizeof(ns[0]), cmp_str);
	qsort(tbl, n, sizeof(tbl[0]), cmp_str);
	for (i = 1; i < na; i++)
		dup += strcmp(alt[i - 1], alt[i]) == 0;
	for (i = 1; i < nn; i++)
		dup += strcmp(ns[i - 1], ns[i]) == 0;
	for (i = 1; i < n; i++)
		dup += strcmp(tbl[i - 1], tbl[i]) == 0;
	is_int(dup, 0, "no two (range, network), (range, guest) or ranges share a name");
}

static void test_names_escape(void)
{
	char a[CYRIS_ALTNAMSIZ], b[CYRIS_ALTNAMSIZ], t[CYRIS_FW_TABLESIZ], u[CYRIS_FW_TABLESIZ];
	char g[CYRIS_NETNS_NAMSIZ], h[CYRIS_NETNS_NAMSIZ], id[CYRIS_ID_MAX + 1];

	cyris_altname_bridge("1", "a-b", 0, a);
	cyris_altname_bridge("1-a", "b", 0, b);
	is_str(a, "cyris-1-a.-b", "range 1 network a-b: the dash inside the id is escaped");
	is_str(b, "cyris-1.-a-b", "range 1-a network b: another name");
	cyris_altname_bridge("a.b", "c", 0, a);
	cyris_altname_bridge("a", "b.c", 3, b);
	is_str(a, "cyris-a..b-c", "a dot inside an id is doubled");
	is_str(b, "cyris-a-i3-b..c", "the instance part of an altname");
	cyris_altname_bridge("r", "i3-n", 0, a);
	cyris_altname_bridge("r", "n", 3, b);
	ok(strcmp(a, b) != 0, "network i3-n of instance 1 is not network n of instance 3 (%s, %s)", a, b);
	cyris_fw_table_name("a-b", t, sizeof(t));
	cyris_fw_table_name("a_b", u, sizeof(u));
	ok(strcmp(t, u) != 0, "ranges a-b and a_b get two tables (%s, %s)", t, u);
	cyris_fw_table_name("124", t, sizeof(t));
	is_str(t, "cyris_124", "a numeric range keeps its table name");
	cyris_name_guest("124", 1, "desktop", 2, g, sizeof(g));
	is_str(g, "cyris-124-1-desktop-2", "ids without . or - keep the plain namespace name");
	cyris_name_guest("a", 1, "b-1-c", 1, g, sizeof(g));
	cyris_name_guest("a-1-b", 1, "c", 1, h, sizeof(h));
	ok(strcmp(g, h) != 0, "range a guest b-1-c and range a-1-b guest c get two names (%s, %s)", g, h);
	is_int(cyris_name_guest("a", 1, "b", 1, g, 10), -ENAMETOOLONG, "a name that does not fit is refused");
	for (size_t k = 0; k < CYRIS_ID_MAX; k++)
		id[k] = k ? '-' : 'a';
	id[CYRIS_ID_MAX] = '\0';
	is_int(cyris_altname_bridge(id, id, 2, a), -ENAMETOOLONG,
	       "an altname past the kernel's 127 bytes is refused, not cut");
	is_int(cyris_altname_bridge("x y", "n", 0, a), -EINVAL, "a bad id is refused");
}

static void test_describe(void)
{
	struct cyris_tag t = {0};
	char buf[200];

	strcpy(t.range, "124");
	strcpy(t.net, "office");
	strcpy(t.role, "bridge");
	cyris_tag_describe(&t, buf, sizeof(buf));
	is_str(buf, "the bridge of network office of range 124", "a bridge in words");
	strcpy(t.guest, "desktop.1");
	strcpy(t.nic, "eth0");
	strcpy(t.role, "veth");
	t.instance = 2;
	cyris_tag_describe(&t, buf, sizeof(buf));
	is_str(buf, "the veth of guest desktop.1 eth0 on network office of instance 2 of range 124",
	       "a guest's veth in words");
	memset(&t, 0, sizeof(t));
	strcpy(t.range, "124");
	strcpy(t.guest, "desktop.1");
	strcpy(t.role, "guest");
	cyris_tag_describe(&t, buf, sizeof(buf));
	is_str(buf, "guest desktop.1 of range 124", "a guest in words");
	is_int(cyris_tag_describe(&t, buf, 8), -ENOSPC, "too small a buffer is -ENOSPC");
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
	test_names_injective();
	test_names_escape();
	test_describe();
	test_ifname();
	test_tags();
	test_prefix();
	test_mac();
	return done();
}
