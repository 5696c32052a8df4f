/* SPDX-License-Identifier: MIT */
/* Unit tests without privileges: word splitting, JSON output against the
 * golden files in tests/dumps (CYRIS_UPDATE_GOLDEN=1 rewrites them). */
#include <errno.h>
#include <linux/if.h>
#include <linux/neighbour.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../tools/cli.h"
#include "cyris/error.h"
#include "cyris/link.h"
#include "../../tools/linkfmt.h"
#include "../tap.h"

static void test_split(void)
{
	char **argv;
	int n;

	n = cli_split("  add br0   range 124 # a comment\n", &argv);
	ok(n == 4 && strcmp(argv[0], "add") == 0 && strcmp(argv[3], "124") == 0 &&
	   argv[4] == NULL, "words, blanks and a comment");
	free(argv);
	n = cli_split("a 'b c' \"d \\\"e\\\"\" f\\ g", &argv);
	ok(n == 4 && strcmp(argv[1], "b c") == 0 && strcmp(argv[2], "d \"e\"") == 0 &&
	   strcmp(argv[3], "f g") == 0, "quotes and escapes");
	free(argv);
	n = cli_split("   # only a comment", &argv);
	is_int(n, 0, "a comment line has no words");
	free(argv);
	n = cli_split("", &argv);
	is_int(n, 0, "an empty line has no words");
	free(argv);
	is_int(cli_split("add 'br0", &argv), -EINVAL, "an unbalanced quote is an error");
	n = cli_split("a#b ''", &argv);
	ok(n == 2 && strcmp(argv[0], "a#b") == 0 && argv[1][0] == '\0',
	   "# inside a word is kept; '' is an empty word");
	free(argv);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n;

	if (!f)
		return NULL;
	n = getdelim(&buf, &cap, '\0', f);
	fclose(f);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* Compare @got with tests/dumps/@name. */
static void golden(const char *name, const char *got)
{
	const char *src = getenv("CYRIS_SRC");
	char path[4096];
	char *want;

	snprintf(path, sizeof(path), "%s/tests/dumps/%s", src ? src : ".", name);
	if (getenv("CYRIS_UPDATE_GOLDEN")) {
		FILE *f = fopen(path, "w");

		if (f) {
			fputs(got, f);
			fclose(f);
		}
	}
	want = slurp(path);
	if (!ok(want && strcmp(want, got) == 0, "output matches %s", name))
		diag("got:\n%s", got);
	free(want);
}

static void add_link(struct cyris_link_list *l, int ifindex, const char *name,
		     const char *kind, int master, const char *alias)
{
	struct cyris_link *k = &l->v[l->n++];

	memset(k, 0, sizeof(*k));
	k->ifindex = ifindex;
	snprintf(k->name, sizeof(k->name), "%s", name);
	snprintf(k->kind, sizeof(k->kind), "%s", kind);
	k->master = master;
	k->flags = IFF_UP;
	k->operstate = 6; /* IF_OPER_UP */
	k->mtu = 1500;
	k->has_mac = true;
	k->tun_owner = -1;
	memcpy(k->mac, (uint8_t[]){ 0x02, 0, 0, 0, 0, (uint8_t)ifindex }, 6);
	if (alias) {
		snprintf(k->alias, sizeof(k->alias), "%s", alias);
		k->owned = cyris_tag_parse(alias, &k->tag);
	}
}

static char *capture_show(const struct cyris_link_list *l, const struct cyris_addr_list *a,
			  const struct show_filter *flt, bool as_json)
{
	struct json j;
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	json_init(&j, f, true);
	linkfmt_show(f, as_json ? &j : NULL, l, a, flt);
	fclose(f);
	return buf;
}

static void test_show(void)
{
	static struct cyris_link v[8];
	static char alt[1][CYRIS_ALTNAMSIZ] = { "cyris-124-office" };
	struct cyris_link_list l = { .v = v };
	struct cyris_addr a[2] = {0};
	struct cyris_addr_list al = { .v = a, .n = 2 };
	struct show_filter all = {0}, r124 = { .range = "124" }, one = { .name = "v1" };
	char *out;

	add_link(&l, 2, "c124-of-5tx1pd", "bridge", 0, "cyris range=124 net=office role=bridge");
	l.v[0].altnames = alt;
	l.v[0].n_altnames = 1;
	add_link(&l, 3, "v1", "veth", 2, "cyris range=124 net=office role=veth");
	add_link(&l, 4, "uplink", "veth", 2, "to the core \"switch\"");
	add_link(&l, 5, "br-host", "bridge", 0, NULL);
	add_link(&l, 6, "t9", "tun", 0, "cyris range=125 role=tap");
	l.v[4].flags = 0;
	cyris_prefix_parse("10.1.0.1/24", true, &a[0].prefix);
	a[0].ifindex = 2;
	cyris_prefix_parse("fd00::1/64", true, &a[1].prefix);
	a[1].ifindex = 2;

	out = capture_show(&l, &al, &all, true);
	golden("bridge-show-all.json", out);
	free(out);
	out = capture_show(&l, &al, &r124, true);
	golden("bridge-show-range.json", out);
	free(out);
	out = capture_show(&l, &al, &one, true);
	golden("bridge-show-one.json", out);
	free(out);
	out = capture_show(&l, &al, &all, false);
	golden("bridge-show-all.txt", out);
	free(out);
}

static void test_fdb(void)
{
	static struct cyris_link v[3];
	struct cyris_link_list l = { .v = v };
	struct cyris_fdb e[3] = {
		{ .ifindex = 3, .master = 2, .mac = { 2, 0, 0, 0, 0, 0x33 }, .state = NUD_REACHABLE },
		{ .ifindex = 3, .master = 2, .mac = { 2, 0, 0, 0, 0, 3 }, .state = NUD_PERMANENT },
		{ .ifindex = 4, .mac = { 0 }, .state = NUD_PERMANENT | NUD_NOARP },
	};
	struct cyris_fdb_list fl = { .v = e, .n = 3 };
	struct json j;
	char *buf = NULL;
	size_t n = 0;
	FILE *f;

	add_link(&l, 2, "br0", "bridge", 0, NULL);
	add_link(&l, 3, "v1", "veth", 2, NULL);
	add_link(&l, 4, "vx1", "vxlan", 2, NULL);
	cyris_ip_parse("192.0.2.7", &e[2].dst);
	f = open_memstream(&buf, &n);
	json_init(&j, f, false);
	linkfmt_fdb(f, &j, &l, &fl, false);
	linkfmt_fdb(f, NULL, &l, &fl, true);
	fclose(f);
	golden("bridge-fdb.txt", buf);
	free(buf);
}

static void test_json_escape(void)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	json_escape(f, "a\"b\\c\n\x01");
	fclose(f);
	is_str(buf, "\"a\\\"b\\\\c\\n\\u0001\"", "JSON escaping");
	free(buf);
}

