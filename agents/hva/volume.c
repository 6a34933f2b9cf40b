/*
 * Volumes of a hypervisor's instances: secrets, hot-plug, unplug and
 * growth (volume.h). Only the worker thread calls these.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libvirt/virterror.h>

#include "agent.h"
#include "hva.h"
#include "log.h"
#include "wire_doc.h"

#define RETRY_MIN_MS 2000L
#define RETRY_MAX_MS 60000L
/* How often an unplug the guest has not completed is looked at, and asked again. */
#define DETACH_POLL_MS 2000L
#define DETACH_AGAIN_MS 10000L
/* How often a growth the target does not show yet is tried again. */
#define RESIZE_AGAIN_MS 5000L

struct hva_vol_track {
	uint64_t inst_id, vol_id;
	bool root;                    /* the instance's root disk: never reported, only grown */
	enum hva_vol_state state;
	char err[VDC_ERR_MSG_MAX];
	long retry_at;                /* ms; no attach before */
	unsigned failures;
	long detach_again;            /* ms; when to ask the guest again */
	bool resize_waiting;          /* the target did not show the new size yet */
	bool seen;
};

struct hva_vol_secret {
	struct hva_vol_key key;
	char value[HVA_CHAP_SECRET_MAX + 1];
};

/* A domain's disks: its live definition and its persistent one. */
struct dom_disks {
	char *live_xml, *cfg_xml;
	struct hva_disk_ref *live, *cfg;
	size_t n_live, n_cfg;
	bool active;
};

const char *hva_vol_state_word(enum hva_vol_state s)
{
	switch (s) {
	case HVA_VOL_ATTACHED: return VDC_WIRE_ATTACH_ATTACHED;
	case HVA_VOL_DETACHING: return VDC_WIRE_ATTACH_DETACHING;
	case HVA_VOL_ERROR: return VDC_WIRE_STATE_ERROR;
	case HVA_VOL_NONE: break;
	}
	return NULL;
}

static void wake_at(struct hva_volumes *v, long at)
{
	if (at > 0 && (v->wake == 0 || at < v->wake))
		v->wake = at;
}

static struct hva_vol_track *track_get(struct hva_volumes *v, uint64_t inst_id, uint64_t vol_id, bool root)
{
	struct hva_vol_track *t;
	size_t i;

	for (i = 0; i < v->n; i++)
		if (v->t[i].inst_id == inst_id && v->t[i].vol_id == vol_id && v->t[i].root == root) {
			v->t[i].seen = true;
			return &v->t[i];
		}
	v->t = xrealloc(v->t, (v->n + 1) * sizeof(*v->t));
	t = &v->t[v->n++];
	memset(t, 0, sizeof(*t));
	t->inst_id = inst_id;
	t->vol_id = vol_id;
	t->root = root;
	t->seen = true;
	return t;
}

static void track_set(struct hva_vol_track *t, enum hva_vol_state state, const char *err)
{
	t->state = state;
	snprintf(t->err, sizeof(t->err), "%s", err ? err : "");
}

/* A failed attach: the sentence (logged once), and a later try with backoff. */
static void track_fail(struct hva_volumes *v, struct hva_vol_track *t, const struct vdc_err *err)
{
	long wait = RETRY_MIN_MS << (t->failures < 5 ? t->failures : 5);

	if (t->state != HVA_VOL_ERROR || strcmp(t->err, err->msg) != 0)
		log_error("volume %" PRIu64 ": %s", t->vol_id, err->msg);
	track_set(t, HVA_VOL_ERROR, err->msg);
	t->failures++;
	t->retry_at = vdc_agent_now_ms() + (wait < RETRY_MAX_MS ? wait : RETRY_MAX_MS);
	wake_at(v, t->retry_at);
}

static void in_use_add(struct hva_volumes *v, uint64_t id, bool root)
{
	v->in_use = xrealloc(v->in_use, (v->n_in_use + 1) * sizeof(*v->in_use));
	v->in_use[v->n_in_use++] = (struct hva_vol_key){ .id = id, .root = root };
}

static bool in_use(const struct hva_volumes *v, uint64_t id, bool root)
{
	size_t i;

	for (i = 0; i < v->n_in_use; i++)
		if (v->in_use[i].id == id && v->in_use[i].root == root)
			return true;
	return false;
}

