/*
 * Moving instances between hypervisors (migrate.h has the steps and the
 * contract): ctl's `migrate`, cold and live, and the steps a live
 * migration takes as the two hosts report.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "disk.h"
#include "host.h"
#include "instance.h"
#include "lun.h"
#include "migrate.h"
#include "place.h"
#include "scheduler.h"
#include "validate.h"
#include "wire_doc.h"

/*
 * The hypervisor the scheduler picks for `obj` other than its own (or
 * `want` if it fits): its name in `to`, or a negative errno with the
 * sentence.
 */
static int pick(struct vdc_obj *obj, const char *want, char to[VDC_NAME_MAX + 1], struct vdc_err *err)
{
	struct vdc_place *p = vdc_place_of(obj);
	struct vdc_host_cap *caps;
	unsigned cpus;
	uint64_t memory;
	size_t n, i;
	int rc;

	if (*want && !strcmp(want, p->host))
		return vdc_err_set(err, -EINVAL, "instance %s is on host %s already", obj->name, want);
	if (*want && !vdc_host_find(want))
		return vdc_err_set(err, -ENOENT, "no host %s", VDC_Q(want));
	if (*want && vdc_host_of(vdc_host_find(want))->role != VDC_ROLE_HVA)
		return vdc_err_set(err, -EINVAL, "host %s is a storage host; instances run on hypervisors", want);
	vdc_instance_size(obj, &cpus, &memory);
	n = vdc_hosts_caps(obj, &caps);
	for (i = 0; i < n; i++)
		if (!strcmp(caps[i].name, p->host) || (*want && strcmp(caps[i].name, want)))
			caps[i].schedulable = false;
	rc = vdc_schedule(caps, n, cpus, memory, err);
	if (rc >= 0)
		snprintf(to, VDC_NAME_MAX + 1, "%s", caps[rc].name);
	free(caps);
	return rc < 0 ? rc : 0;
}

/* A stopped instance moves at once: nothing to copy, the new hypervisor logs in to the same disk. */
static int migrate_cold(struct vdc_obj *obj, const char *want, struct vdc_err *err)
{
	struct vdc_place *p = vdc_place_of(obj);
	char to[VDC_NAME_MAX + 1], from[VDC_NAME_MAX + 1];
	int rc;

	if (!vdc_disk_movable(obj, err))
		return -EINVAL;
	rc = pick(obj, want, to, err);
	snprintf(from, sizeof(from), "%s", p->host);
	if (rc == 0)
		rc = vdc_instance_place(obj, to, err);
	if (rc < 0)
		return rc;
	vdc_event(obj, "moved from host %s to host %s (cold: its disk stays on storage host %s)", from, p->host,
		  vdc_disk_host_name(obj));
	vdc_instance_reconcile(obj);
	return 0;
}

int vdc_migrate_live(struct vdc_obj *obj, const char *want, struct vdc_err *err)
{
	struct vdc_place *p = vdc_place_of(obj);
	struct vdc_obj *src = p->host[0] ? vdc_host_find(p->host) : NULL, *dst;
	char to[VDC_NAME_MAX + 1];
	int rc;

	if (p->migrate_to[0])
		return vdc_err_set(err, -EBUSY, "instance %s is migrating to host %s already", obj->name, p->migrate_to);
	if (!vdc_instance_is(obj, VDC_ISTATE_RUNNING) || !src)
		return vdc_err_set(err, -EBUSY, "instance %s is %s; a running instance moves live, a stopped one at once: wait for either",
				   obj->name, obj->state);
	if (!vdc_disk_movable(obj, err))
		return -EINVAL;
	rc = pick(obj, want, to, err);
	if (rc < 0)
		return rc;
	dst = vdc_host_find(to);
	if (!vdc_host_of(dst)->underlay[0] || !vdc_host_of(src)->underlay[0])
		return vdc_err_set(err, -EAGAIN, "host %s has not reported its address yet; try again in a moment",
				   vdc_host_of(dst)->underlay[0] ? src->name : dst->name);
	rc = vdc_place_migrate_begin(obj, to, err);
	if (rc < 0)
		return rc;
	vdc_obj_set_err(obj, NULL);
	vdc_event(obj, "moving live from host %s to host %s", p->host, to);
	/* Both hypervisors may log in to its disk and volumes while it moves (lun.c). */
	vdc_host_bump(NULL);
	vdc_instance_reconcile(obj);
	return 0;
}

