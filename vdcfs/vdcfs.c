/*
 * vdcfs: the control plane's FUSE front end (libfuse's low-level API).
 *
 * This file holds the fuse_lowlevel_ops table and nothing that knows about
 * a particular kind: each operation turns its inode number into a node
 * (tree.c), takes the model lock, calls one model function and ends in
 * exactly one reply. It is the only place where an error becomes a reply:
 * every failing mutation leaves its sentence in the object's run/err (or in
 * run/events for the data center) before its errno goes back to the kernel.
 *
 * Inode numbers are the tree's own and stable (tree.c), so the kernel can
 * cache entries: a second for names and attributes, and nothing for the
 * attributes of live files in run/, whose size changes without a write.
 *
 * Writes to attribute files follow docs/tree.md: a single-line value is
 * validated and committed by the write(2) that carries it; a multi-line
 * value is checked as it arrives and committed when the file is closed.
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
#include "host.h"
#include "iscsi.h"
#include "kinds.h"
#include "notify.h"
#include "tree.h"
#include "volume.h"

static const struct vdc_kind *const kinds[] = {
	/* A restore needs link targets before their sources: keep this order. */
	&vdc_kind_images, &vdc_kind_ssh_keys, &vdc_kind_security_groups, &vdc_kind_networks,
	&vdc_kind_volumes, &vdc_kind_instances, &vdc_kind_hosts,
	&vdc_kind_quotas,   /* last: a restore makes the objects before the limits on them */
	NULL,
};

static bool no_opendir;   /* the kernel can skip OPENDIR and RELEASEDIR */

/*
 * An open file. The kernel may send several requests on one handle at
 * once (threads of a process sharing a descriptor, pread), so a request
 * never changes what another one on the same handle reads without a lock:
 * ino, type, fd, lun, vol and wr are set at open and never change; buf and
 * the flags of a value being written change only under the model's write
 * lock and are read under its read lock (a live file is rendered into a
 * buffer of the request, never into buf); the fields of a volume's data
 * that reads and writes update are guarded by the handle's own `lock`.
 */
struct handle {
	uint64_t ino;
	enum node_type type;
	int fd;             /* N_DATA and N_SCRATCH: the backing file, else -1 */
	struct strbuf buf;  /* the text read, or the value being written */
	bool truncated;     /* opened with O_TRUNC and not written since */
	bool written;       /* a write succeeded */
	bool pending;       /* a multi-line value waits for close */
	bool failed;        /* a write failed: commit nothing more */
	/* A volume's data (kind->data_iscsi): its own session to the LUN. */
	struct vdc_iscsi *lun;
	int64_t vol;        /* the volume's id (it may be renamed while open) */
	bool wr;            /* opened for writing */
	pthread_mutex_t lock;   /* guards the fields below */
	uint64_t size;      /* end of file: the size data showed at open, or grew to */
	bool dirty;         /* written since the last SYNCHRONIZE CACHE */
	uint64_t seq_end;   /* where the last read or write ended */
	time_t progress_at; /* when run/progress was last set (CLOCK_MONOTONIC s) */
	bool progress;      /* run/progress shows this handle's copy */
	struct handle *prev, *next;   /* every open handle, see handle_new */
};

/*
 * Every open handle is on one list, so that those the kernel never
 * released (a RELEASE still queued when the mount went away) are freed
 * at exit rather than leaked.
 */
static pthread_mutex_t handles_lock = PTHREAD_MUTEX_INITIALIZER;
static struct handle *handles;

static struct handle *handle_new(void)
{
	struct handle *h = xcalloc(1, sizeof(*h));

	h->fd = -1;
	strbuf_init(&h->buf, 0);
	pthread_mutex_init(&h->lock, NULL);
	pthread_mutex_lock(&handles_lock);
	h->next = handles;
	if (handles)
		handles->prev = h;
	handles = h;
	pthread_mutex_unlock(&handles_lock);
	return h;
}

