/*
 * Unit tests for what vdc top and vdc console compute from the tree's
 * text (agents/vdc/view.c): values of run/ files, rates, the order of the
 * rows, the rows' text, and which bytes of run/console are new.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "view.h"

static void test_num_parse(void **state)
{
	struct vdc_num n;

	(void)state;
	n = vdc_num_parse("12.5", false);
	assert_true(n.has);
	assert_true(n.v == 12.5);
	n = vdc_num_parse("512M", true);
	assert_true(n.has && n.v == 512);
	n = vdc_num_parse("2G", true);
	assert_true(n.has && n.v == 2048);
	n = vdc_num_parse("1024K", true);
	assert_true(n.has && n.v == 1);
	n = vdc_num_parse("300", true);   /* no unit: already M */
	assert_true(n.has && n.v == 300);
	assert_false(vdc_num_parse("", false).has);      /* empty: "-" */
	assert_false(vdc_num_parse(NULL, false).has);    /* missing */
	assert_false(vdc_num_parse("12M", false).has);   /* not a plain number */
	assert_false(vdc_num_parse("abc", true).has);
	assert_false(vdc_num_parse("-3", false).has);
	assert_false(vdc_num_parse("5X", true).has);
	assert_false(vdc_num_parse("nan", false).has);
}

static void test_rates(void **state)
{
	struct vdc_top_inst prev, cur;

	(void)state;
	memset(&prev, 0, sizeof(prev));
	memset(&cur, 0, sizeof(cur));
	prev.count[VDC_NET_SENT] = (struct vdc_num){ true, 1000 };
	cur.count[VDC_NET_SENT] = (struct vdc_num){ true, 3000 };
	prev.count[VDC_DISK_READ] = (struct vdc_num){ true, 5000 };
	cur.count[VDC_DISK_READ] = (struct vdc_num){ true, 10 };   /* restarted: went back */
	cur.count[VDC_NET_RECEIVED] = (struct vdc_num){ true, 10 }; /* no earlier reading */
	vdc_top_rates(&cur, &prev, 2.0);
	assert_true(cur.rate[VDC_NET_SENT].has && cur.rate[VDC_NET_SENT].v == 1000);
	assert_false(cur.rate[VDC_DISK_READ].has);
	assert_false(cur.rate[VDC_NET_RECEIVED].has);
	assert_false(cur.rate[VDC_DISK_WRITTEN].has);
	vdc_top_rates(&cur, NULL, 2.0);
	assert_false(cur.rate[VDC_NET_SENT].has);
}

static void row(struct vdc_top_inst *r, const char *name, double cpu, double used, double mem)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->cpu = (struct vdc_num){ cpu >= 0, cpu };
	r->mem_used_mib = (struct vdc_num){ used >= 0, used };
	r->mem_mib = (struct vdc_num){ mem >= 0, mem };
}

static void order(const struct vdc_top_inst *r, size_t n, char *out, size_t size)
{
	size_t i, at = 0;

	out[0] = '\0';
	for (i = 0; i < n; i++)
		at += (size_t)snprintf(out + at, size - at, "%s%s", i ? " " : "", r[i].name);
}

static void test_sort(void **state)
{
	struct vdc_top_inst r[4];
	char o[64];

	(void)state;
	row(&r[0], "b", 5, -1, 512);
	row(&r[1], "a", 50, 100, 256);
	row(&r[2], "d", -1, -1, 64);
	row(&r[3], "c", 5, 300, 1024);
	vdc_top_sort(r, 4, VDC_SORT_CPU, false);
	order(r, 4, o, sizeof(o));
	assert_string_equal(o, "a b c d");   /* the most first, ties by name, none last */
	vdc_top_sort(r, 4, VDC_SORT_MEMORY, false);
	order(r, 4, o, sizeof(o));
	assert_string_equal(o, "c a b d");   /* used first; where none says, what it was given */
	vdc_top_sort(r, 4, VDC_SORT_NAME, false);
	order(r, 4, o, sizeof(o));
	assert_string_equal(o, "a b c d");
	vdc_top_sort(r, 4, VDC_SORT_NAME, true);
	order(r, 4, o, sizeof(o));
	assert_string_equal(o, "d c b a");
	assert_string_equal(vdc_sort_name(VDC_SORT_MEMORY), "memory");
}

