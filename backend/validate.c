#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "validate.h"

const char *vdc_quote(const char *s, size_t len, char *buf, size_t buflen)
{
	size_t i, o = 0;

	for (i = 0; i < len && o + 5 < buflen; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i == 40) {
			buf[o++] = '.';
			buf[o++] = '.';
			buf[o++] = '.';
			break;
		}
		if (c >= 0x20 && c < 0x7f && c != '\'') {
			buf[o++] = (char)c;
		} else {
			snprintf(buf + o, buflen - o, "\\x%02x", c);
			o += 4;
		}
	}
	buf[o] = '\0';
	return buf;
}
#define Q(s, len) vdc_quote((s), (len), (char[200]){0}, 200)

int vdc_name_check(const char *name, size_t len, struct vdc_err *err)
{
	size_t i;

	if (len == 0)
		return vdc_err_set(err, -EINVAL, "a name cannot be empty; use 1-63 of a-z, 0-9 and '-', starting with a letter");
	if (len > VDC_NAME_MAX)
		return vdc_err_set(err, -EINVAL, "name '%s' is %zu characters long; names take 1-63 of a-z, 0-9 and '-'",
				   Q(name, len), len);
	if (name[0] < 'a' || name[0] > 'z')
		return vdc_err_set(err, -EINVAL, "name '%s' must start with a letter a-z", Q(name, len));
	for (i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return vdc_err_set(err, -EINVAL, "name '%s' holds '%s'; names take only a-z, 0-9 and '-'",
					   Q(name, len), Q(&name[i], 1));
	}
	return 0;
}

/*
 * Length of the UTF-8 sequence at s, or 0 when it is not valid UTF-8; its
 * code point goes to *cp_out.
 */
static size_t utf8_seq(const unsigned char *s, size_t len, uint32_t *cp_out)
{
	size_t n, i;
	uint32_t cp;

	*cp_out = s[0];
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*cp_out = cp;
	return n;
}

/*
 * The bidirectional controls: the marks (U+061C, U+200E, U+200F), the
 * embeddings and overrides (U+202A-U+202E) and the isolates
 * (U+2066-U+2069). Printed, they reorder the text around them, so a value
 * or a sentence quoting it would not read as it was written (a hostname
 * showing "txt.exe" that is "exe.txt").
 */
static bool bidi_control(uint32_t cp)
{
	return cp == 0x061c || cp == 0x200e || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

int vdc_text_check(const char *s, size_t len, bool multiline, struct vdc_err *err)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, line = 1;

	while (i < len) {
		size_t n;

		if (u[i] == '\n') {
			if (!multiline)
				return vdc_err_set(err, -EINVAL, "the value must be one line; found a second line");
			line++;
			i++;
			continue;
		}
		if (u[i] == '\t' || (u[i] >= 0x20 && u[i] != 0x7f)) {
			uint32_t cp;

			n = utf8_seq(u + i, len - i, &cp);
			if (!n)
				return vdc_err_set(err, -EINVAL, "line %zu is not valid UTF-8 text (byte 0x%02x); only text is accepted",
						   line, u[i]);
			/*
			 * U+0080-U+009F are the C1 controls; a terminal may obey
			 * them (U+009B is CSI) when the value is printed.
			 */
			if (cp >= 0x80 && cp <= 0x9f)
				return vdc_err_set(err, -EINVAL, "line %zu holds control character U+%04X; only text is accepted",
						   line, (unsigned)cp);
			if (bidi_control(cp))
				return vdc_err_set(err, -EINVAL, "line %zu holds bidirectional control U+%04X, which reorders the text around it; only text that shows as written is accepted",
						   line, (unsigned)cp);
			i += n;
			continue;
		}
		return vdc_err_set(err, -EINVAL, "line %zu holds control byte 0x%02x; only text is accepted", line, u[i]);
	}
	return 0;
}

int vdc_size_parse(const char *s, size_t len, const char *what, uint64_t *out,
		   struct vdc_err *err)
{
	uint64_t v = 0, mult = 1;
	size_t i = 0;
	const char *unit;
	size_t ulen;

