/* SPDX-License-Identifier: MIT */
/*
 * Test driver for the EC2 client (vm/aws/): one call from argv.
 *
 *   aws-call [OPTIONS] ACTION [KEY=VALUE]...
 *       --region R --endpoint URL --profile P   as struct aws_opts
 *       --retry TRIES,BASE_MS                   aws_set_retry()
 *       --max-answer BYTES                      aws_set_answer_max()
 *       --pages                                 aws_call_pages(): each page
 *   aws-call [OPTIONS] --many ACTION [KEY=VALUE]... [-- ACTION [KEY=VALUE]...]...
 *       aws_call_many(): the requests at once; a line "I rc=R code=C" for
 *       each, then "peak=N" (the most in flight at once)
 *   aws-call --check [needed|other]
 *       aws_checks() (the preflight of cyris-check --provider aws), as the
 *       provider asked about (needed) or another one; prints each item as
 *       "NAME ok|FAILED needed|-: DETAIL"
 *   aws-call --sign METHOD PATH QUERY DATE REGION SERVICE BODY [HEADER]...
 *       prints the Authorization value aws_sigv4_sign() makes for that
 *       request (keys from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)
 *
 * Credentials come only from the environment and the AWS files. A call
 * prints the answer's XML (or "# no answer: done by an earlier attempt"
 * when a retry was told it was so already), then "requests=N"; a failure prints to stderr
 * "aws-call: MESSAGE", then "code=CODE errno=N text=TEXT", and exits 1.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libxml/tree.h>

#include "cyris/check.h"
#include "cyris/conf.h"
#include "../../vm/aws/aws-priv.h"

static int pages;

static int print_page(xmlDoc *doc, void *arg)
{
	(void)arg;
	pages++;
	printf("# page %d\n", pages);
	xmlDocDump(stdout, doc);
	return 0;
}

/* The check list of the library (net/topo/check.c) is not linked in: the
 * items are printed as they come. */
struct cyris_check_list {
	int failed;
};

void cyris_check_add(struct cyris_check_list *l, const char *name, bool ok, bool needed,
		     const char *fmt, ...)
{
	va_list ap;

	printf("%s %s %s: ", name, ok ? "ok" : "FAILED", needed ? "needed" : "-");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	l->failed += !ok && needed;
}

static int check(const char *how)
{
	struct cyris_check_list l = {0};
	struct cyris_conf *conf = cyris_conf_new();
	struct cyris_error err = {0};
	char line[4096];

	if (!conf)
		return 1;
	if (cyris_conf_load(conf, &err) < 0) {
		cyris_error_format(&err, line, sizeof(line));
		fprintf(stderr, "aws-call: %s\n", line);
		cyris_conf_free(conf);
		return 1;
	}
	aws_checks(&l, conf, strcmp(how, "needed") == 0);
	printf("failed=%d\n", l.failed);
	cyris_conf_free(conf);
	return l.failed ? 1 : 0;
}

static int sign(int argc, char **argv)
{
	const char *id = getenv("AWS_ACCESS_KEY_ID"), *secret = getenv("AWS_SECRET_ACCESS_KEY");
	struct aws_sigv4 s;
	char *auth = NULL, *creq = NULL;
	int r;

	if (argc < 7 || !id || !secret) {
		fprintf(stderr, "usage: aws-call --sign METHOD PATH QUERY DATE REGION SERVICE BODY [HEADER]...\n");
		return 2;
	}
	s = (struct aws_sigv4){
		.method = argv[0], .path = argv[1], .query = argv[2], .amz_date = argv[3],
		.region = argv[4], .service = argv[5], .body = argv[6], .body_len = strlen(argv[6]),
		.headers = (const char *const *)argv + 7, .n_headers = (size_t)(argc - 7),
		.key_id = id, .secret = secret,
	};
	r = aws_sigv4_sign(&s, &auth, &creq);
	if (r < 0) {
		fprintf(stderr, "aws-call: sign: %s\n", strerror(-r));
		return 1;
	}
	printf("%s\n", auth);
	if (getenv("AWS_CALL_CREQ"))
		fprintf(stderr, "%s\n", creq);
	free(auth);
	free(creq);
	return 0;
}

