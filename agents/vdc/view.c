/*
 * The arithmetic and text of `vdc top` and `vdc console` (view.h), kept
 * apart from files and the terminal so that it is tested alone.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "view.h"

struct vdc_num vdc_num_parse(const char *text, bool sizes)
{
	struct vdc_num n = { false, 0 };
	char *end;
	double v;

	if (!text || !*text)
		return n;
	errno = 0;
	v = strtod(text, &end);
	if (end == text || errno || !isfinite(v) || v < 0)
		return n;
	if (sizes && *end) {
		switch (*end++) {
		case 'K': v /= 1024; break;
		case 'M': break;
		case 'G': v *= 1024; break;
		case 'T': v *= 1024 * 1024; break;
		default: return n;
		}
	}
	while (*end == '\n' || *end == ' ')
		end++;
	if (*end)
		return n;
	n.has = true;
	n.v = v;
	return n;
}

void vdc_top_rates(struct vdc_top_inst *cur, const struct vdc_top_inst *prev, double dt)
{
	unsigned i;

	for (i = 0; i < VDC_NCOUNTERS; i++) {
		cur->rate[i].has = false;
		cur->rate[i].v = 0;
		if (!prev || dt <= 0 || !cur->count[i].has || !prev->count[i].has ||
		    cur->count[i].v < prev->count[i].v)
			continue;
		cur->rate[i].has = true;
		cur->rate[i].v = (cur->count[i].v - prev->count[i].v) / dt;
	}
}

static enum vdc_sort sort_by;

/* -1 when a comes first: the larger value first, a value before none. */
static int by_num(struct vdc_num a, struct vdc_num b)
{
	if (a.has != b.has)
		return a.has ? -1 : 1;
	if (!a.has || a.v == b.v)
		return 0;
	return a.v > b.v ? -1 : 1;
}

static int compare(const void *pa, const void *pb)
{
	const struct vdc_top_inst *a = pa, *b = pb;
	int c = 0;

	switch (sort_by) {
	case VDC_SORT_CPU:
		c = by_num(a->cpu, b->cpu);
		break;
	case VDC_SORT_MEMORY:
		/* What it uses, and what it was given where neither says. */
		c = by_num(a->mem_used_mib, b->mem_used_mib);
		if (!c)
			c = by_num(a->mem_mib, b->mem_mib);
		break;
	case VDC_SORT_NAME:
		break;
	}
	return c ? c : strcmp(a->name, b->name);
}

void vdc_top_sort(struct vdc_top_inst *rows, size_t n, enum vdc_sort by, bool reverse)
{
	size_t i;

	sort_by = by;
	qsort(rows, n, sizeof(*rows), compare);
	for (i = 0; reverse && i < n / 2; i++) {
		struct vdc_top_inst t = rows[i];

		rows[i] = rows[n - 1 - i];
		rows[n - 1 - i] = t;
	}
}

const char *vdc_sort_name(enum vdc_sort by)
{
	switch (by) {
	case VDC_SORT_CPU: return "cpu";
	case VDC_SORT_MEMORY: return "memory";
	case VDC_SORT_NAME: return "name";
	}
	return "?";
}

void vdc_human(struct vdc_num bytes, char *out, size_t size)
{
	static const char units[] = "BKMGTP";
	double v = bytes.v;
	unsigned u = 0;

	if (!bytes.has) {
		snprintf(out, size, "-");
		return;
	}
	while (v >= 1024 && u < sizeof(units) - 2) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(out, size, "%.0f", v);
	else if (v < 10)
		snprintf(out, size, "%.1f%c", v, units[u]);
	else
		snprintf(out, size, "%.0f%c", v, units[u]);
}

void vdc_bar(struct vdc_num frac, unsigned width, char *out, size_t size)
{
	unsigned i, fill;
	double f = frac.v;

	if (size < (size_t)width + 3) {
		if (size)
			out[0] = '\0';
		return;
	}
	if (f < 0 || !frac.has)
		f = 0;
	if (f > 1)
		f = 1;
	fill = (unsigned)lround(f * width);
	out[0] = '[';
	for (i = 0; i < width; i++)
		out[1 + i] = i < fill ? '#' : ' ';
	if (!frac.has && width)
		out[1] = '-';
	out[1 + width] = ']';
	out[2 + width] = '\0';
}

