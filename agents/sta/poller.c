/*
 * The poller: long-polls the desired state of this storage host and hands
 * every new revision to the worker. While vdcfs is unreachable it tries
 * again with backoff (1 s doubling to 30 s); the targets serve on
 * meanwhile, since nothing is done without a desired state. A host token
 * vdcfs refuses is not replaced by joining again on the agent's own
 * account (see docs/vdc-hva.md, "Joins once").
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "sta.h"

#define WAIT_S 25
#define BACKOFF_MAX_MS 30000L

/* Sleep `ms` unless the agent stops first; false when it stops. */
static bool nap(struct sta *s, long ms)
{
	struct timespec ts;
	bool quit;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&s->lock);
	while (!s->quit && pthread_cond_timedwait(&s->quit_cond, &s->lock, &ts) == 0)
		;
	quit = s->quit;
	pthread_mutex_unlock(&s->lock);
	return !quit;
}

/* One long-poll: 0 and `*d` (the caller's) on an answer, else a negative errno. */
static int poll_once(struct vdc_link *link, uint64_t rev, struct sta_desired **d, struct vdc_err *err)
{
	json_t *json = NULL;
	int rc;

	rc = vdc_proto_desired(link, rev, WAIT_S, &json, err);
	if (rc < 0)
		return rc;
	*d = xcalloc(1, sizeof(**d));
	rc = sta_desired_from_json(json, *d, err);
	json_decref(json);
	if (rc < 0) {
		sta_desired_release(*d);
		free(*d);
		*d = NULL;
	}
	return rc;
}

static void hand_over(struct sta *s, struct sta_desired *d)
{
	pthread_mutex_lock(&s->lock);
	if (s->pending) {
		sta_desired_release(s->pending);
		free(s->pending);
	}
	s->pending = d;
	s->server_heartbeat = d->heartbeat;
	s->worker_kick = true;
	pthread_cond_signal(&s->worker_cond);
	pthread_mutex_unlock(&s->lock);
}

void *sta_poller_thread(void *arg)
{
	struct sta *s = arg;
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_link link;
	unsigned failures = 0;
	uint64_t rev = 0;
	bool have = false;

	if (vdc_link_init(&link, &s->proto, &err) < 0) {
		log_error("poller: %s", err.msg);
		return NULL;
	}
	while (!sta_quitting(s)) {
		struct sta_desired *d = NULL;
		long wait;
		int rc;

		vdc_err_clear(&err);
		rc = poll_once(&link, have ? rev : 0, &d, &err);
		if (rc == -ECANCELED)
			break;
		if (rc < 0) {
			if (rc == -EACCES && failures == 0)
				log_error("%s; if hosts/%s was removed, remove %s/host.token and start the agent again to join anew",
					  err.msg, s->name, s->statedir);
			else if (failures == 0 || (!vdc_proto_transient(rc) && rc != -EACCES))
				log_error("%s", err.msg);
			wait = 1000L << (failures < 5 ? failures : 5);
			failures++;
			if (!nap(s, wait < BACKOFF_MAX_MS ? wait : BACKOFF_MAX_MS))
				break;
			continue;
		}
		if (failures)
			log_info("vdcfs answers again");
		failures = 0;
		if (have && d->rev == rev) {
			/* The wait ran out: nothing changed. */
			sta_desired_release(d);
			free(d);
			continue;
		}
		log_debug("desired state revision %" PRIu64 ": %zu volumes", d->rev, d->n);
		rev = d->rev;
		have = true;
		hand_over(s, d);
	}
	vdc_link_release(&link);
	return NULL;
}
