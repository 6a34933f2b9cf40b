/*
 * The tgt driver: every change is one `tgtadm` run (fork and execve with
 * an argv, never a shell), and what exists is read back from `tgtadm --op
 * show`. tgtd is not our child: it is started by the operator, so that
 * killing the agent leaves every target serving.
 *
 * The CHAP secret goes to tgtadm as an argument (it has no other way),
 * so it is visible in /proc to local users for the few milliseconds
 * tgtadm runs; a storage host has no untrusted local users.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "process.h"
#include "target.h"

#define TGTADM_TIMEOUT_S 30
#define SHOW_MAX (64u << 20)

/* ---- the parser of `tgtadm --op show` (pure) ---- */

uint64_t sta_tgt_size_mb(uint64_t bytes)
{
	/* tgt rounds to the nearest MB: 32 MiB prints as 34 MB, 64 MiB as 67 MB. */
	return (bytes + 500000) / 1000000;
}

/* Leading spaces of `line`. */
static size_t indent(const char *line, size_t len)
{
	size_t i = 0;

	while (i < len && line[i] == ' ')
		i++;
	return i;
}

/* Whether `line` (after its indent) starts with `key`; `*rest` points after it. */
static bool starts(const char *line, size_t len, const char *key, const char **rest, size_t *rlen)
{
	size_t k = strlen(key);

	if (len < k || memcmp(line, key, k) != 0)
		return false;
	*rest = line + k;
	*rlen = len - k;
	return true;
}

static void copy_field(char *out, size_t outlen, const char *s, size_t len)
{
	if (len >= outlen)
		len = outlen - 1;
	memcpy(out, s, len);
	out[len] = '\0';
}

enum section { SEC_NONE, SEC_SYSTEM, SEC_NEXUS, SEC_LUN, SEC_ACCOUNT, SEC_ACL };

struct parse {
	struct sta_tgt_view *v;
	struct sta_tgt_target *t;
	enum section sec;
	unsigned lun;                     /* the LUN whose lines follow; ~0: none */
};

static int parse_target_head(struct parse *p, const char *s, size_t len, struct vdc_err *err)
{
	const char *rest;
	size_t rlen;
	char *end;
	unsigned long tid;
	const char *colon;

	if (!starts(s, len, "Target ", &rest, &rlen))
		return vdc_err_set(err, -EINVAL, "tgtadm printed a line that starts no target");
	tid = strtoul(rest, &end, 10);
	colon = memchr(rest, ':', rlen);
	if (end == rest || !colon || end != colon || tid == 0 || rlen < (size_t)(colon - rest) + 3)
		return vdc_err_set(err, -EINVAL, "tgtadm printed a target line without a tid and name");
	p->v->t = xrealloc(p->v->t, (p->v->n + 1) * sizeof(*p->v->t));
	p->t = &p->v->t[p->v->n++];
	memset(p->t, 0, sizeof(*p->t));
	p->t->tid = (unsigned)tid;
	copy_field(p->t->iqn, sizeof(p->t->iqn), colon + 2, rlen - (size_t)(colon + 2 - rest));
	p->sec = SEC_NONE;
	p->lun = ~0u;
	return 0;
}

static void parse_section(struct parse *p, const char *s, size_t len)
{
	static const struct { const char *head; enum section sec; } heads[] = {
		{ "System information:", SEC_SYSTEM }, { "I_T nexus information:", SEC_NEXUS },
		{ "LUN information:", SEC_LUN }, { "Account information:", SEC_ACCOUNT },
		{ "ACL information:", SEC_ACL },
	};
	size_t i;

	p->sec = SEC_NONE;
	for (i = 0; i < sizeof(heads) / sizeof(heads[0]); i++)
		if (len == strlen(heads[i].head) && memcmp(s, heads[i].head, len) == 0)
			p->sec = heads[i].sec;
}

