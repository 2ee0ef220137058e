/* SPDX-License-Identifier: ISC */
/*
 * One person and the groups that list them, on Active Directory
 * (dir_read_person() of type = ad): what an incremental run asks about a
 * person instead of reading their groups whole.
 *
 * The person is read at their DN (base scope) with user_filter and the
 * attributes a group read asks for (dir_ad_person_attrs), and becomes a
 * user in ad_person.c, so that they come out exactly as dir_ad.c's group
 * read lists them; an entry outside base_dn is no person here, as the
 * group read searches under base_dn only.
 *
 * Each group is resolved as the group read resolves it (sAMAccountName or
 * DN, dir_ad_group_dn), then the DC is asked whether the person is in it
 * at any depth: a base search on the person with
 *
 *   (memberOf:1.2.840.113556.1.4.1941:=<group DN>)
 *
 * the in-chain rule the group read's search uses. One search per group
 * rather than one OR'ed filter: the answer to an OR cannot say which
 * group matched, and groups are few.
 *
 * AD lists nobody under member of their primary group (primaryGroupID),
 * so the group read adds the people whose primaryGroupID is the
 * primaryGroupToken of the group or of a group nested in it. The same
 * here, for a group the in-chain search did not match: the person is in
 * it when the group's token is their primaryGroupID, or when their
 * primary group lies under base_dn and is in the group at any depth. The
 * primary group is found by its objectSid (the person's domain SID with
 * the primaryGroupID as last part: a group's token is the last part of its
 * SID). Not mirrored: the group read compares tokens by number alone, so
 * in a global catalog spanning domains a nested group of another domain
 * whose RID equals someone's primaryGroupID counts there and not here.
 *
 * Cost: one read of the person, one search to resolve each group and one
 * to test it; for each group they are not in by the in-chain rule, one
 * read of its token and one search on their primary group, whose SID
 * takes one read and one search per call. Nothing is kept between calls.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <ldap.h>

#include "common/buf.h"
#include "common/xalloc.h"
#include "directory/ldap.h"

/* A SID has at most 15 sub-authorities (MS-DTYP 2.4.2.2): 8 + 15 * 4 bytes. */
#define SID_MAX_LEN 68

/* What is known of the person's primary group, read once per call when needed. */
struct primary {
	bool loaded;
	bool has_id;    /* primaryGroupID read */
	int64_t id;     /* primaryGroupID: the primary group's token */
	char *dn;       /* new: the primary group, when it lies under base_dn; else NULL */
};

/* Is dn under base (both as the server may spell them); base "" holds everything. */
static bool
under_base(const char *dn, const char *base)
{
	char *d = NULL, *b = NULL;
	bool under = false;

	if (base == NULL || base[0] == '\0')
		return true; /* a global catalog searched from the forest's root */
	d = dir_dn_normalize(dn);
	b = dir_dn_normalize(base);
	if (d != NULL && b != NULL) {
		size_t dl = strlen(d), bl = strlen(b);

		under = bl == 0 || (dl >= bl && strcmp(d + dl - bl, b) == 0 &&
		    (dl == bl || (d[dl - bl - 1] == ',' && (dl - bl < 2 || d[dl - bl - 2] != '\\'))));
	}
	free(d);
	free(b);
	return under;
}

/* Does the entry at dn match filter (base scope)? */
static enum dir_status
entry_matches(struct dir_ldap *dl, const char *dn, const char *filter, bool *match,
    struct errbuf *e)
{
	char *attrs[] = { LDAP_NO_ATTRS, NULL };
	LDAPMessage *res = NULL, *entry = NULL;
	enum dir_status st;

	st = dir_ldap_read(dl, dn, filter, attrs, &res, &entry, e);
	*match = st == DIR_OK && entry != NULL;
	ldap_msgfree(res);
	return st;
}

/* Is the entry at dn in the group group_dn, at any depth (the in-chain rule)? */
static enum dir_status
in_chain(struct dir_ldap *dl, const char *dn, const char *group_dn, bool *in,
    struct errbuf *e)
{
	char *esc = dir_filter_escape(group_dn, strlen(group_dn));
	char *filter = xasprintf("(memberOf:" DIR_AD_IN_CHAIN_RULE ":=%s)", esc);
	enum dir_status st = entry_matches(dl, dn, filter, in, e);

	free(esc);
	free(filter);
	return st;
}

static enum dir_status
first_dn(struct dir_ldap *dl, LDAPMessage *entry, void *arg, struct errbuf *e)
{
	char **dn = arg;
	char *got = NULL;

	if (*dn != NULL)
		return DIR_OK; /* a SID is unique in a domain: a second one is a replica's ghost */
	if ((got = ldap_get_dn(dl->ld, entry)) == NULL)
		return dir_ldap_fail(dl, LDAP_DECODING_ERROR, "read the DN of an entry under",
		    dl->base_dn, NULL, e);
	*dn = xstrdup(got);
	ldap_memfree(got);
	return DIR_OK;
}

