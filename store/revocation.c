/* SPDX-License-Identifier: ISC */
/*
 * CRL numbers, revoked certificates and certificates by serial
 * (store/revocation.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "store/revocation.h"
#include "store/store_internal.h"

int
store_crl_next_number(struct store *st, const char *ca_name, time_t now, uint64_t *out,
    struct errbuf *e)
{
	sqlite3_stmt *s = store_prepare(st,
	    "INSERT INTO crl_state (ca_name, number, issued) VALUES (?, 1, ?)"
	    " ON CONFLICT (ca_name) DO UPDATE SET number = number + 1, issued = excluded.issued"
	    " RETURNING number", e);
	int rc;

	if (s == NULL)
		return -1;
	bind_text(s, 1, ca_name);
	sqlite3_bind_int64(s, 2, now);
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		store_sql_error(st, "cannot advance the CRL number", e);
		sqlite3_finalize(s);
		return -1;
	}
	*out = (uint64_t)sqlite3_column_int64(s, 0);
	/* RETURNING rows are only final once the statement has run to the end. */
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		;
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		store_sql_error(st, "cannot advance the CRL number", e);
		return -1;
	}
	return 0;
}

int
store_crl_last(struct store *st, const char *ca_name, uint64_t *number, time_t *issued,
    struct errbuf *e)
{
	sqlite3_stmt *s = store_prepare(st,
	    "SELECT number, issued FROM crl_state WHERE ca_name = ?", e);
	int rc;

	if (s == NULL)
		return -1;
	bind_text(s, 1, ca_name);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*number = (uint64_t)sqlite3_column_int64(s, 0);
		*issued = (time_t)sqlite3_column_int64(s, 1);
		rc = 1;
	} else if (rc == SQLITE_DONE) {
		rc = 0;
	} else {
		store_sql_error(st, "cannot read the CRL state", e);
		rc = -1;
	}
	sqlite3_finalize(s);
	return rc;
}

int
store_revoked_for_ca(struct store *st, const char *ca_name, struct store_revoked **out,
    size_t *n, struct errbuf *e)
{
	sqlite3_stmt *s = store_prepare(st,
	    "SELECT serial, revoked_at, revocation_reason FROM certs"
	    " WHERE ca_name = ? AND status = 'revoked' ORDER BY revoked_at, id", e);
	struct store_revoked *v = NULL;
	size_t count = 0;
	int rc;

	if (s == NULL)
		return -1;
	bind_text(s, 1, ca_name);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		v = xreallocarray(v, count + 1, sizeof(*v));
		v[count].serial = col_text(s, 0);
		v[count].revoked_at = (time_t)sqlite3_column_int64(s, 1);
		v[count].reason = sqlite3_column_int(s, 2);
		count++;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		store_sql_error(st, "cannot list revoked certificates", e);
		store_revoked_free(v, count);
		return -1;
	}
	*out = v;
	*n = count;
	return 0;
}

void
store_revoked_free(struct store_revoked *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].serial);
	free(v);
}

int
store_cert_ids_by_serial(struct store *st, const char *serial, int64_t *ids, size_t max,
    size_t *n, struct errbuf *e)
{
	sqlite3_stmt *s = store_prepare(st, "SELECT id FROM certs WHERE serial = ? ORDER BY id", e);
	size_t count = 0;
	int rc;

	if (s == NULL)
		return -1;
	bind_text(s, 1, serial);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (count < max)
			ids[count] = sqlite3_column_int64(s, 0);
		count++;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		store_sql_error(st, "cannot look up a serial", e);
		return -1;
	}
	*n = count;
	return 0;
}
