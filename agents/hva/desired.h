/*
 * The desired state of a hypervisor host, as vdcfs answers
 * GET /v1/hosts/NAME/desired (docs/agent-protocol.md), parsed and checked.
 *
 * Nothing from the answer reaches a path, a domain XML, a seed or an argv
 * unchecked: names are object names ([a-z0-9-]), checksums hex, MACs
 * MACs, host names host names, and user text is UTF-8 without control
 * characters. An instance entry that fails a check keeps its id and
 * domain (so it can be reported) and carries the reason in `err`; it is
 * not acted on. An entry without a usable id or domain is dropped.
 */
#ifndef VDC_HVA_DESIRED_H
#define VDC_HVA_DESIRED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "image.h"                /* struct vdc_image_spec, shared with vdc-sta */
#include "vdc_limits.h"
#include "validate.h"

/* The limits vdcfs enforces first, at write(2) (backend/limits.h). */
#define HVA_HOSTNAME_MAX VDC_HOSTNAME_MAX
#define HVA_USER_DATA_MAX VDC_USER_DATA_MAX
#define HVA_SSH_KEY_MAX VDC_SSH_KEY_MAX
#define HVA_SSH_KEYS_MAX VDC_SSH_KEYS_MAX
#define HVA_NICS_MAX VDC_NICS_MAX
#define HVA_CPUS_MAX VDC_CPUS_MAX
#define HVA_MEMORY_MIB_MIN (VDC_MEMORY_MIN >> 20)
#define HVA_MEMORY_MIB_MAX (VDC_MEMORY_MAX >> 20)
#define HVA_VOLUMES_MAX VDC_INSTANCE_VOLUMES_MAX
#define HVA_GROUPS_MAX VDC_INSTANCE_GROUPS_MAX
#define HVA_NETWORKS_MAX VDC_HOST_NETWORKS_MAX
#define HVA_HOST_NICS_MAX VDC_HOST_NICS_MAX   /* nics on networks, over the document */

#define HVA_DC_MAX 64
#define HVA_HEARTBEAT_MAX 3600
#define HVA_IQN_MAX 223                  /* RFC 3720's limit */
#define HVA_PORTAL_HOST_MAX 253
#define HVA_CHAP_USER_MAX 64
#define HVA_CHAP_SECRET_MAX 64           /* hex digits */
#define HVA_SERIAL_MAX 20                /* virtio-blk's serial field */
#define HVA_LUN_MAX 16383
#define HVA_PEERS_MAX 4096
#define HVA_REMOTE_MAX VDC_NETWORK_NICS_MAX
#define HVA_DOC_GROUPS_MAX VDC_HOST_GROUPS_MAX   /* security groups in one host's document */
#define HVA_MEMBERS_MAX VDC_GROUP_MEMBERS_MAX
#define HVA_DNS_MAX VDC_DNS_MAX
#define HVA_NIC_ID_MAX 99999999999ull      /* vdcnID fits a 15-character name */
#define HVA_MIG_URI_MAX 255                /* a destination libvirtd's URI */
#define HVA_PEM_MAX 16384                  /* each of the pki's PEM texts */

/* A guest's nic on another host, as the VXLAN device's forwarding database needs it. */
struct hva_remote_nic {
	char mac[18];
	uint32_t ip;                     /* host order; 0: none yet */
	uint32_t peer;                   /* the underlay address of its host */
};

/*
 * A virtual network this host carries (docs/networks.md). Addresses are
 * in host order. An entry that fails a check keeps its name and carries
 * the reason in `err`; the instances with a nic on it are not started.
 */
struct hva_network_spec {
	char name[VDC_NAME_MAX + 1];
	uint32_t vni;                    /* 1..16777215 */
	uint32_t net;
	unsigned prefix;                 /* 8..30 */
	uint32_t gateway;                /* a host address of the network */
	bool dhcp;
	uint32_t dns[HVA_DNS_MAX];
	size_t n_dns;
	uint32_t server;                 /* the DHCP server address on every host's bridge */
	char server_mac[18];             /* the bridges' MAC */
	uint32_t *peers;                 /* underlay addresses of the other hosts with members */
	size_t n_peers;
	struct hva_remote_nic *remote;
	size_t n_remote;
	char err[VDC_ERR_MSG_MAX];
	unsigned mtu;                    /* not sent: this host's, set by the worker (0: not known) */
};

