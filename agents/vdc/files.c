/* Reading the mounted tree (files.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "files.h"

const char *vdc_root(void)
{
	const char *r = getenv("VDC");

	return r && *r ? r : "/vdc";
}

long vdc_read_bytes(const char *path, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t r;
	int fd = open(path, O_RDONLY | O_CLOEXEC), e;

	if (fd < 0)
		return -errno;
	while (len + 1 < size && (r = read(fd, buf + len, size - 1 - len)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			e = errno;
			close(fd);
			return -e;
		}
		len += (size_t)r;
	}
	close(fd);
	buf[len] = '\0';
	return (long)len;
}

long vdc_read_text(const char *path, char *buf, size_t size)
{
	long len = vdc_read_bytes(path, buf, size);

	if (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	return len;
}

static bool is_dir(DIR *d, const struct dirent *e)
{
	struct stat st;

	if (e->d_type != DT_UNKNOWN)
		return e->d_type == DT_DIR;
	return fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

long vdc_names(const char *dir, char ***out)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL, **more;
	long n = 0;

	*out = NULL;
	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || !is_dir(d, e))
			continue;
		more = realloc(names, (size_t)(n + 1) * sizeof(*names));
		if (!more || !(more[n] = strdup(e->d_name))) {
			names = more ? more : names;
			vdc_names_free(names, n);
			closedir(d);
			return -ENOMEM;
		}
		names = more;
		n++;
	}
	closedir(d);
	if (n)
		qsort(names, (size_t)n, sizeof(*names), by_name);
	*out = names;
	return n;
}

void vdc_names_free(char **names, long n)
{
	long i;

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}
