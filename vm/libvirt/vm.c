/* SPDX-License-Identifier: MIT */
/*
 * Guests: create (define tagged "creating", overlay, seed, start), clone,
 * start, stop, destroy, list and status, all through libvirt's C API.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "cyris/link.h"
#include "vm-priv.h"

#define NAME_MAX_LEN CYRIS_VM_NAME_MAX

/* ---- names ---- */

bool cyris_vm_name_valid(const char *s)
{
	size_t i, n = s ? strlen(s) : 0;

	if (n == 0 || n > NAME_MAX_LEN)
		return false;
	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') ||
	      (s[0] >= '0' && s[0] <= '9')))
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
			return false;
	}
	return true;
}

void cyris_vm_mac(const char *name, unsigned index, uint8_t ret[6])
{
	uint64_t h = 0xcbf29ce484222325ULL;   /* FNV-1a */
	const unsigned char *p;

	for (p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 0x100000001b3ULL;
	h = (h ^ 0xff) * 0x100000001b3ULL;     /* separator */
	h = (h ^ (index & 0xff)) * 0x100000001b3ULL;
	ret[0] = 0x52;
	ret[1] = 0x54;
	ret[2] = 0x00;
	ret[3] = (uint8_t)(h >> 40);
	ret[4] = (uint8_t)(h >> 32);
	ret[5] = (uint8_t)(h >> 24);
}

static bool mac_zero(const uint8_t mac[6])
{
	static const uint8_t z[6];

	return memcmp(mac, z, 6) == 0;
}

/* ---- metadata ---- */

int vm_read_meta(struct cyris_virt *v, virDomainPtr dom, struct vm_meta *ret)
{
	char *xml = NULL;
	int r;

	VIRT_TRY(v, (xml = virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT,
						CYRIS_VM_XMLNS, 0)) != NULL ||
		    virt_last_errno() == -ENODATA);
	if (!xml) {
		r = virt_last_errno();
		if (r == -ENODATA) {
			virResetLastError();
			return -ENODATA;
		}
		return virt_fail(v);
	}
	r = vm_meta_parse(xml, ret);
	free(xml);
	return r < 0 ? -ENODATA : 0;
}

static int write_meta(struct cyris_virt *v, virDomainPtr dom, const struct vm_meta *m)
{
	_cleanup_free_ char *xml = NULL;
	unsigned flags = VIR_DOMAIN_AFFECT_CONFIG;
	int r = vm_meta_format(m, &xml), ok = -1;

	if (r < 0)
		return r;
	if (virDomainIsActive(dom) == 1)
		flags |= VIR_DOMAIN_AFFECT_LIVE;
	if (virDomainIsPersistent(dom) != 1)
		flags = VIR_DOMAIN_AFFECT_LIVE;
	VIRT_TRY(v, (ok = virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, xml,
					       "cyris", CYRIS_VM_XMLNS, flags)) == 0);
	return ok == 0 ? 0 : virt_fail(v);
}

enum cyris_vm_status vm_status_of(int state, int reason, const struct vm_meta *m,
				  bool owned)
{
	if (owned && m->state == VM_STATE_DESTROYING)
		return CYRIS_VM_DESTROYING;
	if (owned && m->state == VM_STATE_CREATING)
		return CYRIS_VM_CREATING;
	switch (state) {
	case VIR_DOMAIN_RUNNING:
	case VIR_DOMAIN_BLOCKED:
	case VIR_DOMAIN_SHUTDOWN:
	case VIR_DOMAIN_PMSUSPENDED:
		return CYRIS_VM_RUNNING;
	case VIR_DOMAIN_PAUSED:
		return reason == VIR_DOMAIN_PAUSED_IOERROR ||
		       reason == VIR_DOMAIN_PAUSED_CRASHED ? CYRIS_VM_FAILED : CYRIS_VM_RUNNING;
	case VIR_DOMAIN_SHUTOFF:
		return reason == VIR_DOMAIN_SHUTOFF_CRASHED ||
		       reason == VIR_DOMAIN_SHUTOFF_FAILED ? CYRIS_VM_FAILED : CYRIS_VM_STOPPED;
	default:
		return CYRIS_VM_FAILED;
	}
}

/* cyris_vm_status_str() belongs to the provider interface; this weak copy
 * lets the libvirt driver stand alone until the interface is linked in. */
__attribute__((weak)) const char *cyris_vm_status_str(enum cyris_vm_status s)
{
	switch (s) {
	case CYRIS_VM_CREATING: return "creating";
	case CYRIS_VM_RUNNING: return "running";
	case CYRIS_VM_STOPPED: return "stopped";
	case CYRIS_VM_FAILED: return "failed";
	case CYRIS_VM_DESTROYING: return "destroying";
	}
	return "unknown";
}

