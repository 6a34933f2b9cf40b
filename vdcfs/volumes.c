/* volumes/NAME/: a block volume. */
#include "kinds.h"

#define VOLUME_MIN (1ULL << 20)
#define VOLUME_MAX (16ULL << 40)

static int check_size(const struct vdc_obj *obj, const char *v, size_t len, struct vdc_err *err)
{
	uint64_t bytes;

	(void)obj;
	return vdc_size_mib_parse(v, len, "size", VOLUME_MIN, VOLUME_MAX, "1M to 16T", &bytes, err);
}

static const struct vdc_attr_def attrs[] = {
	{ "size", VDC_ATTR_VALUE, "1G", NULL, 32, 0, check_size },
};

static const struct vdc_run_def runfiles[] = {
	VDC_RUN_COMMON,
};

static const struct vdc_verb_def verbs[] = {
	VDC_VERBS_COMMON,
};

const struct vdc_kind vdc_kind_volumes = {
	.name = "volumes",
	.noun = "volume",
	.attrs = attrs,
	.nattrs = VDC_ARRAY_SIZE(attrs),
	.runfiles = runfiles,
	.nrunfiles = VDC_ARRAY_SIZE(runfiles),
	.verbs = verbs,
	.nverbs = VDC_ARRAY_SIZE(verbs),
	.initial_state = "defined",
};
