/*
 * The limits vdcfs and its agents share: one number each, so they cannot
 * drift (docs/tree.md, "Limits"). Not called limits.h: -Ibackend would
 * hide the C library's <limits.h>.
 *
 * Contract
 * --------
 * - vdcfs refuses, at the write(2), mkdir(2) or symlink(2) that would
 *   break one of these, with ENOSPC (a count), ERANGE (a number) or
 *   EINVAL (a length or an empty value) and a sentence in run/err. So a
 *   desired state built from the tree never breaks one.
 * - The agents check the same numbers in what they are sent
 *   (agents/hva/desired.h, agents/sta/desired.h) and refuse only the one
 *   instance or volume that breaks them, never the whole document: a
 *   desired state may come from an older vdcfs, or be forged.
 * - A per-host total (networks, security groups on a hypervisor host) is
 *   a condition of placement too: a host whose desired state would break
 *   it is no fit for the instance (backend/scheduler.h).
 */
#ifndef VDC_LIMITS_H
#define VDC_LIMITS_H

/* An instance: its size. */
#define VDC_CPUS_MAX 128
#define VDC_MEMORY_MIN (64ULL << 20)          /* bytes */
#define VDC_MEMORY_MAX (1ULL << 40)           /* 1 TiB */
#define VDC_HOSTNAME_MAX 253
#define VDC_USER_DATA_MAX (64 * 1024)         /* bytes */

/* An instance: what it links and holds. */
#define VDC_NICS_MAX 16                       /* nics/ of one instance */
#define VDC_INSTANCE_VOLUMES_MAX 16           /* vdc..vdr after the boot disk and seed */
#define VDC_SSH_KEYS_MAX 64                   /* ssh-keys/ of one instance */
#define VDC_INSTANCE_GROUPS_MAX 64            /* security-groups/ of one instance */
#define VDC_SSH_KEY_MAX (16 * 1024)           /* bytes of a public key */

/* A relation folder that names no limit of its own. */
#define VDC_REL_MAX 64

/*
 * A hypervisor host: the distinct networks of the instances placed on it,
 * and the security groups its desired state names (those of its
 * instances and, transitively, the sg:NAME peers of their rules).
 */
#define VDC_HOST_NETWORKS_MAX 256
#define VDC_HOST_GROUPS_MAX 1024
/* A hypervisor host: the nics on networks of the instances placed on it (its firewall's slots). */
#define VDC_HOST_NICS_MAX 32767

/* A network: its nics (every host is told the nics of the others). */
#define VDC_NETWORK_NICS_MAX 65536
/*
 * A security group: its member instances, and the addresses of their nics
 * that every host of a member is told.
 */
#define VDC_GROUP_INSTANCES_MAX 4096
#define VDC_GROUP_MEMBERS_MAX 65536

/*
 * Console input (instances/NAME/console) waiting for an instance's host
 * to take it: a write that would pass it is EAGAIN; one answer of GET
 * console-input carries at most this much per instance.
 */
#define VDC_CONSOLE_INPUT_MAX 4096

/* A volume and its storage host. */
#define VDC_VOLUME_SIZE_MIN (1ULL << 20)
#define VDC_VOLUME_SIZE_MAX (16ULL << 40)     /* 16 TiB */
#define VDC_SNAPSHOTS_MAX 1024                /* snapshots/ of one volume */

/* The boot disk is vda and the seed vdb; volumes take the letters after them. */
_Static_assert(VDC_INSTANCE_VOLUMES_MAX <= 'z' - 'c' + 1, "a volume's disk letter must exist");
/* A relation folder's own limit may not pass what the model can hold in one. */
_Static_assert(VDC_SSH_KEYS_MAX <= VDC_REL_MAX && VDC_INSTANCE_GROUPS_MAX <= VDC_REL_MAX &&
	       VDC_INSTANCE_VOLUMES_MAX <= VDC_REL_MAX, "a relation folder holds at most VDC_REL_MAX links");
/* The agents speak memory in MiB: the bounds must be whole MiB. */
_Static_assert(VDC_MEMORY_MIN % (1 << 20) == 0 && VDC_MEMORY_MAX % (1 << 20) == 0,
	       "memory bounds are whole MiB");
/* A group's addresses are at most one a nic of each member instance. */
_Static_assert((unsigned long long)VDC_GROUP_INSTANCES_MAX * VDC_NICS_MAX <= VDC_GROUP_MEMBERS_MAX,
	       "the members of a full group must fit the addresses an agent takes");
/* One instance must fit a host: every nic of it may be on a network of its own. */
_Static_assert(VDC_NICS_MAX <= VDC_HOST_NICS_MAX, "one instance must fit a host's nics");
/* Every nic of an instance may be on a network of its own. */
_Static_assert(VDC_NICS_MAX <= VDC_HOST_NETWORKS_MAX, "one instance must fit a host's networks");

#endif
