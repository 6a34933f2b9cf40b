/*
 * Unit tests for backend/validate.c: every parser and validator a write(2)
 * into the tree goes through.
 *
 * Inputs are passed as a pointer and a length, the way the FUSE layer hands
 * them over, so that embedded NUL bytes and unterminated buffers are tested
 * too. Every failing call is also checked against the error protocol of
 * err.h: err.code equals the return value, and the sentence is non-empty,
 * lower-case, printable and without a final full stop.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "validate.h"

/* A string literal as pointer and length; the length keeps embedded NULs. */
#define S(lit) (lit), (sizeof(lit) - 1)

/*
 * Wrappers that run one validator with a fresh error, check the protocol
 * and return the result, so each case below reads as one line.
 */
static int name_rc(const char *s, size_t len)
{
	struct vdc_err err = VDC_ERR_INIT;
	int rc = vdc_name_check(s, len, &err);

	check_err(rc, &err);
	return rc;
}

static int text_rc(const char *s, size_t len, bool multiline)
{
	struct vdc_err err = VDC_ERR_INIT;
	int rc = vdc_text_check(s, len, multiline, &err);

	check_err(rc, &err);
	return rc;
}

static int size_rc(const char *s, size_t len, uint64_t *out)
{
	struct vdc_err err = VDC_ERR_INIT;
	int rc = vdc_size_parse(s, len, "size", out, &err);

	check_err(rc, &err);
	return rc;
}

static int uint_rc(const char *s, size_t len, uint64_t min, uint64_t max, uint64_t *out)
{
	struct vdc_err err = VDC_ERR_INIT;
	int rc = vdc_uint_parse(s, len, "count", min, max, out, &err);

	check_err(rc, &err);
	return rc;
}

static int onoff_rc(const char *s, size_t len, bool *out)
{
	struct vdc_err err = VDC_ERR_INIT;
	int rc = vdc_onoff_parse(s, len, "autostart", out, &err);

	check_err(rc, &err);
	return rc;
}

static int hostname_rc(const char *s, size_t len)
{
	struct vdc_err err = VDC_ERR_INIT;
	int rc = vdc_hostname_check(s, len, &err);

	check_err(rc, &err);
	return rc;
}

static int ipv4_rc(const char *s, size_t len, uint32_t *out)
{
	struct vdc_err err = VDC_ERR_INIT;
	int rc = vdc_ipv4_parse(s, len, out, &err);

	check_err(rc, &err);
	return rc;
}

static int cidr_rc(const char *s, size_t len, uint32_t *net, unsigned *prefix)
{
	struct vdc_err err = VDC_ERR_INIT;
	int rc = vdc_cidr_parse(s, len, net, prefix, &err);

	check_err(rc, &err);
	return rc;
}

static int dns_rc(const char *s, size_t len)
{
	struct vdc_err err = VDC_ERR_INIT;
	int rc = vdc_dns_check(s, len, &err);

	check_err(rc, &err);
	return rc;
}

static int rule_rc(const char *s, size_t len, struct vdc_rule *out)
{
	struct vdc_err err = VDC_ERR_INIT;
	int rc = vdc_rule_parse(s, len, out, &err);

	check_err(rc, &err);
	return rc;
}

static int sshkey_rc(const char *s, size_t len)
{
	struct vdc_err err = VDC_ERR_INIT;
	int rc = vdc_sshkey_check(s, len, &err);

	check_err(rc, &err);
	return rc;
}

/* Fill `buf` with `n` copies of `c` and terminate it, for length limits. */
static char *repeat(char *buf, char c, size_t n)
{
	memset(buf, c, n);
	buf[n] = '\0';
	return buf;
}

/* ---- names ---------------------------------------------------------- */

static void test_name_good(void **state)
{
	char buf[VDC_NAME_MAX + 2];

	(void)state;
	assert_int_equal(name_rc(S("web")), 0);
	assert_int_equal(name_rc(S("a")), 0);
	assert_int_equal(name_rc(S("web-1")), 0);
	assert_int_equal(name_rc(S("db0-replica-2")), 0);
	assert_int_equal(name_rc(repeat(buf, 'a', 63), 63), 0);
}

static void test_name_bad(void **state)
{
	char buf[VDC_NAME_MAX + 2];

	(void)state;
	assert_int_equal(name_rc(S("")), -EINVAL);
	assert_int_equal(name_rc(repeat(buf, 'a', 64), 64), -EINVAL);
	assert_int_equal(name_rc(S("1web")), -EINVAL);
	assert_int_equal(name_rc(S("-web")), -EINVAL);
	assert_int_equal(name_rc(S("Web")), -EINVAL);
	assert_int_equal(name_rc(S("wEb")), -EINVAL);
	assert_int_equal(name_rc(S("..")), -EINVAL);
	assert_int_equal(name_rc(S(".")), -EINVAL);
	assert_int_equal(name_rc(S("web..")), -EINVAL);
	assert_int_equal(name_rc(S("a/b")), -EINVAL);
	assert_int_equal(name_rc(S("/")), -EINVAL);
	assert_int_equal(name_rc(S("a b")), -EINVAL);
	assert_int_equal(name_rc(S("a_b")), -EINVAL);
	assert_int_equal(name_rc(S("web\n")), -EINVAL);
	assert_int_equal(name_rc(S("a\0b")), -EINVAL);
	assert_int_equal(name_rc(S("a\xff")), -EINVAL);
	assert_int_equal(name_rc(S("\xc3\xa9t\xc3\xa9")), -EINVAL);
}

static void test_name_messages(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	char buf[VDC_NAME_MAX + 2];

	(void)state;
	assert_int_equal(vdc_name_check(repeat(buf, 'a', 64), 64, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "64 characters"));

	/* Raw user bytes must come out escaped, never as they are. */
	assert_int_equal(vdc_name_check(S("a\xff'b"), &err), -EINVAL);
	assert_non_null(strstr(err.msg, "\\xff"));
	assert_non_null(strstr(err.msg, "\\x27"));
}

/* ---- text ----------------------------------------------------------- */

static void test_text_good(void **state)
{
	(void)state;
	assert_int_equal(text_rc(S(""), false), 0);
	assert_int_equal(text_rc(S("hello world"), false), 0);
	assert_int_equal(text_rc(S("tab\there"), false), 0);
	assert_int_equal(text_rc(S("h\xc3\xa9llo"), false), 0);           /* U+00E9 */
	assert_int_equal(text_rc(S("\xc2\xa0"), false), 0);               /* U+00A0, first after C1 */
	assert_int_equal(text_rc(S("\xe2\x82\xac"), false), 0);           /* U+20AC */
	assert_int_equal(text_rc(S("\xed\x9f\xbf"), false), 0);           /* U+D7FF, below surrogates */
	assert_int_equal(text_rc(S("\xee\x80\x80"), false), 0);           /* U+E000, above surrogates */
	assert_int_equal(text_rc(S("\xef\xbf\xbd"), false), 0);           /* U+FFFD */
	assert_int_equal(text_rc(S("\xf0\x9f\x98\x80"), false), 0);       /* U+1F600 */
	assert_int_equal(text_rc(S("\xf4\x8f\xbf\xbf"), false), 0);       /* U+10FFFF */
}

static void test_text_lines(void **state)
{
	(void)state;
	assert_int_equal(text_rc(S("one\ntwo\n"), true), 0);
	assert_int_equal(text_rc(S("\n\n\n"), true), 0);
	assert_int_equal(text_rc(S("one\ntwo"), false), -EINVAL);
	assert_int_equal(text_rc(S("one\n"), false), -EINVAL);
	assert_int_equal(text_rc(S("one\r\ntwo"), true), -EINVAL);
}

/* Control bytes are refused whether or not newlines are allowed. */
static void text_control_cases(bool ml)
{
	assert_int_equal(text_rc(S("a\0b"), ml), -EINVAL);
	assert_int_equal(text_rc(S("\0"), ml), -EINVAL);
	assert_int_equal(text_rc(S("a\rb"), ml), -EINVAL);
	assert_int_equal(text_rc(S("\x1b[31mred"), ml), -EINVAL);
	assert_int_equal(text_rc(S("\x01"), ml), -EINVAL);
	assert_int_equal(text_rc(S("\x1f"), ml), -EINVAL);
	assert_int_equal(text_rc(S("\x7f"), ml), -EINVAL);
	/* C1 controls U+0080-U+009F are control characters too. */
	assert_int_equal(text_rc(S("\xc2\x80"), ml), -EINVAL);
	assert_int_equal(text_rc(S("a\xc2\x85" "b"), ml), -EINVAL);   /* NEL */
	assert_int_equal(text_rc(S("\xc2\x9b" "31m"), ml), -EINVAL);  /* CSI */
	assert_int_equal(text_rc(S("\xc2\x9f"), ml), -EINVAL);
}

static void test_text_control(void **state)
{
	(void)state;
	text_control_cases(false);
	text_control_cases(true);
}

static void test_text_bad_utf8(void **state)
{
	(void)state;
	assert_int_equal(text_rc(S("\x80"), false), -EINVAL);              /* lone continuation */
	assert_int_equal(text_rc(S("\xbf"), false), -EINVAL);
	assert_int_equal(text_rc(S("\xc3"), false), -EINVAL);              /* truncated at end */
	assert_int_equal(text_rc(S("\xc3" "a"), false), -EINVAL);
	assert_int_equal(text_rc(S("\xe2\x82"), false), -EINVAL);
	assert_int_equal(text_rc(S("\xe2\x28\xac"), false), -EINVAL);
	assert_int_equal(text_rc(S("\xf0\x9f\x98"), false), -EINVAL);
	assert_int_equal(text_rc(S("\xc0\xaf"), false), -EINVAL);          /* overlong '/' */
	assert_int_equal(text_rc(S("\xc1\xbf"), false), -EINVAL);
	assert_int_equal(text_rc(S("\xe0\x80\xaf"), false), -EINVAL);
	assert_int_equal(text_rc(S("\xe0\x9f\xbf"), false), -EINVAL);      /* overlong U+07FF */
	assert_int_equal(text_rc(S("\xf0\x80\x80\xaf"), false), -EINVAL);
	assert_int_equal(text_rc(S("\xf0\x8f\xbf\xbf"), false), -EINVAL);  /* overlong U+FFFF */
	assert_int_equal(text_rc(S("\xed\xa0\x80"), false), -EINVAL);      /* U+D800 */
	assert_int_equal(text_rc(S("\xed\xbf\xbf"), false), -EINVAL);      /* U+DFFF */
	assert_int_equal(text_rc(S("\xed\xa0\xbd\xed\xb8\x80"), false), -EINVAL); /* CESU-8 pair */
	assert_int_equal(text_rc(S("\xf4\x90\x80\x80"), false), -EINVAL);  /* U+110000 */
	assert_int_equal(text_rc(S("\xf5\x80\x80\x80"), false), -EINVAL);
	assert_int_equal(text_rc(S("\xf8\x88\x80\x80\x80"), false), -EINVAL);
	assert_int_equal(text_rc(S("\xfe"), false), -EINVAL);
	assert_int_equal(text_rc(S("\xff"), false), -EINVAL);
}

