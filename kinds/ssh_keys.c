/* ssh-keys/NAME/: an OpenSSH public key for cloud-init. */
#include "kinds.h"
#include "ssh_key.h"

/*
 * An OpenSSH key, or empty while no instance links it: vdc-hva refuses an
 * instance with an empty key, so a linked key cannot be emptied.
 */
static int check_key(const struct vdc_obj *obj, const char *v, size_t len, struct vdc_err *err)
{
	unsigned refs = vdc_obj_refs(obj);

	if (len == 0 && refs)
		return vdc_err_set(err, -EINVAL, "ssh key %s is linked by %u instance%s; unlink it before emptying it",
				   obj->name, refs, refs == 1 ? "" : "s");
	return vdc_sshkey_check(v, len, err);
}

static const struct vdc_attr_def attrs[] = {
	[VDC_SSH_KEY_PUBLIC_KEY] = { "public-key", VDC_ATTR_VALUE, "", NULL, VDC_SSH_KEY_MAX, 0, check_key },
};
VDC_TABLE_IS(attrs, VDC_SSH_KEY_NATTRS);

static const struct vdc_run_def runfiles[] = {
	VDC_RUN_COMMON,
};

static const struct vdc_verb_def verbs[] = {
	VDC_VERBS_COMMON,
};

const struct vdc_kind vdc_kind_ssh_keys = {
	.id = VDC_KIND_SSH_KEYS,
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
