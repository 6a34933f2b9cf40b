/*
 * A growable byte buffer (after git's strbuf).
 *
 * Invariants: `buf` is never NULL once initialised (it points at a shared
 * empty string until the first growth), `buf[len]` is always '\0', and
 * `len < alloc` whenever `alloc` is non-zero. The buffer may hold NUL bytes;
 * `len` is the truth. Functions that can fail allocate with xrealloc, which
 * aborts on exhaustion: a control plane that cannot allocate a few bytes
 * cannot keep its promises anyway.
 */
#ifndef VDC_STRBUF_H
#define VDC_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

struct strbuf {
	size_t alloc;
	size_t len;
	char *buf;
};

extern char strbuf_slopbuf[];
#define STRBUF_INIT { 0, 0, strbuf_slopbuf }

void strbuf_init(struct strbuf *sb, size_t hint);
/* Free the memory and re-initialise to empty. */
void strbuf_release(struct strbuf *sb);
/* Hand the string to the caller (who frees it) and re-initialise. */
char *strbuf_detach(struct strbuf *sb, size_t *len);
void strbuf_grow(struct strbuf *sb, size_t extra);
void strbuf_setlen(struct strbuf *sb, size_t len);
#define strbuf_reset(sb) strbuf_setlen(sb, 0)
void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, char c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap);
/* Write `data` at `pos` (pos <= len), growing the buffer as needed. */
void strbuf_splice_at(struct strbuf *sb, size_t pos, const void *data, size_t len);

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* Cleanup helpers (lxcfs's __do_free): ownership is visible at the declaration. */
static inline void vdc_freep(void *p)
{
	extern void free(void *);
	free(*(void **)p);
}
#define __do_free __attribute__((cleanup(vdc_freep)))
static inline void strbuf_releasep(struct strbuf *sb) { strbuf_release(sb); }
#define __do_strbuf __attribute__((cleanup(strbuf_releasep)))

/* Take a pointer out of a cleanup variable so it is not freed on return. */
#define move_ptr(p) ({ __typeof__(p) move_ptr_tmp_ = (p); (p) = NULL; move_ptr_tmp_; })

#endif
