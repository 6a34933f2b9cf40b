/*
 * Unit tests for virtual networks on the vdcfs side (backend/network.c,
 * docs/networks.md): overlay ids, the addresses of nics (lowest free,
 * pinned, kept, released, moved when the network changes), the checks
 * that refuse conflicts, and the networks and security groups of a
 * hypervisor's desired state, with the real kinds of vdcfs/ and the real
 * sqlite store in a private mkdtemp() directory. Hypervisors are played
 * as in test_placement.c. The write lock is held through each test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "network.h"
#include "store.h"
#include "unit_model.h"
#include "wire.h"

static char dir[256];

static int setup(void **state)
{
	(void)state;
	return unit_model_setup(dir, sizeof(dir), "networks");
}

static int teardown(void **state)
{
	(void)state;
	return unit_model_teardown(dir);
}

/* ---- helpers ---- */

static int try_set(struct vdc_obj *o, const char *name, const char *value, struct vdc_err *err)
{
	return vdc_attr_set(o, (unsigned)unit_attr(o, name), value, strlen(value), err);
}

static struct vdc_obj *make(const struct vdc_kind *k, struct vdc_obj *parent, const char *name)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_obj *o;

	assert_int_equal(vdc_obj_create(k, parent, name, strlen(name), 0, 0, &o, &err), 0);
	return o;
}

static struct vdc_obj *network(const char *name, const char *cidr)
{
	struct vdc_obj *n = make(&vdc_kind_networks, NULL, name);

	if (cidr)
		unit_set(n, "cidr", cidr);
	return n;
}

/* Instance NAME with nic eth0 (linked to NET when given). */
static struct vdc_obj *instance(const char *name, const char *net)
{
	struct vdc_obj *i = unit_find(&vdc_kind_instances, name), *nic;
	struct vdc_err err = VDC_ERR_INIT;

	if (!i)
		i = make(&vdc_kind_instances, NULL, name);
	nic = make(&vdc_kind_nics, i, "eth0");
	if (net)
		assert_int_equal(vdc_link_set(nic, (unsigned)unit_attr(nic, "network"), net, 0, &err), 0);
	return i;
}

static struct vdc_obj *nic_of(const char *inst)
{
	struct vdc_obj *i = unit_find(&vdc_kind_instances, inst);

	assert_non_null(i);
	return vdc_obj_find(&vdc_kind_nics, i, "eth0", 4);
}

/* run/ip of the nic of `inst`, without its newline; "" for none. */
static const char *ip_of(const char *inst)
{
	static char buf[32];
	struct strbuf s = STRBUF_INIT;

	vdc_nic_show_ip(nic_of(inst), &s);
	snprintf(buf, sizeof(buf), "%.*s", s.len ? (int)s.len - 1 : 0, s.buf ? s.buf : "");
	strbuf_release(&s);
	return buf;
}

static void show(void (*fn)(const struct vdc_obj *, struct strbuf *), const struct vdc_obj *o, const char *want)
{
	struct strbuf s = STRBUF_INIT;

	fn(o, &s);
	assert_string_equal(s.len ? s.buf : "", want);
	strbuf_release(&s);
}

static void join_group(struct vdc_obj *inst, const char *group)
{
	struct vdc_err err = VDC_ERR_INIT;
	unsigned dir_ = 0;

	while (strcmp(inst->kind->reldirs[dir_].name, "security-groups"))
		dir_++;
	assert_int_equal(vdc_rel_add(inst, dir_, group, strlen(group), group, 0, &err), 0);
}

/*
 * A security group takes at most VDC_GROUP_INSTANCES_MAX members, so the
 * addresses every host of a member is told stay within what vdc-hva
 * takes (backend/vdc_limits.h): one more is ENOSPC with a sentence.
 */
static void test_group_members_limit(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_obj *extra;
	unsigned dir_ = 0;
	char name[32];
	int i, rc;

	(void)state;
	make(&vdc_kind_security_groups, NULL, "big");
	for (i = 0; i < VDC_GROUP_INSTANCES_MAX; i++) {
		snprintf(name, sizeof(name), "i%d", i);
		join_group(make(&vdc_kind_instances, NULL, name), "big");
	}
	extra = make(&vdc_kind_instances, NULL, "extra");
	while (strcmp(extra->kind->reldirs[dir_].name, "security-groups"))
		dir_++;
	rc = vdc_rel_add(extra, dir_, "big", 3, "big", 0, &err);
	assert_int_equal(rc, -ENOSPC);
	check_err(rc, &err);
	assert_non_null(strstr(err.msg, "security group big has 4096 members already"));
	assert_int_equal(extra->rel[dir_].n, 0);
}

