/*
 * Unit tests of /vdc/run/metrics.prom and /vdc/run/dashboard.html
 * (kinds/metrics.c, kinds/dashboard.c), of the history behind the
 * dashboard's sparklines (kinds/history.c) and of vdcfs's own counters
 * (backend/counters.c), with the real kinds and store (unit_model.h).
 *
 * A small data center (a hypervisor and a storage host, two users'
 * instances and volumes) is rendered for root and for one user and
 * compared with golden files (tests/unit/golden/metrics-*.prom,
 * dashboard-*.html; VDC_REGENERATE=1 rewrites them). The events'
 * time stamps are the one thing of the text that moves: they are masked
 * before the comparison.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_doc.h"
#include "counters.h"
#include "dashboard.h"
#include "golden.h"
#include "history.h"
#include "metrics.h"
#include "unit_model.h"
#include "volume.h"

#define MIB(n) ((uint64_t)(n) << 20)
#define USER 1000
#define NOW ((time_t)1796774400)   /* 2026-12-09 00:00:00 UTC */

static char dir[256];

static int setup(void **state)
{
	(void)state;
	vdc_counters_reset();
	vdc_history_clear();
	return unit_model_setup(dir, sizeof(dir), "metrics");
}

static int teardown(void **state)
{
	(void)state;
	vdc_history_clear();
	return unit_model_teardown(dir);
}

static struct vdc_obj *make(const struct vdc_kind *k, const char *name, uid_t uid)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_obj *o;

	assert_int_equal(vdc_obj_create(k, NULL, name, strlen(name), uid, uid, &o, &err), 0);
	return o;
}

static struct vdc_obj *join(const char *name, enum vdc_host_role role)
{
	struct vdc_err err = VDC_ERR_INIT;
	char t[65];

	assert_int_equal(vdc_host_join(name, role, t, &err), 0);
	return vdc_host_find(name);
}

static void sta_report(struct vdc_obj *host, const char *volumes)
{
	struct vdc_host *h = vdc_host_of(host);
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_doc_sta_report r;
	char doc[1024];

	snprintf(doc, sizeof(doc), "{\"epoch\": 1, \"seq\": 1, \"facts\": {\"disk_mib\": 10240, "
		 "\"portal\": \"198.51.100.17:3260\"}, \"volumes\": %s}", volumes);
	assert_int_equal(vdc_doc_sta_report_parse(doc, strlen(doc), &r, &err), 0);
	h->disk = MIB(10240);
	snprintf(h->portal, sizeof(h->portal), "198.51.100.17:3260");
	vdc_host_report_sta(host, r.vols, r.n);
	vdc_doc_sta_report_release(&r);
}

/*
 * The data center of the golden files: hv1 (4 cpus, 4G) runs root's web1;
 * s1 holds root's volume v1 (64M, 12M allocated) and the user's v2;
 * web1's disk (2G, 300M allocated) is on s1 too; the user's db is defined only.
 */
static void small_data_center(void)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_obj *hv, *s1, *web, *db, *v1, *v2, *img;
	struct vdc_report_inst r;
	char vols[512];

	img = make(&vdc_kind_images, "tiny", 0);
	(void)img;
	hv = join("hv1", VDC_ROLE_HVA);
	s1 = join("s1", VDC_ROLE_STA);
	sta_report(s1, "[]");
	vdc_host_of(hv)->cpus = 4;
	vdc_host_of(hv)->memory = MIB(4096);
	vdc_host_report(hv, NULL, 0);
	web = make(&vdc_kind_instances, "web1", 0);
	assert_int_equal(vdc_link_set(web, (unsigned)unit_attr(web, "image"), "tiny", 0, &err), 0);
	unit_set(web, "cpus", "2");
	unit_set(web, "memory", "1G");
	unit_set(web, "disk-size", "2G");
	db = make(&vdc_kind_instances, "db", USER);
	unit_set(db, "memory", "256M");
	v1 = make(&vdc_kind_volumes, "v1", 0);
	unit_set(v1, "size", "64M");
	v2 = make(&vdc_kind_volumes, "v2", USER);
	snprintf(vols, sizeof(vols), "[{\"id\": %" PRId64 ", \"state\": \"available\", \"size\": %" PRIu64
		 ", \"allocated\": %" PRIu64 "}, {\"id\": %" PRId64 ", \"state\": \"available\", \"size\": %" PRIu64 "}]",
		 v1->id, vdc_volume_size(v1), MIB(12), v2->id, vdc_volume_size(v2));
	sta_report(s1, vols);
	unit_set(web, "power", "on");
	/* web1's disk made on s1 when it started: 300M of its 2G held. */
	snprintf(vols, sizeof(vols), "[{\"id\": %" PRId64 ", \"state\": \"available\", \"size\": %" PRIu64
		 ", \"allocated\": %" PRIu64 "}, {\"id\": %" PRId64 ", \"state\": \"available\", \"size\": %" PRIu64
		 "}, {\"id\": %" PRId64 ", \"state\": \"available\", \"size\": %" PRIu64 ", \"allocated\": %" PRIu64 "}]",
		 v1->id, vdc_volume_size(v1), MIB(12), v2->id, vdc_volume_size(v2), web->id, MIB(2048), MIB(300));
	sta_report(s1, vols);
	/* Its use as hv1 reports it: net-sent not said (no sample); hv1 25.5 % busy. */
	r = (struct vdc_report_inst){ .id = web->id, .state = "running",
				      .usage = { .cpu = 1234, .cpu_time_ns = 5678900000, .memory_kib = 262144,
						 .disk_read = 1000, .disk_written = 2000, .net_received = 3000,
						 .net_sent = -1, .uptime = 42 } };
	vdc_host_set_usage(hv, 2550, (const int64_t[3]){ 52, 58, 159 });
	vdc_host_report(hv, &r, 1);
	assert_string_equal(web->state, "running");
	assert_string_equal(v1->state, "available");
}

