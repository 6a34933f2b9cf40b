/*
 * Layer: the model, at the bottom over the store (store.c) and the
 * events log (eventlog.c); it reaches the kinds only through their tables'
 * hooks (docs/HACKING.md, "Layers").
 *
 * The model: every object of the virtual data center, in memory, backed by
 * the sqlite store.
 *
 * Contract
 * --------
 * - One lock guards the whole model. Readers take vdc_model_rdlock(),
 *   mutators vdc_model_wrlock(); every function below expects the caller to
 *   hold the lock it names and never takes it itself.
 * - A mutator validates first, then writes the store in one transaction,
 *   and only when the commit succeeded changes memory. So on any error the
 *   model and the store are exactly as before, and the caller gets a
 *   negative errno with the sentence in `err`.
 * - Reads never touch sqlite: the store is read once, at vdc_model_open().
 *
 * Kinds describe themselves with `struct vdc_kind` (one per folder under
 * the root, defined in kinds/<kind>.c): their attributes with defaults and
 * checks, their relation folders, their live files and their verbs.
 */
#ifndef VDC_MODEL_H
#define VDC_MODEL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "err.h"
#include "kind_ids.h"
#include "map.h"
#include "strbuf.h"
#include "validate.h"
#include "vdc_limits.h"

struct vdc_obj;

enum vdc_attr_type {
	VDC_ATTR_VALUE,   /* a text value in a file */
	VDC_ATTR_LINK,    /* a relative symlink to an object of `target` */
};

#define VDC_ATTR_MULTILINE 0x1   /* value may span lines (user-data, rules) */

struct vdc_attr_def {
	const char *name;
	enum vdc_attr_type type;
	const char *def;        /* VALUE: the default, without its newline */
	const char *target;     /* LINK: the kind a link must point at */
	size_t max;             /* VALUE: the longest value accepted, bytes */
	unsigned flags;
	/*
	 * VALUE: check `value` (without the trailing newline) for `obj`;
	 * return 0 or a negative errno with the sentence in `err`. The text
	 * is already known to be UTF-8 without control bytes. LINK: check
	 * the target's name (NAME, or PARENT/NAME) before the link is made.
	 */
	int (*check)(const struct vdc_obj *obj, const char *value, size_t len,
		     struct vdc_err *err);
};

/* A folder of named links, such as instances/X/volumes/. */
struct vdc_reldir_def {
	const char *name;
	const char *target;     /* the kind every link in it must point at */
	unsigned max;           /* links it holds at most; 0: VDC_REL_MAX (vdc_limits.h) */
};

/*
 * A folder of child objects, such as instances/X/nics/: objects of a kind
 * of their own that live and die with their parent. A child kind is in one
 * parent kind's folders only.
 */
struct vdc_childdir_def {
	const char *name;               /* folder name: "nics" */
	const struct vdc_kind *kind;    /* kind of the objects in it */
	unsigned max;                   /* objects it holds at most (mkdir: ENOSPC); 0: no limit */
};
/* Child folders a kind has at most (VDC_NCHILDDIRS, kinds/kinds.h): a hide bit and an inode slot each. */
#define VDC_KIND_CHILDDIRS_MAX 4

/* A file of run/: shows live state. */
struct vdc_run_def {
	const char *name;
	void (*show)(const struct vdc_obj *obj, struct strbuf *out);
};

/*
 * A file of a kind's own folder, beside its objects (hosts/join): what
 * the data center says about the kind as a whole. `show` NULL: the cache
 * directory tag, so tar --exclude-caches leaves the folder's objects out.
 */
struct vdc_kind_file_def {
	const char *name;
	unsigned mode;          /* permission bits: 0444, or 0400 for root's alone */
	void (*show)(struct strbuf *out);
};

#define VDC_IQN_MAX 224

/* Where and how vdcfs's own initiator reaches the LUN of a kind's block data. */
struct vdc_block_ep {
	char portal[80];                /* "198.51.100.17:3260" */
	char iqn[VDC_IQN_MAX];          /* the target */
	char initiator[VDC_IQN_MAX];    /* vdcfs's own initiator name */
	char user[32];                  /* CHAP */
	char secret[72];
	int lun;
	uint64_t size;                  /* bytes, as the storage host reports */
	bool writable;                  /* false while attached to a running instance */
};

