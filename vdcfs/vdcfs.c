/*
 * vdcfs: the control plane's FUSE front end.
 *
 * This file holds the fuse_operations table and nothing that knows about a
 * particular kind: each operation resolves its path to a node (tree.c),
 * takes the model lock, calls one model function and turns its result into
 * exactly one reply. It is the only place where an error becomes a reply:
 * every failing mutation leaves its sentence in the object's run/err (or in
 * run/events for the data center) before its errno goes back to the kernel.
 *
 * Writes to attribute files follow docs/tree.md: a write(2) carries a whole
 * value and is validated and committed before it returns; a multi-line
 * value whose last line is not finished is committed at close (flush).
 */
#include <fcntl.h>
#include <fuse.h>
#include <fuse_lowlevel.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "kinds.h"
#include "tree.h"

static const struct vdc_kind *const kinds[] = {
	/* A restore needs link targets before their sources: keep this order. */
	&vdc_kind_images, &vdc_kind_ssh_keys, &vdc_kind_security_groups, &vdc_kind_networks,
	&vdc_kind_volumes, &vdc_kind_instances, NULL,
};

/* An open file. */
struct handle {
	enum node_type type;
	int fd;             /* N_DATA and N_SCRATCH: the backing file, else -1 */
	struct strbuf buf;  /* the text read, or the value being written */
	bool dirty;         /* buf holds a value not yet committed */
};

static struct handle *fh(struct fuse_file_info *fi)
{
	return (struct handle *)(uintptr_t)fi->fh;
}

/* Report a failure to its object (or the data center) and return its errno. */
static int fail(const struct node *n, const struct vdc_err *err, int rc)
{
	vdc_report(n ? tree_owner(n) : NULL, err);
	return rc;
}

/* Hide or show a fixed entry (unlink, and re-making it with create or mkdir). */
static void set_hidden(const struct node *n, bool hidden)
{
	uint64_t *mask = n->type == N_GFILE ? &tree_global_hidden : &n->obj->hidden;

	if (hidden) {
		*mask |= tree_hide_bit(n);
	} else {
		*mask &= ~tree_hide_bit(n);
		if (n->type != N_GFILE)
			n->obj->fresh_mask &= ~tree_hide_bit(n);
	}
}

/* Mark every fixed entry of a new object as fresh for its maker (see model.h). */
static void set_fresh(struct vdc_obj *obj)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	obj->fresh_pid = fuse_get_context()->pid;
	obj->fresh_until = now.tv_sec + VDC_FRESH_SECONDS;
	obj->fresh_mask = ~0ULL;
}

static bool is_backed(enum node_type t)
{
	return t == N_DATA || t == N_SCRATCH;
}

/* ---- reading the tree ---- */

static int vdcfs_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	struct node n;
	int rc;

	(void)fi;
	vdc_model_rdlock();
	rc = tree_resolve(path, &n);
	if (rc == 0)
		rc = tree_stat(&n, st);
	vdc_model_unlock();
	return rc;
}

static int vdcfs_readlink(const char *path, char *buf, size_t size)
{
	__do_strbuf struct strbuf text = STRBUF_INIT;
	struct node n;
	int rc;

	vdc_model_rdlock();
	rc = tree_resolve(path, &n);
	if (rc == 0 && n.type != N_LINK && n.type != N_REL)
		rc = -EINVAL;
	if (rc == 0)
		tree_show(&n, &text);
	vdc_model_unlock();
	if (rc < 0)
		return rc;
	if (size == 0)
		return -EINVAL;
	snprintf(buf, size, "%s", text.buf);
	return 0;
}

/*
 * A listing in progress. Entries are numbered in a fixed order and handed to
 * libfuse with their number as the offset: with offsets, libfuse's
 * readdirplus makes kernel entries for them, so tools that list and then
 * stat every file (tar, ls -l, find) do not ask again for each name.
 */
struct lister {
	void *buf;
	fuse_fill_dir_t filler;
	bool plus;
	bool full;
	off_t skip;    /* entries the kernel already has */
	off_t next;    /* number of the next entry */
};

/* Add one entry to a listing, with its attributes when readdirplus asked. */
static void list_node(struct lister *l, const char *name, const struct node *n)
{
	struct stat st;

	if (l->full || n->hidden)
		return;
	if (++l->next <= l->skip)
		return;
	if (tree_stat(n, &st) < 0)
		return;
	if (l->filler(l->buf, name, &st, l->next, l->plus ? FUSE_FILL_DIR_PLUS : 0))
		l->full = true;
}

static void list_obj(struct lister *l, const struct node *dir)
{
	const struct vdc_kind *k = dir->kind;
	struct vdc_obj *obj = dir->obj;
	struct node n = *dir;
	unsigned i;

	n.hidden = false;
	for (i = 0; i < k->nattrs; i++) {
		n.idx = (int)i;
		n.link = obj->attrs[i].link;
		if (k->attrs[i].type == VDC_ATTR_LINK) {
			if (!n.link)
				continue;
			n.type = N_LINK;
		} else {
			n.type = N_ATTR;
		}
		n.hidden = tree_entry_hidden(obj, tree_hide_bit(&n));
		list_node(l, k->attrs[i].name, &n);
	}
	n.link = NULL;
	n.idx = 0;
#define LIST_FIXED(t, name) do { \
		n.type = (t); \
		n.hidden = tree_entry_hidden(obj, tree_hide_bit(&n)); \
		list_node(l, (name), &n); \
	} while (0)
	if (k->nverbs)
		LIST_FIXED(N_CTL, "ctl");
	LIST_FIXED(N_RUNDIR, "run");
	for (i = 0; i < k->nreldirs; i++) {
		n.idx = (int)i;
		LIST_FIXED(N_RELDIR, k->reldirs[i].name);
	}
	n.idx = 0;
	if (k->childdir)
		LIST_FIXED(N_CHILDDIR, k->childdir);
	if (k->has_data)
		LIST_FIXED(N_DATA, "data");