static struct handle *fh(struct fuse_file_info *fi)
{
	return (struct handle *)(uintptr_t)fi->fh;
}

/*
 * Note the calling process (the fresh rule in model.h depends on it) and
 * user (what run/events shows, and whose a failure about no object is).
 */
static void begin(fuse_req_t req)
{
	tree_caller = fuse_req_ctx(req)->pid;
	tree_caller_uid = fuse_req_ctx(req)->uid;
}

/*
 * Report a failure to its object, or, about none, to the data center's
 * run/events for the user who asked (begin() said who), and return its errno.
 */
static int fail(const struct node *n, const struct vdc_err *err, int rc)
{
	struct vdc_obj *o = n ? tree_owner(n) : NULL;

	if (o)
		vdc_report(o, err);
	else
		vdc_report_uid(tree_caller_uid, err);
	return rc;
}

static bool is_backed(enum node_type t)
{
	return t == N_DATA || t == N_SCRATCH;
}

/* Files whose content changes without a write: run/ files and run/events. */
static bool is_live(enum node_type t)
{
	return t == N_RUNFILE || t == N_GFILE;
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

static int open_backing(const struct node *n, int flags, struct handle *h)
{
	__do_strbuf struct strbuf p = STRBUF_INIT;

	tree_backing_path(n, &p);
	h->fd = open(p.buf, (flags & (O_ACCMODE | O_TRUNC | O_APPEND)) | O_CLOEXEC);
	return h->fd < 0 ? -errno : 0;
}

static void handle_free(struct handle *h)
{
	pthread_mutex_lock(&handles_lock);
	if (h->prev)
		h->prev->next = h->next;
	else
		handles = h->next;
	if (h->next)
		h->next->prev = h->prev;
	pthread_mutex_unlock(&handles_lock);
	vdc_iscsi_close(h->lun);
	if (h->fd >= 0)
		close(h->fd);
	strbuf_release(&h->buf);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

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

static bool is_volume_data(const struct node *n)
{
	return n->type == N_DATA && n->kind->data_iscsi;
}

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
static int volume_endpoint(fuse_ino_t ino, bool wr, struct vdc_volume_ep *ep, int64_t *vol,
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
			if (!vdc_volume_placed(n.obj)) {
				/* No storage host: no bytes anywhere, nothing to wait for. */
				vdc_model_unlock();
				memset(ep, 0, sizeof(*ep));
				*size = 0;
				return 1;
			}
			rc = vdc_volume_endpoint(n.obj, ep, err);
		}
		if (rc == 0 && wr)
			rc = vdc_volume_writable(n.obj, err);
		if (rc == 0)
			*size = tree_data_size(n.obj);
		vdc_model_unlock();
		if (rc != -EAGAIN || waited >= VOLUME_WAIT_MS)
			return rc;
		sleep_ms(VOLUME_POLL_MS);
		waited += VOLUME_POLL_MS;
	}
}

static int volume_connect(const struct vdc_volume_ep *ep, struct vdc_iscsi **lun, struct vdc_err *err)
{
	struct vdc_iscsi_target t = {
		.portal = ep->portal, .iqn = ep->iqn, .initiator = ep->initiator,
		.user = ep->user, .secret = ep->secret, .lun = ep->lun,
	};

	return vdc_iscsi_open(&t, lun, err);
}

/*
 * Open data of a volume (no lock held): wait for the volume, log in, and
 * with `trunc` discard every block. Fills fi for the reply.
 */
