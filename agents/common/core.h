/*
 * The agent core: the state vdc-hva and vdc-sta keep alike between their
 * threads, the long-poll loop that fills it, and the report loop. Each
 * agent embeds one `struct vdc_agent_core` (its `core`) and describes
 * what is its own in a small table of callbacks (`struct
 * vdc_agent_core_ops`): how its desired state is read from vdcfs's answer
 * and freed, when a report is due and what it says, what else wakes when
 * it stops, and what it does when vdcfs answers again.
 *
 * The threads meet here: the poller hands each new desired state over in
 * `pending` and kicks the worker; the worker takes it, and publishes the
 * revision it carried out in `rev_done`; anyone kicks the reporter, whose
 * loop numbers and posts the reports the agent builds; main sets `quit`.
 * `lock` guards the fields marked [lock], and each agent's own fields it
 * marks [lock] too: one lock per agent, never held across a libvirt,
 * tgtadm or HTTP call.
 *
 * The functions here do not fail; the agent's setup (main) calls
 * vdc_agent_core_init() first and vdc_agent_core_release() last.
 */
#ifndef VDC_AGENT_CORE_H
#define VDC_AGENT_CORE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "err.h"
#include "proto.h"

/* What a desired state says that the core needs: read by the agent's parse. */
struct vdc_agent_desired_info {
	uint64_t rev;
	unsigned heartbeat;            /* seconds vdcfs asks between reports; 0 when it named none */
	size_t n;                      /* entries (instances, volumes), for the debug line */
};

/* What the core needs of an agent; `agent` is the one given to vdc_agent_core_init(). */
struct vdc_agent_core_ops {
	/* What the entries of a desired state are, in the debug line of a new revision: "instances". */
	const char *entries;
	/* Read an answer into a new desired state `*d` and `*info`; 0 or a negative errno. */
	int (*parse)(json_t *json, void **d, struct vdc_agent_desired_info *info, struct vdc_err *err);
	/* Free a desired state `parse` made. */
	void (*free_desired)(void *d);
	/*
	 * The reporter's turn: wait until a report is due (the agent's own
	 * rule; `*next` is the monotonic ms of the next heartbeat, 0 before
	 * the first, and is the agent's to move) and build report number
	 * `seq` into `*report`, or leave it NULL when nothing goes this time.
	 * -ECANCELED when the agent stops.
	 */
	int (*report)(void *agent, uint64_t seq, long *next, json_t **report);
	/* vdcfs answers again after failures; NULL when nothing is to be done. */
	void (*answering)(void *agent);
	/* Wake the agent's own waiters when it stops (`lock` held); NULL when it has none. */
	void (*wake)(void *agent);
};

struct vdc_agent_core {
	const struct vdc_agent_core_ops *ops;
	void *agent;
	struct vdc_proto *proto;       /* the agent's, for the poller */
	const char *name, *statedir;   /* for the hint when vdcfs refuses the token */
	uint64_t epoch_us;             /* fixed at start: orders the agent's reports */

	pthread_mutex_t lock;
	pthread_cond_t worker_cond;    /* on CLOCK_MONOTONIC */
	pthread_cond_t report_cond;    /* on CLOCK_MONOTONIC */
	pthread_cond_t quit_cond;      /* on CLOCK_MONOTONIC: naps that end on quit */
	bool quit;                     /* [lock] */
	bool worker_kick;              /* [lock] look again now */
	bool report_kick;              /* [lock] report now */
	void *pending;                 /* [lock] newest desired state not yet taken (ops->parse's) */
	unsigned server_heartbeat;     /* [lock] what vdcfs asks; 0 when it has not said */
	uint64_t rev_done;             /* [lock] the revision last carried out */
};

/*
 * Set up `c` for `agent` with `ops`: the lock, the conditions on
 * CLOCK_MONOTONIC. `proto`, `name` and `statedir` are the agent's and
 * are read when the poller starts, so they may be filled in after this.
 */
void vdc_agent_core_init(struct vdc_agent_core *c, const struct vdc_agent_core_ops *ops, void *agent,
			 struct vdc_proto *proto, const char *name, const char *statedir);

/* Wake the worker (a new desired state, an event, a finished download). */
void vdc_agent_core_kick_worker(struct vdc_agent_core *c);
/* Ask the reporter for a report now. */
void vdc_agent_core_kick_report(struct vdc_agent_core *c);
/*
 * The kicks for a thread that holds `lock` already (it changed what the
 * worker or the reporter reads under it): wake the worker, the reporter
 * or both.
 */
void vdc_agent_core_kick_locked(struct vdc_agent_core *c, bool worker, bool report);
/* Whether the agent is shutting down. */
bool vdc_agent_core_quitting(struct vdc_agent_core *c);

/*
 * The worker's wait: until kicked, the agent stops, or, when `at` is not
 * 0, the monotonic time `at` (ms). False when the agent stops; else the
 * kick is cleared and it is time for a pass.
 */
bool vdc_agent_core_worker_wait(struct vdc_agent_core *c, long at);

/* Give the worker the newest desired state `d` (now the core's), as the poller does. */
void vdc_agent_core_hand_over(struct vdc_agent_core *c, void *d, const struct vdc_agent_desired_info *info);

/* Take the newest desired state the poller handed over, or NULL: the caller's now. */
void *vdc_agent_core_take(struct vdc_agent_core *c);

/*
 * The seconds between reports: the agent's --heartbeat (`mine`) when
 * `given` and shorter than what vdcfs asks, else what vdcfs asks, else
 * `mine`.
 */
unsigned vdc_agent_core_heartbeat_s(struct vdc_agent_core *c, unsigned mine, bool given);

/*
 * The poller thread (its argument is the core): long-poll the desired
 * state (GET desired, waiting up to 25 s for a revision newer than the
 * last) and hand every new revision over, until the agent stops. While
 * vdcfs is unreachable it tries again with backoff (1 s doubling to 30 s),
 * logging the failure once while it lasts. A refused host token is not
 * replaced by joining again: removing a host must not be undone by its
 * agent.
 */
void *vdc_agent_core_poller_thread(void *core);

/*
 * The reporter thread (its argument is the core): each report ops->report
 * builds is posted, numbered from 1 in the agent's epoch so that vdcfs
 * drops one that arrives late. A failure is logged (once while it lasts,
 * unless not transient) and brings the next report forward to the
 * backoff's end; a success after failures is logged.
 */
void *vdc_agent_core_reporter_thread(void *core);

/*
 * Stop the agent: set `quit`, wake every waiter (the agent's own through
 * ops->wake) and abort the HTTP calls under way. The caller joins the
 * threads afterwards.
 */
void vdc_agent_core_stop(struct vdc_agent_core *c);

/* Free what the core still holds (a desired state not taken); after the threads ended. */
void vdc_agent_core_release(struct vdc_agent_core *c);

#endif
