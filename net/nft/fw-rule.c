/* SPDX-License-Identifier: MIT */
/*
 * Firewall rules as written (CyRIS syntax) and the policy they belong to:
 * parsing, validation, and the policy's networks, exposed ports and NAT.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/socket.h>

#include "cyris/fw.h"
#include "fw-priv.h"
#include "cyris/link.h"
#include "../base/util.h"


static int parse_endpoints(const char *key, const char *v, bool is_dst,
			   struct cyris_fw_endpoint *out, size_t *n,
			   struct cyris_error *err)
{
	char buf[512], *save = NULL, *tok;

	if (strlen(v) >= sizeof(buf))
		return cyris_error_set(err, -EINVAL, "%s: list too long", key);
	memcpy(buf, v, strlen(v) + 1);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		struct cyris_fw_endpoint *e;

		if (*n >= CYRIS_FW_MAX_LIST)
			return cyris_error_set(err, -EINVAL, "%s: more than %d entries", key, CYRIS_FW_MAX_LIST);
		e = &out[(*n)++];
		memset(e, 0, sizeof(*e));
		if (strlen(tok) >= sizeof(e->name))
			return cyris_error_set(err, -EINVAL, "%s: '%.20s...' is too long", key, tok);
		memcpy(e->name, tok, strlen(tok) + 1);
		if (streq(tok, "host")) {
			if (!is_dst)
				return cyris_error_set(err, -EINVAL, "src=host is not a forwarding source (the host's own traffic is not filtered)");
			e->is_host = true;
		} else if (cyris_prefix_parse(tok, false, &e->prefix) == 0) {
			e->is_prefix = true;
			e->prefix = cyris_prefix_network(&e->prefix);
		} else if (strchr(tok, '/') || isdigit((unsigned char)tok[0]) || strchr(tok, ':')) {
			return cyris_error_set(err, -EINVAL, "%s: '%s' is not an address or CIDR", key, tok);
		} else if (!cyris_id_valid(tok)) {
			return cyris_error_set(err, -EINVAL, "%s: '%s' is not a network name", key, tok);
		}
	}
	if (*n == 0)
		return cyris_error_set(err, -EINVAL, "%s: empty list", key);
	return 0;
}

static int parse_port(const char *s, uint16_t *ret)
{
	unsigned long v;

	if (cyris_parse_uint(s, 65535, &v) < 0 || v == 0)
		return -EINVAL;
	*ret = (uint16_t)v;
	return 0;
}

static int parse_ports(const char *key, const char *v, struct cyris_fw_ports *out,
		       size_t *n, struct cyris_error *err)
{
	char buf[512], *save = NULL, *tok;

	if (strlen(v) >= sizeof(buf))
		return cyris_error_set(err, -EINVAL, "%s: list too long", key);
	memcpy(buf, v, strlen(v) + 1);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		struct cyris_fw_ports *p;
		char *dash = strchr(tok, '-');

		if (*n >= CYRIS_FW_MAX_LIST)
			return cyris_error_set(err, -EINVAL, "%s: more than %d entries", key, CYRIS_FW_MAX_LIST);
		p = &out[(*n)++];
		if (dash)
			*dash = '\0';
		if (parse_port(tok, &p->lo) < 0 || (dash && parse_port(dash + 1, &p->hi) < 0))
			return cyris_error_set(err, -EINVAL, "%s: '%s%s%s' is not a port in 1..65535 or a range lo-hi",
				    key, tok, dash ? "-" : "", dash ? dash + 1 : "");
		if (!dash)
			p->hi = p->lo;
		if (p->hi < p->lo)
			return cyris_error_set(err, -EINVAL, "%s: range %u-%u is empty", key, p->lo, p->hi);
	}
	if (*n == 0)
		return cyris_error_set(err, -EINVAL, "%s: empty list", key);
	return 0;
}

static int parse_proto(const char *v, unsigned *ret, struct cyris_error *err)
{
	char buf[64], *save = NULL, *tok;

	if (strlen(v) >= sizeof(buf))
		return cyris_error_set(err, -EINVAL, "proto: '%s' is not tcp, udp or icmp", v);
	memcpy(buf, v, strlen(v) + 1);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (streq(tok, "tcp"))
			*ret |= CYRIS_FW_TCP;
		else if (streq(tok, "udp"))
			*ret |= CYRIS_FW_UDP;
		else if (streq(tok, "icmp"))
			*ret |= CYRIS_FW_ICMP;
		else
			return cyris_error_set(err, -EINVAL, "proto: '%s' is not tcp, udp or icmp", tok);
	}
	return *ret ? 0 : cyris_error_set(err, -EINVAL, "proto: empty");
}

static void canon_endpoints(FILE *f, bool *first, const char *key,
			    const struct cyris_fw_endpoint *e, size_t n)
{
	size_t i;

	if (!n)
		return;
	fprintf(f, "%s%s=", *first ? "" : " ", key);
	*first = false;
	for (i = 0; i < n; i++)
		fprintf(f, "%s%s", i ? "," : "", e[i].name);
}

static void canon_ports(FILE *f, bool *first, const char *key,
			const struct cyris_fw_ports *p, size_t n)
{
	size_t i;

	if (!n)
		return;
	fprintf(f, "%s%s=", *first ? "" : " ", key);
	*first = false;
	for (i = 0; i < n; i++) {
		fprintf(f, "%s%u", i ? "," : "", p[i].lo);
		if (p[i].hi != p[i].lo)
			fprintf(f, "-%u", p[i].hi);
	}
}

/* The rule's canonical text: keys in a fixed order, single spaces. */
char *cyris_fw_rule_text(const struct cyris_fw_rule *r)
{
	bool first = true;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	canon_endpoints(f, &first, "src", r->src, r->n_src);
	canon_endpoints(f, &first, "dst", r->dst, r->n_dst);
	canon_ports(f, &first, "sport", r->sport, r->n_sport);
	canon_ports(f, &first, "dport", r->dport, r->n_dport);
	if (r->proto) {
		const char *sep = "";

		fprintf(f, "%sproto=", first ? "" : " ");
		if (r->proto & CYRIS_FW_TCP)
			fprintf(f, "%stcp", sep), sep = ",";
		if (r->proto & CYRIS_FW_UDP)
			fprintf(f, "%sudp", sep), sep = ",";
		if (r->proto & CYRIS_FW_ICMP)
			fprintf(f, "%sicmp", sep);
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

int cyris_fw_rule_format(struct cyris_fw_rule *r)
{
	_cleanup_free_ char *t = cyris_fw_rule_text(r);
	size_t len, cut;

	r->text[0] = '\0';
	r->long_text = false;
	if (!t)
		return -ENOMEM;
	len = strlen(t);
	if (len < sizeof(r->text)) {
		memcpy(r->text, t, len + 1);
		return 0;
	}
	/* too long for one kernel comment: a shortened form for messages,
	 * cut after a whole entry, that no parser takes for the rule */
	r->long_text = true;
	for (cut = sizeof(r->text) - 5; cut > 0 && t[cut] != ',' && t[cut] != ' '; cut--)
		;
	memcpy(r->text, t, cut);
	memcpy(r->text + cut, " ...", 5);
	return -ENAMETOOLONG;
}

int cyris_fw_rule_parse(const char *text, struct cyris_fw_rule *ret,
			struct cyris_error *err)
{
	struct cyris_fw_rule r;
	char buf[1024], *save = NULL, *tok;
	unsigned seen = 0;
	int k;

	memset(&r, 0, sizeof(r));
	if (!text || strlen(text) >= sizeof(buf))
		return cyris_error_set(err, -EINVAL, "rule too long");
	memcpy(buf, text, strlen(text) + 1);
	for (tok = strtok_r(buf, " \t\r\n", &save); tok; tok = strtok_r(NULL, " \t\r\n", &save)) {
		static const char *const keys[] = { "src", "dst", "sport", "dport", "proto" };
		char *eq = strchr(tok, '=');
		int rc;

		if (!eq)
			return cyris_error_set(err, -EINVAL, "'%s' is not key=value", tok);
		*eq = '\0';
		for (k = 0; k < (int)ARRAY_SIZE(keys) && !streq(keys[k], tok); k++)
			;
		if (k == (int)ARRAY_SIZE(keys))
			return cyris_error_set(err, -EINVAL, "unknown key '%s' (src, dst, sport, dport, proto)", tok);
		if (seen & (1u << k))
			return cyris_error_set(err, -EINVAL, "%s given twice", tok);
		seen |= 1u << k;
		if (!eq[1])
			return cyris_error_set(err, -EINVAL, "%s: empty value", tok);
		switch (k) {
		case 0: rc = parse_endpoints("src", eq + 1, false, r.src, &r.n_src, err); break;
		case 1: rc = parse_endpoints("dst", eq + 1, true, r.dst, &r.n_dst, err); break;
		case 2: rc = parse_ports("sport", eq + 1, r.sport, &r.n_sport, err); break;
		case 3: rc = parse_ports("dport", eq + 1, r.dport, &r.n_dport, err); break;
		default: rc = parse_proto(eq + 1, &r.proto, err); break;
		}
		if (rc < 0)
			return rc;
	}
	if (!seen)
		return cyris_error_set(err, -EINVAL, "empty rule");
	if ((r.n_sport || r.n_dport) && (r.proto & CYRIS_FW_ICMP))
		return cyris_error_set(err, -EINVAL, "icmp has no ports");
	/* CyRIS users write dport=25,53 and expect DNS to work: TCP and UDP */
	if ((r.n_sport || r.n_dport) && !r.proto)
		r.proto = CYRIS_FW_TCP | CYRIS_FW_UDP;
	if (cyris_fw_rule_format(&r) == -ENOMEM)
		return -ENOMEM;
	*ret = r;
	return 0;
}

/* ---- the policy --------------------------------------------------------- */

int cyris_fw_policy_init(struct cyris_fw_policy *p, const char *range)
{
	memset(p, 0, sizeof(*p));
	if (!cyris_id_valid(range))
		return -EINVAL;
	memcpy(p->range, range, strlen(range) + 1);
	return 0;
}

void cyris_fw_policy_clear(struct cyris_fw_policy *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->n_nets; i++) {
		free(p->nets[i].addrs);
		free(p->nets[i].ifnames);
	}
	free(p->nets);
	free(p->rules);
	free(p->rule_at);
	free(p->exposes);
	free(p->nat);
	free(p->ingress);
	free(p->uplinks);
	memset(p, 0, sizeof(*p));
}

static struct cyris_fw_net *find_net(const struct cyris_fw_policy *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->n_nets; i++)
		if (streq(p->nets[i].name, name))
			return &p->nets[i];
	return NULL;
}

