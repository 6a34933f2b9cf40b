/*
 * Domain XML for libvirt, made by pure functions: the same definition
 * gives the same text, byte for byte, so the output is checked against
 * golden files (tests/unit/golden/hva-*.xml; VDC_REGENERATE=1 rewrites
 * them). Nothing here talks to libvirt.
 *
 * Every domain vdc-hva defines carries its metadata element in the
 * namespace HVA_META_NS:
 *
 *     <vdc:instance xmlns:vdc="https://vdcfs.invalid/hva">
 *       <vdc:dc>8d7f...</vdc:dc>        the data center it belongs to
 *       <vdc:id>12</vdc:id>             the instance id
 *       <vdc:name>web1</vdc:name>
 *       <vdc:reboot>0</vdc:reboot>      the counters carried out
 *       <vdc:reset>0</vdc:reset>
 *     </vdc:instance>
 *
 * A domain without it, or with another dc, is not vdc-hva's to touch.
 */
#ifndef VDC_HVA_DOMAIN_XML_H
#define VDC_HVA_DOMAIN_XML_H

#include <stddef.h>
#include <stdint.h>

#include "desired.h"
#include "err.h"
#include "strbuf.h"

#define HVA_META_NS "https://vdcfs.invalid/hva"
#define HVA_META_PREFIX "vdc"

struct hva_meta {
	char dc[HVA_DC_MAX + 1];
	uint64_t id;
	char name[VDC_NAME_MAX + 1];
	uint64_t reboot, reset;
};

/*
 * The metadata element on one line: with the vdc: prefix and namespace
 * declaration as it appears inside <metadata> (`qualified`), or bare, as
 * virDomainSetMetadata() takes it (libvirt adds the namespace).
 */
void hva_meta_xml(const struct hva_meta *m, bool qualified, struct strbuf *out);

/*
 * Read the metadata element back from what virDomainGetMetadata() returns
 * (libvirt re-indents it and may change the quoting). -ENODATA when a
 * field is missing or malformed.
 */
int hva_meta_parse(const char *xml, struct hva_meta *m, struct vdc_err *err);

/* The libvirt domain type, which is also the hypervisor. */
enum hva_domain_type {
	HVA_DOMAIN_QEMU,     /* qemu with TCG: <domain type='qemu'> */
	HVA_DOMAIN_KVM,      /* qemu with KVM: <domain type='kvm'> */
	HVA_DOMAIN_LXC,      /* a container: <domain type='lxc'> */
};

/* What a domain is made of: paths vdc-hva prepared, and the desired entry. */
struct hva_domain_def {
	enum hva_domain_type type;
	const char *name;             /* the domain name */
	const char *uuid;             /* the existing domain's, or NULL (libvirt picks) */
	unsigned cpus;
	uint64_t memory_mib;
	const char *disk_path;        /* qemu: the boot disk (qcow2 overlay) */
	const char *seed_path;        /* qemu: the NoCloud seed (raw vfat) */
	const char *console_path;     /* the serial console log */
	const char *rootfs_path;      /* lxc: the root filesystem folder */
	const char *init_path;        /* lxc: the container's init, e.g. /sbin/init */
	const struct hva_nic_spec *nics;
	size_t n_nics;
	const struct hva_meta *meta;
};

/*
 * The domain XML of `def` for its type. -EINVAL when a needed path is
 * missing or a path is not absolute.
 */
int hva_domain_xml(const struct hva_domain_def *def, struct strbuf *out, struct vdc_err *err);

/* Append `s` escaped for XML text and attribute values. */
void hva_xml_escape(struct strbuf *out, const char *s);

#endif
