/* images/NAME/: a boot image; its bytes are in `data` (import with cp). */
#include "kinds.h"

static const struct vdc_run_def runfiles[] = {
	VDC_RUN_COMMON,
};

static const struct vdc_verb_def verbs[] = {
	VDC_VERBS_COMMON,
};

const struct vdc_kind vdc_kind_images = {
	.id = VDC_KIND_IMAGES,
	.name = "images",
	.shared_by_root = true,
	.noun = "image",
	.runfiles = runfiles,
	.nrunfiles = VDC_NRUNFILES(runfiles),
	.verbs = verbs,
	.nverbs = VDC_ARRAY_SIZE(verbs),
	.has_data = true,
	.initial_state = "available",
};
