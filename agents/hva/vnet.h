/*
 * The virtual networks of this host in the reconcile loop: each pass,
 * before the instances, the links (network.h), the DHCP servers (dhcp.h)
 * and the ruleset (firewall.h) are made to match the desired state; after
 * the instances, what no desired instance needs any more goes. Owned by
 * the worker thread.
 */
#ifndef VDC_HVA_VNET_H
#define VDC_HVA_VNET_H

#include <stdint.h>

#include "desired.h"
#include "err.h"
#include "firewall.h"
#include "netdev.h"

/* What went wrong with one network in the last pass. */
struct hva_vnet_err {
	uint32_t vni;
	char msg[VDC_ERR_MSG_MAX];
};

struct hva_vnets {
	uint32_t underlay;            /* this host's VXLAN address, host order */
	struct hva_net *nl;           /* NULL until a network is first wanted */
	struct hva_fw fw;
	bool fw_ready;
	unsigned mtu;                 /* of the guests' links: the underlay's less VXLAN's headers */
	struct hva_vnet_err *errs;    /* from the last pass */
	size_t n_errs;
	char fw_err[VDC_ERR_MSG_MAX];   /* non-empty: the ruleset could not be loaded */
	long retry_at;                /* ms; 0: no retry due */
};

void hva_vnets_init(struct hva_vnets *v, uint32_t underlay);
void hva_vnets_release(struct hva_vnets *v);

/*
 * Before the instances of a pass: links, DHCP and the ruleset for `d`.
 * Sets the MTU of `d`'s networks (the domain XML and the seeds use it).
 * Failures are kept per network (and for the ruleset) and retried.
 */
void hva_vnets_pass(struct hva_vnets *v, const char *statedir, const char *dc, struct hva_desired *d);

/* After the instances: the networks and DHCP servers no instance of `d` needs go. */
void hva_vnets_prune(struct hva_vnets *v, const char *statedir, const struct hva_desired *d);

/*
 * May instance `in` run here as far as its networks go? 0, or -EINVAL
 * (a network is missing or malformed) or the errno of a failed network
 * or ruleset, with the sentence.
 */
int hva_vnets_instance_ok(const struct hva_vnets *v, const struct hva_instance_spec *in, struct vdc_err *err);

/* Does `in` have a nic on a virtual network? */
bool hva_instance_on_vnet(const struct hva_instance_spec *in);

#endif
