/* SPDX-License-Identifier: MIT */
/* The range file: cyris_range_load, then a plan of everything it would
 * create, against a host with nothing in use (no netlink). */
#include "cyris/conf.h"
#include "cyris/plan.h"
#include "cyris/range.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cyris_plan_opts o = {0};
	struct cyris_range *r = NULL;
	struct cyris_plan *p = NULL;
	struct cyris_conf *conf;
	struct cyris_error err = {0};
	int rc;

	rc = cyris_range_load(fuzz_file(data, size), &r, &err);
	FUZZ_ASSERT(rc <= 0);
	if (rc < 0) {
		FUZZ_ASSERT(!r);
		FUZZ_ASSERT(err.msg[0]);    /* every refusal says why */
		return 0;
	}
	conf = cyris_conf_new();   /* the defaults */
	FUZZ_ASSERT(conf);
	rc = cyris_plan_build(r, conf, &o, &p, &err);
	cyris_conf_free(conf);
	FUZZ_ASSERT(rc <= 0);
	if (rc < 0)
		FUZZ_ASSERT(err.msg[0]);
	cyris_plan_free(p);
	cyris_range_free(r);
	return 0;
}
