/* SPDX-License-Identifier: MIT */
/* The configuration file, the environment and the defaults. */
#include <ctype.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "conf-priv.h"
#include "util.h"

struct cyris_conf *cyris_conf_new(void)
{
	struct cyris_conf *c = malloc(sizeof(*c));

	if (c)
		cyris_conf_defaults(c);
	return c;
}

void cyris_conf_free(struct cyris_conf *c)
{
	free(c);
}

void cyris_conf_defaults(struct cyris_conf *c)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");

	memset(c, 0, sizeof(*c));
	snprintf(c->libvirt_uri, sizeof(c->libvirt_uri), "qemu:///system");
	snprintf(c->virt_type, sizeof(c->virt_type), "auto");
	snprintf(c->storage_pool, sizeof(c->storage_pool), "cyris");
	snprintf(c->image_dir, sizeof(c->image_dir), "/var/lib/cyris/images");
	snprintf(c->ifname_prefix, sizeof(c->ifname_prefix), "c");
	(void)cyris_prefix_parse("10.200.0.0/16", true, &c->subnet_pool);
	c->subnet_size = 24;
	c->cloud_init = true;
	snprintf(c->aws_region, sizeof(c->aws_region), "us-west-2");
	snprintf(c->aws_key_pair_name, sizeof(c->aws_key_pair_name), "cyris-keypair");
	snprintf(c->aws_instance_type, sizeof(c->aws_instance_type), "t3.micro");
	if (geteuid() != 0 && xdg && *xdg)
		snprintf(c->runtime_dir, sizeof(c->runtime_dir), "%s/cyris", xdg);
	else
		snprintf(c->runtime_dir, sizeof(c->runtime_dir), "/run/cyris");
}


static int set_str(char *dst, size_t size, const char *key, const char *v,
		   struct cyris_error *err)
{
	if (!*v || strlen(v) >= size)
		return cyris_error_set(err, -EINVAL, "%s: value must be 1..%zu bytes", key, size - 1);
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

static int set_bool(bool *dst, const char *key, const char *v, struct cyris_error *err)
{
	if (streq(v, "yes") || streq(v, "true") || streq(v, "on") || streq(v, "1"))
		*dst = true;
	else if (streq(v, "no") || streq(v, "false") || streq(v, "off") || streq(v, "0"))
		*dst = false;
	else
		return cyris_error_set(err, -EINVAL, "%s: '%s' is not yes or no", key, v);
	return 0;
}

/* "us-west-2", "ap-southeast-1", "us-gov-west-1": letters, '-', a number. */
static bool aws_region_syntax(const char *v)
{
	size_t n = strlen(v), i;

	if (n < 4 || !islower((unsigned char)v[0]) || !isdigit((unsigned char)v[n - 1]))
		return false;
	for (i = 0; i < n; i++)
		if (!islower((unsigned char)v[i]) && !isdigit((unsigned char)v[i]) && v[i] != '-')
			return false;
	return strchr(v, '-') != NULL;
}

/* The aws_* keys. */
static int set_aws(struct cyris_conf *c, const char *key, const char *v, struct cyris_error *err)
{
	if (streq(key, "aws_region")) {
		if (!aws_region_syntax(v))
			return cyris_error_set(err, -EINVAL, "aws_region: '%s' is not a region name (us-west-2)", v);
		if (set_str(c->aws_region, sizeof(c->aws_region), key, v, err) < 0)
			return -EINVAL;
		c->aws_region_set = true;
		return 0;
	}
	if (streq(key, "aws_vpc_id")) {
		if (strncmp(v, "vpc-", 4) != 0)
			return cyris_error_set(err, -EINVAL, "aws_vpc_id: '%s' is not a VPC id (vpc-...)", v);
		return set_str(c->aws_vpc_id, sizeof(c->aws_vpc_id), key, v, err);
	}
	if (streq(key, "aws_subnet_id")) {
		if (strncmp(v, "subnet-", 7) != 0)
			return cyris_error_set(err, -EINVAL, "aws_subnet_id: '%s' is not a subnet id (subnet-...)", v);
		return set_str(c->aws_subnet_id, sizeof(c->aws_subnet_id), key, v, err);
	}
	if (streq(key, "aws_key_pair_name"))
		return set_str(c->aws_key_pair_name, sizeof(c->aws_key_pair_name), key, v, err);
	if (streq(key, "aws_instance_type"))
		return set_str(c->aws_instance_type, sizeof(c->aws_instance_type), key, v, err);
	if (strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0)
		return cyris_error_set(err, -EINVAL, "aws_endpoint: '%s' is not an http:// or https:// URL", v);
	return set_str(c->aws_endpoint, sizeof(c->aws_endpoint), key, v, err);
}

int cyris_conf_set(struct cyris_conf *c, const char *key, const char *v,
		   struct cyris_error *err)
{
	unsigned long n;

