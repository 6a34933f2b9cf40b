/*
 * Unit tests for backend/agent_doc.c: the documents the agent server
 * accepts, parsed and checked without the model. Host text is escaped and
 * cut on a character boundary; numbers out of range refuse the document;
 * and the worst-case reports of the largest hosts fit the body bound
 * VDC_DOC_REPORT_BYTES_MAX (the computation in agent_doc.h is checked
 * here by building those reports).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_doc.h"
#include "unit.h"

/* A string literal as pointer and length; the length keeps embedded NULs. */
#define S(lit) (lit), (sizeof(lit) - 1)

static const char *clean(const char *s, size_t len)
{
	static char out[VDC_DOC_TEXT_MAX + 1];
	size_t n = vdc_doc_text_clean(s, len, out);

	assert_int_equal(n, strlen(out));
	assert_true(n <= VDC_DOC_TEXT_MAX);
	/* Whatever came in, what goes out is one line of text. */
	assert_int_equal(vdc_text_check(out, n, false, NULL), 0);
	assert_null(strchr(out, '\t'));
	return out;
}

static void test_text_is_kept(void **state)
{
	(void)state;
	assert_string_equal(clean(S("cannot start the domain: no disk")), "cannot start the domain: no disk");
	assert_string_equal(clean(S("caf\xc3\xa9 \xe2\x82\xac")), "caf\xc3\xa9 \xe2\x82\xac");
	assert_string_equal(clean(S("")), "");
}

static void test_control_bytes_are_escaped(void **state)
{
	(void)state;
	assert_string_equal(clean(S("a\nb")), "a\\x0ab");
	assert_string_equal(clean(S("\x1b[31mred")), "\\x1b[31mred");
	assert_string_equal(clean(S("tab\there")), "tab\\x09here");
	assert_string_equal(clean(S("nul\0byte")), "nul\\x00byte");
	assert_string_equal(clean(S("del\x7f")), "del\\x7f");
	/* C1 controls (U+009B is CSI), invalid and truncated UTF-8 byte by byte. */
	assert_string_equal(clean(S("\xc2\x9b" "2J")), "\\xc2\\x9b2J");
	assert_string_equal(clean(S("\xff\xfe ok")), "\\xff\\xfe ok");
	assert_string_equal(clean(S("\xe2\x82")), "\\xe2\\x82");
	assert_string_equal(clean(S("\xc3" "a")), "\\xc3a");
}

static void test_long_text_is_cut(void **state)
{
	char in[4096], want[VDC_DOC_TEXT_MAX + 1];
	const char *out;
	size_t i;

	(void)state;
	/* Exactly the bound: kept whole. One more byte: cut, with the ellipsis. */
	memset(in, 'x', sizeof(in));
	out = clean(in, VDC_DOC_TEXT_MAX);
	assert_int_equal(strlen(out), VDC_DOC_TEXT_MAX);
	assert_int_equal(strspn(out, "x"), VDC_DOC_TEXT_MAX);
	out = clean(in, VDC_DOC_TEXT_MAX + 1);
	memset(want, 'x', VDC_DOC_TEXT_MAX - 3);
	memcpy(want + VDC_DOC_TEXT_MAX - 3, "...", 4);
	assert_string_equal(out, want);
	out = clean(in, sizeof(in));
	assert_string_equal(out, want);

	/* Two-byte characters: never cut in the middle of one. */
	for (i = 0; i + 1 < sizeof(in); i += 2)
		memcpy(in + i, "\xc3\xa9", 2);
	out = clean(in, sizeof(in));
	assert_true(strlen(out) <= VDC_DOC_TEXT_MAX);
	assert_string_equal(out + strlen(out) - 3, "...");
	assert_int_equal((strlen(out) - 3) % 2, 0);

	/* Escapes: never cut in the middle of one either. */
	memset(in, '\n', sizeof(in));
	out = clean(in, sizeof(in));
	assert_int_equal((strlen(out) - 3) % 4, 0);
	assert_string_equal(out + strlen(out) - 7, "\\x0a...");
}

