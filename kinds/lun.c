/*
 * LUNs on storage hosts (docs/storage.md): what volumes and instances'
 * root disks have in common. What is desired lives with the object (its
 * size, and the live values "host", "chap" and "restore"); what its
 * storage host last reported lives in struct vdc_lun and is never stored.
 * The state shown is the kind's to derive (its ops->reconcile). Snapshots
 * of LUNs are children of the LUN's object; their bytes are served from a
 * target of their own (vdc_lun_snap_block, at the end of this file).
 */
#include <errno.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent_doc.h"
#include "host.h"
#include "lun.h"
#include "validate.h"
#include "wire_doc.h"

static struct vdc_lun *all_luns;

struct vdc_lun *vdc_lun_new(struct vdc_obj *obj, const struct vdc_lun_ops *ops)
{
	struct vdc_lun *lun = xcalloc(1, sizeof(*lun));

	lun->obj = obj;
	lun->ops = ops;
	lun->next = all_luns;
	if (all_luns)
		all_luns->prev = lun;
	all_luns = lun;
	return lun;
}

void vdc_lun_free(struct vdc_lun *lun)
{
	if (!lun)
		return;
	if (lun->prev)
		lun->prev->next = lun->next;
	else
		all_luns = lun->next;
	if (lun->next)
		lun->next->prev = lun->prev;
	free(lun->seen_err);
	free(lun->progress);
	free(lun->data_progress);
	while (lun->npins)
		free(lun->pins[--lun->npins].err);
	free(lun->pins);
	free(lun);
}

static void set_text(char **slot, const char *text)
{
	free(*slot);
	*slot = text && *text ? xstrdup(text) : NULL;
}

struct vdc_obj *vdc_lun_host(const struct vdc_lun *lun)
{
	return lun->host[0] ? vdc_host_find(lun->host) : NULL;
}

bool vdc_lun_available(const struct vdc_lun *lun)
{
	struct vdc_obj *host = vdc_lun_host(lun);

	return host && vdc_host_is_up(host) && lun->seen && !strcmp(lun->seen_state, VDC_WIRE_VOL_AVAILABLE);
}

/* Store the live value `name` (after the kind's prefix) of its object. */
static int live_put(struct vdc_lun *lun, const char *name, const char *value, struct vdc_err *err)
{
	char full[32];

	snprintf(full, sizeof(full), "%s%s", lun->ops->live, name);
	return vdc_obj_live_put(lun->obj, full, value, err);
}

bool vdc_lun_live_loaded(struct vdc_lun *lun, const char *name, const char *value)
{
	size_t n = strlen(lun->ops->live);

	if (strncmp(name, lun->ops->live, n))
		return false;
	name += n;
	if (!strcmp(name, "host"))
		snprintf(lun->host, sizeof(lun->host), "%s", value);
	else if (!strcmp(name, "chap"))
		snprintf(lun->secret, sizeof(lun->secret), "%s", value);
	else if (!strcmp(name, "restore"))
		/* "N SNAP" (a snapshot's), or "N 0 VOL" (a clone of another LUN) */
		sscanf(value, "%" SCNu64 " %" SCNd64 " %" SCNd64, &lun->restore_n, &lun->restore_snap, &lun->restore_vol);
	else
		return false;
	return true;
}

/* ---- names ---- */

static void dc12(char *out)
{
	const char *dc = vdc_model_meta("dc");

	snprintf(out, 13, "%s", dc ? dc : "000000000000");
}

void vdc_lun_iqn(const struct vdc_lun *lun, char *out, size_t n)
{
	char dc[13];

	dc12(dc);
	snprintf(out, n, "%s:%s:%s-%" PRId64, VDC_IQN_PREFIX, dc, lun->ops->prefix, lun->obj->id);
}

void vdc_initiator_iqn(const char *host, char *out, size_t n)
{
	char dc[13];

	dc12(dc);
	if (host)
		snprintf(out, n, "%s:%s:host-%s", VDC_IQN_PREFIX, dc, host);
	else
		snprintf(out, n, "%s:%s:control", VDC_IQN_PREFIX, dc);
}

