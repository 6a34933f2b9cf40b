/*
 * The reconcile loop: make the host match the desired state, again and
 * again. It is level-triggered: each pass looks at everything (the
 * newest desired state, every domain libvirt has, the instance folders)
 * and does what is missing, so a pass after a restart, a lost event or a
 * repeated message does no harm. A pass runs on a new desired state, on
 * each domain event, when a download ends, and when a timer it set runs
 * out (a shutdown or reboot timeout, a retry after a failure).
 *
 * What the loop may touch: domains whose metadata carries the desired
 * state's dc, and the folders under STATEDIR/instances of no other
 * domain. Everything else on the host is left alone.
 *
 * The counters: a reboot (reset) is asked for when the desired counter
 * exceeds the one in the domain's metadata. The metadata is written
 * before the reboot is sent, so an agent killed in between never repeats
 * it on restart (at most once: the guest is never rebooted by a restart).
 */
#include <dirent.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <libvirt/virterror.h>

#include "agent.h"
#include "disk.h"
#include "file.h"
#include "hva.h"
#include "log.h"
#include "pki.h"
#include "vnet.h"

/* A guest that stops within this time of its start is restarted with backoff. */
#define QUICK_STOP_MS 60000L
#define RETRY_MIN_MS 2000L
#define RETRY_MAX_MS 300000L
#define RECONNECT_MAX_MS 30000L
/* How often the power button is pressed again while a guest shuts down. */
#define SHUTDOWN_AGAIN_MS 5000L
/* How often the image cache is pruned. */
#define PRUNE_EVERY_MS 60000L

/* What the worker remembers of an instance between passes. */
struct track {
	char domain[VDC_NAME_MAX + 1];
	uint64_t id;
	enum hva_phase phase;
	char err[VDC_ERR_MSG_MAX];
	long shutdown_deadline;       /* ms; 0: no shutdown in progress */
	long shutdown_again;          /* ms; when to press the power button again */
	long reboot_deadline;         /* ms; 0: no reboot awaited */
	unsigned int reboot_id;       /* the domain id when the reboot was asked */
	long retry_at;                /* ms; no start before */
	unsigned failures;            /* failed or short-lived starts in a row */
	long started_at;              /* ms of the last start by this agent; 0: none */
	uint64_t reboot_done, reset_done;
	struct hva_mig_track mig;     /* live migrations from here (migrate.c) */
	bool fetching;                /* its start waits for its image: checksum or download */
	bool seen;
};

struct worker {
	struct hva *h;
	struct hva_desired desired;
	bool have_desired;
	struct track *tracks;
	size_t n_tracks;
	long next_wake;               /* ms; 0: no timer */
	long reconnect_at;
	unsigned reconnect_failures;
	long prune_at;                /* ms; 0: at the next pass */
	struct hva_console_target *console;
	size_t n_console;
	struct hva_volumes vols;
	struct hva_vnets vnets;
	char dc_saved[HVA_DC_MAX + 1];   /* what STATE/dc.id holds, as far as this worker knows */
	struct hva_migs migs;         /* the migration threads this run started */
	bool pki_pending;             /* STATE/pki is to be written (a new pki, or a failed write) */
	char pki_said[VDC_ERR_MSG_MAX];   /* the last pki problem logged */
};

/* One domain libvirt has, as this pass sees it. */
struct dom_entry {
	virDomainPtr dom;
	const char *name;
	bool ours;                    /* its metadata carries our dc */
	struct hva_meta meta;
	bool wanted;                  /* a desired instance is it */
};

static void wake_at(struct worker *w, long at)
{
	if (at > 0 && (w->next_wake == 0 || at < w->next_wake))
		w->next_wake = at;
}

static long backoff_ms(unsigned failures)
{
	long ms = RETRY_MIN_MS << (failures < 8 ? failures : 8);

	return ms < RETRY_MAX_MS ? ms : RETRY_MAX_MS;
}

static struct track *track_get(struct worker *w, const char *domain, uint64_t id)
{
	size_t i;

	for (i = 0; i < w->n_tracks; i++)
		if (strcmp(w->tracks[i].domain, domain) == 0 && w->tracks[i].id == id)
			return &w->tracks[i];
	w->tracks = xrealloc(w->tracks, (w->n_tracks + 1) * sizeof(*w->tracks));
	memset(&w->tracks[w->n_tracks], 0, sizeof(*w->tracks));
	snprintf(w->tracks[w->n_tracks].domain, sizeof(w->tracks->domain), "%s", domain);
	w->tracks[w->n_tracks].id = id;
	return &w->tracks[w->n_tracks++];
}

static void track_error(struct track *t, const struct vdc_err *err)
{
	if (t->phase != HVA_PHASE_ERROR || strcmp(t->err, err->msg) != 0)
		log_error("%s: %s", t->domain, err->msg);
	t->phase = HVA_PHASE_ERROR;
	snprintf(t->err, sizeof(t->err), "%s", err->msg);
}

