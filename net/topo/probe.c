/* SPDX-License-Identifier: MIT */
/*
 * Probing a live range with real packets: every allowed flow of its rules
 * and a sample of flows the rules do not allow, between the range's netns
 * guests, all at once. Sockets are made inside the guests' namespaces by
 * this process (setns), so nothing runs in the guests.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>

#include "cyris/fw.h"
#include "cyris/nl.h"
#include "cyris/topo.h"
#include "../base/util.h"

#define MAX_PORTS_PER_RULE 4

struct rules {
	struct cyris_fw_rule *v;
	size_t n, cap;
};

/* The forwarding rules of one table, from their comments (deduplicated). */
static int read_rules(const char *netns, const char *range, struct rules *out)
{
	struct cyris_fw_table *t = NULL;
	struct cyris_fw *fw;
	size_t n = 0, i, j, k;
	int r = cyris_fw_open(&fw, netns);

	if (r < 0)
		return r;
	r = cyris_fw_show(fw, range, &t, &n);
	for (i = 0; r == 0 && i < n; i++)
		for (j = 0; j < t[i].n_rules; j++) {
			struct cyris_fw_rule fr, *slot;

			if (!streq(t[i].rules[j].chain, "allow") ||
			    cyris_fw_rule_parse(t[i].rules[j].comment, &fr, NULL) < 0)
				continue;
			for (k = 0; k < out->n && !streq(out->v[k].text, fr.text); k++)
				;
			if (k < out->n)
				continue;
			slot = cyris_grow((void **)&out->v, &out->n, &out->cap, sizeof(*slot));
			if (!slot) {
				r = -ENOMEM;
				break;
			}
			*slot = fr;
		}
	cyris_fw_tables_free(t, n);
	cyris_fw_free(fw);
	return r;
}

static bool in_list(const struct cyris_fw_endpoint *e, size_t n, const struct cyris_ip *ip)
{
	size_t i;

	if (!n)
		return true;
	for (i = 0; i < n; i++)
		if (e[i].is_prefix && cyris_prefix_contains(&e[i].prefix, ip))
			return true;
	return false;
}

static bool port_in(const struct cyris_fw_ports *p, size_t n, uint16_t port)
{
	size_t i;

	if (!n)
		return true;
	for (i = 0; i < n; i++)
		if (port >= p[i].lo && port <= p[i].hi)
			return true;
	return false;
}

/* Which rule allows (src -> dst, proto, port)? NULL: none. */
static const struct cyris_fw_rule *allowed_by(const struct rules *rs, const struct cyris_ip *src,
					      const struct cyris_ip *dst, unsigned proto, uint16_t port)
{
	size_t i;

	for (i = 0; i < rs->n; i++) {
		const struct cyris_fw_rule *r = &rs->v[i];

		if (!in_list(r->src, r->n_src, src) || !in_list(r->dst, r->n_dst, dst))
			continue;
		if (r->proto && !(r->proto & proto))
			continue;
		if (proto != CYRIS_FW_ICMP && !port_in(r->dport, r->n_dport, port))
			continue;
		if (proto == CYRIS_FW_ICMP && (r->n_dport || r->n_sport))
			continue;
		return r;
	}
	return NULL;
}

/* ---- the flows to try --------------------------------------------------- */

struct endpoint {
	const struct cyris_live_guest *g;
	const struct cyris_live_nic *nic;
};

struct plan {
	struct cyris_probe *v;
	size_t n, cap;
	const struct rules *rs;
};

static bool same_net(const struct endpoint *a, const struct endpoint *b)
{
	return a->g->instance == b->g->instance && streq(a->nic->net, b->nic->net);
}

static void label(const struct cyris_live_guest *g, char *buf, size_t size)
{
	if (g->instance > 1)
		snprintf(buf, size, "%s.%u/i%u", g->guest_id, g->index, g->instance);
	else
		snprintf(buf, size, "%s.%u", g->guest_id, g->index);
}

