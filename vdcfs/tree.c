#include <pthread.h>
#include <string.h>
#include <sys/stat.h>

#include "dashboard.h"
#include "metrics.h"
#include "tree.h"

#define INO_ROOT 1
#define INO_KIND(i) (2 + (i))
#define INO_GRUN 21
#define INO_GFILE(i) (22 + (i))
/*
 * The kinds' own files take global hide bits and inode numbers after
 * run/'s: as many as INO_KIND leaves kinds (up to INO_GRUN), each with
 * VDC_KIND_FILES_MAX, fit both.
 */
_Static_assert(G_KIND_FILES + (INO_GRUN - INO_KIND(0)) * VDC_KIND_FILES_MAX <= 64,
	       "the kinds' own files run out of tree_global_hidden's bits");
_Static_assert(INO_GFILE(G_KIND_FILES + (INO_GRUN - INO_KIND(0)) * VDC_KIND_FILES_MAX) < 256,
	       "the kinds' own files run into the objects' inode numbers");

/* Slots of an object's entries in the low byte of their inode numbers. */
#define SLOT_ATTR(i) (1 + (i))
#define SLOT_CTL 0x30
#define SLOT_RUNDIR 0x31
#define SLOT_TAG 0x32
#define SLOT_DATA 0x33
#define SLOT_CHILDDIR(i) (0x34 + (i))
#define SLOT_INPUT 0x38
#define SLOT_RUN(i) (0x40 + (i))
#define SLOT_REL(i) (0x60 + (i))
#define SLOT_LINK 0xff
_Static_assert(SLOT_ATTR(VDC_KIND_ATTRS_MAX) <= SLOT_CTL, "attribute slots run into SLOT_CTL");
_Static_assert(SLOT_CHILDDIR(VDC_KIND_CHILDDIRS_MAX) <= SLOT_INPUT, "child folder slots run into SLOT_INPUT");
_Static_assert(SLOT_INPUT < SLOT_RUN(0), "the input slot runs into SLOT_RUN");
_Static_assert(SLOT_RUN(VDC_KIND_RUNFILES_MAX) <= SLOT_REL(0), "run file slots run into SLOT_REL");
_Static_assert(SLOT_REL(VDC_KIND_RELDIRS_MAX) <= SLOT_LINK, "relation folder slots run into SLOT_LINK");

static uint64_t obj_ino(const struct vdc_obj *o, unsigned slot);

static struct timespec start_time;
uint64_t tree_global_hidden;
__thread pid_t tree_caller;
__thread uid_t tree_caller_uid = (uid_t)-1;
static struct vdc_imap aliases;   /* inode -> inode it now stands for */
static struct vdc_imap data_written;   /* volume id -> second of its last write through data */

static bool is(const char *c, size_t l, const char *word)
{
	return l == strlen(word) && !memcmp(c, word, l);
}

int tree_kind_file(const struct vdc_kind *k, unsigned f)
{
	const struct vdc_kind *const *kinds = vdc_kinds();
	unsigned i, g = G_KIND_FILES;

	for (i = 0; kinds[i] && kinds[i] != k; i++)
		g += kinds[i]->nfiles;
	return (int)(g + f);
}

/* The kind whose own file global file `g` is, and the file's index in it; NULL for run/'s or none. */
static const struct vdc_kind *kind_file_of(unsigned g, unsigned *f)
{
	const struct vdc_kind *const *kinds = vdc_kinds();
	unsigned i, base = G_KIND_FILES;

	if (g < G_KIND_FILES)
		return NULL;
	for (i = 0; kinds[i]; base += kinds[i]->nfiles, i++) {
		if (g < base + kinds[i]->nfiles) {
			*f = g - base;
			return kinds[i];
		}
	}
	return NULL;
}

/* Is the entry with hide-bit `bit` of `obj` absent for the caller? */
static bool hidden_for_caller(const struct vdc_obj *obj, uint64_t bit)
{
	struct timespec now;

	if (obj->hidden & bit)
		return true;
	if (!(obj->fresh_mask & bit) || tree_caller != obj->fresh_pid)
		return false;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec < obj->fresh_until;
}