static void track_ok(struct track *t, enum hva_phase phase)
{
	t->phase = phase;
	t->err[0] = '\0';
}

/* Take the newest desired state from the poller, if there is one; true when taken. */
static bool take_desired(struct worker *w)
{
	struct hva *h = w->h;
	struct hva_desired *d;

	d = vdc_agent_core_take(&h->core);
	if (!d)
		return false;
	if (w->have_desired)
		hva_desired_release(&w->desired);
	w->desired = *d;
	w->have_desired = true;
	free(d);
	w->pki_pending = true;
	if (strcmp(w->desired.dc, w->dc_saved) != 0 && vdc_agent_dc_save(h->statedir, w->desired.dc) == 0)
		snprintf(w->dc_saved, sizeof(w->dc_saved), "%s", w->desired.dc);
	return true;
}

/* The REBOOT events since the last pass: those reboots happened. */
static void take_reboots(struct worker *w)
{
	struct hva *h = w->h;
	size_t i, j;

	pthread_mutex_lock(&h->core.lock);
	for (i = 0; i < h->n_rebooted; i++)
		for (j = 0; j < w->n_tracks; j++)
			if (strcmp(w->tracks[j].domain, h->rebooted[i]) == 0)
				w->tracks[j].reboot_deadline = 0;
	free(h->rebooted);
	h->rebooted = NULL;
	h->n_rebooted = 0;
	pthread_mutex_unlock(&h->core.lock);
}

/* Make sure libvirt is connected; false (with a retry timer) when it is not. */
static bool ensure_connected(struct worker *w)
{
	struct hva *h = w->h;
	struct vdc_err err = VDC_ERR_INIT;
	virConnectPtr conn;
	bool lost;
	long now = vdc_agent_now_ms();

	pthread_mutex_lock(&h->core.lock);
	lost = h->conn_lost;
	pthread_mutex_unlock(&h->core.lock);
	conn = hva_libvirt_get(h);
	if (conn && !lost && virConnectIsAlive(conn) == 1) {
		virConnectClose(conn);
		return true;
	}
	if (conn)
		virConnectClose(conn);
	hva_libvirt_drop(h);
	if (now < w->reconnect_at) {
		wake_at(w, w->reconnect_at);
		return false;
	}
	if (hva_libvirt_connect(h, &err) < 0) {
		long wait = 1000L << (w->reconnect_failures < 5 ? w->reconnect_failures : 5);

		if (wait > RECONNECT_MAX_MS)
			wait = RECONNECT_MAX_MS;
		if (w->reconnect_failures++ == 0)
			log_error("%s; trying again", err.msg);
		w->reconnect_at = now + wait;
		wake_at(w, w->reconnect_at);
		return false;
	}
	if (w->reconnect_failures)
		log_info("connected to libvirt at %s again", h->opt.uri);
	w->reconnect_failures = 0;
	return true;
}

/* Stop, undefine and remove a domain of ours that no desired instance names. */
static void remove_domain(struct worker *w, struct dom_entry *e)
{
	struct hva *h = w->h;
	struct vdc_err err = VDC_ERR_INIT;
	struct hva_inst_paths p;
	unsigned flags = VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA |
			 VIR_DOMAIN_UNDEFINE_NVRAM | VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA;

	log_info("%s: instance %" PRIu64 " is no longer wanted here; removing its domain and disk",
		 e->name, e->meta.id);
	if (virDomainIsActive(e->dom) == 1 && hva_drv_destroy(h, e->dom, &err) < 0) {
		log_error("%s: %s", e->name, err.msg);
		return;
	}
	/* libvirt's lxc driver takes none of those flags (nor has any of those things). */
	if (virDomainUndefineFlags(e->dom, flags) < 0 &&
	    (virGetLastErrorCode() != VIR_ERR_INVALID_ARG || virDomainUndefine(e->dom) < 0)) {
		hva_virt_err(&err, -EIO, "cannot undefine domain %s", e->name);
		log_error("%s: %s", e->name, err.msg);
		return;
	}
	hva_inst_paths(h->statedir, e->name, &p);
	if (hva_inst_dir_remove(&p, &err) < 0)
		log_error("%s: %s", e->name, err.msg);
}

/*
 * Remove the folders under STATEDIR/instances that belong to no desired
 * instance and no domain at all (left by a crash between undefine and
 * removal, or by an instance removed before it was ever defined).
 */
static void sweep_folders(struct worker *w, const struct dom_entry *doms, size_t n)
{
	struct hva *h = w->h;
	char dir[PATH_MAX];
	struct dirent *de;
	size_t i;
	DIR *d;

	vdc_path(dir, "%s/instances", h->statedir);
	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d)) != NULL) {
		struct vdc_err err = VDC_ERR_INIT;
		struct hva_inst_paths p;
		bool keep = false;

		if (de->d_name[0] == '.' || vdc_name_check(de->d_name, strlen(de->d_name), NULL) < 0)
			continue;
		for (i = 0; i < n && !keep; i++)
			keep = strcmp(doms[i].name, de->d_name) == 0;
		keep |= hva_desired_find(&w->desired, de->d_name) != NULL;
		if (keep)
			continue;
		hva_inst_paths(h->statedir, de->d_name, &p);
		log_info("removing %s: no instance or domain has it", p.dir);
		if (hva_inst_dir_remove(&p, &err) < 0)
			log_error("%s", err.msg);
	}
	closedir(d);
}

