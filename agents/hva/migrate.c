/*
 * The source's side of a live migration (migrate.h has the contract).
 *
 * The flags are the contract's: LIVE (the guest runs while its memory is
 * copied), PEER2PEER (this host's libvirtd connects to the destination's
 * itself: a kill -9 of the agent does not stop the migration),
 * PERSIST_DEST (the destination keeps the domain defined, with its
 * metadata) and UNDEFINE_SOURCE (it leaves nothing here). No storage is
 * copied: vdcfs migrates only instances whose disks are iSCSI LUNs both
 * hosts reach (network disks, which libvirt deems safe), and the seed is
 * a read-only file made at the same path on the destination.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/virterror.h>

#include "hva.h"
#include "log.h"
#include "migrate.h"
#include "pki.h"

#define MIB (1024 * 1024)

void hva_uri_escape(const char *path, char *out, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *path && o + 4 <= n; path++) {
		unsigned char c = (unsigned char)*path;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("/._-", c)) {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
}

static void *mig_thread(void *arg)
{
	struct hva_mig *j = arg;
	virTypedParameterPtr params = NULL;
	int nparams = 0, maxparams = 0, rc;
	unsigned flags = VIR_MIGRATE_LIVE | VIR_MIGRATE_PEER2PEER | VIR_MIGRATE_PERSIST_DEST |
			 VIR_MIGRATE_UNDEFINE_SOURCE;
	char msg[VDC_ERR_MSG_MAX] = "";

	rc = virTypedParamsAddString(&params, &nparams, &maxparams, VIR_MIGRATE_PARAM_URI, j->stream);
	if (rc == 0 && j->dest_xml)
		rc = virTypedParamsAddString(&params, &nparams, &maxparams, VIR_MIGRATE_PARAM_DEST_XML, j->dest_xml);
	if (rc == 0 && j->persist_xml)
		rc = virTypedParamsAddString(&params, &nparams, &maxparams, VIR_MIGRATE_PARAM_PERSIST_XML,
					     j->persist_xml);
	if (rc == 0)
		rc = virDomainMigrateToURI3(j->dom, j->uri, params, (unsigned)nparams, flags);
	if (rc < 0)
		snprintf(msg, sizeof(msg), "%s", virGetLastErrorMessage());
	virTypedParamsFree(params, nparams);
	pthread_mutex_lock(&j->h->core.lock);
	j->done = true;
	j->rc = rc < 0 ? -EIO : 0;
	snprintf(j->err, sizeof(j->err), "%s", msg);
	vdc_agent_core_kick_locked(&j->h->core, true, true);
	pthread_mutex_unlock(&j->h->core.lock);
	return NULL;
}

static void job_free(struct hva_mig *j)
{
	free(j->dest_xml);
	free(j->persist_xml);
	free(j);
}

/*
 * `dom`'s definition (live, or the persistent one with
 * VIR_DOMAIN_XML_INACTIVE) as migratable XML, with its disks' initiator
 * set to the destination's, into `*out` (malloc'd).
 */
static int domain_xml_for(virDomainPtr dom, unsigned flags, const char *initiator, char **out,
			  struct vdc_err *err)
{
	struct strbuf sb = STRBUF_INIT;
	char *xml = virDomainGetXMLDesc(dom, flags | VIR_DOMAIN_XML_MIGRATABLE);

	if (!xml)
		return hva_virt_err(err, -EIO, "cannot read the definition of domain %s", virDomainGetName(dom));
	hva_xml_set_initiator(xml, initiator, &sb);
	free(xml);
	*out = strbuf_detach(&sb, NULL);
	return 0;
}

int hva_mig_start(struct hva *h, struct hva_migs *m, virDomainPtr dom, const struct hva_instance_spec *in,
		  struct vdc_err *err)
{
	struct hva_mig *j = xcalloc(1, sizeof(*j));
	char pki[PATH_MAX], esc[PATH_MAX * 3 + 1], addr[VDC_IPV4_TEXT];
	pthread_t t;
	int rc;