	/* 0512M: one spelling a number, as for vdc_uint_parse. */
	if (len > 1 && s[0] == '0' && s[1] >= '0' && s[1] <= '9')
		return vdc_err_set(err, -EINVAL, "%s '%s' starts with a zero; write the number without leading zeros, like 512M",
				   what, Q(s, len));
	while (i < len && s[i] >= '0' && s[i] <= '9') {
		unsigned d = (unsigned)(s[i] - '0');

		if (v > (UINT64_MAX - d) / 10)
			return vdc_err_set(err, -ERANGE, "%s '%s' is too large", what, Q(s, len));
		v = v * 10 + d;
		i++;
	}
	if (i == 0)
		goto bad;
	unit = s + i;
	ulen = len - i;
	if (ulen) {
		switch (toupper((unsigned char)unit[0])) {
		case 'K': mult = 1ULL << 10; break;
		case 'M': mult = 1ULL << 20; break;
		case 'G': mult = 1ULL << 30; break;
		case 'T': mult = 1ULL << 40; break;
		case 'B':
			if (ulen == 1)
				goto done;
			goto bad;
		default: goto bad;
		}
		unit++;
		ulen--;
		if (ulen == 2 && (unit[0] == 'i' || unit[0] == 'I') && (unit[1] == 'B' || unit[1] == 'b'))
			ulen = 0;
		else if (ulen == 1 && (unit[0] == 'B' || unit[0] == 'b'))
			ulen = 0;
		if (ulen)
			goto bad;
	}
done:
	if (v > UINT64_MAX / mult)
		return vdc_err_set(err, -ERANGE, "%s '%s' is too large", what, Q(s, len));
	*out = v * mult;
	return 0;
bad:
	return vdc_err_set(err, -EINVAL, "%s '%s' is not a size; write a number with K, M, G or T, like 512M or 2G",
			   what, Q(s, len));
}

int vdc_size_mib_parse(const char *s, size_t len, const char *what, uint64_t min, uint64_t max,
		       const char *range, uint64_t *out, struct vdc_err *err)
{
	uint64_t bytes;
	int rc = vdc_size_parse(s, len, what, &bytes, err);

	if (rc < 0)
		return rc;
	if (bytes < min || bytes > max)
		return vdc_err_set(err, -ERANGE, "%s %s is out of range; write from %s", what, Q(s, len), range);
	if (bytes % (1ULL << 20))
		return vdc_err_set(err, -EINVAL, "%s %s is not a whole number of MiB; write it like 512M or 2G",
				   what, Q(s, len));
	*out = bytes;
	return 0;
}

void vdc_size_format(uint64_t bytes, char *out, size_t outlen)
{
	static const char units[] = "KMGT";
	int u = -1;

	while (u < 3 && bytes && bytes % 1024 == 0) {
		bytes /= 1024;
		u++;
	}
	if (u < 0)
		snprintf(out, outlen, "%" PRIu64, bytes);
	else
		snprintf(out, outlen, "%" PRIu64 "%c", bytes, units[u]);
}

void vdc_size_approx(uint64_t bytes, char *out, size_t outlen)
{
	static const char units[] = "KMGTP";
	double v = (double)bytes;
	int u = -1;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (u < 0)
		snprintf(out, outlen, "%" PRIu64, bytes);
	else if (v < 10 && v != (double)(uint64_t)v)
		snprintf(out, outlen, "%.1f%c", v, units[u]);
	else
		snprintf(out, outlen, "%" PRIu64 "%c", (uint64_t)v, units[u]);
}

