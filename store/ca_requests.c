/* SPDX-License-Identifier: ISC */
/*
 * Requests to external CAs and the certificates we do not keep
 * (store/ca_requests.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "store/ca_requests.h"
#include "store/store_internal.h"

int
store_ca_request_add(struct store *st, const struct store_ca_request *r, const char *csr_pem,
    int64_t *id_out, struct errbuf *e)
{
	sqlite3_stmt *s = store_prepare(st,
	    "INSERT INTO ca_requests (action_id, ca_name, request_id, key_id, csr, state, created)"
	    " VALUES (?, ?, ?, ?, ?, 'sent', ?)", e);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, r->action_id);
	bind_text(s, 2, r->ca_name);
	bind_text(s, 3, r->request_id);
	bind_text(s, 4, r->key_id);
	bind_text(s, 5, csr_pem);
	sqlite3_bind_int64(s, 6, r->created);
	if (store_exec_stmt(st, s, "cannot record a request to the CA", e) != 0)
		return -1;
	*id_out = sqlite3_last_insert_rowid(st->db);
	return 0;
}

/* The rows read back: columns, fields, and what the struct owns. */
static const struct store_col request_cols[] = {
	STORE_COL(struct store_ca_request, id, "id", STORE_INT64),
	STORE_COL(struct store_ca_request, action_id, "action_id", STORE_INT64),
	STORE_COL(struct store_ca_request, ca_name, "ca_name", STORE_TEXT),
	STORE_COL(struct store_ca_request, request_id, "request_id", STORE_TEXT),
	STORE_COL(struct store_ca_request, key_id, "key_id", STORE_TEXT),
	STORE_COL(struct store_ca_request, state, "state", STORE_TEXT),
	STORE_COL(struct store_ca_request, created, "created", STORE_TIME),
};

static const struct store_col unwanted_cols[] = {
	STORE_COL(struct store_unwanted, id, "id", STORE_INT64),
	STORE_COL(struct store_unwanted, user_id, "user_id", STORE_TEXT),
	STORE_COL(struct store_unwanted, ca_name, "ca_name", STORE_TEXT),
	STORE_COL(struct store_unwanted, serial, "serial", STORE_TEXT),
	STORE_COL(struct store_unwanted, issuer, "issuer", STORE_TEXT),
	STORE_COL(struct store_unwanted, key_id, "key_id", STORE_TEXT),
	STORE_BLOB(struct store_unwanted, der, der_len, "der", STORE_BYTES),
	STORE_COL(struct store_unwanted, why, "why", STORE_TEXT),
	STORE_COL(struct store_unwanted, state, "state", STORE_TEXT),
	STORE_COL(struct store_unwanted, attempts, "attempts", STORE_INT),
	STORE_COL(struct store_unwanted, reason, "reason", STORE_INT),
};

void
store_ca_request_clear(struct store_ca_request *r)
{
	store_row_clear(request_cols, N_COLS(request_cols), r);
	memset(r, 0, sizeof(*r));
}

int
store_ca_request_last(struct store *st, int64_t action_id, struct store_ca_request *out,
    struct errbuf *e)
{
	char *sql = store_row_select(request_cols, N_COLS(request_cols),
	    "FROM ca_requests WHERE action_id = ? ORDER BY id DESC LIMIT 1");
	sqlite3_stmt *s = store_prepare(st, sql, e);
	int rc;

	free(sql);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, action_id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		memset(out, 0, sizeof(*out));
		store_row_read(s, request_cols, N_COLS(request_cols), out);
		rc = 1;
	} else if (rc == SQLITE_DONE) {
		rc = 0;
	} else {
		store_sql_error(st, "cannot read the requests to the CA", e);
		rc = -1;
	}
	sqlite3_finalize(s);
	return rc;
}

int
store_ca_request_set(struct store *st, int64_t id, const char *state, const char *outcome,
    const char *serial, time_t now, struct errbuf *e)
{
	sqlite3_stmt *s = store_prepare(st,
	    "UPDATE ca_requests SET state = ?, outcome = ?, serial = ?, answered = ? WHERE id = ?", e);

	if (s == NULL)
		return -1;
	bind_text(s, 1, state);
	bind_text(s, 2, outcome);
	bind_text(s, 3, serial);
	sqlite3_bind_int64(s, 4, now);
	sqlite3_bind_int64(s, 5, id);
	return store_exec_stmt(st, s, "cannot record the CA's answer", e);
}

int
store_unwanted_add(struct store *st, const struct store_unwanted *u, time_t now, struct errbuf *e)
{
	sqlite3_stmt *s = store_prepare(st,
	    "INSERT OR IGNORE INTO unwanted_certs (user_id, ca_name, serial, issuer, key_id, der,"
	    " why, state, created, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", e);

	if (s == NULL)
		return -1;
	bind_text(s, 1, u->user_id);
	bind_text(s, 2, u->ca_name);
	bind_text(s, 3, u->serial);
	bind_text(s, 4, u->issuer);
	bind_text(s, 5, u->key_id);
	if (u->der != NULL)
		bind_blob(s, 6, u->der, u->der_len);
	bind_text(s, 7, u->why);
	bind_text(s, 8, u->state);
	sqlite3_bind_int64(s, 9, now);
	sqlite3_bind_int(s, 10, u->reason);
	return store_exec_stmt(st, s, "cannot record an unwanted certificate", e);
}

void
store_unwanted_free(struct store_unwanted *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_row_clear(unwanted_cols, N_COLS(unwanted_cols), &v[i]);
	free(v);
}

int
store_unwanted_pending(struct store *st, struct store_unwanted **out, size_t *n, struct errbuf *e)
{
	char *sql = store_row_select(unwanted_cols, N_COLS(unwanted_cols),
	    "FROM unwanted_certs WHERE state = 'pending' OR (state = 'admin' AND reported = 0)"
	    " ORDER BY id");
	sqlite3_stmt *s = store_prepare(st, sql, e);
	struct store_unwanted *v = NULL;
	size_t count = 0;
	int rc;

	free(sql);
	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_unwanted *u;

		v = xreallocarray(v, count + 1, sizeof(*v));
		u = &v[count++];
		memset(u, 0, sizeof(*u));
		store_row_read(s, unwanted_cols, N_COLS(unwanted_cols), u);
	}
	if (rc != SQLITE_DONE) {
		store_sql_error(st, "cannot read the unwanted certificates", e);
		sqlite3_finalize(s);
		store_unwanted_free(v, count);
		return -1;
	}
	sqlite3_finalize(s);
	*out = v;
	*n = count;
	return 0;
}

int
store_unwanted_set(struct store *st, int64_t id, const char *state, const char *error,
    time_t now, struct errbuf *e)
{
	sqlite3_stmt *s = store_prepare(st,
	    "UPDATE unwanted_certs SET state = COALESCE(?, state), last_error = ?,"
	    " attempts = attempts + 1, updated = ? WHERE id = ?", e);

	if (s == NULL)
		return -1;
	bind_text(s, 1, state);
	bind_text(s, 2, error);
	sqlite3_bind_int64(s, 3, now);
	sqlite3_bind_int64(s, 4, id);
	return store_exec_stmt(st, s, "cannot update an unwanted certificate", e);
}

int
store_unwanted_reported(struct store *st, int64_t id, struct errbuf *e)
{
	sqlite3_stmt *s = store_prepare(st, "UPDATE unwanted_certs SET reported = 1 WHERE id = ?",
	    e);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	return store_exec_stmt(st, s, "cannot update an unwanted certificate", e);
}
