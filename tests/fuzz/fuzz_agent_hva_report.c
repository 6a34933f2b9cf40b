/*
 * libFuzzer target for a hypervisor's report (POST /v1/hosts/NAME/report):
 * vdc_doc_hva_report_parse() on any bytes either refuses them by the
 * error protocol or yields numbers in their ranges, counts within their
 * bounds, state words, facts of the allowed characters, host text that
 * is one line of text within VDC_DOC_TEXT_MAX bytes, and usage figures
 * that are -1 (not sent) or in their ranges.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "fuzz_agent_report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_doc_hva_report r;
	char *s = fuzz_copy(data, size);
	size_t i;
	unsigned k;
	int rc;

	rc = vdc_doc_hva_report_parse(s, size, &r, &err);
	fuzz_check_err(rc, &err, -EINVAL);
	if (rc < 0) {
		if (r.insts || r.n)
			abort();
		free(s);
		return 0;
	}
	if (r.epoch < 0 || r.seq < 0 || r.cpus > VDC_DOC_CPUS_MAX || r.memory_mib > VDC_DOC_MEMORY_MIB_MAX ||
	    r.n > VDC_DOC_INSTANCES_MAX)
		abort();
	fuzz_check_fact(r.driver);
	fuzz_check_fact(r.virt);
	fuzz_check_fact(r.libvirt);
	fuzz_check_fact(r.version);
	fuzz_check_ipv4(r.underlay);
	if (r.cpu < -1 || r.cpu > VDC_DOC_HOST_CPU_MAX)
		abort();
	for (k = 0; k < 3; k++)
		if (r.load[k] < -1 || r.load[k] > VDC_DOC_LOAD_MAX)
			abort();
	for (i = 0; i < r.n; i++) {
		const struct vdc_doc_inst *in = &r.insts[i];

		if (in->id < 1 || in->reboot > INT64_MAX || in->reset > INT64_MAX ||
		    in->nvols > VDC_DOC_INST_VOLUMES_MAX || (in->nvols && !in->vols))
			abort();
		fuzz_check_word(in->state);
		fuzz_check_text(in->err);
		fuzz_check_ipv4(in->ip);
		for (k = 0; k < in->nvols; k++)
			fuzz_check_vol(&in->vols[k]);
		if (in->usage.cpu < -1 || in->usage.cpu > VDC_DOC_INST_CPU_MAX || in->usage.cpu_time_ns < -1 ||
		    in->usage.memory_kib < -1 || in->usage.memory_kib > VDC_DOC_MEMORY_KIB_MAX ||
		    in->usage.disk_read < -1 || in->usage.disk_written < -1 || in->usage.net_received < -1 ||
		    in->usage.net_sent < -1 || in->usage.uptime < -1)
			abort();
	}
	vdc_doc_hva_report_release(&r);
	free(s);
	return 0;
}
