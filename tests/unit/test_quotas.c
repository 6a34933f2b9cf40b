/*
 * Unit tests for quotas per user (backend/quota.c, vdcfs/quotas.c): the
 * limits' syntax, a user's use summed over their instances and volumes,
 * the refusal of growth past a limit (and nothing else), mkdir of a quota
 * by login name, and the checks the kinds make at mkdir, write and chown.
 * The real kinds of vdcfs/ and the real sqlite store in a private folder
 * (tests/unit/unit_model.h); the user is `nobody` of this machine.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pwd.h>
#include <stdio.h>
#include <string.h>

#include "kinds.h"
#include "quota.h"
#include "unit_model.h"

#define MIB(n) ((uint64_t)(n) << 20)
#define GIB(n) ((uint64_t)(n) << 30)

static char dir[256];
static uid_t user;      /* nobody's uid */
static gid_t group;     /* and group */

static int setup(void **state)
{
	struct passwd *pw = getpwnam("nobody");

	(void)state;
	if (!pw)
		return -1;
	user = pw->pw_uid;
	group = pw->pw_gid;
	return unit_model_setup(dir, sizeof(dir), "quotas");
}

static int teardown(void **state)
{
	(void)state;
	return unit_model_teardown(dir);
}

/* mkdir KIND/NAME as `uid`: the errno, the sentence checked. */
static int make(const struct vdc_kind *k, const char *name, uid_t uid, struct vdc_obj **out)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_obj *o = NULL;
	int rc = vdc_obj_create(k, NULL, name, strlen(name), uid, uid, &o, &err);

	check_err(rc, &err);
	if (out)
		*out = o;
	return rc;
}

/* Write attribute NAME of `o`: the errno, with the sentence in `err`. */
static int write_attr(struct vdc_obj *o, const char *name, const char *value, struct vdc_err *err)
{
	int rc;

	vdc_err_clear(err);
	rc = vdc_attr_set(o, (unsigned)unit_attr(o, name), value, strlen(value), err);
	check_err(rc, err);
	return rc;
}

/* What a run/ file of quota `q` shows (a static buffer). */
static const char *shown(const struct vdc_obj *q, const char *file)
{
	static char buf[64];
	__do_strbuf struct strbuf sb = STRBUF_INIT;
	unsigned i;

	for (i = 0; i < q->kind->nrunfiles; i++)
		if (!strcmp(q->kind->runfiles[i].name, file))
			q->kind->runfiles[i].show(q, &sb);
	snprintf(buf, sizeof(buf), "%s", sb.buf);
	return buf;
}

/* quotas/nobody made by root, with the limits given ("none" for none). */
static struct vdc_obj *quota(const char *instances, const char *cpus, const char *memory, const char *size)
{
	struct vdc_obj *q;

	assert_int_equal(make(&vdc_kind_quotas, "nobody", 0, &q), 0);
	unit_set(q, "instances", instances);
	unit_set(q, "cpus", cpus);
	unit_set(q, "memory", memory);
	unit_set(q, "volume-size", size);
	return q;
}

