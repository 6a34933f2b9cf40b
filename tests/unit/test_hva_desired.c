/*
 * Unit tests for agents/hva/desired.c: the desired state as vdcfs sends
 * it (the example of docs/agent-protocol.md), defaults, and every check
 * that keeps a malformed answer from reaching a path, an XML, a seed or
 * an argv. A document that is unusable as a whole is refused; a bad
 * instance entry keeps its id and domain with a sentence in `err`.
 *
 * Links agents/hva/desired.c, backend/{strbuf,err,validate}.c, jansson.
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

#define SHA "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

/* The example of docs/agent-protocol.md, with its placeholders filled in. */
static const char example[] =
	"{\"rev\": 17, \"dc\": \"8d7f\", \"heartbeat\": 5, \"instances\": [ {"
	" \"id\": 12, \"name\": \"web1\", \"domain\": \"vdc-12\", \"power\": \"on\","
	" \"cpus\": 1, \"memory_mib\": 256, \"hostname\": \"web1\","
	" \"user_data\": \"#!/bin/sh\\n...\","
	" \"ssh_keys\": [\"ssh-ed25519 AAAA... me@x\"],"
	" \"image\": {\"name\": \"tiny\", \"sha256\": \"" SHA "\", \"size\": 33554432,"
	"            \"format\": \"raw\"},"
	" \"nics\": [{\"id\": 40, \"name\": \"eth0\", \"mac\": \"52:54:00:00:00:0c\", \"network\": \"net1\","
	"             \"ip\": \"192.0.2.2\"}],"
	" \"security_groups\": [\"web\"],"
	" \"reboot\": 0, \"reset\": 0 } ],"
	" \"networks\": [ {\"name\": \"net1\", \"vni\": 12, \"cidr\": \"192.0.2.0/24\","
	"   \"gateway\": \"192.0.2.1\", \"dhcp\": true, \"dns\": [\"192.0.2.53\"],"
	"   \"server\": \"192.0.2.254\", \"server_mac\": \"52:54:01:00:00:0c\","
	"   \"peers\": [\"198.51.100.19\"],"
	"   \"remote\": [{\"mac\": \"52:54:00:00:00:0d\", \"ip\": \"192.0.2.3\", \"peer\": \"198.51.100.19\"}] } ],"
	" \"security_groups\": [ {\"name\": \"web\", \"rules\": \"in tcp 22 sg:web\\n\","
	"   \"members\": [\"192.0.2.2\", \"192.0.2.3\"]} ]}";

static void test_example(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct hva_desired d;
	const struct hva_instance_spec *in;

	(void)state;
	assert_int_equal(hva_desired_parse(example, strlen(example), &d, &err), 0);
	assert_int_equal(d.rev, 17);
	assert_string_equal(d.dc, "8d7f");
	assert_int_equal(d.heartbeat, 5);
	assert_int_equal(d.n, 1);
	in = &d.inst[0];
	assert_string_equal(in->err, "");
	assert_int_equal(in->id, 12);
	assert_string_equal(in->name, "web1");
	assert_string_equal(in->domain, "vdc-12");
	assert_true(in->power_on);
	assert_int_equal(in->cpus, 1);
	assert_int_equal(in->memory_mib, 256);
	assert_string_equal(in->hostname, "web1");
	assert_string_equal(in->user_data, "#!/bin/sh\n...");
	assert_int_equal(in->user_data_len, 13);
	assert_int_equal(in->n_ssh_keys, 1);
	assert_string_equal(in->ssh_keys[0], "ssh-ed25519 AAAA... me@x");
	assert_true(in->image.present);
	assert_string_equal(in->image.name, "tiny");
	assert_string_equal(in->image.sha256, SHA);
	assert_int_equal(in->image.size, 33554432);
	assert_int_equal(in->image.format, VDC_IMAGE_FORMAT_RAW);
	assert_int_equal(in->n_nics, 1);
	assert_string_equal(in->nics[0].name, "eth0");
	assert_string_equal(in->nics[0].mac, "52:54:00:00:00:0c");
	assert_string_equal(in->nics[0].network, "net1");
	assert_int_equal(in->nics[0].id, 40);
	assert_int_equal(in->nics[0].ip, 0xc0000202);
	assert_ptr_equal(in->nics[0].net, hva_network_find(&d, "net1"));
	assert_int_equal(in->n_groups, 1);
	assert_string_equal(in->groups[0], "web");
	assert_int_equal(d.n_networks, 1);
	assert_string_equal(d.networks[0].err, "");
	assert_int_equal(d.networks[0].vni, 12);
	assert_int_equal(d.networks[0].net, 0xc0000200);
	assert_int_equal(d.networks[0].prefix, 24);
	assert_int_equal(d.networks[0].gateway, 0xc0000201);
	assert_true(d.networks[0].dhcp);
	assert_int_equal(d.networks[0].n_dns, 1);
	assert_int_equal(d.networks[0].dns[0], 0xc0000235);
	assert_int_equal(d.networks[0].server, 0xc00002fe);
	assert_string_equal(d.networks[0].server_mac, "52:54:01:00:00:0c");
	assert_int_equal(d.networks[0].n_peers, 1);
	assert_int_equal(d.networks[0].peers[0], 0xc6336413);
	assert_int_equal(d.networks[0].n_remote, 1);
	assert_string_equal(d.networks[0].remote[0].mac, "52:54:00:00:00:0d");
	assert_int_equal(d.networks[0].remote[0].ip, 0xc0000203);
	assert_int_equal(d.networks[0].remote[0].peer, 0xc6336413);
	assert_int_equal(d.n_groups, 1);
	assert_string_equal(d.groups[0].err, "");
	assert_int_equal(d.groups[0].n_rules, 1);
	assert_true(d.groups[0].rules[0].peer_is_group);
	assert_string_equal(d.groups[0].rules[0].peer_group, "web");
	assert_int_equal(d.groups[0].n_members, 2);
	assert_ptr_equal(hva_group_find(&d, "web"), &d.groups[0]);
	assert_int_equal(hva_instance_networks_ok(in, &err), 0);
	assert_ptr_equal(hva_desired_find(&d, "vdc-12"), in);
	assert_null(hva_desired_find(&d, "vdc-13"));
	hva_desired_release(&d);
}

