/*
 * The instance state machine (instance.h) and its placement through the
 * scheduler. Above host.c, place.c and network.c, which it calls; below
 * volume.c and reconcile.c, which call it (docs/HACKING.md, "Layers").
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "disk.h"
#include "host.h"
#include "instance.h"
#include "lun.h"
#include "network.h"
#include "place.h"
#include "scheduler.h"
#include "ssh_key.h"
#include "wire_doc.h"

static const char *const states[VDC_ISTATE_COUNT] = {
	[VDC_ISTATE_DEFINED] = "defined",
	[VDC_ISTATE_SCHEDULING] = "scheduling",
	[VDC_ISTATE_UNSCHEDULABLE] = "unschedulable",
	[VDC_ISTATE_STARTING] = "starting",
	[VDC_ISTATE_RUNNING] = "running",
	[VDC_ISTATE_STOPPING] = "stopping",
	[VDC_ISTATE_STOPPED] = "stopped",
	[VDC_ISTATE_ERROR] = "error",
	[VDC_ISTATE_UNKNOWN] = "unknown",
	[VDC_ISTATE_MIGRATING] = "migrating",
};

const char *vdc_instance_state_word(enum vdc_instance_state s)
{
	return states[s];
}

bool vdc_instance_is(const struct vdc_obj *obj, enum vdc_instance_state s)
{
	return !strcmp(obj->state, states[s]);
}

static void set_state(struct vdc_obj *obj, enum vdc_instance_state s)
{
	/* Keys typed for a guest that no longer runs are not kept for its next boot. */
	if (s != VDC_ISTATE_RUNNING && s != VDC_ISTATE_MIGRATING)
		vdc_console_input_drop(obj);
	vdc_obj_set_state(obj, states[s]);
}

/*
 * instances/NAME/console: bytes for the guest's serial input, while the
 * guest runs (running, or moving live: it runs on its source until it
 * arrives); its host fetches them (place.h, vdc_console_input_push).
 */
int vdc_instance_console_input(struct vdc_obj *obj, const char *buf, size_t len, struct vdc_err *err)
{
	if (!vdc_instance_is(obj, VDC_ISTATE_RUNNING) && !vdc_instance_is(obj, VDC_ISTATE_MIGRATING))
		return vdc_err_set(err, -EINVAL,
				   "instance %s is %s: its console takes input only while it is running", obj->name,
				   obj->state);
	return vdc_console_input_push(obj, buf, len, err);
}

bool vdc_instance_power_on(const struct vdc_obj *obj)
{
	size_t len;
	const char *v = vdc_attr_value(obj, VDC_INSTANCE_POWER, &len);

	return len == 2 && !memcmp(v, "on", 2);
}

/*
 * Place the instance on `host` ("" takes it off). Its nics' MACs then
 * live elsewhere: the other hosts of its networks hear of it.
 */
int vdc_instance_place(struct vdc_obj *obj, const char *host, struct vdc_err *err)
{
	int rc = vdc_place_set(obj, host, err);

	if (rc == 0)
		vdc_disk_moved(obj);
	if (rc == 0 && vdc_instance_networked(obj))
		vdc_network_touched();
	return rc;
}

/* Set run/err only when it says something new, so retries log nothing. */
static void set_err(struct vdc_obj *obj, const char *msg)
{
	if (msg && obj->err && !strcmp(obj->err, msg))
		return;
	vdc_obj_set_err(obj, msg);
}

/*
 * Place the instance on the host the scheduler picks; without one the
 * instance is `unschedulable` with the reason. An instance needs an image
 * that exists before it is worth a host.
 */
/*
 * Why `link` has no target: its object does not exist, or belongs to
 * another user and is not shared (-ENOENT or -EACCES, with the sentence).
 */
static int link_missing(const struct vdc_link *link, struct vdc_err *err)
{
	const struct vdc_kind *k = link->tkind;

	if (vdc_obj_find(k, NULL, link->tname, strlen(link->tname)))
		return vdc_err_set(err, -EACCES, "%s %s belongs to another user and is not shared; link your own %s%s",
				   k->noun, link->tname, k->noun, k->shared_by_root ? " or root's" : "");
	return vdc_err_set(err, -ENOENT, "%s %s does not exist; make %s/%s or link another %s",
			   k->noun, link->tname, k->name, link->tname, k->noun);
}

/*
 * The first network (of a nic) or security group the instance links that
 * is not there for it, said in `err` (a restored server on another data
 * center says which is missing); 0 when all are.
 */
