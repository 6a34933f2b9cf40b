/*
 * vdc-hva's usage figures (agents/hva/usage_sample.c): the parsers of /proc's
 * files and of libvirt's statistics, the rates between samples, and the
 * report's members they become (report_doc.c).
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
#include <sys/stat.h>
#include <unistd.h>

#include "report_doc.h"
#include "unit.h"
#include "usage_sample.h"
#include "wire_doc.h"

static void test_rate(void **state)
{
	(void)state;
	assert_int_equal(hva_usage_rate(0, 0), -1);
	assert_int_equal(hva_usage_rate(0, 100), 0);
	assert_int_equal(hva_usage_rate(100, 100), 10000);
	assert_int_equal(hva_usage_rate(1, 8), 1250);
	assert_int_equal(hva_usage_rate(2, 3), 6667);
	/* A domain of two busy vCPUs: 200 %. */
	assert_int_equal(hva_usage_rate(2000000000, 1000000000), 20000);
	/* Large counters do not overflow. */
	assert_int_equal(hva_usage_rate(UINT64_MAX / 2, UINT64_MAX), 5000);
}

static void test_proc_stat(void **state)
{
	uint64_t busy, total;

	(void)state;
	assert_int_equal(hva_usage_proc_stat("cpu  100 20 30 800 50 0 0 0 0 0\ncpu0 1 2 3 4\n", &busy, &total), 0);
	assert_int_equal(total, 1000);
	assert_int_equal(busy, 150);
	/* An old kernel's four fields. */
	assert_int_equal(hva_usage_proc_stat("cpu 1 2 3 4\n", &busy, &total), 0);
	assert_int_equal(total, 10);
	assert_int_equal(busy, 6);
	assert_int_equal(hva_usage_proc_stat("cpu0 1 2 3 4\n", &busy, &total), -EINVAL);
	assert_int_equal(hva_usage_proc_stat("cpu 1 2\n", &busy, &total), -EINVAL);
	assert_int_equal(hva_usage_proc_stat("", &busy, &total), -EINVAL);
}

static void test_loadavg(void **state)
{
	int64_t l[3];

	(void)state;
	assert_int_equal(hva_usage_loadavg("0.52 0.58 0.59 1/123 4567\n", l), 0);
	assert_int_equal(l[0], 52);
	assert_int_equal(l[1], 58);
	assert_int_equal(l[2], 59);
	assert_int_equal(hva_usage_loadavg("12.00 3.5 100.07 1/1 1", l), 0);
	assert_int_equal(l[0], 1200);
	assert_int_equal(l[1], 350);
	assert_int_equal(l[2], 10007);
	assert_int_equal(hva_usage_loadavg("0.52 0.58", l), -EINVAL);
	assert_int_equal(l[0], -1);
	assert_int_equal(hva_usage_loadavg("-1.00 0.58 0.59 1/1 1", l), -EINVAL);
	assert_int_equal(hva_usage_loadavg("x 0.58 0.59", l), -EINVAL);
	assert_int_equal(hva_usage_loadavg("1. 0.58 0.59", l), -EINVAL);
}

static void test_proc_starttime(void **state)
{
	uint64_t t = 0;

	(void)state;
	/* A comm with spaces and parentheses: the fields count from the last ')'. */
	assert_int_equal(hva_usage_proc_starttime("4242 (qemu (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 "
						  "10 20 0 0 20 0 3 0 987654 123456789 1000 ...\n", &t), 0);
	assert_int_equal(t, 987654);
	assert_int_equal(hva_usage_proc_starttime("4242 (qemu) S 1 2 3\n", &t), -EINVAL);
	assert_int_equal(hva_usage_proc_starttime("no parenthesis", &t), -EINVAL);
}

static virTypedParameter ull(const char *field, unsigned long long v)
{
	virTypedParameter p;

	memset(&p, 0, sizeof(p));
	snprintf(p.field, sizeof(p.field), "%s", field);
	p.type = VIR_TYPED_PARAM_ULLONG;
	p.value.ul = v;
	return p;
}

static void test_from_params(void **state)
{
	virTypedParameter p[] = {
		ull("state.state", 1), ull("cpu.time", 5000000000ull), ull("cpu.user", 1),
		ull("balloon.current", 262144), ull("balloon.rss", 123456),
		ull("block.count", 2), ull("block.0.rd.bytes", 1000), ull("block.0.wr.bytes", 2000),
		ull("block.1.rd.bytes", 10), ull("block.1.wr.bytes", 20), ull("block.0.rd.reqs", 99),
		ull("net.count", 2), ull("net.0.rx.bytes", 300), ull("net.0.tx.bytes", 400),
		ull("net.1.rx.bytes", 3), ull("net.1.tx.bytes", 4), ull("net.0.rx.pkts", 77),
		ull("net.x.rx.bytes", 1000000),
	};
	struct hva_report_usage u;

	(void)state;
	hva_usage_unknown(&u);
	hva_usage_from_params(p, (int)(sizeof(p) / sizeof(p[0])), &u);
	assert_int_equal(u.cpu_time_ns, 5000000000ll);
	assert_int_equal(u.memory_kib, 123456);
	assert_int_equal(u.disk_read, 1010);
	assert_int_equal(u.disk_written, 2020);
	assert_int_equal(u.net_received, 303);
	assert_int_equal(u.net_sent, 404);
	assert_int_equal(u.cpu, -1);
	assert_int_equal(u.uptime, -1);

	/* Nothing but the state (a domain that is off, or NOWAIT's answer): nothing known. */
	hva_usage_unknown(&u);
	hva_usage_from_params(p, 1, &u);
	assert_int_equal(u.cpu_time_ns, -1);
	assert_int_equal(u.disk_read, -1);
	assert_int_equal(u.net_sent, -1);
}

