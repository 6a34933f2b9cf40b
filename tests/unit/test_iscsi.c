/*
 * The pure parts of backend/iscsi.c: SEEK_DATA/SEEK_HOLE from the extents
 * of GET LBA STATUS, and the edge blocks of an unaligned write.
 */
#include <unistd.h>

#include "unit.h"
#include "iscsi.h"

#define MIB (1ULL << 20)

/* 8 MiB of 512-byte blocks: hole [0,1M), data [1M,3M), hole [3M,8M). */
static const struct vdc_lba_extent ext[] = {
	{ 0, 2048, false },
	{ 2048, 4096, true },
	{ 6144, 10240, false },
};

static uint64_t seek_ok(int whence, uint64_t off)
{
	uint64_t out = 0;

	assert_int_equal(vdc_lba_seek(ext, 3, 512, off, whence, &out), 1);
	return out;
}

static void test_seek_data(void **state)
{
	uint64_t out = 0;

	(void)state;
	assert_int_equal(seek_ok(SEEK_DATA, 0), MIB);
	assert_int_equal(seek_ok(SEEK_DATA, MIB - 1), MIB);
	/* Inside data: the offset itself, even in the middle of a block. */
	assert_int_equal(seek_ok(SEEK_DATA, MIB + 700), MIB + 700);
	assert_int_equal(seek_ok(SEEK_DATA, 3 * MIB - 1), 3 * MIB - 1);
	/* No data after 3M in these extents: ask again from where they end. */
	assert_int_equal(vdc_lba_seek(ext, 3, 512, 3 * MIB, SEEK_DATA, &out), 0);
	assert_int_equal(out, 8 * MIB);
}

static void test_seek_hole(void **state)
{
	(void)state;
	assert_int_equal(seek_ok(SEEK_HOLE, 0), 0);
	assert_int_equal(seek_ok(SEEK_HOLE, 100), 100);
	assert_int_equal(seek_ok(SEEK_HOLE, MIB), 3 * MIB);
	assert_int_equal(seek_ok(SEEK_HOLE, 2 * MIB + 3), 3 * MIB);
	assert_int_equal(seek_ok(SEEK_HOLE, 5 * MIB), 5 * MIB);
}

static void test_seek_later_extents(void **state)
{
	/* A second GET LBA STATUS starts at the block of the offset. */
	static const struct vdc_lba_extent later[] = {
		{ 16384, 8, true },
		{ 16392, 100, false },
	};
	uint64_t out = 0;

	(void)state;
	assert_int_equal(vdc_lba_seek(later, 2, 512, 8 * MIB + 1, SEEK_DATA, &out), 1);
	assert_int_equal(out, 8 * MIB + 1);
	assert_int_equal(vdc_lba_seek(later, 2, 512, 8 * MIB + 1, SEEK_HOLE, &out), 1);
	assert_int_equal(out, 8 * MIB + 4096);
	/* 4096-byte blocks scale the same way. */
	assert_int_equal(vdc_lba_seek(later, 2, 4096, 0, SEEK_DATA, &out), 1);
	assert_int_equal(out, 16384ULL * 4096);
}

static void test_seek_no_extents(void **state)
{
	uint64_t out = 1;

	(void)state;
	assert_int_equal(vdc_lba_seek(ext, 0, 512, 4096, SEEK_DATA, &out), 0);
	assert_int_equal(out, 4096);
	/* Extents that end before the offset give no progress either. */
	assert_int_equal(vdc_lba_seek(ext, 1, 512, 2 * MIB, SEEK_HOLE, &out), 0);
	assert_int_equal(out, 2 * MIB);
}

static void span(uint64_t off, size_t len, uint32_t bs, uint64_t lba, uint64_t blocks, uint32_t head,
		 uint32_t tail)
{
	struct vdc_block_span sp;

	vdc_block_span(off, len, bs, &sp);
	assert_int_equal(sp.lba, lba);
	assert_int_equal(sp.blocks, blocks);
	assert_int_equal(sp.head, head);
	assert_int_equal(sp.tail, tail);
}

static void test_block_span(void **state)
{
	(void)state;
	/* Aligned: no edges. */
	span(0, 512, 512, 0, 1, 0, 0);
	span(MIB, MIB, 512, 2048, 2048, 0, 0);
	/* Inside one block. */
	span(10, 5, 512, 0, 1, 10, 497);
	/* Across a block boundary. */
	span(500, 24, 512, 0, 2, 500, 500);
	/* Starts aligned, ends inside a block. */
	span(1024, 513, 512, 2, 2, 0, 511);
	/* Starts inside, ends aligned. */
	span(1023, 1, 512, 1, 1, 511, 0);
	span(1, 4095, 4096, 0, 1, 1, 0);
	/* Nothing at all. */
	span(700, 0, 512, 1, 0, 188, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seek_data),
		cmocka_unit_test(test_seek_hole),
		cmocka_unit_test(test_seek_later_extents),
		cmocka_unit_test(test_seek_no_extents),
		cmocka_unit_test(test_block_span),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