/* Send stderr to a scratch file until stderr_end(), which puts what was
 * written into @buf. */
struct capture {
	FILE *f;
	int saved;
};

static void stderr_begin(struct capture *cap)
{
	cap->f = tmpfile();
	cap->saved = dup(STDERR_FILENO);
	fflush(stderr);
	if (cap->f)
		dup2(fileno(cap->f), STDERR_FILENO);
}

static const char *stderr_end(struct capture *cap, char *buf, size_t size)
{
	size_t n = 0;

	fflush(stderr);
	dup2(cap->saved, STDERR_FILENO);
	close(cap->saved);
	if (cap->f) {
		rewind(cap->f);
		n = fread(buf, 1, size - 1, cap->f);
		fclose(cap->f);
	}
	buf[n] = '\0';
	return buf;
}

/* What cli_fail() / cli_failf() write to stderr, into @buf. */
static const char *captured(struct cli *c, const struct cyris_error *e, const char *what,
			    char *buf, size_t size)
{
	struct capture cap;

	stderr_begin(&cap);
	if (what)
		cli_failf(c, e, "%s", what);
	else
		cli_fail(c, e);
	return stderr_end(&cap, buf, size);
}

static void test_error(void)
{
	struct cyris_error e;
	struct cli c = { .prog = "cyris-x" };
	char buf[CYRIS_ERROR_MSG_MAX + 600], big[3000];

	is_int(cyris_error_set(&e, -EEXIST, "bridge %s: %s", "cr124-n1", strerror(EEXIST)), -EEXIST,
	       "cyris_error_set returns the code");
	cyris_error_format(&e, buf, sizeof(buf));
	is_str(buf, "bridge cr124-n1: File exists", "a message without detail formats as itself");
	cyris_error_detail(&e, CYRIS_ERROR_KERNEL, "%s", "Device or resource busy here");
	cyris_error_format(&e, buf, sizeof(buf));
	is_str(buf, "bridge cr124-n1: File exists (kernel: Device or resource busy here)",
	       "the detail follows in parentheses, named by its source");
	is_str(captured(&c, &e, NULL, buf, sizeof(buf)),
	       "cyris-x: bridge cr124-n1: File exists (kernel: Device or resource busy here)\n",
	       "cli_fail prints tool: what: message (kernel: detail), once");
	is_str(captured(&c, &e, "add", buf, sizeof(buf)),
	       "cyris-x: add: bridge cr124-n1: File exists (kernel: Device or resource busy here)\n",
	       "cli_failf puts WHAT: before it");
	c.file = "cmds";
	c.line = 3;
	is_str(captured(&c, &e, NULL, buf, sizeof(buf)),
	       "cmds:3: bridge cr124-n1: File exists (kernel: Device or resource busy here)\n",
	       "in batch mode FILE:LINE takes the tool's place");
	cyris_error_set(&e, -ENOENT, "x");
	is_str(e.detail, "", "setting the message clears the detail");
	cyris_error_append(&e, " (%s)", "rolled back");
	is_str(e.msg, "x (rolled back)", "cyris_error_append adds to the message");
	cyris_error_clear(&e);
	e.code = -ENOENT;
	cyris_error_format(&e, buf, sizeof(buf));
	is_str(buf, strerror(ENOENT), "no message: strerror of the code");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cyris_error_set(&e, -EINVAL, "%s", big);
	ok(strlen(e.msg) == sizeof(e.msg) - 1 && strcmp(e.msg + sizeof(e.msg) - 4, "...") == 0,
	   "a message too long for the record is cut and ends in ...");
	cyris_error_set(&e, -EINVAL, "%.*s", (int)sizeof(e.msg) - 3, big);
	cyris_error_append(&e, " (rolled back)");
	ok(strlen(e.msg) == sizeof(e.msg) - 1 && strcmp(e.msg + sizeof(e.msg) - 4, "...") == 0,
	   "what does not fit after a long message is cut with ... too");
	ok(cyris_error_format(&e, buf, 10) >= 10 && strlen(buf) == 9,
	   "cyris_error_format tells a cut result by its return value");
	is_int(cyris_error_set(NULL, -EIO, "nothing"), -EIO, "a NULL error only returns the code");
	ok(cyris_error_source_name(CYRIS_ERROR_LIBVIRT) && !strcmp(cyris_error_source_name(CYRIS_ERROR_LIBVIRT), "libvirt") &&
	   !strcmp(cyris_error_source_name(CYRIS_ERROR_LIBSSH), "libssh") &&
	   cyris_error_source_name(CYRIS_ERROR_NONE) == NULL, "source names");
}

