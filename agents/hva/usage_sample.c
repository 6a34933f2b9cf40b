/*
 * Usage figures of the host and its domains (usage_sample.h has the contract).
 * libvirt gives counters (cpu.time, bytes); the rate top shows is the
 * counter's delta over the wall clock's, so the reporter keeps the last
 * sample of each domain and of the host. Uptime is not among libvirt's
 * statistics: the qemu process's start time (its pid file, then
 * /proc/PID/stat) is the domain's start, which survives a restart of the
 * agent; where there is no pid file (another driver, another run
 * directory), the time since this agent first saw the domain running is
 * the best it knows.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "strbuf.h"
#include "usage_sample.h"

int64_t hva_usage_rate(uint64_t used, uint64_t total)
{
	if (!total)
		return -1;
	if (used > UINT64_MAX / 10000)
		return (int64_t)(used / (total / 10000 ? total / 10000 : 1));
	return (int64_t)((used * 10000 + total / 2) / total);
}

int hva_usage_proc_stat(const char *text, uint64_t *busy, uint64_t *total)
{
	unsigned long long v[8] = { 0 };
	int got;

	if (strncmp(text, "cpu ", 4))
		return -EINVAL;
	got = sscanf(text + 4, "%llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		     &v[6], &v[7]);
	if (got < 4)
		return -EINVAL;
	/* user nice system idle iowait irq softirq steal; guest time is counted in user and nice already. */
	*total = v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
	*busy = *total - v[3] - v[4];
	return 0;
}

/* One "N.NN" of /proc/loadavg in hundredths; the end of it in *end. */
static int load_hundredths(const char *s, const char **end, int64_t *out)
{
	char *e;
	unsigned long whole = strtoul(s, &e, 10), frac = 0;

	if (e == s || *s == '-')
		return -EINVAL;
	if (*e == '.') {
		const char *f = e + 1;
		unsigned digits = 0;

		while (*f >= '0' && *f <= '9') {
			if (digits < 2)
				frac = frac * 10 + (unsigned long)(*f - '0');
			digits++;
			f++;
		}
		if (!digits)
			return -EINVAL;
		if (digits == 1)
			frac *= 10;
		e = (char *)f;
	}
	*out = (int64_t)whole * 100 + (int64_t)frac;
	*end = e;
	return 0;
}

int hva_usage_loadavg(const char *text, int64_t load[3])
{
	const char *p = text;
	int i;

	for (i = 0; i < 3; i++) {
		while (*p == ' ')
			p++;
		if (load_hundredths(p, &p, &load[i]) < 0 || (*p != ' ' && *p != '\n' && *p != 0)) {
			load[0] = load[1] = load[2] = -1;
			return -EINVAL;
		}
	}
	return 0;
}

int hva_usage_proc_starttime(const char *text, uint64_t *ticks)
{
	const char *p = strrchr(text, ')');
	unsigned long long v = 0;
	int field;

	if (!p)
		return -EINVAL;
	p++;
	/* After "pid (comm)": field 3 (state) is the first; starttime is field 22. */
	for (field = 3; field < 22; field++) {
		while (*p == ' ')
			p++;
		if (!*p)
			return -EINVAL;
		while (*p && *p != ' ')
			p++;
	}
	if (sscanf(p, " %llu", &v) != 1)
		return -EINVAL;
	*ticks = v;
	return 0;
}

void hva_usage_unknown(struct hva_report_usage *u)
{
	u->cpu = u->cpu_time_ns = u->memory_kib = -1;
	u->disk_read = u->disk_written = u->net_received = u->net_sent = u->uptime = -1;
}

/* An unsigned counter of a typed parameter, clamped to the wire's range. */
static int64_t param_u64(const virTypedParameter *p)
{
	unsigned long long v;

	switch (p->type) {
	case VIR_TYPED_PARAM_ULLONG: v = p->value.ul; break;
	case VIR_TYPED_PARAM_UINT: v = p->value.ui; break;
	case VIR_TYPED_PARAM_LLONG: v = p->value.l < 0 ? 0 : (unsigned long long)p->value.l; break;
	case VIR_TYPED_PARAM_INT: v = p->value.i < 0 ? 0 : (unsigned)p->value.i; break;
	default: return -1;
	}
	return v > INT64_MAX ? INT64_MAX : (int64_t)v;
}

/* Does `field` read "PREFIX.N.SUFFIX" (N digits)? */
static bool indexed(const char *field, const char *prefix, const char *suffix)
{
	size_t lp = strlen(prefix), ls = strlen(suffix), lf = strlen(field), i;

	if (lf <= lp + ls || strncmp(field, prefix, lp) || strcmp(field + lf - ls, suffix))
		return false;
	for (i = lp; i < lf - ls; i++)
		if (field[i] < '0' || field[i] > '9')
			return false;
	return true;
}

/* `*sum` += v, from unknown (-1) to known, never past INT64_MAX. */
static void add(int64_t *sum, int64_t v)
{
	if (v < 0)
		return;
	if (*sum < 0)
		*sum = 0;
	*sum = v > INT64_MAX - *sum ? INT64_MAX : *sum + v;
}

void hva_usage_from_params(const virTypedParameter *params, int n, struct hva_report_usage *u)
{
	int i;

	for (i = 0; i < n; i++) {
		const virTypedParameter *p = &params[i];
		int64_t v = param_u64(p);

		if (!strcmp(p->field, "cpu.time"))
			u->cpu_time_ns = v;
		else if (!strcmp(p->field, "balloon.rss"))
			u->memory_kib = v;
		else if (indexed(p->field, "block.", ".rd.bytes"))
			add(&u->disk_read, v);
		else if (indexed(p->field, "block.", ".wr.bytes"))
			add(&u->disk_written, v);
		else if (indexed(p->field, "net.", ".rx.bytes"))
			add(&u->net_received, v);
		else if (indexed(p->field, "net.", ".tx.bytes"))
			add(&u->net_sent, v);
	}
}

