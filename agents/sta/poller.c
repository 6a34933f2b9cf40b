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

	log_debug("desired state revision %" PRIu64 ": %zu volumes", d->rev, d->n);
	pthread_mutex_lock(&s->lock);
	if (s->pending)
		desired_free(s->pending);
	s->pending = d;
	s->server_heartbeat = d->heartbeat;
	s->worker_kick = true;
	pthread_cond_signal(&s->worker_cond);
	pthread_mutex_unlock(&s->lock);
}

void *sta_poller_thread(void *arg)
{
	struct sta *s = arg;
	const struct vdc_agent_poller poller = {
		.proto = &s->proto,
		.lock = &s->lock,
		.quit_cond = &s->quit_cond,
		.quit = &s->quit,
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
