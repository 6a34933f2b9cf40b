/*
 * Golden files for generated text (after libvirt's tests, which compare
 * generated XML and argv with files kept in the tree).
 *
 * golden_check(name, text, len) compares `text` with tests/unit/golden/
 * NAME byte for byte and fails the test at the caller's line when they
 * differ, printing both. With VDC_REGENERATE=1 in the environment it
 * writes the file instead (review the diff before committing it).
 * VDC_GOLDEN_DIR names another folder (the default is relative to the
 * top of the tree, where `make` runs the tests).
 */
#ifndef VDC_TESTS_GOLDEN_H
#define VDC_TESTS_GOLDEN_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define golden_check(name, text, len) golden_check_at((name), (text), (len), __FILE__, __LINE__)

static inline void golden_check_at(const char *name, const char *text, size_t len,
				   const char *file, int line)
{
	const char *dir = getenv("VDC_GOLDEN_DIR");
	const char *regen = getenv("VDC_REGENERATE");
	char path[4096], *want = NULL;
	size_t wlen = 0, cap = 0;
	int same;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir ? dir : "tests/unit/golden", name);
	if (regen && strcmp(regen, "1") == 0) {
		f = fopen(path, "w");
		_assert_true(f != NULL, "the golden file can be written", file, line);
		_assert_int_equal(fwrite(text, 1, len, f), len, file, line);
		fclose(f);
		return;
	}
	f = fopen(path, "r");
	if (!f)
		print_error("golden file %s is missing (VDC_REGENERATE=1 makes it)\n", path);
	_assert_true(f != NULL, "the golden file exists", file, line);
	for (;;) {
		size_t n;

		if (wlen == cap) {
			cap = cap ? cap * 2 : 4096;
			want = realloc(want, cap);
			_assert_true(want != NULL, "memory", file, line);
		}
		n = fread(want + wlen, 1, cap - wlen, f);
		if (n == 0)
			break;
		wlen += n;
	}
	fclose(f);
	same = wlen == len && (len == 0 || memcmp(want, text, len) == 0);
	if (!same)
		print_error("%s differs from what was made:\n--- want\n%.*s--- got\n%.*s---\n",
			    path, (int)wlen, want ? want : "", (int)len, text);
	free(want);
	_assert_true(same, "the text equals the golden file", file, line);
}

#endif
