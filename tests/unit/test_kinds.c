/*
 * Unit tests for the one list of kinds (kinds/kinds.c's vdc_kind_list[])
 * and the promises the front end relies on without naming a kind: the
 * list is in the order a restore needs (every kind a link or relation
 * folder points at comes before the kind that links, or is that kind's
 * own), quotas last, ids
 * and folder names distinct, and the files of a kind's own folder (only
 * hosts/ has any) as tree.md documents them. No model is opened: these
 * are the tables as compiled.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "kinds.h"

/* The position in vdc_kind_list[] of the kind (or its child kind) called `name`, or -1. */
static int position(const char *name)
{
	int i;

	for (i = 0; vdc_kind_list[i]; i++) {
		const struct vdc_kind *k = vdc_kind_list[i];

		unsigned j;

		if (!strcmp(k->name, name))
			return i;
		for (j = 0; j < k->nchilddirs; j++)
			if (!strcmp(k->childdirs[j].kind->name, name))
				return i;
	}
	return -1;
}

/*
 * Every target of `k`'s links and relation folders is listed before
 * position `at`, or at it: a volume's source is a snapshot, a child of
 * the volumes kind itself.
 */
static void targets_before(const struct vdc_kind *k, int at)
{
	unsigned j;

	for (j = 0; j < k->nattrs; j++) {
		if (k->attrs[j].type != VDC_ATTR_LINK)
			continue;
		assert_non_null(k->attrs[j].target);
		assert_in_range(position(k->attrs[j].target), 0, at);
	}
	for (j = 0; j < k->nreldirs; j++)
		assert_in_range(position(k->reldirs[j].target), 0, at - 1);
}

static void test_restore_order(void **state)
{
	int i;

	(void)state;
	for (i = 0; vdc_kind_list[i]; i++) {
		targets_before(vdc_kind_list[i], i);
		unsigned j;

		for (j = 0; j < vdc_kind_list[i]->nchilddirs; j++)
			targets_before(vdc_kind_list[i]->childdirs[j].kind, i);
	}
	/* Quotas last: a restore makes the objects before the limits on them. */
	assert_ptr_equal(vdc_kind_list[i - 1], &vdc_kind_quotas);
}

static void test_ids_and_names_distinct(void **state)
{
	int i, j;

	(void)state;
	for (i = 0; vdc_kind_list[i]; i++) {
		assert_int_not_equal(vdc_kind_list[i]->id, VDC_KIND_OTHER);
		assert_in_range(vdc_kind_list[i]->id, 1, VDC_KIND_IDS - 1);
		for (j = 0; j < i; j++) {
			assert_int_not_equal(vdc_kind_list[i]->id, vdc_kind_list[j]->id);
			assert_string_not_equal(vdc_kind_list[i]->name, vdc_kind_list[j]->name);
		}
	}
}

/* hosts/CACHEDIR.TAG (0444, the tag) and hosts/join (0400, root's alone); no other kind has files. */
static void test_kind_files(void **state)
{
	int i;

	(void)state;
	for (i = 0; vdc_kind_list[i]; i++) {
		assert_true(vdc_kind_list[i]->nfiles <= VDC_KIND_FILES_MAX);
		if (vdc_kind_list[i] != &vdc_kind_hosts)
			assert_int_equal(vdc_kind_list[i]->nfiles, 0);
	}
	assert_int_equal(vdc_kind_hosts.nfiles, 2);
	assert_string_equal(vdc_kind_hosts.files[0].name, "CACHEDIR.TAG");
	assert_int_equal(vdc_kind_hosts.files[0].mode, 0444);
	assert_null(vdc_kind_hosts.files[0].show);
	assert_string_equal(vdc_kind_hosts.files[1].name, "join");
	assert_int_equal(vdc_kind_hosts.files[1].mode, 0400);
	assert_non_null(vdc_kind_hosts.files[1].show);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_restore_order),
		cmocka_unit_test(test_ids_and_names_distinct),
		cmocka_unit_test(test_kind_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