/*
 * A security group: its rules, parsed with vdcfs's own parser
 * (backend/validate.h), and the addresses of its members, for the rules
 * of other groups that name it (sg:NAME).
 */
struct hva_group_spec {
	char name[VDC_NAME_MAX + 1];
	struct vdc_rule *rules;
	size_t n_rules;
	uint32_t *members;
	size_t n_members;
	char err[VDC_ERR_MSG_MAX];       /* non-empty: its rules were refused */
};

struct hva_nic_spec {
	uint64_t id;                     /* names its tap: vdcnID */
	char name[VDC_NAME_MAX + 1];     /* eth0 */
	char mac[18];                    /* 52:54:00:00:00:0c, lowercase */
	char network[VDC_NAME_MAX + 1];  /* may be empty: qemu's user-mode network */
	uint32_t ip;                     /* host order; 0: none (yet) */
	const struct hva_network_spec *net;   /* the entry of `network`, or NULL */
};

/*
 * A volume linked from an instance (docs/storage.md): an iSCSI LUN the
 * instance gets as a virtio disk. Every field is checked: the iqn holds
 * only [a-z0-9.:-], the portal is ADDR:PORT (an IPv4 address, a host
 * name, or [IPv6]), the CHAP secret is hex, and the serial is
 * "vdc-vol-ID", which is how a disk is told to be this volume when it is
 * read back from a domain. An instance's root disk (`root`) is checked
 * the same way, with the serial "vdc-disk-ID".
 */
struct hva_volume_spec {
	uint64_t id;
	bool root;                            /* an instance's root disk, not a volume */
	char name[VDC_NAME_MAX + 1];
	char link[VDC_NAME_MAX + 1];          /* the link's name under instances/N/volumes */
	char host[HVA_PORTAL_HOST_MAX + 1];   /* the portal's address, without brackets */
	unsigned port;
	char iqn[HVA_IQN_MAX + 1];
	unsigned lun;
	char chap_user[HVA_CHAP_USER_MAX + 1];
	char chap_secret[HVA_CHAP_SECRET_MAX + 1];
	uint64_t size;                        /* bytes */
	char serial[HVA_SERIAL_MAX + 1];      /* vdc-vol-ID */
};

/*
 * An instance's root disk on a storage host (docs/storage.md, issue 13):
 * an iSCSI LUN reached as a volume is (`vol`, with `root` set, its name
 * the instance's, no link), booted from instead of a local overlay of the
 * image. Its CHAP secret is 32 hex digits and its serial "vdc-disk-ID".
 * `ready` false: the storage host has not made it yet (or is not up), so
 * a stopped domain is not started; a running one is left as it is.
 */
#define HVA_DISK_SECRET_LEN 32
struct hva_disk_spec {
	bool present;                         /* false: a local overlay of the image, as before */
	bool ready;
	struct hva_volume_spec vol;
};

/*
 * "migrate" of an instance entry on its (source) host: attempt `seq`
 * (a counter, as reboot) of a live migration to host `to`, whose libvirtd
 * is `uri` (qemu+tls://HOST[:PORT]/system, nothing after the path: the
 * agent adds ?pkipath=) and whose underlay address `address` takes qemu's
 * migration stream. `initiator`, when sent, is the destination's iSCSI
 * name: the domain arrives there logging in to its disk and volumes as
 * that host, not as this one.
 */
struct hva_migrate_spec {
	bool present;
	uint64_t seq;
	char to[VDC_NAME_MAX + 1];
	char uri[HVA_MIG_URI_MAX + 1];
	uint32_t address;                     /* host order */
	char initiator[HVA_IQN_MAX + 1];      /* "": not sent (the domain keeps this host's) */
};

/* "incoming" of an entry on the destination: the source's underlay address. */
struct hva_incoming_spec {
	bool present;
	uint32_t from;                        /* host order */
};

/*
 * "pki" of the document: the data center's CA, this host's certificate
 * and its key, PEM text each (checked: printable ASCII and newlines, the
 * BEGIN line of its kind, at most HVA_PEM_MAX bytes). Absent: the agent
 * keeps what it has. A malformed one is not used and `err` says why.
 */
