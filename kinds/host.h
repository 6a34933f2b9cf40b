/*
 * Layer: hosts, the lowest of the kinds, just above the model. Hosts
 * that joined, their tokens, the revision of their desired state, and
 * what their agents last reported. It calls nothing above the model:
 * where instances are placed is place.h's, what a report means for the
 * kinds is reconcile.h's (docs/HACKING.md, "Layers").
 *
 * Contract
 * --------
 * - Every function expects the model's write lock (or the read lock where
 *   it says so), like the rest of the model.
 * - A host is an object of the kind "hosts", made by vdc_host_join() and
 *   never by mkdir. Its obj->priv is a `struct vdc_host`: what its agent
 *   last reported. Nothing of it is desired state.
 * - The desired state of a host has a revision (`rev`) that goes up with
 *   every change that could alter it (vdc_host_bump); agents long-poll it.
 */
#ifndef VDC_HOST_H
#define VDC_HOST_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "model.h"

/*
 * hosts/NAME/: the attributes and relation folders its table
 * (kinds/hosts.c) is indexed by (kind_ids.h says why).
 */
enum vdc_host_attr {
	VDC_HOST_SCHEDULABLE,
	VDC_HOST_NATTRS
};
enum vdc_host_rel {
	VDC_HOST_INSTANCES,
	VDC_HOST_VOLUMES,
	VDC_HOST_NRELS
};

/* The words of a host's run/state, named by constants (as instance.h's). */
enum vdc_host_state { VDC_HSTATE_JOINED, VDC_HSTATE_UP, VDC_HSTATE_UNKNOWN, VDC_HSTATE_COUNT };

/* Is host `host` in state `s`? */
bool vdc_host_in(const struct vdc_obj *host, enum vdc_host_state s);

/* A volume of an instance, as its hypervisor last reported it. */
struct vdc_seen_vol {
	int64_t id;
	char state[16];                 /* attached | detaching | error */
	char *err;
};

/*
 * What a running instance uses, as its hypervisor last reported it
 * (docs/agent-protocol.md, "Usage"); each figure -1 when not known. cpu
 * is in hundredths of a percent of one host CPU; memory_kib what the
 * guest holds of the host's memory; bytes and seconds as they are.
 */
struct vdc_usage {
	int64_t cpu, cpu_time_ns, memory_kib;
	int64_t disk_read, disk_written, net_received, net_sent;
	int64_t uptime;
};

/* One instance as the host's agent last reported it. */
struct vdc_seen {
	int64_t id;
	char state[16];
	char *err;
	char ip[64];
	uint64_t reboot, reset;
	uint64_t migrated;              /* the last live migration carried out */
	char *progress;                 /* of a live migration or an image fetch under way, or NULL */
	struct vdc_seen_vol *vols;
	unsigned nvols;
	struct vdc_usage usage;
};

/* What a host's agent is: a hypervisor (vdc-hva) or a storage host (vdc-sta). */
enum vdc_host_role { VDC_ROLE_HVA, VDC_ROLE_STA };

struct vdc_host {
	char token_sha[65];             /* hex SHA-256 of the host token */
	unsigned cpus;                  /* offered, as reported */
	uint64_t memory;                /* bytes offered, as reported */
	char driver[96];                /* "qemu tcg, libvirt 9.0.0, vdc-hva 0.3" */
	bool reported;                  /* has reported since vdcfs started */
	struct timespec last_seen;      /* CLOCK_MONOTONIC */
	int64_t epoch, seq;             /* of the last accepted report */
	uint64_t rev;                   /* desired revision */
	unsigned cpus_used;             /* what its placed instances take */
	uint64_t memory_used;
	struct vdc_imap seen;           /* instance id -> struct vdc_seen */
	enum vdc_host_role role;        /* persisted as the live value "role" */
	uint64_t disk;                  /* storage: bytes offered for volumes */
	uint64_t disk_used;             /* storage: sizes of its volumes, and of those being deleted */
	char portal[80];                /* storage: "ADDR:PORT" of its tgtd */
	char underlay[16];              /* hypervisor: the IPv4 address its VXLAN tunnels use */
	char *pki_cert, *pki_key;       /* hypervisor: its libvirtd's certificate (tls.h), or NULL */
	char pki_ip[16];                /* the address pki_cert names */
	int64_t cpu_busy;               /* hypervisor: hundredths of a percent busy, -1: not known */
	int64_t load[3];                /* hypervisor: load averages in hundredths, -1: not known */
};

