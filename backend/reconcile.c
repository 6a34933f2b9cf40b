/*
 * The reconcile/report layer: what an agent's report, a silent host and
 * the operator's acts on a host (evacuate, schedulable, rmdir) mean for
 * the kinds above the hosts. host.c records what a host is and what its
 * agent said; this file fans each such event out to the instances placed
 * on it, to the instances waiting for room and to the volumes, so the
 * layers below never call up (docs/HACKING.md, "Layers").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "disk.h"
#include "history.h"
#include "host.h"
#include "instance.h"
#include "lun.h"
#include "migrate.h"
#include "place.h"
#include "reconcile.h"
#include "volume.h"

/* Reconcile every instance placed on `host`. */
static void host_reconcile(struct vdc_obj *host)
{
	unsigned i, n;
	struct vdc_obj **list = vdc_placed_on(host, &n);

	for (i = 0; i < n; i++)
		if (list[i])
			vdc_instance_reconcile(list[i]);
	free(list);
}

/* ---- reports and heartbeats ---- */

void vdc_host_report(struct vdc_obj *host, const struct vdc_report_inst *insts, size_t n)
{
	struct vdc_host *h = vdc_host_of(host);
	unsigned vols_before = vdc_host_seen_volumes(h);

	vdc_host_record(host, insts, n);
	vdc_history_report(host);
	host_reconcile(host);
	vdc_migrations_reconcile();
	vdc_instances_retry();
	vdc_luns_reconcile_all();
	/* A volume let go here may be waiting to attach on another host. */
	if (vdc_host_seen_volumes(h) < vols_before)
		vdc_host_bump(NULL);
}

void vdc_host_report_sta(struct vdc_obj *host, const struct vdc_doc_sta_vol *vols, size_t n)
{
	vdc_host_report(host, NULL, 0);   /* up first: what turns available is told to hypervisors */
	vdc_luns_report(host, vols, n);
}

void vdc_hosts_tick(void)
{
	const struct vdc_kind *k = vdc_hosts_kind();
	const struct vdc_map *all = k ? vdc_kind_objects(k) : NULL;
	struct vdc_map_entry *e;
	struct timespec now;
	size_t b;

	if (!all)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	for (e = vdc_map_first(all, &b); e; e = vdc_map_next(all, e, &b)) {
		struct vdc_obj *o = e->value;

		if (!vdc_host_silenced(o, &now))
			continue;
		host_reconcile(o);
		vdc_migrations_reconcile();
		vdc_luns_reconcile_all();
	}
}

/* ---- the hosts kind's hooks ---- */

int vdc_host_verb_evacuate(struct vdc_obj *host, const char *args, size_t len, struct vdc_err *err)
{
	struct vdc_obj **list;
	unsigned i, n = host->rel[VDC_HOST_INSTANCES].n;
	int rc;

	(void)args;
	if (len)
		return vdc_err_set(err, -EINVAL, "evacuate takes no arguments");
	if (vdc_host_in(host, VDC_HSTATE_UNKNOWN))
		return vdc_err_set(err, -EBUSY,
				   "host %s is unknown, so its guests may still run; bring it back, or rmdir hosts/%s to declare it gone",
				   host->name, host->name);
	if (vdc_host_schedulable(host)) {
		rc = vdc_attr_set(host, VDC_HOST_SCHEDULABLE, "off", 3, err);
		if (rc < 0)
			return rc;
	}
	vdc_event(host, "evacuating %u instance%s", n, n == 1 ? "" : "s");
	list = vdc_placed_on(host, &n);
	for (i = 0; i < n; i++) {
		struct vdc_err why = VDC_ERR_INIT;

		if (!list[i])
			continue;
		/*
		 * A running instance whose disk is on a storage host moves live;
		 * the others (stopped, or with a local disk, or with nowhere to
		 * go live) leave and are placed anew with their disks.
		 */
		if (vdc_instance_is(list[i], VDC_ISTATE_MIGRATING))
			continue;
		if (vdc_instance_is(list[i], VDC_ISTATE_RUNNING) && vdc_disk_host_name(list[i])[0]) {
			if (vdc_migrate_live(list[i], "", &why) == 0)
				continue;
			vdc_event(list[i], "cannot move live (%s): it stops and starts on another host", why.msg);
		}
		vdc_place_leave(list[i]);
		vdc_instance_reconcile(list[i]);
	}
	free(list);
	return 0;
}

void vdc_host_changed(struct vdc_obj *host, unsigned attr)
{
	if (!strcmp(host->kind->attrs[attr].name, "schedulable")) {
		vdc_event(host, "schedulable %s", vdc_host_schedulable(host) ? "on" : "off");
		vdc_instances_retry();
	}
}

/*
 * rmdir of a host: with no instances, or unknown, which is the operator
 * declaring it gone. Its instances are then placed anew.
 */
void vdc_host_destroyed(struct vdc_obj *host)
{
	struct vdc_err ignored = VDC_ERR_INIT;
	unsigned i, n;
	struct vdc_obj **list = vdc_placed_on(host, &n);

	for (i = 0; i < n; i++) {
		if (!list[i])
			continue;
		vdc_event(list[i], "host %s was removed", host->name);
		vdc_obj_live_put(list[i], "host", NULL, &ignored);
		vdc_obj_live_put(list[i], "leaving", NULL, &ignored);
		vdc_place_of(list[i])->host[0] = 0;
		vdc_place_of(list[i])->leaving = false;
		vdc_migrate_source_removed(list[i]);   /* it may run on its destination already */
	}
	/* The instances reconcile once the host is gone (see instance.c). */
	for (i = 0; i < n; i++)
		if (list[i])
			vdc_instance_reconcile(list[i]);
	free(list);
}
