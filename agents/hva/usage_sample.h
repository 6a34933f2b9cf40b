/*
 * Usage figures for vdc-hva's report (docs/agent-protocol.md, "Usage";
 * docs/vdc-hva.md, "Usage figures"): how busy the host is (/proc/stat,
 * /proc/loadavg) and what each running domain uses (libvirt's domain
 * statistics: cpu.time, balloon.rss, block.N.rd/wr.bytes,
 * net.N.rx/tx.bytes; its qemu process's start for uptime).
 *
 * Contract
 * --------
 * - The parsers (hva_usage_proc_stat, _loadavg, _proc_starttime,
 *   _from_params) are pure: text or typed parameters in, figures out, so
 *   tests/unit/test_hva_usage.c checks them alone. A figure not known is
 *   -1.
 * - Rates (cpu) are deltas of counters between two samples at least
 *   HVA_USAGE_WINDOW_MS apart: a report sooner than that after the last
 *   sample says the last rate again, so a burst of reports after domain
 *   events does not turn the figure into noise. The first report of a
 *   domain (or of the host) has no rate yet.
 * - A struct hva_usage is the reporter thread's alone (no lock).
 */
#ifndef VDC_HVA_USAGE_SAMPLE_H
#define VDC_HVA_USAGE_SAMPLE_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include <libvirt/libvirt.h>

#include "report_doc.h"

#define HVA_USAGE_WINDOW_MS 1000

/* Where libvirt's qemu driver (system) writes each domain's pid file, DOMAIN.pid. */
#define HVA_USAGE_QEMU_RUNDIR "/run/libvirt/qemu"

/* hundredths of a percent: `used` of `total` (0 to 10000 when used <= total); -1 when total is 0. */
int64_t hva_usage_rate(uint64_t used, uint64_t total);

/*
 * The host's first line of /proc/stat ("cpu  user nice system idle
 * iowait irq softirq steal ..."): ticks busy (all but idle and iowait)
 * and in all. -EINVAL when it is not that.
 */
int hva_usage_proc_stat(const char *text, uint64_t *busy, uint64_t *total);
/* /proc/loadavg's three averages ("0.52 0.58 0.59 ...") in hundredths. -EINVAL when it is not that. */
int hva_usage_loadavg(const char *text, int64_t load[3]);
/* /proc/PID/stat's starttime (field 22: clock ticks after boot), read after the last ')'. */
int hva_usage_proc_starttime(const char *text, uint64_t *ticks);
/*
 * A domain's statistics record (virConnectGetAllDomainStats): cpu.time,
 * balloon.rss, and the bytes summed over every block.N and net.N into
 * `u` (cpu and uptime left as they are; what is absent stays -1).
 */
void hva_usage_from_params(const virTypedParameter *params, int n, struct hva_report_usage *u);
/* Every figure -1. */
void hva_usage_unknown(struct hva_report_usage *u);

/* The last sample of one domain. */
struct hva_usage_dom {
	char domain[64];
	uint64_t cpu_ns;              /* cpu.time at the sample */
	long at_ms;                   /* when (vdc_agent_now_ms) */
	long first_ms;                /* when this agent first saw it running */
	int64_t cpu;                  /* the last rate, -1: none yet */
	bool seen;                    /* in the report being built (sweep) */
};

struct hva_usage {
	uint64_t busy, total;         /* the host's last sample of /proc/stat */
	long at_ms;                   /* 0: none yet */
	int64_t cpu;                  /* the host's last rate, -1: none yet */
	struct hva_usage_dom *doms;
	size_t n, cap;
	char rundir[PATH_MAX];        /* the qemu driver's pid files */
	char proc[PATH_MAX];          /* /proc, or a test's stand-in */
};

void hva_usage_init(struct hva_usage *u);
void hva_usage_release(struct hva_usage *u);

/* The host's cpu (hundredths busy, -1: not yet) and load averages (hundredths, -1: not read), at `now_ms`. */
void hva_usage_host(struct hva_usage *u, long now_ms, int64_t *cpu, int64_t load[3]);

/*
 * A running domain's figures from its statistics record, at `now_ms`:
 * the counters as they are, the cpu rate since its last sample, and its
 * uptime from its qemu process's start (its pid file in rundir), else
 * from when this agent first saw it running.
 */
void hva_usage_domain(struct hva_usage *u, const char *domain, const virTypedParameter *params, int n,
		      long now_ms, struct hva_report_usage *out);

/* Start a report: every domain unseen. hva_usage_sweep() then forgets those not given to _domain since. */
void hva_usage_mark(struct hva_usage *u);
void hva_usage_sweep(struct hva_usage *u);

#endif
