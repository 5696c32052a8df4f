/* SPDX-License-Identifier: MIT */
/* Addresses and CIDRs (cyris_ip_parse, cyris_prefix_parse): what parses
 * formats back to text that parses to the same value. */
#include <sys/socket.h>

#include "cyris/addr.h"
#include "fuzz.h"

static void check_prefix(const char *s, bool need_len)
{
	char buf[CYRIS_PREFIXSTRLEN];
	struct cyris_prefix p, q, net;

	if (cyris_prefix_parse(s, need_len, &p) < 0)
		return;
	FUZZ_ASSERT(p.ip.family == AF_INET || p.ip.family == AF_INET6);
	FUZZ_ASSERT(p.len <= cyris_ip_len(&p.ip) * 8);
	FUZZ_ASSERT(cyris_prefix_parse(cyris_prefix_format(&p, buf, sizeof(buf)), true, &q) == 0);
	FUZZ_ASSERT(cyris_ip_equal(&p.ip, &q.ip) && p.len == q.len);
	net = cyris_prefix_network(&p);
	FUZZ_ASSERT(net.len == p.len && cyris_prefix_contains(&net, &p.ip));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size), buf[CYRIS_IPSTRLEN];
	struct cyris_ip ip, again;

	if (cyris_ip_parse(s, &ip) == 0) {
		FUZZ_ASSERT(cyris_ip_parse(cyris_ip_format(&ip, buf, sizeof(buf)), &again) == 0);
		FUZZ_ASSERT(cyris_ip_equal(&ip, &again));
	}
	check_prefix(s, false);
	check_prefix(s, true);
	free(s);
	return 0;
}
