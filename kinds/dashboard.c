/*
 * /vdc/run/dashboard.html (dashboard.h). The page is plain HTML 5 with
 * one <style> and inline SVG: bars are two rectangles, a sparkline is a
 * polyline over the last hour's minutes (history.h). It is rendered at
 * each open under the model's read lock, like metrics.prom, so it lists
 * what a page can show at a glance and stops: the last
 * VDC_DASHBOARD_EVENTS events, every object the reader may see.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dashboard.h"
#include "disk.h"
#include "history.h"
#include "host.h"
#include "instance.h"
#include "kinds.h"
#include "lun.h"
#include "metrics.h"
#include "place.h"
#include "usage.h"
#include "volume.h"

#define BAR_W 160
#define SPARK_W 120
#define SPARK_H 20

void vdc_html_escape(const char *s, size_t len, struct strbuf *out)
{
	size_t i, run = 0;

	for (i = 0; i < len; i++) {
		const char *e;

		switch (s[i]) {
		case '&': e = "&amp;"; break;
		case '<': e = "&lt;"; break;
		case '>': e = "&gt;"; break;
		case '"': e = "&quot;"; break;
		case '\'': e = "&#39;"; break;
		default: continue;
		}
		strbuf_add(out, s + run, i - run);
		strbuf_addstr(out, e);
		run = i + 1;
	}
	strbuf_add(out, s + run, len - run);
}

static void esc(const char *s, struct strbuf *out)
{
	vdc_html_escape(s, strlen(s), out);
}

/* A size in the units of the tree's files (M, G), for people. */
static void human(uint64_t bytes, struct strbuf *out)
{
	if (bytes >= (1ULL << 30) && bytes % (1ULL << 30) == 0)
		strbuf_addf(out, "%" PRIu64 "G", bytes >> 30);
	else if (bytes >= (1ULL << 30))
		strbuf_addf(out, "%.1fG", (double)bytes / (double)(1ULL << 30));
	else
		strbuf_addf(out, "%" PRIu64 "M", bytes >> 20);
}

/* A bar of `used` of `total`: red past 90 %. */
static void bar(uint64_t used, uint64_t total, struct strbuf *out)
{
	unsigned w = total ? (unsigned)(used >= total ? BAR_W : used * BAR_W / total) : 0;

	strbuf_addf(out, "<svg class=\"bar\" width=\"%d\" height=\"12\" viewBox=\"0 0 %d 12\">"
		    "<rect width=\"%d\" height=\"12\" fill=\"#dde3ea\"/>"
		    "<rect width=\"%u\" height=\"12\" fill=\"%s\"/></svg>",
		    BAR_W, BAR_W, BAR_W, w, total && used * 10 > total * 9 ? "#c0392b" : "#2e8b57");
}

/* A sparkline of the points' cpu (net false) or net rate (net true); "-" without samples. */
static void sparkline(const struct vdc_history_point *p, bool net, struct strbuf *out)
{
	double max = net ? 1 : 100, v;
	unsigned i;
	bool any = false;

	for (i = 0; i < VDC_HISTORY_SAMPLES; i++) {
		if (!p[i].have)
			continue;
		any = true;
		v = net ? p[i].net_rate : p[i].cpu;
		if (v > max)
			max = v;
	}
	if (!any) {
		strbuf_addstr(out, "<span class=\"none\">-</span>");
		return;
	}
	strbuf_addf(out, "<svg class=\"spark\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\"><polyline fill=\"none\" "
		    "stroke=\"%s\" stroke-width=\"1.5\" points=\"", SPARK_W, SPARK_H, SPARK_W, SPARK_H,
		    net ? "#8e44ad" : "#2471a3");
	for (i = 0; i < VDC_HISTORY_SAMPLES; i++) {
		if (!p[i].have)
			continue;
		v = net ? p[i].net_rate : p[i].cpu;
		strbuf_addf(out, "%.1f,%.1f ", (double)i * (SPARK_W - 1) / (VDC_HISTORY_SAMPLES - 1),
			    (SPARK_H - 1) - v / max * (SPARK_H - 2));
	}
	strbuf_addstr(out, "\"/></svg>");
}

