/*
 * The links of virtual networks on a hypervisor host, made with libnl
 * (rtnetlink), never with `ip` or `brctl` (docs/networks.md).
 *
 * Each virtual network a host carries is one bridge and one VXLAN device
 * enslaved to it; the guests' taps are enslaved by libvirt:
 *
 *     vdcbVNI   the bridge: MAC `server_mac`, the network's MTU, up; with
 *               the DHCP server address as a /32 when the network has
 *               DHCP (no connected route: the host routes nothing into
 *               or out of a virtual network); IPv6 off, IPv4 forwarding
 *               off and arp_ignore=1 on it
 *     vdcxVNI   VXLAN id VNI, local = this host's underlay address,
 *               UDP port `port`, no learning, the bridge's port, up;
 *               its forwarding database holds one all-zero entry per
 *               peer host (head-end replication of broadcast, unknown
 *               unicast and multicast) and one entry per guest MAC on
 *               another host
 *
 * Ownership: every link this module makes carries the alias
 * (IFLA_IFALIAS) "vdc:DC:net:NAME". Only links whose alias starts with
 * "vdc:DC:" are ever changed or removed; a link of the same name without
 * it (another data center's, an operator's) makes the network fail with
 * -EEXIST rather than be touched. The one exception is a link with no
 * alias at all that is exactly what this module makes (a bridge with the
 * network's MAC; a VXLAN device with its VNI, port and local address): an
 * agent killed between making a link and naming it leaves one, and it is
 * taken back.
 *
 * Level-triggered: hva_net_sync() looks at what exists and changes only
 * what differs, so running it twice, or after a restart of the agent,
 * changes nothing the second time (no link is recreated, no FDB entry is
 * removed and added again). A link that exists with settings that cannot
 * be changed in place (a VXLAN device with another VNI, local address or
 * port) is replaced.
 *
 * Every function returns 0 or a negative errno with the sentence in
 * `err`. Nothing here is thread-safe: the reconcile worker owns it.
 */
#ifndef VDC_HVA_NETDEV_H
#define VDC_HVA_NETDEV_H

#include <inttypes.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"
#include "validate.h"

/* The VXLAN UDP port (IANA). */
#define HVA_VXLAN_PORT 4789
/* What VXLAN over IPv4 adds to a frame: outer IP, UDP, VXLAN and Ethernet headers. */
#define HVA_VXLAN_OVERHEAD 50
#define HVA_VNI_MAX 16777215u

/* One FDB entry of a VXLAN device: frames for `mac` go to host `dst`. */
struct hva_fdb_entry {
	unsigned char mac[6];         /* all zero: the flood entry of a peer */
	uint32_t dst;                 /* the peer's underlay address, host order */
};

/* What one virtual network needs on this host. */
struct hva_netdev_want {
	char name[VDC_NAME_MAX + 1];  /* the network's name, for the alias and sentences */
	uint32_t vni;                 /* 1..HVA_VNI_MAX */
	unsigned char server_mac[6];  /* the bridge's MAC (the same on every host) */
	uint32_t server;              /* the DHCP server address (host order); 0: none on the bridge */
	uint32_t local;               /* this host's underlay address, host order */
	uint16_t port;                /* the VXLAN UDP port */
	unsigned mtu;                 /* of the bridge and the VXLAN device */
	const struct hva_fdb_entry *fdb;   /* every entry the VXLAN device must hold */
	size_t n_fdb;
};

struct hva_net;

/*
 * The device names of network `vni` and of the tap of nic `nic_id`
 * (inline: the domain XML and the firewall, which are pure, name them too).
 */
static inline void hva_net_bridge_name(uint32_t vni, char out[IFNAMSIZ])
{
	snprintf(out, IFNAMSIZ, "vdcb%" PRIu32, vni);
}

static inline void hva_net_vxlan_name(uint32_t vni, char out[IFNAMSIZ])
{
	snprintf(out, IFNAMSIZ, "vdcx%" PRIu32, vni);
}

static inline void hva_net_tap_name(uint64_t nic_id, char out[IFNAMSIZ])
{
	snprintf(out, IFNAMSIZ, "vdcn%" PRIu64, nic_id);
}

/* Open a route netlink socket in the agent's network namespace. */
int hva_net_open(struct hva_net **out, struct vdc_err *err);
void hva_net_close(struct hva_net *n);

/*
 * Make the bridge and VXLAN device of `want` exist as described above,
 * up, with exactly its FDB entries (entries of other MACs or peers are
 * removed; entries the kernel made itself, such as the device's own, are
 * left). `dc` is the data center id of the aliases.
 */
int hva_net_sync(struct hva_net *n, const char *dc, const struct hva_netdev_want *want,
		 struct vdc_err *err);

/*
 * Remove the bridges and VXLAN devices of data center `dc` whose VNI is
 * not among `keep` (n_keep of them). A bridge that still has ports other
 * than its VXLAN device (a guest's tap) is left until the next call, and
 * -EBUSY says so. The first failure is returned; the others are logged.
 */
int hva_net_prune(struct hva_net *n, const char *dc, const uint32_t *keep, size_t n_keep,
		  struct vdc_err *err);

/*
 * The MTU of the link that holds the IPv4 address `addr` (host order),
 * into `*mtu`; -ENOENT when no link of this namespace holds it.
 */
int hva_net_addr_mtu(struct hva_net *n, uint32_t addr, unsigned *mtu, struct vdc_err *err);

#endif
