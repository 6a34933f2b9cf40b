/*
 * vdc-sta: options, setup and shutdown. The work is done by the threads
 * described in sta.h; this file checks what the operator asked for,
 * prepares the state directory, measures the disk, joins vdcfs, starts
 * the threads and waits for a signal to stop. Stopping never touches a
 * target: tgtd is not the agent's child and serves on.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "file.h"
#include "log.h"
#include "process.h"
#include "sta.h"
#include "validate.h"

#define PROG "vdc-sta"
#define EXIT_USAGE 2
#define DEFAULT_STATEDIR "/var/lib/vdc-sta"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " --server ADDR:PORT --pin sha256//BASE64 --portal ADDR:PORT [--token TOKEN] [options]\n"
		"\n"
		"The agent of a vdcfs storage host: it joins vdcfs, exports the volumes vdcfs\n"
		"places here as iSCSI targets of the tgtd running on this host (which the\n"
		"operator starts), takes their snapshots and reports. It runs in the\n"
		"foreground; SIGTERM stops the agent and leaves every target serving.\n"
		"\n"
		"  --server ADDR:PORT      vdcfs's agent address (IPv6 in brackets)\n"
		"  --pin sha256//BASE64    the SHA-256 of vdcfs's public key (pinned; no CA)\n"
		"  --token TOKEN           the join token; needed only until the host has joined\n"
		"  --name NAME             this host's name (default: the joined name, else the\n"
		"                          short host name)\n"
		"  --state DIR             state directory, holding the volumes (default " DEFAULT_STATEDIR ")\n"
		"  --portal ADDR:PORT      where initiators reach tgtd; reported to vdcfs (required)\n"
		"  --tgt-control-port N    tgtd's control port (tgtd -C N, tgtadm -C N; default 0)\n"
		"  --disk SIZE             offer at most SIZE for volumes, like 500G (default: the\n"
		"                          free space of the state directory's filesystem)\n"
		"  --heartbeat S           report at least every S seconds (default 5, or what\n"
		"                          vdcfs asks; both are honoured when given)\n"
		"  --pidfile FILE          write the agent's pid to FILE\n"
		"  -f, --foreground        accepted; always in the foreground\n"
		"  -v, --verbose           log every event (-vv: also curl's trace)\n"
		"  -h, --help              this text\n"
		"      --version           the version\n");
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(" PROG " --help lists the options)\n");
	return EXIT_USAGE;
}

enum {
	OPT_SERVER = 256, OPT_PIN, OPT_TOKEN, OPT_NAME, OPT_STATE, OPT_PORTAL, OPT_CONTROL_PORT,
	OPT_DISK, OPT_HEARTBEAT, OPT_PIDFILE, OPT_VERSION,
};

static const struct option long_options[] = {
	{ "server", required_argument, NULL, OPT_SERVER },
	{ "pin", required_argument, NULL, OPT_PIN },
	{ "token", required_argument, NULL, OPT_TOKEN },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "state", required_argument, NULL, OPT_STATE },
	{ "portal", required_argument, NULL, OPT_PORTAL },
	{ "tgt-control-port", required_argument, NULL, OPT_CONTROL_PORT },
	{ "disk", required_argument, NULL, OPT_DISK },
	{ "heartbeat", required_argument, NULL, OPT_HEARTBEAT },
	{ "pidfile", required_argument, NULL, OPT_PIDFILE },
	{ "foreground", no_argument, NULL, 'f' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

/* Check what needs more than one option's value. */
static int check_options(struct sta_options *o)
{
	struct vdc_err err = VDC_ERR_INIT;
	char *url = NULL;

	if (!o->server)
		return usage_error("--server ADDR:PORT is needed (see `cat /vdc/hosts/join`)");
	if (!o->pin)
		return usage_error("--pin sha256//BASE64 is needed (see `cat /vdc/hosts/join`)");
	if (!o->portal)
		return usage_error("--portal ADDR:PORT is needed: where initiators reach this host's tgtd");
	if (vdc_server_parse(o->server, &url, &err) < 0)
		return usage_error("%s", err.msg);
	free(url);
	if (vdc_server_parse(o->portal, &url, &err) < 0)
		return usage_error("--portal: %s", err.msg);
	free(url);
	if (vdc_pin_check(o->pin, &err) < 0)
		return usage_error("%s", err.msg);
	if (o->token && vdc_token_check(o->token, &err) < 0)
		return usage_error("--token: %s", err.msg);
	if (o->name && vdc_name_check(o->name, strlen(o->name), &err) < 0)
		return usage_error("--name: %s", err.msg);
	if (!*o->statedir || strlen(o->statedir) > PATH_MAX - 256)
		return usage_error("--state needs a folder name of at most %d characters", PATH_MAX - 256);
	return 0;
}

