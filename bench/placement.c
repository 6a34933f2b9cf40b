/*
 * bench-placement: control-plane CPU of placing instances through the real
 * model, store and state machine (not the scheduler function alone, which
 * bench/scheduler.c measures).
 *
 *   bench-placement [N [H]]
 *
 * In a fresh state folder it joins H hosts (default 1,000) of varied size,
 * each reporting, and makes N instances (default 10,000) with an image.
 * Then it times, in CPU seconds of this process:
 *   reference  N writes of `hostname` (validated, committed to sqlite, the
 *              same path a `power` write takes, but nothing is scheduled)
 *   placement  N writes of `power on`: each one commits, runs the state
 *              machine, asks the scheduler over all H hosts, places the
 *              instance (a live value and a host link committed) and bumps
 *              the host's desired revision.
 * and prints both and their ratio. Every instance must end up `starting`
 * on a host with room; the check is outside the timing.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <ftw.h>

#include "host.h"
#include "kinds.h"
#include "place.h"
#include "reconcile.h"

static const struct vdc_kind *const kinds[] = {
	&vdc_kind_images, &vdc_kind_ssh_keys, &vdc_kind_security_groups, &vdc_kind_networks,
	&vdc_kind_volumes, &vdc_kind_instances, &vdc_kind_hosts, NULL,
};

static double cpu_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path);
}

static void die(const char *what, const struct vdc_err *err)
{
	fprintf(stderr, "bench-placement: %s: %s\n", what, err ? err->msg : "failed");
	exit(1);
}

static void set(struct vdc_obj *o, const char *attr, const char *v)
{
	struct vdc_err err = VDC_ERR_INIT;

	if (vdc_attr_set(o, (unsigned)vdc_attr_index(o->kind, attr, strlen(attr)), v, strlen(v), &err) < 0)
		die(attr, &err);
}

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)atoi(argv[1]) : 10000, h = argc > 2 ? (unsigned)atoi(argv[2]) : 1000;
	struct vdc_err err = VDC_ERR_INIT;
	char dir[] = "/tmp/vdc-bench-placement-XXXXXX", name[32], token[65];
	struct vdc_obj **inst, *img;
	double t0, ref, place;
	unsigned i, placed = 0;

	if (!n || !h || !mkdtemp(dir))
		die("usage: bench-placement [N [H]]", NULL);
	if (vdc_model_open(dir, kinds, false, &err) < 0)
		die("open", &err);
	vdc_model_wrlock();
	for (i = 0; i < h; i++) {
		struct vdc_obj *host;
		struct vdc_host *hh;

		snprintf(name, sizeof(name), "hv%u", i);
		if (vdc_host_join(name, VDC_ROLE_HVA, token, &err) < 0)
			die("join", &err);
		host = vdc_host_find(name);
		hh = vdc_host_of(host);
		hh->cpus = 16 + 16 * (i % 4);
		hh->memory = (uint64_t)(64 + 64 * (i % 4)) << 30;
		vdc_host_report(host, NULL, 0);
	}
	if (vdc_obj_create(&vdc_kind_images, NULL, "tiny", 4, 0, 0, &img, &err) < 0)
		die("image", &err);
	inst = calloc(n, sizeof(*inst));
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "i%u", i);
		if (vdc_obj_create(&vdc_kind_instances, NULL, name, strlen(name), 0, 0, &inst[i], &err) < 0 ||
		    vdc_link_set(inst[i], (unsigned)vdc_attr_index(inst[i]->kind, "image", 5), "tiny", 0, &err) < 0)
			die("instance", &err);
		set(inst[i], "memory", (const char *[]){ "512M", "1G", "2G", "4G" }[i % 4]);
		set(inst[i], "cpus", (const char *[]){ "1", "2", "1", "4" }[i % 4]);
	}
	t0 = cpu_now();
	for (i = 0; i < n; i++)
		set(inst[i], "hostname", "bench");
	ref = cpu_now() - t0;
	t0 = cpu_now();
	for (i = 0; i < n; i++)
		set(inst[i], "power", "on");
	place = cpu_now() - t0;
	for (i = 0; i < n; i++)
		placed += vdc_place_of(inst[i])->host[0] && !strcmp(inst[i]->state, "starting");
	vdc_model_unlock();
	vdc_model_close();
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(inst);
	if (placed != n) {
		fprintf(stderr, "bench-placement: only %u of %u instances were placed\n", placed, n);
		return 1;
	}
	printf("placement of %u instances on %u hosts through the model: %.3f s CPU\n", n, h, place);
	printf("reference, %u plain attribute writes:                    %.3f s CPU\n", n, ref);
	printf("ratio placement / plain write: %.2f\n", place / ref);
	return 0;
}