static int missing_links(const struct vdc_obj *obj, struct vdc_err *err)
{
	const struct vdc_reldir *groups = &obj->rel[VDC_INSTANCE_SECURITY_GROUPS];
	struct vdc_map_entry *e;
	size_t b;
	unsigned k;

	for (e = vdc_map_first(&obj->children[VDC_INSTANCE_NICS], &b); e;
	     e = vdc_map_next(&obj->children[VDC_INSTANCE_NICS], e, &b)) {
		const struct vdc_obj *nic = e->value;
		const struct vdc_link *net = nic->attrs[VDC_NIC_NETWORK].link;

		if (net && !vdc_link_target(net)) {
			struct vdc_err why = VDC_ERR_INIT;
			int rc = link_missing(net, &why);

			return vdc_err_set(err, rc, "nic %s: %s", nic->name, why.msg);
		}
	}
	for (k = 0; k < groups->n; k++)
		if (!vdc_link_target(groups->links[k]))
			return link_missing(groups->links[k], err);
	return 0;
}

static void schedule(struct vdc_obj *obj)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_link *link = obj->attrs[VDC_INSTANCE_IMAGE].link;
	struct vdc_host_cap *caps;
	unsigned cpus;
	uint64_t memory;
	size_t n;
	int rc;

	if (!link) {
		set_state(obj, VDC_ISTATE_ERROR);
		set_err(obj, "no image is linked; link one with ln -s ../../images/NAME image");
		return;
	}
	if (!vdc_link_target(link) || missing_links(obj, &err) < 0) {
		set_state(obj, VDC_ISTATE_ERROR);
		if (!vdc_link_target(link))
			link_missing(link, &err);
		set_err(obj, err.msg);
		return;
	}
	if (vdc_disk_for_start(obj, &err) < 0) {
		set_state(obj, VDC_ISTATE_UNSCHEDULABLE);
		set_err(obj, err.msg);
		return;
	}
	vdc_instance_size(obj, &cpus, &memory);
	n = vdc_hosts_caps(obj, &caps);
	rc = vdc_schedule(caps, n, cpus, memory, &err);
	if (rc >= 0 && vdc_instance_place(obj, caps[rc].name, &err) == 0) {
		set_err(obj, NULL);
		set_state(obj, VDC_ISTATE_STARTING);
	} else {
		set_state(obj, VDC_ISTATE_UNSCHEDULABLE);
		set_err(obj, err.msg);
	}
	free(caps);
}

/*
 * What run/state says of a placed instance whose host reports: the desired
 * power against what the agent saw (NULL: the host has no domain for it).
 * A report older than the last change may still show the old state; the
 * words below stay right for it ("starting" until the host says running).
 */
static enum vdc_instance_state placed_state(bool on, const struct vdc_seen *s)
{
	const char *st = s ? s->state : "";   /* the agent's word for its domain */

	if (!strcmp(st, VDC_WIRE_STATE_ERROR))
		return on ? VDC_ISTATE_ERROR : VDC_ISTATE_STOPPED;
	if (on) {
		if (!strcmp(st, VDC_WIRE_INST_RUNNING) || !strcmp(st, VDC_WIRE_INST_PAUSED))
			return VDC_ISTATE_RUNNING;
		if (!strcmp(st, VDC_WIRE_INST_INCOMING))
			return VDC_ISTATE_MIGRATING;   /* moved live: here once the host reports it */
		return VDC_ISTATE_STARTING;
	}
	if (!strcmp(st, VDC_WIRE_INST_RUNNING) || !strcmp(st, VDC_WIRE_INST_PAUSED) ||
	    !strcmp(st, VDC_WIRE_INST_STARTING) || !strcmp(st, VDC_WIRE_INST_STOPPING))
		return VDC_ISTATE_STOPPING;
	return VDC_ISTATE_STOPPED;
}

