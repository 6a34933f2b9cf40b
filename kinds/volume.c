/*
 * Volumes on storage hosts (docs/storage.md).
 *
 * A volume's obj->priv is its `struct vdc_lun` (lun.h: its storage host,
 * its secret, the restores asked for, what the host last reported). What
 * is desired lives in the tree (size, snapshots, links from instances)
 * and in the LUN's live values. The state shown is derived from both,
 * level-triggered, by volume_reconcile(), which is safe to call at any
 * time.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_doc.h"
#include "host.h"
#include "instance.h"
#include "place.h"
#include "volume.h"
#include "wire_doc.h"

static const struct vdc_kind *volumes_kind(void)
{
	return vdc_kind(VDC_KIND_VOLUMES);
}

static const struct vdc_lun_ops volume_lun_ops;

static struct vdc_lun *vol_of(const struct vdc_obj *vol)
{
	struct vdc_obj *o = (struct vdc_obj *)vol;

	if (!o->priv)
		o->priv = vdc_lun_new(o, &volume_lun_ops);
	return o->priv;
}

void vdc_volume_release(struct vdc_obj *vol)
{
	vdc_lun_free(vol->priv);
}

uint64_t vdc_volume_size(const struct vdc_obj *vol)
{
	uint64_t bytes = 0;
	size_t len;
	const char *v = vdc_attr_value(vol, VDC_VOLUME_SIZE, &len);

	vdc_size_parse(v, len, "size", &bytes, NULL);
	return bytes;
}

uint64_t vdc_volume_allocated(const struct vdc_obj *vol)
{
	return vol_of(vol)->allocated;
}

static struct vdc_obj *host_of(const struct vdc_obj *vol)
{
	return vdc_lun_host(vol_of(vol));
}

bool vdc_volume_placed(const struct vdc_obj *vol)
{
	return host_of(vol) != NULL;
}

void vdc_volume_iqn(const struct vdc_obj *vol, char *out, size_t n)
{
	vdc_lun_iqn(vol_of(vol), out, n);
}

/* ---- attachment ---- */

/* An instance's volumes/ folder; -1 for an object of another kind. */
static int volumes_dir(const struct vdc_obj *inst)
{
	return inst->kind->id == VDC_KIND_INSTANCES ? VDC_INSTANCE_VOLUMES : -1;
}

/*
 * The instance other than `except` whose link is bound to volume `vol`,
 * or, while no volume `tname` exists, whose link names it and would bind
 * to it as the link of `except` would (same owner): NULL when none. A link
 * that only names a volume its holder may not use is no attachment.
 */
static struct vdc_obj *linked_from(const struct vdc_obj *vol, const char *tname, const struct vdc_obj *except)
{
	const struct vdc_kind *k = vdc_kind(VDC_KIND_INSTANCES);
	const struct vdc_map *all = k ? vdc_kind_objects(k) : NULL;
	struct vdc_map_entry *e;
	size_t b;

	if (!all)
		return NULL;
	for (e = vdc_map_first(all, &b); e; e = vdc_map_next(all, e, &b)) {
		struct vdc_obj *inst = e->value;
		int d = volumes_dir(inst);
		unsigned i;

		if (inst == except || d < 0)
			continue;
		for (i = 0; i < inst->rel[d].n; i++) {
			const struct vdc_link *l = inst->rel[d].links[i];

			if (vol ? vdc_link_target(l) == vol :
			    except && !strcmp(l->tname, tname) && inst->uid == except->uid)
				return inst;
		}
	}
	return NULL;
}

struct vdc_obj *vdc_volume_instance(const struct vdc_obj *vol)
{
	return linked_from(vol, NULL, NULL);
}

