/*
 * Unit tests for the small decisions of vdc-hva that do not need a
 * libvirtd: the state word a report says for each libvirt state and
 * worker phase, where a console upload resumes, the driver table's
 * refusal of an empty slot, a program that runs too long, the KVM probe
 * (which must answer either way, with a sentence when it fails), and when
 * a network's dnsmasq must be restarted (an address with a new MAC).
 *
 * Links every agents/hva source but main.c, the agents/common sources
 * and backend/{strbuf,err,validate,map}.c, with libvirt, libcurl, jansson
 * and gnutls.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <time.h>

#include "console.h"
#include "dhcp.h"
#include "file.h"
#include "hva.h"
#include "kvm.h"
#include "pki.h"
#include "rootfs.h"
#include "process.h"
#include "unit.h"

struct state_case {
	enum hva_phase phase;
	bool power_on, defined;
	int state, reason;
	const char *want;
};

static void test_report_state(void **state)
{
	static const struct state_case cases[] = {
		/* What the worker knows comes first. */
		{ HVA_PHASE_ERROR, true, true, VIR_DOMAIN_RUNNING, 0, "error" },
		{ HVA_PHASE_STARTING, true, false, 0, 0, "starting" },
		{ HVA_PHASE_STARTING, true, true, VIR_DOMAIN_SHUTOFF, 0, "starting" },
		{ HVA_PHASE_STOPPING, false, true, VIR_DOMAIN_RUNNING, 0, "stopping" },
		{ HVA_PHASE_STOPPING, false, true, VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_SHUTDOWN, "stopped" },
		/* No domain yet. */
		{ HVA_PHASE_NONE, true, false, 0, 0, "starting" },
		{ HVA_PHASE_NONE, false, false, 0, 0, "stopped" },
		/* Then libvirt's word. */
		{ HVA_PHASE_NONE, true, true, VIR_DOMAIN_RUNNING, VIR_DOMAIN_RUNNING_BOOTED, "running" },
		{ HVA_PHASE_NONE, true, true, VIR_DOMAIN_BLOCKED, 0, "running" },
		{ HVA_PHASE_NONE, true, true, VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_STARTING_UP, "starting" },
		{ HVA_PHASE_NONE, true, true, VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_USER, "paused" },
		{ HVA_PHASE_NONE, true, true, VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_IOERROR, "paused" },
		{ HVA_PHASE_NONE, true, true, VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_SHUTTING_DOWN, "stopping" },
		{ HVA_PHASE_NONE, true, true, VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_CRASHED, "crashed" },
		{ HVA_PHASE_NONE, false, true, VIR_DOMAIN_SHUTDOWN, 0, "stopping" },
		{ HVA_PHASE_NONE, false, true, VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_SHUTDOWN, "stopped" },
		{ HVA_PHASE_NONE, true, true, VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_DESTROYED, "stopped" },
		{ HVA_PHASE_NONE, true, true, VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_CRASHED, "crashed" },
		{ HVA_PHASE_NONE, true, true, VIR_DOMAIN_CRASHED, 0, "crashed" },
		{ HVA_PHASE_NONE, true, true, VIR_DOMAIN_PMSUSPENDED, 0, "paused" },
		{ HVA_PHASE_NONE, true, true, VIR_DOMAIN_NOSTATE, 0, "starting" },
		{ HVA_PHASE_NONE, false, true, VIR_DOMAIN_NOSTATE, 0, "stopped" },
		/* Live migration: the source's words, then the destination's until the domain runs there. */
		{ HVA_PHASE_MIGRATING, true, true, VIR_DOMAIN_RUNNING, 0, "migrating" },
		{ HVA_PHASE_MIGRATING, true, true, VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_MIGRATION, "migrating" },
		{ HVA_PHASE_MIGRATED, true, false, 0, 0, "migrated" },
		{ HVA_PHASE_INCOMING, true, false, 0, 0, "incoming" },
		{ HVA_PHASE_INCOMING, true, true, VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_MIGRATION, "incoming" },
		{ HVA_PHASE_INCOMING, true, true, VIR_DOMAIN_RUNNING, VIR_DOMAIN_RUNNING_MIGRATED, "running" },
	};
	static const char *const protocol_words[] = {
		"running", "stopped", "starting", "stopping", "paused", "crashed", "error",
		"migrating", "migrated", "incoming",
	};
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hva_status st = { .power_on = cases[i].power_on, .phase = cases[i].phase };
		const char *got = hva_report_state(&st, cases[i].defined, cases[i].state, cases[i].reason);
		bool known = false;

		if (strcmp(got, cases[i].want) != 0)
			print_error("case %zu: %s, want %s\n", i, got, cases[i].want);
		assert_string_equal(got, cases[i].want);
		/* Only the words of docs/agent-protocol.md. */
		for (k = 0; k < sizeof(protocol_words) / sizeof(protocol_words[0]); k++)
			known |= strcmp(got, protocol_words[k]) == 0;
		assert_true(known);
	}
}

