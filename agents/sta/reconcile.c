/*
 * The reconcile loop: make tgtd and the state directory match the
 * desired state, again and again. It is level-triggered: each pass reads
 * everything (the newest desired state, tgtd's targets and accounts, the
 * volume and snapshot files) and does what is missing, so a pass after a
 * restart, a lost message or a repeated one does no harm. A pass runs on
 * a new desired state, when a copy ends, and every few seconds (tgtd may
 * have been restarted and lost its targets).
 *
 * What the loop may touch: targets whose IQN starts with this data
 * center's prefix (iqn.2026-11.org.vdcfs:DC12:), the CHAP accounts bound
 * to them or named like a volume's and bound to nothing, and the files
 * under STATE/volumes and STATE/snapshots. Every other target of tgtd is
 * left alone. A target of a volume that is still desired is never
 * removed, so an attached initiator keeps working across restarts.
 *
 * Growing a volume: tgt reads a LUN's size only when the LUN is added
 * and has no operation to change it, so the file is extended and LUN 1
 * is deleted and added again on the same file, the target and its
 * sessions staying as they are. A logged-in initiator sees the new
 * capacity at its next READ CAPACITY; a command that arrives in the few
 * milliseconds between the two tgtadm runs is answered ILLEGAL REQUEST
 * (LOGICAL UNIT NOT SUPPORTED). docs/vdc-sta.md says why this way.
 *
 * Over 1,000 lines because every step of a pass reads and writes the
 * worker's own record of each volume and snapshot (struct vol_track,
 * struct snap_track), which stays private to this file; what needs no
 * such record lives beside it (disk.c, copier.c, copy.c, statedir.c).
 */
#include <dirent.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "file.h"
#include "log.h"
#include "report_doc.h"
#include "sta.h"
#include "wire_doc.h"

/* How often a pass runs when nothing happens: tgtd may have lost its targets. */
#define RESCAN_MS 10000L
#define RETRY_MIN_MS 1000L
#define RETRY_MAX_MS 30000L
/* Plain copies of a volume that is written meanwhile, before the snapshot says error. */
#define BUSY_COPIES 3

struct vol_track {
	uint64_t id;
	char err[VDC_ERR_MSG_MAX];        /* this pass's failure, or "" */
	char restore_err[VDC_ERR_MSG_MAX];   /* the last restore's failure, or "" */
	long restore_retry_at;
	unsigned restore_failures;
	uint64_t lu_size;                 /* bytes tgt serves; 0: no LUN */
	bool seen;
	bool image_ready;                 /* no file yet; its image is ready to make it from */
	bool fetching;                    /* no file yet; its image is being fetched */
	char make_err[VDC_ERR_MSG_MAX];   /* the last making from its image failed */
	long make_retry_at;
	unsigned make_failures;
};

struct snap_track {
	uint64_t id;
	char err[VDC_ERR_MSG_MAX];
	unsigned failures;
	long retry_at;
	bool seen;
	bool exported;                    /* its own target was made (snaptarget.c) */
	char export_err[VDC_ERR_MSG_MAX]; /* or why not */
};

struct worker {
	struct sta *s;
	struct sta_desired desired;
	bool have_desired;
	struct vol_track *vols;
	size_t n_vols;
	struct snap_track *snaps;
	size_t n_snaps;
	long next_wake;
	char tgt_err[VDC_ERR_MSG_MAX];    /* tgtd could not be read this pass */
	bool warned_malformed;
	char dc_saved[STA_DC_MAX + 1];    /* what STATE/dc.id holds, as far as this worker knows */
};

static void wake_at(struct worker *w, long at)
{
	if (at > 0 && (w->next_wake == 0 || at < w->next_wake))
		w->next_wake = at;
}

static long backoff_ms(unsigned failures)
{
	long ms = RETRY_MIN_MS << (failures < 6 ? failures : 6);

	return ms < RETRY_MAX_MS ? ms : RETRY_MAX_MS;
}

static struct vol_track *vol_track(struct worker *w, uint64_t id)
{
	size_t i;

	for (i = 0; i < w->n_vols; i++)
		if (w->vols[i].id == id)
			return &w->vols[i];
	w->vols = xrealloc(w->vols, (w->n_vols + 1) * sizeof(*w->vols));
	memset(&w->vols[w->n_vols], 0, sizeof(*w->vols));
	w->vols[w->n_vols].id = id;
	return &w->vols[w->n_vols++];
}

static struct snap_track *snap_track(struct worker *w, uint64_t id)
{
	size_t i;

	for (i = 0; i < w->n_snaps; i++)
		if (w->snaps[i].id == id)
			return &w->snaps[i];
	w->snaps = xrealloc(w->snaps, (w->n_snaps + 1) * sizeof(*w->snaps));
	memset(&w->snaps[w->n_snaps], 0, sizeof(*w->snaps));
	w->snaps[w->n_snaps].id = id;
	return &w->snaps[w->n_snaps++];
}

static bool file_exists(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0;
}

static bool volume_file_exists(struct worker *w, uint64_t id)
{
	char path[PATH_MAX];

	sta_volume_path(w->s, id, path);
	return file_exists(path);
}

/* Take the newest desired state from the poller, if there is one. */
static void take_desired(struct worker *w)
{
	struct sta *s = w->s;
	struct sta_desired *d;

	d = vdc_agent_core_take(&s->core);
	if (!d)
		return;
	if (w->have_desired)
		sta_desired_release(&w->desired);
	w->desired = *d;
	w->have_desired = true;
	free(d);
	if (strcmp(w->desired.dc, w->dc_saved) != 0 && vdc_agent_dc_save(s->statedir, w->desired.dc) == 0)
		snprintf(w->dc_saved, sizeof(w->dc_saved), "%s", w->desired.dc);
}

