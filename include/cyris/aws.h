/* SPDX-License-Identifier: MIT */
/*
 * cyris/aws.h — a range on EC2: VPC, subnets, security groups, instances,
 * every one tagged at creation (TagSpecification: cyris:range,
 * cyris:instance, cyris:guest, cyris:role, cyris:net and Name), found and
 * removed again by those tags alone — no state file, so a crash or a
 * `kill -9` of an up leaves nothing that a down cannot find.
 *
 * One struct cyris_ec2 is one connection to one region (credentials, region
 * and endpoint by the AWS conventions, see cyris-aws(8)); each call records
 * its last failure there (cyris_ec2_error(): the object, and AWS's code and
 * message as the detail).
 *
 * Isolation is the security groups: one per (instance, network), none of
 * AWS's default allow-all egress (revoked; egress only inside the VPC), in
 * by default only the network itself, the forwarding rules compiled to
 * ingress rules (a network name is its subnet, a member its /32, TCP and
 * UDP where a port rule has no proto). An entry point is an internet
 * gateway, a route, an Elastic IP and port 22 open only from the CIDR the
 * caller configures.
 */
#ifndef CYRIS_AWS_H
#define CYRIS_AWS_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "cyris/conf.h"
#include "cyris/error.h"
#include "cyris/ip.h"
#include "cyris/plan.h"
#include "cyris/provider.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default)

#define CYRIS_AWS_IDSIZ 32           /* vpc-..., subnet-..., i-..., with room */

struct cyris_ec2;

/* What a caller sets over the AWS conventions; NULL = not set. */
struct cyris_ec2_opts {
	const char *region, *endpoint, *profile;
};

/* Connect; -errno with the reason in @err (no credentials, a malformed
 * endpoint, ...). */
int cyris_ec2_open(const struct cyris_conf *conf, const struct cyris_ec2_opts *o,
		   struct cyris_ec2 **ret, struct cyris_error *err);
void cyris_ec2_free(struct cyris_ec2 *a);

/* Is AWS configured here, read from the environment and files alone (no
 * request, nothing resolved): 1 when credentials are found by the
 * conventions and a region or an endpoint is given (AWS_REGION,
 * AWS_DEFAULT_REGION, AWS_ENDPOINT_URL_EC2, AWS_ENDPOINT_URL, the
 * profile's region or endpoint_url, cyris.conf's aws_region or
 * aws_endpoint when the file sets them; the built-in default aws_region
 * alone is not enough); 0 when there are no credentials
 * or no region; -errno with the reason in @err when the configuration is
 * broken (a profile that is not there, half a key, a bad file). */
int cyris_ec2_configured(const struct cyris_conf *conf, struct cyris_error *err);
/* The last failure of a call on @a. */
const struct cyris_error *cyris_ec2_error(const struct cyris_ec2 *a);
/* API requests sent on @a so far, retries included. */
unsigned long cyris_ec2_requests(const struct cyris_ec2 *a);

/* The endpoint @a talks to (https://ec2.REGION.amazonaws.com/ or the one
 * given). */
const char *cyris_ec2_endpoint(const struct cyris_ec2 *a);

/* ---- single resources (cyris-aws) ---------------------------------------- */

/* Who a resource belongs to: written as its tags. */
struct cyris_ec2_owner {
	const char *range;
	unsigned instance;               /* 0 = 1 */
	const char *net;                 /* NULL = none */
	const char *guest;               /* NULL = none */
};

/* A VPC of @cidr for (range, instance). */
int cyris_ec2_vpc_create(struct cyris_ec2 *a, const struct cyris_ec2_owner *w,
			 const struct cyris_prefix *cidr, char ret_id[CYRIS_AWS_IDSIZ]);
/* A subnet for network w->net in @vpc (NULL: the VPC tagged with the
 * range and instance), in availability zone @az (NULL: AWS's choice). */
int cyris_ec2_subnet_create(struct cyris_ec2 *a, const struct cyris_ec2_owner *w,
			    const struct cyris_prefix *cidr, const char *vpc, const char *az,
			    char ret_id[CYRIS_AWS_IDSIZ]);
