/* SPDX-License-Identifier: MIT */
/*
 * The "libvirt" provider: the provider interface (create / destroy / list /
 * status / ip) over the libvirt driver. A guest is a QEMU/KVM domain on the
 * range's bridges; p->netns is where those bridges are, for the
 * neighbour-table address lookup.
 */
#include "cyris/provider.h"
#include "vm-priv.h"

static struct cyris_virt *V(struct cyris_provider *p)
{
	return p->priv;
}

static int lv_create(struct cyris_provider *p, const struct cyris_guest_spec *spec,
		     struct cyris_guest_info *ret)
{
	_cleanup_free_ struct cyris_vm_info *info = NULL;
	int r;

	if (!ret)
		return cyris_vm_create(V(p), spec, NULL);
	info = calloc(1, sizeof(*info));
	if (!info)
		return -ENOMEM;
	r = cyris_vm_create(V(p), spec, info);
	if (r == 0)
		*ret = info->g;
	return r;
}

static int lv_destroy(struct cyris_provider *p, const char *name, bool force)
{
	return cyris_vm_destroy(V(p), name, force);
}

static int lv_list(struct cyris_provider *p, const char *range,
		   struct cyris_guest_info **ret, size_t *ret_n)
{
	struct cyris_vm_info *vms = NULL;
	struct cyris_guest_info *out;
	size_t n = 0, i;
	int r = cyris_vm_list(V(p), range, CYRIS_VM_LIST_IP, &vms, &n);

	if (r < 0)
		return r;
	out = calloc(n ? n : 1, sizeof(*out));
	if (!out) {
		free(vms);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++)
		out[i] = vms[i].g;
	free(vms);
	*ret = out;
	*ret_n = n;
	return 0;
}

static int lv_status(struct cyris_provider *p, const char *name,
		     enum cyris_vm_status *ret)
{
	return cyris_vm_status(V(p), name, ret);
}

static int lv_ip(struct cyris_provider *p, const char *name,
		 struct cyris_guest_info *ret)
{
	struct cyris_vm_addr a;
	int r = cyris_vm_ip(V(p), name, CYRIS_IP_ALL, &a);

	if (r == -EADDRNOTAVAIL)
		return -ENOENT;
	if (r < 0)
		return r;
	snprintf(ret->vm_name, sizeof(ret->vm_name), "%s", name);
	snprintf(ret->provider, sizeof(ret->provider), "libvirt");
	ret->ip = a.ip;
	snprintf(ret->ip_source, sizeof(ret->ip_source), "%s", a.source);
	return 0;
}

static void lv_free(struct cyris_provider *p)
{
	cyris_virt_free(V(p));
	p->priv = NULL;
}

static const struct cyris_error *lv_error(struct cyris_provider *p)
{
	return cyris_virt_error(V(p));
}

static const struct cyris_provider_ops libvirt_ops = {
	.name = "libvirt",
	.create = lv_create,
	.destroy = lv_destroy,
	.list = lv_list,
	.status = lv_status,
	.ip = lv_ip,
	.free = lv_free,
	.error = lv_error,
};

int cyris_provider_libvirt_new(struct cyris_provider *p)
{
	struct cyris_virt *v = NULL;
	int r;

	if (!p || !p->conf)
		return -EINVAL;
	r = cyris_virt_new(p->conf, &v);
	if (r < 0)
		return r;
	r = cyris_virt_set_netns(v, p->netns);
	if (r == 0 && p->probe) {
		/* one attempt: no libvirtd here is an answer, not a wait */
		cyris_virt_set_retry(v, 1, 1);
		r = cyris_virt_connect(v);
		cyris_virt_set_retry(v, CYRIS_VIRT_ATTEMPTS, CYRIS_VIRT_FIRST_MS);
	}
	if (r < 0) {
		cyris_virt_free(v);
		return r;
	}
	p->ops = &libvirt_ops;
	p->priv = v;
	return 0;
}

const struct cyris_provider_def cyris_provider_def_libvirt = {
	.name = "libvirt",
	.init = cyris_provider_libvirt_new,
	.checks = vm_checks,
};
