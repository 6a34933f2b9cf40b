/*
 * quotas/USER/: the limits of one user's instances and volumes, made by
 * root and named after the user's login name. The sums and the check the
 * limited kinds call are in kinds/quota.c.
 */
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kinds.h"
#include "quota.h"

static int check_limit(enum vdc_quota_res r, const char *v, size_t len, struct vdc_err *err)
{
	uint64_t limit;

	return vdc_quota_limit_parse(r, v, len, &limit, err);
}

static int check_instances(const struct vdc_obj *obj, const char *v, size_t len, struct vdc_err *err)
{
	(void)obj;
	return check_limit(VDC_QUOTA_INSTANCES, v, len, err);
}

static int check_cpus(const struct vdc_obj *obj, const char *v, size_t len, struct vdc_err *err)
{
	(void)obj;
	return check_limit(VDC_QUOTA_CPUS, v, len, err);
}

static int check_memory(const struct vdc_obj *obj, const char *v, size_t len, struct vdc_err *err)
{
	(void)obj;
	return check_limit(VDC_QUOTA_MEMORY, v, len, err);
}

static int check_volume_size(const struct vdc_obj *obj, const char *v, size_t len, struct vdc_err *err)
{
	(void)obj;
	return check_limit(VDC_QUOTA_VOLUME_SIZE, v, len, err);
}

/* In the order of enum vdc_quota_res. */
static const struct vdc_attr_def attrs[] = {
	[VDC_QUOTA_INSTANCES] = { "instances", VDC_ATTR_VALUE, "none", NULL, 32, 0, check_instances },
	[VDC_QUOTA_CPUS] = { "cpus", VDC_ATTR_VALUE, "none", NULL, 32, 0, check_cpus },
	[VDC_QUOTA_MEMORY] = { "memory", VDC_ATTR_VALUE, "none", NULL, 32, 0, check_memory },
	[VDC_QUOTA_VOLUME_SIZE] = { "volume-size", VDC_ATTR_VALUE, "none", NULL, 32, 0, check_volume_size },
};
VDC_TABLE_IS(attrs, VDC_QUOTA_NRES);

/* run/RESOURCE: what the user's objects take now, in the units of the limit. */
static void show_use(const struct vdc_obj *quota, enum vdc_quota_res r, struct strbuf *out)
{
	struct vdc_quota_use use;
	char text[32];

	vdc_quota_use(quota->uid, &use);
	vdc_quota_format(r, use.n[r], text, sizeof(text));
	strbuf_addf(out, "%s\n", text);
}

static void show_instances(const struct vdc_obj *quota, struct strbuf *out)
{
	show_use(quota, VDC_QUOTA_INSTANCES, out);
}

static void show_cpus(const struct vdc_obj *quota, struct strbuf *out)
{
	show_use(quota, VDC_QUOTA_CPUS, out);
}

static void show_memory(const struct vdc_obj *quota, struct strbuf *out)
{
	show_use(quota, VDC_QUOTA_MEMORY, out);
}

static void show_volume_size(const struct vdc_obj *quota, struct strbuf *out)
{
	show_use(quota, VDC_QUOTA_VOLUME_SIZE, out);
}

static const struct vdc_run_def runfiles[] = {
	VDC_RUN_COMMON,
	{ "instances", show_instances },
	{ "cpus", show_cpus },
	{ "memory", show_memory },
	{ "volume-size", show_volume_size },
};

static const struct vdc_verb_def verbs[] = {
	VDC_VERBS_COMMON,
};

/* The user named `name` in the password database (files, LDAP, ...): -ENOENT for none. */
static int user_find(const char *name, uid_t *uid, gid_t *gid, struct vdc_err *err)
{
	long hint = sysconf(_SC_GETPW_R_SIZE_MAX);
	size_t n = hint > 0 ? (size_t)hint : 4096;
	struct passwd pw, *found;
	int rc;

	for (;;) {
		__do_free char *buf = xmalloc(n);

		rc = getpwnam_r(name, &pw, buf, n, &found);
		if (rc == ERANGE && n < (1U << 20)) {
			n *= 2;
			continue;
		}
		if (rc)
			return vdc_err_set(err, -rc, "cannot look up user %s: %s", name, strerror(rc));
		if (!found)
			return vdc_err_set(err, -ENOENT, "no user is named %s; a quota is named after the login name of the user it limits",
					   name);
		*uid = pw.pw_uid;
		*gid = pw.pw_gid;
		return 0;
	}
}

/*
 * A quota belongs to the user it limits, so that user may read it (its
 * files show no write permission: only root changes it). mkdir is root's
 * alone and takes a login name; the quota keeps that user's uid, so it
 * is never renamed and never given to another user.
 */
static int quota_may_own(const struct vdc_kind *kind, struct vdc_obj *parent, const struct vdc_obj *obj,
			 const char *name, uid_t *uid, gid_t *gid, struct vdc_err *err)
{
	struct vdc_obj *other;
	uid_t u = 0;
	gid_t g = 0;
	int rc;

	(void)kind;
	(void)parent;
	if (obj && strcmp(obj->name, name))
		return vdc_err_set(err, -EPERM, "quotas/%s is named after the user it limits; make quotas/%s and remove quotas/%s instead",
				   obj->name, name, obj->name);
	if (obj) {
		if (*uid != obj->uid)
			return vdc_err_set(err, -EPERM, "quotas/%s belongs to the user it limits (uid %u); it cannot be given to another",
					   obj->name, (unsigned)obj->uid);
		return 0;
	}
	if (*uid != 0)
		return vdc_err_set(err, -EACCES, "only root makes quotas");
	rc = user_find(name, &u, &g, err);
	if (rc < 0)
		return rc;
	if (u == 0)
		return vdc_err_set(err, -EINVAL, "%s is uid 0, whose objects are never limited; a quota names another user", name);
	other = vdc_quota_of(u);
	if (other)
		return vdc_err_set(err, -EEXIST, "quotas/%s already limits uid %u, the uid of %s", other->name, (unsigned)u,
				   name);
	*uid = u;
	*gid = g;
	return 0;
}

const struct vdc_kind vdc_kind_quotas = {
	.id = VDC_KIND_QUOTAS,
	.name = "quotas",
	.noun = "quota",
	.attrs = attrs,
	.nattrs = VDC_NATTRS(attrs),
	.runfiles = runfiles,
	.nrunfiles = VDC_NRUNFILES(runfiles),
	.verbs = verbs,
	.nverbs = VDC_ARRAY_SIZE(verbs),
	.initial_state = "active",
	.may_own = quota_may_own,
	.made_by_root = true,
};
