/* SPDX-License-Identifier: ISC */
/*
 * The Active Directory change stream (type = ad), asked every
 * poll_interval, in one of two ways (ad_changes):
 *
 *   usn      uSNChanged polling of the one domain controller in uri, as
 *            Microsoft documents it ("Polling for Changes Using
 *            uSNChanged"): the DC's highestCommittedUSN H is read first,
 *            then the groups and people whose uSNChanged lies in
 *            (stored, H] are searched from the root of the naming context
 *            that holds base_dn (a nested group may live anywhere in it),
 *            and the position becomes H. uSNChanged counts per DC and is
 *            not replicated: the position names the DC (dnsHostName) and
 *            its database (the invocationId of its NTDS Settings object,
 *            dsServiceName): another DC, or the same one restored from
 *            backup (a new invocationId), means a full read.
 *   dirsync  the DirSync control (1.2.840.113556.1.4.841) on the naming
 *            context, with incremental values, from the cookie the last
 *            answer gave, until the server says there is no more. It needs
 *            the Replicating Directory Changes right: without it the watch
 *            does not start, naming the right. DirSync hands out changed
 *            values only, so each changed object is read whole by its GUID.
 *
 * Deletions, in both ways, come from the Deleted Objects container of the
 * naming context, read with the show-deleted control
 * (1.2.840.113556.1.4.417) for tombstones whose uSNChanged lies in the
 * same window (Samba's DirSync does not return tombstones). A domain lets
 * only administrators list that container unless its ACL is extended; the
 * watch says so once when it sees no tombstone at all.
 *
 * What the stream says, as directory.h's changes:
 *   - a person (user_filter) under base_dn changed: PERSON (ad_person.c);
 *     a changed person outside base_dn (moved away): GONE;
 *   - a group changed: GROUPS for every watched group it is or is nested
 *     in, from the nested groups of each watched group (in-chain search,
 *     refreshed after every round in which a group changed);
 *   - a changed person whose primaryGroupID is the RID of a watched group
 *     or of one nested in it (a new hire whose primary group is Domain
 *     Users, for a [group] of Domain Users): GROUPS for that group;
 *   - a deleted person: GONE (objectGUID); a deleted group: GROUPS for the
 *     watched groups it was, or was nested in.
 * Not seen until the next full read: someone leaving a watched group by
 * changing their primaryGroupID away from it (rare: the primary group is
 * almost always Domain Users), and deletions where Deleted Objects cannot
 * be listed.
 */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ldap.h>

#include "common/buf.h"
#include "common/fileutil.h"
#include "common/log.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "directory/backend.h"
#include "directory/ldap.h"

#define IN_CHAIN_RULE DIR_AD_IN_CHAIN_RULE
#define SHOW_DELETED_OID "1.2.840.113556.1.4.417"
/* The well-known GUID of the Deleted Objects container (MS-ADTS 6.1.1.4). */
#define WKGUID_DELETED "18e2ea80684f11d2b9aa00c04f79f805"
/* Rounds of DirSync answers one poll follows before it gives up. */
#define MAX_DIRSYNC_ROUNDS 10000

/* What a watched group covers: itself and the groups nested in it. */
struct covered {
	char *dn;             /* the group's DN as the server spells it, NULL: not found */
	struct strset guids;  /* objectGUIDs of the group and every nested group */
	int64_t *rids;        /* their RIDs (primaryGroupToken), for primaryGroupID */
	size_t n_rids;
};

struct ad_watch {
	struct dir_watch *w;       /* borrowed */
	struct dir_ldap *dl;       /* the watch's own connection (new), NULL when lost */
	bool dirsync;
	double next_due;
	char *nc;                  /* naming context holding base_dn (new) */
	char *deleted_dn;          /* its Deleted Objects container (new) */
	bool told_deleted;         /* the "no tombstone visible" warning was given */
	struct covered *cov;       /* per watched group */
	bool cov_loaded;
	char *either_filter;       /* groups or people (user_filter), new */
	char *attrs[16];
	/*
	 * What DirSync is asked for: an object comes back only when one of
	 * these changed (the person attributes, member, and name and
	 * parentGUID for renames and moves).
	 */
	char *dirsync_attrs[20];
};

/* ---- small helpers ---------------------------------------------------------- */

static void
covered_free(struct covered *c)
{
	free(c->dn);
	strset_free(&c->guids);
	free(c->rids);
	memset(c, 0, sizeof(*c));
}

/* The RID of a binary SID (its last sub-authority), or -1. */
static int64_t
sid_rid(const struct berval *v)
{
	const unsigned char *p = (const unsigned char *)v->bv_val;
	size_t n;

	if (v->bv_len < 8 || p[0] != 1)
		return -1;
	n = p[1];
	if (n == 0 || v->bv_len != 8 + 4 * n)
		return -1;
	p += 8 + 4 * (n - 1);
	return (int64_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24);
}

