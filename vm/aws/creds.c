/* SPDX-License-Identifier: MIT */
/*
 * Credentials, region and endpoint by the conventions the AWS CLI and SDKs
 * share: the environment, then the shared credentials and config files.
 * The one file of vm/aws/ that reads the environment (tests/static.t).
 * Only what static keys need is understood; a profile that asks for a role,
 * SSO or a credential process is refused by name rather than half-used.
 */
#include <ctype.h>
#include <limits.h>
#include <pwd.h>
#include <openssl/crypto.h>

#include "cyris/aws.h"
#include "aws-priv.h"
#include "../../net/base/conf-priv.h"
#include "../../net/base/util.h"

struct profile {
	char *key_id, *secret, *token;
	char region[64];
	char endpoint[1024];
	char unsupported[32];          /* a key this client cannot follow */
	bool found;
};

static void wipe_free(char *s)
{
	if (s) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}

static void profile_free(struct profile *p)
{
	free(p->key_id);
	wipe_free(p->secret);
	wipe_free(p->token);
	*p = (struct profile){0};
}

static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

/* ~/FILE, or $VAR when set. */
static int file_path(const char *var, const char *file, char *buf, size_t size)
{
	const char *v = env(var), *home = env("HOME");
	struct passwd *pw;
	int n;

	if (v)
		n = snprintf(buf, size, "%s", v);
	else {
		if (!home && (pw = getpwuid(geteuid())) != NULL)
			home = pw->pw_dir;
		if (!home)
			return -ENOENT;
		n = snprintf(buf, size, "%s/%s", home, file);
	}
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static const char *const unsupported_keys[] = {
	"role_arn", "credential_process", "sso_start_url", "sso_session",
	"web_identity_token_file", "credential_source",
};

static int take(char **dst, const char *v)
{
	char *d = strdup(v);

	if (!d)
		return -ENOMEM;
	if (*dst)
		wipe_free(*dst);
	*dst = d;
	return 0;
}

static int profile_key(struct profile *p, const char *k, const char *v)
{
	size_t i;

	if (streq(k, "aws_access_key_id"))
		return take(&p->key_id, v);
	if (streq(k, "aws_secret_access_key"))
		return take(&p->secret, v);
	if (streq(k, "aws_session_token"))
		return take(&p->token, v);
	if (streq(k, "region"))
		return cyris_strlcpy(p->region, v, sizeof(p->region)) < 0 ? -ENAMETOOLONG : 0;
	if (streq(k, "endpoint_url"))
		return cyris_strlcpy(p->endpoint, v, sizeof(p->endpoint)) < 0 ? -ENAMETOOLONG : 0;
	for (i = 0; i < ARRAY_SIZE(unsupported_keys); i++)
		if (streq(k, unsupported_keys[i]) && !p->unsupported[0])
			snprintf(p->unsupported, sizeof(p->unsupported), "%s", k);
	return 0;
}

/* Is the section header @s (inside the brackets, trimmed) @name's? In the
 * config file a profile is "[profile NAME]", the default one "[default]"
 * too. */
static bool section_is(const char *s, const char *name, bool config)
{
	if (!config)
		return streq(s, name);
	if (streq(name, "default") && streq(s, "default"))
		return true;
	if (strncmp(s, "profile", 7) != 0 || !isspace((unsigned char)s[7]))
		return false;
	s += 7;
	while (isspace((unsigned char)*s))
		s++;
	return streq(s, name);
}

/* Read profile @name's keys from the INI file @path (missing = nothing). */
static int read_profile(const char *path, const char *name, bool config, struct profile *p,
			struct cyris_error *err)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	unsigned lineno = 0;
	bool in = false;
	ssize_t len;
	int r;

	if (!f)
		return errno == ENOENT ? 0 : cyris_error_set(err, -errno, "%s: %s", path, strerror(errno));
	while ((len = getline(&line, &cap, f)) >= 0) {
		char *s, *eq;

		lineno++;
		if (memchr(line, '\0', (size_t)len))
			return cyris_error_set(err, -EINVAL, "%s:%u: a NUL byte in the line", path, lineno);
		/* an indented line continues a nested key (s3 = ...): not ours */
		if (isspace((unsigned char)line[0]) && in && *cyris_trim(line))
			continue;
		s = cyris_trim(line);
		if (!*s || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			char *end = strchr(s, ']');

			if (!end)
				return cyris_error_set(err, -EINVAL, "%s:%u: a section header without ']'", path, lineno);
			*end = '\0';
			in = section_is(cyris_trim(s + 1), name, config);
			p->found |= in;
			continue;
		}
		eq = strchr(s, '=');
		if (!eq)
			return cyris_error_set(err, -EINVAL, "%s:%u: expected 'key = value'", path, lineno);
		if (!in)
			continue;
		*eq = '\0';
		r = profile_key(p, cyris_trim(s), cyris_trim(eq + 1));
		if (r < 0)
			return cyris_error_set(err, r, "%s:%u: %s", path, lineno, strerror(-r));
	}
	return 0;
}

