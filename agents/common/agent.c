/*
 * The setup and the clocks vdc-hva and vdc-sta share (agent.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "agent.h"
#include "file.h"
#include "log.h"
#include "validate.h"

int vdc_agent_usage_error(const char *prog, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(%s --help lists the options)\n", prog);
	return VDC_AGENT_EXIT_USAGE;
}

int vdc_agent_uint_option(const char *prog, const char *name, const char *arg, uint64_t min,
			  uint64_t max, uint64_t *out)
{
	struct vdc_err err = VDC_ERR_INIT;

	if (vdc_uint_parse(arg, strlen(arg), name, min, max, out, &err) < 0)
		return vdc_agent_usage_error(prog, "%s", err.msg);
	return 0;
}

static void options_init(struct vdc_agent_options *o, const struct vdc_agent_program *prog)
{
	memset(o, 0, sizeof(*o));
	o->statedir = prog->default_statedir;
	o->heartbeat_s = 5;
	o->handshake_s = VDC_PROTO_HANDSHAKE_S;
}

/* --heartbeat S: at least every S seconds, and given (vdcfs's wish no longer overrides it). */
static int heartbeat_option(const struct vdc_agent_program *prog, const char *arg,
			    struct vdc_agent_options *o)
{
	uint64_t v;

	if (vdc_agent_uint_option(prog->name, "--heartbeat", arg, 1, prog->heartbeat_max, &v))
		return VDC_AGENT_EXIT_USAGE;
	o->heartbeat_s = (unsigned)v;
	o->heartbeat_given = true;
	return 0;
}

/* Take an option both agents take, or getopt's report of a missing value or an unknown option. */
static int common_option(const struct vdc_agent_program *prog, int c, char **argv,
			 struct vdc_agent_options *o)
{
	switch (c) {
	case VDC_AGENT_OPT_SERVER: o->server = optarg; return 0;
	case VDC_AGENT_OPT_PIN: o->pin = optarg; return 0;
	case VDC_AGENT_OPT_TOKEN: o->token = optarg; return 0;
	case VDC_AGENT_OPT_NAME: o->name = optarg; return 0;
	case VDC_AGENT_OPT_STATE: o->statedir = optarg; return 0;
	case VDC_AGENT_OPT_PIDFILE: o->pidfile = optarg; return 0;
	case VDC_AGENT_OPT_HEARTBEAT:
		return heartbeat_option(prog, optarg, o);
	case VDC_AGENT_OPT_HANDSHAKE: {
		uint64_t v;

		if (vdc_agent_uint_option(prog->name, "--handshake-timeout", optarg, 1,
					  VDC_PROTO_HANDSHAKE_MAX_S, &v))
			return VDC_AGENT_EXIT_USAGE;
		o->handshake_s = (unsigned)v;
		return 0;
	}
	case 'f':
		return 0;
	case 'v':
		o->verbosity++;
		return 0;
	case 'h':
		prog->usage(stdout);
		return -1;
	case VDC_AGENT_OPT_VERSION:
		printf("%s %s\n", prog->name, prog->version);
		return -1;
	case ':':
		return vdc_agent_usage_error(prog->name, "%s needs a value", argv[optind - 1]);
	default:
		return vdc_agent_usage_error(prog->name, "unknown option '%s'", VDC_Q(argv[optind - 1]));
	}
}

int vdc_agent_options_parse(const struct vdc_agent_program *prog, int argc, char **argv,
			    void *opts, struct vdc_agent_options *o)
{
	int c, rc;

	options_init(o, prog);
	/* getopt says nothing itself; the leading ':' reports a missing value as ':'. */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":fvh", prog->long_options, NULL)) != -1) {
		rc = prog->take_option(c, opts);
		if (rc == VDC_AGENT_OPTION_NOT_OURS)
			rc = common_option(prog, c, argv, o);
		if (rc)
			return rc;
	}
	if (optind < argc)
		return vdc_agent_usage_error(prog->name, "unexpected argument '%s'", VDC_Q(argv[optind]));
	return 0;
}

