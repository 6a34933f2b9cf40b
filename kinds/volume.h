/*
 * Layer: kinds, the highest: above host.h, place.h and instance.h (which
 * it calls); below reconcile.c, the wire format (wire.c) and the agent
 * server (docs/HACKING.md, "Layers").
 *
 * Volumes on storage hosts (docs/storage.md): placement on a storage host,
 * the states, snapshots, restores, attachment to instances, and what the
 * data path needs to reach a volume's target.
 */
#ifndef VDC_VOLUME_H
#define VDC_VOLUME_H

#include <stdbool.h>
#include <stdint.h>

#include "lun.h"
#include "model.h"

/*
 * volumes/NAME/: the attributes its table (kinds/volumes.c) is indexed
 * by (kind_ids.h says why).
 */
enum vdc_volume_attr {
	VDC_VOLUME_SIZE,
	VDC_VOLUME_SOURCE,
	VDC_VOLUME_NATTRS
};
enum vdc_volume_childdir {
	VDC_VOLUME_SNAPSHOTS,
	VDC_VOLUME_NCHILDDIRS
};

/*
 * The words of a volume's (and a volume snapshot's) run/state, named by
 * constants as instance.h's; a snapshot is only creating, available or
 * error.
 */
enum vdc_volume_state {
	VDC_VSTATE_DEFINED,
	VDC_VSTATE_UNSCHEDULABLE,
	VDC_VSTATE_CREATING,
	VDC_VSTATE_AVAILABLE,
	VDC_VSTATE_ATTACHED,
	VDC_VSTATE_ERROR,
	VDC_VSTATE_UNKNOWN,
	VDC_VSTATE_COUNT
};

/* Is volume or snapshot `obj` in state `s`? */
bool vdc_volume_is(const struct vdc_obj *obj, enum vdc_volume_state s);

struct vdc_doc_sta_vol;

/* The volume kind's block entry points (model.h), kinds/volumes.c's table points at them. */
extern const struct vdc_block_ops vdc_volume_block;

/*
 * The endpoint of `vol` (model lock held, read is enough): 0, or -EAGAIN
 * with the sentence when the volume is not available on a storage host,
 * or while the host has not yet made it the smaller size it was given.
 */
int vdc_volume_endpoint(const struct vdc_obj *vol, struct vdc_block_ep *ep, struct vdc_err *err);
/* Is `vol` placed on a storage host that exists? Unplaced, it holds no bytes. */
bool vdc_volume_placed(const struct vdc_obj *vol);
/* 0 when `vol` may be written through data now, else -EBUSY with the sentence. */
int vdc_volume_writable(const struct vdc_obj *vol, struct vdc_err *err);
/*
 * The refusal of bytes written to a volume on no storage host (they would
 * have nowhere to go): -EAGAIN and the sentence for run/err.
 */
int vdc_volume_no_host(const struct vdc_obj *vol, struct vdc_err *err);
/*
 * May an open of data keep the kernel's cached pages (write lock held)?
 * Only while nothing but vdcfs could have written the volume since the
 * last open: no restore, no guest.
 */
bool vdc_volume_cache_ok(struct vdc_obj *vol);
/* run/progress of a copy through data (write lock held); NULL clears. */
void vdc_volume_set_progress(struct vdc_obj *vol, const char *text);

/* The name of its target (docs/storage.md). */
void vdc_volume_iqn(const struct vdc_obj *vol, char *out, size_t n);
uint64_t vdc_volume_size(const struct vdc_obj *vol);
/* Bytes its storage host last reported allocated (the file's blocks). */
uint64_t vdc_volume_allocated(const struct vdc_obj *vol);
/* The instance that links `vol`, or NULL. */
struct vdc_obj *vdc_volume_instance(const struct vdc_obj *vol);
/* Copy snapshot `snap` into `vol` (rollback, source); 0 or -errno with the sentence. */
int vdc_volume_restore(struct vdc_obj *vol, struct vdc_obj *snap, struct vdc_err *err);
/* Take the next step for every volume (after a report, a link, a timeout). */
void vdc_volumes_reconcile_all(void);

/* A volume as the hypervisor of the instance that links it is told. */
struct vdc_inst_vol_desired {
	int64_t id;
	const char *name;
	const char *link;                       /* the link's name in the instance's volumes/ */
	struct vdc_block_ep ep;
	char serial[24];
};
/* The volumes `inst` may attach now, `*n` of them (the caller frees the list). */
struct vdc_inst_vol_desired *vdc_instance_volumes(const struct vdc_obj *inst, size_t *n);
/* Hooks of the volumes and snapshots kinds (kinds/volumes.c) and of instances. */
int vdc_volume_check_size(const struct vdc_obj *vol, const char *text, size_t len, struct vdc_err *err);
int vdc_volume_check_source(const struct vdc_obj *vol, const char *tname, size_t len, struct vdc_err *err);
void vdc_volume_changed(struct vdc_obj *vol, unsigned attr);
void vdc_volume_created(struct vdc_obj *vol);
void vdc_volume_loaded(struct vdc_obj *vol);
void vdc_volume_live_loaded(struct vdc_obj *vol, const char *name, const char *value);
int vdc_volume_busy(const struct vdc_obj *vol, struct vdc_err *err);
void vdc_volume_destroyed(struct vdc_obj *vol);
void vdc_volume_renamed(struct vdc_obj *vol, const char *old);
void vdc_volume_release(struct vdc_obj *vol);
int vdc_volume_verb_rollback(struct vdc_obj *vol, const char *args, size_t len, struct vdc_err *err);
void vdc_volume_show_host(const struct vdc_obj *vol, struct strbuf *out);
void vdc_volume_show_target(const struct vdc_obj *vol, struct strbuf *out);
void vdc_volume_show_progress(const struct vdc_obj *vol, struct strbuf *out);
void vdc_snapshot_created(struct vdc_obj *snap);
int vdc_snapshot_busy(const struct vdc_obj *snap, struct vdc_err *err);
void vdc_snapshot_destroyed(struct vdc_obj *snap);
int vdc_volume_rel_check(const struct vdc_obj *inst, unsigned dir, const char *tname, struct vdc_err *err);
void vdc_volumes_rel_changed(struct vdc_obj *inst, unsigned dir);
/*
 * A guest may write the volumes `inst` links (it was powered on, or a
 * volume linked): the next open of each one's data drops the kernel's
 * cached pages, even if no open happened while the guest ran.
 */
void vdc_volumes_guest_may_write(struct vdc_obj *inst);

#endif
