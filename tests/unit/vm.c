/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the libvirt driver's pure parts: guest names, derived MACs,
 * and the cloud-init seed — its three YAML files read back with libyaml
 * (values exactly as given, MACs as strings), and the ISO image's volume
 * descriptor and contents.
 */
#include <errno.h>
#include <stdint.h>
#include <yaml.h>

#include "cyris/addr.h"
#include "cyris/link.h"
#include "cyris/vm.h"
#include "../../vm/libvirt/vm-priv.h"   /* vm_status_of(): libvirt's states mapped */
#include "../tap.h"

static void test_names(void)
{
	static const char *const good[] = { "g1", "web-1.range_7", "A", "0x" };
	static const char *const bad[] = { "", "-a", ".a", "_a", "a/b", "a b", "a:b",
		"0123456789012345678901234567890123456789012345678901234567890123456789" };
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ok(cyris_vm_name_valid(good[i]), "'%s' is a valid guest name", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(!cyris_vm_name_valid(bad[i]), "'%.20s' is not", bad[i]);
}

static void test_macs(void)
{
	uint8_t a[6], b[6], c[6], d[6];

	cyris_vm_mac("web1", 0, a);
	cyris_vm_mac("web1", 0, b);
	cyris_vm_mac("web1", 1, c);
	cyris_vm_mac("web2", 0, d);
	ok(memcmp(a, b, 6) == 0, "the derived MAC is deterministic");
	ok(memcmp(a, c, 6) != 0, "another NIC index gives another MAC");
	ok(memcmp(a, d, 6) != 0, "another name gives another MAC");
	ok(a[0] == 0x52 && a[1] == 0x54 && a[2] == 0x00, "QEMU's 52:54:00 prefix");
	ok(!(a[0] & 1), "unicast");
}

/* ---- reading YAML back ---- */

/* The scalar at @path ("a.b.0.c": mapping keys and sequence indexes) of
 * document @text, and its style. NULL when absent. */
static const yaml_node_t *yget(yaml_document_t *doc, const char *path)
{
	yaml_node_t *n = yaml_document_get_root_node(doc);
	char buf[256], *tok, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, ".", &save); tok && n; tok = strtok_r(NULL, ".", &save)) {
		if (n->type == YAML_SEQUENCE_NODE) {
			long i = strtol(tok, NULL, 10);
			yaml_node_item_t *it = n->data.sequence.items.start + i;

			n = it < n->data.sequence.items.top ? yaml_document_get_node(doc, *it) : NULL;
		} else if (n->type == YAML_MAPPING_NODE) {
			yaml_node_pair_t *p;
			yaml_node_t *found = NULL;

			for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
				yaml_node_t *k = yaml_document_get_node(doc, p->key);

				if (k && k->type == YAML_SCALAR_NODE &&
				    strcmp((const char *)k->data.scalar.value, tok) == 0)
					found = yaml_document_get_node(doc, p->value);
			}
			n = found;
		} else {
			n = NULL;
		}
	}
	return n;
}

static bool yload(const char *text, yaml_document_t *doc)
{
	yaml_parser_t p;
	bool r;

	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)text, strlen(text));
	r = yaml_parser_load(&p, doc) && yaml_document_get_root_node(doc);
	yaml_parser_delete(&p);
	return r;
}

