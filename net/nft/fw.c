/* SPDX-License-Identifier: MIT */
/*
 * The firewall in the kernel: libnftnl objects sent over libmnl, one batch
 * (one nf_tables transaction) per call, every message acknowledged and every
 * error mapped back to the rule that caused it; reading tables back.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/gen.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include "cyris/fw.h"
#include "cyris/link.h"
#include "cyris/nl.h"
#include "cyris/entry.h"
#include "fw-priv.h"
#include "../base/util.h"

/* Typed cleanup (util.h's _cleanup_) for libnftnl's objects. */
#define DEFINE_NFTNL_FREEP(type)                                                \
	static inline void type##_freep(struct type **p) { if (*p) type##_free(*p); }
DEFINE_NFTNL_FREEP(nftnl_table)
DEFINE_NFTNL_FREEP(nftnl_chain)
DEFINE_NFTNL_FREEP(nftnl_rule)
DEFINE_NFTNL_FREEP(nftnl_set)
#define _cleanup_nftnl_(type) _cleanup_(type##_freep) struct type

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

#define IFNAME_TYPE 41          /* nft's datatype id for ifname */
/* <linux/netfilter_bridge.h>'s, which clashes with <net/if.h> */
#define BR_HOOK_FORWARD 2       /* NF_BR_FORWARD */
#define BR_PRI_FILTER -200      /* NF_BR_PRI_FILTER_BRIDGED */
#define IFACES_SET_ID 1

_Static_assert(FW_COMMENT_MAX == NFTNL_UDATA_COMMENT_MAXLEN, "fw-gen.c cuts comments where nft does");

struct cyris_fw {
	struct mnl_socket *nl;
	uint32_t portid, seq;
	char *netns;
	struct cyris_nl *rt;        /* rtnetlink, opened when resolving */
	struct cyris_fw_error err;
	int rcvbuf;                 /* cyris_fw_set_rcvbuf(), 0 = sized per batch */
	int bad_rule;               /* cyris_fw_set_bad_rule(), 0 = none */
};

/* ---- the context -------------------------------------------------------- */

int cyris_fw_open(struct cyris_fw **ret, const char *netns)
{
	static const int on = 1;
	struct cyris_fw *fw = calloc(1, sizeof(*fw));
	int old = -1, nsfd = -1, r = 0, buf = 8 << 20;

	if (!fw)
		return -ENOMEM;
	fw->netns = strdup(netns ? netns : "");
	if (!fw->netns) {
		free(fw);
		return -ENOMEM;
	}
	if (netns && *netns) {
		nsfd = cyris_netns_open(netns);
		if (nsfd < 0 || (r = cyris_netns_enter(nsfd, &old)) < 0) {
			r = nsfd < 0 ? nsfd : r;
			goto out;
		}
	}
	fw->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!fw->nl || mnl_socket_bind(fw->nl, 0, MNL_SOCKET_AUTOPID) < 0)
		r = -errno;
	if (old >= 0) {
		int r2 = cyris_netns_leave(old);

		if (r == 0)
			r = r2;
	}
	if (r == 0) {
		int fd = mnl_socket_get_fd(fw->nl);

		fw->portid = mnl_socket_get_portid(fw->nl);
		fw->seq = (uint32_t)time(NULL);
		(void)setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &on, sizeof(on));
		(void)setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &on, sizeof(on));
		/* every message of a batch is acknowledged: room for the replies */
		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)) < 0)
			(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	}
out:
	if (nsfd >= 0)
		close(nsfd);
	if (r < 0) {
		cyris_fw_free(fw);
		return r;
	}
	*ret = fw;
	return 0;
}

void cyris_fw_free(struct cyris_fw *fw)
{
	if (!fw)
		return;
	if (fw->nl)
		mnl_socket_close(fw->nl);
	cyris_nl_close(fw->rt);
	free(fw->netns);
	free(fw);
}

const struct cyris_fw_error *cyris_fw_last_error(struct cyris_fw *fw)
{
	struct cyris_fw_error *e = &fw->err;
	char detail[sizeof(e->e.detail)];

	/* the message from what failed and its code, the detail kept */
	memcpy(detail, e->e.detail, sizeof(detail));
	if (e->text[0])
		cyris_error_set(&e->e, e->e.code, "%s: %s", e->text, strerror(-e->e.code));
	else
		cyris_error_set(&e->e, e->e.code, "%s", strerror(-e->e.code));
	if (detail[0])
		cyris_error_detail(&e->e, CYRIS_ERROR_KERNEL, "%s", detail);
	return e;
}

static void set_error(struct cyris_fw *fw, int err, int rule, const char *what)
{
	memset(&fw->err, 0, sizeof(fw->err));
	fw->err.e.code = err;
	fw->err.rule = rule;
	if (what && (size_t)snprintf(fw->err.text, sizeof(fw->err.text), "%.*s",
				     (int)sizeof(fw->err.text) - 1, what) >= sizeof(fw->err.text) - 1 &&
	    strlen(what) >= sizeof(fw->err.text))
		memcpy(fw->err.text + sizeof(fw->err.text) - 4, "...", 4);   /* cut: say so */
}

/* ---- resolving the range's interfaces from the kernel ------------------- */

int cyris_fw_resolve(struct cyris_fw *fw, struct cyris_fw_policy *p)
{
	struct cyris_link_list links = {0};
	struct cyris_addr_list addrs = {0};
	size_t i, j;
	int r;

	if (!fw->rt && (r = cyris_nl_open(&fw->rt, fw->netns)) < 0)
		return r;
	r = cyris_link_list(fw->rt, &links);
	if (r == 0)
		r = cyris_addr_list(fw->rt, 0, &addrs);
	for (i = 0; r == 0 && i < links.n; i++) {
		const struct cyris_link *k = &links.v[i];

		/* the range's L3 interfaces: tagged, with a network, no master */
		if (!k->owned || !cyris_tag_in_range(&k->tag, p->range) || !k->tag.net[0] ||
		    k->master)
			continue;
		r = cyris_fw_policy_add_iface(p, k->tag.net, k->name, NULL, 0);
		for (j = 0; r == 0 && j < addrs.n; j++)
			if (addrs.v[j].ifindex == k->ifindex && addrs.v[j].scope == RT_SCOPE_UNIVERSE)
				r = cyris_fw_policy_add_iface(p, k->tag.net, k->name, &addrs.v[j].prefix, 1);
	}
	cyris_addr_list_free(&addrs);
	cyris_link_list_free(&links);
	return r;
}

/* ---- building a batch --------------------------------------------------- */

/* What a message of the batch is, to name it when the kernel refuses it:
 * the policy's rule, and an offset into the batch's texts. */
struct msginfo {
	int rule;
	uint32_t what;
};

/*
 * The batch is built in chunks, sent together as one iovec in one sendmsg
 * (nfnetlink takes a batch from one datagram only: BEGIN..END in one skb).
 * A chunk is fresh anonymous memory, so it is zeroed (libmnl leaves
 * attribute padding as it finds it: no uninitialised bytes go out) and
 * only what is written of it is ever resident; a message never spans two.
 */
#define MSG_ROOM (UINT16_MAX + 1)   /* the largest message, kept free ahead */
#define CHUNK_MIN (1u << 20)
#define WHAT_MAX 127                /* of a message's text */
#define WHAT_RULE UINT32_MAX        /* the text: its policy rule's */

struct batch {
	struct cyris_fw *fw;
	struct iovec *iov;          /* the chunks, iov_len: what is used */
	size_t n_iov, cap_iov;
	size_t *chunk_size;         /* each chunk's mapped size */
	size_t n_size, cap_size;
	size_t total;               /* bytes in the batch */
	char *buf;                  /* the current chunk */
	size_t len, size;
	uint32_t first;             /* seq of the first message after BEGIN */
	struct msginfo *info;
	size_t n, cap;
	char *what;                 /* the messages' texts, NUL-separated */
	size_t what_len, what_size;
	uint32_t recent[4];         /* the last ones added (repeated: shared) */
	const struct cyris_fw_policy *p;   /* whose rules' texts are not copied */
	int nth;                    /* kernel rules so far */
	int err;                    /* first build error */
	uint32_t next_set_id;       /* of the next anonymous set */
};

/* Keep MSG_ROOM bytes free past the end: a new chunk when they are not.
 * Chunks grow with the batch (an eighth of it), so that a large batch
 * takes few of them (sendmsg takes at most UIO_MAXIOV). */
static int room(struct batch *b)
{
	size_t size, *sz;
	struct iovec *v;
	void *m;

	if (b->buf && b->size - b->len >= MSG_ROOM)
		return 0;
	size = b->total / 8 > CHUNK_MIN ? (b->total / 8 + 4095) & ~(size_t)4095 : CHUNK_MIN;
	m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return -ENOMEM;
	if (!(v = cyris_grow((void **)&b->iov, &b->n_iov, &b->cap_iov, sizeof(*v))) ||
	    !(sz = cyris_grow((void **)&b->chunk_size, &b->n_size, &b->cap_size, sizeof(*sz)))) {
		if (v)
			b->n_iov--;
		munmap(m, size);
		return -ENOMEM;
	}
	v->iov_base = m;
	*sz = size;
	b->buf = m;
	b->len = 0;
	b->size = size;
	return 0;
}

/* The message just built at the end of the chunk belongs to the batch. */
static void advance(struct batch *b)
{
	const struct nlmsghdr *h = (const void *)(b->buf + b->len);

	b->len += MNL_ALIGN(h->nlmsg_len);
	b->total += MNL_ALIGN(h->nlmsg_len);
	b->iov[b->n_iov - 1].iov_len = b->len;
}

static int batch_init(struct batch *b, struct cyris_fw *fw)
{
	memset(b, 0, sizeof(*b));
	b->fw = fw;
	b->next_set_id = IFACES_SET_ID + 1;
	memset(b->recent, 0xff, sizeof(b->recent));
	if (room(b) < 0)
		return -ENOMEM;
	nftnl_batch_begin(b->buf, fw->seq++);
	advance(b);
	b->first = fw->seq;
	return 0;
}

static void batch_free(struct batch *b)
{
	size_t i;

	for (i = 0; i < b->n_iov; i++)
		munmap(b->iov[i].iov_base, b->chunk_size[i]);
	free(b->iov);
	free(b->chunk_size);
	free(b->info);
	free(b->what);
}

/* The offset of @what among the batch's texts (a recent one again when it
 * is the same; WHAT_RULE when it is the text of @rule of the batch's
 * policy, which is not copied), or -ENOMEM. */
