/*
 * A small libiscsi client: see iscsi.h.
 *
 * Threads. The I/O thread alone touches the libiscsi context after login:
 * it takes queued commands (struct cmd) from `queue`, starts them with the
 * async API and runs the event loop. A command's callback records its
 * status and wakes the threads that wait on `cond`. Everything shared
 * (queue, windows, the waiters' flags) is guarded by `lock`.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include "iscsi.h"
#include "strbuf.h"

#define RA_CHUNK (1u << 20)     /* bytes a readahead window holds */
#define RA_AHEAD 4              /* windows read ahead of a sequential reader */
#define RA_SLOTS 8
#define XFER_MAX (1u << 20)     /* bytes per command when the target sets no limit */
#define CMD_TIMEOUT 60          /* seconds before libiscsi gives a command up */
#define LBA_STATUS_LEN 4096     /* GET LBA STATUS allocation length: 255 extents */

struct cmd;
typedef struct scsi_task *cmd_start_fn(struct iscsi_context *ctx, int lun, struct cmd *c);

/* One SCSI command handed to the I/O thread. */
struct cmd {
	struct cmd *next;
	struct vdc_iscsi *s;
	cmd_start_fn *start;
	uint64_t lba;
	uint32_t blocks;
	unsigned char *data;        /* READ: where the bytes go; WRITE: where they come from */
	struct scsi_iovec iov;
	struct unmap_list unmap;
	int page;                   /* INQUIRY VPD page */
	struct scsi_task *task;     /* after completion; the submitter frees it */
	int status;
	bool done;
	struct window *window;      /* a readahead: the window to fill */
	char msg[160];              /* libiscsi's reason for a failure */
};

enum window_state { W_FREE, W_LOADING, W_READY };

/* A chunk of the LUN read ahead. */
struct window {
	enum window_state state;
	bool stale;                 /* a write overlapped it while it loaded */
	uint64_t idx;               /* chunk number: bytes idx*RA_CHUNK.. */
	size_t len;
	unsigned pins;              /* readers copying out of it */
	uint64_t used;              /* for eviction: the least recent goes first */
	unsigned char *buf;
	struct cmd cmd;
};

struct vdc_iscsi {
	struct iscsi_context *ctx;
	int lun;
	uint32_t block_size;
	uint64_t blocks;
	uint32_t max_xfer;          /* bytes per READ/WRITE */
	uint32_t max_unmap;         /* blocks per UNMAP */
	bool thin;                  /* LBPME: UNMAP and GET LBA STATUS work */

	pthread_t thread;
	int wake;                   /* eventfd: the queue has commands, or stop */
	pthread_mutex_t lock;
	pthread_cond_t cond;        /* some command completed */
	struct cmd *queue, **queue_tail;
	unsigned inflight;
	bool stop;

	struct window win[RA_SLOTS];
	uint64_t ra_next;           /* where a sequential reader reads next */
	uint64_t clock;
	pthread_rwlock_t wlock;     /* writes: aligned ones share it, patching ones own it */
};

/* ---- pure helpers ---- */

void vdc_block_span(uint64_t off, size_t len, uint32_t block_size, struct vdc_block_span *out)
{
	uint64_t end = off + len;
	uint64_t last = len ? (end + block_size - 1) / block_size : off / block_size;

	out->lba = off / block_size;
	out->blocks = last - out->lba;
	out->head = (uint32_t)(off % block_size);
	out->tail = (uint32_t)((block_size - end % block_size) % block_size);
	if (!len)
		out->tail = 0;
}

int vdc_lba_seek(const struct vdc_lba_extent *ext, size_t n, uint32_t block_size, uint64_t off,
		 int whence, uint64_t *out)
{
	bool want = whence == SEEK_DATA;
	uint64_t start, end = off;
	size_t i;

	for (i = 0; i < n; i++) {
		start = ext[i].lba * block_size;
		end = (ext[i].lba + ext[i].blocks) * block_size;
		if (end <= off || ext[i].mapped != want)
			continue;
		*out = start > off ? start : off;
		return 1;
	}
	*out = end > off ? end : off;
	return 0;
}

/* ---- the I/O thread ---- */

static void cmd_done(struct iscsi_context *ctx, int status, void *data, void *priv);

