/* SPDX-License-Identifier: MIT */
/* Internals of the libvirt driver (not installed). */
#ifndef CYRIS_VM_PRIV_H
#define CYRIS_VM_PRIV_H

#include <time.h>

#include "cyris/vm.h"
#include "../../net/base/util.h"
#include "virt-dl.h"     /* libvirt, through its table */

/* Typed cleanup (util.h's _cleanup_) for libvirt's handles. */
static inline void virt_domain_freep(virDomainPtr *d) { if (*d) virDomainFree(*d); }
static inline void virt_pool_freep(virStoragePoolPtr *p) { if (*p) virStoragePoolFree(*p); }
static inline void virt_vol_freep(virStorageVolPtr *p) { if (*p) virStorageVolFree(*p); }
#define _cleanup_domain_ _cleanup_(virt_domain_freep)
#define _cleanup_pool_ _cleanup_(virt_pool_freep)
#define _cleanup_vol_ _cleanup_(virt_vol_freep)

struct cyris_virt {
	char uri[256];
	char virt_type[8];          /* kvm, qemu, auto */
	char pool[64];
	char image_dir[PATH_MAX];
	char netns[PATH_MAX];
	bool cloud_init;
	unsigned attempts, first_ms;
	virConnectPtr conn;
	char dtype[8];              /* resolved domain type, "" until asked */
	struct cyris_error err;     /* cyris_virt_error(): the last failure */
};

/* ---- virt.c: errors, retries ---- */

/* Record libvirt's last error in @v and return it as -errno. */
int virt_fail(struct cyris_virt *v);
/* Record our own message and return @err. */
int virt_error(struct cyris_virt *v, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Forget the last message (start of a public call). */
void virt_clear(struct cyris_virt *v);
/* libvirt's last error as -errno, without recording it. */
int virt_last_errno(void);
/* true (after sleeping) when libvirt's last error is transient and attempt
 * @try may be followed by another; reconnects a dead connection. */
bool virt_again(struct cyris_virt *v, unsigned try);
/* true when the connection is to this host (so the bridges and the
 * neighbour table here are the guests'): qemu:///system, not
 * qemu+ssh://host/system. */
bool virt_local(struct cyris_virt *v);
/* Connect when not connected. */
int virt_conn(struct cyris_virt *v);

/* Retry @ok_expr while it is false and the failure transient. */
#define VIRT_TRY(v, ok_expr) \
	for (unsigned _try = 0; !(ok_expr) && virt_again((v), _try); _try++)

/* Look a domain up by name (with retries); -ENOENT when there is none. */
int virt_domain(struct cyris_virt *v, const char *name, virDomainPtr *ret);
/* The same at the start of a public call: the last call's error cleared. */
int virt_begin(struct cyris_virt *v, const char *name, virDomainPtr *ret);

/* Milliseconds of CLOCK_MONOTONIC; sleep. */
uint64_t virt_now_ms(void);
void virt_sleep_ms(unsigned ms);

/* ---- xml.c: what cyris writes into and reads out of libvirt ---- */

enum vm_state { VM_STATE_NONE, VM_STATE_CREATING, VM_STATE_READY, VM_STATE_DESTROYING };

/* The content of the <cyris:vm> metadata element. */
struct vm_meta {
	enum vm_state state;
	struct cyris_tag tag;
	time_t created;
	char hostname[CYRIS_GUEST_NAMSIZ];
	char pool[64];
	char overlay[CYRIS_GUEST_NAMSIZ + 16];
	char seed[CYRIS_GUEST_NAMSIZ + 16];
	char base[PATH_MAX];
	char base_format[8];
	char **keys;                /* SSH public keys for the seed */
	size_t n_keys;
};

void vm_meta_clear(struct vm_meta *m);
/* the element for virDomainSetMetadata() (no namespace: libvirt adds it) */
int vm_meta_format(const struct vm_meta *m, char **ret);
int vm_meta_parse(const char *xml, struct vm_meta *ret);
const char *vm_state_str(enum vm_state s);

/* The domain definition cyris writes. */
struct vm_def {
	const char *name, *type;    /* type: kvm, qemu */
	unsigned memory_mib, vcpus;
	const char *kernel, *initrd, *cmdline;
	const char *console;        /* serial console file */
	const struct cyris_guest_nic *nics;
	size_t n_nics;
	const struct vm_meta *meta; /* pool, overlay, seed, tag */
};

int vm_domain_xml(const struct vm_def *d, char **ret);
int vm_pool_xml(const char *name, const char *path, char **ret);
int vm_overlay_xml(const char *name, unsigned long long capacity,
		   const char *base, const char *base_format, char **ret);
int vm_raw_volume_xml(const char *name, unsigned long long capacity, char **ret);

/* What cyris reads back from a domain's XML. */
struct vm_dominfo {
	char type[8];
	unsigned memory_mib, vcpus;
	char kernel[PATH_MAX], initrd[PATH_MAX], cmdline[1024];
	char console[PATH_MAX];
	struct cyris_vm_nic nics[CYRIS_GUEST_MAX_NICS];
	size_t n_nics;
};

int vm_domain_parse(const char *xml, struct vm_dominfo *ret);
/* <target><format type='...'/> and <capacity> of a volume's XML. */
int vm_volume_parse(const char *xml, char *format, size_t size,
		    unsigned long long *ret_capacity);
/* true when a domain capabilities document says the type is usable. */
bool vm_domcaps_ok(const char *xml);

/* ---- seed.c ---- */
/* (public: cyris_seed_iso, cyris_seed_files) */

/* ---- check.c: the directory of the serial consoles ---- */

/* Where a guest's serial console goes (NAME-serial.log); libvirt opens the
 * file there but does not make the directory: its package does. */
#define VM_CONSOLE_DIR "/var/log/libvirt/qemu"

/* Can a create get VM_CONSOLE_DIR? 1 when it is there, 0 when it is missing
 * and this process may make it, -errno when neither (why in @detail). */
int vm_console_dir_probe(char *detail, size_t size);
/* Make VM_CONSOLE_DIR (and /var/log/libvirt) when missing, mode 0700 as
 * libvirt's package does. 0 or -errno with the message in @err. */
int vm_console_dir_make(struct cyris_error *err);

/* check.c: the libvirt provider's preflight items (@needed: it is the
 * provider asked about). */
struct cyris_check_list;
void vm_checks(struct cyris_check_list *l, const struct cyris_conf *conf, bool needed);

/* ---- vm.c ---- */
int vm_info_fill(struct cyris_virt *v, virDomainPtr dom, struct cyris_vm_info *ret);
enum cyris_vm_status vm_status_of(int state, int reason, const struct vm_meta *m,
				  bool owned);
int vm_read_meta(struct cyris_virt *v, virDomainPtr dom, struct vm_meta *ret);

#endif
