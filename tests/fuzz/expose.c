/* SPDX-License-Identifier: MIT */
/* The comment an expose rule carries in the kernel ("expose 60000 to
 * 10.0.0.5:22 proto tcp from 192.0.2.0/24"), read back by apply, topo and
 * probe, and a gateway's uplink guard's ("uplink eth0 from MAC ...", read
 * back by apply): what parses is written back to a comment that parses the
 * same. */
#include "../../net/nft/fw-priv.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size), buf[256];
	struct cyris_fw_expose e, again;
	struct cyris_fw_uplink u, u2;

	if (cyris_fw_expose_parse(s, &e) == 0) {
		FUZZ_ASSERT(e.host_port && e.to_port);
		FUZZ_ASSERT(e.proto == CYRIS_FW_TCP || e.proto == CYRIS_FW_UDP);
		fw_expose_comment(&e, buf, sizeof(buf));
		FUZZ_ASSERT(cyris_fw_expose_parse(buf, &again) == 0);
		FUZZ_ASSERT(again.host_port == e.host_port && again.to_port == e.to_port &&
			    again.proto == e.proto && cyris_ip_equal(&again.to, &e.to) &&
			    again.from.ip.family == e.from.ip.family &&
			    (!e.from.ip.family || (cyris_ip_equal(&again.from.ip, &e.from.ip) &&
						   again.from.len == e.from.len)));
	}
	/* and an uplink guard's ("uplink eth0 from 02:..:.. (...)") */
	if (cyris_fw_uplink_parse(s, &u) == 0) {
		FUZZ_ASSERT(u.ifname[0] && strlen(u.ifname) < CYRIS_IFNAMSIZ);
		fw_uplink_comment(&u, buf, sizeof(buf));
		FUZZ_ASSERT(strlen(buf) < FW_COMMENT_MAX);
		FUZZ_ASSERT(cyris_fw_uplink_parse(buf, &u2) == 0);
		FUZZ_ASSERT(strcmp(u.ifname, u2.ifname) == 0 && memcmp(u.mac, u2.mac, 6) == 0);
	}
	free(s);
	return 0;
}
