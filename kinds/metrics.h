/*
 * Layer: kinds, the topmost: above every kind whose figures it reads
 * (host.h, place.h, volume.h, disk.h), below the front end, which serves
 * its text as /vdc/run/metrics.prom (docs/HACKING.md, "Layers").
 *
 * /vdc/run/metrics.prom: what the model knows of the data center and
 * vdcfs's own figures (counters.h), in the Prometheus text exposition
 * format 0.0.4 (docs/tree.md lists the families; names are ABI).
 *
 * Contract
 * --------
 * - Every function expects the model's read lock (the write lock does
 *   too) and takes no other lock: a render is one pass over the model
 *   into the caller's buffer, so a write waits at most for one render.
 * - What user `uid` sees: root everything; anyone else the instances and
 *   volumes they own (hosts are root's, as hosts/ is), and vdcfs's own
 *   figures, which name no object. Every label value is escaped
 *   (backslash, double quote, newline); every family has HELP and TYPE
 *   lines and its samples together, so `promtool check metrics` and
 *   node_exporter's textfile collector take the text unchanged.
 */
#ifndef VDC_METRICS_H
#define VDC_METRICS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "counters.h"
#include "model.h"

/* The whole file for `uid`: the data center's families, then vdcfs's own. */
void vdc_metrics_render(uid_t uid, struct strbuf *out);
/* The data center's families alone (the golden test's stable part). */
void vdc_metrics_render_model(uid_t uid, struct strbuf *out);
/* vdcfs's own families from figures `c` (the golden test gives fixed ones). */
void vdc_metrics_render_own(const struct vdc_counters *c, struct strbuf *out);

/* The label value `v` escaped for the exposition format (\\, \", \n). */
void vdc_metrics_escape(const char *v, struct strbuf *out);

struct vdc_lun;
/* The bytes a storage host holds for `lun` (NULL: none) when it is placed on one: true and *bytes. */
bool vdc_metrics_lun_allocated(const struct vdc_lun *lun, uint64_t *bytes);

/*
 * The objects of top-level kind `k` that `uid` may see, sorted by name
 * (free the array): the renderers of /vdc/run list them in this order.
 */
struct vdc_obj **vdc_visible_objects(const struct vdc_kind *k, uid_t uid, size_t *n);

#endif
