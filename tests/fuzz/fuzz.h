/*
 * Helpers shared by the libFuzzer targets in tests/fuzz/.
 *
 * Invariants are checked with abort() so that libFuzzer keeps the input
 * that broke them.
 */
#ifndef VDC_TESTS_FUZZ_H
#define VDC_TESTS_FUZZ_H

#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * fuzz_check_err(rc, err, code...) checks one call against the error
 * protocol of err.h. A zero `rc` is success and is not looked at further.
 * Any other `rc` must be one of the codes listed (negative errnos, such as
 * -EINVAL, at least one) and equal to `err->code`, and `err->msg` must be
 * non-empty, not start with a capital letter and hold printable ASCII only.
 * A target lists the codes once, in a check_err() macro of its own.
 */
#define fuzz_check_err(rc, err, ...) \
	fuzz_check_err_in((rc), (err), (const int[]){ __VA_ARGS__, 0 })

/* The body of fuzz_check_err(); `codes` ends with a 0. */
static inline void fuzz_check_err_in(int rc, const struct vdc_err *err, const int *codes)
{
	size_t i;

	if (rc == 0)
		return;
	for (i = 0; codes[i] && codes[i] != rc; i++)
		;
	if (!codes[i])
		abort();
	if (err->code != rc || !err->msg[0] || isupper((unsigned char)err->msg[0]))
		abort();
	for (i = 0; err->msg[i]; i++)
		if (err->msg[i] < 0x20 || err->msg[i] > 0x7e)
			abort();
}

/*
 * malloc(size), aborting when that fails. The buffer has exactly the size
 * asked for, so that AddressSanitizer catches any access past it. A size
 * of 0 may give NULL, which the code under test must accept with a length
 * of 0.
 */
static inline void *fuzz_alloc(size_t size)
{
	void *p = malloc(size);

	if (!p && size)
		abort();
	return p;
}

/*
 * A copy of the fuzzer's input in a buffer of exactly its size, without a
 * terminator, the way a write(2) buffer reaches the FUSE layer: a read past
 * the length is caught rather than stopped by a NUL. Free it with free().
 */
static inline char *fuzz_copy(const uint8_t *data, size_t size)
{
	char *s = fuzz_alloc(size);

	if (size)
		memcpy(s, data, size);
	return s;
}

#endif