static void test_text(void **state)
{
	struct vdc_top_inst r;
	struct vdc_top_host h;
	char out[256];

	(void)state;
	vdc_human((struct vdc_num){ false, 0 }, out, sizeof(out));
	assert_string_equal(out, "-");
	vdc_human((struct vdc_num){ true, 512 }, out, sizeof(out));
	assert_string_equal(out, "512");
	vdc_human((struct vdc_num){ true, 1536 }, out, sizeof(out));
	assert_string_equal(out, "1.5K");
	vdc_human((struct vdc_num){ true, 20.0 * 1024 * 1024 }, out, sizeof(out));
	assert_string_equal(out, "20M");
	vdc_bar((struct vdc_num){ true, 0.5 }, 10, out, sizeof(out));
	assert_string_equal(out, "[#####     ]");
	vdc_bar((struct vdc_num){ true, 7 }, 4, out, sizeof(out));
	assert_string_equal(out, "[####]");
	vdc_bar((struct vdc_num){ false, 0 }, 4, out, sizeof(out));
	assert_string_equal(out, "[-   ]");

	row(&r, "web1", 12.25, -1, 512);
	snprintf(r.state, sizeof(r.state), "running");
	snprintf(r.host, sizeof(r.host), "a");
	snprintf(r.ip, sizeof(r.ip), "10.0.0.5");
	r.rate[VDC_NET_SENT] = (struct vdc_num){ true, 2048 };
	vdc_inst_line(&r, out, sizeof(out));
	assert_string_equal(out, "web1                 running    a              12.2      -/512M        -        -        -"
				 "     2.0K  10.0.0.5");
	vdc_inst_header(out, sizeof(out));
	assert_string_equal(out, "INSTANCE             STATE      HOST           CPU%         MEM DISK-R/s DISK-W/s NET-RX/s"
				 " NET-TX/s  IP");

	memset(&h, 0, sizeof(h));
	snprintf(h.name, sizeof(h.name), "a");
	snprintf(h.state, sizeof(h.state), "up");
	h.cpus = (struct vdc_num){ true, 2 };
	h.cpus_used = (struct vdc_num){ true, 1 };
	h.mem_mib = (struct vdc_num){ true, 2048 };
	h.mem_used_mib = (struct vdc_num){ true, 512 };
	vdc_host_line(&h, out, sizeof(out));
	assert_string_equal(out, "a                    up       [-         ] -     [###       ] 512M/2048M  1/2     -");
	vdc_host_header(out, sizeof(out));
	assert_string_equal(out, "HOST                 STATE    CPU BUSY           MEMORY RESERVED          CPUS    LOAD");
	h.cpu = (struct vdc_num){ true, 40 };
	snprintf(h.load, sizeof(h.load), "0.50 0.25 0.10");
	vdc_host_line(&h, out, sizeof(out));
	assert_string_equal(out,
			    "a                    up       [####      ] 40%   [###       ] 512M/2048M  1/2     0.50 0.25 0.10");
}

static void test_console_new_at(void **state)
{
	(void)state;
	/* It only grew: what follows the old text. */
	assert_int_equal(vdc_console_new_at("login: ", 7, "login: root\n", 12), 7);
	/* Nothing new. */
	assert_int_equal(vdc_console_new_at("abc", 3, "abc", 3), 3);
	/* The window slid by 2 and 3 bytes came. */
	assert_int_equal(vdc_console_new_at("abcdef", 6, "cdefxyz", 7), 4);
	/* A line repeated after the slide is new, not taken for the old one. */
	assert_int_equal(vdc_console_new_at("ok\nok\n", 6, "ok\nok\nok\n", 9), 6);
	/* Nothing shared: all of it. */
	assert_int_equal(vdc_console_new_at("abc", 3, "xyz", 3), 0);
	assert_int_equal(vdc_console_new_at("", 0, "xyz", 3), 0);
	assert_int_equal(vdc_console_new_at("aa", 2, "aaa", 3), 2);
	assert_int_equal(vdc_console_new_at("xaa", 3, "aab", 3), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_num_parse),
		cmocka_unit_test(test_rates),
		cmocka_unit_test(test_sort),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_console_new_at),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
