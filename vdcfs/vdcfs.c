/*
 * vdcfs: the control plane's FUSE front end (libfuse's low-level API).
 *
 * This file holds the fuse_lowlevel_ops table and the operations that look
 * things up (lookup, getattr, listing folders), serve open files through
 * their data back end (handle.h) and set files' attributes; those that
 * make, remove and rename entries are in namespace.c, start-up in main.c.
 * Each operation turns its inode number into a node (tree.c), takes the
 * model lock, calls one model function and ends in exactly one reply. The operations, with the data back ends they call
 * for an open file's reads and writes (handle.h), are the only place where
 * an error becomes a reply: every failing mutation leaves its sentence in
 * the object's run/err (or in run/events for the data center) before its
 * errno goes back to the kernel.
 *
 * Inode numbers are the tree's own and stable (tree.c), so the kernel can
 * cache entries: a second for names and attributes, and nothing for the
 * attributes of live files in run/, whose size changes without a write.
 */
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "counters.h"
#include "frontend.h"
#include "handle.h"
#include "namespace.h"
#include "notify.h"
#include "tree.h"

static bool no_opendir;   /* the kernel can skip OPENDIR and RELEASEDIR */

/* ---- looking things up ---- */

static void vdcfs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e;
	struct node n;
	int rc;
	bool hidden = false, physical = false;

	vdc_count_fuse(VDC_FOP_LOOKUP);
	begin(req);
	vdc_model_rdlock();
	rc = tree_from_ino(parent, &n);
	if (rc == 0 && n.hidden)
		rc = -ENOENT;
	if (rc == 0) {
		/* Hosts and their instance links appear without the mount: joins, placement. */
		physical = n.kind && n.kind->made_by_system;
		rc = tree_step(&n, name);
		hidden = rc == 0 && n.hidden;
	}
	if (rc == 0 && !hidden)
		fill_entry(&n, &e);
	vdc_model_unlock();
	if (rc == -ENOENT && !hidden && !physical) {
		/*
		 * A name that is not there appears only through the mount,
		 * which updates the kernel's cache: let it remember the answer.
		 * Hidden entries are not cached: fresh ones differ per process,
		 * nor are names under hosts/, which agents make.
		 */
		memset(&e, 0, sizeof(e));
		e.entry_timeout = ENTRY_TIMEOUT;
		fuse_reply_entry(req, &e);
	} else if (rc < 0 || hidden) {
		fuse_reply_err(req, hidden ? ENOENT : -rc);
	} else {
		fuse_reply_entry(req, &e);
	}
}

static void vdcfs_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	vdc_count_fuse(VDC_FOP_FORGET);
	kernel_forgets(ino, nlookup);
	vdc_model_wrlock();
	tree_forget(ino);
	vdc_model_unlock();
	fuse_reply_none(req);
}

static void vdcfs_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	size_t i;

	vdc_count_fuse(VDC_FOP_FORGET);
	for (i = 0; i < count; i++)
		kernel_forgets(forgets[i].ino, forgets[i].nlookup);
	vdc_model_wrlock();
	for (i = 0; i < count; i++)
		tree_forget(forgets[i].ino);
	vdc_model_unlock();
	fuse_reply_none(req);
}

static void vdcfs_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct stat st;
	struct node n;
	int rc;

	vdc_count_fuse(VDC_FOP_GETATTR);
	(void)fi;
	begin(req);
	vdc_model_rdlock();
	rc = tree_from_ino(ino, &n);
	if (rc == 0)
		rc = tree_stat(&n, &st);
	vdc_model_unlock();
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_attr(req, &st, attr_timeout(&n));
}

static void vdcfs_readlink(fuse_req_t req, fuse_ino_t ino)
{
	__do_strbuf struct strbuf text = STRBUF_INIT;
	struct node n;
	int rc;

	vdc_count_fuse(VDC_FOP_READLINK);
	vdc_model_rdlock();
	rc = tree_from_ino(ino, &n);
	if (rc == 0 && n.type != N_LINK && n.type != N_REL)
		rc = -EINVAL;
	if (rc == 0)
		tree_show(&n, &text);
	vdc_model_unlock();
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_readlink(req, text.buf);
}

