/*
 * vdc console NAME: the serial console of an instance in this terminal,
 * through the tree alone (docs/vdc.md). The terminal is raw, so every
 * key (Ctrl-C, Tab, arrows) goes to the guest, written to
 * instances/NAME/console as it is typed; what the guest prints is
 * followed in instances/NAME/run/console, read again whenever its mtime
 * or size moved (checked every 50 ms: FUSE files give no inotify for
 * changes vdcfs makes), from where it ended when we started. Ctrl-]
 * leaves and gives the terminal back as it was, as do SIGTERM and SIGHUP.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "files.h"
#include "vdc.h"
#include "view.h"

#define ESCAPE_KEY 0x1d           /* Ctrl-] */
#define POLL_MS 50
#define CONSOLE_MAX (64 * 1024)   /* what run/console holds at most */
/* A full queue (EAGAIN) is written again for at most this long. */
#define FULL_RETRY_MS 5000

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

/* Write all of buf to fd (the terminal). */
static void put_all(int fd, const char *buf, size_t len)
{
	ssize_t w;

	while (len) {
		w = write(fd, buf, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		buf += w;
		len -= (size_t)w;
	}
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);

	if (n > 0)
		put_all(STDOUT_FILENO, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

struct follow {
	char path[4096];
	struct timespec mtime;
	off_t size;
	char *prev;                   /* what run/console held at the last reading */
	size_t plen;
};

/* Show what run/console gained since the last reading. */
static void follow_poll(struct follow *f, bool show)
{
	struct stat st;
	char *cur;
	long n;
	size_t at;

	if (stat(f->path, &st) < 0)
		return;
	if (st.st_mtim.tv_sec == f->mtime.tv_sec && st.st_mtim.tv_nsec == f->mtime.tv_nsec && st.st_size == f->size)
		return;
	cur = malloc(CONSOLE_MAX + 2);
	if (!cur)
		return;
	n = vdc_read_bytes(f->path, cur, CONSOLE_MAX + 1);
	if (n < 0) {
		free(cur);
		return;
	}
	f->mtime = st.st_mtim;
	f->size = st.st_size;
	at = vdc_console_new_at(f->prev, f->plen, cur, (size_t)n);
	if (show && (size_t)n > at)
		put_all(STDOUT_FILENO, cur + at, (size_t)n - at);
	free(f->prev);
	f->prev = cur;
	f->plen = (size_t)n;
}

/* Write keys to instances/NAME/console, waiting a moment while its queue is full. */
static int send_keys(const char *path, const char *keys, size_t len, char *why, size_t why_size)
{
	int fd, e = 0, waited = 0;
	ssize_t w;

	for (;;) {
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0) {
			e = errno;
			break;
		}
		w = write(fd, keys, len);
		e = w < 0 ? errno : 0;
		close(fd);
		if (e != EAGAIN || waited >= FULL_RETRY_MS)
			break;
		usleep(50 * 1000);
		waited += 50;
	}
	if (e)
		snprintf(why, why_size, "%s", strerror(e));
	return e ? -e : 0;
}

int vdc_console_main(int argc, char **argv)
{
	char inst[2048], keys_path[4096], err_path[4096], why[256], runerr[512];
	struct termios saved, raw;
	struct sigaction sa;
	struct follow f;
	struct stat st;
	bool tty = isatty(STDIN_FILENO), left = false;
	int rc = 0;

	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: vdc console NAME\n");
		return 2;
	}
	if ((size_t)snprintf(inst, sizeof(inst), "%s/instances/%s", vdc_root(), argv[1]) >= sizeof(inst)) {
		fprintf(stderr, "vdc console: the path of the instance is too long\n");
		return 1;
	}
	if (strchr(argv[1], '/') || stat(inst, &st) < 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "vdc console: no such instance: %s (in %s/instances)\n", argv[1], vdc_root());
		return 1;
	}
	snprintf(keys_path, sizeof(keys_path), "%s/console", inst);
	snprintf(err_path, sizeof(err_path), "%s/run/err", inst);
	memset(&f, 0, sizeof(f));
	snprintf(f.path, sizeof(f.path), "%s/run/console", inst);
	/* From its end, but with the line being written (the guest's prompt) shown again. */
	follow_poll(&f, false);
	if (f.plen) {
		char *nl = memrchr(f.prev, '\n', f.plen);
		size_t from = nl ? (size_t)(nl - f.prev) + 1 : 0;

		put_all(STDOUT_FILENO, f.prev + from, f.plen - from);
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (tty) {
		if (tcgetattr(STDIN_FILENO, &saved) < 0) {
			fprintf(stderr, "vdc console: cannot read the terminal's modes: %s\n", strerror(errno));
			return 1;
		}
		raw = saved;
		cfmakeraw(&raw);
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw);
	}
	say("\r\n[vdc: the console of %s; Ctrl-] leaves]\r\n", argv[1]);
	while (!stop_signal) {
		struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
		char keys[4096];
		ssize_t n;
		char *esc;

		if (poll(&p, 1, POLL_MS) > 0) {
			n = read(STDIN_FILENO, keys, sizeof(keys));
			if (n <= 0) {
				if (n < 0 && errno == EINTR)
					continue;
				break;   /* end of input: leave */
			}
			esc = memchr(keys, ESCAPE_KEY, (size_t)n);
			if (esc)
				n = esc - keys;
			if (n > 0 && send_keys(keys_path, keys, (size_t)n, why, sizeof(why)) < 0) {
				if (vdc_read_text(err_path, runerr, sizeof(runerr)) <= 0)
					runerr[0] = '\0';
				say("\r\n[vdc: keys not taken: %s]\r\n", why);
				if (runerr[0])
					say("[vdc: %s]\r\n", runerr);
			}
			if (esc) {
				left = true;
				break;
			}
		}
		follow_poll(&f, true);
	}
	if (tty)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
	if (left)
		say("\n[vdc: left the console of %s]\n", argv[1]);
	else if (stop_signal)
		rc = 1;
	free(f.prev);
	return rc;
}