static void take_snapshot_result(struct worker *w, const struct sta_job_result *r, long now)
{
	struct snap_track *t = snap_track(w, r->job.snap_id);

	if (r->rc == 0 || r->rc == -ECANCELED) {
		t->failures = 0;
		t->err[0] = '\0';
		t->retry_at = 0;
		return;
	}
	t->failures++;
	t->retry_at = now + backoff_ms(t->failures);
	if (r->rc != -EAGAIN)
		snprintf(t->err, sizeof(t->err), "%s", r->err);
	else if (t->failures >= BUSY_COPIES)
		snprintf(t->err, sizeof(t->err),
			 "volume %" PRIu64 " was written during each of the last %u copies; a consistent snapshot of a volume in use needs a pause in its writes, or a state folder on a filesystem that shares extents (XFS, btrfs); trying again",
			 r->job.vol_id, t->failures);
	if (r->rc == -EAGAIN)
		log_info("volume %" PRIu64 ": snapshot %s: the volume was written while it was copied; copying again in %ld s",
			 r->job.vol_id, r->job.snap_name, backoff_ms(t->failures) / 1000);
}

static void take_restore_result(struct worker *w, const struct sta_job_result *r, long now)
{
	struct vol_track *t = vol_track(w, r->job.vol_id);

	if (r->rc == 0 || r->rc == -ECANCELED) {
		t->restore_failures = 0;
		t->restore_err[0] = '\0';
		t->restore_retry_at = 0;
		return;
	}
	t->restore_failures++;
	t->restore_retry_at = now + backoff_ms(t->restore_failures);
	snprintf(t->restore_err, sizeof(t->restore_err), "%s %s: %s",
		 r->job.src_vol ? "clone of volume" : "restore from snapshot", r->job.snap_name, r->err);
}

static void take_image_result(struct worker *w, const struct sta_job_result *r, long now)
{
	struct vol_track *t = vol_track(w, r->job.vol_id);

	if (r->rc == 0 || r->rc == -ECANCELED) {
		t->make_failures = 0;
		t->make_err[0] = '\0';
		return;
	}
	t->make_failures++;
	t->make_retry_at = now + backoff_ms(t->make_failures);
	snprintf(t->make_err, sizeof(t->make_err), "making the disk from image %s: %s", r->job.snap_name, r->err);
}

/* The outcomes of the copies that ended since the last pass. */
static void take_results(struct worker *w)
{
	struct sta *s = w->s;
	struct sta_job_result *res;
	long now = vdc_agent_now_ms();
	size_t i, n;

	pthread_mutex_lock(&s->core.lock);
	res = s->results;
	n = s->n_results;
	s->results = NULL;
	s->n_results = 0;
	pthread_mutex_unlock(&s->core.lock);
	for (i = 0; i < n; i++) {
		if (res[i].job.kind == STA_JOB_SNAPSHOT)
			take_snapshot_result(w, &res[i], now);
		else if (res[i].job.kind == STA_JOB_RESTORE)
			take_restore_result(w, &res[i], now);
		else
			take_image_result(w, &res[i], now);
	}
	free(res);
}

/*
 * Make the volume's file, or grow it to the desired size; shrink it only
 * while it holds no data (vdcfs allows that for a volume never written,
 * so `mkdir; echo 64M > size` works). Its size in `*size`.
 */
static int ensure_file(struct worker *w, const struct sta_volume_spec *v, uint64_t *size, struct vdc_err *err)
{
	char path[PATH_MAX], dir[PATH_MAX];
	struct stat sb;
	bool made = false;
	int fd, rc = 0;

	sta_volume_path(w->s, v->id, path);
	vdc_path(dir, "%s/volumes", w->s->statedir);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		made = true;
	}
	if (fd < 0)
		return vdc_err_set(err, -errno, "cannot open %s: %s", path, strerror(errno));
	if (fstat(fd, &sb) < 0)
		rc = vdc_err_set(err, -errno, "cannot stat %s: %s", path, strerror(errno));
	if (rc == 0 && (uint64_t)sb.st_size < v->size) {
		if (ftruncate(fd, (off_t)v->size) < 0 || fsync(fd) < 0)
			rc = vdc_err_set(err, -errno, "cannot size %s to %" PRIu64 " bytes: %s", path, v->size, strerror(errno));
		else if (!made)
			log_info("volume %" PRIu64 ": grown from %jd to %" PRIu64 " bytes", v->id, (intmax_t)sb.st_size, v->size);
		sb.st_size = (off_t)v->size;
	} else if (rc == 0 && (uint64_t)sb.st_size > v->size && sb.st_blocks == 0) {
		if (ftruncate(fd, (off_t)v->size) < 0 || fsync(fd) < 0)
			rc = vdc_err_set(err, -errno, "cannot size %s to %" PRIu64 " bytes: %s", path, v->size, strerror(errno));
		else
			log_info("volume %" PRIu64 ": shrunk from %jd to %" PRIu64 " bytes (it held no data)", v->id,
				 (intmax_t)sb.st_size, v->size);
		sb.st_size = (off_t)v->size;
	}
	close(fd);
	if (rc == 0 && made) {
		rc = vdc_dir_sync(dir, err);
		log_info("volume %" PRIu64 ": made %s, %" PRIu64 " bytes", v->id, path, v->size);
	}
	*size = (uint64_t)sb.st_size;
	return rc;
}

