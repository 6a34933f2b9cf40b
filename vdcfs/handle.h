/*
 * Open files: the handle the kernel gets for every open, and the table of
 * data back ends that serve its reads and writes.
 *
 * A handle has one back end, chosen when it is opened and never changed:
 *   handle_text  - text vdcfs makes up or takes (attributes, ctl, run/
 *                  files, tags, run/events, hosts/join), in handle.c;
 *   handle_file  - bytes in a backing file of the state folder (the data
 *                  of kinds without a LUN, scratch files), in handle.c;
 *   handle_iscsi - a volume's data on its LUN, through the handle's own
 *                  iSCSI session (handle_iscsi.c).
 * The operations (vdcfs.c) call h->be's slot and nothing else: read, write
 * and lseek end in exactly one reply of their own; flush and fsync return
 * 0 or a negative errno for the operation to reply with; release runs at
 * the last close, before handle_free(). A NULL flush, fsync or release has
 * nothing to do.
 *
 * Locking: read, write and lseek are called without the model's lock and
 * take it themselves as they need it; so is every function of this header
 * unless it says otherwise.
 */
#ifndef VDCFS_HANDLE_H
#define VDCFS_HANDLE_H

#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "iscsi.h"
#include "tree.h"
#include "wgather.h"

struct handle;

struct handle_backend {
	const char *name;
	void (*read)(fuse_req_t req, struct handle *h, size_t size, off_t off);
	void (*write)(fuse_req_t req, struct handle *h, const char *data, size_t size, off_t off);
	void (*lseek)(fuse_req_t req, struct handle *h, off_t off, int whence);
	int (*flush)(struct handle *h);
	int (*fsync)(struct handle *h, int datasync);
	void (*release)(struct handle *h);
};

extern const struct handle_backend handle_text, handle_file, handle_iscsi;

/* The bytes one handle of a volume's data gathers before it sends them (wgather.h). */
#define VOLUME_GATHER ((size_t)1 << 20)

/*
 * An open file. The kernel may send several requests on one handle at
 * once (threads of a process sharing a descriptor, pread), so a request
 * never changes what another one on the same handle reads without a lock:
 * ino, type, be, fd, lun, vol and wr are set at open and never change; buf and
 * the flags of a value being written change only under the model's write
 * lock and are read under its read lock (a live file is rendered into a
 * buffer of the request, never into buf); the fields of a volume's data
 * that reads and writes update are guarded by the handle's own `lock`;
 * its gathered writes by `wlock`, held while they are sent (taken before
 * the model's lock, never inside it, and `lock` is never held while
 * taking `wlock`).
 */
struct handle {
	uint64_t ino;
	enum node_type type;
	const struct handle_backend *be;   /* set at open, never changed */
	int fd;             /* N_DATA and N_SCRATCH: the backing file, else -1 */
	struct strbuf buf;  /* the text read, or the value being written */
	bool truncated;     /* opened with O_TRUNC and not written since */
	bool written;       /* a write succeeded */
	bool pending;       /* a multi-line value waits for close */
	bool failed;        /* a write failed: commit nothing more */
	bool rendered;      /* buf holds the whole file, made at open (run/metrics.prom, dashboard.html) */
	/* A volume's data (kind->block): its own session to the LUN. */
	struct vdc_iscsi *lun;
	int64_t vol;        /* the volume's id (it may be renamed while open) */
	bool wr;            /* opened for writing */
	int64_t pin;        /* a read at one point in time: its pin (kinds/lun.h), or 0 */
	pthread_mutex_t lock;   /* guards the fields below */
	uint64_t size;      /* end of file: the size data showed at open, or grew to */
	bool dirty;         /* written since the last SYNCHRONIZE CACHE */
	uint64_t seq_end;   /* where the last read or write ended */
	time_t progress_at; /* when run/progress was last set (CLOCK_MONOTONIC s) */
	bool progress;      /* run/progress shows this handle's copy */
	pthread_mutex_t wlock;  /* guards the two fields below */
	struct wgather wg;  /* writes not yet sent to the LUN (handle_iscsi.c) */
	int wg_err;         /* a negative errno: sending them failed; not yet returned */
	int refs;           /* the list's and handle_hold_all()'s; under the list's lock */
	int64_t gather_vol; /* handle_hold_all() finds it by this id (0: never); ditto */
	/* copy_file_range into it (handle_clone.c, guarded by that file's lock, as `truncated` of a LUN's handle) */
	int64_t clone_src;          /* its bytes are a clone of object clone_src's (0: none) */
	uint64_t clone_ticket[2];   /* the kind's ticket for clone_state */
	uint64_t clone_gen[2];      /* the write counters of source and destination then */
	struct handle *prev, *next;   /* every open handle, see handle_new */
};

