/* SPDX-License-Identifier: ISC */
/*
 * Read-only queries for metrics, reports, status filters and audit.
 * Each is one statement over the whole store: at 100,000 users, one
 * pass, never a query per user.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "store/store_internal.h"
#include "store/queries.h"

#define DAY INT64_C(86400)

const char *const expiry_bucket_names[EXPIRY_BUCKETS] = {
	"expired", "30", "60", "90", "180", "later",
};

/*
 * The newest valid certificate of each user (certs_user index), and the
 * user's last action. The last action comes from one grouped pass over
 * actions: a MAX(id) subquery per user would scan every action once per
 * user (no index has user_id and id), minutes at 100,000 people.
 */
#define CURRENT_CERT_JOIN \
	" LEFT JOIN certs c ON c.id = (SELECT id FROM certs WHERE user_id = u.id" \
	"   AND status = 'valid' ORDER BY not_after DESC, id DESC LIMIT 1)" \
	" LEFT JOIN (SELECT user_id, MAX(id) AS last_id FROM actions GROUP BY user_id) la" \
	"   ON la.user_id = u.id" \
	" LEFT JOIN actions a ON a.id = la.last_id"

static int
count_users(struct store *st, time_t now, struct store_counts *out, struct errbuf *e)
{
	sqlite3_stmt *s = store_prepare(st,
	    "SELECT CASE"
	    "  WHEN a.state IS NOT NULL AND a.state NOT IN ('done', 'failed') THEN 'pending'"
	    "  WHEN c.id IS NULL AND a.state = 'failed' THEN 'failed'"
	    "  WHEN c.id IS NULL THEN 'none'"
	    "  WHEN c.not_after <= ?1 THEN 'expired'"
	    "  ELSE 'valid' END AS st,"
	    " COUNT(*),"
	    " SUM(c.id IS NOT NULL AND c.not_after > ?1 AND c.not_after <= ?1 + 7 * 86400),"
	    " SUM(c.id IS NOT NULL AND c.not_after > ?1 AND c.not_after <= ?1 + 30 * 86400)"
	    " FROM users u" CURRENT_CERT_JOIN " GROUP BY st", e);
	int rc;

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, now);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *state = (const char *)sqlite3_column_text(s, 0);
		int64_t n = sqlite3_column_int64(s, 1);

		out->users_total += n;
		out->expiring_7d += sqlite3_column_int64(s, 2);
		out->expiring_30d += sqlite3_column_int64(s, 3);
		if (strcmp(state, "pending") == 0)
			out->users_pending += n;
		else if (strcmp(state, "failed") == 0)
			out->users_failed += n;
		else if (strcmp(state, "none") == 0)
			out->users_none += n;
		else if (strcmp(state, "expired") == 0)
			out->users_expired += n;
		else
			out->users_valid += n;
	}
	if (rc != SQLITE_DONE) {
		store_sql_error(st, "cannot count users by state", e);
		sqlite3_finalize(s);
		return -1;
	}
	sqlite3_finalize(s);
	return 0;
}

static int
count_expiry(struct store *st, time_t now, struct store_counts *out, struct errbuf *e)
{
	sqlite3_stmt *s = store_prepare(st,
	    "SELECT CASE"
	    "  WHEN c.not_after <= ?1 THEN 0"
	    "  WHEN c.not_after <= ?1 + 30 * 86400 THEN 1"
	    "  WHEN c.not_after <= ?1 + 60 * 86400 THEN 2"
	    "  WHEN c.not_after <= ?1 + 90 * 86400 THEN 3"
	    "  WHEN c.not_after <= ?1 + 180 * 86400 THEN 4"
	    "  ELSE 5 END AS b, COUNT(*)"
	    " FROM users u" CURRENT_CERT_JOIN " WHERE c.id IS NOT NULL GROUP BY b", e);
	int rc;

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, now);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int b = sqlite3_column_int(s, 0);

		if (b >= 0 && b < EXPIRY_BUCKETS)
			out->expiry[b] = sqlite3_column_int64(s, 1);
	}
	if (rc != SQLITE_DONE) {
		store_sql_error(st, "cannot count certificates by expiry", e);
		sqlite3_finalize(s);
		return -1;
	}
	sqlite3_finalize(s);
	return 0;
}

int
store_query_counts(struct store *st, time_t now, struct store_counts *out, struct errbuf *e)
{
	memset(out, 0, sizeof(*out));
	if (count_users(st, now, out, e) != 0 || count_expiry(st, now, out, e) != 0 ||
	    store_outbox_count(st, "queued", &out->mails_queued, e) != 0 ||
	    store_outbox_count(st, "failed", &out->mails_failed, e) != 0)
		return -1;
	return 0;
}

void
store_tally_free(struct store_tally *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].label);
	free(v);
}

int
store_query_certs_by(struct store *st, const char *column, time_t now,
    struct store_tally **out, size_t *n, struct errbuf *e)
{
	sqlite3_stmt *s = NULL;
	struct store_tally *v = NULL;
	size_t count = 0;
	char *sql = NULL;
	int rc = -1, step;

