/* SPDX-License-Identifier: MIT */
/*
 * A plan on EC2: per (range, instance) a VPC covering its networks, a
 * subnet and a security group per network, an instance per guest with one
 * ENI per NIC at the plan's address; a gateway guest without source/dest
 * check and route tables through its ENIs; entry points behind an internet
 * gateway and an Elastic IP with port 22 open to one CIDR. Everything is
 * checked before the first change; the first failure removes everything
 * tagged with the range again.
 */
#include <arpa/inet.h>

#include "cyris/fw.h"
#include "ec2-priv.h"
#include "../../net/base/util.h"

struct up_net {
	char subnet[CYRIS_AWS_IDSIZ], sg[CYRIS_AWS_IDSIZ], rt[CYRIS_AWS_IDSIZ];
	struct ec2_perms in;              /* ingress beyond its own subnet */
};

struct up_guest {
	char image[CYRIS_AWS_IDSIZ];
	bool own;                         /* a group of its own (entry point, a rule's /32) */
	char sg[CYRIS_AWS_IDSIZ];
	struct ec2_perms in;
	struct cyris_ec2_instance inst;
};

struct up {
	struct cyris_ec2 *e;
	const struct cyris_plan *p;
	const struct cyris_ec2_up_opts *o;
	struct up_net *nets;
	struct up_guest *guests;
	struct cyris_prefix ssh_from;
	char key_name[96];
};

static const char *file_of(const struct up *u)
{
	return u->o->file ? u->o->file : "range";
}

/* The guest and NIC of plan address @ip in instance @inst, or -1. */
static int guest_at(const struct cyris_plan *p, unsigned inst, const struct cyris_ip *ip, size_t *ret_nic)
{
	size_t i, k;

	for (i = 0; i < p->n_guests; i++) {
		if (p->guests[i].instance != inst)
			continue;
		for (k = 0; k < p->guests[i].n_nics; k++)
			if (cyris_ip_equal(&p->guests[i].nics[k].addr.ip, ip)) {
				if (ret_nic)
					*ret_nic = k;
				return (int)i;
			}
	}
	return -1;
}

static int net_of(const struct cyris_plan *p, unsigned inst, const struct cyris_prefix *pre)
{
	size_t i;

	for (i = 0; i < p->n_nets; i++)
		if (p->nets[i].instance == inst && p->nets[i].subnet.len == pre->len &&
		    cyris_prefix_contains(&p->nets[i].subnet, &pre->ip))
			return (int)i;
	return -1;
}

/* A rule's sources, with members moved off AWS's reserved addresses. */
static void move_members(const struct cyris_plan *p, unsigned inst, struct cyris_fw_rule *fr)
{
	size_t i, k;

	for (i = 0; i < fr->n_src; i++) {
		int g;

		if (!fr->src[i].is_prefix || fr->src[i].prefix.len != 32 ||
		    (g = guest_at(p, inst, &fr->src[i].prefix.ip, &k)) < 0)
			continue;
		fr->src[i].prefix.ip = ec2_addr(&p->nets[p->guests[g].nics[k].net].subnet, &fr->src[i].prefix.ip);
	}
}

static int vpc_prefix(struct up *u, unsigned inst, struct cyris_prefix *ret);

