/* SPDX-License-Identifier: ISC */
/*
 * Opening the store, its schema migrations, transactions, the run lock,
 * runs and the audit log. Tables for certificates, actions and the outbox
 * live in certs.c, actions.c and outbox.c.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/fileutil.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "store/store_internal.h"

/*
 * Numbered migrations. Never edit one that has shipped: add the next.
 * PRAGMA user_version records how many have been applied.
 */
static const char *const migrations[] = {
	/* 1: the initial schema */
	"CREATE TABLE users ("
	"  id TEXT PRIMARY KEY,"
	"  source TEXT NOT NULL,"
	"  dn TEXT, mail TEXT, display_name TEXT, group_name TEXT,"
	"  first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL);"
	"CREATE INDEX users_mail ON users(mail);"
	"CREATE TABLE certs ("
	"  id INTEGER PRIMARY KEY,"
	"  user_id TEXT NOT NULL REFERENCES users(id),"
	"  action_id INTEGER,"
	"  group_name TEXT NOT NULL, ca_name TEXT NOT NULL,"
	"  serial TEXT NOT NULL, issuer TEXT NOT NULL,"
	"  fingerprint TEXT NOT NULL UNIQUE,"
	"  mail TEXT NOT NULL, key_type TEXT NOT NULL,"
	"  not_before INTEGER NOT NULL, not_after INTEGER NOT NULL,"
	"  status TEXT NOT NULL CHECK (status IN ('valid','superseded','revoked')),"
	"  published INTEGER NOT NULL DEFAULT 0,"
	"  der BLOB NOT NULL, chain_pem TEXT,"
	"  created INTEGER NOT NULL,"
	"  UNIQUE (issuer, serial));"
	"CREATE INDEX certs_user ON certs(user_id, status);"
	"CREATE TABLE escrow ("
	"  cert_id INTEGER PRIMARY KEY REFERENCES certs(id),"
	"  aad TEXT NOT NULL, sealed BLOB NOT NULL, created INTEGER NOT NULL);"
	"CREATE TABLE actions ("
	"  id INTEGER PRIMARY KEY,"
	"  run_id TEXT NOT NULL, user_id TEXT NOT NULL, kind TEXT NOT NULL,"
	"  state TEXT NOT NULL, group_name TEXT NOT NULL, mail TEXT NOT NULL,"
	"  sealed_key BLOB, cert_id INTEGER, old_cert_id INTEGER,"
	"  attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT,"
	"  created INTEGER NOT NULL, updated INTEGER NOT NULL);"
	"CREATE INDEX actions_open ON actions(user_id) WHERE state NOT IN ('done','failed');"
	"CREATE TABLE outbox ("
	"  id INTEGER PRIMARY KEY,"
	"  action_id INTEGER, user_id TEXT, kind TEXT NOT NULL, recipient TEXT NOT NULL,"
	"  aad TEXT NOT NULL, sealed BLOB NOT NULL,"
	"  state TEXT NOT NULL CHECK (state IN ('queued','sent','failed')),"
	"  attempts INTEGER NOT NULL DEFAULT 0, next_attempt INTEGER NOT NULL,"
	"  last_error TEXT, created INTEGER NOT NULL, updated INTEGER);"
	"CREATE INDEX outbox_due ON outbox(next_attempt) WHERE state = 'queued';"
	"CREATE TABLE runs ("
	"  id TEXT PRIMARY KEY, started INTEGER NOT NULL, finished INTEGER,"
	"  status TEXT, report TEXT);"
	"CREATE TABLE audit ("
	"  id INTEGER PRIMARY KEY, time INTEGER NOT NULL,"
	"  run_id TEXT, user_id TEXT, event TEXT NOT NULL, detail TEXT);"
	"CREATE TRIGGER audit_append_only_u BEFORE UPDATE ON audit"
	"  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
	"CREATE TRIGGER audit_append_only_d BEFORE DELETE ON audit"
	"  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;",
	/* lifecycle: leavers, per-user switches, reminders sent */
	"ALTER TABLE users ADD COLUMN left_at INTEGER;"
	"ALTER TABLE users ADD COLUMN left_reason TEXT;"
	"ALTER TABLE users ADD COLUMN ignored INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE users ADD COLUMN notifications_suspended INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE users ADD COLUMN force_issue INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE certs ADD COLUMN revoked_at INTEGER;"
	"ALTER TABLE certs ADD COLUMN revocation_reason INTEGER;"
	"CREATE TABLE reminders ("
	"  cert_id INTEGER NOT NULL REFERENCES certs(id),"
	"  threshold INTEGER NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  sent_at INTEGER NOT NULL,"
	"  PRIMARY KEY (cert_id, threshold));",
	/* CRLs: the last CRL number signed per CA (it only ever grows) */
	"CREATE TABLE crl_state ("
	"  ca_name TEXT PRIMARY KEY,"
	"  number INTEGER NOT NULL,"
	"  issued INTEGER NOT NULL);",
	/* 4: each user's last action by index: status and report look it up
	 * per user, and without (user_id, id) that is a scan of every action
	 * for every user */
	"CREATE INDEX actions_user_last ON actions(user_id, id);",
	/* 5: every column the per-run state and holders queries read from
	 * certs, so that they never touch the rows themselves (each carries
	 * its DER and chain, kilobytes): at 100,000 holders 0.84 s -> 0.48 s
	 * and 0.31 s -> 0.08 s */
	"CREATE INDEX certs_state ON certs(user_id, status, not_after, id, mail, published,"
	"  serial, group_name, not_before);",
	/*
	 * 6: external CAs: a pending request's cookie (and which [ca] gave it)
	 * and when to ask next, how
	 * often in a row the CA was unreachable (back-off), and a person held
	 * back after the CA rejected them, until an admin runs smimesync issue.
	 */
	"ALTER TABLE actions ADD COLUMN ca_cookie TEXT;"
	"ALTER TABLE actions ADD COLUMN ca_cookie_ca TEXT;"
	"ALTER TABLE actions ADD COLUMN ca_next_try INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE actions ADD COLUMN ca_failures INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE users ADD COLUMN ca_hold TEXT;",
	/*
	 * 7: the durable queue of directory removals (store/removals.h,
	 * invariant I2): a revoked, superseded or expired value of ours stays
	 * queued until it is out of the directory.
	 */
	"CREATE TABLE removals ("
	"  id INTEGER PRIMARY KEY,"
	"  cert_id INTEGER NOT NULL REFERENCES certs(id),"
	"  user_id TEXT, why TEXT NOT NULL,"
	"  created INTEGER NOT NULL, updated INTEGER, done_at INTEGER,"
	"  attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT);"
	"CREATE UNIQUE INDEX removals_pending ON removals(cert_id) WHERE done_at IS NULL;",
	/*
	 * 8: every alternative address a certificate carries (I5: losing one
	 * is a reissue), in the per-run state index so that reading it costs
	 * no row reads.
	 */
	"ALTER TABLE certs ADD COLUMN alt_mails TEXT;"
	"DROP INDEX certs_state;"
	"CREATE INDEX certs_state ON certs(user_id, status, not_after, id, mail, published,"
	"  serial, group_name, not_before, alt_mails);",
	/*
	 * 9: what external CAs were asked, recorded before each request
	 * leaves, and the certificates they made that we do not keep
	 * (store/ca_requests.h, invariant I3).
	 */
	"CREATE TABLE ca_requests ("
	"  id INTEGER PRIMARY KEY,"
	"  action_id INTEGER NOT NULL, ca_name TEXT NOT NULL,"
	"  request_id TEXT NOT NULL, key_id TEXT NOT NULL, csr TEXT NOT NULL,"
	"  state TEXT NOT NULL CHECK (state IN ('sent','answered','lost')),"
	"  outcome TEXT, serial TEXT, created INTEGER NOT NULL, answered INTEGER);"
	"CREATE INDEX ca_requests_action ON ca_requests(action_id, id);"
	"CREATE TABLE unwanted_certs ("
	"  id INTEGER PRIMARY KEY,"
	"  user_id TEXT, ca_name TEXT NOT NULL, serial TEXT, issuer TEXT, key_id TEXT,"
	"  der BLOB, why TEXT NOT NULL, reason INTEGER NOT NULL DEFAULT 5,"
	"  state TEXT NOT NULL CHECK (state IN ('pending','revoked','admin')),"
	"  reported INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0,"
	"  last_error TEXT, created INTEGER NOT NULL, updated INTEGER,"
	"  UNIQUE (issuer, serial));",
	/*
	 * 10: what a helpdesk and an auditor ask: the mail server's reply when
	 * it accepted a mail ("250 2.0.0 Ok: queued as 4F1A2B"), the person's
	 * preferred language from the directory (reminders are written in
	 * it), and who ran the command behind each audit entry.
	 */
	"ALTER TABLE outbox ADD COLUMN reply TEXT;"
	"ALTER TABLE users ADD COLUMN language TEXT;"
	"ALTER TABLE audit ADD COLUMN actor TEXT;"
	"ALTER TABLE audit ADD COLUMN sudo_user TEXT;"
	"CREATE INDEX outbox_user ON outbox(user_id, id);",
	/*
	 * 11: where each [directory]'s change stream stands (store/stream.c):
	 * the opaque state dir_watch hands out with every batch of changes,
	 * stored in the transaction that records what those changes did; the
	 * server it belongs to, for people (AD: the DC's DNS name and
	 * invocationId, else the URI or Graph host); its position (AD:
	 * highestCommittedUSN; OpenLDAP: contextCSN); when it was issued (a
	 * Graph delta link dies after seven days); and when the last full read
	 * of the directory's groups completed (state NULL: no stream, only that).
	 */
	"CREATE TABLE stream_state ("
	"  directory TEXT PRIMARY KEY,"
	"  kind TEXT, state TEXT,"
	"  server TEXT, server_id TEXT, position TEXT,"
	"  issued INTEGER NOT NULL DEFAULT 0,"
	"  last_full_read INTEGER NOT NULL DEFAULT 0,"
	"  updated INTEGER NOT NULL);",
};