/* ---- tests ---- */

/* The reserved addresses: the gateway (default the first) and the DHCP server (the last but the gateway). */
static void test_reserved(void **state)
{
	uint32_t gw, server;

	(void)state;
	vdc_network_reserved(0xc0000200, 24, 0, &gw, &server);
	assert_int_equal(gw, 0xc0000201);
	assert_int_equal(server, 0xc00002fe);
	vdc_network_reserved(0xc0000200, 24, 0xc00002fe, &gw, &server);
	assert_int_equal(gw, 0xc00002fe);
	assert_int_equal(server, 0xc00002fd);
	vdc_network_reserved(0xcb007100, 30, 0, &gw, &server);
	assert_int_equal(gw, 0xcb007101);
	assert_int_equal(server, 0xcb007102);
}

/* Each network gets an overlay id of its own, kept across restarts. */
static void test_vni(void **state)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT, again = STRBUF_INIT;

	(void)state;
	network("net1", NULL);
	network("net2", "198.51.100.0/24");
	vdc_network_show_vni(unit_find(&vdc_kind_networks, "net1"), &a);
	vdc_network_show_vni(unit_find(&vdc_kind_networks, "net2"), &b);
	assert_true(a.len > 1);
	assert_string_not_equal(a.buf, b.buf);
	assert_string_equal(unit_find(&vdc_kind_networks, "net1")->state, "defined");
	assert_string_equal(unit_find(&vdc_kind_networks, "net2")->state, "available");
	show(vdc_network_show_dhcp_server, unit_find(&vdc_kind_networks, "net1"), "");
	show(vdc_network_show_dhcp_server, unit_find(&vdc_kind_networks, "net2"), "198.51.100.254\n");
	unit_model_reopen(dir);
	vdc_network_show_vni(unit_find(&vdc_kind_networks, "net1"), &again);
	assert_string_equal(again.buf, a.buf);
	strbuf_release(&a);
	strbuf_release(&b);
	strbuf_release(&again);
}

/* Lowest free addresses, never the reserved ones; kept across a restart; released on unlink and rmdir. */
static void test_addresses(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_obj *nic;

	(void)state;
	network("net1", "192.0.2.0/29");
	instance("a", "net1");
	instance("b", "net1");
	instance("c", "net1");
	assert_string_equal(ip_of("a"), "192.0.2.2");
	assert_string_equal(ip_of("b"), "192.0.2.3");
	assert_string_equal(ip_of("c"), "192.0.2.4");
	show(vdc_instance_show_ip, unit_find(&vdc_kind_instances, "b"), "192.0.2.3\n");
	unit_model_reopen(dir);
	assert_string_equal(ip_of("a"), "192.0.2.2");
	assert_string_equal(ip_of("c"), "192.0.2.4");
	/* /29: .2 to .5 for nics (.1 gateway, .6 DHCP server); the fifth has none. */
	instance("d", "net1");
	instance("e", "net1");
	assert_string_equal(ip_of("d"), "192.0.2.5");
	assert_string_equal(ip_of("e"), "");
	assert_non_null(strstr(nic_of("e")->err, "no free address"));
	/* b leaves: its address goes to e, which was waiting. */
	nic = nic_of("b");
	assert_int_equal(vdc_link_clear(nic, (unsigned)unit_attr(nic, "network"), &err), 0);
	assert_string_equal(ip_of("b"), "");
	assert_string_equal(ip_of("e"), "192.0.2.3");
	assert_null(nic_of("e")->err);
	/* rmdir of an instance releases its nics' addresses. */
	assert_int_equal(vdc_obj_destroy(unit_find(&vdc_kind_instances, "a"), &err), 0);
	instance("f", "net1");
	assert_string_equal(ip_of("f"), "192.0.2.2");
}

