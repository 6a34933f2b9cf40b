/*
 * Layer: LUNs, above hosts (host.h) and below the kinds whose bytes live
 * on a storage host: volumes (volume.c) and instances' root disks
 * (disk.c). It calls nothing above it: what a LUN is for is its kind's,
 * told through struct vdc_lun_ops (docs/HACKING.md, "Layers").
 *
 * A LUN is a sparse file on a storage host that its vdc-sta exports as a
 * target of its own, with a CHAP secret and an initiator ACL
 * (docs/storage.md). This module holds what every LUN has, whatever it
 * belongs to: the storage host it is placed on and its secret (live
 * values "host" and "chap" of its object), the restores asked for (live
 * value "restore"), what the host last reported (never stored: the next
 * report brings it back), the placement on the host with the most room,
 * the host's disk-used, and the storage host's desired state and report.
 *
 * Contract
 * --------
 * - Every function expects the model's write lock (or the read lock where
 *   it says so), like the rest of the model.
 * - The kind makes a LUN with vdc_lun_new() for an object and frees it
 *   with vdc_lun_free() when the object goes; every LUN made is known to
 *   this module (the storage hosts' desired states and reports go over
 *   all of them).
 */
#ifndef VDC_LUN_H
#define VDC_LUN_H

#include <stdbool.h>
#include <stdint.h>

#include "model.h"
#include "strbuf.h"

#define VDC_IQN_PREFIX "iqn.2026-11.org.vdcfs"

struct vdc_lun;
struct vdc_doc_sta_vol;
struct vdc_sta_vol_desired;

/* What the kind of a LUN's object says of it. */
struct vdc_lun_ops {
	/* The target's tail and the CHAP user: PREFIX-ID ("vol", "disk"). */
	const char *prefix;
	/* What its live values' names start with: "" (a volume's), "disk-" (an instance has its own "host"). */
	const char *live;
	/* The size it is given (bytes). */
	uint64_t (*size)(const struct vdc_obj *obj);
	/* Its object's child folder of snapshots. */
	unsigned snapshots_dir;
	/* The hypervisor that may log in besides vdcfs, or NULL (read lock). */
	const char *(*hypervisor)(const struct vdc_obj *obj);
	/* The hypervisor its instance is moving to live, which may log in too, or NULL/"" (read lock). */
	const char *(*incoming)(const struct vdc_obj *obj);
	/* The kind's part of its entry in the storage host's desired state (read lock). */
	void (*desired)(const struct vdc_obj *obj, struct vdc_sta_vol_desired *out);
	/*
	 * Its storage host reported it (`it`): the kind's part, after the
	 * common one; `moved` says whether what a hypervisor is told changed
	 * (it turned available or not, or its size).
	 */
	void (*seen)(struct vdc_obj *obj, const struct vdc_doc_sta_vol *it, bool moved);
	/* Take the kind's next step for it; safe at any time. */
	void (*reconcile)(struct vdc_obj *obj);
};

struct vdc_lun {
	struct vdc_lun *prev, *next;      /* every LUN of the model */
	struct vdc_obj *obj;
	const struct vdc_lun_ops *ops;
	char host[VDC_NAME_MAX + 1];      /* "" while not placed */
	char secret[33];                  /* CHAP secret, hex */
	uint64_t restore_n;               /* restores asked for */
	int64_t restore_snap;             /* of the last one asked for, or 0 */
	int64_t restore_vol;              /* the last one's source LUN (a clone), or 0 */
	/* As its storage host last reported it. */
	bool seen;
	char seen_state[16];
	char *seen_err;
	uint64_t seen_size, allocated, restored;
	char *progress;                   /* the agent's */
	char *data_progress;              /* the data path's */
	/*
	 * The kernel may keep the data file's pages from one open to the next
	 * while nothing but vdcfs could have written the LUN: `cache_gen`
	 * moves whenever something else may have (a restore, a guest), and an
	 * open keeps the cache only if it has not moved since the last.
	 */
	uint64_t cache_gen, cache_gen_open;
	/* Point-in-time reads under way (below). */
	struct vdc_lun_pin *pins;
	unsigned npins;
};

/*
 * Point-in-time reads. A read of a LUN that a guest may be writing (an
 * instance's disk while it runs, a volume attached to one) must see one
 * crash-consistent moment for the whole open, not the blocks as the guest
 * rewrites them under the reader (tar of a running data center). So such
 * an open takes a pin: a snapshot of the LUN that is no object (nothing in
 * the tree), told to the storage host with the LUN's snapshots, taken as
 * any (by reflink at once where the filesystem shares extents, by a copy
 * elsewhere), read through its own target (snap-ID) and dropped when the
 * open closes; a restarted vdcfs tells none, and the storage host removes
 * what was left. Pin ids start at VDC_LUN_PIN_BASE + the start time
 * (seconds) << 16, apart from object ids (sqlite rowids, far below) and
 * from those of an earlier run. At most VDC_LUN_PINS_MAX at once a LUN,
 * and never past VDC_SNAPSHOTS_MAX snapshots in all.
 */
