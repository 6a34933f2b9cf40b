/*
 * The iSCSI data back end (handle.h): volumes/NAME/data read and written
 * on the volume's LUN (and every other kind->block file the same way: an
 * instance's disk, a snapshot's data or disk on the snapshot's own
 * target), through an iSCSI session of the handle's own, and
 * what else reaches the LUN without a handle (truncate(2), a scratch file
 * renamed onto data). The volume's attributes are looked up in the model;
 * the session is libiscsi's (backend/iscsi.c).
 */
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "frontend.h"
#include "handle.h"
#include "iscsi.h"
#include "notify.h"

/*
 * ---- a volume's data ----
 *
 * volumes/NAME/data is the volume's LUN (docs/storage.md). Every open file
 * has its own iSCSI session (iscsi.h) as vdcfs's initiator; nothing of it
 * runs under the model lock, which is taken only to read the endpoint, to
 * check that the volume may be written and to set run/progress.
 * Sequential reads are read ahead inside the session (iscsi.h) on top of
 * the kernel's readahead, so several READs are in flight at once.
 */
#define VOLUME_WAIT_MS 30000   /* opening data of a volume that is not available */
#define VOLUME_POLL_MS 100

static void sleep_ms(unsigned ms)
{
	struct timespec t = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&t, NULL);
}

static time_t mono_seconds(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec;
}

/* Record the failure of a request on data in the volume's run/err. */
static int volume_fail(int64_t vol, const struct vdc_err *err, int rc)
{
	vdc_model_wrlock();
	vdc_report(vdc_obj_by_id(vol), err);
	tell_kernel();
	vdc_model_unlock();
	return rc;
}

/*
 * The endpoint of the volume of data inode `ino`, waiting up to 30 s while
 * it is not available (-EAGAIN); with `wr`, it must be writable now.
 * Returns 0, a negative errno, or 1 for a volume on no storage host (no
 * bytes anywhere: *size is 0 and there is no target to log in to).
 */
static int volume_endpoint(fuse_ino_t ino, bool wr, struct vdc_block_ep *ep, int64_t *vol,
			   uint64_t *size, struct vdc_err *err)
{
	unsigned waited = 0;
	struct node n;
	int rc;

	for (;;) {
		vdc_err_clear(err);
		vdc_model_rdlock();
		rc = tree_from_ino(ino, &n);
		if (rc == 0 && !is_volume_data(&n))
			rc = -EINVAL;
		if (rc == 0) {
			*vol = n.obj->id;
			if (!n.obj->kind->block->placed(n.obj)) {
				/* No storage host: no bytes anywhere, nothing to wait for. */
				vdc_model_unlock();
				memset(ep, 0, sizeof(*ep));
				*size = 0;
				return 1;
			}
			rc = n.obj->kind->block->endpoint(n.obj, ep, err);
		}
		if (rc == 0 && wr)
			rc = n.obj->kind->block->writable(n.obj, err);
		if (rc == 0)
			*size = tree_data_size(n.obj);
		vdc_model_unlock();
		if (rc != -EAGAIN || waited >= VOLUME_WAIT_MS)
			return rc;
		sleep_ms(VOLUME_POLL_MS);
		waited += VOLUME_POLL_MS;
	}
}

/*
 * Log in to the endpoint's LUN. tgt cannot change a LUN's size: a storage
 * host grows a volume or a disk by adding its LUN again, and a login in
 * that moment finds no LUN (-EIO). So a failed login is tried again for
 * up to VOLUME_RELOGIN_MS before the open fails with it.
 */
#define VOLUME_RELOGIN_MS 5000

static int volume_connect(const struct vdc_block_ep *ep, struct vdc_iscsi **lun, struct vdc_err *err)
{
	struct vdc_iscsi_target t = {
		.portal = ep->portal, .iqn = ep->iqn, .initiator = ep->initiator,
		.user = ep->user, .secret = ep->secret, .lun = ep->lun,
	};
	unsigned waited = 0;
	int rc;

	for (;;) {
		vdc_err_clear(err);
		rc = vdc_iscsi_open(&t, lun, err);
		if (rc != -EIO || waited >= VOLUME_RELOGIN_MS)
			return rc;
		sleep_ms(VOLUME_POLL_MS);
		waited += VOLUME_POLL_MS;
	}
}

/*
 * Point-in-time reads (kinds/lun.h): a read-only open of bytes a guest may
 * be writing now pins them and reads the pin, so the whole open sees one
 * moment. Taking the pin is the storage host's snapshot: at once by a
 * reflink, a copy on a filesystem without them, so the open waits longer
 * than for a volume to become available.
 */