static int join_rc(const char *s, struct vdc_doc_join *j)
{
	struct vdc_err err = VDC_ERR_INIT;
	int rc = vdc_doc_join_parse(s, strlen(s), j, &err);

	check_err(rc, &err);
	return rc;
}

static void test_join(void **state)
{
	struct vdc_doc_join j;

	(void)state;
	assert_int_equal(join_rc("{\"name\":\"hv1\",\"token\":\"abc\"}", &j), 0);
	assert_string_equal(j.name, "hv1");
	assert_string_equal(j.token, "abc");
	assert_false(j.sta);
	assert_int_equal(join_rc("{\"name\":\"st1\",\"token\":\"abc\",\"kind\":\"sta\"}", &j), 0);
	assert_true(j.sta);
	assert_int_equal(join_rc("{\"name\":\"Bad_Name\",\"token\":\"abc\"}", &j), -EINVAL);
	assert_int_equal(join_rc("{\"name\":\"hv\\u0000x\",\"token\":\"abc\"}", &j), -EINVAL);
	assert_int_equal(join_rc("{\"name\":\"hv1\"}", &j), -EINVAL);
	assert_int_equal(join_rc("{\"name\":\"hv1\",\"token\":\"a b\"}", &j), -EINVAL);
	assert_int_equal(join_rc("{\"name\":\"hv1\",\"token\":\"abc\",\"kind\":\"xyz\"}", &j), -EINVAL);
	assert_int_equal(join_rc("{\"name\":\"hv1\",\"token\":\"abc\",\"kind\":7}", &j), -EINVAL);
	assert_int_equal(join_rc("{\"name\":\"hv1\",\"name\":\"hv2\",\"token\":\"abc\"}", &j), -EINVAL);
	assert_int_equal(join_rc("[1]", &j), -EINVAL);
	assert_int_equal(join_rc("not json", &j), -EINVAL);
	assert_string_equal(j.name, "");
}

static int hva_rc(const char *s, struct vdc_doc_hva_report *r, struct vdc_err *err)
{
	int rc = vdc_doc_hva_report_parse(s, strlen(s), r, err);

	check_err(rc, err);
	return rc;
}

#define FACTS "\"facts\":{\"cpus\":2,\"memory_mib\":1024,\"driver\":\"qemu\",\"virt\":\"tcg\"," \
	      "\"libvirt\":\"9.0.0\",\"version\":\"0.3\",\"underlay\":\"198.51.100.18\"}"

