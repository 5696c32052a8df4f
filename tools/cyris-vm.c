/* SPDX-License-Identifier: MIT */
/*
 * cyris-vm — the range's virtual machines through libvirt's C API: create
 * from a base image, clone, start, stop, destroy, list, find the address.
 * A thin layer over libcyris (include/cyris/vm.h).
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cyris/addr.h"
#include "cyris/conf.h"
#include "cyris/link.h"
#include "cyris/tag.h"
#include "cyris/vm.h"
#include "../net/base/util.h"

static const char help[] =
"Usage: cyris-vm [-j] [-p] [-c URI] [--virt-type kvm|qemu] [-n NETNS] [--force] COMMAND\n"
"       cyris-vm [-j] [-c URI] [--virt-type kvm|qemu] [-n NETNS] -b FILE|-\n"
"\n"
"Virtual machines of a cyber range, driven through libvirt's C API and\n"
"tagged with their range in the domain's <metadata>.\n"
"\n"
"Commands:\n"
"  create NAME --base IMAGE [--range R] [--memory MiB] [--vcpus N]\n"
"         [--nic BRIDGE[,mac=MAC]]... [--nic network=NET[,mac=MAC]]...\n"
"         [--ssh-key FILE]... [--ip CIDR[,gw=IP]]\n"
"         [--kernel K [--initrd I] [--cmdline S]] [--instance I] [--guest G.k]\n"
"                        a qcow2 overlay of IMAGE, a cloud-init seed ISO\n"
"                        (SSH keys, hostname NAME, the address of --ip on the\n"
"                        first NIC), a domain defined and started;\n"
"                        --instance and --guest go into its tag (as\n"
"                        cyris-topo's guests carry them)\n"
"  clone SRC NAME [--range R]\n"
"                        a new guest like SRC: new overlay on the same base,\n"
"                        new MACs, addresses by DHCP\n"
"  start NAME            start a stopped guest\n"
"  stop NAME [--timeout SECONDS]\n"
"                        ACPI shutdown, forced off after SECONDS (30)\n"
"  destroy NAME          power off, remove the overlay, the seed ISO and the\n"
"                        domain, nothing else\n"
"  destroy --range R     every guest of range R\n"
"  list [--range R]      guests with status, address and its source\n"
"  status NAME           creating, running, stopped, failed or destroying\n"
"  ip NAME [--wait SECONDS]\n"
"                        the address and the source that gave it (lease,\n"
"                        agent, arp, neigh); with --wait, poll until known\n"
"  wait-ip NAME [--timeout SECONDS]\n"
"                        the same as ip --wait (default 300 s)\n"
"\n"
"Options:\n"
"  -j, --json            JSON output\n"
"  -p, --pretty          indent JSON\n"
"  -c, --connect URI     libvirt URI (qemu:///system, qemu+ssh://host/system)\n"
"      --virt-type T     kvm or qemu (TCG); default: kvm when usable\n"
"  -n, --netns NETNS     namespace of the guests' bridges, for the address\n"
"                        lookup in the neighbour table\n"
"      --force           act on domains cyris did not create\n"
"  -b, --batch FILE|-    one command per line, each with its own options\n"
"                        (cyris-topo plan FILE --emit vm | cyris-vm -b -),\n"
"                        over one libvirt connection; stops at the first\n"
"                        failure, reported as FILE:LINE\n"
"  -h, --help            this text;  -V, --version\n"
"\n"
"Environment:\n"
"  CYRIS_CONFIG          configuration file (/etc/cyris/cyris.conf)\n"
"  CYRIS_LIBVIRT_URI     libvirt URI (qemu:///system)\n"
"  CYRIS_VIRT_TYPE       kvm, qemu or auto\n"
"  CYRIS_STORAGE_POOL    storage pool for overlays and seeds (cyris)\n"
"  CYRIS_IMAGE_DIR       its directory when it must be created\n"
"                        (/var/lib/cyris/images)\n"
"  CYRIS_CLOUD_INIT      yes/no: attach a cloud-init seed ISO (yes)\n"
"\n"
"Domains cyris creates carry <cyris:vm range=... state=...> in their\n"
"metadata (namespace " CYRIS_VM_XMLNS ");\n"
"start, stop and destroy refuse other domains unless --force.\n"
"\n"
"Exit status: 0 success, 1 an operation failed, 2 usage error.\n";

enum {
	O_VIRT_TYPE = 256, O_BASE, O_RANGE, O_MEMORY, O_VCPUS, O_NIC, O_SSH_KEY,
	O_IP, O_KERNEL, O_INITRD, O_CMDLINE, O_WAIT, O_TIMEOUT, O_INSTANCE, O_GUEST,
};

/* Which command takes which option. */
#define F(o) (1u << ((o) - O_VIRT_TYPE))
#define CREATE_OPTS (F(O_BASE) | F(O_RANGE) | F(O_MEMORY) | F(O_VCPUS) | F(O_NIC) | \
		     F(O_SSH_KEY) | F(O_IP) | F(O_KERNEL) | F(O_INITRD) | F(O_CMDLINE) | \
		     F(O_INSTANCE) | F(O_GUEST))

