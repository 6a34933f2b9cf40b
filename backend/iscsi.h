/*
 * Layer: support, under the front end: it calls nothing of the model.
 *
 * A small libiscsi client for the bytes of a volume (volumes/NAME/data).
 *
 * A `struct vdc_iscsi` is one iSCSI session to one LUN, logged in with
 * CHAP, and one I/O thread that owns the libiscsi context: a context is
 * not thread-safe, so callers on any thread hand their commands to that
 * thread and sleep until the command completes. Many commands from many
 * threads are in flight on the one session at once.
 *
 * Sequential reads are served from a readahead of whole chunks (1 MiB,
 * up to four ahead of the reader), read ahead on the same session while
 * the reader copies out the chunk before. A write through the session
 * drops the chunks it overlaps; a write by another initiator (a guest) is
 * not seen in a chunk already read ahead, which lives a fraction of a
 * second on a sequential reader.
 *
 * Every function returns 0 (or a count) or a negative errno with the
 * sentence in `err`, and is safe to call from several threads at once.
 */
#ifndef VDC_ISCSI_H
#define VDC_ISCSI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

struct vdc_iscsi;

/* Where a LUN is and who vdcfs is to it. */
struct vdc_iscsi_target {
	const char *portal;      /* "198.51.100.17:3260" */
	const char *iqn;         /* the target */
	const char *initiator;   /* vdcfs's own initiator name */
	const char *user;        /* CHAP; NULL or "" for none */
	const char *secret;
	int lun;
};

/* Log in to the target and read the LUN's capacity and limits. */
int vdc_iscsi_open(const struct vdc_iscsi_target *t, struct vdc_iscsi **out, struct vdc_err *err);
/* Wait for the commands in flight, log out and free. NULL is accepted. */
void vdc_iscsi_close(struct vdc_iscsi *s);

/* The LUN's size in bytes, as READ CAPACITY last said. */
uint64_t vdc_iscsi_size(const struct vdc_iscsi *s);
uint32_t vdc_iscsi_block_size(const struct vdc_iscsi *s);
/* Ask the target for its capacity again (after the volume grew). */
int vdc_iscsi_refresh(struct vdc_iscsi *s, struct vdc_err *err);

/*
 * Read `len` bytes at `off` into `buf`: the count read, short only at the
 * end of the LUN (0 at or past it). Any offset and length work.
 */
ssize_t vdc_iscsi_read(struct vdc_iscsi *s, void *buf, size_t len, uint64_t off, struct vdc_err *err);
/*
 * Write `len` bytes at `off`. Edge blocks that the write covers only in
 * part are read, patched and written back; such writes exclude each other
 * and every other write of this session, so no two patch one block.
 * A write past the end of the LUN is -ENOSPC.
 */
ssize_t vdc_iscsi_write(struct vdc_iscsi *s, const void *buf, size_t len, uint64_t off,
			struct vdc_err *err);
/* SYNCHRONIZE CACHE of the whole LUN. */
int vdc_iscsi_sync(struct vdc_iscsi *s, struct vdc_err *err);
/*
 * Discard every block (UNMAP, in pieces the target's Block Limits accept):
 * the LUN reads as zeros and keeps its size. -EOPNOTSUPP when the LUN is
 * not thin-provisioned.
 */
int vdc_iscsi_discard_all(struct vdc_iscsi *s, struct vdc_err *err);
/*
 * lseek(2) SEEK_DATA or SEEK_HOLE from `off`, from GET LBA STATUS: the
 * offset, or -ENXIO (SEEK_DATA past the last data, or `off` past the end).
 * A LUN that cannot tell its allocation is all data.
 */
int64_t vdc_iscsi_seek(struct vdc_iscsi *s, uint64_t off, int whence, struct vdc_err *err);
/* Bytes of the LUN that are mapped (allocated), from GET LBA STATUS. */
int vdc_iscsi_allocated(struct vdc_iscsi *s, uint64_t *bytes, struct vdc_err *err);

/* ---- pure helpers, exposed for the unit tests ---- */

/* A run of blocks that GET LBA STATUS reported mapped or not. */
struct vdc_lba_extent {
	uint64_t lba;
	uint64_t blocks;
	bool mapped;
};

/*
 * SEEK_DATA/SEEK_HOLE over extents that are sorted and contiguous. Returns
 * 1 with the answer in *out when one of them holds it; 0 when none does,
 * with *out the byte where the extents end (ask again from there); 0 with
 * *out == off when there are no extents past `off`.
 */
int vdc_lba_seek(const struct vdc_lba_extent *ext, size_t n, uint32_t block_size, uint64_t off,
		 int whence, uint64_t *out);

/* The whole blocks a byte range touches, and what it leaves of the edge blocks. */
struct vdc_block_span {
	uint64_t lba;        /* first block */
	uint64_t blocks;     /* blocks touched */
	uint32_t head;       /* bytes of the first block before the range */
	uint32_t tail;       /* bytes of the last block after the range */
};

void vdc_block_span(uint64_t off, size_t len, uint32_t block_size, struct vdc_block_span *out);

#endif
