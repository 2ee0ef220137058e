/* SPDX-License-Identifier: ISC */
/*
 * Who joined or left an OpenLDAP group, from slapd's accesslog overlay
 * (slapo-accesslog(5)) instead of the group's member list: the change
 * stream (ldap_watch.c) says a group changed, and its log entries say
 * which member values that change added or removed. A member added to a
 * group of 100,000 then costs one log entry, not 100,000 values.
 *
 * Each successful modify is logged as an auditModify entry one level
 * below the log suffix: reqDN the modified entry, reqResult 0, one reqMod
 * value per modified value ("member:+ uid=x,...", "member:- uid=y,...",
 * "member:= ..." for a replace, "member:-" alone when every value is
 * deleted), and as entryCSN the CSN of the change itself (what
 * delta-syncrepl relies on), so the CSNs of the group entry pushed by the
 * stream and of its log entries can be matched.
 *
 * The log answers "which values" only when it says everything since the
 * last change seen; otherwise the caller reads the group whole. That is
 * when the newest log entry up to the pushed change is not that change
 * (the log was purged, or does not hold it yet), when values were
 * replaced or all deleted (the log names the new values, not who left),
 * or when a value is not one this code can trust (no DN, NUL bytes,
 * oversized, an attribute option on member).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <ldap.h>

#include "common/xalloc.h"
#include "directory/dir_internal.h"
#include "directory/ldap.h"

/* A CSN is 40 characters ("YYYYmmddHHMMSS.uuuuuuZ#cnt#sid#mod"): room to spare. */
#define ALOG_MAX_CSN 64
/* The longest reqMod value looked at: a member DN longer than this is not trusted. */
#define ALOG_MAX_MOD (16 * 1024)
/* Log entries of one group since its last change: more, and the group is read whole. */
#define ALOG_MAX_ENTRIES 1000
/*
 * slapd pushes a change to the sync search before the accesslog overlay
 * has written its log entry (seen with 2.5): the log is asked again, this
 * many times, ALOG_WAIT_MS apart, before the change counts as not logged.
 */
#define ALOG_TRIES 10
#define ALOG_WAIT_MS 50

enum dir_alog_mod
dir_alog_parse_mod(const char *val, size_t len, char **norm)
{
	static const char *const member_attrs[] = { "member", "uniqueMember" };
	const char *colon = val != NULL ? memchr(val, ':', len < 128 ? len : 128) : NULL;
	size_t name_len, i;
	char *dn = NULL;

	*norm = NULL;
	if (colon == NULL)
		return DIR_ALOG_OTHER; /* not "attr:op ...": nothing this code reads */
	name_len = (size_t)(colon - val);
	for (i = 0; i < ARRAY_LEN(member_attrs); i++) {
		size_t n = strlen(member_attrs[i]);

		if (name_len >= n && strncasecmp(val, member_attrs[i], n) == 0 &&
		    (name_len == n || val[n] == ';'))
			break;
	}
	if (i == ARRAY_LEN(member_attrs))
		return DIR_ALOG_OTHER;
	/* member;option: values this code does not follow elsewhere either. */
	if (name_len != strlen(member_attrs[i]))
		return DIR_ALOG_WHOLE;
	val += name_len + 1;
	len -= name_len + 1;
	/* "member:-" or "member:=" without values: every value deleted. */
	if (len < 3 || (val[0] != '+' && val[0] != '-') || val[1] != ' ')
		return DIR_ALOG_WHOLE;
	val += 2;
	len -= 2;
	if (len > ALOG_MAX_MOD || memchr(val, '\0', len) != NULL)
		return DIR_ALOG_WHOLE;
	dn = xstrndup(val, len);
	*norm = dir_dn_normalize(dn);
	free(dn);
	if (*norm == NULL || (*norm)[0] == '\0') {
		free(*norm);
		*norm = NULL;
		return DIR_ALOG_WHOLE;
	}
	return DIR_ALOG_MEMBER;
}

struct alog_scan {
	const char *since;        /* borrowed: the CSN of the change seen last */
	struct strset *changed;   /* borrowed: the member DNs added or removed */
	char newest[ALOG_MAX_CSN + 1];
	size_t entries;
	const char *whole;        /* static: why the group is to be read whole, or NULL */
};

