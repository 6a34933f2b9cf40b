/*
 * The agent core (core.h): the lock, conditions, kicks and pending
 * desired state vdc-hva and vdc-sta share, so that neither keeps its own
 * copy of them.
 */
#include <inttypes.h>
#include <stdlib.h>

#include "agent.h"
#include "core.h"
#include "log.h"

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

void vdc_agent_core_kick_worker(struct vdc_agent_core *c)
{
	vdc_agent_kick(&c->lock, &c->worker_cond, &c->worker_kick);
}

void vdc_agent_core_kick_report(struct vdc_agent_core *c)
{
	vdc_agent_kick(&c->lock, &c->report_cond, &c->report_kick);
}

bool vdc_agent_core_quitting(struct vdc_agent_core *c)
{
	return vdc_agent_flag_get(&c->lock, &c->quit);
}

bool vdc_agent_core_worker_wait(struct vdc_agent_core *c, long at)
{
	return vdc_agent_worker_wait(&c->lock, &c->worker_cond, &c->quit, &c->worker_kick, at);
}

void vdc_agent_core_hand_over(struct vdc_agent_core *c, void *d, const struct vdc_agent_desired_info *info)
{
	log_debug("desired state revision %" PRIu64 ": %zu %s", info->rev, info->n, c->ops->entries);
	pthread_mutex_lock(&c->lock);
	if (c->pending)
		c->ops->free_desired(c->pending);
	c->pending = d;
	c->server_heartbeat = info->heartbeat;
	c->worker_kick = true;
	pthread_cond_signal(&c->worker_cond);
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
	return vdc_agent_heartbeat_s(&c->lock, &c->server_heartbeat, mine, given);
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
