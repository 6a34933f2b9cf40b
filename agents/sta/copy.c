/*
 * Copies of volume files: snapshots (volume -> new file) and restores
 * (snapshot -> volume, in place). Holes stay holes: only the data ranges
 * of the source (SEEK_DATA/SEEK_HOLE) are copied, with copy_file_range
 * (the kernel copies, or shares blocks where the filesystem can), falling
 * back to read and write of non-zero blocks.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sta.h"

/* Bytes copied between two progress calls. */
#define CHUNK (64ULL << 20)
#define BUF_SIZE (1u << 20)
/*
 * How long after reading the source's ctime the copy starts: longer than
 * the kernel's timestamp granularity (a jiffy), so a write during the copy
 * always moves the ctime past the one read.
 */
#define SETTLE_MS 20

static bool all_zero(const unsigned char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

/* Copy [off, off+len) by read and write, skipping blocks of zeros (dst is sparse there). */
static int copy_rw(int src, int dst, uint64_t off, uint64_t len, struct vdc_err *err)
{
	unsigned char *buf = xmalloc(BUF_SIZE);
	int rc = 0;

	while (len) {
		size_t want = len < BUF_SIZE ? (size_t)len : BUF_SIZE;
		ssize_t n = pread(src, buf, want, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = vdc_err_set(err, n < 0 ? -errno : -EIO, "cannot read the source at %" PRIu64 ": %s", off,
					 n < 0 ? strerror(errno) : "it ended early");
			break;
		}
		if (!all_zero(buf, (size_t)n) && pwrite(dst, buf, (size_t)n, (off_t)off) != n) {
			rc = vdc_err_set(err, -errno ? -errno : -EIO, "cannot write the copy at %" PRIu64 ": %s", off,
					 strerror(errno));
			break;
		}
		off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	free(buf);
	return rc;
}

/* Copy [off, off+len) of src to the same offset of dst. */
static int copy_range(int src, int dst, uint64_t off, uint64_t len, bool *use_cfr, struct vdc_err *err)
{
	while (len && *use_cfr) {
		loff_t in = (loff_t)off, out = (loff_t)off;
		ssize_t n = copy_file_range(src, &in, dst, &out, (size_t)len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP)) {
			*use_cfr = false;
			break;
		}
		if (n < 0)
			return vdc_err_set(err, -errno, "cannot copy at %" PRIu64 ": %s", off, strerror(errno));
		if (n == 0)
			return vdc_err_set(err, -EIO, "the source ended at %" PRIu64 " while it was copied", off);
		off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	return len ? copy_rw(src, dst, off, len, err) : 0;
}

/* Copy the data ranges of src's first `size` bytes into dst, calling `cb` every CHUNK. */
static int copy_data(int src, int dst, uint64_t size, sta_copy_cb cb, void *arg, struct vdc_err *err)
{
	bool use_cfr = true;
	uint64_t pos = 0;

	while (pos < size) {
		off_t data = lseek(src, (off_t)pos, SEEK_DATA), hole;
		uint64_t end, len;
		int rc;

		if (data < 0 && errno == ENXIO)
			break;
		if (data < 0)
			return vdc_err_set(err, -errno, "cannot find the data of the source: %s", strerror(errno));
		hole = lseek(src, data, SEEK_HOLE);
		if (hole < 0)
			return vdc_err_set(err, -errno, "cannot find the holes of the source: %s", strerror(errno));
		end = (uint64_t)hole < size ? (uint64_t)hole : size;
		if ((uint64_t)data >= end)
			break;
		/* A long data range is copied in chunks, so progress is told and a cancel heard. */
		len = end - (uint64_t)data < CHUNK ? end - (uint64_t)data : CHUNK;
		rc = copy_range(src, dst, (uint64_t)data, len, &use_cfr, err);
		if (rc < 0)
			return rc;
		pos = (uint64_t)data + len;
		if (cb && !cb(arg, pos, size))
			return vdc_err_set(err, -ECANCELED, "the copy is no longer wanted");
	}
	return 0;
}

static bool same_ctime(const struct stat *a, const struct stat *b)
{
	return a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec &&
	       a->st_size == b->st_size;
}

int sta_copy_snapshot(int src, int dst, bool *cloned, sta_copy_cb cb, void *arg, struct vdc_err *err)
{
	struct timespec settle = { 0, SETTLE_MS * 1000000L };
	struct stat before, after;
	int rc;

	*cloned = false;
	if (ioctl(dst, FICLONE, src) == 0) {
		*cloned = true;
		if (fstat(src, &before) == 0 && cb)
			cb(arg, (uint64_t)before.st_size, (uint64_t)before.st_size);
		return 0;
	}
	if (fstat(src, &before) < 0)
		return vdc_err_set(err, -errno, "cannot stat the volume: %s", strerror(errno));
	nanosleep(&settle, NULL);
	if (ftruncate(dst, before.st_size) < 0)
		return vdc_err_set(err, -errno, "cannot size the snapshot: %s", strerror(errno));
	rc = copy_data(src, dst, (uint64_t)before.st_size, cb, arg, err);
	if (rc < 0)
		return rc;
	if (fstat(src, &after) < 0)
		return vdc_err_set(err, -errno, "cannot stat the volume: %s", strerror(errno));
	if (!same_ctime(&before, &after))
		return vdc_err_set(err, -EAGAIN, "the volume was written while it was copied");
	return 0;
}

int sta_copy_restore(int src, int dst, bool *cloned, sta_copy_cb cb, void *arg, struct vdc_err *err)
{
	struct stat s, d;
	off_t size;

	if (fstat(src, &s) < 0 || fstat(dst, &d) < 0)
		return vdc_err_set(err, -errno, "cannot stat the snapshot or the volume: %s", strerror(errno));
	size = s.st_size > d.st_size ? s.st_size : d.st_size;
	/* Every byte of the volume goes (a hole reads as zeros), then the snapshot's come. */
	if (ftruncate(dst, 0) < 0 || ftruncate(dst, size) < 0)
		return vdc_err_set(err, -errno, "cannot empty the volume: %s", strerror(errno));
	if (ioctl(dst, FICLONE, src) == 0) {
		if (cloned)
			*cloned = true;
		/* FICLONE may set the size to the snapshot's: the volume never shrinks. */
		if (ftruncate(dst, size) < 0)
			return vdc_err_set(err, -errno, "cannot size the volume: %s", strerror(errno));
		if (cb)
			cb(arg, (uint64_t)s.st_size, (uint64_t)s.st_size);
		return 0;
	}
	return copy_data(src, dst, (uint64_t)s.st_size, cb, arg, err);
}