static enum dir_status
alog_entry(struct dir_ldap *dl, LDAPMessage *entry, void *arg, struct errbuf *e)
{
	struct alog_scan *s = arg;
	struct berval **csn = ldap_get_values_len(dl->ld, entry, "entryCSN");
	struct berval **mods = NULL;
	char text[ALOG_MAX_CSN + 1];

	(void)e;
	if (s->whole != NULL)
		goto out;
	if (csn == NULL || csn[0] == NULL || csn[0]->bv_len == 0 ||
	    csn[0]->bv_len > ALOG_MAX_CSN || memchr(csn[0]->bv_val, '\0', csn[0]->bv_len)) {
		s->whole = "a log entry has no usable entryCSN";
		goto out;
	}
	memcpy(text, csn[0]->bv_val, csn[0]->bv_len);
	text[csn[0]->bv_len] = '\0';
	/* Already followed: the filter leaves the last change seen out, a loose server may not. */
	if (strcmp(text, s->since) == 0)
		goto out;
	if (++s->entries > ALOG_MAX_ENTRIES) {
		s->whole = "the log holds too many changes since the last one seen";
		goto out;
	}
	/*
	 * The order of the entries does not matter: everyone added or removed
	 * by any of them is named, and a replace reads the group whole anyway.
	 * Only the newest is needed, for the chain check.
	 */
	if (strcmp(text, s->newest) > 0)
		memcpy(s->newest, text, sizeof(text));
	mods = ldap_get_values_len(dl->ld, entry, "reqMod");
	for (size_t i = 0; mods != NULL && mods[i] != NULL && s->whole == NULL; i++) {
		char *norm = NULL;

		switch (dir_alog_parse_mod(mods[i]->bv_val, mods[i]->bv_len, &norm)) {
		case DIR_ALOG_MEMBER:
			(void)strset_add(s->changed, norm);
			break;
		case DIR_ALOG_WHOLE:
			s->whole = "a change replaced or deleted every member value, or logged "
			    "a member value that is not a DN";
			break;
		case DIR_ALOG_OTHER:
			break;
		}
		free(norm);
	}
out:
	ldap_value_free_len(csn);
	ldap_value_free_len(mods);
	return DIR_OK;
}

enum dir_status
dir_alog_members(struct dir_ldap *dl, const char *log_base, const char *group_dn,
    const char *since, const char *upto, struct strset *changed, const char **whole,
    struct errbuf *e)
{
	char *attrs[] = { "reqMod", "entryCSN", NULL };
	char *dn_esc = dir_filter_escape(group_dn, strlen(group_dn));
	char *since_esc = dir_filter_escape(since, strlen(since));
	char *upto_esc = dir_filter_escape(upto, strlen(upto));
	char *filter = NULL;
	struct alog_scan s;
	enum dir_status st;

	*whole = NULL;
	/*
	 * After the last change seen (not from it: a change that added many
	 * members would come back whole each time), up to the pushed change
	 * only: later ones come with pushes of their own.
	 */
	filter = xasprintf("(&(objectClass=auditModify)(reqDN=%s)(reqResult=0)"
	    "(!(entryCSN<=%s))(entryCSN<=%s))", dn_esc, since_esc, upto_esc);
	for (int tries = 0;; tries++) {
		struct timespec ts = { 0, ALOG_WAIT_MS * 1000000L };

		memset(&s, 0, sizeof(s));
		s.since = since;
		s.changed = changed;
		st = dir_ldap_scan_in(dl, log_base, LDAP_SCOPE_ONELEVEL, filter, attrs, NULL,
		    alog_entry, &s, e);
		/* Values added to changed by an early try are named by the last one too. */
		if (st != DIR_OK || s.whole != NULL || strcmp(s.newest, upto) >= 0 ||
		    tries + 1 >= ALOG_TRIES)
			break;
		(void)nanosleep(&ts, NULL);
	}
	if (st == DIR_OK) {
		if (s.whole != NULL)
			*whole = s.whole;
		else if (strcmp(s.newest, upto) != 0)
			*whole = "the log does not hold the change (purged, not written yet, or "
			    "hidden from the service account by an ACL)";
	}
	free(dn_esc);
	free(since_esc);
	free(upto_esc);
	free(filter);
	return st;
}
