/* SPDX-License-Identifier: ISC */
/*
 * Group membership and people on Active Directory (type = ad).
 *
 * AD resolves nesting on the server: the in-chain matching rule
 * 1.2.840.113556.1.4.1941 on memberOf walks every level and stops at
 * membership loops, so the transitive members of a group are ONE paged
 * subtree search:
 *
 *   (&<user_filter>(memberOf:1.2.840.113556.1.4.1941:=<group DN>))
 *
 * with the group DN filter-escaped (RFC 4515). The default user_filter
 * (&(objectCategory=person)(objectClass=user)) leaves out contacts
 * (objectClass contact), computers (objectCategory computer) and groups.
 * Paging (page_size <= 1000, AD's MaxPageSize) comes from dir_ldap_scan();
 * the search references AD returns from the domain root are never chased.
 * AD lists nobody under member of their primary group (primaryGroupID,
 * usually Domain Users), so the people whose primary group is the group or
 * one nested in it are added with a second search by primaryGroupToken.
 *
 * Per person: objectGUID (as the canonical GUID string) is the stable id;
 * mail the primary address; every smtp:/SMTP: value of proxyAddresses is an
 * alternative address (the primary SMTP: one too when it differs from
 * mail); a disabled account (userAccountControl bit 0x2) or one whose
 * accountExpires lies in the past is returned with enabled = false and a
 * problem saying why, so the run report names it instead of dropping it.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <ldap.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "directory/dir_internal.h"
#include "directory/directory.h"

#define IN_CHAIN_RULE "1.2.840.113556.1.4.1941"
#define UAC_ACCOUNTDISABLE 0x2u
/* accountExpires: 100 ns ticks since 1601-01-01; 0 and INT64_MAX mean never. */
#define FILETIME_UNIX_OFFSET INT64_C(11644473600)
#define FILETIME_TICKS INT64_C(10000000)

char *
dir_ad_guid_string(const unsigned char *g, size_t len)
{
	if (len != 16)
		return NULL;
	/* The first three fields are little-endian on the wire (MS-DTYP 2.3.4). */
	return xasprintf("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", g[3], g[2], g[1], g[0], g[5], g[4], g[7], g[6],
	    g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15]);
}

/* AD's bind sub-codes ("data 52e" in the diagnostic message). */
static const struct {
	const char *code;
	const char *hint;
} bind_codes[] = {
	{ "525", "AD sub-code 525: no such user; check bind_dn (a DN or user@domain)" },
	{ "52e", "AD sub-code 52e: wrong password (or unknown user name); check bind_dn and "
	    "the password in bind_password_file" },
	{ "530", "AD sub-code 530: the account may not log on at this time (logonHours); "
	    "allow all hours for the service account" },
	{ "531", "AD sub-code 531: the account may not log on from this computer "
	    "(userWorkstations); clear that restriction for the service account" },
	{ "532", "AD sub-code 532: the password has expired; set a new one and put it in "
	    "bind_password_file (and consider 'password never expires' for the account)" },
	{ "533", "AD sub-code 533: the account is disabled; enable the service account" },
	{ "701", "AD sub-code 701: the account has expired (accountExpires); extend it" },
	{ "773", "AD sub-code 773: the password must be changed before first use; set a new "
	    "password for the service account" },
	{ "775", "AD sub-code 775: the account is locked out after failed logons; unlock "
	    "it and check that bind_password_file holds the current password" },
};

const char *
dir_ad_bind_hint(const char *diag)
{
	const char *p;

	if (diag == NULL)
		return NULL;
	p = strstr(diag, ", data ");
	if (p == NULL)
		return NULL;
	p += strlen(", data ");
	for (size_t i = 0; i < ARRAY_LEN(bind_codes); i++) {
		size_t n = strlen(bind_codes[i].code);

		if (strncasecmp(p, bind_codes[i].code, n) == 0 &&
		    (p[n] == ',' || p[n] == '\0' || p[n] == ' '))
			return bind_codes[i].hint;
	}
	return NULL;
}

/* The first value of attr as a decimal integer; false when absent or not a number. */
static bool
get_int(LDAP *ld, LDAPMessage *entry, const char *attr, int64_t *out)
{
	struct berval **vals = ldap_get_values_len(ld, entry, attr);
	bool ok = false;

	if (vals != NULL && vals[0] != NULL && vals[0]->bv_len > 0 && vals[0]->bv_len < 24) {
		char buf[24], *end = NULL;
		long long v;

		memcpy(buf, vals[0]->bv_val, vals[0]->bv_len);
		buf[vals[0]->bv_len] = '\0';
		errno = 0;
		v = strtoll(buf, &end, 10);
		if (errno == 0 && end != buf && *end == '\0') {
			*out = (int64_t)v;
			ok = true;
		}
	}
	ldap_value_free_len(vals);
	return ok;
}

