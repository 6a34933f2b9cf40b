/*
 * Unit tests for the physical layer (backend/host.c) and the instance state
 * machine (backend/instance.c), with the real kinds of vdcfs/ and the real
 * sqlite store in a private mkdtemp() directory.
 *
 * Agents are played by calling what the agent server calls: vdc_host_join,
 * vdc_host_auth and vdc_host_report with the facts set as serve_report
 * sets them. The write lock is held through each test, as model.h asks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host.h"
#include "instance.h"
#include "kinds.h"
#include "unit_model.h"
#include "wire.h"

static char dir[256];

static int setup(void **state)
{
	(void)state;
	return unit_model_setup(dir, sizeof(dir), "placement");
}

static int teardown(void **state)
{
	(void)state;
	return unit_model_teardown(dir);
}

static void reopen(void)
{
	struct vdc_err err = VDC_ERR_INIT;

	vdc_model_close();
	assert_int_equal(vdc_model_open(dir, unit_kinds, false, &err), 0);
}

/* ---- helpers: the data center as a user and an agent see it ---- */

static struct vdc_obj *make_instance(const char *name, const char *memory)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_obj *o, *img = unit_find(&vdc_kind_images, "tiny");

	if (!img)
		assert_int_equal(vdc_obj_create(&vdc_kind_images, NULL, "tiny", 4, 0, 0, &img, &err), 0);
	assert_int_equal(vdc_obj_create(&vdc_kind_instances, NULL, name, strlen(name), 0, 0, &o, &err), 0);
	assert_int_equal(vdc_link_set(o, (unsigned)vdc_attr_index(o->kind, "image", 5), "tiny", 0, &err), 0);
	unit_set(o, "memory", memory);
	return o;
}

static struct vdc_obj *join(const char *name, char *token)
{
	struct vdc_err err = VDC_ERR_INIT;
	char t[65];

	assert_int_equal(vdc_host_join(name, VDC_ROLE_HVA, token ? token : t, &err), 0);
	return vdc_host_find(name);
}

/* A report of `host` with capacity and the given instance states. */
static void report(struct vdc_obj *host, unsigned cpus, uint64_t mib, const struct vdc_report_inst *in,
		   size_t n)
{
	struct vdc_host *h = vdc_host_of(host);

	h->cpus = cpus;
	h->memory = mib << 20;
	vdc_host_report(host, in, n);
}

static const char *state(const struct vdc_obj *o)
{
	return o->state;
}

static const char *placed(struct vdc_obj *o)
{
	return vdc_place_of(o)->host;
}

static struct vdc_report_inst seen(const struct vdc_obj *o, const char *st)
{
	struct vdc_report_inst r = { .id = o->id, .state = st };

	return r;
}

/* ---- tests ---- */

static void test_join_and_tokens(void **state_)
{
	struct vdc_err err = VDC_ERR_INIT;
	char ta[65], tb[65];
	struct vdc_obj *a, *b, *out = NULL;
	int rc;

	(void)state_;
	a = join("hv1", ta);
	b = join("hv2", tb);
	assert_non_null(a);
	assert_string_equal(state(a), "joined");
	assert_int_equal(strlen(ta), 64);
	assert_string_not_equal(ta, tb);
	assert_int_equal(vdc_host_auth("hv1", ta, &out, &err), 0);
	assert_ptr_equal(out, a);
	rc = vdc_host_join("hv1", VDC_ROLE_HVA, ta, &err);
	check_err(rc, &err);
	assert_int_equal(rc, -EEXIST);
	rc = vdc_host_auth("hv2", ta, &out, &err);
	check_err(rc, &err);
	assert_int_equal(rc, -EACCES);
	assert_non_null(strstr(err.msg, "token of host hv1 was used for host hv2"));
	rc = vdc_host_auth("hv1", "0000", &out, &err);
	check_err(rc, &err);
	assert_non_null(strstr(err.msg, "wrong token"));
	rc = vdc_host_auth("hv9", tb, &out, &err);
	assert_int_equal(rc, -EACCES);
	/* Only a digest of the token is kept, and it survives a restart. */
	reopen();
	assert_int_equal(vdc_host_auth("hv2", tb, &out, &err), 0);
	assert_string_not_equal(vdc_host_of(out)->token_sha, tb);
	(void)b;
}

