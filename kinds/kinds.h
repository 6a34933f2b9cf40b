/*
 * Layer: the kinds' tables, on top beside the front end (docs/HACKING.md,
 * "Layers"): a table names its hooks wherever they live, and nothing
 * below the front end names a table (the backend says vdc_kind(VDC_KIND_X)).
 *
 * The kinds of the tree, one module each in kinds/: every kind is a table
 * of attributes with their defaults and checks (see backend/model.h),
 * KIND.c, beside its behaviour and its attributes' constants (instance.c
 * and instance.h beside instances.c), and vdc_kind_list[] (kinds.c) is
 * the one list of them. The front end reaches the kinds only through that
 * list and these typed tables; the unit tests name the tables.
 */
#ifndef VDC_KINDS_H
#define VDC_KINDS_H

#include "model.h"

extern const struct vdc_kind vdc_kind_images;
extern const struct vdc_kind vdc_kind_ssh_keys;
extern const struct vdc_kind vdc_kind_security_groups;
extern const struct vdc_kind vdc_kind_networks;
extern const struct vdc_kind vdc_kind_volumes;
extern const struct vdc_kind vdc_kind_snapshots;
extern const struct vdc_kind vdc_kind_instances;
extern const struct vdc_kind vdc_kind_nics;
extern const struct vdc_kind vdc_kind_instance_snapshots;
extern const struct vdc_kind vdc_kind_hosts;
extern const struct vdc_kind vdc_kind_quotas;

/*
 * Every top-level kind vdcfs serves, NULL-terminated, in the order a
 * restore needs (link targets before their sources); nics and snapshots
 * (of volumes and of instances) are their parents' children, not in the list.
 */
extern const struct vdc_kind *const vdc_kind_list[];

/* The run/ files every object has. */
#define VDC_RUN_COMMON \
	{ "state", vdc_run_show_state }, \
	{ "err", vdc_run_show_err }, \
	{ "events", vdc_events_show }

/* The verbs every kind has. */
#define VDC_VERBS_COMMON \
	{ "clear", "clear", vdc_verb_clear }

#define VDC_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * The size of a kind's table of attributes, run files, relation folders,
 * child folders or files of its own, checked against model.h's limits when it compiles (a static
 * assertion inside an unnamed struct is the one a C11 expression can hold).
 */
#define VDC_TABLE_SIZE(a, max, what) \
	(VDC_ARRAY_SIZE(a) + 0 * sizeof(struct { \
		_Static_assert(VDC_ARRAY_SIZE(a) <= (max), what); int x; }))
#define VDC_NATTRS(a)    VDC_TABLE_SIZE(a, VDC_KIND_ATTRS_MAX, "a kind has at most VDC_KIND_ATTRS_MAX attributes")
#define VDC_NRUNFILES(a) VDC_TABLE_SIZE(a, VDC_KIND_RUNFILES_MAX, "a kind has at most VDC_KIND_RUNFILES_MAX run files")
#define VDC_NRELDIRS(a)  VDC_TABLE_SIZE(a, VDC_KIND_RELDIRS_MAX, "a kind has at most VDC_KIND_RELDIRS_MAX relation folders")
#define VDC_NFILES(a)    VDC_TABLE_SIZE(a, VDC_KIND_FILES_MAX, "a kind has at most VDC_KIND_FILES_MAX files of its own")
#define VDC_NCHILDDIRS(a) VDC_TABLE_SIZE(a, VDC_KIND_CHILDDIRS_MAX, "a kind has at most VDC_KIND_CHILDDIRS_MAX child folders")

/*
 * A table indexed by a kind's constants (its header in kinds/, or
 * kind_ids.h's) holds exactly `n` entries: one added to a table without
 * its constant (or the reverse) fails to compile.
 */
#define VDC_TABLE_IS(a, n) _Static_assert(VDC_ARRAY_SIZE(a) == (n), #a " has an entry for each of its constants")

#endif
