/*
 * libFuzzer target for security-group rules: vdc_rules_parse on the input
 * as a whole file, and vdc_rule_parse on it as a single line.
 *
 * The input is copied into a buffer of exactly its size, without a
 * terminator, so that AddressSanitizer catches any read past the length
 * the way a write(2) buffer would be overrun. Invariants are checked with
 * abort() so that libFuzzer keeps the input that broke them.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "validate.h"

/* The error protocol of err.h, with the closed set of codes of the rule parsers. */
#define check_err(rc, err) fuzz_check_err(rc, err, -EINVAL, -E2BIG)

/* A parsed rule must be one the grammar of validate.h can express. */
static void check_rule(const struct vdc_rule *r)
{
	if (r->dir != VDC_RULE_IN && r->dir != VDC_RULE_OUT)
		abort();
	if (r->proto > VDC_PROTO_ANY)
		abort();
	if ((r->port_lo == 0) != (r->port_hi == 0) || r->port_lo > r->port_hi)
		abort();
	if ((r->proto == VDC_PROTO_ICMP || r->proto == VDC_PROTO_ANY) && r->port_lo)
		abort();
	if (r->peer_is_group) {
		size_t n = strnlen(r->peer_group, sizeof(r->peer_group));

		if (n == sizeof(r->peer_group) || vdc_name_check(r->peer_group, n, NULL) < 0)
			abort();
	} else {
		uint32_t mask = r->peer_prefix ? ~0u << (32 - r->peer_prefix) : 0;

		if (r->peer_prefix > 32 || (r->peer_net & ~mask))
			abort();
	}
}

/* Write a rule back in the canonical text form; returns its length. */
static size_t rule_format(const struct vdc_rule *r, char *buf, size_t len)
{
	static const char *const protos[] = { "tcp", "udp", "icmp", "any" };
	char ports[16], peer[80];
	int n;

	if (r->port_lo)
		snprintf(ports, sizeof(ports), "%u-%u", r->port_lo, r->port_hi);
	else
		snprintf(ports, sizeof(ports), "-");
	if (r->peer_is_group)
		snprintf(peer, sizeof(peer), "sg:%s", r->peer_group);
	else
		snprintf(peer, sizeof(peer), "%u.%u.%u.%u/%u", r->peer_net >> 24,
			 (r->peer_net >> 16) & 255, (r->peer_net >> 8) & 255,
			 r->peer_net & 255, r->peer_prefix);
	n = snprintf(buf, len, "%s %s %s %s", r->dir == VDC_RULE_IN ? "in" : "out",
		     protos[r->proto], ports, peer);
	if (n < 0 || (size_t)n >= len)
		abort();
	return (size_t)n;
}

/* What is parsed, written back and parsed again must not change. */
static void check_round_trip(const struct vdc_rule *r)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_rule back;
	char buf[160];
	size_t n = rule_format(r, buf, sizeof(buf));

	if (vdc_rule_parse(buf, n, &back, &err) != 0)
		abort();
	if (back.dir != r->dir || back.proto != r->proto || back.port_lo != r->port_lo ||
	    back.port_hi != r->port_hi || back.peer_is_group != r->peer_is_group)
		abort();
	if (r->peer_is_group ? strcmp(back.peer_group, r->peer_group) != 0 :
	    back.peer_net != r->peer_net || back.peer_prefix != r->peer_prefix)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vdc_rule rules[VDC_RULES_MAX];
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_rule one;
	size_t n = SIZE_MAX, i;
	char *s = fuzz_copy(data, size);
	int rc;

	rc = vdc_rules_parse(s, size, rules, &n, &err);
	check_err(rc, &err);
	if (rc == 0) {
		if (n > VDC_RULES_MAX)
			abort();
		for (i = 0; i < n; i++) {
			check_rule(&rules[i]);
			check_round_trip(&rules[i]);
		}
	} else if (rc == -EINVAL && strncmp(err.msg, "line ", 5) != 0) {
		abort();   /* a rules file names the failing line */
	}
	/* Neither the outputs nor the sentence may change the verdict. */
	if (vdc_rules_parse(s, size, NULL, NULL, NULL) != rc)
		abort();

	vdc_err_clear(&err);
	rc = vdc_rule_parse(s, size, &one, &err);
	check_err(rc, &err);
	if (rc == 0) {
		check_rule(&one);
		check_round_trip(&one);
	}
	if (vdc_rule_parse(s, size, NULL, NULL) != rc)
		abort();

	free(s);
	return 0;
}
