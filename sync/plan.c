/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/strutil.h"
#include "common/xalloc.h"
#include "sync/plan_internal.h"

static const char *const plan_action_names[] = {
	[PLAN_NOTHING] = "nothing",
	[PLAN_ISSUE] = "issue",
	[PLAN_RENEW] = "renew",
	[PLAN_REISSUE] = "reissue",
	[PLAN_RESUME] = "resume",
	[PLAN_REPUBLISH] = "republish",
	[PLAN_SKIP] = "skip",
};

const char *
plan_action_name(enum plan_action a)
{
	return a <= PLAN_SKIP ? plan_action_names[a] : "?";
}

static const char *const plan_remind_names[] = {
	[PLAN_REMIND_RENEW] = "reminder-renew",
	[PLAN_REMIND_LEAVER] = "reminder-leaver",
	[PLAN_REMIND_INSTALL] = "reminder-install",
	[PLAN_REMIND_PASSED] = "passed-at-renewal",
};

const char *
plan_remind_name(enum plan_remind k)
{
	return k <= PLAN_REMIND_PASSED ? plan_remind_names[k] : "?";
}

const struct store_user_state *
plan_find_state(const struct store_user_state *states, size_t n, const char *user_id)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(states[mid].user_id, user_id);

		if (c == 0)
			return &states[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int
cmp_member_id(const void *a, const void *b)
{
	const struct plan_member *x = *(const struct plan_member *const *)a;
	const struct plan_member *y = *(const struct plan_member *const *)b;
	int c = strcmp(x->user->id ? x->user->id : "", y->user->id ? y->user->id : "");

	if (c != 0)
		return c;
	/* Same person: the earlier group (config order) first. */
	return x->group < y->group ? -1 : x->group > y->group;
}

/* Did the group that governed this person last time fail to read now? */
static const char *
failed_governor(const struct config *cfg, const struct store_user_state *st,
    const bool *group_failed, size_t this_group)
{
	if (st == NULL || st->group_name == NULL || group_failed == NULL)
		return NULL;
	for (size_t i = 0; i < cfg->n_groups; i++) {
		if (i != this_group && group_failed[i] &&
		    strcmp(cfg->groups[i].name, st->group_name) == 0)
			return cfg->groups[i].name;
	}
	return NULL;
}

/*
 * I4: an unfinished action must not carry a revoked or superseded
 * certificate into the directory or the mail. It is stale when the
 * certificate it made is no longer valid, or when, before it made one,
 * the person's certificate was revoked after it began (an admin revoked
 * the person mid-way). Writes why into buf and returns true.
 */
static bool
stale_open_action(const struct store_user_state *st, char *buf, size_t len)
{
	if (st->open_cert_status != NULL && strcmp(st->open_cert_status, "valid") != 0) {
		snprintf(buf, len, "the certificate (serial %s) that an unfinished provisioning "
		    "made was %s before it was published and mailed: it stays out of the "
		    "directory and out of the mail, and that provisioning is closed",
		    st->open_serial ? st->open_serial : "?", st->open_cert_status);
		return true;
	}
	if (st->open_cert_status == NULL && st->revoked && st->revoked_at >= st->open_created) {
		snprintf(buf, len, "the person's certificate was revoked after an unfinished "
		    "provisioning began: that provisioning is closed%s",
		    st->open_at_ca ? " and the request left at the CA is abandoned" : "");
		return true;
	}
	return false;
}

static void
decide(const struct config *cfg, const struct store_user_state *st, const bool *group_failed,
    time_t now, struct plan_item *it)
{
	const struct conf_group *g = &cfg->groups[it->group];
	const struct user *u = it->user;
	const char *failed;
	char date[32];

	if (u->problem != NULL) {
		it->action = PLAN_SKIP;
		snprintf(it->reason, sizeof(it->reason), "%s", u->problem);
		return;
	}
	if (st != NULL && st->ignored) {
		it->action = PLAN_SKIP;
		snprintf(it->reason, sizeof(it->reason),
		    "ignored by an administrator (smimesync user %s unignore)", u->mail);
		return;
	}
	if (!it->known && (failed = failed_governor(cfg, st, group_failed, it->group)) != NULL) {
		it->action = PLAN_SKIP;
		it->hold = true;
		snprintf(it->reason, sizeof(it->reason),
		    "group %s, which governed this person, could not be read: "
		    "nothing changes for them in this run", failed);
		return;
	}
	if (!u->enabled) {
		it->action = PLAN_SKIP;
		snprintf(it->reason, sizeof(it->reason), "account is disabled in the directory");
		return;
	}
	if (st != NULL && st->open_action != 0 &&
	    stale_open_action(st, it->reason, sizeof(it->reason))) {
		size_t len = strlen(it->reason);

		it->abandon = st->open_action;
		if (st->force_issue) {
			it->action = PLAN_ISSUE;
			it->forced = true;
			snprintf(it->reason + len, sizeof(it->reason) - len, "; an administrator "
			    "asked for a new certificate (smimesync issue)");
		} else {
			it->action = PLAN_SKIP;
			snprintf(it->reason + len, sizeof(it->reason) - len, "; a new certificate "
			    "is issued only on request (smimesync issue %s)", u->mail);
		}
		return;
	}
	if (st != NULL && st->open_action != 0) {
		it->action = PLAN_RESUME;
		it->open_action = st->open_action;
		/* I1: "pending at a CA" is a reason of its own, not a failure. */
		snprintf(it->reason, sizeof(it->reason), "%s", st->open_at_ca ?
		    "pending at the CA: the request placed by an earlier run is asked about "
		    "again (never sent twice)" :
		    "an earlier run left provisioning unfinished: resuming it");
		return;
	}
	if (st != NULL && st->force_issue) {
		it->action = PLAN_ISSUE;
		it->forced = true;
		snprintf(it->reason, sizeof(it->reason),
		    "an administrator asked for a new certificate (smimesync issue)");
		return;
	}
	if (st != NULL && st->revoked) {
		it->action = PLAN_SKIP;
		snprintf(it->reason, sizeof(it->reason),
		    "the certificate was revoked; a new one is issued only on request "
		    "(smimesync issue %s)", u->mail);
		return;
	}
	if (st == NULL || st->cert_id == 0 || st->not_after <= now) {
		it->action = PLAN_ISSUE;
		snprintf(it->reason, sizeof(it->reason), "%s",
		    st != NULL && st->cert_id != 0 ? "the certificate has expired" :
		    "no valid certificate in the store");
		return;
	}
	format_time_utc(st->not_after, date, sizeof(date));
	if (st->mail != NULL && strcasecmp(st->mail, u->mail) != 0) {
		it->action = PLAN_REISSUE;
		snprintf(it->reason, sizeof(it->reason), "mail changed from %s to %s", st->mail,
		    u->mail);
		return;
	}
	if (plan_renewal_due(g, st->not_after, now)) {
		it->action = PLAN_RENEW;
		snprintf(it->reason, sizeof(it->reason), "expires %s, within the renewal window",
		    date);
		return;
	}
	if (!st->published) {
		it->action = PLAN_REPUBLISH;
		snprintf(it->reason, sizeof(it->reason),
		    "valid until %s but not yet published in the directory", date);
		return;
	}
	it->action = PLAN_NOTHING;
	if (st->display_name != NULL && u->display_name != NULL &&
	    strcmp(st->display_name, u->display_name) != 0)
		/* Mailbox profiles carry no name: a rename needs no new certificate. */
		snprintf(it->reason, sizeof(it->reason),
		    "valid until %s; name changed from \"%s\" to \"%s\" "
		    "(not in the certificate: nothing to re-issue)", date, st->display_name,
		    u->display_name);
	else
		snprintf(it->reason, sizeof(it->reason), "valid until %s", date);
}

/*
 * The CA rejected this person's last request: asking again with the same
 * data would be rejected again (DESIGN: only pending and unreachable are
 * retried). They wait for an admin, whose smimesync issue sets forced.
 */
static void
hold_if_rejected(const struct store_user_state *st, struct plan_item *it)
{
	bool wants_cert = it->action == PLAN_ISSUE || it->action == PLAN_RENEW ||
	    it->action == PLAN_REISSUE;

	if (st == NULL || st->ca_hold == NULL || !wants_cert || it->forced)
		return;
	it->action = PLAN_SKIP;
	snprintf(it->reason, sizeof(it->reason), "held back: the CA rejected the last request "
	    "(%s); once the cause is fixed, smimesync issue %s asks again", st->ca_hold,
	    it->user->mail);
}

/* Is addr (any case) one of the n strings of v? */
static bool
among(const char *addr, size_t len, const char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(v[i]) == len && strncasecmp(v[i], addr, len) == 0)
			return true;
	return false;
}

