/*
 * vdcfs: the control plane's FUSE front end (libfuse's low-level API).
 *
 * This file holds the fuse_lowlevel_ops table and nothing that knows about
 * a particular kind: each operation turns its inode number into a node
 * (tree.c), takes the model lock, calls one model function and ends in
 * exactly one reply. The operations, with the data back ends they call
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
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "agentd.h"
#include "ctl.h"
#include "frontend.h"
#include "handle.h"
#include "host.h"
#include "kinds.h"
#include "notify.h"
#include "tree.h"

static const struct vdc_kind *const kinds[] = {
	/* A restore needs link targets before their sources: keep this order. */
	&vdc_kind_images, &vdc_kind_ssh_keys, &vdc_kind_security_groups, &vdc_kind_networks,
	&vdc_kind_volumes, &vdc_kind_instances, &vdc_kind_hosts,
	&vdc_kind_quotas,   /* last: a restore makes the objects before the limits on them */
	NULL,
};

static bool no_opendir;   /* the kernel can skip OPENDIR and RELEASEDIR */

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
static void set_fresh(fuse_req_t req, struct vdc_obj *obj)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	obj->fresh_pid = fuse_req_ctx(req)->pid;
	obj->fresh_until = now.tv_sec + VDC_FRESH_SECONDS;
	obj->fresh_mask = ~0ULL;
}

/* ---- looking things up ---- */

static void vdcfs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e;
	struct node n;
	int rc;
	bool hidden = false, physical = false;

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
	kernel_forgets(ino, nlookup);
	vdc_model_wrlock();
	tree_forget(ino);
	vdc_model_unlock();
	fuse_reply_none(req);
}

static void vdcfs_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	size_t i;

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

static void list_obj(struct lister *l, const struct node *dir)
{
	const struct vdc_kind *k = dir->kind;
	struct vdc_obj *obj = dir->obj;
	struct node n = *dir;
	unsigned i;

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
		if (dir->kind == &vdc_kind_hosts) {
			n.type = N_GFILE;
			n.idx = G_HOSTS_TAG;
			n.hidden = (tree_global_hidden & tree_hide_bit(&n)) != 0;
			list_node(l, "CACHEDIR.TAG", &n);
			n.idx = G_HOSTS_JOIN;
			n.hidden = (tree_global_hidden & tree_hide_bit(&n)) != 0;
			list_node(l, "join", &n);
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
		list_map(l, dir->kind->child, &dir->obj->children);
		break;
	default:
		break;
	}
}

static void vdcfs_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct node n;
	int rc;

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
	(void)fi;
	do_readdir(req, ino, size, off, false);
}

static void vdcfs_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			      struct fuse_file_info *fi)
{
	(void)fi;
	do_readdir(req, ino, size, off, true);
}

static void vdcfs_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	fuse_reply_err(req, 0);
}

/* ---- opening, reading and writing files ---- */

static void vdcfs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct node n;
	int rc;

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

	(void)ino;
	h->be->read(req, h, size, off);
}

static void vdcfs_write(fuse_req_t req, fuse_ino_t ino, const char *data, size_t size, off_t off,
			struct fuse_file_info *fi)
{
	struct handle *h = fh(fi);

	(void)ino;
	h->be->write(req, h, data, size, off);
}

static void vdcfs_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct handle *h = fh(fi);

	(void)ino;
	begin(req);
	fuse_reply_err(req, h->be->flush ? -h->be->flush(h) : 0);
}

static void vdcfs_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct handle *h = fh(fi);

	(void)ino;
	if (h->be->release)
		h->be->release(h);
	handle_free(h);
	fuse_reply_err(req, 0);
}

static void vdcfs_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	struct handle *h = fh(fi);

	(void)ino;
	fuse_reply_err(req, h->be->fsync ? -h->be->fsync(h, datasync) : 0);
}

static void vdcfs_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence,
			struct fuse_file_info *fi)
{
	struct handle *h = fh(fi);

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
	case N_CTL: case N_RUNFILE: case N_TAG:
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

