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

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain_xml.h"
#include "golden.h"
#include "unit.h"

/* eth0 on a virtual network (a tap on its bridge), eth1 on qemu's user-mode network. */
static const struct hva_network_spec net1 = { .name = "net1", .vni = 12, .mtu = 1450 };

static const struct hva_nic_spec nics[] = {
	{ .id = 40, .name = "eth0", .mac = "52:54:00:00:00:0c", .network = "net1", .ip = 0xc0000202, .net = &net1 },
	{ .id = 41, .name = "eth1", .mac = "52:54:00:00:01:0c", .network = "" },
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
		.idmap_base = 0x70010000,
		.idmap_count = 65536,
	};

	(void)state;
	check_golden(&d, "hva-lxc.xml");
}

/* A container is never root on the host: no mapping, or one onto root or past 32 bits, is refused. */
static void test_lxc_idmap_refused(void **state)
{
	static const struct { uint32_t base, count; } bad[] = {
		{ 0x70000000, 0 }, { 0, 65536 }, { 0xFFFF0000u, 65536 }, { 0xFFFFFFFFu, 1 },
	};
	struct hva_domain_def d = {
		.type = HVA_DOMAIN_LXC,
		.name = "vdc-7",
		.cpus = 1,
		.memory_mib = 64,
		.rootfs_path = "/var/lib/vdc-hva/instances/vdc-7/rootfs",
		.init_path = "/sbin/init",
	};
	struct vdc_err err = VDC_ERR_INIT;
	struct strbuf out = STRBUF_INIT;
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		d.idmap_base = bad[i].base;
		d.idmap_count = bad[i].count;
		rc = hva_domain_xml(&d, &out, &err);
		assert_int_equal(rc, -EINVAL);
		check_err(rc, &err);
		assert_non_null(strstr(err.msg, "user-namespace mapping"));
		assert_int_equal(out.len, 0);
	}
	/* The last block below 2^32 fits exactly. */
	d.idmap_base = 0xFFFF0000u;
	d.idmap_count = 65535;
	assert_int_equal(hva_domain_xml(&d, &out, &err), 0);
	assert_non_null(strstr(out.buf, "<uid start='0' target='4294901760' count='65535'/>"));
	strbuf_release(&out);
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
	assert_int_equal(got->migrate, want->migrate);
}

/* A migrated domain's definition logs in to its iSCSI disks as the destination. */
static void test_set_initiator(void **state)
{
	static const char xml[] =
		"<domain>\n  <devices>\n"
		"    <disk type='network' device='disk'>\n"
		"      <source protocol='iscsi' name='iqn.x:disk-12/1'>\n"
		"        <host name='198.51.100.17' port='3260'/>\n"
		"        <initiator>\n          <iqn name='iqn.2026-11.org.vdcfs:dc:host-a'/>\n        </initiator>\n"
		"      </source>\n      <serial>vdc-disk-12</serial>\n    </disk>\n"
		"    <disk type='network' device='disk'>\n"
		"      <source protocol='iscsi' name='iqn.x:vol-13/1'>\n"
		"        <initiator><iqn name=\"iqn.2026-11.org.vdcfs:dc:host-a\"/></initiator>\n"
		"      </source>\n    </disk>\n"
		"    <disk type='file' device='disk'><source file='/x/seed.img'/><serial>name='keep'</serial></disk>\n"
		"  </devices>\n</domain>\n";
	struct strbuf out = STRBUF_INIT;

	(void)state;
	hva_xml_set_initiator(xml, "iqn.2026-11.org.vdcfs:dc:host-b", &out);
	assert_null(strstr(out.buf, "host-a"));
	assert_non_null(strstr(out.buf, "<iqn name='iqn.2026-11.org.vdcfs:dc:host-b'/>"));
	assert_non_null(strstr(out.buf, "<iqn name=\"iqn.2026-11.org.vdcfs:dc:host-b\"/>"));
	/* Everything else as it was. */
	assert_non_null(strstr(out.buf, "<serial>name='keep'</serial>"));
	assert_int_equal(out.len, strlen(xml));
	strbuf_release(&out);
	/* No initiator: the same text. */
	hva_xml_set_initiator("<domain><name>x</name></domain>", "iqn.a:b", &out);
	assert_string_equal(out.buf, "<domain><name>x</name></domain>");
	strbuf_release(&out);
}

