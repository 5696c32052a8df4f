/* SPDX-License-Identifier: MIT */
/*
 * The "aws" provider: the provider interface (create / destroy / list /
 * status / ip) over EC2. A guest is an instance; its NICs go into the
 * subnets tagged with its range, instance and network (made first by
 * cyris-topo up --provider aws or cyris-aws subnet create), with those
 * networks' security groups. Everything is found again by its tags.
 */
#include "cyris/aws.h"
#include "cyris/check.h"
#include "ec2-priv.h"
#include "../../net/base/util.h"

static struct cyris_ec2 *E(struct cyris_provider *p)
{
	return p->priv;
}

static enum cyris_vm_status status_of(const char *state)
{
	if (streq(state, "pending"))
		return CYRIS_VM_CREATING;
	if (streq(state, "running"))
		return CYRIS_VM_RUNNING;
	if (streq(state, "shutting-down") || streq(state, "terminated"))
		return CYRIS_VM_DESTROYING;
	if (streq(state, "stopping") || streq(state, "stopped"))
		return CYRIS_VM_STOPPED;
	return CYRIS_VM_FAILED;
}

static void info_of(const struct cyris_ec2_instance *in, struct cyris_guest_info *g)
{
	memset(g, 0, sizeof(*g));
	snprintf(g->vm_id, sizeof(g->vm_id), "%s", in->id);
	snprintf(g->vm_name, sizeof(g->vm_name), "%s", in->name);
	snprintf(g->provider, sizeof(g->provider), "aws");
	g->status = status_of(in->state);
	g->ip = in->public_ip.family ? in->public_ip : in->private_ip;
	snprintf(g->ip_source, sizeof(g->ip_source), "%s", in->public_ip.family ? "public" : "private");
	snprintf(g->tag.range, sizeof(g->tag.range), "%s", in->range);
	snprintf(g->tag.guest, sizeof(g->tag.guest), "%s", in->guest);
	snprintf(g->tag.role, sizeof(g->tag.role), "%s", in->role);
	g->tag.instance = in->instance;
}

static int aws_create(struct cyris_provider *p, const struct cyris_guest_spec *spec,
		      struct cyris_guest_info *ret)
{
	struct cyris_ec2_instance_spec s = {
		.name = spec->name,
		.owner = { .range = spec->tag.range, .instance = spec->tag.instance, .guest = spec->tag.guest },
		.role = spec->forwarding ? "gateway" : "guest",
		.image = spec->base_image,
		.ssh_keys = spec->ssh_keys, .n_ssh_keys = spec->n_ssh_keys,
		.hostname = spec->hostname, .forwarding = spec->forwarding,
	};
	struct cyris_ec2_instance in;
	size_t i;
	int r;

	if (spec->n_nics > CYRIS_GUEST_MAX_NICS)
		return -E2BIG;
	for (i = 0; i < spec->n_nics; i++) {
		s.nics[i].subnet = spec->nics[i].net[0] ? spec->nics[i].net : spec->nics[i].network;
		s.nics[i].ip = spec->nics[i].addr.ip;
	}
	s.n_nics = spec->n_nics;
	r = cyris_ec2_instance_create(E(p), &s, &in);
	if (r == 0 && ret)
		info_of(&in, ret);
	return r;
}

static int aws_destroy(struct cyris_provider *p, const char *name, bool force)
{
	return cyris_ec2_instance_terminate(E(p), name, force);
}

static int aws_list(struct cyris_provider *p, const char *range, struct cyris_guest_info **ret, size_t *ret_n)
{
	struct cyris_ec2_instance *v = NULL;
	struct cyris_guest_info *out;
	size_t n = 0, i;
	int r = cyris_ec2_instance_list(E(p), range, &v, &n);

	if (r < 0)
		return r;
	out = calloc(n ? n : 1, sizeof(*out));
	if (!out) {
		free(v);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++)
		info_of(&v[i], &out[i]);
	free(v);
	*ret = out;
	*ret_n = n;
	return 0;
}

static int aws_status(struct cyris_provider *p, const char *name, enum cyris_vm_status *ret)
{
	struct cyris_ec2_instance in;
	int r = cyris_ec2_instance_get(E(p), name, &in);

	if (r == 0)
		*ret = status_of(in.state);
	return r;
}

static int aws_ip(struct cyris_provider *p, const char *name, struct cyris_guest_info *ret)
{
	struct cyris_ec2_instance in;
	int r = cyris_ec2_instance_get(E(p), name, &in);

	if (r < 0)
		return r;
	info_of(&in, ret);
	return ret->ip.family ? 0 : -ENOENT;
}

static void aws_free(struct cyris_provider *p)
{
	cyris_ec2_free(E(p));
	p->priv = NULL;
}

static const struct cyris_error *aws_err(struct cyris_provider *p)
{
	return cyris_ec2_error(E(p));
}

static const struct cyris_provider_ops aws_ops = {
	.name = "aws",
	.create = aws_create,
	.destroy = aws_destroy,
	.list = aws_list,
	.status = aws_status,
	.ip = aws_ip,
	.free = aws_free,
	.error = aws_err,
};

int cyris_provider_aws_new(struct cyris_provider *p)
{
	struct cyris_ec2 *e = NULL;
	int r;

	if (!p || !p->conf)
		return -EINVAL;
	r = cyris_ec2_open(p->conf, NULL, &e, NULL);
	if (r < 0)
		return r;
	p->ops = &aws_ops;
	p->priv = e;
	return 0;
}

const struct cyris_provider_def cyris_provider_def_aws = {
	.name = "aws",
	.init = cyris_provider_aws_new,
	.checks = aws_checks,
};