int vdc_volume_rel_check(const struct vdc_obj *inst, unsigned dir, const char *tname, struct vdc_err *err)
{
	struct vdc_obj *vol, *other;

	if ((int)dir != volumes_dir(inst))
		return 0;
	vol = vdc_obj_find(vdc_kind(VDC_KIND_VOLUMES), NULL, tname, strlen(tname));
	other = linked_from(vol, tname, inst);
	if (other)
		return vdc_err_set(err, -EBUSY, "volume %s is attached to instance %s already; a volume is attached to one instance at a time",
				   tname, other->name);
	return 0;
}

/* The hypervisor's view of volume `vol` on instance `inst`, or NULL. */
static const struct vdc_seen_vol *seen_on(const struct vdc_obj *inst, const struct vdc_obj *vol)
{
	const struct vdc_seen *s = inst ? vdc_seen_of(inst) : NULL;
	unsigned i;

	for (i = 0; s && i < s->nvols; i++)
		if (s->vols[i].id == vol->id)
			return &s->vols[i];
	return NULL;
}

static int in_use(const struct vdc_obj *vol, const char *what, struct vdc_err *err)
{
	struct vdc_obj *inst = vdc_volume_instance(vol);

	if (inst && (vdc_instance_power_on(inst) || seen_on(inst, vol)))
		return vdc_err_set(err, -EBUSY, "volume %s is attached to instance %s, which is %s; %s needs it detached or the instance stopped",
				   vol->name, inst->name, inst->state, what);
	return 0;
}

int vdc_volume_no_host(const struct vdc_obj *vol, struct vdc_err *err)
{
	return vdc_err_set(err, -EAGAIN, "volume %s has no storage host yet, so it can hold no bytes; a storage host must join (or have room) first",
			   vol->name);
}

int vdc_volume_writable(const struct vdc_obj *vol, struct vdc_err *err)
{
	return in_use(vol, "writing through data", err);
}

bool vdc_volume_cache_ok(struct vdc_obj *vol)
{
	return vdc_lun_cache_ok(vol_of(vol), in_use(vol, "", NULL) < 0);
}

/* ---- what the tree shows ---- */

int vdc_volume_endpoint(const struct vdc_obj *vol, struct vdc_block_ep *ep, struct vdc_err *err)
{
	const struct vdc_lun *v = vol_of(vol);

	memset(ep, 0, sizeof(*ep));
	if (!vdc_lun_available(v))
		return vdc_err_set(err, -EAGAIN, "volume %s is %s, not yet available on a storage host", vol->name,
				   vol->state);
	/*
	 * A volume that never held data may be made smaller: its storage host
	 * takes the LUN away and adds it again at the new size, and a login
	 * meanwhile finds no LUN. Until the host reports the new size, wait.
	 */
	if (v->seen_size > vdc_volume_size(vol))
		return vdc_err_set(err, -EAGAIN, "volume %s is being made %" PRIu64 "M on its storage host", vol->name,
				   vdc_volume_size(vol) >> 20);
	vdc_lun_endpoint(v, ep);
	ep->writable = vdc_volume_writable(vol, NULL) == 0;
	return 0;
}

void vdc_volume_set_progress(struct vdc_obj *vol, const char *text)
{
	vdc_lun_set_progress(vol_of(vol), text);
}

void vdc_volume_show_host(const struct vdc_obj *vol, struct strbuf *out)
{
	vdc_lun_show_host(vol_of(vol), out);
}

void vdc_volume_show_target(const struct vdc_obj *vol, struct strbuf *out)
{
	vdc_lun_show_target(vol_of(vol), out);
}

void vdc_volume_show_progress(const struct vdc_obj *vol, struct strbuf *out)
{
	vdc_lun_show_progress(vol_of(vol), out);
}

/* ---- placement ---- */

static int place(struct vdc_obj *vol, struct vdc_obj *host, struct vdc_err *err)
{
	struct vdc_err ignored = VDC_ERR_INIT;
	int rc = vdc_lun_place(vol_of(vol), host, err);

	if (rc < 0)
		return rc;
	if (!vdc_rel_find(host, 1, vol->name, strlen(vol->name)))
		vdc_rel_add(host, 1, vol->name, strlen(vol->name), vol->name, 0, &ignored);
	vdc_event(vol, "placed on storage host %s", host->name);
	return 0;
}