/* objectGUID of an entry as a string (new), or NULL. */
static char *
entry_guid(LDAP *ld, LDAPMessage *entry)
{
	struct berval **vals = ldap_get_values_len(ld, entry, "objectGUID");
	char *s = NULL;

	if (vals != NULL && vals[0] != NULL)
		s = dir_ad_guid_string((const unsigned char *)vals[0]->bv_val, vals[0]->bv_len);
	ldap_value_free_len(vals);
	return s;
}

/* First value of a text attribute of entry (new), or NULL. */
static char *
entry_text(LDAP *ld, LDAPMessage *entry, const char *attr)
{
	struct berval **vals = ldap_get_values_len(ld, entry, attr);
	char *s = NULL;

	if (vals != NULL && vals[0] != NULL && vals[0]->bv_len < 4096)
		s = xstrndup(vals[0]->bv_val, vals[0]->bv_len);
	ldap_value_free_len(vals);
	return s;
}

static bool
dn_under(const char *dn, const char *base)
{
	char *d = dir_dn_normalize(dn), *b = dir_dn_normalize(base);
	bool under = false;

	if (d != NULL && b != NULL) {
		size_t dl = strlen(d), bl = strlen(b);

		under = dl >= bl && strcmp(d + dl - bl, b) == 0 && (dl == bl || d[dl - bl - 1] == ',');
	}
	free(d);
	free(b);
	return under;
}

static enum dir_status
ensure_conn(struct ad_watch *aw, const char *password, struct errbuf *e)
{
	char *pw = NULL;
	enum dir_status st;

	if (aw->dl != NULL)
		return DIR_OK;
	if (password == NULL && dir_watch_password(aw->w, &pw, e) != 0)
		return DIR_BAD_CONFIG;
	st = dir_ldap_connect(aw->w->conf, password != NULL ? password : pw, &dir_ad_dialect,
	    &aw->dl, e);
	secret_free_str(pw);
	if (st != DIR_OK)
		err_prefix(e, "%s change stream", aw->w->label);
	return st;
}

static void
drop_conn(struct ad_watch *aw)
{
	dir_ldap_close(aw->dl);
	aw->dl = NULL;
}

/* ---- the DC: who answers, and how far its USNs go --------------------------- */

struct dc_state {
	char *host;          /* dnsHostName */
	char *invocation_id; /* of its NTDS Settings object */
	int64_t usn;         /* highestCommittedUSN */
};

static void
dc_state_clear(struct dc_state *d)
{
	free(d->host);
	free(d->invocation_id);
	memset(d, 0, sizeof(*d));
}

static enum dir_status
read_dc(struct ad_watch *aw, struct dc_state *out, struct errbuf *e)
{
	char *attrs[] = { "dnsHostName", "highestCommittedUSN", "dsServiceName",
	    "namingContexts", NULL };
	char *inv_attrs[] = { "invocationId", NULL };
	LDAPMessage *res = NULL, *entry = NULL, *res2 = NULL, *entry2 = NULL;
	struct berval **vals = NULL;
	char *service = NULL;
	enum dir_status st;

	memset(out, 0, sizeof(*out));
	st = dir_ldap_read(aw->dl, "", NULL, attrs, &res, &entry, e);
	if (st != DIR_OK)
		goto out;
	if (entry == NULL || !dir_ad_get_int(aw->dl->ld, entry, "highestCommittedUSN", &out->usn) ||
	    (out->host = entry_text(aw->dl->ld, entry, "dnsHostName")) == NULL ||
	    (service = entry_text(aw->dl->ld, entry, "dsServiceName")) == NULL) {
		err_set(e, "%s change stream: %s does not show dnsHostName, highestCommittedUSN "
		    "and dsServiceName in its root DSE: is it an Active Directory domain "
		    "controller?", aw->w->label, aw->w->conf->uri);
		st = DIR_UNSUPPORTED;
		goto out;
	}
	if (aw->nc == NULL) {
		size_t best = 0;

		vals = ldap_get_values_len(aw->dl->ld, entry, "namingContexts");
		for (size_t i = 0; vals != NULL && vals[i] != NULL; i++) {
			char *v = xstrndup(vals[i]->bv_val, vals[i]->bv_len);

			if (dn_under(aw->w->conf->base_dn, v) && strlen(v) > best) {
				best = strlen(v);
				free(aw->nc);
				aw->nc = xstrdup(v);
			}
			free(v);
		}
		if (aw->nc == NULL)
			aw->nc = xstrdup(aw->w->conf->base_dn);
	}
	st = dir_ldap_read(aw->dl, service, NULL, inv_attrs, &res2, &entry2, e);
	if (st != DIR_OK)
		goto out;
	if (entry2 != NULL) {
		ldap_value_free_len(vals);
		vals = ldap_get_values_len(aw->dl->ld, entry2, "invocationId");
		if (vals != NULL && vals[0] != NULL)
			out->invocation_id = dir_ad_guid_string((const unsigned char *)vals[0]->bv_val,
			    vals[0]->bv_len);
	}
	if (out->invocation_id == NULL) {
		err_set(e, "%s change stream: cannot read the invocationId of %s (%s), which tells "
		    "a restored domain controller from the one we followed; let the service "
		    "account read it", aw->w->label, service, aw->w->conf->uri);
		st = DIR_UNSUPPORTED;
	}
out:
	if (st != DIR_OK)
		dc_state_clear(out);
	ldap_value_free_len(vals);
	ldap_msgfree(res);
	ldap_msgfree(res2);
	free(service);
	return st;
}

