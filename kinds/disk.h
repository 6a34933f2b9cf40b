/*
 * Layer: kinds, above lun.h, place.h and host.h (which it calls); below
 * instance.c, instances.c, reconcile.c and the wire format (wire.c)
 * (docs/HACKING.md, "Layers").
 *
 * An instance's root disk (docs/storage.md, "Instance disks"): a LUN on a
 * storage host (lun.h), made there from the instance's image by the
 * storage host (a reflink where its filesystem shares extents), served
 * to the instance's hypervisor over iSCSI like a volume, and to the tree
 * as instances/NAME/disk. It outlives the hypervisor: an instance placed
 * anew boots from the same disk.
 *
 * Contract
 * --------
 * - Every function expects the model's write lock (or the read lock where
 *   it says so), like the rest of the model.
 * - The LUN hangs off the instance's struct vdc_place (place.h); its live
 *   values are "disk-host", "disk-chap", "disk-restore", and "disk-local"
 *   for an instance first started while no storage host had joined: its
 *   disk stays on its hypervisor (a qcow2 layer over the image, as before
 *   storage hosts held disks) and `disk` reads empty.
 */
#ifndef VDC_DISK_H
#define VDC_DISK_H

#include <stdbool.h>
#include <stdint.h>

#include "model.h"
#include "strbuf.h"

/* The disk kind's block entry points (model.h): instances/NAME/disk. */
extern const struct vdc_block_ops vdc_disk_block;

/* The disk's size in bytes: disk-size, else the image's (0: neither is known). */
uint64_t vdc_disk_size(const struct vdc_obj *inst);

/* The check of disk-size (write lock). */
int vdc_disk_check_size(const struct vdc_obj *inst, const char *text, size_t len, struct vdc_err *err);

/* image or disk-size of `inst` changed: place the disk, or grow it. */
void vdc_disk_changed(struct vdc_obj *inst, unsigned attr);

/*
 * `inst` was powered on (or off): its guest may write the disk, so the
 * next open of `disk` drops the kernel's cached pages, even if no open
 * happened while the guest ran (a tar x wrote the bytes, the guest
 * booted, changed them and stopped, then the disk is read).
 */
void vdc_disk_guest_may_write(struct vdc_obj *inst);

/* Take the disk's next step: placement on a storage host once it has something to hold. */
void vdc_disk_reconcile(struct vdc_obj *inst);

/*
 * The instance is about to be placed on a hypervisor (power on): 0 when
 * its disk is placed on a storage host or stays on the hypervisor (no
 * storage host has joined), else -ENOSPC with the sentence.
 */
int vdc_disk_for_start(struct vdc_obj *inst, struct vdc_err *err);

/*
 * The disk's failure for run/err of an instance that is on: 0, or
 * -EIO with its storage host's sentence.
 */
int vdc_disk_failed(const struct vdc_obj *inst, struct vdc_err *err);

/* May the instance move to another hypervisor with its disk? false with the sentence (EINVAL) when not. */
bool vdc_disk_movable(const struct vdc_obj *inst, struct vdc_err *err);
/* The storage host its disk is on; "" when none. */
const char *vdc_disk_host_name(const struct vdc_obj *inst);

/* The instance moved to another hypervisor (or none): its storage host re-ACLs the target. */
void vdc_disk_moved(struct vdc_obj *inst);

/* The disk as the instance's hypervisor is told; false: none (a local disk). Read lock. */
struct vdc_inst_disk_desired {
	struct vdc_block_ep ep;
	char serial[24];
	uint64_t size;
	bool ready;                     /* made and available on its storage host */
};
bool vdc_disk_desired(const struct vdc_obj *inst, struct vdc_inst_disk_desired *out);

/*
 * instances/NAME/snapshots/SNAP: snapshots of the disk, taken by its
 * storage host as a volume's (lun.h), and `rollback SNAP` in ctl. The
 * hooks of the snapshots kind: one is made only of a disk on a storage
 * host (-EAGAIN with the sentence otherwise); its storage host hears of
 * each one made, renamed or removed; one is not removed while the disk is
 * being restored from it (-EBUSY).
 */
int vdc_disk_snapshot_may_make(const struct vdc_kind *kind, struct vdc_obj *inst, const struct vdc_obj *snap,
			       const char *name, uid_t *uid, gid_t *gid, struct vdc_err *err);
void vdc_disk_snapshot_changed(struct vdc_obj *snap);
void vdc_disk_snapshot_renamed(struct vdc_obj *snap, const char *old);
int vdc_disk_snapshot_busy(const struct vdc_obj *snap, struct vdc_err *err);
/*
 * `rollback SNAP`: ask the storage host to copy snapshot SNAP back into
 * the disk, while the instance is off and stopped: 0, or -EINVAL (no
 * name), -ENOENT (no such snapshot), -EBUSY (the instance is on or its
 * hypervisor still holds it), -EAGAIN (no disk on a storage host, the
 * snapshot not available) with the sentence.
 */
int vdc_disk_verb_rollback(struct vdc_obj *inst, const char *args, size_t len, struct vdc_err *err);

/* Hooks of the instances kind (instances.c calls them from its own). */
void vdc_disk_created(struct vdc_obj *inst);
bool vdc_disk_live_loaded(struct vdc_obj *inst, const char *name, const char *value);
void vdc_disk_destroyed(struct vdc_obj *inst);
void vdc_disk_release(struct vdc_obj *inst);

/* run/disk-host and run/progress of an instance. */
void vdc_disk_show_host(const struct vdc_obj *inst, struct strbuf *out);
void vdc_disk_show_progress(const struct vdc_obj *inst, struct strbuf *out);

#endif
