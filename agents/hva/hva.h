/*
 * vdc-hva: the agent of a hypervisor host (docs/vdc-hva.md).
 *
 * Threads, and what each owns:
 *
 *   main       options, setup, then waits for SIGTERM/SIGINT
 *   poller     long-polls the desired state (agents/common/core.c, with
 *              poller.c's callbacks); hands each new one to the worker
 *              through `core.pending`
 *   worker     the reconcile loop (reconcile.c): the only thread that
 *              changes domains and instance folders; publishes what it
 *              knows of each instance in `status`
 *   reporter   posts reports (agents/common/core.c; when and what:
 *              report.c): after each domain event, after each pass of
 *              the worker, every second while an image is fetched for
 *              a start, and every heartbeat
 *   events     runs libvirt's event loop (libvirt.c); its callbacks only
 *              record and wake the worker and the reporter
 *   console    follows console logs (console.c)
 *   images     downloads images into the cache (image.c)
 *
 * `core.lock` guards the fields marked [lock] (agents/common/core.h);
 * `conn_lock` guards the libvirt connection. No libvirt or HTTP call is
 * made with `core.lock` held.
 */
#ifndef VDC_HVA_H
#define VDC_HVA_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <libvirt/libvirt.h>

#include "agent.h"
#include "console.h"
#include "console_input.h"
#include "core.h"
#include "desired.h"
#include "domain_xml.h"
#include "driver.h"
#include "err.h"
#include "image_cache.h"
#include "migrate.h"
#include "proto.h"
#include "usage_sample.h"
#include "volume.h"

#define HVA_VERSION "0.3"

enum hva_virt { HVA_VIRT_AUTO, HVA_VIRT_KVM, HVA_VIRT_TCG };

struct hva_options {
	struct vdc_agent_options agent;   /* --server ... --pidfile, -v */
	const char *uri, *driver;
	enum hva_virt virt;
	unsigned cpus;                /* cap on what is offered; 0: none */
	uint64_t memory;              /* bytes; 0: none */
	unsigned shutdown_timeout_s;
	const char *underlay;         /* --underlay; NULL: the address vdcfs is reached from */
	bool verbose;
	bool leave;                   /* --leave: remove what the agent made, forget the join */
};

/* What the worker adds to libvirt's view of an instance, for the report. */
enum hva_phase {
	HVA_PHASE_NONE,
	HVA_PHASE_STARTING,           /* image fetch, disk, seed, define, start */
	HVA_PHASE_STOPPING,           /* shutdown asked, waiting for the guest */
	HVA_PHASE_ERROR,              /* `err` says why */
	HVA_PHASE_MIGRATING,          /* source: a live migration runs (migrate.c) */
	HVA_PHASE_MIGRATED,           /* source: the domain left for the destination */
	HVA_PHASE_INCOMING,           /* destination: prepared, the domain not arrived */
};

struct hva_status {
	uint64_t id;
	char domain[VDC_NAME_MAX + 1];
	bool power_on;
	enum hva_phase phase;
	char err[VDC_ERR_MSG_MAX];
	uint64_t reboot, reset;       /* carried out */
	uint64_t migrated;            /* the last migrate seq carried out */
	char mig_err[VDC_ERR_MSG_MAX];   /* why it failed, reported with state running */
	char progress[HVA_PROGRESS_MAX];   /* of a live migration */
	/*
	 * The image its start waits for (`present`): the reporter tells how
	 * far its fetch is (vdc_image_fetch_progress) in each report.
	 */
	struct vdc_image_spec fetch;
};

struct hva {
	struct hva_options opt;
	const struct hva_driver *drv;
	char statedir[PATH_MAX];
	char name[VDC_NAME_MAX + 1];

	/* Facts, fixed at start. */
	enum hva_domain_type domain_type;
	char virt[8];                 /* "kvm", "tcg" or "lxc" */
	unsigned cpus;
	uint64_t memory_mib;
	char libvirt_version[32];
	uint32_t underlay;            /* the VXLAN tunnels' address, host order */
	char underlay_text[16];

	struct vdc_proto proto;
	struct vdc_image_cache images;
	struct hva_console console;
	struct hva_console_input console_input;

	pthread_mutex_t conn_lock;
	virConnectPtr conn;           /* [conn_lock] NULL while disconnected */
	int cb_lifecycle, cb_reboot, cb_removed;   /* [conn_lock] */

	/* The lock, kicks, pending desired state (a struct hva_desired) and epoch. */
	struct vdc_agent_core core;
	bool conn_lost;               /* [lock] libvirt closed the connection */
	bool have_status;             /* [lock] the first pass is done: reports may go */
	struct hva_status *status;    /* [lock] one per desired instance */
	size_t n_status;
	struct hva_vol_status *vol_status;   /* [lock] volumes on this host's domains */
	size_t n_vol_status;
	char (*rebooted)[VDC_NAME_MAX + 1];   /* [lock] REBOOT events since the last pass */
	size_t n_rebooted;

	struct hva_usage usage;       /* the reporter's alone: its last samples (usage_sample.h) */
};

/* libvirt.c */

/* Set up libvirt's event loop and its thread; call before connecting. */
int hva_libvirt_init(struct hva *h, struct vdc_err *err);
/* Connect (or reconnect) to opt.uri and register the domain events. */
int hva_libvirt_connect(struct hva *h, struct vdc_err *err);
/* The connection with a reference the caller drops with virConnectClose(), or NULL. */
virConnectPtr hva_libvirt_get(struct hva *h);
/* Forget a broken connection, so the worker connects again. */
void hva_libvirt_drop(struct hva *h);
void hva_libvirt_close(struct hva *h);
/*
 * Fill `err` with a sentence of `fmt` followed by libvirt's last error
 * message of this thread, and return `code`.
 */
int hva_virt_err(struct vdc_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The metadata of `dom` if it carries vdc-hva's (any dc): 0, else -ENODATA. */
int hva_domain_meta(virDomainPtr dom, struct hva_meta *meta);
/* Write `meta` into `dom`'s live and persistent definitions. */
int hva_domain_meta_set(virDomainPtr dom, const struct hva_meta *meta, struct vdc_err *err);

/* What the agent core needs of vdc-hva (poller.c). */
extern const struct vdc_agent_core_ops hva_core_ops;

/* reconcile.c: the worker thread's body (the poller and the reporter are the core's). */
void *hva_worker_thread(void *arg);

/*
 * vdc-hva --leave: remove everything this agent made for data center `dc`
 * on the host: its libvirt domains (stopped at once) and their folders,
 * its bridges, VXLAN devices, DHCP servers and nftables tables, and the
 * image cache. libvirt must be connected; no other thread runs. 0, or
 * why something is left (then run it again).
 */
int hva_leave(struct hva *h, const char *dc, struct vdc_err *err);

/*
 * The reporter's turn (report.c; the core's ops->report): wait until a
 * report is due (kicked once the first pass is done, or the heartbeat)
 * and build it, with libvirt's state of every domain; none while libvirt
 * is unreachable.
 */
int hva_report_next(void *agent, uint64_t seq, long *next, json_t **report);

/*
 * The word a report says for an instance (report.c; pure): from what the
 * worker knows and libvirt's state and reason (`defined` false when
 * libvirt has no such domain).
 */
const char *hva_report_state(const struct hva_status *st, bool defined, int state, int reason);

#endif
