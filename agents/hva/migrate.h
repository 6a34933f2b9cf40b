/*
 * Live migration of an instance to another hypervisor (docs/vdc-hva.md,
 * "Live migration"), the source's side: one thread per migration runs
 * virDomainMigrateToURI3 (peer to peer: this host's libvirtd drives it
 * and talks to the destination's over TLS with STATE/pki), so the worker,
 * the reports and the other instances go on meanwhile; the worker reads
 * the progress from the domain's job and the outcome when the thread ends.
 *
 * The worker owns a `struct hva_migs`; a thread only writes its job's
 * `done`, `rc` and `err` under core.lock and kicks the worker.
 */
#ifndef VDC_HVA_MIGRATE_H
#define VDC_HVA_MIGRATE_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libvirt/libvirt.h>

#include "desired.h"
#include "domain_xml.h"
#include "err.h"

struct hva;

/* What the agent says while a migration runs, free text of a report. */
#define HVA_PROGRESS_MAX 160

struct hva_mig {
	char domain[VDC_NAME_MAX + 1];
	uint64_t id, seq;
	char to[VDC_NAME_MAX + 1];
	char uri[HVA_MIG_URI_MAX + 16 + PATH_MAX * 3];   /* with ?pkipath= (escaped) */
	char stream[32];                  /* tcp://ADDRESS */
	char *dest_xml, *persist_xml;     /* with the destination's initiator; NULL: as here */
	virDomainPtr dom;                 /* the thread's reference */
	struct hva *h;
	bool done;                        /* [core.lock] */
	int rc;                           /* [core.lock] 0: the domain left */
	char err[VDC_ERR_MSG_MAX];        /* [core.lock] libvirt's message */
};

struct hva_migs {
	struct hva_mig **v;
	size_t n;
};

/*
 * Start migrating `dom` (the caller keeps its reference) of instance `in`
 * as its "migrate" asks, in a thread of its own. 0, or why not.
 */
int hva_mig_start(struct hva *h, struct hva_migs *m, virDomainPtr dom, const struct hva_instance_spec *in,
		  struct vdc_err *err);

/* The migration of domain `domain` this agent run started, or NULL. */
struct hva_mig *hva_mig_find(struct hva_migs *m, const char *domain);

/* Whether its thread has ended; then `*rc` and `err` (its sentence when it failed). */
bool hva_mig_ended(struct hva *h, struct hva_mig *j, int *rc, char *msg, size_t n);

/* Forget an ended one (its thread is joined). */
void hva_mig_reap(struct hva_migs *m, struct hva_mig *j);

/*
 * The worker ends: the ended threads are joined; a thread still in
 * libvirt's call is left to the process's exit (libvirtd goes on with the
 * migration: the next run of the agent sees its job, or its outcome).
 */
void hva_migs_release(struct hva_migs *m);

/*
 * The progress of `dom`'s job into `out`: 1 when a job runs (its
 * sentence), 0 when none does, -1 when libvirt cannot say.
 */
int hva_mig_progress(virDomainPtr dom, char *out, size_t n);

/*
 * The sentence of a job's memory figures (pure): "memory 41% (53 of 128
 * MiB), 12 MiB/s", with ", pass N" from the second pass over the memory;
 * "starting" before qemu has counted anything.
 */
void hva_mig_progress_text(uint64_t total, uint64_t remaining, uint64_t bps, uint64_t iteration, char *out,
			   size_t n);

/* The message of `dom`'s last job if it failed (libvirt keeps it), into `out`; "" when none. */
void hva_mig_last_error(virDomainPtr dom, char *out, size_t n);

/* What the worker remembers of an instance's migrations (in its track). */
struct hva_mig_track {
	uint64_t migrated;                /* the last seq whose outcome is known; 0: none */
	char err[VDC_ERR_MSG_MAX];        /* "live migration to b failed: ..." of `migrated`, or "" */
	char progress[HVA_PROGRESS_MAX];  /* while migrating */
};

/*
 * One pass of the worker over instance `in`, whose entry has "migrate",
 * on this (source) host: `dom` is its domain (NULL: libvirt has none) and
 * `meta` its metadata. Starts the migration when its seq is greater than
 * the one in the metadata (written first, so a restart never starts it
 * twice), follows it, and records its outcome in `mt`. Never defines,
 * starts or stops the domain. Returns the phase to report
 * (HVA_PHASE_MIGRATING, HVA_PHASE_MIGRATED, HVA_PHASE_NONE: it runs
 * here, HVA_PHASE_ERROR with `err`) and in `*wake_ms` when to look again
 * (0: on the next event).
 */
int hva_mig_reconcile(struct hva *h, struct hva_migs *m, const struct hva_instance_spec *in, virDomainPtr dom,
		      struct hva_meta *meta, struct hva_mig_track *mt, long *wake_ms, struct vdc_err *err);

/* `path` as the value of a URI's query parameter into `out` (PATH_MAX * 3 + 1 bytes; pure). */
void hva_uri_escape(const char *path, char *out, size_t n);

#endif