static void test_hva_report(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_doc_hva_report r;

	(void)state;
	assert_int_equal(hva_rc("{\"epoch\":1,\"seq\":2,\"rev\":3," FACTS ",\"instances\":[{\"id\":12,"
				"\"domain\":\"vdc-12\",\"state\":\"error\",\"err\":\"no\\ndisk\",\"ip\":\"\","
				"\"reboot\":1,\"reset\":0,\"volumes\":[{\"id\":7,\"state\":\"attached\",\"err\":\"\"}]}]}",
				&r, &err), 0);
	assert_int_equal(r.epoch, 1);
	assert_int_equal(r.seq, 2);
	assert_int_equal(r.cpus, 2);
	assert_int_equal(r.memory_mib, 1024);
	assert_string_equal(r.driver, "qemu");
	assert_string_equal(r.underlay, "198.51.100.18");
	assert_int_equal(r.n, 1);
	assert_int_equal(r.insts[0].id, 12);
	assert_string_equal(r.insts[0].state, "error");
	assert_string_equal(r.insts[0].err, "no\\x0adisk");
	assert_int_equal(r.insts[0].reboot, 1);
	assert_int_equal(r.insts[0].nvols, 1);
	assert_int_equal(r.insts[0].vols[0].id, 7);
	assert_string_equal(r.insts[0].vols[0].state, "attached");
	assert_int_equal(r.insts[0].migrated, 0);
	assert_string_equal(r.insts[0].progress, "");
	vdc_doc_hva_report_release(&r);

	/* A live migration's counter and progress (free text: escaped, never refused for its bytes). */
	assert_int_equal(hva_rc("{\"epoch\":1,\"seq\":2," FACTS ",\"instances\":[{\"id\":12,\"state\":\"migrating\","
				"\"migrated\":3,\"progress\":\"memory 40%\\u001b[2J\"}]}", &r, &err), 0);
	assert_int_equal(r.insts[0].migrated, 3);
	assert_string_equal(r.insts[0].state, "migrating");
	assert_string_equal(r.insts[0].progress, "memory 40%\\x1b[2J");
	vdc_doc_hva_report_release(&r);
	assert_int_equal(hva_rc("{\"epoch\":1,\"seq\":2," FACTS ",\"instances\":[{\"id\":12,\"state\":\"migrated\","
				"\"migrated\":-1}]}", &r, &err), -EINVAL);
	assert_string_equal(err.msg, "instances[0].migrated is -1; it must be an integer from 0 to 9223372036854775807");
	assert_int_equal(hva_rc("{\"epoch\":1,\"seq\":2," FACTS ",\"instances\":[{\"id\":12,\"state\":\"migrated\","
				"\"progress\":7}]}", &r, &err), -EINVAL);

	/* Out of range: refused, saying the value and the range. */
	assert_int_equal(hva_rc("{\"epoch\":1,\"seq\":2,\"facts\":{\"cpus\":4294967297,\"memory_mib\":1},"
				"\"instances\":[]}", &r, &err), -EINVAL);
	assert_string_equal(err.msg, "facts.cpus is 4294967297; it must be an integer from 0 to 8192");
	assert_null(r.insts);
	assert_int_equal(hva_rc("{\"epoch\":-1,\"seq\":2," FACTS ",\"instances\":[]}", &r, &err), -EINVAL);
	assert_int_equal(hva_rc("{\"epoch\":1.5,\"seq\":2," FACTS ",\"instances\":[]}", &r, &err), -EINVAL);
	assert_int_equal(hva_rc("{\"epoch\":1,\"seq\":2," FACTS ",\"instances\":[{\"id\":1,\"state\":\"running\","
				"\"reset\":-1}]}", &r, &err), -EINVAL);
	assert_string_equal(err.msg, "instances[0].reset is -1; it must be an integer from 0 to 9223372036854775807");
	assert_int_equal(hva_rc("{\"epoch\":1,\"seq\":2," FACTS ",\"instances\":[{\"id\":0,\"state\":\"running\"}]}",
				&r, &err), -EINVAL);
	assert_int_equal(hva_rc("{\"epoch\":1,\"seq\":2,\"facts\":{\"cpus\":1,\"memory_mib\":4294967297},"
				"\"instances\":[]}", &r, &err), -EINVAL);
	/* Words and facts are refused, not cleaned. */
	assert_int_equal(hva_rc("{\"epoch\":1,\"seq\":2," FACTS ",\"instances\":[{\"id\":1,\"state\":\"run\\nning\"}]}",
				&r, &err), -EINVAL);
	assert_int_equal(hva_rc("{\"epoch\":1,\"seq\":2," FACTS ",\"instances\":[{\"id\":1,\"state\":\"\"}]}",
				&r, &err), -EINVAL);
	assert_int_equal(hva_rc("{\"epoch\":1,\"seq\":2,\"facts\":{\"cpus\":1,\"memory_mib\":1,"
				"\"driver\":\"qemu\\u001b[31m\"},\"instances\":[]}", &r, &err), -EINVAL);
	assert_int_equal(hva_rc("{\"epoch\":1,\"seq\":2,\"facts\":{\"cpus\":1,\"memory_mib\":1,"
				"\"underlay\":\"198.51.100.256\"},\"instances\":[]}", &r, &err), -EINVAL);
	assert_int_equal(hva_rc("{\"epoch\":1,\"seq\":2," FACTS ",\"instances\":[{\"id\":1,\"state\":\"running\","
				"\"ip\":\"fe80::1\"}]}", &r, &err), -EINVAL);
	assert_int_equal(hva_rc("{\"epoch\":1,\"seq\":2," FACTS ",\"instances\":[{\"id\":1,\"state\":\"running\","
				"\"volumes\":[{\"id\":1}]}]}", &r, &err), -EINVAL);
	assert_string_equal(err.msg, "instances[0].volumes[0].state is missing");
	assert_int_equal(hva_rc("{\"epoch\":1,\"seq\":2," FACTS ",\"instances\":{}}", &r, &err), -EINVAL);
	assert_int_equal(hva_rc("{\"epoch\":1,\"seq\":2,\"instances\":[]}", &r, &err), -EINVAL);
}

