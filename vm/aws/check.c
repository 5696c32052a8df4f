/* SPDX-License-Identifier: MIT */
/*
 * The AWS provider's preflight (`cyris-check --provider aws`): credentials
 * found, the endpoint answers and accepts them, the region is one the
 * endpoint offers, a VPC is still allowed by the account's vpc-max, a
 * CreateVpc would be authorised (DryRun), and the configured VPC and subnet
 * exist. Only the provider asked about talks to the endpoint: for another
 * one, the credentials are looked up and nothing is sent.
 */
#include <stdio.h>
#include <libxml/tree.h>

#include "cyris/check.h"
#include "aws-priv.h"
#include "../../net/base/conf-priv.h"
#include "../../net/base/util.h"

static void not_checked(struct cyris_check_list *l, bool needed, const char *why,
			const char *const *names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		cyris_check_add(l, names[i], false, needed, "not checked: %s", why);
}

/* The regions the endpoint offers: is @region among them? */
static int region_offered(xmlDoc *doc, const char *region, unsigned *n)
{
	xmlNode *set = aws_xml_find((xmlNode *)doc, "regionInfo"), *it;
	bool found = false;

	*n = 0;
	for (it = set ? set->children : NULL; it; it = it->next) {
		char *name = it->type == XML_ELEMENT_NODE ? aws_xml_text(it, "regionName") : NULL;

		if (!name)
			continue;
		(*n)++;
		found |= streq(name, region);
		xmlFree(name);
	}
	return found;
}

static int count_vpcs(xmlDoc *doc, void *arg)
{
	xmlNode *set = aws_xml_find((xmlNode *)doc, "vpcSet"), *it;

	for (it = set ? set->children : NULL; it; it = it->next)
		if (it->type == XML_ELEMENT_NODE)
			(*(unsigned long *)arg)++;
	return 0;
}

/* vpc-max of DescribeAccountAttributes; -errno, or -ENOENT without it. */
static int vpc_max(struct cyris_aws *c, unsigned long *ret)
{
	struct aws_query q = {0};
	xmlDoc *doc = NULL;
	xmlNode *v;
	char *s;
	int r = aws_query_add(&q, "AttributeName.1", "vpc-max");

	if (r == 0)
		r = aws_call(c, "DescribeAccountAttributes", &q, &doc);
	aws_query_free(&q);
	if (r < 0)
		return r;
	v = aws_xml_find((xmlNode *)doc, "attributeValueSet");
	s = v ? aws_xml_text(aws_xml_find(v, "item"), "attributeValue") : NULL;
	r = s && cyris_parse_uint(s, 1000000, ret) == 0 ? 0 : -ENOENT;
	xmlFree(s);
	xmlFreeDoc(doc);
	return r;
}

static void check_quota(struct cyris_aws *c, struct cyris_check_list *l, bool needed)
{
	unsigned long max = 0, used = 0;
	int r = vpc_max(c, &max);

	if (r < 0) {
		cyris_check_add(l, "aws_vpc_quota", false, needed, "DescribeAccountAttributes vpc-max: %s",
				r == -ENOENT ? "no value in the answer" : aws_error_text(c));
		return;
	}
	r = aws_call_pages(c, "DescribeVpcs", NULL, count_vpcs, &used);
	if (r < 0)
		cyris_check_add(l, "aws_vpc_quota", false, needed, "DescribeVpcs: %s", aws_error_text(c));
	else
		cyris_check_add(l, "aws_vpc_quota", used < max, needed, "%lu of %lu VPCs in %s used%s",
				used, max, aws_region(c), used < max ? "" : ": a range cannot get its VPC");
}

/* Would a CreateVpc be allowed? EC2 answers a DryRun with DryRunOperation
 * when it would, UnauthorizedOperation when not. An endpoint that ignores
 * DryRun (moto) makes the VPC: the create got through, and the VPC, made
 * this moment and tagged cyris:check, is deleted again. */
