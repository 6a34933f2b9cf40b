/*
 * Layer: kinds, above placement (place.h) and hosts (host.h), below the
 * renderers of /vdc/run (metrics.h, dashboard.h) and reconcile.c, which
 * feeds it after every report (docs/HACKING.md, "Layers").
 *
 * The recent history of each instance's use, kept in memory only (a
 * restart of vdcfs starts it again): one sample a minute for the last
 * hour, for the sparklines of /vdc/run/dashboard.html.
 *
 * Contract
 * --------
 * - vdc_history_feed() and vdc_history_report() with the model's write
 *   lock held, vdc_history_get() with the read lock; memory is bounded:
 *   VDC_HISTORY_SAMPLES samples per instance, and an instance's ring is
 *   dropped once the instance is gone.
 * - A sample holds what reports carry. Today a hypervisor's report says
 *   nothing of use, so vdc_history_report() feeds nothing until
 *   usage_sample_of() (history.c) is filled from the report's usage
 *   figures; vdc_history_feed() is the one entry point for samples.
 */
#ifndef VDC_HISTORY_H
#define VDC_HISTORY_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "model.h"

#define VDC_HISTORY_SAMPLES 60     /* kept per instance */
#define VDC_HISTORY_PERIOD 60      /* seconds a sample stands for */

/* What one report says of an instance's use. */
struct vdc_usage_sample {
	double cpu;                /* percent of one host CPU (up to 100 per vCPU) */
	uint64_t net_bytes;        /* received and sent in all, since the guest started */
};

/* One point of the history: a minute, oldest first. */
struct vdc_history_point {
	bool have;                 /* a sample was taken in that minute */
	double cpu;                /* percent */
	double net_rate;           /* bytes a second since the sample before (0 for the first) */
};

/* Record a sample of `inst` taken at `now` (wall-clock seconds); the last one of a minute stands for it. */
void vdc_history_feed(const struct vdc_obj *inst, const struct vdc_usage_sample *s, time_t now);
/* A hypervisor's report was recorded: feed a sample of every instance it carries figures of. */
void vdc_history_report(struct vdc_obj *host);
/*
 * The last VDC_HISTORY_SAMPLES minutes up to `now` of `inst` into `out`
 * (VDC_HISTORY_SAMPLES points, oldest first); false when it has no sample.
 */
bool vdc_history_get(const struct vdc_obj *inst, time_t now, struct vdc_history_point *out);
/* Forget every ring (the unit tests, at a model's close). */
void vdc_history_clear(void);

#endif
