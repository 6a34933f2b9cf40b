/*
 * The events log on disk (see eventlog.h): events.log and events.log.1 in
 * the state folder, appended to by one write(2) an event.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "counters.h"
#include "eventlog.h"
#include "strbuf.h"

static int log_fd = -1;
static int dir_fd = -1;
static size_t log_size, log_max;
static bool log_sync;
static bool log_broken;      /* the last append failed (and was reported) */

/* Parse one stored line (without its newline) and hand it on; drop what does not parse. */
static void parse_line(char *s, size_t len, vdc_eventlog_line_fn line, void *ctx)
{
	unsigned long long uid;
	long long id;
	char *end;
	size_t i;

	for (i = 0; i < len; i++)
		if (((unsigned char)s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7f)
			return;
	s[len] = '\0';
	if (*s < '0' || *s > '9')
		return;
	errno = 0;
	uid = strtoull(s, &end, 10);
	if (errno || *end != ' ' || uid > (uid_t)-1)
		return;
	s = end + 1;
	if (*s < '0' || *s > '9')
		return;
	id = strtoll(s, &end, 10);
	if (errno || *end != ' ' || !end[1])
		return;
	line(ctx, (uid_t)uid, (int64_t)id, end + 1);
}

/*
 * Read the file `fd` (at most its last 2 * max bytes: a file made with a
 * larger bound keeps only what this one holds) and hand on its complete
 * lines. Returns the length of the complete lines, so the caller can cut
 * a partial last line off.
 */
static int read_lines(int fd, const char *path, vdc_eventlog_line_fn line, void *ctx, off_t *whole,
		      struct vdc_err *err)
{
	__do_free char *buf = NULL;
	struct stat st;
	off_t from = 0;
	size_t len, pos = 0, got = 0;

	if (fstat(fd, &st) < 0)
		return vdc_err_set(err, -errno, "cannot stat %s: %s", path, strerror(errno));
	if ((uint64_t)st.st_size > 2 * (uint64_t)log_max)
		from = st.st_size - (off_t)(2 * log_max);
	len = (size_t)(st.st_size - from);
	buf = xmalloc(len + 1);
	while (got < len) {
		ssize_t r = pread(fd, buf + got, len - got, from + (off_t)got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return vdc_err_set(err, -errno, "cannot read %s: %s", path, strerror(errno));
		if (r == 0)
			break;
		got += (size_t)r;
	}
	len = got;
	if (from) {
		/* Started inside a line: skip to the next one. */
		char *nl = memchr(buf, '\n', len);

		pos = nl ? (size_t)(nl - buf) + 1 : len;
	}
	while (pos < len) {
		char *nl = memchr(buf + pos, '\n', len - pos);

		if (!nl)
			break;
		parse_line(buf + pos, (size_t)(nl - buf) - pos, line, ctx);
		pos = (size_t)(nl - buf) + 1;
	}
	*whole = from + (off_t)pos;
	return 0;
}

/* Open `name` in the state folder, 0600 whatever mode it had. */
static int open_file(const char *name, int flags, struct vdc_err *err)
{
	int fd = openat(dir_fd, name, flags | O_CLOEXEC, 0600);

	if (fd < 0)
		return vdc_err_set(err, -errno, "cannot open %s of the state folder: %s", name, strerror(errno));
	if (fchmod(fd, 0600) < 0) {
		int e = errno;

		close(fd);
		return vdc_err_set(err, -e, "cannot make %s of the state folder 0600: %s", name, strerror(e));
	}
	return fd;
}

int vdc_eventlog_open(const char *dir, size_t max, bool sync_full, vdc_eventlog_line_fn line,
		      void *ctx, struct vdc_err *err)
{
	off_t whole;
	int fd, rc;

	vdc_eventlog_close();
	log_max = max;
	log_sync = sync_full;
	dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir_fd < 0)
		return vdc_err_set(err, -errno, "cannot open the state folder %s: %s", dir, strerror(errno));
	fd = open_file("events.log.1", O_RDONLY, err);
	if (fd >= 0) {
		rc = read_lines(fd, "events.log.1", line, ctx, &whole, err);
		close(fd);
		if (rc < 0)
			goto fail;
	} else if (fd != -ENOENT) {
		rc = fd;
		goto fail;
	}
	vdc_err_clear(err);
	log_fd = open_file("events.log", O_RDWR | O_CREAT | O_APPEND, err);
	if (log_fd < 0) {
		rc = log_fd;
		goto fail;
	}
	rc = read_lines(log_fd, "events.log", line, ctx, &whole, err);
	if (rc < 0)
		goto fail;
	/* A partial last line (a crash in the middle of a write) goes. */
	if (lseek(log_fd, 0, SEEK_END) != whole && ftruncate(log_fd, whole) < 0) {
		rc = vdc_err_set(err, -errno, "cannot cut the partial last line of events.log: %s", strerror(errno));
		goto fail;
	}
	log_size = (size_t)whole;
	return 0;
fail:
	vdc_eventlog_close();
	return rc;
}

/* events.log becomes events.log.1 and a new one starts. */
static int rotate(struct vdc_err *err)
{
	int fd;

	if (renameat(dir_fd, "events.log", dir_fd, "events.log.1") < 0)
		return vdc_err_set(err, -errno, "cannot rotate events.log: %s", strerror(errno));
	fd = open_file("events.log", O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, err);
	if (fd < 0)
		return fd;
	close(log_fd);
	log_fd = fd;
	log_size = 0;
	if (log_sync)
		fsync(dir_fd);
	return 0;
}

int vdc_eventlog_append(uid_t uid, int64_t id, const char *text, struct vdc_err *err)
{
	__do_strbuf struct strbuf sb = STRBUF_INIT;
	ssize_t w;
	int rc = 0;

	if (log_fd < 0)
		return 0;
	strbuf_addf(&sb, "%u %" PRId64 " %s\n", (unsigned)uid, id, text);
	if (log_size && log_size + sb.len > log_max)
		rc = rotate(err);
	if (rc == 0) {
		w = write(log_fd, sb.buf, sb.len);
		if (w < 0)
			rc = vdc_err_set(err, -errno, "cannot append to events.log: %s", strerror(errno));
		else if ((size_t)w < sb.len)
			rc = vdc_err_set(err, -ENOSPC, "cannot append to events.log: a short write");
		if (w > 0)
			log_size += (size_t)w;
		if (w > 0 && (size_t)w < sb.len) {
			/* Leave no partial line for the next one to join. */
			if (ftruncate(log_fd, (off_t)(log_size - (size_t)w)) == 0)
				log_size -= (size_t)w;
		}
	}
	if (rc == 0 && log_sync && fdatasync(log_fd) < 0)
		rc = vdc_err_set(err, -errno, "cannot sync events.log: %s", strerror(errno));
	if (rc == 0) {
		vdc_count(VDC_C_EVENTS);
		log_broken = false;
		return 0;
	}
	if (log_broken)
		return -1;
	log_broken = true;
	return 1;
}

void vdc_eventlog_close(void)
{
	if (log_fd >= 0)
		close(log_fd);
	if (dir_fd >= 0)
		close(dir_fd);
	log_fd = dir_fd = -1;
	log_size = 0;
	log_broken = false;
}