static void chap_user(const struct vdc_lun *lun, char *out, size_t n)
{
	snprintf(out, n, "%s-%" PRId64, lun->ops->prefix, lun->obj->id);
}

void vdc_lun_endpoint(const struct vdc_lun *lun, struct vdc_block_ep *ep)
{
	struct vdc_obj *host = vdc_lun_host(lun);

	memset(ep, 0, sizeof(*ep));
	if (host)
		snprintf(ep->portal, sizeof(ep->portal), "%s", vdc_host_of(host)->portal);
	vdc_lun_iqn(lun, ep->iqn, sizeof(ep->iqn));
	vdc_initiator_iqn(NULL, ep->initiator, sizeof(ep->initiator));
	chap_user(lun, ep->user, sizeof(ep->user));
	snprintf(ep->secret, sizeof(ep->secret), "%s", lun->secret);
	ep->lun = 1;
	ep->size = lun->seen_size;
}

/* ---- placement ---- */

void vdc_luns_recount(struct vdc_obj *host)
{
	struct vdc_host *h = vdc_host_of(host);
	const struct vdc_lun *lun;

	h->disk_used = 0;
	for (lun = all_luns; lun; lun = lun->next)
		if (!strcmp(lun->host, host->name))
			h->disk_used += lun->ops->size(lun->obj);
}

struct vdc_obj *vdc_lun_pick_host(uint64_t size, const char *only, bool *any_sta, struct vdc_err *err)
{
	const struct vdc_map *all = vdc_kind_objects(vdc_hosts_kind());
	struct vdc_obj *best = NULL;
	uint64_t best_free = 0;
	struct vdc_map_entry *e;
	unsigned seen = 0;
	size_t b;

	*any_sta = false;
	for (e = vdc_map_first(all, &b); e; e = vdc_map_next(all, e, &b)) {
		struct vdc_obj *o = e->value;
		struct vdc_host *h = vdc_host_of(o);
		size_t len;
		const char *sched;
		uint64_t free_;

		if (h->role != VDC_ROLE_STA)
			continue;
		*any_sta = true;
		if (only && strcmp(o->name, only))
			continue;
		sched = vdc_attr_value(o, VDC_HOST_SCHEDULABLE, &len);
		if (!vdc_host_is_up(o) || len != 2 || memcmp(sched, "on", 2))
			continue;
		seen++;
		free_ = h->disk > h->disk_used ? h->disk - h->disk_used : 0;
		if (free_ >= size && (!best || free_ > best_free)) {
			best = o;
			best_free = free_;
		}
	}
	if (!best && *any_sta) {
		if (only)
			vdc_err_set(err, -ENOSPC, "its source snapshot is on storage host %s, which is not up, not schedulable or has no room for %" PRIu64 "M",
				    only, size >> 20);
		else if (!seen)
			vdc_err_set(err, -ENOSPC, "no storage host is up and schedulable");
		else
			vdc_err_set(err, -ENOSPC, "no storage host has %" PRIu64 "M free", size >> 20);
	}
	return best;
}

bool vdc_lun_any_sta(void)
{
	const struct vdc_map *all = vdc_kind_objects(vdc_hosts_kind());
	struct vdc_map_entry *e;
	size_t b;

	for (e = vdc_map_first(all, &b); e; e = vdc_map_next(all, e, &b))
		if (vdc_host_of(e->value)->role == VDC_ROLE_STA)
			return true;
	return false;
}

int vdc_lun_place(struct vdc_lun *lun, struct vdc_obj *host, struct vdc_err *err)
{
	int rc;

	if (!lun->secret[0]) {
		unsigned char raw[16];

		if (gnutls_rnd(GNUTLS_RND_KEY, raw, sizeof(raw)) < 0)
			return vdc_err_set(err, -EIO, "no random bytes for a CHAP secret");
		vdc_hex(raw, sizeof(raw), lun->secret);
		rc = live_put(lun, "chap", lun->secret, err);
		if (rc < 0) {
			lun->secret[0] = 0;
			return rc;
		}
	}
	rc = live_put(lun, "host", host->name, err);
	if (rc < 0)
		return rc;
	snprintf(lun->host, sizeof(lun->host), "%s", host->name);
	vdc_luns_recount(host);
	vdc_host_bump(host);
	return 0;
}