#undef LIST_FIXED
	n.type = N_SCRATCH;
	n.hidden = false;
	for (i = 0; i < obj->nscratch; i++) {
		n.scratch = obj->scratch[i];
		if (!strchr(n.scratch->name, '/'))
			list_node(l, n.scratch->name, &n);
	}
}

static void list_map(struct lister *l, const struct node *dir, const struct vdc_kind *kind,
		     const struct vdc_map *m)
{
	struct node n = *dir;
	struct vdc_map_entry *e;
	size_t b;

	n.type = N_OBJ;
	n.kind = kind;
	n.hidden = false;
	for (e = vdc_map_first(m, &b); e && !l->full; e = vdc_map_next(m, e, &b)) {
		n.obj = e->value;
		list_node(l, n.obj->name, &n);
	}
}

static int vdcfs_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t off,
			 struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	struct lister l = { buf, filler, (flags & FUSE_READDIR_PLUS) != 0, false, off, 0 };
	struct node dir, n;
	unsigned i;
	int rc;

	(void)fi;
	vdc_model_rdlock();
	rc = tree_resolve(path, &dir);
	if (rc == 0 && (dir.hidden || !tree_is_dir(&dir)))
		rc = dir.hidden ? -ENOENT : -ENOTDIR;
	if (rc < 0)
		goto out;
	n = dir;
	n.hidden = false;
	list_node(&l, ".", &dir);
	if (!l.full && ++l.next > l.skip && filler(buf, "..", NULL, l.next, 0))
		l.full = true;
	switch (dir.type) {
	case N_ROOT:
		for (i = 0; vdc_kinds()[i]; i++) {
			n.type = N_KINDDIR;
			n.kind = vdc_kinds()[i];
			list_node(&l, n.kind->name, &n);
		}
		n.type = N_HOSTS;
		list_node(&l, "hosts", &n);
		n.type = N_GRUN;
		list_node(&l, "run", &n);
		break;
	case N_KINDDIR:
		list_map(&l, &dir, dir.kind, vdc_kind_objects(dir.kind));
		break;
	case N_HOSTS:
		n.type = N_GFILE;
		n.idx = G_HOSTS_TAG;
		list_node(&l, "CACHEDIR.TAG", &n);
		break;
	case N_GRUN:
		n.type = N_GFILE;
		n.idx = G_RUN_TAG;
		list_node(&l, "CACHEDIR.TAG", &n);
		n.idx = G_RUN_EVENTS;
		list_node(&l, "events", &n);
		break;
	case N_OBJ:
		list_obj(&l, &dir);
		break;
	case N_RUNDIR:
		n.type = N_TAG;
		n.hidden = tree_entry_hidden(dir.obj, VDC_HIDE_TAG);
		list_node(&l, "CACHEDIR.TAG", &n);
		for (i = 0; i < dir.kind->nrunfiles; i++) {
			n.type = N_RUNFILE;
			n.idx = (int)i;
			n.hidden = tree_entry_hidden(dir.obj, VDC_HIDE_RUN(i));
			list_node(&l, dir.kind->runfiles[i].name, &n);
		}
		break;
	case N_RELDIR: {
		const struct vdc_reldir *r = &dir.obj->rel[dir.idx];
		const char *rname = dir.kind->reldirs[dir.idx].name;
		size_t rlen = strlen(rname);

		n.type = N_REL;
		for (i = 0; i < r->n; i++) {
			n.link = r->links[i];
			list_node(&l, n.link->name, &n);
		}
		n.type = N_SCRATCH;
		for (i = 0; i < dir.obj->nscratch; i++) {
			n.scratch = dir.obj->scratch[i];
			if (!strncmp(n.scratch->name, rname, rlen) && n.scratch->name[rlen] == '/')
				list_node(&l, n.scratch->name + rlen + 1, &n);
		}
		break;
	}
	case N_CHILDDIR:
		list_map(&l, &dir, dir.kind->child, &dir.obj->children);
		break;
	default:
		break;
	}
out:
	vdc_model_unlock();
	return rc;
}

/* ---- opening, reading and writing files ---- */

static int open_backing(const struct node *n, int flags, struct handle *h)
{
	__do_strbuf struct strbuf p = STRBUF_INIT;

	tree_backing_path(n, &p);
	h->fd = open(p.buf, (flags & (O_ACCMODE | O_TRUNC | O_APPEND)) | O_CLOEXEC);
	return h->fd < 0 ? -errno : 0;
}

/* Open a resolved file node. The model lock is held. */
static int open_node(const struct node *n, struct fuse_file_info *fi, bool created)
{
	bool wr = (fi->flags & O_ACCMODE) != O_RDONLY;
	struct handle *h;
	int rc;

	switch (n->type) {
	case N_GFILE:
		if (wr && !created)
			return -EACCES;
		break;
	case N_ATTR: case N_CTL: case N_RUNFILE: case N_TAG: case N_DATA: case N_SCRATCH:
		break;
	default:
		return tree_is_dir(n) ? -EISDIR : -EINVAL;
	}
	h = xcalloc(1, sizeof(*h));
	h->type = n->type;
	h->fd = -1;
	strbuf_init(&h->buf, 0);
	if (is_backed(n->type)) {
		rc = open_backing(n, fi->flags | (created ? O_TRUNC : 0), h);
		if (rc < 0) {
			free(h);
			return rc;
		}
	} else if (n->type == N_ATTR && (created || (fi->flags & O_TRUNC))) {
		/*
		 * The new value arrives with write(2). Truncation alone commits
		 * nothing: a shell flushes its dup of the file before it writes.
		 */
	} else if (n->type != N_CTL) {
		tree_show(n, &h->buf);
	}
	fi->direct_io = !is_backed(n->type);
	fi->noflush = !wr;
	fi->fh = (uintptr_t)h;
	return 0;
}

