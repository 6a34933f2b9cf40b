/*
 * What the kernel may cache of the tree, and telling it when that changes.
 *
 * Entries and attributes are cached for ENTRY_TIMEOUT and ATTR_TIMEOUT
 * seconds (attr_timeout() names the exceptions). The live files of run/
 * change without a write: the model calls live_changed() with its lock
 * held, and the request that caused the change calls tell_kernel() before
 * it lets go of the lock, so no reader sees new content with an old size.
 *
 * Contract: notify_start() is called once the session is mounted and
 * before the first request; notify_stop() after the last one. Until
 * notify_start() and after notify_stop() the kernel is told nothing.
 * live_changed() and tell_kernel() may be called inside a request and
 * under the model's lock: they need nothing from vdcfs but the session.
 * Every entry handed to the kernel goes through fill_entry(), and every
 * FORGET through kernel_forgets(), so the count of what the kernel knows
 * stays right.
 */
#ifndef VDCFS_NOTIFY_H
#define VDCFS_NOTIFY_H

#include <fuse_lowlevel.h>
#include <stdint.h>

#include "tree.h"

/*
 * What the kernel may cache. Names and attributes change only through the
 * mount, where the kernel sees every change, except the live files of run/
 * (never cached) and a temporary file renamed onto an attribute (see
 * attr_timeout()). So entries, attributes and "no such file" answers are
 * cached for a minute.
 */
#define ENTRY_TIMEOUT 60.0
#define ATTR_TIMEOUT 60.0

/* Start telling the kernel of `se`; stop, and forget what it knew. */
void notify_start(struct fuse_session *se);
void notify_stop(void);

/* The kernel forgot `nlookup` lookups of inode `ino` (FORGET). */
void kernel_forgets(uint64_t ino, uint64_t nlookup);
/* The model's live hook: obj's run/ files (and run/events) changed. */
void live_changed(const struct vdc_obj *obj);
/* Tell the kernel what live_changed() noted in this thread (flush hook). */
void tell_kernel(void);
/* Drop the kernel's attributes and pages of inode `ino` (after notify_start). */
void kernel_inval_inode(uint64_t ino);
/* Make the kernel look `name` in folder `parent` up again (after notify_start). */
void kernel_inval_entry(uint64_t parent, const char *name, size_t len);

/* How long the kernel may keep the attributes of node `n`. */
double attr_timeout(const struct node *n);
/* The entry the kernel gets for node `n` (counted as known to it). */
void fill_entry(const struct node *n, struct fuse_entry_param *e);

#endif
