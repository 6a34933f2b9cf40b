/*
 * The agent core (core.h): the lock, conditions, kicks and pending
 * desired state vdc-hva and vdc-sta share, so that neither keeps its own
 * copy of them.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <time.h>

#include "agent.h"
#include "core.h"
#include "log.h"

/* How long a long-poll of the desired state waits for a change (vdcfs caps it at 30). */
#define POLL_WAIT_S 25

void vdc_agent_core_init(struct vdc_agent_core *c, const struct vdc_agent_core_ops *ops, void *agent,
			 struct vdc_proto *proto, const char *name, const char *statedir)
{
	c->ops = ops;
	c->agent = agent;
	c->proto = proto;
	c->name = name;
	c->statedir = statedir;
	pthread_mutex_init(&c->lock, NULL);
	vdc_agent_cond_init(&c->worker_cond);
	vdc_agent_cond_init(&c->report_cond);
	vdc_agent_cond_init(&c->quit_cond);
}

void vdc_agent_core_kick_locked(struct vdc_agent_core *c, bool worker, bool report)
{
	if (worker) {
		c->worker_kick = true;
		pthread_cond_signal(&c->worker_cond);
	}
	if (report) {
		c->report_kick = true;
		pthread_cond_signal(&c->report_cond);
	}
}

void vdc_agent_core_kick_worker(struct vdc_agent_core *c)
{
	pthread_mutex_lock(&c->lock);
	vdc_agent_core_kick_locked(c, true, false);
	pthread_mutex_unlock(&c->lock);
}

void vdc_agent_core_kick_report(struct vdc_agent_core *c)
{
	pthread_mutex_lock(&c->lock);
	vdc_agent_core_kick_locked(c, false, true);
	pthread_mutex_unlock(&c->lock);
}

bool vdc_agent_core_quitting(struct vdc_agent_core *c)
{
	bool value;

	pthread_mutex_lock(&c->lock);
	value = c->quit;
	pthread_mutex_unlock(&c->lock);
	return value;
}

bool vdc_agent_core_worker_wait(struct vdc_agent_core *c, long at)
{
	bool stop;

	pthread_mutex_lock(&c->lock);
	while (!c->quit && !c->worker_kick) {
		struct timespec ts;

		if (!at) {
			pthread_cond_wait(&c->worker_cond, &c->lock);
			continue;
		}
		if (vdc_agent_now_ms() >= at)
			break;
		ts.tv_sec = at / 1000;
		ts.tv_nsec = (at % 1000) * 1000000;
		pthread_cond_timedwait(&c->worker_cond, &c->lock, &ts);
	}
	stop = c->quit;
	if (!stop)
		c->worker_kick = false;
	pthread_mutex_unlock(&c->lock);
	return !stop;
}

void vdc_agent_core_hand_over(struct vdc_agent_core *c, void *d, const struct vdc_agent_desired_info *info)
{
	log_debug("desired state revision %" PRIu64 ": %zu %s", info->rev, info->n, c->ops->entries);
	pthread_mutex_lock(&c->lock);
	if (c->pending)
		c->ops->free_desired(c->pending);
	c->pending = d;
	c->server_heartbeat = info->heartbeat;
	vdc_agent_core_kick_locked(c, true, false);
	pthread_mutex_unlock(&c->lock);
}

void *vdc_agent_core_take(struct vdc_agent_core *c)
{
	void *d;

	pthread_mutex_lock(&c->lock);
	d = c->pending;
	c->pending = NULL;
	pthread_mutex_unlock(&c->lock);
	return d;
}

unsigned vdc_agent_core_heartbeat_s(struct vdc_agent_core *c, unsigned mine, bool given)
{
	unsigned asked;

	pthread_mutex_lock(&c->lock);
	asked = c->server_heartbeat;
	pthread_mutex_unlock(&c->lock);
	if (!given)
		return asked ? asked : mine;
	/* Both are honoured: no report is further apart than either asks. */
	return asked && asked < mine ? asked : mine;
}

/*
 * Sleep `ms` unless `quit` is set first (vdc_agent_core_stop() broadcasts
 * `quit_cond`); false when the agent stops.
 */
static bool nap(struct vdc_agent_core *c, long ms)
{
	struct timespec ts;
	bool stop;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&c->lock);
	while (!c->quit && pthread_cond_timedwait(&c->quit_cond, &c->lock, &ts) == 0)
		;
	stop = c->quit;
	pthread_mutex_unlock(&c->lock);
	return !stop;
}

/*
 * A long-poll failed with `rc` (`err` says why): log it once while it
 * lasts (and every time when it is not transient), with a hint when vdcfs
 * refuses the host token. Counts the failure; returns how long to wait.
 */