/* Add m (copied) to u->alt_mails unless it is u->mail or already there. */
static void
add_alt_mail(struct user *u, const char *m)
{
	if (u->mail != NULL && str_eq_nocase(u->mail, m))
		return;
	for (size_t i = 0; i < u->n_alt_mails; i++)
		if (str_eq_nocase(u->alt_mails[i], m))
			return;
	u->alt_mails = xreallocarray(u->alt_mails, u->n_alt_mails + 1, sizeof(*u->alt_mails));
	u->alt_mails[u->n_alt_mails++] = xstrdup(m);
}

/* proxyAddresses: smtp:a@x (alternative), SMTP:p@x (primary); X500:, SIP: ... ignored. */
static void
fill_proxy_addresses(LDAP *ld, LDAPMessage *entry, struct user *u)
{
	struct berval **vals = ldap_get_values_len(ld, entry, "proxyAddresses");

	for (size_t i = 0; vals != NULL && vals[i] != NULL; i++) {
		const struct berval *v = vals[i];
		char *m = NULL;

		if (v->bv_len <= 5 || strncasecmp(v->bv_val, "smtp:", 5) != 0)
			continue;
		if (!dir_mail_valid(v->bv_val + 5, v->bv_len - 5)) {
			char *p = dir_printable(v->bv_val, v->bv_len, 120);

			log_debug("%s: ignoring proxyAddresses value \"%s\": not a valid address",
			    u->dn, p);
			free(p);
			continue;
		}
		m = xstrndup(v->bv_val + 5, v->bv_len - 5);
		/* The primary SMTP: address belongs in the certificate even if mail differs. */
		add_alt_mail(u, m);
		free(m);
	}
	ldap_value_free_len(vals);
}

/* Disabled or expired accounts are reported, never provisioned. */
static void
check_account(LDAP *ld, LDAPMessage *entry, struct user *u)
{
	int64_t uac = 0, expires = 0;

	if (get_int(ld, entry, "userAccountControl", &uac) &&
	    ((uint32_t)uac & UAC_ACCOUNTDISABLE) != 0) {
		u->enabled = false;
		dir_add_problem(u, "the account is disabled in Active Directory "
		    "(userAccountControl 0x%" PRIx32 " has ACCOUNTDISABLE 0x2 set)", (uint32_t)uac);
	}
	if (get_int(ld, entry, "accountExpires", &expires) && expires != 0 &&
	    expires != INT64_MAX) {
		int64_t when = expires / FILETIME_TICKS - FILETIME_UNIX_OFFSET;
		time_t t = (time_t)when;
		struct tm tm;
		char day[32] = "?";

		if (when <= (int64_t)time(NULL)) {
			if (gmtime_r(&t, &tm) != NULL)
				(void)strftime(day, sizeof(day), "%Y-%m-%d %H:%M UTC", &tm);
			u->enabled = false;
			dir_add_problem(u, "the account expired on %s (accountExpires)", day);
		}
	}
}

static void
add_ad_person(struct dir_conn *dc, LDAPMessage *entry, const char *dn, struct user_list *out)
{
	LDAP *ld = dc->ld;
	struct user *u = user_list_push(out);
	struct berval **vals;

	u->dn = xstrdup(dn);
	u->source = dc->conf->name;
	u->enabled = true;

	vals = ldap_get_values_len(ld, entry, "objectGUID");
	if (vals != NULL && vals[0] != NULL)
		u->id = dir_ad_guid_string((const unsigned char *)vals[0]->bv_val,
		    vals[0]->bv_len);
	ldap_value_free_len(vals);

	dir_fill_mail(dc, entry, u);
	fill_proxy_addresses(ld, entry, u);
	if (u->id == NULL)
		dir_add_problem(u, "missing or malformed objectGUID (the service account must "
		    "be able to read it)");

	u->display_name = dir_get_name(ld, entry, "displayName", dn);
	if (u->display_name == NULL)
		u->display_name = dir_get_name(ld, entry, "cn", dn);
	u->given_name = dir_get_name(ld, entry, "givenName", dn);
	u->surname = dir_get_name(ld, entry, "sn", dn);
	u->upn = dir_get_name(ld, entry, "userPrincipalName", dn);
	check_account(ld, entry, u);
}

struct ad_scan {
	struct user_list *out;
	struct strset seen; /* normalized DNs: a person appears once */
	char *found_dn;     /* sAMAccountName lookup: the one group DN (new) */
	size_t n_found;
};

static enum dir_status
member_entry(struct dir_conn *dc, LDAPMessage *entry, void *arg, struct errbuf *e)
{
	struct ad_scan *s = arg;
	char *dn = ldap_get_dn(dc->ld, entry);
	char *norm = NULL;

	if (dn == NULL)
		return dir_ldap_fail(dc, LDAP_DECODING_ERROR, "read the DN of an entry under",
		    dc->base_dn, NULL, e);
	norm = dir_dn_normalize(dn);
	if (norm != NULL && strset_add(&s->seen, norm))
		add_ad_person(dc, entry, dn, s->out);
	free(norm);
	ldap_memfree(dn);
	return DIR_OK;
}