int vdc_migrate_verb(struct vdc_obj *obj, const char *args, size_t len, struct vdc_err *err)
{
	struct vdc_place *p = vdc_place_of(obj);
	char want[VDC_NAME_MAX + 1];

	if (len > VDC_NAME_MAX)
		return vdc_err_set(err, -EINVAL, "migrate takes a host's name: migrate [HOST]");
	memcpy(want, args, len);
	want[len] = 0;
	if (!p->host[0])
		return vdc_err_set(err, -EINVAL, "instance %s is on no host; power on places it", obj->name);
	if (vdc_instance_power_on(obj) || p->migrate_to[0])
		return vdc_migrate_live(obj, want, err);
	if (vdc_instance_busy(obj, NULL) < 0)
		return vdc_err_set(err, -EBUSY, "instance %s is %s; wait for stopped to move it", obj->name,
				   obj->state);
	return migrate_cold(obj, want, err);
}

/* ---- the steps as the hosts report ---- */

/* The migration of `obj` is over without moving it: why, in run/err and an event. */
static void failed(struct vdc_obj *obj, const char *why)
{
	struct vdc_obj *src = vdc_host_find(vdc_place_of(obj)->host);
	char to[VDC_NAME_MAX + 1];

	snprintf(to, sizeof(to), "%s", vdc_place_of(obj)->migrate_to);
	vdc_place_migrate_end(obj);
	vdc_host_bump(NULL);
	vdc_obj_set_err(obj, why);
	vdc_event(obj, "live migration to host %s failed; it runs on host %s still: %s", to,
		  vdc_place_of(obj)->host, why);
	/* Its host is being evacuated: it leaves the way a stopped one does, and starts elsewhere. */
	if (src && !vdc_host_schedulable(src)) {
		vdc_event(obj, "host %s is not schedulable: it stops there and starts on another host", src->name);
		vdc_place_leave(obj);
	}
}

static void step(struct vdc_obj *obj)
{
	struct vdc_place *p = vdc_place_of(obj);
	struct vdc_obj *dst = vdc_host_find(p->migrate_to);
	const struct vdc_seen *s = vdc_seen_at(obj, p->host), *d = vdc_seen_at(obj, p->migrate_to);
	struct vdc_err err = VDC_ERR_INIT;
	char from[VDC_NAME_MAX + 1], to[VDC_NAME_MAX + 1], why[400];

	if (p->migrate_go && s && s->migrated >= p->migrate_seq) {
		if (strcmp(s->state, VDC_WIRE_INST_MIGRATED)) {
			snprintf(why, sizeof(why), "%s", s->err ? s->err : "the host gave no reason");
			failed(obj, why);
			return;
		}
		snprintf(from, sizeof(from), "%s", p->host);
		snprintf(to, sizeof(to), "%s", p->migrate_to);
		if (vdc_instance_place(obj, to, &err) < 0) {
			vdc_event(obj, "warning: %s", err.msg);
			return;
		}
		vdc_place_migrate_end(obj);
		vdc_host_bump(NULL);   /* the source's login to the disk and volumes ends */
		vdc_event(obj, "moved live from host %s to host %s", from, to);
		return;
	}
	if (!dst) {
		failed(obj, "its destination host was removed");
		return;
	}
	if (p->migrate_go)
		return;
	/* Not started yet: the destination may still refuse it, or go silent. */
	if (vdc_host_in(dst, VDC_HSTATE_UNKNOWN)) {
		snprintf(why, sizeof(why), "host %s stopped reporting before it began", dst->name);
		failed(obj, why);
	} else if (d && !strcmp(d->state, VDC_WIRE_STATE_ERROR)) {
		snprintf(why, sizeof(why), "host %s cannot take it: %s", dst->name, d->err ? d->err : "no reason given");
		failed(obj, why);
	} else if (d && !strcmp(d->state, VDC_WIRE_INST_INCOMING)) {
		vdc_place_migrate_go(obj);
	}
}

