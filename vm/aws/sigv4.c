/* SPDX-License-Identifier: MIT */
/*
 * Signature Version 4 (AWS's "Create a signed AWS API request"): the
 * canonical request, the string to sign, the derived key and the
 * Authorization header. SHA-256 and HMAC-SHA256 come from libcrypto's EVP
 * and EVP_MAC interfaces. Headers are canonicalised as the published test
 * suite does: names lower-cased, values trimmed with inner runs of white
 * space made one space, sorted by name, repeated names joined with ','.
 */
#include <ctype.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/params.h>

#include "aws-priv.h"
#include "../../net/base/util.h"

int aws_buf_add(struct aws_buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *ns;

		while (cap < b->len + n + 1) {
			if (cap > SIZE_MAX / 2)
				return -ENOMEM;
			cap *= 2;
		}
		ns = realloc(b->s, cap);
		if (!ns)
			return -ENOMEM;
		b->s = ns;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
	return 0;
}

int aws_buf_adds(struct aws_buf *b, const char *s)
{
	return aws_buf_add(b, s, strlen(s));
}

int aws_buf_addf(struct aws_buf *b, const char *fmt, ...)
{
	_cleanup_free_ char *s = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		s = NULL;
		return -ENOMEM;
	}
	return aws_buf_add(b, s, (size_t)n);
}

void aws_buf_free(struct aws_buf *b)
{
	free(b->s);
	*b = (struct aws_buf){0};
}

int aws_buf_add_uri(struct aws_buf *b, const char *s, size_t n, bool keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;
	int r = 0;

	for (i = 0; i < n && r == 0; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~' ||
		    (ch == '/' && keep_slash)) {
			r = aws_buf_add(b, (const char *)&ch, 1);
		} else {
			char e[3] = { '%', hex[ch >> 4], hex[ch & 15] };

			r = aws_buf_add(b, e, 3);
		}
	}
	return r;
}

static void hex_of(const unsigned char *md, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[2 * n] = '\0';
}

static int sha256_hex(const void *data, size_t n, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned len = 0;

	if (!EVP_Digest(data, n, md, &len, EVP_sha256(), NULL) || len != 32)
		return -EIO;
	hex_of(md, 32, out);
	return 0;
}

/* HMAC-SHA256 of @data under @key into @out (32 bytes). */
static int hmac256(const void *key, size_t klen, const char *data, unsigned char out[32])
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	size_t len = 0;
	int r = -EIO;

	if (ctx && EVP_MAC_init(ctx, key, klen, params) &&
	    EVP_MAC_update(ctx, (const unsigned char *)data, strlen(data)) &&
	    EVP_MAC_final(ctx, out, &len, 32) && len == 32)
		r = 0;
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return r;
}

struct hdr {
	char *name, *value;
};

static int hdr_cmp(const void *a, const void *b)
{
	const struct hdr *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	/* stable for equal names: their order as sent is kept */
	return c ? c : x < y ? -1 : x > y;
}

/* "Name: value" into a lower-case name and a value trimmed, with every run
 * of white space inside made one space. */
static int hdr_parse(const char *line, struct hdr *h)
{
	const char *colon = strchr(line, ':'), *v;
	size_t i, n;
	char *o;

	if (!colon || colon == line)
		return -EINVAL;
	h->name = strndup(line, (size_t)(colon - line));
	h->value = malloc(strlen(colon) + 1);
	if (!h->name || !h->value)
		return -ENOMEM;
	for (i = 0; h->name[i]; i++)
		h->name[i] = (char)tolower((unsigned char)h->name[i]);
	n = strlen(h->name);
	while (n && isspace((unsigned char)h->name[n - 1]))
		h->name[--n] = '\0';
	o = h->value;
	for (v = colon + 1; *v; v++) {
		if (isspace((unsigned char)*v)) {
			if (o > h->value && o[-1] != ' ')
				*o++ = ' ';
		} else {
			*o++ = *v;
		}
	}
	if (o > h->value && o[-1] == ' ')
		o--;
	*o = '\0';
	return 0;
}

/* The canonical headers block and the signed header list. */
static int canon_headers(const struct aws_sigv4 *s, struct aws_buf *block, struct aws_buf *names)
{
	struct hdr *h = calloc(s->n_headers ? s->n_headers : 1, sizeof(*h));
	size_t i;
	int r = 0;

	if (!h)
		return -ENOMEM;
	for (i = 0; i < s->n_headers && r == 0; i++)
		r = hdr_parse(s->headers[i], &h[i]);
	if (r == 0)
		qsort(h, s->n_headers, sizeof(*h), hdr_cmp);
	for (i = 0; i < s->n_headers && r == 0; i++) {
		bool again = i > 0 && streq(h[i].name, h[i - 1].name);

		if (again) {
			block->len--;   /* the '\n' of the name's first line */
			r = aws_buf_addf(block, ",%s\n", h[i].value);
		} else {
			r = aws_buf_addf(block, "%s:%s\n", h[i].name, h[i].value);
			if (r == 0)
				r = aws_buf_addf(names, "%s%s", names->len ? ";" : "", h[i].name);
		}
	}
	for (i = 0; i < s->n_headers; i++) {
		free(h[i].name);
		free(h[i].value);
	}
	free(h);
	return r;
}

static int unhex(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* @s of @n bytes with %XY decoded, URI-encoded again into @b. */
static int add_reencoded(struct aws_buf *b, const char *s, size_t n)
{
	_cleanup_free_ char *d = malloc(n + 1);
	size_t i, o = 0;

	if (!d)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && unhex(s[i + 1]) >= 0 && unhex(s[i + 2]) >= 0) {
			d[o++] = (char)(unhex(s[i + 1]) << 4 | unhex(s[i + 2]));
			i += 2;
		} else {
			d[o++] = s[i];
		}
	}
	return aws_buf_add_uri(b, d, o, false);
}