/*
 * What an operator should do about the last error, when we know: a full
 * disk is the one they can fix and then simply run again, since every
 * step of a run is its own transaction and a later run resumes.
 */
static const char *
store_hint(struct store *st)
{
	if ((sqlite3_extended_errcode(st->db) & 0xff) == SQLITE_FULL)
		return "; the file system of the state directory is full: free space there and "
		    "run again, the next run resumes where this one stopped";
	return "";
}

void
store_sql_error(struct store *st, const char *what, struct errbuf *e)
{
	err_set(e, "store %s: %s: %s%s", st->path, what, sqlite3_errmsg(st->db), store_hint(st));
}

sqlite3_stmt *
store_prepare(struct store *st, const char *sql, struct errbuf *e)
{
	sqlite3_stmt *s = NULL;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
		store_sql_error(st, "cannot prepare a statement", e);
		return NULL;
	}
	return s;
}

int
store_exec_stmt(struct store *st, sqlite3_stmt *stmt, const char *what, struct errbuf *e)
{
	int rc = sqlite3_step(stmt);

	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		store_sql_error(st, what, e);
		sqlite3_finalize(stmt);
		return -1;
	}
	sqlite3_finalize(stmt);
	return 0;
}

int
store_exec(struct store *st, const char *sql, struct errbuf *e)
{
	char *msg = NULL;

	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		err_set(e, "store %s: %s%s", st->path, msg ? msg : sqlite3_errmsg(st->db),
		    store_hint(st));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

void
bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v == NULL)
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
}

