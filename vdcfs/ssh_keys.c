/* ssh-keys/NAME/: an OpenSSH public key for cloud-init. */
#include "kinds.h"

static int check_key(const struct vdc_obj *obj, const char *v, size_t len, struct vdc_err *err)
{
	(void)obj;
	return vdc_sshkey_check(v, len, err);
}

static const struct vdc_attr_def attrs[] = {
	{ "public-key", VDC_ATTR_VALUE, "", NULL, 16384, 0, check_key },
};

static const struct vdc_run_def runfiles[] = {
	VDC_RUN_COMMON,
};

static const struct vdc_verb_def verbs[] = {
	VDC_VERBS_COMMON,
};

const struct vdc_kind vdc_kind_ssh_keys = {
	.name = "ssh-keys",
	.noun = "ssh key",
	.attrs = attrs,
	.nattrs = VDC_NATTRS(attrs),
	.runfiles = runfiles,
	.nrunfiles = VDC_NRUNFILES(runfiles),
	.verbs = verbs,
	.nverbs = VDC_ARRAY_SIZE(verbs),
	.initial_state = "defined",
};
