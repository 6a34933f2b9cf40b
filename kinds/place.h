/*
 * Layer: placement, above hosts (host.h) and below the kinds that place
 * instances or read where they are (instance.c, network.c, volume.c).
 * Which host each instance is on, the links of hosts/NAME/instances/,
 * what placed instances take of their hosts, and the limits of networks
 * and security groups one host's desired state may carry. It calls
 * nothing above it: telling the networks that an instance moved is the
 * caller's (instance.c), as is reconciling (docs/HACKING.md, "Layers").
 *
 * Contract
 * --------
 * - Every function expects the model's write lock (or the read lock where
 *   it says so), like the rest of the model.
 * - An instance's obj->priv is a `struct vdc_place`: the host it is placed
 *   on (persisted as the live value "host"), whether it is leaving that
 *   host (evacuation), the reboot/reset counters asked for, and the tail
 *   of its serial console.
 */
#ifndef VDC_PLACE_H
#define VDC_PLACE_H

#include <stdbool.h>
#include <stdint.h>

#include "host.h"
#include "model.h"
#include "scheduler.h"

#define VDC_CONSOLE_MAX (64 * 1024)

struct vdc_lun;

struct vdc_place {
	char host[VDC_NAME_MAX + 1];    /* "" when not placed */
	struct vdc_lun *disk;           /* its root disk (disk.h) */
	bool disk_local;                /* the disk stays on its hypervisor (disk.h) */
	bool leaving;                   /* evacuating: gone from desired */
	uint64_t reboot, reset;         /* counters asked for */
	char *console;                  /* the last VDC_CONSOLE_MAX bytes */
	size_t console_len;
	uint64_t console_have;          /* bytes received in all */
	char *input;                    /* console input not yet fetched by its host */
	size_t input_len;
	char migrate_to[VDC_NAME_MAX + 1];  /* live migration under way to this host, or "" */
	uint64_t migrate_seq;           /* live migrations asked for (the source's "migrate" seq) */
	bool migrate_go;                /* the source has been told to start it */
};

struct vdc_place *vdc_place_of(struct vdc_obj *instance);
/* The instance as its host last reported it, or NULL. */
const struct vdc_seen *vdc_seen_of(const struct vdc_obj *instance);

/* What an instance asks of a host: its cpus and memory (bytes). */
void vdc_instance_size(const struct vdc_obj *obj, unsigned *cpus, uint64_t *memory);

/* Console bytes from an agent, starting at `offset`; returns what vdcfs has. */
uint64_t vdc_console_append(struct vdc_obj *instance, uint64_t offset, const char *buf, size_t len);

/*
 * Console input (instances/NAME/console), the caller having checked that
 * the instance runs: queued for its host, which fetches it with
 * GET console-input (agentd.c). All of `len` bytes are queued, or none:
 * -EAGAIN with the sentence when VDC_CONSOLE_INPUT_MAX would be passed.
 * Wakes the host's waiting fetch.
 */
int vdc_console_input_push(struct vdc_obj *instance, const char *buf, size_t len, struct vdc_err *err);

/*
 * The console input of the instances placed on `host`, taken out of
 * their queues: one entry per instance with bytes (the caller frees each
 * buf and the list); *n of them. Input of an instance that no longer
 * runs there was dropped when it stopped or moved (vdc_console_input_drop).
 */
struct vdc_console_input {
	int64_t id;
	char *buf;
	size_t len;
};
struct vdc_console_input *vdc_console_input_take(const struct vdc_obj *host, size_t *n);
/* Drop what `instance` has waiting (it stopped or moved). */
void vdc_console_input_drop(struct vdc_obj *instance);

/*
 * Waiting for input, as the desired state's long-poll waits for a bump
 * (host.h): the count of pushes so far, and a wait until it passes
 * `seen` or the CLOCK_MONOTONIC `deadline` comes. Without the model lock.
 */
uint64_t vdc_console_input_pushes(void);
void vdc_console_input_wait(uint64_t seen, const struct timespec *deadline);
/* Wake every waiting fetch (vdcfs is stopping). */
void vdc_console_input_wake(void);