/* ---- what each watched group covers ----------------------------------------- */

struct cov_scan {
	struct covered *c;
	size_t cap;
};

static void
cov_add(struct cov_scan *s, LDAP *ld, LDAPMessage *entry)
{
	char *guid = entry_guid(ld, entry);
	struct berval **sid = ldap_get_values_len(ld, entry, "objectSid");

	if (guid != NULL)
		(void)strset_add(&s->c->guids, guid);
	if (sid != NULL && sid[0] != NULL && sid_rid(sid[0]) > 0) {
		if (s->c->n_rids == s->cap) {
			s->cap = s->cap == 0 ? 8 : s->cap * 2;
			s->c->rids = xreallocarray(s->c->rids, s->cap, sizeof(*s->c->rids));
		}
		s->c->rids[s->c->n_rids++] = sid_rid(sid[0]);
	}
	ldap_value_free_len(sid);
	free(guid);
}

static enum dir_status
cov_entry(struct dir_ldap *dl, LDAPMessage *entry, void *arg, struct errbuf *e)
{
	(void)e;
	cov_add(arg, dl->ld, entry);
	return DIR_OK;
}

/* The group a [group] names, by DN or by sAMAccountName (*res new, *entry in it or NULL). */
static enum dir_status
resolve_group(struct ad_watch *aw, const char *ref, LDAPMessage **res, LDAPMessage **entry,
    struct errbuf *e)
{
	char *attrs[] = { "objectGUID", "objectSid", NULL };
	struct timeval tv = { aw->dl->timeout, 0 };
	char *esc = NULL, *filter = NULL;
	enum dir_status st = DIR_OK;
	int rc;

	*res = NULL;
	*entry = NULL;
	if (strchr(ref, '=') != NULL)
		return dir_ldap_read(aw->dl, ref, "(objectClass=group)", attrs, res, entry, e);
	esc = dir_filter_escape(ref, strlen(ref));
	filter = xasprintf("(&(objectClass=group)(sAMAccountName=%s))", esc);
	rc = ldap_search_ext_s(aw->dl->ld, aw->dl->base_dn, LDAP_SCOPE_SUBTREE, filter, attrs, 0,
	    NULL, NULL, &tv, 2, res);
	if (rc == LDAP_SUCCESS || rc == LDAP_SIZELIMIT_EXCEEDED)
		*entry = ldap_count_entries(aw->dl->ld, *res) == 1 ?
		    ldap_first_entry(aw->dl->ld, *res) : NULL;
	else
		st = dir_ldap_fail(aw->dl, rc, "find the group", ref, NULL, e);
	free(esc);
	free(filter);
	return st;
}

/*
 * For every watched group: its DN, and the GUIDs and RIDs of it and of the
 * groups nested in it (in-chain search).
 */
static enum dir_status
load_covered(struct ad_watch *aw, struct errbuf *e)
{
	char *attrs[] = { "objectGUID", "objectSid", NULL };
	enum dir_status st = DIR_OK;

	for (size_t i = 0; i < aw->w->n_groups && st == DIR_OK; i++) {
		struct covered *c = &aw->cov[i];
		struct cov_scan s = { c, 0 };
		LDAPMessage *res = NULL, *entry = NULL;
		char *dn = NULL, *esc = NULL, *filter = NULL;

		covered_free(c);
		strset_init(&c->guids);
		st = resolve_group(aw, aw->w->groups[i]->group_dn, &res, &entry, e);
		if (st == DIR_OK && entry != NULL && (dn = ldap_get_dn(aw->dl->ld, entry)) != NULL) {
			c->dn = xstrdup(dn);
			cov_add(&s, aw->dl->ld, entry);
			esc = dir_filter_escape(dn, strlen(dn));
			filter = xasprintf("(&(objectClass=group)(memberOf:" IN_CHAIN_RULE ":=%s))",
			    esc);
			st = dir_ldap_scan_in(aw->dl, aw->nc, LDAP_SCOPE_SUBTREE, filter, attrs, NULL,
			    cov_entry, &s, e);
		} else if (st == DIR_OK) {
			log_warn("%s change stream: [group %s] names no group (%s): its changes are "
			    "not followed", aw->w->label, aw->w->groups[i]->name,
			    aw->w->groups[i]->group_dn);
		}
		ldap_memfree(dn);
		ldap_msgfree(res);
		free(esc);
		free(filter);
	}
	aw->cov_loaded = st == DIR_OK;
	return st;
}

