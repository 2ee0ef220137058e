/* SPDX-License-Identifier: ISC */
/*
 * Finding a person from another directory in a publish target: an Entra
 * ID member whose certificate goes to the on-premises AD that Entra
 * Connect synchronises, or to an LDAP address book (publish_to =).
 *
 * For an AD target the Entra user's onPremisesDistinguishedName is tried
 * first: it names exactly the account Entra Connect came from; a person
 * read from an AD global catalog is tried at their own DN, which a domain
 * controller of their domain holds (one of another domain answers with a
 * referral, which is reported, never followed). Otherwise,
 * or when that entry is not there (moved since the last sync), the one
 * person entry whose mail attribute holds the user's address is taken. No
 * entry, or more than one, is an error for this person: a certificate is
 * never written into an entry we only guessed at.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "directory/dir_internal.h"

struct matches {
	size_t n;
	char *first;  /* new */
	char *second; /* new: named in the error */
};

static enum dir_status
on_match(struct dir_conn *dc, LDAPMessage *entry, void *arg, struct errbuf *e)
{
	struct matches *m = arg;
	char *dn = ldap_get_dn(dc->ld, entry);

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
dir_find_person(struct dir_conn *dc, const struct user *u, char **dn_out, struct errbuf *e)
{
	char *attrs[] = { "1.1", NULL };
	const char *attr = dc->conf->mail_attribute != NULL ? dc->conf->mail_attribute : "mail";
	struct matches m = { 0, NULL, NULL };
	LDAPMessage *res = NULL, *entry = NULL;
	char *esc = NULL, *filter = NULL;
	enum dir_status st;

	*dn_out = NULL;
	if (dc->ld == NULL) {
		err_set(e, "[directory %s] cannot hold certificates (type %s); publish_to must name "
		    "an ldap or ad directory", dc->conf->name,
		    dc->conf->type == DIR_TYPE_CSV ? "csv" : "graph");
		return DIR_BAD_CONFIG;
	}
	if (dc->conf->type == DIR_TYPE_AD) {
		/* An Entra user's synchronised account, or a person read from the global catalog. */
		char *norm = u->onprem_dn == NULL && u->dn != NULL ? dir_dn_normalize(u->dn) : NULL;
		const char *direct = u->onprem_dn != NULL ? u->onprem_dn : norm != NULL ? u->dn : NULL;

		free(norm);
		if (direct != NULL) {
			/* A person of another domain comes back as a referral: an error that says so. */
			st = dir_ldap_read(dc, direct, dc->user_filter, attrs, &res, &entry, e);
			ldap_msgfree(res);
			if (st != DIR_OK)
				return st;
			if (entry != NULL) {
				*dn_out = xstrdup(direct);
				return DIR_OK;
			}
			log_info("%s: %s is not there; looking the person up by %s instead", dc->uri,
			    direct, attr);
		}
	}
	if (u->mail == NULL) {
		err_set(e, "%s: cannot find %s in [directory %s]: no mail address to look for",
		    dc->uri, u->dn ? u->dn : "?", dc->conf->name);
		return DIR_BAD_CONFIG;
	}
	esc = dir_filter_escape(u->mail, strlen(u->mail));
	filter = xasprintf("(&%s(%s=%s))", dc->user_filter, attr, esc);
	st = dir_ldap_scan(dc, filter, attrs, on_match, &m, e);
	if (st != DIR_OK)
		goto out;
	if (m.n == 1) {
		*dn_out = m.first;
		m.first = NULL;
	} else if (m.n == 0) {
		err_set(e, "%s: no person with %s=%s under %s in [directory %s] (publish_to): the "
		    "certificate is kept, and published and mailed once the entry exists%s", dc->uri, attr,
		    u->mail, dc->base_dn, dc->conf->name, dc->conf->type == DIR_TYPE_AD ?
		    " (is the account synchronised by Entra Connect, and mail set on-premises?)" :
		    "");
		st = DIR_BAD_CONFIG;
	} else {
		err_set(e, "%s: %zu entries have %s=%s (%s, %s%s) in [directory %s]: refusing to "
		    "guess which one gets the certificate; make the address unique", dc->uri, m.n,
		    attr, u->mail, m.first, m.second, m.n > 2 ? ", ..." : "", dc->conf->name);
		st = DIR_BAD_CONFIG;
	}
out:
	free(m.first);
	free(m.second);
	free(esc);
	free(filter);
	return st;
}