struct hva_pki_spec {
	bool present;
	char *ca, *cert, *key;                /* NUL-terminated when present */
	char err[VDC_ERR_MSG_MAX];
};

struct hva_instance_spec {
	uint64_t id;
	char name[VDC_NAME_MAX + 1];
	char domain[VDC_NAME_MAX + 1];
	bool power_on;
	unsigned cpus;
	uint64_t memory_mib;
	char hostname[HVA_HOSTNAME_MAX + 1];  /* the name when vdcfs sent none */
	char *user_data;                      /* NUL-terminated, never NULL */
	size_t user_data_len;
	char **ssh_keys;
	size_t n_ssh_keys;
	struct vdc_image_spec image;
	struct hva_nic_spec *nics;
	size_t n_nics;
	uint64_t reboot, reset;
	struct hva_volume_spec *volumes;      /* in the order of their ids */
	size_t n_volumes;
	struct hva_disk_spec disk;            /* the root disk on a storage host, when present */
	char (*groups)[VDC_NAME_MAX + 1];     /* the security groups it is in */
	size_t n_groups;
	struct hva_migrate_spec migrate;      /* source: never started or stopped here while present */
	struct hva_incoming_spec incoming;    /* destination: prepared, never started or stopped here */
	char err[VDC_ERR_MSG_MAX];            /* non-empty: malformed, not acted on */
};

struct hva_desired {
	uint64_t rev;
	char dc[HVA_DC_MAX + 1];
	unsigned heartbeat;                   /* 0 when the server named none */
	char initiator[HVA_IQN_MAX + 1];      /* this host's iSCSI IQN; empty when not sent */
	struct hva_instance_spec *inst;
	size_t n;
	struct hva_network_spec *networks;
	size_t n_networks;
	struct hva_group_spec *groups;
	size_t n_groups;
	struct hva_pki_spec pki;
};

/*
 * Parse the JSON text `json`/`len` into `d`. Fails (-EINVAL) only when
 * the document as a whole is unusable: not an object, no rev, no dc, no
 * instance list. Release `d` with hva_desired_release() either way.
 */
int hva_desired_parse(const char *json, size_t len, struct hva_desired *d, struct vdc_err *err);

/* The same, from a parsed jansson object (a json_t *). */
int hva_desired_from_json(const void *json, struct hva_desired *d, struct vdc_err *err);

void hva_desired_release(struct hva_desired *d);

/* The entry of instance `domain`, or NULL. */
const struct hva_instance_spec *hva_desired_find(const struct hva_desired *d, const char *domain);

/* The network or group called `name`, or NULL. */
const struct hva_network_spec *hva_network_find(const struct hva_desired *d, const char *name);
const struct hva_group_spec *hva_group_find(const struct hva_desired *d, const char *name);

/*
 * Why instance `in` cannot be started on its networks: a nic names a
 * network the desired state does not carry (it does not exist or has no
 * cidr), or a malformed one. 0, or -EINVAL with the sentence.
 */
int hva_instance_networks_ok(const struct hva_instance_spec *in, struct vdc_err *err);

/* The volume `id` of `in`, or NULL. */
const struct hva_volume_spec *hva_volume_find(const struct hva_instance_spec *in, uint64_t id);

/* Check an iSCSI name: "iqn." and then [a-z0-9.:-], at most HVA_IQN_MAX. */
int hva_iqn_check(const char *s, size_t len, struct vdc_err *err);

/*
 * Check a destination libvirtd's URI: "qemu+tls://" HOST [":" PORT]
 * "/system", HOST an IPv4 address or a host name; nothing else (no query:
 * the agent adds its own).
 */
int hva_mig_uri_check(const char *s, size_t len, struct vdc_err *err);

/* Check PEM text `what` ("ca", "cert", "key"): its kind's BEGIN line, printable ASCII and newlines. */
int hva_pem_check(const char *what, const char *s, size_t len, struct vdc_err *err);

/* Check a MAC address "xx:xx:xx:xx:xx:xx" (unicast) and write it lowercase to `out`. */
int hva_mac_parse(const char *s, char out[18], struct vdc_err *err);

#endif
