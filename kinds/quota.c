/*
 * Quotas per user: the sums of a user's use and the check before it
 * grows (see quota.h for the contract, docs/tree.md for the files).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "instance.h"
#include "quota.h"
#include "volume.h"

/* The largest limit: a count of a million, a size of 1024T. */
#define LIMIT_COUNT_MAX 1000000ULL
#define LIMIT_SIZE_MAX (1ULL << 50)

const char *const vdc_quota_names[VDC_QUOTA_NRES] = {
	[VDC_QUOTA_INSTANCES] = "instances",
	[VDC_QUOTA_CPUS] = "cpus",
	[VDC_QUOTA_MEMORY] = "memory",
	[VDC_QUOTA_VOLUME_SIZE] = "volume-size",
};

static bool is_size(enum vdc_quota_res r)
{
	return r == VDC_QUOTA_MEMORY || r == VDC_QUOTA_VOLUME_SIZE;
}

int vdc_quota_limit_parse(enum vdc_quota_res r, const char *s, size_t len, uint64_t *out,
			  struct vdc_err *err)
{
	char why[VDC_ERR_MSG_MAX];
	int rc;

	if (len == 4 && !memcmp(s, "none", 4)) {
		*out = VDC_QUOTA_NONE;
		return 0;
	}
	if (is_size(r))
		rc = vdc_size_mib_parse(s, len, vdc_quota_names[r], 0, LIMIT_SIZE_MAX, "0 to 1024T", out, err);
	else
		rc = vdc_uint_parse(s, len, vdc_quota_names[r], 0, LIMIT_COUNT_MAX, out, err);
	if (rc == 0 || !err)
		return rc;
	snprintf(why, sizeof(why), "%s", err->msg);
	return vdc_err_set(err, rc, "%s, or none for no limit", why);
}

void vdc_quota_format(enum vdc_quota_res r, uint64_t v, char *out, size_t outlen)
{
	if (v == VDC_QUOTA_NONE)
		snprintf(out, outlen, "none");
	else if (is_size(r))
		vdc_size_format(v, out, outlen);
	else
		snprintf(out, outlen, "%" PRIu64, v);
}

struct vdc_obj *vdc_quota_of(uid_t uid)
{
	const struct vdc_kind *k = vdc_kind(VDC_KIND_QUOTAS);
	const struct vdc_map *all = k ? vdc_kind_objects(k) : NULL;
	struct vdc_map_entry *e;
	size_t b;

	if (!all || uid == 0)
		return NULL;
	for (e = vdc_map_first(all, &b); e; e = vdc_map_next(all, e, &b)) {
		struct vdc_obj *q = e->value;

		if (q->uid == uid)
			return q;
	}
	return NULL;
}

uint64_t vdc_quota_limit(const struct vdc_obj *quota, enum vdc_quota_res r)
{
	uint64_t limit;
	const char *v;
	size_t len;

	v = vdc_attr_value(quota, r, &len);   /* the attributes are the resources, in order */
	return vdc_quota_limit_parse(r, v, len, &limit, NULL) < 0 ? VDC_QUOTA_NONE : limit;
}

/* A number or size attribute of `obj`, or its default when `obj` is NULL; 0 when absent. */
static uint64_t attr_amount(const struct vdc_kind *kind, const struct vdc_obj *obj, unsigned a, bool size)
{
	const char *name = kind->attrs[a].name;
	uint64_t n = 0;
	const char *v;
	size_t len;

	if (obj) {
		v = vdc_attr_value(obj, a, &len);
	} else {
		v = kind->attrs[a].def;
		len = strlen(v);
	}
	if (size)
		vdc_size_parse(v, len, name, &n, NULL);
	else
		vdc_uint_parse(v, len, name, 0, UINT64_MAX, &n, NULL);
	return n;
}