int vdc_lun_restore(struct vdc_lun *lun, int64_t snap_id, struct vdc_err *err)
{
	char text[48];
	int rc;

	snprintf(text, sizeof(text), "%" PRIu64 " %" PRId64, lun->restore_n + 1, snap_id);
	rc = live_put(lun, "restore", text, err);
	if (rc < 0)
		return rc;
	lun->restore_n++;
	lun->restore_snap = snap_id;
	lun->restore_vol = 0;
	vdc_lun_cache_stale(lun);
	vdc_host_bump(vdc_lun_host(lun));
	return 0;
}

/* ---- clones (a cp through copy_file_range) ---- */

static struct vdc_lun *lun_of_obj(const struct vdc_obj *obj);

static bool restoring(const struct vdc_lun *lun)
{
	return lun->restore_n > lun->restored;
}

int vdc_lun_block_clone(struct vdc_obj *dst, struct vdc_obj *src, uint64_t ticket[2], struct vdc_err *err)
{
	struct vdc_lun *d = lun_of_obj(dst), *s = lun_of_obj(src);
	char text[64];
	int rc;

	if (!d || !s || d == s)
		return vdc_err_set(err, -EOPNOTSUPP, "only a disk or a volume's data is cloned on its storage host");
	if (!d->host[0] || strcmp(d->host, s->host))
		return vdc_err_set(err, -EXDEV, "%s %s and %s %s are not on the same storage host", src->kind->noun,
				   src->name, dst->kind->noun, dst->name);
	if (!vdc_lun_available(d) || !vdc_lun_available(s) || restoring(d) || restoring(s))
		return vdc_err_set(err, -EOPNOTSUPP, "%s %s or %s %s is not available on storage host %s now",
				   src->kind->noun, src->name, dst->kind->noun, dst->name, d->host);
	/* A guest may write the source while it is copied: no single point in time, copy the bytes. */
	if (src->kind->block->writable(src, err) < 0 || dst->kind->block->writable(dst, err) < 0) {
		err->code = -EOPNOTSUPP;   /* the kind's sentence says who uses it */
		return -EOPNOTSUPP;
	}
	if (d->ops->size(dst) != s->ops->size(src) || d->seen_size != s->seen_size)
		return vdc_err_set(err, -EOPNOTSUPP, "%s %s and %s %s differ in size", src->kind->noun, src->name,
				   dst->kind->noun, dst->name);
	snprintf(text, sizeof(text), "%" PRIu64 " 0 %" PRId64, d->restore_n + 1, src->id);
	rc = live_put(d, "restore", text, err);
	if (rc < 0)
		return rc;
	d->restore_n++;
	d->restore_snap = 0;
	d->restore_vol = src->id;
	vdc_lun_cache_stale(d);
	vdc_event(dst, "restore %" PRIu64 ": a clone of %s %s asked for", d->restore_n, src->kind->noun, src->name);
	vdc_host_bump(vdc_lun_host(d));
	ticket[0] = d->restore_n;
	ticket[1] = s->cache_gen;
	return 0;
}

int vdc_lun_block_clone_state(struct vdc_obj *dst, int64_t src_id, const uint64_t ticket[2], struct vdc_err *err)
{
	struct vdc_lun *d = lun_of_obj(dst), *s;
	struct vdc_obj *src = vdc_obj_by_id(src_id);

	if (!d || d->restore_n != ticket[0] || d->restore_vol != src_id)
		return vdc_err_set(err, -EIO, "another restore into %s %s was asked for while it was being cloned",
				   dst->kind->noun, dst->name);
	s = src ? lun_of_obj(src) : NULL;
	if (!s)
		return vdc_err_set(err, -EIO, "the source of the clone into %s %s is gone", dst->kind->noun, dst->name);
	if (d->restored >= ticket[0]) {
		/* Carried out; but what a guest wrote to the source meanwhile may be in it or not. */
		if (s->cache_gen != ticket[1] || src->kind->block->writable(src, NULL) < 0)
			return vdc_err_set(err, -EIO, "%s %s may have been written by its guest while %s %s was cloned from it; copy it again while it is stopped",
					   src->kind->noun, src->name, dst->kind->noun, dst->name);
		return 1;
	}
	if (d->seen && !strcmp(d->seen_state, VDC_WIRE_STATE_ERROR) && d->seen_err)
		return vdc_err_set(err, -EIO, "storage host %s: %s", d->host, d->seen_err);
	return 0;
}

