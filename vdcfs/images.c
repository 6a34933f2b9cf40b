/* images/NAME/: a boot image; its bytes are in `data` (import with cp). */
#include "kinds.h"

static const struct vdc_run_def runfiles[] = {
	VDC_RUN_COMMON,
};

const struct vdc_kind vdc_kind_images = {
	.name = "images",
	.noun = "image",
	.runfiles = runfiles,
	.nrunfiles = VDC_ARRAY_SIZE(runfiles),
	.has_data = true,
	.initial_state = "available",
};
