/*
 * vdc-sta: the agent of a storage host (docs/vdc-sta.md).
 *
 * Threads, and what each owns:
 *
 *   main       options, setup, then waits for SIGTERM/SIGINT
 *   poller     long-polls the desired state (agents/common/core.c, with
 *              poller.c's callbacks); hands each new one to the worker
 *              through `core.pending`
 *   worker     the reconcile loop (reconcile.c): the only thread that
 *              runs tgtadm and makes, grows or removes volume files;
 *              publishes the volumes' report entries in `volumes` and the
 *              copies it wants in `jobs`
 *   copier     carries out copies (copier.c): disks made from images,
 *              snapshots and restores, one at a time, however long they
 *              take; publishes `progress` and hands each outcome back in
 *              `results`
 *   fetcher    fetches images into STATE/images as raw disks
 *              (agents/common/image_cache.c), each once
 *   reporter   posts reports (agents/common/core.c; when and what:
 *              report.c): after each pass of the worker, on progress,
 *              and every heartbeat
 *
 * `core.lock` guards the fields marked [lock] (agents/common/core.h). No
 * tgtadm run, copy or HTTP call is made with it held.
 */
#ifndef VDC_STA_H
#define VDC_STA_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "agent.h"
#include "core.h"
#include "desired.h"
#include "err.h"
#include "image_cache.h"
#include "proto.h"
#include "target.h"

#define STA_VERSION "0.4"

/* tgtd's port, the portal's default with the host's address toward vdcfs. */
#define STA_PORTAL_PORT 3260u
/* After the short host name, the default name: a vdc-hva of the same machine has the bare one. */
#define STA_NAME_SUFFIX "-sta"

struct sta_options {
	struct vdc_agent_options agent;   /* --server ... --pidfile, -v */
	const char *portal;           /* --portal, or portal_default */
	char portal_default[64];
	unsigned control_port;        /* tgtadm -C N */
	uint64_t disk;                /* bytes; 0: no cap */
	bool leave;                   /* --leave: remove what the agent made, forget the join */
};

enum sta_job_kind { STA_JOB_SNAPSHOT, STA_JOB_RESTORE, STA_JOB_IMAGE };

/* A copy the worker wants done. */
struct sta_job {
	enum sta_job_kind kind;
	uint64_t vol_id;              /* snapshot: of this volume; restore: into it */
	uint64_t snap_id;             /* restore: from this snapshot, or 0 and: */
	uint64_t src_vol;             /* restore: a clone of this volume (its file), or 0 */
	uint64_t restore_n;           /* restore: the counter it carries out */
	char snap_name[VDC_NAME_MAX + 1];   /* for the progress line (image: the image's name) */
	char sha256[65];              /* image: the raw disk in the cache it is made from */
	uint64_t size;                /* image: the volume's size */
};

static inline bool sta_job_equal(const struct sta_job *a, const struct sta_job *b)
{
	return a->kind == b->kind && a->vol_id == b->vol_id && a->snap_id == b->snap_id &&
	       a->src_vol == b->src_vol && a->restore_n == b->restore_n;
}

/* How a copy ended. */
struct sta_job_result {
	struct sta_job job;
	int rc;                       /* 0, -EAGAIN (written meanwhile), other -errno */
	char err[VDC_ERR_MSG_MAX];
};

/* A volume whose file waits for its image (the reporter tells how far). */
struct sta_fetch {
	uint64_t vol_id;
	struct vdc_image_spec image;
};

struct sta {
	struct sta_options opt;
	const struct sta_target_ops *drv;
	struct sta_target_ctx ctx;
	char statedir[PATH_MAX];
	char name[VDC_NAME_MAX + 1];
	uint64_t disk_mib;            /* facts, fixed at start */

	struct vdc_proto proto;
	struct vdc_image_cache images;    /* STATE/images: raw disks, by checksum */

	/* The lock, kicks, pending desired state (a struct sta_desired) and epoch. */
	struct vdc_agent_core core;
	pthread_cond_t copier_cond;   /* on CLOCK_MONOTONIC */
	json_t *volumes;              /* [lock] the report's volume list, without
	                                 allocated and progress; NULL before the first pass */
	struct sta_job *jobs;         /* [lock] the copies wanted, in order */
	size_t n_jobs;
	bool running;                 /* [lock] the copier runs `current` */
	struct sta_job current;       /* [lock] */
	bool cancel;                  /* [lock] `current` is no longer wanted */
	uint64_t progress_vol;        /* [lock] the volume `progress` is about; 0: none */
	char progress[192];           /* [lock] */
	long report_last;             /* the reporter's own: when it last reported (monotonic ms) */
	struct sta_job_result *results;   /* [lock] finished copies not yet taken */
	size_t n_results;
	struct sta_fetch *fetches;    /* [lock] volumes waiting for their image, for `progress` */
	size_t n_fetches;
};