static void test_power_on_waits_for_a_reporting_host(void **state_)
{
	struct vdc_obj *web, *hv;
	struct vdc_report_inst r;

	(void)state_;
	web = make_instance("web1", "256M");
	unit_set(web, "power", "on");
	assert_string_equal(state(web), "unschedulable");
	assert_non_null(strstr(web->err, "no host has joined"));
	hv = join("hv1", NULL);
	vdc_instances_retry();
	assert_string_equal(state(web), "unschedulable");
	report(hv, 2, 1024, NULL, 0);
	assert_string_equal(state(hv), "up");
	assert_string_equal(state(web), "starting");
	assert_string_equal(placed(web), "hv1");
	assert_null(web->err);
	assert_non_null(vdc_rel_find(hv, 0, "web1", 4));
	r = seen(web, "running");
	report(hv, 2, 1024, &r, 1);
	assert_string_equal(state(web), "running");
}

static void test_placement_follows_capacity(void **state_)
{
	struct vdc_obj *big, *small, *i1, *i2, *i3;

	(void)state_;
	big = join("big", NULL);
	small = join("small", NULL);
	report(big, 4, 4096, NULL, 0);
	report(small, 1, 512, NULL, 0);
	i1 = make_instance("i1", "1G");
	unit_set(i1, "power", "on");
	assert_string_equal(placed(i1), "big");
	i2 = make_instance("i2", "256M");
	unit_set(i2, "power", "on");
	/* big has 3G of 4G free (75%), small 512M of 512M (100%). */
	assert_string_equal(placed(i2), "small");
	i3 = make_instance("i3", "512M");
	unit_set(i3, "power", "on");
	assert_string_equal(placed(i3), "big");
	unit_set(big, "schedulable", "off");
	{
		struct vdc_obj *i4 = make_instance("i4", "512M");

		unit_set(i4, "power", "on");
		assert_string_equal(state(i4), "unschedulable");
		assert_non_null(i4->err);
		unit_set(big, "schedulable", "on");
		assert_string_equal(placed(i4), "big");
		assert_string_equal(state(i4), "starting");
	}
}

static void test_silent_host_turns_unknown_and_back(void **state_)
{
	struct vdc_obj *web, *hv;
	struct vdc_report_inst r;

	(void)state_;
	hv = join("hv1", NULL);
	report(hv, 2, 1024, NULL, 0);
	web = make_instance("web1", "256M");
	unit_set(web, "power", "on");
	r = seen(web, "running");
	report(hv, 2, 1024, &r, 1);
	assert_string_equal(state(web), "running");
	vdc_hosts_tick();
	assert_string_equal(state(hv), "up");
	vdc_host_of(hv)->last_seen.tv_sec -= 16;
	vdc_hosts_tick();
	assert_string_equal(state(hv), "unknown");
	assert_string_equal(state(web), "unknown");
	/* Unknown means maybe running: never placed elsewhere, never removable. */
	assert_string_equal(placed(web), "hv1");
	{
		struct vdc_err err = VDC_ERR_INIT;
		int rc = vdc_obj_destroy(web, &err);

		check_err(rc, &err);
		assert_int_equal(rc, -EBUSY);
		rc = vdc_host_verb_evacuate(hv, "", 0, &err);
		check_err(rc, &err);
		assert_int_equal(rc, -EBUSY);
	}
	report(hv, 2, 1024, &r, 1);
	assert_string_equal(state(hv), "up");
	assert_string_equal(state(web), "running");
}

static void test_power_off_and_removal(void **state_)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_obj *web, *hv;
	struct vdc_report_inst r;
	uint64_t rev;

	(void)state_;
	hv = join("hv1", NULL);
	report(hv, 2, 1024, NULL, 0);
	web = make_instance("web1", "256M");
	unit_set(web, "power", "on");
	r = seen(web, "running");
	report(hv, 2, 1024, &r, 1);
	rev = vdc_host_of(hv)->rev;
	unit_set(web, "power", "off");
	assert_true(vdc_host_of(hv)->rev > rev);
	assert_string_equal(state(web), "stopping");
	assert_int_equal(vdc_obj_destroy(web, &err), -EBUSY);
	r = seen(web, "stopped");
	report(hv, 2, 1024, &r, 1);
	assert_string_equal(state(web), "stopped");
	/* A stopped instance keeps its place (and its disk there). */
	assert_string_equal(placed(web), "hv1");
	rev = vdc_host_of(hv)->rev;
	assert_int_equal(vdc_obj_destroy(web, &err), 0);
	assert_true(vdc_host_of(hv)->rev > rev);
	assert_int_equal(hv->rel[0].n, 0);
}

