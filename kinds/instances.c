/* instances/NAME/: a server. */
#include <string.h>

#include "disk.h"
#include "host.h"
#include "instance.h"
#include "kinds.h"
#include "migrate.h"
#include "network.h"
#include "place.h"
#include "quota.h"
#include "ssh_key.h"
#include "usage.h"
#include "volume.h"

/*
 * The limits below are vdc-hva's too (backend/vdc_limits.h): a value it
 * would refuse in the desired state is refused here, at the write.
 */
static int check_cpus(const struct vdc_obj *obj, const char *v, size_t len, struct vdc_err *err)
{
	uint64_t n;
	int rc = vdc_uint_parse(v, len, "cpus", 1, VDC_CPUS_MAX, &n, err);

	return rc < 0 ? rc : vdc_quota_check_value(obj, VDC_QUOTA_CPUS, n, err);
}

static int check_memory(const struct vdc_obj *obj, const char *v, size_t len, struct vdc_err *err)
{
	uint64_t bytes;
	int rc;

	_Static_assert(VDC_MEMORY_MIN == 64ULL << 20 && VDC_MEMORY_MAX == 1ULL << 40,
		       "the sentence names the memory range");
	rc = vdc_size_mib_parse(v, len, "memory", VDC_MEMORY_MIN, VDC_MEMORY_MAX, "64M to 1T", &bytes, err);
	return rc < 0 ? rc : vdc_quota_check_value(obj, VDC_QUOTA_MEMORY, bytes, err);
}

static int check_power(const struct vdc_obj *obj, const char *v, size_t len, struct vdc_err *err)
{
	bool on;
	int rc = vdc_onoff_parse(v, len, "power", &on, err);

	if (rc == 0 && !on && obj && vdc_place_of((struct vdc_obj *)obj)->migrate_to[0])
		return vdc_err_set(err, -EBUSY, "instance %s is migrating to host %s; power it off once it is running there",
				   obj->name, vdc_place_of((struct vdc_obj *)obj)->migrate_to);
	return rc;
}

/* The disk's checks first, then the owner's volume-size quota (the last, as it marks the quota's run/ changed). */
static int check_disk_size(const struct vdc_obj *obj, const char *v, size_t len, struct vdc_err *err)
{
	uint64_t bytes = 0;
	int rc = vdc_disk_check_size(obj, v, len, err);

	if (rc < 0 || !obj || !len)
		return rc;
	vdc_size_parse(v, len, "disk-size", &bytes, NULL);
	return vdc_quota_check_value(obj, VDC_QUOTA_VOLUME_SIZE, bytes, err);
}

static int check_hostname(const struct vdc_obj *obj, const char *v, size_t len, struct vdc_err *err)
{
	(void)obj;
	return vdc_hostname_check(v, len, err);
}

static const struct vdc_attr_def attrs[] = {
	[VDC_INSTANCE_CPUS] = { "cpus", VDC_ATTR_VALUE, "1", NULL, 8, 0, check_cpus },
	[VDC_INSTANCE_MEMORY] = { "memory", VDC_ATTR_VALUE, "512M", NULL, 32, 0, check_memory },
	[VDC_INSTANCE_HOSTNAME] = { "hostname", VDC_ATTR_VALUE, "", NULL, VDC_HOSTNAME_MAX, 0, check_hostname },
	[VDC_INSTANCE_USER_DATA] = { "user-data", VDC_ATTR_VALUE, "", NULL, VDC_USER_DATA_MAX, VDC_ATTR_MULTILINE, NULL },
	[VDC_INSTANCE_IMAGE] = { "image", VDC_ATTR_LINK, NULL, "images", 0, 0, NULL },
	[VDC_INSTANCE_DISK_SIZE] = { "disk-size", VDC_ATTR_VALUE, "", NULL, 32, 0, check_disk_size },
	[VDC_INSTANCE_POWER] = { "power", VDC_ATTR_VALUE, "off", NULL, 8, 0, check_power },
};

static const struct vdc_reldir_def reldirs[] = {
	[VDC_INSTANCE_VOLUMES] = { "volumes", "volumes", VDC_INSTANCE_VOLUMES_MAX },
	[VDC_INSTANCE_SECURITY_GROUPS] = { "security-groups", "security-groups", VDC_INSTANCE_GROUPS_MAX },
	[VDC_INSTANCE_SSH_KEYS] = { "ssh-keys", "ssh-keys", VDC_SSH_KEYS_MAX },
};
VDC_TABLE_IS(attrs, VDC_INSTANCE_NATTRS);
VDC_TABLE_IS(reldirs, VDC_INSTANCE_NRELS);

/*
 * A link in a relation folder: a volume is attached once
 * (vdc_volume_rel_check); a key linked must hold one, since vdc-hva
 * refuses an empty key (a key that does not exist yet, as a restore makes
 * links first, is checked when it is written: ssh_keys.c); a group takes
 * at most VDC_GROUP_INSTANCES_MAX members, so the addresses every host of
 * a member is told stay within what vdc-hva takes, and the host a placed
 * instance is on must have room for the group (vdc_place_groups_check).
 */
