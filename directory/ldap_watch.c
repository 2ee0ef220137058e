/* SPDX-License-Identifier: ISC */
/*
 * The OpenLDAP change stream (type = ldap): RFC 4533 content
 * synchronisation, through libldap's ldap_sync API, against a server whose
 * database carries the syncprov overlay.
 *
 * One search, on a connection of its own, under base_dn for the groups
 * and the people:
 *
 *   (|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)<user_filter>)
 *
 * with the person attributes and none of the member values, so that a
 * change to a group of 100,000 costs a few hundred bytes (a live change of
 * a watched group's own entry then reads its member values once, below,
 * or with accesslog_base only the log entries of the change, and the
 * search asks for entryCSN too, to match them).
 * It runs in refreshAndPersist mode: a refresh from the stored cookie
 * (what changed while we were away), then every change as it happens.
 * Where the server refuses a persistent search, or DIR_WATCH_NO_PERSIST
 * asks so, the watch repeats a refreshOnly search every poll_interval
 * instead.
 *
 * What the stream says, as directory.h's changes:
 *   - a person added or modified: PERSON (read as ldap_person.c reads it);
 *   - a group added, modified or deleted: GROUPS for every watched group it
 *     is, or is nested in, found by searching upwards for the groups that
 *     list it (member or uniqueMember), loops cut; membership changes are
 *     changes of group entries, so they all come this way -- except, live
 *     (in the persist phase), a change of a flat watched group's own
 *     entry, which is PERSON for every member who joined or left (below,
 *     "flat watched groups");
 *   - any other entry deleted, or no longer matching the filter (syncprov
 *     sends a delete then): GONE, with its entryUUID. The entryUUIDs of the
 *     groups under base_dn are kept in memory, because a refresh names
 *     deleted entries by entryUUID alone.
 *
 * Positions and full reads. The position is the sync cookie. Without one
 * (the first start, or after a full read was asked for) the watch makes
 * one for "now" from the suffix's contextCSN, which syncprov reports as it
 * stands ("rid=000,csn=CSN[;CSN...]", the cookie format slapd(8) documents
 * for -c), so no initial content is transferred; without a readable
 * contextCSN it runs one refresh without a cookie, ignoring the entries.
 * A full read is asked for when the server answers e-syncRefreshRequired
 * (a cookie older than its session log, with syncprov-reloadhint), refuses
 * the cookie (unwillingToPerform, "consumer state is newer than
 * provider"), or replays a refresh through a present phase, which says
 * what changed but not what was deleted (a session log that does not
 * reach back far enough, or none: configure syncprov-sessionlog).
 *
 * libldap's ldap_sync_poll() hands each message of a chain to the
 * callbacks as the chain's head; on a connection used for nothing else
 * every ldap_result() returns one message, which is why the sync search
 * has a connection to itself (lookups go over a second one), and the
 * callbacks check it.
 *
 * A refresh (ldap_sync_init) waits for the server without a deadline of
 * its own: a server or network that dies is noticed through TCP keepalive
 * (ldap_conn.c), a server that stalls mid-refresh stalls the watch.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ldap.h>

#include "common/fileutil.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "directory/backend.h"
#include "directory/ldap.h"

#define GROUP_CLASSES "(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)"
/* Nested groups deeper than this are cut (a loop the seen set missed is impossible, but). */
#define MAX_ANCESTORS 10000
/*
 * Members joined or left in one change, read from the accesslog, beyond
 * which the group is read whole (group_changed_log's log line says 1000).
 */
#define LOG_BULK 1000

struct ldap_watch {
	struct dir_watch *w;      /* borrowed: the watch this is the state of */
	struct dir_ldap *look;    /* lookups (new), NULL until connected */
	struct dir_ldap *sync;    /* the sync search's own connection (new), or NULL */
	ldap_sync_t ls;
	bool ls_set;              /* ls holds a search's strings (free with ls_reset) */
	bool running;             /* a persistent search is past its refresh */
	bool persist;             /* refreshAndPersist; false: refreshOnly every poll_interval */
	double next_due;          /* refreshOnly: when to ask next */
	char **watched;           /* per watched group: its normalized DN, or NULL */
	char *filter;             /* the sync search's filter (new) */
	char *attrs[12];          /* the person attributes requested (borrowed names) */
	struct strmap groups;     /* entryUUID -> DN of the groups under base_dn */
	struct strset group_dns;  /* their normalized DNs (and of groups seen since) */
	bool groups_loaded;
	/*
	 * Persist mode: per watched group, its members' normalized DNs as last
	 * read (new), and whether they were (the group existed and was read
	 * when the search started, and every live change since was followed).
	 */
	struct strset *members;
	bool *members_known;
	/*
	 * With accesslog_base, instead: per watched group, the entryCSN of its
	 * last change seen (new), or NULL (then its next change reads it whole).
	 */
	char **csn;
	bool log_warned;          /* the log was unreadable once: said so */
	/* Set by the callbacks during one search or poll. */
	size_t messages;          /* sync messages handled */
	bool discard;             /* initial content without a cookie: not changes */
	bool present;             /* the refresh went through a present phase */
	bool ended;               /* the server ended the search (searchResultDone) */
	bool failed;              /* a callback failed: cb_err says why */
	enum dir_status cb_status;
	struct errbuf cb_err;
	struct strset done;       /* normalized DNs whose watched ancestors are known */
};

/* syncUUID: 16 octets, printed as entryUUID's string form (out: 37 bytes). */
static bool
uuid_text(const struct berval *bv, char *out, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)bv->bv_val;
	size_t k = 0;

	if (bv->bv_len != 16 || size < 37)
		return false;
	for (size_t i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[k++] = '-';
		out[k++] = hex[p[i] >> 4];
		out[k++] = hex[p[i] & 15];
	}
	out[k] = '\0';
	return true;
}

static void
cb_fail(struct ldap_watch *lw, enum dir_status st, const struct errbuf *e)
{
	if (lw->failed)
		return;
	lw->failed = true;
	lw->cb_status = st;
	err_set(&lw->cb_err, "%s", e->text);
}

static enum dir_status
connect_ldap(struct ldap_watch *lw, const char *password, struct dir_ldap **out,
    struct errbuf *e)
{
	char *pw = NULL;
	enum dir_status st;