/* What may be left out, and what it means. */
static void test_defaults(void **state)
{
	static const char doc[] =
		"{\"rev\": 0, \"dc\": \"a-1\", \"instances\": [{\"id\": 3, \"name\": \"x\","
		" \"domain\": \"vdc-3\", \"power\": \"off\", \"cpus\": 2, \"memory_mib\": 64,"
		" \"hostname\": \"\", \"image\": null, \"nics\": [{\"name\": \"eth0\","
		" \"mac\": \"52:54:00:AB:00:0C\", \"network\": null}]}]}";
	struct vdc_err err = VDC_ERR_INIT;
	struct hva_desired d;
	const struct hva_instance_spec *in;

	(void)state;
	assert_int_equal(hva_desired_parse(doc, strlen(doc), &d, &err), 0);
	assert_int_equal(d.heartbeat, 0);
	in = &d.inst[0];
	assert_string_equal(in->err, "");
	assert_false(in->power_on);
	assert_string_equal(in->hostname, "x");
	assert_string_equal(in->user_data, "");
	assert_int_equal(in->n_ssh_keys, 0);
	assert_false(in->image.present);
	assert_string_equal(in->nics[0].mac, "52:54:00:ab:00:0c");
	assert_string_equal(in->nics[0].network, "");
	assert_int_equal(in->reboot, 0);
	assert_int_equal(in->reset, 0);
	hva_desired_release(&d);
}

/* Documents that cannot be used at all. */
static void test_refused_documents(void **state)
{
	static const char *const bad[] = {
		"",
		"not json",
		"[]",
		"{\"dc\": \"a\", \"instances\": []}",
		"{\"rev\": -1, \"dc\": \"a\", \"instances\": []}",
		"{\"rev\": \"1\", \"dc\": \"a\", \"instances\": []}",
		"{\"rev\": 1, \"instances\": []}",
		"{\"rev\": 1, \"dc\": \"\", \"instances\": []}",
		"{\"rev\": 1, \"dc\": \"a/b\", \"instances\": []}",
		"{\"rev\": 1, \"dc\": \"a\"}",
		"{\"rev\": 1, \"dc\": \"a\", \"instances\": {}}",
		/* jansson refuses a NUL in a string: the whole answer goes. */
		"{\"rev\": 1, \"dc\": \"a\", \"instances\": [{\"id\": 5, \"domain\": \"vdc-5\", \"user_data\": \"a\\u0000b\"}]}",
	};
	struct vdc_err err = VDC_ERR_INIT;
	struct hva_desired d;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = hva_desired_parse(bad[i], strlen(bad[i]), &d, &err);

		if (rc != -EINVAL)
			print_error("case %zu: %s\n", i, bad[i]);
		assert_int_equal(rc, -EINVAL);
		check_err(rc, &err);
		hva_desired_release(&d);
	}
}

/*
 * One instance entry, broken in one way; `kept` says whether it stays
 * (with a sentence) or is dropped (no usable id or domain).
 */
struct entry_case {
	const char *json;     /* the entry's members after the fixed ones */
	bool kept;
	const char *says;     /* part of the sentence */
};

#define BASE "\"id\": 5, \"name\": \"x\", \"domain\": \"vdc-5\", \"power\": \"on\", \"cpus\": 1, \"memory_mib\": 64"

