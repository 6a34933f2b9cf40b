#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain_xml.h"
#include "netdev.h"

void hva_xml_escape(struct strbuf *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': strbuf_addstr(out, "&lt;"); break;
		case '>': strbuf_addstr(out, "&gt;"); break;
		case '&': strbuf_addstr(out, "&amp;"); break;
		case '\'': strbuf_addstr(out, "&apos;"); break;
		case '"': strbuf_addstr(out, "&quot;"); break;
		default: strbuf_addch(out, *s); break;
		}
	}
}

/* <tag>escaped text</tag> with `indent` spaces before it and a newline after. */
static void add_elem(struct strbuf *out, int indent, const char *tag, const char *text)
{
	strbuf_addf(out, "%*s<%s>", indent, "", tag);
	hva_xml_escape(out, text);
	strbuf_addf(out, "</%s>\n", tag);
}

void hva_meta_xml(const struct hva_meta *m, bool qualified, struct strbuf *out)
{
	const char *p = qualified ? HVA_META_PREFIX ":" : "";

	if (qualified)
		strbuf_addstr(out, "<" HVA_META_PREFIX ":instance xmlns:" HVA_META_PREFIX "=\"" HVA_META_NS "\">");
	else
		strbuf_addstr(out, "<instance>");
	strbuf_addf(out, "<%sdc>", p);
	hva_xml_escape(out, m->dc);
	strbuf_addf(out, "</%sdc><%sid>%" PRIu64 "</%sid><%sname>", p, p, m->id, p, p);
	hva_xml_escape(out, m->name);
	strbuf_addf(out, "</%sname><%sreboot>%" PRIu64 "</%sreboot><%sreset>%" PRIu64 "</%sreset>",
		    p, p, m->reboot, p, p, m->reset, p);
	/* Only once a live migration was started: the metadata of every other domain stays as it was. */
	if (m->migrate)
		strbuf_addf(out, "<%smigrate>%" PRIu64 "</%smigrate>", p, m->migrate, p);
	strbuf_addf(out, "</%sinstance>", p);
}

/*
 * The text of the first element whose local name is `local` (any prefix,
 * or none), copied to `out`. The values vdc-hva writes hold no markup, so
 * the text runs to the next '<'; entities are not decoded, and a value
 * holding '&' is refused.
 */
static int meta_field(const char *xml, const char *local, char *out, size_t outlen)
{
	size_t llen = strlen(local);
	const char *p = xml;

	while ((p = strchr(p, '<')) != NULL) {
		const char *name = p + 1, *colon, *end, *text, *close;
		size_t n;

		if (*name == '/' || *name == '?' || *name == '!') {
			p++;
			continue;
		}
		end = name;
		while (*end && !isspace((unsigned char)*end) && *end != '>' && *end != '/')
			end++;
		colon = memchr(name, ':', (size_t)(end - name));
		if (colon)
			name = colon + 1;
		if ((size_t)(end - name) != llen || memcmp(name, local, llen) != 0) {
			p = end;
			continue;
		}
		text = strchr(end, '>');
		if (!text || text[-1] == '/')
			return -ENODATA;
		text++;
		close = strchr(text, '<');
		if (!close)
			return -ENODATA;
		n = (size_t)(close - text);
		while (n && isspace((unsigned char)*text)) {
			text++;
			n--;
		}
		while (n && isspace((unsigned char)text[n - 1]))
			n--;
		if (n >= outlen || memchr(text, '&', n))
			return -ENODATA;
		memcpy(out, text, n);
		out[n] = '\0';
		return 0;
	}
	return -ENODATA;
}

static int meta_uint(const char *xml, const char *local, uint64_t *out)
{
	char buf[32], *end;
	unsigned long long v;

	if (meta_field(xml, local, buf, sizeof(buf)) < 0 || !isdigit((unsigned char)buf[0]))
		return -ENODATA;
	errno = 0;
	v = strtoull(buf, &end, 10);
	if (errno || *end)
		return -ENODATA;
	*out = v;
	return 0;
}