	if (*out != NULL)
		return DIR_OK;
	if (password == NULL && dir_watch_password(lw->w, &pw, e) != 0)
		return DIR_BAD_CONFIG;
	st = dir_ldap_connect(lw->w->conf, password != NULL ? password : pw,
	    &dir_openldap_dialect, out, e);
	secret_free_str(pw);
	if (st != DIR_OK)
		err_prefix(e, "%s change stream", lw->w->label);
	return st;
}

/* ---- which watched groups a changed entry is in ------------------------- */

static ssize_t
watched_index(const struct ldap_watch *lw, const char *norm)
{
	for (size_t i = 0; i < lw->w->n_groups; i++)
		if (lw->watched[i] != NULL && strcmp(lw->watched[i], norm) == 0)
			return (ssize_t)i;
	return -1;
}

static enum dir_status
parent_entry(struct dir_ldap *dl, LDAPMessage *entry, void *arg, struct errbuf *e)
{
	struct strlist *q = arg;
	char *dn = ldap_get_dn(dl->ld, entry);

	(void)e;
	if (dn != NULL)
		strlist_add(q, dn);
	ldap_memfree(dn);
	return DIR_OK;
}

/*
 * dn changed (a group, or a deleted entry some group may list): name every
 * watched group that is dn or lists it, directly or through nested groups.
 */
static enum dir_status
name_groups_above(struct ldap_watch *lw, const char *dn, struct errbuf *e)
{
	char *attrs[] = { "1.1", NULL };
	struct strlist q = { NULL, 0, 0 };
	enum dir_status st = DIR_OK;
	size_t next = 0;

	strlist_add(&q, dn);
	while (st == DIR_OK && next < q.n && next < MAX_ANCESTORS) {
		const char *cur = q.v[next++];
		char *norm = dir_dn_normalize(cur), *esc = NULL, *filter = NULL;
		ssize_t idx;

		if (norm == NULL || norm[0] == '\0' || !strset_add(&lw->done, norm)) {
			free(norm);
			continue;
		}
		idx = watched_index(lw, norm);
		if (idx >= 0)
			dir_watch_group(lw->w, (size_t)idx, dn);
		esc = dir_filter_escape(cur, strlen(cur));
		filter = xasprintf("(&(|" GROUP_CLASSES ")(|(member=%s)(uniqueMember=%s)))", esc,
		    esc);
		st = dir_ldap_scan(lw->look, filter, attrs, parent_entry, &q, e);
		free(norm);
		free(esc);
		free(filter);
	}
	strlist_free(&q);
	return st;
}

/* A group's DN, remembered (normalized) as one: a member that is a group is a nesting. */
static void
note_group_dn(struct ldap_watch *lw, const char *dn)
{
	char *norm = dir_dn_normalize(dn);

	if (norm != NULL && norm[0] != '\0')
		(void)strset_add(&lw->group_dns, norm);
	free(norm);
}

static enum dir_status
group_uuid_entry(struct dir_ldap *dl, LDAPMessage *entry, void *arg, struct errbuf *e)
{
	struct ldap_watch *lw = arg;
	struct berval **vals = ldap_get_values_len(dl->ld, entry, "entryUUID");
	char *dn = ldap_get_dn(dl->ld, entry);

	(void)e;
	if (dn != NULL && vals != NULL && vals[0] != NULL && vals[0]->bv_len < 64) {
		char *id = xstrndup(vals[0]->bv_val, vals[0]->bv_len);

		strmap_put(&lw->groups, id, dn);
		free(id);
	}
	if (dn != NULL)
		note_group_dn(lw, dn);
	ldap_value_free_len(vals);
	ldap_memfree(dn);
	return DIR_OK;
}

/* Every group's entryUUID: a refresh names deleted entries by it alone. */
static enum dir_status
load_groups(struct ldap_watch *lw, struct errbuf *e)
{
	char *attrs[] = { "entryUUID", NULL };
	enum dir_status st;

	if (lw->groups_loaded)
		return DIR_OK;
	strmap_free(&lw->groups);
	strmap_init(&lw->groups);
	strset_free(&lw->group_dns);
	strset_init(&lw->group_dns);
	st = dir_ldap_scan(lw->look, "(|" GROUP_CLASSES ")", attrs, group_uuid_entry, lw, e);
	lw->groups_loaded = st == DIR_OK;
	return st;
}

/* ---- flat watched groups: who joined or left ------------------------------ */

/*
 * A member added to a watched group of 100,000 changes the group's entry,
 * and the stream says no more than that: read whole again, the group costs
 * 100,000 entries per change. slapd's memberof overlay does change the
 * member's own entry (memberOf), but as an internal operation flagged "do
 * not replicate", which syncprov leaves out of every stream whatever the
 * overlays' order (OpenLDAP 2.5 and 2.6; doc/incremental.md, "Server").
 * So, in persist mode, the watch keeps each watched group's member DNs
 * as read when the search started, and on a live change of a group's
 * own entry reads its member values again (one entry) and names the
 * people who joined or left as PERSON changes. The group is named as a
 * whole (GROUPS) when that cannot say it all: the group is not flat (a
 * member, before or after, is a group: nesting is followed by reading the
 * group again), it shows no member values before or after (empty, or not
 * readable by the service account), a changed member lies outside base_dn
 * or is a group, a quarter of it changed at once (a bulk import), the
 * group did not exist when the search started or no longer does.
 *
 * Only live changes are followed this way: a refresh replays changes made
 * while nobody watched, which the member DNs, read "now", already hold.
 */

struct member_arg {
	struct strset *set;   /* borrowed */
};

static void
member_value(void *arg, const struct berval *v)
{
	struct member_arg *m = arg;
	char *dn = NULL, *norm = NULL;

	if (v->bv_len == 0 || memchr(v->bv_val, '\0', v->bv_len) != NULL)
		return;
	dn = xstrndup(v->bv_val, v->bv_len);
	norm = dir_dn_normalize(dn);
	if (norm != NULL && norm[0] != '\0')
		(void)strset_add(m->set, norm);
	free(norm);
	free(dn);
}

/* The member DNs of group dn now (into the empty *out); *exists false if it is gone. */
static enum dir_status
read_members(struct ldap_watch *lw, const char *dn, struct strset *out, bool *exists,
    struct errbuf *e)
{
	static const char *const member_attrs[] = { "member", "uniqueMember" };
	char *attrs[] = { "member", "uniqueMember", NULL };
	struct member_arg m = { out };
	LDAPMessage *res = NULL, *entry = NULL;
	enum dir_status st;