static int64_t what_add(struct batch *b, int rule, const char *what)
{
	size_t len = strnlen(what, WHAT_MAX), i;
	char *v;

	if (b->p && rule >= 0 && strncmp(fw_policy_rule_text(b->p, (size_t)rule), what, WHAT_MAX) == 0)
		return WHAT_RULE;
	for (i = 0; i < ARRAY_SIZE(b->recent); i++)
		if (b->recent[i] != UINT32_MAX && strlen(b->what + b->recent[i]) == len &&
		    memcmp(b->what + b->recent[i], what, len) == 0)
			return b->recent[i];
	if (b->what_len + len + 1 > UINT32_MAX - 1)
		return -ENOMEM;
	if (b->what_size - b->what_len < len + 1) {
		size_t size = b->what_size ? b->what_size * 2 : 4096;

		while (size - b->what_len < len + 1)
			size *= 2;
		if (!(v = realloc(b->what, size)))
			return -ENOMEM;
		b->what = v;
		b->what_size = size;
	}
	memcpy(b->what + b->what_len, what, len);
	b->what[b->what_len + len] = '\0';
	memmove(b->recent + 1, b->recent, sizeof(b->recent) - sizeof(b->recent[0]));
	b->recent[0] = (uint32_t)b->what_len;
	b->what_len += len + 1;
	return b->recent[0];
}

/* Start a message: its header, with a sequence number recorded against
 * @rule / @what so that an error can name its cause. */
static struct nlmsghdr *msg_begin_family(struct batch *b, uint16_t family, uint16_t type,
					 uint16_t flags, int rule, const char *what)
{
	struct msginfo *mi;
	int64_t w;

	if (room(b) < 0 || (w = what_add(b, rule, what)) < 0 ||
	    !(mi = cyris_grow((void **)&b->info, &b->n, &b->cap, sizeof(*mi)))) {
		b->err = -ENOMEM;
		return NULL;
	}
	mi->rule = rule;
	mi->what = (uint32_t)w;
	return nftnl_nlmsg_build_hdr(b->buf + b->len, type, family,
				     flags | NLM_F_ACK, b->fw->seq++);
}

static struct nlmsghdr *msg_begin(struct batch *b, uint16_t type, uint16_t flags,
				  int rule, const char *what)
{
	return msg_begin_family(b, NFPROTO_INET, type, flags, rule, what);
}

static void msg_end(struct batch *b)
{
	advance(b);
}

static void udata_comment(void *obj, int which, int type, const char *text,
			  int (*set)(void *, uint16_t, const void *, uint32_t))
{
	struct nftnl_udata_buf *u = nftnl_udata_buf_alloc(256);
	char c[NFTNL_UDATA_COMMENT_MAXLEN];

	if (!u)
		return;
	/* nft shows at most NFTNL_UDATA_COMMENT_MAXLEN - 1 bytes */
	memcpy(c, text, strnlen(text, sizeof(c) - 1));
	c[strnlen(text, sizeof(c) - 1)] = '\0';
	nftnl_udata_put_strz(u, (uint8_t)type, c);
	set(obj, (uint16_t)which, nftnl_udata_buf_data(u), nftnl_udata_buf_len(u));
	nftnl_udata_buf_free(u);
}

static int set_table_data(void *t, uint16_t w, const void *d, uint32_t l)
{
	return nftnl_table_set_data(t, w, d, l);
}

static int set_rule_data(void *r, uint16_t w, const void *d, uint32_t l)
{
	return nftnl_rule_set_data(r, w, d, l);
}

static struct nftnl_table *table_new(uint16_t family, const char *table, const char *range)
{
	struct nftnl_table *t = nftnl_table_alloc();
	char comment[64];

	if (!t)
		return NULL;
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, table);
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, family);
	if (range) {
		snprintf(comment, sizeof(comment), "cyris range=%s", range);
		udata_comment(t, NFTNL_TABLE_USERDATA, NFTNL_UDATA_TABLE_COMMENT, comment,
			      set_table_data);
	}
	return t;
}

static void add_table_family(struct batch *b, uint16_t family, uint16_t type, uint16_t flags,
			     const char *table, const char *range)
{
	_cleanup_nftnl_(nftnl_table) *t = table_new(family, table, range);
	struct nlmsghdr *h;

	if (!t || !(h = msg_begin_family(b, family, type, flags, -1,
					 family == NFPROTO_BRIDGE ? "bridge table" : "table"))) {
		b->err = -ENOMEM;
		return;
	}
	nftnl_table_nlmsg_build_payload(h, t);
	msg_end(b);
}

static void add_table(struct batch *b, uint16_t type, uint16_t flags,
		      const char *table, const char *range)
{
	add_table_family(b, NFPROTO_INET, type, flags, table, range);
}

static void add_ifaces_set(struct batch *b, const char *table, const struct cyris_fw_policy *p)
{
	_cleanup_nftnl_(nftnl_set) *s = nftnl_set_alloc();
	struct nlmsghdr *h;
	size_t i, j, n = 0;

	if (!s) {
		b->err = -ENOMEM;
		return;
	}
	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, "ifaces");
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, IFNAME_TYPE);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, CYRIS_IFNAMSIZ);
	nftnl_set_set_u32(s, NFTNL_SET_ID, IFACES_SET_ID);
	{
		/* tell nft the key is a host-order string, so it prints names */
		struct nftnl_udata_buf *u = nftnl_udata_buf_alloc(64);

		if (u) {
			nftnl_udata_put_u32(u, NFTNL_UDATA_SET_KEYBYTEORDER, 1 /* host */);
			nftnl_set_set_data(s, NFTNL_SET_USERDATA, nftnl_udata_buf_data(u),
					   nftnl_udata_buf_len(u));
			nftnl_udata_buf_free(u);
		}
	}
	if ((h = msg_begin(b, NFT_MSG_NEWSET, NLM_F_CREATE, -1, "set ifaces"))) {
		nftnl_set_nlmsg_build_payload(h, s);
		msg_end(b);
	}
	for (i = 0; i < p->n_nets; i++) {
		for (j = 0; j < p->nets[i].n_ifnames; j++, n++) {
			struct nftnl_set_elem *e = nftnl_set_elem_alloc();
			char key[CYRIS_IFNAMSIZ] = {0};

			if (!e) {
				b->err = -ENOMEM;
				break;
			}
			memcpy(key, p->nets[i].ifnames[j], strlen(p->nets[i].ifnames[j]));
			nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, sizeof(key));
			nftnl_set_elem_add(s, e);
		}
	}
	if (n && (h = msg_begin(b, NFT_MSG_NEWSETELEM, NLM_F_CREATE, -1, "set ifaces elements"))) {
		nftnl_set_elems_nlmsg_build_payload(h, s);
		msg_end(b);
	}
}

static void add_chains(struct batch *b, const char *table)
{
	size_t i;

	for (i = 0; i < fw_n_chains; i++) {
		const struct fw_chain_def *d = &fw_chains[i];
		_cleanup_nftnl_(nftnl_chain) *c = nftnl_chain_alloc();
		struct nlmsghdr *h;
		char what[64];

		if (!c) {
			b->err = -ENOMEM;
			return;
		}
		nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table);
		nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, d->name);
		nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
		if (d->type) {
			nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, (uint32_t)d->hook);
			nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, d->prio);
			nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, d->type);
			nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
		}
		snprintf(what, sizeof(what), "chain %s", d->name);
		if ((h = msg_begin(b, NFT_MSG_NEWCHAIN, NLM_F_CREATE, -1, what))) {
			nftnl_chain_nlmsg_build_payload(h, c);
			msg_end(b);
		}
	}
}

/* ---- expressions -------------------------------------------------------- */

static void e_add(struct nftnl_rule *r, struct nftnl_expr *e, int *err)
{
	if (!e)
		*err = -ENOMEM;
	else
		nftnl_rule_add_expr(r, e);
}

static struct nftnl_expr *e_meta(uint32_t key)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	}
	return e;
}

static struct nftnl_expr *e_cmp(uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("cmp");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
		nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	}
	return e;
}

static struct nftnl_expr *e_payload(uint32_t base, uint32_t off, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("payload");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	}
	return e;
}

static struct nftnl_expr *e_bitwise(const void *mask, uint32_t len)
{
	static const uint8_t zero[16];
	struct nftnl_expr *e = nftnl_expr_alloc("bitwise");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero, len);
	}
	return e;
}

static struct nftnl_expr *e_lookup(bool invert)
{
	struct nftnl_expr *e = nftnl_expr_alloc("lookup");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
		nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, "ifaces");
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, IFACES_SET_ID);
		if (invert)
			nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_FLAGS, NFT_LOOKUP_F_INV);
	}
	return e;
}

static struct nftnl_expr *e_ct(uint32_t key)
{
	struct nftnl_expr *e = nftnl_expr_alloc("ct");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	}
	return e;
}

static struct nftnl_expr *e_imm_data(uint32_t reg, const void *data, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, reg);
		nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, data, len);
	}
	return e;
}

static struct nftnl_expr *e_verdict(int verdict, const char *chain)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)verdict);
		if (chain)
			nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain);
	}
	return e;
}

/* ip/ip6 saddr/daddr in @p: load, compare. A byte-aligned prefix loads
 * only its bytes; any other is masked first. */