/*
 * I5: a resume certifies the addresses it was planned with. When they are
 * no longer the person's -- the primary address changed, or the
 * certificate it made names an alternative address the person may no
 * longer carry (it->alt_mails, already judged) -- writes why into buf and
 * returns true.
 */
static bool
resume_moved(const struct store_user_state *st, const struct plan_item *it, char *buf,
    size_t len)
{
	const char *p = st->open_alt_mails;

	if (st->open_mail != NULL && strcasecmp(st->open_mail, it->user->mail) != 0) {
		snprintf(buf, len, "it was planned for %s, and the directory now says %s",
		    st->open_mail, it->user->mail);
		return true;
	}
	while (st->open_cert_id != 0 && p != NULL && *p != '\0') {
		const char *end = strchr(p, '\n');
		size_t l = end != NULL ? (size_t)(end - p) : strlen(p);

		if (l > 0 && !among(p, l, it->alt_mails, it->n_alt_mails)) {
			snprintf(buf, len, "its certificate names %.*s, which is no longer this "
			    "person's (or may no longer be certified)", (int)l, p);
			return true;
		}
		p += l + (end != NULL);
	}
	return false;
}

/*
 * Turn a resume whose addresses moved into a re-issue for the current
 * ones: the unfinished action is closed, the certificate it made (if it
 * is still valid) revoked, and a new one planned.
 */