int cyris_fw_policy_add_iface(struct cyris_fw_policy *p, const char *net,
			      const char *ifname, const struct cyris_prefix *addrs,
			      size_t n_addrs)
{
	struct cyris_fw_net *n;
	size_t i;

	if (!cyris_id_valid(net) || (ifname && !cyris_ifname_valid(ifname)))
		return -EINVAL;
	n = find_net(p, net);
	if (!n) {
		n = cyris_grow((void **)&p->nets, &p->n_nets, &p->cap_nets, sizeof(*n));
		if (!n)
			return -ENOMEM;
		memcpy(n->name, net, strlen(net) + 1);
	}
	if (ifname) {
		for (i = 0; i < n->n_ifnames && !streq(n->ifnames[i], ifname); i++)
			;
		if (i == n->n_ifnames) {
			char (*slot)[CYRIS_IFNAMSIZ] = cyris_grow((void **)&n->ifnames, &n->n_ifnames,
								   &n->cap_ifnames, sizeof(*slot));

			if (!slot)
				return -ENOMEM;
			memcpy(*slot, ifname, strlen(ifname) + 1);
		}
	}
	for (i = 0; i < n_addrs; i++) {
		struct cyris_prefix *slot = cyris_grow((void **)&n->addrs, &n->n_addrs, &n->cap_addrs,
						       sizeof(*slot));

		if (!slot)
			return -ENOMEM;
		*slot = addrs[i];
	}
	return 0;
}