/*
 * The entry points of a kind whose `data` is a block device on a storage
 * host (volumes: kinds/volume.c fills them in), through which the front
 * end reads and writes it over iSCSI without knowing the kind, as
 * libvirt's driver tables do for a resource. The model's lock is held in
 * each (the read lock is enough unless it says the write lock).
 */
struct vdc_block_ops {
	/* Is `obj` placed on a storage host that exists? Unplaced, it holds no bytes. */
	bool (*placed)(const struct vdc_obj *obj);
	/*
	 * Its endpoint: 0, or -EAGAIN with the sentence when it is not
	 * available on its storage host (yet).
	 */
	int (*endpoint)(const struct vdc_obj *obj, struct vdc_block_ep *ep, struct vdc_err *err);
	/* 0 when it may be written now, else -EBUSY with the sentence. */
	int (*writable)(const struct vdc_obj *obj, struct vdc_err *err);
	/* The refusal of bytes while it is on no storage host: -EAGAIN and the sentence. */
	int (*no_host)(const struct vdc_obj *obj, struct vdc_err *err);
	/* May an open keep the kernel's cached pages (write lock)? */
	bool (*cache_ok)(struct vdc_obj *obj);
	/* run/progress of a copy through data (write lock); NULL clears. */
	void (*set_progress)(struct vdc_obj *obj, const char *text);
	/* The size it was given, and the bytes its storage host holds for it. */
	uint64_t (*size)(const struct vdc_obj *obj);
	uint64_t (*allocated)(const struct vdc_obj *obj);
	/*
	 * Reads at one point in time (kinds/lun.h, "Point-in-time reads"):
	 * may a guest be writing it now (NULL: never)? Then an open for
	 * reading takes a pin, reads the pin's endpoint (-EAGAIN while it is
	 * being taken) and gives it back at release (write lock for all).
	 */
	bool (*live)(const struct vdc_obj *obj);
	int (*pin)(struct vdc_obj *obj, int64_t *pin, struct vdc_err *err);
	int (*pin_endpoint)(const struct vdc_obj *obj, int64_t pin, struct vdc_block_ep *ep, struct vdc_err *err);
	void (*unpin)(struct vdc_obj *obj, int64_t pin);
	/*
	 * Ask its storage host to make its bytes a clone of `src`'s (write
	 * lock; `cp` of data or a disk: copy_file_range): 0 with `ticket`
	 * for clone_state once asked, or -EOPNOTSUPP or -EXDEV with the
	 * sentence when it cannot be done that way (the caller copies the
	 * bytes itself; nothing was changed). NULL: never.
	 */
	int (*clone)(struct vdc_obj *obj, struct vdc_obj *src, uint64_t ticket[2], struct vdc_err *err);
	/* The clone of `ticket` from object `src_id`: 1 carried out, 0 under way, or a negative errno with the sentence. */
	int (*clone_state)(struct vdc_obj *obj, int64_t src_id, const uint64_t ticket[2], struct vdc_err *err);
	/* The attribute that holds its size (truncate(2) of data writes it). */
	unsigned size_attr;
	/*
	 * No attribute holds its size (a snapshot's bytes): truncate(2) to
	 * anything but 0 or its size is EINVAL, its times are its object's.
	 */
	bool fixed_size;
};

/*
 * A file of an object's folder that takes bytes and shows none (an
 * instance's console): a write(2) hands its bytes to `write` (write lock
 * held), which takes them all, or refuses them all with a negative errno
 * and the sentence. A read returns nothing and the size is 0, so a copy
 * of it is empty, and writing that copy back (tar x, cp -r) writes no
 * byte and changes nothing.
 */
struct vdc_input_def {
	const char *name;
	int (*write)(struct vdc_obj *obj, const char *buf, size_t len, struct vdc_err *err);
};

/* A verb for ctl: `name [args]`. */
struct vdc_verb_def {
	const char *name;
	const char *usage;
	int (*run)(struct vdc_obj *obj, const char *args, size_t len, struct vdc_err *err);
};