static void window_loaded(struct vdc_iscsi *s, struct cmd *c);

static void cmd_done(struct iscsi_context *ctx, int status, void *data, void *priv)
{
	struct cmd *c = priv;
	struct vdc_iscsi *s = c->s;

	c->task = data;
	c->status = status;
	if (status != SCSI_STATUS_GOOD)
		snprintf(c->msg, sizeof(c->msg), "%s", iscsi_get_error(ctx));
	pthread_mutex_lock(&s->lock);
	s->inflight--;
	c->done = true;
	if (c->window)
		window_loaded(s, c);
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

static void *io_thread(void *arg)
{
	struct vdc_iscsi *s = arg;
	struct pollfd pfd[2];
	struct cmd *list, *c;
	uint64_t v;
	bool stop;

	for (;;) {
		pthread_mutex_lock(&s->lock);
		list = s->queue;
		s->queue = NULL;
		s->queue_tail = &s->queue;
		stop = s->stop && !s->inflight && !list;
		pthread_mutex_unlock(&s->lock);
		if (stop)
			break;
		while ((c = list)) {
			list = c->next;
			if (!c->start(s->ctx, s->lun, c)) {
				snprintf(c->msg, sizeof(c->msg), "%s", iscsi_get_error(s->ctx));
				pthread_mutex_lock(&s->lock);
				s->inflight--;
				c->status = SCSI_STATUS_ERROR;
				c->done = true;
				if (c->window)
					window_loaded(s, c);
				pthread_cond_broadcast(&s->cond);
				pthread_mutex_unlock(&s->lock);
			}
		}
		pfd[0].fd = iscsi_get_fd(s->ctx);
		pfd[0].events = (short)iscsi_which_events(s->ctx);
		pfd[0].revents = 0;
		pfd[1].fd = s->wake;
		pfd[1].events = POLLIN;
		pfd[1].revents = 0;
		if (poll(pfd, 2, 1000) < 0 && errno != EINTR)
			break;
		if (pfd[1].revents & POLLIN && read(s->wake, &v, sizeof(v)) < 0)
			v = 0;
		/* Called without events too: libiscsi times commands out there. */
		iscsi_service(s->ctx, pfd[0].revents);
	}
	return NULL;
}

/* Queue a command for the I/O thread. The lock is held. */
static void submit_locked(struct vdc_iscsi *s, struct cmd *c)
{
	uint64_t one = 1;

	c->next = NULL;
	c->s = s;
	c->done = false;
	c->task = NULL;
	c->status = 0;
	c->msg[0] = '\0';
	*s->queue_tail = c;
	s->queue_tail = &c->next;
	s->inflight++;
	if (write(s->wake, &one, sizeof(one)) < 0)
		abort();   /* an eventfd write fails only on overflow */
}

static void free_task(struct cmd *c)
{
	if (c->task)
		scsi_free_scsi_task(c->task);
	c->task = NULL;
}

static bool unit_attention(const struct cmd *c)
{
	return c->status == SCSI_STATUS_CHECK_CONDITION && c->task &&
	       c->task->sense.key == SCSI_SENSE_UNIT_ATTENTION;
}

/*
 * Run a command and wait for it: 0 with c->task to free, or a negative
 * errno with the sentence ("what" names the command). A unit attention
 * (the capacity changed, the target restarted) is retried.
 */
static int run(struct vdc_iscsi *s, struct cmd *c, const char *what, struct vdc_err *err)
{
	int tries;

	for (tries = 0; tries < 4; tries++) {
		pthread_mutex_lock(&s->lock);
		submit_locked(s, c);
		while (!c->done)
			pthread_cond_wait(&s->cond, &s->lock);
		pthread_mutex_unlock(&s->lock);
		if (c->status == SCSI_STATUS_GOOD)
			return 0;
		if (!unit_attention(c))
			break;
		free_task(c);
	}
	if (c->status == SCSI_STATUS_CHECK_CONDITION && c->task &&
	    c->task->sense.key == SCSI_SENSE_ILLEGAL_REQUEST) {
		int ascq = c->task->sense.ascq;

		free_task(c);
		if (ascq == SCSI_SENSE_ASCQ_LBA_OUT_OF_RANGE)
			return vdc_err_set(err, -ENOSPC, "%s past the end of the volume", what);
		return vdc_err_set(err, -EOPNOTSUPP, "the volume's target refused %s: %s", what, c->msg);
	}
	free_task(c);
	if (c->status == SCSI_STATUS_TIMEOUT)
		return vdc_err_set(err, -ETIMEDOUT, "%s timed out after %d s", what, CMD_TIMEOUT);
	return vdc_err_set(err, -EIO, "%s failed: %s", what, c->msg[0] ? c->msg : "the target failed it");
}

static struct scsi_task *start_read(struct iscsi_context *ctx, int lun, struct cmd *c)
{
	c->iov.iov_base = c->data;
	return iscsi_read16_iov_task(ctx, lun, c->lba, (uint32_t)c->iov.iov_len, (int)c->s->block_size,
				     0, 0, 0, 0, 0, cmd_done, c, &c->iov, 1);
}

static struct scsi_task *start_write(struct iscsi_context *ctx, int lun, struct cmd *c)
{
	return iscsi_write16_task(ctx, lun, c->lba, c->data, (uint32_t)c->iov.iov_len, (int)c->s->block_size,
				  0, 0, 0, 0, 0, cmd_done, c);
}

static struct scsi_task *start_sync(struct iscsi_context *ctx, int lun, struct cmd *c)
{
	return iscsi_synchronizecache16_task(ctx, lun, 0, 0, 0, 0, cmd_done, c);
}

static struct scsi_task *start_unmap(struct iscsi_context *ctx, int lun, struct cmd *c)
{
	return iscsi_unmap_task(ctx, lun, 0, 0, &c->unmap, 1, cmd_done, c);
}

static struct scsi_task *start_lba_status(struct iscsi_context *ctx, int lun, struct cmd *c)
{
	return iscsi_get_lba_status_task(ctx, lun, c->lba, LBA_STATUS_LEN, cmd_done, c);
}

static struct scsi_task *start_capacity(struct iscsi_context *ctx, int lun, struct cmd *c)
{
	return iscsi_readcapacity16_task(ctx, lun, cmd_done, c);
}

/* ---- opening ---- */

/* READ CAPACITY (16): size, block size, thin provisioning. */
static int read_capacity(struct vdc_iscsi *s, struct vdc_err *err)
{
	struct cmd c = { .start = start_capacity };
	struct scsi_readcapacity16 *rc16;
	int rc = run(s, &c, "READ CAPACITY", err);

	if (rc < 0)
		return rc;
	rc16 = scsi_datain_unmarshall(c.task);
	if (!rc16 || !rc16->block_length || rc16->block_length > (1u << 16)) {
		free_task(&c);
		return vdc_err_set(err, -EIO, "the volume's target sent a capacity that cannot be read");
	}
	pthread_mutex_lock(&s->lock);
	s->block_size = rc16->block_length;
	s->blocks = rc16->returned_lba + 1;
	s->thin = rc16->lbpme != 0;
	pthread_mutex_unlock(&s->lock);
	free_task(&c);
	return 0;
}

/*
 * Block Limits (VPD 0xb0): the longest transfer and UNMAP. Optional: a
 * target without the page gets the defaults.
 */
static struct scsi_task *start_inquiry(struct iscsi_context *ctx, int lun, struct cmd *c)
{
	return iscsi_inquiry_task(ctx, lun, 1, c->page, 255, cmd_done, c);
}

static void read_limits(struct vdc_iscsi *s)
{
	struct cmd c = { .start = start_inquiry, .page = SCSI_INQUIRY_PAGECODE_BLOCK_LIMITS };
	struct scsi_inquiry_block_limits *bl;
	uint64_t x;

	s->max_xfer = XFER_MAX;
	s->max_unmap = 1u << 22;
	if (run(s, &c, "INQUIRY", NULL) < 0)
		return;
	bl = scsi_datain_unmarshall(c.task);
	if (bl) {
		x = (uint64_t)bl->max_xfer_len * s->block_size;
		if (x && x < XFER_MAX)
			s->max_xfer = (uint32_t)x;
		if (bl->max_unmap && bl->max_unmap != 0xffffffffu)
			s->max_unmap = bl->max_unmap;
	}
	free_task(&c);
}

int vdc_iscsi_open(const struct vdc_iscsi_target *t, struct vdc_iscsi **out, struct vdc_err *err)
{
	struct vdc_iscsi *s;
	unsigned i;
	int rc;

	*out = NULL;
	s = xcalloc(1, sizeof(*s));
	s->lun = t->lun;
	s->wake = -1;
	s->block_size = 512;
	s->queue_tail = &s->queue;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	pthread_rwlock_init(&s->wlock, NULL);
	s->ctx = iscsi_create_context(t->initiator);
	if (!s->ctx) {
		rc = vdc_err_set(err, -ENOMEM, "cannot make an iSCSI context for %s", t->initiator);
		goto fail;
	}
	iscsi_set_targetname(s->ctx, t->iqn);
	iscsi_set_session_type(s->ctx, ISCSI_SESSION_NORMAL);
	iscsi_set_header_digest(s->ctx, ISCSI_HEADER_DIGEST_NONE);
	iscsi_set_timeout(s->ctx, CMD_TIMEOUT);
	if (t->user && *t->user && iscsi_set_initiator_username_pwd(s->ctx, t->user, t->secret) < 0) {
		rc = vdc_err_set(err, -EINVAL, "cannot use the CHAP user %s: %s", t->user, iscsi_get_error(s->ctx));
		goto fail;
	}
	if (iscsi_full_connect_sync(s->ctx, t->portal, t->lun) < 0) {
		rc = vdc_err_set(err, -EIO, "cannot log in to %s at %s as %s: %s", t->iqn, t->portal,
				 t->initiator, iscsi_get_error(s->ctx));
		goto fail;
	}
	s->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->wake < 0) {
		rc = vdc_err_set(err, -errno, "cannot make an eventfd: %s", strerror(errno));
		goto fail;
	}
	rc = pthread_create(&s->thread, NULL, io_thread, s);
	if (rc) {
		close(s->wake);
		s->wake = -1;
		rc = vdc_err_set(err, -rc, "cannot start the I/O thread of %s: %s", t->iqn, strerror(rc));
		goto fail;
	}
	rc = read_capacity(s, err);
	if (rc < 0) {
		vdc_iscsi_close(s);
		return rc;
	}
	read_limits(s);
	for (i = 0; i < RA_SLOTS; i++)
		s->win[i].buf = NULL;
	*out = s;
	return 0;
fail:
	if (s->ctx)
		iscsi_destroy_context(s->ctx);
	pthread_rwlock_destroy(&s->wlock);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	free(s);
	return rc;
}