static struct vdc_obj *source_snapshot(const struct vdc_obj *vol);

static const char *const vol_states[VDC_VSTATE_COUNT] = {
	[VDC_VSTATE_DEFINED] = "defined",
	[VDC_VSTATE_UNSCHEDULABLE] = "unschedulable",
	[VDC_VSTATE_CREATING] = "creating",
	[VDC_VSTATE_AVAILABLE] = "available",
	[VDC_VSTATE_ATTACHED] = "attached",
	[VDC_VSTATE_ERROR] = "error",
	[VDC_VSTATE_UNKNOWN] = "unknown",
};

bool vdc_volume_is(const struct vdc_obj *obj, enum vdc_volume_state s)
{
	return !strcmp(obj->state, vol_states[s]);
}

static void set_state(struct vdc_obj *vol, enum vdc_volume_state state, const char *err)
{
	if (!vdc_volume_is(vol, state))
		vdc_obj_set_state(vol, vol_states[state]);
	if (err) {
		if (!vol->err || strcmp(vol->err, err))
			vdc_obj_set_err(vol, err);
	}
}

/* Take the next step for `vol`; safe at any time. */
static void volume_reconcile(struct vdc_obj *vol)
{
	struct vdc_lun *v = vol_of(vol);
	struct vdc_obj *host = host_of(vol);

	if (!host) {
		struct vdc_err err = VDC_ERR_INIT;
		struct vdc_obj *snap = source_snapshot(vol);
		struct vdc_obj *shost = snap ? host_of(snap->parent) : NULL;
		bool any_sta;
		struct vdc_obj *pick = vdc_lun_pick_host(vdc_volume_size(vol), shost ? shost->name : NULL, &any_sta, &err);

		if (!any_sta) {
			set_state(vol, VDC_VSTATE_DEFINED, NULL);
			return;
		}
		if (!pick || place(vol, pick, &err) < 0) {
			set_state(vol, VDC_VSTATE_UNSCHEDULABLE, err.msg);
			return;
		}
		host = pick;
		set_state(vol, VDC_VSTATE_CREATING, NULL);
		if (vol->err)
			vdc_obj_set_err(vol, NULL);
		return;
	}
	if (vdc_host_in(host, VDC_HSTATE_UNKNOWN)) {
		set_state(vol, VDC_VSTATE_UNKNOWN, NULL);
		return;
	}
	if (!v->seen) {
		if (!vdc_volume_is(vol, VDC_VSTATE_AVAILABLE) && !vdc_volume_is(vol, VDC_VSTATE_ATTACHED))
			set_state(vol, VDC_VSTATE_CREATING, NULL);
		return;
	}
	if (!strcmp(v->seen_state, VDC_WIRE_STATE_ERROR)) {
		set_state(vol, VDC_VSTATE_ERROR, v->seen_err ? v->seen_err : "the storage host failed without a reason");
		return;
	}
	if (!strcmp(v->seen_state, VDC_WIRE_VOL_AVAILABLE)) {
		struct vdc_obj *inst = vdc_volume_instance(vol);
		const struct vdc_seen_vol *sv = seen_on(inst, vol);

		if (sv && !strcmp(sv->state, VDC_WIRE_STATE_ERROR)) {
			set_state(vol, VDC_VSTATE_ERROR, sv->err ? sv->err : "the hypervisor could not attach it");
			return;
		}
		set_state(vol, sv && !strcmp(sv->state, VDC_WIRE_ATTACH_ATTACHED) ? VDC_VSTATE_ATTACHED : VDC_VSTATE_AVAILABLE, NULL);
		if (vol->err && vdc_volume_is(vol, VDC_VSTATE_AVAILABLE) && !v->seen_err)
			vdc_obj_set_err(vol, NULL);
		return;
	}
	set_state(vol, VDC_VSTATE_CREATING, NULL);
}