	snprintf(j->domain, sizeof(j->domain), "%s", in->domain);
	j->id = in->id;
	j->seq = in->migrate.seq;
	snprintf(j->to, sizeof(j->to), "%s", in->migrate.to);
	hva_pki_dir(h->statedir, pki);
	hva_uri_escape(pki, esc, sizeof(esc));
	snprintf(j->uri, sizeof(j->uri), "%s?pkipath=%s", in->migrate.uri, esc);
	vdc_ipv4_format(in->migrate.address, addr);
	snprintf(j->stream, sizeof(j->stream), "tcp://%s", addr);
	j->h = h;
	if (in->migrate.initiator[0] &&
	    (domain_xml_for(dom, 0, in->migrate.initiator, &j->dest_xml, err) < 0 ||
	     domain_xml_for(dom, VIR_DOMAIN_XML_INACTIVE, in->migrate.initiator, &j->persist_xml, err) < 0)) {
		job_free(j);
		return -EIO;
	}
	if (virDomainRef(dom) < 0) {
		job_free(j);
		return hva_virt_err(err, -EIO, "cannot hold domain %s", in->domain);
	}
	j->dom = dom;
	rc = pthread_create(&t, NULL, mig_thread, j);
	if (rc) {
		virDomainFree(dom);
		job_free(j);
		return vdc_err_set(err, -rc, "cannot start the migration's thread: %s", strerror(rc));
	}
	/* Nothing waits for it: its job says when it ended. */
	pthread_detach(t);
	log_info("%s: live migration %" PRIu64 " to %s (%s, stream %s%s%s) started", in->domain, j->seq, j->to,
		 in->migrate.uri, j->stream, j->dest_xml ? ", initiator " : "", j->dest_xml ? in->migrate.initiator : "");
	m->v = xrealloc(m->v, (m->n + 1) * sizeof(*m->v));
	m->v[m->n++] = j;
	return 0;
}

struct hva_mig *hva_mig_find(struct hva_migs *m, const char *domain)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (strcmp(m->v[i]->domain, domain) == 0)
			return m->v[i];
	return NULL;
}

bool hva_mig_ended(struct hva *h, struct hva_mig *j, int *rc, char *msg, size_t n)
{
	bool done;

	pthread_mutex_lock(&h->core.lock);
	done = j->done;
	*rc = j->rc;
	snprintf(msg, n, "%s", j->err);
	pthread_mutex_unlock(&h->core.lock);
	return done;
}

void hva_mig_reap(struct hva_migs *m, struct hva_mig *j)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		if (m->v[i] != j)
			continue;
		m->v[i] = m->v[--m->n];
		virDomainFree(j->dom);
		job_free(j);
		return;
	}
}

void hva_migs_release(struct hva_migs *m)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		bool done;

		pthread_mutex_lock(&m->v[i]->h->core.lock);
		done = m->v[i]->done;
		pthread_mutex_unlock(&m->v[i]->h->core.lock);
		if (done) {
			virDomainFree(m->v[i]->dom);
			job_free(m->v[i]);
		} else {
			log_info("%s: the live migration goes on in libvirtd", m->v[i]->domain);
		}
	}
	free(m->v);
	m->v = NULL;
	m->n = 0;
}

void hva_mig_progress_text(uint64_t total, uint64_t remaining, uint64_t bps, uint64_t iteration, char *out,
			   size_t n)
{
	uint64_t done = remaining <= total ? total - remaining : 0;

	if (total == 0) {
		snprintf(out, n, "starting");
		return;
	}
	snprintf(out, n, "memory %" PRIu64 "%% (%" PRIu64 " of %" PRIu64 " MiB), %" PRIu64 " MiB/s", done * 100 / total,
		 done / MIB, total / MIB, bps / MIB);
	if (iteration > 1)
		snprintf(out + strlen(out), n - strlen(out), ", pass %" PRIu64, iteration);
}

int hva_mig_progress(virDomainPtr dom, char *out, size_t n)
{
	virTypedParameterPtr params = NULL;
	unsigned long long total = 0, remaining = 0, bps = 0, iteration = 0;
	int type = VIR_DOMAIN_JOB_NONE, nparams = 0;

	out[0] = '\0';
	if (virDomainGetJobStats(dom, &type, &params, &nparams, 0) < 0)
		return -1;
	if (type == VIR_DOMAIN_JOB_NONE) {
		virTypedParamsFree(params, nparams);
		return 0;
	}
	virTypedParamsGetULLong(params, nparams, VIR_DOMAIN_JOB_MEMORY_TOTAL, &total);
	virTypedParamsGetULLong(params, nparams, VIR_DOMAIN_JOB_MEMORY_REMAINING, &remaining);
	virTypedParamsGetULLong(params, nparams, VIR_DOMAIN_JOB_MEMORY_BPS, &bps);
	virTypedParamsGetULLong(params, nparams, VIR_DOMAIN_JOB_MEMORY_ITERATION, &iteration);
	virTypedParamsFree(params, nparams);
	hva_mig_progress_text(total, remaining, bps, iteration, out, n);
	return 1;
}

