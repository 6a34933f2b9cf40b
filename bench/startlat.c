/*
 * bench/startlat.c: the two clocks of bench/start.sh, which compiles it
 * into its work folder (it is not part of the build).
 *
 *   startlat fs POLL_US TIMEOUT_S INSTDIR...
 *
 *     The control plane: writes "on\n" to INSTDIR/power of every INSTDIR,
 *     one after the other with open/write/close as `echo on > power` does
 *     (no process per write), then reads every INSTDIR/run/state until
 *     each says `running`, a sweep over the ones not there yet every
 *     POLL_US microseconds. The state files are opened before the clock
 *     starts and read with pread at offset 0 (run/ files are rendered at
 *     each read, never from the page cache). A line per instance:
 *
 *       inst NAME write_ms W running_ms R states S1@MS,S2@MS,... mtime_ms M
 *
 *     W is when its write returned and R when `running` was first read,
 *     both in ms from the first write; S lists each state as first seen;
 *     M is the mtime of run/state (stat right after R, which vdcfs sets
 *     when an instance's live files change) in ms from the first write:
 *     when vdcfs changed the state, to within what the poll interval
 *     would blur (it is never after R; a later live change, such as
 *     console output, could only move it towards R).
 *     Then "t0 REALTIME_S" (the wall clock of the first write, to match
 *     agent logs) and "total_ms T" (first write to the last `running`).
 *
 *   startlat virt define|create seq|par|host TIMEOUT_S URI XMLFILE [URI XMLFILE]...
 *
 *     The reference: starts each domain XML straight through libvirt's C
 *     API over a connection per URI opened before the clock starts (as an
 *     agent holds one). define: virDomainDefineXML then virDomainCreate,
 *     the calls vdc-hva makes; create: virDomainCreateXML (a transient
 *     domain, what `virsh create` does). Each start then waits until
 *     virDomainGetState says running (virDomainCreate returns once it is;
 *     the check is kept so that both clocks stop at the same state). seq:
 *     one after the other; par: a thread per domain, all at once; host: a
 *     thread per URI, each starting its domains one after the other (as
 *     vdc-hva's worker does on its host), the URIs at once. A line
 *     per domain, "dom NAME start_ms S running_ms R define_ms D", ms from
 *     the first start (D: when virDomainDefineXML returned; 0 for
 *     create), then "t0 ..." and "total_ms T".
 *
 * Exit status 0 when everything reached running, 1 otherwise (with the
 * reason on stderr).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

static double mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double real_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void usage(void)
{
	fprintf(stderr, "usage: startlat fs POLL_US TIMEOUT_S INSTDIR...\n"
			"       startlat virt define|create seq|par|host TIMEOUT_S URI XMLFILE [URI XMLFILE]...\n");
	exit(2);
}

/* ---- fs ---- */

struct inst {
	const char *dir, *name;
	int state_fd;
	double write_ms, running_ms, mtime_ms;
	char seen[512];
	char last[64];
};

static int read_state(int fd, char *out, size_t len)
{
	ssize_t n = pread(fd, out, len - 1, 0);

	if (n < 0)
		return -errno;
	out[n] = '\0';
	out[strcspn(out, "\n")] = '\0';
	return 0;
}

