/*
 * Instances' root disks on storage hosts (docs/storage.md, "Instance
 * disks"). The disk is a LUN (lun.c) whose object is the instance: this
 * file says when it is placed (once it has something to hold: an image
 * linked, a size written, or the instance started), how large it is, who
 * may log in (the instance's hypervisor), what the storage host makes it
 * from (the image), and what the tree and the hypervisor see of it.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent_doc.h"
#include "disk.h"
#include "host.h"
#include "instance.h"
#include "lun.h"
#include "place.h"
#include "validate.h"
#include "vdc_limits.h"
#include "wire_doc.h"

static const struct vdc_lun_ops disk_lun_ops;
/* place() writes disk-size down: its changed hook must not take that for a grow. */
static bool placing;

static struct vdc_lun *lun_of(const struct vdc_obj *inst)
{
	struct vdc_place *p = vdc_place_of((struct vdc_obj *)inst);

	if (!p->disk)
		p->disk = vdc_lun_new((struct vdc_obj *)inst, &disk_lun_ops);
	return p->disk;
}

/* ---- the image it is made from ---- */

/* What the image's header says: the disk it makes (bytes), or that it is a container's tree. */
struct image_layout {
	uint64_t size;                  /* virtual size: of the qcow2 disk, else of the file */
	bool tar;                       /* a root file system (lxc), not a disk */
};

static bool image_layout(const struct vdc_obj *image, struct image_layout *out)
{
	__do_strbuf struct strbuf path = STRBUF_INIT;
	unsigned char hdr[512];
	struct stat st;
	ssize_t n;
	int fd;

	memset(out, 0, sizeof(*out));
	vdc_obj_data_path(image, &path);
	fd = open(path.buf, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return false;
	}
	n = pread(fd, hdr, sizeof(hdr), 0);
	close(fd);
	out->size = (uint64_t)st.st_size;
	if (n >= 32 && !memcmp(hdr, "QFI\xfb", 4)) {
		unsigned i;

		out->size = 0;
		for (i = 24; i < 32; i++)
			out->size = out->size << 8 | hdr[i];
	} else if (n == (ssize_t)sizeof(hdr) && !memcmp(hdr + 257, "ustar", 5)) {
		out->tar = true;
	}
	return out->size > 0;
}

/* The linked image a disk would be made from, or NULL (none, missing, a tree, empty). */
static struct vdc_obj *disk_image(const struct vdc_obj *inst, struct image_layout *layout)
{
	struct vdc_link *l = inst->attrs[VDC_INSTANCE_IMAGE].link;
	struct vdc_obj *img = l ? vdc_link_target(l) : NULL;

	if (!img || !image_layout(img, layout) || layout->tar)
		return NULL;
	return img;
}

static uint64_t mib_up(uint64_t bytes)
{
	return (bytes + (1ULL << 20) - 1) & ~((1ULL << 20) - 1);
}

/* The size written in disk-size; 0 when empty. */
static uint64_t size_written(const struct vdc_obj *inst)
{
	uint64_t bytes = 0;
	size_t len;
	const char *v = vdc_attr_value(inst, VDC_INSTANCE_DISK_SIZE, &len);

	if (len)
		vdc_size_parse(v, len, "disk-size", &bytes, NULL);
	return bytes;
}

uint64_t vdc_disk_size(const struct vdc_obj *inst)
{
	struct image_layout layout;
	uint64_t bytes = size_written(inst);

	if (bytes)
		return bytes;
	return disk_image(inst, &layout) ? mib_up(layout.size) : 0;
}

/* ---- the instance's side ---- */

/* May a guest write the disk now: is the instance on, or does its hypervisor still hold it? */
static bool in_use(const struct vdc_obj *inst)
{
	const struct vdc_seen *s = vdc_seen_of(inst);
	size_t len;
	const char *v = vdc_attr_value(inst, VDC_INSTANCE_POWER, &len);
	bool on = false;

	vdc_onoff_parse(v, len, "power", &on, NULL);
	return on || (s && strcmp(s->state, VDC_WIRE_INST_STOPPED) && strcmp(s->state, VDC_WIRE_STATE_ERROR));
}

static struct vdc_obj *disk_host(const struct vdc_obj *inst)
{
	return vdc_lun_host(lun_of(inst));
}

