/*
 * What `vdc top` and `vdc console` compute from the tree's text, apart
 * from the terminal: the values of run/ files parsed, rates from two
 * readings, the rows sorted and rendered as lines, and which bytes of
 * run/console are new. Pure functions, so the unit tests
 * (tests/unit/test_vdc_view.c) check every one of them.
 */
#ifndef VDC_TOOL_VIEW_H
#define VDC_TOOL_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The byte counters of an instance's run/ (disk-read, disk-written, net-received, net-sent). */
enum vdc_counter { VDC_DISK_READ, VDC_DISK_WRITTEN, VDC_NET_RECEIVED, VDC_NET_SENT, VDC_NCOUNTERS };

/* A value read from a file: `has` false when the file was missing, empty or not a number ("-"). */
struct vdc_num {
	bool has;
	double v;
};

struct vdc_top_host {
	char name[64];
	char state[32];
	struct vdc_num cpu;            /* run/cpu: percent busy */
	char load[48];                 /* run/load: "0.10 0.20 0.30", or "" */
	struct vdc_num cpus, cpus_used;
	struct vdc_num mem_mib, mem_used_mib;   /* run/memory, run/memory-used (reserved) */
};

struct vdc_top_inst {
	char name[64];
	char state[32];
	char host[64];
	char ip[48];
	struct vdc_num cpu;            /* run/cpu: percent of one host cpu */
	struct vdc_num mem_used_mib;   /* run/memory-used */
	struct vdc_num mem_mib;        /* memory, what it was given */
	struct vdc_num count[VDC_NCOUNTERS];   /* run/ byte counters */
	struct vdc_num rate[VDC_NCOUNTERS];    /* bytes a second since the last reading */
};

enum vdc_sort { VDC_SORT_CPU, VDC_SORT_MEMORY, VDC_SORT_NAME };

/* The text of a run/ file as a number: "12.5", "300M" (with `sizes`: K, M, G, T to MiB). */
struct vdc_num vdc_num_parse(const char *text, bool sizes);

/*
 * Rates of `cur` from `prev` (the same instance `dt` seconds before, or
 * NULL): a counter that went back (the guest restarted) or is missing
 * has no rate.
 */
void vdc_top_rates(struct vdc_top_inst *cur, const struct vdc_top_inst *prev, double dt);

/*
 * Sort: cpu and memory the most first (what has none last), name
 * alphabetical; ties by name; `reverse` turns the order around.
 */
void vdc_top_sort(struct vdc_top_inst *rows, size_t n, enum vdc_sort by, bool reverse);
const char *vdc_sort_name(enum vdc_sort by);

/* "1.5K", "20M", "3.1G" (bytes, or bytes a second), "-" when none. */
void vdc_human(struct vdc_num bytes, char *out, size_t size);
/* "[#####     ]" of `width` cells inside the brackets, for `frac` of 1 (clamped); "[-   ]" when none. */
void vdc_bar(struct vdc_num frac, unsigned width, char *out, size_t size);

/* The header and a line of the instances' table; the same for hosts. */
void vdc_inst_header(char *out, size_t size);
void vdc_inst_line(const struct vdc_top_inst *r, char *out, size_t size);
void vdc_host_header(char *out, size_t size);
void vdc_host_line(const struct vdc_top_host *h, char *out, size_t size);

/*
 * run/console holds the last 64 KiB of the guest's output: a window that
 * grows, then slides. Given what it held at the last reading (`prev`)
 * and now (`cur`), the offset in `cur` where the bytes not shown yet
 * begin: after the longest end of `prev` that `cur` starts with (all of
 * `prev` while it only grew), 0 when they share nothing.
 */
size_t vdc_console_new_at(const char *prev, size_t plen, const char *cur, size_t clen);

#endif
