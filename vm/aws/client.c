/* SPDX-License-Identifier: MIT */
/*
 * The EC2 Query API over libcurl: one form-encoded POST per call, signed
 * with Signature V4 over exactly the headers it sends, the answer read with
 * libxml2, throttling and transient failures retried with backoff.
 */
#include <stdint.h>
#include <time.h>
#include <libxml/parser.h>
#include <openssl/crypto.h>

#include "aws-priv.h"
#include "curl-dl.h"     /* libcurl, through its table */
#include "../../net/base/util.h"

#define CONTENT_TYPE "application/x-www-form-urlencoded; charset=utf-8"
#define BACKOFF_CAP_MS 5000u

struct cyris_aws {
	CURL *curl;
	CURLM *multi;                   /* aws_call_many(): its handles, made on first use */
	CURL *pool[AWS_PARALLEL_MAX];
	struct aws_settings s;
	char url[1100];                 /* the endpoint, normalised */
	char host[300];                 /* the Host header's value */
	struct cyris_error err;
	char code[128];                 /* AWS's code of the last failure */
	char text[CYRIS_ERROR_DETAIL_MAX];
	unsigned long requests;
	unsigned peak;                  /* the most requests in flight at once */
	unsigned tries, base_ms;
	size_t answer_max;
	uint64_t rng;
	char curl_msg[CURL_ERROR_SIZE];
	/* this attempt on a new connection: libcurl sends a request again by
	 * itself when a reused connection dies without an answer, which for a
	 * create that is not idempotent can make a twin; on a new connection
	 * the lost answer is ours to see (and aws_call_create's to look for) */
	bool fresh;
};

const struct cyris_error *aws_error(const struct cyris_aws *c)
{
	return &c->err;
}

const char *aws_error_code(const struct cyris_aws *c)
{
	return c->code;
}

const char *aws_error_text(const struct cyris_aws *c)
{
	return c->text[0] ? c->text : c->err.msg;
}

const char *aws_region(const struct cyris_aws *c)
{
	return c->s.region;
}

const char *aws_endpoint(const struct cyris_aws *c)
{
	return c->url;
}

const char *aws_creds_source(const struct cyris_aws *c)
{
	return c->s.source;
}

unsigned long aws_requests(const struct cyris_aws *c)
{
	return c->requests;
}

unsigned aws_parallel_peak(const struct cyris_aws *c)
{
	return c->peak;
}

void aws_set_retry(struct cyris_aws *c, unsigned tries, unsigned base_ms)
{
	c->tries = tries ? tries : 1;
	c->base_ms = base_ms;
}

void aws_set_answer_max(struct cyris_aws *c, size_t bytes)
{
	/* libxml2 takes the answer's length as an int */
	c->answer_max = bytes < INT_MAX ? bytes : INT_MAX;
}

/* ---- parameters -------------------------------------------------------- */

int aws_query_add(struct aws_query *q, const char *key, const char *value)
{
	struct aws_param *p;
	char *k = strdup(key), *v = strdup(value);

	p = k && v ? cyris_grow((void **)&q->v, &q->n, &q->cap, sizeof(*q->v)) : NULL;
	if (!p) {
		free(k);
		free(v);
		return -ENOMEM;
	}
	p->key = k;
	p->value = v;
	return 0;
}

void aws_query_free(struct aws_query *q)
{
	size_t i;

	for (i = 0; i < q->n; i++) {
		free(q->v[i].key);
		free(q->v[i].value);
	}
	free(q->v);
	*q = (struct aws_query){0};
}

/* ---- opening ----------------------------------------------------------- */

/* The endpoint must be http(s)://HOST[:PORT][/]: no credentials, query or
 * fragment in it. The Host header is made from it, as curl would. */
