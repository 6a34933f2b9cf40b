/*
 * Helpers shared by the cmocka unit tests in tests/unit/.
 *
 * check_err(rc, err) checks one call against the error protocol of err.h.
 * A zero `rc` is success and is not looked at further. Any other `rc` must
 * be a negative errno equal to `err->code`, and `err->msg` must be a
 * sentence fit for run/err and the events log: non-empty, not starting
 * with a capital letter, without a final full stop, and printable ASCII
 * only, so that none of the user's raw bytes reach it.
 *
 * check_err() is a macro so that cmocka reports a failure at the line of
 * the test that made the call, not at a line of this header.
 */
#ifndef VDC_TESTS_UNIT_H
#define VDC_TESTS_UNIT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ctype.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

#define check_err(rc, err) unit_check_err((rc), (err), __FILE__, __LINE__)

/*
 * The body of check_err(). It calls the functions behind cmocka's
 * assert_*() macros, which take the file and line to report, because the
 * macros themselves would name this header.
 */
static inline void unit_check_err(int rc, const struct vdc_err *err, const char *file, int line)
{
	size_t i, len;

	if (rc == 0)
		return;
	_assert_true(rc < 0, "rc < 0", file, line);
	_assert_int_equal(cast_to_largest_integral_type(err->code),
			  cast_to_largest_integral_type(rc), file, line);
	len = strlen(err->msg);
	_assert_true(len > 0, "strlen(err->msg) > 0", file, line);
	_assert_true(!isupper((unsigned char)err->msg[0]),
		     "!isupper((unsigned char)err->msg[0])", file, line);
	_assert_int_not_equal(cast_to_largest_integral_type(err->msg[len - 1]),
			      cast_to_largest_integral_type('.'), file, line);
	for (i = 0; i < len; i++)
		_assert_true(err->msg[i] >= 0x20 && err->msg[i] < 0x7f,
			     "err->msg[i] >= 0x20 && err->msg[i] < 0x7f", file, line);
}

/*
 * A private folder for a test's store: $TMPDIR (or /tmp)/vdc-test-NAME-XXXXXX,
 * made with mkdtemp() into `dir` (n bytes). Returns 0 or -1.
 */
static inline int unit_tmpdir(char *dir, size_t n, const char *name)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, n, "%s/vdc-test-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", name);
	return mkdtemp(dir) ? 0 : -1;
}

static inline int unit_rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path);
}

/* Remove the folder unit_tmpdir() made, with everything in it. */
static inline int unit_rmtree(const char *dir)
{
	return nftw(dir, unit_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
