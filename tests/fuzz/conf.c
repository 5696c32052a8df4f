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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cyris_conf c;
	char err[1024];
	size_t i;
	int rc;

	for (i = 0; i < sizeof(env) / sizeof(env[0]); i++)
		unsetenv(env[i]);
	setenv("CYRIS_CONFIG", fuzz_file(data, size), 1);
	rc = cyris_conf_load(&c, err, sizeof(err));
	FUZZ_ASSERT(rc <= 0);
	/* a NUL would cut its line short: refused, not half read */
	if (memchr(data, '\0', size))
		FUZZ_ASSERT(rc < 0);
	if (rc < 0) {
		FUZZ_ASSERT(err[0]);
		return 0;
	}
	/* what a tool relies on after a successful load */
	FUZZ_ASSERT(memchr(c.libvirt_uri, '\0', sizeof(c.libvirt_uri)));
	FUZZ_ASSERT(memchr(c.runtime_dir, '\0', sizeof(c.runtime_dir)));
	FUZZ_ASSERT(c.subnet_pool.ip.family == AF_INET);
	FUZZ_ASSERT(c.subnet_size >= 8 && c.subnet_size <= 30);
	FUZZ_ASSERT(strlen(c.ifname_prefix) == 1);
	return 0;
}