static void parse_lun_line(struct parse *p, const char *s, size_t len)
{
	struct sta_tgt_target *t = p->t;
	const char *rest;
	size_t rlen;

	if (starts(s, len, "LUN: ", &rest, &rlen)) {
		p->lun = (unsigned)strtoul(rest, NULL, 10);
		if (p->lun == STA_LUN)
			t->has_lun = true;
		return;
	}
	if (p->lun != STA_LUN)
		return;
	if (starts(s, len, "Size: ", &rest, &rlen))
		t->lun_mb = strtoull(rest, NULL, 10);
	else if (starts(s, len, "Thin-provisioning: ", &rest, &rlen))
		t->lun_thin = rlen == 3 && memcmp(rest, "Yes", 3) == 0;
	else if (starts(s, len, "Backing store path: ", &rest, &rlen))
		copy_field(t->lun_path, sizeof(t->lun_path), rest, rlen);
}

static void parse_line(struct parse *p, const char *s, size_t len, size_t ind)
{
	struct sta_tgt_target *t = p->t;
	const char *rest;
	size_t rlen;

	if (ind == 4) {
		parse_section(p, s, len);
		return;
	}
	switch (p->sec) {
	case SEC_SYSTEM:
		if (starts(s, len, "State: ", &rest, &rlen))
			t->ready = rlen == 5 && memcmp(rest, "ready", 5) == 0;
		break;
	case SEC_NEXUS:
		if (ind == 8 && starts(s, len, "I_T nexus: ", &rest, &rlen))
			t->sessions++;
		break;
	case SEC_LUN:
		parse_lun_line(p, s, len);
		break;
	case SEC_ACCOUNT:
		/* Outgoing accounts ("user (outgoing)") authenticate the target, not the initiator. */
		if (ind == 8 && !memchr(s, ' ', len)) {
			t->accounts = xrealloc(t->accounts, (t->n_accounts + 1) * sizeof(*t->accounts));
			copy_field(t->accounts[t->n_accounts++], VDC_NAME_MAX + 1, s, len);
		} else if (ind == 8) {
			t->outgoing = xrealloc(t->outgoing, (t->n_outgoing + 1) * sizeof(*t->outgoing));
			copy_field(t->outgoing[t->n_outgoing++], VDC_NAME_MAX + 1, s,
				   (size_t)((const char *)memchr(s, ' ', len) - s));
		}
		break;
	case SEC_ACL:
		if (ind == 8) {
			t->acl = xrealloc(t->acl, (t->n_acl + 1) * sizeof(*t->acl));
			copy_field(t->acl[t->n_acl++], STA_IQN_MAX + 1, s, len);
		}
		break;
	case SEC_NONE:
		break;
	}
}

int sta_tgt_parse_targets(const char *text, size_t len, struct sta_tgt_view *v, struct vdc_err *err)
{
	struct parse p = { .v = v, .lun = ~0u };
	size_t pos = 0;

	while (pos < len) {
		const char *line = text + pos, *nl = memchr(line, '\n', len - pos);
		size_t llen = nl ? (size_t)(nl - line) : len - pos, ind;
		int rc;

		pos += llen + (nl ? 1 : 0);
		ind = indent(line, llen);
		if (ind == llen)
			continue;
		if (ind == 0) {
			rc = parse_target_head(&p, line, llen, err);
			if (rc < 0)
				return rc;
			continue;
		}
		if (!p.t)
			return vdc_err_set(err, -EINVAL, "tgtadm printed details before any target");
		parse_line(&p, line + ind, llen - ind, ind);
	}
	return 0;
}

int sta_tgt_parse_accounts(const char *text, size_t len, struct sta_tgt_view *v, struct vdc_err *err)
{
	size_t pos = 0;
	bool head = false;

	while (pos < len) {
		const char *line = text + pos, *nl = memchr(line, '\n', len - pos);
		size_t llen = nl ? (size_t)(nl - line) : len - pos, ind;

		pos += llen + (nl ? 1 : 0);
		ind = indent(line, llen);
		if (ind == llen)
			continue;
		if (ind == 0) {
			if (llen != 13 || memcmp(line, "Account list:", 13) != 0)
				return vdc_err_set(err, -EINVAL, "tgtadm's account list does not start with \"Account list:\"");
			head = true;
			continue;
		}
		if (!head)
			return vdc_err_set(err, -EINVAL, "tgtadm printed accounts before \"Account list:\"");
		v->accounts = xrealloc(v->accounts, (v->n_accounts + 1) * sizeof(*v->accounts));
		copy_field(v->accounts[v->n_accounts++], VDC_NAME_MAX + 1, line + ind, llen - ind);
	}
	return 0;
}

