/* SPDX-License-Identifier: MIT */
/* The tunnel state file (RUNTIME_DIR/tunnels/RANGE@LISTEN.json) as
 * cyris-tunnel list reads it: at most 4095 bytes, then the parser. */
#include "cyris/tag.h"
#include "../../net/tunnel/tunnel-priv.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cyris_tunnel_info i;
	char *text = fuzz_cstr(data, size < 4095 ? size : 4095);

	if (tunnel_state_parse(text, &i) == 0) {
		FUZZ_ASSERT(cyris_id_valid(i.range));
		FUZZ_ASSERT(i.pid > 0 && i.listen[0]);
		FUZZ_ASSERT(memchr(i.via, '\0', sizeof(i.via)));
		FUZZ_ASSERT(memchr(i.target, '\0', sizeof(i.target)));
		FUZZ_ASSERT(memchr(i.cipher, '\0', sizeof(i.cipher)));
		FUZZ_ASSERT(memchr(i.last_error, '\0', sizeof(i.last_error)));
	}
	free(text);
	return 0;
}
