/*
 * The poller: long-polls the desired state of this host and hands every
 * new revision to the worker. While vdcfs is unreachable it tries again
 * with backoff (1 s doubling to 30 s); the guests run on meanwhile, since
 * nothing is done without a desired state. A host token vdcfs refuses
 * (the host was removed with rmdir hosts/NAME) is not replaced by joining
 * again on the agent's own account: removing a host must not be undone
 * by its agent. The operator removes STATE/host.token to join anew.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hva.h"
#include "log.h"

#define WAIT_S 25
#define BACKOFF_MAX_MS 30000L

/* Sleep `ms` unless the agent stops first; false when it stops. */
static bool nap(struct hva *h, long ms)
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
	pthread_mutex_lock(&h->lock);
	while (!h->quit && pthread_cond_timedwait(&h->quit_cond, &h->lock, &ts) == 0)
		;
	quit = h->quit;
	pthread_mutex_unlock(&h->lock);
	return !quit;
}

void *hva_poller_thread(void *arg)
{
	struct hva *h = arg;
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_link link;
	unsigned failures = 0;
	uint64_t rev = 0;
	bool have = false;

	if (vdc_link_init(&link, &h->proto, &err) < 0) {
		log_error("poller: %s", err.msg);
		return NULL;
	}
	while (!hva_quitting(h)) {
		struct hva_desired *d = NULL;
		json_t *json = NULL;
		long wait;
		int rc;

		vdc_err_clear(&err);
		rc = vdc_proto_desired(&link, have ? rev : 0, WAIT_S, &json, &err);
		if (rc == -ECANCELED)
			break;
		if (rc == 0) {
			d = xcalloc(1, sizeof(*d));
			rc = hva_desired_from_json(json, d, &err);
			json_decref(json);
			if (rc < 0) {
				hva_desired_release(d);
				free(d);
			}
		}
		if (rc < 0) {
			if (rc == -EACCES && failures == 0)
				log_error("%s; if hosts/%s was removed, remove %s/host.token and start the agent again to join anew",
					  err.msg, h->name, h->statedir);
			else if (failures == 0 || (!vdc_proto_transient(rc) && rc != -EACCES))
				log_error("%s", err.msg);
			wait = 1000L << (failures < 5 ? failures : 5);
			if (wait > BACKOFF_MAX_MS)
				wait = BACKOFF_MAX_MS;
			failures++;
			if (!nap(h, wait))
				break;
			continue;
		}
		if (failures) {
			log_info("vdcfs answers again");
			hva_console_resync(&h->console);
		}
		failures = 0;
		if (have && d->rev == rev) {
			/* The wait ran out: nothing changed. */
			hva_desired_release(d);
			free(d);
			continue;
		}
		log_debug("desired state revision %" PRIu64 ": %zu instances", d->rev, d->n);
		rev = d->rev;
		have = true;
		pthread_mutex_lock(&h->lock);
		if (h->pending) {
			hva_desired_release(h->pending);
			free(h->pending);
		}
		h->pending = d;
		h->server_heartbeat = d->heartbeat;
		h->worker_kick = true;
		pthread_cond_signal(&h->worker_cond);
		pthread_mutex_unlock(&h->lock);
	}
	vdc_link_release(&link);
	return NULL;
}