/* Add a target to `view` as this pass made it: nothing bound, no LUN. */
static struct sta_tgt_target *view_add(struct sta_tgt_view *view, unsigned tid, const char *iqn)
{
	struct sta_tgt_target *t;

	view->t = xrealloc(view->t, (view->n + 1) * sizeof(*view->t));
	t = &view->t[view->n++];
	memset(t, 0, sizeof(*t));
	t->tid = tid;
	t->ready = true;
	snprintf(t->iqn, sizeof(t->iqn), "%s", iqn);
	return t;
}

/* The volume's target, made when missing. An ACL of its own comes before the LUN. */
static int ensure_target(struct worker *w, struct sta_tgt_view *view, const struct sta_volume_spec *v,
			 struct sta_tgt_target **out, struct vdc_err *err)
{
	struct sta *s = w->s;
	struct sta_tgt_target *t = sta_tgt_find(view, v->iqn);
	unsigned tid;
	int rc;

	if (!t) {
		tid = sta_tgt_free_tid(view);
		rc = s->drv->target_new(&s->ctx, tid, v->iqn, err);
		if (rc < 0)
			return vdc_err_wrap(err, rc, "cannot make target %s", v->iqn);
		log_info("volume %" PRIu64 ": target %u %s made", v->id, tid, v->iqn);
		t = view_add(view, tid, v->iqn);
	}
	*out = t;
	return 0;
}

static void forget_account(struct sta_tgt_view *view, const char *user);

/* Strike `user` from the accounts bound to `t`: it was just removed. */
static void target_forget_account(struct sta_tgt_target *t, const char *user)
{
	size_t i;

	for (i = 0; i < t->n_accounts; i++)
		if (strcmp(t->accounts[i], user) == 0)
			t->accounts[i][0] = '\0';
}

/*
 * tgt never shows an account's password, so the agent keeps the SHA-256 of
 * the secret it gave each account in STATE/volumes/ID.chap: an account
 * found with another secret, or one the agent did not make (a restart
 * over a tgtd that outlived another state folder), is made again.
 */