/* Place `inst` on hypervisor host "ha" (joined on the first call). */
static void place_on_host(struct vdc_obj *inst)
{
	struct vdc_err err = VDC_ERR_INIT;
	char token[65];

	if (!vdc_host_find("ha"))
		assert_int_equal(vdc_host_join("ha", VDC_ROLE_HVA, token, &err), 0);
	assert_int_equal(vdc_place_set(inst, "ha", &err), 0);
}

/* A nic's attribute `attr`, without its newline. */
static const char *attr_of(const char *inst, const char *attr)
{
	static char buf[64];
	size_t len;
	const char *v = vdc_attr_value(nic_of(inst), (unsigned)unit_attr(nic_of(inst), attr), &len);

	snprintf(buf, sizeof(buf), "%.*s", (int)len, v);
	return buf;
}

/* run/mac of the nic of `inst`, without its newline. */
static const char *mac_of(const char *inst)
{
	static char buf[VDC_MAC_TEXT];

	vdc_nic_mac(nic_of(inst), buf);
	return buf;
}

static void test_mac(void **state)
{
	struct strbuf s = STRBUF_INIT;
	struct vdc_err err = VDC_ERR_INIT;
	char mac[18], want[20], a_mac[VDC_MAC_TEXT];
	static const char *const bad[] = { "03:00:00:00:00:01", "00:00:00:00:00:00", "52:54:01:00:00:07",
					   "52:54:00:00:00", "52-54-00-00-00-01", "52:54:00:00:00:0g", "x" };
	unsigned i;
	int rc;

	(void)state;
	instance("a", NULL);
	vdc_nic_mac(nic_of("a"), mac);
	assert_int_equal(strncmp(mac, "52:54:00:", 9), 0);
	vdc_nic_show_mac(nic_of("a"), &s);
	snprintf(want, sizeof(want), "%s\n", mac);
	assert_string_equal(s.buf, want);
	strbuf_release(&s);
	/* Written down when the nic is made, so an archive carries it. */
	assert_string_equal(attr_of("a", "mac"), mac);
	snprintf(a_mac, sizeof(a_mac), "%s", mac);
	/* A free MAC is taken as written (either case); bad ones change nothing. */
	unit_set(nic_of("a"), "mac", "02:AA:00:00:00:01");
	assert_string_equal(mac_of("a"), "02:aa:00:00:00:01");
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		rc = try_set(nic_of("a"), "mac", bad[i], &err);
		check_err(rc, &err);
		assert_int_equal(rc, -EINVAL);
		assert_string_equal(mac_of("a"), "02:aa:00:00:00:01");
	}
	/* Empty: one is chosen (the one it has, as for ip) and written down. */
	unit_set(nic_of("a"), "mac", "");
	assert_string_equal(mac_of("a"), "02:aa:00:00:00:01");
	assert_string_equal(attr_of("a", "mac"), mac_of("a"));
	snprintf(a_mac, sizeof(a_mac), "%s", mac_of("a"));
	/* A copy wants a's MAC: it keeps a fresh one while a has it, and says why. */
	instance("b", NULL);
	unit_set(nic_of("b"), "mac", a_mac);
	assert_string_equal(attr_of("b", "mac"), a_mac);
	assert_string_not_equal(mac_of("b"), a_mac);
	assert_string_equal(mac_of("a"), a_mac);
	assert_non_null(strstr(nic_of("b")->err, "in use by instances/a/nics/eth0"));
	/* A new nic never gets a MAC another has or wants. */
	instance("c", NULL);
	assert_string_not_equal(mac_of("c"), a_mac);
	snprintf(want, sizeof(want), "%s", mac_of("b"));
	assert_string_not_equal(mac_of("c"), want);
	/* b powered on while a is off: b takes its MAC, a (never started) another. */
	unit_set(unit_find(&vdc_kind_instances, "b"), "power", "on");
	assert_string_equal(mac_of("b"), a_mac);
	assert_string_not_equal(mac_of("a"), a_mac);
	assert_null(nic_of("b")->err);
	assert_non_null(strstr(nic_of("a")->err, "in use by instances/b/nics/eth0"));
	/* a powered on now: b's guest has the MAC, so a keeps its own and writes it down. */
	unit_set(unit_find(&vdc_kind_instances, "a"), "power", "on");
	assert_string_not_equal(mac_of("a"), a_mac);
	assert_string_equal(attr_of("a", "mac"), mac_of("a"));
	assert_null(nic_of("a")->err);
	/* Placed on a host, a guest may run with it: a new MAC is the nic's at the next power on. */
	place_on_host(unit_find(&vdc_kind_instances, "a"));
	snprintf(want, sizeof(want), "%s", mac_of("a"));
	unit_set(nic_of("a"), "mac", "02:00:00:00:00:09");
	assert_string_equal(mac_of("a"), want);
	assert_non_null(strstr(nic_of("a")->err, "next powered on"));
	unit_set(unit_find(&vdc_kind_instances, "a"), "power", "off");
	assert_string_equal(mac_of("a"), want);
	unit_set(unit_find(&vdc_kind_instances, "a"), "power", "on");
	assert_string_equal(mac_of("a"), "02:00:00:00:00:09");
	assert_null(nic_of("a")->err);
	/* Kept across a restart. */
	snprintf(want, sizeof(want), "%s", mac_of("a"));
	unit_model_reopen(dir);
	assert_string_equal(mac_of("a"), want);
	assert_string_equal(mac_of("b"), a_mac);
}

