/*
 * Unit tests for vdc-hva's security groups (agents/hva/firewall.c): the
 * nftables ruleset made from a desired state, against golden files
 * (tests/unit/golden/hva-fw-*.nft; VDC_REGENERATE=1 rewrites them). The
 * golden files are loaded into a kernel by the integration tests
 * (98-hva-networks.t), which is where nft's own checks run.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "desired.h"
#include "firewall.h"
#include "golden.h"
#include "unit.h"

/*
 * Two instances on one network of this host: web1 (eth0, and eth1 on a
 * second network that has no address for it yet) in groups web and
 * admin, db1 in group db, whose rules name group web; one peer host.
 */
static const char desired[] =
	"{\"rev\": 1, \"dc\": \"8d7f-0a1b\", \"instances\": ["
	" {\"id\": 12, \"name\": \"web1\", \"domain\": \"vdc-12\", \"power\": \"on\", \"cpus\": 1,"
	"  \"memory_mib\": 256, \"nics\": ["
	"   {\"id\": 40, \"name\": \"eth0\", \"mac\": \"52:54:00:00:00:28\", \"network\": \"net1\", \"ip\": \"192.0.2.2\"},"
	"   {\"id\": 41, \"name\": \"eth1\", \"mac\": \"52:54:00:00:00:29\", \"network\": \"back\", \"ip\": null}],"
	"  \"security_groups\": [\"web\", \"admin\"]},"
	" {\"id\": 13, \"name\": \"db1\", \"domain\": \"vdc-13\", \"power\": \"on\", \"cpus\": 1,"
	"  \"memory_mib\": 256, \"nics\": ["
	"   {\"id\": 44, \"name\": \"eth0\", \"mac\": \"52:54:00:00:00:2c\", \"network\": \"net1\", \"ip\": \"192.0.2.3\"}],"
	"  \"security_groups\": [\"db\"]},"
	" {\"id\": 14, \"name\": \"plain\", \"domain\": \"vdc-14\", \"power\": \"off\", \"cpus\": 1,"
	"  \"memory_mib\": 256, \"nics\": [{\"name\": \"eth0\", \"mac\": \"52:54:00:00:00:30\", \"network\": null}]}"
	"],"
	" \"networks\": ["
	"  {\"name\": \"net1\", \"vni\": 12, \"cidr\": \"192.0.2.0/24\", \"gateway\": \"192.0.2.1\", \"dhcp\": true,"
	"   \"dns\": [], \"server\": \"192.0.2.254\", \"server_mac\": \"52:54:01:00:00:0c\","
	"   \"peers\": [\"198.51.100.19\"],"
	"   \"remote\": [{\"mac\": \"52:54:00:00:00:31\", \"ip\": \"192.0.2.4\", \"peer\": \"198.51.100.19\"}]},"
	"  {\"name\": \"back\", \"vni\": 70000, \"cidr\": \"203.0.113.0/28\", \"gateway\": \"203.0.113.1\","
	"   \"dhcp\": false, \"server\": \"203.0.113.14\", \"server_mac\": \"52:54:01:01:11:70\"}],"
	" \"security_groups\": ["
	"  {\"name\": \"web\", \"rules\": \"in tcp 80 0.0.0.0/0\\nin tcp 8000-8080 198.51.100.0/24\\n"
	"in icmp - 192.0.2.0/24\\n\", \"members\": [\"192.0.2.4\", \"192.0.2.2\"]},"
	"  {\"name\": \"admin\", \"rules\": \"# from the bastion only\\nin tcp 22 198.51.100.7/32\\n"
	"out udp 53 192.0.2.53/32\\nout any - sg:db-main\\n\", \"members\": [\"192.0.2.2\"]},"
	"  {\"name\": \"db\", \"rules\": \"in tcp 5432 sg:web\\nin any - sg:db\\n\", \"members\": [\"192.0.2.3\"]},"
	"  {\"name\": \"db-main\", \"rules\": \"\", \"members\": [\"192.0.2.3\"]}"
	" ]}";

static void test_ruleset(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct strbuf out = STRBUF_INIT;
	struct hva_desired d;

	(void)state;
	assert_int_equal(hva_desired_parse(desired, strlen(desired), &d, &err), 0);
	assert_string_equal(d.inst[0].err, "");
	assert_string_equal(d.networks[1].err, "");
	assert_int_equal(hva_fw_script(&d, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", &out,
				       &err), 0);
	golden_check("hva-fw-ruleset.nft", out.buf, out.len);
	strbuf_release(&out);
	hva_desired_release(&d);
}

/* No nic on a network: both tables are still whole, with nothing to fence. */
static void test_empty(void **state)
{
	static const char doc[] = "{\"rev\": 1, \"dc\": \"8d7f\", \"instances\": []}";
	struct vdc_err err = VDC_ERR_INIT;
	struct strbuf out = STRBUF_INIT;
	struct hva_desired d;

	(void)state;
	assert_int_equal(hva_desired_parse(doc, strlen(doc), &d, &err), 0);
	assert_int_equal(hva_fw_script(&d, NULL, &out, &err), 0);
	golden_check("hva-fw-empty.nft", out.buf, out.len);
	strbuf_release(&out);
	hva_desired_release(&d);
}

/*
 * Instances arriving live (entries with "incoming", one without any nic):
 * qemu's migration ports take new connections only from their sources.
 */