/* ---- one round's findings ---------------------------------------------------- */

struct round {
	struct ad_watch *aw;
	bool group_changed;
	size_t n_seen;
};

static void
name_group_guid(struct ad_watch *aw, const char *guid, const char *dn)
{
	for (size_t i = 0; i < aw->w->n_groups; i++)
		if (strset_has(&aw->cov[i].guids, guid))
			dir_watch_group(aw->w, i, dn);
}

static void
name_primary(struct ad_watch *aw, int64_t rid, const char *dn)
{
	for (size_t i = 0; i < aw->w->n_groups; i++)
		for (size_t k = 0; k < aw->cov[i].n_rids; k++)
			if (aw->cov[i].rids[k] == rid)
				dir_watch_group(aw->w, i, dn);
}

/* One changed object, read whole: a group or a person (or neither). */
static void
take_object(struct round *r, LDAP *ld, LDAPMessage *entry)
{
	struct ad_watch *aw = r->aw;
	char *dn = ldap_get_dn(ld, entry), *guid = entry_guid(ld, entry);
	int64_t pgid = 0;

	r->n_seen++;
	if (dn == NULL || guid == NULL)
		goto out;
	if (dir_entry_has_class(ld, entry, "group")) {
		r->group_changed = true;
		name_group_guid(aw, guid, dn);
		goto out;
	}
	if (!dir_entry_has_class(ld, entry, "user") || dir_entry_has_class(ld, entry, "computer"))
		goto out;
	if (!dn_under(dn, aw->w->conf->base_dn)) {
		/* Moved out of base_dn, or never in it: not one of ours (any more). */
		dir_watch_gone(aw->w, guid, dn);
		goto out;
	}
	if (dir_ad_get_int(ld, entry, "primaryGroupID", &pgid))
		name_primary(aw, pgid, dn);
	{
		struct user_list l = { NULL, 0, 0 };

		dir_ad_add_person(aw->dl, entry, dn, &l);
		if (l.n == 1)
			dir_watch_person(aw->w, &l.v[0], NULL);
		user_list_free(&l);
	}
out:
	ldap_memfree(dn);
	free(guid);
}

static enum dir_status
changed_entry(struct dir_ldap *dl, LDAPMessage *entry, void *arg, struct errbuf *e)
{
	(void)e;
	take_object(arg, dl->ld, entry);
	return DIR_OK;
}

static enum dir_status
deleted_entry(struct dir_ldap *dl, LDAPMessage *entry, void *arg, struct errbuf *e)
{
	struct round *r = arg;
	char *guid = entry_guid(dl->ld, entry), *dn = ldap_get_dn(dl->ld, entry);

	(void)e;
	r->n_seen++;
	if (guid != NULL) {
		if (dir_entry_has_class(dl->ld, entry, "group")) {
			r->group_changed = true;
			name_group_guid(r->aw, guid, dn);
		} else if (dir_entry_has_class(dl->ld, entry, "user")) {
			dir_watch_gone(r->aw->w, guid, NULL);
		}
	}
	free(guid);
	ldap_memfree(dn);
	return DIR_OK;
}

static enum dir_status
count_entry(struct dir_ldap *dl, LDAPMessage *entry, void *arg, struct errbuf *e)
{
	(void)dl;
	(void)entry;
	(void)e;
	(*(size_t *)arg)++;
	return DIR_OK;
}

/* Tombstones with uSNChanged in (from, to]. */
static enum dir_status
read_deleted(struct ad_watch *aw, struct round *r, int64_t from, int64_t to, struct errbuf *e)
{
	char *attrs[] = { "objectGUID", "objectClass", NULL };
	LDAPControl show = { SHOW_DELETED_OID, { 0, NULL }, 1 };
	size_t before = r->n_seen;
	char *filter = xasprintf("(&(isDeleted=TRUE)(|(objectClass=user)(objectClass=group))"
	    "(uSNChanged>=%" PRId64 ")(!(uSNChanged>=%" PRId64 ")))", from + 1, to + 1);
	enum dir_status st;

	st = dir_ldap_scan_in(aw->dl, aw->deleted_dn, LDAP_SCOPE_ONELEVEL, filter, attrs, &show,
	    deleted_entry, r, e);
	free(filter);
	if (st == DIR_OK && r->n_seen == before && !aw->told_deleted) {
		char probe[] = "(isDeleted=TRUE)";
		size_t visible = 0;
		struct errbuf e2;

		/* Any tombstone at all? None visible: likely not allowed to see them. */
		err_clear(&e2);
		if (dir_ldap_scan_in(aw->dl, aw->deleted_dn, LDAP_SCOPE_ONELEVEL, probe, attrs,
		    &show, count_entry, &visible, &e2) == DIR_OK && visible == 0)
			log_warn("%s change stream: no deleted object is visible in %s: either none "
			    "exists yet or the service account may not list it; deleted people are "
			    "then noticed at the next full read only (see CHANGE STREAMS in "
			    "smimesync.conf(5) for the right to grant)", aw->w->label,
			    aw->deleted_dn);
		aw->told_deleted = true;
	}
	return st;
}

