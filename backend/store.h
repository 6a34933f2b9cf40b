/*
 * Layer: the bottom, under the model; only model.c calls it.
 *
 * The sqlite store: the durable copy of the model.
 *
 * One database file, state.db, in WAL mode. Every change the model makes
 * is one transaction (vdc_store_begin ... vdc_store_commit). With
 * synchronous=NORMAL a committed transaction survives a crash of the
 * process (it is in the WAL, in the kernel's page cache) and a power loss
 * can lose only the last transactions, never corrupt the file; with
 * `sync_full` each commit is on disk before write(2) returns.
 *
 * Ids are never reused (AUTOINCREMENT): they are part of inode numbers,
 * which the kernel may remember after an object is gone.
 *
 * Rows: obj(id, kind, parent, name, uid, gid, ctime, mtime);
 * attr(obj, name, value, mtime) only for values that differ from the
 * default; link(id, obj, dir, name, tkind, tname, mtime) where dir is ''
 * for a link attribute (name is then the attribute); live(obj, name,
 * value) for run/state and run/err.
 */
#ifndef VDC_STORE_H
#define VDC_STORE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "err.h"

int vdc_store_open(const char *dir, bool sync_full, struct vdc_err *err);
void vdc_store_close(void);

int vdc_store_begin(struct vdc_err *err);
int vdc_store_commit(struct vdc_err *err);
void vdc_store_rollback(void);

int vdc_store_obj_insert(const char *kind, int64_t parent, const char *name, uid_t uid,
			 gid_t gid, const struct timespec *t, int64_t *id, struct vdc_err *err);
int vdc_store_obj_delete(int64_t id, struct vdc_err *err);
int vdc_store_obj_update(int64_t id, const char *name, uid_t uid, gid_t gid,
			 const struct timespec *mtime, struct vdc_err *err);
/* value NULL deletes the row (the default applies). */
int vdc_store_attr_put(int64_t obj, const char *name, const char *value, size_t len,
		       const struct timespec *t, struct vdc_err *err);
int vdc_store_link_insert(int64_t obj, const char *dir, const char *name, const char *tkind,
			  const char *tname, const struct timespec *t, int64_t *id,
			  struct vdc_err *err);
int vdc_store_link_delete(int64_t id, struct vdc_err *err);
int vdc_store_link_rename(int64_t id, const char *name, struct vdc_err *err);
int vdc_store_live_put(int64_t obj, const char *name, const char *value, struct vdc_err *err);

/* Loading, in id order so a parent comes before its children. */
struct vdc_store_loader {
	void *ctx;
	int (*obj)(void *ctx, int64_t id, const char *kind, int64_t parent, const char *name,
		   uid_t uid, gid_t gid, const struct timespec *ctime, const struct timespec *mtime);
	int (*attr)(void *ctx, int64_t obj, const char *name, const char *value, size_t len,
		    const struct timespec *mtime);
	int (*link)(void *ctx, int64_t id, int64_t obj, const char *dir, const char *name,
		    const char *tkind, const char *tname, const struct timespec *mtime);
	int (*live)(void *ctx, int64_t obj, const char *name, const char *value);
};
int vdc_store_load(const struct vdc_store_loader *l, struct vdc_err *err);

#endif
