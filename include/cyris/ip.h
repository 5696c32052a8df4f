/* SPDX-License-Identifier: MIT */
/*
 * cyris/ip.h — IPv4/IPv6 addresses and prefixes as values: parse, format,
 * compare (net/base/ip.c; no kernel involved). The configuration, the range
 * file and every layer use them.
 */
#ifndef CYRIS_IP_H
#define CYRIS_IP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default)

struct cyris_ip {
	int family;              /* AF_INET or AF_INET6; 0 = unset */
	uint8_t a[16];           /* network byte order */
};

struct cyris_prefix {
	struct cyris_ip ip;
	uint8_t len;             /* prefix length */
};

#define CYRIS_IPSTRLEN 46                  /* INET6_ADDRSTRLEN */
#define CYRIS_PREFIXSTRLEN (CYRIS_IPSTRLEN + 4)

/* Parse "10.0.0.1" or "fd00::1". Returns 0 or -EINVAL. */
int cyris_ip_parse(const char *s, struct cyris_ip *ret);

/* Parse "10.0.0.1/24" (or a bare address when @need_len is false, which
 * gets the full length). Returns 0 or -EINVAL. */
int cyris_prefix_parse(const char *s, bool need_len, struct cyris_prefix *ret);

/* Format into @buf (CYRIS_IPSTRLEN / CYRIS_PREFIXSTRLEN bytes). */
const char *cyris_ip_format(const struct cyris_ip *ip, char *buf, size_t size);
const char *cyris_prefix_format(const struct cyris_prefix *p, char *buf,
				size_t size);

/* Number of address bytes for the family (4 or 16), 0 if unset. */
size_t cyris_ip_len(const struct cyris_ip *ip);
bool cyris_ip_equal(const struct cyris_ip *a, const struct cyris_ip *b);

/* The prefix with its host bits cleared (the network). */
struct cyris_prefix cyris_prefix_network(const struct cyris_prefix *p);
/* true when @ip lies in @p. */
bool cyris_prefix_contains(const struct cyris_prefix *p,
			   const struct cyris_ip *ip);
/* true when the two prefixes share any address. */
bool cyris_prefix_overlap(const struct cyris_prefix *a,
			  const struct cyris_prefix *b);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
