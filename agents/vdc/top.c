/*
 * vdc top: a live view of the data center in the terminal (curses),
 * read from the tree once a second (docs/vdc.md): the hosts with bars of
 * how busy they are and what is reserved on them, and the instances with
 * their state, host, cpu, memory, disk and network rates (from two
 * readings of their byte counters) and address. A file that is missing
 * or empty shows "-" (an older vdcfs has no usage files). Keys: c sorts
 * by cpu, m by memory, n by name, r turns the order around, q quits.
 */
#include <curses.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "files.h"
#include "vdc.h"
#include "view.h"

#define REFRESH_MS 1000

static const char *const counter_file[VDC_NCOUNTERS] = {
	[VDC_DISK_READ] = "disk-read",
	[VDC_DISK_WRITTEN] = "disk-written",
	[VDC_NET_RECEIVED] = "net-received",
	[VDC_NET_SENT] = "net-sent",
};

/* The text of OBJ/FILE of kind folder `kind` into buf ("" when missing). */
static void text_of(const char *kind, const char *obj, const char *file, char *buf, size_t size)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s/%s/%s", vdc_root(), kind, obj, file);
	if (vdc_read_text(path, buf, size) < 0)
		buf[0] = '\0';
	/* One line: a value with a second line would break the row. */
	buf[strcspn(buf, "\n")] = '\0';
}

static struct vdc_num num_of(const char *kind, const char *obj, const char *file, bool sizes)
{
	char buf[64];

	text_of(kind, obj, file, buf, sizeof(buf));
	return vdc_num_parse(buf, sizes);
}

static long read_hosts(struct vdc_top_host **out)
{
	struct vdc_top_host *h;
	char **names, path[4096];
	long n, i;

	snprintf(path, sizeof(path), "%s/hosts", vdc_root());
	n = vdc_names(path, &names);
	if (n <= 0) {
		*out = NULL;
		return n;
	}
	h = calloc((size_t)n, sizeof(*h));
	for (i = 0; h && i < n; i++) {
		const char *name = names[i];

		snprintf(h[i].name, sizeof(h[i].name), "%s", name);
		text_of("hosts", name, "run/state", h[i].state, sizeof(h[i].state));
		h[i].cpu = num_of("hosts", name, "run/cpu", false);
		text_of("hosts", name, "run/load", h[i].load, sizeof(h[i].load));
		h[i].cpus = num_of("hosts", name, "run/cpus", false);
		h[i].cpus_used = num_of("hosts", name, "run/cpus-used", false);
		h[i].mem_mib = num_of("hosts", name, "run/memory", true);
		h[i].mem_used_mib = num_of("hosts", name, "run/memory-used", true);
	}
	vdc_names_free(names, n);
	*out = h;
	return h ? n : -ENOMEM;
}

static long read_instances(struct vdc_top_inst **out)
{
	struct vdc_top_inst *r;
	char **names, path[4096], file[64];
	long n, i;
	unsigned k;

	snprintf(path, sizeof(path), "%s/instances", vdc_root());
	n = vdc_names(path, &names);
	if (n <= 0) {
		*out = NULL;
		return n;
	}
	r = calloc((size_t)n, sizeof(*r));
	for (i = 0; r && i < n; i++) {
		const char *name = names[i];

		snprintf(r[i].name, sizeof(r[i].name), "%s", name);
		text_of("instances", name, "run/state", r[i].state, sizeof(r[i].state));
		text_of("instances", name, "run/host", r[i].host, sizeof(r[i].host));
		text_of("instances", name, "run/ip", r[i].ip, sizeof(r[i].ip));
		r[i].cpu = num_of("instances", name, "run/cpu", false);
		r[i].mem_used_mib = num_of("instances", name, "run/memory-used", true);
		r[i].mem_mib = num_of("instances", name, "memory", true);
		for (k = 0; k < VDC_NCOUNTERS; k++) {
			snprintf(file, sizeof(file), "run/%s", counter_file[k]);
			r[i].count[k] = num_of("instances", name, file, false);
		}
	}
	vdc_names_free(names, n);
	*out = r;
	return r ? n : -ENOMEM;
}

