/*
 * bench-metrics: the cost of /vdc/run/metrics.prom in the control plane,
 * and a data center to read it from through the mount (bench/metrics.sh).
 *
 *   bench-metrics STATE [N [H]]
 *
 * In the state folder STATE (made, or empty) it joins H hypervisors
 * (default 100) that report, makes N instances (default 1,000) and powers
 * them on, and reports each host with its instances running, as
 * bench/placement.c does through the real model and store. Then, in this
 * process:
 *   render     metrics.prom rendered for root under the read lock, as an
 *              open of the file does (median of RUNS, 200);
 *   reference  the same number of bytes read from a file on /dev/shm
 *              (open, read in 128 KiB, close; median of RUNS);
 *   writes     while a thread renders metrics.prom without pause, 200
 *              writes of an instance's hostname, each timed from asking
 *              for the write lock to the commit's end: the longest and
 *              the median.
 * It prints the three and the ratio render / reference, and leaves STATE
 * for vdcfs to mount.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "host.h"
#include "kinds.h"
#include "metrics.h"
#include "place.h"
#include "reconcile.h"

#define RUNS 200

static const struct vdc_kind *const kinds[] = {
	&vdc_kind_images, &vdc_kind_ssh_keys, &vdc_kind_security_groups, &vdc_kind_networks,
	&vdc_kind_volumes, &vdc_kind_instances, &vdc_kind_hosts, &vdc_kind_quotas, NULL,
};

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(const char *what, const struct vdc_err *err)
{
	fprintf(stderr, "bench-metrics: %s: %s\n", what, err ? err->msg : strerror(errno));
	exit(1);
}

static void set(struct vdc_obj *o, const char *attr, const char *v)
{
	struct vdc_err err = VDC_ERR_INIT;

	if (vdc_attr_set(o, (unsigned)vdc_attr_index(o->kind, attr, strlen(attr)), v, strlen(v), &err) < 0)
		die(attr, &err);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return v[n / 2];
}

/* The data center: H reporting hypervisors, N instances running on them. */
static void build(unsigned n, unsigned h)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_obj *img, *o;
	char name[32], token[65];
	unsigned i, j, placed = 0;

	for (i = 0; i < h; i++) {
		struct vdc_host *hh;

		snprintf(name, sizeof(name), "hv%u", i);
		if (vdc_host_join(name, VDC_ROLE_HVA, token, &err) < 0)
			die("join", &err);
		o = vdc_host_find(name);
		hh = vdc_host_of(o);
		hh->cpus = 64;
		hh->memory = (uint64_t)256 << 30;
		vdc_host_report(o, NULL, 0);
	}
	if (vdc_obj_create(&vdc_kind_images, NULL, "tiny", 4, 0, 0, &img, &err) < 0)
		die("image", &err);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "i%u", i);
		if (vdc_obj_create(&vdc_kind_instances, NULL, name, strlen(name), 0, 0, &o, &err) < 0 ||
		    vdc_link_set(o, (unsigned)vdc_attr_index(o->kind, "image", 5), "tiny", 0, &err) < 0)
			die("instance", &err);
		set(o, "memory", (const char *[]){ "512M", "1G", "2G", "4G" }[i % 4]);
		set(o, "cpus", (const char *[]){ "1", "2", "1", "4" }[i % 4]);
		set(o, "power", "on");
	}
	for (i = 0; i < h; i++) {
		struct vdc_report_inst *r;
		struct vdc_obj **on;
		unsigned k;

		snprintf(name, sizeof(name), "hv%u", i);
		o = vdc_host_find(name);
		on = vdc_placed_on(o, &k);
		r = calloc(k ? k : 1, sizeof(*r));
		for (j = 0; j < k; j++)
			r[j] = (struct vdc_report_inst){ .id = on[j]->id, .state = "running" };
		vdc_host_report(o, r, k);
		placed += k;
		free(r);
		free(on);
	}
	if (placed != n) {
		fprintf(stderr, "bench-metrics: only %u of %u instances were placed\n", placed, n);
		exit(1);
	}
}

static atomic_bool stop;

/* Render metrics.prom without pause, as readers of the file would. */
static void *reader(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		__do_strbuf struct strbuf sb = STRBUF_INIT;

		vdc_model_rdlock();
		vdc_metrics_render(0, &sb);
		vdc_model_unlock();
	}
	return NULL;
}

int main(int argc, char **argv)
{
	unsigned n = argc > 2 ? (unsigned)atoi(argv[2]) : 1000, h = argc > 3 ? (unsigned)atoi(argv[3]) : 100;
	struct vdc_err err = VDC_ERR_INIT;
	double render[RUNS], ref[RUNS], wr[RUNS], t0, wmax = 0;
	char path[] = "/dev/shm/vdc-bench-metrics-XXXXXX", *buf;
	size_t bytes = 0;
	pthread_t th;
	int fd, i;

	if (argc < 2 || !n || !h)
		die("usage: bench-metrics STATE [N [H]]", NULL);
	if (mkdir(argv[1], 0700) < 0 && errno != EEXIST)
		die(argv[1], NULL);
	vdc_hosts_configure(15, 5);
	if (vdc_model_open(argv[1], kinds, false, &err) < 0)
		die("open", &err);
	vdc_model_wrlock();
	build(n, h);
	vdc_model_unlock();

	for (i = 0; i < RUNS; i++) {
		__do_strbuf struct strbuf sb = STRBUF_INIT;

		t0 = now_s();
		vdc_model_rdlock();
		vdc_metrics_render(0, &sb);
		vdc_model_unlock();
		render[i] = now_s() - t0;
		bytes = sb.len;
		if (i == 0) {
			fd = mkstemp(path);
			if (fd < 0 || write(fd, sb.buf, sb.len) != (ssize_t)sb.len || close(fd) < 0)
				die(path, NULL);
		}
	}
	buf = malloc(128 << 10);
	for (i = 0; i < RUNS; i++) {
		size_t got = 0;
		ssize_t r;

		t0 = now_s();
		fd = open(path, O_RDONLY);
		if (fd < 0)
			die(path, NULL);
		while ((r = read(fd, buf, 128 << 10)) > 0)
			got += (size_t)r;
		close(fd);
		ref[i] = now_s() - t0;
		if (got != bytes)
			die("short read of the reference", NULL);
	}
	unlink(path);
	free(buf);

	pthread_create(&th, NULL, reader, NULL);
	usleep(20000);
	{
		struct vdc_obj *o = vdc_obj_find(&vdc_kind_instances, NULL, "i0", 2);

		for (i = 0; i < RUNS; i++) {
			t0 = now_s();
			vdc_model_wrlock();
			set(o, "hostname", i % 2 ? "bench-a" : "bench-b");
			vdc_model_unlock();
			wr[i] = now_s() - t0;
			if (wr[i] > wmax)
				wmax = wr[i];
			usleep(2000);
		}
	}
	atomic_store(&stop, true);
	pthread_join(th, NULL);
	vdc_model_close();

	printf("metrics.prom of %u instances on %u hosts: %zu bytes\n", n, h, bytes);
	printf("render under the read lock (median):      %8.1f us\n", median(render, RUNS) * 1e6);
	printf("reference, the same bytes from /dev/shm:  %8.1f us\n", median(ref, RUNS) * 1e6);
	printf("ratio render / reference: %.1f\n", median(render, RUNS) / median(ref, RUNS));
	printf("a write during renders: median %.2f ms, longest %.2f ms (of %d)\n", median(wr, RUNS) * 1e3,
	       wmax * 1e3, RUNS);
	return 0;
}