/* ---- DirSync ------------------------------------------------------------------ */

/* Hex text to bytes (*out new); -1 when hex is not an even run of hex digits. */
static int
unhex(const char *hex, unsigned char **out, size_t *len)
{
	size_t n = strlen(hex);

	*out = NULL;
	*len = 0;
	if (n % 2 != 0 || strspn(hex, "0123456789abcdefABCDEF") != n)
		return -1;
	*out = xmalloc(n / 2 + 1);
	for (size_t i = 0; i < n / 2; i++) {
		char b[3] = { hex[2 * i], hex[2 * i + 1], '\0' };

		(*out)[i] = (unsigned char)strtoul(b, NULL, 16);
	}
	*len = n / 2;
	return 0;
}

/*
 * One DirSync pass from cookie (hex, NULL or "" for none): the GUIDs of
 * what changed into guids (NULL: answers ignored, only the cookie wanted),
 * the new cookie in *next (new, hex). filter is the DirSync filter.
 * *refused: the server could not read the cookie.
 */
static enum dir_status
dirsync_pass(struct ad_watch *aw, const char *cookie, const char *filter, struct strset *guids,
    char **next, bool *refused, struct errbuf *e)
{
	struct timeval tv = { aw->dl->timeout, 0 };
	struct berval cur = { 0, NULL };
	enum dir_status st = DIR_OK;
	unsigned char *raw = NULL;
	size_t raw_len = 0;
	int more = 1;

	*next = NULL;
	*refused = false;
	if (cookie != NULL && cookie[0] != '\0') {
		if (unhex(cookie, &raw, &raw_len) != 0) {
			*refused = true;
			err_set(e, "the stored DirSync cookie is not hex");
			return DIR_FAILED;
		}
		cur.bv_val = (char *)raw;
		cur.bv_len = raw_len;
	}
	for (int round = 0; more && st == DIR_OK && round < MAX_DIRSYNC_ROUNDS; round++) {
		LDAPControl *ctrl = NULL, *sctrls[2] = { NULL, NULL }, **rctrls = NULL, *resp;
		LDAPMessage *res = NULL, *entry;
		struct berval got = { 0, NULL };
		int rc, err = LDAP_SUCCESS;

		rc = ldap_create_dirsync_control(aw->dl->ld,
		    (int)LDAP_CONTROL_X_DIRSYNC_INCREMENTAL_VALUES, 0, &cur, &ctrl);
		if (rc != LDAP_SUCCESS) {
			st = dir_ldap_fail(aw->dl, rc, "build the DirSync control for", aw->nc, NULL,
			    e);
			break;
		}
		sctrls[0] = ctrl;
		rc = ldap_search_ext_s(aw->dl->ld, aw->nc, LDAP_SCOPE_SUBTREE, filter,
		    aw->dirsync_attrs, 0, sctrls, NULL, &tv, LDAP_NO_LIMIT, &res);
		ldap_control_free(ctrl);
		if (rc == LDAP_SUCCESS)
			rc = ldap_parse_result(aw->dl->ld, res, &err, NULL, NULL, NULL, &rctrls, 0);
		if (rc == LDAP_SUCCESS)
			rc = err;
		if (rc != LDAP_SUCCESS) {
			ldap_msgfree(res);
			ldap_controls_free(rctrls);
			st = rc == LDAP_INSUFFICIENT_ACCESS ? DIR_UNSUPPORTED :
			    dir_ldap_fail(aw->dl, rc, "DirSync search of", aw->nc, NULL, e);
			if (st == DIR_UNSUPPORTED) {
				char *diag = dir_ldap_diag(aw->dl->ld);

				err_set(e, "%s change stream: %s refuses DirSync to %s (%s%s%s): "
				    "ad_changes = dirsync needs the \"Replicating Directory Changes\" "
				    "right (extended right 1131f6aa-9c07-11d1-f79f-00c04fc2dcd2) on %s; "
				    "grant it, or use ad_changes = usn", aw->w->label, aw->w->conf->uri,
				    aw->w->conf->bind_dn != NULL ? aw->w->conf->bind_dn :
				    "the service account", ldap_err2string(rc), diag != NULL ? ": " : "",
				    diag != NULL ? diag : "", aw->nc);
				free(diag);
			}
			/* A cookie the server cannot read (Samba: unavailableCriticalExtension). */
			*refused = cur.bv_len > 0 && (rc == LDAP_UNAVAILABLE_CRITICAL_EXTENSION ||
			    rc == LDAP_PROTOCOL_ERROR || rc == LDAP_UNWILLING_TO_PERFORM);
			break;
		}
		for (entry = ldap_first_entry(aw->dl->ld, res); guids != NULL && entry != NULL;
		    entry = ldap_next_entry(aw->dl->ld, entry)) {
			char *g = entry_guid(aw->dl->ld, entry);

			if (g != NULL)
				(void)strset_add(guids, g);
			free(g);
		}
		resp = ldap_control_find(LDAP_CONTROL_X_DIRSYNC, rctrls, NULL);
		if (resp == NULL ||
		    ldap_parse_dirsync_control(aw->dl->ld, resp, &more, &got) != LDAP_SUCCESS) {
			st = dir_ldap_fail(aw->dl, LDAP_CONTROL_NOT_FOUND, "read the DirSync answer "
			    "of", aw->nc, NULL, e);
		} else {
			free(raw);
			raw = xmemdup(got.bv_val, got.bv_len);
			raw_len = got.bv_len;
			cur.bv_val = (char *)raw;
			cur.bv_len = raw_len;
			ber_memfree(got.bv_val);
		}
		ldap_controls_free(rctrls);
		ldap_msgfree(res);
	}
	if (st == DIR_OK)
		*next = hex_encode(raw, raw_len);
	free(raw);
	return st;
}

