/*
 * Reading the mounted tree, the only thing vdc talks to: its root ($VDC,
 * else /vdc), small files read whole, the names of a folder.
 */
#ifndef VDC_TOOL_FILES_H
#define VDC_TOOL_FILES_H

#include <stddef.h>

/* The tree's root: $VDC when set and not empty, else /vdc. */
const char *vdc_root(void);

/*
 * Read the file at `path` into `buf` (at most `size` - 1 bytes, then a
 * NUL): its length, or a negative errno. vdc_read_text drops one
 * trailing newline (a value's).
 */
long vdc_read_bytes(const char *path, char *buf, size_t size);
long vdc_read_text(const char *path, char *buf, size_t size);

/*
 * The names of the folders in folder `dir` (objects: no files such as
 * hosts/join, no dot names), sorted, as one malloc'd array of malloc'd
 * strings (vdc_names_free): their count, or a negative errno.
 */
long vdc_names(const char *dir, char ***out);
void vdc_names_free(char **names, long n);

#endif
