/* SPDX-License-Identifier: MIT */
/*
 * cyris/fw.h — range isolation and forwarding rules in nftables.
 *
 * One `inet` table per range ("cyris_" + range id, commented
 * "cyris range=R"), built with libnftnl and sent over libmnl as one batch
 * per call: a policy is replaced by deleting and re-adding the table in the
 * same transaction, so there is never a moment without rules and a batch the
 * kernel rejects leaves the previous policy in force.
 *
 * The range's interfaces — links tagged with the range that carry a network
 * name and are nobody's port (its bridges; in a gateway guest, its NICs) —
 * are found from the kernel's tags and kept in the named set @ifaces. Base
 * chains have policy accept and return at once for packets that touch none
 * of them, so one range's table never changes another range's or the
 * host's traffic:
 *
 *   forward     established/related accepted; the rules (chain allow), the
 *               exposed guests (chain expose), egress (chain egress); then
 *               anything else from or to the range's interfaces dropped
 *   input       from the range's interfaces to the host: only what a rule
 *               with dst=host allows
 *   prerouting  DNAT of exposed host ports (nat)
 *   postrouting masquerade of the range's traffic leaving through a NAT
 *               interface (nat)
 *
 * Rules use CyRIS's syntax: "src=office,external dst=internal dport=3306",
 * keys src, dst, sport, dport, proto (tcp|udp|icmp), comma lists, ports or
 * port ranges (1000-2000). A network name stands for the subnets of that
 * network's interfaces; CIDRs and addresses stand for themselves; dst=host
 * means the host itself (the input chain). A port rule without proto allows
 * TCP and UDP. A rule is one kernel rule per address family, its lists
 * anonymous sets. Its text is kept as the kernel rule's comment; a text too
 * long for a comment (nft shows 127 bytes) is split into as few kernel
 * rules as let each comment say its own share in the same syntax
 * ("src=10.1.2.0/24,10.1.4.0/24 dst=10.1.3.10 dport=3306 proto=tcp"). A rule with a source also matches
 * "fib saddr . iif oif != 0": a source address is believed only from the
 * interface its route leaves through, so a guest cannot borrow another
 * network's address.
 *
 * Next to it, a table "bridge cyris_R" (made, replaced and removed in the
 * same transactions; not shown) drops a frame that one of the range's
 * bridges forwards from a port with a range bridge's own MAC as its source:
 * forged, and what a gateway guest's uplink guard relies on
 * (cyris_fw_policy_add_uplink()).
 */
#ifndef CYRIS_FW_H
#define CYRIS_FW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cyris/addr.h"
#include "cyris/tag.h"
#include "cyris/error.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default)

#define CYRIS_FW_TCP  1u
#define CYRIS_FW_UDP  2u
#define CYRIS_FW_ICMP 4u

#define CYRIS_FW_MAX_LIST 16        /* entries in one src/dst/port list */
#define CYRIS_FW_TABLESIZ 48

struct cyris_fw_ports {
	uint16_t lo, hi;
};

/* A source or destination as written. */
struct cyris_fw_endpoint {
	char name[64];                  /* as written */
	bool is_host;                   /* "host": the host itself */
	bool is_prefix;                 /* a CIDR or an address */
	struct cyris_prefix prefix;     /* when is_prefix */
};

/* One rule as written (names not yet resolved). */
struct cyris_fw_rule {
	unsigned line;                  /* source line, 0 if none */
	char text[256];                 /* canonical text, for messages; when
					   it does not fit (long_text), a
					   shortened form ending in " ..." */
	bool long_text;                 /* (the kernel rules' comments hold the
					   text when it is under 128 bytes, nft's
					   limit, else shares of it, each exact) */
	struct cyris_fw_endpoint src[CYRIS_FW_MAX_LIST], dst[CYRIS_FW_MAX_LIST];
	size_t n_src, n_dst;            /* 0 = any */
	struct cyris_fw_ports sport[CYRIS_FW_MAX_LIST], dport[CYRIS_FW_MAX_LIST];
	size_t n_sport, n_dport;
	unsigned proto;                 /* CYRIS_FW_*; 0 = every protocol */
};