static void test_evacuate_moves_work_away(void **state_)
{
	struct vdc_obj *web, *a, *b;
	struct vdc_report_inst r;

	(void)state_;
	a = join("a", NULL);
	b = join("b", NULL);
	report(a, 2, 2048, NULL, 0);
	report(b, 2, 1024, NULL, 0);
	web = make_instance("web1", "256M");
	unit_set(web, "power", "on");
	assert_string_equal(placed(web), "a");
	r = seen(web, "running");
	report(a, 2, 2048, &r, 1);
	assert_int_equal(vdc_host_verb_evacuate(a, "", 0, NULL), 0);
	assert_string_equal(state(web), "stopping");
	assert_true(vdc_place_of(web)->leaving);
	/* Still there: a late report changes nothing. */
	report(a, 2, 2048, &r, 1);
	assert_string_equal(placed(web), "a");
	/* Gone from a: placed on b, never on a again. */
	report(a, 2, 2048, NULL, 0);
	assert_string_equal(placed(web), "b");
	assert_string_equal(state(web), "starting");
	assert_int_equal(a->rel[0].n, 0);
	assert_int_equal(b->rel[0].n, 1);
}

static void test_restart_keeps_placement_and_state(void **state_)
{
	struct vdc_obj *web, *hv;
	struct vdc_report_inst r;

	(void)state_;
	hv = join("hv1", NULL);
	report(hv, 2, 1024, NULL, 0);
	web = make_instance("web1", "256M");
	unit_set(web, "power", "on");
	r = seen(web, "running");
	report(hv, 2, 1024, &r, 1);
	reopen();
	web = unit_find(&vdc_kind_instances, "web1");
	hv = vdc_host_find("hv1");
	assert_string_equal(placed(web), "hv1");
	assert_string_equal(state(web), "running");   /* not "starting" before the host reports */
	assert_int_equal(hv->rel[0].n, 1);
	r = seen(web, "running");
	report(hv, 2, 1024, &r, 1);
	assert_string_equal(state(web), "running");
}

static void test_reboot_asks_the_host(void **state_)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_obj *web, *hv;
	struct vdc_report_inst r;
	uint64_t rev;
	int rc;

	(void)state_;
	hv = join("hv1", NULL);
	report(hv, 2, 1024, NULL, 0);
	web = make_instance("web1", "256M");
	rc = vdc_instance_verb_reboot(web, "", 0, &err);
	check_err(rc, &err);
	assert_int_equal(rc, -EINVAL);
	unit_set(web, "power", "on");
	r = seen(web, "running");
	report(hv, 2, 1024, &r, 1);
	rev = vdc_host_of(hv)->rev;
	assert_int_equal(vdc_instance_verb_reboot(web, "", 0, &err), 0);
	assert_int_equal(vdc_place_of(web)->reboot, 1);
	assert_true(vdc_host_of(hv)->rev > rev);
	assert_int_equal(vdc_instance_verb_reset(web, "", 0, &err), 0);
	reopen();
	web = unit_find(&vdc_kind_instances, "web1");
	assert_int_equal(vdc_place_of(web)->reboot, 1);
	assert_int_equal(vdc_place_of(web)->reset, 1);
}

static void test_agent_error_reaches_run_err(void **state_)
{
	struct vdc_obj *web, *hv;
	struct vdc_report_inst r;

	(void)state_;
	hv = join("hv1", NULL);
	report(hv, 2, 1024, NULL, 0);
	web = make_instance("web1", "256M");
	unit_set(web, "power", "on");
	r = seen(web, "error");
	r.err = "image tiny does not match its checksum";
	report(hv, 2, 1024, &r, 1);
	assert_string_equal(state(web), "error");
	assert_string_equal(web->err, "image tiny does not match its checksum");
	r = seen(web, "running");
	report(hv, 2, 1024, &r, 1);
	assert_string_equal(state(web), "running");
	assert_null(web->err);
}

static void test_console_keeps_the_tail(void **state_)
{
	struct vdc_obj *web;
	static char big[VDC_CONSOLE_MAX + 100];

	(void)state_;
	web = make_instance("web1", "256M");
	assert_int_equal(vdc_console_append(web, 0, "hello ", 6), 6);
	assert_int_equal(vdc_console_append(web, 0, "hello ", 6), 6);      /* repeated */
	assert_int_equal(vdc_console_append(web, 3, "lo world", 8), 11);   /* overlapping */
	assert_int_equal(vdc_place_of(web)->console_len, 11);
	assert_memory_equal(vdc_place_of(web)->console, "hello world", 11);
	memset(big, 'x', sizeof(big));
	big[sizeof(big) - 1] = 'y';
	assert_int_equal(vdc_console_append(web, 11, big, sizeof(big)), 11 + sizeof(big));
	assert_int_equal(vdc_place_of(web)->console_len, VDC_CONSOLE_MAX);
	assert_int_equal(vdc_place_of(web)->console[VDC_CONSOLE_MAX - 1], 'y');
}