struct vdc_kind {
	enum vdc_kind_id id;    /* what the backend names it by (kind_ids.h) */
	const char *name;       /* folder name: "instances" */
	const char *noun;       /* one of them: "instance" */
	const struct vdc_attr_def *attrs;
	unsigned nattrs;
	const struct vdc_reldir_def *reldirs;
	unsigned nreldirs;
	const struct vdc_run_def *runfiles;
	unsigned nrunfiles;
	const struct vdc_verb_def *verbs;
	unsigned nverbs;
	const struct vdc_input_def *input;      /* its input file, or NULL */
	const struct vdc_kind_file_def *files;   /* files of the kind's folder */
	unsigned nfiles;
	const struct vdc_childdir_def *childdirs;   /* folders of child objects (nics/) */
	unsigned nchilddirs;
	bool has_data;                  /* a `data` file of bytes */
	const char *data_name;          /* that file's name; NULL: "data" */
	/*
	 * Where a listing of an object's folder shows that file: 0 after
	 * everything; i + 1 just before attribute i. `tar x` writes files in
	 * the order it met them, so an instance lists its disk before power:
	 * the bytes are in before the server starts.
	 */
	unsigned data_before;
	/*
	 * i + 1: attribute i is listed after everything else of the object
	 * (its relation and child folders, the data file); 0: none. An
	 * instance lists power last, so `tar x` makes its nics, links and
	 * snapshots before the server starts (issue 13, item 5).
	 */
	unsigned attr_last;
	/* data is a block device reached through libiscsi (volumes), not a file; NULL: a file */
	const struct vdc_block_ops *block;
	const char *initial_state;      /* run/state after mkdir */
	/* Called after an attribute of `obj` committed (write lock held). */
	void (*changed)(struct vdc_obj *obj, unsigned attr);
	/* May `obj` be removed or renamed now? 0 or -EBUSY with a sentence. */
	int (*busy)(const struct vdc_obj *obj, struct vdc_err *err);
	/* Called (write lock held) after mkdir made `obj`. */
	void (*created)(struct vdc_obj *obj);
	/* Called once per object after the store is loaded. */
	void (*loaded)(struct vdc_obj *obj);
	/* Called once for the kind after every object of every kind was loaded. */
	void (*all_loaded)(const struct vdc_kind *kind);
	/* A stored live value other than run/state and run/err, at load. */
	void (*live_loaded)(struct vdc_obj *obj, const char *name, const char *value);
	/*
	 * May `obj` link `tname` in relation folder `dir`? 0 or a negative
	 * errno with the sentence (a volume is attached once: -EBUSY).
	 */
	int (*rel_check)(const struct vdc_obj *obj, unsigned dir, const char *tname, struct vdc_err *err);
	/* Called (write lock held) after a link of folder `dir` was added or removed. */
	void (*rel_changed)(struct vdc_obj *obj, unsigned dir);
	/* Called (write lock held) after `obj` was renamed from `old`. */
	void (*renamed)(struct vdc_obj *obj, const char *old);
	/* Called (write lock held) when `obj` is about to be freed after rmdir. */
	void (*destroyed)(struct vdc_obj *obj);
	/* Frees obj->priv; without it, free() does. */
	void (*release)(struct vdc_obj *obj);
	/*
	 * Objects the data center makes itself (hosts, made by joining): mkdir
	 * and rename are refused with this sentence, and the links of the
	 * relation folders are the data center's own (users cannot add,
	 * remove or rename them, and they hold no reference).
	 */
	const char *made_by_system;
	/*
	 * Root's objects of this kind may be linked by every user (images,
	 * networks); of every other kind, an object is usable by its owner
	 * and root only.
	 */
	bool shared_by_root;
	/*
	 * May `*uid` own `obj` named `name`? `obj` is NULL at mkdir (a new
	 * object of `kind` under `parent`); at rename `name` is the new name,
	 * at chown `*uid` and `*gid` the new owner. Called before anything
	 * changes: 0, or a negative errno with the sentence (a quota
	 * exceeded: -EDQUOT). At mkdir alone the hook may name another owner
	 * in `*uid` and `*gid` (a quota belongs to the user it limits).
	 */
	int (*may_own)(const struct vdc_kind *kind, struct vdc_obj *parent, const struct vdc_obj *obj,
		       const char *name, uid_t *uid, gid_t *gid, struct vdc_err *err);
	/*
	 * Objects only root makes, removes, renames and writes (quotas): the
	 * kind's folder is root's (mode 0755) and an object's files show no
	 * write permission, so its owner (whom may_own names) only reads them.
	 */
	bool made_by_root;
};