/*
 * The bidirectional controls reorder what is printed around them, so they
 * are refused like control characters, and the sentence names the code
 * point. Neighbours that are not bidirectional controls stay accepted.
 */
static void test_text_bidi(void **state)
{
	static const struct {
		const char *utf8;
		const char *name;
	} bidi[] = {
		{ "\xd8\x9c", "U+061C" },
		{ "\xe2\x80\x8e", "U+200E" }, { "\xe2\x80\x8f", "U+200F" },
		{ "\xe2\x80\xaa", "U+202A" }, { "\xe2\x80\xab", "U+202B" }, { "\xe2\x80\xac", "U+202C" },
		{ "\xe2\x80\xad", "U+202D" }, { "\xe2\x80\xae", "U+202E" },
		{ "\xe2\x81\xa6", "U+2066" }, { "\xe2\x81\xa7", "U+2067" }, { "\xe2\x81\xa8", "U+2068" },
		{ "\xe2\x81\xa9", "U+2069" },
	};
	struct vdc_err err = VDC_ERR_INIT;
	char buf[32];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bidi) / sizeof(bidi[0]); i++) {
		int n = snprintf(buf, sizeof(buf), "exe%s.txt", bidi[i].utf8);

		assert_int_equal(text_rc(buf, (size_t)n, false), -EINVAL);
		assert_int_equal(text_rc(buf, (size_t)n, true), -EINVAL);
		assert_int_equal(vdc_text_check(buf, (size_t)n, false, &err), -EINVAL);
		assert_non_null(strstr(err.msg, bidi[i].name));
		assert_non_null(strstr(err.msg, "bidirectional"));
	}
	assert_int_equal(vdc_text_check(S("ok\nexe\xe2\x80\xae.txt"), true, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "line 2"));
	assert_int_equal(text_rc(S("\xd8\x9b"), false), 0);        /* U+061B, Arabic semicolon */
	assert_int_equal(text_rc(S("\xe2\x80\x8d"), false), 0);    /* U+200D, zero width joiner */
	assert_int_equal(text_rc(S("\xe2\x80\x90"), false), 0);    /* U+2010, hyphen */
	assert_int_equal(text_rc(S("\xe2\x80\xa9"), false), 0);    /* U+2029 */
	assert_int_equal(text_rc(S("\xe2\x80\xaf"), false), 0);    /* U+202F, narrow no-break space */
	assert_int_equal(text_rc(S("\xe2\x81\xa5"), false), 0);    /* U+2065 */
	assert_int_equal(text_rc(S("\xe2\x81\xaa"), false), 0);    /* U+206A */
	assert_int_equal(text_rc(S("\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d"), false), 0);  /* Hebrew letters */
}

static void test_text_message_line(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;

	(void)state;
	assert_int_equal(vdc_text_check(S("one\ntwo\nth\x01ree"), true, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "line 3"));
	assert_int_equal(vdc_text_check(S("one\n\xff"), true, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "line 2"));
}

/* ---- sizes ---------------------------------------------------------- */

static void test_size_good(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(size_rc(S("512M"), &v), 0);
	assert_true(v == 512ULL << 20);
	assert_int_equal(size_rc(S("2G"), &v), 0);
	assert_true(v == 2ULL << 30);
	assert_int_equal(size_rc(S("2GiB"), &v), 0);
	assert_true(v == 2ULL << 30);
	assert_int_equal(size_rc(S("2GB"), &v), 0);
	assert_true(v == 2ULL << 30);
	assert_int_equal(size_rc(S("1T"), &v), 0);
	assert_true(v == 1ULL << 40);
	assert_int_equal(size_rc(S("64K"), &v), 0);
	assert_true(v == 64ULL << 10);
	assert_int_equal(size_rc(S("64KiB"), &v), 0);
	assert_true(v == 64ULL << 10);
	assert_int_equal(size_rc(S("12B"), &v), 0);
	assert_true(v == 12);
	assert_int_equal(size_rc(S("4096"), &v), 0);
	assert_true(v == 4096);
	assert_int_equal(size_rc(S("0"), &v), 0);
	assert_true(v == 0);
	assert_int_equal(size_rc(S("18446744073709551615"), &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(size_rc(S("16777215T"), &v), 0);
	assert_true(v == 16777215ULL << 40);

	/* Units are read case-insensitively (toupper in the parser). */
	assert_int_equal(size_rc(S("512m"), &v), 0);
	assert_true(v == 512ULL << 20);
	assert_int_equal(size_rc(S("2gib"), &v), 0);
	assert_true(v == 2ULL << 30);
}

static void test_size_bad(void **state)
{
	uint64_t v = 42;

	(void)state;
	assert_int_equal(size_rc(S("5X"), &v), -EINVAL);
	assert_int_equal(size_rc(S(""), &v), -EINVAL);
	assert_int_equal(size_rc(S("M"), &v), -EINVAL);
	assert_int_equal(size_rc(S("G5"), &v), -EINVAL);
	assert_int_equal(size_rc(S("2Gi"), &v), -EINVAL);
	assert_int_equal(size_rc(S("2GiBs"), &v), -EINVAL);
	assert_int_equal(size_rc(S("2GG"), &v), -EINVAL);
	assert_int_equal(size_rc(S("12BB"), &v), -EINVAL);
	assert_int_equal(size_rc(S("1.5G"), &v), -EINVAL);
	assert_int_equal(size_rc(S("-1"), &v), -EINVAL);
	assert_int_equal(size_rc(S("+1"), &v), -EINVAL);
	assert_int_equal(size_rc(S("0x10"), &v), -EINVAL);
	assert_int_equal(size_rc(S(" 5G"), &v), -EINVAL);
	assert_int_equal(size_rc(S("5G "), &v), -EINVAL);
	assert_int_equal(size_rc(S("5 G"), &v), -EINVAL);
	assert_int_equal(size_rc(S("5G\0"), &v), -EINVAL);
	assert_int_equal(size_rc(S("5\xff"), &v), -EINVAL);
	/* No leading zeros: one spelling a number. */
	assert_int_equal(size_rc(S("0512M"), &v), -EINVAL);
	assert_int_equal(size_rc(S("00"), &v), -EINVAL);
	assert_int_equal(size_rc(S("010G"), &v), -EINVAL);
	assert_int_equal(size_rc(S("099999999999999999999999"), &v), -EINVAL);
	assert_true(v == 42);   /* a failure leaves the output alone */
	assert_int_equal(size_rc(S("0M"), &v), 0);
	assert_true(v == 0);
	assert_int_equal(size_rc(S("0B"), &v), 0);
	assert_int_equal(size_rc(S("10G"), &v), 0);
}

/* Sizes in whole MiB within bounds: memory and volume size use this. */
static void test_size_mib(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	uint64_t v = 0;
	int rc;

	(void)state;
	assert_int_equal(vdc_size_mib_parse("2G", 2, "memory", 64ULL << 20, 1ULL << 40, "64M to 1T", &v, &err), 0);
	assert_true(v == 2ULL << 30);
	assert_int_equal(vdc_size_mib_parse("64M", 3, "memory", 64ULL << 20, 1ULL << 40, "64M to 1T", &v, &err), 0);
	rc = vdc_size_mib_parse("63M", 3, "memory", 64ULL << 20, 1ULL << 40, "64M to 1T", &v, &err);
	assert_int_equal(rc, -ERANGE);
	check_err(rc, &err);
	assert_non_null(strstr(err.msg, "64M to 1T"));
	rc = vdc_size_mib_parse("2T", 2, "memory", 64ULL << 20, 1ULL << 40, "64M to 1T", &v, &err);
	assert_int_equal(rc, -ERANGE);
	rc = vdc_size_mib_parse("1048577K", 8, "size", 1ULL << 20, 16ULL << 40, "1M to 16T", &v, &err);
	assert_int_equal(rc, -EINVAL);
	check_err(rc, &err);
	assert_non_null(strstr(err.msg, "whole number of MiB"));
	rc = vdc_size_mib_parse("lots", 4, "size", 1ULL << 20, 16ULL << 40, "1M to 16T", &v, &err);
	assert_int_equal(rc, -EINVAL);
	check_err(rc, &err);
}

/* Relation symlinks: shape, kind, leaving the tree, and raw bytes kept out of sentences. */
static void test_linkpath(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	char tname[VDC_TNAME_MAX + 1];
	int rc;

	(void)state;
	/* A child object: volumes/V/snapshots/S, named "V/S". */
	assert_int_equal(vdc_linkpath_parse(NULL, "volumes/d2", "../../volumes/d1/snapshots/s1", "volumes/*/snapshots",
					    "source", tname, &err), 0);
	assert_string_equal(tname, "d1/s1");
	rc = vdc_linkpath_parse(NULL, "volumes/d2", "../../volumes/d1", "volumes/*/snapshots", "source", tname, &err);
	assert_int_equal(rc, -EINVAL);
	check_err(rc, &err);
	assert_non_null(strstr(err.msg, "ln -s ../../volumes/NAME/snapshots/NAME"));
	rc = vdc_linkpath_parse(NULL, "volumes/d2", "../../volumes/d1/nics/s1", "volumes/*/snapshots", "source", tname,
				&err);
	assert_int_equal(rc, -EINVAL);
	rc = vdc_linkpath_parse(NULL, "volumes/d2", "../../volumes/D1/snapshots/s1", "volumes/*/snapshots", "source",
				tname, &err);
	assert_int_equal(rc, -EINVAL);
	assert_int_equal(vdc_linkpath_parse(NULL, "instances/web1", "../../images/tiny", "images", "image", tname, &err), 0);
	assert_string_equal(tname, "tiny");
	assert_int_equal(vdc_linkpath_parse("/vdc", "instances/web1/volumes", "/vdc/volumes/d1", "volumes", "d", tname, &err), 0);
	assert_string_equal(tname, "d1");
	rc = vdc_linkpath_parse(NULL, "instances/web1", "../../volumes/d1", "images", "image", tname, &err);
	assert_int_equal(rc, -EINVAL);
	check_err(rc, &err);
	assert_non_null(strstr(err.msg, "ln -s ../../images/NAME"));
	rc = vdc_linkpath_parse(NULL, "instances/web1", "../../../../etc", "images", "image", tname, &err);
	assert_int_equal(rc, -EXDEV);
	check_err(rc, &err);
	rc = vdc_linkpath_parse("/vdc", "instances/web1", "/etc/passwd", "images", "image", tname, &err);
	assert_int_equal(rc, -EXDEV);
	check_err(rc, &err);
	rc = vdc_linkpath_parse(NULL, "instances/web1", "\x1b[2J\x07", "images", "image", tname, &err);
	assert_int_equal(rc, -EINVAL);
	check_err(rc, &err);   /* printable: the escape is shown as \x1b */
	assert_non_null(strstr(err.msg, "\\x1b"));
}

static void test_size_overflow(void **state)
{
	uint64_t v = 42;

	(void)state;
	assert_int_equal(size_rc(S("99999999999T"), &v), -ERANGE);
	assert_int_equal(size_rc(S("16777216T"), &v), -ERANGE);           /* exactly 2^64 */
	assert_int_equal(size_rc(S("17179869184G"), &v), -ERANGE);        /* 2^64 again */
	assert_int_equal(size_rc(S("18446744073709551616"), &v), -ERANGE);
	assert_int_equal(size_rc(S("99999999999999999999999"), &v), -ERANGE);
	assert_int_equal(size_rc(S("18446744073709551615K"), &v), -ERANGE);
	assert_true(v == 42);
}

static void test_size_message(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	uint64_t v;

	(void)state;
	assert_int_equal(vdc_size_parse(S("5X"), "memory", &v, &err), -EINVAL);
	assert_int_equal(strncmp(err.msg, "memory '5X'", 11), 0);
	assert_int_equal(vdc_size_parse(S("99999999999T"), "capacity", &v, &err), -ERANGE);
	assert_int_equal(strncmp(err.msg, "capacity '99999999999T'", 23), 0);
}

static void test_size_format(void **state)
{
	static const struct {
		uint64_t bytes;
		const char *text;
	} cases[] = {
		{ 0, "0" },
		{ 1, "1" },
		{ 1023, "1023" },
		{ 1024, "1K" },
		{ 1536, "1536" },
		{ 1025ULL << 10, "1025K" },
		{ 512ULL << 20, "512M" },
		{ 2ULL << 30, "2G" },
		{ 1ULL << 40, "1T" },
		{ 1ULL << 50, "1024T" },
		{ UINT64_MAX, "18446744073709551615" },
	};
	char buf[32];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		vdc_size_format(cases[i].bytes, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].text);
	}
}