#define PIN_WAIT_MS 300000

static void volume_unpin(int64_t vol, int64_t pin)
{
	struct vdc_obj *o;

	if (!pin)
		return;
	vdc_model_wrlock();
	o = vdc_obj_by_id(vol);
	if (o)
		o->kind->block->unpin(o, pin);
	vdc_model_unlock();
}

static int volume_pin(int64_t vol, int64_t *pin, struct vdc_block_ep *ep, uint64_t *size, struct vdc_err *err)
{
	unsigned waited = 0;
	struct vdc_obj *o;
	int rc = 0;

	*pin = 0;
	vdc_model_wrlock();
	o = vdc_obj_by_id(vol);
	if (o && o->kind->block->live && o->kind->block->live(o))
		rc = o->kind->block->pin(o, pin, err);
	vdc_model_unlock();
	if (rc < 0 || !*pin)
		return rc;
	for (;;) {
		vdc_err_clear(err);
		explicit_bzero(ep->secret, sizeof(ep->secret));
		vdc_model_rdlock();
		o = vdc_obj_by_id(vol);
		rc = o ? o->kind->block->pin_endpoint(o, *pin, ep, err) : -ENOENT;
		vdc_model_unlock();
		if (rc == 0) {
			*size = ep->size;
			return 0;
		}
		if (rc != -EAGAIN || waited >= PIN_WAIT_MS)
			break;
		sleep_ms(VOLUME_POLL_MS);
		waited += VOLUME_POLL_MS;
	}
	volume_unpin(vol, *pin);
	*pin = 0;
	return rc;
}

/*
 * Open data of a volume (no lock held): wait for the volume, log in, and
 * with `trunc` discard every block. Fills fi for the reply.
 */
int volume_open(fuse_ino_t ino, struct fuse_file_info *fi, bool trunc)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_block_ep ep;
	struct handle *h;
	bool wr = (fi->flags & O_ACCMODE) != O_RDONLY, unplaced;
	int64_t vol = 0, pin = 0;
	uint64_t size = 0;
	int rc;

	rc = volume_endpoint(ino, wr, &ep, &vol, &size, &err);
	if (rc == 0 && !wr)
		rc = volume_pin(vol, &pin, &ep, &size, &err);
	if (rc < 0) {
		explicit_bzero(ep.secret, sizeof(ep.secret));
		return vol ? volume_fail(vol, &err, rc) : rc;
	}
	unplaced = rc == 1;
	h = handle_new(&handle_text);
	h->ino = ino;
	h->type = N_DATA;
	h->vol = vol;
	h->size = size;
	h->wr = wr;
	h->pin = pin;
	rc = unplaced ? 0 : volume_connect(&ep, &h->lun, &err);
	if (rc == 0 && trunc && wr && h->lun)
		rc = vdc_iscsi_discard_all(h->lun, &err);
	explicit_bzero(ep.secret, sizeof(ep.secret));
	if (rc < 0) {
		handle_free(h);
		volume_unpin(vol, pin);
		return volume_fail(vol, &err, rc);
	}
	/*
	 * A volume on no storage host has no session: its handle stays a
	 * text one, which reads as empty and refuses a write with EAGAIN and
	 * the kind's no_host sentence in run/err (text_write).
	 */
	if (h->lun)
		h->be = &handle_iscsi;
	/*
	 * Through the page cache: tar --sparse reads 512 bytes at a time,
	 * which the kernel's readahead turns into large reads. An open keeps
	 * what the cache held only while nothing but vdcfs could have
	 * written the volume since the last open (the kind's cache_ok): once
	 * a guest or a restore may have, it starts afresh, so a reader sees
	 * what a guest wrote before it opened data.
	 */
	fi->direct_io = 0;
	vdc_model_wrlock();
	{
		struct vdc_obj *o = vdc_obj_by_id(vol);

		/* A pinned open reads its own moment: never what the cache held. */
		fi->keep_cache = o && h->lun && !pin && o->kind->block->cache_ok(o);
	}
	vdc_model_unlock();
	fi->noflush = !wr;
	fi->fh = (uintptr_t)h;
	return 0;
}

/* The end of file of a volume's data handle (another request may grow it). */
static uint64_t volume_size(struct handle *h)
{
	uint64_t size;

	pthread_mutex_lock(&h->lock);
	size = h->size;
	pthread_mutex_unlock(&h->lock);
	return size;
}

/*
 * Show or clear (text NULL) this handle's copy in the volume's run/progress.
 * The caller keeps h->progress; the handle's lock is not held here (the
 * model's lock is never taken inside it).
 */
