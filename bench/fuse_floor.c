/*
 * bench/fuse_floor.c: the floor of bench/fuse_floor.sh, a FUSE file
 * system that does as little as a file system can and still let
 * `tar -xf` extract an archive into it:
 *
 *     bench-fuse-floor [-f] [-s] [-d] MOUNTPOINT
 *
 * Folders, regular files, symbolic links and special files live in a
 * table in memory; a write keeps no byte and only moves the file's size
 * to max(size, offset + length). Modes, owners and times are remembered.
 * It is mounted as vdcfs is: the low-level API, no write-back cache,
 * default_permissions and noatime, atomic O_TRUNC asked at init and, unless -s asks for one thread, the same multi-threaded loop
 * (4 threads at most, 4 idle). So what tar costs through it is what
 * FUSE itself costs on this machine, the least any FUSE file system
 * without the write-back cache could cost.
 *
 * At unmount it prints on stderr the number of WRITE requests it
 * answered and the bytes they carried:
 *
 *     bench-fuse-floor: 1234 writes, 631808 bytes
 */
#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* vdcfs's own timeouts (vdcfs/notify.h): a lookup or stat costs the same. */
#define FLOOR_TIMEOUT 60.0

/*
 * One file of the table. Its inode number is its index plus one, so the
 * root (FUSE_ROOT_ID, 1) is the first. Numbers are never reused: an
 * unlinked file keeps its slot with no name and no parent, so a number
 * the kernel still holds never names another file.
 */
struct floor_inode {
	fuse_ino_t parent;   /* 0: unlinked */
	char *name;
	char *target;        /* a symbolic link's */
	mode_t mode;
	uid_t uid;
	gid_t gid;
	dev_t rdev;
	off_t size;
	nlink_t nlink;
	struct timespec atime, mtime, ctime;
};

/*
 * The table, one lock for all of it. Lookups scan it: the archives the
 * benchmark extracts hold a few dozen files, so a scan costs less than
 * one FUSE round trip, and the writes, which are what is measured, take
 * the lock only to move a size.
 */
static struct floor_table {
	pthread_mutex_t lock;
	struct floor_inode *inodes;
	size_t count, alloc;
	uint64_t writes, bytes;
} table = { .lock = PTHREAD_MUTEX_INITIALIZER };

static struct floor_inode *floor_get(fuse_ino_t ino)
{
	if (ino < 1 || ino > table.count)
		return NULL;
	return &table.inodes[ino - 1];
}

static void floor_stat(fuse_ino_t ino, const struct floor_inode *n, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_mode = n->mode;
	st->st_nlink = n->nlink;
	st->st_uid = n->uid;
	st->st_gid = n->gid;
	st->st_rdev = n->rdev;
	st->st_size = n->size;
	st->st_blksize = 4096;
	st->st_blocks = (n->size + 511) / 512;
	st->st_atim = n->atime;
	st->st_mtim = n->mtime;
	st->st_ctim = n->ctime;
}

static void floor_entry(fuse_ino_t ino, const struct floor_inode *n, struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	e->ino = ino;
	e->attr_timeout = FLOOR_TIMEOUT;
	e->entry_timeout = FLOOR_TIMEOUT;
	floor_stat(ino, n, &e->attr);
}

/* The child of PARENT named NAME, or 0. Called with the lock held. */
static fuse_ino_t floor_find(fuse_ino_t parent, const char *name)
{
	for (size_t i = 0; i < table.count; i++)
		if (table.inodes[i].parent == parent && !strcmp(table.inodes[i].name, name))
			return i + 1;
	return 0;
}

/*
 * Add a file NAME of MODE in PARENT, owned by the caller of REQ; return
 * its number or a negative errno. Called with the lock held.
 */