int vdc_uint_parse(const char *s, size_t len, const char *what, uint64_t min,
		   uint64_t max, uint64_t *out, struct vdc_err *err)
{
	uint64_t v = 0;
	size_t i;

	/*
	 * Syntax first, over the whole string, so that a long number is
	 * -ERANGE and a long non-number -EINVAL whatever its length.
	 */
	if (len == 0)
		goto bad;
	for (i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			goto bad;
	/* 010 reads as eight to some tools (and to inet_aton): one spelling a number. */
	if (len > 1 && s[0] == '0')
		return vdc_err_set(err, -EINVAL, "%s '%s' starts with a zero; write the number without leading zeros, from %" PRIu64 " to %" PRIu64,
				   what, Q(s, len), min, max);
	for (i = 0; i < len; i++) {
		if (v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			goto range;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v < min || v > max)
		goto range;
	*out = v;
	return 0;
bad:
	return vdc_err_set(err, -EINVAL, "%s '%s' is not a whole number; write one from %" PRIu64 " to %" PRIu64,
			   what, Q(s, len), min, max);
range:
	return vdc_err_set(err, -ERANGE, "%s '%s' is out of range; write a number from %" PRIu64 " to %" PRIu64,
			   what, Q(s, len), min, max);
}

int vdc_onoff_parse(const char *s, size_t len, const char *what, bool *out,
		    struct vdc_err *err)
{
	if (len == 2 && !memcmp(s, "on", 2)) {
		*out = true;
		return 0;
	}
	if (len == 3 && !memcmp(s, "off", 3)) {
		*out = false;
		return 0;
	}
	return vdc_err_set(err, -EINVAL, "%s '%s' is not accepted; write on or off", what, Q(s, len));
}

/*
 * RFC 1123 section 2.1 lets a label start with a digit but keeps the top
 * label alphabetic, so that a host name never reads as an address:
 * "1.2.3.4" and "123" are refused, "1host" and "web.1a" are not.
 */
int vdc_hostname_check(const char *s, size_t len, struct vdc_err *err)
{
	size_t i, label = 0;
	bool digits_only = true;

	if (len > 253)
		return vdc_err_set(err, -EINVAL, "hostname is %zu characters long; at most 253 are accepted", len);
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				goto bad;
			label = 0;
			digits_only = true;
			continue;
		}
		if (!(isalnum((unsigned char)c) || c == '-') || (c == '-' && label == 0))
			goto bad;
		if (!(c >= '0' && c <= '9'))
			digits_only = false;
		if (++label > 63)
			goto bad;
	}
	if (len && (s[len - 1] == '.' || s[len - 1] == '-'))
		goto bad;
	if (len && digits_only)
		return vdc_err_set(err, -EINVAL, "hostname '%s' ends in a label of digits only, so it reads as an address; the last label needs a letter (RFC 1123)",
				   Q(s, len));
	return 0;
bad:
	return vdc_err_set(err, -EINVAL, "hostname '%s' is not a valid host name; use labels of letters, digits and '-' joined by dots",
			   Q(s, len));
}

int vdc_ipv4_parse(const char *s, size_t len, uint32_t *out, struct vdc_err *err)
{
	uint32_t v = 0;
	size_t i = 0;
	int part;

	for (part = 0; part < 4; part++) {
		unsigned oct = 0, digits = 0;

		while (i < len && s[i] >= '0' && s[i] <= '9') {
			if (digits && oct == 0)
				goto bad;   /* no leading zeros: 010 is ambiguous */
			oct = oct * 10 + (unsigned)(s[i] - '0');
			if (oct > 255)
				goto bad;
			digits++;
			i++;
		}
		if (!digits)
			goto bad;
		v = (v << 8) | oct;
		if (part < 3) {
			if (i >= len || s[i] != '.')
				goto bad;
			i++;
		}
	}
	if (i != len)
		goto bad;
	*out = v;
	return 0;
bad:
	return vdc_err_set(err, -EINVAL, "'%s' is not an IPv4 address like 192.0.2.1", Q(s, len));
}

bool vdc_ipv4_host_in(uint32_t addr, uint32_t net, unsigned prefix)
{
	uint32_t mask = prefix ? ~0u << (32 - prefix) : 0;

	return (addr & mask) == net && addr != net && (prefix >= 31 || addr != (net | ~mask));
}

