/* SPDX-License-Identifier: MIT */
/*
 * The XML cyris gives libvirt (domains, pools, volumes, its metadata
 * element), written with libxml2's xmlTextWriter so that every name, path
 * and command line is escaped by the writer, and the XML it reads back,
 * parsed with libxml2 and XPath.
 */
#include <libxml/parser.h>
#include <libxml/xmlwriter.h>
#include <libxml/xpath.h>
#include <inttypes.h>
#include <stdarg.h>

#include "cyris/link.h"
#include "vm-priv.h"

/* ---- writing ---- */

struct xw {
	xmlBufferPtr buf;
	xmlTextWriterPtr w;
	bool err;
};

static int xw_open(struct xw *x)
{
	x->err = false;
	x->buf = xmlBufferCreate();
	x->w = x->buf ? xmlNewTextWriterMemory(x->buf, 0) : NULL;
	if (!x->w) {
		if (x->buf)
			xmlBufferFree(x->buf);
		return -ENOMEM;
	}
	xmlTextWriterSetIndent(x->w, 1);
	xmlTextWriterSetIndentString(x->w, BAD_CAST "  ");
	return 0;
}

/* Finish: the document as a malloc'ed string in *ret. */
static int xw_close(struct xw *x, char **ret)
{
	int r = 0;

	if (xmlTextWriterEndDocument(x->w) < 0)
		x->err = true;
	xmlFreeTextWriter(x->w);
	if (x->err)
		r = -EINVAL;
	else if (!(*ret = strdup((const char *)xmlBufferContent(x->buf))))
		r = -ENOMEM;
	xmlBufferFree(x->buf);
	return r;
}

static void xw_start(struct xw *x, const char *name)
{
	if (xmlTextWriterStartElement(x->w, BAD_CAST name) < 0)
		x->err = true;
}

static void xw_start_ns(struct xw *x, const char *name, const char *uri)
{
	if (xmlTextWriterStartElementNS(x->w, BAD_CAST "cyris", BAD_CAST name,
					uri ? BAD_CAST uri : NULL) < 0)
		x->err = true;
}

static void xw_end(struct xw *x)
{
	if (xmlTextWriterEndElement(x->w) < 0)
		x->err = true;
}

static void xw_attr(struct xw *x, const char *name, const char *val)
{
	if (xmlTextWriterWriteAttribute(x->w, BAD_CAST name, BAD_CAST val) < 0)
		x->err = true;
}