static int vdcfs_open(const char *path, struct fuse_file_info *fi)
{
	struct node n;
	int rc;

	vdc_model_rdlock();
	rc = tree_resolve(path, &n);
	if (rc == 0 && n.hidden)
		rc = -ENOENT;
	if (rc == 0)
		rc = open_node(&n, fi, false);
	vdc_model_unlock();
	return rc;
}

static int vdcfs_read(const char *path, char *buf, size_t size, off_t off,
		      struct fuse_file_info *fi)
{
	struct handle *h = fh(fi);
	ssize_t r;

	(void)path;
	if (h->fd >= 0) {
		r = pread(h->fd, buf, size, off);
		return r < 0 ? -errno : (int)r;
	}
	if ((size_t)off >= h->buf.len)
		return 0;
	if (size > h->buf.len - (size_t)off)
		size = h->buf.len - (size_t)off;
	memcpy(buf, h->buf.buf + off, size);
	return (int)size;
}

/*
 * A write to an attribute: place the bytes at `off` of the value being
 * written and commit the result. A multi-line value commits once its last
 * line is complete; until then it waits for more writes or for close.
 */
static int attr_write(const struct node *n, struct handle *h, const char *data, size_t size,
		      off_t off, struct vdc_err *err)
{
	const struct vdc_attr_def *def = &n->kind->attrs[n->idx];
	__do_strbuf struct strbuf next = STRBUF_INIT;
	struct strbuf tmp;
	int rc;

	if ((size_t)off > h->buf.len)
		return vdc_err_set(err, -EINVAL, "a write to %s must start at 0 or where the last one ended (offset %lld of %zu bytes)",
				   def->name, (long long)off, h->buf.len);
	if ((size_t)off + size > def->max + 1)
		return vdc_err_set(err, -EFBIG, "%s takes at most %zu bytes", def->name, def->max);
	strbuf_add(&next, h->buf.buf, h->buf.len);
	strbuf_splice_at(&next, (size_t)off, data, size);
	if (!(def->flags & VDC_ATTR_MULTILINE) || (next.len && next.buf[next.len - 1] == '\n')) {
		rc = vdc_attr_set(n->obj, (unsigned)n->idx, next.buf, next.len, err);
		if (rc < 0)
			return rc;
		h->dirty = false;
	} else {
		h->dirty = true;
	}
	tmp = h->buf;
	h->buf = next;
	next = tmp;
	return (int)size;
}

/* Run the verbs in a write to ctl, one a line. */
static int ctl_run(const struct node *n, const char *data, size_t size, struct vdc_err *err)
{
	const struct vdc_kind *k = n->kind;
	size_t pos = 0;
	int rc = vdc_text_check(data, size, true, err);

	if (rc < 0)
		return rc;
	while (pos < size) {
		const char *line = data + pos, *nl = memchr(line, '\n', size - pos);
		size_t len = nl ? (size_t)(nl - line) : size - pos, vlen;
		unsigned i;

		pos += len + 1;
		while (len && (line[len - 1] == ' ' || line[len - 1] == '\t'))
			len--;
		if (!len)
			continue;
		for (vlen = 0; vlen < len && line[vlen] != ' '; vlen++)
			;
		for (i = 0; i < k->nverbs; i++)
			if (strlen(k->verbs[i].name) == vlen && !memcmp(k->verbs[i].name, line, vlen))
				break;
		if (i == k->nverbs) {
			__do_strbuf struct strbuf list = STRBUF_INIT;

			for (i = 0; i < k->nverbs; i++)
				strbuf_addf(&list, "%s%s", i ? ", " : "", k->verbs[i].usage);
			return vdc_err_set(err, -EINVAL, "'%.*s' is not a verb of %s; write one of: %s", (int)vlen,
					   line, k->name, list.buf);
		}
		while (vlen < len && line[vlen] == ' ')
			vlen++;
		rc = k->verbs[i].run(n->obj, line + vlen, len - vlen, err);
		if (rc < 0)
			return rc;
	}
	return (int)size;
}

static int vdcfs_write(const char *path, const char *data, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct handle *h = fh(fi);
	struct node n;
	ssize_t w;
	int rc;

	if (h->fd >= 0) {
		w = pwrite(h->fd, data, size, off);
		return w < 0 ? -errno : (int)w;
	}
	vdc_model_wrlock();
	rc = tree_resolve(path, &n);
	if (rc < 0)
		goto out;
	switch (n.type) {
	case N_ATTR:
		rc = attr_write(&n, h, data, size, off, &err);
		break;
	case N_CTL:
		rc = ctl_run(&n, data, size, &err);
		break;
	case N_RUNFILE:
	case N_TAG:
	case N_GFILE:
		/* Live state: a copy written back (cp -r, tar x) changes nothing. */
		rc = (int)size;
		break;
	default:
		rc = -EINVAL;
		break;
	}
	if (rc < 0)
		rc = fail(&n, &err, rc);
out:
	vdc_model_unlock();
	return rc;
}