/* Usage figures: absent means not known (-1); out of range, negative or not an integer refuses the report. */
static void test_hva_report_usage(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_doc_hva_report r;

	(void)state;
	assert_int_equal(hva_rc("{\"epoch\":1,\"seq\":2," FACTS ",\"usage\":{\"cpu\":1250,\"load\":[52,58,59]},"
				"\"instances\":[{\"id\":12,\"state\":\"running\",\"usage\":{\"cpu\":19999,"
				"\"cpu_time_ns\":12345678901,\"memory_kib\":131072,\"disk_read\":1,\"disk_written\":2,"
				"\"net_received\":3,\"net_sent\":9223372036854775807,\"uptime\":60}},"
				"{\"id\":13,\"state\":\"stopped\"},{\"id\":14,\"state\":\"running\",\"usage\":{\"uptime\":1}}]}",
				&r, &err), 0);
	assert_int_equal(r.cpu, 1250);
	assert_int_equal(r.load[0], 52);
	assert_int_equal(r.load[1], 58);
	assert_int_equal(r.load[2], 59);
	assert_int_equal(r.insts[0].usage.cpu, 19999);
	assert_int_equal(r.insts[0].usage.cpu_time_ns, 12345678901);
	assert_int_equal(r.insts[0].usage.memory_kib, 131072);
	assert_int_equal(r.insts[0].usage.disk_read, 1);
	assert_int_equal(r.insts[0].usage.disk_written, 2);
	assert_int_equal(r.insts[0].usage.net_received, 3);
	assert_int_equal(r.insts[0].usage.net_sent, INT64_MAX);
	assert_int_equal(r.insts[0].usage.uptime, 60);
	/* No "usage": every figure unknown; a figure absent from it: that one unknown. */
	assert_int_equal(r.insts[1].usage.cpu, -1);
	assert_int_equal(r.insts[1].usage.net_sent, -1);
	assert_int_equal(r.insts[1].usage.uptime, -1);
	assert_int_equal(r.insts[2].usage.uptime, 1);
	assert_int_equal(r.insts[2].usage.cpu, -1);
	assert_int_equal(r.insts[2].usage.memory_kib, -1);
	vdc_doc_hva_report_release(&r);

	/* A report without the host's usage (an older agent): not known. */
	assert_int_equal(hva_rc("{\"epoch\":1,\"seq\":2," FACTS ",\"instances\":[]}", &r, &err), 0);
	assert_int_equal(r.cpu, -1);
	assert_int_equal(r.load[0], -1);
	vdc_doc_hva_report_release(&r);
	assert_int_equal(hva_rc("{\"epoch\":1,\"seq\":2," FACTS ",\"usage\":{\"cpu\":0},\"instances\":[]}",
				&r, &err), 0);
	assert_int_equal(r.cpu, 0);
	assert_int_equal(r.load[2], -1);
	vdc_doc_hva_report_release(&r);

	/* Refused whole, naming the figure. */
	assert_int_equal(hva_rc("{\"epoch\":1,\"seq\":2," FACTS ",\"usage\":{\"cpu\":10001},\"instances\":[]}",
				&r, &err), -EINVAL);
	assert_string_equal(err.msg, "usage.cpu is 10001; it must be an integer from 0 to 10000");
	assert_null(r.insts);
	assert_int_equal(hva_rc("{\"epoch\":1,\"seq\":2," FACTS ",\"usage\":{\"cpu\":12.5},\"instances\":[]}",
				&r, &err), -EINVAL);
	assert_string_equal(err.msg, "usage.cpu must be an integer from 0 to 10000");
	assert_int_equal(hva_rc("{\"epoch\":1,\"seq\":2," FACTS ",\"usage\":{\"load\":[1,-2,3]},\"instances\":[]}",
				&r, &err), -EINVAL);
	assert_string_equal(err.msg, "usage.load[1] is -2; it must be an integer from 0 to 419430400");
	assert_int_equal(hva_rc("{\"epoch\":1,\"seq\":2," FACTS ",\"usage\":{\"load\":[1,2]},\"instances\":[]}",
				&r, &err), -EINVAL);
	assert_string_equal(err.msg, "usage.load must be a list of three integers (hundredths)");
	assert_int_equal(hva_rc("{\"epoch\":1,\"seq\":2," FACTS ",\"usage\":{\"load\":[1,2,\"3\"]},"
				"\"instances\":[]}", &r, &err), -EINVAL);
	assert_string_equal(err.msg, "usage.load[2] must be an integer (hundredths)");
	assert_int_equal(hva_rc("{\"epoch\":1,\"seq\":2," FACTS ",\"usage\":[],\"instances\":[]}", &r, &err),
			 -EINVAL);
	assert_string_equal(err.msg, "usage must be an object");
	assert_int_equal(hva_rc("{\"epoch\":1,\"seq\":2," FACTS ",\"instances\":[{\"id\":12,\"state\":\"running\","
				"\"usage\":{\"disk_written\":-1}}]}", &r, &err), -EINVAL);
	assert_string_equal(err.msg,
			    "instances[0].usage.disk_written is -1; it must be an integer from 0 to 9223372036854775807");
	assert_int_equal(hva_rc("{\"epoch\":1,\"seq\":2," FACTS ",\"instances\":[{\"id\":12,\"state\":\"running\","
				"\"usage\":{\"net_sent\":1e3}}]}", &r, &err), -EINVAL);
	assert_string_equal(err.msg, "instances[0].usage.net_sent must be an integer from 0 to 9223372036854775807");
	assert_int_equal(hva_rc("{\"epoch\":1,\"seq\":2," FACTS ",\"instances\":[{\"id\":12,\"state\":\"running\","
				"\"usage\":{\"cpu\":81920001}}]}", &r, &err), -EINVAL);
	assert_string_equal(err.msg, "instances[0].usage.cpu is 81920001; it must be an integer from 0 to 81920000");
	assert_int_equal(hva_rc("{\"epoch\":1,\"seq\":2," FACTS ",\"instances\":[{\"id\":12,\"state\":\"running\","
				"\"usage\":{\"memory_kib\":4398046511105}}]}", &r, &err), -EINVAL);
	assert_string_equal(err.msg,
			    "instances[0].usage.memory_kib is 4398046511105; it must be an integer from 0 to 4398046511104");
	/* Past 2^63-1: not a JSON integer jansson keeps, so not JSON to the parser. */
	assert_int_equal(hva_rc("{\"epoch\":1,\"seq\":2," FACTS ",\"instances\":[{\"id\":12,\"state\":\"running\","
				"\"usage\":{\"uptime\":9223372036854775808}}]}", &r, &err), -EINVAL);
	assert_int_equal(hva_rc("{\"epoch\":1,\"seq\":2," FACTS ",\"instances\":[{\"id\":12,\"state\":\"running\","
				"\"usage\":7}]}", &r, &err), -EINVAL);
	assert_string_equal(err.msg, "instances[0].usage must be an object");
}