static long floor_add(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct floor_inode *dir = floor_get(parent), *n;
	struct timespec now;

	if (!dir || !S_ISDIR(dir->mode))
		return -ENOTDIR;
	if (floor_find(parent, name))
		return -EEXIST;
	if (table.count == table.alloc) {
		size_t alloc = table.alloc ? 2 * table.alloc : 64;
		struct floor_inode *grown = realloc(table.inodes, alloc * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		table.inodes = grown;
		table.alloc = alloc;
		dir = floor_get(parent);
	}
	n = &table.inodes[table.count];
	memset(n, 0, sizeof(*n));
	n->name = strdup(name);
	if (!n->name)
		return -ENOMEM;
	clock_gettime(CLOCK_REALTIME, &now);
	n->parent = parent;
	n->mode = mode;
	n->uid = ctx->uid;
	n->gid = ctx->gid;
	n->nlink = S_ISDIR(mode) ? 2 : 1;
	n->atime = n->mtime = n->ctime = now;
	if (S_ISDIR(mode))
		dir->nlink++;
	dir->mtime = dir->ctime = now;
	return (long)++table.count;
}

/* Add a file and answer REQ with its entry; TARGET for a symbolic link. */
static void floor_make(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev,
		       const char *target, struct fuse_file_info *fi)
{
	struct fuse_entry_param e;
	long ino;

	pthread_mutex_lock(&table.lock);
	ino = floor_add(req, parent, name, mode);
	if (ino > 0) {
		struct floor_inode *n = floor_get((fuse_ino_t)ino);

		n->rdev = rdev;
		if (target) {
			n->target = strdup(target);
			n->size = (off_t)strlen(target);
		}
		floor_entry((fuse_ino_t)ino, n, &e);
	}
	pthread_mutex_unlock(&table.lock);
	if (ino < 0)
		fuse_reply_err(req, (int)-ino);
	else if (fi)
		fuse_reply_create(req, &e, fi);
	else
		fuse_reply_entry(req, &e);
}

static void floor_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	/*
	 * What vdcfs asks (vdcfs/vdcfs.c) but readdirplus, which tar -xf
	 * does not use; above all no write-back cache.
	 */
	if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
	conn->want &= ~(unsigned)(FUSE_CAP_READDIRPLUS | FUSE_CAP_READDIRPLUS_AUTO | FUSE_CAP_WRITEBACK_CACHE);
}

static void floor_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e;
	fuse_ino_t ino;

	pthread_mutex_lock(&table.lock);
	ino = floor_find(parent, name);
	if (ino)
		floor_entry(ino, floor_get(ino), &e);
	pthread_mutex_unlock(&table.lock);
	if (ino)
		fuse_reply_entry(req, &e);
	else
		fuse_reply_err(req, ENOENT);
}

static void floor_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct floor_inode *n;
	struct stat st;

	(void)fi;
	pthread_mutex_lock(&table.lock);
	n = floor_get(ino);
	if (n)
		floor_stat(ino, n, &st);
	pthread_mutex_unlock(&table.lock);
	if (n)
		fuse_reply_attr(req, &st, FLOOR_TIMEOUT);
	else
		fuse_reply_err(req, ENOENT);
}

static void floor_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
			  struct fuse_file_info *fi)
{
	struct floor_inode *n;
	struct timespec now;
	struct stat st;

	(void)fi;
	clock_gettime(CLOCK_REALTIME, &now);
	pthread_mutex_lock(&table.lock);
	n = floor_get(ino);
	if (n) {
		if (to_set & FUSE_SET_ATTR_MODE)
			n->mode = (n->mode & S_IFMT) | (attr->st_mode & 07777);
		if (to_set & FUSE_SET_ATTR_UID)
			n->uid = attr->st_uid;
		if (to_set & FUSE_SET_ATTR_GID)
			n->gid = attr->st_gid;
		if (to_set & FUSE_SET_ATTR_SIZE)
			n->size = attr->st_size;
		if (to_set & FUSE_SET_ATTR_ATIME)
			n->atime = attr->st_atim;
		if (to_set & FUSE_SET_ATTR_ATIME_NOW)
			n->atime = now;
		if (to_set & FUSE_SET_ATTR_MTIME)
			n->mtime = attr->st_mtim;
		if (to_set & FUSE_SET_ATTR_MTIME_NOW)
			n->mtime = now;
		n->ctime = (to_set & FUSE_SET_ATTR_CTIME) ? attr->st_ctim : now;
		floor_stat(ino, n, &st);
	}
	pthread_mutex_unlock(&table.lock);
	if (n)
		fuse_reply_attr(req, &st, FLOOR_TIMEOUT);
	else
		fuse_reply_err(req, ENOENT);
}

static void floor_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct floor_inode *n;
	char *target = NULL;

	pthread_mutex_lock(&table.lock);
	n = floor_get(ino);
	if (n && n->target)
		target = strdup(n->target);
	pthread_mutex_unlock(&table.lock);
	if (target)
		fuse_reply_readlink(req, target);
	else
		fuse_reply_err(req, n ? EINVAL : ENOENT);
	free(target);
}

