/* SPDX-License-Identifier: ISC */
/*
 * The OpenLDAP backend (type = ldap): OpenLDAP and other RFC 4519
 * directories, read and written through the LDAP plumbing of ldap.h.
 *
 * Groups are groupOfNames or groupOfUniqueNames, expanded here with
 * nesting resolved by us (ldap_members.c); a person's stable id is
 * entryUUID (ldap_person.c); userCertificate is written with the ;binary
 * option RFC 4523 asks for; a person for publish_to is found by mail.
 */
#include "config.h"

#include "common/xalloc.h"
#include "directory/backend.h"
#include "directory/ldap.h"

static char *
ldap_write_access_hint(const struct dir_ldap *dl)
{
	return xasprintf("the service account %s needs write access to userCertificate and "
	    "userSMIMECertificate (an ACL like \"access to "
	    "attrs=userCertificate,userSMIMECertificate by dn.exact=... write\")",
	    dl->conf->bind_dn != NULL ? dl->conf->bind_dn : "(SASL identity)");
}

/* The generic advice of ldap_errors.c fits an RFC 4519 server. */
const struct dir_ldap_dialect dir_openldap_dialect = {
	.cert_attr = "userCertificate;binary",
	.hint = NULL,
	.write_access_hint = ldap_write_access_hint,
	.value_limit_hint = NULL,
	.smime_equality = false, /* inetorgperson's userSMIMECertificate has no equality rule */
};

static enum dir_status
ldap_open(const struct conf_directory *conf, const char *bind_password, void **state,
    struct errbuf *e)
{
	struct dir_ldap *dl = NULL;
	enum dir_status st;

	st = dir_ldap_connect(conf, bind_password, &dir_openldap_dialect, &dl, e);
	*state = dl;
	return st;
}

static enum dir_status
ldap_group_members(void *state, const char *group_dn, struct user_list *out, struct errbuf *e)
{
	return dir_ldap_expand_group(state, group_dn, out, e);
}

static enum dir_status
ldap_find_person(void *state, const struct user *u, char **dn_out, struct errbuf *e)
{
	return dir_ldap_find_by_mail(state, u, "", dn_out, e);
}

static enum dir_status
ldap_address_holders(void *state, const char *addr, struct dir_holders *out, struct errbuf *e)
{
	return dir_ldap_address_holders(state, addr, NULL, out, e);
}

const struct dir_backend dir_ldap_backend = {
	.title = "LDAP",
	.open = ldap_open,
	.close = dir_ldap_close,
	.group_members = ldap_group_members,
	.find_person = ldap_find_person,
	.read_certs = dir_ldap_read_certs,
	.apply_certs = dir_ldap_apply_certs,
	.address_holders = ldap_address_holders,
	.person_by_dn = true,
	.read_person = dir_ldap_read_person,
	.watch = &dir_ldap_watch_ops,
};