/*
 * The hosts' capacity and use, for the scheduler to place `instance`
 * (caller frees *caps): with the networks and security groups each
 * host's desired state would carry with it.
 */
size_t vdc_hosts_caps(const struct vdc_obj *instance, struct vdc_host_cap **caps);

/*
 * May nic `nic` link network `net`? Not when its instance is placed on a
 * host whose desired state would then carry more than
 * VDC_HOST_NETWORKS_MAX networks: 0 or -ENOSPC with the sentence.
 */
int vdc_place_networks_check(const struct vdc_obj *nic, const char *net, struct vdc_err *err);

/*
 * May `instance` join security group `group`? Not when it is placed on a
 * host whose desired state would then name more than VDC_HOST_GROUPS_MAX
 * groups: 0 or -ENOSPC with the sentence.
 */
int vdc_place_groups_check(const struct vdc_obj *instance, const char *group, struct vdc_err *err);

/*
 * May security group `group` take `rules` (its sg:NAME peers)? Not when
 * a host whose desired state names the group would then name more than
 * VDC_HOST_GROUPS_MAX groups: 0 or -ENOSPC with the sentence.
 */
int vdc_hosts_rules_check(const struct vdc_obj *group, const char *rules, size_t len, struct vdc_err *err);

/* An instance's cpus or memory changed: its host's use is counted again. */
void vdc_place_resized(struct vdc_obj *instance);

/*
 * Placement of an instance: on host `host` ("" takes it off), with the
 * links of hosts/NAME/instances/ and the hosts' use and revisions. The
 * networks are not told (the caller does: vdc_network_touched()).
 */
int vdc_place_set(struct vdc_obj *instance, const char *host, struct vdc_err *err);
void vdc_place_leave(struct vdc_obj *instance);

/*
 * The instances placed on `host`, as a copy (free it): reconciling may
 * move an instance off the host, which changes its list of links.
 */
struct vdc_obj **vdc_placed_on(const struct vdc_obj *host, unsigned *n);

/*
 * Live migration as placement sees it (migrate.c has the behaviour): the
 * destination `to` of `instance` (which stays placed on its source until
 * the move is done) has the instance's cpus and memory reserved and its
 * desired state carries it as incoming; persisted as the live values
 * "migrate-to", "migrate-seq" and "migrate-go". begin asks for attempt
 * seq+1; go marks the source told; end drops the destination (the caller
 * places the instance there first when it moved).
 */
int vdc_place_migrate_begin(struct vdc_obj *instance, const char *to, struct vdc_err *err);
void vdc_place_migrate_go(struct vdc_obj *instance);
void vdc_place_migrate_end(struct vdc_obj *instance);
/* The instances being migrated, as a copy (free it); *n of them. */
struct vdc_obj **vdc_place_migrating(size_t *n);
/* The instance as host `hostname` last reported it, or NULL. */
const struct vdc_seen *vdc_seen_at(const struct vdc_obj *instance, const char *hostname);

/* Run files of an instance that come from its host's agent. */
void vdc_instance_show_host(const struct vdc_obj *obj, struct strbuf *out);
void vdc_instance_show_console(const struct vdc_obj *obj, struct strbuf *out);

/* Kind hooks of instances (kinds/instances.c) and the hosts' loaded hook (kinds/hosts.c). */
void vdc_place_live_loaded(struct vdc_obj *instance, const char *name, const char *value);
void vdc_place_release(struct vdc_obj *instance);
void vdc_place_destroyed(struct vdc_obj *instance);
void vdc_place_renamed(struct vdc_obj *instance, const char *old);
/* After a restart the links of hosts/NAME/instances/ and the instances' "host" values agree. */
void vdc_host_loaded(struct vdc_obj *host);

/*
 * Close `s` over the security groups' peers: add every group that the
 * rules of a group in `s` name (sg:NAME), transitively, as the desired
 * state of a host carries them (network.c's vdc_network_desired_get and
 * placement's count agree through this one function). The rules of
 * `over_group` are read as `over_text` (about to be written) when it is
 * not NULL. Stops once s->n passes `limit`. The model lock is held.
 */
void vdc_groups_close(struct vdc_name_set *s, const char *over_group, const char *over_text, size_t over_len,
		      size_t limit);

#endif