void vdc_volumes_reconcile_all(void)
{
	const struct vdc_kind *k = volumes_kind();
	const struct vdc_map *all = k ? vdc_kind_objects(k) : NULL;
	struct vdc_map_entry *e;
	size_t b;

	if (!all)
		return;
	for (e = vdc_map_first(all, &b); e; e = vdc_map_next(all, e, &b))
		volume_reconcile(e->value);
}

/* The instance's hypervisor and the volume's storage host both hear of a change. */
static void bump_both(struct vdc_obj *vol)
{
	struct vdc_obj *host = host_of(vol), *inst = vdc_volume_instance(vol);

	if (host)
		vdc_host_bump(host);
	if (inst)
		vdc_instance_touched(inst);
}

/* ---- the kind's hooks ---- */

void vdc_volume_created(struct vdc_obj *vol)
{
	volume_reconcile(vol);
}

void vdc_volume_loaded(struct vdc_obj *vol)
{
	struct vdc_obj *host = host_of(vol);
	struct vdc_err ignored = VDC_ERR_INIT;

	if (host && !vdc_rel_find(host, 1, vol->name, strlen(vol->name)))
		vdc_rel_add(host, 1, vol->name, strlen(vol->name), vol->name, 0, &ignored);
	if (host)
		vdc_luns_recount(host);
	volume_reconcile(vol);
}

void vdc_volume_live_loaded(struct vdc_obj *vol, const char *name, const char *value)
{
	vdc_lun_live_loaded(vol_of(vol), name, value);
}

int vdc_volume_busy(const struct vdc_obj *vol, struct vdc_err *err)
{
	int rc = in_use(vol, "removing it", err);

	return rc < 0 ? rc : vdc_lun_clone_busy(vol, err);
}

void vdc_volume_destroyed(struct vdc_obj *vol)
{
	struct vdc_obj *host = host_of(vol);
	struct vdc_err ignored = VDC_ERR_INIT;
	struct vdc_link *l;

	if (!host)
		return;
	l = vdc_rel_find(host, 1, vol->name, strlen(vol->name));
	if (l)
		vdc_rel_remove(host, 1, l, &ignored);
	vdc_event(host, "deleting volume %s (id %" PRId64 ")", vol->name, vol->id);
	vol_of(vol)->host[0] = 0;
	vdc_luns_recount(host);
	vdc_host_of(host)->disk_used += vdc_volume_size(vol);   /* until the host reports it gone */
	vdc_host_bump(host);
}

void vdc_volume_renamed(struct vdc_obj *vol, const char *old)
{
	struct vdc_obj *host = host_of(vol);
	struct vdc_err ignored = VDC_ERR_INIT;
	struct vdc_link *l;

	if (!host)
		return;
	l = vdc_rel_find(host, 1, old, strlen(old));
	if (l)
		vdc_rel_remove(host, 1, l, &ignored);
	vdc_rel_add(host, 1, vol->name, strlen(vol->name), vol->name, 0, &ignored);
	bump_both(vol);
}