/* The seq of a live migration started, written only once there is one. */
static void test_meta_migrate(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct strbuf bare = STRBUF_INIT;
	struct hva_meta m = meta, got;

	(void)state;
	m.migrate = 7;
	hva_meta_xml(&m, false, &bare);
	assert_string_equal(bare.buf,
		"<instance><dc>8d7f3c2a</dc><id>12</id><name>web1</name><reboot>3</reboot>"
		"<reset>1</reset><migrate>7</migrate></instance>");
	assert_int_equal(hva_meta_parse(bare.buf, &got, &err), 0);
	check_meta(&got, &m);
	strbuf_release(&bare);
	/* A malformed one is none: the domain stays ours. */
	assert_int_equal(hva_meta_parse("<instance><dc>a</dc><id>3</id><reboot>0</reboot><reset>0</reset>"
					 "<migrate>x</migrate></instance>", &got, &err), 0);
	assert_int_equal(got.migrate, 0);
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

static const struct hva_volume_spec vols[] = {
	{ .id = 7, .name = "data1", .link = "data", .host = "198.51.100.17", .port = 3260,
	  .iqn = "iqn.2026-11.org.vdcfs:8d7f0a1b2c3d:vol-7", .lun = 1, .chap_user = "vol-7",
	  .chap_secret = "0123456789abcdef0123456789abcdef", .size = 1073741824, .serial = "vdc-vol-7" },
	{ .id = 9, .name = "logs", .link = "logs", .host = "2001:db8::17", .port = 3261,
	  .iqn = "iqn.2026-11.org.vdcfs:8d7f0a1b2c3d:vol-9", .lun = 1, .chap_user = "vol-9",
	  .chap_secret = "fedcba9876543210fedcba9876543210", .size = 1048576, .serial = "vdc-vol-9" },
};

#define INITIATOR "iqn.2026-11.org.vdcfs:8d7f0a1b2c3d:host-hv1"

/* Two volumes: vdd kept from an earlier definition, vdc the first free name. */
static void test_qemu_volumes(void **state)
{
	struct hva_domain_def d = qemu_def(HVA_DOMAIN_QEMU);
	struct hva_volume_disk disks[2] = { { &vols[0], "vdd" }, { &vols[1], "vdc" } };

	(void)state;
	d.n_nics = 1;
	d.volumes = disks;
	d.n_volumes = 2;
	d.initiator = INITIATOR;
	check_golden(&d, "hva-qemu-volumes.xml");
	d.initiator = NULL;
	{
		struct vdc_err err = VDC_ERR_INIT;
		struct strbuf out = STRBUF_INIT;
		int rc = hva_domain_xml(&d, &out, &err);

		assert_int_equal(rc, -EINVAL);
		check_err(rc, &err);
		assert_non_null(strstr(err.msg, "initiator"));
		strbuf_release(&out);
	}
}

static void test_volume_secret(void **state)
{
	struct strbuf out = STRBUF_INIT;
	char usage[32];

	(void)state;
	hva_volume_secret_xml(&vols[0], &out);
	golden_check("hva-secret.xml", out.buf, out.len);
	hva_volume_secret_usage(7, usage, sizeof(usage));
	assert_string_equal(usage, "vdc-vol-7");
	assert_int_equal(hva_volume_id_of("vdc-vol-7"), 7);
	assert_int_equal(hva_volume_id_of("vdc-vol-18446744073709551615"), UINT64_MAX);
	assert_int_equal(hva_volume_id_of("vdc-vol-0"), 0);
	assert_int_equal(hva_volume_id_of("vdc-vol-07"), 0);
	assert_int_equal(hva_volume_id_of("vdc-vol-"), 0);
	assert_int_equal(hva_volume_id_of("vdc-vol-7x"), 0);
	assert_int_equal(hva_volume_id_of("vdc-vol-99999999999999999999999"), 0);
	assert_int_equal(hva_volume_id_of("other"), 0);
	strbuf_release(&out);
}

/* An instance's root disk on a storage host (issue 13): the same network disk as a volume's, as vda. */
static const struct hva_volume_spec root_disk = {
	.id = 12, .root = true, .name = "web1", .host = "198.51.100.17", .port = 3260,
	.iqn = "iqn.2026-11.org.vdcfs:8d7f0a1b2c3d:disk-12", .lun = 1, .chap_user = "disk-12",
	.chap_secret = "00112233445566778899aabbccddeeff", .size = 1073741824, .serial = "vdc-disk-12",
};

/*
 * Booting from it: first disk with boot order 1 (and no <boot dev> in
 * <os>, which libvirt refuses beside it), no file disk, the seed as vdb,
 * a volume after; its secret of usage vdc-disk-12. Without the initiator,
 * refused.
 */
static void test_qemu_root_disk(void **state)
{
	struct hva_domain_def d = qemu_def(HVA_DOMAIN_KVM);
	struct hva_volume_disk root = { &root_disk, "vda" }, vol = { &vols[0], "vdc" };
	struct vdc_err err = VDC_ERR_INIT;
	struct strbuf out = STRBUF_INIT;
	int rc;

	(void)state;
	d.disk_path = NULL;
	d.root = &root;
	d.n_nics = 1;
	d.volumes = &vol;
	d.n_volumes = 1;
	d.initiator = INITIATOR;
	check_golden(&d, "hva-qemu-disk.xml");
	assert_int_equal(hva_domain_xml(&d, &out, &err), 0);
	assert_null(strstr(out.buf, "<boot dev="));
	assert_null(strstr(out.buf, "disk.qcow2"));
	assert_non_null(strstr(out.buf, "<secret type='iscsi' usage='vdc-disk-12'/>"));
	strbuf_release(&out);
	/* A disk path beside it is not used: the root disk is the boot disk. */
	d.disk_path = "relative";
	assert_int_equal(hva_domain_xml(&d, &out, &err), 0);
	assert_null(strstr(out.buf, "relative"));
	strbuf_release(&out);
	d.n_volumes = 0;
	d.initiator = "";
	rc = hva_domain_xml(&d, &out, &err);
	assert_int_equal(rc, -EINVAL);
	check_err(rc, &err);
	assert_non_null(strstr(err.msg, "root disk but no initiator"));
	assert_int_equal(out.len, 0);
	strbuf_release(&out);
}

static void test_disk_secret(void **state)
{
	struct strbuf out = STRBUF_INIT;
	char usage[32];

	(void)state;
	hva_volume_secret_xml(&root_disk, &out);
	golden_check("hva-disk-secret.xml", out.buf, out.len);
	hva_disk_secret_usage(12, usage, sizeof(usage));
	assert_string_equal(usage, "vdc-disk-12");
	hva_secret_usage_of(&root_disk, usage, sizeof(usage));
	assert_string_equal(usage, "vdc-disk-12");
	hva_secret_usage_of(&vols[0], usage, sizeof(usage));
	assert_string_equal(usage, "vdc-vol-7");
	assert_int_equal(hva_disk_id_of("vdc-disk-12"), 12);
	assert_int_equal(hva_disk_id_of("vdc-disk-0"), 0);
	assert_int_equal(hva_disk_id_of("vdc-disk-012"), 0);
	assert_int_equal(hva_disk_id_of("vdc-disk-"), 0);
	assert_int_equal(hva_disk_id_of("vdc-vol-12"), 0);
	assert_int_equal(hva_volume_id_of("vdc-disk-12"), 0);
	strbuf_release(&out);
}

/* The disks of a domain as libvirt returns its XML: targets, serials, and where each lies. */
static void test_disks_parse(void **state)
{
	static const char xml[] =
		"<domain type='qemu' id='3'>\n  <devices>\n"
		"    <disk type='file' device='disk'>\n      <source file='/x/disk.qcow2'/>\n"
		"      <target dev='vda' bus='virtio'/>\n    </disk>\n"
		"    <disk type='file' device='disk'>\n      <target dev=\"vdb\" bus='virtio'/>\n"
		"      <serial>other</serial>\n    </disk>\n"
		"    <disk type='network' device='disk'>\n      <driver name='qemu' type='raw' cache='none'/>\n"
		"      <source protocol='iscsi' name='iqn.x:vol-7/1' index='2'>\n"
		"        <host name='198.51.100.17' port='3260'/>\n      </source>\n"
		"      <target dev='vdd' bus='virtio'/>\n      <serial>vdc-vol-7</serial>\n"
		"      <alias name='virtio-disk3'/>\n    </disk>\n"
		"    <disk type='network' device='disk'>\n      <targetx dev='vdz'/>\n    </disk>\n"
		"    <disks/>\n"
		"    <disk type='network' device='disk'>\n      <target bus='virtio' dev='vdc'/>\n"
		"      <serial>vdc-vol-9</serial>\n    </disk>\n"
		"  </devices>\n</domain>\n";
	struct hva_disk_ref *r;
	size_t n;

	(void)state;
	hva_disks_parse(xml, &r, &n);
	assert_int_equal(n, 4);
	assert_string_equal(r[0].dev, "vda");
	assert_int_equal(r[0].vol_id, 0);
	assert_string_equal(r[1].dev, "vdb");
	assert_int_equal(r[1].vol_id, 0);
	assert_string_equal(r[2].dev, "vdd");
	assert_int_equal(r[2].vol_id, 7);
	assert_memory_equal(xml + r[2].off, "<disk type='network'", 20);
	assert_memory_equal(xml + r[2].off + r[2].len - 7, "</disk>", 7);
	assert_string_equal(r[3].dev, "vdc");
	assert_int_equal(r[3].vol_id, 9);
	free(r);
}

/* A root disk read back, as libvirt returns it: told by its serial, and no volume. */
static void test_disks_parse_root(void **state)
{
	static const char xml[] =
		"<domain type='kvm' id='4'>\n  <devices>\n"
		"    <disk type='network' device='disk'>\n      <driver name='qemu' type='raw' cache='none'/>\n"
		"      <source protocol='iscsi' name='iqn.x:disk-12/1' index='3'>\n"
		"        <host name='198.51.100.17' port='3260'/>\n      </source>\n"
		"      <target dev='vda' bus='virtio'/>\n      <serial>vdc-disk-12</serial>\n"
		"      <boot order='1'/>\n      <alias name='virtio-disk0'/>\n    </disk>\n"
		"    <disk type='file' device='disk'>\n      <target dev='vdb' bus='virtio'/>\n    </disk>\n"
		"    <disk type='network' device='disk'>\n      <target dev='vdc' bus='virtio'/>\n"
		"      <serial>vdc-vol-7</serial>\n    </disk>\n"
		"  </devices>\n</domain>\n";
	struct hva_disk_ref *r;
	size_t n;

	(void)state;
	hva_disks_parse(xml, &r, &n);
	assert_int_equal(n, 3);
	assert_string_equal(r[0].dev, "vda");
	assert_int_equal(r[0].disk_id, 12);
	assert_int_equal(r[0].vol_id, 0);
	assert_int_equal(r[1].disk_id, 0);
	assert_int_equal(r[2].disk_id, 0);
	assert_int_equal(r[2].vol_id, 7);
	free(r);
}

/* Names: kept across redefinitions, the first free otherwise, by volume id. */
static void test_volume_devs(void **state)
{
	struct hva_disk_ref prev[3] = { { 0, "vda", 0, 0, 0 }, { 9, "vdc", 0, 0, 0 }, { 5, "vdd", 0, 0, 0 } };
	struct hva_volume_disk out[2];
	struct vdc_err err = VDC_ERR_INIT;
	char dev[HVA_DEV_MAX];

	(void)state;
	/* A fresh domain: in the order of the ids. */
	assert_int_equal(hva_volume_devs(vols, 2, NULL, 0, out, &err), 0);
	assert_string_equal(out[0].dev, "vdc");
	assert_string_equal(out[1].dev, "vdd");
	assert_ptr_equal(out[0].vol, &vols[0]);
	/* Volume 9 keeps vdc; volume 5 is gone, so 7 gets the first free, vdd. */
	assert_int_equal(hva_volume_devs(vols, 2, prev, 3, out, &err), 0);
	assert_string_equal(out[0].dev, "vdd");
	assert_string_equal(out[1].dev, "vdc");
	/* A hot-plug: nothing in use is taken, in either list. */
	assert_int_equal(hva_dev_first_free(prev, 3, NULL, 0, dev, &err), 0);
	assert_string_equal(dev, "vde");
	assert_int_equal(hva_dev_first_free(prev, 1, &prev[1], 1, dev, &err), 0);
	assert_string_equal(dev, "vdd");
}

static void test_volume_devs_full(void **state)
{
	struct hva_disk_ref used[24];
	struct vdc_err err = VDC_ERR_INIT;
	char dev[HVA_DEV_MAX];
	int i, rc;

	(void)state;
	memset(used, 0, sizeof(used));
	for (i = 0; i < 24; i++)
		snprintf(used[i].dev, sizeof(used[i].dev), "vd%c", 'c' + i);
	rc = hva_dev_first_free(used, 24, NULL, 0, dev, &err);
	assert_int_equal(rc, -ENOSPC);
	check_err(rc, &err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qemu_tcg),
		cmocka_unit_test(test_qemu_kvm),
		cmocka_unit_test(test_lxc),
		cmocka_unit_test(test_lxc_idmap_refused),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_meta_round_trip),
		cmocka_unit_test(test_meta_migrate),
		cmocka_unit_test(test_set_initiator),
		cmocka_unit_test(test_meta_from_libvirt),
		cmocka_unit_test(test_meta_refused),
		cmocka_unit_test(test_qemu_volumes),
		cmocka_unit_test(test_volume_secret),
		cmocka_unit_test(test_qemu_root_disk),
		cmocka_unit_test(test_disk_secret),
		cmocka_unit_test(test_disks_parse),
		cmocka_unit_test(test_disks_parse_root),
		cmocka_unit_test(test_volume_devs),
		cmocka_unit_test(test_volume_devs_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
