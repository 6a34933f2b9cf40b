/*
 * libFuzzer target for what the agent server takes from a request line
 * and for host text: vdc_doc_host_path() on the input up to its first NUL
 * (a URL as libmicrohttpd hands it over), vdc_doc_query_u64() on what
 * follows the host's name (rev, wait, offset and the console's instance
 * id are such numbers), and vdc_doc_text_clean() on the whole input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "fuzz_agent_report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vdc_err err = VDC_ERR_INIT;
	char *url = fuzz_alloc(size + 1), name[VDC_NAME_MAX + 1], out[VDC_DOC_TEXT_MAX + 1];
	char *raw = fuzz_copy(data, size);
	const char *rest = NULL;
	uint64_t n;
	size_t len;
	int rc;

	if (size)
		memcpy(url, data, size);
	url[size] = 0;
	rc = vdc_doc_host_path(url, name, &rest, &err);
	fuzz_check_err(rc, &err, -EINVAL);
	if (rc == 0) {
		if (vdc_name_check(name, strlen(name), NULL) < 0 || rest < url || rest > url + strlen(url) ||
		    rest[-1] != '/' || strncmp(url + 10, name, strlen(name)))
			abort();
		vdc_err_clear(&err);
		rc = vdc_doc_query_u64(rest, "rev", 0, UINT64_MAX - 1, 0, &n, &err);
		fuzz_check_err(rc, &err, -EINVAL, -ERANGE);
		if (rc == 0) {
			char again[32];

			/* A number read back is the digits it was read from (no sign, no space, no leading zeros). */
			snprintf(again, sizeof(again), "%llu", (unsigned long long)n);
			if (strcmp(again, rest) && strspn(rest, "0") == 0)
				abort();
		}
	}
	len = vdc_doc_text_clean(raw, size, out);
	if (len != strlen(out))
		abort();
	fuzz_check_text(out);
	/* Text that is already one line within the bound, without tab, is kept as it is. */
	if (size <= VDC_DOC_TEXT_MAX && vdc_text_check(raw, size, false, NULL) == 0 && !memchr(raw, '\t', size) &&
	    (len != size || memcmp(out, raw, size)))
		abort();
	free(url);
	free(raw);
	return 0;
}
