/*
 * Layer: reconcile/report, above the kinds (host, place, network,
 * instance, volume) and below the agent server (agentd.c) and the front
 * end. It receives what agents report and what the operator does to a
 * host, records it through host.c and fans it out to the kinds; nothing
 * below calls it (docs/HACKING.md, "Layers").
 *
 * Contract
 * --------
 * - Every function expects the model's write lock, like the rest of the
 *   model.
 * - Each is level-triggered like the reconcilers it calls: safe after any
 *   change, or twice.
 */
#ifndef VDC_RECONCILE_H
#define VDC_RECONCILE_H

#include "host.h"

struct vdc_doc_sta_vol;   /* agent_doc.h: a storage host's report, parsed and checked */

/*
 * A hypervisor's report was accepted: record it (facts set by the
 * caller), then reconcile the instances placed on the host, those
 * waiting for room, and the volumes.
 */
void vdc_host_report(struct vdc_obj *host, const struct vdc_report_inst *insts, size_t n);
/*
 * A storage host's report was accepted (facts set by the caller): the
 * host turns up first, so what turns available is told to hypervisors,
 * then its `n` volumes (the report's list) are recorded and reconciled.
 */
void vdc_host_report_sta(struct vdc_obj *host, const struct vdc_doc_sta_vol *vols, size_t n);

/* Heartbeats: turn silent hosts unknown, and their instances and volumes with them. Call about once a second. */
void vdc_hosts_tick(void);

/* Kind hooks of hosts (kinds/hosts.c) that move or reconcile the instances on them. */
int vdc_host_verb_evacuate(struct vdc_obj *host, const char *args, size_t len, struct vdc_err *err);
void vdc_host_changed(struct vdc_obj *host, unsigned attr);
/*
 * rmdir of a host: with no instances, or unknown, which is the operator
 * declaring it gone. Its instances are then placed anew.
 */
void vdc_host_destroyed(struct vdc_obj *host);

#endif
