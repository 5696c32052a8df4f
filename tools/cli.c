/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cyris/link.h"
#include "cyris/tag.h"
#include "../net/base/util.h"

#ifndef CYRIS_VERSION
#define CYRIS_VERSION "0.1.0"
#endif

static void prefix(struct cli *c)
{
	if (c->line)
		fprintf(stderr, "%s:%u: ", streq(c->file, "-") ? "<stdin>" : c->file, c->line);
	else
		fprintf(stderr, "%s: ", c->prog);
}

static void vmsg(struct cli *c, const char *fmt, va_list ap)
{
	prefix(c);
	vfprintf(stderr, fmt, ap);
}

void cli_msg(struct cli *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(c, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void put_error(const struct cyris_error *e);

int cli_err(struct cli *c, int err, const char *fmt, ...)
{
	const struct cyris_error *k = c->nl ? cyris_nl_error(c->nl) : NULL;
	struct cyris_error e = { .code = err < 0 ? err : -err };
	va_list ap;

	/* strerror(err), then the kernel's text of the last request */
	if (k && k->detail[0])
		cyris_error_detail(&e, k->source, "%s", k->detail);
	va_start(ap, fmt);
	vmsg(c, fmt, ap);
	va_end(ap);
	fputs(": ", stderr);
	put_error(&e);
	return CLI_FAIL;
}

/* The error's line, whatever its length. */
static void put_error(const struct cyris_error *e)
{
	char buf[CYRIS_ERROR_MSG_MAX + CYRIS_ERROR_DETAIL_MAX + 32];

	cyris_error_format(e, buf, sizeof(buf));
	fprintf(stderr, "%s\n", buf);
}

int cli_fail(struct cli *c, const struct cyris_error *e)
{
	prefix(c);
	put_error(e);
	return CLI_FAIL;
}

int cli_failf(struct cli *c, const struct cyris_error *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(c, fmt, ap);
	va_end(ap);
	fputs(": ", stderr);
	put_error(e);
	return CLI_FAIL;
}

int cli_fail_input(const struct cyris_error *e)
{
	put_error(e);
	return CLI_FAIL;
}

int cli_usage(struct cli *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(c, fmt, ap);
	va_end(ap);
	if (c->line)
		fputc('\n', stderr);
	else
		fprintf(stderr, "\nTry '%s --help' for more information.\n", c->prog);
	return CLI_USAGE;
}

const char *cli_value(struct cli *c, int argc, char **argv, int *i)
{
	if (*i + 1 >= argc) {
		cli_usage(c, "'%s' needs a value", argv[*i]);
		return NULL;
	}
	return argv[++*i];
}

int cli_parse_bool(const char *s, bool *ret)
{
	if (streq(s, "on") || streq(s, "yes") || streq(s, "1") || streq(s, "true"))
		*ret = true;
	else if (streq(s, "off") || streq(s, "no") || streq(s, "0") || streq(s, "false"))
		*ret = false;
	else
		return -EINVAL;
	return 0;
}

int cli_parse_word(struct cli *c, const struct cli_kw *k, const char *v, void *field)
{
	const char *what = k->label ? k->label : k->name;
	unsigned long n;

	switch (k->type) {
	case CLI_KW_FLAG:
		*(int *)field = (int)k->min;
		return CLI_OK;
	case CLI_KW_ID:
		if (!cyris_id_valid(v))
			return cli_usage(c, "%s '%s' is not a valid id (1-%d of A-Z a-z 0-9 _ . -)",
					 what, v, CYRIS_ID_MAX);
		break;
	case CLI_KW_IFNAME:
		if (strlen(v) >= CYRIS_IFNAMSIZ)
			return cli_usage(c, "%s '%s' is too long (at most %d bytes)", what, v,
					 CYRIS_IFNAMSIZ - 1);
		if (!cyris_ifname_valid(v))
			return cli_usage(c, "%s '%s' is not a valid interface name", what, v);
		break;
	case CLI_KW_UINT:
		if (cyris_parse_uint(v, k->max, &n) < 0)
			return cli_usage(c, "%s '%s' is not a number in 0..%lu", what, v, k->max);
		if (n < k->min) {
			if (k->bad)
				return cli_usage(c, k->bad, v);
			return cli_usage(c, "%s '%s' is not a number in %lu..%lu", what, v, k->min, k->max);
		}
		*(unsigned long *)field = n;
		return CLI_OK;
	case CLI_KW_BOOL:
		if (cli_parse_bool(v, (bool *)field) < 0)
			return cli_usage(c, "%s takes on or off, not '%s'", what, v);
		return CLI_OK;
	case CLI_KW_MAC:
		if (cyris_mac_parse(v, (uint8_t *)field) < 0)
			return cli_usage(c, "'%s' is not a MAC address (xx:xx:xx:xx:xx:xx)", v);
		return CLI_OK;
	case CLI_KW_FN:
		return k->fn(c, v, field);
	case CLI_KW_STR:
		break;
	}
	*(const char **)field = v;
	return CLI_OK;
}

const struct cli_kw *cli_kw_find(const struct cli_kw *tab, const char *s)
{
	for (; tab->name; tab++)
		if (streq(tab->name, s))
			return tab;
	return NULL;
}

int cli_keywords(struct cli *c, const char *cmd, const struct cli_kw *tab,
		 int argc, char **argv, int start, void *opts)
{
	const struct cli_kw *k;
	const char *v = NULL;
	int i, r;

	for (i = start; i < argc; i++) {
		if (!(k = cli_kw_find(tab, argv[i])))
			return cli_usage(c, "%s: unknown keyword '%s'", cmd, argv[i]);
		if (k->type != CLI_KW_FLAG && !(v = cli_value(c, argc, argv, &i)))
			return CLI_USAGE;
		if ((r = cli_parse_word(c, k, v, k->type == CLI_KW_FN ? opts : (char *)opts + k->off)))
			return r;
		if (k->seen)
			*(bool *)((char *)opts + k->seen - 1) = true;
	}
	return CLI_OK;
}

int cli_nl(struct cli *c, struct cyris_nl **ret)
{
	int r;

	if (!c->nl) {
		r = cyris_nl_open(&c->nl, c->netns);
		if (r < 0) {
			if (c->netns)
				cli_err(c, r, "netns %s", c->netns);
			else
				cli_err(c, r, "netlink");
			return r;
		}
	}
	*ret = c->nl;
	return 0;
}

struct json *cli_json(struct cli *c)
{
	json_init(&c->j, stdout, c->pretty);
	return &c->j;
}

void cli_print_ids(struct cli *c, const char *key, const char (*v)[CYRIS_ID_MAX + 1], size_t n)
{
	size_t i;

	if (c->json) {
		struct json *j = cli_json(c);

		json_obj_open(j, NULL);
		json_arr_open(j, key);
		for (i = 0; i < n; i++)
			json_str(j, NULL, v[i]);
		json_arr_close(j);
		json_obj_close(j);
		json_end(j);
	} else {
		for (i = 0; i < n; i++)
			printf("%s\n", v[i]);
	}
}

int cli_run(struct cli *c, int argc, char **argv)
{
	const struct cli_cmd *cmd;

	if (argc < 1)
		return cli_usage(c, "no command given");
	for (cmd = c->cmds; cmd->name; cmd++) {
		if (!streq(cmd->name, argv[0]))
			continue;
		if (argc - 1 < cmd->min || (cmd->max >= 0 && argc - 1 > cmd->max))
			return cli_usage(c, "%s: wrong number of arguments", cmd->name);
		return cmd->fn(c, argc - 1, argv + 1);
	}
	return cli_usage(c, "unknown command '%s'", argv[0]);
}

/* Shell-like word splitting: blanks separate, '…' and "…" quote, \ escapes,
 * a word starting with # begins a comment. */
int cli_split(const char *line, char ***ret_argv)
{
	size_t len = strlen(line), n = 0, cap = len / 2 + 2;
	char **argv, *o;
	const char *p = line;

	/* the pointer array and the words share one allocation */
	argv = malloc(cap * sizeof(char *) + len + 1);
	if (!argv)
		return -ENOMEM;
	o = (char *)(argv + cap);
	for (;;) {
		char q = 0;

		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		if (!*p || *p == '#')
			break;
		argv[n++] = o;
		for (; *p; p++) {
			if (q) {
				if (*p == q)
					q = 0;
				else if (*p == '\\' && q == '"' && p[1])
					*o++ = *++p;
				else
					*o++ = *p;
			} else if (*p == '\'' || *p == '"') {
				q = *p;
			} else if (*p == '\\' && p[1]) {
				*o++ = *++p;
			} else if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
				break;
			} else {
				*o++ = *p;
			}
		}
		*o++ = '\0';
		if (q) {
			free(argv);
			return -EINVAL;
		}
	}
	argv[n] = NULL;
	*ret_argv = argv;
	return (int)n;
}

/* The options of the command line, or (@line) of one batch line, which may
 * only carry the tool's own options and --force. */
static int parse_opts(struct cli *c, int argc, char **argv, bool line)
{
	int opt, r;

	opterr = 0;
	optind = 0;     /* GNU getopt: start afresh on this argv */
	while ((opt = getopt_long(argc, argv, c->so, c->lo, NULL)) != -1) {
		if (line && strchr("hVjpnb", opt))
			return cli_usage(c, "'%s' belongs on the command line, not in a batch line",
					 argv[optind - 1]);
		switch (opt) {
		case 'h':
			fputs(c->help, stdout);
			return -1;
		case 'V':
			printf("%s %s\n", c->prog, CYRIS_VERSION);
			return -1;
		case 'j': c->json = true; break;
		case 'p': c->pretty = true; break;
		case 'n': c->netns = optarg; break;
		case 'b':
			if (!c->batch_ok)
				return cli_usage(c, "this tool has no batch mode");
			c->batch = optarg;
			break;
		case 'F': c->force = true; break;
		case '?':
			if (optopt)
				return cli_usage(c, "unknown option '-%c'", optopt);
			return cli_usage(c, "unknown option '%s'", argv[optind - 1]);
		case ':':
			return cli_usage(c, "option '%s' needs a value", argv[optind - 1]);
		default:
			if (c->ext && c->ext->handle) {
				r = c->ext->handle(c, opt, optarg);
				if (r)
					return r;
				break;
			}
			return cli_usage(c, "unknown option");
		}
	}
	return 0;
}

/* One batch line: its own options first when the tool takes them. */
static int run_line(struct cli *c, int argc, char **argv)
{
	bool force = c->force;
	int r;

	if (!c->ext || !c->ext->reset)
		return cli_run(c, argc, argv);
	c->ext->reset(c);
	r = parse_opts(c, argc, argv, true);
	if (r == 0) {
		/* getopt moved the words after the options: the command
		 * (argv[0]) goes just before them */
		argv[optind - 1] = argv[0];
		r = cli_run(c, argc - optind + 1, argv + optind - 1);
	}
	c->force = force;
	return r;
}

int cli_batch(struct cli *c, const char *file)
{
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	FILE *f;
	int r = CLI_OK;

	f = streq(file, "-") ? stdin : fopen(file, "re");
	if (!f)
		return cli_err(c, -errno, "%s", file);
	c->file = file;
	c->line = 0;
	while ((len = getline(&line, &cap, f)) >= 0) {
		char **argv;
		int argc;

		c->line++;
		/* the words would end at the NUL: the rest of the line unread */
		if (memchr(line, '\0', (size_t)len)) {
			r = cli_usage(c, "a NUL byte in the line");
			break;
		}
		argc = cli_split(line, &argv);
		if (argc < 0) {
			r = cli_usage(c, "unbalanced quote");
			break;
		}
		if (argc > 0)
			r = run_line(c, argc, argv);
		free(argv);
		if (r != CLI_OK)
			break;
	}
	if (r == CLI_OK && ferror(f))
		r = cli_err(c, -EIO, "%s", file);
	if (f != stdin)
		fclose(f);
	c->line = 0;
	return r;
}

static const struct option common_long[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ "json", no_argument, NULL, 'j' },
	{ "pretty", no_argument, NULL, 'p' },
	{ "netns", required_argument, NULL, 'n' },
	{ "batch", required_argument, NULL, 'b' },
	{ "force", no_argument, NULL, 'F' },
	{ 0 },
};