#define VDC_LUN_PIN_BASE (INT64_C(1) << 62)
#define VDC_LUN_PINS_MAX 16
struct vdc_lun_pin {
	int64_t id;
	char name[32];                  /* "pin-ID", as its storage host is told */
	char state[16];                 /* as its storage host reported it; "" before */
	char *err;
	uint64_t size;                  /* its LUN's size when it turned available */
};
/* Take a pin: its id in *id, or -EBUSY with the sentence (too many). The storage host hears of it. */
int vdc_lun_pin(struct vdc_lun *lun, int64_t *id, struct vdc_err *err);
/* Its endpoint once available: 0, -EAGAIN while it is taken, -EIO when it failed; the sentence. */
int vdc_lun_pin_endpoint(const struct vdc_lun *lun, int64_t id, struct vdc_block_ep *ep, struct vdc_err *err);
void vdc_lun_unpin(struct vdc_lun *lun, int64_t id);

struct vdc_lun *vdc_lun_new(struct vdc_obj *obj, const struct vdc_lun_ops *ops);
void vdc_lun_free(struct vdc_lun *lun);

/* Its storage host, when it is placed on one that exists; else NULL. */
struct vdc_obj *vdc_lun_host(const struct vdc_lun *lun);
/* Is it reported available by its storage host, which is up? */
bool vdc_lun_available(const struct vdc_lun *lun);
/* A live value of its object (ops->live + "host", "chap", "restore") read back at load; false: not the LUN's. */
bool vdc_lun_live_loaded(struct vdc_lun *lun, const char *name, const char *value);

/* The names of docs/storage.md: its target, an initiator (host NULL: vdcfs's own). */
void vdc_lun_iqn(const struct vdc_lun *lun, char *out, size_t n);
void vdc_initiator_iqn(const char *host, char *out, size_t n);
/* The endpoint of an available LUN, for vdcfs's own initiator (read lock). */
void vdc_lun_endpoint(const struct vdc_lun *lun, struct vdc_block_ep *ep);

/*
 * The storage host with the most room for `size` bytes (`only`: that one
 * or none), or NULL with -ENOSPC and the sentence in `err`; `*any_sta`
 * says whether any storage host has joined at all.
 */
struct vdc_obj *vdc_lun_pick_host(uint64_t size, const char *only, bool *any_sta, struct vdc_err *err);
/* Has any storage host joined? */
bool vdc_lun_any_sta(void);
/* Put it on `host`: its secret made if it has none, host and secret stored. */
int vdc_lun_place(struct vdc_lun *lun, struct vdc_obj *host, struct vdc_err *err);
/* `host`'s disk-used: the sizes of the LUNs placed on it. */
void vdc_luns_recount(struct vdc_obj *host);
/* Ask its storage host for one more restore of snapshot `snap_id` into it. */
int vdc_lun_restore(struct vdc_lun *lun, int64_t snap_id, struct vdc_err *err);

/*
 * Clones of LUNs (a `cp` of a disk or a volume's data: copy_file_range in
 * vdcfs/handle_clone.c). These are the block ops `clone` and
 * `clone_state` of volumes and disks (model.h says what they answer):
 * the clone is one more restore into `dst` whose source is `src`'s LUN
 * ("restore": {"n", "volume": ID}), which its storage host carries out
 * by FICLONE where its file system shares extents and by a sparse copy
 * elsewhere. Refused (-EOPNOTSUPP or -EXDEV, with the sentence) unless
 * both are LUNs on the same storage host, which is up and reports both
 * available, of equal sizes, neither in use by a guest, and `dst` not
 * being restored already. *ticket is the restore's number and the
 * source's cache generation at the time (a guest that wrote it since
 * makes the clone fail rather than pass for a copy).
 */
int vdc_lun_block_clone(struct vdc_obj *dst, struct vdc_obj *src, uint64_t ticket[2], struct vdc_err *err);
int vdc_lun_block_clone_state(struct vdc_obj *dst, int64_t src_id, const uint64_t ticket[2], struct vdc_err *err);
/* -EBUSY while a clone from `obj`'s LUN is asked for and not yet carried out (the kinds' busy). */
int vdc_lun_clone_busy(const struct vdc_obj *obj, struct vdc_err *err);
/* Something other than vdcfs may have written it: the next open of its data drops the cache. */
void vdc_lun_cache_stale(struct vdc_lun *lun);
/* May this open keep the cached pages? `in_use`: a guest may write it now. */
bool vdc_lun_cache_ok(struct vdc_lun *lun, bool in_use);
/* run/progress of a copy through its data file; NULL clears. */
void vdc_lun_set_progress(struct vdc_lun *lun, const char *text);

