/*
 * An instance's folder on the host, STATEDIR/instances/DOMAIN/:
 *
 *     disk.qcow2    the boot disk: a qcow2 overlay whose backing file is
 *                   the cached image (STATEDIR/images/SHA256)
 *     image         the SHA-256 of that image, so the cache keeps it
 *     seed.img      the NoCloud seed (seed.c), and seed/ its texts
 *     console.log   the serial console, appended to by qemu (by the
 *                   agent for containers)
 *     rootfs/       lxc: the container root, an overlayfs mount of the
 *                   extracted image (images/SHA256.rootfs) under upper/,
 *                   with overlayfs's work/ beside (rootfs.h)
 *
 * The folder is 0711 and its files 0600: qemu, which libvirt may run as
 * another user, reaches the files by name once libvirt (dynamic_ownership)
 * has given them to it; other users cannot list or read them. A
 * container's folder is 0710 instead, group its root's host id (rootfs.h).
 */
#ifndef VDC_HVA_DISK_H
#define VDC_HVA_DISK_H

#include <limits.h>

#include "desired.h"
#include "err.h"

struct hva_inst_paths {
	char dir[PATH_MAX];
	char disk[PATH_MAX];
	char image_ref[PATH_MAX];
	char seed[PATH_MAX];
	char console[PATH_MAX];
	char rootfs[PATH_MAX];      /* lxc: the container root, an overlayfs mount */
	char upper[PATH_MAX];       /* lxc: its upper layer */
	char work[PATH_MAX];        /* lxc: overlayfs's work folder */
};

void hva_inst_paths(const char *statedir, const char *domain, struct hva_inst_paths *p);

/* Make the folder with `mode` (and an empty console.log, so it can be followed at once). */
int hva_inst_dir_make(const struct hva_inst_paths *p, mode_t mode, struct vdc_err *err);

/*
 * Make the boot disk unless it exists: `qemu-img create -f qcow2 -F FMT
 * -b IMAGE` beside, then renamed into place. It takes the same time for
 * any image size. A boot disk is made once: a later change of the image
 * link does not replace the disk of an instance that has one.
 */
int hva_boot_disk_make(const struct hva_inst_paths *p, const char *image_path,
		       enum vdc_image_format format, const char *sha256, struct vdc_err *err);

/*
 * Remove the folder and everything in it; a container root mounted on
 * rootfs/ is unmounted first (rootfs.h).
 */
int hva_inst_dir_remove(const struct hva_inst_paths *p, struct vdc_err *err);

#endif