/* A security group named @name in @vpc (NULL: the range's): AWS's allow-all
 * egress revoked, egress allowed inside the VPC only; with w->net, ingress
 * from that network's own subnet. */
int cyris_ec2_sg_create(struct cyris_ec2 *a, const struct cyris_ec2_owner *w, const char *name,
			const char *vpc, char ret_id[CYRIS_AWS_IDSIZ]);
/* Allow into group @group (an id sg-..., or a name cyris made) what @rule
 * (CyRIS's syntax) allows from its sources: network names of the group's
 * range are their subnets, CIDRs themselves. A rule groups cannot express
 * (dst=host, sport, a name that is no network of the range) is -EINVAL with
 * the reason in the error record, and nothing is changed. */
int cyris_ec2_sg_allow(struct cyris_ec2 *a, const char *group, const char *rule);

struct cyris_ec2_nic {
	const char *subnet;              /* subnet-... or a network name of the range */
	struct cyris_ip ip;              /* family 0 = AWS picks */
	const char *const *groups;       /* security groups (ids, or names cyris made):
					    with a network name, besides the network's;
					    with a subnet id, the NIC's only ones */
	size_t n_groups;
	bool route;                      /* the guest is this subnet's gateway: with
					    gateway_routes, the subnet's route table
					    sends the VPC's other subnets here */
};

struct cyris_ec2_instance_spec {
	const char *name;                /* the Name tag; unique in the range */
	struct cyris_ec2_owner owner;    /* owner.guest: "desktop.1" (NULL = name) */
	const char *role;                /* NULL = "guest" */
	const char *image;               /* ami-... */
	const char *type;                /* NULL = aws_instance_type, t3.micro */
	const char *key_name;            /* an imported key pair, NULL = none */
	const char *const *ssh_keys;     /* public key lines for cloud-init */
	size_t n_ssh_keys;
	const char *hostname;            /* NULL = name, '.' and '_' as '-' */
	struct cyris_ec2_nic nics[CYRIS_GUEST_MAX_NICS];
	size_t n_nics;
	bool forwarding;                 /* a gateway: SourceDestCheck off */
	bool gateway_routes;             /* and the route table of each NIC's subnet
					    marked route (none marked: of every NIC)
					    sends the VPC's other subnets through
					    that NIC, as up does for a network whose
					    gateway is a guest */
	bool public_ip;                  /* an entry point: the internet gateway of
					    its VPC (made when missing), a default
					    route in its first NIC's subnet's route
					    table, an Elastic IP on that NIC */
};

struct cyris_ec2_instance {
	char id[CYRIS_AWS_IDSIZ];
	char name[CYRIS_GUEST_NAMSIZ];
	char range[CYRIS_ID_MAX + 1];
	char guest[CYRIS_ID_MAX + 1];
	char role[16];
	unsigned instance;
	char state[16];                  /* pending, running, ..., terminated */
	struct cyris_ip private_ip, public_ip;   /* family 0 = none */
	char enis[CYRIS_GUEST_MAX_NICS][CYRIS_AWS_IDSIZ];
	struct cyris_ip eni_ips[CYRIS_GUEST_MAX_NICS];
	size_t n_enis;
};

/* RunInstances, with a ClientToken derived from (range, instance, guest):
 * the same call again (a retry, a second up) never makes a twin. */
int cyris_ec2_instance_create(struct cyris_ec2 *a, const struct cyris_ec2_instance_spec *s,
			      struct cyris_ec2_instance *ret);
/* Terminate the instance called @name (its Name tag) of a range, or with
 * @force the instance id @name even without cyris's tags. */
int cyris_ec2_instance_terminate(struct cyris_ec2 *a, const char *name, bool force);
/* The instances of @range (NULL: every cyris instance), terminated ones
 * left out. Free *ret. */
int cyris_ec2_instance_list(struct cyris_ec2 *a, const char *range,
			    struct cyris_ec2_instance **ret, size_t *ret_n);
/* One instance by its Name tag; -ENOENT when there is none. */
int cyris_ec2_instance_get(struct cyris_ec2 *a, const char *name, struct cyris_ec2_instance *ret);

/* Import @pubkey (one OpenSSH public key line) as key pair @name. */
int cyris_ec2_keypair_import(struct cyris_ec2 *a, const struct cyris_ec2_owner *w,
			     const char *name, const char *pubkey);