static void xw_attrf(struct xw *x, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void xw_attrf(struct xw *x, const char *name, const char *fmt, ...)
{
	char buf[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	xw_attr(x, name, buf);
}

static void xw_text(struct xw *x, const char *text)
{
	if (xmlTextWriterWriteString(x->w, BAD_CAST text) < 0)
		x->err = true;
}

/* <name attr="val">text</name>; @attr may be NULL */
static void xw_elem(struct xw *x, const char *name, const char *text,
		    const char *attr, const char *val)
{
	xw_start(x, name);
	if (attr)
		xw_attr(x, attr, val);
	if (text)
		xw_text(x, text);
	xw_end(x);
}

/* An empty element with one attribute: <format type='qcow2'/> */
static void xw_empty(struct xw *x, const char *name, const char *attr, const char *val)
{
	xw_elem(x, name, NULL, attr, val);
}

const char *vm_state_str(enum vm_state s)
{
	switch (s) {
	case VM_STATE_CREATING: return "creating";
	case VM_STATE_READY: return "ready";
	case VM_STATE_DESTROYING: return "destroying";
	default: return "";
	}
}

static void format_time(time_t t, char buf[32])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The <vm> element: in the domain XML with its namespace (@uri); for
 * virDomainSetMetadata() without (@uri NULL), libvirt adds it. The children
 * are in no namespace either way. */
static void meta_body(struct xw *x, const struct vm_meta *m, const char *uri)
{
	char ts[32];
	size_t i;

	if (uri)
		xw_start_ns(x, "vm", uri);
	else
		xw_start(x, "vm");
	xw_attr(x, "state", vm_state_str(m->state));
	if (m->tag.range[0])
		xw_attr(x, "range", m->tag.range);
	if (m->tag.instance)
		xw_attrf(x, "instance", "%u", m->tag.instance);
	if (m->tag.guest[0])
		xw_attr(x, "guest", m->tag.guest);
	xw_attr(x, "role", m->tag.role[0] ? m->tag.role : "guest");
	format_time(m->created, ts);
	xw_attr(x, "created", ts);
	if (m->hostname[0])
		xw_attr(x, "hostname", m->hostname);
	xw_attr(x, "pool", m->pool);
	if (m->overlay[0])
		xw_attr(x, "overlay", m->overlay);
	if (m->seed[0])
		xw_attr(x, "seed", m->seed);
	if (m->base[0])
		xw_attr(x, "base", m->base);
	if (m->base_format[0])
		xw_attr(x, "base-format", m->base_format);
	for (i = 0; i < m->n_keys; i++) {
		xw_elem(x, "ssh-key", m->keys[i], NULL, NULL);
	}
	xw_end(x);
}

int vm_meta_format(const struct vm_meta *m, char **ret)
{
	struct xw x;
	int r = xw_open(&x);

	if (r < 0)
		return r;
	meta_body(&x, m, NULL);
	return xw_close(&x, ret);
}

static void disk_volume(struct xw *x, const char *device, const char *format,
			const char *pool, const char *vol, const char *dev,
			const char *bus)
{
	xw_start(x, "disk");
	xw_attr(x, "type", "volume");
	xw_attr(x, "device", device);
	xw_start(x, "driver");
	xw_attr(x, "name", "qemu");
	xw_attr(x, "type", format);
	xw_end(x);
	xw_start(x, "source");
	xw_attr(x, "pool", pool);
	xw_attr(x, "volume", vol);
	xw_end(x);
	xw_start(x, "target");
	xw_attr(x, "dev", dev);
	xw_attr(x, "bus", bus);
	xw_end(x);
	if (streq(device, "cdrom")) {
		xw_start(x, "readonly");
		xw_end(x);
	}
	xw_end(x);
}

static void domain_nic(struct xw *x, const struct cyris_guest_nic *n)
{
	char mac[18];

	xw_start(x, "interface");
	xw_attr(x, "type", n->bridge[0] ? "bridge" : "network");
	xw_empty(x, "mac", "address", cyris_mac_format(n->mac, mac));
	xw_empty(x, "source", n->bridge[0] ? "bridge" : "network",
		 n->bridge[0] ? n->bridge : n->network);
	if (n->host_ifname[0])
		xw_empty(x, "target", "dev", n->host_ifname);
	xw_empty(x, "model", "type", "virtio");
	xw_end(x);
}

static void domain_os(struct xw *x, const struct vm_def *d)
{
	xw_start(x, "os");
	xw_start(x, "type");
	xw_attr(x, "arch", "x86_64");
	xw_text(x, "hvm");
	xw_end(x);
	if (d->kernel) {
		xw_elem(x, "kernel", d->kernel, NULL, NULL);
		if (d->initrd)
			xw_elem(x, "initrd", d->initrd, NULL, NULL);
		if (d->cmdline)
			xw_elem(x, "cmdline", d->cmdline, NULL, NULL);
	} else {
		xw_empty(x, "boot", "dev", "hd");
	}
	xw_end(x);
}

static void domain_devices(struct xw *x, const struct vm_def *d)
{
	const struct vm_meta *m = d->meta;
	size_t i;

	xw_start(x, "devices");
	if (m->overlay[0])
		disk_volume(x, "disk", "qcow2", m->pool, m->overlay, "vda", "virtio");
	if (m->seed[0]) {
		/* virtio-scsi: every kernel with virtio has it, on any machine type */
		xw_start(x, "controller");
		xw_attr(x, "type", "scsi");
		xw_attr(x, "model", "virtio-scsi");
		xw_end(x);
		disk_volume(x, "cdrom", "raw", m->pool, m->seed, "sda", "scsi");
	}
	for (i = 0; i < d->n_nics; i++)
		domain_nic(x, &d->nics[i]);
	if (d->console) {
		xw_start(x, "serial");
		xw_attr(x, "type", "file");
		xw_empty(x, "source", "path", d->console);
		xw_empty(x, "target", "port", "0");
		xw_end(x);
	}
	xw_start(x, "channel");
	xw_attr(x, "type", "unix");
	xw_start(x, "target");
	xw_attr(x, "type", "virtio");
	xw_attr(x, "name", "org.qemu.guest_agent.0");
	xw_end(x);
	xw_end(x);
	xw_empty(x, "memballoon", "model", "none");
	xw_end(x);
}

int vm_domain_xml(const struct vm_def *d, char **ret)
{
	char buf[32];
	struct xw x;
	int r = xw_open(&x);

	if (r < 0)
		return r;
	xw_start(&x, "domain");
	xw_attr(&x, "type", d->type);
	xw_elem(&x, "name", d->name, NULL, NULL);
	xw_start(&x, "metadata");
	meta_body(&x, d->meta, CYRIS_VM_XMLNS);
	xw_end(&x);
	snprintf(buf, sizeof(buf), "%u", d->memory_mib);
	xw_elem(&x, "memory", buf, "unit", "MiB");
	snprintf(buf, sizeof(buf), "%u", d->vcpus);
	xw_elem(&x, "vcpu", buf, NULL, NULL);
	domain_os(&x, d);
	xw_start(&x, "features");
	xw_start(&x, "acpi");
	xw_end(&x);
	xw_start(&x, "apic");
	xw_end(&x);
	xw_end(&x);
	if (streq(d->type, "kvm"))
		xw_empty(&x, "cpu", "mode", "host-passthrough");
	xw_elem(&x, "on_poweroff", "destroy", NULL, NULL);
	xw_elem(&x, "on_reboot", "restart", NULL, NULL);
	xw_elem(&x, "on_crash", "destroy", NULL, NULL);
	domain_devices(&x, d);
	xw_end(&x);
	return xw_close(&x, ret);
}

int vm_pool_xml(const char *name, const char *path, char **ret)
{
	struct xw x;
	int r = xw_open(&x);

	if (r < 0)
		return r;
	xw_start(&x, "pool");
	xw_attr(&x, "type", "dir");
	xw_elem(&x, "name", name, NULL, NULL);
	xw_start(&x, "target");
	xw_elem(&x, "path", path, NULL, NULL);
	xw_end(&x);
	xw_end(&x);
	return xw_close(&x, ret);
}

static void volume_head(struct xw *x, const char *name, unsigned long long capacity,
			const char *format)
{
	char buf[32];

	xw_start(x, "volume");
	xw_elem(x, "name", name, NULL, NULL);
	snprintf(buf, sizeof(buf), "%llu", capacity);
	xw_elem(x, "capacity", buf, "unit", "bytes");
	xw_start(x, "target");
	xw_empty(x, "format", "type", format);
	xw_start(x, "permissions");
	xw_elem(x, "mode", "0600", NULL, NULL);
	xw_end(x);
	xw_end(x);
}

int vm_overlay_xml(const char *name, unsigned long long capacity,
		   const char *base, const char *base_format, char **ret)
{
	struct xw x;
	int r = xw_open(&x);

	if (r < 0)
		return r;
	volume_head(&x, name, capacity, "qcow2");
	xw_start(&x, "backingStore");
	xw_elem(&x, "path", base, NULL, NULL);
	xw_empty(&x, "format", "type", base_format);
	xw_end(&x);
	xw_end(&x);
	return xw_close(&x, ret);
}

int vm_raw_volume_xml(const char *name, unsigned long long capacity, char **ret)
{
	struct xw x;
	int r = xw_open(&x);

	if (r < 0)
		return r;
	volume_head(&x, name, capacity, "raw");
	xw_end(&x);
	return xw_close(&x, ret);
}

/* ---- reading ---- */

static xmlDocPtr parse(const char *xml)
{
	return xmlReadMemory(xml, (int)strlen(xml), "libvirt.xml", NULL,
			     XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOERROR |
			     XML_PARSE_NOWARNING);
}

/* @xml parsed, with an XPath context on it: 0, -EINVAL or -ENOMEM. */
static int xp_open(const char *xml, xmlDocPtr *ret_doc, xmlXPathContextPtr *ret_ctx)
{
	xmlDocPtr doc = parse(xml);

	if (!doc)
		return -EINVAL;
	*ret_ctx = xmlXPathNewContext(doc);
	if (!*ret_ctx) {
		xmlFreeDoc(doc);
		return -ENOMEM;
	}
	*ret_doc = doc;
	return 0;
}

static void xp_close(xmlDocPtr doc, xmlXPathContextPtr ctx)
{
	xmlXPathFreeContext(ctx);
	xmlFreeDoc(doc);
}

/* The string value of XPath @expr relative to @node into @buf. */
static void xp_str(xmlXPathContextPtr ctx, xmlNodePtr node, const char *expr,
		   char *buf, size_t size)
{
	xmlXPathObjectPtr o;
	xmlChar *s;

	buf[0] = '\0';
	ctx->node = node;
	o = xmlXPathEvalExpression(BAD_CAST expr, ctx);
	if (!o)
		return;
	s = xmlXPathCastToString(o);
	if (s) {
		snprintf(buf, size, "%s", (const char *)s);
		xmlFree(s);
	}
	xmlXPathFreeObject(o);
}

static unsigned long long scaled(const char *num, const char *unit)
{
	unsigned long long n = strtoull(num, NULL, 10);

	if (!*unit || streq(unit, "KiB") || streq(unit, "k") || streq(unit, "K"))
		return n * 1024;
	if (streq(unit, "MiB") || streq(unit, "M"))
		return n << 20;
	if (streq(unit, "GiB") || streq(unit, "G"))
		return n << 30;
	return n;   /* bytes */
}

static void parse_nics(xmlXPathContextPtr ctx, xmlDocPtr doc, struct vm_dominfo *d)
{
	xmlXPathObjectPtr o;
	char buf[CYRIS_ALTNAMSIZ];
	int i, n;

	ctx->node = xmlDocGetRootElement(doc);
	o = xmlXPathEvalExpression(BAD_CAST "/domain/devices/interface", ctx);
	if (!o)
		return;
	n = o->nodesetval ? o->nodesetval->nodeNr : 0;
	for (i = 0; i < n && d->n_nics < CYRIS_GUEST_MAX_NICS; i++) {
		xmlNodePtr node = o->nodesetval->nodeTab[i];
		struct cyris_vm_nic *nic = &d->nics[d->n_nics++];

		xp_str(ctx, node, "string(@type)", buf, sizeof(buf));
		nic->network = streq(buf, "network");
		xp_str(ctx, node, nic->network ? "string(source/@network)" :
		       "string(source/@bridge)", nic->source, sizeof(nic->source));
		xp_str(ctx, node, "string(mac/@address)", buf, sizeof(buf));
		(void)cyris_mac_parse(buf, nic->mac);
		xp_str(ctx, node, "string(target/@dev)", nic->target, sizeof(nic->target));
	}
	xmlXPathFreeObject(o);
}

int vm_domain_parse(const char *xml, struct vm_dominfo *ret)
{
	xmlXPathContextPtr ctx;
	char num[32], unit[16];
	xmlNodePtr root;
	xmlDocPtr doc;
	int r;

	memset(ret, 0, sizeof(*ret));
	if ((r = xp_open(xml, &doc, &ctx)) < 0)
		return r;
	root = xmlDocGetRootElement(doc);
	xp_str(ctx, root, "string(/domain/@type)", ret->type, sizeof(ret->type));
	xp_str(ctx, root, "string(/domain/memory)", num, sizeof(num));
	xp_str(ctx, root, "string(/domain/memory/@unit)", unit, sizeof(unit));
	ret->memory_mib = (unsigned)(scaled(num, unit) >> 20);
	xp_str(ctx, root, "string(/domain/vcpu)", num, sizeof(num));
	ret->vcpus = (unsigned)strtoul(num, NULL, 10);
	xp_str(ctx, root, "string(/domain/os/kernel)", ret->kernel, sizeof(ret->kernel));
	xp_str(ctx, root, "string(/domain/os/initrd)", ret->initrd, sizeof(ret->initrd));
	xp_str(ctx, root, "string(/domain/os/cmdline)", ret->cmdline, sizeof(ret->cmdline));
	xp_str(ctx, root, "string(/domain/devices/serial[@type='file']/source/@path)",
	       ret->console, sizeof(ret->console));
	parse_nics(ctx, doc, ret);
	xp_close(doc, ctx);
	return 0;
}

int vm_volume_parse(const char *xml, char *format, size_t size,
		    unsigned long long *ret_capacity)
{
	xmlXPathContextPtr ctx;
	char num[32], unit[16];
	xmlDocPtr doc;
	int r;

	if ((r = xp_open(xml, &doc, &ctx)) < 0)
		return r;
	xp_str(ctx, xmlDocGetRootElement(doc), "string(/volume/target/format/@type)",
	       format, size);
	xp_str(ctx, xmlDocGetRootElement(doc), "string(/volume/capacity)", num, sizeof(num));
	xp_str(ctx, xmlDocGetRootElement(doc), "string(/volume/capacity/@unit)", unit,
	       sizeof(unit));
	*ret_capacity = scaled(num, unit[0] ? unit : "bytes");
	xp_close(doc, ctx);
	return 0;
}

bool vm_domcaps_ok(const char *xml)
{
	xmlXPathContextPtr ctx;
	char type[16];
	xmlDocPtr doc;

	if (xp_open(xml, &doc, &ctx) < 0)
		return false;
	xp_str(ctx, xmlDocGetRootElement(doc), "string(/domainCapabilities/domain)",
	       type, sizeof(type));
	xp_close(doc, ctx);
	return streq(type, "kvm");
}

void vm_meta_clear(struct vm_meta *m)
{
	size_t i;

	for (i = 0; i < m->n_keys; i++)
		free(m->keys[i]);
	free(m->keys);
	memset(m, 0, sizeof(*m));
}

static void attr_copy(xmlNodePtr n, const char *name, char *buf, size_t size)
{
	xmlChar *s = xmlGetProp(n, BAD_CAST name);

	buf[0] = '\0';
	if (s) {
		snprintf(buf, size, "%s", (const char *)s);
		xmlFree(s);
	}
}

static time_t parse_time(const char *s)
{
	struct tm tm = {0};
	const char *end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);

	return end && !*end ? timegm(&tm) : 0;
}

static int meta_keys(xmlNodePtr root, struct vm_meta *m)
{
	xmlNodePtr c;

	for (c = root->children; c; c = c->next) {
		xmlChar *s;
		char **slot;

		if (c->type != XML_ELEMENT_NODE || !xmlStrEqual(c->name, BAD_CAST "ssh-key"))
			continue;
		s = xmlNodeGetContent(c);
		if (!s)
			return -ENOMEM;
		slot = realloc(m->keys, (m->n_keys + 1) * sizeof(*m->keys));
		if (!slot || !(slot[m->n_keys] = strdup((const char *)s))) {
			if (slot)
				m->keys = slot;
			xmlFree(s);
			return -ENOMEM;
		}
		m->keys = slot;
		m->n_keys++;
		xmlFree(s);
	}
	return 0;
}

int vm_meta_parse(const char *xml, struct vm_meta *ret)
{
	xmlDocPtr doc = parse(xml);
	xmlNodePtr root;
	char buf[64];
	int r = -EBADMSG;

	memset(ret, 0, sizeof(*ret));
	if (!doc)
		return -EBADMSG;
	root = xmlDocGetRootElement(doc);
	/* libvirt hands the element back without its namespace: it already
	 * selected it by namespace */
	if (!root || !xmlStrEqual(root->name, BAD_CAST "vm") ||
	    (root->ns && !xmlStrEqual(root->ns->href, BAD_CAST CYRIS_VM_XMLNS)))
		goto out;
	attr_copy(root, "state", buf, sizeof(buf));
	ret->state = streq(buf, "creating") ? VM_STATE_CREATING :
		     streq(buf, "destroying") ? VM_STATE_DESTROYING : VM_STATE_READY;
	attr_copy(root, "range", ret->tag.range, sizeof(ret->tag.range));
	attr_copy(root, "instance", buf, sizeof(buf));
	ret->tag.instance = (unsigned)strtoul(buf, NULL, 10);
	attr_copy(root, "guest", ret->tag.guest, sizeof(ret->tag.guest));
	attr_copy(root, "role", ret->tag.role, sizeof(ret->tag.role));
	attr_copy(root, "created", buf, sizeof(buf));
	ret->created = parse_time(buf);
	attr_copy(root, "hostname", ret->hostname, sizeof(ret->hostname));
	attr_copy(root, "pool", ret->pool, sizeof(ret->pool));
	attr_copy(root, "overlay", ret->overlay, sizeof(ret->overlay));
	attr_copy(root, "seed", ret->seed, sizeof(ret->seed));
	attr_copy(root, "base", ret->base, sizeof(ret->base));
	attr_copy(root, "base-format", ret->base_format, sizeof(ret->base_format));
	r = meta_keys(root, ret);
	if (r < 0)
		vm_meta_clear(ret);
out:
	xmlFreeDoc(doc);
	return r;
}
