/* SPDX-License-Identifier: MIT */
/* libcurl loaded on first use (curl-dl.h says why). */
#define CURL_DL_IMPL
#include "../../net/base/dl-priv.h"
#include "curl-dl.h"

struct curl_dl curl_dl;

#define CURL_DL_SLOT(f) (void **)&curl_dl.f,
static const char *const names[] = { CURL_DL_FUNCS(CYRIS_DL_NAME) };
static void **const slots[] = { CURL_DL_FUNCS(CURL_DL_SLOT) };
static struct cyris_dl lib = CYRIS_DL_INIT(CURL_DL_SONAME, names, slots, NULL);

int curl_dl_load(void)
{
	return cyris_dl_load(&lib);
}

const char *curl_dl_error(void)
{
	return cyris_dl_why(&lib);
}