	*exists = false;
	st = dir_ldap_read(lw->look, dn, "(|" GROUP_CLASSES ")", attrs, &res, &entry, e);
	if (st == DIR_OK && entry != NULL) {
		*exists = true;
		for (size_t a = 0; a < ARRAY_LEN(member_attrs) && st == DIR_OK; a++)
			st = dir_member_values(lw->look, entry, dn, member_attrs[a], 0,
			    member_value, &m, e);
	}
	ldap_msgfree(res);
	return st;
}

/* Persist mode, before the search: every watched group's members as they are. */
static enum dir_status
load_members(struct ldap_watch *lw, struct errbuf *e)
{
	enum dir_status st = DIR_OK;

	for (size_t i = 0; i < lw->w->n_groups && st == DIR_OK; i++) {
		bool exists = false;

		strset_free(&lw->members[i]);
		strset_init(&lw->members[i]);
		lw->members_known[i] = false;
		if (lw->watched[i] == NULL)
			continue;
		st = read_members(lw, lw->w->groups[i]->group_dn, &lw->members[i], &exists, e);
		lw->members_known[i] = st == DIR_OK && exists;
	}
	return st;
}

static bool
holds_group(const struct ldap_watch *lw, const struct strset *set)
{
	for (size_t i = 0; i < set->cap; i++)
		if (set->slots[i] != NULL && strset_has(&lw->group_dns, set->slots[i]))
			return true;
	return false;
}

/* The DNs in a and not in b, appended to out. */
static void
only_in(const struct strset *a, const struct strset *b, struct strlist *out)
{
	for (size_t i = 0; i < a->cap; i++)
		if (a->slots[i] != NULL && !strset_has(b, a->slots[i]))
			strlist_add(out, a->slots[i]);
}

static bool
dn_under(const char *norm, const char *base_norm)
{
	size_t dl = strlen(norm), bl = strlen(base_norm);

	return dl >= bl && strcmp(norm + dl - bl, base_norm) == 0 &&
	    (dl == bl || norm[dl - bl - 1] == ',');
}

struct changed_arg {
	struct ldap_watch *lw;
	bool whole;           /* a changed member is a group: read the group whole */
};

/*
 * A member who joined or left a flat watched group, as read now: a person
 * in scope is a PERSON change; an entry that no longer exists or is out of
 * scope says nothing (a deleted person comes as GONE of their own).
 */
static enum dir_status
changed_entry(struct dir_ldap *dl, size_t index, LDAPMessage *entry, void *arg,
    struct errbuf *e)
{
	struct changed_arg *c = arg;
	struct user_list l = { NULL, 0, 0 };
	char *dn = NULL;

	(void)index;
	(void)e;
	if (entry == NULL || (dn = ldap_get_dn(dl->ld, entry)) == NULL)
		return DIR_OK;
	if (dir_entry_has_class(dl->ld, entry, "groupOfNames") ||
	    dir_entry_has_class(dl->ld, entry, "groupOfUniqueNames")) {
		note_group_dn(c->lw, dn);
		c->whole = true;
	} else {
		/* The entry's own DN, as the stream and a group read would give it. */
		dir_ldap_add_person(dl, entry, dn, &l);
		if (l.n == 1)
			dir_watch_person(c->lw->w, &l.v[0], NULL);
		user_list_free(&l);
	}
	ldap_memfree(dn);
	return DIR_OK;
}

/*
 * The members who joined or left (normalized DNs), named one by one;
 * *whole set when the group must be read whole instead: one of them is a
 * group or lies outside base_dn, or bulk: so many changed (a bulk import)
 * that reading the group costs less than looking each up here and in the
 * engine.
 */
static enum dir_status
members_changed(struct ldap_watch *lw, const struct strlist *changed, bool bulk,
    bool *whole, struct errbuf *e)
{
	struct changed_arg c = { lw, false };
	char *base_norm = dir_dn_normalize(lw->w->conf->base_dn);
	enum dir_status st = DIR_OK;

	*whole = base_norm == NULL || bulk;
	for (size_t i = 0; !*whole && i < changed->n; i++)
		*whole = !dn_under(changed->v[i], base_norm) ||
		    strset_has(&lw->group_dns, changed->v[i]);
	if (!*whole && changed->n > 0) {
		st = dir_ldap_read_many(lw->look, changed->v, changed->n, lw->filter, lw->attrs,
		    changed_entry, &c, e);
		*whole = c.whole;
	}
	free(base_norm);
	return st;
}

/* ---- flat watched groups through slapd's accesslog ----------------------- */

/*
 * With accesslog_base, the member list is not kept at all: at the start
 * each watched group's entryCSN is read (one small base read each, no
 * member values), the stream pushes each group change with its new
 * entryCSN, and the log entries between the two name who joined or left
 * (ldap_accesslog.c). A change then costs its log entries whatever the
 * group's size. A member that is a group, or lies outside base_dn, still
 * reads the group whole (members_changed); a person who left a group but
 * stays a member through a nested one is the engine's to find, since it
 * looks each person up with their groups (upward). The group is read whole
 * as well when the log cannot say it all: no entryCSN seen for the group
 * yet, the log unreadable (said once, with what to grant), purged past
 * the change or not holding it, or values replaced or all deleted.
 */

/* The entryCSN of a group entry (new), or NULL when it has none of a sane size. */
static char *
entry_csn(LDAP *ld, LDAPMessage *entry)
{
	struct berval **v = ldap_get_values_len(ld, entry, "entryCSN");
	char *csn = NULL;

	if (v != NULL && v[0] != NULL && v[0]->bv_len > 0 && v[0]->bv_len < 64 &&
	    memchr(v[0]->bv_val, '\0', v[0]->bv_len) == NULL)
		csn = xstrndup(v[0]->bv_val, v[0]->bv_len);
	ldap_value_free_len(v);
	return csn;
}

/* Before the search: every watched group's entryCSN as it stands. */
static enum dir_status
load_csns(struct ldap_watch *lw, struct errbuf *e)
{
	char *attrs[] = { "entryCSN", NULL };
	enum dir_status st = DIR_OK;

	for (size_t i = 0; i < lw->w->n_groups && st == DIR_OK; i++) {
		LDAPMessage *res = NULL, *entry = NULL;

		free(lw->csn[i]);
		lw->csn[i] = NULL;
		if (lw->watched[i] == NULL)
			continue;
		st = dir_ldap_read(lw->look, lw->w->groups[i]->group_dn, "(|" GROUP_CLASSES ")",
		    attrs, &res, &entry, e);
		if (st == DIR_OK && entry != NULL)
			lw->csn[i] = entry_csn(lw->look->ld, entry);
		ldap_msgfree(res);
	}
	return st;
}