int hva_meta_parse(const char *xml, struct hva_meta *m, struct vdc_err *err)
{
	memset(m, 0, sizeof(*m));
	if (meta_field(xml, "dc", m->dc, sizeof(m->dc)) < 0 || !m->dc[0])
		return vdc_err_set(err, -ENODATA, "the metadata has no data center id");
	if (meta_uint(xml, "id", &m->id) < 0 || m->id == 0)
		return vdc_err_set(err, -ENODATA, "the metadata has no instance id");
	if (meta_field(xml, "name", m->name, sizeof(m->name)) < 0)
		m->name[0] = '\0';
	if (meta_uint(xml, "reboot", &m->reboot) < 0 || meta_uint(xml, "reset", &m->reset) < 0)
		return vdc_err_set(err, -ENODATA, "the metadata has no reboot and reset counters");
	if (meta_uint(xml, "migrate", &m->migrate) < 0)
		m->migrate = 0;
	return 0;
}

static int check_path(const char *what, const char *path, struct vdc_err *err)
{
	if (!path || path[0] != '/')
		return vdc_err_set(err, -EINVAL, "the domain needs an absolute path for its %s", what);
	return 0;
}

/* The parts every type shares, up to and including <on_crash>. */
static void add_head(const struct hva_domain_def *d, const char *type, struct strbuf *out)
{
	strbuf_addf(out, "<domain type='%s'>\n", type);
	add_elem(out, 2, "name", d->name);
	if (d->uuid)
		add_elem(out, 2, "uuid", d->uuid);
	if (d->meta) {
		add_elem(out, 2, "title", d->meta->name);
		strbuf_addstr(out, "  <metadata>\n    ");
		hva_meta_xml(d->meta, true, out);
		strbuf_addstr(out, "\n  </metadata>\n");
	}
	strbuf_addf(out, "  <memory unit='MiB'>%" PRIu64 "</memory>\n", d->memory_mib);
	strbuf_addf(out, "  <vcpu placement='static'>%u</vcpu>\n", d->cpus);
}

/* What the domain does on power-off, reboot and crash. */
static void add_events(struct strbuf *out)
{
	/*
	 * A guest that powers off or crashes stops; the reconcile loop then
	 * decides, from the desired power, whether it runs again.
	 */
	strbuf_addstr(out, "  <on_poweroff>destroy</on_poweroff>\n"
			   "  <on_reboot>restart</on_reboot>\n"
			   "  <on_crash>destroy</on_crash>\n");
}

static void add_file_disk(struct strbuf *out, const char *format, const char *path,
			  const char *dev, bool readonly)
{
	strbuf_addstr(out, "    <disk type='file' device='disk'>\n");
	strbuf_addf(out, "      <driver name='qemu' type='%s'%s/>\n", format,
		    readonly ? "" : " discard='unmap'");
	strbuf_addstr(out, "      <source file='");
	hva_xml_escape(out, path);
	strbuf_addstr(out, "'/>\n");
	strbuf_addf(out, "      <target dev='%s' bus='virtio'/>\n", dev);
	if (readonly)
		strbuf_addstr(out, "      <readonly/>\n");
	strbuf_addstr(out, "    </disk>\n");
}

void hva_volume_secret_usage(uint64_t vol_id, char *out, size_t outlen)
{
	snprintf(out, outlen, "vdc-vol-%" PRIu64, vol_id);
}

void hva_disk_secret_usage(uint64_t disk_id, char *out, size_t outlen)
{
	snprintf(out, outlen, "vdc-disk-%" PRIu64, disk_id);
}

void hva_secret_usage_of(const struct hva_volume_spec *v, char *out, size_t outlen)
{
	if (v->root)
		hva_disk_secret_usage(v->id, out, outlen);
	else
		hva_volume_secret_usage(v->id, out, outlen);
}

/* The id after `prefix` in "PREFIXID" (decimal, no leading zero), or 0. */
static uint64_t id_after(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);
	char *end;
	unsigned long long v;

	if (strncmp(s, prefix, n) != 0 || !isdigit((unsigned char)s[n]) || s[n] == '0')
		return 0;
	errno = 0;
	v = strtoull(s + n, &end, 10);
	return errno || *end ? 0 : v;
}

