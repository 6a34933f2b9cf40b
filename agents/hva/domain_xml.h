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
	uint64_t migrate;        /* the last live migration seq started from this host; 0: none (not written) */
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

/* A target device name: "vdc". */
#define HVA_DEV_MAX 8

/* A volume as a disk of a domain: the volume and its target device. */
struct hva_volume_disk {
	const struct hva_volume_spec *vol;
	char dev[HVA_DEV_MAX];
};

/*
 * A disk read back from a domain's XML: its target device, the volume it
 * is (by its serial "vdc-vol-ID"; 0 when it is no volume), and where its
 * <disk> element lies in the text, for a detach; the root disk it is (by
 * its serial "vdc-disk-ID"; 0 when it is none).
 */
struct hva_disk_ref {
	uint64_t vol_id;
	char dev[HVA_DEV_MAX];
	size_t off, len;
	uint64_t disk_id;
};

/* What a domain is made of: paths vdc-hva prepared, and the desired entry. */
struct hva_domain_def {
	enum hva_domain_type type;
	const char *name;             /* the domain name */
	const char *uuid;             /* the existing domain's, or NULL (libvirt picks) */
	unsigned cpus;
	uint64_t memory_mib;
	const char *disk_path;        /* qemu: the boot disk (qcow2 overlay), unless `root` */
	const struct hva_volume_disk *root;   /* qemu: the root disk on a storage host, or NULL */
	const char *seed_path;        /* qemu: the NoCloud seed (raw vfat) */
	const char *console_path;     /* the serial console log */
	const char *rootfs_path;      /* lxc: the root filesystem folder */
	const char *init_path;        /* lxc: the container's init, e.g. /sbin/init */
	uint32_t idmap_base;          /* lxc: the host id of the container's id 0 */
	uint32_t idmap_count;         /* lxc: how many ids from there are the container's (> 0) */
	const struct hva_nic_spec *nics;
	size_t n_nics;
	const struct hva_volume_disk *volumes;   /* qemu: iSCSI volumes, in order */
	size_t n_volumes;
	const char *initiator;        /* this host's IQN; needed with volumes or a root disk */
	const struct hva_meta *meta;
};

/*
 * The domain XML of `def` for its type. A qemu domain with a `root` disk
 * boots from it (boot order 1, as vda, no <boot dev> in <os>) and has no
 * file disk; without, it boots through the BIOS from disk_path, as
 * always. -EINVAL when a needed path is
 * missing or a path is not absolute, or a container has no user-namespace
 * mapping (idmap_count 0, or a block that holds host id 0 or runs past
 * the 32-bit ids): a container is never root on the host.
 */
int hva_domain_xml(const struct hva_domain_def *def, struct strbuf *out, struct vdc_err *err);

/*
 * The <disk> element of a volume (docs/storage.md): a network disk over
 * qemu's iSCSI driver as `initiator`, CHAP through the libvirt secret of
 * usage "vdc-vol-ID" (hva_volume_secret_usage()), on virtio as `dev`, with
 * the volume's serial. Used in the domain XML and, alone, to hot-plug.
 * An instance's root disk (vol->root) is the same element with the
 * secret "vdc-disk-ID" and <boot order='1'/>.
 */
void hva_volume_disk_xml(const struct hva_volume_disk *d, const char *initiator, struct strbuf *out);

/*
 * The libvirt secret that holds a volume's CHAP secret: usage iscsi,
 * usage id "vdc-vol-ID" ("vdc-disk-ID" for a root disk), private (libvirt
 * never hands the value out) and in libvirtd's memory only
 * (ephemeral='yes': the agent defines it again after a libvirtd
 * restart). The value is set apart, with virSecretSetValue().
 */
void hva_volume_secret_xml(const struct hva_volume_spec *v, struct strbuf *out);

/* The usage id of a volume's libvirt secret: "vdc-vol-ID". */
void hva_volume_secret_usage(uint64_t vol_id, char *out, size_t outlen);

/* The usage id of a root disk's libvirt secret: "vdc-disk-ID". */
void hva_disk_secret_usage(uint64_t disk_id, char *out, size_t outlen);

/* The usage id of `v`'s secret: one of the two above, as v->root says. */
void hva_secret_usage_of(const struct hva_volume_spec *v, char *out, size_t outlen);

/* The volume id in a secret usage id or disk serial "vdc-vol-ID", or 0 when it is not one. */
uint64_t hva_volume_id_of(const char *s);

/* The root disk id in a secret usage id or disk serial "vdc-disk-ID", or 0 when it is not one. */
uint64_t hva_disk_id_of(const char *s);

/*
 * Every <disk> of a domain's XML (as virDomainGetXMLDesc() returns it),
 * into `*out` (freed by the caller). Disks without a target are skipped.
 */
void hva_disks_parse(const char *xml, struct hva_disk_ref **out, size_t *n);

/*
 * Target devices for the volumes `vols` (sorted by id) of a domain that is
 * (re)defined: a volume that `prev` (the disks of its current definition)
 * shows at a device keeps it, so a redefinition renames no disk; the
 * others get the first free devices from vdc on, in the order of their
 * ids. vda and vdb (boot disk and seed) are never given. -ENOSPC when
 * the names run out.
 */
int hva_volume_devs(const struct hva_volume_spec *vols, size_t n, const struct hva_disk_ref *prev,
		    size_t n_prev, struct hva_volume_disk *out, struct vdc_err *err);

/*
 * The first device from vdc on that none of `used` (and none of `more`)
 * has, into `out`; -ENOSPC when there is none.
 */
int hva_dev_first_free(const struct hva_disk_ref *used, size_t n_used, const struct hva_disk_ref *more,
		       size_t n_more, char out[HVA_DEV_MAX], struct vdc_err *err);

/* Append `s` escaped for XML text and attribute values. */
void hva_xml_escape(struct strbuf *out, const char *s);

/*
 * `xml` (a domain's, as libvirt writes it) with the name of every
 * <iqn> in an <initiator> element (its iSCSI disks') set to `iqn`, into
 * `out`: the definition a live-migrated domain takes on its destination,
 * which logs in to its disk and volumes as its own host. Pure; the rest of
 * the text is copied as it is.
 */
void hva_xml_set_initiator(const char *xml, const char *iqn, struct strbuf *out);

#endif