static void test_hva_report_counts(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_doc_hva_report r;
	json_t *doc = json_pack("{s:i, s:i, s:{s:i, s:i}, s:[]}", "epoch", 1, "seq", 1, "facts", "cpus", 1,
				"memory_mib", 1, "instances");
	json_t *list = json_object_get(doc, "instances");
	char *text;
	int i;

	(void)state;
	for (i = 0; i < VDC_DOC_INSTANCES_MAX + 1; i++)
		json_array_append_new(list, json_pack("{s:i, s:s}", "id", i + 1, "state", "running"));
	text = json_dumps(doc, JSON_COMPACT);
	assert_int_equal(hva_rc(text, &r, &err), -EINVAL);
	assert_string_equal(err.msg, "instances must be a list of at most 256 entries");
	free(text);
	json_array_remove(list, 0);
	text = json_dumps(doc, JSON_COMPACT);
	assert_int_equal(hva_rc(text, &r, &err), 0);
	assert_int_equal(r.n, VDC_DOC_INSTANCES_MAX);
	vdc_doc_hva_report_release(&r);
	free(text);
	json_decref(doc);
}

static int sta_rc(const char *s, struct vdc_doc_sta_report *r, struct vdc_err *err)
{
	int rc = vdc_doc_sta_report_parse(s, strlen(s), r, err);

	check_err(rc, err);
	return rc;
}