static void test_incoming(void **state)
{
	static const char doc[] =
		"{\"rev\": 1, \"dc\": \"8d7f\", \"instances\": ["
		" {\"id\": 12, \"name\": \"web1\", \"domain\": \"vdc-12\", \"power\": \"on\", \"cpus\": 1,"
		"  \"memory_mib\": 256, \"incoming\": {\"from\": \"198.51.100.18\"}},"
		" {\"id\": 13, \"name\": \"web2\", \"domain\": \"vdc-13\", \"power\": \"on\", \"cpus\": 1,"
		"  \"memory_mib\": 256, \"incoming\": {\"from\": \"198.51.100.20\"}},"
		" {\"id\": 14, \"name\": \"web3\", \"domain\": \"vdc-14\", \"power\": \"on\", \"cpus\": 1,"
		"  \"memory_mib\": 256, \"incoming\": {\"from\": \"198.51.100.18\"}},"
		" {\"id\": 15, \"name\": \"web4\", \"domain\": \"vdc-15\", \"power\": \"on\", \"cpus\": 1,"
		"  \"memory_mib\": 256}]}";
	struct vdc_err err = VDC_ERR_INIT;
	struct strbuf out = STRBUF_INIT;
	struct hva_desired d;

	(void)state;
	assert_int_equal(hva_desired_parse(doc, strlen(doc), &d, &err), 0);
	assert_int_equal(hva_fw_script(&d, NULL, &out, &err), 0);
	golden_check("hva-fw-incoming.nft", out.buf, out.len);
	assert_non_null(strstr(out.buf, "elements = { 198.51.100.18, 198.51.100.20 }"));
	assert_non_null(strstr(out.buf, "tcp dport 49152-49215 ip saddr @migrate_from accept"));
	strbuf_release(&out);
	hva_desired_release(&d);
}

/* The same desired state gives the same text, whatever order vdcfs listed things in. */
static void test_canonical(void **state)
{
	static const char a[] =
		"{\"rev\": 1, \"dc\": \"x\", \"instances\": ["
		" {\"id\": 2, \"name\": \"b\", \"domain\": \"vdc-2\", \"power\": \"on\", \"cpus\": 1, \"memory_mib\": 64,"
		"  \"nics\": [{\"id\": 9, \"name\": \"eth0\", \"mac\": \"52:54:00:00:00:09\", \"network\": \"n\", \"ip\": \"192.0.2.9\"}]},"
		" {\"id\": 1, \"name\": \"a\", \"domain\": \"vdc-1\", \"power\": \"on\", \"cpus\": 1, \"memory_mib\": 64,"
		"  \"nics\": [{\"id\": 5, \"name\": \"eth0\", \"mac\": \"52:54:00:00:00:05\", \"network\": \"n\", \"ip\": \"192.0.2.5\"}],"
		"  \"security_groups\": [\"g\"]}],"
		" \"networks\": [{\"name\": \"n\", \"vni\": 3, \"cidr\": \"192.0.2.0/24\", \"gateway\": \"192.0.2.1\","
		"  \"dhcp\": true, \"server\": \"192.0.2.254\", \"server_mac\": \"52:54:01:00:00:03\","
		"  \"peers\": [\"198.51.100.9\", \"198.51.100.8\"]}],"
		" \"security_groups\": [{\"name\": \"g\", \"rules\": \"in tcp 1 sg:g\", \"members\": [\"192.0.2.9\", \"192.0.2.5\"]}]}";
	static const char b[] =
		"{\"rev\": 2, \"dc\": \"x\", \"instances\": ["
		" {\"id\": 1, \"name\": \"a\", \"domain\": \"vdc-1\", \"power\": \"on\", \"cpus\": 1, \"memory_mib\": 64,"
		"  \"nics\": [{\"id\": 5, \"name\": \"eth0\", \"mac\": \"52:54:00:00:00:05\", \"network\": \"n\", \"ip\": \"192.0.2.5\"}],"
		"  \"security_groups\": [\"g\"]},"
		" {\"id\": 2, \"name\": \"b\", \"domain\": \"vdc-2\", \"power\": \"on\", \"cpus\": 1, \"memory_mib\": 64,"
		"  \"nics\": [{\"id\": 9, \"name\": \"eth0\", \"mac\": \"52:54:00:00:00:09\", \"network\": \"n\", \"ip\": \"192.0.2.9\"}]}],"
		" \"networks\": [{\"name\": \"n\", \"vni\": 3, \"cidr\": \"192.0.2.0/24\", \"gateway\": \"192.0.2.1\","
		"  \"dhcp\": true, \"server\": \"192.0.2.254\", \"server_mac\": \"52:54:01:00:00:03\","
		"  \"peers\": [\"198.51.100.8\", \"198.51.100.9\"]}],"
		" \"security_groups\": [{\"name\": \"g\", \"rules\": \"in tcp 1 sg:g\", \"members\": [\"192.0.2.5\", \"192.0.2.9\"]}]}";
	struct vdc_err err = VDC_ERR_INIT;
	struct strbuf x = STRBUF_INIT, y = STRBUF_INIT;
	struct hva_desired d;

	(void)state;
	assert_int_equal(hva_desired_parse(a, strlen(a), &d, &err), 0);
	assert_int_equal(hva_fw_script(&d, NULL, &x, &err), 0);
	hva_desired_release(&d);
	assert_int_equal(hva_desired_parse(b, strlen(b), &d, &err), 0);
	assert_int_equal(hva_fw_script(&d, NULL, &y, &err), 0);
	hva_desired_release(&d);
	assert_string_equal(x.buf, y.buf);
	strbuf_release(&x);
	strbuf_release(&y);
}

/* A data center id becomes a table name nft takes: '-' as '_'. */
static void test_table_name(void **state)
{
	char name[HVA_DC_MAX + 5];

	(void)state;
	hva_fw_table_name("8d7f-0a-1b", name, sizeof(name));
	assert_string_equal(name, "vdc_8d7f_0a_1b");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ruleset),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_incoming),
		cmocka_unit_test(test_canonical),
		cmocka_unit_test(test_table_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