	begin(req);
	if (to_set & FUSE_SET_ATTR_SIZE) {
		/* A volume's data is resized without the lock: discarding takes a while. */
		vdc_model_rdlock();
		rc = tree_from_ino(ino, &n);
		vdc_model_unlock();
		if (rc == 0 && is_volume_data(&n)) {
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

	(void)ino;
	if (statvfs(vdc_model_datadir(), &st) < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	st.f_namemax = 255;
	fuse_reply_statfs(req, &st);
}

/* ---- making and removing entries ---- */

/*
 * Resolve the folder `parent` and, in `n`, its entry `name` if it exists
 * (visible or hidden). Returns 0 with *exists set, or an error for the
 * folder itself.
 */
static int resolve_entry(fuse_ino_t parent, const char *name, struct node *dir, struct node *n,
			 bool *exists)
{
	int rc = tree_from_ino(parent, dir);

	if (rc < 0)
		return rc;
	if (dir->hidden)
		return -ENOENT;
	if (!tree_is_dir(dir))
		return -ENOTDIR;
	*n = *dir;
	*exists = tree_step(n, name) == 0;
	return 0;
}

/* The same, for an entry that must exist and be visible to the caller. */
static int resolve_visible(fuse_ino_t parent, const char *name, struct node *dir, struct node *n)
{
	bool exists;
	int rc = resolve_entry(parent, name, dir, n, &exists);

	if (rc == 0 && (!exists || n->hidden))
		rc = -ENOENT;
	return rc;
}

static void vdcfs_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
			 struct fuse_file_info *fi)
{
	struct vdc_err err = VDC_ERR_INIT;
	__do_strbuf struct strbuf sname = STRBUF_INIT;
	struct fuse_entry_param e;
	struct vdc_scratch *s;
	struct node dir, n;
	bool exists;
	int rc;

	(void)mode;
	begin(req);
	vdc_model_wrlock();
	rc = resolve_entry(parent, name, &dir, &n, &exists);
	if (rc < 0)
		goto out;
	if (exists && !n.hidden) {
		rc = -EEXIST;
		goto out;
	}
	if (exists && is_volume_data(&n)) {
		/* Re-making a volume's data: it comes back, emptied, outside the lock. */
		set_hidden(&n, false);
		n.hidden = false;
		fill_entry(&n, &e);
		tell_kernel();
		vdc_model_unlock();
		rc = volume_open(e.ino, fi, true);
		if (rc < 0)
			fuse_reply_err(req, -rc);
		else if (fuse_reply_create(req, &e, fi) == -ENOENT)
			handle_free(fh(fi));
		return;
	}
	if (exists) {
		/* Re-making a file that unlink hid: it comes back, to be written. */
		set_hidden(&n, false);
		n.hidden = false;
		rc = handle_open(&n, fi, true);
		goto done;
	}
	switch (dir.type) {
	case N_OBJ:
	case N_RELDIR:
		tree_scratch_name(&dir, name, &sname);
		rc = vdc_scratch_create(dir.obj, sname.buf, &s, &err);
		if (rc < 0)
			break;
		n = dir;
		n.type = N_SCRATCH;
		n.scratch = s;
		rc = handle_open(&n, fi, true);
		break;
	case N_RUNDIR:
		rc = vdc_err_set(&err, -EACCES, "run/ holds live state only; %s cannot be made in it", VDC_Q(name));
		break;
	case N_KINDDIR:
		rc = vdc_err_set(&err, -EPERM, "%s/ holds %ss only; make one with mkdir %s", dir.kind->name,
				 dir.kind->noun, VDC_Q(name));
		break;
	default:
		rc = -EACCES;
	}
	if (rc < 0)
		rc = fail(&dir, &err, rc);
done:
	if (rc == 0)
		fill_entry(&n, &e);
out:
	tell_kernel();
	vdc_model_unlock();
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else if (fuse_reply_create(req, &e, fi) == -ENOENT)
		handle_free(fh(fi));   /* interrupted: the kernel will not release it */
}

static void vdcfs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct vdc_err err = VDC_ERR_INIT;
	struct fuse_entry_param e;
	struct node dir, n;
	struct vdc_obj *obj = NULL;
	bool exists;
	int rc;

	(void)mode;
	begin(req);
	vdc_model_wrlock();
	rc = resolve_entry(parent, name, &dir, &n, &exists);
	if (rc < 0)
		goto out;
	if (exists) {
		if (n.hidden && tree_is_dir(&n)) {
			set_hidden(&n, false);
			n.hidden = false;
			fill_entry(&n, &e);
		} else {
			rc = -EEXIST;
		}
		goto out;
	}
	switch (dir.type) {
	case N_KINDDIR:
		if (dir.kind->made_by_system)
			rc = vdc_err_set(&err, -EPERM, "%s", dir.kind->made_by_system);
		else
			rc = vdc_obj_create(dir.kind, NULL, name, strlen(name), ctx->uid, ctx->gid, &obj, &err);
		break;
	case N_CHILDDIR:
		rc = vdc_obj_create(dir.kind->child, dir.obj, name, strlen(name), ctx->uid, ctx->gid, &obj, &err);
		break;
	case N_ROOT:
		rc = vdc_err_set(&err, -EPERM, "the top folders are fixed; make objects inside them, like mkdir instances/%s",
				 VDC_Q(name));
		break;
	case N_OBJ:
		rc = vdc_err_set(&err, -EPERM, "%s cannot be made in %s %s; its folders are fixed", VDC_Q(name),
				 dir.kind->noun, dir.obj->name);
		break;
	default:
		rc = -EPERM;
	}
	if (rc < 0) {
		rc = fail(&dir, &err, rc);
		goto out;
	}
	set_fresh(req, obj);
	memset(&n, 0, sizeof(n));
	n.type = N_OBJ;
	n.obj = obj;
	n.kind = obj->kind;
	fill_entry(&n, &e);
out:
	tell_kernel();
	vdc_model_unlock();
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_entry(req, &e);
}

static void vdcfs_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct node dir, n;
	unsigned i;
	int rc;