static void floor_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	floor_make(req, parent, name, mode, rdev, NULL, NULL);
}

static void floor_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	floor_make(req, parent, name, S_IFDIR | (mode & 07777), 0, NULL, NULL);
}

static void floor_symlink(fuse_req_t req, const char *target, fuse_ino_t parent, const char *name)
{
	floor_make(req, parent, name, S_IFLNK | 0777, 0, target, NULL);
}

static void floor_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
			 struct fuse_file_info *fi)
{
	floor_make(req, parent, name, S_IFREG | (mode & 07777), 0, NULL, fi);
}

/*
 * Take NAME out of PARENT: tar unlinks the placeholder of a delayed
 * symbolic link before making the link. DIR says whether a folder (rmdir)
 * or anything else (unlink) is expected.
 */
static void floor_remove(fuse_req_t req, fuse_ino_t parent, const char *name, bool dir)
{
	fuse_ino_t ino;
	int err = 0;

	pthread_mutex_lock(&table.lock);
	ino = floor_find(parent, name);
	if (!ino) {
		err = ENOENT;
	} else if (S_ISDIR(floor_get(ino)->mode) != dir) {
		err = dir ? ENOTDIR : EISDIR;
	} else if (dir) {
		for (size_t i = 0; i < table.count && !err; i++)
			if (table.inodes[i].parent == ino)
				err = ENOTEMPTY;
	}
	if (!err) {
		struct floor_inode *n = floor_get(ino);

		n->parent = 0;
		n->nlink = 0;
		if (dir)
			floor_get(parent)->nlink--;
	}
	pthread_mutex_unlock(&table.lock);
	fuse_reply_err(req, err);
}

static void floor_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	floor_remove(req, parent, name, false);
}

static void floor_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	floor_remove(req, parent, name, true);
}

static void floor_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	if (fi->flags & O_TRUNC) {
		pthread_mutex_lock(&table.lock);
		if (floor_get(ino))
			floor_get(ino)->size = 0;
		pthread_mutex_unlock(&table.lock);
	}
	fuse_reply_open(req, fi);
}

/* The bytes are dropped; reading a file gives nothing back (end of file). */
static void floor_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	(void)ino;
	(void)size;
	(void)off;
	(void)fi;
	fuse_reply_buf(req, NULL, 0);
}

static void floor_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
			struct fuse_file_info *fi)
{
	struct floor_inode *n;

	(void)buf;
	(void)fi;
	pthread_mutex_lock(&table.lock);
	n = floor_get(ino);
	if (n && off + (off_t)size > n->size)
		n->size = off + (off_t)size;
	table.writes++;
	table.bytes += size;
	pthread_mutex_unlock(&table.lock);
	if (n)
		fuse_reply_write(req, size);
	else
		fuse_reply_err(req, ENOENT);
}

/* Nothing is kept, so there is nothing to flush, sync or let go of. */
static void floor_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	fuse_reply_err(req, 0);
}

static void floor_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	fuse_reply_err(req, 0);
}

static void floor_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	(void)ino;
	(void)datasync;
	(void)fi;
	fuse_reply_err(req, 0);
}

/*
 * A folder's entries at offsets: 0 is ".", 1 is "..", and N (from 2) the
 * file numbered N if it is in the folder; each entry gives the offset of
 * the next. Only names and types are given (no readdirplus).
 */
static void floor_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	char *buf = malloc(size);
	size_t used = 0;
	struct stat st;

	(void)fi;
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	pthread_mutex_lock(&table.lock);
	if (!floor_get(ino)) {
		pthread_mutex_unlock(&table.lock);
		free(buf);
		fuse_reply_err(req, ENOENT);
		return;
	}
	for (off_t at = off; at < 1 + (off_t)table.count; at++) {
		const char *name;
		size_t len;

		memset(&st, 0, sizeof(st));
		if (at == 0) {
			name = ".";
			st.st_ino = ino;
			st.st_mode = S_IFDIR;
		} else if (at == 1) {
			name = "..";
			st.st_ino = ino == FUSE_ROOT_ID ? ino : floor_get(ino)->parent;
			st.st_mode = S_IFDIR;
		} else if (table.inodes[at - 1].parent == ino) {
			name = table.inodes[at - 1].name;
			st.st_ino = (fuse_ino_t)at;
			st.st_mode = table.inodes[at - 1].mode;
		} else {
			continue;
		}
		len = fuse_add_direntry(req, buf + used, size - used, name, &st, at + 1);
		if (len > size - used)
			break;
		used += len;
	}
	pthread_mutex_unlock(&table.lock);
	fuse_reply_buf(req, buf, used);
	free(buf);
}