/* Rule @pr as ingress on the groups of its destinations. */
static int compile_rule(struct up *u, const struct cyris_plan_rule *pr)
{
	const struct cyris_plan *p = u->p;
	struct cyris_fw_rule fr = pr->fw;
	struct ec2_perms perms = { 0 };
	struct cyris_prefix vp;
	char vc[CYRIS_PREFIXSTRLEN] = "";
	bool self = false;
	size_t i, j;
	int r;

	/* the entry point's own port: opened to --ssh-from instead */
	if (!pr->mark.line && streq(pr->orig, "entry_point: yes"))
		return 0;
	move_members(p, pr->instance, &fr);
	/* dst=host of a rule a gateway guest enforces: into that guest */
	for (i = 0; pr->at >= 0 && i < fr.n_dst; i++)
		if (fr.dst[i].is_host)
			fr.dst[i].is_host = false, self = true;
	/* a rule without src: from the range's VPC (its networks) */
	if (!fr.n_src) {
		if ((r = vpc_prefix(u, pr->instance, &vp)) < 0)
			goto out;
		cyris_prefix_format(&vp, vc, sizeof(vc));
	}
	if ((r = ec2_rule_perms(u->e, &fr, vc, &perms)) < 0)
		goto bad;
	for (i = 0; i < (fr.n_dst ? fr.n_dst : p->n_nets); i++) {
		struct ec2_perms *to = NULL;
		int n, g;

		if (fr.n_dst && !fr.dst[i].is_prefix && self) {
			u->guests[pr->at].own = true;
			to = &u->guests[pr->at].in;
		} else if (!fr.n_dst) {
			if (p->nets[i].instance == pr->instance)
				to = &u->nets[i].in;
		} else if (fr.dst[i].is_prefix && (n = net_of(p, pr->instance, &fr.dst[i].prefix)) >= 0) {
			to = &u->nets[n].in;
		} else if (fr.dst[i].is_prefix && fr.dst[i].prefix.len == 32 &&
			   (g = guest_at(p, pr->instance, &fr.dst[i].prefix.ip, NULL)) >= 0) {
			u->guests[g].own = true;
			to = &u->guests[g].in;
		} else {
			r = ec2_fail(u->e, -EINVAL, "destination '%s' is neither a network nor a member of one",
				     fr.dst[i].name);
			goto bad;
		}
		for (j = 0; to && j < perms.n; j++)
			if ((r = ec2_perm_add(to, perms.v[j].proto, perms.v[j].from, perms.v[j].to,
					      perms.v[j].cidr)) < 0)
				goto out;
	}
	r = 0;
	goto out;
bad:
	if (r == -EINVAL) {
		char msg[CYRIS_ERROR_MSG_MAX];

		snprintf(msg, sizeof(msg), "%s", u->e->err.msg);
		r = ec2_fail(u->e, -EINVAL, "%s:%u:%u: rule '%s': on AWS: %s", file_of(u), pr->mark.line,
			     pr->mark.column, pr->orig, msg);
	}
out:
	free(perms.v);
	return r;
}

/* Everything that can be refused, before anything is made. */
static int check(struct up *u)
{
	const struct cyris_plan *p = u->p;
	struct cyris_ec2 *e = u->e;
	size_t i, j;
	int r;

	for (i = 0; i < p->n_nets; i++)
		if (p->nets[i].subnet.ip.family != AF_INET || p->nets[i].subnet.len < 16 || p->nets[i].subnet.len > 28)
			return ec2_fail(e, -EINVAL, "network %s: an EC2 subnet is IPv4, /16 to /28", p->nets[i].name);
	for (i = 0; i < p->n_guests; i++) {
		const struct cyris_plan_guest *g = &p->guests[i];
		const struct cyris_range_guestdef *d = g->def;

		if (g->entry_point) {
			if (!u->o->ssh_from)
				return ec2_fail(e, -EINVAL, "%s:%u:%u: guest %s is an entry point: on AWS its port 22 "
						"opens only to a configured source CIDR, and none was given (--ssh-from CIDR)",
						file_of(u), d ? d->mark.line : 0, d ? d->mark.column : 0, g->guest_id);
			u->guests[i].own = true;
		}
		if (g->n_nics == 0)
			return ec2_fail(e, -EINVAL, "guest %s: no NIC: an EC2 instance needs a subnet", g->tag_guest);
		/* one image lookup per guest definition */
		for (j = 0; j < i; j++)
			if (p->guests[j].def == d) {
				memcpy(u->guests[i].image, u->guests[j].image, CYRIS_AWS_IDSIZ);
				break;
			}
		if (j < i)
			continue;
		if ((d && strncmp(d->image, "ami-", 4) == 0) || (u->o->image && !(d && d->basevm_os_type[0] &&
									   streq(d->basevm_type, "aws")))) {
			const char *ami = d && strncmp(d->image, "ami-", 4) == 0 ? d->image : u->o->image;

			if (cyris_strlcpy(u->guests[i].image, ami, CYRIS_AWS_IDSIZ) < 0 || strncmp(ami, "ami-", 4))
				return ec2_fail(e, -EINVAL, "%s:%u:%u: image '%s' is not an AMI id", file_of(u),
						d ? d->mark.line : 0, d ? d->mark.column : 0, ami);
			/* one lookup per AMI */
			for (j = 0; j < i && !streq(u->guests[j].image, ami); j++)
				;
			if (j == i && (r = ec2_image_check(e, ami)) < 0)
				return r;
		} else if (d && d->basevm_os_type[0]) {
			if ((r = cyris_ec2_image_resolve(e, d->basevm_os_type, u->guests[i].image)) < 0)
				return r;
		} else {
			return ec2_fail(e, -EINVAL, "%s:%u:%u: guest %s: no image for AWS (image: ami-..., or "
					"basevm_type: aws with basevm_os_type)", file_of(u), d ? d->mark.line : 0,
					d ? d->mark.column : 0, g->guest_id);
		}
	}
	if (u->o->ssh_from && (cyris_prefix_parse(u->o->ssh_from, true, &u->ssh_from) < 0 ||
			       u->ssh_from.ip.family != AF_INET))
		return ec2_fail(e, -EINVAL, "--ssh-from '%s' is not an IPv4 CIDR", u->o->ssh_from);
	for (i = 0; i < p->n_rules; i++)
		if ((r = compile_rule(u, &p->rules[i])) < 0)
			return r;
	{
		char id[CYRIS_AWS_IDSIZ];

		for (i = 1; i <= p->instances; i++) {
			r = ec2_find_tagged(e, "DescribeVpcs", "vpcSet", "vpcId", p->range, (unsigned)i, NULL, id);
			if (r == 0 || r == -ENOTUNIQ)
				return ec2_fail(e, -EEXIST, "range %s is already on AWS (VPC %s); cyris-topo down %s first",
						p->range, r == 0 ? id : "(several)", p->range);
			if (r != -ENOENT)
				return r;
		}
	}
	return 0;
}