/* The keyword table parser (cli_keywords): values into the option struct,
 * and each bad word refused with its message and exit code 2. */
struct kw_opts {
	const char *name, *id, *ifname;
	unsigned long n, mtu;
	uint8_t mac[6];
	bool on, has_mac, has_n;
	int flag;
	unsigned fn_calls;
};

static int kw_fn(struct cli *c, const char *v, void *opts)
{
	(void)c;
	((struct kw_opts *)opts)->fn_calls++;
	return strcmp(v, "bad") ? CLI_OK : CLI_FAIL;
}

#define K(n, t, f, ...) { .name = n, .type = t, .off = offsetof(struct kw_opts, f), __VA_ARGS__ }
static const struct cli_kw kw_tab[] = {
	K("name", CLI_KW_STR, name),
	K("range", CLI_KW_ID, id),
	K("peer", CLI_KW_IFNAME, ifname, .label = "peer name"),
	K("n", CLI_KW_UINT, n, .max = 100, .seen = CLI_KW_SEEN(struct kw_opts, has_n)),
	K("mtu", CLI_KW_UINT, mtu, .min = 1, .max = 65535, .bad = "mtu '%s' is not an MTU"),
	K("mac", CLI_KW_MAC, mac, .seen = CLI_KW_SEEN(struct kw_opts, has_mac)),
	K("stp", CLI_KW_BOOL, on),
	K("down", CLI_KW_FLAG, flag, .min = 7),
	K("fn", CLI_KW_FN, name, .fn = kw_fn),
	{ 0 }
};

