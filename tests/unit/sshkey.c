/* SPDX-License-Identifier: MIT */
/* SSH public-key files (cyris_ssh_keys_load): what is a key, what is
 * skipped, and a clear error naming FILE[:LINE] for what is not. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cyris/vm.h"
#include "../tap.h"

#define KEY1 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOZpYzJ4cSh0ZXN0a2V5MDEyMzQ1Njc4OWFi"
#define KEY2 "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTY="

#define PRIV "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n" \
	"-----END OPENSSH PRIVATE KEY-----\n"

static char dir[] = "/tmp/cyris-sshkey-XXXXXX";

/* Write @len bytes of @text to a file in dir; its path in @path. */
static void put(char path[256], const char *name, const char *text, size_t len)
{
	FILE *f;

	snprintf(path, 256, "%s/%s", dir, name);
	f = fopen(path, "we");
	if (f) {
		fwrite(text, 1, len, f);
		fclose(f);
	}
}

static void refused(const char *name, const char *text, size_t len, int code, const char *want,
		    const char *what)
{
	struct cyris_ssh_keys k = {0};
	struct cyris_error err = {0};
	char path[256], msg[600];

	put(path, name, text, len);
	snprintf(msg, sizeof(msg), want, path);
	is_int(cyris_ssh_keys_load(path, &k, &err), code, "%s is refused", what);
	is_str(err.msg, msg, "  naming the file");
	is_int((int)k.n, 0, "  and nothing of it is kept");
	cyris_ssh_keys_free(&k);
	unlink(path);
}

int main(void)
{
	struct cyris_ssh_keys k = {0};
	struct cyris_error err = {0};
	char path[256], *longline;
	static const char good[] =
		"# my keys\n"
		"\n"
		KEY1 " alice@example\r\n"
		"   \t\n"
		"  # an indented comment\n"
		"restrict,from=\"10.0.0.0/8\" " KEY2 "\n"
		KEY1;            /* no newline at the end */

	if (!mkdtemp(dir))
		return ok(0, "a scratch directory"), done();
	put(path, "good.pub", good, strlen(good));
	is_int(cyris_ssh_keys_load(path, &k, &err), 0, "a file of keys, comments and blank lines loads");
	is_int((int)k.n, 3, "  three keys");
	if (k.n == 3) {
		is_str(k.v[0], KEY1 " alice@example", "  a key line, the comment kept, CRLF cut");
		is_str(k.v[1], "restrict,from=\"10.0.0.0/8\" " KEY2, "  options before the key");
		is_str(k.v[2], KEY1, "  the last line without a newline");
	}
	is_int(cyris_ssh_keys_load(path, &k, &err), 0, "a second file appends");
	is_int((int)k.n, 6, "  six keys");
	cyris_ssh_keys_free(&k);
	ok(k.n == 0 && k.v == NULL, "free empties the list");
	unlink(path);

	snprintf(path, sizeof(path), "%s/none.pub", dir);
	is_int(cyris_ssh_keys_load(path, &k, &err), -ENOENT, "a missing file");
	ok(strstr(err.msg, "none.pub: No such file or directory") != NULL, "  says so: %s", err.msg);

	refused("empty.pub", "# nothing\n\n", 11, -ENOKEY, "%s: no key in it", "a file of comments only");
	refused("nul.pub", KEY1 "\n" KEY1 "\0x\n", strlen(KEY1) * 2 + 4, -EINVAL,
		"%s:2: a NUL byte in the line", "a NUL byte");
	refused("priv", PRIV, strlen(PRIV), -EINVAL,
		"%s: a private key, not a public one (give the .pub file)", "a private key given by mistake");
	refused("word.pub", KEY1 "\nhello world\n", strlen(KEY1) + 13, -EINVAL,
		"%s:2: not a public key ([OPTIONS] TYPE BASE64 [COMMENT])", "a line that is no key");
	refused("short.pub", "ssh-rsa AAAA\n", 13, -EINVAL,
		"%s:1: not a public key ([OPTIONS] TYPE BASE64 [COMMENT])", "a key too short to be one");

	longline = malloc(CYRIS_SSH_KEY_MAX + 64);
	if (longline) {
		size_t n = (size_t)snprintf(longline, 64, "ssh-rsa ");

		memset(longline + n, 'A', CYRIS_SSH_KEY_MAX);
		longline[n + CYRIS_SSH_KEY_MAX] = '\n';
		refused("long.pub", longline, n + CYRIS_SSH_KEY_MAX + 1, -EINVAL,
			"%s:1: a line longer than 16384 bytes", "an over-long line");
		free(longline);
	}
	rmdir(dir);
	return done();
}