/* --many: requests separated by "--" */
static int many(struct cyris_aws *c, int argc, char **argv)
{
	struct aws_query q[64] = {{0}};
	struct aws_req rq[64] = {{0}};
	size_t n = 0, k;
	int r, a;

	for (a = 0; a < argc && n < 64; a++) {
		char *eq;

		if (strcmp(argv[a], "--") == 0)
			continue;
		if (a == 0 || strcmp(argv[a - 1], "--") == 0) {
			rq[n].action = argv[a];
			rq[n].q = &q[n];
			rq[n++].want_doc = false;
			continue;
		}
		if (!(eq = strchr(argv[a], '='))) {
			fprintf(stderr, "aws-call: %s: expected KEY=VALUE\n", argv[a]);
			return -EINVAL;
		}
		*eq = '\0';
		if (aws_query_add(&q[n - 1], argv[a], eq + 1) < 0)
			return -ENOMEM;
	}
	r = aws_call_many(c, rq, n);
	for (k = 0; k < n; k++) {
		printf("%zu rc=%d code=%s\n", k + 1, rq[k].rc, rq[k].code);
		aws_query_free(&q[k]);
	}
	printf("peak=%u\n", aws_parallel_peak(c));
	return r;
}

int main(int argc, char **argv)
{
	struct aws_opts o = {0};
	struct aws_query q = {0};
	struct cyris_aws *c = NULL;
	struct cyris_conf *conf = NULL;
	struct cyris_error err = {0};
	unsigned tries = 0, base = 0;
	size_t max = 0;
	bool want_pages = false, want_many = false;
	char line[4096];
	int i = 1, r;

	if (argc > 2 && strcmp(argv[1], "--check") == 0)
		return check(argv[2]);
	if (argc > 1 && strcmp(argv[1], "--sign") == 0)
		return sign(argc - 2, argv + 2);
	for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		if (strcmp(argv[i], "--region") == 0)
			o.region = argv[i + 1];
		else if (strcmp(argv[i], "--endpoint") == 0)
			o.endpoint = argv[i + 1];
		else if (strcmp(argv[i], "--profile") == 0)
			o.profile = argv[i + 1];
		else if (strcmp(argv[i], "--retry") == 0 && sscanf(argv[i + 1], "%u,%u", &tries, &base) == 2)
			;
		else if (strcmp(argv[i], "--max-answer") == 0)
			max = strtoul(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--pages") == 0) {
			want_pages = true;
			i--;
		} else if (strcmp(argv[i], "--many") == 0) {
			want_many = true;
			i--;
		} else {
			fprintf(stderr, "aws-call: unknown option %s\n", argv[i]);
			return 2;
		}
	}
	if (i >= argc) {
		fprintf(stderr, "usage: aws-call [OPTIONS] ACTION [KEY=VALUE]...\n");
		return 2;
	}
	conf = cyris_conf_new();
	if (!conf)
		return 1;
	r = cyris_conf_load(conf, &err);
	if (r == 0)
		r = aws_open(conf, &o, &c, &err);
	if (r < 0) {
		cyris_error_format(&err, line, sizeof(line));
		fprintf(stderr, "aws-call: %s\n", line);
		cyris_conf_free(conf);
		return 1;
	}
	if (tries)
		aws_set_retry(c, tries, base);
	if (max)
		aws_set_answer_max(c, max);
	if (want_many) {
		r = many(c, argc - i, argv + i);
		goto done;
	}
	for (int k = i + 1; k < argc; k++) {
		char *eq = strchr(argv[k], '=');

		if (!eq) {
			fprintf(stderr, "aws-call: %s: expected KEY=VALUE\n", argv[k]);
			return 2;
		}
		*eq = '\0';
		if (aws_query_add(&q, argv[k], eq + 1) < 0)
			return 1;
	}
	if (want_pages) {
		r = aws_call_pages(c, argv[i], &q, print_page, NULL);
		if (r == 0)
			printf("pages=%d\n", pages);
	} else {
		xmlDoc *doc = NULL;

		r = aws_call(c, argv[i], &q, &doc);
		if (r == 0 && doc) {
			xmlDocDump(stdout, doc);
			xmlFreeDoc(doc);
		} else if (r == 0) {
			/* a retry told that an earlier attempt did it (aws_retry_done) */
			printf("# no answer: done by an earlier attempt\n");
		}
	}
done:
	printf("requests=%lu\n", aws_requests(c));
	if (r < 0) {
		cyris_error_format(aws_error(c), line, sizeof(line));
		fprintf(stderr, "aws-call: %s\n", line);
		fprintf(stderr, "code=%s errno=%d text=%s\n", aws_error_code(c), -r, aws_error_text(c));
	}
	aws_query_free(&q);
	aws_close(c);
	cyris_conf_free(conf);
	return r < 0 ? 1 : 0;
}