/* What a migration's progress says, and the pki path in the destination's URI. */
static void test_migration_text(void **state)
{
	char out[HVA_PROGRESS_MAX], esc[64];

	(void)state;
	hva_mig_progress_text(0, 0, 0, 0, out, sizeof(out));
	assert_string_equal(out, "starting");
	hva_mig_progress_text(128ull << 20, 75ull << 20, 12ull << 20, 1, out, sizeof(out));
	assert_string_equal(out, "memory 41% (53 of 128 MiB), 12 MiB/s");
	hva_mig_progress_text(128ull << 20, 1ull << 20, 30ull << 20, 3, out, sizeof(out));
	assert_string_equal(out, "memory 99% (127 of 128 MiB), 30 MiB/s, pass 3");
	/* More left than the total (qemu's counters move apart): never past 100 or below 0. */
	hva_mig_progress_text(128ull << 20, 200ull << 20, 0, 1, out, sizeof(out));
	assert_string_equal(out, "memory 0% (0 of 128 MiB), 0 MiB/s");
	hva_uri_escape("/var/lib/vdc-hva/pki", esc, sizeof(esc));
	assert_string_equal(esc, "/var/lib/vdc-hva/pki");
	hva_uri_escape("/srv/a b&c=d?#%/pki", esc, sizeof(esc));
	assert_string_equal(esc, "/srv/a%20b%26c%3Dd%3F%23%25/pki");
}

/* STATE/pki: five files, keys 0600, written only when their bytes change. */
static void test_pki_files(void **state)
{
	struct hva_pki_spec pki = { .present = true, .ca = "CA\n", .cert = "CERT\n", .key = "KEY\n" };
	struct vdc_err err = VDC_ERR_INIT;
	char dir[] = "/tmp/vdc-pki-XXXXXX", path[PATH_MAX];
	struct strbuf got = STRBUF_INIT;
	struct stat sb;
	bool changed = false;
	ino_t ino;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(hva_pki_write(dir, &pki, &changed, &err), 0);
	assert_true(changed);
	snprintf(path, sizeof(path), "%s/pki/cacert.pem", dir);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0644);
	assert_int_equal(vdc_file_read(path, 100, &got, &err), 0);
	assert_string_equal(got.buf, "CA\n");
	snprintf(path, sizeof(path), "%s/pki/servercert.pem", dir);
	strbuf_reset(&got);
	assert_int_equal(vdc_file_read(path, 100, &got, &err), 0);
	assert_string_equal(got.buf, "CERT\n");
	snprintf(path, sizeof(path), "%s/pki/clientkey.pem", dir);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	snprintf(path, sizeof(path), "%s/pki/serverkey.pem", dir);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	ino = sb.st_ino;
	/* The same again: nothing is written. */
	assert_int_equal(hva_pki_write(dir, &pki, &changed, &err), 0);
	assert_false(changed);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_ino, ino);
	/* A new key: both key files, by rename. */
	pki.key = "KEY2\n";
	assert_int_equal(hva_pki_write(dir, &pki, &changed, &err), 0);
	assert_true(changed);
	assert_int_equal(stat(path, &sb), 0);
	assert_true(sb.st_ino != ino);
	assert_int_equal(sb.st_mode & 0777, 0600);
	strbuf_reset(&got);
	assert_int_equal(vdc_file_read(path, 100, &got, &err), 0);
	assert_string_equal(got.buf, "KEY2\n");
	/* No pki: nothing. */
	pki.present = false;
	assert_int_equal(hva_pki_write(dir, &pki, &changed, &err), 0);
	assert_false(changed);
	strbuf_release(&got);
	assert_int_equal(vdc_remove_tree(dir, &err), 0);
}

