/* SPDX-License-Identifier: ISC */
/*
 * Users, certificates and escrowed keys in the store.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/fileutil.h"
#include "common/xalloc.h"
#include "store/store_internal.h"

static const char *const cert_status_names[] = {
	[CERT_VALID] = "valid",
	[CERT_SUPERSEDED] = "superseded",
	[CERT_REVOKED] = "revoked",
};

const char *
cert_status_name(enum cert_status s)
{
	return s <= CERT_REVOKED ? cert_status_names[s] : "?";
}

static enum cert_status
cert_status_parse(const char *s)
{
	if (s != NULL && strcmp(s, "superseded") == 0)
		return CERT_SUPERSEDED;
	if (s != NULL && strcmp(s, "revoked") == 0)
		return CERT_REVOKED;
	return CERT_VALID;
}

void
store_user_clear(struct store_user *u)
{
	free(u->id);
	free(u->source);
	free(u->dn);
	free(u->mail);
	free(u->display_name);
	free(u->group_name);
	free(u->language);
	free(u->left_reason);
	free(u->ca_hold);
	memset(u, 0, sizeof(*u));
}

int
store_user_upsert(struct store *st, const struct store_user *u, struct errbuf *e)
{
	sqlite3_stmt *s;
	int rc;

	/*
	 * Every member, every run: prepare once per store, then reset and
	 * rebind. A row whose values are unchanged is not rewritten, and its
	 * last_seen is refreshed once a day rather than every run: at 100,000
	 * people and hourly runs that is the difference between rewriting the
	 * whole table each hour and writing only what changed. last_seen is
	 * therefore precise to a day.
	 */
	if (st->upsert == NULL)
		st->upsert = store_prepare(st,
		    "INSERT INTO users (id, source, dn, mail, display_name, group_name, first_seen,"
		    " last_seen, language) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8)"
		    " ON CONFLICT(id) DO UPDATE SET source = ?2, dn = ?3, mail = ?4,"
		    " display_name = ?5, group_name = ?6, last_seen = ?7, language = ?8"
		    " WHERE source IS NOT ?2 OR dn IS NOT ?3 OR mail IS NOT ?4"
		    "  OR display_name IS NOT ?5 OR group_name IS NOT ?6 OR language IS NOT ?8"
		    "  OR last_seen <= ?7 - 86400", e);
	s = st->upsert;
	if (s == NULL)
		return -1;
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	bind_text(s, 1, u->id);
	bind_text(s, 2, u->source);
	bind_text(s, 3, u->dn);
	bind_text(s, 4, u->mail);
	bind_text(s, 5, u->display_name);
	bind_text(s, 6, u->group_name);
	sqlite3_bind_int64(s, 7, u->last_seen);
	bind_text(s, 8, u->language);
	rc = sqlite3_step(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		store_sql_error(st, "cannot record a user", e);
		sqlite3_reset(s);
		return -1;
	}
	/* Reset now: a finished statement holds no read lock on the store. */
	sqlite3_reset(s);
	return 0;
}

/* What store_user_find reads, in struct store_user's order. */
#define USER_COLUMNS "id, source, dn, mail, display_name, group_name, first_seen, last_seen," \
	" language, left_at, left_reason, ignored, notifications_suspended, ca_hold"