struct vdc_link {
	int64_t id;
	struct vdc_obj *owner;          /* the object holding the link */
	int attr;                       /* its LINK attribute, or -1 */
	int dir;                        /* its relation folder, or -1 */
	char name[VDC_NAME_MAX + 1];
	const struct vdc_kind *tkind;
	char tname[VDC_TNAME_MAX + 1];  /* NAME, or PARENT/NAME for a child kind */
	struct timespec mtime;
};

struct vdc_reldir {
	struct vdc_link **links;
	unsigned n, alloc;
	struct timespec mtime;
};

struct vdc_attr {
	char *value;            /* VALUE: NULL means the default */
	size_t len;
	struct vdc_link *link;  /* LINK: NULL means no link */
	struct timespec mtime;
};

/*
 * A scratch file: a file that tools make next to attributes (an editor's
 * temporary file, tar's placeholder, rsync's .name.XXXXXX) before they
 * rename it onto an attribute or remove it. Its bytes live in a file of the
 * data folder (so rsync can bring a large image through one); it does not
 * survive a restart of vdcfs.
 */
struct vdc_scratch {
	uint64_t ino;
	struct vdc_obj *owner;
	char *name;         /* relative to its object: "sedAb12", "volumes/data" */
	char *path;         /* the backing file */
};

#define VDC_SCRATCH_MAX 64            /* per object */

/* Events kept in memory: at least these many, at most twice (see ring_push). */
#define VDC_EVENTS_OBJ 32
#define VDC_EVENTS_ALL 1000

/* A line of run/events and the user it is shown to (root sees every line). */
struct vdc_event_line {
	char *text;
	uid_t uid;
};

struct vdc_ring {
	struct vdc_event_line *lines;
	unsigned cap, head, count;
};

struct vdc_obj {
	int64_t id;
	const struct vdc_kind *kind;
	struct vdc_obj *parent;          /* the instance of a nic, else NULL */
	unsigned childdir;               /* with a parent: its folder, parent->kind->childdirs[childdir] */
	char name[VDC_NAME_MAX + 1];
	uid_t uid;
	gid_t gid;
	struct timespec ctime, mtime;
	struct vdc_attr *attrs;          /* kind->nattrs */
	struct vdc_reldir *rel;          /* kind->nreldirs */
	struct vdc_map children[VDC_KIND_CHILDDIRS_MAX];   /* each child folder's objects by name */
	struct timespec childdir_mtime[VDC_KIND_CHILDDIRS_MAX];
	uint64_t hidden;                 /* entries removed by unlink, see VDC_HIDE_* */
	struct timespec live_mtime;      /* last change of anything in run/ */
	/*
	 * Right after mkdir the fixed entries look absent to the process that
	 * made the object (and to it alone, for VDC_FRESH_SECONDS), so `cp -r`
	 * can create them with O_EXCL as it does in a folder it just made.
	 * Each entry it re-creates leaves fresh_mask.
	 */
	pid_t fresh_pid;
	time_t fresh_until;              /* CLOCK_MONOTONIC seconds */
	uint64_t fresh_mask;
	char *state;
	char *err;
	bool err_by_user;                /* err refuses a user's request (see vdc_report) */
	struct vdc_ring events;
	struct vdc_scratch **scratch;
	unsigned nscratch;
	void *priv;                      /* per-kind live data */
};

/*
 * What one kind may have: vdc_obj.hidden and the front end's inode numbers
 * give each attribute, run file, relation folder and child folder a bit and a slot of
 * their own, and each file of the kind's folder one of the data center's
 * (the front end's tree_global_hidden). A kind declares its table sizes
 * with VDC_NATTRS, VDC_NRUNFILES, VDC_NRELDIRS and VDC_NFILES
 * (kinds/kinds.h), which fail to compile past these.
 */
