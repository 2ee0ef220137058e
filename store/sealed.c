/* SPDX-License-Identifier: ISC */
/*
 * The blobs sealed under the master key, wherever they live: listed and
 * re-sealed for master-key rotation and recovery, forgotten when a group
 * keeps no keys (store/sealed.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "store/sealed.h"
#include "store/store_internal.h"

static const char *const list_sql[] = {
	[SEALED_ESCROW] = "SELECT escrow.cert_id, escrow.aad, escrow.sealed FROM escrow"
	    " JOIN certs ON certs.id = escrow.cert_id"
	    " WHERE ?1 IS NULL OR certs.user_id = ?1 ORDER BY certs.not_before DESC, certs.id DESC",
	[SEALED_OUTBOX] = "SELECT id, aad, sealed FROM outbox WHERE length(sealed) > 0 ORDER BY id",
	/* provision.c seals an action's key with "key:action=<id>". */
	[SEALED_ACTIONS] = "SELECT id, 'key:action=' || id, sealed_key FROM actions"
	    " WHERE sealed_key IS NOT NULL AND length(sealed_key) > 0 ORDER BY id",
};

static const char *const replace_sql[] = {
	[SEALED_ESCROW] = "UPDATE escrow SET sealed = ? WHERE cert_id = ?",
	[SEALED_OUTBOX] = "UPDATE outbox SET sealed = ? WHERE id = ?",
	[SEALED_ACTIONS] = "UPDATE actions SET sealed_key = ? WHERE id = ?",
};

int
store_sealed_list(struct store *st, enum store_sealed_table t, const char *user_id,
    struct store_sealed **out, size_t *n, struct errbuf *e)
{
	sqlite3_stmt *s = store_prepare(st, list_sql[t], e);
	struct store_sealed *v = NULL;
	size_t count = 0;
	int rc;

	if (s == NULL)
		return -1;
	if (t == SEALED_ESCROW)
		bind_text(s, 1, user_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		v = xreallocarray(v, count + 1, sizeof(*v));
		v[count].id = sqlite3_column_int64(s, 0);
		v[count].aad = col_text(s, 1);
		v[count].sealed = col_blob(s, 2, &v[count].sealed_len);
		count++;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		store_sql_error(st, "cannot list sealed secrets", e);
		store_sealed_free(v, count);
		return -1;
	}
	*out = v;
	*n = count;
	return 0;
}

void
store_sealed_free(struct store_sealed *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].aad);
		free(v[i].sealed);
	}
	free(v);
}

int
store_sealed_replace(struct store *st, enum store_sealed_table t, int64_t id,
    const unsigned char *sealed, size_t len, struct errbuf *e)
{
	sqlite3_stmt *s = store_prepare(st, replace_sql[t], e);

	if (s == NULL)
		return -1;
	bind_blob(s, 1, sealed, len);
	sqlite3_bind_int64(s, 2, id);
	if (store_exec_stmt(st, s, "cannot re-seal a secret", e) != 0)
		return -1;
	if (sqlite3_changes(st->db) != 1) {
		err_set(e, "store %s: sealed row %lld vanished while re-sealing", st->path,
		    (long long)id);
		return -1;
	}
	return 0;
}

int
store_escrow_delete(struct store *st, int64_t cert_id, struct errbuf *e)
{
	sqlite3_stmt *s = store_prepare(st, "DELETE FROM escrow WHERE cert_id = ?", e);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, cert_id);
	return store_exec_stmt(st, s, "cannot delete an escrowed key", e);
}

int
store_action_forget_key(struct store *st, int64_t action_id, struct errbuf *e)
{
	sqlite3_stmt *s = store_prepare(st, "UPDATE actions SET sealed_key = NULL WHERE id = ?", e);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, action_id);
	return store_exec_stmt(st, s, "cannot forget an action's key", e);
}

int
store_escrow_legacy(struct store *st, size_t max, struct store_legacy_escrow **out, size_t *n,
    struct errbuf *e)
{
	sqlite3_stmt *s = store_prepare(st,
	    "SELECT escrow.cert_id, COALESCE(certs.action_id, 0), escrow.aad, escrow.sealed,"
	    " certs.der FROM escrow JOIN certs ON certs.id = escrow.cert_id"
	    " LEFT JOIN actions ON actions.id = certs.action_id"
	    " WHERE substr(escrow.aad, 1, 7) <> 'escrow:'"
	    " AND (actions.id IS NULL OR actions.state IN ('done', 'failed'))"
	    " ORDER BY escrow.cert_id LIMIT ?", e);
	struct store_legacy_escrow *v = NULL;
	size_t count = 0;
	int rc;

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)max);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		v = xreallocarray(v, count + 1, sizeof(*v));
		v[count].cert_id = sqlite3_column_int64(s, 0);
		v[count].action_id = sqlite3_column_int64(s, 1);
		v[count].aad = col_text(s, 2);
		v[count].sealed = col_blob(s, 3, &v[count].sealed_len);
		v[count].der = col_blob(s, 4, &v[count].der_len);
		count++;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		store_sql_error(st, "cannot list escrowed keys", e);
		store_legacy_escrow_free(v, count);
		return -1;
	}
	*out = v;
	*n = count;
	return 0;
}

void
store_legacy_escrow_free(struct store_legacy_escrow *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].aad);
		free(v[i].sealed);
		free(v[i].der);
	}
	free(v);
}