static int instance_rel_check(const struct vdc_obj *obj, unsigned dir, const char *tname, struct vdc_err *err)
{
	const struct vdc_kind *tk = vdc_kind_find(obj->kind->reldirs[dir].target,
						  strlen(obj->kind->reldirs[dir].target));
	struct vdc_obj *t = tk ? vdc_obj_find(tk, NULL, tname, strlen(tname)) : NULL;
	size_t len = 0;

	if (dir == VDC_INSTANCE_SSH_KEYS && t && (vdc_attr_value(t, VDC_SSH_KEY_PUBLIC_KEY, &len), len == 0))
		return vdc_err_set(err, -EINVAL, "ssh key %s is empty; write its public-key before linking it", tname);
	if (dir == VDC_INSTANCE_SECURITY_GROUPS) {
		if (t && vdc_obj_refs(t) >= VDC_GROUP_INSTANCES_MAX)
			return vdc_err_set(err, -ENOSPC, "security group %s has %d members already, the most a group takes",
					   tname, VDC_GROUP_INSTANCES_MAX);
		return vdc_place_groups_check(obj, tname, err);
	}
	return vdc_volume_rel_check(obj, dir, tname, err);
}

static const struct vdc_run_def runfiles[] = {
	VDC_RUN_COMMON,
	{ "host", vdc_instance_show_host },
	{ "ip", vdc_instance_show_ip },
	{ "console", vdc_instance_show_console },
	{ "disk-host", vdc_disk_show_host },
	{ "progress", vdc_migrate_show_progress },
	{ "cpu", vdc_usage_show_cpu },
	{ "cpu-time", vdc_usage_show_cpu_time },
	{ "memory-used", vdc_usage_show_memory_used },
	{ "disk-read", vdc_usage_show_disk_read },
	{ "disk-written", vdc_usage_show_disk_written },
	{ "net-received", vdc_usage_show_net_received },
	{ "net-sent", vdc_usage_show_net_sent },
	{ "uptime", vdc_usage_show_uptime },
	{ "disk-allocated", vdc_usage_show_disk_allocated },
};

static const struct vdc_verb_def verbs[] = {
	{ "reboot", "reboot", vdc_instance_verb_reboot },
	{ "reset", "reset", vdc_instance_verb_reset },
	{ "migrate", "migrate [HOST]", vdc_migrate_verb },
	{ "rollback", "rollback SNAP", vdc_disk_verb_rollback },
	VDC_VERBS_COMMON,
};

static const struct vdc_verb_def nic_verbs[] = {
	VDC_VERBS_COMMON,
};

static const struct vdc_input_def input = { "console", vdc_instance_console_input };

static void instance_changed(struct vdc_obj *obj, unsigned attr)
{
	size_t len;

	if (attr == VDC_INSTANCE_CPUS || attr == VDC_INSTANCE_MEMORY)
		vdc_place_resized(obj);
	if (attr == VDC_INSTANCE_IMAGE || attr == VDC_INSTANCE_DISK_SIZE)
		vdc_disk_changed(obj, attr);
	if (attr == VDC_INSTANCE_POWER) {
		if (vdc_attr_value(obj, VDC_INSTANCE_POWER, &len), len == 2)
			vdc_nics_power_on(obj);   /* "on": nics waiting for their MAC take it if free */
		vdc_disk_guest_may_write(obj);
		vdc_volumes_guest_may_write(obj);
	}
	if (attr == VDC_INSTANCE_POWER || attr == VDC_INSTANCE_IMAGE)
		vdc_instance_reconcile(obj);
	vdc_instance_touched(obj);
}

static void instance_rel_changed(struct vdc_obj *obj, unsigned dir)
{
	vdc_volumes_rel_changed(obj, dir);
	vdc_network_rel_changed(obj, dir);
}

static void instance_created(struct vdc_obj *obj)
{
	vdc_disk_created(obj);
}

static void instance_live_loaded(struct vdc_obj *obj, const char *name, const char *value)
{
	if (!vdc_disk_live_loaded(obj, name, value))
		vdc_place_live_loaded(obj, name, value);
}

static void instance_release(struct vdc_obj *obj)
{
	vdc_disk_release(obj);
	vdc_place_release(obj);
}

static void instance_loaded(struct vdc_obj *obj)
{
	vdc_disk_created(obj);
	vdc_nics_loaded(obj);
	vdc_instance_loaded(obj);
}

static void instance_destroyed(struct vdc_obj *obj)
{
	vdc_nics_instance_destroyed(obj);
	vdc_disk_destroyed(obj);
	vdc_place_destroyed(obj);
	vdc_quota_touch(obj->uid);
}