void hva_volumes_release(struct hva_volumes *v)
{
	free(v->t);
	free(v->secrets);
	free(v->in_use);
	memset(v, 0, sizeof(*v));
}

void hva_volumes_pass_begin(struct hva_volumes *v)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		v->t[i].seen = false;
	v->n_in_use = 0;
	v->wake = 0;
}

static struct hva_vol_secret *secret_cached(struct hva_volumes *v, uint64_t id, bool root)
{
	size_t i;

	for (i = 0; i < v->n_secrets; i++)
		if (v->secrets[i].key.id == id && v->secrets[i].key.root == root)
			return &v->secrets[i];
	return NULL;
}

static void secret_forget(struct hva_volumes *v, uint64_t id, bool root)
{
	struct hva_vol_secret *s = secret_cached(v, id, root);

	if (s)
		*s = v->secrets[--v->n_secrets];
}

/*
 * Make sure libvirt holds volume `vol`'s CHAP secret (or a root disk's).
 * A secret is looked up every time (an operator may have removed it, or
 * libvirtd restarted and lost it); its value, which libvirt does not hand
 * out (private), is set when this agent has not set that value yet.
 */
static int secret_ensure(struct hva_volumes *v, virConnectPtr conn, const struct hva_volume_spec *vol,
			 struct vdc_err *err)
{
	struct hva_vol_secret *cached = secret_cached(v, vol->id, vol->root);
	struct strbuf xml = STRBUF_INIT;
	char usage[32];
	virSecretPtr sec;
	int rc = 0;

	hva_secret_usage_of(vol, usage, sizeof(usage));
	sec = virSecretLookupByUsage(conn, VIR_SECRET_USAGE_TYPE_ISCSI, usage);
	if (sec && cached && strcmp(cached->value, vol->chap_secret) == 0)
		goto out;
	if (!sec) {
		hva_volume_secret_xml(vol, &xml);
		sec = virSecretDefineXML(conn, xml.buf, 0);
		if (!sec) {
			rc = hva_virt_err(err, -EIO, "cannot define the libvirt secret %s", usage);
			goto out;
		}
	}
	if (virSecretSetValue(sec, (const unsigned char *)vol->chap_secret, strlen(vol->chap_secret), 0) < 0) {
		rc = hva_virt_err(err, -EIO, "cannot set the value of the libvirt secret %s", usage);
		secret_forget(v, vol->id, vol->root);
		goto out;
	}
	if (!cached) {
		v->secrets = xrealloc(v->secrets, (v->n_secrets + 1) * sizeof(*v->secrets));
		cached = &v->secrets[v->n_secrets++];
		cached->key = (struct hva_vol_key){ .id = vol->id, .root = vol->root };
	}
	snprintf(cached->value, sizeof(cached->value), "%s", vol->chap_secret);
out:
	if (sec)
		virSecretFree(sec);
	strbuf_release(&xml);
	return rc;
}

static void disks_release(struct dom_disks *dd)
{
	free(dd->live_xml);
	free(dd->cfg_xml);
	free(dd->live);
	free(dd->cfg);
	memset(dd, 0, sizeof(*dd));
}

/* Read `dom`'s disks: live (when it runs) and persistent. */
static int disks_read(virDomainPtr dom, struct dom_disks *dd, struct vdc_err *err)
{
	const char *name = virDomainGetName(dom);

	memset(dd, 0, sizeof(*dd));
	dd->active = virDomainIsActive(dom) == 1;
	dd->cfg_xml = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE);
	if (!dd->cfg_xml)
		return hva_virt_err(err, -EIO, "cannot read the definition of domain %s", name);
	hva_disks_parse(dd->cfg_xml, &dd->cfg, &dd->n_cfg);
	if (!dd->active)
		return 0;
	dd->live_xml = virDomainGetXMLDesc(dom, 0);
	if (!dd->live_xml) {
		hva_virt_err(err, -EIO, "cannot read the running definition of domain %s", name);
		disks_release(dd);
		return err ? err->code : -EIO;
	}
	hva_disks_parse(dd->live_xml, &dd->live, &dd->n_live);
	return 0;
}