void vdc_iscsi_close(struct vdc_iscsi *s)
{
	uint64_t one = 1;
	unsigned i;

	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->stop = true;
	pthread_mutex_unlock(&s->lock);
	if (write(s->wake, &one, sizeof(one)) < 0)
		abort();
	pthread_join(s->thread, NULL);
	close(s->wake);
	iscsi_logout_sync(s->ctx);
	iscsi_destroy_context(s->ctx);
	for (i = 0; i < RA_SLOTS; i++)
		free(s->win[i].buf);
	pthread_rwlock_destroy(&s->wlock);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

uint64_t vdc_iscsi_size(const struct vdc_iscsi *s)
{
	return s ? s->blocks * s->block_size : 0;
}

uint32_t vdc_iscsi_block_size(const struct vdc_iscsi *s)
{
	return s->block_size;
}

int vdc_iscsi_refresh(struct vdc_iscsi *s, struct vdc_err *err)
{
	return read_capacity(s, err);
}

/* ---- reading ---- */

/*
 * READ or WRITE (`start`, named `what`) of whole blocks [lba, lba+blocks)
 * to or from buf, in pieces of max_xfer.
 */
static int xfer_blocks(struct vdc_iscsi *s, cmd_start_fn *start, const char *what, unsigned char *buf,
		       uint64_t lba, uint64_t blocks, struct vdc_err *err)
{
	uint64_t per = s->max_xfer / s->block_size, n;
	struct cmd c = { .start = start };
	int rc;

	while (blocks) {
		n = blocks < per ? blocks : per;
		c.lba = lba;
		c.data = buf;
		c.iov.iov_len = n * s->block_size;
		rc = run(s, &c, what, err);
		free_task(&c);
		if (rc < 0)
			return rc;
		buf += n * s->block_size;
		lba += n;
		blocks -= n;
	}
	return 0;
}

/* Read whole blocks [lba, lba+blocks) into buf. */
static int read_blocks(struct vdc_iscsi *s, unsigned char *buf, uint64_t lba, uint64_t blocks,
		       struct vdc_err *err)
{
	return xfer_blocks(s, start_read, "READ", buf, lba, blocks, err);
}

/* Read any byte range inside the LUN, through a bounce buffer if it is not whole blocks. */
static int read_range(struct vdc_iscsi *s, unsigned char *buf, size_t len, uint64_t off,
		      struct vdc_err *err)
{
	struct vdc_block_span sp;
	__do_free unsigned char *bounce = NULL;
	int rc;

	vdc_block_span(off, len, s->block_size, &sp);
	if (!sp.head && !sp.tail)
		return read_blocks(s, buf, sp.lba, sp.blocks, err);
	bounce = xmalloc(sp.blocks * s->block_size);
	rc = read_blocks(s, bounce, sp.lba, sp.blocks, err);
	if (rc == 0)
		memcpy(buf, bounce + sp.head, len);
	return rc;
}

/* Called by cmd_done (lock held) when a window's read finished. */
static void window_loaded(struct vdc_iscsi *s, struct cmd *c)
{
	struct window *w = c->window;

	(void)s;
	if (c->task) {
		scsi_free_scsi_task(c->task);
		c->task = NULL;
	}
	w->state = c->status == SCSI_STATUS_GOOD && !w->stale ? W_READY : W_FREE;
	w->stale = false;
}

static struct window *window_find(struct vdc_iscsi *s, uint64_t idx)
{
	unsigned i;

	for (i = 0; i < RA_SLOTS; i++)
		if (s->win[i].state != W_FREE && s->win[i].idx == idx)
			return &s->win[i];
	return NULL;
}

/*
 * Start reading chunk `idx` ahead (lock held): into a free slot, or the
 * least recently used ready one that nobody copies from and that is not
 * wanted (at or after `keep`). NULL when no slot is free.
 */
static struct window *window_start(struct vdc_iscsi *s, uint64_t idx, uint64_t keep)
{
	uint64_t size = vdc_iscsi_size(s), off = idx * RA_CHUNK;
	struct window *w = NULL;
	unsigned i;

	for (i = 0; i < RA_SLOTS; i++) {
		struct window *x = &s->win[i];

		if (x->state == W_FREE) {
			w = x;
			break;
		}
		if (x->state == W_READY && !x->pins && (x->idx < keep || x->idx > keep + RA_AHEAD) &&
		    (!w || x->used < w->used))
			w = x;
	}
	if (!w)
		return NULL;
	if (!w->buf)
		w->buf = xmalloc(RA_CHUNK);
	w->state = W_LOADING;
	w->stale = false;
	w->idx = idx;
	w->len = size - off < RA_CHUNK ? (size_t)(size - off) : RA_CHUNK;
	w->used = ++s->clock;
	memset(&w->cmd, 0, sizeof(w->cmd));
	w->cmd.start = start_read;
	w->cmd.window = w;
	w->cmd.lba = off / s->block_size;
	w->cmd.data = w->buf;
	w->cmd.iov.iov_len = w->len;
	submit_locked(s, &w->cmd);
	return w;
}

/*
 * Copy what the windows hold of [off, off+len) to buf, waiting for the
 * ones loading (lock held). Returns the bytes copied from the start: less
 * than len when a chunk is not in a window.
 */
static size_t window_copy(struct vdc_iscsi *s, unsigned char *buf, size_t len, uint64_t off)
{
	size_t done = 0, at, n;
	struct window *w;

	while (done < len) {
		w = window_find(s, (off + done) / RA_CHUNK);
		if (!w)
			break;
		w->pins++;
		while (w->state == W_LOADING)
			pthread_cond_wait(&s->cond, &s->lock);
		w->pins--;
		if (w->state != W_READY || w->idx != (off + done) / RA_CHUNK)
			break;
		at = (size_t)((off + done) % RA_CHUNK);
		if (at >= w->len)
			break;
		n = w->len - at < len - done ? w->len - at : len - done;
		/* Copy with the lock held: a write may free this window otherwise. */
		memcpy(buf + done, w->buf + at, n);
		w->used = ++s->clock;
		done += n;
	}
	return done;
}

ssize_t vdc_iscsi_read(struct vdc_iscsi *s, void *buf, size_t len, uint64_t off, struct vdc_err *err)
{
	uint64_t size, first, i, end;
	size_t got;
	bool seq;
	int rc;

	pthread_mutex_lock(&s->lock);
	size = vdc_iscsi_size(s);
	if (off >= size) {
		pthread_mutex_unlock(&s->lock);
		return 0;
	}
	if (len > size - off)
		len = (size_t)(size - off);
	seq = off == s->ra_next || window_find(s, off / RA_CHUNK);
	s->ra_next = off + len;
	first = off / RA_CHUNK;
	end = (size + RA_CHUNK - 1) / RA_CHUNK;
	if (seq) {
		for (i = first; i < end && i <= (off + len - 1) / RA_CHUNK + RA_AHEAD; i++)
			if (!window_find(s, i))
				window_start(s, i, first);
	}
	got = window_copy(s, buf, len, off);
	pthread_mutex_unlock(&s->lock);
	if (got < len) {
		rc = read_range(s, (unsigned char *)buf + got, len - got, off + got, err);
		if (rc < 0)
			return rc;
	}
	return (ssize_t)len;
}

/* ---- writing ---- */

/* Drop the windows that overlap [off, off+len): they hold old bytes. */
static void windows_drop(struct vdc_iscsi *s, uint64_t off, uint64_t len)
{
	unsigned i;

	pthread_mutex_lock(&s->lock);
	for (i = 0; i < RA_SLOTS; i++) {
		struct window *w = &s->win[i];
		uint64_t start = w->idx * RA_CHUNK;

		if (w->state == W_FREE || start >= off + len || start + w->len <= off)
			continue;
		if (w->state == W_LOADING)
			w->stale = true;
		else if (!w->pins)
			w->state = W_FREE;
	}
	pthread_mutex_unlock(&s->lock);
}

/* Write whole blocks [lba, lba+blocks) from buf (the command only reads it). */
static int write_blocks(struct vdc_iscsi *s, const unsigned char *buf, uint64_t lba, uint64_t blocks,
			struct vdc_err *err)
{
	return xfer_blocks(s, start_write, "WRITE", (unsigned char *)buf, lba, blocks, err);
}

ssize_t vdc_iscsi_write(struct vdc_iscsi *s, const void *buf, size_t len, uint64_t off,
			struct vdc_err *err)
{
	__do_free unsigned char *bounce = NULL;
	struct vdc_block_span sp;
	uint32_t bs = s->block_size;
	uint64_t size;
	int rc;

	pthread_mutex_lock(&s->lock);
	size = vdc_iscsi_size(s);
	pthread_mutex_unlock(&s->lock);
	if (!len)
		return 0;
	if (off >= size || len > size - off)
		return vdc_err_set(err, -ENOSPC, "a write of %zu bytes at %llu goes past the end of the volume (%llu bytes)",
				   len, (unsigned long long)off, (unsigned long long)size);
	vdc_block_span(off, len, bs, &sp);
	if (!sp.head && !sp.tail) {
		pthread_rwlock_rdlock(&s->wlock);
		rc = write_blocks(s, buf, sp.lba, sp.blocks, err);
	} else {
		/* Patch the edge blocks; no other write may touch them meanwhile. */
		pthread_rwlock_wrlock(&s->wlock);
		bounce = xmalloc(sp.blocks * bs);
		rc = read_blocks(s, bounce, sp.lba, 1, err);
		if (rc == 0 && sp.tail && sp.blocks > 1)
			rc = read_blocks(s, bounce + (sp.blocks - 1) * bs, sp.lba + sp.blocks - 1, 1, err);
		if (rc == 0) {
			memcpy(bounce + sp.head, buf, len);
			rc = write_blocks(s, bounce, sp.lba, sp.blocks, err);
		}
	}
	windows_drop(s, off, len);
	pthread_rwlock_unlock(&s->wlock);
	return rc < 0 ? rc : (ssize_t)len;
}

int vdc_iscsi_sync(struct vdc_iscsi *s, struct vdc_err *err)
{
	struct cmd c = { .start = start_sync };
	int rc = run(s, &c, "SYNCHRONIZE CACHE", err);

	free_task(&c);
	return rc;
}

int vdc_iscsi_discard_all(struct vdc_iscsi *s, struct vdc_err *err)
{
	struct cmd c = { .start = start_unmap };
	uint64_t lba = 0, n;
	int rc = 0;

	if (!s->thin)
		return vdc_err_set(err, -EOPNOTSUPP, "the volume's target is not thin-provisioned, so its blocks cannot be discarded");
	pthread_rwlock_wrlock(&s->wlock);
	while (lba < s->blocks) {
		n = s->blocks - lba < s->max_unmap ? s->blocks - lba : s->max_unmap;
		c.unmap.lba = lba;
		c.unmap.num = (uint32_t)n;
		rc = run(s, &c, "UNMAP", err);
		free_task(&c);
		if (rc < 0)
			break;
		lba += n;
	}
	windows_drop(s, 0, vdc_iscsi_size(s));
	pthread_rwlock_unlock(&s->wlock);
	return rc;
}

/* ---- allocation ---- */

/*
 * The extents GET LBA STATUS reports from `lba` on, at most `max`. Returns
 * how many, or -EOPNOTSUPP when the target cannot tell.
 */
static int lba_status(struct vdc_iscsi *s, uint64_t lba, struct vdc_lba_extent *ext, size_t max,
		      struct vdc_err *err)
{
	struct cmd c = { .start = start_lba_status, .lba = lba };
	struct scsi_get_lba_status *st;
	uint32_t i;
	int rc;

	if (!s->thin)
		return -EOPNOTSUPP;
	rc = run(s, &c, "GET LBA STATUS", err);
	if (rc < 0)
		return rc;
	st = scsi_datain_unmarshall(c.task);
	if (!st) {
		free_task(&c);
		return vdc_err_set(err, -EIO, "the volume's target sent an allocation status that cannot be read");
	}
	for (i = 0; i < st->num_descriptors && i < max; i++) {
		ext[i].lba = st->descriptors[i].lba;
		ext[i].blocks = st->descriptors[i].num_blocks;
		ext[i].mapped = st->descriptors[i].provisioning == SCSI_PROVISIONING_TYPE_MAPPED;
	}
	free_task(&c);
	return (int)i;
}

int64_t vdc_iscsi_seek(struct vdc_iscsi *s, uint64_t off, int whence, struct vdc_err *err)
{
	struct vdc_lba_extent ext[256];
	uint64_t size = vdc_iscsi_size(s), at = off, out;
	int n;

	if (off >= size)
		return -ENXIO;
	while (at < size) {
		n = lba_status(s, at / s->block_size, ext, 256, err);
		if (n == -EOPNOTSUPP) {
			vdc_err_clear(err);
			break;
		}
		if (n < 0)
			return n;
		if (vdc_lba_seek(ext, (size_t)n, s->block_size, at, whence, &out) == 1)
			return (int64_t)(out < off ? off : out);
		if (out <= at)
			break;   /* nothing new: take the rest as data */
		at = out;
	}
	if (at >= size)
		return whence == SEEK_DATA ? -ENXIO : (int64_t)size;
	/* From here the target cannot tell: all data. */
	return whence == SEEK_DATA ? (int64_t)at : (int64_t)size;
}

int vdc_iscsi_allocated(struct vdc_iscsi *s, uint64_t *bytes, struct vdc_err *err)
{
	struct vdc_lba_extent ext[256];
	uint64_t lba = 0;
	int n, i;

	*bytes = 0;
	while (lba < s->blocks) {
		n = lba_status(s, lba, ext, 256, err);
		if (n == -EOPNOTSUPP) {
			vdc_err_clear(err);
			*bytes = vdc_iscsi_size(s);
			return 0;
		}
		if (n <= 0)
			return n < 0 ? n : 0;
		for (i = 0; i < n; i++)
			if (ext[i].mapped)
				*bytes += ext[i].blocks * s->block_size;
		if (ext[n - 1].lba + ext[n - 1].blocks <= lba)
			break;
		lba = ext[n - 1].lba + ext[n - 1].blocks;
	}
	return 0;
}
