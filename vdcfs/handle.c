/*
 * Open files: the list of every open handle, opening a file node, and two
 * of the three data back ends (handle.h): text that vdcfs makes up or
 * takes, and bytes in a backing file. The third, a volume's data on its
 * LUN, is in handle_iscsi.c.
 *
 * The text back end is where an attribute's value is written: a
 * single-line value is validated and committed by the write(2) that
 * carries it; a multi-line value is checked as it arrives and committed
 * when the file is closed (docs/tree.md).
 */
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "frontend.h"
#include "handle.h"
#include "notify.h"

/*
 * Every open handle is on one list, so that those the kernel never
 * released (a RELEASE still queued when the mount went away) are freed
 * at exit rather than leaked, and so that what the handles of a volume's
 * data gathered can be sent before a truncate or rename reaches the LUN
 * around them (handle_hold_all: a held handle outlives its release).
 */
static pthread_mutex_t handles_lock = PTHREAD_MUTEX_INITIALIZER;
static struct handle *handles;

struct handle *handle_new(const struct handle_backend *be)
{
	struct handle *h = xcalloc(1, sizeof(*h));

	h->be = be;
	h->fd = -1;
	h->refs = 1;
	strbuf_init(&h->buf, 0);
	pthread_mutex_init(&h->lock, NULL);
	pthread_mutex_init(&h->wlock, NULL);
	wg_init(&h->wg, VOLUME_GATHER);
	pthread_mutex_lock(&handles_lock);
	h->next = handles;
	if (handles)
		handles->prev = h;
	handles = h;
	pthread_mutex_unlock(&handles_lock);
	return h;
}

bool handle_other_writer(const struct handle *h, int64_t vol)
{
	const struct handle *o;
	bool found = false;

	pthread_mutex_lock(&handles_lock);
	for (o = handles; o && !found; o = o->next)
		found = o != h && o->vol == vol && o->wr;
	pthread_mutex_unlock(&handles_lock);
	return found;
}

static void handle_destroy(struct handle *h)
{
	vdc_iscsi_close(h->lun);
	if (h->fd >= 0)
		close(h->fd);
	strbuf_release(&h->buf);
	wg_release(&h->wg);
	pthread_mutex_destroy(&h->wlock);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

/* Drop one reference; the last takes the handle off the list and frees it. */
void handle_put(struct handle *h)
{
	pthread_mutex_lock(&handles_lock);
	if (--h->refs > 0) {
		pthread_mutex_unlock(&handles_lock);
		return;
	}
	if (h->prev)
		h->prev->next = h->next;
	else
		handles = h->next;
	if (h->next)
		h->next->prev = h->prev;
	pthread_mutex_unlock(&handles_lock);
	handle_destroy(h);
}

void handle_free(struct handle *h)
{
	handle_put(h);
}

void handle_gathers(struct handle *h, int64_t vol)
{
	pthread_mutex_lock(&handles_lock);
	h->gather_vol = vol;
	pthread_mutex_unlock(&handles_lock);
}

size_t handle_hold_all(int64_t vol, struct handle ***out)
{
	struct handle **v = NULL;
	size_t n = 0, cap = 0;

	pthread_mutex_lock(&handles_lock);
	for (struct handle *h = handles; h; h = h->next) {
		if (!vol || h->gather_vol != vol)
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 4;
			v = xrealloc(v, cap * sizeof(*v));
		}
		h->refs++;
		v[n++] = h;
	}
	pthread_mutex_unlock(&handles_lock);
	*out = v;
	return n;
}

/* At exit no request runs: nothing holds a handle but the list. */
void handle_free_all(void)
{
	while (handles) {
		handles->refs = 1;
		handle_put(handles);
	}
}

static int open_backing(const struct node *n, int flags, struct handle *h)
{
	__do_strbuf struct strbuf p = STRBUF_INIT;

	tree_backing_path(n, &p);
	h->fd = open(p.buf, (flags & (O_ACCMODE | O_TRUNC | O_APPEND)) | O_CLOEXEC);
	return h->fd < 0 ? -errno : 0;
}