/*
 * Parse "src=a,b dst=c dport=25,53 proto=tcp". Returns 0, or -EINVAL with a
 * message in @err (which does not repeat the rule).
 */
int cyris_fw_rule_parse(const char *text, struct cyris_fw_rule *ret,
			struct cyris_error *err);

/* Recompute @r->text (and long_text) from its fields (after a caller
 * changed them). Returns 0, or -ENAMETOOLONG when the canonical text did
 * not fit and text is the shortened form. */
int cyris_fw_rule_format(struct cyris_fw_rule *r);

/* The whole canonical text of @r, however long (malloc'd; NULL when out of
 * memory). What `cyris-fw apply` reads back as the same rule. */
char *cyris_fw_rule_text(const struct cyris_fw_rule *r);

/* A range network as the firewall sees it. */
struct cyris_fw_net {
	char name[CYRIS_ID_MAX + 1];
	struct cyris_prefix *addrs;     /* the range's addresses on it (prefix =
					   the address with its length) */
	size_t n_addrs, cap_addrs;
	char (*ifnames)[CYRIS_IFNAMSIZ];
	size_t n_ifnames, cap_ifnames;
};

/* An exposed guest: host port -> guest address and port. */
struct cyris_fw_expose {
	uint16_t host_port;
	struct cyris_ip to;
	uint16_t to_port;
	unsigned proto;                 /* CYRIS_FW_TCP or CYRIS_FW_UDP */
	struct cyris_prefix from;       /* family 0 = from anywhere */
	bool snat;                      /* also masquerade it to the host's address
					   on the way to the guest */
};

/* A gateway guest's uplink: see cyris_fw_policy_add_uplink(). */
struct cyris_fw_uplink {
	char ifname[CYRIS_IFNAMSIZ];
	uint8_t mac[6];                 /* the next hop's (the host's bridge) */
};

struct cyris_fw_policy {
	char range[CYRIS_ID_MAX + 1];
	struct cyris_fw_net *nets;
	size_t n_nets, cap_nets;
	/* the rules, each packed into as many bytes as it uses (a struct
	 * cyris_fw_rule has room for its longest lists: some 3 KB); read one
	 * back with cyris_fw_policy_rule() */
	unsigned char *rules;
	size_t *rule_at;                /* where each rule begins in @rules */
	size_t n_rules, cap_rules, len_rules, size_rules;
	struct cyris_fw_expose *exposes;
	size_t n_exposes, cap_exposes;
	char (*nat)[CYRIS_IFNAMSIZ];    /* egress interfaces */
	size_t n_nat, cap_nat;
	char (*ingress)[CYRIS_IFNAMSIZ]; /* entry points' way in (see below) */
	size_t n_ingress, cap_ingress;
	struct cyris_fw_uplink *uplinks;
	size_t n_uplinks, cap_uplinks;
};

/* An empty policy for @range (-EINVAL for an invalid range id). */
int cyris_fw_policy_init(struct cyris_fw_policy *p, const char *range);
void cyris_fw_policy_clear(struct cyris_fw_policy *p);

/* Add an interface with its addresses to network @net (created on first use). */
int cyris_fw_policy_add_iface(struct cyris_fw_policy *p, const char *net,
			      const char *ifname, const struct cyris_prefix *addrs,
			      size_t n_addrs);
/* Add a rule; every network name it uses must be known. -EINVAL with a
 * message in @err otherwise. */
int cyris_fw_policy_add_rule(struct cyris_fw_policy *p, const struct cyris_fw_rule *r,
			     struct cyris_error *err);
