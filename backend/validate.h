/*
 * Parsers and validators for everything a user writes into the tree.
 *
 * Each takes the text exactly as written (not NUL-terminated: a pointer and
 * a length, since a write(2) may carry any bytes), returns 0 or a negative
 * errno, and on failure explains in `err` what was wrong and what is
 * accepted. None of them allocates except where an output says so.
 */
#ifndef VDC_VALIDATE_H
#define VDC_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "err.h"

#define VDC_NAME_MAX 63
/* A link's target name: NAME, or PARENT/NAME for a child object. */
#define VDC_TNAME_MAX (2 * VDC_NAME_MAX + 1)

/*
 * User text for a sentence: at most 40 bytes, anything but printable ASCII
 * (and the quote) escaped as \xNN, so run/err never carries raw bytes.
 * Returns `buf` (buflen of 200 holds any result).
 */
const char *vdc_quote(const char *s, size_t len, char *buf, size_t buflen);
#define VDC_Q(s) vdc_quote((s), strlen(s), (char[200]){0}, 200)

/* Object names: 1-63 of [a-z0-9-], starting with a letter (else -EINVAL). */
int vdc_name_check(const char *name, size_t len, struct vdc_err *err);

/*
 * Text: valid UTF-8, no NUL, no control character (C0, DEL, C1) but tab
 * (and newline when `multiline`), and no bidirectional control (U+061C,
 * U+200E, U+200F, U+202A-U+202E, U+2066-U+2069; the sentence names the
 * code point). -EINVAL otherwise.
 */
int vdc_text_check(const char *s, size_t len, bool multiline, struct vdc_err *err);

/*
 * A size with a binary unit: `512M`, `2G`, `1T`, `64K`, also `2GiB`, `2GB`
 * (both 1024-based) and plain bytes, the number without leading zeros.
 * -EINVAL for bad syntax, -ERANGE for overflow. `what` names the attribute
 * in the sentence.
 */
int vdc_size_parse(const char *s, size_t len, const char *what, uint64_t *out,
		   struct vdc_err *err);

/*
 * A size as above, in whole MiB, from `min` to `max` bytes (-ERANGE
 * outside, -EINVAL when not a whole number of MiB). `range` names the
 * bounds for the sentence, like "64M to 1T".
 */
int vdc_size_mib_parse(const char *s, size_t len, const char *what, uint64_t min, uint64_t max,
		       const char *range, uint64_t *out, struct vdc_err *err);

/* Format a byte count the way vdc_size_parse reads it back ("512M"). */
void vdc_size_format(uint64_t bytes, char *out, size_t outlen);
/*
 * A byte count for people, rounded down: "300M", "1.5G", "10G" (one
 * decimal below 10 of a unit). For progress texts; not read back.
 */
void vdc_size_approx(uint64_t bytes, char *out, size_t outlen);

/*
 * A decimal integer in [min, max], without leading zeros (`0` alone is
 * fine): -EINVAL for syntax, -ERANGE for range.
 */
int vdc_uint_parse(const char *s, size_t len, const char *what, uint64_t min,
		   uint64_t max, uint64_t *out, struct vdc_err *err);

/* `on` or `off`. */
int vdc_onoff_parse(const char *s, size_t len, const char *what, bool *out,
		    struct vdc_err *err);

/*
 * An RFC 1123 host name of up to 253 characters whose last label is not
 * all digits (so no address passes for one), or empty.
 */
int vdc_hostname_check(const char *s, size_t len, struct vdc_err *err);

/* A dotted-quad IPv4 address, in host byte order. */
int vdc_ipv4_parse(const char *s, size_t len, uint32_t *out, struct vdc_err *err);

/* `a` (host order) as a dotted quad into `out` (VDC_IPV4_TEXT bytes). */
#define VDC_IPV4_TEXT 16
void vdc_ipv4_format(uint32_t a, char out[VDC_IPV4_TEXT]);

/*
 * A nic's MAC address: six pairs of hex digits joined by ':' (either
 * case), unicast (the low bit of the first octet clear) and not all
 * zero, as a 48-bit number. EINVAL with the sentence otherwise.
 */
int vdc_mac_parse(const char *s, size_t len, uint64_t *out, struct vdc_err *err);
/* The value of hex digit `c` (either case), or -1. */
int vdc_hex_digit(char c);

