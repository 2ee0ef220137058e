/* SPDX-License-Identifier: ISC */
/* Rows read into structs by a column map (store/store_internal.h). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/buf.h"
#include "common/fileutil.h"
#include "common/log.h"
#include "store/store_internal.h"

char *
store_row_select(const struct store_col *cols, size_t n, const char *rest)
{
	struct buf b;

	buf_init(&b, 0);
	if (buf_printf(&b, "SELECT") != 0)
		fatal("out of memory");
	for (size_t i = 0; i < n; i++)
		if (buf_printf(&b, "%s %s", i > 0 ? "," : "", cols[i].name) != 0)
			fatal("out of memory");
	if (buf_printf(&b, " %s", rest) != 0)
		fatal("out of memory");
	return buf_steal(&b, NULL);
}

void
store_row_read(sqlite3_stmt *s, const struct store_col *cols, size_t n, void *out)
{
	for (size_t i = 0; i < n; i++) {
		char *field = (char *)out + cols[i].off;
		int col = (int)i;

		switch (cols[i].type) {
		case STORE_INT64:
			*(int64_t *)(void *)field = sqlite3_column_int64(s, col);
			break;
		case STORE_INT:
			*(int *)(void *)field = sqlite3_column_int(s, col);
			break;
		case STORE_TIME:
			*(time_t *)(void *)field = (time_t)sqlite3_column_int64(s, col);
			break;
		case STORE_TEXT:
			*(char **)(void *)field = col_text(s, col);
			break;
		case STORE_BYTES:
		case STORE_SECRET:
			*(unsigned char **)(void *)field =
			    col_blob(s, col, (size_t *)(void *)((char *)out + cols[i].len_off));
			break;
		}
	}
}

void
store_row_clear(const struct store_col *cols, size_t n, void *obj)
{
	for (size_t i = 0; i < n; i++) {
		char *field = (char *)obj + cols[i].off;
		size_t *len = (size_t *)(void *)((char *)obj + cols[i].len_off);

		switch (cols[i].type) {
		case STORE_TEXT:
			free(*(char **)(void *)field);
			*(char **)(void *)field = NULL;
			break;
		case STORE_SECRET:
			secret_free(*(unsigned char **)(void *)field, *len);
			*(unsigned char **)(void *)field = NULL;
			*len = 0;
			break;
		case STORE_BYTES:
			free(*(unsigned char **)(void *)field);
			*(unsigned char **)(void *)field = NULL;
			*len = 0;
			break;
		case STORE_INT64:
		case STORE_INT:
		case STORE_TIME:
			break;
		}
	}
}