static int parse_endpoint(struct cyris_aws *c, const char *url, struct cyris_error *err)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *query = NULL,
	     *frag = NULL;
	const char *why = NULL;
	int r = 0;

	if (!u)
		return cyris_error_set(err, -ENOMEM, "AWS endpoint: %s", strerror(ENOMEM));
	/* user information may be a password: refused, and never echoed */
	if (strchr(url, '@'))
		why = "user information in an endpoint URL is not allowed";
	else if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
		why = "not a URL";
	else if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
		 (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0))
		why = "the scheme is not http or https";
	else if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !*host)
		why = "no host";
	else if (curl_url_get(u, CURLUPART_QUERY, &query, 0) == CURLUE_OK ||
		 curl_url_get(u, CURLUPART_FRAGMENT, &frag, 0) == CURLUE_OK)
		why = "a query or fragment in an endpoint URL is not allowed";
	else if (curl_url_get(u, CURLUPART_PATH, &path, 0) == CURLUE_OK && path && !streq(path, "/"))
		why = "EC2's endpoint has no path";
	if (!why) {
		(void)curl_url_get(u, CURLUPART_PORT, &port, 0);  /* only when given */
		if (snprintf(c->host, sizeof(c->host), "%s%s%s", host, port ? ":" : "", port ? port : "") >=
			    (int)sizeof(c->host) ||
		    snprintf(c->url, sizeof(c->url), "%s://%s/", scheme, c->host) >= (int)sizeof(c->url))
			why = "too long";
	}
	if (why)
		r = cyris_error_set(err, -EINVAL, "AWS endpoint '%s': %s",
				    strchr(url, '@') ? "(with user information)" : url, why);
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_free(query);
	curl_free(frag);
	curl_url_cleanup(u);
	return r;
}

int aws_open(const struct cyris_conf *conf, const struct aws_opts *o,
	     struct cyris_aws **ret, struct cyris_error *err)
{
	struct cyris_aws *c = calloc(1, sizeof(*c));
	struct timespec ts;
	int r;

	if (!c)
		return cyris_error_set(err, -ENOMEM, "AWS client: %s", strerror(ENOMEM));
	c->tries = 8;
	c->base_ms = 100;
	c->answer_max = AWS_ANSWER_MAX;
	clock_gettime(CLOCK_REALTIME, &ts);
	c->rng = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ ((uint64_t)getpid() << 40) ^ 0x9e3779b97f4a7c15ull;
	r = aws_settings_load(conf, o, &c->s, err);
	if (r == 0 && (r = curl_dl_load()) < 0)
		r = cyris_error_set(err, r, "AWS client: cannot load libcurl: %s", curl_dl_error());
	if (r == 0)
		r = parse_endpoint(c, c->s.endpoint, err);
	if (r == 0) {
		c->curl = curl_easy_init();
		if (!c->curl)
			r = cyris_error_set(err, -ENOMEM, "AWS client: curl_easy_init failed");
	}
	if (r < 0) {
		aws_close(c);
		return r;
	}
	*ret = c;
	return 0;
}

void aws_close(struct cyris_aws *c)
{
	if (!c)
		return;
	if (c->curl)
		curl_easy_cleanup(c->curl);
	for (size_t i = 0; i < AWS_PARALLEL_MAX; i++)
		if (c->pool[i])
			curl_easy_cleanup(c->pool[i]);
	if (c->multi)
		curl_multi_cleanup(c->multi);
	aws_settings_free(&c->s);
	free(c);
}

/* ---- errors ------------------------------------------------------------ */

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);

	return n >= t && streq(s + n - t, tail);
}

int aws_code_errno(const char *code, long status)
{
	static const struct {
		const char *code;
		int e;
	} exact[] = {
		{ "AuthFailure", -EACCES }, { "UnauthorizedOperation", -EACCES },
		{ "SignatureDoesNotMatch", -EACCES }, { "InvalidClientTokenId", -EACCES },
		{ "OptInRequired", -EACCES }, { "Blocked", -EACCES },
		{ "DependencyViolation", -EBUSY }, { "IncorrectState", -EBUSY },
		{ "IncorrectInstanceState", -EBUSY }, { "ResourceInUse", -EBUSY },
		{ "RequestLimitExceeded", -EAGAIN }, { "Throttling", -EAGAIN },
		{ "ThrottlingException", -EAGAIN }, { "RequestThrottled", -EAGAIN },
		{ "InsufficientInstanceCapacity", -ENOSPC }, { "InsufficientAddressCapacity", -ENOSPC },
		{ "InvalidAction", -EOPNOTSUPP }, { "UnsupportedOperation", -EOPNOTSUPP },
		{ "MissingParameter", -EINVAL }, { "InternalError", -EIO },
		{ "Unavailable", -EIO }, { "ServiceUnavailable", -EIO },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(exact); i++)
		if (streq(code, exact[i].code))
			return exact[i].e;
	if (ends_with(code, ".NotFound") || ends_with(code, "NotFound"))
		return -ENOENT;
	if (ends_with(code, ".Duplicate") || ends_with(code, "AlreadyExists"))
		return -EEXIST;
	if (ends_with(code, "LimitExceeded"))
		return -EDQUOT;
	if (strncmp(code, "Invalid", 7) == 0 || ends_with(code, ".Malformed"))
		return -EINVAL;
	if (status >= 500)
		return -EIO;
	if (status == 401 || status == 403)
		return -EACCES;
	return -EPROTO;
}