/* A row's first two cells: the object's name, and its state (coloured by its class), that cell left open. */
static void row_head(const struct vdc_obj *o, struct strbuf *out)
{
	strbuf_addstr(out, "<tr><td>");
	esc(o->name, out);
	strbuf_addstr(out, "</td><td class=\"st-");
	esc(o->state, out);
	strbuf_addstr(out, "\">");
	esc(o->state, out);
}

/*
 * A cell of the hosts' table after the reserved ones: what the host's
 * agent says it uses (run/cpu as a bar of percent busy, run/load); "-"
 * for a host that does not say (a storage host, a silent one).
 */
static void host_usage_cell(const struct vdc_obj *host, struct strbuf *out)
{
	const struct vdc_host *h = vdc_host_of((struct vdc_obj *)host);

	if (!vdc_host_is_up(host) || h->cpu_busy < 0) {
		strbuf_addstr(out, "<td class=\"none\">-</td>");
		return;
	}
	strbuf_addstr(out, "<td>");
	bar((uint64_t)h->cpu_busy, 10000, out);
	strbuf_addch(out, ' ');
	vdc_usage_format_hundredths(h->cpu_busy, 1, out);
	strbuf_addstr(out, "%, load ");
	vdc_usage_format_load(h->load, out);
	strbuf_addstr(out, "</td>");
}

static void section_hosts(uid_t uid, struct strbuf *out)
{
	size_t i, n;
	struct vdc_obj **v = vdc_visible_objects(vdc_hosts_kind(), uid, &n);

	if (!n) {
		free(v);
		return;
	}
	strbuf_addstr(out, "<h2>Hosts</h2>\n<table class=\"hosts\"><tr><th>host</th><th>state</th><th>role</th>"
		      "<th>cpus reserved / offered</th><th>memory reserved / offered</th>"
		      "<th>disk reserved / offered</th><th>use</th></tr>\n");
	for (i = 0; i < n; i++) {
		const struct vdc_host *h = vdc_host_of(v[i]);

		row_head(v[i], out);
		strbuf_addf(out, "</td><td>%s</td><td>", h->role == VDC_ROLE_STA ? "storage" : "hypervisor");
		/* What a host offers is its role's: cpus and memory, or disk. */
		if (h->role == VDC_ROLE_STA) {
			strbuf_addstr(out, "</td><td></td><td>");
			bar(h->disk_used, h->disk, out);
			strbuf_addch(out, ' ');
			human(h->disk_used, out);
			strbuf_addstr(out, " / ");
			human(h->disk, out);
		} else {
			bar(h->cpus_used, h->cpus, out);
			strbuf_addf(out, " %u / %u</td><td>", h->cpus_used, h->cpus);
			bar(h->memory_used, h->memory, out);
			strbuf_addch(out, ' ');
			human(h->memory_used, out);
			strbuf_addstr(out, " / ");
			human(h->memory, out);
			strbuf_addstr(out, "</td><td>");
		}
		strbuf_addstr(out, "</td>");
		host_usage_cell(v[i], out);
		strbuf_addstr(out, "</tr>\n");
	}
	strbuf_addstr(out, "</table>\n");
	free(v);
}

static void section_instances(uid_t uid, time_t now, struct strbuf *out)
{
	struct vdc_history_point hist[VDC_HISTORY_SAMPLES];
	size_t i, n;
	struct vdc_obj **v = vdc_visible_objects(vdc_kind(VDC_KIND_INSTANCES), uid, &n);

	strbuf_addf(out, "<h2>Instances (%zu)</h2>\n", n);
	if (!n) {
		strbuf_addstr(out, "<p class=\"none\">none</p>\n");
		free(v);
		return;
	}
	strbuf_addstr(out, "<table class=\"instances\"><tr><th>instance</th><th>state</th><th>host</th>"
		      "<th>cpus</th><th>memory</th><th>cpu, last hour</th><th>net, last hour</th></tr>\n");
	for (i = 0; i < n; i++) {
		const struct vdc_place *p = v[i]->priv;
		unsigned cpus;
		uint64_t mem;

		vdc_instance_size(v[i], &cpus, &mem);
		vdc_history_get(v[i], now, hist);
		row_head(v[i], out);
		strbuf_addstr(out, "</td><td>");
		esc(p ? p->host : "", out);
		strbuf_addf(out, "</td><td>%u</td><td>", cpus);
		human(mem, out);
		strbuf_addstr(out, "</td><td>");
		sparkline(hist, false, out);
		strbuf_addstr(out, "</td><td>");
		sparkline(hist, true, out);
		strbuf_addstr(out, "</td></tr>\n");
	}
	strbuf_addstr(out, "</table>\n");
	free(v);
}