static void m_addr(struct nftnl_rule *r, const struct fw_match *m, int *err)
{
	bool v6 = m->pfx.ip.family == AF_INET6;
	uint32_t len = v6 ? 16 : 4;
	uint32_t off = v6 ? (m->kind != FM_DADDR ? 8 : 24) : (m->kind != FM_DADDR ? 12 : 16);
	uint32_t op = m->kind == FM_SADDR_NOT_IN ? NFT_CMP_NEQ : NFT_CMP_EQ;
	struct cyris_prefix net = cyris_prefix_network(&m->pfx);
	uint8_t mask[16] = {0};
	unsigned i;

	if (m->pfx.len == 0)
		return;
	if (m->pfx.len % 8 == 0) {
		e_add(r, e_payload(NFT_PAYLOAD_NETWORK_HEADER, off, m->pfx.len / 8u), err);
		e_add(r, e_cmp(op, net.ip.a, m->pfx.len / 8u), err);
		return;
	}
	e_add(r, e_payload(NFT_PAYLOAD_NETWORK_HEADER, off, len), err);
	for (i = 0; i < m->pfx.len; i++)
		mask[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	e_add(r, e_bitwise(mask, len), err);
	e_add(r, e_cmp(op, net.ip.a, len), err);
}

static void m_ports(struct nftnl_rule *r, const struct fw_match *m, int *err)
{
	uint16_t lo = htons(m->ports.lo), hi = htons(m->ports.hi);

	e_add(r, e_payload(NFT_PAYLOAD_TRANSPORT_HEADER, m->kind == FM_SPORT ? 0 : 2, 2), err);
	if (m->ports.lo == m->ports.hi) {
		e_add(r, e_cmp(NFT_CMP_EQ, &lo, 2), err);
	} else {
		/* big-endian bytes compare in numeric order */
		e_add(r, e_cmp(NFT_CMP_GTE, &lo, 2), err);
		e_add(r, e_cmp(NFT_CMP_LTE, &hi, 2), err);
	}
}

/* ---- anonymous sets ----------------------------------------------------- */

/* nft's datatypes of set keys */
#define TYPE_IPADDR 7
#define TYPE_IP6ADDR 8
#define TYPE_INET_PROTOCOL 12
#define TYPE_INET_SERVICE 13

struct ival {
	uint8_t lo[16], hi[16];
};

static int ival_cmp(const void *a, const void *b, void *len)
{
	return memcmp(((const struct ival *)a)->lo, ((const struct ival *)b)->lo, *(size_t *)len);
}

/* @v + 1 in place (big-endian); false when it wraps (the top of the space). */
static bool be_inc(uint8_t *v, size_t len)
{
	while (len--)
		if (++v[len])
			return true;
	return false;
}

static void set_elem(struct batch *b, struct nftnl_set *s, const uint8_t *key, size_t len, bool end)
{
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();

	if (!e) {
		b->err = -ENOMEM;
		return;
	}
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, (uint32_t)len);
	if (end)
		nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_FLAGS, NFT_SET_ELEM_INTERVAL_END);
	nftnl_set_elem_add(s, e);
}

/* Sort @v and merge the intervals that overlap or touch (the kernel
 * refuses overlaps); returns how many are left. */
static size_t merge_ivals(struct ival *v, size_t n, size_t len)
{
	size_t i, k = 0;

	qsort_r(v, n, sizeof(*v), ival_cmp, &len);
	for (i = 0; i < n; i++) {
		if (k) {
			uint8_t next[16];
			bool top;

			memcpy(next, v[k - 1].hi, len);
			top = !be_inc(next, len);
			if (top || memcmp(v[i].lo, next, len) <= 0) {
				if (memcmp(v[i].hi, v[k - 1].hi, len) > 0)
					memcpy(v[k - 1].hi, v[i].hi, len);
				continue;
			}
		}
		v[k++] = v[i];
	}
	return k;
}

/* An anonymous constant set of @m's values, in the batch before the rule
 * that looks it up; returns its id. */
static uint32_t anon_set(struct batch *b, const char *table, int rule, const struct fw_match *m)
{
	_cleanup_nftnl_(nftnl_set) *s = nftnl_set_alloc();
	_cleanup_free_ struct ival *v = calloc(m->n_set, sizeof(*v));
	uint32_t id = b->next_set_id++, flags = NFT_SET_ANONYMOUS | NFT_SET_CONSTANT;
	uint32_t type = TYPE_INET_PROTOCOL, len = 1;
	struct nlmsghdr *h;
	size_t i, n = m->n_set;

	if (!s || !v) {
		b->err = -ENOMEM;
		return 0;
	}
	if (m->pfx_set) {
		bool v6 = m->pfx_set[0].ip.family == AF_INET6;

		type = v6 ? TYPE_IP6ADDR : TYPE_IPADDR;
		len = v6 ? 16 : 4;
		for (i = 0; i < n; i++) {
			struct cyris_prefix net = cyris_prefix_network(&m->pfx_set[i]);
			unsigned bit;

			memcpy(v[i].lo, net.ip.a, len);
			memcpy(v[i].hi, net.ip.a, len);
			for (bit = net.len; bit < len * 8; bit++)
				v[i].hi[bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
		}
	} else if (m->port_set) {
		type = TYPE_INET_SERVICE;
		len = 2;
		for (i = 0; i < n; i++) {
			uint16_t lo = htons(m->port_set[i].lo), hi = htons(m->port_set[i].hi);

			memcpy(v[i].lo, &lo, 2);
			memcpy(v[i].hi, &hi, 2);
		}
	}
	if (type != TYPE_INET_PROTOCOL)
		flags |= NFT_SET_INTERVAL;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, "__set%d");
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, flags);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, type);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, len);
	nftnl_set_set_u32(s, NFTNL_SET_ID, id);
	if ((h = msg_begin(b, NFT_MSG_NEWSET, NLM_F_CREATE, rule, "an anonymous set"))) {
		nftnl_set_nlmsg_build_payload(h, s);
		msg_end(b);
	}
	if (flags & NFT_SET_INTERVAL) {
		n = merge_ivals(v, n, len);
		for (i = 0; i < n; i++) {
			set_elem(b, s, v[i].lo, len, false);
			if (be_inc(v[i].hi, len))
				set_elem(b, s, v[i].hi, len, true);
		}
	} else {
		for (i = 0; i < n; i++)
			set_elem(b, s, &m->l4_set[i], 1, false);
	}
	if ((h = msg_begin(b, NFT_MSG_NEWSETELEM, NLM_F_CREATE, rule, "an anonymous set's elements"))) {
		nftnl_set_elems_nlmsg_build_payload(h, s);
		msg_end(b);
	}
	return id;
}

static struct nftnl_expr *e_lookup_anon(uint32_t id, bool invert)
{
	struct nftnl_expr *e = nftnl_expr_alloc("lookup");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
		nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, "__set%d");
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, id);
		if (invert)
			nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_FLAGS, NFT_LOOKUP_F_INV);
	}
	return e;
}

/* A match on an anonymous set: load the field, look it up. */
static void m_set(struct batch *b, const char *table, int rule, struct nftnl_rule *r,
		  const struct fw_match *m, int *err)
{
	uint32_t id = anon_set(b, table, rule, m);

	if (m->kind == FM_SADDR || m->kind == FM_DADDR || m->kind == FM_SADDR_NOT_IN) {
		bool v6 = m->pfx_set[0].ip.family == AF_INET6;
		uint32_t off = v6 ? (m->kind != FM_DADDR ? 8 : 24) : (m->kind != FM_DADDR ? 12 : 16);

		e_add(r, e_payload(NFT_PAYLOAD_NETWORK_HEADER, off, v6 ? 16 : 4), err);
	} else if (m->kind == FM_L4PROTO) {
		e_add(r, e_meta(NFT_META_L4PROTO), err);
	} else {
		e_add(r, e_payload(NFT_PAYLOAD_TRANSPORT_HEADER, m->kind == FM_SPORT ? 0 : 2, 2), err);
	}
	e_add(r, e_lookup_anon(id, m->kind == FM_SADDR_NOT_IN), err);
}

static void m_one(struct nftnl_rule *r, const struct fw_match *m, int *err)
{
	uint32_t bits, zero = 0, local = RTN_LOCAL;
	uint8_t v8 = (uint8_t)m->v;
	char name[CYRIS_IFNAMSIZ] = {0};
	struct nftnl_expr *e;

	switch (m->kind) {
	case FM_IIF_IN_SET:
	case FM_IIF_NOT_IN_SET:
	case FM_OIF_IN_SET:
	case FM_OIF_NOT_IN_SET:
		e_add(r, e_meta(m->kind <= FM_IIF_NOT_IN_SET ? NFT_META_IIFNAME : NFT_META_OIFNAME), err);
		e_add(r, e_lookup(m->kind == FM_IIF_NOT_IN_SET || m->kind == FM_OIF_NOT_IN_SET), err);
		break;
	case FM_IIFNAME:
	case FM_OIFNAME:
		memcpy(name, m->name, strlen(m->name));
		e_add(r, e_meta(m->kind == FM_IIFNAME ? NFT_META_IIFNAME : NFT_META_OIFNAME), err);
		e_add(r, e_cmp(NFT_CMP_EQ, name, sizeof(name)), err);
		break;
	case FM_NFPROTO:
	case FM_L4PROTO:
		e_add(r, e_meta(m->kind == FM_NFPROTO ? NFT_META_NFPROTO : NFT_META_L4PROTO), err);
		e_add(r, e_cmp(NFT_CMP_EQ, &v8, 1), err);
		break;
	case FM_SADDR:
	case FM_DADDR:
		m_addr(r, m, err);
		break;
	case FM_SPORT:
	case FM_DPORT:
		m_ports(r, m, err);
		break;
	case FM_CT_ESTREL:
	case FM_CT_DNAT:
	case FM_CT_NOT_ESTREL:
	case FM_CT_NOT_DNAT: {
		bool state = m->kind == FM_CT_ESTREL || m->kind == FM_CT_NOT_ESTREL;
		bool neg = m->kind == FM_CT_NOT_ESTREL || m->kind == FM_CT_NOT_DNAT;

		bits = state ? NF_CT_STATE_BIT(IP_CT_ESTABLISHED) | NF_CT_STATE_BIT(IP_CT_RELATED)
			     : IPS_DST_NAT;
		e_add(r, e_ct(state ? NFT_CT_STATE : NFT_CT_STATUS), err);
		e_add(r, e_bitwise(&bits, 4), err);
		e_add(r, e_cmp(neg ? NFT_CMP_EQ : NFT_CMP_NEQ, &zero, 4), err);
		break;
	}
	case FM_FIB_LOCAL:
		e = nftnl_expr_alloc("fib");
		if (e) {
			nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_FLAGS, NFTA_FIB_F_DADDR);
			nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
			nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, NFT_REG_1);
		}
		e_add(r, e, err);
		e_add(r, e_cmp(NFT_CMP_EQ, &local, 4), err);
		break;
	case FM_FIB_RPF:
		e = nftnl_expr_alloc("fib");
		if (e) {
			nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_FLAGS, NFTA_FIB_F_SADDR | NFTA_FIB_F_IIF);
			nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_OIF);
			nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, NFT_REG_1);
		}
		e_add(r, e, err);
		e_add(r, e_cmp(NFT_CMP_NEQ, &zero, 4), err);
		break;
	case FM_SADDR_NOT_IN:
		m_addr(r, m, err);
		break;
	case FM_ETHER_SADDR_NOT: {
		uint16_t ether = ARPHRD_ETHER;

		/* as nft encodes "ether saddr" in an inet table: an Ethernet
		 * input interface, then the source MAC, 6 bytes into the
		 * link-layer header */
		e_add(r, e_meta(NFT_META_IIFTYPE), err);
		e_add(r, e_cmp(NFT_CMP_EQ, &ether, 2), err);
		e_add(r, e_payload(NFT_PAYLOAD_LL_HEADER, 6, 6), err);
		e_add(r, e_cmp(NFT_CMP_NEQ, m->mac, 6), err);
		break;
	}
	}
}