/* ---- a whole range ----------------------------------------------------- */

/* Claim range @range for one up, atomically on AWS itself (so across
 * hosts too): its key pair cyris-RANGE, a name unique in the region, made
 * tagged with the range and a token of this claim; @pubkey (an OpenSSH
 * public key line) is imported as it, NULL: AWS makes one (its private
 * half is dropped). -EEXIST when the key pair is there already: another up
 * of the range is running, or one was interrupted (cyris_ec2_destroy()
 * removes the claim with the rest, last). */
int cyris_ec2_range_claim(struct cyris_ec2 *a, const char *range, const char *pubkey);

struct cyris_ec2_up_opts {
	const char *file;                /* the range file, for FILE:LINE in errors */
	const char *ssh_from;            /* CIDR allowed to port 22 of entry points;
					    required when the plan has one */
	const char *type;                /* NULL = aws_instance_type */
	const char *image;               /* ami-... for guests without one of their
					    own (NULL: each needs image: or basevm_os_type) */
	const char *const *ssh_keys;     /* public key lines */
	size_t n_ssh_keys;
	const char *const *ssh_key_files;   /* (emit) the files they came from */
	size_t n_ssh_key_files;
	volatile sig_atomic_t *cancel;   /* set: roll back */
	unsigned fail_at;                /* tests: fail before AWS change N (1-based) */
	void (*progress)(void *arg, size_t step, const char *what);
	void *progress_arg;
};

/* What up would create, as cyris-aws batch lines (cyris-topo plan --emit
 * aws), checked as up checks it (images resolved: this reads EC2, and
 * changes nothing); `cyris-aws -b -` of them makes the same range. The
 * keys are named by their files (@o->ssh_key_files). -EINVAL as up
 * refuses, -EIO when @f failed. */
int cyris_ec2_emit(struct cyris_ec2 *a, const struct cyris_plan *p, const struct cyris_conf *conf,
		   const struct cyris_ec2_up_opts *o, FILE *f, struct cyris_error *err);

/* Build @p on EC2: everything checked first (images resolved, rules
 * expressible, a source for entry points, the range not there yet:
 * -EEXIST), then the range claimed (cyris_ec2_range_claim(), with the
 * first of @o->ssh_keys: -EEXIST when another up holds it, and nothing is
 * touched), then created tagged; on a later failure or a cancel,
 * everything tagged with the range is removed again. */
int cyris_ec2_up(struct cyris_ec2 *a, const struct cyris_plan *p, const struct cyris_conf *conf,
		 const struct cyris_ec2_up_opts *o, struct cyris_error *err);

struct cyris_ec2_down_stats {
	size_t addresses, instances, enis, groups, subnets, route_tables, gateways, key_pairs, vpcs;
};

/* Remove everything tagged cyris:range=@range, in dependency order,
 * retrying what AWS is still busy with (bounded); -ECANCELED when *cancel
 * is set (@cancel NULL: none). */
int cyris_ec2_destroy(struct cyris_ec2 *a, const char *range, volatile sig_atomic_t *cancel,
		      struct cyris_ec2_down_stats *ret);

/* Ranges with something tagged in the region. Free *ret. */
int cyris_ec2_ls(struct cyris_ec2 *a, char (**ret)[CYRIS_ID_MAX + 1], size_t *ret_n);

/* An image id for a CyRIS basevm_os_type (amazon_linux, ubuntu_20, ...):
 * the newest of its owner's images whose name matches its pattern. */
int cyris_ec2_image_resolve(struct cyris_ec2 *a, const char *os_type, char ret[CYRIS_AWS_IDSIZ]);

/* true when every guest of @r is basevm_type aws; false when none is;
 * -EINVAL with "FILE:LINE:COL: ..." when the file mixes kvm and aws. */
int cyris_ec2_range_kind(const struct cyris_range *r, bool *ret_aws, struct cyris_error *err);

/* The "aws" provider's init (cyris/provider.h): a guest is an EC2
 * instance in subnets of its range, found by its tags. */
int cyris_provider_aws_new(struct cyris_provider *p);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
