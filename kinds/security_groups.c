/* security-groups/NAME/: inbound and outbound rules, one a line. */
#include "host.h"
#include "kinds.h"
#include "network.h"
#include "place.h"

/* Rules that parse, and whose sg: peers keep every host within VDC_HOST_GROUPS_MAX groups. */
static int check_rules(const struct vdc_obj *obj, const char *v, size_t len, struct vdc_err *err)
{
	int rc = vdc_rules_parse(v, len, NULL, NULL, err);

	return rc < 0 ? rc : vdc_hosts_rules_check(obj, v, len, err);
}

static const struct vdc_attr_def attrs[] = {
	[VDC_GROUP_RULES] = { "rules", VDC_ATTR_VALUE, "", NULL, 65536, VDC_ATTR_MULTILINE, check_rules },
};
VDC_TABLE_IS(attrs, VDC_GROUP_NATTRS);

static const struct vdc_run_def runfiles[] = {
	VDC_RUN_COMMON,
};

static const struct vdc_verb_def verbs[] = {
	VDC_VERBS_COMMON,
};

const struct vdc_kind vdc_kind_security_groups = {
	.id = VDC_KIND_SECURITY_GROUPS,
	.name = "security-groups",
	.noun = "security group",
	.attrs = attrs,
	.nattrs = VDC_NATTRS(attrs),
	.runfiles = runfiles,
	.nrunfiles = VDC_NRUNFILES(runfiles),
	.verbs = verbs,
	.nverbs = VDC_ARRAY_SIZE(verbs),
	.initial_state = "defined",
	.changed = vdc_group_changed,
	.created = vdc_group_created,
	.destroyed = vdc_group_destroyed,
};
