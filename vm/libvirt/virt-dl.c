/* SPDX-License-Identifier: MIT */
/* libvirt loaded on first use (virt-dl.h says why). */
#define VIRT_DL_IMPL
#include <errno.h>

#include "cyris/vm.h"
#include "../../net/base/dl-priv.h"
#include "virt-dl.h"

struct virt_dl virt_dl;

#define VIRT_DL_SLOT(f) (void **)&virt_dl.f,
static const char *const names[] = { VIRT_DL_FUNCS(CYRIS_DL_NAME) };
static void **const slots[] = { VIRT_DL_FUNCS(VIRT_DL_SLOT) };

static pthread_mutex_t quiet_lock = PTHREAD_MUTEX_INITIALIZER;
static bool quiet, ready;           /* under quiet_lock */

void virt_dl_silent(void *userdata, virErrorPtr e)
{
	(void)userdata;
	(void)e;
}

static void on_loaded(void)
{
	/* libvirt wants its initialisation before any other call */
	(void)virt_dl.virInitialize();
	pthread_mutex_lock(&quiet_lock);
	if (quiet)
		virt_dl.virSetErrorFunc(NULL, virt_dl_silent);
	ready = true;
	pthread_mutex_unlock(&quiet_lock);
}

static struct cyris_dl lib = CYRIS_DL_INIT(VIRT_DL_SONAME, names, slots, on_loaded);

int virt_dl_load(void)
{
	return cyris_dl_load(&lib);
}

const char *virt_dl_error(void)
{
	return cyris_dl_why(&lib);
}

virErrorPtr virt_dl_last_error(void)
{
	return cyris_dl_loaded(&lib) ? virt_dl.virGetLastError() : NULL;
}

void virt_dl_reset_last_error(void)
{
	if (cyris_dl_loaded(&lib))
		virt_dl.virResetLastError();
}

/* libvirt prints every error to stderr by default; a library must not.
 * What fails before a connection exists goes to the process-wide handler,
 * which only the caller sets, through this: now if libvirt is loaded, else
 * as soon as it is. */
void cyris_vm_quiet_libvirt(void)
{
	pthread_mutex_lock(&quiet_lock);
	quiet = true;
	if (ready)
		virt_dl.virSetErrorFunc(NULL, virt_dl_silent);
	pthread_mutex_unlock(&quiet_lock);
}