uint64_t tree_hide_bit(const struct node *n)
{
	switch (n->type) {
	case N_ATTR: return 1ULL << n->idx;
	case N_CTL: return VDC_HIDE_CTL;
	case N_INPUT: return VDC_HIDE_INPUT;
	case N_DATA: return VDC_HIDE_DATA;
	case N_TAG: return VDC_HIDE_TAG;
	case N_RUNDIR: return VDC_HIDE_RUNDIR;
	case N_RUNFILE: return VDC_HIDE_RUN(n->idx);
	case N_RELDIR: return VDC_HIDE_REL(n->idx);
	case N_CHILDDIR: return VDC_HIDE_CHILDDIR(n->idx);
	case N_GFILE: return 1ULL << n->idx;
	default: return 0;
	}
}

void tree_scratch_name(const struct node *parent, const char *name, struct strbuf *out)
{
	if (parent->type == N_RELDIR)
		strbuf_addf(out, "%s/", parent->kind->reldirs[parent->idx].name);
	strbuf_addstr(out, name);
}

static int scratch_step(struct node *n, const char *c, size_t l)
{
	__do_strbuf struct strbuf name = STRBUF_INIT;
	__do_strbuf struct strbuf comp = STRBUF_INIT;

	strbuf_add(&comp, c, l);
	tree_scratch_name(n, comp.buf, &name);
	n->scratch = vdc_scratch_find(n->obj, name.buf);
	if (!n->scratch)
		return -ENOENT;
	n->type = N_SCRATCH;
	return 0;
}

static int obj_step(struct node *n, const char *c, size_t l)
{
	const struct vdc_kind *k = n->kind;
	struct vdc_obj *obj = n->obj;
	int a = vdc_attr_index(k, c, l);
	unsigned i;

	if (a >= 0) {
		n->idx = a;
		if (k->attrs[a].type == VDC_ATTR_VALUE) {
			n->type = N_ATTR;
		} else {
			n->link = obj->attrs[a].link;
			if (!n->link)
				return scratch_step(n, c, l);
			n->type = N_LINK;
		}
	} else if (k->nverbs && is(c, l, "ctl")) {
		n->type = N_CTL;
	} else if (k->input && is(c, l, k->input->name)) {
		n->type = N_INPUT;
	} else if (is(c, l, "run")) {
		n->type = N_RUNDIR;
	} else if (k->has_data && is(c, l, vdc_kind_data_name(k))) {
		n->type = N_DATA;
	} else {
		for (i = 0; i < k->nreldirs; i++) {
			if (is(c, l, k->reldirs[i].name)) {
				n->type = N_RELDIR;
				n->idx = (int)i;
				break;
			}
		}
		for (i = 0; n->type != N_RELDIR && i < k->nchilddirs; i++) {
			if (is(c, l, k->childdirs[i].name)) {
				n->type = N_CHILDDIR;
				n->idx = (int)i;
				break;
			}
		}
		if (n->type != N_RELDIR && n->type != N_CHILDDIR)
			return scratch_step(n, c, l);
	}
	n->hidden = hidden_for_caller(obj, tree_hide_bit(n));
	return 0;
}

