/*
 * What the agent core needs of vdc-sta (agents/common/core.h): its desired
 * state read and freed, its reports (report.c), and the copier woken when
 * the agent stops. The core's poller thread long-polls the desired state
 * of this storage host and hands every new revision to the worker. While
 * vdcfs is unreachable the targets serve on, since nothing is done without
 * a desired state. A host token vdcfs refuses is not replaced by joining
 * again on the agent's own account (see docs/vdc-hva.md, "Joins once").
 */
#include <stdlib.h>

#include "core.h"
#include "sta.h"

static void desired_free(void *d)
{
	sta_desired_release(d);
	free(d);
}

static int desired_parse(json_t *json, void **out, struct vdc_agent_desired_info *info,
			 struct vdc_err *err)
{
	struct sta_desired *d = xcalloc(1, sizeof(*d));
	int rc = sta_desired_from_json(json, d, err);

	if (rc < 0) {
		desired_free(d);
		return rc;
	}
	info->rev = d->rev;
	info->heartbeat = d->heartbeat;
	info->n = d->n;
	*out = d;
	return 0;
}

/* The copier waits on a condition of its own. */
static void wake(void *agent)
{
	struct sta *s = agent;

	pthread_cond_broadcast(&s->copier_cond);
}

const struct vdc_agent_core_ops sta_core_ops = {
	.entries = "volumes",
	.parse = desired_parse,
	.free_desired = desired_free,
	.report = sta_report_next,
	.wake = wake,
};