/* auto-ip: the address chosen, written down; a copy's stays as written until it may have it. */
static void test_auto_ip(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	int rc;

	(void)state;
	network("net1", "192.0.2.0/24");
	instance("a", "net1");
	assert_string_equal(ip_of("a"), "192.0.2.2");
	assert_string_equal(attr_of("a", "auto-ip"), "192.0.2.2");
	instance("b", "net1");
	unit_set(nic_of("b"), "auto-ip", "192.0.2.50");
	assert_string_equal(ip_of("b"), "192.0.2.50");
	rc = try_set(nic_of("b"), "auto-ip", "192.0.2.1", &err);
	check_err(rc, &err);
	assert_int_equal(rc, -EADDRINUSE);
	rc = try_set(nic_of("b"), "auto-ip", "192.0.2.254", &err);
	assert_int_equal(rc, -EADDRINUSE);
	rc = try_set(nic_of("b"), "auto-ip", "10.0.0.5", &err);
	check_err(rc, &err);
	assert_int_equal(rc, -EINVAL);
	rc = try_set(nic_of("b"), "auto-ip", "192.0.2.300", &err);
	assert_int_equal(rc, -EINVAL);
	assert_string_equal(ip_of("b"), "192.0.2.50");
	assert_string_equal(attr_of("b", "auto-ip"), "192.0.2.50");
	/* A copy of a: it wants .2, has another, and says why. */
	instance("c", "net1");
	unit_set(nic_of("c"), "auto-ip", "192.0.2.2");
	assert_string_equal(attr_of("c", "auto-ip"), "192.0.2.2");
	assert_string_equal(ip_of("c"), "192.0.2.3");
	assert_string_equal(ip_of("a"), "192.0.2.2");
	assert_non_null(strstr(nic_of("c")->err, "in use by instances/a/nics/eth0"));
	/* A pin is not written down as auto-ip. */
	instance("d", "net1");
	unit_set(nic_of("d"), "ip", "192.0.2.60");
	assert_string_equal(ip_of("d"), "192.0.2.60");
	assert_string_equal(attr_of("d", "auto-ip"), "192.0.2.4");
	/* c powered on while a is off: c takes .2, a another. */
	unit_set(unit_find(&vdc_kind_instances, "c"), "power", "on");
	assert_string_equal(ip_of("c"), "192.0.2.2");
	assert_string_not_equal(ip_of("a"), "192.0.2.2");
	assert_string_equal(attr_of("a", "auto-ip"), "192.0.2.2");
	assert_non_null(strstr(nic_of("a")->err, "in use by instances/c/nics/eth0"));
	/* a powered on: c's guest has .2, so a keeps its own and writes it down. */
	unit_set(unit_find(&vdc_kind_instances, "a"), "power", "on");
	assert_string_not_equal(ip_of("a"), "192.0.2.2");
	assert_string_equal(attr_of("a", "auto-ip"), ip_of("a"));
	assert_null(nic_of("a")->err);
	/* Placed on a host, a guest may run with it: a new auto-ip is the nic's at the next power on. */
	place_on_host(unit_find(&vdc_kind_instances, "a"));
	unit_set(nic_of("a"), "auto-ip", "192.0.2.99");
	assert_string_not_equal(ip_of("a"), "192.0.2.99");
	assert_non_null(strstr(nic_of("a")->err, "next powered on"));
	unit_set(unit_find(&vdc_kind_instances, "a"), "power", "off");
	unit_set(unit_find(&vdc_kind_instances, "a"), "power", "on");
	assert_string_equal(ip_of("a"), "192.0.2.99");
	assert_null(nic_of("a")->err);
	/* A new nic's address is the lowest free one that no other nic has as its auto-ip. */
	instance("e", "net1");
	assert_string_equal(ip_of("e"), "192.0.2.3");
	unit_set(nic_of("e"), "auto-ip", "192.0.2.9");
	/* g is restored and not linked yet (tar makes links last): h leaves it .3; d's .4 is no wish (d pins). */
	instance("g", NULL);
	unit_set(nic_of("g"), "auto-ip", "192.0.2.3");
	instance("h", "net1");
	assert_string_equal(ip_of("h"), "192.0.2.4");
	assert_int_equal(vdc_link_set(nic_of("g"), (unsigned)unit_attr(nic_of("g"), "network"), "net1", 0, &err), 0);
	assert_string_equal(ip_of("g"), "192.0.2.3");
}