/* A stand-in for /proc and libvirt's run directory in a temporary folder. */
static char tmp[64];

static void put(const char *rel, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmp, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void cleanup_tmp(void)
{
	const char *files[] = { "proc/stat", "proc/loadavg", "proc/77/stat", "run/vdc-1.pid" };
	const char *dirs[] = { "proc/77", "proc", "run", "" };
	char path[256];
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", tmp, files[i]);
		unlink(path);
	}
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", tmp, dirs[i]);
		rmdir(path);
	}
}

static void test_samples(void **state)
{
	struct hva_usage u;
	struct hva_report_usage r;
	virTypedParameter p[1];
	int64_t cpu, load[3];
	char path[256];

	(void)state;
	snprintf(tmp, sizeof(tmp), "/tmp/test_hva_usage.XXXXXX");
	assert_non_null(mkdtemp(tmp));
	snprintf(path, sizeof(path), "%s/proc", tmp);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/run", tmp);
	assert_int_equal(mkdir(path, 0700), 0);
	hva_usage_init(&u);
	snprintf(u.proc, sizeof(u.proc), "%s/proc", tmp);
	snprintf(u.rundir, sizeof(u.rundir), "%s/run", tmp);

	/* The host: no rate at the first sample, then the delta's. */
	put("proc/stat", "cpu  100 0 0 900 0 0 0 0\n");
	put("proc/loadavg", "1.50 0.25 0.05 2/200 999\n");
	hva_usage_host(&u, 1000, &cpu, load);
	assert_int_equal(cpu, -1);
	assert_int_equal(load[0], 150);
	assert_int_equal(load[1], 25);
	assert_int_equal(load[2], 5);
	put("proc/stat", "cpu  400 0 0 1600 0 0 0 0\n");
	hva_usage_host(&u, 1500, &cpu, load);
	assert_int_equal(cpu, -1);   /* under the window: the sample stays */
	hva_usage_host(&u, 2000, &cpu, load);
	assert_int_equal(cpu, 3000);
	put("proc/stat", "cpu  400 0 0 2600 0 0 0 0\n");
	hva_usage_host(&u, 2100, &cpu, load);
	assert_int_equal(cpu, 3000); /* too soon: the last rate again */
	hva_usage_host(&u, 3000, &cpu, load);
	assert_int_equal(cpu, 0);

	/* A domain: cpu.time's delta over the wall clock's; uptime from its first sighting without a pid file. */
	hva_usage_mark(&u);
	p[0] = ull("cpu.time", 1000000000ull);
	hva_usage_domain(&u, "vdc-1", p, 1, 10000, &r);
	assert_int_equal(r.cpu, -1);
	assert_int_equal(r.cpu_time_ns, 1000000000ll);
	assert_int_equal(r.uptime, 0);
	hva_usage_sweep(&u);
	assert_int_equal(u.n, 1);
	p[0] = ull("cpu.time", 1500000000ull);
	hva_usage_domain(&u, "vdc-1", p, 1, 12000, &r);
	assert_int_equal(r.cpu, 2500);  /* 0.5 s of cpu in 2 s */
	assert_int_equal(r.uptime, 2);
	/* Its qemu process's start, when its pid file and /proc/PID/stat say it. */
	put("run/vdc-1.pid", "77");
	snprintf(path, sizeof(path), "%s/proc/77", tmp);
	assert_int_equal(mkdir(path, 0700), 0);
	put("proc/77/stat", "77 (qemu-system-x86) S 1 77 77 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 0 0 0\n");
	p[0] = ull("cpu.time", 3500000000ull);
	hva_usage_domain(&u, "vdc-1", p, 1, 14000, &r);
	assert_int_equal(r.cpu, 10000);
	assert_true(r.uptime > 0);   /* started at boot: the machine's uptime */
	/* Started again (cpu.time went back): a new window, no rate yet. */
	p[0] = ull("cpu.time", 10ull);
	hva_usage_domain(&u, "vdc-1", p, 1, 16000, &r);
	assert_int_equal(r.cpu, -1);
	/* Gone from a report: forgotten. */
	hva_usage_mark(&u);
	hva_usage_sweep(&u);
	assert_int_equal(u.n, 0);
	hva_usage_release(&u);
	cleanup_tmp();
}

static void test_report_members(void **state)
{
	struct hva_report_usage u;
	const int64_t load[3] = { 1, 2, 3 }, noload[3] = { -1, -1, -1 };
	json_t *inst = json_object(), *doc = json_object();

	(void)state;
	hva_usage_unknown(&u);
	hva_report_instance_usage(inst, &u);
	assert_null(json_object_get(inst, VDC_WIRE_USAGE));   /* nothing known: no member */
	u.net_sent = 0;
	u.cpu = 1234;
	hva_report_instance_usage(inst, &u);
	assert_int_equal(json_object_size(json_object_get(inst, VDC_WIRE_USAGE)), 2);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(inst, VDC_WIRE_USAGE), VDC_WIRE_CPU)), 1234);
	hva_report_host_usage(doc, -1, noload);
	assert_null(json_object_get(doc, VDC_WIRE_USAGE));
	hva_report_host_usage(doc, 50, load);
	assert_int_equal(json_array_size(json_object_get(json_object_get(doc, VDC_WIRE_USAGE), VDC_WIRE_LOAD)), 3);
	json_decref(inst);
	json_decref(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rate),
		cmocka_unit_test(test_proc_stat),
		cmocka_unit_test(test_loadavg),
		cmocka_unit_test(test_proc_starttime),
		cmocka_unit_test(test_from_params),
		cmocka_unit_test(test_samples),
		cmocka_unit_test(test_report_members),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
