/*
 * copy_file_range(2) between two block data files (a volume's data, an
 * instance's disk): `cp instances/a/disk instances/b/disk` (and so `cp -r
 * instances/a instances/b`) asks the storage host that holds both LUNs
 * to make b's a clone of a's (FICLONE where its file system shares
 * extents, a sparse copy elsewhere: docs/storage.md, "Clones") instead
 * of moving every byte through vdcfs and iSCSI twice.
 *
 * coreutils' cp calls copy_file_range once per data extent of the source
 * (SEEK_DATA/SEEK_HOLE), on the same two open files. The first call, on
 * a destination just opened with O_TRUNC and neither read nor written
 * since, asks for the clone of the whole LUN, waits until the storage
 * host reports it carried out, and answers its range as copied; every
 * later call of the same pair is then answered at once (the bytes are
 * equal already) as long as nothing wrote either file since. Anything
 * else is -EOPNOTSUPP or -EXDEV, and the kernel (or cp) copies the bytes
 * through read and write as before: this file never answers a range as
 * copied whose bytes are not equal.
 *
 * What may change the bytes of a file behind the clone's back is kept
 * out while it runs: writes through vdcfs to either file wait for it
 * (clone_write_begin, called by every write), another handle open for
 * writing on either refuses it, and a guest (a running instance, an
 * attached volume) refuses it in the kind (vdc_lun_block_clone) and, if
 * one started meanwhile, fails it after. The state below is guarded by
 * clone_mu, never held with the model's lock or a handle's `lock`.
 */
#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "counters.h"
#include "frontend.h"
#include "handle.h"
#include "notify.h"

/* How long a clone may take on the storage host before the copy fails (a sparse copy on ext4 is a real copy). */
#define CLONE_WAIT_MS (10 * 60 * 1000)
#define CLONE_POLL_MS 100
#define CLONES_MAX 8            /* clones under way at once; more fall back to a byte copy */
#define SLOTS 64                /* write counters, by object id modulo SLOTS */
#define REPLY_MAX 0xfffff000u   /* the most one reply counts: under 4 GiB, whole pages */

static pthread_mutex_t clone_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t clone_cv = PTHREAD_COND_INITIALIZER;
/* The clones under way: writes to either object wait. */
static struct { int64_t src, dst; } active[CLONES_MAX];
static unsigned nactive;
/*
 * Writes (and truncates) through vdcfs to a block data file, counted by
 * its object's id modulo SLOTS: `started` moves when one begins, `busy`
 * counts those not yet finished. Objects that share a slot only make a
 * clone fall back to a copy more often, never pass for one.
 */
static uint64_t started[SLOTS];
static unsigned busy[SLOTS];

static unsigned slot(int64_t id)
{
	return (unsigned)((uint64_t)id % SLOTS);
}

static bool in_clone(int64_t id)
{
	unsigned i;

	for (i = 0; i < nactive; i++)
		if (active[i].src == id || active[i].dst == id)
			return true;
	return false;
}

int64_t clone_write_begin(struct handle *h)
{
	if (h->be != &handle_iscsi)
		return 0;
	pthread_mutex_lock(&clone_mu);
	while (in_clone(h->vol))
		pthread_cond_wait(&clone_cv, &clone_mu);
	h->truncated = false;
	h->clone_src = 0;
	started[slot(h->vol)]++;
	busy[slot(h->vol)]++;
	pthread_mutex_unlock(&clone_mu);
	return h->vol;
}

void clone_write_end(int64_t vol)
{
	if (!vol)
		return;
	pthread_mutex_lock(&clone_mu);
	busy[slot(vol)]--;
	pthread_mutex_unlock(&clone_mu);
}

void clone_block_changed(int64_t id, struct handle *h)
{
	pthread_mutex_lock(&clone_mu);
	while (in_clone(id))
		pthread_cond_wait(&clone_cv, &clone_mu);
	started[slot(id)]++;
	if (h && h->be == &handle_iscsi) {
		h->truncated = false;
		h->clone_src = 0;
	}
	pthread_mutex_unlock(&clone_mu);
}

static void sleep_ms(unsigned ms)
{
	struct timespec t = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&t, NULL);
}

static uint64_t handle_size(struct handle *h)
{
	uint64_t size;

	pthread_mutex_lock(&h->lock);
	size = h->size;
	pthread_mutex_unlock(&h->lock);
	return size;
}

/* Neither read nor written through this handle (so its session has read nothing ahead). */
static bool untouched(struct handle *h)
{
	bool yes;

	pthread_mutex_lock(&h->lock);
	yes = h->seq_end == 0 && !h->dirty;
	pthread_mutex_unlock(&h->lock);
	return yes;
}

/* The clone the pair has already: is it still the bytes of `in` (clone_mu held)? */
static bool still_equal(struct handle *in, struct handle *out)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_obj *dst;
	int st = 0;

	if (!out->clone_src || out->clone_src != in->vol || out->clone_gen[0] != started[slot(in->vol)] ||
	    out->clone_gen[1] != started[slot(out->vol)] || busy[slot(in->vol)])
		return false;
	vdc_model_rdlock();
	dst = vdc_obj_by_id(out->vol);
	if (dst && dst->kind->block->clone_state)
		st = dst->kind->block->clone_state(dst, in->vol, out->clone_ticket, &err);
	vdc_model_unlock();
	return st == 1;
}

/*
 * May the pair be cloned now (clone_mu held)? On yes, it is marked
 * under way: writes to either object wait from here.
 */
