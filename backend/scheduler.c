#include <string.h>

#include "scheduler.h"
#include "validate.h"

/* Is a better than b? Largest free memory share, then free cpus, then name. */
static bool better(const struct vdc_host_cap *a, const struct vdc_host_cap *b)
{
	/* Compare (mem_free_a / mem_a) with (mem_free_b / mem_b) without division. */
	unsigned __int128 fa = (unsigned __int128)(a->memory - a->memory_used) * b->memory;
	unsigned __int128 fb = (unsigned __int128)(b->memory - b->memory_used) * a->memory;

	if (fa != fb)
		return fa > fb;
	if (a->cpus - a->cpus_used != b->cpus - b->cpus_used)
		return a->cpus - a->cpus_used > b->cpus - b->cpus_used;
	return strcmp(a->name, b->name) < 0;
}

int vdc_schedule(const struct vdc_host_cap *hosts, size_t n, unsigned cpus, uint64_t memory,
		 struct vdc_err *err)
{
	size_t i, up = 0, sched = 0;
	long best = -1;
	char need[32];

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
		if (h->cpus_used + cpus > h->cpus || h->memory_used > h->memory ||
		    memory > h->memory - h->memory_used)
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
	vdc_size_format(memory, need, sizeof(need));
	return vdc_err_set(err, -ENOSPC, "no host has room for %u cpus and %s memory among %zu schedulable", cpus,
			   need, sched);
}
