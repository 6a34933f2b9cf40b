/*
 * The model as the backend's unit tests see it (test_placement,
 * test_volumes, test_networks): the real kinds of vdcfs/ and the real
 * sqlite store in a private folder, the write lock held through each
 * test as model.h asks, and the small helpers every such test uses to
 * find an object and set an attribute. Include it after cmocka.h.
 */
#ifndef VDC_TESTS_UNIT_MODEL_H
#define VDC_TESTS_UNIT_MODEL_H

#include "host.h"
#include "kinds.h"
#include "place.h"
#include "reconcile.h"
#include "unit.h"

/* The kinds, in the order vdcfs registers them (targets before sources). */
static const struct vdc_kind *const unit_kinds[] = {
	&vdc_kind_images, &vdc_kind_ssh_keys, &vdc_kind_security_groups, &vdc_kind_networks,
	&vdc_kind_volumes, &vdc_kind_instances, &vdc_kind_hosts, &vdc_kind_quotas, NULL,
};

/*
 * A fresh store in a private folder (unit_tmpdir: `dir`, `n` bytes) for
 * test NAME, opened with the product's host timeout and heartbeat, and
 * the write lock taken. 0, or -1 for cmocka's setup to fail.
 */
static inline int unit_model_setup(char *dir, size_t n, const char *name)
{
	struct vdc_err err = VDC_ERR_INIT;

	if (unit_tmpdir(dir, n, name) < 0)
		return -1;
	vdc_hosts_configure(15, 5);
	if (vdc_model_open(dir, unit_kinds, false, &err) < 0)
		return -1;
	vdc_model_wrlock();
	return 0;
}

/* The lock let go, the store closed, its folder removed. */
static inline int unit_model_teardown(const char *dir)
{
	vdc_model_unlock();
	vdc_model_close();
	return unit_rmtree(dir);
}

/* Close the store and open it again, as a restart of vdcfs does; the write lock is held again after. */
static inline void unit_model_reopen(const char *dir)
{
	struct vdc_err err = VDC_ERR_INIT;

	vdc_model_unlock();
	vdc_model_close();
	assert_int_equal(vdc_model_open(dir, unit_kinds, false, &err), 0);
	vdc_model_wrlock();
}

/* The top-level object NAME of kind `k`, or NULL. */
static inline struct vdc_obj *unit_find(const struct vdc_kind *k, const char *name)
{
	return vdc_obj_find(k, NULL, name, strlen(name));
}

/* The index of attribute NAME of `o`'s kind (the test fails without one). */
static inline int unit_attr(const struct vdc_obj *o, const char *name)
{
	int a = vdc_attr_index(o->kind, name, strlen(name));

	assert_true(a >= 0);
	return a;
}

/* Set attribute NAME of `o` as a write would; the test fails when it is refused. */
static inline void unit_set(struct vdc_obj *o, const char *name, const char *value)
{
	struct vdc_err err = VDC_ERR_INIT;

	assert_int_equal(vdc_attr_set(o, (unsigned)unit_attr(o, name), value, strlen(value), &err), 0);
}

#endif
