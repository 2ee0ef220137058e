/* SPDX-License-Identifier: ISC */
/*
 * Where each [directory]'s change stream stands (table stream_state,
 * migration 11): one row per directory, written in the caller's
 * transaction together with what the changes did. See store.h.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "store/store_internal.h"

void
store_stream_clear(struct store_stream *s)
{
	free(s->directory);
	free(s->kind);
	free(s->state);
	free(s->server);
	free(s->server_id);
	free(s->position);
	memset(s, 0, sizeof(*s));
}

int
store_stream_get(struct store *st, const char *directory, struct store_stream *out,
    struct errbuf *e)
{
	sqlite3_stmt *s = store_prepare(st, "SELECT kind, state, server, server_id, position,"
	    " issued, last_full_read, updated FROM stream_state WHERE directory = ?", e);
	int rc;

	memset(out, 0, sizeof(*out));
	if (s == NULL)
		return -1;
	bind_text(s, 1, directory);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		sqlite3_finalize(s);
		return 0;
	}
	if (rc != SQLITE_ROW) {
		store_sql_error(st, "cannot read the change stream state", e);
		sqlite3_finalize(s);
		return -1;
	}
	out->directory = xstrdup(directory);
	out->kind = col_text(s, 0);
	out->state = col_text(s, 1);
	out->server = col_text(s, 2);
	out->server_id = col_text(s, 3);
	out->position = col_text(s, 4);
	out->issued = (time_t)sqlite3_column_int64(s, 5);
	out->last_full_read = (time_t)sqlite3_column_int64(s, 6);
	out->updated = (time_t)sqlite3_column_int64(s, 7);
	sqlite3_finalize(s);
	return 1;
}

int
store_stream_put(struct store *st, const struct store_stream *in, time_t now, struct errbuf *e)
{
	sqlite3_stmt *s = store_prepare(st, "INSERT OR REPLACE INTO stream_state (directory,"
	    " kind, state, server, server_id, position, issued, last_full_read, updated)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", e);

	if (s == NULL)
		return -1;
	bind_text(s, 1, in->directory);
	bind_text(s, 2, in->kind);
	bind_text(s, 3, in->state);
	bind_text(s, 4, in->server);
	bind_text(s, 5, in->server_id);
	bind_text(s, 6, in->position);
	sqlite3_bind_int64(s, 7, in->issued);
	sqlite3_bind_int64(s, 8, in->last_full_read);
	sqlite3_bind_int64(s, 9, now);
	return store_exec_stmt(st, s, "cannot record the change stream state", e);
}

int
store_stream_full_read(struct store *st, const char *directory, time_t when, struct errbuf *e)
{
	sqlite3_stmt *s = store_prepare(st, "INSERT INTO stream_state (directory, last_full_read,"
	    " updated) VALUES (?1, ?2, ?2) ON CONFLICT (directory) DO UPDATE SET"
	    " last_full_read = ?2, updated = ?2", e);

	if (s == NULL)
		return -1;
	bind_text(s, 1, directory);
	sqlite3_bind_int64(s, 2, when);
	return store_exec_stmt(st, s, "cannot record the last full read", e);
}

int
store_stream_forget(struct store *st, const char *directory, struct errbuf *e)
{
	sqlite3_stmt *s = store_prepare(st, "UPDATE stream_state SET kind = NULL, state = NULL,"
	    " server = NULL, server_id = NULL, position = NULL, issued = 0 WHERE directory = ?", e);

	if (s == NULL)
		return -1;
	bind_text(s, 1, directory);
	if (store_exec_stmt(st, s, "cannot forget the change stream state", e) != 0)
		return -1;
	return sqlite3_changes(st->db);
}

int
store_address_claimants(struct store *st, const char *addr, const char *user_id,
    char ***out, size_t *n_out, struct errbuf *e)
{
	/*
	 * Anyone else the store knows with this address: as their directory
	 * mail at the last run, or on a valid certificate (primary or one of
	 * the recorded alternative addresses, lowercased one a line).
	 */
	sqlite3_stmt *s = store_prepare(st,
	    "SELECT id FROM users WHERE id <> ?2 AND lower(mail) = ?1"
	    " UNION SELECT user_id FROM certs WHERE status = 'valid' AND user_id <> ?2 AND"
	    "  (lower(mail) = ?1 OR instr(char(10) || ifnull(alt_mails, '') || char(10),"
	    "   char(10) || ?1 || char(10)) > 0)", e);
	char *low = NULL, **v = NULL;
	size_t n = 0;
	int rc;

	*out = NULL;
	*n_out = 0;
	if (s == NULL)
		return -1;
	low = xstrdup(addr);
	for (char *p = low; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	bind_text(s, 1, low);
	bind_text(s, 2, user_id != NULL ? user_id : "");
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		v = xreallocarray(v, n + 2, sizeof(*v));
		v[n++] = col_text(s, 0);
		v[n] = NULL;
	}
	free(low);
	if (rc != SQLITE_DONE) {
		store_sql_error(st, "cannot look up who else has an address", e);
		sqlite3_finalize(s);
		for (size_t i = 0; i < n; i++)
			free(v[i]);
		free(v);
		return -1;
	}
	sqlite3_finalize(s);
	*out = v;
	*n_out = n;
	return 0;
}
