/* SPDX-License-Identifier: MIT */
/*
 * The libvirt connection: opening it with retries, mapping libvirt's
 * errors to -errno while keeping libvirt's message, and deciding between
 * the kvm and qemu domain types from libvirt's domain capabilities.
 */
#include <pthread.h>
#include <stdarg.h>
#include <time.h>

#include "../../net/base/conf-priv.h"
#include "vm-priv.h"

/* libvirt prints every error to stderr by default; a library must not.
 * Each connection the library opens gets a handler of its own that drops
 * it (virConnSetErrorFunc), which changes nothing outside that connection;
 * the message is read back from the thread's last error. What fails before
 * a connection exists goes to the process-wide handler, which only the
 * caller sets (cyris_vm_quiet_libvirt(), virt-dl.c). */

uint64_t virt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void virt_sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* libvirt's error codes as errno values. */
static int map_error(const virError *e)
{
	if (!e)
		return -EIO;
	switch (e->code) {
	case VIR_ERR_NO_DOMAIN:
	case VIR_ERR_NO_STORAGE_POOL:
	case VIR_ERR_NO_STORAGE_VOL:
	case VIR_ERR_NO_NETWORK:
	case VIR_ERR_NO_INTERFACE:
		return -ENOENT;
	case VIR_ERR_NO_DOMAIN_METADATA:
		return -ENODATA;
	case VIR_ERR_DOM_EXIST:
	case VIR_ERR_NETWORK_EXIST:
	case VIR_ERR_STORAGE_VOL_EXIST:
		return -EEXIST;
	case VIR_ERR_OPERATION_TIMEOUT:
		return -ETIMEDOUT;
	case VIR_ERR_RESOURCE_BUSY:
		return -EBUSY;
	case VIR_ERR_NO_SUPPORT:
	case VIR_ERR_OPERATION_UNSUPPORTED:
	case VIR_ERR_ARGUMENT_UNSUPPORTED:
	case VIR_ERR_CONFIG_UNSUPPORTED:
		return -EOPNOTSUPP;
	case VIR_ERR_AUTH_FAILED:
	case VIR_ERR_AUTH_CANCELLED:
	case VIR_ERR_AUTH_UNAVAILABLE:
	case VIR_ERR_ACCESS_DENIED:
	case VIR_ERR_OPERATION_DENIED:
		return -EACCES;
	case VIR_ERR_NO_CONNECT:
		return -ECONNREFUSED;
	case VIR_ERR_INVALID_CONN:
		return -ENOTCONN;
	case VIR_ERR_SYSTEM_ERROR:
		return e->int1 > 0 ? -e->int1 : -EIO;
	case VIR_ERR_NO_MEMORY:
		return -ENOMEM;
	case VIR_ERR_XML_ERROR:
	case VIR_ERR_XML_DETAIL:
	case VIR_ERR_XML_INVALID_SCHEMA:
	case VIR_ERR_INVALID_ARG:
	case VIR_ERR_INVALID_MAC:
	case VIR_ERR_OPERATION_INVALID:   /* "domain is not running" and such */
		return -EINVAL;
	case VIR_ERR_AGENT_UNRESPONSIVE:
	case VIR_ERR_AGENT_UNSYNCED:
		return -EHOSTUNREACH;
	case VIR_ERR_RPC:
		return -ECOMM;
	default:
		return -EIO;
	}
}

int virt_last_errno(void)
{
	return map_error(virGetLastError());
}

void virt_clear(struct cyris_virt *v)
{
	cyris_error_clear(&v->err);
	virResetLastError();
}

int virt_fail(struct cyris_virt *v)
{
	virErrorPtr e = virGetLastError();

	cyris_error_clear(&v->err);
	v->err.code = map_error(e);
	if (e && e->message)
		cyris_error_detail(&v->err, CYRIS_ERROR_LIBVIRT, "%s", e->message);
	return v->err.code;
}

int virt_error(struct cyris_virt *v, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err = cyris_error_setv(&v->err, err, fmt, ap);
	va_end(ap);
	return err;
}

const struct cyris_error *cyris_virt_error(const struct cyris_virt *v)
{
	return v ? &v->err : NULL;
}

/* Errors that go away by themselves: a busy domain (the state-change lock),
 * a daemon that is restarting, a connection that broke. */
static bool transient(const virError *e, bool connecting)
{
	if (!e)
		return false;
	switch (e->code) {
	case VIR_ERR_OPERATION_TIMEOUT:
	case VIR_ERR_RESOURCE_BUSY:
		return true;
	case VIR_ERR_SYSTEM_ERROR:
		switch (e->int1) {
		case ECONNRESET:
		case EPIPE:
		case EAGAIN:
		case ETIMEDOUT:
			return true;
		case ECONNREFUSED:
		case ENOENT:
			/* the daemon's socket is not there yet */
			return connecting;
		}
		return false;
	case VIR_ERR_RPC:
	case VIR_ERR_INTERNAL_ERROR:
		/* "client socket is closed", "Cannot recv data" */
		return e->domain == VIR_FROM_RPC || e->domain == VIR_FROM_REMOTE;
	default:
		return false;
	}
}