/*
 * A policy keeps its rules packed, one after another in one array: the
 * fixed fields, then the text, each endpoint (its flags, its name, its
 * prefix when it is one) and each port range, every string only as long as
 * it is. A rule of a 50,000-rule policy takes some 60 bytes so, not the
 * 3 KB of a struct cyris_fw_rule.
 */
struct packed_head {
	unsigned line, proto;
	uint8_t n_src, n_dst, n_sport, n_dport;
	bool long_text;
};

#define EP_HOST 1
#define EP_PREFIX 2

static size_t endpoints_size(const struct cyris_fw_endpoint *v, size_t n)
{
	size_t i, len = 0;

	for (i = 0; i < n; i++)
		len += 1 + strnlen(v[i].name, sizeof(v[i].name) - 1) + 1 + (v[i].is_prefix ? sizeof(v[i].prefix) : 0);
	return len;
}

static unsigned char *put(unsigned char *at, const void *v, size_t len)
{
	memcpy(at, v, len);
	return at + len;
}

static unsigned char *put_endpoints(unsigned char *at, const struct cyris_fw_endpoint *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		*at++ = (unsigned char)((v[i].is_host ? EP_HOST : 0) | (v[i].is_prefix ? EP_PREFIX : 0));
		at = put(at, v[i].name, strnlen(v[i].name, sizeof(v[i].name) - 1));
		*at++ = '\0';
		if (v[i].is_prefix)
			at = put(at, &v[i].prefix, sizeof(v[i].prefix));
	}
	return at;
}

