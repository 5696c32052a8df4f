/* SPDX-License-Identifier: MIT */
/*
 * cyris/netns.h — named network namespaces (/run/netns/NAME), as `ip netns`
 * makes them, created and removed in-process, tagged for their owner.
 *
 * The tag is the alias of the namespace's loopback device: kernel state, so
 * a range's namespaces are found again after a crash.
 */
#ifndef CYRIS_NETNS_H
#define CYRIS_NETNS_H

#include <stddef.h>

#include "cyris/tag.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CYRIS_NETNS_DIR "/run/netns"
#define CYRIS_NETNS_NAMSIZ 128

/* true when @name can name a namespace (1..127 bytes, no '/', not . or ..). */
bool cyris_netns_name_valid(const char *name);

/*
 * Create /run/netns/@name: a new network namespace with its loopback up and,
 * when @tag is given, tagged. -EEXIST when the name is taken. A failure
 * leaves nothing behind.
 */
int cyris_netns_create(const char *name, const struct cyris_tag *tag);

/* Remove /run/netns/@name (the namespace dies with its last user). */
int cyris_netns_delete(const char *name);

/* Read the tag of namespace @name: 1 and *ret when it carries one, 0 when
 * it does not, -errno. */
int cyris_netns_tag(const char *name, struct cyris_tag *ret);

struct cyris_netns_entry {
	char name[CYRIS_NETNS_NAMSIZ];
	struct cyris_tag tag;
};

/* Every namespace in /run/netns whose tag is in range @range (NULL: every
 * tagged one). Free *ret. */
int cyris_netns_list(const char *range, struct cyris_netns_entry **ret, size_t *ret_n);

#ifdef __cplusplus
}
#endif
#endif
