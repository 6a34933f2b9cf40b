/*
 * The kinds, their attributes and their relation folders by the names of
 * constants the compiler checks. The backend says
 * vdc_attr_value(inst, VDC_INSTANCE_POWER, &len) and
 * host->rel[VDC_HOST_INSTANCES], never "power" or rel[0]; the kinds'
 * tables in kinds/ are indexed by the same constants (designated
 * initializers) and assert their length (VDC_TABLE_IS in kinds/kinds.h),
 * so an attribute added, renamed or moved in a table without its
 * constant here fails to compile instead of at run time.
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
	VDC_KIND_IDS
};

/* instances/NAME/ */
enum vdc_instance_attr {
	VDC_INSTANCE_CPUS,
	VDC_INSTANCE_MEMORY,
	VDC_INSTANCE_HOSTNAME,
	VDC_INSTANCE_USER_DATA,
	VDC_INSTANCE_POWER,
	VDC_INSTANCE_IMAGE,
	VDC_INSTANCE_NATTRS
};
enum vdc_instance_rel {
	VDC_INSTANCE_VOLUMES,
	VDC_INSTANCE_SECURITY_GROUPS,
	VDC_INSTANCE_SSH_KEYS,
	VDC_INSTANCE_NRELS
};

/* instances/NAME/nics/NIC/ */
enum vdc_nic_attr {
	VDC_NIC_NETWORK,
	VDC_NIC_IP,
	VDC_NIC_NATTRS
};

/* networks/NAME/ */
enum vdc_network_attr {
	VDC_NETWORK_CIDR,
	VDC_NETWORK_GATEWAY,
	VDC_NETWORK_DHCP,
	VDC_NETWORK_DNS,
	VDC_NETWORK_NATTRS
};

/* volumes/NAME/ */
enum vdc_volume_attr {
	VDC_VOLUME_SIZE,
	VDC_VOLUME_SOURCE,
	VDC_VOLUME_NATTRS
};

/* ssh-keys/NAME/ */
enum vdc_ssh_key_attr {
	VDC_SSH_KEY_PUBLIC_KEY,
	VDC_SSH_KEY_NATTRS
};

/* security-groups/NAME/ */
enum vdc_group_attr {
	VDC_GROUP_RULES,
	VDC_GROUP_NATTRS
};

/* hosts/NAME/ */
enum vdc_host_attr {
	VDC_HOST_SCHEDULABLE,
	VDC_HOST_NATTRS
};
enum vdc_host_rel {
	VDC_HOST_INSTANCES,
	VDC_HOST_VOLUMES,
	VDC_HOST_NRELS
};

/* quotas/USER/: its attributes are quota.h's enum vdc_quota_res, in order. */

#endif