/* The person's primaryGroupID and, when it lies under base_dn, their primary group. */
static enum dir_status
load_primary(struct dir_ldap *dl, const char *dn, struct primary *p, struct errbuf *e)
{
	char *attrs[] = { "primaryGroupID", "objectSid", NULL };
	char *nattrs[] = { LDAP_NO_ATTRS, NULL };
	LDAPMessage *res = NULL, *entry = NULL;
	unsigned char sid[SID_MAX_LEN];
	struct dir_entry de;
	const struct berval *v;
	size_t n = 0;
	struct buf f;
	char *filter = NULL;
	enum dir_status st;

	p->loaded = true;
	buf_init(&f, 0);
	st = dir_ldap_read(dl, dn, NULL, attrs, &res, &entry, e);
	if (st != DIR_OK || entry == NULL)
		goto out;
	p->has_id = dir_ad_get_int(dl->ld, entry, "primaryGroupID", &p->id) && p->id > 0 &&
	    p->id <= UINT32_MAX;
	dir_entry_open(dl->ld, entry, &de);
	v = dir_entry_get(&de, "objectSid", &n);
	/* revision, count, 6-byte authority, count 32-bit little-endian sub-authorities */
	if (p->has_id && n > 0 && v[0].bv_len >= 12 && v[0].bv_len <= sizeof(sid) &&
	    v[0].bv_len == 8 + 4 * (size_t)(unsigned char)v[0].bv_val[1]) {
		size_t len = v[0].bv_len;

		memcpy(sid, v[0].bv_val, len);
		/* The person's RID becomes their primary group's. */
		for (size_t k = 0; k < 4; k++)
			sid[len - 4 + k] = (unsigned char)(((uint64_t)p->id >> (8 * k)) & 0xff);
		for (size_t k = 0; k < len; k++)
			if (buf_printf(&f, "\\%02x", sid[k]) != 0)
				abort(); /* unbounded buffer: cannot fail */
		filter = xasprintf("(&(objectClass=group)(objectSid=%s))", f.data);
	}
	dir_entry_close(&de);
	if (filter != NULL)
		st = dir_ldap_scan(dl, filter, nattrs, first_dn, &p->dn, e);
out:
	buf_free(&f);
	free(filter);
	ldap_msgfree(res);
	return st;
}

/* Would the group read's primary group search list the person in group_dn? */
static enum dir_status
in_by_primary(struct dir_ldap *dl, const char *dn, const char *group_dn, struct primary *p,
    bool *in, struct errbuf *e)
{
	enum dir_status st = DIR_OK;
	int64_t token = 0;
	bool found = false;
	char *a = NULL, *b = NULL;

	*in = false;
	if (!p->loaded && (st = load_primary(dl, dn, p, e)) != DIR_OK)
		return st;
	if (!p->has_id)
		return DIR_OK;
	/* The group itself is their primary group. */
	if ((st = dir_ad_read_token(dl, group_dn, &token, &found, e)) != DIR_OK)
		return st;
	if (found && token == p->id) {
		*in = true;
		return DIR_OK;
	}
	if (p->dn == NULL)
		return DIR_OK;
	/* Their primary group is nested in it (never the group itself: its token differs). */
	a = dir_dn_normalize(p->dn);
	b = dir_dn_normalize(group_dn);
	if (a == NULL || b == NULL || strcmp(a, b) != 0)
		st = in_chain(dl, p->dn, group_dn, in, e);
	free(a);
	free(b);
	return st;
}

enum dir_status
dir_ad_read_person(void *state, const char *ref, const struct conf_group *const *groups,
    size_t n_groups, struct user *out, bool *in, bool *found, struct errbuf *e)
{
	struct dir_ldap *dl = state;
	char *attrs[DIR_AD_PERSON_ATTRS + 1];
	LDAPMessage *res = NULL, *entry = NULL;
	struct user_list one = { NULL, 0, 0 };
	struct primary p = { false, false, 0, NULL };
	bool *hit = xcalloc(n_groups + 1, sizeof(*hit));
	char *dn = NULL, *group_dn = NULL;
	enum dir_status st = DIR_OK;

	dir_ad_person_attrs(dl, attrs);
	if (!under_base(ref, dl->base_dn))
		goto out; /* a group read searches under base_dn only */
	st = dir_ldap_read(dl, ref, dl->user_filter, attrs, &res, &entry, e);
	if (st != DIR_OK || entry == NULL)
		goto out; /* deleted, moved away, or no longer matching user_filter */
	if ((dn = ldap_get_dn(dl->ld, entry)) == NULL) {
		st = dir_ldap_fail(dl, LDAP_DECODING_ERROR, "read", ref, NULL, e);
		goto out;
	}
	dir_ad_add_person(dl, entry, dn, &one);
	for (size_t i = 0; i < n_groups && st == DIR_OK; i++) {
		if ((st = dir_ad_group_dn(dl, groups[i]->group_dn, &group_dn, e)) != DIR_OK)
			break;
		st = in_chain(dl, dn, group_dn, &hit[i], e);
		if (st == DIR_OK && !hit[i])
			st = in_by_primary(dl, dn, group_dn, &p, &hit[i], e);
		free(group_dn);
		group_dn = NULL;
	}
	if (st != DIR_OK)
		goto out; /* all or nothing: *out and in[] untouched */
	memcpy(in, hit, n_groups * sizeof(*in));
	*out = one.v[0]; /* stolen */
	one.n = 0;
	*found = true;
out:
	user_list_free(&one);
	ldap_memfree(dn);
	ldap_msgfree(res);
	free(p.dn);
	free(hit);
	return st;
}
