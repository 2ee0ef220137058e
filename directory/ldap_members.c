/* SPDX-License-Identifier: ISC */
/*
 * Group expansion on an RFC 4519 directory (OpenLDAP): who is in a group,
 * transitively. Each person found becomes a struct user in ldap_person.c.
 *
 * OpenLDAP has no in-chain matching rule, so nesting is resolved here. The
 * expansion runs in rounds over a batch of member DNs not seen before:
 *
 *   - a small batch (see worth_a_scan) is read by DN, base scope, pipelined,
 *     with a filter that matches groups and people only;
 *   - a large batch is matched against ONE paged subtree search under
 *     base_dn with user_filter (people only); whatever that search did not
 *     return (nested groups, entries outside base_dn, junk) is then read
 *     by DN.
 *
 * Where the server keeps memberOf on the members of groups (slapd's
 * memberof overlay), a large batch is read instead with one paged search
 * per few groups of the round,
 *
 *   (&<user_filter>(|(memberOf=<group>)...))
 *
 * which returns the direct members that are people under base_dn in pages
 * and costs what the members cost, not what the directory costs: a flat
 * group of 3,000 in a directory of 3,200 people goes from 3,000 reads by DN
 * to one search. Only what that search did not return (nested groups,
 * people outside base_dn, entries whose memberOf is missing or stale) is
 * then read by DN. Whether memberOf is kept is learnt from the first
 * members read by DN (a sample of SAMPLE entries that are people, every
 * one carrying memberOf) and remembered for the connection; a person is
 * only ever taken when the group lists them, so a stale memberOf can add
 * nobody, and a missing one only costs a read by DN.
 *
 * Groups found in a round feed their members into the next round. Every DN
 * is compared in normalized form and entered in a "seen" set before it is
 * queued, so a membership cycle ends and a person in two groups appears
 * once. The only values from the directory that go into a filter are group
 * DNs, escaped (RFC 4515); members are read by DN.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ldap.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "directory/ldap.h"

/*
 * When to scan rather than read by DN. Measured against slapd on loopback
 * (100,000 people, 2 cores): a pipelined read costs about 0.1 ms an entry,
 * a paged scan about 0.025 ms per entry in the directory, wanted or not.
 * Reading by DN wins below a quarter of the directory's size; that size is
 * known once this connection has scanned, and until then a batch of
 * [directory] scan_threshold or more is taken to be worth a scan.
 */
static bool
worth_a_scan(const struct dir_ldap *dl, size_t n)
{
	size_t first = (size_t)dl->conf->scan_threshold;

	if (dl->people_scanned == 0)
		return n >= first;
	return n >= dl->people_scanned / 4;
}

/* Everything we need to know about a group or a person, in one read. */
#define ATTR_SLOTS 13

/* A batch smaller than this is read by DN whatever the server keeps. */
#define MEMBEROF_MIN_BATCH 64
/* People read by DN before memberOf is trusted for the rest. */
#define SAMPLE 16
/* Groups per memberOf search (an OR of their DNs). */
#define GROUPS_PER_SEARCH 32

struct expand {
	struct dir_ldap *dl;
	struct user_list *out;
	struct strset seen;   /* normalized DNs queued or read */
	char **pending;       /* raw member DNs to look at next round (new) */
	size_t n_pending;
	size_t cap_pending;
	struct strlist pending_groups; /* the groups those members came from */
	char *either_filter;  /* groups or people (new) */
	char *attrs[ATTR_SLOTS + 1];        /* reads by DN: with memberOf */
	char *search_attrs[ATTR_SLOTS + 1]; /* searches: the same without it */
	size_t n_groups;
	size_t n_skipped;
	/* People read by DN, with and without memberOf: is memberOf kept? */
	size_t with_memberof, without_memberof;
	size_t by_memberof;   /* people found by memberOf searches */
};

static void
expand_free(struct expand *x)
{
	strset_free(&x->seen);
	for (size_t i = 0; i < x->n_pending; i++)
		free(x->pending[i]);
	free(x->pending);
	strlist_free(&x->pending_groups);
	free(x->either_filter);
}

static bool
is_group(LDAP *ld, LDAPMessage *entry)
{
	return dir_entry_has_class(ld, entry, "groupOfNames") ||
	    dir_entry_has_class(ld, entry, "groupOfUniqueNames");
}