void vdc_ipv4_format(uint32_t a, char out[VDC_IPV4_TEXT])
{
	snprintf(out, VDC_IPV4_TEXT, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
}

int vdc_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int vdc_mac_parse(const char *s, size_t len, uint64_t *out, struct vdc_err *err)
{
	uint64_t v = 0;
	char text[VDC_MAC_TEXT];
	size_t i;

	if (len != 17)
		goto bad;
	for (i = 0; i < 17; i++) {
		int d = vdc_hex_digit(s[i]);

		if (i % 3 == 2) {
			if (s[i] != ':')
				goto bad;
			continue;
		}
		if (d < 0)
			goto bad;
		v = (v << 4) | (uint64_t)d;
	}
	vdc_mac_format(v, text);
	/* The low bit of the first octet marks a group (multicast, broadcast) address. */
	if (v & (1ULL << 40))
		return vdc_err_set(err, -EINVAL, "mac %s is a multicast address; a nic's MAC is unicast (the first octet even)",
				   text);
	if (!v)
		return vdc_err_set(err, -EINVAL, "mac %s is all zero; write a MAC like 52:54:00:12:34:56", text);
	*out = v;
	return 0;
bad:
	return vdc_err_set(err, -EINVAL, "'%s' is not a MAC address; write six pairs of hex digits joined by ':', like 52:54:00:12:34:56",
			   Q(s, len));
}

void vdc_mac_format(uint64_t mac, char out[VDC_MAC_TEXT])
{
	snprintf(out, VDC_MAC_TEXT, "%02x:%02x:%02x:%02x:%02x:%02x", (unsigned)(mac >> 40) & 0xff,
		 (unsigned)(mac >> 32) & 0xff, (unsigned)(mac >> 24) & 0xff, (unsigned)(mac >> 16) & 0xff,
		 (unsigned)(mac >> 8) & 0xff, (unsigned)mac & 0xff);
}

int vdc_cidr_parse(const char *s, size_t len, uint32_t *net, unsigned *prefix,
		   struct vdc_err *err)
{
	const char *slash = memchr(s, '/', len);
	uint64_t p;
	uint32_t addr, mask;

	if (!slash)
		return vdc_err_set(err, -EINVAL, "'%s' is not a CIDR; write an address and a prefix length, like 192.0.2.0/24",
				   Q(s, len));
	if (len - (size_t)(slash - s) > 2 && slash[1] == '0')
		return vdc_err_set(err, -EINVAL, "'%s' has a prefix length with a leading zero; write it like 192.0.2.0/24",
				   Q(s, len));
	if (vdc_ipv4_parse(s, (size_t)(slash - s), &addr, err) < 0 ||
	    vdc_uint_parse(slash + 1, len - (size_t)(slash - s) - 1, "prefix length", 0, 32, &p, err) < 0)
		return vdc_err_set(err, -EINVAL, "'%s' is not a CIDR; write an address and a prefix length 0-32, like 192.0.2.0/24",
				   Q(s, len));
	mask = p ? ~0u << (32 - p) : 0;
	if (addr & ~mask) {
		uint32_t n = addr & mask;

		return vdc_err_set(err, -EINVAL, "'%s' has host bits set; did you mean %u.%u.%u.%u/%u",
				   Q(s, len), n >> 24, (n >> 16) & 255, (n >> 8) & 255, n & 255, (unsigned)p);
	}
	*net = addr;
	*prefix = (unsigned)p;
	return 0;
}

/*
 * docs/tree.md: up to three addresses separated by spaces. One space
 * between two addresses and none around them, so a value has one
 * spelling; commas (resolv.conf does not take them either) are refused
 * with a word saying so.
 */
int vdc_dns_parse(const char *s, size_t len, uint32_t *out, size_t *n_out, struct vdc_err *err)
{
	size_t i = 0, n = 0;

	while (i < len) {
		size_t start = i;
		uint32_t a;

		while (i < len && s[i] != ' ')
			i++;
		if (i == start)
			return vdc_err_set(err, -EINVAL, "dns '%s' has a space %s; write up to three IPv4 addresses separated by single spaces",
					   Q(s, len), start == 0 ? "in front" : "too many");
		if (memchr(s + start, ',', i - start))
			return vdc_err_set(err, -EINVAL, "dns '%s' holds a comma; separate the addresses with single spaces, like 192.0.2.53 198.51.100.53",
					   Q(s, len));
		if (vdc_ipv4_parse(s + start, i - start, &a, err) < 0)
			return vdc_err_set(err, -EINVAL, "dns '%s' is not accepted; write up to three IPv4 addresses separated by single spaces",
					   Q(s + start, i - start));
		if (n == VDC_DNS_MAX)
			return vdc_err_set(err, -EINVAL, "dns lists more than three servers; at most three are accepted");
		if (out)
			out[n] = a;
		n++;
		if (i < len) {
			i++;   /* the space */
			if (i == len)
				return vdc_err_set(err, -EINVAL, "dns '%s' ends in a space; write up to three IPv4 addresses separated by single spaces",
						   Q(s, len));
		}
	}
	if (n_out)
		*n_out = n;
	return 0;
}

int vdc_dns_check(const char *s, size_t len, struct vdc_err *err)
{
	return vdc_dns_parse(s, len, NULL, NULL, err);
}

/* Split the next whitespace-separated field of [*pos, len) into (*f, *flen). */
static bool next_field(const char *s, size_t len, size_t *pos, const char **f, size_t *flen)
{
	size_t i = *pos;

	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i == len)
		return false;
	*f = s + i;
	while (i < len && s[i] != ' ' && s[i] != '\t')
		i++;
	*flen = (size_t)(s + i - *f);
	*pos = i;
	return true;
}

