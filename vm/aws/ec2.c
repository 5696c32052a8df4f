/* SPDX-License-Identifier: MIT */
/*
 * EC2 resources, each tagged at creation (TagSpecification, never a second
 * CreateTags a crash could skip), and found again by those tags.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <sys/random.h>
#include <time.h>

#include "cyris/fw.h"
#include "ec2-priv.h"
#include "../../net/base/util.h"

/* ---- the handle ------------------------------------------------------------ */

int cyris_ec2_open(const struct cyris_conf *conf, const struct cyris_ec2_opts *o,
		   struct cyris_ec2 **ret, struct cyris_error *err)
{
	struct aws_opts ao = { 0 };
	struct cyris_ec2 *e;
	int r;

	if (!conf || !ret)
		return -EINVAL;
	if (o) {
		ao.region = o->region;
		ao.endpoint = o->endpoint;
		ao.profile = o->profile;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->conf = conf;
	r = aws_open(conf, &ao, &e->c, err);
	if (r < 0) {
		free(e);
		return r;
	}
	*ret = e;
	return 0;
}

void cyris_ec2_free(struct cyris_ec2 *e)
{
	if (!e)
		return;
	aws_close(e->c);
	free(e);
}

const struct cyris_error *cyris_ec2_error(const struct cyris_ec2 *e)
{
	return e ? &e->err : NULL;
}

unsigned long cyris_ec2_requests(const struct cyris_ec2 *e)
{
	return e ? aws_requests(e->c) : 0;
}

const char *cyris_ec2_endpoint(const struct cyris_ec2 *e)
{
	return aws_endpoint(e->c);
}

int ec2_fail(struct cyris_ec2 *e, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cyris_error_setv(&e->err, code, fmt, ap);
	va_end(ap);
	return code;
}

int ec2_change(struct cyris_ec2 *e, const char *action)
{
	if (e->cancel && *e->cancel)
		return ec2_fail(e, -ECANCELED, "%s: interrupted", action);
	e->changes++;
	if (e->progress)
		e->progress(e->progress_arg, e->changes, action);
	if (e->cancel && *e->cancel)
		return ec2_fail(e, -ECANCELED, "%s: interrupted", action);
	if (e->fail_at && e->changes == e->fail_at)
		return ec2_fail(e, -EIO, "%s: failure injected before change %u (test)", action, e->changes);
	return 0;
}

int ec2_call_failed(struct cyris_ec2 *e, int r, const char *fmt, ...)
{
	const struct cyris_error *ae = aws_error(e->c);
	va_list ap;

	va_start(ap, fmt);
	cyris_error_setv(&e->err, r, fmt, ap);
	va_end(ap);
	if (ae && ae->detail[0])
		cyris_error_detail(&e->err, ae->source, "%s", ae->detail);
	else if (aws_error_text(e->c)[0])
		cyris_error_append(&e->err, ": %s", aws_error_text(e->c));
	return r;
}

static int made_find(void *arg);

static int ec2_callv(struct cyris_ec2 *e, const char *action, const struct aws_query *q, xmlDoc **ret,
		     struct ec2_made *m, const char *fmt, va_list ap)
{
	const struct cyris_error *ae;
	int r = m ? aws_call_create(e->c, action, q, ret, made_find, m) : aws_call(e->c, action, q, ret);

	/* a failed lookup for what a lost answer made: its own error is set */
	if (r >= 0 || (m && m->lookup_failed))
		return r;
	ae = aws_error(e->c);
	cyris_error_setv(&e->err, r, fmt, ap);
	if (ae && ae->detail[0])
		cyris_error_detail(&e->err, ae->source, "%s", ae->detail);
	else if (aws_error_text(e->c)[0])
		cyris_error_append(&e->err, ": %s", aws_error_text(e->c));
	return r;
}

int ec2_call(struct cyris_ec2 *e, const char *action, const struct aws_query *q, xmlDoc **ret,
	     const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = ec2_callv(e, action, q, ret, NULL, fmt, ap);
	va_end(ap);
	return r;
}

int ec2_do(struct cyris_ec2 *e, const char *action, const struct aws_query *q, xmlDoc **ret,
	   const char *fmt, ...)
{
	va_list ap;
	int r = ec2_change(e, action);

	if (r < 0)
		return r;
	va_start(ap, fmt);
	r = ec2_callv(e, action, q, ret, NULL, fmt, ap);
	va_end(ap);
	return r;
}

int ec2_do_create(struct cyris_ec2 *e, const char *action, const struct aws_query *q, xmlDoc **ret,
		  struct ec2_made *m, const char *fmt, ...)
{
	va_list ap;
	int r = ec2_change(e, action);

	if (r < 0)
		return r;
	m->e = e;
	m->lookup_failed = false;
	va_start(ap, fmt);
	r = ec2_callv(e, action, q, ret, m, fmt, ap);
	va_end(ap);
	return r;
}

static int q_filter(struct aws_query *q, unsigned n, const char *name, const char *value);
static int q_live(struct aws_query *q, unsigned n);

/* The items of a Describe answer: @set's, or for instances those of every
 * reservation. */
static int made_items(struct ec2_made *m, xmlDoc *d)
{
	xmlNode *res, *it;
	int n = 0;

	if (streq(m->describe, "DescribeInstances")) {
		ec2_for_items(aws_xml_find(xmlDocGetRootElement(d), "reservationSet"), res)
			ec2_for_items(ec2_kid(res, "instancesSet"), it)
				if (n++ == 0)
					m->item = it;
	} else {
		ec2_for_items(aws_xml_find(xmlDocGetRootElement(d), m->set), it)
			if (n++ == 0)
				m->item = it;
	}
	return n;
}

/* The tags of @t as @k/@v pairs (at most EC2_NTAGS; @inst holds the
 * instance number's text); how many. */
#define EC2_NTAGS 7
static unsigned tag_list(const struct ec2_tags *t, char inst[16], const char *k[EC2_NTAGS],
			 const char *v[EC2_NTAGS])
{
	unsigned n = 0;

	snprintf(inst, 16, "%u", t->instance ? t->instance : 1);
	k[n] = "cyris:range", v[n++] = t->range;
	k[n] = "cyris:instance", v[n++] = inst;
	k[n] = "cyris:role", v[n++] = t->role;
	if (t->net)
		k[n] = "cyris:net", v[n++] = t->net;
	if (t->guest)
		k[n] = "cyris:guest", v[n++] = t->guest;
	if (t->name)
		k[n] = "Name", v[n++] = t->name;
	if (t->claim)
		k[n] = "cyris:claim", v[n++] = t->claim;
	return n;
}

/* A filtered Describe for what the create of @m would have made (an empty
 * answer asked again, a few times: see below): every
 * one of its tags a filter (a live instance only). 1 and m->id when there
 * is one, 0 when there is none. */
static int made_find(void *arg)
{
	struct ec2_made *m = arg;
	const struct ec2_tags *t = m->tags;
	const char *k[EC2_NTAGS], *v[EC2_NTAGS];
	struct aws_query q = { 0 };
	char inst[16], key[64];
	unsigned i, nk;
	xmlDoc *d = NULL;
	int r = 0, n;

	nk = tag_list(t, inst, k, v);
	for (i = 0; r >= 0 && i < nk; i++) {
		snprintf(key, sizeof(key), "tag:%s", k[i]);
		r = q_filter(&q, i + 1, key, v[i]);
	}
	if (r >= 0 && streq(m->describe, "DescribeInstances"))
		r = q_live(&q, nk + 1);
	/* EC2 is eventually consistent: right after a create, a Describe may
	 * not list it yet. An empty answer is asked again after 200, 400 and
	 * 800 ms before it counts as "not made" (best effort: a create seen
	 * later still than that makes a twin; RunInstances' ClientToken is
	 * AWS's own guard there). */
	for (i = 0; r >= 0; i++) {
		static const unsigned wait_ms[] = { 200, 400, 800 };

		r = ec2_call(m->e, m->describe, &q, &d, "%s: looking for what a call whose answer was lost made",
			     m->describe);
		if (r < 0 || (n = made_items(m, d)) != 0 || i == ARRAY_SIZE(wait_ms))
			break;
		xmlFreeDoc(d);
		d = NULL;
		if (m->e->cancel && *m->e->cancel)
			r = ec2_fail(m->e, -ECANCELED, "%s: interrupted looking for what a call whose answer was lost "
				     "made", m->describe);
		else
			usleep(wait_ms[i] * 1000);
	}
	aws_query_free(&q);
	if (r < 0) {
		xmlFreeDoc(d);
		m->lookup_failed = true;
		return r;
	}
	if (n == 1 && ec2_kid_copy(m->item, m->idname, m->id, sizeof(m->id)) == 0) {
		m->doc = d;
		return 1;
	}
	xmlFreeDoc(d);
	m->item = NULL;
	if (n == 0)
		return 0;
	m->lookup_failed = true;
	return ec2_fail(m->e, n > 1 ? -ENOTUNIQ : -EPROTO, "%s: %d %s tagged as the one a call whose answer was lost "
			"made", m->describe, n, m->set);
}

void ec2_made_free(struct ec2_made *m)
{
	xmlFreeDoc(m->doc);
	m->doc = NULL;
	m->item = NULL;
}

/* ---- XML and queries ------------------------------------------------------- */

xmlNode *ec2_kid(xmlNode *n, const char *name)
{
	xmlNode *x;

	for (x = n ? n->children : NULL; x; x = x->next)
		if (x->type == XML_ELEMENT_NODE && xmlStrEqual(x->name, BAD_CAST name))
			return x;
	return NULL;
}

char *ec2_kid_text(xmlNode *n, const char *name)
{
	xmlNode *k = ec2_kid(n, name);
	xmlChar *t;
	char *s;

	if (!k)
		return NULL;
	t = xmlNodeGetContent(k);
	s = strdup(t ? (const char *)t : "");
	xmlFree(t);
	return s;
}

int ec2_kid_copy(xmlNode *n, const char *name, char *buf, size_t size)
{
	_cleanup_free_ char *s = ec2_kid_text(n, name);

	buf[0] = '\0';
	if (!s)
		return -ENOENT;
	return cyris_strlcpy(buf, s, size) < 0 ? -ENAMETOOLONG : 0;
}

void ec2_tag(xmlNode *n, const char *key, char *buf, size_t size)
{
	xmlNode *it;

	buf[0] = '\0';
	ec2_for_items(ec2_kid(n, "tagSet"), it) {
		_cleanup_free_ char *k = ec2_kid_text(it, "key");

		if (k && streq(k, key)) {
			(void)ec2_kid_copy(it, "value", buf, size);
			return;
		}
	}
}

/* Add @value under a key made with printf. */
static int qk(struct aws_query *q, const char *value, const char *kfmt, ...)
	__attribute__((format(printf, 3, 4)));
static int qk(struct aws_query *q, const char *value, const char *kfmt, ...)
{
	char key[128];
	va_list ap;
	int n;

	va_start(ap, kfmt);
	n = vsnprintf(key, sizeof(key), kfmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(key))
		return -ENAMETOOLONG;
	return aws_query_add(q, key, value);
}

int ec2_q_tags(struct aws_query *q, unsigned n, const char *type, const struct ec2_tags *t)
{
	const char *k[EC2_NTAGS], *v[EC2_NTAGS];
	char inst[16];
	unsigned i, m;
	int r;

	m = tag_list(t, inst, k, v);
	if ((r = qk(q, type, "TagSpecification.%u.ResourceType", n)) < 0)
		return r;
	for (i = 0; i < m; i++)
		if ((r = qk(q, k[i], "TagSpecification.%u.Tag.%u.Key", n, i + 1)) < 0 ||
		    (r = qk(q, v[i], "TagSpecification.%u.Tag.%u.Value", n, i + 1)) < 0)
			return r;
	return 0;
}

int ec2_q_range_filter(struct aws_query *q, unsigned n, const char *range)
{
	int r;

	if (range) {
		if ((r = qk(q, "tag:cyris:range", "Filter.%u.Name", n)) < 0)
			return r;
		return qk(q, range, "Filter.%u.Value.1", n);
	}
	if ((r = qk(q, "tag-key", "Filter.%u.Name", n)) < 0)
		return r;
	return qk(q, "cyris:range", "Filter.%u.Value.1", n);
}

static int q_filter(struct aws_query *q, unsigned n, const char *name, const char *value)
{
	int r;

	if ((r = qk(q, name, "Filter.%u.Name", n)) < 0)
		return r;
	return qk(q, value, "Filter.%u.Value.1", n);
}

/* ---- small helpers --------------------------------------------------------- */

struct cyris_ip ec2_addr(const struct cyris_prefix *subnet, const struct cyris_ip *ip)
{
	struct cyris_ip out = *ip;
	struct cyris_prefix net = cyris_prefix_network(subnet);
	uint32_t a, b;

