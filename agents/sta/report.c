/*
 * The reporter's part that is vdc-sta's own (the loop that numbers and
 * posts is the agent core's, agents/common/core.c): the observed state of
 * the storage host (POST /v1/hosts/NAME/report), due after every pass of
 * the worker, while a copy makes progress (at most once a second), and at
 * least every heartbeat. Each report is whole: every desired volume as the
 * worker last saw it, with the bytes its file holds now and the copy under
 * way. Reports carry the agent's epoch and a sequence number, so vdcfs
 * drops one that arrives late. The document itself is written by
 * report_doc.c.
 *
 * Nothing is reported before the first pass: an empty volume list would
 * read as "everything is gone".
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "agent.h"
#include "log.h"
#include "report_doc.h"
#include "sta.h"

/* Reports on progress alone are at least this far apart. */
#define PROGRESS_EVERY_MS 1000L

static unsigned heartbeat_s(struct sta *s)
{
	return vdc_agent_core_heartbeat_s(&s->core, s->opt.agent.heartbeat_s, s->opt.agent.heartbeat_given);
}

/*
 * Add each volume's allocated bytes (its file now) and the progress line:
 * the copier's, or how far the fetch of the image it waits for is.
 */
static void complete(struct sta *s, json_t *vols, uint64_t progress_vol, const char *progress,
		     const struct sta_fetch *fetches, size_t n_fetches)
{
	size_t i, k;
	json_t *v;

	json_array_foreach(vols, i, v) {
		uint64_t id = sta_report_volume_id(v);
		char path[PATH_MAX], line[sizeof(s->progress)] = "";
		struct stat sb;
		uint64_t allocated = 0;

		sta_volume_path(s, id, path);
		if (stat(path, &sb) == 0)
			allocated = (uint64_t)sb.st_blocks * 512;
		for (k = 0; k < n_fetches && id != progress_vol; k++)
			if (fetches[k].vol_id == id)
				vdc_image_fetch_progress(&s->images, &fetches[k].image, line, sizeof(line));
		sta_report_volume_complete(v, allocated, id == progress_vol ? progress : line);
	}
}

static json_t *build_report(struct sta *s, uint64_t seq, uint64_t rev, json_t *vols)
{
	const struct sta_report_facts f = {
		.disk_mib = s->disk_mib, .driver = s->drv->name, .portal = s->opt.portal, .version = STA_VERSION,
	};

	return sta_report_json(s->core.epoch_us, seq, rev, &f, vols);
}

/* Wait until a report is due; false when the agent stops. Takes `lock` and leaves it held. */
static bool wait_due(struct sta *s, long next, long last)
{
	pthread_mutex_lock(&s->core.lock);
	for (;;) {
		struct timespec ts;
		long now = vdc_agent_now_ms(), at = next;

		if (s->core.quit)
			return false;
		if (s->core.report_kick && s->volumes) {
			/* Progress alone does not report more than once a second. */
			if (now - last >= PROGRESS_EVERY_MS || !s->running)
				return true;
			at = last + PROGRESS_EVERY_MS < next ? last + PROGRESS_EVERY_MS : next;
		}
		if (now >= next && s->volumes)
			return true;
		ts.tv_sec = at / 1000;
		ts.tv_nsec = (at % 1000) * 1000000;
		pthread_cond_timedwait(&s->core.report_cond, &s->core.lock, &ts);
	}
}

int sta_report_next(void *agent, uint64_t seq, long *next, json_t **report)
{
	struct sta *s = agent;
	char progress[sizeof(s->progress)];
	uint64_t rev, progress_vol;
	struct sta_fetch *fetches;
	size_t n_fetches;
	json_t *vols;

	*report = NULL;
	if (!wait_due(s, *next ? *next : vdc_agent_now_ms() + 1000, s->report_last)) {
		pthread_mutex_unlock(&s->core.lock);
		return -ECANCELED;
	}
	s->core.report_kick = false;
	vols = json_deep_copy(s->volumes);
	rev = s->core.rev_done;
	progress_vol = s->progress_vol;
	memcpy(progress, s->progress, sizeof(progress));
	n_fetches = s->n_fetches;
	fetches = xmalloc((n_fetches + 1) * sizeof(*fetches));
	if (n_fetches)
		memcpy(fetches, s->fetches, n_fetches * sizeof(*fetches));
	pthread_mutex_unlock(&s->core.lock);

	s->report_last = vdc_agent_now_ms();
	*next = s->report_last + (long)heartbeat_s(s) * 1000;
	/* While images arrive, their progress is told every second. */
	if (n_fetches && *next > s->report_last + PROGRESS_EVERY_MS)
		*next = s->report_last + PROGRESS_EVERY_MS;
	complete(s, vols, progress_vol, progress, fetches, n_fetches);
	free(fetches);
	*report = build_report(s, seq, rev, vols);
	return 0;
}