int vdc_volume_check_size(const struct vdc_obj *vol, const char *text, size_t len, struct vdc_err *err)
{
	uint64_t bytes, now;
	struct vdc_obj *host;
	struct vdc_host *h;

	if (vdc_size_mib_parse(text, len, "size", VDC_VOLUME_SIZE_MIN, VDC_VOLUME_SIZE_MAX, "1M to 16T", &bytes, err) < 0)
		return -EINVAL;
	if (!vol)
		return 0;
	host = host_of(vol);
	now = vdc_volume_size(vol);
	if (!host)
		return 0;
	if (bytes < now && (vol_of(vol)->allocated || in_use(vol, "shrinking", NULL) < 0))
		return vdc_err_set(err, -EINVAL, "volumes only grow: %s is %" PRIu64 "M on storage host %s and holds data; shrinking is refused",
				   vol->name, now >> 20, host->name);
	h = vdc_host_of(host);
	if (bytes > now && bytes - now > (h->disk > h->disk_used ? h->disk - h->disk_used : 0))
		return vdc_err_set(err, -ENOSPC, "storage host %s has %" PRIu64 "M free, too little to grow %s by %" PRIu64 "M",
				   host->name, (h->disk > h->disk_used ? h->disk - h->disk_used : 0) >> 20, vol->name,
				   (bytes - now) >> 20);
	return 0;
}

/* The check of `source`: the snapshot named `tname` ("V/S") may seed `vol` now. */
int vdc_volume_check_source(const struct vdc_obj *vol, const char *tname, size_t len, struct vdc_err *err)
{
	const struct vdc_kind *sk = vol->kind->childdirs[VDC_VOLUME_SNAPSHOTS].kind;
	const char *slash = memchr(tname, '/', len);
	struct vdc_obj *parent, *snap;
	int rc;

	(void)len;
	if (!slash)
		return vdc_err_set(err, -EINVAL, "source must link a snapshot: ../../volumes/V/snapshots/S");
	parent = vdc_obj_find(vol->kind, NULL, tname, (size_t)(slash - tname));
	snap = parent ? vdc_obj_find(sk, parent, slash + 1, strlen(slash + 1)) : NULL;
	if (!snap)
		return 0;   /* a restore may make the link before the snapshot */
	if (parent == vol)
		return vdc_err_set(err, -EINVAL, "a volume cannot be seeded from its own snapshot; use ctl rollback %s",
				   snap->name);
	rc = in_use(vol, "seeding it from a snapshot", err);
	return rc < 0 ? rc : 0;
}

/* Seed `vol` from its source: on the snapshot's host (moving an unused volume there), then a restore. */
static void seed_from_source(struct vdc_obj *vol)
{
	struct vdc_obj *snap = source_snapshot(vol), *host = host_of(vol);
	struct vdc_obj *shost = snap ? host_of(snap->parent) : NULL;
	struct vdc_err err = VDC_ERR_INIT;

	if (!snap || !shost || !vdc_volume_is(snap, VDC_VSTATE_AVAILABLE)) {
		if (snap)
			vdc_event(vol, "source %s/%s is %s: no byte is copied", snap->parent->name, snap->name,
				  snap->state);
		return;
	}
	if (host != shost) {
		struct vdc_link *l = host ? vdc_rel_find(host, 1, vol->name, strlen(vol->name)) : NULL;

		if (l)
			vdc_rel_remove(host, 1, l, &err);
		if (place(vol, shost, &err) < 0) {
			vdc_report(vol, &err);
			return;
		}
		if (host) {
			vdc_luns_recount(host);
			vdc_host_bump(host);
		}
		vol_of(vol)->seen = false;
	}
	if (vdc_volume_restore(vol, snap, &err) < 0)
		vdc_report(vol, &err);
}

void vdc_volume_changed(struct vdc_obj *vol, unsigned attr)
{
	const char *name = vol->kind->attrs[attr].name;
	struct vdc_obj *host = host_of(vol);

	if (!strcmp(name, "size")) {
		vdc_obj_live_changed(vol);   /* data shows the new size */
		if (host) {
			vdc_luns_recount(host);
			vdc_event(vol, "growing to %" PRIu64 "M", vdc_volume_size(vol) >> 20);
		}
		bump_both(vol);
		volume_reconcile(vol);
	} else if (!strcmp(name, "source") && vol->attrs[attr].link) {
		seed_from_source(vol);
		volume_reconcile(vol);
	}
}