static const struct option longopts[] = {
	{ "connect", required_argument, NULL, 'c' },
	{ "virt-type", required_argument, NULL, O_VIRT_TYPE },
	{ "base", required_argument, NULL, O_BASE },
	{ "range", required_argument, NULL, O_RANGE },
	{ "memory", required_argument, NULL, O_MEMORY },
	{ "vcpus", required_argument, NULL, O_VCPUS },
	{ "nic", required_argument, NULL, O_NIC },
	{ "ssh-key", required_argument, NULL, O_SSH_KEY },
	{ "ip", required_argument, NULL, O_IP },
	{ "kernel", required_argument, NULL, O_KERNEL },
	{ "initrd", required_argument, NULL, O_INITRD },
	{ "cmdline", required_argument, NULL, O_CMDLINE },
	{ "wait", required_argument, NULL, O_WAIT },
	{ "timeout", required_argument, NULL, O_TIMEOUT },
	{ "instance", required_argument, NULL, O_INSTANCE },
	{ "guest", required_argument, NULL, O_GUEST },
	{ 0 },
};

#define MAX_KEYFILES 16

struct state {
	unsigned given;                 /* F() of the options seen */
	const char *uri, *virt_type;
	const char *base, *range, *ip, *kernel, *initrd, *cmdline, *guest;
	unsigned long memory, vcpus, wait, timeout, instance;
	const char *nics[CYRIS_GUEST_MAX_NICS];
	size_t n_nics;
	const char *keyfiles[MAX_KEYFILES];
	size_t n_keyfiles;
	struct cyris_conf *conf;
	struct cyris_virt *v;
};

static struct state *st(struct cli *c)
{
	return c->data;
}

static int parse_num(struct cli *c, const char *what, const char *s,
		     unsigned long min, unsigned long max, unsigned long *ret)
{
	if (cyris_parse_uint(s, max, ret) < 0 || *ret < min)
		return cli_usage(c, "%s '%s' is not a number in %lu..%lu", what, s, min, max);
	return CLI_OK;
}

