/*
 * libFuzzer target for addresses: vdc_ipv4_parse, vdc_cidr_parse and
 * vdc_dns_check.
 *
 * Dotted quads without leading zeros have one spelling per address, so an
 * accepted address must print back as exactly the input; a network must
 * have no host bits and parse back from its canonical text; a dns list is
 * compared with a reference built on vdc_ipv4_parse. The input sits in a
 * buffer of exactly its size.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "validate.h"

/* The error protocol of err.h, with the closed set of codes of the address parsers. */
#define check_err(rc, err) fuzz_check_err(rc, err, -EINVAL)

static size_t ipv4_format(uint32_t a, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);

	if (n < 0 || (size_t)n >= len)
		abort();
	return (size_t)n;
}

/* Up to three tokens separated by runs of ' ' and ',', each an address. */
static bool ref_dns_ok(const char *s, size_t len)
{
	size_t i = 0, n = 0;

	while (i < len) {
		size_t start;
		uint32_t a;

		if (s[i] == ' ' || s[i] == ',') {
			i++;
			continue;
		}
		start = i;
		while (i < len && s[i] != ' ' && s[i] != ',')
			i++;
		if (vdc_ipv4_parse(s + start, i - start, &a, NULL) < 0 || ++n > 3)
			return false;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vdc_err err = VDC_ERR_INIT;
	char *s = fuzz_copy(data, size), buf[32];
	uint32_t a = 0, net = 0, back = 0;
	unsigned prefix = 0, bprefix = 0;
	int rc, arc;
	size_t n;

	arc = vdc_ipv4_parse(s, size, &a, &err);
	check_err(arc, &err);
	if (arc == 0) {
		n = ipv4_format(a, buf, sizeof(buf));
		if (n != size || memcmp(buf, s, n))
			abort();
	}

	vdc_err_clear(&err);
	rc = vdc_cidr_parse(s, size, &net, &prefix, &err);
	check_err(rc, &err);
	if (rc == 0) {
		uint32_t mask = prefix ? ~0u << (32 - prefix) : 0;
		const char *slash = memchr(s, '/', size);

		if (prefix > 32 || (net & ~mask) || !slash)
			abort();
		if (vdc_ipv4_parse(s, (size_t)(slash - s), &back, NULL) != 0 || back != net)
			abort();
		n = ipv4_format(net, buf, sizeof(buf));
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "/%u", prefix);
		if (vdc_cidr_parse(buf, n, &back, &bprefix, NULL) != 0 || back != net || bprefix != prefix)
			abort();
	}
	if (vdc_cidr_parse(s, size, &net, &prefix, NULL) != rc)
		abort();

	vdc_err_clear(&err);
	rc = vdc_dns_check(s, size, &err);
	check_err(rc, &err);
	if ((rc == 0) != ref_dns_ok(s, size))
		abort();
	if (arc == 0 && rc != 0)
		abort();

	/* Every address has a spelling the parser takes back. */
	if (size >= 4) {
		uint32_t x;

		memcpy(&x, data, sizeof(x));
		n = ipv4_format(x, buf, sizeof(buf));
		if (vdc_ipv4_parse(buf, n, &back, NULL) != 0 || back != x)
			abort();
	}
	free(s);
	return 0;
}
