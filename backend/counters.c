/*
 * vdcfs's own figures (counters.h): relaxed atomics, so that counting a
 * FUSE request or a commit takes no lock and orders nothing. Nothing here
 * is persisted: the figures start at zero with the process, as Prometheus
 * expects of a counter (a restart is a reset it knows how to read).
 */
#include <stdatomic.h>
#include <string.h>

#include "counters.h"

const uint64_t vdc_commit_bucket_us[VDC_COMMIT_BUCKETS] = {
	1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000,
};

static const char *const fop_names[VDC_FOP_COUNT] = {
	[VDC_FOP_LOOKUP] = "lookup", [VDC_FOP_FORGET] = "forget", [VDC_FOP_GETATTR] = "getattr",
	[VDC_FOP_SETATTR] = "setattr", [VDC_FOP_READLINK] = "readlink", [VDC_FOP_MKDIR] = "mkdir",
	[VDC_FOP_UNLINK] = "unlink", [VDC_FOP_RMDIR] = "rmdir", [VDC_FOP_SYMLINK] = "symlink",
	[VDC_FOP_RENAME] = "rename", [VDC_FOP_OPEN] = "open", [VDC_FOP_READ] = "read",
	[VDC_FOP_WRITE] = "write", [VDC_FOP_FLUSH] = "flush", [VDC_FOP_RELEASE] = "release",
	[VDC_FOP_FSYNC] = "fsync", [VDC_FOP_OPENDIR] = "opendir", [VDC_FOP_READDIR] = "readdir",
	[VDC_FOP_RELEASEDIR] = "releasedir", [VDC_FOP_STATFS] = "statfs", [VDC_FOP_CREATE] = "create",
	[VDC_FOP_LSEEK] = "lseek", [VDC_FOP_COPY_FILE_RANGE] = "copy_file_range",
};

static _Atomic uint64_t fuse[VDC_FOP_COUNT];
static _Atomic uint64_t counters[VDC_C_COUNT];
static _Atomic int64_t gauges[VDC_G_COUNT];
static _Atomic uint64_t commit_bucket[VDC_COMMIT_BUCKETS + 1];   /* the last: over 1 s */
static _Atomic uint64_t commit_sum_ns;

const char *vdc_fop_name(enum vdc_fop op)
{
	return op < VDC_FOP_COUNT ? fop_names[op] : "unknown";
}

void vdc_count_fuse(enum vdc_fop op)
{
	atomic_fetch_add_explicit(&fuse[op], 1, memory_order_relaxed);
}

void vdc_count(enum vdc_counter c)
{
	atomic_fetch_add_explicit(&counters[c], 1, memory_order_relaxed);
}

void vdc_gauge_add(enum vdc_gauge g, int64_t delta)
{
	atomic_fetch_add_explicit(&gauges[g], delta, memory_order_relaxed);
}

void vdc_count_commit(uint64_t ns)
{
	unsigned i;

	for (i = 0; i < VDC_COMMIT_BUCKETS && ns > vdc_commit_bucket_us[i] * 1000; i++)
		;
	atomic_fetch_add_explicit(&commit_bucket[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&commit_sum_ns, ns, memory_order_relaxed);
}

void vdc_counters_read(struct vdc_counters *out)
{
	unsigned i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < VDC_FOP_COUNT; i++)
		out->fuse[i] = atomic_load_explicit(&fuse[i], memory_order_relaxed);
	for (i = 0; i < VDC_C_COUNT; i++)
		out->c[i] = atomic_load_explicit(&counters[i], memory_order_relaxed);
	for (i = 0; i < VDC_G_COUNT; i++)
		out->g[i] = atomic_load_explicit(&gauges[i], memory_order_relaxed);
	/* The count is the sum of the buckets read, so the histogram is consistent in itself. */
	for (i = 0; i <= VDC_COMMIT_BUCKETS; i++) {
		uint64_t n = atomic_load_explicit(&commit_bucket[i], memory_order_relaxed);

		if (i < VDC_COMMIT_BUCKETS)
			out->commit_bucket[i] = n;
		out->commit_count += n;
	}
	out->commit_sum_ns = atomic_load_explicit(&commit_sum_ns, memory_order_relaxed);
}

void vdc_counters_reset(void)
{
	unsigned i;

	for (i = 0; i < VDC_FOP_COUNT; i++)
		atomic_store(&fuse[i], 0);
	for (i = 0; i < VDC_C_COUNT; i++)
		atomic_store(&counters[i], 0);
	for (i = 0; i < VDC_G_COUNT; i++)
		atomic_store(&gauges[i], 0);
	for (i = 0; i <= VDC_COMMIT_BUCKETS; i++)
		atomic_store(&commit_bucket[i], 0);
	atomic_store(&commit_sum_ns, 0);
}