static void m_verdict(struct nftnl_rule *r, const struct fw_krule *k, int *err)
{
	uint16_t port = htons(k->nat_port);
	struct nftnl_expr *e;

	switch (k->verdict) {
	case FV_ACCEPT: e_add(r, e_verdict(NF_ACCEPT, NULL), err); break;
	case FV_DROP: e_add(r, e_verdict(NF_DROP, NULL), err); break;
	case FV_RETURN: e_add(r, e_verdict(NFT_RETURN, NULL), err); break;
	case FV_JUMP: e_add(r, e_verdict(NFT_JUMP, k->target), err); break;
	case FV_DNAT:
		e_add(r, e_imm_data(NFT_REG_1, k->nat_ip.a, 4), err);
		e_add(r, e_imm_data(NFT_REG_2, &port, 2), err);
		e = nftnl_expr_alloc("nat");
		if (e) {
			nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, NFT_NAT_DNAT);
			nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, NFPROTO_IPV4);
			nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1);
			nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, NFT_REG_2);
			nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FLAGS, NF_NAT_RANGE_PROTO_SPECIFIED);
		}
		e_add(r, e, err);
		break;
	case FV_MASQ:
		e_add(r, nftnl_expr_alloc("masq"), err);
		break;
	}
}

void cyris_fw_set_bad_rule(struct cyris_fw *fw, int nth)
{
	fw->bad_rule = nth > 0 ? nth : 0;
}

void cyris_fw_set_rcvbuf(struct cyris_fw *fw, int bytes)
{
	fw->rcvbuf = bytes > 0 ? bytes : 0;
}

static void add_rule(struct batch *b, const char *table, const struct fw_krule *k,
		     const char *what, int nth)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nlmsghdr *h;
	int err = 0;
	size_t i;

	if (!r) {
		b->err = -ENOMEM;
		return;
	}
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, k->chain);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	for (i = 0; i < k->n; i++)
		if (k->m[i].n_set)
			m_set(b, table, k->rule, r, &k->m[i], &err);
		else
			m_one(r, &k->m[i], &err);
	if (nth && nth == b->fw->bad_rule)
		e_add(r, e_payload(NFT_PAYLOAD_NETWORK_HEADER, 0, 0), &err);
	if (k->counter)
		e_add(r, nftnl_expr_alloc("counter"), &err);
	m_verdict(r, k, &err);
	if (k->comment[0])
		udata_comment(r, NFTNL_RULE_USERDATA, NFTNL_UDATA_RULE_COMMENT, k->comment,
			      set_rule_data);
	if (err)
		b->err = err;
	else if ((h = msg_begin(b, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND, k->rule, what))) {
		nftnl_rule_nlmsg_build_payload(h, r);
		msg_end(b);
	}
	nftnl_rule_free(r);
}

static void add_plan(struct batch *b, const char *table, const struct fw_plan *plan)
{
	size_t i;

	for (i = 0; i < plan->n; i++)
		add_rule(b, table, &plan->v[i], plan->v[i].comment[0] ? plan->v[i].comment : plan->v[i].chain,
			 ++b->nth);
}

/* ---- the host's bridges: their own MACs ---------------------------------- */

/*
 * Next to the inet table, a table "bridge cyris_R": a frame that one of the
 * range's bridges forwards from a port with a range bridge's own MAC as its
 * source is forged (the host's own frames enter a bridge through its output
 * hook, never its forward hook; another host's bridge of a network that
 * spans hosts has a MAC of its own) and is dropped. That is what a gateway
 * guest's uplink guard (fw_plan_uplink) rests on: the MAC it takes outside
 * sources from is one that no guest on that network can send with.
 */
struct bridge_mac {
	char name[CYRIS_IFNAMSIZ];
	uint8_t mac[6];
};

/* The range's bridges here (tagged, with a network) and their MACs. */
static int range_bridges(struct cyris_fw *fw, const char *range, struct bridge_mac **ret,
			 size_t *ret_n)
{
	struct cyris_link_list links = {0};
	struct bridge_mac *v = NULL, *slot;
	size_t i, n = 0, cap = 0;
	int r;

	if (!fw->rt && (r = cyris_nl_open(&fw->rt, fw->netns)) < 0)
		return r;
	if ((r = cyris_link_list(fw->rt, &links)) < 0)
		return r;
	for (i = 0; r == 0 && i < links.n; i++) {
		const struct cyris_link *k = &links.v[i];

		if (!k->owned || !cyris_tag_in_range(&k->tag, range) || !k->tag.net[0] || k->master ||
		    !streq(k->kind, "bridge") || !k->has_mac)
			continue;
		if (!(slot = cyris_grow((void **)&v, &n, &cap, sizeof(*slot)))) {
			r = -ENOMEM;
			break;
		}
		memcpy(slot->name, k->name, strlen(k->name) + 1);
		memcpy(slot->mac, k->mac, 6);
	}
	cyris_link_list_free(&links);
	if (r < 0) {
		free(v);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

static void add_bridge_rule(struct batch *b, const char *table, const struct bridge_mac *m)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	char comment[FW_COMMENT_MAX], mac[18];
	struct nlmsghdr *h;
	int err = 0;

	if (!r) {
		b->err = -ENOMEM;
		return;
	}
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, "forward");
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_BRIDGE);
	/* ether saddr, 6 bytes into the link-layer header */
	e_add(r, e_payload(NFT_PAYLOAD_LL_HEADER, 6, 6), &err);
	e_add(r, e_cmp(NFT_CMP_EQ, m->mac, 6), &err);
	e_add(r, nftnl_expr_alloc("counter"), &err);
	e_add(r, e_verdict(NF_DROP, NULL), &err);
	snprintf(comment, sizeof(comment), "bridge %s: its own MAC %s from a port is forged", m->name,
		 cyris_mac_format(m->mac, mac));
	udata_comment(r, NFTNL_RULE_USERDATA, NFTNL_UDATA_RULE_COMMENT, comment, set_rule_data);
	if (err)
		b->err = err;
	else if ((h = msg_begin_family(b, NFPROTO_BRIDGE, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND,
				       -1, comment))) {
		nftnl_rule_nlmsg_build_payload(h, r);
		msg_end(b);
	}
	nftnl_rule_free(r);
}

/* Replace the bridge table of @table with one guarding @v (none: it goes,
 * when @exists). */
static void add_bridge_guard(struct batch *b, const char *table, const char *range,
			     const struct bridge_mac *v, size_t n, bool exists)
{
	_cleanup_nftnl_(nftnl_chain) *c = NULL;
	struct nlmsghdr *h;
	size_t i;

	if (!n && !exists)
		return;
	add_table_family(b, NFPROTO_BRIDGE, NFT_MSG_NEWTABLE, NLM_F_CREATE, table, NULL);
	add_table_family(b, NFPROTO_BRIDGE, NFT_MSG_DELTABLE, 0, table, NULL);
	if (!n)
		return;
	add_table_family(b, NFPROTO_BRIDGE, NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_EXCL, table, range);
	if (!(c = nftnl_chain_alloc())) {
		b->err = -ENOMEM;
		return;
	}
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, "forward");
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_BRIDGE);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, BR_HOOK_FORWARD);
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, BR_PRI_FILTER);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
	nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	if ((h = msg_begin_family(b, NFPROTO_BRIDGE, NFT_MSG_NEWCHAIN, NLM_F_CREATE, -1,
				  "bridge chain forward"))) {
		nftnl_chain_nlmsg_build_payload(h, c);
		msg_end(b);
	}
	for (i = 0; i < n; i++)
		add_bridge_rule(b, table, &v[i]);
}

/* ---- sending a batch and reading every ACK ------------------------------ */