#define VDC_KIND_ATTRS_MAX    23
#define VDC_KIND_RUNFILES_MAX 28
#define VDC_KIND_RELDIRS_MAX  4
#define VDC_KIND_FILES_MAX    3

/* Bits of vdc_obj.hidden: attribute i is bit i; these name the rest. */
#define VDC_HIDE_INPUT    (1ULL << 23)
#define VDC_HIDE_CTL      (1ULL << 24)
#define VDC_HIDE_DATA     (1ULL << 25)
#define VDC_HIDE_TAG      (1ULL << 26)
#define VDC_HIDE_RUNDIR   (1ULL << 27)
#define VDC_HIDE_RUN(i)   (1ULL << (28 + (i)))   /* i < 28 */
#define VDC_HIDE_REL(i)   (1ULL << (56 + (i)))   /* i < 4 */
#define VDC_HIDE_CHILDDIR(i) (1ULL << (60 + (i)))   /* i < 4 */
_Static_assert(VDC_KIND_ATTRS_MAX <= 23, "attribute bits run into VDC_HIDE_INPUT");
_Static_assert(28 + VDC_KIND_RUNFILES_MAX <= 56, "run file bits run into VDC_HIDE_REL");
_Static_assert(56 + VDC_KIND_RELDIRS_MAX <= 60, "relation folder bits run into VDC_HIDE_CHILDDIR");
_Static_assert(60 + VDC_KIND_CHILDDIRS_MAX <= 64, "child folder bits run out of vdc_obj.hidden");
#define VDC_FRESH_SECONDS 30

/* ---- the model as a whole ---- */

/*
 * Open (creating if needed) the store in `dir` and load every object, and
 * the events log of the state folder (eventlog.h) into run/events.
 * `sync_full` makes every commit reach the disk before write(2) returns,
 * and every event line too.
 */
int vdc_model_open(const char *dir, const struct vdc_kind *const *kinds,
		   bool sync_full, struct vdc_err *err);
void vdc_model_close(void);
void vdc_model_rdlock(void);
void vdc_model_wrlock(void);
void vdc_model_unlock(void);

/* The kinds, in the order a restore needs them (targets before sources). */
const struct vdc_kind *const *vdc_kinds(void);
const struct vdc_kind *vdc_kind_find(const char *name, size_t len);
/* The name of the data file of `kind` (has_data): "data" unless it says. */
static inline const char *vdc_kind_data_name(const struct vdc_kind *kind)
{
	return kind->data_name ? kind->data_name : "data";
}
/* The kind whose objects hold objects of child kind `child` in a folder; NULL for a top-level kind. */
const struct vdc_kind *vdc_kind_parent(const struct vdc_kind *child);
/* The registered kind (a child kind too) with `id`; NULL when none is. */
const struct vdc_kind *vdc_kind(enum vdc_kind_id id);
/* The objects of a top-level kind, by name. */
const struct vdc_map *vdc_kind_objects(const struct vdc_kind *kind);
struct timespec vdc_kind_mtime(const struct vdc_kind *kind);
/* Where the tree is mounted, so absolute links into it can be accepted. */
void vdc_model_set_mountpoint(const char *mnt);
/* Directory where object data files live (images/ID.data). */
const char *vdc_model_datadir(void);

/* ---- objects ---- */

struct vdc_obj *vdc_obj_find(const struct vdc_kind *kind, struct vdc_obj *parent,
			     const char *name, size_t len);
int vdc_obj_create(const struct vdc_kind *kind, struct vdc_obj *parent,
		   const char *name, size_t len, uid_t uid, gid_t gid,
		   struct vdc_obj **out, struct vdc_err *err);