/*
 * A live change of watched group idx, pushed with entryCSN csn (borrowed,
 * or NULL): who joined or left, from the log; *whole when the group must
 * be read whole instead.
 */
static enum dir_status
group_changed_log(struct ldap_watch *lw, size_t idx, const char *dn, const char *csn,
    bool *whole, struct errbuf *e)
{
	const char *log_base = lw->w->conf->accesslog_base, *why = NULL;
	char *since = lw->csn[idx];
	struct strset changed;
	struct strlist list = { NULL, 0, 0 };
	enum dir_status st = DIR_OK;
	struct errbuf le;

	*whole = true;
	strset_init(&changed);
	/* The next change is measured from this one, whichever way this one is read. */
	lw->csn[idx] = csn != NULL ? xstrdup(csn) : NULL;
	if (since == NULL || csn == NULL) {
		why = "no entryCSN of its previous state is known";
		goto out;
	}
	err_clear(&le);
	st = dir_alog_members(lw->look, log_base, dn, since, csn, &changed, &why, &le);
	if (st == DIR_UNREACHABLE) {
		/* The server is gone: reading the group whole would fail too. */
		err_set(e, "%s", le.text);
		goto out;
	}
	if (st != DIR_OK) {
		if (!lw->log_warned)
			log_warn("%s change stream: cannot read slapd's accesslog under %s (%s): "
			    "a change of a watched group is read whole instead; let %s read "
			    "that database (reqDN, reqMod, reqResult, entryCSN), or remove "
			    "accesslog_base", lw->w->label, log_base, le.text,
			    lw->w->conf->bind_dn != NULL ? lw->w->conf->bind_dn :
			    "the service account");
		lw->log_warned = true;
		why = "the log is unreadable";
		st = DIR_OK;
		goto out;
	}
	if (why != NULL)
		goto out;
	for (size_t i = 0; i < changed.cap; i++)
		if (changed.slots[i] != NULL)
			strlist_add(&list, changed.slots[i]);
	/* Without the member count, a bulk change is one a group read beats at any size. */
	st = members_changed(lw, &list, list.n > LOG_BULK, whole, e);
	if (st == DIR_OK && *whole)
		why = "a member who joined or left is a group or lies outside base_dn, or "
		    "more than 1000 changed at once";
	if (st == DIR_OK && !*whole)
		log_debug("%s change stream: %s: %zu member(s) joined or left (accesslog), "
		    "named one by one", lw->w->label, dn, list.n);
out:
	if (st == DIR_OK && *whole && why != NULL)
		log_info("%s change stream: %s changed; it is read whole: %s", lw->w->label, dn,
		    why);
	free(since);
	strset_free(&changed);
	strlist_free(&list);
	return st;
}

/*
 * A group entry added or modified: in persist mode, a flat watched group
 * names who joined or left it; anything else names every watched group
 * it is, or is nested in, as the whole.
 */
static enum dir_status
group_changed(struct ldap_watch *lw, const char *dn, const char *csn, struct errbuf *e)
{
	struct strset now;
	struct strlist changed = { NULL, 0, 0 };
	char *norm = dir_dn_normalize(dn);
	ssize_t idx = norm != NULL ? watched_index(lw, norm) : -1;
	bool exists = false, whole = true;
	enum dir_status st = DIR_OK;
	size_t size;

	strset_init(&now);
	if (lw->running && idx >= 0 && lw->csn != NULL) {
		st = group_changed_log(lw, (size_t)idx, dn, csn, &whole, e);
		goto out;
	}
	if (!lw->running || idx < 0 || !lw->members_known[idx])
		goto out;
	st = read_members(lw, dn, &now, &exists, e);
	if (st != DIR_OK)
		goto out;
	if (!exists) {
		lw->members_known[idx] = false;
		goto out;
	}
	/*
	 * No member values, before or after: an empty group, or values the
	 * service account may not read, which would hide every change.
	 */
	whole = lw->members[idx].n == 0 || now.n == 0 || holds_group(lw, &lw->members[idx]) ||
	    holds_group(lw, &now);
	only_in(&now, &lw->members[idx], &changed);
	only_in(&lw->members[idx], &now, &changed);
	size = now.n > lw->members[idx].n ? now.n : lw->members[idx].n;
	/* The members as they are now: the next live change is measured from here. */
	strset_free(&lw->members[idx]);
	lw->members[idx] = now;
	strset_init(&now);
	if (!whole)
		st = members_changed(lw, &changed, changed.n > 16 && changed.n >= size / 4,
		    &whole, e);
	if (st == DIR_OK && !whole)
		log_debug("%s change stream: %s: %zu member(s) joined or left, named one by one",
		    lw->w->label, dn, changed.n);
out:
	if (st == DIR_OK && whole)
		st = name_groups_above(lw, dn, e);
	strset_free(&now);
	strlist_free(&changed);
	free(norm);
	return st;
}

/* ---- the callbacks of ldap_sync ------------------------------------------ */

static bool
one_message(struct ldap_watch *lw, ldap_sync_t *ls, LDAPMessage *msg)
{
	struct errbuf e;

	if (ldap_count_messages(ls->ls_ld, msg) == 1)
		return true;
	err_set(&e, "%s change stream: libldap handed several sync messages at once, which "
	    "its ldap_sync API cannot take apart; the stream is restarted from its last position",
	    lw->w->label);
	cb_fail(lw, DIR_FAILED, &e);
	return false;
}

/* A person, read as a group read would read them. */
static void
take_person(struct ldap_watch *lw, LDAPMessage *msg, const char *dn)
{
	struct user_list l = { NULL, 0, 0 };

	dir_ldap_add_person(lw->sync, msg, dn, &l);
	if (l.n == 1)
		dir_watch_person(lw->w, &l.v[0], NULL);
	user_list_free(&l);
}

static void
entry_gone(struct ldap_watch *lw, const char *id, const char *dn)
{
	const char *group_dn = strmap_get(&lw->groups, id);
	struct errbuf e;
	char *copy = NULL;

	if (group_dn == NULL) {
		dir_watch_gone(lw->w, id, dn);
		return;
	}
	/* A deleted group: the groups that listed it may still (no refint overlay). */
	copy = xstrdup(dn != NULL ? dn : group_dn);
	err_clear(&e);
	if (name_groups_above(lw, copy, &e) != DIR_OK)
		cb_fail(lw, DIR_UNREACHABLE, &e);
	free(copy);
}

