/*
 * Layer: kinds, above host.h, place.h and network.h (which it calls);
 * below volume.c, reconcile.c and the wire format (wire.c)
 * (docs/HACKING.md, "Layers").
 *
 * The instance state machine (docs/states.md).
 *
 *   defined -(power on)-> scheduling -> starting -> running
 *   running -(power off)-> stopping -> stopped
 *   scheduling -> unschedulable (no host fits; reason in run/err)
 *   any -> error (reason in run/err); a silent host -> unknown
 *   running -(ctl migrate)-> migrating -> running (on the other host, or
 *   on its own with the reason in run/err when the move failed)
 *
 * It is level-triggered: vdc_instance_reconcile() compares the desired
 * state (power, image) with the placement and with what the instance's
 * host last reported, and takes the next step, so it is safe to call after
 * any change, after any report, at start-up, or twice.
 */
#ifndef VDC_INSTANCE_H
#define VDC_INSTANCE_H

#include "model.h"

/*
 * instances/NAME/: the attributes and relation folders its table
 * (kinds/instances.c) is indexed by (kind_ids.h says why).
 */
enum vdc_instance_attr {
	VDC_INSTANCE_CPUS,
	VDC_INSTANCE_MEMORY,
	VDC_INSTANCE_HOSTNAME,
	VDC_INSTANCE_USER_DATA,
	VDC_INSTANCE_IMAGE,
	VDC_INSTANCE_DISK_SIZE,
	VDC_INSTANCE_POWER,             /* the last: an instance lists disk before it (tar x) */
	VDC_INSTANCE_NATTRS
};
enum vdc_instance_rel {
	VDC_INSTANCE_VOLUMES,
	VDC_INSTANCE_SECURITY_GROUPS,
	VDC_INSTANCE_SSH_KEYS,
	VDC_INSTANCE_NRELS
};
enum vdc_instance_childdir {
	VDC_INSTANCE_NICS,
	VDC_INSTANCE_SNAPSHOTS,         /* of its disk (disk.h) */
	VDC_INSTANCE_NCHILDDIRS
};

/*
 * The words of an instance's run/state (docs/tree.md, "The state
 * machine"), named by constants: the model keeps the word, the instance
 * code says which with these, so a misspelt state does not compile.
 */
enum vdc_instance_state {
	VDC_ISTATE_DEFINED,
	VDC_ISTATE_SCHEDULING,
	VDC_ISTATE_UNSCHEDULABLE,
	VDC_ISTATE_STARTING,
	VDC_ISTATE_RUNNING,
	VDC_ISTATE_STOPPING,
	VDC_ISTATE_STOPPED,
	VDC_ISTATE_ERROR,
	VDC_ISTATE_UNKNOWN,
	VDC_ISTATE_MIGRATING,           /* moving live to another host (migrate.h) */
	VDC_ISTATE_COUNT
};

/* The word of state `s` ("running"). */
const char *vdc_instance_state_word(enum vdc_instance_state s);
/* Is instance `obj` in state `s`? */
bool vdc_instance_is(const struct vdc_obj *obj, enum vdc_instance_state s);

void vdc_instance_reconcile(struct vdc_obj *obj);
/* The kind's loaded hook: placement links agree, then reconcile. */
void vdc_instance_loaded(struct vdc_obj *obj);
/* 0 when the instance may be removed or renamed, else -EBUSY. */
int vdc_instance_busy(const struct vdc_obj *obj, struct vdc_err *err);
/* Is the instance's desired power on? */
bool vdc_instance_power_on(const struct vdc_obj *obj);
/* Instances that could not be placed: try again (capacity changed). */
void vdc_instances_retry(void);
/* Something its host builds it from changed (an attribute, a link). */
void vdc_instance_touched(struct vdc_obj *obj);
/* The verbs of ctl that act through the host. */
/*
 * The instance's input file, `console` (its kind's `input`): bytes for
 * the guest's serial console. -EINVAL with the sentence while the guest
 * does not run, -EAGAIN while VDC_CONSOLE_INPUT_MAX bytes wait already
 * (place.h); all of `len` or nothing is taken. The write lock is held.
 */
int vdc_instance_console_input(struct vdc_obj *obj, const char *buf, size_t len, struct vdc_err *err);
int vdc_instance_verb_reboot(struct vdc_obj *obj, const char *args, size_t len, struct vdc_err *err);
int vdc_instance_verb_reset(struct vdc_obj *obj, const char *args, size_t len, struct vdc_err *err);
/*
 * Place the instance on `host` ("" takes it off), telling its disk's
 * storage host and, when it has nics or groups, the networks.
 */
int vdc_instance_place(struct vdc_obj *obj, const char *host, struct vdc_err *err);

/*
 * An instance as its hypervisor is told (docs/agent-protocol.md), a plain
 * struct that wire.c renders (read lock held; texts point into the model
 * and live as long as the lock). Its nics, volumes and groups are
 * network.c's and volume.c's parts.
 */
struct vdc_instance_desired {
	int64_t id;
	const char *name;
	char domain[32];                        /* "vdc-ID" */
	bool power_on;
	unsigned cpus;
	uint64_t memory_mib;
	const char *hostname, *user_data;       /* the attributes' values, *_len bytes */
	size_t hostname_len, user_data_len;
	const char **ssh_keys;                  /* the linked keys' public keys, ssh_key_lens bytes */
	size_t *ssh_key_lens, nkeys;
	struct vdc_obj *image;                  /* the linked image; NULL: none */
	uint64_t reboot, reset;                 /* counters asked for */
};
void vdc_instance_desired_get(struct vdc_obj *inst, struct vdc_instance_desired *out);
void vdc_instance_desired_release(struct vdc_instance_desired *d);

#endif