static int add_flow(struct plan *pl, const struct endpoint *s, const struct endpoint *d,
		    unsigned proto, uint16_t port)
{
	const struct cyris_fw_rule *by;
	struct cyris_probe *p;
	size_t i;

	if (s->g == d->g || same_net(s, d))
		return 0;
	for (i = 0; i < pl->n; i++)
		if (streq(pl->v[i].from, s->g->name) && cyris_ip_equal(&pl->v[i].dst, &d->nic->addr.ip) &&
		    pl->v[i].proto == proto && pl->v[i].port == port)
			return 0;
	p = cyris_grow((void **)&pl->v, &pl->n, &pl->cap, sizeof(*p));
	if (!p)
		return -ENOMEM;
	snprintf(p->from, sizeof(p->from), "%s", s->g->name);
	snprintf(p->to, sizeof(p->to), "%s", d->g->name);
	label(s->g, p->from_label, sizeof(p->from_label));
	label(d->g, p->to_label, sizeof(p->to_label));
	p->dst = d->nic->addr.ip;
	p->proto = proto;
	p->port = port;
	by = allowed_by(pl->rs, &s->nic->addr.ip, &d->nic->addr.ip, proto, port);
	p->expected = by != NULL;
	if (by)
		snprintf(p->rule, sizeof(p->rule), "%s", by->text);
	return 0;
}

/* The endpoints whose address is in @list: every one when @one is false
 * (never a gateway: traffic to a gateway's own address is not forwarded,
 * so forwarding rules do not speak of it), else the first non-gateway one,
 * else the first. */
static size_t endpoints(const struct cyris_live *lv, const struct cyris_fw_endpoint *list,
			size_t n, bool one, struct endpoint *out, size_t max)
{
	size_t i, j, cnt = 0;
	int pass;

	for (pass = 0; pass < (one ? 2 : 1) && cnt < max; pass++) {
		for (i = 0; i < lv->n_guests && cnt < max; i++) {
			const struct cyris_live_guest *g = &lv->guests[i];

			if (!streq(g->provider, "netns") || (pass == 0 && g->gateway))
				continue;
			for (j = 0; j < g->n_nics && cnt < max; j++)
				if (g->nics[j].addr.ip.family == AF_INET &&
				    in_list(list, n, &g->nics[j].addr.ip)) {
					out[cnt++] = (struct endpoint){ g, &g->nics[j] };
					if (one)
						return cnt;
				}
		}
	}
	return cnt;
}

static int flows_of_rule(struct plan *pl, const struct cyris_live *lv, const struct cyris_fw_rule *r)
{
	struct endpoint s[CYRIS_FW_MAX_LIST];
	_cleanup_free_ struct endpoint *d = NULL;
	size_t ns = 0, nd, i, j, k, max = 1;
	unsigned protos[3], np = 0;
	int rc;

	/* one source per source entry, every destination: room for every NIC */
	for (i = 0; i < lv->n_guests; i++)
		max += lv->guests[i].n_nics;
	d = calloc(max, sizeof(*d));
	if (!d)
		return -ENOMEM;
	for (i = 0; i < (r->n_src ? r->n_src : 1) && ns < ARRAY_SIZE(s); i++)
		ns += endpoints(lv, r->n_src ? &r->src[i] : NULL, r->n_src ? 1 : 0, true, &s[ns], 1);
	nd = endpoints(lv, r->dst, r->n_dst, false, d, max);
	if (r->proto & CYRIS_FW_TCP || !r->proto)
		protos[np++] = CYRIS_FW_TCP;
	if (r->proto & CYRIS_FW_UDP)
		protos[np++] = CYRIS_FW_UDP;
	if (r->proto & CYRIS_FW_ICMP || (!r->proto && !r->n_dport))
		protos[np++] = CYRIS_FW_ICMP;
	for (i = 0; i < ns; i++)
		for (j = 0; j < nd; j++)
			for (k = 0; k < np; k++) {
				size_t p, nports = protos[k] == CYRIS_FW_ICMP ? 1 : r->n_dport ? r->n_dport : 1;

				for (p = 0; p < nports && p < MAX_PORTS_PER_RULE; p++) {
					uint16_t port = protos[k] == CYRIS_FW_ICMP ? 0 : r->n_dport ? r->dport[p].lo : 22;

					if ((rc = add_flow(pl, &s[i], &d[j], protos[k], port)) < 0)
						return rc;
				}
			}
	return 0;
}