/* Queue one member value (raw, from member or uniqueMember) unless seen. */
static void
queue_member(struct expand *x, const struct berval *v, const char *group_dn)
{
	char *raw = NULL, *norm = NULL;

	if (v->bv_len == 0 || v->bv_len > 4096 || memchr(v->bv_val, '\0', v->bv_len) != NULL) {
		log_debug("group %s: skipping an empty, overlong or binary member value",
		    group_dn);
		goto out;
	}
	raw = xstrndup(v->bv_val, v->bv_len);
	dir_strip_uid_suffix(raw);
	norm = dir_dn_normalize(raw);
	if (norm == NULL || norm[0] == '\0') {
		char *p = dir_printable(raw, strlen(raw), 200);

		log_debug("group %s: member value \"%s\" is not a DN: skipped", group_dn, p);
		free(p);
		x->n_skipped++;
		goto out;
	}
	if (!strset_add(&x->seen, norm))
		goto out;
	if (x->n_pending == x->cap_pending) {
		x->cap_pending = x->cap_pending == 0 ? 64 : x->cap_pending * 2;
		x->pending = xreallocarray(x->pending, x->cap_pending, sizeof(*x->pending));
	}
	x->pending[x->n_pending++] = raw;
	raw = NULL;
out:
	free(raw);
	free(norm);
}

struct queue_arg {
	struct expand *x;
	const char *group_dn; /* borrowed */
};

static void
queue_value(void *arg, const struct berval *v)
{
	struct queue_arg *q = arg;

	queue_member(q->x, v, q->group_dn);
}

/* Members of a group entry; large AD-style groups come in ranges (ranges.c). */
static enum dir_status
queue_members_of(struct expand *x, LDAPMessage *entry, const char *group_dn,
    struct errbuf *e)
{
	static const char *const member_attrs[] = { "member", "uniqueMember" };
	struct queue_arg q = { x, group_dn };
	enum dir_status st = DIR_OK;

	strlist_add(&x->pending_groups, group_dn);
	for (size_t a = 0; a < ARRAY_LEN(member_attrs) && st == DIR_OK; a++)
		st = dir_member_values(x->dl, entry, group_dn, member_attrs[a], 0, queue_value,
		    &q, e);
	return st;
}

/* A group feeds the next round, a person goes to the output. */
static enum dir_status
classify(struct expand *x, LDAPMessage *entry, struct errbuf *e)
{
	char *dn = ldap_get_dn(x->dl->ld, entry);
	enum dir_status st = DIR_OK;

	if (dn == NULL)
		return dir_ldap_fail(x->dl, LDAP_DECODING_ERROR, "read the DN of an entry under",
		    x->dl->base_dn, NULL, e);
	if (is_group(x->dl->ld, entry)) {
		x->n_groups++;
		st = queue_members_of(x, entry, dn, e);
	} else {
		struct berval **mo = ldap_get_values_len(x->dl->ld, entry, "memberOf");

		if (mo != NULL && mo[0] != NULL)
			x->with_memberof++;
		else
			x->without_memberof++;
		ldap_value_free_len(mo);
		dir_ldap_add_person(x->dl, entry, dn, x->out);
	}
	ldap_memfree(dn);
	return st;
}

/* Members read by DN: each is a group, a person, or skipped. */
struct member_reads {
	struct expand *x;
	char *const *dns;
};

static enum dir_status
member_read(struct dir_ldap *dl, size_t index, LDAPMessage *entry, void *arg,
    struct errbuf *e)
{
	struct member_reads *r = arg;

	if (entry == NULL) {
		log_debug("member %s does not exist or is neither a group nor a person "
		    "(user_filter %s): skipped", r->dns[index], dl->user_filter);
		r->x->n_skipped++;
		return DIR_OK;
	}
	return classify(r->x, entry, e);
}

/* Read members by DN, pipelined (dir_ldap_read_many). */
static enum dir_status
read_members(struct expand *x, char *const *dns, size_t n, struct errbuf *e)
{
	struct member_reads r = { x, dns };

	return dir_ldap_read_many(x->dl, dns, n, x->either_filter, x->attrs, member_read, &r, e);
}

/*
 * State of one large-batch scan. Most entries come back with the very DN
 * string the group holds, so an exact match is tried first and a DN is
 * normalized only when that fails (identical strings normalize alike).
 */
struct scan {
	struct expand *x;
	struct strset wanted_raw; /* the batch's DNs as the group holds them */
	struct strset wanted;     /* normalized DNs of the batch */
	struct strset found_raw;  /* those the scan returned, matched exactly */
	struct strset found;      /* those the scan returned, matched normalized */
	size_t n_entries;         /* everything the scan returned */
};