static void test_console_resume(void **state)
{
	(void)state;
	/* vdcfs has it all, or nothing of a short log. */
	assert_int_equal(hva_console_resume_at(100, 100), 100);
	assert_int_equal(hva_console_resume_at(0, 100), 0);
	/* vdcfs keeps 64 KiB: never send from further back than that. */
	assert_int_equal(hva_console_resume_at(0, 1000000), 1000000 - VDC_CONSOLE_CHUNK);
	assert_int_equal(hva_console_resume_at(999000, 1000000), 999000);
	/* vdcfs claims more than the log holds: from the end. */
	assert_int_equal(hva_console_resume_at(500, 100), 100);
}

static void test_driver_table(void **state)
{
	static const struct hva_driver empty = { .name = "empty" };
	struct hva h;
	struct vdc_err err = VDC_ERR_INIT;
	int rc;

	(void)state;
	memset(&h, 0, sizeof(h));
	assert_ptr_equal(hva_driver_find("qemu"), &hva_driver_qemu);
	assert_ptr_equal(hva_driver_find("lxc"), &hva_driver_lxc);
	assert_null(hva_driver_find("xen"));
	assert_string_equal(hva_driver_qemu.default_uri, "qemu:///system");
	assert_string_equal(hva_driver_lxc.default_uri, "lxc:///system");
	/* A NULL slot: -ENOTSUP with a sentence, and libvirt is not called. */
	h.drv = &empty;
	rc = hva_drv_reset(&h, NULL, &err);
	assert_int_equal(rc, -ENOTSUP);
	check_err(rc, &err);
	assert_string_equal(err.msg, "the empty driver cannot reset a domain");
	/* Console following and release are optional: nothing to do. */
	assert_int_equal(hva_drv_console_follow(&h, NULL, "/nonexistent", &err), 0);
	hva_drv_release(&h);
	/* lxc resets by destroy and start, and follows its consoles itself. */
	assert_non_null(hva_driver_lxc.reset);
	assert_non_null(hva_driver_lxc.console_follow);
	assert_true(hva_driver_lxc.needs_image);
	assert_null(hva_driver_qemu.console_follow);
	/* qemu fills every slot. */
	assert_non_null(hva_driver_qemu.probe);
	assert_non_null(hva_driver_qemu.prepare);
	assert_non_null(hva_driver_qemu.domain_xml);
	assert_non_null(hva_driver_qemu.start);
	assert_non_null(hva_driver_qemu.shutdown);
	assert_non_null(hva_driver_qemu.destroy);
	assert_non_null(hva_driver_qemu.reboot);
	assert_non_null(hva_driver_qemu.reset);
	/* Volumes are network disks of qemu; a container cannot have one. */
	assert_true(hva_driver_qemu.volumes);
	assert_false(hva_driver_lxc.volumes);
	{
		struct hva_volume_disk disk = { NULL, "vdc" };
		struct hva_meta m = { .dc = "a", .id = 1 };
		struct hva_instance_spec in = { .id = 1 };
		struct hva_define def = { .meta = &m, .volumes = &disk, .n_volumes = 1 };
		struct strbuf out = STRBUF_INIT;

		h.drv = &hva_driver_lxc;
		rc = hva_drv_domain_xml(&h, &in, &def, &out, &err);
		assert_int_equal(rc, -ENOTSUP);
		check_err(rc, &err);
		assert_string_equal(err.msg, "the lxc driver cannot attach volumes");
		assert_int_equal(out.len, 0);
		strbuf_release(&out);
	}
	/* A root disk on a storage host is qemu's too; a container runs from its image's files. */
	assert_true(hva_driver_qemu.disks);
	assert_false(hva_driver_lxc.disks);
	{
		struct hva_meta m = { .dc = "a", .id = 1 };
		struct hva_instance_spec in = { .id = 1, .disk = { .present = true, .ready = true } };
		struct hva_define def = { .meta = &m };
		struct strbuf out = STRBUF_INIT;

		h.drv = &hva_driver_lxc;
		rc = hva_drv_domain_xml(&h, &in, &def, &out, &err);
		assert_int_equal(rc, -ENOTSUP);
		check_err(rc, &err);
		assert_string_equal(err.msg, "the lxc driver cannot boot from a disk on a storage host");
		assert_int_equal(out.len, 0);
		strbuf_release(&out);
	}
}