/* Drop the cached images no desired instance and no boot disk uses. */
static void prune_images(struct worker *w)
{
	struct hva *h = w->h;
	char (*keep)[65] = NULL;
	const char **ptrs = NULL;
	char dir[PATH_MAX];
	struct dirent *de;
	size_t i, n = 0;
	DIR *d;

	for (i = 0; i < w->desired.n; i++) {
		/* An instance booting from its disk on a storage host needs no image here. */
		if (!w->desired.inst[i].image.present || w->desired.inst[i].image.pending ||
		    w->desired.inst[i].disk.present)
			continue;
		keep = xrealloc(keep, (n + 1) * sizeof(*keep));
		memcpy(keep[n++], w->desired.inst[i].image.sha256, 65);
	}
	vdc_path(dir, "%s/instances", h->statedir);
	d = opendir(dir);
	if (!d)
		goto out;
	while ((de = readdir(d)) != NULL) {
		struct strbuf ref = STRBUF_INIT;
		char path[PATH_MAX];

		if (de->d_name[0] == '.')
			continue;
		vdc_path(path, "%s/%s/image", dir, de->d_name);
		if (vdc_file_read(path, 128, &ref, NULL) == 0 && ref.len >= 64) {
			keep = xrealloc(keep, (n + 1) * sizeof(*keep));
			memcpy(keep[n], ref.buf, 64);
			keep[n++][64] = '\0';
		}
		strbuf_release(&ref);
	}
	closedir(d);
	ptrs = xcalloc(n ? n : 1, sizeof(*ptrs));
	for (i = 0; i < n; i++)
		ptrs[i] = keep[i];
	vdc_image_cache_prune(&h->images, ptrs, n);
	w->prune_at = vdc_agent_now_ms() + PRUNE_EVERY_MS;
out:
	free(ptrs);
	free(keep);
}

/*
 * Have the driver bring a running domain's console to console.log (lxc);
 * a failure is logged, not the instance's error: the guest runs.
 */
static void follow_console(struct worker *w, const struct hva_instance_spec *in, virDomainPtr dom)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct hva_inst_paths p;

	hva_inst_paths(w->h->statedir, in->domain, &p);
	if (hva_drv_console_follow(w->h, dom, p.console, &err) < 0)
		log_warn("%s: %s", in->domain, err.msg);
}

/* Define (or redefine) and start an instance whose domain is not running. */
static void start_instance(struct worker *w, virConnectPtr conn, const struct hva_instance_spec *in,
			   struct dom_entry *e, struct track *t)
{
	struct hva *h = w->h;
	struct vdc_err err = VDC_ERR_INIT;
	struct strbuf xml = STRBUF_INIT;
	char image_path[PATH_MAX], uuid[VIR_UUID_STRING_BUFLEN];
	const char *image = NULL;
	struct hva_meta meta;
	struct hva_volume_disk *disks = NULL;
	struct hva_define def = { .meta = &meta, .initiator = w->desired.initiator };
	virDomainPtr dom = NULL;
	long now = vdc_agent_now_ms();
	int rc;

