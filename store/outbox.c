/* SPDX-License-Identifier: ISC */
/*
 * The outbox in the store: queued mails, their attempts and their end.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/fileutil.h"
#include "common/xalloc.h"
#include "store/store_internal.h"

void
store_mail_clear(struct store_mail *m)
{
	free(m->user_id);
	free(m->kind);
	free(m->recipient);
	free(m->aad);
	free(m->sealed);
	free(m->state);
	free(m->last_error);
	free(m->reply);
	free(m->cert_status);
	memset(m, 0, sizeof(*m));
}

void
store_mails_free(struct store_mail *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_mail_clear(&v[i]);
	free(v);
}

int
store_outbox_add(struct store *st, const struct store_mail *m, int64_t *id_out, struct errbuf *e)
{
	sqlite3_stmt *s = store_prepare(st,
	    "INSERT INTO outbox (action_id, user_id, kind, recipient, aad, sealed, state,"
	    " attempts, next_attempt, created) VALUES (?, ?, ?, ?, ?, ?, 'queued', 0, ?, ?)", e);

	if (s == NULL)
		return -1;
	if (m->action_id != 0)
		sqlite3_bind_int64(s, 1, m->action_id);
	bind_text(s, 2, m->user_id);
	bind_text(s, 3, m->kind);
	bind_text(s, 4, m->recipient);
	bind_text(s, 5, m->aad);
	bind_blob(s, 6, m->sealed, m->sealed_len);
	sqlite3_bind_int64(s, 7, m->next_attempt);
	sqlite3_bind_int64(s, 8, time(NULL));
	if (store_exec_stmt(st, s, "cannot queue a mail", e) != 0)
		return -1;
	*id_out = sqlite3_last_insert_rowid(st->db);
	return 0;
}

/* The columns read_mails() reads, in its order. */
#define MAIL_COLUMNS "id, action_id, user_id, kind, recipient, state, attempts, next_attempt," \
	" last_error, reply, created, updated"

/*
 * Step s (MAIL_COLUMNS, then optionally aad, sealed and the status of the
 * certificate the mail carries) into new rows.
 */
static int
read_mails(struct store *st, sqlite3_stmt *s, bool sealed, struct store_mail **out, size_t *n,
    struct errbuf *e)
{
	struct store_mail *v = NULL;
	size_t count = 0;
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_mail *m;

		v = xreallocarray(v, count + 1, sizeof(*v));
		m = &v[count++];
		memset(m, 0, sizeof(*m));
		m->id = sqlite3_column_int64(s, 0);
		m->action_id = sqlite3_column_int64(s, 1);
		m->user_id = col_text(s, 2);
		m->kind = col_text(s, 3);
		m->recipient = col_text(s, 4);
		m->state = col_text(s, 5);
		m->attempts = sqlite3_column_int(s, 6);
		m->next_attempt = sqlite3_column_int64(s, 7);
		m->last_error = col_text(s, 8);
		m->reply = col_text(s, 9);
		m->created = sqlite3_column_int64(s, 10);
		m->updated = sqlite3_column_int64(s, 11);
		if (sealed) {
			m->aad = col_text(s, 12);
			m->sealed = col_blob(s, 13, &m->sealed_len);
			m->cert_status = col_text(s, 14);
		}
	}
	if (rc != SQLITE_DONE) {
		store_sql_error(st, "cannot read the outbox", e);
		sqlite3_finalize(s);
		store_mails_free(v, count);
		return -1;
	}
	sqlite3_finalize(s);
	*out = v;
	*n = count;
	return 0;
}

