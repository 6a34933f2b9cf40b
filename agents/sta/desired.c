#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "desired.h"
#include "json_member.h"
#include "log.h"
#include "strbuf.h"
#include "wire_doc.h"

int sta_iqn_check(const char *iqn, struct vdc_err *err)
{
	size_t i, len = strlen(iqn);

	if (len < 5 || len > STA_IQN_MAX || strncmp(iqn, "iqn.", 4) != 0)
		return vdc_err_set(err, -EINVAL, "'%s' is not an iSCSI name (iqn.YYYY-MM.domain:name)", VDC_Q(iqn));
	for (i = 0; i < len; i++) {
		char c = iqn[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == ':' || c == '-'))
			return vdc_err_set(err, -EINVAL, "'%s' is not an iSCSI name: only a-z, 0-9, '.', ':' and '-' are used",
					   VDC_Q(iqn));
	}
	return 0;
}

int sta_image_fits(const struct sta_volume_spec *v, uint64_t image_size, struct vdc_err *err)
{
	char d[16], i[16];

	if (v->size >= image_size)
		return 0;
	vdc_size_approx(v->size, d, sizeof(d));
	vdc_size_approx(image_size, i, sizeof(i));
	return vdc_err_set(err, -EFBIG, "disk of %s is smaller than image %s's %s", d, v->image.name, i);
}

static int parse_iqn(json_t *o, const char *prefix, struct sta_volume_spec *v, struct vdc_err *err)
{
	const char *s = vdc_json_str(o, VDC_WIRE_IQN, NULL);
	int rc;

	if (!s)
		return vdc_err_set(err, -EINVAL, "\"iqn\" is missing or not a string");
	rc = sta_iqn_check(s, err);
	if (rc < 0)
		return rc;
	if (strncmp(s, prefix, strlen(prefix)) != 0 || !s[strlen(prefix)])
		return vdc_err_set(err, -EINVAL, "the target name %s is not of this data center (%s...)", s, prefix);
	snprintf(v->iqn, sizeof(v->iqn), "%s", s);
	return 0;
}

static int parse_chap(json_t *o, struct sta_volume_spec *v, struct vdc_err *err)
{
	size_t len, i;
	const char *s;
	int rc;

	rc = vdc_json_name(o, VDC_WIRE_CHAP_USER, VDC_JSON_REQUIRED, v->chap_user, err);
	if (rc < 0)
		return rc;
	s = vdc_json_str(o, VDC_WIRE_CHAP_SECRET, &len);
	if (!s || len != STA_SECRET_LEN)
		return vdc_err_set(err, -EINVAL, "\"chap_secret\" is not %d hexadecimal digits", STA_SECRET_LEN);
	for (i = 0; i < len; i++)
		if (!isxdigit((unsigned char)s[i]))
			return vdc_err_set(err, -EINVAL, "\"chap_secret\" is not %d hexadecimal digits", STA_SECRET_LEN);
	memcpy(v->chap_secret, s, len + 1);
	return 0;
}

static int parse_initiators(json_t *o, struct sta_volume_spec *v, struct vdc_err *err)
{
	json_t *list = json_object_get(o, VDC_WIRE_INITIATORS), *it;
	size_t i, j;

	if (!list || json_is_null(list))
		return 0;
	if (!json_is_array(list) || json_array_size(list) > STA_INITIATORS_MAX)
		return vdc_err_set(err, -EINVAL, "\"initiators\" is not a list of at most %d names", STA_INITIATORS_MAX);
	v->initiators = xcalloc(json_array_size(list) + 1, sizeof(*v->initiators));
	json_array_foreach(list, i, it) {
		const char *s = json_string_value(it);
		int rc;

		if (!s)
			return vdc_err_set(err, -EINVAL, "an initiator is not a string");
		rc = sta_iqn_check(s, err);
		if (rc < 0)
			return vdc_err_wrap(err, rc, "initiator");
		for (j = 0; j < v->n_initiators; j++)
			if (strcmp(v->initiators[j], s) == 0)
				break;
		if (j == v->n_initiators)
			snprintf(v->initiators[v->n_initiators++], STA_IQN_MAX + 1, "%s", s);
	}
	return 0;
}

