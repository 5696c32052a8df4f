/* SPDX-License-Identifier: MIT */
/* Range files and plans without a kernel: every CyRIS example parses, every
 * class of mistake is reported at FILE:LINE:COLUMN, plans are deterministic,
 * and the configuration's precedence holds. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cyris/conf.h"
#include "cyris/plan.h"
#include "cyris/range.h"
#include "../../net/base/util.h"
#include "../tap.h"

static const char *examples[] = { "basic.yml", "basic-aws.yml", "basic-multi_host.yml",
				  "basic-windows7.yml", "dmz.yml", "full.yml" };

static char dir[4096];

static void test_examples(void)
{
	size_t i;

	for (i = 0; i < sizeof(examples) / sizeof(examples[0]); i++) {
		struct cyris_range *r = NULL;
		struct cyris_error err = {0};
		char path[4200];
		int rc;

		snprintf(path, sizeof(path), "%s/%s", dir, examples[i]);
		rc = cyris_range_load(path, &r, &err);
		if (!ok(rc == 0, "%s parses", examples[i]))
			diag("%s", err.msg);
		cyris_range_free(r);
	}
}

/* Write @yaml to a temporary file and load it; return the error text. */
static int load_text(const char *yaml, struct cyris_error *err, char *path, size_t plen)
{
	struct cyris_range *r = NULL;
	FILE *f;
	int fd, rc;

	snprintf(path, plen, "/tmp/cyris-range-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	fputs(yaml, f);
	fclose(f);
	rc = cyris_range_load(path, &r, err);
	cyris_range_free(r);
	unlink(path);
	return rc;
}

#define HEAD "- host_settings:\n  - id: host_1\n    mgmt_addr: localhost\n" \
	     "- guest_settings:\n  - id: desk\n    basevm_type: kvm\n  - id: fw\n    basevm_type: kvm\n"

#define CLONE "- clone_settings:\n  - range_id: 7\n    hosts:\n    - host_id: host_1\n      guests:\n" \
	      "      - guest_id: desk\n      topology:\n      - type: custom\n        networks:\n" \
	      "        - name: a\n          members: desk.eth0\n"

static void bad(const char *what, const char *yaml, const char *want)
{
	struct cyris_error err = {0};
	char path[64], expect[600];

	ok(load_text(yaml, &err, path, sizeof(path)) == -EINVAL, "%s is refused", what);
	snprintf(expect, sizeof(expect), "%s:%s", path, want);
	is_str(err.msg, expect, "  at FILE:LINE:COLUMN");
}

static void test_errors(void)
{
	bad("an unknown guest in members",
	    HEAD "- clone_settings:\n  - range_id: 7\n    hosts:\n    - host_id: host_1\n      guests:\n"
	    "      - guest_id: desk\n      topology:\n      - type: custom\n        networks:\n"
	    "        - name: a\n          members: desk.eth0, nobody.eth0\n",
	    "19:31: unknown guest 'nobody' in members (not in this host entry's guests)");
	bad("an unknown guest in gateway",
	    HEAD "- clone_settings:\n  - range_id: 7\n    hosts:\n    - host_id: host_1\n      guests:\n"
	    "      - guest_id: desk\n      topology:\n      - type: custom\n        networks:\n"
	    "        - name: a\n          members: desk.eth0\n          gateway: fw.eth0\n",
	    "20:20: unknown guest 'fw' in gateway (not in this host entry's guests)");
	bad("a NIC on two networks",
	    HEAD "- clone_settings:\n  - range_id: 7\n    hosts:\n    - host_id: host_1\n      guests:\n"
	    "      - guest_id: desk\n      topology:\n      - type: custom\n        networks:\n"
	    "        - name: a\n          members: desk.eth0\n        - name: b\n          members: desk.eth0\n",
	    "21:20: desk.eth0 is already on network 'a'");
	bad("duplicate network names",
	    HEAD "- clone_settings:\n  - range_id: 7\n    hosts:\n    - host_id: host_1\n      guests:\n"
	    "      - guest_id: desk\n      topology:\n      - type: custom\n        networks:\n"
	    "        - name: a\n          members: desk.eth0\n        - name: a\n          members: desk.eth1\n",
	    "20:11: duplicate network name 'a'");
	bad("bad rule syntax",
	    HEAD "- clone_settings:\n  - range_id: 7\n    hosts:\n    - host_id: host_1\n      guests:\n"
	    "      - guest_id: desk\n        forwarding_rules:\n        - rule: src=a dst=b port=22\n"
	    "      topology:\n      - type: custom\n        networks:\n"
	    "        - name: a\n          members: desk.eth0\n",
	    "16:17: rule 'src=a dst=b port=22': unknown key 'port' (src, dst, sport, dport, proto)");
	bad("a rule naming no network",
	    HEAD "- clone_settings:\n  - range_id: 7\n    hosts:\n    - host_id: host_1\n      guests:\n"
	    "      - guest_id: desk\n        forwarding_rules:\n        - rule: src=a dst=b.db dport=22\n"
	    "      topology:\n      - type: custom\n        networks:\n"
	    "        - name: a\n          members: desk.eth0\n",
	    "16:17: rule 'src=a dst=b.db dport=22': no network 'b' (in 'b.db')");
	bad("forwarding_rules on a host entry",
	    HEAD "- clone_settings:\n  - range_id: 7\n    hosts:\n    - host_id: host_1\n"
	    "      forwarding_rules:\n      - rule: src=a dst=a\n      guests:\n"
	    "      - guest_id: desk\n      topology:\n      - type: custom\n        networks:\n"
	    "        - name: a\n          members: desk.eth0\n",
	    "14:7: forwarding_rules belong to a guest entry under 'guests' (in CyRIS, the gateway's)");
	bad("a missing range_id",
	    HEAD "- clone_settings:\n  - hosts:\n    - host_id: host_1\n",
	    "10:5: 'range_id' is missing");
	bad("an unknown host",
	    HEAD "- clone_settings:\n  - range_id: 7\n    hosts:\n    - host_id: host_9\n      guests:\n"
	    "      - guest_id: desk\n      topology:\n      - type: custom\n        networks:\n"
	    "        - name: a\n          members: desk.eth0\n",
	    "12:7: unknown host 'host_9' (not in host_settings)");
	bad("an unknown guest in clone guests",
	    HEAD "- clone_settings:\n  - range_id: 7\n    hosts:\n    - host_id: host_1\n      guests:\n"
	    "      - guest_id: web\n      topology:\n      - type: custom\n        networks: []\n",
	    "14:9: unknown guest 'web' (not in guest_settings)");
	bad("a member that is not GUEST.ethN",
	    HEAD "- clone_settings:\n  - range_id: 7\n    hosts:\n    - host_id: host_1\n      guests:\n"
	    "      - guest_id: desk\n      topology:\n      - type: custom\n        networks:\n"
	    "        - name: a\n          members: desk.wlan0\n",
	    "19:20: 'desk.wlan0' is not GUEST.ethN");
	bad("an empty range_id",
	    HEAD "- clone_settings:\n  - range_id: ''\n    hosts: []\n", "10:15: 'range_id' is empty");
	bad("a duplicate host id", HEAD "- host_settings:\n  - id: host_1\n" CLONE, "10:5: duplicate host id 'host_1'");
	bad("a duplicate guest id", HEAD "- guest_settings:\n  - id: fw\n  - id: desk\n" CLONE,
	    "10:5: duplicate guest id 'fw'");
	bad("a guest id too long for its clones' names",
	    "- host_settings:\n  - id: host_1\n- guest_settings:\n  - id: abcdefghijabcdefghijabcdefghij1\n"
	    "- clone_settings:\n  - range_id: 7\n    hosts:\n    - host_id: host_1\n      guests:\n"
	    "      - guest_id: abcdefghijabcdefghijabcdefghij1\n        number: 10\n      topology: []\n",
	    "10:9: guest id 'abcdefghijabcdefghijabcdefghij1' is too long for number: 10 "
	    "(clone names 'abcdefghijabcdefghijabcdefghij1.10' are at most 32 bytes)");
	bad("a gateway that is a member of its network too",
	    HEAD "- clone_settings:\n  - range_id: 7\n    hosts:\n    - host_id: host_1\n      guests:\n"
	    "      - guest_id: desk\n      - guest_id: fw\n      topology:\n      - type: custom\n"
	    "        networks:\n        - name: a\n          members: desk.eth0, fw.eth1\n"
	    "          gateway: fw.eth0\n",
	    "21:20: 'fw' is the gateway of network 'a' and one of its members too");
	bad("a rule that mixes IPv4 and IPv6",
	    HEAD "- clone_settings:\n  - range_id: 7\n    hosts:\n    - host_id: host_1\n      guests:\n"
	    "      - guest_id: desk\n        forwarding_rules:\n        - rule: src=a dst=fd00::/64 dport=22\n"
	    "      topology:\n      - type: custom\n        networks:\n"
	    "        - name: a\n          members: desk.eth0\n",
	    "16:17: rule 'src=a dst=fd00::/64 dport=22': mixes IPv4 and IPv6 (src and dst must be of one "
	    "address family; a range's networks are IPv4)");
	bad("a guest with 9 NICs",
	    HEAD "- clone_settings:\n  - range_id: 7\n    hosts:\n    - host_id: host_1\n      guests:\n"
	    "      - guest_id: desk\n      topology:\n      - type: custom\n        networks:\n"
	    "        - name: a\n          members: [desk.eth0, desk.eth1, desk.eth2, desk.eth3, desk.eth4, "
	    "desk.eth5, desk.eth6, desk.eth7, desk.eth8]\n",
	    "19:109: guest 'desk' has more than 8 NICs");
	bad("a network with more ports than a bridge holds",
	    HEAD "- clone_settings:\n  - range_id: 7\n    hosts:\n    - host_id: host_1\n      guests:\n"
	    "      - guest_id: desk\n        number: 1000\n      - guest_id: fw\n        number: 24\n"
	    "      topology:\n      - type: custom\n        networks:\n"
	    "        - name: a\n          members: desk.eth0, fw.eth0\n",
	    "21:11: network 'a' needs 1024 ports on its bridge (its members' clones); a Linux bridge holds "
	    "at most 1023");
	bad("broken YAML", "- host_settings:\n  - id: [\n", "3:1: YAML: did not find expected node content");
}

/* A growing text buffer for generated files. */
struct text {
	char *s;
	size_t len, cap;
};

static void add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (t->len + (size_t)n + 1 > t->cap) {
		t->cap = (t->len + (size_t)n + 1) * 2;
		t->s = realloc(t->s, t->cap);
		if (!t->s)
			abort();
	}
	va_start(ap, fmt);
	vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
	va_end(ap);
	t->len += (size_t)n;
}