	if (now < t->retry_at) {
		wake_at(w, t->retry_at);
		return;
	}
	/* A guest that stopped soon after its start is not started again at once. */
	if (t->started_at && now - t->started_at < QUICK_STOP_MS && t->phase != HVA_PHASE_ERROR) {
		long ran = now - t->started_at;

		t->failures++;
		t->retry_at = now + backoff_ms(t->failures);
		t->started_at = 0;
		log_warn("%s: the guest stopped %ld s after it started; starting it again in %ld s",
			 in->domain, ran / 1000, backoff_ms(t->failures) / 1000);
		wake_at(w, t->retry_at);
		return;
	}
	/* The bridges and the ruleset first: a guest never runs unfenced. */
	if (hva_vnets_instance_ok(&w->vnets, in, &err) < 0) {
		track_error(t, &err);
		wake_at(w, now + RETRY_MIN_MS);
		return;
	}
	/* Its root disk was made from the image on its storage host: nothing is fetched here. */
	if (in->disk.present) {
		if (!in->disk.ready) {
			track_ok(t, HVA_PHASE_STARTING);
			return;   /* the storage host makes the disk; a new revision says it is ready */
		}
		goto prepare;
	}
	if (in->image.pending) {
		track_ok(t, HVA_PHASE_STARTING);
		t->fetching = true;
		return;   /* vdcfs computes the image's checksum; a new revision brings it */
	}
	if (in->image.present) {
		rc = vdc_image_want(&h->images, &in->image, image_path, &err);
		if (rc == -EINPROGRESS) {
			track_ok(t, HVA_PHASE_STARTING);
			t->fetching = true;
			return;   /* the cache wakes the loop when the download ends */
		}
		if (rc < 0) {
			track_error(t, &err);
			wake_at(w, now + VDC_IMAGE_RETRY_S * 1000L);
			return;
		}
		image = image_path;
	} else if (h->drv->needs_image) {
		vdc_err_set(&err, -ENOENT, "no image is linked; link one (ln -s ../../images/NAME image) to power on");
		track_error(t, &err);
		return;
	}
prepare:
	track_ok(t, HVA_PHASE_STARTING);
	rc = hva_drv_prepare(h, in, image, &err);
	if (rc < 0)
		goto fail;
	memset(&meta, 0, sizeof(meta));
	snprintf(meta.dc, sizeof(meta.dc), "%s", w->desired.dc);
	meta.id = in->id;
	snprintf(meta.name, sizeof(meta.name), "%s", in->name);
	/* A fresh start carries out every reboot and reset asked for until now. */
	meta.reboot = in->reboot;
	meta.reset = in->reset;
	if (e && virDomainGetUUIDString(e->dom, uuid) < 0)
		e = NULL;
	def.uuid = e ? uuid : NULL;
	/* The volumes are in the definition from the start, each keeping its disk name. */
	rc = hva_volumes_for_define(&w->vols, conn, e ? e->dom : NULL, in, &disks, &err);
	if (rc < 0)
		goto fail;
	def.volumes = disks;
	def.n_volumes = disks ? in->n_volumes : 0;
	/* Defined anew at each start, so cpus and memory changed meanwhile apply. */
	rc = hva_drv_domain_xml(h, in, &def, &xml, &err);
	if (rc < 0)
		goto fail;
	dom = virDomainDefineXML(conn, xml.buf);
	if (!dom) {
		rc = hva_virt_err(&err, -EIO, "cannot define domain %s", in->domain);
		goto fail;
	}
	log_info("%s: starting instance %s (%" PRIu64 ")", in->domain, in->name, in->id);
	rc = hva_drv_start(h, dom, &err);
	if (rc < 0)
		goto fail;
	follow_console(w, in, dom);
	track_ok(t, HVA_PHASE_NONE);
	t->started_at = vdc_agent_now_ms();
	t->reboot_done = meta.reboot;
	t->reset_done = meta.reset;
	t->reboot_deadline = 0;
	goto out;
fail:
	track_error(t, &err);
	t->failures++;
	t->retry_at = vdc_agent_now_ms() + backoff_ms(t->failures);
	wake_at(w, t->retry_at);
out:
	if (dom)
		virDomainFree(dom);
	free(disks);
	strbuf_release(&xml);
}

/* Carry out the reboot and reset counters on a running domain. */
static void carry_counters(struct worker *w, const struct hva_instance_spec *in, struct dom_entry *e,
			   struct track *t)
{
	struct hva *h = w->h;
	struct vdc_err err = VDC_ERR_INIT;
	struct hva_meta meta = e->meta;
	long now = vdc_agent_now_ms();

	if (in->reset > meta.reset || in->reboot > meta.reboot) {
		bool reset = in->reset > meta.reset;

		/* A reset also carries out a reboot asked for with it. */
		if (reset) {
			meta.reset = in->reset;
			if (in->reboot > meta.reboot)
				meta.reboot = in->reboot;
		} else {
			meta.reboot = in->reboot;
		}
		if (hva_domain_meta_set(e->dom, &meta, &err) < 0) {
			track_error(t, &err);
			wake_at(w, now + RETRY_MIN_MS);
			return;
		}
		e->meta = meta;
		log_info("%s: %s", in->domain, reset ? "reset" : "reboot");
		if (reset) {
			t->reboot_deadline = 0;
			if (hva_drv_reset(h, e->dom, &err) < 0)
				log_error("%s: %s", in->domain, err.msg);
		} else if (hva_drv_reboot(h, e->dom, &err) < 0) {
			log_error("%s: %s; resetting instead", in->domain, err.msg);
			if (hva_drv_reset(h, e->dom, &err) < 0)
				log_error("%s: %s", in->domain, err.msg);
		} else {
			t->reboot_deadline = now + (long)h->opt.shutdown_timeout_s * 1000;
			t->reboot_id = virDomainGetID(e->dom);
		}
	}
	/*
	 * A container reboots by starting again (libvirt's lxc driver sends
	 * no reboot event): a new domain id (the pid of its new libvirt_lxc)
	 * says the reboot happened. A qemu guest keeps its id.
	 */
	if (t->reboot_deadline && virDomainGetID(e->dom) != t->reboot_id) {
		log_debug("%s: rebooted (a new domain id)", in->domain);
		t->reboot_deadline = 0;
	}
	if (t->reboot_deadline) {
		if (now >= t->reboot_deadline) {
			log_warn("%s: the guest did not reboot within %u s; resetting it", in->domain,
				 h->opt.shutdown_timeout_s);
			t->reboot_deadline = 0;
			if (hva_drv_reset(h, e->dom, &err) < 0)
				log_error("%s: %s", in->domain, err.msg);
		} else {
			wake_at(w, t->reboot_deadline);
		}
	}
	t->reboot_done = e->meta.reboot;
	t->reset_done = e->meta.reset;
}