static void test_limit_syntax(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	uint64_t v;
	char text[32];

	(void)state;
	assert_int_equal(vdc_quota_limit_parse(VDC_QUOTA_CPUS, "none", 4, &v, &err), 0);
	assert_true(v == VDC_QUOTA_NONE);
	assert_int_equal(vdc_quota_limit_parse(VDC_QUOTA_INSTANCES, "0", 1, &v, &err), 0);
	assert_true(v == 0);
	assert_int_equal(vdc_quota_limit_parse(VDC_QUOTA_CPUS, "1000000", 7, &v, &err), 0);
	assert_true(v == 1000000);
	assert_int_equal(vdc_quota_limit_parse(VDC_QUOTA_MEMORY, "2G", 2, &v, &err), 0);
	assert_true(v == GIB(2));
	assert_int_equal(vdc_quota_limit_parse(VDC_QUOTA_VOLUME_SIZE, "0", 1, &v, &err), 0);
	assert_true(v == 0);

	v = 7;
	assert_int_equal(vdc_quota_limit_parse(VDC_QUOTA_CPUS, "1000001", 7, &v, &err), -ERANGE);
	check_err(-ERANGE, &err);
	assert_non_null(strstr(err.msg, "or none for no limit"));
	assert_int_equal(vdc_quota_limit_parse(VDC_QUOTA_CPUS, "-1", 2, &v, &err), -EINVAL);
	assert_int_equal(vdc_quota_limit_parse(VDC_QUOTA_CPUS, "None", 4, &v, &err), -EINVAL);
	assert_int_equal(vdc_quota_limit_parse(VDC_QUOTA_CPUS, "", 0, &v, &err), -EINVAL);
	assert_int_equal(vdc_quota_limit_parse(VDC_QUOTA_INSTANCES, "2G", 2, &v, &err), -EINVAL);
	assert_int_equal(vdc_quota_limit_parse(VDC_QUOTA_MEMORY, "1000", 4, &v, &err), -EINVAL);
	check_err(-EINVAL, &err);
	assert_int_equal(vdc_quota_limit_parse(VDC_QUOTA_MEMORY, "1025T", 5, &v, &err), -ERANGE);
	assert_int_equal(vdc_quota_limit_parse(VDC_QUOTA_VOLUME_SIZE, "lots", 4, &v, &err), -EINVAL);
	assert_true(v == 7);   /* a refused limit leaves the output alone */

	vdc_quota_format(VDC_QUOTA_MEMORY, MIB(1536), text, sizeof(text));
	assert_string_equal(text, "1536M");
	vdc_quota_format(VDC_QUOTA_VOLUME_SIZE, 0, text, sizeof(text));
	assert_string_equal(text, "0");
	vdc_quota_format(VDC_QUOTA_CPUS, 12, text, sizeof(text));
	assert_string_equal(text, "12");
	vdc_quota_format(VDC_QUOTA_INSTANCES, VDC_QUOTA_NONE, text, sizeof(text));
	assert_string_equal(text, "none");
}

static void test_quota_is_named_after_a_user(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_obj *q;

	(void)state;
	assert_int_equal(make(&vdc_kind_quotas, "nobody", user, NULL), -EACCES);
	assert_int_equal(make(&vdc_kind_quotas, "no-such-user-here", 0, NULL), -ENOENT);
	assert_int_equal(make(&vdc_kind_quotas, "root", 0, NULL), -EINVAL);
	assert_null(unit_find(&vdc_kind_quotas, "nobody"));
	assert_null(unit_find(&vdc_kind_quotas, "root"));

	assert_int_equal(make(&vdc_kind_quotas, "nobody", 0, &q), 0);
	assert_int_equal(q->uid, user);
	assert_int_equal(q->gid, group);
	assert_ptr_equal(vdc_quota_of(user), q);
	assert_null(vdc_quota_of(0));
	assert_string_equal(shown(q, "instances"), "0\n");
	assert_string_equal(shown(q, "memory"), "0\n");
	for (unsigned r = 0; r < VDC_QUOTA_NRES; r++)
		assert_true(vdc_quota_limit(q, r) == VDC_QUOTA_NONE);

	/* Its owner is the user it limits: it is neither renamed nor given away. */
	assert_int_equal(vdc_obj_rename(q, "daemon", 6, &err), -EPERM);
	check_err(-EPERM, &err);
	assert_int_equal(vdc_obj_chown(q, 1, 1, &err), -EPERM);
	check_err(-EPERM, &err);
	assert_int_equal(q->uid, user);
	assert_string_equal(q->name, "nobody");

	/* It survives a restart, with its owner and limits. */
	unit_set(q, "cpus", "4");
	unit_model_reopen(dir);
	q = unit_find(&vdc_kind_quotas, "nobody");
	assert_non_null(q);
	assert_int_equal(q->uid, user);
	assert_true(vdc_quota_limit(q, VDC_QUOTA_CPUS) == 4);
}

