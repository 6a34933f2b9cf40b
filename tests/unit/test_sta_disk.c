/*
 * Unit tests for agents/sta/disk.c: a volume made from an image. The
 * fetch is faked by putting the raw disk in the cache by hand (no
 * fetcher thread runs, so a wanted image stays queued): whether the
 * image is ready and fits the disk, the progress lines, the making of
 * the file (its bytes, its holes, its growth to the volume's size, the
 * leftover of a killed try replaced) and the cache keeping what a
 * volume names.
 *
 * Links agents/sta/{disk,copy,statedir,desired}.c, the agents/common
 * sources and backend/{strbuf,err,validate,map}.c, with libcurl, jansson
 * and gnutls.
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
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "sta.h"
#include "unit.h"

#define SHA "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
#define IQN "iqn.2026-11.org.vdcfs:8d7f0a1b2c3d"
#define MIB (1024 * 1024)

static const char doc[] =
	"{\"rev\": 1, \"dc\": \"8d7f0a1b2c3d\", \"volumes\": ["
	" {\"id\": 5, \"iqn\": \"" IQN ":disk-5\", \"size\": 4194304, \"chap_user\": \"disk-5\","
	"  \"chap_secret\": \"0123456789abcdef0123456789abcdef\","
	"  \"image\": {\"name\": \"tiny\", \"sha256\": \"" SHA "\", \"size\": 1048576, \"format\": \"raw\"}},"
	" {\"id\": 6, \"iqn\": \"" IQN ":disk-6\", \"size\": 524288, \"chap_user\": \"disk-6\","
	"  \"chap_secret\": \"0123456789abcdef0123456789abcdef\","
	"  \"image\": {\"name\": \"tiny\", \"sha256\": \"" SHA "\"}},"
	" {\"id\": 7, \"iqn\": \"" IQN ":disk-7\", \"size\": 524288, \"chap_user\": \"disk-7\","
	"  \"chap_secret\": \"0123456789abcdef0123456789abcdef\","
	"  \"image\": {\"name\": \"tiny\", \"sha256\": null}} ]}";

static void write_at(const char *path, off_t off, char c, size_t len)
{
	char buf[4096];
	int fd = open(path, O_WRONLY | O_CREAT, 0644);

	assert_true(fd >= 0);
	assert_true(len <= sizeof(buf));
	memset(buf, c, len);
	assert_int_equal(pwrite(fd, buf, len, off), (ssize_t)len);
	close(fd);
}

static char byte_at(const char *path, off_t off)
{
	char c = 0;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &c, 1, off), 1);
	close(fd);
	return c;
}

static void test_disk_from_image(void **state)
{
	static struct sta s;
	char dir[] = "/tmp/vdc-test-disk.XXXXXX", raw[PATH_MAX], path[PATH_MAX], tmp[PATH_MAX];
	char line[sizeof(s.progress)];
	struct vdc_err err = VDC_ERR_INIT;
	struct sta_desired d;
	struct sta_job job;
	struct stat sb;
	const char *keep[] = { SHA };
	int rc;

	(void)state;
	memset(&s, 0, sizeof(s));
	assert_non_null(mkdtemp(dir));
	snprintf(s.statedir, sizeof(s.statedir), "%s", dir);
	snprintf(path, sizeof(path), "%s/volumes", dir);
	assert_int_equal(vdc_mkdirs(path, 0700, &err), 0);
	assert_int_equal(vdc_proto_init(&s.proto, "127.0.0.1:1", "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
					"s1", "sta", dir, NULL, &err), 0);
	assert_int_equal(vdc_image_cache_init(&s.images, dir, &s.proto, NULL, NULL, &err), 0);
	s.images.raw = true;
	assert_int_equal(sta_desired_parse(doc, strlen(doc), &d, &err), 0);
	assert_int_equal(d.n, 3);

	/* Not in the cache: a fetch is queued, and the volume waits. */
	rc = sta_disk_image_ready(&s, &d.vol[0], &err);
	assert_int_equal(rc, -EINPROGRESS);
	vdc_image_fetch_progress(&s.images, &d.vol[0].image, line, sizeof(line));
	assert_string_equal(line, "fetching image tiny");
	/* No checksum yet: it waits without a fetch. */
	rc = sta_disk_image_ready(&s, &d.vol[2], &err);
	assert_int_equal(rc, -EINPROGRESS);
	vdc_image_fetch_progress(&s.images, &d.vol[2].image, line, sizeof(line));
	assert_string_equal(line, "waiting for the checksum of image tiny");

	/* A raw image's disk too small is said before any fetch, from the size vdcfs names. */
	d.vol[0].size = 512 * 1024;
	rc = sta_disk_image_ready(&s, &d.vol[0], &err);
	assert_int_equal(rc, -EFBIG);
	assert_string_equal(err.msg, "disk of 512K is smaller than image tiny's 1M");
	d.vol[0].size = 4 * MIB;

	/* The fetch, faked: a sparse raw disk of 1M with data at 0 and 512K. */
	snprintf(raw, sizeof(raw), "%s/images/%s.raw", dir, SHA);
	write_at(raw, 0, 'a', 4096);
	write_at(raw, 512 * 1024, 'b', 4096);
	assert_int_equal(truncate(raw, MIB), 0);
	assert_int_equal(sta_disk_image_ready(&s, &d.vol[0], &err), 0);
	/* Its size on disk decides when vdcfs named none. */
	rc = sta_disk_image_ready(&s, &d.vol[1], &err);
	assert_int_equal(rc, -EFBIG);
	check_err(rc, &err);
	assert_string_equal(err.msg, "disk of 512K is smaller than image tiny's 1M");

	/* A try a kill interrupted left its temporary file: it is made again. */
	sta_volume_tmp_path(&s, 5, tmp);
	write_at(tmp, 0, 'x', 100);
	memset(&job, 0, sizeof(job));
	job.kind = STA_JOB_IMAGE;
	job.vol_id = 5;
	job.size = 4 * MIB;
	snprintf(job.snap_name, sizeof(job.snap_name), "tiny");
	snprintf(job.sha256, sizeof(job.sha256), SHA);
	assert_int_equal(sta_disk_make(&s, &job, NULL, NULL, &err), 0);
	sta_volume_path(&s, 5, path);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_size, 4 * MIB);
	assert_int_not_equal(access(tmp, F_OK), 0);
	assert_int_equal(byte_at(path, 0), 'a');
	assert_int_equal(byte_at(path, 4095), 'a');
	assert_int_equal(byte_at(path, 4096), 0);
	assert_int_equal(byte_at(path, 512 * 1024), 'b');
	assert_int_equal(byte_at(path, 3 * MIB), 0);
	/* Holes stay holes (a clone shares the image's few blocks; a copy writes only them). */
	assert_true((uint64_t)sb.st_blocks * 512 <= 256 * 1024);

	/* No raw disk: the making fails with a sentence, and leaves nothing. */
	job.vol_id = 8;
	snprintf(job.sha256, sizeof(job.sha256), "%064d", 1);
	rc = sta_disk_make(&s, &job, NULL, NULL, &err);
	assert_int_equal(rc, -ENOENT);
	check_err(rc, &err);
	sta_volume_path(&s, 8, path);
	assert_int_not_equal(access(path, F_OK), 0);

	/* A named image stays in the cache. */
	sta_disk_prune(&s, &d);
	assert_int_equal(access(raw, F_OK), 0);
	vdc_image_cache_prune(&s.images, keep, 1);
	assert_int_equal(access(raw, F_OK), 0);

	sta_desired_release(&d);
	vdc_image_cache_release(&s.images);
	vdc_proto_release(&s.proto);
	assert_int_equal(vdc_remove_tree(dir, &err), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_disk_from_image),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