bool aws_region_name_ok(const char *v)
{
	size_t n = strlen(v), i;
	bool digit_part = false;

	/* LETTERS(-LETTERS)+-DIGITS */
	if (n < 4 || n > 31 || !islower((unsigned char)v[0]) || !isdigit((unsigned char)v[n - 1]))
		return false;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)v[i];

		if (ch == '-') {
			if (v[i + 1] == '-' || v[i + 1] == '\0')
				return false;
			digit_part = isdigit((unsigned char)v[i + 1]);
		} else if (digit_part ? !isdigit(ch) : !islower(ch)) {
			return false;
		}
	}
	return strchr(v, '-') != strrchr(v, '-');
}

static int copy(char *dst, size_t size, const char *v, const char *what, struct cyris_error *err)
{
	if (cyris_strlcpy(dst, v, size) < 0)
		return cyris_error_set(err, -ENAMETOOLONG, "%s: longer than %zu bytes", what, size - 1);
	return 0;
}

static int pick_keys(struct aws_settings *s, struct profile *p, const char *name,
		     const char *where, bool from_env, struct cyris_error *err)
{
	const char *id = env("AWS_ACCESS_KEY_ID"), *secret = env("AWS_SECRET_ACCESS_KEY");

	if (from_env && id && secret) {
		if (take(&s->key_id, id) < 0 || take(&s->secret, secret) < 0 ||
		    (env("AWS_SESSION_TOKEN") && take(&s->token, env("AWS_SESSION_TOKEN")) < 0))
			return cyris_error_set(err, -ENOMEM, "AWS credentials: %s", strerror(ENOMEM));
		snprintf(s->source, sizeof(s->source), "environment (AWS_ACCESS_KEY_ID)");
		return 0;
	}
	if (p->key_id && p->secret) {
		s->key_id = TAKE_PTR(p->key_id);
		s->secret = TAKE_PTR(p->secret);
		s->token = TAKE_PTR(p->token);
		snprintf(s->source, sizeof(s->source), "profile %s in %s", name, where);
		return 0;
	}
	if (p->unsupported[0])
		return cyris_error_set(err, -EOPNOTSUPP, "AWS profile %s: %s is not supported: give it "
				       "aws_access_key_id and aws_secret_access_key", name, p->unsupported);
	if (p->key_id || p->secret)
		return cyris_error_set(err, -ENOKEY, "AWS profile %s in %s: %s without %s", name, where,
				       p->key_id ? "aws_access_key_id" : "aws_secret_access_key",
				       p->key_id ? "aws_secret_access_key" : "aws_access_key_id");
	if (from_env && (id || secret))
		return cyris_error_set(err, -ENOKEY, "AWS credentials: %s is set but %s is not",
				       id ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
				       id ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
	s->no_keys = true;
	return cyris_error_set(err, -ENOKEY, "no AWS credentials: set AWS_ACCESS_KEY_ID and "
			       "AWS_SECRET_ACCESS_KEY, or give profile %s keys in %s", name, where);
}

int aws_settings_load(const struct cyris_conf *conf, const struct aws_opts *o,
		      struct aws_settings *s, struct cyris_error *err)
{
	const char *name = o && o->profile && *o->profile ? o->profile : env("AWS_PROFILE");
	bool named = name != NULL;
	char cpath[PATH_MAX] = "", fpath[PATH_MAX] = "", where[PATH_MAX];
	struct profile cp = {0}, fp = {0};
	const char *v;
	int r;

	*s = (struct aws_settings){0};
	if (!name)
		name = "default";
	if (file_path("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials", cpath, sizeof(cpath)) == 0)
		r = read_profile(cpath, name, false, &cp, err);
	else
		r = 0;
	if (r == 0 && file_path("AWS_CONFIG_FILE", ".aws/config", fpath, sizeof(fpath)) == 0)
		r = read_profile(fpath, name, true, &fp, err);
	if (r < 0)
		goto out;
	if (named && !cp.found && !fp.found) {
		r = cyris_error_set(err, -ENOENT, "AWS profile %s: not in %s nor in %s", name,
				    cpath[0] ? cpath : "~/.aws/credentials", fpath[0] ? fpath : "~/.aws/config");
		goto out;
	}
	/* the credentials file's keys, else the config file's */
	snprintf(where, sizeof(where), "%s", cpath[0] ? cpath : "~/.aws/credentials");
	if (!cp.key_id && !cp.secret && (fp.key_id || fp.secret || fp.unsupported[0])) {
		snprintf(where, sizeof(where), "%s", fpath);
		profile_free(&cp);
		cp = fp;
		fp = (struct profile){0};
		snprintf(fp.region, sizeof(fp.region), "%s", cp.region);
		snprintf(fp.endpoint, sizeof(fp.endpoint), "%s", cp.endpoint);
	}
	/* a profile named by the caller beats the environment's keys */
	r = pick_keys(s, &cp, name, where, !(o && o->profile && *o->profile), err);
	if (r < 0)
		goto out;

	if (o && o->region && *o->region)
		v = o->region;
	else if (!(v = env("AWS_REGION")) && !(v = env("AWS_DEFAULT_REGION")))
		v = fp.region[0] ? fp.region : cp.region[0] ? cp.region : conf->aws_region;
	/* cyris.conf's aws_region counts when the file gave it, not its default */
	s->region_set = v != conf->aws_region || conf->aws_region_set;
	r = copy(s->region, sizeof(s->region), v, "AWS region", err);
	if (r == 0 && !aws_region_name_ok(s->region))
		r = cyris_error_set(err, -EINVAL, "AWS region '%s': not a region name (us-west-2, eu-central-1)",
				    s->region);

	if (o && o->endpoint && *o->endpoint)
		v = o->endpoint;
	else if (!(v = env("AWS_ENDPOINT_URL_EC2")) && !(v = env("AWS_ENDPOINT_URL")))
		v = fp.endpoint[0] ? fp.endpoint : conf->aws_endpoint;
	s->endpoint_set = *v;
	if (r == 0 && *v)
		r = copy(s->endpoint, sizeof(s->endpoint), v, "AWS endpoint", err);
	else if (r == 0)
		snprintf(s->endpoint, sizeof(s->endpoint), "https://ec2.%s.amazonaws.com%s", s->region,
			 strncmp(s->region, "cn-", 3) == 0 ? ".cn" : "");
out:
	profile_free(&cp);
	profile_free(&fp);
	if (r < 0)
		aws_settings_free(s);
	return r;
}

void aws_settings_free(struct aws_settings *s)
{
	free(s->key_id);
	wipe_free(s->secret);
	wipe_free(s->token);
	s->key_id = s->secret = s->token = NULL;
}

int cyris_ec2_configured(const struct cyris_conf *conf, struct cyris_error *err)
{
	struct aws_settings s;
	int r = aws_settings_load(conf, NULL, &s, err);

	if (r < 0)
		return s.no_keys ? 0 : r;
	r = s.region_set || s.endpoint_set;
	aws_settings_free(&s);
	return r;
}