/* instances/NAME/console: only while running, bounded, taken once by its host, dropped when it stops. */
static void test_console_input_queue(void **state_)
{
	struct vdc_err err = VDC_ERR_INIT;
	static char big[VDC_CONSOLE_INPUT_MAX];
	struct vdc_console_input *in;
	struct vdc_obj *web, *hv, *hv2;
	struct vdc_report_inst r;
	uint64_t pushes;
	char *doc;
	size_t n;

	(void)state_;
	hv = join("hv1", NULL);
	report(hv, 2, 1024, NULL, 0);
	web = make_instance("web1", "256M");
	assert_int_equal(vdc_instance_console_input(web, "ls\n", 3, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "instance web1 is defined: its console takes input only while it is running"));
	unit_set(web, "power", "on");
	assert_int_equal(vdc_instance_console_input(web, "ls\n", 3, &err), -EINVAL);   /* starting */
	r = seen(web, "running");
	report(hv, 2, 1024, &r, 1);
	hv2 = join("hv2", NULL);
	report(hv2, 2, 1024, NULL, 0);

	pushes = vdc_console_input_pushes();
	assert_int_equal(vdc_instance_console_input(web, "ls\n", 3, &err), 0);
	assert_true(vdc_console_input_pushes() > pushes);
	assert_int_equal(vdc_instance_console_input(web, "\001\377", 2, &err), 0);
	in = vdc_console_input_take(hv2, &n);
	assert_int_equal(n, 0);   /* another host's: none */
	free(in);
	in = vdc_console_input_take(hv, &n);
	assert_int_equal(n, 1);
	assert_int_equal(in[0].id, web->id);
	assert_int_equal(in[0].len, 5);
	assert_memory_equal(in[0].buf, "ls\n\001\377", 5);
	doc = vdc_wire_console_input(in, n);
	assert_non_null(strstr(doc, "{\"input\":[{\"id\":"));
	assert_non_null(strstr(doc, "\"hex\":\"6c730a01ff\"}]}"));
	free(doc);
	free(in[0].buf);
	free(in);
	in = vdc_console_input_take(hv, &n);
	assert_int_equal(n, 0);   /* taken once */
	free(in);
	doc = vdc_wire_console_input(NULL, 0);
	assert_string_equal(doc, "{\"input\":[]}");
	free(doc);

	/* Bounded: all or nothing, EAGAIN past VDC_CONSOLE_INPUT_MAX. */
	memset(big, 'a', sizeof(big));
	assert_int_equal(vdc_instance_console_input(web, big, sizeof(big) - 1, &err), 0);
	assert_int_equal(vdc_instance_console_input(web, "bc", 2, &err), -EAGAIN);
	assert_non_null(strstr(err.msg, "the console input of instance web1 is full"));
	assert_int_equal(vdc_instance_console_input(web, "b", 1, &err), 0);
	assert_int_equal(vdc_place_of(web)->input_len, VDC_CONSOLE_INPUT_MAX);

	/* Stopped: what waited is dropped, and writes are refused. */
	unit_set(web, "power", "off");
	assert_int_equal(vdc_place_of(web)->input_len, 0);
	assert_int_equal(vdc_instance_console_input(web, "x", 1, &err), -EINVAL);
}

static void test_removing_an_unknown_host_places_anew(void **state_)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_obj *web, *a, *b;
	struct vdc_report_inst r;
	int rc;

	(void)state_;
	a = join("a", NULL);
	report(a, 2, 2048, NULL, 0);
	web = make_instance("web1", "256M");
	unit_set(web, "power", "on");
	r = seen(web, "running");
	report(a, 2, 2048, &r, 1);
	rc = vdc_obj_destroy(a, &err);
	check_err(rc, &err);
	assert_int_equal(rc, -EBUSY);
	b = join("b", NULL);
	report(b, 2, 1024, NULL, 0);
	vdc_host_of(a)->last_seen.tv_sec -= 16;
	vdc_hosts_tick();
	assert_string_equal(state(web), "unknown");
	assert_int_equal(vdc_obj_destroy(a, &err), 0);
	assert_string_equal(placed(web), "b");
	assert_string_equal(state(web), "starting");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_join_and_tokens, setup, teardown),
		cmocka_unit_test_setup_teardown(test_power_on_waits_for_a_reporting_host, setup, teardown),
		cmocka_unit_test_setup_teardown(test_placement_follows_capacity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_silent_host_turns_unknown_and_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_power_off_and_removal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_evacuate_moves_work_away, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_keeps_placement_and_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reboot_asks_the_host, setup, teardown),
		cmocka_unit_test_setup_teardown(test_agent_error_reaches_run_err, setup, teardown),
		cmocka_unit_test_setup_teardown(test_console_keeps_the_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_removing_an_unknown_host_places_anew, setup, teardown),
		cmocka_unit_test_setup_teardown(test_console_input_queue, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