/* The smallest prefix covering the networks of @inst. */
static int vpc_prefix(struct up *u, unsigned inst, struct cyris_prefix *ret)
{
	const struct cyris_plan *p = u->p;
	bool any = false;
	size_t i;

	for (i = 0; i < p->n_nets; i++) {
		if (p->nets[i].instance != inst)
			continue;
		if (!any) {
			*ret = cyris_prefix_network(&p->nets[i].subnet);
			any = true;
		}
		while (ret->len > 0 && !(cyris_prefix_contains(ret, &p->nets[i].subnet.ip) &&
					 ret->len <= p->nets[i].subnet.len)) {
			ret->len--;
			*ret = cyris_prefix_network(ret);
		}
	}
	if (!any)
		return ec2_fail(u->e, -EINVAL, "instance %u has no network", inst);
	if (ret->len < 16)
		return ec2_fail(u->e, -EINVAL, "the networks of instance %u span more than a /16, which one VPC "
				"cannot hold", inst);
	return 0;
}

static int make_subnet(struct up *u, size_t i, const char *vpc, char *az, size_t azsize)
{
	const struct cyris_plan_net *n = &u->p->nets[i];
	struct ec2_tags t = { .range = u->p->range, .instance = n->instance, .net = n->name, .role = "subnet" };
	struct ec2_made m = { .describe = "DescribeSubnets", .set = "subnetSet", .idname = "subnetId", .tags = &t };
	struct aws_query q = { 0 };
	char c[CYRIS_PREFIXSTRLEN], name[128];
	xmlDoc *d = NULL;
	xmlNode *s;
	int r;

	cyris_prefix_format(&n->subnet, c, sizeof(c));
	snprintf(name, sizeof(name), "cyris-%s-i%u-%s", u->p->range, n->instance, n->name);
	t.name = name;
	if ((r = aws_query_add(&q, "VpcId", vpc)) >= 0 && (r = aws_query_add(&q, "CidrBlock", c)) >= 0 &&
	    (!az[0] || (r = aws_query_add(&q, "AvailabilityZone", az)) >= 0) &&
	    (r = ec2_q_tags(&q, 1, "subnet", &t)) >= 0 &&
	    (r = ec2_do_create(u->e, "CreateSubnet", &q, &d, &m, "create-subnet %s %s", n->name, c)) >= 0) {
		/* (r 1: made after all, its answer lost: the item found) */
		s = r == 1 ? m.item : aws_xml_find(xmlDocGetRootElement(d), "subnet");
		if (!s || ec2_kid_copy(s, "subnetId", u->nets[i].subnet, CYRIS_AWS_IDSIZ) < 0)
			r = ec2_fail(u->e, -EPROTO, "create-subnet %s: the answer has no subnetId", n->name);
		else if (!az[0])
			/* every NIC of an instance is in one zone: all subnets there */
			ec2_kid_copy(s, "availabilityZone", az, azsize);
	}
	ec2_made_free(&m);
	xmlFreeDoc(d);
	aws_query_free(&q);
	return r < 0 ? r : 0;
}

/* Requests of one level of up, sent at once (ec2_do_level); a fuller
 * level is sent in pieces of LEVEL_MAX. */
#define LEVEL_MAX 32
struct level {
	struct aws_query q[LEVEL_MAX];
	struct aws_req rq[LEVEL_MAX];
	char what[LEVEL_MAX][200];
	const char *whatp[LEVEL_MAX];
	size_t n;
};

/* The next request of @l (its query to fill), or NULL when it is full:
 * then the caller sends what it has and starts again. */