static void section_volumes(uid_t uid, struct strbuf *out)
{
	size_t i, n;
	struct vdc_obj **v = vdc_visible_objects(vdc_kind(VDC_KIND_VOLUMES), uid, &n);

	strbuf_addf(out, "<h2>Volumes (%zu)</h2>\n", n);
	if (!n) {
		strbuf_addstr(out, "<p class=\"none\">none</p>\n");
		free(v);
		return;
	}
	strbuf_addstr(out, "<table class=\"volumes\"><tr><th>volume</th><th>state</th><th>host</th>"
		      "<th>size</th><th>allocated</th></tr>\n");
	for (i = 0; i < n; i++) {
		const struct vdc_lun *lun = v[i]->priv;
		uint64_t bytes;

		row_head(v[i], out);
		strbuf_addstr(out, "</td><td>");
		esc(lun ? lun->host : "", out);
		strbuf_addstr(out, "</td><td>");
		human(vdc_volume_size(v[i]), out);
		strbuf_addstr(out, "</td><td>");
		if (vdc_metrics_lun_allocated(lun, &bytes))
			human(bytes, out);
		else
			strbuf_addch(out, '-');
		strbuf_addstr(out, "</td></tr>\n");
	}
	strbuf_addstr(out, "</table>\n");
	free(v);
}

static void section_events(uid_t uid, struct strbuf *out)
{
	__do_strbuf struct strbuf all = STRBUF_INIT;
	size_t start, lines = 0;

	vdc_events_show_for(uid, &all);
	/* The last VDC_DASHBOARD_EVENTS lines, found from the end. */
	for (start = all.len; start > 0; start--) {
		if (all.buf[start - 1] == '\n' && start != all.len && ++lines == VDC_DASHBOARD_EVENTS)
			break;
	}
	strbuf_addstr(out, "<h2>Last events</h2>\n<pre class=\"events\">");
	vdc_html_escape(all.buf + start, all.len - start, out);
	strbuf_addstr(out, "</pre>\n");
}

static const char style[] =
	"body{font:14px/1.4 sans-serif;margin:0;background:#fff;color:#1b2631}"
	"header{background:#1f4e79;color:#fff;padding:12px 20px;height:36px}"
	"header h1{margin:0;font-size:22px;display:inline}header span{margin-left:16px;opacity:.8}"
	"main{padding:4px 20px}h2{font-size:17px;margin:16px 0 6px}"
	"table{border-collapse:collapse}th,td{text-align:left;padding:3px 10px 3px 0;vertical-align:middle}"
	"th{font-weight:600;border-bottom:1px solid #aab7c4}"
	".none{color:#7f8c8d}.st-running,.st-up,.st-available,.st-attached{color:#1e8449}"
	".st-error,.st-unknown,.st-unschedulable{color:#c0392b}"
	"pre.events{background:#f4f6f7;padding:8px;font-size:12px;white-space:pre-wrap}";

void vdc_dashboard_render(uid_t uid, time_t now, struct strbuf *out)
{
	struct tm tm;
	char stamp[32];

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S UTC", &tm);
	strbuf_addf(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
		    "<meta http-equiv=\"refresh\" content=\"%d\">\n<title>vdc data center</title>\n<style>%s</style>\n"
		    "</head><body>\n<header><h1>vdc data center</h1><span>%s, as user %u sees it</span></header>\n<main>\n",
		    VDC_DASHBOARD_REFRESH, style, stamp, (unsigned)uid);
	section_hosts(uid, out);
	section_instances(uid, now, out);
	section_volumes(uid, out);
	section_events(uid, out);
	strbuf_addstr(out, "</main></body></html>\n");
}
