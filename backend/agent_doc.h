/*
 * Layer: the wire format's parsing half, beside wire.c (wire.h): it
 * calls nothing of the model. The kinds take its structs as they are.
 *
 * The documents the agent server accepts (docs/agent-protocol.md), parsed
 * and checked into plain C structs: the join request, a hypervisor's
 * report, a storage host's report, and a request's path and numbers.
 *
 * Contract
 * --------
 * - Nothing here touches the model, the store or the network: each parser
 *   takes the bytes (pointer and length, not NUL-terminated) and fills a
 *   struct, so it can be unit-tested and fuzzed alone (tests/fuzz/).
 * - A parser returns 0, or -EINVAL with a sentence naming the field that
 *   was wrong and what is accepted (printable ASCII: no byte of the
 *   document is copied into it unquoted). A document that fails leaves
 *   nothing to release; one that parses is released with its _release().
 * - Numbers are range-checked, never truncated: a report out of range is
 *   refused whole. Counts of entries are bounded (the maxima below), which
 *   also bounds the bytes of a real report (VDC_DOC_REPORT_BYTES_MAX).
 * - Words (states) and facts (driver, version, ...) are refused unless
 *   they are short tokens of the characters listed at each.
 * - Free text the hosts send (`err` and `progress`) goes through
 *   vdc_doc_text_clean(): every byte that vdc_text_check() refuses as one
 *   line of text, and tab, becomes `\xNN`, and the result is cut to at
 *   most VDC_DOC_TEXT_MAX bytes on a character boundary, ending in "..."
 *   when it was cut. So no control byte of a host reaches run/err,
 *   run/events or the store.
 */
#ifndef VDC_AGENT_DOC_H
#define VDC_AGENT_DOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "validate.h"

/* Bytes of host text kept: an agent's own sentences are shorter (err.h). */
#define VDC_DOC_TEXT_MAX (VDC_ERR_MSG_MAX - 1)
/* A state word: [a-z-], 1 to 15 characters. */
#define VDC_DOC_WORD_MAX 15
/* A fact token (driver, virt, libvirt, version): [A-Za-z0-9._+~-], at most 16. */
#define VDC_DOC_FACT_MAX 16
/* A portal, ADDR:PORT: printable ASCII without spaces, at most 79 bytes. */
#define VDC_DOC_PORTAL_MAX 79
/* A join token as sent; the real one is 64 hex digits. */
#define VDC_DOC_TOKEN_MAX 128

/* What a host may report of itself (the ranges a real machine falls in). */
#define VDC_DOC_CPUS_MAX 8192u                  /* Linux's largest NR_CPUS */
#define VDC_DOC_MEMORY_MIB_MAX (1ull << 32)     /* 4 PiB: x86-64's 52-bit physical addresses */
#define VDC_DOC_DISK_MIB_MAX (1ull << 40)       /* 1 EiB */

/*
 * Usage figures (docs/agent-protocol.md, "Usage"): a host's cpu in
 * hundredths of a percent busy (0 to 100 %), an instance's in hundredths
 * of a percent of one host CPU (top's way: up to 100 % a vCPU, and a
 * guest has at most as many vCPUs as Linux has CPUs); load averages in
 * hundredths, at most Linux's largest number of tasks (PID_MAX_LIMIT,
 * 2^22) each; an instance's memory in KiB, at most the largest host's.
 * Counters of bytes and time are 0 to 2^63-1.
 */
#define VDC_DOC_HOST_CPU_MAX 10000
#define VDC_DOC_INST_CPU_MAX (10000ll * VDC_DOC_CPUS_MAX)
#define VDC_DOC_LOAD_MAX (100ll << 22)
#define VDC_DOC_MEMORY_KIB_MAX ((int64_t)VDC_DOC_MEMORY_MIB_MAX << 10)

/* Counts of entries in one report. */
#define VDC_DOC_INSTANCES_MAX 256     /* instances of a hypervisor */
#define VDC_DOC_INST_VOLUMES_MAX 16   /* volumes of one instance (vdc-hva's vdc..vdr) */
#define VDC_DOC_VOLUMES_MAX 1024      /* volumes of a storage host */
#define VDC_DOC_SNAPSHOTS_MAX 4096    /* snapshots of a storage host, all volumes together */