int vdc_obj_destroy(struct vdc_obj *obj, struct vdc_err *err);
int vdc_obj_rename(struct vdc_obj *obj, const char *name, size_t len, struct vdc_err *err);
int vdc_obj_chown(struct vdc_obj *obj, uid_t uid, gid_t gid, struct vdc_err *err);
/* The id of a link in a made_by_system folder: not stored, derived from its target. */
#define VDC_SYSTEM_LINK_ID(target_id) ((int64_t)((1ULL << 44) | (uint64_t)(target_id)))
/* Find by the number in an inode: an object's id, a link's id, a scratch's ino. */
struct vdc_obj *vdc_obj_by_id(int64_t id);
struct vdc_link *vdc_link_by_id(int64_t id);
struct vdc_scratch *vdc_scratch_by_ino(uint64_t ino);
/* The objects of `obj`'s child folder `dir` (an index of its kind's childdirs), by name. */
static inline const struct vdc_map *vdc_obj_children(const struct vdc_obj *obj, unsigned dir)
{
	return &obj->children[dir];
}
/* Path of the object below the root, like "instances/web1/nics/eth0". */
void vdc_obj_path(const struct vdc_obj *obj, struct strbuf *out);
/*
 * How many links are bound to this object: those that name it (possibly
 * made before it existed) and whose holder may use it.
 */
unsigned vdc_obj_refs(const struct vdc_obj *obj);
/*
 * The ownership rule: `obj` is usable (linkable) by the owner of the
 * object at the top of its folder, by root, and, for a kind that is
 * shared_by_root, by everyone when root owns it.
 */
bool vdc_obj_usable_by(const struct vdc_obj *obj, uid_t uid);
/* The uid a link acts for: the owner of the top object holding it. */
uid_t vdc_link_holder_uid(const struct vdc_link *link);

/* The shown text of a VALUE attribute: the value and a newline, or empty. */
void vdc_attr_show(const struct vdc_obj *obj, unsigned attr, struct strbuf *out);
/* Raw value (no newline): the set value or the default. */
const char *vdc_attr_value(const struct vdc_obj *obj, unsigned attr, size_t *len);
int vdc_attr_index(const struct vdc_kind *kind, const char *name, size_t len);
/*
 * Set a VALUE attribute from what a user wrote. A single-line value loses
 * at most one trailing newline; a multi-line value is kept as written. The
 * rest is validated (text, size, the kind's check).
 */
int vdc_attr_set(struct vdc_obj *obj, unsigned attr, const char *text, size_t len,
		 struct vdc_err *err);
/* The checks of vdc_attr_set alone, committing nothing. */
int vdc_attr_check(const struct vdc_obj *obj, unsigned attr, const char *text, size_t len,
		   struct vdc_err *err);
/* Back to the default. */
int vdc_attr_reset(struct vdc_obj *obj, unsigned attr, struct vdc_err *err);

/*
 * Links. `target` is the symlink text as written; it is resolved relative
 * to the folder the link is in (`from`, a path below the root such as
 * "instances/web1") and must name an object of the slot's kind inside the
 * tree. The object may not exist yet (a restore by rsync makes links
 * before their targets); such a link is unresolved until it does.
 */
int vdc_link_parse(const char *from, const char *target, const struct vdc_kind *want,
		   const char *what, char *tname, struct vdc_err *err);
int vdc_link_set(struct vdc_obj *obj, unsigned attr, const char *tname, uid_t caller,
		 struct vdc_err *err);
int vdc_link_clear(struct vdc_obj *obj, unsigned attr, struct vdc_err *err);
int vdc_rel_add(struct vdc_obj *obj, unsigned dir, const char *name, size_t len,
		const char *tname, uid_t caller, struct vdc_err *err);
struct vdc_link *vdc_rel_find(const struct vdc_obj *obj, unsigned dir, const char *name, size_t len);
int vdc_rel_remove(struct vdc_obj *obj, unsigned dir, struct vdc_link *link, struct vdc_err *err);
int vdc_rel_rename(struct vdc_obj *obj, unsigned dir, struct vdc_link *link,
		   const char *name, size_t len, struct vdc_err *err);
/* The symlink text of a link held at `depth` folders below the root. */
void vdc_link_text(const struct vdc_link *link, unsigned depth, struct strbuf *out);
/*
 * The object a link names, or NULL while unresolved: while no such object
 * exists, or while the link's holder may not use it (a link made before
 * its target binds only to an object its holder may link).
 */
struct vdc_obj *vdc_link_target(const struct vdc_link *link);

/* ---- live state ---- */

/*
 * Called (with the write lock held) whenever the run/ files of `obj`, and
 * with them the data center's run/events, changed; `obj` is NULL when only
 * run/events did. The front end uses it to tell the kernel's cache.
 */
void vdc_model_set_live_hook(void (*hook)(const struct vdc_obj *obj));