static int handle(struct cli *c, int opt, const char *arg)
{
	struct state *s = st(c);

	if (c->line && (opt == 'c' || opt == O_VIRT_TYPE))
		return cli_usage(c, "the connection options belong on the command line");
	if (opt != 'c')
		s->given |= F(opt);
	switch (opt) {
	case 'c': s->uri = arg; return CLI_OK;
	case O_VIRT_TYPE:
		if (!streq(arg, "kvm") && !streq(arg, "qemu") && !streq(arg, "auto"))
			return cli_usage(c, "--virt-type takes kvm or qemu, not '%s'", arg);
		s->virt_type = arg;
		return CLI_OK;
	case O_BASE: s->base = arg; return CLI_OK;
	case O_RANGE:
		if (!cyris_id_valid(arg))
			return cli_usage(c, "range '%s' is not a valid id (1-%d of A-Z a-z 0-9 _ . -)",
					 arg, CYRIS_ID_MAX);
		s->range = arg;
		return CLI_OK;
	case O_MEMORY: return parse_num(c, "--memory", arg, 16, 1048576, &s->memory);
	case O_VCPUS: return parse_num(c, "--vcpus", arg, 1, 512, &s->vcpus);
	case O_NIC:
		if (s->n_nics == CYRIS_GUEST_MAX_NICS)
			return cli_usage(c, "at most %d --nic", CYRIS_GUEST_MAX_NICS);
		s->nics[s->n_nics++] = arg;
		return CLI_OK;
	case O_SSH_KEY:
		if (s->n_keyfiles == MAX_KEYFILES)
			return cli_usage(c, "at most %d --ssh-key", MAX_KEYFILES);
		s->keyfiles[s->n_keyfiles++] = arg;
		return CLI_OK;
	case O_IP: s->ip = arg; return CLI_OK;
	case O_KERNEL: s->kernel = arg; return CLI_OK;
	case O_INITRD: s->initrd = arg; return CLI_OK;
	case O_CMDLINE: s->cmdline = arg; return CLI_OK;
	case O_INSTANCE: return parse_num(c, "--instance", arg, 1, 1000, &s->instance);
	case O_GUEST:
		if (!cyris_id_valid(arg))
			return cli_usage(c, "guest '%s' is not a valid id (1-%d of A-Z a-z 0-9 _ . -)",
					 arg, CYRIS_ID_MAX);
		s->guest = arg;
		return CLI_OK;
	case O_WAIT: return parse_num(c, "--wait", arg, 0, 86400, &s->wait);
	case O_TIMEOUT: return parse_num(c, "--timeout", arg, 0, 86400, &s->timeout);
	}
	return cli_usage(c, "unknown option");
}

/* Before each batch line: forget the last line's options, keep the
 * connection's. */
static void reset(struct cli *c)
{
	struct state *s = st(c);

	s->given &= F(O_VIRT_TYPE);
	s->base = s->range = s->ip = s->kernel = s->initrd = s->cmdline = s->guest = NULL;
	s->memory = s->vcpus = s->wait = s->timeout = s->instance = 0;
	s->n_nics = s->n_keyfiles = 0;
}

/* Refuse options that @cmd does not take. */
static int only(struct cli *c, const char *cmd, unsigned allowed)
{
	unsigned extra = st(c)->given & ~allowed & ~F(O_VIRT_TYPE);
	size_t i;

	if (!extra)
		return CLI_OK;
	for (i = 0; longopts[i].name; i++)
		if (longopts[i].val >= O_VIRT_TYPE && (extra & F(longopts[i].val)))
			return cli_usage(c, "%s does not take --%s", cmd, longopts[i].name);
	return cli_usage(c, "%s: unexpected option", cmd);
}

/* The configuration (file, environment, flags) and the libvirt context. */
static int virt(struct cli *c, struct cyris_virt **ret)
{
	struct state *s = st(c);
	struct cyris_error err;
	int r;

	if (!s->v) {
		if (!s->conf && !(s->conf = cyris_conf_new()))
			return cli_err(c, -ENOMEM, "configuration");
		r = cyris_conf_load(s->conf, &err);
		if (r == 0 && s->uri)
			r = cyris_conf_set(s->conf, "libvirt_uri", s->uri, &err);
		if (r == 0 && s->virt_type)
			r = cyris_conf_set(s->conf, "virt_type", s->virt_type, &err);
		if (r < 0)
			return cli_usage(c, "%s", err.msg);
		r = cyris_virt_new(s->conf, &s->v);
		if (r == 0)
			r = cyris_virt_set_netns(s->v, c->netns);
		if (r < 0)
			return cli_err(c, r, "libvirt");
	}
	*ret = s->v;
	return CLI_OK;
}

/* "OBJ: what failed (libvirt: libvirt's message)", strerror(-err) when cyris
 * did not say what failed */
