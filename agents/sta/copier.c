/*
 * The copier: carries out the copies the worker wants (disks made from
 * images, snapshots and restores: disk.c, below), one at a time, in a thread of its own so that a copy of
 * any length never holds up the reconcile loop or the reports. While a
 * copy runs its volume's `progress` says how far it is
 * ("snapshot s1: 40% (410M of 1G)"). Each outcome goes back to the
 * worker in `results`.
 *
 * A snapshot is copied to snapshots/.ID.img.tmp, synced, and renamed to
 * snapshots/ID.img: a snapshot file is whole or absent. A restore is
 * copied into the volume file in place (tgtd keeps it open), synced, and
 * only then is its counter written (volumes/ID.restore, atomically): an
 * agent killed in the middle copies again after its restart, which gives
 * the same bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "log.h"
#include "sta.h"

struct copy_ctx {
	struct sta *s;
	const struct sta_job *job;
};

static const char *job_word(const struct sta_job *job)
{
	switch (job->kind) {
	case STA_JOB_SNAPSHOT: return "snapshot";
	case STA_JOB_RESTORE: return job->src_vol ? "clone of" : "restore from";
	case STA_JOB_IMAGE: break;
	}
	return "making the disk from image";
}

/* Publish the progress line and tell whether the copy is still wanted. */
static bool on_progress(void *arg, uint64_t done, uint64_t total)
{
	struct copy_ctx *c = arg;
	struct sta *s = c->s;
	char d[16], t[16];
	bool go;

	vdc_size_approx(done, d, sizeof(d));
	vdc_size_approx(total, t, sizeof(t));
	pthread_mutex_lock(&s->core.lock);
	s->progress_vol = c->job->vol_id;
	if (c->job->kind == STA_JOB_IMAGE && (!total || done >= total))
		snprintf(s->progress, sizeof(s->progress), "%s %s", job_word(c->job), c->job->snap_name);
	else if (total)
		snprintf(s->progress, sizeof(s->progress), "%s %s: %u%% (%s of %s)", job_word(c->job),
			 c->job->snap_name, (unsigned)(done * 100 / total), d, t);
	else
		snprintf(s->progress, sizeof(s->progress), "%s %s: starting", job_word(c->job), c->job->snap_name);
	go = !s->cancel && !s->core.quit;
	vdc_agent_core_kick_locked(&s->core, false, true);
	pthread_mutex_unlock(&s->core.lock);
	return go;
}

static int open_file(const char *path, int flags, int *fd, struct vdc_err *err)
{
	*fd = open(path, flags | O_CLOEXEC, 0600);
	if (*fd < 0)
		return vdc_err_set(err, -errno, "cannot open %s: %s", path, strerror(errno));
	return 0;
}

static int sync_close(int fd, const char *path, struct vdc_err *err)
{
	int rc = 0;

	if (fsync(fd) < 0)
		rc = vdc_err_set(err, -errno, "cannot sync %s: %s", path, strerror(errno));
	close(fd);
	return rc;
}

static int do_snapshot(struct sta *s, const struct sta_job *job, struct vdc_err *err)
{
	struct copy_ctx c = { s, job };
	char vol[PATH_MAX], tmp[PATH_MAX], final[PATH_MAX], dir[PATH_MAX];
	bool cloned;
	int src, dst, rc;

	sta_volume_path(s, job->vol_id, vol);
	sta_snapshot_tmp_path(s, job->snap_id, tmp);
	sta_snapshot_path(s, job->snap_id, final);
	vdc_path(dir, "%s/snapshots", s->statedir);
	rc = open_file(vol, O_RDONLY, &src, err);
	if (rc < 0)
		return rc;
	unlink(tmp);
	rc = open_file(tmp, O_RDWR | O_CREAT | O_EXCL, &dst, err);
	if (rc < 0) {
		close(src);
		return rc;
	}
	rc = sta_copy_snapshot(src, dst, &cloned, on_progress, &c, err);
	close(src);
	if (rc == 0)
		rc = sync_close(dst, tmp, err);
	else
		close(dst);
	if (rc == 0 && rename(tmp, final) < 0)
		rc = vdc_err_set(err, -errno, "cannot rename %s: %s", tmp, strerror(errno));
	if (rc == 0)
		rc = vdc_dir_sync(dir, err);
	if (rc < 0) {
		unlink(tmp);
		return rc;
	}
	log_info("volume %" PRIu64 ": snapshot %s (%" PRIu64 ") taken%s", job->vol_id, job->snap_name,
		 job->snap_id, cloned ? " by sharing extents (FICLONE)" : " by a copy");
	return 0;
}

