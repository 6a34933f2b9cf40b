/*
 * The iSCSI target behind vdc-sta, as a table of operations (after
 * libvirt's storage_backend.h): the reconcile loop says what it wants
 * (a target, a LUN on a file, a CHAP account, an ACL entry) and the
 * driver says how. The one driver is tgt (target_tgt.c), driven with
 * tgtadm. A NULL slot means "not supported" (-ENOTSUP).
 *
 * What the driver sees of the target daemon is a `struct sta_tgt_view`:
 * every target with its LUN 1, accounts, ACL and sessions, and every
 * CHAP account. The reconcile loop reads one view per pass.
 */
#ifndef VDC_STA_TARGET_H
#define VDC_STA_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "desired.h"
#include "err.h"
#include "strbuf.h"

/* The LUN a volume is exported as (LUN 0 is tgt's controller). */
#define STA_LUN 1

struct sta_tgt_target {
	unsigned tid;
	char iqn[STA_IQN_MAX + 1];
	bool ready;                       /* State: ready */
	unsigned sessions;                /* I_T nexuses */
	bool has_lun;                     /* LUN 1 exists */
	uint64_t lun_mb;                  /* its size as tgt prints it: MB, rounded */
	bool lun_thin;                    /* Thin-provisioning: Yes */
	char lun_path[4096];              /* its backing store path */
	char (*accounts)[VDC_NAME_MAX + 1];   /* incoming CHAP users bound */
	size_t n_accounts;
	char (*outgoing)[VDC_NAME_MAX + 1];   /* outgoing ones ("user (outgoing)") */
	size_t n_outgoing;
	char (*acl)[STA_IQN_MAX + 1];     /* initiator names allowed */
	size_t n_acl;
};

struct sta_tgt_view {
	struct sta_tgt_target *t;
	size_t n;
	char (*accounts)[VDC_NAME_MAX + 1];   /* every CHAP account of the daemon */
	size_t n_accounts;
};

/*
 * Parse `tgtadm --op show --mode target` output into `v` (pure; unit
 * tested against real output in tests/unit/golden/). Lines it does not
 * know are skipped. -EINVAL when the text is not that command's output.
 */
int sta_tgt_parse_targets(const char *text, size_t len, struct sta_tgt_view *v, struct vdc_err *err);

/* Parse `tgtadm --op show --mode account` output into v->accounts (pure). */
int sta_tgt_parse_accounts(const char *text, size_t len, struct sta_tgt_view *v, struct vdc_err *err);

void sta_tgt_view_release(struct sta_tgt_view *v);

/* The target named `iqn`, or NULL. */
struct sta_tgt_target *sta_tgt_find(const struct sta_tgt_view *v, const char *iqn);
/* Whether the account `user` exists / is bound to target `t`. */
bool sta_tgt_has_account(const struct sta_tgt_view *v, const char *user);
bool sta_tgt_target_has_account(const struct sta_tgt_target *t, const char *user);
/* The lowest tid no target uses. */
unsigned sta_tgt_free_tid(const struct sta_tgt_view *v);
/* tgt's printed size of a LUN of `bytes`: what lun_mb holds for it. */
uint64_t sta_tgt_size_mb(uint64_t bytes);

struct sta_target_ctx {
	unsigned control_port;            /* tgtadm -C N */
};

struct sta_target_ops {
	const char *name;                 /* "tgt": facts.driver */
	int (*view)(const struct sta_target_ctx *c, struct sta_tgt_view *v, struct vdc_err *err);
	int (*target_new)(const struct sta_target_ctx *c, unsigned tid, const char *iqn,
			  struct vdc_err *err);
	/* Removes the target even with sessions logged in. */
	int (*target_delete)(const struct sta_target_ctx *c, unsigned tid, struct vdc_err *err);
	int (*lun_new)(const struct sta_target_ctx *c, unsigned tid, const char *path,
		       struct vdc_err *err);
	int (*lun_delete)(const struct sta_target_ctx *c, unsigned tid, struct vdc_err *err);
	int (*lun_thin)(const struct sta_target_ctx *c, unsigned tid, struct vdc_err *err);
	int (*account_new)(const struct sta_target_ctx *c, const char *user, const char *secret,
			   struct vdc_err *err);
	int (*account_delete)(const struct sta_target_ctx *c, const char *user, struct vdc_err *err);
	int (*account_bind)(const struct sta_target_ctx *c, unsigned tid, const char *user,
			    struct vdc_err *err);
	int (*acl_bind)(const struct sta_target_ctx *c, unsigned tid, const char *initiator,
			struct vdc_err *err);
	int (*acl_unbind)(const struct sta_target_ctx *c, unsigned tid, const char *initiator,
			  struct vdc_err *err);
};

extern const struct sta_target_ops sta_target_tgt;

#endif
