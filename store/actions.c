/* SPDX-License-Identifier: ISC */
/*
 * The provisioning actions in the store: one row per person's persisted
 * state machine (sync/provision.h), and the CA hold a rejection leaves.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/fileutil.h"
#include "common/xalloc.h"
#include "store/store_internal.h"

/* An actions row: its columns, and what of it the struct owns. */
static const struct store_col action_cols[] = {
	STORE_COL(struct store_action, id, "id", STORE_INT64),
	STORE_COL(struct store_action, run_id, "run_id", STORE_TEXT),
	STORE_COL(struct store_action, user_id, "user_id", STORE_TEXT),
	STORE_COL(struct store_action, kind, "kind", STORE_TEXT),
	STORE_COL(struct store_action, state, "state", STORE_TEXT),
	STORE_COL(struct store_action, group_name, "group_name", STORE_TEXT),
	STORE_COL(struct store_action, mail, "mail", STORE_TEXT),
	STORE_BLOB(struct store_action, sealed_key, sealed_key_len, "sealed_key", STORE_SECRET),
	STORE_COL(struct store_action, cert_id, "cert_id", STORE_INT64),
	STORE_COL(struct store_action, old_cert_id, "old_cert_id", STORE_INT64),
	STORE_COL(struct store_action, attempts, "attempts", STORE_INT),
	STORE_COL(struct store_action, last_error, "last_error", STORE_TEXT),
	STORE_COL(struct store_action, ca_cookie, "ca_cookie", STORE_TEXT),
	STORE_COL(struct store_action, ca_next_try, "ca_next_try", STORE_TIME),
	STORE_COL(struct store_action, ca_failures, "ca_failures", STORE_INT),
	STORE_COL(struct store_action, ca_cookie_ca, "ca_cookie_ca", STORE_TEXT),
};

void
store_action_clear(struct store_action *a)
{
	store_row_clear(action_cols, N_COLS(action_cols), a);
	memset(a, 0, sizeof(*a));
}

int
store_action_create(struct store *st, const struct store_action *a, int64_t *id_out,
    struct errbuf *e)
{
	sqlite3_stmt *s = store_prepare(st,
	    "INSERT INTO actions (run_id, user_id, kind, state, group_name, mail, old_cert_id,"
	    " created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", e);
	time_t now = time(NULL);

	if (s == NULL)
		return -1;
	bind_text(s, 1, a->run_id);
	bind_text(s, 2, a->user_id);
	bind_text(s, 3, a->kind);
	bind_text(s, 4, a->state);
	bind_text(s, 5, a->group_name);
	bind_text(s, 6, a->mail);
	if (a->old_cert_id != 0)
		sqlite3_bind_int64(s, 7, a->old_cert_id);
	sqlite3_bind_int64(s, 8, now);
	sqlite3_bind_int64(s, 9, now);
	if (store_exec_stmt(st, s, "cannot record a provisioning action", e) != 0)
		return -1;
	*id_out = sqlite3_last_insert_rowid(st->db);
	return 0;
}

int
store_action_get(struct store *st, int64_t id, struct store_action *out, struct errbuf *e)
{
	char *sql = store_row_select(action_cols, N_COLS(action_cols),
	    "FROM actions WHERE id = ?");
	sqlite3_stmt *s = store_prepare(st, sql, e);
	int rc = -1;

	free(sql);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) == SQLITE_ROW) {
		store_row_read(s, action_cols, N_COLS(action_cols), out);
		rc = 0;
	} else {
		err_set(e, "store: provisioning action #%lld is missing", (long long)id);
	}
	sqlite3_finalize(s);
	return rc;
}

int
store_action_set_state(struct store *st, int64_t id, const char *state,
    const char *error_or_null, struct errbuf *e)
{
	sqlite3_stmt *s = store_prepare(st,
	    "UPDATE actions SET state = ?, last_error = ?, updated = ? WHERE id = ?", e);

	if (s == NULL)
		return -1;
	bind_text(s, 1, state);
	bind_text(s, 2, error_or_null);
	sqlite3_bind_int64(s, 3, time(NULL));
	sqlite3_bind_int64(s, 4, id);
	return store_exec_stmt(st, s, "cannot record a provisioning step", e);
}

int
store_action_set_key(struct store *st, int64_t id, const unsigned char *sealed, size_t len,
    struct errbuf *e)
{
	sqlite3_stmt *s = store_prepare(st, "UPDATE actions SET sealed_key = ? WHERE id = ?", e);

	if (s == NULL)
		return -1;
	bind_blob(s, 1, sealed, len);
	sqlite3_bind_int64(s, 2, id);
	return store_exec_stmt(st, s, "cannot record a sealed key", e);
}

int
store_action_set_cert(struct store *st, int64_t id, int64_t cert_id, struct errbuf *e)
{
	sqlite3_stmt *s = store_prepare(st, "UPDATE actions SET cert_id = ? WHERE id = ?", e);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, cert_id);
	sqlite3_bind_int64(s, 2, id);
	return store_exec_stmt(st, s, "cannot link a certificate to its action", e);
}

int
store_action_set_ca(struct store *st, int64_t id, const char *ca_name, const char *cookie,
    time_t next_try, int failures, struct errbuf *e)
{
	sqlite3_stmt *s = store_prepare(st, "UPDATE actions SET ca_cookie = ?, ca_next_try = ?,"
	    " ca_failures = ?, ca_cookie_ca = ? WHERE id = ?", e);

	if (s == NULL)
		return -1;
	bind_text(s, 1, cookie);
	sqlite3_bind_int64(s, 2, next_try);
	sqlite3_bind_int(s, 3, failures);
	bind_text(s, 4, cookie != NULL ? ca_name : NULL);
	sqlite3_bind_int64(s, 5, id);
	return store_exec_stmt(st, s, "cannot record where a request stands at the CA", e);
}

int
store_user_set_ca_hold(struct store *st, const char *user_id, const char *reason,
    struct errbuf *e)
{
	sqlite3_stmt *s = store_prepare(st, "UPDATE users SET ca_hold = ? WHERE id = ?", e);

	if (s == NULL)
		return -1;
	bind_text(s, 1, reason);
	bind_text(s, 2, user_id);
	return store_exec_stmt(st, s, "cannot record the CA's rejection", e);
}

int
store_action_bump_attempts(struct store *st, int64_t id, struct errbuf *e)
{
	sqlite3_stmt *s = store_prepare(st,
	    "UPDATE actions SET attempts = attempts + 1 WHERE id = ?", e);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	return store_exec_stmt(st, s, "cannot count an attempt", e);
}