static int cmd_fs(int argc, char **argv)
{
	long poll_us, timeout_s;
	struct inst *in;
	int n, i, left, rc = 0;
	double t0, real0, deadline, last = 0;
	char path[4096];

	if (argc < 5)
		usage();
	poll_us = atol(argv[2]);
	timeout_s = atol(argv[3]);
	n = argc - 4;
	in = calloc((size_t)n, sizeof(*in));
	if (!in)
		return 1;
	for (i = 0; i < n; i++) {
		const char *slash;

		in[i].dir = argv[4 + i];
		slash = strrchr(in[i].dir, '/');
		in[i].name = slash ? slash + 1 : in[i].dir;
		snprintf(path, sizeof(path), "%s/run/state", in[i].dir);
		in[i].state_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (in[i].state_fd < 0) {
			fprintf(stderr, "startlat: cannot open %s: %s\n", path, strerror(errno));
			return 1;
		}
		in[i].running_ms = -1;
	}

	real0 = real_s();
	t0 = mono_ms();
	for (i = 0; i < n; i++) {
		int fd;

		snprintf(path, sizeof(path), "%s/power", in[i].dir);
		fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
		if (fd < 0 || write(fd, "on\n", 3) != 3 || close(fd) < 0) {
			fprintf(stderr, "startlat: cannot write on to %s: %s\n", path, strerror(errno));
			return 1;
		}
		in[i].write_ms = mono_ms() - t0;
	}
	deadline = t0 + timeout_s * 1e3;
	left = n;
	while (left > 0) {
		for (i = 0; i < n; i++) {
			char st[64];
			double now;

			if (in[i].running_ms >= 0)
				continue;
			if (read_state(in[i].state_fd, st, sizeof(st)) < 0)
				continue;
			now = mono_ms() - t0;
			if (strcmp(st, in[i].last) != 0) {
				size_t used = strlen(in[i].seen);

				snprintf(in[i].seen + used, sizeof(in[i].seen) - used, "%s%s@%.1f",
					 used ? "," : "", st, now);
				snprintf(in[i].last, sizeof(in[i].last), "%s", st);
			}
			if (strcmp(st, "running") == 0) {
				struct stat sb;

				in[i].running_ms = now;
				/*
				 * When vdcfs changed the instance's live files: at or
				 * after the change to running (a later change, like
				 * console output, moves it too), never after this read.
				 */
				snprintf(path, sizeof(path), "%s/run/state", in[i].dir);
				if (stat(path, &sb) == 0)
					in[i].mtime_ms = (sb.st_mtim.tv_sec + sb.st_mtim.tv_nsec / 1e9 - real0) * 1e3;
				else
					in[i].mtime_ms = now;
				last = now;
				left--;
			} else if (strcmp(st, "error") == 0 || strcmp(st, "unschedulable") == 0) {
				fprintf(stderr, "startlat: %s is %s\n", in[i].name, st);
				rc = 1;
				left = 0;
				break;
			}
		}
		if (left > 0 && mono_ms() > deadline) {
			for (i = 0; i < n; i++)
				if (in[i].running_ms < 0)
					fprintf(stderr, "startlat: %s is still '%s' after %ld s\n", in[i].name,
						in[i].last, timeout_s);
			rc = 1;
			break;
		}
		if (left > 0 && poll_us > 0)
			usleep((useconds_t)poll_us);
	}
	for (i = 0; i < n; i++)
		printf("inst %s write_ms %.2f running_ms %.2f states %s mtime_ms %.2f\n", in[i].name,
		       in[i].write_ms, in[i].running_ms, in[i].seen, in[i].mtime_ms);
	printf("t0 %.6f\n", real0);
	printf("total_ms %.2f\n", last);
	return rc;
}

/* ---- virt ---- */

struct start {
	const char *uri, *file;
	virConnectPtr conn;
	char *xml;
	char name[256];
	bool define;
	double t0, start_ms, define_ms, running_ms;
	int ok;
	long timeout_s;
};

