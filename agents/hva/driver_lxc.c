/*
 * The lxc driver: containers under libvirt's lxc driver, behind the same
 * table as qemu. A container's root is a folder, STATEDIR/instances/
 * DOMAIN/rootfs. Disk images (what vdcfs's images are) cannot be a
 * container's root without a loop mount, so an instance with an image is
 * refused for now; one without gets a root made from the host's static
 * busybox, whose init runs until it is shut down. docs/vdc-hva.md says
 * what is missing.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "disk.h"
#include "file.h"
#include "hva.h"
#include "log.h"
#include "spawn.h"

#define BUSYBOX "/bin/busybox"

static int lxc_probe(struct hva *h, struct vdc_err *err)
{
	virConnectPtr conn = hva_libvirt_get(h);
	const char *type;
	int rc = 0;

	if (!conn)
		return vdc_err_set(err, -ENOTCONN, "libvirt is not connected");
	type = virConnectGetType(conn);
	if (!type || strcmp(type, "LXC") != 0)
		rc = vdc_err_set(err, -EINVAL, "--driver lxc needs an lxc connection (--connect lxc:///system), not %s",
				 type ? type : "an unknown one");
	virConnectClose(conn);
	h->domain_type = HVA_DOMAIN_LXC;
	snprintf(h->virt, sizeof(h->virt), "lxc");
	return rc;
}

static int write_small(const char *path, const char *text, mode_t mode, struct vdc_err *err)
{
	return vdc_file_write_atomic(path, text, strlen(text), mode, err);
}

/* A busybox root: the applets, an inittab, and the folders init mounts on. */
static int make_busybox_root(const char *root, const struct hva_instance_spec *in, struct vdc_err *err)
{
	static const char *const dirs[] = { "bin", "sbin", "etc", "proc", "sys", "dev", "tmp", "root", "run" };
	static const char *const links[] = { "bin/sh", "sbin/init", "sbin/poweroff", "sbin/reboot",
					     "bin/hostname", "bin/echo", "bin/sleep" };
	char path[PATH_MAX], text[1024];
	const char *argv[4];
	size_t i;
	int rc;

	if (access(BUSYBOX, X_OK) < 0)
		return vdc_err_set(err, -ENOENT, "%s is not installed (apt-get install busybox-static)", BUSYBOX);
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		vdc_path(path, "%s/%s", root, dirs[i]);
		if ((rc = vdc_mkdirs(path, 0755, err)) < 0)
			return rc;
	}
	vdc_path(path, "%s/bin/busybox", root);
	argv[0] = "cp";
	argv[1] = BUSYBOX;
	argv[2] = path;
	argv[3] = NULL;
	if ((rc = hva_spawn(argv, NULL, 60, err)) < 0)
		return rc;
	for (i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		vdc_path(path, "%s/%s", root, links[i]);
		unlink(path);
		if (symlink("/bin/busybox", path) < 0)
			return vdc_err_set(err, -errno, "cannot link %s: %s", path, strerror(errno));
	}
	vdc_path(path, "%s/etc/inittab", root);
	snprintf(text, sizeof(text),
		 "::sysinit:/bin/hostname %s\n"
		 "::sysinit:/bin/echo vdc-guest: hostname %s\n"
		 "::sysinit:/bin/echo vdc-guest: ready\n"
		 "::respawn:/bin/sleep 3600\n"
		 "::shutdown:/bin/echo vdc-guest: shutting down\n",
		 in->hostname, in->hostname);
	return write_small(path, text, 0644, err);
}

static int lxc_prepare(struct hva *h, const struct hva_instance_spec *in, const char *image_path,
		       struct vdc_err *err)
{
	struct hva_inst_paths p;
	char init[PATH_MAX];
	int rc;

	if (image_path)
		return vdc_err_set(err, -ENOTSUP, "the lxc driver cannot boot disk image %s yet; unlink the image to run a busybox container",
				   in->image.name);
	hva_inst_paths(h->statedir, in->domain, &p);
	rc = hva_inst_dir_make(&p, err);
	if (rc < 0)
		return rc;
	vdc_path(init, "%s/sbin/init", p.rootfs);
	if (access(init, F_OK) == 0)
		return 0;
	return make_busybox_root(p.rootfs, in, err);
}

static int lxc_domain_xml(struct hva *h, const struct hva_instance_spec *in, const struct hva_meta *meta,
			  const char *uuid, struct strbuf *out, struct vdc_err *err)
{
	struct hva_inst_paths p;
	struct hva_domain_def def = {
		.type = HVA_DOMAIN_LXC,
		.name = in->domain,
		.uuid = uuid,
		.cpus = in->cpus,
		.memory_mib = in->memory_mib,
		.init_path = "/sbin/init",
		.meta = meta,
	};

	hva_inst_paths(h->statedir, in->domain, &p);
	def.rootfs_path = p.rootfs;
	def.console_path = p.console;
	return hva_domain_xml(&def, out, err);
}

const struct hva_driver hva_driver_lxc = {
	.name = "lxc",
	.default_uri = "lxc:///system",
	.needs_image = false,
	.probe = lxc_probe,
	.prepare = lxc_prepare,
	.domain_xml = lxc_domain_xml,
	.start = hva_virt_start,
	.shutdown = hva_virt_shutdown,
	.destroy = hva_virt_destroy,
	.reboot = hva_virt_reboot,
	.reset = NULL,            /* a container has no reset button */
};