int
store_user_find(struct store *st, const char *key, struct store_user *out, struct errbuf *e)
{
	sqlite3_stmt *s = store_prepare(st,
	    strchr(key, '@') != NULL ?
	    "SELECT " USER_COLUMNS " FROM users"
	    " WHERE mail = ?1 COLLATE NOCASE ORDER BY last_seen DESC LIMIT 1" :
	    "SELECT " USER_COLUMNS " FROM users WHERE id = ?1 OR dn = ?1 COLLATE NOCASE LIMIT 1",
	    e);
	int rc;

	if (s == NULL)
		return -1;
	bind_text(s, 1, key);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		out->id = col_text(s, 0);
		out->source = col_text(s, 1);
		out->dn = col_text(s, 2);
		out->mail = col_text(s, 3);
		out->display_name = col_text(s, 4);
		out->group_name = col_text(s, 5);
		out->first_seen = sqlite3_column_int64(s, 6);
		out->last_seen = sqlite3_column_int64(s, 7);
		out->language = col_text(s, 8);
		out->left_at = sqlite3_column_int64(s, 9);
		out->left_reason = col_text(s, 10);
		out->ignored = sqlite3_column_int(s, 11) != 0;
		out->notifications_suspended = sqlite3_column_int(s, 12) != 0;
		out->ca_hold = col_text(s, 13);
		rc = 1;
	} else if (rc == SQLITE_DONE) {
		rc = 0;
	} else {
		store_sql_error(st, "cannot look up a user", e);
		rc = -1;
	}
	sqlite3_finalize(s);
	return rc;
}

void
store_cert_clear(struct store_cert *c)
{
	free(c->user_id);
	free(c->group_name);
	free(c->ca_name);
	free(c->serial);
	free(c->issuer);
	free(c->fingerprint);
	free(c->mail);
	free(c->key_type);
	free(c->der);
	free(c->chain_pem);
	memset(c, 0, sizeof(*c));
}

void
store_certs_free(struct store_cert *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_cert_clear(&v[i]);
	free(v);
}

int
store_cert_insert(struct store *st, const struct store_cert *c, int64_t *id_out, struct errbuf *e)
{
	sqlite3_stmt *s = store_prepare(st,
	    "INSERT INTO certs (user_id, action_id, group_name, ca_name, serial, issuer,"
	    " fingerprint, mail, key_type, not_before, not_after, status, published, der,"
	    " chain_pem, created, alt_mails) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", e);

	if (s == NULL)
		return -1;
	bind_text(s, 1, c->user_id);
	sqlite3_bind_int64(s, 2, c->action_id);
	bind_text(s, 3, c->group_name);
	bind_text(s, 4, c->ca_name);
	bind_text(s, 5, c->serial);
	bind_text(s, 6, c->issuer);
	bind_text(s, 7, c->fingerprint);
	bind_text(s, 8, c->mail);
	bind_text(s, 9, c->key_type);
	sqlite3_bind_int64(s, 10, c->not_before);
	sqlite3_bind_int64(s, 11, c->not_after);
	bind_text(s, 12, cert_status_name(c->status));
	sqlite3_bind_int(s, 13, c->published ? 1 : 0);
	bind_blob(s, 14, c->der, c->der_len);
	bind_text(s, 15, c->chain_pem);
	sqlite3_bind_int64(s, 16, c->created);
	bind_text(s, 17, c->alt_mails);
	if (store_exec_stmt(st, s, "cannot record a certificate", e) != 0)
		return -1;
	*id_out = sqlite3_last_insert_rowid(st->db);
	return 0;
}

#define CERT_COLUMNS \
	"id, user_id, action_id, group_name, ca_name, serial, issuer, fingerprint, mail," \
	" key_type, not_before, not_after, status, published, created, revoked_at," \
	" revocation_reason"

static void
cert_from_row(sqlite3_stmt *s, bool with_der, struct store_cert *c)
{
	char *status = col_text(s, 12);

	c->id = sqlite3_column_int64(s, 0);
	c->user_id = col_text(s, 1);
	c->action_id = sqlite3_column_int64(s, 2);
	c->group_name = col_text(s, 3);
	c->ca_name = col_text(s, 4);
	c->serial = col_text(s, 5);
	c->issuer = col_text(s, 6);
	c->fingerprint = col_text(s, 7);
	c->mail = col_text(s, 8);
	c->key_type = col_text(s, 9);
	c->not_before = sqlite3_column_int64(s, 10);
	c->not_after = sqlite3_column_int64(s, 11);
	c->status = cert_status_parse(status);
	c->published = sqlite3_column_int(s, 13) != 0;
	c->created = sqlite3_column_int64(s, 14);
	c->revoked_at = sqlite3_column_int64(s, 15);
	c->revocation_reason = sqlite3_column_type(s, 16) == SQLITE_NULL ? -1 :
	    sqlite3_column_int(s, 16);
	if (with_der) {
		c->der = col_blob(s, 17, &c->der_len);
		c->chain_pem = col_text(s, 18);
	}
	free(status);
}

