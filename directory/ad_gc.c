/* SPDX-License-Identifier: ISC */
/*
 * Reading Active Directory through a global catalog (global_catalog = yes).
 *
 * A global catalog holds every object of the forest, but of each only the
 * attributes in the forest's partial attribute set (PAS): the schema entry
 * of an attribute says so with isMemberOfPartialAttributeSet = TRUE. An
 * attribute outside the PAS is simply absent from every entry the global
 * catalog returns, which for accountExpires would make every expired
 * account look valid. So before the first read, dir_ad_gc_check() looks up
 * in the schema each attribute smimesync reads:
 *
 *   - those eligibility and identity rest on (objectGUID, the mail
 *     attribute, userAccountControl, accountExpires, primaryGroupID) must
 *     be in the PAS, or the directory is refused with the list of missing
 *     ones and how to add them;
 *   - the others (proxyAddresses, names, alt_mail_attribute) only lose
 *     information: a warning names them.
 *
 * Writes are refused on the global catalog port (AD: 00002035, "modify
 * forbidden on global catalog port"); config validation keeps a global
 * catalog from being a publish target.
 */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ldap.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "directory/ldap.h"

struct gc_attr {
	const char *name;
	bool required;
	bool in_pas;
};

/* The schema naming context from the root DSE (new), or NULL with e set. */
static enum dir_status
schema_nc(struct dir_ldap *dl, char **out, struct errbuf *e)
{
	char *attrs[] = { "schemaNamingContext", NULL };
	LDAPMessage *res = NULL, *entry = NULL;
	struct berval **vals;
	enum dir_status st;

	*out = NULL;
	st = dir_ldap_read(dl, "", NULL, attrs, &res, &entry, e);
	if (st != DIR_OK)
		return st;
	vals = entry != NULL ? ldap_get_values_len(dl->ld, entry, "schemaNamingContext") : NULL;
	if (vals != NULL && vals[0] != NULL && vals[0]->bv_len > 0)
		*out = xstrndup(vals[0]->bv_val, vals[0]->bv_len);
	ldap_value_free_len(vals);
	ldap_msgfree(res);
	if (*out == NULL) {
		err_set(e, "%s: the root DSE names no schemaNamingContext; is this an Active "
		    "Directory global catalog? (global_catalog = yes in [directory %s])", dl->uri,
		    dl->conf->name != NULL ? dl->conf->name : "");
		return DIR_BAD_CONFIG;
	}
	return DIR_OK;
}

static enum dir_status
schema_entry(struct dir_ldap *dl, LDAPMessage *entry, void *arg, struct errbuf *e)
{
	struct gc_attr *want = arg;
	struct berval **name = ldap_get_values_len(dl->ld, entry, "lDAPDisplayName");
	struct berval **pas = ldap_get_values_len(dl->ld, entry, "isMemberOfPartialAttributeSet");
	bool in_pas = pas != NULL && pas[0] != NULL && pas[0]->bv_len == 4 &&
	    strncasecmp(pas[0]->bv_val, "TRUE", 4) == 0;

	(void)e;
	for (size_t i = 0; name != NULL && name[0] != NULL && want[i].name != NULL; i++) {
		if (strlen(want[i].name) == name[0]->bv_len &&
		    strncasecmp(want[i].name, name[0]->bv_val, name[0]->bv_len) == 0)
			want[i].in_pas = in_pas;
	}
	ldap_value_free_len(name);
	ldap_value_free_len(pas);
	return DIR_OK;
}

/* Append ", name" (or "name" first) to a list (new string; the old one is freed). */
static char *
list_add(char *list, const char *name)
{
	char *next = xasprintf("%s%s%s", list != NULL ? list : "", list != NULL ? ", " : "", name);

	free(list);
	return next;
}

/* A paged search under the schema NC: dir_ldap_scan() searches dl->base_dn, so
 * that is pointed there for the one search. */
static enum dir_status
scan_schema(struct dir_ldap *dl, const char *nc, const char *filter, struct gc_attr *want,
    struct errbuf *e)
{
	char *saved = dl->base_dn;
	char *attrs[] = { "lDAPDisplayName", "isMemberOfPartialAttributeSet", NULL };
	enum dir_status st;

	dl->base_dn = (char *)nc;
	st = dir_ldap_scan(dl, filter, attrs, schema_entry, want, e);
	dl->base_dn = saved;
	return st;
}

enum dir_status
dir_ad_gc_check(struct dir_ldap *dl, struct errbuf *e)
{
	const struct conf_directory *c = dl->conf;
	struct gc_attr want[] = {
		{ "objectGUID", true, false },
		{ c->mail_attribute, true, false },
		{ "userAccountControl", true, false },
		{ "accountExpires", true, false },
		{ "primaryGroupID", true, false },
		{ "proxyAddresses", false, false },
		{ "displayName", false, false },
		{ "givenName", false, false },
		{ "sn", false, false },
		{ "userPrincipalName", false, false },
		{ c->alt_mail_attribute, false, false },
		{ NULL, false, false },
	};
	char *filter = NULL, *missing = NULL, *lost = NULL, *nc = NULL;
	enum dir_status st;
	size_t n_missing = 0;

	st = schema_nc(dl, &nc, e);
	if (st != DIR_OK)
		goto out;
	filter = xstrdup("");
	for (size_t i = 0; want[i].name != NULL; i++) {
		char *esc = dir_filter_escape(want[i].name, strlen(want[i].name));
		char *next = xasprintf("%s(lDAPDisplayName=%s)", filter, esc);

		free(esc);
		free(filter);
		filter = next;
	}
	{
		char *full = xasprintf("(&(objectClass=attributeSchema)(|%s))", filter);

		free(filter);
		filter = full;
	}
	st = scan_schema(dl, nc, filter, want, e);
	if (st != DIR_OK)
		goto out;
	for (size_t i = 0; want[i].name != NULL; i++) {
		if (want[i].in_pas)
			continue;
		if (want[i].required) {
			missing = list_add(missing, want[i].name);
			n_missing++;
		} else {
			lost = list_add(lost, want[i].name);
		}
	}
	if (n_missing > 0) {
		err_set(e, "%s: global catalog: %s %s not in the forest's partial attribute set, "
		    "so the global catalog does not return %s and eligibility cannot be checked; "
		    "a schema admin adds %s (Active Directory Schema snap-in: the attribute's "
		    "properties, \"Replicate this attribute to the Global Catalog\"), or set "
		    "global_catalog = no in [directory %s] and read each domain from its own "
		    "domain controller", dl->uri, missing, n_missing > 1 ? "are" : "is",
		    n_missing > 1 ? "them" : "it", n_missing > 1 ? "them" : "it",
		    c->name != NULL ? c->name : "");
		st = DIR_BAD_CONFIG;
		goto out;
	}
	if (lost != NULL)
		log_warn("[directory %s] %s: global catalog: %s not in the forest's partial "
		    "attribute set: people are read without %s", c->name != NULL ? c->name : "",
		    dl->uri, lost, strchr(lost, ',') != NULL ? "them" : "it");
out:
	free(filter);
	free(missing);
	free(lost);
	free(nc);
	return st;
}