static const struct vdc_top_inst *find_prev(const struct vdc_top_inst *prev, long n, const char *name)
{
	long i;

	for (i = 0; i < n; i++) {
		if (!strcmp(prev[i].name, name))
			return &prev[i];
	}
	return NULL;
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void line(int y, const char *text, int attr)
{
	if (y >= LINES)
		return;
	if (attr)
		attron(attr);
	mvaddnstr(y, 0, text, COLS);
	if (attr)
		attroff(attr);
}

struct view {
	struct vdc_top_inst *inst;       /* the last reading */
	long n_inst;
	double at;
	enum vdc_sort sort;
	bool reverse;
};

static void refresh_data(struct view *v)
{
	struct vdc_top_inst *cur;
	long n, i;
	double t = now_s();

	n = read_instances(&cur);
	if (n < 0)
		n = 0;
	for (i = 0; i < n; i++)
		vdc_top_rates(&cur[i], find_prev(v->inst, v->n_inst, cur[i].name), t - v->at);
	free(v->inst);
	v->inst = cur;
	v->n_inst = n;
	v->at = t;
}

static void draw(struct view *v)
{
	struct vdc_top_host *hosts;
	char text[512], when[32];
	long nh, i;
	int y = 0;
	time_t now = time(NULL);
	struct tm tm;

	nh = read_hosts(&hosts);
	if (nh < 0)
		nh = 0;
	vdc_top_sort(v->inst, (size_t)v->n_inst, v->sort, v->reverse);
	localtime_r(&now, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	erase();
	snprintf(text, sizeof(text), "vdc top - %s - %s - %ld hosts, %ld instances - sorted by %s%s", vdc_root(), when,
		 nh, v->n_inst, vdc_sort_name(v->sort), v->reverse ? ", reversed" : "");
	line(y++, text, A_BOLD);
	line(y++, "keys: c cpu  m memory  n name  r reverse  q quit", 0);
	y++;
	vdc_host_header(text, sizeof(text));
	line(y++, text, A_REVERSE);
	for (i = 0; i < nh; i++) {
		vdc_host_line(&hosts[i], text, sizeof(text));
		line(y++, text, 0);
	}
	y++;
	vdc_inst_header(text, sizeof(text));
	line(y++, text, A_REVERSE);
	for (i = 0; i < v->n_inst; i++) {
		vdc_inst_line(&v->inst[i], text, sizeof(text));
		line(y++, text, 0);
	}
	free(hosts);
	refresh();
}

int vdc_top_main(int argc, char **argv)
{
	struct view v = { .sort = VDC_SORT_CPU };
	bool quit = false;
	double next;
	int ch;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: vdc top\n");
		return 2;
	}
	{
		char path[4096];
		char **names;
		long n;

		snprintf(path, sizeof(path), "%s/instances", vdc_root());
		n = vdc_names(path, &names);
		if (n < 0) {
			fprintf(stderr, "vdc top: cannot read %s: %s (is the tree mounted there? set $VDC)\n", path,
				strerror((int)-n));
			return 1;
		}
		vdc_names_free(names, n);
	}
	if (!initscr()) {
		fprintf(stderr, "vdc top: cannot start curses on this terminal\n");
		return 1;
	}
	cbreak();
	noecho();
	curs_set(0);
	keypad(stdscr, TRUE);
	timeout(100);
	refresh_data(&v);
	draw(&v);
	next = now_s() + REFRESH_MS / 1000.0;
	while (!quit) {
		ch = getch();
		switch (ch) {
		case 'q': case 'Q': quit = true; break;
		case 'c': v.sort = VDC_SORT_CPU; v.reverse = false; draw(&v); break;
		case 'm': v.sort = VDC_SORT_MEMORY; v.reverse = false; draw(&v); break;
		case 'n': v.sort = VDC_SORT_NAME; v.reverse = false; draw(&v); break;
		case 'r': v.reverse = !v.reverse; draw(&v); break;
		case KEY_RESIZE: draw(&v); break;
		default: break;
		}
		if (!quit && now_s() >= next) {
			refresh_data(&v);
			draw(&v);
			next = now_s() + REFRESH_MS / 1000.0;
		}
	}
	endwin();
	free(v.inst);
	return 0;
}
