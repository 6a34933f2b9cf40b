/*
 * vdcfs's start-up: its options, the kinds it serves (kinds/kinds.c's
 * vdc_kind_list[]), mounting and serving the tree until it is unmounted,
 * and letting go of what the kernel never released.
 */
#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agentd.h"
#include "frontend.h"
#include "handle.h"
#include "kinds.h"
#include "notify.h"

/*
 * Readahead of the mount: the kernel gives a FUSE mount 128 KiB, which
 * holds a volume's data to 128 KiB requests behind tar's 10 KiB reads.
 * Raise it to VDC_READAHEAD_KB through the mount's bdi in sysfs (root
 * only; without it reads are just slower). Found by the mount's device
 * number in /proc/self/mountinfo, which needs no FUSE request.
 */
#define VDC_READAHEAD_KB "1024"
static void tune_readahead(const char *mnt)
{
	char real[PATH_MAX], line[8192], path[96];
	unsigned maj, min;
	FILE *f;
	int fd;

	if (!realpath(mnt, real) || !(f = fopen("/proc/self/mountinfo", "re")))
		return;
	while (fgets(line, sizeof(line), f)) {
		char point[PATH_MAX];

		if (sscanf(line, "%*u %*u %u:%u %*s %4095s", &maj, &min, point) != 3 || strcmp(point, real))
			continue;
		snprintf(path, sizeof(path), "/sys/class/bdi/%u:%u/read_ahead_kb", maj, min);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd >= 0) {
			if (write(fd, VDC_READAHEAD_KB, strlen(VDC_READAHEAD_KB)) < 0)
				fprintf(stderr, "vdcfs: cannot raise readahead in %s: %s\n", path, strerror(errno));
			close(fd);
		}
	}
	fclose(f);
}

struct options {
	char *state;
	char *sync;
	char *listen;
	char *advertise;
	char *host_timeout;
	char *heartbeat;
	int help;
	int version;
	char *nonopt[2];   /* [SOURCE] MOUNTPOINT, as mount(8) passes them */
	int nnonopt;
};

#define OPT(t, p) { t, offsetof(struct options, p), 1 }
static const struct fuse_opt option_spec[] = {
	OPT("state=%s", state),
	OPT("sync=%s", sync),
	OPT("listen=%s", listen),
	OPT("advertise=%s", advertise),
	OPT("host-timeout=%s", host_timeout),
	OPT("heartbeat=%s", heartbeat),
	OPT("-h", help),
	OPT("--help", help),
	OPT("-V", version),
	OPT("--version", version),
	FUSE_OPT_END
};

/* Keep the positional arguments: mount.fuse3 passes SOURCE before MOUNTPOINT. */
static int option_proc(void *data, const char *arg, int key, struct fuse_args *outargs)
{
	struct options *opt = data;

	(void)outargs;
	if (key != FUSE_OPT_KEY_NONOPT)
		return 1;
	if (opt->nnonopt == 2) {
		fprintf(stderr, "vdcfs: unexpected argument %s\n", arg);
		return -1;
	}
	opt->nonopt[opt->nnonopt++] = xstrdup(arg);
	return 0;
}

/* A whole number of seconds from 1 to 3600, or `def` when not given. */
static int seconds_opt(const char *name, const char *text, unsigned def, unsigned *out)
{
	struct vdc_err err = VDC_ERR_INIT;
	uint64_t n = def;

	if (text && vdc_uint_parse(text, strlen(text), name, 1, 3600, &n, &err) < 0) {
		fprintf(stderr, "vdcfs: %s\n", err.msg);
		return -1;
	}
	*out = (unsigned)n;
	return 0;
}

