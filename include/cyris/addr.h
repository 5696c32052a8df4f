/* SPDX-License-Identifier: MIT */
/*
 * cyris/addr.h — IPv4/IPv6 addresses and prefixes, and interface addresses.
 */
#ifndef CYRIS_ADDR_H
#define CYRIS_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cyris/nl.h"

#ifdef __cplusplus
extern "C" {
#endif

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

/* An address on an interface, as the kernel reports it. */
struct cyris_addr {
	int ifindex;
	struct cyris_prefix prefix;
	uint8_t scope;
	uint32_t flags;          /* IFA_F_* */
};

struct cyris_addr_list {
	struct cyris_addr *v;
	size_t n, cap;
};

/* Add / delete @p on @ifindex. IPv6 addresses are added with IFA_F_NODAD
 * (range addresses are planned, not discovered). Returns 0 or -errno
 * (-EEXIST when the address is already there). */
int cyris_addr_add(struct cyris_nl *nl, int ifindex,
		   const struct cyris_prefix *p);
int cyris_addr_del(struct cyris_nl *nl, int ifindex,
		   const struct cyris_prefix *p);

/* List addresses of @ifindex (0: of every interface), both families. */
int cyris_addr_list(struct cyris_nl *nl, int ifindex,
		    struct cyris_addr_list *ret);
void cyris_addr_list_free(struct cyris_addr_list *l);

#ifdef __cplusplus
}
#endif
#endif