void vdc_quota_share(const struct vdc_kind *kind, const struct vdc_obj *obj, struct vdc_quota_use *out)
{
	memset(out, 0, sizeof(*out));
	if (kind->id == VDC_KIND_INSTANCES) {
		out->n[VDC_QUOTA_INSTANCES] = 1;
		out->n[VDC_QUOTA_CPUS] = attr_amount(kind, obj, VDC_INSTANCE_CPUS, false);
		out->n[VDC_QUOTA_MEMORY] = attr_amount(kind, obj, VDC_INSTANCE_MEMORY, true);
		/* Its root disk takes storage as a volume does (written down when it is placed). */
		out->n[VDC_QUOTA_VOLUME_SIZE] = attr_amount(kind, obj, VDC_INSTANCE_DISK_SIZE, true);
	} else if (kind->id == VDC_KIND_VOLUMES) {
		out->n[VDC_QUOTA_VOLUME_SIZE] = attr_amount(kind, obj, VDC_VOLUME_SIZE, true);
	}
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

void vdc_quota_use(uid_t uid, struct vdc_quota_use *use)
{
	static const enum vdc_kind_id counted[] = { VDC_KIND_INSTANCES, VDC_KIND_VOLUMES };
	unsigned i, r;

	memset(use, 0, sizeof(*use));
	for (i = 0; i < sizeof(counted) / sizeof(counted[0]); i++) {
		const struct vdc_kind *k = vdc_kind(counted[i]);
		const struct vdc_map *all = k ? vdc_kind_objects(k) : NULL;
		struct vdc_map_entry *e;
		size_t b;

		if (!all)
			continue;
		for (e = vdc_map_first(all, &b); e; e = vdc_map_next(all, e, &b)) {
			const struct vdc_obj *o = e->value;
			struct vdc_quota_use share;

			if (o->uid != uid)
				continue;
			vdc_quota_share(k, o, &share);
			for (r = 0; r < VDC_QUOTA_NRES; r++)
				use->n[r] = add_sat(use->n[r], share.n[r]);
		}
	}
}

int vdc_quota_check(uid_t uid, const struct vdc_quota_use *before, const struct vdc_quota_use *after,
		    struct vdc_err *err)
{
	struct vdc_obj *q = vdc_quota_of(uid);
	struct vdc_quota_use use;
	bool changed = false;
	unsigned r;

	if (!q)
		return 0;
	vdc_quota_use(uid, &use);
	for (r = 0; r < VDC_QUOTA_NRES; r++) {
		uint64_t limit = vdc_quota_limit(q, r), would;
		char l[32], u[32], w[32];

		if (after->n[r] != before->n[r])
			changed = true;
		if (after->n[r] <= before->n[r] || limit == VDC_QUOTA_NONE)
			continue;
		/* The use with this object's share replaced: `before` is in `use` when the object is theirs. */
		would = add_sat(use.n[r] - (before->n[r] < use.n[r] ? before->n[r] : use.n[r]), after->n[r]);
		if (would <= limit)
			continue;
		vdc_quota_format(r, limit, l, sizeof(l));
		vdc_quota_format(r, use.n[r], u, sizeof(u));
		vdc_quota_format(r, would, w, sizeof(w));
		return vdc_err_set(err, -EDQUOT, "%s quota of %s exceeded: the limit is %s, %s in use, %s after this change",
				   vdc_quota_names[r], q->name, l, u, w);
	}
	if (changed)
		vdc_obj_live_changed(q);
	return 0;
}

int vdc_quota_check_value(const struct vdc_obj *obj, enum vdc_quota_res r, uint64_t value,
			  struct vdc_err *err)
{
	struct vdc_quota_use before, after;

	if (!obj)
		return 0;   /* a value checked for no object in particular */
	vdc_quota_share(obj->kind, obj, &before);
	after = before;
	after.n[r] = value;
	return vdc_quota_check(obj->uid, &before, &after, err);
}

int vdc_quota_may_own(const struct vdc_kind *kind, struct vdc_obj *parent, const struct vdc_obj *obj,
		      const char *name, uid_t *uid, gid_t *gid, struct vdc_err *err)
{
	struct vdc_quota_use none, share;
	int rc;

	(void)parent;
	(void)name;
	(void)gid;
	if (obj && obj->uid == *uid)
		return 0;   /* a rename, or a new group: the use of no one changes */
	memset(&none, 0, sizeof(none));
	vdc_quota_share(kind, obj, &share);
	rc = vdc_quota_check(*uid, &none, &share, err);
	if (rc == 0 && obj)
		vdc_quota_touch(obj->uid);
	return rc;
}

void vdc_quota_touch(uid_t uid)
{
	struct vdc_obj *q = vdc_quota_of(uid);

	if (q)
		vdc_obj_live_changed(q);
}
