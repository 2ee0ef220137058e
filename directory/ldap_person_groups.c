/* SPDX-License-Identifier: ISC */
/*
 * One person and the groups that list them, on an RFC 4519 directory
 * (dir_read_person() of type = ldap): what an incremental run asks about a
 * person instead of reading their groups whole.
 *
 * The person is read by DN with user_filter and the attributes a group
 * read uses (ldap_person.c), so that they come out exactly as
 * dir_read_group() would list them. Their groups are found upwards: the
 * groups whose member or uniqueMember is the person, then the groups that
 * list those, and so on (OpenLDAP has no in-chain matching rule), each
 * DN compared in normalized form and searched once, so a membership cycle
 * ends. A configured group is a match when the walk reaches its DN: then
 * its expansion (ldap_members.c, which follows the same member values
 * down) would have reached the person.
 *
 * Cost: one read and one search per level of nesting (a flat group: one
 * read and two searches, each returning a handful of entries), against a
 * whole group read per change before.
 *
 * Where: the upward searches run under the nearest entry that holds both
 * base_dn and every configured group (base_dn = ou=people,dc=example,dc=org
 * with groups under ou=groups,dc=example,dc=org: under dc=example,dc=org),
 * so that groups kept beside the people are found. A configured group in
 * another naming context has no such entry: DIR_UNSUPPORTED, and the
 * engine reads the groups whole. Limit: a nesting group outside that
 * subtree is not seen here, where the downward expansion of a full read
 * would follow it; the daily full read still does.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <ldap.h>

#include "common/xalloc.h"
#include "directory/ldap.h"

/* Groups walked upwards before the walk gives up (a directory's nesting is far smaller). */
#define MAX_GROUPS_WALKED 10000

#define GROUP_CLASSES "(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)"

static enum dir_status
listing_group(struct dir_ldap *dl, LDAPMessage *entry, void *arg, struct errbuf *e)
{
	struct strlist *queue = arg;
	char *dn = ldap_get_dn(dl->ld, entry);

	(void)e;
	if (dn != NULL)
		strlist_add(queue, dn);
	ldap_memfree(dn);
	return DIR_OK;
}

/* Is the normalized DN dn base itself or below it? */
static bool
is_under(const char *dn, const char *base)
{
	size_t dl = strlen(dn), bl = strlen(base);

	if (bl == 0 || dl < bl || strcmp(dn + dl - bl, base) != 0)
		return false;
	return dl == bl || (dn[dl - bl - 1] == ',' && (dl - bl < 2 || dn[dl - bl - 2] != '\\'));
}

/* The parent of a normalized DN (borrowed from it), "" at the top. */
static const char *
parent_of(const char *dn)
{
	for (const char *p = dn; *p != '\0'; p++) {
		if (*p == '\\' && p[1] != '\0')
			p++;
		else if (*p == ',')
			return p + 1;
	}
	return "";
}

/*
 * The nearest entry holding base_dn and every configured group (new,
 * normalized), or NULL when there is none (a group in another naming
 * context).
 */
static char *
search_base(const struct dir_ldap *dl, char *const *wanted, size_t n_groups)
{
	char *base = dir_dn_normalize(dl->base_dn), *out = NULL;
	const char *at = base;

	for (size_t i = 0; at != NULL && i < n_groups; i++) {
		while (wanted[i] != NULL && at[0] != '\0' && !is_under(wanted[i], at))
			at = parent_of(at);
		if (at[0] == '\0')
			at = NULL;
	}
	if (at != NULL)
		out = xstrdup(at);
	free(base);
	return out;
}

/* Mark in[] for every configured group that lists dn, directly or nested. */
static enum dir_status
groups_above(struct dir_ldap *dl, const char *dn, const struct conf_group *const *groups,
    size_t n_groups, bool *in, struct errbuf *e)
{
	char *attrs[] = { "1.1", NULL };
	char **wanted = xcalloc(n_groups + 1, sizeof(*wanted));
	struct strlist queue = { NULL, 0, 0 };
	struct strset seen;
	enum dir_status st = DIR_OK;
	size_t next = 0;
	char *base = NULL;

	strset_init(&seen);
	for (size_t i = 0; i < n_groups; i++)
		wanted[i] = dir_dn_normalize(groups[i]->group_dn);
	if ((base = search_base(dl, wanted, n_groups)) == NULL) {
		err_set(e, "%s: a configured group is in another naming context than base_dn %s: "
		    "people cannot be looked up alone, their groups are read whole", dl->uri,
		    dl->base_dn);
		st = DIR_UNSUPPORTED;
	}
	strlist_add(&queue, dn);
	while (st == DIR_OK && next < queue.n) {
		const char *cur = queue.v[next++];
		char *norm = dir_dn_normalize(cur), *esc = NULL, *filter = NULL;

		if (norm == NULL || norm[0] == '\0' || !strset_add(&seen, norm)) {
			free(norm);
			continue;
		}
		if (next > MAX_GROUPS_WALKED) {
			err_set(e, "%s: more than %d groups above %s: its groups are read whole "
			    "instead", dl->uri, MAX_GROUPS_WALKED, dn);
			free(norm);
			st = DIR_FAILED;
			break;
		}
		for (size_t i = 0; next > 1 && i < n_groups; i++)
			if (wanted[i] != NULL && strcmp(wanted[i], norm) == 0)
				in[i] = true;
		esc = dir_filter_escape(cur, strlen(cur));
		filter = xasprintf("(&(|" GROUP_CLASSES ")(|(member=%s)(uniqueMember=%s)))", esc,
		    esc);
		st = dir_ldap_scan_in(dl, base, LDAP_SCOPE_SUBTREE, filter, attrs, NULL,
		    listing_group, &queue, e);
		free(norm);
		free(esc);
		free(filter);
	}
	for (size_t i = 0; i < n_groups; i++)
		free(wanted[i]);
	free(wanted);
	free(base);
	strset_free(&seen);
	strlist_free(&queue);
	return st;
}

enum dir_status
dir_ldap_read_person(void *state, const char *ref, const struct conf_group *const *groups,
    size_t n_groups, struct user *out, bool *in, bool *found, struct errbuf *e)
{
	struct dir_ldap *dl = state;
	char *attrs[DIR_LDAP_PERSON_ATTRS + 1];
	LDAPMessage *res = NULL, *entry = NULL;
	struct user_list one = { NULL, 0, 0 };
	char *dn = NULL;
	enum dir_status st;

	dir_ldap_person_attrs(dl->conf, attrs);
	st = dir_ldap_read(dl, ref, dl->user_filter, attrs, &res, &entry, e);
	if (st != DIR_OK || entry == NULL)
		goto out; /* no such person (deleted, renamed, no longer matching user_filter) */
	/* A group that happens to match user_filter is no person (a group read skips it too). */
	if (dir_entry_has_class(dl->ld, entry, "groupOfNames") ||
	    dir_entry_has_class(dl->ld, entry, "groupOfUniqueNames"))
		goto out;
	if ((dn = ldap_get_dn(dl->ld, entry)) == NULL) {
		st = dir_ldap_fail(dl, LDAP_DECODING_ERROR, "read", ref, NULL, e);
		goto out;
	}
	dir_ldap_add_person(dl, entry, dn, &one);
	if ((st = groups_above(dl, dn, groups, n_groups, in, e)) != DIR_OK)
		goto out;
	*out = one.v[0]; /* stolen */
	one.n = 0;
	*found = true;
out:
	user_list_free(&one);
	ldap_memfree(dn);
	ldap_msgfree(res);
	return st;
}