int vdc_lun_clone_busy(const struct vdc_obj *obj, struct vdc_err *err)
{
	const struct vdc_lun *lun;

	for (lun = all_luns; lun; lun = lun->next)
		if (lun->restore_vol == obj->id && restoring(lun) && lun->seen)
			return vdc_err_set(err, -EBUSY, "%s %s is being cloned from %s %s; it stays until that is done",
					   lun->obj->kind->noun, lun->obj->name, obj->kind->noun, obj->name);
	return 0;
}

/* ---- the data path ---- */

void vdc_lun_cache_stale(struct vdc_lun *lun)
{
	lun->cache_gen++;
}

bool vdc_lun_cache_ok(struct vdc_lun *lun, bool in_use)
{
	bool ok = lun->cache_gen == lun->cache_gen_open && !in_use;

	lun->cache_gen_open = lun->cache_gen;
	if (in_use)
		lun->cache_gen++;   /* a guest may write it after this open: the next starts afresh too */
	return ok;
}

void vdc_lun_set_progress(struct vdc_lun *lun, const char *text)
{
	set_text(&lun->data_progress, text);
	vdc_obj_live_changed(lun->obj);
}

/* ---- what the tree shows ---- */

void vdc_lun_show_host(const struct vdc_lun *lun, struct strbuf *out)
{
	if (lun->host[0])
		strbuf_addf(out, "%s\n", lun->host);
}

void vdc_lun_show_target(const struct vdc_lun *lun, struct strbuf *out)
{
	struct vdc_obj *host = vdc_lun_host(lun);
	char iqn[VDC_IQN_MAX];

	if (!host || !lun->seen || !vdc_host_of(host)->portal[0])
		return;
	vdc_lun_iqn(lun, iqn, sizeof(iqn));
	strbuf_addf(out, "%s %s 1\n", vdc_host_of(host)->portal, iqn);
}

void vdc_lun_show_progress(const struct vdc_lun *lun, struct strbuf *out)
{
	if (lun->progress)
		strbuf_addf(out, "%s\n", lun->progress);
	if (lun->data_progress)
		strbuf_addf(out, "%s\n", lun->data_progress);
}

void vdc_host_show_disk(const struct vdc_obj *host, struct strbuf *out)
{
	const struct vdc_host *h = vdc_host_of((struct vdc_obj *)host);

	if (h->role == VDC_ROLE_STA)
		strbuf_addf(out, "%" PRIu64 "M\n", h->disk >> 20);
}

void vdc_host_show_disk_used(const struct vdc_obj *host, struct strbuf *out)
{
	const struct vdc_host *h = vdc_host_of((struct vdc_obj *)host);

	if (h->role == VDC_ROLE_STA)
		strbuf_addf(out, "%" PRIu64 "M\n", h->disk_used >> 20);
}

/* ---- the storage hosts' side ---- */

