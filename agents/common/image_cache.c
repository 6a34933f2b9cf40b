/*
 * The image cache of a host (image_cache.h): the fetcher thread, the
 * jobs it runs and the pruning of images no longer in use.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "file.h"
#include "image_cache.h"
#include "log.h"
#include "process.h"

/* How long `qemu-img convert` may take to make a raw disk of an image. */
#define CONVERT_TIMEOUT_S 3600

struct vdc_image_job {
	struct vdc_image_job *next;
	struct vdc_image_spec img;
	bool running;
	bool failed;
	int fd;                          /* the download's file while it arrives, else -1 */
	bool converting;                 /* raw: qemu-img convert runs */
	long retry_at;                   /* CLOCK_MONOTONIC seconds, when failed */
	int code;
	char err[VDC_ERR_MSG_MAX];
};

struct vdc_image_use {
	char sha256[65];
	long last;                       /* CLOCK_MONOTONIC seconds */
};

static long mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* Whether `name` is 64 lowercase hex digits (a cache entry). */
static bool is_sha_name(const char *name)
{
	size_t i;

	for (i = 0; name[i]; i++)
		if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
			return false;
	return i == 64;
}

/* Whether `name` is "SHA256" and then `suffix`. */
static bool is_sha_with(const char *name, const char *suffix)
{
	char sha[65];

	if (strlen(name) != 64 + strlen(suffix) || strcmp(name + 64, suffix) != 0)
		return false;
	memcpy(sha, name, 64);
	sha[64] = '\0';
	return is_sha_name(sha);
}

int vdc_image_cache_init(struct vdc_image_cache *c, const char *statedir, struct vdc_proto *p,
			 void (*done)(void *), void *arg, struct vdc_err *err)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	c->proto = p;
	c->done = done;
	c->done_arg = arg;
	vdc_path(c->dir, "%s/images", statedir);
	if (vdc_mkdirs(c->dir, 0755, err) < 0)
		return err->code;
	vdc_image_cache_prune(c, NULL, 0);
	return 0;
}

/* When `sha` was last in use; it counts as in use now when first seen. */
static long *use_of(struct vdc_image_cache *c, const char *sha, long now)
{
	size_t i;

	for (i = 0; i < c->n_uses; i++)
		if (strcmp(c->uses[i].sha256, sha) == 0)
			return &c->uses[i].last;
	c->uses = xrealloc(c->uses, (c->n_uses + 1) * sizeof(*c->uses));
	snprintf(c->uses[c->n_uses].sha256, sizeof(c->uses->sha256), "%s", sha);
	c->uses[c->n_uses].last = now;
	return &c->uses[c->n_uses++].last;
}