static int step(struct node *n, const char *c, size_t l)
{
	unsigned i;

	if (n->hidden)
		return -ENOENT;
	switch (n->type) {
	case N_ROOT:
		if (is(c, l, "run")) {
			n->type = N_GRUN;
			return 0;
		}
		n->kind = vdc_kind_find(c, l);
		if (!n->kind || vdc_kind_parent(n->kind))
			return -ENOENT;   /* a child kind has no folder of its own at the top */
		n->type = N_KINDDIR;
		return 0;
	case N_KINDDIR:
		for (i = 0; i < n->kind->nfiles; i++) {
			if (is(c, l, n->kind->files[i].name)) {
				n->type = N_GFILE;
				n->idx = tree_kind_file(n->kind, i);
				n->hidden = (tree_global_hidden & tree_hide_bit(n)) != 0;
				return 0;
			}
		}
		n->obj = vdc_obj_find(n->kind, NULL, c, l);
		if (!n->obj)
			return -ENOENT;
		n->type = N_OBJ;
		return 0;
	case N_GRUN:
		if (is(c, l, "CACHEDIR.TAG"))
			n->idx = G_RUN_TAG;
		else if (is(c, l, "events"))
			n->idx = G_RUN_EVENTS;
		else if (is(c, l, "metrics.prom"))
			n->idx = G_RUN_METRICS;
		else if (is(c, l, "dashboard.html"))
			n->idx = G_RUN_DASHBOARD;
		else
			return -ENOENT;
		n->type = N_GFILE;
		n->hidden = (tree_global_hidden & tree_hide_bit(n)) != 0;
		return 0;
	case N_OBJ:
		return obj_step(n, c, l);
	case N_RUNDIR:
		if (is(c, l, "CACHEDIR.TAG")) {
			n->type = N_TAG;
		} else {
			for (i = 0; i < n->kind->nrunfiles; i++)
				if (is(c, l, n->kind->runfiles[i].name))
					break;
			if (i == n->kind->nrunfiles)
				return -ENOENT;
			n->type = N_RUNFILE;
			n->idx = (int)i;
		}
		n->hidden = hidden_for_caller(n->obj, tree_hide_bit(n));
		return 0;
	case N_RELDIR:
		n->link = vdc_rel_find(n->obj, (unsigned)n->idx, c, l);
		if (!n->link)
			return scratch_step(n, c, l);
		n->type = N_REL;
		return 0;
	case N_CHILDDIR:
		n->kind = n->kind->childdirs[n->idx].kind;
		n->obj = vdc_obj_find(n->kind, n->obj, c, l);
		if (!n->obj)
			return -ENOENT;
		n->type = N_OBJ;
		return 0;
	default:
		return -ENOTDIR;
	}
}

int tree_step(struct node *n, const char *name)
{
	return step(n, name, strlen(name));
}

int tree_lookup(struct node *n, const char *name)
{
	int rc = step(n, name, strlen(name));

	if (rc == 0 && n->hidden)
		rc = -ENOENT;
	return rc;
}

void tree_alias(uint64_t ino, uint64_t target)
{
	vdc_imap_put(&aliases, ino, (void *)(uintptr_t)target);
}

void tree_forget(uint64_t ino)
{
	vdc_imap_del(&aliases, ino);
}

/* The node of a fixed entry `slot` of `obj`. */
static int obj_slot(struct node *n, struct vdc_obj *obj, unsigned slot)
{
	const struct vdc_kind *k = obj->kind;

	n->obj = obj;
	n->kind = k;
	if (slot == 0) {
		n->type = N_OBJ;
	} else if (slot >= SLOT_ATTR(0) && slot < SLOT_ATTR(k->nattrs)) {
		n->idx = (int)(slot - SLOT_ATTR(0));
		if (k->attrs[n->idx].type != VDC_ATTR_VALUE)
			return -ENOENT;
		n->type = N_ATTR;
	} else if (slot == SLOT_CTL && k->nverbs) {
		n->type = N_CTL;
	} else if (slot == SLOT_INPUT && k->input) {
		n->type = N_INPUT;
	} else if (slot == SLOT_RUNDIR) {
		n->type = N_RUNDIR;
	} else if (slot == SLOT_TAG) {
		n->type = N_TAG;
	} else if (slot == SLOT_DATA && k->has_data) {
		n->type = N_DATA;
	} else if (slot >= SLOT_CHILDDIR(0) && slot < SLOT_CHILDDIR(k->nchilddirs)) {
		n->type = N_CHILDDIR;
		n->idx = (int)(slot - SLOT_CHILDDIR(0));
	} else if (slot >= SLOT_RUN(0) && slot < SLOT_RUN(k->nrunfiles)) {
		n->type = N_RUNFILE;
		n->idx = (int)(slot - SLOT_RUN(0));
	} else if (slot >= SLOT_REL(0) && slot < SLOT_REL(k->nreldirs)) {
		n->type = N_RELDIR;
		n->idx = (int)(slot - SLOT_REL(0));
	} else {
		return -ENOENT;
	}
	n->hidden = (obj->hidden & tree_hide_bit(n)) != 0;
	return 0;
}

