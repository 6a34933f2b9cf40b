#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "counters.h"
#include "store.h"
#include "strbuf.h"

static sqlite3 *db;

enum stmt_id {
	S_BEGIN, S_COMMIT, S_ROLLBACK, S_OBJ_INS, S_OBJ_DEL, S_OBJ_DEL_ATTR, S_OBJ_DEL_LINK,
	S_OBJ_DEL_LIVE, S_OBJ_UPD, S_ATTR_PUT, S_ATTR_DEL, S_LINK_INS, S_LINK_DEL,
	S_LINK_REN, S_LIVE_PUT, S_LIVE_DEL, S_MAX
};

static const char *const stmt_sql[S_MAX] = {
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	[S_OBJ_INS] = "INSERT INTO obj(kind, parent, name, uid, gid, ctime, mtime) VALUES (?,?,?,?,?,?,?)",
	[S_OBJ_DEL] = "DELETE FROM obj WHERE id = ?",
	[S_OBJ_DEL_ATTR] = "DELETE FROM attr WHERE obj = ?",
	[S_OBJ_DEL_LINK] = "DELETE FROM link WHERE obj = ?",
	[S_OBJ_DEL_LIVE] = "DELETE FROM live WHERE obj = ?",
	[S_OBJ_UPD] = "UPDATE obj SET name = ?, uid = ?, gid = ?, mtime = ? WHERE id = ?",
	[S_ATTR_PUT] = "INSERT OR REPLACE INTO attr(obj, name, value, mtime) VALUES (?,?,?,?)",
	[S_ATTR_DEL] = "DELETE FROM attr WHERE obj = ? AND name = ?",
	[S_LINK_INS] = "INSERT INTO link(obj, dir, name, tkind, tname, mtime) VALUES (?,?,?,?,?,?)",
	[S_LINK_DEL] = "DELETE FROM link WHERE id = ?",
	[S_LINK_REN] = "UPDATE link SET name = ? WHERE id = ?",
	[S_LIVE_PUT] = "INSERT OR REPLACE INTO live(obj, name, value) VALUES (?,?,?)",
	[S_LIVE_DEL] = "DELETE FROM live WHERE obj = ? AND name = ?",
};