	if (ip->family != AF_INET || net.ip.family != AF_INET || !cyris_prefix_contains(subnet, ip))
		return out;
	memcpy(&a, ip->a, 4);
	memcpy(&b, net.ip.a, 4);
	a = ntohl(a) - ntohl(b);
	if (a >= 1 && a <= 3) {
		a = htonl(ntohl(b) + a + 3);
		memcpy(out.a, &a, 4);
	}
	return out;
}

char *ec2_base64(const char *s, size_t n)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = malloc((n + 2) / 3 * 4 + 1), *o = out;
	size_t i;

	if (!out)
		return NULL;
	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)(uint8_t)s[i] << 16 | (uint32_t)(uint8_t)s[i + 1] << 8 | (uint8_t)s[i + 2];

		*o++ = tab[v >> 18 & 63], *o++ = tab[v >> 12 & 63], *o++ = tab[v >> 6 & 63], *o++ = tab[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)(uint8_t)s[i] << 16 | (i + 1 < n ? (uint32_t)(uint8_t)s[i + 1] << 8 : 0);

		*o++ = tab[v >> 18 & 63], *o++ = tab[v >> 12 & 63];
		*o++ = i + 1 < n ? tab[v >> 6 & 63] : '=';
		*o++ = '=';
	}
	*o = '\0';
	return out;
}