static int rule_pack(struct cyris_fw_policy *p, const struct cyris_fw_rule *r)
{
	struct packed_head h = {
		.line = r->line, .proto = r->proto, .long_text = r->long_text,
		.n_src = (uint8_t)r->n_src, .n_dst = (uint8_t)r->n_dst,
		.n_sport = (uint8_t)r->n_sport, .n_dport = (uint8_t)r->n_dport,
	};
	size_t len = sizeof(h) + strnlen(r->text, sizeof(r->text) - 1) + 1 +
		     endpoints_size(r->src, r->n_src) + endpoints_size(r->dst, r->n_dst) +
		     (r->n_sport + r->n_dport) * sizeof(struct cyris_fw_ports);
	unsigned char *at;
	size_t *slot;

	if (r->n_src > CYRIS_FW_MAX_LIST || r->n_dst > CYRIS_FW_MAX_LIST ||
	    r->n_sport > CYRIS_FW_MAX_LIST || r->n_dport > CYRIS_FW_MAX_LIST)
		return -EINVAL;
	if (p->size_rules - p->len_rules < len) {
		size_t size = p->size_rules ? p->size_rules : 4096;
		unsigned char *v;

		while (size - p->len_rules < len)
			size *= 2;
		if (!(v = realloc(p->rules, size)))
			return -ENOMEM;
		p->rules = v;
		p->size_rules = size;
	}
	if (!(slot = cyris_grow((void **)&p->rule_at, &p->n_rules, &p->cap_rules, sizeof(*slot))))
		return -ENOMEM;
	*slot = p->len_rules;
	at = put(p->rules + p->len_rules, &h, sizeof(h));
	at = put(at, r->text, strnlen(r->text, sizeof(r->text) - 1));
	*at++ = '\0';
	at = put_endpoints(at, r->src, r->n_src);
	at = put_endpoints(at, r->dst, r->n_dst);
	at = put(at, r->sport, r->n_sport * sizeof(r->sport[0]));
	at = put(at, r->dport, r->n_dport * sizeof(r->dport[0]));
	p->len_rules += len;
	return 0;
}

static const unsigned char *get_endpoints(const unsigned char *at, struct cyris_fw_endpoint *v, size_t n)
{
	size_t i, len;

	for (i = 0; i < n; i++) {
		unsigned flags = *at++;

		v[i].is_host = flags & EP_HOST;
		v[i].is_prefix = flags & EP_PREFIX;
		len = strlen((const char *)at);
		memcpy(v[i].name, at, len + 1);
		at += len + 1;
		if (v[i].is_prefix) {
			memcpy(&v[i].prefix, at, sizeof(v[i].prefix));
			at += sizeof(v[i].prefix);
		}
	}
	return at;
}

