/*
 * Unit tests for agents/sta/desired.c: the desired state of a storage
 * host as docs/storage.md shows it, and the checks that keep a malformed
 * answer from reaching a path or a tgtadm argv. A document unusable as a
 * whole is refused; a bad volume keeps its id with a sentence in `err`.
 *
 * A volume may name the image its file is made from ("image", an
 * instance's disk): parsed by agents/common/image.c, checked here.
 *
 * Links agents/sta/desired.c, agents/common/{image,json_member,log}.c,
 * backend, jansson.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "desired.h"
#include "strbuf.h"
#include "unit.h"

#define IQN "iqn.2026-11.org.vdcfs:8d7f0a1b2c3d"
#define SECRET "0123456789abcdef0123456789abcdef"

static const char example[] =
	"{\"rev\": 31, \"dc\": \"8d7f0a1b2c3d4e5f\", \"heartbeat\": 5, \"volumes\": [ {"
	" \"id\": 7, \"name\": \"data1\", \"iqn\": \"" IQN ":vol-7\", \"size\": 1073741824,"
	" \"chap_user\": \"vol-7\", \"chap_secret\": \"" SECRET "\","
	" \"initiators\": [\"" IQN ":control\", \"" IQN ":host-hv1\", \"" IQN ":control\"],"
	" \"snapshots\": [ {\"id\": 9, \"name\": \"s1\"} ],"
	" \"restore\": {\"n\": 2, \"snapshot\": 9} } ]}";

static void test_example(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	const struct sta_volume_spec *v, *owner = NULL;
	struct sta_desired d;

	(void)state;
	assert_int_equal(sta_desired_parse(example, strlen(example), &d, &err), 0);
	assert_int_equal(d.rev, 31);
	assert_string_equal(d.dc, "8d7f0a1b2c3d4e5f");
	assert_string_equal(d.iqn_prefix, IQN ":");
	assert_int_equal(d.heartbeat, 5);
	assert_int_equal(d.n, 1);
	v = sta_desired_volume(&d, 7);
	assert_non_null(v);
	assert_string_equal(v->err, "");
	assert_string_equal(v->name, "data1");
	assert_string_equal(v->iqn, IQN ":vol-7");
	assert_int_equal(v->size, 1073741824);
	assert_string_equal(v->chap_user, "vol-7");
	assert_string_equal(v->chap_secret, SECRET);
	assert_int_equal(v->n_initiators, 2);   /* the repeated one once */
	assert_string_equal(v->initiators[1], IQN ":host-hv1");
	assert_int_equal(v->n_snapshots, 1);
	assert_int_equal(v->snapshots[0].id, 9);
	assert_string_equal(v->snapshots[0].name, "s1");
	assert_true(v->restore);
	assert_int_equal(v->restore_n, 2);
	assert_int_equal(v->restore_snapshot, 9);
	assert_int_equal(v->restore_volume, 0);
	assert_ptr_equal(sta_desired_by_iqn(&d, IQN ":vol-7"), v);
	assert_true(sta_desired_has_snapshot(&d, 9, &owner));
	assert_ptr_equal(owner, v);
	assert_false(sta_desired_has_snapshot(&d, 10, NULL));
	assert_null(sta_desired_volume(&d, 8));
	sta_desired_release(&d);
}

/* Parse one volume `body` (inside the example's document) and return its err. */
static void expect_bad(const char *body, const char *needle)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct sta_desired d;
	char doc[4096];

	snprintf(doc, sizeof(doc), "{\"rev\": 1, \"dc\": \"8d7f0a1b2c3d\", \"volumes\": [ {\"id\": 5, %s} ]}", body);
	assert_int_equal(sta_desired_parse(doc, strlen(doc), &d, &err), 0);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.vol[0].id, 5);
	if (!strstr(d.vol[0].err, needle))
		print_error("err \"%s\" lacks \"%s\"\n", d.vol[0].err, needle);
	assert_non_null(strstr(d.vol[0].err, needle));
	sta_desired_release(&d);
}

#define GOOD_CHAP "\"chap_user\": \"vol-5\", \"chap_secret\": \"" SECRET "\""