void vdc_image_cache_prune(struct vdc_image_cache *c, const char *const *keep, size_t n)
{
	struct dirent *de;
	char path[PATH_MAX];
	long now = mono_s();
	size_t i;
	DIR *d;

	pthread_mutex_lock(&c->lock);
	for (i = 0; i < n; i++)
		*use_of(c, keep[i], now) = now;
	pthread_mutex_unlock(&c->lock);
	d = opendir(c->dir);
	if (!d)
		return;
	while ((de = readdir(d)) != NULL) {
		bool busy = false;

		if (de->d_name[0] == '.' && strlen(de->d_name) > 66 && strstr(de->d_name, ".rootfs.")) {
			/*
			 * ".SHA.rootfs.XXXXXX": an extraction, which runs in the
			 * reconcile loop, as this does; so it is one a crash left.
			 */
			vdc_path(path, "%s/%s", c->dir, de->d_name);
			vdc_remove_tree(path, NULL);
			continue;
		}
		if (de->d_name[0] == '.' && strlen(de->d_name) > 66) {
			/* ".SHA.XXXXXX": a download; stale unless one runs now. */
			struct vdc_image_job *j;

			pthread_mutex_lock(&c->lock);
			for (j = c->jobs; j; j = j->next)
				busy |= j->running && strncmp(de->d_name + 1, j->img.sha256, 64) == 0;
			pthread_mutex_unlock(&c->lock);
			if (!busy) {
				vdc_path(path, "%s/%s", c->dir, de->d_name);
				unlink(path);
			}
			continue;
		}
		if (is_sha_with(de->d_name, ".rootfs")) {
			char sha[65];

			/* An extracted root goes with its image's last use. */
			memcpy(sha, de->d_name, 64);
			sha[64] = '\0';
			pthread_mutex_lock(&c->lock);
			busy = now - *use_of(c, sha, now) < VDC_IMAGE_KEEP_S;
			pthread_mutex_unlock(&c->lock);
			vdc_path(path, "%s/%s", c->dir, de->d_name);
			if (!busy && vdc_remove_tree(path, NULL) == 0)
				log_info("removed the root filesystem of image %.12s... from the cache", de->d_name);
			continue;
		}
		if (is_sha_with(de->d_name, VDC_IMAGE_RAW_SUFFIX)) {
			char sha[65];

			/* A raw disk (vdc-sta's cache) is the image itself. */
			memcpy(sha, de->d_name, 64);
			sha[64] = '\0';
			pthread_mutex_lock(&c->lock);
			busy = now - *use_of(c, sha, now) < VDC_IMAGE_KEEP_S;
			pthread_mutex_unlock(&c->lock);
			vdc_path(path, "%s/%s", c->dir, de->d_name);
			if (!busy && unlink(path) == 0)
				log_info("removed the raw disk of image %.12s... from the cache: no volume named it for %d s",
					 de->d_name, VDC_IMAGE_KEEP_S);
			continue;
		}
		if (!is_sha_name(de->d_name))
			continue;
		pthread_mutex_lock(&c->lock);
		busy = now - *use_of(c, de->d_name, now) < VDC_IMAGE_KEEP_S;
		pthread_mutex_unlock(&c->lock);
		if (busy)
			continue;
		vdc_path(path, "%s/%s", c->dir, de->d_name);
		if (unlink(path) == 0)
			log_info("removed image %.12s... from the cache: no instance used it for %d s",
				 de->d_name, VDC_IMAGE_KEEP_S);
	}
	closedir(d);
}

/* The path of image `sha256` in the cache: SHA256, or SHA256.raw in a cache of raw disks. */
static void entry_path(const struct vdc_image_cache *c, const char *sha256, char *path)
{
	vdc_path(path, "%s/%s%s", c->dir, sha256, c->raw ? VDC_IMAGE_RAW_SUFFIX : "");
}

/*
 * Make `path` the raw disk of the qcow2 image `src` (checked: it stands
 * alone): qemu-img convert into a temporary file beside (it writes no
 * block of zeros, so holes stay holes), synced, then renamed.
 */
static int convert_raw(struct vdc_image_cache *c, struct vdc_image_job *j, const char *src,
		       const char *path, struct vdc_err *err)
{
	char tmp[PATH_MAX];
	int fd, rc;

	vdc_path(tmp, "%s/.%s%s.XXXXXX", c->dir, j->img.sha256, VDC_IMAGE_RAW_SUFFIX);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return vdc_err_set(err, -errno, "cannot make a file in %s: %s", c->dir, strerror(errno));
	pthread_mutex_lock(&c->lock);
	j->converting = true;
	pthread_mutex_unlock(&c->lock);
	log_info("converting image %s (%.12s...) from qcow2 to a raw disk", j->img.name, j->img.sha256);
	rc = vdc_spawn((const char *const[]){ "qemu-img", "convert", "-q", "-f", "qcow2", "-O", "raw", src, tmp, NULL },
		       NULL, CONVERT_TIMEOUT_S, err);
	if (rc < 0)
		vdc_err_wrap(err, rc, "cannot convert image %s to a raw disk", j->img.name);
	if (rc == 0 && fsync(fd) < 0)
		rc = vdc_err_set(err, -errno, "cannot sync %s: %s", tmp, strerror(errno));
	if (rc == 0 && fchmod(fd, 0644) < 0)
		rc = vdc_err_set(err, -errno, "cannot set the mode of %s: %s", tmp, strerror(errno));
	close(fd);
	if (rc == 0 && rename(tmp, path) < 0)
		rc = vdc_err_set(err, -errno, "cannot rename %s: %s", tmp, strerror(errno));
	if (rc < 0)
		unlink(tmp);
	return rc;
}