/* Throttled: refused before anything was done. */
static bool throttled_code(const char *code)
{
	return streq(code, "RequestLimitExceeded") || streq(code, "Throttling") ||
	       streq(code, "ThrottlingException") || streq(code, "RequestThrottled");
}

static bool retryable_code(const char *code)
{
	return throttled_code(code) || streq(code, "InternalError") || streq(code, "Unavailable") ||
	       streq(code, "ServiceUnavailable");
}

/*
 * A change that is not a create, sent again after an attempt whose outcome
 * is unknown (its answer lost with the connection, a 5xx, curl's own resend
 * on a reused connection that died): the first attempt may have been done,
 * and the retry is then told that what it asks for is so already. That
 * answer, for that action, is the retry's success; on a first attempt (or
 * after throttling only, which did nothing) it stays the error it is.
 * The one place that knows which action accepts which code on a retry.
 * Not here: the creates (aws_call_create: a ClientToken or a lookup by
 * tag), and what is idempotent already on AWS (AssociateAddress: AWS
 * documents it so, moto agrees; ModifyNetworkInterfaceAttribute,
 * TerminateInstances, DeleteKeyPair, Describe*).
 */
static const struct {
	const char *action, *code;
} retry_done[] = {
	{ "AuthorizeSecurityGroupIngress", "InvalidPermission.Duplicate" },
	{ "AuthorizeSecurityGroupEgress", "InvalidPermission.Duplicate" },
	{ "RevokeSecurityGroupIngress", "InvalidPermission.NotFound" },
	{ "RevokeSecurityGroupEgress", "InvalidPermission.NotFound" },
	{ "CreateRoute", "RouteAlreadyExists" },
	{ "AssociateRouteTable", "Resource.AlreadyAssociated" },
	{ "AttachInternetGateway", "Resource.AlreadyAssociated" },
	{ "DetachInternetGateway", "Gateway.NotAttached" },
	{ "DisassociateAddress", "InvalidAssociationID.NotFound" },
	{ "ReleaseAddress", "InvalidAllocationID.NotFound" },
	{ "DisassociateRouteTable", "InvalidAssociationID.NotFound" },
	{ "DeleteNetworkInterface", "InvalidNetworkInterfaceID.NotFound" },
	{ "DeleteSecurityGroup", "InvalidGroup.NotFound" },
	{ "DeleteSubnet", "InvalidSubnetID.NotFound" },
	{ "DeleteRouteTable", "InvalidRouteTableID.NotFound" },
	{ "DeleteInternetGateway", "InvalidInternetGatewayID.NotFound" },
	{ "DeleteVpc", "InvalidVpcID.NotFound" },
};

bool aws_retry_done(const char *action, const char *code)
{
	size_t i;

	for (i = 0; code && code[0] && i < ARRAY_SIZE(retry_done); i++)
		if (streq(action, retry_done[i].action) && streq(code, retry_done[i].code))
			return true;
	return false;
}

/* Replace every copy of @secret in @s by "***": an answer that quotes
 * what was sent must not carry a secret into an error. */
static void scrub(char *s, const char *secret)
{
	size_t n = secret ? strlen(secret) : 0;
	char *p;

	if (n < 4)
		return;
	while ((p = strstr(s, secret)) != NULL) {
		memmove(p + 3, p + n, strlen(p + n) + 1);
		memcpy(p, "***", 3);
	}
}

