/* SPDX-License-Identifier: ISC */
/*
 * Private to the store room (store/): the store handle and SQLite helpers.
 */
#ifndef SMIMESYNC_STORE_STORE_INTERNAL_H
#define SMIMESYNC_STORE_STORE_INTERNAL_H

#include <sqlite3.h>

#include "common/actor.h"
#include "store/store.h"

struct store {
	sqlite3 *db;
	char *dir;
	char *path;
	int lock_fd;
	/* store_user_upsert runs once per member per run: prepared once (new). */
	sqlite3_stmt *upsert;
	struct actor actor; /* who runs this process: every audit entry names them */
};

/* Prepare sql; on error fill e with the SQLite message and return NULL. */
sqlite3_stmt *store_prepare(struct store *st, const char *sql, struct errbuf *e);
/* Step a statement expected to finish (INSERT/UPDATE); finalizes it. */
int store_exec_stmt(struct store *st, sqlite3_stmt *stmt, const char *what, struct errbuf *e);
int store_exec(struct store *st, const char *sql, struct errbuf *e);
void store_sql_error(struct store *st, const char *what, struct errbuf *e);

/* Bind helpers: NULL text binds SQL NULL. */
void bind_text(sqlite3_stmt *s, int i, const char *v);
void bind_blob(sqlite3_stmt *s, int i, const void *v, size_t len);
/* Column helpers: new copies (NULL for SQL NULL). */
char *col_text(sqlite3_stmt *s, int i);
unsigned char *col_blob(sqlite3_stmt *s, int i, size_t *len);

#endif
