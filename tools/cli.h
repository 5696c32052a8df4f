/* SPDX-License-Identifier: MIT */
/*
 * What every cyris tool shares: option parsing, the subcommand table,
 * batch mode, error reporting and exit codes.
 *
 * Exit codes: 0 success, 1 an operation failed, 2 bad usage. --help goes to
 * stdout with exit 0; usage errors to stderr with exit 2. Each error is
 * reported once, naming the object, with the kernel's extended-ack text.
 */
#ifndef CYRIS_CLI_H
#define CYRIS_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>

#include "cyris/error.h"
#include "cyris/nl.h"
#include "cyris/tag.h"
#include "../net/base/json.h"

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

struct cli;
typedef int (*cli_fn)(struct cli *c, int argc, char **argv);

/* One subcommand: exact name, argument count bounds (-1: no upper bound). */
struct cli_cmd {
	const char *name;
	int min, max;
	cli_fn fn;
};

/* Options a tool adds to the common ones (-j -p -n -b --force -h -V). */
struct cli_ext {
	const char *shortopts;
	const struct option *longopts;     /* terminated by a zero entry */
	int (*handle)(struct cli *c, int opt, const char *arg); /* 0 or CLI_USAGE */
	/* Set: a batch line carries its own options (as on the command line,
	 * --force included), parsed after reset() has cleared the last line's. */
	void (*reset)(struct cli *c);
};

struct cli {
	const char *prog;
	const char *help;           /* the whole --help text */
	const struct cli_cmd *cmds; /* terminated by a zero entry */
	const struct cli_ext *ext;
	bool json, pretty, force, batch_ok;
	const char *netns;
	const char *batch;          /* -b FILE, NULL when not given */
	const struct option *lo;    /* the merged options (while cli_main runs) */
	const char *so;
	const char *file;           /* batch file being read ("-" = stdin) */
	unsigned line;              /* its current line, 0 outside batch mode */
	struct cyris_nl *nl;
	struct json j;
	void *data;                 /* the tool's own state */
};

/* Parse options (anywhere on the line, as getopt permutes them), then run
 * one command or a batch. Returns the exit code. */
int cli_main(struct cli *c, int argc, char **argv);

/* Run one command line (already split). */
int cli_run(struct cli *c, int argc, char **argv);

/* Read commands from @file ("-" = stdin), one per line, '#' comments,
 * quotes as in the shell; stop at the first failing line. */
int cli_batch(struct cli *c, const char *file);

/* Split @line into words; *ret_argv is one allocation (free it).
 * Returns the word count or -EINVAL (unbalanced quote) / -ENOMEM. */
int cli_split(const char *line, char ***ret_argv);

/* The netlink context, opened on first use in -n NETNS. 0 or -errno
 * (the error is reported). */
int cli_nl(struct cli *c, struct cyris_nl **ret);

/* Report to stderr, prefixed by the tool name or FILE:LINE in batch mode. */
void cli_msg(struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "OBJ: strerror(-err) (kernel: ext-ack)": cli_failf() with the netlink
 * context's record (cyris_nl_error()) as the detail; returns CLI_FAIL. */
int cli_err(struct cli *c, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/*
 * The one way a tool reports a library error (cyris/error.h): the tool's
 * name (or FILE:LINE in batch mode), then cyris_error_format()'s line,
 * "what object: message (kernel: detail)", once. cli_failf() puts
 * "WHAT: " before it, for a caller that knows more of the object than the
 * call did. cli_fail_input() prints the line bare, for an error in an input
 * file whose message already begins with FILE:LINE. Each returns CLI_FAIL.
 */
int cli_fail(struct cli *c, const struct cyris_error *e);
int cli_failf(struct cli *c, const struct cyris_error *e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int cli_fail_input(const struct cyris_error *e);
/* A usage error; returns CLI_USAGE. */
int cli_usage(struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The value after keyword argv[*i]; reports a usage error and returns NULL
 * when it is missing. */
const char *cli_value(struct cli *c, int argc, char **argv, int *i);

/* Parse "on"/"off"/"yes"/"no"/"1"/"0"; -EINVAL otherwise. */
int cli_parse_bool(const char *s, bool *ret);

/*
 * Keyword arguments ("mtu 1400 stp on peer-down ..."), parsed from one table
 * per command. Each entry names a keyword, the type of its value and where
 * it goes in the command's option struct (offsetof); with .seen, the bool
 * at that offset (CLI_KW_SEEN()) is set when the keyword is given. The
 * messages are the tools' usual ones: "'KW' needs a value", "KW 'V' is not a
 * number in MIN..MAX", "LABEL 'V' is not a valid id ...", "CMD: unknown
 * keyword 'KW'".
 */
enum cli_kw_type {
	CLI_KW_FLAG,     /* no value: the int at .off becomes .min */
	CLI_KW_STR,      /* const char *, as given */
	CLI_KW_ID,       /* const char *, a range/net/guest id (cyris_id_valid) */
	CLI_KW_IFNAME,   /* const char *, a kernel interface name */
	CLI_KW_UINT,     /* unsigned long in .min .. .max */
	CLI_KW_BOOL,     /* bool: on/off, yes/no, 1/0, true/false */
	CLI_KW_MAC,      /* uint8_t[6] */
	CLI_KW_FN,       /* .fn(c, value, opts) decides */
};

struct cli_kw {
	const char *name;
	enum cli_kw_type type;
	size_t off;
	size_t seen;              /* CLI_KW_SEEN(type, field), 0 = none */
	unsigned long min, max;
	const char *label;        /* the value's name in messages (default: .name) */
	const char *bad;          /* for UINT: the message when out of range, with
				     the value as its one %s (default: "is not a
				     number in MIN..MAX") */
	int (*fn)(struct cli *c, const char *v, void *opts); /* an exit code */
};
#define CLI_KW_SEEN(type, field) (offsetof(type, field) + 1)

/* Parse argv[@start..@argc) against @tab (terminated by a zero entry) into
 * @opts. Returns CLI_OK or an exit code (the error is reported). */
int cli_keywords(struct cli *c, const char *cmd, const struct cli_kw *tab,
		 int argc, char **argv, int start, void *opts);
/* One value @v of @k's type (a keyword's, or a positional word's, named by
 * @k->label or @k->name) into @field (for CLI_KW_FN: the opts it is
 * given). Returns CLI_OK or an exit code (the error is reported). */
int cli_parse_word(struct cli *c, const struct cli_kw *k, const char *v, void *field);
/* @tab's entry for keyword @s, or NULL. */
const struct cli_kw *cli_kw_find(const struct cli_kw *tab, const char *s);

/* Start / finish a JSON document on stdout. */
struct json *cli_json(struct cli *c);
/* @n range ids, one a line, or with -j an object {"@key": [ids]} */
void cli_print_ids(struct cli *c, const char *key, const char (*v)[CYRIS_ID_MAX + 1], size_t n);

#endif