static void reconcile_placed(struct vdc_obj *obj, struct vdc_obj *host)
{
	struct vdc_host *h = vdc_host_of(host);
	const struct vdc_seen *s = vdc_imap_get(&h->seen, (uint64_t)obj->id);
	enum vdc_instance_state next;

	if (vdc_host_in(host, VDC_HSTATE_UNKNOWN)) {
		set_state(obj, VDC_ISTATE_UNKNOWN);
		return;
	}
	if (!h->reported)
		return;   /* vdcfs just started: keep the state until the host reports */
	if (vdc_place_of(obj)->migrate_to[0]) {
		set_state(obj, VDC_ISTATE_MIGRATING);   /* migrate.c takes the steps */
		return;
	}
	next = placed_state(vdc_instance_power_on(obj), s);
	if (next == VDC_ISTATE_STARTING) {
		struct vdc_err err = VDC_ERR_INIT;

		if (vdc_disk_failed(obj, &err) < 0) {
			set_state(obj, VDC_ISTATE_ERROR);
			set_err(obj, err.msg);
			return;
		}
	}
	if (next == VDC_ISTATE_ERROR) {
		set_err(obj, s && s->err ? s->err : "the host reported an error without a reason");
	} else if (vdc_instance_is(obj, VDC_ISTATE_ERROR) || vdc_instance_is(obj, VDC_ISTATE_UNKNOWN)) {
		if (next == VDC_ISTATE_RUNNING)
			set_err(obj, NULL);
	}
	set_state(obj, next);
}

void vdc_instance_reconcile(struct vdc_obj *obj)
{
	struct vdc_place *p = vdc_place_of(obj);
	struct vdc_obj *host = p->host[0] ? vdc_host_find(p->host) : NULL;
	bool on = vdc_instance_power_on(obj);
	struct vdc_err err = VDC_ERR_INIT;

	if (p->host[0] && !host)
		vdc_instance_place(obj, "", &err);   /* its host is gone */
	if (host && p->leaving) {
		struct vdc_host *h = vdc_host_of(host);

		if (vdc_host_in(host, VDC_HSTATE_UNKNOWN)) {
			set_state(obj, VDC_ISTATE_UNKNOWN);
			return;
		}
		if (!h->reported || vdc_imap_get(&h->seen, (uint64_t)obj->id)) {
			set_state(obj, VDC_ISTATE_STOPPING);
			return;
		}
		/* The old host has let go of it: now it may go elsewhere. */
		vdc_instance_place(obj, "", &err);
		host = NULL;
		if (!on)
			set_state(obj, VDC_ISTATE_STOPPED);
	}
	if (host) {
		reconcile_placed(obj, host);
		return;
	}
	if (on) {
		if (!vdc_instance_is(obj, VDC_ISTATE_SCHEDULING) && !vdc_instance_is(obj, VDC_ISTATE_UNSCHEDULABLE)) {
			/*
			 * Scheduling is over before anyone can read run/state, so
			 * it is logged but not stored: schedule() stores the outcome.
			 */
			vdc_obj_clear_err(obj);
			vdc_event(obj, "state %s -> scheduling", obj->state);
			free(obj->state);
			obj->state = xstrdup(states[VDC_ISTATE_SCHEDULING]);
		}
		schedule(obj);
		return;
	}
	if (vdc_instance_is(obj, VDC_ISTATE_SCHEDULING) || vdc_instance_is(obj, VDC_ISTATE_UNSCHEDULABLE) || vdc_instance_is(obj, VDC_ISTATE_ERROR)) {
		vdc_obj_set_err(obj, NULL);
		set_state(obj, VDC_ISTATE_DEFINED);
	} else if (!vdc_instance_is(obj, VDC_ISTATE_DEFINED) && !vdc_instance_is(obj, VDC_ISTATE_STOPPED)) {
		set_state(obj, VDC_ISTATE_STOPPED);
	}
}

int vdc_instance_busy(const struct vdc_obj *obj, struct vdc_err *err)
{
	static const enum vdc_instance_state idle[] = {
		VDC_ISTATE_DEFINED, VDC_ISTATE_STOPPED, VDC_ISTATE_UNSCHEDULABLE, VDC_ISTATE_ERROR,
	};
	size_t i;

	for (i = 0; i < sizeof(idle) / sizeof(idle[0]); i++)
		if (vdc_instance_is(obj, idle[i]))
			return vdc_lun_clone_busy(obj, err);   /* a disk being cloned from this one's */
	return vdc_err_set(err, -EBUSY, "instance %s is %s; write off to power and wait for stopped first",
			   obj->name, obj->state);
}

/* reboot and reset: one more than the host carried out asks for one more. */
static int verb_count(struct vdc_obj *obj, const char *verb, uint64_t *counter, size_t len,
		      struct vdc_err *err)
{
	struct vdc_obj *host = vdc_host_find(vdc_place_of(obj)->host);
	char v[24];
	int rc;

