/* SPDX-License-Identifier: MIT */
/* The plan's serializers (cyris_plan_emit_*) against what cyris-topo plan
 * --emit printed for the examples, kept in tests/dumps/emit-* (the plans
 * are built with no prefix in use, as in a fresh namespace). */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "cyris/conf.h"
#include "cyris/plan.h"
#include "cyris/range.h"
#include "../tap.h"

static char src[4096];

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t n = 0;

	if (!f)
		return NULL;
	if (getdelim(&buf, &n, '\0', f) < 0) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/* Compare what @emit wrote with tests/dumps/@name. */
static void golden(const char *name, const char *got)
{
	char path[4200];
	char *want;

	snprintf(path, sizeof(path), "%s/tests/dumps/%s", src, name);
	want = slurp(path);
	if (!ok(want && got && strcmp(want, got) == 0, "%s: as cyris-topo plan --emit printed it", name))
		diag("got:\n%s", got ? got : "(nothing)");
	free(want);
}

static void test_example(const char *ex, const char *gateway)
{
	struct cyris_conf *conf = cyris_conf_new();
	struct cyris_range *r = NULL;
	struct cyris_plan *p = NULL;
	struct cyris_error err = {0};
	char path[4200], name[64];
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/contrib/cyris-examples/%s.yml", src, ex);
	if (!ok(conf && cyris_range_load(path, &r, &err) == 0 &&
		cyris_plan_build(r, conf, NULL, &p, &err) == 0, "plan %s.yml", ex)) {
		diag("%s", err.msg);
		goto out;
	}
#define EMIT(suffix, call)                                                      \
	do {                                                                    \
		f = open_memstream(&buf, &len);                                 \
		is_int(f ? (call) : -ENOMEM, 0, "%s: emit %s", ex, suffix);     \
		if (f)                                                          \
			fclose(f);                                              \
		snprintf(name, sizeof(name), "emit-%s.%s", ex, suffix);         \
		golden(name, buf);                                              \
		free(buf);                                                      \
		buf = NULL;                                                     \
	} while (0)
	EMIT("bridge", cyris_plan_emit_bridge(p, true, f));
	EMIT("vm", cyris_plan_emit_vm(p, f));
	EMIT("fw", cyris_plan_emit_fw(p, NULL, f, &err));
	EMIT("fwgw", cyris_plan_emit_fw(p, gateway, f, &err));
#undef EMIT
	f = open_memstream(&buf, &len);
	if (f) {
		is_int(cyris_plan_emit_fw(p, "nope", f, &err), -EINVAL, "%s: a gateway not in the plan", ex);
		is_str(err.msg, "'nope' is not a gateway guest of the plan", "  and the message names it");
		fclose(f);
		free(buf);
		buf = NULL;
	}
	/* a stream that cannot take the text: -EIO, not a silent cut */
	f = fopen("/dev/full", "we");
	if (f) {
		is_int(cyris_plan_emit_bridge(p, true, f), -EIO, "%s: a full device is an error", ex);
		fclose(f);
	}
out:
	cyris_plan_free(p);
	cyris_range_free(r);
	cyris_conf_free(conf);
}

int main(void)
{
	const char *s = getenv("CYRIS_SRC");

	snprintf(src, sizeof(src), "%s", s ? s : ".");
	test_example("dmz", "cyris-124-1-firewall-1");
	test_example("full", "cyris-125-1-firewall-1");
	return done();
}