static void test_instances_count_cpus_and_memory(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_obj *q = quota("2", "3", "1G", "none"), *a, *b, *theirs;

	(void)state;
	assert_int_equal(make(&vdc_kind_instances, "a", user, &a), 0);
	assert_int_equal(make(&vdc_kind_instances, "b", user, &b), 0);
	assert_int_equal(make(&vdc_kind_instances, "c", user, NULL), -EDQUOT);
	assert_null(unit_find(&vdc_kind_instances, "c"));
	/* Root and other users are not counted, nor limited. */
	assert_int_equal(make(&vdc_kind_instances, "r1", 0, NULL), 0);
	assert_int_equal(make(&vdc_kind_instances, "theirs", user + 1, &theirs), 0);
	unit_set(theirs, "cpus", "64");
	assert_string_equal(shown(q, "instances"), "2\n");
	assert_string_equal(shown(q, "cpus"), "2\n");
	assert_string_equal(shown(q, "memory"), "1G\n");

	/* The new value replaces the old one in the sum. */
	assert_int_equal(write_attr(a, "cpus", "2", &err), 0);
	assert_int_equal(write_attr(b, "cpus", "2", &err), -EDQUOT);
	assert_string_equal(err.msg, "cpus quota of nobody exceeded: the limit is 3, 3 in use, 4 after this change");
	assert_string_equal(vdc_attr_value(b, (unsigned)unit_attr(b, "cpus"), &(size_t){ 0 }), "1");
	assert_int_equal(write_attr(a, "cpus", "3", &err), -EDQUOT);
	assert_int_equal(write_attr(a, "memory", "1G", &err), -EDQUOT);
	assert_string_equal(err.msg,
			    "memory quota of nobody exceeded: the limit is 1G, 1G in use, 1536M after this change");
	assert_int_equal(write_attr(a, "memory", "256M", &err), 0);
	assert_int_equal(write_attr(b, "memory", "768M", &err), 0);
	assert_string_equal(shown(q, "memory"), "1G\n");

	/* A bad value is refused for what it is, before any quota. */
	assert_int_equal(write_attr(b, "cpus", "0", &err), -ERANGE);
	/* A limit of none lifts it. */
	unit_set(q, "cpus", "none");
	assert_int_equal(write_attr(b, "cpus", "100", &err), 0);
	assert_string_equal(shown(q, "cpus"), "102\n");
}

static void test_lowering_touches_nothing(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_obj *q = quota("none", "none", "none", "none"), *a, *b;

	(void)state;
	assert_int_equal(make(&vdc_kind_instances, "a", user, &a), 0);
	assert_int_equal(make(&vdc_kind_instances, "b", user, &b), 0);
	unit_set(a, "cpus", "4");
	unit_set(q, "instances", "1");
	unit_set(q, "cpus", "1");
	unit_set(q, "memory", "64M");

	/* Both stay, over the limits; only growth is refused. */
	assert_non_null(unit_find(&vdc_kind_instances, "a"));
	assert_non_null(unit_find(&vdc_kind_instances, "b"));
	assert_string_equal(shown(q, "instances"), "2\n");
	assert_int_equal(make(&vdc_kind_instances, "c", user, NULL), -EDQUOT);
	assert_int_equal(write_attr(a, "cpus", "3", &err), 0);     /* shrinks, still over */
	assert_int_equal(write_attr(a, "cpus", "3", &err), 0);     /* the same value again */
	assert_int_equal(write_attr(a, "cpus", "4", &err), -EDQUOT);
	assert_int_equal(write_attr(b, "memory", "128M", &err), 0);
	assert_int_equal(write_attr(b, "memory", "256M", &err), -EDQUOT);

	/* Removing one frees its share; a restart keeps everything as it was. */
	unit_model_reopen(dir);
	q = unit_find(&vdc_kind_quotas, "nobody");
	b = unit_find(&vdc_kind_instances, "b");
	assert_int_equal(vdc_obj_destroy(b, &err), 0);
	assert_string_equal(shown(q, "instances"), "1\n");
	assert_string_equal(shown(q, "cpus"), "3\n");
	assert_int_equal(make(&vdc_kind_instances, "c", user, NULL), -EDQUOT);
}

