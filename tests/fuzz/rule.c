/* SPDX-License-Identifier: MIT */
/*
 * The forwarding rule parser (cyris-fw rule lines, range file
 * forwarding_rules), then what a rule that parses turns into: a policy
 * where each network it names exists, the kernel rules of the table
 * (fw-gen), their nft text and the explanation.
 */
#include <arpa/inet.h>

#include "../../net/nft/fw-priv.h"
#include "fuzz.h"

static FILE *devnull;

/* Give every network @r names one address, so that add_rule accepts it. */
static void add_nets(struct cyris_fw_policy *p, const struct cyris_fw_endpoint *e, size_t n,
		     unsigned *k)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct cyris_prefix a = { .ip = { .family = AF_INET }, .len = 24 };

		if (e[i].is_host || e[i].is_prefix)
			continue;
		a.ip.a[0] = 10;
		a.ip.a[1] = (uint8_t)(*k)++;
		a.ip.a[3] = 1;
		(void)cyris_fw_policy_add_iface(p, e[i].name, NULL, &a, 1);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cyris_error err = {0};
	char *text = fuzz_cstr(data, size);
	struct cyris_fw_rule r, again;
	struct cyris_fw_policy p;
	struct fw_plan plan = {0};
	char *explain = NULL, *full, *again_full;
	unsigned k = 0;

	if (!devnull)
		FUZZ_ASSERT((devnull = fopen("/dev/null", "we")));
	if (cyris_fw_rule_parse(text, &r, &err) < 0) {
		FUZZ_ASSERT(err.msg[0]);
		free(text);
		return 0;
	}
	/* The canonical text, whole at any length, is a fixed point. */
	full = cyris_fw_rule_text(&r);
	FUZZ_ASSERT(full);
	FUZZ_ASSERT(cyris_fw_rule_parse(full, &again, &err) == 0);
	again_full = cyris_fw_rule_text(&again);
	FUZZ_ASSERT(again_full && strcmp(again_full, full) == 0);
	free(full);
	free(again_full);
	FUZZ_ASSERT(cyris_fw_policy_init(&p, "fuzz") == 0);
	add_nets(&p, r.src, r.n_src, &k);
	add_nets(&p, r.dst, r.n_dst, &k);
	if (cyris_fw_policy_add_rule(&p, &r, &err) == 0 &&
	    fw_plan_policy(&p, &plan, &err) == 0) {
		fw_plan_print(devnull, &p, &plan);
		if (cyris_fw_explain(&p, &explain) >= 0)
			free(explain);
	}
	fw_plan_clear(&plan);
	cyris_fw_policy_clear(&p);
	free(text);
	return 0;
}