static void chap_digest(const struct sta_volume_spec *v, char *hex)
{
	unsigned char d[32];
	size_t i;

	gnutls_hash_fast(GNUTLS_DIG_SHA256, v->chap_secret, strlen(v->chap_secret), d);
	for (i = 0; i < sizeof(d); i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

static bool chap_recorded(const struct sta *s, const struct sta_volume_spec *v, const char *hex)
{
	struct strbuf got = STRBUF_INIT;
	char path[PATH_MAX];
	bool same;

	vdc_path(path, "%s/volumes/%" PRIu64 ".chap", s->statedir, v->id);
	same = vdc_file_read(path, 128, &got, NULL) == 0 && got.len == 64 && !memcmp(got.buf, hex, 64);
	strbuf_release(&got);
	return same;
}

static int ensure_account(struct worker *w, struct sta_tgt_view *view, struct sta_tgt_target *t,
			  const struct sta_volume_spec *v, struct vdc_err *err)
{
	struct sta *s = w->s;
	char hex[65], path[PATH_MAX];
	int rc;

	chap_digest(v, hex);
	if (sta_tgt_has_account(view, v->chap_user) && !chap_recorded(s, v, hex)) {
		log_info("volume %" PRIu64 ": CHAP account %s has a secret this agent did not record; making it again",
			 v->id, v->chap_user);
		rc = s->drv->account_delete(&s->ctx, v->chap_user, err);
		if (rc < 0)
			return vdc_err_wrap(err, rc, "cannot remove CHAP account %s", v->chap_user);
		forget_account(view, v->chap_user);
		target_forget_account(t, v->chap_user);
	}
	if (!sta_tgt_has_account(view, v->chap_user)) {
		rc = s->drv->account_new(&s->ctx, v->chap_user, v->chap_secret, err);
		if (rc < 0)
			return vdc_err_wrap(err, rc, "cannot make CHAP account %s", v->chap_user);
		view->accounts = xrealloc(view->accounts, (view->n_accounts + 1) * sizeof(*view->accounts));
		snprintf(view->accounts[view->n_accounts++], VDC_NAME_MAX + 1, "%s", v->chap_user);
		vdc_path(path, "%s/volumes/%" PRIu64 ".chap", s->statedir, v->id);
		rc = vdc_file_write_atomic(path, hex, 64, 0600, err);
		if (rc < 0)
			return rc;
	}
	if (!sta_tgt_target_has_account(t, v->chap_user)) {
		rc = s->drv->account_bind(&s->ctx, t->tid, v->chap_user, err);
		if (rc < 0)
			return vdc_err_wrap(err, rc, "cannot bind CHAP account %s to target %u", v->chap_user, t->tid);
	}
	return 0;
}

/* Bind the desired initiators, unbind the others (never tgt's ALL). */
static int ensure_acl(struct worker *w, const struct sta_tgt_target *t, const struct sta_volume_spec *v,
		      struct vdc_err *err)
{
	struct sta *s = w->s;
	size_t i, j;
	int rc;

	for (i = 0; i < v->n_initiators; i++) {
		for (j = 0; j < t->n_acl && strcmp(t->acl[j], v->initiators[i]) != 0; j++)
			;
		if (j < t->n_acl)
			continue;
		rc = s->drv->acl_bind(&s->ctx, t->tid, v->initiators[i], err);
		if (rc < 0)
			return vdc_err_wrap(err, rc, "cannot allow initiator %s", v->initiators[i]);
		log_info("volume %" PRIu64 ": initiator %s allowed", v->id, v->initiators[i]);
	}
	for (j = 0; j < t->n_acl; j++) {
		for (i = 0; i < v->n_initiators && strcmp(t->acl[j], v->initiators[i]) != 0; i++)
			;
		if (i < v->n_initiators)
			continue;
		rc = s->drv->acl_unbind(&s->ctx, t->tid, t->acl[j], err);
		if (rc < 0)
			return vdc_err_wrap(err, rc, "cannot disallow initiator %s", t->acl[j]);
		log_info("volume %" PRIu64 ": initiator %s no longer allowed", v->id, t->acl[j]);
	}
	return 0;
}

/* LUN 1 on the volume's file, at the file's size, thin-provisioned. */
static int ensure_lun(struct worker *w, const struct sta_tgt_target *t, const struct sta_volume_spec *v,
		      uint64_t size, struct vol_track *vt, struct vdc_err *err)
{
	struct sta *s = w->s;
	char path[PATH_MAX];
	bool readded = false;
	int rc;

	sta_volume_path(s, v->id, path);
	rc = sta_lun_ensure(s, t, path, size, &readded, err);
	if (rc < 0)
		return rc;
	if (readded)
		log_info("volume %" PRIu64 ": LUN %d added again at %" PRIu64 " bytes (it was %" PRIu64 " MB)", v->id,
			 STA_LUN, size, t->lun_mb);
	vt->lu_size = size;
	return 0;
}

static void reconcile_volume(struct worker *w, struct sta_tgt_view *view, const struct sta_volume_spec *v)
{
	struct vol_track *vt = vol_track(w, v->id);
	struct vdc_err err = VDC_ERR_INIT;
	struct sta_tgt_target *t = NULL;
	uint64_t size = 0;
	char was[VDC_ERR_MSG_MAX];
	int rc;

	vt->seen = true;
	vt->image_ready = vt->fetching = false;
	snprintf(was, sizeof(was), "%s", vt->err);
	vt->err[0] = '\0';
	if (v->err[0]) {
		vdc_err_set(&err, -EINVAL, "%s", v->err);
		goto fail;
	}
	if (v->image.present && !volume_file_exists(w, v->id)) {
		/* Made from its image by the copier (publish_jobs); no target until then. */
		rc = sta_disk_image_ready(w->s, v, &err);
		vt->image_ready = rc == 0;
		vt->fetching = rc == -EINPROGRESS;
		if (rc == 0 || rc == -EINPROGRESS)
			return;
		wake_at(w, vdc_agent_now_ms() + VDC_IMAGE_RETRY_S * 1000L);
		goto fail;
	}
	rc = ensure_file(w, v, &size, &err);
	if (rc == 0)
		rc = ensure_target(w, view, v, &t, &err);
	if (rc == 0)
		rc = ensure_account(w, view, t, v, &err);
	if (rc == 0)
		rc = ensure_acl(w, t, v, &err);
	if (rc == 0)
		rc = ensure_lun(w, t, v, size, vt, &err);
	if (rc == 0) {
		if (was[0])
			log_info("volume %" PRIu64 ": exported again", v->id);
		return;
	}
fail:
	snprintf(vt->err, sizeof(vt->err), "%s", err.msg);
	if (strcmp(was, vt->err) != 0)
		log_error("volume %" PRIu64 ": %s", v->id, err.msg);
	wake_at(w, vdc_agent_now_ms() + RETRY_MAX_MS / 6);
}

/* Export each snapshot of `v` whose file exists as a target of its own (snaptarget.c). */
static void export_snapshots(struct worker *w, struct sta_tgt_view *view, const struct sta_volume_spec *v)
{
	char path[PATH_MAX];
	size_t k;

	if (v->err[0])
		return;
	for (k = 0; k < v->n_snapshots; k++) {
		struct snap_track *st = snap_track(w, v->snapshots[k].id);
		struct vdc_err err = VDC_ERR_INIT;

		sta_snapshot_path(w->s, st->id, path);
		st->exported = false;
		if (!file_exists(path)) {
			st->export_err[0] = '\0';
			continue;
		}
		if (sta_snapshot_export(w->s, view, &w->desired, v, st->id, &err) == 0) {
			if (st->export_err[0])
				log_info("snapshot %" PRIu64 ": exported again", st->id);
			st->export_err[0] = '\0';
			st->exported = true;
			continue;
		}
		if (strcmp(st->export_err, err.msg) != 0)
			log_error("snapshot %" PRIu64 " of volume %" PRIu64 ": %s", st->id, v->id, err.msg);
		snprintf(st->export_err, sizeof(st->export_err), "%s", err.msg);
		wake_at(w, vdc_agent_now_ms() + RETRY_MAX_MS / 6);
	}
}

/* Whether CHAP user `user` is bound (either way) to any target of `view` but `skip`. */
static bool account_in_use(const struct sta_tgt_view *view, const char *user, const struct sta_tgt_target *skip)
{
	size_t i, j;

	for (i = 0; i < view->n; i++) {
		const struct sta_tgt_target *t = &view->t[i];

		if (t == skip || !t->tid)
			continue;
		if (sta_tgt_target_has_account(t, user))
			return true;
		for (j = 0; j < t->n_outgoing; j++)
			if (strcmp(t->outgoing[j], user) == 0)
				return true;
	}
	return false;
}

/* Strike `user` from the view's account list: it was just removed. */
static void forget_account(struct sta_tgt_view *view, const char *user)
{
	size_t i;

	for (i = 0; i < view->n_accounts; i++)
		if (strcmp(view->accounts[i], user) == 0)
			view->accounts[i][0] = '\0';
}

/* Remove the targets of this data center that no desired volume names, with their accounts. */
static void remove_targets(struct worker *w, struct sta_tgt_view *view)
{
	struct sta *s = w->s;
	const char *prefix = w->desired.iqn_prefix;
	size_t i, j;

	for (i = 0; i < view->n; i++) {
		struct sta_tgt_target *t = &view->t[i];
		struct vdc_err err = VDC_ERR_INIT;

		if (strncmp(t->iqn, prefix, strlen(prefix)) != 0 || sta_desired_by_iqn(&w->desired, t->iqn) ||
		    sta_desired_snapshot_by_iqn(&w->desired, t->iqn))
			continue;
		log_info("target %u %s is no longer wanted; removing it%s", t->tid, t->iqn,
			 t->sessions ? " and its sessions" : "");
		if (s->drv->target_delete(&s->ctx, t->tid, &err) < 0) {
			log_error("cannot remove target %u %s: %s", t->tid, t->iqn, err.msg);
			continue;
		}
		for (j = 0; j < t->n_accounts; j++) {
			if (account_in_use(view, t->accounts[j], t) || sta_desired_user(&w->desired, t->accounts[j]))
				continue;
			if (s->drv->account_delete(&s->ctx, t->accounts[j], &err) < 0)
				log_error("cannot remove CHAP account %s: %s", t->accounts[j], err.msg);
			forget_account(view, t->accounts[j]);
		}
		t->tid = 0;   /* gone */
	}
}

/*
 * Remove CHAP accounts named like a volume's ("vol-N") or a snapshot's
 * ("snap-N") that no target uses and no desired volume names: left by a
 * crash between removing a target and its account.
 */
static void remove_accounts(struct worker *w, const struct sta_tgt_view *view)
{
	struct sta *s = w->s;
	size_t i;

	for (i = 0; i < view->n_accounts; i++) {
		const char *user = view->accounts[i];
		struct vdc_err err = VDC_ERR_INIT;

		if ((strncmp(user, "vol-", 4) != 0 || strspn(user + 4, "0123456789") != strlen(user + 4) || !user[4]) &&
		    !sta_snapshot_user_id(user))
			continue;
		if (account_in_use(view, user, NULL) || sta_desired_user(&w->desired, user))
			continue;
		log_info("removing CHAP account %s: no target uses it", user);
		if (s->drv->account_delete(&s->ctx, user, &err) < 0)
			log_error("cannot remove CHAP account %s: %s", user, err.msg);
	}
}

/* The id of a file NAME of the form "N.SUFFIX", or 0. */
static uint64_t file_id(const char *name, const char *suffix)
{
	char *end;
	uint64_t id;

	if (name[0] < '1' || name[0] > '9')
		return 0;
	id = strtoull(name, &end, 10);
	return strcmp(end, suffix) == 0 ? id : 0;
}

static void remove_file(const char *dir, const char *name, const char *why)
{
	char path[PATH_MAX];

	vdc_path(path, "%s/%s", dir, name);
	log_info("removing %s: %s", path, why);
	if (unlink(path) < 0 && errno != ENOENT)
		log_error("cannot remove %s: %s", path, strerror(errno));
}

/* Whether the copier makes volume `id` from its image, or may start to: its temporary file is in use. */
static bool image_job_wanted(struct sta *s, uint64_t id)
{
	bool wanted;
	size_t i;

	pthread_mutex_lock(&s->core.lock);
	wanted = s->running && s->current.kind == STA_JOB_IMAGE && s->current.vol_id == id;
	for (i = 0; i < s->n_jobs; i++)
		wanted |= s->jobs[i].kind == STA_JOB_IMAGE && s->jobs[i].vol_id == id;
	pthread_mutex_unlock(&s->core.lock);
	return wanted;
}

/* Remove the volume files and restore counters of volumes no longer desired, and disks half made. */
static void remove_volume_files(struct worker *w)
{
	char dir[PATH_MAX];
	struct dirent *de;
	DIR *d;

	vdc_path(dir, "%s/volumes", w->s->statedir);
	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d)) != NULL) {
		uint64_t id = file_id(de->d_name, ".img");

		if (!id)
			id = file_id(de->d_name, ".restore");
		if (!id)
			id = file_id(de->d_name, ".chap");
		if (id && !sta_desired_volume(&w->desired, id))
			remove_file(dir, de->d_name, "its volume is no longer wanted");
		id = de->d_name[0] == '.' ? file_id(de->d_name + 1, ".img.tmp") : 0;
		if (id && !image_job_wanted(w->s, id))
			remove_file(dir, de->d_name, "a disk whose making did not finish");
	}
	closedir(d);
}

