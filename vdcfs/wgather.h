/*
 * Write gathering for the bytes of a LUN (handle_iscsi.c): the policy of
 * the buffer each open handle of a volume's data (or a disk's) collects
 * contiguous small writes in, so that GNU tar's 512-byte writes of a
 * sparse member cost a memcpy each and reach the storage host as one
 * large iSCSI WRITE (docs/storage.md, "Writes are gathered").
 *
 * The buffer holds one run of contiguous bytes [start, start + len) that
 * never crosses a multiple of `cap` (a power of two, a multiple of every
 * block size a LUN may have): once the first write has gone, every WRITE
 * the buffer sends starts and ends on a block boundary, and only the
 * first and last of a sequence need the session's read-modify-write.
 *
 * Pure: no I/O, no locks, no allocation but the buffer itself. The caller
 * (the handle's write lock held) asks wg_room() how much of a write the
 * buffer takes now, copies that much with wg_put(), and sends the buffer
 * (wg_full() says when it must) and wg_clear()s it, whether the WRITE
 * succeeded or not.
 */
#ifndef VDCFS_WGATHER_H
#define VDCFS_WGATHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wgather {
	char *buf;          /* cap bytes, allocated by the first wg_put() */
	size_t cap;         /* a power of two */
	uint64_t start;     /* the LUN offset of buf[0] */
	size_t len;         /* bytes held: buf[0, len) is [start, start + len) */
};

/* An empty buffer of `cap` bytes (a power of two); nothing allocated yet. */
void wg_init(struct wgather *g, size_t cap);
/* Free the buffer; what it held is gone. */
void wg_release(struct wgather *g);

/*
 * How many of the `size` bytes written at `off` the buffer takes now
 * (at most `size`): 0 when it holds bytes that the write does not
 * continue (send them first), or is full; else up to the next multiple
 * of cap. A write of 0 bytes takes 0.
 */
size_t wg_room(const struct wgather *g, uint64_t off, size_t size);
/* Copy `n` bytes (n <= wg_room(g, off, n), n > 0) written at `off`. */
void wg_put(struct wgather *g, const void *data, size_t n, uint64_t off);
/* The buffer ends on a multiple of cap: it takes nothing more; send it. */
bool wg_full(const struct wgather *g);
/* The buffer holds bytes of [off, off + len). */
bool wg_overlaps(const struct wgather *g, uint64_t off, uint64_t len);
/* Sent (or failed): hold nothing; the allocation is kept. */
void wg_clear(struct wgather *g);

#endif
