/* instances/NAME/: a server. */
#include <string.h>

#include "host.h"
#include "instance.h"
#include "kinds.h"
#include "network.h"
#include "quota.h"
#include "volume.h"

#define MEMORY_MIN (64ULL << 20)
#define MEMORY_MAX (1ULL << 40)

static int check_cpus(const struct vdc_obj *obj, const char *v, size_t len, struct vdc_err *err)
{
	uint64_t n;
	int rc = vdc_uint_parse(v, len, "cpus", 1, 128, &n, err);

	return rc < 0 ? rc : vdc_quota_check_value(obj, VDC_QUOTA_CPUS, n, err);
}

static int check_memory(const struct vdc_obj *obj, const char *v, size_t len, struct vdc_err *err)
{
	uint64_t bytes;
	int rc = vdc_size_mib_parse(v, len, "memory", MEMORY_MIN, MEMORY_MAX, "64M to 1T", &bytes, err);

	return rc < 0 ? rc : vdc_quota_check_value(obj, VDC_QUOTA_MEMORY, bytes, err);
}

static int check_power(const struct vdc_obj *obj, const char *v, size_t len, struct vdc_err *err)
{
	bool on;

	(void)obj;
	return vdc_onoff_parse(v, len, "power", &on, err);
}

static int check_hostname(const struct vdc_obj *obj, const char *v, size_t len, struct vdc_err *err)
{
	(void)obj;
	return vdc_hostname_check(v, len, err);
}

static const struct vdc_attr_def attrs[] = {
	{ "cpus", VDC_ATTR_VALUE, "1", NULL, 8, 0, check_cpus },
	{ "memory", VDC_ATTR_VALUE, "512M", NULL, 32, 0, check_memory },
	{ "hostname", VDC_ATTR_VALUE, "", NULL, 253, 0, check_hostname },
	{ "user-data", VDC_ATTR_VALUE, "", NULL, 65536, VDC_ATTR_MULTILINE, NULL },
	{ "power", VDC_ATTR_VALUE, "off", NULL, 8, 0, check_power },
	{ "image", VDC_ATTR_LINK, NULL, "images", 0, 0, NULL },
};

static const struct vdc_reldir_def reldirs[] = {
	{ "volumes", "volumes" },
	{ "security-groups", "security-groups" },
	{ "ssh-keys", "ssh-keys" },
};

static const struct vdc_run_def runfiles[] = {
	VDC_RUN_COMMON,
	{ "host", vdc_instance_show_host },
	{ "ip", vdc_instance_show_ip },
	{ "console", vdc_instance_show_console },
};

static const struct vdc_verb_def verbs[] = {
	{ "reboot", "reboot", vdc_instance_verb_reboot },
	{ "reset", "reset", vdc_instance_verb_reset },
	VDC_VERBS_COMMON,
};

static const struct vdc_verb_def nic_verbs[] = {
	VDC_VERBS_COMMON,
};

static void instance_changed(struct vdc_obj *obj, unsigned attr)
{
	const char *name = obj->kind->attrs[attr].name;

	if (!strcmp(name, "cpus") || !strcmp(name, "memory"))
		vdc_place_resized(obj);
	if (!strcmp(name, "power") || !strcmp(name, "image"))
		vdc_instance_reconcile(obj);
	vdc_instance_touched(obj);
}

static void instance_rel_changed(struct vdc_obj *obj, unsigned dir)
{
	vdc_volumes_rel_changed(obj, dir);
	vdc_network_rel_changed(obj, dir);
}

static void instance_loaded(struct vdc_obj *obj)
{
	vdc_nics_loaded(obj);
	vdc_instance_loaded(obj);
}

static void instance_destroyed(struct vdc_obj *obj)
{
	vdc_nics_instance_destroyed(obj);
	vdc_place_destroyed(obj);
	vdc_quota_touch(obj->uid);
}

static const struct vdc_attr_def nic_attrs[] = {
	{ "network", VDC_ATTR_LINK, NULL, "networks", 0, 0, vdc_nic_check_network },
	{ "ip", VDC_ATTR_VALUE, "", NULL, 15, 0, vdc_nic_check_ip },
};

static const struct vdc_run_def nic_runfiles[] = {
	{ "err", vdc_run_show_err },
	{ "events", vdc_events_show },
	{ "ip", vdc_nic_show_ip },
	{ "mac", vdc_nic_show_mac },
};

const struct vdc_kind vdc_kind_nics = {
	.name = "nics",
	.noun = "nic",
	.attrs = nic_attrs,
	.nattrs = VDC_NATTRS(nic_attrs),
	.runfiles = nic_runfiles,
	.nrunfiles = VDC_NRUNFILES(nic_runfiles),
	.verbs = nic_verbs,
	.nverbs = VDC_ARRAY_SIZE(nic_verbs),
	.initial_state = "defined",
	.changed = vdc_nic_changed,
	.destroyed = vdc_nic_destroyed,
	.live_loaded = vdc_nic_live_loaded,
	.release = vdc_nic_release,
};

const struct vdc_kind vdc_kind_instances = {
	.name = "instances",
	.noun = "instance",
	.attrs = attrs,
	.nattrs = VDC_NATTRS(attrs),
	.reldirs = reldirs,
	.nreldirs = VDC_NRELDIRS(reldirs),
	.runfiles = runfiles,
	.nrunfiles = VDC_NRUNFILES(runfiles),
	.verbs = verbs,
	.nverbs = VDC_ARRAY_SIZE(verbs),
	.child = &vdc_kind_nics,
	.childdir = "nics",
	.initial_state = "defined",
	.changed = instance_changed,
	.busy = vdc_instance_busy,
	.may_own = vdc_quota_may_own,
	.rel_check = vdc_volume_rel_check,
	.rel_changed = instance_rel_changed,
	.loaded = instance_loaded,
	.live_loaded = vdc_place_live_loaded,
	.renamed = vdc_place_renamed,
	.destroyed = instance_destroyed,
	.release = vdc_place_release,
};