static void test_bad_volumes(void **state)
{
	(void)state;
	expect_bad("\"iqn\": \"iqn.2026-11.org.vdcfs:000000000000:vol-5\", \"size\": 1048576, " GOOD_CHAP,
		   "not of this data center");
	expect_bad("\"iqn\": \"" IQN ":vol 5\", \"size\": 1048576, " GOOD_CHAP, "not an iSCSI name");
	expect_bad("\"iqn\": \"" IQN ":vol-5\", \"size\": 1000, " GOOD_CHAP, "multiple of 512");
	expect_bad("\"iqn\": \"" IQN ":vol-5\", \"size\": 0, " GOOD_CHAP, "outside");
	expect_bad("\"iqn\": \"" IQN ":vol-5\", \"size\": 1048576, \"chap_user\": \"vol-5\", \"chap_secret\": \"short\"",
		   "chap_secret");
	expect_bad("\"iqn\": \"" IQN ":vol-5\", \"size\": 1048576, \"chap_user\": \"../x\", \"chap_secret\": \"" SECRET "\"",
		   "chap_user");
	expect_bad("\"iqn\": \"" IQN ":vol-5\", \"size\": 1048576, " GOOD_CHAP ", \"initiators\": [\"ALL\"]",
		   "initiator");
	expect_bad("\"iqn\": \"" IQN ":vol-5\", \"size\": 1048576, " GOOD_CHAP ", \"snapshots\": [{\"name\": \"s\"}]",
		   "snapshot");
	expect_bad("\"iqn\": \"" IQN ":vol-5\", \"size\": 1048576, " GOOD_CHAP ", \"restore\": {\"n\": 1}",
		   "restore");
	/* A clone (restore from another volume): exactly one source, not itself. */
	expect_bad("\"iqn\": \"" IQN ":vol-5\", \"size\": 1048576, " GOOD_CHAP ", \"restore\": {\"n\": 1, \"snapshot\": 9, \"volume\": 4}",
		   "names both a \"snapshot\" and a \"volume\"");
	expect_bad("\"iqn\": \"" IQN ":vol-5\", \"size\": 1048576, " GOOD_CHAP ", \"restore\": {\"n\": 1, \"volume\": 5}",
		   "is the volume itself");
	expect_bad("\"iqn\": \"" IQN ":vol-5\", \"size\": 1048576, " GOOD_CHAP ", \"restore\": {\"n\": 1, \"volume\": 0}",
		   "restore");
	expect_bad("\"iqn\": \"" IQN ":vol-5\", \"size\": 1048576, " GOOD_CHAP ", \"restore\": {\"n\": 1, \"volume\": \"4\"}",
		   "restore");
	expect_bad("\"iqn\": \"" IQN ":vol-5\", \"size\": 1048576, " GOOD_CHAP ", \"restore\": {\"n\": 1, \"volume\": null}",
		   "restore");
	expect_bad("\"iqn\": \"" IQN ":vol-5\", \"size\": 1048576, " GOOD_CHAP ", \"restore\": {\"volume\": 4}",
		   "restore");
}

/* restore {n, volume}: a clone of another volume of the host, no snapshot. */
static void test_clone(void **state)
{
	static const char doc[] =
		"{\"rev\": 4, \"dc\": \"8d7f0a1b2c3d\", \"volumes\": ["
		" {\"id\": 4, \"iqn\": \"" IQN ":disk-4\", \"size\": 1048576, \"chap_user\": \"disk-4\","
		" \"chap_secret\": \"" SECRET "\", \"restore\": null},"
		" {\"id\": 5, \"iqn\": \"" IQN ":disk-5\", \"size\": 1048576, \"chap_user\": \"disk-5\","
		" \"chap_secret\": \"" SECRET "\", \"restore\": {\"n\": 3, \"volume\": 4}} ]}";
	struct vdc_err err = VDC_ERR_INIT;
	const struct sta_volume_spec *v;
	struct sta_desired d;

	(void)state;
	assert_int_equal(sta_desired_parse(doc, strlen(doc), &d, &err), 0);
	v = sta_desired_volume(&d, 5);
	assert_non_null(v);
	assert_string_equal(v->err, "");
	assert_true(v->restore);
	assert_int_equal(v->restore_n, 3);
	assert_int_equal(v->restore_volume, 4);
	assert_int_equal(v->restore_snapshot, 0);
	v = sta_desired_volume(&d, 4);
	assert_false(v->restore);
	assert_int_equal(v->restore_volume, 0);
	sta_desired_release(&d);
}