static void lun_desired(const struct vdc_lun *lun, struct vdc_sta_vol_desired *out)
{
	const char *hv = lun->ops->hypervisor(lun->obj);

	memset(out, 0, sizeof(*out));
	out->id = lun->obj->id;
	out->name = lun->obj->name;
	out->size = lun->ops->size(lun->obj);
	vdc_lun_iqn(lun, out->iqn, sizeof(out->iqn));
	chap_user(lun, out->chap_user, sizeof(out->chap_user));
	out->chap_secret = lun->secret;
	out->restore_n = lun->restore_n;
	out->restore_snap = lun->restore_snap;
	out->restore_vol = lun->restore_vol;
	vdc_initiator_iqn(NULL, out->initiators[0], sizeof(out->initiators[0]));
	out->ninitiators = 1;
	if (hv && *hv) {
		const char *next = lun->ops->incoming ? lun->ops->incoming(lun->obj) : NULL;

		vdc_initiator_iqn(hv, out->initiators[1], sizeof(out->initiators[1]));
		out->ninitiators = 2;
		if (next && *next) {
			vdc_initiator_iqn(next, out->initiators[2], sizeof(out->initiators[2]));
			out->ninitiators = 3;
		}
	}
	lun->ops->desired(lun->obj, out);
	if (lun->npins) {
		unsigned i;

		out->snaps = xrealloc(out->snaps, (out->nsnaps + lun->npins + 1) * sizeof(*out->snaps));
		for (i = 0; i < lun->npins; i++) {
			out->snaps[out->nsnaps].id = lun->pins[i].id;
			out->snaps[out->nsnaps++].name = lun->pins[i].name;
		}
	}
}

struct vdc_sta_vol_desired *vdc_sta_volumes_get(const struct vdc_obj *host, size_t *n)
{
	struct vdc_sta_vol_desired *list = NULL;
	const struct vdc_lun *lun;
	size_t have = 0;

	*n = 0;
	for (lun = all_luns; lun; lun = lun->next) {
		if (strcmp(lun->host, host->name))
			continue;
		if (*n == have) {
			have = have ? 2 * have : 16;
			list = xrealloc(list, have * sizeof(*list));
		}
		lun_desired(lun, &list[(*n)++]);
	}
	return list;
}

void vdc_sta_volumes_release(struct vdc_sta_vol_desired *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(list[i].snaps);
	free(list);
}

static struct vdc_lun *lun_on(const struct vdc_obj *host, int64_t id)
{
	struct vdc_lun *lun;

	for (lun = all_luns; lun; lun = lun->next)
		if (lun->obj->id == id && !strcmp(lun->host, host->name))
			return lun;
	return NULL;
}

/*
 * The endpoint of snapshot `id` of `lun` (a snapshot's or a pin's): its
 * own target `PREFIX:DC12:snap-ID`, CHAP user `snap-ID`, the LUN's secret.
 */
static void snap_endpoint_of(const struct vdc_lun *lun, int64_t id, struct vdc_block_ep *ep)
{
	char dc[13];

	vdc_lun_endpoint(lun, ep);
	dc12(dc);
	snprintf(ep->iqn, sizeof(ep->iqn), "%s:%s:snap-%" PRId64, VDC_IQN_PREFIX, dc, id);
	snprintf(ep->user, sizeof(ep->user), "snap-%" PRId64, id);
}

/* ---- point-in-time reads (lun.h) ---- */

static struct vdc_lun_pin *pin_find(const struct vdc_lun *lun, int64_t id)
{
	unsigned i;

	for (i = 0; i < lun->npins; i++)
		if (lun->pins[i].id == id)
			return &lun->pins[i];
	return NULL;
}

int vdc_lun_pin(struct vdc_lun *lun, int64_t *id, struct vdc_err *err)
{
	static int64_t next;
	struct vdc_obj *host = vdc_lun_host(lun);
	size_t snaps = lun->obj->children[lun->ops->snapshots_dir].count;
	struct vdc_lun_pin *p;

	if (lun->npins >= VDC_LUN_PINS_MAX || snaps + lun->npins >= VDC_SNAPSHOTS_MAX)
		return vdc_err_set(err, -EBUSY, "%u reads of the running %s %s's bytes are open, the most at once; close one",
				   lun->npins, lun->obj->kind->noun, lun->obj->name);
	if (!host)
		return vdc_err_set(err, -EAGAIN, "%s %s is on no storage host", lun->obj->kind->noun, lun->obj->name);
	if (!next)
		next = VDC_LUN_PIN_BASE + ((int64_t)time(NULL) << 16);
	lun->pins = xrealloc(lun->pins, (lun->npins + 1) * sizeof(*lun->pins));
	p = &lun->pins[lun->npins++];
	memset(p, 0, sizeof(*p));
	p->id = ++next;
	snprintf(p->name, sizeof(p->name), "pin-%" PRId64, p->id - VDC_LUN_PIN_BASE);
	*id = p->id;
	vdc_host_bump(host);
	return 0;
}

