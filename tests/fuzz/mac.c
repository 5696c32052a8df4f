/* SPDX-License-Identifier: MIT */
/* MAC addresses (cyris_mac_parse): what parses is 17 characters and
 * formats back to the same text, in lower case. */
#include <ctype.h>

#include "cyris/link.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size), buf[18];
	uint8_t mac[6];
	size_t i;

	if (cyris_mac_parse(s, mac) == 0) {
		FUZZ_ASSERT(strlen(s) == 17);
		cyris_mac_format(mac, buf);
		for (i = 0; i < 17; i++)
			FUZZ_ASSERT(buf[i] == tolower((unsigned char)s[i]));
	}
	free(s);
	return 0;
}