/* Open a file node. The model lock is held. */
int handle_open(const struct node *n, struct fuse_file_info *fi, bool created)
{
	bool wr = (fi->flags & O_ACCMODE) != O_RDONLY;
	struct handle *h;
	int rc;

	switch (n->type) {
	case N_GFILE:
		if (wr && !created)
			return -EACCES;
		break;
	case N_ATTR: case N_CTL: case N_INPUT: case N_RUNFILE: case N_TAG: case N_DATA: case N_SCRATCH:
		break;
	default:
		return tree_is_dir(n) ? -EISDIR : -EINVAL;
	}
	h = handle_new(&handle_text);
	h->ino = tree_ino(n);
	h->type = n->type;
	if (is_backed(n->type)) {
		rc = open_backing(n, fi->flags | (created ? O_TRUNC : 0), h);
		if (rc < 0) {
			handle_free(h);
			return rc;
		}
		h->be = &handle_file;
	} else if (n->type == N_ATTR && (created || (fi->flags & O_TRUNC))) {
		/*
		 * The new value arrives with write(2). Truncation alone commits
		 * at the last close (a shell closes a dup of the file before it
		 * writes, so an earlier commit would be wrong).
		 */
		h->truncated = true;
	} else if (n->type == N_GFILE && tree_gfile_rendered_at_open(n->idx)) {
		tree_show(n, &h->buf);
		h->rendered = true;
	} else if (n->type != N_CTL && n->type != N_INPUT && !is_live(n->type)) {
		/* Live files are shown afresh at every read (text_read). */
		tree_show(n, &h->buf);
	}
	/*
	 * Live files go around the page cache: a reader that keeps them open
	 * (tail -f) must get what was added, not a cached page. So do
	 * attributes: another process's write changes their mtime, and the
	 * kernel (6.18, iomap buffered reads) then drops their pages while
	 * readers of one descriptor fill them, which fails a pread with EIO
	 * (61-shared-reads.t). A value is read whole in one request anyway.
	 * Other files change only through the mount and use the page cache,
	 * which spares a round trip per read. Only a multi-line value needs
	 * FLUSH. An input file (console) too: each write(2) reaches vdcfs as
	 * one request, taken whole or refused, and no written byte stays in
	 * the page cache for a read to find.
	 */
	fi->direct_io = is_live(n->type) || n->type == N_ATTR || n->type == N_INPUT;
	fi->keep_cache = n->type == N_TAG || (n->type == N_GFILE && n->idx != G_RUN_EVENTS && !h->rendered);
	fi->noflush = !(wr && n->type == N_ATTR && (n->kind->attrs[n->idx].flags & VDC_ATTR_MULTILINE));
	fi->fh = (uintptr_t)h;
	return 0;
}

/* ---- text: attributes, ctl, run/ files, tags, run/events, hosts/join ---- */

static void text_read(fuse_req_t req, struct handle *h, size_t size, off_t off)
{
	__do_free char *buf = NULL;
	__do_strbuf struct strbuf live = STRBUF_INIT;
	const struct strbuf *text = &h->buf;

	/*
	 * A write on the same handle may replace h->buf (attr_write, under
	 * the write lock): copy the slice under the read lock, reply after.
	 * Live files are read as they are now, for this reader (tail -f sees
	 * what comes), into a buffer of this request: other reads of the same
	 * handle run at the same time under the read lock.
	 */
	begin(req);
	vdc_model_rdlock();
	if (is_live(h->type) && !h->rendered) {
		struct node n;

		if (tree_from_ino(h->ino, &n) == 0)
			tree_show(&n, &live);
		text = &live;
	}
	if ((size_t)off >= text->len) {
		size = 0;
	} else {
		if (size > text->len - (size_t)off)
			size = text->len - (size_t)off;
		buf = xmalloc(size);
		memcpy(buf, text->buf + off, size);
	}
	vdc_model_unlock();
	fuse_reply_buf(req, buf, size);
}

/* Length of the complete lines at the start of a value. */
static size_t complete_lines(const struct strbuf *sb)
{
	const char *nl = memrchr(sb->buf, '\n', sb->len);

	return nl ? (size_t)(nl - sb->buf) + 1 : 0;
}

/*
 * A write to an attribute: place the bytes at `off` of the value being
 * written. A single-line value is committed now; a multi-line value is
 * checked line by line as it arrives and committed at close.
 */
/*
 * A write goes into the handle's value at its offset and is checked whole.
 * A single-line value may carry one newline past its maximum (the model
 * drops it); a multi-line value's maximum counts every byte, its newlines
 * too, so the write that takes it past the maximum fails here with EFBIG
 * and the old value stays, rather than the close that would commit it.
 */
static int attr_write(const struct node *n, struct handle *h, const char *data, size_t size,
		      off_t off, struct vdc_err *err)
{
	const struct vdc_attr_def *def = &n->kind->attrs[n->idx];
	bool multi = def->flags & VDC_ATTR_MULTILINE;
	size_t limit = multi ? def->max : def->max + 1;
	__do_strbuf struct strbuf next = STRBUF_INIT;
	struct strbuf tmp;
	int rc;

	if ((size_t)off > h->buf.len)
		rc = vdc_err_set(err, -EINVAL, "a write to %s must start at 0 or where the last one ended (offset %lld of %zu bytes)",
				 def->name, (long long)off, h->buf.len);
	else if (size > limit || (size_t)off > limit - size)
		rc = vdc_err_set(err, -EFBIG, "%s takes at most %zu bytes; this write would make it %zu", def->name,
				 def->max, (size_t)off + size);
	else
		rc = 0;
	if (rc == 0) {
		strbuf_add(&next, h->buf.buf, h->buf.len);
		strbuf_splice_at(&next, (size_t)off, data, size);
		if (multi)
			rc = vdc_attr_check(n->obj, (unsigned)n->idx, next.buf, complete_lines(&next), err);
		else
			rc = vdc_attr_set(n->obj, (unsigned)n->idx, next.buf, next.len, err);
	}
	if (rc < 0) {
		/* Nothing of this handle is committed later: not a truncation, not the rest. */
		h->failed = true;
		return rc;
	}
	h->pending = multi;
	h->written = true;
	h->truncated = false;
	tmp = h->buf;
	h->buf = next;
	next = tmp;
	return (int)size;
}