/* ---- listing folders ---- */

/*
 * A listing in progress. Entries are numbered in a fixed order and the
 * kernel resumes a listing by that number; readdirplus hands out each
 * entry's attributes too, so tools that list and then stat every file
 * (tar, ls -l, find) do not ask again for each name.
 */
struct lister {
	fuse_req_t req;
	char *buf;
	size_t size, used;
	bool plus;
	bool full;
	off_t skip;    /* entries the kernel already has */
	off_t next;    /* number of the next entry */
};

static void list_add(struct lister *l, const char *name, const struct node *n, fuse_ino_t dot_ino)
{
	struct fuse_entry_param e;
	size_t ent;

	if (l->full || (n && n->hidden))
		return;
	if (++l->next <= l->skip)
		return;
	if (n) {
		fill_entry(n, &e);
	} else {
		/* "." and "..": no entry for the kernel to keep. */
		memset(&e, 0, sizeof(e));
		e.attr.st_ino = dot_ino;
		e.attr.st_mode = S_IFDIR;
	}
	if (l->plus)
		ent = fuse_add_direntry_plus(l->req, l->buf + l->used, l->size - l->used, name, &e, l->next);
	else
		ent = fuse_add_direntry(l->req, l->buf + l->used, l->size - l->used, name, &e.attr, l->next);
	if (ent > l->size - l->used) {
		l->full = true;
		return;
	}
	l->used += ent;
}

static void list_node(struct lister *l, const char *name, const struct node *n)
{
	list_add(l, name, n, 0);
}

/* The data file of object `obj` (the folder `dir`): "data", or what its kind calls it. */
static void list_data(struct lister *l, struct vdc_obj *obj, const struct node *dir)
{
	struct node n = *dir;

	n.type = N_DATA;
	n.idx = 0;
	n.link = NULL;
	n.hidden = tree_entry_hidden(obj, tree_hide_bit(&n));
	list_node(l, vdc_kind_data_name(dir->kind), &n);
}

/* Attribute `i` of object `obj` (the folder `dir`): a value, or a link when one is made. */
static void list_attr(struct lister *l, struct vdc_obj *obj, const struct node *dir, unsigned i)
{
	const struct vdc_kind *k = dir->kind;
	struct node n = *dir;

	n.idx = (int)i;
	n.link = obj->attrs[i].link;
	if (k->attrs[i].type == VDC_ATTR_LINK) {
		if (!n.link)
			return;
		n.type = N_LINK;
	} else {
		n.type = N_ATTR;
	}
	n.hidden = tree_entry_hidden(obj, tree_hide_bit(&n));
	list_node(l, k->attrs[i].name, &n);
}