/* Read each changed object by GUID and take it as take_object() does. */
static enum dir_status
read_guids(struct ad_watch *aw, struct round *r, const struct strset *guids, struct errbuf *e)
{
	enum dir_status st = DIR_OK;

	for (size_t i = 0; i < guids->cap && st == DIR_OK; i++) {
		LDAPMessage *res = NULL, *entry = NULL;
		char *dn;

		if (guids->slots[i] == NULL)
			continue;
		dn = xasprintf("<GUID=%s>", guids->slots[i]);
		st = dir_ldap_read(aw->dl, dn, aw->either_filter, aw->attrs, &res, &entry, e);
		if (st == DIR_OK && entry != NULL)
			take_object(r, aw->dl->ld, entry);
		else if (st == DIR_OK)
			/* Gone since, or neither group nor person: a watched group's is named. */
			name_group_guid(aw, guids->slots[i], NULL);
		ldap_msgfree(res);
		free(dn);
	}
	return st;
}

/* ---- a round ------------------------------------------------------------------- */

static void
hand_out(struct ad_watch *aw, const struct dc_state *dc, const char *cookie)
{
	json_t *pos = json_object();
	char usn[32];

	json_object_set_new(pos, "dc", json_string(dc->host));
	json_object_set_new(pos, "invocation_id", json_string(dc->invocation_id));
	json_object_set_new(pos, "usn", json_integer(dc->usn));
	if (cookie != NULL)
		json_object_set_new(pos, "cookie", json_string(cookie));
	snprintf(usn, sizeof(usn), "%" PRId64, dc->usn);
	dir_watch_set_position(aw->w, pos, dc->host, dc->invocation_id, usn, 0);
}

/* A position from now, for a full read: for DirSync a cookie with nothing in it. */
static enum dir_status
from_now(struct ad_watch *aw, const struct dc_state *dc, struct errbuf *e)
{
	char *cookie = NULL;
	enum dir_status st = DIR_OK;
	bool refused = false;

	if (aw->dirsync)
		st = dirsync_pass(aw, NULL, "(&(objectClass=group)(!(objectClass=group)))", NULL,
		    &cookie, &refused, e);
	if (st == DIR_OK)
		hand_out(aw, dc, cookie);
	free(cookie);
	return st;
}

static enum dir_status
round_usn(struct ad_watch *aw, struct round *r, int64_t from, const struct dc_state *dc,
    struct errbuf *e)
{
	char *filter = xasprintf("(&(|(objectClass=group)%s)(uSNChanged>=%" PRId64 ")"
	    "(!(uSNChanged>=%" PRId64 ")))", aw->dl->user_filter, from + 1, dc->usn + 1);
	enum dir_status st;

	st = dir_ldap_scan_in(aw->dl, aw->nc, LDAP_SCOPE_SUBTREE, filter, aw->attrs, NULL,
	    changed_entry, r, e);
	free(filter);
	return st;
}

