/*
 * The poller: long-polls the desired state of this storage host and hands
 * every new revision to the worker (the loop is vdc_agent_poll_loop()).
 * While vdcfs is unreachable the targets serve on, since nothing is done
 * without a desired state. A host token vdcfs refuses is not replaced by
 * joining again on the agent's own account (see docs/vdc-hva.md, "Joins
 * once").
 */
#include <inttypes.h>
#include <stdlib.h>

#include "agent.h"
#include "log.h"
#include "sta.h"

static void desired_free(void *d)
{
	sta_desired_release(d);
	free(d);
}

static int desired_parse(json_t *json, void **out, uint64_t *rev, struct vdc_err *err)
{
	struct sta_desired *d = xcalloc(1, sizeof(*d));
	int rc = sta_desired_from_json(json, d, err);

	if (rc < 0) {
		desired_free(d);
		return rc;
	}
	*rev = d->rev;
	*out = d;
	return 0;
}

static void hand_over(void *agent, void *desired)
{
	struct sta *s = agent;
	struct sta_desired *d = desired;

	const struct vdc_agent_desired_info info = { .rev = d->rev, .heartbeat = d->heartbeat, .n = d->n };

	vdc_agent_core_hand_over(&s->core, d, &info);
}

void *sta_poller_thread(void *arg)
{
	struct sta *s = arg;
	const struct vdc_agent_poller poller = {
		.proto = &s->proto,
		.lock = &s->core.lock,
		.quit_cond = &s->core.quit_cond,
		.quit = &s->core.quit,
		.name = s->name,
		.statedir = s->statedir,
		.agent = s,
		.parse = desired_parse,
		.free_desired = desired_free,
		.hand_over = hand_over,
	};

	vdc_agent_poll_loop(&poller);
	return NULL;
}

/* The copier waits on a condition of its own. */
static void wake(void *agent)
{
	struct sta *s = agent;

	pthread_cond_broadcast(&s->copier_cond);
}

const struct vdc_agent_core_ops sta_core_ops = {
	.entries = "volumes",
	.free_desired = desired_free,
	.wake = wake,
};