int
store_outbox_due(struct store *st, time_t now, size_t limit, struct store_mail **out, size_t *n,
    struct errbuf *e)
{
	sqlite3_stmt *s = store_prepare(st,
	    "SELECT " MAIL_COLUMNS ", aad, sealed,"
	    " (SELECT c.status FROM actions a JOIN certs c ON c.id = a.cert_id"
	    "   WHERE a.id = outbox.action_id)"
	    " FROM outbox"
	    " WHERE state = 'queued' AND next_attempt <= ?"
	    /* A password mail waits until its certificate mail has gone out. */
	    " AND NOT (kind = 'password' AND EXISTS (SELECT 1 FROM outbox c"
	    "   WHERE c.action_id = outbox.action_id AND c.kind = 'collection'"
	    "   AND c.state <> 'sent'))"
	    " ORDER BY id LIMIT ?", e);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)limit);
	return read_mails(st, s, true, out, n, e);
}

int
store_outbox_update(struct store *st, int64_t id, const char *state, int attempts,
    time_t next_attempt, const char *reply, time_t now, struct errbuf *e)
{
	bool sent = strcmp(state, "sent") == 0;
	sqlite3_stmt *s = store_prepare(st,
	    "UPDATE outbox SET state = ?1, attempts = ?2, next_attempt = ?3, last_error = ?4,"
	    " reply = ?5, updated = ?6,"
	    " sealed = CASE WHEN ?1 = 'queued' THEN sealed ELSE X'' END"
	    " WHERE id = ?7", e);

	if (s == NULL)
		return -1;
	bind_text(s, 1, state);
	sqlite3_bind_int(s, 2, attempts);
	sqlite3_bind_int64(s, 3, next_attempt);
	bind_text(s, 4, sent ? NULL : reply);
	bind_text(s, 5, sent ? reply : NULL);
	sqlite3_bind_int64(s, 6, now);
	sqlite3_bind_int64(s, 7, id);
	return store_exec_stmt(st, s, "cannot update the outbox", e);
}

int
store_outbox_for_user(struct store *st, const char *user_id, size_t limit,
    struct store_mail **out, size_t *n, struct errbuf *e)
{
	sqlite3_stmt *s = store_prepare(st,
	    "SELECT " MAIL_COLUMNS " FROM outbox WHERE user_id = ? ORDER BY id DESC LIMIT ?", e);

	if (s == NULL)
		return -1;
	bind_text(s, 1, user_id);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)limit);
	return read_mails(st, s, false, out, n, e);
}

int
store_outbox_fail_siblings(struct store *st, int64_t action_id, const char *reason, time_t now,
    struct errbuf *e)
{
	sqlite3_stmt *s = store_prepare(st,
	    "UPDATE outbox SET state = 'failed', last_error = ?, updated = ?, sealed = X''"
	    " WHERE action_id = ? AND kind = 'password' AND state = 'queued'", e);

	if (s == NULL)
		return -1;
	bind_text(s, 1, reason);
	sqlite3_bind_int64(s, 2, now);
	sqlite3_bind_int64(s, 3, action_id);
	if (store_exec_stmt(st, s, "cannot update the outbox", e) != 0)
		return -1;
	return sqlite3_changes(st->db);
}

/* Steps s (stolen: finalized here), a SELECT COUNT(*), into *count. */
static int
outbox_count_rows(struct store *st, sqlite3_stmt *s, int64_t *count, struct errbuf *e)
{
	int rc = -1;

	if (sqlite3_step(s) == SQLITE_ROW) {
		*count = sqlite3_column_int64(s, 0);
		rc = 0;
	} else {
		store_sql_error(st, "cannot count the outbox", e);
	}
	sqlite3_finalize(s);
	return rc;
}

int
store_outbox_due_count(struct store *st, time_t now, int64_t *count, struct errbuf *e)
{
	sqlite3_stmt *s = store_prepare(st,
	    "SELECT COUNT(*) FROM outbox WHERE state = 'queued' AND next_attempt <= ?", e);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, now);
	return outbox_count_rows(st, s, count, e);
}

int
store_outbox_count(struct store *st, const char *state, int64_t *count, struct errbuf *e)
{
	sqlite3_stmt *s = store_prepare(st, "SELECT COUNT(*) FROM outbox WHERE state = ?", e);

	if (s == NULL)
		return -1;
	bind_text(s, 1, state);
	return outbox_count_rows(st, s, count, e);
}
