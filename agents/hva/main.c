/*
 * vdc-hva: options, setup and shutdown. The work is done by the threads
 * described in hva.h; this file checks what the operator asked for,
 * prepares the state directory, connects to libvirt, joins vdcfs, starts
 * the threads and waits for a signal to stop. Stopping never touches a
 * guest: they belong to libvirtd and run on.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "agent.h"
#include "file.h"
#include "hva.h"
#include "log.h"
#include "rootfs.h"
#include "validate.h"
#include "wire_doc.h"

#define PROG "vdc-hva"
#define EXIT_USAGE VDC_AGENT_EXIT_USAGE
#define DEFAULT_STATEDIR "/var/lib/vdc-hva"

#define usage_error(...) vdc_agent_usage_error(PROG, __VA_ARGS__)

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
		"  --handshake-timeout S   give up a connection to vdcfs whose TCP connect and\n"
		"                          TLS handshake take over S seconds, 1..15 (default 5)\n"
		"  --shutdown-timeout S    seconds a graceful shutdown or reboot may take before\n"
		"                          the domain is forced (default 60)\n"
		"  --underlay ADDR         the IPv4 address of this host that VXLAN tunnels of\n"
		"                          virtual networks use (default: the one vdcfs is\n"
		"                          reached from)\n"
		"  --leave                 remove everything the agent made on this host for its\n"
		"                          data center (guests and their disks, networks, DHCP\n"
		"                          servers, rules, images) and forget the join; needs\n"
		"                          libvirt, the same --state, --driver and --connect,\n"
		"                          and no other option\n"
		"  --pidfile FILE          write the agent's pid to FILE\n"
		"  -f, --foreground        accepted for symmetry with vdcfs; always in the foreground\n"
		"  -v, --verbose           log every event (-vv: also curl's trace)\n"
		"  -h, --help              this text\n"
		"      --version           the version\n");
}


enum {
	OPT_CONNECT = VDC_AGENT_OPT_OWN, OPT_DRIVER, OPT_VIRT, OPT_CPUS, OPT_MEMORY,
	OPT_SHUTDOWN_TIMEOUT, OPT_UNDERLAY, OPT_LEAVE,
};

static const struct option long_options[] = {
	VDC_AGENT_LONG_OPTIONS,
	{ "connect", required_argument, NULL, OPT_CONNECT },
	{ "driver", required_argument, NULL, OPT_DRIVER },
	{ "virt", required_argument, NULL, OPT_VIRT },
	{ "cpus", required_argument, NULL, OPT_CPUS },
	{ "memory", required_argument, NULL, OPT_MEMORY },
	{ "shutdown-timeout", required_argument, NULL, OPT_SHUTDOWN_TIMEOUT },
	{ "underlay", required_argument, NULL, OPT_UNDERLAY },
	{ "leave", no_argument, NULL, OPT_LEAVE },
	{ NULL, 0, NULL, 0 },
};

static int virt_option(const char *arg, struct hva_options *o)
{
	if (strcmp(arg, "auto") == 0)
		o->virt = HVA_VIRT_AUTO;
	else if (strcmp(arg, "kvm") == 0)
		o->virt = HVA_VIRT_KVM;
	else if (strcmp(arg, "tcg") == 0)
		o->virt = HVA_VIRT_TCG;
	else
		return usage_error("--virt is auto, kvm or tcg, not '%s'", VDC_Q(arg));
	return 0;
}

/* Take vdc-hva's own option `c` (see struct vdc_agent_program). */
static int take_option(int c, void *opts)
{
	struct hva_options *o = opts;
	uint64_t v;

	switch (c) {
	case OPT_CONNECT: o->uri = optarg; return 0;
	case OPT_UNDERLAY: {
		uint32_t a;

		if (vdc_ipv4_parse(optarg, strlen(optarg), &a, NULL) < 0 || a == 0 || a >> 24 == 127 ||
		    a >> 28 >= 14)
			return usage_error("--underlay is a unicast IPv4 address of this host, not '%s'", VDC_Q(optarg));
		o->underlay = optarg;
		return 0;
	}
	case OPT_DRIVER: o->driver = optarg; return 0;
	case OPT_LEAVE: o->leave = true; return 0;
	case OPT_VIRT: return virt_option(optarg, o);
	case OPT_MEMORY:
		return vdc_agent_size_option(PROG, "--memory", optarg, 64u << 20, "64M", &o->memory);
	case OPT_CPUS:
		if (vdc_agent_uint_option(PROG, "--cpus", optarg, 1, 4096, &v))
			return EXIT_USAGE;
		o->cpus = (unsigned)v;
		return 0;
	case OPT_SHUTDOWN_TIMEOUT:
		if (vdc_agent_uint_option(PROG, "--shutdown-timeout", optarg, 0, 3600, &v))
			return EXIT_USAGE;
		o->shutdown_timeout_s = (unsigned)v;
		return 0;
	default:
		return VDC_AGENT_OPTION_NOT_OURS;
	}
}

