/*
 * vdc-sta: options, setup and shutdown. The work is done by the threads
 * described in sta.h; this file checks what the operator asked for,
 * prepares the state directory, measures the disk, joins vdcfs, starts
 * the threads and waits for a signal to stop. Stopping never touches a
 * target: tgtd is not the agent's child and serves on.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "agent.h"
#include "file.h"
#include "log.h"
#include "process.h"
#include "sta.h"
#include "validate.h"
#include "wire_doc.h"

#define PROG "vdc-sta"
#define EXIT_USAGE VDC_AGENT_EXIT_USAGE
#define DEFAULT_STATEDIR "/var/lib/vdc-sta"

#define usage_error(...) vdc_agent_usage_error(PROG, __VA_ARGS__)

static void usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " --server ADDR:PORT --pin sha256//BASE64 [--token TOKEN] [options]\n"
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
		"                          short host name and -sta)\n"
		"  --state DIR             state directory, holding the volumes (default " DEFAULT_STATEDIR ")\n"
		"  --portal ADDR:PORT      where initiators reach tgtd; reported to vdcfs (default:\n"
		"                          this host's address toward vdcfs, port 3260)\n"
		"  --tgt-control-port N    tgtd's control port (tgtd -C N, tgtadm -C N; default 0)\n"
		"  --disk SIZE             offer at most SIZE for volumes, like 500G (default: the\n"
		"                          free space of the state directory's filesystem)\n"
		"  --heartbeat S           report at least every S seconds (default 5, or what\n"
		"                          vdcfs asks; both are honoured when given)\n"
		"  --handshake-timeout S   give up a connection to vdcfs whose TCP connect and\n"
		"                          TLS handshake take over S seconds, 1..15 (default 5)\n"
		"  --leave                 remove everything the agent made on this host for its\n"
		"                          data center (targets, CHAP accounts, volumes and\n"
		"                          snapshots: their bytes are gone) and forget the join;\n"
		"                          needs tgtd, the same --state and --tgt-control-port\n"
		"  --pidfile FILE          write the agent's pid to FILE\n"
		"  -f, --foreground        accepted; always in the foreground\n"
		"  -v, --verbose           log every event (-vv: also curl's trace)\n"
		"  -h, --help              this text\n"
		"      --version           the version\n");
}


enum { OPT_PORTAL = VDC_AGENT_OPT_OWN, OPT_CONTROL_PORT, OPT_DISK, OPT_LEAVE };

static const struct option long_options[] = {
	VDC_AGENT_LONG_OPTIONS,
	{ "portal", required_argument, NULL, OPT_PORTAL },
	{ "tgt-control-port", required_argument, NULL, OPT_CONTROL_PORT },
	{ "disk", required_argument, NULL, OPT_DISK },
	{ "leave", no_argument, NULL, OPT_LEAVE },
	{ NULL, 0, NULL, 0 },
};

/* Check what needs more than one option's value. */
static int check_options(struct sta_options *o)
{
	struct vdc_err err = VDC_ERR_INIT;
	char *url = NULL;

	/* Leaving asks vdcfs nothing: it may be gone. */
	if (o->leave && (o->agent.server || o->agent.pin || o->agent.token || o->portal))
		return usage_error("--leave takes no --server, --pin, --token or --portal: it asks vdcfs nothing");
	if (o->leave)
		return vdc_agent_statedir_check(PROG, &o->agent) ? EXIT_USAGE : 0;
	if (vdc_agent_options_require(PROG, &o->agent))
		return EXIT_USAGE;
	if (vdc_agent_options_check(PROG, &o->agent))
		return EXIT_USAGE;
	if (!o->portal) {
		/* Where the host meets vdcfs, and tgtd's own port. */
		char addr[INET6_ADDRSTRLEN + 2];

		if (vdc_agent_local_addr(o->agent.server, addr, sizeof(addr), &err) < 0)
			return usage_error("--portal ADDR:PORT is needed, and the default (this host's address toward vdcfs) is unknown: %s",
					   err.msg);
		snprintf(o->portal_default, sizeof(o->portal_default), "%s:%u", addr, STA_PORTAL_PORT);
		o->portal = o->portal_default;
	}
	if (vdc_server_parse(o->portal, &url, &err) < 0)
		return usage_error("--portal: %s", err.msg);
	free(url);
	return 0;
}

/* Take vdc-sta's own option `c` (see struct vdc_agent_program). */
static int take_option(int c, void *opts)
{
	struct sta_options *o = opts;
	uint64_t v;

	switch (c) {
	case OPT_PORTAL: o->portal = optarg; return 0;
	case OPT_LEAVE: o->leave = true; return 0;
	case OPT_DISK:
		return vdc_agent_size_option(PROG, "--disk", optarg, 1u << 20, "1M", &o->disk);
	case OPT_CONTROL_PORT:
		if (vdc_agent_uint_option(PROG, "--tgt-control-port", optarg, 0, 65535, &v))
			return EXIT_USAGE;
		o->control_port = (unsigned)v;
		return 0;
	default:
		return VDC_AGENT_OPTION_NOT_OURS;
	}
}

static const struct vdc_agent_program program = {
	.name = PROG,
	.version = STA_VERSION,
	.default_statedir = DEFAULT_STATEDIR,
	.heartbeat_max = STA_HEARTBEAT_MAX,
	.usage = usage,
	.long_options = long_options,
	.take_option = take_option,
};