static enum dir_status
scan_entry(struct dir_ldap *dl, LDAPMessage *entry, void *arg, struct errbuf *e)
{
	struct scan *s = arg;
	char *dn = ldap_get_dn(dl->ld, entry);
	char *norm = NULL;

	s->n_entries++;
	if (dn == NULL)
		return dir_ldap_fail(dl, LDAP_DECODING_ERROR, "read the DN of an entry under",
		    dl->base_dn, NULL, e);
	/* A group that happens to match user_filter is read as a group later. */
	if (strset_has(&s->wanted_raw, dn)) {
		if (!is_group(dl->ld, entry) && strset_add(&s->found_raw, dn))
			dir_ldap_add_person(dl, entry, dn, s->x->out);
	} else {
		norm = dir_dn_normalize(dn);
		if (norm != NULL && strset_has(&s->wanted, norm) && !is_group(dl->ld, entry) &&
		    strset_add(&s->found, norm))
			dir_ldap_add_person(dl, entry, dn, s->x->out);
	}
	free(norm);
	ldap_memfree(dn);
	return DIR_OK;
}

/*
 * The people of the round's groups that carry memberOf, a few groups per
 * paged search; scan_entry() takes only those the groups list.
 */
static enum dir_status
search_memberof(struct expand *x, const struct strlist *groups, struct scan *s,
    struct errbuf *e)
{
	enum dir_status st = DIR_OK;

	for (size_t i = 0; i < groups->n && st == DIR_OK; i += GROUPS_PER_SEARCH) {
		struct buf b;
		char *filter = NULL, *or = NULL;
		size_t before = s->found_raw.n + s->found.n;

		buf_init(&b, 0);
		for (size_t k = i; k < groups->n && k < i + GROUPS_PER_SEARCH; k++) {
			char *esc = dir_filter_escape(groups->v[k], strlen(groups->v[k]));

			if (buf_printf(&b, "(memberOf=%s)", esc) != 0)
				abort(); /* unbounded buffer: cannot fail */
			free(esc);
		}
		or = buf_steal(&b, NULL);
		filter = xasprintf("(&%s(|%s))", x->dl->user_filter, or);
		st = dir_ldap_scan(x->dl, filter, x->search_attrs, scan_entry, s, e);
		x->by_memberof += s->found_raw.n + s->found.n - before;
		free(or);
		free(filter);
	}
	return st;
}

/*
 * Does the server keep memberOf? Decided once per connection from the
 * people read by DN so far (this batch's first SAMPLE members are read that
 * way when nothing is known yet): yes when SAMPLE of them are people and
 * every one carries memberOf.
 */
static enum dir_status
memberof_kept(struct expand *x, char **batch, size_t n, size_t *done, struct errbuf *e)
{
	enum dir_status st = DIR_OK;
	size_t k = 0;

	*done = 0;
	for (;;) {
		size_t seen = x->with_memberof + x->without_memberof, step;

		if (x->dl->memberof != 0)
			break;
		if (seen >= SAMPLE) {
			x->dl->memberof = x->without_memberof == 0 ? 1 : -1;
			log_debug("%s: the server %s memberOf on group members (%zu of %zu people "
			    "read carry it)", x->dl->uri, x->dl->memberof > 0 ? "keeps" :
			    "does not keep", x->with_memberof, seen);
			break;
		}
		if (k >= n)
			break;
		step = n - k < SAMPLE ? n - k : SAMPLE;
		st = read_members(x, batch + k, step, e);
		if (st != DIR_OK)
			return st;
		k += step;
	}
	*done = k;
	return DIR_OK;
}

static enum dir_status
run_round(struct expand *x, char **batch, size_t n, const struct strlist *groups,
    struct errbuf *e)
{
	struct scan s;
	enum dir_status st = DIR_OK;
	bool by_memberof = false;
	size_t i, sampled = 0;