static unsigned backoff_ms(const struct cyris_virt *v, unsigned try)
{
	unsigned ms = v->first_ms;

	while (try-- && ms < 2000)
		ms *= 2;
	return ms > 2000 ? 2000 : ms;
}

static int open_once(struct cyris_virt *v)
{
	virConnectPtr c = virConnectOpen(v->uri);

	if (!c)
		return virt_fail(v);
	virConnSetErrorFunc(c, NULL, virt_dl_silent);
	v->conn = c;
	return 0;
}

int virt_conn(struct cyris_virt *v)
{
	unsigned try;
	int r;

	if (v->conn)
		return 0;
	if ((r = virt_dl_load()) < 0)
		return virt_error(v, r, "cannot load libvirt: %s", virt_dl_error());
	for (try = 0;; try++) {
		r = open_once(v);
		if (r == 0)
			return 0;
		if (try + 1 >= v->attempts || !transient(virGetLastError(), true))
			return r;
		virt_sleep_ms(backoff_ms(v, try));
	}
}

bool virt_again(struct cyris_virt *v, unsigned try)
{
	virErrorPtr e = virGetLastError();

	if (try + 1 >= v->attempts || !transient(e, false))
		return false;
	virt_sleep_ms(backoff_ms(v, try));
	if (v->conn && virConnectIsAlive(v->conn) != 1) {
		/* a broken connection does not come back: open a new one */
		virConnectClose(v->conn);
		v->conn = NULL;
		if (virt_conn(v) < 0)
			return false;
	}
	return true;
}

int cyris_virt_new(const struct cyris_conf *conf, struct cyris_virt **ret)
{
	struct cyris_virt *v;

	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	snprintf(v->uri, sizeof(v->uri), "%s", conf->libvirt_uri);
	snprintf(v->virt_type, sizeof(v->virt_type), "%s", conf->virt_type);
	snprintf(v->pool, sizeof(v->pool), "%s", conf->storage_pool);
	snprintf(v->image_dir, sizeof(v->image_dir), "%s", conf->image_dir);
	v->cloud_init = conf->cloud_init;
	v->attempts = CYRIS_VIRT_ATTEMPTS;
	v->first_ms = CYRIS_VIRT_FIRST_MS;
	*ret = v;
	return 0;
}

void cyris_virt_free(struct cyris_virt *v)
{
	if (!v)
		return;
	if (v->conn)
		virConnectClose(v->conn);
	free(v);
}

int cyris_virt_set_netns(struct cyris_virt *v, const char *netns)
{
	return cyris_strlcpy(v->netns, netns ? netns : "", sizeof(v->netns)) < 0 ? -ENAMETOOLONG : 0;
}

void cyris_virt_set_retry(struct cyris_virt *v, unsigned attempts, unsigned first_ms)
{
	v->attempts = attempts ? attempts : 1;
	v->first_ms = first_ms ? first_ms : 1;
}

int cyris_virt_connect(struct cyris_virt *v)
{
	virt_clear(v);
	return virt_conn(v);
}

int virt_begin(struct cyris_virt *v, const char *name, virDomainPtr *ret)
{
	virt_clear(v);
	return virt_domain(v, name, ret);
}

int virt_domain(struct cyris_virt *v, const char *name, virDomainPtr *ret)
{
	virDomainPtr d = NULL;
	int r = virt_conn(v);

	if (r < 0)
		return r;
	VIRT_TRY(v, (d = virDomainLookupByName(v->conn, name)) != NULL);
	if (!d)
		return virt_fail(v);
	*ret = d;
	return 0;
}

/* Ask libvirt whether it can run @type guests on this host. */
static int domcaps(struct cyris_virt *v, const char *type, bool *ret)
{
	char *xml = NULL;

	VIRT_TRY(v, (xml = virConnectGetDomainCapabilities(v->conn, NULL, NULL, NULL,
							    type, 0)) != NULL);
	if (!xml) {
		int r = virt_last_errno();

		/* no such virtualization type here: not an error, an answer */
		if (r == -EINVAL || r == -EOPNOTSUPP || r == -EIO) {
			virResetLastError();
			*ret = false;
			return 0;
		}
		return virt_fail(v);
	}
	*ret = vm_domcaps_ok(xml);
	free(xml);
	return 0;
}

int cyris_virt_domain_type(struct cyris_virt *v, const char **ret)
{
	bool kvm = false;
	int r;

	virt_clear(v);
	if (!v->dtype[0]) {
		if (streq(v->virt_type, "kvm") || streq(v->virt_type, "qemu")) {
			snprintf(v->dtype, sizeof(v->dtype), "%s", v->virt_type);
		} else {
			r = virt_conn(v);
			if (r == 0)
				r = domcaps(v, "kvm", &kvm);
			if (r < 0)
				return r;
			snprintf(v->dtype, sizeof(v->dtype), "%s", kvm ? "kvm" : "qemu");
		}
	}
	*ret = v->dtype;
	return 0;
}

bool virt_local(struct cyris_virt *v)
{
	char *uri = v->conn ? virConnectGetURI(v->conn) : NULL;
	const char *p = uri ? strstr(uri, "://") : NULL;
	bool local = p && p[3] == '/';

	if (!uri)
		virResetLastError();
	free(uri);
	return local;
}
