/* SPDX-License-Identifier: MIT */
/*
 * vm/aws/aws-priv.h — the EC2 Query API client, private to vm/aws/.
 *
 * One struct cyris_aws is one connection to one region's EC2 endpoint: the
 * credentials found by the AWS conventions (environment, ~/.aws/credentials
 * and ~/.aws/config, AWS_PROFILE), the region, the endpoint URL, a libcurl
 * handle kept open between calls, and the record of the last failure.
 * Requests are form-encoded POSTs (Action=...&Version=2016-11-15) signed
 * with Signature Version 4; answers are parsed with libxml2.
 *
 * Secrets (the secret key, the session token) are kept in this struct only:
 * never in an error, a log line or anything a caller can print.
 */
#ifndef CYRIS_AWS_PRIV_H
#define CYRIS_AWS_PRIV_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include <libxml/tree.h>

#include "cyris/conf.h"
#include "cyris/error.h"

#define AWS_EC2_VERSION "2016-11-15"

struct cyris_aws;

/* What a caller may set over the conventions; NULL/"" = not set. */
struct aws_opts {
	const char *region;        /* --region, else AWS_REGION, AWS_DEFAULT_REGION,
				      the profile's region, aws_region, us-west-2 */
	const char *endpoint;      /* --endpoint, else AWS_ENDPOINT_URL_EC2,
				      AWS_ENDPOINT_URL, aws_endpoint, the region's */
	const char *profile;       /* else AWS_PROFILE, else "default" */
};

/* Open a client; on failure @err says why (no credentials, a malformed
 * endpoint URL, ...). */
int aws_open(const struct cyris_conf *conf, const struct aws_opts *o,
	     struct cyris_aws **ret, struct cyris_error *err);
void aws_close(struct cyris_aws *c);

/* The last failure of a call on @c (code, "ACTION: ..." message, detail
 * "AwsCode: AWS's message" with source CYRIS_ERROR_AWS). */
const struct cyris_error *aws_error(const struct cyris_aws *c);
/* AWS's error code of the last failure ("" = none or not from AWS), for
 * decisions such as DependencyViolation or InvalidGroup.NotFound. */
const char *aws_error_code(const struct cyris_aws *c);
const char *aws_region(const struct cyris_aws *c);
/* Requests sent on @c so far, retries included (for the benchmark). */
unsigned long aws_requests(const struct cyris_aws *c);

/* Query parameters: a growable list, keys and values copied. */
struct aws_param {
	char *key, *value;
};
struct aws_query {
	struct aws_param *v;
	size_t n, cap;
};
int aws_query_add(struct aws_query *q, const char *key, const char *value);
void aws_query_free(struct aws_query *q);

/*
 * Send Action=@action with @q (NULL = no parameters). Throttling
 * (RequestLimitExceeded, Throttling), HTTP 5xx and dropped connections are
 * retried with bounded exponential backoff and jitter; a retry after an
 * attempt whose outcome is unknown (a lost answer, a 5xx: not a throttling
 * answer, which did nothing) goes on a new connection, and when AWS tells
 * it that what it asks for is so already (aws_retry_done()), that is the
 * call's success, without an answer (*ret stays as it was). On success *ret is
 * the parsed answer (xmlFreeDoc it; @ret NULL = not wanted) and 0 is
 * returned; on failure -errno (AuthFailure -EACCES, *.NotFound -ENOENT,
 * DependencyViolation -EBUSY, InvalidParameter* -EINVAL, ...) and
 * aws_error() says what happened.
 */
int aws_call(struct cyris_aws *c, const char *action, const struct aws_query *q,
	     xmlDoc **ret);
/* Whether AWS's @code, answering a retry of @action after an attempt whose
 * outcome is unknown, means the earlier attempt did it ("InvalidPermission.
 * Duplicate" for AuthorizeSecurityGroupIngress, "Gateway.NotAttached" for
 * DetachInternetGateway, "InvalidVpcID.NotFound" for DeleteVpc, ...): the
 * one table of those, in client.c. A first attempt's such code stays an
 * error. */
bool aws_retry_done(const char *action, const char *code);
/* aws_call() for a create that is not idempotent (CreateVpc, RunInstances,
 * ...): before each retry after a failure that may have come after the
 * work was done (the connection lost before the answer, a 5xx; not a
 * throttling answer), @made is asked whether it was: 1 = it was (what was
 * made is @made's to record; the call ends with 1 and no answer), 0 = not
 * found, retry; -errno = stop with that (the error is @made's). */
int aws_call_create(struct cyris_aws *c, const char *action, const struct aws_query *q,
		    xmlDoc **ret, int (*made)(void *arg), void *arg);
/* The same for a Describe* call: each page (following NextToken) is given
 * to @page, which returns 0 to go on or -errno to stop with that. */
int aws_call_pages(struct cyris_aws *c, const char *action, const struct aws_query *q,
		   int (*page)(xmlDoc *doc, void *arg), void *arg);

/* One request of aws_call_many(): @action and @q in; the answer (when
 * @want_doc; xmlFreeDoc it), the result as aws_call() returns it, AWS's
 * code and the text of a failure (as aws_error_code()/aws_error_text()) out. */