static void fill_from_meta(struct cyris_vm_info *ret, const struct vm_meta *m)
{
	ret->owned = true;
	ret->g.tag = m->tag;
	ret->g.created_at = m->created;
	snprintf(ret->base, sizeof(ret->base), "%s", m->base);
	snprintf(ret->pool, sizeof(ret->pool), "%s", m->pool);
	snprintf(ret->overlay, sizeof(ret->overlay), "%s", m->overlay);
	snprintf(ret->seed, sizeof(ret->seed), "%s", m->seed);
}

static void fill_from_xml(struct cyris_vm_info *ret, const struct vm_dominfo *d)
{
	size_t i;

	snprintf(ret->domain_type, sizeof(ret->domain_type), "%s", d->type);
	ret->memory_mib = d->memory_mib;
	ret->vcpus = d->vcpus;
	snprintf(ret->console, sizeof(ret->console), "%s", d->console);
	ret->n_nics = d->n_nics;
	memcpy(ret->nics, d->nics, sizeof(ret->nics));
	ret->g.n_macs = d->n_nics;
	for (i = 0; i < d->n_nics; i++) {
		memcpy(ret->g.macs[i], d->nics[i].mac, 6);
		snprintf(ret->g.nic_sources[i], sizeof(ret->g.nic_sources[i]), "%s", d->nics[i].source);
	}
}

static int dom_xml(struct cyris_virt *v, virDomainPtr dom, unsigned flags,
		   struct vm_dominfo *ret)
{
	char *xml = NULL;
	int r;

	VIRT_TRY(v, (xml = virDomainGetXMLDesc(dom, flags)) != NULL);
	if (!xml)
		return virt_fail(v);
	r = vm_domain_parse(xml, ret);
	free(xml);
	return r;
}

int vm_info_fill(struct cyris_virt *v, virDomainPtr dom, struct cyris_vm_info *ret)
{
	_cleanup_free_ struct vm_dominfo *d = calloc(1, sizeof(*d));
	struct vm_meta m = {0};
	int state = 0, reason = 0, r, ok = -1;
	const char *name;

	if (!d)
		return -ENOMEM;
	memset(ret, 0, sizeof(*ret));
	name = virDomainGetName(dom);
	snprintf(ret->g.vm_name, sizeof(ret->g.vm_name), "%s", name ? name : "");
	snprintf(ret->g.provider, sizeof(ret->g.provider), "libvirt");
	if (virDomainGetUUIDString(dom, ret->g.vm_id) < 0)
		return virt_fail(v);
	r = vm_read_meta(v, dom, &m);
	if (r < 0 && r != -ENODATA)
		return r;
	if (r == 0)
		fill_from_meta(ret, &m);
	VIRT_TRY(v, (ok = virDomainGetState(dom, &state, &reason, 0)) == 0);
	if (ok < 0) {
		vm_meta_clear(&m);
		return virt_fail(v);
	}
	ret->g.status = vm_status_of(state, reason, &m, ret->owned);
	vm_meta_clear(&m);
	r = dom_xml(v, dom, 0, d);
	if (r < 0)
		return r;
	fill_from_xml(ret, d);
	return 0;
}

/* ---- storage ---- */

static int pool_get(struct cyris_virt *v, virStoragePoolPtr *ret)
{
	virStoragePoolPtr p = NULL;
	_cleanup_free_ char *xml = NULL;
	int r;

	VIRT_TRY(v, (p = virStoragePoolLookupByName(v->conn, v->pool)) != NULL ||
		    virt_last_errno() == -ENOENT);
	if (!p) {
		if (virt_last_errno() != -ENOENT)
			return virt_fail(v);
		/* missing: a directory pool at image_dir, built and autostarted */
		r = vm_pool_xml(v->pool, v->image_dir, &xml);
		if (r < 0)
			return r;
		p = virStoragePoolDefineXML(v->conn, xml, 0);
		if (!p) {
			/* a concurrent create may have defined it first */
			p = virStoragePoolLookupByName(v->conn, v->pool);
			if (!p)
				return virt_fail(v);
		} else if (virStoragePoolBuild(p, 0) < 0 ||
			   virStoragePoolSetAutostart(p, 1) < 0) {
			r = virt_fail(v);
			virStoragePoolUndefine(p);
			virStoragePoolFree(p);
			return r;
		}
	}
	if (virStoragePoolIsActive(p) != 1 && virStoragePoolCreate(p, 0) < 0 &&
	    virStoragePoolIsActive(p) != 1) {
		/* its directory may have gone: make it again, once */
		r = virt_fail(v);
		if (virStoragePoolBuild(p, 0) < 0 || virStoragePoolCreate(p, 0) < 0) {
			virStoragePoolFree(p);
			return r;
		}
		virt_clear(v);
	}
	*ret = p;
	return 0;
}