static void
replan_moved(const struct store_user_state *st, const char *why, struct plan_item *it)
{
	bool cert = st->open_cert_id != 0 && st->open_cert_status != NULL &&
	    strcmp(st->open_cert_status, "valid") == 0;

	it->abandon = st->open_action;
	it->revoke_open = cert ? st->open_cert_id : 0;
	it->open_action = 0;
	it->action = PLAN_REISSUE;
	it->forced = st->force_issue;
	if (st->cert_id == st->open_cert_id) {
		/* The action's own certificate is the one going away: nothing is current. */
		it->cert_id = 0;
		it->not_after = 0;
	}
	snprintf(it->reason, sizeof(it->reason), "address changed while provisioning was "
	    "unfinished: %s; that provisioning is closed%s%s%s, and a new certificate is issued "
	    "for the current addresses", why, cert ? ", its certificate (serial " : "",
	    cert ? (st->open_serial != NULL ? st->open_serial : "?") : "",
	    cert ? ") revoked" : "");
}

/*
 * A person skipped in this run (an address outside the allowed domains, a
 * problem with the entry) whose unfinished provisioning was planned for a
 * primary address no longer theirs: nothing is issued, but that
 * provisioning is closed and the certificate it made revoked (I5) -- left
 * open it would stay valid, unpublished, naming someone else's address.
 */
static void
close_moved(const struct store_user_state *st, struct plan_item *it)
{
	bool cert = st->open_cert_id != 0 && st->open_cert_status != NULL &&
	    strcmp(st->open_cert_status, "valid") == 0;
	size_t len = strlen(it->reason);

	if (it->hold || it->abandon != 0 || st->open_mail == NULL ||
	    (it->user->mail != NULL && strcasecmp(st->open_mail, it->user->mail) == 0))
		return;
	it->abandon = st->open_action;
	it->revoke_open = cert ? st->open_cert_id : 0;
	snprintf(it->reason + len, sizeof(it->reason) - len, "; the unfinished provisioning "
	    "planned for %s, no longer this person's address, is closed%s%s%s", st->open_mail,
	    cert ? " and its certificate (serial " : "",
	    cert ? (st->open_serial != NULL ? st->open_serial : "?") : "",
	    cert ? ") revoked" : "");
}

static bool
same_person(const struct plan_member *a, const struct plan_member *b)
{
	return a->user->id != NULL && b->user->id != NULL && strcmp(a->user->id, b->user->id) == 0;
}