bool vdc_migrate_source_removed(struct vdc_obj *obj)
{
	struct vdc_place *p = vdc_place_of(obj);
	struct vdc_err err = VDC_ERR_INIT;
	char to[VDC_NAME_MAX + 1];
	const struct vdc_seen *d;

	if (!p->migrate_to[0])
		return false;
	snprintf(to, sizeof(to), "%s", p->migrate_to);
	d = vdc_seen_at(obj, to);
	vdc_place_migrate_end(obj);
	if (!d || (strcmp(d->state, VDC_WIRE_INST_RUNNING) && strcmp(d->state, VDC_WIRE_INST_PAUSED)))
		return false;
	if (vdc_instance_place(obj, to, &err) < 0) {
		vdc_event(obj, "warning: %s", err.msg);
		return false;
	}
	vdc_event(obj, "it had arrived on host %s by live migration: it stays there", to);
	return true;
}

void vdc_migrations_reconcile(void)
{
	size_t i, n;
	struct vdc_obj **list = vdc_place_migrating(&n);

	for (i = 0; i < n; i++) {
		step(list[i]);
		vdc_instance_reconcile(list[i]);
	}
	free(list);
}

void vdc_migrate_show_progress(const struct vdc_obj *obj, struct strbuf *out)
{
	const struct vdc_place *p = vdc_place_of((struct vdc_obj *)obj);
	const struct vdc_seen *s;

	s = vdc_seen_at(obj, p->host);
	if (!p->migrate_to[0]) {
		vdc_disk_show_progress(obj, out);
		/* Its hypervisor fetches the image it starts from. */
		if (s && s->progress && !strcmp(s->state, VDC_WIRE_INST_STARTING))
			strbuf_addf(out, "%s\n", s->progress);
		return;
	}
	if (s && s->progress)
		strbuf_addf(out, "live migration to host %s: %s\n", p->migrate_to, s->progress);
	else
		strbuf_addf(out, "live migration to host %s: %s\n", p->migrate_to,
			    p->migrate_go ? "starting" : "waiting for the host to make ready");
}

/* ---- what the hypervisors are told ---- */

bool vdc_migrate_desired(const struct vdc_obj *obj, struct vdc_migrate_desired *out)
{
	const struct vdc_place *p = vdc_place_of((struct vdc_obj *)obj);
	struct vdc_obj *dst = p->migrate_to[0] ? vdc_host_find(p->migrate_to) : NULL;
	const char *addr = dst ? vdc_host_of(dst)->underlay : "";

	memset(out, 0, sizeof(*out));
	if (!p->migrate_go || !*addr)
		return false;
	out->seq = p->migrate_seq;
	out->to = dst->name;
	snprintf(out->address, sizeof(out->address), "%s", addr);
	snprintf(out->uri, sizeof(out->uri), "qemu+tls://%s/system", addr);
	vdc_initiator_iqn(dst->name, out->initiator, sizeof(out->initiator));
	return true;
}

void vdc_migrate_incoming_from(const struct vdc_obj *obj, char from[16])
{
	struct vdc_obj *src = vdc_host_find(vdc_place_of((struct vdc_obj *)obj)->host);

	snprintf(from, 16, "%s", src ? vdc_host_of(src)->underlay : "");
}