	/* The column name is ours, never the user's: only these two exist. */
	if (strcmp(column, "key_type") != 0 && strcmp(column, "group_name") != 0) {
		err_set(e, "internal error: cannot tally certificates by \"%s\"", column);
		return -1;
	}
	sql = xasprintf("SELECT c.%s, COUNT(*) AS n FROM users u" CURRENT_CERT_JOIN
	    " WHERE c.id IS NOT NULL AND c.not_after > ?1 GROUP BY c.%s ORDER BY n DESC, c.%s",
	    column, column, column);
	s = store_prepare(st, sql, e);
	if (s == NULL)
		goto out;
	sqlite3_bind_int64(s, 1, now);
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		v = xreallocarray(v, count + 1, sizeof(*v));
		v[count].label = col_text(s, 0);
		if (v[count].label == NULL)
			v[count].label = xstrdup("?");
		v[count].n = sqlite3_column_int64(s, 1);
		count++;
	}
	if (step != SQLITE_DONE) {
		store_sql_error(st, "cannot tally certificates", e);
		goto out;
	}
	*out = v;
	*n = count;
	v = NULL;
	count = 0;
	rc = 0;
out:
	sqlite3_finalize(s);
	store_tally_free(v, count);
	free(sql);
	return rc;
}

void
store_run_rows_free(struct store_run_row *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].id);
		free(v[i].status);
		free(v[i].report);
	}
	free(v);
}

int
store_query_runs(struct store *st, time_t since, size_t limit, struct store_run_row **out,
    size_t *n, struct errbuf *e)
{
	/* Newest first with the limit, then reversed: the last `limit` runs. */
	sqlite3_stmt *s = store_prepare(st,
	    "SELECT id, started, finished, status, report FROM runs WHERE started >= ?"
	    " ORDER BY started DESC, rowid DESC LIMIT ?", e);
	struct store_run_row *v = NULL;
	size_t count = 0;
	int step;

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, since);
	sqlite3_bind_int64(s, 2, limit == 0 ? -1 : (sqlite3_int64)limit);
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		v = xreallocarray(v, count + 1, sizeof(*v));
		v[count].id = col_text(s, 0);
		v[count].started = sqlite3_column_int64(s, 1);
		v[count].finished = sqlite3_column_int64(s, 2);
		v[count].status = col_text(s, 3);
		v[count].report = col_text(s, 4);
		count++;
	}
	if (step != SQLITE_DONE) {
		store_sql_error(st, "cannot list runs", e);
		sqlite3_finalize(s);
		store_run_rows_free(v, count);
		return -1;
	}
	sqlite3_finalize(s);
	for (size_t i = 0; i < count / 2; i++) {
		struct store_run_row tmp = v[i];

		v[i] = v[count - 1 - i];
		v[count - 1 - i] = tmp;
	}
	*out = v;
	*n = count;
	return 0;
}

void
store_audit_rows_free(struct store_audit_row *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].run_id);
		free(v[i].user_id);
		free(v[i].mail);
		free(v[i].event);
		free(v[i].detail);
		free(v[i].actor);
		free(v[i].sudo_user);
	}
	free(v);
}

int
store_query_audit(struct store *st, const char *user_key, time_t since,
    struct store_audit_row **out, size_t *n, struct errbuf *e)
{
	sqlite3_stmt *s = store_prepare(st,
	    "SELECT a.id, a.time, a.run_id, a.user_id, u.mail, a.event, a.detail, a.actor,"
	    " a.sudo_user"
	    " FROM audit a LEFT JOIN users u ON u.id = a.user_id"
	    " WHERE a.time >= ?1 AND (?2 IS NULL OR a.user_id = ?2"
	    "   OR a.user_id IN (SELECT id FROM users WHERE mail = ?2 COLLATE NOCASE"
	    "     OR dn = ?2 COLLATE NOCASE))"
	    " ORDER BY a.time, a.id", e);
	struct store_audit_row *v = NULL;
	size_t count = 0;
	int step;

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, since);
	bind_text(s, 2, user_key);
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		v = xreallocarray(v, count + 1, sizeof(*v));
		v[count].id = sqlite3_column_int64(s, 0);
		v[count].time = sqlite3_column_int64(s, 1);
		v[count].run_id = col_text(s, 2);
		v[count].user_id = col_text(s, 3);
		v[count].mail = col_text(s, 4);
		v[count].event = col_text(s, 5);
		v[count].detail = col_text(s, 6);
		v[count].actor = col_text(s, 7);
		v[count].sudo_user = col_text(s, 8);
		count++;
	}
	if (step != SQLITE_DONE) {
		store_sql_error(st, "cannot read the audit log", e);
		sqlite3_finalize(s);
		store_audit_rows_free(v, count);
		return -1;
	}
	sqlite3_finalize(s);
	*out = v;
	*n = count;
	return 0;
}
