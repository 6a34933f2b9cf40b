/*
 * The model (model.h): objects, attributes, links, the references between
 * them, live state and events, behind one lock.
 *
 * Why one file of about 1,700 lines: everything here is state that the
 * one model lock guards, and every mutation touches several parts at once
 * (a link binds and counts a reference and logs an event in the same
 * transaction). Kept in one file, those structures are static: nothing
 * outside can reach them except through model.h's locked functions. Split
 * by section, they would need a private header that any file could use
 * without the lock. The sections below (events, references, objects,
 * attributes, links, scratch files, loading) each open with a marker.
 */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eventlog.h"
#include "model.h"
#include "store.h"

#define KINDS_MAX 16

struct kind_state {
	const struct vdc_kind *kind;
	struct vdc_map objects;
	struct timespec mtime;
};

static pthread_rwlock_t model_lock = PTHREAD_RWLOCK_INITIALIZER;
static const struct vdc_kind *const *top_kinds;
static struct kind_state kstate[KINDS_MAX];
static unsigned nkinds;
/*
 * "kind/name" -> struct refset: every link that names that object, bound
 * or not. A link binds only when its holder may use the object it names
 * (vdc_obj_usable_by), so the count of an object's references is taken
 * when asked, not kept.
 */
static struct vdc_map refs;
static struct vdc_imap objs_by_id, links_by_id, scratch_by_ino;
static struct vdc_ring all_events;
static struct timespec all_events_mtime;
static void (*live_hook)(const struct vdc_obj *obj);
static void (*flush_hook)(void);
static int store_finish(int rc, struct vdc_err *err);
static struct vdc_map meta;          /* live rows of object 0: name -> value */
static char *statedir;

void vdc_model_set_flush_hook(void (*hook)(void))
{
	flush_hook = hook;
}

void vdc_model_flush(void)
{
	if (flush_hook)
		flush_hook();
}

const char *vdc_model_statedir(void)
{
	return statedir;
}

const char *vdc_model_meta(const char *name)
{
	return vdc_map_get(&meta, name);
}

int vdc_model_meta_put(const char *name, const char *value, struct vdc_err *err)
{
	int rc = vdc_store_begin(err);

	if (rc < 0)
		return rc;
	rc = store_finish(vdc_store_live_put(0, name, value, err), err);
	if (rc < 0)
		return rc;
	free(vdc_map_del(&meta, name));
	if (value)
		vdc_map_put(&meta, name, xstrdup(value));
	return 0;
}

int vdc_obj_live_put(struct vdc_obj *obj, const char *name, const char *value, struct vdc_err *err)
{
	int rc = vdc_store_begin(err);

	if (rc < 0)
		return rc;
	return store_finish(vdc_store_live_put(obj->id, name, value, err), err);
}

void vdc_model_set_live_hook(void (*hook)(const struct vdc_obj *obj))
{
	live_hook = hook;
}
static char *datadir;

void vdc_model_rdlock(void) { pthread_rwlock_rdlock(&model_lock); }
void vdc_model_wrlock(void) { pthread_rwlock_wrlock(&model_lock); }
void vdc_model_unlock(void) { pthread_rwlock_unlock(&model_lock); }

const struct vdc_kind *const *vdc_kinds(void) { return top_kinds; }
const char *vdc_model_datadir(void) { return datadir; }

struct vdc_obj *vdc_obj_by_id(int64_t id)
{
	return vdc_imap_get(&objs_by_id, (uint64_t)id);
}

struct vdc_link *vdc_link_by_id(int64_t id)
{
	return vdc_imap_get(&links_by_id, (uint64_t)id);
}

struct vdc_scratch *vdc_scratch_by_ino(uint64_t ino)
{
	return vdc_imap_get(&scratch_by_ino, ino);
}

struct timespec vdc_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return t;
}

static struct kind_state *kind_state(const struct vdc_kind *kind)
{
	unsigned i;

	for (i = 0; i < nkinds; i++)
		if (kstate[i].kind == kind)
			return &kstate[i];
	return NULL;
}

/* The index of child kind `child`'s folder in `parent`'s childdirs; -1 when it has none. */
static int childdir_index(const struct vdc_kind *parent, const struct vdc_kind *child)
{
	unsigned i;

	for (i = 0; i < parent->nchilddirs; i++)
		if (parent->childdirs[i].kind == child)
			return (int)i;
	return -1;
}

/* The top-level kind whose objects hold objects of `child` (nics, snapshots). */
static const struct vdc_kind *kind_parent(const struct vdc_kind *child)
{
	unsigned i;

	for (i = 0; i < nkinds; i++)
		if (childdir_index(kstate[i].kind, child) >= 0)
			return kstate[i].kind;
	return NULL;
}

const struct vdc_kind *vdc_kind_parent(const struct vdc_kind *child)
{
	return kind_parent(child);
}

/* The folder name of child kind `child` in its parent ("nics"). */
static const char *childdir_name(const struct vdc_kind *parent, const struct vdc_kind *child)
{
	return parent->childdirs[childdir_index(parent, child)].name;
}

/* Every registered kind (a child kind too) in turn: *i from 0, *j from 0, NULL at the end. */
static const struct vdc_kind *kind_next(unsigned *i, unsigned *j)
{
	while (*i < nkinds) {
		const struct vdc_kind *k = kstate[*i].kind;

		if (*j == 0) {
			(*j)++;
			return k;
		}
		if (*j <= k->nchilddirs)
			return k->childdirs[(*j)++ - 1].kind;
		(*i)++;
		*j = 0;
	}
	return NULL;
}

const struct vdc_kind *vdc_kind(enum vdc_kind_id id)
{
	const struct vdc_kind *k;
	unsigned i = 0, j = 0;

	while (id != VDC_KIND_OTHER && (k = kind_next(&i, &j)))
		if (k->id == id)
			return k;
	return NULL;
}

const struct vdc_kind *vdc_kind_find(const char *name, size_t len)
{
	unsigned i;

	for (i = 0; i < nkinds; i++)
		if (strlen(kstate[i].kind->name) == len && !memcmp(kstate[i].kind->name, name, len))
			return kstate[i].kind;
	for (i = 0; i < nkinds; i++) {
		const struct vdc_kind *k = kstate[i].kind;
		unsigned j;

		for (j = 0; j < k->nchilddirs; j++)
			if (strlen(k->childdirs[j].kind->name) == len && !memcmp(k->childdirs[j].kind->name, name, len))
				return k->childdirs[j].kind;
	}
	return NULL;
}

/* The object a link's target name names: NAME, or PARENT/NAME for a child kind. */
static struct vdc_obj *link_resolve(const struct vdc_kind *tkind, const char *tname)
{
	const struct vdc_kind *pk = kind_parent(tkind);
	const char *slash;
	struct vdc_obj *parent;

	if (!pk)
		return vdc_obj_find(tkind, NULL, tname, strlen(tname));
	slash = strchr(tname, '/');
	if (!slash)
		return NULL;
	parent = vdc_obj_find(pk, NULL, tname, (size_t)(slash - tname));
	return parent ? vdc_obj_find(tkind, parent, slash + 1, strlen(slash + 1)) : NULL;
}

const struct vdc_map *vdc_kind_objects(const struct vdc_kind *kind)
{
	return &kind_state(kind)->objects;
}

struct timespec vdc_kind_mtime(const struct vdc_kind *kind)
{
	return kind_state(kind)->mtime;
}

/*
 * End a transaction begun with vdc_store_begin(): commit when every step
 * succeeded (rc == 0), else roll back. Returns the first error.
 */