static const char *ystr(yaml_document_t *doc, const char *path)
{
	const yaml_node_t *n = yget(doc, path);

	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static bool yquoted(yaml_document_t *doc, const char *path)
{
	const yaml_node_t *n = yget(doc, path);

	return n && n->type == YAML_SCALAR_NODE &&
	       n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
}

static const char key1[] = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIO0 alice@range: \"#1\" 'x' {y}";
static const char key2[] = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ bob";

static void seed_spec(struct cyris_seed *s, struct cyris_guest_nic nics[2])
{
	static const char *keys[] = { key1, key2 };

	memset(nics, 0, 2 * sizeof(nics[0]));
	snprintf(nics[0].nic, sizeof(nics[0].nic), "eth0");
	(void)cyris_mac_parse("52:54:00:00:00:05", nics[0].mac);
	(void)cyris_prefix_parse("10.9.0.5/24", true, &nics[0].addr);
	(void)cyris_ip_parse("10.9.0.1", &nics[0].gateway);
	snprintf(nics[1].nic, sizeof(nics[1].nic), "eth1");
	(void)cyris_mac_parse("52:54:00:00:01:05", nics[1].mac);
	memset(s, 0, sizeof(*s));
	s->instance_id = "web1-1700000000";
	s->hostname = "web1";
	s->ssh_keys = keys;
	s->n_ssh_keys = 2;
	s->nics = nics;
	s->n_nics = 2;
}

static void test_seed_files(void)
{
	struct cyris_guest_nic nics[2];
	struct cyris_seed s;
	char *meta = NULL, *user = NULL, *net = NULL;
	yaml_document_t d;

	seed_spec(&s, nics);
	is_int(cyris_seed_files(&s, &meta, &user, &net), 0, "the seed's files are written");
	if (!meta || !user || !net) {
		free(meta);
		free(user);
		free(net);
		return;
	}
	ok(yload(meta, &d), "meta-data is YAML");
	is_str(ystr(&d, "instance-id"), "web1-1700000000", "instance-id");
	is_str(ystr(&d, "local-hostname"), "web1", "local-hostname");
	yaml_document_delete(&d);

	ok(strncmp(user, "#cloud-config\n", 14) == 0, "user-data begins with #cloud-config");
	ok(yload(user, &d), "user-data is YAML");
	is_str(ystr(&d, "hostname"), "web1", "hostname");
	is_str(ystr(&d, "ssh_authorized_keys.0"), key1, "a key with quotes, colons, # and braces comes back exactly");
	is_str(ystr(&d, "ssh_authorized_keys.1"), key2, "the second key");
	ok(!yget(&d, "ssh_authorized_keys.2"), "and no third");
	is_str(ystr(&d, "ssh_pwauth"), "false", "password logins off");
	yaml_document_delete(&d);

	ok(yload(net, &d), "network-config is YAML");
	is_str(ystr(&d, "version"), "2", "version 2");
	is_str(ystr(&d, "ethernets.eth0.match.macaddress"), "52:54:00:00:00:05", "eth0 matched by MAC");
	ok(yquoted(&d, "ethernets.eth0.match.macaddress"),
	   "the MAC is quoted (YAML 1.1 would read 52:54:00:... as a sexagesimal number)");
	is_str(ystr(&d, "ethernets.eth0.set-name"), "eth0", "named eth0");
	is_str(ystr(&d, "ethernets.eth0.addresses.0"), "10.9.0.5/24", "static address");
	is_str(ystr(&d, "ethernets.eth0.gateway4"), "10.9.0.1", "the gateway");
	ok(!yget(&d, "ethernets.eth0.dhcp4"), "no DHCP on eth0");
	is_str(ystr(&d, "ethernets.eth1.dhcp4"), "true", "eth1 without an address: DHCP");
	yaml_document_delete(&d);
	free(meta);
	free(user);
	free(net);

	s.hostname = "";
	is_int(cyris_seed_files(&s, &meta, &user, &net), -EINVAL, "a seed needs a hostname");
}

static void test_seed_iso(void)
{
	struct cyris_guest_nic nics[2];
	struct cyris_seed s;
	unsigned char *iso = NULL;
	size_t len = 0;

	seed_spec(&s, nics);
	is_int(cyris_seed_iso(&s, &iso, &len), 0, "the seed ISO is written in memory");
	if (!iso)
		return;
	ok(len >= 18 * 2048 && len % 2048 == 0, "%zu bytes, whole 2 KiB sectors", len);
	ok(iso[0x8000] == 1 && memcmp(iso + 0x8001, "CD001", 5) == 0,
	   "a primary volume descriptor at sector 16");
	ok(memcmp(iso + 0x8028, "cidata  ", 8) == 0, "volume id 'cidata' (lower case, as cloud-init looks for it)");
	ok(memmem(iso, len, "RRIP_1991A", 10) || memmem(iso, len, "IEEE_1282", 9),
	   "Rock Ridge extensions (an ER entry)");
	ok(memmem(iso, len, key2, strlen(key2)) != NULL, "user-data is in it");
	ok(memmem(iso, len, "local-hostname: \"web1\"", 22) != NULL, "meta-data is in it");
	free(iso);
}

/* libvirt's (state, reason) and cyris's tag -> the data model's status */
static void test_status(void)
{
	struct vm_meta m = { .state = VM_STATE_READY };
	struct vm_meta creating = { .state = VM_STATE_CREATING };
	struct vm_meta destroying = { .state = VM_STATE_DESTROYING };

	is_str(cyris_vm_status_str(vm_status_of(VIR_DOMAIN_RUNNING, 0, &m, true)), "running", "running");
	is_str(cyris_vm_status_str(vm_status_of(VIR_DOMAIN_BLOCKED, 0, &m, true)), "running", "blocked: running");
	is_str(cyris_vm_status_str(vm_status_of(VIR_DOMAIN_SHUTDOWN, 0, &m, true)), "running",
	       "shutting down: still running");
	is_str(cyris_vm_status_str(vm_status_of(VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_SHUTDOWN, &m, true)),
	       "stopped", "shut off after a shutdown: stopped");
	is_str(cyris_vm_status_str(vm_status_of(VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_CRASHED, &m, true)),
	       "failed", "shut off after a crash: failed");
	is_str(cyris_vm_status_str(vm_status_of(VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_FAILED, &m, true)),
	       "failed", "failed to start: failed");
	is_str(cyris_vm_status_str(vm_status_of(VIR_DOMAIN_CRASHED, 0, &m, true)), "failed", "crashed: failed");
	is_str(cyris_vm_status_str(vm_status_of(VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_IOERROR, &m, true)),
	       "failed", "paused on an I/O error: failed");
	is_str(cyris_vm_status_str(vm_status_of(VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_USER, &m, true)),
	       "running", "paused by a user: running");
	is_str(cyris_vm_status_str(vm_status_of(VIR_DOMAIN_SHUTOFF, 0, &creating, true)), "creating",
	       "tagged creating: creating");
	is_str(cyris_vm_status_str(vm_status_of(VIR_DOMAIN_RUNNING, 0, &destroying, true)), "destroying",
	       "tagged destroying: destroying");
	is_str(cyris_vm_status_str(vm_status_of(VIR_DOMAIN_SHUTOFF, 0, &creating, false)), "stopped",
	       "a foreign domain's state alone counts");
}

int main(void)
{
	test_status();
	test_names();
	test_macs();
	test_seed_files();
	test_seed_iso();
	return done();
}