struct qp {
	char *kv;         /* "key=value", both encoded */
	size_t klen;
};

static int qp_cmp(const void *a, const void *b)
{
	const struct qp *x = a, *y = b;
	size_t n = x->klen < y->klen ? x->klen : y->klen;
	int c = memcmp(x->kv, y->kv, n);

	if (c == 0 && x->klen != y->klen)
		return x->klen < y->klen ? -1 : 1;
	/* equal keys: by value */
	return c ? c : strcmp(x->kv + x->klen, y->kv + y->klen);
}

/* The query's parameters, each key and value encoded, sorted by key and
 * then value. */
static int canon_query(const char *q, struct aws_buf *out)
{
	struct qp *v = NULL;
	size_t n = 0, cap = 0, i;
	const char *p = q;
	int r = 0;

	while (*p && r == 0) {
		size_t len = strcspn(p, "&");
		const char *eq = memchr(p, '=', len);
		size_t klen = eq ? (size_t)(eq - p) : len;
		struct aws_buf kv = {0};
		struct qp *slot;

		if (len == 0) {
			p++;
			continue;
		}
		r = add_reencoded(&kv, p, klen);
		if (r == 0)
			r = aws_buf_add(&kv, "=", 1);
		if (r == 0 && eq)
			r = add_reencoded(&kv, eq + 1, len - klen - 1);
		slot = r == 0 ? cyris_grow((void **)&v, &n, &cap, sizeof(*v)) : NULL;
		if (!slot) {
			aws_buf_free(&kv);
			r = r ? r : -ENOMEM;
			break;
		}
		slot->kv = kv.s;
		slot->klen = strcspn(kv.s, "=");
		p += len + (p[len] == '&');
	}
	if (r == 0 && n)
		qsort(v, n, sizeof(*v), qp_cmp);
	for (i = 0; i < n; i++) {
		if (r == 0)
			r = aws_buf_addf(out, "%s%s", i ? "&" : "", v[i].kv);
		free(v[i].kv);
	}
	free(v);
	return r == 0 && !out->s ? aws_buf_add(out, "", 0) : r;
}

static int canon_request(const struct aws_sigv4 *s, struct aws_buf *creq, struct aws_buf *names)
{
	struct aws_buf block = {0}, query = {0};
	char body_hash[65];
	int r;

	r = aws_buf_addf(creq, "%s\n", s->method);
	if (r == 0)
		r = aws_buf_add_uri(creq, s->path, strlen(s->path), true);
	if (r == 0)
		r = canon_query(s->query ? s->query : "", &query);
	if (r == 0)
		r = canon_headers(s, &block, names);
	if (r == 0)
		r = sha256_hex(s->body ? s->body : "", s->body_len, body_hash);
	if (r == 0)
		r = aws_buf_addf(creq, "\n%s\n%s\n%s\n%s", query.s, block.s ? block.s : "",
				 names->s ? names->s : "", body_hash);
	aws_buf_free(&block);
	aws_buf_free(&query);
	return r;
}

/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" secret, date), region), service),
 * "aws4_request"): the secret is copied only into this stack buffer, which
 * is wiped. */
static int signing_key(const struct aws_sigv4 *s, const char *date, unsigned char key[32])
{
	size_t slen = strlen(s->secret);
	_cleanup_free_ char *k = malloc(slen + 5);
	int r;

	if (!k)
		return -ENOMEM;
	memcpy(k, "AWS4", 4);
	memcpy(k + 4, s->secret, slen + 1);
	r = hmac256(k, slen + 4, date, key);
	OPENSSL_cleanse(k, slen + 5);
	if (r == 0)
		r = hmac256(key, 32, s->region, key);
	if (r == 0)
		r = hmac256(key, 32, s->service, key);
	if (r == 0)
		r = hmac256(key, 32, "aws4_request", key);
	return r;
}

int aws_sigv4_sign(const struct aws_sigv4 *s, char **ret, char **ret_creq)
{
	struct aws_buf creq = {0}, names = {0}, sts = {0}, auth = {0};
	unsigned char key[32], sig[32];
	char date[9], creq_hash[65], sig_hex[65];
	int r;

	if (strlen(s->amz_date) != 16 || s->amz_date[8] != 'T')
		return -EINVAL;
	memcpy(date, s->amz_date, 8);
	date[8] = '\0';
	r = canon_request(s, &creq, &names);
	if (r == 0)
		r = sha256_hex(creq.s, creq.len, creq_hash);
	if (r == 0)
		r = aws_buf_addf(&sts, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s", s->amz_date,
				 date, s->region, s->service, creq_hash);
	if (r == 0)
		r = signing_key(s, date, key);
	if (r == 0)
		r = hmac256(key, 32, sts.s, sig);
	OPENSSL_cleanse(key, sizeof(key));
	if (r == 0) {
		hex_of(sig, 32, sig_hex);
		r = aws_buf_addf(&auth, "AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request, "
				 "SignedHeaders=%s, Signature=%s", s->key_id, date, s->region,
				 s->service, names.s ? names.s : "", sig_hex);
	}
	aws_buf_free(&names);
	aws_buf_free(&sts);
	if (r < 0) {
		aws_buf_free(&creq);
		aws_buf_free(&auth);
		return r;
	}
	*ret = auth.s;
	if (ret_creq)
		*ret_creq = creq.s;
	else
		aws_buf_free(&creq);
	return 0;
}
