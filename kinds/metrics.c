/*
 * /vdc/run/metrics.prom (metrics.h): the Prometheus text exposition
 * format, rendered from the model for one reader at every open.
 *
 * A render runs under the model's read lock, which every write waits for,
 * so it is written to be short: the visible objects are collected and
 * sorted once, each object's labels are escaped once into one buffer,
 * and the samples are appended with memcpy and a hand-made decimal
 * conversion rather than printf (docs/performance.md: 1,000 instances on
 * 100 hosts). The families are listed in docs/tree.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "disk.h"
#include "host.h"
#include "instance.h"
#include "kinds.h"
#include "lun.h"
#include "metrics.h"
#include "place.h"
#include "usage.h"
#include "volume.h"

/* ---- appending fast ---- */

static void add(struct strbuf *out, const char *s, size_t n)
{
	strbuf_add(out, s, n);
}

#define ADDLIT(out, lit) add((out), (lit), sizeof(lit) - 1)

/* `v` in decimal at the end of `b`, without printf; returns where it starts. */
static size_t u64_text(uint64_t v, char b[24])
{
	size_t i = 24;

	do {
		b[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return i;
}

static void add_u64(struct strbuf *out, uint64_t v)
{
	char b[24];
	size_t i = u64_text(v, b);

	add(out, b + i, sizeof(b) - i);
}

static void add_i64(struct strbuf *out, int64_t v)
{
	if (v < 0) {
		strbuf_addch(out, '-');
		add_u64(out, (uint64_t)0 - (uint64_t)v);
	} else {
		add_u64(out, (uint64_t)v);
	}
}

void vdc_metrics_escape(const char *v, struct strbuf *out)
{
	const char *run = v;
	size_t plain = strcspn(v, "\\\"\n");

	/* Names are [a-z0-9-]: nearly always nothing to escape, found at once. */
	if (!v[plain]) {
		add(out, v, plain);
		return;
	}
	for (; *v; v++) {
		const char *esc = *v == '\\' ? "\\\\" : *v == '"' ? "\\\"" : *v == '\n' ? "\\n" : NULL;

		if (!esc)
			continue;
		add(out, run, (size_t)(v - run));
		add(out, esc, 2);
		run = v + 1;
	}
	add(out, run, (size_t)(v - run));
}

/* `name="value"` with the value escaped; a comma before it unless first. */
static void add_label(struct strbuf *out, const char *name, const char *value, bool first)
{
	if (!first)
		strbuf_addch(out, ',');
	strbuf_addstr(out, name);
	ADDLIT(out, "=\"");
	vdc_metrics_escape(value, out);
	strbuf_addch(out, '"');
}

static void family(struct strbuf *out, const char *name, const char *type, const char *help)
{
	ADDLIT(out, "# HELP ");
	strbuf_addstr(out, name);
	strbuf_addch(out, ' ');
	strbuf_addstr(out, help);   /* our own text: no backslash, no newline */
	ADDLIT(out, "\n# TYPE ");
	strbuf_addstr(out, name);
	strbuf_addch(out, ' ');
	strbuf_addstr(out, type);
	strbuf_addch(out, '\n');
}

/*
 * One sample: NAME{LABELS} VALUE, the labels already escaped, the value
 * already text. The hot path of a render (a line per object and family):
 * one growth check, then the bytes written in place.
 */
static void sample_text(struct strbuf *out, const char *name, size_t nlen, const char *labels, size_t llen,
			const char *v, size_t vlen)
{
	char *p;

	strbuf_grow(out, nlen + llen + 4 + vlen);
	p = out->buf + out->len;
	memcpy(p, name, nlen);
	p += nlen;
	*p++ = '{';
	memcpy(p, labels, llen);
	p += llen;
	*p++ = '}';
	*p++ = ' ';
	memcpy(p, v, vlen);
	p += vlen;
	*p++ = '\n';
	strbuf_setlen(out, (size_t)(p - out->buf));
}

/* The same with an integer value. */
static void sample(struct strbuf *out, const char *name, size_t nlen, const char *labels, size_t llen, uint64_t v)
{
	char digits[24];
	size_t d = u64_text(v, digits);

	sample_text(out, name, nlen, labels, llen, digits + d, sizeof(digits) - d);
}

/* The same with a value given in hundredths ("12.34"). */
static void sample_hundredths(struct strbuf *out, const char *name, size_t nlen, const char *labels, size_t llen,
			      uint64_t v)
{
	char text[32];
	int n = snprintf(text, sizeof(text), "%llu.%02llu", (unsigned long long)(v / 100), (unsigned long long)(v % 100));

	sample_text(out, name, nlen, labels, llen, text, (size_t)n);
}

/* A sample of family NAME (a string literal) for object i of a struct labelled. */
#define SAMPLE(out, name, l, i, extra, v) \
	sample((out), (name), sizeof(name) - 1, (l).labels.buf + (l).off[i], (l).len[i] + ((extra) ? (l).xlen[i] : 0), (v))
/* The same of a value in hundredths, with the object's first labels only. */
#define SAMPLE_HUNDREDTHS(out, name, l, i, v) \
	sample_hundredths((out), (name), sizeof(name) - 1, (l).labels.buf + (l).off[i], (l).len[i], (v))

/* ---- the objects a reader sees ---- */

static int by_name(const void *a, const void *b)
{
	return strcmp((*(struct vdc_obj *const *)a)->name, (*(struct vdc_obj *const *)b)->name);
}

struct vdc_obj **vdc_visible_objects(const struct vdc_kind *k, uid_t uid, size_t *n)
{
	const struct vdc_map *all = k ? vdc_kind_objects(k) : NULL;
	struct vdc_obj **v;
	struct vdc_map_entry *e;
	size_t b;

	*n = 0;
	if (!all || !all->count)
		return NULL;
	v = xmalloc(all->count * sizeof(*v));
	for (e = vdc_map_first(all, &b); e; e = vdc_map_next(all, e, &b)) {
		struct vdc_obj *o = e->value;

		if (uid == 0 || o->uid == uid)
			v[(*n)++] = o;
	}
	qsort(v, *n, sizeof(*v), by_name);
	return v;
}

/*
 * The objects of one kind with their labels escaped once: labels.buf +
 * off[i] holds object i's, len[i] bytes, and `extra` (a third label such
 * as state="running") follows them from off[i] + len[i] for xlen[i].
 */
struct labelled {
	struct vdc_obj **v;
	size_t n;
	struct strbuf labels;
	size_t *off, *len, *xlen;
};

static void labelled_release(struct labelled *l)
{
	free(l->v);
	free(l->off);
	free(l->len);
	free(l->xlen);
	strbuf_release(&l->labels);
}

static void labelled_init(struct labelled *l, const struct vdc_kind *k, uid_t uid)
{
	memset(l, 0, sizeof(*l));
	l->v = vdc_visible_objects(k, uid, &l->n);
	strbuf_init(&l->labels, l->n * 48);
	l->off = xcalloc(l->n + 1, sizeof(size_t));
	l->len = xcalloc(l->n + 1, sizeof(size_t));
	l->xlen = xcalloc(l->n + 1, sizeof(size_t));
}

static const char *host_of_volume(const struct vdc_obj *vol)
{
	const struct vdc_lun *lun = vol->priv;

	return lun ? lun->host : "";
}

/*
 * The bytes a storage host holds for a LUN (a volume's: its obj->priv; an
 * instance's disk: its place's `disk`), when known: placed on a host that
 * exists. Read from the LUN as it is, never through the kinds' accessors,
 * which make a missing LUN (a write under the read lock).
 */
bool vdc_metrics_lun_allocated(const struct vdc_lun *lun, uint64_t *bytes)
{
	if (!lun || !vdc_lun_host(lun))
		return false;
	*bytes = lun->allocated;
	return true;
}

/* ---- the data center's families ---- */

/*
 * An instance's disk size without disk-size is its image's, which
 * vdc_disk_size reads from the image's file: once per image in a render,
 * not once per instance (a thousand instances of one image).
 */
struct disk_sizes {
	struct vdc_imap by_image;   /* image id -> size + 1 */
};

static uint64_t disk_size(struct disk_sizes *memo, const struct vdc_obj *inst)
{
	const struct vdc_link *img = inst->attrs[VDC_INSTANCE_IMAGE].link;
	const struct vdc_obj *t = img ? vdc_link_target(img) : NULL;
	size_t len;
	uintptr_t v;

	vdc_attr_value(inst, VDC_INSTANCE_DISK_SIZE, &len);
	if (len || !t)
		return vdc_disk_size(inst);
	v = (uintptr_t)vdc_imap_get(&memo->by_image, (uint64_t)t->id);
	if (!v) {
		v = (uintptr_t)vdc_disk_size(inst) + 1;
		vdc_imap_put(&memo->by_image, (uint64_t)t->id, (void *)v);
	}
	return (uint64_t)(v - 1);
}

/*
 * The instances `uid` sees with their labels: instance and host, then
 * state. Made once a render for the model's families and the usage ones.
 */
static void instance_labels(struct labelled *l, uid_t uid)
{
	size_t i;

	labelled_init(l, vdc_kind(VDC_KIND_INSTANCES), uid);
	for (i = 0; i < l->n; i++) {
		const struct vdc_obj *o = l->v[i];
		const struct vdc_place *p = o->priv;

		l->off[i] = l->labels.len;
		add_label(&l->labels, "instance", o->name, true);
		add_label(&l->labels, "host", p ? p->host : "", false);
		l->len[i] = l->labels.len - l->off[i];
		add_label(&l->labels, "state", o->state ? o->state : "", false);
		l->xlen[i] = l->labels.len - l->off[i] - l->len[i];
	}
}

/* The hosts with their labels: host, then role and state. */
static void host_labels(struct labelled *l, uid_t uid)
{
	size_t i;

	labelled_init(l, vdc_hosts_kind(), uid);
	for (i = 0; i < l->n; i++) {
		const struct vdc_host *h = vdc_host_of(l->v[i]);

		l->off[i] = l->labels.len;
		add_label(&l->labels, "host", l->v[i]->name, true);
		l->len[i] = l->labels.len - l->off[i];
		add_label(&l->labels, "role", h->role == VDC_ROLE_STA ? "storage" : "hypervisor", false);
		add_label(&l->labels, "state", l->v[i]->state ? l->v[i]->state : "", false);
		l->xlen[i] = l->labels.len - l->off[i] - l->len[i];
	}
}

static void instances(const struct labelled *l, struct strbuf *out)
{
	__do_free unsigned *cpus = NULL;
	__do_free uint64_t *mem = NULL;
	__do_free bool *running = NULL;
	size_t i;

	cpus = xcalloc(l->n + 1, sizeof(*cpus));
	mem = xcalloc(l->n + 1, sizeof(*mem));
	running = xcalloc(l->n + 1, sizeof(*running));
	/* The reader waits for nothing but this pass: each figure of an object is found once. */
	strbuf_grow(out, l->n * 560);
	for (i = 0; i < l->n; i++) {
		vdc_instance_size(l->v[i], &cpus[i], &mem[i]);
		running[i] = vdc_instance_is(l->v[i], VDC_ISTATE_RUNNING);
	}
	family(out, "vdc_instance_info", "gauge",
	       "An instance the reader may see, with its run/state and run/host (always 1).");
	for (i = 0; i < l->n; i++)
		SAMPLE(out, "vdc_instance_info", *l, i, true, 1);
	family(out, "vdc_instance_running", "gauge", "1 while the instance's run/state is running, else 0.");
	for (i = 0; i < l->n; i++)
		SAMPLE(out, "vdc_instance_running", *l, i, false, running[i]);
	family(out, "vdc_instance_cpus", "gauge", "Virtual CPUs the instance is given (its cpus).");
	for (i = 0; i < l->n; i++)
		SAMPLE(out, "vdc_instance_cpus", *l, i, false, cpus[i]);
	family(out, "vdc_instance_memory_bytes", "gauge", "Memory the instance is given (its memory), in bytes.");
	for (i = 0; i < l->n; i++)
		SAMPLE(out, "vdc_instance_memory_bytes", *l, i, false, mem[i]);
	family(out, "vdc_instance_disk_bytes", "gauge",
	       "Size of the instance's root disk (disk-size, else its image's), in bytes; 0 while unknown.");
	{
		struct disk_sizes memo = { 0 };

		for (i = 0; i < l->n; i++)
			SAMPLE(out, "vdc_instance_disk_bytes", *l, i, false, disk_size(&memo, l->v[i]));
		vdc_imap_clear(&memo.by_image);
	}
	family(out, "vdc_instance_disk_allocated_bytes", "gauge",
	       "Bytes the storage host of the instance's root disk holds for it, as last reported (only disks placed on one).");
	for (i = 0; i < l->n; i++) {
		const struct vdc_place *p = l->v[i]->priv;
		uint64_t bytes;

		if (p && vdc_metrics_lun_allocated(p->disk, &bytes))
			SAMPLE(out, "vdc_instance_disk_allocated_bytes", *l, i, false, bytes);
	}
}

static void hosts(const struct labelled *l, struct strbuf *out)
{
	size_t i;

	family(out, "vdc_host_info", "gauge", "A host of the data center, with its role and run/state (always 1).");
	for (i = 0; i < l->n; i++)
		SAMPLE(out, "vdc_host_info", *l, i, true, 1);
	family(out, "vdc_host_up", "gauge", "1 while the host's agent reports (run/state up), else 0.");
	for (i = 0; i < l->n; i++)
		SAMPLE(out, "vdc_host_up", *l, i, false, vdc_host_is_up(l->v[i]));

	/* What a host offers is its role's: cpus and memory for a hypervisor, disk for a storage host. */
#define HOST_FIGURE(role_, metric, help, expr)                                                 \
	family(out, metric, "gauge", help);                                                    \
	for (i = 0; i < l->n; i++) {                                                            \
		const struct vdc_host *h = vdc_host_of(l->v[i]);                                \
		if (h->role == (role_))                                                        \
			SAMPLE(out, metric, *l, i, false, (uint64_t)(expr));        \
	}
	HOST_FIGURE(VDC_ROLE_HVA, "vdc_host_cpus", "CPUs the host offers, as its agent reported (run/cpus).", h->cpus)
	HOST_FIGURE(VDC_ROLE_HVA, "vdc_host_cpus_reserved", "CPUs the instances placed on the host take (run/cpus-used).",
		    h->cpus_used)
	HOST_FIGURE(VDC_ROLE_HVA, "vdc_host_memory_bytes", "Memory the host offers, as its agent reported, in bytes (run/memory).",
		    h->memory)
	HOST_FIGURE(VDC_ROLE_HVA, "vdc_host_memory_reserved_bytes",
		    "Memory the instances placed on the host take, in bytes (run/memory-used).", h->memory_used)
	HOST_FIGURE(VDC_ROLE_STA, "vdc_host_disk_bytes", "Bytes a storage host offers for volumes and disks (run/disk).", h->disk)
	HOST_FIGURE(VDC_ROLE_STA, "vdc_host_disk_reserved_bytes",
		    "Bytes the volumes and disks placed on a storage host take (run/disk-used).", h->disk_used)
#undef HOST_FIGURE
}

static void volumes(uid_t uid, struct strbuf *out)
{
	const struct vdc_kind *k = vdc_kind(VDC_KIND_VOLUMES);
	struct labelled l;
	size_t i;

	labelled_init(&l, k, uid);
	for (i = 0; i < l.n; i++) {
		l.off[i] = l.labels.len;
		add_label(&l.labels, "volume", l.v[i]->name, true);
		add_label(&l.labels, "host", host_of_volume(l.v[i]), false);
		l.len[i] = l.labels.len - l.off[i];
		add_label(&l.labels, "state", l.v[i]->state ? l.v[i]->state : "", false);
		l.xlen[i] = l.labels.len - l.off[i] - l.len[i];
	}
	family(out, "vdc_volume_info", "gauge", "A volume the reader may see, with its storage host and run/state (always 1).");
	for (i = 0; i < l.n; i++)
		SAMPLE(out, "vdc_volume_info", l, i, true, 1);
	family(out, "vdc_volume_size_bytes", "gauge", "The volume's size, in bytes.");
	for (i = 0; i < l.n; i++)
		SAMPLE(out, "vdc_volume_size_bytes", l, i, false, vdc_volume_size(l.v[i]));
	family(out, "vdc_volume_allocated_bytes", "gauge",
	       "Bytes the volume's storage host holds for it, as last reported (only volumes placed on one).");
	for (i = 0; i < l.n; i++) {
		uint64_t bytes;

		if (vdc_metrics_lun_allocated(l.v[i]->priv, &bytes))
			SAMPLE(out, "vdc_volume_allocated_bytes", l, i, false, bytes);
	}
	labelled_release(&l);
}

/*
 * The usage figures the hypervisors report (usage.h: instances' run/cpu,
 * cpu-time, memory-used, disk-read, disk-written, net-received, net-sent,
 * uptime; hosts' run/cpu and run/load), with the labels of the families
 * above (instance and host, or host). An instance that does not run, a
 * figure not reported and a silent host have no sample, as their files
 * are empty. Volumes' and disks' run/allocated are
 * vdc_volume_allocated_bytes and vdc_instance_disk_allocated_bytes above.
 */
static void usage_instances(const struct labelled *l, struct strbuf *out)
{
	__do_free const struct vdc_usage **u = NULL;
	size_t i;

	u = xcalloc(l->n + 1, sizeof(*u));
	for (i = 0; i < l->n; i++)
		u[i] = vdc_usage_of(l->v[i]);
	/* One family of one figure: a sample for each instance that has it. */
#define USAGE_FIGURE(metric, type, help, field, emit)                                          \
	family(out, metric, type, help);                                                       \
	for (i = 0; i < l->n; i++) {                                                            \
		if (u[i] && u[i]->field >= 0)                                                  \
			emit;                                                                  \
	}
	USAGE_FIGURE("vdc_instance_cpu_percent", "gauge",
		     "Percent of one host CPU the instance used over the last report interval, up to 100 per vCPU (run/cpu).",
		     cpu, SAMPLE_HUNDREDTHS(out, "vdc_instance_cpu_percent", *l, i, (uint64_t)u[i]->cpu))
	USAGE_FIGURE("vdc_instance_cpu_seconds_total", "counter",
		     "CPU seconds the guest has used since it started (run/cpu-time).",
		     cpu_time_ns, SAMPLE_HUNDREDTHS(out, "vdc_instance_cpu_seconds_total", *l, i,
						    (uint64_t)u[i]->cpu_time_ns / 10000000))
	USAGE_FIGURE("vdc_instance_memory_used_bytes", "gauge",
		     "Host memory the guest holds, in bytes (run/memory-used).",
		     memory_kib, SAMPLE(out, "vdc_instance_memory_used_bytes", *l, i, false, (uint64_t)u[i]->memory_kib * 1024))
	USAGE_FIGURE("vdc_instance_disk_read_bytes_total", "counter", "Bytes read from all its disks (run/disk-read).",
		     disk_read, SAMPLE(out, "vdc_instance_disk_read_bytes_total", *l, i, false, (uint64_t)u[i]->disk_read))
	USAGE_FIGURE("vdc_instance_disk_written_bytes_total", "counter", "Bytes written to all its disks (run/disk-written).",
		     disk_written,
		     SAMPLE(out, "vdc_instance_disk_written_bytes_total", *l, i, false, (uint64_t)u[i]->disk_written))
	USAGE_FIGURE("vdc_instance_net_received_bytes_total", "counter", "Bytes received by all its nics (run/net-received).",
		     net_received,
		     SAMPLE(out, "vdc_instance_net_received_bytes_total", *l, i, false, (uint64_t)u[i]->net_received))
	USAGE_FIGURE("vdc_instance_net_sent_bytes_total", "counter", "Bytes sent by all its nics (run/net-sent).",
		     net_sent, SAMPLE(out, "vdc_instance_net_sent_bytes_total", *l, i, false, (uint64_t)u[i]->net_sent))
	USAGE_FIGURE("vdc_instance_uptime_seconds", "gauge", "Seconds the guest has been running (run/uptime).",
		     uptime, SAMPLE(out, "vdc_instance_uptime_seconds", *l, i, false, (uint64_t)u[i]->uptime))
#undef USAGE_FIGURE
}

static void usage_hosts(const struct labelled *l, struct strbuf *out)
{
	static const char *const load_names[3] = { "vdc_host_load1", "vdc_host_load5", "vdc_host_load15" };
	static const char *const load_helps[3] = {
		"The host's load average over 1 minute (run/load, first).",
		"The host's load average over 5 minutes (run/load, second).",
		"The host's load average over 15 minutes (run/load, third).",
	};
	size_t i;
	unsigned k;

	family(out, "vdc_host_cpu_percent", "gauge", "Percent of the host's CPUs busy over its last report interval (run/cpu).");
	for (i = 0; i < l->n; i++) {
		const struct vdc_host *h = vdc_host_of(l->v[i]);

		if (vdc_host_is_up(l->v[i]) && h->cpu_busy >= 0)
			SAMPLE_HUNDREDTHS(out, "vdc_host_cpu_percent", *l, i, (uint64_t)h->cpu_busy);
	}
	for (k = 0; k < 3; k++) {
		family(out, load_names[k], "gauge", load_helps[k]);
		for (i = 0; i < l->n; i++) {
			const struct vdc_host *h = vdc_host_of(l->v[i]);

			if (vdc_host_is_up(l->v[i]) && h->load[k] >= 0)
				sample_hundredths(out, load_names[k], strlen(load_names[k]), l->labels.buf + l->off[i], l->len[i],
						  (uint64_t)h->load[k]);
		}
	}
}

void vdc_metrics_render_model(uid_t uid, struct strbuf *out)
{
	struct labelled li, lh;

	instance_labels(&li, uid);
	host_labels(&lh, uid);
	instances(&li, out);
	hosts(&lh, out);
	volumes(uid, out);
	usage_instances(&li, out);
	usage_hosts(&lh, out);
	labelled_release(&li);
	labelled_release(&lh);
}

/* ---- vdcfs's own ---- */

static void counter(struct strbuf *out, const char *name, const char *help, uint64_t v)
{
	family(out, name, "counter", help);
	strbuf_addstr(out, name);
	strbuf_addch(out, ' ');
	add_u64(out, v);
	strbuf_addch(out, '\n');
}

void vdc_metrics_render_own(const struct vdc_counters *c, struct strbuf *out)
{
	char num[48];
	uint64_t cum = 0;
	unsigned i;

	family(out, "vdcfs_fuse_requests_total", "counter", "FUSE requests vdcfs served, by operation.");
	for (i = 0; i < VDC_FOP_COUNT; i++) {
		ADDLIT(out, "vdcfs_fuse_requests_total{op=\"");
		strbuf_addstr(out, vdc_fop_name(i));
		ADDLIT(out, "\"} ");
		add_u64(out, c->fuse[i]);
		strbuf_addch(out, '\n');
	}
	family(out, "vdcfs_agent_connections_open", "gauge", "Connections of agents to the agent server open now.");
	ADDLIT(out, "vdcfs_agent_connections_open ");
	add_i64(out, c->g[VDC_G_AGENT_OPEN]);
	strbuf_addch(out, '\n');
	counter(out, "vdcfs_agent_connections_total", "Connections the agent server accepted.",
		c->c[VDC_C_AGENT_ACCEPTED]);
	family(out, "vdcfs_agent_refused_total", "counter",
	       "Connections and requests the agent server refused (limits, tokens, bad documents).");
	ADDLIT(out, "vdcfs_agent_refused_total{what=\"connection\"} ");
	add_u64(out, c->c[VDC_C_AGENT_REFUSED_CONN]);
	ADDLIT(out, "\nvdcfs_agent_refused_total{what=\"request\"} ");
	add_u64(out, c->c[VDC_C_AGENT_REFUSED_REQ]);
	strbuf_addch(out, '\n');
	counter(out, "vdcfs_agent_reports_total", "Reports of agents accepted.", c->c[VDC_C_AGENT_REPORTS]);
	counter(out, "vdcfs_agent_desired_total", "Desired states served to agents (long-polls answered).",
		c->c[VDC_C_AGENT_POLLS]);
	family(out, "vdcfs_store_commit_seconds", "histogram", "Time of each commit of the sqlite store.");
	for (i = 0; i < VDC_COMMIT_BUCKETS; i++) {
		cum += c->commit_bucket[i];
		snprintf(num, sizeof(num), "%g", (double)vdc_commit_bucket_us[i] / 1e6);
		ADDLIT(out, "vdcfs_store_commit_seconds_bucket{le=\"");
		strbuf_addstr(out, num);
		ADDLIT(out, "\"} ");
		add_u64(out, cum);
		strbuf_addch(out, '\n');
	}
	ADDLIT(out, "vdcfs_store_commit_seconds_bucket{le=\"+Inf\"} ");
	add_u64(out, c->commit_count);
	snprintf(num, sizeof(num), "%.9f", (double)c->commit_sum_ns / 1e9);
	ADDLIT(out, "\nvdcfs_store_commit_seconds_sum ");
	strbuf_addstr(out, num);
	ADDLIT(out, "\nvdcfs_store_commit_seconds_count ");
	add_u64(out, c->commit_count);
	strbuf_addch(out, '\n');
	counter(out, "vdcfs_events_total", "Event lines written to the events log.", c->c[VDC_C_EVENTS]);
}

void vdc_metrics_render(uid_t uid, struct strbuf *out)
{
	struct vdc_counters c;

	vdc_metrics_render_model(uid, out);
	vdc_counters_read(&c);
	vdc_metrics_render_own(&c, out);
}
