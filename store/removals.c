/* SPDX-License-Identifier: ISC */
/*
 * The queue of directory removals (store/removals.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "store/removals.h"
#include "store/store_internal.h"

int
store_removal_add(struct store *st, int64_t cert_id, const char *user_id, const char *why,
    time_t now, struct errbuf *e)
{
	sqlite3_stmt *s = store_prepare(st,
	    "INSERT INTO removals (cert_id, user_id, why, created)"
	    " SELECT ?1, ?2, ?3, ?4 WHERE NOT EXISTS"
	    "  (SELECT 1 FROM removals WHERE cert_id = ?1 AND done_at IS NULL)", e);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, cert_id);
	bind_text(s, 2, user_id);
	bind_text(s, 3, why);
	sqlite3_bind_int64(s, 4, now);
	if (store_exec_stmt(st, s, "cannot queue a directory removal", e) != 0)
		return -1;
	s = store_prepare(st, "UPDATE certs SET published = 0 WHERE id = ?", e);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, cert_id);
	return store_exec_stmt(st, s, "cannot queue a directory removal", e);
}

int
store_removals_enqueue_stale(struct store *st, time_t now, size_t *n, struct errbuf *e)
{
	/*
	 * A value is stale once it is not current: revoked, superseded, or
	 * past its notAfter (a leaver's or a disabled person's certificate
	 * under on_leave = keep or stop-renewing ends here, and so does one
	 * whose renewal failed). The certs_state index covers the scan.
	 */
	sqlite3_stmt *s = NULL;
	int rc = -1;

	if (store_begin(st, e) != 0)
		return -1;
	s = store_prepare(st,
	    "INSERT INTO removals (cert_id, user_id, why, created)"
	    " SELECT c.id, c.user_id,"
	    "  CASE WHEN c.status <> 'valid' THEN c.status ELSE 'expired' END, ?1"
	    " FROM certs c WHERE c.published = 1"
	    "  AND (c.status <> 'valid' OR c.not_after <= ?1)"
	    "  AND NOT EXISTS (SELECT 1 FROM removals r WHERE r.cert_id = c.id"
	    "   AND r.done_at IS NULL)", e);
	if (s == NULL)
		goto fail;
	sqlite3_bind_int64(s, 1, now);
	if (store_exec_stmt(st, s, "cannot queue directory removals", e) != 0)
		goto fail;
	*n = (size_t)sqlite3_changes(st->db);
	s = store_prepare(st, "UPDATE certs SET published = 0 WHERE published = 1"
	    " AND (status <> 'valid' OR not_after <= ?)", e);
	if (s == NULL)
		goto fail;
	sqlite3_bind_int64(s, 1, now);
	if (store_exec_stmt(st, s, "cannot queue directory removals", e) != 0)
		goto fail;
	rc = store_commit(st, e);
	if (rc == 0)
		return 0;
fail:
	store_rollback(st);
	return -1;
}

void
store_removals_free(struct store_removal *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].user_id);
		free(v[i].why);
		free(v[i].last_error);
	}
	free(v);
}

int
store_removals_pending(struct store *st, struct store_removal **out, size_t *n,
    struct errbuf *e)
{
	sqlite3_stmt *s = store_prepare(st,
	    "SELECT id, cert_id, user_id, why, attempts, last_error FROM removals"
	    " WHERE done_at IS NULL ORDER BY id", e);
	struct store_removal *v = NULL;
	size_t count = 0;
	int rc;

	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_removal *r;

		v = xreallocarray(v, count + 1, sizeof(*v));
		r = &v[count++];
		memset(r, 0, sizeof(*r));
		r->id = sqlite3_column_int64(s, 0);
		r->cert_id = sqlite3_column_int64(s, 1);
		r->user_id = col_text(s, 2);
		r->why = col_text(s, 3);
		r->attempts = sqlite3_column_int(s, 4);
		r->last_error = col_text(s, 5);
	}
	if (rc != SQLITE_DONE) {
		store_sql_error(st, "cannot read the queue of directory removals", e);
		sqlite3_finalize(s);
		store_removals_free(v, count);
		return -1;
	}
	sqlite3_finalize(s);
	*out = v;
	*n = count;
	return 0;
}

int64_t
store_removal_pending_for(struct store *st, int64_t cert_id, struct errbuf *e)
{
	sqlite3_stmt *s = store_prepare(st,
	    "SELECT id FROM removals WHERE cert_id = ? AND done_at IS NULL", e);
	int64_t id = 0;
	int rc;

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, cert_id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		id = sqlite3_column_int64(s, 0);
	else if (rc != SQLITE_DONE) {
		store_sql_error(st, "cannot read the queue of directory removals", e);
		id = -1;
	}
	sqlite3_finalize(s);
	return id;
}

int
store_removal_done(struct store *st, int64_t id, time_t now, struct errbuf *e)
{
	sqlite3_stmt *s = store_prepare(st,
	    "UPDATE removals SET done_at = ?, attempts = attempts + 1, last_error = NULL"
	    " WHERE id = ?", e);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_int64(s, 2, id);
	return store_exec_stmt(st, s, "cannot record a directory removal", e);
}

int
store_removal_failed(struct store *st, int64_t id, const char *error, time_t now,
    struct errbuf *e)
{
	sqlite3_stmt *s = store_prepare(st,
	    "UPDATE removals SET attempts = attempts + 1, last_error = ?, updated = ?"
	    " WHERE id = ?", e);

	if (s == NULL)
		return -1;
	bind_text(s, 1, error);
	sqlite3_bind_int64(s, 2, now);
	sqlite3_bind_int64(s, 3, id);
	return store_exec_stmt(st, s, "cannot record a failed directory removal", e);
}