/* The words a report says of a volume; a volume not on its domain yet is not reported. */
static void test_volume_words(void **state)
{
	(void)state;
	assert_string_equal(hva_vol_state_word(HVA_VOL_ATTACHED), "attached");
	assert_string_equal(hva_vol_state_word(HVA_VOL_DETACHING), "detaching");
	assert_string_equal(hva_vol_state_word(HVA_VOL_ERROR), "error");
	assert_null(hva_vol_state_word(HVA_VOL_NONE));
}

static void test_spawn_timeout(void **state)
{
	const char *argv[] = { "sleep", "10", NULL };
	struct vdc_err err = VDC_ERR_INIT;
	struct timespec t0, t1;
	int rc;

	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = vdc_spawn(argv, NULL, 1, &err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(rc, -ETIMEDOUT);
	check_err(rc, &err);
	assert_true(t1.tv_sec - t0.tv_sec < 5);
}

static void test_kvm_probe(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	int rc;

	(void)state;
	rc = hva_kvm_probe(&err);
	print_message("KVM probe: %s\n", rc == 0 ? "KVM runs BIOS guests here" : err.msg);
	if (rc != 0) {
		assert_true(rc == -ENODEV || rc == -ETIMEDOUT || rc == -EACCES || rc == -ENOENT);
		check_err(rc, &err);
	}
}

/*
 * The NoCloud seed folder of a container: written below the root, and
 * never through a symbolic link the container made on the way.
 */
static void test_rootfs_seed(void **state)
{
	char dir[] = "/tmp/test_hva_rootfs.XXXXXX", path[PATH_MAX + 64], outside[PATH_MAX];
	struct hva_instance_spec in;
	struct vdc_err err = VDC_ERR_INIT;
	struct strbuf text = STRBUF_INIT;
	/* A container's root where the test may give files away; its own ids otherwise. */
	uid_t owner = geteuid() == 0 ? HVA_IDMAP_FIRST + HVA_IDMAP_COUNT : geteuid();
	gid_t group = geteuid() == 0 ? HVA_IDMAP_FIRST + HVA_IDMAP_COUNT : getegid();
	struct stat st;
	int rc;

	(void)state;
	assert_non_null(mkdtemp(dir));
	memset(&in, 0, sizeof(in));
	in.id = 7;
	snprintf(in.name, sizeof(in.name), "web1");
	snprintf(in.domain, sizeof(in.domain), "vdc-7");
	snprintf(in.hostname, sizeof(in.hostname), "web1");
	in.user_data = (char *)"#!/bin/sh\necho hi\n";
	in.user_data_len = strlen(in.user_data);

	snprintf(path, sizeof(path), "%s/a", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(hva_rootfs_seed(path, &in, owner, group, &err), 0);
	snprintf(path, sizeof(path), "%s/a/%s/user-data", dir, HVA_ROOTFS_SEED_DIR);
	assert_int_equal(vdc_file_read(path, 4096, &text, NULL), 0);
	assert_string_equal(text.buf, "#!/bin/sh\necho hi\n");
	/* The container's root owns the files and the folders made for them. */
	assert_int_equal(lstat(path, &st), 0);
	assert_int_equal(st.st_uid, owner);
	assert_int_equal(st.st_gid, group);
	assert_int_equal(st.st_mode & 07777, 0600);
	snprintf(path, sizeof(path), "%s/a/var/lib", dir);
	assert_int_equal(lstat(path, &st), 0);
	assert_int_equal(st.st_uid, owner);
	snprintf(path, sizeof(path), "%s/a/%s/meta-data", dir, HVA_ROOTFS_SEED_DIR);
	assert_int_equal(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/a/%s/network-config", dir, HVA_ROOTFS_SEED_DIR);
	assert_int_equal(access(path, F_OK), -1);
	assert_false(hva_rootfs_mounted(dir));

	/* b/var/lib/cloud -> OUTSIDE: refused, and nothing is written there. */
	snprintf(outside, sizeof(outside), "%s/outside", dir);
	assert_int_equal(mkdir(outside, 0755), 0);
	snprintf(path, sizeof(path), "%s/b/var/lib", dir);
	assert_int_equal(vdc_mkdirs(path, 0755, NULL), 0);
	snprintf(path, sizeof(path), "%s/b/var/lib/cloud", dir);
	assert_int_equal(symlink(outside, path), 0);
	snprintf(path, sizeof(path), "%s/b", dir);
	rc = hva_rootfs_seed(path, &in, owner, group, &err);
	assert_true(rc < 0);
	check_err(rc, &err);
	assert_non_null(strstr(err.msg, "not a folder"));
	snprintf(path, sizeof(path), "%s/seed", outside);
	assert_int_equal(access(path, F_OK), -1);

	strbuf_release(&text);
	assert_int_equal(vdc_remove_tree(dir, NULL), 0);
}

/* The records of blocks of host ids: the first id of a block, in decimal, nothing else. */
static void test_idmap_parse(void **state)
{
	static const char *const bad[] = {
		"", "\n", "0", "100000", "1879048191", "1879048193", "1879113727", "01879048192",
		"+1879048192", "1879048192x", "1879048192\n\n", " 1879048192", "2147352576",
		"4294901760", "99999999999",
	};
	uint32_t base = 7;
	size_t i;

	(void)state;
	assert_int_equal(hva_idmap_parse("1879048192\n", 11, &base), 0);
	assert_int_equal(base, HVA_IDMAP_FIRST);
	assert_int_equal(hva_idmap_parse("1879113728", 10, &base), 0);
	assert_int_equal(base, HVA_IDMAP_FIRST + HVA_IDMAP_COUNT);
	/* The last block ends below systemd's foreign range (0x7FFE0000). */
	assert_int_equal(hva_idmap_parse("2147287040", 10, &base), 0);
	assert_int_equal(base, 0x7FFD0000u);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		base = 7;
		if (hva_idmap_parse(bad[i], strlen(bad[i]), &base) != -EINVAL)
			print_error("case %zu: '%s'\n", i, bad[i]);
		assert_int_equal(hva_idmap_parse(bad[i], strlen(bad[i]), &base), -EINVAL);
		assert_int_equal(base, 7);
	}
}

/*
 * Blocks are given lowest free first, kept by the instance that has one
 * (as after a restart of the agent), and never given twice.
 */
static void test_idmap_blocks(void **state)
{
	char dir[] = "/tmp/test_hva_idmap.XXXXXX", path[PATH_MAX + 64];
	struct hva_inst_paths a, b, c;
	struct vdc_err err = VDC_ERR_INIT;
	uint32_t base;
	int rc;

	(void)state;
	assert_non_null(mkdtemp(dir));
	hva_inst_paths(dir, "vdc-1", &a);
	hva_inst_paths(dir, "vdc-2", &b);
	hva_inst_paths(dir, "vdc-3", &c);
	assert_int_equal(hva_inst_dir_make(&a, 0700, &err), 0);
	assert_int_equal(hva_inst_dir_make(&b, 0700, &err), 0);
	assert_int_equal(hva_inst_dir_make(&c, 0700, &err), 0);
	rc = hva_rootfs_idmap_read(&a, &base, &err);
	assert_int_equal(rc, -ENOENT);
	check_err(rc, &err);

	assert_int_equal(hva_rootfs_idmap(dir, &a, &base, &err), 0);
	assert_int_equal(base, HVA_IDMAP_FIRST);
	assert_int_equal(hva_rootfs_idmap(dir, &b, &base, &err), 0);
	assert_int_equal(base, HVA_IDMAP_FIRST + HVA_IDMAP_COUNT);
	/* Asked again: the same block, not a new one. */
	assert_int_equal(hva_rootfs_idmap(dir, &a, &base, &err), 0);
	assert_int_equal(base, HVA_IDMAP_FIRST);
	assert_int_equal(hva_rootfs_idmap_read(&b, &base, &err), 0);
	assert_int_equal(base, HVA_IDMAP_FIRST + HVA_IDMAP_COUNT);
	/* The first instance goes: its block is the lowest free again. */
	assert_int_equal(vdc_remove_tree(a.dir, NULL), 0);
	assert_int_equal(hva_rootfs_idmap(dir, &c, &base, &err), 0);
	assert_int_equal(base, HVA_IDMAP_FIRST);
	/* A damaged record is refused, not replaced by another block. */
	snprintf(path, sizeof(path), "%s/%s", b.dir, HVA_IDMAP_FILE);
	assert_int_equal(vdc_file_write_atomic(path, "12\n", 3, 0600, NULL), 0);
	rc = hva_rootfs_idmap(dir, &b, &base, &err);
	assert_int_equal(rc, -EINVAL);
	check_err(rc, &err);
	/* The folder: root's alone until opened to the container's group. */
	if (geteuid() == 0) {
		struct stat st;

		assert_int_equal(lstat(c.dir, &st), 0);
		assert_int_equal(st.st_mode & 07777, 0700);
		assert_int_equal(hva_rootfs_dir_open(&c, HVA_IDMAP_FIRST, &err), 0);
		assert_int_equal(lstat(c.dir, &st), 0);
		assert_int_equal(st.st_mode & 07777, 0710);
		assert_int_equal(st.st_uid, 0);
		assert_int_equal(st.st_gid, HVA_IDMAP_FIRST);
	}
	assert_int_equal(vdc_remove_tree(dir, NULL), 0);
}

/*
 * A mount point is told also when it is a bind mount of a folder of the
 * same filesystem (the idmapped lower layer of a container, which a crash
 * may leave): same st_dev as its parent. Root only (a mount namespace of
 * a child's own); others check that a plain folder is no mount point.
 */
#define MOUNTED_CHILD "--mounted-child"

/*
 * The child's half, in this program started again (main() below) so that
 * valgrind does not follow it: in a mount namespace of its own, `b` is a
 * bind mount of `a`, which must be told a mount point while `a` is not.
 */
static int mounted_child(const char *a, const char *b)
{
	/* A type of "none" (ignored here by the kernel), not NULL, which valgrind takes for an error. */
	if (unshare(CLONE_NEWNS) < 0 || mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount(a, b, "none", MS_BIND, NULL) < 0)
		return 2;
	return hva_rootfs_mounted(b) && !hva_rootfs_mounted(a) ? 0 : 1;
}

static void test_rootfs_mounted(void **state)
{
	char dir[] = "/tmp/test_hva_mounted.XXXXXX", a[PATH_MAX], b[PATH_MAX], self[PATH_MAX];
	int status = -1;
	ssize_t n;
	pid_t pid;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(a, sizeof(a), "%s/a", dir);
	snprintf(b, sizeof(b), "%s/b", dir);
	assert_int_equal(mkdir(a, 0700), 0);
	assert_int_equal(mkdir(b, 0700), 0);
	assert_false(hva_rootfs_mounted(a));
	assert_false(hva_rootfs_mounted(b));
	assert_true(hva_rootfs_mounted("/"));
	if (geteuid() == 0) {
		/* This program's path as valgrind too tells it (not valgrind's own). */
		n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		assert_true(n > 0 && (size_t)n < sizeof(self) - 1);
		self[n] = '\0';
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			execl(self, self, MOUNTED_CHILD, a, b, (char *)NULL);
			_exit(3);
		}
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	assert_int_equal(vdc_remove_tree(dir, NULL), 0);
}

/*
 * procfs cannot be mounted idmapped: the lxc driver's probe says so, and
 * so what is missing. The probe runs as vdc-hva runs it, in this program
 * started again as its helper (main() below), which is also what lets
 * valgrind, which knows neither open_tree nor mount_setattr, run it.
 */
static void test_idmap_probe(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	int rc;

	(void)state;
	assert_int_equal(hva_rootfs_helper_init(&err), 0);
	rc = hva_rootfs_idmap_probe("/proc", &err);
	assert_true(rc < 0);
	check_err(rc, &err);
	if (geteuid() == 0)
		assert_non_null(strstr(err.msg, "cannot be mounted idmapped"));
}

#define S(lit) (lit), (sizeof(lit) - 1)

/* dnsmasq is restarted, not sent SIGHUP, when an address of its hosts goes with another MAC. */
static void test_dhcp_rebinds(void **state)
{
	static const struct hva_dhcp_host hosts[] = {
		{ "52:54:00:00:00:0c", 0xc0000202, "g1" },
		{ "02:00:00:00:00:44", 0xc0000203, "g2" },
	};
	struct hva_dhcp_want w = { NULL, hosts, 2 };
	struct strbuf old = STRBUF_INIT;

	(void)state;
	hva_dhcp_hosts_text(&w, &old);
	assert_false(hva_dhcp_rebinds(old.buf, old.len, &w));
	assert_false(hva_dhcp_rebinds("", 0, &w));
	/* A host gone, or new, or an address that moved to another nic's MAC. */
	assert_false(hva_dhcp_rebinds(S("52:54:00:00:00:0c,192.0.2.2,g1\n52:54:00:00:00:0d,192.0.2.9,g3\n"), &w));
	assert_true(hva_dhcp_rebinds(S("52:54:00:00:00:0c,192.0.2.2,g1\n52:54:00:00:00:0d,192.0.2.3,g2\n"), &w));
	assert_true(hva_dhcp_rebinds(S("52:54:00:00:00:0d,192.0.2.3,g2"), &w));
	/* Lines that are no binding are passed over. */
	assert_false(hva_dhcp_rebinds(S("junk\n52:54:00:00:00:0d,192.0.2,g2\n,192.0.2.3,\n"), &w));
	strbuf_release(&old);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_report_state),
		cmocka_unit_test(test_dhcp_rebinds),
		cmocka_unit_test(test_migration_text),
		cmocka_unit_test(test_pki_files),
		cmocka_unit_test(test_console_resume),
		cmocka_unit_test(test_driver_table),
		cmocka_unit_test(test_volume_words),
		cmocka_unit_test(test_spawn_timeout),
		cmocka_unit_test(test_kvm_probe),
		cmocka_unit_test(test_rootfs_seed),
		cmocka_unit_test(test_idmap_parse),
		cmocka_unit_test(test_idmap_blocks),
		cmocka_unit_test(test_rootfs_mounted),
		cmocka_unit_test(test_idmap_probe),
	};

	if (argc > 1 && strcmp(argv[1], HVA_ROOTFS_HELPER) == 0)
		return hva_rootfs_helper_main(argc, argv);
	if (argc == 4 && strcmp(argv[1], MOUNTED_CHILD) == 0)
		return mounted_child(argv[2], argv[3]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
