/* SPDX-License-Identifier: MIT */
/*
 * cyris/provider.h — the one small interface between a topology and the
 * guests that live on it: create / destroy / list / status / ip.
 *
 * Two providers implement it: "netns" (net/topo/provider-netns.c; a guest
 * is a network namespace) and "libvirt" (vm/libvirt/provider-libvirt.c; a
 * guest is a QEMU/KVM domain). cyris-topo only ever talks to this
 * interface. Each provider describes itself in a struct cyris_provider_def
 * (its name, how to open it, its preflight checks); the library's table of
 * them is generated at build time from the Makefile's PROVIDERS, so
 * net/topo/ knows no provider by name and net/ links without vm/.
 *
 * Guests are found again from the kernel or from libvirt (tags, metadata),
 * never from a state file: list and destroy work after a crash.
 */
#ifndef CYRIS_PROVIDER_H
#define CYRIS_PROVIDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "cyris/addr.h"
#include "cyris/conf.h"
#include "cyris/error.h"
#include "cyris/tag.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default)

/* The reference data model's VMStatus. */
enum cyris_vm_status {
	CYRIS_VM_CREATING,
	CYRIS_VM_RUNNING,
	CYRIS_VM_STOPPED,
	CYRIS_VM_FAILED,
	CYRIS_VM_DESTROYING,
};

const char *cyris_vm_status_str(enum cyris_vm_status s);

#define CYRIS_GUEST_MAX_NICS 8
#define CYRIS_GUEST_NAMSIZ 128

/* One NIC of a guest, as planned. */
struct cyris_guest_nic {
	char nic[16];                     /* guest-side name: eth0, eth1 ... */
	char bridge[CYRIS_ALTNAMSIZ];     /* host bridge it plugs into (a name or
					     altname); "" = libvirt network */
	char network[64];                 /* libvirt network when bridge is "" */
	char host_ifname[CYRIS_IFNAMSIZ]; /* host-side veth/tap name, "" = let the
					     provider derive it */
	uint8_t mac[6];
	struct cyris_prefix addr;         /* family 0 = none (DHCP/unknown) */
	struct cyris_ip gateway;          /* family 0 = no default route here */
	char net[CYRIS_ID_MAX + 1];       /* the range network (for tags) */
};

/* What to create. Strings are borrowed for the duration of the call. */
struct cyris_guest_spec {
	const char *name;                 /* provider-level name: netns or domain */
	struct cyris_tag tag;             /* range, instance, guest ("desktop.1"),
					     role; written where the provider
					     keeps its tags */
	const char *guest_id;             /* guest_settings id, e.g. "desktop" */
	unsigned index;                   /* 1..number */
	struct cyris_guest_nic nics[CYRIS_GUEST_MAX_NICS];
	size_t n_nics;
	bool forwarding;                  /* route between its NICs (a gateway) */
	/* libvirt */
	const char *base_image;           /* base disk the overlay is backed by */
	unsigned memory_mib, vcpus;       /* 0 = provider default */
	const char *kernel, *initrd, *cmdline;   /* direct kernel boot, or NULL */
	const char *const *ssh_keys;      /* public key lines for cloud-init */
	size_t n_ssh_keys;
	const char *hostname;             /* NULL = name */
};

/* What a provider reports: the reference data model's VMInfo. */
struct cyris_guest_info {
	char vm_id[64];                   /* libvirt UUID; netns: inode number */
	char vm_name[CYRIS_GUEST_NAMSIZ];
	enum cyris_vm_status status;
	struct cyris_ip ip;               /* family 0 = not known */
	char ip_source[16];               /* lease, agent, arp, neigh, plan, ... */
	char provider[16];                /* "netns", "libvirt" */
	time_t created_at;                /* 0 = unknown */
	struct cyris_tag tag;             /* metadata: range, inst, guest, role */
	uint8_t macs[CYRIS_GUEST_MAX_NICS][6];
	char nic_sources[CYRIS_GUEST_MAX_NICS][CYRIS_ALTNAMSIZ]; /* the bridge (or
					     libvirt network) of each NIC, "" = unknown */
	size_t n_macs;
};

struct cyris_provider;

struct cyris_provider_ops {
	const char *name;
	int (*create)(struct cyris_provider *p, const struct cyris_guest_spec *spec,
		      struct cyris_guest_info *ret);         /* ret may be NULL */
	int (*destroy)(struct cyris_provider *p, const char *name, bool force);
	/* every guest of @range (NULL: every cyris guest) */
	int (*list)(struct cyris_provider *p, const char *range,
		    struct cyris_guest_info **ret, size_t *ret_n);
	int (*status)(struct cyris_provider *p, const char *name,
		      enum cyris_vm_status *ret);
	/* the address and the source that gave it; -ENOENT when none yet */
	int (*ip)(struct cyris_provider *p, const char *name,
		  struct cyris_guest_info *ret);
	void (*free)(struct cyris_provider *p);
	/* the record of the last failed call (cyris/error.h), whose detail
	 * is the backend's own message; NULL (the op or its result): none */
	const struct cyris_error *(*error)(struct cyris_provider *p);
};

struct cyris_provider {
	const struct cyris_provider_ops *ops;
	const struct cyris_conf *conf;    /* borrowed */
	char netns[64];                   /* host namespace the bridges are in
					     ("" = ours) */
	bool probe;                       /* opened by cyris_provider_probe() */
	void *priv;
};

/*
 * Open provider @name ("netns" or "libvirt", as built in) with @conf (borrowed, must
 * outlive the provider). @netns is where the range's bridges live (NULL =
 * ours). Returns 0, -ENOENT for a provider that is not in the library's
 * table (unknown, or not built in), or -errno.
 */
int cyris_provider_open(const char *name, const struct cyris_conf *conf,
			const char *netns, struct cyris_provider **ret);
/*
 * The same for a provider that may well not be there (a host without
 * libvirtd): it is asked once, without waiting for a daemon that is still
 * starting. -errno when it does not answer now.
 */
int cyris_provider_probe(const char *name, const struct cyris_conf *conf,
			 const char *netns, struct cyris_provider **ret);
void cyris_provider_free(struct cyris_provider *p);

struct cyris_check_list;          /* cyris/check.h */

/* A provider as the library's table lists it. */
struct cyris_provider_def {
	const char *name;                 /* "netns", "libvirt" */
	/* set p->ops and p->priv (p->conf, p->netns and p->probe are set);
	 * 0 or -errno */
	int (*init)(struct cyris_provider *p);
	/* add this provider's preflight items to @l with cyris_check_add();
	 * @needed: the provider asked about is this one. NULL: none. */
	void (*checks)(struct cyris_check_list *l, const struct cyris_conf *conf, bool needed);
};

/* The implementations' init, for a caller that fills a struct
 * cyris_provider itself (cyris_provider_open() finds them by name). */
int cyris_provider_netns_new(struct cyris_provider *p);
int cyris_provider_libvirt_new(struct cyris_provider *p);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
