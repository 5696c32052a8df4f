/* SPDX-License-Identifier: MIT */
/*
 * libcurl, loaded when first needed: libcurl.so.4 brings some 30 shared
 * libraries (GnuTLS, OpenLDAP, Kerberos, nghttp2...) that every tool
 * linking vm/aws/ would map and relocate at start-up, cyris-topo for a
 * range of namespaces included. client.c calls libcurl through this
 * table, which curl_dl_load() fills from dlopen("libcurl.so.4") once a
 * process, when the first client is opened (net/base/dl-priv.h). A
 * function missing from the table is a link error (libcurl is not linked).
 * curl_easy_setopt() and curl_easy_getinfo() lose the compile-time type
 * checks of curl's typecheck-gcc.h, whose macros wrap the functions by
 * name. Private to vm/aws/.
 */
#ifndef CYRIS_CURL_DL_H
#define CYRIS_CURL_DL_H

#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

#define CURL_DL_SONAME "libcurl.so.4"

/* every libcurl function vm/aws/ calls */
#define CURL_DL_FUNCS(X) \
	X(curl_easy_cleanup) \
	X(curl_easy_getinfo) \
	X(curl_easy_init) \
	X(curl_easy_perform) \
	X(curl_easy_reset) \
	X(curl_easy_setopt) \
	X(curl_easy_strerror) \
	X(curl_free) \
	X(curl_multi_add_handle) \
	X(curl_multi_cleanup) \
	X(curl_multi_info_read) \
	X(curl_multi_init) \
	X(curl_multi_perform) \
	X(curl_multi_poll) \
	X(curl_multi_remove_handle) \
	X(curl_slist_append) \
	X(curl_slist_free_all) \
	X(curl_url) \
	X(curl_url_cleanup) \
	X(curl_url_get) \
	X(curl_url_set) \

struct curl_dl {
#define CURL_DL_MEMBER(f) __typeof__(f) *f;
	CURL_DL_FUNCS(CURL_DL_MEMBER)
#undef CURL_DL_MEMBER
};
extern struct curl_dl curl_dl;

/* Load libcurl once a process: 0, or -ELIBACC (curl_dl_error() says why). */
int curl_dl_load(void);
const char *curl_dl_error(void);

#ifndef CURL_DL_IMPL
/* (curl.h's own identity macros for these two) */
#undef curl_easy_getinfo
#undef curl_easy_setopt
#define curl_easy_cleanup curl_dl.curl_easy_cleanup
#define curl_easy_getinfo curl_dl.curl_easy_getinfo
#define curl_easy_init curl_dl.curl_easy_init
#define curl_easy_perform curl_dl.curl_easy_perform
#define curl_easy_reset curl_dl.curl_easy_reset
#define curl_easy_setopt curl_dl.curl_easy_setopt
#define curl_easy_strerror curl_dl.curl_easy_strerror
#define curl_free curl_dl.curl_free
#define curl_multi_add_handle curl_dl.curl_multi_add_handle
#define curl_multi_cleanup curl_dl.curl_multi_cleanup
#define curl_multi_info_read curl_dl.curl_multi_info_read
#define curl_multi_init curl_dl.curl_multi_init
#define curl_multi_perform curl_dl.curl_multi_perform
#define curl_multi_poll curl_dl.curl_multi_poll
#define curl_multi_remove_handle curl_dl.curl_multi_remove_handle
#define curl_slist_append curl_dl.curl_slist_append
#define curl_slist_free_all curl_dl.curl_slist_free_all
#define curl_url curl_dl.curl_url
#define curl_url_cleanup curl_dl.curl_url_cleanup
#define curl_url_get curl_dl.curl_url_get
#define curl_url_set curl_dl.curl_url_set
#endif

#endif
