/*
 * libFuzzer target for relation symlinks: vdc_linkpath_parse.
 *
 * The input is split at its first newline into the folder a link is made
 * in and the link's text; its first byte picks the kind the link must name
 * and whether a mount point is known. An accepted link must name a valid
 * object, and writing the canonical link back (../ once per folder of
 * `from`, then KIND/NAME) must parse to the same name.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "validate.h"

#define check_err(rc, err) fuzz_check_err(rc, err, -EINVAL, -EXDEV)

static const char *const kinds[] = { "images", "volumes", "networks", "security-groups" };

/* Folders in a path below the root ("instances/web1" has 2). */
static size_t depth(const char *from)
{
	size_t d = 0;
	const char *p;

	for (p = from; *p; p++)
		if (*p != '/' && (p == from || p[-1] == '/'))
			d++;
	return d;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vdc_err err = VDC_ERR_INIT;
	char tname[VDC_NAME_MAX + 1], again[VDC_NAME_MAX + 1];
	const char *kind, *mnt, *from, *target;
	char *buf, *nl, canon[4096];
	size_t d, o = 0;
	int rc;

	if (size < 1)
		return 0;
	kind = kinds[data[0] % 4];
	mnt = data[0] & 4 ? "/vdc" : NULL;
	buf = fuzz_copy(data + 1, size - 1);
	/* Strings end at the first NUL, as a path from the kernel does. */
	buf = realloc(buf, size);
	if (!buf)
		abort();
	buf[size - 1] = '\0';
	nl = strchr(buf, '\n');
	if (nl) {
		*nl = '\0';
		from = buf;
		target = nl + 1;
	} else {
		from = "instances/web1";
		target = buf;
	}
	rc = vdc_linkpath_parse(mnt, from, target, kind, "link", tname, &err);
	check_err(rc, &err);
	if (rc == 0) {
		if (vdc_name_check(tname, strlen(tname), NULL) < 0)
			abort();
		for (d = depth(from); d && o + 3 < sizeof(canon); d--, o += 3)
			memcpy(canon + o, "../", 3);
		snprintf(canon + o, sizeof(canon) - o, "%s/%s", kind, tname);
		if (depth(from) <= 64) {
			rc = vdc_linkpath_parse(mnt, from, canon, kind, "link", again, &err);
			if (rc != 0 || strcmp(tname, again))
				abort();
		}
	}
	free(buf);
	return 0;
}