/* Run cli_keywords on @line; its exit code, and what it wrote to stderr in @err. */
static int kw_run(const char *line, struct kw_opts *o, char *err, size_t size)
{
	struct cli c = { .prog = "cyris-x", .file = "f", .line = 1 };
	struct capture cap;
	int r, argc;
	char **argv;
	size_t n;

	memset(o, 0, sizeof(*o));
	argc = cli_split(line, &argv);
	stderr_begin(&cap);
	r = cli_keywords(&c, "cmd", kw_tab, argc, argv, 0, o);
	stderr_end(&cap, err, size);
	n = strlen(err);
	if (n && err[n - 1] == '\n')
		err[n - 1] = '\0';
	/* the values point into argv: keep the strings the test compares */
	if (o->name && !strcmp(o->name, "x"))
		o->name = "x";
	if (o->id)
		o->id = !strcmp(o->id, "r1") ? "r1" : "?";
	if (o->ifname)
		o->ifname = !strcmp(o->ifname, "p1") ? "p1" : "?";
	free(argv);
	return r;
}

static void test_keywords(void)
{
	struct kw_opts o;
	char err[512];

	is_int(kw_run("name x range r1 peer p1 n 42 mtu 1400 mac 02:00:00:00:00:01 stp on down fn ok",
		      &o, err, sizeof(err)), CLI_OK, "every type of keyword parses");
	ok(o.name && !strcmp(o.name, "x") && o.id && !strcmp(o.id, "r1") && o.ifname &&
	   !strcmp(o.ifname, "p1"), "  strings, ids and interface names land in their fields");
	ok(o.n == 42 && o.has_n && o.mtu == 1400 && o.mac[5] == 1 && o.has_mac && o.on &&
	   o.flag == 7 && o.fn_calls == 1, "  numbers, MAC, bool, flag, a function; .seen set");
	is_str(err, "", "  and nothing on stderr");
	is_int(kw_run("stp off", &o, err, sizeof(err)), CLI_OK, "a keyword not given");
	ok(!o.has_n && !o.has_mac && !o.on, "  leaves its field and its .seen alone");
#define BAD(line, code, msg, what)                                              \
	do {                                                                    \
		is_int(kw_run(line, &o, err, sizeof(err)), code, what);         \
		is_str(err, msg, "  " what ": the message");                    \
	} while (0)
	BAD("colour red", CLI_USAGE, "f:1: cmd: unknown keyword 'colour'", "an unknown keyword");
	BAD("n", CLI_USAGE, "f:1: 'n' needs a value", "a keyword without its value");
	BAD("n 101", CLI_USAGE, "f:1: n '101' is not a number in 0..100", "a number above the maximum");
	BAD("n -1", CLI_USAGE, "f:1: n '-1' is not a number in 0..100", "a negative number");
	BAD("mtu 0", CLI_USAGE, "f:1: mtu '0' is not an MTU", "below the minimum: the entry's message");
	BAD("range 'a b'", CLI_USAGE, "f:1: range 'a b' is not a valid id (1-32 of A-Z a-z 0-9 _ . -)",
	    "a bad id");
	BAD("peer a-name-too-long-for-linux", CLI_USAGE,
	    "f:1: peer name 'a-name-too-long-for-linux' is too long (at most 15 bytes)",
	    "an interface name too long, named by its label");
	BAD("peer a/b", CLI_USAGE, "f:1: peer name 'a/b' is not a valid interface name", "a bad interface name");
	BAD("mac 02:00", CLI_USAGE, "f:1: '02:00' is not a MAC address (xx:xx:xx:xx:xx:xx)", "a bad MAC");
	BAD("stp maybe", CLI_USAGE, "f:1: stp takes on or off, not 'maybe'", "a bad bool");
	BAD("fn bad", CLI_FAIL, "", "a function's own exit code");
	BAD("n 5 colour", CLI_USAGE, "f:1: cmd: unknown keyword 'colour'", "stops at the first bad word");
#undef BAD
}

int main(void)
{
	test_error();
	test_keywords();
	test_split();
	test_json_escape();
	test_show();
	test_fdb();
	return done();
}
