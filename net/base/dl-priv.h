/* SPDX-License-Identifier: MIT */
/*
 * Shared libraries loaded when first needed (dlopen) instead of linked:
 * libvirt and libcurl bring dozens of libraries each that every tool's
 * start-up would map and relocate, whether the run needs them or not.
 * A module lists the functions it calls in an X-macro, gets a table of
 * pointers typed from the library's own header, and points each name at
 * its slot (vm/libvirt/virt-dl.h, vm/aws/curl-dl.h). Private to the
 * library's modules.
 */
#ifndef CYRIS_DL_PRIV_H
#define CYRIS_DL_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

struct cyris_dl {
	const char *soname;
	const char *const *names;    /* the functions, in @slots' order */
	void **const *slots;         /* where each one's address goes */
	size_t n;
	void (*loaded_hook)(void);   /* run once, after the table is filled */
	/* state */
	pthread_mutex_t lock;
	int state;                   /* 0 not tried, 1 loaded, -1 failed */
	char why[512];
};

#define CYRIS_DL_NAME(f) #f,
#define CYRIS_DL_INIT(so, nm, sl, hook) { \
	.soname = (so), .names = (nm), .slots = (sl), \
	.n = sizeof(nm) / sizeof((nm)[0]), .loaded_hook = (hook), \
	.lock = PTHREAD_MUTEX_INITIALIZER }

/* Load @d once a process (later calls return the first one's result):
 * 0, or -ELIBACC with the reason in cyris_dl_why(). Thread-safe. */
int cyris_dl_load(struct cyris_dl *d);
/* true once @d is loaded (no load attempted) */
bool cyris_dl_loaded(struct cyris_dl *d);
const char *cyris_dl_why(const struct cyris_dl *d);

#endif