static void parse_extack(const struct nlmsghdr *h, char *buf, size_t size)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(h);
	size_t off = sizeof(*e);
	const struct nlattr *attr;

	if (!(h->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(h->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - sizeof(e->msg);
	if (MNL_NLMSG_HDRLEN + off >= h->nlmsg_len)
		return;
	mnl_attr_for_each_payload((const void *)((const char *)e + off), h->nlmsg_len - MNL_NLMSG_HDRLEN - off) {
		if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
		    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
			snprintf(buf, size, "%s", mnl_attr_get_str(attr));
	}
}

/* One reply: count the ACK; keep the first error with what caused it. */
static void note_reply(struct batch *b, const struct cyris_fw_policy *p,
		       const struct nlmsghdr *h, size_t *acks, int *first_err)
{
	struct cyris_fw *fw = b->fw;
	const struct nlmsgerr *e;
	size_t idx = h->nlmsg_seq - b->first;

	if (h->nlmsg_type != NLMSG_ERROR)
		return;
	(*acks)++;
	e = mnl_nlmsg_get_payload(h);
	if (!e->error || *first_err)
		return;
	*first_err = e->error;
	fw->err.e.code = e->error;
	parse_extack(h, fw->err.e.detail, sizeof(fw->err.e.detail));
	if (h->nlmsg_seq >= b->first && idx < b->n) {
		const struct msginfo *mi = &b->info[idx];
		struct cyris_fw_rule r;

		fw->err.rule = mi->rule;
		snprintf(fw->err.text, sizeof(fw->err.text), "%.*s", WHAT_MAX, mi->what == WHAT_RULE
			 ? fw_policy_rule_text(b->p, (size_t)mi->rule) : b->what + mi->what);
		if (p && mi->rule >= 0 && cyris_fw_policy_rule(p, (size_t)mi->rule, &r) == 0)
			fw->err.line = r.line;
	} else {
		snprintf(fw->err.text, sizeof(fw->err.text), "the batch");
	}
}

/* The ruleset's generation: nf_tables counts its commits. */
struct gen_reply {
	uint32_t id;
	bool found;
};

static int gen_cb(const struct nlmsghdr *h, void *data)
{
	struct gen_reply *gr = data;
	struct nftnl_gen *g = nftnl_gen_alloc();

	if (!g)
		return MNL_CB_ERROR;
	if (nftnl_gen_nlmsg_parse(h, g) == 0 && nftnl_gen_is_set(g, NFTNL_GEN_ID)) {
		gr->id = nftnl_gen_get_u32(g, NFTNL_GEN_ID);
		gr->found = true;
	}
	nftnl_gen_free(g);
	return MNL_CB_OK;
}

static int dump_run(struct cyris_fw *fw, const struct nlmsghdr *h, mnl_cb_t cb, void *data);

static int read_gen(struct cyris_fw *fw, uint32_t *ret)
{
	char buf[256] = "";
	struct gen_reply gr = {0};
	struct nlmsghdr *h = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETGEN, NFPROTO_UNSPEC,
						   NLM_F_ACK, fw->seq++);
	int r = dump_run(fw, h, gen_cb, &gr);

	if (r == 0 && !gr.found)
		r = -EPROTO;
	if (r == 0)
		*ret = gr.id;
	return r;
}

/*
 * Room for @n ACKs: an ACK takes some 700-800 bytes of the receive buffer
 * (the kernel counts the whole skb) and the kernel doubles what is asked
 * for, so 1 KiB each is ample; never less than the 8 MiB of cyris_fw_open().
 * cyris_fw_set_rcvbuf() sets it instead, so that the ACKs can overflow it
 * (the path of an unprivileged caller, whom net.core.rmem_max caps).
 */
static void size_rcvbuf(int fd, size_t n, int fixed)
{
	int sz;

	if (fixed > 0) {
		sz = fixed;
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
		return;
	}
	if (n > (size_t)(INT_MAX / 2 / 1024) - 64)
		sz = INT_MAX / 2;
	else
		sz = (int)(n + 64) * 1024 > 8 << 20 ? (int)(n + 64) * 1024 : 8 << 20;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
}

/*
 * ACKs were lost (the receive buffer overflowed) and none of those read was
 * an error: the generation says whether the kernel committed. It counts
 * every commit in this namespace, and a rejected batch does not move it.
 */
static int after_overrun(struct cyris_fw *fw, int have_gen, uint32_t before)
{
	uint32_t after;

	if (!have_gen || read_gen(fw, &after) < 0) {
		set_error(fw, -ENOBUFS, -1, "the replies overflowed the receive buffer "
			  "and the ruleset generation cannot be read: whether the kernel "
			  "committed the batch is unknown");
		return -ENOBUFS;
	}
	if (after == before + 1)
		return 0;
	if (after == before)
		set_error(fw, -ENOBUFS, -1, "the kernel rejected the batch (its replies "
			  "overflowed the receive buffer: which rule is unknown; nothing was changed)");
	else
		set_error(fw, -ENOBUFS, -1, "the replies overflowed the receive buffer and "
			  "another process changed the ruleset meanwhile: whether the kernel "
			  "committed the batch is unknown");
	return -ENOBUFS;
}

/*
 * Send the batch and read its replies. nfnetlink processes a batch inside
 * sendmsg(), and queues every ACK before it returns (the transaction is
 * one datagram: its ACKs cannot be read while it is being sent), so the
 * receive buffer is sized for all of them first; then read until the
 * socket is empty. Should ACKs still be lost (ENOBUFS: a caller without
 * CAP_NET_ADMIN gets at most net.core.rmem_max), an error among those read
 * means the batch was rejected, and otherwise the ruleset generation,
 * read before and after, tells whether it was committed. Returns 0, or the
 * first error with fw->err naming the message that caused it.
 */
static int batch_send(struct batch *b, const struct cyris_fw_policy *p)
{
	struct cyris_fw *fw = b->fw;
	int fd = mnl_socket_get_fd(fw->nl), r = 0, first_err = 0, sz, overrun = 0, have_gen;
	_cleanup_free_ char *buf = malloc(64 * 1024);
	struct sockaddr_nl snl = { .nl_family = AF_NETLINK };
	struct msghdr mh = { .msg_name = &snl, .msg_namelen = sizeof(snl) };
	size_t acks = 0;
	uint32_t gen = 0;

	if (!buf)
		return -ENOMEM;
	if (b->err) {
		set_error(fw, b->err, -1, "building the batch");
		return b->err;
	}
	if (room(b) < 0)
		return -ENOMEM;
	nftnl_batch_end(b->buf + b->len, fw->seq++);
	advance(b);
	mh.msg_iov = b->iov;
	mh.msg_iovlen = b->n_iov;
	/* the whole batch goes in one sendmsg: make room for it */
	if (b->n_iov > IOV_MAX || b->total > INT_MAX - 65536) {
		set_error(fw, -EMSGSIZE, -1, "sending the batch (too large for one datagram)");
		return -EMSGSIZE;
	}
	sz = (int)b->total + 65536;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	size_rcvbuf(fd, b->n, fw->rcvbuf);
	have_gen = read_gen(fw, &gen) == 0;
	if (sendmsg(fd, &mh, 0) < 0) {
		r = -errno;
		set_error(fw, r, -1, r == -EMSGSIZE
			  ? "sending the batch (larger than the send buffer: net.core.wmem_max "
			    "caps it without CAP_NET_ADMIN)" : "sending the batch");
		return r;
	}
	memset(&fw->err, 0, sizeof(fw->err));
	fw->err.rule = -1;
	while (acks < b->n) {
		/* many ACKs per system call: one datagram each */
		struct mmsghdr mm[64];
		struct iovec rio[64];
		int got, m;

		for (m = 0; m < 64; m++) {
			rio[m].iov_base = buf + (size_t)m * 1024;
			rio[m].iov_len = 1024;
			memset(&mm[m].msg_hdr, 0, sizeof(mm[m].msg_hdr));
			mm[m].msg_hdr.msg_iov = &rio[m];
			mm[m].msg_hdr.msg_iovlen = 1;
		}
		got = recvmmsg(fd, mm, 64, MSG_DONTWAIT, NULL);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				overrun = 1;   /* some were dropped; read the rest */
				continue;
			}
			if (errno == EAGAIN && (first_err || overrun))
				break;   /* the kernel said why, or the rest is lost */
			r = errno == EAGAIN ? -EPROTO : -errno;
			break;
		}
		for (m = 0; m < got; m++) {
			int left = (int)mm[m].msg_len;

			for (const struct nlmsghdr *h = rio[m].iov_base; mnl_nlmsg_ok(h, left);
			     h = mnl_nlmsg_next(h, &left))
				note_reply(b, p, h, &acks, &first_err);
		}
	}
	if (first_err)
		return first_err;
	if (r < 0) {
		set_error(fw, r, -1, "reading the replies");
		return r;
	}
	return overrun ? after_overrun(fw, have_gen, gen) : 0;
}

/* ---- dumps -------------------------------------------------------------- */

/* One datagram, read whole: its size is peeked first (MSG_PEEK|MSG_TRUNC)
 * and *@buf grown to fit, so that no message is ever cut short (a dump of
 * hundreds of interfaces or rules comes in messages of up to 32 KiB, and
 * the kernel sizes them after the largest read it has seen). */
static ssize_t recv_whole(int fd, char **buf, size_t *cap)
{
	ssize_t n;
	char *p;

	for (;;) {
		n = recv(fd, *buf, *cap, MSG_PEEK | MSG_TRUNC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if ((size_t)n <= *cap)
			break;
		if (!(p = realloc(*buf, (size_t)n)))
			return -ENOMEM;
		*buf = p;
		*cap = (size_t)n;
	}
	do
		n = recv(fd, *buf, *cap, 0);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

/* Send the dump request @h and feed each reply to @cb until NLMSG_DONE. */
static int dump_run(struct cyris_fw *fw, const struct nlmsghdr *h, mnl_cb_t cb, void *data)
{
	size_t cap = 64 * 1024;
	_cleanup_free_ char *buf = malloc(cap);
	uint32_t seq = h->nlmsg_seq;
	ssize_t n;
	int r;

	if (!buf)
		return -ENOMEM;
	if (mnl_socket_sendto(fw->nl, h, h->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		n = recv_whole(mnl_socket_get_fd(fw->nl), &buf, &cap);
		if (n < 0)
			return (int)n;
		errno = 0;
		r = mnl_cb_run(buf, (size_t)n, seq, fw->portid, cb, data);
		if (r < 0)
			return errno ? -errno : -EIO;
		if (r == MNL_CB_STOP)
			return 0;
	}
}

/* Run a dump request (of @table and @chain when given) and feed each
 * reply to @cb. */
static int dump_chain(struct cyris_fw *fw, uint16_t type, const char *table,
		      const char *chain, mnl_cb_t cb, void *data)
{
	char buf[1024] = "";   /* the request: no uninitialised padding */
	struct nlmsghdr *h;

	h = nftnl_nlmsg_build_hdr(buf, type, table ? NFPROTO_INET : NFPROTO_UNSPEC,
				  NLM_F_DUMP, fw->seq++);
	if (table) {
		/* filter by table: a rule/chain object carrying just the name */
		struct nftnl_rule *t = nftnl_rule_alloc();

		if (!t)
			return -ENOMEM;
		nftnl_rule_set_str(t, NFTNL_RULE_TABLE, table);
		if (chain)
			nftnl_rule_set_str(t, NFTNL_RULE_CHAIN, chain);
		nftnl_rule_nlmsg_build_payload(h, t);
		nftnl_rule_free(t);
	}
	return dump_run(fw, h, cb, data);
}

static int dump(struct cyris_fw *fw, uint16_t type, const char *table,
		mnl_cb_t cb, void *data)
{
	return dump_chain(fw, type, table, NULL, cb, data);
}

/* ---- tables: ownership -------------------------------------------------- */

struct table_info {
	uint32_t family;          /* of the tables looked at; 0 = inet */
	const char *name;         /* the one asked for */
	bool found;
	char comment[NFTNL_UDATA_COMMENT_MAXLEN];
	/* every cyris table, for show */
	char (*names)[CYRIS_FW_TABLESIZ];
	char (*ranges)[CYRIS_ID_MAX + 1];
	size_t n, cap, cap2, n2;
};

static int udata_cb(const struct nftnl_udata *attr, void *data)
{
	char *out = data;

	if (nftnl_udata_type(attr) == 0 && nftnl_udata_len(attr) > 0) {
		size_t len = nftnl_udata_len(attr);

		if (len > NFTNL_UDATA_COMMENT_MAXLEN)
			len = NFTNL_UDATA_COMMENT_MAXLEN;
		memcpy(out, nftnl_udata_get(attr), len);
		out[len - 1] = '\0';
	}
	return 0;
}

static void udata_get(const void *data, uint32_t len, char *out)
{
	out[0] = '\0';
	if (data && len)
		(void)nftnl_udata_parse(data, len, udata_cb, out);
}

static int table_cb_info(const struct nlmsghdr *h, void *data)
{
	struct table_info *ti = data;
	_cleanup_nftnl_(nftnl_table) *t = nftnl_table_alloc();
	char comment[NFTNL_UDATA_COMMENT_MAXLEN];
	const char *name;
	uint32_t len = 0;
	const void *ud;

	if (!t)
		return MNL_CB_ERROR;
	if (nftnl_table_nlmsg_parse(h, t) < 0 ||
	    nftnl_table_get_u32(t, NFTNL_TABLE_FAMILY) != (ti->family ? ti->family : NFPROTO_INET))
		return MNL_CB_OK;
	name = nftnl_table_get_str(t, NFTNL_TABLE_NAME);
	ud = nftnl_table_get_data(t, NFTNL_TABLE_USERDATA, &len);
	udata_get(ud, len, comment);
	if (ti->name && name && streq(name, ti->name)) {
		ti->found = true;
		memcpy(ti->comment, comment, sizeof(comment));
	}
	if (strncmp(comment, "cyris range=", 12) == 0 && name && strlen(name) < CYRIS_FW_TABLESIZ &&
	    cyris_id_valid(comment + 12)) {
		char (*n)[CYRIS_FW_TABLESIZ] = cyris_grow((void **)&ti->names, &ti->n, &ti->cap, sizeof(*n));
		char (*rg)[CYRIS_ID_MAX + 1] = cyris_grow((void **)&ti->ranges, &ti->n2, &ti->cap2, sizeof(*rg));

		if (n && rg) {
			memcpy(*n, name, strlen(name) + 1);
			memcpy(*rg, comment + 12, strlen(comment + 12) + 1);
		}
	}
	return MNL_CB_OK;
}

static void table_info_free(struct table_info *ti)
{
	free(ti->names);
	free(ti->ranges);
}

/* Is there an inet table @name, and is it range @range's? 1 = ours,
 * 0 = absent, -EEXIST = present and not ours. */
static int table_owner_family(struct cyris_fw *fw, uint32_t family, const char *name,
			      const char *range)
{
	struct table_info ti = { .family = family, .name = name };
	char want[64];
	int r = dump(fw, NFT_MSG_GETTABLE, NULL, table_cb_info, &ti);

	table_info_free(&ti);
	if (r < 0)
		return r;
	if (!ti.found)
		return 0;
	snprintf(want, sizeof(want), "cyris range=%s", range);
	return streq(ti.comment, want) ? 1 : -EEXIST;
}

static int table_owner(struct cyris_fw *fw, const char *name, const char *range)
{
	return table_owner_family(fw, NFPROTO_INET, name, range);
}

/* ---- reading rules back ------------------------------------------------- */

struct rules_dump {
	struct cyris_fw_table *t;
	int err;
};

static int expr_cb(struct nftnl_expr *e, void *data)
{
	struct cyris_fw_krule *k = data;
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);

	if (streq(name, "counter")) {
		k->packets = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS);
		k->bytes = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_BYTES);
	} else if (streq(name, "immediate") && nftnl_expr_is_set(e, NFTNL_EXPR_IMM_VERDICT)) {
		switch ((int)nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_VERDICT)) {
		case NF_ACCEPT: snprintf(k->verdict, sizeof(k->verdict), "accept"); break;
		case NF_DROP: snprintf(k->verdict, sizeof(k->verdict), "drop"); break;
		case NFT_RETURN: snprintf(k->verdict, sizeof(k->verdict), "return"); break;
		case NFT_JUMP: snprintf(k->verdict, sizeof(k->verdict), "jump"); break;
		default: break;
		}
	} else if (streq(name, "nat")) {
		snprintf(k->verdict, sizeof(k->verdict), "dnat");
	} else if (streq(name, "masq")) {
		snprintf(k->verdict, sizeof(k->verdict), "masquerade");
	}
	return 0;
}