static void test_sta_report(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_doc_sta_report r;

	(void)state;
	assert_int_equal(sta_rc("{\"epoch\":1,\"seq\":2,\"rev\":0,\"facts\":{\"disk_mib\":100,\"driver\":\"tgt\","
				"\"portal\":\"198.51.100.7:3260\",\"version\":\"0.4\"},\"volumes\":[{\"id\":3,"
				"\"state\":\"available\",\"err\":\"\",\"size\":1073741824,\"allocated\":4096,"
				"\"restore\":0,\"progress\":\"copying\\r50%\",\"snapshots\":[{\"id\":4,\"state\":\"error\","
				"\"err\":\"\\u001b]0;x\"}]}]}", &r, &err), 0);
	assert_int_equal(r.disk_mib, 100);
	assert_string_equal(r.portal, "198.51.100.7:3260");
	assert_int_equal(r.n, 1);
	assert_int_equal(r.vols[0].size, 1073741824);
	assert_string_equal(r.vols[0].progress, "copying\\x0d50%");
	assert_int_equal(r.vols[0].nsnaps, 1);
	assert_string_equal(r.vols[0].snaps[0].err, "\\x1b]0;x");
	vdc_doc_sta_report_release(&r);

	assert_int_equal(sta_rc("{\"epoch\":1,\"seq\":2,\"facts\":{\"disk_mib\":1,\"portal\":\"a b:1\"},"
				"\"volumes\":[]}", &r, &err), -EINVAL);
	assert_int_equal(sta_rc("{\"epoch\":1,\"seq\":2,\"facts\":{\"disk_mib\":1099511627777,\"portal\":\"a:1\"},"
				"\"volumes\":[]}", &r, &err), -EINVAL);
	assert_int_equal(sta_rc("{\"epoch\":1,\"seq\":2,\"facts\":{\"disk_mib\":1,\"portal\":\"a:1\"},"
				"\"volumes\":[{\"id\":1,\"state\":\"available\",\"size\":-5}]}", &r, &err), -EINVAL);
	assert_int_equal(sta_rc("{\"epoch\":1,\"seq\":2,\"facts\":{\"disk_mib\":1},\"volumes\":[]}", &r, &err),
			 -EINVAL);
}

static void test_sta_report_counts_snapshots_in_all(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_doc_sta_report r;
	json_t *doc = json_pack("{s:i, s:i, s:{s:i, s:s}, s:[]}", "epoch", 1, "seq", 1, "facts", "disk_mib", 1,
				"portal", "a:1", "volumes");
	json_t *vols = json_object_get(doc, "volumes");
	char *text;
	int v, k, id = 1;

	(void)state;
	/* Five volumes of 1000 snapshots each: within each volume's bound, over the report's. */
	for (v = 0; v < 5; v++) {
		json_t *snaps = json_array();

		for (k = 0; k < 1000; k++)
			json_array_append_new(snaps, json_pack("{s:i, s:s}", "id", id++, "state", "available"));
		json_array_append_new(vols, json_pack("{s:i, s:s, s:o}", "id", id++, "state", "available",
						      "snapshots", snaps));
	}
	text = json_dumps(doc, JSON_COMPACT);
	assert_int_equal(sta_rc(text, &r, &err), -EINVAL);
	assert_string_equal(err.msg, "the report lists more than 4096 snapshots in all");
	free(text);
	json_decref(doc);
}

/* A text an agent may send at its longest and worst to escape: every byte a control byte. */
static char *worst_text(void)
{
	static char t[VDC_DOC_TEXT_MAX + 1];

	memset(t, 1, VDC_DOC_TEXT_MAX);
	t[VDC_DOC_TEXT_MAX] = 0;
	return t;
}

