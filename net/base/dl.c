/* SPDX-License-Identifier: MIT */
/* Shared libraries loaded on first use (dl-priv.h). */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>

#include "dl-priv.h"

static int dl_open(struct cyris_dl *d)
{
	void *h = dlopen(d->soname, RTLD_NOW | RTLD_LOCAL);
	size_t i;

	if (!h) {
		snprintf(d->why, sizeof(d->why), "%s", dlerror());
		return -1;
	}
	for (i = 0; i < d->n; i++) {
		/* POSIX: a function's address comes as a void * */
		if (!(*d->slots[i] = dlsym(h, d->names[i]))) {
			snprintf(d->why, sizeof(d->why), "%s: no %s", d->soname, d->names[i]);
			dlclose(h);
			return -1;
		}
	}
	/* (never closed: its functions stay in use to the end of the process) */
	if (d->loaded_hook)
		d->loaded_hook();
	return 1;
}

int cyris_dl_load(struct cyris_dl *d)
{
	int s = __atomic_load_n(&d->state, __ATOMIC_ACQUIRE);

	if (s == 0) {
		pthread_mutex_lock(&d->lock);
		if ((s = d->state) == 0) {
			s = dl_open(d);
			__atomic_store_n(&d->state, s, __ATOMIC_RELEASE);
		}
		pthread_mutex_unlock(&d->lock);
	}
	return s > 0 ? 0 : -ELIBACC;
}

bool cyris_dl_loaded(struct cyris_dl *d)
{
	return __atomic_load_n(&d->state, __ATOMIC_ACQUIRE) > 0;
}

const char *cyris_dl_why(const struct cyris_dl *d)
{
	return d->why[0] ? d->why : "not loaded";
}