/* ---- placement ---- */

/* Place the disk on the storage host with the most room: 0, 1 when no storage host has joined, or -ENOSPC. */
static int place(struct vdc_obj *inst, struct vdc_err *err)
{
	struct vdc_lun *lun = lun_of(inst);
	uint64_t size = vdc_disk_size(inst);
	struct vdc_obj *host;
	bool any_sta;
	int rc;

	if (lun->host[0] || vdc_place_of(inst)->disk_local)
		return 0;
	if (!size_written(inst)) {
		char text[32];

		/* The size it will be written down as must pass disk-size's checks (the owner's quota). */
		snprintf(text, sizeof(text), "%" PRIu64 "M", size >> 20);
		rc = vdc_attr_check(inst, VDC_INSTANCE_DISK_SIZE, text, strlen(text), err);
		if (rc < 0)
			return rc;
	}
	host = vdc_lun_pick_host(size, NULL, &any_sta, err);
	if (!any_sta)
		return 1;
	if (!host) {
		struct vdc_err why = *err;

		return vdc_err_set(err, -ENOSPC, "its disk has no storage host: %s", why.msg);
	}
	rc = vdc_lun_place(lun, host, err);
	if (rc < 0)
		return rc;
	if (!size_written(inst)) {
		char text[32];
		struct vdc_err ignored = VDC_ERR_INIT;

		/* The image's size, written down: the disk keeps it whatever the image becomes. */
		snprintf(text, sizeof(text), "%" PRIu64 "M", size >> 20);
		placing = true;
		vdc_attr_set(inst, VDC_INSTANCE_DISK_SIZE, text, strlen(text), &ignored);
		placing = false;
	}
	vdc_event(inst, "disk of %" PRIu64 "M placed on storage host %s", size >> 20, host->name);
	vdc_obj_live_changed(inst);
	return 0;
}

void vdc_disk_reconcile(struct vdc_obj *inst)
{
	struct vdc_err ignored = VDC_ERR_INIT;

	/*
	 * Something to hold: a size, or an image to be made from (a restore
	 * links it before it writes the disk). A placed or local disk is
	 * looked at no further: this runs for every instance at every report,
	 * and the image's size takes a read of its header.
	 */
	if (!lun_of(inst)->host[0] && !vdc_place_of(inst)->disk_local && vdc_lun_any_sta() && vdc_disk_size(inst))
		place(inst, &ignored);
}

void vdc_disk_changed(struct vdc_obj *inst, unsigned attr)
{
	struct vdc_obj *host = disk_host(inst), *hv;

	vdc_obj_live_changed(inst);   /* disk shows its size */
	if (!host) {
		vdc_disk_reconcile(inst);
		return;
	}
	if (attr != VDC_INSTANCE_DISK_SIZE || placing)
		return;   /* a made disk keeps its bytes whatever the image becomes */
	vdc_luns_recount(host);
	vdc_event(inst, "growing its disk to %" PRIu64 "M", vdc_disk_size(inst) >> 20);
	vdc_host_bump(host);
	hv = vdc_host_find(vdc_place_of(inst)->host);
	if (hv)
		vdc_host_bump(hv);   /* a running guest's disk grows too */
}

void vdc_disk_guest_may_write(struct vdc_obj *inst)
{
	struct vdc_place *p = vdc_place_of(inst);

	if (p->disk)   /* none yet: nothing was opened, nothing is cached */
		vdc_lun_cache_stale(p->disk);
}

int vdc_disk_for_start(struct vdc_obj *inst, struct vdc_err *err)
{
	struct vdc_err ignored = VDC_ERR_INIT;
	int rc;

	if (!vdc_disk_size(inst))
		return 0;   /* no disk image (a container's tree): nothing to place */
	rc = place(inst, err);
	if (rc == 1 && !vdc_place_of(inst)->disk_local) {
		/* No storage host at all: the disk is the hypervisor's, for good. */
		if (vdc_obj_live_put(inst, "disk-local", "1", &ignored) == 0) {
			vdc_place_of(inst)->disk_local = true;
			vdc_event(inst, "no storage host has joined: its disk stays on its hypervisor");
		}
		return 0;
	}
	return rc < 0 ? rc : 0;
}