static void text_write(fuse_req_t req, struct handle *h, const char *data, size_t size, off_t off)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct node n;
	int rc;

	begin(req);
	vdc_model_wrlock();
	rc = tree_from_ino(h->ino, &n);
	if (rc < 0)
		goto out;
	switch (n.type) {
	case N_ATTR:
		rc = attr_write(&n, h, data, size, off, &err);
		break;
	case N_CTL:
		rc = ctl_run(&n, data, size, &err);
		break;
	case N_INPUT:
		/* The bytes go to the kind (an instance's console input); a read shows none. */
		rc = size ? n.kind->input->write(n.obj, data, size, &err) : 0;
		if (rc == 0)
			rc = (int)size;
		break;
	case N_RUNFILE:
	case N_TAG:
	case N_GFILE:
		/* Live state: a copy written back (cp -r, tar x) changes nothing. */
		rc = (int)size;
		break;
	case N_DATA:
		/* A volume's data opened while it had no storage host (volume_open). */
		rc = is_volume_data(&n) ? n.obj->kind->block->no_host(n.obj, &err) : -EINVAL;
		break;
	default:
		rc = -EINVAL;
		break;
	}
	if (rc < 0)
		rc = fail(&n, &err, rc);
out:
	tell_kernel();
	vdc_model_unlock();
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_write(req, (size_t)rc);
}

/*
 * Commit what a handle still holds: a multi-line value (at every close),
 * and at the last close an attribute that was only truncated. The flags
 * are looked at under the write lock, as writes on the handle set them.
 */
static int commit_handle(struct handle *h, bool last)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct node n;
	int rc = 0;

	if (h->type != N_ATTR)
		return 0;
	vdc_model_wrlock();
	if (h->failed || !(h->pending || (last && h->truncated))) {
		vdc_model_unlock();
		return 0;
	}
	rc = tree_from_ino(h->ino, &n);
	if (rc == 0 && n.type == N_ATTR) {
		rc = vdc_attr_set(n.obj, (unsigned)n.idx, h->buf.buf, h->buf.len, &err);
		if (rc < 0)
			rc = fail(&n, &err, rc);
	}
	h->pending = false;
	h->truncated = false;
	tell_kernel();
	vdc_model_unlock();
	return rc;
}

static int text_flush(struct handle *h)
{
	return commit_handle(h, false);
}

static void text_release(struct handle *h)
{
	commit_handle(h, true);
}

static void text_lseek(fuse_req_t req, struct handle *h, off_t off, int whence)
{
	size_t len;

	/* A live file's end is where its text for this reader ends now. */
	begin(req);
	vdc_model_rdlock();
	if (is_live(h->type)) {
		__do_strbuf struct strbuf live = STRBUF_INIT;
		struct node n;

		if (tree_from_ino(h->ino, &n) == 0)
			tree_show(&n, &live);
		len = live.len;
	} else {
		len = h->buf.len;
	}
	vdc_model_unlock();
	if (whence == SEEK_DATA && (size_t)off < len)
		fuse_reply_lseek(req, off);
	else if (whence == SEEK_HOLE && (size_t)off <= len)
		fuse_reply_lseek(req, (off_t)len);
	else
		fuse_reply_err(req, whence == SEEK_DATA || whence == SEEK_HOLE ? ENXIO : EINVAL);
}

const struct handle_backend handle_text = {
	.name = "text",
	.read = text_read,
	.write = text_write,
	.lseek = text_lseek,
	.flush = text_flush,
	.release = text_release,
};

/* ---- a backing file: data of kinds without a LUN, scratch files ---- */

static void file_read(fuse_req_t req, struct handle *h, size_t size, off_t off)
{
	__do_free char *buf = xmalloc(size);
	ssize_t r = pread(h->fd, buf, size, off);

	if (r < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_buf(req, buf, (size_t)r);
}

static void file_write(fuse_req_t req, struct handle *h, const char *data, size_t size, off_t off)
{
	ssize_t w = pwrite(h->fd, data, size, off);

	if (w < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_write(req, (size_t)w);
}

static void file_lseek(fuse_req_t req, struct handle *h, off_t off, int whence)
{
	off_t r = lseek(h->fd, off, whence);

	if (r < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_lseek(req, r);
}

static int file_fsync(struct handle *h, int datasync)
{
	return (datasync ? fdatasync(h->fd) : fsync(h->fd)) < 0 ? -errno : 0;
}

const struct handle_backend handle_file = {
	.name = "file",
	.read = file_read,
	.write = file_write,
	.lseek = file_lseek,
	.fsync = file_fsync,
};
