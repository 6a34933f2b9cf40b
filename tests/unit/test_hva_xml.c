/*
 * Unit tests for agents/hva/domain_xml.c: the domain XML of each driver
 * against golden files (tests/unit/golden/hva-*.xml; VDC_REGENERATE=1
 * rewrites them), escaping, refusals, and the metadata element written
 * and read back in the shapes libvirt returns it.
 *
 * Links agents/hva/domain_xml.c and backend/{strbuf,err,validate}.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "domain_xml.h"
#include "golden.h"
#include "unit.h"

static const struct hva_nic_spec nics[] = {
	{ "eth0", "52:54:00:00:00:0c", "net1" },
	{ "eth1", "52:54:00:00:01:0c", "" },
};

static const struct hva_meta meta = {
	.dc = "8d7f3c2a", .id = 12, .name = "web1", .reboot = 3, .reset = 1,
};

static struct hva_domain_def qemu_def(enum hva_domain_type type)
{
	struct hva_domain_def d = {
		.type = type,
		.name = "vdc-12",
		.cpus = 2,
		.memory_mib = 256,
		.disk_path = "/var/lib/vdc-hva/instances/vdc-12/disk.qcow2",
		.seed_path = "/var/lib/vdc-hva/instances/vdc-12/seed.img",
		.console_path = "/var/lib/vdc-hva/instances/vdc-12/console.log",
		.nics = nics,
		.n_nics = 2,
		.meta = &meta,
	};

	return d;
}

static void check_golden(const struct hva_domain_def *d, const char *name)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct strbuf out = STRBUF_INIT, again = STRBUF_INIT;

	assert_int_equal(hva_domain_xml(d, &out, &err), 0);
	golden_check(name, out.buf, out.len);
	/* The same definition gives the same bytes. */
	assert_int_equal(hva_domain_xml(d, &again, &err), 0);
	assert_int_equal(out.len, again.len);
	assert_memory_equal(out.buf, again.buf, out.len);
	strbuf_release(&out);
	strbuf_release(&again);
}

static void test_qemu_tcg(void **state)
{
	struct hva_domain_def d = qemu_def(HVA_DOMAIN_QEMU);

	(void)state;
	check_golden(&d, "hva-qemu-tcg.xml");
}

/* KVM, an existing domain's uuid (a redefinition), no NICs. */
static void test_qemu_kvm(void **state)
{
	struct hva_domain_def d = qemu_def(HVA_DOMAIN_KVM);

	(void)state;
	d.uuid = "e1004e7e-faa1-49a6-ac78-0c84bd68359d";
	d.n_nics = 0;
	d.cpus = 1;
	d.memory_mib = 128;
	check_golden(&d, "hva-qemu-kvm.xml");
}

static void test_lxc(void **state)
{
	struct hva_domain_def d = {
		.type = HVA_DOMAIN_LXC,
		.name = "vdc-7",
		.cpus = 1,
		.memory_mib = 64,
		.rootfs_path = "/var/lib/vdc-hva/instances/vdc-7/rootfs",
		.init_path = "/sbin/init",
		.console_path = "/var/lib/vdc-hva/instances/vdc-7/console.log",
		.meta = &meta,
	};

	(void)state;
	check_golden(&d, "hva-lxc.xml");
}

/* Paths go into attributes: every markup character is escaped. */
static void test_escaping(void **state)
{
	struct hva_domain_def d = qemu_def(HVA_DOMAIN_QEMU);
	struct vdc_err err = VDC_ERR_INIT;
	struct strbuf out = STRBUF_INIT;
	struct hva_meta m = meta;

	(void)state;
	d.disk_path = "/srv/a'b\"c<d>e&f/disk.qcow2";
	snprintf(m.name, sizeof(m.name), "%s", "x");
	snprintf(m.dc, sizeof(m.dc), "%s", "a&b");
	d.meta = &m;
	assert_int_equal(hva_domain_xml(&d, &out, &err), 0);
	assert_non_null(strstr(out.buf, "<source file='/srv/a&apos;b&quot;c&lt;d&gt;e&amp;f/disk.qcow2'/>"));
	assert_non_null(strstr(out.buf, "<vdc:dc>a&amp;b</vdc:dc>"));
	assert_null(strstr(out.buf, "a'b"));
	strbuf_release(&out);
}

static void test_refusals(void **state)
{
	struct hva_domain_def d = qemu_def(HVA_DOMAIN_QEMU);
	struct vdc_err err = VDC_ERR_INIT;
	struct strbuf out = STRBUF_INIT;
	int rc;

	(void)state;
	d.seed_path = NULL;
	rc = hva_domain_xml(&d, &out, &err);
	assert_int_equal(rc, -EINVAL);
	check_err(rc, &err);
	assert_non_null(strstr(err.msg, "seed"));

	d = qemu_def(HVA_DOMAIN_QEMU);
	d.disk_path = "relative/disk.qcow2";
	rc = hva_domain_xml(&d, &out, &err);
	assert_int_equal(rc, -EINVAL);
	check_err(rc, &err);

	d = qemu_def(HVA_DOMAIN_QEMU);
	d.name = "Bad Name";
	rc = hva_domain_xml(&d, &out, &err);
	assert_int_equal(rc, -EINVAL);
	check_err(rc, &err);

	d = qemu_def(HVA_DOMAIN_QEMU);
	d.cpus = 0;
	rc = hva_domain_xml(&d, &out, &err);
	assert_int_equal(rc, -EINVAL);
	check_err(rc, &err);

	d = qemu_def(HVA_DOMAIN_LXC);
	rc = hva_domain_xml(&d, &out, &err);
	assert_int_equal(rc, -EINVAL);
	check_err(rc, &err);
	assert_non_null(strstr(err.msg, "root filesystem"));
	/* Nothing was written by a refusal. */
	assert_int_equal(out.len, 0);
	strbuf_release(&out);
}

