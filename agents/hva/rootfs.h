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
 * Containers are not root on the host. Each runs in a user namespace of
 * its own (libvirt's <idmap>) whose ids 0..65535 are the host ids
 * BASE..BASE+65535 of a block of HVA_IDMAP_COUNT ids given to the
 * instance alone: the lowest block free on this host from
 * HVA_IDMAP_FIRST on, recorded in instances/DOMAIN/idmap, so an agent
 * that restarts finds the block of a running container again. The
 * extracted image keeps the archive's owners, in a folder only root may
 * enter (0700, extracted so from the start); the overlay's lower layer is
 * an idmapped mount of it (archive owner N is host id BASE + N, read-only),
 * and the upper layer is written with the block's ids, so every file of
 * the container root is owned by the block, and a setuid file is setuid
 * to an id of the block, never to the host's root. The instance folder
 * is 0710, root's, group BASE: the container's root passes through it to
 * its root at start; other users cannot.
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
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "desired.h"
#include "disk.h"
#include "err.h"

/* The seed folder inside a container's root. */
#define HVA_ROOTFS_SEED_DIR "var/lib/cloud/seed/nocloud"

/*
 * The host ids of containers: blocks of 65536 from 0x70000000 up to
 * 0x7FFE0000 (4094 blocks), above what useradd gives to /etc/subuid
 * (login.defs' SUB_UID_MAX, 600100000) and systemd-nspawn's container
 * ranges (up to 0x6FFFFFFF), below systemd's foreign range (0x7FFE0000)
 * and 2^31 (docs/vdc-hva.md, "Containers").
 */
#define HVA_IDMAP_FIRST 0x70000000u
#define HVA_IDMAP_COUNT 65536u
#define HVA_IDMAP_BLOCKS 4094u

/* The record of an instance's block, in its folder: "BASE\n". */
#define HVA_IDMAP_FILE "idmap"

/* Where the idmapped lower layer is mounted while the overlay is made, in the instance folder. */
#define HVA_ROOTFS_LOWER "lower"

/*
 * Parse a record ("BASE", a newline allowed): 0, or -EINVAL unless BASE
 * is the first id of one of the blocks. Pure.
 */
int hva_idmap_parse(const char *text, size_t len, uint32_t *base);

/*
 * The block of the instance whose folder is p->dir: the one recorded
 * there, else the lowest free one among the host's instance folders under
 * STATEDIR/instances, recorded now, after unmounting a root an agent of
 * before the mappings left mounted there (hva_rootfs_mount() then mounts
 * it mapped and moves its upper layer into the block). -ENOSPC when every
 * block is taken; -EINVAL with a damaged record.
 */
int hva_rootfs_idmap(const char *statedir, const struct hva_inst_paths *p, uint32_t *base,
		     struct vdc_err *err);

/* The block recorded in p->dir: -ENOENT when there is none. */
int hva_rootfs_idmap_read(const struct hva_inst_paths *p, uint32_t *base, struct vdc_err *err);

/*
 * Idmapped mounts are made by the agent's own program run again as a
 * helper, `vdc-hva --idmapped-mount SOURCE BASE TARGET` (an empty TARGET:
 * only try), once hva_rootfs_helper_init() has found the program
 * (/proc/self/exe); before that, in the calling process. main() hands
 * such a command line to hva_rootfs_helper_main() first thing, whose
 * value is the exit status (its sentence on standard output).
 */
#define HVA_ROOTFS_HELPER "--idmapped-mount"
int hva_rootfs_helper_init(struct vdc_err *err);
int hva_rootfs_helper_main(int argc, char **argv);

/*
 * Whether containers' roots can be made under `dir` (the state folder):
 * a user namespace can be made and the filesystem mounted idmapped. 0,
 * or an error with a sentence naming what is missing.
 */
int hva_rootfs_idmap_probe(const char *dir, struct vdc_err *err);


/* Let the container's root (group `base`) through the instance folder: 0710. */
int hva_rootfs_dir_open(const struct hva_inst_paths *p, uint32_t base, struct vdc_err *err);

/*
 * The extracted root of the cached image `image_path` (the tarball named
 * by `sha256` in the cache folder `cache_dir`), in `out` (PATH_MAX):
 * extracted now unless it is there already; 0700 and root's either way.
 */
int hva_rootfs_extract(const char *cache_dir, const char *sha256, char *out, struct vdc_err *err);

/* Whether `path` is a mount point (the root of a mount, also a bind mount). */
bool hva_rootfs_mounted(const char *path);

/*
 * Mount the instance's copy-on-write root on p->rootfs unless it is
 * mounted already: lower, `lower` mapped to the block from `base` (an
 * idmapped mount on p->dir/lower, detached again once the overlay holds
 * it); upper, p->upper, whose entries are moved into the block first if
 * it is new or older than the mappings.
 */
int hva_rootfs_mount(const struct hva_inst_paths *p, const char *lower, uint32_t base, struct vdc_err *err);

/*
 * Undo the mount of p->rootfs, if there is one (lazily: MNT_DETACH), and
 * of an idmapped lower layer a crash left on p->dir/lower.
 */
int hva_rootfs_unmount(const struct hva_inst_paths *p, struct vdc_err *err);

/*
 * Write the NoCloud seed folder of `in` into the container root `root`
 * (network-config only with NICs; a stale one is removed), its files and
 * the folders made for them owned by `uid` and `gid` (the container's
 * root: the first id of its block).
 */
int hva_rootfs_seed(const char *root, const struct hva_instance_spec *in, uid_t uid, gid_t gid,
		    struct vdc_err *err);

#endif
