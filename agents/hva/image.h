/*
 * The image cache of a host: STATEDIR/images/SHA256, one file per image
 * content, fetched from vdcfs once (GET /v1/hosts/NAME/images/IMAGE),
 * checked against the SHA-256 the desired state names while it arrives,
 * and renamed into place only then. A file in the cache is therefore
 * always whole and always the content its name says.
 *
 * Downloads run in the cache's own thread, so a large image never holds
 * up the reconcile loop: hva_image_want() answers at once, and the cache
 * calls `done` when a download ends so the loop looks again.
 */
#ifndef VDC_HVA_IMAGE_H
#define VDC_HVA_IMAGE_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "desired.h"
#include "err.h"
#include "proto.h"

/* How long a failed download waits before it is tried again. */
#define HVA_IMAGE_RETRY_S 30
#define HVA_IMAGE_JOIN_S 5     /* how long release waits for a fetch to end */
/*
 * How long an image no instance uses stays in the cache, so that an
 * instance made again soon after does not fetch it again.
 */
#define HVA_IMAGE_KEEP_S 3600

struct hva_image_job;
struct hva_image_use;

struct hva_image_cache {
	char dir[PATH_MAX];              /* STATEDIR/images */
	struct vdc_proto *proto;
	void (*done)(void *arg);         /* a download ended (called without the lock) */
	void *done_arg;

	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	bool started, stop;
	struct hva_image_job *jobs;
	struct hva_image_use *uses;      /* when each cached image was last in use */
	size_t n_uses;
};

/*
 * Set up the cache in `statedir`/images (made 0755 so that qemu, which
 * may run as another user, can read the backing files) and remove the
 * temporary files of downloads a crash interrupted.
 */
int hva_image_cache_init(struct hva_image_cache *c, const char *statedir, struct vdc_proto *p,
			 void (*done)(void *), void *arg, struct vdc_err *err);
int hva_image_cache_start(struct hva_image_cache *c, struct vdc_err *err);
void hva_image_cache_release(struct hva_image_cache *c);

/*
 * Whether `img` is in the cache: 0 with its path in `path` (PATH_MAX);
 * -EINPROGRESS while it is being fetched (a fetch is started if none
 * runs); another negative errno when the last fetch failed, with its
 * sentence, until HVA_IMAGE_RETRY_S have passed.
 */
int hva_image_want(struct hva_image_cache *c, const struct hva_image_spec *img, char *path,
		   struct vdc_err *err);

/*
 * Note that the images `keep` (`n` strings of 64 hex digits) are in use,
 * and remove the cached images no instance has used for
 * HVA_IMAGE_KEEP_S, and stale downloads. An image found in the cache at
 * start counts as used then. An image's extracted root filesystem
 * (SHA256.rootfs/, made by the lxc driver) goes with it.
 */
void hva_image_cache_prune(struct hva_image_cache *c, const char *const *keep, size_t n);

/*
 * Check the first bytes of an image (at least 512 when the file is that
 * long) against the format the desired state names and tell the format
 * to use: a file with the qcow2 magic "QFI\xfb" is qcow2 when `want` is
 * qcow2 or not said, raw when `want` is raw (qemu then never reads the
 * header). A qcow2 image naming a backing file or an external data file,
 * or encrypted, is refused: it could make qemu open any file of the host.
 */
int hva_image_header_check(const unsigned char *hdr, size_t len, enum hva_image_format want,
			   enum hva_image_format *use, struct vdc_err *err);

/*
 * Whether the first bytes of an image are a tar archive's: the "ustar"
 * magic at offset 257 of the first header (POSIX ustar and GNU tar both
 * write it). The lxc driver runs containers from such root filesystem
 * tarballs; `len` below 262 is never one.
 */
bool hva_image_is_tar(const unsigned char *hdr, size_t len);

/* The same for the file at `path`: 1 for a tarball, 0 otherwise, or a negative errno. */
int hva_image_tar_of(const char *path, struct vdc_err *err);

/* The same for the file at `path`. */
int hva_image_format_of(const char *path, enum hva_image_format want,
			enum hva_image_format *use, struct vdc_err *err);

#endif