/* @h as one of @table's rules into @k; 0 when it is not one. */
static int krule_parse(const struct nlmsghdr *h, const char *table, struct cyris_fw_krule *k)
{
	_cleanup_nftnl_(nftnl_rule) *r = nftnl_rule_alloc();
	const void *ud;
	uint32_t len = 0;

	if (!r)
		return -ENOMEM;
	if (nftnl_rule_nlmsg_parse(h, r) < 0 ||
	    !streq(nftnl_rule_get_str(r, NFTNL_RULE_TABLE), table))
		return 0;
	memset(k, 0, sizeof(*k));
	snprintf(k->chain, sizeof(k->chain), "%s", nftnl_rule_get_str(r, NFTNL_RULE_CHAIN));
	k->handle = nftnl_rule_get_u64(r, NFTNL_RULE_HANDLE);
	ud = nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &len);
	udata_get(ud, len, k->comment);
	nftnl_expr_foreach(r, expr_cb, k);
	return 1;
}

static int rule_cb(const struct nlmsghdr *h, void *data)
{
	struct rules_dump *d = data;
	struct cyris_fw_krule k, *slot;
	int r = krule_parse(h, d->t->name, &k);

	if (r < 0) {
		d->err = r;
		return MNL_CB_ERROR;
	}
	if (r == 0)
		return MNL_CB_OK;
	slot = cyris_grow((void **)&d->t->rules, &d->t->n_rules, &d->t->cap_rules, sizeof(*slot));
	if (!slot) {
		d->err = -ENOMEM;
		return MNL_CB_ERROR;
	}
	*slot = k;
	return MNL_CB_OK;
}

/* A table's rules, one at a time, to a caller's callback. */
struct rules_walk {
	const struct cyris_fw_table *t;
	int (*cb)(const struct cyris_fw_table *t, const struct cyris_fw_krule *k, void *data);
	void *data;
	int err;
};

static int rule_walk_cb(const struct nlmsghdr *h, void *data)
{
	struct rules_walk *w = data;
	struct cyris_fw_krule k;
	int r;

	/* once stopped, the rest of the dump is read and dropped: the socket
	 * serves the next request */
	if (w->err)
		return MNL_CB_OK;
	r = krule_parse(h, w->t->name, &k);
	if (r > 0)
		r = w->cb(w->t, &k, w->data);
	if (r < 0)
		w->err = r;
	return MNL_CB_OK;
}

static int setelem_cb(const struct nlmsghdr *h, void *data)
{
	struct cyris_fw_table *t = data;
	_cleanup_nftnl_(nftnl_set) *s = nftnl_set_alloc();
	struct nftnl_set_elems_iter *it;
	struct nftnl_set_elem *e;

	if (!s)
		return MNL_CB_ERROR;
	if (nftnl_set_elems_nlmsg_parse(h, s) < 0 || !(it = nftnl_set_elems_iter_create(s)))
		return MNL_CB_OK;
	while ((e = nftnl_set_elems_iter_next(it))) {
		uint32_t len = 0;
		const char *key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);
		char (*slot)[CYRIS_IFNAMSIZ];

		if (!key || len > CYRIS_IFNAMSIZ)
			continue;
		slot = cyris_grow((void **)&t->ifaces, &t->n_ifaces, &t->cap_ifaces, sizeof(*slot));
		if (!slot)
			break;
		memcpy(*slot, key, len);
		(*slot)[CYRIS_IFNAMSIZ - 1] = '\0';
	}
	nftnl_set_elems_iter_destroy(it);
	return MNL_CB_OK;
}

static int read_ifaces(struct cyris_fw *fw, struct cyris_fw_table *t)
{
	char buf[1024] = "";
	struct nftnl_set *s = nftnl_set_alloc();
	struct nlmsghdr *h;

	if (!s)
		return -ENOMEM;
	h = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, NFPROTO_INET, NLM_F_DUMP, fw->seq++);
	nftnl_set_set_str(s, NFTNL_SET_TABLE, t->name);
	nftnl_set_set_str(s, NFTNL_SET_NAME, "ifaces");
	nftnl_set_elems_nlmsg_build_payload(h, s);
	nftnl_set_free(s);
	return dump_run(fw, h, setelem_cb, t);
}

void cyris_fw_tables_free(struct cyris_fw_table *t, size_t n)
{
	size_t i;

	for (i = 0; t && i < n; i++) {
		free(t[i].ifaces);
		free(t[i].rules);
	}
	free(t);
}

/* The rules of @t (of @chain, when not NULL) to @cb, as they come. */
static int walk_rules(struct cyris_fw *fw, const struct cyris_fw_table *t, const char *chain,
		      int (*cb)(const struct cyris_fw_table *t, const struct cyris_fw_krule *k, void *data),
		      void *data)
{
	struct rules_walk w = { .t = t, .cb = cb, .data = data };
	int r = dump_chain(fw, NFT_MSG_GETRULE, t->name, chain, rule_walk_cb, &w);

	/* a callback's own error, not the one mnl made of it */
	if (w.err)
		r = w.err;
	/* a range's table has every chain; a missing one is no rule */
	if (r == -ENOENT && chain)
		r = 0;
	return r;
}

int cyris_fw_show_each(struct cyris_fw *fw, const char *range, const char *chain,
		       int (*on_table)(const struct cyris_fw_table *t, void *data),
		       int (*on_rule)(const struct cyris_fw_table *t,
				      const struct cyris_fw_krule *k, void *data),
		       void *data)
{
	struct table_info ti = {0};
	size_t i;
	int r = dump(fw, NFT_MSG_GETTABLE, NULL, table_cb_info, &ti), n = 0;

	for (i = 0; r == 0 && i < ti.n; i++) {
		struct cyris_fw_table t = {0};

		if (range && !streq(ti.ranges[i], range))
			continue;
		memcpy(t.range, ti.ranges[i], sizeof(t.range));
		memcpy(t.name, ti.names[i], sizeof(t.name));
		if (on_table && (r = read_ifaces(fw, &t)) == 0)
			r = on_table(&t, data);
		free(t.ifaces);
		if (r == 0 && on_rule)
			r = walk_rules(fw, &t, chain, on_rule, data);
		n++;
	}
	table_info_free(&ti);
	return r < 0 ? r : n;
}

/* cyris_fw_show(): the tables and their rules, kept. */
struct show_collect {
	struct cyris_fw_table *v;
	size_t n, cap;
};

static int collect_table(const struct cyris_fw_table *t, void *data)
{
	struct show_collect *c = data;
	struct cyris_fw_table *slot = cyris_grow((void **)&c->v, &c->n, &c->cap, sizeof(*slot));

	if (!slot)
		return -ENOMEM;
	memcpy(slot->range, t->range, sizeof(slot->range));
	memcpy(slot->name, t->name, sizeof(slot->name));
	if (t->n_ifaces) {
		if (!(slot->ifaces = malloc(t->n_ifaces * sizeof(*t->ifaces))))
			return -ENOMEM;
		memcpy(slot->ifaces, t->ifaces, t->n_ifaces * sizeof(*t->ifaces));
		slot->n_ifaces = slot->cap_ifaces = t->n_ifaces;
	}
	return 0;
}