int vdc_agent_size_option(const char *prog, const char *name, const char *arg, uint64_t min,
			  const char *min_text, uint64_t *out)
{
	struct vdc_err err = VDC_ERR_INIT;

	if (vdc_size_parse(arg, strlen(arg), name, out, &err) < 0)
		return vdc_agent_usage_error(prog, "%s", err.msg);
	if (*out < min)
		return vdc_agent_usage_error(prog, "%s %s is less than %s", name, VDC_Q(arg), min_text);
	return 0;
}

int vdc_agent_options_require(const char *prog, const struct vdc_agent_options *o)
{
	if (!o->server)
		return vdc_agent_usage_error(prog, "--server ADDR:PORT is needed (see `cat /vdc/hosts/join`)");
	if (!o->pin)
		return vdc_agent_usage_error(prog, "--pin sha256//BASE64 is needed (see `cat /vdc/hosts/join`)");
	return 0;
}

int vdc_agent_options_check(const char *prog, const struct vdc_agent_options *o)
{
	struct vdc_err err = VDC_ERR_INIT;
	char *url = NULL;

	if (vdc_server_parse(o->server, &url, &err) < 0)
		return vdc_agent_usage_error(prog, "%s", err.msg);
	free(url);
	if (vdc_pin_check(o->pin, &err) < 0)
		return vdc_agent_usage_error(prog, "%s", err.msg);
	if (o->token && vdc_token_check(o->token, &err) < 0)
		return vdc_agent_usage_error(prog, "--token: %s", err.msg);
	if (o->name && vdc_name_check(o->name, strlen(o->name), &err) < 0)
		return vdc_agent_usage_error(prog, "--name: %s", err.msg);
	return vdc_agent_statedir_check(prog, o);
}

int vdc_agent_statedir_check(const char *prog, const struct vdc_agent_options *o)
{
	if (!*o->statedir || strlen(o->statedir) > PATH_MAX - 256)
		return vdc_agent_usage_error(prog, "--state needs a folder name of at most %d characters",
					     PATH_MAX - 256);
	return 0;
}

/*
 * The short host name, lower-cased, and `suffix` (NULL: none), if it is
 * a usable host name in vdcfs.
 */
static int default_name(const char *suffix, char *out, struct vdc_err *err)
{
	char host[256];
	size_t i;

	if (gethostname(host, sizeof(host)) < 0)
		return vdc_err_set(err, -errno, "cannot read the host name: %s", strerror(errno));
	host[sizeof(host) - 1] = '\0';
	host[strcspn(host, ".")] = '\0';
	if (suffix && strlen(host) + strlen(suffix) <= VDC_NAME_MAX)
		memcpy(host + strlen(host), suffix, strlen(suffix) + 1);
	for (i = 0; host[i]; i++)
		if (host[i] >= 'A' && host[i] <= 'Z')
			host[i] = (char)(host[i] - 'A' + 'a');
	if (vdc_name_check(host, strlen(host), NULL) < 0)
		return vdc_err_set(err, -EINVAL, "the host name '%s' is not a vdcfs name (1-63 of a-z, 0-9 and '-', starting with a letter); give one with --name",
				   VDC_Q(host));
	snprintf(out, VDC_NAME_MAX + 1, "%s", host);
	return 0;
}

int vdc_agent_local_addr(const char *server, char *out, size_t n, struct vdc_err *err)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *res = NULL;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	const char *colon = strrchr(server, ':');
	char host[256], addr[INET6_ADDRSTRLEN];
	size_t hlen;
	int fd, rc;

	if (!colon || (size_t)(colon - server) >= sizeof(host))
		return vdc_err_set(err, -EINVAL, "--server '%s' is not ADDR:PORT", VDC_Q(server));
	hlen = (size_t)(colon - server);
	if (server[0] == '[' && hlen >= 2 && server[hlen - 1] == ']')
		snprintf(host, sizeof(host), "%.*s", (int)hlen - 2, server + 1);
	else
		snprintf(host, sizeof(host), "%.*s", (int)hlen, server);
	rc = getaddrinfo(host, colon + 1, &hints, &res);
	if (rc != 0)
		return vdc_err_set(err, -EHOSTUNREACH, "cannot resolve %s: %s", VDC_Q(host), gai_strerror(rc));
	fd = socket(res->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	rc = fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) < 0 ||
	     getsockname(fd, (struct sockaddr *)&ss, &len) < 0 ? -errno : 0;
	freeaddrinfo(res);
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		return vdc_err_set(err, rc, "no route from this host to %s: %s", VDC_Q(server), strerror(-rc));
	if (ss.ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, addr, sizeof(addr));
		snprintf(out, n, "[%s]", addr);
	} else {
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, addr, sizeof(addr));
		snprintf(out, n, "%s", addr);
	}
	return 0;
}

