/*
 * Unit tests for backend/strbuf.c: the growable buffer and the allocation
 * helpers declared beside it.
 *
 * Most cases end in check_invariants(), which states the promises of
 * strbuf.h: buf is never NULL, buf[len] is '\0', len < alloc once anything
 * is allocated, and the shared empty string is never written to.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

static void check_invariants(const struct strbuf *sb)
{
	assert_non_null(sb->buf);
	assert_int_equal(sb->buf[sb->len], '\0');
	if (sb->alloc)
		assert_true(sb->len < sb->alloc);
	else
		assert_ptr_equal(sb->buf, strbuf_slopbuf);
	assert_int_equal(strbuf_slopbuf[0], '\0');
}

/* Check that `sb` holds exactly the `len` bytes at `want`. */
static void check_content(const struct strbuf *sb, const void *want, size_t len)
{
	check_invariants(sb);
	assert_int_equal(sb->len, len);
	assert_memory_equal(sb->buf, want, len);
}

#define CHECK_STR(sb, lit) check_content((sb), (lit), sizeof(lit) - 1)

/* strbuf_vaddf is reached through a variadic caller, as its users would. */
__attribute__((format(printf, 2, 3)))
static void addf_via_va(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(sb, fmt, ap);
	va_end(ap);
}

static void test_init(void **state)
{
	struct strbuf a = STRBUF_INIT, b;

	(void)state;
	check_content(&a, "", 0);
	assert_int_equal(a.alloc, 0);

	strbuf_init(&b, 0);
	check_content(&b, "", 0);
	assert_int_equal(b.alloc, 0);

	/* A hint allocates room for that many bytes and the terminator. */
	strbuf_init(&b, 100);
	check_content(&b, "", 0);
	assert_true(b.alloc >= 101);
	strbuf_release(&b);
}

static void test_add(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	strbuf_add(&sb, "hello", 5);
	CHECK_STR(&sb, "hello");
	strbuf_add(&sb, " world", 6);
	CHECK_STR(&sb, "hello world");
	strbuf_add(&sb, "ignored", 0);
	CHECK_STR(&sb, "hello world");
	strbuf_release(&sb);

	/* Bytes after a NUL are kept: len is the truth. */
	strbuf_add(&sb, "a\0b", 3);
	CHECK_STR(&sb, "a\0b");
	strbuf_addch(&sb, '\0');
	CHECK_STR(&sb, "a\0b\0");
	strbuf_release(&sb);

	/* Adding nothing to an empty buffer keeps it valid. */
	strbuf_add(&sb, "", 0);
	check_content(&sb, "", 0);
	strbuf_release(&sb);
}

static void test_addstr_addch(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	strbuf_addstr(&sb, "");
	check_content(&sb, "", 0);
	strbuf_addstr(&sb, "key");
	strbuf_addch(&sb, '=');
	strbuf_addstr(&sb, "value");
	strbuf_addch(&sb, '\n');
	CHECK_STR(&sb, "key=value\n");
	strbuf_release(&sb);
}

static void test_add_grows(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	char *want = malloc(100000);
	size_t i;

	(void)state;
	assert_non_null(want);
	for (i = 0; i < 100000; i++) {
		want[i] = (char)('a' + i % 26);
		strbuf_addch(&sb, want[i]);
		assert_int_equal(sb.buf[sb.len], '\0');
	}
	check_content(&sb, want, 100000);

	/* One large add past the current allocation. */
	strbuf_reset(&sb);
	strbuf_add(&sb, want, 100000);
	check_content(&sb, want, 100000);
	strbuf_release(&sb);
	free(want);
}

static void test_addf(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	char big[1000];
	size_t i;

	(void)state;
	strbuf_addf(&sb, "%d-%s", 42, "x");
	CHECK_STR(&sb, "42-x");
	strbuf_addf(&sb, "%s", "");
	CHECK_STR(&sb, "42-x");
	strbuf_addf(&sb, " %05.1f|%-3s|%c", 2.5, "ab", 'z');
	CHECK_STR(&sb, "42-x 002.5|ab |z");
	strbuf_release(&sb);

	/* Longer than the first allocation, to take the growth path. */
	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	strbuf_addstr(&sb, "<");
	strbuf_addf(&sb, "%s>%zu", big, sizeof(big));
	check_invariants(&sb);
	assert_int_equal(sb.len, 1 + 999 + 1 + 4);
	assert_int_equal(sb.buf[0], '<');
	for (i = 1; i < 1000; i++)
		assert_int_equal(sb.buf[i], 'q');
	assert_string_equal(sb.buf + 1000, ">1000");
	strbuf_release(&sb);

	addf_via_va(&sb, "%s=%u", "n", 7u);
	CHECK_STR(&sb, "n=7");
	strbuf_release(&sb);
}

