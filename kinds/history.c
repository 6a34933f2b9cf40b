/*
 * The history of instances' use (history.h): a ring of one sample a
 * minute per instance, in a map by the instance's id (a rename keeps it).
 * A slot holds the minute it stands for, so a ring with gaps (the host
 * was silent, vdcfs was busy) is read right without filling them.
 */
#include <stdlib.h>
#include <string.h>

#include "history.h"
#include "place.h"

struct slot {
	int64_t minute;            /* 0: empty */
	double cpu;
	uint64_t net_bytes;
};

struct ring {
	struct slot s[VDC_HISTORY_SAMPLES];
};

static struct vdc_imap rings;   /* instance id -> struct ring */
static unsigned feeds;          /* since the last sweep of rings of gone instances */

/* Drop the rings of instances that are gone (write lock held). */
static void sweep(void)
{
	size_t i;

	for (i = 0; i < rings.cap; i++) {
		uint64_t id = rings.keys ? rings.keys[i] : 0;

		if (id == 0 || id == UINT64_MAX || vdc_obj_by_id((int64_t)id))
			continue;
		free(rings.values[i]);
		vdc_imap_del(&rings, id);
	}
}

void vdc_history_feed(const struct vdc_obj *inst, const struct vdc_usage_sample *s, time_t now)
{
	struct ring *r = vdc_imap_get(&rings, (uint64_t)inst->id);
	int64_t minute = (int64_t)now / VDC_HISTORY_PERIOD;
	struct slot *sl;

	if (!r) {
		r = xcalloc(1, sizeof(*r));
		vdc_imap_put(&rings, (uint64_t)inst->id, r);
	}
	sl = &r->s[minute % VDC_HISTORY_SAMPLES];
	sl->minute = minute;
	sl->cpu = s->cpu;
	sl->net_bytes = s->net_bytes;
	if (++feeds >= 4096) {
		feeds = 0;
		sweep();
	}
}

/*
 * What a report says of an instance's use (host.h's struct vdc_usage):
 * false while it says neither its cpu nor its bytes (an agent of before
 * the figures, a report of a guest that does not run). A net figure not
 * sent counts 0.
 */
static bool usage_sample_of(const struct vdc_seen *seen, struct vdc_usage_sample *out)
{
	const struct vdc_usage *u = &seen->usage;

	if (u->cpu < 0 && u->net_received < 0 && u->net_sent < 0)
		return false;
	out->cpu = u->cpu < 0 ? 0.0 : (double)u->cpu / 100.0;
	out->net_bytes = (uint64_t)(u->net_received < 0 ? 0 : u->net_received) +
			 (uint64_t)(u->net_sent < 0 ? 0 : u->net_sent);
	return true;
}

void vdc_history_report(struct vdc_obj *host)
{
	struct vdc_obj **placed;
	unsigned i, n;
	time_t now = vdc_now().tv_sec;

	placed = vdc_placed_on(host, &n);
	for (i = 0; i < n; i++) {
		const struct vdc_seen *seen = vdc_seen_of(placed[i]);
		struct vdc_usage_sample s;

		if (seen && usage_sample_of(seen, &s))
			vdc_history_feed(placed[i], &s, now);
	}
	free(placed);
}

bool vdc_history_get(const struct vdc_obj *inst, time_t now, struct vdc_history_point *out)
{
	const struct ring *r = vdc_imap_get(&rings, (uint64_t)inst->id);
	int64_t last = (int64_t)now / VDC_HISTORY_PERIOD, m;
	const struct slot *prev = NULL;
	bool any = false;
	unsigned i = 0;

	memset(out, 0, VDC_HISTORY_SAMPLES * sizeof(*out));
	if (!r)
		return false;
	for (m = last - VDC_HISTORY_SAMPLES + 1; m <= last; m++, i++) {
		const struct slot *sl = &r->s[((m % VDC_HISTORY_SAMPLES) + VDC_HISTORY_SAMPLES) % VDC_HISTORY_SAMPLES];

		if (sl->minute != m) {
			prev = NULL;
			continue;
		}
		out[i].have = any = true;
		out[i].cpu = sl->cpu;
		/* A guest restarted counts from zero again: no rate across that. */
		if (prev && sl->net_bytes >= prev->net_bytes)
			out[i].net_rate = (double)(sl->net_bytes - prev->net_bytes) / VDC_HISTORY_PERIOD;
		prev = sl;
	}
	return any;
}

void vdc_history_clear(void)
{
	size_t i;

	for (i = 0; i < rings.cap; i++)
		if (rings.keys && rings.keys[i] && rings.keys[i] != UINT64_MAX)
			free(rings.values[i]);
	vdc_imap_clear(&rings);
	feeds = 0;
}