/* Remove the snapshot files no desired volume lists, and copies left half done. */
static void remove_snapshot_files(struct worker *w)
{
	struct sta *s = w->s;
	char dir[PATH_MAX];
	struct dirent *de;
	bool running;
	uint64_t current;
	DIR *d;

	pthread_mutex_lock(&s->core.lock);
	running = s->running && s->current.kind == STA_JOB_SNAPSHOT;
	current = s->current.snap_id;
	pthread_mutex_unlock(&s->core.lock);
	vdc_path(dir, "%s/snapshots", s->statedir);
	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d)) != NULL) {
		uint64_t id = file_id(de->d_name, ".img");

		if (!id)
			id = file_id(de->d_name, ".chap");
		if (id && !sta_desired_has_snapshot(&w->desired, id, NULL)) {
			remove_file(dir, de->d_name, "its snapshot is no longer wanted");
			continue;
		}
		id = de->d_name[0] == '.' ? file_id(de->d_name + 1, ".img.tmp") : 0;
		if (id && !(running && current == id))
			remove_file(dir, de->d_name, "a copy that did not finish");
	}
	closedir(d);
}

static bool any_malformed(struct worker *w)
{
	size_t i;

	for (i = 0; i < w->desired.n; i++) {
		if (w->desired.vol[i].err[0]) {
			if (!w->warned_malformed)
				log_warn("volume %" PRIu64 " of the desired state is malformed; nothing is removed until it is not",
					 w->desired.vol[i].id);
			w->warned_malformed = true;
			return true;
		}
	}
	w->warned_malformed = false;
	return false;
}