/*
 * The bytes of the largest report a real agent sends for the largest host
 * above, as jansson writes it (JSON_COMPACT). Each figure is an upper
 * bound: a JSON integer takes at most 20 bytes; a text of an agent at most
 * VDC_DOC_TEXT_MAX bytes, each escaped as \u00XX (6 bytes) in the worst
 * case, plus its quotes; every member at most 16 bytes of name, quotes,
 * colon and comma; every object or list 2 bytes of brackets.
 * tests/unit/test_agent_doc.c builds these worst-case reports and checks
 * that they fit and parse.
 */
#define VDC_DOC_INT_JSON 20
#define VDC_DOC_TEXT_JSON (2 + 6 * VDC_DOC_TEXT_MAX)
#define VDC_DOC_SHORT_JSON (2 + 6 * 32)         /* a word, fact, ip or domain name */
#define VDC_DOC_MEMBER 16
#define VDC_DOC_HVA_VOL_JSON (2 + 3 * VDC_DOC_MEMBER + VDC_DOC_INT_JSON + VDC_DOC_SHORT_JSON + VDC_DOC_TEXT_JSON + 1)
/* Usage: an instance's 8 integers, a host's cpu and three load averages. */
#define VDC_DOC_INST_USAGE_JSON (VDC_DOC_MEMBER + 2 + 8 * (VDC_DOC_MEMBER + VDC_DOC_INT_JSON))
#define VDC_DOC_HOST_USAGE_JSON (VDC_DOC_MEMBER + 2 + 2 * VDC_DOC_MEMBER + VDC_DOC_INT_JSON + 2 + \
				 3 * (VDC_DOC_INT_JSON + 1))
#define VDC_DOC_HVA_INST_JSON (2 + 10 * VDC_DOC_MEMBER + 4 * VDC_DOC_INT_JSON + 3 * VDC_DOC_SHORT_JSON + \
			       2 * VDC_DOC_TEXT_JSON + 2 + VDC_DOC_INST_VOLUMES_MAX * VDC_DOC_HVA_VOL_JSON + \
			       VDC_DOC_INST_USAGE_JSON + 1)
#define VDC_DOC_FACTS_JSON (2 + 8 * VDC_DOC_MEMBER + 3 * VDC_DOC_INT_JSON + 5 * VDC_DOC_SHORT_JSON + \
			    2 + VDC_DOC_PORTAL_MAX * 6)
#define VDC_DOC_HVA_REPORT_JSON (2 + 5 * VDC_DOC_MEMBER + 3 * VDC_DOC_INT_JSON + VDC_DOC_FACTS_JSON + \
				 VDC_DOC_HOST_USAGE_JSON + 2 + VDC_DOC_INSTANCES_MAX * VDC_DOC_HVA_INST_JSON)
#define VDC_DOC_STA_SNAP_JSON VDC_DOC_HVA_VOL_JSON
#define VDC_DOC_STA_VOL_JSON (2 + 8 * VDC_DOC_MEMBER + 4 * VDC_DOC_INT_JSON + VDC_DOC_SHORT_JSON + \
			      2 * VDC_DOC_TEXT_JSON + 2 + 1)
#define VDC_DOC_STA_REPORT_JSON (2 + 5 * VDC_DOC_MEMBER + 3 * VDC_DOC_INT_JSON + VDC_DOC_FACTS_JSON + 2 + \
				 VDC_DOC_VOLUMES_MAX * VDC_DOC_STA_VOL_JSON + \
				 VDC_DOC_SNAPSHOTS_MAX * VDC_DOC_STA_SNAP_JSON)
#define VDC_DOC_REPORT_BYTES_MAX \
	(VDC_DOC_HVA_REPORT_JSON > VDC_DOC_STA_REPORT_JSON ? VDC_DOC_HVA_REPORT_JSON : VDC_DOC_STA_REPORT_JSON)

/* The join request is a few hundred bytes; a stranger may send no more than this. */
#define VDC_DOC_JOIN_BYTES_MAX 4096

/* POST /v1/join. */
struct vdc_doc_join {
	char name[VDC_NAME_MAX + 1];
	char token[VDC_DOC_TOKEN_MAX + 1];
	bool sta;                                  /* kind "sta"; else "hva" */
};
int vdc_doc_join_parse(const char *buf, size_t len, struct vdc_doc_join *out, struct vdc_err *err);

