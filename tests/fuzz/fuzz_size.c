/*
 * libFuzzer target for numbers: vdc_size_parse, vdc_size_format,
 * vdc_uint_parse and vdc_onoff_parse.
 *
 * Besides the error protocol it checks that a parsed size survives
 * format-then-parse unchanged, that a plain decimal gets the same verdict
 * from the size and the integer parser, that neither accepts a leading
 * zero, and that on/off accepts exactly two spellings. The input sits in a buffer of exactly its size.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "validate.h"

/* The error protocol of err.h, with the closed set of codes of the number parsers. */
#define check_err(rc, err) fuzz_check_err(rc, err, -EINVAL, -ERANGE)

/* Format `v`, parse it back and demand the same number. */
static void check_size_round_trip(uint64_t v)
{
	struct vdc_err err = VDC_ERR_INIT;
	char buf[32];
	uint64_t back = ~v;
	size_t n;

	vdc_size_format(v, buf, sizeof(buf));
	n = strlen(buf);
	if (n == 0 || n > 20)
		abort();
	if (vdc_size_parse(buf, n, "size", &back, &err) != 0 || back != v)
		abort();
}

/* "010", "0512M": a zero followed by another digit. */
static bool leading_zero(const char *s, size_t len)
{
	return len > 1 && s[0] == '0' && s[1] >= '0' && s[1] <= '9';
}

static bool all_digits(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return len > 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vdc_err err = VDC_ERR_INIT;
	uint64_t v = 0, u = 0, p = 0;
	char *s = fuzz_copy(data, size);
	int rc, urc, prc;
	bool on;

	rc = vdc_size_parse(s, size, "size", &v, &err);
	check_err(rc, &err);
	if (rc == 0)
		check_size_round_trip(v);
	if (rc == 0 && leading_zero(s, size))
		abort();
	if (vdc_size_parse(s, size, "size", &v, NULL) != rc)
		abort();

	vdc_err_clear(&err);
	urc = vdc_uint_parse(s, size, "count", 0, UINT64_MAX, &u, &err);
	check_err(urc, &err);
	if (urc == 0 && leading_zero(s, size))
		abort();
	/* Digits alone are a byte count: both parsers must agree on them. */
	if (all_digits(s, size) && (urc != rc || (rc == 0 && u != v)))
		abort();
	if (!all_digits(s, size) && urc != -EINVAL)
		abort();

	vdc_err_clear(&err);
	prc = vdc_uint_parse(s, size, "port", 1, 65535, &p, &err);
	check_err(prc, &err);
	if (urc != 0 ? prc != urc :
	    prc != ((u >= 1 && u <= 65535) ? 0 : -ERANGE) || (prc == 0 && p != u))
		abort();

	vdc_err_clear(&err);
	rc = vdc_onoff_parse(s, size, "autostart", &on, &err);
	check_err(rc, &err);
	if ((size == 2 && !memcmp(s, "on", 2)) || (size == 3 && !memcmp(s, "off", 3))) {
		if (rc != 0 || on != (size == 2))
			abort();
	} else if (rc != -EINVAL) {
		abort();
	}

	/* Any 64-bit count must format to something the parser reads back. */
	if (size >= 8) {
		uint64_t x;

		memcpy(&x, data, sizeof(x));
		check_size_round_trip(x);
		check_size_round_trip(x & ~(uint64_t)1023);
		check_size_round_trip(x << (data[0] & 63));
	}
	free(s);
	return 0;
}