int vdc_disk_failed(const struct vdc_obj *inst, struct vdc_err *err)
{
	const struct vdc_lun *lun = lun_of(inst);

	if (lun->host[0] && lun->seen && !strcmp(lun->seen_state, VDC_WIRE_STATE_ERROR))
		return vdc_err_set(err, -EIO, "its disk on storage host %s: %s", lun->host,
				   lun->seen_err ? lun->seen_err : "failed without a reason");
	return 0;
}

bool vdc_disk_movable(const struct vdc_obj *inst, struct vdc_err *err)
{
	if (disk_host(inst))
		return true;
	if (vdc_place_of((struct vdc_obj *)inst)->disk_local)
		vdc_err_set(err, -EINVAL, "the disk of instance %s is on its hypervisor (it was first started before a storage host joined); it cannot move with it",
			    inst->name);
	else
		vdc_err_set(err, -EINVAL, "instance %s has no disk on a storage host to move with", inst->name);
	return false;
}

const char *vdc_disk_host_name(const struct vdc_obj *inst)
{
	return lun_of(inst)->host;
}

void vdc_disk_moved(struct vdc_obj *inst)
{
	struct vdc_obj *host = disk_host(inst);

	if (host)
		vdc_host_bump(host);
}

int vdc_disk_check_size(const struct vdc_obj *inst, const char *text, size_t len, struct vdc_err *err)
{
	const struct vdc_lun *lun;
	struct image_layout layout;
	struct vdc_obj *img, *host;
	uint64_t bytes, now;
	struct vdc_host *h;

	if (!len) {
		if (inst && disk_host(inst))
			return vdc_err_set(err, -EINVAL, "the disk of %s is made; its disk-size only grows and cannot be emptied",
					   inst->name);
		return 0;
	}
	if (vdc_size_mib_parse(text, len, "disk-size", VDC_VOLUME_SIZE_MIN, VDC_VOLUME_SIZE_MAX, "1M to 16T", &bytes, err) < 0)
		return -EINVAL;
	if (!inst)
		return 0;
	img = disk_image(inst, &layout);
	if (img && bytes < layout.size)
		return vdc_err_set(err, -EINVAL, "disk-size %" PRIu64 "M is smaller than image %s (%" PRIu64 "M): the disk holds the image",
				   bytes >> 20, img->name, mib_up(layout.size) >> 20);
	lun = lun_of(inst);
	host = vdc_lun_host(lun);
	if (!host)
		return 0;
	now = vdc_disk_size(inst);
	if (bytes < now)
		return vdc_err_set(err, -EINVAL, "disks only grow: the disk of %s is %" PRIu64 "M on storage host %s; shrinking is refused",
				   inst->name, now >> 20, host->name);
	h = vdc_host_of(host);
	if (bytes > now && bytes - now > (h->disk > h->disk_used ? h->disk - h->disk_used : 0))
		return vdc_err_set(err, -ENOSPC, "storage host %s has %" PRIu64 "M free, too little to grow the disk of %s by %" PRIu64 "M",
				   host->name, (h->disk > h->disk_used ? h->disk - h->disk_used : 0) >> 20, inst->name,
				   (bytes - now) >> 20);
	return 0;
}

/* ---- what the tree shows ---- */

static bool disk_placed(const struct vdc_obj *inst)
{
	return disk_host(inst) != NULL;
}

static int disk_endpoint(const struct vdc_obj *inst, struct vdc_block_ep *ep, struct vdc_err *err)
{
	const struct vdc_lun *lun = lun_of(inst);

	memset(ep, 0, sizeof(*ep));
	if (!vdc_lun_available(lun))
		return vdc_err_set(err, -EAGAIN, "the disk of instance %s is not yet available on storage host %s%s%s",
				   inst->name, lun->host[0] ? lun->host : "(none)", lun->progress ? ": " : "",
				   lun->progress ? lun->progress : "");
	vdc_lun_endpoint(lun, ep);
	ep->writable = !in_use(inst);
	return 0;
}

static int disk_writable(const struct vdc_obj *inst, struct vdc_err *err)
{
	if (in_use(inst))
		return vdc_err_set(err, -EBUSY, "instance %s is %s; its disk is written only while it is off and stopped",
				   inst->name, inst->state);
	return 0;
}