static void test_setlen(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	strbuf_addstr(&sb, "hello");
	strbuf_setlen(&sb, 2);
	CHECK_STR(&sb, "he");
	strbuf_setlen(&sb, 2);
	CHECK_STR(&sb, "he");
	strbuf_reset(&sb);
	check_content(&sb, "", 0);
	assert_true(sb.alloc > 0);   /* a reset keeps the memory */
	strbuf_addstr(&sb, "again");
	CHECK_STR(&sb, "again");
	strbuf_release(&sb);

	/* Resetting a never-allocated buffer must not write the shared empty string. */
	strbuf_reset(&sb);
	check_content(&sb, "", 0);
	assert_int_equal(sb.alloc, 0);

	/* Growing the length of an unallocated buffer allocates. */
	strbuf_setlen(&sb, 10);
	check_invariants(&sb);
	assert_int_equal(sb.len, 10);
	assert_true(sb.alloc > 10);
	strbuf_release(&sb);
}

static void test_grow(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	char *before;

	(void)state;
	strbuf_grow(&sb, 0);
	check_content(&sb, "", 0);
	assert_true(sb.alloc >= 1);

	strbuf_grow(&sb, 500);
	assert_true(sb.alloc >= 501);
	check_content(&sb, "", 0);

	/* Room already there: no reallocation, so pointers stay valid. */
	strbuf_addstr(&sb, "abc");
	before = sb.buf;
	strbuf_grow(&sb, 10);
	assert_ptr_equal(sb.buf, before);
	CHECK_STR(&sb, "abc");
	strbuf_release(&sb);
}

static void test_splice_overwrite(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	strbuf_addstr(&sb, "hello");
	strbuf_splice_at(&sb, 0, "J", 1);
	CHECK_STR(&sb, "Jello");
	strbuf_splice_at(&sb, 1, "ELL", 3);
	CHECK_STR(&sb, "JELLo");
	strbuf_splice_at(&sb, 0, "12345", 5);
	CHECK_STR(&sb, "12345");
	strbuf_splice_at(&sb, 2, "", 0);
	CHECK_STR(&sb, "12345");
	strbuf_splice_at(&sb, 5, "", 0);
	CHECK_STR(&sb, "12345");
	strbuf_release(&sb);
}

static void test_splice_extend(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	char big[300];

	(void)state;
	strbuf_addstr(&sb, "hello");
	strbuf_splice_at(&sb, 5, " world", 6);      /* at the end */
	CHECK_STR(&sb, "hello world");
	strbuf_splice_at(&sb, 6, "there!", 6);      /* exactly to the end */
	CHECK_STR(&sb, "hello there!");
	strbuf_splice_at(&sb, 10, "mometer", 7);     /* straddling the end */
	CHECK_STR(&sb, "hello thermometer");
	strbuf_release(&sb);

	/* On an empty, never-allocated buffer. */
	strbuf_splice_at(&sb, 0, "abc", 3);
	CHECK_STR(&sb, "abc");
	strbuf_release(&sb);
	strbuf_splice_at(&sb, 0, "", 0);
	check_content(&sb, "", 0);
	strbuf_release(&sb);

	/* Far past the current allocation. */
	memset(big, 'z', sizeof(big));
	strbuf_addstr(&sb, "ab");
	strbuf_splice_at(&sb, 1, big, sizeof(big));
	check_invariants(&sb);
	assert_int_equal(sb.len, 1 + sizeof(big));
	assert_int_equal(sb.buf[0], 'a');
	assert_memory_equal(sb.buf + 1, big, sizeof(big));
	strbuf_release(&sb);

	/* Bytes with NULs are written as they are. */
	strbuf_addstr(&sb, "xy");
	strbuf_splice_at(&sb, 1, "\0\0\0", 3);
	CHECK_STR(&sb, "x\0\0\0");
	strbuf_release(&sb);
}