static int
on_entry(ldap_sync_t *ls, LDAPMessage *msg, struct berval *uuid, ldap_sync_refresh_t phase)
{
	struct ldap_watch *lw = ls->ls_private;
	char id[40];
	char *dn = NULL;
	struct errbuf e;

	lw->messages++;
	if (lw->failed || !one_message(lw, ls, msg))
		return LDAP_SUCCESS;
	if (phase == LDAP_SYNC_CAPI_PRESENT) {
		lw->present = true;
		return LDAP_SUCCESS;
	}
	if (lw->discard)
		return LDAP_SUCCESS;
	if (uuid == NULL || !uuid_text(uuid, id, sizeof(id))) {
		log_warn("%s change stream: an entry without a usable syncUUID was ignored",
		    lw->w->label);
		return LDAP_SUCCESS;
	}
	dn = ldap_get_dn(ls->ls_ld, msg);
	if (dn == NULL) {
		log_warn("%s change stream: entry %s came without a DN and was ignored",
		    lw->w->label, id);
		return LDAP_SUCCESS;
	}
	err_clear(&e);
	switch (phase) {
	case LDAP_SYNC_CAPI_ADD:
	case LDAP_SYNC_CAPI_MODIFY:
		if (dir_entry_has_class(ls->ls_ld, msg, "groupOfNames") ||
		    dir_entry_has_class(ls->ls_ld, msg, "groupOfUniqueNames")) {
			char *csn = lw->csn != NULL ? entry_csn(ls->ls_ld, msg) : NULL;

			strmap_put(&lw->groups, id, dn);
			note_group_dn(lw, dn);
			if (group_changed(lw, dn, csn, &e) != DIR_OK)
				cb_fail(lw, DIR_UNREACHABLE, &e);
			free(csn);
		} else {
			take_person(lw, msg, dn);
		}
		break;
	case LDAP_SYNC_CAPI_DELETE:
		entry_gone(lw, id, dn);
		break;
	default:
		break;
	}
	ldap_memfree(dn);
	return LDAP_SUCCESS;
}

/* The first octet of a syncInfoValue: which message it is (RFC 4533 2.5). */
static int
sync_info_tag(ldap_sync_t *ls, LDAPMessage *msg)
{
	char *oid = NULL;
	struct berval *data = NULL;
	int tag = -1;

	if (ldap_parse_intermediate(ls->ls_ld, msg, &oid, &data, NULL, 0) == LDAP_SUCCESS &&
	    data != NULL && data->bv_len > 0)
		tag = (unsigned char)data->bv_val[0];
	ldap_memfree(oid);
	ber_bvfree(data);
	return tag;
}

static int
on_intermediate(ldap_sync_t *ls, LDAPMessage *msg, BerVarray uuids, ldap_sync_refresh_t phase)
{
	struct ldap_watch *lw = ls->ls_private;
	char id[40];

	lw->messages++;
	if (lw->failed || !one_message(lw, ls, msg))
		return LDAP_SUCCESS;
	/* refreshPresent: the refresh was a present phase, deletions are not named. */
	if (sync_info_tag(ls, msg) == (int)LDAP_TAG_SYNC_REFRESH_PRESENT)
		lw->present = true;
	switch (phase) {
	case LDAP_SYNC_CAPI_PRESENTS_IDSET:
		lw->present = true;
		break;
	case LDAP_SYNC_CAPI_DELETES_IDSET:
		for (size_t i = 0; !lw->discard && uuids != NULL && uuids[i].bv_val != NULL; i++)
			if (uuid_text(&uuids[i], id, sizeof(id)))
				entry_gone(lw, id, NULL);
		break;
	default:
		break;
	}
	return LDAP_SUCCESS;
}

static int
on_result(ldap_sync_t *ls, LDAPMessage *msg, int refresh_deletes)
{
	struct ldap_watch *lw = ls->ls_private;

	(void)msg;
	lw->messages++;
	lw->ended = true;
	/* refreshOnly's end: refreshDeletes FALSE after a present phase. */
	if (refresh_deletes == 0)
		lw->present = true;
	return LDAP_SUCCESS;
}

/* ---- the sync search ------------------------------------------------------ */

/* Forget the search (the connection stays): free what ldap_sync_t holds. */
static void
ls_reset(struct ldap_watch *lw)
{
	if (lw->ls_set) {
		lw->ls.ls_ld = NULL; /* ours: ldap_sync_destroy() would unbind it */
		ldap_sync_destroy(&lw->ls, 0);
	}
	ldap_sync_initialize(&lw->ls);
	lw->ls_set = false;
	lw->running = false;
}

/* Drop the sync connection: the next poll reconnects and resumes from w->pos. */
static void
drop_sync(struct ldap_watch *lw)
{
	ls_reset(lw);
	dir_ldap_close(lw->sync);
	lw->sync = NULL;
}

static void
ls_setup(struct ldap_watch *lw, const char *cookie)
{
	size_t n = 0;

	ls_reset(lw);
	lw->ls.ls_base = ldap_strdup(lw->w->conf->base_dn);
	lw->ls.ls_scope = LDAP_SCOPE_SUBTREE;
	lw->ls.ls_filter = ldap_strdup(lw->filter);
	while (lw->attrs[n] != NULL)
		n++;
	lw->ls.ls_attrs = ldap_memcalloc(n + 1, sizeof(char *));
	if (lw->ls.ls_base == NULL || lw->ls.ls_filter == NULL || lw->ls.ls_attrs == NULL)
		fatal("out of memory");
	for (size_t i = 0; i < n; i++)
		if ((lw->ls.ls_attrs[i] = ldap_strdup(lw->attrs[i])) == NULL)
			fatal("out of memory");
	lw->ls.ls_timeout = 0;
	lw->ls.ls_search_entry = on_entry;
	lw->ls.ls_intermediate = on_intermediate;
	lw->ls.ls_search_result = on_result;
	lw->ls.ls_private = lw;
	lw->ls.ls_ld = lw->sync->ld;
	if (cookie != NULL && cookie[0] != '\0' &&
	    ber_str2bv(cookie, 0, 1, &lw->ls.ls_cookie) == NULL)
		fatal("out of memory");
	lw->ls_set = true;
}

/* The cookie the search stands at now (new), "" when the server gave none yet. */
static char *
current_cookie(const struct ldap_watch *lw)
{
	if (lw->ls.ls_cookie.bv_val == NULL)
		return xstrdup("");
	return xstrndup(lw->ls.ls_cookie.bv_val, lw->ls.ls_cookie.bv_len);
}