static int disk_no_host(const struct vdc_obj *inst, struct vdc_err *err)
{
	if (vdc_place_of((struct vdc_obj *)inst)->disk_local)
		return vdc_err_set(err, -EAGAIN, "the disk of instance %s is on its hypervisor (it was first started before a storage host joined), not in the tree",
				   inst->name);
	return vdc_err_set(err, -EAGAIN, "instance %s has no disk on a storage host yet: a storage host must join, and the instance needs an image linked or a disk-size written",
			   inst->name);
}

static bool disk_live(const struct vdc_obj *inst)
{
	return in_use(inst);
}

static int disk_pin(struct vdc_obj *inst, int64_t *pin, struct vdc_err *err)
{
	return vdc_lun_pin(lun_of(inst), pin, err);
}

static int disk_pin_endpoint(const struct vdc_obj *inst, int64_t pin, struct vdc_block_ep *ep, struct vdc_err *err)
{
	return vdc_lun_pin_endpoint(lun_of(inst), pin, ep, err);
}

static void disk_unpin(struct vdc_obj *inst, int64_t pin)
{
	vdc_lun_unpin(lun_of(inst), pin);
}

static bool disk_cache_ok(struct vdc_obj *inst)
{
	return vdc_lun_cache_ok(lun_of(inst), in_use(inst));
}

static void disk_set_progress(struct vdc_obj *inst, const char *text)
{
	vdc_lun_set_progress(lun_of(inst), text);
}

static uint64_t disk_allocated(const struct vdc_obj *inst)
{
	return lun_of(inst)->allocated;
}

const struct vdc_block_ops vdc_disk_block = {
	.placed = disk_placed,
	.endpoint = disk_endpoint,
	.writable = disk_writable,
	.no_host = disk_no_host,
	.cache_ok = disk_cache_ok,
	.set_progress = disk_set_progress,
	.size = vdc_disk_size,
	.allocated = disk_allocated,
	.live = disk_live,
	.pin = disk_pin,
	.pin_endpoint = disk_pin_endpoint,
	.unpin = disk_unpin,
	.clone = vdc_lun_block_clone,
	.clone_state = vdc_lun_block_clone_state,
	.size_attr = VDC_INSTANCE_DISK_SIZE,
};

void vdc_disk_show_host(const struct vdc_obj *inst, struct strbuf *out)
{
	vdc_lun_show_host(lun_of(inst), out);
}

void vdc_disk_show_progress(const struct vdc_obj *inst, struct strbuf *out)
{
	vdc_lun_show_progress(lun_of(inst), out);
}

/* ---- the agents' side ---- */

static const char *lun_hypervisor(const struct vdc_obj *inst)
{
	return vdc_place_of((struct vdc_obj *)inst)->host;
}

static const char *lun_incoming(const struct vdc_obj *inst)
{
	return vdc_place_of((struct vdc_obj *)inst)->migrate_to;
}

static void lun_desired(const struct vdc_obj *inst, struct vdc_sta_vol_desired *out)
{
	struct image_layout layout;

	out->image = disk_image(inst, &layout);
	vdc_lun_snaps_desired(vdc_obj_children(inst, VDC_INSTANCE_SNAPSHOTS), out);
}

static void lun_seen(struct vdc_obj *inst, const struct vdc_doc_sta_vol *it, bool moved)
{
	struct vdc_obj *hv = vdc_host_find(vdc_place_of(inst)->host);

	if (moved && hv)
		vdc_host_bump(hv);   /* "ready", or a new size */
	vdc_lun_snaps_seen(inst, it);
}

static void lun_reconcile(struct vdc_obj *inst)
{
	vdc_disk_reconcile(inst);
}

static const struct vdc_lun_ops disk_lun_ops = {
	.prefix = "disk",
	.live = "disk-",
	.size = vdc_disk_size,
	.snapshots_dir = VDC_INSTANCE_SNAPSHOTS,
	.hypervisor = lun_hypervisor,
	.incoming = lun_incoming,
	.desired = lun_desired,
	.seen = lun_seen,
	.reconcile = lun_reconcile,
};

