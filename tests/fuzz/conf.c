/* SPDX-License-Identifier: MIT */
/* The configuration file (/etc/cyris/cyris.conf): cyris_conf_load on a
 * file holding the input, with no CYRIS_* variable but CYRIS_CONFIG set. */
#include <sys/socket.h>

#include "cyris/conf.h"
#include "fuzz.h"

static const char *const env[] = {
	"CYRIS_LIBVIRT_URI", "CYRIS_VIRT_TYPE", "CYRIS_STORAGE_POOL", "CYRIS_IMAGE_DIR",
	"CYRIS_IFNAME_PREFIX", "CYRIS_SUBNET_POOL", "CYRIS_SUBNET_SIZE", "CYRIS_CLOUD_INIT",
	"CYRIS_RUNTIME_DIR",
};

static void get(const struct cyris_conf *c, const char *key, char *buf, size_t size)
{
	FUZZ_ASSERT(cyris_conf_get(c, key, buf, size) >= 0);
	FUZZ_ASSERT(memchr(buf, '\0', size));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cyris_conf *c = cyris_conf_new();
	struct cyris_error err = {0};
	char v[4096];
	size_t i;
	int rc;

	FUZZ_ASSERT(c);
	for (i = 0; i < sizeof(env) / sizeof(env[0]); i++)
		unsetenv(env[i]);
	setenv("CYRIS_CONFIG", fuzz_file(data, size), 1);
	rc = cyris_conf_load(c, &err);
	FUZZ_ASSERT(rc <= 0);
	/* a NUL would cut its line short: refused, not half read */
	if (memchr(data, '\0', size))
		FUZZ_ASSERT(rc < 0);
	if (rc < 0) {
		FUZZ_ASSERT(err.msg[0]);
		cyris_conf_free(c);
		return 0;
	}
	/* what a tool relies on after a successful load */
	get(c, "libvirt_uri", v, sizeof(v));
	get(c, "runtime_dir", v, sizeof(v));
	get(c, "subnet_pool", v, sizeof(v));
	FUZZ_ASSERT(strchr(v, '.') && !strchr(v, ':'));
	get(c, "subnet_size", v, sizeof(v));
	FUZZ_ASSERT(atoi(v) >= 8 && atoi(v) <= 30);
	get(c, "ifname_prefix", v, sizeof(v));
	FUZZ_ASSERT(strlen(v) == 1);
	cyris_conf_free(c);
	return 0;
}