int tree_from_ino(uint64_t ino, struct node *n)
{
	uint64_t alias = (uint64_t)(uintptr_t)vdc_imap_get(&aliases, ino);
	const struct vdc_kind *const *kinds = vdc_kinds();
	unsigned i;

	if (alias)
		ino = alias;
	memset(n, 0, sizeof(*n));
	if (ino == INO_ROOT) {
		n->type = N_ROOT;
		return 0;
	}
	if (ino == INO_GRUN) {
		n->type = N_GRUN;
		return 0;
	}
	if (ino >= INO_GFILE(0) && ino < INO_GFILE(G_KIND_FILES)) {
		n->type = N_GFILE;
		n->idx = (int)(ino - INO_GFILE(0));
		n->hidden = (tree_global_hidden & tree_hide_bit(n)) != 0;
		return 0;
	}
	if (ino >= INO_GFILE(G_KIND_FILES) && ino < 256 &&
	    (n->kind = kind_file_of((unsigned)(ino - INO_GFILE(0)), &i))) {
		n->type = N_GFILE;
		n->idx = (int)(ino - INO_GFILE(0));
		n->hidden = (tree_global_hidden & tree_hide_bit(n)) != 0;
		return 0;
	}
	for (i = 0; kinds[i]; i++) {
		if (ino == INO_KIND(i)) {
			n->type = N_KINDDIR;
			n->kind = kinds[i];
			return 0;
		}
	}
	if (ino & (1ULL << 62)) {
		n->scratch = vdc_scratch_by_ino(ino);
		if (!n->scratch)
			return -ENOENT;
		n->type = N_SCRATCH;
		n->obj = n->scratch->owner;
		n->kind = n->obj->kind;
		return 0;
	}
	if ((ino & 0xff) == SLOT_LINK) {
		n->link = vdc_link_by_id((int64_t)(ino >> 8));
		if (!n->link)
			return -ENOENT;
		n->obj = n->link->owner;
		n->kind = n->obj->kind;
		n->type = n->link->attr >= 0 ? N_LINK : N_REL;
		n->idx = n->link->attr >= 0 ? n->link->attr : n->link->dir;
		return 0;
	}
	n->obj = vdc_obj_by_id((int64_t)(ino >> 8));
	if (!n->obj)
		return -ENOENT;
	return obj_slot(n, n->obj, (unsigned)(ino & 0xff));
}

size_t tree_live_inos(const struct vdc_obj *obj, uint64_t *out, size_t max)
{
	size_t n = 0;
	unsigned i;

	if (max)
		out[n++] = INO_GFILE(G_RUN_EVENTS);
	for (i = 0; obj && i < obj->kind->nrunfiles && n < max; i++)
		out[n++] = obj_ino(obj, SLOT_RUN(i));
	/* A volume's data shows the size its storage host reports. */
	if (obj && obj->kind->block && n < max)
		out[n++] = obj_ino(obj, SLOT_DATA);
	return n;
}

bool tree_entry_hidden(const struct vdc_obj *obj, uint64_t bit)
{
	return hidden_for_caller(obj, bit);
}

bool tree_is_dir(const struct node *n)
{
	switch (n->type) {
	case N_ROOT: case N_KINDDIR: case N_GRUN: case N_OBJ:
	case N_RUNDIR: case N_RELDIR: case N_CHILDDIR:
		return true;
	default:
		return false;
	}
}

struct vdc_obj *tree_owner(const struct node *n)
{
	switch (n->type) {
	case N_ROOT: case N_KINDDIR: case N_GRUN: case N_GFILE:
		return NULL;
	default:
		return n->obj;
	}
}

unsigned tree_link_depth(const struct node *n)
{
	unsigned d = 0;
	const struct vdc_obj *o;

	for (o = n->obj; o; o = o->parent)
		d += 2;
	return n->type == N_REL || n->type == N_RELDIR ? d + 1 : d;
}