void sta_tgt_view_release(struct sta_tgt_view *v)
{
	size_t i;

	for (i = 0; i < v->n; i++) {
		free(v->t[i].accounts);
		free(v->t[i].outgoing);
		free(v->t[i].acl);
	}
	free(v->t);
	free(v->accounts);
	memset(v, 0, sizeof(*v));
}

struct sta_tgt_target *sta_tgt_find(const struct sta_tgt_view *v, const char *iqn)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		if (strcmp(v->t[i].iqn, iqn) == 0)
			return &v->t[i];
	return NULL;
}

bool sta_tgt_has_account(const struct sta_tgt_view *v, const char *user)
{
	size_t i;

	for (i = 0; i < v->n_accounts; i++)
		if (strcmp(v->accounts[i], user) == 0)
			return true;
	return false;
}

bool sta_tgt_target_has_account(const struct sta_tgt_target *t, const char *user)
{
	size_t i;

	for (i = 0; i < t->n_accounts; i++)
		if (strcmp(t->accounts[i], user) == 0)
			return true;
	return false;
}

unsigned sta_tgt_free_tid(const struct sta_tgt_view *v)
{
	unsigned tid;
	size_t i;

	for (tid = 1;; tid++) {
		for (i = 0; i < v->n && v->t[i].tid != tid; i++)
			;
		if (i == v->n)
			return tid;
	}
}

/* ---- tgtadm ---- */

