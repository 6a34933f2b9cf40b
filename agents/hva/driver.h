/*
 * Hypervisor drivers: one table of operations per kind of guest (after
 * libvirt's src/driver-hypervisor.h). The reconcile loop calls only the
 * hva_drv_*() wrappers below; a NULL slot means the driver cannot do that
 * and the wrapper fails with -ENOTSUP and a sentence saying so, which
 * reaches the instance's run/err.
 *
 *     qemu   full virtual machines booting the image through the BIOS,
 *            with KVM where it really works and TCG otherwise
 *     lxc    containers (libvirt's lxc driver) on a copy-on-write root
 *            made from a root filesystem tarball (rootfs.h)
 */
#ifndef VDC_HVA_DRIVER_H
#define VDC_HVA_DRIVER_H

#include <stdbool.h>

#include <libvirt/libvirt.h>

#include "desired.h"
#include "domain_xml.h"
#include "err.h"
#include "strbuf.h"

struct hva;

/* What a definition adds to the desired entry: the agent's own parts. */
struct hva_define {
	const struct hva_meta *meta;
	const char *uuid;                     /* the existing domain's, or NULL */
	const char *initiator;                /* this host's IQN (with volumes) */
	const struct hva_volume_disk *volumes;
	size_t n_volumes;
};

struct hva_driver {
	const char *name;             /* "qemu" */
	const char *default_uri;      /* "qemu:///system" */
	bool needs_image;             /* an instance cannot start without an image */
	bool volumes;                 /* it attaches iSCSI volumes (network disks) */
	bool disks;                   /* it boots an instance from its root disk on a storage host */

	/*
	 * Look at the host once libvirt is connected: decide facts.virt (and
	 * the domain type) and refuse a host that cannot run this driver.
	 */
	int (*probe)(struct hva *h, struct vdc_err *err);
	/*
	 * Make an instance's files before it starts: boot disk, seed, console
	 * log. `image_path` is the cached image (NULL without one, and for an
	 * instance with a root disk on a storage host, which has no boot disk
	 * here).
	 */
	int (*prepare)(struct hva *h, const struct hva_instance_spec *in, const char *image_path,
		       struct vdc_err *err);
	/* The domain XML of an instance (pure, see domain_xml.h). */
	int (*domain_xml)(struct hva *h, const struct hva_instance_spec *in, const struct hva_define *def,
			  struct strbuf *out, struct vdc_err *err);
	/* Power: each acts on a defined domain. */
	int (*start)(virDomainPtr dom, struct vdc_err *err);
	int (*shutdown)(virDomainPtr dom, struct vdc_err *err);   /* graceful: ACPI or init */
	int (*destroy)(virDomainPtr dom, struct vdc_err *err);    /* forced off */
	int (*reboot)(virDomainPtr dom, struct vdc_err *err);     /* graceful */
	int (*reset)(virDomainPtr dom, struct vdc_err *err);      /* forced */
	/*
	 * Make sure the console of the running domain `dom` reaches
	 * `console_path`, for a driver whose hypervisor does not write it
	 * itself (NULL: qemu writes console.log). Called on every pass for
	 * every running domain of ours, so it must be cheap when it already
	 * does.
	 */
	int (*console_follow)(struct hva *h, virDomainPtr dom, const char *console_path,
			      struct vdc_err *err);
	/* Let go of what the driver holds, at exit (NULL: nothing). */
	void (*release)(struct hva *h);
};

extern const struct hva_driver hva_driver_qemu;
extern const struct hva_driver hva_driver_lxc;

/* The driver called `name`, or NULL. */
const struct hva_driver *hva_driver_find(const char *name);

int hva_drv_probe(struct hva *h, struct vdc_err *err);
int hva_drv_prepare(struct hva *h, const struct hva_instance_spec *in, const char *image_path,
		    struct vdc_err *err);
int hva_drv_domain_xml(struct hva *h, const struct hva_instance_spec *in, const struct hva_define *def,
		       struct strbuf *out, struct vdc_err *err);
int hva_drv_start(struct hva *h, virDomainPtr dom, struct vdc_err *err);
int hva_drv_shutdown(struct hva *h, virDomainPtr dom, struct vdc_err *err);
int hva_drv_destroy(struct hva *h, virDomainPtr dom, struct vdc_err *err);
int hva_drv_reboot(struct hva *h, virDomainPtr dom, struct vdc_err *err);
int hva_drv_reset(struct hva *h, virDomainPtr dom, struct vdc_err *err);
/* These two do nothing for a NULL slot. */
int hva_drv_console_follow(struct hva *h, virDomainPtr dom, const char *console_path,
			   struct vdc_err *err);
void hva_drv_release(struct hva *h);

/*
 * The operations most drivers share, straight onto libvirt's API; a
 * driver's table points at these where libvirt does the right thing
 * (virt_ops.c).
 */
int hva_virt_start(virDomainPtr dom, struct vdc_err *err);
int hva_virt_shutdown(virDomainPtr dom, struct vdc_err *err);
int hva_virt_destroy(virDomainPtr dom, struct vdc_err *err);
int hva_virt_reboot(virDomainPtr dom, struct vdc_err *err);
int hva_virt_reset(virDomainPtr dom, struct vdc_err *err);

#endif