/* issue 10: a second host_settings / guest_settings item, the two together
 * more than one allocation step (16) long, wrote past the arrays. */
static void test_repeated_sections(void)
{
	struct text t = {0};
	struct cyris_range *r = NULL;
	struct cyris_error err = {0};
	char path[] = "/tmp/cyris-range-XXXXXX";
	int i, fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	add(&t, "- host_settings:\n  - id: host_1\n");
	for (i = 2; i <= 10; i++)
		add(&t, "  - id: h%d\n", i);
	add(&t, "- guest_settings:\n  - id: desk\n");
	for (i = 2; i <= 10; i++)
		add(&t, "  - id: g%d\n", i);
	add(&t, "- host_settings:\n");
	for (i = 11; i <= 40; i++)
		add(&t, "  - id: h%d\n", i);
	add(&t, "- guest_settings:\n");
	for (i = 11; i <= 40; i++)
		add(&t, "  - id: g%d\n", i);
	add(&t, "%s", CLONE);
	fputs(t.s, f);
	fclose(f);
	ok(cyris_range_load(path, &r, &err) == 0, "two host_settings and two guest_settings items load");
	if (r) {
		is_int(r->n_hosts, 40, "  with all 40 hosts");
		is_int(r->n_guestdefs, 40, "  and all 40 guests");
		ok(strcmp(r->hosts[39].id, "h40") == 0 && strcmp(r->guestdefs[39]->id, "g40") == 0 &&
		   cyris_range_guestdef(r, "g25") == r->guestdefs[24], "  each where it belongs");
	} else {
		diag("%s", err.msg);
	}
	cyris_range_free(r);
	unlink(path);
	free(t.s);
}

