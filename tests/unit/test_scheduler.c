/*
 * Unit tests for backend/scheduler.c: placement of an instance on a host.
 *
 * vdc_schedule() is a pure function of the hosts' capacity and use, so the
 * tests build arrays of struct vdc_host_cap by hand. Every -ENOSPC is also
 * checked against the error protocol of err.h: err.code equals the return
 * value, and the sentence is non-empty, lower-case, printable and without a
 * final full stop.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scheduler.h"
#include "unit.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)
#define TiB (1ULL << 40)

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* A host that is up and schedulable with nothing on it. */
#define HOST(n, c, m) { .name = (n), .cpus = (c), .memory = (m), .schedulable = true, .up = true }

/* Schedule, and when it fails check the protocol; the sentence goes to `msg`. */
static int sched(const struct vdc_host_cap *hosts, size_t n, unsigned cpus, uint64_t memory,
		 char *msg, size_t msglen)
{
	struct vdc_err err = VDC_ERR_INIT;
	int rc = vdc_schedule(hosts, n, cpus, memory, &err);

	if (rc < 0)
		check_err(rc, &err);
	else
		assert_true((size_t)rc < n);
	if (msg)
		snprintf(msg, msglen, "%s", err.msg);
	return rc;
}

/* ---- why nothing fits ---- */

/*
 * A host whose desired state would carry more than VDC_HOST_NETWORKS_MAX
 * networks (or VDC_HOST_GROUPS_MAX groups) with the instance's is no fit,
 * however much room it has; when every host is so, the sentence says it
 * is the networks and groups.
 */
static void test_networks_limit(void **state)
{
	struct vdc_host_cap hosts[] = { HOST("roomy", 64, 64 * GiB), HOST("small", 2, 2 * GiB) };
	char msg[VDC_ERR_MSG_MAX];

	(void)state;
	hosts[0].networks = VDC_HOST_NETWORKS_MAX;
	assert_int_equal(sched(hosts, 2, 1, 512 * MiB, NULL, 0), 0);
	hosts[0].networks = VDC_HOST_NETWORKS_MAX + 1;
	assert_int_equal(sched(hosts, 2, 1, 512 * MiB, NULL, 0), 1);
	hosts[1].networks = VDC_HOST_NETWORKS_MAX + 1;
	assert_int_equal(sched(hosts, 2, 1, 512 * MiB, msg, sizeof(msg)), -ENOSPC);
	assert_non_null(strstr(msg, "networks"));
	assert_non_null(strstr(msg, "256"));
	/* One too crowded, the other too small: the closest miss is the small one. */
	hosts[1].networks = 3;
	assert_int_equal(sched(hosts, 2, 4, 512 * MiB, msg, sizeof(msg)), -ENOSPC);
	assert_non_null(strstr(msg, "within the networks and groups limits"));
	assert_non_null(strstr(msg, "small"));
	/* Security groups count the same way. */
	hosts[0].networks = 0;
	hosts[0].groups = VDC_HOST_GROUPS_MAX + 1;
	hosts[1].groups = VDC_HOST_GROUPS_MAX;
	assert_int_equal(sched(hosts, 2, 1, 512 * MiB, NULL, 0), 1);
	hosts[1].groups = VDC_HOST_GROUPS_MAX + 1;
	assert_int_equal(sched(hosts, 2, 1, 512 * MiB, msg, sizeof(msg)), -ENOSPC);
	assert_non_null(strstr(msg, "1024 security groups"));
	/* And nics on networks (the slots of a host's firewall). */
	hosts[0].groups = 0;
	hosts[0].nics = VDC_HOST_NICS_MAX + 1;
	hosts[1].groups = 0;
	hosts[1].nics = VDC_HOST_NICS_MAX;
	assert_int_equal(sched(hosts, 2, 1, 512 * MiB, NULL, 0), 1);
}

static void test_no_hosts(void **state)
{
	char msg[VDC_ERR_MSG_MAX];

	(void)state;
	assert_int_equal(sched(NULL, 0, 1, 512 * MiB, msg, sizeof(msg)), -ENOSPC);
	assert_non_null(strstr(msg, "no host has joined"));
	/* err may be NULL when the caller does not want the sentence. */
	assert_int_equal(vdc_schedule(NULL, 0, 1, 512 * MiB, NULL), -ENOSPC);
}

