/*
 * The answer of GET console-input read strictly, and the pty of a live
 * domain's serial port found in its XML (console_input.h): pure, for the
 * unit tests and the fuzz target (fuzz_hva_console_input), apart from
 * the threads of console_input.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "console_input.h"
#include "vdc_limits.h"
#include "wire_doc.h"

void hva_keys_free(struct hva_keys *k, size_t n)
{
	size_t i;

	for (i = 0; k && i < n; i++)
		free(k[i].buf);
	free(k);
}

/* A member's name for a sentence: printable ASCII only, the rest '?', at most 32 bytes. */
static const char *printable(const char *key, char *out, size_t size)
{
	size_t i;

	for (i = 0; key[i] && i + 1 < size && i < 32; i++)
		out[i] = key[i] >= 0x20 && key[i] < 0x7f ? key[i] : '?';
	out[i] = '\0';
	return out;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int parse_entry(json_t *e, size_t i, struct hva_keys *k, struct vdc_err *err)
{
	const char *key, *hex;
	char name[40];
	json_t *v;
	size_t len, j;

	if (!json_is_object(e))
		return vdc_err_set(err, -EINVAL, "console input entry %zu is not an object", i);
	json_object_foreach(e, key, v) {
		if (strcmp(key, VDC_WIRE_ID) && strcmp(key, VDC_WIRE_HEX))
			return vdc_err_set(err, -EINVAL, "console input entry %zu has an unknown member \"%s\"", i,
					   printable(key, name, sizeof(name)));
	}
	v = json_object_get(e, VDC_WIRE_ID);
	if (!json_is_integer(v) || json_integer_value(v) < 1)
		return vdc_err_set(err, -EINVAL, "console input entry %zu: \"id\" is not an integer from 1", i);
	k->id = (uint64_t)json_integer_value(v);
	v = json_object_get(e, VDC_WIRE_HEX);
	if (!json_is_string(v))
		return vdc_err_set(err, -EINVAL, "console input entry %zu: \"hex\" is not a string", i);
	hex = json_string_value(v);
	len = json_string_length(v);
	if (len < 2 || len % 2 || len > 2 * VDC_CONSOLE_INPUT_MAX)
		return vdc_err_set(err, -EINVAL,
				   "console input entry %zu: \"hex\" has %zu digits; it takes an even number "
				   "from 2 to %d",
				   i, len, 2 * VDC_CONSOLE_INPUT_MAX);
	k->buf = malloc(len / 2);
	if (!k->buf)
		return vdc_err_set(err, -ENOMEM, "out of memory for console input");
	for (j = 0; j < len; j += 2) {
		int hi = hexval(hex[j]), lo = hexval(hex[j + 1]);

		if (hi < 0 || lo < 0)
			return vdc_err_set(err, -EINVAL,
					   "console input entry %zu: \"hex\" holds a byte that is not two lowercase hex digits",
					   i);
		k->buf[j / 2] = (unsigned char)(hi << 4 | lo);
	}
	k->len = len / 2;
	return 0;
}

int hva_console_input_parse(json_t *doc, struct hva_keys **out, size_t *n, struct vdc_err *err)
{
	struct hva_keys *k = NULL;
	const char *key;
	char name[40];
	json_t *arr, *v;
	size_t i, j, count;
	int rc;

	*out = NULL;
	*n = 0;
	if (!json_is_object(doc))
		return vdc_err_set(err, -EINVAL, "the console input from vdcfs is not an object");
	json_object_foreach(doc, key, v) {
		if (strcmp(key, VDC_WIRE_INPUT))
			return vdc_err_set(err, -EINVAL, "the console input has an unknown member \"%s\"",
					   printable(key, name, sizeof(name)));
	}
	arr = json_object_get(doc, VDC_WIRE_INPUT);
	if (!json_is_array(arr))
		return vdc_err_set(err, -EINVAL, "the console input has no \"input\" list");
	count = json_array_size(arr);
	if (count > HVA_CONSOLE_INPUT_ENTRIES_MAX)
		return vdc_err_set(err, -EINVAL, "the console input has %zu entries; at most %d are taken", count,
				   HVA_CONSOLE_INPUT_ENTRIES_MAX);
	if (!count)
		return 0;
	k = calloc(count, sizeof(*k));
	if (!k)
		return vdc_err_set(err, -ENOMEM, "out of memory for console input");
	for (i = 0; i < count; i++) {
		rc = parse_entry(json_array_get(arr, i), i, &k[i], err);
		for (j = 0; rc == 0 && j < i; j++) {
			if (k[j].id == k[i].id)
				rc = vdc_err_set(err, -EINVAL, "the console input names instance %" PRIu64 " twice",
						 k[i].id);
		}
		if (rc < 0) {
			hva_keys_free(k, i + 1);
			return rc;
		}
	}
	*out = k;
	*n = count;
	return 0;
}

int hva_console_pty_of(const char *xml, char *out, size_t size)
{
	const char *s = strstr(xml, "<serial type='pty'>"), *end, *p, *q;
	static const char src[] = "<source path='";

	if (!s || !(end = strstr(s, "</serial>")))
		return -ENOENT;
	p = strstr(s, src);
	if (!p || p > end)
		return -ENOENT;
	p += sizeof(src) - 1;
	q = strchr(p, '\'');
	if (!q || q > end || (size_t)(q - p) >= size || strncmp(p, "/dev/pts/", 9) ||
	    memmem(p, (size_t)(q - p), "..", 2))
		return -ENOENT;
	memcpy(out, p, (size_t)(q - p));
	out[q - p] = '\0';
	return 0;
}