static int volume_open(fuse_ino_t ino, struct fuse_file_info *fi, bool trunc)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_volume_ep ep;
	struct handle *h;
	bool wr = (fi->flags & O_ACCMODE) != O_RDONLY, unplaced;
	int64_t vol = 0;
	uint64_t size = 0;
	int rc;

	rc = volume_endpoint(ino, wr, &ep, &vol, &size, &err);
	if (rc < 0)
		return vol ? volume_fail(vol, &err, rc) : rc;
	unplaced = rc == 1;
	h = handle_new();
	h->ino = ino;
	h->type = N_DATA;
	h->vol = vol;
	h->size = size;
	h->wr = wr;
	rc = unplaced ? 0 : volume_connect(&ep, &h->lun, &err);
	if (rc == 0 && trunc && wr && h->lun)
		rc = vdc_iscsi_discard_all(h->lun, &err);
	explicit_bzero(ep.secret, sizeof(ep.secret));
	if (rc < 0) {
		handle_free(h);
		return volume_fail(vol, &err, rc);
	}
	/*
	 * Through the page cache: tar --sparse reads 512 bytes at a time,
	 * which the kernel's readahead turns into large reads. An open keeps
	 * what the cache held only while nothing but vdcfs could have
	 * written the volume since the last open (vdc_volume_cache_ok): once
	 * a guest or a restore may have, it starts afresh, so a reader sees
	 * what a guest wrote before it opened data.
	 */
	fi->direct_io = 0;
	vdc_model_wrlock();
	{
		struct vdc_obj *o = vdc_obj_by_id(vol);

		fi->keep_cache = o && h->lun && vdc_volume_cache_ok(o);
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
		vdc_volume_set_progress(vol, text);
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
	rc = vol ? vdc_volume_writable(vol, &err) : -ENOENT;
	if (rc == 0 && !h->lun)
		rc = vdc_err_set(&err, -EAGAIN, "volume %s has no storage host yet, so it can hold no bytes; a storage host must join (or have room) first",
				 vol->name);
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

/*
 * truncate(2) of a volume's data (no lock held): to 0 discards every
 * block, to the size it has changes nothing, to a larger size (whole MiB)
 * grows the volume like writing `size`, to a smaller one is refused.
 */
static int volume_set_size(fuse_ino_t ino, struct handle *h, uint64_t size)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_iscsi *tmp = NULL;
	struct vdc_volume_ep ep;
	struct vdc_obj *vol;
	int64_t id = 0;
	uint64_t cur = 0;
	char text[32];
	int rc = 0, a;

	vdc_model_rdlock();
	{
		struct node n;

		rc = tree_from_ino(ino, &n);
		if (rc == 0) {
			id = n.obj->id;
			cur = tree_data_size(n.obj);
			if (size == 0)
				rc = vdc_volume_writable(n.obj, &err);
		}
	}
	vdc_model_unlock();
	if (rc < 0)
		return id ? volume_fail(id, &err, rc) : rc;
	if (size == cur)
		return 0;
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
	a = vol ? vdc_attr_index(vol->kind, "size", 4) : -1;
	rc = a < 0 ? -ENOENT : vdc_attr_set(vol, (unsigned)a, text, strlen(text), &err);
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

/* Open a file node. The model lock is held. */
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
	h = handle_new();
	h->ino = tree_ino(n);
	h->type = n->type;
	if (is_backed(n->type)) {
		rc = open_backing(n, fi->flags | (created ? O_TRUNC : 0), h);
		if (rc < 0) {
			handle_free(h);
			return rc;
		}
	} else if (n->type == N_ATTR && (created || (fi->flags & O_TRUNC))) {
		/*
		 * The new value arrives with write(2). Truncation alone commits
		 * at the last close (a shell closes a dup of the file before it
		 * writes, so an earlier commit would be wrong).
		 */
		h->truncated = true;
	} else if (n->type != N_CTL && !is_live(n->type)) {
		/* Live files are shown afresh at every read (vdcfs_read). */
		tree_show(n, &h->buf);
	}
	/*
	 * Live files go around the page cache: a reader that keeps them open
	 * (tail -f) must get what was added, not a cached page. Other files
	 * change only through the mount and use it, which spares a round
	 * trip per read. Only a multi-line value needs FLUSH.
	 */
	fi->direct_io = is_live(n->type);
	fi->keep_cache = n->type == N_TAG || (n->type == N_GFILE && n->idx != G_RUN_EVENTS);
	fi->noflush = !(wr && n->type == N_ATTR && (n->kind->attrs[n->idx].flags & VDC_ATTR_MULTILINE));
	fi->fh = (uintptr_t)h;
	return 0;
}

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
			rc = open_node(&n, fi, false);
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
	__do_free char *buf = NULL;
	__do_strbuf struct strbuf live = STRBUF_INIT;
	const struct strbuf *text = &h->buf;
	ssize_t r;

	(void)ino;
	if (h->lun) {
		volume_read(req, h, size, off);
		return;
	}
	if (h->fd >= 0) {
		buf = xmalloc(size);
		r = pread(h->fd, buf, size, off);
		if (r < 0)
			fuse_reply_err(req, errno);
		else
			fuse_reply_buf(req, buf, (size_t)r);
		return;
	}
	/*
	 * A write on the same handle may replace h->buf (attr_write, under
	 * the write lock): copy the slice under the read lock, reply after.
	 * Live files are read as they are now, for this reader (tail -f sees
	 * what comes), into a buffer of this request: other reads of the same
	 * handle run at the same time under the read lock.
	 */
	begin(req);
	vdc_model_rdlock();
	if (is_live(h->type)) {
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

static void vdcfs_write(fuse_req_t req, fuse_ino_t ino, const char *data, size_t size, off_t off,
			struct fuse_file_info *fi)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct handle *h = fh(fi);
	struct node n;
	ssize_t w;
	int rc;

	(void)ino;
	if (h->lun) {
		volume_write(req, h, data, size, off);
		return;
	}
	if (h->fd >= 0) {
		w = pwrite(h->fd, data, size, off);
		if (w < 0)
			fuse_reply_err(req, errno);
		else
			fuse_reply_write(req, (size_t)w);
		return;
	}
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

static void vdcfs_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	begin(req);
	if (fh(fi)->lun)
		fuse_reply_err(req, -volume_sync(fh(fi)));
	else
		fuse_reply_err(req, -commit_handle(fh(fi), false));
}

