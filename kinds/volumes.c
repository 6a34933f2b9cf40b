/*
 * volumes/NAME/: a block volume on a storage host (docs/storage.md), with
 * its snapshots in snapshots/SNAP/. The logic is in kinds/volume.c.
 */
#include "kinds.h"
#include "quota.h"
#include "usage.h"
#include "volume.h"

/* The storage host's checks first, then the owner's quota (the last, as it marks the quota's run/ changed). */
static int check_size(const struct vdc_obj *vol, const char *v, size_t len, struct vdc_err *err)
{
	uint64_t bytes;
	int rc = vdc_volume_check_size(vol, v, len, err);

	if (rc < 0 || !vol)
		return rc;
	vdc_size_parse(v, len, "size", &bytes, NULL);
	return vdc_quota_check_value(vol, VDC_QUOTA_VOLUME_SIZE, bytes, err);
}

static void volume_destroyed(struct vdc_obj *vol)
{
	vdc_volume_destroyed(vol);
	vdc_quota_touch(vol->uid);
}

static const struct vdc_attr_def attrs[] = {
	[VDC_VOLUME_SIZE] = { "size", VDC_ATTR_VALUE, "1G", NULL, 32, 0, check_size },
	[VDC_VOLUME_SOURCE] = { "source", VDC_ATTR_LINK, NULL, "snapshots", 0, 0, vdc_volume_check_source },
};
VDC_TABLE_IS(attrs, VDC_VOLUME_NATTRS);

static const struct vdc_run_def runfiles[] = {
	VDC_RUN_COMMON,
	{ "host", vdc_volume_show_host },
	{ "target", vdc_volume_show_target },
	{ "progress", vdc_volume_show_progress },
	{ "allocated", vdc_usage_show_volume_allocated },
};

static const struct vdc_verb_def verbs[] = {
	{ "rollback", "rollback SNAP", vdc_volume_verb_rollback },
	VDC_VERBS_COMMON,
};

static const struct vdc_run_def snapshot_runfiles[] = {
	VDC_RUN_COMMON,
};

static const struct vdc_verb_def snapshot_verbs[] = {
	VDC_VERBS_COMMON,
};

const struct vdc_kind vdc_kind_snapshots = {
	.id = VDC_KIND_SNAPSHOTS,
	.name = "snapshots",
	.noun = "snapshot",
	.runfiles = snapshot_runfiles,
	.nrunfiles = VDC_NRUNFILES(snapshot_runfiles),
	.verbs = snapshot_verbs,
	.nverbs = VDC_ARRAY_SIZE(snapshot_verbs),
	.has_data = true,                       /* its bytes, through its own target (lun.h) */
	.block = &vdc_lun_snap_block,
	.live_loaded = vdc_lun_snap_live_loaded,
	.initial_state = "creating",
	.created = vdc_snapshot_created,
	.busy = vdc_snapshot_busy,
	.destroyed = vdc_snapshot_destroyed,
};

static const struct vdc_childdir_def childdirs[] = {
	[VDC_VOLUME_SNAPSHOTS] = { "snapshots", &vdc_kind_snapshots, VDC_SNAPSHOTS_MAX },   /* vdc-sta's limit too */
};
VDC_TABLE_IS(childdirs, VDC_VOLUME_NCHILDDIRS);

const struct vdc_kind vdc_kind_volumes = {
	.id = VDC_KIND_VOLUMES,
	.name = "volumes",
	.noun = "volume",
	.attrs = attrs,
	.nattrs = VDC_NATTRS(attrs),
	.runfiles = runfiles,
	.nrunfiles = VDC_NRUNFILES(runfiles),
	.verbs = verbs,
	.nverbs = VDC_ARRAY_SIZE(verbs),
	.childdirs = childdirs,
	.nchilddirs = VDC_NCHILDDIRS(childdirs),
	.has_data = true,
	.block = &vdc_volume_block,
	.initial_state = "defined",
	.changed = vdc_volume_changed,
	.created = vdc_volume_created,
	.busy = vdc_volume_busy,
	.may_own = vdc_quota_may_own,
	.loaded = vdc_volume_loaded,
	.live_loaded = vdc_volume_live_loaded,
	.renamed = vdc_volume_renamed,
	.destroyed = volume_destroyed,
	.release = vdc_volume_release,
};