/* The text with every event's time stamp (YYYY-MM-DDTHH:MM:SSZ) masked. */
static void mask_stamps(struct strbuf *sb)
{
	size_t i;

	for (i = 0; i + 20 <= sb->len; i++) {
		const char *p = sb->buf + i;

		if (p[4] == '-' && p[7] == '-' && p[10] == 'T' && p[13] == ':' && p[16] == ':' && p[19] == 'Z' &&
		    p[0] >= '0' && p[0] <= '9')
			memcpy(sb->buf + i, "YYYY-MM-DDTHH:MM:SSZ", 20);
	}
}

/* ---- tests ---- */

static void test_escape(void **state)
{
	__do_strbuf struct strbuf a = STRBUF_INIT;
	__do_strbuf struct strbuf b = STRBUF_INIT;
	const char *html = "<a href=\"x\">Tom & Jerry's</a>";

	(void)state;
	vdc_metrics_escape("plain", &a);
	vdc_metrics_escape("a\\b\"c\nd", &a);
	assert_string_equal(a.buf, "plaina\\\\b\\\"c\\nd");
	vdc_html_escape(html, strlen(html), &b);
	assert_string_equal(b.buf, "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;");
}

static void test_counters(void **state)
{
	struct vdc_counters c;

	(void)state;
	vdc_counters_reset();
	vdc_count_fuse(VDC_FOP_LOOKUP);
	vdc_count_fuse(VDC_FOP_LOOKUP);
	vdc_count_fuse(VDC_FOP_COPY_FILE_RANGE);
	vdc_count(VDC_C_AGENT_REPORTS);
	vdc_gauge_add(VDC_G_AGENT_OPEN, 2);
	vdc_gauge_add(VDC_G_AGENT_OPEN, -1);
	vdc_count_commit(500000);         /* 0.5 ms: le 0.001 */
	vdc_count_commit(1000000);        /* 1 ms exactly: le 0.001 */
	vdc_count_commit(3000000);        /* 3 ms: le 0.005 */
	vdc_count_commit(2000000000);     /* 2 s: +Inf only */
	vdc_counters_read(&c);
	assert_int_equal(c.fuse[VDC_FOP_LOOKUP], 2);
	assert_int_equal(c.fuse[VDC_FOP_COPY_FILE_RANGE], 1);
	assert_int_equal(c.c[VDC_C_AGENT_REPORTS], 1);
	assert_int_equal(c.g[VDC_G_AGENT_OPEN], 1);
	assert_int_equal(c.commit_bucket[0], 2);
	assert_int_equal(c.commit_bucket[1], 0);
	assert_int_equal(c.commit_bucket[2], 1);
	assert_int_equal(c.commit_count, 4);
	assert_int_equal(c.commit_sum_ns, 2004500000);
	assert_string_equal(vdc_fop_name(VDC_FOP_COPY_FILE_RANGE), "copy_file_range");
}

/* vdcfs's own families from fixed figures: a histogram is cumulative and ends in +Inf, _sum and _count. */
static void test_own_golden(void **state)
{
	__do_strbuf struct strbuf out = STRBUF_INIT;
	struct vdc_counters c;
	unsigned i;

	(void)state;
	memset(&c, 0, sizeof(c));
	for (i = 0; i < VDC_FOP_COUNT; i++)
		c.fuse[i] = 10 * i;
	c.c[VDC_C_AGENT_ACCEPTED] = 7;
	c.c[VDC_C_AGENT_REFUSED_CONN] = 1;
	c.c[VDC_C_AGENT_REFUSED_REQ] = 2;
	c.c[VDC_C_AGENT_REPORTS] = 120;
	c.c[VDC_C_AGENT_POLLS] = 33;
	c.c[VDC_C_EVENTS] = 45;
	c.g[VDC_G_AGENT_OPEN] = 3;
	c.commit_bucket[0] = 5;
	c.commit_bucket[3] = 2;
	c.commit_count = 8;   /* one over 1 s */
	c.commit_sum_ns = 1234567890;
	vdc_metrics_render_own(&c, &out);
	golden_check("metrics-own.prom", out.buf, out.len);
}