static void test_splice_past_end(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	/* pos > len is outside the contract; the buffer must be left as it was. */
	strbuf_addstr(&sb, "abc");
	strbuf_splice_at(&sb, 4, "x", 1);
	CHECK_STR(&sb, "abc");
	strbuf_release(&sb);
	strbuf_splice_at(&sb, 1, "x", 1);
	check_content(&sb, "", 0);
	assert_int_equal(sb.alloc, 0);
}

static void test_detach(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	size_t len = 99;
	char *s;

	(void)state;
	strbuf_addstr(&sb, "owned");
	s = strbuf_detach(&sb, &len);
	assert_string_equal(s, "owned");
	assert_int_equal(len, 5);
	check_content(&sb, "", 0);
	assert_int_equal(sb.alloc, 0);
	free(s);

	/* Detaching an empty buffer still hands out memory the caller may free. */
	s = strbuf_detach(&sb, &len);
	assert_non_null(s);
	assert_ptr_not_equal(s, strbuf_slopbuf);
	assert_string_equal(s, "");
	assert_int_equal(len, 0);
	free(s);

	strbuf_add(&sb, "a\0b", 3);
	s = strbuf_detach(&sb, NULL);
	assert_memory_equal(s, "a\0b", 4);
	free(s);

	/* The buffer is usable again after a detach. */
	strbuf_addstr(&sb, "next");
	CHECK_STR(&sb, "next");
	strbuf_release(&sb);
}

static void test_release(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	strbuf_release(&sb);
	check_content(&sb, "", 0);

	strbuf_addstr(&sb, "something");
	strbuf_release(&sb);
	check_content(&sb, "", 0);
	assert_int_equal(sb.alloc, 0);
	strbuf_release(&sb);
	check_content(&sb, "", 0);

	strbuf_addstr(&sb, "reuse");
	CHECK_STR(&sb, "reuse");
	strbuf_release(&sb);
}

/* Fill a cleanup-managed buffer; leak checkers see if it is not released. */
static size_t cleanup_helper(void)
{
	__do_strbuf struct strbuf sb = STRBUF_INIT;

	strbuf_addstr(&sb, "released on return");
	return sb.len;
}

static char *move_helper(void)
{
	__do_free char *p = xstrdup("kept");

	return move_ptr(p);
}

static void test_cleanup(void **state)
{
	__do_free char *moved = NULL;
	char *p = xstrdup("x");
	char *q;

	(void)state;
	assert_int_equal(cleanup_helper(), 18);
	moved = move_helper();
	assert_string_equal(moved, "kept");

	q = move_ptr(p);
	assert_null(p);
	assert_string_equal(q, "x");
	free(q);
}

static void test_xalloc(void **state)
{
	unsigned char *z;
	char *s;
	void *p;
	size_t i;

	(void)state;
	p = xmalloc(0);
	assert_non_null(p);
	free(p);

	z = xcalloc(16, 4);
	for (i = 0; i < 64; i++)
		assert_int_equal(z[i], 0);
	z = xrealloc(z, 128);
	z[127] = 1;
	free(z);
	p = xcalloc(0, 0);
	assert_non_null(p);
	free(p);
	p = xrealloc(NULL, 0);
	assert_non_null(p);
	free(p);

	s = xstrdup("hello");
	assert_string_equal(s, "hello");
	free(s);
	s = xstrndup("hello", 3);
	assert_string_equal(s, "hel");
	free(s);
	s = xstrndup("a\0b", 3);
	assert_memory_equal(s, "a\0b", 4);
	free(s);
	s = xstrndup("", 0);
	assert_string_equal(s, "");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_add),
		cmocka_unit_test(test_addstr_addch),
		cmocka_unit_test(test_add_grows),
		cmocka_unit_test(test_addf),
		cmocka_unit_test(test_setlen),
		cmocka_unit_test(test_grow),
		cmocka_unit_test(test_splice_overwrite),
		cmocka_unit_test(test_splice_extend),
		cmocka_unit_test(test_splice_past_end),
		cmocka_unit_test(test_detach),
		cmocka_unit_test(test_release),
		cmocka_unit_test(test_cleanup),
		cmocka_unit_test(test_xalloc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