static void list_obj(struct lister *l, const struct node *dir)
{
	const struct vdc_kind *k = dir->kind;
	struct vdc_obj *obj = dir->obj;
	struct node n = *dir;
	unsigned i;

	for (i = 0; i < k->nattrs; i++) {
		if (k->has_data && k->data_before == i + 1)
			list_data(l, obj, dir);
		if (k->attr_last != i + 1)
			list_attr(l, obj, dir, i);
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
	if (k->input)
		LIST_FIXED(N_INPUT, k->input->name);
	LIST_FIXED(N_RUNDIR, "run");
	for (i = 0; i < k->nreldirs; i++) {
		n.idx = (int)i;
		LIST_FIXED(N_RELDIR, k->reldirs[i].name);
	}
	for (i = 0; i < k->nchilddirs; i++) {
		n.idx = (int)i;
		LIST_FIXED(N_CHILDDIR, k->childdirs[i].name);
	}
	n.idx = 0;
	if (k->has_data && !k->data_before)
		list_data(l, obj, dir);
	if (k->attr_last)
		list_attr(l, obj, dir, k->attr_last - 1);
#undef LIST_FIXED
	n.type = N_SCRATCH;
	n.hidden = false;
	for (i = 0; i < obj->nscratch; i++) {
		n.scratch = obj->scratch[i];
		if (!strchr(n.scratch->name, '/'))
			list_node(l, n.scratch->name, &n);
	}
}

static void list_map(struct lister *l, const struct vdc_kind *kind, const struct vdc_map *m)
{
	struct vdc_map_entry *e;
	struct node n;
	size_t b;

	memset(&n, 0, sizeof(n));
	n.type = N_OBJ;
	n.kind = kind;
	for (e = vdc_map_first(m, &b); e && !l->full; e = vdc_map_next(m, e, &b)) {
		n.obj = e->value;
		list_node(l, n.obj->name, &n);
	}
}

static void list_dir(struct lister *l, const struct node *dir)
{
	struct node n = *dir;
	unsigned i;

	switch (dir->type) {
	case N_ROOT:
		for (i = 0; vdc_kinds()[i]; i++) {
			n.type = N_KINDDIR;
			n.kind = vdc_kinds()[i];
			list_node(l, n.kind->name, &n);
		}
		n.type = N_GRUN;
		list_node(l, "run", &n);
		break;
	case N_KINDDIR:
		for (i = 0; i < dir->kind->nfiles; i++) {
			n.type = N_GFILE;
			n.idx = tree_kind_file(dir->kind, i);
			n.hidden = (tree_global_hidden & tree_hide_bit(&n)) != 0;
			list_node(l, dir->kind->files[i].name, &n);
		}
		list_map(l, dir->kind, vdc_kind_objects(dir->kind));
		break;
	case N_GRUN:
		n.type = N_GFILE;
		n.idx = G_RUN_TAG;
		n.hidden = (tree_global_hidden & tree_hide_bit(&n)) != 0;
		list_node(l, "CACHEDIR.TAG", &n);
		n.idx = G_RUN_EVENTS;
		n.hidden = (tree_global_hidden & tree_hide_bit(&n)) != 0;
		list_node(l, "events", &n);
		n.idx = G_RUN_METRICS;
		n.hidden = (tree_global_hidden & tree_hide_bit(&n)) != 0;
		list_node(l, "metrics.prom", &n);
		n.idx = G_RUN_DASHBOARD;
		n.hidden = (tree_global_hidden & tree_hide_bit(&n)) != 0;
		list_node(l, "dashboard.html", &n);
		break;
	case N_OBJ:
		list_obj(l, dir);
		break;
	case N_RUNDIR:
		n.type = N_TAG;
		n.hidden = tree_entry_hidden(dir->obj, VDC_HIDE_TAG);
		list_node(l, "CACHEDIR.TAG", &n);
		for (i = 0; i < dir->kind->nrunfiles; i++) {
			n.type = N_RUNFILE;
			n.idx = (int)i;
			n.hidden = tree_entry_hidden(dir->obj, VDC_HIDE_RUN(i));
			list_node(l, dir->kind->runfiles[i].name, &n);
		}
		break;
	case N_RELDIR: {
		const struct vdc_reldir *r = &dir->obj->rel[dir->idx];
		const char *rname = dir->kind->reldirs[dir->idx].name;
		size_t rlen = strlen(rname);

		n.type = N_REL;
		for (i = 0; i < r->n; i++) {
			n.link = r->links[i];
			list_node(l, n.link->name, &n);
		}
		n.type = N_SCRATCH;
		for (i = 0; i < dir->obj->nscratch; i++) {
			n.scratch = dir->obj->scratch[i];
			if (!strncmp(n.scratch->name, rname, rlen) && n.scratch->name[rlen] == '/')
				list_node(l, n.scratch->name + rlen + 1, &n);
		}
		break;
	}
	case N_CHILDDIR:
		list_map(l, dir->kind->childdirs[dir->idx].kind, &dir->obj->children[dir->idx]);
		break;
	default:
		break;
	}
}

static void vdcfs_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct node n;
	int rc;

	vdc_count_fuse(VDC_FOP_OPENDIR);
	if (no_opendir) {
		fuse_reply_err(req, ENOSYS);
		return;
	}
	begin(req);
	vdc_model_rdlock();
	rc = tree_from_ino(ino, &n);
	if (rc == 0 && !tree_is_dir(&n))
		rc = -ENOTDIR;
	vdc_model_unlock();
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_open(req, fi);
}

