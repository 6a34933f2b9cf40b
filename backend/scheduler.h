/*
 * Layer: support, under the kinds: a pure function, calling nothing of
 * the model (instance.c calls it with place.c's vdc_hosts_caps()).
 *
 * The scheduler: picks a host for an instance.
 *
 * Placement is a pure function of the hosts' capacity and use, so it is
 * unit-tested without a data center: the host that fits (cpus and memory,
 * schedulable, and its desired state within the per-host limits of
 * vdc_limits.h with the instance's networks added) and has the largest
 * share of its memory free wins, which spreads load; ties go to the most
 * free cpus, then the name.
 */
#ifndef VDC_SCHEDULER_H
#define VDC_SCHEDULER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "vdc_limits.h"

struct vdc_host_cap {
	const char *name;
	unsigned cpus, cpus_used;
	uint64_t memory, memory_used;   /* bytes */
	bool schedulable;
	bool up;                        /* reporting */
	/*
	 * Networks, security groups and nics on networks its desired state
	 * would carry with the instance placed on it (0: not counted).
	 */
	unsigned networks, groups, nics;
};

/*
 * Choose among `hosts` for an instance needing `cpus` and `memory`.
 * Returns the index, or -ENOSPC with the reason in `err` (no host joined,
 * none schedulable, none within the per-host limits of vdc_limits.h
 * (networks, security groups, nics), none with room) and the closest
 * miss named.
 */
int vdc_schedule(const struct vdc_host_cap *hosts, size_t n, unsigned cpus, uint64_t memory,
		 struct vdc_err *err);

#endif
