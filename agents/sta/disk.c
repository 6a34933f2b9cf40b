/*
 * Volumes made from images: an instance's disk is a volume whose entry
 * names an image ("image", docs/storage.md). When the volume's file does
 * not exist yet it is made from the image instead of empty: the image is
 * fetched once into the cache as a raw disk (STATE/images/SHA256.raw; a
 * qcow2 image converted once, agents/common/image_cache.c), then the
 * copier clones that file into the volume's (FICLONE: on XFS or btrfs
 * the two share every block, in a time that does not grow with the
 * image) or, where the filesystem cannot, copies its data ranges with
 * their holes kept, and grows it to the volume's size. Once the file
 * exists the image is never looked at again.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "log.h"
#include "sta.h"

int sta_disk_image_ready(struct sta *s, const struct sta_volume_spec *v, struct vdc_err *err)
{
	char path[PATH_MAX];
	struct stat sb;
	int rc;

	if (v->image.pending)
		return vdc_err_set(err, -EINPROGRESS, "vdcfs is computing the checksum of image %s", v->image.name);
	/* A raw image's size is its disk's: a disk too small is said before any fetch. */
	if (v->image.format == VDC_IMAGE_FORMAT_RAW && v->image.size) {
		rc = sta_image_fits(v, v->image.size, err);
		if (rc < 0)
			return rc;
	}
	rc = vdc_image_want(&s->images, &v->image, path, err);
	if (rc < 0)
		return rc;
	if (stat(path, &sb) < 0)
		return vdc_err_set(err, -errno, "cannot stat %s: %s", path, strerror(errno));
	return sta_image_fits(v, (uint64_t)sb.st_size, err);
}

int sta_disk_make(struct sta *s, const struct sta_job *job, sta_copy_cb cb, void *arg, struct vdc_err *err)
{
	char raw[PATH_MAX], tmp[PATH_MAX], final[PATH_MAX], dir[PATH_MAX];
	struct stat sb;
	bool cloned = false;
	int src, dst, rc = 0;

	vdc_path(raw, "%s/%s" VDC_IMAGE_RAW_SUFFIX, s->images.dir, job->sha256);
	sta_volume_tmp_path(s, job->vol_id, tmp);
	sta_volume_path(s, job->vol_id, final);
	vdc_path(dir, "%s/volumes", s->statedir);
	src = open(raw, O_RDONLY | O_CLOEXEC);
	if (src < 0)
		return vdc_err_set(err, -errno, "cannot open the raw disk of image %s: %s", job->snap_name, strerror(errno));
	/* What a kill left of an earlier try goes: it is made again from the start. */
	unlink(tmp);
	dst = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (dst < 0) {
		rc = vdc_err_set(err, -errno, "cannot make %s: %s", tmp, strerror(errno));
		close(src);
		return rc;
	}
	rc = sta_copy_snapshot(src, dst, &cloned, cb, arg, err);
	if (rc == 0 && fstat(dst, &sb) < 0)
		rc = vdc_err_set(err, -errno, "cannot stat %s: %s", tmp, strerror(errno));
	if (rc == 0 && (uint64_t)sb.st_size < job->size && ftruncate(dst, (off_t)job->size) < 0)
		rc = vdc_err_set(err, -errno, "cannot size %s to %" PRIu64 " bytes: %s", tmp, job->size, strerror(errno));
	if (rc == 0 && fsync(dst) < 0)
		rc = vdc_err_set(err, -errno, "cannot sync %s: %s", tmp, strerror(errno));
	close(src);
	close(dst);
	/* The volume's file appears whole, or not at all. */
	if (rc == 0 && rename(tmp, final) < 0)
		rc = vdc_err_set(err, -errno, "cannot rename %s: %s", tmp, strerror(errno));
	if (rc == 0)
		rc = vdc_dir_sync(dir, err);
	if (rc < 0) {
		unlink(tmp);
		return rc;
	}
	log_info("volume %" PRIu64 ": made from image %s (%.12s...)%s, %" PRIu64 " bytes", job->vol_id, job->snap_name,
		 job->sha256, cloned ? " by sharing extents (FICLONE)" : " by a sparse copy", job->size);
	return 0;
}

void sta_disk_prune(struct sta *s, const struct sta_desired *d)
{
	const char **keep = xcalloc(d->n + 1, sizeof(*keep));
	size_t i, n = 0;

	/* Every volume that names an image keeps it, made or not: the next disk from it is a clone. */
	for (i = 0; i < d->n; i++)
		if (d->vol[i].image.present && !d->vol[i].image.pending)
			keep[n++] = d->vol[i].image.sha256;
	vdc_image_cache_prune(&s->images, keep, n);
	free(keep);
}