int vdc_lun_pin_endpoint(const struct vdc_lun *lun, int64_t id, struct vdc_block_ep *ep, struct vdc_err *err)
{
	const struct vdc_lun_pin *p = pin_find(lun, id);
	struct vdc_obj *host = vdc_lun_host(lun);

	memset(ep, 0, sizeof(*ep));
	if (p && !strcmp(p->state, VDC_WIRE_STATE_ERROR))
		return vdc_err_set(err, -EIO, "%s %s could not be read at one point in time: its storage host could not snapshot it: %s",
				   lun->obj->kind->noun, lun->obj->name, p->err ? p->err : "no reason given");
	if (!p || !host || !vdc_host_is_up(host) || strcmp(p->state, VDC_WIRE_VOL_AVAILABLE) || !p->size)
		return vdc_err_set(err, -EAGAIN, "%s %s is being snapshotted for a read at one point in time",
				   lun->obj->kind->noun, lun->obj->name);
	snap_endpoint_of(lun, id, ep);
	ep->size = p->size;
	ep->writable = false;
	return 0;
}

void vdc_lun_unpin(struct vdc_lun *lun, int64_t id)
{
	struct vdc_lun_pin *p = pin_find(lun, id);
	struct vdc_obj *host = vdc_lun_host(lun);

	if (!p)
		return;
	free(p->err);
	*p = lun->pins[--lun->npins];
	if (host)
		vdc_host_bump(host);
}

/* What a storage host's report says of the LUN's pins. */
static void pins_seen(struct vdc_lun *lun, const struct vdc_doc_sta_vol *it)
{
	unsigned i;

	for (i = 0; i < it->nsnaps; i++) {
		struct vdc_lun_pin *p = pin_find(lun, it->snaps[i].id);

		if (!p)
			continue;
		snprintf(p->state, sizeof(p->state), "%s", it->snaps[i].state);
		set_text(&p->err, it->snaps[i].err);
		if (!strcmp(p->state, VDC_WIRE_VOL_AVAILABLE) && !p->size && it->size > 0)
			p->size = (uint64_t)it->size;
	}
}

/* One LUN of a storage host's report. */
static void seen_lun(struct vdc_obj *host, const struct vdc_doc_sta_vol *it)
{
	struct vdc_lun *lun = lun_on(host, it->id);
	uint64_t size = it->size > 0 ? (uint64_t)it->size : 0, was_size;
	uint64_t restored = it->restore > 0 ? (uint64_t)it->restore : 0;
	bool was_available;

	if (!lun) {
		vdc_host_of(host)->disk_used += size;   /* being deleted */
		return;
	}
	was_available = vdc_lun_available(lun);
	was_size = lun->seen_size;
	lun->seen = true;
	snprintf(lun->seen_state, sizeof(lun->seen_state), "%s", it->state);
	set_text(&lun->seen_err, it->err);
	if (strcmp(lun->progress ? lun->progress : "", it->progress))
		lun->obj->live_mtime = vdc_now();
	set_text(&lun->progress, it->progress);
	if (lun->seen_size != size)
		vdc_obj_live_changed(lun->obj);
	lun->seen_size = size;
	lun->allocated = it->allocated > 0 ? (uint64_t)it->allocated : 0;
	if (restored > lun->restored && lun->restored)
		vdc_event(lun->obj, "restore %" PRIu64 " carried out", restored);
	if (restored != lun->restored)
		vdc_lun_cache_stale(lun);
	lun->restored = restored;
	pins_seen(lun, it);
	lun->ops->seen(lun->obj, it, vdc_lun_available(lun) != was_available || lun->seen_size != was_size);
}

