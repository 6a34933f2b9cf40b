/*
 * Unit tests for agents/common/image.c and image_cache.c: which format an image is used as
 * and which qcow2 images are refused (those that could make qemu open
 * another file of the host), and the cache's answers for an image that
 * is there, one being fetched, and the leftovers of a crash.
 *
 * Links the agents/common sources and
 * backend/{strbuf,err,validate,map}.c, with libcurl, jansson and gnutls.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "file.h"
#include "image_cache.h"
#include "unit.h"

#define SHA "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
#define SHA2 "1111111111111111111111111111111111111111111111111111111111111111"

static void put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static void put_be64(unsigned char *p, uint64_t v)
{
	put_be32(p, (uint32_t)(v >> 32));
	put_be32(p + 4, (uint32_t)v);
}

/* A qcow2 header of `version` with nothing special in it. */
static void qcow2_header(unsigned char *h, uint32_t version)
{
	memset(h, 0, 512);
	memcpy(h, "QFI\xfb", 4);
	put_be32(h + 4, version);
	put_be32(h + 20, 16);          /* cluster bits */
	put_be64(h + 24, 1 << 30);     /* virtual size */
}

static void test_formats(void **state)
{
	unsigned char h[512];
	struct vdc_err err = VDC_ERR_INIT;
	enum vdc_image_format use;
	int rc;

	(void)state;
	/* Anything without the magic is raw. */
	memset(h, 0, sizeof(h));
	h[510] = 0x55;
	h[511] = 0xaa;
	assert_int_equal(vdc_image_header_check(h, sizeof(h), VDC_IMAGE_FORMAT_NONE, &use, &err), 0);
	assert_int_equal(use, VDC_IMAGE_FORMAT_RAW);
	assert_int_equal(vdc_image_header_check(h, sizeof(h), VDC_IMAGE_FORMAT_RAW, &use, &err), 0);
	assert_int_equal(use, VDC_IMAGE_FORMAT_RAW);
	assert_int_equal(vdc_image_header_check(h, 0, VDC_IMAGE_FORMAT_NONE, &use, &err), 0);
	assert_int_equal(use, VDC_IMAGE_FORMAT_RAW);
	rc = vdc_image_header_check(h, sizeof(h), VDC_IMAGE_FORMAT_QCOW2, &use, &err);
	assert_int_equal(rc, -EINVAL);
	check_err(rc, &err);

	/* The magic makes qcow2, unless the desired state says raw. */
	qcow2_header(h, 3);
	assert_int_equal(vdc_image_header_check(h, sizeof(h), VDC_IMAGE_FORMAT_NONE, &use, &err), 0);
	assert_int_equal(use, VDC_IMAGE_FORMAT_QCOW2);
	assert_int_equal(vdc_image_header_check(h, sizeof(h), VDC_IMAGE_FORMAT_QCOW2, &use, &err), 0);
	assert_int_equal(use, VDC_IMAGE_FORMAT_QCOW2);
	qcow2_header(h, 2);
	assert_int_equal(vdc_image_header_check(h, sizeof(h), VDC_IMAGE_FORMAT_QCOW2, &use, &err), 0);
	/* Raw as said: qemu never reads the header, so nothing in it matters. */
	put_be64(h + 8, 512);
	assert_int_equal(vdc_image_header_check(h, sizeof(h), VDC_IMAGE_FORMAT_RAW, &use, &err), 0);
	assert_int_equal(use, VDC_IMAGE_FORMAT_RAW);
}

/* Root filesystem tarballs (the lxc driver's images): "ustar" at 257. */
static void test_tar(void **state)
{
	unsigned char hdr[512];

	(void)state;
	memset(hdr, 0, sizeof(hdr));
	assert_false(vdc_image_is_tar(hdr, sizeof(hdr)));
	memcpy(hdr + 257, "ustar\0" "00", 8);      /* POSIX */
	assert_true(vdc_image_is_tar(hdr, sizeof(hdr)));
	memcpy(hdr + 257, "ustar  \0", 8);         /* GNU */
	assert_true(vdc_image_is_tar(hdr, sizeof(hdr)));
	assert_false(vdc_image_is_tar(hdr, 261));  /* too short to tell */
	memcpy(hdr, "QFI\xfb", 4);
	memcpy(hdr + 257, "ustaR", 5);
	assert_false(vdc_image_is_tar(hdr, sizeof(hdr)));
}