void
bind_blob(sqlite3_stmt *s, int i, const void *v, size_t len)
{
	if (v == NULL)
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_blob64(s, i, v, len, SQLITE_TRANSIENT);
}

char *
col_text(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return t == NULL ? NULL : xstrdup((const char *)t);
}

unsigned char *
col_blob(sqlite3_stmt *s, int i, size_t *len)
{
	const void *b = sqlite3_column_blob(s, i);
	int n = sqlite3_column_bytes(s, i);

	*len = 0;
	if (b == NULL)
		return NULL;
	*len = (size_t)n;
	return xmemdup(b, (size_t)n);
}

static int
store_migrate(struct store *st, struct errbuf *e)
{
	sqlite3_stmt *s = NULL;
	int version;
	char pragma[64];

	s = store_prepare(st, "PRAGMA user_version", e);
	if (s == NULL)
		return -1;
	if (sqlite3_step(s) != SQLITE_ROW) {
		store_sql_error(st, "cannot read the schema version", e);
		sqlite3_finalize(s);
		return -1;
	}
	version = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	if (version > (int)ARRAY_LEN(migrations)) {
		err_set(e, "store %s has schema version %d but this smimesync knows only %zu; "
		    "it was written by a newer smimesync: upgrade, do not downgrade",
		    st->path, version, ARRAY_LEN(migrations));
		return -1;
	}
	for (; version < (int)ARRAY_LEN(migrations); version++) {
		if (store_begin(st, e) != 0)
			return -1;
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", version + 1);
		if (store_exec(st, migrations[version], e) != 0 || store_exec(st, pragma, e) != 0) {
			err_prefix(e, "applying schema migration %d", version + 1);
			store_rollback(st);
			return -1;
		}
		if (store_commit(st, e) != 0)
			return -1;
	}
	return 0;
}

