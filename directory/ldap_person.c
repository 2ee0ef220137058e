/* SPDX-License-Identifier: ISC */
/*
 * Person entries as struct user: the name and mail attributes both LDAP
 * backends read the same way, and the whole person of an RFC 4519
 * directory (OpenLDAP), whose stable id is entryUUID. Values from the
 * server are checked before they are kept: names must be sane UTF-8
 * text, addresses plain addr-specs; what fails is left out with a debug
 * line, or, for the primary address, becomes the person's problem.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <ldap.h>

#include "common/log.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "directory/ldap.h"

char *
dir_get_name(const struct dir_entry *de, const char *attr, const char *dn)
{
	size_t n = 0;
	const struct berval *v = dir_entry_get(de, attr, &n);
	char *out = NULL;

	if (n == 0 || v[0].bv_len == 0)
		return NULL;
	if (v[0].bv_len > DIR_MAX_NAME_LEN || !str_is_utf8(v[0].bv_val, v[0].bv_len)) {
		log_warn("%s: %s is longer than %d bytes or not valid UTF-8: ignored", dn, attr,
		    DIR_MAX_NAME_LEN);
		return NULL;
	}
	out = xstrndup(v[0].bv_val, v[0].bv_len);
	if (str_has_control(out)) {
		log_warn("%s: %s contains control characters: ignored", dn, attr);
		free(out);
		out = NULL;
	}
	return out;
}

void
dir_fill_names(const struct dir_entry *de, const char *dn, struct user *u)
{
	u->display_name = dir_get_name(de, "displayName", dn);
	if (u->display_name == NULL)
		u->display_name = dir_get_name(de, "cn", dn);
	u->given_name = dir_get_name(de, "givenName", dn);
	u->surname = dir_get_name(de, "sn", dn);
	/* RFC 2798 (inetOrgPerson; AD has it too): which templates the mails use. */
	u->language = dir_get_name(de, "preferredLanguage", dn);
}

void
dir_fill_mail(struct dir_ldap *dl, const struct dir_entry *de, struct user *u)
{
	const char *attr = dl->conf->mail_attribute;
	size_t n = 0;
	const struct berval *vals = dir_entry_get(de, attr, &n);

	if (n == 0)
		dir_add_problem(u, "no %s attribute", attr);
	for (size_t i = 0; i < n; i++) {
		const struct berval *v = &vals[i];
		char *p;

		if (dir_mail_valid(v->bv_val, v->bv_len)) {
			char *m = xstrndup(v->bv_val, v->bv_len);

			if (u->mail == NULL && i == 0) {
				u->mail = m;
				continue;
			}
			dir_add_alt_mail(u, m, strlen(m));
			free(m);
			continue;
		}
		p = dir_printable(v->bv_val, v->bv_len, 120);
		if (i == 0)
			dir_add_problem(u, "mail value \"%s\" is not a valid address", p);
		else
			log_debug("%s: ignoring %s value \"%s\": not a valid address", u->dn,
			    attr, p);
		free(p);
	}
	if (dl->conf->alt_mail_attribute != NULL)
		dir_fill_alt_mails(de, u, dl->conf->alt_mail_attribute);
}

void
dir_fill_alt_mails(const struct dir_entry *de, struct user *u, const char *attr)
{
	size_t n = 0;
	const struct berval *vals = dir_entry_get(de, attr, &n);

	for (size_t i = 0; i < n; i++) {
		const struct berval *v = &vals[i];

		if (!dir_mail_valid(v->bv_val, v->bv_len)) {
			char *p = dir_printable(v->bv_val, v->bv_len, 120);

			log_debug("%s: ignoring %s value \"%s\": not a valid address", u->dn, attr, p);
			free(p);
			continue;
		}
		dir_add_alt_mail(u, v->bv_val, v->bv_len);
	}
}

void
dir_ldap_check_alt_mails(struct dir_ldap *dl, struct user *u, const char *more)
{
	const char *alt = dl->conf->alt_mail_attribute;
	char *what;

	if (u->n_alt_over == 0)
		return;
	what = xasprintf("%s%s%s%s%s", dl->conf->mail_attribute, more != NULL ? ", " : "",
	    more != NULL ? more : "", alt != NULL ? ", " : "", alt != NULL ? alt : "");
	dir_check_alt_mails(u, what);
	free(what);
}

size_t
dir_ldap_person_attrs(const struct conf_directory *c, char **attrs)
{
	size_t k = 0;

	attrs[k++] = "objectClass";
	attrs[k++] = "entryUUID";
	attrs[k++] = c->mail_attribute;
	attrs[k++] = "displayName";
	attrs[k++] = "cn";
	attrs[k++] = "givenName";
	attrs[k++] = "sn";
	attrs[k++] = "preferredLanguage";
	attrs[k++] = "pwdAccountLockedTime";
	if (c->alt_mail_attribute != NULL)
		attrs[k++] = c->alt_mail_attribute;
	attrs[k] = NULL;
	return k;
}

void
dir_ldap_add_person(struct dir_ldap *dl, LDAPMessage *entry, const char *dn,
    struct user_list *out)
{
	struct user *u = user_list_push(out);
	struct dir_entry de;
	const struct berval *v;
	size_t n = 0;

	u->dn = xstrdup(dn);
	u->source = dl->conf->name;
	u->enabled = true;
	dir_entry_open(dl->ld, entry, &de);

	v = dir_entry_get(&de, "entryUUID", &n);
	if (n > 0 && v[0].bv_len > 0 && v[0].bv_len <= DIR_MAX_ID_LEN) {
		bool ok = true;

		for (size_t i = 0; i < v[0].bv_len && ok; i++) {
			unsigned char c = (unsigned char)v[0].bv_val[i];

			ok = c > 0x20 && c < 0x7f;
		}
		if (ok)
			u->id = xstrndup(v[0].bv_val, v[0].bv_len);
	}

	dir_fill_mail(dl, &de, u);
	dir_ldap_check_alt_mails(dl, u, NULL);
	if (u->id == NULL)
		dir_add_problem(u, "missing entryUUID (the service account must be able to "
		    "read this operational attribute)");

	dir_fill_names(&de, dn, u);

	/* ppolicy: an administratively locked account is not provisioned. */
	if (dir_entry_get(&de, "pwdAccountLockedTime", &n) != NULL)
		u->enabled = false;
	dir_entry_close(&de);
}
