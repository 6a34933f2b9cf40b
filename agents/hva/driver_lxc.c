/*
 * The lxc driver: containers under libvirt's lxc driver (lxc:///system),
 * behind the same table as qemu.
 *
 * An image for containers is a root filesystem tarball; an instance runs
 * on a copy-on-write root made from it and gets its NoCloud seed as
 * cloud-init's seed folder (rootfs.h). libvirt's lxc console is a pty
 * that nobody logs, so the driver follows it itself: a libvirt stream per
 * running container (virDomainOpenConsole), read in libvirt's event loop
 * and appended to console.log, which the console follower uploads as for
 * qemu. The pty holds what a container prints before the stream opens.
 *
 * libvirt has no reset for containers; a reset here is destroy and start.
 * A reboot is libvirt's: SIGHUP to the container's init (or its initctl
 * pipe), whose reboot(2) makes libvirt start the container again, with a
 * new libvirt_lxc process, whose pid is the domain id, so a new id.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "disk.h"
#include "file.h"
#include "hva.h"
#include "log.h"
#include "rootfs.h"
#include "process.h"

/* A console stream of one run of a container (its libvirt_lxc's pid is the domain id). */
struct lxc_console {
	char domain[VDC_NAME_MAX + 1];
	unsigned int id;
	virStreamPtr st;
	int fd;                       /* console.log, O_APPEND */
	bool done;                    /* [consoles_lock] the stream ended; the worker frees it */
};

/*
 * The streams: opened and freed by the worker, read by libvirt's event
 * thread; `done` hands an ended one back.
 */
static pthread_mutex_t consoles_lock = PTHREAD_MUTEX_INITIALIZER;
static struct lxc_console **consoles;
static size_t n_consoles;

/*
 * Whether the mounts tell of a hybrid cgroup layout (cgroup2 below a
 * folder of v1 hierarchies), on which libvirt 9.0's libvirt_lxc cannot
 * start a container: it mounts the cgroup2 folder before the tmpfs that
 * would hold it ("Unable to create directory /sys/fs/cgroup/unified").
 */
static bool hybrid_cgroups(char *where, size_t size)
{
	char line[1024], dev[256], dir[PATH_MAX], type[64];
	bool v1 = false, v2_below = false;
	FILE *f = fopen("/proc/self/mounts", "re");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%255s %4095s %63s", dev, dir, type) != 3)
			continue;
		if (strcmp(type, "cgroup") == 0)
			v1 = true;
		if (strcmp(type, "cgroup2") == 0 && strcmp(dir, "/sys/fs/cgroup") != 0) {
			v2_below = true;
			snprintf(where, size, "%s", dir);
		}
	}
	fclose(f);
	return v1 && v2_below;
}

static bool has_overlayfs(void)
{
	char line[256];
	bool found = false;
	FILE *f = fopen("/proc/filesystems", "re");

	if (!f)
		return true;   /* cannot tell; the mount will say */
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, "\toverlay\n") != NULL;
	fclose(f);
	return found;
}

static int lxc_probe(struct hva *h, struct vdc_err *err)
{
	virConnectPtr conn = hva_libvirt_get(h);
	char path[PATH_MAX], where[PATH_MAX];
	const char *type;
	int rc = 0;

	if (!conn)
		return vdc_err_set(err, -ENOTCONN, "libvirt is not connected");
	type = virConnectGetType(conn);
	if (!type || strcmp(type, "LXC") != 0)
		rc = vdc_err_set(err, -EINVAL, "--driver lxc needs an lxc connection (--connect lxc:///system), not %s",
				 type ? type : "an unknown one");
	virConnectClose(conn);
	h->domain_type = HVA_DOMAIN_LXC;
	snprintf(h->virt, sizeof(h->virt), "lxc");
	if (rc < 0)
		return rc;
	if (vdc_spawn_find("tar", path) < 0)
		return vdc_err_set(err, -ENOENT, "tar is not installed (apt-get install tar)");
	if (!has_overlayfs())
		return vdc_err_set(err, -ENODEV, "the kernel has no overlayfs, which container roots need (modprobe overlay)");
	/* Containers are never root on the host: without mappings, no container runs. */
	if ((rc = hva_rootfs_helper_init(err)) < 0 || (rc = hva_rootfs_idmap_probe(h->statedir, err)) < 0)
		return rc;
	if (hybrid_cgroups(where, sizeof(where)))
		log_warn("cgroup2 is mounted at %s beside cgroup v1 hierarchies: libvirt's lxc driver (9.0) "
			 "cannot start containers on such a hybrid layout; unmount it in libvirtd's mount "
			 "namespace or boot with one cgroup layout (docs/vdc-hva.md)", where);
	return 0;
}