	begin(req);
	vdc_model_wrlock();
	rc = resolve_visible(parent, name, &dir, &n);
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
	case N_RELDIR: {
		const char *rname = n.kind->reldirs[n.idx].name;
		size_t rlen = strlen(rname);

		rc = n.obj->rel[n.idx].n ? -ENOTEMPTY : 0;
		for (i = 0; rc == 0 && i < n.obj->nscratch; i++)
			if (!strncmp(n.obj->scratch[i]->name, rname, rlen) && n.obj->scratch[i]->name[rlen] == '/')
				rc = -ENOTEMPTY;
		break;
	}
	case N_CHILDDIR:
		rc = n.obj->children.count ? -ENOTEMPTY : 0;
		break;
	case N_ROOT: case N_KINDDIR: case N_GRUN:
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
	tell_kernel();
	vdc_model_unlock();
	fuse_reply_err(req, -rc);
}

static void vdcfs_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct node dir, n;
	int rc;

	begin(req);
	vdc_model_wrlock();
	rc = resolve_visible(parent, name, &dir, &n);
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
		if (n.kind->made_by_system)
			rc = vdc_err_set(&err, -EPERM, "the links of %s/ are kept by the data center",
					 n.kind->reldirs[n.idx].name);
		else
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
	tell_kernel();
	vdc_model_unlock();
	fuse_reply_err(req, -rc);
}