static void test_size_round_trip(void **state)
{
	static const uint64_t mults[] = { 1, 3, 511, 1023, 1024, 1025, 999999 };
	char buf[32];
	unsigned shift;
	size_t i;

	(void)state;
	for (shift = 0; shift < 64; shift++) {
		for (i = 0; i < sizeof(mults) / sizeof(mults[0]); i++) {
			uint64_t bytes = mults[i] << shift, back = 0;

			if (bytes >> shift != mults[i])
				continue;   /* shifted out of 64 bits */
			vdc_size_format(bytes, buf, sizeof(buf));
			assert_int_equal(size_rc(buf, strlen(buf), &back), 0);
			assert_true(back == bytes);
		}
	}
}

static void test_size_format_short_buffer(void **state)
{
	char buf[8];

	(void)state;
	memset(buf, 'x', sizeof(buf));
	vdc_size_format(UINT64_MAX, buf, 4);
	assert_string_equal(buf, "184");
	assert_int_equal(buf[4], 'x');
}

/* Sizes for progress texts: rounded down, one decimal below 10 of a unit. */
static void test_size_approx(void **state)
{
	static const struct { uint64_t bytes; const char *want; } cases[] = {
		{ 0, "0" }, { 1023, "1023" }, { 1024, "1K" }, { 1536, "1.5K" },
		{ 410ULL << 20, "410M" }, { 1ULL << 30, "1G" }, { (3ULL << 30) / 2, "1.5G" },
		{ (10ULL << 30) + (700ULL << 20), "10G" }, { 1ULL << 50, "1P" },
	};
	char buf[32];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		vdc_size_approx(cases[i].bytes, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].want);
	}
}

/* ---- whole numbers and on/off --------------------------------------- */