/* Parse argv into `o`; a usage error's exit code, 0, or -1 for --help/--version. */
static int parse_options(int argc, char **argv, struct sta_options *o, int *verbosity)
{
	struct vdc_err err = VDC_ERR_INIT;
	uint64_t v;
	int c;

	memset(o, 0, sizeof(*o));
	o->statedir = DEFAULT_STATEDIR;
	o->heartbeat_s = 5;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":fvh", long_options, NULL)) != -1) {
		switch (c) {
		case OPT_SERVER: o->server = optarg; break;
		case OPT_PIN: o->pin = optarg; break;
		case OPT_TOKEN: o->token = optarg; break;
		case OPT_NAME: o->name = optarg; break;
		case OPT_STATE: o->statedir = optarg; break;
		case OPT_PORTAL: o->portal = optarg; break;
		case OPT_PIDFILE: o->pidfile = optarg; break;
		case OPT_CONTROL_PORT:
			if (vdc_uint_parse(optarg, strlen(optarg), "--tgt-control-port", 0, 65535, &v, &err) < 0)
				return usage_error("%s", err.msg);
			o->control_port = (unsigned)v;
			break;
		case OPT_DISK:
			if (vdc_size_parse(optarg, strlen(optarg), "--disk", &o->disk, &err) < 0)
				return usage_error("%s", err.msg);
			if (o->disk < (1u << 20))
				return usage_error("--disk %s is less than 1M", VDC_Q(optarg));
			break;
		case OPT_HEARTBEAT:
			if (vdc_uint_parse(optarg, strlen(optarg), "--heartbeat", 1, STA_HEARTBEAT_MAX, &v, &err) < 0)
				return usage_error("%s", err.msg);
			o->heartbeat_s = (unsigned)v;
			o->heartbeat_given = true;
			break;
		case 'f':
			break;
		case 'v':
			(*verbosity)++;
			break;
		case 'h':
			usage(stdout);
			return -1;
		case OPT_VERSION:
			printf(PROG " %s\n", STA_VERSION);
			return -1;
		case ':':
			return usage_error("%s needs a value", argv[optind - 1]);
		default:
			return usage_error("unknown option '%s'", VDC_Q(argv[optind - 1]));
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", VDC_Q(argv[optind]));
	return check_options(o);
}

/* The short host name, lower-cased, if it is a usable host name in vdcfs. */
static int default_name(char *out, struct vdc_err *err)
{
	char host[256];
	size_t i;

	if (gethostname(host, sizeof(host)) < 0)
		return vdc_err_set(err, -errno, "cannot read the host name: %s", strerror(errno));
	host[sizeof(host) - 1] = '\0';
	host[strcspn(host, ".")] = '\0';
	for (i = 0; host[i]; i++)
		if (host[i] >= 'A' && host[i] <= 'Z')
			host[i] = (char)(host[i] - 'A' + 'a');
	if (vdc_name_check(host, strlen(host), NULL) < 0)
		return vdc_err_set(err, -EINVAL, "the host name '%s' is not a vdcfs name (1-63 of a-z, 0-9 and '-', starting with a letter); give one with --name",
				   VDC_Q(host));
	snprintf(out, VDC_NAME_MAX + 1, "%s", host);
	return 0;
}

/* The state directory and its folders (0700: volumes are nobody else's), locked. */
static int setup_statedir(struct sta *s, int *lock_fd, struct vdc_err *err)
{
	char path[PATH_MAX];
	int rc, fd;

	rc = vdc_mkdirs(s->opt.statedir, 0700, err);
	if (rc < 0)
		return rc;
	if (!realpath(s->opt.statedir, s->statedir))
		return vdc_err_set(err, -errno, "cannot resolve %s: %s", s->opt.statedir, strerror(errno));
	vdc_path(path, "%s/volumes", s->statedir);
	rc = vdc_mkdirs(path, 0700, err);
	if (rc < 0)
		return rc;
	vdc_path(path, "%s/snapshots", s->statedir);
	rc = vdc_mkdirs(path, 0700, err);
	if (rc < 0)
		return rc;
	vdc_path(path, "%s/lock", s->statedir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return vdc_err_set(err, -errno, "cannot open %s: %s", path, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		return vdc_err_set(err, -EBUSY, "another vdc-sta runs with the state directory %s", s->statedir);
	}
	*lock_fd = fd;
	return 0;
}

/*
 * What the host offers for volumes: the free space of the state
 * directory's filesystem, plus what the volume files already hold (they
 * are part of what was placed here), lowered by --disk.
 */
static int measure(struct sta *s, struct vdc_err *err)
{
	char dir[PATH_MAX];
	struct statvfs vfs;
	struct dirent *de;
	uint64_t bytes;
	DIR *d;

	if (statvfs(s->statedir, &vfs) < 0)
		return vdc_err_set(err, -errno, "cannot measure the filesystem of %s: %s", s->statedir, strerror(errno));
	bytes = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	vdc_path(dir, "%s/volumes", s->statedir);
	d = opendir(dir);
	while (d && (de = readdir(d)) != NULL) {
		char path[PATH_MAX];
		struct stat sb;
		size_t len = strlen(de->d_name);

		if (len < 5 || strcmp(de->d_name + len - 4, ".img") != 0)
			continue;
		vdc_path(path, "%s/%s", dir, de->d_name);
		if (stat(path, &sb) == 0)
			bytes += (uint64_t)sb.st_blocks * 512;
	}
	if (d)
		closedir(d);
	if (s->opt.disk && s->opt.disk < bytes)
		bytes = s->opt.disk;
	s->disk_mib = bytes >> 20;
	return 0;
}

/* Load the host token or join, waiting for vdcfs with backoff. */
static int get_token(struct sta *s, sigset_t *sigs, struct vdc_err *err)
{
	struct vdc_link link;
	unsigned failures = 0;
	int rc;

	rc = vdc_link_init(&link, &s->proto, err);
	if (rc < 0)
		return rc;
	for (;;) {
		struct timespec ts;
		siginfo_t si;

		rc = vdc_proto_ensure_token(&link, err);
		if (rc == 0 || !vdc_proto_transient(rc))
			break;
		if (failures++ == 0)
			log_error("%s; trying again", err->msg);
		ts.tv_sec = 1L << (failures < 5 ? failures : 5);
		ts.tv_nsec = 0;
		if (sigtimedwait(sigs, &si, &ts) > 0) {
			rc = vdc_err_set(err, -EINTR, "stopped by signal %d while joining", si.si_signo);
			break;
		}
	}
	vdc_link_release(&link);
	return rc;
}

static void init_cond(pthread_cond_t *c)
{
	pthread_condattr_t a;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(c, &a);
	pthread_condattr_destroy(&a);
}

/* The name: as given; else the one this state directory joined under; else the host's. */
static int pick_name(struct sta *s)
{
	struct vdc_err err = VDC_ERR_INIT;
	char saved[VDC_NAME_MAX + 1];
	int rc = vdc_proto_saved_name(s->statedir, saved, NULL);

	if (rc == 0 && s->opt.name && strcmp(saved, s->opt.name) != 0) {
		fprintf(stderr, PROG ": %s joined vdcfs as %s, not %s; use --name %s, or remove %s/host.token and host.name to join anew\n",
			s->statedir, saved, s->opt.name, saved, s->statedir);
		return EXIT_USAGE;
	}
	if (s->opt.name)
		snprintf(s->name, sizeof(s->name), "%s", s->opt.name);
	else if (rc == 0)
		snprintf(s->name, sizeof(s->name), "%s", saved);
	else if (default_name(s->name, &err) < 0) {
		fprintf(stderr, PROG ": %s\n", err.msg);
		return EXIT_USAGE;
	}
	return 0;
}

static int wait_signal(sigset_t *sigs)
{
	int sig;

	for (;;) {
		if (sigwait(sigs, &sig) != 0)
			continue;
		if (sig != SIGHUP)
			return sig;
		log_info("SIGHUP: nothing to reload; the agent goes on");
	}
}

static void stop_threads(struct sta *s, pthread_t *threads, size_t n)
{
	size_t i;

	pthread_mutex_lock(&s->lock);
	s->quit = true;
	pthread_cond_broadcast(&s->worker_cond);
	pthread_cond_broadcast(&s->report_cond);
	pthread_cond_broadcast(&s->copier_cond);
	pthread_cond_broadcast(&s->quit_cond);
	pthread_mutex_unlock(&s->lock);
	vdc_proto_abort(&s->proto);
	for (i = 0; i < n; i++)
		pthread_join(threads[i], NULL);
}

static void release(struct sta *s)
{
	if (s->pending) {
		sta_desired_release(s->pending);
		free(s->pending);
	}
	json_decref(s->volumes);
	free(s->jobs);
	free(s->results);
	vdc_proto_release(&s->proto);
	curl_global_cleanup();
}

int main(int argc, char **argv)
{
	static struct sta sta;
	struct sta *s = &sta;
	struct vdc_err err = VDC_ERR_INIT;
	void *(*bodies[])(void *) = { sta_worker_thread, sta_copier_thread, sta_poller_thread, sta_reporter_thread };
	pthread_t threads[4];
	char tgtadm[PATH_MAX];
	int verbosity = 0, lock_fd = -1, rc, sig;
	struct timeval tv;
	sigset_t sigs;
	size_t i;

	rc = parse_options(argc, argv, &s->opt, &verbosity);
	if (rc)
		return rc < 0 ? 0 : rc;
	vdc_log_setup(PROG, verbosity ? VDC_LOG_DEBUG : VDC_LOG_INFO);
	s->drv = &sta_target_tgt;
	s->ctx.control_port = s->opt.control_port;
	pthread_mutex_init(&s->lock, NULL);
	init_cond(&s->worker_cond);
	init_cond(&s->report_cond);
	init_cond(&s->copier_cond);
	init_cond(&s->quit_cond);

	/* Every thread inherits this: the signals are taken by sigwait() only. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	umask(077);

	if (vdc_spawn_find("tgtadm", tgtadm) < 0) {
		vdc_err_set(&err, -ENOENT, "tgtadm is not installed (Debian: apt install tgt); vdc-sta drives tgtd with it");
		goto fail;
	}
	if (setup_statedir(s, &lock_fd, &err) < 0)
		goto fail;
	rc = pick_name(s);
	if (rc)
		return rc;
	if (s->opt.pidfile) {
		char text[32];

		snprintf(text, sizeof(text), "%ld\n", (long)getpid());
		if (vdc_file_write_atomic(s->opt.pidfile, text, strlen(text), 0644, &err) < 0)
			goto fail;
	}
	if (measure(s, &err) < 0)
		goto fail;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (vdc_proto_init(&s->proto, s->opt.server, s->opt.pin, s->name, "sta", s->statedir,
			   s->opt.token, &err) < 0)
		goto fail;
	s->proto.verbose = verbosity > 1;
	if (get_token(s, &sigs, &err) < 0) {
		if (err.code == -ENOKEY) {
			fprintf(stderr, PROG ": %s (copy it from `cat /vdc/hosts/join`)\n", err.msg);
			return EXIT_USAGE;
		}
		goto fail;
	}
	gettimeofday(&tv, NULL);
	s->epoch_us = (uint64_t)tv.tv_sec * 1000000 + (uint64_t)tv.tv_usec;
	log_info("storage host %s: tgt (control port %u) at portal %s, %" PRIu64 " MiB offered, state in %s",
		 s->name, s->opt.control_port, s->opt.portal, s->disk_mib, s->statedir);

	for (i = 0; i < sizeof(threads) / sizeof(threads[0]); i++) {
		if (pthread_create(&threads[i], NULL, bodies[i], s)) {
			vdc_err_set(&err, -EAGAIN, "cannot start the agent's threads");
			stop_threads(s, threads, i);
			goto fail;
		}
	}
	sig = wait_signal(&sigs);
	log_info("stopping on signal %d; the targets serve on", sig);
	stop_threads(s, threads, sizeof(threads) / sizeof(threads[0]));
	release(s);
	if (s->opt.pidfile)
		unlink(s->opt.pidfile);
	close(lock_fd);
	return 0;
fail:
	log_error("%s", err.msg);
	if (s->opt.pidfile)
		unlink(s->opt.pidfile);
	return 1;
}