static const struct hva_disk_ref *ref_find(const struct hva_disk_ref *r, size_t n, uint64_t vol_id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (r[i].vol_id == vol_id)
			return &r[i];
	return NULL;
}

int hva_volumes_for_define(struct hva_volumes *v, virConnectPtr conn, virDomainPtr dom,
			   const struct hva_instance_spec *in, struct hva_volume_disk **out,
			   struct vdc_err *err)
{
	struct hva_disk_ref *prev = NULL;
	size_t i, n_prev = 0;
	char *xml = NULL;
	int rc;

	*out = NULL;
	if (in->disk.present && (rc = secret_ensure(v, conn, &in->disk.vol, err)) < 0)
		return rc;
	if (!in->n_volumes)
		return 0;
	for (i = 0; i < in->n_volumes; i++) {
		rc = secret_ensure(v, conn, &in->volumes[i], err);
		if (rc < 0)
			return rc;
	}
	if (dom && (xml = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE)) != NULL)
		hva_disks_parse(xml, &prev, &n_prev);
	*out = xcalloc(in->n_volumes, sizeof(**out));
	rc = hva_volume_devs(in->volumes, in->n_volumes, prev, n_prev, *out, err);
	free(prev);
	free(xml);
	if (rc < 0) {
		free(*out);
		*out = NULL;
	}
	return rc;
}

/* Grow a running guest's disk (a volume or its root disk) when the desired size is larger than what qemu sees. */
static void grow(struct hva_volumes *v, virDomainPtr dom, const struct hva_volume_spec *vol,
		 const char *dev, struct hva_vol_track *t)
{
	virDomainBlockInfo info;
	const char *name = virDomainGetName(dom);
	const char *what = vol->root ? "disk" : "volume";

	if (virDomainGetBlockInfo(dom, dev, &info, 0) < 0 || info.capacity >= vol->size) {
		t->resize_waiting = false;
		return;
	}
	/*
	 * qemu's iSCSI driver reads the target's capacity again and refuses
	 * to grow beyond it: until the storage host has grown the LUN, this
	 * fails and is tried again later. It is not the volume's error.
	 */
	if (virDomainBlockResize(dom, dev, vol->size, VIR_DOMAIN_BLOCK_RESIZE_BYTES) < 0) {
		if (!t->resize_waiting)
			log_info("%s: %s %" PRIu64 " cannot grow to %" PRIu64 " bytes yet (%s); trying again",
				 name, what, vol->id, vol->size, virGetLastErrorMessage());
		t->resize_waiting = true;
		wake_at(v, vdc_agent_now_ms() + RESIZE_AGAIN_MS);
		return;
	}
	t->resize_waiting = false;
	log_info("%s: %s %" PRIu64 " (%s) grown from %llu to %" PRIu64 " bytes", name, what, vol->id, dev,
		 info.capacity, vol->size);
}

/* Plug volume `vol` where the domain lacks it: live, persistent, or both. */
static void attach(struct hva_volumes *v, virConnectPtr conn, virDomainPtr dom, const struct dom_disks *dd,
		   const struct hva_volume_spec *vol, const char *initiator, struct hva_vol_track *t)
{
	const struct hva_disk_ref *l = ref_find(dd->live, dd->n_live, vol->id);
	const struct hva_disk_ref *c = ref_find(dd->cfg, dd->n_cfg, vol->id);
	struct hva_volume_disk disk = { .vol = vol };
	struct vdc_err err = VDC_ERR_INIT;
	struct strbuf xml = STRBUF_INIT;
	unsigned flags = 0;
	const char *name = virDomainGetName(dom);

	if (vdc_agent_now_ms() < t->retry_at) {
		wake_at(v, t->retry_at);
		return;
	}
	if (secret_ensure(v, conn, vol, &err) < 0) {
		track_fail(v, t, &err);
		return;
	}
	if (l || c)
		memcpy(disk.dev, l ? l->dev : c->dev, HVA_DEV_MAX);
	else if (hva_dev_first_free(dd->live, dd->n_live, dd->cfg, dd->n_cfg, disk.dev, &err) < 0) {
		track_fail(v, t, &err);
		return;
	}
	if (dd->active && !l)
		flags |= VIR_DOMAIN_AFFECT_LIVE;
	if (!c)
		flags |= VIR_DOMAIN_AFFECT_CONFIG;
	hva_volume_disk_xml(&disk, initiator, &xml);
	if (virDomainAttachDeviceFlags(dom, xml.buf, flags) < 0) {
		hva_virt_err(&err, -EIO, "cannot attach volume %s to domain %s as %s", vol->name, name, disk.dev);
		track_fail(v, t, &err);
	} else {
		log_info("%s: volume %s (%" PRIu64 ") attached as %s%s", name, vol->name, vol->id, disk.dev,
			 flags & VIR_DOMAIN_AFFECT_LIVE ? " (hot-plugged)" : "");
		track_set(t, HVA_VOL_ATTACHED, NULL);
		t->failures = 0;
		t->retry_at = 0;
	}
	strbuf_release(&xml);
}