static bool field_is(const char *f, size_t flen, const char *word)
{
	return flen == strlen(word) && !memcmp(f, word, flen);
}

int vdc_rule_parse(const char *line, size_t len, struct vdc_rule *out, struct vdc_err *err)
{
	const char *f[5];
	size_t fl[5], pos = 0, nf = 0;
	struct vdc_rule r;
	uint64_t lo, hi;

	memset(&r, 0, sizeof(r));
	while (nf < 5 && next_field(line, len, &pos, &f[nf], &fl[nf]))
		nf++;
	if (nf != 4)
		return vdc_err_set(err, -EINVAL, "rule '%s' has %zu fields; write DIRECTION PROTOCOL PORTS PEER, like 'in tcp 22 0.0.0.0/0'",
				   Q(line, len), nf);
	if (field_is(f[0], fl[0], "in"))
		r.dir = VDC_RULE_IN;
	else if (field_is(f[0], fl[0], "out"))
		r.dir = VDC_RULE_OUT;
	else
		return vdc_err_set(err, -EINVAL, "direction '%s' is not accepted; write in or out", Q(f[0], fl[0]));

	if (field_is(f[1], fl[1], "tcp"))
		r.proto = VDC_PROTO_TCP;
	else if (field_is(f[1], fl[1], "udp"))
		r.proto = VDC_PROTO_UDP;
	else if (field_is(f[1], fl[1], "icmp"))
		r.proto = VDC_PROTO_ICMP;
	else if (field_is(f[1], fl[1], "any"))
		r.proto = VDC_PROTO_ANY;
	else
		return vdc_err_set(err, -EINVAL, "protocol '%s' is not accepted; write tcp, udp, icmp or any", Q(f[1], fl[1]));

	if (field_is(f[2], fl[2], "-")) {
		r.port_lo = r.port_hi = 0;
	} else {
		const char *dash = memchr(f[2], '-', fl[2]);

		if (r.proto == VDC_PROTO_ICMP || r.proto == VDC_PROTO_ANY)
			return vdc_err_set(err, -EINVAL, "protocol %s has no ports; write '-' for PORTS", Q(f[1], fl[1]));
		if (dash) {
			if (vdc_uint_parse(f[2], (size_t)(dash - f[2]), "port", 1, 65535, &lo, err) < 0 ||
			    vdc_uint_parse(dash + 1, fl[2] - (size_t)(dash - f[2]) - 1, "port", 1, 65535, &hi, err) < 0)
				return vdc_err_set(err, -EINVAL, "ports '%s' are not accepted; write N, N-M (1-65535) or '-'",
						   Q(f[2], fl[2]));
			if (lo > hi)
				return vdc_err_set(err, -EINVAL, "port range '%s' runs backwards; write the lower port first",
						   Q(f[2], fl[2]));
		} else {
			if (vdc_uint_parse(f[2], fl[2], "port", 1, 65535, &lo, err) < 0)
				return vdc_err_set(err, -EINVAL, "port '%s' is not accepted; write N, N-M (1-65535) or '-'",
						   Q(f[2], fl[2]));
			hi = lo;
		}
		r.port_lo = (uint16_t)lo;
		r.port_hi = (uint16_t)hi;
	}

	if (fl[3] > 3 && !memcmp(f[3], "sg:", 3)) {
		if (vdc_name_check(f[3] + 3, fl[3] - 3, err) < 0)
			return vdc_err_set(err, -EINVAL, "peer '%s' is not a security-group name; write sg:NAME", Q(f[3], fl[3]));
		r.peer_is_group = true;
		memcpy(r.peer_group, f[3] + 3, fl[3] - 3);
		r.peer_group[fl[3] - 3] = '\0';
	} else if (vdc_cidr_parse(f[3], fl[3], &r.peer_net, &r.peer_prefix, err) < 0) {
		char why[VDC_ERR_MSG_MAX];

		snprintf(why, sizeof(why), "%s", err ? err->msg : "");
		return vdc_err_set(err, -EINVAL, "peer: %s; or write sg:NAME for a group", why);
	}
	if (out)
		*out = r;
	return 0;
}

