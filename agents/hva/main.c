/*
 * vdc-hva: options, setup and shutdown. The work is done by the threads
 * described in hva.h; this file checks what the operator asked for,
 * prepares the state directory, connects to libvirt, joins vdcfs, starts
 * the threads and waits for a signal to stop. Stopping never touches a
 * guest: they belong to libvirtd and run on.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "file.h"
#include "hva.h"
#include "log.h"
#include "validate.h"

#define PROG "vdc-hva"
#define EXIT_USAGE 2
#define DEFAULT_STATEDIR "/var/lib/vdc-hva"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " --server ADDR:PORT --pin sha256//BASE64 [--token TOKEN] [options]\n"
		"\n"
		"The agent of a vdcfs hypervisor host: it joins vdcfs, runs the instances\n"
		"vdcfs places here under libvirt and reports what they do. It runs in the\n"
		"foreground (a supervisor or `&` backgrounds it); SIGTERM stops the agent and\n"
		"leaves the guests running. `cat /vdc/hosts/join` prints the command to use.\n"
		"\n"
		"  --server ADDR:PORT      vdcfs's agent address (IPv6 in brackets)\n"
		"  --pin sha256//BASE64    the SHA-256 of vdcfs's public key (pinned; no CA)\n"
		"  --token TOKEN           the join token; needed only until the host has joined\n"
		"  --name NAME             this host's name (default: the joined name, else the\n"
		"                          short host name)\n"
		"  --state DIR             state directory (default " DEFAULT_STATEDIR ")\n"
		"  --driver qemu|lxc       hypervisor driver (default qemu)\n"
		"  --connect URI           libvirt URI (default qemu:///system, lxc:///system)\n"
		"  --virt auto|kvm|tcg     qemu's accelerator; auto probes KVM (default auto)\n"
		"  --cpus N                offer at most N cpus (default: all libvirt measures)\n"
		"  --memory SIZE           offer at most SIZE of memory, like 8G (default: all)\n"
		"  --heartbeat S           report at least every S seconds (default 5, or what\n"
		"                          vdcfs asks; both are honoured when given)\n"
		"  --shutdown-timeout S    seconds a graceful shutdown or reboot may take before\n"
		"                          the domain is forced (default 60)\n"
		"  --pidfile FILE          write the agent's pid to FILE\n"
		"  -f, --foreground        accepted for symmetry with vdcfs; always in the foreground\n"
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

static int parse_uint_opt(const char *name, const char *arg, uint64_t min, uint64_t max, uint64_t *out)
{
	struct vdc_err err = VDC_ERR_INIT;

	if (vdc_uint_parse(arg, strlen(arg), name, min, max, out, &err) < 0)
		return usage_error("%s", err.msg);
	return 0;
}

enum {
	OPT_SERVER = 256, OPT_PIN, OPT_TOKEN, OPT_NAME, OPT_STATE, OPT_CONNECT, OPT_DRIVER,
	OPT_VIRT, OPT_CPUS, OPT_MEMORY, OPT_HEARTBEAT, OPT_SHUTDOWN_TIMEOUT, OPT_PIDFILE,
	OPT_VERSION,
};

static const struct option long_options[] = {
	{ "server", required_argument, NULL, OPT_SERVER },
	{ "pin", required_argument, NULL, OPT_PIN },
	{ "token", required_argument, NULL, OPT_TOKEN },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "state", required_argument, NULL, OPT_STATE },
	{ "connect", required_argument, NULL, OPT_CONNECT },
	{ "driver", required_argument, NULL, OPT_DRIVER },
	{ "virt", required_argument, NULL, OPT_VIRT },
	{ "cpus", required_argument, NULL, OPT_CPUS },
	{ "memory", required_argument, NULL, OPT_MEMORY },
	{ "heartbeat", required_argument, NULL, OPT_HEARTBEAT },
	{ "shutdown-timeout", required_argument, NULL, OPT_SHUTDOWN_TIMEOUT },
	{ "pidfile", required_argument, NULL, OPT_PIDFILE },
	{ "foreground", no_argument, NULL, 'f' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

/* Parse argv into `o`; a usage error's exit code, 0, or -1 for --help/--version. */
static int parse_options(int argc, char **argv, struct hva_options *o, int *verbosity)
{
	struct vdc_err err = VDC_ERR_INIT;
	uint64_t v;
	int c;

	memset(o, 0, sizeof(*o));
	o->statedir = DEFAULT_STATEDIR;
	o->driver = "qemu";
	o->virt = HVA_VIRT_AUTO;
	o->heartbeat_s = 5;
	o->shutdown_timeout_s = 60;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":fvh", long_options, NULL)) != -1) {
		switch (c) {
		case OPT_SERVER: o->server = optarg; break;
		case OPT_PIN: o->pin = optarg; break;
		case OPT_TOKEN: o->token = optarg; break;
		case OPT_NAME: o->name = optarg; break;
		case OPT_STATE: o->statedir = optarg; break;
		case OPT_CONNECT: o->uri = optarg; break;
		case OPT_DRIVER: o->driver = optarg; break;
		case OPT_PIDFILE: o->pidfile = optarg; break;
		case OPT_VIRT:
			if (strcmp(optarg, "auto") == 0)
				o->virt = HVA_VIRT_AUTO;
			else if (strcmp(optarg, "kvm") == 0)
				o->virt = HVA_VIRT_KVM;
			else if (strcmp(optarg, "tcg") == 0)
				o->virt = HVA_VIRT_TCG;
			else
				return usage_error("--virt is auto, kvm or tcg, not '%s'", VDC_Q(optarg));
			break;
		case OPT_CPUS:
			if (parse_uint_opt("--cpus", optarg, 1, 4096, &v))
				return EXIT_USAGE;
			o->cpus = (unsigned)v;
			break;
		case OPT_MEMORY:
			if (vdc_size_parse(optarg, strlen(optarg), "--memory", &o->memory, &err) < 0)
				return usage_error("%s", err.msg);
			if (o->memory < (64u << 20))
				return usage_error("--memory %s is less than 64M", VDC_Q(optarg));
			break;
		case OPT_HEARTBEAT:
			if (parse_uint_opt("--heartbeat", optarg, 1, HVA_HEARTBEAT_MAX, &v))
				return EXIT_USAGE;
			o->heartbeat_s = (unsigned)v;
			o->heartbeat_given = true;
			break;
		case OPT_SHUTDOWN_TIMEOUT:
			if (parse_uint_opt("--shutdown-timeout", optarg, 0, 3600, &v))
				return EXIT_USAGE;
			o->shutdown_timeout_s = (unsigned)v;
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
			printf(PROG " %s\n", HVA_VERSION);
			return -1;
		case ':':
			return usage_error("%s needs a value", argv[optind - 1]);
		default:
			return usage_error("unknown option '%s'", VDC_Q(argv[optind - 1]));
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", VDC_Q(argv[optind]));
	if (!o->server)
		return usage_error("--server ADDR:PORT is needed (see `cat /vdc/hosts/join`)");
	if (!o->pin)
		return usage_error("--pin sha256//BASE64 is needed (see `cat /vdc/hosts/join`)");
	{
		char *url = NULL;

		if (vdc_server_parse(o->server, &url, &err) < 0)
			return usage_error("%s", err.msg);
		free(url);
	}
	if (vdc_pin_check(o->pin, &err) < 0)
		return usage_error("%s", err.msg);
	if (o->token && vdc_token_check(o->token, &err) < 0)
		return usage_error("--token: %s", err.msg);
	if (o->name && vdc_name_check(o->name, strlen(o->name), &err) < 0)
		return usage_error("--name: %s", err.msg);
	if (!*o->statedir || strlen(o->statedir) > PATH_MAX - 256)
		return usage_error("--state needs a folder name of at most %d characters", PATH_MAX - 256);
	if (!hva_driver_find(o->driver))
		return usage_error("--driver is qemu or lxc, not '%s'", VDC_Q(o->driver));
	if (strcmp(o->driver, "lxc") == 0 && o->virt != HVA_VIRT_AUTO)
		return usage_error("--virt is for the qemu driver only");
	if (o->uri && !*o->uri)
		return usage_error("--connect needs a libvirt URI, like qemu:///system");
	return 0;
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

/*
 * The state directory: made 0711 (qemu, perhaps another user, must pass
 * through it to the disks), made absolute (libvirt needs absolute paths),
 * and locked, so two agents never share one.
 */
static int setup_statedir(struct hva *h, int *lock_fd, struct vdc_err *err)
{
	char path[PATH_MAX];
	int rc, fd;

	rc = vdc_mkdirs(h->opt.statedir, 0711, err);
	if (rc < 0)
		return rc;
	if (!realpath(h->opt.statedir, h->statedir))
		return vdc_err_set(err, -errno, "cannot resolve %s: %s", h->opt.statedir, strerror(errno));
	vdc_path(path, "%s/instances", h->statedir);
	rc = vdc_mkdirs(path, 0711, err);
	if (rc < 0)
		return rc;
	vdc_path(path, "%s/lock", h->statedir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return vdc_err_set(err, -errno, "cannot open %s: %s", path, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		return vdc_err_set(err, -EBUSY, "another vdc-hva runs with the state directory %s", h->statedir);
	}
	*lock_fd = fd;
	return 0;
}

static int write_pidfile(const char *path, struct vdc_err *err)
{
	char text[32];

	snprintf(text, sizeof(text), "%ld\n", (long)getpid());
	return vdc_file_write_atomic(path, text, strlen(text), 0644, err);
}

/* What the host offers: libvirt's measure, lowered by --cpus and --memory. */
static int measure(struct hva *h, struct vdc_err *err)
{
	virConnectPtr conn = hva_libvirt_get(h);
	unsigned long version = 0;
	virNodeInfo info;
	uint64_t mib;

	if (!conn)
		return vdc_err_set(err, -ENOTCONN, "libvirt is not connected");
	if (virNodeGetInfo(conn, &info) < 0) {
		virConnectClose(conn);
		return hva_virt_err(err, -EIO, "cannot measure the host");
	}
	if (virConnectGetLibVersion(conn, &version) < 0)
		version = 0;
	virConnectClose(conn);
	h->cpus = info.cpus;
	if (h->opt.cpus && h->opt.cpus < h->cpus)
		h->cpus = h->opt.cpus;
	mib = info.memory / 1024;
	if (h->opt.memory && h->opt.memory / (1024 * 1024) < mib)
		mib = h->opt.memory / (1024 * 1024);
	h->memory_mib = mib;
	snprintf(h->libvirt_version, sizeof(h->libvirt_version), "%lu.%lu.%lu", version / 1000000,
		 version / 1000 % 1000, version % 1000);
	return 0;
}

/* Connect to libvirt, waiting for it with backoff (libvirtd may start after us). */
static int connect_libvirt(struct hva *h, sigset_t *sigs, struct vdc_err *err)
{
	unsigned failures = 0;

	for (;;) {
		struct timespec ts;
		siginfo_t si;
		long wait;

		if (hva_libvirt_connect(h, err) == 0)
			return 0;
		if (failures++ == 0)
			log_error("%s; waiting for it", err->msg);
		wait = 1000L << (failures < 5 ? failures : 5);
		ts.tv_sec = wait / 1000;
		ts.tv_nsec = 0;
		if (sigtimedwait(sigs, &si, &ts) > 0)
			return vdc_err_set(err, -EINTR, "stopped by signal %d while waiting for libvirt", si.si_signo);
	}
}

/* Load the host token or join, waiting for vdcfs with backoff. */
static int get_token(struct hva *h, sigset_t *sigs, struct vdc_err *err)
{
	struct vdc_link link;
	unsigned failures = 0;
	int rc;

	rc = vdc_link_init(&link, &h->proto, err);
	if (rc < 0)
		return rc;
	for (;;) {
		struct timespec ts;
		siginfo_t si;
		long wait;

		rc = vdc_proto_ensure_token(&link, err);
		if (rc == 0 || !vdc_proto_transient(rc))
			break;
		if (failures++ == 0)
			log_error("%s; trying again", err->msg);
		wait = 1000L << (failures < 5 ? failures : 5);
		ts.tv_sec = wait / 1000;
		ts.tv_nsec = 0;
		if (sigtimedwait(sigs, &si, &ts) > 0) {
			rc = vdc_err_set(err, -EINTR, "stopped by signal %d while joining", si.si_signo);
			break;
		}
	}
	vdc_link_release(&link);
	return rc;
}

static void image_done(void *arg)
{
	hva_kick_worker(arg);
}

static void init_cond(pthread_cond_t *c)
{
	pthread_condattr_t a;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(c, &a);
	pthread_condattr_destroy(&a);
}

int main(int argc, char **argv)
{
	static struct hva hva;
	struct hva *h = &hva;
	struct vdc_err err = VDC_ERR_INIT;
	char saved[VDC_NAME_MAX + 1];
	pthread_t poller, worker, reporter;
	int verbosity = 0, lock_fd = -1, rc, sig;
	struct timeval tv;
	sigset_t sigs;

	rc = parse_options(argc, argv, &h->opt, &verbosity);
	if (rc)
		return rc < 0 ? 0 : rc;
	vdc_log_setup(PROG, verbosity ? VDC_LOG_DEBUG : VDC_LOG_INFO);
	h->drv = hva_driver_find(h->opt.driver);
	if (!h->opt.uri)
		h->opt.uri = h->drv->default_uri;
	pthread_mutex_init(&h->lock, NULL);
	pthread_mutex_init(&h->conn_lock, NULL);
	init_cond(&h->worker_cond);
	init_cond(&h->report_cond);
	init_cond(&h->quit_cond);

	/* Every thread inherits this: the signals are taken by sigwait() below only. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	umask(077);

	if (setup_statedir(h, &lock_fd, &err) < 0)
		goto fail;
	/* The name: as given; else the one this state directory joined under; else the host's. */
	rc = vdc_proto_saved_name(h->statedir, saved, NULL);
	if (rc == 0 && h->opt.name && strcmp(saved, h->opt.name) != 0) {
		fprintf(stderr, PROG ": %s joined vdcfs as %s, not %s; use --name %s, or remove %s/host.token and host.name to join anew\n",
			h->statedir, saved, h->opt.name, saved, h->statedir);
		return EXIT_USAGE;
	}
	if (h->opt.name)
		snprintf(h->name, sizeof(h->name), "%s", h->opt.name);
	else if (rc == 0)
		snprintf(h->name, sizeof(h->name), "%s", saved);
	else if (default_name(h->name, &err) < 0) {
		fprintf(stderr, PROG ": %s\n", err.msg);
		return EXIT_USAGE;
	}
	if (h->opt.pidfile && write_pidfile(h->opt.pidfile, &err) < 0)
		goto fail;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (vdc_proto_init(&h->proto, h->opt.server, h->opt.pin, h->name, "hva", h->statedir,
			   h->opt.token, &err) < 0)
		goto fail;
	h->proto.verbose = verbosity > 1;

	if (hva_libvirt_init(h, &err) < 0 || connect_libvirt(h, &sigs, &err) < 0)
		goto fail;
	if (measure(h, &err) < 0 || hva_drv_probe(h, &err) < 0)
		goto fail;
	if (get_token(h, &sigs, &err) < 0) {
		if (err.code == -ENOKEY) {
			fprintf(stderr, PROG ": %s (copy it from `cat /vdc/hosts/join`)\n", err.msg);
			return EXIT_USAGE;
		}
		goto fail;
	}
	gettimeofday(&tv, NULL);
	h->epoch_us = (uint64_t)tv.tv_sec * 1000000 + (uint64_t)tv.tv_usec;
	log_info("host %s: %s driver, %s, %u cpus, %" PRIu64 " MiB, libvirt %s at %s, state in %s",
		 h->name, h->drv->name, h->virt, h->cpus, h->memory_mib, h->libvirt_version, h->opt.uri,
		 h->statedir);

	if (hva_image_cache_init(&h->images, h->statedir, &h->proto, image_done, h, &err) < 0 ||
	    hva_image_cache_start(&h->images, &err) < 0 ||
	    hva_console_init(&h->console, &h->proto, &err) < 0 ||
	    hva_console_start(&h->console, &err) < 0)
		goto fail;
	if (pthread_create(&worker, NULL, hva_worker_thread, h) ||
	    pthread_create(&poller, NULL, hva_poller_thread, h) ||
	    pthread_create(&reporter, NULL, hva_reporter_thread, h)) {
		vdc_err_set(&err, -EAGAIN, "cannot start the agent's threads");
		goto fail;
	}

	for (;;) {
		if (sigwait(&sigs, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			log_info("SIGHUP: nothing to reload; the agent goes on");
			continue;
		}
		break;
	}
	log_info("stopping on signal %d; the guests run on", sig);
	pthread_mutex_lock(&h->lock);
	h->quit = true;
	pthread_cond_broadcast(&h->worker_cond);
	pthread_cond_broadcast(&h->report_cond);
	pthread_cond_broadcast(&h->quit_cond);
	pthread_mutex_unlock(&h->lock);
	vdc_proto_abort(&h->proto);
	pthread_join(poller, NULL);
	pthread_join(reporter, NULL);
	pthread_join(worker, NULL);
	hva_console_release(&h->console);
	hva_image_cache_release(&h->images);
	/* After the event thread has ended: no stream callback runs any more. */
	hva_libvirt_close(h);
	hva_drv_release(h);
	if (h->pending) {
		hva_desired_release(h->pending);
		free(h->pending);
	}
	free(h->status);
	free(h->vol_status);
	free(h->rebooted);
	vdc_proto_release(&h->proto);
	curl_global_cleanup();
	if (h->opt.pidfile)
		unlink(h->opt.pidfile);
	close(lock_fd);
	return 0;
fail:
	log_error("%s", err.msg);
	if (h->opt.pidfile)
		unlink(h->opt.pidfile);
	return 1;
}