static struct aws_query *level_add(struct level *l, const char *action, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static struct aws_query *level_add(struct level *l, const char *action, const char *fmt, ...)
{
	va_list ap;
	size_t i = l->n;

	if (i == ARRAY_SIZE(l->q))
		return NULL;
	l->q[i] = (struct aws_query){ 0 };
	l->rq[i] = (struct aws_req){ .action = action, .q = &l->q[i] };
	va_start(ap, fmt);
	vsnprintf(l->what[i], sizeof(l->what[i]), fmt, ap);
	va_end(ap);
	l->whatp[i] = l->what[i];
	l->n++;
	return &l->q[i];
}

static void level_free(struct level *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		xmlFreeDoc(l->rq[i].doc);
		aws_query_free(&l->q[i]);
	}
	l->n = 0;
}

static int level_send(struct up *u, struct level *l)
{
	int r = l->n ? ec2_do_level(u->e, l->rq, l->n, l->whatp) : 0;

	level_free(l);
	return r;
}

/* Route tables: a network whose gateway is a guest sends the instance's
 * other networks through that guest's ENI on it; the entry points'
 * networks send everything else to the internet gateway. The tables are
 * made one by one; their routes and associations then go out at once. */
static int route_add(struct up *u, struct level *l, const char *action, const char *what, const char *k1,
		     const char *v1, const char *k2, const char *v2, const char *k3, const char *v3)
{
	struct aws_query *q = level_add(l, action, "%s", what);
	int r;

	if (!q) {
		if ((r = level_send(u, l)) < 0)
			return r;
		q = level_add(l, action, "%s", what);
	}
	if ((r = aws_query_add(q, k1, v1)) >= 0 && (r = aws_query_add(q, k2, v2)) >= 0 &&
	    (!k3 || (r = aws_query_add(q, k3, v3)) >= 0))
		return 0;
	return ec2_fail(u->e, r, "%s: %s", what, strerror(-r));
}

static int routes(struct up *u, unsigned inst, const char *vpc, const char *igw)
{
	const struct cyris_plan *p = u->p;
	_cleanup_free_ struct level *l = calloc(1, sizeof(*l));
	size_t i, m, k;
	int r = 0;

	if (!l)
		return ec2_fail(u->e, -ENOMEM, "create-route-table: %s", strerror(ENOMEM));
	for (i = 0; i < p->n_nets && r >= 0; i++) {
		const struct cyris_plan_net *n = &p->nets[i];
		struct ec2_tags t = { .range = p->range, .instance = inst, .net = n->name, .role = "route-table" };
		struct ec2_made rm = { .describe = "DescribeRouteTables", .set = "routeTableSet",
				       .idname = "routeTableId", .tags = &t };
		bool entry = false, gw = n->gw_guest >= 0;
		const char *eni = NULL;
		struct aws_query q = { 0 };
		char c[CYRIS_PREFIXSTRLEN];

		if (n->instance != inst)
			continue;
		for (k = 0; k < p->n_guests; k++)
			if (p->guests[k].instance == inst && p->guests[k].entry_point && p->guests[k].n_nics &&
			    p->guests[k].nics[0].net == (int)i)
				entry = true;
		if (gw) {
			const struct cyris_plan_guest *g = &p->guests[n->gw_guest];

			for (k = 0; k < g->n_nics; k++)
				if (g->nics[k].net == (int)i)
					eni = u->guests[n->gw_guest].inst.enis[k];
			gw = eni && eni[0];
		}
		if (!gw && !(entry && igw))
			continue;
		r = ec2_q_tags(&q, 1, "route-table", &t);
		if (r >= 0)
			r = aws_query_add(&q, "VpcId", vpc);
		if (r >= 0)
			r = ec2_make_id(u->e, "CreateRouteTable", &q, &rm, "routeTable", "routeTableId", u->nets[i].rt,
					"create-route-table");
		aws_query_free(&q);
		for (m = 0; r >= 0 && gw && m < p->n_nets; m++) {
			if (m == i || p->nets[m].instance != inst)
				continue;
			cyris_prefix_format(&p->nets[m].subnet, c, sizeof(c));
			r = route_add(u, l, "CreateRoute", "create-route via the gateway guest", "RouteTableId",
				      u->nets[i].rt, "DestinationCidrBlock", c, "NetworkInterfaceId", eni);
		}
		if (r >= 0 && entry && igw)
			r = route_add(u, l, "CreateRoute", "create-route to the internet gateway", "RouteTableId",
				      u->nets[i].rt, "DestinationCidrBlock", "0.0.0.0/0", "GatewayId", igw);
		if (r >= 0)
			r = route_add(u, l, "AssociateRouteTable", "associate-route-table", "RouteTableId", u->nets[i].rt,
				      "SubnetId", u->nets[i].subnet, NULL, NULL);
	}
	if (r >= 0)
		return level_send(u, l);
	level_free(l);
	return r;
}