static int collect_rule(const struct cyris_fw_table *t, const struct cyris_fw_krule *k, void *data)
{
	struct show_collect *c = data;
	struct cyris_fw_table *last = &c->v[c->n - 1];
	struct cyris_fw_krule *slot = cyris_grow((void **)&last->rules, &last->n_rules,
						  &last->cap_rules, sizeof(*slot));

	(void)t;
	if (!slot)
		return -ENOMEM;
	*slot = *k;
	return 0;
}

int cyris_fw_show(struct cyris_fw *fw, const char *range,
		  struct cyris_fw_table **ret, size_t *ret_n)
{
	struct show_collect c = {0};
	int r = cyris_fw_show_each(fw, range, NULL, collect_table, collect_rule, &c);

	if (r < 0) {
		cyris_fw_tables_free(c.v, c.n);
		return r;
	}
	if (!c.v && !(c.v = calloc(1, sizeof(*c.v))))
		return -ENOMEM;
	*ret = c.v;
	*ret_n = c.n;
	return 0;
}

/* ---- operations --------------------------------------------------------- */

static int keep_ingress(struct cyris_fw_policy *p, const char *comment)
{
	char ifname[CYRIS_IFNAMSIZ];

	return cyris_fw_ingress_parse(comment, ifname) == 0 ? cyris_fw_policy_add_ingress(p, ifname) : 0;
}

/* Exposes, NATs, ingress and uplink guards of the installed table, to carry over
 * into a new one. Only the two NAT chains and the forward chain (a few
 * fixed rules) are read: a large policy (chains allow and services) is not
 * read back. */
static int keep_existing(struct cyris_fw *fw, const char *table, struct cyris_fw_policy *p)
{
	struct cyris_fw_table t = {0};
	struct rules_dump d = { .t = &t };
	size_t i;
	int r;

	snprintf(t.name, sizeof(t.name), "%s", table);
	r = dump_chain(fw, NFT_MSG_GETRULE, table, "prerouting", rule_cb, &d);
	if (r == 0)
		r = dump_chain(fw, NFT_MSG_GETRULE, table, "postrouting", rule_cb, &d);
	if (r == 0)
		r = dump_chain(fw, NFT_MSG_GETRULE, table, "forward", rule_cb, &d);
	if (r == 0)
		r = d.err;
	for (i = 0; r == 0 && i < t.n_rules; i++) {
		const struct cyris_fw_krule *k = &t.rules[i];
		struct cyris_fw_uplink u;
		struct cyris_fw_expose e;

		if (streq(k->chain, "prerouting") && cyris_fw_expose_parse(k->comment, &e) == 0)
			r = cyris_fw_policy_add_expose(p, &e);
		else if (streq(k->chain, "postrouting") &&
			 strncmp(k->comment, FW_NAT_PREFIX, strlen(FW_NAT_PREFIX)) == 0)
			r = cyris_fw_policy_add_nat(p, k->comment + strlen(FW_NAT_PREFIX));
		else if (streq(k->chain, "forward") && cyris_fw_uplink_parse(k->comment, &u) == 0)
			r = cyris_fw_policy_add_uplink(p, u.ifname, u.mac);
		else if (streq(k->chain, "forward"))
			r = keep_ingress(p, k->comment);
		if (r == -EEXIST)
			r = 0;   /* the new policy names that uplink itself (or the
				    other family's rule did) */
		if (r == -EADDRINUSE)
			r = 0;   /* the new policy exposes that port itself */
	}
	free(t.ifaces);
	free(t.rules);
	return r;
}

/* A copy of @p's lists (the arrays are duplicated, not shared), but for
 * its rules: @dst borrows them (apply adds none), policy_uncopy() gives
 * them back before @dst is cleared. */
static int policy_copy(struct cyris_fw_policy *dst, const struct cyris_fw_policy *src)
{
	size_t i;
	int r = cyris_fw_policy_init(dst, src->range);

	for (i = 0; r == 0 && i < src->n_nets; i++)
		r = cyris_fw_policy_add_iface(dst, src->nets[i].name, NULL,
					      src->nets[i].addrs, src->nets[i].n_addrs);
	for (i = 0; r == 0 && i < src->n_nets; i++)
		for (size_t j = 0; r == 0 && j < src->nets[i].n_ifnames; j++)
			r = cyris_fw_policy_add_iface(dst, src->nets[i].name,
						      src->nets[i].ifnames[j], NULL, 0);
	if (r == 0) {
		dst->rules = src->rules;
		dst->rule_at = src->rule_at;
		dst->n_rules = src->n_rules;
	}
	for (i = 0; r == 0 && i < src->n_exposes; i++)
		r = cyris_fw_policy_add_expose(dst, &src->exposes[i]);
	for (i = 0; r == 0 && i < src->n_nat; i++)
		r = cyris_fw_policy_add_nat(dst, src->nat[i]);
	for (i = 0; r == 0 && i < src->n_ingress; i++)
		r = cyris_fw_policy_add_ingress(dst, src->ingress[i]);
	for (i = 0; r == 0 && i < src->n_uplinks; i++)
		r = cyris_fw_policy_add_uplink(dst, src->uplinks[i].ifname, src->uplinks[i].mac);
	return r;
}

static void policy_uncopy(struct cyris_fw_policy *p)
{
	p->rules = NULL;
	p->rule_at = NULL;
	p->n_rules = 0;
}

struct apply_ctx {
	struct batch *b;
	const char *table;
};

/* A piece of the plan into the batch, as it is planned. */
static int apply_piece(const struct fw_plan *plan, void *data)
{
	struct apply_ctx *x = data;

	add_plan(x->b, x->table, plan);
	return x->b->err;
}

int cyris_fw_apply(struct cyris_fw *fw, const struct cyris_fw_policy *src, bool force)
{
	char table[CYRIS_FW_TABLESIZ];
	struct cyris_error m;
	struct cyris_fw_policy p;
	struct bridge_mac *bridges = NULL;
	size_t n_bridges = 0;
	struct batch b;
	int r, owner, bowner;

	if (cyris_fw_table_name(src->range, table, sizeof(table)) < 0)
		return -EINVAL;
	owner = table_owner(fw, table, src->range);
	if (owner == -EEXIST && !force) {
		set_error(fw, -EEXIST, -1, "a table of that name that cyris does not own");
		return -EEXIST;
	}
	if (owner < 0 && owner != -EEXIST)
		return owner;
	bowner = table_owner_family(fw, NFPROTO_BRIDGE, table, src->range);
	if (bowner == -EEXIST && !force) {
		set_error(fw, -EEXIST, -1, "a bridge table of that name that cyris does not own");
		return -EEXIST;
	}
	if (bowner < 0 && bowner != -EEXIST)
		return bowner;
	if ((r = range_bridges(fw, src->range, &bridges, &n_bridges)) < 0)
		return r;
	r = policy_copy(&p, src);
	if (r == 0 && owner == 1)
		r = keep_existing(fw, table, &p);
	if (r == 0 && (r = batch_init(&b, fw)) == 0) {
		struct apply_ctx x = { .b = &b, .table = table };

		b.p = &p;
		/* add + delete + add: the old table goes in the same transaction */
		add_table(&b, NFT_MSG_NEWTABLE, NLM_F_CREATE, table, NULL);
		add_table(&b, NFT_MSG_DELTABLE, 0, table, NULL);
		add_table(&b, NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_EXCL, table, p.range);
		add_ifaces_set(&b, table, &p);
		add_chains(&b, table);
		/* each piece of the plan becomes its messages at once: a large
		 * policy is never planned whole */
		m.msg[0] = '\0';
		r = fw_plan_policy_each(&p, apply_piece, &x, &m);
		if (r < 0)
			set_error(fw, r, -1, m.msg[0] ? m.msg : "building the batch");
		if (r == 0) {
			add_bridge_guard(&b, table, p.range, bridges, n_bridges, bowner != 0);
			r = batch_send(&b, &p);
		}
		batch_free(&b);
	}
	policy_uncopy(&p);
	cyris_fw_policy_clear(&p);
	free(bridges);
	return r;
}

/* One more thing in an applied table, in its own transaction. */
static int add_to_table(struct cyris_fw *fw, const char *range, const struct fw_plan *plan,
			const struct cyris_fw_policy *p)
{
	char table[CYRIS_FW_TABLESIZ];
	struct batch b;
	int r;

	if (cyris_fw_table_name(range, table, sizeof(table)) < 0)
		return -EINVAL;
	r = table_owner(fw, table, range);
	if (r <= 0) {
		r = r == 0 ? -ENOENT : r;
		set_error(fw, r, -1, r == -ENOENT ? "no table for this range (apply first)"
						  : "a table of that name that cyris does not own");
		return r;
	}
	if ((r = batch_init(&b, fw)) < 0)
		return r;
	b.p = p;
	add_plan(&b, table, plan);
	r = batch_send(&b, p);
	batch_free(&b);
	return r;
}

int cyris_fw_allow(struct cyris_fw *fw, const char *range,
		   const struct cyris_fw_rule *rule, struct cyris_error *err)
{
	struct cyris_fw_policy p;
	struct fw_plan plan = {0};
	int r = cyris_fw_policy_init(&p, range);

	if (r == 0)
		r = cyris_fw_resolve(fw, &p);
	if (r == 0)
		r = cyris_fw_policy_add_rule(&p, rule, err);
	if (r == 0)
		r = fw_plan_rule(&p, rule, 0, &plan, err);
	if (r == 0)
		r = add_to_table(fw, range, &plan, &p);
	fw_plan_clear(&plan);
	cyris_fw_policy_clear(&p);
	return r;
}

struct exposed {
	struct cyris_fw *fw;
	const char *range;
	const struct cyris_fw_expose *e;
};

static int exposed_rule(const struct cyris_fw_table *t, const struct cyris_fw_krule *k, void *data)
{
	struct exposed *x = data;
	struct cyris_fw_expose e;

	if (!streq(k->chain, "prerouting") || cyris_fw_expose_parse(k->comment, &e) < 0 ||
	    e.host_port != x->e->host_port || e.proto != x->e->proto)
		return 0;
	set_error(x->fw, -EADDRINUSE, -1, streq(t->range, x->range)
		  ? "this range exposes that host port already"
		  : "another range exposes that host port");
	return -EADDRINUSE;   /* found: the walk stops */
}