/*
 * Unplug a volume no longer wanted. The persistent definition lets go at
 * once; a running guest lets go when it has released the device (the
 * DEVICE_REMOVED event, or the disk gone from the live XML): until then
 * the volume is "detaching", and the request is repeated now and then (a
 * guest still booting does not hear it).
 */
static void detach(struct hva_volumes *v, virDomainPtr dom, const struct dom_disks *dd, uint64_t vol_id,
		   struct hva_vol_track *t)
{
	const struct hva_disk_ref *l = ref_find(dd->live, dd->n_live, vol_id);
	const struct hva_disk_ref *c = ref_find(dd->cfg, dd->n_cfg, vol_id);
	const char *name = virDomainGetName(dom);
	unsigned flags = 0;
	long now = vdc_agent_now_ms();
	char *xml;

	if (l) {
		track_set(t, HVA_VOL_DETACHING, NULL);
		wake_at(v, now + DETACH_POLL_MS);
		if (now >= t->detach_again)
			flags |= VIR_DOMAIN_AFFECT_LIVE;
	}
	if (c)
		flags |= VIR_DOMAIN_AFFECT_CONFIG;
	if (!flags)
		return;
	xml = l ? strndup(dd->live_xml + l->off, l->len) : strndup(dd->cfg_xml + c->off, c->len);
	if (!xml)
		return;
	if (flags & VIR_DOMAIN_AFFECT_LIVE)
		t->detach_again = now + DETACH_AGAIN_MS;
	log_info("%s: detaching volume %" PRIu64 " (%s)", name, vol_id, l ? l->dev : c->dev);
	if (virDomainDetachDeviceFlags(dom, xml, flags) < 0) {
		struct vdc_err err = VDC_ERR_INIT;

		hva_virt_err(&err, -EIO, "cannot detach volume %" PRIu64 " from domain %s", vol_id, name);
		/* Most often the guest is still busy with the last request: it is asked again later. */
		log_warn("%s", err.msg);
		if (!l)
			track_set(t, HVA_VOL_ERROR, err.msg);
	}
	free(xml);
}

/* Every volume disk the domain has that `in` does not want. */
static void detach_unwanted(struct hva_volumes *v, virDomainPtr dom, const struct dom_disks *dd,
			    const struct hva_instance_spec *in)
{
	const struct hva_disk_ref *lists[2] = { dd->live, dd->cfg };
	size_t counts[2] = { dd->n_live, dd->n_cfg };
	size_t k, i;

	for (k = 0; k < 2; k++)
		for (i = 0; i < counts[k]; i++) {
			uint64_t id = lists[k][i].vol_id;

			if (!id || hva_volume_find(in, id) || (k == 1 && ref_find(dd->live, dd->n_live, id)))
				continue;
			in_use_add(v, id, false);
			detach(v, dom, dd, id, track_get(v, in->id, id, false));
		}
}

/*
 * The root disk of a running domain: grown as a volume is. It is in the
 * definition from the start and never plugged or unplugged: an instance
 * whose desired state gains or loses its disk gets it at its next start.
 */
static void grow_root(struct hva_volumes *v, virDomainPtr dom, const struct dom_disks *dd,
		      const struct hva_instance_spec *in)
{
	size_t i;

	if (!in->disk.present || !dd->active)
		return;
	for (i = 0; i < dd->n_live; i++)
		if (dd->live[i].disk_id == in->disk.vol.id) {
			grow(v, dom, &in->disk.vol, dd->live[i].dev, track_get(v, in->id, in->disk.vol.id, true));
			return;
		}
}