uint64_t hva_volume_id_of(const char *s)
{
	return id_after(s, "vdc-vol-");
}

uint64_t hva_disk_id_of(const char *s)
{
	return id_after(s, "vdc-disk-");
}

void hva_volume_secret_xml(const struct hva_volume_spec *v, struct strbuf *out)
{
	char usage[32];

	hva_secret_usage_of(v, usage, sizeof(usage));
	strbuf_addstr(out, "<secret ephemeral='yes' private='yes'>\n");
	if (v->root)
		strbuf_addf(out, "  <description>CHAP secret of the disk of instance %s (%" PRIu64 ")</description>\n",
			    v->name, v->id);
	else
		strbuf_addf(out, "  <description>CHAP secret of volume %s (%" PRIu64 ")</description>\n", v->name, v->id);
	strbuf_addf(out, "  <usage type='iscsi'>\n    <target>%s</target>\n  </usage>\n</secret>\n", usage);
}

void hva_volume_disk_xml(const struct hva_volume_disk *d, const char *initiator, struct strbuf *out)
{
	const struct hva_volume_spec *v = d->vol;
	char usage[32];

	hva_secret_usage_of(v, usage, sizeof(usage));
	/* No host page cache: the volume is shared storage, and a guest's flush must reach it. */
	strbuf_addstr(out, "    <disk type='network' device='disk'>\n"
			   "      <driver name='qemu' type='raw' cache='none'/>\n");
	strbuf_addf(out, "      <source protocol='iscsi' name='%s/%u'>\n", v->iqn, v->lun);
	strbuf_addstr(out, "        <host name='");
	hva_xml_escape(out, v->host);
	strbuf_addf(out, "' port='%u'/>\n", v->port);
	strbuf_addstr(out, "        <initiator>\n          <iqn name='");
	hva_xml_escape(out, initiator ? initiator : "");
	strbuf_addstr(out, "'/>\n        </initiator>\n      </source>\n");
	strbuf_addstr(out, "      <auth username='");
	hva_xml_escape(out, v->chap_user);
	strbuf_addf(out, "'>\n        <secret type='iscsi' usage='%s'/>\n      </auth>\n", usage);
	strbuf_addf(out, "      <target dev='%s' bus='virtio'/>\n", d->dev);
	if (v->root)
		strbuf_addstr(out, "      <boot order='1'/>\n");
	add_elem(out, 6, "serial", v->serial);
	strbuf_addstr(out, "    </disk>\n");
}

/*
 * The value of attribute `name` in the start tag at `tag` (up to its
 * '>'), quoted with ' or ", into `out`; false when absent or too long.
 */
static bool tag_attr(const char *tag, const char *end, const char *name, char *out, size_t outlen)
{
	size_t nlen = strlen(name);
	const char *p, *close;

	for (p = tag; p + nlen + 2 < end; p++) {
		if (!isspace((unsigned char)p[0]) || strncmp(p + 1, name, nlen) != 0 || p[nlen + 1] != '=')
			continue;
		p += nlen + 2;
		if (*p != '\'' && *p != '"')
			return false;
		close = memchr(p + 1, *p, (size_t)(end - p - 1));
		if (!close || (size_t)(close - p - 1) >= outlen)
			return false;
		memcpy(out, p + 1, (size_t)(close - p - 1));
		out[close - p - 1] = '\0';
		return true;
	}
	return false;
}

/* The target device and serial of the <disk> element at `xml`..`end`. */
static bool disk_ref(const char *xml, const char *end, struct hva_disk_ref *r)
{
	const char *t = xml, *s, *gt;
	char serial[HVA_SERIAL_MAX + 1];
	size_t n;

	memset(r, 0, sizeof(*r));
	while ((t = strstr(t, "<target")) && t < end && !isspace((unsigned char)t[7]))
		t += 7;
	if (!t || t >= end || !(gt = strchr(t, '>')) || gt > end || !tag_attr(t + 7, gt, "dev", r->dev, sizeof(r->dev)))
		return false;
	s = strstr(xml, "<serial>");
	if (s && s < end) {
		s += 8;
		gt = strchr(s, '<');
		n = gt ? (size_t)(gt - s) : 0;
		if (gt && gt < end && n < sizeof(serial)) {
			memcpy(serial, s, n);
			serial[n] = '\0';
			r->vol_id = hva_volume_id_of(serial);
			r->disk_id = hva_disk_id_of(serial);
		}
	}
	return true;
}