	if (streq(key, "aws_region") || streq(key, "aws_vpc_id") || streq(key, "aws_subnet_id") ||
	    streq(key, "aws_key_pair_name") || streq(key, "aws_instance_type") ||
	    streq(key, "aws_endpoint"))
		return set_aws(c, key, v, err);

	if (streq(key, "libvirt_uri"))
		return set_str(c->libvirt_uri, sizeof(c->libvirt_uri), key, v, err);
	if (streq(key, "virt_type")) {
		if (!streq(v, "kvm") && !streq(v, "qemu") && !streq(v, "auto"))
			return cyris_error_set(err, -EINVAL, "virt_type: '%s' is not kvm, qemu or auto", v);
		return set_str(c->virt_type, sizeof(c->virt_type), key, v, err);
	}
	if (streq(key, "storage_pool"))
		return set_str(c->storage_pool, sizeof(c->storage_pool), key, v, err);
	if (streq(key, "image_dir") || streq(key, "runtime_dir")) {
		if (v[0] != '/')
			return cyris_error_set(err, -EINVAL, "%s: '%s' is not an absolute path", key, v);
		if (streq(key, "image_dir"))
			return set_str(c->image_dir, sizeof(c->image_dir), key, v, err);
		return set_str(c->runtime_dir, sizeof(c->runtime_dir), key, v, err);
	}
	if (streq(key, "ifname_prefix")) {
		if (strlen(v) != 1 || !isalpha((unsigned char)v[0]))
			return cyris_error_set(err, -EINVAL, "ifname_prefix: '%s' is not one letter", v);
		return set_str(c->ifname_prefix, sizeof(c->ifname_prefix), key, v, err);
	}
	if (streq(key, "subnet_pool")) {
		struct cyris_prefix p;

		if (cyris_prefix_parse(v, true, &p) < 0 || p.ip.family != AF_INET)
			return cyris_error_set(err, -EINVAL, "subnet_pool: '%s' is not an IPv4 CIDR", v);
		c->subnet_pool = cyris_prefix_network(&p);
		return 0;
	}
	if (streq(key, "subnet_size")) {
		if (cyris_parse_uint(v, 30, &n) < 0 || n < 8)
			return cyris_error_set(err, -EINVAL, "subnet_size: '%s' is not a prefix length in 8..30", v);
		c->subnet_size = (unsigned)n;
		return 0;
	}
	if (streq(key, "cloud_init"))
		return set_bool(&c->cloud_init, key, v, err);
	return cyris_error_set(err, -ENOENT, "unknown key '%s'", key);
}


static int load_file(struct cyris_conf *c, const char *path, bool must_exist,
		     struct cyris_error *err)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	_cleanup_free_ char *line = NULL;
	struct cyris_error m;
	size_t cap = 0;
	unsigned lineno = 0;
	ssize_t len;
	int r;

	if (!f) {
		if (errno == ENOENT && !must_exist)
			return 0;
		return cyris_error_set(err, -errno, "%s: %s", path, strerror(errno));
	}
	snprintf(c->path, sizeof(c->path), "%s", path);
	while ((len = getline(&line, &cap, f)) >= 0) {
		char *s, *eq, *hash;

		lineno++;
		/* the C string would end there and the rest be ignored */
		if (memchr(line, '\0', (size_t)len))
			return cyris_error_set(err, -EINVAL, "%s:%u: a NUL byte in the line", path, lineno);
		hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		s = cyris_trim(line);
		if (!*s)
			continue;
		eq = strchr(s, '=');
		if (!eq)
			return cyris_error_set(err, -EINVAL, "%s:%u: expected 'key = value'", path, lineno);
		*eq = '\0';
		r = cyris_conf_set(c, cyris_trim(s), cyris_trim(eq + 1), &m);
		if (r < 0)
			return cyris_error_set(err, -EINVAL, "%s:%u: %s", path, lineno, m.msg);
	}
	return 0;
}