static int vdcfs_flush(const char *path, struct fuse_file_info *fi)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct handle *h = fh(fi);
	struct node n;
	int rc;

	if (!h->dirty)
		return 0;
	vdc_model_wrlock();
	rc = tree_resolve(path, &n);
	if (rc == 0 && n.type == N_ATTR) {
		rc = vdc_attr_set(n.obj, (unsigned)n.idx, h->buf.buf, h->buf.len, &err);
		if (rc < 0)
			rc = fail(&n, &err, rc);
	}
	h->dirty = false;
	vdc_model_unlock();
	return rc;
}

static int vdcfs_release(const char *path, struct fuse_file_info *fi)
{
	struct handle *h = fh(fi);

	(void)path;
	if (h->fd >= 0)
		close(h->fd);
	strbuf_release(&h->buf);
	free(h);
	return 0;
}

static int vdcfs_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
	struct handle *h = fh(fi);

	(void)path;
	if (h->fd >= 0 && (datasync ? fdatasync(h->fd) : fsync(h->fd)) < 0)
		return -errno;
	return 0;
}

static off_t vdcfs_lseek(const char *path, off_t off, int whence, struct fuse_file_info *fi)
{
	struct handle *h = fh(fi);
	off_t r;

	(void)path;
	if (h->fd >= 0) {
		r = lseek(h->fd, off, whence);
		return r < 0 ? -errno : r;
	}
	if (whence == SEEK_DATA)
		return (size_t)off < h->buf.len ? off : -ENXIO;
	if (whence == SEEK_HOLE)
		return (size_t)off <= h->buf.len ? (off_t)h->buf.len : -ENXIO;
	return -EINVAL;
}

static int vdcfs_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct handle *h = fi ? fh(fi) : NULL;
	__do_strbuf struct strbuf p = STRBUF_INIT;
	struct node n;
	int rc;

	if (h && h->fd >= 0)
		return ftruncate(h->fd, size) < 0 ? -errno : 0;
	vdc_model_wrlock();
	rc = tree_resolve(path, &n);
	if (rc == 0 && n.hidden)
		rc = -ENOENT;
	if (rc < 0)
		goto out;
	switch (n.type) {
	case N_ATTR:
		if (h && (size_t)size <= h->buf.len) {
			strbuf_setlen(&h->buf, (size_t)size);
			h->dirty = true;
		} else if (!h && size == 0) {
			rc = vdc_attr_set(n.obj, (unsigned)n.idx, "", 0, &err);
		} else {
			rc = vdc_err_set(&err, -EINVAL, "%s can only be truncated to 0 or shortened while open",
					 n.kind->attrs[n.idx].name);
		}
		break;
	case N_DATA:
	case N_SCRATCH:
		tree_backing_path(&n, &p);
		rc = truncate(p.buf, size) < 0 ? -errno : 0;
		break;
	case N_CTL: case N_RUNFILE: case N_TAG:
		break;
	default:
		rc = tree_is_dir(&n) ? -EISDIR : -EINVAL;
	}
	if (rc < 0)
		rc = fail(&n, &err, rc);
out:
	vdc_model_unlock();
	return rc;
}

/* ---- making and removing entries ---- */

static int vdcfs_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	struct vdc_err err = VDC_ERR_INIT;
	__do_strbuf struct strbuf sname = STRBUF_INIT;
	struct node parent, n;
	const char *name;
	int rc;

	(void)mode;
	vdc_model_wrlock();
	rc = tree_resolve(path, &n);
	if (rc == 0 && !n.hidden) {
		rc = -EEXIST;
		goto out;
	}
	if (rc == 0) {
		/* Re-making a file that unlink hid: it comes back, to be written. */
		set_hidden(&n, false);
		n.hidden = false;
		rc = open_node(&n, fi, true);
		goto out;
	}
	rc = tree_resolve_parent(path, &parent, &name);
	if (rc < 0)
		goto out;
	if (parent.hidden) {
		rc = -ENOENT;
		goto out;
	}
	switch (parent.type) {
	case N_OBJ:
	case N_RELDIR:
		tree_scratch_name(&parent, name, &sname);
		rc = vdc_scratch_create(parent.obj, sname.buf, &n.scratch, &err);
		if (rc < 0)
			break;
		n.obj = parent.obj;
		n.kind = parent.kind;
		n.type = N_SCRATCH;
		n.hidden = false;
		rc = open_node(&n, fi, true);
		break;
	case N_RUNDIR:
		rc = vdc_err_set(&err, -EACCES, "run/ holds live state only; %s cannot be made in it", name);
		break;
	case N_KINDDIR:
		rc = vdc_err_set(&err, -EPERM, "%s/ holds %ss only; make one with mkdir %s", parent.kind->name,
				 parent.kind->noun, name);
		break;
	default:
		rc = -EACCES;
	}
	if (rc < 0)
		rc = fail(&parent, &err, rc);
out:
	vdc_model_unlock();
	return rc;
}