/* Fetch one image into the cache: download beside, check, rename (or convert). */
static int fetch(struct vdc_image_cache *c, struct vdc_conn *link, struct vdc_image_job *j,
		 struct vdc_err *err)
{
	const struct vdc_image_spec *img = &j->img;
	char tmp[PATH_MAX], path[PATH_MAX];
	enum vdc_image_format use;
	uint64_t size = 0;
	long t0 = mono_s();
	int fd, rc;

	entry_path(c, img->sha256, path);
	vdc_path(tmp, "%s/.%s.XXXXXX", c->dir, img->sha256);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return vdc_err_set(err, -errno, "cannot make a file in %s: %s", c->dir, strerror(errno));
	log_info("fetching image %s (%.12s..., %" PRIu64 " bytes)", img->name, img->sha256, img->size);
	pthread_mutex_lock(&c->lock);
	j->fd = fd;
	pthread_mutex_unlock(&c->lock);
	rc = vdc_proto_image(link, img->name, img->sha256, img->size, fd, &size, err);
	pthread_mutex_lock(&c->lock);
	j->fd = -1;
	pthread_mutex_unlock(&c->lock);
	if (rc == 0 && img->size && size != img->size)
		rc = vdc_err_set(err, -EBADMSG, "image %s arrived with %" PRIu64 " bytes, not the %" PRIu64 " vdcfs named",
				 img->name, size, img->size);
	if (rc == 0 && fsync(fd) < 0)
		rc = vdc_err_set(err, -errno, "cannot sync %s: %s", tmp, strerror(errno));
	if (rc == 0 && fchmod(fd, 0644) < 0)
		rc = vdc_err_set(err, -errno, "cannot set the mode of %s: %s", tmp, strerror(errno));
	close(fd);
	if (rc == 0) {
		rc = vdc_image_format_of(tmp, img->format, &use, err);
		if (rc < 0)
			vdc_err_wrap(err, rc, "image %s is refused", img->name);
	}
	if (rc == 0 && c->raw && use == VDC_IMAGE_FORMAT_QCOW2) {
		rc = convert_raw(c, j, tmp, path, err);
		unlink(tmp);
	} else if (rc == 0 && rename(tmp, path) < 0) {
		rc = vdc_err_set(err, -errno, "cannot rename %s: %s", tmp, strerror(errno));
	}
	if (rc < 0) {
		unlink(tmp);
		return rc;
	}
	log_info("image %s (%.12s...) is in the cache: %" PRIu64 " bytes in %ld s", img->name,
		 img->sha256, size, mono_s() - t0);
	return vdc_dir_sync(c->dir, err);
}

static void *fetch_thread(void *arg)
{
	struct vdc_image_cache *c = arg;
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_conn link;

	if (vdc_conn_init(&link, c->proto, &err) < 0) {
		log_error("image fetcher: %s", err.msg);
		return NULL;
	}
	pthread_mutex_lock(&c->lock);
	while (!c->stop) {
		struct vdc_image_job *j;
		int rc;

		for (j = c->jobs; j; j = j->next)
			if (!j->failed && !j->running)
				break;
		if (!j) {
			pthread_cond_wait(&c->cond, &c->lock);
			continue;
		}
		j->running = true;
		j->converting = false;
		pthread_mutex_unlock(&c->lock);

		/* `j` stays while it runs: only the fetcher and release (after it) free jobs. */
		vdc_err_clear(&err);
		rc = fetch(c, &link, j, &err);
		if (rc < 0)
			log_error("image %s: %s", j->img.name, err.msg);

		pthread_mutex_lock(&c->lock);
		j->running = false;
		j->converting = false;
		if (rc < 0) {
			j->failed = true;
			j->code = rc;
			j->retry_at = mono_s() + VDC_IMAGE_RETRY_S;
			snprintf(j->err, sizeof(j->err), "%s", err.msg);
		} else {
			struct vdc_image_job **pp;

			for (pp = &c->jobs; *pp != j; pp = &(*pp)->next)
				;
			*pp = j->next;
			free(j);
		}
		pthread_mutex_unlock(&c->lock);
		if (c->done)
			c->done(c->done_arg);
		pthread_mutex_lock(&c->lock);
	}
	pthread_mutex_unlock(&c->lock);
	vdc_conn_release(&link);
	return NULL;
}