static void vdcfs_symlink(fuse_req_t req, const char *target, fuse_ino_t parent, const char *name)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct vdc_err err = VDC_ERR_INIT;
	__do_strbuf struct strbuf from = STRBUF_INIT;
	char tname[VDC_TNAME_MAX + 1];
	struct fuse_entry_param e;
	const struct vdc_kind *tk;
	struct node dir, n;
	bool exists;
	int rc, a;

	begin(req);
	vdc_model_wrlock();
	rc = resolve_entry(parent, name, &dir, &n, &exists);
	if (rc == 0 && exists && !n.hidden)
		rc = -EEXIST;
	if (rc < 0)
		goto out;
	n = dir;
	if (dir.type == N_OBJ) {
		a = vdc_attr_index(dir.kind, name, strlen(name));
		if (a < 0 || dir.kind->attrs[a].type != VDC_ATTR_LINK) {
			rc = vdc_err_set(&err, -EPERM, "%s cannot be a link; %s %s links only its relation files", VDC_Q(name),
					 dir.kind->noun, dir.obj->name);
			goto fail;
		}
		tk = vdc_kind_find(dir.kind->attrs[a].target, strlen(dir.kind->attrs[a].target));
		vdc_obj_path(dir.obj, &from);
		rc = vdc_link_parse(from.buf, target, tk, name, tname, &err);
		if (rc == 0)
			rc = vdc_link_set(dir.obj, (unsigned)a, tname, ctx->uid, &err);
		if (rc == 0) {
			n.type = N_LINK;
			n.idx = a;
			n.link = dir.obj->attrs[a].link;
		}
	} else if (dir.type == N_RELDIR && dir.kind->made_by_system) {
		rc = vdc_err_set(&err, -EPERM, "the links of %s/ are kept by the data center",
				 dir.kind->reldirs[dir.idx].name);
	} else if (dir.type == N_RELDIR) {
		tk = vdc_kind_find(dir.kind->reldirs[dir.idx].target, strlen(dir.kind->reldirs[dir.idx].target));
		tree_link_from(&dir, &from);
		rc = vdc_link_parse(from.buf, target, tk, name, tname, &err);
		if (rc == 0)
			rc = vdc_rel_add(dir.obj, (unsigned)dir.idx, name, strlen(name), tname, ctx->uid, &err);
		if (rc == 0) {
			n.type = N_REL;
			n.link = vdc_rel_find(dir.obj, (unsigned)dir.idx, name, strlen(name));
		}
	} else {
		rc = vdc_err_set(&err, -EPERM, "links are made only in an object's relation files and folders");
	}
fail:
	if (rc < 0)
		rc = fail(&dir, &err, rc);
	else
		fill_entry(&n, &e);
out:
	tell_kernel();
	vdc_model_unlock();
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_entry(req, &e);
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

/* Rename a scratch file onto an entry of the same object. */
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
		if (is_volume_data(dst))
			return -EXDEV;   /* vdcfs_rename copies it without the lock */
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
	/* The kernel now calls dst by src's inode: let that inode stand for dst. */
	tree_alias(src->scratch->ino, tree_ino(dst));
	vdc_scratch_remove(src->obj, src->scratch);
	return 0;
}

/* An editor's backup (memory -> memory~): keep a copy, hide the file. */
static int rename_to_backup(struct node *src, const struct node *dir, const char *name,
			    struct vdc_err *err)
{
	__do_strbuf struct strbuf sname = STRBUF_INIT;
	__do_strbuf struct strbuf text = STRBUF_INIT;
	struct vdc_scratch *s;
	ssize_t w;
	int rc, fd;

	tree_scratch_name(dir, name, &sname);
	rc = vdc_scratch_create(src->obj, sname.buf, &s, err);
	if (rc < 0)
		return rc;
	tree_show(src, &text);
	fd = open(s->path, O_WRONLY | O_CLOEXEC);
	w = fd < 0 ? -1 : write(fd, text.buf, text.len);
	if (fd >= 0)
		close(fd);
	if (w != (ssize_t)text.len) {
		vdc_scratch_remove(src->obj, s);
		return -EIO;
	}
	set_hidden(src, true);
	return 0;
}

