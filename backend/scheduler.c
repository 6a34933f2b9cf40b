#include <string.h>

#include "scheduler.h"
#include "validate.h"

/* Is a better than b? Largest free memory share, then free cpus, then name. */
static bool better(const struct vdc_host_cap *a, const struct vdc_host_cap *b)
{
	/* Compare (mem_free_a / mem_a) with (mem_free_b / mem_b) without division. */
	uint64_t ma = a->memory > a->memory_used ? a->memory - a->memory_used : 0;
	uint64_t mb = b->memory > b->memory_used ? b->memory - b->memory_used : 0;
	unsigned ca = a->cpus > a->cpus_used ? a->cpus - a->cpus_used : 0;
	unsigned cb = b->cpus > b->cpus_used ? b->cpus - b->cpus_used : 0;
	unsigned __int128 fa = (unsigned __int128)ma * b->memory;
	unsigned __int128 fb = (unsigned __int128)mb * a->memory;

	if (fa != fb)
		return fa > fb;
	if (ca != cb)
		return ca > cb;
	return strcmp(a->name, b->name) < 0;
}

/* Would the host's desired state pass a per-host limit with the instance's networks, groups or nics? */
static bool crowded_by(const struct vdc_host_cap *h)
{
	return h->networks > VDC_HOST_NETWORKS_MAX || h->groups > VDC_HOST_GROUPS_MAX || h->nics > VDC_HOST_NICS_MAX;
}

/* How many of cpus and memory the host lacks room for: 0, 1 or 2. */
static int misses(const struct vdc_host_cap *h, unsigned cpus, uint64_t memory)
{
	int n = 0;

	if (h->cpus_used > h->cpus || cpus > h->cpus - h->cpus_used)
		n++;
	if (h->memory_used > h->memory || memory > h->memory - h->memory_used)
		n++;
	return n;
}

/* For the sentence when nothing fits: fewer misses, then more memory free. */
static bool nearer(const struct vdc_host_cap *a, const struct vdc_host_cap *b, unsigned cpus,
		   uint64_t memory)
{
	int ma = misses(a, cpus, memory), mb = misses(b, cpus, memory);
	uint64_t fa = a->memory > a->memory_used ? a->memory - a->memory_used : 0;
	uint64_t fb = b->memory > b->memory_used ? b->memory - b->memory_used : 0;

	if (ma != mb)
		return ma < mb;
	return fa > fb;
}

int vdc_schedule(const struct vdc_host_cap *hosts, size_t n, unsigned cpus, uint64_t memory,
		 struct vdc_err *err)
{
	size_t i, up = 0, sched = 0, crowded = 0;
	long best = -1, closest = -1;
	char need[32], free_mem[32];

	if (n == 0)
		return vdc_err_set(err, -ENOSPC, "no host has joined yet; an instance can run once a hypervisor host joins");
	for (i = 0; i < n; i++) {
		const struct vdc_host_cap *h = &hosts[i];

		if (!h->up)
			continue;
		up++;
		if (!h->schedulable)
			continue;
		sched++;
		if (crowded_by(h)) {
			crowded++;
			continue;
		}
		if (misses(h, cpus, memory))
			continue;
		if (best < 0 || better(h, &hosts[best]))
			best = (long)i;
	}
	if (best >= 0)
		return (int)best;
	if (!up)
		return vdc_err_set(err, -ENOSPC, "none of the %zu joined hosts is reporting", n);
	if (!sched)
		return vdc_err_set(err, -ENOSPC, "no reporting host is schedulable (schedulable is off on all %zu)", up);
	if (crowded == sched)
		return vdc_err_set(err, -ENOSPC,
				   "no host can take this instance's networks and security groups: on each of the %zu schedulable hosts they would pass the most one host takes (%d networks, %d security groups, %d nics on networks)",
				   sched, VDC_HOST_NETWORKS_MAX, VDC_HOST_GROUPS_MAX, VDC_HOST_NICS_MAX);
	/* Nothing fits: find the closest miss for the sentence (rare, so a second pass). */
	for (i = 0; i < n; i++)
		if (hosts[i].up && hosts[i].schedulable && !crowded_by(&hosts[i]) &&
		    (closest < 0 || nearer(&hosts[i], &hosts[closest], cpus, memory)))
			closest = (long)i;
	vdc_size_format(memory, need, sizeof(need));
	{
		const struct vdc_host_cap *c = &hosts[closest];

		vdc_size_format(c->memory > c->memory_used ? c->memory - c->memory_used : 0, free_mem,
				sizeof(free_mem));
		return vdc_err_set(err, -ENOSPC,
				   "no host has room for %u cpus and %s memory among %zu schedulable%s; the closest, %s, has %u cpus and %s free",
				   cpus, need, sched - crowded, crowded ? " within the networks and groups limits" : "", c->name,
				   c->cpus > c->cpus_used ? c->cpus - c->cpus_used : 0, free_mem);
	}
}
