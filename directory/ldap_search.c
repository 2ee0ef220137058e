/* SPDX-License-Identifier: ISC */
/*
 * Searching one LDAP connection: one entry by DN, and a paged subtree scan
 * under base_dn (RFC 2696) that hands each entry to a callback, so that a
 * directory of any size is read in pages of page_size, never whole.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#include <ldap.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "directory/ldap.h"

enum dir_status
dir_ldap_read(struct dir_ldap *dl, const char *dn, const char *filter, char **attrs,
    LDAPMessage **res, LDAPMessage **entry, struct errbuf *e)
{
	struct timeval tv = { dl->timeout, 0 };
	LDAPMessage *r = NULL;
	int rc;

	*res = NULL;
	*entry = NULL;
	rc = ldap_search_ext_s(dl->ld, dn, LDAP_SCOPE_BASE,
	    filter != NULL ? filter : "(objectClass=*)", attrs, 0, NULL, NULL, &tv, 1, &r);
	/*
	 * A DN the server cannot parse (say, a member value naming an
	 * attribute type it does not know) names no entry either.
	 */
	if (rc == LDAP_NO_SUCH_OBJECT || rc == LDAP_INVALID_DN_SYNTAX) {
		ldap_msgfree(r);
		return DIR_OK;
	}
	if (rc != LDAP_SUCCESS) {
		ldap_msgfree(r);
		return dir_ldap_fail(dl, rc, "read", dn, NULL, e);
	}
	*entry = ldap_first_entry(dl->ld, r);
	if (*entry == NULL) {
		ldap_msgfree(r);
		return DIR_OK;
	}
	*res = r;
	return DIR_OK;
}

enum dir_status
dir_ldap_scan(struct dir_ldap *dl, const char *filter, char **attrs, dir_entry_cb cb,
    void *arg, struct errbuf *e)
{
	return dir_ldap_scan_in(dl, dl->base_dn, LDAP_SCOPE_SUBTREE, filter, attrs, NULL, cb, arg,
	    e);
}

enum dir_status
dir_ldap_scan_in(struct dir_ldap *dl, const char *base, int scope, const char *filter,
    char **attrs, LDAPControl *extra, dir_entry_cb cb, void *arg, struct errbuf *e)
{
	struct timeval tv = { dl->timeout, 0 };
	struct berval *cookie = NULL;
	enum dir_status st = DIR_OK;
	size_t pages = 0;

	do {
		struct berval empty = { 0, NULL };
		LDAPControl *pctrl = NULL, *sctrls[3] = { NULL, NULL, NULL };
		LDAPControl **rctrls = NULL, *resp;
		LDAPMessage *res = NULL, *entry;
		int rc, err = LDAP_SUCCESS;

		rc = ldap_create_page_control(dl->ld, dl->page_size,
		    cookie != NULL ? cookie : &empty, 0, &pctrl);
		ber_bvfree(cookie);
		cookie = NULL;
		if (rc != LDAP_SUCCESS)
			return dir_ldap_fail(dl, rc, "build the paged results control for",
			    base, NULL, e);
		sctrls[0] = pctrl;
		sctrls[1] = extra;
		rc = ldap_search_ext_s(dl->ld, base, scope, filter, attrs, 0, sctrls, NULL, &tv,
		    LDAP_NO_LIMIT, &res);
		ldap_control_free(pctrl);
		if (rc != LDAP_SUCCESS) {
			ldap_msgfree(res);
			return dir_ldap_fail(dl, rc, "search", base, NULL, e);
		}
		pages++;
		for (entry = ldap_first_entry(dl->ld, res); entry != NULL;
		    entry = ldap_next_entry(dl->ld, entry)) {
			st = cb(dl, entry, arg, e);
			if (st != DIR_OK)
				break;
		}
		if (st == DIR_OK) {
			rc = ldap_parse_result(dl->ld, res, &err, NULL, NULL, NULL, &rctrls, 0);
			if (rc != LDAP_SUCCESS)
				st = dir_ldap_fail(dl, rc, "read the search result under", base,
				    NULL, e);
		}
		resp = st == DIR_OK ? ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, rctrls,
		    NULL) : NULL;
		if (resp != NULL) {
			struct berval next = { 0, NULL };
			ber_int_t estimate = 0;

			rc = ldap_parse_pageresponse_control(dl->ld, resp, &estimate, &next);
			if (rc != LDAP_SUCCESS)
				st = dir_ldap_fail(dl, rc, "parse the paged results control from",
				    base, NULL, e);
			else if (next.bv_len > 0)
				cookie = ber_bvdup(&next);
			ber_memfree(next.bv_val);
		}
		ldap_controls_free(rctrls);
		ldap_msgfree(res);
		if (st != DIR_OK)
			break;
	} while (cookie != NULL);
	ber_bvfree(cookie);
	if (st == DIR_OK)
		log_debug("%s: searched %s in %zu page(s) of %d", dl->uri, base, pages,
		    dl->page_size);
	return st;
}

bool
dir_entry_has_class(LDAP *ld, LDAPMessage *entry, const char *name)
{
	struct berval **vals = ldap_get_values_len(ld, entry, "objectClass");
	size_t len = strlen(name);
	bool found = false;

	for (size_t i = 0; vals != NULL && vals[i] != NULL && !found; i++)
		found = vals[i]->bv_len == len && strncasecmp(vals[i]->bv_val, name, len) == 0;
	ldap_value_free_len(vals);
	return found;
}

void
dir_entry_open(LDAP *ld, LDAPMessage *entry, struct dir_entry *de)
{
	struct berval dn = { 0, NULL }, name;
	BerVarray vals = NULL;

	memset(de, 0, sizeof(*de));
	if (ldap_get_dn_ber(ld, entry, &de->ber, &dn) != LDAP_SUCCESS)
		return;
	for (;;) {
		vals = NULL;
		if (ldap_get_attribute_ber(ld, entry, de->ber, &name, &vals) != LDAP_SUCCESS ||
		    name.bv_val == NULL) {
			ldap_memfree(vals);
			break;
		}
		if (de->n == de->cap) {
			de->cap = de->cap == 0 ? 16 : de->cap * 2;
			de->names = xreallocarray(de->names, de->cap, sizeof(*de->names));
			de->vals = xreallocarray(de->vals, de->cap, sizeof(*de->vals));
		}
		de->names[de->n] = name;
		de->vals[de->n] = vals;
		de->n++;
	}
}

const struct berval *
dir_entry_get(const struct dir_entry *de, const char *attr, size_t *n)
{
	size_t len = strlen(attr);

	*n = 0;
	for (size_t i = 0; i < de->n; i++) {
		if (de->names[i].bv_len != len || strncasecmp(de->names[i].bv_val, attr, len) != 0)
			continue;
		if (de->vals[i] == NULL)
			return NULL;
		while (de->vals[i][*n].bv_val != NULL)
			(*n)++;
		return *n > 0 ? de->vals[i] : NULL;
	}
	return NULL;
}

bool
dir_entry_is(const struct dir_entry *de, const char *name)
{
	size_t n = 0, len = strlen(name);
	const struct berval *v = dir_entry_get(de, "objectClass", &n);

	for (size_t i = 0; i < n; i++)
		if (v[i].bv_len == len && strncasecmp(v[i].bv_val, name, len) == 0)
			return true;
	return false;
}

void
dir_entry_close(struct dir_entry *de)
{
	for (size_t i = 0; i < de->n; i++)
		ldap_memfree(de->vals[i]);
	free(de->names);
	free(de->vals);
	if (de->ber != NULL)
		ber_free(de->ber, 0);
	memset(de, 0, sizeof(*de));
}