static int make_guest(struct up *u, size_t gi)
{
	const struct cyris_plan *p = u->p;
	const struct cyris_plan_guest *g = &p->guests[gi];
	struct up_guest *ug = &u->guests[gi];
	struct cyris_ec2_instance_spec s = {
		.name = g->name, .owner = { .range = p->range, .instance = g->instance, .guest = g->tag_guest },
		.role = g->gateway ? "gateway" : g->entry_point ? "entry" : "guest",
		.image = ug->image, .type = u->o->type, .key_name = u->key_name[0] ? u->key_name : NULL,
		.ssh_keys = u->o->ssh_keys, .n_ssh_keys = u->o->n_ssh_keys, .forwarding = g->gateway,
	};
	const char *groups[CYRIS_GUEST_MAX_NICS][2];
	char host[CYRIS_GUEST_NAMSIZ], *x;
	size_t k;

	snprintf(host, sizeof(host), "%s", g->name);
	for (x = host; *x; x++)
		if (*x == '.' || *x == '_')
			*x = '-';
	s.hostname = host;
	for (k = 0; k < g->n_nics && k < CYRIS_GUEST_MAX_NICS; k++) {
		const struct up_net *un = &u->nets[g->nics[k].net];

		s.nics[k].subnet = un->subnet;
		s.nics[k].ip = ec2_addr(&p->nets[g->nics[k].net].subnet, &g->nics[k].addr.ip);
		groups[k][0] = un->sg;
		groups[k][1] = ug->sg;
		s.nics[k].groups = groups[k];
		s.nics[k].n_groups = ug->own ? 2 : 1;
	}
	s.n_nics = k;
	return cyris_ec2_instance_create(u->e, &s, &ug->inst);
}

static int entry(struct up *u, size_t gi)
{
	const struct cyris_plan *p = u->p;
	const struct cyris_plan_guest *g = &p->guests[gi];
	struct ec2_tags t = { .range = p->range, .instance = g->instance, .guest = g->tag_guest, .role = "entry",
			      .name = g->name };
	struct ec2_made m = { .describe = "DescribeAddresses", .set = "addressesSet", .idname = "allocationId",
			      .tags = &t };
	struct aws_query q = { 0 };
	char alloc[CYRIS_AWS_IDSIZ];
	int r;

	if ((r = aws_query_add(&q, "Domain", "vpc")) >= 0 && (r = ec2_q_tags(&q, 1, "elastic-ip", &t)) >= 0)
		r = ec2_make_id(u->e, "AllocateAddress", &q, &m, NULL, "allocationId", alloc, "allocate-address");
	aws_query_free(&q);
	if (r < 0)
		return r;
	return ec2_simple_do(u->e, "AssociateAddress", "associate-address", "AllocationId", alloc,
			     "NetworkInterfaceId", u->guests[gi].inst.enis[0], NULL, NULL);
}

/*
 * The rules of every group of @inst (the networks', the guests' own), made
 * before: one level, all at once, since none depends on another: first the
 * revokes of AWS's default allow-all egress, then the egress kept (the
 * VPC, @vc), then the ingress rules, one call per group each. Nothing is
 * attached to a group before the level is answered in full, and a failure
 * of any request fails up, which then removes every group again.
 */
static int group_rules(struct up *u, unsigned inst, const char *vc)
{
	static const char *const what[3] = { "revoke-security-group-egress", "authorize-security-group-egress",
					     "authorize-security-group-ingress" };
	static const char *const action[3] = { "RevokeSecurityGroupEgress", "AuthorizeSecurityGroupEgress",
					       "AuthorizeSecurityGroupIngress" };
	const struct cyris_plan *p = u->p;
	_cleanup_free_ struct level *l = calloc(1, sizeof(*l));
	size_t i, n = p->n_nets + p->n_guests;
	unsigned k;
	int r = 0;

	if (!l)
		return ec2_fail(u->e, -ENOMEM, "authorize-security-group-ingress: %s", strerror(ENOMEM));
	for (k = 0; k < 3 && r >= 0; k++)
		for (i = 0; i < n && r >= 0; i++) {
			bool net = i < p->n_nets;
			const struct ec2_perms *in = net ? &u->nets[i].in : &u->guests[i - p->n_nets].in;
			const char *sg = net ? u->nets[i].sg : u->guests[i - p->n_nets].sg;
			unsigned at = net ? p->nets[i].instance : p->guests[i - p->n_nets].instance;
			struct aws_query *q, other;

			if (at != inst || !sg[0] || (k == 2 && !in->n))
				continue;
			q = level_add(l, action[k], "%s cyris-%s-i%u-%s", what[k], p->range, inst,
				      net ? p->nets[i].name : p->guests[i - p->n_nets].tag_guest);
			if (!q && (r = level_send(u, l)) >= 0) {
				i--;
				continue;
			}
			if (!q)
				break;
			if (k == 2)
				r = ec2_authorize_query(sg, in, q);
			else if ((r = ec2_sg_egress_queries(sg, vc, k ? &other : q, k ? q : &other)) >= 0)
				aws_query_free(&other);
			if (r < 0)
				ec2_fail(u->e, r, "%s: %s", what[k], strerror(-r));
		}
	if (r >= 0)
		return level_send(u, l);
	level_free(l);
	return r;
}

