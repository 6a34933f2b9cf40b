/*
 * Layer: kinds, the highest: above host.h, place.h, instance.h, disk.h
 * and volume.h (which it reads); called only by the kinds' tables
 * (instances.c, hosts.c, volumes.c) (docs/HACKING.md, "Layers").
 *
 * Usage figures as files (docs/tree.md, "Usage"): what a running
 * instance uses (instances/NAME/run/cpu, cpu-time, memory-used,
 * disk-read, disk-written, net-received, net-sent, uptime), how busy a
 * hypervisor is (hosts/NAME/run/cpu, load), and the bytes a storage host
 * holds for a volume or an instance's disk (volumes/NAME/run/allocated,
 * instances/NAME/run/disk-allocated). The figures are the agents' last
 * reports (host.h keeps them); nothing here is stored.
 *
 * Contract
 * --------
 * - The show functions take the model's read lock (as every run file)
 *   and append one line, or nothing when the figure is not known: an
 *   instance that is not running (nor migrating live, when it still
 *   runs), a host that is silent or has not sent it, a volume on no
 *   storage host.
 * - The formatters are pure, so the text is tested alone
 *   (tests/unit/test_usage.c).
 */
#ifndef VDC_USAGE_H
#define VDC_USAGE_H

#include <stdint.h>

#include "host.h"
#include "model.h"
#include "strbuf.h"

/*
 * Formatters: `v` in hundredths as a number with `decimals` (1 or 2)
 * decimals, rounded half up ("12.5", "0.52"); nanoseconds as seconds
 * with two decimals, cut ("12.34"); KiB as whole MiB with "M" ("256M",
 * as the hosts' memory files). Nothing is appended for a negative `v`.
 */
void vdc_usage_format_hundredths(int64_t v, unsigned decimals, struct strbuf *out);
void vdc_usage_format_ns(int64_t ns, struct strbuf *out);
void vdc_usage_format_kib(int64_t kib, struct strbuf *out);
/* The three load averages (hundredths) as /proc/loadavg writes them: "0.52 0.58 0.59"; nothing if one is unknown. */
void vdc_usage_format_load(const int64_t load[3], struct strbuf *out);

/*
 * A running instance's figures as its host last reported them (each -1
 * when not sent), or NULL while it does not run (also for metrics.c).
 */
const struct vdc_usage *vdc_usage_of(const struct vdc_obj *inst);

/* instances/NAME/run/ */
void vdc_usage_show_cpu(const struct vdc_obj *inst, struct strbuf *out);
void vdc_usage_show_cpu_time(const struct vdc_obj *inst, struct strbuf *out);
void vdc_usage_show_memory_used(const struct vdc_obj *inst, struct strbuf *out);
void vdc_usage_show_disk_read(const struct vdc_obj *inst, struct strbuf *out);
void vdc_usage_show_disk_written(const struct vdc_obj *inst, struct strbuf *out);
void vdc_usage_show_net_received(const struct vdc_obj *inst, struct strbuf *out);
void vdc_usage_show_net_sent(const struct vdc_obj *inst, struct strbuf *out);
void vdc_usage_show_uptime(const struct vdc_obj *inst, struct strbuf *out);
void vdc_usage_show_disk_allocated(const struct vdc_obj *inst, struct strbuf *out);

/* hosts/NAME/run/ */
void vdc_usage_show_host_cpu(const struct vdc_obj *host, struct strbuf *out);
void vdc_usage_show_host_load(const struct vdc_obj *host, struct strbuf *out);

/* volumes/NAME/run/ */
void vdc_usage_show_volume_allocated(const struct vdc_obj *vol, struct strbuf *out);

#endif
