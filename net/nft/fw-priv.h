/* SPDX-License-Identifier: MIT */
/*
 * Private to the firewall: the plan of kernel rules a policy expands into.
 * fw-gen.c builds it (pure, testable) and prints it in nft syntax; fw.c
 * turns it into libnftnl objects.
 */
#ifndef CYRIS_FW_PRIV_H
#define CYRIS_FW_PRIV_H

#include <stdio.h>

#include "cyris/fw.h"

/* The longest comment nft shows is NFTNL_UDATA_COMMENT_MAXLEN - 1 bytes
 * (fw.c checks that the two agree). */
#define FW_COMMENT_MAX 128

enum fw_match_kind {
	FM_IIF_IN_SET,       /* iifname @ifaces */
	FM_IIF_NOT_IN_SET,   /* iifname != @ifaces */
	FM_OIF_IN_SET,
	FM_OIF_NOT_IN_SET,
	FM_IIFNAME,          /* iifname "name" */
	FM_OIFNAME,          /* oifname "name" */
	FM_NFPROTO,          /* meta nfproto ipv4|ipv6 (v = NFPROTO_*) */
	FM_SADDR,            /* ip[6] saddr prefix */
	FM_DADDR,
	FM_L4PROTO,          /* meta l4proto (v = IPPROTO_*) */
	FM_SPORT,            /* th sport lo[-hi] */
	FM_DPORT,
	FM_CT_ESTREL,        /* ct state established,related */
	FM_CT_DNAT,          /* ct status dnat */
	FM_FIB_LOCAL,        /* fib daddr type local */
	FM_CT_NOT_ESTREL,    /* ct state ! established,related */
	FM_CT_NOT_DNAT,      /* ct status ! dnat */
	FM_FIB_RPF,          /* fib saddr . iif oif != 0: the route back to
				the source leaves through the input interface */
	FM_SADDR_NOT_IN,     /* ip[6] saddr != prefix, or != { prefixes } */
	FM_ETHER_SADDR_NOT,  /* ether saddr != mac */
};

struct fw_match {
	enum fw_match_kind kind;
	unsigned v;
	struct cyris_prefix pfx;
	struct cyris_fw_ports ports;
	char name[CYRIS_IFNAMSIZ];
	uint8_t mac[6];
	/* n_set > 0: the match is an anonymous set of these (owned by the
	 * plan): prefixes (FM_SADDR, FM_DADDR, FM_SADDR_NOT_IN), port ranges (FM_SPORT,
	 * FM_DPORT) or protocols (FM_L4PROTO) */
	size_t n_set;
	struct cyris_prefix *pfx_set;
	struct cyris_fw_ports *port_set;
	uint8_t l4_set[4];
};

enum fw_verdict { FV_ACCEPT, FV_DROP, FV_RETURN, FV_JUMP, FV_DNAT, FV_MASQ };

struct fw_krule {
	const char *chain;             /* a static chain name */
	struct fw_match m[10];
	size_t n;
	enum fw_verdict verdict;
	const char *target;            /* FV_JUMP */
	struct cyris_ip nat_ip;        /* FV_DNAT */
	uint16_t nat_port;
	bool counter;
	char comment[256];
	int rule;                      /* index of the policy rule, -1 */
};

struct fw_plan {
	struct fw_krule *v;
	size_t n, cap;
};

/* The chains of a range table, in creation order. */
struct fw_chain_def {
	const char *name;
	const char *type;              /* NULL: a regular chain */
	int hook;                      /* NF_INET_* */
	int prio;
};
extern const struct fw_chain_def fw_chains[];
extern const size_t fw_n_chains;

/* Every kernel rule of @p's table. */
int fw_plan_policy(const struct cyris_fw_policy *p, struct fw_plan *plan,
		   struct cyris_error *err);
/* The same in pieces of about FW_PLAN_PIECE kernel rules, in order: @each
 * gets each piece, which is emptied after it (a large policy is never
 * planned whole); a negative return of @each stops it and is returned. */
typedef int (*fw_plan_cb)(const struct fw_plan *plan, void *data);
#define FW_PLAN_PIECE 256
int fw_plan_policy_each(const struct cyris_fw_policy *p, fw_plan_cb each, void *data,
			struct cyris_error *err);
/* The kernel rules of policy rule @r (index @index) / an expose / a NAT. */
int fw_plan_rule(const struct cyris_fw_policy *p, const struct cyris_fw_rule *r,
		 int index, struct fw_plan *plan, struct cyris_error *err);
int fw_plan_expose(const struct cyris_fw_expose *e, struct fw_plan *plan);
int fw_plan_nat(const char *ifname, struct fw_plan *plan);
int fw_plan_ingress(const char *ifname, struct fw_plan *plan);
int fw_plan_uplink(const struct cyris_fw_policy *p, const struct cyris_fw_uplink *u,
		   struct fw_plan *plan);
/* Empty @plan, keeping its array (reset) or not (clear). */
void fw_plan_reset(struct fw_plan *plan);
void fw_plan_clear(struct fw_plan *plan);

/* The text of rule @i of @p (as packed: see fw-rule.c), "" past the last. */
const char *fw_policy_rule_text(const struct cyris_fw_policy *p, size_t i);

/* Comments of the rules that carry an expose, an uplink guard or a NAT (so apply can keep
 * them); their parsers are public (cyris/fw.h), the topology reads them. */
void fw_expose_comment(const struct cyris_fw_expose *e, char *buf, size_t size);
void fw_uplink_comment(const struct cyris_fw_uplink *u, char *buf, size_t size);
#define FW_NAT_PREFIX "nat out "
#define FW_INGRESS_PREFIX "ingress "
#define FW_UPLINK_PREFIX "uplink "

/* One kernel rule in nft syntax (no trailing newline). */
void fw_krule_print(FILE *f, const char *table, const struct fw_krule *k);
/* The whole table as an nft script, as `check` prints it. */
void fw_plan_print(FILE *f, const struct cyris_fw_policy *p, const struct fw_plan *plan);

#endif