static void test_no_host_up(void **state)
{
	struct vdc_host_cap hosts[] = { HOST("a", 8, 8 * GiB), HOST("b", 8, 8 * GiB) };
	char msg[VDC_ERR_MSG_MAX];

	(void)state;
	hosts[0].up = false;
	hosts[1].up = false;
	assert_int_equal(sched(hosts, NELEM(hosts), 1, 512 * MiB, msg, sizeof(msg)), -ENOSPC);
	assert_null(strstr(msg, "no host has joined"));
	assert_non_null(strstr(msg, "reporting"));
	assert_non_null(strstr(msg, "2"));

	/* A host that is down is skipped even when it is the only one with room. */
	hosts[1].up = true;
	hosts[1].memory_used = 8 * GiB;
	assert_int_equal(sched(hosts, NELEM(hosts), 1, 512 * MiB, NULL, 0), -ENOSPC);
}

static void test_none_schedulable(void **state)
{
	struct vdc_host_cap hosts[] = { HOST("a", 8, 8 * GiB), HOST("b", 8, 8 * GiB), HOST("c", 8, 8 * GiB) };
	char msg[VDC_ERR_MSG_MAX];

	(void)state;
	hosts[0].schedulable = false;
	hosts[1].schedulable = false;
	hosts[2].up = false;
	assert_int_equal(sched(hosts, NELEM(hosts), 1, 512 * MiB, msg, sizeof(msg)), -ENOSPC);
	assert_non_null(strstr(msg, "schedulable"));
	assert_null(strstr(msg, "room"));

	/* Turning schedulable on for one makes it the choice. */
	hosts[1].schedulable = true;
	assert_int_equal(sched(hosts, NELEM(hosts), 1, 512 * MiB, NULL, 0), 1);
}

static void test_no_room_cpus(void **state)
{
	struct vdc_host_cap hosts[] = { HOST("a", 8, 64 * GiB), HOST("b", 4, 64 * GiB) };
	char msg[VDC_ERR_MSG_MAX];

	(void)state;
	hosts[0].cpus_used = 6;
	hosts[1].cpus_used = 1;
	hosts[1].memory_used = GiB;           /* so a wins whenever it fits */
	assert_int_equal(sched(hosts, NELEM(hosts), 4, GiB, msg, sizeof(msg)), -ENOSPC);
	assert_non_null(strstr(msg, "room"));
	assert_non_null(strstr(msg, "4 cpus"));
	assert_non_null(strstr(msg, "1G"));

	/* Exact fit: used + need == total fits. */
	assert_int_equal(sched(hosts, NELEM(hosts), 3, GiB, NULL, 0), 1);
	assert_int_equal(sched(hosts, NELEM(hosts), 2, GiB, NULL, 0), 0);

	/* A host with every cpu taken fits only an instance that needs none. */
	hosts[0].cpus_used = 8;
	hosts[1].cpus_used = 4;
	assert_int_equal(sched(hosts, NELEM(hosts), 1, GiB, NULL, 0), -ENOSPC);
	assert_true(sched(hosts, NELEM(hosts), 0, GiB, NULL, 0) >= 0);
}

static void test_no_room_memory(void **state)
{
	struct vdc_host_cap hosts[] = { HOST("a", 8, 4 * GiB), HOST("b", 8, 2 * GiB) };
	char msg[VDC_ERR_MSG_MAX];

	(void)state;
	hosts[0].memory_used = 3 * GiB;
	hosts[1].memory_used = GiB + 512 * MiB;

	/* Exact fit: used + need == total fits; one byte more does not. */
	assert_int_equal(sched(hosts, NELEM(hosts), 1, GiB, NULL, 0), 0);
	assert_int_equal(sched(hosts, NELEM(hosts), 1, GiB + 1, msg, sizeof(msg)), -ENOSPC);
	assert_non_null(strstr(msg, "room"));
	assert_non_null(strstr(msg, "1073741825"));
	hosts[0].memory_used = 4 * GiB;
	assert_int_equal(sched(hosts, NELEM(hosts), 1, 512 * MiB, NULL, 0), 1);
	assert_int_equal(sched(hosts, NELEM(hosts), 1, 512 * MiB + 1, NULL, 0), -ENOSPC);
	assert_int_equal(sched(hosts, NELEM(hosts), 1, 768 * MiB, msg, sizeof(msg)), -ENOSPC);
	assert_non_null(strstr(msg, "768M"));

	/* A host already over its memory (it shrank) takes nothing, not even 0 bytes. */
	hosts[1].memory_used = 3 * GiB;
	assert_int_equal(sched(hosts, NELEM(hosts), 1, 0, NULL, 0), 0);
	hosts[0].memory_used = 4 * GiB + 1;
	assert_int_equal(sched(hosts, NELEM(hosts), 1, 0, NULL, 0), -ENOSPC);
}

