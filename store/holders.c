/* SPDX-License-Identifier: ISC */
/*
 * Lifecycle in the store: live certificates and their owners, leavers,
 * per-user switches set by admins, and reminders already sent.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "store/store_internal.h"

void
store_holders_free(struct store_holder *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].user_id);
		free(v[i].mail);
		free(v[i].display_name);
		free(v[i].dn);
		free(v[i].group_name);
		free(v[i].cert_mail);
		free(v[i].serial);
		free(v[i].reminded);
		free(v[i].language);
	}
	free(v);
}

/* Add one recorded reminder threshold to h. */
static void
add_reminded(struct store_holder *h, int64_t threshold)
{
	h->reminded = xreallocarray(h->reminded, h->n_reminded + 1, sizeof(*h->reminded));
	h->reminded[h->n_reminded++] = threshold;
}

int
store_holders(struct store *st, time_t now, struct store_holder **out, size_t *n,
    struct errbuf *e)
{
	/* One row per certificate and reminder sent for it (or one with NULL). */
	sqlite3_stmt *s = store_prepare(st,
	    "SELECT u.id, u.mail, u.display_name, u.dn, c.group_name, c.id, c.mail, c.serial,"
	    " c.not_after, c.status, u.left_at, u.ignored, u.notifications_suspended, c.not_before,"
	    " r.threshold, u.language"
	    " FROM certs c JOIN users u ON u.id = c.user_id"
	    " LEFT JOIN reminders r ON r.cert_id = c.id"
	    " WHERE c.status IN ('valid', 'superseded') AND c.not_after > ?"
	    " ORDER BY u.id, c.not_after DESC, c.id DESC, r.threshold DESC", e);
	struct store_holder *v = NULL;
	size_t count = 0, cap = 0;
	int rc;

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, now);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_holder *h;
		const unsigned char *status;
		int64_t cert_id = sqlite3_column_int64(s, 5);

		if (count > 0 && v[count - 1].cert_id == cert_id) {
			/* The same certificate again: one more reminder already sent. */
			add_reminded(&v[count - 1], sqlite3_column_int64(s, 14));
			continue;
		}
		if (count == cap) {
			cap = cap ? cap * 2 : 256;
			v = xreallocarray(v, cap, sizeof(*v));
		}
		h = &v[count++];
		memset(h, 0, sizeof(*h));
		h->user_id = col_text(s, 0);
		h->mail = col_text(s, 1);
		h->display_name = col_text(s, 2);
		h->dn = col_text(s, 3);
		h->group_name = col_text(s, 4);
		h->cert_id = cert_id;
		h->cert_mail = col_text(s, 6);
		h->serial = col_text(s, 7);
		h->not_after = sqlite3_column_int64(s, 8);
		status = sqlite3_column_text(s, 9);
		h->status = status != NULL && strcmp((const char *)status, "superseded") == 0 ?
		    CERT_SUPERSEDED : CERT_VALID;
		h->left_at = sqlite3_column_int64(s, 10);
		h->ignored = sqlite3_column_int(s, 11) != 0;
		h->notifications_suspended = sqlite3_column_int(s, 12) != 0;
		h->not_before = sqlite3_column_int64(s, 13);
		h->language = col_text(s, 15);
		if (sqlite3_column_type(s, 14) != SQLITE_NULL)
			add_reminded(h, sqlite3_column_int64(s, 14));
	}
	if (rc != SQLITE_DONE) {
		store_sql_error(st, "cannot list live certificates", e);
		sqlite3_finalize(s);
		store_holders_free(v, count);
		return -1;
	}
	sqlite3_finalize(s);
	*out = v;
	*n = count;
	return 0;
}

int
store_user_set_left(struct store *st, const char *user_id, time_t left_at, const char *reason,
    struct errbuf *e)
{
	sqlite3_stmt *s = store_prepare(st,
	    "UPDATE users SET left_at = ?, left_reason = ? WHERE id = ?", e);

	if (s == NULL)
		return -1;
	if (left_at != 0)
		sqlite3_bind_int64(s, 1, left_at);
	bind_text(s, 2, left_at != 0 ? reason : NULL);
	bind_text(s, 3, user_id);
	return store_exec_stmt(st, s, "cannot record a leaver", e);
}

int
store_user_set_switch(struct store *st, const char *user_key, const char *which, bool on,
    struct errbuf *e)
{
	const char *sql;
	sqlite3_stmt *s;

	if (strcmp(which, "ignored") == 0)
		sql = "UPDATE users SET ignored = ?1 WHERE id = ?2 OR dn = ?2 COLLATE NOCASE"
		      " OR mail = ?2 COLLATE NOCASE";
	else if (strcmp(which, "notifications_suspended") == 0)
		sql = "UPDATE users SET notifications_suspended = ?1 WHERE id = ?2"
		      " OR dn = ?2 COLLATE NOCASE OR mail = ?2 COLLATE NOCASE";
	else if (strcmp(which, "force_issue") == 0)
		sql = "UPDATE users SET force_issue = ?1 WHERE id = ?2 OR dn = ?2 COLLATE NOCASE"
		      " OR mail = ?2 COLLATE NOCASE";
	else {
		err_set(e, "unknown user switch \"%s\"", which);
		return -1;
	}
	s = store_prepare(st, sql, e);
	if (s == NULL)
		return -1;
	sqlite3_bind_int(s, 1, on ? 1 : 0);
	bind_text(s, 2, user_key);
	if (store_exec_stmt(st, s, "cannot change a user setting", e) != 0)
		return -1;
	return sqlite3_changes(st->db) > 0 ? 1 : 0;
}

int
store_reminder_sent(struct store *st, int64_t cert_id, int64_t threshold, struct errbuf *e)
{
	sqlite3_stmt *s = store_prepare(st,
	    "SELECT 1 FROM reminders WHERE cert_id = ? AND threshold = ?", e);
	int rc;

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, cert_id);
	sqlite3_bind_int64(s, 2, threshold);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	store_sql_error(st, "cannot read reminders", e);
	return -1;
}

int
store_reminder_record(struct store *st, int64_t cert_id, int64_t threshold, const char *kind,
    time_t now, struct errbuf *e)
{
	sqlite3_stmt *s = store_prepare(st,
	    "INSERT OR IGNORE INTO reminders (cert_id, threshold, kind, sent_at) VALUES (?, ?, ?, ?)",
	    e);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, cert_id);
	sqlite3_bind_int64(s, 2, threshold);
	bind_text(s, 3, kind);
	sqlite3_bind_int64(s, 4, now);
	return store_exec_stmt(st, s, "cannot record a reminder", e);
}
