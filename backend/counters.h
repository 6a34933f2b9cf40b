/*
 * Layer: support, beside err and strbuf: any layer may bump these, the
 * metrics renderer (kinds/metrics.c) reads them (docs/HACKING.md,
 * "Layers").
 *
 * vdcfs's own figures for /vdc/run/metrics.prom: FUSE requests by
 * operation, the agent server's connections and requests, the store's
 * commits and their latency, events written.
 *
 * Contract
 * --------
 * - Every function is safe from any thread without any lock: each figure
 *   is a relaxed atomic, so counting costs a FUSE request or a commit one
 *   uncontended atomic add and never waits (no lock on the hot path).
 * - Figures only go up, except vdc_gauge_add's, from the start of the
 *   process; a reader may see one figure a little ahead of another.
 */
#ifndef VDC_COUNTERS_H
#define VDC_COUNTERS_H

#include <stdint.h>

/* The FUSE operations counted, one a handler of the front end. */
enum vdc_fop {
	VDC_FOP_LOOKUP, VDC_FOP_FORGET, VDC_FOP_GETATTR, VDC_FOP_SETATTR, VDC_FOP_READLINK,
	VDC_FOP_MKDIR, VDC_FOP_UNLINK, VDC_FOP_RMDIR, VDC_FOP_SYMLINK, VDC_FOP_RENAME,
	VDC_FOP_OPEN, VDC_FOP_READ, VDC_FOP_WRITE, VDC_FOP_FLUSH, VDC_FOP_RELEASE,
	VDC_FOP_FSYNC, VDC_FOP_OPENDIR, VDC_FOP_READDIR, VDC_FOP_RELEASEDIR, VDC_FOP_STATFS,
	VDC_FOP_CREATE, VDC_FOP_LSEEK, VDC_FOP_COPY_FILE_RANGE,
	VDC_FOP_COUNT
};

/* Monotonic counters. */
enum vdc_counter {
	VDC_C_AGENT_ACCEPTED,        /* connections the agent server accepted */
	VDC_C_AGENT_REFUSED_CONN,    /* connections it refused (too many strangers) */
	VDC_C_AGENT_REFUSED_REQ,     /* requests it refused (bad token, limits) */
	VDC_C_AGENT_REPORTS,         /* reports accepted */
	VDC_C_AGENT_POLLS,           /* desired states served (long-polls answered) */
	VDC_C_EVENTS,                /* event lines written to the events log */
	VDC_C_COUNT
};

/* Figures that go up and down. */
enum vdc_gauge {
	VDC_G_AGENT_OPEN,            /* agent server connections open now */
	VDC_G_COUNT
};

/* The upper bounds of the commit latency histogram, in microseconds (1 ms .. 1 s). */
#define VDC_COMMIT_BUCKETS 10
extern const uint64_t vdc_commit_bucket_us[VDC_COMMIT_BUCKETS];

/* The name of a FUSE operation as metrics.prom labels it ("lookup"). */
const char *vdc_fop_name(enum vdc_fop op);

void vdc_count_fuse(enum vdc_fop op);
void vdc_count(enum vdc_counter c);
void vdc_gauge_add(enum vdc_gauge g, int64_t delta);
/* A store commit that took `ns` nanoseconds. */
void vdc_count_commit(uint64_t ns);

/* What a reader sees: a copy, each figure read once. */
struct vdc_counters {
	uint64_t fuse[VDC_FOP_COUNT];
	uint64_t c[VDC_C_COUNT];
	int64_t g[VDC_G_COUNT];
	uint64_t commit_bucket[VDC_COMMIT_BUCKETS];   /* not cumulative: commits in (bound i-1, bound i] */
	uint64_t commit_count;
	uint64_t commit_sum_ns;
};
void vdc_counters_read(struct vdc_counters *out);
/* Back to zero (the unit tests, which share one process). */
void vdc_counters_reset(void);

#endif