/* The room test is per host: a fit on cpus on one and memory on another is no fit. */
static void test_no_room_split(void **state)
{
	struct vdc_host_cap hosts[] = { HOST("cpu-rich", 64, 4 * GiB), HOST("mem-rich", 2, 256 * GiB) };

	(void)state;
	assert_int_equal(sched(hosts, NELEM(hosts), 8, 16 * GiB, NULL, 0), -ENOSPC);
	assert_int_equal(sched(hosts, NELEM(hosts), 8, 4 * GiB, NULL, 0), 0);
	assert_int_equal(sched(hosts, NELEM(hosts), 2, 16 * GiB, NULL, 0), 1);
}

/* ---- which host wins ---- */

static void test_largest_free_share(void **state)
{
	/* b has the most bytes free, c the largest share free: c wins. */
	struct vdc_host_cap hosts[] = { HOST("a", 16, 64 * GiB), HOST("b", 16, 256 * GiB),
					HOST("c", 16, 8 * GiB) };

	(void)state;
	hosts[0].memory_used = 48 * GiB;      /* 25% free */
	hosts[1].memory_used = 128 * GiB;     /* 50% free, 128G */
	hosts[2].memory_used = 2 * GiB;       /* 75% free, 6G */
	assert_int_equal(sched(hosts, NELEM(hosts), 1, GiB, NULL, 0), 2);

	/* Unless it lacks room. */
	assert_int_equal(sched(hosts, NELEM(hosts), 1, 7 * GiB, NULL, 0), 1);
	/* Or cpus. */
	hosts[2].cpus_used = 16;
	assert_int_equal(sched(hosts, NELEM(hosts), 1, GiB, NULL, 0), 1);
	/* Or it is not schedulable, or down. */
	hosts[2].cpus_used = 0;
	hosts[2].schedulable = false;
	assert_int_equal(sched(hosts, NELEM(hosts), 1, GiB, NULL, 0), 1);
	hosts[2].schedulable = true;
	hosts[2].up = false;
	assert_int_equal(sched(hosts, NELEM(hosts), 1, GiB, NULL, 0), 1);
}

static void test_tie_free_cpus(void **state)
{
	/* Both have half their memory free; b has more cpus free. */
	struct vdc_host_cap hosts[] = { HOST("a", 16, 16 * GiB), HOST("b", 8, 8 * GiB) };

	(void)state;
	hosts[0].memory_used = 8 * GiB;
	hosts[0].cpus_used = 12;              /* 4 free */
	hosts[1].memory_used = 4 * GiB;
	hosts[1].cpus_used = 2;               /* 6 free */
	assert_int_equal(sched(hosts, NELEM(hosts), 1, GiB, NULL, 0), 1);
	hosts[0].cpus_used = 9;               /* 7 free */
	assert_int_equal(sched(hosts, NELEM(hosts), 1, GiB, NULL, 0), 0);
}

static void test_tie_name(void **state)
{
	/* Same share, same free cpus: the smaller name wins, wherever it is. */
	struct vdc_host_cap fwd[] = { HOST("alpha", 8, 8 * GiB), HOST("beta", 8, 8 * GiB),
				      HOST("gamma", 8, 8 * GiB) };
	struct vdc_host_cap rev[] = { HOST("gamma", 8, 8 * GiB), HOST("beta", 8, 8 * GiB),
				      HOST("alpha", 8, 8 * GiB) };
	struct vdc_host_cap mid[] = { HOST("gamma", 8, 8 * GiB), HOST("alpha", 8, 8 * GiB),
				      HOST("beta", 8, 8 * GiB) };

	(void)state;
	assert_int_equal(sched(fwd, NELEM(fwd), 1, GiB, NULL, 0), 0);
	assert_int_equal(sched(rev, NELEM(rev), 1, GiB, NULL, 0), 2);
	assert_int_equal(sched(mid, NELEM(mid), 1, GiB, NULL, 0), 1);
	/* The name only breaks ties: a worse share loses whatever its name. */
	mid[1].memory_used = 1;
	assert_int_equal(sched(mid, NELEM(mid), 1, GiB, NULL, 0), 2);
}

/*
 * Place instances one by one as a caller would, counting them into the
 * chosen host, and check that no host is ever over capacity. With `spread`
 * (every host kept room throughout) also check that the result is spread
 * by share: when a host took its last instance its free share was the
 * largest, so (free_i + need) / mem_i >= free_j / mem_j for every pair at
 * the end.
 */