bool vdc_disk_desired(const struct vdc_obj *inst, struct vdc_inst_disk_desired *out)
{
	const struct vdc_lun *lun = lun_of(inst);

	memset(out, 0, sizeof(*out));
	if (!vdc_lun_host(lun))
		return false;
	vdc_lun_endpoint(lun, &out->ep);
	snprintf(out->serial, sizeof(out->serial), "vdc-disk-%" PRId64, inst->id);
	out->size = vdc_disk_size(inst);
	/* Not while a rollback asked for is not carried out: the guest would boot from bytes being copied. */
	out->ready = vdc_lun_available(lun) && lun->restore_n <= lun->restored;
	return true;
}

/* ---- snapshots ---- */

int vdc_disk_snapshot_may_make(const struct vdc_kind *kind, struct vdc_obj *inst, const struct vdc_obj *snap,
			       const char *name, uid_t *uid, gid_t *gid, struct vdc_err *err)
{
	struct vdc_err why = VDC_ERR_INIT;

	(void)kind;
	(void)uid;
	(void)gid;
	if (snap || disk_host(inst))
		return 0;   /* a rename or a chown; or a disk to take it of */
	disk_no_host(inst, &why);
	return vdc_err_set(err, -EAGAIN, "snapshot %s cannot be taken: %s", name, why.msg);
}

/* Its storage host takes, renames or deletes it: the desired state changed. */
void vdc_disk_snapshot_changed(struct vdc_obj *snap)
{
	struct vdc_obj *host = disk_host(snap->parent);

	if (host)
		vdc_host_bump(host);
}

void vdc_disk_snapshot_renamed(struct vdc_obj *snap, const char *old)
{
	(void)old;
	vdc_disk_snapshot_changed(snap);
}

int vdc_disk_snapshot_busy(const struct vdc_obj *snap, struct vdc_err *err)
{
	return vdc_lun_snap_busy(lun_of(snap->parent), snap, err);
}

int vdc_disk_verb_rollback(struct vdc_obj *inst, const char *args, size_t len, struct vdc_err *err)
{
	struct vdc_lun *lun = lun_of(inst);
	struct vdc_obj *snap, *host;
	int rc = vdc_lun_snap_arg(inst, VDC_INSTANCE_SNAPSHOTS, args, len, &snap, err);

	if (rc < 0)
		return rc;
	if (in_use(inst))
		return vdc_err_set(err, -EBUSY, "instance %s is %s; its disk is rolled back only while it is off and stopped",
				   inst->name, inst->state);
	host = vdc_lun_host(lun);
	if (!host)
		return disk_no_host(inst, err);
	if (strcmp(snap->state, VDC_WIRE_VOL_AVAILABLE))
		return vdc_err_set(err, -EAGAIN, "snapshot %s of instance %s is %s, not available", snap->name, inst->name,
				   snap->state);
	rc = vdc_lun_restore(lun, snap->id, err);
	if (rc < 0)
		return rc;
	vdc_event(inst, "rollback of its disk to snapshot %s asked of storage host %s", snap->name, host->name);
	return 0;
}

/* ---- the instances kind's hooks ---- */

void vdc_disk_created(struct vdc_obj *inst)
{
	struct vdc_obj *host = vdc_lun_host(lun_of(inst));

	if (host)
		vdc_luns_recount(host);   /* loaded: its host's disk-used counts it before the host reports */
}

bool vdc_disk_live_loaded(struct vdc_obj *inst, const char *name, const char *value)
{
	if (!strcmp(name, "disk-local")) {
		vdc_place_of(inst)->disk_local = true;
		return true;
	}
	return vdc_lun_live_loaded(lun_of(inst), name, value);
}

void vdc_disk_destroyed(struct vdc_obj *inst)
{
	struct vdc_lun *lun = lun_of(inst);
	struct vdc_obj *host = vdc_lun_host(lun);
	uint64_t size = vdc_disk_size(inst);

	if (!host)
		return;
	vdc_event(host, "deleting the disk of instance %s (id %" PRId64 ")", inst->name, inst->id);
	lun->host[0] = 0;
	vdc_luns_recount(host);
	vdc_host_of(host)->disk_used += size;   /* until the host reports it gone */
	vdc_host_bump(host);
}

void vdc_disk_release(struct vdc_obj *inst)
{
	struct vdc_place *p = inst->priv;

	if (p) {
		vdc_lun_free(p->disk);
		p->disk = NULL;
	}
}