/* The SHA-256 the instance's root was made from: the one recorded, else `sha` (recorded now). */
static int root_image(const struct hva_inst_paths *p, const char *sha, char out[65], struct vdc_err *err)
{
	struct strbuf ref = STRBUF_INIT;
	char text[80];
	int rc;

	if (vdc_file_read(p->image_ref, 128, &ref, NULL) == 0 && ref.len >= 64) {
		memcpy(out, ref.buf, 64);
		out[64] = '\0';
		strbuf_release(&ref);
		return 0;
	}
	strbuf_release(&ref);
	/* The reference first: the cache must not drop an image a root is made from. */
	snprintf(text, sizeof(text), "%s\n", sha);
	rc = vdc_file_write_atomic(p->image_ref, text, strlen(text), 0600, err);
	if (rc < 0)
		return rc;
	snprintf(out, 65, "%s", sha);
	return 0;
}

/*
 * The instance folder is made root's alone (0700) and opened to the
 * container's group (0710) only once the block is known: at no moment can
 * another user pass through it to the container's root.
 */
static int lxc_prepare(struct hva *h, const struct hva_instance_spec *in, const char *image_path,
		       struct vdc_err *err)
{
	struct hva_inst_paths p;
	char sha[65], lower[PATH_MAX];
	uint32_t base;
	int rc;

	if (!image_path)
		return vdc_err_set(err, -ENOENT, "no image is linked; link a root filesystem tarball (ln -s ../../images/NAME image) before power on");
	rc = vdc_image_tar_of(image_path, err);
	if (rc < 0)
		return vdc_err_wrap(err, rc, "image %s cannot be used", in->image.name);
	if (rc == 0)
		return vdc_err_set(err, -EINVAL, "image %s is a disk image, not a root filesystem tarball: the lxc driver runs containers from a tar archive of a root filesystem",
				   in->image.name);
	hva_inst_paths(h->statedir, in->domain, &p);
	/* The container's folder is root's alone (a qemu instance's is 0711). */
	if ((rc = hva_inst_dir_make(&p, 0700, err)) < 0)
		return rc;
	/* Like a boot disk, the root is made once: relinking the image does not replace it. */
	if ((rc = root_image(&p, in->image.sha256, sha, err)) < 0)
		return rc;
	if ((rc = hva_rootfs_idmap(h->statedir, &p, &base, err)) < 0)
		return vdc_err_wrap(err, rc, "cannot give the container a block of host ids");
	if (!hva_rootfs_mounted(p.rootfs)) {
		if ((rc = hva_rootfs_extract(h->images.dir, sha, lower, err)) < 0)
			return rc;
		if ((rc = hva_rootfs_mount(&p, lower, base, err)) < 0)
			return rc;
	}
	rc = hva_rootfs_seed(p.rootfs, in, base, base, err);
	if (rc < 0)
		return vdc_err_wrap(err, rc, "cannot write the NoCloud seed");
	return hva_rootfs_dir_open(&p, base, err);
}

static int lxc_domain_xml(struct hva *h, const struct hva_instance_spec *in, const struct hva_define *how,
			  struct strbuf *out, struct vdc_err *err)
{
	struct hva_inst_paths p;
	struct hva_domain_def def = {
		.type = HVA_DOMAIN_LXC,
		.name = in->domain,
		.uuid = how->uuid,
		.cpus = in->cpus,
		.memory_mib = in->memory_mib,
		.init_path = "/sbin/init",
		.nics = in->nics,
		.n_nics = in->n_nics,
		.meta = how->meta,
		.idmap_count = HVA_IDMAP_COUNT,
	};
	int rc;

	hva_inst_paths(h->statedir, in->domain, &p);
	/* prepare recorded it: the same block at every start, also after the agent restarts. */
	if ((rc = hva_rootfs_idmap_read(&p, &def.idmap_base, err)) < 0)
		return rc;
	def.rootfs_path = p.rootfs;
	def.console_path = p.console;
	return hva_domain_xml(&def, out, err);
}

/*
 * Shutdown and reboot by signal to the container's init (SIGTERM, SIGHUP).
 * libvirt's default tries an initctl pipe first; on libvirt 9.0 that path
 * sent no signal to a container without one (busybox), so the signal is
 * asked for explicitly.
 */
static int lxc_shutdown(virDomainPtr dom, struct vdc_err *err)
{
	const char *name = virDomainGetName(dom);

	if (virDomainShutdownFlags(dom, VIR_DOMAIN_SHUTDOWN_SIGNAL) < 0)
		return hva_virt_err(err, -EIO, "cannot shut domain %s down", name);
	return 0;
}

static int lxc_reboot(virDomainPtr dom, struct vdc_err *err)
{
	const char *name = virDomainGetName(dom);

	if (virDomainReboot(dom, VIR_DOMAIN_REBOOT_SIGNAL) < 0)
		return hva_virt_err(err, -EIO, "cannot reboot domain %s", name);
	return 0;
}

/* libvirt has no reset for containers: force it off and start it again. */
static int lxc_reset(virDomainPtr dom, struct vdc_err *err)
{
	int rc = hva_virt_destroy(dom, err);

	if (rc < 0)
		return rc;
	return hva_virt_start(dom, err);
}

static void write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

