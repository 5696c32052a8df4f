/* SPDX-License-Identifier: MIT */
/* Reading EC2's answers: elements by local name, namespaces ignored. */
#include <libxml/tree.h>

#include "aws-priv.h"
#include "../../net/base/util.h"

static bool named(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && streq((const char *)n->name, name);
}

xmlNode *aws_xml_find(xmlNode *n, const char *name)
{
	xmlNode *c, *hit;

	if (!n)
		return NULL;
	for (c = n->children; c; c = c->next) {
		if (named(c, name))
			return c;
		hit = aws_xml_find(c, name);
		if (hit)
			return hit;
	}
	return NULL;
}

char *aws_xml_text(xmlNode *n, const char *name)
{
	xmlNode *c;

	if (!n)
		return NULL;
	for (c = n->children; c; c = c->next)
		if (named(c, name))
			return (char *)xmlNodeGetContent(c);
	return NULL;
}