static int
store_open_mode(const char *state_dir, bool readonly, struct store **out, struct errbuf *e)
{
	struct store *st = xcalloc(1, sizeof(*st));
	int flags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	int rc = -1;

	st->lock_fd = -1;
	/* Every audit entry this handle writes names who ran the process. */
	actor_of_process(&st->actor);
	st->dir = xstrdup(state_dir);
	st->path = xasprintf("%s/smimesync.db", state_dir);
	if (!readonly) {
		if (mkdir_p(state_dir, 0700, e) != 0 || file_check_private_dir(state_dir, e) != 0)
			goto out;
	} else if (!file_exists(st->path)) {
		err_set(e, "no store at %s yet: no run has happened with this state_dir", st->path);
		goto out;
	}
	/* The database holds sealed keys: never let it be created readable. */
	mode_t old = umask(077);
	int orc = sqlite3_open_v2(st->path, &st->db, flags | SQLITE_OPEN_FULLMUTEX, NULL);
	umask(old);
	if (orc != SQLITE_OK) {
		err_set(e, "cannot open store %s: %s", st->path,
		    st->db ? sqlite3_errmsg(st->db) : "out of memory");
		goto out;
	}
	sqlite3_busy_timeout(st->db, 10000);
	if (!readonly) {
		/* One writer: lock before anything, migrations included. */
		if (store_lock(st, e) != 0)
			goto out;
		if (store_exec(st, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
		    "PRAGMA foreign_keys = ON;", e) != 0)
			goto out;
		if (store_migrate(st, e) != 0)
			goto out;
	}
	*out = st;
	st = NULL;
	rc = 0;
out:
	store_close(st);
	return rc;
}

int
store_open(const char *state_dir, struct store **out, struct errbuf *e)
{
	return store_open_mode(state_dir, false, out, e);
}

int
store_open_readonly(const char *state_dir, struct store **out, struct errbuf *e)
{
	return store_open_mode(state_dir, true, out, e);
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	sqlite3_finalize(st->upsert);
	if (st->db != NULL)
		sqlite3_close(st->db);
	if (st->lock_fd >= 0)
		close(st->lock_fd);
	free(st->dir);
	free(st->path);
	free(st);
}

/*
 * How long a writer waits for another to let go of state_dir/lock. With
 * the daemon following a change stream, it runs whenever the directory
 * changes, for a second or two; an admin command (revoke, issue, crl) that
 * arrives then should wait its turn, not fail. A long run (a first
 * roll-out) outlasts the wait, and the command then says so.
 */
static unsigned lock_wait_ms = 60000;

void
store_set_lock_wait(unsigned ms)
{
	lock_wait_ms = ms;
}

/* The wait as an operator reads it: "60 s", or "300 ms" below a second. */
static void
wait_text(char *buf, size_t size)
{
	if (lock_wait_ms >= 1000)
		snprintf(buf, size, "%u s", lock_wait_ms / 1000);
	else
		snprintf(buf, size, "%u ms", lock_wait_ms);
}