static sqlite3_stmt *stmts[S_MAX];

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS obj(id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL,"
	" parent INTEGER NOT NULL, name TEXT NOT NULL, uid INTEGER NOT NULL, gid INTEGER NOT NULL,"
	" ctime INTEGER NOT NULL, mtime INTEGER NOT NULL, UNIQUE(kind, parent, name));"
	"CREATE TABLE IF NOT EXISTS attr(obj INTEGER NOT NULL, name TEXT NOT NULL, value BLOB NOT NULL,"
	" mtime INTEGER NOT NULL, PRIMARY KEY(obj, name)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS link(id INTEGER PRIMARY KEY AUTOINCREMENT, obj INTEGER NOT NULL, dir TEXT NOT NULL,"
	" name TEXT NOT NULL, tkind TEXT NOT NULL, tname TEXT NOT NULL, mtime INTEGER NOT NULL,"
	" UNIQUE(obj, dir, name));"
	"CREATE TABLE IF NOT EXISTS live(obj INTEGER NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL,"
	" PRIMARY KEY(obj, name)) WITHOUT ROWID;";

static int db_error(struct vdc_err *err, const char *what)
{
	int code = sqlite3_errcode(db) == SQLITE_FULL ? -ENOSPC : -EIO;

	return vdc_err_set(err, code, "the state store failed to %s: %s", what, sqlite3_errmsg(db));
}

static int64_t ns(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000000000LL + t->tv_nsec;
}

static struct timespec from_ns(int64_t v)
{
	struct timespec t = { (time_t)(v / 1000000000LL), (long)(v % 1000000000LL) };

	return t;
}

int vdc_store_open(const char *dir, bool sync_full, struct vdc_err *err)
{
	__do_strbuf struct strbuf path = STRBUF_INIT;
	char *msg = NULL;
	int i;

	strbuf_addf(&path, "%s/state.db", dir);
	if (sqlite3_open_v2(path.buf, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		vdc_err_set(err, -EIO, "cannot open the state store %s: %s", path.buf,
			    db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		db = NULL;
		return err ? err->code : -EIO;
	}
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_exec(db, sync_full ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
				       : "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
			 NULL, NULL, &msg) != SQLITE_OK ||
	    sqlite3_exec(db, schema, NULL, NULL, &msg) != SQLITE_OK) {
		vdc_err_set(err, -EIO, "cannot prepare the state store %s: %s", path.buf, msg ? msg : "?");
		sqlite3_free(msg);
		vdc_store_close();
		return -EIO;
	}
	for (i = 0; i < S_MAX; i++) {
		if (sqlite3_prepare_v3(db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &stmts[i], NULL) != SQLITE_OK) {
			db_error(err, "prepare a statement");
			vdc_store_close();
			return -EIO;
		}
	}
	return 0;
}

void vdc_store_close(void)
{
	int i;

	for (i = 0; i < S_MAX; i++) {
		sqlite3_finalize(stmts[i]);
		stmts[i] = NULL;
	}
	sqlite3_close(db);
	db = NULL;
}

/* Run a prepared statement to completion and reset it, whatever happens. */
static int step(enum stmt_id id, struct vdc_err *err, const char *what)
{
	sqlite3_stmt *s = stmts[id];
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return db_error(err, what);
	return 0;
}

int vdc_store_begin(struct vdc_err *err)
{
	return step(S_BEGIN, err, "begin a transaction");
}

/* A commit is timed (counters.h): it is where sqlite writes and, with sync_full, waits for the disk. */
int vdc_store_commit(struct vdc_err *err)
{
	struct timespec a, b;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &a);
	rc = step(S_COMMIT, err, "commit");
	clock_gettime(CLOCK_MONOTONIC, &b);
	if (rc == 0)
		vdc_count_commit((uint64_t)((b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec)));
	return rc;
}

void vdc_store_rollback(void)
{
	step(S_ROLLBACK, NULL, "roll back");
}

int vdc_store_obj_insert(const char *kind, int64_t parent, const char *name, uid_t uid,
			 gid_t gid, const struct timespec *t, int64_t *id, struct vdc_err *err)
{
	sqlite3_stmt *s = stmts[S_OBJ_INS];
	int rc;

	sqlite3_bind_text(s, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, parent);
	sqlite3_bind_text(s, 3, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, uid);
	sqlite3_bind_int64(s, 5, gid);
	sqlite3_bind_int64(s, 6, ns(t));
	sqlite3_bind_int64(s, 7, ns(t));
	rc = step(S_OBJ_INS, err, "record a new object");
	if (rc == 0)
		*id = sqlite3_last_insert_rowid(db);
	return rc;
}

int vdc_store_obj_delete(int64_t id, struct vdc_err *err)
{
	static const enum stmt_id order[] = { S_OBJ_DEL_ATTR, S_OBJ_DEL_LINK, S_OBJ_DEL_LIVE, S_OBJ_DEL };
	size_t i;
	int rc;

	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		sqlite3_bind_int64(stmts[order[i]], 1, id);
		rc = step(order[i], err, "remove an object");
		if (rc < 0)
			return rc;
	}
	return 0;
}

int vdc_store_obj_update(int64_t id, const char *name, uid_t uid, gid_t gid,
			 const struct timespec *mtime, struct vdc_err *err)
{
	sqlite3_stmt *s = stmts[S_OBJ_UPD];

	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, uid);
	sqlite3_bind_int64(s, 3, gid);
	sqlite3_bind_int64(s, 4, ns(mtime));
	sqlite3_bind_int64(s, 5, id);
	return step(S_OBJ_UPD, err, "update an object");
}

int vdc_store_attr_put(int64_t obj, const char *name, const char *value, size_t len,
		       const struct timespec *t, struct vdc_err *err)
{
	sqlite3_stmt *s;

	if (!value) {
		s = stmts[S_ATTR_DEL];
		sqlite3_bind_int64(s, 1, obj);
		sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
		return step(S_ATTR_DEL, err, "reset an attribute");
	}
	s = stmts[S_ATTR_PUT];
	sqlite3_bind_int64(s, 1, obj);
	sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 3, value, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, ns(t));
	return step(S_ATTR_PUT, err, "record an attribute");
}

int vdc_store_link_insert(int64_t obj, const char *dir, const char *name, const char *tkind,
			  const char *tname, const struct timespec *t, int64_t *id,
			  struct vdc_err *err)
{
	sqlite3_stmt *s = stmts[S_LINK_INS];
	int rc;

