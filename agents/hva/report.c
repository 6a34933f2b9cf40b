/*
 * The reporter's part that is vdc-hva's own (the loop that numbers and
 * posts is the agent core's, agents/common/core.c): the observed state of
 * the host (POST /v1/hosts/NAME/report), due after every domain event,
 * after every pass of the worker, every second while an image is fetched
 * for a start (its progress), and at least every heartbeat. Each report
 * is whole: every desired instance with libvirt's state of its domain
 * (read in one call, virConnectGetAllDomainStats) and what the worker
 * adds (starting, stopping, error and its sentence, how far the fetch of
 * the image a start waits for is), with the usage figures of the host
 * and of each running domain from the same call's statistics
 * (usage_sample.c keeps the samples rates need). Reports carry the
 * agent's epoch and a sequence number, so vdcfs drops one that arrives
 * late. The document itself is written by report_doc.c.
 *
 * No report goes while libvirt is unreachable: vdcfs then sees a silent
 * host and shows its instances `unknown`, which is the truth.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libvirt/virterror.h>

#include "agent.h"
#include "hva.h"
#include "log.h"
#include "report_doc.h"
#include "wire_doc.h"

#define DEFAULT_HEARTBEAT_S 5
/* While an image is fetched for a start, its progress is reported this often. */
#define PROGRESS_EVERY_MS 1000L

const char *hva_report_state(const struct hva_status *st, bool defined, int state, int reason)
{
	switch (st->phase) {
	case HVA_PHASE_ERROR:
		return VDC_WIRE_STATE_ERROR;
	case HVA_PHASE_STARTING:
		return VDC_WIRE_INST_STARTING;
	case HVA_PHASE_STOPPING:
		return defined && state != VIR_DOMAIN_SHUTOFF ? VDC_WIRE_INST_STOPPING : VDC_WIRE_INST_STOPPED;
	case HVA_PHASE_MIGRATING:
		return VDC_WIRE_INST_MIGRATING;
	case HVA_PHASE_MIGRATED:
		return VDC_WIRE_INST_MIGRATED;
	case HVA_PHASE_INCOMING:
		/* Until it runs here: the incoming domain waits paused for its memory. */
		if (!defined || state == VIR_DOMAIN_PAUSED)
			return VDC_WIRE_INST_INCOMING;
		break;
	case HVA_PHASE_NONE:
		break;
	}
	if (!defined)
		return st->power_on ? VDC_WIRE_INST_STARTING : VDC_WIRE_INST_STOPPED;
	switch (state) {
	case VIR_DOMAIN_RUNNING:
	case VIR_DOMAIN_BLOCKED:
		return VDC_WIRE_INST_RUNNING;
	case VIR_DOMAIN_PAUSED:
		if (reason == VIR_DOMAIN_PAUSED_STARTING_UP)
			return VDC_WIRE_INST_STARTING;
		if (reason == VIR_DOMAIN_PAUSED_SHUTTING_DOWN)
			return VDC_WIRE_INST_STOPPING;
		if (reason == VIR_DOMAIN_PAUSED_CRASHED)
			return VDC_WIRE_INST_CRASHED;
		return VDC_WIRE_INST_PAUSED;
	case VIR_DOMAIN_SHUTDOWN:
		return VDC_WIRE_INST_STOPPING;
	case VIR_DOMAIN_SHUTOFF:
		return reason == VIR_DOMAIN_SHUTOFF_CRASHED ? VDC_WIRE_INST_CRASHED : VDC_WIRE_INST_STOPPED;
	case VIR_DOMAIN_CRASHED:
		return VDC_WIRE_INST_CRASHED;
	case VIR_DOMAIN_PMSUSPENDED:
		return VDC_WIRE_INST_PAUSED;
	default:
		return st->power_on ? VDC_WIRE_INST_STARTING : VDC_WIRE_INST_STOPPED;
	}
}

/* One domain's state from a stats record, and the record's statistics (none from the fallback). */
struct dom_state {
	const char *name;
	int state, reason;
	const virTypedParameter *params;
	int nparams;
};

/*
 * What the report asks of libvirt: the state, and the statistics the
 * usage figures come from (usage_sample.h). NOWAIT: a domain busy with a job (a
 * live migration) answers what it has at once instead of holding the
 * report back; what it cannot say now is absent, and so not known.
 */
