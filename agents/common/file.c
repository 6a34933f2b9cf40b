#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"

void vdc_path(char *out, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, PATH_MAX, fmt, ap);
	va_end(ap);
	if (n < 0 || n >= PATH_MAX)
		abort();
}

/* The folder part of `path`, in `out` (PATH_MAX bytes). */
static void dir_of(const char *path, char *out)
{
	char tmp[PATH_MAX];

	snprintf(tmp, sizeof(tmp), "%s", path);
	snprintf(out, PATH_MAX, "%s", dirname(tmp));
}

int vdc_file_sync(const char *path, struct vdc_err *err)
{
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return vdc_err_set(err, -errno, "cannot open %s: %s", path, strerror(errno));
	if (fsync(fd) < 0)
		rc = vdc_err_set(err, -errno, "cannot sync %s: %s", path, strerror(errno));
	close(fd);
	return rc;
}

int vdc_dir_sync(const char *dir, struct vdc_err *err)
{
	int fd, rc = 0;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return vdc_err_set(err, -errno, "cannot open folder %s: %s", dir, strerror(errno));
	if (fsync(fd) < 0)
		rc = vdc_err_set(err, -errno, "cannot sync folder %s: %s", dir, strerror(errno));
	close(fd);
	return rc;
}

int vdc_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
			  struct vdc_err *err)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	const char *p = data;
	int fd, rc;

	if (snprintf(tmp, sizeof(tmp), "%s.tmpXXXXXX", path) >= (int)sizeof(tmp))
		return vdc_err_set(err, -ENAMETOOLONG, "path %s is too long", path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return vdc_err_set(err, -errno, "cannot create a file beside %s: %s", path, strerror(errno));
	if (fchmod(fd, mode) < 0) {
		rc = vdc_err_set(err, -errno, "cannot set the mode of %s: %s", tmp, strerror(errno));
		goto fail;
	}
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = vdc_err_set(err, -errno, "cannot write %s: %s", tmp, strerror(errno));
			goto fail;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) < 0) {
		rc = vdc_err_set(err, -errno, "cannot sync %s: %s", tmp, strerror(errno));
		goto fail;
	}
	close(fd);
	fd = -1;
	if (rename(tmp, path) < 0) {
		rc = vdc_err_set(err, -errno, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
		goto fail;
	}
	dir_of(path, dir);
	return vdc_dir_sync(dir, err);
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return rc;
}

int vdc_file_read(const char *path, size_t max, struct strbuf *out, struct vdc_err *err)
{
	char buf[8192];
	size_t total = 0;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return vdc_err_set(err, -errno, "cannot open %s: %s", path, strerror(errno));
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = vdc_err_set(err, -errno, "cannot read %s: %s", path, strerror(errno));
			break;
		}
		if (n == 0)
			break;
		total += (size_t)n;
		if (total > max) {
			rc = vdc_err_set(err, -EFBIG, "%s is larger than %zu bytes", path, max);
			break;
		}
		strbuf_add(out, buf, (size_t)n);
	}
	close(fd);
	return rc;
}

int vdc_mkdirs(const char *path, mode_t mode, struct vdc_err *err)
{
	char tmp[PATH_MAX];
	size_t i, len = strlen(path);

	if (len == 0 || len >= sizeof(tmp))
		return vdc_err_set(err, -EINVAL, "'%s' is not a usable folder name", path);
	memcpy(tmp, path, len + 1);
	for (i = 1; i < len; i++) {
		if (tmp[i] != '/')
			continue;
		tmp[i] = '\0';
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return vdc_err_set(err, -errno, "cannot make folder %s: %s", tmp, strerror(errno));
		tmp[i] = '/';
	}
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return vdc_err_set(err, -errno, "cannot make folder %s: %s", path, strerror(errno));
	/* mkdir's mode passes through the umask; chmod states it exactly. */
	if (chmod(path, mode) < 0)
		return vdc_err_set(err, -errno, "cannot set the mode of folder %s: %s", path, strerror(errno));
	return 0;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path) < 0 && errno != ENOENT ? -1 : 0;
	return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
}

int vdc_remove_tree(const char *path, struct vdc_err *err)
{
	struct stat st;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return vdc_err_set(err, -errno, "cannot look at %s: %s", path, strerror(errno));
	}
	if (nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) < 0)
		return vdc_err_set(err, -errno, "cannot remove %s: %s", path, strerror(errno));
	return 0;
}
