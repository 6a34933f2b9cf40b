/*
 * Unit tests for vdc-hva's reading of console input (agents/hva/
 * console_keys.c): the answer of GET console-input taken strictly, and
 * the pty of a domain's serial port found in its live XML.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "console_input.h"

static int parse(const char *text, struct hva_keys **k, size_t *n, struct vdc_err *err)
{
	json_error_t je;
	json_t *doc = json_loads(text, 0, &je);
	int rc;

	assert_non_null(doc);
	rc = hva_console_input_parse(doc, k, n, err);
	json_decref(doc);
	return rc;
}

static void test_parse_good(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct hva_keys *k;
	size_t n;

	(void)state;
	assert_int_equal(parse("{\"input\":[]}", &k, &n, &err), 0);
	assert_int_equal(n, 0);
	assert_null(k);
	assert_int_equal(parse("{\"input\":[{\"id\":7,\"hex\":\"6c730d\"},{\"id\":9,\"hex\":\"00ff1d\"}]}", &k, &n, &err),
			 0);
	assert_int_equal(n, 2);
	assert_int_equal(k[0].id, 7);
	assert_int_equal(k[0].len, 3);
	assert_memory_equal(k[0].buf, "ls\r", 3);
	assert_int_equal(k[1].id, 9);
	assert_memory_equal(k[1].buf, "\0\xff\x1d", 3);
	hva_keys_free(k, n);
}

static void test_parse_bad(void **state)
{
	static const struct {
		const char *doc, *says;
	} bad[] = {
		{ "[]", "is not an object" },
		{ "{}", "has no \"input\" list" },
		{ "{\"input\":{}}", "has no \"input\" list" },
		{ "{\"input\":[],\"more\":1}", "unknown member \"more\"" },
		{ "{\"input\":[1]}", "entry 0 is not an object" },
		{ "{\"input\":[{\"id\":0,\"hex\":\"61\"}]}", "\"id\" is not an integer from 1" },
		{ "{\"input\":[{\"id\":\"1\",\"hex\":\"61\"}]}", "\"id\" is not an integer from 1" },
		{ "{\"input\":[{\"id\":1}]}", "\"hex\" is not a string" },
		{ "{\"input\":[{\"id\":1,\"hex\":\"\"}]}", "has 0 digits" },
		{ "{\"input\":[{\"id\":1,\"hex\":\"616\"}]}", "has 3 digits" },
		{ "{\"input\":[{\"id\":1,\"hex\":\"6A\"}]}", "two lowercase hex digits" },
		{ "{\"input\":[{\"id\":1,\"hex\":\"6g\"}]}", "two lowercase hex digits" },
		{ "{\"input\":[{\"id\":1,\"hex\":\"61\",\"x\":1}]}", "unknown member \"x\"" },
		{ "{\"input\":[{\"id\":1,\"hex\":\"61\"},{\"id\":1,\"hex\":\"62\"}]}", "names instance 1 twice" },
	};
	struct vdc_err err = VDC_ERR_INIT;
	struct hva_keys *k;
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		vdc_err_clear(&err);
		assert_int_equal(parse(bad[i].doc, &k, &n, &err), -EINVAL);
		assert_null(k);
		assert_int_equal(n, 0);
		if (!strstr(err.msg, bad[i].says))
			fail_msg("%s: \"%s\" does not say \"%s\"", bad[i].doc, err.msg, bad[i].says);
	}
}

static void test_parse_limits(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	static char doc[2 * 4096 + 64];
	struct hva_keys *k;
	size_t n;
	int at;

	(void)state;
	at = snprintf(doc, sizeof(doc), "{\"input\":[{\"id\":1,\"hex\":\"");
	memset(doc + at, 'a', 2 * 4096);
	snprintf(doc + at + 2 * 4096, sizeof(doc) - (size_t)at - 2 * 4096, "\"}]}");
	assert_int_equal(parse(doc, &k, &n, &err), 0);
	assert_int_equal(k[0].len, 4096);
	hva_keys_free(k, n);
	at = snprintf(doc, sizeof(doc), "{\"input\":[{\"id\":1,\"hex\":\"");
	memset(doc + at, 'a', 2 * 4096 + 2);
	snprintf(doc + at + 2 * 4096 + 2, sizeof(doc) - (size_t)at - 2 * 4096 - 2, "\"}]}");
	assert_int_equal(parse(doc, &k, &n, &err), -EINVAL);
}

static void test_pty_of(void **state)
{
	char pty[64];

	(void)state;
	assert_int_equal(hva_console_pty_of("<domain><devices><serial type='pty'>\n"
					    "      <source path='/dev/pts/5'/>\n"
					    "      <log file='/x/console.log' append='on'/>\n"
					    "      <target type='isa-serial' port='0'/>\n    </serial>"
					    "<console type='pty' tty='/dev/pts/5'/></devices></domain>",
					    pty, sizeof(pty)),
			 0);
	assert_string_equal(pty, "/dev/pts/5");
	/* Not running (no source yet), a file serial, a path elsewhere. */
	assert_int_equal(hva_console_pty_of("<serial type='pty'><target port='0'/></serial><disk><source path='/dev/pts/1'/>",
					    pty, sizeof(pty)),
			 -ENOENT);
	assert_int_equal(hva_console_pty_of("<serial type='file'><source path='/x/console.log'/></serial>", pty,
					    sizeof(pty)),
			 -ENOENT);
	assert_int_equal(hva_console_pty_of("<serial type='pty'><source path='/etc/passwd'/></serial>", pty,
					    sizeof(pty)),
			 -ENOENT);
	assert_int_equal(hva_console_pty_of("<serial type='pty'><source path='/dev/pts/../../etc/shadow'/></serial>",
					    pty, sizeof(pty)),
			 -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_parse_limits),
		cmocka_unit_test(test_pty_of),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
