/*
 * The poller: long-polls the desired state of this host and hands every
 * new revision to the worker (the loop is vdc_agent_poll_loop()). While
 * vdcfs is unreachable the guests run on, since nothing is done without a
 * desired state. A host token vdcfs refuses (the host was removed with
 * rmdir hosts/NAME) is not replaced by joining again on the agent's own
 * account: removing a host must not be undone by its agent. The operator
 * removes STATE/host.token to join anew.
 */
#include <inttypes.h>
#include <stdlib.h>

#include "agent.h"
#include "hva.h"
#include "log.h"

static void desired_free(void *d)
{
	hva_desired_release(d);
	free(d);
}

static int desired_parse(json_t *json, void **out, uint64_t *rev, struct vdc_err *err)
{
	struct hva_desired *d = xcalloc(1, sizeof(*d));
	int rc = hva_desired_from_json(json, d, err);

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
	struct hva *h = agent;
	struct hva_desired *d = desired;

	const struct vdc_agent_desired_info info = { .rev = d->rev, .heartbeat = d->heartbeat, .n = d->n };

	vdc_agent_core_hand_over(&h->core, d, &info);
}

/* vdcfs answers again: it may have restarted and lost the consoles it keeps in memory. */
static void answering(void *agent)
{
	struct hva *h = agent;

	hva_console_resync(&h->console);
}

void *hva_poller_thread(void *arg)
{
	struct hva *h = arg;
	const struct vdc_agent_poller poller = {
		.proto = &h->proto,
		.lock = &h->core.lock,
		.quit_cond = &h->core.quit_cond,
		.quit = &h->core.quit,
		.name = h->name,
		.statedir = h->statedir,
		.agent = h,
		.parse = desired_parse,
		.free_desired = desired_free,
		.hand_over = hand_over,
		.answering = answering,
	};

	vdc_agent_poll_loop(&poller);
	return NULL;
}

const struct vdc_agent_core_ops hva_core_ops = {
	.entries = "instances",
	.free_desired = desired_free,
	.answering = answering,
};
