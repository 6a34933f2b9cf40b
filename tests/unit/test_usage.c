/*
 * Usage figures as files (kinds/usage.c): the formats of docs/tree.md
 * ("Usage"), and what instances/NAME/run/ and hosts/NAME/run/ show of a
 * hypervisor's report: figures while the instance runs, nothing before,
 * after, or from a silent host.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"
#include "instance.h"
#include "kinds.h"
#include "place.h"
#include "reconcile.h"
#include "unit_model.h"
#include "usage.h"

static char dir[256];

static int setup(void **state)
{
	(void)state;
	return unit_model_setup(dir, sizeof(dir), "usage");
}

static int teardown(void **state)
{
	(void)state;
	return unit_model_teardown(dir);
}

/* What `show` appends, as a string of a static buffer. */
static const char *shown(void (*show)(const struct vdc_obj *, struct strbuf *), const struct vdc_obj *o)
{
	static char text[128];
	__do_strbuf struct strbuf sb = STRBUF_INIT;

	show(o, &sb);
	snprintf(text, sizeof(text), "%.*s", (int)sb.len, sb.buf ? sb.buf : "");
	return text;
}

static const char *fmt_h(int64_t v, unsigned decimals)
{
	static char text[64];
	__do_strbuf struct strbuf sb = STRBUF_INIT;

	vdc_usage_format_hundredths(v, decimals, &sb);
	snprintf(text, sizeof(text), "%.*s", (int)sb.len, sb.buf ? sb.buf : "");
	return text;
}

static void test_formats(void **state)
{
	__do_strbuf struct strbuf sb = STRBUF_INIT;
	const int64_t load[3] = { 52, 58, 159 }, partial[3] = { 52, -1, 59 };

	(void)state;
	assert_string_equal(fmt_h(1250, 1), "12.5");
	assert_string_equal(fmt_h(1254, 1), "12.5");
	assert_string_equal(fmt_h(1255, 1), "12.6");
	assert_string_equal(fmt_h(0, 1), "0.0");
	assert_string_equal(fmt_h(19999, 1), "200.0");
	assert_string_equal(fmt_h(52, 2), "0.52");
	assert_string_equal(fmt_h(1007, 2), "10.07");
	assert_string_equal(fmt_h(-1, 2), "");
	vdc_usage_format_ns(12345678901, &sb);
	assert_int_equal(sb.len, 5);
	assert_memory_equal(sb.buf, "12.34", 5);
	strbuf_reset(&sb);
	vdc_usage_format_ns(-1, &sb);
	assert_int_equal(sb.len, 0);
	vdc_usage_format_kib(262143, &sb);
	assert_memory_equal(sb.buf, "255M", 4);
	strbuf_reset(&sb);
	vdc_usage_format_load(load, &sb);
	assert_int_equal(sb.len, strlen("0.52 0.58 1.59"));
	assert_memory_equal(sb.buf, "0.52 0.58 1.59", sb.len);
	strbuf_reset(&sb);
	vdc_usage_format_load(partial, &sb);
	assert_int_equal(sb.len, 0);
}