/* Rule @i of @p (in the order added) into @ret; -ENOENT past the last. */
int cyris_fw_policy_rule(const struct cyris_fw_policy *p, size_t i, struct cyris_fw_rule *ret);
int cyris_fw_policy_add_expose(struct cyris_fw_policy *p, const struct cyris_fw_expose *e);
int cyris_fw_policy_add_nat(struct cyris_fw_policy *p, const char *ifname);
/* An interface outside clients of entry points come in on, whose IPv4
 * forwarding cyris turned on (the host does not forward as a whole): what
 * the host forwards from it is only what entry points DNAT and the answers
 * of connections made from elsewhere; anything else from it is dropped, as
 * it was before. The rule also records that cyris turned that forwarding
 * on, so the last range's down turns it off. */
int cyris_fw_policy_add_ingress(struct cyris_fw_policy *p, const char *ifname);

/*
 * In a gateway guest: @ifname is the NIC its default route leaves through
 * and @mac the MAC of the next hop there (the host's bridge). A packet that
 * comes in on @ifname with a source outside @ifname's subnets is dropped
 * (forward and input, before anything else of the table: also answers)
 * unless its Ethernet source is @mac: the default route points back out of
 * @ifname for every outside address, so "fib saddr . iif" alone would let a
 * neighbour on that network claim any address from outside the range.
 * IPv6 link-local and unspecified sources (neighbour discovery) pass. No
 * guest can send with the host bridge's MAC: the host's bridge table drops
 * it (see the top of this file). -EEXIST when @ifname has one already.
 */
int cyris_fw_policy_add_uplink(struct cyris_fw_policy *p, const char *ifname,
			       const uint8_t mac[6]);

/* The expose that the comment @comment of a rule cyris installed carries
 * (as cyris_fw_show() returns it); -EINVAL when it carries none. */
int cyris_fw_expose_parse(const char *comment, struct cyris_fw_expose *ret);
/* The interface of an ingress guard's comment ("ingress IF: ..."); -EINVAL
 * when @comment is not one. */
int cyris_fw_ingress_parse(const char *comment, char ifname[CYRIS_IFNAMSIZ]);

/* The uplink of an uplink guard's comment ("uplink IF from MAC ...");
 * -EINVAL when @comment is not one. */
int cyris_fw_uplink_parse(const char *comment, struct cyris_fw_uplink *ret);

/* The table name of @range into @buf (CYRIS_FW_TABLESIZ bytes). */
int cyris_fw_table_name(const char *range, char *buf, size_t size);

struct cyris_fw;

/* A firewall context in namespace @netns (as cyris_nl_open). */
int cyris_fw_open(struct cyris_fw **ret, const char *netns);
void cyris_fw_free(struct cyris_fw *fw);

/*
 * Fault injection and limits, for tests; the library reads no environment
 * for them (cyris-fw maps CYRIS_FW_INJECT_BAD_RULE and CYRIS_FW_RCVBUF to
 * these calls). cyris_fw_set_bad_rule(): the @nth kernel rule (1-based) of
 * every later batch gets a payload the kernel rejects, to show that a
 * rejected batch changes nothing and that the error names its rule; 0 turns
 * it off. cyris_fw_set_rcvbuf(): every later batch reads its ACKs through a
 * receive buffer of @bytes (SO_RCVBUF, which the kernel doubles and
 * net.core.rmem_max caps) instead of one sized to the batch; 0 restores it.
 */
void cyris_fw_set_bad_rule(struct cyris_fw *fw, int nth);
void cyris_fw_set_rcvbuf(struct cyris_fw *fw, int bytes);

/*
 * What went wrong in the last failed call (cyris/error.h): @e has the code,
 * the message "TEXT: strerror" and the kernel's extended-ack text as the
 * detail (source "kernel"); @rule and @line map it back to the policy's rule
 * that caused it, and @text is that rule's text or what failed. Valid until
 * the next call on @fw.
 */
struct cyris_fw_error {
	struct cyris_error e;
	int rule;                       /* rule index, -1 = not a rule */
	unsigned line;                  /* that rule's source line */
	char text[256];                 /* that rule's text, or what failed */
};
const struct cyris_fw_error *cyris_fw_last_error(struct cyris_fw *fw);