void hva_usage_init(struct hva_usage *u)
{
	memset(u, 0, sizeof(*u));
	u->cpu = -1;
	snprintf(u->rundir, sizeof(u->rundir), "%s", HVA_USAGE_QEMU_RUNDIR);
	snprintf(u->proc, sizeof(u->proc), "/proc");
}

void hva_usage_release(struct hva_usage *u)
{
	free(u->doms);
	u->doms = NULL;
	u->n = u->cap = 0;
}

/* The first line of a small file under /proc into `buf`; -errno. */
static int read_small(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");
	int rc = 0;

	if (!f)
		return -errno;
	if (!fgets(buf, (int)size, f))
		rc = -EIO;
	fclose(f);
	return rc;
}

void hva_usage_host(struct hva_usage *u, long now_ms, int64_t *cpu, int64_t load[3])
{
	char path[PATH_MAX + 16], buf[1024];
	uint64_t busy, total;

	load[0] = load[1] = load[2] = -1;
	snprintf(path, sizeof(path), "%s/loadavg", u->proc);
	if (read_small(path, buf, sizeof(buf)) == 0)
		hva_usage_loadavg(buf, load);
	snprintf(path, sizeof(path), "%s/stat", u->proc);
	if (read_small(path, buf, sizeof(buf)) == 0 && hva_usage_proc_stat(buf, &busy, &total) == 0) {
		if (!u->at_ms || total < u->total || busy < u->busy) {
			u->busy = busy;
			u->total = total;
			u->at_ms = now_ms;
		} else if (now_ms - u->at_ms >= HVA_USAGE_WINDOW_MS && total > u->total) {
			u->cpu = hva_usage_rate(busy - u->busy, total - u->total);
			u->busy = busy;
			u->total = total;
			u->at_ms = now_ms;
		}
	}
	*cpu = u->cpu;
}

static struct hva_usage_dom *dom_find(struct hva_usage *u, const char *domain, long now_ms)
{
	struct hva_usage_dom *d;
	size_t i;

	for (i = 0; i < u->n; i++)
		if (!strcmp(u->doms[i].domain, domain))
			return &u->doms[i];
	if (u->n == u->cap) {
		u->cap = u->cap ? u->cap * 2 : 16;
		u->doms = xrealloc(u->doms, u->cap * sizeof(*u->doms));
	}
	d = &u->doms[u->n++];
	memset(d, 0, sizeof(*d));
	snprintf(d->domain, sizeof(d->domain), "%s", domain);
	d->cpu = -1;
	d->first_ms = now_ms;
	return d;
}

/* Seconds since the domain's qemu process started, from its pid file; -1 when there is none. */
static int64_t qemu_uptime(const struct hva_usage *u, const char *domain)
{
	char path[PATH_MAX + 96], buf[1024];
	uint64_t ticks;
	struct timespec now;
	long hz = sysconf(_SC_CLK_TCK), pid;
	int64_t up;

	snprintf(path, sizeof(path), "%s/%s.pid", u->rundir, domain);
	if (read_small(path, buf, sizeof(buf)) < 0 || (pid = strtol(buf, NULL, 10)) <= 0 || hz <= 0)
		return -1;
	snprintf(path, sizeof(path), "%s/%ld/stat", u->proc, pid);
	if (read_small(path, buf, sizeof(buf)) < 0 || hva_usage_proc_starttime(buf, &ticks) < 0)
		return -1;
	clock_gettime(CLOCK_BOOTTIME, &now);
	up = (int64_t)now.tv_sec - (int64_t)(ticks / (uint64_t)hz);
	return up < 0 ? 0 : up;
}

void hva_usage_domain(struct hva_usage *u, const char *domain, const virTypedParameter *params, int n,
		      long now_ms, struct hva_report_usage *out)
{
	struct hva_usage_dom *d = dom_find(u, domain, now_ms);

	hva_usage_unknown(out);
	hva_usage_from_params(params, n, out);
	d->seen = true;
	if (out->cpu_time_ns >= 0) {
		uint64_t c = (uint64_t)out->cpu_time_ns;

		if (!d->at_ms || c < d->cpu_ns) {
			/* The first sample, or the domain started again: a new window. */
			if (d->at_ms)
				d->cpu = -1, d->first_ms = now_ms;
			d->cpu_ns = c;
			d->at_ms = now_ms;
		} else if (now_ms - d->at_ms >= HVA_USAGE_WINDOW_MS) {
			d->cpu = hva_usage_rate(c - d->cpu_ns, (uint64_t)(now_ms - d->at_ms) * 1000000u);
			d->cpu_ns = c;
			d->at_ms = now_ms;
		}
	}
	out->cpu = d->cpu;
	out->uptime = qemu_uptime(u, domain);
	if (out->uptime < 0)
		out->uptime = (now_ms - d->first_ms) / 1000;
}

void hva_usage_mark(struct hva_usage *u)
{
	size_t i;

	for (i = 0; i < u->n; i++)
		u->doms[i].seen = false;
}

void hva_usage_sweep(struct hva_usage *u)
{
	size_t i = 0;

	while (i < u->n) {
		if (u->doms[i].seen) {
			i++;
			continue;
		}
		u->doms[i] = u->doms[--u->n];
	}
}