/* A capacity that lags its count (the bug above) still grows past it. */
static void test_grow(void)
{
	int *v = NULL;
	size_t n = 0, cap = 0, stale = 0, i;
	bool fine = true;

	for (i = 0; i < 20; i++)
		fine &= cyris_grow((void **)&v, &n, &cap, sizeof(*v)) != NULL;
	for (i = 0; i < 40; i++) {
		int *slot = cyris_grow((void **)&v, &n, &stale, sizeof(*v));

		fine &= slot == &v[n - 1];
		*slot = (int)i;
	}
	ok(fine && n == 60 && stale > 60 && v[59] == 39, "cyris_grow with a stale capacity reallocates past the count");
	free(v);
}

/* Load @yaml (of @len bytes: it may hold NULs) and expect an error that
 * begins, after "FILE:", with @want. */
static void bad_text(const char *what, const char *yaml, size_t len, const char *want)
{
	struct cyris_range *r = NULL;
	struct cyris_error err = {0};
	char path[] = "/tmp/cyris-range-XXXXXX", expect[1200];
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	fwrite(yaml, 1, len, f);
	fclose(f);
	ok(cyris_range_load(path, &r, &err) < 0, "%s is refused", what);
	snprintf(expect, sizeof(expect), "%s:%s", path, want);
	if (!ok(strncmp(err.msg, expect, strlen(expect)) == 0, "  at FILE:LINE: %s", want))
		diag("got: %s", err.msg);
	cyris_range_free(r);
	unlink(path);
}