void vdc_luns_report(struct vdc_obj *host, const struct vdc_doc_sta_vol *vols, size_t n)
{
	struct vdc_lun *lun;
	size_t i;

	for (lun = all_luns; lun; lun = lun->next)
		if (!strcmp(lun->host, host->name))
			lun->seen = false;
	vdc_luns_recount(host);
	for (i = 0; i < n; i++)
		seen_lun(host, &vols[i]);
	vdc_luns_reconcile_all();
}

/* ---- snapshots ---- */

void vdc_lun_snaps_desired(const struct vdc_map *snaps, struct vdc_sta_vol_desired *out)
{
	struct vdc_map_entry *e;
	size_t b;

	out->snaps = xcalloc(snaps->count + 1, sizeof(*out->snaps));
	for (e = vdc_map_first(snaps, &b); e; e = vdc_map_next(snaps, e, &b)) {
		const struct vdc_obj *s = e->value;

		out->snaps[out->nsnaps].id = s->id;
		out->snaps[out->nsnaps++].name = s->name;
	}
}

/* The size of a snapshot's bytes: 0 until its storage host first reported it available. */
static uint64_t snap_size(const struct vdc_obj *snap)
{
	return snap->priv ? *(const uint64_t *)snap->priv : 0;
}

static void snap_size_set(struct vdc_obj *snap, uint64_t size)
{
	if (!snap->priv)
		snap->priv = xcalloc(1, sizeof(uint64_t));
	*(uint64_t *)snap->priv = size;
}

void vdc_lun_snap_live_loaded(struct vdc_obj *snap, const char *name, const char *value)
{
	if (!strcmp(name, "size"))
		snap_size_set(snap, strtoull(value, NULL, 10));
}

/* Taken: its size is its LUN's now (the file the host copied or cloned), kept for good. */
static void snap_taken(struct vdc_obj *snap, uint64_t size)
{
	struct vdc_err ignored = VDC_ERR_INIT;
	char text[32];

	if (snap->priv || !size)
		return;
	snprintf(text, sizeof(text), "%" PRIu64, size);
	if (vdc_obj_live_put(snap, "size", text, &ignored) == 0)
		snap_size_set(snap, size);
	vdc_obj_live_changed(snap);
}

void vdc_lun_snaps_seen(struct vdc_obj *obj, const struct vdc_doc_sta_vol *it)
{
	unsigned i;

	for (i = 0; i < it->nsnaps; i++) {
		const char *sstate = it->snaps[i].state, *serr = it->snaps[i].err;
		struct vdc_obj *snap = vdc_obj_by_id(it->snaps[i].id);

		if (!snap || snap->parent != obj)
			continue;
		if (!strcmp(sstate, VDC_WIRE_VOL_AVAILABLE) || !strcmp(sstate, VDC_WIRE_VOL_CREATING) ||
		    !strcmp(sstate, VDC_WIRE_STATE_ERROR)) {
			if (strcmp(snap->state, sstate))
				vdc_obj_set_state(snap, sstate);
			if (!strcmp(sstate, VDC_WIRE_VOL_AVAILABLE) && it->size > 0)
				snap_taken(snap, (uint64_t)it->size);
			if (!strcmp(sstate, VDC_WIRE_STATE_ERROR) && *serr && (!snap->err || strcmp(snap->err, serr)))
				vdc_obj_set_err(snap, serr);
		}
	}
}

int vdc_lun_snap_arg(struct vdc_obj *obj, unsigned dir, const char *args, size_t len, struct vdc_obj **snap,
		     struct vdc_err *err)
{
	if (!len)
		return vdc_err_set(err, -EINVAL, "rollback needs the name of a snapshot: rollback SNAP");
	*snap = vdc_obj_find(obj->kind->childdirs[dir].kind, obj, args, len);
	if (!*snap)
		return vdc_err_set(err, -ENOENT, "%s %s has no snapshot %s", obj->kind->noun, obj->name,
				   vdc_quote(args, len, (char[200]){0}, 200));
	return 0;
}

