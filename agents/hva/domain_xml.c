#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "domain_xml.h"

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
	strbuf_addf(out, "</%sname><%sreboot>%" PRIu64 "</%sreboot><%sreset>%" PRIu64 "</%sreset></%sinstance>",
		    p, p, m->reboot, p, p, m->reset, p, p);
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

static void add_console_file(struct strbuf *out, const char *path)
{
	strbuf_addstr(out, "    <serial type='file'>\n      <source path='");
	hva_xml_escape(out, path);
	strbuf_addstr(out, "' append='on'/>\n      <target port='0'/>\n    </serial>\n");
	strbuf_addstr(out, "    <console type='file'>\n      <source path='");
	hva_xml_escape(out, path);
	strbuf_addstr(out, "' append='on'/>\n      <target type='serial' port='0'/>\n    </console>\n");
}

static int qemu_xml(const struct hva_domain_def *d, struct strbuf *out, struct vdc_err *err)
{
	size_t i;
	int rc;

	if ((rc = check_path("boot disk", d->disk_path, err)) < 0 ||
	    (rc = check_path("seed", d->seed_path, err)) < 0 ||
	    (rc = check_path("console log", d->console_path, err)) < 0)
		return rc;
	add_head(d, d->type == HVA_DOMAIN_KVM ? "kvm" : "qemu", out);
	/* Through the BIOS from the first disk, like a cloud image: no direct kernel boot. */
	strbuf_addstr(out, "  <os>\n"
			   "    <type arch='x86_64' machine='pc'>hvm</type>\n"
			   "    <boot dev='hd'/>\n"
			   "  </os>\n"
			   "  <features>\n    <acpi/>\n    <apic/>\n  </features>\n");
	if (d->type == HVA_DOMAIN_KVM)
		strbuf_addstr(out, "  <cpu mode='host-passthrough' check='none'/>\n");
	strbuf_addstr(out, "  <clock offset='utc'/>\n");
	add_events(out);
	strbuf_addstr(out, "  <devices>\n");
	add_file_disk(out, "qcow2", d->disk_path, "vda", false);
	/* The seed on virtio: the guest's initramfs has no IDE or SATA driver. */
	add_file_disk(out, "raw", d->seed_path, "vdb", true);
	/*
	 * Until vdcfs has networks, a NIC is qemu's user-mode network: the
	 * guest gets an address by DHCP and reaches out through the host.
	 */
	for (i = 0; i < d->n_nics; i++)
		strbuf_addf(out, "    <interface type='user'>\n"
				 "      <mac address='%s'/>\n"
				 "      <model type='virtio'/>\n"
				 "    </interface>\n", d->nics[i].mac);
	add_console_file(out, d->console_path);
	strbuf_addstr(out, "    <rng model='virtio'>\n"
			   "      <backend model='random'>/dev/urandom</backend>\n"
			   "    </rng>\n"
			   "    <memballoon model='none'/>\n"
			   "  </devices>\n</domain>\n");
	return 0;
}

static int lxc_xml(const struct hva_domain_def *d, struct strbuf *out, struct vdc_err *err)
{
	int rc;

	if ((rc = check_path("root filesystem", d->rootfs_path, err)) < 0 ||
	    (rc = check_path("init", d->init_path, err)) < 0)
		return rc;
	add_head(d, "lxc", out);
	strbuf_addstr(out, "  <os>\n    <type arch='x86_64'>exe</type>\n    <init>");
	hva_xml_escape(out, d->init_path);
	strbuf_addstr(out, "</init>\n  </os>\n");
	/* Its own network namespace, with only lo until vdcfs has networks. */
	strbuf_addstr(out, "  <features>\n    <privnet/>\n  </features>\n");
	strbuf_addstr(out, "  <clock offset='utc'/>\n");
	add_events(out);
	strbuf_addstr(out, "  <devices>\n"
			   "    <filesystem type='mount' accessmode='passthrough'>\n"
			   "      <source dir='");
	hva_xml_escape(out, d->rootfs_path);
	strbuf_addstr(out, "'/>\n      <target dir='/'/>\n    </filesystem>\n");
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
