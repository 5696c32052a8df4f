/* SPDX-License-Identifier: MIT */
/*
 * cyris/topo.h — a range plan made real on this host, as a transaction, and
 * taken down again from the kernel's tags alone.
 *
 * up: every step (bridge, VXLAN, guest, firewall) is recorded; on the first
 * failure — or a cancel request (Ctrl-C) — everything done is undone in
 * reverse and the host is as before. down: the range's guests (every
 * provider), links and namespaces, found by their tags, so it works after a
 * crash or `kill -9` of up, and its firewall table last: a down that stops
 * half way leaves what remains as isolated as the running range was. Both
 * hold the host lock (cyris/lock.h) from reading the host's state to the
 * last step, so ranges brought up (or taken down) at once do not collide.
 */
#ifndef CYRIS_TOPO_H
#define CYRIS_TOPO_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "cyris/conf.h"
#include "cyris/lock.h"
#include "cyris/plan.h"
#include "cyris/provider.h"
#include "cyris/range.h"
#include "cyris/error.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default)

struct cyris_topo_opts {
	const char *provider;             /* "netns" (default) or "libvirt" */
	const char *host;                 /* build this host's share (--host) */
	unsigned instance;                /* plan: only this instance (0: all) */
	const char *netns;                /* the "host" namespace (NULL: ours) */
	volatile sig_atomic_t *cancel;    /* set it to roll back (down: to stop) */
	/* before each step of up, and of down (4 steps); in up's guests on
	 * two threads, from either of them, never two at once, in step order */
	void (*progress)(void *arg, size_t step, size_t n, const char *what);
	void *progress_arg;
	unsigned fail_at;                 /* tests: fail before step N (1-based) of up or down */
	/* threads making up's netns guests: 0 as many as pay (two for a run of
	 * 32 guests or more, on two CPUs or more), 1 one, 2 or more two */
	unsigned threads;
	cyris_lock_wait_fn lock_wait;     /* the host lock is busy (arg: progress_arg) */
};

/* The plan for this host, given what is already in use here. */
int cyris_topo_plan(const struct cyris_range *r, const struct cyris_conf *conf,
		    const struct cyris_topo_opts *o, struct cyris_plan **ret,
		    struct cyris_error *err);

/* How many steps up takes for @plan (for failure injection). */
size_t cyris_topo_steps(const struct cyris_plan *plan);

/* Build the range. On failure everything is undone and -errno returned with
 * a message; *ret_plan (may be NULL) gets the plan that was built. Waits
 * for the host lock first (-ECANCELED when *cancel is set meanwhile). */
int cyris_topo_up(const struct cyris_range *r, const struct cyris_conf *conf,
		  const struct cyris_topo_opts *o, struct cyris_plan **ret_plan,
		  struct cyris_error *err);

struct cyris_topo_down_stats {
	size_t tables, guests, links, namespaces;
	size_t tunnels;                   /* entry tunnels stopped */
};

/* Remove everything of @range on this host: its tunnels (cyris_tunnel_list()
 * under the configuration's runtime_dir) and libvirt guests (step 1), links
 * (2), namespaces (3), the firewall table (4). Waits for the host lock
 * first; stops before the next step when *cancel is set (-ECANCELED). */
int cyris_topo_down(const char *range, const struct cyris_conf *conf,
		    const struct cyris_topo_opts *o, struct cyris_topo_down_stats *ret,
		    struct cyris_error *err);

/* The live range, read back from the kernel (and the providers). */
struct cyris_live_nic {
	char nic[16];
	char net[CYRIS_ID_MAX + 1];
	struct cyris_prefix addr;         /* family 0: unknown */
	uint8_t mac[6];
};

struct cyris_live_guest {
	char guest_id[CYRIS_ID_MAX + 1];
	unsigned index, instance;
	char name[CYRIS_GUEST_NAMSIZ];    /* namespace or domain */
	char provider[16];
	enum cyris_vm_status status;
	bool gateway;                     /* forwards between its NICs */
	struct cyris_live_nic nics[CYRIS_GUEST_MAX_NICS];
	size_t n_nics;
};

struct cyris_live_net {
	char name[CYRIS_ID_MAX + 1];
	unsigned instance;
	char bridge[CYRIS_IFNAMSIZ];
	struct cyris_prefix subnet;
	struct cyris_ip gateway;
	struct cyris_prefix host_addr;    /* family 0: none */
	uint32_t vni;                     /* 0: none */
};

struct cyris_live {
	char range[CYRIS_ID_MAX + 1];
	struct cyris_live_net *nets;
	size_t n_nets, cap_nets;
	struct cyris_live_guest *guests;
	size_t n_guests, cap_guests;
	bool has_table;                   /* the host firewall table */
	uint16_t *entry_ports;            /* exposed host ports */
	struct cyris_ip *entry_to;        /* the guest each leads to */
	size_t n_entries, cap_entries;
};

/* -ENOENT when nothing of @range is on this host. */
int cyris_topo_show(const char *range, const struct cyris_conf *conf,
		    const struct cyris_topo_opts *o, struct cyris_live **ret);
void cyris_live_free(struct cyris_live *l);

/* Every range with something on this host. Free *ret. */
int cyris_topo_ls(const struct cyris_conf *conf, const struct cyris_topo_opts *o,
		  char (**ret)[CYRIS_ID_MAX + 1], size_t *ret_n);

/* One probed flow: what the rules say, and what the packets did. */
struct cyris_probe {
	char from[CYRIS_GUEST_NAMSIZ], to[CYRIS_GUEST_NAMSIZ];   /* namespaces */
	char from_label[48], to_label[48];  /* "desktop.1", "desktop.1/i2" */
	struct cyris_ip dst;
	unsigned proto;                   /* CYRIS_FW_TCP / _UDP / _ICMP */
	uint16_t port;
	bool expected;                    /* a rule allows it */
	bool passed;                      /* it got through */
	char rule[256];                   /* the rule that allows it, "" if none */
};

/*
 * Try each allowed flow of @range (one guest of each source, every
 * destination, every port) and a sample of denied ones between guests, all
 * at once, each with @timeout_ms. netns guests only.
 */
int cyris_topo_probe(const struct cyris_live *live, const char *netns, unsigned timeout_ms,
		     struct cyris_probe **ret, size_t *ret_n);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