/*
 * A restore job of volume `v` in `jobs` (from a snapshot or, a clone,
 * from another volume: the caller names the source), or NULL while its
 * last failure's back-off runs (the loop wakes when it ends).
 */
static struct sta_job *restore_job(struct worker *w, const struct sta_volume_spec *v, struct vol_track *vt, long now,
				   struct sta_job **jobs, size_t *n)
{
	struct sta_job *j;

	if (now < vt->restore_retry_at) {
		wake_at(w, vt->restore_retry_at);
		return NULL;
	}
	*jobs = xrealloc(*jobs, (*n + 1) * sizeof(**jobs));
	j = &(*jobs)[(*n)++];
	memset(j, 0, sizeof(*j));
	j->kind = STA_JOB_RESTORE;
	j->vol_id = v->id;
	j->restore_n = v->restore_n;
	return j;
}

/*
 * A restore whose source is another volume of this host (a clone, a cp
 * in the tree): its file must be made and not itself be restored into;
 * until then the clone waits.
 */
static void want_clone(struct worker *w, const struct sta_volume_spec *v, struct sta_job **jobs, size_t *n)
{
	struct vol_track *vt = vol_track(w, v->id);
	const struct sta_volume_spec *src = sta_desired_volume(&w->desired, v->restore_volume);
	long now = vdc_agent_now_ms();
	struct sta_job *j;

	if (!src) {
		snprintf(vt->restore_err, sizeof(vt->restore_err),
			 "volume %" PRIu64 " to clone from is not on this storage host", v->restore_volume);
		return;
	}
	if (src->err[0] || !volume_file_exists(w, src->id) ||
	    (src->restore && src->restore_n > sta_restore_done(w->s, src->id)))
		return;   /* being made or restored: a later pass starts the clone */
	j = restore_job(w, v, vt, now, jobs, n);
	if (!j)
		return;
	j->src_vol = src->id;
	if (src->name[0])
		snprintf(j->snap_name, sizeof(j->snap_name), "%s", src->name);
	else
		snprintf(j->snap_name, sizeof(j->snap_name), "%" PRIu64, src->id);
}

/* Add the restore a volume waits for to `jobs`, or say why it cannot run yet. */
static void want_restore(struct worker *w, const struct sta_volume_spec *v, struct sta_job **jobs, size_t *n)
{
	struct vol_track *vt = vol_track(w, v->id);
	const struct sta_volume_spec *owner = NULL;
	char path[PATH_MAX];
	struct sta_job *j;
	long now = vdc_agent_now_ms();

	if (!v->restore || v->restore_n <= sta_restore_done(w->s, v->id) || !volume_file_exists(w, v->id)) {
		vt->restore_err[0] = '\0';
		vt->restore_failures = 0;
		return;
	}
	if (v->restore_volume) {
		want_clone(w, v, jobs, n);
		return;
	}
	sta_snapshot_path(w->s, v->restore_snapshot, path);
	if (!file_exists(path)) {
		if (!sta_desired_has_snapshot(&w->desired, v->restore_snapshot, NULL))
			snprintf(vt->restore_err, sizeof(vt->restore_err),
				 "snapshot %" PRIu64 " to restore from is not on this storage host", v->restore_snapshot);
		return;   /* being taken: a later pass starts the restore */
	}
	j = restore_job(w, v, vt, now, jobs, n);
	if (!j)
		return;
	j->snap_id = v->restore_snapshot;
	sta_desired_has_snapshot(&w->desired, v->restore_snapshot, &owner);
	if (owner) {
		size_t k;

		for (k = 0; k < owner->n_snapshots; k++)
			if (owner->snapshots[k].id == v->restore_snapshot)
				snprintf(j->snap_name, sizeof(j->snap_name), "%s", owner->snapshots[k].name);
	}
	if (!j->snap_name[0])
		snprintf(j->snap_name, sizeof(j->snap_name), "%" PRIu64, v->restore_snapshot);
}