static bool may_start(struct handle *in, struct handle *out)
{
	if (!out->truncated || nactive == CLONES_MAX || in_clone(in->vol) || in_clone(out->vol) ||
	    busy[slot(in->vol)] || busy[slot(out->vol)] || !untouched(out) ||
	    handle_other_writer(out, out->vol) || handle_other_writer(NULL, in->vol))
		return false;
	active[nactive].src = in->vol;
	active[nactive].dst = out->vol;
	nactive++;
	return true;
}

static void finish(struct handle *in, struct handle *out, bool ok, const uint64_t ticket[2])
{
	unsigned i;

	pthread_mutex_lock(&clone_mu);
	for (i = 0; i < nactive; i++)
		if (active[i].src == in->vol && active[i].dst == out->vol) {
			active[i] = active[--nactive];
			break;
		}
	out->truncated = false;
	out->clone_src = ok ? in->vol : 0;
	if (ok) {
		out->clone_ticket[0] = ticket[0];
		out->clone_ticket[1] = ticket[1];
		out->clone_gen[0] = started[slot(in->vol)];
		out->clone_gen[1] = started[slot(out->vol)];
	}
	pthread_cond_broadcast(&clone_cv);
	pthread_mutex_unlock(&clone_mu);
}

/* Ask for the clone: 0, or -EOPNOTSUPP/-EXDEV when it cannot be done so (nothing changed). */
static int ask(struct handle *in, struct handle *out, uint64_t ticket[2])
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_obj *src, *dst;
	int rc = -EOPNOTSUPP;

	vdc_model_wrlock();
	src = vdc_obj_by_id(in->vol);
	dst = vdc_obj_by_id(out->vol);
	if (src && dst && src->kind->block && dst->kind->block && dst->kind->block->clone &&
	    tree_data_size(src) == tree_data_size(dst))
		rc = dst->kind->block->clone(dst, src, ticket, &err);
	tell_kernel();
	vdc_model_unlock();
	return rc;
}

/* Wait (bounded) until the storage host has carried the clone out: 0 or a negative errno with the sentence. */
static int wait_done(struct handle *in, struct handle *out, const uint64_t ticket[2], struct vdc_err *err)
{
	unsigned waited = 0;
	struct vdc_obj *dst;
	int st;

	for (;;) {
		vdc_err_clear(err);
		vdc_model_rdlock();
		dst = vdc_obj_by_id(out->vol);
		st = dst ? dst->kind->block->clone_state(dst, in->vol, ticket, err)
			 : vdc_err_set(err, -ENOENT, "the destination of the clone is gone");
		vdc_model_unlock();
		if (st != 0)
			return st < 0 ? st : 0;
		if (waited >= CLONE_WAIT_MS)
			return vdc_err_set(err, -ETIMEDOUT, "the storage host has not carried out the clone in %u s; it may still, but this copy failed",
					   CLONE_WAIT_MS / 1000);
		sleep_ms(CLONE_POLL_MS);
		waited += CLONE_POLL_MS;
	}
}

static void report(int64_t id, const struct vdc_err *err)
{
	vdc_model_wrlock();
	vdc_report(vdc_obj_by_id(id), err);
	tell_kernel();
	vdc_model_unlock();
}

void clone_copy_file_range(fuse_req_t req, fuse_ino_t ino_in, off_t off_in, struct fuse_file_info *fi_in,
			   fuse_ino_t ino_out, off_t off_out, struct fuse_file_info *fi_out, size_t len, int flags)
{
	struct handle *in = fh(fi_in), *out = fh(fi_out);
	struct vdc_err err = VDC_ERR_INIT;
	uint64_t size, ticket[2] = { 0, 0 };
	bool start;
	int rc;

	vdc_count_fuse(VDC_FOP_COPY_FILE_RANGE);
	(void)ino_in;
	(void)ino_out;
	begin(req);
	/* Only the same range of two LUNs of equal size: the clone is of the whole LUN. */
	if (flags || in->be != &handle_iscsi || out->be != &handle_iscsi || !out->wr || in == out ||
	    in->vol == out->vol || off_in < 0 || off_in != off_out) {
		fuse_reply_err(req, in->be == &handle_iscsi && out->be == &handle_iscsi ? EOPNOTSUPP : EXDEV);
		return;
	}
	size = handle_size(in);
	if (size != handle_size(out)) {
		fuse_reply_err(req, EOPNOTSUPP);
		return;
	}
	if ((uint64_t)off_in >= size) {
		fuse_reply_write(req, 0);
		return;
	}
	if (len > size - (uint64_t)off_in)
		len = (size_t)(size - (uint64_t)off_in);
	/* The reply's count is 32 bits (struct fuse_write_out): a longer range is answered in parts, the next ones at once. */
	if (len > REPLY_MAX)
		len = REPLY_MAX;
	pthread_mutex_lock(&clone_mu);
	if (still_equal(in, out)) {
		pthread_mutex_unlock(&clone_mu);
		fuse_reply_write(req, len);
		return;
	}
	start = may_start(in, out);
	if (!start)
		out->clone_src = 0;
	pthread_mutex_unlock(&clone_mu);
	if (!start) {
		fuse_reply_err(req, EOPNOTSUPP);
		return;
	}
	rc = ask(in, out, ticket);
	if (rc < 0) {
		/* Not on one storage host, in use, ...: nothing was asked, cp copies the bytes. */
		finish(in, out, false, ticket);
		fuse_reply_err(req, rc == -EXDEV ? EXDEV : EOPNOTSUPP);
		return;
	}
	rc = wait_done(in, out, ticket, &err);
	/* The LUN's blocks changed under the kernel's cached pages of the destination. */
	kernel_inval_inode(out->ino);
	finish(in, out, rc == 0, ticket);
	if (rc < 0) {
		report(out->vol, &err);
		fuse_reply_err(req, -rc);
		return;
	}
	fuse_reply_write(req, len);
}