static void rule_unpack(const unsigned char *at, struct cyris_fw_rule *r)
{
	struct packed_head h;
	size_t len;

	memset(r, 0, sizeof(*r));
	memcpy(&h, at, sizeof(h));
	at += sizeof(h);
	r->line = h.line;
	r->proto = h.proto;
	r->long_text = h.long_text;
	r->n_src = h.n_src;
	r->n_dst = h.n_dst;
	r->n_sport = h.n_sport;
	r->n_dport = h.n_dport;
	len = strlen((const char *)at);
	memcpy(r->text, at, len + 1);
	at += len + 1;
	at = get_endpoints(at, r->src, r->n_src);
	at = get_endpoints(at, r->dst, r->n_dst);
	memcpy(r->sport, at, r->n_sport * sizeof(r->sport[0]));
	at += r->n_sport * sizeof(r->sport[0]);
	memcpy(r->dport, at, r->n_dport * sizeof(r->dport[0]));
}

/* The address families of a rule side, resolved: 1 IPv4, 2 IPv6; 0 when
 * it names no address (empty: any; or the host only). */
static unsigned families(const struct cyris_fw_policy *p, const struct cyris_fw_endpoint *v, size_t n)
{
	unsigned m = 0;
	size_t i, k;

	for (i = 0; i < n; i++) {
		const struct cyris_fw_net *net = v[i].is_host || v[i].is_prefix ? NULL : find_net(p, v[i].name);

		if (v[i].is_prefix)
			m |= v[i].prefix.ip.family == AF_INET6 ? 2 : 1;
		for (k = 0; net && k < net->n_addrs; k++)
			m |= net->addrs[k].ip.family == AF_INET6 ? 2 : 1;
	}
	return m;
}

static const char *family_names(unsigned m)
{
	return m == 1 ? "IPv4 only" : m == 2 ? "IPv6 only" : "IPv4 and IPv6";
}

int cyris_fw_policy_add_rule(struct cyris_fw_policy *p, const struct cyris_fw_rule *r,
			     struct cyris_error *err)
{
	const struct cyris_fw_endpoint *lists[2] = { r->src, r->dst };
	size_t counts[2] = { r->n_src, r->n_dst }, i, k;

	for (k = 0; k < 2; k++) {
		for (i = 0; i < counts[k]; i++) {
			const struct cyris_fw_endpoint *e = &lists[k][i];
			const struct cyris_fw_net *n;

			if (e->is_host || e->is_prefix)
				continue;
			n = find_net(p, e->name);
			if (!n)
				return cyris_error_set(err, -EINVAL, "%s: no network '%s' in range %s%s",
					    k ? "dst" : "src", e->name, p->range,
					    strchr(e->name, '.') ? " (member names are resolved by cyris-topo)" : "");
			if (!n->n_addrs)
				return cyris_error_set(err, -EINVAL, "%s: network '%s' has no address", k ? "dst" : "src", e->name);
		}
	}
	if ((k = families(p, r->src, r->n_src)) && (i = families(p, r->dst, r->n_dst)) && !(k & i))
		/* it would expand to no kernel rule: say why here, where the
		 * caller still knows the rule's line */
		return cyris_error_set(err, -EINVAL, "src and dst share no address family (src is %s, "
				       "dst %s; a network has the families of its addresses)",
				       family_names(k), family_names(i));
	return rule_pack(p, r);
}

const char *fw_policy_rule_text(const struct cyris_fw_policy *p, size_t i)
{
	return i < p->n_rules ? (const char *)p->rules + p->rule_at[i] + sizeof(struct packed_head) : "";
}

int cyris_fw_policy_rule(const struct cyris_fw_policy *p, size_t i, struct cyris_fw_rule *ret)
{
	if (i >= p->n_rules)
		return -ENOENT;
	rule_unpack(p->rules + p->rule_at[i], ret);
	return 0;
}