/* Format and virtual size of the base image: from libvirt when a pool holds
 * it (this works for remote hosts too), else from its header here. */
static int base_probe(struct cyris_virt *v, const char *base, char fmt[8],
		      unsigned long long *ret_cap)
{
	virStorageVolPtr vol = virStorageVolLookupByPath(v->conn, base);
	_cleanup_close_ int fd = -1;
	unsigned char h[32];
	struct stat st;

	if (vol) {
		char *xml = virStorageVolGetXMLDesc(vol, 0);
		int r = xml ? vm_volume_parse(xml, fmt, 8, ret_cap) : virt_fail(v);

		free(xml);
		virStorageVolFree(vol);
		if (r == 0 && (streq(fmt, "qcow2") || streq(fmt, "raw")) && *ret_cap)
			return 0;
	}
	virResetLastError();
	fd = open(base, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		return virt_error(v, -errno, "base image %s: %s", base, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return virt_error(v, S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL,
				  "base image %s is %s, not a regular file", base,
				  S_ISDIR(st.st_mode) ? "a directory" : "a special file");
	if (pread(fd, h, sizeof(h), 0) == (ssize_t)sizeof(h) && memcmp(h, "QFI\xfb", 4) == 0) {
		unsigned long long size = 0;
		int i;

		for (i = 24; i < 32; i++)
			size = size << 8 | h[i];
		snprintf(fmt, 8, "qcow2");
		*ret_cap = size;
	} else {
		snprintf(fmt, 8, "raw");
		*ret_cap = (unsigned long long)st.st_size;
	}
	if (!*ret_cap)
		return virt_error(v, -EINVAL, "base image %s is empty", base);
	return 0;
}

static int vol_create(struct cyris_virt *v, virStoragePoolPtr pool, const char *xml,
		      virStorageVolPtr *ret)
{
	virStorageVolPtr vol = NULL;

	VIRT_TRY(v, (vol = virStorageVolCreateXML(pool, xml, 0)) != NULL);
	if (!vol)
		return virt_fail(v);
	*ret = vol;
	return 0;
}

static int vol_upload(struct cyris_virt *v, virStorageVolPtr vol,
		      const unsigned char *buf, size_t len)
{
	virStreamPtr st = virStreamNew(v->conn, 0);
	size_t off = 0;
	int r = 0;

	if (!st)
		return virt_fail(v);
	if (virStorageVolUpload(vol, st, 0, len, 0) < 0) {
		r = virt_fail(v);
		virStreamFree(st);
		return r;
	}
	while (off < len) {
		size_t chunk = len - off > 262144 ? 262144 : len - off;
		int n = virStreamSend(st, (const char *)buf + off, chunk);

		if (n < 0) {
			r = virt_fail(v);
			virStreamAbort(st);
			virStreamFree(st);
			return r;
		}
		off += (size_t)n;
	}
	if (virStreamFinish(st) < 0)
		r = virt_fail(v);
	virStreamFree(st);
	return r;
}

/* Delete volume @name of pool @pool; a missing volume or pool is fine. */
static int vol_delete(struct cyris_virt *v, const char *pool, const char *name)
{
	_cleanup_pool_ virStoragePoolPtr p = NULL;
	_cleanup_vol_ virStorageVolPtr vol = NULL;
	int r = 0;

	if (!pool[0] || !name[0])
		return 0;
	p = virStoragePoolLookupByName(v->conn, pool);
	if (!p) {
		r = virt_last_errno();
		virResetLastError();
		return r == -ENOENT ? 0 : virt_fail(v);
	}
	vol = virStorageVolLookupByName(p, name);
	if (!vol && virt_last_errno() == -ENOENT) {
		/* the pool may not have seen a file made behind its back */
		virResetLastError();
		if (virStoragePoolRefresh(p, 0) == 0)
			vol = virStorageVolLookupByName(p, name);
	}
	if (vol) {
		int ok = -1;

		VIRT_TRY(v, (ok = virStorageVolDelete(vol, 0)) == 0);
		if (ok < 0)
			r = virt_fail(v);
	} else {
		virResetLastError();
	}
	return r;
}

/* ---- create ---- */

struct made {
	virDomainPtr dom;
	bool overlay, seed, started;
};

/* Undo what a failed create made, in reverse, keeping the first error's
 * message. */
static void rollback(struct cyris_virt *v, struct made *m, const struct vm_meta *meta)
{
	struct cyris_error err = v->err;

	if (m->started)
		virDomainDestroy(m->dom);
	if (m->seed)
		vol_delete(v, meta->pool, meta->seed);
	if (m->overlay)
		vol_delete(v, meta->pool, meta->overlay);
	if (m->dom) {
		virDomainUndefineFlags(m->dom, VIR_DOMAIN_UNDEFINE_MANAGED_SAVE |
				       VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA);
		virDomainFree(m->dom);
		m->dom = NULL;
	}
	virResetLastError();
	v->err = err;
}

static int make_seed(struct cyris_virt *v, virStoragePoolPtr pool,
		     const struct cyris_guest_spec *spec, const struct cyris_guest_nic *nics,
		     const struct vm_meta *meta, struct made *made)
{
	const char *host = spec->hostname ? spec->hostname : spec->name;
	struct cyris_seed seed = {
		.hostname = host,
		.ssh_keys = spec->ssh_keys,
		.n_ssh_keys = spec->n_ssh_keys,
		.nics = nics,
		.n_nics = spec->n_nics,
	};
	_cleanup_free_ unsigned char *iso = NULL;
	_cleanup_free_ char *xml = NULL;
	char iid[CYRIS_GUEST_NAMSIZ + 32];
	virStorageVolPtr vol = NULL;
	size_t len = 0;
	int r;

	/* a new instance id per created guest: cloud-init runs again on it */
	snprintf(iid, sizeof(iid), "%s-%lld", spec->name, (long long)meta->created);
	seed.instance_id = iid;
	r = cyris_seed_iso(&seed, &iso, &len);
	if (r < 0)
		return virt_error(v, r, "cannot write the seed ISO");
	r = vm_raw_volume_xml(meta->seed, len, &xml);
	if (r == 0)
		r = vol_create(v, pool, xml, &vol);
	if (r < 0)
		return r;
	made->seed = true;
	r = vol_upload(v, vol, iso, len);
	virStorageVolFree(vol);
	return r;
}

static int check_spec(struct cyris_virt *v, const struct cyris_guest_spec *s)
{
	size_t i;

	if (!cyris_vm_name_valid(s->name))
		return virt_error(v, -EINVAL, "'%s' is not a valid guest name (1-%d of A-Z a-z 0-9 . _ -)",
				  s->name ? s->name : "", NAME_MAX_LEN);
	if (!s->base_image || s->base_image[0] != '/')
		return virt_error(v, -EINVAL, "the base image must be an absolute path");
	if (s->n_nics > CYRIS_GUEST_MAX_NICS)
		return virt_error(v, -EINVAL, "at most %d NICs", CYRIS_GUEST_MAX_NICS);
	for (i = 0; i < s->n_nics; i++)
		if (!s->nics[i].bridge[0] && !s->nics[i].network[0])
			return virt_error(v, -EINVAL, "NIC %zu has neither a bridge nor a network", i);
	if ((s->initrd || s->cmdline) && !s->kernel)
		return virt_error(v, -EINVAL, "an initrd or a command line needs a kernel");
	if (s->memory_mib > 1048576 || s->vcpus > 512)
		return virt_error(v, -EINVAL, "memory or vCPUs out of range");
	for (i = 0; i < s->n_ssh_keys; i++)
		if (!s->ssh_keys[i] || !*s->ssh_keys[i] || strpbrk(s->ssh_keys[i], "\r\n"))
			return virt_error(v, -EINVAL, "SSH key %zu is empty or has a line break", i);
	if (s->hostname && !cyris_vm_name_valid(s->hostname))
		return virt_error(v, -EINVAL, "'%s' is not a valid hostname", s->hostname);
	return 0;
}

static int meta_init(struct vm_meta *m, struct cyris_virt *v,
		     const struct cyris_guest_spec *s, const char *base_format)
{
	memset(m, 0, sizeof(*m));
	m->state = VM_STATE_CREATING;
	m->tag = s->tag;
	if (!m->tag.role[0])
		snprintf(m->tag.role, sizeof(m->tag.role), "guest");
	m->created = time(NULL);
	snprintf(m->hostname, sizeof(m->hostname), "%s", s->hostname ? s->hostname : s->name);
	snprintf(m->pool, sizeof(m->pool), "%s", v->pool);
	snprintf(m->overlay, sizeof(m->overlay), "%s.qcow2", s->name);
	if (v->cloud_init)
		snprintf(m->seed, sizeof(m->seed), "%s-seed.iso", s->name);
	if (cyris_strlcpy(m->base, s->base_image, sizeof(m->base)) < 0)
		return -ENAMETOOLONG;
	snprintf(m->base_format, sizeof(m->base_format), "%s", base_format);
	/* borrowed: the spec's keys outlive the create */
	m->keys = (char **)s->ssh_keys;
	m->n_keys = s->n_ssh_keys;
	return 0;
}

static int define(struct cyris_virt *v, const struct cyris_guest_spec *s,
		  const char *type, const struct cyris_guest_nic *nics,
		  const struct vm_meta *meta, struct made *made)
{
	char console[PATH_MAX];
	struct vm_def d = {
		.name = s->name, .type = type,
		.memory_mib = s->memory_mib ? s->memory_mib : CYRIS_VM_DEFAULT_MEMORY,
		.vcpus = s->vcpus ? s->vcpus : CYRIS_VM_DEFAULT_VCPUS,
		.kernel = s->kernel, .initrd = s->initrd, .cmdline = s->cmdline,
		.console = console, .nics = nics, .n_nics = s->n_nics, .meta = meta,
	};
	_cleanup_free_ char *xml = NULL;
	virDomainPtr dom = NULL;
	int r;

	snprintf(console, sizeof(console), "%s/%s-serial.log", VM_CONSOLE_DIR, s->name);
	r = vm_domain_xml(&d, &xml);
	if (r < 0)
		return virt_error(v, r, "cannot write the domain XML");
	/* no VIR_DOMAIN_DEFINE_VALIDATE: the RNG check costs libvirtd ~15 ms
	 * per define, and libvirt parses and checks the XML anyway */
	VIRT_TRY(v, (dom = virDomainDefineXMLFlags(v->conn, xml, 0)) != NULL);
	if (!dom)
		return virt_fail(v);
	made->dom = dom;
	return 0;
}

static int exists(struct cyris_virt *v, const char *name)
{
	virDomainPtr d = virDomainLookupByName(v->conn, name);

	if (d) {
		virDomainFree(d);
		return virt_error(v, -EEXIST, "domain '%s' already exists", name);
	}
	if (virt_last_errno() != -ENOENT)
		return virt_fail(v);
	virResetLastError();
	return 0;
}

/* A bridge given by its altname (cyris-R-N) becomes its kernel name, which
 * is what libvirt needs; only for a local connection, where the bridges are
 * ours to see. A bridge not found is left to libvirt to report. */
static void resolve_bridges(struct cyris_virt *v, struct cyris_guest_nic *nics, size_t n)
{
	struct cyris_nl *nl = NULL;
	size_t i;

	if (!virt_local(v) || cyris_nl_open(&nl, v->netns) < 0)
		return;
	for (i = 0; i < n; i++) {
		struct cyris_link l = {0};

		if (nics[i].bridge[0] && cyris_link_get(nl, nics[i].bridge, &l) == 0) {
			if (streq(l.kind, "bridge"))
				snprintf(nics[i].bridge, sizeof(nics[i].bridge), "%s", l.name);
			cyris_link_clear(&l);
		}
	}
	cyris_nl_close(nl);
}

/* The paths the domain hands libvirt, on a local connection (a remote
 * host's are its own): the kernel and the initrd are files, the serial
 * console's directory is there (made as libvirt's package makes it). */
static int host_paths(struct cyris_virt *v, const struct cyris_guest_spec *s)
{
	const char *files[] = { s->kernel, s->initrd };
	struct cyris_error err;
	struct stat st;
	size_t i;
	int r;

	if (!virt_local(v))
		return 0;
	for (i = 0; i < 2; i++) {
		if (!files[i])
			continue;
		if (stat(files[i], &st) < 0)
			return virt_error(v, -errno, "%s %s: %s", i ? "initrd" : "kernel", files[i],
					  strerror(errno));
		if (!S_ISREG(st.st_mode))
			return virt_error(v, S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL,
					  "%s %s is not a regular file", i ? "initrd" : "kernel", files[i]);
	}
	r = vm_console_dir_make(&err);
	if (r < 0)
		return virt_error(v, r, "serial console directory %s", err.msg);
	return 0;
}

static int create_steps(struct cyris_virt *v, const struct cyris_guest_spec *spec,
			const struct cyris_guest_nic *nics, struct vm_meta *meta,
			struct made *made)
{
	virStoragePoolPtr pool = NULL;
	_cleanup_free_ char *xml = NULL;
	virStorageVolPtr vol = NULL;
	unsigned long long cap = 0;
	const char *type;
	char fmt[8];
	int r, ok = -1;

	r = host_paths(v, spec);
	if (r == 0)
		r = cyris_virt_domain_type(v, &type);
	if (r == 0)
		r = exists(v, spec->name);
	if (r == 0)
		r = pool_get(v, &pool);
	if (r < 0)
		return r;
	r = base_probe(v, spec->base_image, fmt, &cap);
	if (r == 0)
		r = meta_init(meta, v, spec, fmt);
	/* defined first, tagged "creating": from here on destroy finds it */
	if (r == 0)
		r = define(v, spec, type, nics, meta, made);
	if (r == 0)
		r = vm_overlay_xml(meta->overlay, cap, spec->base_image, fmt, &xml);
	if (r == 0)
		r = vol_create(v, pool, xml, &vol);
	if (r == 0) {
		made->overlay = true;
		virStorageVolFree(vol);
		if (meta->seed[0])
			r = make_seed(v, pool, spec, nics, meta, made);
	}
	virStoragePoolFree(pool);
	if (r < 0)
		return r;
	VIRT_TRY(v, (ok = virDomainCreate(made->dom)) == 0);
	if (ok < 0)
		return virt_fail(v);
	made->started = true;
	meta->state = VM_STATE_READY;
	return write_meta(v, made->dom, meta);
}

int cyris_vm_create(struct cyris_virt *v, const struct cyris_guest_spec *spec,
		    struct cyris_vm_info *ret)
{
	struct cyris_guest_nic nics[CYRIS_GUEST_MAX_NICS];
	struct vm_meta meta = {0};
	struct made made = {0};
	size_t i;
	int r;

	virt_clear(v);
	r = check_spec(v, spec);
	if (r == 0)
		r = virt_conn(v);
	if (r < 0)
		return r;
	memcpy(nics, spec->nics, spec->n_nics * sizeof(nics[0]));
	for (i = 0; i < spec->n_nics; i++)
		if (mac_zero(nics[i].mac))
			cyris_vm_mac(spec->name, (unsigned)i, nics[i].mac);
	resolve_bridges(v, nics, spec->n_nics);
	r = create_steps(v, spec, nics, &meta, &made);
	if (r < 0) {
		rollback(v, &made, &meta);
		return r;
	}
	if (ret)
		r = vm_info_fill(v, made.dom, ret);
	virDomainFree(made.dom);
	return r;
}

/* ---- clone ---- */

int cyris_vm_clone(struct cyris_virt *v, const char *src, const char *name,
		   const char *range, struct cyris_vm_info *ret)
{
	_cleanup_free_ struct vm_dominfo *d = calloc(1, sizeof(*d));
	struct cyris_guest_spec s = { .name = name };
	struct vm_meta m = {0};
	virDomainPtr dom = NULL;
	size_t i;
	int r;

	if (!d)
		return -ENOMEM;
	virt_clear(v);
	if (!cyris_vm_name_valid(name))
		return virt_error(v, -EINVAL, "'%s' is not a valid guest name", name);
	if (range && !cyris_id_valid(range))
		return virt_error(v, -EINVAL, "'%s' is not a valid range id", range);
	r = virt_domain(v, src, &dom);
	if (r < 0)
		return r;
	r = vm_read_meta(v, dom, &m);
	if (r == -ENODATA)
		r = virt_error(v, -EPERM, "domain '%s' has no cyris tag: cyris did not create it", src);
	if (r == 0)
		r = dom_xml(v, dom, VIR_DOMAIN_XML_INACTIVE, d);
	virDomainFree(dom);
	if (r < 0)
		goto out;
	s.tag = m.tag;
	if (range)
		snprintf(s.tag.range, sizeof(s.tag.range), "%s", range);
	s.base_image = m.base;
	s.memory_mib = d->memory_mib;
	s.vcpus = d->vcpus;
	s.kernel = d->kernel[0] ? d->kernel : NULL;
	s.initrd = d->initrd[0] ? d->initrd : NULL;
	s.cmdline = d->cmdline[0] ? d->cmdline : NULL;
	s.ssh_keys = (const char *const *)m.keys;
	s.n_ssh_keys = m.n_keys;
	s.n_nics = d->n_nics;
	for (i = 0; i < d->n_nics; i++) {
		struct cyris_guest_nic *n = &s.nics[i];

		snprintf(n->nic, sizeof(n->nic), "eth%u", (unsigned)(i & 0xff));
		if (d->nics[i].network)
			snprintf(n->network, sizeof(n->network), "%s", d->nics[i].source);
		else
			snprintf(n->bridge, sizeof(n->bridge), "%s", d->nics[i].source);
	}
	r = cyris_vm_create(v, &s, ret);
out:
	vm_meta_clear(&m);
	return r;
}

/* ---- start / stop ---- */

/* The domain, refused with -EPERM when it is not cyris's and !@force. */
static int owned_domain(struct cyris_virt *v, const char *name, bool force,
			virDomainPtr *ret, struct vm_meta *ret_meta)
{
	struct vm_meta m = {0};
	_cleanup_domain_ virDomainPtr dom = NULL;
	int r = virt_domain(v, name, &dom);

	if (r < 0)
		return r;
	r = vm_read_meta(v, dom, &m);
	if (r == -ENODATA && force)
		r = 0;
	else if (r == -ENODATA)
		r = virt_error(v, -EPERM, "domain '%s' has no cyris tag; use --force to change it", name);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(dom);
	if (ret_meta)
		*ret_meta = m;
	else
		vm_meta_clear(&m);
	return 0;
}

int cyris_vm_start(struct cyris_virt *v, const char *name, bool force)
{
	_cleanup_domain_ virDomainPtr dom = NULL;
	int r, ok = -1;

	virt_clear(v);
	r = owned_domain(v, name, force, &dom, NULL);
	if (r < 0)
		return r;
	if (virDomainIsActive(dom) == 1)
		return -EALREADY;
	VIRT_TRY(v, (ok = virDomainCreate(dom)) == 0);
	return ok == 0 ? 0 : virt_fail(v);
}

static int wait_shutoff(virDomainPtr dom, unsigned timeout_ms)
{
	uint64_t end = virt_now_ms() + timeout_ms;

	for (;;) {
		int a = virDomainIsActive(dom);

		if (a == 0)
			return 0;
		if (a < 0)
			return -EIO;
		if (virt_now_ms() >= end)
			return -ETIMEDOUT;
		virt_sleep_ms(100);
	}
}

int cyris_vm_stop(struct cyris_virt *v, const char *name, unsigned timeout_ms,
		  bool force, bool *ret_forced)
{
	_cleanup_domain_ virDomainPtr dom = NULL;
	int r, ok = -1;

	virt_clear(v);
	if (ret_forced)
		*ret_forced = false;
	r = owned_domain(v, name, force, &dom, NULL);
	if (r < 0)
		return r;
	if (virDomainIsActive(dom) != 1)
		return -EALREADY;
	VIRT_TRY(v, (ok = virDomainShutdown(dom)) == 0);
	r = ok == 0 ? wait_shutoff(dom, timeout_ms) : -ETIMEDOUT;
	virResetLastError();
	if (r < 0 && virDomainIsActive(dom) == 1) {
		/* it did not go in time (or refused the request): pull the plug */
		VIRT_TRY(v, (ok = virDomainDestroy(dom)) == 0 || virDomainIsActive(dom) == 0);
		r = ok == 0 || virDomainIsActive(dom) == 0 ? 0 : virt_fail(v);
		if (r == 0 && ret_forced)
			*ret_forced = true;
	} else {
		r = 0;
	}
	return r;
}

/* ---- destroy ---- */

static int destroy_dom(struct cyris_virt *v, virDomainPtr dom, struct vm_meta *m,
		       bool owned)
{
	int r, ok = -1;

	if (owned && m->state != VM_STATE_DESTROYING) {
		/* a destroy cut short leaves the tag saying so */
		m->state = VM_STATE_DESTROYING;
		(void)write_meta(v, dom, m);
		virResetLastError();
	}
	if (virDomainIsActive(dom) == 1) {
		VIRT_TRY(v, (ok = virDomainDestroy(dom)) == 0 || virDomainIsActive(dom) == 0);
		if (ok < 0 && virDomainIsActive(dom) == 1)
			return virt_fail(v);
	}
	if (owned) {
		r = vol_delete(v, m->pool, m->seed);
		if (r == 0)
			r = vol_delete(v, m->pool, m->overlay);
		if (r < 0)
			return r;
	}
	if (virDomainIsPersistent(dom) == 1) {
		ok = -1;
		VIRT_TRY(v, (ok = virDomainUndefineFlags(dom, VIR_DOMAIN_UNDEFINE_MANAGED_SAVE |
							  VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA |
							  VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA)) == 0);
		if (ok < 0)
			return virt_fail(v);
	}
	return 0;
}

int cyris_vm_destroy(struct cyris_virt *v, const char *name, bool force)
{
	struct vm_meta m = {0};
	virDomainPtr dom;
	bool owned;
	int r;

	r = virt_begin(v, name, &dom);
	if (r < 0)
		return r;
	r = vm_read_meta(v, dom, &m);
	owned = r == 0;
	if (r == -ENODATA && !force)
		r = virt_error(v, -EPERM, "domain '%s' has no cyris tag; use --force to destroy it", name);
	else if (r == -ENODATA)
		r = 0;
	if (r == 0)
		r = destroy_dom(v, dom, &m, owned);
	vm_meta_clear(&m);
	virDomainFree(dom);
	return r;
}

/* ---- list ---- */

static int cmp_info(const void *a, const void *b)
{
	return strcmp(((const struct cyris_vm_info *)a)->g.vm_name,
		      ((const struct cyris_vm_info *)b)->g.vm_name);
}

static int list_all(struct cyris_virt *v, virDomainPtr **ret)
{
	int n = -1, r = virt_conn(v);

	if (r < 0)
		return r;
	VIRT_TRY(v, (n = virConnectListAllDomains(v->conn, ret, 0)) >= 0);
	return n < 0 ? virt_fail(v) : n;
}

/* true when @dom is cyris's and in @range (NULL: any) */
static int in_range(struct cyris_virt *v, virDomainPtr dom, const char *range,
		    struct vm_meta *m)
{
	int r = vm_read_meta(v, dom, m);

	if (r == -ENODATA || r == -ENOENT) {
		virResetLastError();
		return 0;   /* not ours, or gone meanwhile */
	}
	if (r < 0)
		return r;
	if (range && !cyris_tag_in_range(&m->tag, range)) {
		vm_meta_clear(m);
		return 0;
	}
	return 1;
}

int cyris_vm_list(struct cyris_virt *v, const char *range, unsigned flags,
		  struct cyris_vm_info **ret, size_t *ret_n)
{
	struct cyris_vm_info *out = NULL;
	virDomainPtr *doms = NULL;
	size_t n = 0, cap = 0;
	int i, nd, r = 0;

	virt_clear(v);
	nd = list_all(v, &doms);
	if (nd < 0)
		return nd;
	for (i = 0; i < nd; i++) {
		struct vm_meta m = {0};
		struct cyris_vm_info *info;

		if (r == 0 && (r = in_range(v, doms[i], range, &m)) == 1) {
			vm_meta_clear(&m);
			info = cyris_grow((void **)&out, &n, &cap, sizeof(*out));
			r = info ? vm_info_fill(v, doms[i], info) : -ENOMEM;
			if (r == -ENOENT) {
				n--;   /* destroyed while we looked */
				r = 0;
			}
		}
		virDomainFree(doms[i]);
	}
	free(doms);
	if (r < 0) {
		free(out);
		return r;
	}
	if (n > 1)
		qsort(out, n, sizeof(*out), cmp_info);
	for (i = 0; (flags & CYRIS_VM_LIST_IP) && i < (int)n; i++) {
		struct cyris_vm_addr a;

		if (out[i].g.status == CYRIS_VM_RUNNING &&
		    cyris_vm_ip(v, out[i].g.vm_name, CYRIS_IP_ALL, &a) == 0) {
			out[i].g.ip = a.ip;
			snprintf(out[i].g.ip_source, sizeof(out[i].g.ip_source), "%s", a.source);
		}
	}
	virt_clear(v);
	*ret = out;
	*ret_n = n;
	return 0;
}

int cyris_vm_destroy_range(struct cyris_virt *v, const char *range, size_t *ret_count)
{
	virDomainPtr *doms = NULL;
	size_t count = 0;
	int i, nd, r, first = 0;
	struct cyris_error err = {0};

	virt_clear(v);
	if (!range || !cyris_id_valid(range))
		return virt_error(v, -EINVAL, "'%s' is not a valid range id", range ? range : "");
	nd = list_all(v, &doms);
	if (nd < 0)
		return nd;
	for (i = 0; i < nd; i++) {
		struct vm_meta m = {0};

		r = in_range(v, doms[i], range, &m);
		if (r == 1) {
			r = destroy_dom(v, doms[i], &m, true);
			if (r == 0)
				count++;
			vm_meta_clear(&m);
		}
		if (r < 0 && !first) {
			first = r;
			err = v->err;
		}
		virDomainFree(doms[i]);
	}
	free(doms);
	v->err = err;
	if (ret_count)
		*ret_count = count;
	return first;
}

int cyris_vm_get(struct cyris_virt *v, const char *name, struct cyris_vm_info *ret)
{
	_cleanup_domain_ virDomainPtr dom = NULL;
	int r;

	r = virt_begin(v, name, &dom);
	if (r < 0)
		return r;
	return vm_info_fill(v, dom, ret);
}

int cyris_vm_status(struct cyris_virt *v, const char *name, enum cyris_vm_status *ret)
{
	struct vm_meta m = {0};
	_cleanup_domain_ virDomainPtr dom = NULL;
	int r, state = 0, reason = 0, ok = -1;
	bool owned;

	r = virt_begin(v, name, &dom);
	if (r < 0)
		return r;
	r = vm_read_meta(v, dom, &m);
	owned = r == 0;
	if (r == 0 || r == -ENODATA) {
		VIRT_TRY(v, (ok = virDomainGetState(dom, &state, &reason, 0)) == 0);
		r = ok == 0 ? 0 : virt_fail(v);
	}
	if (r == 0)
		*ret = vm_status_of(state, reason, &m, owned);
	vm_meta_clear(&m);
	return r;
}
