#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "map.h"
#include "strbuf.h"

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	while (*s) {
		h ^= (unsigned char)*s++;
		h *= 1099511628211ULL;
	}
	return h;
}

void vdc_map_init(struct vdc_map *m)
{
	m->buckets = NULL;
	m->nbuckets = 0;
	m->count = 0;
}

void vdc_map_clear(struct vdc_map *m)
{
	size_t i;

	for (i = 0; i < m->nbuckets; i++) {
		struct vdc_map_entry *e = m->buckets[i];

		while (e) {
			struct vdc_map_entry *n = e->next;

			free(e);
			e = n;
		}
	}
	free(m->buckets);
	vdc_map_init(m);
}

static struct vdc_map_entry **slot(const struct vdc_map *m, const char *key)
{
	struct vdc_map_entry **p;

	if (!m->nbuckets)
		return NULL;
	p = &m->buckets[hash(key) & (m->nbuckets - 1)];
	while (*p && strcmp((*p)->key, key))
		p = &(*p)->next;
	return p;
}

void *vdc_map_get(const struct vdc_map *m, const char *key)
{
	struct vdc_map_entry **p = slot(m, key);

	return p && *p ? (*p)->value : NULL;
}

static void grow(struct vdc_map *m)
{
	size_t n = m->nbuckets ? m->nbuckets * 2 : 16, i;
	struct vdc_map_entry **b = xcalloc(n, sizeof(*b));

	for (i = 0; i < m->nbuckets; i++) {
		struct vdc_map_entry *e = m->buckets[i];

		while (e) {
			struct vdc_map_entry *next = e->next;
			size_t h = hash(e->key) & (n - 1);

			e->next = b[h];
			b[h] = e;
			e = next;
		}
	}
	free(m->buckets);
	m->buckets = b;
	m->nbuckets = n;
}

void vdc_map_put(struct vdc_map *m, const char *key, void *value)
{
	struct vdc_map_entry **p, *e;
	size_t klen = strlen(key);

	if (m->count + 1 > m->nbuckets * 3 / 4)
		grow(m);
	p = slot(m, key);
	if (*p) {
		(*p)->value = value;
		return;
	}
	e = xmalloc(sizeof(*e) + klen + 1);
	memcpy(e->key, key, klen + 1);
	e->value = value;
	e->next = NULL;
	*p = e;
	m->count++;
}

void *vdc_map_del(struct vdc_map *m, const char *key)
{
	struct vdc_map_entry **p = slot(m, key), *e;
	void *v;

	if (!p || !*p)
		return NULL;
	e = *p;
	*p = e->next;
	v = e->value;
	free(e);
	m->count--;
	return v;
}

struct vdc_map_entry *vdc_map_first(const struct vdc_map *m, size_t *bucket)
{
	for (*bucket = 0; *bucket < m->nbuckets; (*bucket)++)
		if (m->buckets[*bucket])
			return m->buckets[*bucket];
	return NULL;
}

struct vdc_map_entry *vdc_map_next(const struct vdc_map *m, struct vdc_map_entry *e, size_t *bucket)
{
	if (e->next)
		return e->next;
	for ((*bucket)++; *bucket < m->nbuckets; (*bucket)++)
		if (m->buckets[*bucket])
			return m->buckets[*bucket];
	return NULL;
}

#define IMAP_EMPTY 0
#define IMAP_GONE UINT64_MAX

static size_t imap_slot(uint64_t key, size_t cap)
{
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdULL;
	key ^= key >> 33;
	return (size_t)key & (cap - 1);
}

void vdc_imap_init(struct vdc_imap *m)
{
	memset(m, 0, sizeof(*m));
}

void vdc_imap_clear(struct vdc_imap *m)
{
	free(m->keys);
	free(m->values);
	vdc_imap_init(m);
}

void *vdc_imap_get(const struct vdc_imap *m, uint64_t key)
{
	size_t i;

	if (!m->cap)
		return NULL;
	for (i = imap_slot(key, m->cap); m->keys[i] != IMAP_EMPTY; i = (i + 1) & (m->cap - 1))
		if (m->keys[i] == key)
			return m->values[i];
	return NULL;
}

static void imap_resize(struct vdc_imap *m, size_t cap)
{
	struct vdc_imap n = { xcalloc(cap, sizeof(uint64_t)), xcalloc(cap, sizeof(void *)), cap, 0, 0 };
	size_t i;

	for (i = 0; i < m->cap; i++)
		if (m->keys[i] != IMAP_EMPTY && m->keys[i] != IMAP_GONE)
			vdc_imap_put(&n, m->keys[i], m->values[i]);
	free(m->keys);
	free(m->values);
	*m = n;
}

void vdc_imap_put(struct vdc_imap *m, uint64_t key, void *value)
{
	size_t i;

	if ((m->used + 1) * 4 >= m->cap * 3)
		imap_resize(m, m->cap ? (m->count * 2 >= m->cap ? m->cap * 2 : m->cap) : 64);
	for (i = imap_slot(key, m->cap); m->keys[i] != IMAP_EMPTY; i = (i + 1) & (m->cap - 1)) {
		if (m->keys[i] == key) {
			m->values[i] = value;
			return;
		}
	}
	m->keys[i] = key;
	m->values[i] = value;
	m->count++;
	m->used++;
}

void vdc_imap_del(struct vdc_imap *m, uint64_t key)
{
	size_t i;

	if (!m->cap)
		return;
	for (i = imap_slot(key, m->cap); m->keys[i] != IMAP_EMPTY; i = (i + 1) & (m->cap - 1)) {
		if (m->keys[i] == key) {
			m->keys[i] = IMAP_GONE;
			m->values[i] = NULL;
			m->count--;
			return;
		}
	}
}

bool vdc_name_set_add(struct vdc_name_set *s, const char *name)
{
	if (vdc_map_get(&s->map, name))
		return false;
	s->v = xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
	snprintf(s->v[s->n], sizeof(*s->v), "%s", name);
	vdc_map_put(&s->map, name, s);   /* any non-NULL value */
	s->n++;
	return true;
}

bool vdc_name_set_has(const struct vdc_name_set *s, const char *name)
{
	return vdc_map_get(&s->map, name) != NULL;
}

void vdc_name_set_release(struct vdc_name_set *s)
{
	vdc_map_clear(&s->map);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}