static enum dir_status
group_entry(struct dir_conn *dc, LDAPMessage *entry, void *arg, struct errbuf *e)
{
	struct ad_scan *s = arg;
	char *dn = ldap_get_dn(dc->ld, entry);

	if (dn == NULL)
		return dir_ldap_fail(dc, LDAP_DECODING_ERROR, "read the DN of an entry under",
		    dc->base_dn, NULL, e);
	if (s->n_found++ == 0)
		s->found_dn = xstrdup(dn);
	ldap_memfree(dn);
	return DIR_OK;
}

/* The DN of the group whose sAMAccountName is name (new, in *dn). */
static enum dir_status
find_group(struct dir_conn *dc, const char *name, char **dn, struct errbuf *e)
{
	char *attrs[] = { LDAP_NO_ATTRS, NULL };
	struct ad_scan s;
	char *esc = dir_filter_escape(name, strlen(name));
	char *filter = xasprintf("(&(objectClass=group)(sAMAccountName=%s))", esc);
	enum dir_status st;

	memset(&s, 0, sizeof(s));
	*dn = NULL;
	st = dir_ldap_scan(dc, filter, attrs, group_entry, &s, e);
	if (st != DIR_OK)
		goto out;
	if (s.n_found == 0) {
		err_set(e, "%s: no group with sAMAccountName \"%s\" under %s (or the service "
		    "account may not read it); check group = in the [group] section, or give "
		    "group_dn", dc->uri, name, dc->base_dn);
		st = DIR_BAD_CONFIG;
		goto out;
	}
	if (s.n_found > 1) {
		err_set(e, "%s: %zu groups under %s have sAMAccountName \"%s\"; give group_dn "
		    "instead", dc->uri, s.n_found, dc->base_dn, name);
		st = DIR_BAD_CONFIG;
		goto out;
	}
	*dn = s.found_dn;
	s.found_dn = NULL;
out:
	free(s.found_dn);
	free(filter);
	free(esc);
	return st;
}

/* The group's DN as the server spells it (new), after checking it is a group. */
static enum dir_status
check_group(struct dir_conn *dc, const char *group_dn, char **dn, struct errbuf *e)
{
	char *attrs[] = { "objectClass", NULL };
	LDAPMessage *res = NULL, *entry = NULL;
	enum dir_status st;
	char *got = NULL;

	*dn = NULL;
	st = dir_ldap_read(dc, group_dn, NULL, attrs, &res, &entry, e);
	if (st != DIR_OK)
		return st;
	if (entry == NULL) {
		err_set(e, "%s: group %s does not exist (or the service account may not read "
		    "it); check group_dn in the [group] section", dc->uri, group_dn);
		return DIR_BAD_CONFIG;
	}
	if (!dir_entry_has_class(dc->ld, entry, "group")) {
		err_set(e, "%s: %s is not a group (objectClass group); check group_dn in the "
		    "[group] section", dc->uri, group_dn);
		st = DIR_BAD_CONFIG;
		goto out;
	}
	got = ldap_get_dn(dc->ld, entry);
	*dn = xstrdup(got != NULL ? got : group_dn);
out:
	ldap_memfree(got);
	ldap_msgfree(res);
	return st;
}

/* The DNs a scan returned (new strings). */
struct dn_list {
	char **v;
	size_t n;
};

static enum dir_status
collect_dn(struct dir_conn *dc, LDAPMessage *entry, void *arg, struct errbuf *e)
{
	struct dn_list *l = arg;
	char *dn = ldap_get_dn(dc->ld, entry);

	if (dn == NULL)
		return dir_ldap_fail(dc, LDAP_DECODING_ERROR, "read the DN of an entry under",
		    dc->base_dn, NULL, e);
	if (l->n >= DIR_MAX_MEMBERS) {
		ldap_memfree(dn);
		err_set(e, "%s: more than %d nested groups; refusing to go on", dc->uri,
		    DIR_MAX_MEMBERS);
		return DIR_FAILED;
	}
	l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
	l->v[l->n++] = xstrdup(dn);
	ldap_memfree(dn);
	return DIR_OK;
}

/* primaryGroupToken (the group's RID) is constructed: only a base read returns it. */
static enum dir_status
read_token(struct dir_conn *dc, const char *dn, int64_t *token, bool *found, struct errbuf *e)
{
	char *attrs[] = { "primaryGroupToken", NULL };
	LDAPMessage *res = NULL, *entry = NULL;
	enum dir_status st;

	*found = false;
	st = dir_ldap_read(dc, dn, NULL, attrs, &res, &entry, e);
	if (st == DIR_OK && entry != NULL)
		*found = get_int(dc->ld, entry, "primaryGroupToken", token) && *token > 0;
	ldap_msgfree(res);
	return st;
}

