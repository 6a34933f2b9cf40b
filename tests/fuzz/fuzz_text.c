/*
 * libFuzzer target for free text and names: vdc_text_check,
 * vdc_name_check and vdc_hostname_check, each compared with a reference
 * written here from the contract in validate.h rather than from the code.
 *
 * The reference UTF-8 decoder works by code point (length from the lead
 * byte, then range checks), unlike the byte-range tables of validate.c, so
 * a mistake in one is unlikely to be repeated in the other. The input sits
 * in a buffer of exactly its size.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "validate.h"

/* The error protocol of err.h, with the closed set of codes of the text checks. */
#define check_err(rc, err) fuzz_check_err(rc, err, -EINVAL)

/*
 * Valid UTF-8 (no overlong forms, surrogates or code points past
 * U+10FFFF), no control character (C0, DEL, C1) but tab, and newline
 * when `multiline`, and no bidirectional control.
 */
static bool ref_text_ok(const unsigned char *s, size_t len, bool multiline)
{
	static const uint32_t min_cp[] = { 0, 0, 0x80, 0x800, 0x10000 };
	size_t i = 0;

	while (i < len) {
		uint32_t cp;
		size_t n, k;

		if (s[i] < 0x80) {
			n = 1;
			cp = s[i];
		} else if ((s[i] & 0xe0) == 0xc0) {
			n = 2;
			cp = s[i] & 0x1f;
		} else if ((s[i] & 0xf0) == 0xe0) {
			n = 3;
			cp = s[i] & 0x0f;
		} else if ((s[i] & 0xf8) == 0xf0) {
			n = 4;
			cp = s[i] & 0x07;
		} else {
			return false;
		}
		if (len - i < n)
			return false;
		for (k = 1; k < n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min_cp[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		if (cp < 0x20 && cp != '\t' && !(cp == '\n' && multiline))
			return false;
		if (cp >= 0x7f && cp <= 0x9f)
			return false;
		/* The bidirectional marks, embeddings, overrides and isolates. */
		if (cp == 0x61c || cp == 0x200e || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
		    (cp >= 0x2066 && cp <= 0x2069))
			return false;
		i += n;
	}
	return true;
}

static bool ref_name_ok(const char *s, size_t len)
{
	size_t i;

	if (len < 1 || len > VDC_NAME_MAX || !(s[0] >= 'a' && s[0] <= 'z'))
		return false;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

/*
 * Labels of 1-63 letters, digits and inner hyphens, dot-joined, 253 at
 * most, the last one not all digits.
 */
static bool ref_hostname_ok(const char *s, size_t len)
{
	size_t start = 0, i;
	bool letter = false;

	if (len == 0)
		return true;
	if (len > 253)
		return false;
	while (start <= len) {
		const char *dot = memchr(s + start, '.', len - start);
		size_t end = dot ? (size_t)(dot - s) : len, l = end - start;

		if (l < 1 || l > 63 || s[start] == '-' || s[end - 1] == '-')
			return false;
		letter = false;
		for (i = start; i < end; i++) {
			char c = s[i];

			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			      (c >= '0' && c <= '9') || c == '-'))
				return false;
			if (!(c >= '0' && c <= '9'))
				letter = true;
		}
		start = end + 1;
	}
	return letter;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vdc_err err = VDC_ERR_INIT;
	char *s = fuzz_copy(data, size);
	int one, multi, rc;

	one = vdc_text_check(s, size, false, &err);
	check_err(one, &err);
	if ((one == 0) != ref_text_ok(data, size, false))
		abort();
	vdc_err_clear(&err);
	multi = vdc_text_check(s, size, true, &err);
	check_err(multi, &err);
	if ((multi == 0) != ref_text_ok(data, size, true))
		abort();
	/* One line of text is also valid multi-line text. */
	if (one == 0 && multi != 0)
		abort();
	if (vdc_text_check(s, size, true, NULL) != multi)
		abort();

	vdc_err_clear(&err);
	rc = vdc_name_check(s, size, &err);
	check_err(rc, &err);
	if ((rc == 0) != ref_name_ok(s, size))
		abort();

	vdc_err_clear(&err);
	rc = vdc_hostname_check(s, size, &err);
	check_err(rc, &err);
	if ((rc == 0) != ref_hostname_ok(s, size))
		abort();
	/* A valid name is a valid host name unless it ends in '-'. */
	if (ref_name_ok(s, size) && s[size - 1] != '-' && rc != 0)
		abort();

	free(s);
	return 0;
}