static void usage(const char *prog)
{
	printf("usage: %s -o state=DIR [-o sync=full] [-o allow_other] [-f] MOUNTPOINT\n"
	       "       %s DIR MOUNTPOINT [-o ...]      (as mount -t fuse.vdcfs calls it)\n\n"
	       "Mounts the virtual data center kept in DIR (made if missing) at MOUNTPOINT.\n"
	       "  -o state=DIR      where the data center lives (state.db, data/)\n"
	       "  -o sync=full      every write reaches the disk before it returns\n"
	       "                    (default: normal - safe against a crash of vdcfs,\n"
	       "                    a power loss may lose the last writes)\n"
	       "  -o listen=ADDR:PORT      where agents dial in (default: where they did\n"
	       "                    at the last mount, kept in DIR/listen; at the first,\n"
	       "                    0.0.0.0:7443, or a free port when 7443 is taken;\n"
	       "                    port 0 picks a free one; hosts/join tells it)\n"
	       "  -o advertise=HOST:PORT   the address hosts/join gives agents\n"
	       "  -o heartbeat=S    seconds between agents' reports (default 5)\n"
	       "  -o host-timeout=S seconds of silence before a host is unknown\n"
	       "                    (default 15)\n"
	       "  -o allow_other    let other users use the mount (see fuse(8))\n"
	       "  -f                stay in the foreground\n"
	       "  -s                serve one request at a time\n"
	       "Unmount with fusermount3 -u MOUNTPOINT.\n", prog, prog);
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct options opt = { 0 };
	struct fuse_cmdline_opts cl = { 0 };
	struct fuse_loop_config *lc;
	struct vdc_err err = VDC_ERR_INIT;
	char state[PATH_MAX], mnt[PATH_MAX];
	struct fuse_session *se = NULL;
	bool sync_full, mounted = false, handlers = false, agentd = false;
	unsigned heartbeat, host_timeout;
	int rc = 1;

	if (fuse_opt_parse(&args, &opt, option_spec, option_proc) < 0)
		return 1;
	if (opt.help) {
		usage(argv[0]);
		return 0;
	}
	if (opt.version) {
		printf("vdcfs 0.1 (libfuse %s)\n", fuse_pkgversion());
		return 0;
	}
	if (opt.nnonopt == 2 && !opt.state)
		opt.state = xstrdup(opt.nonopt[0]);
	if (opt.nnonopt)
		fuse_opt_add_arg(&args, opt.nonopt[opt.nnonopt - 1]);
	if (!opt.state) {
		fprintf(stderr, "vdcfs: -o state=DIR is required\n");
		usage(argv[0]);
		return 2;
	}
	if (opt.sync && strcmp(opt.sync, "full") && strcmp(opt.sync, "normal")) {
		fprintf(stderr, "vdcfs: sync=%s is not accepted; write sync=full or sync=normal\n", opt.sync);
		return 2;
	}
	sync_full = opt.sync && !strcmp(opt.sync, "full");
	if (seconds_opt("heartbeat", opt.heartbeat, 5, &heartbeat) < 0 ||
	    seconds_opt("host-timeout", opt.host_timeout, 15, &host_timeout) < 0)
		return 1;
	if (mkdir(opt.state, 0700) < 0 && errno != EEXIST) {
		fprintf(stderr, "vdcfs: cannot make %s: %s\n", opt.state, strerror(errno));
		return 1;
	}
	if (!realpath(opt.state, state)) {
		fprintf(stderr, "vdcfs: %s: %s\n", opt.state, strerror(errno));
		return 1;
	}
	fuse_opt_add_arg(&args, "-odefault_permissions,noatime,fsname=vdcfs,subtype=vdcfs");
	if (fuse_parse_cmdline(&args, &cl) < 0)
		goto done;   /* libfuse said why */
	if (!cl.mountpoint) {
		fprintf(stderr, "vdcfs: no mount point given\n");
		usage(argv[0]);
		goto done;
	}
	if (!realpath(cl.mountpoint, mnt)) {
		fprintf(stderr, "vdcfs: %s: %s\n", cl.mountpoint, strerror(errno));
		goto done;
	}
	/* Check the state before going to the background, where errors are unseen. */
	if (vdc_model_open(state, vdc_kind_list, sync_full, &err) < 0) {
		fprintf(stderr, "vdcfs: %s\n", err.msg);
		goto done;
	}
	vdc_model_close();
	vdc_model_set_mountpoint(mnt);
	if (vdc_agentd_prepare(state, &(struct vdc_agentd_opts){ opt.listen, opt.advertise, heartbeat, host_timeout },
			       &err) < 0) {
		fprintf(stderr, "vdcfs: %s\n", err.msg);
		goto done;
	}
	agentd = true;

	se = fuse_session_new(&args, &vdcfs_ops, sizeof(vdcfs_ops), NULL);
	if (!se)
		goto done;
	if (fuse_set_signal_handlers(se) < 0)
		goto done;
	handlers = true;
	if (fuse_session_mount(se, mnt) < 0)
		goto done;
	mounted = true;
	tune_readahead(mnt);
	if (fuse_daemonize(cl.foreground) < 0)
		goto done;
	if (vdc_model_open(state, vdc_kind_list, sync_full, &err) < 0) {
		fprintf(stderr, "vdcfs: %s\n", err.msg);
		goto done;
	}
	notify_start(se);
	vdc_model_set_live_hook(live_changed);
	vdc_model_set_flush_hook(tell_kernel);
	vdc_event(NULL, "vdcfs started on %s with state %s", mnt, state);
	if (vdc_agentd_start(&err) < 0) {
		fprintf(stderr, "vdcfs: %s\n", err.msg);
		vdc_event(NULL, "error: %s", err.msg);
		goto stop;
	}
	if (cl.singlethread) {
		rc = fuse_session_loop(se) ? 1 : 0;
	} else {
		lc = fuse_loop_cfg_create();
		fuse_loop_cfg_set_clone_fd(lc, cl.clone_fd);
		fuse_loop_cfg_set_max_threads(lc, 4);
		fuse_loop_cfg_set_idle_threads(lc, 4);
		rc = fuse_session_loop_mt(se, lc) ? 1 : 0;
		fuse_loop_cfg_destroy(lc);
	}
stop:
	handle_free_all();   /* opened, never released: the mount is gone */
	vdc_agentd_stop();
	agentd = false;
	vdc_model_close();
	notify_stop();
done:
	if (agentd)
		vdc_agentd_stop();
	if (mounted)
		fuse_session_unmount(se);
	if (handlers)
		fuse_remove_signal_handlers(se);
	if (se)
		fuse_session_destroy(se);
	free(cl.mountpoint);
	free(opt.state);
	free(opt.sync);
	free(opt.listen);
	free(opt.advertise);
	free(opt.host_timeout);
	free(opt.heartbeat);
	free(opt.nonopt[0]);
	free(opt.nonopt[1]);
	fuse_opt_free_args(&args);
	return rc;
}