static void set_text(struct cyris_aws *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_text(struct cyris_aws *c, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(c->text, sizeof(c->text), fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(c->text))
		memcpy(c->text + sizeof(c->text) - 4, "...", 4);
	scrub(c->text, c->s.secret);
	scrub(c->text, c->s.token);
}

/* The Code and Message of an error answer (EC2: Response/Errors/Error;
 * others: ErrorResponse/Error). */
static void aws_answer_error(struct cyris_aws *c, xmlDoc *doc, long status)
{
	xmlNode *e = doc ? aws_xml_find((xmlNode *)doc, "Error") : NULL;
	_cleanup_free_ char *code = e ? aws_xml_text(e, "Code") : NULL;
	_cleanup_free_ char *msg = e ? aws_xml_text(e, "Message") : NULL;

	if (code && *code) {
		snprintf(c->code, sizeof(c->code), "%s", code);
		set_text(c, "%s: %s", code, msg && *msg ? msg : "(no message)");
	} else {
		c->code[0] = '\0';
		set_text(c, "HTTP %ld without an EC2 error in the answer", status);
	}
}

/* ---- one request ------------------------------------------------------- */

struct answer {
	struct aws_buf b;
	size_t max;
	bool too_big;
	/* times the request went out in this transfer: libcurl sends it again
	 * by itself when a reused connection dies before any answer, and the
	 * first of those may have been done */
	unsigned sent;
};

/* CURLOPT_DEBUGFUNCTION: counts the request's header blocks sent; prints
 * nothing (the library never prints). */
static int on_debug(CURL *h, curl_infotype type, char *data, size_t size, void *arg)
{
	struct answer *a = arg;

	(void)h;
	(void)data;
	(void)size;
	if (type == CURLINFO_HEADER_OUT)
		a->sent++;
	return 0;
}

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	struct answer *a = arg;
	size_t len = size * n;

	if (a->b.len + len > a->max) {
		a->too_big = true;
		return 0;       /* curl stops with CURLE_WRITE_ERROR */
	}
	return aws_buf_add(&a->b, p, len) < 0 ? 0 : len;
}

/* Form-encoded as botocore does it (space as '+', every other byte but
 * A-Z a-z 0-9 - _ . ~ as %XY): a server that re-encodes the parameters it
 * parsed, as moto's signature check does, gets the same bytes. */
static int add_form(struct aws_buf *b, const char *s)
{
	int r = 0;

	while (*s && r == 0) {
		size_t n = strcspn(s, " ");

		r = aws_buf_add_uri(b, s, n, false);
		s += n;
		if (*s == ' ' && r == 0) {
			r = aws_buf_add(b, "+", 1);
			s++;
		}
	}
	return r;
}

static int build_body(const char *action, const struct aws_query *q, struct aws_buf *b)
{
	size_t i;
	int r = aws_buf_adds(b, "Action=");

	if (r == 0)
		r = add_form(b, action);
	if (r == 0)
		r = aws_buf_adds(b, "&Version=" AWS_EC2_VERSION);
	for (i = 0; q && i < q->n && r == 0; i++) {
		r = aws_buf_adds(b, "&");
		if (r == 0)
			r = add_form(b, q->v[i].key);
		if (r == 0)
			r = aws_buf_adds(b, "=");
		if (r == 0)
			r = add_form(b, q->v[i].value);
	}
	return r;
}

static void free_lines(char **h, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (h[i])
			OPENSSL_cleanse(h[i], strlen(h[i]));
		free(h[i]);
	}
}

/* The header lines of one request, signed; into @list for curl. */
static int sign_headers(struct cyris_aws *c, const struct aws_buf *body, struct curl_slist **list)
{
	char *h[6] = {0}, date[17];
	size_t n = 0, i;
	struct tm tm;
	time_t now = time(NULL);
	char *auth = NULL;
	int r = 0;

	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%Y%m%dT%H%M%SZ", &tm);
	if (asprintf(&h[n++], "Content-Type: %s", CONTENT_TYPE) < 0 ||
	    asprintf(&h[n++], "Host: %s", c->host) < 0 ||
	    asprintf(&h[n++], "X-Amz-Date: %s", date) < 0 ||
	    (c->s.token && asprintf(&h[n++], "X-Amz-Security-Token: %s", c->s.token) < 0)) {
		h[n - 1] = NULL;
		r = -ENOMEM;
	}
	if (r == 0) {
		struct aws_sigv4 s = {
			.method = "POST", .path = "/", .query = "",
			.headers = (const char *const *)h, .n_headers = n,
			.body = body->s, .body_len = body->len,
			.key_id = c->s.key_id, .secret = c->s.secret,
			.region = c->s.region, .service = "ec2", .amz_date = date,
		};

		r = aws_sigv4_sign(&s, &auth, NULL);
	}
	if (r == 0 && asprintf(&h[n++], "Authorization: %s", auth) < 0) {
		h[n - 1] = NULL;
		r = -ENOMEM;
	}
	free(auth);
	/* no "Expect: 100-continue" round trip for a small body */
	if (r == 0 && !(h[n++] = strdup("Expect:")))
		r = -ENOMEM;
	for (i = 0; i < n && r == 0; i++) {
		struct curl_slist *l = curl_slist_append(*list, h[i]);

		if (!l)
			r = -ENOMEM;
		else
			*list = l;
	}
	free_lines(h, n);
	return r;
}