static void check_create(struct cyris_aws *c, struct cyris_check_list *l, bool needed)
{
	struct aws_query q = {0};
	xmlDoc *doc = NULL;
	char *id = NULL;
	int r = aws_query_add(&q, "CidrBlock", "10.255.0.0/16");

	if (r == 0)
		r = aws_query_add(&q, "DryRun", "true");
	if (r == 0)
		r = aws_query_add(&q, "TagSpecification.1.ResourceType", "vpc");
	if (r == 0)
		r = aws_query_add(&q, "TagSpecification.1.Tag.1.Key", "cyris:check");
	if (r == 0)
		r = aws_query_add(&q, "TagSpecification.1.Tag.1.Value", "preflight");
	if (r == 0)
		r = aws_call(c, "CreateVpc", &q, &doc);
	aws_query_free(&q);
	if (r < 0 && streq(aws_error_code(c), "DryRunOperation")) {
		cyris_check_add(l, "aws_create", true, needed, "CreateVpc would be allowed (DryRun)");
		return;
	}
	if (r < 0) {
		cyris_check_add(l, "aws_create", false, needed, "CreateVpc (DryRun): %s", aws_error_text(c));
		return;
	}
	id = aws_xml_text(aws_xml_find((xmlNode *)doc, "vpc"), "vpcId");
	xmlFreeDoc(doc);
	r = id ? aws_query_add(&q, "VpcId", id) : -EPROTO;
	if (r == 0)
		r = aws_call(c, "DeleteVpc", &q, NULL);
	aws_query_free(&q);
	if (r == 0)
		cyris_check_add(l, "aws_create", true, needed, "CreateVpc got through (the endpoint "
				"ignores DryRun: %s was made and deleted again)", id);
	else
		cyris_check_add(l, "aws_create", false, needed, "CreateVpc with DryRun made %s and it "
				"could not be deleted: %s", id ? id : "a VPC",
				r == -EPROTO ? "no vpcId in the answer" : aws_error_text(c));
	xmlFree(id);
}

/* The configured VPC or subnet (@what "Vpc"/"Subnet"), when there is one. */
static void check_id(struct cyris_aws *c, struct cyris_check_list *l, bool needed,
		     const char *name, const char *action, const char *param, const char *id)
{
	struct aws_query q = {0};
	int r;

	if (!*id)
		return;
	r = aws_query_add(&q, param, id);
	if (r == 0)
		r = aws_call(c, action, &q, NULL);
	aws_query_free(&q);
	cyris_check_add(l, name, r == 0, needed, "%s: %s", id, r == 0 ? "there" : aws_error_text(c));
}

void aws_checks(struct cyris_check_list *l, const struct cyris_conf *conf, bool needed)
{
	static const char *const after_creds[] = { "aws_endpoint", "aws_region", "aws_vpc_quota", "aws_create" };
	struct cyris_aws *c = NULL;
	struct cyris_error err = {0};
	char msg[CYRIS_ERROR_MSG_MAX + CYRIS_ERROR_DETAIL_MAX + 16];
	xmlDoc *doc = NULL;
	unsigned n = 0;
	int r;

	r = aws_open(conf, NULL, &c, &err);
	if (r < 0) {
		cyris_error_format(&err, msg, sizeof(msg));
		cyris_check_add(l, "aws_creds", false, needed, "%s", msg);
		if (needed)
			not_checked(l, needed, "no client", after_creds, ARRAY_SIZE(after_creds));
		return;
	}
	if (!needed) {
		cyris_check_add(l, "aws_creds", true, false, "from %s (the endpoint is asked with "
				"--provider aws only)", aws_creds_source(c));
		aws_close(c);
		return;
	}
	aws_set_retry(c, 2, 200);       /* a preflight: quick, not patient */
	r = aws_call(c, "DescribeRegions", NULL, &doc);
	if (r < 0 && aws_error_code(c)[0] &&
	    (r == -EACCES || strstr(aws_error_code(c), "Auth") || strstr(aws_error_code(c), "Signature"))) {
		cyris_check_add(l, "aws_creds", false, true, "from %s, refused: %s", aws_creds_source(c),
				aws_error_text(c));
		cyris_check_add(l, "aws_endpoint", true, true, "%s answers", aws_endpoint(c));
		not_checked(l, true, "the credentials are refused", after_creds + 1, ARRAY_SIZE(after_creds) - 1);
	} else if (r < 0) {
		cyris_check_add(l, "aws_creds", true, true, "from %s", aws_creds_source(c));
		cyris_check_add(l, "aws_endpoint", false, true, "%s (region %s): %s", aws_endpoint(c),
				aws_region(c), aws_error_text(c));
		not_checked(l, true, "the endpoint does not answer", after_creds + 1, ARRAY_SIZE(after_creds) - 1);
	} else {
		bool offered = region_offered(doc, aws_region(c), &n);

		cyris_check_add(l, "aws_creds", true, true, "from %s, accepted", aws_creds_source(c));
		cyris_check_add(l, "aws_endpoint", true, true, "%s answers", aws_endpoint(c));
		cyris_check_add(l, "aws_region", offered, true, "%s %s (%u regions offered)", aws_region(c),
				offered ? "is offered" : "is not offered by the endpoint", n);
		check_quota(c, l, true);
		check_create(c, l, true);
		check_id(c, l, true, "aws_vpc_id", "DescribeVpcs", "VpcId.1", conf->aws_vpc_id);
		check_id(c, l, true, "aws_subnet_id", "DescribeSubnets", "SubnetId.1", conf->aws_subnet_id);
	}
	xmlFreeDoc(doc);
	aws_close(c);
}