	if (len)
		return vdc_err_set(err, -EINVAL, "%s takes no arguments", verb);
	if (!vdc_instance_is(obj, VDC_ISTATE_RUNNING) || !host)
		return vdc_err_set(err, -EINVAL, "instance %s is %s; %s acts on a running instance", obj->name,
				   obj->state, verb);
	snprintf(v, sizeof(v), "%" PRIu64, *counter + 1);
	rc = vdc_obj_live_put(obj, verb, v, err);
	if (rc < 0)
		return rc;
	(*counter)++;
	vdc_event(obj, "%s asked of host %s", verb, host->name);
	vdc_host_bump(host);
	return 0;
}

int vdc_instance_verb_reboot(struct vdc_obj *obj, const char *args, size_t len, struct vdc_err *err)
{
	(void)args;
	return verb_count(obj, "reboot", &vdc_place_of(obj)->reboot, len, err);
}

int vdc_instance_verb_reset(struct vdc_obj *obj, const char *args, size_t len, struct vdc_err *err)
{
	(void)args;
	return verb_count(obj, "reset", &vdc_place_of(obj)->reset, len, err);
}

void vdc_instances_retry(void)
{
	const struct vdc_kind *k = vdc_kind(VDC_KIND_INSTANCES);
	const struct vdc_map *all = k ? vdc_kind_objects(k) : NULL;
	struct vdc_map_entry *e;
	size_t b;

	if (!all)
		return;
	for (e = vdc_map_first(all, &b); e; e = vdc_map_next(all, e, &b)) {
		struct vdc_obj *o = e->value;

		if (vdc_instance_is(o, VDC_ISTATE_UNSCHEDULABLE))
			vdc_instance_reconcile(o);
	}
}

/* Anything an agent builds from changed: tell the instance's host. */
void vdc_instance_touched(struct vdc_obj *obj)
{
	struct vdc_place *p = vdc_place_of(obj);
	struct vdc_obj *host = p->host[0] ? vdc_host_find(p->host) : NULL;

	if (host)
		vdc_host_bump(host);
}

void vdc_instance_loaded(struct vdc_obj *obj)
{
	struct vdc_place *p = vdc_place_of(obj);
	struct vdc_obj *host = p->host[0] ? vdc_host_find(p->host) : NULL;
	struct vdc_err ignored = VDC_ERR_INIT;

	if (host && !vdc_rel_find(host, 0, obj->name, strlen(obj->name)))
		vdc_rel_add(host, 0, obj->name, strlen(obj->name), obj->name, 0, &ignored);
	vdc_instance_reconcile(obj);
}

/* ---- the desired state ---- */

void vdc_instance_desired_get(struct vdc_obj *inst, struct vdc_instance_desired *out)
{
	struct vdc_place *p = vdc_place_of(inst);
	struct vdc_link *il = inst->attrs[VDC_INSTANCE_IMAGE].link;
	const struct vdc_reldir *keys = &inst->rel[VDC_INSTANCE_SSH_KEYS];
	uint64_t mem;
	unsigned i;

	memset(out, 0, sizeof(*out));
	vdc_instance_size(inst, &out->cpus, &mem);
	out->memory_mib = mem >> 20;
	out->ssh_keys = xcalloc(keys->n + 1, sizeof(*out->ssh_keys));
	out->ssh_key_lens = xcalloc(keys->n + 1, sizeof(*out->ssh_key_lens));
	for (i = 0; i < keys->n; i++) {
		struct vdc_obj *key = vdc_link_target(keys->links[i]);

		if (key) {
			out->ssh_keys[out->nkeys] = vdc_attr_value(key, VDC_SSH_KEY_PUBLIC_KEY,
								   &out->ssh_key_lens[out->nkeys]);
			out->nkeys++;
		}
	}
	out->image = il ? vdc_link_target(il) : NULL;
	out->id = inst->id;
	out->name = inst->name;
	snprintf(out->domain, sizeof(out->domain), "vdc-%" PRId64, inst->id);
	out->power_on = vdc_instance_power_on(inst);
	out->hostname = vdc_attr_value(inst, VDC_INSTANCE_HOSTNAME, &out->hostname_len);
	out->user_data = vdc_attr_value(inst, VDC_INSTANCE_USER_DATA, &out->user_data_len);
	out->reboot = p->reboot;
	out->reset = p->reset;
}

void vdc_instance_desired_release(struct vdc_instance_desired *d)
{
	free(d->ssh_keys);
	free(d->ssh_key_lens);
	memset(d, 0, sizeof(*d));
}
