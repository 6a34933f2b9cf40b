/*
 * hosts/NAME/: a machine whose agent joined (made by joining, never by
 * mkdir). What it offers and what its instances take are in run/; the
 * links of instances/ are the data center's own (kinds/host.c). The
 * folder hosts/ has files of its own: join, the command that joins a
 * host (the agent server's), and a CACHEDIR.TAG.
 */
#include "agentd.h"
#include "host.h"
#include "kinds.h"
#include "place.h"
#include "reconcile.h"
#include "usage.h"
#include "volume.h"

static int check_schedulable(const struct vdc_obj *obj, const char *v, size_t len, struct vdc_err *err)
{
	bool on;

	(void)obj;
	return vdc_onoff_parse(v, len, "schedulable", &on, err);
}

static const struct vdc_attr_def attrs[] = {
	[VDC_HOST_SCHEDULABLE] = { "schedulable", VDC_ATTR_VALUE, "on", NULL, 8, 0, check_schedulable },
};

static const struct vdc_reldir_def reldirs[] = {
	[VDC_HOST_INSTANCES] = { "instances", "instances", 0 },
	[VDC_HOST_VOLUMES] = { "volumes", "volumes", 0 },
};
VDC_TABLE_IS(attrs, VDC_HOST_NATTRS);
VDC_TABLE_IS(reldirs, VDC_HOST_NRELS);

static const struct vdc_run_def runfiles[] = {
	VDC_RUN_COMMON,
	{ "cpus", vdc_host_show_cpus },
	{ "memory", vdc_host_show_memory },
	{ "cpus-used", vdc_host_show_cpus_used },
	{ "memory-used", vdc_host_show_memory_used },
	{ "driver", vdc_host_show_driver },
	{ "disk", vdc_host_show_disk },
	{ "disk-used", vdc_host_show_disk_used },
	{ "underlay", vdc_host_show_underlay },
	{ "cpu", vdc_usage_show_host_cpu },
	{ "load", vdc_usage_show_host_load },
};

static const struct vdc_verb_def verbs[] = {
	{ "evacuate", "evacuate", vdc_host_verb_evacuate },
	VDC_VERBS_COMMON,
};

/* hosts/join holds the join secret: root's alone. The tag keeps hosts out of tar. */
static const struct vdc_kind_file_def files[] = {
	{ "CACHEDIR.TAG", 0444, NULL },
	{ "join", 0400, vdc_agentd_show_join },
};

const struct vdc_kind vdc_kind_hosts = {
	.id = VDC_KIND_HOSTS,
	.name = "hosts",
	.noun = "host",
	.attrs = attrs,
	.nattrs = VDC_NATTRS(attrs),
	.reldirs = reldirs,
	.nreldirs = VDC_NRELDIRS(reldirs),
	.runfiles = runfiles,
	.nrunfiles = VDC_NRUNFILES(runfiles),
	.verbs = verbs,
	.nverbs = VDC_ARRAY_SIZE(verbs),
	.files = files,
	.nfiles = VDC_NFILES(files),
	.initial_state = "joined",
	.changed = vdc_host_changed,
	.busy = vdc_host_busy,
	.loaded = vdc_host_loaded,
	.live_loaded = vdc_host_live_loaded,
	.destroyed = vdc_host_destroyed,
	.release = vdc_host_release,
	.made_by_system = "hosts are made by joining: run the command that cat hosts/join prints on the host",
};
