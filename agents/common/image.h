/*
 * The image a desired state names (an instance's on a hypervisor, a
 * disk's on a storage host), as both agents read it: the "image" member
 * of an entry parsed and checked, and the checks of an image file's
 * first bytes. The cache that fetches images is image_cache.h.
 */
#ifndef VDC_AGENT_IMAGE_H
#define VDC_AGENT_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "err.h"
#include "validate.h"

enum vdc_image_format {
	VDC_IMAGE_FORMAT_NONE,   /* not said: told by the file's first bytes */
	VDC_IMAGE_FORMAT_RAW,
	VDC_IMAGE_FORMAT_QCOW2,
};

/* "raw", "qcow2", or NULL for VDC_IMAGE_FORMAT_NONE. */
const char *vdc_image_format_name(enum vdc_image_format f);

struct vdc_image_spec {
	bool present;                    /* false: no image is linked */
	/* vdcfs is computing its checksum (no "sha256"): wait for the next revision */
	bool pending;
	char name[VDC_NAME_MAX + 1];
	char sha256[65];                 /* lowercase hex; empty while pending */
	uint64_t size;                   /* bytes; 0 when not said */
	enum vdc_image_format format;
};

/*
 * Parse the "image" member `img` of an entry (docs/agent-protocol.md):
 * absent or null is no image (`present` false); an object has a name,
 * and either no "sha256" (null or absent: `pending`) or 64 hex digits,
 * an optional "size" and an optional "format" (raw or qcow2). -EINVAL
 * with a sentence otherwise.
 */
int vdc_image_spec_parse(json_t *img, struct vdc_image_spec *out, struct vdc_err *err);

/*
 * Check the first bytes of an image (at least 512 when the file is that
 * long) against the format the desired state names and tell the format
 * to use: a file with the qcow2 magic "QFI\xfb" is qcow2 when `want` is
 * qcow2 or not said, raw when `want` is raw (qemu then never reads the
 * header). A qcow2 image naming a backing file or an external data file,
 * or encrypted, is refused: it could make qemu open any file of the host.
 */
int vdc_image_header_check(const unsigned char *hdr, size_t len, enum vdc_image_format want,
			   enum vdc_image_format *use, struct vdc_err *err);

/*
 * Whether the first bytes of an image are a tar archive's: the "ustar"
 * magic at offset 257 of the first header (POSIX ustar and GNU tar both
 * write it). The lxc driver runs containers from such root filesystem
 * tarballs; `len` below 262 is never one.
 */
bool vdc_image_is_tar(const unsigned char *hdr, size_t len);

/* The same for the file at `path`: 1 for a tarball, 0 otherwise, or a negative errno. */
int vdc_image_tar_of(const char *path, struct vdc_err *err);

/* The same for the file at `path`. */
int vdc_image_format_of(const char *path, enum vdc_image_format want,
			enum vdc_image_format *use, struct vdc_err *err);

#endif