/*
 * A nic's network: its address is checked by the network
 * (vdc_nic_check_network); the network takes at most
 * VDC_NETWORK_NICS_MAX nics (every host of one is told of the others);
 * and the host its instance is placed on must have room for one more
 * network (vdc_place_networks_check).
 */
static int check_nic_network(const struct vdc_obj *nic, const char *tname, size_t len, struct vdc_err *err)
{
	const struct vdc_kind *nets = vdc_kind(VDC_KIND_NETWORKS);
	struct vdc_obj *net = nets ? vdc_obj_find(nets, NULL, tname, len) : NULL;
	int rc;

	if (net && vdc_obj_refs(net) >= VDC_NETWORK_NICS_MAX)
		return vdc_err_set(err, -ENOSPC, "network %s has %d nics already, the most a network takes", net->name,
				   VDC_NETWORK_NICS_MAX);
	rc = vdc_place_networks_check(nic, tname, err);
	return rc < 0 ? rc : vdc_nic_check_network(nic, tname, len, err);
}

static const struct vdc_attr_def nic_attrs[] = {
	[VDC_NIC_NETWORK] = { "network", VDC_ATTR_LINK, NULL, "networks", 0, 0, check_nic_network },
	[VDC_NIC_IP] = { "ip", VDC_ATTR_VALUE, "", NULL, 15, 0, vdc_nic_check_ip },
	[VDC_NIC_AUTO_IP] = { "auto-ip", VDC_ATTR_VALUE, "", NULL, 15, 0, vdc_nic_check_auto_ip },
	[VDC_NIC_MAC] = { "mac", VDC_ATTR_VALUE, "", NULL, 17, 0, vdc_nic_check_mac },
};
VDC_TABLE_IS(nic_attrs, VDC_NIC_NATTRS);

static const struct vdc_run_def nic_runfiles[] = {
	{ "err", vdc_run_show_err },
	{ "events", vdc_events_show },
	{ "ip", vdc_nic_show_ip },
	{ "mac", vdc_nic_show_mac },
};

const struct vdc_kind vdc_kind_nics = {
	.id = VDC_KIND_NICS,
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
	.created = vdc_nic_created,
	.destroyed = vdc_nic_destroyed,
	.live_loaded = vdc_nic_live_loaded,
	.release = vdc_nic_release,
};

static const struct vdc_run_def snapshot_runfiles[] = {
	VDC_RUN_COMMON,
};

static const struct vdc_verb_def snapshot_verbs[] = {
	VDC_VERBS_COMMON,
};

/* instances/NAME/snapshots/SNAP: a snapshot of its disk (disk.c), as a volume's. */
const struct vdc_kind vdc_kind_instance_snapshots = {
	.id = VDC_KIND_INSTANCE_SNAPSHOTS,
	.name = "instance-snapshots",
	.noun = "snapshot",
	.runfiles = snapshot_runfiles,
	.nrunfiles = VDC_NRUNFILES(snapshot_runfiles),
	.verbs = snapshot_verbs,
	.nverbs = VDC_ARRAY_SIZE(snapshot_verbs),
	.initial_state = "creating",
	.has_data = true,                       /* disk: its bytes, through its own target (lun.h) */
	.data_name = "disk",
	.block = &vdc_lun_snap_block,
	.live_loaded = vdc_lun_snap_live_loaded,
	.may_own = vdc_disk_snapshot_may_make,
	.created = vdc_disk_snapshot_changed,
	.busy = vdc_disk_snapshot_busy,
	.renamed = vdc_disk_snapshot_renamed,
	.destroyed = vdc_disk_snapshot_changed,
};

static const struct vdc_childdir_def childdirs[] = {
	[VDC_INSTANCE_NICS] = { "nics", &vdc_kind_nics, VDC_NICS_MAX },
	[VDC_INSTANCE_SNAPSHOTS] = { "snapshots", &vdc_kind_instance_snapshots, VDC_SNAPSHOTS_MAX },   /* vdc-sta's limit too */
};
VDC_TABLE_IS(childdirs, VDC_INSTANCE_NCHILDDIRS);

const struct vdc_kind vdc_kind_instances = {
	.id = VDC_KIND_INSTANCES,
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
	.input = &input,
	.childdirs = childdirs,
	.nchilddirs = VDC_NCHILDDIRS(childdirs),
	.has_data = true,
	.data_name = "disk",
	.data_before = VDC_INSTANCE_POWER + 1,
	.attr_last = VDC_INSTANCE_POWER + 1,
	.block = &vdc_disk_block,
	.initial_state = "defined",
	.changed = instance_changed,
	.created = instance_created,
	.busy = vdc_instance_busy,
	.may_own = vdc_quota_may_own,
	.rel_check = instance_rel_check,
	.rel_changed = instance_rel_changed,
	.loaded = instance_loaded,
	.live_loaded = instance_live_loaded,
	.renamed = vdc_place_renamed,
	.destroyed = instance_destroyed,
	.release = instance_release,
};