static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, bool plus)
{
	__do_free char *buf = xmalloc(size);
	struct lister l = { req, buf, size, 0, plus, false, off, 0 };
	struct node dir;
	int rc;

	begin(req);
	vdc_model_rdlock();
	rc = tree_from_ino(ino, &dir);
	if (rc == 0 && (dir.hidden || !tree_is_dir(&dir)))
		rc = dir.hidden ? -ENOENT : -ENOTDIR;
	if (rc == 0) {
		list_add(&l, ".", NULL, ino);
		list_add(&l, "..", NULL, FUSE_ROOT_ID);
		list_dir(&l, &dir);
	}
	vdc_model_unlock();
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_buf(req, buf, l.used);
}

static void vdcfs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			  struct fuse_file_info *fi)
{
	vdc_count_fuse(VDC_FOP_READDIR);
	(void)fi;
	do_readdir(req, ino, size, off, false);
}

static void vdcfs_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			      struct fuse_file_info *fi)
{
	vdc_count_fuse(VDC_FOP_READDIR);
	(void)fi;
	do_readdir(req, ino, size, off, true);
}

static void vdcfs_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	vdc_count_fuse(VDC_FOP_RELEASEDIR);
	(void)ino;
	(void)fi;
	fuse_reply_err(req, 0);
}

/* ---- opening, reading and writing files ---- */

static void vdcfs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct node n;
	int rc;

	vdc_count_fuse(VDC_FOP_OPEN);
	begin(req);
	vdc_model_rdlock();
	rc = tree_from_ino(ino, &n);
	if (rc == 0 && is_volume_data(&n)) {
		vdc_model_unlock();
		rc = volume_open(ino, fi, (fi->flags & O_TRUNC) != 0);
	} else {
		if (rc == 0)
			rc = handle_open(&n, fi, false);
		vdc_model_unlock();
	}
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else if (fuse_reply_open(req, fi) == -ENOENT)
		handle_free(fh(fi));   /* interrupted: the kernel will not release it */
}

static void vdcfs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	struct handle *h = fh(fi);

	vdc_count_fuse(VDC_FOP_READ);
	(void)ino;
	h->be->read(req, h, size, off);
}

static void vdcfs_write(fuse_req_t req, fuse_ino_t ino, const char *data, size_t size, off_t off,
			struct fuse_file_info *fi)
{
	struct handle *h = fh(fi);
	int64_t counted;

	vdc_count_fuse(VDC_FOP_WRITE);
	if (h->type == N_CTL)
		volume_flush_for(ino);   /* a verb (rollback) comes after the writes before it */
	counted = clone_write_begin(h);

	/* Once the write is answered a release may free h: what ends it was taken before. */
	h->be->write(req, h, data, size, off);
	clone_write_end(counted);
}

static void vdcfs_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct handle *h = fh(fi);

	vdc_count_fuse(VDC_FOP_FLUSH);
	(void)ino;
	begin(req);
	fuse_reply_err(req, h->be->flush ? -h->be->flush(h) : 0);
}

static void vdcfs_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct handle *h = fh(fi);

	vdc_count_fuse(VDC_FOP_RELEASE);
	(void)ino;
	if (h->be->release)
		h->be->release(h);
	handle_free(h);
	fuse_reply_err(req, 0);
}

static void vdcfs_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	struct handle *h = fh(fi);

	vdc_count_fuse(VDC_FOP_FSYNC);
	(void)ino;
	fuse_reply_err(req, h->be->fsync ? -h->be->fsync(h, datasync) : 0);
}

