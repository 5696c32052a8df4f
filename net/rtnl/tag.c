/* SPDX-License-Identifier: MIT */
/*
 * Ownership tags (link aliases) and the derived kernel names.
 */
#include <ctype.h>
#include <stdint.h>

#include "cyris/tag.h"
#include "../base/util.h"

static bool id_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '.' || c == '-';
}

bool cyris_id_valid(const char *s)
{
	size_t n = 0;

	/* not "-1": on a command line that is an option; not ".a": in a
	 * directory (tunnel state files) that is hidden, and ".." the parent */
	if (!s || s[0] == '-' || s[0] == '.')
		return false;
	for (; s[n]; n++)
		if (!id_char(s[n]) || n >= CYRIS_ID_MAX)
			return false;
	return n > 0;
}

bool cyris_ifname_valid(const char *s)
{
	size_t n = 0;

	if (!s || streq(s, ".") || streq(s, ".."))
		return false;
	for (; s[n]; n++)
		if (s[n] == '/' || s[n] == ':' || isspace((unsigned char)s[n]) ||
		    n >= CYRIS_IFNAMSIZ - 1)
			return false;
	return n > 0;
}

int cyris_tag_format(const struct cyris_tag *tag, char *buf, size_t size)
{
	size_t len;
	int n;

	if ((tag->range[0] && !cyris_id_valid(tag->range)) ||
	    (tag->net[0] && !cyris_id_valid(tag->net)) ||
	    (tag->guest[0] && !cyris_id_valid(tag->guest)) ||
	    (tag->role[0] && !cyris_id_valid(tag->role)) ||
	    (tag->nic[0] && !cyris_id_valid(tag->nic)))
		return -EINVAL;
	n = snprintf(buf, size, "cyris");
	len = (size_t)n;
#define ADD(key, fmt, val)                                                     \
	do {                                                                   \
		n = snprintf(buf + len, len < size ? size - len : 0,           \
			     " " key "=" fmt, val);                            \
		len += (size_t)n;                                              \
	} while (0)
	if (tag->range[0])
		ADD("range", "%s", tag->range);
	if (tag->instance)
		ADD("inst", "%u", tag->instance);
	if (tag->net[0])
		ADD("net", "%s", tag->net);
	if (tag->guest[0])
		ADD("guest", "%s", tag->guest);
	if (tag->nic[0])
		ADD("nic", "%s", tag->nic);
	if (tag->role[0])
		ADD("role", "%s", tag->role);
#undef ADD
	return len < size ? (int)len : -ENOSPC;
}

int cyris_tag_describe(const struct cyris_tag *t, char *buf, size_t size)
{
	size_t len = 0;
	int n;

#define ADD(...)                                                               \
	do {                                                                   \
		n = snprintf(buf + len, len < size ? size - len : 0, __VA_ARGS__); \
		len += (size_t)n;                                              \
	} while (0)
	if (streq(t->role, "guest") && t->guest[0])
		ADD("guest %s", t->guest);
	else
		ADD("the %s", t->role[0] ? t->role : "link");
	if (t->guest[0] && !streq(t->role, "guest"))
		ADD(" of guest %s", t->guest);
	if (t->nic[0])
		ADD(" %s", t->nic);
	if (t->net[0])
		ADD(t->guest[0] ? " on network %s" : " of network %s", t->net);
	if (t->instance > 1)
		ADD(" of instance %u", t->instance);
	if (t->range[0])
		ADD(" of range %s", t->range);
#undef ADD
	return len < size ? (int)len : -ENOSPC;
}

static void set_field(struct cyris_tag *t, const char *key, size_t klen,
		      const char *val, size_t vlen)
{
	char *dst = NULL;
	size_t cap = 0;
	char num[16];
	unsigned long u;

#define IS(k) (klen == sizeof(k) - 1 && memcmp(key, k, klen) == 0)
	if (IS("range"))
		dst = t->range, cap = sizeof(t->range);
	else if (IS("net"))
		dst = t->net, cap = sizeof(t->net);
	else if (IS("role"))
		dst = t->role, cap = sizeof(t->role);
	else if (IS("guest"))
		dst = t->guest, cap = sizeof(t->guest);
	else if (IS("nic"))
		dst = t->nic, cap = sizeof(t->nic);
	else if (IS("inst") && vlen < sizeof(num)) {
		memcpy(num, val, vlen);
		num[vlen] = '\0';
		if (cyris_parse_uint(num, UINT32_MAX, &u) == 0)
			t->instance = (unsigned)u;
	}
#undef IS
	if (dst && vlen < cap) {
		memcpy(dst, val, vlen);
		dst[vlen] = '\0';
	}
}

bool cyris_tag_parse(const char *alias, struct cyris_tag *ret)
{
	struct cyris_tag t = {0};
	const char *p;

	if (!alias || strncmp(alias, "cyris", 5) != 0 ||
	    (alias[5] != '\0' && alias[5] != ' '))
		return false;
	for (p = alias + 5; *p;) {
		const char *w, *eq;

		while (*p == ' ')
			p++;
		w = p;
		while (*p && *p != ' ')
			p++;
		eq = memchr(w, '=', (size_t)(p - w));
		if (eq && eq > w)
			set_field(&t, w, (size_t)(eq - w), eq + 1,
				  (size_t)(p - eq - 1));
	}
	if (ret)
		*ret = t;
	return true;
}

