#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
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

int hva_rootfs_extract(const char *cache_dir, const char *sha256, char *out, struct vdc_err *err)
{
	char image[PATH_MAX], tmp[PATH_MAX];
	const char *argv[12];
	struct stat st;
	int rc;

	vdc_path(out, "%s/%s.rootfs", cache_dir, sha256);
	if (stat(out, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	vdc_path(image, "%s/%s", cache_dir, sha256);
	/* ".SHA256.rootfs.XXXXXX": the cache removes it if a crash leaves it. */
	vdc_path(tmp, "%s/.%s.rootfs.XXXXXX", cache_dir, sha256);
	if (!mkdtemp(tmp))
		return vdc_err_set(err, -errno, "cannot make a folder to extract image %.12s... into: %s",
				   sha256, strerror(errno));
	if (chmod(tmp, 0755) < 0) {
		rc = vdc_err_set(err, -errno, "cannot set the mode of %s: %s", tmp, strerror(errno));
		goto fail;
	}
	/*
	 * GNU tar as root keeps owners and modes (numerically: the host's
	 * user names mean nothing to the container), strips a leading "/",
	 * skips members with ".." and makes symbolic links only at the end,
	 * so a member cannot be written through a link out of the folder.
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
	argv[9] = NULL;
	log_info("extracting image %.12s... into the cache", sha256);
	rc = vdc_spawn(argv, NULL, TAR_TIMEOUT_S, err);
	if (rc < 0) {
		vdc_err_wrap(err, rc, "cannot extract the root filesystem of image %.12s...", sha256);
		goto fail;
	}
	/* tar sets the top folder's mode from the archive's "./"; a root must be reachable. */
	if (stat(tmp, &st) == 0 && (st.st_mode & 0111) != 0111)
		chmod(tmp, (st.st_mode & 07777) | 0111);
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

bool hva_rootfs_mounted(const char *path)
{
	char parent[PATH_MAX];
	struct stat a, b;

	vdc_path(parent, "%s/..", path);
	if (stat(path, &a) < 0 || stat(parent, &b) < 0)
		return false;
	return a.st_dev != b.st_dev;
}

/* overlayfs splits its options at ',' and lowerdir at ':'; such paths cannot be said. */
static int option_path_ok(const char *path, struct vdc_err *err)
{
	if (strpbrk(path, ",:\\"))
		return vdc_err_set(err, -EINVAL, "the path %s holds ',', ':' or '\\', which overlayfs options cannot carry",
				   path);
	return 0;
}

int hva_rootfs_mount(const struct hva_inst_paths *p, const char *lower, struct vdc_err *err)
{
	char opts[3 * PATH_MAX + 64];
	int rc;

	if (hva_rootfs_mounted(p->rootfs))
		return 0;
	if ((rc = option_path_ok(lower, err)) < 0 || (rc = option_path_ok(p->upper, err)) < 0 ||
	    (rc = option_path_ok(p->work, err)) < 0)
		return rc;
	if ((rc = vdc_mkdirs(p->upper, 0755, err)) < 0 || (rc = vdc_mkdirs(p->work, 0700, err)) < 0 ||
	    (rc = vdc_mkdirs(p->rootfs, 0755, err)) < 0)
		return rc;
	snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s", lower, p->upper, p->work);
	if (mount("overlay", p->rootfs, "overlay", MS_NODEV, opts) < 0)
		return vdc_err_set(err, -errno, "cannot mount the container root %s (overlayfs on %s): %s",
				   p->rootfs, lower, strerror(errno));
	return 0;
}

int hva_rootfs_unmount(const struct hva_inst_paths *p, struct vdc_err *err)
{
	if (!hva_rootfs_mounted(p->rootfs))
		return 0;
	if (umount2(p->rootfs, MNT_DETACH | UMOUNT_NOFOLLOW) < 0 && errno != EINVAL && errno != ENOENT)
		return vdc_err_set(err, -errno, "cannot unmount the container root %s: %s", p->rootfs,
				   strerror(errno));
	return 0;
}

/*
 * Open the folder `rel` below the folder `dirfd`, making each missing
 * component (0755), without following a symbolic link on the way.
 */
static int open_dir_beneath(int dirfd, const char *rel, struct vdc_err *err)
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
		if (mkdirat(fd, comp, 0755) < 0 && errno != EEXIST) {
			int e = errno;

			close(fd);
			return vdc_err_set(err, -e, "cannot make folder /%s in the container: %s", rel, strerror(e));
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

/* Replace `name` in the folder `dirfd` with `text`: a temporary file, then rename. */
static int write_at(int dirfd, const char *name, const struct strbuf *text, struct vdc_err *err)
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

int hva_rootfs_seed(const char *root, const struct hva_instance_spec *in, struct vdc_err *err)
{
	struct strbuf meta = STRBUF_INIT, user = STRBUF_INIT, net = STRBUF_INIT;
	int rootfd, dirfd, rc;

	rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return vdc_err_set(err, -errno, "cannot open the container root %s: %s", root, strerror(errno));
	dirfd = open_dir_beneath(rootfd, HVA_ROOTFS_SEED_DIR, err);
	close(rootfd);
	if (dirfd < 0)
		return dirfd;
	hva_seed_meta_data(in, &meta);
	strbuf_add(&user, in->user_data, in->user_data_len);
	hva_seed_network_config(in, &net);
	rc = write_at(dirfd, "meta-data", &meta, err);
	if (rc == 0)
		rc = write_at(dirfd, "user-data", &user, err);
	if (rc == 0 && net.len)
		rc = write_at(dirfd, "network-config", &net, err);
	else if (rc == 0 && unlinkat(dirfd, "network-config", 0) < 0 && errno != ENOENT)
		rc = vdc_err_set(err, -errno, "cannot remove the stale network-config: %s", strerror(errno));
	close(dirfd);
	strbuf_release(&meta);
	strbuf_release(&user);
	strbuf_release(&net);
	return rc;
}