static void want_snapshots(struct worker *w, const struct sta_volume_spec *v, struct sta_job **jobs, size_t *n)
{
	char path[PATH_MAX];
	long now = vdc_agent_now_ms();
	size_t k;

	sta_volume_path(w->s, v->id, path);
	if (!file_exists(path))
		return;
	for (k = 0; k < v->n_snapshots; k++) {
		const struct sta_snapshot_spec *sp = &v->snapshots[k];
		struct snap_track *st = snap_track(w, sp->id);
		struct sta_job *j;

		st->seen = true;
		sta_snapshot_path(w->s, sp->id, path);
		if (file_exists(path))
			continue;
		if (now < st->retry_at) {
			wake_at(w, st->retry_at);
			continue;
		}
		*jobs = xrealloc(*jobs, (*n + 1) * sizeof(**jobs));
		j = &(*jobs)[(*n)++];
		memset(j, 0, sizeof(*j));
		j->kind = STA_JOB_SNAPSHOT;
		j->vol_id = v->id;
		j->snap_id = sp->id;
		snprintf(j->snap_name, sizeof(j->snap_name), "%s", sp->name[0] ? sp->name : "?");
		if (!sp->name[0])
			snprintf(j->snap_name, sizeof(j->snap_name), "%" PRIu64, sp->id);
	}
}

/* Add the making of a volume's file from its image, once that is ready. */
static void want_image(struct worker *w, const struct sta_volume_spec *v, struct sta_job **jobs, size_t *n)
{
	struct vol_track *vt = vol_track(w, v->id);
	long now = vdc_agent_now_ms();
	struct sta_job *j;

	if (!vt->image_ready)
		return;
	if (now < vt->make_retry_at) {
		wake_at(w, vt->make_retry_at);
		return;
	}
	*jobs = xrealloc(*jobs, (*n + 1) * sizeof(**jobs));
	j = &(*jobs)[(*n)++];
	memset(j, 0, sizeof(*j));
	j->kind = STA_JOB_IMAGE;
	j->vol_id = v->id;
	j->size = v->size;
	snprintf(j->snap_name, sizeof(j->snap_name), "%s", v->image.name);
	snprintf(j->sha256, sizeof(j->sha256), "%s", v->image.sha256);
}

/* Hand the copier the copies wanted now (disks from images, then restores); cancel the running one if it is not. */
static void publish_jobs(struct worker *w)
{
	struct sta *s = w->s;
	struct sta_job *jobs = NULL;
	size_t i, n = 0;
	bool wanted = false;

	for (i = 0; i < w->desired.n; i++)
		if (!w->desired.vol[i].err[0])
			want_image(w, &w->desired.vol[i], &jobs, &n);
	for (i = 0; i < w->desired.n; i++)
		if (!w->desired.vol[i].err[0])
			want_restore(w, &w->desired.vol[i], &jobs, &n);
	for (i = 0; i < w->desired.n; i++)
		if (!w->desired.vol[i].err[0])
			want_snapshots(w, &w->desired.vol[i], &jobs, &n);
	pthread_mutex_lock(&s->core.lock);
	for (i = 0; i < n && s->running; i++)
		wanted |= sta_job_equal(&jobs[i], &s->current);
	if (s->running && !wanted) {
		log_info("volume %" PRIu64 ": the copy of snapshot %s is no longer wanted; stopping it", s->current.vol_id,
			 s->current.snap_name);
		s->cancel = true;
	}
	/* The running copy is not offered again. */
	for (i = 0; i < n; i++)
		if (s->running && sta_job_equal(&jobs[i], &s->current))
			memmove(&jobs[i], &jobs[i + 1], (--n - i) * sizeof(*jobs));
	free(s->jobs);
	s->jobs = jobs;
	s->n_jobs = n;
	pthread_cond_signal(&s->copier_cond);
	pthread_mutex_unlock(&s->core.lock);
}

/* Whether a restore into `v` waits or runs: the volume is not ready for use until it is done. */
static bool restore_pending(struct worker *w, const struct sta_volume_spec *v)
{
	return v->restore && v->restore_n > sta_restore_done(w->s, v->id);
}

static json_t *snapshot_entries(struct worker *w, const struct sta_volume_spec *v)
{
	json_t *list = json_array();
	char path[PATH_MAX];
	size_t k;

	for (k = 0; k < v->n_snapshots; k++) {
		struct snap_track *st = snap_track(w, v->snapshots[k].id);
		const char *state = VDC_WIRE_VOL_CREATING;

		sta_snapshot_path(w->s, v->snapshots[k].id, path);
		/* Available once its own target serves it (or could not be made: the bytes are there for restores). */
		if (file_exists(path) && (st->exported || st->export_err[0]))
			state = VDC_WIRE_VOL_AVAILABLE;
		else if (file_exists(path))
			state = VDC_WIRE_VOL_CREATING;
		else if (st->err[0])
			state = VDC_WIRE_STATE_ERROR;
		json_array_append_new(list, sta_report_snapshot_json(v->snapshots[k].id, state,
								     strcmp(state, VDC_WIRE_STATE_ERROR) == 0 ? st->err : ""));
	}
	return list;
}

/* The report entry of volume `v`, without allocated and progress (the reporter adds them). */
static json_t *volume_entry(struct worker *w, const struct sta_volume_spec *v)
{
	struct vol_track *vt = vol_track(w, v->id);
	const char *state = VDC_WIRE_VOL_AVAILABLE, *err = "";

	if (w->tgt_err[0] && !v->err[0]) {
		state = VDC_WIRE_STATE_ERROR;
		err = w->tgt_err;
	} else if (vt->err[0]) {
		state = VDC_WIRE_STATE_ERROR;
		err = vt->err;
	} else if (vt->restore_err[0]) {
		state = VDC_WIRE_STATE_ERROR;
		err = vt->restore_err;
	} else if (vt->make_err[0]) {
		state = VDC_WIRE_STATE_ERROR;
		err = vt->make_err;
	} else if (!vt->lu_size || restore_pending(w, v)) {
		state = VDC_WIRE_VOL_CREATING;
	}
	return sta_report_volume_json(v->id, state, err, vt->lu_size, sta_restore_done(w->s, v->id),
				      snapshot_entries(w, v));
}

