/*
 * The FUSE operations that make, remove and rename entries: create, mkdir,
 * rmdir, unlink, symlink and rename (namespace.h). Like the rest of the
 * operations (vdcfs.c) each turns its inode numbers into nodes (tree.c),
 * takes the model's write lock, calls the model and ends in exactly one
 * reply, a failure's sentence reported first (fail()).
 *
 * A fixed entry of an object is never removed, only hidden (set_hidden),
 * and comes back when it is made again; anything else a tool makes in an
 * object folder is a scratch file, which a rename can move onto a fixed
 * entry (an editor's save, rsync).
 */
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "counters.h"
#include "frontend.h"
#include "handle.h"
#include "namespace.h"
#include "notify.h"

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

void vdcfs_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
			 struct fuse_file_info *fi)
{
	struct vdc_err err = VDC_ERR_INIT;
	__do_strbuf struct strbuf sname = STRBUF_INIT;
	struct fuse_entry_param e;
	struct vdc_scratch *s;
	struct node dir, n;
	bool exists;
	int rc;

	vdc_count_fuse(VDC_FOP_CREATE);
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

void vdcfs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct vdc_err err = VDC_ERR_INIT;
	struct fuse_entry_param e;
	struct node dir, n;
	struct vdc_obj *obj = NULL;
	bool exists;
	int rc;

	vdc_count_fuse(VDC_FOP_MKDIR);
	(void)mode;
	begin(req);
	volume_flush_for(parent);   /* a snapshot holds what was written before it */
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
		rc = vdc_obj_create(dir.kind->childdirs[dir.idx].kind, dir.obj, name, strlen(name), ctx->uid, ctx->gid, &obj, &err);
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

void vdcfs_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct node dir, n;
	unsigned i;
	int rc;

	vdc_count_fuse(VDC_FOP_RMDIR);
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
		rc = n.obj->children[n.idx].count ? -ENOTEMPTY : 0;
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

void vdcfs_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct node dir, n;
	int rc;

	vdc_count_fuse(VDC_FOP_UNLINK);
	begin(req);
	vdc_model_wrlock();
	rc = resolve_visible(parent, name, &dir, &n);
	if (rc < 0)
		goto out;
	switch (n.type) {
	case N_ATTR: case N_CTL: case N_INPUT: case N_DATA: case N_RUNFILE: case N_TAG: case N_GFILE:
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

void vdcfs_symlink(fuse_req_t req, const char *target, fuse_ino_t parent, const char *name)
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

	vdc_count_fuse(VDC_FOP_SYMLINK);
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
	case N_INPUT:
		rc = read_backing(src, 65536, &text, err);
		if (rc == 0 && text.len)
			rc = dst->kind->input->write(dst->obj, text.buf, text.len, err);
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

void vdcfs_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
			 const char *newname, unsigned int flags)
{
	struct vdc_err err = VDC_ERR_INIT;
	__do_strbuf struct strbuf sname = STRBUF_INIT;
	struct node sdir, src, ddir, dst;
	bool exists;
	int rc;

	vdc_count_fuse(VDC_FOP_RENAME);
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
			const char *dname = vdc_kind_data_name(dst.kind);

			vdc_model_unlock();
			rc = volume_take_scratch(sino, spath, dino, &err);
			fuse_reply_err(req, -rc);
			/*
			 * The kernel now calls data by the scratch's inode, which
			 * the size changes of run/ never name: make it look data
			 * up again (after the reply: the rename holds the folder).
			 */
			if (rc == 0)
				kernel_inval_entry(dirino, dname, strlen(dname));
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
		    (ddir.type == N_KINDDIR && ddir.kind != src.kind) ||
		    (ddir.type == N_CHILDDIR && (unsigned)ddir.idx != src.obj->childdir)) {
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
