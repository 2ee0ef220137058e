/* SPDX-License-Identifier: ISC */
/*
 * Reading every value of a group's member attribute, including AD's range
 * retrieval (MS-ADTS 3.1.1.3.1.3.3).
 *
 * Active Directory returns at most MaxValRange values (1500 by default) of
 * a multi-valued attribute per read. It then answers "member;range=0-1499"
 * instead of "member", and the rest must be asked for as
 * "member;range=1500-*" and so on, until the returned description ends in
 * "-*". The returned description is always parsed, never assumed: the
 * server picks the chunk size. A server without range retrieval (OpenLDAP)
 * simply returns the plain attribute and no further read happens.
 *
 * With step > 0 the ranges are asked for from the start, step values at a
 * time (Microsoft's advice is 1000 or less for every AD version).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ldap.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "directory/ldap.h"

/* Rounds without progress or a lying server must not loop forever. */
#define MAX_RANGE_READS 100000

int
dir_parse_range(const char *desc, const char *attr, size_t *lo, size_t *hi, bool *last)
{
	size_t n = strlen(attr);
	const char *p;
	char *end = NULL;
	unsigned long long v;

	if (strncasecmp(desc, attr, n) != 0 || strncasecmp(desc + n, ";range=", 7) != 0)
		return -1;
	p = desc + n + 7;
	if (*p < '0' || *p > '9')
		return -1;
	errno = 0;
	v = strtoull(p, &end, 10);
	if (errno != 0 || *end != '-' || v > DIR_MAX_MEMBERS)
		return -1;
	*lo = (size_t)v;
	p = end + 1;
	if (strcmp(p, "*") == 0) {
		*last = true;
		*hi = 0;
		return 0;
	}
	if (*p < '0' || *p > '9')
		return -1;
	errno = 0;
	v = strtoull(p, &end, 10);
	if (errno != 0 || *end != '\0' || v < *lo || v > DIR_MAX_MEMBERS)
		return -1;
	*hi = (size_t)v;
	*last = false;
	return 0;
}

/*
 * Hand the values of attr found in entry to cb: the plain attribute, or
 * one "attr;range=..." chunk. *more is set when the server says there is
 * more after *next.
 */
static enum dir_status
take_chunk(struct dir_ldap *dl, LDAPMessage *entry, const char *dn, const char *attr,
    dir_value_cb cb, void *arg, size_t *total, size_t *next, bool *more, struct errbuf *e)
{
	BerElement *ber = NULL;
	enum dir_status st = DIR_OK;
	char *a;

	*more = false;
	for (a = ldap_first_attribute(dl->ld, entry, &ber); a != NULL && st == DIR_OK;
	    a = ldap_next_attribute(dl->ld, entry, ber)) {
		size_t lo = 0, hi = 0;
		bool last = true, ranged;
		struct berval **vals = NULL;
		size_t n;

		ranged = dir_parse_range(a, attr, &lo, &hi, &last) == 0;
		if (!ranged && strcasecmp(a, attr) != 0) {
			ldap_memfree(a);
			continue;
		}
		vals = ldap_get_values_len(dl->ld, entry, a);
		n = (size_t)ldap_count_values_len(vals);
		if (*total + n > DIR_MAX_MEMBERS) {
			err_set(e, "%s: group %s has more than %d %s values, more than we accept",
			    dl->uri, dn, DIR_MAX_MEMBERS, attr);
			st = DIR_FAILED;
		}
		for (size_t i = 0; i < n && st == DIR_OK; i++)
			cb(arg, vals[i]);
		*total += n;
		ldap_value_free_len(vals);
		if (ranged && !last && st == DIR_OK) {
			if (hi + 1 <= *next) {
				err_set(e, "%s: group %s: the server answered %s after we asked "
				    "from value %zu; refusing to loop", dl->uri, dn, a, *next);
				st = DIR_FAILED;
			} else {
				*next = hi + 1;
				*more = true;
			}
		}
		ldap_memfree(a);
	}
	ldap_memfree(a);
	ber_free(ber, 0);
	return st;
}

enum dir_status
dir_member_values(struct dir_ldap *dl, LDAPMessage *entry, const char *dn, const char *attr,
    size_t step, dir_value_cb cb, void *arg, struct errbuf *e)
{
	enum dir_status st = DIR_OK;
	size_t next = 0, total = 0, reads = 0;
	bool more = true;

	if (entry != NULL && step == 0) {
		st = take_chunk(dl, entry, dn, attr, cb, arg, &total, &next, &more, e);
		if (st != DIR_OK || !more)
			return st;
	}
	while (more) {
		LDAPMessage *res = NULL, *got = NULL;
		char *desc = step > 0 ? xasprintf("%s;range=%zu-%zu", attr, next, next + step - 1) :
		    xasprintf("%s;range=%zu-*", attr, next);
		char *attrs[] = { desc, NULL };

		if (++reads > MAX_RANGE_READS) {
			free(desc);
			err_set(e, "%s: group %s: more than %d range reads of %s; giving up",
			    dl->uri, dn, MAX_RANGE_READS, attr);
			return DIR_FAILED;
		}
		st = dir_ldap_read(dl, dn, NULL, attrs, &res, &got, e);
		free(desc);
		if (st != DIR_OK)
			return st;
		if (got == NULL) {
			err_set(e, "%s: group %s vanished while its %s values were read (from value "
			    "%zu)", dl->uri, dn, attr, next);
			return DIR_FAILED;
		}
		st = take_chunk(dl, got, dn, attr, cb, arg, &total, &next, &more, e);
		ldap_msgfree(res);
		if (st != DIR_OK)
			return st;
	}
	if (reads > 0)
		log_debug("%s: group %s: %zu %s values in %zu range read(s)", dl->uri, dn, total,
		    attr, reads);
	return DIR_OK;
}
