/*
 * Volumes of a hypervisor's instances (docs/storage.md, docs/vdc-hva.md):
 * iSCSI LUNs that qemu reaches itself (its libiscsi driver) as this
 * host's initiator, with CHAP secrets kept in libvirt secrets of usage
 * "vdc-vol-ID". An instance's root disk on a storage host is reached the
 * same way (its secret "vdc-disk-ID"); it is defined with the domain,
 * never plugged or unplugged, and grown as a volume is.
 *
 * The worker owns a `struct hva_volumes` and calls, on each pass:
 *
 *     hva_volumes_pass_begin()
 *     hva_volumes_for_define()   before it defines a domain to start it
 *     hva_volumes_sync()         for each defined domain of a valid instance
 *     hva_volumes_pass_end()     secrets no volume of this host uses go
 *
 * What a domain has is read back from its XML every time (the disks whose
 * serial is "vdc-vol-ID"), never remembered: after an agent restart a
 * volume that is attached is seen attached and never plugged twice.
 */
#ifndef VDC_HVA_VOLUME_H
#define VDC_HVA_VOLUME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libvirt/libvirt.h>

#include "desired.h"
#include "domain_xml.h"
#include "err.h"

enum hva_vol_state {
	HVA_VOL_NONE,        /* not on the domain yet (nothing is reported) */
	HVA_VOL_ATTACHED,
	HVA_VOL_DETACHING,   /* no longer wanted; the guest has not let go yet */
	HVA_VOL_ERROR,       /* `err` says why */
};

/* What the report says of one volume of one instance. */
struct hva_vol_status {
	uint64_t inst_id, vol_id;
	enum hva_vol_state state;
	char err[VDC_ERR_MSG_MAX];
};

/* "attached", "detaching", "error", or NULL for HVA_VOL_NONE. */
const char *hva_vol_state_word(enum hva_vol_state s);

struct hva_vol_track;
struct hva_vol_secret;

/* A volume or an instance's root disk, by id: their secrets are apart ("vdc-vol-ID", "vdc-disk-ID"). */
struct hva_vol_key {
	uint64_t id;
	bool root;
};

struct hva_volumes {
	struct hva_vol_track *t;       /* one per (instance, volume or root disk) seen */
	size_t n;
	struct hva_vol_secret *secrets;   /* the values set by this agent run */
	size_t n_secrets;
	struct hva_vol_key *in_use;    /* this pass: volumes and disks wanted or still on a domain */
	size_t n_in_use;
	long wake;                     /* ms (CLOCK_MONOTONIC) to look again; 0: none */
};

void hva_volumes_release(struct hva_volumes *v);

void hva_volumes_pass_begin(struct hva_volumes *v);

/*
 * Before instance `in` is defined to start: the secret of each of its
 * volumes and of its root disk (when it has one), and the volumes'
 * devices (`*out`, freed by the caller), keeping the device each has in
 * `dom`'s current definition (NULL: none).
 */
int hva_volumes_for_define(struct hva_volumes *v, virConnectPtr conn, virDomainPtr dom,
			   const struct hva_instance_spec *in, struct hva_volume_disk **out,
			   struct vdc_err *err);

/*
 * Make the defined domain `dom` of instance `in` hold exactly its volumes:
 * hot-plug (running) or add to the persistent definition (stopped) the
 * missing ones, unplug the ones no longer wanted, grow the ones whose
 * size grew, and grow its running root disk likewise. `supported`: the
 * driver attaches volumes at all.
 */
void hva_volumes_sync(struct hva_volumes *v, virConnectPtr conn, virDomainPtr dom,
		      const struct hva_instance_spec *in, const char *initiator, bool supported);

/*
 * End of a pass: forget the volumes of instances not seen, and remove the
 * libvirt secrets (only "vdc-vol-*" and "vdc-disk-*") of volumes and root
 * disks neither `d` wants nor a domain still has.
 */
void hva_volumes_pass_end(struct hva_volumes *v, virConnectPtr conn, const struct hva_desired *d);

/* The statuses to report, into `*out` (freed by the caller). */
size_t hva_volumes_status(const struct hva_volumes *v, struct hva_vol_status **out);

#endif