/*
 * One volume past a limit (more snapshots than a storage host keeps, a
 * size over VDC_VOLUME_SIZE_MAX) among good ones: the good ones are
 * taken, the bad ones keep their ids with the reason, the document stands.
 */
static void test_one_bad_among_good(void **state)
{
	struct strbuf doc = STRBUF_INIT;
	struct vdc_err err = VDC_ERR_INIT;
	struct sta_desired d;
	int i;

	(void)state;
	strbuf_addstr(&doc, "{\"rev\": 1, \"dc\": \"8d7f0a1b2c3d\", \"volumes\": ["
		      " {\"id\": 4, \"iqn\": \"" IQN ":vol-4\", \"size\": 1048576, \"chap_user\": \"vol-4\","
		      " \"chap_secret\": \"" SECRET "\"},"
		      " {\"id\": 5, \"iqn\": \"" IQN ":vol-5\", \"size\": 1048576, " GOOD_CHAP ", \"snapshots\": [");
	for (i = 0; i <= STA_SNAPSHOTS_MAX; i++)
		strbuf_addf(&doc, "%s{\"id\": %d}", i ? ", " : "", i + 100);
	strbuf_addf(&doc, "]}, {\"id\": 6, \"iqn\": \"" IQN ":vol-6\", \"size\": %llu, \"chap_user\": \"vol-6\","
		    " \"chap_secret\": \"" SECRET "\"},"
		    " {\"id\": 8, \"iqn\": \"" IQN ":vol-8\", \"size\": 2097152, \"chap_user\": \"vol-8\","
		    " \"chap_secret\": \"" SECRET "\"}]}", VDC_VOLUME_SIZE_MAX + 512);
	assert_int_equal(sta_desired_parse(doc.buf, doc.len, &d, &err), 0);
	assert_int_equal(d.n, 4);
	assert_string_equal(sta_desired_volume(&d, 4)->err, "");
	assert_non_null(strstr(sta_desired_volume(&d, 5)->err, "at most 1024 snapshots"));
	assert_non_null(strstr(sta_desired_volume(&d, 6)->err, "size"));
	assert_string_equal(sta_desired_volume(&d, 8)->err, "");
	assert_int_equal(sta_desired_volume(&d, 8)->size, 2097152);
	sta_desired_release(&d);
	strbuf_release(&doc);
}

static void test_bad_documents(void **state)
{
	static const char *docs[] = {
		"[]",
		"{\"dc\": \"8d7f0a1b2c3d\", \"volumes\": []}",
		"{\"rev\": 1, \"dc\": \"8d7f\", \"volumes\": []}",
		"{\"rev\": 1, \"dc\": \"8D7F0A1B2C3D\", \"volumes\": []}",
		"{\"rev\": 1, \"dc\": \"8d7f0a1b2c3d\"}",
		"{\"rev\": 1, ",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		struct vdc_err err = VDC_ERR_INIT;
		struct sta_desired d;
		int rc = sta_desired_parse(docs[i], strlen(docs[i]), &d, &err);

		assert_int_equal(rc, -EINVAL);
		check_err(rc, &err);
		sta_desired_release(&d);
	}
}

static void test_no_id_dropped(void **state)
{
	static const char doc[] = "{\"rev\": 2, \"dc\": \"8d7f0a1b2c3d\", \"volumes\": [ {\"name\": \"x\"}, 7 ]}";
	struct vdc_err err = VDC_ERR_INIT;
	struct sta_desired d;

	(void)state;
	assert_int_equal(sta_desired_parse(doc, strlen(doc), &d, &err), 0);
	assert_int_equal(d.n, 0);
	assert_int_equal(d.heartbeat, 0);
	sta_desired_release(&d);
}

