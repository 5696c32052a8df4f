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
int aws_query_addf(struct aws_query *q, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void aws_query_free(struct aws_query *q);

/*
 * Send Action=@action with @q (NULL = no parameters). Throttling
 * (RequestLimitExceeded, Throttling), HTTP 5xx and dropped connections are
 * retried with bounded exponential backoff and jitter. On success *ret is
 * the parsed answer (xmlFreeDoc it; @ret NULL = not wanted) and 0 is
 * returned; on failure -errno (AuthFailure -EACCES, *.NotFound -ENOENT,
 * DependencyViolation -EBUSY, InvalidParameter* -EINVAL, ...) and
 * aws_error() says what happened.
 */
int aws_call(struct cyris_aws *c, const char *action, const struct aws_query *q,
	     xmlDoc **ret);
/* The same for a Describe* call: each page (following NextToken) is given
 * to @page, which returns 0 to go on or -errno to stop with that. */
int aws_call_pages(struct cyris_aws *c, const char *action, const struct aws_query *q,
		   int (*page)(xmlDoc *doc, void *arg), void *arg);

/* XML helpers over an answer (namespaces ignored: local names only). */
/* The first descendant element of @n named @name, or NULL. */
xmlNode *aws_xml_find(xmlNode *n, const char *name);
/* A copy of the text of @n's first child element named @name (xmlFree
 * it), or NULL when there is no such element. */
char *aws_xml_text(xmlNode *n, const char *name);

#endif
