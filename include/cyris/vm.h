/* SPDX-License-Identifier: MIT */
/*
 * cyris/vm.h — QEMU/KVM guests through libvirt's C API: create from a base
 * image, clone, start, stop, destroy, list, find the address.
 *
 * A guest is a libvirt domain whose disk is a qcow2 overlay backed by a base
 * image (a storage volume with <backingStore> in a directory pool), with a
 * cloud-init NoCloud seed ISO (written in-process with libisofs, uploaded as
 * a volume) as a CD-ROM, NICs on cyris bridges or libvirt networks, and a
 * <metadata> element in the CYRIS_VM_XMLNS namespace that tags range,
 * instance, guest and role and names the overlay and the seed. Listing and
 * teardown read that tag back from libvirt: there is no state file.
 *
 * Every call returns 0 (or a count) or -errno; the last failure's record,
 * with libvirt's own message as its detail, is kept in the context
 * (cyris_virt_error()). The library never
 * prints, and it changes no process-wide libvirt state: each connection it
 * opens gets a silent error handler of its own (virConnSetErrorFunc), and
 * the message is read from the thread's last error (virGetLastError()).
 */
#ifndef CYRIS_VM_H
#define CYRIS_VM_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cyris/addr.h"
#include "cyris/conf.h"
#include "cyris/error.h"
#include "cyris/provider.h"
#include "cyris/tag.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default)

/*
 * libvirt prints errors that happen outside a connection (a failed
 * virConnectOpen, for one) to stderr through its process-wide handler.
 * This call replaces that handler with a silent one (virSetErrorFunc(NULL,
 * ...)), for the whole process: a tool calls it once at start, since it
 * reports libvirt's message itself; a harness with its own handler does not.
 * libcyris loads libvirt (libvirt.so.0, dlopen) only when it first opens a
 * connection: until then this only records the wish, which is applied
 * then, and loads nothing. A libvirt that cannot be loaded is an error of
 * that first call (-ELIBACC, with the loader's message).
 */
void cyris_vm_quiet_libvirt(void);

/* The XML namespace of cyris's <metadata> element in a domain. */
#define CYRIS_VM_XMLNS "urn:x-cyris:libvirt:domain:1"

#define CYRIS_VM_DEFAULT_MEMORY 512   /* MiB */
#define CYRIS_VM_NAME_MAX 64          /* longest guest (domain) name */
#define CYRIS_VM_DEFAULT_VCPUS 1

/* A libvirt connection and what cyris needs with it. */
struct cyris_virt;

/*
 * A context for @conf's libvirt_uri, virt_type, storage_pool and image_dir
 * (copied). Nothing is connected yet. Returns 0 or -ENOMEM.
 */
int cyris_virt_new(const struct cyris_conf *conf, struct cyris_virt **ret);

/* Close the connection and free @v; NULL is a no-op. */
void cyris_virt_free(struct cyris_virt *v);

/*
 * The network namespace the guests' bridges are in, for the neighbour-table
 * lookup of addresses (a spec as for cyris_nl_open(); NULL or "" = ours).
 */
int cyris_virt_set_netns(struct cyris_virt *v, const char *netns);

/*
 * Transient libvirt errors (connection refused or reset, operation timeout,
 * domain busy) are retried @attempts times in all, waiting @first_ms, then
 * twice as long each time, at most 2 s. Default: 6 attempts from 50 ms.
 */
#define CYRIS_VIRT_ATTEMPTS 6
#define CYRIS_VIRT_FIRST_MS 50
void cyris_virt_set_retry(struct cyris_virt *v, unsigned attempts, unsigned first_ms);

/* Connect now (every call below connects on first use). 0 or -errno. */
int cyris_virt_connect(struct cyris_virt *v);

/* The record of the last failure of a call on @v (cyris/error.h): what
 * failed when cyris found it, else an empty message with libvirt's text as
 * the detail (source "libvirt"); NULL only for a NULL @v. */
const struct cyris_error *cyris_virt_error(const struct cyris_virt *v);

/*
 * The domain type guests get: the configured virt_type, or with "auto" kvm
 * when libvirt's domain capabilities offer it, else qemu (TCG).
 */
int cyris_virt_domain_type(struct cyris_virt *v, const char **ret);