static void test_iqn_check(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	int rc;

	(void)state;
	assert_int_equal(sta_iqn_check(IQN ":host-hv1", &err), 0);
	rc = sta_iqn_check("ALL", &err);
	assert_int_equal(rc, -EINVAL);
	check_err(rc, &err);
	rc = sta_iqn_check("iqn.2026-11.x:A", &err);
	assert_int_equal(rc, -EINVAL);
	check_err(rc, &err);
}

/* Each snapshot's own target and account, named from the desired state alone. */
static void test_snapshot_names(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct sta_desired d;
	char iqn[STA_IQN_MAX + 1], user[VDC_NAME_MAX + 1];
	const char *doc = "{\"rev\": 1, \"dc\": \"8d7f0a1b2c3d\", \"volumes\": [ {\"id\": 5, \"iqn\": \"" IQN ":vol-5\", "
			  "\"size\": 1048576, \"chap_user\": \"vol-5\", \"chap_secret\": \"" SECRET "\", "
			  "\"initiators\": [\"" IQN ":control\"], \"snapshots\": [{\"id\": 9, \"name\": \"s1\"}]} ]}";

	(void)state;
	assert_int_equal(sta_desired_parse(doc, strlen(doc), &d, &err), 0);
	sta_snapshot_iqn(&d, 9, iqn);
	assert_string_equal(iqn, IQN ":snap-9");
	sta_snapshot_user(9, user);
	assert_string_equal(user, "snap-9");
	sta_control_initiator(&d, iqn);
	assert_string_equal(iqn, IQN ":control");
	assert_true(sta_iqn_check(iqn, &err) == 0);

	/* Only a desired snapshot's target and account are kept. */
	assert_int_equal(sta_desired_snapshot_by_iqn(&d, IQN ":snap-9"), 9);
	assert_int_equal(sta_desired_snapshot_by_iqn(&d, IQN ":snap-10"), 0);
	assert_int_equal(sta_desired_snapshot_by_iqn(&d, IQN ":snap-09"), 0);
	assert_int_equal(sta_desired_snapshot_by_iqn(&d, IQN ":snap-9x"), 0);
	assert_int_equal(sta_desired_snapshot_by_iqn(&d, IQN ":vol-5"), 0);
	assert_int_equal(sta_desired_snapshot_by_iqn(&d, "iqn.2026-11.org.vdcfs:000000000000:snap-9"), 0);
	assert_true(sta_desired_user(&d, "snap-9"));
	assert_true(sta_desired_user(&d, "vol-5"));
	assert_false(sta_desired_user(&d, "snap-10"));
	assert_false(sta_desired_user(&d, "vol-6"));
	assert_int_equal(sta_snapshot_user_id("snap-123"), 123);
	assert_int_equal(sta_snapshot_user_id("snap-"), 0);
	assert_int_equal(sta_snapshot_user_id("snap-0"), 0);
	assert_int_equal(sta_snapshot_user_id("vol-1"), 0);
	sta_desired_release(&d);
}

#define SHA_TAIL "86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
#define SHA "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
#define DISK "\"iqn\": \"" IQN ":disk-5\", \"size\": 33554432, \"chap_user\": \"disk-5\", \"chap_secret\": \"" SECRET "\""

/* Parse one volume `body` that is well-formed; `*d` is released by the caller. */
static const struct sta_volume_spec *parse_good(const char *body, struct sta_desired *d)
{
	struct vdc_err err = VDC_ERR_INIT;
	char doc[4096];

	snprintf(doc, sizeof(doc), "{\"rev\": 1, \"dc\": \"8d7f0a1b2c3d\", \"volumes\": [ {\"id\": 5, %s} ]}", body);
	assert_int_equal(sta_desired_parse(doc, strlen(doc), d, &err), 0);
	assert_int_equal(d->n, 1);
	assert_string_equal(d->vol[0].err, "");
	return &d->vol[0];
}