static const struct {
	const char *env, *key;
} env_keys[] = {
	{ "CYRIS_LIBVIRT_URI", "libvirt_uri" },
	{ "CYRIS_VIRT_TYPE", "virt_type" },
	{ "CYRIS_STORAGE_POOL", "storage_pool" },
	{ "CYRIS_IMAGE_DIR", "image_dir" },
	{ "CYRIS_IFNAME_PREFIX", "ifname_prefix" },
	{ "CYRIS_SUBNET_POOL", "subnet_pool" },
	{ "CYRIS_SUBNET_SIZE", "subnet_size" },
	{ "CYRIS_CLOUD_INIT", "cloud_init" },
	{ "CYRIS_RUNTIME_DIR", "runtime_dir" },
};

int cyris_conf_load(struct cyris_conf *c, struct cyris_error *err)
{
	const char *path = getenv("CYRIS_CONFIG");
	struct cyris_error m;
	size_t i;
	int r;

	cyris_conf_defaults(c);
	r = load_file(c, path && *path ? path : CYRIS_CONF_PATH, path && *path, err);
	if (r < 0)
		return r;
	for (i = 0; i < ARRAY_SIZE(env_keys); i++) {
		const char *v = getenv(env_keys[i].env);

		if (!v || !*v)
			continue;
		r = cyris_conf_set(c, env_keys[i].key, v, &m);
		if (r < 0)
			return cyris_error_set(err, -EINVAL, "%s: %s", env_keys[i].env, m.msg);
	}
	return 0;
}

int cyris_conf_get(const struct cyris_conf *c, const char *key, char *buf, size_t size)
{
	static const struct {
		const char *key;
		size_t off;
	} strs[] = {
		{ "libvirt_uri", offsetof(struct cyris_conf, libvirt_uri) },
		{ "virt_type", offsetof(struct cyris_conf, virt_type) },
		{ "storage_pool", offsetof(struct cyris_conf, storage_pool) },
		{ "image_dir", offsetof(struct cyris_conf, image_dir) },
		{ "ifname_prefix", offsetof(struct cyris_conf, ifname_prefix) },
		{ "runtime_dir", offsetof(struct cyris_conf, runtime_dir) },
		{ "path", offsetof(struct cyris_conf, path) },
		{ "aws_region", offsetof(struct cyris_conf, aws_region) },
		{ "aws_vpc_id", offsetof(struct cyris_conf, aws_vpc_id) },
		{ "aws_subnet_id", offsetof(struct cyris_conf, aws_subnet_id) },
		{ "aws_key_pair_name", offsetof(struct cyris_conf, aws_key_pair_name) },
		{ "aws_instance_type", offsetof(struct cyris_conf, aws_instance_type) },
		{ "aws_endpoint", offsetof(struct cyris_conf, aws_endpoint) },
	};
	char pfx[CYRIS_PREFIXSTRLEN];
	const char *v = NULL;
	int n;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(strs) && !v; i++)
		if (streq(key, strs[i].key))
			v = (const char *)c + strs[i].off;
	if (!v && streq(key, "subnet_pool"))
		v = cyris_prefix_format(&c->subnet_pool, pfx, sizeof(pfx));
	if (!v && streq(key, "cloud_init"))
		v = c->cloud_init ? "yes" : "no";
	if (v)
		n = snprintf(buf, size, "%s", v);
	else if (streq(key, "subnet_size"))
		n = snprintf(buf, size, "%u", c->subnet_size);
	else
		return -ENOENT;
	return n < 0 ? -EINVAL : (size_t)n >= size ? -ENAMETOOLONG : n;
}

int cyris_runtime_dir_open(const struct cyris_conf *c, int *ret_fd, struct cyris_error *err)
{
	const char *dir = c->runtime_dir;
	struct stat st;
	int fd;

	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return cyris_error_set(err, -errno, "runtime directory %s: %s", dir, strerror(errno));
	/* not through a symlink: the checks below must be on the directory
	 * that is used */
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		int r = -errno;

		/* a symlink fails with ENOTDIR (O_DIRECTORY) or ELOOP */
		if ((r == -ENOTDIR || r == -ELOOP) && lstat(dir, &st) == 0 && S_ISLNK(st.st_mode))
			return cyris_error_set(err, -ELOOP, "runtime directory %s: is a symbolic link", dir);
		return cyris_error_set(err, r, "runtime directory %s: %s", dir, strerror(-r));
	}
	if (fstat(fd, &st) < 0) {
		int r = -errno;

		close(fd);
		return cyris_error_set(err, r, "runtime directory %s: %s", dir, strerror(-r));
	}
	if (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		close(fd);
		return cyris_error_set(err, -EPERM, "runtime directory %s: owned by uid %u, mode %03o: "
				  "it must be owned by uid %u and writable by no one else", dir,
				  (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777), (unsigned)geteuid());
	}
	*ret_fd = fd;
	return 0;
}
