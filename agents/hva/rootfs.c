#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "file.h"
#include "log.h"
#include "rootfs.h"
#include "seed.h"
#include "process.h"

#define TAR_TIMEOUT_S 600

static int sync_tree(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

	if (fd < 0)
		return -1;
	rc = syncfs(fd);
	close(fd);
	return rc;
}

/*
 * The extracted root holds the archive's owners and modes, setuid-root
 * files among them: only root may enter it. Containers see it through an
 * idmapped mount (hva_rootfs_mount), never by this path. A root extracted
 * by an agent of before the mappings was 0755; it is closed here too.
 */
static int close_to_others(const char *dir, struct vdc_err *err)
{
	struct stat st;

	if (lstat(dir, &st) < 0)
		return vdc_err_set(err, -errno, "cannot look at %s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return vdc_err_set(err, -ENOTDIR, "%s is not a folder", dir);
	if (st.st_uid != 0 || st.st_gid != 0 || (st.st_mode & 07777) != 0700) {
		if (lchown(dir, 0, 0) < 0 || chmod(dir, 0700) < 0)
			return vdc_err_set(err, -errno, "cannot make %s root's alone: %s", dir, strerror(errno));
	}
	return 0;
}

int hva_rootfs_extract(const char *cache_dir, const char *sha256, char *out, struct vdc_err *err)
{
	char image[PATH_MAX], tmp[PATH_MAX];
	const char *argv[12];
	struct stat st;
	int rc;

	vdc_path(out, "%s/%s.rootfs", cache_dir, sha256);
	if (stat(out, &st) == 0 && S_ISDIR(st.st_mode))
		return close_to_others(out, err);
	vdc_path(image, "%s/%s", cache_dir, sha256);
	/*
	 * ".SHA256.rootfs.XXXXXX": the cache removes it if a crash leaves it.
	 * mkdtemp makes it 0700, and it stays so (--no-overwrite-dir below):
	 * no other user ever reaches a file of the archive, not even while
	 * tar writes it.
	 */
	vdc_path(tmp, "%s/.%s.rootfs.XXXXXX", cache_dir, sha256);
	if (!mkdtemp(tmp))
		return vdc_err_set(err, -errno, "cannot make a folder to extract image %.12s... into: %s",
				   sha256, strerror(errno));
	/*
	 * GNU tar as root keeps owners and modes (numerically: the host's
	 * user names mean nothing to the container), strips a leading "/",
	 * skips members with ".." and makes symbolic links only at the end,
	 * so a member cannot be written through a link out of the folder.
	 * --no-overwrite-dir keeps the top folder's mode: the archive's "./"
	 * member would open it to everyone.
	 */
	argv[0] = "tar";
	argv[1] = "--extract";
	argv[2] = "--file";
	argv[3] = image;
	argv[4] = "--directory";
	argv[5] = tmp;
	argv[6] = "--numeric-owner";
	argv[7] = "--same-owner";
	argv[8] = "--same-permissions";
	argv[9] = "--no-overwrite-dir";
	argv[10] = NULL;
	log_info("extracting image %.12s... into the cache", sha256);
	rc = vdc_spawn(argv, NULL, TAR_TIMEOUT_S, err);
	if (rc < 0) {
		vdc_err_wrap(err, rc, "cannot extract the root filesystem of image %.12s...", sha256);
		goto fail;
	}
	if ((rc = close_to_others(tmp, err)) < 0)
		goto fail;
	/* The extracted files reach the disk before the name says they are whole. */
	if (sync_tree(tmp) < 0) {
		rc = vdc_err_set(err, -errno, "cannot sync %s: %s", tmp, strerror(errno));
		goto fail;
	}
	if (rename(tmp, out) < 0) {
		rc = vdc_err_set(err, -errno, "cannot put the root filesystem in place at %s: %s", out,
				 strerror(errno));
		goto fail;
	}
	return vdc_dir_sync(cache_dir, err);
fail:
	vdc_remove_tree(tmp, NULL);
	return rc;
}

/*
 * statx's STATX_ATTR_MOUNT_ROOT (Linux 5.8) also tells a bind mount of a
 * folder of the same filesystem, such as the idmapped lower layer, which
 * has its parent's st_dev; without it, the devices are compared.
 */
bool hva_rootfs_mounted(const char *path)
{
	char parent[PATH_MAX];
	struct statx stx;
	struct stat a, b;

	if (statx(AT_FDCWD, path, 0, STATX_BASIC_STATS, &stx) < 0)
		return false;
	if (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT)
		return (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
	vdc_path(parent, "%s/..", path);
	if (stat(path, &a) < 0 || stat(parent, &b) < 0)
		return false;
	return a.st_dev != b.st_dev;
}

int hva_idmap_parse(const char *text, size_t len, uint32_t *base)
{
	uint64_t v = 0;
	size_t i;

	if (len && text[len - 1] == '\n')
		len--;
	if (len == 0 || len > 10 || (text[0] == '0' && len > 1))
		return -EINVAL;
	for (i = 0; i < len; i++) {
		if (text[i] < '0' || text[i] > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(text[i] - '0');
	}
	if (v < HVA_IDMAP_FIRST || (v - HVA_IDMAP_FIRST) % HVA_IDMAP_COUNT != 0 ||
	    (v - HVA_IDMAP_FIRST) / HVA_IDMAP_COUNT >= HVA_IDMAP_BLOCKS)
		return -EINVAL;
	*base = (uint32_t)v;
	return 0;
}

/* The record of the instance folder `dir`: 0, -ENOENT when it has none, -EINVAL when it is not one. */
static int idmap_read_dir(const char *dir, uint32_t *base)
{
	struct strbuf text = STRBUF_INIT;
	char path[PATH_MAX];
	int rc;

	vdc_path(path, "%s/" HVA_IDMAP_FILE, dir);
	rc = vdc_file_read(path, 32, &text, NULL);
	if (rc == 0)
		rc = hva_idmap_parse(text.buf, text.len, base);
	else if (rc != -ENOENT)
		rc = -EINVAL;
	strbuf_release(&text);
	return rc;
}

int hva_rootfs_idmap_read(const struct hva_inst_paths *p, uint32_t *base, struct vdc_err *err)
{
	int rc = idmap_read_dir(p->dir, base);

	if (rc == -ENOENT)
		return vdc_err_set(err, rc, "%s has no user-namespace mapping (%s) yet", p->dir, HVA_IDMAP_FILE);
	if (rc < 0)
		return vdc_err_set(err, rc, "%s/%s is not a block of host ids from %u in steps of %u",
				   p->dir, HVA_IDMAP_FILE, HVA_IDMAP_FIRST, HVA_IDMAP_COUNT);
	return 0;
}

/*
 * The blocks of the host's instances are kept in their folders, so the
 * lowest free block is found by reading them all. Only the reconcile loop
 * makes instance folders, so no two runs of this race. A folder whose
 * record cannot be read keeps no block: a record is written whole
 * (vdc_file_write_atomic) or not at all. A root mounted in a folder
 * without a record was mounted unmapped, by an agent of before the
 * mappings: it is unmounted before the record says otherwise.
 */
int hva_rootfs_idmap(const char *statedir, const struct hva_inst_paths *p, uint32_t *base,
		     struct vdc_err *err)
{
	unsigned char used[HVA_IDMAP_BLOCKS];
	char dir[PATH_MAX], path[PATH_MAX], text[16];
	struct dirent *de;
	uint32_t b, i;
	DIR *d;
	int rc;

	rc = idmap_read_dir(p->dir, base);
	if (rc != -ENOENT)
		return rc < 0 ? hva_rootfs_idmap_read(p, base, err) : 0;
	if ((rc = hva_rootfs_unmount(p, err)) < 0)
		return rc;
	memset(used, 0, sizeof(used));
	vdc_path(dir, "%s/instances", statedir);
	d = opendir(dir);
	if (!d)
		return vdc_err_set(err, -errno, "cannot read %s: %s", dir, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		vdc_path(path, "%s/%s", dir, de->d_name);
		if (idmap_read_dir(path, &b) == 0)
			used[(b - HVA_IDMAP_FIRST) / HVA_IDMAP_COUNT] = 1;
	}
	closedir(d);
	for (i = 0; i < HVA_IDMAP_BLOCKS && used[i]; i++)
		;
	if (i == HVA_IDMAP_BLOCKS)
		return vdc_err_set(err, -ENOSPC, "all %u blocks of host ids for containers are taken on this host",
				   HVA_IDMAP_BLOCKS);
	*base = HVA_IDMAP_FIRST + i * HVA_IDMAP_COUNT;
	snprintf(text, sizeof(text), "%" PRIu32 "\n", *base);
	vdc_path(path, "%s/" HVA_IDMAP_FILE, p->dir);
	return vdc_file_write_atomic(path, text, strlen(text), 0600, err);
}

int hva_rootfs_dir_open(const struct hva_inst_paths *p, uint32_t base, struct vdc_err *err)
{
	if (lchown(p->dir, 0, base) < 0 || chmod(p->dir, 0710) < 0)
		return vdc_err_set(err, -errno, "cannot give %s to the container's group %" PRIu32 ": %s", p->dir,
				   base, strerror(errno));
	return 0;
}

/* overlayfs splits its options at ',' and lowerdir at ':'; such paths cannot be said. */
static int option_path_ok(const char *path, struct vdc_err *err)
{
	if (strpbrk(path, ",:\\"))
		return vdc_err_set(err, -EINVAL, "the path %s holds ',', ':' or '\\', which overlayfs options cannot carry",
				   path);
	return 0;
}

/* nftw has no argument for its callback: the block of the walk under way (the reconcile loop's). */
static uint32_t shift_base;

/*
 * Move one entry of an upper layer into the block: ids below
 * HVA_IDMAP_COUNT (the container's own, written before it had a mapping)
 * become BASE + id; others are left. chown clears setuid and setgid, so
 * the mode is put back: such a file is then setuid to an id of the block.
 */
static int shift_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	uid_t uid = st->st_uid < HVA_IDMAP_COUNT ? shift_base + st->st_uid : st->st_uid;
	gid_t gid = st->st_gid < HVA_IDMAP_COUNT ? shift_base + st->st_gid : st->st_gid;

	(void)ftw;
	if (flag == FTW_NS || (uid == st->st_uid && gid == st->st_gid))
		return 0;
	if (lchown(path, uid, gid) < 0)
		return -1;
	if (!S_ISLNK(st->st_mode) && (st->st_mode & (S_ISUID | S_ISGID)) && chmod(path, st->st_mode & 07777) < 0)
		return -1;
	return 0;
}

/*
 * Make the upper layer the block's: one made now (root's), or one a
 * container wrote before containers had mappings. Depth first, so its top
 * folder, which tells whether it is done, moves last: a walk cut short is
 * done again.
 */
static int upper_shift(const char *upper, uint32_t base, struct vdc_err *err)
{
	struct stat st;

	if (lstat(upper, &st) < 0)
		return vdc_err_set(err, -errno, "cannot look at %s: %s", upper, strerror(errno));
	if (st.st_uid >= HVA_IDMAP_COUNT)
		return 0;
	shift_base = base;
	if (nftw(upper, shift_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) != 0)
		return vdc_err_set(err, -errno, "cannot give %s to host ids from %" PRIu32 ": %s", upper, base,
				   strerror(errno));
	return 0;
}

/*
 * A user namespace whose ids 0..HVA_IDMAP_COUNT-1 are host ids from
 * `base`, as an open /proc/PID/ns/user, for mount_setattr(): a child
 * unshares one and waits; root writes its maps; the descriptor keeps the
 * namespace after the child ends. The child runs only system calls (the
 * agent has threads).
 */
static int userns_open(uint32_t base, struct vdc_err *err)
{
	int ready[2], hold[2], fd = -1, rc = 0;
	char path[64], map[64], c;
	pid_t pid;
	size_t i;

	if (pipe2(ready, O_CLOEXEC) < 0)
		return vdc_err_set(err, -errno, "cannot make a pipe: %s", strerror(errno));
	if (pipe2(hold, O_CLOEXEC) < 0) {
		rc = vdc_err_set(err, -errno, "cannot make a pipe: %s", strerror(errno));
		close(ready[0]);
		close(ready[1]);
		return rc;
	}
	pid = fork();
	if (pid == 0) {
		close(ready[0]);
		close(hold[1]);
		c = unshare(CLONE_NEWUSER) == 0 ? 'y' : 'n';
		if (write(ready[1], &c, 1) != 1)
			_exit(1);
		while (read(hold[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(ready[1]);
	close(hold[0]);
	if (pid < 0) {
		rc = vdc_err_set(err, -errno, "cannot fork: %s", strerror(errno));
		goto out;
	}
	while (read(ready[0], &c, 1) != 1) {
		if (errno == EINTR)
			continue;
		c = 'n';
		break;
	}
	if (c != 'y') {
		rc = vdc_err_set(err, -EPERM, "cannot make a user namespace (user.max_user_namespaces?)");
		goto out;
	}
	snprintf(map, sizeof(map), "0 %" PRIu32 " %u\n", base, HVA_IDMAP_COUNT);
	for (i = 0; i < 2 && rc == 0; i++) {
		snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, i ? "gid_map" : "uid_map");
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, map, strlen(map)) != (ssize_t)strlen(map))
			rc = vdc_err_set(err, -errno, "cannot write %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	if (rc == 0) {
		snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			rc = vdc_err_set(err, -errno, "cannot open %s: %s", path, strerror(errno));
	}
out:
	close(ready[0]);
	close(hold[1]);   /* the child ends */
	if (pid > 0)
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	return rc < 0 ? rc : fd;
}

/* Detach an idmapped lower layer a crash left mounted (the overlay holds its own copy). */
static int lower_unmount(const struct hva_inst_paths *p, struct vdc_err *err)
{
	char lower[PATH_MAX];

	vdc_path(lower, "%s/" HVA_ROOTFS_LOWER, p->dir);
	if (!hva_rootfs_mounted(lower))
		return 0;
	if (umount2(lower, MNT_DETACH | UMOUNT_NOFOLLOW) < 0 && errno != EINVAL && errno != ENOENT)
		return vdc_err_set(err, -errno, "cannot unmount %s: %s", lower, strerror(errno));
	return 0;
}

/*
 * A copy of the mount of `src` whose owners N are host ids BASE + N
 * (mount_setattr(MOUNT_ATTR_IDMAP)), read-only, without devices: put on
 * `at`, or, with `at` NULL, only made (a probe) and dropped.
 */
static int idmapped_clone(const char *src, uint32_t base, const char *at, struct vdc_err *err)
{
	struct mount_attr attr = {
		.attr_set = MOUNT_ATTR_IDMAP | MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV,
	};
	int tree, ns, rc = 0;

	ns = userns_open(base, err);
	if (ns < 0)
		return ns;
	attr.userns_fd = (uint64_t)ns;
	tree = open_tree(AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (tree < 0) {
		rc = vdc_err_set(err, -errno, "cannot clone the mount of %s: %s", src, strerror(errno));
		goto out;
	}
	if (mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0)
		rc = vdc_err_set(err, -errno, "the filesystem of %s cannot be mounted idmapped, which containers' roots need (Linux 5.19 or later; ext4, xfs or btrfs): %s",
				 src, strerror(errno));
	else if (at && move_mount(tree, "", AT_FDCWD, at, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		rc = vdc_err_set(err, -errno, "cannot mount %s on %s: %s", src, at, strerror(errno));
	close(tree);   /* a mount never attached goes with it */
out:
	close(ns);
	return rc;
}

/* The agent's program, run as its own helper for idmapped mounts; empty: they are made here. */
static char helper_path[PATH_MAX];

int hva_rootfs_helper_init(struct vdc_err *err)
{
	ssize_t n = readlink("/proc/self/exe", helper_path, sizeof(helper_path) - 1);

	if (n <= 0 || (size_t)n >= sizeof(helper_path) - 1) {
		helper_path[0] = '\0';
		return vdc_err_set(err, n < 0 ? -errno : -ENAMETOOLONG, "cannot tell the path of this program (/proc/self/exe)");
	}
	helper_path[n] = '\0';
	return 0;
}

int hva_rootfs_helper_main(int argc, char **argv)
{
	struct vdc_err err = VDC_ERR_INIT;
	uint32_t base;
	int rc;

	if (argc != 5 || strcmp(argv[1], HVA_ROOTFS_HELPER) != 0 || argv[2][0] != '/' ||
	    (argv[4][0] && argv[4][0] != '/') || hva_idmap_parse(argv[3], strlen(argv[3]), &base) < 0) {
		printf("usage: vdc-hva %s SOURCE BASE TARGET (an empty TARGET: only try)\n", HVA_ROOTFS_HELPER);
		return 2;
	}
	rc = idmapped_clone(argv[2], base, argv[4][0] ? argv[4] : NULL, &err);
	if (rc < 0)
		printf("%s\n", err.msg);
	return rc < 0 ? 1 : 0;
}

/*
 * idmapped_clone(), in a process of its own when the agent has its path:
 * what runs under valgrind (3.19 knows neither open_tree nor
 * mount_setattr) then still runs them, in a child it does not follow.
 * The child's sentence is the error's.
 */
static int idmapped(const char *src, uint32_t base, const char *at, struct vdc_err *err)
{
	struct strbuf said = STRBUF_INIT;
	char text[16];
	const char *argv[] = { helper_path, HVA_ROOTFS_HELPER, src, text, at ? at : "", NULL };
	int rc;

	if (!helper_path[0])
		return idmapped_clone(src, base, at, err);
	snprintf(text, sizeof(text), "%" PRIu32, base);
	rc = vdc_spawn_output(argv, NULL, 60, &said, VDC_ERR_MSG_MAX, err);
	if (rc < 0 && said.len) {
		while (said.len && said.buf[said.len - 1] == '\n')
			strbuf_setlen(&said, said.len - 1);
		vdc_err_set(err, rc, "%s", said.buf);
	}
	strbuf_release(&said);
	return rc;
}

/* The extracted image `lower` mapped to the block from `base`, on `at` (p->dir/lower). */
static int lower_mount(const struct hva_inst_paths *p, const char *lower, uint32_t base, char *at,
		       struct vdc_err *err)
{
	int rc;

	vdc_path(at, "%s/" HVA_ROOTFS_LOWER, p->dir);
	if ((rc = lower_unmount(p, err)) < 0 || (rc = vdc_mkdirs(at, 0700, err)) < 0)
		return rc;
	return idmapped(lower, base, at, err);
}

int hva_rootfs_idmap_probe(const char *dir, struct vdc_err *err)
{
	return idmapped(dir, HVA_IDMAP_FIRST, NULL, err);
}

int hva_rootfs_mount(const struct hva_inst_paths *p, const char *lower, uint32_t base, struct vdc_err *err)
{
	char opts[3 * PATH_MAX + 64], mapped[PATH_MAX];
	int rc;

	if (hva_rootfs_mounted(p->rootfs))
		return 0;
	vdc_path(mapped, "%s/" HVA_ROOTFS_LOWER, p->dir);
	if ((rc = option_path_ok(mapped, err)) < 0 || (rc = option_path_ok(p->upper, err)) < 0 ||
	    (rc = option_path_ok(p->work, err)) < 0)
		return rc;
	if ((rc = vdc_mkdirs(p->upper, 0755, err)) < 0 || (rc = vdc_mkdirs(p->work, 0700, err)) < 0 ||
	    (rc = vdc_mkdirs(p->rootfs, 0700, err)) < 0)
		return rc;
	/* The container's "/" is the upper layer's top folder: the container's root owns it. */
	if ((rc = upper_shift(p->upper, base, err)) < 0)
		return rc;
	if ((rc = lower_mount(p, lower, base, mapped, err)) < 0)
		return rc;
	snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s", mapped, p->upper, p->work);
	if (mount("overlay", p->rootfs, "overlay", MS_NODEV, opts) < 0)
		rc = vdc_err_set(err, -errno, "cannot mount the container root %s (overlayfs on %s, mapped from %s): %s",
				 p->rootfs, mapped, lower, strerror(errno));
	/* The overlay keeps a private copy of its lower layer: the mount on `mapped` goes. */
	if (umount2(mapped, MNT_DETACH | UMOUNT_NOFOLLOW) < 0 && rc == 0)
		rc = vdc_err_set(err, -errno, "cannot unmount %s: %s", mapped, strerror(errno));
	return rc;
}

int hva_rootfs_unmount(const struct hva_inst_paths *p, struct vdc_err *err)
{
	int rc = lower_unmount(p, err);

	if (rc < 0 || !hva_rootfs_mounted(p->rootfs))
		return rc;
	if (umount2(p->rootfs, MNT_DETACH | UMOUNT_NOFOLLOW) < 0 && errno != EINVAL && errno != ENOENT)
		return vdc_err_set(err, -errno, "cannot unmount the container root %s: %s", p->rootfs,
				   strerror(errno));
	return 0;
}

/*
 * Open the folder `rel` below the folder `dirfd`, making each missing
 * component (0755, the container's root's: `uid`, `gid`), without
 * following a symbolic link on the way.
 */
static int open_dir_beneath(int dirfd, const char *rel, uid_t uid, gid_t gid, struct vdc_err *err)
{
	char buf[PATH_MAX], *comp, *next;
	int fd = dup(dirfd);

	if (fd < 0)
		return vdc_err_set(err, -errno, "cannot duplicate a folder descriptor: %s", strerror(errno));
	snprintf(buf, sizeof(buf), "%s", rel);
	for (comp = buf; comp && *comp; comp = next) {
		int sub;

		next = strchr(comp, '/');
		if (next)
			*next++ = '\0';
		if (!*comp)
			continue;
		if (mkdirat(fd, comp, 0755) < 0) {
			int e = errno;

			if (e != EEXIST) {
				close(fd);
				return vdc_err_set(err, -e, "cannot make folder /%s in the container: %s", rel,
						   strerror(e));
			}
		} else if (fchownat(fd, comp, uid, gid, AT_SYMLINK_NOFOLLOW) < 0) {
			int e = errno;

			close(fd);
			return vdc_err_set(err, -e, "cannot give folder /%s to the container's root: %s", rel,
					   strerror(e));
		}
		sub = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0) {
			int e = errno;

			close(fd);
			if (e == ELOOP || e == ENOTDIR)
				return vdc_err_set(err, -e, "/%s in the container is not a folder (a symbolic link?); the NoCloud seed is not written through it",
						   rel);
			return vdc_err_set(err, -e, "cannot open folder /%s in the container: %s", rel, strerror(e));
		}
		close(fd);
		fd = sub;
	}
	return fd;
}

/*
 * Replace `name` in the folder `dirfd` with `text`, 0600 and the
 * container's root's (`uid`, `gid`): a temporary file, then rename.
 */
static int write_at(int dirfd, const char *name, const struct strbuf *text, uid_t uid, gid_t gid,
		    struct vdc_err *err)
{
	char tmp[VDC_NAME_MAX + 32];
	const char *p = text->buf;
	size_t left = text->len;
	int fd, rc = 0;

	snprintf(tmp, sizeof(tmp), ".%s.vdc-tmp", name);
	unlinkat(dirfd, tmp, 0);
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return vdc_err_set(err, -errno, "cannot create %s in the container's seed folder: %s", name,
				   strerror(errno));
	if (fchown(fd, uid, gid) < 0)
		rc = vdc_err_set(err, -errno, "cannot give %s to the container's root: %s", name, strerror(errno));
	while (left && rc == 0) {
		ssize_t n = write(fd, p, left);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = vdc_err_set(err, -errno, "cannot write %s in the container's seed folder: %s", name,
					 strerror(errno));
			break;
		}
		p += n;
		left -= (size_t)n;
	}
	if (rc == 0 && fsync(fd) < 0)
		rc = vdc_err_set(err, -errno, "cannot sync %s: %s", name, strerror(errno));
	close(fd);
	if (rc == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
		rc = vdc_err_set(err, -errno, "cannot put %s in place in the container's seed folder: %s", name,
				 strerror(errno));
	if (rc < 0)
		unlinkat(dirfd, tmp, 0);
	return rc;
}

int hva_rootfs_seed(const char *root, const struct hva_instance_spec *in, uid_t uid, gid_t gid,
		    struct vdc_err *err)
{
	struct strbuf meta = STRBUF_INIT, user = STRBUF_INIT, net = STRBUF_INIT;
	int rootfd, dirfd, rc;

	rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return vdc_err_set(err, -errno, "cannot open the container root %s: %s", root, strerror(errno));
	dirfd = open_dir_beneath(rootfd, HVA_ROOTFS_SEED_DIR, uid, gid, err);
	close(rootfd);
	if (dirfd < 0)
		return dirfd;
	hva_seed_meta_data(in, &meta);
	strbuf_add(&user, in->user_data, in->user_data_len);
	hva_seed_network_config(in, &net);
	rc = write_at(dirfd, "meta-data", &meta, uid, gid, err);
	if (rc == 0)
		rc = write_at(dirfd, "user-data", &user, uid, gid, err);
	if (rc == 0 && net.len)
		rc = write_at(dirfd, "network-config", &net, uid, gid, err);
	else if (rc == 0 && unlinkat(dirfd, "network-config", 0) < 0 && errno != ENOENT)
		rc = vdc_err_set(err, -errno, "cannot remove the stale network-config: %s", strerror(errno));
	close(dirfd);
	strbuf_release(&meta);
	strbuf_release(&user);
	strbuf_release(&net);
	return rc;
}