/* Denied sample: between every two networks, and across instances. */
static int sample_denied(struct plan *pl, const struct cyris_live *lv)
{
	struct endpoint first[64];
	size_t n = 0, i, j;
	int r;

	for (i = 0; i < lv->n_guests && n < ARRAY_SIZE(first); i++) {
		const struct cyris_live_guest *g = &lv->guests[i];

		if (!streq(g->provider, "netns") || g->gateway)
			continue;
		for (j = 0; j < g->n_nics && n < ARRAY_SIZE(first); j++) {
			struct endpoint e = { g, &g->nics[j] };
			size_t k;

			if (!g->nics[j].addr.ip.family)
				continue;
			for (k = 0; k < n && !same_net(&first[k], &e); k++)
				;
			if (k == n)
				first[n++] = e;
		}
	}
	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++)
			if (i != j && (r = add_flow(pl, &first[i], &first[j], CYRIS_FW_TCP, 22)) < 0)
				return r;
	return 0;
}

/* ---- running them ------------------------------------------------------- */

struct nsfd {
	char name[CYRIS_GUEST_NAMSIZ];
	int fd;
};

struct sockets {
	struct nsfd *ns;
	size_t n_ns, cap_ns;
};

static int ns_fd(struct sockets *S, const char *name)
{
	size_t i;

	for (i = 0; i < S->n_ns; i++)
		if (streq(S->ns[i].name, name))
			return S->ns[i].fd;
	if (!cyris_grow((void **)&S->ns, &S->n_ns, &S->cap_ns, sizeof(*S->ns)))
		return -ENOMEM;
	snprintf(S->ns[S->n_ns - 1].name, sizeof(S->ns[0].name), "%s", name);
	S->ns[S->n_ns - 1].fd = cyris_netns_open(name);
	return S->ns[S->n_ns - 1].fd;
}

/* A socket made inside namespace @name. */
static int socket_in(struct sockets *S, const char *name, int type, int proto)
{
	int fd = ns_fd(S, name), old, s, r;

	if (fd < 0)
		return fd;
	if ((r = cyris_netns_enter(fd, &old)) < 0)
		return r;
	s = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
	r = s < 0 ? -errno : s;
	if (cyris_netns_leave(old) < 0 && s >= 0) {
		close(s);
		r = -EIO;
	}
	return r;
}

struct listener {
	char ns[CYRIS_GUEST_NAMSIZ];
	unsigned proto;
	uint16_t port;
	int fd;                          /* -1: a service of the guest holds it */
};

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint16_t csum(const void *data, size_t len)
{
	const uint16_t *p = data;
	uint32_t sum = 0;

	for (; len > 1; len -= 2)
		sum += *p++;
	if (len)
		sum += *(const uint8_t *)p;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

#define NO_FLOW INT_MIN   /* start_client(): the flow failed before a packet left */

static int start_client(struct sockets *S, struct cyris_probe *p, uint16_t id)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(p->port) };
	int fd;

	memcpy(&sa.sin_addr, p->dst.a, 4);
	if (p->proto == CYRIS_FW_ICMP) {
		struct icmphdr ic = { .type = ICMP_ECHO, .un.echo.id = htons(id), .un.echo.sequence = htons(1) };

		fd = socket_in(S, p->from, SOCK_RAW, IPPROTO_ICMP);
		if (fd < 0)
			return fd;
		ic.checksum = csum(&ic, sizeof(ic));
		(void)sendto(fd, &ic, sizeof(ic), 0, (struct sockaddr *)&sa, sizeof(sa));
		return fd;
	}
	fd = socket_in(S, p->from, p->proto == CYRIS_FW_UDP ? SOCK_DGRAM : SOCK_STREAM, 0);
	if (fd < 0)
		return fd;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
		close(fd);
		return NO_FLOW;   /* refused at once (no route, a local drop): not through */
	}
	if (p->proto == CYRIS_FW_UDP)
		(void)send(fd, "cyris-probe", 11, 0);
	return fd;
}

