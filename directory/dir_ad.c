/* SPDX-License-Identifier: ISC */
/*
 * The Active Directory backend (type = ad, also Samba AD): the LDAP
 * plumbing of ldap.h with AD's names and advice, and AD's own way of
 * reading groups and people.
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
 * Each person found becomes a struct user in ad_person.c.
 *
 * A publish target finds an Entra ID member at their
 * onPremisesDistinguishedName first: it names exactly the account Entra
 * Connect came from; a person read from an AD global catalog is tried at
 * their own DN, which a domain controller of their domain holds (one of
 * another domain answers with a referral, which is reported, never
 * followed). Otherwise, or when that entry is not there (moved since the
 * last sync), the person is looked up by mail (ldap_locate.c).
 */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ldap.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "directory/backend.h"
#include "directory/ldap.h"

#define IN_CHAIN_RULE DIR_AD_IN_CHAIN_RULE

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

struct ad_scan {
	struct user_list *out;
	struct strset seen; /* normalized DNs: a person appears once */
	char *found_dn;     /* sAMAccountName lookup: the one group DN (new) */
	size_t n_found;
};

static enum dir_status
member_entry(struct dir_ldap *dl, LDAPMessage *entry, void *arg, struct errbuf *e)
{
	struct ad_scan *s = arg;
	char *dn = ldap_get_dn(dl->ld, entry);
	char *norm = NULL;

	if (dn == NULL)
		return dir_ldap_fail(dl, LDAP_DECODING_ERROR, "read the DN of an entry under",
		    dl->base_dn, NULL, e);
	norm = dir_dn_normalize(dn);
	if (norm != NULL && strset_add(&s->seen, norm))
		dir_ad_add_person(dl, entry, dn, s->out);
	free(norm);
	ldap_memfree(dn);
	return DIR_OK;
}

static enum dir_status
group_entry(struct dir_ldap *dl, LDAPMessage *entry, void *arg, struct errbuf *e)
{
	struct ad_scan *s = arg;
	char *dn = ldap_get_dn(dl->ld, entry);

	if (dn == NULL)
		return dir_ldap_fail(dl, LDAP_DECODING_ERROR, "read the DN of an entry under",
		    dl->base_dn, NULL, e);
	if (s->n_found++ == 0)
		s->found_dn = xstrdup(dn);
	ldap_memfree(dn);
	return DIR_OK;
}