/* `mac` (48 bits) as "52:54:00:0a:0b:0c" into `out` (VDC_MAC_TEXT bytes). */
#define VDC_MAC_TEXT 18
void vdc_mac_format(uint64_t mac, char out[VDC_MAC_TEXT]);

/*
 * Is `addr` a host address of the network `net`/`prefix` (host order):
 * inside it, neither its network address nor (below /31) its broadcast
 * address?
 */
bool vdc_ipv4_host_in(uint32_t addr, uint32_t net, unsigned prefix);

/*
 * An IPv4 network `A.B.C.D/P` with P in 0..32 (no leading zeros, like the
 * address) and no host bits set.
 */
int vdc_cidr_parse(const char *s, size_t len, uint32_t *net, unsigned *prefix,
		   struct vdc_err *err);

/*
 * Up to VDC_DNS_MAX IPv4 addresses separated by single spaces (none in
 * front or at the end, no commas), or empty: into `out` (host order, VDC_DNS_MAX of them; may be NULL) and
 * `*n` (may be NULL when `out` is). vdc_dns_check() is the same without
 * the output.
 */
#define VDC_DNS_MAX 3
int vdc_dns_parse(const char *s, size_t len, uint32_t *out, size_t *n, struct vdc_err *err);
int vdc_dns_check(const char *s, size_t len, struct vdc_err *err);

/*
 * A security-group rule, one line:
 *
 *     DIRECTION PROTOCOL PORTS PEER
 *
 * DIRECTION is `in` or `out`; PROTOCOL `tcp`, `udp`, `icmp` or `any`; PORTS
 * `N`, `N-M` (1..65535) or `-` (every port; the only form for icmp and
 * any); PEER an IPv4 CIDR or `sg:NAME` (the members of group NAME).
 */
enum vdc_rule_dir { VDC_RULE_IN, VDC_RULE_OUT };
enum vdc_rule_proto { VDC_PROTO_TCP, VDC_PROTO_UDP, VDC_PROTO_ICMP, VDC_PROTO_ANY };

struct vdc_rule {
	enum vdc_rule_dir dir;
	enum vdc_rule_proto proto;
	uint16_t port_lo, port_hi;    /* 0, 0 for every port */
	bool peer_is_group;
	uint32_t peer_net;            /* host order, when !peer_is_group */
	unsigned peer_prefix;
	char peer_group[VDC_NAME_MAX + 1];
};

#define VDC_RULES_MAX 256

int vdc_rule_parse(const char *line, size_t len, struct vdc_rule *out,
		   struct vdc_err *err);

/*
 * A whole rules file: one rule a line; blank lines and lines starting with
 * `#` are ignored. The sentence names the failing line number. `out` may be
 * NULL; otherwise it receives up to VDC_RULES_MAX rules and `*n` their count.
 */
int vdc_rules_parse(const char *s, size_t len, struct vdc_rule *out, size_t *n,
		    struct vdc_err *err);

/*
 * An OpenSSH public key line: `TYPE BASE64 [COMMENT]`, where the decoded
 * blob is a well-formed key of TYPE (ssh-ed25519, ssh-rsa of 2048 bits or
 * more, ecdsa-sha2-nistp256/384/521, and the sk- variants).
 */
int vdc_sshkey_check(const char *s, size_t len, struct vdc_err *err);

/*
 * A relation symlink's text, `target`, as written in the folder `from` (a
 * path below the root, like "instances/web1"): it must name an object of
 * `kind` inside the tree, relatively (../../images/NAME) or absolutely
 * under `mountpoint` (which may be NULL). On success the object's name goes
 * to `tname` (VDC_TNAME_MAX + 1 bytes). A `kind` of the form
 * "volumes/ * /snapshots" (without the spaces) names a child object,
 * volumes/V/snapshots/S, and `tname` is then "V/S". -EINVAL for the wrong shape or
 * kind, -EXDEV for a link that leaves the tree; the sentence shows the
 * link to write from `from`. `what` names the link in the sentence.
 */
int vdc_linkpath_parse(const char *mountpoint, const char *from, const char *target,
		       const char *kind, const char *what, char *tname, struct vdc_err *err);

/*
 * Decode standard base64 (with padding) into `out`, which must hold
 * len/4*3 bytes. Returns the decoded length or -EINVAL.
 */
long vdc_base64_decode(const char *s, size_t len, unsigned char *out);

#endif