static void test_qcow2_refused(void **state)
{
	unsigned char h[512];
	struct vdc_err err = VDC_ERR_INIT;
	enum vdc_image_format use;
	int rc;

	(void)state;
	qcow2_header(h, 3);
	put_be64(h + 8, 512);          /* a backing file name at 512 */
	put_be32(h + 16, 11);
	rc = vdc_image_header_check(h, sizeof(h), VDC_IMAGE_FORMAT_QCOW2, &use, &err);
	assert_int_equal(rc, -EPERM);
	check_err(rc, &err);
	assert_non_null(strstr(err.msg, "backing file"));
	rc = vdc_image_header_check(h, sizeof(h), VDC_IMAGE_FORMAT_NONE, &use, &err);
	assert_int_equal(rc, -EPERM);

	qcow2_header(h, 3);
	put_be64(h + 72, 4);           /* incompatible feature: external data file */
	rc = vdc_image_header_check(h, sizeof(h), VDC_IMAGE_FORMAT_QCOW2, &use, &err);
	assert_int_equal(rc, -EPERM);
	check_err(rc, &err);
	assert_non_null(strstr(err.msg, "external"));
	/* Version 2 has no feature bits: the same bytes mean nothing there. */
	qcow2_header(h, 2);
	put_be64(h + 72, 4);
	assert_int_equal(vdc_image_header_check(h, sizeof(h), VDC_IMAGE_FORMAT_QCOW2, &use, &err), 0);

	qcow2_header(h, 3);
	put_be32(h + 32, 1);           /* AES */
	rc = vdc_image_header_check(h, sizeof(h), VDC_IMAGE_FORMAT_QCOW2, &use, &err);
	assert_int_equal(rc, -EPERM);
	check_err(rc, &err);

	qcow2_header(h, 4);
	rc = vdc_image_header_check(h, sizeof(h), VDC_IMAGE_FORMAT_QCOW2, &use, &err);
	assert_int_equal(rc, -EINVAL);
	check_err(rc, &err);

	qcow2_header(h, 3);
	rc = vdc_image_header_check(h, 50, VDC_IMAGE_FORMAT_NONE, &use, &err);
	assert_int_equal(rc, -EINVAL);
	check_err(rc, &err);
}

/* The same through a file, as the cache and the qemu driver read it. */
static void test_format_of_file(void **state)
{
	char path[] = "/tmp/vdc-test-image.XXXXXX";
	unsigned char h[512];
	struct vdc_err err = VDC_ERR_INIT;
	enum vdc_image_format use;
	int fd, rc;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	qcow2_header(h, 3);
	assert_int_equal(write(fd, h, sizeof(h)), sizeof(h));
	close(fd);
	assert_int_equal(vdc_image_format_of(path, VDC_IMAGE_FORMAT_NONE, &use, &err), 0);
	assert_int_equal(use, VDC_IMAGE_FORMAT_QCOW2);
	unlink(path);
	rc = vdc_image_format_of(path, VDC_IMAGE_FORMAT_NONE, &use, &err);
	assert_int_equal(rc, -ENOENT);
	check_err(rc, &err);
}

static void test_cache(void **state)
{
	char dir[] = "/tmp/vdc-test-cache.XXXXXX", path[PATH_MAX], stale[PATH_MAX], line[128];
	struct vdc_image_spec img = { .present = true, .name = "tiny", .sha256 = SHA };
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_image_cache c;
	struct vdc_proto p;
	const char *keep[] = { SHA };
	int rc;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(vdc_proto_init(&p, "127.0.0.1:1", "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
					"hv1", "hva", dir, NULL, &err), 0);
	/* A download a crash interrupted is cleaned away at start. */
	snprintf(stale, sizeof(stale), "%s/images", dir);
	assert_int_equal(vdc_mkdirs(stale, 0755, &err), 0);
	snprintf(stale, sizeof(stale), "%s/images/.%s.abcdef", dir, SHA);
	assert_int_equal(vdc_file_write_atomic(stale, "x", 1, 0600, &err), 0);
	assert_int_equal(vdc_image_cache_init(&c, dir, &p, NULL, NULL, &err), 0);
	assert_int_not_equal(access(stale, F_OK), 0);

	/* Not there: a fetch is queued (no thread runs here, so it stays queued). */
	rc = vdc_image_want(&c, &img, path, &err);
	assert_int_equal(rc, -EINPROGRESS);
	rc = vdc_image_want(&c, &img, path, &err);
	assert_int_equal(rc, -EINPROGRESS);
	/* Before its download starts the line has no figures; without a checksum it waits. */
	vdc_image_fetch_progress(&c, &img, line, sizeof(line));
	assert_string_equal(line, "fetching image tiny");
	img.pending = true;
	vdc_image_fetch_progress(&c, &img, line, sizeof(line));
	assert_string_equal(line, "waiting for the checksum of image tiny");
	img.pending = false;

	/* There (as after a download): ready, at its checksum's name. */
	snprintf(stale, sizeof(stale), "%s/images/%s", dir, SHA);
	assert_int_equal(vdc_file_write_atomic(stale, "image", 5, 0644, &err), 0);
	assert_int_equal(vdc_image_want(&c, &img, path, &err), 0);
	assert_string_equal(path, stale);

	/* Unused images stay for a while; files that are not images are not touched. */
	snprintf(stale, sizeof(stale), "%s/images/%s", dir, SHA2);
	assert_int_equal(vdc_file_write_atomic(stale, "other", 5, 0644, &err), 0);
	snprintf(path, sizeof(path), "%s/images/README", dir);
	assert_int_equal(vdc_file_write_atomic(path, "hi", 2, 0644, &err), 0);
	vdc_image_cache_prune(&c, keep, 1);
	assert_int_equal(access(stale, F_OK), 0);
	assert_int_equal(access(path, F_OK), 0);

	vdc_image_cache_release(&c);
	vdc_proto_release(&p);
	assert_int_equal(vdc_remove_tree(dir, &err), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_formats),
		cmocka_unit_test(test_tar),
		cmocka_unit_test(test_qcow2_refused),
		cmocka_unit_test(test_format_of_file),
		cmocka_unit_test(test_cache),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
