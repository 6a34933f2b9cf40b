/*
 * Layer: kinds, above host.h and place.h (which it calls); below
 * instance.c, reconcile.c, the wire format (wire.c) and the agent server
 * (docs/HACKING.md, "Layers").
 *
 * Virtual networks on the vdcfs side (docs/networks.md): each network's
 * overlay id (VNI) and DHCP server address, the address and MAC of every
 * nic, security-group membership, and the part of a hypervisor host's
 * desired state that tells its agent what to build.
 *
 * Contract
 * --------
 * - Every function expects the model's write lock, like the rest of the
 *   model; the show and desired-state functions need only the read lock.
 * - A network's obj->priv is a `struct vdc_net`, a nic's a `struct
 *   vdc_nic`: both are live state, derived from the tree and persisted
 *   only as live values (a network's "vni", a nic's "ip"), so an export of
 *   the tree carries none of it and an import chooses them anew.
 * - Addresses. A nic whose `network` links a network that exists and has
 *   a cidr holds one address of it: its pinned `ip` when it has one, else
 *   the lowest free host address. Never the network or broadcast address,
 *   the gateway or the DHCP server address; never one another nic of the
 *   network holds. A nic keeps its address across power off and on and
 *   across restarts of vdcfs until it is removed or unlinked, or the
 *   address stops being valid in its network (its cidr or gateway
 *   changed), and then takes the next free one.
 * - auto-ip: the address vdcfs chose for a nic that pins none, written
 *   down (so tar, cp -r and rsync carry it). Nics of powered-on instances
 *   are served first. A nic without an address (new, restored, moved)
 *   takes its auto-ip when it is free, else the lowest free address that
 *   no nic has as its auto-ip; a write of auto-ip (unless a guest may run
 *   with the address: vdc_nic_in_guest), or its instance's power on,
 *   moves it there if free. One that another nic holds stays written
 *   while the instance is off (the nic has another; run/err says why): a
 *   copy reads as its original. On, the nic's own is written down.
 * - Pinned addresses are checked when written (EINVAL outside the cidr or
 *   on a reserved address, EADDRINUSE when another nic holds it), and
 *   again when the network changes: a cidr that would leave a pinned
 *   address outside it, or a gateway on a pinned address, is refused.
 * - Every change that can alter what a hypervisor builds (an address, a
 *   link, a rule, a group member, an instance moving to another host, a
 *   host's underlay address) bumps the desired state of every host: see
 *   vdc_network_touched().
 */
#ifndef VDC_NETWORK_H
#define VDC_NETWORK_H

#include <stdbool.h>
#include <stdint.h>

#include "model.h"

/*
 * The attributes the tables of networks/NAME/ (kinds/networks.c), of
 * instances/NAME/nics/NIC/ (kinds/instances.c) and of
 * security-groups/NAME/ (kinds/security_groups.c) are indexed by, whose
 * behaviour is network.c's (kind_ids.h says why).
 */
enum vdc_network_attr {
	VDC_NETWORK_CIDR,
	VDC_NETWORK_GATEWAY,
	VDC_NETWORK_DHCP,
	VDC_NETWORK_DNS,
	VDC_NETWORK_NATTRS
};

/* instances/NAME/nics/NIC/ */
enum vdc_nic_attr {
	VDC_NIC_NETWORK,
	VDC_NIC_IP,
	VDC_NIC_AUTO_IP,
	VDC_NIC_MAC,
	VDC_NIC_NATTRS
};

/* security-groups/NAME/ */
enum vdc_group_attr {
	VDC_GROUP_RULES,
	VDC_GROUP_NATTRS
};

#define VDC_VNI_MAX 16777215u

/* A network's live state. */
struct vdc_net {
	uint32_t vni;                   /* the VXLAN id, 1..VDC_VNI_MAX; persisted as "vni" */
	struct vdc_obj **nics;          /* the nics whose network link names it */
	unsigned n, alloc;
};

/* A nic's live state. */
struct vdc_nic {
	struct vdc_obj *net;            /* the network it is on, or NULL */
	uint32_t addr;                  /* its address, host order; 0: none; persisted as "ip" */
	uint64_t mac;                   /* the MAC it has (nic_mac.c); 0: not settled yet; persisted as "mac" */
	bool moving;                    /* may leave the address it has for its auto-ip (network_assign) */
};