static unsigned place_all(struct vdc_host_cap *hosts, size_t n, unsigned count, unsigned cpus,
			  uint64_t memory, bool spread, unsigned *placed)
{
	unsigned k;
	size_t i, j;

	memset(placed, 0, n * sizeof(*placed));
	for (k = 0; k < count; k++) {
		int rc = sched(hosts, n, cpus, memory, NULL, 0);

		if (rc < 0) {
			assert_int_equal(rc, -ENOSPC);
			break;
		}
		hosts[rc].cpus_used += cpus;
		hosts[rc].memory_used += memory;
		placed[rc]++;
		assert_true(hosts[rc].cpus_used <= hosts[rc].cpus);
		assert_true(hosts[rc].memory_used <= hosts[rc].memory);
	}
	for (i = 0; spread && i < n; i++) {
		if (!placed[i])
			continue;
		for (j = 0; j < n; j++) {
			unsigned __int128 fi = hosts[i].memory - hosts[i].memory_used + memory;
			unsigned __int128 fj = hosts[j].memory - hosts[j].memory_used;

			assert_true(fi * hosts[j].memory >= fj * hosts[i].memory);
		}
	}
	return k;
}

static void test_spread_hundred(void **state)
{
	/* Memory 4:2:1, so 100 instances go about 57:29:14. */
	struct vdc_host_cap hosts[] = { HOST("small", 32, 16 * GiB), HOST("large", 128, 64 * GiB),
					HOST("medium", 64, 32 * GiB) };
	unsigned placed[NELEM(hosts)];

	(void)state;
	assert_int_equal(place_all(hosts, NELEM(hosts), 100, 1, 512 * MiB, true, placed), 100);
	assert_int_equal(placed[0] + placed[1] + placed[2], 100);
	assert_in_range(placed[1], 56, 58);
	assert_in_range(placed[2], 28, 30);
	assert_in_range(placed[0], 13, 15);
	assert_int_equal(hosts[1].memory_used, placed[1] * 512 * MiB);
}

/* Spreading from an uneven start: the emptier host catches up first. */
static void test_spread_uneven_start(void **state)
{
	struct vdc_host_cap hosts[] = { HOST("a", 64, 32 * GiB), HOST("b", 64, 32 * GiB) };
	unsigned placed[NELEM(hosts)];

	(void)state;
	hosts[0].memory_used = 16 * GiB;
	assert_int_equal(place_all(hosts, NELEM(hosts), 16, 1, GiB, true, placed), 16);
	assert_int_equal(placed[0], 0);
	assert_int_equal(placed[1], 16);
	assert_int_equal(place_all(hosts, NELEM(hosts), 10, 1, GiB, true, placed), 10);
	assert_int_equal(placed[0], 5);
	assert_int_equal(placed[1], 5);
}

/* Filling up: exactly the capacity is placed, then -ENOSPC. */
static void test_fill_to_capacity(void **state)
{
	struct vdc_host_cap hosts[] = { HOST("a", 64, 4 * GiB), HOST("b", 64, 2 * GiB), HOST("c", 3, 8 * GiB) };
	unsigned placed[NELEM(hosts)];
	char msg[VDC_ERR_MSG_MAX];

	(void)state;
	/* a takes 8 by memory, b 4 by memory, c 3 by cpus. */
	assert_int_equal(place_all(hosts, NELEM(hosts), 1000, 1, 512 * MiB, false, placed), 15);
	assert_int_equal(placed[0], 8);
	assert_int_equal(placed[1], 4);
	assert_int_equal(placed[2], 3);
	assert_int_equal(hosts[0].memory_used, hosts[0].memory);
	assert_int_equal(hosts[1].memory_used, hosts[1].memory);
	assert_int_equal(hosts[2].cpus_used, hosts[2].cpus);
	assert_int_equal(sched(hosts, NELEM(hosts), 1, 512 * MiB, msg, sizeof(msg)), -ENOSPC);
	assert_non_null(strstr(msg, "among 3 schedulable"));
}

/* ---- large numbers ---- */

static void test_huge_memory(void **state)
{
	/*
	 * The shares are compared by cross-multiplying: with 1 TiB hosts the
	 * products are about 2^80, which a 64-bit product would wrap to 0 and
	 * call a tie; then the cpus would wrongly pick a.
	 */
	struct vdc_host_cap hosts[] = { HOST("a", 64, TiB), HOST("b", 8, 2 * TiB) };

	(void)state;
	hosts[0].memory_used = 768 * GiB;     /* 25% free */
	hosts[1].memory_used = TiB;           /* 50% free */
	assert_int_equal(sched(hosts, NELEM(hosts), 1, 64 * GiB, NULL, 0), 1);
	hosts[1].memory_used = 2 * TiB - 256 * GiB;     /* 12.5% free */
	assert_int_equal(sched(hosts, NELEM(hosts), 1, 64 * GiB, NULL, 0), 0);
	/* Exact fit at a terabyte scale. */
	assert_int_equal(sched(hosts, NELEM(hosts), 1, 256 * GiB, NULL, 0), 0);
	hosts[0].memory_used += 1;
	assert_int_equal(sched(hosts, NELEM(hosts), 1, 256 * GiB, NULL, 0), 1);
	assert_int_equal(sched(hosts, NELEM(hosts), 1, 256 * GiB + 1, NULL, 0), -ENOSPC);
}