void hva_volumes_sync(struct hva_volumes *v, virConnectPtr conn, virDomainPtr dom,
		      const struct hva_instance_spec *in, const char *initiator, bool supported)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct dom_disks dd;
	size_t i;

	if (disks_read(dom, &dd, &err) < 0) {
		log_warn("%s", err.msg);
		wake_at(v, vdc_agent_now_ms() + RETRY_MIN_MS);
		return;
	}
	for (i = 0; i < in->n_volumes; i++) {
		const struct hva_volume_spec *vol = &in->volumes[i];
		struct hva_vol_track *t = track_get(v, in->id, vol->id, false);
		const struct hva_disk_ref *l = ref_find(dd.live, dd.n_live, vol->id);
		bool in_cfg = ref_find(dd.cfg, dd.n_cfg, vol->id) != NULL;

		in_use_add(v, vol->id, false);
		if (!supported) {
			vdc_err_set(&err, -ENOTSUP, "this host's driver cannot attach volumes");
			track_set(t, HVA_VOL_ERROR, err.msg);
			continue;
		}
		if (in_cfg && (!dd.active || l)) {
			track_set(t, HVA_VOL_ATTACHED, NULL);
			if (l)
				grow(v, dom, vol, l->dev, t);
			continue;
		}
		attach(v, conn, dom, &dd, vol, initiator, t);
	}
	detach_unwanted(v, dom, &dd, in);
	grow_root(v, dom, &dd, in);
	disks_release(&dd);
}

/* Remove the secrets "vdc-vol-ID" and "vdc-disk-ID" of volumes and root disks no longer in use on this host. */
static void secrets_sweep(struct hva_volumes *v, virConnectPtr conn)
{
	virSecretPtr *list = NULL;
	int n, i;

	n = virConnectListAllSecrets(conn, &list, 0);
	if (n < 0) {
		log_warn("cannot list libvirt's secrets: %s", virGetLastErrorMessage());
		return;
	}
	for (i = 0; i < n; i++) {
		const char *usage = virSecretGetUsageID(list[i]);
		uint64_t id = 0;
		bool root = false;

		if (usage && (id = hva_volume_id_of(usage)) == 0 && (id = hva_disk_id_of(usage)) != 0)
			root = true;
		if (virSecretGetUsageType(list[i]) == VIR_SECRET_USAGE_TYPE_ISCSI && id && !in_use(v, id, root)) {
			log_info("removing the libvirt secret %s: no instance here uses the %s", usage,
				 root ? "disk" : "volume");
			if (virSecretUndefine(list[i]) < 0)
				log_warn("cannot remove the libvirt secret %s: %s", usage, virGetLastErrorMessage());
			else
				secret_forget(v, id, root);
		}
		virSecretFree(list[i]);
	}
	free(list);
}

void hva_volumes_pass_end(struct hva_volumes *v, virConnectPtr conn, const struct hva_desired *d)
{
	size_t i, j, kept = 0;

	for (i = 0; i < d->n; i++) {
		for (j = 0; j < d->inst[i].n_volumes; j++)
			in_use_add(v, d->inst[i].volumes[j].id, false);
		if (d->inst[i].disk.present)
			in_use_add(v, d->inst[i].disk.vol.id, true);
	}
	for (i = 0; i < v->n; i++)
		if (v->t[i].seen)
			v->t[kept++] = v->t[i];
	v->n = kept;
	secrets_sweep(v, conn);
}

size_t hva_volumes_status(const struct hva_volumes *v, struct hva_vol_status **out)
{
	size_t i, n = 0;

	*out = xcalloc(v->n ? v->n : 1, sizeof(**out));
	for (i = 0; i < v->n; i++) {
		if (v->t[i].state == HVA_VOL_NONE || v->t[i].root)
			continue;
		(*out)[n].inst_id = v->t[i].inst_id;
		(*out)[n].vol_id = v->t[i].vol_id;
		(*out)[n].state = v->t[i].state;
		snprintf((*out)[n].err, sizeof((*out)[n].err), "%s", v->t[i].err);
		n++;
	}
	return n;
}