static int vdcfs_mkdir(const char *path, mode_t mode)
{
	struct fuse_context *ctx = fuse_get_context();
	struct vdc_err err = VDC_ERR_INIT;
	struct node parent, n;
	struct vdc_obj *obj;
	const char *name;
	int rc;

	(void)mode;
	vdc_model_wrlock();
	rc = tree_resolve(path, &n);
	if (rc == 0) {
		if (n.hidden && tree_is_dir(&n))
			set_hidden(&n, false);
		else
			rc = -EEXIST;
		goto out;
	}
	rc = tree_resolve_parent(path, &parent, &name);
	if (rc < 0)
		goto out;
	switch (parent.type) {
	case N_KINDDIR:
		rc = vdc_obj_create(parent.kind, NULL, name, strlen(name), ctx->uid, ctx->gid, &obj, &err);
		if (rc == 0)
			set_fresh(obj);
		break;
	case N_CHILDDIR:
		if (parent.hidden) {
			rc = -ENOENT;
			break;
		}
		rc = vdc_obj_create(parent.kind->child, parent.obj, name, strlen(name), ctx->uid, ctx->gid,
				    &obj, &err);
		if (rc == 0)
			set_fresh(obj);
		break;
	case N_ROOT:
		rc = vdc_err_set(&err, -EPERM, "the top folders are fixed; make objects inside them, like mkdir instances/%s",
				 name);
		break;
	case N_OBJ:
		rc = vdc_err_set(&err, -EPERM, "%s cannot be made in a%s %s; its folders are fixed",
				 name, parent.kind->noun[0] == 'i' ? "n" : "", parent.kind->noun);
		break;
	default:
		rc = -EPERM;
	}
	if (rc < 0)
		rc = fail(&parent, &err, rc);
out:
	vdc_model_unlock();
	return rc;
}

static int vdcfs_rmdir(const char *path)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct node n;
	unsigned i;
	int rc;

	vdc_model_wrlock();
	rc = tree_resolve(path, &n);
	if (rc == 0 && n.hidden)
		rc = -ENOENT;
	if (rc < 0)
		goto out;
	switch (n.type) {
	case N_OBJ:
		rc = vdc_obj_destroy(n.obj, &err);
		break;
	case N_RUNDIR: {
		/* rm -r of an object empties run/ first: let that succeed. */
		uint64_t all = VDC_HIDE_TAG;

		for (i = 0; i < n.kind->nrunfiles; i++)
			all |= VDC_HIDE_RUN(i);
		rc = (n.obj->hidden & all) == all ? 0 : -ENOTEMPTY;
		break;
	}
	case N_RELDIR:
		rc = n.obj->rel[n.idx].n ? -ENOTEMPTY : 0;
		for (i = 0; rc == 0 && i < n.obj->nscratch; i++)
			if (!strncmp(n.obj->scratch[i]->name, n.kind->reldirs[n.idx].name,
				     strlen(n.kind->reldirs[n.idx].name)) &&
			    strchr(n.obj->scratch[i]->name, '/'))
				rc = -ENOTEMPTY;
		break;
	case N_CHILDDIR:
		rc = n.obj->children.count ? -ENOTEMPTY : 0;
		break;
	case N_ROOT: case N_KINDDIR: case N_HOSTS: case N_GRUN:
		rc = -EBUSY;
		break;
	default:
		rc = -ENOTDIR;
	}
	if (rc == 0 && n.type != N_OBJ)
		set_hidden(&n, true);
	if (rc < 0)
		rc = fail(&n, &err, rc);
out:
	vdc_model_unlock();
	return rc;
}

static int vdcfs_unlink(const char *path)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct node n;
	int rc;

	vdc_model_wrlock();
	rc = tree_resolve(path, &n);
	if (rc == 0 && n.hidden)
		rc = -ENOENT;
	if (rc < 0)
		goto out;
	switch (n.type) {
	case N_ATTR: case N_CTL: case N_DATA: case N_RUNFILE: case N_TAG: case N_GFILE:
		/*
		 * A fixed file is only hidden: its value stays, and it comes
		 * back when written again (tar and rsync remove before they
		 * write) or when vdcfs restarts.
		 */
		set_hidden(&n, true);
		break;
	case N_LINK:
		rc = vdc_link_clear(n.obj, (unsigned)n.idx, &err);
		break;
	case N_REL:
		rc = vdc_rel_remove(n.obj, (unsigned)n.idx, n.link, &err);
		break;
	case N_SCRATCH:
		vdc_scratch_remove(n.obj, n.scratch);
		break;
	default:
		rc = -EISDIR;
	}
	if (rc < 0)
		rc = fail(&n, &err, rc);
out:
	vdc_model_unlock();
	return rc;
}

static int vdcfs_symlink(const char *target, const char *path)
{
	struct fuse_context *ctx = fuse_get_context();
	struct vdc_err err = VDC_ERR_INIT;
	__do_strbuf struct strbuf from = STRBUF_INIT;
	char tname[VDC_NAME_MAX + 1];
	struct node parent, n;
	const struct vdc_kind *tk;
	const char *name;
	int rc, a;

	vdc_model_wrlock();
	rc = tree_resolve(path, &n);
	if (rc == 0) {
		rc = -EEXIST;
		goto out;
	}
	rc = tree_resolve_parent(path, &parent, &name);
	if (rc == 0 && parent.hidden)
		rc = -ENOENT;
	if (rc < 0)
		goto out;
	if (parent.type == N_OBJ) {
		a = vdc_attr_index(parent.kind, name, strlen(name));
		if (a < 0 || parent.kind->attrs[a].type != VDC_ATTR_LINK) {
			rc = vdc_err_set(&err, -EPERM, "%s cannot be a link; a%s %s links only its relation files",
					 name, parent.kind->noun[0] == 'i' ? "n" : "", parent.kind->noun);
			goto fail;
		}
		tk = vdc_kind_find(parent.kind->attrs[a].target, strlen(parent.kind->attrs[a].target));
		vdc_obj_path(parent.obj, &from);
		rc = vdc_link_parse(from.buf, target, tk, name, tname, &err);
		if (rc == 0)
			rc = vdc_link_set(parent.obj, (unsigned)a, tname, ctx->uid, &err);
	} else if (parent.type == N_RELDIR) {
		tk = vdc_kind_find(parent.kind->reldirs[parent.idx].target,
				   strlen(parent.kind->reldirs[parent.idx].target));
		tree_link_from(&parent, &from);
		rc = vdc_link_parse(from.buf, target, tk, name, tname, &err);
		if (rc == 0)
			rc = vdc_rel_add(parent.obj, (unsigned)parent.idx, name, strlen(name), tname, ctx->uid, &err);
	} else {
		rc = vdc_err_set(&err, -EPERM, "links are made only in an object's relation files and folders");
	}
fail:
	if (rc < 0)
		rc = fail(&parent, &err, rc);
out:
	vdc_model_unlock();
	return rc;
}