/* Check what needs more than one option's value. */
static int check_options(struct hva_options *o)
{
	/* Leaving asks vdcfs nothing: it may be gone. */
	if (o->leave && (o->agent.server || o->agent.pin || o->agent.token))
		return usage_error("--leave takes no --server, --pin or --token: it asks vdcfs nothing");
	if (o->leave ? vdc_agent_statedir_check(PROG, &o->agent)
		     : vdc_agent_options_require(PROG, &o->agent) || vdc_agent_options_check(PROG, &o->agent))
		return EXIT_USAGE;
	if (!hva_driver_find(o->driver))
		return usage_error("--driver is qemu or lxc, not '%s'", VDC_Q(o->driver));
	if (strcmp(o->driver, "lxc") == 0 && o->virt != HVA_VIRT_AUTO)
		return usage_error("--virt is for the qemu driver only");
	if (o->uri && !*o->uri)
		return usage_error("--connect needs a libvirt URI, like qemu:///system");
	return 0;
}

static const struct vdc_agent_program program = {
	.name = PROG,
	.version = HVA_VERSION,
	.default_statedir = DEFAULT_STATEDIR,
	.heartbeat_max = HVA_HEARTBEAT_MAX,
	.usage = usage,
	.long_options = long_options,
	.take_option = take_option,
};

