/*
 * A string-keyed hash map (separate chaining, doubling), used for the
 * objects of a kind, the children of an object and the reference counts.
 * Keys are copied; values are borrowed. Not thread-safe: the model lock
 * guards every map.
 */
#ifndef VDC_MAP_H
#define VDC_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vdc_map_entry {
	struct vdc_map_entry *next;
	void *value;
	char key[];
};

struct vdc_map {
	struct vdc_map_entry **buckets;
	size_t nbuckets;
	size_t count;
};

void vdc_map_init(struct vdc_map *m);
/* Free the entries (not the values). */
void vdc_map_clear(struct vdc_map *m);
void *vdc_map_get(const struct vdc_map *m, const char *key);
/* Insert or replace. */
void vdc_map_put(struct vdc_map *m, const char *key, void *value);
/* Remove and return the value, or NULL. */
void *vdc_map_del(struct vdc_map *m, const char *key);

/* Iterate: `for (e = vdc_map_first(m, &i); e; e = vdc_map_next(m, e, &i))`. */
struct vdc_map_entry *vdc_map_first(const struct vdc_map *m, size_t *bucket);
struct vdc_map_entry *vdc_map_next(const struct vdc_map *m, struct vdc_map_entry *e, size_t *bucket);

/*
 * A set of names (up to VDC_NAME_MAX bytes each: objects' names) in the
 * order they were added, each once: v[0..n). It starts as
 * VDC_NAME_SET_INIT (all zero, like an empty map); release frees it.
 */
struct vdc_name_set {
	char (*v)[64];
	size_t n;
	struct vdc_map map;
};
#define VDC_NAME_SET_INIT { NULL, 0, { NULL, 0, 0 } }
/* Add `name` (cut at 63 bytes); true when it was not there. */
bool vdc_name_set_add(struct vdc_name_set *s, const char *name);
bool vdc_name_set_has(const struct vdc_name_set *s, const char *name);
void vdc_name_set_release(struct vdc_name_set *s);

#endif

/*
 * An integer-keyed map (open addressing). Keys 0 and UINT64_MAX are
 * reserved. Used to find objects, links and temporary files by the number
 * in their inode, so the kernel can address them without a path.
 */
struct vdc_imap {
	uint64_t *keys;
	void **values;
	size_t cap, count, used;   /* used counts tombstones too */
};

void vdc_imap_init(struct vdc_imap *m);
void vdc_imap_clear(struct vdc_imap *m);
void *vdc_imap_get(const struct vdc_imap *m, uint64_t key);
void vdc_imap_put(struct vdc_imap *m, uint64_t key, void *value);
void vdc_imap_del(struct vdc_imap *m, uint64_t key);