/* A NIC of a domain, as libvirt reports it. */
struct cyris_vm_nic {
	bool network;                     /* type='network' (else 'bridge') */
	char source[CYRIS_ALTNAMSIZ];     /* bridge or network name */
	uint8_t mac[6];
	char target[CYRIS_IFNAMSIZ];      /* host tap while running, else "" */
};

/* Everything cyris knows about one domain. */
struct cyris_vm_info {
	struct cyris_guest_info g;        /* the reference data model */
	bool owned;                       /* carries cyris's metadata tag */
	char domain_type[8];              /* kvm, qemu */
	unsigned memory_mib, vcpus;
	char base[PATH_MAX];              /* base image of the overlay */
	char pool[64];                    /* storage pool of the volumes */
	char overlay[CYRIS_GUEST_NAMSIZ + 16];  /* volume names, "" = none */
	char seed[CYRIS_GUEST_NAMSIZ + 16];
	char console[PATH_MAX];           /* serial console file, "" = none */
	struct cyris_vm_nic nics[CYRIS_GUEST_MAX_NICS];
	size_t n_nics;
};

/*
 * Create and start guest @spec->name: the domain is defined first (tagged
 * "creating", so that an interrupted create is found and destroyed like any
 * other guest), then the overlay of @spec->base_image and the seed ISO are
 * made in the pool (created if missing), then the domain starts. A NIC whose
 * MAC is all zeros gets one derived from the name and its index. When any
 * step fails, what the call made is removed again. @ret may be NULL.
 * Returns 0, -EEXIST (a domain or volume of that name), -EINVAL (bad spec)
 * or another -errno.
 */
int cyris_vm_create(struct cyris_virt *v, const struct cyris_guest_spec *spec,
		    struct cyris_vm_info *ret);

/*
 * Clone cyris guest @src as @name: a new overlay on the same base, new MACs
 * (derived from @name), the same memory, vCPUs, NIC sources and boot, a new
 * seed with the same SSH keys and hostname @name (addresses by DHCP: the
 * source's static addresses are its own). @range NULL keeps the source's.
 */
int cyris_vm_clone(struct cyris_virt *v, const char *src, const char *name,
		   const char *range, struct cyris_vm_info *ret);

/* Start a defined guest. -EALREADY when it runs; -EPERM for a domain
 * without cyris's tag unless @force. */
int cyris_vm_start(struct cyris_virt *v, const char *name, bool force);

/*
 * Stop a guest: ACPI shutdown, and after @timeout_ms without it, power it
 * off. *ret_forced (may be NULL) tells which. -EALREADY when not running;
 * -EPERM for a domain without cyris's tag unless @force.
 */
int cyris_vm_stop(struct cyris_virt *v, const char *name, unsigned timeout_ms,
		  bool force, bool *ret_forced);

/*
 * Destroy a guest: power off, remove its overlay and seed volumes (as its
 * tag names them) and undefine it — nothing else. A domain without cyris's
 * tag is refused with -EPERM unless @force (then only the domain goes).
 */
int cyris_vm_destroy(struct cyris_virt *v, const char *name, bool force);

/* Destroy every guest tagged with range @range; *ret_count (may be NULL)
 * how many. Goes on after a failure and returns the first error. */
int cyris_vm_destroy_range(struct cyris_virt *v, const char *range,
			   size_t *ret_count);

/* Read one domain (owned or not). -ENOENT when there is none. */
int cyris_vm_get(struct cyris_virt *v, const char *name, struct cyris_vm_info *ret);

/* The status of a domain (libvirt's state mapped to the data model). */
int cyris_vm_status(struct cyris_virt *v, const char *name,
		    enum cyris_vm_status *ret);

#define CYRIS_VM_LIST_IP 0x1              /* also look up each address */

/* The cyris guests of @range (NULL: all), sorted by name; free *ret with
 * free(). */
int cyris_vm_list(struct cyris_virt *v, const char *range, unsigned flags,
		  struct cyris_vm_info **ret, size_t *ret_n);

/* IP discovery sources, tried in this order. */
enum {
	CYRIS_IP_LEASE = 0x1,   /* libvirt's DHCP leases (libvirt networks) */
	CYRIS_IP_AGENT = 0x2,   /* the QEMU guest agent */
	CYRIS_IP_ARP = 0x4,     /* libvirt's ARP source */
	CYRIS_IP_NEIGH = 0x8,   /* cyris: the guest's MAC in the neighbour table
				   of its bridge, the port from the FDB */
	CYRIS_IP_ALL = 0xf,
};