static void num_text(struct vdc_num n, const char *fmt, char *out, size_t size)
{
	if (n.has)
		snprintf(out, size, fmt, n.v);
	else
		snprintf(out, size, "-");
}

void vdc_inst_header(char *out, size_t size)
{
	snprintf(out, size, "%-20s %-10s %-12s %6s %11s %8s %8s %8s %8s  %s", "INSTANCE", "STATE", "HOST", "CPU%",
		 "MEM", "DISK-R/s", "DISK-W/s", "NET-RX/s", "NET-TX/s", "IP");
}

void vdc_inst_line(const struct vdc_top_inst *r, char *out, size_t size)
{
	char cpu[16], used[16], given[16], mem[40], rate[VDC_NCOUNTERS][16];
	unsigned i;

	num_text(r->cpu, "%.1f", cpu, sizeof(cpu));
	num_text(r->mem_used_mib, "%.0fM", used, sizeof(used));
	num_text(r->mem_mib, "%.0fM", given, sizeof(given));
	snprintf(mem, sizeof(mem), "%s/%s", used, given);
	for (i = 0; i < VDC_NCOUNTERS; i++)
		vdc_human(r->rate[i], rate[i], sizeof(rate[i]));
	snprintf(out, size, "%-20s %-10s %-12s %6s %11s %8s %8s %8s %8s  %s", r->name, r->state[0] ? r->state : "-",
		 r->host[0] ? r->host : "-", cpu, mem, rate[VDC_DISK_READ], rate[VDC_DISK_WRITTEN],
		 rate[VDC_NET_RECEIVED], rate[VDC_NET_SENT], r->ip[0] ? r->ip : "-");
}

void vdc_host_header(char *out, size_t size)
{
	snprintf(out, size, "%-20s %-8s %-18s %-24s %-7s %s", "HOST", "STATE", "CPU BUSY", "MEMORY RESERVED", "CPUS",
		 "LOAD");
}

void vdc_host_line(const struct vdc_top_host *h, char *out, size_t size)
{
	struct vdc_num busy = { h->cpu.has, h->cpu.v / 100 }, res;
	char cpubar[16], resbar[16], pct[8], cpus[24], mem[24];

	vdc_bar(busy, 10, cpubar, sizeof(cpubar));
	num_text(h->cpu, "%.0f%%", pct, sizeof(pct));
	res.has = h->mem_mib.has && h->mem_used_mib.has && h->mem_mib.v > 0;
	res.v = res.has ? h->mem_used_mib.v / h->mem_mib.v : 0;
	vdc_bar(res, 10, resbar, sizeof(resbar));
	if (h->cpus.has && h->cpus_used.has)
		snprintf(cpus, sizeof(cpus), "%.0f/%.0f", h->cpus_used.v, h->cpus.v);
	else
		snprintf(cpus, sizeof(cpus), "-");
	if (h->mem_mib.has && h->mem_used_mib.has)
		snprintf(mem, sizeof(mem), "%.0fM/%.0fM", h->mem_used_mib.v, h->mem_mib.v);
	else
		snprintf(mem, sizeof(mem), "-");
	snprintf(out, size, "%-20s %-8s %s %-5s %s %-11s %-7s %s", h->name, h->state[0] ? h->state : "-", cpubar, pct,
		 resbar, mem, cpus, h->load[0] ? h->load : "-");
}

size_t vdc_console_new_at(const char *prev, size_t plen, const char *cur, size_t clen)
{
	size_t *pi, i, k = 0, total;

	if (!plen || !clen)
		return 0;
	/*
	 * The longest end of prev that cur starts with: the prefix function
	 * of cur followed by prev (Knuth-Morris-Pratt), linear in both, a
	 * match never reaching across the seam into prev's part.
	 */
	total = clen + plen;
	pi = calloc(total, sizeof(*pi));
	if (!pi)
		return clen;   /* show nothing rather than all again */
	for (i = 1; i < total; i++) {
		char c = i < clen ? cur[i] : prev[i - clen];

		while (k > 0 && (k >= clen || cur[k] != c))
			k = pi[k - 1];
		if (k < clen && cur[k] == c)
			k++;
		pi[i] = k;
	}
	k = pi[total - 1];
	/* A match longer than prev reaches into cur's own end: take the next shorter one. */
	while (k > plen)
		k = pi[k - 1];
	free(pi);
	return k;
}
