/*
 * Reading the members of a JSON object that came from vdcfs (the desired
 * states of docs/agent-protocol.md), each checked as it is read, so that
 * a malformed answer becomes a sentence naming the member.
 */
#ifndef VDC_AGENT_JSON_MEMBER_H
#define VDC_AGENT_JSON_MEMBER_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "err.h"

/* Whether a member may be left out, and whether null counts as left out. */
enum vdc_json_need {
	VDC_JSON_REQUIRED,   /* present, and of its type */
	VDC_JSON_OPTIONAL,   /* absent, or of its type; null is an error */
	VDC_JSON_NULLABLE,   /* absent, null, or of its type */
};

/* The string member `key` of `o` (its length in `*len` when not NULL); NULL when absent or not a string. */
const char *vdc_json_str(json_t *o, const char *key, size_t *len);

/*
 * The unsigned integer member `key` of `o`, into `*out`: -ENOENT when it
 * is absent or null ("\"KEY\" is missing"; `*out` untouched), -EINVAL when
 * it is not an integer in [min, max].
 */
int vdc_json_uint(json_t *o, const char *key, uint64_t min, uint64_t max, uint64_t *out,
		  struct vdc_err *err);

/*
 * The name member `key` of `o` (a vdcfs name, backend/validate.h), copied
 * to `out` (VDC_NAME_MAX + 1 bytes). A member left out as `need` allows
 * leaves `out` untouched and returns 0; -EINVAL otherwise.
 */
int vdc_json_name(json_t *o, const char *key, enum vdc_json_need need, char *out,
		  struct vdc_err *err);

#endif