/* The CSN part of a cookie, for people (new), or NULL. */
static char *
cookie_csn(const char *cookie)
{
	const char *p = strstr(cookie, "csn=");

	if (p == NULL)
		return NULL;
	p += 4;
	return xstrndup(p, strcspn(p, ","));
}

static void
hand_out(struct ldap_watch *lw, const char *cookie)
{
	json_t *pos = json_object();
	char *csn = cookie_csn(cookie);

	json_object_set_new(pos, "cookie", json_string(cookie));
	dir_watch_set_position(lw->w, pos, lw->w->conf->uri, NULL, csn, 0);
	free(csn);
}

static enum dir_status
read_nc(struct ldap_watch *lw, char **nc, struct errbuf *e)
{
	char *attrs[] = { "namingContexts", NULL };
	LDAPMessage *res = NULL, *entry = NULL;
	struct berval **vals = NULL;
	char *base = dir_dn_normalize(lw->w->conf->base_dn);
	size_t best = 0;
	enum dir_status st;

	*nc = NULL;
	st = dir_ldap_read(lw->look, "", NULL, attrs, &res, &entry, e);
	if (st == DIR_OK && entry != NULL)
		vals = ldap_get_values_len(lw->look->ld, entry, "namingContexts");
	for (size_t i = 0; base != NULL && vals != NULL && vals[i] != NULL; i++) {
		char *v = xstrndup(vals[i]->bv_val, vals[i]->bv_len);
		char *norm = dir_dn_normalize(v);
		size_t nl = norm != NULL ? strlen(norm) : 0, bl = strlen(base);

		/* base_dn is the naming context, or below it. */
		if (nl > 0 && nl <= bl && strcmp(base + bl - nl, norm) == 0 &&
		    (nl == bl || base[bl - nl - 1] == ',') && nl > best) {
			best = nl;
			free(*nc);
			*nc = xstrdup(v);
		}
		free(norm);
		free(v);
	}
	ldap_value_free_len(vals);
	ldap_msgfree(res);
	free(base);
	return st;
}

/*
 * A cookie for "now" (new in *cookie), or NULL when the server shows no
 * contextCSN: the suffix's contextCSN values, as syncprov reports them.
 */
static enum dir_status
cookie_now(struct ldap_watch *lw, char **cookie, struct errbuf *e)
{
	char *attrs[] = { "contextCSN", NULL };
	LDAPMessage *res = NULL, *entry = NULL;
	struct berval **vals = NULL;
	char *nc = NULL;
	enum dir_status st;
	size_t n;

	*cookie = NULL;
	st = read_nc(lw, &nc, e);
	if (st != DIR_OK || nc == NULL)
		goto out;
	st = dir_ldap_read(lw->look, nc, NULL, attrs, &res, &entry, e);
	if (st != DIR_OK || entry == NULL)
		goto out;
	vals = ldap_get_values_len(lw->look->ld, entry, "contextCSN");
	n = (size_t)ldap_count_values_len(vals);
	if (n > 0 && n < 1000) {
		struct strset seen;
		char *acc = xstrdup("rid=000,csn=");

		strset_init(&seen);
		for (size_t i = 0; i < n; i++) {
			char *v = xstrndup(vals[i]->bv_val, vals[i]->bv_len);
			char *next;

			/* A CSN is printable and has no separator of the cookie's in it. */
			if (v[0] == '\0' || strpbrk(v, ",; ") != NULL || !strset_add(&seen, v)) {
				free(v);
				continue;
			}
			next = xasprintf("%s%s%s", acc, i > 0 && acc[strlen(acc) - 1] != '=' ?
			    ";" : "", v);
			free(acc);
			acc = next;
			free(v);
		}
		strset_free(&seen);
		if (acc[strlen(acc) - 1] != '=')
			*cookie = acc;
		else
			free(acc);
	}
out:
	if (st == DIR_OK && *cookie == NULL)
		log_info("%s change stream: %s shows no contextCSN under %s: the position is "
		    "taken with one refresh of the whole content instead", lw->w->label,
		    lw->w->conf->uri, nc != NULL ? nc : lw->w->conf->base_dn);
	ldap_value_free_len(vals);
	ldap_msgfree(res);
	free(nc);
	return st;
}

static bool
refused_mode(int rc)
{
	return rc == LDAP_UNWILLING_TO_PERFORM || rc == LDAP_UNAVAILABLE_CRITICAL_EXTENSION ||
	    rc == LDAP_PROTOCOL_ERROR || rc == LDAP_ADMINLIMIT_EXCEEDED || rc == LDAP_OTHER;
}

/* One ldap_sync_init() from cookie (NULL: none, the content is not changes). */
static int
run_sync(struct ldap_watch *lw, const char *cookie, bool persist)
{
	int rc;

	ls_setup(lw, cookie);
	lw->discard = cookie == NULL;
	lw->present = false;
	lw->ended = false;
	rc = persist ? ldap_sync_init_refresh_and_persist(&lw->ls) :
	    ldap_sync_init_refresh_only(&lw->ls);
	/* ldap_sync_init() reports failures through what its result callback saw. */
	if (rc == LDAP_SUCCESS && lw->failed)
		rc = LDAP_OTHER;
	return rc;
}

/* What the server said about the last search, for a message (new). */
static char *
server_said(struct ldap_watch *lw, int rc)
{
	char *diag = dir_ldap_diag(lw->sync != NULL ? lw->sync->ld : NULL);
	char *s = xasprintf("%s%s%s%s", ldap_err2string(rc), diag != NULL ? " (" : "",
	    diag != NULL ? diag : "", diag != NULL ? ")" : "");

	free(diag);
	return s;
}

/*
 * Start the sync search from w->pos, or from now. Changes the refresh
 * brings are reported; afterwards the position is handed out.
 */