/* An instance's volumes/ changed: its hypervisor and the storage hosts hear of it. */
void vdc_volumes_guest_may_write(struct vdc_obj *inst)
{
	int d = volumes_dir(inst);
	unsigned i;

	for (i = 0; d >= 0 && i < inst->rel[d].n; i++) {
		struct vdc_obj *vol = vdc_link_target(inst->rel[d].links[i]);

		if (vol)
			vdc_lun_cache_stale(vol_of(vol));
	}
}

void vdc_volumes_rel_changed(struct vdc_obj *inst, unsigned dir)
{
	if ((int)dir != volumes_dir(inst))
		return;
	vdc_volumes_guest_may_write(inst);
	vdc_instance_touched(inst);
	vdc_host_bump(NULL);
	vdc_volumes_reconcile_all();
}

/* ---- snapshots and restores ---- */

static struct vdc_obj *source_snapshot(const struct vdc_obj *vol)
{
	struct vdc_link *l = vol->attrs[VDC_VOLUME_SOURCE].link;

	return l ? vdc_link_target(l) : NULL;
}

int vdc_volume_restore(struct vdc_obj *vol, struct vdc_obj *snap, struct vdc_err *err)
{
	struct vdc_obj *host = host_of(vol), *shost = host_of(snap->parent);
	int rc;

	rc = in_use(vol, "restoring a snapshot", err);
	if (rc < 0)
		return rc;
	if (!host)
		return vdc_err_set(err, -EAGAIN, "volume %s is not on a storage host yet", vol->name);
	if (shost != host)
		return vdc_err_set(err, -EXDEV, "snapshot %s/%s is on storage host %s and volume %s on %s; a restore stays on one host",
				   snap->parent->name, snap->name, shost ? shost->name : "none", vol->name, host->name);
	if (!vdc_volume_is(snap, VDC_VSTATE_AVAILABLE))
		return vdc_err_set(err, -EAGAIN, "snapshot %s/%s is %s, not available", snap->parent->name, snap->name,
				   snap->state);
	rc = vdc_lun_restore(vol_of(vol), snap->id, err);
	if (rc < 0)
		return rc;
	vdc_event(vol, "restore from snapshot %s/%s asked of storage host %s", snap->parent->name, snap->name,
		  host->name);
	return 0;
}

int vdc_volume_verb_rollback(struct vdc_obj *vol, const char *args, size_t len, struct vdc_err *err)
{
	struct vdc_obj *snap;
	int rc = vdc_lun_snap_arg(vol, VDC_VOLUME_SNAPSHOTS, args, len, &snap, err);

	return rc < 0 ? rc : vdc_volume_restore(vol, snap, err);
}

void vdc_snapshot_created(struct vdc_obj *snap)
{
	struct vdc_obj *host = host_of(snap->parent);

	if (host)
		vdc_host_bump(host);
}

int vdc_snapshot_busy(const struct vdc_obj *snap, struct vdc_err *err)
{
	return vdc_lun_snap_busy(vol_of(snap->parent), snap, err);
}

void vdc_snapshot_destroyed(struct vdc_obj *snap)
{
	vdc_snapshot_created(snap);
}

/* ---- the agents' side ---- */

static uint64_t lun_size(const struct vdc_obj *vol)
{
	return vdc_volume_size(vol);
}

/* Who may log in besides vdcfs: the hypervisor of the instance that links it. */
static const char *lun_hypervisor(const struct vdc_obj *vol)
{
	struct vdc_obj *inst = vdc_volume_instance(vol);

	return inst ? vdc_place_of(inst)->host : NULL;
}

static const char *lun_incoming(const struct vdc_obj *vol)
{
	struct vdc_obj *inst = vdc_volume_instance(vol);

	return inst ? vdc_place_of(inst)->migrate_to : NULL;
}

static void lun_desired(const struct vdc_obj *vol, struct vdc_sta_vol_desired *out)
{
	vdc_lun_snaps_desired(vdc_obj_children(vol, VDC_VOLUME_SNAPSHOTS), out);
}

