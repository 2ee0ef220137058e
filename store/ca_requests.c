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

void
store_ca_request_clear(struct store_ca_request *r)
{
	free(r->ca_name);
	free(r->request_id);
	free(r->key_id);
	free(r->state);
	memset(r, 0, sizeof(*r));
}

int
store_ca_request_last(struct store *st, int64_t action_id, struct store_ca_request *out,
    struct errbuf *e)
{
	sqlite3_stmt *s = store_prepare(st,
	    "SELECT id, action_id, ca_name, request_id, key_id, state, created FROM ca_requests"
	    " WHERE action_id = ? ORDER BY id DESC LIMIT 1", e);
	int rc;

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, action_id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		memset(out, 0, sizeof(*out));
		out->id = sqlite3_column_int64(s, 0);
		out->action_id = sqlite3_column_int64(s, 1);
		out->ca_name = col_text(s, 2);
		out->request_id = col_text(s, 3);
		out->key_id = col_text(s, 4);
		out->state = col_text(s, 5);
		out->created = sqlite3_column_int64(s, 6);
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
	for (size_t i = 0; i < n; i++) {
		free(v[i].user_id);
		free(v[i].ca_name);
		free(v[i].serial);
		free(v[i].issuer);
		free(v[i].key_id);
		free(v[i].der);
		free(v[i].why);
		free(v[i].state);
	}
	free(v);
}

int
store_unwanted_todo(struct store *st, struct store_unwanted **out, size_t *n, struct errbuf *e)
{
	sqlite3_stmt *s = store_prepare(st,
	    "SELECT id, user_id, ca_name, serial, issuer, key_id, der, why, state, attempts, reason"
	    " FROM unwanted_certs WHERE state = 'pending' OR (state = 'admin' AND reported = 0)"
	    " ORDER BY id", e);
	struct store_unwanted *v = NULL;
	size_t count = 0;
	int rc;

	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_unwanted *u;

		v = xreallocarray(v, count + 1, sizeof(*v));
		u = &v[count++];
		memset(u, 0, sizeof(*u));
		u->id = sqlite3_column_int64(s, 0);
		u->user_id = col_text(s, 1);
		u->ca_name = col_text(s, 2);
		u->serial = col_text(s, 3);
		u->issuer = col_text(s, 4);
		u->key_id = col_text(s, 5);
		u->der = col_blob(s, 6, &u->der_len);
		u->why = col_text(s, 7);
		u->state = col_text(s, 8);
		u->attempts = sqlite3_column_int(s, 9);
		u->reason = sqlite3_column_int(s, 10);
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
