/*
 * Unit tests for the tgt driver's parser (agents/sta/target_tgt.c):
 * real `tgtadm --op show` output captured from tgtd 1.0.85 (a target of
 * ours with a logged-in session, CHAP account and ACL, and a foreign one
 * with an outgoing account) in tests/unit/golden/, and the lowest free tid.
 *
 * Links agents/sta/target_tgt.c, agents/common/{process,log}.c, backend.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "target.h"
#include "unit.h"

static char *slurp(const char *name, size_t *len)
{
	char path[512], *buf = malloc(1 << 20);
	FILE *f;

	snprintf(path, sizeof(path), "tests/unit/golden/%s", name);
	f = fopen(path, "r");
	assert_non_null(f);
	*len = fread(buf, 1, (1 << 20) - 1, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

static void test_targets(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct sta_tgt_view v = { 0 };
	struct sta_tgt_target *t;
	size_t len;
	char *text = slurp("sta-tgt-show.txt", &len);

	(void)state;
	assert_int_equal(sta_tgt_parse_targets(text, len, &v, &err), 0);
	assert_int_equal(v.n, 2);
	t = sta_tgt_find(&v, "iqn.2026-11.org.vdcfs:8d7f0a1b2c3d:vol-7");
	assert_non_null(t);
	assert_int_equal(t->tid, 1);
	assert_true(t->ready);
	assert_int_equal(t->sessions, 1);
	assert_true(t->has_lun);
	assert_int_equal(t->lun_mb, sta_tgt_size_mb(192ULL << 20));
	assert_true(t->lun_thin);
	assert_string_equal(t->lun_path, "/tmp/sta/v1.img");
	assert_int_equal(t->n_accounts, 1);
	assert_string_equal(t->accounts[0], "vol-7");
	assert_true(sta_tgt_target_has_account(t, "vol-7"));
	assert_int_equal(t->n_acl, 2);
	assert_string_equal(t->acl[0], "iqn.2026-11.org.vdcfs:8d7f0a1b2c3d:control");
	assert_string_equal(t->acl[1], "iqn.2026-11.org.vdcfs:8d7f0a1b2c3d:host-hv1");

	t = sta_tgt_find(&v, "iqn.2001-04.com.other:foo");
	assert_non_null(t);
	assert_int_equal(t->tid, 3);
	assert_int_equal(t->sessions, 0);
	assert_false(t->has_lun);
	assert_int_equal(t->n_accounts, 0);
	assert_int_equal(t->n_outgoing, 1);
	assert_string_equal(t->outgoing[0], "vol-9");
	assert_int_equal(t->n_acl, 0);
	assert_null(sta_tgt_find(&v, "iqn.2026-11.org.vdcfs:8d7f0a1b2c3d:vol-8"));
	assert_int_equal(sta_tgt_free_tid(&v), 2);
	sta_tgt_view_release(&v);
	free(text);
}

static void test_accounts(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct sta_tgt_view v = { 0 };
	size_t len;
	char *text = slurp("sta-tgt-accounts.txt", &len);

	(void)state;
	assert_int_equal(sta_tgt_parse_accounts(text, len, &v, &err), 0);
	assert_int_equal(v.n_accounts, 2);
	assert_true(sta_tgt_has_account(&v, "vol-7"));
	assert_true(sta_tgt_has_account(&v, "vol-9"));
	assert_false(sta_tgt_has_account(&v, "vol-8"));
	sta_tgt_view_release(&v);
	free(text);
}

static void test_empty_and_bad(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct sta_tgt_view v = { 0 };
	int rc;

	(void)state;
	assert_int_equal(sta_tgt_parse_targets("", 0, &v, &err), 0);
	assert_int_equal(v.n, 0);
	assert_int_equal(sta_tgt_free_tid(&v), 1);
	rc = sta_tgt_parse_targets("    LUN information:\n", 21, &v, &err);
	assert_int_equal(rc, -EINVAL);
	check_err(rc, &err);
	sta_tgt_view_release(&v);
	rc = sta_tgt_parse_targets("Target x\n", 9, &v, &err);
	assert_int_equal(rc, -EINVAL);
	check_err(rc, &err);
	sta_tgt_view_release(&v);
	rc = sta_tgt_parse_accounts("vol-1\n", 6, &v, &err);
	assert_int_equal(rc, -EINVAL);
	check_err(rc, &err);
	sta_tgt_view_release(&v);
	/* tgt prints whole MB: distinct whole MiB sizes never print alike. */
	assert_int_equal(sta_tgt_size_mb(64ULL << 20), 67);
	assert_int_equal(sta_tgt_size_mb(32ULL << 20), 34);
	assert_true(sta_tgt_size_mb(65ULL << 20) != sta_tgt_size_mb(64ULL << 20));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_targets),
		cmocka_unit_test(test_accounts),
		cmocka_unit_test(test_empty_and_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
