/*
 * bench-scheduler: how much control-plane CPU placement costs.
 *
 *   bench-scheduler [N [H]]
 *
 * Issue 3 asks that placing 10,000 instances on 1,000 hosts take under a
 * second of control-plane CPU. This builds H hosts (default 1,000) of varied
 * size, a few of them not schedulable, and places N instances (default
 * 10,000) of varied size one by one with vdc_schedule(), adding each
 * instance to the chosen host before placing the next, as the control plane
 * does.
 *
 * A time alone says little about the code, so the same run times the
 * cheapest placement possible over the same inputs: a first-fit loop over
 * the same host array with the same updates. The ratio between the two is
 * what vdc_schedule() pays for spreading load and for naming the closest
 * miss when nothing fits. Each is run three times and the median reported.
 *
 * The inputs come from a fixed-seed generator, so every run places the same
 * instances on the same hosts. The placements vdc_schedule() made are
 * checked afterwards, outside the timing, so a wrong answer is never
 * reported as a fast one.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scheduler.h"

#define GIB (UINT64_C(1) << 30)
#define MIB (UINT64_C(1) << 20)
#define REPEATS 3
#define NAME_SIZE 24   /* "host" and any size_t in decimal */

static const char *prog = "bench-scheduler";

struct request {
	unsigned cpus;
	uint64_t memory;
};

struct timing {
	double cpu, wall;   /* seconds */
	size_t unschedulable;
};

static void __attribute__((noreturn)) usage(void)
{
	fprintf(stderr, "usage: %s [N [H]]\n"
		"Places N instances (default 10000) on H hosts (default 1000) with vdc_schedule()\n"
		"and with a first-fit loop, and prints the median CPU time of %d runs of each.\n",
		prog, REPEATS);
	exit(2);
}

static void __attribute__((noreturn)) die(const char *msg)
{
	fprintf(stderr, "%s: %s\n", prog, msg);
	exit(1);
}

static size_t parse_count(const char *s)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v == 0 || v > 100000000UL)
		usage();
	return (size_t)v;
}

/* splitmix64: a small generator with a fixed seed, so every run sees the same inputs. */
static uint64_t next_random(uint64_t *state)
{
	uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* A number in [lo, hi]; the modulo bias is irrelevant here. */
static uint64_t random_between(uint64_t *state, uint64_t lo, uint64_t hi)
{
	return lo + next_random(state) % (hi - lo + 1);
}

static double seconds(clockid_t clock)
{
	struct timespec ts;

	if (clock_gettime(clock, &ts) < 0)
		die("clock_gettime failed");
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Hosts of 8..128 cpus and 16G..1T memory (in steps of 16G), all up, about
 * one in fifty not schedulable. `names` holds the names, NAME_SIZE bytes each.
 */
static void hosts_init(struct vdc_host_cap *hosts, char *names, size_t n)
{
	uint64_t state = 1;
	size_t i;

	for (i = 0; i < n; i++) {
		char *name = names + i * NAME_SIZE;

		snprintf(name, NAME_SIZE, "host%zu", i);
		hosts[i].name = name;
		hosts[i].cpus = (unsigned)random_between(&state, 8, 128);
		hosts[i].memory = random_between(&state, 1, 64) * 16 * GIB;
		hosts[i].schedulable = random_between(&state, 0, 49) != 0;
		hosts[i].up = true;
	}
}

static void hosts_reset(struct vdc_host_cap *hosts, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		hosts[i].cpus_used = 0;
		hosts[i].memory_used = 0;
	}
}

/* Instances of 1..8 cpus and 512M..16G memory (in steps of 512M). */
static void requests_init(struct request *reqs, size_t n)
{
	uint64_t state = 2;
	size_t i;

	for (i = 0; i < n; i++) {
		reqs[i].cpus = (unsigned)random_between(&state, 1, 8);
		reqs[i].memory = random_between(&state, 1, 32) * 512 * MIB;
	}
}

static void place(struct vdc_host_cap *h, const struct request *r)
{
	h->cpus_used += r->cpus;
	h->memory_used += r->memory;
}

/* The cheapest placement there is: the first schedulable host with room. */
static long first_fit(const struct vdc_host_cap *hosts, size_t n, const struct request *r)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const struct vdc_host_cap *h = &hosts[i];

		if (h->up && h->schedulable && h->cpus - h->cpus_used >= r->cpus &&
		    h->memory - h->memory_used >= r->memory)
			return (long)i;
	}
	return -1;
}

