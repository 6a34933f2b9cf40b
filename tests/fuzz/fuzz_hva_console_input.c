/*
 * libFuzzer target for the console input a hypervisor host is given (GET
 * /v1/hosts/NAME/console-input, docs/agent-protocol.md), as vdc-hva reads
 * it: hva_console_input_parse() on any JSON refuses it by the error
 * protocol, or yields entries of distinct ids from 1 with 1 to 4096
 * bytes each; the bytes are what the hex said.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "console_input.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct hva_keys *k;
	json_error_t je;
	json_t *doc = json_loadb((const char *)data, size, 0, &je);
	size_t i, j, n;
	int rc;

	if (!doc)
		return 0;
	rc = hva_console_input_parse(doc, &k, &n, &err);
	fuzz_check_err(rc, &err, -EINVAL, -ENOMEM);
	if (rc == 0) {
		for (i = 0; i < n; i++) {
			if (!k[i].id || k[i].id > INT64_MAX || !k[i].len || k[i].len > 4096 || !k[i].buf)
				abort();
			for (j = 0; j < i; j++)
				if (k[j].id == k[i].id)
					abort();
		}
		hva_keys_free(k, n);
	} else if (k || n) {
		abort();
	}
	json_decref(doc);
	return 0;
}