/*
 * Power off gracefully: the ACPI power button, pressed again every few
 * seconds (a guest still booting does not listen yet), then forced off
 * when the shutdown timeout runs out.
 */
static void power_off(struct worker *w, struct dom_entry *e, struct track *t)
{
	struct hva *h = w->h;
	struct vdc_err err = VDC_ERR_INIT;
	long now = vdc_agent_now_ms();
	bool force = h->opt.shutdown_timeout_s == 0;

	if (!t->shutdown_deadline) {
		log_info("%s: shutting down (forced off after %u s)", e->name, h->opt.shutdown_timeout_s);
		t->shutdown_deadline = now + (long)h->opt.shutdown_timeout_s * 1000;
		t->shutdown_again = now;
	}
	if (!force && now >= t->shutdown_deadline) {
		log_warn("%s: still running %u s after the shutdown; forcing it off", e->name,
			 h->opt.shutdown_timeout_s);
		force = true;
	}
	if (!force && now >= t->shutdown_again) {
		t->shutdown_again = now + SHUTDOWN_AGAIN_MS;
		if (hva_drv_shutdown(h, e->dom, &err) < 0) {
			log_warn("%s: %s; forcing it off", e->name, err.msg);
			force = true;
		}
	}
	if (force) {
		vdc_err_clear(&err);
		t->shutdown_deadline = 0;
		if (hva_drv_destroy(h, e->dom, &err) < 0) {
			track_error(t, &err);
			wake_at(w, now + RETRY_MIN_MS);
			return;
		}
		track_ok(t, HVA_PHASE_NONE);
		return;
	}
	track_ok(t, HVA_PHASE_STOPPING);
	wake_at(w, t->shutdown_again < t->shutdown_deadline ? t->shutdown_again : t->shutdown_deadline);
}

/* Power, counters and starts of a valid instance whose domain (if any) is ours. */
static void reconcile_power(struct worker *w, virConnectPtr conn, const struct hva_instance_spec *in,
			    struct dom_entry *e, struct track *t)
{
	struct vdc_err err = VDC_ERR_INIT;
	bool active;

	active = e && virDomainIsActive(e->dom) == 1;
	if (active)
		follow_console(w, in, e->dom);
	if (e) {
		t->reboot_done = e->meta.reboot;
		t->reset_done = e->meta.reset;
	}
	if (in->power_on) {
		t->shutdown_deadline = 0;
		if (!active) {
			start_instance(w, conn, in, e, t);
			return;
		}
		track_ok(t, HVA_PHASE_NONE);
		if (t->started_at && vdc_agent_now_ms() - t->started_at >= QUICK_STOP_MS)
			t->failures = 0;
		carry_counters(w, in, e, t);
		return;
	}
	t->reboot_deadline = 0;
	t->retry_at = 0;
	t->failures = 0;
	t->started_at = 0;
	if (active) {
		power_off(w, e, t);
		return;
	}
	t->shutdown_deadline = 0;
	track_ok(t, HVA_PHASE_NONE);
	/* Nothing to reboot or reset on a stopped domain: the requests are done. */
	if (e && (in->reboot > e->meta.reboot || in->reset > e->meta.reset)) {
		struct hva_meta meta = e->meta;

		if (in->reboot > meta.reboot)
			meta.reboot = in->reboot;
		if (in->reset > meta.reset)
			meta.reset = in->reset;
		if (hva_domain_meta_set(e->dom, &meta, &err) == 0) {
			e->meta = meta;
			t->reboot_done = meta.reboot;
			t->reset_done = meta.reset;
		}
	}
}

/* STATE/pki from the desired state's pki (pki.c), when a new desired state or a failed write asks. */
static void sync_pki(struct worker *w)
{
	if (!w->pki_pending)
		return;
	w->pki_pending = hva_pki_sync(w->h->statedir, &w->desired.pki, w->pki_said, sizeof(w->pki_said)) < 0;
	if (w->pki_pending)
		wake_at(w, vdc_agent_now_ms() + RETRY_MIN_MS);
}