enum outcome { DONE, FAILED, RETRY };

/* The transport's failures worth another try: the connection went away. */
static bool retryable_curl(CURLcode cc)
{
	return cc == CURLE_SEND_ERROR || cc == CURLE_RECV_ERROR || cc == CURLE_GOT_NOTHING ||
	       cc == CURLE_PARTIAL_FILE || cc == CURLE_OPERATION_TIMEDOUT;
}

static int curl_errno(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_RESOLVE_HOST: return -EHOSTUNREACH;
	case CURLE_COULDNT_CONNECT: return -ECONNREFUSED;
	case CURLE_OPERATION_TIMEDOUT: return -ETIMEDOUT;
	case CURLE_OUT_OF_MEMORY: return -ENOMEM;
	case CURLE_PEER_FAILED_VERIFICATION: return -EACCES;
	default: return -EIO;
	}
}

/* One request's easy handle set up (signed now); *@hdrs and @a are the
 * caller's until the transfer is done. */
static int prepare(struct cyris_aws *c, CURL *h, const struct aws_buf *body, struct curl_slist **hdrs,
		   struct answer *a, char *errbuf)
{
	int r = sign_headers(c, body, hdrs);

	if (r < 0) {
		set_text(c, "signing the request: %s", strerror(-r));
		return r;
	}
	curl_easy_reset(h);
	errbuf[0] = '\0';
	*a = (struct answer){ .max = c->answer_max };
	curl_easy_setopt(h, CURLOPT_URL, c->url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, *hdrs);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body->s);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body->len);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, a);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 20L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 120L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_USERAGENT, "cyris/0.1 (EC2 Query API)");
	curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, c->fresh ? 1L : 0L);
	/* verbose only for the callback's count: it is set, so nothing is printed */
	curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, on_debug);
	curl_easy_setopt(h, CURLOPT_DEBUGDATA, a);
	curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
	c->requests++;
	return 0;
}

/* What the transfer on @h that ended with @cc brought: the answer, or the
 * failure in c->code / c->text. */
