/*
 * Unit tests for vdcfs/wgather.c: the policy of the buffer a handle of a
 * volume's data gathers writes in (wgather.h). A small model LUN (an
 * array) takes what a simulated handle sends, so the tests check both the
 * decisions (what the buffer takes, when it must be sent, that a send
 * never crosses a multiple of cap) and that the bytes end up where they
 * were written, whatever the order and size of the writes.
 */
#include "unit.h"

#include "wgather.h"

#define CAP 4096
#define LUN_SIZE (8 * CAP)

static unsigned char lun[LUN_SIZE];
static unsigned sends;

/* Send the buffer to the model LUN, checking that it stays inside one cap-aligned stretch. */
static void send(struct wgather *g)
{
	if (!g->len)
		return;
	assert_true(g->start / CAP == (g->start + g->len - 1) / CAP);
	memcpy(lun + g->start, g->buf, g->len);
	sends++;
	wg_clear(g);
}

/* A write(2) as the handle does it: gather, send when the buffer must go. */
static void write_at(struct wgather *g, const unsigned char *data, size_t size, uint64_t off)
{
	size_t done = 0, n;

	while (done < size) {
		n = wg_room(g, off + done, size - done);
		if (n == 0) {
			assert_true(g->len > 0);   /* an empty buffer always takes something */
			send(g);
			continue;
		}
		wg_put(g, data + done, n, off + done);
		done += n;
		if (wg_full(g))
			send(g);
	}
}

static int setup(void **state)
{
	(void)state;
	memset(lun, 0, sizeof(lun));
	sends = 0;
	return 0;
}

static void test_empty(void **state)
{
	struct wgather g;

	(void)state;
	wg_init(&g, CAP);
	assert_int_equal(g.len, 0);
	assert_null(g.buf);
	assert_false(wg_full(&g));
	assert_false(wg_overlaps(&g, 0, LUN_SIZE));
	assert_int_equal(wg_room(&g, 0, 0), 0);
	assert_int_equal(wg_room(&g, 0, 100), 100);
	/* An empty buffer takes up to the next multiple of cap. */
	assert_int_equal(wg_room(&g, 100, CAP), CAP - 100);
	assert_int_equal(wg_room(&g, CAP, 3 * CAP), CAP);
	wg_release(&g);
}

static void test_contiguous(void **state)
{
	unsigned char b[CAP];
	struct wgather g;

	(void)state;
	memset(b, 7, sizeof(b));
	wg_init(&g, CAP);
	wg_put(&g, b, 512, 1024);
	assert_int_equal(g.start, 1024);
	assert_int_equal(g.len, 512);
	/* Only a write that continues the buffer goes in. */
	assert_int_equal(wg_room(&g, 1536, 512), 512);
	assert_int_equal(wg_room(&g, 1024, 512), 0);
	assert_int_equal(wg_room(&g, 2048, 512), 0);
	assert_int_equal(wg_room(&g, 0, 512), 0);
	/* Up to the boundary, no further. */
	assert_int_equal(wg_room(&g, 1536, 10 * CAP), CAP - 1536);
	assert_true(wg_overlaps(&g, 1024, 1));
	assert_true(wg_overlaps(&g, 1535, 1));
	assert_true(wg_overlaps(&g, 0, 1025));
	assert_false(wg_overlaps(&g, 1536, 512));
	assert_false(wg_overlaps(&g, 0, 1024));
	assert_false(wg_overlaps(&g, 1024, 0));
	wg_put(&g, b, CAP - 1536, 1536);
	assert_true(wg_full(&g));
	assert_int_equal(wg_room(&g, CAP, 1), 0);
	wg_clear(&g);
	assert_false(wg_full(&g));
	assert_non_null(g.buf);   /* kept for the next run */
	assert_int_equal(wg_room(&g, CAP, 1), 1);
	wg_release(&g);
}

/* tar's 512-byte writes of a whole stretch: one send per cap, every one whole. */
static void test_tar_writes(void **state)
{
	unsigned char src[LUN_SIZE], b[512];
	struct wgather g;

	(void)state;
	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = (unsigned char)(i * 31 + i / 512);
	wg_init(&g, CAP);
	for (size_t off = 0; off < LUN_SIZE; off += sizeof(b)) {
		memcpy(b, src + off, sizeof(b));
		write_at(&g, b, sizeof(b), off);
	}
	send(&g);
	assert_int_equal(sends, LUN_SIZE / CAP);
	assert_memory_equal(lun, src, LUN_SIZE);
	wg_release(&g);
}

/*
 * Writes starting off a boundary: the first send ends at the boundary,
 * the ones after it are whole and aligned.
 */
static void test_unaligned_start(void **state)
{
	unsigned char src[LUN_SIZE];
	struct wgather g;

	(void)state;
	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = (unsigned char)(i ^ (i >> 8));
	wg_init(&g, CAP);
	/* 700-byte writes from 300: sends end on multiples of CAP. */
	for (size_t off = 300; off < LUN_SIZE; off += 700)
		write_at(&g, src + off, off + 700 <= LUN_SIZE ? 700 : LUN_SIZE - off, off);
	send(&g);
	assert_int_equal(sends, LUN_SIZE / CAP);
	assert_memory_equal(lun + 300, src + 300, LUN_SIZE - 300);
	assert_int_equal(lun[299], 0);
	wg_release(&g);
}

/* A write larger than cap is split at the boundaries. */
static void test_large_write(void **state)
{
	unsigned char src[3 * CAP];
	struct wgather g;

	(void)state;
	memset(src, 0x5a, sizeof(src));
	wg_init(&g, CAP);
	write_at(&g, src, sizeof(src), CAP / 2);
	assert_int_equal(sends, 3);   /* [CAP/2, CAP), [CAP, 2CAP), [2CAP, 3CAP) */
	assert_int_equal(g.len, CAP / 2);   /* the rest waits */
	assert_int_equal(g.start, 3 * CAP);
	send(&g);
	assert_memory_equal(lun + CAP / 2, src, sizeof(src));
	wg_release(&g);
}

/* Writes in any order, overlapping: the last write of a byte wins, as on a disk. */
static void test_random_order(void **state)
{
	static unsigned char want[LUN_SIZE], b[CAP];
	struct wgather g;
	unsigned seed = 12345;

	(void)state;
	memset(want, 0, sizeof(want));
	wg_init(&g, CAP);
	for (int i = 0; i < 5000; i++) {
		size_t off, len;

		seed = seed * 1103515245 + 12345;
		off = (seed >> 8) % LUN_SIZE;
		seed = seed * 1103515245 + 12345;
		len = 1 + (seed >> 8) % (i % 7 ? 600 : CAP);
		if (off + len > LUN_SIZE)
			len = LUN_SIZE - off;
		for (size_t k = 0; k < len; k++)
			b[k] = (unsigned char)(i + k);
		write_at(&g, b, len, off);
		memcpy(want + off, b, len);
		/* Every third write is continued by another. */
		if (i % 3 == 0 && off + len + 64 <= LUN_SIZE) {
			write_at(&g, b, 64, off + len);
			memcpy(want + off + len, b, 64);
		}
	}
	send(&g);
	assert_memory_equal(lun, want, LUN_SIZE);
	wg_release(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_empty, setup),
		cmocka_unit_test_setup(test_contiguous, setup),
		cmocka_unit_test_setup(test_tar_writes, setup),
		cmocka_unit_test_setup(test_unaligned_start, setup),
		cmocka_unit_test_setup(test_large_write, setup),
		cmocka_unit_test_setup(test_random_order, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