int vdc_rules_parse(const char *s, size_t len, struct vdc_rule *out, size_t *n,
		    struct vdc_err *err)
{
	size_t pos = 0, lineno = 0, count = 0;
	int rc;

	rc = vdc_text_check(s, len, true, err);
	if (rc < 0)
		return rc;
	while (pos < len) {
		const char *nl = memchr(s + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - s) : len;
		size_t i = pos;
		struct vdc_rule r;

		lineno++;
		while (i < end && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i < end && s[i] != '#') {
			rc = vdc_rule_parse(s + pos, end - pos, &r, err);
			if (rc < 0) {
				char why[VDC_ERR_MSG_MAX];

				snprintf(why, sizeof(why), "%s", err ? err->msg : "");
				return vdc_err_set(err, rc, "line %zu: %s", lineno, why);
			}
			if (count == VDC_RULES_MAX)
				return vdc_err_set(err, -E2BIG, "more than %d rules; a group holds at most %d",
						   VDC_RULES_MAX, VDC_RULES_MAX);
			if (out)
				out[count] = r;
			count++;
		}
		pos = end + 1;
	}
	if (n)
		*n = count;
	return 0;
}

static int b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

long vdc_base64_decode(const char *s, size_t len, unsigned char *out)
{
	size_t i, o = 0;

	if (len == 0 || len % 4)
		return -EINVAL;
	for (i = 0; i < len; i += 4) {
		int v[4], k;
		int pad = 0;

		for (k = 0; k < 4; k++) {
			unsigned char c = (unsigned char)s[i + k];

			if (c == '=' && i + 4 == len && k >= 2) {
				v[k] = 0;
				pad++;
				continue;
			}
			if (pad)
				return -EINVAL;
			v[k] = b64val(c);
			if (v[k] < 0)
				return -EINVAL;
		}
		out[o++] = (unsigned char)((v[0] << 2) | (v[1] >> 4));
		if (pad < 2)
			out[o++] = (unsigned char)((v[1] << 4) | (v[2] >> 2));
		if (pad < 1)
			out[o++] = (unsigned char)((v[2] << 6) | v[3]);
	}
	return (long)o;
}

/* Read an SSH wire-format string (uint32 length, bytes) from a key blob. */
static bool blob_string(const unsigned char *b, size_t n, size_t *pos,
			const unsigned char **str, size_t *slen)
{
	uint32_t l;

	if (n - *pos < 4)
		return false;
	l = (uint32_t)b[*pos] << 24 | (uint32_t)b[*pos + 1] << 16 | (uint32_t)b[*pos + 2] << 8 | b[*pos + 3];
	*pos += 4;
	if (l > n - *pos)
		return false;
	*str = b + *pos;
	*slen = l;
	*pos += l;
	return true;
}