static int build_instance(struct up *u, unsigned inst)
{
	const struct cyris_plan *p = u->p;
	struct cyris_ec2_owner w = { .range = p->range, .instance = inst };
	struct cyris_prefix vp;
	char vpc[CYRIS_AWS_IDSIZ], vc[CYRIS_PREFIXSTRLEN], sc[CYRIS_PREFIXSTRLEN], az[64] = "",
	     igw[CYRIS_AWS_IDSIZ] = "", name[160];
	bool has_entry = false;
	size_t i;
	int r;

	if ((r = vpc_prefix(u, inst, &vp)) < 0 || (r = cyris_ec2_vpc_create(u->e, &w, &vp, vpc)) < 0)
		return r;
	cyris_prefix_format(&vp, vc, sizeof(vc));
	for (i = 0; i < p->n_nets; i++)
		if (p->nets[i].instance == inst && (r = make_subnet(u, i, vpc, az, sizeof(az))) < 0)
			return r;
	for (i = 0; i < p->n_nets; i++) {
		if (p->nets[i].instance != inst)
			continue;
		w.net = p->nets[i].name;
		snprintf(name, sizeof(name), "cyris-%s-i%u-%s", p->range, inst, p->nets[i].name);
		cyris_prefix_format(&p->nets[i].subnet, sc, sizeof(sc));
		/* its own subnet and the rules' sources in one call */
		if ((r = ec2_perm_add(&u->nets[i].in, "-1", 0, 0, sc)) < 0 ||
		    (r = ec2_sg_new(u->e, &w, name, vpc, u->nets[i].sg)) < 0)
			return r;
	}
	w.net = NULL;
	for (i = 0; i < p->n_guests; i++) {
		const struct cyris_plan_guest *g = &p->guests[i];

		if (g->instance != inst || !u->guests[i].own)
			continue;
		has_entry |= g->entry_point;
		w.guest = g->tag_guest;
		snprintf(name, sizeof(name), "cyris-%s-i%u-%s", p->range, inst, g->tag_guest);
		if (g->entry_point && (r = ec2_perm_add(&u->guests[i].in, "tcp", 22, 22, u->o->ssh_from)) < 0)
			return r;
		if ((r = ec2_sg_new(u->e, &w, name, vpc, u->guests[i].sg)) < 0)
			return r;
	}
	w.guest = NULL;
	/* the groups one after another (a lost answer to a create is looked
	 * up by its tags before a retry: aws_call_create), then their rules */
	if ((r = group_rules(u, inst, vc)) < 0)
		return r;
	if (has_entry) {
		struct ec2_tags t = { .range = p->range, .instance = inst, .role = "internet-gateway" };
		struct ec2_made m = { .describe = "DescribeInternetGateways", .set = "internetGatewaySet",
				      .idname = "internetGatewayId", .tags = &t };
		struct aws_query q = { 0 };

		snprintf(name, sizeof(name), "cyris-%s-i%u", p->range, inst);
		t.name = name;
		r = ec2_q_tags(&q, 1, "internet-gateway", &t);
		if (r >= 0)
			r = ec2_make_id(u->e, "CreateInternetGateway", &q, &m, "internetGateway", "internetGatewayId",
					igw, "create-internet-gateway");
		aws_query_free(&q);
		if (r < 0 || (r = ec2_simple_do(u->e, "AttachInternetGateway", "attach-internet-gateway",
						"InternetGatewayId", igw, "VpcId", vpc, NULL, NULL)) < 0)
			return r;
	}
	for (i = 0; i < p->n_guests; i++)
		if (p->guests[i].instance == inst && (r = make_guest(u, i)) < 0)
			return r;
	if ((r = routes(u, inst, vpc, igw[0] ? igw : NULL)) < 0)
		return r;
	for (i = 0; i < p->n_guests; i++)
		if (p->guests[i].instance == inst && p->guests[i].entry_point && (r = entry(u, i)) < 0)
			return r;
	return 0;
}

static void up_free(struct up *u)
{
	size_t i;

	for (i = 0; u->nets && i < u->p->n_nets; i++)
		free(u->nets[i].in.v);
	for (i = 0; u->guests && i < u->p->n_guests; i++)
		free(u->guests[i].in.v);
	free(u->nets);
	free(u->guests);
}

