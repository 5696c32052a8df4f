/* SPDX-License-Identifier: MIT */
/*
 * The cloud-init NoCloud seed: meta-data, user-data and network-config
 * (version 2) emitted with libyaml (every value quoted by the emitter, so a
 * MAC is never read back as a sexagesimal number), packed into an ISO 9660
 * image with Rock Ridge and Joliet and the volume id "cidata" by libisofs,
 * in memory: nothing is written to disk and no program is run.
 */
#include <pthread.h>
#include <stdint.h>
#include <sys/socket.h>
#include <yaml.h>

/* without libburn: libisofs declares struct burn_source itself */
#define LIBISOFS_WITHOUT_LIBBURN 1
#include <libisofs/libisofs.h>

#include "cyris/link.h"
#include "vm-priv.h"

/* ---- YAML ---- */

struct ye {
	yaml_emitter_t e;
	FILE *f;
	char *buf;
	size_t len;
	bool err;
};

static int ye_open(struct ye *y)
{
	yaml_event_t ev;

	memset(y, 0, sizeof(*y));
	y->f = open_memstream(&y->buf, &y->len);
	if (!y->f)
		return -ENOMEM;
	if (!yaml_emitter_initialize(&y->e)) {
		fclose(y->f);
		free(y->buf);
		return -ENOMEM;
	}
	yaml_emitter_set_output_file(&y->e, y->f);
	yaml_emitter_set_width(&y->e, -1);
	yaml_emitter_set_unicode(&y->e, 1);
	yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
	y->err |= !yaml_emitter_emit(&y->e, &ev);
	yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
	y->err |= !yaml_emitter_emit(&y->e, &ev);
	return 0;
}

static int ye_close(struct ye *y, const char *head, char **ret)
{
	yaml_event_t ev;
	int r = 0;

	yaml_document_end_event_initialize(&ev, 1);
	y->err |= !yaml_emitter_emit(&y->e, &ev);
	yaml_stream_end_event_initialize(&ev);
	y->err |= !yaml_emitter_emit(&y->e, &ev);
	y->err |= !yaml_emitter_flush(&y->e);
	yaml_emitter_delete(&y->e);
	fclose(y->f);
	if (y->err) {
		free(y->buf);
		return -EINVAL;
	}
	if (head) {
		/* user-data must begin with this line: it is a header, not YAML */
		size_t hl = strlen(head);
		char *s = malloc(hl + y->len + 1);

		if (!s) {
			r = -ENOMEM;
		} else {
			memcpy(s, head, hl);
			memcpy(s + hl, y->buf, y->len + 1);
			*ret = s;
		}
		free(y->buf);
		return r;
	}
	*ret = y->buf;
	return 0;
}

static void ye_scalar(struct ye *y, const char *s, yaml_scalar_style_t style)
{
	yaml_event_t ev;

	if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)strlen(s),
					  1, 1, style)) {
		y->err = true;
		return;
	}
	y->err |= !yaml_emitter_emit(&y->e, &ev);
}

/* a key or a number/boolean: plain */
static void ye_plain(struct ye *y, const char *s)
{
	ye_scalar(y, s, YAML_PLAIN_SCALAR_STYLE);
}

/* a string value: always quoted */
static void ye_str(struct ye *y, const char *s)
{
	ye_scalar(y, s, YAML_DOUBLE_QUOTED_SCALAR_STYLE);
}

static void ye_kv(struct ye *y, const char *k, const char *v)
{
	ye_plain(y, k);
	ye_str(y, v);
}

static void ye_map(struct ye *y, bool start)
{
	yaml_event_t ev;

	if (start)
		yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
	else
		yaml_mapping_end_event_initialize(&ev);
	y->err |= !yaml_emitter_emit(&y->e, &ev);
}

static void ye_seq(struct ye *y, bool start)
{
	yaml_event_t ev;

	if (start)
		yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE);
	else
		yaml_sequence_end_event_initialize(&ev);
	y->err |= !yaml_emitter_emit(&y->e, &ev);
}

static int meta_data(const struct cyris_seed *s, char **ret)
{
	struct ye y;
	int r = ye_open(&y);

	if (r < 0)
		return r;
	ye_map(&y, true);
	ye_kv(&y, "instance-id", s->instance_id ? s->instance_id : s->hostname);
	ye_kv(&y, "local-hostname", s->hostname);
	ye_map(&y, false);
	return ye_close(&y, NULL, ret);
}

static int user_data(const struct cyris_seed *s, char **ret)
{
	struct ye y;
	size_t i;
	int r = ye_open(&y);

	if (r < 0)
		return r;
	ye_map(&y, true);
	ye_kv(&y, "hostname", s->hostname);
	ye_plain(&y, "manage_etc_hosts");
	ye_plain(&y, "true");
	ye_plain(&y, "ssh_pwauth");
	ye_plain(&y, "false");
	if (s->n_ssh_keys) {
		ye_plain(&y, "ssh_authorized_keys");
		ye_seq(&y, true);
		for (i = 0; i < s->n_ssh_keys; i++)
			ye_str(&y, s->ssh_keys[i]);
		ye_seq(&y, false);
	}
	ye_map(&y, false);
	return ye_close(&y, "#cloud-config\n", ret);
}

