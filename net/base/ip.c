/* SPDX-License-Identifier: MIT */
/* IP addresses and prefixes as values. */
#include <arpa/inet.h>
#include <sys/socket.h>

#include "cyris/ip.h"
#include "util.h"

size_t cyris_ip_len(const struct cyris_ip *ip)
{
	return ip->family == AF_INET ? 4 : ip->family == AF_INET6 ? 16 : 0;
}

int cyris_ip_parse(const char *s, struct cyris_ip *ret)
{
	struct cyris_ip ip = {0};

	if (!s)
		return -EINVAL;
	if (inet_pton(AF_INET, s, ip.a) == 1)
		ip.family = AF_INET;
	else if (inet_pton(AF_INET6, s, ip.a) == 1)
		ip.family = AF_INET6;
	else
		return -EINVAL;
	*ret = ip;
	return 0;
}

int cyris_prefix_parse(const char *s, bool need_len, struct cyris_prefix *ret)
{
	char buf[CYRIS_PREFIXSTRLEN];
	struct cyris_prefix p = {0};
	const char *slash;
	unsigned long len;
	size_t n;

	if (!s)
		return -EINVAL;
	slash = strchr(s, '/');
	n = slash ? (size_t)(slash - s) : strlen(s);
	if (n >= sizeof(buf) || (!slash && need_len))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (cyris_ip_parse(buf, &p.ip) < 0)
		return -EINVAL;
	len = cyris_ip_len(&p.ip) * 8;
	if (slash && cyris_parse_uint(slash + 1, len, &len) < 0)
		return -EINVAL;
	p.len = (uint8_t)len;
	*ret = p;
	return 0;
}

const char *cyris_ip_format(const struct cyris_ip *ip, char *buf, size_t size)
{
	if (!ip->family || !inet_ntop(ip->family, ip->a, buf, (socklen_t)size))
		snprintf(buf, size, "?");
	return buf;
}

const char *cyris_prefix_format(const struct cyris_prefix *p, char *buf,
				size_t size)
{
	char ip[CYRIS_IPSTRLEN];

	snprintf(buf, size, "%s/%u", cyris_ip_format(&p->ip, ip, sizeof(ip)),
		 p->len);
	return buf;
}

bool cyris_ip_equal(const struct cyris_ip *a, const struct cyris_ip *b)
{
	return a->family == b->family &&
	       memcmp(a->a, b->a, cyris_ip_len(a)) == 0;
}

struct cyris_prefix cyris_prefix_network(const struct cyris_prefix *p)
{
	struct cyris_prefix r = *p;
	size_t i, n = cyris_ip_len(&p->ip);

	for (i = 0; i < n; i++) {
		unsigned bits = p->len > i * 8 ? p->len - (unsigned)i * 8 : 0;

		if (bits < 8)
			r.ip.a[i] &= (uint8_t)(0xff00u >> bits);
	}
	return r;
}

bool cyris_prefix_contains(const struct cyris_prefix *p,
			   const struct cyris_ip *ip)
{
	struct cyris_prefix q = { .ip = *ip, .len = p->len };
	struct cyris_prefix a = cyris_prefix_network(p), b;

	if (ip->family != p->ip.family)
		return false;
	b = cyris_prefix_network(&q);
	return cyris_ip_equal(&a.ip, &b.ip);
}

bool cyris_prefix_overlap(const struct cyris_prefix *a,
			  const struct cyris_prefix *b)
{
	const struct cyris_prefix *wide = a->len <= b->len ? a : b;
	const struct cyris_prefix *narrow = wide == a ? b : a;

	return cyris_prefix_contains(wide, &narrow->ip);
}
