/*
 * The image an entry of a desired state names, and the checks of an
 * image file's first bytes (image.h): shared by vdc-hva and vdc-sta.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "image.h"
#include "json_member.h"
#include "log.h"
#include "wire_doc.h"

const char *vdc_image_format_name(enum vdc_image_format f)
{
	switch (f) {
	case VDC_IMAGE_FORMAT_RAW: return VDC_WIRE_FORMAT_RAW;
	case VDC_IMAGE_FORMAT_QCOW2: return VDC_WIRE_FORMAT_QCOW2;
	case VDC_IMAGE_FORMAT_NONE: break;
	}
	return NULL;
}

int vdc_image_spec_parse(json_t *img, struct vdc_image_spec *out, struct vdc_err *err)
{
	const char *sha, *fmt;
	size_t len, i;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!img || json_is_null(img))
		return 0;
	if (!json_is_object(img))
		return vdc_err_set(err, -EINVAL, "\"image\" is neither an object nor null");
	rc = vdc_json_name(img, VDC_WIRE_NAME, VDC_JSON_REQUIRED, out->name, err);
	if (rc < 0)
		return vdc_err_wrap(err, rc, "image");
	sha = vdc_json_str(img, VDC_WIRE_SHA256, &len);
	if (!json_object_get(img, VDC_WIRE_SHA256) || json_is_null(json_object_get(img, VDC_WIRE_SHA256))) {
		/* Absent or null: vdcfs is still computing it (docs/agent-protocol.md). */
		out->present = true;
		out->pending = true;
		return 0;
	}
	if (!sha || len != 64)
		return vdc_err_set(err, -EINVAL, "image \"sha256\" is not 64 hexadecimal digits");
	for (i = 0; i < 64; i++) {
		if (!isxdigit((unsigned char)sha[i]))
			return vdc_err_set(err, -EINVAL, "image \"sha256\" is not 64 hexadecimal digits");
		out->sha256[i] = (char)tolower((unsigned char)sha[i]);
	}
	out->sha256[64] = '\0';
	rc = vdc_json_uint(img, VDC_WIRE_SIZE, 0, UINT64_MAX >> 1, &out->size, err);
	if (rc < 0 && rc != -ENOENT)
		return vdc_err_wrap(err, rc, "image");
	fmt = vdc_json_str(img, VDC_WIRE_FORMAT, NULL);
	if (!fmt || !*fmt)
		out->format = VDC_IMAGE_FORMAT_NONE;
	else if (strcmp(fmt, VDC_WIRE_FORMAT_RAW) == 0)
		out->format = VDC_IMAGE_FORMAT_RAW;
	else if (strcmp(fmt, VDC_WIRE_FORMAT_QCOW2) == 0)
		out->format = VDC_IMAGE_FORMAT_QCOW2;
	else
		return vdc_err_set(err, -EINVAL, "image format '%s' is neither raw nor qcow2", VDC_Q(fmt));
	out->present = true;
	return 0;
}

static uint64_t be64(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int vdc_image_header_check(const unsigned char *hdr, size_t len, enum vdc_image_format want,
			   enum vdc_image_format *use, struct vdc_err *err)
{
	bool qcow2 = len >= 4 && memcmp(hdr, "QFI\xfb", 4) == 0;
	uint32_t version;

	if (want == VDC_IMAGE_FORMAT_RAW) {
		*use = VDC_IMAGE_FORMAT_RAW;
		return 0;
	}
	if (!qcow2) {
		if (want == VDC_IMAGE_FORMAT_QCOW2)
			return vdc_err_set(err, -EINVAL, "the image is said to be qcow2 but does not start with the qcow2 magic");
		*use = VDC_IMAGE_FORMAT_RAW;
		return 0;
	}
	if (len < 104)
		return vdc_err_set(err, -EINVAL, "the qcow2 image is shorter than its header");
	version = be32(hdr + 4);
	if (version != 2 && version != 3)
		return vdc_err_set(err, -EINVAL, "the qcow2 image has version %" PRIu32 "; 2 and 3 are supported", version);
	if (be64(hdr + 8) != 0)
		return vdc_err_set(err, -EPERM, "the qcow2 image names a backing file; an image must stand alone");
	if (be32(hdr + 32) != 0)
		return vdc_err_set(err, -EPERM, "the qcow2 image is encrypted; encrypted images are not supported");
	/* Incompatible feature bit 2: the data lives in an external file. */
	if (version == 3 && (be64(hdr + 72) & 4))
		return vdc_err_set(err, -EPERM, "the qcow2 image keeps its data in an external file; an image must stand alone");
	*use = VDC_IMAGE_FORMAT_QCOW2;
	return 0;
}

/* The first bytes of an image file (up to 512), for the checks below. */
static int read_header(const char *path, unsigned char *hdr, size_t size, size_t *got,
		       struct vdc_err *err)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return vdc_err_set(err, -errno, "cannot open image %s: %s", path, strerror(errno));
	n = pread(fd, hdr, size, 0);
	close(fd);
	if (n < 0)
		return vdc_err_set(err, -errno, "cannot read image %s: %s", path, strerror(errno));
	*got = (size_t)n;
	return 0;
}

int vdc_image_format_of(const char *path, enum vdc_image_format want,
			enum vdc_image_format *use, struct vdc_err *err)
{
	unsigned char hdr[512];
	size_t n;
	int rc = read_header(path, hdr, sizeof(hdr), &n, err);

	return rc < 0 ? rc : vdc_image_header_check(hdr, n, want, use, err);
}

bool vdc_image_is_tar(const unsigned char *hdr, size_t len)
{
	return len >= 262 && memcmp(hdr + 257, "ustar", 5) == 0;
}

int vdc_image_tar_of(const char *path, struct vdc_err *err)
{
	unsigned char hdr[512];
	size_t n;
	int rc = read_header(path, hdr, sizeof(hdr), &n, err);

	return rc < 0 ? rc : vdc_image_is_tar(hdr, n);
}
