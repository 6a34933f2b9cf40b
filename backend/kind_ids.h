/*
 * The kinds by the names of constants the compiler checks. Each kind's
 * attributes and relation folders are constants too, in its own header
 * in kinds/ (instance.h, volume.h, network.h, host.h, ssh_key.h; the
 * quotas' are quota.h's enum vdc_quota_res, in order). The code says
 * vdc_attr_value(inst, VDC_INSTANCE_POWER, &len) and
 * host->rel[VDC_HOST_INSTANCES], never "power" or rel[0]; the kinds'
 * tables in kinds/ are indexed by the same constants (designated
 * initializers) and assert their length (VDC_TABLE_IS in kinds/kinds.h),
 * so an attribute added, renamed or moved in a table without its
 * constant fails to compile instead of at run time.
 *
 * Layer: the model (includes nothing; model.h and the kinds use it).
 */
#ifndef VDC_KIND_IDS_H
#define VDC_KIND_IDS_H

/* struct vdc_kind's id; VDC_KIND_OTHER for kinds of the unit tests. */
enum vdc_kind_id {
	VDC_KIND_OTHER,
	VDC_KIND_IMAGES,
	VDC_KIND_SSH_KEYS,
	VDC_KIND_SECURITY_GROUPS,
	VDC_KIND_NETWORKS,
	VDC_KIND_VOLUMES,
	VDC_KIND_SNAPSHOTS,
	VDC_KIND_INSTANCES,
	VDC_KIND_NICS,
	VDC_KIND_HOSTS,
	VDC_KIND_QUOTAS,
	VDC_KIND_INSTANCE_SNAPSHOTS,
	VDC_KIND_IDS
};

#endif