/* Run tgtadm with the control port and `args` (NULL-terminated, at most 16). */
static int tgtadm(const struct sta_target_ctx *c, struct strbuf *out, struct vdc_err *err, ...)
{
	const char *argv[24];
	char port[16];
	size_t n = 0;
	va_list ap;
	int rc;

	snprintf(port, sizeof(port), "%u", c->control_port);
	argv[n++] = "tgtadm";
	argv[n++] = "-C";
	argv[n++] = port;
	argv[n++] = "--lld";
	argv[n++] = "iscsi";
	va_start(ap, err);
	while (n < sizeof(argv) / sizeof(argv[0]) - 1 && (argv[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	argv[n] = NULL;
	if (out)
		rc = vdc_spawn_output(argv, NULL, TGTADM_TIMEOUT_S, out, SHOW_MAX, err);
	else
		rc = vdc_spawn(argv, NULL, TGTADM_TIMEOUT_S, err);
	return rc;
}

static int tgt_view(const struct sta_target_ctx *c, struct sta_tgt_view *v, struct vdc_err *err)
{
	struct strbuf out = STRBUF_INIT;
	int rc;

	memset(v, 0, sizeof(*v));
	rc = tgtadm(c, &out, err, "--op", "show", "--mode", "target", NULL);
	if (rc == 0)
		rc = sta_tgt_parse_targets(out.buf, out.len, v, err);
	strbuf_reset(&out);
	if (rc == 0)
		rc = tgtadm(c, &out, err, "--op", "show", "--mode", "account", NULL);
	if (rc == 0)
		rc = sta_tgt_parse_accounts(out.buf, out.len, v, err);
	strbuf_release(&out);
	if (rc < 0) {
		sta_tgt_view_release(v);
		return vdc_err_wrap(err, rc, "cannot read tgtd's targets");
	}
	return 0;
}

static int tgt_target_new(const struct sta_target_ctx *c, unsigned tid, const char *iqn,
			  struct vdc_err *err)
{
	char t[16];

	snprintf(t, sizeof(t), "%u", tid);
	return tgtadm(c, NULL, err, "--op", "new", "--mode", "target", "--tid", t, "--targetname", iqn, NULL);
}

static int tgt_target_delete(const struct sta_target_ctx *c, unsigned tid, struct vdc_err *err)
{
	char t[16];

	snprintf(t, sizeof(t), "%u", tid);
	return tgtadm(c, NULL, err, "--op", "delete", "--mode", "target", "--tid", t, "--force", NULL);
}

static int tgt_lun_new(const struct sta_target_ctx *c, unsigned tid, const char *path,
		       struct vdc_err *err)
{
	char t[16], l[16];

	snprintf(t, sizeof(t), "%u", tid);
	snprintf(l, sizeof(l), "%u", STA_LUN);
	return tgtadm(c, NULL, err, "--op", "new", "--mode", "logicalunit", "--tid", t, "--lun", l,
		      "--backing-store", path, "--bstype", "rdwr", "--device-type", "disk", NULL);
}

static int tgt_lun_delete(const struct sta_target_ctx *c, unsigned tid, struct vdc_err *err)
{
	char t[16], l[16];

	snprintf(t, sizeof(t), "%u", tid);
	snprintf(l, sizeof(l), "%u", STA_LUN);
	return tgtadm(c, NULL, err, "--op", "delete", "--mode", "logicalunit", "--tid", t, "--lun", l, NULL);
}

static int tgt_lun_thin(const struct sta_target_ctx *c, unsigned tid, struct vdc_err *err)
{
	char t[16], l[16];

	snprintf(t, sizeof(t), "%u", tid);
	snprintf(l, sizeof(l), "%u", STA_LUN);
	return tgtadm(c, NULL, err, "--op", "update", "--mode", "logicalunit", "--tid", t, "--lun", l,
		      "--params", "thin_provisioning=1", NULL);
}

static int tgt_account_new(const struct sta_target_ctx *c, const char *user, const char *secret,
			   struct vdc_err *err)
{
	return tgtadm(c, NULL, err, "--op", "new", "--mode", "account", "--user", user,
		      "--password", secret, NULL);
}

static int tgt_account_delete(const struct sta_target_ctx *c, const char *user, struct vdc_err *err)
{
	return tgtadm(c, NULL, err, "--op", "delete", "--mode", "account", "--user", user, NULL);
}

static int tgt_account_bind(const struct sta_target_ctx *c, unsigned tid, const char *user,
			    struct vdc_err *err)
{
	char t[16];

	snprintf(t, sizeof(t), "%u", tid);
	return tgtadm(c, NULL, err, "--op", "bind", "--mode", "account", "--tid", t, "--user", user, NULL);
}

static int tgt_acl_bind(const struct sta_target_ctx *c, unsigned tid, const char *initiator,
			struct vdc_err *err)
{
	char t[16];

	snprintf(t, sizeof(t), "%u", tid);
	return tgtadm(c, NULL, err, "--op", "bind", "--mode", "target", "--tid", t,
		      "--initiator-name", initiator, NULL);
}

static int tgt_acl_unbind(const struct sta_target_ctx *c, unsigned tid, const char *initiator,
			  struct vdc_err *err)
{
	char t[16];

	snprintf(t, sizeof(t), "%u", tid);
	return tgtadm(c, NULL, err, "--op", "unbind", "--mode", "target", "--tid", t,
		      "--initiator-name", initiator, NULL);
}

const struct sta_target_ops sta_target_tgt = {
	.name = "tgt",
	.view = tgt_view,
	.target_new = tgt_target_new,
	.target_delete = tgt_target_delete,
	.lun_new = tgt_lun_new,
	.lun_delete = tgt_lun_delete,
	.lun_thin = tgt_lun_thin,
	.account_new = tgt_account_new,
	.account_delete = tgt_account_delete,
	.account_bind = tgt_account_bind,
	.acl_bind = tgt_acl_bind,
	.acl_unbind = tgt_acl_unbind,
};
