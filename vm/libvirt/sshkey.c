/* SPDX-License-Identifier: MIT */
/*
 * SSH public-key files, as authorized_keys holds them: one key a line,
 * "[OPTIONS] TYPE BASE64 [COMMENT]", blank lines and # comments skipped.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cyris/vm.h"
#include "../../net/base/util.h"

/* "TYPE BASE64 [COMMENT]" (options may come first, as in authorized_keys) */
static bool looks_like_key(const char *line)
{
	static const char *const types[] = { "ssh-", "ecdsa-sha2-", "sk-ssh-", "sk-ecdsa-" };
	const char *p = line;
	size_t i, n;

	while (*p) {
		while (*p == ' ' || *p == '\t')
			p++;
		for (i = 0; i < ARRAY_SIZE(types); i++) {
			if (strncmp(p, types[i], strlen(types[i])) != 0)
				continue;
			p += strcspn(p, " \t");
			p += strspn(p, " \t");
			n = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=");
			return n >= 16 && (p[n] == '\0' || p[n] == ' ' || p[n] == '\t');
		}
		p += strcspn(p, " \t");
	}
	return false;
}

static int parse(FILE *f, const char *path, struct cyris_ssh_keys *keys, struct cyris_error *err)
{
	_cleanup_free_ char *line = NULL;
	size_t cap = 0, before = keys->n;
	unsigned lineno = 0;
	ssize_t len;
	char **slot;

	errno = 0;
	while ((len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		if (memchr(line, '\0', (size_t)len))
			return cyris_error_set(err, -EINVAL, "%s:%u: a NUL byte in the line", path, lineno);
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if ((size_t)len > CYRIS_SSH_KEY_MAX)
			return cyris_error_set(err, -EINVAL, "%s:%u: a line longer than %d bytes",
					       path, lineno, CYRIS_SSH_KEY_MAX);
		if (strncmp(line, "-----BEGIN ", 11) == 0 && strstr(line, "PRIVATE KEY"))
			return cyris_error_set(err, -EINVAL, "%s: a private key, not a public one "
					       "(give the .pub file)", path);
		if (!len || line[strspn(line, " \t")] == '#' || !line[strspn(line, " \t")])
			continue;
		if (!looks_like_key(line))
			return cyris_error_set(err, -EINVAL, "%s:%u: not a public key "
					       "([OPTIONS] TYPE BASE64 [COMMENT])", path, lineno);
		slot = cyris_grow((void **)&keys->v, &keys->n, &keys->cap, sizeof(*slot));
		if (!slot || !(*slot = strdup(line))) {
			if (slot)
				keys->n--;
			return cyris_error_set(err, -ENOMEM, "%s: %s", path, strerror(ENOMEM));
		}
		errno = 0;
	}
	if (errno)
		return cyris_error_set(err, -errno, "%s: %s", path, strerror(errno));
	if (keys->n == before)
		return cyris_error_set(err, -ENOKEY, "%s: no key in it", path);
	return 0;
}

int cyris_ssh_keys_load(const char *path, struct cyris_ssh_keys *keys, struct cyris_error *err)
{
	size_t before = keys->n;
	FILE *f = fopen(path, "re");
	int r;

	if (!f)
		return cyris_error_set(err, -errno, "%s: %s", path, strerror(errno));
	r = parse(f, path, keys, err);
	fclose(f);
	/* nothing of a refused file is kept */
	while (r < 0 && keys->n > before)
		free(keys->v[--keys->n]);
	return r;
}

void cyris_ssh_keys_free(struct cyris_ssh_keys *keys)
{
	while (keys->n)
		free(keys->v[--keys->n]);
	free(keys->v);
	keys->v = NULL;
	keys->cap = 0;
}