/* Source: an entry with "migrate" (migrate.c); nothing else is done to its domain meanwhile. */
static void reconcile_migrate(struct worker *w, const struct hva_instance_spec *in, struct dom_entry *e,
			      struct track *t)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct hva_meta meta;
	long wake = 0;
	int phase;

	memset(&meta, 0, sizeof(meta));
	if (e) {
		meta = e->meta;
		t->reboot_done = e->meta.reboot;
		t->reset_done = e->meta.reset;
	}
	phase = hva_mig_reconcile(w->h, &w->migs, in, e ? e->dom : NULL, &meta, &t->mig, &wake, &err);
	if (e)
		e->meta = meta;
	if (phase == HVA_PHASE_ERROR) {
		track_error(t, &err);
		wake = RETRY_MIN_MS;
	} else {
		track_ok(t, (enum hva_phase)phase);
	}
	if (wake)
		wake_at(w, vdc_agent_now_ms() + wake);
	if (phase == HVA_PHASE_NONE && e && virDomainIsActive(e->dom) == 1)
		follow_console(w, in, e->dom);
}

/*
 * Destination: an entry with "incoming". Until the domain arrives, what
 * it needs here is made (bridges and ruleset, the seed and the console's
 * folder, the secrets of its disk and volumes by their usage names) but
 * no domain is defined: the source's libvirtd brings it, with the same
 * paths. Once it arrived it is reported as usual; it is never started or
 * stopped here while the entry has "incoming".
 */
static void reconcile_incoming(struct worker *w, virConnectPtr conn, const struct hva_instance_spec *in,
			       struct dom_entry *e, struct track *t)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct hva_volume_disk *disks = NULL;
	int state = VIR_DOMAIN_NOSTATE, reason = 0;

	if (e && virDomainGetState(e->dom, &state, &reason, 0) == 0 && state != VIR_DOMAIN_PAUSED) {
		t->reboot_done = e->meta.reboot;
		t->reset_done = e->meta.reset;
		if (state == VIR_DOMAIN_RUNNING)
			follow_console(w, in, e->dom);
		track_ok(t, HVA_PHASE_NONE);
		return;
	}
	if (!in->disk.present) {
		vdc_err_set(&err, -EINVAL, "an instance is live-migrated only with its disk on a storage host; this one has a local disk");
		track_error(t, &err);
		return;
	}
	if (hva_vnets_instance_ok(&w->vnets, in, &err) < 0)
		goto fail;
	/* The folder and seed once per arrival: the incoming qemu may hold the seed open already. */
	if (!e && t->phase != HVA_PHASE_INCOMING && hva_drv_prepare(w->h, in, NULL, &err) < 0)
		goto fail;
	/* The secrets at every pass until it arrived: a restart of libvirtd forgets ephemeral ones. */
	if (!e) {
		if (hva_volumes_for_define(&w->vols, conn, NULL, in, &disks, &err) < 0)
			goto fail;
		free(disks);
		disks = NULL;
		if (t->phase != HVA_PHASE_INCOMING)
			log_info("%s: ready for instance %s (%" PRIu64 ") to arrive live", in->domain, in->name, in->id);
	}
	track_ok(t, HVA_PHASE_INCOMING);
	return;
fail:
	free(disks);
	track_error(t, &err);
	wake_at(w, vdc_agent_now_ms() + RETRY_MIN_MS);
}

static void reconcile_instance(struct worker *w, virConnectPtr conn, const struct hva_instance_spec *in,
			       struct dom_entry *e, bool foreign)
{
	struct track *t = track_get(w, in->domain, in->id);
	struct vdc_err err = VDC_ERR_INIT;

	t->seen = true;
	/* Said again by start_instance() while the image is still awaited. */
	t->fetching = false;
	if (in->err[0]) {
		vdc_err_set(&err, -EINVAL, "%s", in->err);
		track_error(t, &err);
		return;
	}
	/* vdcfs sends no disk for a tar image; a container given one is not acted on. */
	if (in->disk.present && !w->h->drv->disks) {
		vdc_err_set(&err, -EINVAL, "a container runs from its image's files; it has no disk");
		track_error(t, &err);
		return;
	}
	if (foreign) {
		vdc_err_set(&err, -EEXIST, "a domain named %s that is not this data center's exists on this host; it is left alone",
			    in->domain);
		track_error(t, &err);
		return;
	}
	if ((in->migrate.present || in->incoming.present) && !w->h->drv->disks) {
		vdc_err_set(&err, -EINVAL, "a container is not live-migrated");
		track_error(t, &err);
		return;
	}
	if (in->migrate.present) {
		reconcile_migrate(w, in, e, t);
		return;
	}
	if (in->incoming.present) {
		reconcile_incoming(w, conn, in, e, t);
		return;
	}
	reconcile_power(w, conn, in, e, t);
	/* A running guest whose network or ruleset failed is said to be in error. */
	if (e && t->phase != HVA_PHASE_ERROR && hva_instance_on_vnet(in) &&
	    hva_vnets_instance_ok(&w->vnets, in, &err) < 0)
		track_error(t, &err);
	/* A domain defined before this pass; one defined by this pass has its volumes already. */
	if (e)
		hva_volumes_sync(&w->vols, conn, e->dom, in, w->desired.initiator, w->h->drv->volumes);
}