/* A volume of an instance in a hypervisor's report; also a storage host's snapshot. */
struct vdc_doc_vol {
	int64_t id;
	char state[VDC_DOC_WORD_MAX + 1];
	char err[VDC_DOC_TEXT_MAX + 1];
};

/*
 * A running instance's usage figures ("usage" of its entry), each -1 when
 * not sent (not known): cpu in hundredths of a percent of one host CPU,
 * cpu_time_ns, memory_kib, bytes of its disks and nics, uptime in seconds.
 */
struct vdc_doc_usage {
	int64_t cpu, cpu_time_ns, memory_kib;
	int64_t disk_read, disk_written, net_received, net_sent;
	int64_t uptime;
};

struct vdc_doc_inst {
	int64_t id;
	char state[VDC_DOC_WORD_MAX + 1];
	char err[VDC_DOC_TEXT_MAX + 1];
	char ip[VDC_IPV4_TEXT];                    /* "" or a dotted quad */
	uint64_t reboot, reset;
	uint64_t migrated;                         /* the last live migration carried out */
	char progress[VDC_DOC_TEXT_MAX + 1];       /* of a live migration or an image fetch under way */
	struct vdc_doc_vol *vols;
	unsigned nvols;
	struct vdc_doc_usage usage;                /* every figure -1 when "usage" is absent */
};

/* POST /v1/hosts/NAME/report of a hypervisor. */
struct vdc_doc_hva_report {
	int64_t epoch, seq;
	unsigned cpus;
	uint64_t memory_mib;
	char driver[VDC_DOC_FACT_MAX + 1], virt[VDC_DOC_FACT_MAX + 1];
	char libvirt[VDC_DOC_FACT_MAX + 1], version[VDC_DOC_FACT_MAX + 1];
	char underlay[VDC_IPV4_TEXT];              /* "" or a dotted quad */
	int64_t cpu;                               /* "usage": hundredths of a percent busy; -1: not sent */
	int64_t load[3];                           /* hundredths, 1, 5, 15 minutes; -1: not sent */
	struct vdc_doc_inst *insts;
	size_t n;
};
int vdc_doc_hva_report_parse(const char *buf, size_t len, struct vdc_doc_hva_report *out,
			     struct vdc_err *err);
void vdc_doc_hva_report_release(struct vdc_doc_hva_report *r);

struct vdc_doc_sta_vol {
	int64_t id;
	char state[VDC_DOC_WORD_MAX + 1];
	char err[VDC_DOC_TEXT_MAX + 1];
	char progress[VDC_DOC_TEXT_MAX + 1];
	int64_t size, allocated, restore;         /* 0 when not sent */
	struct vdc_doc_vol *snaps;
	unsigned nsnaps;
};

/* POST /v1/hosts/NAME/report of a storage host (docs/storage.md). */
struct vdc_doc_sta_report {
	int64_t epoch, seq;
	uint64_t disk_mib;
	char driver[VDC_DOC_FACT_MAX + 1], version[VDC_DOC_FACT_MAX + 1];
	char portal[VDC_DOC_PORTAL_MAX + 1];
	struct vdc_doc_sta_vol *vols;
	size_t n;
};
int vdc_doc_sta_report_parse(const char *buf, size_t len, struct vdc_doc_sta_report *out,
			     struct vdc_err *err);
void vdc_doc_sta_report_release(struct vdc_doc_sta_report *r);

/*
 * The request line of a joined host's request: "/v1/hosts/NAME/REST"
 * into NAME (a checked object name) and REST (what follows the slash).
 * -EINVAL when the path is not of that shape.
 */
int vdc_doc_host_path(const char *url, char name[VDC_NAME_MAX + 1], const char **rest,
		      struct vdc_err *err);

/*
 * A number of the query (rev, wait, offset) or path (an instance id):
 * NULL gives `def`; else a decimal integer from `min` to `max` (-EINVAL for
 * its syntax, -ERANGE out of range).
 */
int vdc_doc_query_u64(const char *value, const char *what, uint64_t min, uint64_t max, uint64_t def,
		      uint64_t *out, struct vdc_err *err);

/*
 * Host text for run/err and run/events: `s`/`len` escaped and cut as the
 * contract says, into `out` (VDC_DOC_TEXT_MAX + 1 bytes, NUL-terminated).
 * Returns the length written.
 */
size_t vdc_doc_text_clean(const char *s, size_t len, char out[VDC_DOC_TEXT_MAX + 1]);

#endif