static void test_extreme_values(void **state)
{
	/* The whole uint64_t range: no wrap in the fit test or the comparison. */
	struct vdc_host_cap hosts[] = { HOST("a", UINT_MAX, UINT64_MAX), HOST("b", UINT_MAX, UINT64_MAX - 1) };
	char msg[VDC_ERR_MSG_MAX];

	(void)state;
	hosts[0].memory_used = UINT64_MAX / 2;          /* just under half free */
	hosts[1].memory_used = UINT64_MAX / 4;          /* three quarters free */
	assert_int_equal(sched(hosts, NELEM(hosts), 1, UINT64_MAX / 2, NULL, 0), 1);
	/* b has exactly 3 * 2^62 - 1 free: an exact fit, then one byte too many. */
	assert_int_equal(sched(hosts, NELEM(hosts), 1, UINT64_MAX - 1 - UINT64_MAX / 4, NULL, 0), 1);
	assert_int_equal(sched(hosts, NELEM(hosts), 1, UINT64_MAX - UINT64_MAX / 4, NULL, 0), -ENOSPC);
	assert_int_equal(sched(hosts, NELEM(hosts), 1, UINT64_MAX, msg, sizeof(msg)), -ENOSPC);
	assert_non_null(strstr(msg, "18446744073709551615"));
	hosts[0].memory_used = 0;
	assert_int_equal(sched(hosts, NELEM(hosts), 1, UINT64_MAX, NULL, 0), 0);
	/* Every cpu: an exact fit on a. */
	hosts[0].cpus_used = UINT_MAX - 1;
	assert_int_equal(sched(hosts, NELEM(hosts), 1, 1, NULL, 0), 0);
}

/* The closest miss is named, as scheduler.h promises for -ENOSPC. */
static void test_no_room_names_closest_miss(void **state)
{
	struct vdc_host_cap hosts[] = { HOST("tiny", 2, 2 * GiB), HOST("nearly", 16, 64 * GiB) };
	char msg[VDC_ERR_MSG_MAX];

	(void)state;
	hosts[1].memory_used = 60 * GiB;
	assert_int_equal(sched(hosts, NELEM(hosts), 4, 8 * GiB, msg, sizeof(msg)), -ENOSPC);
	assert_non_null(strstr(msg, "nearly"));
}

/* A need so large that cpus_used + cpus wraps around must not fit. */
static void test_cpus_need_wraps(void **state)
{
	struct vdc_host_cap hosts[] = { HOST("a", 8, 8 * GiB), HOST("b", UINT_MAX, 8 * GiB) };

	(void)state;
	hosts[0].cpus_used = 1;
	assert_int_equal(sched(hosts, 1, UINT_MAX, GiB, NULL, 0), -ENOSPC);
	/* b has every cpu but one taken: 2 more do not fit. */
	hosts[1].cpus_used = UINT_MAX - 1;
	assert_int_equal(sched(&hosts[1], 1, 2, GiB, NULL, 0), -ENOSPC);
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_hosts),
		cmocka_unit_test(test_no_host_up),
		cmocka_unit_test(test_none_schedulable),
		cmocka_unit_test(test_no_room_cpus),
		cmocka_unit_test(test_no_room_memory),
		cmocka_unit_test(test_no_room_split),
		cmocka_unit_test(test_largest_free_share),
		cmocka_unit_test(test_tie_free_cpus),
		cmocka_unit_test(test_tie_name),
		cmocka_unit_test(test_spread_hundred),
		cmocka_unit_test(test_spread_uneven_start),
		cmocka_unit_test(test_fill_to_capacity),
		cmocka_unit_test(test_huge_memory),
		cmocka_unit_test(test_extreme_values),
		cmocka_unit_test(test_no_room_names_closest_miss),
		cmocka_unit_test(test_cpus_need_wraps),
		cmocka_unit_test(test_networks_limit),
	};
	int failed = cmocka_run_group_tests_name("scheduler", tests, NULL, NULL);

	return failed;
}