/* Paths of the state directory (PATH_MAX bytes each). */
void sta_volume_path(const struct sta *s, uint64_t id, char *out);
void sta_restore_path(const struct sta *s, uint64_t id, char *out);
void sta_snapshot_path(const struct sta *s, uint64_t id, char *out);
void sta_snapshot_tmp_path(const struct sta *s, uint64_t id, char *out);
void sta_volume_tmp_path(const struct sta *s, uint64_t id, char *out);

/*
 * Export snapshot `id` of volume `v`, whose file exists, as its own target
 * (snaptarget.c): made, or mended, in `view` as volumes' are. 0 or -errno
 * with the sentence. STATE/snapshots/ID.chap records its account's secret.
 */
/*
 * LUN 1 of target `t` on file `path` at `size`, thin-provisioned (tgt
 * cannot change a LUN's size or file: it is added again, and *readded
 * says so when given). Volumes' targets and snapshots' share it.
 */
int sta_lun_ensure(struct sta *s, const struct sta_tgt_target *t, const char *path, uint64_t size, bool *readded,
		   struct vdc_err *err);
int sta_snapshot_export(struct sta *s, struct sta_tgt_view *view, const struct sta_desired *d,
			const struct sta_volume_spec *v, uint64_t id, struct vdc_err *err);
void sta_snapshot_chap_path(const struct sta *s, uint64_t id, char *out);

/* The restores carried out into volume `id` (STATE/volumes/ID.restore; 0 when none). */
uint64_t sta_restore_done(const struct sta *s, uint64_t id);

/* What the agent core needs of vdc-sta (poller.c). */
extern const struct vdc_agent_core_ops sta_core_ops;

void *sta_worker_thread(void *arg);

/*
 * vdc-sta --leave: remove everything this agent made for data center `dc`
 * (STATE/dc.id) on the host: its tgtd targets (their sessions end), CHAP
 * accounts, volume and snapshot files. No other thread runs. 0, or why
 * something is left (then run it again).
 */
int sta_leave(struct sta *s, const char *dc, struct vdc_err *err);
void *sta_copier_thread(void *arg);
/*
 * The reporter's turn (report.c; the core's ops->report): wait until a
 * report is due (kicked, or the heartbeat; progress alone at most once a
 * second; never before the first pass) and build it.
 */
int sta_report_next(void *agent, uint64_t seq, long *next, json_t **report);

/* copy.c */

/* Called while a copy runs; false cancels it. */
typedef bool (*sta_copy_cb)(void *arg, uint64_t done, uint64_t total);

/*
 * Make `dst` (open for writing, size 0) a copy of `src` as it is now:
 * FICLONE when the filesystem shares extents (atomic), else the data
 * ranges of `src` (SEEK_DATA/SEEK_HOLE, copy_file_range) with holes kept.
 * A plain copy is only consistent if nothing wrote `src` meanwhile: its
 * ctime is compared before and after, and -EAGAIN says it changed.
 * `*cloned` tells which way it went.
 */
int sta_copy_snapshot(int src, int dst, bool *cloned, sta_copy_cb cb, void *arg, struct vdc_err *err);

/*
 * Make `dst` (a volume, in place: tgtd keeps it open) hold `src`'s bytes,
 * zeros after them, and be max(its size, src's size) long: `src` is a
 * snapshot's file, or another volume's (a clone). `*cloned` (may be
 * NULL) is set when FICLONE shared its extents, left alone after a copy.
 */
int sta_copy_restore(int src, int dst, bool *cloned, sta_copy_cb cb, void *arg, struct vdc_err *err);

/* disk.c: volumes made from images (an instance's disk) */

/*
 * Whether volume `v`'s image is ready to make its file from: 0 when the
 * raw disk is in the cache and fits `v->size`; -EINPROGRESS while vdcfs
 * computes its checksum or the fetcher fetches it (started here); another
 * negative errno with the sentence (a failed fetch, a disk too small).
 */
int sta_disk_image_ready(struct sta *s, const struct sta_volume_spec *v, struct vdc_err *err);

/*
 * Make volume `job->vol_id`'s file from the raw disk of image
 * `job->sha256` (the copier's job): cloned (FICLONE) or copied with its
 * holes into STATE/volumes/.ID.img.tmp, grown to `job->size`, synced and
 * renamed, so a crash at any moment leaves no volume file and the next
 * pass makes it again.
 */
int sta_disk_make(struct sta *s, const struct sta_job *job, sta_copy_cb cb, void *arg, struct vdc_err *err);

/*
 * Remove from the cache the images no volume of `d` has named for
 * VDC_IMAGE_KEEP_S (a volume made from one still names it).
 */
void sta_disk_prune(struct sta *s, const struct sta_desired *d);

#endif