static void publish_volumes(struct worker *w)
{
	struct sta *s = w->s;
	json_t *list = json_array();
	struct sta_fetch *fetches = NULL;
	size_t i, n = 0;

	for (i = 0; i < w->desired.n; i++) {
		const struct sta_volume_spec *v = &w->desired.vol[i];

		json_array_append_new(list, volume_entry(w, v));
		if (vol_track(w, v->id)->fetching) {
			fetches = xrealloc(fetches, (n + 1) * sizeof(*fetches));
			fetches[n++] = (struct sta_fetch){ .vol_id = v->id, .image = v->image };
		}
	}
	pthread_mutex_lock(&s->core.lock);
	json_decref(s->volumes);
	s->volumes = list;
	free(s->fetches);
	s->fetches = fetches;
	s->n_fetches = n;
	s->core.rev_done = w->desired.rev;
	vdc_agent_core_kick_locked(&s->core, false, true);
	pthread_mutex_unlock(&s->core.lock);
}

/* Forget what is known of volumes and snapshots no longer desired. */
static void forget(struct worker *w)
{
	size_t i, kept = 0;

	for (i = 0; i < w->n_vols; i++)
		if (sta_desired_volume(&w->desired, w->vols[i].id))
			w->vols[kept++] = w->vols[i];
	w->n_vols = kept;
	kept = 0;
	for (i = 0; i < w->n_snaps; i++)
		if (sta_desired_has_snapshot(&w->desired, w->snaps[i].id, NULL))
			w->snaps[kept++] = w->snaps[i];
	w->n_snaps = kept;
}

static void pass(struct worker *w)
{
	struct sta *s = w->s;
	struct vdc_err err = VDC_ERR_INIT;
	struct sta_tgt_view view;
	size_t i;

	w->next_wake = vdc_agent_now_ms() + RESCAN_MS;
	take_desired(w);
	take_results(w);
	if (!w->have_desired)
		return;
	if (s->drv->view(&s->ctx, &view, &err) < 0) {
		if (strcmp(w->tgt_err, err.msg) != 0)
			log_error("%s", err.msg);
		snprintf(w->tgt_err, sizeof(w->tgt_err), "%s", err.msg);
		wake_at(w, vdc_agent_now_ms() + RETRY_MAX_MS / 6);
		publish_volumes(w);
		return;
	}
	if (w->tgt_err[0])
		log_info("tgtd answers again");
	w->tgt_err[0] = '\0';
	for (i = 0; i < w->desired.n; i++)
		reconcile_volume(w, &view, &w->desired.vol[i]);
	for (i = 0; i < w->desired.n; i++)
		export_snapshots(w, &view, &w->desired.vol[i]);
	if (!any_malformed(w)) {
		remove_targets(w, &view);
		remove_accounts(w, &view);
		remove_volume_files(w);
		remove_snapshot_files(w);
		forget(w);
	}
	sta_tgt_view_release(&view);
	if (!any_malformed(w))
		sta_disk_prune(s, &w->desired);
	publish_jobs(w);
	publish_volumes(w);
}

void *sta_worker_thread(void *arg)
{
	struct worker w = { .s = arg };
	struct sta *s = w.s;

	while (vdc_agent_core_worker_wait(&s->core, w.next_wake))
		pass(&w);
	if (w.have_desired)
		sta_desired_release(&w.desired);
	free(w.vols);
	free(w.snaps);
	return NULL;
}

/* ---- leaving the data center (vdc-sta --leave) ---- */

/* The targets of the data center tgtd has (its IQN prefix), or -errno. */
static int leave_count(struct sta *s, const char *prefix, size_t *n, struct vdc_err *err)
{
	struct sta_tgt_view view;
	size_t i;
	int rc = s->drv->view(&s->ctx, &view, err);

	*n = 0;
	for (i = 0; rc == 0 && i < view.n; i++)
		*n += strncmp(view.t[i].iqn, prefix, strlen(prefix)) == 0;
	if (rc == 0)
		sta_tgt_view_release(&view);
	return rc;
}

int sta_leave(struct sta *s, const char *dc, struct vdc_err *err)
{
	struct worker w = { .s = s };
	struct sta_tgt_view view;
	char images[PATH_MAX];
	size_t left;
	int rc;

	snprintf(w.desired.dc, sizeof(w.desired.dc), "%s", dc);
	snprintf(w.desired.iqn_prefix, sizeof(w.desired.iqn_prefix), STA_IQN_BASE "%.12s:", dc);
	w.have_desired = true;
	rc = s->drv->view(&s->ctx, &view, err);
	if (rc < 0)
		return rc;
	/* An empty desired state: every target, account, volume and snapshot goes. */
	remove_targets(&w, &view);
	remove_accounts(&w, &view);
	sta_tgt_view_release(&view);
	remove_volume_files(&w);
	remove_snapshot_files(&w);
	vdc_path(images, "%s/images", s->statedir);
	if (vdc_remove_tree(images, err) < 0)
		log_error("%s", err->msg);
	free(w.vols);
	free(w.snaps);
	rc = leave_count(s, w.desired.iqn_prefix, &left, err);
	if (rc == 0 && left)
		rc = vdc_err_set(err, -EBUSY, "%zu target%s of the data center could not be removed (the log says why)",
				 left, left == 1 ? "" : "s");
	return rc;
}
