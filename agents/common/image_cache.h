/*
 * The image cache of a host: STATEDIR/images/SHA256, one file per image
 * content, fetched from vdcfs once (GET /v1/hosts/NAME/images/IMAGE),
 * checked against the SHA-256 the desired state names while it arrives,
 * and renamed into place only then. A file in the cache is therefore
 * always whole and always the content its name says.
 *
 * Downloads run in the cache's own thread, so a large image never holds
 * up the reconcile loop: vdc_image_want() answers at once, and the cache
 * calls `done` when a download ends so the loop looks again.
 *
 * Shared by vdc-hva (an instance's image, as a qcow2 overlay's backing
 * file) and vdc-sta (a disk made from an image).
 */
#ifndef VDC_AGENT_IMAGE_CACHE_H
#define VDC_AGENT_IMAGE_CACHE_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "image.h"
#include "proto.h"

/* How long a failed download waits before it is tried again. */
#define VDC_IMAGE_RETRY_S 30
#define VDC_IMAGE_JOIN_S 5     /* how long release waits for a fetch to end */
/*
 * How long an image no instance uses stays in the cache, so that an
 * instance made again soon after does not fetch it again.
 */
#define VDC_IMAGE_KEEP_S 3600
/* A cache of raw disks names each image SHA256.raw. */
#define VDC_IMAGE_RAW_SUFFIX ".raw"

struct vdc_image_job;
struct vdc_image_use;

struct vdc_image_cache {
	char dir[PATH_MAX];              /* STATEDIR/images */
	struct vdc_proto *proto;
	void (*done)(void *arg);         /* a download ended (called without the lock) */
	void *done_arg;
	/*
	 * Keep each image as a raw disk, SHA256.raw (vdc-sta: a disk is made
	 * by cloning it): a qcow2 image is converted once, after its checksum
	 * is checked, and only the raw disk is kept. Set before start.
	 */
	bool raw;

	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	bool started, stop;
	struct vdc_image_job *jobs;
	struct vdc_image_use *uses;      /* when each cached image was last in use */
	size_t n_uses;
};

/*
 * Set up the cache in `statedir`/images (made 0755 so that qemu, which
 * may run as another user, can read the backing files) and remove the
 * temporary files of downloads a crash interrupted.
 */
int vdc_image_cache_init(struct vdc_image_cache *c, const char *statedir, struct vdc_proto *p,
			 void (*done)(void *), void *arg, struct vdc_err *err);
int vdc_image_cache_start(struct vdc_image_cache *c, struct vdc_err *err);
void vdc_image_cache_release(struct vdc_image_cache *c);

/*
 * Whether `img` is in the cache: 0 with its path in `path` (PATH_MAX);
 * -EINPROGRESS while it is being fetched (a fetch is started if none
 * runs); another negative errno when the last fetch failed, with its
 * sentence, until VDC_IMAGE_RETRY_S have passed.
 */
int vdc_image_want(struct vdc_image_cache *c, const struct vdc_image_spec *img, char *path,
		   struct vdc_err *err);

/*
 * How far the fetch of image `sha256` is: 0 while it downloads, with the
 * bytes arrived in `*done`; 1 while it is converted to a raw disk;
 * -ENOENT when no fetch of it runs.
 */
int vdc_image_cache_progress(struct vdc_image_cache *c, const char *sha256, uint64_t *done);

/*
 * The line a report's "progress" carries for something that waits for
 * image `img` (a disk made from it, an instance started from it), into
 * `out` of `len` bytes: "waiting for the checksum of image NAME" while
 * vdcfs computes it, "fetching image NAME: 41% (13M of 32M)" while it
 * downloads (no figures when its size is not said, or before the
 * download starts), "converting image NAME to a raw disk" while a qcow2
 * image becomes one.
 */
void vdc_image_fetch_progress(struct vdc_image_cache *c, const struct vdc_image_spec *img, char *out,
			      size_t len);

/*
 * Note that the images `keep` (`n` strings of 64 hex digits) are in use,
 * and remove the cached images no instance has used for
 * VDC_IMAGE_KEEP_S, and stale downloads. An image found in the cache at
 * start counts as used then. An image's extracted root filesystem
 * (SHA256.rootfs/, made by the lxc driver) goes with it; a raw disk
 * (SHA256.raw) is the image itself.
 */
void vdc_image_cache_prune(struct vdc_image_cache *c, const char *const *keep, size_t n);

#endif
