/* SPDX-License-Identifier: ISC */
/*
 * Reading many entries by DN, pipelined.
 *
 * One base-scope search per DN, but with up to READ_WINDOW of them in
 * flight on the connection at once: the server works on the next while we
 * parse the last, and the round trip is paid once per window instead of
 * once per entry. This is what makes reading the members of a group of a
 * few thousand people cheaper than a subtree scan of a directory of a
 * hundred thousand (ldap_members.c decides which to use).
 *
 * Answers arrive in any order; the callback gets the index of the DN it
 * belongs to. A failure abandons what is still in flight, so later
 * operations on the connection see no stray answers.
 */
#include "config.h"

#include <string.h>
#include <sys/time.h>

#include <ldap.h>

#include "directory/ldap.h"

#define READ_WINDOW 64

struct in_flight {
	int msgid;
	size_t index;
};

static void
abandon_all(struct dir_ldap *dl, const struct in_flight *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		(void)ldap_abandon_ext(dl->ld, f[i].msgid, NULL, NULL);
}

/* Hand one complete answer (entries and the final result) to cb. */
static enum dir_status
deliver(struct dir_ldap *dl, LDAPMessage *res, const char *dn, size_t index,
    dir_read_cb cb, void *arg, struct errbuf *e)
{
	LDAPMessage *entry = ldap_first_entry(dl->ld, res);
	int err = LDAP_SUCCESS;
	int rc = ldap_parse_result(dl->ld, res, &err, NULL, NULL, NULL, NULL, 0);

	if (rc != LDAP_SUCCESS)
		return dir_ldap_fail(dl, rc, "read", dn, NULL, e);
	/* As in dir_ldap_read(): a DN the server cannot parse names no entry. */
	if (err == LDAP_NO_SUCH_OBJECT || err == LDAP_INVALID_DN_SYNTAX)
		entry = NULL;
	else if (err != LDAP_SUCCESS)
		return dir_ldap_fail(dl, err, "read", dn, NULL, e);
	return cb(dl, index, entry, arg, e);
}

enum dir_status
dir_ldap_read_many(struct dir_ldap *dl, char *const *dns, size_t n, const char *filter,
    char **attrs, dir_read_cb cb, void *arg, struct errbuf *e)
{
	struct in_flight f[READ_WINDOW];
	struct timeval tv = { dl->timeout, 0 };
	size_t next = 0, n_f = 0;
	enum dir_status st = DIR_OK;

	while (st == DIR_OK && (next < n || n_f > 0)) {
		LDAPMessage *res = NULL;
		size_t k;
		int rc, msgid;

		while (next < n && n_f < READ_WINDOW) {
			rc = ldap_search_ext(dl->ld, dns[next], LDAP_SCOPE_BASE, filter, attrs, 0,
			    NULL, NULL, &tv, 1, &msgid);
			if (rc != LDAP_SUCCESS) {
				abandon_all(dl, f, n_f);
				return dir_ldap_fail(dl, rc, "read", dns[next], NULL, e);
			}
			f[n_f].msgid = msgid;
			f[n_f].index = next++;
			n_f++;
		}
		rc = ldap_result(dl->ld, LDAP_RES_ANY, LDAP_MSG_ALL, &tv, &res);
		if (rc <= 0) {
			int code = LDAP_TIMEOUT;

			if (rc < 0)
				(void)ldap_get_option(dl->ld, LDAP_OPT_RESULT_CODE, &code);
			ldap_msgfree(res);
			abandon_all(dl, f, n_f);
			return dir_ldap_fail(dl, code, "read", dns[f[0].index], NULL, e);
		}
		msgid = ldap_msgid(res);
		for (k = 0; k < n_f && f[k].msgid != msgid; k++)
			;
		if (k == n_f) {
			/* Not one of ours (an unsolicited notice): nothing to do. */
			ldap_msgfree(res);
			continue;
		}
		st = deliver(dl, res, dns[f[k].index], f[k].index, cb, arg, e);
		ldap_msgfree(res);
		f[k] = f[--n_f];
	}
	if (st != DIR_OK)
		abandon_all(dl, f, n_f);
	return st;
}