static bool blob_is(const unsigned char *str, size_t slen, const char *want)
{
	return slen == strlen(want) && !memcmp(str, want, slen);
}

/* Check the fields that follow the type string in a key blob. */
static bool key_body_ok(const char *type, const unsigned char *b, size_t n, size_t pos)
{
	const unsigned char *f;
	size_t fl;

	if (!strcmp(type, "ssh-ed25519") || !strcmp(type, "sk-ssh-ed25519@openssh.com")) {
		if (!blob_string(b, n, &pos, &f, &fl) || fl != 32)
			return false;
	} else if (!strcmp(type, "ssh-rsa")) {
		size_t bits;

		if (!blob_string(b, n, &pos, &f, &fl) || fl == 0 || fl > 8)   /* e */
			return false;
		if (!blob_string(b, n, &pos, &f, &fl) || fl < 2)               /* n */
			return false;
		while (fl && f[0] == 0) {
			f++;
			fl--;
		}
		bits = fl * 8;
		if (bits < 2048 || bits > 16384)
			return false;
	} else {
		/* ecdsa-sha2-nistpNNN and sk-ecdsa-sha2-nistp256@openssh.com */
		const char *curve = strstr(type, "nistp");
		char want[16];

		if (!curve)
			return false;
		snprintf(want, sizeof(want), "%.8s", curve);
		if (!blob_string(b, n, &pos, &f, &fl) || !blob_is(f, fl, want))
			return false;
		if (!blob_string(b, n, &pos, &f, &fl) || fl < 65 || f[0] != 4)
			return false;
	}
	if (!strncmp(type, "sk-", 3)) {
		if (!blob_string(b, n, &pos, &f, &fl) || fl == 0)   /* application */
			return false;
	}
	return pos == n;
}

int vdc_sshkey_check(const char *s, size_t len, struct vdc_err *err)
{
	static const char *const types[] = {
		"ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
		"ecdsa-sha2-nistp521", "sk-ssh-ed25519@openssh.com",
		"sk-ecdsa-sha2-nistp256@openssh.com",
	};
	const char *f[2];
	size_t fl[2], pos = 0, i;
	const char *type = NULL;
	__do_free unsigned char *blob = NULL;
	const unsigned char *str;
	size_t slen, bpos = 0;
	long bn;
	int rc;

	rc = vdc_text_check(s, len, false, err);
	if (rc < 0)
		return rc;
	if (len == 0)
		return 0;
	if (!next_field(s, len, &pos, &f[0], &fl[0]) || !next_field(s, len, &pos, &f[1], &fl[1]))
		return vdc_err_set(err, -EINVAL, "public-key is not an OpenSSH public key; write one line like 'ssh-ed25519 AAAA... comment'");
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (field_is(f[0], fl[0], types[i]))
			type = types[i];
	if (!type)
		return vdc_err_set(err, -EINVAL, "key type '%s' is not accepted; use ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256/384/521 or an sk- key",
				   Q(f[0], fl[0]));
	if (fl[1] > 16384)
		return vdc_err_set(err, -EINVAL, "public-key blob is too long for a %s key", type);
	blob = xmalloc(fl[1] / 4 * 3 + 3);
	bn = vdc_base64_decode(f[1], fl[1], blob);
	if (bn < 0)
		return vdc_err_set(err, -EINVAL, "public-key is not valid base64 after '%s'", type);
	if (!blob_string(blob, (size_t)bn, &bpos, &str, &slen) || !blob_is(str, slen, type))
		return vdc_err_set(err, -EINVAL, "public-key blob does not hold a %s key", type);
	if (!key_body_ok(type, blob, (size_t)bn, bpos))
		return vdc_err_set(err, -EINVAL, "public-key holds a malformed or too weak %s key%s", type,
				   !strcmp(type, "ssh-rsa") ? " (RSA keys need 2048 bits or more)" : "");
	return 0;
}