/* Root sees every host, instance and volume; a user their own and no host. */
static void test_model_golden(void **state)
{
	__do_strbuf struct strbuf root = STRBUF_INIT;
	__do_strbuf struct strbuf user = STRBUF_INIT;

	(void)state;
	small_data_center();
	vdc_metrics_render_model(0, &root);
	golden_check("metrics-root.prom", root.buf, root.len);
	vdc_metrics_render_model(USER, &user);
	golden_check("metrics-user.prom", user.buf, user.len);
	assert_null(strstr(user.buf, "web1"));
	assert_null(strstr(user.buf, "vdc_host_up{"));
}

/* The whole file: data center and vdcfs, each family once with HELP and TYPE, ending in a newline. */
static void test_whole_file_is_one_document(void **state)
{
	__do_strbuf struct strbuf out = STRBUF_INIT;
	size_t i, lines = 0;

	(void)state;
	small_data_center();
	vdc_metrics_render(0, &out);
	assert_true(out.len > 0 && out.buf[out.len - 1] == '\n');
	for (i = 0; i < out.len; i++)
		lines += out.buf[i] == '\n';
	/* Every family: HELP, TYPE; no blank line; no line without a value. */
	assert_non_null(strstr(out.buf, "# TYPE vdcfs_store_commit_seconds histogram\n"));
	assert_non_null(strstr(out.buf, "vdcfs_store_commit_seconds_bucket{le=\"+Inf\"} "));
	assert_null(strstr(out.buf, "\n\n"));
	assert_true(lines > 50);
}

static void test_history(void **state)
{
	struct vdc_history_point p[VDC_HISTORY_SAMPLES];
	struct vdc_usage_sample s;
	struct vdc_obj *web;

	(void)state;
	web = make(&vdc_kind_instances, "web1", 0);
	assert_false(vdc_history_get(web, NOW, p));
	/* Two samples in one minute: the last stands for it. */
	s = (struct vdc_usage_sample){ 10, 6000 };
	vdc_history_feed(web, &s, NOW - 120);
	s = (struct vdc_usage_sample){ 20, 12000 };
	vdc_history_feed(web, &s, NOW - 100);
	s = (struct vdc_usage_sample){ 50, 18000 };
	vdc_history_feed(web, &s, NOW - 60);
	assert_true(vdc_history_get(web, NOW, p));
	assert_false(p[VDC_HISTORY_SAMPLES - 1].have);   /* nothing this minute */
	assert_true(p[VDC_HISTORY_SAMPLES - 2].have);
	assert_true(p[VDC_HISTORY_SAMPLES - 3].have);
	assert_true(p[VDC_HISTORY_SAMPLES - 3].cpu == 20);
	assert_true(p[VDC_HISTORY_SAMPLES - 3].net_rate == 0);   /* the first has no rate */
	assert_true(p[VDC_HISTORY_SAMPLES - 2].cpu == 50);
	assert_true(p[VDC_HISTORY_SAMPLES - 2].net_rate == 100);  /* 6000 bytes in 60 s */
	/* An hour later they are gone: the ring holds the last hour only. */
	assert_false(vdc_history_get(web, NOW + 3600, p));
	/* A ring wraps: 90 minutes fed, the last 60 are read. */
	for (int m = 0; m < 90; m++) {
		s = (struct vdc_usage_sample){ (double)m, (uint64_t)m * 60 };
		vdc_history_feed(web, &s, NOW + m * 60);
	}
	assert_true(vdc_history_get(web, NOW + 89 * 60, p));
	assert_true(p[0].have && p[0].cpu == 30);
	assert_true(p[VDC_HISTORY_SAMPLES - 1].cpu == 89);
	assert_true(p[VDC_HISTORY_SAMPLES - 1].net_rate == 1);
}

static void test_dashboard_golden(void **state)
{
	__do_strbuf struct strbuf root = STRBUF_INIT;
	__do_strbuf struct strbuf user = STRBUF_INIT;
	struct vdc_usage_sample s;
	struct vdc_obj *web, *db;
	int m;

	(void)state;
	small_data_center();
	web = unit_find(&vdc_kind_instances, "web1");
	db = unit_find(&vdc_kind_instances, "db");
	/* A name and an event that need escaping: the user's db writes bad text. */
	vdc_event(db, "error: <script>alert('x')</script> & \"more\"");
	for (m = 0; m < 60; m++) {
		s = (struct vdc_usage_sample){ (double)(m % 10) * 10, (uint64_t)m * m * 600 };
		vdc_history_feed(web, &s, NOW - (59 - m) * 60);
	}
	vdc_dashboard_render(0, NOW, &root);
	mask_stamps(&root);
	golden_check("dashboard-root.html", root.buf, root.len);
	vdc_dashboard_render(USER, NOW, &user);
	mask_stamps(&user);
	golden_check("dashboard-user.html", user.buf, user.len);
	assert_null(strstr(root.buf, "<script"));
	assert_null(strstr(user.buf, "web1"));
	assert_null(strstr(user.buf, "hv1"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_counters),
		cmocka_unit_test(test_own_golden),
		cmocka_unit_test_setup_teardown(test_model_golden, setup, teardown),
		cmocka_unit_test_setup_teardown(test_whole_file_is_one_document, setup, teardown),
		cmocka_unit_test_setup_teardown(test_history, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dashboard_golden, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