static int store_finish(int rc, struct vdc_err *err)
{
	if (rc == 0)
		rc = vdc_store_commit(err);
	if (rc < 0)
		vdc_store_rollback();
	return rc;
}

/* Check a user's name and copy it, terminated, into `out`. */
static int name_copy(const char *name, size_t len, char out[VDC_NAME_MAX + 1], struct vdc_err *err)
{
	int rc = vdc_name_check(name, len, err);

	if (rc < 0)
		return rc;
	memcpy(out, name, len);
	out[len] = '\0';
	return 0;
}

/* ---- events ---- */

/*
 * Append a line, keeping between `keep` and 2 * `keep` lines: when full, the
 * oldest `keep` go at once. A log that only grows and now and then shrinks
 * by half is what `tail -f` follows (it re-reads a file that got shorter).
 */
static void ring_push(struct vdc_ring *r, unsigned keep, char *line, uid_t uid)
{
	unsigned i;

	if (!r->lines) {
		r->cap = 2 * keep;
		r->lines = xcalloc(r->cap, sizeof(*r->lines));
	}
	if (r->count == r->cap) {
		for (i = 0; i < keep; i++)
			free(r->lines[(r->head + i) % r->cap].text);
		r->head = (r->head + keep) % r->cap;
		r->count -= keep;
	}
	r->lines[(r->head + r->count) % r->cap] = (struct vdc_event_line){ line, uid };
	r->count++;
}

/* The lines `uid` may see (all of them for root). */
static void ring_show(const struct vdc_ring *r, uid_t uid, struct strbuf *out)
{
	unsigned i;

	for (i = 0; i < r->count; i++) {
		const struct vdc_event_line *l = &r->lines[(r->head + i) % r->cap];

		if (uid != 0 && l->uid != uid)
			continue;
		strbuf_addstr(out, l->text);
		strbuf_addch(out, '\n');
	}
}

static void ring_free(struct vdc_ring *r)
{
	unsigned i;

	for (i = 0; i < r->count; i++)
		free(r->lines[(r->head + i) % r->cap].text);
	free(r->lines);
	memset(r, 0, sizeof(*r));
}

void vdc_obj_path(const struct vdc_obj *obj, struct strbuf *out)
{
	if (obj->parent) {
		vdc_obj_path(obj->parent, out);
		strbuf_addf(out, "/%s/%s", obj->parent->kind->childdirs[obj->childdir].name, obj->name);
		return;
	}
	strbuf_addf(out, "%s/%s", obj->kind->name, obj->name);
}

/*
 * The one writer of event lines. `obj` gets the line in its own log;
 * `about` names the object the line is about for the events log on disk
 * (0: none), `uid` the user it is shown to. A line that cannot reach the
 * disk is still shown; the first of a run of such failures says why in a
 * line of its own.
 */