static int fail(struct cli *c, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct cli *c, int err, const char *fmt, ...)
{
	const struct cyris_error *e = cyris_virt_error(st(c)->v);
	struct cyris_error x;
	char obj[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(obj, sizeof(obj), fmt, ap);
	va_end(ap);
	if (e && e->msg[0]) {
		x = *e;
	} else {
		cyris_error_set(&x, err, "%s", err == -ENOENT && !(e && e->detail[0])
				? "no such domain" : strerror(-err));
		if (e && e->detail[0])
			cyris_error_detail(&x, e->source, "%s", e->detail);
	}
	return cli_failf(c, &x, "%s", obj);
}

/* ---- output ---- */

static void print_time(char buf[32], time_t t)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void json_vm_body(struct json *j, const struct cyris_vm_info *vm)
{
	char buf[64];
	size_t i;

	json_str(j, "vm_id", vm->g.vm_id);
	json_str(j, "vm_name", vm->g.vm_name);
	json_str(j, "status", cyris_vm_status_str(vm->g.status));
	json_str(j, "ip_address", vm->g.ip.family ? cyris_ip_format(&vm->g.ip, buf, sizeof(buf)) : NULL);
	json_str(j, "ip_source", vm->g.ip_source[0] ? vm->g.ip_source : NULL);
	json_str(j, "provider", vm->g.provider);
	if (vm->g.created_at) {
		print_time(buf, vm->g.created_at);
		json_str(j, "created_at", buf);
	} else {
		json_null(j, "created_at");
	}
	json_arr_open(j, "macs");
	for (i = 0; i < vm->g.n_macs; i++)
		json_str(j, NULL, cyris_mac_format(vm->g.macs[i], buf));
	json_arr_close(j);
	if (vm->owned) {
		json_obj_open(j, "metadata");
		json_str(j, "range", vm->g.tag.range[0] ? vm->g.tag.range : NULL);
		if (vm->g.tag.instance)
			json_uint(j, "instance", vm->g.tag.instance);
		else
			json_null(j, "instance");
		json_str(j, "guest", vm->g.tag.guest[0] ? vm->g.tag.guest : NULL);
		json_str(j, "role", vm->g.tag.role);
		json_obj_close(j);
	} else {
		json_null(j, "metadata");
	}
	json_bool(j, "owned", vm->owned);
	json_str(j, "domain_type", vm->domain_type);
	json_uint(j, "memory_mib", vm->memory_mib);
	json_uint(j, "vcpus", vm->vcpus);
	json_str(j, "base", vm->base[0] ? vm->base : NULL);
	json_str(j, "pool", vm->pool[0] ? vm->pool : NULL);
	json_str(j, "overlay", vm->overlay[0] ? vm->overlay : NULL);
	json_str(j, "seed", vm->seed[0] ? vm->seed : NULL);
	json_str(j, "console", vm->console[0] ? vm->console : NULL);
	json_arr_open(j, "nics");
	for (i = 0; i < vm->n_nics; i++) {
		json_obj_open(j, NULL);
		json_str(j, "type", vm->nics[i].network ? "network" : "bridge");
		json_str(j, "source", vm->nics[i].source);
		json_str(j, "mac", cyris_mac_format(vm->nics[i].mac, buf));
		json_str(j, "target", vm->nics[i].target[0] ? vm->nics[i].target : NULL);
		json_obj_close(j);
	}
	json_arr_close(j);
}

/* One VM as a document of its own. */
static void print_vm(struct cli *c, const struct cyris_vm_info *vm)
{
	struct json *j = cli_json(c);

	json_obj_open(j, NULL);
	json_vm_body(j, vm);
	json_obj_close(j);
	json_end(j);
}

static void print_list(struct cli *c, const struct cyris_vm_info *vms, size_t n)
{
	char ip[CYRIS_IPSTRLEN + 20];
	struct json *j;
	size_t i;

	if (!c->json) {
		for (i = 0; i < n; i++) {
			if (vms[i].g.ip.family) {
				char a[CYRIS_IPSTRLEN];

				snprintf(ip, sizeof(ip), "%s (%s)",
					 cyris_ip_format(&vms[i].g.ip, a, sizeof(a)), vms[i].g.ip_source);
			} else {
				snprintf(ip, sizeof(ip), "-");
			}
			printf("%-24s %-10s %-26s range=%s\n", vms[i].g.vm_name,
			       cyris_vm_status_str(vms[i].g.status), ip,
			       vms[i].g.tag.range[0] ? vms[i].g.tag.range : "-");
		}
		return;
	}
	j = cli_json(c);
	json_obj_open(j, NULL);
	json_arr_open(j, "vms");
	for (i = 0; i < n; i++) {
		json_obj_open(j, NULL);
		json_vm_body(j, &vms[i]);
		json_obj_close(j);
	}
	json_arr_close(j);
	json_obj_close(j);
	json_end(j);
}

static void print_addr(struct cli *c, const char *name, const struct cyris_vm_addr *a)
{
	char ip[CYRIS_IPSTRLEN], mac[18];
	struct json *j;

	cyris_ip_format(&a->ip, ip, sizeof(ip));
	if (!c->json) {
		printf("%s %s", ip, a->source);
		if (a->bridge[0])
			printf(" bridge %s", a->bridge);
		if (a->port[0])
			printf(" port %s", a->port);
		putchar('\n');
		return;
	}
	j = cli_json(c);
	json_obj_open(j, NULL);
	json_str(j, "vm_name", name);
	json_str(j, "ip_address", ip);
	if (a->prefix)
		json_uint(j, "prefix", a->prefix);
	else
		json_null(j, "prefix");
	json_str(j, "ip_source", a->source);
	json_str(j, "mac", cyris_mac_format(a->mac, mac));
	json_str(j, "bridge", a->bridge[0] ? a->bridge : NULL);
	json_str(j, "port", a->port[0] ? a->port : NULL);
	json_obj_close(j);
	json_end(j);
}

/* ---- create ---- */

/* BRIDGE[,mac=MAC] or network=NET[,mac=MAC] */
static int parse_nic(struct cli *c, const char *arg, size_t index,
		     struct cyris_guest_nic *n)
{
	char buf[CYRIS_ALTNAMSIZ + 32], *mac, *name = buf;

	if (strlen(arg) >= sizeof(buf))
		return cli_usage(c, "--nic '%s' is too long", arg);
	snprintf(buf, sizeof(buf), "%s", arg);
	snprintf(n->nic, sizeof(n->nic), "eth%u", (unsigned)(index & 0xff));
	mac = strchr(buf, ',');
	if (mac) {
		*mac++ = '\0';
		if (strncmp(mac, "mac=", 4) != 0 || cyris_mac_parse(mac + 4, n->mac) < 0)
			return cli_usage(c, "--nic '%s': expected ',mac=xx:xx:xx:xx:xx:xx'", arg);
		if (n->mac[0] & 1)
			return cli_usage(c, "--nic '%s': a multicast MAC cannot be a NIC's", arg);
	}
	if (strncmp(name, "network=", 8) == 0) {
		name += 8;
		if (!*name || strlen(name) >= sizeof(n->network) || strchr(name, '/'))
			return cli_usage(c, "--nic '%s': not a valid network name", arg);
		snprintf(n->network, sizeof(n->network), "%s", name);
		return CLI_OK;
	}
	if (!*name || strchr(name, '/') || strchr(name, ' ') || strlen(name) >= sizeof(n->bridge))
		return cli_usage(c, "--nic '%s': not a valid bridge name", arg);
	snprintf(n->bridge, sizeof(n->bridge), "%s", name);
	return CLI_OK;
}

/* CIDR[,gw=IP] onto the first NIC */
static int parse_ip(struct cli *c, const char *arg, struct cyris_guest_nic *n)
{
	char buf[128], *gw;

	snprintf(buf, sizeof(buf), "%s", arg);
	gw = strchr(buf, ',');
	if (gw) {
		*gw++ = '\0';
		if (strncmp(gw, "gw=", 3) != 0 || cyris_ip_parse(gw + 3, &n->gateway) < 0)
			return cli_usage(c, "--ip '%s': expected ',gw=IP'", arg);
	}
	if (cyris_prefix_parse(buf, true, &n->addr) < 0)
		return cli_usage(c, "--ip '%s' is not an address with a prefix length (CIDR)", arg);
	if (n->gateway.family && n->gateway.family != n->addr.ip.family)
		return cli_usage(c, "--ip '%s': the gateway is of another family", arg);
	return CLI_OK;
}

/* Public keys, one per line (as in authorized_keys), from each file. */
static int read_keys(struct cli *c, struct cyris_ssh_keys *k)
{
	struct state *s = st(c);
	struct cyris_error err;
	size_t i;

	for (i = 0; i < s->n_keyfiles; i++)
		if (cyris_ssh_keys_load(s->keyfiles[i], k, &err) < 0)
			return cli_usage(c, "--ssh-key %s", err.msg);
	return CLI_OK;
}

/* A local file given relative is made absolute: libvirtd has another cwd. */
static int abs_path(struct cli *c, const char *what, const char *p, char buf[PATH_MAX],
		    const char **ret)
{
	*ret = p;
	if (!p || p[0] == '/')
		return CLI_OK;
	if (!realpath(p, buf))
		return cli_usage(c, "%s %s: %s", what, p, strerror(errno));
	*ret = buf;
	return CLI_OK;
}

static int create_spec(struct cli *c, const char *name, struct cyris_guest_spec *spec,
		       char paths[3][PATH_MAX])
{
	struct state *s = st(c);
	size_t i;
	int r;

	spec->name = name;
	if (s->range)
		snprintf(spec->tag.range, sizeof(spec->tag.range), "%s", s->range);
	snprintf(spec->tag.role, sizeof(spec->tag.role), "guest");
	if (s->guest)
		snprintf(spec->tag.guest, sizeof(spec->tag.guest), "%s", s->guest);
	spec->tag.instance = (unsigned)s->instance;
	spec->memory_mib = (unsigned)s->memory;
	spec->vcpus = (unsigned)s->vcpus;
	spec->cmdline = s->cmdline;
	if ((r = abs_path(c, "--base", s->base, paths[0], &spec->base_image)) ||
	    (r = abs_path(c, "--kernel", s->kernel, paths[1], &spec->kernel)) ||
	    (r = abs_path(c, "--initrd", s->initrd, paths[2], &spec->initrd)))
		return r;
	for (i = 0; i < s->n_nics; i++)
		if ((r = parse_nic(c, s->nics[i], i, &spec->nics[i])))
			return r;
	spec->n_nics = s->n_nics;
	if (s->ip) {
		if (!s->n_nics)
			return cli_usage(c, "--ip needs a --nic");
		if ((r = parse_ip(c, s->ip, &spec->nics[0])))
			return r;
	}
	if ((s->initrd || s->cmdline) && !s->kernel)
		return cli_usage(c, "--initrd and --cmdline need --kernel");
	return CLI_OK;
}

static int check_name(struct cli *c, const char *name)
{
	if (!cyris_vm_name_valid(name))
		return cli_usage(c, "'%s' is not a valid guest name (1-%d of A-Z a-z 0-9 _ . -, "
				 "beginning with a letter or digit)", name, CYRIS_VM_NAME_MAX);
	return CLI_OK;
}

static int cmd_create(struct cli *c, int argc, char **argv)
{
	struct cyris_guest_spec spec = {0};
	char paths[3][PATH_MAX];
	struct cyris_vm_info *info = NULL;
	struct cyris_ssh_keys keys = {0};
	struct cyris_virt *v;
	int r;

	(void)argc;
	if ((r = only(c, "create", CREATE_OPTS)) || (r = check_name(c, argv[0])))
		return r;
	if (!st(c)->base)
		return cli_usage(c, "create needs --base IMAGE");
	if ((r = create_spec(c, argv[0], &spec, paths)) || (r = read_keys(c, &keys)))
		goto out;
	spec.ssh_keys = (const char *const *)keys.v;
	spec.n_ssh_keys = keys.n;
	if ((r = virt(c, &v)))
		goto out;
	/* the guest's record is read back only to be printed */
	info = c->json ? calloc(1, sizeof(*info)) : NULL;
	r = !c->json || info ? cyris_vm_create(v, &spec, info) : -ENOMEM;
	if (r < 0)
		r = fail(c, r, "create %s", argv[0]);
	else if (c->json)
		print_vm(c, info);
out:
	free(info);
	cyris_ssh_keys_free(&keys);
	return r;
}

static int cmd_clone(struct cli *c, int argc, char **argv)
{
	struct cyris_vm_info *info;
	struct cyris_virt *v;
	int r;

	(void)argc;
	if ((r = only(c, "clone", F(O_RANGE))) || (r = check_name(c, argv[1])) ||
	    (r = virt(c, &v)))
		return r;
	info = c->json ? calloc(1, sizeof(*info)) : NULL;
	r = !c->json || info ? cyris_vm_clone(v, argv[0], argv[1], st(c)->range, info) : -ENOMEM;
	if (r < 0)
		r = fail(c, r, "clone %s %s", argv[0], argv[1]);
	else if (c->json)
		print_vm(c, info);
	free(info);
	return r;
}

static int cmd_start(struct cli *c, int argc, char **argv)
{
	struct cyris_virt *v;
	int r;

	(void)argc;
	if ((r = only(c, "start", 0)) || (r = virt(c, &v)))
		return r;
	r = cyris_vm_start(v, argv[0], c->force);
	if (r < 0 && r != -EALREADY)
		return fail(c, r, "start %s", argv[0]);
	return CLI_OK;
}

static int cmd_stop(struct cli *c, int argc, char **argv)
{
	struct state *s = st(c);
	struct cyris_virt *v;
	bool forced = false;
	int r;

	(void)argc;
	if ((r = only(c, "stop", F(O_TIMEOUT))) || (r = virt(c, &v)))
		return r;
	r = cyris_vm_stop(v, argv[0], (unsigned)((s->given & F(O_TIMEOUT) ? s->timeout : 30) * 1000),
			  c->force, &forced);
	if (r < 0 && r != -EALREADY)
		return fail(c, r, "stop %s", argv[0]);
	if (c->json) {
		struct json *j = cli_json(c);

		json_obj_open(j, NULL);
		json_str(j, "vm_name", argv[0]);
		json_bool(j, "was_running", r != -EALREADY);
		json_bool(j, "forced", forced);
		json_obj_close(j);
		json_end(j);
	}
	return CLI_OK;
}

static int cmd_destroy(struct cli *c, int argc, char **argv)
{
	struct state *s = st(c);
	struct cyris_virt *v;
	size_t n = 0;
	int r;

	(void)argv;
	if ((r = only(c, "destroy", F(O_RANGE))))
		return r;
	if ((argc == 1) == (s->range != NULL))
		return cli_usage(c, "destroy takes NAME or --range R");
	if ((r = virt(c, &v)))
		return r;
	if (s->range) {
		r = cyris_vm_destroy_range(v, s->range, &n);
		if (r < 0)
			return fail(c, r, "destroy --range %s", s->range);
	} else {
		r = cyris_vm_destroy(v, argv[0], c->force);
		if (r < 0)
			return fail(c, r, "destroy %s", argv[0]);
		n = 1;
	}
	if (c->json) {
		struct json *j = cli_json(c);

		json_obj_open(j, NULL);
		json_str(j, "range", s->range);
		json_uint(j, "destroyed", n);
		json_obj_close(j);
		json_end(j);
	}
	return CLI_OK;
}

static int cmd_list(struct cli *c, int argc, char **argv)
{
	struct cyris_vm_info *vms = NULL;
	struct cyris_virt *v;
	size_t n = 0;
	int r;

	(void)argc;
	(void)argv;
	if ((r = only(c, "list", F(O_RANGE))) || (r = virt(c, &v)))
		return r;
	r = cyris_vm_list(v, st(c)->range, CYRIS_VM_LIST_IP, &vms, &n);
	if (r < 0)
		return fail(c, r, "list");
	print_list(c, vms, n);
	free(vms);
	return CLI_OK;
}

static int cmd_status(struct cli *c, int argc, char **argv)
{
	struct cyris_vm_info *info;
	struct cyris_virt *v;
	int r;

	(void)argc;
	if ((r = only(c, "status", 0)) || (r = virt(c, &v)))
		return r;
	info = calloc(1, sizeof(*info));
	r = info ? cyris_vm_get(v, argv[0], info) : -ENOMEM;
	if (r < 0) {
		free(info);
		return fail(c, r, "status %s", argv[0]);
	}
	if (c->json)
		print_vm(c, info);
	else
		printf("%s\n", cyris_vm_status_str(info->g.status));
	free(info);
	return CLI_OK;
}

/* On a terminal, a line that counts the seconds. */
static void progress(void *userdata, unsigned elapsed_ms, unsigned timeout_ms)
{
	const char *name = userdata;

	fprintf(stderr, "\rcyris-vm: waiting for the address of %s: %u/%u s ", name,
		elapsed_ms / 1000, timeout_ms / 1000);
	fflush(stderr);
}

static int get_ip(struct cli *c, const char *name, bool wait, unsigned long secs)
{
	struct cyris_vm_addr a;
	struct cyris_virt *v;
	bool tty = isatty(STDERR_FILENO);
	int r;

	if ((r = virt(c, &v)))
		return r;
	if (wait)
		r = cyris_vm_wait_ip(v, name, CYRIS_IP_ALL, (unsigned)(secs * 1000),
				     tty ? progress : NULL, (void *)name, &a);
	else
		r = cyris_vm_ip(v, name, CYRIS_IP_ALL, &a);
	if (wait && tty)
		fputs("\r\033[K", stderr);
	if (r < 0)
		return fail(c, r, "ip %s", name);
	print_addr(c, name, &a);
	return CLI_OK;
}

static int cmd_ip(struct cli *c, int argc, char **argv)
{
	struct state *s = st(c);
	int r;

	(void)argc;
	if ((r = only(c, "ip", F(O_WAIT))))
		return r;
	return get_ip(c, argv[0], s->given & F(O_WAIT), s->wait);
}

static int cmd_wait_ip(struct cli *c, int argc, char **argv)
{
	struct state *s = st(c);
	int r;

	(void)argc;
	if ((r = only(c, "wait-ip", F(O_TIMEOUT))))
		return r;
	return get_ip(c, argv[0], true, s->given & F(O_TIMEOUT) ? s->timeout : 300);
}

static const struct cli_cmd cmds[] = {
	{ "create", 1, 1, cmd_create },
	{ "clone", 2, 2, cmd_clone },
	{ "start", 1, 1, cmd_start },
	{ "stop", 1, 1, cmd_stop },
	{ "destroy", 0, 1, cmd_destroy },
	{ "list", 0, 0, cmd_list },
	{ "status", 1, 1, cmd_status },
	{ "ip", 1, 1, cmd_ip },
	{ "wait-ip", 1, 1, cmd_wait_ip },
	{ 0 },
};

static const struct cli_ext ext = {
	.shortopts = "c:",
	.longopts = longopts,
	.handle = handle,
	.reset = reset,
};

int main(int argc, char **argv)
{
	struct state s = {0};
	struct cli c = {
		.prog = "cyris-vm",
		.help = help,
		.cmds = cmds,
		.ext = &ext,
		.data = &s,
		.batch_ok = true,
	};
	int r;

	cyris_vm_quiet_libvirt();   /* libvirt's message is reported once, by us */
	r = cli_main(&c, argc, argv);

	cyris_virt_free(s.v);
	cyris_conf_free(s.conf);
	return r;
}