int
store_cert_get(struct store *st, int64_t id, struct store_cert *out, struct errbuf *e)
{
	sqlite3_stmt *s = store_prepare(st,
	    "SELECT " CERT_COLUMNS ", der, chain_pem FROM certs WHERE id = ?", e);
	int rc = -1;

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) == SQLITE_ROW) {
		cert_from_row(s, true, out);
		rc = 0;
	} else {
		err_set(e, "store %s: certificate #%lld is missing", st->path, (long long)id);
	}
	sqlite3_finalize(s);
	return rc;
}

int
store_certs_for_user(struct store *st, const char *user_id, bool with_der,
    struct store_cert **out, size_t *n, struct errbuf *e)
{
	sqlite3_stmt *s = store_prepare(st,
	    "SELECT " CERT_COLUMNS ", der, chain_pem FROM certs WHERE user_id = ?"
	    " ORDER BY not_after DESC, id DESC", e);
	struct store_cert *v = NULL;
	size_t count = 0;
	int rc;

	if (s == NULL)
		return -1;
	bind_text(s, 1, user_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		v = xreallocarray(v, count + 1, sizeof(*v));
		memset(&v[count], 0, sizeof(v[count]));
		cert_from_row(s, with_der, &v[count]);
		count++;
	}
	if (rc != SQLITE_DONE) {
		store_sql_error(st, "cannot read certificates", e);
		sqlite3_finalize(s);
		store_certs_free(v, count);
		return -1;
	}
	sqlite3_finalize(s);
	*out = v;
	*n = count;
	return 0;
}

int
store_cert_set_status(struct store *st, int64_t id, enum cert_status status, struct errbuf *e)
{
	sqlite3_stmt *s = store_prepare(st, "UPDATE certs SET status = ? WHERE id = ?", e);

	if (s == NULL)
		return -1;
	bind_text(s, 1, cert_status_name(status));
	sqlite3_bind_int64(s, 2, id);
	return store_exec_stmt(st, s, "cannot change a certificate's status", e);
}

int
store_cert_set_published(struct store *st, int64_t id, bool published, struct errbuf *e)
{
	sqlite3_stmt *s = store_prepare(st, "UPDATE certs SET published = ? WHERE id = ?", e);

	if (s == NULL)
		return -1;
	sqlite3_bind_int(s, 1, published ? 1 : 0);
	sqlite3_bind_int64(s, 2, id);
	return store_exec_stmt(st, s, "cannot mark a certificate published", e);
}

int
store_cert_set_revoked(struct store *st, int64_t id, time_t when, int reason, struct errbuf *e)
{
	sqlite3_stmt *s = store_prepare(st,
	    "UPDATE certs SET status = 'revoked', revoked_at = ?, revocation_reason = ?"
	    " WHERE id = ? AND status <> 'revoked'", e);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, when);
	sqlite3_bind_int(s, 2, reason);
	sqlite3_bind_int64(s, 3, id);
	return store_exec_stmt(st, s, "cannot record a revocation", e);
}

int
store_cert_is_ours(struct store *st, const char *issuer, const char *serial,
    struct store_cert *out_or_null, struct errbuf *e)
{
	sqlite3_stmt *s = store_prepare(st,
	    "SELECT " CERT_COLUMNS " FROM certs WHERE issuer = ? AND serial = ?", e);
	int rc;

	if (s == NULL)
		return -1;
	bind_text(s, 1, issuer);
	bind_text(s, 2, serial);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		if (out_or_null != NULL)
			cert_from_row(s, false, out_or_null);
		rc = 1;
	} else if (rc == SQLITE_DONE) {
		rc = 0;
	} else {
		store_sql_error(st, "cannot look up a certificate", e);
		rc = -1;
	}
	sqlite3_finalize(s);
	return rc;
}