void hva_disks_parse(const char *xml, struct hva_disk_ref **out, size_t *n)
{
	const char *p = xml, *end;

	*out = NULL;
	*n = 0;
	while ((p = strstr(p, "<disk")) != NULL) {
		struct hva_disk_ref r;

		if (!isspace((unsigned char)p[5]) && p[5] != '>') {
			p += 5;
			continue;
		}
		end = strstr(p, "</disk>");
		if (!end)
			break;
		end += 7;
		if (disk_ref(p, end, &r)) {
			r.off = (size_t)(p - xml);
			r.len = (size_t)(end - p);
			*out = xrealloc(*out, (*n + 1) * sizeof(**out));
			(*out)[(*n)++] = r;
		}
		p = end;
	}
}

static bool dev_taken(const char *dev, const struct hva_disk_ref *a, size_t na)
{
	size_t i;

	for (i = 0; i < na; i++)
		if (strcmp(a[i].dev, dev) == 0)
			return true;
	return false;
}

int hva_dev_first_free(const struct hva_disk_ref *used, size_t n_used, const struct hva_disk_ref *more,
		       size_t n_more, char out[HVA_DEV_MAX], struct vdc_err *err)
{
	char c;

	for (c = 'c'; c <= 'z'; c++) {
		snprintf(out, HVA_DEV_MAX, "vd%c", c);
		if (!dev_taken(out, used, n_used) && !dev_taken(out, more, n_more))
			return 0;
	}
	out[0] = '\0';
	return vdc_err_set(err, -ENOSPC, "no free disk name from vdc to vdz is left");
}

int hva_volume_devs(const struct hva_volume_spec *vols, size_t n, const struct hva_disk_ref *prev,
		    size_t n_prev, struct hva_volume_disk *out, struct vdc_err *err)
{
	struct hva_disk_ref *given = xcalloc(n ? n : 1, sizeof(*given));
	size_t i, j, n_given = 0;
	int rc = 0;

	/* First the volumes the current definition has: they keep their names. */
	for (i = 0; i < n; i++) {
		out[i].vol = &vols[i];
		out[i].dev[0] = '\0';
		for (j = 0; j < n_prev; j++) {
			if (prev[j].vol_id != vols[i].id || strncmp(prev[j].dev, "vd", 2) != 0 ||
			    strcmp(prev[j].dev, "vda") <= 0 || strcmp(prev[j].dev, "vdb") == 0 ||
			    dev_taken(prev[j].dev, given, n_given))
				continue;
			memcpy(out[i].dev, prev[j].dev, HVA_DEV_MAX);
			given[n_given++] = prev[j];
			break;
		}
	}
	for (i = 0; i < n && rc == 0; i++) {
		if (out[i].dev[0])
			continue;
		rc = hva_dev_first_free(given, n_given, NULL, 0, out[i].dev, err);
		memcpy(given[n_given++].dev, out[i].dev, HVA_DEV_MAX);
	}
	free(given);
	return rc;
}

/*
 * A nic: on a virtual network, a tap (vdcnID) on the network's bridge
 * (vdcbVNI) with the network's MTU (docs/networks.md); without a
 * network, qemu's user-mode network, and nothing for a container. A nic
 * that names a network the desired state does not carry never gets here:
 * its instance is not started.
 */