#define REPORT_STATS (VIR_DOMAIN_STATS_STATE | VIR_DOMAIN_STATS_CPU_TOTAL | VIR_DOMAIN_STATS_BALLOON | \
		      VIR_DOMAIN_STATS_INTERFACE | VIR_DOMAIN_STATS_BLOCK)

/*
 * Every domain's state: one call where the driver has it (qemu), else a
 * list and a call per domain (lxc lacks virConnectGetAllDomainStats).
 * `*recs` or `*doms` holds what the names point into; the caller frees
 * both with free_states().
 */
static struct dom_state *read_states(virConnectPtr conn, virDomainStatsRecordPtr **recs,
				     virDomainPtr **doms, int *n)
{
	struct dom_state *out;
	int i, k;

	*recs = NULL;
	*doms = NULL;
	*n = virConnectGetAllDomainStats(conn, REPORT_STATS, recs, VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT);
	if (*n < 0 && virGetLastErrorCode() == VIR_ERR_NO_SUPPORT) {
		*n = virConnectListAllDomains(conn, doms, 0);
		if (*n < 0)
			return NULL;
		out = xcalloc(*n ? (size_t)*n : 1, sizeof(*out));
		for (i = 0; i < *n; i++) {
			out[i].name = virDomainGetName((*doms)[i]);
			if (virDomainGetState((*doms)[i], &out[i].state, &out[i].reason, 0) < 0)
				out[i].state = VIR_DOMAIN_NOSTATE;
		}
		return out;
	}
	if (*n < 0)
		return NULL;
	out = xcalloc(*n ? (size_t)*n : 1, sizeof(*out));
	for (i = 0; i < *n; i++) {
		virDomainStatsRecordPtr r = (*recs)[i];

		out[i].name = virDomainGetName(r->dom);
		out[i].state = VIR_DOMAIN_NOSTATE;
		out[i].params = r->params;
		out[i].nparams = r->nparams;
		for (k = 0; k < r->nparams; k++) {
			if (strcmp(r->params[k].field, "state.state") == 0)
				out[i].state = r->params[k].value.i;
			else if (strcmp(r->params[k].field, "state.reason") == 0)
				out[i].reason = r->params[k].value.i;
		}
	}
	return out;
}

static void free_states(struct dom_state *ds, virDomainStatsRecordPtr *recs, virDomainPtr *doms, int n)
{
	int i;

	free(ds);
	if (recs)
		virDomainStatsRecordListFree(recs);
	if (doms) {
		for (i = 0; i < n; i++)
			virDomainFree(doms[i]);
		free(doms);
	}
}

/* The "volumes" of instance `id`: each volume on its domain, with its state. */
static json_t *volumes_json(uint64_t id, const struct hva_vol_status *vs, size_t nv)
{
	json_t *list = json_array();
	size_t i;

	for (i = 0; i < nv; i++) {
		const char *word = hva_vol_state_word(vs[i].state);

		if (vs[i].inst_id != id || !word)
			continue;
		json_array_append_new(list, hva_report_volume_json(vs[i].vol_id, word,
								   vs[i].state == HVA_VOL_ERROR ? vs[i].err : ""));
	}
	return list;
}