/* Fill @p's networks from the kernel's tags in the context's namespace. */
int cyris_fw_resolve(struct cyris_fw *fw, struct cyris_fw_policy *p);

/*
 * Replace @p->range's whole policy in one transaction. Exposed ports and NAT
 * interfaces already in the kernel are kept unless @p names its own. A
 * table of that name that cyris does not own is refused (-EEXIST) unless
 * @force.
 */
int cyris_fw_apply(struct cyris_fw *fw, const struct cyris_fw_policy *p, bool force);

/* Add one rule / exposed port / NAT interface to an applied policy, each in
 * its own transaction (-ENOENT when the range has no table). An expose to
 * an address on another range's network is refused (-EPERM), and one to an
 * address on none of @range's networks too (-EHOSTUNREACH) unless @force. */
int cyris_fw_allow(struct cyris_fw *fw, const char *range,
		   const struct cyris_fw_rule *r, struct cyris_error *err);
int cyris_fw_expose(struct cyris_fw *fw, const char *range,
		    const struct cyris_fw_expose *e, bool force);
int cyris_fw_nat(struct cyris_fw *fw, const char *range, const char *ifname);

/* Remove @range's table (and its bridge table) and nothing else (-ENOENT
 * when there is none; -EPERM for a table of that name cyris does not own,
 * unless @force). */
int cyris_fw_destroy(struct cyris_fw *fw, const char *range, bool force);

/* What is installed, with counters. */
struct cyris_fw_krule {
	char chain[32];
	uint64_t handle;
	char comment[256];              /* the source rule's text, or a role */
	uint64_t packets, bytes;
	char verdict[16];               /* accept, drop, return, jump, dnat, masquerade */
};

struct cyris_fw_table {
	char range[CYRIS_ID_MAX + 1];
	char name[CYRIS_FW_TABLESIZ];
	char (*ifaces)[CYRIS_IFNAMSIZ];
	size_t n_ifaces, cap_ifaces;
	struct cyris_fw_krule *rules;
	size_t n_rules, cap_rules;
};

/* Tables of @range (NULL: every cyris table). Free with cyris_fw_tables_free. */
int cyris_fw_show(struct cyris_fw *fw, const char *range,
		  struct cyris_fw_table **ret, size_t *ret_n);
void cyris_fw_tables_free(struct cyris_fw_table *t, size_t n);

/*
 * The same, a rule at a time, keeping nothing (a table of 100,000 rules is
 * shown in constant memory): for each table, @table_cb with the table (its
 * interfaces, no rules), then @rule_cb with each of its rules (of chain
 * @chain only, when not NULL), in the kernel's order; either may be NULL
 * (then the interfaces, or the rules, are not read). A negative return of a
 * callback stops the walk and is returned. Returns the number of tables, or
 * -errno.
 */
int cyris_fw_show_each(struct cyris_fw *fw, const char *range, const char *chain,
		       int (*table_cb)(const struct cyris_fw_table *t, void *data),
		       int (*rule_cb)(const struct cyris_fw_table *t,
				      const struct cyris_fw_krule *k, void *data),
		       void *data);

/*
 * Base chains of other tables on the forward hook with policy drop (a host
 * firewall that may drop range traffic), as "family table chain" names,
 * separated by ", ", into @buf (whole names only: a list too long for it
 * ends in "..."). Returns how many there are, or -errno.
 */
int cyris_fw_foreign_drops(struct cyris_fw *fw, char *buf, size_t size);

/* Fill @ret with the expansion of rule @r against @p: one line per kernel
 * rule, in nft's own syntax (what `check` prints). Returns the number of
 * lines or -errno; free *ret. */
int cyris_fw_explain(const struct cyris_fw_policy *p, char **ret);
/* The same, written to @f as it is planned (nothing of it is kept):
 * returns the number of lines, or -errno. */
int cyris_fw_explain_file(const struct cyris_fw_policy *p, FILE *f);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