/*
 * The addresses a network with cidr `net`/`prefix` and `gateway` (0: the
 * default, the first host address) keeps for itself: the effective
 * gateway and the DHCP server's address, the highest host address that
 * is not the gateway. Pure; exposed for the unit tests.
 */
void vdc_network_reserved(uint32_t net, unsigned prefix, uint32_t gateway, uint32_t *gw_out,
			  uint32_t *server_out);

/* The cidr of a network (its attribute); -ENOENT when it has none. */
int vdc_network_cidr(const struct vdc_obj *net, uint32_t *addr, unsigned *prefix);

/*
 * Checks of the networks kind (kinds/networks.c) that depend on the nics:
 * may network `net` take the cidr `addr`/`prefix` (with its gateway), or
 * the gateway `gw`? 0, or a negative errno with the sentence.
 */
int vdc_network_check_cidr(const struct vdc_obj *net, uint32_t addr, unsigned prefix, struct vdc_err *err);
int vdc_network_check_gateway(const struct vdc_obj *net, uint32_t gw, struct vdc_err *err);

/* Hooks of the networks kind. */
void vdc_network_created(struct vdc_obj *net);
void vdc_network_loaded(struct vdc_obj *net);
void vdc_network_live_loaded(struct vdc_obj *net, const char *name, const char *value);
void vdc_network_changed(struct vdc_obj *net, unsigned attr);
void vdc_network_renamed(struct vdc_obj *net, const char *old);
void vdc_network_release(struct vdc_obj *net);
/* The kind's all_loaded: every network's addresses worked out once the tree is loaded. */
void vdc_networks_all_loaded(const struct vdc_kind *networks);

/* run/ of a network: `vni` and `dhcp-server`; run/state is defined or available. */
void vdc_network_show_vni(const struct vdc_obj *net, struct strbuf *out);
void vdc_network_show_dhcp_server(const struct vdc_obj *net, struct strbuf *out);

/*
 * The checks of a nic: its `ip` (empty, or an address the nic may pin in
 * the network it links), and its `network` link (the network must leave
 * the pinned address free).
 */
int vdc_nic_check_ip(const struct vdc_obj *nic, const char *v, size_t len, struct vdc_err *err);
int vdc_nic_check_network(const struct vdc_obj *nic, const char *tname, size_t len, struct vdc_err *err);
/* auto-ip: empty, or a host address of the network other than its gateway and DHCP server (EINVAL, EADDRINUSE). */
int vdc_nic_check_auto_ip(const struct vdc_obj *nic, const char *v, size_t len, struct vdc_err *err);
/*
 * The instance was powered on: each nic takes the MAC (vdc_nic_mac_power_on)
 * and the auto-ip it wants, if free or held by a nic of an instance
 * powered off (which moves); else it writes down what it has.
 */
void vdc_nics_power_on(struct vdc_obj *inst);

/* Hooks of the nics kind. */
void vdc_nic_changed(struct vdc_obj *nic, unsigned attr);
void vdc_nic_destroyed(struct vdc_obj *nic);
void vdc_nic_live_loaded(struct vdc_obj *nic, const char *name, const char *value);
void vdc_nic_release(struct vdc_obj *nic);

/* run/ of a nic: its address and its MAC. */
void vdc_nic_show_ip(const struct vdc_obj *nic, struct strbuf *out);
void vdc_nic_show_mac(const struct vdc_obj *nic, struct strbuf *out);
/* The MAC a nic has (run/mac, what hypervisors are told), "52:54:00:0a:0b:0c" (18 bytes). */
void vdc_nic_mac(const struct vdc_obj *nic, char out[18]);

/*
 * MACs (kinds/nic_mac.c, below network.c: it calls nothing of it;
 * docs/networks.md "MACs and addresses"). A nic's `mac` is the
 * MAC it wants, written down when it is made; it has that one unless
 * another nic of the data center has it, and then keeps one of its own
 * (run/err says why) until its instance is next powered on with the
 * wanted one free. No two nics of the data center ever have one MAC. A
 * write under a guest that may run (vdc_nic_in_guest) applies at the
 * next power on.
 * - check_mac: empty, or a unicast MAC outside 52:54:01:* (the bridges')
 *   (EINVAL).
 * - created, mac_changed: settle the MAC (a new nic's is written down).
 * - mac_loaded: its live "mac"; all_loaded: a nic made before MACs were
 *   written down keeps the one from its id and writes it down.
 * - mac_power_on: the nic of an instance powered on takes its MAC if free
 *   (or held by a nic of an instance powered off, which moves), else
 *   writes down the one it has.
 */
