/*
 * libFuzzer target for the desired state a hypervisor host is given (GET
 * /v1/hosts/NAME/desired, docs/agent-protocol.md), as vdc-hva reads it:
 * hva_desired_parse() on any bytes refuses them by the error protocol, or
 * yields instances whose well-formed entries keep every limit vdc-hva
 * acts on (names, cpus, memory, nics, volumes, root disk, groups, keys) and whose
 * malformed entries say why; every string ends within its field. The
 * document comes from vdcfs over TLS, but an agent must not trust it with
 * its memory either.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "desired.h"
#include "fuzz.h"

static void check_name(const char *s)
{
	if (*s && vdc_name_check(s, strlen(s), NULL) < 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct hva_desired d;
	char *s = fuzz_copy(data, size);
	size_t i, k;
	int rc;

	memset(&d, 0, sizeof(d));
	rc = hva_desired_parse(s, size, &d, &err);
	fuzz_check_err(rc, &err, -EINVAL);
	if (rc == 0) {
		if (!d.dc[0] || strlen(d.dc) > HVA_DC_MAX)
			abort();
		for (i = 0; i < d.n; i++) {
			const struct hva_instance_spec *in = &d.inst[i];

			if (in->err[0])
				continue;
			check_name(in->name);
			if (!in->name[0] || in->cpus < 1 || in->cpus > HVA_CPUS_MAX || in->memory_mib > HVA_MEMORY_MIB_MAX)
				abort();
			if (in->n_nics > HVA_NICS_MAX || in->n_volumes > HVA_VOLUMES_MAX ||
			    in->n_groups > HVA_GROUPS_MAX || in->n_ssh_keys > HVA_SSH_KEYS_MAX)
				abort();
			if (!in->user_data || strlen(in->user_data) != in->user_data_len ||
			    in->user_data_len > HVA_USER_DATA_MAX)
				abort();
			for (k = 0; k < in->n_nics; k++) {
				check_name(in->nics[k].name);
				check_name(in->nics[k].network);
				if (strlen(in->nics[k].mac) != 17)
					abort();
			}
			for (k = 0; k < in->n_volumes; k++)
				if (in->volumes[k].lun > HVA_LUN_MAX || !in->volumes[k].size || in->volumes[k].root)
					abort();
			/* A root disk is checked as a volume is, with its own secret length and serial. */
			if (in->disk.present &&
			    (!in->disk.vol.root || !in->disk.vol.id || in->disk.vol.lun > HVA_LUN_MAX || !in->disk.vol.size ||
			     strlen(in->disk.vol.chap_secret) != HVA_DISK_SECRET_LEN || !in->disk.vol.port ||
			     strncmp(in->disk.vol.serial, "vdc-disk-", 9) != 0 || strncmp(in->disk.vol.iqn, "iqn.", 4) != 0 ||
			     !d.initiator[0]))
				abort();
			for (k = 0; k < in->n_ssh_keys; k++)
				if (!in->ssh_keys[k] || strlen(in->ssh_keys[k]) > HVA_SSH_KEY_MAX)
					abort();
		}
		if (d.n_networks > HVA_NETWORKS_MAX)
			abort();
		for (i = 0; i < d.n_groups; i++)
			check_name(d.groups[i].name);
	}
	hva_desired_release(&d);
	free(s);
	return 0;
}