int cyris_fw_policy_add_expose(struct cyris_fw_policy *p, const struct cyris_fw_expose *e)
{
	struct cyris_fw_expose *slot;
	size_t i;

	if (!e->host_port || !e->to_port || e->to.family != AF_INET ||
	    (e->proto != CYRIS_FW_TCP && e->proto != CYRIS_FW_UDP) ||
	    (e->from.ip.family && e->from.ip.family != AF_INET))
		return -EINVAL;
	for (i = 0; i < p->n_exposes; i++)
		if (p->exposes[i].host_port == e->host_port && p->exposes[i].proto == e->proto)
			return -EADDRINUSE;
	slot = cyris_grow((void **)&p->exposes, &p->n_exposes, &p->cap_exposes, sizeof(*slot));
	if (!slot)
		return -ENOMEM;
	*slot = *e;
	return 0;
}

int cyris_fw_policy_add_nat(struct cyris_fw_policy *p, const char *ifname)
{
	char (*slot)[CYRIS_IFNAMSIZ];
	size_t i;

	if (!cyris_ifname_valid(ifname))
		return -EINVAL;
	for (i = 0; i < p->n_nat; i++)
		if (streq(p->nat[i], ifname))
			return 0;
	slot = cyris_grow((void **)&p->nat, &p->n_nat, &p->cap_nat, sizeof(*slot));
	if (!slot)
		return -ENOMEM;
	memcpy(*slot, ifname, strlen(ifname) + 1);
	return 0;
}

int cyris_fw_policy_add_ingress(struct cyris_fw_policy *p, const char *ifname)
{
	char (*slot)[CYRIS_IFNAMSIZ];
	size_t i;

	if (!cyris_ifname_valid(ifname))
		return -EINVAL;
	for (i = 0; i < p->n_ingress; i++)
		if (streq(p->ingress[i], ifname))
			return 0;
	slot = cyris_grow((void **)&p->ingress, &p->n_ingress, &p->cap_ingress, sizeof(*slot));
	if (!slot)
		return -ENOMEM;
	memcpy(*slot, ifname, strlen(ifname) + 1);
	return 0;
}

int cyris_fw_policy_add_uplink(struct cyris_fw_policy *p, const char *ifname,
			       const uint8_t mac[6])
{
	struct cyris_fw_uplink *slot;
	size_t i;

	if (!cyris_ifname_valid(ifname))
		return -EINVAL;
	for (i = 0; i < p->n_uplinks; i++)
		if (streq(p->uplinks[i].ifname, ifname))
			return -EEXIST;
	slot = cyris_grow((void **)&p->uplinks, &p->n_uplinks, &p->cap_uplinks, sizeof(*slot));
	if (!slot)
		return -ENOMEM;
	memset(slot, 0, sizeof(*slot));
	memcpy(slot->ifname, ifname, strlen(ifname) + 1);
	memcpy(slot->mac, mac, 6);
	return 0;
}

int cyris_fw_uplink_parse(const char *c, struct cyris_fw_uplink *ret)
{
	char ifname[CYRIS_IFNAMSIZ + 1], mac[18];
	struct cyris_fw_uplink u = {0};
	int end = 0;

	if (sscanf(c, "uplink %16s from %17s%n", ifname, mac, &end) != 2 ||
	    (c[end] && c[end] != ' ') || strlen(ifname) >= CYRIS_IFNAMSIZ ||
	    !cyris_ifname_valid(ifname) || cyris_mac_parse(mac, u.mac) < 0)
		return -EINVAL;
	memcpy(u.ifname, ifname, strlen(ifname) + 1);
	*ret = u;
	return 0;
}

int cyris_fw_table_name(const char *range, char *buf, size_t size)
{
	if (!cyris_id_valid(range) || size < CYRIS_FW_TABLESIZ)
		return -EINVAL;
	/* the range as it is: one name per range ("a-b", "a_b" and "a.b"
	 * are three tables), and nft takes '-' and '.' after the first
	 * letter unquoted */
	snprintf(buf, size, "cyris_%s", range);
	return 0;
}
