#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "disk.h"
#include "file.h"
#include "log.h"
#include "rootfs.h"
#include "process.h"

#define QEMU_IMG_TIMEOUT_S 120

void hva_inst_paths(const char *statedir, const char *domain, struct hva_inst_paths *p)
{
	vdc_path(p->dir, "%s/instances/%s", statedir, domain);
	vdc_path(p->disk, "%s/disk.qcow2", p->dir);
	vdc_path(p->image_ref, "%s/image", p->dir);
	vdc_path(p->seed, "%s/seed.img", p->dir);
	vdc_path(p->console, "%s/console.log", p->dir);
	vdc_path(p->rootfs, "%s/rootfs", p->dir);
	vdc_path(p->upper, "%s/upper", p->dir);
	vdc_path(p->work, "%s/work", p->dir);
}

int hva_inst_dir_make(const struct hva_inst_paths *p, mode_t mode, struct vdc_err *err)
{
	int fd, rc;

	rc = vdc_mkdirs(p->dir, mode, err);
	if (rc < 0)
		return rc;
	fd = open(p->console, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		return vdc_err_set(err, -errno, "cannot create %s: %s", p->console, strerror(errno));
	close(fd);
	return 0;
}

int hva_boot_disk_make(const struct hva_inst_paths *p, const char *image_path,
		       enum vdc_image_format format, const char *sha256, struct vdc_err *err)
{
	char tmp[PATH_MAX + 8], ref[80];
	const char *argv[12];
	struct stat st;
	int rc;

	if (stat(p->disk, &st) == 0)
		return 0;
	/* The reference first: the cache must not drop an image a disk is made from. */
	snprintf(ref, sizeof(ref), "%s\n", sha256);
	rc = vdc_file_write_atomic(p->image_ref, ref, strlen(ref), 0600, err);
	if (rc < 0)
		return rc;
	snprintf(tmp, sizeof(tmp), "%s.tmp", p->disk);
	unlink(tmp);
	argv[0] = "qemu-img";
	argv[1] = "create";
	argv[2] = "-q";
	argv[3] = "-f";
	argv[4] = "qcow2";
	argv[5] = "-F";
	argv[6] = vdc_image_format_name(format);
	argv[7] = "-b";
	argv[8] = image_path;
	argv[9] = tmp;
	argv[10] = NULL;
	rc = vdc_spawn(argv, NULL, QEMU_IMG_TIMEOUT_S, err);
	if (rc < 0) {
		unlink(tmp);
		return vdc_err_wrap(err, rc, "cannot make the boot disk");
	}
	rc = vdc_file_sync(tmp, err);
	if (rc < 0) {
		unlink(tmp);
		return rc;
	}
	if (chmod(tmp, 0600) < 0 || rename(tmp, p->disk) < 0) {
		rc = vdc_err_set(err, -errno, "cannot put the boot disk in place at %s: %s", p->disk, strerror(errno));
		unlink(tmp);
		return rc;
	}
	return vdc_dir_sync(p->dir, err);
}

int hva_inst_dir_remove(const struct hva_inst_paths *p, struct vdc_err *err)
{
	int rc = hva_rootfs_unmount(p, err);

	if (rc < 0)
		return rc;
	/* A root still mounted (a container holds it) is not descended into. */
	if (hva_rootfs_mounted(p->rootfs))
		return vdc_err_set(err, -EBUSY, "the container root %s is still mounted; %s is kept", p->rootfs, p->dir);
	return vdc_remove_tree(p->dir, err);
}
