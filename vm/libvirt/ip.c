/* SPDX-License-Identifier: MIT */
/*
 * A guest's address, from the first source that knows it: libvirt's DHCP
 * leases, the QEMU guest agent, libvirt's ARP source, and last cyris's own
 * netlink lookup of the guest's MAC in the neighbour table of its bridge
 * (with the bridge port from the FDB). The last one needs no help from the
 * guest or from libvirt, and works where libvirt's ARP source does not.
 */
#include <arpa/inet.h>
#include <net/if.h>

#include "cyris/link.h"
#include "cyris/neigh.h"
#include "cyris/nl.h"
#include "vm-priv.h"

static bool usable(const struct cyris_ip *ip)
{
	if (ip->family == AF_INET)
		return ip->a[0] != 127 && !(ip->a[0] == 169 && ip->a[1] == 254);
	if (ip->family == AF_INET6)
		return !(ip->a[0] == 0xfe && (ip->a[1] & 0xc0) == 0x80) &&
		       !(ip->a[0] == 0 && ip->a[15] == 1 && ip->a[14] == 0);
	return false;
}

/* The best address libvirt reported for the NIC with @mac: IPv4 first. */
static bool pick_iface(virDomainInterfacePtr *ifs, int n, const uint8_t mac[6],
		       struct cyris_vm_addr *ret)
{
	int family, i;
	unsigned j;

	for (family = AF_INET; family; family = family == AF_INET ? AF_INET6 : 0) {
		for (i = 0; i < n; i++) {
			uint8_t m[6];

			if (!ifs[i]->hwaddr || cyris_mac_parse(ifs[i]->hwaddr, m) < 0 ||
			    memcmp(m, mac, 6) != 0)
				continue;
			for (j = 0; j < ifs[i]->naddrs; j++) {
				const virDomainIPAddress *a = &ifs[i]->addrs[j];
				struct cyris_ip ip;

				if ((a->type == VIR_IP_ADDR_TYPE_IPV4) != (family == AF_INET) ||
				    !a->addr || cyris_ip_parse(a->addr, &ip) < 0 || !usable(&ip))
					continue;
				ret->ip = ip;
				ret->prefix = a->prefix;
				memcpy(ret->mac, mac, 6);
				return true;
			}
		}
	}
	return false;
}

/* One of libvirt's sources. 0 found, -EADDRNOTAVAIL not found. */
static int from_libvirt(struct cyris_virt *v, virDomainPtr dom, unsigned src,
			const struct vm_dominfo *d, struct cyris_vm_addr *ret)
{
	virDomainInterfacePtr *ifs = NULL;
	int n, i, r = -EADDRNOTAVAIL;
	size_t k;

	n = virDomainInterfaceAddresses(dom, &ifs, src, 0);
	if (n < 0) {
		/* no agent, no lease, libvirt's ARP reader failing: not found */
		virResetLastError();
		return -EADDRNOTAVAIL;
	}
	for (k = 0; k < d->n_nics && r < 0; k++)
		if (pick_iface(ifs, n, d->nics[k].mac, ret))
			r = 0;
	for (i = 0; i < n; i++)
		virDomainInterfaceFree(ifs[i]);
	free(ifs);
	(void)v;
	return r;
}

/* The host bridge a NIC is plugged into. */
static int nic_bridge(struct cyris_virt *v, const struct cyris_vm_nic *nic,
		      char *buf, size_t size)
{
	virNetworkPtr net;
	char *br;

	if (!nic->network)
		return cyris_strlcpy(buf, nic->source, size) < 0 ? -ENAMETOOLONG : 0;
	net = virNetworkLookupByName(v->conn, nic->source);
	br = net ? virNetworkGetBridgeName(net) : NULL;
	if (net)
		virNetworkFree(net);
	if (!br) {
		virResetLastError();
		return -ENOENT;
	}
	snprintf(buf, size, "%s", br);
	free(br);
	return 0;
}

/* The bridge port behind which @mac was learned, "" when it was not. */
static void fdb_port(struct cyris_nl *nl, int bridge, const uint8_t mac[6],
		     char port[CYRIS_IFNAMSIZ])
{
	struct cyris_fdb_list fdb = {0};
	struct cyris_link l = {0};
	size_t i;

	port[0] = '\0';
	if (cyris_fdb_list(nl, bridge, &fdb) < 0)
		return;
	for (i = 0; i < fdb.n; i++) {
		if (memcmp(fdb.v[i].mac, mac, 6) != 0 || fdb.v[i].ifindex == bridge)
			continue;
		if (cyris_link_get_index(nl, fdb.v[i].ifindex, &l) == 0) {
			snprintf(port, CYRIS_IFNAMSIZ, "%s", l.name);
			cyris_link_clear(&l);
		}
		break;
	}
	cyris_fdb_list_free(&fdb);
}