/* A new handle on the list of open ones, with back end `be` and no file yet. */
struct handle *handle_new(const struct handle_backend *be);
/*
 * Take a handle off the list, close what it holds and free it; a handle
 * held by handle_hold_all() goes at its last handle_put().
 */
void handle_free(struct handle *h);
/* From now on handle_hold_all(vol) finds handle `h` (set up in full). */
void handle_gathers(struct handle *h, int64_t vol);
/*
 * Every open handle that handle_gathers() named with `vol`, each held
 * until handle_put(): *out is an array to free(). Returns how many.
 */
size_t handle_hold_all(int64_t vol, struct handle ***out);
void handle_put(struct handle *h);
/* Free the handles the kernel never released (at exit, the mount gone). */
void handle_free_all(void);
/* Is a handle other than `h` (NULL: any) open for writing on the data of object `vol`? */
bool handle_other_writer(const struct handle *h, int64_t vol);

static inline struct handle *fh(struct fuse_file_info *fi)
{
	return (struct handle *)(uintptr_t)fi->fh;
}

/*
 * Open file node `n` (not a volume's data) for fi->flags, `created` by
 * this request, and fill fi for the reply. The model lock is held.
 */
int handle_open(const struct node *n, struct fuse_file_info *fi, bool created);

/* ---- a volume's data (handle_iscsi.c); none of these holds the model's lock ---- */

/*
 * Open data of a volume: wait for the volume, log in, and with `trunc`
 * discard every block. Fills fi for the reply.
 */
int volume_open(fuse_ino_t ino, struct fuse_file_info *fi, bool trunc);
/*
 * Send what every open handle of volume `vol` gathered to its LUN: before
 * anything that reaches the LUN around them (truncate, a scratch file
 * renamed onto data). A failure is the handle's to return (handle_iscsi.c).
 */
void volume_flush_all(int64_t vol);
/*
 * The same for the object that folder or file `ino` belongs to, if it
 * has bytes on a LUN: before a snapshot is made in it (mkdir) or a verb
 * written to its ctl, so they come after what was written before them.
 */
void volume_flush_for(fuse_ino_t ino);
/* truncate(2) of a volume's data, through open handle `h` or none. */
int volume_set_size(fuse_ino_t ino, struct handle *h, uint64_t size);
/*
 * A scratch file (inode `sino`, its bytes at `spath`) renamed onto the
 * volume's data `dino`: copy it to the LUN; then data stands for `sino`.
 */
int volume_take_scratch(uint64_t sino, const char *spath, fuse_ino_t dino, struct vdc_err *err);

/*
 * ---- copy_file_range of a LUN's data (handle_clone.c); none holds the model's lock ----
 *
 * The operation itself (vdcfs_ops); and what every write to a handle
 * calls around the back end's write (only a LUN's handle is concerned:
 * it waits while a clone into or from its object runs, and ends the
 * handle's "already a clone" state), and a truncate of object `id`'s
 * data (through `h` or none) before it.
 */
void clone_copy_file_range(fuse_req_t req, fuse_ino_t ino_in, off_t off_in, struct fuse_file_info *fi_in,
			   fuse_ino_t ino_out, off_t off_out, struct fuse_file_info *fi_out, size_t len, int flags);
/* begin gives what end takes (0: not a LUN's handle): end never reads h, which the write's reply may free. */
int64_t clone_write_begin(struct handle *h);
void clone_write_end(int64_t counted);
void clone_block_changed(int64_t id, struct handle *h);

#endif
