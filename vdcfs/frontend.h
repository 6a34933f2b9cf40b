/*
 * What every file of the FUSE front end shares about a request: who asks,
 * where a failure's sentence goes, and which kind of file a node is.
 *
 * Contract: an operation calls begin() before it looks anything up (the
 * fresh rule and run/events depend on the caller), and turns a failing
 * mutation's errno into its reply only through fail(), with the model's
 * write lock held, so the sentence is in run/err or run/events first.
 * These are inline so that the files below the operations (handle.c) use
 * them without depending on the files of the operations.
 */
#ifndef VDCFS_FRONTEND_H
#define VDCFS_FRONTEND_H

#include <fuse_lowlevel.h>
#include <stdbool.h>

#include "tree.h"

/*
 * Note the calling process (the fresh rule in model.h depends on it) and
 * user (what run/events shows, and whose a failure about no object is).
 */
static inline void begin(fuse_req_t req)
{
	tree_caller = fuse_req_ctx(req)->pid;
	tree_caller_uid = fuse_req_ctx(req)->uid;
}

/*
 * Report a failure to its object, or, about none, to the data center's
 * run/events for the user who asked (begin() said who), and return its errno.
 */
static inline int fail(const struct node *n, const struct vdc_err *err, int rc)
{
	struct vdc_obj *o = n ? tree_owner(n) : NULL;

	if (o)
		vdc_report(o, err);
	else
		vdc_report_uid(tree_caller_uid, err);
	return rc;
}

static inline bool is_backed(enum node_type t)
{
	return t == N_DATA || t == N_SCRATCH;
}

/* Files whose content changes without a write: run/ files and run/events. */
static inline bool is_live(enum node_type t)
{
	return t == N_RUNFILE || t == N_GFILE;
}

/* The operations vdcfs serves (vdcfs.c), for main.c to mount. */
extern const struct fuse_lowlevel_ops vdcfs_ops;

/* A volume's data: its bytes are on an iSCSI LUN (handle_iscsi.c). */
static inline bool is_volume_data(const struct node *n)
{
	return n->type == N_DATA && n->kind->block;
}

#endif