static int parse_snapshots(json_t *o, struct sta_volume_spec *v, struct vdc_err *err)
{
	json_t *list = json_object_get(o, VDC_WIRE_SNAPSHOTS), *it;
	size_t i;
	int rc;

	if (!list || json_is_null(list))
		return 0;
	if (!json_is_array(list) || json_array_size(list) > STA_SNAPSHOTS_MAX)
		return vdc_err_set(err, -EINVAL, "\"snapshots\" is not a list of at most %d snapshots", STA_SNAPSHOTS_MAX);
	v->snapshots = xcalloc(json_array_size(list) + 1, sizeof(*v->snapshots));
	json_array_foreach(list, i, it) {
		struct sta_snapshot_spec *s = &v->snapshots[v->n_snapshots];

		if (!json_is_object(it))
			return vdc_err_set(err, -EINVAL, "a snapshot is not an object");
		rc = vdc_json_uint(it, VDC_WIRE_ID, 1, INT64_MAX, &s->id, err);
		if (rc == 0)
			rc = vdc_json_name(it, VDC_WIRE_NAME, VDC_JSON_OPTIONAL, s->name, err);
		if (rc < 0)
			return vdc_err_wrap(err, rc, "snapshot");
		v->n_snapshots++;
	}
	return 0;
}

static int parse_restore(json_t *o, struct sta_volume_spec *v, struct vdc_err *err)
{
	json_t *r = json_object_get(o, VDC_WIRE_RESTORE);
	int rc;

	if (!r || json_is_null(r))
		return 0;
	if (!json_is_object(r))
		return vdc_err_set(err, -EINVAL, "\"restore\" is neither an object nor null");
	rc = vdc_json_uint(r, VDC_WIRE_N, 0, INT64_MAX, &v->restore_n, err);
	/* Its source: a snapshot, or (a clone) another volume of this host; exactly one. */
	if (rc == 0 && json_object_get(r, VDC_WIRE_VOLUME)) {
		if (json_object_get(r, VDC_WIRE_SNAPSHOT))
			rc = vdc_err_set(err, -EINVAL, "names both a \"snapshot\" and a \"volume\" to restore from");
		else
			rc = vdc_json_uint(r, VDC_WIRE_VOLUME, 1, INT64_MAX, &v->restore_volume, err);
		if (rc == 0 && v->restore_volume == v->id)
			rc = vdc_err_set(err, -EINVAL, "\"volume\" %" PRIu64 " is the volume itself", v->restore_volume);
	} else if (rc == 0) {
		rc = vdc_json_uint(r, VDC_WIRE_SNAPSHOT, 1, INT64_MAX, &v->restore_snapshot, err);
	}
	if (rc < 0)
		return vdc_err_wrap(err, rc, "restore");
	v->restore = true;
	return 0;
}

/* Fill `v` from `o`; a failure leaves the sentence in `err` (v->id is set first when it can be). */
static int parse_volume(json_t *o, const char *prefix, struct sta_volume_spec *v, struct vdc_err *err)
{
	int rc;

	if (!json_is_object(o))
		return vdc_err_set(err, -EINVAL, "a volume is not an object");
	rc = vdc_json_uint(o, VDC_WIRE_ID, 1, INT64_MAX, &v->id, err);
	if (rc < 0)
		return rc;
	rc = vdc_json_name(o, VDC_WIRE_NAME, VDC_JSON_OPTIONAL, v->name, err);
	if (rc == 0)
		rc = parse_iqn(o, prefix, v, err);
	if (rc == 0)
		rc = vdc_json_uint(o, VDC_WIRE_SIZE, 512, STA_SIZE_MAX, &v->size, err);
	if (rc == 0 && v->size % 512)
		rc = vdc_err_set(err, -EINVAL, "\"size\" %" PRIu64 " is not a multiple of 512", v->size);
	if (rc == 0)
		rc = parse_chap(o, v, err);
	if (rc == 0)
		rc = parse_initiators(o, v, err);
	if (rc == 0)
		rc = parse_snapshots(o, v, err);
	if (rc == 0)
		rc = parse_restore(o, v, err);
	if (rc == 0)
		rc = vdc_image_spec_parse(json_object_get(o, VDC_WIRE_IMAGE), &v->image, err);
	return rc;
}

static int parse_dc(json_t *root, struct sta_desired *d, struct vdc_err *err)
{
	size_t len, i;
	const char *dc = vdc_json_str(root, VDC_WIRE_DC, &len);

	if (!dc || len < 12 || len > STA_DC_MAX)
		return vdc_err_set(err, -EINVAL, "the desired state has no data center id of 12-%d hexadecimal digits", STA_DC_MAX);
	for (i = 0; i < len; i++)
		if (!isxdigit((unsigned char)dc[i]) || isupper((unsigned char)dc[i]))
			return vdc_err_set(err, -EINVAL, "the data center id is not lowercase hexadecimal");
	memcpy(d->dc, dc, len + 1);
	snprintf(d->iqn_prefix, sizeof(d->iqn_prefix), STA_IQN_BASE "%.12s:", dc);
	return 0;
}