/* Read a backing file whole, refusing more than `max` bytes. */
static int read_backing(const struct node *n, size_t max, struct strbuf *out, struct vdc_err *err)
{
	__do_strbuf struct strbuf p = STRBUF_INIT;
	char chunk[8192];
	ssize_t r;
	int fd;

	tree_backing_path(n, &p);
	fd = open(p.buf, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while ((r = read(fd, chunk, sizeof(chunk))) > 0) {
		if (out->len + (size_t)r > max) {
			close(fd);
			return vdc_err_set(err, -EFBIG, "the file is larger than the %zu bytes accepted", max);
		}
		strbuf_add(out, chunk, (size_t)r);
	}
	close(fd);
	return r < 0 ? -errno : 0;
}

/* Rename a scratch file onto a fixed file of the same object. */
static int rename_onto(struct node *src, struct node *dst, struct vdc_err *err)
{
	__do_strbuf struct strbuf text = STRBUF_INIT;
	__do_strbuf struct strbuf p = STRBUF_INIT;
	int rc = 0;

	switch (dst->type) {
	case N_ATTR:
		rc = read_backing(src, dst->kind->attrs[dst->idx].max + 1, &text, err);
		if (rc == 0)
			rc = vdc_attr_set(dst->obj, (unsigned)dst->idx, text.buf, text.len, err);
		break;
	case N_CTL:
		rc = read_backing(src, 65536, &text, err);
		if (rc == 0 && text.len)
			rc = ctl_run(dst, text.buf, text.len, err);
		break;
	case N_DATA:
		tree_backing_path(dst, &p);
		if (rename(src->scratch->path, p.buf) < 0)
			return -errno;
		break;
	case N_RUNFILE:
	case N_TAG:
		break;
	case N_SCRATCH:
		/* dst keeps its name and inode and takes src's bytes. */
		if (rename(src->scratch->path, dst->scratch->path) < 0)
			return -errno;
		break;
	default:
		return tree_is_dir(dst) ? -EISDIR : -EINVAL;
	}
	if (rc < 0)
		return rc;
	set_hidden(dst, false);
	vdc_scratch_remove(src->obj, src->scratch);
	return 0;
}

static int vdcfs_rename(const char *from, const char *to, unsigned int flags)
{
	struct vdc_err err = VDC_ERR_INIT;
	__do_strbuf struct strbuf sname = STRBUF_INIT;
	struct node src, dst, dparent;
	const char *name;
	bool exists;
	int rc;

	if (flags & RENAME_EXCHANGE)
		return -EINVAL;
	vdc_model_wrlock();
	rc = tree_resolve(from, &src);
	if (rc == 0 && src.hidden)
		rc = -ENOENT;
	if (rc < 0)
		goto out;
	rc = tree_resolve_parent(to, &dparent, &name);
	if (rc < 0)
		goto out;
	exists = tree_resolve(to, &dst) == 0;
	if (exists && !dst.hidden && (flags & RENAME_NOREPLACE)) {
		rc = -EEXIST;
		goto out;
	}
	switch (src.type) {
	case N_SCRATCH:
		if (dparent.obj != src.obj) {
			rc = vdc_err_set(&err, -EXDEV, "a temporary file moves only within its own object");
			break;
		}
		if (exists) {
			rc = rename_onto(&src, &dst, &err);
			break;
		}
		tree_scratch_name(&dparent, name, &sname);
		if (dparent.type != N_OBJ && dparent.type != N_RELDIR) {
			rc = -EINVAL;
			break;
		}
		free(src.scratch->name);
		src.scratch->name = strbuf_detach(&sname, NULL);
		break;
	case N_ATTR:
		/* An editor's backup (memory -> memory~): keep a copy, hide the file. */
		if (exists || dparent.obj != src.obj || (dparent.type != N_OBJ && dparent.type != N_RELDIR)) {
			rc = vdc_err_set(&err, -EINVAL, "%s can be renamed only to a new name in its folder",
					 src.kind->attrs[src.idx].name);
			break;
		}
		{
			__do_strbuf struct strbuf text = STRBUF_INIT;
			struct node s = src;
			int fd;

			tree_scratch_name(&dparent, name, &sname);
			rc = vdc_scratch_create(src.obj, sname.buf, &s.scratch, &err);
			if (rc < 0)
				break;
			tree_show(&src, &text);
			fd = open(s.scratch->path, O_WRONLY | O_CLOEXEC);
			if (fd < 0 || write(fd, text.buf, text.len) != (ssize_t)text.len) {
				rc = -EIO;
				if (fd >= 0)
					close(fd);
				vdc_scratch_remove(src.obj, s.scratch);
				break;
			}
			close(fd);
			set_hidden(&src, true);
		}
		break;
	case N_OBJ:
		if (dparent.type != (src.obj->parent ? N_CHILDDIR : N_KINDDIR) ||
		    dparent.obj != src.obj->parent || (dparent.type == N_KINDDIR && dparent.kind != src.kind)) {
			rc = vdc_err_set(&err, -EXDEV, "%s %s can be renamed only within its own folder",
					 src.kind->noun, src.obj->name);
			break;
		}
		if (exists) {
			rc = -ENOTEMPTY;
			break;
		}
		rc = vdc_obj_rename(src.obj, name, strlen(name), &err);
		break;
	case N_REL:
		if (dparent.type != N_RELDIR || dparent.obj != src.obj || dparent.idx != src.idx || exists) {
			rc = exists ? -EEXIST : -EXDEV;
			break;
		}
		rc = vdc_rel_rename(src.obj, (unsigned)src.idx, src.link, name, strlen(name), &err);
		break;
	default:
		rc = vdc_err_set(&err, -EINVAL, "%s cannot be renamed", from);
	}
	if (rc < 0)
		rc = fail(&src, &err, rc);
out:
	vdc_model_unlock();
	return rc;
}

/* ---- ownership and times ---- */

static int vdcfs_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_obj *owner;
	struct node n;
	int rc;

	(void)fi;
	vdc_model_wrlock();
	rc = tree_resolve(path, &n);
	if (rc == 0 && n.hidden)
		rc = -ENOENT;
	if (rc < 0)
		goto out;
	owner = tree_owner(&n);
	if (!owner) {
		/* The top folders belong to root; restoring that is no change. */
		rc = (uid == 0 || uid == (uid_t)-1) && (gid == 0 || gid == (gid_t)-1) ? 0 : -EPERM;
		goto out;
	}
	rc = vdc_obj_chown(owner, uid == (uid_t)-1 ? owner->uid : uid, gid == (gid_t)-1 ? owner->gid : gid, &err);
	if (rc < 0)
		rc = fail(&n, &err, rc);
out:
	vdc_model_unlock();
	return rc;
}