void hva_mig_last_error(virDomainPtr dom, char *out, size_t n)
{
	virTypedParameterPtr params = NULL;
	const char *msg = NULL;
	int type = VIR_DOMAIN_JOB_NONE, nparams = 0;

	out[0] = '\0';
	if (virDomainGetJobStats(dom, &type, &params, &nparams, VIR_DOMAIN_JOB_STATS_COMPLETED) < 0)
		return;
	if (type == VIR_DOMAIN_JOB_FAILED && virTypedParamsGetString(params, nparams, VIR_DOMAIN_JOB_ERRMSG, &msg) == 1 && msg)
		snprintf(out, n, "%s", msg);
	virTypedParamsFree(params, nparams);
}

/* How often a running migration's progress is read (the contract: reported at least every 2 s). */
#define FOLLOW_MS 1000L

static void failed(struct hva_mig_track *mt, const struct hva_instance_spec *in, const char *why)
{
	mt->migrated = in->migrate.seq;
	snprintf(mt->err, sizeof(mt->err), "live migration to %s failed: %.200s", in->migrate.to, why);
	mt->progress[0] = '\0';
	log_error("%s: %s", in->domain, mt->err);
}

int hva_mig_reconcile(struct hva *h, struct hva_migs *m, const struct hva_instance_spec *in, virDomainPtr dom,
		      struct hva_meta *meta, struct hva_mig_track *mt, long *wake_ms, struct vdc_err *err)
{
	struct hva_mig *j = hva_mig_find(m, in->domain);
	uint64_t seq = in->migrate.seq;
	char msg[VDC_ERR_MSG_MAX];
	int rc;

	*wake_ms = 0;
	if (j) {
		if (!hva_mig_ended(h, j, &rc, msg, sizeof(msg))) {
			if (!dom || hva_mig_progress(dom, mt->progress, sizeof(mt->progress)) <= 0)
				snprintf(mt->progress, sizeof(mt->progress), "starting");
			*wake_ms = FOLLOW_MS;
			return HVA_PHASE_MIGRATING;
		}
		if (rc == 0 && j->seq == seq) {
			/* The domain left (the list of this pass may be older than that). */
			log_info("%s: live migration %" PRIu64 " to %s done: the instance runs there", in->domain,
				 j->seq, j->to);
			hva_mig_reap(m, j);
			mt->migrated = seq;
			mt->err[0] = mt->progress[0] = '\0';
			return HVA_PHASE_MIGRATED;
		}
		if (rc < 0 && j->seq == seq)
			failed(mt, in, msg[0] ? msg : "libvirt gave no reason");
		hva_mig_reap(m, j);
	}
	if (!dom) {
		/* Gone: it runs on the destination (after a restart too). Never defined again here. */
		mt->migrated = seq;
		mt->err[0] = mt->progress[0] = '\0';
		return HVA_PHASE_MIGRATED;
	}
	if (meta->migrate < seq) {
		struct hva_meta want = *meta;

		/* Written first: an agent killed from here on never starts this attempt again. */
		want.migrate = seq;
		if (hva_domain_meta_set(dom, &want, err) < 0)
			return HVA_PHASE_ERROR;
		*meta = want;
		if (virDomainIsActive(dom) != 1) {
			failed(mt, in, "the instance is not running");
			return HVA_PHASE_NONE;
		}
		if (hva_mig_start(h, m, dom, in, err) < 0) {
			failed(mt, in, err->msg);
			vdc_err_clear(err);
			return HVA_PHASE_NONE;
		}
		snprintf(mt->progress, sizeof(mt->progress), "starting");
		*wake_ms = FOLLOW_MS;
		return HVA_PHASE_MIGRATING;
	}
	/* Started before: by an earlier run of the agent when its job still runs. */
	if (hva_mig_progress(dom, mt->progress, sizeof(mt->progress)) == 1) {
		*wake_ms = FOLLOW_MS;
		return HVA_PHASE_MIGRATING;
	}
	mt->progress[0] = '\0';
	if (mt->migrated != seq) {
		/* It ended while no thread of this run waited for it, and the domain is here: it failed. */
		hva_mig_last_error(dom, msg, sizeof(msg));
		failed(mt, in, msg[0] ? msg : "it ended while the agent was not running, and the instance is still here");
	}
	return HVA_PHASE_NONE;
}