static int start_listener(struct sockets *S, struct listener *l)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(l->port) };
	int on = 1, fd = socket_in(S, l->ns, l->proto == CYRIS_FW_UDP ? SOCK_DGRAM : SOCK_STREAM, 0);

	if (fd < 0)
		return fd;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    (l->proto == CYRIS_FW_TCP && listen(fd, 128) < 0)) {
		int r = -errno;

		close(fd);
		/* a service in the guest holds the port: it answers instead */
		return r == -EADDRINUSE ? -1 : r;
	}
	return fd;
}

/* Did this ICMP datagram answer probe @id? */
static bool echo_reply(int fd, uint16_t id)
{
	uint8_t buf[1500];
	ssize_t n = recv(fd, buf, sizeof(buf), 0);
	const struct iphdr *ip = (const void *)buf;
	const struct icmphdr *ic;

	if (n < (ssize_t)sizeof(*ip) || n < ip->ihl * 4 + (ssize_t)sizeof(*ic))
		return false;
	ic = (const void *)(buf + ip->ihl * 4);
	return ic->type == ICMP_ECHOREPLY && ntohs(ic->un.echo.id) == id;
}

/* Every flow at once. A socket that cannot be made (too many open files,
 * say) fails the probe: it is never reported as a dropped flow. */
static int run(struct sockets *S, struct cyris_probe *v, size_t n, struct listener *ls,
	       size_t nl, unsigned timeout_ms)
{
	struct pollfd *pf = calloc(n + nl + 1, sizeof(*pf));
	int *cfd = calloc(n + 1, sizeof(*cfd));
	long end;
	size_t i, open = 0;
	uint16_t base = (uint16_t)(getpid() * 7);
	int r = 0;

	for (i = 0; i < nl; i++)
		ls[i].fd = -1;
	if (!pf || !cfd) {
		r = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++)
		cfd[i] = -1;
	for (i = 0; i < nl && r == 0; i++)
		if ((ls[i].fd = start_listener(S, &ls[i])) < -1)
			r = ls[i].fd;
	for (i = 0; i < n && r == 0; i++) {
		cfd[i] = start_client(S, &v[i], (uint16_t)(base + i));
		if (cfd[i] == NO_FLOW)
			cfd[i] = -1;
		else if (cfd[i] < 0)
			r = cfd[i];
		open += cfd[i] >= 0;
	}
	/* the timeout counts from the last flow started: making thousands of
	 * sockets in hundreds of namespaces takes a while itself */
	end = now_ms() + (long)timeout_ms;
	while (r == 0 && open && now_ms() < end) {
		size_t k = 0;

		for (i = 0; i < n; i++)
			pf[k++] = (struct pollfd){ .fd = cfd[i] >= 0 ? cfd[i] : -1,
				.events = v[i].proto == CYRIS_FW_TCP ? POLLOUT : POLLIN };
		for (i = 0; i < nl; i++)
			pf[k++] = (struct pollfd){ .fd = ls[i].fd, .events = POLLIN };
		if (poll(pf, k, (int)(end - now_ms())) <= 0)
			continue;
		for (i = 0; i < n; i++) {
			int err = 0;
			socklen_t el = sizeof(err);
			char buf[64];

			if (cfd[i] < 0 || !pf[i].revents)
				continue;
			if (v[i].proto == CYRIS_FW_TCP)
				v[i].passed = getsockopt(cfd[i], SOL_SOCKET, SO_ERROR, &err, &el) == 0 && !err;
			else if (v[i].proto == CYRIS_FW_UDP)
				v[i].passed = recv(cfd[i], buf, sizeof(buf), 0) > 0;
			else if (!echo_reply(cfd[i], (uint16_t)(base + i)))
				continue;   /* somebody else's reply: keep waiting */
			else
				v[i].passed = true;
			close(cfd[i]);
			cfd[i] = -1;
			open--;
		}
		/* our services: accept and drop TCP; echo UDP back */
		for (i = 0; i < nl; i++) {
			struct sockaddr_storage ss;
			socklen_t sl = sizeof(ss);
			char buf[64];
			ssize_t m;
			int c;

			if (ls[i].fd < 0 || !pf[n + i].revents)
				continue;
			if (ls[i].proto == CYRIS_FW_TCP) {
				while ((c = accept4(ls[i].fd, NULL, NULL, SOCK_CLOEXEC)) >= 0)
					close(c);
			} else {
				while ((m = recvfrom(ls[i].fd, buf, sizeof(buf), 0, (struct sockaddr *)&ss, &sl)) > 0) {
					(void)sendto(ls[i].fd, buf, (size_t)m, 0, (struct sockaddr *)&ss, sl);
					sl = sizeof(ss);
				}
			}
		}
	}
out:
	for (i = 0; cfd && i < n; i++)
		if (cfd[i] >= 0)
			close(cfd[i]);
	for (i = 0; i < nl; i++)
		if (ls[i].fd >= 0)
			close(ls[i].fd);
	free(cfd);
	free(pf);
	return r;
}