static void vdcfs_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence,
			struct fuse_file_info *fi)
{
	struct handle *h = fh(fi);

	vdc_count_fuse(VDC_FOP_LSEEK);
	(void)ino;
	h->be->lseek(req, h, off, whence);
}

/* ---- attributes of files: size, owner, mode, times ---- */

/* truncate(2) and ftruncate(2). */
static int set_size(const struct node *n, struct handle *h, off_t size, struct vdc_err *err)
{
	__do_strbuf struct strbuf p = STRBUF_INIT;
	__do_strbuf struct strbuf cur = STRBUF_INIT;
	const struct vdc_attr_def *def;

	if (h && h->fd >= 0)
		return ftruncate(h->fd, size) < 0 ? -errno : 0;
	switch (n->type) {
	case N_ATTR:
		def = &n->kind->attrs[n->idx];
		if (h) {
			if ((size_t)size > h->buf.len)
				return vdc_err_set(err, -EINVAL, "%s can only be shortened", def->name);
			strbuf_setlen(&h->buf, (size_t)size);
			if (def->flags & VDC_ATTR_MULTILINE) {
				h->pending = true;
				return 0;
			}
			h->truncated = false;
			h->written = true;
			return vdc_attr_set(n->obj, (unsigned)n->idx, h->buf.buf, h->buf.len, err);
		}
		tree_show(n, &cur);
		if ((size_t)size > cur.len)
			return vdc_err_set(err, -EINVAL, "%s can only be shortened", def->name);
		return vdc_attr_set(n->obj, (unsigned)n->idx, cur.buf, (size_t)size, err);
	case N_DATA:
	case N_SCRATCH:
		tree_backing_path(n, &p);
		return truncate(p.buf, size) < 0 ? -errno : 0;
	case N_CTL: case N_INPUT: case N_RUNFILE: case N_TAG:
		return 0;
	default:
		return tree_is_dir(n) ? -EISDIR : -EINVAL;
	}
}

/* chown(2): the owner of an object is the owner of all its files. */
static int set_owner(const struct node *n, uid_t uid, gid_t gid, int to_set, struct vdc_err *err)
{
	struct vdc_obj *owner = tree_owner(n);

	if (!owner) {
		/* The top folders belong to root; restoring that is no change. */
		return (!(to_set & FUSE_SET_ATTR_UID) || uid == 0) && (!(to_set & FUSE_SET_ATTR_GID) || gid == 0)
		       ? 0 : -EPERM;
	}
	return vdc_obj_chown(owner, to_set & FUSE_SET_ATTR_UID ? uid : owner->uid,
			     to_set & FUSE_SET_ATTR_GID ? gid : owner->gid, err);
}

/*
 * chmod(2): modes are fixed by the tree's rules (docs/tree.md). Inside an
 * object a tool restoring a mode is not refused; the top folders accept
 * only the mode they have.
 */
static int set_mode(const struct node *n, mode_t mode)
{
	struct stat st;

	if (tree_owner(n))
		return 0;
	tree_stat(n, &st);
	return (st.st_mode & 07777) == (mode & 07777) ? 0 : -EPERM;
}

static int set_times(const struct node *n, const struct stat *attr, int to_set)
{
	__do_strbuf struct strbuf p = STRBUF_INIT;
	struct timespec tv[2] = { { 0, UTIME_OMIT }, { 0, UTIME_OMIT } };

	if (!is_backed(n->type) || is_volume_data(n))
		return 0;   /* made-up files carry the time of their last change */
	if (to_set & FUSE_SET_ATTR_ATIME_NOW)
		tv[0].tv_nsec = UTIME_NOW;
	else if (to_set & FUSE_SET_ATTR_ATIME)
		tv[0] = attr->st_atim;
	if (to_set & FUSE_SET_ATTR_MTIME_NOW)
		tv[1].tv_nsec = UTIME_NOW;
	else if (to_set & FUSE_SET_ATTR_MTIME)
		tv[1] = attr->st_mtim;
	tree_backing_path(n, &p);
	return utimensat(AT_FDCWD, p.buf, tv, 0) < 0 ? -errno : 0;
}

