/* SPDX-License-Identifier: ISC */
/*
 * Private to the store room (store/): the store handle and SQLite helpers.
 */
#ifndef SMIMESYNC_STORE_STORE_INTERNAL_H
#define SMIMESYNC_STORE_STORE_INTERNAL_H

#include <stddef.h>

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

/*
 * A row read into a struct by one column map, so that the SELECT's column
 * list, the field each column lands in and what must be freed are written
 * once per table:
 *
 *   static const struct store_col cols[] = {
 *       STORE_COL(struct store_x, id, "id", STORE_INT64),
 *       STORE_COL(struct store_x, name, "name", STORE_TEXT),
 *       STORE_BLOB(struct store_x, der, der_len, "der", STORE_BYTES),
 *   };
 *   char *sql = store_row_select(cols, N_COLS(cols), "FROM x WHERE id = ?");
 *   ... sqlite3_step() == SQLITE_ROW: store_row_read(s, cols, N_COLS(cols), &x);
 *   ... store_row_clear(cols, N_COLS(cols), &x);
 *
 * Text and bytes fields are new (NULL for SQL NULL) and owned by the
 * struct; STORE_SECRET bytes are wiped when cleared.
 */
enum store_col_type {
	STORE_INT64,  /* int64_t */
	STORE_INT,    /* int */
	STORE_TIME,   /* time_t */
	STORE_TEXT,   /* char *, new */
	STORE_BYTES,  /* unsigned char *, new, and its size_t length */
	STORE_SECRET, /* as STORE_BYTES, wiped by store_row_clear() */
};

struct store_col {
	const char *name;
	enum store_col_type type;
	size_t off;
	size_t len_off; /* STORE_BYTES, STORE_SECRET: the length field */
};

#define STORE_COL(st, field, name, type) { (name), (type), offsetof(st, field), 0 }
#define STORE_BLOB(st, field, len, name, type) \
	{ (name), (type), offsetof(st, field), offsetof(st, len) }
#define N_COLS(cols) (sizeof(cols) / sizeof((cols)[0]))

/* "SELECT name1, name2, ... rest" (new). */
char *store_row_select(const struct store_col *cols, size_t n, const char *rest);
/* The current row of s, column i into the field of cols[i]; out's earlier values are not freed. */
void store_row_read(sqlite3_stmt *s, const struct store_col *cols, size_t n, void *out);
/* Free the text and bytes fields of obj (wiping secrets), and set them NULL. */
void store_row_clear(const struct store_col *cols, size_t n, void *obj);

#endif