/* Parse argv into `o`; a usage error's exit code, 0, or -1 for --help/--version. */
static int parse_options(int argc, char **argv, struct sta_options *o)
{
	int rc;

	memset(o, 0, sizeof(*o));
	rc = vdc_agent_options_parse(&program, argc, argv, o, &o->agent);
	return rc ? rc : check_options(o);
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

static void stop_threads(struct sta *s, pthread_t *threads, size_t n)
{
	size_t i;

	vdc_agent_core_stop(&s->core);
	for (i = 0; i < n; i++)
		pthread_join(threads[i], NULL);
}

static void release(struct sta *s)
{
	vdc_image_cache_release(&s->images);
	vdc_agent_core_release(&s->core);
	json_decref(s->volumes);
	free(s->jobs);
	free(s->results);
	free(s->fetches);
	vdc_proto_release(&s->proto);
	curl_global_cleanup();
}

/* An image arrived (or its fetch failed): the worker looks again. */
static void image_done(void *arg)
{
	struct sta *s = arg;

	vdc_agent_core_kick_worker(&s->core);
}

/* --leave's part that is vdc-sta's (vdc_agent_leave). */
static int leave(void *agent, const char *dc, struct vdc_err *err)
{
	return sta_leave(agent, dc, err);
}

int main(int argc, char **argv)
{
	static struct sta sta;
	struct sta *s = &sta;
	struct vdc_err err = VDC_ERR_INIT;
	void *(*bodies[])(void *) = { sta_worker_thread, sta_copier_thread, vdc_agent_core_poller_thread,
				      vdc_agent_core_reporter_thread };
	void *args[] = { s, s, &s->core, &s->core };
	pthread_t threads[4];
	char tgtadm[PATH_MAX];
	int lock_fd = -1, rc, sig;
	sigset_t sigs;
	size_t i;

	rc = parse_options(argc, argv, &s->opt);
	if (rc)
		return rc < 0 ? 0 : rc;
	vdc_log_setup(PROG, s->opt.agent.verbosity ? VDC_LOG_DEBUG : VDC_LOG_INFO);
	s->drv = &sta_target_tgt;
	s->ctx.control_port = s->opt.control_port;
	vdc_agent_core_init(&s->core, &sta_core_ops, s, &s->proto, s->name, s->statedir);
	vdc_agent_cond_init(&s->copier_cond);

	/* Every thread inherits the mask: the signals are taken by sigwait() only. */
	vdc_agent_signals_setup(&sigs);

	if (vdc_spawn_find("tgtadm", tgtadm) < 0) {
		vdc_err_set(&err, -ENOENT, "tgtadm is not installed (Debian: apt install tgt); vdc-sta drives tgtd with it");
		goto fail;
	}
	/* 0700: the volumes are nobody else's. */
	if (vdc_agent_statedir_setup(PROG, s->opt.agent.statedir, 0700,
				     (const char *const[]){ "volumes", "snapshots", NULL }, s->statedir,
				     &lock_fd, &err) < 0)
		goto fail;
	if (s->opt.leave) {
		rc = vdc_agent_leave(s->statedir, leave, s);
		close(lock_fd);
		return rc;
	}
	rc = vdc_agent_name_pick(PROG, s->statedir, s->opt.agent.pin, s->opt.agent.name, STA_NAME_SUFFIX, s->name);
	if (rc)
		return rc;
	if (s->opt.agent.pidfile && vdc_agent_pidfile_write(s->opt.agent.pidfile, &err) < 0)
		goto fail;
	if (measure(s, &err) < 0)
		goto fail;
	if (vdc_agent_proto_init(&s->proto, &s->opt.agent, s->name, VDC_WIRE_KIND_STA, s->statedir, &err) < 0)
		goto fail;
	rc = vdc_agent_token_get(PROG, &s->proto, &sigs, &err);
	if (rc == -ENOKEY)
		return EXIT_USAGE;
	if (rc < 0)
		goto fail;
	s->core.epoch_us = vdc_agent_epoch_us();
	log_info("storage host %s: tgt (control port %u) at portal %s, %" PRIu64 " MiB offered, state in %s",
		 s->name, s->opt.control_port, s->opt.portal, s->disk_mib, s->statedir);
	if (vdc_image_cache_init(&s->images, s->statedir, &s->proto, image_done, s, &err) < 0)
		goto fail;
	s->images.raw = true;
	if (vdc_image_cache_start(&s->images, &err) < 0)
		goto fail;

	for (i = 0; i < sizeof(threads) / sizeof(threads[0]); i++) {
		if (pthread_create(&threads[i], NULL, bodies[i], args[i])) {
			vdc_err_set(&err, -EAGAIN, "cannot start the agent's threads");
			stop_threads(s, threads, i);
			goto fail;
		}
	}
	sig = vdc_agent_signal_wait(&sigs);
	log_info("stopping on signal %d; the targets serve on", sig);
	stop_threads(s, threads, sizeof(threads) / sizeof(threads[0]));
	release(s);
	if (s->opt.agent.pidfile)
		unlink(s->opt.agent.pidfile);
	close(lock_fd);
	return 0;
fail:
	log_error("%s", err.msg);
	if (s->opt.agent.pidfile)
		unlink(s->opt.agent.pidfile);
	return 1;
}