static int merge_opts(const struct cli_ext *ext, struct option **ret_long,
		      char **ret_short)
{
	size_t nc = ARRAY_SIZE(common_long) - 1, ne = 0;
	struct option *lo;
	char *so;

	if (ext && ext->longopts)
		while (ext->longopts[ne].name)
			ne++;
	lo = calloc(nc + ne + 1, sizeof(*lo));
	so = malloc(32 + (ext && ext->shortopts ? strlen(ext->shortopts) : 0));
	if (!lo || !so) {
		free(lo);
		free(so);
		return -ENOMEM;
	}
	memcpy(lo, common_long, nc * sizeof(*lo));
	if (ne)
		memcpy(lo + nc, ext->longopts, ne * sizeof(*lo));
	snprintf(so, 32 + (ext && ext->shortopts ? strlen(ext->shortopts) : 0),
		 ":hVjpn:b:%s", ext && ext->shortopts ? ext->shortopts : "");
	*ret_long = lo;
	*ret_short = so;
	return 0;
}

int cli_main(struct cli *c, int argc, char **argv)
{
	_cleanup_free_ struct option *lo = NULL;
	_cleanup_free_ char *so = NULL;
	int r;

	if (merge_opts(c->ext, &lo, &so) < 0) {
		cli_msg(c, "out of memory");
		return CLI_FAIL;
	}
	c->lo = lo;
	c->so = so;
	if ((r = parse_opts(c, argc, argv, false)))
		return r < 0 ? CLI_OK : r;     /* -1: --help or --version done */
	if (c->batch) {
		if (optind < argc)
			return cli_usage(c, "-b takes no command on the command line");
		r = cli_batch(c, c->batch);
	} else if (optind >= argc) {
		return cli_usage(c, "no command given");
	} else {
		r = cli_run(c, argc - optind, argv + optind);
	}
	cyris_nl_close(c->nl);
	c->nl = NULL;
	return r;
}
