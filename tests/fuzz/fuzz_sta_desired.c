/*
 * libFuzzer target for the desired state a storage host is given (GET
 * /v1/hosts/NAME/desired, docs/storage.md), as vdc-sta reads it:
 * sta_desired_parse() on any bytes refuses them by the error protocol, or
 * yields volumes whose well-formed entries have an id (a name, if any, is
 * a vdcfs name), an IQN under the
 * data center's prefix, a size in 512-byte sectors within the limit, a
 * CHAP account and at most STA_SNAPSHOTS_MAX snapshots, and an image
 * (if any) that is named and, unless pending, has 64 lowercase hex digits
 * and a known format; malformed entries say why. Every string ends
 * within its field.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "desired.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct sta_desired d;
	char *s = fuzz_copy(data, size);
	size_t i, k;
	int rc;

	memset(&d, 0, sizeof(d));
	rc = sta_desired_parse(s, size, &d, &err);
	fuzz_check_err(rc, &err, -EINVAL);
	if (rc == 0) {
		if (!d.dc[0] || strlen(d.dc) > STA_DC_MAX || strncmp(d.iqn_prefix, STA_IQN_BASE, strlen(STA_IQN_BASE)))
			abort();
		for (i = 0; i < d.n; i++) {
			const struct sta_volume_spec *v = &d.vol[i];

			if (v->err[0])
				continue;
			if (!v->id || (v->name[0] && vdc_name_check(v->name, strlen(v->name), NULL) < 0))
				abort();
			if (strncmp(v->iqn, d.iqn_prefix, strlen(d.iqn_prefix)) != 0 || strlen(v->iqn) > STA_IQN_MAX)
				abort();
			if (!v->size || v->size % 512 || v->size > STA_SIZE_MAX)
				abort();
			if (!v->chap_user[0] || v->n_initiators > STA_INITIATORS_MAX || v->n_snapshots > STA_SNAPSHOTS_MAX)
				abort();
			for (k = 0; k < v->n_snapshots; k++)
				if (!v->snapshots[k].id)
					abort();
			if (v->image.present && vdc_name_check(v->image.name, strlen(v->image.name), NULL) < 0)
				abort();
			if (v->image.present && !v->image.pending &&
			    (strlen(v->image.sha256) != 64 || strspn(v->image.sha256, "0123456789abcdef") != 64 ||
			     v->image.format > VDC_IMAGE_FORMAT_QCOW2))
				abort();
		}
	}
	sta_desired_release(&d);
	free(s);
	return 0;
}