#define TOKENS_PER_SEARCH 100

/*
 * AD does not list a user under member/memberOf of their primary group
 * (primaryGroupID, "Domain Users" for most): the in-chain search misses
 * them. Find the primary group tokens of the group and every group nested
 * in it, and add the people whose primaryGroupID is one of them.
 */
static enum dir_status
add_primary_members(struct dir_conn *dc, const char *group_dn, const char *esc_dn,
    char **attrs, struct ad_scan *s, struct errbuf *e)
{
	char *nattrs[] = { LDAP_NO_ATTRS, NULL };
	struct dn_list groups = { NULL, 0 };
	int64_t *tokens = NULL;
	size_t n_tokens = 0;
	enum dir_status st;
	char *filter = xasprintf("(&(objectClass=group)(memberOf:" IN_CHAIN_RULE ":=%s))",
	    esc_dn);

	st = dir_ldap_scan(dc, filter, nattrs, collect_dn, &groups, e);
	free(filter);
	filter = NULL;
	tokens = xcalloc(groups.n + 1, sizeof(*tokens));
	for (size_t i = 0; i <= groups.n && st == DIR_OK; i++) {
		bool found = false;

		st = read_token(dc, i == 0 ? group_dn : groups.v[i - 1], &tokens[n_tokens],
		    &found, e);
		if (st == DIR_OK && found)
			n_tokens++;
	}
	for (size_t i = 0; i < n_tokens && st == DIR_OK; i += TOKENS_PER_SEARCH) {
		struct buf b;
		char *f = NULL;

		buf_init(&b, 0);
		for (size_t k = i; k < n_tokens && k < i + TOKENS_PER_SEARCH; k++)
			if (buf_printf(&b, "(primaryGroupID=%lld)", (long long)tokens[k]) != 0)
				abort(); /* unbounded buffer: cannot fail */
		f = buf_steal(&b, NULL);
		filter = xasprintf("(&%s(|%s))", dc->user_filter, f);
		free(f);
		st = dir_ldap_scan(dc, filter, attrs, member_entry, s, e);
		free(filter);
		filter = NULL;
	}
	if (st == DIR_OK)
		log_debug("%s: group %s: %zu nested group(s), %zu primary group token(s) searched",
		    dc->uri, group_dn, groups.n, n_tokens);
	for (size_t i = 0; i < groups.n; i++)
		free(groups.v[i]);
	free(groups.v);
	free(tokens);
	return st;
}

static int
cmp_user_dn(const void *a, const void *b)
{
	return strcasecmp(((const struct user *)a)->dn, ((const struct user *)b)->dn);
}

enum dir_status
dir_ad_group_members(struct dir_conn *dc, const char *group_ref, struct user_list *out,
    struct errbuf *e)
{
	const char *mail_attr = dc->conf->mail_attribute != NULL ? dc->conf->mail_attribute :
	    "mail";
	char *attrs[] = { "objectGUID", (char *)mail_attr, "proxyAddresses", "displayName",
	    "cn", "givenName", "sn", "userPrincipalName", "userAccountControl",
	    "accountExpires", dc->conf->alt_mail_attribute, NULL };
	struct ad_scan s;
	enum dir_status st;
	size_t first = out->n;
	char *group_dn = NULL, *esc = NULL, *filter = NULL;

	memset(&s, 0, sizeof(s));
	s.out = out;
	strset_init(&s.seen);
	if (strchr(group_ref, '=') == NULL)
		st = find_group(dc, group_ref, &group_dn, e);
	else
		st = check_group(dc, group_ref, &group_dn, e);
	if (st != DIR_OK)
		goto out;
	esc = dir_filter_escape(group_dn, strlen(group_dn));
	filter = xasprintf("(&%s(memberOf:" IN_CHAIN_RULE ":=%s))", dc->user_filter, esc);
	st = dir_ldap_scan(dc, filter, attrs, member_entry, &s, e);
	if (st == DIR_OK)
		st = add_primary_members(dc, group_dn, esc, attrs, &s, e);
	if (st != DIR_OK)
		goto out;
	qsort(out->v + first, out->n - first, sizeof(*out->v), cmp_user_dn);
	log_debug("%s: group %s: %zu people (in-chain and primary group searches)", dc->uri,
	    group_dn, out->n - first);
out:
	if (st != DIR_OK) {
		/* All or nothing: a partial member list must not look complete. */
		while (out->n > first)
			user_free_fields(&out->v[--out->n]);
	}
	strset_free(&s.seen);
	free(group_dn);
	free(esc);
	free(filter);
	return st;
}
