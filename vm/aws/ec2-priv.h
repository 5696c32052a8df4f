/* SPDX-License-Identifier: MIT */
/*
 * vm/aws/ec2-priv.h — what ec2.c (resources, listing, teardown) and
 * ec2-up.c (a plan on EC2) share, private to vm/aws/.
 */
#ifndef CYRIS_EC2_PRIV_H
#define CYRIS_EC2_PRIV_H

#include "cyris/aws.h"
#include "aws-priv.h"

struct cyris_ec2 {
	struct cyris_aws *c;
	const struct cyris_conf *conf;
	struct cyris_error err;
	/* tests and Ctrl-C: checked before every change */
	unsigned fail_at, changes;
	volatile sig_atomic_t *cancel;
	void (*progress)(void *arg, size_t step, const char *what);
	void *progress_arg;
};

/* The tags every resource gets at creation. */
struct ec2_tags {
	const char *range;
	unsigned instance;
	const char *net, *guest, *role, *name;
	const char *claim;               /* cyris:claim (the range's claim), NULL = none */
};

/* Add TagSpecification.@n for resource type @type. */
int ec2_q_tags(struct aws_query *q, unsigned n, const char *type, const struct ec2_tags *t);

/* Before a change: the injected failure or the cancel, as an error. */
int ec2_change(struct cyris_ec2 *e, const char *action);

/* aws_call; a failure recorded in e->err as "WHAT: ..." with AWS's code
 * and message as the detail. */