static void vdcfs_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
			 const char *newname, unsigned int flags)
{
	struct vdc_err err = VDC_ERR_INIT;
	__do_strbuf struct strbuf sname = STRBUF_INIT;
	struct node sdir, src, ddir, dst;
	bool exists;
	int rc;

	begin(req);
	if (flags & RENAME_EXCHANGE) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	vdc_model_wrlock();
	rc = resolve_visible(parent, name, &sdir, &src);
	if (rc == 0)
		rc = resolve_entry(newparent, newname, &ddir, &dst, &exists);
	if (rc < 0)
		goto out;
	if (exists && !dst.hidden && (flags & RENAME_NOREPLACE)) {
		rc = -EEXIST;
		goto out;
	}
	switch (src.type) {
	case N_SCRATCH:
		if (ddir.obj != src.obj || (ddir.type != N_OBJ && ddir.type != N_RELDIR)) {
			rc = vdc_err_set(&err, -EPERM, "a temporary file moves only within its own object");
			break;
		}
		if (exists && is_volume_data(&dst)) {
			__do_free char *spath = xstrdup(src.scratch->path);
			uint64_t sino = src.scratch->ino, dino = tree_ino(&dst);

			fuse_ino_t dirino = newparent;

			vdc_model_unlock();
			rc = volume_take_scratch(sino, spath, dino, &err);
			fuse_reply_err(req, -rc);
			/*
			 * The kernel now calls data by the scratch's inode, which
			 * the size changes of run/ never name: make it look data
			 * up again (after the reply: the rename holds the folder).
			 */
			if (rc == 0)
				kernel_inval_entry(dirino, "data", 4);
			return;
		}
		if (exists) {
			rc = rename_onto(&src, &dst, &err);
			break;
		}
		tree_scratch_name(&ddir, newname, &sname);
		free(src.scratch->name);
		src.scratch->name = strbuf_detach(&sname, NULL);
		break;
	case N_ATTR:
		if (exists || ddir.obj != src.obj || (ddir.type != N_OBJ && ddir.type != N_RELDIR)) {
			rc = vdc_err_set(&err, -EPERM, "%s can be renamed only to a new name in its folder",
					 src.kind->attrs[src.idx].name);
			break;
		}
		rc = rename_to_backup(&src, &ddir, newname, &err);
		break;
	case N_OBJ:
		/* EPERM, not EXDEV: mv would fall back to copying into another kind. */
		if (ddir.type != (src.obj->parent ? N_CHILDDIR : N_KINDDIR) || ddir.obj != src.obj->parent ||
		    (ddir.type == N_KINDDIR && ddir.kind != src.kind)) {
			rc = vdc_err_set(&err, -EPERM, "%s %s can be renamed only within its own folder",
					 src.kind->noun, src.obj->name);
			break;
		}
		if (exists) {
			rc = -ENOTEMPTY;
			break;
		}
		if (src.kind->made_by_system) {
			rc = vdc_err_set(&err, -EPERM, "%s %s keeps the name it joined with", src.kind->noun,
					 src.obj->name);
			break;
		}
		rc = vdc_obj_rename(src.obj, newname, strlen(newname), &err);
		break;
	case N_REL:
		if (src.kind->made_by_system) {
			rc = vdc_err_set(&err, -EPERM, "the links of %s/ are kept by the data center",
					 src.kind->reldirs[src.idx].name);
			break;
		}
		if (ddir.type != N_RELDIR || ddir.obj != src.obj || ddir.idx != src.idx) {
			rc = vdc_err_set(&err, -EPERM, "a link moves only within its own folder");
			break;
		}
		if (exists) {
			rc = -EEXIST;
			break;
		}
		rc = vdc_rel_rename(src.obj, (unsigned)src.idx, src.link, newname, strlen(newname), &err);
		break;
	default:
		rc = vdc_err_set(&err, -EPERM, "%s cannot be renamed", VDC_Q(name));
	}
	if (rc < 0)
		rc = fail(&src, &err, rc);
out:
	tell_kernel();
	vdc_model_unlock();
	fuse_reply_err(req, -rc);
}