int vdc_lun_snap_busy(const struct vdc_lun *lun, const struct vdc_obj *snap, struct vdc_err *err)
{
	if (lun->restore_snap == snap->id && lun->restore_n > lun->restored && lun->seen)
		return vdc_err_set(err, -EBUSY, "%s %s is being restored from snapshot %s", snap->parent->kind->noun,
				   snap->parent->name, snap->name);
	return 0;
}

void vdc_luns_reconcile_all(void)
{
	struct vdc_lun *lun, *next;

	for (lun = all_luns; lun; lun = next) {
		next = lun->next;
		lun->ops->reconcile(lun->obj);
	}
}

/* ---- snapshots' bytes ---- */

/* The LUN of `obj` (a volume, an instance), or NULL when it has none. */
static struct vdc_lun *lun_of_obj(const struct vdc_obj *obj)
{
	struct vdc_lun *lun;

	for (lun = all_luns; lun; lun = lun->next)
		if (lun->obj == obj)
			return lun;
	return NULL;
}

static struct vdc_obj *snap_host(const struct vdc_obj *snap)
{
	struct vdc_lun *lun = lun_of_obj(snap->parent);

	return lun ? vdc_lun_host(lun) : NULL;
}

static bool snap_placed(const struct vdc_obj *snap)
{
	return snap_host(snap) != NULL;
}

/* -EBUSY while a restore from it (a rollback, a volume's source) is asked for and not yet carried out. */
static int snap_writable(const struct vdc_obj *snap, struct vdc_err *err)
{
	const struct vdc_lun *lun;

	for (lun = all_luns; lun; lun = lun->next)
		if (lun->restore_snap == snap->id && lun->restore_n > lun->restored && lun->seen)
			return vdc_err_set(err, -EBUSY, "%s %s is being restored from snapshot %s of %s %s; its bytes are written once that is done",
					   lun->obj->kind->noun, lun->obj->name, snap->name, snap->parent->kind->noun,
					   snap->parent->name);
	return 0;
}

static int snap_endpoint(const struct vdc_obj *snap, struct vdc_block_ep *ep, struct vdc_err *err)
{
	struct vdc_lun *lun = lun_of_obj(snap->parent);
	struct vdc_obj *host = lun ? vdc_lun_host(lun) : NULL;

	memset(ep, 0, sizeof(*ep));
	if (!host || !vdc_host_is_up(host) || strcmp(snap->state, VDC_WIRE_VOL_AVAILABLE) || !snap_size(snap))
		return vdc_err_set(err, -EAGAIN, "snapshot %s of %s %s is %s, not available on a storage host%s%s",
				   snap->name, snap->parent->kind->noun, snap->parent->name,
				   host && !vdc_host_is_up(host) ? "unreachable" : snap->state, host ? " " : "",
				   host ? host->name : "");
	snap_endpoint_of(lun, snap->id, ep);
	ep->size = snap_size(snap);
	ep->writable = snap_writable(snap, NULL) == 0;
	return 0;
}

static int snap_no_host(const struct vdc_obj *snap, struct vdc_err *err)
{
	return vdc_err_set(err, -EAGAIN, "snapshot %s of %s %s is on no storage host, so it holds no bytes; its %s must be on a storage host and the snapshot taken first",
			   snap->name, snap->parent->kind->noun, snap->parent->name, snap->parent->kind->noun);
}

/* Each open reads afresh: a restore or a rollback never changes it, but cheap to be sure. */
static bool snap_cache_ok(struct vdc_obj *snap)
{
	(void)snap;
	return false;
}

/* A snapshot has no run/progress. */
static void snap_set_progress(struct vdc_obj *snap, const char *text)
{
	(void)snap;
	(void)text;
}

/* Not reported per snapshot: at least the block the front end shows. */
static uint64_t snap_allocated(const struct vdc_obj *snap)
{
	(void)snap;
	return 0;
}

const struct vdc_block_ops vdc_lun_snap_block = {
	.placed = snap_placed,
	.endpoint = snap_endpoint,
	.writable = snap_writable,
	.no_host = snap_no_host,
	.cache_ok = snap_cache_ok,
	.set_progress = snap_set_progress,
	.size = snap_size,
	.allocated = snap_allocated,
	.fixed_size = true,
};
