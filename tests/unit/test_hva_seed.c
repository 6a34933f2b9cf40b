/*
 * Unit tests for agents/hva/seed.c: the NoCloud texts against golden
 * files (tests/unit/golden/hva-seed-*), YAML quoting of keys, and the
 * seed image itself made with mkfs.vfat and mcopy in a temporary folder
 * (its label, its files read back with mcopy, and that it is made again
 * only when its content changes).
 *
 * Links agents/hva/{seed,spawn,desired}.c, agents/common/{file,log}.c and
 * backend/{strbuf,err,validate}.c; needs mkfs.vfat and mcopy installed.
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
#include "golden.h"
#include "seed.h"
#include "process.h"
#include "unit.h"

static char *keys[] = {
	"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq me@x",
	"ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ note: a colon # and a hash",
	"ecdsa-sha2-nistp256 AAAAE2VjZHNh it's",
};

/* eth0 on a virtual network with DHCP and two DNS servers, eth1 on qemu's user-mode network. */
static const struct hva_network_spec net1 = {
	.name = "net1", .vni = 12, .net = 0xc0000200, .prefix = 24, .gateway = 0xc0000201, .dhcp = true,
	.dns = { 0xc0000235, 0xc6336435 }, .n_dns = 2, .server = 0xc00002fe, .mtu = 1450,
};

static struct hva_nic_spec nics[] = {
	{ .id = 40, .name = "eth0", .mac = "52:54:00:00:00:0c", .network = "net1", .ip = 0xc0000202, .net = &net1 },
	{ .id = 41, .name = "eth1", .mac = "52:54:00:00:01:0c", .network = "" },
};

static struct hva_instance_spec spec(void)
{
	struct hva_instance_spec in;

	memset(&in, 0, sizeof(in));
	in.id = 12;
	snprintf(in.name, sizeof(in.name), "web1");
	snprintf(in.domain, sizeof(in.domain), "vdc-12");
	snprintf(in.hostname, sizeof(in.hostname), "web1.example");
	in.user_data = "#!/bin/sh\necho hi\n";
	in.user_data_len = strlen(in.user_data);
	in.ssh_keys = keys;
	in.n_ssh_keys = 3;
	in.nics = nics;
	in.n_nics = 2;
	return in;
}

static void test_meta_data(void **state)
{
	struct hva_instance_spec in = spec();
	struct strbuf out = STRBUF_INIT;

	(void)state;
	hva_seed_meta_data(&in, &out);
	golden_check("hva-seed-meta-data", out.buf, out.len);
	strbuf_release(&out);

	/* Without keys, no public-keys at all. */
	in.n_ssh_keys = 0;
	hva_seed_meta_data(&in, &out);
	assert_string_equal(out.buf, "instance-id: vdc-12\nlocal-hostname: web1.example\n");
	strbuf_release(&out);

	/* Host names YAML would read as a number or a boolean are quoted. */
	snprintf(in.hostname, sizeof(in.hostname), "1234");
	hva_seed_meta_data(&in, &out);
	assert_string_equal(out.buf, "instance-id: vdc-12\nlocal-hostname: \"1234\"\n");
	strbuf_release(&out);
	snprintf(in.hostname, sizeof(in.hostname), "No");
	hva_seed_meta_data(&in, &out);
	assert_string_equal(out.buf, "instance-id: vdc-12\nlocal-hostname: \"No\"\n");
	strbuf_release(&out);
}

/*
 * A key the test guest's init (tests/image/init) reads: a plain scalar
 * after "  - ". Keys that YAML would misread are single-quoted.
 */
static void test_key_quoting(void **state)
{
	struct hva_instance_spec in = spec();
	struct strbuf out = STRBUF_INIT;

	(void)state;
	hva_seed_meta_data(&in, &out);
	assert_non_null(strstr(out.buf, "\n  - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq me@x\n"));
	assert_non_null(strstr(out.buf, "\n  - 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ note: a colon # and a hash'\n"));
	/* A quote inside a plain scalar is fine in YAML. */
	assert_non_null(strstr(out.buf, "\n  - ecdsa-sha2-nistp256 AAAAE2VjZHNh it's\n"));
	strbuf_release(&out);

	keys[2] = "ssh-ed25519 AAAA it's: odd";
	hva_seed_meta_data(&in, &out);
	assert_non_null(strstr(out.buf, "\n  - 'ssh-ed25519 AAAA it''s: odd'\n"));
	keys[2] = "ecdsa-sha2-nistp256 AAAAE2VjZHNh it's";
	strbuf_release(&out);
}