/*
 * Readahead of the mount: the kernel gives a FUSE mount 128 KiB, which
 * holds a volume's data to 128 KiB requests behind tar's 10 KiB reads.
 * Raise it to VDC_READAHEAD_KB through the mount's bdi in sysfs (root
 * only; without it reads are just slower). Found by the mount's device
 * number in /proc/self/mountinfo, which needs no FUSE request.
 */
#define VDC_READAHEAD_KB "1024"
static void tune_readahead(const char *mnt)
{
	char real[PATH_MAX], line[8192], path[96];
	unsigned maj, min;
	FILE *f;
	int fd;

	if (!realpath(mnt, real) || !(f = fopen("/proc/self/mountinfo", "re")))
		return;
	while (fgets(line, sizeof(line), f)) {
		char point[PATH_MAX];

		if (sscanf(line, "%*u %*u %u:%u %*s %4095s", &maj, &min, point) != 3 || strcmp(point, real))
			continue;
		snprintf(path, sizeof(path), "/sys/class/bdi/%u:%u/read_ahead_kb", maj, min);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd >= 0) {
			if (write(fd, VDC_READAHEAD_KB, strlen(VDC_READAHEAD_KB)) < 0)
				fprintf(stderr, "vdcfs: cannot raise readahead in %s: %s\n", path, strerror(errno));
			close(fd);
		}
	}
	fclose(f);
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

static const struct fuse_lowlevel_ops vdcfs_ops = {
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
};

/* ---- start-up ---- */

struct options {
	char *state;
	char *sync;
	char *listen;
	char *advertise;
	char *host_timeout;
	char *heartbeat;
	int help;
	int version;
	char *nonopt[2];   /* [SOURCE] MOUNTPOINT, as mount(8) passes them */
	int nnonopt;
};