/* A YAML double-quoted scalar of @s onto @f. */
static void yaml_quoted(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

char *ec2_user_data(const char *hostname, const char *const *keys, size_t n_keys)
{
	char *buf = NULL, *b64;
	size_t len = 0, i;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	fputs("#cloud-config\nhostname: ", f);
	yaml_quoted(f, hostname);
	fputs("\npreserve_hostname: false\n", f);
	if (n_keys) {
		fputs("ssh_authorized_keys:\n", f);
		for (i = 0; i < n_keys; i++) {
			fputs("  - ", f);
			yaml_quoted(f, keys[i]);
			fputc('\n', f);
		}
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	b64 = ec2_base64(buf, len);
	free(buf);
	return b64;
}

/* ---- single resources ------------------------------------------------------ */

static int created_id(struct cyris_ec2 *e, xmlDoc *d, const char *outer, const char *idname,
		      char ret[CYRIS_AWS_IDSIZ], const char *what)
{
	xmlNode *n = aws_xml_find(xmlDocGetRootElement(d), outer);
	int r = n ? ec2_kid_copy(n, idname, ret, CYRIS_AWS_IDSIZ) : -ENOENT;

	if (r < 0)
		return ec2_fail(e, -EPROTO, "%s: the answer has no %s", what, idname);
	return 0;
}

/* The id of what a create made: from its answer (@r 0), or found (@r 1). */
static int made_id(struct cyris_ec2 *e, int r, xmlDoc *d, const struct ec2_made *m, const char *outer,
		   const char *idname, char ret[CYRIS_AWS_IDSIZ], const char *what)
{
	if (r == 1) {
		memcpy(ret, m->id, CYRIS_AWS_IDSIZ);
		return 0;
	}
	return created_id(e, d, outer, idname, ret, what);
}

int cyris_ec2_vpc_create(struct cyris_ec2 *e, const struct cyris_ec2_owner *w,
			 const struct cyris_prefix *cidr, char ret_id[CYRIS_AWS_IDSIZ])
{
	struct ec2_tags t = { .range = w->range, .instance = w->instance, .role = "vpc" };
	struct ec2_made m = { .describe = "DescribeVpcs", .set = "vpcSet", .idname = "vpcId", .tags = &t };
	struct aws_query q = { 0 };
	char c[CYRIS_PREFIXSTRLEN], name[96];
	xmlDoc *d = NULL;
	int r;

	cyris_prefix_format(cidr, c, sizeof(c));
	snprintf(name, sizeof(name), "cyris-%s-i%u", w->range, w->instance ? w->instance : 1);
	t.name = name;
	if ((r = aws_query_add(&q, "CidrBlock", c)) >= 0 && (r = ec2_q_tags(&q, 1, "vpc", &t)) >= 0 &&
	    (r = ec2_do_create(e, "CreateVpc", &q, &d, &m, "create-vpc %s %s", w->range, c)) >= 0)
		r = made_id(e, r, d, &m, "vpc", "vpcId", ret_id, "create-vpc");
	ec2_made_free(&m);
	xmlFreeDoc(d);
	aws_query_free(&q);
	return r;
}

int ec2_find_tagged(struct cyris_ec2 *e, const char *action, const char *set, const char *idname,
		    const char *range, unsigned instance, const char *net, char ret[CYRIS_AWS_IDSIZ])
{
	struct aws_query q = { 0 };
	char inst[16];
	xmlDoc *d = NULL;
	xmlNode *s, *it;
	int r, n = 0;

	snprintf(inst, sizeof(inst), "%u", instance ? instance : 1);
	if ((r = ec2_q_range_filter(&q, 1, range)) < 0 || (r = q_filter(&q, 2, "tag:cyris:instance", inst)) < 0 ||
	    (net && (r = q_filter(&q, 3, "tag:cyris:net", net)) < 0))
		goto out;
	if ((r = ec2_call(e, action, &q, &d, "%s of range %s", action, range)) < 0)
		goto out;
	s = aws_xml_find(xmlDocGetRootElement(d), set);
	ec2_for_items(s, it)
		if (n++ == 0)
			ec2_kid_copy(it, idname, ret, CYRIS_AWS_IDSIZ);
	if (n == 0)
		r = ec2_fail(e, -ENOENT, "range %s instance %s%s%s: no %s tagged so", range, inst,
			     net ? " network " : "", net ? net : "", set);
	else if (n > 1)
		r = ec2_fail(e, -ENOTUNIQ, "range %s instance %s%s%s: %d %s tagged so", range, inst,
			     net ? " network " : "", net ? net : "", n, set);
out:
	xmlFreeDoc(d);
	aws_query_free(&q);
	return r;
}

int cyris_ec2_subnet_create(struct cyris_ec2 *e, const struct cyris_ec2_owner *w,
			    const struct cyris_prefix *cidr, const char *vpc, const char *az,
			    char ret_id[CYRIS_AWS_IDSIZ])
{
	struct ec2_tags t = { .range = w->range, .instance = w->instance, .net = w->net, .role = "subnet" };
	struct ec2_made m = { .describe = "DescribeSubnets", .set = "subnetSet", .idname = "subnetId", .tags = &t };
	struct aws_query q = { 0 };
	char c[CYRIS_PREFIXSTRLEN], v[CYRIS_AWS_IDSIZ], name[96], zone[64] = "";
	xmlDoc *d = NULL;
	int r;

	if (!w->net)
		return ec2_fail(e, -EINVAL, "a subnet needs its network's name");
	if (!vpc) {
		if ((r = ec2_find_tagged(e, "DescribeVpcs", "vpcSet", "vpcId", w->range, w->instance, NULL, v)) < 0)
			return r;
		vpc = v;
	}
	/* an instance's NICs are all in one zone: a range's subnets too */
	if (!az) {
		xmlNode *it;

		if ((r = q_filter(&q, 1, "vpc-id", vpc)) < 0 ||
		    (r = ec2_call(e, "DescribeSubnets", &q, &d, "subnets of VPC %s", vpc)) < 0)
			goto out;
		it = aws_xml_find(xmlDocGetRootElement(d), "subnetSet");
		it = it ? ec2_kid(it, "item") : NULL;
		if (it && ec2_kid_copy(it, "availabilityZone", zone, sizeof(zone)) == 0 && zone[0])
			az = zone;
		xmlFreeDoc(d);
		d = NULL;
		aws_query_free(&q);
		q = (struct aws_query){ 0 };
	}
	cyris_prefix_format(cidr, c, sizeof(c));
	snprintf(name, sizeof(name), "cyris-%s-i%u-%s", w->range, w->instance ? w->instance : 1, w->net);
	t.name = name;
	if ((r = aws_query_add(&q, "VpcId", vpc)) >= 0 && (r = aws_query_add(&q, "CidrBlock", c)) >= 0 &&
	    (!az || (r = aws_query_add(&q, "AvailabilityZone", az)) >= 0) &&
	    (r = ec2_q_tags(&q, 1, "subnet", &t)) >= 0 &&
	    (r = ec2_do_create(e, "CreateSubnet", &q, &d, &m, "create-subnet %s %s %s", w->range, w->net, c)) >= 0)
		r = made_id(e, r, d, &m, "subnet", "subnetId", ret_id, "create-subnet");
	ec2_made_free(&m);
out:
	xmlFreeDoc(d);
	aws_query_free(&q);
	return r;
}

int ec2_perm_add(struct ec2_perms *p, const char *proto, int from, int to, const char *cidr)
{
	struct ec2_perm *x;
	size_t i;

	for (i = 0; i < p->n; i++)
		if (streq(p->v[i].proto, proto) && p->v[i].from == from && p->v[i].to == to &&
		    streq(p->v[i].cidr, cidr))
			return 0;
	x = cyris_grow((void **)&p->v, &p->n, &p->cap, sizeof(*x));
	if (!x)
		return -ENOMEM;
	snprintf(x->proto, sizeof(x->proto), "%s", proto);
	x->from = from;
	x->to = to;
	snprintf(x->cidr, sizeof(x->cidr), "%s", cidr);
	return 0;
}

/* One Authorize call for every permission of @p; a permission per
 * (protocol, ports), its CIDRs listed in it. */
int ec2_authorize_query(const char *group, const struct ec2_perms *p, struct aws_query *ret)
{
	struct aws_query q = { 0 };
	bool *done;
	unsigned n = 0;
	size_t i, j;
	int r;

	*ret = q;
	if (!p->n)
		return 0;
	done = calloc(p->n, sizeof(*done));
	if (!done)
		return -ENOMEM;
	r = aws_query_add(&q, "GroupId", group);
	for (i = 0; r >= 0 && i < p->n; i++) {
		unsigned m = 0;
		char num[16];

		if (done[i])
			continue;
		n++;
		r = qk(&q, p->v[i].proto, "IpPermissions.%u.IpProtocol", n);
		if (r >= 0 && !streq(p->v[i].proto, "-1")) {
			snprintf(num, sizeof(num), "%d", p->v[i].from);
			r = qk(&q, num, "IpPermissions.%u.FromPort", n);
			snprintf(num, sizeof(num), "%d", p->v[i].to);
			if (r >= 0)
				r = qk(&q, num, "IpPermissions.%u.ToPort", n);
		}
		for (j = i; r >= 0 && j < p->n; j++) {
			if (done[j] || !streq(p->v[j].proto, p->v[i].proto) || p->v[j].from != p->v[i].from ||
			    p->v[j].to != p->v[i].to)
				continue;
			done[j] = true;
			r = qk(&q, p->v[j].cidr, "IpPermissions.%u.IpRanges.%u.CidrIp", n, ++m);
		}
	}
	free(done);
	if (r < 0)
		aws_query_free(&q);
	else
		*ret = q;
	return r < 0 ? r : 0;
}

int ec2_authorize(struct cyris_ec2 *e, const char *group, const char *label, const struct ec2_perms *p,
		  bool egress)
{
	struct aws_query q;
	int r = ec2_authorize_query(group, p, &q);

	if (r >= 0 && q.n)
		r = ec2_do(e, egress ? "AuthorizeSecurityGroupEgress" : "AuthorizeSecurityGroupIngress", &q, NULL,
			   "authorize-security-group-%s %s", egress ? "egress" : "ingress", label);
	aws_query_free(&q);
	return r < 0 ? r : 0;
}

/*
 * One resource described by its id or name (@describe, "describe-vpcs",
 * with @key.1 = @value): field @field of the first item of @set into @buf,
 * or with @field "tag:K" the value of its tag K. 0 when it is there, 1 when
 * the answer has no such item or field (@buf ""), -errno when the call
 * failed (e->err says why).
 */
static int describe_one(struct cyris_ec2 *e, const char *describe, const char *what, const char *key,
			const char *value, const char *set, const char *field, char *buf, size_t size)
{
	struct aws_query q = { 0 };
	xmlDoc *d = NULL;
	xmlNode *it;
	int r;

	buf[0] = '\0';
	if ((r = aws_query_add(&q, key, value)) >= 0 &&
	    (r = ec2_call(e, describe, &q, &d, "%s %s", what, value)) >= 0) {
		it = aws_xml_find(xmlDocGetRootElement(d), set);
		it = it ? ec2_kid(it, "item") : NULL;
		if (it && strncmp(field, "tag:", 4) == 0)
			ec2_tag(it, field + 4, buf, size);
		else if (it)
			(void)ec2_kid_copy(it, field, buf, size);
		r = buf[0] ? 0 : 1;
	}
	xmlFreeDoc(d);
	aws_query_free(&q);
	return r;
}

static int vpc_cidr(struct cyris_ec2 *e, const char *vpc, char *buf, size_t size)
{
	int r = describe_one(e, "DescribeVpcs", "describe-vpcs", "VpcId.1", vpc, "vpcSet", "cidrBlock", buf, size);

	return r == 1 ? ec2_fail(e, -ENOENT, "VPC %s: not found", vpc) : r;
}

int ec2_sg_new(struct cyris_ec2 *e, const struct cyris_ec2_owner *w, const char *name, const char *vpc,
	       char ret_id[CYRIS_AWS_IDSIZ])
{
	struct ec2_tags t = { .range = w->range, .instance = w->instance, .net = w->net, .guest = w->guest,
			      .role = w->net ? "net" : "guest", .name = name };
	struct ec2_made m = { .describe = "DescribeSecurityGroups", .set = "securityGroupInfo", .idname = "groupId",
			      .tags = &t };
	struct aws_query q = { 0 };
	char desc[160];
	xmlDoc *d = NULL;
	int r;

	snprintf(desc, sizeof(desc), "cyris range %s instance %u%s%s%s%s", w->range, w->instance ? w->instance : 1,
		 w->net ? " network " : "", w->net ? w->net : "", w->guest ? " guest " : "", w->guest ? w->guest : "");
	if ((r = aws_query_add(&q, "GroupName", name)) < 0 || (r = aws_query_add(&q, "GroupDescription", desc)) < 0 ||
	    (r = aws_query_add(&q, "VpcId", vpc)) < 0 || (r = ec2_q_tags(&q, 1, "security-group", &t)) < 0 ||
	    (r = ec2_do_create(e, "CreateSecurityGroup", &q, &d, &m, "create-security-group %s", name)) < 0 ||
	    (r = r == 1 ? cyris_strlcpy(ret_id, m.id, CYRIS_AWS_IDSIZ)
			: ec2_kid_copy(xmlDocGetRootElement(d), "groupId", ret_id, CYRIS_AWS_IDSIZ)) < 0) {
		if (r == -ENOENT)
			r = ec2_fail(e, -EPROTO, "create-security-group %s: the answer has no groupId", name);
	}
	ec2_made_free(&m);
	xmlFreeDoc(d);
	aws_query_free(&q);
	return r < 0 ? r : 0;
}

int ec2_sg_egress_queries(const char *group, const char *vpc_cidr, struct aws_query *revoke,
			  struct aws_query *egress)
{
	struct ec2_perms out = { 0 };
	int r;

	*revoke = *egress = (struct aws_query){ 0 };
	if ((r = aws_query_add(revoke, "GroupId", group)) < 0 ||
	    (r = aws_query_add(revoke, "IpPermissions.1.IpProtocol", "-1")) < 0 ||
	    (r = aws_query_add(revoke, "IpPermissions.1.IpRanges.1.CidrIp", "0.0.0.0/0")) < 0 ||
	    (r = ec2_perm_add(&out, "-1", 0, 0, vpc_cidr)) < 0 || (r = ec2_authorize_query(group, &out, egress)) < 0)
		aws_query_free(revoke);
	free(out.v);
	return r;
}

int ec2_sg_make(struct cyris_ec2 *e, const struct cyris_ec2_owner *w, const char *name, const char *vpc,
		const char *vpc_cidr, const char *own_cidr, char ret_id[CYRIS_AWS_IDSIZ])
{
	static const char *const actions[3] = { "RevokeSecurityGroupEgress", "AuthorizeSecurityGroupEgress",
						"AuthorizeSecurityGroupIngress" },
			  *const labels[3] = { "revoke-security-group-egress", "authorize-security-group-egress",
					       "authorize-security-group-ingress" };
	struct aws_query q[3] = { { 0 } };
	struct aws_req rq[3] = { { 0 } };
	struct ec2_perms in = { 0 };
	char what[3][200];
	const char *whatp[3];
	size_t i, n = 2;
	int r;

	if ((r = ec2_sg_new(e, w, name, vpc, ret_id)) < 0)
		return r;
	/* AWS's default allow-all egress goes, inside the VPC stays (and the
	 * own subnet comes in): not depending on each other, sent at once */
	r = ec2_sg_egress_queries(ret_id, vpc_cidr, &q[0], &q[1]);
	if (r >= 0 && own_cidr && (r = ec2_perm_add(&in, "-1", 0, 0, own_cidr)) >= 0 &&
	    (r = ec2_authorize_query(ret_id, &in, &q[2])) >= 0)
		n = 3;
	for (i = 0; r >= 0 && i < n; i++) {
		rq[i] = (struct aws_req){ .action = actions[i], .q = &q[i] };
		snprintf(what[i], sizeof(what[i]), "%s %s", labels[i], name);
		whatp[i] = what[i];
	}
	if (r < 0)
		r = ec2_fail(e, r, "security group %s: %s", name, strerror(-r));
	else
		r = ec2_do_level(e, rq, n, whatp);
	for (i = 0; i < 3; i++)
		aws_query_free(&q[i]);
	free(in.v);
	return r < 0 ? r : 0;
}

static int subnet_cidr(struct cyris_ec2 *e, const char *sid, char *buf, size_t size)
{
	int r = describe_one(e, "DescribeSubnets", "describe-subnets", "SubnetId.1", sid, "subnetSet", "cidrBlock",
			     buf, size);

	return r == 1 ? ec2_fail(e, -EPROTO, "subnet %s: no CIDR", sid) : r;
}

int cyris_ec2_sg_create(struct cyris_ec2 *e, const struct cyris_ec2_owner *w, const char *name,
			const char *vpc, char ret_id[CYRIS_AWS_IDSIZ])
{
	char v[CYRIS_AWS_IDSIZ], vc[CYRIS_PREFIXSTRLEN], sc[CYRIS_PREFIXSTRLEN], sid[CYRIS_AWS_IDSIZ];
	int r;

	if (!vpc) {
		if ((r = ec2_find_tagged(e, "DescribeVpcs", "vpcSet", "vpcId", w->range, w->instance, NULL, v)) < 0)
			return r;
		vpc = v;
	}
	if ((r = vpc_cidr(e, vpc, vc, sizeof(vc))) < 0)
		return r;
	/* a network's group lets its own subnet in */
	if (w->net && ((r = ec2_find_tagged(e, "DescribeSubnets", "subnetSet", "subnetId", w->range, w->instance,
					    w->net, sid)) < 0 ||
		       (r = subnet_cidr(e, sid, sc, sizeof(sc))) < 0))
		return r;
	return ec2_sg_make(e, w, name, vpc, vc, w->net ? sc : NULL, ret_id);
}

/* ---- rules ----------------------------------------------------------------- */

static int add_protos(struct ec2_perms *out, unsigned proto, int from, int to, const char *cidr)
{
	int r = 0;

	if (proto & CYRIS_FW_TCP)
		r = ec2_perm_add(out, "tcp", from, to, cidr);
	if (r >= 0 && (proto & CYRIS_FW_UDP))
		r = ec2_perm_add(out, "udp", from, to, cidr);
	return r;
}

int ec2_rule_perms(struct cyris_ec2 *e, const struct cyris_fw_rule *fr, const char *any, struct ec2_perms *out)
{
	char cidr[CYRIS_PREFIXSTRLEN];
	size_t i, j, ns = fr->n_src ? fr->n_src : 1;
	int r = 0;

	if (fr->n_sport)
		return ec2_fail(e, -EINVAL, "rule '%s': security groups cannot match a source port (sport)", fr->text);
	for (i = 0; i < fr->n_dst; i++)
		if (fr->dst[i].is_host)
			return ec2_fail(e, -EINVAL, "rule '%s': there is no host in a VPC (dst=host)", fr->text);
	if ((fr->proto & CYRIS_FW_ICMP) && fr->n_dport)
		return ec2_fail(e, -EINVAL, "rule '%s': ICMP has no ports", fr->text);
	for (i = 0; r >= 0 && i < ns; i++) {
		if (!fr->n_src) {
			/* any source of the range, as on the other backends: never the internet */
			if (cyris_strlcpy(cidr, any, sizeof(cidr)) < 0)
				return ec2_fail(e, -EINVAL, "rule '%s': bad VPC CIDR '%s'", fr->text, any);
		} else if (fr->src[i].is_host) {
			return ec2_fail(e, -EINVAL, "rule '%s': there is no host in a VPC (src=host)", fr->text);
		} else if (!fr->src[i].is_prefix) {
			return ec2_fail(e, -EINVAL, "rule '%s': '%s' is no network of the range", fr->text,
					fr->src[i].name);
		} else if (fr->src[i].prefix.ip.family != AF_INET) {
			return ec2_fail(e, -EINVAL, "rule '%s': '%s': only IPv4 in a VPC here", fr->text,
					fr->src[i].name);
		} else {
			struct cyris_prefix n = cyris_prefix_network(&fr->src[i].prefix);

			cyris_prefix_format(&n, cidr, sizeof(cidr));
		}
		if (fr->proto & CYRIS_FW_ICMP)
			r = ec2_perm_add(out, "icmp", -1, -1, cidr);
		if (r >= 0 && !fr->n_dport && !(fr->proto & ~CYRIS_FW_ICMP) && !(fr->proto & CYRIS_FW_ICMP))
			r = ec2_perm_add(out, "-1", 0, 0, cidr);
		else if (r >= 0 && !fr->n_dport && (fr->proto & (CYRIS_FW_TCP | CYRIS_FW_UDP)))
			r = add_protos(out, fr->proto, 0, 65535, cidr);
		for (j = 0; r >= 0 && j < fr->n_dport; j++)
			r = add_protos(out, fr->proto ? fr->proto : CYRIS_FW_TCP | CYRIS_FW_UDP, fr->dport[j].lo,
				       fr->dport[j].hi, cidr);
	}
	return r < 0 ? r : 0;
}

/* The group @group (an id, or a name cyris made): its id, range, instance
 * and VPC. */
static int group_get(struct cyris_ec2 *e, const char *group, char id[CYRIS_AWS_IDSIZ], char *range,
		     unsigned *inst, char vpc[CYRIS_AWS_IDSIZ])
{
	struct aws_query q = { 0 };
	xmlDoc *d = NULL;
	xmlNode *it;
	char buf[16];
	int r, n = 0;

	if (strncmp(group, "sg-", 3) == 0)
		r = aws_query_add(&q, "GroupId.1", group);
	else if ((r = q_filter(&q, 1, "group-name", group)) >= 0)
		r = ec2_q_range_filter(&q, 2, NULL);
	if (r < 0 || (r = ec2_call(e, "DescribeSecurityGroups", &q, &d, "security group %s", group)) < 0)
		goto out;
	ec2_for_items(aws_xml_find(xmlDocGetRootElement(d), "securityGroupInfo"), it) {
		if (n++)
			continue;
		ec2_kid_copy(it, "groupId", id, CYRIS_AWS_IDSIZ);
		ec2_kid_copy(it, "vpcId", vpc, CYRIS_AWS_IDSIZ);
		ec2_tag(it, "cyris:range", range, CYRIS_ID_MAX + 1);
		ec2_tag(it, "cyris:instance", buf, sizeof(buf));
		*inst = (unsigned)strtoul(buf, NULL, 10);
	}
	if (n != 1)
		r = ec2_fail(e, n ? -ENOTUNIQ : -ENOENT, "security group %s: %s", group,
			     n ? "more than one is called so" : "not found");
	else if (!range[0])
		r = ec2_fail(e, -EPERM, "security group %s: not cyris's (no cyris:range tag)", group);
out:
	xmlFreeDoc(d);
	aws_query_free(&q);
	return r;
}

/* Network names of a rule as the subnets of the range's networks. */
static int resolve_names(struct cyris_ec2 *e, const char *range, unsigned inst, struct cyris_fw_endpoint *v,
			 size_t n)
{
	char sid[CYRIS_AWS_IDSIZ], c[CYRIS_PREFIXSTRLEN];
	size_t i;
	int r;

	for (i = 0; i < n; i++) {
		if (v[i].is_prefix || v[i].is_host)
			continue;
		r = ec2_find_tagged(e, "DescribeSubnets", "subnetSet", "subnetId", range, inst, v[i].name, sid);
		if (r == -ENOENT)
			return ec2_fail(e, -EINVAL, "'%s' is no network of range %s", v[i].name, range);
		if (r < 0 || (r = subnet_cidr(e, sid, c, sizeof(c))) < 0)
			return r;
		if (cyris_prefix_parse(c, true, &v[i].prefix) < 0)
			return ec2_fail(e, -EPROTO, "subnet %s: bad CIDR '%s'", sid, c);
		v[i].is_prefix = true;
	}
	return 0;
}

int cyris_ec2_sg_allow(struct cyris_ec2 *e, const char *group, const char *rule)
{
	struct cyris_fw_rule fr;
	struct ec2_perms p = { 0 };
	struct cyris_error pe;
	char id[CYRIS_AWS_IDSIZ], range[CYRIS_ID_MAX + 1] = "", vpc[CYRIS_AWS_IDSIZ], vc[CYRIS_PREFIXSTRLEN] = "";
	unsigned inst = 1;
	int r;

	if (cyris_fw_rule_parse(rule, &fr, &pe) < 0)
		return ec2_fail(e, -EINVAL, "rule '%s': %s", rule, pe.msg);
	if ((r = group_get(e, group, id, range, &inst, vpc)) < 0)
		return r;
	if ((r = resolve_names(e, range, inst, fr.src, fr.n_src)) < 0)
		return r;
	/* no src: the range's VPC */
	if (!fr.n_src && (r = vpc_cidr(e, vpc, vc, sizeof(vc))) < 0)
		return r;
	if ((r = ec2_rule_perms(e, &fr, vc, &p)) >= 0)
		r = ec2_authorize(e, id, group, &p, false);
	free(p.v);
	return r;
}

/* ---- instances ------------------------------------------------------------- */

static int group_get(struct cyris_ec2 *e, const char *group, char id[CYRIS_AWS_IDSIZ], char *range,
		     unsigned *inst, char vpc[CYRIS_AWS_IDSIZ]);

/* 64-bit FNV-1a over the NUL-separated @parts. */
static uint64_t fnv(const char *const *parts, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i;
	const char *s;

	for (i = 0; i < n; i++) {
		for (s = parts[i] ? parts[i] : ""; ; s++) {
			h ^= (uint8_t)*s;
			h *= 0x100000001b3ull;
			if (!*s)
				break;
		}
	}
	return h;
}

/* The subnet id for a NIC given as a network name of the range. */
static int nic_subnet(struct cyris_ec2 *e, const struct cyris_ec2_owner *w, const char *s,
		      char ret[CYRIS_AWS_IDSIZ])
{
	if (strncmp(s, "subnet-", 7) == 0)
		return cyris_strlcpy(ret, s, CYRIS_AWS_IDSIZ) < 0
			? ec2_fail(e, -EINVAL, "'%s' is not a subnet id", s) : 0;
	return ec2_find_tagged(e, "DescribeSubnets", "subnetSet", "subnetId", w->range, w->instance, s, ret);
}

static int nic_groups(struct cyris_ec2 *e, const struct cyris_ec2_owner *w, const char *net,
		      char ret[CYRIS_AWS_IDSIZ])
{
	return ec2_find_tagged(e, "DescribeSecurityGroups", "securityGroupInfo", "groupId", w->range,
			       w->instance, net, ret);
}

static void inst_parse(xmlNode *it, struct cyris_ec2_instance *o)
{
	char buf[CYRIS_IPSTRLEN];
	xmlNode *ni, *st;

	memset(o, 0, sizeof(*o));
	ec2_kid_copy(it, "instanceId", o->id, sizeof(o->id));
	st = ec2_kid(it, "instanceState");
	if (st)
		ec2_kid_copy(st, "name", o->state, sizeof(o->state));
	if (ec2_kid_copy(it, "privateIpAddress", buf, sizeof(buf)) == 0)
		(void)cyris_ip_parse(buf, &o->private_ip);
	if (ec2_kid_copy(it, "ipAddress", buf, sizeof(buf)) == 0)
		(void)cyris_ip_parse(buf, &o->public_ip);
	ec2_tag(it, "Name", o->name, sizeof(o->name));
	ec2_tag(it, "cyris:range", o->range, sizeof(o->range));
	ec2_tag(it, "cyris:guest", o->guest, sizeof(o->guest));
	ec2_tag(it, "cyris:role", o->role, sizeof(o->role));
	ec2_tag(it, "cyris:instance", buf, sizeof(buf));
	o->instance = (unsigned)strtoul(buf, NULL, 10);
	ec2_for_items(ec2_kid(it, "networkInterfaceSet"), ni) {
		xmlNode *at = ec2_kid(ni, "attachment");
		char idx[16] = "";
		unsigned long k;

		if (at)
			ec2_kid_copy(at, "deviceIndex", idx, sizeof(idx));
		k = idx[0] ? strtoul(idx, NULL, 10) : o->n_enis;
		if (k >= CYRIS_GUEST_MAX_NICS)
			continue;
		ec2_kid_copy(ni, "networkInterfaceId", o->enis[k], sizeof(o->enis[k]));
		if (ec2_kid_copy(ni, "privateIpAddress", buf, sizeof(buf)) == 0)
			(void)cyris_ip_parse(buf, &o->eni_ips[k]);
		if (k + 1 > o->n_enis)
			o->n_enis = k + 1;
	}
}

static int run_query(struct cyris_ec2 *e, const struct cyris_ec2_instance_spec *s, struct aws_query *q,
		     char subnets[][CYRIS_AWS_IDSIZ])
{
	const struct cyris_ec2_owner *w = &s->owner;
	struct ec2_tags t = { .range = w->range, .instance = w->instance, .guest = w->guest ? w->guest : s->name,
			      .role = s->role ? s->role : "guest", .name = s->name };
	char subnet[CYRIS_AWS_IDSIZ], sg[CYRIS_AWS_IDSIZ], type[32], tok[40], num[16], ip[CYRIS_IPSTRLEN],
	     host[CYRIS_GUEST_NAMSIZ], *x;
	const char *parts[4];
	_cleanup_free_ char *ud = NULL;
	size_t i, j;
	int r;

	if (s->type)
		snprintf(type, sizeof(type), "%s", s->type);
	else if (cyris_conf_get(e->conf, "aws_instance_type", type, sizeof(type)) <= 0)
		snprintf(type, sizeof(type), "t3.micro");
	snprintf(host, sizeof(host), "%s", s->hostname ? s->hostname : s->name);
	for (x = host; !s->hostname && *x; x++)
		if (*x == '.' || *x == '_')
			*x = '-';
	ud = ec2_user_data(host, s->ssh_keys, s->n_ssh_keys);
	if (!ud)
		return -ENOMEM;
	if ((r = aws_query_add(q, "ImageId", s->image)) < 0 || (r = aws_query_add(q, "InstanceType", type)) < 0 ||
	    (r = aws_query_add(q, "MinCount", "1")) < 0 || (r = aws_query_add(q, "MaxCount", "1")) < 0 ||
	    (r = aws_query_add(q, "UserData", ud)) < 0 ||
	    (s->key_name && (r = aws_query_add(q, "KeyName", s->key_name)) < 0))
		return r;
	for (i = 0; i < s->n_nics; i++) {
		const struct cyris_ec2_nic *n = &s->nics[i];

		if ((r = nic_subnet(e, w, n->subnet, subnet)) < 0)
			return r;
		memcpy(subnets[i], subnet, CYRIS_AWS_IDSIZ);
		if (i == 0) {
			/* (range, instance, guest) and the subnet: a retry is the
			 * same call, a later up of the same range (new subnets)
			 * a new one, never AWS's answer from the first */
			parts[0] = w->range, parts[1] = num, parts[2] = t.guest, parts[3] = subnet;
			snprintf(num, sizeof(num), "%u", w->instance ? w->instance : 1);
			snprintf(tok, sizeof(tok), "cyris-%016llx", (unsigned long long)fnv(parts, 4));
			if ((r = aws_query_add(q, "ClientToken", tok)) < 0)
				return r;
		}
		if ((r = qk(q, subnet, "NetworkInterface.%zu.SubnetId", i + 1)) < 0)
			return r;
		snprintf(ip, sizeof(ip), "%zu", i);
		if ((r = qk(q, ip, "NetworkInterface.%zu.DeviceIndex", i + 1)) < 0 ||
		    (r = qk(q, "true", "NetworkInterface.%zu.DeleteOnTermination", i + 1)) < 0)
			return r;
		if (n->ip.family && (r = qk(q, cyris_ip_format(&n->ip, ip, sizeof(ip)),
					     "NetworkInterface.%zu.PrivateIpAddress", i + 1)) < 0)
			return r;
		size_t m = 0;

		if (strncmp(n->subnet, "subnet-", 7) != 0) {
			if ((r = nic_groups(e, w, n->subnet, sg)) < 0 ||
			    (r = qk(q, sg, "NetworkInterface.%zu.SecurityGroupId.%zu", i + 1, ++m)) < 0)
				return r;
		}
		for (j = 0; j < n->n_groups; j++) {
			char gr[CYRIS_ID_MAX + 1] = "", gv[CYRIS_AWS_IDSIZ];
			unsigned gi;

			if (strncmp(n->groups[j], "sg-", 3) == 0)
				snprintf(sg, sizeof(sg), "%s", n->groups[j]);
			else if ((r = group_get(e, n->groups[j], sg, gr, &gi, gv)) < 0)
				return r;
			if ((r = qk(q, sg, "NetworkInterface.%zu.SecurityGroupId.%zu", i + 1, ++m)) < 0)
				return r;
		}
	}
	if ((r = ec2_q_tags(q, 1, "instance", &t)) < 0 || (r = ec2_q_tags(q, 2, "network-interface", &t)) < 0 ||
	    (r = ec2_q_tags(q, 3, "volume", &t)) < 0)
		return r;
	return 0;
}

static int source_dest_off(struct cyris_ec2 *e, const char *eni, const char *name)
{
	struct aws_query q = { 0 };
	int r;

	if ((r = aws_query_add(&q, "NetworkInterfaceId", eni)) >= 0 &&
	    (r = aws_query_add(&q, "SourceDestCheck.Value", "false")) >= 0)
		r = ec2_do(e, "ModifyNetworkInterfaceAttribute", &q, NULL, "source-dest-check off %s %s", name, eni);
	aws_query_free(&q);
	return r < 0 ? r : 0;
}

/* What a subnet says of itself: VPC, CIDR, its network and owner. */
struct subnet_info {
	char vpc[CYRIS_AWS_IDSIZ], cidr[CYRIS_PREFIXSTRLEN], net[CYRIS_ID_MAX + 1], range[CYRIS_ID_MAX + 1];
	unsigned instance;
};

static int subnet_info(struct cyris_ec2 *e, const char *sid, struct subnet_info *ret)
{
	struct aws_query q = { 0 };
	char buf[16];
	xmlDoc *d = NULL;
	xmlNode *it;
	int r;

	memset(ret, 0, sizeof(*ret));
	if ((r = aws_query_add(&q, "SubnetId.1", sid)) >= 0 &&
	    (r = ec2_call(e, "DescribeSubnets", &q, &d, "describe-subnets %s", sid)) >= 0) {
		it = aws_xml_find(xmlDocGetRootElement(d), "subnetSet");
		it = it ? ec2_kid(it, "item") : NULL;
		if (!it || ec2_kid_copy(it, "vpcId", ret->vpc, sizeof(ret->vpc)) < 0 ||
		    ec2_kid_copy(it, "cidrBlock", ret->cidr, sizeof(ret->cidr)) < 0) {
			r = ec2_fail(e, -EPROTO, "subnet %s: no VPC or CIDR", sid);
		} else {
			ec2_tag(it, "cyris:net", ret->net, sizeof(ret->net));
			ec2_tag(it, "cyris:range", ret->range, sizeof(ret->range));
			ec2_tag(it, "cyris:instance", buf, sizeof(buf));
			ret->instance = (unsigned)strtoul(buf, NULL, 10);
			if (!ret->net[0])
				r = ec2_fail(e, -EPERM, "subnet %s: not a network of a cyris range (no cyris:net tag)", sid);
		}
	}
	xmlFreeDoc(d);
	aws_query_free(&q);
	return r < 0 ? r : 0;
}

int ec2_simple_do(struct cyris_ec2 *e, const char *action, const char *what, const char *k1, const char *v1,
		  const char *k2, const char *v2, const char *k3, const char *v3)
{
	struct aws_query q = { 0 };
	int r;

	if ((r = aws_query_add(&q, k1, v1)) >= 0 && (!k2 || (r = aws_query_add(&q, k2, v2)) >= 0) &&
	    (!k3 || (r = aws_query_add(&q, k3, v3)) >= 0))
		r = ec2_do(e, action, &q, NULL, "%s", what);
	aws_query_free(&q);
	return r < 0 ? r : 0;
}

int ec2_make_id(struct cyris_ec2 *e, const char *action, const struct aws_query *q, struct ec2_made *m,
		const char *outer, const char *idname, char ret[CYRIS_AWS_IDSIZ], const char *what)
{
	xmlDoc *d = NULL;
	xmlNode *n;
	int r = ec2_do_create(e, action, q, &d, m, "%s", what);

	if (r == 1) {
		memcpy(ret, m->id, CYRIS_AWS_IDSIZ);
		r = 0;
	} else if (r >= 0) {
		n = outer ? aws_xml_find(xmlDocGetRootElement(d), outer) : xmlDocGetRootElement(d);
		if (!n || ec2_kid_copy(n, idname, ret, CYRIS_AWS_IDSIZ) < 0)
			r = ec2_fail(e, -EPROTO, "%s: the answer has no %s", what, idname);
	}
	ec2_made_free(m);
	xmlFreeDoc(d);
	return r < 0 ? r : 0;
}

/* The route table of subnet @si (@sid), made and associated when missing. */
static int route_table(struct cyris_ec2 *e, const struct subnet_info *si, const char *sid,
		       char ret[CYRIS_AWS_IDSIZ])
{
	struct ec2_tags t = { .range = si->range, .instance = si->instance, .net = si->net, .role = "route-table" };
	struct ec2_made m = { .describe = "DescribeRouteTables", .set = "routeTableSet", .idname = "routeTableId",
			      .tags = &t };
	struct aws_query q = { 0 };
	int r = ec2_find_tagged(e, "DescribeRouteTables", "routeTableSet", "routeTableId", si->range, si->instance,
				si->net, ret);

	if (r != -ENOENT)
		return r;
	if ((r = ec2_q_tags(&q, 1, "route-table", &t)) < 0 || (r = aws_query_add(&q, "VpcId", si->vpc)) < 0) {
		aws_query_free(&q);
		return r;
	}
	r = ec2_make_id(e, "CreateRouteTable", &q, &m, "routeTable", "routeTableId", ret, "create-route-table");
	aws_query_free(&q);
	if (r < 0)
		return r;
	return ec2_simple_do(e, "AssociateRouteTable", "associate-route-table", "RouteTableId", ret, "SubnetId", sid,
			     NULL, NULL);
}

/* A gateway: the subnet of each NIC marked route (none marked: of each NIC)
 * sends the VPC's other subnets through that NIC. */
static int link_routes(struct cyris_ec2 *e, const struct cyris_ec2_instance_spec *s,
		       const struct cyris_ec2_instance *in, char subnets[][CYRIS_AWS_IDSIZ])
{
	struct subnet_info si;
	char rt[CYRIS_AWS_IDSIZ], cidr[CYRIS_PREFIXSTRLEN], sid[CYRIS_AWS_IDSIZ];
	bool any = false;
	size_t i;
	int r = 0;

	for (i = 0; i < s->n_nics; i++)
		any |= s->nics[i].route;
	for (i = 0; r >= 0 && i < s->n_nics; i++) {
		struct aws_query q = { 0 };
		xmlDoc *d = NULL;
		xmlNode *it;

		if (any && !s->nics[i].route)
			continue;
		if (!in->enis[i][0])
			return ec2_fail(e, -EPROTO, "run-instances %s: no ENI at index %zu", s->name, i);
		if ((r = subnet_info(e, subnets[i], &si)) < 0 || (r = route_table(e, &si, subnets[i], rt)) < 0)
			return r;
		if ((r = q_filter(&q, 1, "vpc-id", si.vpc)) >= 0)
			r = ec2_call(e, "DescribeSubnets", &q, &d, "subnets of VPC %s", si.vpc);
		aws_query_free(&q);
		if (r < 0)
			return r;
		ec2_for_items(aws_xml_find(xmlDocGetRootElement(d), "subnetSet"), it) {
			if (ec2_kid_copy(it, "subnetId", sid, sizeof(sid)) < 0 ||
			    ec2_kid_copy(it, "cidrBlock", cidr, sizeof(cidr)) < 0) {
				r = ec2_fail(e, -EPROTO, "subnets of VPC %s: a subnet without id or CIDR", si.vpc);
				break;
			}
			if (streq(sid, subnets[i]))
				continue;
			if ((r = ec2_simple_do(e, "CreateRoute", "create-route via the gateway guest", "RouteTableId",
					       rt, "DestinationCidrBlock", cidr, "NetworkInterfaceId", in->enis[i])) < 0)
				break;
		}
		xmlFreeDoc(d);
	}
	return r;
}

/* An entry point: internet gateway, default route, Elastic IP. */
static int link_public(struct cyris_ec2 *e, const struct cyris_ec2_instance_spec *s,
		       const struct cyris_ec2_instance *in, const char *sid)
{
	struct ec2_tags t = { .range = s->owner.range, .instance = s->owner.instance,
			      .guest = s->owner.guest ? s->owner.guest : s->name, .role = "entry", .name = s->name };
	struct subnet_info si;
	struct aws_query q = { 0 };
	char igw[CYRIS_AWS_IDSIZ], rt[CYRIS_AWS_IDSIZ], alloc[CYRIS_AWS_IDSIZ], name[96];
	int r;

	if ((r = subnet_info(e, sid, &si)) < 0)
		return r;
	r = ec2_find_tagged(e, "DescribeInternetGateways", "internetGatewaySet", "internetGatewayId", si.range,
			    si.instance, NULL, igw);
	if (r == -ENOENT) {
		struct ec2_tags gt = { .range = si.range, .instance = si.instance, .role = "internet-gateway",
				       .name = name };
		struct ec2_made m = { .describe = "DescribeInternetGateways", .set = "internetGatewaySet",
				      .idname = "internetGatewayId", .tags = &gt };

		snprintf(name, sizeof(name), "cyris-%s-i%u", si.range, si.instance ? si.instance : 1);
		if ((r = ec2_q_tags(&q, 1, "internet-gateway", &gt)) < 0) {
			aws_query_free(&q);
			return r;
		}
		r = ec2_make_id(e, "CreateInternetGateway", &q, &m, "internetGateway", "internetGatewayId", igw,
				"create-internet-gateway");
		aws_query_free(&q);
		if (r < 0 ||
		    (r = ec2_simple_do(e, "AttachInternetGateway", "attach-internet-gateway", "InternetGatewayId", igw,
				       "VpcId", si.vpc, NULL, NULL)) < 0)
			return r;
	} else if (r < 0) {
		return r;
	}
	if ((r = route_table(e, &si, sid, rt)) < 0 ||
	    (r = ec2_simple_do(e, "CreateRoute", "create-route to the internet gateway", "RouteTableId", rt,
			       "DestinationCidrBlock", "0.0.0.0/0", "GatewayId", igw)) < 0)
		return r;
	q = (struct aws_query){ 0 };
	if ((r = aws_query_add(&q, "Domain", "vpc")) < 0 || (r = ec2_q_tags(&q, 1, "elastic-ip", &t)) < 0) {
		aws_query_free(&q);
		return r;
	}
	{
		struct ec2_made m = { .describe = "DescribeAddresses", .set = "addressesSet", .idname = "allocationId",
				      .tags = &t };

		r = ec2_make_id(e, "AllocateAddress", &q, &m, NULL, "allocationId", alloc, "allocate-address");
		aws_query_free(&q);
		if (r < 0)
			return r;
	}
	return ec2_simple_do(e, "AssociateAddress", "associate-address", "AllocationId", alloc, "NetworkInterfaceId",
			     in->enis[0], NULL, NULL);
}

int cyris_ec2_instance_create(struct cyris_ec2 *e, const struct cyris_ec2_instance_spec *s,
			      struct cyris_ec2_instance *ret)
{
	/* the tags run_query() gives it: what a lost answer's retry looks for
	 * (the ClientToken is AWS's own guard; an emulator may ignore it) */
	struct ec2_tags t = { .range = s->owner.range, .instance = s->owner.instance,
			      .guest = s->owner.guest ? s->owner.guest : s->name, .role = s->role ? s->role : "guest",
			      .name = s->name };
	struct ec2_made m = { .describe = "DescribeInstances", .set = "instancesSet", .idname = "instanceId",
			      .tags = &t };
	struct cyris_ec2_instance inst;
	struct aws_query q = { 0 };
	char subnets[CYRIS_GUEST_MAX_NICS][CYRIS_AWS_IDSIZ];
	xmlDoc *d = NULL;
	xmlNode *it;
	size_t i;
	int r;

	if (!s->name || !s->owner.range || !s->image || !s->n_nics || s->n_nics > CYRIS_GUEST_MAX_NICS)
		return ec2_fail(e, -EINVAL, "an instance needs a name, a range, an image and 1 to %d NICs",
				CYRIS_GUEST_MAX_NICS);
	if ((r = run_query(e, s, &q, subnets)) < 0 ||
	    (r = ec2_do_create(e, "RunInstances", &q, &d, &m, "run-instances %s",
			       s->owner.guest ? s->owner.guest : s->name)) < 0)
		goto out;
	if (r == 1) {
		it = m.item;
	} else {
		it = aws_xml_find(xmlDocGetRootElement(d), "instancesSet");
		it = it ? ec2_kid(it, "item") : NULL;
	}
	if (!it) {
		r = ec2_fail(e, -EPROTO, "run-instances %s: the answer has no instance", s->name);
		goto out;
	}
	inst_parse(it, &inst);
	for (i = 0; s->forwarding && i < inst.n_enis; i++)
		if (inst.enis[i][0] && (r = source_dest_off(e, inst.enis[i], s->name)) < 0)
			goto out;
	if (s->gateway_routes && (r = link_routes(e, s, &inst, subnets)) < 0)
		goto out;
	if (s->public_ip && (r = link_public(e, s, &inst, subnets[0])) < 0)
		goto out;
	if (ret)
		*ret = inst;
	r = 0;
out:
	ec2_made_free(&m);
	xmlFreeDoc(d);
	aws_query_free(&q);
	return r;
}

static const char *const live_states[] = { "pending", "running", "stopping", "stopped", "shutting-down" };

static int q_live(struct aws_query *q, unsigned n)
{
	size_t i;
	int r;

	if ((r = qk(q, "instance-state-name", "Filter.%u.Name", n)) < 0)
		return r;
	for (i = 0; i < ARRAY_SIZE(live_states); i++)
		if ((r = qk(q, live_states[i], "Filter.%u.Value.%zu", n, i + 1)) < 0)
			return r;
	return 0;
}

struct inst_acc {
	struct cyris_ec2_instance *v;
	size_t n, cap;
};

static int inst_page(xmlDoc *d, void *arg)
{
	struct inst_acc *a = arg;
	xmlNode *res, *it;

	ec2_for_items(aws_xml_find(xmlDocGetRootElement(d), "reservationSet"), res)
		ec2_for_items(ec2_kid(res, "instancesSet"), it) {
			struct cyris_ec2_instance *o = cyris_grow((void **)&a->v, &a->n, &a->cap, sizeof(*o));

			if (!o)
				return -ENOMEM;
			inst_parse(it, o);
		}
	return 0;
}

static int inst_describe(struct cyris_ec2 *e, const struct aws_query *q, struct inst_acc *a, const char *what)
{
	int r = aws_call_pages(e->c, "DescribeInstances", q, inst_page, a);

	if (r < 0) {
		ec2_call_failed(e, r, "describe-instances %s", what);
		free(a->v);
		a->v = NULL;
		a->n = 0;
	}
	return r;
}

int cyris_ec2_instance_list(struct cyris_ec2 *e, const char *range, struct cyris_ec2_instance **ret,
			    size_t *ret_n)
{
	struct aws_query q = { 0 };
	struct inst_acc a = { 0 };
	int r;

	if ((r = ec2_q_range_filter(&q, 1, range)) >= 0 && (r = q_live(&q, 2)) >= 0)
		r = inst_describe(e, &q, &a, range ? range : "of cyris");
	aws_query_free(&q);
	if (r < 0)
		return r;
	*ret = a.v;
	*ret_n = a.n;
	return 0;
}

int cyris_ec2_instance_get(struct cyris_ec2 *e, const char *name, struct cyris_ec2_instance *ret)
{
	struct aws_query q = { 0 };
	struct inst_acc a = { 0 };
	int r;

	if (strncmp(name, "i-", 2) == 0)
		r = aws_query_add(&q, "InstanceId.1", name);
	else if ((r = q_filter(&q, 1, "tag:Name", name)) >= 0)
		r = ec2_q_range_filter(&q, 2, NULL);
	if (r >= 0 && (r = q_live(&q, 3)) >= 0)
		r = inst_describe(e, &q, &a, name);
	aws_query_free(&q);
	if (r < 0)
		return r;
	if (a.n != 1)
		r = ec2_fail(e, a.n ? -ENOTUNIQ : -ENOENT, "instance %s: %s", name,
			     a.n ? "more than one is called so" : "not found");
	else
		*ret = a.v[0];
	free(a.v);
	return r;
}

/* How many of @v are still live (pending, running, stopping, stopped). */
static int live_count(struct cyris_ec2 *e, const struct cyris_ec2_instance *v, size_t n, const char *what)
{
	struct aws_query q = { 0 };
	struct inst_acc a = { 0 };
	size_t i;
	int r = 0;

	for (i = 0; i < n && r >= 0; i++)
		r = qk(&q, v[i].id, "InstanceId.%zu", i + 1);
	if (r >= 0 && (r = q_live(&q, 1)) >= 0)
		r = inst_describe(e, &q, &a, what);
	aws_query_free(&q);
	free(a.v);
	if (r == -ENOENT)
		return 0;
	return r < 0 ? r : (int)a.n;
}

static int terminate_ids(struct cyris_ec2 *e, const struct cyris_ec2_instance *v, size_t n, const char *what)
{
	struct aws_query q = { 0 };
	size_t i;
	int r = 0;

	for (i = 0; i < n && r >= 0; i++)
		r = qk(&q, v[i].id, "InstanceId.%zu", i + 1);
	if (r >= 0 && (r = ec2_change(e, "TerminateInstances")) >= 0 &&
	    (r = ec2_call(e, "TerminateInstances", &q, NULL, "terminate-instances %s", what)) < 0 &&
	    aws_error_code(e->c)[0]) {
		/* AWS answered a terminate of instances terminated already with
		 * success (it is idempotent), moto a retried one, whose first
		 * attempt did it, with an error of its own (it deletes their
		 * ENIs again: InvalidNetworkInterfaceID.NotFound). Whatever the
		 * answer, when none of them is live any more the terminate was
		 * done. */
		struct cyris_error why = e->err;

		if (live_count(e, v, n, what) == 0)
			r = 0;
		else
			e->err = why;
	}
	aws_query_free(&q);
	return r < 0 ? r : 0;
}

/* Poll until none of @v is still there (terminated), bounded. */
static int wait_terminated(struct cyris_ec2 *e, const struct cyris_ec2_instance *v, size_t n, const char *what)
{
	unsigned ms = 200, waited = 0;
	size_t i;
	int r;

	for (;;) {
		struct aws_query q = { 0 };
		struct inst_acc a = { 0 };

		for (i = 0, r = 0; i < n && r >= 0; i++)
			r = qk(&q, v[i].id, "InstanceId.%zu", i + 1);
		if (r >= 0 && (r = q_live(&q, 1)) >= 0)
			r = inst_describe(e, &q, &a, what);
		aws_query_free(&q);
		free(a.v);
		if (r < 0 && r != -ENOENT)
			return r;
		if (r == -ENOENT || a.n == 0)
			return 0;
		if (e->cancel && *e->cancel)
			return ec2_fail(e, -ECANCELED, "%s: interrupted waiting for termination", what);
		if (waited > 600000)
			return ec2_fail(e, -ETIMEDOUT, "%s: %zu instances still not terminated after 10 minutes",
					what, a.n);
		usleep(ms * 1000);
		waited += ms;
		ms = ms < 5000 ? ms * 2 : 5000;
	}
}

int cyris_ec2_instance_terminate(struct cyris_ec2 *e, const char *name, bool force)
{
	struct cyris_ec2_instance in;
	int r = cyris_ec2_instance_get(e, name, &in);

	if (r < 0)
		return r;
	if (!in.range[0] && !force)
		return ec2_fail(e, -EPERM, "instance %s: not cyris's (no cyris:range tag; --force to terminate it)",
				name);
	if ((r = terminate_ids(e, &in, 1, name)) < 0)
		return r;
	return wait_terminated(e, &in, 1, name);
}

/* Key pair @name tagged for @w (and with @claim, the claim's token):
 * @pubkey imported, else one AWS makes (its private half is not kept).
 * -EEXIST when the name is taken in the region. */
static int key_pair_make(struct cyris_ec2 *e, const struct cyris_ec2_owner *w, const char *name,
			 const char *pubkey, const char *claim)
{
	struct ec2_tags t = { .range = w->range, .instance = w->instance, .role = "key-pair", .name = name,
			      .claim = claim };
	struct ec2_made m = { .describe = "DescribeKeyPairs", .set = "keySet", .idname = "keyName", .tags = &t };
	struct aws_query q = { 0 };
	_cleanup_free_ char *b = pubkey ? ec2_base64(pubkey, strlen(pubkey)) : NULL;
	int r;

	if (pubkey && !b)
		return -ENOMEM;
	if ((r = aws_query_add(&q, "KeyName", name)) >= 0 && (!b || (r = aws_query_add(&q, "PublicKeyMaterial", b)) >= 0) &&
	    (r = ec2_q_tags(&q, 1, "key-pair", &t)) >= 0)
		/* (CreateKeyPair's answer, with the private key, is not kept) */
		r = ec2_do_create(e, b ? "ImportKeyPair" : "CreateKeyPair", &q, NULL, &m, "%s %s",
				  b ? "import-key-pair" : "create-key-pair", name);
	ec2_made_free(&m);
	aws_query_free(&q);
	return r < 0 ? r : 0;
}

/* The cyris:claim tag of key pair @name ("" when it has none). */
static int key_pair_claim(struct cyris_ec2 *e, const char *name, char *buf, size_t size)
{
	int r = describe_one(e, "DescribeKeyPairs", "describe-key-pairs", "KeyName.1", name, "keySet",
			     "tag:cyris:claim", buf, size);

	return r < 0 ? r : 0;
}

int cyris_ec2_keypair_import(struct cyris_ec2 *e, const struct cyris_ec2_owner *w, const char *name,
			     const char *pubkey)
{
	return key_pair_make(e, w, name, pubkey, NULL);
}

int cyris_ec2_range_claim(struct cyris_ec2 *e, const char *range, const char *pubkey)
{
	struct cyris_ec2_owner w = { .range = range, .instance = 1 };
	char name[CYRIS_ID_MAX + 8], token[33], held[40];
	uint8_t rnd[16];
	size_t i;
	int r;

	if (!range || !cyris_id_valid(range))
		return ec2_fail(e, -EINVAL, "'%s' is not a range id", range ? range : "");
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return ec2_fail(e, -errno, "claim of range %s: no random token: %s", range, strerror(errno));
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(token + 2 * i, 3, "%02x", rnd[i]);
	snprintf(name, sizeof(name), "cyris-%s", range);
	r = key_pair_make(e, &w, name, pubkey, token);
	if (r != -EEXIST)
		return r;
	/* ours after all (an answer lost, the lookup before the retry too early)? */
	if (key_pair_claim(e, name, held, sizeof(held)) == 0 && streq(held, token))
		return 0;
	return ec2_fail(e, -EEXIST, "range %s is claimed on AWS already (key pair %s): another up of it is "
			"running, or one was interrupted (then cyris-topo down %s removes what it left)",
			range, name, range);
}

/* ---- images ---------------------------------------------------------------- */

/* CyRIS's basevm_os_type: whose images, and what their names look like. */
static const struct { const char *os, *owner, *pattern; } images[] = {
	{ "amazon_linux", "amazon", "al2023-ami-2023.*-x86_64" },
	{ "amazon_linux2", "amazon", "amzn2-ami-hvm-*-x86_64-gp2" },
	{ "ubuntu_16", "099720109477", "ubuntu/images/hvm-ssd/ubuntu-xenial-16.04-amd64-server-*" },
	{ "ubuntu_18", "099720109477", "ubuntu/images/hvm-ssd/ubuntu-bionic-18.04-amd64-server-*" },
	{ "ubuntu_20", "099720109477", "ubuntu/images/hvm-ssd/ubuntu-focal-20.04-amd64-server-*" },
	{ "ubuntu_22", "099720109477", "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-*" },
	{ "red_hat", "309956199498", "RHEL-9.*_HVM-*-x86_64-*" },
	{ "windows", "amazon", "Windows_Server-2022-English-Full-Base-*" },
};

struct newest {
	char id[CYRIS_AWS_IDSIZ], date[40], name[256];
};

static int image_page(xmlDoc *d, void *arg)
{
	struct newest *b = arg;
	xmlNode *it;

	ec2_for_items(aws_xml_find(xmlDocGetRootElement(d), "imagesSet"), it) {
		char date[40] = "", name[256] = "";

		ec2_kid_copy(it, "creationDate", date, sizeof(date));
		ec2_kid_copy(it, "name", name, sizeof(name));
		/* newest first; on the same date the greatest name (versions) */
		if (!b->id[0] || strcmp(date, b->date) > 0 || (streq(date, b->date) && strcmp(name, b->name) > 0)) {
			ec2_kid_copy(it, "imageId", b->id, sizeof(b->id));
			snprintf(b->date, sizeof(b->date), "%s", date);
			snprintf(b->name, sizeof(b->name), "%s", name);
		}
	}
	return 0;
}

int cyris_ec2_image_resolve(struct cyris_ec2 *e, const char *os, char ret[CYRIS_AWS_IDSIZ])
{
	struct aws_query q = { 0 };
	struct newest b = { 0 };
	size_t i;
	int r;

	for (i = 0; i < ARRAY_SIZE(images) && !streq(images[i].os, os); i++)
		;
	if (i == ARRAY_SIZE(images))
		return ec2_fail(e, -EINVAL, "basevm_os_type '%s': no AWS image known for it "
				"(amazon_linux, amazon_linux2, ubuntu_16/18/20/22, red_hat, windows; "
				"or give image: ami-...)", os);
	if ((r = aws_query_add(&q, "Owner.1", images[i].owner)) >= 0 &&
	    (r = q_filter(&q, 1, "name", images[i].pattern)) >= 0 && (r = q_filter(&q, 2, "state", "available")) >= 0)
		r = aws_call_pages(e->c, "DescribeImages", &q, image_page, &b);
	aws_query_free(&q);
	if (r < 0)
		return ec2_call_failed(e, r, "describe-images %s", os);
	if (!b.id[0])
		return ec2_fail(e, -ENOENT, "basevm_os_type '%s': no image of owner %s named %s in region %s", os,
				images[i].owner, images[i].pattern, aws_region(e->c));
	memcpy(ret, b.id, CYRIS_AWS_IDSIZ);
	return 0;
}

/* An AMI given by id: it exists in this region. */

int ec2_image_check(struct cyris_ec2 *e, const char *ami)
{
	struct aws_query q = { 0 };
	xmlDoc *d = NULL;
	xmlNode *s;
	int r;

	if ((r = aws_query_add(&q, "ImageId.1", ami)) >= 0 &&
	    (r = ec2_call(e, "DescribeImages", &q, &d, "image %s", ami)) >= 0) {
		s = aws_xml_find(xmlDocGetRootElement(d), "imagesSet");
		if (!s || !ec2_kid(s, "item"))
			r = ec2_fail(e, -ENOENT, "image %s: not found in region %s", ami, aws_region(e->c));
	}
	xmlFreeDoc(d);
	aws_query_free(&q);
	return r < 0 ? r : 0;
}

/* ---- teardown by tag ------------------------------------------------------- */

/* The ids (and a second field) of every resource of a Describe* tagged with
 * @range. */
struct idlist {
	char (*id)[CYRIS_AWS_IDSIZ];
	char (*aux)[CYRIS_AWS_IDSIZ];
	size_t n, cap, cap2;
	const char *set, *idname, *auxname, *auxin;
};

static int id_page(xmlDoc *d, void *arg)
{
	struct idlist *l = arg;
	xmlNode *it;

	ec2_for_items(aws_xml_find(xmlDocGetRootElement(d), l->set), it) {
		size_t n = l->n;
		char (*id)[CYRIS_AWS_IDSIZ] = cyris_grow((void **)&l->id, &l->n, &l->cap, sizeof(*l->id));
		char (*aux)[CYRIS_AWS_IDSIZ];

		if (!id)
			return -ENOMEM;
		aux = cyris_grow((void **)&l->aux, &n, &l->cap2, sizeof(*l->aux));
		if (!aux)
			return -ENOMEM;
		ec2_kid_copy(it, l->idname, *id, sizeof(*id));
		if (l->auxname) {
			xmlNode *in = l->auxin ? ec2_kid(it, l->auxin) : it;

			if (in && l->auxin && !ec2_kid(in, l->auxname))
				in = ec2_kid(in, "item");
			if (in)
				ec2_kid_copy(in, l->auxname, *aux, sizeof(*aux));
		}
	}
	return 0;
}

static int list_ids(struct cyris_ec2 *e, const char *action, const char *range, struct idlist *l)
{
	struct aws_query q = { 0 };
	int r = ec2_q_range_filter(&q, 1, range);

	if (r >= 0)
		r = aws_call_pages(e->c, action, &q, id_page, l);
	aws_query_free(&q);
	if (r < 0)
		ec2_call_failed(e, r, "%s of range %s", action, range);
	return r < 0 ? r : 0;
}

static void idlist_free(struct idlist *l)
{
	free(l->id);
	free(l->aux);
	l->id = NULL;
	l->aux = NULL;
	l->n = l->cap = l->cap2 = 0;
}

/* One delete-like call of @key=@id; DependencyViolation (AWS is still
 * letting go of something) retried with bounded backoff; a thing already
 * gone is fine. */
static int del_one_after(struct cyris_ec2 *e, const char *action, const char *key, const char *id,
			 const char *key2, const char *id2, bool refused)
{
	unsigned ms = 250, waited = 0;
	int r;

	for (;;) {
		struct aws_query q = { 0 };

		/* refused once already (a DependencyViolation of a parallel level) */
		if (refused) {
			usleep((ms + (unsigned)(random() % (ms / 2 + 1))) * 1000);
			waited += ms;
			ms *= 2;
			refused = false;
		}
		if ((r = aws_query_add(&q, key, id)) >= 0 && (!key2 || (r = aws_query_add(&q, key2, id2)) >= 0))
			r = ec2_do(e, action, &q, NULL, "%s %s", action, id);
		aws_query_free(&q);
		if (r >= 0 || r == -ENOENT)
			return 0;
		if (r != -EBUSY || !streq(aws_error_code(e->c), "DependencyViolation") || waited >= 120000)
			return r;
		if (e->cancel && *e->cancel)
			return ec2_fail(e, -ECANCELED, "%s %s: interrupted", action, id);
		/* ec2_do counted this as a change; a retry is the same one */
		e->changes--;
		usleep((ms + (unsigned)(random() % (ms / 2 + 1))) * 1000);
		waited += ms;
		ms = ms < 8000 ? ms * 2 : 8000;
	}
}

static int del_one(struct cyris_ec2 *e, const char *action, const char *key, const char *id,
		   const char *key2, const char *id2)
{
	return del_one_after(e, action, key, id, key2, id2, false);
}

/* A failure of a request of a parallel level, recorded as ec2_call() does. */
static int req_failed(struct cyris_ec2 *e, const struct aws_req *q, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int req_failed(struct cyris_ec2 *e, const struct aws_req *q, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cyris_error_setv(&e->err, q->rc, fmt, ap);
	va_end(ap);
	if (q->code[0])
		cyris_error_detail(&e->err, CYRIS_ERROR_AWS, "%s", q->text);
	else if (q->text[0])
		cyris_error_append(&e->err, ": %s", q->text);
	return q->rc;
}

/*
 * del_one() of each of @ids (@key; with @key2 = @ids2 when given) as one
 * level: the requests go out in parallel (aws_call_many), each counted as
 * a change in order first (an injected failure or a cancel sends none from
 * there on); every one is waited for, those refused with DependencyViolation
 * are then retried one by one with del_one's backoff, and the first failure
 * in order is the level's. @count (NULL: none) counts the deleted.
 */
static int del_level(struct cyris_ec2 *e, const char *action, const char *key, char (*ids)[CYRIS_AWS_IDSIZ],
		     const char *key2, char (*ids2)[CYRIS_AWS_IDSIZ], size_t n, size_t *count)
{
	struct aws_query *q = n ? calloc(n, sizeof(*q)) : NULL;
	struct aws_req *rq = n ? calloc(n, sizeof(*rq)) : NULL;
	size_t i, m = 0;
	int r = 0, rc = 0;

	if (!n)
		return 0;
	if (!q || !rq)
		r = ec2_fail(e, -ENOMEM, "%s: %s", action, strerror(ENOMEM));
	for (i = 0; r >= 0 && i < n; i++) {
		if ((r = aws_query_add(&q[i], key, ids[i])) >= 0 && key2)
			r = aws_query_add(&q[i], key2, ids2[i]);
		rq[i].action = action;
		rq[i].q = &q[i];
	}
	if (r < 0)
		goto out;
	while (m < n && (rc = ec2_change(e, action)) >= 0)
		m++;
	if (m && (r = aws_call_many(e->c, rq, m)) < 0) {
		for (i = 0; i < m && rq[i].rc >= 0; i++)
			;
		/* none of them failed: the level could not be sent */
		if (i == m) {
			r = ec2_call_failed(e, r, "%s %s", action, ids[0]);
			goto out;
		}
	}
	r = 0;
	for (i = 0; i < m && r >= 0; i++) {
		if (rq[i].rc >= 0 || rq[i].rc == -ENOENT) {
			r = 0;
		} else if (rq[i].rc == -EBUSY && streq(rq[i].code, "DependencyViolation")) {
			if (e->cancel && *e->cancel) {
				r = ec2_fail(e, -ECANCELED, "%s %s: interrupted", action, ids[i]);
				break;
			}
			/* counted as a change already: the retry is the same one */
			e->changes--;
			r = del_one_after(e, action, key, ids[i], key2, key2 ? ids2[i] : NULL, true);
		} else {
			r = req_failed(e, &rq[i], "%s %s", action, ids[i]);
		}
		if (r >= 0 && count)
			(*count)++;
	}
	/* the change that was refused (e->err says why) */
	if (r >= 0 && m < n)
		r = rc;
out:
	for (i = 0; i < n; i++)
		aws_query_free(&q[i]);
	free(q);
	free(rq);
	return r;
}

/* Rules of the range's groups that name another group: they keep that
 * group from being deleted. */
static int add_id(struct idlist *l, const char *id)
{
	char (*x)[CYRIS_AWS_IDSIZ] = cyris_grow((void **)&l->id, &l->n, &l->cap, sizeof(*l->id));

	if (!x)
		return -ENOMEM;
	snprintf(*x, sizeof(*x), "%s", id);
	return 0;
}

static int revoke_group_refs(struct cyris_ec2 *e, const char *range, struct idlist *ids)
{
	struct aws_query q = { 0 };
	xmlDoc *d = NULL;
	xmlNode *g, *p, *u;
	int r;

	if ((r = ec2_q_range_filter(&q, 1, range)) < 0 ||
	    (r = ec2_call(e, "DescribeSecurityGroups", &q, &d, "security groups of range %s", range)) < 0)
		goto out;
	ec2_for_items(aws_xml_find(xmlDocGetRootElement(d), "securityGroupInfo"), g) {
		static const char *const sets[2] = { "ipPermissions", "ipPermissionsEgress" };
		char gid[CYRIS_AWS_IDSIZ];
		int k;

		ec2_kid_copy(g, "groupId", gid, sizeof(gid));
		if ((r = add_id(ids, gid)) < 0)
			goto out;
		for (k = 0; k < 2; k++)
			ec2_for_items(ec2_kid(g, sets[k]), p) {
				struct aws_query rq = { 0 };
				char proto[8] = "", from[8] = "", to[8] = "";
				unsigned m = 0;

				ec2_for_items(ec2_kid(p, "groups"), u) {
					char ref[CYRIS_AWS_IDSIZ];

					if (ec2_kid_copy(u, "groupId", ref, sizeof(ref)) == 0 &&
					    (r = qk(&rq, ref, "IpPermissions.1.Groups.%u.GroupId", ++m)) < 0)
						break;
				}
				if (m && r >= 0) {
					ec2_kid_copy(p, "ipProtocol", proto, sizeof(proto));
					ec2_kid_copy(p, "fromPort", from, sizeof(from));
					ec2_kid_copy(p, "toPort", to, sizeof(to));
					if ((r = aws_query_add(&rq, "GroupId", gid)) >= 0 &&
					    (r = aws_query_add(&rq, "IpPermissions.1.IpProtocol", proto)) >= 0 &&
					    (!from[0] || (r = aws_query_add(&rq, "IpPermissions.1.FromPort", from)) >= 0) &&
					    (!to[0] || (r = aws_query_add(&rq, "IpPermissions.1.ToPort", to)) >= 0))
						r = ec2_do(e, k ? "RevokeSecurityGroupEgress" : "RevokeSecurityGroupIngress",
							   &rq, NULL, "revoke the group references of %s", gid);
				}
				aws_query_free(&rq);
				if (r < 0 && r != -ENOENT)
					goto out;
				r = 0;
			}
	}
out:
	xmlFreeDoc(d);
	aws_query_free(&q);
	return r < 0 ? r : 0;
}

int ec2_do_level(struct cyris_ec2 *e, struct aws_req *reqs, size_t n, const char *const *what)
{
	size_t i, m = 0;
	int r = 0, rc = 0;

	while (m < n && (rc = ec2_change(e, reqs[m].action)) >= 0)
		m++;
	for (i = m; i < n; i++) {
		reqs[i].doc = NULL;
		reqs[i].rc = rc;
	}
	if (m && (r = aws_call_many(e->c, reqs, m)) < 0) {
		int all = r;

		for (i = 0, r = 0; i < m && r >= 0; i++)
			if (reqs[i].rc < 0)
				r = req_failed(e, &reqs[i], "%s", what[i]);
		/* none of them failed: the level could not be sent */
		if (r >= 0)
			r = ec2_call_failed(e, all, "%s", what[0]);
	}
	return r < 0 ? r : rc;
}

/* The route tables' associations that are not the main one. */
static int disassociate_tables(struct cyris_ec2 *e, const char *range, struct idlist *ids)
{
	struct idlist assoc = { 0 };
	struct aws_query q = { 0 };
	xmlDoc *d = NULL;
	xmlNode *t, *a;
	int r;

	if ((r = ec2_q_range_filter(&q, 1, range)) < 0 ||
	    (r = ec2_call(e, "DescribeRouteTables", &q, &d, "route tables of range %s", range)) < 0)
		goto out;
	ec2_for_items(aws_xml_find(xmlDocGetRootElement(d), "routeTableSet"), t) {
		char tid[CYRIS_AWS_IDSIZ];

		ec2_kid_copy(t, "routeTableId", tid, sizeof(tid));
		if ((r = add_id(ids, tid)) < 0)
			goto out;
		ec2_for_items(ec2_kid(t, "associationSet"), a) {
			char id[CYRIS_AWS_IDSIZ], main[8] = "";

			ec2_kid_copy(a, "main", main, sizeof(main));
			if (streq(main, "true") || ec2_kid_copy(a, "routeTableAssociationId", id, sizeof(id)) < 0)
				continue;
			if ((r = add_id(&assoc, id)) < 0)
				goto out;
		}
	}
	r = del_level(e, "DisassociateRouteTable", "AssociationId", assoc.id, NULL, NULL, assoc.n, NULL);
out:
	free(assoc.id);
	xmlFreeDoc(d);
	aws_query_free(&q);
	return r < 0 ? r : 0;
}

/* Delete each of @l. */
static int delete_ids(struct cyris_ec2 *e, const struct idlist *l, const char *del, const char *key, size_t *count)
{
	return del_level(e, del, key, l->id, NULL, NULL, l->n, count);
}

static int destroy_kind(struct cyris_ec2 *e, const char *range, const char *describe, const char *set,
			const char *idname, const char *del, const char *key, size_t *count)
{
	struct idlist l = { .set = set, .idname = idname };
	int r = list_ids(e, describe, range, &l);

	if (r >= 0)
		r = del_level(e, del, key, l.id, NULL, NULL, l.n, count);
	idlist_free(&l);
	return r;
}

int cyris_ec2_destroy(struct cyris_ec2 *e, const char *range, volatile sig_atomic_t *cancel,
		      struct cyris_ec2_down_stats *ret)
{
	struct cyris_ec2_down_stats st = { 0 };
	struct idlist l = { 0 };
	struct inst_acc a = { 0 };
	struct aws_query q = { 0 };
	volatile sig_atomic_t *old = e->cancel;
	size_t i;
	int r;

	if (!range || !cyris_id_valid(range))
		return ec2_fail(e, -EINVAL, "'%s' is not a range id", range ? range : "");
	e->cancel = cancel;
	/* addresses: disassociated, then released */
	l = (struct idlist){ .set = "addressesSet", .idname = "allocationId", .auxname = "associationId" };
	r = list_ids(e, "DescribeAddresses", range, &l);
	for (i = 0; r >= 0 && i < l.n; i++) {
		if (l.aux[i][0] && (r = del_one(e, "DisassociateAddress", "AssociationId", l.aux[i], NULL, NULL)) < 0)
			break;
		if ((r = del_one(e, "ReleaseAddress", "AllocationId", l.id[i], NULL, NULL)) >= 0)
			st.addresses++;
	}
	idlist_free(&l);
	if (r < 0)
		goto out;
	/* instances, and wait until they are gone (their ENIs with them) */
	if ((r = ec2_q_range_filter(&q, 1, range)) < 0 || (r = q_live(&q, 2)) < 0 ||
	    (r = inst_describe(e, &q, &a, range)) < 0)
		goto out;
	if (a.n && ((r = terminate_ids(e, a.v, a.n, range)) < 0 || (r = wait_terminated(e, a.v, a.n, range)) < 0))
		goto out;
	st.instances = a.n;
	if ((r = destroy_kind(e, range, "DescribeNetworkInterfaces", "networkInterfaceSet", "networkInterfaceId",
			      "DeleteNetworkInterface", "NetworkInterfaceId", &st.enis)) < 0 ||
	    (r = revoke_group_refs(e, range, &l)) < 0 || (r = delete_ids(e, &l, "DeleteSecurityGroup", "GroupId",
									 &st.groups)) < 0)
		goto out;
	idlist_free(&l);
	l = (struct idlist){ 0 };
	if ((r = destroy_kind(e, range, "DescribeSubnets", "subnetSet", "subnetId", "DeleteSubnet", "SubnetId",
			      &st.subnets)) < 0 ||
	    (r = disassociate_tables(e, range, &l)) < 0 ||
	    (r = delete_ids(e, &l, "DeleteRouteTable", "RouteTableId", &st.route_tables)) < 0)
		goto out;
	idlist_free(&l);
	l = (struct idlist){ 0 };
	/* internet gateways: detached from their VPC, then deleted */
	l = (struct idlist){ .set = "internetGatewaySet", .idname = "internetGatewayId", .auxname = "vpcId",
			     .auxin = "attachmentSet" };
	r = list_ids(e, "DescribeInternetGateways", range, &l);
	for (i = 0; r >= 0 && i < l.n; i++) {
		if (l.aux[i][0] && (r = del_one(e, "DetachInternetGateway", "InternetGatewayId", l.id[i], "VpcId",
						l.aux[i])) < 0)
			break;
		if ((r = del_one(e, "DeleteInternetGateway", "InternetGatewayId", l.id[i], NULL, NULL)) >= 0)
			st.gateways++;
	}
	idlist_free(&l);
	if (r < 0)
		goto out;
	/* the key pair last: it is the range's claim (cyris_ec2_range_claim()),
	 * and no other up of the range may start while anything is left */
	if ((r = destroy_kind(e, range, "DescribeVpcs", "vpcSet", "vpcId", "DeleteVpc", "VpcId", &st.vpcs)) < 0 ||
	    (r = destroy_kind(e, range, "DescribeKeyPairs", "keySet", "keyName", "DeleteKeyPair", "KeyName",
			      &st.key_pairs)) < 0)
		goto out;
	r = 0;
out:
	idlist_free(&l);
	free(a.v);
	aws_query_free(&q);
	e->cancel = old;
	if (ret)
		*ret = st;
	return r;
}

/* ---- ranges ---------------------------------------------------------------- */

static int add_range(char (**v)[CYRIS_ID_MAX + 1], size_t *n, size_t *cap, const char *r)
{
	char (*x)[CYRIS_ID_MAX + 1];
	size_t i;

	if (!r[0])
		return 0;
	for (i = 0; i < *n; i++)
		if (streq((*v)[i], r))
			return 0;
	x = cyris_grow((void **)v, n, cap, sizeof(**v));
	if (!x)
		return -ENOMEM;
	snprintf(*x, sizeof(*x), "%s", r);
	return 0;
}

struct ls_acc {
	char (*v)[CYRIS_ID_MAX + 1];
	size_t n, cap;
	const char *set;
};

static int ls_page(xmlDoc *d, void *arg)
{
	struct ls_acc *a = arg;
	xmlNode *it;
	int r;

	ec2_for_items(aws_xml_find(xmlDocGetRootElement(d), a->set), it) {
		char range[CYRIS_ID_MAX + 1];

		ec2_tag(it, "cyris:range", range, sizeof(range));
		if ((r = add_range(&a->v, &a->n, &a->cap, range)) < 0)
			return r;
	}
	return 0;
}

static int ls_inst_page(xmlDoc *d, void *arg)
{
	struct ls_acc *a = arg;
	xmlNode *res, *it;
	int r;

	ec2_for_items(aws_xml_find(xmlDocGetRootElement(d), "reservationSet"), res)
		ec2_for_items(ec2_kid(res, "instancesSet"), it) {
			char range[CYRIS_ID_MAX + 1];

			ec2_tag(it, "cyris:range", range, sizeof(range));
			if ((r = add_range(&a->v, &a->n, &a->cap, range)) < 0)
				return r;
		}
	return 0;
}

static int cmp_id(const void *a, const void *b)
{
	return strcmp(a, b);
}

int cyris_ec2_ls(struct cyris_ec2 *e, char (**ret)[CYRIS_ID_MAX + 1], size_t *ret_n)
{
	static const char *const kinds[][2] = {
		{ "DescribeVpcs", "vpcSet" }, { "DescribeInstances", "instancesSet" },
		{ "DescribeKeyPairs", "keySet" }, { "DescribeAddresses", "addressesSet" },
	};
	struct ls_acc a = { 0 };
	size_t i;
	int r = 0;

	for (i = 0; r >= 0 && i < ARRAY_SIZE(kinds); i++) {
		struct aws_query q = { 0 };

		a.set = kinds[i][1];
		if ((r = ec2_q_range_filter(&q, 1, NULL)) >= 0 && (i != 1 || (r = q_live(&q, 2)) >= 0))
			r = aws_call_pages(e->c, kinds[i][0], &q, i == 1 ? ls_inst_page : ls_page, &a);
		aws_query_free(&q);
		if (r < 0)
			ec2_call_failed(e, r, "%s of every range", kinds[i][0]);
	}
	if (r < 0) {
		free(a.v);
		return r;
	}
	if (a.n)
		qsort(a.v, a.n, sizeof(*a.v), cmp_id);
	*ret = a.v;
	*ret_n = a.n;
	return 0;
}