/*
 * Tell the front end's caches what changed, from a thread that is not a
 * FUSE request (the agent server); call it before letting go of the lock.
 */
void vdc_model_set_flush_hook(void (*hook)(void));
void vdc_model_flush(void);

/*
 * Other live values of an object (a host's token digest, an instance's
 * host), persisted with it; they reach the kind's live_loaded at start-up.
 * NULL deletes. Returns 0 or a negative errno with the sentence.
 */
int vdc_obj_live_put(struct vdc_obj *obj, const char *name, const char *value, struct vdc_err *err);
/* Values of the data center itself (its id, the join token). */
const char *vdc_model_meta(const char *name);
int vdc_model_meta_put(const char *name, const char *value, struct vdc_err *err);
/* The state folder vdcfs was started with. */
const char *vdc_model_statedir(void);

/* run/ of `obj` changed in a way no event records (a report, console bytes). */
void vdc_obj_live_changed(struct vdc_obj *obj);

/* Set run/state (persisted) and log the transition. */
void vdc_obj_set_state(struct vdc_obj *obj, const char *state);
/*
 * run/err holds one sentence, of one of two origins:
 * - the data center's own (a host's report, the state machine): set by
 *   vdc_obj_set_err(obj, msg) and cleared by vdc_obj_set_err(obj, NULL)
 *   when its cause is gone (the host recovers, the instance starts);
 * - a refusal of a user's request (vdc_report): kept until the user runs
 *   `clear`, a newer sentence replaces it, or the user powers the
 *   instance on (vdc_obj_clear_err), so a report arriving meanwhile never
 *   wipes it. A later successful write keeps it: `cp -r` that had one
 *   link refused goes on with the rest, and the sentence says why.
 * Both are persisted with their origin and logged as events.
 */
void vdc_obj_set_err(struct vdc_obj *obj, const char *msg);
/* The verb every kind has: `clear` forgets run/err once it is dealt with. */
int vdc_verb_clear(struct vdc_obj *obj, const char *args, size_t len, struct vdc_err *err);
/* Record a refused request on `obj` (or the data center when NULL). */
void vdc_report(struct vdc_obj *obj, const struct vdc_err *err);
/* Empty run/err whatever its origin: `clear`, and an instance's power on. */
void vdc_obj_clear_err(struct vdc_obj *obj);
/* Append an event line to the object's and the global log. */
void vdc_event(const struct vdc_obj *obj, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/*
 * Every event line also goes to the events log of the state folder
 * (eventlog.h). A line about an object is shown in the data center's
 * run/events to the object's owner (and root); a line of vdc_event with
 * `obj` NULL is the data center's own, shown to root alone. Control bytes
 * of the text but tabs become '?', so a line is one line.
 *
 * Record a failed request of user `uid` that is about no object (a bad
 * name at the top of a kind): a line of the data center's run/events
 * shown to that user and root.
 */
void vdc_report_uid(uid_t uid, const struct vdc_err *err);
/* A line about no object, caused by user `uid`: shown to that user and root. */
void vdc_event_uid(uid_t uid, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Every line of an object's run/events (a reader of it may see the object). */
void vdc_events_show(const struct vdc_obj *obj, struct strbuf *out);
/* The data center's run/events as user `uid` may see it; root sees every line. */
void vdc_events_show_for(uid_t uid, struct strbuf *out);
/* When the data center's event log last changed. */
struct timespec vdc_events_mtime(void);
void vdc_run_show_state(const struct vdc_obj *obj, struct strbuf *out);
void vdc_run_show_err(const struct vdc_obj *obj, struct strbuf *out);
/* Monotonic-ish wall clock used for mtimes. */
struct timespec vdc_now(void);

/* ---- data and scratch files ---- */

/* The backing file of an object's `data`. */
void vdc_obj_data_path(const struct vdc_obj *obj, struct strbuf *out);

struct vdc_scratch *vdc_scratch_find(struct vdc_obj *obj, const char *name);
int vdc_scratch_create(struct vdc_obj *obj, const char *name, struct vdc_scratch **out,
		       struct vdc_err *err);
void vdc_scratch_remove(struct vdc_obj *obj, struct vdc_scratch *s);

#endif