int ec2_call(struct cyris_ec2 *e, const char *action, const struct aws_query *q, xmlDoc **ret,
	     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* A security group without lookups: egress only to @vpc_cidr, ingress from
 * @own_cidr (NULL: none); its create, then its rules sent at once. */
int ec2_sg_make(struct cyris_ec2 *e, const struct cyris_ec2_owner *w, const char *name, const char *vpc,
		const char *vpc_cidr, const char *own_cidr, char ret_id[CYRIS_AWS_IDSIZ]);
/* Its create alone (CreateSecurityGroup, tagged; a lost answer looked up
 * by the tags): the group allows AWS's default egress until the requests
 * of ec2_sg_egress_queries() are sent. */
int ec2_sg_new(struct cyris_ec2 *e, const struct cyris_ec2_owner *w, const char *name, const char *vpc,
	       char ret_id[CYRIS_AWS_IDSIZ]);
/* The two requests after it, independent of each other: the revoke of
 * AWS's default allow-all egress (RevokeSecurityGroupEgress) and the egress
 * kept, to @vpc_cidr (AuthorizeSecurityGroupEgress); aws_query_free both. */
int ec2_sg_egress_queries(const char *group, const char *vpc_cidr, struct aws_query *revoke,
			  struct aws_query *egress);
/* Record the client's last failure (of a call made directly) as "WHAT". */
int ec2_call_failed(struct cyris_ec2 *e, int r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* An AMI given by id exists in the region. */
int ec2_image_check(struct cyris_ec2 *e, const char *ami);
/* ec2_change() then ec2_call(). */
int ec2_do(struct cyris_ec2 *e, const char *action, const struct aws_query *q, xmlDoc **ret,
	   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* ec2_do() of @action with up to three parameters (@k2, @k3 NULL: fewer);
 * "@what: ..." on failure. */
int ec2_simple_do(struct cyris_ec2 *e, const char *action, const char *what, const char *k1, const char *v1,
		  const char *k2, const char *v2, const char *k3, const char *v3);
int ec2_fail(struct cyris_ec2 *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A create that is not idempotent (CreateVpc, CreateSubnet, RunInstances,
 * ...) and how to find what it makes by the tags it makes it with: the
 * Describe that lists it, its items' set and id element. */
struct ec2_made {
	const char *describe, *set, *idname;
	const struct ec2_tags *tags;
	/* out, when it was found: its id, the Describe's answer and its item */
	char id[CYRIS_AWS_IDSIZ];
	xmlDoc *doc;
	xmlNode *item;
	/* (ec2_do_create's) */
	struct cyris_ec2 *e;
	bool lookup_failed;
};
/* ec2_do() of such a create: before a retry after a lost answer or a 5xx,
 * one filtered Describe looks for what the call would have made, and
 * adopts it: then 1, with m->id (and m->doc, m->item; ec2_made_free()),
 * *ret untouched. 0 when the call itself answered. */
int ec2_do_create(struct cyris_ec2 *e, const char *action, const struct aws_query *q, xmlDoc **ret,
		  struct ec2_made *m, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
void ec2_made_free(struct ec2_made *m);
/* ec2_do_create() of @action answering an id: element @idname of @outer
 * in the answer (NULL: its root), or the id of what was found. */
int ec2_make_id(struct cyris_ec2 *e, const char *action, const struct aws_query *q, struct ec2_made *m,
		const char *outer, const char *idname, char ret[CYRIS_AWS_IDSIZ], const char *what);

/* Direct child element @name of @n, and a copy of its text (free() it). */
xmlNode *ec2_kid(xmlNode *n, const char *name);
char *ec2_kid_text(xmlNode *n, const char *name);
/* Copy the text of child @name into @buf; -ENOENT / -ENAMETOOLONG. */
int ec2_kid_copy(xmlNode *n, const char *name, char *buf, size_t size);
/* The value of tag @key in @n's tagSet into @buf ("" when absent). */
void ec2_tag(xmlNode *n, const char *key, char *buf, size_t size);
/* Element children named "item" of @set, in turn. */
#define ec2_for_items(set, it) \
	for ((it) = (set) ? (set)->children : NULL; (it); (it) = (it)->next) \
		if ((it)->type == XML_ELEMENT_NODE && xmlStrEqual((it)->name, BAD_CAST "item"))

/* Filter.@n = tag:cyris:range (@range) or tag-key cyris:range (NULL). */
int ec2_q_range_filter(struct aws_query *q, unsigned n, const char *range);

/* A plan address moved off AWS's reserved ones (the first four of a
 * subnet): .1 .. .3 become .4 .. .6. */
struct cyris_ip ec2_addr(const struct cyris_prefix *subnet, const struct cyris_ip *ip);

/* The cloud-init user-data (keys, hostname), base64, malloc'd. */
char *ec2_user_data(const char *hostname, const char *const *keys, size_t n_keys);
char *ec2_base64(const char *s, size_t n);

/* The id of the one resource of @action (DescribeVpcs ...) tagged with
 * (range, instance[, net]) in set @set and id element @idname. */
int ec2_find_tagged(struct cyris_ec2 *e, const char *action, const char *set, const char *idname,
		    const char *range, unsigned instance, const char *net, char ret[CYRIS_AWS_IDSIZ]);

/* The security group for the given permissions: collected, deduplicated,
 * sent in one call. */
struct ec2_perm {
	char proto[8];                   /* tcp, udp, icmp, -1 */
	int from, to;
	char cidr[CYRIS_PREFIXSTRLEN];
};
struct ec2_perms {
	struct ec2_perm *v;
	size_t n, cap;
};
int ec2_perm_add(struct ec2_perms *p, const char *proto, int from, int to, const char *cidr);
/* The query of that call into *@ret (aws_query_free it; no parameters when
 * @p is empty: nothing to send). */
int ec2_authorize_query(const char *group, const struct ec2_perms *p, struct aws_query *ret);
/*
 * ec2_do() of @n requests that do not depend on each other, sent in
 * parallel (aws_call_many): each counted as a change in order first (an
 * injected failure or a cancel sends none from there on, and is the
 * result), every one sent is waited for, and the first failure in order is
 * the level's, in e->err as "@what[i]: ..." with AWS's code and message.
 */
int ec2_do_level(struct cyris_ec2 *e, struct aws_req *reqs, size_t n, const char *const *what);
int ec2_authorize(struct cyris_ec2 *e, const char *group, const char *label, const struct ec2_perms *p,
		  bool egress);
/* Compile @r into @out (sources as CIDRs, protocols, ports; a rule without
 * src is from @any, the range's VPC CIDR); -EINVAL with the reason in
 * e->err for what groups cannot express. */
int ec2_rule_perms(struct cyris_ec2 *e, const struct cyris_fw_rule *r, const char *any, struct ec2_perms *out);

#endif