static json_t *build_report(struct hva *h, uint64_t seq, uint64_t rev, const struct hva_status *st,
			    size_t n, const struct hva_vol_status *vs, size_t nv, const struct dom_state *ds,
			    int nds)
{
	const struct hva_report_facts facts = {
		.cpus = h->cpus, .memory_mib = h->memory_mib, .driver = h->drv->name, .virt = h->virt,
		.libvirt = h->libvirt_version, .version = HVA_VERSION, .underlay = h->underlay_text,
	};
	json_t *list = json_array(), *report;
	long now = vdc_agent_now_ms();
	int64_t cpu, load[3];
	size_t i;
	int k;

	hva_usage_mark(&h->usage);
	for (i = 0; i < n; i++) {
		const struct dom_state *d = NULL;
		const char *state;

		for (k = 0; k < nds && !d; k++)
			if (strcmp(ds[k].name, st[i].domain) == 0)
				d = &ds[k];
		json_t *inst;
		const char *err, *progress;
		char line[HVA_PROGRESS_MAX];

		state = hva_report_state(&st[i], d != NULL, d ? d->state : 0, d ? d->reason : 0);
		/* A failed live migration: the instance runs here still, and says why it did not move. */
		err = strcmp(state, VDC_WIRE_STATE_ERROR) == 0 ? st[i].err : st[i].mig_err;
		inst = hva_report_instance_json(st[i].id, st[i].domain, state, err, st[i].reboot, st[i].reset,
						volumes_json(st[i].id, vs, nv));
		progress = st[i].progress;
		if (st[i].fetch.present) {
			vdc_image_fetch_progress(&h->images, &st[i].fetch, line, sizeof(line));
			progress = line;
		}
		hva_report_instance_progress(inst, st[i].migrated, progress);
		/* Figures of a guest that runs here: running, or migrating away (it runs until it left). */
		if (d && d->params && (!strcmp(state, VDC_WIRE_INST_RUNNING) || !strcmp(state, VDC_WIRE_INST_MIGRATING))) {
			struct hva_report_usage u;

			hva_usage_domain(&h->usage, d->name, d->params, d->nparams, now, &u);
			hva_report_instance_usage(inst, &u);
		}
		json_array_append_new(list, inst);
	}
	hva_usage_sweep(&h->usage);
	report = hva_report_json(h->core.epoch_us, seq, rev, &facts, list);
	hva_usage_host(&h->usage, now, &cpu, load);
	hva_report_host_usage(report, cpu, load);
	return report;
}

static unsigned heartbeat_s(struct hva *h)
{
	return vdc_agent_core_heartbeat_s(&h->core, h->opt.agent.heartbeat_s, h->opt.agent.heartbeat_given);
}

int hva_report_next(void *agent, uint64_t seq, long *next, json_t **report)
{
	struct hva *h = agent;
	virDomainStatsRecordPtr *recs = NULL;
	virDomainPtr *doms = NULL;
	struct hva_status *st = NULL;
	struct hva_vol_status *vs = NULL;
	struct dom_state *ds = NULL;
	virConnectPtr conn;
	uint64_t rev;
	size_t i, n, nv;
	long now;
	int nds = 0;

	*report = NULL;
	pthread_mutex_lock(&h->core.lock);
	while (!h->core.quit && !(h->core.report_kick && h->have_status) && (*next == 0 || vdc_agent_now_ms() < *next)) {
		struct timespec ts;

		if (*next == 0) {
			pthread_cond_wait(&h->core.report_cond, &h->core.lock);
			continue;
		}
		ts.tv_sec = *next / 1000;
		ts.tv_nsec = (*next % 1000) * 1000000;
		pthread_cond_timedwait(&h->core.report_cond, &h->core.lock, &ts);
	}
	if (h->core.quit) {
		pthread_mutex_unlock(&h->core.lock);
		return -ECANCELED;
	}
	h->core.report_kick = false;
	if (!h->have_status) {
		/* Nothing to say before the first pass: vdcfs would read no instances as gone. */
		pthread_mutex_unlock(&h->core.lock);
		*next = vdc_agent_now_ms() + 1000;
		return 0;
	}
	n = h->n_status;
	st = xcalloc(n ? n : 1, sizeof(*st));
	if (n)
		memcpy(st, h->status, n * sizeof(*st));
	nv = h->n_vol_status;
	vs = xcalloc(nv ? nv : 1, sizeof(*vs));
	if (nv)
		memcpy(vs, h->vol_status, nv * sizeof(*vs));
	rev = h->core.rev_done;
	pthread_mutex_unlock(&h->core.lock);

	now = vdc_agent_now_ms();
	*next = now + (long)heartbeat_s(h) * 1000;
	/* While an image is fetched for a start, its progress is told every second. */
	for (i = 0; i < n; i++)
		if (st[i].fetch.present && *next > now + PROGRESS_EVERY_MS)
			*next = now + PROGRESS_EVERY_MS;
	conn = hva_libvirt_get(h);
	if (conn)
		ds = read_states(conn, &recs, &doms, &nds);
	if (!ds) {
		if (conn)
			log_warn("cannot read the domains' states from libvirt: %s", virGetLastErrorMessage());
		else
			log_debug("no report: libvirt is not connected");
		if (conn)
			virConnectClose(conn);
		free(st);
		free(vs);
		return 0;
	}
	*report = build_report(h, seq, rev, st, n, vs, nv, ds, nds);
	free_states(ds, recs, doms, nds);
	virConnectClose(conn);
	free(st);
	free(vs);
	return 0;
}
