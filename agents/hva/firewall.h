/*
 * Security groups and anti-spoofing on a hypervisor host, with nftables
 * through libnftables (docs/networks.md has the whole design).
 *
 * The ruleset of a data center is two tables named vdc_DC (DC the data
 * center id, '-' as '_'), one of family bridge and one of family inet,
 * made by a pure function of the desired state (hva_fw_script; golden
 * files in tests/unit/golden/hva-fw-*.nft) and loaded in one transaction,
 * so a packet sees the old ruleset or the new one, never a mix and never
 * none. Conntrack entries live outside the ruleset: a change keeps every
 * established flow.
 *
 *   bridge vdc_DC  (before br_netfilter)
 *     ports_in    prerouting -300: a frame from a guest's tap goes through
 *                 its anti-spoofing chain (from_TAP: its MAC, its address,
 *                 ARP of its own; DHCP from 0.0.0.0; nothing else, no
 *                 IPv6), which marks it with the tap's slot; a frame from
 *                 a VXLAN device is marked as coming from another host; a
 *                 frame from any other vdcn* tap is dropped
 *     ports_out   forward -200: a frame to a guest's tap gets the tap's
 *                 slot in its mark (to_TAP); DHCP never goes to another
 *                 host; a frame to an unknown vdcn* tap is dropped
 *     host_in, host_out   input and output -200: the host's own stack
 *                 sends nothing to and takes nothing from the VXLAN
 *                 devices (each host's DHCP server serves its own guests)
 *   inet vdc_DC  (br_netfilter hands bridged IPv4 to these hooks)
 *     zones       prerouting -300: one conntrack zone per network
 *     guests      forward 0: egress rules of the sending tap (out_TAP,
 *                 when its groups have `out` rules), then ingress rules
 *                 of the receiving tap (in_TAP: established and related
 *                 traffic, then the `in` rules, else drop); routed traffic
 *                 into or out of a network bridge is dropped
 *     host_in     input 0: guests reach only the host's DHCP server; VXLAN
 *                 comes only from the peers of this host's networks; while
 *                 an instance arrives live (an entry with "incoming"),
 *                 qemu's migration ports (HVA_MIG_PORT_MIN..MAX) take new
 *                 connections only from the sources' addresses
 *
 * The mark (meta mark) of a bridged packet: bit 31 set by this ruleset,
 * bits 16-30 the sending tap's slot, bits 0-15 the receiving tap's slot;
 * slots number the local nics in the order of their ids.
 *
 * Both tables carry the comment "vdc-hva SHA256" of the script: an agent
 * that starts finds the ruleset it would load already there and loads
 * nothing, so a restart changes no rule.
 */
#ifndef VDC_HVA_FIREWALL_H
#define VDC_HVA_FIREWALL_H

#include "desired.h"
#include "err.h"
#include "strbuf.h"

/* qemu's incoming migration ports: libvirt's default migration_port_min..max (qemu.conf). */
#define HVA_MIG_PORT_MIN 49152
#define HVA_MIG_PORT_MAX 49215

/* At most this many local nics: a slot has 15 bits. */
#define HVA_FW_SLOTS_MAX 32767

struct hva_fw {
	void *nft;                 /* struct nft_ctx *, private */
	char applied[65];          /* the digest of the ruleset loaded; "" when not known */
};

/*
 * The ruleset of desired state `d` into `out` (pure): both tables, with
 * the comment holding `digest` (the SHA-256 of the ruleset without it,
 * 65 bytes) unless `digest` is NULL. -E2BIG with the sentence when there
 * are more local nics than slots.
 */
int hva_fw_script(const struct hva_desired *d, const char *digest, struct strbuf *out, struct vdc_err *err);

/* The name of a data center's tables, vdc_DC, into `out` (HVA_DC_MAX + 5 bytes). */
void hva_fw_table_name(const char *dc, char *out, size_t n);

int hva_fw_init(struct hva_fw *fw, struct vdc_err *err);
void hva_fw_release(struct hva_fw *fw);

/*
 * Make the kernel's ruleset of `d`'s data center the one of `d`: nothing
 * when it is already (by digest), else the whole of it in one
 * transaction. With no local nic on a network and no instance arriving
 * live, the tables are removed.
 * Needs br_netfilter (bridge-nf-call-iptables is turned on); -ENOTSUP
 * with the sentence without it.
 */
int hva_fw_sync(struct hva_fw *fw, const struct hva_desired *d, struct vdc_err *err);

#endif
