/*
 * Write gathering's buffer policy (wgather.h): which writes a handle's
 * buffer takes, where it stops. Pure, so tests/unit/test_wgather.c checks
 * it without a LUN.
 */
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "wgather.h"

void wg_init(struct wgather *g, size_t cap)
{
	memset(g, 0, sizeof(*g));
	g->cap = cap;
}

void wg_release(struct wgather *g)
{
	free(g->buf);
	g->buf = NULL;
	g->len = 0;
}

/* The first multiple of cap after `off`: where a buffer holding `off` ends. */
static uint64_t boundary(const struct wgather *g, uint64_t off)
{
	return (off & ~((uint64_t)g->cap - 1)) + g->cap;
}

size_t wg_room(const struct wgather *g, uint64_t off, size_t size)
{
	uint64_t room;

	if (g->len) {
		if (off != g->start + g->len)
			return 0;
		room = boundary(g, g->start) - off;
	} else {
		room = boundary(g, off) - off;
	}
	return room < size ? (size_t)room : size;
}

void wg_put(struct wgather *g, const void *data, size_t n, uint64_t off)
{
	if (!g->buf)
		g->buf = xmalloc(g->cap);
	if (!g->len)
		g->start = off;
	memcpy(g->buf + (size_t)(off - g->start), data, n);
	g->len += n;
}

bool wg_full(const struct wgather *g)
{
	return g->len && g->start + g->len == boundary(g, g->start);
}

bool wg_overlaps(const struct wgather *g, uint64_t off, uint64_t len)
{
	return g->len && len && off < g->start + g->len && g->start < off + len;
}

void wg_clear(struct wgather *g)
{
	g->len = 0;
}