int sta_desired_from_json(const void *json, struct sta_desired *d, struct vdc_err *err)
{
	json_t *root = (json_t *)json, *list, *it;
	uint64_t v;
	size_t i;
	int rc;

	memset(d, 0, sizeof(*d));
	if (!json_is_object(root))
		return vdc_err_set(err, -EINVAL, "the desired state is not a JSON object");
	rc = vdc_json_uint(root, VDC_WIRE_REV, 0, INT64_MAX, &d->rev, err);
	if (rc < 0)
		return vdc_err_wrap(err, -EINVAL, "the desired state");
	rc = parse_dc(root, d, err);
	if (rc < 0)
		return rc;
	if (vdc_json_uint(root, VDC_WIRE_HEARTBEAT, 1, STA_HEARTBEAT_MAX, &v, NULL) == 0)
		d->heartbeat = (unsigned)v;
	list = json_object_get(root, VDC_WIRE_VOLUMES);
	if (!json_is_array(list))
		return vdc_err_set(err, -EINVAL, "the desired state has no \"volumes\" list");
	d->vol = xcalloc(json_array_size(list) + 1, sizeof(*d->vol));
	json_array_foreach(list, i, it) {
		struct sta_volume_spec *vol = &d->vol[d->n];
		struct vdc_err why = VDC_ERR_INIT;

		if (parse_volume(it, d->iqn_prefix, vol, &why) < 0) {
			if (!vol->id) {
				log_warn("a volume of the desired state is ignored: %s", why.msg);
				free(vol->initiators);
				free(vol->snapshots);
				memset(vol, 0, sizeof(*vol));
				continue;
			}
			snprintf(vol->err, sizeof(vol->err), "%s", why.msg);
		}
		d->n++;
	}
	return 0;
}

int sta_desired_parse(const char *json, size_t len, struct sta_desired *d, struct vdc_err *err)
{
	json_error_t jerr;
	json_t *root;
	int rc;

	memset(d, 0, sizeof(*d));
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return vdc_err_set(err, -EINVAL, "the desired state is not JSON: %s", VDC_Q(jerr.text));
	rc = sta_desired_from_json(root, d, err);
	json_decref(root);
	return rc;
}

void sta_desired_release(struct sta_desired *d)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		free(d->vol[i].initiators);
		free(d->vol[i].snapshots);
	}
	free(d->vol);
	memset(d, 0, sizeof(*d));
}

const struct sta_volume_spec *sta_desired_volume(const struct sta_desired *d, uint64_t id)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (d->vol[i].id == id)
			return &d->vol[i];
	return NULL;
}

const struct sta_volume_spec *sta_desired_by_iqn(const struct sta_desired *d, const char *iqn)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (strcmp(d->vol[i].iqn, iqn) == 0)
			return &d->vol[i];
	return NULL;
}

void sta_snapshot_iqn(const struct sta_desired *d, uint64_t id, char out[STA_IQN_MAX + 1])
{
	snprintf(out, STA_IQN_MAX + 1, "%.64ssnap-%" PRIu64, d->iqn_prefix, id);   /* the prefix is 35 bytes */
}

void sta_snapshot_user(uint64_t id, char out[VDC_NAME_MAX + 1])
{
	snprintf(out, VDC_NAME_MAX + 1, "snap-%" PRIu64, id);
}

void sta_control_initiator(const struct sta_desired *d, char out[STA_IQN_MAX + 1])
{
	snprintf(out, STA_IQN_MAX + 1, "%.64scontrol", d->iqn_prefix);
}

uint64_t sta_snapshot_user_id(const char *user)
{
	char *end;
	uint64_t id;

	if (strncmp(user, "snap-", 5) != 0 || user[5] < '1' || user[5] > '9')
		return 0;
	id = strtoull(user + 5, &end, 10);
	return *end ? 0 : id;
}

uint64_t sta_desired_snapshot_by_iqn(const struct sta_desired *d, const char *iqn)
{
	size_t n = strlen(d->iqn_prefix);
	uint64_t id;

	if (!n || strncmp(iqn, d->iqn_prefix, n) != 0)
		return 0;
	id = sta_snapshot_user_id(iqn + n);
	return id && sta_desired_has_snapshot(d, id, NULL) ? id : 0;
}

bool sta_desired_user(const struct sta_desired *d, const char *user)
{
	uint64_t id = sta_snapshot_user_id(user);
	size_t i;

	if (id)
		return sta_desired_has_snapshot(d, id, NULL);
	for (i = 0; i < d->n; i++)
		if (strcmp(d->vol[i].chap_user, user) == 0)
			return true;
	return false;
}

bool sta_desired_has_snapshot(const struct sta_desired *d, uint64_t id,
			      const struct sta_volume_spec **vol)
{
	size_t i, j;

	for (i = 0; i < d->n; i++) {
		for (j = 0; j < d->vol[i].n_snapshots; j++) {
			if (d->vol[i].snapshots[j].id == id) {
				if (vol)
					*vol = &d->vol[i];
				return true;
			}
		}
	}
	return false;
}