/* libvirt's event thread: the stream has bytes, ended or failed. */
static void on_console(virStreamPtr st, int events, void *opaque)
{
	struct lxc_console *c = opaque;
	char buf[16384];
	int n;

	(void)events;
	for (;;) {
		n = virStreamRecv(st, buf, sizeof(buf));
		if (n == -2)
			return;   /* nothing more for now */
		if (n <= 0)
			break;
		write_all(c->fd, buf, (size_t)n);
	}
	/* 0: the container's console closed (it stopped); -1: libvirt failed. */
	virStreamEventRemoveCallback(st);
	if (n == 0)
		virStreamFinish(st);
	else
		virStreamAbort(st);
	log_debug("%s: the console stream ended", c->domain);
	pthread_mutex_lock(&consoles_lock);
	c->done = true;
	pthread_mutex_unlock(&consoles_lock);
}

static void console_free(struct lxc_console *c)
{
	virStreamFree(c->st);
	close(c->fd);
	free(c);
}

/* Free the ended streams; true when `domain` has a live one for run `id`. */
static bool consoles_reap(const char *domain, unsigned int id)
{
	struct lxc_console **ended = NULL;
	size_t i, kept = 0, n_ended = 0;
	bool live = false;

	pthread_mutex_lock(&consoles_lock);
	for (i = 0; i < n_consoles; i++) {
		struct lxc_console *c = consoles[i];

		if (c->done) {
			ended = xrealloc(ended, (n_ended + 1) * sizeof(*ended));
			ended[n_ended++] = c;
			continue;
		}
		live |= c->id == id && strcmp(c->domain, domain) == 0;
		consoles[kept++] = c;
	}
	n_consoles = kept;
	pthread_mutex_unlock(&consoles_lock);
	for (i = 0; i < n_ended; i++)
		console_free(ended[i]);
	free(ended);
	return live;
}

static int lxc_console_follow(struct hva *h, virDomainPtr dom, const char *console_path,
			      struct vdc_err *err)
{
	const char *name = virDomainGetName(dom);
	unsigned int id = virDomainGetID(dom);
	struct lxc_console *c;

	(void)h;
	if (id == (unsigned int)-1 || consoles_reap(name, id))
		return 0;
	c = xcalloc(1, sizeof(*c));
	snprintf(c->domain, sizeof(c->domain), "%s", name);
	c->id = id;
	c->fd = open(console_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (c->fd < 0) {
		vdc_err_set(err, -errno, "cannot open %s: %s", console_path, strerror(errno));
		free(c);
		return err ? err->code : -EIO;
	}
	c->st = virStreamNew(virDomainGetConnect(dom), VIR_STREAM_NONBLOCK);
	if (!c->st) {
		close(c->fd);
		free(c);
		return hva_virt_err(err, -EIO, "cannot make a stream for the console of %s", name);
	}
	/*
	 * libvirt's lxc driver takes no flags (no FORCE): while an operator
	 * holds the console with `virsh console` this fails and the next
	 * pass tries again. A killed agent's session ends with its
	 * connection.
	 */
	if (virDomainOpenConsole(dom, NULL, c->st, 0) < 0) {
		int rc = hva_virt_err(err, -EIO, "cannot open the console of %s", name);

		virStreamFree(c->st);
		close(c->fd);
		free(c);
		return rc;
	}
	pthread_mutex_lock(&consoles_lock);
	consoles = xrealloc(consoles, (n_consoles + 1) * sizeof(*consoles));
	consoles[n_consoles++] = c;
	pthread_mutex_unlock(&consoles_lock);
	if (virStreamEventAddCallback(c->st, VIR_STREAM_EVENT_READABLE | VIR_STREAM_EVENT_ERROR |
					      VIR_STREAM_EVENT_HANGUP, on_console, c, NULL) < 0) {
		int rc = hva_virt_err(err, -EIO, "cannot watch the console of %s", name);

		virStreamAbort(c->st);
		pthread_mutex_lock(&consoles_lock);
		c->done = true;
		pthread_mutex_unlock(&consoles_lock);
		return rc;
	}
	log_debug("%s: following the console of run %u", name, id);
	return 0;
}

/* At exit: stop every stream (the containers run on; their ptys keep what they print). */
static void lxc_release(struct hva *h)
{
	size_t i;

	(void)h;
	pthread_mutex_lock(&consoles_lock);
	for (i = 0; i < n_consoles; i++) {
		struct lxc_console *c = consoles[i];

		if (!c->done) {
			virStreamEventRemoveCallback(c->st);
			virStreamAbort(c->st);
		}
		console_free(c);
	}
	free(consoles);
	consoles = NULL;
	n_consoles = 0;
	pthread_mutex_unlock(&consoles_lock);
}

const struct hva_driver hva_driver_lxc = {
	.name = "lxc",
	.default_uri = "lxc:///system",
	.needs_image = true,
	.probe = lxc_probe,
	.prepare = lxc_prepare,
	.domain_xml = lxc_domain_xml,
	.start = hva_virt_start,
	.shutdown = lxc_shutdown,
	.destroy = hva_virt_destroy,
	.reboot = lxc_reboot,
	.reset = lxc_reset,
	.console_follow = lxc_console_follow,
	.release = lxc_release,
};