/* true when @range's table already exposes @e's host port (only the
 * prerouting chains are read: a large policy is not). */
static int exposed(struct cyris_fw *fw, const char *range, const struct cyris_fw_expose *e)
{
	struct exposed x = { .fw = fw, .range = range, .e = e };
	int r = cyris_fw_show_each(fw, NULL, "prerouting", NULL, exposed_rule, &x);

	return r == -EADDRINUSE ? 1 : r < 0 ? r : 0;
}

/* true when a service of the host listens on port @port of @proto
 * (CYRIS_FW_TCP or CYRIS_FW_UDP), as sock_diag says. */
static int host_listens(struct cyris_fw *fw, uint16_t port, unsigned proto)
{
	_cleanup_free_ uint16_t *v = NULL;
	size_t n = 0;
	int r = proto == CYRIS_FW_UDP ? cyris_udp_ports(fw->netns, &v, &n)
				      : cyris_listening_ports(fw->netns, &v, &n);

	if (r < 0)
		return r;
	if (!cyris_port_listed(v, n, port))
		return 0;
	set_error(fw, -EADDRINUSE, -1, proto == CYRIS_FW_UDP ? "a service of the host listens on that UDP port"
							      : "a service of the host listens on that TCP port");
	return 1;
}

/* -EPERM when @to is on a network of another range than @range: a range's
 * port must not lead into another range. -EHOSTUNREACH when it is on no
 * network of @range at all (unless @force): an entry point leads into its
 * range, not to wherever the host can route. */
static int other_range_addr(struct cyris_fw *fw, const char *range, const struct cyris_ip *to,
			    bool force)
{
	struct cyris_link_list links = {0};
	struct cyris_addr_list addrs = {0};
	bool mine = false;
	size_t i, j;
	int r;

	if (!fw->rt && (r = cyris_nl_open(&fw->rt, fw->netns)) < 0)
		return r;
	r = cyris_link_list(fw->rt, &links);
	if (r == 0)
		r = cyris_addr_list(fw->rt, 0, &addrs);
	for (i = 0; r == 0 && i < addrs.n; i++) {
		if (!cyris_prefix_contains(&addrs.v[i].prefix, to))
			continue;
		for (j = 0; j < links.n && links.v[j].ifindex != addrs.v[i].ifindex; j++)
			;
		if (j < links.n && links.v[j].owned && links.v[j].tag.net[0] &&
		    cyris_tag_in_range(&links.v[j].tag, range))
			mine = true;
		if (j < links.n && links.v[j].owned && links.v[j].tag.range[0] &&
		    !cyris_tag_in_range(&links.v[j].tag, range)) {
			char what[256], ip[CYRIS_IPSTRLEN];

			snprintf(what, sizeof(what), "%s is on %s, a network of range %s, not of range %s",
				 cyris_ip_format(to, ip, sizeof(ip)), links.v[j].name,
				 links.v[j].tag.range, range);
			set_error(fw, -EPERM, -1, what);
			r = -EPERM;
		}
	}
	if (r == 0 && !mine && !force) {
		char what[256], ip[CYRIS_IPSTRLEN];

		snprintf(what, sizeof(what), "%s is on no network of range %s (--force exposes it anyway)",
			 cyris_ip_format(to, ip, sizeof(ip)), range);
		set_error(fw, -EHOSTUNREACH, -1, what);
		r = -EHOSTUNREACH;
	}
	cyris_addr_list_free(&addrs);
	cyris_link_list_free(&links);
	return r;
}

int cyris_fw_expose(struct cyris_fw *fw, const char *range, const struct cyris_fw_expose *e,
		    bool force)
{
	struct fw_plan plan = {0};
	int r;

	if (!e->host_port || !e->to_port || e->to.family != AF_INET)
		return -EINVAL;
	if ((r = other_range_addr(fw, range, &e->to, force)) < 0)
		return r;
	r = exposed(fw, range, e);
	if (r == 0)
		r = host_listens(fw, e->host_port, e->proto);
	if (r != 0)
		return r < 0 ? r : -EADDRINUSE;
	r = fw_plan_expose(e, &plan);
	if (r == 0)
		r = add_to_table(fw, range, &plan, NULL);
	fw_plan_clear(&plan);
	return r;
}

/* A NAT interface is a way out of the host: it exists, and it is neither
 * the loopback nor an interface of a range. */
static int nat_iface_ok(struct cyris_fw *fw, const char *ifname)
{
	struct cyris_link l;
	char what[256];
	int r;

	if (!fw->rt && (r = cyris_nl_open(&fw->rt, fw->netns)) < 0)
		return r;
	r = cyris_link_get(fw->rt, ifname, &l);
	if (r == -ENODEV || r == -ENOENT) {
		snprintf(what, sizeof(what), "no interface %s here", ifname);
		set_error(fw, r, -1, what);
		return r;
	}
	if (r < 0)
		return r;
	cyris_link_clear(&l);
	if (l.flags & IFF_LOOPBACK) {
		snprintf(what, sizeof(what), "%s is the loopback: nothing leaves the host through it", ifname);
		r = -EINVAL;
	} else if (l.owned && l.tag.range[0]) {
		snprintf(what, sizeof(what), "%s is an interface of range %s, not a way out", ifname,
			 l.tag.range);
		r = -EINVAL;
	}
	if (r < 0)
		set_error(fw, r, -1, what);
	return r;
}

static int nat_found(const struct cyris_fw_table *t, const struct cyris_fw_krule *k, void *data)
{
	(void)t;
	/* found: the walk stops */
	return streq(k->chain, "postrouting") && streq(k->comment, data) ? -EEXIST : 0;
}

/* 1 when @range's table masquerades out of @ifname already (only its
 * postrouting chain is read). */
static int nat_present(struct cyris_fw *fw, const char *range, const char *ifname)
{
	char want[CYRIS_IFNAMSIZ + 16];
	int r;

	snprintf(want, sizeof(want), FW_NAT_PREFIX "%s", ifname);
	r = cyris_fw_show_each(fw, range, "postrouting", NULL, nat_found, want);
	return r == -EEXIST ? 1 : r == -ENOENT ? 0 : r < 0 ? r : 0;
}

int cyris_fw_nat(struct cyris_fw *fw, const char *range, const char *ifname)
{
	struct fw_plan plan = {0};
	int r;

	if (!cyris_ifname_valid(ifname))
		return -EINVAL;
	if ((r = nat_iface_ok(fw, ifname)) < 0)
		return r;
	/* twice is once: a second masquerade rule would only be a copy */
	if ((r = nat_present(fw, range, ifname)) != 0)
		return r < 0 ? r : 0;
	r = fw_plan_nat(ifname, &plan);
	if (r == 0)
		r = add_to_table(fw, range, &plan, NULL);
	fw_plan_clear(&plan);
	return r;
}

int cyris_fw_destroy(struct cyris_fw *fw, const char *range, bool force)
{
	char table[CYRIS_FW_TABLESIZ];
	struct batch b;
	int r, bowner;

	if (cyris_fw_table_name(range, table, sizeof(table)) < 0)
		return -EINVAL;
	r = table_owner(fw, table, range);
	if (r == 0) {
		set_error(fw, -ENOENT, -1, "no table for this range");
		return -ENOENT;
	}
	if (r == -EEXIST && !force) {
		set_error(fw, -EPERM, -1, "a table of that name that cyris does not own");
		return -EPERM;
	}
	if (r < 0 && r != -EEXIST)
		return r;
	/* its bridge table (a foreign one of that name only with --force) */
	bowner = table_owner_family(fw, NFPROTO_BRIDGE, table, range);
	if (bowner < 0 && bowner != -EEXIST)
		return bowner;
	if ((r = batch_init(&b, fw)) < 0)
		return r;
	add_table(&b, NFT_MSG_DELTABLE, 0, table, NULL);
	if (bowner == 1 || (bowner == -EEXIST && force))
		add_table_family(&b, NFPROTO_BRIDGE, NFT_MSG_DELTABLE, 0, table, NULL);
	r = batch_send(&b, NULL);
	batch_free(&b);
	return r;
}

/* ---- the host's own firewall -------------------------------------------- */

struct drops {
	char *buf;
	size_t size;
	int n;
	bool full;                /* a name did not fit: "..." ends the list */
};

static int chain_cb(const struct nlmsghdr *h, void *data)
{
	struct drops *d = data;
	struct nftnl_chain *c = nftnl_chain_alloc();
	const char *table, *name;
	uint32_t fam, hook;

	if (!c)
		return MNL_CB_ERROR;
	if (nftnl_chain_nlmsg_parse(h, c) < 0 || !nftnl_chain_is_set(c, NFTNL_CHAIN_HOOKNUM) ||
	    !nftnl_chain_is_set(c, NFTNL_CHAIN_POLICY)) {
		nftnl_chain_free(c);
		return MNL_CB_OK;
	}
	fam = nftnl_chain_get_u32(c, NFTNL_CHAIN_FAMILY);
	hook = nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM);
	table = nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE);
	name = nftnl_chain_get_str(c, NFTNL_CHAIN_NAME);
	if ((fam == NFPROTO_INET || fam == NFPROTO_IPV4 || fam == NFPROTO_IPV6) &&
	    hook == NF_INET_FORWARD && nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY) == NF_DROP &&
	    strncmp(table, "cyris_", 6) != 0) {
		size_t len = strlen(d->buf);
		int w = -1;

		/* whole names only, with room left for ", ..." */
		if (!d->full && d->size > len)
			w = snprintf(d->buf + len, d->size - len, "%s%s %s %s", len ? ", " : "",
				     fam == NFPROTO_INET ? "inet" : fam == NFPROTO_IPV4 ? "ip" : "ip6",
				     table, name);
		if (!d->full && (w < 0 || (size_t)w + 6 > d->size - len)) {
			d->full = true;
			if (d->size > len)
				d->buf[len] = '\0';
			if (d->size > len + 6)
				snprintf(d->buf + len, d->size - len, "%s...", len ? ", " : "");
		}
		d->n++;
	}
	nftnl_chain_free(c);
	return MNL_CB_OK;
}

int cyris_fw_foreign_drops(struct cyris_fw *fw, char *buf, size_t size)
{
	struct drops d = { .buf = buf, .size = size };
	int r;

	if (size)
		buf[0] = '\0';
	r = dump(fw, NFT_MSG_GETCHAIN, NULL, chain_cb, &d);
	return r < 0 ? r : d.n;
}
