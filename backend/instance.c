#include <string.h>

#include "instance.h"
#include "scheduler.h"

static bool state_is(const struct vdc_obj *obj, const char *s)
{
	return !strcmp(obj->state, s);
}

static int attr_of(const struct vdc_obj *obj, const char *name)
{
	return vdc_attr_index(obj->kind, name, strlen(name));
}

/* Desired power: true for on. */
static bool power_on(const struct vdc_obj *obj)
{
	size_t len;
	const char *v = vdc_attr_value(obj, (unsigned)attr_of(obj, "power"), &len);

	return len == 2 && !memcmp(v, "on", 2);
}

/*
 * Try to place the instance. No agent protocol exists yet, so the list of
 * hosts is empty and the result is `unschedulable` with the reason; the
 * scheduler itself is the real one and is what hosts will be fed to.
 */
static void schedule(struct vdc_obj *obj)
{
	struct vdc_err err = VDC_ERR_INIT;
	int img = attr_of(obj, "image");
	struct vdc_link *link = img >= 0 ? obj->attrs[img].link : NULL;
	uint64_t cpus = 1, memory = 0;
	size_t len;
	const char *v;
	int rc;

	if (!link) {
		vdc_obj_set_state(obj, "error");
		vdc_obj_set_err(obj, "no image is linked; link one with ln -s ../../images/NAME image");
		return;
	}
	if (!vdc_link_target(link)) {
		vdc_obj_set_state(obj, "error");
		vdc_err_set(&err, -ENOENT, "image %s does not exist; make images/%s or link another image",
			    link->tname, link->tname);
		vdc_obj_set_err(obj, err.msg);
		return;
	}
	v = vdc_attr_value(obj, (unsigned)attr_of(obj, "cpus"), &len);
	vdc_uint_parse(v, len, "cpus", 1, UINT32_MAX, &cpus, NULL);
	v = vdc_attr_value(obj, (unsigned)attr_of(obj, "memory"), &len);
	vdc_size_parse(v, len, "memory", &memory, NULL);
	rc = vdc_schedule(NULL, 0, (unsigned)cpus, memory, &err);
	if (rc < 0) {
		vdc_obj_set_state(obj, "unschedulable");
		vdc_obj_set_err(obj, err.msg);
	}
}

void vdc_instance_reconcile(struct vdc_obj *obj)
{
	if (power_on(obj)) {
		if (state_is(obj, "defined") || state_is(obj, "stopped") || state_is(obj, "unschedulable") ||
		    state_is(obj, "error")) {
			vdc_obj_set_err(obj, NULL);
			vdc_obj_set_state(obj, "scheduling");
		}
		if (state_is(obj, "scheduling"))
			schedule(obj);
		return;
	}
	if (state_is(obj, "scheduling") || state_is(obj, "unschedulable") || state_is(obj, "error")) {
		vdc_obj_set_err(obj, NULL);
		vdc_obj_set_state(obj, "defined");
	}
}

int vdc_instance_busy(const struct vdc_obj *obj, struct vdc_err *err)
{
	static const char *const idle[] = { "defined", "stopped", "unschedulable", "error" };
	size_t i;

	for (i = 0; i < sizeof(idle) / sizeof(idle[0]); i++)
		if (state_is(obj, idle[i]))
			return 0;
	return vdc_err_set(err, -EBUSY, "instance %s is %s; write off to power and wait for stopped first",
			   obj->name, obj->state);
}