void tree_link_from(const struct node *n, struct strbuf *out)
{
	vdc_obj_path(n->obj, out);
	if (n->type == N_REL || n->type == N_RELDIR)
		strbuf_addf(out, "/%s", n->kind->reldirs[n->idx].name);
}

/*
 * run/metrics.prom and dashboard.html are made anew at every open for the
 * reader (their figures move with every request, this one's too), so no
 * stat can give the size of the next open's text. A stat gives the length
 * of the last rendering for that reader, rendering only when there is
 * none: a stat and an open (cat) would otherwise render twice a file that
 * is read with direct I/O to its end whatever its size says.
 */
#define RENDERED_SLOTS 16
static pthread_mutex_t rendered_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rendered {
	int idx;            /* 0: free (G_RUN_TAG is never rendered) */
	uid_t uid;
	size_t len;
} rendered[RENDERED_SLOTS];
static unsigned rendered_next;

static void rendered_put(int idx, uid_t uid, size_t len)
{
	unsigned i;

	pthread_mutex_lock(&rendered_lock);
	for (i = 0; i < RENDERED_SLOTS && !(rendered[i].idx == idx && rendered[i].uid == uid); i++)
		;
	if (i == RENDERED_SLOTS)
		i = rendered_next++ % RENDERED_SLOTS;
	rendered[i] = (struct rendered){ idx, uid, len };
	pthread_mutex_unlock(&rendered_lock);
}

static bool rendered_get(int idx, uid_t uid, size_t *len)
{
	bool found = false;
	unsigned i;

	pthread_mutex_lock(&rendered_lock);
	for (i = 0; i < RENDERED_SLOTS && !found; i++) {
		found = rendered[i].idx == idx && rendered[i].uid == uid;
		if (found)
			*len = rendered[i].len;
	}
	pthread_mutex_unlock(&rendered_lock);
	return found;
}

void tree_show(const struct node *n, struct strbuf *out)
{
	size_t before = out->len;
	const struct vdc_kind *k;
	unsigned f;

	switch (n->type) {
	case N_ATTR:
		vdc_attr_show(n->obj, (unsigned)n->idx, out);
		break;
	case N_RUNFILE:
		n->kind->runfiles[n->idx].show(n->obj, out);
		break;
	case N_TAG:
		strbuf_addstr(out, CACHEDIR_TAG);
		break;
	case N_GFILE:
		if (n->idx == G_RUN_EVENTS)
			vdc_events_show_for(tree_caller_uid, out);
		else if (n->idx == G_RUN_METRICS)
			vdc_metrics_render(tree_caller_uid, out);
		else if (n->idx == G_RUN_DASHBOARD)
			vdc_dashboard_render(tree_caller_uid, vdc_now().tv_sec, out);
		else if ((k = kind_file_of((unsigned)n->idx, &f)) && k->files[f].show)
			k->files[f].show(out);
		else
			strbuf_addstr(out, CACHEDIR_TAG);
		if (tree_gfile_rendered_at_open(n->idx))
			rendered_put(n->idx, tree_caller_uid, out->len - before);
		break;
	case N_LINK:
	case N_REL:
		vdc_link_text(n->link, tree_link_depth(n), out);
		break;
	default:
		break;
	}
}

uint64_t tree_ino(const struct node *n)
{
	unsigned i;

	switch (n->type) {
	case N_ROOT: return INO_ROOT;
	case N_KINDDIR:
		for (i = 0; vdc_kinds()[i] != n->kind; i++)
			;
		return INO_KIND(i);
	case N_GRUN: return INO_GRUN;
	case N_GFILE: return INO_GFILE(n->idx);
	case N_OBJ: return obj_ino(n->obj, 0);
	case N_ATTR: return obj_ino(n->obj, SLOT_ATTR(n->idx));
	case N_CTL: return obj_ino(n->obj, SLOT_CTL);
	case N_INPUT: return obj_ino(n->obj, SLOT_INPUT);
	case N_RUNDIR: return obj_ino(n->obj, SLOT_RUNDIR);
	case N_TAG: return obj_ino(n->obj, SLOT_TAG);
	case N_RUNFILE: return obj_ino(n->obj, SLOT_RUN(n->idx));
	case N_RELDIR: return obj_ino(n->obj, SLOT_REL(n->idx));
	case N_CHILDDIR: return obj_ino(n->obj, SLOT_CHILDDIR(n->idx));
	case N_DATA: return obj_ino(n->obj, SLOT_DATA);
	case N_LINK: case N_REL: return ((uint64_t)n->link->id << 8) | SLOT_LINK;
	case N_SCRATCH: return n->scratch->ino;
	}
	return 0;
}

