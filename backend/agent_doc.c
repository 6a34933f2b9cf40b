/*
 * The agent server's documents, parsed and checked without the model
 * (agent_doc.h has the contract). jansson does the JSON; every member is
 * then taken by a helper that knows its type and range, so a field is
 * either as the protocol says or the whole document is refused with a
 * sentence naming it.
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_doc.h"
#include "strbuf.h"
#include "wire_doc.h"

/* ---- host text ---- */

/* The length of the character at `u` by its first byte (1 for a byte that starts none). */
static size_t char_len(const unsigned char *u, size_t left)
{
	size_t n = 1;

	if (u[0] >= 0xc2 && u[0] <= 0xdf)
		n = 2;
	else if (u[0] >= 0xe0 && u[0] <= 0xef)
		n = 3;
	else if (u[0] >= 0xf0 && u[0] <= 0xf4)
		n = 4;
	return n <= left ? n : 1;
}

/*
 * Each character is kept when vdc_text_check() accepts it as one line of
 * text (so the rules of user text, UTF-8 and no control characters, are
 * the rules of host text too); tab, which that check lets through, is
 * escaped as well, since a host's sentence has no columns to align. A
 * byte that is refused becomes \xNN and the next byte is looked at, so an
 * invalid sequence never swallows the valid text after it. The cut falls
 * after the last whole piece (a character or an escape) that leaves room
 * for the ellipsis.
 */
size_t vdc_doc_text_clean(const char *s, size_t len, char out[VDC_DOC_TEXT_MAX + 1])
{
	static const char ellipsis[] = "...";
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, o = 0, mark = 0;

	while (i < len) {
		size_t n = char_len(u + i, len - i), plen = n;
		const char *piece = s + i;
		char esc[5];

		if (u[i] == '\t' || vdc_text_check(s + i, n, false, NULL) < 0) {
			snprintf(esc, sizeof(esc), "\\x%02x", u[i]);
			piece = esc;
			plen = 4;
			n = 1;
		}
		if (o + plen > VDC_DOC_TEXT_MAX) {
			/* Cut at the last whole piece that leaves room for the ellipsis. */
			memcpy(out + mark, ellipsis, sizeof(ellipsis) - 1);
			o = mark + sizeof(ellipsis) - 1;
			break;
		}
		memcpy(out + o, piece, plen);
		o += plen;
		i += n;
		if (o <= VDC_DOC_TEXT_MAX - (sizeof(ellipsis) - 1))
			mark = o;
	}
	out[o] = 0;
	return o;
}

/* ---- members ---- */

/* The member `key` of object `o`; NULL when absent. */
static json_t *member(json_t *o, const char *key)
{
	return json_object_get(o, key);
}

/*
 * The sentence for a member that is wrong: `where` (like "instances[3]",
 * "" at the top) and `key` name it. Sentences never carry the document's
 * bytes, only names the code chose and numbers, so no quoting is needed.
 */
static int bad(struct vdc_err *err, const char *where, const char *key, const char *what)
{
	return vdc_err_set(err, -EINVAL, "%s%s%s %s", where, *where ? "." : "", key, what);
}

/* An integer member in [min, max]; absent gives `def` unless `required`. */
static int get_int(json_t *o, const char *where, const char *key, bool required, int64_t min, int64_t max,
		   int64_t def, int64_t *out, struct vdc_err *err)
{
	json_t *v = member(o, key);
	char what[128];
	json_int_t n;

	if (!v || json_is_null(v)) {
		if (required)
			return bad(err, where, key, "is missing");
		*out = def;
		return 0;
	}
	snprintf(what, sizeof(what), "must be an integer from %" PRId64 " to %" PRId64, min, max);
	if (!json_is_integer(v))
		return bad(err, where, key, what);
	n = json_integer_value(v);
	if (n < min || n > max) {
		char is[200];

		snprintf(is, sizeof(is), "is %lld; it %s", (long long)n, what);
		return bad(err, where, key, is);
	}
	*out = n;
	return 0;
}

/* A string member (absent: "" unless required); its bytes and length. */
static int get_str(json_t *o, const char *where, const char *key, bool required, const char **s,
		   size_t *len, struct vdc_err *err)
{
	json_t *v = member(o, key);

	if (!v || json_is_null(v)) {
		if (required)
			return bad(err, where, key, "is missing");
		*s = "";
		*len = 0;
		return 0;
	}
	if (!json_is_string(v))
		return bad(err, where, key, "must be a string");
	*s = json_string_value(v);
	*len = json_string_length(v);
	return 0;
}

