/*
 * preadrace: several threads read one descriptor at once, and a writer
 * that changes attributes fast; the mount-level tests of shared reads
 * (61-shared-reads.t, 61-shared-volume-reads.t) and of the events log
 * (61-events-log.t) use it.
 *
 *   preadrace read FILE THREADS SECONDS
 *       open FILE once; THREADS threads each pread(fd, 131072, 0) in a
 *       loop for SECONDS seconds. Every read must be well-formed text: no
 *       NUL byte, and empty or ending in a newline (a read of the whole
 *       131072 bytes may end anywhere). The first bad read ends the run
 *       with a message and exit status 1; a run with no read at all fails
 *       too. On success it prints the count of reads.
 *
 *   preadrace readseq FILE THREADS SECONDS
 *       the same, but each thread reads the whole file in order, 131072
 *       bytes at a time from 0 to its end and again, with O_DIRECT where
 *       the file system takes it (so every read reaches it): data of a
 *       volume, whose handle notes where a sequential read is. The file
 *       must be text (no NUL byte); a read short of 131072 bytes must end
 *       at the end of the file.
 *
 *   preadrace write FILE COUNT VALUE...
 *       open FILE once for writing and pwrite(fd, VALUE, len, 0) COUNT
 *       times, taking the values in turn (each gets a newline). A refused
 *       value is expected (it fills run/err); it prints how many writes
 *       succeeded and how many failed, and fails only when none succeeded.
 *
 *   preadrace hostnames FILE COUNT
 *       COUNT writes of distinct long host names (each logs an event line
 *       of about 130 bytes), all of which must succeed.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define READ_SIZE 131072

static int fd;
static bool sequential;
static double stop_at;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long reads;
static bool bad;

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Say what is wrong with a read of `r` bytes, or return NULL when it is well-formed. */
static const char *check(const char *buf, ssize_t r, char *why, size_t n)
{
	const char *nul;

	if (r < 0) {
		snprintf(why, n, "pread failed: %s", strerror(errno));
		return why;
	}
	nul = memchr(buf, '\0', (size_t)r);
	if (nul) {
		snprintf(why, n, "a NUL byte at %zd of a read of %zd bytes", nul - buf, r);
		return why;
	}
	if (r > 0 && r < READ_SIZE && buf[r - 1] != '\n') {
		snprintf(why, n, "a read of %zd bytes does not end in a newline: ...%.*s", r,
			 (int)(r < 40 ? r : 40), buf + (r < 40 ? 0 : r - 40));
		return why;
	}
	return NULL;
}

static void *reader(void *arg)
{
	char *buf = NULL;
	unsigned long n = 0;
	off_t off = 0;
	char why[160];

	(void)arg;
	if (posix_memalign((void **)&buf, 4096, READ_SIZE))
		abort();
	while (now() < stop_at) {
		ssize_t r;
		const char *msg;

		memset(buf, 'x', READ_SIZE);
		r = pread(fd, buf, READ_SIZE, off);
		msg = check(buf, r, why, sizeof(why));
		if (sequential && r >= 0)
			off = r == READ_SIZE ? off + r : 0;
		n++;
		if (msg) {
			pthread_mutex_lock(&lock);
			if (!bad)
				fprintf(stderr, "preadrace: read %lu of a thread: %s\n", n, msg);
			bad = true;
			pthread_mutex_unlock(&lock);
			break;
		}
		pthread_mutex_lock(&lock);
		if (bad) {
			pthread_mutex_unlock(&lock);
			break;
		}
		pthread_mutex_unlock(&lock);
	}
	pthread_mutex_lock(&lock);
	reads += n;
	pthread_mutex_unlock(&lock);
	free(buf);
	return NULL;
}

static int run_reads(const char *path, int threads, double seconds, bool seq)
{
	pthread_t t[64];
	int i;

	if (threads < 1 || threads > 64 || seconds <= 0) {
		fprintf(stderr, "preadrace: 1 to 64 threads, a positive number of seconds\n");
		return 2;
	}
	sequential = seq;
	fd = seq ? open(path, O_RDONLY | O_CLOEXEC | O_DIRECT) : -1;
	if (fd < 0)
		fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "preadrace: cannot open %s: %s\n", path, strerror(errno));
		return 1;
	}
	stop_at = now() + seconds;
	for (i = 0; i < threads; i++)
		if (pthread_create(&t[i], NULL, reader, NULL)) {
			fprintf(stderr, "preadrace: cannot start a thread\n");
			return 1;
		}
	for (i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	close(fd);
	if (bad)
		return 1;
	if (!reads) {
		fprintf(stderr, "preadrace: no read was made\n");
		return 1;
	}
	printf("%lu reads\n", reads);
	return 0;
}

static int run_writes(const char *path, long count, char **values, int nvalues, bool hostnames)
{
	unsigned long ok = 0, failed = 0;
	char v[256];
	long i;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "preadrace: cannot open %s: %s\n", path, strerror(errno));
		return 1;
	}
	for (i = 0; i < count; i++) {
		int len;

		if (hostnames)
			len = snprintf(v, sizeof(v), "h%010ld.abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvw"
				       ".abcdefghijklmnopqrstuvwxyz0123456789\n", i);
		else
			len = snprintf(v, sizeof(v), "%s\n", values[i % nvalues]);
		if (pwrite(fd, v, (size_t)len, 0) == len) {
			ok++;
		} else if (hostnames) {
			fprintf(stderr, "preadrace: write %ld of a host name failed: %s\n", i, strerror(errno));
			return 1;
		} else {
			failed++;
		}
	}
	close(fd);
	printf("%lu written, %lu refused\n", ok, failed);
	return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "read"))
		return run_reads(argv[2], atoi(argv[3]), atof(argv[4]), false);
	if (argc == 5 && !strcmp(argv[1], "readseq"))
		return run_reads(argv[2], atoi(argv[3]), atof(argv[4]), true);
	if (argc >= 5 && !strcmp(argv[1], "write"))
		return run_writes(argv[2], atol(argv[3]), argv + 4, argc - 4, false);
	if (argc == 4 && !strcmp(argv[1], "hostnames"))
		return run_writes(argv[2], atol(argv[3]), NULL, 0, true);
	fprintf(stderr, "usage: preadrace read FILE THREADS SECONDS\n"
			"       preadrace readseq FILE THREADS SECONDS\n"
			"       preadrace write FILE COUNT VALUE...\n"
			"       preadrace hostnames FILE COUNT\n");
	return 2;
}