static enum dir_status
ad_watch_poll(struct dir_watch *w, void *state, int timeout_s, struct errbuf *e)
{
	struct ad_watch *aw = state;
	struct dc_state dc;
	struct round r = { aw, false, 0 };
	enum dir_status st;
	const char *stored_dc, *stored_inv, *stored_cookie;
	int64_t stored_usn;
	char *cookie = NULL;

	memset(&dc, 0, sizeof(dc));
	if (w->pos != NULL && !w->full && !w->rewind && aw->dl != NULL &&
	    !dir_watch_due(w, &aw->next_due, timeout_s)) {
		dir_watch_set_position(w, json_incref(w->pos), w->info.server, w->info.server_id,
		    w->info.position, 0);
		return DIR_OK;
	}
	dir_watch_asked(w, &aw->next_due);
	if ((st = ensure_conn(aw, NULL, e)) != DIR_OK || (st = read_dc(aw, &dc, e)) != DIR_OK)
		goto out;
	if (!aw->cov_loaded && (st = load_covered(aw, e)) != DIR_OK)
		goto out;
	if (w->pos == NULL || w->full) {
		st = from_now(aw, &dc, e);
		goto out;
	}
	stored_dc = json_string_value(json_object_get(w->pos, "dc"));
	stored_inv = json_string_value(json_object_get(w->pos, "invocation_id"));
	stored_usn = (int64_t)json_integer_value(json_object_get(w->pos, "usn"));
	stored_cookie = json_string_value(json_object_get(w->pos, "cookie"));
	if (stored_dc == NULL || strcasecmp(stored_dc, dc.host) != 0) {
		dir_watch_full(w, DIR_FULL_DC_CHANGED, "%s is answered by %s now, the stored "
		    "position is %s's: uSNChanged counts per domain controller", w->conf->uri,
		    dc.host, stored_dc != NULL ? stored_dc : "(none)");
		st = from_now(aw, &dc, e);
		goto out;
	}
	if (stored_inv == NULL || strcasecmp(stored_inv, dc.invocation_id) != 0) {
		dir_watch_full(w, DIR_FULL_DC_RESTORED, "%s has the invocationId %s, the stored "
		    "position was taken under %s: the domain controller was restored from backup "
		    "(or its database replaced), and changes since then may be missing",
		    dc.host, dc.invocation_id, stored_inv != NULL ? stored_inv : "(none)");
		st = from_now(aw, &dc, e);
		goto out;
	}
	if (stored_usn > dc.usn) {
		dir_watch_full(w, DIR_FULL_COOKIE_REFUSED, "%s's highestCommittedUSN %" PRId64
		    " is below the stored position %" PRId64, dc.host, dc.usn, stored_usn);
		st = from_now(aw, &dc, e);
		goto out;
	}
	if (aw->dirsync) {
		struct strset guids;
		bool refused = false;

		strset_init(&guids);
		st = dirsync_pass(aw, stored_cookie != NULL ? stored_cookie : "",
		    "(|(objectClass=group)(objectClass=user))", &guids, &cookie, &refused, e);
		if (st != DIR_OK && refused) {
			strset_free(&guids);
			dir_watch_full(w, DIR_FULL_COOKIE_REFUSED, "%s refused the stored DirSync "
			    "cookie (%s)", dc.host, e->text);
			st = from_now(aw, &dc, e);
			goto out;
		}
		if (st == DIR_OK && guids.n > DIR_WATCH_MAX_CHANGES)
			dir_watch_full(w, DIR_FULL_TOO_MANY, "DirSync names %zu changed objects",
			    guids.n);
		else if (st == DIR_OK)
			st = read_guids(aw, &r, &guids, e);
		strset_free(&guids);
	} else if (dc.usn > stored_usn) {
		st = round_usn(aw, &r, stored_usn, &dc, e);
	}
	if (st == DIR_OK && dc.usn > stored_usn && aw->deleted_dn != NULL)
		st = read_deleted(aw, &r, stored_usn, dc.usn, e);
	if (st == DIR_OK && r.group_changed)
		st = load_covered(aw, e);
	if (st == DIR_OK)
		hand_out(aw, &dc, aw->dirsync ? cookie : NULL);
out:
	if (st == DIR_UNREACHABLE)
		drop_conn(aw);
	dc_state_clear(&dc);
	free(cookie);
	return st;
}

/* ---- open, close ---------------------------------------------------------------- */

static void
ad_watch_close(void *state)
{
	struct ad_watch *aw = state;

	if (aw == NULL)
		return;
	drop_conn(aw);
	for (size_t i = 0; aw->cov != NULL && i < aw->w->n_groups; i++)
		covered_free(&aw->cov[i]);
	free(aw->cov);
	free(aw->nc);
	free(aw->deleted_dn);
	free(aw->either_filter);
	free(aw);
}