int vdc_agent_name_pick(const char *prog, const char *statedir, const char *pin, const char *given,
			const char *suffix, char *out)
{
	struct vdc_err err = VDC_ERR_INIT;
	char saved[VDC_NAME_MAX + 1];
	int rc = vdc_proto_saved_name(statedir, pin, saved, NULL);

	if (rc == 0 && given && strcmp(saved, given) != 0) {
		fprintf(stderr, "%s: %s joined vdcfs as %s, not %s; use --name %s, or remove %s/host.token and host.name to join anew\n",
			prog, statedir, saved, given, saved, statedir);
		return VDC_AGENT_EXIT_USAGE;
	}
	if (given)
		snprintf(out, VDC_NAME_MAX + 1, "%s", given);
	else if (rc == 0)
		snprintf(out, VDC_NAME_MAX + 1, "%s", saved);
	else if (default_name(suffix, out, &err) < 0) {
		fprintf(stderr, "%s: %s\n", prog, err.msg);
		return VDC_AGENT_EXIT_USAGE;
	}
	return 0;
}

/* Take STATEDIR/lock; -EBUSY when another agent holds it. */
static int statedir_lock(const char *prog, const char *statedir, int *lock_fd, struct vdc_err *err)
{
	char path[PATH_MAX];
	int fd;

	vdc_path(path, "%s/lock", statedir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return vdc_err_set(err, -errno, "cannot open %s: %s", path, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		return vdc_err_set(err, -EBUSY, "another %s runs with the state directory %s", prog, statedir);
	}
	*lock_fd = fd;
	return 0;
}

int vdc_agent_statedir_setup(const char *prog, const char *given, mode_t mode,
			     const char *const subdirs[], char *out, int *lock_fd,
			     struct vdc_err *err)
{
	char path[PATH_MAX];
	size_t i;
	int rc;

	rc = vdc_mkdirs(given, mode, err);
	if (rc < 0)
		return rc;
	if (!realpath(given, out))
		return vdc_err_set(err, -errno, "cannot resolve %s: %s", given, strerror(errno));
	for (i = 0; subdirs[i]; i++) {
		vdc_path(path, "%s/%s", out, subdirs[i]);
		rc = vdc_mkdirs(path, mode, err);
		if (rc < 0)
			return rc;
	}
	return statedir_lock(prog, out, lock_fd, err);
}

int vdc_agent_pidfile_write(const char *path, struct vdc_err *err)
{
	char text[32];

	snprintf(text, sizeof(text), "%ld\n", (long)getpid());
	return vdc_file_write_atomic(path, text, strlen(text), 0644, err);
}

void vdc_agent_signals_setup(sigset_t *sigs)
{
	sigemptyset(sigs);
	sigaddset(sigs, SIGTERM);
	sigaddset(sigs, SIGINT);
	sigaddset(sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	umask(077);
}

int vdc_agent_signal_wait(sigset_t *sigs)
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

long vdc_agent_backoff_ms(unsigned failures)
{
	return 1000L << (failures < 5 ? failures : 5);
}

int vdc_agent_proto_init(struct vdc_proto *proto, const struct vdc_agent_options *o,
			 const char *name, const char *kind, const char *statedir,
			 struct vdc_err *err)
{
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = vdc_proto_init(proto, o->server, o->pin, name, kind, statedir, o->token, err);
	if (rc < 0)
		return rc;
	proto->verbose = o->verbosity > 1;
	proto->connect_timeout_s = o->handshake_s;
	return 0;
}

/* Load the host token or join, waiting for vdcfs with backoff. */
static int token_wait(struct vdc_proto *proto, sigset_t *sigs, struct vdc_err *err)
{
	struct vdc_conn link;
	unsigned failures = 0;
	int rc;

	rc = vdc_conn_init(&link, proto, err);
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
		ts.tv_sec = vdc_agent_backoff_ms(failures) / 1000;
		ts.tv_nsec = 0;
		if (sigtimedwait(sigs, &si, &ts) > 0) {
			rc = vdc_err_set(err, -EINTR, "stopped by signal %d while joining", si.si_signo);
			break;
		}
	}
	vdc_conn_release(&link);
	return rc;
}

int vdc_agent_token_get(const char *prog, struct vdc_proto *proto, sigset_t *sigs,
			struct vdc_err *err)
{
	int rc = token_wait(proto, sigs, err);

	if (rc == -ENOKEY)
		fprintf(stderr, "%s: %s (copy it from `cat /vdc/hosts/join`)\n", prog, err->msg);
	return rc;
}

void vdc_agent_cond_init(pthread_cond_t *c)
{
	pthread_condattr_t a;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(c, &a);
	pthread_condattr_destroy(&a);
}

long vdc_agent_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t vdc_agent_epoch_us(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (uint64_t)tv.tv_sec * 1000000 + (uint64_t)tv.tv_usec;
}

/* ---- the data center joined, and leaving it ---- */

int vdc_agent_dc_save(const char *statedir, const char *dc)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct strbuf line = STRBUF_INIT;
	char path[PATH_MAX];
	int rc;

	vdc_path(path, "%s/" VDC_AGENT_DC_FILE, statedir);
	strbuf_addf(&line, "%s\n", dc);
	rc = vdc_file_write_atomic(path, line.buf, line.len, 0600, &err);
	strbuf_release(&line);
	if (rc < 0)
		log_warn("%s (--leave will not know this data center's things)", err.msg);
	return rc;
}