static void vdcfs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
			  struct fuse_file_info *fi)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct stat st;
	struct node n;
	int rc;

	vdc_count_fuse(VDC_FOP_SETATTR);
	begin(req);
	if (to_set & FUSE_SET_ATTR_SIZE) {
		/* A volume's data is resized without the lock: discarding takes a while. */
		int64_t id = 0;

		vdc_model_rdlock();
		rc = tree_from_ino(ino, &n);
		if (rc == 0 && is_volume_data(&n))
			id = n.obj->id;
		vdc_model_unlock();
		if (rc == 0 && is_volume_data(&n)) {
			clone_block_changed(id, fi ? fh(fi) : NULL);
			rc = volume_set_size(ino, fi ? fh(fi) : NULL, (uint64_t)attr->st_size);
			if (rc < 0) {
				fuse_reply_err(req, -rc);
				return;
			}
			to_set &= ~FUSE_SET_ATTR_SIZE;
		}
	}
	vdc_model_wrlock();
	rc = tree_from_ino(ino, &n);
	if (rc < 0)
		goto out;
	if (to_set & FUSE_SET_ATTR_SIZE)
		rc = set_size(&n, fi ? fh(fi) : NULL, attr->st_size, &err);
	if (rc == 0 && (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)))
		rc = set_owner(&n, attr->st_uid, attr->st_gid, to_set, &err);
	if (rc == 0 && (to_set & FUSE_SET_ATTR_MODE))
		rc = set_mode(&n, attr->st_mode);
	if (rc == 0 && (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME |
				  FUSE_SET_ATTR_ATIME_NOW | FUSE_SET_ATTR_MTIME_NOW)))
		rc = set_times(&n, attr, to_set);
	if (rc < 0)
		rc = fail(&n, &err, rc);
	else
		rc = tree_stat(&n, &st);
out:
	tell_kernel();
	vdc_model_unlock();
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_attr(req, &st, attr_timeout(&n));
}

static void vdcfs_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs st;

	vdc_count_fuse(VDC_FOP_STATFS);
	(void)ino;
	if (statvfs(vdc_model_datadir(), &st) < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	st.f_namemax = 255;
	fuse_reply_statfs(req, &st);
}

static void vdcfs_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
	if (conn->capable & FUSE_CAP_READDIRPLUS)
		conn->want |= FUSE_CAP_READDIRPLUS;
	conn->want &= ~(unsigned)FUSE_CAP_READDIRPLUS_AUTO;
	no_opendir = (conn->capable & FUSE_CAP_NO_OPENDIR_SUPPORT) != 0;
}

const struct fuse_lowlevel_ops vdcfs_ops = {
	.init = vdcfs_init,
	.lookup = vdcfs_lookup,
	.forget = vdcfs_forget,
	.forget_multi = vdcfs_forget_multi,
	.getattr = vdcfs_getattr,
	.setattr = vdcfs_setattr,
	.readlink = vdcfs_readlink,
	.mkdir = vdcfs_mkdir,
	.unlink = vdcfs_unlink,
	.rmdir = vdcfs_rmdir,
	.symlink = vdcfs_symlink,
	.rename = vdcfs_rename,
	.open = vdcfs_open,
	.read = vdcfs_read,
	.write = vdcfs_write,
	.flush = vdcfs_flush,
	.release = vdcfs_release,
	.fsync = vdcfs_fsync,
	.opendir = vdcfs_opendir,
	.readdir = vdcfs_readdir,
	.readdirplus = vdcfs_readdirplus,
	.releasedir = vdcfs_releasedir,
	.statfs = vdcfs_statfs,
	.create = vdcfs_create,
	.lseek = vdcfs_lseek,
	.copy_file_range = clone_copy_file_range,
};