static void test_instance_and_host_files(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_obj *img, *web, *hv;
	struct vdc_report_inst r;
	const int64_t load[3] = { 12, 34, 56 }, none[3] = { -1, -1, -1 };
	char token[65];

	(void)state;
	assert_int_equal(vdc_obj_create(&vdc_kind_images, NULL, "tiny", 4, 0, 0, &img, &err), 0);
	assert_int_equal(vdc_obj_create(&vdc_kind_instances, NULL, "web", 3, 0, 0, &web, &err), 0);
	assert_int_equal(vdc_link_set(web, (unsigned)vdc_attr_index(web->kind, "image", 5), "tiny", 0, &err), 0);
	assert_int_equal(vdc_host_join("hv1", VDC_ROLE_HVA, token, &err), 0);
	hv = vdc_host_find("hv1");
	/* Joined, not reported: nothing known. */
	assert_string_equal(shown(vdc_usage_show_host_cpu, hv), "");
	assert_string_equal(shown(vdc_usage_show_host_load, hv), "");
	vdc_host_of(hv)->cpus = 2;
	vdc_host_of(hv)->memory = 1024ull << 20;
	vdc_host_set_usage(hv, 1234, load);
	vdc_host_report(hv, NULL, 0);
	assert_string_equal(shown(vdc_usage_show_host_cpu, hv), "12.3\n");
	assert_string_equal(shown(vdc_usage_show_host_load, hv), "0.12 0.34 0.56\n");
	/* An older agent's report without them. */
	vdc_host_set_usage(hv, -1, none);
	assert_string_equal(shown(vdc_usage_show_host_cpu, hv), "");
	assert_string_equal(shown(vdc_usage_show_host_load, hv), "");
	vdc_host_set_usage(hv, 1234, load);

	unit_set(web, "power", "on");
	assert_string_equal(web->state, "starting");
	r = (struct vdc_report_inst){ .id = web->id, .state = "starting",
				      .usage = { -1, -1, -1, -1, -1, -1, -1, -1 } };
	vdc_host_report(hv, &r, 1);
	assert_string_equal(shown(vdc_usage_show_cpu, web), "");
	r = (struct vdc_report_inst){ .id = web->id, .state = "running",
				      .usage = { .cpu = 9950, .cpu_time_ns = 61500000000, .memory_kib = 200 << 10,
						 .disk_read = 4096, .disk_written = 1 << 20, .net_received = 0,
						 .net_sent = 98765, .uptime = 42 } };
	vdc_host_report(hv, &r, 1);
	assert_string_equal(web->state, "running");
	assert_string_equal(shown(vdc_usage_show_cpu, web), "99.5\n");
	assert_string_equal(shown(vdc_usage_show_cpu_time, web), "61.50\n");
	assert_string_equal(shown(vdc_usage_show_memory_used, web), "200M\n");
	assert_string_equal(shown(vdc_usage_show_disk_read, web), "4096\n");
	assert_string_equal(shown(vdc_usage_show_disk_written, web), "1048576\n");
	assert_string_equal(shown(vdc_usage_show_net_received, web), "0\n");
	assert_string_equal(shown(vdc_usage_show_net_sent, web), "98765\n");
	assert_string_equal(shown(vdc_usage_show_uptime, web), "42\n");
	/* Its disk is on its hypervisor (no storage host): no disk-allocated. */
	assert_string_equal(shown(vdc_usage_show_disk_allocated, web), "");
	/* A figure the agent does not know (its first report: no rate yet) is an empty file. */
	r.usage.cpu = -1;
	vdc_host_report(hv, &r, 1);
	assert_string_equal(shown(vdc_usage_show_cpu, web), "");
	assert_string_equal(shown(vdc_usage_show_uptime, web), "42\n");

	/* Powered off: empty at once, before the host says stopped. */
	unit_set(web, "power", "off");
	assert_string_not_equal(web->state, "running");
	assert_string_equal(shown(vdc_usage_show_cpu_time, web), "");
	assert_string_equal(shown(vdc_usage_show_net_sent, web), "");
	unit_set(web, "power", "on");
	vdc_host_report(hv, &r, 1);
	assert_string_equal(web->state, "running");
	assert_string_equal(shown(vdc_usage_show_uptime, web), "42\n");

	/* A silent host: its figures and its instances' are not known. */
	vdc_host_of(hv)->last_seen.tv_sec -= 3600;
	vdc_hosts_tick();
	assert_string_equal(hv->state, "unknown");
	assert_string_equal(shown(vdc_usage_show_host_cpu, hv), "");
	assert_string_equal(shown(vdc_usage_show_host_load, hv), "");
	assert_string_equal(shown(vdc_usage_show_uptime, web), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_formats),
		cmocka_unit_test_setup_teardown(test_instance_and_host_files, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