void
store_states_free(struct store_user_state *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].user_id);
		free(v[i].mail);
		free(v[i].display_name);
		free(v[i].group_name);
		free(v[i].ca_hold);
		free(v[i].open_cert_status);
		free(v[i].open_serial);
		free(v[i].alt_mails);
		free(v[i].open_mail);
		free(v[i].open_alt_mails);
		free(v[i].dn);
		free(v[i].source);
	}
	free(v);
}

int
store_load_states(struct store *st, struct store_user_state **out, size_t *n, struct errbuf *e)
{
	/*
	 * One row per known user: the newest certificate with status valid
	 * (none: cert_id 0), an unfinished action, whether the newest
	 * certificate of all was revoked, and the admin switches. Sorted by
	 * user id so the planner can binary-search it. One query per run.
	 */
	sqlite3_stmt *s = store_prepare(st,
	    "WITH cur AS ("
	    "  SELECT user_id, id, mail, not_after, published, alt_mails,"
	    "   ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY not_after DESC, id DESC) AS rn"
	    "  FROM certs WHERE status = 'valid'),"
	    " newest AS ("
	    "  SELECT user_id, status, revoked_at,"
	    "   ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY id DESC) AS rn FROM certs),"
	    " open AS ("
	    "  SELECT user_id, MAX(id) AS action_id FROM actions"
	    "  WHERE state NOT IN ('done', 'failed') GROUP BY user_id)"
	    " SELECT u.id, cur.mail, cur.id, cur.not_after, cur.published, open.action_id,"
	    "  u.display_name, u.ignored, u.force_issue,"
	    "  newest.status = 'revoked' AND cur.id IS NULL, u.left_at, u.group_name, u.ca_hold,"
	    "  oc.status, oc.serial, oa.created, oa.ca_cookie IS NOT NULL, newest.revoked_at,"
	    "  cur.alt_mails, oa.mail, oc.id, oc.alt_mails, u.dn, u.source"
	    " FROM users u"
	    " LEFT JOIN cur ON cur.user_id = u.id AND cur.rn = 1"
	    " LEFT JOIN newest ON newest.user_id = u.id AND newest.rn = 1"
	    " LEFT JOIN open ON open.user_id = u.id"
	    " LEFT JOIN actions oa ON oa.id = open.action_id"
	    " LEFT JOIN certs oc ON oc.id = oa.cert_id"
	    " ORDER BY u.id", e);
	struct store_user_state *v = NULL;
	size_t count = 0, cap = 0;
	int rc;

	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (count == cap) {
			cap = cap ? cap * 2 : 256;
			v = xreallocarray(v, cap, sizeof(*v));
		}
		memset(&v[count], 0, sizeof(v[count]));
		v[count].user_id = col_text(s, 0);
		v[count].mail = col_text(s, 1);
		v[count].cert_id = sqlite3_column_int64(s, 2);
		v[count].not_after = sqlite3_column_int64(s, 3);
		v[count].published = sqlite3_column_int(s, 4) != 0;
		v[count].open_action = sqlite3_column_int64(s, 5);
		v[count].display_name = col_text(s, 6);
		v[count].ignored = sqlite3_column_int(s, 7) != 0;
		v[count].force_issue = sqlite3_column_int(s, 8) != 0;
		v[count].revoked = sqlite3_column_int(s, 9) != 0;
		v[count].left_at = sqlite3_column_int64(s, 10);
		v[count].group_name = col_text(s, 11);
		v[count].ca_hold = col_text(s, 12);
		v[count].open_cert_status = col_text(s, 13);
		v[count].open_serial = col_text(s, 14);
		v[count].open_created = sqlite3_column_int64(s, 15);
		v[count].open_at_ca = sqlite3_column_int(s, 16) != 0;
		v[count].revoked_at = sqlite3_column_int64(s, 17);
		v[count].alt_mails = col_text(s, 18);
		v[count].open_mail = col_text(s, 19);
		v[count].open_cert_id = sqlite3_column_int64(s, 20);
		v[count].open_alt_mails = col_text(s, 21);
		v[count].dn = col_text(s, 22);
		v[count].source = col_text(s, 23);
		count++;
	}
	if (rc != SQLITE_DONE) {
		store_sql_error(st, "cannot load certificate states", e);
		sqlite3_finalize(s);
		store_states_free(v, count);
		return -1;
	}
	sqlite3_finalize(s);
	*out = v;
	*n = count;
	return 0;
}