int vdc_agent_dc_load(const char *statedir, struct strbuf *out, struct vdc_err *err)
{
	char path[PATH_MAX];
	int rc;

	vdc_path(path, "%s/" VDC_AGENT_DC_FILE, statedir);
	rc = vdc_file_read(path, 256, out, err);
	while (rc == 0 && out->len && out->buf[out->len - 1] == '\n')
		strbuf_setlen(out, out->len - 1);
	return rc;
}

int vdc_agent_forget_join(const char *statedir, struct vdc_err *err)
{
	static const char *const files[] = { "host.token", "host.name", "host.dc", VDC_AGENT_DC_FILE, NULL };
	char path[PATH_MAX];
	size_t i;

	for (i = 0; files[i]; i++) {
		vdc_path(path, "%s/%s", statedir, files[i]);
		if (unlink(path) < 0 && errno != ENOENT)
			return vdc_err_set(err, -errno, "cannot remove %s: %s", path, strerror(errno));
	}
	return 0;
}

int vdc_agent_leave(const char *statedir, int (*remove)(void *agent, const char *dc, struct vdc_err *err),
		    void *agent)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct strbuf dc = STRBUF_INIT;
	int rc = vdc_agent_dc_load(statedir, &dc, &err);

	if (rc == -ENOENT) {
		log_info("%s has no " VDC_AGENT_DC_FILE ": this agent made nothing for a data center here", statedir);
		rc = 0;
	} else if (rc == 0) {
		rc = remove(agent, dc.buf, &err);
	}
	if (rc == 0)
		rc = vdc_agent_forget_join(statedir, &err);
	if (rc == 0)
		log_info("left data center %s: nothing of it is left on this host, and %s has joined none",
			 dc.len ? dc.buf : "(none known)", statedir);
	else
		log_error("--leave: %s", err.msg);
	strbuf_release(&dc);
	return rc < 0 ? 1 : 0;
}