/* A string member of at most `max` bytes, each in `allowed` (a test per byte); copied into `out`. */
static int get_token(json_t *o, const char *where, const char *key, bool required, size_t max,
		     bool (*allowed)(unsigned char), const char *accepted, char *out, struct vdc_err *err)
{
	const char *s = "";
	size_t len = 0, i;
	char what[160];
	int rc = get_str(o, where, key, required, &s, &len, err);

	if (rc < 0)
		return rc;
	snprintf(what, sizeof(what), "must be %s, at most %zu bytes", accepted, max);
	if (len > max)
		return bad(err, where, key, what);
	for (i = 0; i < len; i++)
		if (!allowed((unsigned char)s[i]))
			return bad(err, where, key, what);
	memcpy(out, s, len);
	out[len] = 0;
	return 0;
}

/* Free text of a host: any string, cleaned and cut (never refused for its content). */
static int get_text(json_t *o, const char *where, const char *key, char out[VDC_DOC_TEXT_MAX + 1],
		    struct vdc_err *err)
{
	const char *s = "";
	size_t len = 0;
	int rc = get_str(o, where, key, false, &s, &len, err);

	if (rc < 0)
		return rc;
	vdc_doc_text_clean(s, len, out);
	return 0;
}

static bool word_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || c == '-';
}

static bool fact_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '+' || c == '~' || c == '-';
}

static bool portal_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f;
}

/* A state word: required, 1 to VDC_DOC_WORD_MAX of [a-z-]. */
static int get_word(json_t *o, const char *where, const char *key, char out[VDC_DOC_WORD_MAX + 1],
		    struct vdc_err *err)
{
	int rc = get_token(o, where, key, true, VDC_DOC_WORD_MAX, word_char, "a word of a-z and '-'", out, err);

	if (rc == 0 && !out[0])
		return bad(err, where, key, "must not be empty");
	return rc;
}

static int get_fact(json_t *o, const char *key, bool required, char out[VDC_DOC_FACT_MAX + 1],
		    struct vdc_err *err)
{
	return get_token(o, VDC_WIRE_FACTS, key, required, VDC_DOC_FACT_MAX, fact_char,
			 "letters, digits and ._+~-", out, err);
}

/* "" or a dotted-quad IPv4 address. */
static int get_ipv4(json_t *o, const char *where, const char *key, char out[VDC_IPV4_TEXT],
		    struct vdc_err *err)
{
	const char *s = "";
	size_t len = 0;
	uint32_t a;
	int rc = get_str(o, where, key, false, &s, &len, err);

	if (rc < 0)
		return rc;
	if (len && vdc_ipv4_parse(s, len, &a, NULL) < 0)
		return bad(err, where, key, "must be empty or an IPv4 address like 192.0.2.1");
	if (len)
		vdc_ipv4_format(a, out);
	else
		out[0] = 0;
	return 0;
}

/* A list member of at most `max` entries (absent: empty unless `required`). */
static int get_list(json_t *o, const char *where, const char *key, bool required, size_t max, json_t **out,
		    struct vdc_err *err)
{
	json_t *v = member(o, key);
	char what[96];

	if (!v || json_is_null(v)) {
		if (required)
			return bad(err, where, key, "is missing");
		*out = NULL;
		return 0;
	}
	snprintf(what, sizeof(what), "must be a list of at most %zu entries", max);
	if (!json_is_array(v) || json_array_size(v) > max)
		return bad(err, where, key, what);
	*out = v;
	return 0;
}

static json_t *load(const char *buf, size_t len, const char *what, struct vdc_err *err)
{
	json_error_t jerr;
	json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);

	if (!root) {
		vdc_err_set(err, -EINVAL, "the %s is not JSON (line %d, column %d)", what, jerr.line, jerr.column);
		return NULL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		vdc_err_set(err, -EINVAL, "the %s is not a JSON object", what);
		return NULL;
	}
	return root;
}

/* ---- join ---- */