	sqlite3_bind_int64(s, 1, obj);
	sqlite3_bind_text(s, 2, dir, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, tkind, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, tname, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, ns(t));
	rc = step(S_LINK_INS, err, "record a link");
	if (rc == 0)
		*id = sqlite3_last_insert_rowid(db);
	return rc;
}

int vdc_store_link_delete(int64_t id, struct vdc_err *err)
{
	sqlite3_bind_int64(stmts[S_LINK_DEL], 1, id);
	return step(S_LINK_DEL, err, "remove a link");
}

int vdc_store_link_rename(int64_t id, const char *name, struct vdc_err *err)
{
	sqlite3_bind_text(stmts[S_LINK_REN], 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmts[S_LINK_REN], 2, id);
	return step(S_LINK_REN, err, "rename a link");
}

int vdc_store_live_put(int64_t obj, const char *name, const char *value, struct vdc_err *err)
{
	sqlite3_stmt *s;

	if (!value) {
		s = stmts[S_LIVE_DEL];
		sqlite3_bind_int64(s, 1, obj);
		sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
		return step(S_LIVE_DEL, err, "clear live state");
	}
	s = stmts[S_LIVE_PUT];
	sqlite3_bind_int64(s, 1, obj);
	sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, value, -1, SQLITE_STATIC);
	return step(S_LIVE_PUT, err, "record live state");
}

static const char *col_text(sqlite3_stmt *s, int i)
{
	const char *t = (const char *)sqlite3_column_text(s, i);

	return t ? t : "";
}

int vdc_store_load(const struct vdc_store_loader *l, struct vdc_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc = 0, step_rc;

	if (sqlite3_prepare_v2(db, "SELECT id, kind, parent, name, uid, gid, ctime, mtime FROM obj ORDER BY id",
			       -1, &s, NULL) != SQLITE_OK)
		return db_error(err, "read objects");
	while (rc == 0 && (step_rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct timespec c = from_ns(sqlite3_column_int64(s, 6)), m = from_ns(sqlite3_column_int64(s, 7));

		rc = l->obj(l->ctx, sqlite3_column_int64(s, 0), col_text(s, 1), sqlite3_column_int64(s, 2),
			    col_text(s, 3), (uid_t)sqlite3_column_int64(s, 4), (gid_t)sqlite3_column_int64(s, 5),
			    &c, &m);
	}
	sqlite3_finalize(s);
	if (rc)
		return rc;

	if (sqlite3_prepare_v2(db, "SELECT obj, name, value, mtime FROM attr", -1, &s, NULL) != SQLITE_OK)
		return db_error(err, "read attributes");
	while (rc == 0 && sqlite3_step(s) == SQLITE_ROW) {
		struct timespec m = from_ns(sqlite3_column_int64(s, 3));
		const void *v = sqlite3_column_blob(s, 2);

		rc = l->attr(l->ctx, sqlite3_column_int64(s, 0), col_text(s, 1), v ? v : "",
			     (size_t)sqlite3_column_bytes(s, 2), &m);
	}
	sqlite3_finalize(s);
	if (rc)
		return rc;

	if (sqlite3_prepare_v2(db, "SELECT id, obj, dir, name, tkind, tname, mtime FROM link ORDER BY id",
			       -1, &s, NULL) != SQLITE_OK)
		return db_error(err, "read links");
	while (rc == 0 && sqlite3_step(s) == SQLITE_ROW) {
		struct timespec m = from_ns(sqlite3_column_int64(s, 6));

		rc = l->link(l->ctx, sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1), col_text(s, 2),
			     col_text(s, 3), col_text(s, 4), col_text(s, 5), &m);
	}
	sqlite3_finalize(s);
	if (rc)
		return rc;

	if (sqlite3_prepare_v2(db, "SELECT obj, name, value FROM live", -1, &s, NULL) != SQLITE_OK)
		return db_error(err, "read live state");
	while (rc == 0 && sqlite3_step(s) == SQLITE_ROW)
		rc = l->live(l->ctx, sqlite3_column_int64(s, 0), col_text(s, 1), col_text(s, 2));
	sqlite3_finalize(s);
	(void)step_rc;
	return rc;
}