	if (n >= MEMBEROF_MIN_BATCH && x->dl->memberof >= 0) {
		st = memberof_kept(x, batch, n, &sampled, e);
		if (st != DIR_OK)
			return st;
		batch += sampled;
		n -= sampled;
		by_memberof = x->dl->memberof > 0 && n > 0;
	}
	if (!by_memberof && !worth_a_scan(x->dl, n))
		return read_members(x, batch, n, e);
	memset(&s, 0, sizeof(s));
	s.x = x;
	strset_init(&s.wanted_raw);
	strset_init(&s.wanted);
	strset_init(&s.found_raw);
	strset_init(&s.found);
	for (i = 0; i < n; i++) {
		char *norm = dir_dn_normalize(batch[i]);

		(void)strset_add(&s.wanted_raw, batch[i]);
		(void)strset_add(&s.wanted, norm);
		free(norm);
	}
	if (by_memberof) {
		st = search_memberof(x, groups, &s, e);
	} else {
		st = dir_ldap_scan(x->dl, x->dl->user_filter, x->search_attrs, scan_entry, &s, e);
		if (st == DIR_OK)
			x->dl->people_scanned = s.n_entries;
	}
	/* Nested groups, people outside base_dn, no memberOf, junk: read by DN. */
	if (st == DIR_OK) {
		char **rest = xcalloc(n, sizeof(*rest));
		size_t n_rest = 0;

		for (i = 0; i < n; i++) {
			bool done = strset_has(&s.found_raw, batch[i]);

			if (!done) {
				char *norm = dir_dn_normalize(batch[i]);

				done = norm != NULL && strset_has(&s.found, norm);
				free(norm);
			}
			if (!done)
				rest[n_rest++] = batch[i];
		}
		st = read_members(x, rest, n_rest, e);
		free(rest);
	}
	strset_free(&s.wanted_raw);
	strset_free(&s.wanted);
	strset_free(&s.found_raw);
	strset_free(&s.found);
	return st;
}

static int
cmp_user_dn(const void *a, const void *b)
{
	return strcasecmp(((const struct user *)a)->dn, ((const struct user *)b)->dn);
}

enum dir_status
dir_ldap_expand_group(struct dir_ldap *dl, const char *group_dn, struct user_list *out,
    struct errbuf *e)
{
	struct expand x;
	LDAPMessage *res = NULL, *entry = NULL;
	enum dir_status st;
	size_t first = out->n, rounds = 0;
	char *norm = NULL;
	size_t k = 0;

	memset(&x, 0, sizeof(x));
	x.dl = dl;
	x.out = out;
	strset_init(&x.seen);
	x.either_filter = xasprintf("(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)%s)",
	    dl->user_filter);
	k = dir_ldap_person_attrs(dl->conf, x.attrs);
	x.attrs[k++] = "member";
	x.attrs[k++] = "uniqueMember";
	memcpy(x.search_attrs, x.attrs, k * sizeof(*x.attrs));
	x.search_attrs[k] = NULL;
	x.attrs[k++] = "memberOf";
	x.attrs[k] = NULL;

	norm = dir_dn_normalize(group_dn);
	if (norm == NULL || norm[0] == '\0') {
		err_set(e, "group_dn \"%s\" is not a valid DN; check group_dn in the [group] "
		    "section", group_dn);
		st = DIR_BAD_CONFIG;
		goto out;
	}
	(void)strset_add(&x.seen, norm);
	st = dir_ldap_read(dl, group_dn, NULL, x.attrs, &res, &entry, e);
	if (st != DIR_OK)
		goto out;
	if (entry == NULL) {
		err_set(e, "%s: group %s does not exist under %s (or the service account may "
		    "not read it); check group_dn in the [group] section", dl->uri, group_dn,
		    dl->base_dn);
		st = DIR_BAD_CONFIG;
		goto out;
	}
	if (!is_group(dl->ld, entry)) {
		err_set(e, "%s: %s is not a group (objectClass groupOfNames or "
		    "groupOfUniqueNames); check group_dn in the [group] section", dl->uri,
		    group_dn);
		st = DIR_BAD_CONFIG;
		goto out;
	}
	st = queue_members_of(&x, entry, group_dn, e);
	while (st == DIR_OK && x.n_pending > 0) {
		char **batch = x.pending;
		size_t n = x.n_pending;
		struct strlist groups = x.pending_groups;

		x.pending = NULL;
		x.n_pending = x.cap_pending = 0;
		memset(&x.pending_groups, 0, sizeof(x.pending_groups));
		rounds++;
		st = run_round(&x, batch, n, &groups, e);
		for (size_t i = 0; i < n; i++)
			free(batch[i]);
		free(batch);
		strlist_free(&groups);
	}
	if (st != DIR_OK)
		goto out;
	qsort(out->v + first, out->n - first, sizeof(*out->v), cmp_user_dn);
	log_debug("%s: group %s: %zu people (%zu found through memberOf), %zu nested groups, "
	    "%zu members skipped, %zu rounds", dl->uri, group_dn, out->n - first, x.by_memberof,
	    x.n_groups, x.n_skipped, rounds);
out:
	if (st != DIR_OK) {
		/* All or nothing: a partial member list must not look complete. */
		while (out->n > first)
			user_free_fields(&out->v[--out->n]);
	}
	ldap_msgfree(res);
	free(norm);
	expand_free(&x);
	return st;
}
