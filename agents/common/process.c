#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "process.h"

static const char *const system_dirs[] = {
	"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin",
};

static const char *const default_env[] = {
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"LC_ALL=C",
	NULL,
};

static int find_program(const char *name, char *out, size_t outlen)
{
	size_t i;

	if (name[0] == '/') {
		snprintf(out, outlen, "%s", name);
		return access(out, X_OK) == 0 ? 0 : -ENOENT;
	}
	for (i = 0; i < sizeof(system_dirs) / sizeof(system_dirs[0]); i++) {
		snprintf(out, outlen, "%s/%s", system_dirs[i], name);
		if (access(out, X_OK) == 0)
			return 0;
	}
	return -ENOENT;
}

int vdc_spawn_find(const char *name, char *path)
{
	return find_program(name, path, PATH_MAX);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The first line of what the program said, printable, for the sentence. */
static void first_line(const char *buf, size_t len, char *out, size_t outlen)
{
	size_t i, o = 0;

	while (len && (*buf == '\n' || *buf == ' ')) {
		buf++;
		len--;
	}
	for (i = 0; i < len && buf[i] != '\n' && o + 1 < outlen; i++)
		out[o++] = (buf[i] >= 0x20 && buf[i] < 0x7f) ? buf[i] : ' ';
	out[o] = '\0';
}

/* A running child: its pid and the read ends of its pipes (-1 when closed). */
struct child {
	pid_t pid;
	int out_fd, err_fd;
};

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static int start_child(const char *path, const char *const argv[], const char *const envp[],
		       bool keep_out, struct child *c, struct vdc_err *err)
{
	int errp[2], outp[2] = { -1, -1 }, devnull;

	if (pipe2(errp, O_CLOEXEC) < 0)
		return vdc_err_set(err, -errno, "cannot make a pipe: %s", strerror(errno));
	if (keep_out && pipe2(outp, O_CLOEXEC) < 0) {
		int e = errno;

		close(errp[0]);
		close(errp[1]);
		return vdc_err_set(err, -e, "cannot make a pipe: %s", strerror(e));
	}
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	c->pid = devnull < 0 ? -1 : fork();
	if (c->pid == 0) {
		/* Only async-signal-safe calls from here to execve. */
		sigset_t none;
		struct sigaction dfl;

		memset(&dfl, 0, sizeof(dfl));
		dfl.sa_handler = SIG_DFL;
		sigaction(SIGPIPE, &dfl, NULL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (dup2(devnull, 0) < 0 || dup2(keep_out ? outp[1] : devnull, 1) < 0 ||
		    dup2(errp[1], 2) < 0)
			_exit(127);
		close_range(3, ~0U, 0);
		execve(path, (char *const *)argv, (char *const *)(envp ? envp : default_env));
		_exit(127);
	}
	{
		int e = errno;

		if (devnull >= 0)
			close(devnull);
		close(errp[1]);
		close_fd(&outp[1]);
		c->err_fd = errp[0];
		c->out_fd = outp[0];
		if (c->pid < 0) {
			close_fd(&c->err_fd);
			close_fd(&c->out_fd);
			return vdc_err_set(err, -e, "cannot start %s: %s", argv[0], strerror(e));
		}
	}
	return 0;
}

/*
 * Read the child's pipes until both are closed or the deadline passes:
 * stdout into `out` (up to `max`), stderr's first bytes into `said`.
 * Returns -ETIMEDOUT or -EFBIG after killing the child, else 0.
 */
static int drain(struct child *c, long deadline, struct strbuf *out, size_t max, char *said,
		 size_t *said_len, size_t said_max)
{
	int rc = 0;

	while (c->out_fd >= 0 || c->err_fd >= 0) {
		struct pollfd pfd[2] = { { .fd = c->err_fd, .events = POLLIN },
					 { .fd = c->out_fd, .events = POLLIN } };
		long left = deadline - now_ms();
		char buf[4096];
		int i, n;

		if (left <= 0) {
			rc = -ETIMEDOUT;
			break;
		}
		n = poll(pfd, 2, (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		for (i = 0; i < 2; i++) {
			int *fd = i == 0 ? &c->err_fd : &c->out_fd;
			ssize_t got;

			if (*fd < 0 || !pfd[i].revents)
				continue;
			got = read(*fd, buf, sizeof(buf));
			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0) {
				close_fd(fd);
				continue;
			}
			if (i == 0 && *said_len < said_max) {
				size_t take = (size_t)got < said_max - *said_len ? (size_t)got : said_max - *said_len;

				memcpy(said + *said_len, buf, take);
				*said_len += take;
			} else if (i == 1) {
				if (out->len + (size_t)got > max) {
					rc = -EFBIG;
					goto out;
				}
				strbuf_add(out, buf, (size_t)got);
			}
		}
	}
out:
	if (rc < 0)
		kill(c->pid, SIGKILL);
	close_fd(&c->out_fd);
	close_fd(&c->err_fd);
	return rc;
}

static int run(const char *const argv[], const char *const envp[], unsigned timeout_s,
	       struct strbuf *out, size_t max, struct vdc_err *err)
{
	char path[PATH_MAX], said[512], line[256];
	size_t said_len = 0, out_start = out ? out->len : 0;
	long deadline = now_ms() + (long)timeout_s * 1000;
	struct strbuf sink = STRBUF_INIT;
	struct child c = { -1, -1, -1 };
	int status, rc;

	if (find_program(argv[0], path, sizeof(path)) < 0)
		return vdc_err_set(err, -ENOENT, "%s is not installed", argv[0]);
	rc = start_child(path, argv, envp, out != NULL, &c, err);
	if (rc < 0)
		return rc;
	rc = drain(&c, deadline, out ? out : &sink, out ? max : 0, said, &said_len, sizeof(said));
	strbuf_release(&sink);
	while (waitpid(c.pid, &status, 0) < 0) {
		if (errno != EINTR)
			return vdc_err_set(err, -errno, "cannot wait for %s: %s", argv[0], strerror(errno));
	}
	if (rc == -ETIMEDOUT)
		return vdc_err_set(err, rc, "%s took longer than %u s and was stopped", argv[0], timeout_s);
	if (rc == -EFBIG)
		return vdc_err_set(err, rc, "%s wrote more than %zu bytes", argv[0], max);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	first_line(said, said_len, line, sizeof(line));
	if (!*line && out)
		first_line(out->buf + out_start, out->len - out_start, line, sizeof(line));
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && !said_len)
		return vdc_err_set(err, -ENOENT, "cannot run %s", path);
	if (WIFSIGNALED(status))
		return vdc_err_set(err, -EIO, "%s was killed by signal %d%s%s", argv[0], WTERMSIG(status),
				   *line ? ": " : "", line);
	return vdc_err_set(err, -EIO, "%s failed with status %d%s%s", argv[0], WEXITSTATUS(status),
			   *line ? ": " : "", line);
}

int vdc_spawn(const char *const argv[], const char *const envp[], unsigned timeout_s,
	      struct vdc_err *err)
{
	return run(argv, envp, timeout_s, NULL, 0, err);
}

int vdc_spawn_output(const char *const argv[], const char *const envp[], unsigned timeout_s,
		     struct strbuf *out, size_t max, struct vdc_err *err)
{
	return run(argv, envp, timeout_s, out, max, err);
}