static void event_add(struct vdc_obj *obj, const char *path, int64_t about, uid_t uid,
		      const char *fmt, va_list ap)
{
	__do_strbuf struct strbuf line = STRBUF_INIT;
	struct vdc_err err = VDC_ERR_INIT;
	struct timespec t = vdc_now();
	struct tm tm;
	char stamp[32];
	size_t i, head;

	gmtime_r(&t.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	strbuf_addf(&line, "%s %s ", stamp, path);
	head = line.len;
	strbuf_vaddf(&line, fmt, ap);
	/* One event, one line: a value or a host's report cannot forge another. */
	for (i = head; i < line.len; i++)
		if (((unsigned char)line.buf[i] < 0x20 && line.buf[i] != '\t') || line.buf[i] == 0x7f)
			line.buf[i] = '?';
	if (vdc_eventlog_append(uid, about, line.buf, &err) == 1) {
		__do_strbuf struct strbuf warn = STRBUF_INIT;

		strbuf_addf(&warn, "%s vdc warning: %s", stamp, err.msg);
		ring_push(&all_events, VDC_EVENTS_ALL, strbuf_detach(&warn, NULL), 0);
	}
	if (obj) {
		ring_push(&obj->events, VDC_EVENTS_OBJ, xstrdup(line.buf), uid);
		obj->live_mtime = t;
	}
	ring_push(&all_events, VDC_EVENTS_ALL, strbuf_detach(&line, NULL), uid);
	all_events_mtime = t;
	if (live_hook)
		live_hook(obj);
}

void vdc_event(const struct vdc_obj *obj, const char *fmt, ...)
{
	__do_strbuf struct strbuf path = STRBUF_INIT;
	va_list ap;

	if (obj)
		vdc_obj_path(obj, &path);
	else
		strbuf_addstr(&path, "vdc");
	va_start(ap, fmt);
	event_add((struct vdc_obj *)obj, path.buf, obj ? obj->id : 0, obj ? obj->uid : 0, fmt, ap);
	va_end(ap);
}

void vdc_event_uid(uid_t uid, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	event_add(NULL, "vdc", 0, uid, fmt, ap);
	va_end(ap);
}

void vdc_report_uid(uid_t uid, const struct vdc_err *err)
{
	if (err->msg[0])
		vdc_event_uid(uid, "error: %s", err->msg);
}

/* A line about `obj` that only the data center's log keeps (the object is going). */
static void event_gone(const struct vdc_obj *obj, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void event_gone(const struct vdc_obj *obj, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	event_add(NULL, "vdc", obj->id, obj->uid, fmt, ap);
	va_end(ap);
}

void vdc_obj_live_changed(struct vdc_obj *obj)
{
	obj->live_mtime = vdc_now();
	if (live_hook)
		live_hook(obj);
}

struct timespec vdc_events_mtime(void)
{
	return all_events_mtime;
}

void vdc_events_show(const struct vdc_obj *obj, struct strbuf *out)
{
	ring_show(obj ? &obj->events : &all_events, 0, out);
}

void vdc_events_show_for(uid_t uid, struct strbuf *out)
{
	ring_show(&all_events, uid, out);
}

void vdc_run_show_state(const struct vdc_obj *obj, struct strbuf *out)
{
	strbuf_addf(out, "%s\n", obj->state);
}

void vdc_run_show_err(const struct vdc_obj *obj, struct strbuf *out)
{
	if (obj->err && *obj->err)
		strbuf_addf(out, "%s\n", obj->err);
}

void vdc_obj_set_state(struct vdc_obj *obj, const char *state)
{
	struct vdc_err err = VDC_ERR_INIT;

	if (!strcmp(obj->state, state))
		return;
	if (vdc_store_begin(&err) == 0)
		store_finish(vdc_store_live_put(obj->id, "state", state, &err), &err);
	if (err.code)
		vdc_event(obj, "warning: %s", err.msg);
	vdc_event(obj, "state %s -> %s", obj->state, state);
	free(obj->state);
	obj->state = xstrdup(state);
}

/*
 * Set or clear run/err, persisted with whose it is: a sentence of the data
 * center's (a host's report, the state machine) or a refusal of what a
 * user asked (kept until `clear` or the user's next successful request).
 */
static void err_store(struct vdc_obj *obj, const char *msg, bool by_user)
{
	struct vdc_err err = VDC_ERR_INIT;
	int rc;

	if (vdc_store_begin(&err) == 0) {
		rc = vdc_store_live_put(obj->id, "err", msg, &err);
		if (rc == 0 && by_user != obj->err_by_user)
			rc = vdc_store_live_put(obj->id, "err-by", by_user ? "user" : NULL, &err);
		store_finish(rc, &err);
	}
	free(obj->err);
	obj->err = msg ? xstrdup(msg) : NULL;
	obj->err_by_user = msg && by_user;
	if (msg)
		vdc_event(obj, "error: %s", msg);
	else if (live_hook)
		live_hook(obj);
}

void vdc_obj_set_err(struct vdc_obj *obj, const char *msg)
{
	if (!msg && (!obj->err || obj->err_by_user))
		return;
	err_store(obj, msg, false);
}

int vdc_verb_clear(struct vdc_obj *obj, const char *args, size_t len, struct vdc_err *err)
{
	(void)args;
	if (len)
		return vdc_err_set(err, -EINVAL, "clear takes no arguments");
	vdc_obj_clear_err(obj);
	vdc_event(obj, "run/err cleared");
	return 0;
}

void vdc_obj_clear_err(struct vdc_obj *obj)
{
	if (obj->err)
		err_store(obj, NULL, false);
}

void vdc_report(struct vdc_obj *obj, const struct vdc_err *err)
{
	if (!err->msg[0])
		return;
	if (obj)
		err_store(obj, err->msg, true);
	else
		vdc_event(NULL, "error: %s", err->msg);
}


/* ---- references ---- */

static void ref_key(const struct vdc_kind *kind, const char *name, char *key, size_t n)
{
	snprintf(key, n, "%s/%s", kind->name, name);
}

static void obj_ref_key(const struct vdc_obj *obj, char *key, size_t n)
{
	if (obj->parent)
		snprintf(key, n, "%s/%s/%s", obj->kind->name, obj->parent->name, obj->name);
	else
		ref_key(obj->kind, obj->name, key, n);
}

struct refset {
	const struct vdc_link **v;
	unsigned n, alloc;
};

static void ref_adjust(const struct vdc_link *link, int delta)
{
	char key[VDC_TNAME_MAX + 64];
	struct refset *rs;
	unsigned i;

	if (link->owner->kind->made_by_system)
		return;   /* a host's list of its instances holds nothing */
	ref_key(link->tkind, link->tname, key, sizeof(key));
	rs = vdc_map_get(&refs, key);
	if (delta > 0) {
		if (!rs) {
			rs = xcalloc(1, sizeof(*rs));
			vdc_map_put(&refs, key, rs);
		}
		if (rs->n == rs->alloc) {
			rs->alloc = rs->alloc ? 2 * rs->alloc : 2;
			rs->v = xrealloc(rs->v, rs->alloc * sizeof(*rs->v));
		}
		rs->v[rs->n++] = link;
		return;
	}
	for (i = 0; rs && i < rs->n; i++) {
		if (rs->v[i] != link)
			continue;
		rs->v[i] = rs->v[--rs->n];
		break;
	}
	if (rs && !rs->n) {
		vdc_map_del(&refs, key);
		free(rs->v);
		free(rs);
	}
}

static void refs_clear(void)
{
	struct vdc_map_entry *e;
	size_t b;

	for (e = vdc_map_first(&refs, &b); e; e = vdc_map_next(&refs, e, &b)) {
		struct refset *rs = e->value;

		free(rs->v);
		free(rs);
	}
	vdc_map_clear(&refs);
}

static void link_free(struct vdc_link *l)
{
	ref_adjust(l, -1);
	vdc_imap_del(&links_by_id, (uint64_t)l->id);
	free(l);
}

/* The object at the top of `obj`'s folder: the instance of a nic, else itself. */
static const struct vdc_obj *obj_top(const struct vdc_obj *obj)
{
	while (obj->parent)
		obj = obj->parent;
	return obj;
}

bool vdc_obj_usable_by(const struct vdc_obj *obj, uid_t uid)
{
	const struct vdc_obj *top = obj_top(obj);

	return uid == 0 || top->uid == uid || (top->uid == 0 && top->kind->shared_by_root);
}

uid_t vdc_link_holder_uid(const struct vdc_link *link)
{
	return obj_top(link->owner)->uid;
}

unsigned vdc_obj_refs(const struct vdc_obj *obj)
{
	char key[VDC_TNAME_MAX + 64];
	const struct refset *rs;
	unsigned i, n = 0;

	obj_ref_key(obj, key, sizeof(key));
	rs = vdc_map_get(&refs, key);
	for (i = 0; rs && i < rs->n; i++)
		if (vdc_obj_usable_by(obj, vdc_link_holder_uid(rs->v[i])))
			n++;
	return n;
}

/* ---- objects ---- */

/* The map an object of `kind` under `parent` (NULL: none) lives in. */
static struct vdc_map *siblings(const struct vdc_kind *kind, struct vdc_obj *parent)
{
	struct kind_state *ks;
	int d;

	if (!parent) {
		ks = kind_state(kind);
		return ks ? &ks->objects : NULL;
	}
	d = childdir_index(parent->kind, kind);
	return d >= 0 ? &parent->children[d] : NULL;
}

struct vdc_obj *vdc_obj_find(const struct vdc_kind *kind, struct vdc_obj *parent,
			     const char *name, size_t len)
{
	char key[VDC_NAME_MAX + 1];
	struct vdc_map *m;

	if (len > VDC_NAME_MAX)
		return NULL;
	memcpy(key, name, len);
	key[len] = '\0';
	m = siblings(kind, parent);
	return m ? vdc_map_get(m, key) : NULL;
}

static struct vdc_obj *obj_alloc(const struct vdc_kind *kind, struct vdc_obj *parent, int64_t id,
				 const char *name, uid_t uid, gid_t gid, struct timespec ct,
				 struct timespec mt)
{
	struct vdc_obj *obj = xcalloc(1, sizeof(*obj));
	unsigned i;

	obj->id = id;
	obj->kind = kind;
	obj->parent = parent;
	if (parent)
		obj->childdir = (unsigned)childdir_index(parent->kind, kind);
	snprintf(obj->name, sizeof(obj->name), "%s", name);
	obj->uid = uid;
	obj->gid = gid;
	obj->ctime = ct;
	obj->mtime = mt;
	for (i = 0; i < VDC_KIND_CHILDDIRS_MAX; i++) {
		obj->childdir_mtime[i] = mt;
		vdc_map_init(&obj->children[i]);
	}
	obj->live_mtime = mt;
	obj->attrs = xcalloc(kind->nattrs, sizeof(*obj->attrs));
	for (i = 0; i < kind->nattrs; i++)
		obj->attrs[i].mtime = mt;
	obj->rel = xcalloc(kind->nreldirs ? kind->nreldirs : 1, sizeof(*obj->rel));
	for (i = 0; i < kind->nreldirs; i++)
		obj->rel[i].mtime = mt;
	obj->state = xstrdup(kind->initial_state ? kind->initial_state : "defined");
	vdc_map_put(siblings(kind, parent), obj->name, obj);
	vdc_imap_put(&objs_by_id, (uint64_t)id, obj);
	return obj;
}

void vdc_obj_data_path(const struct vdc_obj *obj, struct strbuf *out)
{
	strbuf_addf(out, "%s/%" PRId64 ".data", datadir, obj->id);
}

int vdc_obj_create(const struct vdc_kind *kind, struct vdc_obj *parent,
		   const char *name, size_t len, uid_t uid, gid_t gid,
		   struct vdc_obj **out, struct vdc_err *err)
{
	char nm[VDC_NAME_MAX + 1];
	uid_t caller = uid;
	struct timespec t = vdc_now();
	int64_t id;
	int rc;

	rc = name_copy(name, len, nm, err);
	if (rc < 0)
		return rc;
	if (!siblings(kind, parent))
		return parent ? vdc_err_set(err, -EPERM, "%s %s holds no %s", parent->kind->noun, parent->name, kind->name)
			      : vdc_err_set(err, -EPERM, "a %s is made in the folder of the object it belongs to", kind->noun);
	if (vdc_obj_find(kind, parent, nm, len))
		return vdc_err_set(err, -EEXIST, "%s %s exists already", kind->noun, nm);
	if (parent) {
		const struct vdc_childdir_def *cd = &parent->kind->childdirs[childdir_index(parent->kind, kind)];

		if (cd->max && siblings(kind, parent)->count >= cd->max)
			return vdc_err_set(err, -ENOSPC, "%s %s has %u %s already; it takes at most %u",
					   parent->kind->noun, parent->name, cd->max, cd->name, cd->max);
	}
	if (kind->may_own) {
		rc = kind->may_own(kind, parent, NULL, nm, &uid, &gid, err);
		if (rc < 0)
			return rc;
	}
	rc = vdc_store_begin(err);
	if (rc < 0)
		return rc;
	rc = vdc_store_obj_insert(kind->name, parent ? parent->id : 0, nm, uid, gid, &t, &id, err);
	if (rc == 0 && kind->has_data && !kind->block) {
		__do_strbuf struct strbuf p = STRBUF_INIT;
		int fd;

		strbuf_addf(&p, "%s/%" PRId64 ".data", datadir, id);
		fd = open(p.buf, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
		if (fd < 0)
			rc = vdc_err_set(err, -errno, "cannot make the data file of %s %s: %s", kind->noun, nm,
					 strerror(errno));
		else
			close(fd);
	}
	rc = store_finish(rc, err);
	if (rc < 0)
		return rc;
	*out = obj_alloc(kind, parent, id, nm, uid, gid, t, t);
	if (parent)
		parent->childdir_mtime[(*out)->childdir] = t;
	else
		kind_state(kind)->mtime = t;
	vdc_event(*out, "created by uid %u", (unsigned)caller);
	if (kind->created)
		kind->created(*out);
	return 0;
}

static void obj_free(struct vdc_obj *obj)
{
	unsigned i, j;
	size_t b;
	struct vdc_map_entry *e;

	for (i = 0; i < VDC_KIND_CHILDDIRS_MAX; i++) {
		for (e = vdc_map_first(&obj->children[i], &b); e; e = vdc_map_next(&obj->children[i], e, &b))
			obj_free(e->value);
		vdc_map_clear(&obj->children[i]);
	}
	for (i = 0; i < obj->kind->nattrs; i++) {
		free(obj->attrs[i].value);
		if (obj->attrs[i].link)
			link_free(obj->attrs[i].link);
	}
	for (i = 0; i < obj->kind->nreldirs; i++) {
		for (j = 0; j < obj->rel[i].n; j++)
			link_free(obj->rel[i].links[j]);
		free(obj->rel[i].links);
	}
	vdc_imap_del(&objs_by_id, (uint64_t)obj->id);
	while (obj->nscratch)
		vdc_scratch_remove(obj, obj->scratch[0]);
	free(obj->scratch);
	free(obj->attrs);
	free(obj->rel);
	free(obj->state);
	free(obj->err);
	if (obj->kind->release)
		obj->kind->release(obj);
	else
		free(obj->priv);
	ring_free(&obj->events);
	free(obj);
}

static int store_delete_tree(struct vdc_obj *obj, struct vdc_err *err)
{
	struct vdc_map_entry *e;
	unsigned i;
	size_t b;
	int rc;

	for (i = 0; i < obj->kind->nchilddirs; i++) {
		for (e = vdc_map_first(&obj->children[i], &b); e; e = vdc_map_next(&obj->children[i], e, &b)) {
			rc = store_delete_tree(e->value, err);
			if (rc < 0)
				return rc;
		}
	}
	return vdc_store_obj_delete(obj->id, err);
}

int vdc_obj_destroy(struct vdc_obj *obj, struct vdc_err *err)
{
	__do_strbuf struct strbuf path = STRBUF_INIT;
	unsigned n = vdc_obj_refs(obj);
	int rc;

	vdc_obj_path(obj, &path);
	if (n)
		return vdc_err_set(err, -EBUSY, "%s is linked from %u place%s; remove the link%s first",
				   path.buf, n, n == 1 ? "" : "s", n == 1 ? "" : "s");
	if (obj->kind->busy) {
		rc = obj->kind->busy(obj, err);
		if (rc < 0)
			return rc;
	}
	rc = vdc_store_begin(err);
	if (rc < 0)
		return rc;
	rc = store_delete_tree(obj, err);
	rc = store_finish(rc, err);
	if (rc < 0)
		return rc;
	if (obj->kind->has_data) {
		__do_strbuf struct strbuf p = STRBUF_INIT;

		vdc_obj_data_path(obj, &p);
		unlink(p.buf);
	}
	event_gone(obj, "%s removed", path.buf);
	if (obj->kind->destroyed)
		obj->kind->destroyed(obj);
	vdc_map_del(siblings(obj->kind, obj->parent), obj->name);
	if (obj->parent)
		obj->parent->childdir_mtime[obj->childdir] = vdc_now();
	else
		kind_state(obj->kind)->mtime = vdc_now();
	obj_free(obj);
	return 0;
}

int vdc_obj_rename(struct vdc_obj *obj, const char *name, size_t len, struct vdc_err *err)
{
	char nm[VDC_NAME_MAX + 1], old[VDC_NAME_MAX + 1];
	int rc;

	rc = name_copy(name, len, nm, err);
	if (rc < 0)
		return rc;
	if (vdc_obj_find(obj->kind, obj->parent, nm, len))
		return vdc_err_set(err, -EEXIST, "%s %s exists already", obj->kind->noun, nm);
	if (vdc_obj_refs(obj))
		return vdc_err_set(err, -EBUSY, "%s %s is linked from elsewhere; remove the links before renaming it",
				   obj->kind->noun, obj->name);
	if (obj->kind->may_own) {
		uid_t uid = obj->uid;
		gid_t gid = obj->gid;

		rc = obj->kind->may_own(obj->kind, obj->parent, obj, nm, &uid, &gid, err);
		if (rc < 0)
			return rc;
	}
	if (obj->kind->busy) {
		rc = obj->kind->busy(obj, err);
		if (rc < 0)
			return rc;
	}
	rc = vdc_store_begin(err);
	if (rc < 0)
		return rc;
	rc = vdc_store_obj_update(obj->id, nm, obj->uid, obj->gid, &obj->mtime, err);
	rc = store_finish(rc, err);
	if (rc < 0)
		return rc;
	snprintf(old, sizeof(old), "%s", obj->name);
	vdc_map_del(siblings(obj->kind, obj->parent), obj->name);
	snprintf(obj->name, sizeof(obj->name), "%s", nm);
	vdc_map_put(siblings(obj->kind, obj->parent), obj->name, obj);
	if (obj->parent)
		obj->parent->childdir_mtime[obj->childdir] = vdc_now();
	else
		kind_state(obj->kind)->mtime = vdc_now();
	vdc_event(obj, "renamed from %s", old);
	if (obj->kind->renamed)
		obj->kind->renamed(obj, old);
	return 0;
}

int vdc_obj_chown(struct vdc_obj *obj, uid_t uid, gid_t gid, struct vdc_err *err)
{
	int rc;

	if (obj->uid == uid && obj->gid == gid)
		return 0;
	if (obj->kind->may_own) {
		uid_t u = uid;
		gid_t g = gid;

		rc = obj->kind->may_own(obj->kind, obj->parent, obj, obj->name, &u, &g, err);
		if (rc < 0)
			return rc;
	}
	rc = vdc_store_begin(err);
	if (rc < 0)
		return rc;
	rc = vdc_store_obj_update(obj->id, obj->name, uid, gid, &obj->mtime, err);
	rc = store_finish(rc, err);
	if (rc < 0)
		return rc;
	obj->uid = uid;
	obj->gid = gid;
	vdc_event(obj, "owner set to uid %u gid %u", (unsigned)uid, (unsigned)gid);
	return 0;
}

/* ---- attributes ---- */

int vdc_attr_index(const struct vdc_kind *kind, const char *name, size_t len)
{
	unsigned i;

	for (i = 0; i < kind->nattrs; i++)
		if (strlen(kind->attrs[i].name) == len && !memcmp(kind->attrs[i].name, name, len))
			return (int)i;
	return -1;
}

const char *vdc_attr_value(const struct vdc_obj *obj, unsigned attr, size_t *len)
{
	const struct vdc_attr *a = &obj->attrs[attr];

	if (a->value) {
		*len = a->len;
		return a->value;
	}
	*len = strlen(obj->kind->attrs[attr].def);
	return obj->kind->attrs[attr].def;
}

void vdc_attr_show(const struct vdc_obj *obj, unsigned attr, struct strbuf *out)
{
	size_t len;
	const char *v = vdc_attr_value(obj, attr, &len);

	strbuf_add(out, v, len);
	if (len && !(obj->kind->attrs[attr].flags & VDC_ATTR_MULTILINE))
		strbuf_addch(out, '\n');
}

static int attr_store(struct vdc_obj *obj, unsigned attr, const char *v, size_t len, struct vdc_err *err)
{
	const struct vdc_attr_def *def = &obj->kind->attrs[attr];
	struct vdc_attr *a = &obj->attrs[attr];
	bool is_default = len == strlen(def->def) && !memcmp(v, def->def, len);
	struct timespec t = vdc_now();
	int rc;

	rc = vdc_store_begin(err);
	if (rc < 0)
		return rc;
	rc = vdc_store_attr_put(obj->id, def->name, is_default ? NULL : v, len, &t, err);
	rc = store_finish(rc, err);
	if (rc < 0)
		return rc;
	free(a->value);
	a->value = is_default ? NULL : xstrndup(v, len);
	a->len = is_default ? 0 : len;
	a->mtime = t;
	if (def->flags & VDC_ATTR_MULTILINE) {
		vdc_event(obj, "%s set (%zu bytes)", def->name, len);
	} else {
		size_t cut = len > 80 ? 80 : len;

		/* Cut on a character boundary: never inside a UTF-8 sequence. */
		while (cut < len && cut && ((unsigned char)v[cut] & 0xc0) == 0x80)
			cut--;
		vdc_event(obj, "%s = %.*s%s", def->name, (int)cut, v, cut < len ? "..." : "");
	}
	if (obj->kind->changed)
		obj->kind->changed(obj, attr);
	return 0;
}

int vdc_attr_check(const struct vdc_obj *obj, unsigned attr, const char *text, size_t len,
		   struct vdc_err *err)
{
	const struct vdc_attr_def *def = &obj->kind->attrs[attr];
	bool multi = def->flags & VDC_ATTR_MULTILINE;
	int rc;

	if (def->type != VDC_ATTR_VALUE)
		return vdc_err_set(err, -EINVAL, "%s is a link; make it with ln -s", def->name);
	if (!multi && len && text[len - 1] == '\n')
		len--;
	if (len > def->max)
		return vdc_err_set(err, -EFBIG, "%s takes at most %zu bytes; %zu were written", def->name,
				   def->max, len);
	rc = vdc_text_check(text, len, multi, err);
	if (rc < 0) {
		char why[VDC_ERR_MSG_MAX];

		snprintf(why, sizeof(why), "%s", err ? err->msg : "");
		return vdc_err_set(err, rc, "%s: %s", def->name, why);
	}
	if (def->check)
		return def->check(obj, text, len, err);
	return 0;
}

int vdc_attr_set(struct vdc_obj *obj, unsigned attr, const char *text, size_t len,
		 struct vdc_err *err)
{
	const struct vdc_attr_def *def = &obj->kind->attrs[attr];
	const char *cur;
	size_t curlen;
	int rc;

	rc = vdc_attr_check(obj, attr, text, len, err);
	if (rc < 0)
		return rc;
	if (!(def->flags & VDC_ATTR_MULTILINE) && len && text[len - 1] == '\n')
		len--;
	cur = vdc_attr_value(obj, attr, &curlen);
	if (curlen == len && !memcmp(cur, text, len))
		return 0;
	return attr_store(obj, attr, text, len, err);
}

int vdc_attr_reset(struct vdc_obj *obj, unsigned attr, struct vdc_err *err)
{
	const struct vdc_attr_def *def = &obj->kind->attrs[attr];

	if (!obj->attrs[attr].value)
		return 0;
	return attr_store(obj, attr, def->def, strlen(def->def), err);
}

/* ---- links ---- */

static const char *mountpoint;

void vdc_model_set_mountpoint(const char *mnt)
{
	mountpoint = mnt;
}

int vdc_link_parse(const char *from, const char *target, const struct vdc_kind *want,
		   const char *what, char *tname, struct vdc_err *err)
{
	const struct vdc_kind *pk = kind_parent(want);
	char pattern[2 * VDC_NAME_MAX];

	if (!pk)
		return vdc_linkpath_parse(mountpoint, from, target, want->name, what, tname, err);
	snprintf(pattern, sizeof(pattern), "%s/*/%s", pk->name, childdir_name(pk, want));
	return vdc_linkpath_parse(mountpoint, from, target, pattern, what, tname, err);
}

/* " or root's images and networks": what root shares with every user, for a sentence. */
static void kinds_shared_text(char *text, size_t size)
{
	size_t n;
	unsigned i, k = 0, shared = 0;

	for (i = 0; i < nkinds; i++)
		shared += kstate[i].kind->shared_by_root;
	n = (size_t)snprintf(text, size, "%s", shared ? " or root's " : "");
	for (i = 0; i < nkinds && n < size; i++) {
		if (!kstate[i].kind->shared_by_root)
			continue;
		k++;
		n += (size_t)snprintf(text + n, size - n, "%s%s", k == 1 ? "" : k == shared ? " and " : ", ",
				      kstate[i].kind->name);
	}
}

/*
 * May a link in `obj`, made by `caller`, name `tname`? A link binds only
 * to an object that both the one who makes it and the owner of the
 * object holding it may use (vdc_obj_usable_by). A target that does not
 * exist yet is no refusal: the link waits, and binds when the object is
 * made only if the same rule holds then (vdc_link_target).
 */
static int link_owner_check(const struct vdc_obj *obj, const struct vdc_kind *tkind, const char *tname,
			    uid_t caller, struct vdc_err *err)
{
	struct vdc_obj *t = link_resolve(tkind, tname);
	uid_t holder = obj_top(obj)->uid;
	char shared[128];

	if (!t)
		return 0;
	if (!vdc_obj_usable_by(t, caller)) {
		kinds_shared_text(shared, sizeof(shared));
		return vdc_err_set(err, -EACCES, "%s %s belongs to another user; link only to your own objects%s",
				   tkind->noun, tname, shared);
	}
	if (!vdc_obj_usable_by(t, holder))
		return vdc_err_set(err, -EACCES, "%s %s belongs to uid %u, and %s %s to uid %u, who may not use it; "
				   "chown one of them first", tkind->noun, tname, (unsigned)obj_top(t)->uid,
				   obj_top(obj)->kind->noun, obj_top(obj)->name, (unsigned)holder);
	return 0;
}

static struct vdc_link *link_new(int64_t id, struct vdc_obj *owner, int attr, int dir,
				 const char *name, const struct vdc_kind *tkind, const char *tname,
				 struct timespec t)
{
	struct vdc_link *l = xcalloc(1, sizeof(*l));

	l->id = id;
	l->owner = owner;
	l->attr = attr;
	l->dir = dir;
	vdc_imap_put(&links_by_id, (uint64_t)id, l);
	snprintf(l->name, sizeof(l->name), "%s", name);
	l->tkind = tkind;
	snprintf(l->tname, sizeof(l->tname), "%s", tname);
	l->mtime = t;
	ref_adjust(l, 1);
	return l;
}

int vdc_link_set(struct vdc_obj *obj, unsigned attr, const char *tname, uid_t caller,
		 struct vdc_err *err)
{
	const struct vdc_attr_def *def = &obj->kind->attrs[attr];
	const struct vdc_kind *tkind;
	struct timespec t = vdc_now();
	int64_t id;
	int rc;

	if (def->type != VDC_ATTR_LINK)
		return vdc_err_set(err, -EINVAL, "%s holds a value, not a link", def->name);
	if (obj->attrs[attr].link)
		return vdc_err_set(err, -EEXIST, "%s is linked already; remove it first", def->name);
	tkind = vdc_kind_find(def->target, strlen(def->target));
	rc = link_owner_check(obj, tkind, tname, caller, err);
	if (rc == 0 && def->check)
		rc = def->check(obj, tname, strlen(tname), err);
	if (rc < 0)
		return rc;
	rc = vdc_store_begin(err);
	if (rc < 0)
		return rc;
	rc = vdc_store_link_insert(obj->id, "", def->name, tkind->name, tname, &t, &id, err);
	if (rc == 0)
		rc = vdc_store_obj_update(obj->id, obj->name, obj->uid, obj->gid, &t, err);
	rc = store_finish(rc, err);
	if (rc < 0)
		return rc;
	obj->attrs[attr].link = link_new(id, obj, (int)attr, -1, def->name, tkind, tname, t);
	obj->mtime = t;
	vdc_event(obj, "%s -> %s/%s", def->name, tkind->name, tname);
	if (obj->kind->changed)
		obj->kind->changed(obj, attr);
	return 0;
}

int vdc_link_clear(struct vdc_obj *obj, unsigned attr, struct vdc_err *err)
{
	struct vdc_link *l = obj->attrs[attr].link;
	struct timespec t = vdc_now();
	int rc;

	if (!l)
		return vdc_err_set(err, -ENOENT, "%s is not linked", obj->kind->attrs[attr].name);
	rc = vdc_store_begin(err);
	if (rc < 0)
		return rc;
	rc = vdc_store_link_delete(l->id, err);
	if (rc == 0)
		rc = vdc_store_obj_update(obj->id, obj->name, obj->uid, obj->gid, &t, err);
	rc = store_finish(rc, err);
	if (rc < 0)
		return rc;
	link_free(l);
	obj->attrs[attr].link = NULL;
	obj->mtime = t;
	vdc_event(obj, "%s unlinked", obj->kind->attrs[attr].name);
	if (obj->kind->changed)
		obj->kind->changed(obj, attr);
	return 0;
}

struct vdc_link *vdc_rel_find(const struct vdc_obj *obj, unsigned dir, const char *name, size_t len)
{
	unsigned i;

	for (i = 0; i < obj->rel[dir].n; i++) {
		struct vdc_link *l = obj->rel[dir].links[i];

		if (strlen(l->name) == len && !memcmp(l->name, name, len))
			return l;
	}
	return NULL;
}

int vdc_rel_add(struct vdc_obj *obj, unsigned dir, const char *name, size_t len,
		const char *tname, uid_t caller, struct vdc_err *err)
{
	const struct vdc_reldir_def *def = &obj->kind->reldirs[dir];
	const struct vdc_kind *tkind = vdc_kind_find(def->target, strlen(def->target));
	struct vdc_reldir *r = &obj->rel[dir];
	char nm[VDC_NAME_MAX + 1];
	struct timespec t = vdc_now();
	int64_t id;
	unsigned i;
	int rc;

	rc = name_copy(name, len, nm, err);
	if (rc < 0)
		return rc;
	if (vdc_rel_find(obj, dir, name, len))
		return vdc_err_set(err, -EEXIST, "%s/%s exists already", def->name, nm);
	for (i = 0; i < r->n; i++)
		if (!strcmp(r->links[i]->tname, tname))
			return vdc_err_set(err, -EEXIST, "%s %s is linked already as %s/%s", tkind->noun, tname,
					   def->name, r->links[i]->name);
	if (r->n >= (def->max ? def->max : VDC_REL_MAX) && !obj->kind->made_by_system)
		return vdc_err_set(err, -ENOSPC, "%s/ holds at most %u links", def->name,
				   def->max ? def->max : VDC_REL_MAX);
	rc = link_owner_check(obj, tkind, tname, caller, err);
	if (rc == 0 && obj->kind->rel_check)
		rc = obj->kind->rel_check(obj, dir, tname, err);
	if (rc < 0)
		return rc;
	if (obj->kind->made_by_system) {
		/*
		 * The data center's own links (a host's instances) are derived
		 * from what is stored elsewhere and made again at start-up, so
		 * they cost no transaction. Their number comes from the object
		 * they name, which keeps their inode number stable.
		 */
		struct vdc_obj *t_obj = vdc_obj_find(tkind, NULL, tname, strlen(tname));

		if (!t_obj)
			return vdc_err_set(err, -ENOENT, "%s %s does not exist", tkind->noun, tname);
		id = VDC_SYSTEM_LINK_ID(t_obj->id);
	} else {
		rc = vdc_store_begin(err);
		if (rc < 0)
			return rc;
		rc = vdc_store_link_insert(obj->id, def->name, nm, tkind->name, tname, &t, &id, err);
		rc = store_finish(rc, err);
		if (rc < 0)
			return rc;
	}
	if (r->n == r->alloc) {
		r->alloc = r->alloc ? r->alloc * 2 : 4;
		r->links = xrealloc(r->links, r->alloc * sizeof(*r->links));
	}
	r->links[r->n++] = link_new(id, obj, -1, (int)dir, nm, tkind, tname, t);
	r->mtime = t;
	vdc_event(obj, "%s/%s -> %s/%s", def->name, nm, tkind->name, tname);
	if (obj->kind->rel_changed)
		obj->kind->rel_changed(obj, dir);
	return 0;
}

int vdc_rel_remove(struct vdc_obj *obj, unsigned dir, struct vdc_link *link, struct vdc_err *err)
{
	struct vdc_reldir *r = &obj->rel[dir];
	unsigned i;
	int rc;

	if (!obj->kind->made_by_system) {
		rc = vdc_store_begin(err);
		if (rc < 0)
			return rc;
		rc = vdc_store_link_delete(link->id, err);
		rc = store_finish(rc, err);
		if (rc < 0)
			return rc;
	}
	for (i = 0; i < r->n; i++) {
		if (r->links[i] == link) {
			memmove(&r->links[i], &r->links[i + 1], (r->n - i - 1) * sizeof(*r->links));
			r->n--;
			break;
		}
	}
	vdc_event(obj, "%s/%s unlinked", obj->kind->reldirs[dir].name, link->name);
	link_free(link);
	r->mtime = vdc_now();
	if (obj->kind->rel_changed)
		obj->kind->rel_changed(obj, dir);
	return 0;
}

int vdc_rel_rename(struct vdc_obj *obj, unsigned dir, struct vdc_link *link,
		   const char *name, size_t len, struct vdc_err *err)
{
	char nm[VDC_NAME_MAX + 1];
	int rc;

	rc = vdc_name_check(name, len, err);
	if (rc < 0)
		return rc;
	if (vdc_rel_find(obj, dir, name, len))
		return vdc_err_set(err, -EEXIST, "%.*s exists already", (int)len, name);
	memcpy(nm, name, len);
	nm[len] = '\0';
	rc = vdc_store_begin(err);
	if (rc < 0)
		return rc;
	rc = vdc_store_link_rename(link->id, nm, err);
	rc = store_finish(rc, err);
	if (rc < 0)
		return rc;
	snprintf(link->name, sizeof(link->name), "%s", nm);
	obj->rel[dir].mtime = vdc_now();
	return 0;
}

void vdc_link_text(const struct vdc_link *link, unsigned depth, struct strbuf *out)
{
	unsigned i;

	const struct vdc_kind *pk = kind_parent(link->tkind);
	const char *slash = strchr(link->tname, '/');

	for (i = 0; i < depth; i++)
		strbuf_addstr(out, "../");
	if (pk && slash)
		strbuf_addf(out, "%s/%.*s/%s/%s", pk->name, (int)(slash - link->tname), link->tname,
			    childdir_name(pk, link->tkind), slash + 1);
	else
		strbuf_addf(out, "%s/%s", link->tkind->name, link->tname);
}

struct vdc_obj *vdc_link_target(const struct vdc_link *link)
{
	struct vdc_obj *t = link_resolve(link->tkind, link->tname);

	return t && vdc_obj_usable_by(t, vdc_link_holder_uid(link)) ? t : NULL;
}

/* ---- scratch files ---- */

static uint64_t scratch_ino = 1;

struct vdc_scratch *vdc_scratch_find(struct vdc_obj *obj, const char *name)
{
	unsigned i;

	for (i = 0; i < obj->nscratch; i++)
		if (!strcmp(obj->scratch[i]->name, name))
			return obj->scratch[i];
	return NULL;
}

int vdc_scratch_create(struct vdc_obj *obj, const char *name, struct vdc_scratch **out,
		       struct vdc_err *err)
{
	__do_strbuf struct strbuf path = STRBUF_INIT;
	struct vdc_scratch *s;
	uint64_t n;
	int fd;

	if (obj->nscratch >= VDC_SCRATCH_MAX)
		return vdc_err_set(err, -ENOSPC, "too many temporary files in %s; at most %d are kept",
				   obj->name, VDC_SCRATCH_MAX);
	n = __atomic_fetch_add(&scratch_ino, 1, __ATOMIC_RELAXED);
	strbuf_addf(&path, "%s/scratch-%" PRIu64, datadir, n);
	fd = open(path.buf, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0)
		return vdc_err_set(err, -errno, "cannot make a temporary file: %s", strerror(errno));
	close(fd);
	s = xcalloc(1, sizeof(*s));
	s->ino = (1ULL << 62) | n;
	s->owner = obj;
	vdc_imap_put(&scratch_by_ino, s->ino, s);
	s->name = xstrdup(name);
	s->path = strbuf_detach(&path, NULL);
	obj->scratch = xrealloc(obj->scratch, (obj->nscratch + 1) * sizeof(*obj->scratch));
	obj->scratch[obj->nscratch++] = s;
	*out = s;
	return 0;
}

void vdc_scratch_remove(struct vdc_obj *obj, struct vdc_scratch *s)
{
	unsigned i;

	for (i = 0; i < obj->nscratch; i++) {
		if (obj->scratch[i] == s) {
			obj->scratch[i] = obj->scratch[--obj->nscratch];
			break;
		}
	}
	unlink(s->path);
	vdc_imap_del(&scratch_by_ino, s->ino);
	free(s->name);
	free(s->path);
	free(s);
}

/* ---- loading ---- */

struct loader {
	struct vdc_map byid;
	/* Stored event lines about objects, by object id, until the object is loaded. */
	struct vdc_imap pending;
	struct vdc_ring **rings;
	size_t nrings;
};

/* A line of the events log on disk: to run/events, and to its object's log once that is loaded. */
static void load_event(void *ctx, uid_t uid, int64_t id, const char *text)
{
	struct loader *ld = ctx;
	struct vdc_ring *r;

	ring_push(&all_events, VDC_EVENTS_ALL, xstrdup(text), uid);
	if (id <= 0)
		return;
	r = vdc_imap_get(&ld->pending, (uint64_t)id);
	if (!r) {
		r = xcalloc(1, sizeof(*r));
		ld->rings = xrealloc(ld->rings, (ld->nrings + 1) * sizeof(*ld->rings));
		ld->rings[ld->nrings++] = r;
		vdc_imap_put(&ld->pending, (uint64_t)id, r);
	}
	ring_push(r, VDC_EVENTS_OBJ, xstrdup(text), uid);
}

/* Free the stored lines of objects that were not loaded (removed ones). */
static void load_events_done(struct loader *ld)
{
	size_t i;

	for (i = 0; i < ld->nrings; i++) {
		ring_free(ld->rings[i]);
		free(ld->rings[i]);
	}
	free(ld->rings);
	ld->rings = NULL;
	ld->nrings = 0;
	vdc_imap_clear(&ld->pending);
}

static struct vdc_obj *load_find(struct loader *ld, int64_t id)
{
	char key[24];

	snprintf(key, sizeof(key), "%" PRId64, id);
	return vdc_map_get(&ld->byid, key);
}

static const struct vdc_kind *any_kind(const char *name)
{
	const struct vdc_kind *k;
	unsigned i = 0, j = 0;

	while ((k = kind_next(&i, &j)))
		if (!strcmp(k->name, name))
			return k;
	return NULL;
}

static int load_obj(void *ctx, int64_t id, const char *kind, int64_t parent, const char *name,
		    uid_t uid, gid_t gid, const struct timespec *ct, const struct timespec *mt)
{
	struct loader *ld = ctx;
	const struct vdc_kind *k = any_kind(kind);
	struct vdc_obj *p = parent ? load_find(ld, parent) : NULL, *obj;
	char key[24];

	if (!k || (parent && !p) || (p && childdir_index(p->kind, k) < 0) || (!parent && kind_parent(k))) {
		vdc_event(NULL, "warning: skipped stored object %s/%s of unknown kind or parent", kind, name);
		return 0;
	}
	obj = obj_alloc(k, p, id, name, uid, gid, *ct, *mt);
	{
		struct vdc_ring *r = vdc_imap_get(&ld->pending, (uint64_t)id);

		if (r) {
			obj->events = *r;
			memset(r, 0, sizeof(*r));
		}
	}
	snprintf(key, sizeof(key), "%" PRId64, id);
	vdc_map_put(&ld->byid, key, obj);
	return 0;
}

static int load_attr(void *ctx, int64_t id, const char *name, const char *value, size_t len,
		     const struct timespec *mt)
{
	struct vdc_obj *obj = load_find(ctx, id);
	int i = obj ? vdc_attr_index(obj->kind, name, strlen(name)) : -1;

	if (i < 0 || obj->kind->attrs[i].type != VDC_ATTR_VALUE)
		return 0;
	obj->attrs[i].value = xstrndup(value, len);
	obj->attrs[i].len = len;
	obj->attrs[i].mtime = *mt;
	return 0;
}

static int load_link(void *ctx, int64_t id, int64_t oid, const char *dir, const char *name,
		     const char *tkind, const char *tname, const struct timespec *mt)
{
	struct vdc_obj *obj = load_find(ctx, oid);
	const struct vdc_kind *tk = vdc_kind_find(tkind, strlen(tkind));
	unsigned i;
	int a;

	if (!obj || !tk || obj->kind->made_by_system)
		return 0;   /* the data center's own links are made again (see vdc_rel_add) */
	if (!*dir) {
		a = vdc_attr_index(obj->kind, name, strlen(name));
		if (a >= 0 && obj->kind->attrs[a].type == VDC_ATTR_LINK && !obj->attrs[a].link)
			obj->attrs[a].link = link_new(id, obj, a, -1, name, tk, tname, *mt);
		return 0;
	}
	for (i = 0; i < obj->kind->nreldirs; i++) {
		struct vdc_reldir *r = &obj->rel[i];

		if (strcmp(obj->kind->reldirs[i].name, dir))
			continue;
		if (r->n == r->alloc) {
			r->alloc = r->alloc ? r->alloc * 2 : 4;
			r->links = xrealloc(r->links, r->alloc * sizeof(*r->links));
		}
		r->links[r->n++] = link_new(id, obj, -1, (int)i, name, tk, tname, *mt);
	}
	return 0;
}

static int load_live(void *ctx, int64_t id, const char *name, const char *value)
{
	struct vdc_obj *obj;

	if (id == 0) {
		free(vdc_map_del(&meta, name));
		vdc_map_put(&meta, name, xstrdup(value));
		return 0;
	}
	obj = load_find(ctx, id);
	if (!obj)
		return 0;
	if (!strcmp(name, "state")) {
		free(obj->state);
		obj->state = xstrdup(value);
	} else if (!strcmp(name, "err")) {
		free(obj->err);
		obj->err = xstrdup(value);
	} else if (!strcmp(name, "err-by")) {
		obj->err_by_user = !strcmp(value, "user");
	} else if (obj->kind->live_loaded) {
		obj->kind->live_loaded(obj, name, value);
	}
	return 0;
}

/* Scratch files do not outlive the process that made them. */
static void remove_stale_scratch(void)
{
	DIR *d = opendir(datadir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (!strncmp(e->d_name, "scratch-", 8))
			unlinkat(dirfd(d), e->d_name, 0);
	}
	closedir(d);
}

/* One entry of the state folder: no group or other bit on what vdcfs keeps. */
static int private_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)ftw;
	if ((type == FTW_F || type == FTW_D || type == FTW_DP) && (st->st_mode & 077))
		chmod(path, st->st_mode & 0700);
	return 0;
}

/*
 * The state folder holds the join token, the hosts' tokens, the TLS key
 * and the volumes' CHAP secrets (in state.db and its WAL), so nothing in
 * it may be readable by another user, whatever mode the operator made the
 * folder with: the folder becomes 0700, what is in it (from an older
 * version, or put there by hand) loses its group and other bits, and the
 * umask keeps everything made from now on private, sqlite's -wal and -shm
 * too (sqlite gives them the database's mode). A sticky folder is shared,
 * like /tmp, and is refused rather than made private.
 */
static int state_private(const char *dir, struct vdc_err *err)
{
	struct stat st;

	umask(077);
	if (stat(dir, &st) < 0)
		return vdc_err_set(err, -errno, "cannot read the state folder %s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return vdc_err_set(err, -ENOTDIR, "the state folder %s is not a folder", dir);
	if (st.st_mode & S_ISVTX)
		return vdc_err_set(err, -EPERM, "the state folder %s is shared (sticky, like /tmp); give vdcfs a folder of its own",
				   dir);
	if ((st.st_mode & 07777) != 0700 && chmod(dir, 0700) < 0)
		return vdc_err_set(err, -errno, "cannot make the state folder %s private (mode 0700): %s", dir,
				   strerror(errno));
	nftw(dir, private_entry, 16, FTW_PHYS | FTW_MOUNT);
	return 0;
}

int vdc_model_open(const char *dir, const struct vdc_kind *const *kinds, bool sync_full,
		   struct vdc_err *err)
{
	struct loader ld;
	struct vdc_store_loader l = { &ld, load_obj, load_attr, load_link, load_live };
	struct vdc_map_entry *e;
	__do_strbuf struct strbuf p = STRBUF_INIT;
	size_t b;
	unsigned i;
	int rc;

	top_kinds = kinds;
	for (nkinds = 0; kinds[nkinds] && nkinds < KINDS_MAX; nkinds++) {
		kstate[nkinds].kind = kinds[nkinds];
		vdc_map_init(&kstate[nkinds].objects);
		kstate[nkinds].mtime = vdc_now();
	}
	vdc_map_init(&refs);
	vdc_map_init(&meta);
	free(statedir);
	statedir = xstrdup(dir);
	vdc_imap_init(&objs_by_id);
	vdc_imap_init(&links_by_id);
	vdc_imap_init(&scratch_by_ino);
	rc = state_private(dir, err);
	if (rc < 0)
		return rc;
	strbuf_addf(&p, "%s/data", dir);
	if (mkdir(p.buf, 0700) < 0 && errno != EEXIST)
		return vdc_err_set(err, -errno, "cannot make %s: %s", p.buf, strerror(errno));
	datadir = strbuf_detach(&p, NULL);
	remove_stale_scratch();
	rc = vdc_store_open(dir, sync_full, err);
	if (rc < 0)
		return rc;
	memset(&ld, 0, sizeof(ld));
	vdc_map_init(&ld.byid);
	vdc_imap_init(&ld.pending);
	rc = vdc_eventlog_open(dir, VDC_EVENTLOG_MAX, sync_full, load_event, &ld, err);
	if (rc == 0)
		rc = vdc_store_load(&l, err);
	vdc_map_clear(&ld.byid);
	load_events_done(&ld);
	if (rc < 0)
		return rc;
	for (i = 0; i < nkinds; i++) {
		const struct vdc_map *m = &kstate[i].objects;

		if (!kstate[i].kind->loaded)
			continue;
		for (e = vdc_map_first(m, &b); e; e = vdc_map_next(m, e, &b))
			kstate[i].kind->loaded(e->value);
	}
	for (i = 0; i < nkinds; i++)
		if (kstate[i].kind->all_loaded)
			kstate[i].kind->all_loaded(kstate[i].kind);
	return 0;
}

void vdc_model_close(void)
{
	struct vdc_map_entry *e;
	size_t b;
	unsigned i;

	for (i = 0; i < nkinds; i++) {
		for (e = vdc_map_first(&kstate[i].objects, &b); e; e = vdc_map_next(&kstate[i].objects, e, &b))
			obj_free(e->value);
		vdc_map_clear(&kstate[i].objects);
	}
	refs_clear();
	for (e = vdc_map_first(&meta, &b); e; e = vdc_map_next(&meta, e, &b))
		free(e->value);
	vdc_map_clear(&meta);
	free(statedir);
	statedir = NULL;
	vdc_imap_clear(&objs_by_id);
	vdc_imap_clear(&links_by_id);
	vdc_imap_clear(&scratch_by_ino);
	ring_free(&all_events);
	vdc_eventlog_close();
	free(datadir);
	datadir = NULL;
	nkinds = 0;
	vdc_store_close();
}
