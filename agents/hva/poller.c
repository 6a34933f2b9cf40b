/*
 * What the agent core needs of vdc-hva (agents/common/core.h): its desired
 * state read and freed, its reports (report.c), and the consoles resent
 * when vdcfs answers again. The core's poller thread long-polls the
 * desired state of this host and hands every new revision to the worker.
 * While vdcfs is unreachable the guests run on, since nothing is done
 * without a desired state. A host token vdcfs refuses (the host was
 * removed with rmdir hosts/NAME) is not replaced by joining again on the
 * agent's own account: removing a host must not be undone by its agent.
 * The operator removes STATE/host.token to join anew.
 */
#include <stdlib.h>

#include "core.h"
#include "hva.h"

static void desired_free(void *d)
{
	hva_desired_release(d);
	free(d);
}

static int desired_parse(json_t *json, void **out, struct vdc_agent_desired_info *info,
			 struct vdc_err *err)
{
	struct hva_desired *d = xcalloc(1, sizeof(*d));
	int rc = hva_desired_from_json(json, d, err);

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

/* vdcfs answers again: it may have restarted and lost the consoles it keeps in memory. */
static void answering(void *agent)
{
	struct hva *h = agent;

	hva_console_resync(&h->console);
}

const struct vdc_agent_core_ops hva_core_ops = {
	.entries = "instances",
	.parse = desired_parse,
	.free_desired = desired_free,
	.report = hva_report_next,
	.answering = answering,
};