static void add_nic(struct strbuf *out, const struct hva_nic_spec *nic, bool container)
{
	char bridge[IFNAMSIZ], tap[IFNAMSIZ];

	if (!nic->net) {
		if (!container && !nic->network[0])
			strbuf_addf(out, "    <interface type='user'>\n"
					 "      <mac address='%s'/>\n"
					 "      <model type='virtio'/>\n"
					 "    </interface>\n", nic->mac);
		return;
	}
	hva_net_bridge_name(nic->net->vni, bridge);
	hva_net_tap_name(nic->id, tap);
	strbuf_addf(out, "    <interface type='bridge'>\n"
			 "      <mac address='%s'/>\n"
			 "      <source bridge='%s'/>\n"
			 "      <target dev='%s'/>\n", nic->mac, bridge, tap);
	if (container)
		strbuf_addf(out, "      <guest dev='%s'/>\n", nic->name);
	else
		strbuf_addstr(out, "      <model type='virtio'/>\n");
	if (nic->net->mtu)
		strbuf_addf(out, "      <mtu size='%u'/>\n", nic->net->mtu);
	strbuf_addstr(out, "    </interface>\n");
}

/*
 * The serial port is a pty that qemu also logs to console.log (<log>):
 * the log holds everything the guest prints, whether or not anyone holds
 * the pty (qemu drops what it cannot write to a pty nobody opened, after
 * logging it), and the agent writes console input to the pty
 * (console_input.c). The <console> is the same port, for virsh console.
 */
static void add_serial_console(struct strbuf *out, const char *path)
{
	strbuf_addstr(out, "    <serial type='pty'>\n      <log file='");
	hva_xml_escape(out, path);
	strbuf_addstr(out, "' append='on'/>\n      <target port='0'/>\n    </serial>\n");
	strbuf_addstr(out, "    <console type='pty'>\n      <log file='");
	hva_xml_escape(out, path);
	strbuf_addstr(out, "' append='on'/>\n      <target type='serial' port='0'/>\n    </console>\n");
}

static int qemu_xml(const struct hva_domain_def *d, struct strbuf *out, struct vdc_err *err)
{
	size_t i;
	int rc;

	if ((!d->root && (rc = check_path("boot disk", d->disk_path, err)) < 0) ||
	    (rc = check_path("seed", d->seed_path, err)) < 0 ||
	    (rc = check_path("console log", d->console_path, err)) < 0)
		return rc;
	if (d->n_volumes && (!d->initiator || !d->initiator[0]))
		return vdc_err_set(err, -EINVAL, "domain %s has volumes but no initiator IQN", d->name);
	if (d->root && (!d->initiator || !d->initiator[0]))
		return vdc_err_set(err, -EINVAL, "domain %s has a root disk but no initiator IQN", d->name);
	add_head(d, d->type == HVA_DOMAIN_KVM ? "kvm" : "qemu", out);
	/*
	 * Through the BIOS from the first disk, like a cloud image: no direct
	 * kernel boot. A root disk on a storage host says so itself (its boot
	 * order), which libvirt does not take beside <boot dev>.
	 */
	strbuf_addstr(out, "  <os>\n"
			   "    <type arch='x86_64' machine='pc'>hvm</type>\n");
	if (!d->root)
		strbuf_addstr(out, "    <boot dev='hd'/>\n");
	strbuf_addstr(out, "  </os>\n"
			   "  <features>\n    <acpi/>\n    <apic/>\n  </features>\n");
	if (d->type == HVA_DOMAIN_KVM)
		strbuf_addstr(out, "  <cpu mode='host-passthrough' check='none'/>\n");
	strbuf_addstr(out, "  <clock offset='utc'/>\n");
	add_events(out);
	strbuf_addstr(out, "  <devices>\n");
	if (d->root)
		hva_volume_disk_xml(d->root, d->initiator, out);
	else
		add_file_disk(out, "qcow2", d->disk_path, "vda", false);
	/* The seed on virtio: the guest's initramfs has no IDE or SATA driver. */
	add_file_disk(out, "raw", d->seed_path, "vdb", true);
	for (i = 0; i < d->n_volumes; i++)
		hva_volume_disk_xml(&d->volumes[i], d->initiator, out);
	for (i = 0; i < d->n_nics; i++)
		add_nic(out, &d->nics[i], false);
	add_serial_console(out, d->console_path);
	strbuf_addstr(out, "    <rng model='virtio'>\n"
			   "      <backend model='random'>/dev/urandom</backend>\n"
			   "    </rng>\n"
			   "    <memballoon model='none'/>\n"
			   "  </devices>\n</domain>\n");
	return 0;
}