/*
 * Hand the reporter and the console follower what this pass found.
 * `done`: the pass is over and its revision carried out; before that
 * (a new desired state just taken) only the list of instances is brought
 * up to date, so that a report made meanwhile (on a domain event) names
 * every instance of the desired state.
 */
static void publish(struct worker *w, bool done)
{
	struct hva *h = w->h;
	struct hva_status *st;
	struct hva_console_target *ct;
	struct hva_vol_status *vs;
	size_t i, j, n = w->desired.n, nc = 0, nv;
	bool changed;

	st = xcalloc(n ? n : 1, sizeof(*st));
	ct = xcalloc(n ? n : 1, sizeof(*ct));
	for (i = 0; i < n; i++) {
		const struct hva_instance_spec *in = &w->desired.inst[i];
		struct hva_inst_paths p;
		struct stat sb;

		st[i].id = in->id;
		snprintf(st[i].domain, sizeof(st[i].domain), "%s", in->domain);
		st[i].power_on = in->power_on;
		for (j = 0; j < w->n_tracks; j++) {
			const struct track *t = &w->tracks[j];

			if (t->id != in->id || strcmp(t->domain, in->domain) != 0)
				continue;
			st[i].phase = t->phase;
			snprintf(st[i].err, sizeof(st[i].err), "%s", t->err);
			st[i].reboot = t->reboot_done;
			st[i].reset = t->reset_done;
			st[i].migrated = t->mig.migrated;
			/* A failure is said while vdcfs still asks for that attempt. */
			if (in->migrate.present && t->mig.migrated == in->migrate.seq)
				snprintf(st[i].mig_err, sizeof(st[i].mig_err), "%s", t->mig.err);
			if (t->phase == HVA_PHASE_MIGRATING)
				snprintf(st[i].progress, sizeof(st[i].progress), "%s", t->mig.progress);
			if (t->phase == HVA_PHASE_STARTING && t->fetching)
				st[i].fetch = in->image;
		}
		hva_inst_paths(h->statedir, in->domain, &p);
		if (!in->err[0] && stat(p.console, &sb) == 0) {
			ct[nc].id = in->id;
			snprintf(ct[nc].path, sizeof(ct[nc].path), "%s", p.console);
			nc++;
		}
	}
	nv = hva_volumes_status(&w->vols, &vs);
	pthread_mutex_lock(&h->core.lock);
	free(h->status);
	h->status = st;
	h->n_status = n;
	free(h->vol_status);
	h->vol_status = vs;
	h->n_vol_status = nv;
	if (done) {
		h->core.rev_done = w->desired.rev;
		h->have_status = true;
		vdc_agent_core_kick_locked(&h->core, false, true);
	}
	pthread_mutex_unlock(&h->core.lock);

	changed = nc != w->n_console || (nc && memcmp(ct, w->console, nc * sizeof(*ct)) != 0);
	if (changed) {
		hva_console_set(&h->console, ct, nc);
		free(w->console);
		w->console = ct;
		w->n_console = nc;
	} else {
		free(ct);
	}
}

static void pass(struct worker *w)
{
	struct hva *h = w->h;
	struct dom_entry *doms = NULL;
	virDomainPtr *list = NULL;
	virConnectPtr conn;
	size_t i, j, n = 0, kept = 0;
	int got;

	w->next_wake = 0;
	if (take_desired(w))
		publish(w, false);
	take_reboots(w);
	if (!w->have_desired)
		return;
	sync_pki(w);
	/* Networks do not need libvirt: their rules follow the desired state even while it is away. */
	hva_vnets_pass(&w->vnets, h->statedir, w->desired.dc, &w->desired);
	wake_at(w, w->vnets.retry_at);
	if (!ensure_connected(w))
		return;
	conn = hva_libvirt_get(h);
	if (!conn)
		return;
	got = virConnectListAllDomains(conn, &list, 0);
	if (got < 0) {
		struct vdc_err err = VDC_ERR_INIT;

		hva_virt_err(&err, -EIO, "cannot list libvirt's domains");
		log_error("%s", err.msg);
		hva_libvirt_drop(h);
		virConnectClose(conn);
		wake_at(w, vdc_agent_now_ms() + RETRY_MIN_MS);
		return;
	}
	n = (size_t)got;
	doms = xcalloc(n ? n : 1, sizeof(*doms));
	for (i = 0; i < n; i++) {
		struct dom_entry *e = &doms[i];

		e->dom = list[i];
		e->name = virDomainGetName(list[i]);
		e->ours = hva_domain_meta(list[i], &e->meta) == 0 && strcmp(e->meta.dc, w->desired.dc) == 0;
	}
	for (i = 0; i < w->n_tracks; i++)
		w->tracks[i].seen = false;
	hva_volumes_pass_begin(&w->vols);
	for (i = 0; i < w->desired.n; i++) {
		const struct hva_instance_spec *in = &w->desired.inst[i];
		struct dom_entry *e = NULL;
		bool foreign = false;

		for (j = 0; j < n; j++) {
			if (strcmp(doms[j].name, in->domain) != 0)
				continue;
			if (doms[j].ours && doms[j].meta.id == in->id) {
				e = &doms[j];
				e->wanted = true;
			} else if (!doms[j].ours) {
				foreign = true;
			}
		}
		/* One of ours by that name, for another instance id, goes first. */
		for (j = 0; j < n && !e && !foreign; j++)
			if (doms[j].ours && !doms[j].wanted && strcmp(doms[j].name, in->domain) == 0) {
				remove_domain(w, &doms[j]);
				doms[j].wanted = true;   /* handled */
			}
		reconcile_instance(w, conn, in, e, foreign);
	}
	for (j = 0; j < n; j++)
		if (doms[j].ours && !doms[j].wanted)
			remove_domain(w, &doms[j]);
	sweep_folders(w, doms, n);
	hva_volumes_pass_end(&w->vols, conn, &w->desired);
	hva_vnets_prune(&w->vnets, h->statedir, &w->desired);
	wake_at(w, w->vnets.retry_at);
	wake_at(w, w->vols.wake);
	if (vdc_agent_now_ms() >= w->prune_at)
		prune_images(w);
	wake_at(w, w->prune_at);
	/* Forget the instances no longer wanted. */
	for (i = 0; i < w->n_tracks; i++)
		if (w->tracks[i].seen)
			w->tracks[kept++] = w->tracks[i];
	w->n_tracks = kept;
	publish(w, true);
	for (i = 0; i < n; i++)
		virDomainFree(list[i]);
	free(list);
	free(doms);
	virConnectClose(conn);
}

