/*
 * Snapshots as targets of their own (docs/storage.md, "Snapshots'
 * bytes"): vdcfs reads and writes volumes/V/snapshots/S/data and
 * instances/I/snapshots/S/disk through them. Every snapshot whose file
 * exists is exported by tgtd as `PREFIX` "snap-ID", LUN 1 on the
 * snapshot's file (read-write: a restore from tar writes the snapshot's
 * bytes), CHAP user "snap-ID" with its volume's secret, and vdcfs's
 * initiator alone in its ACL: no hypervisor ever logs in to a snapshot.
 * Everything is derived from the desired state the agent already has, so
 * the protocol gains nothing.
 *
 * The reconcile loop (reconcile.c) calls this after its volumes' targets
 * and removes a snapshot's target, account and record as it removes a
 * volume's: when no desired volume lists the snapshot any more.
 */
#include <errno.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "file.h"
#include "log.h"
#include "sta.h"

void sta_snapshot_chap_path(const struct sta *s, uint64_t id, char *out)
{
	vdc_path(out, "%s/snapshots/%" PRIu64 ".chap", s->statedir, id);
}

/* The SHA-256 of `secret` in hex: what STATE/snapshots/ID.chap records of the account's secret. */
static void digest(const char *secret, char hex[65])
{
	unsigned char d[32];
	size_t i;

	gnutls_hash_fast(GNUTLS_DIG_SHA256, secret, strlen(secret), d);
	for (i = 0; i < sizeof(d); i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

static bool recorded(const char *path, const char *hex)
{
	struct strbuf got = STRBUF_INIT;
	bool same = vdc_file_read(path, 128, &got, NULL) == 0 && got.len == 64 && !memcmp(got.buf, hex, 64);

	strbuf_release(&got);
	return same;
}

static void strike(char (*list)[VDC_NAME_MAX + 1], size_t n, const char *user)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(list[i], user) == 0)
			list[i][0] = '\0';
}

static int target(struct sta *s, struct sta_tgt_view *view, const char *iqn, uint64_t id,
		  struct sta_tgt_target **out, struct vdc_err *err)
{
	struct sta_tgt_target *t = sta_tgt_find(view, iqn);
	unsigned tid;
	int rc;

	*out = t;
	if (t)
		return 0;
	tid = sta_tgt_free_tid(view);
	rc = s->drv->target_new(&s->ctx, tid, iqn, err);
	if (rc < 0)
		return vdc_err_wrap(err, rc, "cannot make target %s", iqn);
	log_info("snapshot %" PRIu64 ": target %u %s made", id, tid, iqn);
	view->t = xrealloc(view->t, (view->n + 1) * sizeof(*view->t));
	t = &view->t[view->n++];
	memset(t, 0, sizeof(*t));
	t->tid = tid;
	t->ready = true;
	snprintf(t->iqn, sizeof(t->iqn), "%s", iqn);
	*out = t;
	return 0;
}

static int account(struct sta *s, struct sta_tgt_view *view, struct sta_tgt_target *t, uint64_t id,
		   const char *secret, struct vdc_err *err)
{
	char user[VDC_NAME_MAX + 1], hex[65], path[PATH_MAX];
	int rc;

	sta_snapshot_user(id, user);
	digest(secret, hex);
	sta_snapshot_chap_path(s, id, path);
	if (sta_tgt_has_account(view, user) && !recorded(path, hex)) {
		log_info("snapshot %" PRIu64 ": CHAP account %s has a secret this agent did not record; making it again",
			 id, user);
		rc = s->drv->account_delete(&s->ctx, user, err);
		if (rc < 0)
			return vdc_err_wrap(err, rc, "cannot remove CHAP account %s", user);
		strike(view->accounts, view->n_accounts, user);
		strike(t->accounts, t->n_accounts, user);
	}
	if (!sta_tgt_has_account(view, user)) {
		rc = s->drv->account_new(&s->ctx, user, secret, err);
		if (rc < 0)
			return vdc_err_wrap(err, rc, "cannot make CHAP account %s", user);
		view->accounts = xrealloc(view->accounts, (view->n_accounts + 1) * sizeof(*view->accounts));
		snprintf(view->accounts[view->n_accounts++], VDC_NAME_MAX + 1, "%s", user);
		rc = vdc_file_write_atomic(path, hex, 64, 0600, err);
		if (rc < 0)
			return rc;
	}
	if (!sta_tgt_target_has_account(t, user)) {
		rc = s->drv->account_bind(&s->ctx, t->tid, user, err);
		if (rc < 0)
			return vdc_err_wrap(err, rc, "cannot bind CHAP account %s to target %u", user, t->tid);
	}
	return 0;
}

/* vdcfs's initiator alone. */
static int acl(struct sta *s, const struct sta_tgt_target *t, const char *control, struct vdc_err *err)
{
	bool have = false;
	size_t j;
	int rc;

	for (j = 0; j < t->n_acl; j++) {
		if (strcmp(t->acl[j], control) == 0) {
			have = true;
			continue;
		}
		rc = s->drv->acl_unbind(&s->ctx, t->tid, t->acl[j], err);
		if (rc < 0)
			return vdc_err_wrap(err, rc, "cannot disallow initiator %s", t->acl[j]);
	}
	if (!have) {
		rc = s->drv->acl_bind(&s->ctx, t->tid, control, err);
		if (rc < 0)
			return vdc_err_wrap(err, rc, "cannot allow initiator %s", control);
	}
	return 0;
}

int sta_lun_ensure(struct sta *s, const struct sta_tgt_target *t, const char *path, uint64_t size, bool *readded,
		   struct vdc_err *err)
{
	bool add = !t->has_lun;
	int rc;

	if (t->has_lun && (strcmp(t->lun_path, path) != 0 || t->lun_mb != sta_tgt_size_mb(size))) {
		rc = s->drv->lun_delete(&s->ctx, t->tid, err);
		if (rc < 0)
			return vdc_err_wrap(err, rc, "cannot take LUN %d of target %u to add it again", STA_LUN, t->tid);
		if (readded)
			*readded = true;
		add = true;
	}
	if (add) {
		rc = s->drv->lun_new(&s->ctx, t->tid, path, err);
		if (rc < 0)
			return vdc_err_wrap(err, rc, "cannot add LUN %d on %s", STA_LUN, path);
	}
	if (add || !t->lun_thin) {
		rc = s->drv->lun_thin(&s->ctx, t->tid, err);
		if (rc < 0)
			return vdc_err_wrap(err, rc, "cannot make LUN %d thin-provisioned", STA_LUN);
	}
	return 0;
}

int sta_snapshot_export(struct sta *s, struct sta_tgt_view *view, const struct sta_desired *d,
			const struct sta_volume_spec *v, uint64_t id, struct vdc_err *err)
{
	char iqn[STA_IQN_MAX + 1], control[STA_IQN_MAX + 1], path[PATH_MAX];
	struct sta_tgt_target *t;
	struct stat sb;
	int rc;

	sta_snapshot_path(s, id, path);
	if (stat(path, &sb) < 0)
		return vdc_err_set(err, -errno, "cannot stat %s: %s", path, strerror(errno));
	sta_snapshot_iqn(d, id, iqn);
	sta_control_initiator(d, control);
	rc = target(s, view, iqn, id, &t, err);
	if (rc == 0)
		rc = account(s, view, t, id, v->chap_secret, err);
	if (rc == 0)
		rc = acl(s, t, control, err);
	if (rc == 0)
		rc = sta_lun_ensure(s, t, path, (uint64_t)sb.st_size, NULL, err);
	return rc;
}