static void test_largest_hva_report_fits(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_doc_hva_report r;
	json_t *list = json_array(), *doc;
	char *text;
	size_t len;
	int i, k;

	(void)state;
	for (i = 0; i < VDC_DOC_INSTANCES_MAX; i++) {
		json_t *vols = json_array();

		for (k = 0; k < VDC_DOC_INST_VOLUMES_MAX; k++)
			json_array_append_new(vols, json_pack("{s:I, s:s, s:s}", "id", (json_int_t)INT64_MAX,
							      "state", "detaching", "err", worst_text()));
		json_array_append_new(list, json_pack("{s:I, s:s, s:s, s:s, s:s, s:I, s:I, s:o, s:I, s:s, "
						      "s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}}", "id",
						      (json_int_t)INT64_MAX - i, "domain", "vdc-9223372036854775807",
						      "state", "migrating", "err", worst_text(), "ip", "255.255.255.255",
						      "reboot", (json_int_t)INT64_MAX, "reset", (json_int_t)INT64_MAX,
						      "volumes", vols, "migrated", (json_int_t)INT64_MAX,
						      "progress", worst_text(), "usage",
						      "cpu", (json_int_t)VDC_DOC_INST_CPU_MAX, "cpu_time_ns", (json_int_t)INT64_MAX,
						      "memory_kib", (json_int_t)VDC_DOC_MEMORY_KIB_MAX,
						      "disk_read", (json_int_t)INT64_MAX, "disk_written", (json_int_t)INT64_MAX,
						      "net_received", (json_int_t)INT64_MAX, "net_sent", (json_int_t)INT64_MAX,
						      "uptime", (json_int_t)INT64_MAX));
	}
	doc = json_pack("{s:I, s:I, s:I, s:{s:i, s:I, s:s, s:s, s:s, s:s, s:s}, s:o}", "epoch",
			(json_int_t)INT64_MAX, "seq", (json_int_t)INT64_MAX, "rev", (json_int_t)INT64_MAX, "facts",
			"cpus", (int)VDC_DOC_CPUS_MAX, "memory_mib", (json_int_t)VDC_DOC_MEMORY_MIB_MAX, "driver",
			"qemu-16-letters", "virt", "kvm-16-letters-x", "libvirt", "10.10.10-16-char", "version",
			"0.3-16-letters-x", "underlay", "255.255.255.255", "instances", list);
	json_object_set_new(doc, "usage", json_pack("{s:i, s:[I, I, I]}", "cpu", VDC_DOC_HOST_CPU_MAX, "load",
						    (json_int_t)VDC_DOC_LOAD_MAX, (json_int_t)VDC_DOC_LOAD_MAX,
						    (json_int_t)VDC_DOC_LOAD_MAX));
	text = json_dumps(doc, JSON_COMPACT);
	len = strlen(text);
	print_message("the largest hypervisor report: %zu bytes of %zu\n", len, (size_t)VDC_DOC_REPORT_BYTES_MAX);
	assert_true(len <= (size_t)VDC_DOC_HVA_REPORT_JSON);
	assert_int_equal(vdc_doc_hva_report_parse(text, len, &r, &err), 0);
	assert_int_equal(r.n, VDC_DOC_INSTANCES_MAX);
	vdc_doc_hva_report_release(&r);
	free(text);
	json_decref(doc);
}