/* Parse argv into `o`; a usage error's exit code, 0, or -1 for --help/--version. */
static int parse_options(int argc, char **argv, struct hva_options *o)
{
	int rc;

	memset(o, 0, sizeof(*o));
	o->driver = "qemu";
	o->virt = HVA_VIRT_AUTO;
	o->shutdown_timeout_s = 60;
	rc = vdc_agent_options_parse(&program, argc, argv, o, &o->agent);
	return rc ? rc : check_options(o);
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

/*
 * Call `attempt` until it succeeds, waiting with backoff between tries (the
 * first failure is logged), for what may come after the agent: libvirtd,
 * a route to vdcfs. A failure with -EINVAL is final (the options are
 * wrong, not the moment), and so is a signal while waiting (-EINTR,
 * naming `what`).
 */
static int wait_for(struct hva *h, sigset_t *sigs, int (*attempt)(struct hva *, struct vdc_err *),
		    const char *what, struct vdc_err *err)
{
	unsigned failures = 0;

	for (;;) {
		struct timespec ts;
		siginfo_t si;
		int rc = attempt(h, err);

		if (rc == 0 || rc == -EINVAL)
			return rc;
		if (failures++ == 0)
			log_error("%s; waiting for it", err->msg);
		ts.tv_sec = vdc_agent_backoff_ms(failures) / 1000;
		ts.tv_nsec = 0;
		if (sigtimedwait(sigs, &si, &ts) > 0)
			return vdc_err_set(err, -EINTR, "stopped by signal %d while waiting for %s", si.si_signo, what);
	}
}

/*
 * The address VXLAN tunnels use: --underlay, or the source address of
 * this host's route to vdcfs (a UDP socket connected to it, which sends
 * nothing), so that hosts which reach vdcfs reach each other the same way.
 */
static int underlay_pick(struct hva *h, struct vdc_err *err)
{
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_DGRAM }, *ai = NULL;
	const char *server = h->opt.agent.server, *colon = strrchr(server, ':');
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	char host[256];
	int fd, rc;

	if (h->opt.underlay) {
		vdc_ipv4_parse(h->opt.underlay, strlen(h->opt.underlay), &h->underlay, NULL);
		snprintf(h->underlay_text, sizeof(h->underlay_text), "%s", h->opt.underlay);
		return 0;
	}
	if (!colon || server[0] == '[' || (size_t)(colon - server) >= sizeof(host))
		return vdc_err_set(err, -EINVAL, "cannot tell this host's underlay address from --server %s; give --underlay",
				   VDC_Q(server));
	memcpy(host, server, (size_t)(colon - server));
	host[colon - server] = '\0';
	rc = getaddrinfo(host, colon + 1, &hints, &ai);
	if (rc != 0)
		return vdc_err_set(err, -EHOSTUNREACH, "cannot resolve %s for the underlay address: %s; give --underlay",
				   VDC_Q(host), gai_strerror(rc));
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	rc = fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 ||
	     getsockname(fd, (struct sockaddr *)&sa, &len) < 0 ? -errno : 0;
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	if (rc < 0)
		return vdc_err_set(err, rc, "this host has no route to %s for the underlay address: %s; give --underlay",
				   VDC_Q(host), strerror(-rc));
	h->underlay = ntohl(sa.sin_addr.s_addr);
	inet_ntop(AF_INET, &sa.sin_addr, h->underlay_text, sizeof(h->underlay_text));
	return 0;
}


static void image_done(void *arg)
{
	struct hva *h = arg;

	vdc_agent_core_kick_worker(&h->core);
}

/* --leave's part that is vdc-hva's (vdc_agent_leave): libvirt is needed for it alone. */
static int leave(void *agent, const char *dc, struct vdc_err *err)
{
	struct hva *h = agent;
	int rc = hva_libvirt_init(h, err);

	if (rc == 0)
		rc = hva_libvirt_connect(h, err);
	if (rc == 0)
		rc = hva_leave(h, dc, err);
	vdc_agent_core_stop(&h->core);   /* ends libvirt's event thread */
	hva_libvirt_close(h);
	return rc;
}

