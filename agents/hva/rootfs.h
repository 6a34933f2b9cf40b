/*
 * Container roots for the lxc driver (driver_lxc.c).
 *
 * An image for containers is a tarball of a root filesystem (tar's
 * "ustar" magic at offset 257). It is extracted once per content into the
 * image cache, STATEDIR/images/SHA256.rootfs/, by `tar -x` (fork and
 * execve with an argv), into a temporary folder renamed into place when
 * tar has finished, so an extracted root is always whole. Each instance
 * then runs on a copy-on-write root: an overlayfs mount with the
 * extracted image as its lower layer and instances/DOMAIN/upper and
 * work/ as its upper layer and work folder, on instances/DOMAIN/rootfs.
 * The mount is made by the agent in its own mount namespace, which must
 * be libvirtd's, and stays while the instance exists (also across power
 * off); hva_inst_dir_remove() undoes it.
 *
 * The NoCloud seed of a container is cloud-init's seed folder,
 * /var/lib/cloud/seed/nocloud/{meta-data,user-data,network-config}, with
 * the texts of seed.c, written through the mount before each start. The
 * folders on the way are the container's, so they are walked one at a
 * time without following symbolic links: a container cannot make the
 * agent write anywhere else on the host.
 */
#ifndef VDC_HVA_ROOTFS_H
#define VDC_HVA_ROOTFS_H

#include <stdbool.h>

#include "desired.h"
#include "disk.h"
#include "err.h"

/* The seed folder inside a container's root. */
#define HVA_ROOTFS_SEED_DIR "var/lib/cloud/seed/nocloud"

/*
 * The extracted root of the cached image `image_path` (the tarball named
 * by `sha256` in the cache folder `cache_dir`), in `out` (PATH_MAX):
 * extracted now unless it is there already.
 */
int hva_rootfs_extract(const char *cache_dir, const char *sha256, char *out, struct vdc_err *err);

/* Whether `path` is a mount point (another filesystem than its parent's). */
bool hva_rootfs_mounted(const char *path);

/*
 * Mount the instance's copy-on-write root on p->rootfs (lower: `lower`)
 * unless it is mounted already.
 */
int hva_rootfs_mount(const struct hva_inst_paths *p, const char *lower, struct vdc_err *err);

/* Undo the mount of p->rootfs, if there is one (lazily: MNT_DETACH). */
int hva_rootfs_unmount(const struct hva_inst_paths *p, struct vdc_err *err);

/*
 * Write the NoCloud seed folder of `in` into the container root `root`
 * (network-config only with NICs; a stale one is removed).
 */
int hva_rootfs_seed(const char *root, const struct hva_instance_spec *in, struct vdc_err *err);

#endif
