/* SPDX-License-Identifier: ISC */
/*
 * Finding a person from another directory in a publish target (publish_to
 * =) by mail: the one person entry (user_filter) under base_dn whose mail
 * attribute holds the user's address. No entry, or more than one, is an
 * error for this person: a certificate is never written into an entry we
 * only guessed at. The Active Directory backend tries the account Entra
 * Connect came from first (dir_ad.c) and comes here when there is none.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "directory/ldap.h"

struct matches {
	size_t n;
	char *first;  /* new */
	char *second; /* new: named in the error */
};

static enum dir_status
on_match(struct dir_ldap *dl, LDAPMessage *entry, void *arg, struct errbuf *e)
{
	struct matches *m = arg;
	char *dn = ldap_get_dn(dl->ld, entry);

	(void)e;
	if (dn == NULL)
		return DIR_OK;
	if (m->n == 0)
		m->first = xstrdup(dn);
	else if (m->n == 1)
		m->second = xstrdup(dn);
	m->n++;
	ldap_memfree(dn);
	return DIR_OK;
}

enum dir_status
dir_ldap_find_by_mail(struct dir_ldap *dl, const struct user *u, const char *not_found_note,
    char **dn_out, struct errbuf *e)
{
	char *attrs[] = { "1.1", NULL };
	const char *attr = dl->conf->mail_attribute;
	struct matches m = { 0, NULL, NULL };
	char *esc = NULL, *filter = NULL;
	enum dir_status st;

	*dn_out = NULL;
	if (u->mail == NULL) {
		err_set(e, "%s: cannot find %s in [directory %s]: no mail address to look for",
		    dl->uri, u->dn ? u->dn : "?", dl->conf->name);
		return DIR_BAD_CONFIG;
	}
	esc = dir_filter_escape(u->mail, strlen(u->mail));
	filter = xasprintf("(&%s(%s=%s))", dl->user_filter, attr, esc);
	st = dir_ldap_scan(dl, filter, attrs, on_match, &m, e);
	if (st != DIR_OK)
		goto out;
	if (m.n == 1) {
		*dn_out = m.first;
		m.first = NULL;
	} else if (m.n == 0) {
		err_set(e, "%s: no person with %s=%s under %s in [directory %s] (publish_to): the "
		    "certificate is kept, and published and mailed once the entry exists%s", dl->uri,
		    attr, u->mail, dl->base_dn, dl->conf->name, not_found_note);
		st = DIR_BAD_CONFIG;
	} else {
		err_set(e, "%s: %zu entries have %s=%s (%s, %s%s) in [directory %s]: refusing to "
		    "guess which one gets the certificate; make the address unique", dl->uri, m.n,
		    attr, u->mail, m.first, m.second, m.n > 2 ? ", ..." : "", dl->conf->name);
		st = DIR_BAD_CONFIG;
	}
out:
	free(m.first);
	free(m.second);
	free(esc);
	free(filter);
	return st;
}