int main(int argc, char **argv)
{
	static struct hva hva;
	struct hva *h = &hva;
	struct vdc_err err = VDC_ERR_INIT;
	pthread_t poller, worker, reporter;
	int lock_fd = -1, rc, sig;
	sigset_t sigs;

	/* The lxc driver's helper for idmapped mounts (rootfs.h). */
	if (argc > 1 && strcmp(argv[1], HVA_ROOTFS_HELPER) == 0)
		return hva_rootfs_helper_main(argc, argv);
	rc = parse_options(argc, argv, &h->opt);
	if (rc)
		return rc < 0 ? 0 : rc;
	vdc_log_setup(PROG, h->opt.agent.verbosity ? VDC_LOG_DEBUG : VDC_LOG_INFO);
	h->drv = hva_driver_find(h->opt.driver);
	if (!h->opt.uri)
		h->opt.uri = h->drv->default_uri;
	vdc_agent_core_init(&h->core, &hva_core_ops, h, &h->proto, h->name, h->statedir);
	hva_usage_init(&h->usage);
	pthread_mutex_init(&h->conn_lock, NULL);

	/* Every thread inherits the mask: the signals are taken by sigwait() below only. */
	vdc_agent_signals_setup(&sigs);

	/*
	 * 0711: qemu, perhaps another user, must pass through the state
	 * directory to the disks. Its path is made absolute: libvirt needs that.
	 */
	if (vdc_agent_statedir_setup(PROG, h->opt.agent.statedir, 0711, (const char *const[]){ "instances", "networks", NULL },
				     h->statedir, &lock_fd, &err) < 0)
		goto fail;
	if (h->opt.leave) {
		rc = vdc_agent_leave(h->statedir, leave, h);
		close(lock_fd);
		return rc;
	}
	rc = vdc_agent_name_pick(PROG, h->statedir, h->opt.agent.pin, h->opt.agent.name, NULL, h->name);
	if (rc)
		return rc;
	if (h->opt.agent.pidfile && vdc_agent_pidfile_write(h->opt.agent.pidfile, &err) < 0)
		goto fail;

	if (vdc_agent_proto_init(&h->proto, &h->opt.agent, h->name, VDC_WIRE_KIND_HVA, h->statedir, &err) < 0)
		goto fail;

	if (hva_libvirt_init(h, &err) < 0 || wait_for(h, &sigs, hva_libvirt_connect, "libvirt", &err) < 0)
		goto fail;
	if (measure(h, &err) < 0 || hva_drv_probe(h, &err) < 0 ||
	    wait_for(h, &sigs, underlay_pick, "a route to vdcfs", &err) < 0)
		goto fail;
	rc = vdc_agent_token_get(PROG, &h->proto, &sigs, &err);
	if (rc == -ENOKEY)
		return EXIT_USAGE;
	if (rc < 0)
		goto fail;
	h->core.epoch_us = vdc_agent_epoch_us();
	log_info("host %s: %s driver, %s, %u cpus, %" PRIu64 " MiB, libvirt %s at %s, underlay %s, state in %s",
		 h->name, h->drv->name, h->virt, h->cpus, h->memory_mib, h->libvirt_version, h->opt.uri,
		 h->underlay_text, h->statedir);

	if (vdc_image_cache_init(&h->images, h->statedir, &h->proto, image_done, h, &err) < 0 ||
	    vdc_image_cache_start(&h->images, &err) < 0 ||
	    hva_console_init(&h->console, &h->proto, &err) < 0 ||
	    hva_console_start(&h->console, &err) < 0 ||
	    hva_console_input_init(&h->console_input, h, &err) < 0 ||
	    hva_console_input_start(&h->console_input, &err) < 0)
		goto fail;
	if (pthread_create(&worker, NULL, hva_worker_thread, h) ||
	    pthread_create(&poller, NULL, vdc_agent_core_poller_thread, &h->core) ||
	    pthread_create(&reporter, NULL, vdc_agent_core_reporter_thread, &h->core)) {
		vdc_err_set(&err, -EAGAIN, "cannot start the agent's threads");
		goto fail;
	}

	sig = vdc_agent_signal_wait(&sigs);
	log_info("stopping on signal %d; the guests run on", sig);
	vdc_agent_core_stop(&h->core);
	pthread_join(poller, NULL);
	pthread_join(reporter, NULL);
	pthread_join(worker, NULL);
	hva_console_release(&h->console);
	hva_console_input_release(&h->console_input);
	vdc_image_cache_release(&h->images);
	/* After the event thread has ended: no stream callback runs any more. */
	hva_libvirt_close(h);
	hva_drv_release(h);
	vdc_agent_core_release(&h->core);
	free(h->status);
	free(h->vol_status);
	free(h->rebooted);
	vdc_proto_release(&h->proto);
	curl_global_cleanup();
	if (h->opt.agent.pidfile)
		unlink(h->opt.agent.pidfile);
	close(lock_fd);
	return 0;
fail:
	log_error("%s", err.msg);
	if (h->opt.agent.pidfile)
		unlink(h->opt.agent.pidfile);
	return 1;
}
