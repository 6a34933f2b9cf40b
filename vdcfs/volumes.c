/* volumes/NAME/: a block volume. */
#include "kinds.h"

#define VOLUME_MIN (1ULL << 20)
#define VOLUME_MAX (16ULL << 40)

static int check_size(const struct vdc_obj *obj, const char *v, size_t len, struct vdc_err *err)
{
	uint64_t bytes;
	int rc;

	(void)obj;
	rc = vdc_size_parse(v, len, "size", &bytes, err);
	if (rc < 0)
		return rc;
	if (bytes < VOLUME_MIN || bytes > VOLUME_MAX)
		return vdc_err_set(err, -ERANGE, "size %.*s is out of range; write from 1M to 16T", (int)len, v);
	if (bytes % (1ULL << 20))
		return vdc_err_set(err, -EINVAL, "size %.*s is not a whole number of MiB; write it like 10G", (int)len, v);
	return 0;
}

static const struct vdc_attr_def attrs[] = {
	{ "size", VDC_ATTR_VALUE, "1G", NULL, 32, 0, check_size },
};

static const struct vdc_run_def runfiles[] = {
	VDC_RUN_COMMON,
};

const struct vdc_kind vdc_kind_volumes = {
	.name = "volumes",
	.noun = "volume",
	.attrs = attrs,
	.nattrs = VDC_ARRAY_SIZE(attrs),
	.runfiles = runfiles,
	.nrunfiles = VDC_ARRAY_SIZE(runfiles),
	.initial_state = "defined",
};