static void test_yaml_limits(void)
{
	static const char nul[] = "- host_settings:\n  - id: \"host\\0_1\"\n";
	struct text t = {0};
	int i;

	bad_text("a duplicate key", "- host_settings:\n  - id: host_1\n    mgmt_addr: a\n    id: host_2\n",
		 strlen("- host_settings:\n  - id: host_1\n    mgmt_addr: a\n    id: host_2\n"),
		 "4:5: duplicate key 'id' (first at line 2)");
	bad_text("a duplicate key under an ignored key",
		 HEAD "- tasks:\n  - add_account: {name: a, name: b}\n",
		 strlen(HEAD "- tasks:\n  - add_account: {name: a, name: b}\n"),
		 "10:28: duplicate key 'name' (first at line 10)");
	bad_text("a \\0 escape in a value", nul, strlen(nul), "2:9: a NUL byte (\\0) inside a value");
	/* a raw NUL: libyaml's reader stops there, with no line or column
	 * of its own (it said 1:1) */
	bad_text("a NUL byte in an unquoted value", "- host_settings:\n  - id: host\0_1\n", 33,
		 "2:13: a NUL byte in the file (YAML allows none)");
	bad_text("a NUL byte after a UTF-8 character, CR LF lines", "- host_settings:\r\n  - id: \"h\xc3\xa9\0\"\r\n",
		 34, "2:12: a NUL byte in the file (YAML allows none)");
	bad_text("another control character", "- host_settings:\n  - id: h\x01st\n", 30,
		 "2:10: YAML: control characters are not allowed");
	add(&t, HEAD "- tasks: ");
	for (i = 0; i < 200000; i++)
		add(&t, "[");
	bad_text("200000 nested '['", t.s, t.len, "9:72: nested deeper than 64 levels");
	t.len = 0;
	add(&t, HEAD "- tasks:\n  - &a [x, x, x, x, x, x, x, x, x, x]\n");
	for (i = 0; i < 6; i++)
		add(&t, "  - &%c [*%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c]\n", 'b' + i,
		    'a' + i, 'a' + i, 'a' + i, 'a' + i, 'a' + i, 'a' + i, 'a' + i, 'a' + i, 'a' + i, 'a' + i);
	bad_text("aliases that expand a billion times", t.s, t.len,
		 "15:9: more than 131072 YAML nodes with its aliases expanded");
	t.len = 0;
	add(&t, "- tasks: [");
	for (i = 0; i < 200000; i++)
		add(&t, "a,");
	add(&t, "a]\n");
	bad_text("200001 values", t.s, t.len, "1:262147: more than 131072 YAML nodes");
	t.len = 0;
	add(&t, "- tasks: ");
	while (t.len <= 1u << 20)
		add(&t, "# a comment that makes the file large\n");
	bad_text("a file over 1 MiB", t.s, t.len, " larger than 1048576 bytes (1 MiB): not a range file");
	bad_text("an alias to nothing", "- tasks: *x\n", 12, "1:10: alias '*x' to no anchor");
	bad_text("an alias inside its own node", "- tasks: &x [*x]\n", 17, "1:14: alias '*x' inside the node it names");
	bad_text("a second document", HEAD CLONE "---\n- x\n", strlen(HEAD CLONE "---\n- x\n"),
		 "20:1: a second YAML document (a range file is one)");
	free(t.s);
}