int
store_escrow_put(struct store *st, int64_t cert_id, const char *aad,
    const unsigned char *sealed, size_t len, struct errbuf *e)
{
	sqlite3_stmt *s = store_prepare(st,
	    "INSERT OR REPLACE INTO escrow (cert_id, aad, sealed, created) VALUES (?, ?, ?, ?)", e);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, cert_id);
	bind_text(s, 2, aad);
	bind_blob(s, 3, sealed, len);
	sqlite3_bind_int64(s, 4, time(NULL));
	return store_exec_stmt(st, s, "cannot escrow a private key", e);
}

void
store_status_rows_free(struct store_status_row *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].user_id);
		free(v[i].mail);
		free(v[i].display_name);
		free(v[i].group_name);
		free(v[i].serial);
		free(v[i].open_state);
		free(v[i].last_error);
		free(v[i].ca_hold);
	}
	free(v);
}

int
store_status_rows(struct store *st, const char *user_key, struct store_status_row **out,
    size_t *n, struct errbuf *e)
{
	sqlite3_stmt *s = store_prepare(st,
	    "SELECT u.id, u.mail, u.display_name, u.group_name, c.serial, c.not_after,"
	    " c.published, a.state, a.last_error, a.ca_cookie IS NOT NULL, a.ca_next_try, u.ca_hold"
	    " FROM users u"
	    " LEFT JOIN certs c ON c.id = (SELECT id FROM certs WHERE user_id = u.id"
	    "   AND status = 'valid' ORDER BY not_after DESC, id DESC LIMIT 1)"
	    " LEFT JOIN actions a ON a.id = (SELECT MAX(id) FROM actions WHERE user_id = u.id)"
	    " WHERE ?1 IS NULL OR u.id = ?1 OR u.mail = ?1 COLLATE NOCASE OR u.dn = ?1 COLLATE NOCASE"
	    " ORDER BY u.mail", e);
	struct store_status_row *v = NULL;
	size_t count = 0;
	int rc;

	if (s == NULL)
		return -1;
	bind_text(s, 1, user_key);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_status_row *r;
		char *state;

		v = xreallocarray(v, count + 1, sizeof(*v));
		r = &v[count++];
		memset(r, 0, sizeof(*r));
		r->user_id = col_text(s, 0);
		r->mail = col_text(s, 1);
		r->display_name = col_text(s, 2);
		r->group_name = col_text(s, 3);
		r->serial = col_text(s, 4);
		r->not_after = sqlite3_column_int64(s, 5);
		r->published = sqlite3_column_int(s, 6) != 0;
		state = col_text(s, 7);
		if (state != NULL && strcmp(state, "done") != 0) {
			r->open_state = state;
			r->last_error = col_text(s, 8);
			r->ca_pending = sqlite3_column_int(s, 9) != 0 &&
			    strcmp(state, "ca_asked") == 0;
			r->ca_next_try = (time_t)sqlite3_column_int64(s, 10);
		} else {
			free(state);
		}
		r->ca_hold = col_text(s, 11);
	}
	if (rc != SQLITE_DONE) {
		store_sql_error(st, "cannot list users", e);
		sqlite3_finalize(s);
		store_status_rows_free(v, count);
		return -1;
	}
	sqlite3_finalize(s);
	*out = v;
	*n = count;
	return 0;
}