static void volume_progress(struct handle *h, const char *text)
{
	struct vdc_obj *vol;

	vdc_model_wrlock();
	vol = vdc_obj_by_id(h->vol);
	if (vol)
		vol->kind->block->set_progress(vol, text);
	tell_kernel();
	vdc_model_unlock();
}

/*
 * A sequential read or write went to `end`: tell run/progress, once a
 * second at most. Reads on one handle run at once (several threads, the
 * kernel's readahead): the handle's lock decides which of them tells.
 */
static void volume_progress_note(struct handle *h, uint64_t off, size_t len, bool wrote)
{
	char done[16], total[16], text[64];
	uint64_t size;
	bool tell;

	pthread_mutex_lock(&h->lock);
	tell = off && off == h->seq_end;
	h->seq_end = off + len;
	if (tell) {
		time_t now = mono_seconds();

		tell = !(h->progress && now == h->progress_at);
		if (tell) {
			h->progress_at = now;
			h->progress = true;
		}
	}
	size = h->size;
	pthread_mutex_unlock(&h->lock);
	if (!tell)
		return;
	vdc_size_approx(off + len, done, sizeof(done));
	vdc_size_approx(size, total, sizeof(total));
	snprintf(text, sizeof(text), "data: %s %s of %s", wrote ? "wrote" : "read", done, total);
	volume_progress(h, text);
}

static void volume_read(fuse_req_t req, struct handle *h, size_t size, off_t off)
{
	struct vdc_err err = VDC_ERR_INIT;
	__do_free char *buf = NULL;
	uint64_t o = (uint64_t)off, lun = vdc_iscsi_size(h->lun), end = volume_size(h);
	ssize_t r = 0;

	if (o >= end) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	if (size > end - o)
		size = (size_t)(end - o);
	buf = xmalloc(size);
	if (o < lun) {
		r = vdc_iscsi_read(h->lun, buf, size, o, &err);
		if (r < 0) {
			fuse_reply_err(req, -volume_fail(h->vol, &err, (int)r));
			return;
		}
	}
	/* Past the LUN, inside the size the volume grows to: zeros. */
	memset(buf + r, 0, size - (size_t)r);
	volume_progress_note(h, o, size, false);
	fuse_reply_buf(req, buf, size);
}

/*
 * Wait (up to 30 s) until the LUN reaches `end`: a volume grown by
 * truncate(2) or `size` gets its new blocks once the storage host has
 * grown the target.
 */