/* Pinned addresses: checked when written and linked, taken before automatic ones. */
static void test_pins(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_obj *nic;
	int rc;

	(void)state;
	network("net1", "192.0.2.0/24");
	instance("a", "net1");
	nic = nic_of("a");
	unit_set(nic, "ip", "192.0.2.50");
	assert_string_equal(ip_of("a"), "192.0.2.50");
	instance("b", "net1");
	assert_string_equal(ip_of("b"), "192.0.2.2");
	rc = try_set(nic_of("b"), "ip", "192.0.2.50", &err);
	check_err(rc, &err);
	assert_int_equal(rc, -EADDRINUSE);
	assert_non_null(strstr(err.msg, "instances/a/nics/eth0"));
	assert_string_equal(ip_of("b"), "192.0.2.2");
	rc = try_set(nic_of("b"), "ip", "192.0.2.1", &err);
	check_err(rc, &err);
	assert_int_equal(rc, -EADDRINUSE);
	rc = try_set(nic_of("b"), "ip", "192.0.2.254", &err);
	assert_int_equal(rc, -EADDRINUSE);
	rc = try_set(nic_of("b"), "ip", "10.0.0.5", &err);
	check_err(rc, &err);
	assert_int_equal(rc, -EINVAL);
	rc = try_set(nic_of("b"), "ip", "192.0.2.300", &err);
	assert_int_equal(rc, -EINVAL);
	/* Pinned to another instance's automatic address? Refused too. */
	rc = try_set(nic, "ip", "192.0.2.2", &err);
	assert_int_equal(rc, -EADDRINUSE);
	assert_string_equal(ip_of("a"), "192.0.2.50");
	/* Empty ip: chosen again, keeping what it has. */
	unit_set(nic, "ip", "");
	assert_string_equal(ip_of("a"), "192.0.2.50");
	/* A nic that pins an address taken in the network it is linked to is refused the link. */
	instance("c", NULL);
	unit_set(nic_of("c"), "ip", "192.0.2.2");
	rc = vdc_link_set(nic_of("c"), (unsigned)unit_attr(nic_of("c"), "network"), "net1", 0, &err);
	check_err(rc, &err);
	assert_int_equal(rc, -EADDRINUSE);
}

/* A network's cidr and gateway changes: refused over a pin, automatic addresses move. */
static void test_network_changes(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_obj *net = network("net1", "192.0.2.0/24");
	int rc;

	(void)state;
	instance("a", "net1");
	instance("b", "net1");
	unit_set(nic_of("b"), "ip", "192.0.2.9");
	rc = try_set(net, "cidr", "10.0.0.0/24", &err);
	check_err(rc, &err);
	assert_int_equal(rc, -EINVAL);
	assert_non_null(strstr(err.msg, "instances/b/nics/eth0 pins ip 192.0.2.9"));
	rc = try_set(net, "gateway", "192.0.2.9", &err);
	check_err(rc, &err);
	assert_int_equal(rc, -EADDRINUSE);
	/* The gateway on a's automatic address: a moves, to the lowest free one (.1 is free now). */
	assert_string_equal(ip_of("a"), "192.0.2.2");
	unit_set(net, "gateway", "192.0.2.2");
	assert_string_equal(ip_of("a"), "192.0.2.1");
	/* The gateway back on .1 (the default) moves a again; a wider cidr keeps every address. */
	unit_set(net, "gateway", "");
	assert_string_equal(ip_of("a"), "192.0.2.2");
	unit_set(net, "cidr", "192.0.0.0/16");
	assert_string_equal(ip_of("a"), "192.0.2.2");
	assert_string_equal(ip_of("b"), "192.0.2.9");
	/* No cidr: no addresses, and no error for it. */
	unit_set(nic_of("b"), "ip", "");
	unit_set(net, "cidr", "");
	assert_string_equal(ip_of("a"), "");
	assert_null(nic_of("a")->err);
	assert_string_equal(net->state, "defined");
}

