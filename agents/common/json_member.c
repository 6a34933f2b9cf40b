/*
 * Checked reads of JSON members (json_member.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <inttypes.h>
#include <string.h>

#include "json_member.h"
#include "validate.h"

const char *vdc_json_str(json_t *o, const char *key, size_t *len)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_string(v))
		return NULL;
	if (len)
		*len = json_string_length(v);
	return json_string_value(v);
}

int vdc_json_uint(json_t *o, const char *key, uint64_t min, uint64_t max, uint64_t *out,
		  struct vdc_err *err)
{
	json_t *v = json_object_get(o, key);
	json_int_t n;

	if (!v || json_is_null(v))
		return vdc_err_set(err, -ENOENT, "\"%s\" is missing", key);
	if (!json_is_integer(v))
		return vdc_err_set(err, -EINVAL, "\"%s\" is not an integer", key);
	n = json_integer_value(v);
	if (n < 0 || (uint64_t)n < min || (uint64_t)n > max)
		return vdc_err_set(err, -EINVAL, "\"%s\" is %" JSON_INTEGER_FORMAT ", outside %" PRIu64 "-%" PRIu64,
				   key, n, min, max);
	*out = (uint64_t)n;
	return 0;
}

/* Whether member `key` of `o` is left out in a way `need` allows. */
static bool left_out(json_t *o, const char *key, enum vdc_json_need need)
{
	json_t *v = json_object_get(o, key);

	switch (need) {
	case VDC_JSON_OPTIONAL:
		return !v;
	case VDC_JSON_NULLABLE:
		return !v || json_is_null(v);
	case VDC_JSON_REQUIRED:
		break;
	}
	return false;
}

int vdc_json_name(json_t *o, const char *key, enum vdc_json_need need, char *out,
		  struct vdc_err *err)
{
	struct vdc_err why = VDC_ERR_INIT;
	size_t len;
	const char *s = vdc_json_str(o, key, &len);

	if (!s) {
		if (left_out(o, key, need))
			return 0;
		return vdc_err_set(err, -EINVAL, "\"%s\" is missing or not a string", key);
	}
	if (vdc_name_check(s, len, &why) < 0)
		return vdc_err_set(err, -EINVAL, "\"%s\": %s", key, why.msg);
	memcpy(out, s, len + 1);
	return 0;
}
