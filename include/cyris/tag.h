/* SPDX-License-Identifier: MIT */
/*
 * cyris/tag.h — ownership tags and derived names.
 *
 * Every kernel object cyris creates carries its owner. For links this is the
 * alias (IFLA_IFALIAS), e.g.
 *
 *     cyris range=124 net=office role=bridge
 *
 * Parsing the alias back is how listing and teardown find cyris's objects,
 * so a crash or a lost state file never leaves orphans.
 *
 * Kernel interface names are at most 15 bytes; cyris derives a short,
 * deterministic name from (kind, range, network, ...) and keeps the readable
 * one as an altname.
 */
#ifndef CYRIS_TAG_H
#define CYRIS_TAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default)

#define CYRIS_ID_MAX 32      /* longest range / network / guest id */
#define CYRIS_IFNAMSIZ 16    /* kernel IFNAMSIZ: 15 bytes + NUL */
#define CYRIS_ALTNAMSIZ 128  /* kernel ALTIFNAMSIZ */
#define CYRIS_ALIASSIZ 256   /* kernel IFALIASZ */

struct cyris_tag {
	char range[CYRIS_ID_MAX + 1];   /* "" when the object belongs to no range */
	char net[CYRIS_ID_MAX + 1];     /* network name, "" if none */
	char role[16];                  /* bridge, veth, tap, vxlan, guest, ... */
	unsigned instance;              /* 0 = not set */
	char guest[CYRIS_ID_MAX + 1];   /* guest id with clone index, "" if none */
	char nic[16];                   /* guest NIC (eth0, ...), "" if none */
};

/* true when @s is a valid id: 1..CYRIS_ID_MAX bytes of [A-Za-z0-9_.-], not
 * starting with '-' (ids go on command lines, where "-1" is an option) or
 * '.' (ids name files, where ".a" is hidden and ".." is the parent). */
bool cyris_id_valid(const char *s);

/* true when @s is a valid kernel interface name (1..15 bytes, no '/', ':',
 * whitespace, not "." or ".."). */
bool cyris_ifname_valid(const char *s);

/* Format @tag as an alias into @buf. Returns the length or -ENOSPC/-EINVAL. */
int cyris_tag_format(const struct cyris_tag *tag, char *buf, size_t size);

/*
 * Parse an alias. Returns true and fills *ret when @alias is a cyris tag
 * (it begins with the word "cyris"); unknown keys are ignored so newer tags
 * parse with older code. @ret may be NULL to only test ownership.
 */
bool cyris_tag_parse(const char *alias, struct cyris_tag *ret);

/* Words for the object @tag names, for messages: "the bridge of network
 * office of range 124", "guest desktop.1 of range 124", "the veth of guest
 * desktop.1 eth0 on network office of range 124". Returns the length or
 * -ENOSPC (then @buf holds as much as fits). */
int cyris_tag_describe(const struct cyris_tag *tag, char *buf, size_t size);

/* true when @tag belongs to range @range (an exact match). */
bool cyris_tag_in_range(const struct cyris_tag *tag, const char *range);

/*
 * Derive a kernel name: @kind ('c' bridge, 'v' veth, 't' tap, 'x' vxlan, ...)
 * followed by a readable prefix of @parts[0] and @parts[1] and 6 characters
 * of a 64-bit FNV-1a hash over the kind and every part. Deterministic; at most
 * 15 bytes. Parts must be ids (see cyris_id_valid); NULL parts are allowed
 * after the first. Returns 0 or -EINVAL.
 */
int cyris_name_derive(char kind, const char *const *parts, size_t n,
		      char ret[CYRIS_IFNAMSIZ]);

/*
 * The netdev group every link of range @range is created in: a crash between
 * creating a link and tagging it leaves it findable, and a range's links can
 * be deleted with one group delete. Bit 30 set (0x40000000..0x7fffffff): far
 * from the small numbers administrators use, yet still a positive int that
 * `ip link show group N` accepts.
 */
uint32_t cyris_range_group(const char *range);

/* The bridge name for (range, net[, instance > 1]), beginning with 'c'. */
int cyris_name_bridge(const char *range, const char *net, unsigned instance,
		      char ret[CYRIS_IFNAMSIZ]);
/* The same, beginning with @kind (the configured ifname_prefix). */
int cyris_name_bridge_kind(char kind, const char *range, const char *net,
			   unsigned instance, char ret[CYRIS_IFNAMSIZ]);

/*
 * Readable names are "cyris" and the ids, each after a '-'; inside an id a
 * '.' is written ".." and a '-' ".-", so that no two lists of ids give the
 * same name (range 1 network a-b: cyris-1-a.-b; range 1-a network b:
 * cyris-1.-a-b). Ids of only letters, digits and '_' appear as they are.
 */

/* The readable altname for a bridge: "cyris-R-N" (or "cyris-R-iI-N").
 * -EINVAL for a bad id, -ENAMETOOLONG when it does not fit. */
int cyris_altname_bridge(const char *range, const char *net, unsigned instance,
			 char ret[CYRIS_ALTNAMSIZ]);

/* The name of clone @index of guest @guest of @instance of @range: its
 * namespace or domain, "cyris-R-I-G-k", into @buf of @size bytes.
 * -EINVAL for a bad id, -ENAMETOOLONG when it does not fit. */
int cyris_name_guest(const char *range, unsigned instance, const char *guest,
		     unsigned index, char *buf, size_t size);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