static enum dir_status
start(struct ldap_watch *lw, struct errbuf *e)
{
	struct dir_watch *w = lw->w;
	char *cookie = NULL, *said = NULL;
	bool from_now = w->pos == NULL || w->full;
	enum dir_status st;
	int rc;

	st = connect_ldap(lw, NULL, &lw->look, e);
	if (st == DIR_OK)
		st = connect_ldap(lw, NULL, &lw->sync, e);
	if (st == DIR_OK)
		st = load_groups(lw, e);
	/* Before the search starts: whatever changes after is followed from these. */
	if (st == DIR_OK && lw->persist)
		st = lw->csn != NULL ? load_csns(lw, e) : load_members(lw, e);
	if (st != DIR_OK)
		return st;
	if (!from_now) {
		const char *c = json_string_value(json_object_get(w->pos, "cookie"));

		cookie = xstrdup(c != NULL ? c : "");
	} else if ((st = cookie_now(lw, &cookie, e)) != DIR_OK) {
		return st;
	}
	/* An empty cookie: the server had none to give; everything since is new. */
	rc = run_sync(lw, cookie, lw->persist);
	if (rc == LDAP_SUCCESS)
		goto done;
	said = server_said(lw, rc);
	if (rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR || rc == LDAP_TIMEOUT ||
	    rc == LDAP_UNAVAILABLE || rc == LDAP_BUSY || rc == LDAP_TIMELIMIT_EXCEEDED) {
		st = lw->failed ? lw->cb_status : dir_ldap_fail(lw->sync, rc, "sync search under",
		    w->conf->base_dn, NULL, e);
		if (lw->failed)
			err_set(e, "%s", lw->cb_err.text);
		goto out;
	}
	if (lw->failed) {
		st = lw->cb_status;
		err_set(e, "%s", lw->cb_err.text);
		goto out;
	}
	if (rc == LDAP_SYNC_REFRESH_REQUIRED) {
		dir_watch_full(w, DIR_FULL_REFRESH_REQUIRED, "%s answered e-syncRefreshRequired "
		    "(%s): the stored cookie is older than what its session log can replay",
		    w->conf->uri, said);
	} else if (lw->persist && refused_mode(rc) && run_sync(lw, cookie, false) == LDAP_SUCCESS) {
		/* refreshOnly takes the same cookie: it is the persistent search that is refused. */
		log_warn("%s change stream: %s refuses a persistent search (%s): asking every %lld s "
		    "instead (refreshOnly)", w->label, w->conf->uri, said,
		    (long long)w->conf->poll_interval);
		lw->persist = false;
		dir_watch_asked(w, &lw->next_due);
		goto done;
	} else if (cookie != NULL && cookie[0] != '\0' && !from_now) {
		dir_watch_full(w, DIR_FULL_COOKIE_REFUSED, "%s refused the stored sync cookie (%s)",
		    w->conf->uri, said);
	} else {
		st = dir_ldap_fail(lw->sync, rc, "sync search under", w->conf->base_dn, NULL, e);
		goto out;
	}
	/* A full read comes: a position from now, before it. */
	free(cookie);
	cookie = NULL;
	if ((st = cookie_now(lw, &cookie, e)) != DIR_OK)
		goto out;
	rc = run_sync(lw, cookie, lw->persist);
	if (rc != LDAP_SUCCESS) {
		st = lw->failed ? lw->cb_status : dir_ldap_fail(lw->sync, rc, "sync search under",
		    w->conf->base_dn, NULL, e);
		if (lw->failed)
			err_set(e, "%s", lw->cb_err.text);
		goto out;
	}
done:
	if (lw->present && !lw->discard && !w->full && cookie != NULL && cookie[0] != '\0')
		dir_watch_full(w, DIR_FULL_NO_DELETES, "%s replayed the changes since the stored "
		    "cookie through a present phase, which does not name deleted entries (its "
		    "syncprov session log does not reach back that far: raise "
		    "syncprov-sessionlog)", w->conf->uri);
	lw->running = lw->persist && !lw->ended;
	free(cookie);
	cookie = current_cookie(lw);
	hand_out(lw, cookie);
	st = DIR_OK;
out:
	free(cookie);
	free(said);
	if (st != DIR_OK)
		drop_sync(lw);
	return st;
}

/* Persist phase: wait for the first message, then take what follows at once. */
static enum dir_status
drain(struct ldap_watch *lw, int timeout_s, struct errbuf *e)
{
	size_t before;
	char *cookie = NULL;
	int rc;

	lw->ls.ls_timeout = timeout_s;
	for (;;) {
		before = lw->messages;
		rc = ldap_sync_poll(&lw->ls);
		if (lw->failed) {
			err_set(e, "%s", lw->cb_err.text);
			return lw->cb_status;
		}
		if (rc == LDAP_SYNC_REFRESH_REQUIRED) {
			enum dir_status st;

			dir_watch_full(lw->w, DIR_FULL_REFRESH_REQUIRED, "%s ended the persistent "
			    "search with e-syncRefreshRequired", lw->w->conf->uri);
			ls_reset(lw);
			/* The full read needs a position from before it: now. */
			if ((st = cookie_now(lw, &cookie, e)) != DIR_OK)
				return st;
			if (cookie == NULL) {
				/* No contextCSN: the next poll takes one with a refresh. */
				err_set(e, "%s change stream: %s asks for a full refresh and shows "
				    "no contextCSN to start again from", lw->w->label,
				    lw->w->conf->uri);
				return DIR_FAILED;
			}
			hand_out(lw, cookie);
			free(cookie);
			return DIR_OK; /* the next poll starts a search from this cookie */
		}
		if (rc < 0 || (rc != LDAP_SUCCESS && lw->messages == before)) {
			int code = LDAP_SERVER_DOWN;

			(void)ldap_get_option(lw->sync->ld, LDAP_OPT_RESULT_CODE, &code);
			return dir_ldap_fail(lw->sync, rc < 0 ? code : rc,
			    "wait for changes under", lw->w->conf->base_dn, NULL, e);
		}
		if (lw->ended) {
			/* The server ended the search: resume with a new one next time. */
			log_info("%s change stream: %s ended the persistent search (%s); it is "
			    "started again", lw->w->label, lw->w->conf->uri, ldap_err2string(rc));
			lw->running = false;
			break;
		}
		if (lw->messages == before || dir_watch_overflowing(lw->w))
			break;
		/* Something came: take what is already there without waiting, up to a batch. */
		lw->ls.ls_timeout = 0;
	}
	cookie = current_cookie(lw);
	hand_out(lw, cookie);
	free(cookie);
	return DIR_OK;
}