/* The link a user should have written from `from`, for the sentences. */
static void link_hint(const char *from, const char *kind, char *out, size_t n)
{
	size_t depth = 0, o = 0;
	const char *p;

	for (p = from; *p; p++)
		if (*p != '/' && (p == from || p[-1] == '/'))
			depth++;
	while (depth-- && o + 3 < n) {
		memcpy(out + o, "../", 3);
		o += 3;
	}
	if (strstr(kind, "/*/"))
		snprintf(out + o, n - o, "%.*s/NAME/%s/NAME", (int)(strstr(kind, "/*/") - kind), kind,
			 strstr(kind, "/*/") + 3);
	else
		snprintf(out + o, n - o, "%s/NAME", kind);
}

/* Do components i.. name `kind` ("volumes") or `kind`'s child pattern ("volumes/x/snapshots/y")? */
static bool link_shape(const char *kind, const char *const *comp, const size_t *clen, size_t n, char *tname)
{
	const char *star = strstr(kind, "/*/");
	size_t plen = star ? (size_t)(star - kind) : strlen(kind);

	if (n != (star ? 4u : 2u) || clen[0] != plen || memcmp(comp[0], kind, plen) ||
	    vdc_name_check(comp[1], clen[1], NULL) < 0)
		return false;
	if (star && (clen[2] != strlen(star + 3) || memcmp(comp[2], star + 3, clen[2]) ||
		     vdc_name_check(comp[3], clen[3], NULL) < 0))
		return false;
	memcpy(tname, comp[1], clen[1]);
	tname[clen[1]] = '\0';
	if (star) {
		tname[clen[1]] = '/';
		memcpy(tname + clen[1] + 1, comp[3], clen[3]);
		tname[clen[1] + 1 + clen[3]] = '\0';
	}
	return true;
}

int vdc_linkpath_parse(const char *mountpoint, const char *from, const char *target,
		       const char *kind, const char *what, char *tname, struct vdc_err *err)
{
	const char *comp[64];
	size_t clen[64], n = 0;
	const char *p, *rel = target;
	size_t tlen = strlen(target), mlen = mountpoint ? strlen(mountpoint) : 0;
	char hint[256];

	link_hint(from, kind, hint, sizeof(hint));
	if (!tlen || tlen > 4096)
		goto shape;
	if (target[0] == '/') {
		/* An absolute link is accepted when it points into this mount. */
		if (!mlen || strncmp(target, mountpoint, mlen) || target[mlen] != '/')
			return vdc_err_set(err, -EXDEV, "%s -> '%s' points outside the tree; link like ln -s %s",
					   what, Q(target, tlen), hint);
		from = "";
		rel = target + mlen;
	}
	/* Split `from` into components. */
	for (p = from; *p; ) {
		const char *s = strchr(p, '/');
		size_t l = s ? (size_t)(s - p) : strlen(p);

		if (l && n < 64) {
			comp[n] = p;
			clen[n++] = l;
		}
		p += l + (s ? 1 : 0);
	}
	for (p = rel; *p; ) {
		const char *s = strchr(p, '/');
		size_t l = s ? (size_t)(s - p) : strlen(p);

		if (l == 0 || (l == 1 && p[0] == '.')) {
			/* nothing */
		} else if (l == 2 && p[0] == '.' && p[1] == '.') {
			if (n == 0)
				return vdc_err_set(err, -EXDEV, "%s -> '%s' points outside the tree; link like ln -s %s",
						   what, Q(target, tlen), hint);
			n--;
		} else {
			if (n == 64)
				goto shape;
			comp[n] = p;
			clen[n++] = l;
		}
		p += l + (s ? 1 : 0);
	}
	if (!link_shape(kind, comp, clen, n, tname))
		goto shape;
	return 0;
shape:
	return vdc_err_set(err, -EINVAL, "%s -> '%s' does not name an object in %s/; link like ln -s %s",
			   what, Q(target, tlen), kind, hint);
}
