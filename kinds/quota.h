/*
 * Layer: kinds, beside the others: it calls only the model.
 *
 * Quotas per user (quotas/USER in docs/tree.md): what a user's objects
 * take, and the check the kinds call before that use grows.
 *
 * Contract
 * --------
 * - Every function expects the caller to hold the model's lock (the write
 *   lock for the checks, which may mark a quota's run/ changed).
 * - A user's use is summed over the objects the uid owns, whatever their
 *   state: every instance counts one, with its `cpus` and `memory`, powered
 *   on or off (a stopped instance keeps its claim: `power on` is never
 *   refused for a quota); every volume counts its `size`. Snapshots and
 *   nics count nothing.
 * - Root (uid 0) is never limited, nor a user without a quota object.
 * - Only growth is refused. A change that leaves every resource of the
 *   user no larger than before passes, even while the use is over a limit
 *   root lowered; nothing already made is ever touched by a quota.
 * - A refusal is -EDQUOT with a sentence naming the quota, its limit, the
 *   use and what the change would make.
 */
#ifndef VDC_QUOTA_H
#define VDC_QUOTA_H

#include <stdint.h>
#include <sys/types.h>

#include "model.h"

/* The resources a quota limits, in the order of the quota's attributes. */
enum vdc_quota_res {
	VDC_QUOTA_INSTANCES,
	VDC_QUOTA_CPUS,
	VDC_QUOTA_MEMORY,
	VDC_QUOTA_VOLUME_SIZE,
	VDC_QUOTA_NRES
};

/* No limit: what `none` parses to. */
#define VDC_QUOTA_NONE UINT64_MAX

/* An amount of every resource: one object's share, or a user's use. */
struct vdc_quota_use {
	uint64_t n[VDC_QUOTA_NRES];
};

/* The name of each resource: the quota's attribute and run/ file. */
extern const char *const vdc_quota_names[VDC_QUOTA_NRES];

/*
 * Parse a limit of resource `r` as written to the quota's attribute:
 * `none` (VDC_QUOTA_NONE), a whole number for instances and cpus, a size
 * in whole MiB for memory and volume-size (`512M`, `2G`). -EINVAL or
 * -ERANGE with the sentence otherwise.
 */
int vdc_quota_limit_parse(enum vdc_quota_res r, const char *s, size_t len, uint64_t *out,
			  struct vdc_err *err);

/* An amount of `r` as its attribute writes it: `2`, `512M`, `none`. */
void vdc_quota_format(enum vdc_quota_res r, uint64_t v, char *out, size_t outlen);

/* The quota object that limits `uid`, or NULL (always NULL for root). */
struct vdc_obj *vdc_quota_of(uid_t uid);

/* The limit of `r` set in quota object `quota` (VDC_QUOTA_NONE for none). */
uint64_t vdc_quota_limit(const struct vdc_obj *quota, enum vdc_quota_res r);

/*
 * The share of `obj`, of kind `kind` (an instance or a volume; any other
 * kind takes nothing). With `obj` NULL, the share of a new object of the
 * kind, which mkdir makes with the defaults of its attributes.
 */
void vdc_quota_share(const struct vdc_kind *kind, const struct vdc_obj *obj, struct vdc_quota_use *out);

/* What the objects of `uid` take now. */
void vdc_quota_use(uid_t uid, struct vdc_quota_use *use);

/*
 * May `uid`'s use change by one object's share going from `before` to
 * `after` (zero before a mkdir or a chown to `uid`)? 0, or -EDQUOT with
 * the sentence when a resource grows past its limit.
 */
int vdc_quota_check(uid_t uid, const struct vdc_quota_use *before, const struct vdc_quota_use *after,
		    struct vdc_err *err);

/*
 * The check of an attribute write: `obj` (an instance or a volume) with
 * resource `r` at `value` instead of its current value.
 */
int vdc_quota_check_value(const struct vdc_obj *obj, enum vdc_quota_res r, uint64_t value,
			  struct vdc_err *err);

/*
 * The may_own hook of the kinds a quota limits (struct vdc_kind): a new
 * object, or one given to another user, must fit that user's quota.
 */
int vdc_quota_may_own(const struct vdc_kind *kind, struct vdc_obj *parent, const struct vdc_obj *obj,
		      const char *name, uid_t *uid, gid_t *gid, struct vdc_err *err);

/* The use of `uid` changed (an object of theirs went away): its quota's run/ shows it. */
void vdc_quota_touch(uid_t uid);

#endif