/* The image cache's `done`: a download ended. */
void *hva_worker_thread(void *arg)
{
	struct worker w = { .h = arg };
	struct hva *h = w.h;

	hva_vnets_init(&w.vnets, h->underlay);
	while (vdc_agent_core_worker_wait(&h->core, w.next_wake))
		pass(&w);
	if (w.have_desired)
		hva_desired_release(&w.desired);
	free(w.tracks);
	free(w.console);
	hva_migs_release(&w.migs);
	hva_volumes_release(&w.vols);
	hva_vnets_release(&w.vnets);
	return NULL;
}

/* ---- leaving the data center (vdc-hva --leave) ---- */

/* The domains of data center `dc` libvirt has; each removed when `remove`. */
static size_t leave_domains(struct worker *w, virConnectPtr conn, const char *dc, bool remove)
{
	virDomainPtr *list = NULL;
	size_t i, ours = 0;
	int got = virConnectListAllDomains(conn, &list, 0);

	for (i = 0; got > 0 && i < (size_t)got; i++) {
		struct dom_entry e = { .dom = list[i], .name = virDomainGetName(list[i]) };

		if (hva_domain_meta(list[i], &e.meta) == 0 && strcmp(e.meta.dc, dc) == 0) {
			ours++;
			if (remove)
				remove_domain(w, &e);
		}
		virDomainFree(list[i]);
	}
	free(list);
	return got < 0 ? SIZE_MAX : ours;
}

int hva_leave(struct hva *h, const char *dc, struct vdc_err *err)
{
	struct worker w = { .h = h };
	char dir[PATH_MAX];
	virConnectPtr conn = hva_libvirt_get(h);
	size_t left;
	int rc = 0;

	if (!conn)
		return vdc_err_set(err, -ENOTCONN, "libvirt at %s is not connected", h->opt.uri);
	snprintf(w.desired.dc, sizeof(w.desired.dc), "%s", dc);
	w.have_desired = true;
	/* The guests first (their taps hang on the bridges), then their folders. */
	leave_domains(&w, conn, dc, true);
	sweep_folders(&w, NULL, 0);
	/* An empty desired state: no rules (the tables go), no network, no DHCP server. */
	hva_vnets_init(&w.vnets, h->underlay);
	hva_vnets_pass(&w.vnets, h->statedir, dc, &w.desired);
	hva_vnets_prune(&w.vnets, h->statedir, &w.desired);
	if (w.vnets.fw_err[0])
		rc = vdc_err_set(err, -EIO, "%s", w.vnets.fw_err);
	else if (w.vnets.retry_at)
		rc = vdc_err_set(err, -EBUSY, "some of the data center's networks could not be removed (the log says which)");
	hva_vnets_release(&w.vnets);
	left = leave_domains(&w, conn, dc, false);
	virConnectClose(conn);
	if (rc == 0 && left == SIZE_MAX)
		rc = hva_virt_err(err, -EIO, "cannot list libvirt's domains");
	else if (rc == 0 && left)
		rc = vdc_err_set(err, -EBUSY, "%zu domain%s of the data center could not be removed (the log says why)",
				 left, left == 1 ? "" : "s");
	if (rc < 0)
		return rc;
	/* The image cache: every image came from this data center. */
	vdc_path(dir, "%s/images", h->statedir);
	return vdc_remove_tree(dir, err);
}