int vdc_image_cache_start(struct vdc_image_cache *c, struct vdc_err *err)
{
	int rc = pthread_create(&c->thread, NULL, fetch_thread, c);

	if (rc)
		return vdc_err_set(err, -rc, "cannot start the image fetcher: %s", strerror(rc));
	c->started = true;
	return 0;
}

void vdc_image_cache_release(struct vdc_image_cache *c)
{
	struct vdc_image_job *j;

	pthread_mutex_lock(&c->lock);
	c->stop = true;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
	/*
	 * An idle fetcher ends at once and is joined. A download in progress
	 * may take long: after a few seconds it is left to the process's exit
	 * rather than waited for.
	 */
	if (c->started) {
		struct timespec until;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += VDC_IMAGE_JOIN_S;
		if (pthread_timedjoin_np(c->thread, NULL, &until) != 0)
			pthread_detach(c->thread);
		c->started = false;
	}
	pthread_mutex_lock(&c->lock);
	while ((j = c->jobs) != NULL) {
		if (j->running)
			break;
		c->jobs = j->next;
		free(j);
	}
	free(c->uses);
	c->uses = NULL;
	c->n_uses = 0;
	pthread_mutex_unlock(&c->lock);
}

int vdc_image_want(struct vdc_image_cache *c, const struct vdc_image_spec *img, char *path,
		   struct vdc_err *err)
{
	struct vdc_image_job *j;
	struct stat st;
	int rc = -EINPROGRESS;

	entry_path(c, img->sha256, path);
	if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
		return 0;
	pthread_mutex_lock(&c->lock);
	for (j = c->jobs; j; j = j->next)
		if (strcmp(j->img.sha256, img->sha256) == 0)
			break;
	if (j && j->failed && mono_s() >= j->retry_at) {
		/* Try again: vdcfs may have been down, or the image fixed. */
		j->failed = false;
		j->img = *img;
		pthread_cond_signal(&c->cond);
	} else if (j && j->failed) {
		rc = vdc_err_set(err, j->code, "%s", j->err);
	} else if (!j) {
		j = xcalloc(1, sizeof(*j));
		j->img = *img;
		j->fd = -1;
		j->next = c->jobs;
		c->jobs = j;
		pthread_cond_signal(&c->cond);
	}
	pthread_mutex_unlock(&c->lock);
	if (rc == -EINPROGRESS)
		vdc_err_set(err, rc, "image %s is being fetched", img->name);
	return rc;
}

int vdc_image_cache_progress(struct vdc_image_cache *c, const char *sha256, uint64_t *done)
{
	struct vdc_image_job *j;
	int rc = -ENOENT;

	*done = 0;
	pthread_mutex_lock(&c->lock);
	for (j = c->jobs; j; j = j->next) {
		if (!j->running || strcmp(j->img.sha256, sha256) != 0)
			continue;
		if (j->converting) {
			rc = 1;
		} else {
			/* The download writes at its position (it seeks over zeros): what arrived. */
			off_t pos = j->fd >= 0 ? lseek(j->fd, 0, SEEK_CUR) : 0;

			*done = pos > 0 ? (uint64_t)pos : 0;
			rc = 0;
		}
		break;
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

void vdc_image_fetch_progress(struct vdc_image_cache *c, const struct vdc_image_spec *img, char *out,
			      size_t len)
{
	char d[16], t[16];
	uint64_t done;
	int rc;

	if (img->pending) {
		snprintf(out, len, "waiting for the checksum of image %s", img->name);
		return;
	}
	rc = vdc_image_cache_progress(c, img->sha256, &done);
	if (rc == 1) {
		snprintf(out, len, "converting image %s to a raw disk", img->name);
	} else if (rc == 0 && img->size) {
		if (done > img->size)
			done = img->size;
		vdc_size_approx(done, d, sizeof(d));
		vdc_size_approx(img->size, t, sizeof(t));
		snprintf(out, len, "fetching image %s: %u%% (%s of %s)", img->name, (unsigned)(done * 100 / img->size), d, t);
	} else {
		snprintf(out, len, "fetching image %s", img->name);
	}
}