static int vdcfs_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	struct node n;
	int rc;

	(void)mode;
	(void)fi;
	vdc_model_rdlock();
	rc = tree_resolve(path, &n);
	if (rc == 0 && n.hidden)
		rc = -ENOENT;
	/*
	 * Modes are fixed by the tree's rules (docs/tree.md). Inside an
	 * object a tool restoring a mode is not refused; the top folders
	 * accept only the mode they have.
	 */
	if (rc == 0 && !tree_owner(&n)) {
		struct stat st;

		if (tree_stat(&n, &st) < 0 || (st.st_mode & 07777) != (mode & 07777))
			rc = -EPERM;
	}
	vdc_model_unlock();
	return rc;
}

static int vdcfs_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi)
{
	__do_strbuf struct strbuf p = STRBUF_INIT;
	struct node n;
	int rc;

	(void)fi;
	vdc_model_rdlock();
	rc = tree_resolve(path, &n);
	if (rc == 0 && n.hidden)
		rc = -ENOENT;
	if (rc == 0 && is_backed(n.type)) {
		tree_backing_path(&n, &p);
		if (utimensat(AT_FDCWD, p.buf, tv, 0) < 0)
			rc = -errno;
	}
	vdc_model_unlock();
	return rc;
}

static int vdcfs_statfs(const char *path, struct statvfs *st)
{
	(void)path;
	if (statvfs(vdc_model_datadir(), st) < 0)
		return -errno;
	st->f_namemax = 255;
	return 0;
}

static void *vdcfs_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	cfg->use_ino = 1;
	cfg->entry_timeout = 1.0;
	cfg->attr_timeout = 1.0;
	cfg->negative_timeout = 0;
	cfg->hard_remove = 1;
	if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
	if (conn->capable & FUSE_CAP_READDIRPLUS)
		conn->want |= FUSE_CAP_READDIRPLUS;
	conn->want &= ~(unsigned)FUSE_CAP_READDIRPLUS_AUTO;
	return NULL;
}

static const struct fuse_operations vdcfs_ops = {
	.init = vdcfs_init,
	.getattr = vdcfs_getattr,
	.readlink = vdcfs_readlink,
	.readdir = vdcfs_readdir,
	.mkdir = vdcfs_mkdir,
	.rmdir = vdcfs_rmdir,
	.unlink = vdcfs_unlink,
	.symlink = vdcfs_symlink,
	.rename = vdcfs_rename,
	.chmod = vdcfs_chmod,
	.chown = vdcfs_chown,
	.truncate = vdcfs_truncate,
	.utimens = vdcfs_utimens,
	.create = vdcfs_create,
	.open = vdcfs_open,
	.read = vdcfs_read,
	.write = vdcfs_write,
	.flush = vdcfs_flush,
	.release = vdcfs_release,
	.fsync = vdcfs_fsync,
	.lseek = vdcfs_lseek,
	.statfs = vdcfs_statfs,
};

/* ---- start-up ---- */

struct options {
	char *state;
	char *sync;
	int help;
	int version;
	char *nonopt[3];   /* [SOURCE] MOUNTPOINT, as mount(8) passes them */
	int nnonopt;
};

#define OPT(t, p) { t, offsetof(struct options, p), 1 }
static const struct fuse_opt option_spec[] = {
	OPT("state=%s", state),
	OPT("sync=%s", sync),
	OPT("-h", help),
	OPT("--help", help),
	OPT("-V", version),
	OPT("--version", version),
	FUSE_OPT_END
};

