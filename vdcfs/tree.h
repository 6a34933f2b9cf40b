/*
 * Path -> node: where in the tree a path points.
 *
 * The tree is fixed in shape: the root holds one folder per kind (hosts/
 * among them, with its CACHEDIR.TAG and join) and run/; an object folder holds its attributes, ctl, its
 * input file (console), run/, its
 * relation folders, its child folder (nics/) and data. Anything else a tool
 * makes inside an object folder is a scratch file.
 */
#ifndef VDCFS_TREE_H
#define VDCFS_TREE_H

#include <stdbool.h>
#include <sys/stat.h>

#include "model.h"

enum node_type {
	N_ROOT,
	N_KINDDIR,     /* instances/ */
	N_GRUN,        /* run/ */
	N_GFILE,       /* run/events, metrics.prom, dashboard.html, CACHEDIR.TAG, a kind's own files (hosts/join) */
	N_OBJ,         /* instances/web1/, instances/web1/nics/eth0/ */
	N_ATTR,        /* a VALUE attribute file */
	N_LINK,        /* a LINK attribute: a symlink */
	N_CTL,
	N_INPUT,       /* the kind's input file (instances/web1/console) */
	N_RUNDIR,
	N_TAG,         /* OBJ/run/CACHEDIR.TAG */
	N_RUNFILE,
	N_RELDIR,      /* instances/web1/volumes/ */
	N_REL,         /* a link in a relation folder */
	N_CHILDDIR,    /* instances/web1/nics/ */
	N_DATA,
	N_SCRATCH,
};

/*
 * The global files' indexes: run/'s, then the files of the kinds' own
 * folders (struct vdc_kind's files: hosts/CACHEDIR.TAG, hosts/join) from
 * G_KIND_FILES on, kind after kind in the order of vdc_kinds().
 */
enum gfile { G_RUN_TAG, G_RUN_EVENTS, G_RUN_METRICS, G_RUN_DASHBOARD, G_KIND_FILES };

/*
 * run/metrics.prom and run/dashboard.html: rendered whole at open for the
 * reader (a document read in several requests must be one rendering),
 * and read from that copy.
 */
static inline bool tree_gfile_rendered_at_open(int idx)
{
	return idx == G_RUN_METRICS || idx == G_RUN_DASHBOARD;
}

struct node {
	enum node_type type;
	const struct vdc_kind *kind;   /* N_KINDDIR and everything in an object */
	struct vdc_obj *obj;
	int idx;                       /* attr, run file, reldir, gfile index */
	struct vdc_link *link;         /* N_LINK (when set), N_REL */
	struct vdc_scratch *scratch;
	bool hidden;                   /* removed with unlink, see tree_lookup */
};

#define CACHEDIR_TAG "Signature: 8a477f597d28d172789f06886806bc55\n" \
	"# This file is a cache directory tag created by vdcfs.\n" \
	"# run/ holds live state: tar --exclude-caches leaves it out.\n"

/* The process a request comes from: the fresh rule (model.h) needs it. */
extern __thread pid_t tree_caller;
/*
 * The user a request comes from: aggregate files (run/events) show the
 * lines that user may see. (uid_t)-1, no user, in a thread that never
 * served a request: it sees no line of anyone's.
 */
extern __thread uid_t tree_caller_uid;

/*
 * Step from folder `n` to its entry `name`, in place. Entries hidden by
 * unlink (or fresh for another process) are -ENOENT; a file is -ENOTDIR.
 */
int tree_lookup(struct node *n, const char *name);
/* The same, but a hidden entry resolves with `hidden` set (to re-make it). */
int tree_step(struct node *n, const char *name);
/*
 * The node of an inode number (see tree.c for the numbering). Works for
 * hidden entries too: an open file stays usable after rm.
 */
int tree_from_ino(uint64_t ino, struct node *n);
/*
 * After a temporary file was renamed onto a fixed file, the kernel keeps
 * calling the name by the temporary file's inode until its entry expires:
 * let that inode stand for the fixed file until the kernel forgets it.
 */
void tree_alias(uint64_t ino, uint64_t target);
void tree_forget(uint64_t ino);
/* The node's inode number (what tree_stat puts in st_ino). */
uint64_t tree_ino(const struct node *n);
/* The file that holds the bytes of N_DATA and N_SCRATCH. */
void tree_backing_path(const struct node *n, struct strbuf *out);
/*
 * A volume's data (kind->block): the size it shows (see tree.c), and
 * noting a write through it for its mtime (write lock held).
 */
uint64_t tree_data_size(const struct vdc_obj *obj);
void tree_data_written(const struct vdc_obj *obj);
/* Is an object's fixed entry (by hide-bit) absent for the calling process? */
bool tree_entry_hidden(const struct vdc_obj *obj, uint64_t bit);
/* Is the node a folder? */
bool tree_is_dir(const struct node *n);
/*
 * The inode numbers of run/events, of obj's run/ files and of its block
 * data (obj may be NULL): at most TREE_LIVE_INOS_MAX.
 */
#define TREE_LIVE_INOS_MAX (1 + VDC_KIND_RUNFILES_MAX + 1)
size_t tree_live_inos(const struct vdc_obj *obj, uint64_t *out, size_t max);
/* Fill `st` for a node (hidden ones too); st_ino is the node's inode number. */
int tree_stat(const struct node *n, struct stat *st);
/* The text of a file that vdcfs makes up (attributes, run files, tags, links). */
void tree_show(const struct node *n, struct strbuf *out);
/* How many folders below the root the folder holding this link is. */
unsigned tree_link_depth(const struct node *n);
/* Path of the folder a link lives in, below the root ("instances/web1"). */
void tree_link_from(const struct node *n, struct strbuf *out);
/* The object whose owner governs this node, or NULL (root, kinds, run). */
struct vdc_obj *tree_owner(const struct node *n);
/* Hidden bits of run/'s files and the kinds' own (bit = enum gfile). */
extern uint64_t tree_global_hidden;
/* The global file index (enum gfile) of file `f` of kind `k`'s folder. */
int tree_kind_file(const struct vdc_kind *k, unsigned f);
/* The hidden-bit for a fixed entry, 0 for entries that cannot hide. */
uint64_t tree_hide_bit(const struct node *n);
/* Path of a scratch file relative to its object ("sedXYZ", "volumes/x"). */
void tree_scratch_name(const struct node *parent, const char *name, struct strbuf *out);

#endif