/* A disk made from an image: the member parsed, and absent or null as no image. */
static void test_image(void **state)
{
	const struct sta_volume_spec *v;
	struct sta_desired d;

	(void)state;
	v = parse_good(DISK ", \"image\": {\"name\": \"tiny\", \"sha256\": \"" SHA "\", \"size\": 33554432,"
		       " \"format\": \"raw\"}", &d);
	assert_true(v->image.present);
	assert_false(v->image.pending);
	assert_string_equal(v->image.name, "tiny");
	assert_string_equal(v->image.sha256, SHA);
	assert_int_equal(v->image.size, 33554432);
	assert_int_equal(v->image.format, VDC_IMAGE_FORMAT_RAW);
	sta_desired_release(&d);

	/* Upper-case hex is taken as lower-case; qcow2; no size said. */
	v = parse_good(DISK ", \"image\": {\"name\": \"tiny\", \"sha256\": \"9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08\","
		       " \"format\": \"qcow2\"}", &d);
	assert_string_equal(v->image.sha256, SHA);
	assert_int_equal(v->image.format, VDC_IMAGE_FORMAT_QCOW2);
	assert_int_equal(v->image.size, 0);
	sta_desired_release(&d);

	/* No checksum yet (vdcfs computes it): wait. */
	v = parse_good(DISK ", \"image\": {\"name\": \"tiny\", \"sha256\": null}", &d);
	assert_true(v->image.present);
	assert_true(v->image.pending);
	sta_desired_release(&d);

	v = parse_good(DISK ", \"image\": null", &d);
	assert_false(v->image.present);
	sta_desired_release(&d);
	v = parse_good(DISK, &d);
	assert_false(v->image.present);
	sta_desired_release(&d);
}

static void test_bad_image(void **state)
{
	(void)state;
	expect_bad(DISK ", \"image\": \"tiny\"", "neither an object nor null");
	expect_bad(DISK ", \"image\": {\"sha256\": \"" SHA "\"}", "image");
	expect_bad(DISK ", \"image\": {\"name\": \"../x\", \"sha256\": \"" SHA "\"}", "image");
	expect_bad(DISK ", \"image\": {\"name\": \"tiny\", \"sha256\": \"9f86d0\"}", "64 hexadecimal digits");
	expect_bad(DISK ", \"image\": {\"name\": \"tiny\", \"sha256\": \"zz" SHA_TAIL "\"}", "64 hexadecimal digits");
	expect_bad(DISK ", \"image\": {\"name\": \"tiny\", \"sha256\": 7}", "64 hexadecimal digits");
	expect_bad(DISK ", \"image\": {\"name\": \"tiny\", \"sha256\": \"" SHA "\", \"format\": \"vmdk\"}",
		   "neither raw nor qcow2");
	expect_bad(DISK ", \"image\": {\"name\": \"tiny\", \"sha256\": \"" SHA "\", \"size\": -1}", "image");
}

/* A disk smaller than its image's raw form is refused with the sentence of the protocol. */
static void test_image_fits(void **state)
{
	const struct sta_volume_spec *v;
	struct vdc_err err = VDC_ERR_INIT;
	struct sta_desired d;
	int rc;

	(void)state;
	v = parse_good("\"iqn\": \"" IQN ":disk-5\", \"size\": 16777216, \"chap_user\": \"disk-5\","
		       " \"chap_secret\": \"" SECRET "\", \"image\": {\"name\": \"tiny\", \"sha256\": \"" SHA "\"}", &d);
	assert_int_equal(sta_image_fits(v, 16777216, &err), 0);
	assert_int_equal(sta_image_fits(v, 1000, &err), 0);
	rc = sta_image_fits(v, 33554432, &err);
	assert_int_equal(rc, -EFBIG);
	check_err(rc, &err);
	assert_string_equal(err.msg, "disk of 16M is smaller than image tiny's 32M");
	sta_desired_release(&d);
}
int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example),
		cmocka_unit_test(test_bad_volumes),
		cmocka_unit_test(test_clone),
		cmocka_unit_test(test_bad_documents),
		cmocka_unit_test(test_no_id_dropped),
		cmocka_unit_test(test_iqn_check),
		cmocka_unit_test(test_snapshot_names),
		cmocka_unit_test(test_one_bad_among_good),
		cmocka_unit_test(test_image),
		cmocka_unit_test(test_bad_image),
		cmocka_unit_test(test_image_fits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