void tree_backing_path(const struct node *n, struct strbuf *out)
{
	if (n->type == N_SCRATCH)
		strbuf_addstr(out, n->scratch->path);
	else
		vdc_obj_data_path(n->obj, out);
}

void tree_data_written(const struct vdc_obj *obj)
{
	vdc_imap_put(&data_written, (uint64_t)obj->id, (void *)(intptr_t)vdc_now().tv_sec);
}

uint64_t tree_data_size(const struct vdc_obj *obj)
{
	struct vdc_block_ep ep;
	uint64_t want = obj->kind->block->size(obj);

	if (!obj->kind->block->placed(obj))
		return 0;   /* no storage host: no bytes anywhere yet */
	if (obj->kind->block->endpoint(obj, &ep, NULL) == 0 && ep.size > want)
		return ep.size;
	return want;
}

/*
 * The `data` of a volume: its size is the larger of what its storage host
 * reports and its `size` attribute, so a grow by truncate(2) or by writing
 * `size` shows at once (the bytes between read as zeros until the host has
 * grown the LUN). Its times are those of its last write through data (in
 * this run of vdcfs) or of its size (a snapshot's, which has none: its
 * making), never of run/, so that tar does not see it change while it
 * reads it.
 */
static void volume_data_stat(const struct node *n, struct stat *st)
{
	const struct vdc_obj *o = n->obj;
	uint64_t size = tree_data_size(o);
	struct timespec t = o->kind->block->fixed_size ? o->ctime : o->attrs[o->kind->block->size_attr].mtime;
	time_t w = (time_t)(intptr_t)vdc_imap_get(&data_written, (uint64_t)o->id);

	if (w > t.tv_sec)
		t = (struct timespec){ w, 0 };
	st->st_mode = S_IFREG | 0644;
	st->st_size = (off_t)size;
	/*
	 * The allocation its storage host last reported, so du is right; but
	 * at least one block (tar takes 0 for "all holes" and reads nothing)
	 * and at most one block less than full (so tar --sparse and cp
	 * --sparse=auto look for holes with SEEK_HOLE).
	 */
	{
		uint64_t blocks = o->kind->block->allocated(o) / 512, full = (size + 511) / 512;

		if (size >= 1024 && blocks > full - 1)
			blocks = full - 1;
		if (blocks == 0 && size)
			blocks = 1;
		st->st_blocks = (blkcnt_t)blocks;
	}
	st->st_mtim = t;
	st->st_ctim = t;
	st->st_atim = t;
}

static void set_times(struct stat *st, struct timespec t)
{
	st->st_mtim = t;
	st->st_ctim = t;
	st->st_atim = t;
}

static uint64_t obj_ino(const struct vdc_obj *o, unsigned slot)
{
	return ((uint64_t)o->id << 8) | slot;
}