static void test_uint(void **state)
{
	uint64_t v = 42;

	(void)state;
	assert_int_equal(uint_rc(S("0"), 0, 10, &v), 0);
	assert_true(v == 0);
	assert_int_equal(uint_rc(S("1"), 1, 65535, &v), 0);
	assert_true(v == 1);
	assert_int_equal(uint_rc(S("65535"), 1, 65535, &v), 0);
	assert_true(v == 65535);
	assert_int_equal(uint_rc(S("18446744073709551615"), 0, UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);

	v = 42;
	assert_int_equal(uint_rc(S("0"), 1, 65535, &v), -ERANGE);
	assert_int_equal(uint_rc(S("65536"), 1, 65535, &v), -ERANGE);
	assert_int_equal(uint_rc(S("18446744073709551616"), 0, UINT64_MAX, &v), -ERANGE);
	assert_int_equal(uint_rc(S("99999999999999999999"), 0, UINT64_MAX, &v), -ERANGE);
	/* Well-formed but too long for 64 bits is still a range error. */
	assert_int_equal(uint_rc(S("100000000000000000000"), 0, UINT64_MAX, &v), -ERANGE);
	assert_int_equal(uint_rc(S("1000000000000000000000000"), 0, 100, &v), -ERANGE);

	assert_int_equal(uint_rc(S(""), 0, 10, &v), -EINVAL);
	assert_int_equal(uint_rc(S("-1"), 0, 10, &v), -EINVAL);
	assert_int_equal(uint_rc(S("+1"), 0, 10, &v), -EINVAL);
	assert_int_equal(uint_rc(S(" 1"), 0, 10, &v), -EINVAL);
	assert_int_equal(uint_rc(S("1 "), 0, 10, &v), -EINVAL);
	assert_int_equal(uint_rc(S("1\n"), 0, 10, &v), -EINVAL);
	assert_int_equal(uint_rc(S("0x1"), 0, 10, &v), -EINVAL);
	assert_int_equal(uint_rc(S("1K"), 0, 10000, &v), -EINVAL);
	assert_int_equal(uint_rc(S("1\0"), 0, 10, &v), -EINVAL);
	/* Bad syntax is -EINVAL even when the digits before it overflow. */
	assert_int_equal(uint_rc(S("99999999999999999999x"), 0, UINT64_MAX, &v), -EINVAL);
	assert_int_equal(uint_rc(S("999999999999999999999999x"), 0, UINT64_MAX, &v), -EINVAL);
	assert_true(v == 42);
}

/* One spelling a number: 010 is eight to some tools, so no leading zeros. */
static void test_uint_leading_zero(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	uint64_t v = 42;

	(void)state;
	assert_int_equal(uint_rc(S("010"), 1, 128, &v), -EINVAL);
	assert_int_equal(uint_rc(S("00"), 0, 10, &v), -EINVAL);
	assert_int_equal(uint_rc(S("01"), 0, 10, &v), -EINVAL);
	assert_int_equal(uint_rc(S("0000000000000000000000001"), 0, 10, &v), -EINVAL);
	assert_true(v == 42);
	assert_int_equal(uint_rc(S("0"), 0, 10, &v), 0);
	assert_true(v == 0);
	assert_int_equal(uint_rc(S("10"), 0, 10, &v), 0);
	assert_true(v == 10);
	assert_int_equal(vdc_uint_parse(S("010"), "cpus", 1, 128, &v, &err), -EINVAL);
	check_err(-EINVAL, &err);
	assert_int_equal(strncmp(err.msg, "cpus '010'", 10), 0);
	assert_non_null(strstr(err.msg, "without leading zeros"));
}

static void test_uint_message(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	uint64_t v;

	(void)state;
	assert_int_equal(vdc_uint_parse(S("70000"), "port", 1, 65535, &v, &err), -ERANGE);
	assert_int_equal(strncmp(err.msg, "port '70000'", 12), 0);
	assert_non_null(strstr(err.msg, "from 1 to 65535"));
}

static void test_onoff(void **state)
{
	bool v = false;

	(void)state;
	assert_int_equal(onoff_rc(S("on"), &v), 0);
	assert_true(v);
	assert_int_equal(onoff_rc(S("off"), &v), 0);
	assert_false(v);

	v = true;
	assert_int_equal(onoff_rc(S(""), &v), -EINVAL);
	assert_int_equal(onoff_rc(S("o"), &v), -EINVAL);
	assert_int_equal(onoff_rc(S("of"), &v), -EINVAL);
	assert_int_equal(onoff_rc(S("offf"), &v), -EINVAL);
	assert_int_equal(onoff_rc(S("ON"), &v), -EINVAL);
	assert_int_equal(onoff_rc(S("On"), &v), -EINVAL);
	assert_int_equal(onoff_rc(S("yes"), &v), -EINVAL);
	assert_int_equal(onoff_rc(S("1"), &v), -EINVAL);
	assert_int_equal(onoff_rc(S("on\n"), &v), -EINVAL);
	assert_int_equal(onoff_rc(S(" on"), &v), -EINVAL);
	assert_int_equal(onoff_rc(S("on\0"), &v), -EINVAL);
	assert_true(v);
}

/* ---- host names and addresses --------------------------------------- */

static void test_hostname_good(void **state)
{
	char buf[300];

	(void)state;
	assert_int_equal(hostname_rc(S("")), 0);
	assert_int_equal(hostname_rc(S("web")), 0);
	assert_int_equal(hostname_rc(S("web-1")), 0);
	assert_int_equal(hostname_rc(S("web-1.example.com")), 0);
	assert_int_equal(hostname_rc(S("1host")), 0);            /* RFC 1123 allows a digit first */
	assert_int_equal(hostname_rc(S("WEB.Example.COM")), 0);
	assert_int_equal(hostname_rc(S("a.b.c")), 0);
	assert_int_equal(hostname_rc(repeat(buf, 'a', 63), 63), 0);

	/* 63.63.63.61 is 253 characters: the longest accepted. */
	repeat(buf, 'a', 253);
	buf[63] = buf[127] = buf[191] = '.';
	assert_int_equal(hostname_rc(buf, 253), 0);
}

static void test_hostname_bad(void **state)
{
	char buf[300];

	(void)state;
	assert_int_equal(hostname_rc(repeat(buf, 'a', 64), 64), -EINVAL);
	repeat(buf, 'a', 254);
	buf[63] = buf[127] = buf[191] = '.';
	assert_int_equal(hostname_rc(buf, 254), -EINVAL);

	assert_int_equal(hostname_rc(S("-web")), -EINVAL);
	assert_int_equal(hostname_rc(S("web-")), -EINVAL);
	assert_int_equal(hostname_rc(S("web-.example")), -EINVAL);
	assert_int_equal(hostname_rc(S("web.-example")), -EINVAL);
	assert_int_equal(hostname_rc(S("web..example")), -EINVAL);
	assert_int_equal(hostname_rc(S(".web")), -EINVAL);
	assert_int_equal(hostname_rc(S("web.")), -EINVAL);
	assert_int_equal(hostname_rc(S(".")), -EINVAL);
	assert_int_equal(hostname_rc(S("-")), -EINVAL);
	assert_int_equal(hostname_rc(S("web_1")), -EINVAL);
	assert_int_equal(hostname_rc(S("web 1")), -EINVAL);
	assert_int_equal(hostname_rc(S("web\n")), -EINVAL);
	assert_int_equal(hostname_rc(S("w\xc3\xa9" "b")), -EINVAL);
	assert_int_equal(hostname_rc(S("web\0")), -EINVAL);
}

/* RFC 1123 2.1: the top label is not all digits, so no name reads as an address. */
static void test_hostname_numeric(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;

	(void)state;
	assert_int_equal(hostname_rc(S("1.2.3.4")), -EINVAL);
	assert_int_equal(hostname_rc(S("192.0.2.1")), -EINVAL);
	assert_int_equal(hostname_rc(S("123")), -EINVAL);
	assert_int_equal(hostname_rc(S("0")), -EINVAL);
	assert_int_equal(hostname_rc(S("web.123")), -EINVAL);
	assert_int_equal(hostname_rc(S("999.999.999.999")), -EINVAL);
	assert_int_equal(hostname_rc(S("1host")), 0);
	assert_int_equal(hostname_rc(S("web.1a")), 0);
	assert_int_equal(hostname_rc(S("123.example")), 0);
	assert_int_equal(hostname_rc(S("1.2.3.4a")), 0);
	assert_int_equal(hostname_rc(S("1-2")), 0);
	assert_int_equal(vdc_hostname_check(S("1.2.3.4"), &err), -EINVAL);
	check_err(-EINVAL, &err);
	assert_non_null(strstr(err.msg, "'1.2.3.4'"));
	assert_non_null(strstr(err.msg, "needs a letter"));
}

static void test_ipv4_good(void **state)
{
	uint32_t a = 0;

	(void)state;
	assert_int_equal(ipv4_rc(S("192.0.2.1"), &a), 0);
	assert_true(a == 0xc0000201u);
	assert_int_equal(ipv4_rc(S("0.0.0.0"), &a), 0);
	assert_true(a == 0);
	assert_int_equal(ipv4_rc(S("255.255.255.255"), &a), 0);
	assert_true(a == 0xffffffffu);
	assert_int_equal(ipv4_rc(S("10.0.100.1"), &a), 0);
	assert_true(a == 0x0a006401u);
}

/* Formatting reads back to the same address, for the extremes and a typical one. */
static void test_ipv4_format(void **state)
{
	static const uint32_t addrs[] = { 0, 0xffffffff, 0xc0000201, 0x0a000001, 0x7f000001 };
	char text[VDC_IPV4_TEXT];
	uint32_t back;
	size_t i;

	(void)state;
	vdc_ipv4_format(0xc6336412, text);
	assert_string_equal(text, "198.51.100.18");
	vdc_ipv4_format(0xffffffff, text);
	assert_string_equal(text, "255.255.255.255");
	for (i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		vdc_ipv4_format(addrs[i], text);
		assert_int_equal(vdc_ipv4_parse(text, strlen(text), &back, NULL), 0);
		assert_int_equal(back, addrs[i]);
	}
}

/* A nic's MAC: six hex pairs, either case; unicast, not all zero; prints back in lower case. */
static void test_mac_parse(void **state)
{
	static const char *const bad[] = { "", "52:54:00:00:00", "52:54:00:00:00:0c:", "52-54-00-00-00-0c",
					   "52:54:00:00:00:0g", "5:254:00:00:00:0c", " 52:54:00:00:00:0c",
					   "52:54:00:00:00:0c\n", "52:54:00:00:00:00c" };
	struct vdc_err err = VDC_ERR_INIT;
	char text[VDC_MAC_TEXT];
	uint64_t m = 7;
	size_t i;
	int rc;

	(void)state;
	assert_int_equal(vdc_mac_parse(S("52:54:00:0A:0b:0C"), &m, &err), 0);
	assert_true(m == 0x5254000a0b0cULL);
	vdc_mac_format(m, text);
	assert_string_equal(text, "52:54:00:0a:0b:0c");
	assert_int_equal(vdc_mac_parse(S("fe:ff:ff:ff:ff:ff"), &m, NULL), 0);
	assert_int_equal(vdc_mac_parse(S("02:00:00:00:00:00"), &m, NULL), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		m = 7;
		rc = vdc_mac_parse(bad[i], strlen(bad[i]), &m, &err);
		check_err(rc, &err);
		assert_int_equal(rc, -EINVAL);
		assert_true(m == 7);
		assert_non_null(strstr(err.msg, "not a MAC address"));
	}
	rc = vdc_mac_parse(S("01:00:5e:00:00:01"), &m, &err);
	check_err(rc, &err);
	assert_int_equal(rc, -EINVAL);
	assert_non_null(strstr(err.msg, "multicast"));
	assert_int_equal(vdc_mac_parse(S("ff:ff:ff:ff:ff:ff"), &m, NULL), -EINVAL);
	rc = vdc_mac_parse(S("00:00:00:00:00:00"), &m, &err);
	check_err(rc, &err);
	assert_int_equal(rc, -EINVAL);
	assert_non_null(strstr(err.msg, "all zero"));
	assert_true(m == 7);
}

static void test_ipv4_bad(void **state)
{
	uint32_t a = 7;

	(void)state;
	assert_int_equal(ipv4_rc(S("01.2.3.4"), &a), -EINVAL);       /* leading zero: octal? */
	assert_int_equal(ipv4_rc(S("1.2.3.04"), &a), -EINVAL);
	assert_int_equal(ipv4_rc(S("1.2.3.00"), &a), -EINVAL);
	assert_int_equal(ipv4_rc(S("1.02.3.4"), &a), -EINVAL);
	assert_int_equal(ipv4_rc(S("256.0.0.1"), &a), -EINVAL);
	assert_int_equal(ipv4_rc(S("1.2.3.256"), &a), -EINVAL);
	assert_int_equal(ipv4_rc(S("1.2.3.99999999999999"), &a), -EINVAL);
	assert_int_equal(ipv4_rc(S("1.2.3"), &a), -EINVAL);
	assert_int_equal(ipv4_rc(S("1.2.3."), &a), -EINVAL);
	assert_int_equal(ipv4_rc(S("1.2.3.4."), &a), -EINVAL);
	assert_int_equal(ipv4_rc(S("1.2.3.4.5"), &a), -EINVAL);
	assert_int_equal(ipv4_rc(S(".1.2.3"), &a), -EINVAL);
	assert_int_equal(ipv4_rc(S("1..2.3"), &a), -EINVAL);
	assert_int_equal(ipv4_rc(S(""), &a), -EINVAL);
	assert_int_equal(ipv4_rc(S("a.b.c.d"), &a), -EINVAL);
	assert_int_equal(ipv4_rc(S(" 1.2.3.4"), &a), -EINVAL);
	assert_int_equal(ipv4_rc(S("1.2.3.4 "), &a), -EINVAL);
	assert_int_equal(ipv4_rc(S("1.2.3.-1"), &a), -EINVAL);
	assert_int_equal(ipv4_rc(S("1.2.3.4/24"), &a), -EINVAL);
	assert_int_equal(ipv4_rc(S("16909060"), &a), -EINVAL);       /* inet_aton would take it */
	assert_int_equal(ipv4_rc(S("0x1.2.3.4"), &a), -EINVAL);
	assert_true(a == 7);
}

static void test_cidr_good(void **state)
{
	uint32_t net = 1;
	unsigned prefix = 1;

	(void)state;
	assert_int_equal(cidr_rc(S("192.0.2.0/24"), &net, &prefix), 0);
	assert_true(net == 0xc0000200u);
	assert_int_equal(prefix, 24);
	assert_int_equal(cidr_rc(S("0.0.0.0/0"), &net, &prefix), 0);
	assert_true(net == 0);
	assert_int_equal(prefix, 0);
	assert_int_equal(cidr_rc(S("10.1.2.3/32"), &net, &prefix), 0);
	assert_true(net == 0x0a010203u);
	assert_int_equal(prefix, 32);
	assert_int_equal(cidr_rc(S("10.0.0.0/8"), &net, &prefix), 0);
	assert_int_equal(prefix, 8);
	assert_int_equal(cidr_rc(S("198.51.100.128/25"), &net, &prefix), 0);
	assert_true(net == 0xc6336480u);
}

static void test_cidr_bad(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	uint32_t net = 1;
	unsigned prefix = 1;

	(void)state;
	assert_int_equal(cidr_rc(S("10.0.0.1/8"), &net, &prefix), -EINVAL);     /* host bits */
	assert_int_equal(cidr_rc(S("1.2.3.4/0"), &net, &prefix), -EINVAL);
	assert_int_equal(cidr_rc(S("198.51.100.1/31"), &net, &prefix), -EINVAL);
	assert_int_equal(cidr_rc(S("10.0.0.0/33"), &net, &prefix), -EINVAL);
	assert_int_equal(cidr_rc(S("10.0.0.0/99999999999999999999999"), &net, &prefix), -EINVAL);
	assert_int_equal(cidr_rc(S("10.0.0.0"), &net, &prefix), -EINVAL);       /* no slash */
	assert_int_equal(cidr_rc(S("10.0.0.0/"), &net, &prefix), -EINVAL);
	assert_int_equal(cidr_rc(S("/8"), &net, &prefix), -EINVAL);
	assert_int_equal(cidr_rc(S("/"), &net, &prefix), -EINVAL);
	assert_int_equal(cidr_rc(S(""), &net, &prefix), -EINVAL);
	assert_int_equal(cidr_rc(S("10.0.0.0/-1"), &net, &prefix), -EINVAL);
	assert_int_equal(cidr_rc(S("10.0.0.0/8/8"), &net, &prefix), -EINVAL);
	assert_int_equal(cidr_rc(S("10.0.0.0/ 8"), &net, &prefix), -EINVAL);
	assert_int_equal(cidr_rc(S("10.0.0/8"), &net, &prefix), -EINVAL);
	assert_int_equal(cidr_rc(S("010.0.0.0/8"), &net, &prefix), -EINVAL);
	/* The prefix length has one spelling too, like the address. */
	assert_int_equal(cidr_rc(S("10.0.0.0/024"), &net, &prefix), -EINVAL);
	assert_int_equal(cidr_rc(S("10.0.0.0/08"), &net, &prefix), -EINVAL);
	assert_int_equal(cidr_rc(S("0.0.0.0/00"), &net, &prefix), -EINVAL);
	assert_int_equal(vdc_cidr_parse(S("10.0.0.0/024"), &net, &prefix, &err), -EINVAL);
	check_err(-EINVAL, &err);
	assert_non_null(strstr(err.msg, "'10.0.0.0/024'"));
	assert_non_null(strstr(err.msg, "leading zero"));
	assert_true(net == 1 && prefix == 1);

	/* The sentence suggests the network the user probably meant. */
	assert_int_equal(vdc_cidr_parse(S("10.1.2.3/8"), &net, &prefix, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "10.0.0.0/8"));
}

static void test_dns(void **state)
{
	(void)state;
	assert_int_equal(dns_rc(S("")), 0);
	assert_int_equal(dns_rc(S("192.0.2.53")), 0);
	assert_int_equal(dns_rc(S("1.1.1.1 8.8.8.8")), 0);
	assert_int_equal(dns_rc(S("1.1.1.1 8.8.8.8 9.9.9.9")), 0);

	/* docs/tree.md: addresses separated by single spaces, nothing else. */
	assert_int_equal(dns_rc(S("1.1.1.1,8.8.8.8")), -EINVAL);
	assert_int_equal(dns_rc(S("1.1.1.1,8.8.8.8,9.9.9.9")), -EINVAL);
	assert_int_equal(dns_rc(S("1.1.1.1, 8.8.8.8")), -EINVAL);
	assert_int_equal(dns_rc(S("1.1.1.1 ,8.8.8.8")), -EINVAL);
	assert_int_equal(dns_rc(S("1.1.1.1,")), -EINVAL);
	assert_int_equal(dns_rc(S(",")), -EINVAL);
	assert_int_equal(dns_rc(S(" , ")), -EINVAL);
	assert_int_equal(dns_rc(S(" ")), -EINVAL);
	assert_int_equal(dns_rc(S(" 1.1.1.1")), -EINVAL);
	assert_int_equal(dns_rc(S("1.1.1.1 ")), -EINVAL);
	assert_int_equal(dns_rc(S("  1.1.1.1  ")), -EINVAL);
	assert_int_equal(dns_rc(S("1.1.1.1  8.8.8.8")), -EINVAL);
	assert_int_equal(dns_rc(S("1.1.1.1 8.8.8.8 9.9.9.9 4.4.4.4")), -EINVAL);
	assert_int_equal(dns_rc(S("1.1.1.1,8.8.8.8,9.9.9.9,x")), -EINVAL);
	assert_int_equal(dns_rc(S("1.1.1")), -EINVAL);
	assert_int_equal(dns_rc(S("01.1.1.1")), -EINVAL);
	assert_int_equal(dns_rc(S("1.1.1.1;8.8.8.8")), -EINVAL);
	assert_int_equal(dns_rc(S("1.1.1.1\t8.8.8.8")), -EINVAL);
	assert_int_equal(dns_rc(S("dns.example.com")), -EINVAL);
	assert_int_equal(dns_rc(S("1.1.1.1\n")), -EINVAL);
	assert_int_equal(dns_rc(S("192.0.2.0/24")), -EINVAL);
}

/* The addresses vdc_dns_parse hands out are those the check accepts, in order. */
static void test_dns_parse(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	uint32_t out[VDC_DNS_MAX];
	size_t n = 99;

	(void)state;
	assert_int_equal(vdc_dns_parse(S(""), out, &n, &err), 0);
	assert_int_equal(n, 0);
	assert_int_equal(vdc_dns_parse(S("192.0.2.53 198.51.100.53"), out, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(out[0], 0xc0000235);
	assert_int_equal(out[1], 0xc6336435);
	assert_int_equal(vdc_dns_parse(S("1.1.1.1 8.8.8.8 9.9.9.9 4.4.4.4"), out, &n, &err), -EINVAL);
	check_err(-EINVAL, &err);
}

/* Each refusal of a dns value says what to write instead. */
static void test_dns_messages(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;

	(void)state;
	assert_int_equal(vdc_dns_check(S("1.1.1.1,8.8.8.8"), &err), -EINVAL);
	check_err(-EINVAL, &err);
	assert_non_null(strstr(err.msg, "comma"));
	assert_non_null(strstr(err.msg, "single spaces"));
	assert_int_equal(vdc_dns_check(S("1.1.1.1  8.8.8.8"), &err), -EINVAL);
	check_err(-EINVAL, &err);
	assert_non_null(strstr(err.msg, "single spaces"));
	assert_int_equal(vdc_dns_check(S("1.1.1.1 "), &err), -EINVAL);
	check_err(-EINVAL, &err);
	assert_non_null(strstr(err.msg, "ends in a space"));
	assert_int_equal(vdc_dns_check(S("ns1.example.com"), &err), -EINVAL);
	check_err(-EINVAL, &err);
	assert_non_null(strstr(err.msg, "'ns1.example.com'"));
}

/* Host addresses: not the network or broadcast address; a /31 or /32 has no broadcast. */
static void test_ipv4_host_in(void **state)
{
	(void)state;
	assert_true(vdc_ipv4_host_in(0xc0000201, 0xc0000200, 24));
	assert_true(vdc_ipv4_host_in(0xc00002fe, 0xc0000200, 24));
	assert_false(vdc_ipv4_host_in(0xc0000200, 0xc0000200, 24));
	assert_false(vdc_ipv4_host_in(0xc00002ff, 0xc0000200, 24));
	assert_false(vdc_ipv4_host_in(0xc0000301, 0xc0000200, 24));
	assert_true(vdc_ipv4_host_in(0xc0000201, 0xc0000200, 31));
	assert_false(vdc_ipv4_host_in(0x0a000001, 0xc0000200, 8));
}

/* ---- security-group rules ------------------------------------------- */

static void test_rule_good(void **state)
{
	struct vdc_rule r;

	(void)state;
	assert_int_equal(rule_rc(S("in tcp 22 0.0.0.0/0"), &r), 0);
	assert_int_equal(r.dir, VDC_RULE_IN);
	assert_int_equal(r.proto, VDC_PROTO_TCP);
	assert_int_equal(r.port_lo, 22);
	assert_int_equal(r.port_hi, 22);
	assert_false(r.peer_is_group);
	assert_true(r.peer_net == 0);
	assert_int_equal(r.peer_prefix, 0);

	assert_int_equal(rule_rc(S("in icmp - 198.51.100.0/24"), &r), 0);
	assert_int_equal(r.proto, VDC_PROTO_ICMP);
	assert_int_equal(r.port_lo, 0);
	assert_int_equal(r.port_hi, 0);
	assert_true(r.peer_net == 0xc6336400u);
	assert_int_equal(r.peer_prefix, 24);

	assert_int_equal(rule_rc(S("in tcp 5432 sg:web"), &r), 0);
	assert_int_equal(r.port_lo, 5432);
	assert_true(r.peer_is_group);
	assert_string_equal(r.peer_group, "web");

	assert_int_equal(rule_rc(S("out udp 53-54 192.0.2.0/24"), &r), 0);
	assert_int_equal(r.dir, VDC_RULE_OUT);
	assert_int_equal(r.proto, VDC_PROTO_UDP);
	assert_int_equal(r.port_lo, 53);
	assert_int_equal(r.port_hi, 54);
	assert_true(r.peer_net == 0xc0000200u);

	assert_int_equal(rule_rc(S("in any - 0.0.0.0/0"), &r), 0);
	assert_int_equal(r.proto, VDC_PROTO_ANY);
	assert_int_equal(r.port_lo, 0);

	assert_int_equal(rule_rc(S("in tcp 1-65535 10.0.0.0/8"), &r), 0);
	assert_int_equal(r.port_lo, 1);
	assert_int_equal(r.port_hi, 65535);
	assert_int_equal(rule_rc(S("in tcp 80-80 10.0.0.0/8"), &r), 0);
	assert_int_equal(rule_rc(S("in tcp - 10.0.0.0/8"), &r), 0);
	assert_int_equal(r.port_lo, 0);
	assert_int_equal(r.port_hi, 0);
	assert_int_equal(rule_rc(S("  in\ttcp   22 \t 0.0.0.0/0  "), &r), 0);
	assert_int_equal(r.port_lo, 22);
}

static void test_rule_group_name(void **state)
{
	char line[128], name[VDC_NAME_MAX + 2];
	struct vdc_rule r;
	int n;

	(void)state;
	n = snprintf(line, sizeof(line), "in tcp 22 sg:%s", repeat(name, 'g', 63));
	assert_int_equal(rule_rc(line, (size_t)n, &r), 0);
	assert_string_equal(r.peer_group, name);

	n = snprintf(line, sizeof(line), "in tcp 22 sg:%s", repeat(name, 'g', 64));
	assert_int_equal(rule_rc(line, (size_t)n, &r), -EINVAL);
}

static void test_rule_bad(void **state)
{
	struct vdc_rule r;

	(void)state;
	memset(&r, 0x5a, sizeof(r));
	assert_int_equal(rule_rc(S("in icmp 22 0.0.0.0/0"), &r), -EINVAL);
	assert_int_equal(rule_rc(S("in icmp 1-2 0.0.0.0/0"), &r), -EINVAL);
	assert_int_equal(rule_rc(S("in any 80 0.0.0.0/0"), &r), -EINVAL);
	assert_int_equal(rule_rc(S("in tcp 80-22 0.0.0.0/0"), &r), -EINVAL);
	assert_int_equal(rule_rc(S("in tcp 0 0.0.0.0/0"), &r), -EINVAL);
	assert_int_equal(rule_rc(S("in tcp 65536 0.0.0.0/0"), &r), -EINVAL);
	assert_int_equal(rule_rc(S("in tcp 0-22 0.0.0.0/0"), &r), -EINVAL);
	assert_int_equal(rule_rc(S("in tcp 022 0.0.0.0/0"), &r), -EINVAL);      /* leading zero */
	assert_int_equal(rule_rc(S("in tcp 22-080 0.0.0.0/0"), &r), -EINVAL);
	assert_int_equal(rule_rc(S("in tcp 22 10.0.0.0/08"), &r), -EINVAL);
	assert_int_equal(rule_rc(S("in tcp 22-65536 0.0.0.0/0"), &r), -EINVAL);
	assert_int_equal(rule_rc(S("in tcp 22- 0.0.0.0/0"), &r), -EINVAL);
	assert_int_equal(rule_rc(S("in tcp -22 0.0.0.0/0"), &r), -EINVAL);
	assert_int_equal(rule_rc(S("in tcp 1-2-3 0.0.0.0/0"), &r), -EINVAL);
	assert_int_equal(rule_rc(S("in tcp ssh 0.0.0.0/0"), &r), -EINVAL);
	assert_int_equal(rule_rc(S("in tcp 22"), &r), -EINVAL);                      /* 3 fields */
	assert_int_equal(rule_rc(S("in tcp 22 0.0.0.0/0 extra"), &r), -EINVAL);      /* 5 fields */
	assert_int_equal(rule_rc(S("in tcp 22 0.0.0.0/0 a b c"), &r), -EINVAL);
	assert_int_equal(rule_rc(S(""), &r), -EINVAL);
	assert_int_equal(rule_rc(S("   "), &r), -EINVAL);
	assert_int_equal(rule_rc(S("IN tcp 22 0.0.0.0/0"), &r), -EINVAL);
	assert_int_equal(rule_rc(S("both tcp 22 0.0.0.0/0"), &r), -EINVAL);
	assert_int_equal(rule_rc(S("in TCP 22 0.0.0.0/0"), &r), -EINVAL);
	assert_int_equal(rule_rc(S("in sctp 22 0.0.0.0/0"), &r), -EINVAL);
	assert_int_equal(rule_rc(S("in tcp 22 sg:Web"), &r), -EINVAL);
	assert_int_equal(rule_rc(S("in tcp 22 sg:1web"), &r), -EINVAL);
	assert_int_equal(rule_rc(S("in tcp 22 sg:web/x"), &r), -EINVAL);
	assert_int_equal(rule_rc(S("in tcp 22 sg:"), &r), -EINVAL);
	assert_int_equal(rule_rc(S("in tcp 22 group:web"), &r), -EINVAL);
	assert_int_equal(rule_rc(S("in tcp 22 10.0.0.1/8"), &r), -EINVAL);
	assert_int_equal(rule_rc(S("in tcp 22 10.0.0.1"), &r), -EINVAL);
	assert_int_equal(rule_rc(S("in tcp 22 0.0.0.0/0\n"), &r), -EINVAL);
	assert_int_equal(rule_rc(S("in tcp 22 0.0.0.0/0\r"), &r), -EINVAL);

	/* A failure leaves the output alone. */
	assert_int_equal(r.port_lo, 0x5a5a);
}

static void test_rule_null_out(void **state)
{
	(void)state;
	assert_int_equal(vdc_rule_parse(S("in tcp 22 0.0.0.0/0"), NULL, NULL), 0);
	assert_int_equal(vdc_rule_parse(S("in tcp 22 10.0.0.1/8"), NULL, NULL), -EINVAL);
}

static void test_rules_file(void **state)
{
	static const char file[] =
		"# allow ssh from anywhere\n"
		"\n"
		"in tcp 22 0.0.0.0/0\n"
		"   # an indented comment\n"
		" \t \n"
		"in icmp - 198.51.100.0/24\n"
		"in tcp 5432 sg:web\n"
		"out udp 53-54 192.0.2.0/24\n"
		"in any - 0.0.0.0/0";   /* no final newline */
	struct vdc_rule out[VDC_RULES_MAX];
	struct vdc_err err = VDC_ERR_INIT;
	size_t n = 99;

	(void)state;
	assert_int_equal(vdc_rules_parse(S(file), out, &n, &err), 0);
	assert_int_equal(n, 5);
	assert_int_equal(out[0].port_lo, 22);
	assert_int_equal(out[1].proto, VDC_PROTO_ICMP);
	assert_string_equal(out[2].peer_group, "web");
	assert_int_equal(out[3].port_hi, 54);
	assert_int_equal(out[4].proto, VDC_PROTO_ANY);

	/* The count is reported without the rules, and neither is required. */
	n = 99;
	assert_int_equal(vdc_rules_parse(S(file), NULL, &n, &err), 0);
	assert_int_equal(n, 5);
	assert_int_equal(vdc_rules_parse(S(file), NULL, NULL, NULL), 0);

	n = 99;
	assert_int_equal(vdc_rules_parse(S(""), out, &n, &err), 0);
	assert_int_equal(n, 0);
	n = 99;
	assert_int_equal(vdc_rules_parse(S("# only a comment\n\n"), out, &n, &err), 0);
	assert_int_equal(n, 0);
}

static void test_rules_errors(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	size_t n = 99;
	int rc;

	(void)state;
	rc = vdc_rules_parse(S("# header\n\nin tcp 22 0.0.0.0/0\nin icmp 22 0.0.0.0/0\n"), NULL, &n, &err);
	assert_int_equal(rc, -EINVAL);
	check_err(rc, &err);
	assert_int_equal(strncmp(err.msg, "line 4: ", 8), 0);
	assert_int_equal(n, 99);

	rc = vdc_rules_parse(S("in tcp 22 sg:Bad\n"), NULL, &n, &err);
	assert_int_equal(rc, -EINVAL);
	check_err(rc, &err);
	assert_int_equal(strncmp(err.msg, "line 1: ", 8), 0);

	rc = vdc_rules_parse(S("in tcp 22 0.0.0.0/0\r\n"), NULL, &n, &err);
	assert_int_equal(rc, -EINVAL);
	check_err(rc, &err);

	rc = vdc_rules_parse(S("in tcp 22 0.0.0.0/0\n\0"), NULL, &n, &err);
	assert_int_equal(rc, -EINVAL);
	check_err(rc, &err);

	rc = vdc_rules_parse(S("in tcp 22 0.0.0.0/0\n\xff\n"), NULL, &n, &err);
	assert_int_equal(rc, -EINVAL);
	check_err(rc, &err);

	/* A comment must start the line: a trailing one is a fifth field. */
	rc = vdc_rules_parse(S("in tcp 22 0.0.0.0/0 # ssh\n"), NULL, &n, &err);
	assert_int_equal(rc, -EINVAL);
	check_err(rc, &err);
}

/* Build a rules file of `count` identical lines in a malloc'd buffer. */
static char *many_rules(size_t count, size_t *len)
{
	static const char line[] = "in tcp 22 0.0.0.0/0\n";
	char *s = malloc(count * (sizeof(line) - 1) + 1);
	size_t i;

	assert_non_null(s);
	for (i = 0; i < count; i++)
		memcpy(s + i * (sizeof(line) - 1), line, sizeof(line) - 1);
	*len = count * (sizeof(line) - 1);
	return s;
}

static void test_rules_max(void **state)
{
	struct vdc_rule *out = calloc(VDC_RULES_MAX + 1, sizeof(*out));
	struct vdc_rule canary;
	struct vdc_err err = VDC_ERR_INIT;
	size_t len, n = 0;
	char *s;
	int rc;

	(void)state;
	assert_non_null(out);
	memset(&canary, 0xa5, sizeof(canary));
	out[VDC_RULES_MAX] = canary;

	s = many_rules(VDC_RULES_MAX, &len);
	assert_int_equal(vdc_rules_parse(s, len, out, &n, &err), 0);
	assert_int_equal(n, VDC_RULES_MAX);
	free(s);

	s = many_rules(VDC_RULES_MAX + 1, &len);
	rc = vdc_rules_parse(s, len, out, &n, &err);
	assert_int_equal(rc, -E2BIG);
	check_err(rc, &err);
	free(s);

	/* The rule past the limit must not be written. */
	assert_memory_equal(&out[VDC_RULES_MAX], &canary, sizeof(canary));
	free(out);
}

/* ---- base64 and ssh keys -------------------------------------------- */

static const char b64chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/*
 * Standard base64 with padding, written here rather than taken from the
 * code under test so that a bug in the decoder cannot hide itself.
 * `out` must hold (n + 2) / 3 * 4 + 1 bytes.
 */
static size_t b64_encode(const unsigned char *in, size_t n, char *out)
{
	size_t i, o = 0;

	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

		out[o++] = b64chars[v >> 18 & 63];
		out[o++] = b64chars[v >> 12 & 63];
		out[o++] = b64chars[v >> 6 & 63];
		out[o++] = b64chars[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;

		out[o++] = b64chars[v >> 18 & 63];
		out[o++] = b64chars[v >> 12 & 63];
		out[o++] = '=';
		out[o++] = '=';
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;

		out[o++] = b64chars[v >> 18 & 63];
		out[o++] = b64chars[v >> 12 & 63];
		out[o++] = b64chars[v >> 6 & 63];
		out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

static void test_base64_decode(void **state)
{
	unsigned char out[64];

	(void)state;
	assert_int_equal(vdc_base64_decode(S("TWFu"), out), 3);
	assert_memory_equal(out, "Man", 3);
	assert_int_equal(vdc_base64_decode(S("TWE="), out), 2);
	assert_memory_equal(out, "Ma", 2);
	assert_int_equal(vdc_base64_decode(S("TQ=="), out), 1);
	assert_memory_equal(out, "M", 1);
	assert_int_equal(vdc_base64_decode(S("TWFuTWFu"), out), 6);
	assert_int_equal(vdc_base64_decode(S("+/+/"), out), 3);
	assert_memory_equal(out, "\xfb\xff\xbf", 3);

	assert_int_equal(vdc_base64_decode(S(""), out), -EINVAL);
	assert_int_equal(vdc_base64_decode(S("TWF"), out), -EINVAL);        /* not a multiple of 4 */
	assert_int_equal(vdc_base64_decode(S("TWFuT"), out), -EINVAL);
	assert_int_equal(vdc_base64_decode(S("TQ="), out), -EINVAL);
	assert_int_equal(vdc_base64_decode(S("T==="), out), -EINVAL);
	assert_int_equal(vdc_base64_decode(S("===="), out), -EINVAL);
	assert_int_equal(vdc_base64_decode(S("TQ=a"), out), -EINVAL);       /* data after padding */
	assert_int_equal(vdc_base64_decode(S("TQ==TWFu"), out), -EINVAL);   /* padding mid-stream */
	assert_int_equal(vdc_base64_decode(S("TW-u"), out), -EINVAL);       /* url-safe alphabet */
	assert_int_equal(vdc_base64_decode(S("TW_u"), out), -EINVAL);
	assert_int_equal(vdc_base64_decode(S("TW u"), out), -EINVAL);
	assert_int_equal(vdc_base64_decode(S("TW\nu"), out), -EINVAL);
	assert_int_equal(vdc_base64_decode(S("TW\0u"), out), -EINVAL);
	assert_int_equal(vdc_base64_decode(S("TW\xffu"), out), -EINVAL);
}

static void test_base64_round_trip(void **state)
{
	unsigned char in[256], out[256 / 3 * 3 + 3];
	char enc[(256 + 2) / 3 * 4 + 1];
	size_t n, i;

	(void)state;
	for (i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)(i * 37 + 11);
	for (n = 1; n <= sizeof(in); n++) {
		size_t elen = b64_encode(in, n, enc);

		assert_int_equal(vdc_base64_decode(enc, elen, out), (long)n);
		assert_memory_equal(out, in, n);
	}
}

/* An SSH wire-format key blob under construction. */
struct blob {
	unsigned char b[2048];
	size_t n;
};

static void put_u32(struct blob *bl, uint32_t v)
{
	assert_true(bl->n + 4 <= sizeof(bl->b));
	bl->b[bl->n++] = (unsigned char)(v >> 24);
	bl->b[bl->n++] = (unsigned char)(v >> 16);
	bl->b[bl->n++] = (unsigned char)(v >> 8);
	bl->b[bl->n++] = (unsigned char)v;
}

static void put_bytes(struct blob *bl, const void *data, size_t len)
{
	assert_true(bl->n + len <= sizeof(bl->b));
	memcpy(bl->b + bl->n, data, len);
	bl->n += len;
}

static void put_string(struct blob *bl, const void *data, size_t len)
{
	put_u32(bl, (uint32_t)len);
	put_bytes(bl, data, len);
}

static void put_cstring(struct blob *bl, const char *s)
{
	put_string(bl, s, strlen(s));
}

/* A positive mpint of `bytes` bytes with the top bit set, as OpenSSH writes it. */
static void put_modulus(struct blob *bl, size_t bytes)
{
	unsigned char n[1 + 2048];
	size_t i;

	assert_true(bytes + 1 <= sizeof(n));
	n[0] = 0x00;   /* the top bit of n[1] is set: keep the mpint positive */
	for (i = 1; i <= bytes; i++)
		n[i] = (unsigned char)(0xc5 ^ (i * 29));
	n[1] |= 0x80;
	n[bytes] |= 0x01;   /* a modulus is odd */
	put_string(bl, n, bytes + 1);
}

static void blob_ed25519(struct blob *bl, const char *type)
{
	unsigned char pk[32];
	size_t i;

	for (i = 0; i < sizeof(pk); i++)
		pk[i] = (unsigned char)(i * 7 + 3);
	bl->n = 0;
	put_cstring(bl, type);
	put_string(bl, pk, sizeof(pk));
}

static void blob_rsa(struct blob *bl, size_t modulus_bytes)
{
	static const unsigned char e[] = { 0x01, 0x00, 0x01 };

	bl->n = 0;
	put_cstring(bl, "ssh-rsa");
	put_string(bl, e, sizeof(e));
	put_modulus(bl, modulus_bytes);
}

static void blob_ecdsa(struct blob *bl, const char *type, const char *curve, size_t qlen)
{
	unsigned char q[133];
	size_t i;

	assert_true(qlen <= sizeof(q));
	q[0] = 0x04;   /* an uncompressed point */
	for (i = 1; i < qlen; i++)
		q[i] = (unsigned char)(i * 13);
	bl->n = 0;
	put_cstring(bl, type);
	put_cstring(bl, curve);
	put_string(bl, q, qlen);
}

/* Write `TYPE BASE64[ COMMENT]` into `line`; return its length. */
static size_t key_line(char *line, size_t linelen, const char *type, const struct blob *bl,
		       const char *comment)
{
	char enc[sizeof(bl->b) / 3 * 4 + 8];
	int n;

	b64_encode(bl->b, bl->n, enc);
	if (comment)
		n = snprintf(line, linelen, "%s %s %s", type, enc, comment);
	else
		n = snprintf(line, linelen, "%s %s", type, enc);
	assert_true(n > 0 && (size_t)n < linelen);
	return (size_t)n;
}

static void test_sshkey_ed25519(void **state)
{
	struct blob bl;
	char line[4096];
	size_t len;

	(void)state;
	blob_ed25519(&bl, "ssh-ed25519");
	len = key_line(line, sizeof(line), "ssh-ed25519", &bl, "alice@laptop");
	assert_int_equal(sshkey_rc(line, len), 0);
	len = key_line(line, sizeof(line), "ssh-ed25519", &bl, NULL);
	assert_int_equal(sshkey_rc(line, len), 0);
	len = key_line(line, sizeof(line), "ssh-ed25519", &bl, "a comment with spaces and \xc3\xa9");
	assert_int_equal(sshkey_rc(line, len), 0);

	/* The type on the line and the one inside the blob must agree. */
	len = key_line(line, sizeof(line), "ssh-rsa", &bl, "alice@laptop");
	assert_int_equal(sshkey_rc(line, len), -EINVAL);

	/* One line only. */
	len = key_line(line, sizeof(line), "ssh-ed25519", &bl, "alice\nssh-ed25519");
	assert_int_equal(sshkey_rc(line, len), -EINVAL);
	len = key_line(line, sizeof(line), "ssh-ed25519", &bl, "alice\x1b[2J");
	assert_int_equal(sshkey_rc(line, len), -EINVAL);
}

static void test_sshkey_ed25519_malformed(void **state)
{
	unsigned char pk[33] = { 0 };
	struct blob bl;
	char line[4096];
	size_t len;

	(void)state;
	bl.n = 0;
	put_cstring(&bl, "ssh-ed25519");
	put_string(&bl, pk, 31);
	len = key_line(line, sizeof(line), "ssh-ed25519", &bl, NULL);
	assert_int_equal(sshkey_rc(line, len), -EINVAL);

	bl.n = 0;
	put_cstring(&bl, "ssh-ed25519");
	put_string(&bl, pk, 33);
	len = key_line(line, sizeof(line), "ssh-ed25519", &bl, NULL);
	assert_int_equal(sshkey_rc(line, len), -EINVAL);

	/* Type string alone, then a length that runs past the end. */
	bl.n = 0;
	put_cstring(&bl, "ssh-ed25519");
	len = key_line(line, sizeof(line), "ssh-ed25519", &bl, NULL);
	assert_int_equal(sshkey_rc(line, len), -EINVAL);
	put_u32(&bl, 32);
	put_bytes(&bl, pk, 16);
	len = key_line(line, sizeof(line), "ssh-ed25519", &bl, NULL);
	assert_int_equal(sshkey_rc(line, len), -EINVAL);

	/* Trailing garbage after a well-formed key. */
	blob_ed25519(&bl, "ssh-ed25519");
	put_bytes(&bl, "\0", 1);
	len = key_line(line, sizeof(line), "ssh-ed25519", &bl, NULL);
	assert_int_equal(sshkey_rc(line, len), -EINVAL);
	blob_ed25519(&bl, "ssh-ed25519");
	put_cstring(&bl, "extra");
	len = key_line(line, sizeof(line), "ssh-ed25519", &bl, NULL);
	assert_int_equal(sshkey_rc(line, len), -EINVAL);

	/* A wrong type name inside the blob. */
	blob_ed25519(&bl, "ssh-ed25519x");
	len = key_line(line, sizeof(line), "ssh-ed25519", &bl, NULL);
	assert_int_equal(sshkey_rc(line, len), -EINVAL);
	blob_ed25519(&bl, "ssh-ed2551");
	len = key_line(line, sizeof(line), "ssh-ed25519", &bl, NULL);
	assert_int_equal(sshkey_rc(line, len), -EINVAL);
	blob_ed25519(&bl, "SSH-ED25519");
	len = key_line(line, sizeof(line), "ssh-ed25519", &bl, NULL);
	assert_int_equal(sshkey_rc(line, len), -EINVAL);

	/* A blob too short to hold even the length of the type. */
	assert_int_equal(sshkey_rc(S("ssh-ed25519 AAAA")), -EINVAL);
	assert_int_equal(sshkey_rc(S("ssh-ed25519 AAA=")), -EINVAL);
}

static void test_sshkey_rsa(void **state)
{
	struct blob bl;
	char line[4096];
	size_t len;

	(void)state;
	blob_rsa(&bl, 256);   /* 2048 bits */
	len = key_line(line, sizeof(line), "ssh-rsa", &bl, "bob@host");
	assert_int_equal(sshkey_rc(line, len), 0);

	blob_rsa(&bl, 512);   /* 4096 bits */
	len = key_line(line, sizeof(line), "ssh-rsa", &bl, "bob@host");
	assert_int_equal(sshkey_rc(line, len), 0);

	blob_rsa(&bl, 128);   /* 1024 bits: too weak */
	len = key_line(line, sizeof(line), "ssh-rsa", &bl, "bob@host");
	assert_int_equal(sshkey_rc(line, len), -EINVAL);

	blob_rsa(&bl, 255);   /* 2040 bits */
	len = key_line(line, sizeof(line), "ssh-rsa", &bl, NULL);
	assert_int_equal(sshkey_rc(line, len), -EINVAL);

	/* A 2048-bit key is refused when the line calls it ed25519. */
	blob_rsa(&bl, 256);
	len = key_line(line, sizeof(line), "ssh-ed25519", &bl, NULL);
	assert_int_equal(sshkey_rc(line, len), -EINVAL);

	/* Trailing garbage after the modulus. */
	blob_rsa(&bl, 256);
	put_bytes(&bl, "\x01\x02\x03", 3);
	len = key_line(line, sizeof(line), "ssh-rsa", &bl, NULL);
	assert_int_equal(sshkey_rc(line, len), -EINVAL);

	/* No exponent, and an empty exponent. */
	bl.n = 0;
	put_cstring(&bl, "ssh-rsa");
	put_modulus(&bl, 256);
	len = key_line(line, sizeof(line), "ssh-rsa", &bl, NULL);
	assert_int_equal(sshkey_rc(line, len), -EINVAL);
	bl.n = 0;
	put_cstring(&bl, "ssh-rsa");
	put_string(&bl, "", 0);
	put_modulus(&bl, 256);
	len = key_line(line, sizeof(line), "ssh-rsa", &bl, NULL);
	assert_int_equal(sshkey_rc(line, len), -EINVAL);
}

static void test_sshkey_rsa_message(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct blob bl;
	char line[4096];
	size_t len;
	int rc;

	(void)state;
	blob_rsa(&bl, 128);
	len = key_line(line, sizeof(line), "ssh-rsa", &bl, NULL);
	rc = vdc_sshkey_check(line, len, &err);
	assert_int_equal(rc, -EINVAL);
	check_err(rc, &err);
	assert_non_null(strstr(err.msg, "2048"));
}

static void test_sshkey_ecdsa_sk(void **state)
{
	struct blob bl;
	char line[4096];
	size_t len;

	(void)state;
	blob_ecdsa(&bl, "ecdsa-sha2-nistp256", "nistp256", 65);
	len = key_line(line, sizeof(line), "ecdsa-sha2-nistp256", &bl, "carol");
	assert_int_equal(sshkey_rc(line, len), 0);
	blob_ecdsa(&bl, "ecdsa-sha2-nistp384", "nistp384", 97);
	len = key_line(line, sizeof(line), "ecdsa-sha2-nistp384", &bl, "carol");
	assert_int_equal(sshkey_rc(line, len), 0);
	blob_ecdsa(&bl, "ecdsa-sha2-nistp521", "nistp521", 133);
	len = key_line(line, sizeof(line), "ecdsa-sha2-nistp521", &bl, "carol");
	assert_int_equal(sshkey_rc(line, len), 0);

	/* The curve inside must match the type. */
	blob_ecdsa(&bl, "ecdsa-sha2-nistp256", "nistp384", 65);
	len = key_line(line, sizeof(line), "ecdsa-sha2-nistp256", &bl, NULL);
	assert_int_equal(sshkey_rc(line, len), -EINVAL);
	/* A compressed point (0x02) is not what OpenSSH writes. */
	blob_ecdsa(&bl, "ecdsa-sha2-nistp256", "nistp256", 65);
	bl.b[bl.n - 65] = 0x02;
	len = key_line(line, sizeof(line), "ecdsa-sha2-nistp256", &bl, NULL);
	assert_int_equal(sshkey_rc(line, len), -EINVAL);

	/* Security-key variants carry an application string after the key. */
	blob_ed25519(&bl, "sk-ssh-ed25519@openssh.com");
	put_cstring(&bl, "ssh:");
	len = key_line(line, sizeof(line), "sk-ssh-ed25519@openssh.com", &bl, "dave");
	assert_int_equal(sshkey_rc(line, len), 0);
	blob_ed25519(&bl, "sk-ssh-ed25519@openssh.com");
	len = key_line(line, sizeof(line), "sk-ssh-ed25519@openssh.com", &bl, "dave");
	assert_int_equal(sshkey_rc(line, len), -EINVAL);

	blob_ecdsa(&bl, "sk-ecdsa-sha2-nistp256@openssh.com", "nistp256", 65);
	put_cstring(&bl, "ssh:");
	len = key_line(line, sizeof(line), "sk-ecdsa-sha2-nistp256@openssh.com", &bl, NULL);
	assert_int_equal(sshkey_rc(line, len), 0);
}

static void test_sshkey_bad_lines(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct blob bl;
	char line[4096], enc[128];
	size_t len;
	int rc;

	(void)state;
	blob_ed25519(&bl, "ssh-ed25519");
	b64_encode(bl.b, bl.n, enc);

	assert_int_equal(sshkey_rc(S("ssh-ed25519")), -EINVAL);
	assert_int_equal(sshkey_rc(S("   ")), -EINVAL);
	assert_int_equal(sshkey_rc(S("ssh-dss AAAAB3NzaC1kc3M=")), -EINVAL);
	assert_int_equal(sshkey_rc(S("not a key at all")), -EINVAL);

	/* Bad base64: a character outside the alphabet, a short quad, padding. */
	len = (size_t)snprintf(line, sizeof(line), "ssh-ed25519 %s", enc);
	line[20] = '*';
	assert_int_equal(sshkey_rc(line, len), -EINVAL);
	len = (size_t)snprintf(line, sizeof(line), "ssh-ed25519 %.*s", (int)strlen(enc) - 1, enc);
	assert_int_equal(sshkey_rc(line, len), -EINVAL);
	len = (size_t)snprintf(line, sizeof(line), "ssh-ed25519 %s==== x", enc);
	assert_int_equal(sshkey_rc(line, len), -EINVAL);

	rc = vdc_sshkey_check(S("ssh-ed25519 !!!!"), &err);
	assert_int_equal(rc, -EINVAL);
	check_err(rc, &err);
	assert_true(islower((unsigned char)err.msg[0]));

	rc = vdc_sshkey_check(S("ssh-foo AAAA"), &err);
	assert_int_equal(rc, -EINVAL);
	check_err(rc, &err);
	assert_true(islower((unsigned char)err.msg[0]));

	/* An oversized blob is refused before it is decoded. */
	{
		size_t big = 20000;
		char *s = malloc(big + 16);

		assert_non_null(s);
		memcpy(s, "ssh-rsa ", 8);
		memset(s + 8, 'A', big);
		rc = vdc_sshkey_check(s, 8 + big, &err);
		assert_int_equal(rc, -EINVAL);
		check_err(rc, &err);
		free(s);
	}
}

/* An empty value is accepted: the code returns 0 before parsing anything. */
static void test_sshkey_empty(void **state)
{
	(void)state;
	assert_int_equal(sshkey_rc(S("")), 0);
}

/* ---- calling conventions shared by every validator ------------------ */

/*
 * Values come from write(2) and are not NUL-terminated: the length is the
 * truth, whatever follows it in memory.
 */
static void test_length_not_nul(void **state)
{
	struct vdc_rule r;
	uint64_t v;
	uint32_t a, net;
	unsigned prefix;
	bool on;

	(void)state;
	assert_int_equal(name_rc("web!", 3), 0);
	assert_int_equal(text_rc("ok\x01", 2, false), 0);
	assert_int_equal(size_rc("512MX", 4, &v), 0);
	assert_true(v == 512ULL << 20);
	assert_int_equal(uint_rc("123x", 3, 0, 1000, &v), 0);
	assert_true(v == 123);
	assert_int_equal(onoff_rc("onX", 2, &on), 0);
	assert_true(on);
	assert_int_equal(onoff_rc("off", 2, &on), -EINVAL);
	assert_int_equal(hostname_rc("web.", 3), 0);
	assert_int_equal(ipv4_rc("1.2.3.45", 7, &a), 0);
	assert_true(a == 0x01020304u);
	assert_int_equal(cidr_rc("10.0.0.0/8x", 10, &net, &prefix), 0);
	assert_int_equal(cidr_rc("128.0.0.0/16", 11, &net, &prefix), 0);
	assert_int_equal(prefix, 1);
	assert_int_equal(dns_rc("1.1.1.1 1.1.1.2x", 15), 0);
	assert_int_equal(rule_rc("in tcp 22 0.0.0.0/0x", 19, &r), 0);
	assert_int_equal(vdc_rules_parse("in tcp 22 0.0.0.0/0\nbad", 20, NULL, NULL, NULL), 0);
}

/* err.h allows a NULL err when the caller does not want the sentence. */
static void test_null_err(void **state)
{
	uint64_t v;
	uint32_t a, net;
	unsigned prefix;
	bool on;

	(void)state;
	assert_int_equal(vdc_name_check(S("1x"), NULL), -EINVAL);
	assert_int_equal(vdc_text_check(S("\x01"), false, NULL), -EINVAL);
	assert_int_equal(vdc_size_parse(S("5X"), "size", &v, NULL), -EINVAL);
	assert_int_equal(vdc_size_parse(S("99999999999T"), "size", &v, NULL), -ERANGE);
	assert_int_equal(vdc_uint_parse(S("9"), "n", 0, 5, &v, NULL), -ERANGE);
	assert_int_equal(vdc_onoff_parse(S("yes"), "x", &on, NULL), -EINVAL);
	assert_int_equal(vdc_hostname_check(S("-x"), NULL), -EINVAL);
	assert_int_equal(vdc_ipv4_parse(S("1.2.3"), &a, NULL), -EINVAL);
	assert_int_equal(vdc_cidr_parse(S("10.0.0.1/8"), &net, &prefix, NULL), -EINVAL);
	assert_int_equal(vdc_dns_check(S("x"), NULL), -EINVAL);
	assert_int_equal(vdc_rule_parse(S("in tcp 22 sg:X"), NULL, NULL), -EINVAL);
	assert_int_equal(vdc_rules_parse(S("in tcp 22 10.0.0.1/8\n"), NULL, NULL, NULL), -EINVAL);
	assert_int_equal(vdc_sshkey_check(S("ssh-ed25519 AAAA"), NULL), -EINVAL);
}

/* A reused err always describes the latest failure, and clears back to empty. */
static void test_err_reuse(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	int rc;

	(void)state;
	rc = vdc_rules_parse(S("in tcp 22 sg:X\n"), NULL, NULL, &err);
	assert_int_equal(rc, -EINVAL);
	assert_int_equal(err.code, rc);
	rc = vdc_size_parse(S("99999999999T"), "size", &(uint64_t){0}, &err);
	assert_int_equal(rc, -ERANGE);
	assert_int_equal(err.code, -ERANGE);
	vdc_err_clear(&err);
	assert_int_equal(err.code, 0);
	assert_string_equal(err.msg, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_good),
		cmocka_unit_test(test_name_bad),
		cmocka_unit_test(test_name_messages),
		cmocka_unit_test(test_text_good),
		cmocka_unit_test(test_text_lines),
		cmocka_unit_test(test_text_control),
		cmocka_unit_test(test_text_bad_utf8),
		cmocka_unit_test(test_text_message_line),
		cmocka_unit_test(test_size_good),
		cmocka_unit_test(test_size_bad),
		cmocka_unit_test(test_size_overflow),
		cmocka_unit_test(test_size_mib),
		cmocka_unit_test(test_linkpath),
		cmocka_unit_test(test_size_message),
		cmocka_unit_test(test_size_format),
		cmocka_unit_test(test_size_round_trip),
		cmocka_unit_test(test_size_format_short_buffer),
		cmocka_unit_test(test_size_approx),
		cmocka_unit_test(test_uint),
		cmocka_unit_test(test_uint_message),
		cmocka_unit_test(test_onoff),
		cmocka_unit_test(test_hostname_good),
		cmocka_unit_test(test_hostname_bad),
		cmocka_unit_test(test_ipv4_good),
		cmocka_unit_test(test_ipv4_bad),
		cmocka_unit_test(test_ipv4_format),
		cmocka_unit_test(test_mac_parse),
		cmocka_unit_test(test_ipv4_host_in),
		cmocka_unit_test(test_cidr_good),
		cmocka_unit_test(test_cidr_bad),
		cmocka_unit_test(test_dns),
		cmocka_unit_test(test_dns_parse),
		cmocka_unit_test(test_rule_good),
		cmocka_unit_test(test_rule_group_name),
		cmocka_unit_test(test_rule_bad),
		cmocka_unit_test(test_rule_null_out),
		cmocka_unit_test(test_rules_file),
		cmocka_unit_test(test_rules_errors),
		cmocka_unit_test(test_rules_max),
		cmocka_unit_test(test_base64_decode),
		cmocka_unit_test(test_base64_round_trip),
		cmocka_unit_test(test_sshkey_ed25519),
		cmocka_unit_test(test_sshkey_ed25519_malformed),
		cmocka_unit_test(test_sshkey_rsa),
		cmocka_unit_test(test_sshkey_rsa_message),
		cmocka_unit_test(test_sshkey_ecdsa_sk),
		cmocka_unit_test(test_sshkey_bad_lines),
		cmocka_unit_test(test_sshkey_empty),
		cmocka_unit_test(test_length_not_nul),
		cmocka_unit_test(test_text_bidi),
		cmocka_unit_test(test_uint_leading_zero),
		cmocka_unit_test(test_hostname_numeric),
		cmocka_unit_test(test_dns_messages),
		cmocka_unit_test(test_null_err),
		cmocka_unit_test(test_err_reuse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