static enum dir_status
ldap_watch_poll(struct dir_watch *w, void *state, int timeout_s, struct errbuf *e)
{
	struct ldap_watch *lw = state;
	enum dir_status st;

	lw->failed = false;
	lw->cb_status = DIR_OK;
	strset_free(&lw->done);
	strset_init(&lw->done);
	if (w->rewind)
		drop_sync(lw);
	if (lw->running)
		return drain(lw, timeout_s, e);
	if (!lw->persist && lw->sync != NULL && w->pos != NULL && !w->full &&
	    !dir_watch_due(w, &lw->next_due, timeout_s)) {
		/* refreshOnly between two questions: nothing new. */
		dir_watch_set_position(w, json_incref(w->pos), w->info.server, NULL,
		    w->info.position, 0);
		return DIR_OK;
	}
	st = start(lw, e);
	if (st != DIR_OK && lw->look != NULL && st == DIR_UNREACHABLE) {
		/* The lookup connection may have died with the server: reconnect both next time. */
		dir_ldap_close(lw->look);
		lw->look = NULL;
		lw->groups_loaded = false;
	}
	if (!lw->persist)
		dir_watch_asked(w, &lw->next_due);
	return st;
}

static void
ldap_watch_close(void *state)
{
	struct ldap_watch *lw = state;

	if (lw == NULL)
		return;
	drop_sync(lw);
	dir_ldap_close(lw->look);
	for (size_t i = 0; lw->watched != NULL && i < lw->w->n_groups; i++)
		free(lw->watched[i]);
	free(lw->watched);
	free(lw->filter);
	strmap_free(&lw->groups);
	strset_free(&lw->group_dns);
	for (size_t i = 0; lw->members != NULL && i < lw->w->n_groups; i++)
		strset_free(&lw->members[i]);
	free(lw->members);
	free(lw->members_known);
	for (size_t i = 0; lw->csn != NULL && i < lw->w->n_groups; i++)
		free(lw->csn[i]);
	free(lw->csn);
	strset_free(&lw->done);
	free(lw);
}

/*
 * Does the server offer content synchronisation under base_dn? One
 * refreshOnly search of the base entry alone, without a cookie.
 */
static enum dir_status
probe(struct ldap_watch *lw, struct errbuf *e)
{
	ldap_sync_t ls;
	int rc;
	char *said = NULL;

	ldap_sync_initialize(&ls);
	ls.ls_base = ldap_strdup(lw->w->conf->base_dn);
	ls.ls_scope = LDAP_SCOPE_BASE;
	ls.ls_filter = ldap_strdup("(objectClass=*)");
	ls.ls_attrs = ldap_memcalloc(2, sizeof(char *));
	if (ls.ls_base == NULL || ls.ls_filter == NULL || ls.ls_attrs == NULL ||
	    (ls.ls_attrs[0] = ldap_strdup("1.1")) == NULL)
		fatal("out of memory");
	ls.ls_ld = lw->sync->ld;
	rc = ldap_sync_init_refresh_only(&ls);
	ls.ls_ld = NULL;
	ldap_sync_destroy(&ls, 0);
	if (rc == LDAP_SUCCESS)
		return DIR_OK;
	said = server_said(lw, rc);
	if (rc == LDAP_UNAVAILABLE_CRITICAL_EXTENSION || rc == LDAP_UNWILLING_TO_PERFORM ||
	    rc == LDAP_PROTOCOL_ERROR || rc == LDAP_INSUFFICIENT_ACCESS) {
		err_set(e, "%s: %s does not offer RFC 4533 content synchronisation under %s (%s); "
		    "load the syncprov overlay on that database, with a session log "
		    "(syncprov-sessionlog) and syncprov-reloadhint TRUE, and let %s read "
		    "entryUUID and entryCSN", lw->w->label, lw->w->conf->uri,
		    lw->w->conf->base_dn, said, lw->w->conf->bind_dn != NULL ?
		    lw->w->conf->bind_dn : "the service account");
		free(said);
		return DIR_UNSUPPORTED;
	}
	free(said);
	return dir_ldap_fail(lw->sync, rc, "sync search (probe) of", lw->w->conf->base_dn, NULL,
	    e);
}

static enum dir_status
ldap_watch_open(struct dir_watch *w, const char *bind_password, void **state,
    struct errbuf *e)
{
	struct ldap_watch *lw = xcalloc(1, sizeof(*lw));
	const struct conf_directory *c = w->conf;
	enum dir_status st;
	size_t k = 0;

	*state = NULL;
	lw->w = w;
	lw->persist = (w->flags & DIR_WATCH_NO_PERSIST) == 0;
	ldap_sync_initialize(&lw->ls);
	strmap_init(&lw->groups);
	strset_init(&lw->group_dns);
	strset_init(&lw->done);
	lw->watched = xcalloc(w->n_groups + 1, sizeof(*lw->watched));
	lw->members = xcalloc(w->n_groups + 1, sizeof(*lw->members));
	lw->members_known = xcalloc(w->n_groups + 1, sizeof(*lw->members_known));
	if (c->accesslog_base != NULL && c->accesslog_base[0] != '\0')
		lw->csn = xcalloc(w->n_groups + 1, sizeof(*lw->csn));
	for (size_t i = 0; i < w->n_groups; i++) {
		lw->watched[i] = dir_dn_normalize(w->groups[i]->group_dn);
		strset_init(&lw->members[i]);
	}
	lw->attrs[k++] = "objectClass";
	lw->attrs[k++] = "entryUUID";
	lw->attrs[k++] = c->mail_attribute;
	lw->attrs[k++] = "displayName";
	lw->attrs[k++] = "cn";
	lw->attrs[k++] = "givenName";
	lw->attrs[k++] = "sn";
	lw->attrs[k++] = "pwdAccountLockedTime";
	if (c->alt_mail_attribute != NULL)
		lw->attrs[k++] = c->alt_mail_attribute;
	/* Matched against the log's entries of a group change (accesslog_base). */
	if (lw->csn != NULL)
		lw->attrs[k++] = "entryCSN";
	lw->attrs[k] = NULL;
	st = connect_ldap(lw, bind_password, &lw->look, e);
	if (st == DIR_OK)
		st = connect_ldap(lw, bind_password, &lw->sync, e);
	if (st == DIR_OK) {
		lw->filter = xasprintf("(|" GROUP_CLASSES "%s)", lw->sync->user_filter);
		st = probe(lw, e);
	}
	if (st != DIR_OK) {
		ldap_watch_close(lw);
		return st;
	}
	*state = lw;
	return DIR_OK;
}

static enum dir_stream_kind
ldap_watch_kind(const struct conf_directory *conf)
{
	(void)conf;
	return DIR_STREAM_SYNCREPL;
}

const struct dir_watch_ops dir_ldap_watch_ops = {
	.kind = ldap_watch_kind,
	.open = ldap_watch_open,
	.poll = ldap_watch_poll,
	.close = ldap_watch_close,
};