struct aws_req {
	const char *action;
	const struct aws_query *q;
	bool want_doc;
	xmlDoc *doc;
	int rc;
	char code[128];
	char text[CYRIS_ERROR_DETAIL_MAX];
};
#define AWS_PARALLEL_MAX 4
/*
 * Send @n requests that do not depend on each other, at most
 * AWS_PARALLEL_MAX in flight at once (libcurl's multi interface, one
 * thread), each signed, and retried with its own backoff, as aws_call()
 * does. Returns when every one is done: 0 when all succeeded, else the
 * result of the first that failed in @reqs' order, which aws_error() and
 * aws_error_code() then describe; each request's own result is in it.
 */
int aws_call_many(struct cyris_aws *c, struct aws_req *reqs, size_t n);
/* The most requests aws_call_many() had in flight at once on @c (tests). */
unsigned aws_parallel_peak(const struct cyris_aws *c);

/* XML helpers over an answer (namespaces ignored: local names only). */
/* The first descendant element of @n named @name, or NULL. */
xmlNode *aws_xml_find(xmlNode *n, const char *name);
/* A copy of the text of @n's first child element named @name (xmlFree
 * it), or NULL when there is no such element. */
char *aws_xml_text(xmlNode *n, const char *name);

/* ---- added by the client (vm/aws/client.c, sigv4.c, creds.c, xml.c) ---- */

/* "CODE: AWS's message" of the last failure when AWS answered it, else the
 * transport's own text ("cannot connect to URL: ..."), without the action:
 * what a caller writes after its own "run-instances desktop.1: ". */
const char *aws_error_text(const struct cyris_aws *c);
/* The endpoint URL @c talks to ("https://ec2.us-west-2.amazonaws.com"). */
const char *aws_endpoint(const struct cyris_aws *c);
/* Where the credentials came from ("environment", "profile default in
 * FILE"), for cyris-check; never the keys themselves. */
const char *aws_creds_source(const struct cyris_aws *c);

/* Retries: @tries attempts in all (>= 1), the first backoff @base_ms (each
 * next one doubled, capped, with jitter). The defaults (8 tries, 100 ms)
 * suit AWS; tests make them shorter. Not a user setting. */
void aws_set_retry(struct cyris_aws *c, unsigned tries, unsigned base_ms);
/* The largest answer accepted, in bytes (default AWS_ANSWER_MAX); a larger
 * one fails with -EFBIG, never cut. */
#define AWS_ANSWER_MAX (64u << 20)
void aws_set_answer_max(struct cyris_aws *c, size_t bytes);

/* AWS's error code mapped to -errno (as aws_call() does). */
int aws_code_errno(const char *code, long http_status);

/* A growable string (NUL-terminated; s NULL until something is added). */
struct aws_buf {
	char *s;
	size_t len, cap;
};
int aws_buf_add(struct aws_buf *b, const char *s, size_t n);
int aws_buf_adds(struct aws_buf *b, const char *s);
int aws_buf_addf(struct aws_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void aws_buf_free(struct aws_buf *b);
/* Append @s URI-encoded as SigV4 wants it: every byte but A-Z a-z 0-9
 * - _ . ~ as %XY (upper case); '/' kept when @keep_slash. */
int aws_buf_add_uri(struct aws_buf *b, const char *s, size_t n, bool keep_slash);

/*
 * Signature Version 4 over one request. @headers are the header lines as
 * sent ("Name: value"), all of them signed; @query the raw query string
 * ("" none); @path unencoded ("/"). The Authorization header's value goes
 * into *ret (free it); with @ret_creq, the canonical request too (tests).
 */
struct aws_sigv4 {
	const char *method, *path, *query;
	const char *const *headers;
	size_t n_headers;
	const void *body;
	size_t body_len;
	const char *key_id, *secret, *region, *service;
	const char *amz_date;            /* YYYYMMDDTHHMMSSZ */
};
int aws_sigv4_sign(const struct aws_sigv4 *s, char **ret, char **ret_creq);

/*
 * What aws_open() starts from, found by the AWS conventions (vm/aws/creds.c,
 * the one file here that reads the environment): keys from the options'
 * profile, else AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY(/AWS_SESSION_TOKEN),
 * else the profile (AWS_PROFILE, "default") in AWS_SHARED_CREDENTIALS_FILE
 * (~/.aws/credentials) or AWS_CONFIG_FILE (~/.aws/config, "[profile x]");
 * region and endpoint as struct aws_opts says. The secret and the token
 * are wiped by aws_settings_free().
 */
struct aws_settings {
	char *key_id, *secret, *token;      /* token NULL = none */
	char region[64];
	char endpoint[1024];                /* as given; checked by aws_open() */
	char source[PATH_MAX + 300];        /* "environment", "profile x in FILE" */
	/* (kept on failure too) no keys anywhere; a region, an endpoint
	 * given (cyris.conf's aws_region too when the file sets it) rather
	 * than the built-in default region */
	bool no_keys, region_set, endpoint_set;
};
int aws_settings_load(const struct cyris_conf *conf, const struct aws_opts *o,
		      struct aws_settings *s, struct cyris_error *err);
void aws_settings_free(struct aws_settings *s);
/* "us-west-2", "us-gov-west-1", "cn-north-1": the shape of a region name. */
bool aws_region_name_ok(const char *region);

/* The preflight of `cyris-check --provider aws` (vm/aws/check.c). */
struct cyris_check_list;
void aws_checks(struct cyris_check_list *l, const struct cyris_conf *conf, bool needed);

#endif