int cyris_topo_probe(const struct cyris_live *lv, const char *netns, unsigned timeout_ms,
		     struct cyris_probe **ret, size_t *ret_n)
{
	struct rules rs = {0};
	struct plan pl = { .rs = &rs };
	struct sockets S = {0};
	struct listener *ls = NULL;
	size_t i, j, nl = 0, capl = 0;
	int r = read_rules(netns, lv->range, &rs);

	/* and the rules each gateway guest enforces */
	for (i = 0; r == 0 && i < lv->n_guests; i++)
		if (lv->guests[i].gateway && streq(lv->guests[i].provider, "netns"))
			r = read_rules(lv->guests[i].name, lv->range, &rs);
	for (i = 0; r == 0 && i < rs.n; i++)
		r = flows_of_rule(&pl, lv, &rs.v[i]);
	if (r == 0)
		r = sample_denied(&pl, lv);
	/* one service per (guest, protocol, port) */
	for (i = 0; r == 0 && i < pl.n; i++) {
		if (pl.v[i].proto == CYRIS_FW_ICMP)
			continue;
		for (j = 0; j < nl && !(streq(ls[j].ns, pl.v[i].to) && ls[j].proto == pl.v[i].proto &&
					ls[j].port == pl.v[i].port); j++)
			;
		if (j < nl)
			continue;
		if (!cyris_grow((void **)&ls, &nl, &capl, sizeof(*ls))) {
			r = -ENOMEM;
			break;
		}
		snprintf(ls[nl - 1].ns, sizeof(ls[0].ns), "%s", pl.v[i].to);
		ls[nl - 1].proto = pl.v[i].proto;
		ls[nl - 1].port = pl.v[i].port;
	}
	if (r == 0)
		r = run(&S, pl.v, pl.n, ls, nl, timeout_ms);
	for (i = 0; i < S.n_ns; i++)
		if (S.ns[i].fd >= 0)
			close(S.ns[i].fd);
	free(S.ns);
	free(ls);
	free(rs.v);
	if (r < 0) {
		free(pl.v);
		return r;
	}
	*ret = pl.v;
	*ret_n = pl.n;
	return 0;
}