static void test_plan(void)
{
	struct cyris_range *r = NULL;
	struct cyris_plan *a = NULL, *b = NULL;
	struct cyris_conf *conf = cyris_conf_new();
	struct cyris_prefix used;
	struct cyris_plan_opts o = { .used = &used, .n_used = 1 };
	struct cyris_error err = {0};
	char path[4200];
	uint8_t m1[6], m2[6];

	snprintf(path, sizeof(path), "%s/dmz.yml", dir);
	if (!conf || cyris_range_load(path, &r, &err) < 0) {
		ok(0, "dmz.yml loads");
		cyris_conf_free(conf);
		return;
	}
	cyris_prefix_parse("10.200.1.0/24", true, &used);
	ok(cyris_plan_build(r, conf, &o, &a, &err) == 0, "plan dmz.yml");
	ok(cyris_plan_build(r, conf, &o, &b, &err) == 0, "plan it again");
	if (a && b) {
		char s1[64], s2[64];

		ok(a->n_nets == 3 && a->n_guests == 5, "3 networks, 5 guests");
		ok(strcmp(a->nets[0].bridge, b->nets[0].bridge) == 0 &&
		   memcmp(a->guests[1].nics[0].mac, b->guests[1].nics[0].mac, 6) == 0,
		   "the same names and MACs both times");
		cyris_prefix_format(&a->nets[0].subnet, s1, sizeof(s1));
		cyris_prefix_format(&a->nets[1].subnet, s2, sizeof(s2));
		is_str(s1, "10.200.0.0/24", "the first subnet is the pool's first");
		is_str(s2, "10.200.2.0/24", "a prefix in use on the host is skipped");
		ok(a->guests[0].gateway && a->nets[0].gw_guest == 0, "firewall is the gateway guest");
		cyris_ip_format(&a->guests[0].nics[0].addr.ip, s1, sizeof(s1));
		is_str(s1, "10.200.0.1", "the gateway guest holds .1");
		cyris_prefix_format(&a->nets[0].host_addr, s1, sizeof(s1));
		is_str(s1, "10.200.0.254/24", "the host's bridge takes the last address");
		ok(a->n_rules == 4 && a->rules[0].at == 0, "3 rules + the entry point's, enforced in the firewall");
		is_str(a->rules[0].fw.text, "src=10.200.3.0/24,10.200.0.0/24 dst=10.200.2.11 dport=3306 proto=tcp,udp",
		       "member names resolved to addresses, networks to subnets");
		ok(a->n_exposes == 1 && a->exposes[0].host_port == CYRIS_ENTRY_PORT_BASE, "one entry point");
	}
	cyris_plan_mac("124", 1, "desk", 1, "eth0", m1);
	cyris_plan_mac("124", 1, "desk", 1, "eth1", m2);
	ok((m1[0] & 3) == 2 && memcmp(m1, m2, 6) != 0, "MACs are locally administered unicast and differ per NIC");
	ok(cyris_conf_set(conf, "subnet_size", "28", &err) == 0, "subnet_size 28");
	cyris_plan_free(b);
	b = NULL;
	{
		struct cyris_range *f = NULL;

		snprintf(path, sizeof(path), "%s/full.yml", dir);
		cyris_range_load(path, &f, &err);
		ok(f && cyris_plan_build(f, conf, NULL, &b, &err) == 0 && b->n_nets == 4 &&
		   b->nets[3].subnet.len == 28, "full.yml: 2 instances x 2 networks of /28");
		cyris_range_free(f);
	}
	ok(cyris_conf_set(conf, "subnet_pool", "10.200.0.0/27", &err) == 0, "a pool of one /27");
	cyris_plan_free(b);
	b = NULL;
	ok(cyris_plan_build(r, conf, NULL, &b, &err) == -ENOSPC, "an exhausted pool is an error");
	diag("%s", err.msg);
	cyris_plan_free(a);
	cyris_plan_free(b);
	cyris_range_free(r);
	cyris_conf_free(conf);
}

