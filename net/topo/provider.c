/* SPDX-License-Identifier: MIT */
/* Opening a guest provider by name, from the built-in table. */
#include "cyris/provider.h"
#include "../base/util.h"
#include "topo-priv.h"

const char *cyris_vm_status_str(enum cyris_vm_status s)
{
	static const char *const names[] = {
		[CYRIS_VM_CREATING] = "creating", [CYRIS_VM_RUNNING] = "running",
		[CYRIS_VM_STOPPED] = "stopped", [CYRIS_VM_FAILED] = "failed",
		[CYRIS_VM_DESTROYING] = "destroying",
	};

	return (unsigned)s < ARRAY_SIZE(names) ? names[s] : "failed";
}

static int provider_open(const char *name, const struct cyris_conf *conf,
			 const char *netns, bool probe, struct cyris_provider **ret)
{
	const struct cyris_provider_def *const *d;
	struct cyris_provider *p;
	int r;

	if (!name || !conf)
		return -EINVAL;
	for (d = cyris_builtin_providers; *d && !streq((*d)->name, name); d++)
		;
	if (!*d)
		return -ENOENT;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->conf = conf;
	p->probe = probe;
	if (netns && cyris_strlcpy(p->netns, netns, sizeof(p->netns)) < 0) {
		free(p);
		return -ENAMETOOLONG;
	}
	r = (*d)->init(p);
	if (r < 0) {
		free(p);
		return r;
	}
	*ret = p;
	return 0;
}

int cyris_provider_open(const char *name, const struct cyris_conf *conf,
			const char *netns, struct cyris_provider **ret)
{
	return provider_open(name, conf, netns, false, ret);
}

int cyris_provider_probe(const char *name, const struct cyris_conf *conf,
			 const char *netns, struct cyris_provider **ret)
{
	return provider_open(name, conf, netns, true, ret);
}

void cyris_provider_free(struct cyris_provider *p)
{
	if (!p)
		return;
	if (p->ops && p->ops->free)
		p->ops->free(p);
	free(p);
}
