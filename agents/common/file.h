/*
 * Files of an agent's state directory: written so that a crash at any
 * moment leaves either the old content or the new one, never a torn file.
 */
#ifndef VDC_AGENT_FILE_H
#define VDC_AGENT_FILE_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"
#include "strbuf.h"

/*
 * Format a path into `out`, which holds PATH_MAX bytes. The paths an agent
 * makes are bounded (its state directory is at most PATH_MAX - 256 bytes,
 * names at most 63), so one that does not fit is a bug: it aborts rather
 * than act on a cut path.
 */
void vdc_path(char *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Replace `path` with `len` bytes of `data`, mode `mode`: a temporary file
 * in the same folder, fsync, rename, fsync of the folder.
 */
int vdc_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
			  struct vdc_err *err);

/* Append the content of `path` to `out`; -EFBIG beyond `max` bytes. */
int vdc_file_read(const char *path, size_t max, struct strbuf *out, struct vdc_err *err);

/* fsync the file `path` (made by another program), before renaming it into place. */
int vdc_file_sync(const char *path, struct vdc_err *err);

/* fsync the folder `dir`, so that a rename or create in it is durable. */
int vdc_dir_sync(const char *dir, struct vdc_err *err);

/*
 * Make the folder `path` and its missing parents (these 0755); `path`
 * itself gets `mode`, also when it exists already.
 */
int vdc_mkdirs(const char *path, mode_t mode, struct vdc_err *err);

/*
 * Remove `path` and everything below it, without following symbolic
 * links. A missing `path` is success.
 */
int vdc_remove_tree(const char *path, struct vdc_err *err);

#endif