#define OPT(t, p) { t, offsetof(struct options, p), 1 }
static const struct fuse_opt option_spec[] = {
	OPT("state=%s", state),
	OPT("sync=%s", sync),
	OPT("listen=%s", listen),
	OPT("advertise=%s", advertise),
	OPT("host-timeout=%s", host_timeout),
	OPT("heartbeat=%s", heartbeat),
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

/* A whole number of seconds from 1 to 3600, or `def` when not given. */
static int seconds_opt(const char *name, const char *text, unsigned def, unsigned *out)
{
	struct vdc_err err = VDC_ERR_INIT;
	uint64_t n = def;

	if (text && vdc_uint_parse(text, strlen(text), name, 1, 3600, &n, &err) < 0) {
		fprintf(stderr, "vdcfs: %s\n", err.msg);
		return -1;
	}
	*out = (unsigned)n;
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
	       "  -o listen=ADDR:PORT      where agents dial in (default 0.0.0.0:7443;\n"
	       "                    port 0 picks a free one; hosts/join tells it)\n"
	       "  -o advertise=HOST:PORT   the address hosts/join gives agents\n"
	       "  -o heartbeat=S    seconds between agents' reports (default 5)\n"
	       "  -o host-timeout=S seconds of silence before a host is unknown\n"
	       "                    (default 15)\n"
	       "  -o allow_other    let other users use the mount (see fuse(8))\n"
	       "  -f                stay in the foreground\n"
	       "  -s                serve one request at a time\n"
	       "Unmount with fusermount3 -u MOUNTPOINT.\n", prog, prog);
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct options opt = { 0 };
	struct fuse_cmdline_opts cl = { 0 };
	struct fuse_loop_config *lc;
	struct vdc_err err = VDC_ERR_INIT;
	char state[PATH_MAX], mnt[PATH_MAX];
	struct fuse_session *se = NULL;
	bool sync_full, mounted = false, handlers = false, agentd = false;
	unsigned heartbeat, host_timeout;
	int rc = 1;

	if (fuse_opt_parse(&args, &opt, option_spec, option_proc) < 0)
		return 1;
	if (opt.help) {
		usage(argv[0]);
		return 0;
	}
	if (opt.version) {
		printf("vdcfs 0.1 (libfuse %s)\n", fuse_pkgversion());
		return 0;
	}
	if (opt.nnonopt == 2 && !opt.state)
		opt.state = xstrdup(opt.nonopt[0]);
	if (opt.nnonopt)
		fuse_opt_add_arg(&args, opt.nonopt[opt.nnonopt - 1]);
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
	if (seconds_opt("heartbeat", opt.heartbeat, 5, &heartbeat) < 0 ||
	    seconds_opt("host-timeout", opt.host_timeout, 15, &host_timeout) < 0)
		return 1;
	vdc_hosts_configure(host_timeout, heartbeat);
	if (mkdir(opt.state, 0700) < 0 && errno != EEXIST) {
		fprintf(stderr, "vdcfs: cannot make %s: %s\n", opt.state, strerror(errno));
		return 1;
	}
	if (!realpath(opt.state, state)) {
		fprintf(stderr, "vdcfs: %s: %s\n", opt.state, strerror(errno));
		return 1;
	}
	fuse_opt_add_arg(&args, "-odefault_permissions,noatime,fsname=vdcfs,subtype=vdcfs");
	if (fuse_parse_cmdline(&args, &cl) < 0)
		goto done;   /* libfuse said why */
	if (!cl.mountpoint) {
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
	if (vdc_agentd_prepare(state, opt.listen, opt.advertise, &err) < 0) {
		fprintf(stderr, "vdcfs: %s\n", err.msg);
		goto done;
	}
	agentd = true;

	se = fuse_session_new(&args, &vdcfs_ops, sizeof(vdcfs_ops), NULL);
	if (!se)
		goto done;
	if (fuse_set_signal_handlers(se) < 0)
		goto done;
	handlers = true;
	if (fuse_session_mount(se, mnt) < 0)
		goto done;
	mounted = true;
	tune_readahead(mnt);
	if (fuse_daemonize(cl.foreground) < 0)
		goto done;
	if (vdc_model_open(state, kinds, sync_full, &err) < 0) {
		fprintf(stderr, "vdcfs: %s\n", err.msg);
		goto done;
	}
	notify_start(se);
	vdc_model_set_live_hook(live_changed);
	vdc_model_set_flush_hook(tell_kernel);
	vdc_event(NULL, "vdcfs started on %s with state %s", mnt, state);
	if (vdc_agentd_start(&err) < 0) {
		fprintf(stderr, "vdcfs: %s\n", err.msg);
		vdc_event(NULL, "error: %s", err.msg);
		goto stop;
	}
	if (cl.singlethread) {
		rc = fuse_session_loop(se) ? 1 : 0;
	} else {
		lc = fuse_loop_cfg_create();
		fuse_loop_cfg_set_clone_fd(lc, cl.clone_fd);
		fuse_loop_cfg_set_max_threads(lc, 4);
		fuse_loop_cfg_set_idle_threads(lc, 4);
		rc = fuse_session_loop_mt(se, lc) ? 1 : 0;
		fuse_loop_cfg_destroy(lc);
	}
stop:
	handle_free_all();   /* opened, never released: the mount is gone */
	vdc_agentd_stop();
	agentd = false;
	vdc_model_close();
	notify_stop();
done:
	if (agentd)
		vdc_agentd_stop();
	if (mounted)
		fuse_session_unmount(se);
	if (handlers)
		fuse_remove_signal_handlers(se);
	if (se)
		fuse_session_destroy(se);
	free(cl.mountpoint);
	free(opt.state);
	free(opt.sync);
	free(opt.listen);
	free(opt.advertise);
	free(opt.host_timeout);
	free(opt.heartbeat);
	free(opt.nonopt[0]);
	free(opt.nonopt[1]);
	fuse_opt_free_args(&args);
	return rc;
}