static enum outcome finish(struct cyris_aws *c, CURL *h, CURLcode cc, struct answer *a, const char *errbuf,
			   xmlDoc **ret, int *rc)
{
	xmlDoc *doc = NULL;
	long status = 0;

	if (cc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (a->too_big) {
		aws_buf_free(&a->b);
		*rc = -EFBIG;
		set_text(c, "the answer from %s is larger than %zu bytes: refused", c->url, c->answer_max);
		return FAILED;
	}
	if (cc != CURLE_OK) {
		aws_buf_free(&a->b);
		*rc = curl_errno(cc);
		set_text(c, "%s %s: %s", cc == CURLE_COULDNT_CONNECT ? "cannot connect to" : "talking to",
			 c->url, errbuf[0] ? errbuf : curl_easy_strerror(cc));
		return retryable_curl(cc) ? RETRY : FAILED;
	}
	if (a->b.len)
		doc = xmlReadMemory(a->b.s, (int)a->b.len, "ec2-answer.xml", NULL,
				    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	aws_buf_free(&a->b);
	if (status == 200 && doc) {
		if (ret)
			*ret = doc;
		else
			xmlFreeDoc(doc);
		*rc = 0;
		return DONE;
	}
	if (status == 200) {
		*rc = -EPROTO;
		set_text(c, "the answer from %s is not XML", c->url);
		return FAILED;
	}
	aws_answer_error(c, doc, status);
	xmlFreeDoc(doc);
	*rc = aws_code_errno(c->code, status);
	return status >= 500 || retryable_code(c->code) ? RETRY : FAILED;
}

static enum outcome attempt(struct cyris_aws *c, const struct aws_buf *body, xmlDoc **ret, int *rc,
			    unsigned *sent)
{
	struct curl_slist *hdrs = NULL;
	struct answer a;
	enum outcome o;
	CURLcode cc;
	int r;

	c->code[0] = c->text[0] = '\0';
	r = prepare(c, c->curl, body, &hdrs, &a, c->curl_msg);
	if (r < 0) {
		curl_slist_free_all(hdrs);
		*rc = r;
		return FAILED;
	}
	cc = curl_easy_perform(c->curl);
	curl_slist_free_all(hdrs);
	*sent = a.sent;
	o = finish(c, c->curl, cc, &a, c->curl_msg, ret, rc);
	return o;
}

static uint64_t next_rand(struct cyris_aws *c)
{
	/* xorshift64*: jitter only, nothing secret */
	c->rng ^= c->rng >> 12;
	c->rng ^= c->rng << 25;
	c->rng ^= c->rng >> 27;
	return c->rng * 2685821657736338717ull;
}

/* Attempt @i's wait in ms: base * 2^i capped, a random point in its upper half. */
static uint64_t backoff_ms(struct cyris_aws *c, unsigned i)
{
	uint64_t d = c->base_ms;

	while (i-- && d < BACKOFF_CAP_MS)
		d *= 2;
	if (d > BACKOFF_CAP_MS)
		d = BACKOFF_CAP_MS;
	return d / 2 + (d ? next_rand(c) % (d / 2 + 1) : 0);
}

static void sleep_ms(uint64_t d)
{
	struct timespec ts = { .tv_sec = (time_t)(d / 1000), .tv_nsec = (long)(d % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void backoff(struct cyris_aws *c, unsigned i)
{
	sleep_ms(backoff_ms(c, i));
}

/* c->err of a failed call of @action, from c->code and c->text. */
static int call_error(struct cyris_aws *c, const char *action, int r, bool exhausted)
{
	cyris_error_set(&c->err, r, "%s", action);
	if (c->code[0])
		cyris_error_detail(&c->err, CYRIS_ERROR_AWS, "%s", c->text);
	else
		cyris_error_append(&c->err, ": %s", c->text);
	if (exhausted)
		cyris_error_append(&c->err, " (after %u tries)", c->tries);
	return r;
}

int aws_call(struct cyris_aws *c, const char *action, const struct aws_query *q, xmlDoc **ret)
{
	return aws_call_create(c, action, q, ret, NULL, NULL);
}

int aws_call_create(struct cyris_aws *c, const char *action, const struct aws_query *q, xmlDoc **ret,
		    int (*made)(void *arg), void *arg)
{
	struct aws_buf body = {0};
	enum outcome o = FAILED;
	bool unknown = false;           /* an attempt's outcome unknown: it may have been done */
	unsigned i;
	int r;

	cyris_error_clear(&c->err);
	c->code[0] = c->text[0] = '\0';
	r = build_body(action, q, &body);
	if (r < 0) {
		aws_buf_free(&body);
		return cyris_error_set(&c->err, r, "%s: %s", action, strerror(-r));
	}
	for (i = 0; i < c->tries; i++) {
		unsigned sent = 0;

		if (i)
			backoff(c, i - 1);
		/* a throttled call did nothing; after any other failure worth a
		 * retry (a lost answer, a 5xx) the work may have been done */
		if (i && made && !throttled_code(c->code)) {
			r = made(arg);
			if (r != 0) {
				aws_buf_free(&body);
				return r;
			}
		}
		/* a create, and every retry after an unknown outcome, on a new
		 * connection: what happens to it is then ours to see */
		c->fresh = made != NULL || unknown;
		o = attempt(c, &body, ret, &r, &sent);
		c->fresh = false;
		if (sent > 1)
			unknown = true;
		if (o == FAILED && unknown && aws_retry_done(action, c->code)) {
			/* the earlier attempt did it: this is its answer */
			c->code[0] = c->text[0] = '\0';
			o = DONE;
			r = 0;
		}
		if (o != RETRY)
			break;
		if (!throttled_code(c->code))
			unknown = true;
	}
	aws_buf_free(&body);
	if (o == DONE)
		return 0;
	return call_error(c, action, r, o == RETRY);
}

/* ---- requests in parallel ---------------------------------------------- */

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* A request of aws_call_many() between its tries. */
struct pending {
	struct aws_buf body;
	unsigned tries;
	uint64_t not_before;            /* monotonic ms: its backoff */
	bool running, done, exhausted;
	bool unknown;                   /* as in aws_call_create() */
};

/* One transfer in flight. */
struct slot {
	CURL *h;
	size_t req;                     /* SIZE_MAX: free */
	struct curl_slist *hdrs;
	struct answer a;
	char errbuf[CURL_ERROR_SIZE];
};

static int many_open(struct cyris_aws *c)
{
	size_t i;

	if (!c->multi && !(c->multi = curl_multi_init()))
		return -ENOMEM;
	for (i = 0; i < AWS_PARALLEL_MAX; i++)
		if (!c->pool[i] && !(c->pool[i] = curl_easy_init()))
			return -ENOMEM;
	return 0;
}

/* The end of @sl's transfer (@cc): the request done, or back to wait for
 * its next try. */
static void many_done(struct cyris_aws *c, struct aws_req *reqs, struct pending *pd, struct slot *sl,
		      CURLcode cc)
{
	struct aws_req *rq = &reqs[sl->req];
	struct pending *p = &pd[sl->req];
	enum outcome o;

	curl_multi_remove_handle(c->multi, sl->h);
	curl_slist_free_all(sl->hdrs);
	sl->hdrs = NULL;
	c->code[0] = c->text[0] = '\0';
	if (sl->a.sent > 1)
		p->unknown = true;
	o = finish(c, sl->h, cc, &sl->a, sl->errbuf, rq->want_doc ? &rq->doc : NULL, &rq->rc);
	p->running = false;
	sl->req = SIZE_MAX;
	if (o == FAILED && p->unknown && aws_retry_done(rq->action, c->code)) {
		c->code[0] = c->text[0] = '\0';
		o = DONE;
		rq->rc = 0;
	}
	if (o == RETRY && !throttled_code(c->code))
		p->unknown = true;
	if (o == RETRY && p->tries < c->tries) {
		p->not_before = mono_ms() + backoff_ms(c, p->tries - 1);
		return;
	}
	p->done = true;
	p->exhausted = o == RETRY;
	snprintf(rq->code, sizeof(rq->code), "%s", o == DONE ? "" : c->code);
	snprintf(rq->text, sizeof(rq->text), "%s", o == DONE ? "" : c->text);
}

/* Start what may start in the free slots; the ms until the next backoff
 * ends (UINT64_MAX: nothing waits). */
static uint64_t many_start(struct cyris_aws *c, struct aws_req *reqs, struct pending *pd, size_t n,
			   struct slot *sl, size_t *running)
{
	uint64_t now = mono_ms(), next = UINT64_MAX;
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		struct pending *p = &pd[i];

		if (p->done || p->running)
			continue;
		if (p->not_before > now) {
			next = p->not_before - now < next ? p->not_before - now : next;
			continue;
		}
		while (k < AWS_PARALLEL_MAX && sl[k].req != SIZE_MAX)
			k++;
		if (k == AWS_PARALLEL_MAX)
			break;
		c->code[0] = c->text[0] = '\0';
		p->tries++;
		c->fresh = p->unknown;
		reqs[i].rc = prepare(c, sl[k].h, &p->body, &sl[k].hdrs, &sl[k].a, sl[k].errbuf);
		c->fresh = false;
		if (reqs[i].rc < 0 ||
		    (curl_multi_add_handle(c->multi, sl[k].h) != CURLM_OK && (reqs[i].rc = -ENOMEM))) {
			curl_slist_free_all(sl[k].hdrs);
			sl[k].hdrs = NULL;
			if (!c->text[0])
				set_text(c, "starting the request: %s", strerror(-reqs[i].rc));
			p->done = true;
			snprintf(reqs[i].text, sizeof(reqs[i].text), "%s", c->text);
			continue;
		}
		sl[k].req = i;
		p->running = true;
		if (++*running > c->peak)
			c->peak = (unsigned)*running;
	}
	return next;
}

int aws_call_many(struct cyris_aws *c, struct aws_req *reqs, size_t n)
{
	struct slot sl[AWS_PARALLEL_MAX];
	struct pending *pd;
	size_t i, running = 0;
	int r = 0;

	cyris_error_clear(&c->err);
	if (n == 0)
		return 0;
	pd = calloc(n, sizeof(*pd));
	if (!pd || (r = many_open(c)) < 0) {
		free(pd);
		return cyris_error_set(&c->err, -ENOMEM, "%s: %s", reqs[0].action, strerror(ENOMEM));
	}
	for (i = 0; i < n; i++) {
		reqs[i].doc = NULL;
		reqs[i].rc = 0;
		reqs[i].code[0] = reqs[i].text[0] = '\0';
		if (r == 0 && (r = build_body(reqs[i].action, reqs[i].q, &pd[i].body)) < 0)
			cyris_error_set(&c->err, r, "%s: %s", reqs[i].action, strerror(-r));
	}
	for (i = 0; i < AWS_PARALLEL_MAX; i++)
		sl[i] = (struct slot){ .h = c->pool[i], .req = SIZE_MAX };
	for (;;) {
		uint64_t next;
		int still = 0, left;
		CURLMsg *m;

		if (r < 0)
			break;
		next = many_start(c, reqs, pd, n, sl, &running);
		if (!running && next == UINT64_MAX)
			break;
		if (!running) {
			sleep_ms(next);
			continue;
		}
		curl_multi_perform(c->multi, &still);
		while ((m = curl_multi_info_read(c->multi, &left)) != NULL) {
			if (m->msg != CURLMSG_DONE)
				continue;
			for (i = 0; i < AWS_PARALLEL_MAX && sl[i].h != m->easy_handle; i++)
				;
			if (i < AWS_PARALLEL_MAX && sl[i].req != SIZE_MAX) {
				many_done(c, reqs, pd, &sl[i], m->data.result);
				running--;
			}
		}
		if (running)
			curl_multi_poll(c->multi, NULL, 0, next < 1000 ? (int)next : 1000, NULL);
	}
	for (i = 0; i < n; i++)
		aws_buf_free(&pd[i].body);
	/* the first failure, in the callers' order, is the call's */
	for (i = 0; r == 0 && i < n; i++)
		if (reqs[i].rc < 0) {
			snprintf(c->code, sizeof(c->code), "%s", reqs[i].code);
			snprintf(c->text, sizeof(c->text), "%s", reqs[i].text);
			r = call_error(c, reqs[i].action, reqs[i].rc, pd[i].exhausted);
		}
	free(pd);
	return r;
}

/* ---- pages ------------------------------------------------------------- */

/* The answer's own nextToken (a child of the root element), or NULL. */
static char *next_token(xmlDoc *doc)
{
	xmlNode *root = xmlDocGetRootElement(doc);
	char *t = root ? aws_xml_text(root, "nextToken") : NULL;

	if (t && !*t) {
		xmlFree(t);
		t = NULL;
	}
	return t;
}

int aws_call_pages(struct cyris_aws *c, const char *action, const struct aws_query *q,
		   int (*page)(xmlDoc *doc, void *arg), void *arg)
{
	struct aws_query pq = {0};
	char *token = NULL;
	size_t i;
	int r = 0;

	for (i = 0; q && i < q->n && r == 0; i++)
		r = aws_query_add(&pq, q->v[i].key, q->v[i].value);
	if (r < 0) {
		aws_query_free(&pq);
		return cyris_error_set(&c->err, r, "%s: %s", action, strerror(-r));
	}
	for (;;) {
		xmlDoc *doc = NULL;
		char *next;

		r = aws_call(c, action, &pq, &doc);
		if (r < 0)
			break;
		next = next_token(doc);
		r = page(doc, arg);
		xmlFreeDoc(doc);
		if (r < 0 || !next) {
			xmlFree(next);
			break;
		}
		if (token && streq(token, next)) {
			xmlFree(next);
			r = cyris_error_set(&c->err, -EPROTO, "%s: the same NextToken twice", action);
			break;
		}
		xmlFree(token);
		token = next;
		/* the token is the last parameter: replace it page after page */
		if (pq.n && streq(pq.v[pq.n - 1].key, "NextToken")) {
			free(pq.v[pq.n - 1].value);
			pq.v[pq.n - 1].value = strdup(token);
			r = pq.v[pq.n - 1].value ? 0 : -ENOMEM;
		} else {
			r = aws_query_add(&pq, "NextToken", token);
		}
		if (r < 0) {
			r = cyris_error_set(&c->err, r, "%s: %s", action, strerror(-r));
			break;
		}
	}
	xmlFree(token);
	aws_query_free(&pq);
	return r;
}