bool cyris_tag_in_range(const struct cyris_tag *tag, const char *range)
{
	return tag && range && tag->range[0] && streq(tag->range, range);
}

/* Crockford's base32 alphabet in lower case: no i, l, o, u. */
static const char b32[] = "0123456789abcdefghjkmnpqrstvwxyz";

static uint64_t fnv1a(uint64_t h, const void *data, size_t n)
{
	const unsigned char *p = data;

	while (n--) {
		h ^= *p++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

uint32_t cyris_range_group(const char *range)
{
	uint64_t h = fnv1a(0xcbf29ce484222325ULL, "group", 5);

	h = fnv1a(h, range, strlen(range));
	return 0x40000000u | (uint32_t)((h ^ (h >> 32)) & 0x3fffffffu);
}

int cyris_name_derive(char kind, const char *const *parts, size_t n,
		      char ret[CYRIS_IFNAMSIZ])
{
	uint64_t h = 0xcbf29ce484222325ULL;
	char out[CYRIS_IFNAMSIZ];
	size_t len = 0, i;

	if (!isalpha((unsigned char)kind) || n == 0 || !cyris_id_valid(parts[0]))
		return -EINVAL;
	h = fnv1a(h, &kind, 1);
	for (i = 0; i < n; i++) {
		/* a NULL part and an empty part hash differently from any id */
		unsigned char sep = parts[i] ? 0x1f : 0x1e;

		if (parts[i] && !cyris_id_valid(parts[i]))
			return -EINVAL;
		h = fnv1a(h, &sep, 1);
		if (parts[i])
			h = fnv1a(h, parts[i], strlen(parts[i]));
	}
	/* kind + 4 of part 0 + '-' + 2 of part 1 + '-' + 6 hash chars <= 15 */
	out[len++] = kind;
	for (i = 0; parts[0][i] && i < 4; i++)
		out[len++] = parts[0][i];
	out[len++] = '-';
	if (n > 1 && parts[1]) {
		for (i = 0; parts[1][i] && i < 2; i++)
			out[len++] = parts[1][i];
		out[len++] = '-';
	}
	for (i = 0; i < 6; i++, h >>= 5)
		out[len++] = b32[h & 31];
	out[len] = '\0';
	memcpy(ret, out, len + 1);
	return 0;
}

int cyris_name_bridge_kind(char kind, const char *range, const char *net,
			   unsigned instance, char ret[CYRIS_IFNAMSIZ])
{
	char inst[16];
	const char *parts[3] = { range, net, NULL };

	if (!cyris_id_valid(range) || !cyris_id_valid(net))
		return -EINVAL;
	if (instance > 1) {
		snprintf(inst, sizeof(inst), "%u", instance);
		parts[2] = inst;
		return cyris_name_derive(kind, parts, 3, ret);
	}
	return cyris_name_derive(kind, parts, 2, ret);
}

int cyris_name_bridge(const char *range, const char *net, unsigned instance,
		      char ret[CYRIS_IFNAMSIZ])
{
	return cyris_name_bridge_kind('c', range, net, instance, ret);
}

/*
 * Readable names joined from ids: "cyris", then each part after a '-'.
 * Inside a part, '.' is written ".." and '-' is written ".-", so that every
 * unescaped '-' is a separator and the parts come back out unambiguously:
 * range "1" network "a-b" is cyris-1-a.-b, range "1-a" network "b" is
 * cyris-1.-a-b. Ids without '.' or '-' (all of CyRIS's examples) keep the
 * plain names, and the result stays within the id alphabet, as libvirt's
 * domain names need.
 */
static int name_join(const char *const *parts, size_t n, char *buf, size_t size)
{
	size_t len = 0, i;
	const char *s;

#define PUT(ch)                                                                \
	do {                                                                   \
		if (len + 1 >= size)                                           \
			return -ENAMETOOLONG;                                  \
		buf[len++] = (ch);                                             \
	} while (0)
	for (s = "cyris"; *s; s++)
		PUT(*s);
	for (i = 0; i < n; i++) {
		if (!cyris_id_valid(parts[i]))
			return -EINVAL;
		PUT('-');
		for (s = parts[i]; *s; s++) {
			if (*s == '.' || *s == '-')
				PUT('.');
			PUT(*s);
		}
	}
#undef PUT
	buf[len] = '\0';
	return (int)len;
}

int cyris_altname_bridge(const char *range, const char *net, unsigned instance,
			 char ret[CYRIS_ALTNAMSIZ])
{
	char inst[16];
	const char *parts[3] = { range, inst, net };
	int r;

	if (instance > 1) {
		snprintf(inst, sizeof(inst), "i%u", instance);
		r = name_join(parts, 3, ret, CYRIS_ALTNAMSIZ);
	} else {
		parts[1] = net;
		r = name_join(parts, 2, ret, CYRIS_ALTNAMSIZ);
	}
	return r < 0 ? r : 0;
}

int cyris_name_guest(const char *range, unsigned instance, const char *guest,
		     unsigned index, char *buf, size_t size)
{
	char inst[16], k[16];
	const char *parts[4] = { range, inst, guest, k };
	int r;

	snprintf(inst, sizeof(inst), "%u", instance);
	snprintf(k, sizeof(k), "%u", index);
	r = name_join(parts, 4, buf, size);
	return r < 0 ? r : 0;
}
