/*
 * libFuzzer target for a storage host's report (POST
 * /v1/hosts/NAME/report, docs/storage.md): vdc_doc_sta_report_parse() on
 * any bytes either refuses them by the error protocol or yields numbers
 * in their ranges, at most VDC_DOC_SNAPSHOTS_MAX snapshots in all, a
 * portal without spaces or control bytes and host text that is one line
 * of text within VDC_DOC_TEXT_MAX bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "fuzz_agent_report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_doc_sta_report r;
	char *s = fuzz_copy(data, size);
	size_t i, snaps = 0;
	unsigned k;
	int rc;

	rc = vdc_doc_sta_report_parse(s, size, &r, &err);
	fuzz_check_err(rc, &err, -EINVAL);
	if (rc < 0) {
		if (r.vols || r.n)
			abort();
		free(s);
		return 0;
	}
	if (r.epoch < 0 || r.seq < 0 || r.disk_mib > VDC_DOC_DISK_MIB_MAX || r.n > VDC_DOC_VOLUMES_MAX)
		abort();
	fuzz_check_fact(r.driver);
	fuzz_check_fact(r.version);
	for (i = 0; r.portal[i]; i++)
		if (r.portal[i] <= 0x20 || r.portal[i] >= 0x7f)
			abort();
	if (i > VDC_DOC_PORTAL_MAX)
		abort();
	for (i = 0; i < r.n; i++) {
		const struct vdc_doc_sta_vol *v = &r.vols[i];

		if (v->id < 1 || v->size < 0 || v->allocated < 0 || v->restore < 0 || (v->nsnaps && !v->snaps))
			abort();
		fuzz_check_word(v->state);
		fuzz_check_text(v->err);
		fuzz_check_text(v->progress);
		for (k = 0; k < v->nsnaps; k++)
			fuzz_check_vol(&v->snaps[k]);
		snaps += v->nsnaps;
	}
	if (snaps > VDC_DOC_SNAPSHOTS_MAX)
		abort();
	vdc_doc_sta_report_release(&r);
	free(s);
	return 0;
}