int tree_stat(const struct node *n, struct stat *st)
{
	const struct vdc_obj *o = n->obj;
	__do_strbuf struct strbuf text = STRBUF_INIT;
	const struct vdc_kind *k;
	unsigned f;
	size_t rlen;

	if (!start_time.tv_sec)
		start_time = vdc_now();
	memset(st, 0, sizeof(*st));
	st->st_ino = tree_ino(n);
	st->st_nlink = 1;
	st->st_blksize = 4096;
	if (o) {
		st->st_uid = o->uid;
		st->st_gid = o->gid;
	}
	switch (n->type) {
	case N_ROOT:
		st->st_mode = S_IFDIR | 0755;
		set_times(st, start_time);
		break;
	case N_KINDDIR:
		/* Anyone makes objects, except hosts (they join) and quotas (root makes them). */
		st->st_mode = n->kind->made_by_system || n->kind->made_by_root ? S_IFDIR | 0755
									     : S_IFDIR | S_ISVTX | 0777;
		set_times(st, vdc_kind_mtime(n->kind));
		break;
	case N_GRUN:
		st->st_mode = S_IFDIR | 0755;
		set_times(st, start_time);
		break;
	case N_GFILE:
		/* A kind's file says its mode (hosts/join, the join secret, is root's alone). */
		k = kind_file_of((unsigned)n->idx, &f);
		st->st_mode = S_IFREG | (k ? k->files[f].mode : 0444);
		/* A tag never changes: a fixed time lets rsync see it is the same. */
		if (tree_gfile_rendered_at_open(n->idx))
			set_times(st, vdc_now());   /* made anew at every read */
		else
			set_times(st, n->idx == G_RUN_EVENTS ? vdc_events_mtime() : (struct timespec){ 0, 0 });
		break;
	case N_OBJ:
		st->st_mode = S_IFDIR | 0700;
		set_times(st, o->mtime);
		st->st_ctim = o->ctime;
		break;
	case N_ATTR:
		st->st_mode = S_IFREG | 0644;
		set_times(st, o->attrs[n->idx].mtime);
		break;
	case N_CTL:
	case N_INPUT:
		st->st_mode = S_IFREG | 0600;
		set_times(st, o->ctime);
		break;
	case N_RUNDIR:
		/*
		 * Its mtime follows what agents report, its ctime stays the
		 * object's: tar --exclude-caches reads run/ for the tag and
		 * calls a folder whose ctime moved while it read it "changed
		 * as we read it" (exit 1) - in a running data center, always.
		 */
		st->st_mode = S_IFDIR | 0755;
		set_times(st, o->live_mtime);
		st->st_ctim = o->ctime;
		break;
	case N_TAG:
		st->st_mode = S_IFREG | 0444;
		set_times(st, (struct timespec){ 0, 0 });
		break;
	case N_RUNFILE:
		st->st_mode = S_IFREG | 0444;
		set_times(st, o->live_mtime);
		break;
	case N_RELDIR:
		st->st_mode = S_IFDIR | 0700;
		set_times(st, o->rel[n->idx].mtime);
		break;
	case N_CHILDDIR:
		st->st_mode = S_IFDIR | 0700;
		set_times(st, o->childdir_mtime[n->idx]);
		break;
	case N_LINK:
	case N_REL:
		st->st_mode = S_IFLNK | 0777;
		set_times(st, n->link->mtime);
		break;
	case N_SCRATCH:
	case N_DATA: {
		__do_strbuf struct strbuf p = STRBUF_INIT;
		struct stat b;

		if (n->type == N_DATA && n->kind->block) {
			volume_data_stat(n, st);
			return 0;
		}
		tree_backing_path(n, &p);
		if (stat(p.buf, &b) < 0)
			return -EIO;
		st->st_mode = S_IFREG | 0644;
		st->st_size = b.st_size;
		st->st_blocks = b.st_blocks;
		st->st_mtim = b.st_mtim;
		st->st_ctim = b.st_ctim;
		st->st_atim = b.st_atim;
		return 0;
	}
	}
	/* Root's kinds: their owner reads, root alone writes (root needs no w bit). */
	if (o && o->kind->made_by_root)
		st->st_mode &= ~(mode_t)0222;
	if (tree_is_dir(n)) {
		st->st_nlink = 2;
		st->st_size = 0;
	} else if (n->type == N_GFILE && tree_gfile_rendered_at_open(n->idx) &&
		   rendered_get(n->idx, tree_caller_uid, &rlen)) {
		st->st_size = (off_t)rlen;
		st->st_blocks = (blkcnt_t)((rlen + 511) / 512);
	} else {
		tree_show(n, &text);
		st->st_size = (off_t)text.len;
		st->st_blocks = (blkcnt_t)((text.len + 511) / 512);
	}
	return 0;
}