int vdc_nic_check_mac(const struct vdc_obj *nic, const char *v, size_t len, struct vdc_err *err);
void vdc_nic_created(struct vdc_obj *nic);
void vdc_nic_mac_changed(struct vdc_obj *nic);
void vdc_nic_mac_loaded(struct vdc_obj *nic, const char *value);
void vdc_nics_mac_all_loaded(void);
void vdc_nic_mac_power_on(struct vdc_obj *nic);
/* Is the instance of `nic` powered on (its guest may run with what the nic has)? */
bool vdc_nic_powered_on(const struct vdc_obj *nic);
/*
 * Powered on and placed on a host: a guest may run with the nic's MAC
 * and address (its hypervisor defines the domain with what the desired
 * state says then), so a write moves them only at the next power on.
 */
bool vdc_nic_in_guest(const struct vdc_obj *nic);

/* An instance was loaded or is about to be removed: its nics join or leave their networks. */
void vdc_nics_loaded(struct vdc_obj *inst);
void vdc_nics_instance_destroyed(struct vdc_obj *inst);
/* An instance's security-groups/ changed. */
void vdc_network_rel_changed(struct vdc_obj *inst, unsigned dir);
/* Does the instance take part in networks or security groups (nics on a network, groups)? */
bool vdc_instance_networked(const struct vdc_obj *inst);
/* run/ip of an instance: the address of its first nic (by name) that has one. */
void vdc_instance_show_ip(const struct vdc_obj *inst, struct strbuf *out);

/* Hooks of the security-groups kind: rules changed, a group made or removed. */
void vdc_group_changed(struct vdc_obj *group, unsigned attr);
void vdc_group_created(struct vdc_obj *group);
void vdc_group_destroyed(struct vdc_obj *group);

/*
 * Something hypervisors build from changed: bump the desired state of
 * every host. Every host, not only those that carry the network or group:
 * working out which ones would cost as much as rendering them, and an
 * agent whose state did not change does nothing with the new revision.
 */
void vdc_network_touched(void);

/*
 * The desired state's parts (docs/agent-protocol.md), as plain structs
 * that wire.c renders (read lock held; names point into the model and
 * live as long as the lock): a nic's entry, the groups an instance is in,
 * and the networks and security groups of hypervisor host `host`.
 */
struct vdc_nic_desired {
	int64_t id;
	const char *name;
	char mac[18];
	const char *network;                    /* the network's name; NULL: none */
	char ip[VDC_IPV4_TEXT];                 /* "": none */
};
void vdc_nic_desired_get(const struct vdc_obj *nic, struct vdc_nic_desired *out);
/* The names of the groups `inst` is in, `*n` of them, in its order (the caller frees the list). */
const char **vdc_instance_groups(const struct vdc_obj *inst, size_t *n);

/* A nic of the network on another hypervisor. */
struct vdc_net_remote {
	char mac[18];
	char ip[VDC_IPV4_TEXT];                 /* "": none */
	const char *peer;                       /* its host's underlay address */
};

struct vdc_net_desired {
	const char *name;
	uint32_t vni;
	char cidr[VDC_IPV4_TEXT + 4], gateway[VDC_IPV4_TEXT];
	bool dhcp;
	char dns[VDC_DNS_MAX][VDC_IPV4_TEXT];
	size_t ndns;
	char server[VDC_IPV4_TEXT], server_mac[18];
	const char **peers;                     /* the other hosts' underlay addresses, each once */
	size_t npeers;
	struct vdc_net_remote *remote;
	size_t nremote;
};

struct vdc_group_desired {
	char name[VDC_NAME_MAX + 1];
	const char *rules;                      /* its rules' text, rules_len bytes */
	size_t rules_len;
	char (*members)[VDC_IPV4_TEXT];         /* the addresses of its instances' nics */
	size_t nmembers;
};

/* The networks the host's instances are on, and their groups and the groups their rules name. */
struct vdc_network_desired {
	struct vdc_net_desired *nets;
	size_t nnets;
	struct vdc_group_desired *groups;
	size_t ngroups;
};
void vdc_network_desired_get(struct vdc_obj *host, struct vdc_network_desired *out);
void vdc_network_desired_release(struct vdc_network_desired *d);

#endif
