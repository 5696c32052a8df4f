/* SPDX-License-Identifier: MIT */
/*
 * net/ without vm/: this program is linked from net/'s objects alone and a
 * provider table of netns only, without libvirt, libxml2 or libisofs (see
 * the Makefile). That it links at all is the point; it also checks that
 * the topology finds providers only through the table.
 */
#include <errno.h>
#include <string.h>

#include "cyris/check.h"
#include "cyris/conf.h"
#include "cyris/provider.h"
#include "../tap.h"

int main(void)
{
	struct cyris_provider *p = NULL;
	struct cyris_conf *conf = cyris_conf_new();

	plan(5);
	ok(conf != NULL, "a configuration");
	is_int(cyris_provider_open("netns", conf, NULL, &p), 0, "the netns provider opens from the table");
	is_str(p && p->ops ? p->ops->name : "", "netns", "with the netns provider's operations");
	cyris_provider_free(p);
	p = NULL;
	is_int(cyris_provider_open("libvirt", conf, NULL, &p), -ENOENT,
	       "libvirt is not in a table that does not list it");
	ok(p == NULL, "and nothing is returned");
	cyris_conf_free(conf);
	return done();
}