void
plan_build(const struct config *cfg, const struct plan_member *members, size_t n_members,
    const struct store_user_state *states, size_t n_states, const bool *group_failed,
    time_t now, struct plan *out)
{
	const struct plan_member **sorted = xcalloc(n_members, sizeof(*sorted));
	/* governor[i]: index of the member entry that governs member i's person. */
	size_t *governor = xcalloc(n_members, sizeof(*governor));
	size_t *item_of = xcalloc(n_members, sizeof(*item_of));
	struct plan_item *items = xcalloc(n_members, sizeof(*items));
	struct plan_claims claims;
	size_t n = 0;

	/*
	 * Sort by user id to find people in several groups in O(n log n);
	 * the first group in config order governs, the others are noted.
	 */
	for (size_t i = 0; i < n_members; i++)
		sorted[i] = &members[i];
	qsort(sorted, n_members, sizeof(*sorted), cmp_member_id);
	for (size_t i = 0; i < n_members;) {
		size_t first = (size_t)(sorted[i] - members);
		size_t j = i;

		while (j < n_members && (j == i || same_person(sorted[j], sorted[i])))
			governor[sorted[j++] - members] = first;
		i = j;
	}

	for (size_t i = 0; i < n_members; i++) {
		const struct plan_member *m = &members[i];
		struct plan_item *it;

		if (governor[i] != i)
			continue;
		item_of[i] = n;
		it = &items[n++];
		it->user = m->user;
		it->group = m->group;
		it->known = m->known;
	}
	/* Addresses are judged across everyone read in this run (I5). */
	plan_claims_build(items, n, &claims);
	for (size_t k = 0; k < n; k++) {
		struct plan_item *it = &items[k];
		const struct store_user_state *st;

		st = it->user->id == NULL ? NULL : plan_find_state(states, n_states, it->user->id);
		if (st != NULL) {
			it->cert_id = st->cert_id;
			it->not_after = st->not_after;
		}
		decide(cfg, st, group_failed, now, it);
		hold_if_rejected(st, it);
		(void)plan_addresses(cfg, &claims, k, st, it, items);
		if (it->action == PLAN_RESUME) {
			char why[384];

			if (resume_moved(st, it, why, sizeof(why)))
				replan_moved(st, why, it);
		} else if (it->action == PLAN_SKIP && st != NULL && st->open_action != 0) {
			close_moved(st, it);
		}
		/*
		 * A request is about to carry these addresses: a new certificate, or
		 * a resume that has no certificate yet and no request waiting at a CA.
		 */
		it->check_holders = it->action == PLAN_ISSUE || it->action == PLAN_RENEW ||
		    it->action == PLAN_REISSUE || (it->action == PLAN_RESUME &&
		    st->open_cert_id == 0 && !st->open_at_ca);
	}
	/* Name the other groups of people in several, in config order. */
	for (size_t i = 0; i < n_members; i++) {
		struct plan_item *it;
		size_t len;

		if (governor[i] == i || members[i].group == members[governor[i]].group)
			continue;
		it = &items[item_of[governor[i]]];
		len = strlen(it->also_in);
		snprintf(it->also_in + len, sizeof(it->also_in) - len, "%s%s", len ? ", " : "",
		    cfg->groups[members[i].group].name);
	}
	free(sorted);
	free(governor);
	free(item_of);
	memset(out, 0, sizeof(*out));
	out->items = items;
	out->n_items = n;
	plan_conflicts(&claims, items, out);
	plan_claims_free(&claims);
}

void
plan_free(struct plan *p)
{
	for (size_t i = 0; i < p->n_items; i++)
		free(p->items[i].alt_mails);
	free(p->items);
	for (size_t i = 0; i < p->n_conflicts; i++)
		free(p->conflicts[i].outsider);
	free(p->conflicts);
	for (size_t i = 0; i < p->issue_valve.n_why; i++)
		free(p->issue_valve.why[i]);
	free(p->issue_valve.why);
	free(p->leavers);
	for (size_t i = 0; i < p->valve.n_why; i++)
		free(p->valve.why[i]);
	free(p->valve.why);
	free(p->reminders);
	memset(p, 0, sizeof(*p));
}