int vdc_doc_join_parse(const char *buf, size_t len, struct vdc_doc_join *out, struct vdc_err *err)
{
	json_t *root = load(buf, len, "join request", err);
	char kind[VDC_DOC_WORD_MAX + 1] = VDC_WIRE_KIND_HVA;
	const char *name = "";
	size_t nlen = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!root)
		return -EINVAL;
	rc = get_str(root, "", VDC_WIRE_NAME, true, &name, &nlen, err);
	if (rc == 0 && vdc_name_check(name, nlen, NULL) < 0)
		rc = vdc_err_set(err, -EINVAL, "name %s is not a host name: 1-63 of a-z, 0-9 and '-', starting with a letter",
				 vdc_quote(name, nlen, (char[200]){0}, 200));
	if (rc == 0)
		memcpy(out->name, name, nlen + 1);
	if (rc == 0)
		rc = get_token(root, "", VDC_WIRE_TOKEN, true, VDC_DOC_TOKEN_MAX, portal_char, "printable ASCII",
			       out->token, err);
	if (rc == 0 && member(root, VDC_WIRE_KIND))
		rc = get_token(root, "", VDC_WIRE_KIND, false, VDC_DOC_WORD_MAX, word_char, "\"hva\" or \"sta\"",
			       kind, err);
	if (rc == 0 && strcmp(kind, VDC_WIRE_KIND_HVA) && strcmp(kind, VDC_WIRE_KIND_STA))
		rc = vdc_err_set(err, -EINVAL, "kind must be \"hva\" or \"sta\"");
	out->sta = !strcmp(kind, VDC_WIRE_KIND_STA);
	json_decref(root);
	if (rc < 0)
		memset(out, 0, sizeof(*out));
	return rc;
}

/* ---- what both reports share ---- */

/*
 * What every entry of a report starts with, {"id", "state", "err"}: an
 * instance or volume of a hypervisor, a volume or snapshot of a storage
 * host.
 */
static int get_entry(json_t *it, const char *where, int64_t *id, char state[VDC_DOC_WORD_MAX + 1],
		     char text[VDC_DOC_TEXT_MAX + 1], struct vdc_err *err)
{
	int rc;

	if (!json_is_object(it))
		return vdc_err_set(err, -EINVAL, "%s is not an object", where);
	if ((rc = get_int(it, where, VDC_WIRE_ID, true, 1, INT64_MAX, 0, id, err)) < 0 ||
	    (rc = get_word(it, where, VDC_WIRE_STATE, state, err)) < 0 ||
	    (rc = get_text(it, where, VDC_WIRE_ERR, text, err)) < 0)
		return rc;
	return 0;
}

/*
 * The list `list` of `n` volumes of an instance or snapshots of a volume
 * (member `key` of entry `where`), each nothing but its entry, into a
 * new `*out` (left NULL when `n` is 0).
 */
static int parse_vols(json_t *list, const char *where, const char *key, unsigned n, struct vdc_doc_vol **out,
		      struct vdc_err *err)
{
	json_t *v;
	size_t i;
	int rc;