/* run/ files: its storage host, `PORTAL IQN LUN`, the long operation under way. */
void vdc_lun_show_host(const struct vdc_lun *lun, struct strbuf *out);
void vdc_lun_show_target(const struct vdc_lun *lun, struct strbuf *out);
void vdc_lun_show_progress(const struct vdc_lun *lun, struct strbuf *out);

/* A snapshot of a LUN as its storage host is told. */
struct vdc_sta_snap_desired {
	int64_t id;
	const char *name;
};

/*
 * A LUN as its storage host is told (read lock held; names point into
 * the model and live as long as the lock).
 */
struct vdc_sta_vol_desired {
	int64_t id;
	const char *name;
	char iqn[VDC_IQN_MAX];
	uint64_t size;
	char chap_user[32];
	const char *chap_secret;
	char initiators[3][VDC_IQN_MAX];        /* vdcfs's own; the hypervisor that uses it; the one it moves to */
	unsigned ninitiators;
	struct vdc_sta_snap_desired *snaps;     /* the kind's: freed with the list */
	size_t nsnaps;
	uint64_t restore_n;                     /* restores asked for; 0: none ("restore": null) */
	int64_t restore_snap;                   /* of the last one, a snapshot's id, or 0 */
	int64_t restore_vol;                    /* or its source LUN's object's id (a clone), or 0 */
	const struct vdc_obj *image;            /* the image it is first made from (a disk's); NULL: none */
};
/* The LUNs placed on storage host `host`, `*n` of them; release with vdc_sta_volumes_release(). */
struct vdc_sta_vol_desired *vdc_sta_volumes_get(const struct vdc_obj *host, size_t *n);
void vdc_sta_volumes_release(struct vdc_sta_vol_desired *list, size_t n);
/*
 * A storage host's report: its `n` LUNs as the agent server parsed and
 * checked them (agent_doc.h), texts cleaned.
 */
void vdc_luns_report(struct vdc_obj *host, const struct vdc_doc_sta_vol *vols, size_t n);
/* Take the next step for every LUN (after a report, a link, a timeout). */
void vdc_luns_reconcile_all(void);

/*
 * Snapshots of a LUN: the objects of a child folder of its object
 * (volumes/V/snapshots/, instances/I/snapshots/), which its storage host
 * takes (atomically by reflink, or by a copy) and reports as creating,
 * available or error. What volumes and disks share of them:
 *
 * - the snapshots its storage host is told: those of map `snaps` (read lock);
 * - its report of them: each snapshot of `obj` it names gets its state
 *   and, in error, its sentence;
 * - the snapshot named by `rollback SNAP` in folder `dir` of `obj`:
 *   0, -EINVAL without a name, -ENOENT when there is none, with the sentence;
 * - may `snap` go now? -EBUSY while the LUN is being restored from it.
 */
void vdc_lun_snaps_desired(const struct vdc_map *snaps, struct vdc_sta_vol_desired *out);
void vdc_lun_snaps_seen(struct vdc_obj *obj, const struct vdc_doc_sta_vol *it);
int vdc_lun_snap_arg(struct vdc_obj *obj, unsigned dir, const char *args, size_t len, struct vdc_obj **snap,
		     struct vdc_err *err);
int vdc_lun_snap_busy(const struct vdc_lun *lun, const struct vdc_obj *snap, struct vdc_err *err);

/*
 * A snapshot's bytes (volumes/V/snapshots/S/data, instances/I/snapshots/S/disk):
 * the block ops of both snapshot kinds, whose endpoint is the snapshot's
 * own target on its LUN's storage host (`PREFIX:DC12:snap-ID`, CHAP user
 * `snap-ID` with the LUN's secret, vdcfs's initiator alone in its ACL),
 * readable while it is available, writable (the snapshot's bytes become
 * what is written: a restore from tar) unless a restore from it is under
 * way. Its size is its LUN's size when its storage host first reported it
 * available, kept as the live value "size" of the snapshot (obj->priv);
 * vdc_lun_snap_live_loaded() is the snapshot kinds' live_loaded.
 */
extern const struct vdc_block_ops vdc_lun_snap_block;
void vdc_lun_snap_live_loaded(struct vdc_obj *snap, const char *name, const char *value);

/* hosts/NAME/run/disk and disk-used of a storage host. */
void vdc_host_show_disk(const struct vdc_obj *host, struct strbuf *out);
void vdc_host_show_disk_used(const struct vdc_obj *host, struct strbuf *out);

#endif
