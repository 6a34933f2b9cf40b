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

#include "spawn.h"

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

int hva_spawn_find(const char *name, char *path)
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

	for (i = 0; i < len && buf[i] != '\n' && o + 1 < outlen; i++)
		out[o++] = (buf[i] >= 0x20 && buf[i] < 0x7f) ? buf[i] : ' ';
	out[o] = '\0';
}

int hva_spawn(const char *const argv[], const char *const envp[], unsigned timeout_s,
	      struct vdc_err *err)
{
	char path[PATH_MAX], said[512], line[256];
	size_t said_len = 0;
	long deadline = now_ms() + (long)timeout_s * 1000;
	int pipefd[2], devnull, status, rc;
	bool timed_out = false;
	pid_t pid;

	if (find_program(argv[0], path, sizeof(path)) < 0)
		return vdc_err_set(err, -ENOENT, "%s is not installed", argv[0]);
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return vdc_err_set(err, -errno, "cannot make a pipe: %s", strerror(errno));
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return vdc_err_set(err, -errno, "cannot open /dev/null: %s", strerror(errno));
	}
	pid = fork();
	if (pid < 0) {
		int e = errno;

		close(pipefd[0]);
		close(pipefd[1]);
		close(devnull);
		return vdc_err_set(err, -e, "cannot fork for %s: %s", argv[0], strerror(e));
	}
	if (pid == 0) {
		/* Only async-signal-safe calls from here to execve. */
		sigset_t none;
		struct sigaction dfl;

		memset(&dfl, 0, sizeof(dfl));
		dfl.sa_handler = SIG_DFL;
		sigaction(SIGPIPE, &dfl, NULL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0 || dup2(pipefd[1], 2) < 0)
			_exit(127);
		close_range(3, ~0U, 0);
		execve(path, (char *const *)argv, (char *const *)(envp ? envp : default_env));
		_exit(127);
	}
	close(pipefd[1]);
	close(devnull);
	for (;;) {
		struct pollfd pfd = { .fd = pipefd[0], .events = POLLIN };
		long left = deadline - now_ms();
		char buf[512];
		ssize_t n;

		if (left <= 0) {
			kill(pid, SIGKILL);
			timed_out = true;
			break;
		}
		rc = poll(&pfd, 1, (int)left);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0)
			break;
		if (rc == 0)
			continue;   /* the deadline is checked above */
		n = read(pipefd[0], buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (said_len < sizeof(said)) {
			size_t take = (size_t)n < sizeof(said) - said_len ? (size_t)n : sizeof(said) - said_len;

			memcpy(said + said_len, buf, take);
			said_len += take;
		}
	}
	close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return vdc_err_set(err, -errno, "cannot wait for %s: %s", argv[0], strerror(errno));
	}
	if (timed_out)
		return vdc_err_set(err, -ETIMEDOUT, "%s took longer than %u s and was stopped", argv[0], timeout_s);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	first_line(said, said_len, line, sizeof(line));
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && !said_len)
		return vdc_err_set(err, -ENOENT, "cannot run %s", path);
	if (WIFSIGNALED(status))
		return vdc_err_set(err, -EIO, "%s was killed by signal %d%s%s", argv[0], WTERMSIG(status),
				   *line ? ": " : "", line);
	return vdc_err_set(err, -EIO, "%s failed with status %d%s%s", argv[0], WEXITSTATUS(status),
			   *line ? ": " : "", line);
}