/* Does a hypervisor still report `vol` on an instance other than `inst` (a detach under way)? */
static bool held_elsewhere(const struct vdc_obj *vol, const struct vdc_obj *inst)
{
	const struct vdc_map *all = vdc_kind_objects(inst->kind);
	struct vdc_map_entry *e;
	size_t b;

	for (e = vdc_map_first(all, &b); e; e = vdc_map_next(all, e, &b))
		if (e->value != inst && seen_on(e->value, vol))
			return true;
	return false;
}

struct vdc_inst_vol_desired *vdc_instance_volumes(const struct vdc_obj *inst, size_t *n)
{
	int d = volumes_dir(inst);
	struct vdc_inst_vol_desired *list = xcalloc(d >= 0 ? inst->rel[d].n + 1 : 1, sizeof(*list));
	unsigned i;

	*n = 0;
	for (i = 0; d >= 0 && i < inst->rel[d].n; i++) {
		struct vdc_link *l = inst->rel[d].links[i];
		struct vdc_obj *vol = vdc_link_target(l);
		struct vdc_inst_vol_desired *out = &list[*n];

		if (!vol || vdc_volume_endpoint(vol, &out->ep, NULL) < 0 || held_elsewhere(vol, inst))
			continue;
		snprintf(out->serial, sizeof(out->serial), "vdc-vol-%" PRId64, vol->id);
		out->id = vol->id;
		out->name = vol->name;
		out->link = l->name;
		(*n)++;
	}
	return list;
}

/* The volume's part of its storage host's report: the hypervisor hears of a change, the snapshots' states. */
static void lun_seen(struct vdc_obj *vol, const struct vdc_doc_sta_vol *it, bool moved)
{
	/* What a hypervisor is told changed: it attaches once available, grows the disk with it. */
	if (moved) {
		struct vdc_obj *inst = vdc_volume_instance(vol);

		if (inst)
			vdc_instance_touched(inst);
	}
	vdc_lun_snaps_seen(vol, it);
}

static const struct vdc_lun_ops volume_lun_ops = {
	.prefix = "vol",
	.live = "",
	.size = lun_size,
	.snapshots_dir = VDC_VOLUME_SNAPSHOTS,
	.hypervisor = lun_hypervisor,
	.incoming = lun_incoming,
	.desired = lun_desired,
	.seen = lun_seen,
	.reconcile = volume_reconcile,
};

static bool volume_live(const struct vdc_obj *vol)
{
	return in_use(vol, "", NULL) < 0;
}

static int volume_pin(struct vdc_obj *vol, int64_t *pin, struct vdc_err *err)
{
	return vdc_lun_pin(vol_of(vol), pin, err);
}

static int volume_pin_endpoint(const struct vdc_obj *vol, int64_t pin, struct vdc_block_ep *ep, struct vdc_err *err)
{
	return vdc_lun_pin_endpoint(vol_of(vol), pin, ep, err);
}

static void volume_unpin(struct vdc_obj *vol, int64_t pin)
{
	vdc_lun_unpin(vol_of(vol), pin);
}

const struct vdc_block_ops vdc_volume_block = {
	.placed = vdc_volume_placed,
	.endpoint = vdc_volume_endpoint,
	.writable = vdc_volume_writable,
	.no_host = vdc_volume_no_host,
	.cache_ok = vdc_volume_cache_ok,
	.set_progress = vdc_volume_set_progress,
	.size = vdc_volume_size,
	.allocated = vdc_volume_allocated,
	.live = volume_live,
	.pin = volume_pin,
	.pin_endpoint = volume_pin_endpoint,
	.unpin = volume_unpin,
	.clone = vdc_lun_block_clone,
	.clone_state = vdc_lun_block_clone_state,
	.size_attr = VDC_VOLUME_SIZE,
};