static void test_bad_entries(void **state)
{
	static const struct entry_case cases[] = {
		{ "\"id\": 5, \"name\": \"x\", \"power\": \"on\"", false, NULL },
		{ "\"id\": 0, \"domain\": \"vdc-5\"", false, NULL },
		{ "\"id\": 5, \"domain\": \"../etc\"", false, NULL },
		{ "\"id\": 5, \"domain\": \"Vdc-5\"", false, NULL },
		{ "\"id\": 5, \"name\": \"x\", \"domain\": \"vdc-5\", \"power\": \"up\", \"cpus\": 1, \"memory_mib\": 64", true, "power" },
		{ "\"id\": 5, \"name\": \"x\", \"domain\": \"vdc-5\", \"power\": \"on\", \"memory_mib\": 64", true, "cpus" },
		{ "\"id\": 5, \"name\": \"x\", \"domain\": \"vdc-5\", \"power\": \"on\", \"cpus\": 0, \"memory_mib\": 64", true, "cpus" },
		{ "\"id\": 5, \"name\": \"x\", \"domain\": \"vdc-5\", \"power\": \"on\", \"cpus\": 1, \"memory_mib\": 1", true, "memory_mib" },
		{ "\"id\": 5, \"name\": \"X y\", \"domain\": \"vdc-5\", \"power\": \"on\", \"cpus\": 1, \"memory_mib\": 64", true, "name" },
		{ BASE ", \"hostname\": \"-bad-\"", true, "hostname" },
		{ BASE ", \"ssh_keys\": \"ssh-ed25519 AAAA\"", true, "ssh_keys" },
		{ BASE ", \"ssh_keys\": [\"ssh-ed25519 AAAA\\nmalicious: 1\"]", true, "ssh key 1" },
		{ BASE ", \"ssh_keys\": [\"\"]", true, "ssh key 1" },
		{ BASE ", \"image\": {\"name\": \"tiny\", \"sha256\": \"abc\"}", true, "sha256" },
		{ BASE ", \"image\": {\"name\": \"tiny\", \"sha256\": \"" SHA "\", \"format\": \"vmdk\"}", true, "vmdk" },
		{ BASE ", \"image\": {\"name\": \"../x\", \"sha256\": \"" SHA "\"}", true, "image" },
		{ BASE ", \"image\": {\"name\": \"t\", \"sha256\": \"" SHA "\", \"size\": -1}", true, "size" },
		{ BASE ", \"image\": \"tiny\"", true, "image" },
		{ BASE ", \"nics\": [{\"name\": \"eth0\", \"mac\": \"52:54:00:00:00\"}]", true, "MAC address" },
		{ BASE ", \"nics\": [{\"name\": \"eth0\", \"mac\": \"01:54:00:00:00:01\"}]", true, "multicast" },
		{ BASE ", \"nics\": [{\"name\": \"eth0\", \"mac\": \"52:54:00:00:00:0z\"}]", true, "MAC address" },
		{ BASE ", \"nics\": [{\"name\": \"eth0\"}]", true, "mac" },
		{ BASE ", \"nics\": [{\"name\": \"eth0\", \"mac\": \"52:54:00:00:00:01\"},"
		  " {\"name\": \"eth1\", \"mac\": \"52:54:00:00:00:01\"}]", true, "repeats" },
		{ BASE ", \"nics\": [{\"name\": \"eth 0\", \"mac\": \"52:54:00:00:00:01\"}]", true, "interface" },
		{ BASE ", \"reboot\": -3", true, "reboot" },
		{ BASE ", \"reset\": 1.5", true, "reset" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vdc_err err = VDC_ERR_INIT;
		struct hva_desired d;
		char doc[2048];

		snprintf(doc, sizeof(doc), "{\"rev\": 1, \"dc\": \"a\", \"instances\": [{%s}]}", cases[i].json);
		assert_int_equal(hva_desired_parse(doc, strlen(doc), &d, &err), 0);
		if (d.n != (cases[i].kept ? 1u : 0u) ||
		    (cases[i].kept && !strstr(d.inst[0].err, cases[i].says)))
			print_error("case %zu: %s -> n %zu, err '%s'\n", i, cases[i].json, d.n,
				    d.n ? d.inst[0].err : "");
		assert_int_equal(d.n, cases[i].kept ? 1 : 0);
		if (cases[i].kept) {
			struct vdc_err e = { -EINVAL, "" };

			assert_int_equal(d.inst[0].id, 5);
			assert_string_equal(d.inst[0].domain, "vdc-5");
			assert_non_null(strstr(d.inst[0].err, cases[i].says));
			snprintf(e.msg, sizeof(e.msg), "%s", d.inst[0].err);
			check_err(-EINVAL, &e);
		}
		hva_desired_release(&d);
	}
}

#define IQN "iqn.2026-11.org.vdcfs:8d7f0a1b2c3d"
#define VOL(id, extra) "{\"id\": " #id ", \"name\": \"data" #id "\", \"link\": \"data\"," \
	" \"portal\": \"198.51.100.17:3260\", \"iqn\": \"" IQN ":vol-" #id "\", \"lun\": 1," \
	" \"chap_user\": \"vol-" #id "\", \"chap_secret\": \"0123456789abcdef0123456789abcdef\"," \
	" \"size\": 1073741824, \"serial\": \"vdc-vol-" #id "\"" extra "}"

/* The example of docs/storage.md: the initiator, and volumes sorted by id. */
static void test_volumes(void **state)
{
	static const char doc[] =
		"{\"rev\": 1, \"dc\": \"a\", \"initiator\": \"" IQN ":host-hv1\", \"instances\": [{" BASE
		", \"volumes\": [" VOL(9, "") ", " VOL(7, "") "]}]}";
	struct vdc_err err = VDC_ERR_INIT;
	const struct hva_volume_spec *v;
	struct hva_desired d;

	(void)state;
	assert_int_equal(hva_desired_parse(doc, strlen(doc), &d, &err), 0);
	assert_string_equal(d.initiator, IQN ":host-hv1");
	assert_string_equal(d.inst[0].err, "");
	assert_int_equal(d.inst[0].n_volumes, 2);
	v = &d.inst[0].volumes[0];
	assert_int_equal(v->id, 7);
	assert_int_equal(d.inst[0].volumes[1].id, 9);
	assert_string_equal(v->name, "data7");
	assert_string_equal(v->link, "data");
	assert_string_equal(v->host, "198.51.100.17");
	assert_int_equal(v->port, 3260);
	assert_string_equal(v->iqn, IQN ":vol-7");
	assert_int_equal(v->lun, 1);
	assert_string_equal(v->chap_user, "vol-7");
	assert_string_equal(v->chap_secret, "0123456789abcdef0123456789abcdef");
	assert_int_equal(v->size, 1073741824);
	assert_string_equal(v->serial, "vdc-vol-7");
	assert_ptr_equal(hva_volume_find(&d.inst[0], 9), &d.inst[0].volumes[1]);
	assert_null(hva_volume_find(&d.inst[0], 8));
	hva_desired_release(&d);
}

/* A portal in brackets (IPv6) or by host name. */
static void test_volume_portals(void **state)
{
	static const char doc[] =
		"{\"rev\": 1, \"dc\": \"a\", \"initiator\": \"" IQN ":host-hv1\", \"instances\": [{" BASE
		", \"volumes\": [" VOL(7, ", \"portal\": \"[2001:db8::1]:3260\"") ", "
		VOL(8, ", \"portal\": \"sta1.example:3261\"") "]}]}";
	struct vdc_err err = VDC_ERR_INIT;
	struct hva_desired d;

	(void)state;
	assert_int_equal(hva_desired_parse(doc, strlen(doc), &d, &err), 0);
	assert_string_equal(d.inst[0].err, "");
	assert_string_equal(d.inst[0].volumes[0].host, "2001:db8::1");
	assert_string_equal(d.inst[0].volumes[1].host, "sta1.example");
	assert_int_equal(d.inst[0].volumes[1].port, 3261);
	hva_desired_release(&d);
}

/* Every field of a volume is checked; a bad one is the instance's error. */
static void test_bad_volumes(void **state)
{
	static const struct {
		const char *vols, *says;
	} cases[] = {
		{ "{}", "id" },
		{ "7", "not an object" },
		{ VOL(7, ", \"iqn\": \"iqn.2026-11.org.vdcfs:X\"") , "iqn" },
		{ VOL(7, ", \"iqn\": \"iqn.2026-11.org.vdcfs:a'b\"") , "iqn" },
		{ VOL(7, ", \"iqn\": \"eui.02004567a425678d\"") , "iqn" },
		{ VOL(7, ", \"portal\": \"198.51.100.17\"") , "portal" },
		{ VOL(7, ", \"portal\": \"198.51.100.17:0\"") , "portal" },
		{ VOL(7, ", \"portal\": \"198.51.100.17:65536\"") , "portal" },
		{ VOL(7, ", \"portal\": \"a'b:3260\"") , "portal" },
		{ VOL(7, ", \"portal\": \"[::1:3260\"") , "portal" },
		{ VOL(7, ", \"portal\": \"[nope]:3260\"") , "portal" },
		{ VOL(7, ", \"serial\": \"vdc-vol-7-and-more-than-20\"") , "serial" },
		{ VOL(7, ", \"serial\": \"vdc-vol-8\"") , "serial" },
		{ VOL(7, ", \"serial\": \"vdc vol\"") , "serial" },
		{ VOL(7, ", \"chap_secret\": \"xyz\"") , "chap_secret" },
		{ VOL(7, ", \"chap_secret\": \"\"") , "chap_secret" },
		{ VOL(7, ", \"chap_user\": \"a b\"") , "chap_user" },
		{ VOL(7, ", \"lun\": -1") , "lun" },
		{ VOL(7, ", \"lun\": 99999") , "lun" },
		{ VOL(7, ", \"size\": 0") , "size" },
		{ VOL(7, ", \"name\": \"../x\"") , "name" },
		{ VOL(7, ", \"link\": \"A\"") , "link" },
		{ VOL(7, "") ", " VOL(7, ""), "twice" },
		{ "\"x\"", "not an object" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vdc_err err = VDC_ERR_INIT, e = { -EINVAL, "" };
		struct hva_desired d;
		char doc[4096];

		snprintf(doc, sizeof(doc), "{\"rev\": 1, \"dc\": \"a\", \"initiator\": \"" IQN ":h\","
			 " \"instances\": [{" BASE ", \"volumes\": [%s]}]}", cases[i].vols);
		assert_int_equal(hva_desired_parse(doc, strlen(doc), &d, &err), 0);
		if (d.n != 1 || !strstr(d.inst[0].err, cases[i].says))
			print_error("case %zu: %s -> '%s'\n", i, cases[i].vols, d.n ? d.inst[0].err : "");
		assert_int_equal(d.n, 1);
		assert_non_null(strstr(d.inst[0].err, cases[i].says));
		snprintf(e.msg, sizeof(e.msg), "%s", d.inst[0].err);
		check_err(-EINVAL, &e);
		hva_desired_release(&d);
	}
}

/* Without a valid initiator, instances with volumes are in error; the others are not. */
static void test_no_initiator(void **state)
{
	static const char *const docs[] = {
		"{\"rev\": 1, \"dc\": \"a\", \"instances\": [{" BASE ", \"volumes\": [" VOL(7, "") "]},"
		" {\"id\": 6, \"name\": \"y\", \"domain\": \"vdc-6\", \"power\": \"on\", \"cpus\": 1, \"memory_mib\": 64}]}",
		"{\"rev\": 1, \"dc\": \"a\", \"initiator\": \"iqn.X\", \"instances\": [{" BASE ", \"volumes\": [" VOL(7, "") "]},"
		" {\"id\": 6, \"name\": \"y\", \"domain\": \"vdc-6\", \"power\": \"on\", \"cpus\": 1, \"memory_mib\": 64}]}",
	};
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		struct vdc_err err = VDC_ERR_INIT;
		struct hva_desired d;

		assert_int_equal(hva_desired_parse(docs[i], strlen(docs[i]), &d, &err), 0);
		assert_int_equal(d.n, 2);
		assert_string_equal(d.initiator, "");
		assert_non_null(strstr(d.inst[0].err, "initiator"));
		assert_string_equal(d.inst[1].err, "");
		hva_desired_release(&d);
	}
}

/* An instance's root disk on a storage host (issue 13), as docs/storage.md shows it. */
#define DISK(extra) "\"disk\": {\"id\": 5, \"portal\": \"198.51.100.17:3260\", \"iqn\": \"" IQN ":disk-5\"," \
	" \"lun\": 1, \"chap_user\": \"disk-5\", \"chap_secret\": \"0123456789abcdef0123456789ABCDEF\"," \
	" \"size\": 1073741824, \"serial\": \"vdc-disk-5\", \"ready\": true" extra "}"

static void test_disk(void **state)
{
	static const char doc[] =
		"{\"rev\": 1, \"dc\": \"a\", \"initiator\": \"" IQN ":host-hv1\", \"instances\": [{" BASE
		", \"image\": {\"name\": \"tiny\", \"sha256\": \"" SHA "\"}, " DISK("") "},"
		" {\"id\": 6, \"name\": \"y\", \"domain\": \"vdc-6\", \"power\": \"on\", \"cpus\": 1, \"memory_mib\": 64,"
		" " DISK(", \"id\": 6, \"serial\": \"vdc-disk-6\", \"ready\": false, \"portal\": \"[2001:db8::1]:3261\"") "},"
		" {\"id\": 7, \"name\": \"z\", \"domain\": \"vdc-7\", \"power\": \"on\", \"cpus\": 1, \"memory_mib\": 64,"
		" \"disk\": null}]}";
	struct vdc_err err = VDC_ERR_INIT;
	const struct hva_volume_spec *v;
	struct hva_desired d;

	(void)state;
	assert_int_equal(hva_desired_parse(doc, strlen(doc), &d, &err), 0);
	assert_int_equal(d.n, 3);
	assert_string_equal(d.inst[0].err, "");
	assert_true(d.inst[0].disk.present);
	assert_true(d.inst[0].disk.ready);
	assert_true(d.inst[0].image.present);
	v = &d.inst[0].disk.vol;
	assert_true(v->root);
	assert_int_equal(v->id, 5);
	assert_string_equal(v->name, "x");
	assert_string_equal(v->link, "");
	assert_string_equal(v->host, "198.51.100.17");
	assert_int_equal(v->port, 3260);
	assert_string_equal(v->iqn, IQN ":disk-5");
	assert_int_equal(v->lun, 1);
	assert_string_equal(v->chap_user, "disk-5");
	assert_string_equal(v->chap_secret, "0123456789abcdef0123456789ABCDEF");
	assert_int_equal(v->size, 1073741824);
	assert_string_equal(v->serial, "vdc-disk-5");
	/* The disk is no volume: volume 5 is not found. */
	assert_int_equal(d.inst[0].n_volumes, 0);
	assert_null(hva_volume_find(&d.inst[0], 5));
	assert_string_equal(d.inst[1].err, "");
	assert_true(d.inst[1].disk.present);
	assert_false(d.inst[1].disk.ready);
	assert_string_equal(d.inst[1].disk.vol.host, "2001:db8::1");
	assert_int_equal(d.inst[1].disk.vol.port, 3261);
	/* Null, like absent: a local overlay of the image, as before. */
	assert_string_equal(d.inst[2].err, "");
	assert_false(d.inst[2].disk.present);
	hva_desired_release(&d);
}

/* Every member of "disk" is checked; a bad one is the instance's error, with a sentence. */
static void test_bad_disks(void **state)
{
	static const struct {
		const char *disk, *says;
	} cases[] = {
		{ "\"disk\": 5", "\"disk\" is neither an object nor null" },
		{ "\"disk\": [\"x\"]", "\"disk\" is neither an object nor null" },
		{ "\"disk\": {}", "\"disk\" has no \"id\"" },
		{ DISK(", \"id\": 0"), "disk" },
		{ DISK(", \"id\": \"5\""), "disk" },
		{ DISK(", \"iqn\": null"), "\"iqn\" is missing" },
		{ DISK(", \"iqn\": \"iqn.2026-11.org.vdcfs:X\""), "iSCSI name" },
		{ DISK(", \"iqn\": \"eui.02004567a425678d\""), "iSCSI name" },
		{ DISK(", \"portal\": null"), "\"portal\" is missing" },
		{ DISK(", \"portal\": \"198.51.100.17\""), "portal" },
		{ DISK(", \"portal\": \"198.51.100.17:0\""), "portal" },
		{ DISK(", \"portal\": \"a'b:3260\""), "portal" },
		{ DISK(", \"lun\": null"), "\"lun\" is missing" },
		{ DISK(", \"lun\": -1"), "lun" },
		{ DISK(", \"lun\": 99999"), "lun" },
		{ DISK(", \"lun\": \"1\""), "lun" },
		{ DISK(", \"chap_user\": \"a b\""), "chap_user" },
		{ DISK(", \"chap_secret\": \"0123456789abcdef\""), "\"chap_secret\" is not 32 hexadecimal digits" },
		{ DISK(", \"chap_secret\": \"0123456789abcdef0123456789abcdef0\""), "\"chap_secret\" is not 32" },
		{ DISK(", \"chap_secret\": \"0123456789abcdef0123456789abcdeg\""), "chap_secret" },
		{ DISK(", \"chap_secret\": \"\""), "chap_secret" },
		{ DISK(", \"chap_secret\": null"), "chap_secret" },
		{ DISK(", \"serial\": \"vdc-disk-5-and-more-than-20\""), "serial" },
		{ DISK(", \"serial\": \"vdc-vol-5\""), "it must be vdc-disk-5" },
		{ DISK(", \"serial\": \"vdc-disk-6\""), "it must be vdc-disk-5" },
		{ DISK(", \"serial\": null"), "serial" },
		{ DISK(", \"size\": 0"), "size" },
		{ DISK(", \"size\": null"), "\"size\" is missing" },
		{ DISK(", \"size\": -1"), "size" },
		{ DISK(", \"ready\": null"), "\"ready\" is not true or false" },
		{ DISK(", \"ready\": \"true\""), "\"ready\" is not true or false" },
		{ DISK(", \"ready\": 1"), "\"ready\" is not true or false" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vdc_err err = VDC_ERR_INIT, e = { -EINVAL, "" };
		struct hva_desired d;
		char doc[4096];

		snprintf(doc, sizeof(doc), "{\"rev\": 1, \"dc\": \"a\", \"initiator\": \"" IQN ":h\","
			 " \"instances\": [{" BASE ", %s}]}", cases[i].disk);
		assert_int_equal(hva_desired_parse(doc, strlen(doc), &d, &err), 0);
		if (d.n != 1 || !strstr(d.inst[0].err, cases[i].says))
			print_error("case %zu: %s -> '%s'\n", i, cases[i].disk, d.n ? d.inst[0].err : "");
		assert_int_equal(d.n, 1);
		assert_non_null(strstr(d.inst[0].err, cases[i].says));
		assert_non_null(strstr(d.inst[0].err, "malformed"));
		snprintf(e.msg, sizeof(e.msg), "%s", d.inst[0].err);
		check_err(-EINVAL, &e);
		hva_desired_release(&d);
	}
}

/* A disk needs this host's initiator, as volumes do. */
static void test_disk_no_initiator(void **state)
{
	static const char doc[] =
		"{\"rev\": 1, \"dc\": \"a\", \"instances\": [{" BASE ", " DISK("") "},"
		" {\"id\": 6, \"name\": \"y\", \"domain\": \"vdc-6\", \"power\": \"on\", \"cpus\": 1, \"memory_mib\": 64}]}";
	struct vdc_err err = VDC_ERR_INIT;
	struct hva_desired d;

	(void)state;
	assert_int_equal(hva_desired_parse(doc, strlen(doc), &d, &err), 0);
	assert_int_equal(d.n, 2);
	assert_non_null(strstr(d.inst[0].err, "cannot boot from its disk"));
	assert_non_null(strstr(d.inst[0].err, "initiator"));
	assert_string_equal(d.inst[1].err, "");
	hva_desired_release(&d);
}

/* Limits: user-data of 64 KiB passes, one byte more does not. */
/* Live migration: "migrate" on the source, "incoming" on the destination, "pki" of the document. */
#define MIG(extra) "\"migrate\": {\"seq\": 3, \"to\": \"b\", \"uri\": \"qemu+tls://198.51.100.19/system\"," \
	" \"address\": \"198.51.100.19\"" extra "}"
#define PEM_CERT "-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----\\n"   /* in JSON */
#define PEM_KEY "-----BEGIN PRIVATE KEY-----\\nMIGH\\n-----END PRIVATE KEY-----\\n"
#define PEM_CERT_TEXT "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"   /* parsed */
#define PEM_KEY_TEXT "-----BEGIN PRIVATE KEY-----\nMIGH\n-----END PRIVATE KEY-----\n"

static void test_migration(void **state)
{
	static const char doc[] =
		"{\"rev\": 1, \"dc\": \"a\", \"pki\": {\"ca\": \"" PEM_CERT "\", \"cert\": \"" PEM_CERT "\","
		" \"key\": \"" PEM_KEY "\"}, \"instances\": [{" BASE ", " MIG("") "},"
		" {\"id\": 6, \"name\": \"y\", \"domain\": \"vdc-6\", \"power\": \"on\", \"cpus\": 1, \"memory_mib\": 64,"
		" \"incoming\": {\"from\": \"198.51.100.18\"}},"
		" {\"id\": 7, \"name\": \"z\", \"domain\": \"vdc-7\", \"power\": \"on\", \"cpus\": 1, \"memory_mib\": 64,"
		" \"migrate\": null, \"incoming\": null},"
		" {\"id\": 8, \"name\": \"v\", \"domain\": \"vdc-8\", \"power\": \"on\", \"cpus\": 1, \"memory_mib\": 64,"
		" " MIG(", \"initiator\": \"" IQN ":host-b\"") "}]}";
	static const char empty[] = "{\"rev\": 1, \"dc\": \"a\", \"instances\": []}";
	struct vdc_err err = VDC_ERR_INIT;
	struct hva_desired d;

	(void)state;
	assert_int_equal(hva_desired_parse(doc, strlen(doc), &d, &err), 0);
	assert_int_equal(d.n, 4);
	assert_true(d.pki.present);
	assert_string_equal(d.pki.err, "");
	assert_string_equal(d.pki.ca, PEM_CERT_TEXT);
	assert_string_equal(d.pki.cert, PEM_CERT_TEXT);
	assert_string_equal(d.pki.key, PEM_KEY_TEXT);
	assert_string_equal(d.inst[0].err, "");
	assert_true(d.inst[0].migrate.present);
	assert_int_equal(d.inst[0].migrate.seq, 3);
	assert_string_equal(d.inst[0].migrate.to, "b");
	assert_string_equal(d.inst[0].migrate.uri, "qemu+tls://198.51.100.19/system");
	assert_int_equal(d.inst[0].migrate.address, 0xc6336413);
	assert_string_equal(d.inst[0].migrate.initiator, "");
	assert_false(d.inst[0].incoming.present);
	assert_string_equal(d.inst[1].err, "");
	assert_true(d.inst[1].incoming.present);
	assert_int_equal(d.inst[1].incoming.from, 0xc6336412);
	assert_false(d.inst[1].migrate.present);
	/* Null, like absent. */
	assert_string_equal(d.inst[2].err, "");
	assert_false(d.inst[2].migrate.present);
	assert_false(d.inst[2].incoming.present);
	/* The destination's initiator, when sent. */
	assert_string_equal(d.inst[3].err, "");
	assert_string_equal(d.inst[3].migrate.initiator, IQN ":host-b");
	hva_desired_release(&d);

	/* No pki: none (the agent keeps what it has). */
	assert_int_equal(hva_desired_parse(empty, strlen(empty), &d, &err), 0);
	assert_false(d.pki.present);
	assert_string_equal(d.pki.err, "");
	hva_desired_release(&d);
}

static void test_bad_migration(void **state)
{
	static const struct {
		const char *member, *says;
	} cases[] = {
		{ "\"migrate\": 3", "\"migrate\" is neither an object nor null" },
		{ "\"migrate\": {}", "\"migrate\" has no \"seq\"" },
		{ MIG(", \"seq\": 0"), "migrate" },
		{ MIG(", \"seq\": \"3\""), "migrate" },
		{ MIG(", \"seq\": -1"), "migrate" },
		{ MIG(", \"to\": null"), "migrate" },
		{ MIG(", \"to\": \"B b\""), "migrate" },
		{ MIG(", \"uri\": null"), "\"migrate\" has no \"uri\"" },
		{ MIG(", \"uri\": \"qemu+ssh://198.51.100.19/system\""), "qemu+tls://HOST[:PORT]/system" },
		{ MIG(", \"uri\": \"qemu+tls://198.51.100.19/session\""), "qemu+tls://HOST" },
		{ MIG(", \"uri\": \"qemu+tls://198.51.100.19/system?pkipath=/tmp\""), "qemu+tls://HOST" },
		{ MIG(", \"uri\": \"qemu+tls:///system\""), "qemu+tls://HOST" },
		{ MIG(", \"uri\": \"qemu+tls://a'b/system\""), "qemu+tls://HOST" },
		{ MIG(", \"uri\": \"qemu+tls://198.51.100.19:0/system\""), "qemu+tls://HOST" },
		{ MIG(", \"uri\": \"qemu+tls://198.51.100.19:70000/system\""), "qemu+tls://HOST" },
		{ MIG(", \"uri\": \"qemu+tls://h@x/system\""), "qemu+tls://HOST" },
		{ MIG(", \"address\": null"), "\"address\" is missing" },
		{ MIG(", \"address\": \"b\""), "\"address\" is not an IPv4 address" },
		{ MIG(", \"initiator\": 5"), "\"initiator\" is not a string" },
		{ MIG(", \"initiator\": \"eui.02004567a425678d\""), "iSCSI name" },
		{ MIG(", \"initiator\": \"iqn.2026-11.org.vdcfs:X'\""), "iSCSI name" },
		{ "\"incoming\": true", "\"incoming\" is neither an object nor null" },
		{ "\"incoming\": {}", "\"from\" is missing" },
		{ "\"incoming\": {\"from\": \"::1\"}", "\"from\" is not an IPv4 address" },
		{ MIG("") ", \"incoming\": {\"from\": \"198.51.100.18\"}", "one way at a time" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vdc_err err = VDC_ERR_INIT;
		struct hva_desired d;
		char doc[4096];

		snprintf(doc, sizeof(doc), "{\"rev\": 1, \"dc\": \"a\", \"instances\": [{" BASE ", %s}]}", cases[i].member);
		assert_int_equal(hva_desired_parse(doc, strlen(doc), &d, &err), 0);
		if (d.n != 1 || !strstr(d.inst[0].err, cases[i].says))
			print_error("case %zu: %s -> '%s'\n", i, cases[i].member, d.n ? d.inst[0].err : "");
		assert_int_equal(d.n, 1);
		assert_non_null(strstr(d.inst[0].err, cases[i].says));
		assert_non_null(strstr(d.inst[0].err, "malformed"));
		hva_desired_release(&d);
	}
	/* Good URIs: a host name, a port. */
	assert_int_equal(hva_mig_uri_check("qemu+tls://hv2.example/system", 29, &(struct vdc_err)VDC_ERR_INIT), 0);
	assert_int_equal(hva_mig_uri_check("qemu+tls://198.51.100.19:16514/system", 37, &(struct vdc_err)VDC_ERR_INIT), 0);
}

/* A malformed pki is not used (the document is); its err says why. */
static void test_bad_pki(void **state)
{
	static const struct {
		const char *pki, *says;
	} cases[] = {
		{ "\"x\"", "\"pki\" is neither an object nor null" },
		{ "{\"ca\": \"" PEM_CERT "\", \"cert\": \"" PEM_CERT "\"}", "\"pki\" has no \"key\"" },
		{ "{\"ca\": \"" PEM_CERT "\", \"cert\": 5, \"key\": \"" PEM_KEY "\"}", "\"pki\" has no \"cert\"" },
		{ "{\"ca\": \"" PEM_KEY "\", \"cert\": \"" PEM_CERT "\", \"key\": \"" PEM_KEY "\"}",
		  "\"ca\" does not start with -----BEGIN CERTIFICATE-----" },
		{ "{\"ca\": \"" PEM_CERT "\", \"cert\": \"" PEM_CERT "\", \"key\": \"" PEM_CERT "\"}",
		  "\"key\" does not start with -----BEGIN PRIVATE KEY-----" },
		{ "{\"ca\": \"\", \"cert\": \"" PEM_CERT "\", \"key\": \"" PEM_KEY "\"}", "\"ca\" is empty" },
		{ "{\"ca\": \"" PEM_CERT "\\u0001\", \"cert\": \"" PEM_CERT "\", \"key\": \"" PEM_KEY "\"}",
		  "not printable ASCII" },
		{ "{\"ca\": \"" PEM_CERT "\", \"cert\": \"" PEM_CERT "\\u00e9\", \"key\": \"" PEM_KEY "\"}",
		  "not printable ASCII" },
		{ "{\"ca\": \"" PEM_CERT "\", \"cert\": \"" PEM_CERT "\", \"key\": \"" PEM_KEY "\\r\"}",
		  "not printable ASCII" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vdc_err err = VDC_ERR_INIT;
		struct hva_desired d;
		char doc[4096];

		snprintf(doc, sizeof(doc), "{\"rev\": 1, \"dc\": \"a\", \"pki\": %s, \"instances\": [{" BASE "}]}",
			 cases[i].pki);
		assert_int_equal(hva_desired_parse(doc, strlen(doc), &d, &err), 0);
		if (!strstr(d.pki.err, cases[i].says))
			print_error("case %zu: %s -> '%s'\n", i, cases[i].pki, d.pki.err);
		assert_non_null(strstr(d.pki.err, cases[i].says));
		assert_false(d.pki.present);
		assert_null(d.pki.ca);
		assert_null(d.pki.key);
		assert_int_equal(d.n, 1);
		assert_string_equal(d.inst[0].err, "");
		hva_desired_release(&d);
	}
}

static void test_user_data_limit(void **state)
{
	static char doc[HVA_USER_DATA_MAX + 512];
	struct vdc_err err = VDC_ERR_INIT;
	struct hva_desired d;
	int n;

	(void)state;
	n = snprintf(doc, sizeof(doc), "{\"rev\": 1, \"dc\": \"a\", \"instances\": [{" BASE ", \"user_data\": \"");
	memset(doc + n, 'u', HVA_USER_DATA_MAX);
	snprintf(doc + n + HVA_USER_DATA_MAX, sizeof(doc) - (size_t)n - HVA_USER_DATA_MAX, "\"}]}");
	assert_int_equal(hva_desired_parse(doc, strlen(doc), &d, &err), 0);
	assert_string_equal(d.inst[0].err, "");
	assert_int_equal(d.inst[0].user_data_len, HVA_USER_DATA_MAX);
	hva_desired_release(&d);

	n = snprintf(doc, sizeof(doc), "{\"rev\": 1, \"dc\": \"a\", \"instances\": [{" BASE ", \"user_data\": \"");
	memset(doc + n, 'u', HVA_USER_DATA_MAX + 1);
	snprintf(doc + n + HVA_USER_DATA_MAX + 1, sizeof(doc) - (size_t)n - HVA_USER_DATA_MAX - 1, "\"}]}");
	assert_int_equal(hva_desired_parse(doc, strlen(doc), &d, &err), 0);
	assert_non_null(strstr(d.inst[0].err, "user-data"));
	hva_desired_release(&d);
}

/* The same id or domain twice: the first wins, the second is an error. */
static void test_duplicates(void **state)
{
	static const char doc[] =
		"{\"rev\": 1, \"dc\": \"a\", \"instances\": ["
		"{\"id\": 5, \"name\": \"x\", \"domain\": \"vdc-5\", \"power\": \"on\", \"cpus\": 1, \"memory_mib\": 64},"
		"{\"id\": 5, \"name\": \"y\", \"domain\": \"vdc-6\", \"power\": \"on\", \"cpus\": 1, \"memory_mib\": 64},"
		"{\"id\": 7, \"name\": \"z\", \"domain\": \"vdc-5\", \"power\": \"on\", \"cpus\": 1, \"memory_mib\": 64},"
		"{\"id\": 8, \"name\": \"w\", \"domain\": \"vdc-8\", \"power\": \"on\", \"cpus\": 1, \"memory_mib\": 64},"
		"17]}";
	struct vdc_err err = VDC_ERR_INIT;
	struct hva_desired d;

	(void)state;
	assert_int_equal(hva_desired_parse(doc, strlen(doc), &d, &err), 0);
	assert_int_equal(d.n, 4);
	assert_string_equal(d.inst[0].err, "");
	assert_non_null(strstr(d.inst[1].err, "twice"));
	assert_non_null(strstr(d.inst[2].err, "twice"));
	assert_string_equal(d.inst[3].err, "");
	hva_desired_release(&d);
}

static void test_sha_and_format(void **state)
{
	static const char doc[] =
		"{\"rev\": 1, \"dc\": \"a\", \"instances\": [{" BASE ", \"image\": {\"name\": \"t\","
		" \"sha256\": \"9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08\","
		" \"format\": \"qcow2\"}}, {\"id\": 6, \"name\": \"y\", \"domain\": \"vdc-6\","
		" \"power\": \"on\", \"cpus\": 1, \"memory_mib\": 64, \"image\": {\"name\": \"t\","
		" \"sha256\": \"" SHA "\"}}]}";
	struct vdc_err err = VDC_ERR_INIT;
	struct hva_desired d;

	(void)state;
	assert_int_equal(hva_desired_parse(doc, strlen(doc), &d, &err), 0);
	assert_string_equal(d.inst[0].image.sha256, SHA);
	assert_int_equal(d.inst[0].image.format, VDC_IMAGE_FORMAT_QCOW2);
	assert_int_equal(d.inst[1].image.format, VDC_IMAGE_FORMAT_NONE);
	assert_int_equal(d.inst[1].image.size, 0);
	assert_false(d.inst[0].image.pending);
	assert_string_equal(vdc_image_format_name(VDC_IMAGE_FORMAT_QCOW2), "qcow2");
	assert_null(vdc_image_format_name(VDC_IMAGE_FORMAT_NONE));
	hva_desired_release(&d);
}

/*
 * One instance that breaks a limit among good ones: the good ones are
 * parsed, the bad one keeps its id with the reason, and the document as a
 * whole is taken (issue 11: one tenant must not stop a host for all).
 */
static void test_one_bad_among_good(void **state)
{
	struct strbuf doc = STRBUF_INIT;
	struct vdc_err err = VDC_ERR_INIT;
	struct hva_desired d;
	int i;

	(void)state;
	strbuf_addstr(&doc, "{\"rev\": 1, \"dc\": \"a\", \"instances\": [{" BASE "},"
		      " {\"id\": 6, \"name\": \"many\", \"domain\": \"vdc-6\", \"power\": \"on\", \"cpus\": 1,"
		      " \"memory_mib\": 64, \"nics\": [");
	for (i = 0; i <= HVA_NICS_MAX; i++)
		strbuf_addf(&doc, "%s{\"name\": \"eth%d\", \"mac\": \"52:54:00:00:01:%02x\"}", i ? ", " : "", i, i);
	strbuf_addstr(&doc, "]}, {\"id\": 7, \"name\": \"big\", \"domain\": \"vdc-7\", \"power\": \"on\","
		      " \"cpus\": 1, \"memory_mib\": 64, \"volumes\": []},"
		      " {\"id\": 8, \"name\": \"fat\", \"domain\": \"vdc-8\", \"power\": \"on\", \"cpus\": 1,"
		      " \"memory_mib\": 999999999}]}");
	assert_int_equal(hva_desired_parse(doc.buf, doc.len, &d, &err), 0);
	assert_int_equal(d.n, 4);
	assert_string_equal(d.inst[0].err, "");
	assert_non_null(strstr(d.inst[1].err, "17 interfaces; at most 16"));
	assert_int_equal(d.inst[1].id, 6);
	assert_string_equal(d.inst[2].err, "");
	assert_string_equal(d.inst[2].name, "big");
	assert_non_null(strstr(d.inst[3].err, "memory_mib"));
	hva_desired_release(&d);
	strbuf_release(&doc);
}

/*
 * More networks or security groups than a host takes: the document is
 * still taken; the entries past the limit are refused with the reason,
 * and so are the instances on them alone.
 */
static void test_host_limits(void **state)
{
	struct strbuf doc = STRBUF_INIT;
	struct vdc_err err = VDC_ERR_INIT;
	struct hva_desired d;
	int i, rc;

	(void)state;
	strbuf_addstr(&doc, "{\"rev\": 1, \"dc\": \"a\", \"instances\": ["
		      "{" BASE ", \"nics\": [{\"id\": 1, \"name\": \"eth0\", \"mac\": \"52:54:00:00:00:01\","
		      " \"network\": \"n0\"}], \"security_groups\": [\"g0\"]},"
		      " {\"id\": 6, \"name\": \"y\", \"domain\": \"vdc-6\", \"power\": \"on\", \"cpus\": 1, \"memory_mib\": 64,"
		      " \"nics\": [{\"id\": 2, \"name\": \"eth0\", \"mac\": \"52:54:00:00:00:02\", \"network\": \"n256\"}]},"
		      " {\"id\": 7, \"name\": \"z\", \"domain\": \"vdc-7\", \"power\": \"on\", \"cpus\": 1, \"memory_mib\": 64,"
		      " \"security_groups\": [\"g1024\"]}], \"networks\": [");
	for (i = 0; i <= HVA_NETWORKS_MAX; i++)
		strbuf_addf(&doc, "%s{\"name\": \"n%d\", \"vni\": %d, \"cidr\": \"10.%d.%d.0/24\", \"gateway\": \"10.%d.%d.1\","
			    " \"dhcp\": true, \"server\": \"10.%d.%d.2\", \"server_mac\": \"52:54:01:00:00:01\"}",
			    i ? ", " : "", i, i + 1, i / 256, i % 256, i / 256, i % 256, i / 256, i % 256);
	strbuf_addstr(&doc, "], \"security_groups\": [");
	for (i = 0; i <= HVA_DOC_GROUPS_MAX; i++)
		strbuf_addf(&doc, "%s{\"name\": \"g%d\", \"rules\": \"in tcp 22 0.0.0.0/0\\n\"}", i ? ", " : "", i);
	strbuf_addstr(&doc, "]}");
	assert_int_equal(hva_desired_parse(doc.buf, doc.len, &d, &err), 0);
	assert_int_equal(d.n, 3);
	assert_int_equal(d.n_networks, HVA_NETWORKS_MAX + 1);
	assert_string_equal(d.networks[HVA_NETWORKS_MAX - 1].err, "");
	assert_non_null(strstr(d.networks[HVA_NETWORKS_MAX].err, "at most 256 networks"));
	assert_int_equal(d.n_groups, HVA_DOC_GROUPS_MAX + 1);
	assert_string_equal(d.groups[0].err, "");
	assert_non_null(strstr(d.groups[HVA_DOC_GROUPS_MAX].err, "at most 1024 security groups"));
	/* The instance on n0 and in g0 is fine. */
	assert_string_equal(d.inst[0].err, "");
	assert_int_equal(hva_instance_networks_ok(&d.inst[0], &err), 0);
	/* The one on n256 cannot start there, and says why. */
	rc = hva_instance_networks_ok(&d.inst[1], &err);
	assert_int_equal(rc, -EINVAL);
	check_err(rc, &err);
	assert_non_null(strstr(err.msg, "at most 256 networks"));
	/* The one in g1024 is refused with the group's reason. */
	assert_non_null(strstr(d.inst[2].err, "security group g1024"));
	assert_non_null(strstr(d.inst[2].err, "at most 1024 security groups"));
	hva_desired_release(&d);
	strbuf_release(&doc);
}

/* An image without "sha256" (or null): vdcfs is computing it; the entry is fine and waits. */
static void test_image_pending(void **state)
{
	static const char doc[] =
		"{\"rev\": 1, \"dc\": \"a\", \"instances\": [{" BASE ", \"image\": {\"name\": \"big\", \"size\": 2147483648,"
		" \"format\": \"raw\"}}, {\"id\": 6, \"name\": \"y\", \"domain\": \"vdc-6\", \"power\": \"on\","
		" \"cpus\": 1, \"memory_mib\": 64, \"image\": {\"name\": \"big\", \"sha256\": null}}]}";
	struct vdc_err err = VDC_ERR_INIT;
	struct hva_desired d;

	(void)state;
	assert_int_equal(hva_desired_parse(doc, strlen(doc), &d, &err), 0);
	assert_string_equal(d.inst[0].err, "");
	assert_true(d.inst[0].image.present);
	assert_true(d.inst[0].image.pending);
	assert_string_equal(d.inst[0].image.name, "big");
	assert_string_equal(d.inst[0].image.sha256, "");
	assert_string_equal(d.inst[1].err, "");
	assert_true(d.inst[1].image.pending);
	hva_desired_release(&d);
}

/*
 * More nics on networks than a host's firewall fences: the instances
 * past the limit are refused one by one, those before it are not.
 */
static void test_host_nics(void **state)
{
	struct strbuf doc = STRBUF_INIT;
	struct vdc_err err = VDC_ERR_INIT;
	struct hva_desired d;
	size_t i, full = HVA_HOST_NICS_MAX / HVA_NICS_MAX, nic = 1;
	int k;

	(void)state;
	strbuf_addstr(&doc, "{\"rev\": 1, \"dc\": \"a\", \"instances\": [");
	for (i = 0; i <= full; i++) {
		strbuf_addf(&doc, "%s{\"id\": %zu, \"name\": \"i%zu\", \"domain\": \"vdc-%zu\", \"power\": \"on\","
			    " \"cpus\": 1, \"memory_mib\": 64, \"nics\": [", i ? ", " : "", i + 1, i, i + 1);
		for (k = 0; k < HVA_NICS_MAX; k++, nic++)
			strbuf_addf(&doc, "%s{\"id\": %zu, \"name\": \"eth%d\", \"mac\": \"52:54:00:%02zx:%02zx:%02zx\","
				    " \"network\": \"n%d\"}", k ? ", " : "", nic, k, (nic >> 16) & 0xff, (nic >> 8) & 0xff,
				    nic & 0xff, k);
		strbuf_addstr(&doc, "]}");
	}
	strbuf_addstr(&doc, "]}");
	assert_int_equal(hva_desired_parse(doc.buf, doc.len, &d, &err), 0);
	assert_int_equal(d.n, full + 1);
	assert_string_equal(d.inst[0].err, "");
	assert_string_equal(d.inst[full - 1].err, "");
	assert_non_null(strstr(d.inst[full].err, "this host fences at most 32767 nics on networks"));
	hva_desired_release(&d);
	strbuf_release(&doc);
}

static void test_mac(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	char mac[18];
	int rc;

	(void)state;
	assert_int_equal(hva_mac_parse("52:54:00:00:00:0C", mac, &err), 0);
	assert_string_equal(mac, "52:54:00:00:00:0c");
	assert_int_equal(hva_mac_parse("fe:ff:ff:ff:ff:ff", mac, &err), 0);
	rc = hva_mac_parse("ff:ff:ff:ff:ff:ff", mac, &err);
	assert_int_equal(rc, -EINVAL);
	check_err(rc, &err);
	rc = hva_mac_parse("52-54-00-00-00-0c", mac, &err);
	assert_int_equal(rc, -EINVAL);
	check_err(rc, &err);
	rc = hva_mac_parse("52:54:00:00:00:0c:", mac, &err);
	assert_int_equal(rc, -EINVAL);
	check_err(rc, &err);
	rc = hva_mac_parse("", mac, &err);
	assert_int_equal(rc, -EINVAL);
	check_err(rc, &err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_refused_documents),
		cmocka_unit_test(test_bad_entries),
		cmocka_unit_test(test_user_data_limit),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_sha_and_format),
		cmocka_unit_test(test_mac),
		cmocka_unit_test(test_volumes),
		cmocka_unit_test(test_volume_portals),
		cmocka_unit_test(test_bad_volumes),
		cmocka_unit_test(test_no_initiator),
		cmocka_unit_test(test_disk),
		cmocka_unit_test(test_bad_disks),
		cmocka_unit_test(test_disk_no_initiator),
		cmocka_unit_test(test_migration),
		cmocka_unit_test(test_bad_migration),
		cmocka_unit_test(test_bad_pki),
		cmocka_unit_test(test_one_bad_among_good),
		cmocka_unit_test(test_host_limits),
		cmocka_unit_test(test_image_pending),
		cmocka_unit_test(test_host_nics),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