static int do_restore(struct sta *s, const struct sta_job *job, struct vdc_err *err)
{
	struct copy_ctx c = { s, job };
	char snap[PATH_MAX], vol[PATH_MAX], counter[PATH_MAX], text[32];
	bool cloned = false;
	int src, dst, rc;

	/* From a snapshot's file, or (a clone, job->src_vol) from another volume's. */
	if (job->src_vol)
		sta_volume_path(s, job->src_vol, snap);
	else
		sta_snapshot_path(s, job->snap_id, snap);
	sta_volume_path(s, job->vol_id, vol);
	sta_restore_path(s, job->vol_id, counter);
	rc = open_file(snap, O_RDONLY, &src, err);
	if (rc < 0)
		return rc;
	rc = open_file(vol, O_RDWR, &dst, err);
	if (rc < 0) {
		close(src);
		return rc;
	}
	rc = sta_copy_restore(src, dst, &cloned, on_progress, &c, err);
	close(src);
	if (rc == 0)
		rc = sync_close(dst, vol, err);
	else
		close(dst);
	if (rc < 0)
		return rc;
	snprintf(text, sizeof(text), "%" PRIu64 "\n", job->restore_n);
	rc = vdc_file_write_atomic(counter, text, strlen(text), 0600, err);
	if (rc < 0)
		return rc;
	if (job->src_vol)
		log_info("volume %" PRIu64 ": cloned from volume %s (%" PRIu64 "), restore %" PRIu64 ",%s", job->vol_id,
			 job->snap_name, job->src_vol, job->restore_n, cloned ? " by sharing extents (FICLONE)" : " by a copy");
	else
		log_info("volume %" PRIu64 ": restored from snapshot %s (%" PRIu64 "), restore %" PRIu64, job->vol_id,
			 job->snap_name, job->snap_id, job->restore_n);
	return 0;
}

/* Take the first job wanted, as `current`; false when the agent stops. */
static bool take_job(struct sta *s, struct sta_job *job)
{
	pthread_mutex_lock(&s->core.lock);
	while (!s->core.quit && s->n_jobs == 0)
		pthread_cond_wait(&s->copier_cond, &s->core.lock);
	if (s->core.quit) {
		pthread_mutex_unlock(&s->core.lock);
		return false;
	}
	*job = s->jobs[0];
	s->current = *job;
	s->running = true;
	s->cancel = false;
	pthread_mutex_unlock(&s->core.lock);
	return true;
}

static void finish_job(struct sta *s, const struct sta_job *job, int rc, const struct vdc_err *err)
{
	struct sta_job_result *r;
	size_t i, kept = 0;

	pthread_mutex_lock(&s->core.lock);
	s->running = false;
	s->progress_vol = 0;
	s->progress[0] = '\0';
	/* Drop the job from the wanted list, so it is not started again before the worker looks. */
	for (i = 0; i < s->n_jobs; i++)
		if (!sta_job_equal(&s->jobs[i], job))
			s->jobs[kept++] = s->jobs[i];
	s->n_jobs = kept;
	s->results = xrealloc(s->results, (s->n_results + 1) * sizeof(*s->results));
	r = &s->results[s->n_results++];
	r->job = *job;
	r->rc = rc;
	snprintf(r->err, sizeof(r->err), "%s", rc < 0 ? err->msg : "");
	vdc_agent_core_kick_locked(&s->core, true, true);
	pthread_mutex_unlock(&s->core.lock);
}

void *sta_copier_thread(void *arg)
{
	struct sta *s = arg;
	struct sta_job job;

	while (take_job(s, &job)) {
		struct vdc_err err = VDC_ERR_INIT;
		int rc;

		on_progress(&(struct copy_ctx){ s, &job }, 0, 0);
		if (job.kind == STA_JOB_SNAPSHOT)
			rc = do_snapshot(s, &job, &err);
		else if (job.kind == STA_JOB_RESTORE)
			rc = do_restore(s, &job, &err);
		else
			rc = sta_disk_make(s, &job, on_progress, &(struct copy_ctx){ s, &job }, &err);
		if (rc < 0 && rc != -ECANCELED && rc != -EAGAIN)
			log_error("volume %" PRIu64 ": %s %s: %s", job.vol_id, job_word(&job), job.snap_name, err.msg);
		finish_job(s, &job, rc, &err);
	}
	return NULL;
}