/* Settings of the physical layer; set before agents connect. */
void vdc_hosts_configure(unsigned host_timeout_s, unsigned heartbeat_s);
unsigned vdc_hosts_heartbeat(void);

/* The kind of hosts/ (kinds/hosts.c registers it). */
const struct vdc_kind *vdc_hosts_kind(void);
struct vdc_obj *vdc_host_find(const char *name);
struct vdc_host *vdc_host_of(struct vdc_obj *host);

/*
 * Join: make hosts/NAME with a new host token (returned in token_hex,
 * 65 bytes). -EEXIST when a host of that name exists.
 */
int vdc_host_join(const char *name, enum vdc_host_role role, char *token_hex, struct vdc_err *err);
/*
 * The host `name` if `token` is its token; else -EACCES with a sentence
 * saying whose token it was, if anyone's, and that host in *out (NULL
 * when the token is nobody's). Read lock is enough.
 */
int vdc_host_auth(const char *name, const char *token, struct vdc_obj **out, struct vdc_err *err);

/* Desired state changed for the host (NULL: for every host). */
void vdc_host_bump(struct vdc_obj *host);
/* Long-poll support: the counter of bumps, and waiting for the next one. */
uint64_t vdc_hosts_bumps(void);
/* Wait (no model lock held) until the bump counter differs from `seen` or the deadline. */
void vdc_hosts_wait(uint64_t seen, const struct timespec *deadline_monotonic);

/* What a hypervisor's report says of one instance. */
struct vdc_report_inst {
	int64_t id;
	const char *state;
	const char *err;
	const char *ip;
	uint64_t reboot, reset;
	uint64_t migrated;
	const char *progress;
	const struct vdc_seen_vol *vols;
	unsigned nvols;
	struct vdc_usage usage;         /* -1 for what the report did not say (a caller that fills none: all 0) */
};
/*
 * A report was accepted: record what it says of the host's instances
 * (facts and the host's usage set by the caller, vdc_host_set_usage) and
 * turn the host up. What that means for the kinds above is reconcile.c's
 * (vdc_host_report).
 */
void vdc_host_record(struct vdc_obj *host, const struct vdc_report_inst *insts, size_t n);
/*
 * The host's own usage as its report says (hundredths; -1: not sent).
 * Forgotten (-1) when the host turns unknown: a silent host's figures
 * would be old.
 */
void vdc_host_set_usage(struct vdc_obj *host, int64_t cpu, const int64_t load[3]);
/* How many volumes the host's instances hold, as last reported. */
unsigned vdc_host_seen_volumes(const struct vdc_host *h);
bool vdc_host_is_up(const struct vdc_obj *host);

/*
 * Heartbeats: turn `host` unknown if it has been silent for more than the
 * host timeout at `now` (CLOCK_MONOTONIC); true when it turned so now.
 * reconcile.c's vdc_hosts_tick() calls it for each host.
 */
bool vdc_host_silenced(struct vdc_obj *host, const struct timespec *now);
/* Is the host's attribute schedulable on? */
bool vdc_host_schedulable(const struct vdc_obj *host);

/* What the instances placed on the host take (counted by place.c). */
void vdc_host_use(const struct vdc_obj *host, unsigned *cpus, uint64_t *memory);

/* Run files of a host. */
void vdc_host_show_cpus(const struct vdc_obj *host, struct strbuf *out);
void vdc_host_show_memory(const struct vdc_obj *host, struct strbuf *out);
void vdc_host_show_cpus_used(const struct vdc_obj *host, struct strbuf *out);
void vdc_host_show_memory_used(const struct vdc_obj *host, struct strbuf *out);
void vdc_host_show_driver(const struct vdc_obj *host, struct strbuf *out);
void vdc_host_show_underlay(const struct vdc_obj *host, struct strbuf *out);

/* Kind hooks of hosts (kinds/hosts.c). */
int vdc_host_busy(const struct vdc_obj *host, struct vdc_err *err);
void vdc_host_live_loaded(struct vdc_obj *host, const char *name, const char *value);
void vdc_host_release(struct vdc_obj *host);

/* Tokens compared in time independent of where they differ. */
bool vdc_secret_equal(const char *a, const char *b);
/* `n` bytes as 2n lower-case hex digits and a NUL into `out`. */
void vdc_hex(const unsigned char *b, size_t n, char *out);


#endif
