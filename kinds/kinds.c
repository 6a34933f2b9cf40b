/*
 * The one list of the kinds vdcfs serves (kinds.h): adding a kind adds a
 * line here, and the front end, which serves every kind of the list,
 * needs no change. tests/unit/test_kinds.c checks the order.
 */
#include <stddef.h>

#include "kinds.h"

const struct vdc_kind *const vdc_kind_list[] = {
	/* A restore needs link targets before their sources: keep this order. */
	&vdc_kind_images, &vdc_kind_ssh_keys, &vdc_kind_security_groups, &vdc_kind_networks,
	&vdc_kind_volumes, &vdc_kind_instances, &vdc_kind_hosts,
	&vdc_kind_quotas,   /* last: a restore makes the objects before the limits on them */
	NULL,
};