static void vdcfs_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct handle *h = fh(fi);

	(void)ino;
	if (h->lun)
		volume_release(h);
	commit_handle(h, true);
	handle_free(h);
	fuse_reply_err(req, 0);
}

static void vdcfs_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	struct handle *h = fh(fi);

	(void)ino;
	if (h->lun)
		fuse_reply_err(req, -volume_sync(h));
	else if (h->fd >= 0 && (datasync ? fdatasync(h->fd) : fsync(h->fd)) < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_err(req, 0);
}

static void vdcfs_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence,
			struct fuse_file_info *fi)
{
	struct handle *h = fh(fi);
	size_t len;
	off_t r;

	(void)ino;
	if (h->lun) {
		volume_lseek(req, h, off, whence);
		return;
	}
	if (h->fd >= 0) {
		r = lseek(h->fd, off, whence);
		if (r < 0)
			fuse_reply_err(req, errno);
		else
			fuse_reply_lseek(req, r);
		return;
	}
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
		rc = open_node(&n, fi, true);
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
		rc = open_node(&n, fi, true);
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

/*
 * A scratch file renamed onto a volume's data (rsync without --inplace):
 * its bytes are copied to the volume, its holes discarded, outside the
 * model's lock; then the scratch is gone and data stands for its inode.
 */
static int volume_take_scratch(uint64_t sino, const char *spath, fuse_ino_t dino, struct vdc_err *err)
{
	struct vdc_volume_ep ep;
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
		rc = end == 0 ? 0 : vdc_err_set(err, -EAGAIN, "the volume has no storage host yet, so it can hold no bytes");
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
	while (handles)   /* opened, never released: the mount is gone */
		handle_free(handles);
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
