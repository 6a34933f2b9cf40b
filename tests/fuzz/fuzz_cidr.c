/*
 * libFuzzer target for addresses: vdc_ipv4_parse, vdc_cidr_parse,
 * vdc_dns_check and vdc_mac_parse (a MAC prints back as the input in
 * lower case; a multicast or all-zero one is refused).
 *
 * Dotted quads and prefix lengths without leading zeros have one spelling
 * each, so an accepted address or network must print back as exactly the
 * input; a network must have no host bits; a dns list is compared with a
 * reference built on vdc_ipv4_parse. The input sits in a
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

/* Empty, or one to three addresses joined by single spaces. */
static bool ref_dns_ok(const char *s, size_t len)
{
	size_t start = 0, n = 0;

	if (len == 0)
		return true;
	for (;;) {
		const char *sp = memchr(s + start, ' ', len - start);
		size_t end = sp ? (size_t)(sp - s) : len;
		uint32_t a;

		if (vdc_ipv4_parse(s + start, end - start, &a, NULL) < 0 || ++n > 3)
			return false;
		if (!sp)
			return true;
		start = end + 1;
	}
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
		if (n != size || memcmp(buf, s, n))
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

	vdc_err_clear(&err);
	{
		uint64_t mac = 0;
		size_t k;

		rc = vdc_mac_parse(s, size, &mac, &err);
		check_err(rc, &err);
		if (rc == 0) {
			char mtext[VDC_MAC_TEXT];

			if (!mac || (mac >> 40) & 1 || mac >> 48)
				abort();
			vdc_mac_format(mac, mtext);
			if (size != 17)
				abort();
			for (k = 0; k < 17; k++)
				if (mtext[k] != (s[k] >= 'A' && s[k] <= 'F' ? s[k] - 'A' + 'a' : s[k]))
					abort();
		}
	}

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