static void test_volumes_count_their_size(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_obj *q = quota("none", "none", "none", "100M"), *small, *v;

	(void)state;
	/* mkdir makes a volume at its default size, 1G. */
	assert_int_equal(make(&vdc_kind_volumes, "big", user, NULL), -EDQUOT);
	unit_set(q, "volume-size", "2G");
	assert_int_equal(make(&vdc_kind_volumes, "v", user, &v), 0);
	assert_string_equal(shown(q, "volume-size"), "1G\n");
	assert_int_equal(write_attr(v, "size", "3G", &err), -EDQUOT);
	assert_string_equal(err.msg,
			    "volume-size quota of nobody exceeded: the limit is 2G, 1G in use, 3G after this change");
	assert_int_equal(write_attr(v, "size", "2G", &err), 0);
	assert_int_equal(write_attr(v, "size", "64M", &err), 0);   /* not placed: it may shrink */
	assert_string_equal(shown(q, "volume-size"), "64M\n");

	/* chown to the user: the object's whole share must fit. */
	assert_int_equal(make(&vdc_kind_volumes, "small", 0, &small), 0);
	assert_int_equal(vdc_obj_chown(small, user, group, &err), 0);
	assert_string_equal(shown(q, "volume-size"), "1088M\n");
	unit_set(q, "volume-size", "1G");
	assert_int_equal(make(&vdc_kind_volumes, "other", 0, &v), 0);
	unit_set(v, "size", "32M");
	assert_int_equal(vdc_obj_chown(v, user, group, &err), -EDQUOT);
	check_err(-EDQUOT, &err);
	assert_int_equal(v->uid, 0);
	/* Back to root is no growth of anyone's; a new group alone changes no use. */
	assert_int_equal(vdc_obj_chown(small, 0, 0, &err), 0);
	assert_string_equal(shown(q, "volume-size"), "64M\n");
	assert_int_equal(vdc_obj_chown(v, 0, 5, &err), 0);
}

static void test_chown_of_an_instance(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_obj *r;

	(void)state;
	quota("1", "2", "none", "none");
	assert_int_equal(make(&vdc_kind_instances, "r", 0, &r), 0);
	unit_set(r, "cpus", "3");
	assert_int_equal(vdc_obj_chown(r, user, group, &err), -EDQUOT);
	assert_non_null(strstr(err.msg, "cpus quota of nobody"));
	unit_set(r, "cpus", "2");
	assert_int_equal(vdc_obj_chown(r, user, group, &err), 0);
	assert_int_equal(r->uid, user);
	/* A rename changes no one's use. */
	assert_int_equal(vdc_obj_rename(r, "s", 1, &err), 0);
}

static void test_check_counts_growth_only(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_quota_use before = { { 0 } }, after = { { 0 } };

	(void)state;
	/* No quota: anything goes; root never has one. */
	after.n[VDC_QUOTA_CPUS] = 1000;
	assert_int_equal(vdc_quota_check(user, &before, &after, &err), 0);
	quota("none", "2", "none", "none");
	assert_int_equal(vdc_quota_check(0, &before, &after, &err), 0);
	assert_int_equal(vdc_quota_check(user, &before, &after, &err), -EDQUOT);
	after.n[VDC_QUOTA_CPUS] = 2;
	assert_int_equal(vdc_quota_check(user, &before, &after, &err), 0);
	/* A shrink passes whatever the limit. */
	before.n[VDC_QUOTA_CPUS] = 5;
	after.n[VDC_QUOTA_CPUS] = 4;
	assert_int_equal(vdc_quota_check(user, &before, &after, &err), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_limit_syntax, setup, teardown),
		cmocka_unit_test_setup_teardown(test_quota_is_named_after_a_user, setup, teardown),
		cmocka_unit_test_setup_teardown(test_instances_count_cpus_and_memory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lowering_touches_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_volumes_count_their_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chown_of_an_instance, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_counts_growth_only, setup, teardown),
	};

	return cmocka_run_group_tests_name("quotas", tests, NULL, NULL);
}