static const struct fuse_lowlevel_ops floor_ops = {
	.init = floor_init,
	.lookup = floor_lookup,
	.getattr = floor_getattr,
	.setattr = floor_setattr,
	.readlink = floor_readlink,
	.mknod = floor_mknod,
	.mkdir = floor_mkdir,
	.unlink = floor_unlink,
	.rmdir = floor_rmdir,
	.symlink = floor_symlink,
	.open = floor_open,
	.read = floor_read,
	.write = floor_write,
	.flush = floor_flush,
	.release = floor_release,
	.fsync = floor_fsync,
	.readdir = floor_readdir,
	.create = floor_create,
};

/* The root folder, owned by whoever mounts, before the first request. */
static int floor_root(void)
{
	struct floor_inode *root;
	struct timespec now;

	table.alloc = 64;
	table.inodes = calloc(table.alloc, sizeof(*table.inodes));
	if (!table.inodes)
		return -ENOMEM;
	root = &table.inodes[0];
	root->name = strdup("");
	if (!root->name)
		return -ENOMEM;
	clock_gettime(CLOCK_REALTIME, &now);
	root->mode = S_IFDIR | 0755;
	root->uid = getuid();
	root->gid = getgid();
	root->nlink = 2;
	root->atime = root->mtime = root->ctime = now;
	table.count = 1;
	return 0;
}

static void floor_free(void)
{
	for (size_t i = 0; i < table.count; i++) {
		free(table.inodes[i].name);
		free(table.inodes[i].target);
	}
	free(table.inodes);
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct fuse_cmdline_opts cl = { 0 };
	struct fuse_session *se = NULL;
	struct fuse_loop_config *lc;
	bool handlers = false, mounted = false;
	int rc = 1;

	if (floor_root() < 0) {
		fprintf(stderr, "bench-fuse-floor: out of memory\n");
		return 1;
	}
	/* A copy of the arguments (libfuse adds only to its own), and vdcfs's mount options. */
	for (int i = 0; i < argc; i++)
		if (fuse_opt_add_arg(&args, argv[i]) < 0)
			goto done;
	if (fuse_opt_add_arg(&args, "-odefault_permissions,noatime,fsname=floor,subtype=floor") < 0)
		goto done;
	if (fuse_parse_cmdline(&args, &cl) < 0)
		goto done;
	if (cl.show_help || !cl.mountpoint) {
		fprintf(stderr, "usage: %s [-f] [-s] [-d] MOUNTPOINT\n", argv[0]);
		goto done;
	}
	se = fuse_session_new(&args, &floor_ops, sizeof(floor_ops), NULL);
	if (!se)
		goto done;
	if (fuse_set_signal_handlers(se) < 0)
		goto done;
	handlers = true;
	if (fuse_session_mount(se, cl.mountpoint) < 0)
		goto done;
	mounted = true;
	if (fuse_daemonize(cl.foreground) < 0)
		goto done;
	if (cl.singlethread) {
		rc = fuse_session_loop(se) ? 1 : 0;
	} else {
		/* vdcfs's loop: at most 4 threads, 4 kept idle. */
		lc = fuse_loop_cfg_create();
		fuse_loop_cfg_set_clone_fd(lc, cl.clone_fd);
		fuse_loop_cfg_set_max_threads(lc, 4);
		fuse_loop_cfg_set_idle_threads(lc, 4);
		rc = fuse_session_loop_mt(se, lc) ? 1 : 0;
		fuse_loop_cfg_destroy(lc);
	}
	fprintf(stderr, "bench-fuse-floor: %" PRIu64 " writes, %" PRIu64 " bytes\n", table.writes, table.bytes);
done:
	if (mounted)
		fuse_session_unmount(se);
	if (handlers)
		fuse_remove_signal_handlers(se);
	if (se)
		fuse_session_destroy(se);
	free(cl.mountpoint);
	fuse_opt_free_args(&args);
	floor_free();
	return rc;
}