static struct timing run_schedule(struct vdc_host_cap *hosts, size_t nhosts,
				  const struct request *reqs, size_t nreqs, long *chosen)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct timing t = { 0, 0, 0 };
	double cpu0, wall0;
	size_t i;

	hosts_reset(hosts, nhosts);
	cpu0 = seconds(CLOCK_PROCESS_CPUTIME_ID);
	wall0 = seconds(CLOCK_MONOTONIC);
	for (i = 0; i < nreqs; i++) {
		int r = vdc_schedule(hosts, nhosts, reqs[i].cpus, reqs[i].memory, &err);

		chosen[i] = r;
		if (r >= 0)
			place(&hosts[r], &reqs[i]);
		else if (r == -ENOSPC)
			t.unschedulable++;
		else
			die(err.msg);
	}
	t.cpu = seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
	t.wall = seconds(CLOCK_MONOTONIC) - wall0;
	return t;
}

static struct timing run_first_fit(struct vdc_host_cap *hosts, size_t nhosts,
				   const struct request *reqs, size_t nreqs, long *chosen)
{
	struct timing t = { 0, 0, 0 };
	double cpu0, wall0;
	size_t i;

	hosts_reset(hosts, nhosts);
	cpu0 = seconds(CLOCK_PROCESS_CPUTIME_ID);
	wall0 = seconds(CLOCK_MONOTONIC);
	for (i = 0; i < nreqs; i++) {
		long r = first_fit(hosts, nhosts, &reqs[i]);

		chosen[i] = r;
		if (r >= 0)
			place(&hosts[r], &reqs[i]);
		else
			t.unschedulable++;
	}
	t.cpu = seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
	t.wall = seconds(CLOCK_MONOTONIC) - wall0;
	return t;
}

/*
 * Replay the placements of a run and fail if one went to a host that was
 * not schedulable or had no room at that point.
 */
static void check_placements(struct vdc_host_cap *hosts, size_t nhosts,
			     const struct request *reqs, size_t nreqs, const long *chosen)
{
	size_t i;

	hosts_reset(hosts, nhosts);
	for (i = 0; i < nreqs; i++) {
		struct vdc_host_cap *h;

		if (chosen[i] < 0)
			continue;
		if ((size_t)chosen[i] >= nhosts)
			die("vdc_schedule returned a host index out of range");
		h = &hosts[chosen[i]];
		if (!h->up || !h->schedulable)
			die("vdc_schedule chose a host that is down or not schedulable");
		if (h->cpus - h->cpus_used < reqs[i].cpus || h->memory - h->memory_used < reqs[i].memory)
			die("vdc_schedule chose a host without room");
		place(h, &reqs[i]);
	}
}

static int compare_cpu(const void *a, const void *b)
{
	double x = ((const struct timing *)a)->cpu, y = ((const struct timing *)b)->cpu;

	return (x > y) - (x < y);
}

/* The run with the median CPU time; its wall time and count come with it. */
static struct timing median(struct timing *runs, size_t n)
{
	qsort(runs, n, sizeof(*runs), compare_cpu);
	return runs[n / 2];
}

int main(int argc, char **argv)
{
	size_t nreqs = 10000, nhosts = 1000, i;
	struct timing sched[REPEATS], ff[REPEATS], s, f;
	struct vdc_host_cap *hosts;
	struct request *reqs;
	char *names;
	long *chosen;

	if (argc > 3)
		usage();
	if (argc > 1)
		nreqs = parse_count(argv[1]);
	if (argc > 2)
		nhosts = parse_count(argv[2]);

	hosts = calloc(nhosts, sizeof(*hosts));
	names = calloc(nhosts, NAME_SIZE);
	reqs = calloc(nreqs, sizeof(*reqs));
	chosen = calloc(nreqs, sizeof(*chosen));
	if (!hosts || !names || !reqs || !chosen)
		die("out of memory");
	hosts_init(hosts, names, nhosts);
	requests_init(reqs, nreqs);

	/* Alternate the two so that a slow moment of the machine hits both alike. */
	for (i = 0; i < REPEATS; i++) {
		sched[i] = run_schedule(hosts, nhosts, reqs, nreqs, chosen);
		check_placements(hosts, nhosts, reqs, nreqs, chosen);
		ff[i] = run_first_fit(hosts, nhosts, reqs, nreqs, chosen);
	}
	s = median(sched, REPEATS);
	f = median(ff, REPEATS);

	printf("scheduler: %zu instances on %zu hosts: vdc_schedule %.3f s CPU (%zu unschedulable), "
	       "first-fit %.3f s (%zu unschedulable), ratio %.1fx (target < 1 s%s)\n",
	       nreqs, nhosts, s.cpu, s.unschedulable, f.cpu, f.unschedulable,
	       f.cpu > 0 ? s.cpu / f.cpu : 0.0, s.cpu < 1.0 ? "" : ", MISSED");
	printf("scheduler: wall time: vdc_schedule %.3f s, first-fit %.3f s (median of %d runs each)\n",
	       s.wall, f.wall, REPEATS);

	free(chosen);
	free(reqs);
	free(names);
	free(hosts);
	return 0;
}