/* Keep the positional arguments: mount.fuse3 passes SOURCE before MOUNTPOINT. */
static int option_proc(void *data, const char *arg, int key, struct fuse_args *outargs)
{
	struct options *opt = data;

	(void)outargs;
	if (key != FUSE_OPT_KEY_NONOPT)
		return 1;
	if (opt->nnonopt == 2) {
		fprintf(stderr, "vdcfs: unexpected argument %s\n", arg);
		return -1;
	}
	opt->nonopt[opt->nnonopt++] = xstrdup(arg);
	return 0;
}

static void usage(const char *prog)
{
	printf("usage: %s -o state=DIR [-o sync=full] [-o allow_other] [-f] MOUNTPOINT\n"
	       "       %s DIR MOUNTPOINT [-o ...]      (as mount -t fuse.vdcfs calls it)\n\n"
	       "Mounts the virtual data center kept in DIR (made if missing) at MOUNTPOINT.\n"
	       "  -o state=DIR      where the data center lives (state.db, data/)\n"
	       "  -o sync=full      every write reaches the disk before it returns\n"
	       "                    (default: normal - safe against a crash of vdcfs,\n"
	       "                    a power loss may lose the last writes)\n"
	       "  -o allow_other    let other users use the mount (see fuse(8))\n"
	       "  -f                stay in the foreground\n"
	       "Unmount with fusermount3 -u MOUNTPOINT.\n", prog, prog);
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct options opt = { 0 };
	struct fuse_cmdline_opts cl = { 0 };
	struct fuse_loop_config *lc = NULL;
	struct vdc_err err = VDC_ERR_INIT;
	char state[PATH_MAX], mnt[PATH_MAX];
	struct fuse *fuse = NULL;
	bool sync_full;
	int rc = 1;

	if (fuse_opt_parse(&args, &opt, option_spec, option_proc) < 0)
		return 1;
	if (opt.nnonopt == 2 && !opt.state)
		opt.state = xstrdup(opt.nonopt[0]);
	if (opt.nnonopt)
		fuse_opt_add_arg(&args, opt.nonopt[opt.nnonopt - 1]);
	if (opt.help) {
		usage(argv[0]);
		return 0;
	}
	if (opt.version) {
		printf("vdcfs 0.1 (libfuse %s)\n", fuse_pkgversion());
		return 0;
	}
	if (!opt.state) {
		fprintf(stderr, "vdcfs: -o state=DIR is required\n");
		usage(argv[0]);
		return 2;
	}
	if (opt.sync && strcmp(opt.sync, "full") && strcmp(opt.sync, "normal")) {
		fprintf(stderr, "vdcfs: sync=%s is not accepted; write sync=full or sync=normal\n", opt.sync);
		return 2;
	}
	sync_full = opt.sync && !strcmp(opt.sync, "full");
	if (mkdir(opt.state, 0700) < 0 && errno != EEXIST) {
		fprintf(stderr, "vdcfs: cannot make %s: %s\n", opt.state, strerror(errno));
		return 1;
	}
	if (!realpath(opt.state, state)) {
		fprintf(stderr, "vdcfs: %s: %s\n", opt.state, strerror(errno));
		return 1;
	}
	fuse_opt_add_arg(&args, "-odefault_permissions,noatime,fsname=vdcfs,subtype=vdcfs");
	if (fuse_parse_cmdline(&args, &cl) < 0 || !cl.mountpoint) {
		fprintf(stderr, "vdcfs: no mount point given\n");
		usage(argv[0]);
		goto done;
	}
	if (!realpath(cl.mountpoint, mnt)) {
		fprintf(stderr, "vdcfs: %s: %s\n", cl.mountpoint, strerror(errno));
		goto done;
	}
	/* Check the state before going to the background, where errors are unseen. */
	if (vdc_model_open(state, kinds, sync_full, &err) < 0) {
		fprintf(stderr, "vdcfs: %s\n", err.msg);
		goto done;
	}
	vdc_model_close();
	vdc_model_set_mountpoint(mnt);

	fuse = fuse_new(&args, &vdcfs_ops, sizeof(vdcfs_ops), NULL);
	if (!fuse)
		goto done;
	if (fuse_mount(fuse, mnt) < 0)
		goto done;
	if (fuse_daemonize(cl.foreground) < 0 || fuse_set_signal_handlers(fuse_get_session(fuse)) < 0)
		goto unmount;
	if (vdc_model_open(state, kinds, sync_full, &err) < 0) {
		fprintf(stderr, "vdcfs: %s\n", err.msg);
		goto unmount;
	}
	vdc_event(NULL, "vdcfs started on %s with state %s", mnt, state);
	if (cl.singlethread) {
		rc = fuse_loop(fuse) ? 1 : 0;
	} else {
		lc = fuse_loop_cfg_create();
		fuse_loop_cfg_set_clone_fd(lc, cl.clone_fd);
		fuse_loop_cfg_set_max_threads(lc, 4);
		fuse_loop_cfg_set_idle_threads(lc, 4);
		rc = fuse_loop_mt(fuse, lc) ? 1 : 0;
		fuse_loop_cfg_destroy(lc);
	}
	fuse_remove_signal_handlers(fuse_get_session(fuse));
	vdc_model_close();
unmount:
	fuse_unmount(fuse);
done:
	if (fuse)
		fuse_destroy(fuse);
	free(cl.mountpoint);
	free(opt.state);
	free(opt.sync);
	free(opt.nonopt[0]);
	free(opt.nonopt[1]);
	fuse_opt_free_args(&args);
	return rc;
}
