/* SPDX-License-Identifier: MIT */
/*
 * Ownership tags (link aliases, cyris_tag_parse) and derived names. A tag
 * that parses and formats again parses to the same fields; ids and
 * interface names are checked by their validators; a name derived from
 * the input's lines (as parts) is a valid kernel interface name.
 */
#include "cyris/tag.h"
#include "fuzz.h"

static bool tag_eq(const struct cyris_tag *a, const struct cyris_tag *b)
{
	return !strcmp(a->range, b->range) && !strcmp(a->net, b->net) &&
	       !strcmp(a->role, b->role) && a->instance == b->instance &&
	       !strcmp(a->guest, b->guest) && !strcmp(a->nic, b->nic);
}

static void check_derive(char *s)
{
	const char *parts[4] = { NULL };
	char name[CYRIS_IFNAMSIZ], *save = NULL, *tok;
	size_t n = 0;

	for (tok = strtok_r(s, "\n", &save); tok && n < 4; tok = strtok_r(NULL, "\n", &save))
		parts[n++] = tok;
	if (n && cyris_name_derive('c', parts, n, name) == 0)
		FUZZ_ASSERT(cyris_ifname_valid(name));
	if (n >= 2 && cyris_name_bridge(parts[0], parts[1], 2, name) == 0)
		FUZZ_ASSERT(cyris_ifname_valid(name));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size), buf[CYRIS_ALIASSIZ];
	struct cyris_tag t, again;

	if (cyris_tag_parse(s, &t)) {
		FUZZ_ASSERT(cyris_tag_parse(s, NULL));
		if (cyris_tag_format(&t, buf, sizeof(buf)) >= 0) {
			FUZZ_ASSERT(cyris_tag_parse(buf, &again));
			FUZZ_ASSERT(tag_eq(&t, &again));
		}
	}
	if (cyris_id_valid(s))
		FUZZ_ASSERT(strlen(s) <= CYRIS_ID_MAX);
	if (cyris_ifname_valid(s))
		FUZZ_ASSERT(strlen(s) < CYRIS_IFNAMSIZ && !strchr(s, '/'));
	check_derive(s);
	free(s);
	return 0;
}
