/*
 * The qemu driver: full virtual machines that boot the image through the
 * BIOS from a qcow2 overlay, or from their root disk on a storage host
 * (an iSCSI LUN, as the volumes), with the NoCloud seed as a second disk
 * and the serial console in a file.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "disk.h"
#include "hva.h"
#include "kvm.h"
#include "log.h"
#include "seed.h"
#include "process.h"

/* The programs the driver runs; each is checked at start. */
static const struct {
	const char *name, *package;
} programs[] = {
	{ "qemu-img", "qemu-utils" },
	{ "mkfs.vfat", "dosfstools" },
	{ "mcopy", "mtools" },
};

/*
 * Where distributions keep qemu's loadable block drivers. Debian ships
 * the iSCSI driver apart, in qemu-block-extra; other builds have it
 * inside qemu, so a missing module is a warning, not a refusal.
 */
static const char *const iscsi_modules[] = {
	"/usr/lib/x86_64-linux-gnu/qemu/block-iscsi.so",
	"/usr/lib64/qemu/block-iscsi.so",
	"/usr/lib/qemu/block-iscsi.so",
};

static void check_iscsi_module(void)
{
	size_t i;

	for (i = 0; i < sizeof(iscsi_modules) / sizeof(iscsi_modules[0]); i++)
		if (access(iscsi_modules[i], R_OK) == 0)
			return;
	log_warn("qemu's iSCSI block driver (block-iscsi.so) is not installed; guests cannot attach volumes "
		 "unless qemu has it built in (Debian: apt-get install qemu-block-extra)");
}

/* Whether libvirt offers KVM domains at all (its domain capabilities). */
static int libvirt_has_kvm(struct hva *h, struct vdc_err *err)
{
	virConnectPtr conn = hva_libvirt_get(h);
	char *caps;

	if (!conn)
		return vdc_err_set(err, -ENOTCONN, "libvirt is not connected");
	caps = virConnectGetDomainCapabilities(conn, NULL, "x86_64", NULL, "kvm", 0);
	virConnectClose(conn);
	if (!caps)
		return hva_virt_err(err, -ENODEV, "libvirt offers no KVM domains");
	free(caps);
	return 0;
}

static int qemu_probe(struct hva *h, struct vdc_err *err)
{
	struct vdc_err why = VDC_ERR_INIT;
	char path[PATH_MAX];
	size_t i;

	for (i = 0; i < sizeof(programs) / sizeof(programs[0]); i++)
		if (vdc_spawn_find(programs[i].name, path) < 0)
			return vdc_err_set(err, -ENOENT, "%s is not installed (apt-get install %s)",
					   programs[i].name, programs[i].package);
	check_iscsi_module();
	switch (h->opt.virt) {
	case HVA_VIRT_TCG:
		h->domain_type = HVA_DOMAIN_QEMU;
		break;
	case HVA_VIRT_KVM:
		if (libvirt_has_kvm(h, &why) < 0 || hva_kvm_probe(&why) < 0)
			log_warn("--virt kvm as asked, although %s", why.msg);
		h->domain_type = HVA_DOMAIN_KVM;
		break;
	case HVA_VIRT_AUTO:
		if (libvirt_has_kvm(h, &why) == 0 && hva_kvm_probe(&why) == 0) {
			h->domain_type = HVA_DOMAIN_KVM;
		} else {
			log_info("KVM is not usable here (%s); guests run under TCG", why.msg);
			h->domain_type = HVA_DOMAIN_QEMU;
		}
		break;
	}
	snprintf(h->virt, sizeof(h->virt), "%s", h->domain_type == HVA_DOMAIN_KVM ? "kvm" : "tcg");
	return 0;
}

/* The local boot disk: a qcow2 overlay of the cached image at `image_path`. */
static int boot_disk(const struct hva_inst_paths *p, const struct hva_instance_spec *in, const char *image_path,
		     struct vdc_err *err)
{
	enum vdc_image_format format;
	int rc;

	rc = vdc_image_format_of(image_path, in->image.format, &format, err);
	if (rc < 0)
		return vdc_err_wrap(err, rc, "image %s cannot be used", in->image.name);
	return hva_boot_disk_make(p, image_path, format, in->image.sha256, err);
}

static int qemu_prepare(struct hva *h, const struct hva_instance_spec *in, const char *image_path,
			struct vdc_err *err)
{
	struct hva_inst_paths p;
	int rc;

	if (!image_path && !in->disk.present)
		return vdc_err_set(err, -ENOENT, "no image is linked; link one (ln -s ../../images/NAME image) before power on");
	hva_inst_paths(h->statedir, in->domain, &p);
	rc = hva_inst_dir_make(&p, 0711, err);
	if (rc < 0)
		return rc;
	/* A root disk on a storage host was made there from the image: no boot disk here. */
	if (!in->disk.present && (rc = boot_disk(&p, in, image_path, err)) < 0)
		return rc;
	rc = hva_seed_build(p.dir, in, err);
	if (rc < 0)
		return vdc_err_wrap(err, rc, "cannot make the NoCloud seed");
	return 0;
}

static int qemu_domain_xml(struct hva *h, const struct hva_instance_spec *in, const struct hva_define *how,
			   struct strbuf *out, struct vdc_err *err)
{
	struct hva_inst_paths p;
	/* The root disk is the first disk, where the boot disk would be. */
	struct hva_volume_disk root = { .vol = &in->disk.vol, .dev = "vda" };
	struct hva_domain_def def = {
		.type = h->domain_type,
		.name = in->domain,
		.uuid = how->uuid,
		.cpus = in->cpus,
		.memory_mib = in->memory_mib,
		.nics = in->nics,
		.n_nics = in->n_nics,
		.volumes = how->volumes,
		.n_volumes = how->n_volumes,
		.initiator = how->initiator,
		.meta = how->meta,
	};

	hva_inst_paths(h->statedir, in->domain, &p);
	if (in->disk.present)
		def.root = &root;
	else
		def.disk_path = p.disk;
	def.seed_path = p.seed;
	def.console_path = p.console;
	return hva_domain_xml(&def, out, err);
}

static int qemu_shutdown(virDomainPtr dom, struct vdc_err *err)
{
	const char *name = virDomainGetName(dom);

	/* The ACPI power button: no guest agent is assumed. */
	if (virDomainShutdownFlags(dom, VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN) < 0)
		return hva_virt_err(err, -EIO, "cannot shut domain %s down", name);
	return 0;
}

static int qemu_reboot(virDomainPtr dom, struct vdc_err *err)
{
	const char *name = virDomainGetName(dom);

	if (virDomainReboot(dom, VIR_DOMAIN_REBOOT_ACPI_POWER_BTN) < 0)
		return hva_virt_err(err, -EIO, "cannot reboot domain %s", name);
	return 0;
}

const struct hva_driver hva_driver_qemu = {
	.name = "qemu",
	.default_uri = "qemu:///system",
	.needs_image = true,
	.volumes = true,
	.disks = true,
	.probe = qemu_probe,
	.prepare = qemu_prepare,
	.domain_xml = qemu_domain_xml,
	.start = hva_virt_start,
	.shutdown = qemu_shutdown,
	.destroy = hva_virt_destroy,
	.reboot = qemu_reboot,
	.reset = hva_virt_reset,
};