int
store_lock(struct store *st, struct errbuf *e)
{
	char *path;
	int rc = -1;
	unsigned waited = 0;
	bool said = false;
	char wait[32];

	if (st->lock_fd >= 0)
		return 0; /* already ours */
	path = xasprintf("%s/lock", st->dir);

	st->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (st->lock_fd < 0) {
		err_set(e, "%s: cannot open lock file: %s", path, strerror(errno));
		goto out;
	}
	wait_text(wait, sizeof(wait));
	while (flock(st->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		const struct timespec step = { 0, 100 * 1000000L };

		if ((errno != EWOULDBLOCK && errno != EINTR) || waited >= lock_wait_ms) {
			if (errno != EWOULDBLOCK && errno != EINTR)
				err_set(e, "%s: cannot lock: %s", path, strerror(errno));
			else
				err_set(e, "%s: another smimesync process (a run, the daemon or an "
				    "admin command) is using this state directory and did not finish "
				    "within %s; try again when it has (fuser -v %s names it)",
				    path, wait, path);
			close(st->lock_fd);
			st->lock_fd = -1;
			goto out;
		}
		if (!said && lock_wait_ms > 0) {
			log_info("%s: another smimesync process is using this state directory; "
			    "waiting up to %s for it to finish", path, wait);
			said = true;
		}
		(void)nanosleep(&step, NULL);
		waited += 100;
	}
	rc = 0;
out:
	free(path);
	return rc;
}

int
store_begin(struct store *st, struct errbuf *e)
{
	return store_exec(st, "BEGIN IMMEDIATE", e);
}

int
store_commit(struct store *st, struct errbuf *e)
{
	return store_exec(st, "COMMIT", e);
}

void
store_rollback(struct store *st)
{
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

int
store_integrity_check(struct store *st, struct errbuf *e)
{
	sqlite3_stmt *s = store_prepare(st, "PRAGMA integrity_check", e);
	int rc = -1;

	if (s == NULL)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW &&
	    strcmp((const char *)sqlite3_column_text(s, 0), "ok") == 0)
		rc = 0;
	else
		err_set(e, "store %s fails its integrity check", st->path);
	sqlite3_finalize(s);
	return rc;
}

int
store_run_start(struct store *st, const char *run_id, time_t started, struct errbuf *e)
{
	sqlite3_stmt *s = store_prepare(st, "INSERT INTO runs (id, started) VALUES (?, ?)", e);

	if (s == NULL)
		return -1;
	bind_text(s, 1, run_id);
	sqlite3_bind_int64(s, 2, started);
	return store_exec_stmt(st, s, "cannot record the start of the run", e);
}

int
store_run_finish(struct store *st, const char *run_id, time_t finished, const char *status,
    const char *report_json, struct errbuf *e)
{
	sqlite3_stmt *s = store_prepare(st,
	    "UPDATE runs SET finished = ?, status = ?, report = ? WHERE id = ?", e);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, finished);
	bind_text(s, 2, status);
	bind_text(s, 3, report_json);
	bind_text(s, 4, run_id);
	return store_exec_stmt(st, s, "cannot record the run report", e);
}

int
store_run_report(struct store *st, const char *run_id, char **json_out, struct errbuf *e)
{
	sqlite3_stmt *s;
	int rc;

	if (run_id == NULL)
		s = store_prepare(st, "SELECT report FROM runs WHERE report IS NOT NULL "
		    "ORDER BY started DESC, rowid DESC LIMIT 1", e);
	else
		s = store_prepare(st, "SELECT report FROM runs WHERE id = ?", e);
	if (s == NULL)
		return -1;
	if (run_id != NULL)
		bind_text(s, 1, run_id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
		*json_out = col_text(s, 0);
		rc = 1;
	} else if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
		rc = 0;
	} else {
		store_sql_error(st, "cannot read run reports", e);
		rc = -1;
	}
	sqlite3_finalize(s);
	return rc;
}

int
store_audit(struct store *st, const char *run_id, const char *user_id, const char *event,
    const char *detail, struct errbuf *e)
{
	sqlite3_stmt *s = store_prepare(st,
	    "INSERT INTO audit (time, run_id, user_id, event, detail, actor, sudo_user)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?)", e);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, time(NULL));
	bind_text(s, 2, run_id);
	bind_text(s, 3, user_id);
	bind_text(s, 4, event);
	bind_text(s, 5, detail);
	bind_text(s, 6, st->actor.name);
	bind_text(s, 7, st->actor.sudo_user[0] != '\0' ? st->actor.sudo_user : NULL);
	return store_exec_stmt(st, s, "cannot append to the audit log", e);
}