	if (!n)
		return 0;
	*out = xcalloc(n, sizeof(**out));
	json_array_foreach(list, i, v) {
		struct vdc_doc_vol *vol = &(*out)[i];
		char w[64];

		snprintf(w, sizeof(w), "%s.%s[%zu]", where, key, i);
		rc = get_entry(v, w, &vol->id, vol->state, vol->err, err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* What both reports start with: "epoch", "seq", "rev" (checked, not kept) and the object "facts". */
static int get_head(json_t *root, int64_t *epoch, int64_t *seq, json_t **facts, struct vdc_err *err)
{
	int64_t rev;
	int rc;

	*facts = member(root, VDC_WIRE_FACTS);
	if ((rc = get_int(root, "", VDC_WIRE_EPOCH, true, 0, INT64_MAX, 0, epoch, err)) < 0 ||
	    (rc = get_int(root, "", VDC_WIRE_SEQ, true, 0, INT64_MAX, 0, seq, err)) < 0 ||
	    (rc = get_int(root, "", VDC_WIRE_REV, false, 0, INT64_MAX, 0, &rev, err)) < 0)
		return rc;
	if (!json_is_object(*facts))
		return vdc_err_set(err, -EINVAL, "facts is missing or not an object");
	return 0;
}

/* ---- a hypervisor's report ---- */

/* The object member "usage" of `o` (NULL when absent), refused when it is not an object. */
static int get_usage_obj(json_t *o, const char *where, json_t **out, struct vdc_err *err)
{
	json_t *v = member(o, VDC_WIRE_USAGE);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return bad(err, where, VDC_WIRE_USAGE, "must be an object");
	*out = v;
	return 0;
}

/* A figure of "usage": an integer from 0 to `max`, -1 when absent (not known). */
static int get_figure(json_t *u, const char *where, const char *key, int64_t max, int64_t *out,
		      struct vdc_err *err)
{
	return get_int(u, where, key, false, 0, max, -1, out, err);
}

/* An instance's "usage" (docs/agent-protocol.md, "Usage"); every figure -1 when it is absent. */
static int parse_inst_usage(json_t *it, const char *where, struct vdc_doc_usage *out, struct vdc_err *err)
{
	json_t *u;
	char w[64];
	int rc;

	out->cpu = out->cpu_time_ns = out->memory_kib = -1;
	out->disk_read = out->disk_written = out->net_received = out->net_sent = out->uptime = -1;
	if ((rc = get_usage_obj(it, where, &u, err)) < 0 || !u)
		return rc;
	snprintf(w, sizeof(w), "%s.%s", where, VDC_WIRE_USAGE);
	if ((rc = get_figure(u, w, VDC_WIRE_CPU, VDC_DOC_INST_CPU_MAX, &out->cpu, err)) < 0 ||
	    (rc = get_figure(u, w, VDC_WIRE_CPU_TIME_NS, INT64_MAX, &out->cpu_time_ns, err)) < 0 ||
	    (rc = get_figure(u, w, VDC_WIRE_MEMORY_KIB, VDC_DOC_MEMORY_KIB_MAX, &out->memory_kib, err)) < 0 ||
	    (rc = get_figure(u, w, VDC_WIRE_DISK_READ, INT64_MAX, &out->disk_read, err)) < 0 ||
	    (rc = get_figure(u, w, VDC_WIRE_DISK_WRITTEN, INT64_MAX, &out->disk_written, err)) < 0 ||
	    (rc = get_figure(u, w, VDC_WIRE_NET_RECEIVED, INT64_MAX, &out->net_received, err)) < 0 ||
	    (rc = get_figure(u, w, VDC_WIRE_NET_SENT, INT64_MAX, &out->net_sent, err)) < 0 ||
	    (rc = get_figure(u, w, VDC_WIRE_UPTIME, INT64_MAX, &out->uptime, err)) < 0)
		return rc;
	return 0;
}

/* The host's "usage": {cpu, load: [three integers]}; -1 for what is absent. */
static int parse_host_usage(json_t *root, int64_t *cpu, int64_t load[3], struct vdc_err *err)
{
	static const char where[] = VDC_WIRE_USAGE;
	json_t *u, *l;
	json_int_t n;
	size_t i;
	int rc;

	*cpu = load[0] = load[1] = load[2] = -1;
	if ((rc = get_usage_obj(root, "", &u, err)) < 0 || !u)
		return rc;
	if ((rc = get_figure(u, where, VDC_WIRE_CPU, VDC_DOC_HOST_CPU_MAX, cpu, err)) < 0)
		return rc;
	l = member(u, VDC_WIRE_LOAD);
	if (!l || json_is_null(l))
		return 0;
	if (!json_is_array(l) || json_array_size(l) != 3)
		return bad(err, where, VDC_WIRE_LOAD, "must be a list of three integers (hundredths)");
	for (i = 0; i < 3; i++) {
		char key[16];

		snprintf(key, sizeof(key), VDC_WIRE_LOAD "[%zu]", i);
		if (!json_is_integer(json_array_get(l, i)))
			return bad(err, where, key, "must be an integer (hundredths)");
		n = json_integer_value(json_array_get(l, i));
		if (n < 0 || n > VDC_DOC_LOAD_MAX) {
			char is[128];

			snprintf(is, sizeof(is), "is %lld; it must be an integer from 0 to %lld", (long long)n,
				 (long long)VDC_DOC_LOAD_MAX);
			return bad(err, where, key, is);
		}
		load[i] = n;
	}
	return 0;
}

static int parse_inst(json_t *it, const char *where, struct vdc_doc_inst *out, struct vdc_err *err)
{
	json_t *vols;
	int64_t reboot, reset, migrated;
	int rc;

	if ((rc = get_entry(it, where, &out->id, out->state, out->err, err)) < 0 ||
	    (rc = get_ipv4(it, where, VDC_WIRE_IP, out->ip, err)) < 0 ||
	    (rc = get_int(it, where, VDC_WIRE_REBOOT, false, 0, INT64_MAX, 0, &reboot, err)) < 0 ||
	    (rc = get_int(it, where, VDC_WIRE_RESET, false, 0, INT64_MAX, 0, &reset, err)) < 0 ||
	    (rc = get_int(it, where, VDC_WIRE_MIGRATED, false, 0, INT64_MAX, 0, &migrated, err)) < 0 ||
	    (rc = get_text(it, where, VDC_WIRE_PROGRESS, out->progress, err)) < 0 ||
	    (rc = get_list(it, where, VDC_WIRE_VOLUMES, false, VDC_DOC_INST_VOLUMES_MAX, &vols, err)) < 0)
		return rc;
	out->reboot = (uint64_t)reboot;
	out->reset = (uint64_t)reset;
	out->migrated = (uint64_t)migrated;
	if ((rc = parse_inst_usage(it, where, &out->usage, err)) < 0)
		return rc;
	out->nvols = (unsigned)json_array_size(vols);
	return parse_vols(vols, where, VDC_WIRE_VOLUMES, out->nvols, &out->vols, err);
}

void vdc_doc_hva_report_release(struct vdc_doc_hva_report *r)
{
	size_t i;

	for (i = 0; r->insts && i < r->n; i++)
		free(r->insts[i].vols);
	free(r->insts);
	memset(r, 0, sizeof(*r));
}

int vdc_doc_hva_report_parse(const char *buf, size_t len, struct vdc_doc_hva_report *out,
			     struct vdc_err *err)
{
	json_t *root = load(buf, len, "report", err), *facts, *insts = NULL, *it;
	int64_t cpus = 0, mem = 0;
	size_t i;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!root)
		return -EINVAL;
	if ((rc = get_head(root, &out->epoch, &out->seq, &facts, err)) < 0)
		goto out;
	if ((rc = get_int(facts, VDC_WIRE_FACTS, VDC_WIRE_CPUS, true, 0, VDC_DOC_CPUS_MAX, 0, &cpus, err)) < 0 ||
	    (rc = get_int(facts, VDC_WIRE_FACTS, VDC_WIRE_MEMORY_MIB, true, 0, (int64_t)VDC_DOC_MEMORY_MIB_MAX, 0,
			  &mem, err)) < 0 ||
	    (rc = get_fact(facts, VDC_WIRE_DRIVER, false, out->driver, err)) < 0 ||
	    (rc = get_fact(facts, VDC_WIRE_VIRT, false, out->virt, err)) < 0 ||
	    (rc = get_fact(facts, VDC_WIRE_LIBVIRT, false, out->libvirt, err)) < 0 ||
	    (rc = get_fact(facts, VDC_WIRE_VERSION, false, out->version, err)) < 0 ||
	    (rc = get_ipv4(facts, VDC_WIRE_FACTS, VDC_WIRE_UNDERLAY, out->underlay, err)) < 0 ||
	    (rc = parse_host_usage(root, &out->cpu, out->load, err)) < 0 ||
	    (rc = get_list(root, "", VDC_WIRE_INSTANCES, true, VDC_DOC_INSTANCES_MAX, &insts, err)) < 0)
		goto out;
	out->cpus = (unsigned)cpus;
	out->memory_mib = (uint64_t)mem;
	out->n = json_array_size(insts);
	out->insts = xcalloc(out->n ? out->n : 1, sizeof(*out->insts));
	json_array_foreach(insts, i, it) {
		char w[32];

		snprintf(w, sizeof(w), VDC_WIRE_INSTANCES "[%zu]", i);
		rc = parse_inst(it, w, &out->insts[i], err);
		if (rc < 0)
			break;
	}
out:
	json_decref(root);
	if (rc < 0)
		vdc_doc_hva_report_release(out);
	return rc;
}

/* ---- a storage host's report ---- */

static int parse_sta_vol(json_t *it, const char *where, struct vdc_doc_sta_vol *out, size_t *snaps_left,
			 struct vdc_err *err)
{
	json_t *snaps;
	int rc;

	if ((rc = get_entry(it, where, &out->id, out->state, out->err, err)) < 0 ||
	    (rc = get_text(it, where, VDC_WIRE_PROGRESS, out->progress, err)) < 0 ||
	    (rc = get_int(it, where, VDC_WIRE_SIZE, false, 0, INT64_MAX, 0, &out->size, err)) < 0 ||
	    (rc = get_int(it, where, VDC_WIRE_ALLOCATED, false, 0, INT64_MAX, 0, &out->allocated, err)) < 0 ||
	    (rc = get_int(it, where, VDC_WIRE_RESTORE, false, 0, INT64_MAX, 0, &out->restore, err)) < 0 ||
	    (rc = get_list(it, where, VDC_WIRE_SNAPSHOTS, false, VDC_DOC_SNAPSHOTS_MAX, &snaps, err)) < 0)
		return rc;
	out->nsnaps = (unsigned)json_array_size(snaps);
	if (out->nsnaps > *snaps_left)
		return vdc_err_set(err, -EINVAL, "the report lists more than %d snapshots in all", VDC_DOC_SNAPSHOTS_MAX);
	*snaps_left -= out->nsnaps;
	return parse_vols(snaps, where, VDC_WIRE_SNAPSHOTS, out->nsnaps, &out->snaps, err);
}

void vdc_doc_sta_report_release(struct vdc_doc_sta_report *r)
{
	size_t i;

	for (i = 0; r->vols && i < r->n; i++)
		free(r->vols[i].snaps);
	free(r->vols);
	memset(r, 0, sizeof(*r));
}

int vdc_doc_sta_report_parse(const char *buf, size_t len, struct vdc_doc_sta_report *out,
			     struct vdc_err *err)
{
	json_t *root = load(buf, len, "report", err), *facts, *vols = NULL, *it;
	size_t i, snaps_left = VDC_DOC_SNAPSHOTS_MAX;
	int64_t disk = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!root)
		return -EINVAL;
	if ((rc = get_head(root, &out->epoch, &out->seq, &facts, err)) < 0)
		goto out;
	if ((rc = get_int(facts, VDC_WIRE_FACTS, VDC_WIRE_DISK_MIB, true, 0, (int64_t)VDC_DOC_DISK_MIB_MAX, 0,
			  &disk, err)) < 0 ||
	    (rc = get_fact(facts, VDC_WIRE_DRIVER, false, out->driver, err)) < 0 ||
	    (rc = get_token(facts, VDC_WIRE_FACTS, VDC_WIRE_PORTAL, true, VDC_DOC_PORTAL_MAX, portal_char,
			    "printable ASCII without spaces", out->portal, err)) < 0 ||
	    (rc = get_fact(facts, VDC_WIRE_VERSION, false, out->version, err)) < 0 ||
	    (rc = get_list(root, "", VDC_WIRE_VOLUMES, true, VDC_DOC_VOLUMES_MAX, &vols, err)) < 0)
		goto out;
	out->disk_mib = (uint64_t)disk;
	out->n = json_array_size(vols);
	out->vols = xcalloc(out->n ? out->n : 1, sizeof(*out->vols));
	json_array_foreach(vols, i, it) {
		char w[32];

		snprintf(w, sizeof(w), VDC_WIRE_VOLUMES "[%zu]", i);
		rc = parse_sta_vol(it, w, &out->vols[i], &snaps_left, err);
		if (rc < 0)
			break;
	}
out:
	json_decref(root);
	if (rc < 0)
		vdc_doc_sta_report_release(out);
	return rc;
}

/* ---- paths and numbers ---- */

int vdc_doc_host_path(const char *url, char name[VDC_NAME_MAX + 1], const char **rest, struct vdc_err *err)
{
	static const char prefix[] = "/v1/hosts/";
	const char *p, *slash;

	if (strncmp(url, prefix, sizeof(prefix) - 1))
		return vdc_err_set(err, -EINVAL, "the path does not start with %s", prefix);
	p = url + sizeof(prefix) - 1;
	slash = strchr(p, '/');
	if (!slash || vdc_name_check(p, (size_t)(slash - p), NULL) < 0)
		return vdc_err_set(err, -EINVAL, "the path is not /v1/hosts/NAME/REQUEST with a host name");
	memcpy(name, p, (size_t)(slash - p));
	name[slash - p] = 0;
	*rest = slash + 1;
	return 0;
}

int vdc_doc_query_u64(const char *value, const char *what, uint64_t min, uint64_t max, uint64_t def,
		      uint64_t *out, struct vdc_err *err)
{
	if (!value) {
		*out = def;
		return 0;
	}
	return vdc_uint_parse(value, strlen(value), what, min, max, out, err);
}