/* the per-network and per-guest state of one up (or emit) of @u->p */
static int up_init(struct up *u, const char *what, struct cyris_error *err)
{
	const struct cyris_plan *p = u->p;

	cyris_error_clear(&u->e->err);
	u->nets = calloc(p->n_nets ? p->n_nets : 1, sizeof(*u->nets));
	u->guests = calloc(p->n_guests ? p->n_guests : 1, sizeof(*u->guests));
	if (!u->nets || !u->guests) {
		up_free(u);
		return cyris_error_set(err, -ENOMEM, "%s %s: out of memory", what, p->range);
	}
	return 0;
}

int cyris_ec2_up(struct cyris_ec2 *e, const struct cyris_plan *p, const struct cyris_conf *conf,
		 const struct cyris_ec2_up_opts *o, struct cyris_error *err)
{
	static const struct cyris_ec2_up_opts none = { 0 };
	struct up u = { .e = e, .p = p, .o = o ? o : &none };
	struct cyris_error keep;
	bool claimed;
	unsigned inst;
	int r;

	(void)conf;
	if ((r = up_init(&u, "up", err)) < 0)
		return r;
	if ((r = check(&u)) < 0)
		goto out;
	e->fail_at = u.o->fail_at;
	e->changes = 0;
	e->cancel = u.o->cancel;
	e->progress = u.o->progress;
	e->progress_arg = u.o->progress_arg;
	/* first the claim, a key pair of a name unique in the region (with
	 * the range's first key, it is the instances' key pair too): a second
	 * up of the range stops here, having touched nothing */
	r = cyris_ec2_range_claim(e, p->range, u.o->n_ssh_keys ? u.o->ssh_keys[0] : NULL);
	if (r >= 0 && u.o->n_ssh_keys)
		snprintf(u.key_name, sizeof(u.key_name), "cyris-%s", p->range);
	claimed = r >= 0;
	for (inst = 1; r >= 0 && inst <= p->instances; inst++)
		r = build_instance(&u, inst);
	e->fail_at = 0;
	e->cancel = NULL;
	e->progress = NULL;
	if (r < 0 && claimed) {
		/* everything made carries the range's tag: take it all away */
		keep = e->err;
		if (cyris_ec2_destroy(e, p->range, NULL, NULL) < 0) {
			char why[CYRIS_ERROR_MSG_MAX];

			cyris_error_format(&e->err, why, sizeof(why));
			e->err = keep;
			cyris_error_append(&e->err, " (and the rollback failed: %s; cyris-topo down %s removes the rest)",
					   why, p->range);
		} else {
			e->err = keep;
			cyris_error_append(&e->err, " (rolled back: nothing was left)");
		}
	}
out:
	if (r < 0 && err)
		*err = e->err;
	up_free(&u);
	return r < 0 ? r : 0;
}

/* @p's permissions as sg allow lines: one rule per (protocol, ports). */
static void emit_allow(FILE *f, const char *group, const struct ec2_perms *p)
{
	bool *done = calloc(p->n ? p->n : 1, sizeof(*done));
	size_t i, j;

	for (i = 0; done && i < p->n; i++) {
		if (done[i])
			continue;
		fprintf(f, "sg allow %s 'src=", group);
		for (j = i; j < p->n; j++) {
			if (done[j] || !streq(p->v[j].proto, p->v[i].proto) || p->v[j].from != p->v[i].from ||
			    p->v[j].to != p->v[i].to)
				continue;
			fprintf(f, "%s%s", j == i ? "" : ",", p->v[j].cidr);
			done[j] = true;
		}
		if (streq(p->v[i].proto, "icmp"))
			fputs(" proto=icmp", f);
		else if (!streq(p->v[i].proto, "-1") && p->v[i].from == p->v[i].to)
			fprintf(f, " dport=%d proto=%s", p->v[i].from, p->v[i].proto);
		else if (!streq(p->v[i].proto, "-1"))
			fprintf(f, " dport=%d-%d proto=%s", p->v[i].from, p->v[i].to, p->v[i].proto);
		fputs("'\n", f);
	}
	free(done);
}