static char *slurp(const char *file)
{
	FILE *f = fopen(file, "r");
	char *buf = NULL;
	size_t len = 0;

	if (!f)
		return NULL;
	if (getdelim(&buf, &len, '\0', f) < 0) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static void *do_start(void *arg)
{
	struct start *s = arg;
	virDomainPtr dom;
	int state, reason;
	double deadline;

	s->start_ms = mono_ms() - s->t0;
	if (s->define) {
		dom = virDomainDefineXML(s->conn, s->xml);
		s->define_ms = mono_ms() - s->t0;
		if (dom && virDomainCreate(dom) < 0) {
			fprintf(stderr, "startlat: cannot start %s: %s\n", s->file, virGetLastErrorMessage());
			virDomainFree(dom);
			return NULL;
		}
	} else {
		dom = virDomainCreateXML(s->conn, s->xml, 0);
	}
	if (!dom) {
		fprintf(stderr, "startlat: cannot %s %s: %s\n", s->define ? "define" : "create", s->file,
			virGetLastErrorMessage());
		return NULL;
	}
	snprintf(s->name, sizeof(s->name), "%s", virDomainGetName(dom));
	deadline = mono_ms() + s->timeout_s * 1e3;
	for (;;) {
		if (virDomainGetState(dom, &state, &reason, 0) == 0 && state == VIR_DOMAIN_RUNNING) {
			s->running_ms = mono_ms() - s->t0;
			s->ok = 1;
			break;
		}
		if (mono_ms() > deadline) {
			fprintf(stderr, "startlat: %s is not running after %ld s\n", s->name, s->timeout_s);
			break;
		}
		usleep(1000);
	}
	virDomainFree(dom);
	return NULL;
}

/* host mode: the starts of one URI, one after the other. */
struct group {
	struct start *s;
	int n;
	const char *uri;
};

static void *do_group(void *arg)
{
	struct group *g = arg;
	int i;

	for (i = 0; i < g->n; i++)
		if (strcmp(g->s[i].uri, g->uri) == 0)
			do_start(&g->s[i]);
	return NULL;
}

static void quiet(void *opaque, virErrorPtr e)
{
	(void)opaque;
	(void)e;
}

static int cmd_virt(int argc, char **argv)
{
	struct start *s;
	struct group *g;
	pthread_t *th;
	int n, i, j, par, ng = 0, rc = 0;
	long timeout_s;
	double t0, real0, last = 0;
	bool define;

	if (argc < 7 || (argc - 5) % 2)
		usage();
	if (strcmp(argv[2], "define") == 0)
		define = true;
	else if (strcmp(argv[2], "create") == 0)
		define = false;
	else
		usage();
	if (strcmp(argv[3], "seq") == 0)
		par = 0;
	else if (strcmp(argv[3], "par") == 0)
		par = 1;
	else if (strcmp(argv[3], "host") == 0)
		par = 2;
	else
		usage();
	timeout_s = atol(argv[4]);
	n = (argc - 5) / 2;
	s = calloc((size_t)n, sizeof(*s));
	th = calloc((size_t)n, sizeof(*th));
	g = calloc((size_t)n, sizeof(*g));
	if (!s || !th || !g)
		return 1;
	virSetErrorFunc(NULL, quiet);
	for (i = 0; i < n; i++) {
		s[i].uri = argv[5 + 2 * i];
		s[i].file = argv[6 + 2 * i];
		s[i].define = define;
		s[i].timeout_s = timeout_s;
		s[i].xml = slurp(s[i].file);
		if (!s[i].xml) {
			fprintf(stderr, "startlat: cannot read %s: %s\n", s[i].file, strerror(errno));
			return 1;
		}
		/* One connection per URI, shared by its domains, as an agent has. */
		for (j = 0; j < i; j++)
			if (strcmp(s[j].uri, s[i].uri) == 0) {
				s[i].conn = s[j].conn;
				virConnectRef(s[i].conn);
				break;
			}
		if (!s[i].conn) {
			s[i].conn = virConnectOpen(s[i].uri);
			g[ng].s = s;
			g[ng].n = n;
			g[ng++].uri = s[i].uri;
		}
		if (!s[i].conn) {
			fprintf(stderr, "startlat: cannot connect to %s: %s\n", s[i].uri, virGetLastErrorMessage());
			return 1;
		}
	}
	real0 = real_s();
	t0 = mono_ms();
	for (i = 0; i < n; i++)
		s[i].t0 = t0;
	for (i = 0; i < (par == 2 ? ng : n); i++) {
		if (par == 0) {
			do_start(&s[i]);
			continue;
		}
		errno = par == 1 ? pthread_create(&th[i], NULL, do_start, &s[i])
				 : pthread_create(&th[i], NULL, do_group, &g[i]);
		if (errno) {
			fprintf(stderr, "startlat: pthread_create: %s\n", strerror(errno));
			return 1;
		}
	}
	if (par)
		for (i = 0; i < (par == 2 ? ng : n); i++)
			pthread_join(th[i], NULL);
	for (i = 0; i < n; i++) {
		if (!s[i].ok)
			rc = 1;
		else if (s[i].running_ms > last)
			last = s[i].running_ms;
		printf("dom %s start_ms %.2f running_ms %.2f define_ms %.2f\n",
		       s[i].name[0] ? s[i].name : s[i].file, s[i].start_ms, s[i].ok ? s[i].running_ms : -1.0,
		       s[i].define ? s[i].define_ms : 0.0);
	}
	printf("t0 %.6f\n", real0);
	printf("total_ms %.2f\n", last);
	for (i = 0; i < n; i++) {
		virConnectClose(s[i].conn);
		free(s[i].xml);
	}
	free(s);
	free(th);
	free(g);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(argv[1], "fs") == 0)
		return cmd_fs(argc, argv);
	if (strcmp(argv[1], "virt") == 0)
		return cmd_virt(argc, argv);
	usage();
	return 2;
}
