/* SPDX-License-Identifier: MIT */
/*
 * cyris/netns.h — named network namespaces (/run/netns/NAME), as `ip netns`
 * makes them, created and removed in-process, tagged for their owner.
 *
 * Ownership is kept on the host, where nothing inside the namespace can
 * write: cyris_netns_create() records each tagged namespace it makes in
 * CYRIS_NETNS_RECORDS/NAME (the namespace's inode and cookie, and its tag),
 * so a range's namespaces are found again after a crash. A namespace is
 * cyris's only when its record names it: one made by anything else, or one
 * that has replaced cyris's under the same name, is not, whatever the tag
 * on its loopback says (cyris puts the tag there too, for people to read;
 * root inside the namespace can rewrite it).
 */
#ifndef CYRIS_NETNS_H
#define CYRIS_NETNS_H

#include <stddef.h>

#include "cyris/tag.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default)

#define CYRIS_NETNS_DIR "/run/netns"
#define CYRIS_NETNS_NAMSIZ 128
#define CYRIS_NETNS_RECORDS "/run/cyris/netns"  /* owned by root (or the user), not
						    writable by others */

/* true when @name can name a namespace (1..127 bytes, no '/', not . or ..). */
bool cyris_netns_name_valid(const char *name);

/*
 * Create /run/netns/@name: a new network namespace with its loopback up and,
 * when @tag is given, tagged. -EEXIST when the name is taken. A failure
 * leaves nothing behind.
 */
int cyris_netns_create(const char *name, const struct cyris_tag *tag);

/*
 * The same, and *ret_nl a context open inside the new namespace (the one
 * that brought its loopback up) for what the caller makes there next: no
 * second socket, no entering the namespace again. Close it with
 * cyris_nl_close(); on failure *ret_nl is untouched.
 */
struct cyris_nl;
int cyris_netns_create_nl(const char *name, const struct cyris_tag *tag,
			  struct cyris_nl **ret_nl);

/* Remove /run/netns/@name (the namespace dies with its last user), and
 * its record. */
int cyris_netns_delete(const char *name);

/* The owner of namespace @name: 1 and its recorded tag in *ret when cyris
 * made it (@ret may be NULL), 0 when cyris did not, -ENOENT when there is no
 * such namespace, -EPERM when the records' directory is writable by others,
 * -errno. */
int cyris_netns_tag(const char *name, struct cyris_tag *ret);

struct cyris_netns_entry {
	char name[CYRIS_NETNS_NAMSIZ];
	struct cyris_tag tag;
};

/* Every namespace in /run/netns that cyris made, whose recorded tag is in
 * range @range (NULL: all of them). Free *ret. */
int cyris_netns_list(const char *range, struct cyris_netns_entry **ret, size_t *ret_n);

/*
 * Remove the records of range @range (NULL: every range) that name no
 * namespace any more (cyris killed while making or deleting one, or the
 * namespace deleted by something else), and the empty names a killed
 * cyris_netns_create() left in /run/netns. Never touches a namespace.
 * *ret_n (may be NULL) is the number of records removed.
 */
int cyris_netns_prune(const char *range, size_t *ret_n);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