struct cyris_vm_addr {
	struct cyris_ip ip;
	unsigned prefix;                  /* 0 = not reported */
	char source[16];                  /* lease, agent, arp, neigh */
	uint8_t mac[6];                   /* the NIC it belongs to */
	char bridge[CYRIS_ALTNAMSIZ];     /* neigh: the bridge */
	char port[CYRIS_IFNAMSIZ];        /* neigh: the bridge port from the
					     FDB, "" when not learned */
};

/*
 * The guest's address from the first of @sources (CYRIS_IP_*) that knows
 * one, NICs in domain order, IPv4 before IPv6. -EADDRNOTAVAIL when none
 * does yet, -ENOENT when there is no such domain.
 */
int cyris_vm_ip(struct cyris_virt *v, const char *name, unsigned sources,
		struct cyris_vm_addr *ret);

/* Called about every @interval of cyris_vm_wait_ip(). */
typedef void (*cyris_vm_progress_fn)(void *userdata, unsigned elapsed_ms,
				     unsigned timeout_ms);

/*
 * Poll cyris_vm_ip() until an address is known or @timeout_ms passed
 * (-ETIMEDOUT). -ENOENT at once when the domain does not exist, -ESHUTDOWN
 * when it is not running. @progress may be NULL.
 */
int cyris_vm_wait_ip(struct cyris_virt *v, const char *name, unsigned sources,
		     unsigned timeout_ms, cyris_vm_progress_fn progress,
		     void *userdata, struct cyris_vm_addr *ret);

/* true when @name can name a guest: 1..CYRIS_VM_NAME_MAX of [A-Za-z0-9._-],
 * the first a letter or digit (its volumes are NAME.qcow2, NAME-seed.iso). */
bool cyris_vm_name_valid(const char *name);

/* The deterministic MAC of NIC @index of guest @name: 52:54:00 (QEMU's
 * prefix) and three bytes of a hash of both. */
void cyris_vm_mac(const char *name, unsigned index, uint8_t ret[6]);

/*
 * SSH public keys for a guest (struct cyris_guest_spec's ssh_keys), read
 * from a file as authorized_keys holds them: one key a line, "[OPTIONS]
 * TYPE BASE64 [COMMENT]"; blank lines and # comments are skipped.
 * cyris_ssh_keys_load() appends the keys of @path to @keys (start from
 * {0}). On a bad file nothing of it is kept and @err says what and where:
 * "PATH: No such file or directory", "PATH:LINE: a NUL byte in the line",
 * "PATH:LINE: a line longer than CYRIS_SSH_KEY_MAX bytes", "PATH: a private
 * key, not a public one", "PATH:LINE: not a public key", "PATH: no key in
 * it" (-ENOKEY). Returns 0 or -errno.
 */
#define CYRIS_SSH_KEY_MAX 16384
struct cyris_ssh_keys {
	char **v;
	size_t n, cap;
};
int cyris_ssh_keys_load(const char *path, struct cyris_ssh_keys *keys,
			struct cyris_error *err);
void cyris_ssh_keys_free(struct cyris_ssh_keys *keys);

/* What a cloud-init NoCloud seed carries. */
struct cyris_seed {
	const char *instance_id;          /* NULL = hostname */
	const char *hostname;
	const char *const *ssh_keys;
	size_t n_ssh_keys;
	const struct cyris_guest_nic *nics;   /* network-config v2: static
						 address and gateway, or DHCP */
	size_t n_nics;
};

/*
 * Write the seed ISO (ISO 9660 with Rock Ridge and Joliet, volume id
 * "cidata": meta-data, user-data, network-config) into memory. *ret is
 * malloc'ed. Returns 0 or -errno.
 */
int cyris_seed_iso(const struct cyris_seed *seed, unsigned char **ret,
		   size_t *ret_len);

/* The three files of the seed as text (for tests and --dry-run style use);
 * each *ret_* is malloc'ed. */
int cyris_seed_files(const struct cyris_seed *seed, char **ret_meta,
		     char **ret_user, char **ret_network);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