static void emit_instance(struct up *u, FILE *f, unsigned inst)
{
	const struct cyris_plan *p = u->p;
	struct cyris_prefix vp;
	char b[CYRIS_PREFIXSTRLEN];
	size_t i, k;

	(void)vpc_prefix(u, inst, &vp);
	fprintf(f, "vpc create %s %s --instance %u\n", p->range, cyris_prefix_format(&vp, b, sizeof(b)), inst);
	for (i = 0; i < p->n_nets; i++)
		if (p->nets[i].instance == inst)
			fprintf(f, "subnet create %s %s %s --instance %u\n", p->range, p->nets[i].name,
				cyris_prefix_format(&p->nets[i].subnet, b, sizeof(b)), inst);
	for (i = 0; i < p->n_nets; i++) {
		char name[160];

		if (p->nets[i].instance != inst)
			continue;
		snprintf(name, sizeof(name), "cyris-%s-i%u-%s", p->range, inst, p->nets[i].name);
		fprintf(f, "sg create %s %s --net %s --instance %u\n", p->range, name, p->nets[i].name, inst);
		emit_allow(f, name, &u->nets[i].in);
	}
	for (i = 0; i < p->n_guests; i++) {
		const struct cyris_plan_guest *g = &p->guests[i];
		char name[160];

		if (g->instance != inst || !u->guests[i].own)
			continue;
		snprintf(name, sizeof(name), "cyris-%s-i%u-%s", p->range, inst, g->tag_guest);
		if (g->entry_point)
			(void)ec2_perm_add(&u->guests[i].in, "tcp", 22, 22, u->o->ssh_from);
		fprintf(f, "sg create %s %s --guest %s --instance %u\n", p->range, name, g->tag_guest, inst);
		emit_allow(f, name, &u->guests[i].in);
	}
	for (i = 0; i < p->n_guests; i++) {
		const struct cyris_plan_guest *g = &p->guests[i];

		if (g->instance != inst)
			continue;
		fprintf(f, "instance create %s --range %s --instance %u --guest %s --image %s", g->name, p->range,
			inst, g->tag_guest, u->guests[i].image);
		if (u->o->type)
			fprintf(f, " --type %s", u->o->type);
		if (g->gateway)
			fputs(" --gateway", f);
		if (g->entry_point)
			fputs(" --public", f);
		for (k = 0; k < g->n_nics; k++) {
			struct cyris_ip a = ec2_addr(&p->nets[g->nics[k].net].subnet, &g->nics[k].addr.ip);

			fprintf(f, " --nic %s,ip=%s", p->nets[g->nics[k].net].name, cyris_ip_format(&a, b, sizeof(b)));
			if (u->guests[i].own)
				fprintf(f, ",sg=cyris-%s-i%u-%s", p->range, inst, g->tag_guest);
			if (g->gateway && p->nets[g->nics[k].net].gw_guest == (int)i)
				fputs(",route", f);
		}
		for (k = 0; k < u->o->n_ssh_key_files; k++) {
			fputs(" --ssh-key ", f);
			cyris_fput_word(f, u->o->ssh_key_files[k]);
		}
		fputc('\n', f);
	}
}

int cyris_ec2_emit(struct cyris_ec2 *e, const struct cyris_plan *p, const struct cyris_conf *conf,
		   const struct cyris_ec2_up_opts *o, FILE *f, struct cyris_error *err)
{
	static const struct cyris_ec2_up_opts none = { 0 };
	struct up u = { .e = e, .p = p, .o = o ? o : &none };
	unsigned inst;
	int r;

	(void)conf;
	if ((r = up_init(&u, "emit", err)) < 0)
		return r;
	if ((r = check(&u)) < 0)
		goto out;
	fprintf(f, "# cyris-topo plan --emit aws: range %s on EC2, for cyris-aws -b -\n", p->range);
	/* first the claim, as up takes it: a second build of the range stops there */
	fprintf(f, "claim %s", p->range);
	if (u.o->n_ssh_key_files) {
		fputs(" --ssh-key ", f);
		cyris_fput_word(f, u.o->ssh_key_files[0]);
	}
	fputc('\n', f);
	for (inst = 1; inst <= p->instances; inst++)
		emit_instance(&u, f, inst);
	r = fflush(f) == 0 && !ferror(f) ? 0 : ec2_fail(e, -EIO, "emit %s: cannot write", p->range);
out:
	if (r < 0 && err)
		*err = e->err;
	up_free(&u);
	return r;
}

int cyris_ec2_range_kind(const struct cyris_range *r, bool *ret_aws, struct cyris_error *err)
{
	const struct cyris_range_guestdef *first = NULL;
	size_t i;

	*ret_aws = false;
	for (i = 0; i < r->n_guestdefs; i++) {
		const struct cyris_range_guestdef *g = r->guestdefs[i];
		bool aws = streq(g->basevm_type, "aws");

		if (!first) {
			first = g;
			*ret_aws = aws;
		} else if (aws != *ret_aws) {
			return cyris_error_set(err, -EINVAL, "%s:%u:%u: guest %s is basevm_type %s but guest %s (line %u) "
					       "is %s: one range on both KVM and AWS is not supported", r->file,
					       g->mark.line, g->mark.column, g->id, aws ? "aws" : "kvm", first->id,
					       first->mark.line, *ret_aws ? "aws" : "kvm");
		}
	}
	return 0;
}