static void check_meta(const struct hva_meta *got, const struct hva_meta *want)
{
	assert_string_equal(got->dc, want->dc);
	assert_int_equal(got->id, want->id);
	assert_string_equal(got->name, want->name);
	assert_int_equal(got->reboot, want->reboot);
	assert_int_equal(got->reset, want->reset);
}

static void test_meta_round_trip(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct strbuf q = STRBUF_INIT, bare = STRBUF_INIT;
	struct hva_meta got;

	(void)state;
	hva_meta_xml(&meta, true, &q);
	assert_string_equal(q.buf,
		"<vdc:instance xmlns:vdc=\"https://vdcfs.invalid/hva\"><vdc:dc>8d7f3c2a</vdc:dc>"
		"<vdc:id>12</vdc:id><vdc:name>web1</vdc:name><vdc:reboot>3</vdc:reboot>"
		"<vdc:reset>1</vdc:reset></vdc:instance>");
	assert_int_equal(hva_meta_parse(q.buf, &got, &err), 0);
	check_meta(&got, &meta);
	hva_meta_xml(&meta, false, &bare);
	assert_string_equal(bare.buf,
		"<instance><dc>8d7f3c2a</dc><id>12</id><name>web1</name><reboot>3</reboot>"
		"<reset>1</reset></instance>");
	assert_int_equal(hva_meta_parse(bare.buf, &got, &err), 0);
	check_meta(&got, &meta);
	strbuf_release(&q);
	strbuf_release(&bare);
}

/* What virDomainGetMetadata() returns: re-indented, with or without a prefix. */
static void test_meta_from_libvirt(void **state)
{
	static const char as_libvirt[] =
		"<instance>\n"
		"  <dc>8d7f3c2a</dc>\n"
		"  <id>12</id>\n"
		"  <name>web1</name>\n"
		"  <reboot>3</reboot>\n"
		"  <reset>1</reset>\n"
		"</instance>";
	static const char prefixed[] =
		"<?xml version=\"1.0\"?>\n<x:instance xmlns:x='https://vdcfs.invalid/hva'>\n"
		"  <!-- a comment -->\n  <x:dc> 8d7f3c2a </x:dc>\n  <x:id>12</x:id>\n"
		"  <x:name>web1</x:name>\n  <x:reboot>3</x:reboot>\n  <x:reset>1</x:reset>\n"
		"</x:instance>";
	struct vdc_err err = VDC_ERR_INIT;
	struct hva_meta got;

	(void)state;
	assert_int_equal(hva_meta_parse(as_libvirt, &got, &err), 0);
	check_meta(&got, &meta);
	assert_int_equal(hva_meta_parse(prefixed, &got, &err), 0);
	check_meta(&got, &meta);
}

/* Anything short of a whole element is not vdc-hva's: such a domain is foreign. */
static void test_meta_refused(void **state)
{
	static const char *const bad[] = {
		"",
		"<instance/>",
		"<instance><id>12</id><reboot>0</reboot><reset>0</reset></instance>",
		"<instance><dc></dc><id>12</id><reboot>0</reboot><reset>0</reset></instance>",
		"<instance><dc>a</dc><id>0</id><reboot>0</reboot><reset>0</reset></instance>",
		"<instance><dc>a</dc><id>x1</id><reboot>0</reboot><reset>0</reset></instance>",
		"<instance><dc>a</dc><id>1</id><reboot>-1</reboot><reset>0</reset></instance>",
		"<instance><dc>a</dc><id>1</id><reset>0</reset></instance>",
		"<instance><dc>a&amp;b</dc><id>1</id><reboot>0</reboot><reset>0</reset></instance>",
		"<instance><dc>a</dc><id>99999999999999999999999</id><reboot>0</reboot><reset>0</reset></instance>",
		"<instance><dc/><id>1</id><reboot>0</reboot><reset>0</reset></instance>",
		"<instance><dc>a",
	};
	struct vdc_err err = VDC_ERR_INIT;
	struct hva_meta got;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = hva_meta_parse(bad[i], &got, &err);

		if (rc != -ENODATA)
			print_error("case %zu: %s\n", i, bad[i]);
		assert_int_equal(rc, -ENODATA);
		check_err(rc, &err);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qemu_tcg),
		cmocka_unit_test(test_qemu_kvm),
		cmocka_unit_test(test_lxc),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_meta_round_trip),
		cmocka_unit_test(test_meta_from_libvirt),
		cmocka_unit_test(test_meta_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