static void test_conf(void)
{
	struct cyris_conf *c = cyris_conf_new();
	struct cyris_error err = {0};
	char path[] = "/tmp/cyris-conf-XXXXXX", v[64];
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	fputs("# comment\nsubnet_pool = 10.77.0.0/16\n\nvirt_type = qemu  # trailing\nlibvirt_uri=test:///default\n", f);
	fclose(f);
	setenv("CYRIS_CONFIG", path, 1);
	setenv("CYRIS_LIBVIRT_URI", "qemu:///session", 1);
	ok(cyris_conf_load(c, &err) == 0, "a configuration file loads");
	is_int(cyris_conf_get(c, "virt_type", v, sizeof(v)), 4, "virt_type read back");
	is_str(v, "qemu", "the file sets virt_type");
	cyris_conf_get(c, "subnet_pool", v, sizeof(v));
	is_str(v, "10.77.0.0/16", "and subnet_pool");
	cyris_conf_get(c, "libvirt_uri", v, sizeof(v));
	is_str(v, "qemu:///session", "the environment wins over the file");
	cyris_conf_get(c, "subnet_size", v, sizeof(v));
	is_str(v, "24", "a key not given keeps its default");
	cyris_conf_get(c, "cloud_init", v, sizeof(v));
	is_str(v, "yes", "a yes/no key reads as yes or no");
	cyris_conf_get(c, "path", v, sizeof(v));
	is_str(v, path, "path: the file that was read");
	is_int(cyris_conf_get(c, "bogus_key", v, sizeof(v)), -ENOENT, "an unknown key: -ENOENT");
	is_int(cyris_conf_get(c, "storage_pool", v, 3), -ENAMETOOLONG,
	       "a value that does not fit: -ENAMETOOLONG, not cut");
	f = fopen(path, "w");
	fputs("subnet_pool = 10.0.0.0/8\nbogus_key = 1\n", f);
	fclose(f);
	is_int(cyris_conf_load(c, &err), -EINVAL, "an unknown key is an error");
	{
		char want[600];

		snprintf(want, sizeof(want), "%s:2: unknown key 'bogus_key'", path);
		is_str(err.msg, want, "  at FILE:LINE");
	}
	f = fopen(path, "w");
	fputs("virt_type = xen\n", f);
	fclose(f);
	cyris_conf_load(c, &err);
	ok(strstr(err.msg, ":1: virt_type: 'xen' is not kvm, qemu or auto") != NULL, "a bad value names its line");
	unlink(path);
	is_int(cyris_conf_load(c, &err), -ENOENT, "a missing CYRIS_CONFIG is an error");
	unsetenv("CYRIS_CONFIG");
	setenv("CYRIS_SUBNET_SIZE", "31", 1);
	is_int(cyris_conf_load(c, &err), -EINVAL, "a bad environment value is an error");
	unsetenv("CYRIS_SUBNET_SIZE");
	unsetenv("CYRIS_LIBVIRT_URI");
	cyris_conf_free(c);
}

int main(void)
{
	const char *src = getenv("CYRIS_SRC");

	snprintf(dir, sizeof(dir), "%s/contrib/cyris-examples", src ? src : ".");
	if (access(dir, R_OK) != 0)
		snprintf(dir, sizeof(dir), "%s/../shared/cyris-examples", src ? src : ".");
	test_examples();
	test_errors();
	test_repeated_sections();
	test_grow();
	test_yaml_limits();
	test_plan();
	test_conf();
	return done();
}