static long poll_failed(struct vdc_agent_core *c, int rc, unsigned *failures,
			const struct vdc_err *err)
{
	long wait;

	if (rc == -EACCES && *failures == 0)
		log_error("%s; if hosts/%s was removed, remove %s/host.token and start the agent again to join anew",
			  err->msg, c->name, c->statedir);
	else if (*failures == 0 || (!vdc_proto_transient(rc) && rc != -EACCES))
		log_error("%s", err->msg);
	wait = vdc_agent_backoff_ms(*failures);
	(*failures)++;
	return wait < VDC_AGENT_BACKOFF_MAX_MS ? wait : VDC_AGENT_BACKOFF_MAX_MS;
}

/* One long-poll: 0 with `*d` (the caller's) and what it says on an answer, else a negative errno. */
static int poll_once(struct vdc_agent_core *c, struct vdc_conn *link, uint64_t rev,
		     void **d, struct vdc_agent_desired_info *info, struct vdc_err *err)
{
	json_t *json = NULL;
	int rc;

	rc = vdc_proto_desired(link, rev, POLL_WAIT_S, &json, err);
	if (rc < 0)
		return rc;
	rc = c->ops->parse(json, d, info, err);
	json_decref(json);
	return rc;
}

void *vdc_agent_core_poller_thread(void *core)
{
	struct vdc_agent_core *c = core;
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_conn link;
	unsigned failures = 0;
	uint64_t rev = 0;
	bool have = false;

	if (vdc_conn_init(&link, c->proto, &err) < 0) {
		log_error("poller: %s", err.msg);
		return NULL;
	}
	while (!vdc_agent_core_quitting(c)) {
		struct vdc_agent_desired_info info = { 0 };
		void *d = NULL;
		int rc;

		vdc_err_clear(&err);
		rc = poll_once(c, &link, have ? rev : 0, &d, &info, &err);
		if (rc == -ECANCELED)
			break;
		if (rc < 0) {
			if (!nap(c, poll_failed(c, rc, &failures, &err)))
				break;
			continue;
		}
		if (failures) {
			log_info("vdcfs answers again");
			if (c->ops->answering)
				c->ops->answering(c->agent);
		}
		failures = 0;
		if (have && info.rev == rev) {
			/* The wait ran out: nothing changed. */
			c->ops->free_desired(d);
			continue;
		}
		rev = info.rev;
		have = true;
		vdc_agent_core_hand_over(c, d, &info);
	}
	vdc_conn_release(&link);
	return NULL;
}

/*
 * Post `report` (taken) on `link`. A failure is logged (once while it
 * lasts, unless not transient), counted in `*failures` and brings the
 * next report (`*next`, monotonic ms) forward to the backoff's end; a
 * success after failures is logged and resets the count. -ECANCELED when
 * the agent stops (vdc_proto_abort); else 0, whatever became of it.
 */
static int report_send(struct vdc_conn *link, json_t *report, unsigned *failures, long *next,
		       struct vdc_err *err)
{
	long wait = vdc_agent_backoff_ms(*failures);
	int rc;

	vdc_err_clear(err);
	rc = vdc_proto_report(link, report, err);
	json_decref(report);
	if (rc == -ECANCELED)
		return rc;
	if (rc < 0) {
		if ((*failures)++ == 0 || !vdc_proto_transient(rc))
			log_warn("%s", err->msg);
		if (vdc_agent_now_ms() + wait < *next)
			*next = vdc_agent_now_ms() + wait;
		return 0;
	}
	if (*failures)
		log_info("reports reach vdcfs again");
	*failures = 0;
	return 0;
}

void *vdc_agent_core_reporter_thread(void *core)
{
	struct vdc_agent_core *c = core;
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_conn link;
	unsigned failures = 0;
	uint64_t seq = 0;
	long next = 0;

	if (vdc_conn_init(&link, c->proto, &err) < 0) {
		log_error("reporter: %s", err.msg);
		return NULL;
	}
	for (;;) {
		json_t *report = NULL;

		if (c->ops->report(c->agent, seq + 1, &next, &report) < 0)
			break;
		if (!report)
			continue;
		seq++;
		if (report_send(&link, report, &failures, &next, &err) == -ECANCELED)
			break;
	}
	vdc_conn_release(&link);
	return NULL;
}

void vdc_agent_core_stop(struct vdc_agent_core *c)
{
	pthread_mutex_lock(&c->lock);
	c->quit = true;
	pthread_cond_broadcast(&c->worker_cond);
	pthread_cond_broadcast(&c->report_cond);
	if (c->ops->wake)
		c->ops->wake(c->agent);
	pthread_cond_broadcast(&c->quit_cond);
	pthread_mutex_unlock(&c->lock);
	vdc_proto_abort(c->proto);
}

void vdc_agent_core_release(struct vdc_agent_core *c)
{
	if (c->pending) {
		c->ops->free_desired(c->pending);
		c->pending = NULL;
	}
}