static int from_neigh(struct cyris_virt *v, const struct vm_dominfo *d,
		      struct cyris_vm_addr *ret)
{
	struct cyris_nl *nl = NULL;
	size_t k;
	int r;

	if (!virt_local(v))
		return -EADDRNOTAVAIL;
	r = cyris_nl_open(&nl, v->netns);
	if (r < 0)
		return virt_error(v, r, "netns %s: %s", v->netns[0] ? v->netns : "(own)",
				  strerror(-r));
	r = -EADDRNOTAVAIL;
	for (k = 0; k < d->n_nics && r < 0; k++) {
		struct cyris_link br = {0};
		struct cyris_neigh n;

		if (nic_bridge(v, &d->nics[k], ret->bridge, sizeof(ret->bridge)) < 0 ||
		    cyris_link_get(nl, ret->bridge, &br) < 0)
			continue;
		if (cyris_neigh_find_mac(nl, d->nics[k].mac, br.ifindex, &n) == 0 &&
		    usable(&n.ip)) {
			ret->ip = n.ip;
			memcpy(ret->mac, d->nics[k].mac, 6);
			fdb_port(nl, br.ifindex, d->nics[k].mac, ret->port);
			r = 0;
		}
		cyris_link_clear(&br);
	}
	if (r < 0)
		ret->bridge[0] = '\0';
	cyris_nl_close(nl);
	return r;
}

static const struct {
	unsigned bit;
	const char *name;
	int libvirt;            /* virDomainInterfaceAddressesSource, -1: ours */
} sources[] = {
	{ CYRIS_IP_LEASE, "lease", VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE },
	{ CYRIS_IP_AGENT, "agent", VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT },
	{ CYRIS_IP_ARP, "arp", VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_ARP },
	{ CYRIS_IP_NEIGH, "neigh", -1 },
};

static int ip_dom(struct cyris_virt *v, virDomainPtr dom, unsigned which,
		  struct cyris_vm_addr *ret)
{
	_cleanup_free_ struct vm_dominfo *d = calloc(1, sizeof(*d));
	char *xml = NULL;
	size_t i;
	int r;

	if (!d)
		return -ENOMEM;
	if (virDomainIsActive(dom) != 1)
		return virt_error(v, -EADDRNOTAVAIL, "domain '%s' is not running",
				  virDomainGetName(dom));
	VIRT_TRY(v, (xml = virDomainGetXMLDesc(dom, 0)) != NULL);
	if (!xml)
		return virt_fail(v);
	r = vm_domain_parse(xml, d);
	free(xml);
	if (r < 0)
		return r;
	for (i = 0; i < ARRAY_SIZE(sources); i++) {
		if (!(which & sources[i].bit))
			continue;
		memset(ret, 0, sizeof(*ret));
		if (sources[i].libvirt >= 0)
			r = from_libvirt(v, dom, (unsigned)sources[i].libvirt, d, ret);
		else
			r = from_neigh(v, d, ret);
		if (r == 0) {
			snprintf(ret->source, sizeof(ret->source), "%s", sources[i].name);
			return 0;
		}
		if (r != -EADDRNOTAVAIL)
			return r;
	}
	return virt_error(v, -EADDRNOTAVAIL, "no address known for '%s' yet",
			  virDomainGetName(dom));
}

int cyris_vm_ip(struct cyris_virt *v, const char *name, unsigned sources_mask,
		struct cyris_vm_addr *ret)
{
	virDomainPtr dom;
	int r;

	r = virt_begin(v, name, &dom);
	if (r < 0)
		return r;
	r = ip_dom(v, dom, sources_mask ? sources_mask : CYRIS_IP_ALL, ret);
	virDomainFree(dom);
	return r;
}

int cyris_vm_wait_ip(struct cyris_virt *v, const char *name, unsigned sources_mask,
		     unsigned timeout_ms, cyris_vm_progress_fn progress,
		     void *userdata, struct cyris_vm_addr *ret)
{
	uint64_t start = virt_now_ms(), now;
	virDomainPtr dom;
	int r;

	r = virt_begin(v, name, &dom);
	if (r < 0)
		return r;
	for (;;) {
		r = ip_dom(v, dom, sources_mask ? sources_mask : CYRIS_IP_ALL, ret);
		if (r != -EADDRNOTAVAIL)
			break;
		if (virDomainIsActive(dom) != 1) {
			r = virt_error(v, -ESHUTDOWN, "domain '%s' is not running", name);
			break;
		}
		now = virt_now_ms();
		if (now - start >= timeout_ms) {
			r = virt_error(v, -ETIMEDOUT, "no address for '%s' after %u s", name,
				       timeout_ms / 1000);
			break;
		}
		if (progress)
			progress(userdata, (unsigned)(now - start), timeout_ms);
		virt_sleep_ms(250);
	}
	virDomainFree(dom);
	return r;
}