/* Links made before the network (rsync order), or to a name a rename brings. */
static void test_dangling(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_obj *n;

	(void)state;
	instance("a", "later");
	unit_set(nic_of("a"), "ip", "203.0.113.7");
	assert_string_equal(ip_of("a"), "");
	n = network("later", NULL);
	assert_string_equal(ip_of("a"), "");
	unit_set(n, "cidr", "203.0.113.0/24");
	assert_string_equal(ip_of("a"), "203.0.113.7");
	instance("b", "renamed");
	n = network("other", "198.51.100.0/24");
	assert_string_equal(ip_of("b"), "");
	assert_int_equal(vdc_obj_rename(n, "renamed", 7, &err), 0);
	assert_string_equal(ip_of("b"), "198.51.100.2");
}

/* A stored address that nothing stored explains is chosen anew at load; the rest stay. */
/* A store of an older vdcfs: nics without mac, auto-ip, or live "mac". They keep what they had, written down. */
static void test_load_old(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct timespec t = { 0, 0 };
	char want[VDC_MAC_TEXT];
	int64_t id;

	(void)state;
	network("net1", "192.0.2.0/24");
	instance("a", "net1");
	instance("b", "net1");
	id = nic_of("a")->id;
	snprintf(want, sizeof(want), "52:54:00:%02x:%02x:%02x", (unsigned)(id >> 16) & 0xff,
		 (unsigned)(id >> 8) & 0xff, (unsigned)id & 0xff);
	assert_string_equal(mac_of("a"), want);
	assert_int_equal(vdc_store_begin(&err), 0);
	assert_int_equal(vdc_store_attr_put(id, "mac", NULL, 0, &t, &err), 0);
	assert_int_equal(vdc_store_attr_put(id, "auto-ip", NULL, 0, &t, &err), 0);
	assert_int_equal(vdc_store_live_put(id, "mac", NULL, &err), 0);
	assert_int_equal(vdc_store_commit(&err), 0);
	unit_model_reopen(dir);
	assert_string_equal(mac_of("a"), want);
	assert_string_equal(attr_of("a", "mac"), want);
	assert_string_equal(ip_of("a"), "192.0.2.2");
	assert_string_equal(attr_of("a", "auto-ip"), "192.0.2.2");
	assert_string_equal(ip_of("b"), "192.0.2.3");
}

static void test_load(void **state)
{
	(void)state;
	network("net1", "192.0.2.0/24");
	instance("a", "net1");
	instance("b", "net1");
	unit_set(nic_of("b"), "ip", "192.0.2.77");
	unit_model_reopen(dir);
	assert_string_equal(ip_of("a"), "192.0.2.2");
	assert_string_equal(ip_of("b"), "192.0.2.77");
	assert_int_equal(vdc_instance_networked(unit_find(&vdc_kind_instances, "a")), true);
}

static json_t *find_named(json_t *list, const char *name)
{
	size_t i;
	json_t *o;

	json_array_foreach(list, i, o)
		if (!strcmp(json_string_value(json_object_get(o, "name")), name))
			return o;
	return NULL;
}