static void test_largest_sta_report_fits(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_doc_sta_report r;
	json_t *list = json_array(), *doc;
	char *text;
	size_t len;
	int i, k;

	(void)state;
	for (i = 0; i < VDC_DOC_VOLUMES_MAX; i++) {
		json_t *snaps = json_array();

		for (k = 0; k < VDC_DOC_SNAPSHOTS_MAX / VDC_DOC_VOLUMES_MAX; k++)
			json_array_append_new(snaps, json_pack("{s:I, s:s, s:s}", "id", (json_int_t)INT64_MAX,
							       "state", "available", "err", worst_text()));
		json_array_append_new(list, json_pack("{s:I, s:s, s:s, s:I, s:I, s:I, s:s, s:o}", "id",
						      (json_int_t)INT64_MAX, "state", "available", "err", worst_text(),
						      "size", (json_int_t)INT64_MAX, "allocated", (json_int_t)INT64_MAX,
						      "restore", (json_int_t)INT64_MAX, "progress", worst_text(),
						      "snapshots", snaps));
	}
	doc = json_pack("{s:I, s:I, s:I, s:{s:I, s:s, s:s, s:s}, s:o}", "epoch", (json_int_t)INT64_MAX, "seq",
			(json_int_t)INT64_MAX, "rev", (json_int_t)INT64_MAX, "facts", "disk_mib",
			(json_int_t)VDC_DOC_DISK_MIB_MAX, "driver", "tgt-16-letters-x", "portal",
			"[2001:db8:ffff:ffff:ffff:ffff:ffff:ffff]:65535", "version", "0.4-16-letters-x", "volumes", list);
	text = json_dumps(doc, JSON_COMPACT);
	len = strlen(text);
	print_message("the largest storage report: %zu bytes of %zu\n", len, (size_t)VDC_DOC_REPORT_BYTES_MAX);
	assert_true(len <= (size_t)VDC_DOC_STA_REPORT_JSON);
	assert_int_equal(vdc_doc_sta_report_parse(text, len, &r, &err), 0);
	assert_int_equal(r.n, VDC_DOC_VOLUMES_MAX);
	vdc_doc_sta_report_release(&r);
	free(text);
	json_decref(doc);
}

static void test_paths_and_numbers(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	char name[VDC_NAME_MAX + 1];
	const char *rest;
	uint64_t n;
	int rc;

	(void)state;
	assert_int_equal(vdc_doc_host_path("/v1/hosts/hv1/desired", name, &rest, &err), 0);
	assert_string_equal(name, "hv1");
	assert_string_equal(rest, "desired");
	assert_int_equal(vdc_doc_host_path("/v1/hosts/hv1/console/12", name, &rest, &err), 0);
	assert_string_equal(rest, "console/12");
	rc = vdc_doc_host_path("/v1/hosts//desired", name, &rest, &err);
	check_err(rc, &err);
	assert_int_equal(rc, -EINVAL);
	assert_int_equal(vdc_doc_host_path("/v1/hosts/hv1", name, &rest, &err), -EINVAL);
	assert_int_equal(vdc_doc_host_path("/v1/hosts/HV1/desired", name, &rest, &err), -EINVAL);
	assert_int_equal(vdc_doc_host_path("/v1/join", name, &rest, &err), -EINVAL);
	assert_int_equal(vdc_doc_host_path("/v1/hosts/a234567890123456789012345678901234567890123456789012345678901234/x",
					   name, &rest, &err), -EINVAL);

	assert_int_equal(vdc_doc_query_u64(NULL, "rev", 0, 10, 7, &n, &err), 0);
	assert_int_equal(n, 7);
	assert_int_equal(vdc_doc_query_u64("10", "rev", 0, 10, 7, &n, &err), 0);
	assert_int_equal(n, 10);
	rc = vdc_doc_query_u64("11", "rev", 0, 10, 7, &n, &err);
	check_err(rc, &err);
	assert_int_equal(rc, -ERANGE);
	rc = vdc_doc_query_u64("1x", "rev", 0, 10, 7, &n, &err);
	check_err(rc, &err);
	assert_int_equal(rc, -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_is_kept),
		cmocka_unit_test(test_control_bytes_are_escaped),
		cmocka_unit_test(test_long_text_is_cut),
		cmocka_unit_test(test_join),
		cmocka_unit_test(test_hva_report),
		cmocka_unit_test(test_hva_report_usage),
		cmocka_unit_test(test_hva_report_counts),
		cmocka_unit_test(test_sta_report),
		cmocka_unit_test(test_sta_report_counts_snapshots_in_all),
		cmocka_unit_test(test_largest_hva_report_fits),
		cmocka_unit_test(test_largest_sta_report_fits),
		cmocka_unit_test(test_paths_and_numbers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