/* The Deleted Objects container (a tombstone itself: read with show-deleted). */
static enum dir_status
find_deleted(struct ad_watch *aw, struct errbuf *e)
{
	char *attrs[] = { "1.1", NULL };
	char *dn = xasprintf("<WKGUID=" WKGUID_DELETED ",%s>", aw->nc);
	LDAPControl show = { SHOW_DELETED_OID, { 0, NULL }, 1 };
	LDAPControl *sctrls[] = { &show, NULL };
	struct timeval tv = { aw->dl->timeout, 0 };
	LDAPMessage *res = NULL, *entry;
	enum dir_status st = DIR_OK;
	char *got = NULL;
	int rc;

	rc = ldap_search_ext_s(aw->dl->ld, dn, LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 0,
	    sctrls, NULL, &tv, 1, &res);
	entry = rc == LDAP_SUCCESS ? ldap_first_entry(aw->dl->ld, res) : NULL;
	if (entry != NULL && (got = ldap_get_dn(aw->dl->ld, entry)) != NULL)
		aw->deleted_dn = xstrdup(got);
	else if (rc == LDAP_SUCCESS || rc == LDAP_NO_SUCH_OBJECT || rc == LDAP_INSUFFICIENT_ACCESS)
		log_warn("%s change stream: %s shows no Deleted Objects container to the service "
		    "account: deleted people are noticed at the next full read only", aw->w->label,
		    aw->nc);
	else
		st = dir_ldap_fail(aw->dl, rc, "read the Deleted Objects container of", aw->nc,
		    NULL, e);
	ldap_memfree(got);
	ldap_msgfree(res);
	free(dn);
	return st;
}

static enum dir_status
ad_watch_open(struct dir_watch *w, const char *bind_password, void **state, struct errbuf *e)
{
	struct ad_watch *aw = xcalloc(1, sizeof(*aw));
	const struct conf_directory *c = w->conf;
	struct dc_state dc;
	enum dir_status st;
	size_t k = 0;

	*state = NULL;
	memset(&dc, 0, sizeof(dc));
	aw->w = w;
	aw->dirsync = c->ad_changes == AD_CHANGES_DIRSYNC;
	aw->cov = xcalloc(w->n_groups + 1, sizeof(*aw->cov));
	for (size_t i = 0; i < w->n_groups; i++)
		strset_init(&aw->cov[i].guids);
	aw->attrs[k++] = "objectClass";
	aw->attrs[k++] = "objectGUID";
	aw->attrs[k++] = "objectSid";
	aw->attrs[k++] = c->mail_attribute;
	aw->attrs[k++] = "proxyAddresses";
	aw->attrs[k++] = "displayName";
	aw->attrs[k++] = "cn";
	aw->attrs[k++] = "givenName";
	aw->attrs[k++] = "sn";
	aw->attrs[k++] = "userPrincipalName";
	aw->attrs[k++] = "userAccountControl";
	aw->attrs[k++] = "accountExpires";
	aw->attrs[k++] = "primaryGroupID";
	if (c->alt_mail_attribute != NULL)
		aw->attrs[k++] = c->alt_mail_attribute;
	aw->attrs[k] = NULL;
	memcpy(aw->dirsync_attrs, aw->attrs, k * sizeof(*aw->attrs));
	aw->dirsync_attrs[k++] = "member";
	aw->dirsync_attrs[k++] = "name";
	aw->dirsync_attrs[k++] = "parentGUID";
	aw->dirsync_attrs[k] = NULL;
	st = ensure_conn(aw, bind_password, e);
	if (st == DIR_OK) {
		aw->either_filter = xasprintf("(|(objectClass=group)%s)", aw->dl->user_filter);
		st = read_dc(aw, &dc, e);
	}
	if (st == DIR_OK)
		st = find_deleted(aw, e);
	if (st == DIR_OK && aw->dirsync) {
		/* Refused at once when the right is missing, not at the first change. */
		char *cookie = NULL;
		bool refused = false;

		st = dirsync_pass(aw, NULL, "(&(objectClass=group)(!(objectClass=group)))", NULL,
		    &cookie, &refused, e);
		free(cookie);
	}
	dc_state_clear(&dc);
	if (st != DIR_OK) {
		ad_watch_close(aw);
		return st;
	}
	*state = aw;
	return DIR_OK;
}

static enum dir_stream_kind
ad_watch_kind(const struct conf_directory *conf)
{
	return conf->ad_changes == AD_CHANGES_DIRSYNC ? DIR_STREAM_AD_DIRSYNC : DIR_STREAM_AD_USN;
}

const struct dir_watch_ops dir_ad_watch_ops = {
	.kind = ad_watch_kind,
	.open = ad_watch_open,
	.poll = ad_watch_poll,
	.close = ad_watch_close,
};