/* What a hypervisor hears: its networks with the peers, and the groups with their members. */
static void test_desired(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_obj *ha, *hb, *a, *b, *c, *g;
	json_t *root, *net, *grp;
	char token[65];

	(void)state;
	assert_int_equal(vdc_host_join("ha", VDC_ROLE_HVA, token, &err), 0);
	assert_int_equal(vdc_host_join("hb", VDC_ROLE_HVA, token, &err), 0);
	ha = vdc_host_find("ha");
	hb = vdc_host_find("hb");
	snprintf(vdc_host_of(ha)->underlay, 16, "198.51.100.18");
	snprintf(vdc_host_of(hb)->underlay, 16, "198.51.100.19");
	network("net1", "192.0.2.0/24");
	unit_set(unit_find(&vdc_kind_networks, "net1"), "dns", "192.0.2.53");
	a = instance("a", "net1");
	b = instance("b", "net1");
	c = instance("c", NULL);
	g = make(&vdc_kind_security_groups, NULL, "web");
	unit_set(g, "rules", "in tcp 22 sg:web\nin tcp 5432 sg:db\n");
	join_group(a, "web");
	join_group(b, "web");
	assert_int_equal(vdc_place_set(a, "ha", &err), 0);
	assert_int_equal(vdc_place_set(b, "hb", &err), 0);
	assert_int_equal(vdc_place_set(c, "ha", &err), 0);

	root = json_object();
	vdc_network_desired(ha, root);
	assert_int_equal(json_array_size(json_object_get(root, "networks")), 1);
	net = json_array_get(json_object_get(root, "networks"), 0);
	assert_string_equal(json_string_value(json_object_get(net, "cidr")), "192.0.2.0/24");
	assert_string_equal(json_string_value(json_object_get(net, "gateway")), "192.0.2.1");
	assert_string_equal(json_string_value(json_object_get(net, "server")), "192.0.2.254");
	assert_true(json_is_true(json_object_get(net, "dhcp")));
	assert_string_equal(json_string_value(json_array_get(json_object_get(net, "dns"), 0)), "192.0.2.53");
	assert_int_equal(json_array_size(json_object_get(net, "peers")), 1);
	assert_string_equal(json_string_value(json_array_get(json_object_get(net, "peers"), 0)), "198.51.100.19");
	assert_int_equal(json_array_size(json_object_get(net, "remote")), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(net, "remote"), 0),
							      "ip")), "192.0.2.3");
	/* web, and db which its rules name (it does not exist: no members). */
	grp = find_named(json_object_get(root, "security_groups"), "web");
	assert_non_null(grp);
	assert_int_equal(json_array_size(json_object_get(grp, "members")), 2);
	grp = find_named(json_object_get(root, "security_groups"), "db");
	assert_non_null(grp);
	assert_int_equal(json_array_size(json_object_get(grp, "members")), 0);
	json_decref(root);

	/* A nic's entry names its network, id and address. */
	root = vdc_nic_json(nic_of("a"));
	assert_string_equal(json_string_value(json_object_get(root, "network")), "net1");
	assert_string_equal(json_string_value(json_object_get(root, "ip")), "192.0.2.2");
	assert_int_equal(json_integer_value(json_object_get(root, "id")), nic_of("a")->id);
	json_decref(root);
	root = vdc_instance_groups_json(a);
	assert_string_equal(json_string_value(json_array_get(root, 0)), "web");
	json_decref(root);
}

/* Changes that agents build from bump every host's desired revision. */
static void test_bumps(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_obj *h, *g;
	char token[65];
	uint64_t rev;

	(void)state;
	assert_int_equal(vdc_host_join("ha", VDC_ROLE_HVA, token, &err), 0);
	h = vdc_host_find("ha");
	g = make(&vdc_kind_security_groups, NULL, "web");
	rev = vdc_host_of(h)->rev;
	unit_set(g, "rules", "in icmp - 0.0.0.0/0");
	assert_true(vdc_host_of(h)->rev > rev);
	rev = vdc_host_of(h)->rev;
	network("net1", "192.0.2.0/24");
	assert_true(vdc_host_of(h)->rev > rev);
	rev = vdc_host_of(h)->rev;
	instance("a", "net1");
	assert_true(vdc_host_of(h)->rev > rev);
	rev = vdc_host_of(h)->rev;
	join_group(unit_find(&vdc_kind_instances, "a"), "web");
	assert_true(vdc_host_of(h)->rev > rev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reserved),
		cmocka_unit_test_setup_teardown(test_vni, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_members_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_addresses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mac, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auto_ip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_network_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dangling, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_old, setup, teardown),
		cmocka_unit_test_setup_teardown(test_desired, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bumps, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