/* The DN of the group whose sAMAccountName is name (new, in *dn). */
static enum dir_status
find_group(struct dir_ldap *dl, const char *name, char **dn, struct errbuf *e)
{
	char *attrs[] = { LDAP_NO_ATTRS, NULL };
	struct ad_scan s;
	char *esc = dir_filter_escape(name, strlen(name));
	char *filter = xasprintf("(&(objectClass=group)(sAMAccountName=%s))", esc);
	enum dir_status st;

	memset(&s, 0, sizeof(s));
	*dn = NULL;
	st = dir_ldap_scan(dl, filter, attrs, group_entry, &s, e);
	if (st != DIR_OK)
		goto out;
	if (s.n_found == 0) {
		err_set(e, "%s: no group with sAMAccountName \"%s\" under %s (or the service "
		    "account may not read it); check group = in the [group] section, or give "
		    "group_dn", dl->uri, name, dl->base_dn);
		st = DIR_BAD_CONFIG;
		goto out;
	}
	if (s.n_found > 1) {
		err_set(e, "%s: %zu groups under %s have sAMAccountName \"%s\"; give group_dn "
		    "instead", dl->uri, s.n_found, dl->base_dn, name);
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
check_group(struct dir_ldap *dl, const char *group_dn, char **dn, struct errbuf *e)
{
	char *attrs[] = { "objectClass", NULL };
	LDAPMessage *res = NULL, *entry = NULL;
	enum dir_status st;
	char *got = NULL;

	*dn = NULL;
	st = dir_ldap_read(dl, group_dn, NULL, attrs, &res, &entry, e);
	if (st != DIR_OK)
		return st;
	if (entry == NULL) {
		err_set(e, "%s: group %s does not exist (or the service account may not read "
		    "it); check group_dn in the [group] section", dl->uri, group_dn);
		return DIR_BAD_CONFIG;
	}
	if (!dir_entry_has_class(dl->ld, entry, "group")) {
		err_set(e, "%s: %s is not a group (objectClass group); check group_dn in the "
		    "[group] section", dl->uri, group_dn);
		st = DIR_BAD_CONFIG;
		goto out;
	}
	got = ldap_get_dn(dl->ld, entry);
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
collect_dn(struct dir_ldap *dl, LDAPMessage *entry, void *arg, struct errbuf *e)
{
	struct dn_list *l = arg;
	char *dn = ldap_get_dn(dl->ld, entry);

	if (dn == NULL)
		return dir_ldap_fail(dl, LDAP_DECODING_ERROR, "read the DN of an entry under",
		    dl->base_dn, NULL, e);
	if (l->n >= DIR_MAX_MEMBERS) {
		ldap_memfree(dn);
		err_set(e, "%s: more than %d nested groups; refusing to go on", dl->uri,
		    DIR_MAX_MEMBERS);
		return DIR_FAILED;
	}
	l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
	l->v[l->n++] = xstrdup(dn);
	ldap_memfree(dn);
	return DIR_OK;
}

/* primaryGroupToken (the group's RID) is constructed: only a base read returns it. */
enum dir_status
dir_ad_read_token(struct dir_ldap *dl, const char *dn, int64_t *token, bool *found, struct errbuf *e)
{
	char *attrs[] = { "primaryGroupToken", NULL };
	LDAPMessage *res = NULL, *entry = NULL;
	enum dir_status st;

	*found = false;
	st = dir_ldap_read(dl, dn, NULL, attrs, &res, &entry, e);
	if (st == DIR_OK && entry != NULL)
		*found = dir_ad_get_int(dl->ld, entry, "primaryGroupToken", token) && *token > 0;
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
add_primary_members(struct dir_ldap *dl, const char *group_dn, const char *esc_dn,
    char **attrs, struct ad_scan *s, struct errbuf *e)
{
	char *nattrs[] = { LDAP_NO_ATTRS, NULL };
	struct dn_list groups = { NULL, 0 };
	int64_t *tokens = NULL;
	size_t n_tokens = 0;
	enum dir_status st;
	char *filter = xasprintf("(&(objectClass=group)(memberOf:" IN_CHAIN_RULE ":=%s))",
	    esc_dn);

	st = dir_ldap_scan(dl, filter, nattrs, collect_dn, &groups, e);
	free(filter);
	filter = NULL;
	tokens = xcalloc(groups.n + 1, sizeof(*tokens));
	for (size_t i = 0; i <= groups.n && st == DIR_OK; i++) {
		bool found = false;

		st = dir_ad_read_token(dl, i == 0 ? group_dn : groups.v[i - 1], &tokens[n_tokens],
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
		filter = xasprintf("(&%s(|%s))", dl->user_filter, f);
		free(f);
		st = dir_ldap_scan(dl, filter, attrs, member_entry, s, e);
		free(filter);
		filter = NULL;
	}
	if (st == DIR_OK)
		log_debug("%s: group %s: %zu nested group(s), %zu primary group token(s) searched",
		    dl->uri, group_dn, groups.n, n_tokens);
	for (size_t i = 0; i < groups.n; i++)
		free(groups.v[i]);
	free(groups.v);
	free(tokens);
	return st;
}

void
dir_ad_person_attrs(const struct dir_ldap *dl, char **attrs)
{
	size_t n = 0;

	attrs[n++] = "objectGUID";
	attrs[n++] = dl->conf->mail_attribute;
	attrs[n++] = "proxyAddresses";
	attrs[n++] = "displayName";
	attrs[n++] = "cn";
	attrs[n++] = "givenName";
	attrs[n++] = "sn";
	attrs[n++] = "preferredLanguage";
	attrs[n++] = "userPrincipalName";
	attrs[n++] = "userAccountControl";
	attrs[n++] = "accountExpires";
	attrs[n++] = dl->conf->alt_mail_attribute; /* NULL without one: the list ends here */
	attrs[n] = NULL;
}

enum dir_status
dir_ad_group_dn(struct dir_ldap *dl, const char *group_ref, char **dn, struct errbuf *e)
{
	/* A DN has an '='; a sAMAccountName cannot. */
	if (strchr(group_ref, '=') == NULL)
		return find_group(dl, group_ref, dn, e);
	return check_group(dl, group_ref, dn, e);
}

static int
cmp_user_dn(const void *a, const void *b)
{
	return strcasecmp(((const struct user *)a)->dn, ((const struct user *)b)->dn);
}

static enum dir_status
ad_group_members(void *state, const char *group_ref, struct user_list *out, struct errbuf *e)
{
	struct dir_ldap *dl = state;
	char *attrs[DIR_AD_PERSON_ATTRS + 1];
	struct ad_scan s;
	enum dir_status st;
	size_t first = out->n;
	char *group_dn = NULL, *esc = NULL, *filter = NULL;

	memset(&s, 0, sizeof(s));
	s.out = out;
	strset_init(&s.seen);
	dir_ad_person_attrs(dl, attrs);
	if ((st = dir_ad_group_dn(dl, group_ref, &group_dn, e)) != DIR_OK)
		goto out;
	esc = dir_filter_escape(group_dn, strlen(group_dn));
	filter = xasprintf("(&%s(memberOf:" IN_CHAIN_RULE ":=%s))", dl->user_filter, esc);
	st = dir_ldap_scan(dl, filter, attrs, member_entry, &s, e);
	if (st == DIR_OK)
		st = add_primary_members(dl, group_dn, esc, attrs, &s, e);
	if (st != DIR_OK)
		goto out;
	qsort(out->v + first, out->n - first, sizeof(*out->v), cmp_user_dn);
	log_debug("%s: group %s: %zu people (in-chain and primary group searches)", dl->uri,
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

/*
 * Where AD's advice differs from any LDAP server's: the sub-code of a
 * refused bind, simple binds without TLS, and AD's page and value limits.
 */
static const char *
ad_hint(const struct dir_ldap *dl, int rc, const char *diag)
{
	(void)dl;
	switch (rc) {
	case LDAP_INVALID_CREDENTIALS:
		return dir_ad_bind_hint(diag);
	case LDAP_STRONG_AUTH_REQUIRED:
	case LDAP_CONFIDENTIALITY_REQUIRED:
		return "the domain controller refuses simple binds without TLS (ldap server "
		       "requires strong auth): use ldaps:// (port 636) or ldap:// with starttls = "
		       "required, or a GSSAPI bind (sasl_mech = GSSAPI)";
	case LDAP_SIZELIMIT_EXCEEDED:
	case LDAP_ADMINLIMIT_EXCEEDED:
		return "Active Directory limits the entries per page (MaxPageSize, 1000 by "
		       "default) and per search: keep page_size at or below MaxPageSize, or raise "
		       "the LDAP policy limits (ntdsutil) for the service account";
	default:
		return NULL;
	}
}

static char *
ad_write_access_hint(const struct dir_ldap *dl)
{
	return xasprintf("the service account %s needs the right to write the properties "
	    "userCertificate and userSMIMECertificate of user objects under %s: delegate "
	    "'Write userCertificate' and 'Write userSMIMECertificate' (ACEs (OA;CIIO;WP;"
	    "bf967a7f-0de6-11d0-a285-00aa003049e2;bf967aba-0de6-11d0-a285-00aa003049e2;SID) "
	    "and (OA;CIIO;WP;e16a9db2-403c-11d1-a9c0-0000f80367c1;"
	    "bf967aba-0de6-11d0-a285-00aa003049e2;SID)); see ACTIVE DIRECTORY in "
	    "smimesync.conf(5)", dl->conf->bind_dn != NULL ? dl->conf->bind_dn :
	    "(SASL identity)", dl->base_dn);
}

const struct dir_ldap_dialect dir_ad_dialect = {
	/* AD refuses the ;binary option on writes (error 16). */
	.cert_attr = "userCertificate",
	.hint = ad_hint,
	.write_access_hint = ad_write_access_hint,
	.smime_equality = true, /* an octet string: values are matched byte for byte */
	.value_limit_hint = "Active Directory takes at most 32768 bytes per value of these "
	    "attributes (rangeUpper) and about 1200 values of all such attributes per "
	    "object: remove stale certificates from the entry, or use a smaller key type and "
	    "chain",
};

static enum dir_status
ad_open(const struct conf_directory *conf, const char *bind_password, void **state,
    struct errbuf *e)
{
	struct dir_ldap *dl = NULL;
	enum dir_status st;

	*state = NULL;
	st = dir_ldap_connect(conf, bind_password, &dir_ad_dialect, &dl, e);
	if (st == DIR_OK && conf->global_catalog)
		st = dir_ad_gc_check(dl, e);
	if (st != DIR_OK) {
		dir_ldap_close(dl);
		return st;
	}
	*state = dl;
	return DIR_OK;
}

static enum dir_status
ad_find_person(void *state, const struct user *u, char **dn_out, struct errbuf *e)
{
	struct dir_ldap *dl = state;
	char *attrs[] = { "1.1", NULL };
	const char *attr = dl->conf->mail_attribute;
	/* An Entra user's synchronised account, or a person read from the global catalog. */
	char *norm = u->onprem_dn == NULL && u->dn != NULL ? dir_dn_normalize(u->dn) : NULL;
	const char *direct = u->onprem_dn != NULL ? u->onprem_dn : norm != NULL ? u->dn : NULL;
	LDAPMessage *res = NULL, *entry = NULL;
	enum dir_status st;

	*dn_out = NULL;
	free(norm);
	if (direct != NULL) {
		/* A person of another domain comes back as a referral: an error that says so. */
		st = dir_ldap_read(dl, direct, dl->user_filter, attrs, &res, &entry, e);
		ldap_msgfree(res);
		if (st != DIR_OK)
			return st;
		if (entry != NULL) {
			*dn_out = xstrdup(direct);
			return DIR_OK;
		}
		log_info("%s: %s is not there; looking the person up by %s instead", dl->uri,
		    direct, attr);
	}
	return dir_ldap_find_by_mail(dl, u, " (is the account synchronised by Entra Connect, "
	    "and mail set on-premises?)", dn_out, e);
}

/* proxyAddresses counts as in ad_person.c: its smtp:/SMTP: values are addresses. */
static enum dir_status
ad_address_holders(void *state, const char *addr, struct dir_holders *out, struct errbuf *e)
{
	return dir_ldap_address_holders(state, addr, "proxyAddresses", out, e);
}

const struct dir_backend dir_ad_backend = {
	.title = "Active Directory",
	.open = ad_open,
	.close = dir_ldap_close,
	.group_members = ad_group_members,
	.find_person = ad_find_person,
	.read_certs = dir_ldap_read_certs,
	.apply_certs = dir_ldap_apply_certs,
	.address_holders = ad_address_holders,
	.person_by_dn = true,
	.read_person = dir_ad_read_person,
	.watch = &dir_ad_watch_ops,
};
