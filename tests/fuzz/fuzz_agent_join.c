/*
 * libFuzzer target for the join request (POST /v1/join), the one document
 * a stranger may send: vdc_doc_join_parse() on any bytes either refuses
 * them by the error protocol or yields a checked host name and a token of
 * printable ASCII.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent_doc.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_doc_join j;
	char *s = fuzz_copy(data, size);
	size_t i;
	int rc;

	rc = vdc_doc_join_parse(s, size, &j, &err);
	fuzz_check_err(rc, &err, -EINVAL);
	if (rc == 0) {
		if (vdc_name_check(j.name, strlen(j.name), NULL) < 0)
			abort();
		if (strlen(j.token) > VDC_DOC_TOKEN_MAX)
			abort();
		for (i = 0; j.token[i]; i++)
			if (j.token[i] <= 0x20 || j.token[i] >= 0x7f)
				abort();
	} else if (j.name[0] || j.token[0]) {
		abort();
	}
	free(s);
	return 0;
}
