/*
 * libFuzzer target for OpenSSH public-key lines and the base64 decoder.
 *
 * Random bytes rarely form valid base64 of a plausible key blob, so each
 * input is used twice: once as the key line itself, and once as a raw blob
 * (after a selector byte choosing the type) that is base64-encoded here
 * and checked as `TYPE BASE64 comment`. That second path lets the fuzzer
 * reach the blob parser directly. Every buffer handed to the code under
 * test has exactly the size of its content, so AddressSanitizer catches
 * reads and writes past it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "validate.h"

static const char *const types[] = {
	"ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
	"ecdsa-sha2-nistp521", "sk-ssh-ed25519@openssh.com",
	"sk-ecdsa-sha2-nistp256@openssh.com", "ssh-dss",
};

/* The error protocol of err.h, with the closed set of codes of the key check. */
#define check_err(rc, err) fuzz_check_err(rc, err, -EINVAL)

static size_t b64_encode(const unsigned char *in, size_t n, char *out)
{
	static const char chars[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, o = 0;

	for (i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		size_t left = n - i;

		if (left > 1)
			v |= (uint32_t)in[i + 1] << 8;
		if (left > 2)
			v |= in[i + 2];
		out[o++] = chars[v >> 18 & 63];
		out[o++] = chars[v >> 12 & 63];
		out[o++] = left > 1 ? chars[v >> 6 & 63] : '=';
		out[o++] = left > 2 ? chars[v & 63] : '=';
	}
	return o;
}

/* Check the line as written by the user. */
static void fuzz_line(const char *s, size_t size)
{
	struct vdc_err err = VDC_ERR_INIT;
	int rc = vdc_sshkey_check(s, size, &err);

	check_err(rc, &err);
	if (vdc_sshkey_check(s, size, NULL) != rc)
		abort();
}

/* Decode the input as base64 into a buffer of exactly the documented size. */
static void fuzz_base64(const char *s, size_t size)
{
	size_t cap = size / 4 * 3, pad = 0;
	unsigned char *out = fuzz_alloc(cap);
	long n;

	n = vdc_base64_decode(s, size, out);
	if (n != -EINVAL) {
		if (n < 0 || size == 0 || size % 4)
			abort();
		while (pad < 2 && s[size - 1 - pad] == '=')
			pad++;
		if ((size_t)n != cap - pad)
			abort();
	}
	free(out);
}

/* Wrap data[1..] as the blob of a key line whose type data[0] chooses. */
static void fuzz_blob(const uint8_t *data, size_t size)
{
	struct vdc_err err = VDC_ERR_INIT;
	const char *type = types[data[0] % (sizeof(types) / sizeof(types[0]))];
	const unsigned char *blob = data + 1;
	size_t bn = size - 1, tl = strlen(type), len, el;
	char *line;
	int rc;

	if (bn == 0)
		return;
	len = tl + 1 + (bn + 2) / 3 * 4 + ((data[0] & 0x80) ? 8 : 0);
	line = fuzz_alloc(len);
	memcpy(line, type, tl);
	line[tl] = ' ';
	el = b64_encode(blob, bn, line + tl + 1);
	if (data[0] & 0x80)
		memcpy(line + tl + 1 + el, " comment", 8);

	rc = vdc_sshkey_check(line, len, &err);
	check_err(rc, &err);
	/* An accepted blob must open with the type named on the line. */
	if (rc == 0 && (bn < 4 + tl || blob[0] || blob[1] || blob[2] != (tl >> 8) ||
			blob[3] != (tl & 255) || memcmp(blob + 4, type, tl)))
		abort();
	free(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_copy(data, size);

	fuzz_line(s, size);
	fuzz_base64(s, size);
	free(s);
	if (size)
		fuzz_blob(data, size);
	return 0;
}