static int lxc_xml(const struct hva_domain_def *d, struct strbuf *out, struct vdc_err *err)
{
	size_t i;
	int rc;

	if ((rc = check_path("root filesystem", d->rootfs_path, err)) < 0 ||
	    (rc = check_path("init", d->init_path, err)) < 0)
		return rc;
	if (d->idmap_count == 0 || d->idmap_base == 0 ||
	    (uint64_t)d->idmap_base + d->idmap_count > UINT32_MAX)
		return vdc_err_set(err, -EINVAL, "container %s needs a user-namespace mapping to host ids other than root's",
				   d->name);
	add_head(d, "lxc", out);
	strbuf_addstr(out, "  <os>\n    <type arch='x86_64'>exe</type>\n    <init>");
	hva_xml_escape(out, d->init_path);
	strbuf_addstr(out, "</init>\n  </os>\n");
	/* Its own user namespace: its root is host id idmap_base (rootfs.h). */
	strbuf_addf(out, "  <idmap>\n"
			 "    <uid start='0' target='%" PRIu32 "' count='%" PRIu32 "'/>\n"
			 "    <gid start='0' target='%" PRIu32 "' count='%" PRIu32 "'/>\n"
			 "  </idmap>\n", d->idmap_base, d->idmap_count, d->idmap_base, d->idmap_count);
	/* Its own network namespace: lo, and a veth for each nic on a virtual network. */
	strbuf_addstr(out, "  <features>\n    <privnet/>\n  </features>\n");
	strbuf_addstr(out, "  <clock offset='utc'/>\n");
	add_events(out);
	strbuf_addstr(out, "  <devices>\n"
			   "    <filesystem type='mount' accessmode='passthrough'>\n"
			   "      <source dir='");
	hva_xml_escape(out, d->rootfs_path);
	strbuf_addstr(out, "'/>\n      <target dir='/'/>\n    </filesystem>\n");
	for (i = 0; i < d->n_nics; i++)
		add_nic(out, &d->nics[i], true);
	strbuf_addstr(out, "    <console type='pty'>\n      <target type='lxc' port='0'/>\n    </console>\n"
			   "  </devices>\n</domain>\n");
	return 0;
}

int hva_domain_xml(const struct hva_domain_def *def, struct strbuf *out, struct vdc_err *err)
{
	if (!def->name || vdc_name_check(def->name, strlen(def->name), NULL) < 0)
		return vdc_err_set(err, -EINVAL, "a domain needs a name of a-z, 0-9 and '-'");
	if (def->cpus == 0 || def->memory_mib == 0)
		return vdc_err_set(err, -EINVAL, "domain %s needs at least one cpu and some memory", def->name);
	switch (def->type) {
	case HVA_DOMAIN_QEMU:
	case HVA_DOMAIN_KVM:
		return qemu_xml(def, out, err);
	case HVA_DOMAIN_LXC:
		return lxc_xml(def, out, err);
	}
	return vdc_err_set(err, -EINVAL, "domain %s has an unknown type", def->name);
}

void hva_xml_set_initiator(const char *xml, const char *iqn, struct strbuf *out)
{
	const char *p = xml;

	for (;;) {
		const char *init = strstr(p, "<initiator>"), *end, *tag, *name, *q;

		if (!init || !(end = strstr(init, "</initiator>")))
			break;
		/* Each <iqn name='...'/> (or "...") between the two. */
		for (tag = strstr(init, "<iqn "); tag && tag < end; tag = strstr(tag + 1, "<iqn ")) {
			name = strstr(tag, "name=");
			if (!name || name > end || (name[5] != '\'' && name[5] != '"'))
				continue;
			q = strchr(name + 6, name[5]);
			if (!q || q > end)
				continue;
			strbuf_add(out, p, (size_t)(name + 6 - p));
			hva_xml_escape(out, iqn);
			p = q;
		}
		strbuf_add(out, p, (size_t)(end - p));
		p = end;
	}
	strbuf_addstr(out, p);
}