static int volume_wait_size(struct handle *h, uint64_t end, struct vdc_err *err)
{
	unsigned waited = 0;
	int rc;

	while (vdc_iscsi_size(h->lun) < end) {
		if (waited >= VOLUME_WAIT_MS)
			return vdc_err_set(err, -EAGAIN, "the volume has not grown to %llu bytes on its storage host yet",
					   (unsigned long long)end);
		sleep_ms(VOLUME_POLL_MS);
		waited += VOLUME_POLL_MS;
		rc = vdc_iscsi_refresh(h->lun, err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static void volume_write(fuse_req_t req, struct handle *h, const char *data, size_t size, off_t off)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_obj *vol;
	uint64_t end = volume_size(h);
	ssize_t w;
	int rc;

	vdc_model_rdlock();
	vol = vdc_obj_by_id(h->vol);
	rc = vol ? vol->kind->block->writable(vol, &err) : -ENOENT;
	if (rc == 0 && !h->lun)
		rc = vol->kind->block->no_host(vol, &err);
	vdc_model_unlock();
	/* Like a disk: a write that runs past the end is short, one at the end fails. */
	if (rc == 0 && (uint64_t)off >= end)
		rc = vdc_err_set(&err, -ENOSPC, "data of a volume of %llu bytes cannot be written past its end; grow it with size or truncate",
				 (unsigned long long)end);
	else if (rc == 0 && size > end - (uint64_t)off)
		size = (size_t)(end - (uint64_t)off);
	if (rc == 0)
		rc = volume_wait_size(h, (uint64_t)off + size, &err);
	if (rc < 0) {
		fuse_reply_err(req, -(rc == -ENOENT ? rc : volume_fail(h->vol, &err, rc)));
		return;
	}
	w = vdc_iscsi_write(h->lun, data, size, (uint64_t)off, &err);
	if (w < 0) {
		fuse_reply_err(req, -volume_fail(h->vol, &err, (int)w));
		return;
	}
	pthread_mutex_lock(&h->lock);
	h->dirty = true;
	pthread_mutex_unlock(&h->lock);
	volume_progress_note(h, (uint64_t)off, size, true);
	fuse_reply_write(req, (size_t)w);
}

/*
 * SYNCHRONIZE CACHE when something was written (flush, fsync). The flag
 * is taken before the command, so a write that lands during it leaves
 * the handle dirty for the next one; a failed command puts it back.
 */
static int volume_sync(struct handle *h)
{
	struct vdc_err err = VDC_ERR_INIT;
	bool dirty;
	int rc;

	pthread_mutex_lock(&h->lock);
	dirty = h->dirty;
	h->dirty = false;
	pthread_mutex_unlock(&h->lock);
	if (!dirty)
		return 0;
	rc = vdc_iscsi_sync(h->lun, &err);
	if (rc < 0) {
		pthread_mutex_lock(&h->lock);
		h->dirty = true;
		pthread_mutex_unlock(&h->lock);
		return volume_fail(h->vol, &err, rc);
	}
	return 0;
}

/* The last request on the handle: nothing else runs on it now. */
static void volume_release(struct handle *h)
{
	bool progress;

	volume_sync(h);
	pthread_mutex_lock(&h->lock);
	progress = h->progress;
	h->progress = false;
	pthread_mutex_unlock(&h->lock);
	if (progress)
		volume_progress(h, NULL);
	if (h->wr) {
		struct vdc_obj *vol;

		vdc_model_wrlock();
		vol = vdc_obj_by_id(h->vol);
		if (vol)
			tree_data_written(vol);
		vdc_model_unlock();
		kernel_inval_inode(h->ino);
	}
	if (h->pin) {
		vdc_iscsi_close(h->lun);   /* the pin's target goes with it */
		h->lun = NULL;
		volume_unpin(h->vol, h->pin);
		h->pin = 0;
	}
}

static void volume_lseek(fuse_req_t req, struct handle *h, off_t off, int whence)
{
	struct vdc_err err = VDC_ERR_INIT;
	uint64_t o = (uint64_t)off;
	int64_t r;

	if (whence != SEEK_DATA && whence != SEEK_HOLE) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	if (off < 0 || o >= volume_size(h)) {
		fuse_reply_err(req, ENXIO);
		return;
	}
	if (o >= vdc_iscsi_size(h->lun)) {
		/* Grown, not yet on the LUN: a hole to the end. */
		if (whence == SEEK_DATA)
			fuse_reply_err(req, ENXIO);
		else
			fuse_reply_lseek(req, off);
		return;
	}
	r = vdc_iscsi_seek(h->lun, o, whence, &err);
	if (r < 0)
		fuse_reply_err(req, r == -ENXIO ? ENXIO : -volume_fail(h->vol, &err, (int)r));
	else
		fuse_reply_lseek(req, (off_t)r);
}

static int volume_fsync(struct handle *h, int datasync)
{
	(void)datasync;
	return volume_sync(h);
}

const struct handle_backend handle_iscsi = {
	.name = "iscsi",
	.read = volume_read,
	.write = volume_write,
	.lseek = volume_lseek,
	.flush = volume_sync,
	.fsync = volume_fsync,
	.release = volume_release,
};

/*
 * truncate(2) of a volume's data (no lock held): to 0 discards every
 * block, to the size it has changes nothing, to a larger size (whole MiB)
 * grows the volume like writing `size`, to a smaller one is refused.
 */
int volume_set_size(fuse_ino_t ino, struct handle *h, uint64_t size)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_iscsi *tmp = NULL;
	struct vdc_block_ep ep;
	struct vdc_obj *vol;
	int64_t id = 0;
	uint64_t cur = 0;
	bool fixed = false;
	char text[32];
	int rc = 0;

	vdc_model_rdlock();
	{
		struct node n;

		rc = tree_from_ino(ino, &n);
		if (rc == 0) {
			id = n.obj->id;
			cur = tree_data_size(n.obj);
			fixed = n.obj->kind->block->fixed_size;
			if (size == 0)
				rc = n.obj->kind->block->writable(n.obj, &err);
		}
	}
	vdc_model_unlock();
	if (rc < 0)
		return id ? volume_fail(id, &err, rc) : rc;
	if (size == cur)
		return 0;
	if (fixed && size)
		return volume_fail(id, &err, vdc_err_set(&err, -EINVAL,
			"a snapshot's bytes keep the size its volume had when it was taken (%llu bytes); truncate it to 0 to discard every block",
			(unsigned long long)cur));
	if (size == 0) {
		if (!h) {
			rc = volume_endpoint(ino, true, &ep, &id, &cur, &err);
			if (rc == 0)
				rc = volume_connect(&ep, &tmp, &err);
			explicit_bzero(ep.secret, sizeof(ep.secret));
		}
		if (rc == 0)
			rc = vdc_iscsi_discard_all(h ? h->lun : tmp, &err);
		vdc_iscsi_close(tmp);
		return rc < 0 ? volume_fail(id, &err, rc) : 0;
	}
	if (size < cur)
		return volume_fail(id, &err, vdc_err_set(&err, -EINVAL,
			"volumes only grow: truncate data to 0 to discard every block, or to more than %llu bytes to grow it",
			(unsigned long long)cur));
	if (size % (1ULL << 20))
		return volume_fail(id, &err, vdc_err_set(&err, -EINVAL,
			"volumes grow in whole MiB; %llu bytes is not a multiple of 1048576",
			(unsigned long long)size));
	snprintf(text, sizeof(text), "%lluM", (unsigned long long)(size >> 20));
	vdc_model_wrlock();
	vol = vdc_obj_by_id(id);
	rc = vol ? vdc_attr_set(vol, vol->kind->block->size_attr, text, strlen(text), &err) : -ENOENT;
	if (rc < 0 && vol)
		vdc_report(vol, &err);
	tell_kernel();
	vdc_model_unlock();
	if (rc == 0 && h) {
		pthread_mutex_lock(&h->lock);
		h->size = size;
		pthread_mutex_unlock(&h->lock);
	}
	return rc;
}
/* The kind's refusal of bytes for volume `vol` on no storage host (no lock held). */
static int no_host(int64_t vol, struct vdc_err *err)
{
	struct vdc_obj *o;
	int rc;

	vdc_model_rdlock();
	o = vdc_obj_by_id(vol);
	rc = o ? o->kind->block->no_host(o, err) : -ENOENT;
	vdc_model_unlock();
	return rc;
}

/*
 * A scratch file renamed onto a volume's data (rsync without --inplace):
 * its bytes are copied to the volume, its holes discarded, outside the
 * model's lock; then the scratch is gone and data stands for its inode.
 */
int volume_take_scratch(uint64_t sino, const char *spath, fuse_ino_t dino, struct vdc_err *err)
{
	struct vdc_block_ep ep;
	struct vdc_iscsi *lun = NULL;
	__do_free char *buf = NULL;
	uint64_t size = 0;
	int64_t vol = 0;
	off_t end, at = 0, hole;
	int fd, rc;

	fd = open(spath, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return vdc_err_set(err, -errno, "cannot read the temporary file: %s", strerror(errno));
	end = lseek(fd, 0, SEEK_END);
	rc = volume_endpoint(dino, true, &ep, &vol, &size, err);
	if (rc == 1)   /* no storage host: only an empty file fits */
		rc = end == 0 ? 0 : no_host(vol, err);
	else if (rc == 0 && (uint64_t)end > size)
		rc = vdc_err_set(err, -ENOSPC, "%lld bytes do not fit a volume of %llu bytes; grow it first", (long long)end,
				 (unsigned long long)size);
	else if (rc == 0)
		rc = volume_connect(&ep, &lun, err);
	explicit_bzero(ep.secret, sizeof(ep.secret));
	if (rc == 0 && lun)
		rc = vdc_iscsi_discard_all(lun, err);
	if (lun)
		buf = xmalloc(1 << 20);
	while (rc == 0 && lun && at < end && (at = lseek(fd, at, SEEK_DATA)) >= 0) {
		hole = lseek(fd, at, SEEK_HOLE);
		while (rc == 0 && at < hole) {
			size_t want = (size_t)(hole - at < (1 << 20) ? hole - at : (1 << 20));
			ssize_t r = pread(fd, buf, want, at);

			if (r <= 0)
				rc = vdc_err_set(err, -EIO, "cannot read the temporary file");
			else if (vdc_iscsi_write(lun, buf, (size_t)r, (uint64_t)at, err) != r)
				rc = rc ? rc : -EIO;
			at += r > 0 ? r : 0;
		}
	}
	if (rc == 0 && lun)
		rc = vdc_iscsi_sync(lun, err);
	vdc_iscsi_close(lun);
	close(fd);
	vdc_model_wrlock();
	if (rc == 0) {
		struct vdc_scratch *sc = vdc_scratch_by_ino(sino);
		struct vdc_obj *o = vdc_obj_by_id(vol);

		if (sc)
			vdc_scratch_remove(sc->owner, sc);
		tree_alias(sino, dino);
		if (o)
			tree_data_written(o);
	}
	vdc_model_unlock();
	if (rc < 0 && vol)
		rc = volume_fail(vol, err, rc);
	return rc;
}
