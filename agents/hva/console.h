/*
 * The console follower: each instance's console.log is watched with
 * inotify and the bytes appended to it are uploaded to vdcfs
 * (POST /v1/hosts/NAME/console/ID?offset=N), which keeps the last 64 KiB
 * as run/console.
 *
 * The follower starts each log by asking vdcfs what it has (an empty
 * upload) and sends from there, or from the last 64 KiB when vdcfs has
 * less; when an answer says vdcfs has less than was sent (it restarted),
 * it sends again from max(have, size - 64 KiB). Failed uploads are tried
 * again with backoff. The follower never blocks the reconcile loop: it
 * runs in its own thread and is told the set of logs to follow with
 * hva_console_set().
 */
#ifndef VDC_HVA_CONSOLE_H
#define VDC_HVA_CONSOLE_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "proto.h"

struct hva_console_target {
	uint64_t id;                  /* the instance id vdcfs knows */
	char path[PATH_MAX];          /* its console.log */
};

struct hva_follow;

struct hva_console {
	struct vdc_proto *proto;
	int inotify_fd;
	int wake_fd;                  /* an eventfd: the set changed, or stop */
	pthread_t thread;
	bool started;

	pthread_mutex_t lock;         /* guards the three below */
	struct hva_console_target *want;
	size_t n_want;
	bool changed, stop, resync;

	/* The follower thread's own. */
	struct hva_follow *follows;
	size_t n_follows;
};

int hva_console_init(struct hva_console *c, struct vdc_proto *p, struct vdc_err *err);
int hva_console_start(struct hva_console *c, struct vdc_err *err);
/* Stop the thread and free everything. */
void hva_console_release(struct hva_console *c);

/* Follow exactly these logs from now on (copied). */
void hva_console_set(struct hva_console *c, const struct hva_console_target *t, size_t n);

/*
 * Ask vdcfs again what it has of every log, and send what it lacks: for
 * after vdcfs was unreachable, since it may have restarted and lost the
 * consoles (it keeps them in memory) while the guests printed nothing.
 */
void hva_console_resync(struct hva_console *c);

/*
 * Where to send from after vdcfs said it has `have` bytes of a log of
 * `size` bytes: `have`, but never more than 64 KiB before the end (vdcfs
 * keeps no more) and never past the end.
 */
uint64_t hva_console_resume_at(uint64_t have, uint64_t size);

#endif