static void network_nic(struct ye *y, const struct cyris_guest_nic *n, size_t i)
{
	char key[32], mac[18], buf[CYRIS_PREFIXSTRLEN];

	if (n->nic[0])
		snprintf(key, sizeof(key), "%s", n->nic);
	else
		snprintf(key, sizeof(key), "eth%zu", i);
	ye_plain(y, key);
	ye_map(y, true);
	ye_plain(y, "match");
	ye_map(y, true);
	ye_kv(y, "macaddress", cyris_mac_format(n->mac, mac));
	ye_map(y, false);
	ye_kv(y, "set-name", key);
	if (n->addr.ip.family) {
		ye_plain(y, "addresses");
		ye_seq(y, true);
		ye_str(y, cyris_prefix_format(&n->addr, buf, sizeof(buf)));
		ye_seq(y, false);
		/* gateway4/6 rather than a default route: every renderer of
		 * cloud-init (ENI too, which would need route(8) for routes)
		 * turns it into the interface's gateway */
		if (n->gateway.family) {
			ye_kv(y, n->gateway.family == AF_INET6 ? "gateway6" : "gateway4",
			      cyris_ip_format(&n->gateway, buf, sizeof(buf)));
		}
	} else {
		ye_plain(y, "dhcp4");
		ye_plain(y, "true");
	}
	ye_map(y, false);
}

static int network_config(const struct cyris_seed *s, char **ret)
{
	struct ye y;
	size_t i;
	int r = ye_open(&y);

	if (r < 0)
		return r;
	ye_map(&y, true);
	ye_plain(&y, "version");
	ye_plain(&y, "2");
	ye_plain(&y, "ethernets");
	ye_map(&y, true);
	for (i = 0; i < s->n_nics; i++)
		network_nic(&y, &s->nics[i], i);
	ye_map(&y, false);
	ye_map(&y, false);
	return ye_close(&y, NULL, ret);
}

int cyris_seed_files(const struct cyris_seed *seed, char **ret_meta,
		     char **ret_user, char **ret_network)
{
	char *m = NULL, *u = NULL, *n = NULL;
	int r;

	if (!seed->hostname || !*seed->hostname)
		return -EINVAL;
	r = meta_data(seed, &m);
	if (r == 0)
		r = user_data(seed, &u);
	if (r == 0)
		r = network_config(seed, &n);
	if (r < 0) {
		free(m);
		free(u);
		free(n);
		return r;
	}
	*ret_meta = m;
	*ret_user = u;
	*ret_network = n;
	return 0;
}

/* ---- ISO 9660 ---- */

static pthread_once_t iso_once = PTHREAD_ONCE_INIT;
static int iso_ready;

static void iso_setup(void)
{
	/* bit 0: leave the process's locale alone */
	iso_ready = iso_init_with_flag(1);
	if (iso_ready >= 0)
		iso_set_msgs_severities((char *)"NEVER", (char *)"NEVER", (char *)"cyris");
}

static int iso_errno(int e)
{
	return e == (int)ISO_OUT_OF_MEM ? -ENOMEM : -EIO;
}

/* Add @text as file @name (the stream takes ownership of @text). */
static int iso_add(IsoImage *img, const char *name, char *text)
{
	IsoStream *st = NULL;
	IsoFile *f = NULL;
	int r;

	r = iso_memory_stream_new((unsigned char *)text, strlen(text), &st);
	if (r < 0) {
		free(text);
		return iso_errno(r);
	}
	r = iso_tree_add_new_file(iso_image_get_root(img), name, st, &f);
	if (r < 0) {
		iso_stream_unref(st);
		return iso_errno(r);
	}
	iso_node_set_permissions((IsoNode *)f, 0444);
	return 0;
}

/* Pull the image out of libisofs's writer thread into memory. */
static int iso_drain(IsoImage *img, IsoWriteOpts *opts, unsigned char **ret,
		     size_t *ret_len)
{
	struct burn_source *src = NULL;
	unsigned char *buf = NULL, *nb;
	size_t len = 0, cap = 0;
	int n, r;

	r = iso_image_create_burn_source(img, opts, &src);
	if (r < 0)
		return iso_errno(r);
	cap = (size_t)src->get_size(src);
	if (cap < 2048)
		cap = 64 * 2048;
	buf = malloc(cap);
	r = buf ? 0 : -ENOMEM;
	while (r == 0) {
		if (len + 2048 > cap) {
			nb = realloc(buf, cap * 2);
			if (!nb) {
				r = -ENOMEM;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		n = src->read_xt(src, buf + len, 2048);
		if (n < 0)
			r = -EIO;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	if (r < 0)
		src->cancel(src);
	src->free_data(src);
	free(src);
	if (r < 0) {
		free(buf);
		return r;
	}
	*ret = buf;
	*ret_len = len;
	return 0;
}

int cyris_seed_iso(const struct cyris_seed *seed, unsigned char **ret, size_t *ret_len)
{
	char *meta = NULL, *user = NULL, *net = NULL;
	IsoWriteOpts *opts = NULL;
	IsoImage *img = NULL;
	int r;

	pthread_once(&iso_once, iso_setup);
	if (iso_ready < 0)
		return -EIO;
	r = cyris_seed_files(seed, &meta, &user, &net);
	if (r < 0)
		return r;
	if (iso_image_new("cidata", &img) < 0) {
		free(meta);
		free(user);
		free(net);
		return -ENOMEM;
	}
	iso_image_set_volume_id(img, "cidata");
	r = iso_add(img, "meta-data", meta);
	if (r == 0)
		r = iso_add(img, "user-data", user);
	else
		free(user);
	if (r == 0)
		r = iso_add(img, "network-config", net);
	else
		free(net);
	if (r == 0 && iso_write_opts_new(&opts, 0) < 0)
		r = -ENOMEM;
	if (r == 0) {
		iso_write_opts_set_rockridge(opts, 1);
		iso_write_opts_set_joliet(opts, 1);
		/* keep the volume id lower case, as cloud-init looks for it */
		iso_write_opts_set_relaxed_vol_atts(opts, 1);
		r = iso_drain(img, opts, ret, ret_len);
	}
	iso_write_opts_free(opts);
	iso_image_unref(img);
	return r;
}
