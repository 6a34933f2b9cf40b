/*
 * mkinstances: make N instances the way a shell user would, fast enough
 * that the time measured is the filesystem's, not a shell's.
 *
 *   mkinstances DIR N [PREFIX]
 *
 * For each i in 0..N-1 it makes DIR/PREFIXi with mkdir(2), then writes
 * three attribute files in it (cpus, memory, hostname), each with one
 * open(O_WRONLY|O_CREAT|O_TRUNC), one write(2) and one close(2). Pointed at
 * $MNT/instances it drives vdcfs; pointed at a plain folder on tmpfs it makes
 * the same folders and files there, which is the reference a benchmark
 * compares vdcfs against. Every call is checked: the first failure ends the
 * run with a message and exit status 1, so a benchmark never reports the
 * speed of failing calls.
 *
 * On success it prints one line: the count, the elapsed seconds and the
 * instances made per second.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The value written is `value`, then the instance name if `add_name`, then "\n". */
struct attr_file {
	const char *name;
	const char *value;
	int add_name;
};

static const struct attr_file attr_files[] = {
	{ "cpus", "2", 0 },
	{ "memory", "1G", 0 },
	{ "hostname", "host", 1 },
};

static const char *prog = "mkinstances";

static void __attribute__((noreturn)) usage(void)
{
	fprintf(stderr, "usage: %s DIR N [PREFIX]\n"
		"Makes N instances DIR/PREFIX0 .. DIR/PREFIX<N-1> (PREFIX defaults to \"i\"),\n"
		"each with cpus, memory and hostname written, and prints the rate.\n", prog);
	exit(2);
}

static void __attribute__((noreturn)) die(const char *what, const char *path)
{
	fprintf(stderr, "%s: %s %s: %s\n", prog, what, path, strerror(errno));
	exit(1);
}

static void __attribute__((noreturn)) die_msg(const char *msg, const char *arg)
{
	fprintf(stderr, "%s: %s: %s\n", prog, msg, arg);
	exit(1);
}

/* Join two strings with `sep` into a fixed buffer, refusing to truncate. */
static void join(char *buf, size_t size, const char *a, const char *sep, const char *b)
{
	int n = snprintf(buf, size, "%s%s%s", a, sep, b);

	if (n < 0 || (size_t)n >= size)
		die_msg("path or value too long", a);
}

/* Write `value` as the whole content of `path`: one open, one write, one close. */
static void write_file(const char *path, const char *value)
{
	size_t len = strlen(value);
	ssize_t w;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		die("cannot open", path);
	w = write(fd, value, len);
	if (w < 0)
		die("cannot write", path);
	if ((size_t)w != len) {
		errno = EIO;
		die("short write to", path);
	}
	if (close(fd) < 0)
		die("cannot close", path);
}

static void make_instance(const char *dir, const char *name)
{
	char objdir[PATH_MAX], path[PATH_MAX], value[256];
	size_t i;

	join(objdir, sizeof(objdir), dir, "/", name);
	if (mkdir(objdir, 0755) < 0)
		die("cannot make", objdir);
	for (i = 0; i < sizeof(attr_files) / sizeof(attr_files[0]); i++) {
		join(path, sizeof(path), objdir, "/", attr_files[i].name);
		join(value, sizeof(value), attr_files[i].value, attr_files[i].add_name ? name : "", "\n");
		write_file(path, value);
	}
}

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned long parse_count(const char *s)
{
	unsigned long n;
	char *end;

	errno = 0;
	n = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || n > 100000000UL)
		die_msg("N must be a whole number from 0 to 100000000, not", s);
	return n;
}

int main(int argc, char *argv[])
{
	const char *dir, *prefix = "i";
	char name[128];
	unsigned long n, i;
	double start, elapsed;
	struct stat st;

	if (argc < 3 || argc > 4)
		usage();
	dir = argv[1];
	n = parse_count(argv[2]);
	if (argc == 4)
		prefix = argv[3];
	if (stat(dir, &st) < 0)
		die("cannot stat", dir);
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		die("cannot use", dir);
	}

	start = now_seconds();
	for (i = 0; i < n; i++) {
		int len = snprintf(name, sizeof(name), "%s%lu", prefix, i);

		if (len < 0 || (size_t)len >= sizeof(name))
			die_msg("instance name too long", prefix);
		make_instance(dir, name);
	}
	elapsed = now_seconds() - start;

	printf("mkinstances: %lu instances in %.3f s, %.0f inst/s\n", n, elapsed,
	       elapsed > 0 ? (double)n / elapsed : 0.0);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "%s: cannot write to stdout: %s\n", prog, strerror(errno));
		return 1;
	}
	return 0;
}