static void test_network_config(void **state)
{
	struct hva_instance_spec in = spec();
	struct strbuf out = STRBUF_INIT;

	(void)state;
	hva_seed_network_config(&in, &out);
	golden_check("hva-seed-network-config", out.buf, out.len);
	strbuf_release(&out);
	in.n_nics = 0;
	hva_seed_network_config(&in, &out);
	assert_int_equal(out.len, 0);
	strbuf_release(&out);
}

/* Read file `name` back out of the seed image with mcopy. */
static void check_in_image(const char *dir, const char *img, const char *name, const struct strbuf *want)
{
	static const char *const env[] = { "PATH=/usr/bin:/bin", "MTOOLS_SKIP_CHECK=1", NULL };
	struct vdc_err err = VDC_ERR_INIT;
	struct strbuf got = STRBUF_INIT;
	char src[64], out[4096];
	const char *argv[6];

	snprintf(src, sizeof(src), "::%s", name);
	snprintf(out, sizeof(out), "%s/out-%s", dir, name);
	argv[0] = "mcopy";
	argv[1] = "-n";
	argv[2] = "-i";
	argv[3] = img;
	argv[4] = src;
	argv[5] = out;
	{
		const char *full[] = { argv[0], argv[1], argv[2], argv[3], argv[4], argv[5], NULL };

		assert_int_equal(vdc_spawn(full, env, 30, &err), 0);
	}
	assert_int_equal(vdc_file_read(out, 1 << 20, &got, &err), 0);
	assert_int_equal(got.len, want->len);
	assert_memory_equal(got.buf, want->buf, want->len);
	strbuf_release(&got);
	unlink(out);
}

static ino_t inode_of(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_ino;
}

static void test_build(void **state)
{
	struct hva_instance_spec in = spec();
	struct vdc_err err = VDC_ERR_INIT;
	struct strbuf meta = STRBUF_INIT, net = STRBUF_INIT, ud = STRBUF_INIT;
	char dir[] = "/tmp/vdc-test-seed.XXXXXX", img[256], path[256], label[12];
	ino_t first;
	struct stat st;
	int fd, rc;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(img, sizeof(img), "%s/seed.img", dir);
	rc = hva_seed_build(dir, &in, &err);
	if (rc < 0)
		print_error("%s\n", err.msg);
	assert_int_equal(rc, 0);

	/* A FAT filesystem labelled CIDATA, which is what NoCloud looks for. */
	fd = open(img, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, label, 11, 43), 11);
	close(fd);
	label[11] = '\0';
	assert_string_equal(label, "CIDATA     ");
	assert_int_equal(stat(img, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, 1024 * 1024);

	hva_seed_meta_data(&in, &meta);
	hva_seed_network_config(&in, &net);
	strbuf_add(&ud, in.user_data, in.user_data_len);
	check_in_image(dir, img, "meta-data", &meta);
	check_in_image(dir, img, "user-data", &ud);
	check_in_image(dir, img, "network-config", &net);

	/* The same content: the image stays as it is. */
	first = inode_of(img);
	assert_int_equal(hva_seed_build(dir, &in, &err), 0);
	assert_int_equal(inode_of(img), first);

	/* New user-data: a new image, and no network-config without NICs. */
	in.user_data = "#cloud-config\n";
	in.user_data_len = strlen(in.user_data);
	in.n_nics = 0;
	assert_int_equal(hva_seed_build(dir, &in, &err), 0);
	assert_int_not_equal(inode_of(img), first);
	strbuf_reset(&ud);
	strbuf_add(&ud, in.user_data, in.user_data_len);
	check_in_image(dir, img, "user-data", &ud);
	snprintf(path, sizeof(path), "%s/seed/network-config", dir);
	assert_int_not_equal(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/seed.img.tmp", dir);
	assert_int_not_equal(access(path, F_OK), 0);

	assert_int_equal(vdc_remove_tree(dir, &err), 0);
	strbuf_release(&meta);
	strbuf_release(&net);
	strbuf_release(&ud);
}

/* A failing program's sentence carries what it said. */
static void test_spawn_failure(void **state)
{
	const char *argv[] = { "mkfs.vfat", "-C", "/nonexistent-dir/x.img", "1024", NULL };
	const char *missing[] = { "vdc-no-such-program", NULL };
	struct vdc_err err = VDC_ERR_INIT;
	int rc;

	(void)state;
	rc = vdc_spawn(argv, NULL, 30, &err);
	assert_int_equal(rc, -EIO);
	check_err(rc, &err);
	assert_non_null(strstr(err.msg, "mkfs.vfat failed"));
	rc = vdc_spawn(missing, NULL, 30, &err);
	assert_int_equal(rc, -ENOENT);
	check_err(rc, &err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_meta_data),
		cmocka_unit_test(test_key_quoting),
		cmocka_unit_test(test_network_config),
		cmocka_unit_test(test_build),
		cmocka_unit_test(test_spawn_failure),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
