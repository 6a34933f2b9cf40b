/*
 * Layer: kinds, above instance.h, disk.h, place.h and host.h (which it
 * calls); below instances.c (the verb), reconcile.c (reports, evacuate)
 * and the wire format (wire.c) (docs/HACKING.md, "Layers").
 *
 * Moving an instance between hypervisors (docs/storage.md, "Moving").
 * Its disk and volumes are LUNs on storage hosts, so only the guest moves:
 * a stopped instance at once (cold: placed anew on the other host), a
 * running one by libvirt's live migration, in steps that each survive a
 * restart of vdcfs or of either agent:
 *
 *   1. `migrate` picks the destination, reserves the instance's room there
 *      and puts it in the destination's desired state as "incoming"; the
 *      disk's and volumes' ACLs let both hypervisors in; run/state says
 *      `migrating`.
 *   2. The destination reports it "incoming" (networks, secrets ready):
 *      the source is told "migrate" (attempt seq) and starts libvirt's
 *      peer-to-peer live migration; run/progress shows its progress.
 *   3. The source reports the attempt carried out: "migrated" (the domain
 *      left it) places the instance on the destination; anything else
 *      keeps it on the source with the reason in run/err and an event.
 *
 * Contract
 * --------
 * - Every function expects the model's write lock (the read lock where it
 *   says so), like the rest of the model.
 * - The state is placement's (place.h: migrate_to, migrate_seq,
 *   migrate_go, persisted); this file decides the steps.
 */
#ifndef VDC_MIGRATE_H
#define VDC_MIGRATE_H

#include <stdbool.h>
#include <stdint.h>

#include "model.h"
#include "strbuf.h"

/* ctl's `migrate [HOST]` of an instance: cold while stopped, live while running. */
int vdc_migrate_verb(struct vdc_obj *obj, const char *args, size_t len, struct vdc_err *err);

/*
 * Move running instance `obj` live to host `want` ("" lets the scheduler
 * pick among the other hypervisors): step 1 above. evacuate uses it too.
 */
int vdc_migrate_live(struct vdc_obj *obj, const char *want, struct vdc_err *err);

/*
 * The instance's host was removed (rmdir of an unknown host; its placement
 * already cleared): a live migration under way ends, and if its
 * destination reports the domain running there, the move had happened:
 * it is placed there (true). Else (false) it is placed anew like the
 * host's other instances.
 */
bool vdc_migrate_source_removed(struct vdc_obj *obj);

/* Reports arrived (or a host went silent): take the next step of every migration under way. */
void vdc_migrations_reconcile(void);

/*
 * run/progress of an instance: its migration's, else its disk's and,
 * while it starts, what its hypervisor reports (the fetch of its image)
 * (read lock).
 */
void vdc_migrate_show_progress(const struct vdc_obj *obj, struct strbuf *out);

/* What a hypervisor is told of a migration (read lock): see docs/agent-protocol.md. */
struct vdc_migrate_desired {
	uint64_t seq;                   /* the attempt */
	const char *to;                 /* the destination's name */
	char uri[64];                   /* "qemu+tls://ADDRESS/system" */
	char address[16];               /* the destination's underlay address */
	char initiator[VDC_IQN_MAX];    /* the destination's iSCSI initiator: its guest logs in as it */
};
/* The source's "migrate" of instance `obj`: false while there is none to carry out. */
bool vdc_migrate_desired(const struct vdc_obj *obj, struct vdc_migrate_desired *out);
/* The source's address for the "incoming" of `obj` (16 bytes), "" when it has none. */
void vdc_migrate_incoming_from(const struct vdc_obj *obj, char from[16]);

#endif
