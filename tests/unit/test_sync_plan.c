/* SPDX-License-Identifier: ISC */
/*
 * The planner decides from (members, state, policy, now) alone: per
 * person (step 1), and over the live certificates: leavers, the safety
 * valve and reminders (step 2).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strutil.h"
#include "sync/plan.h"
#include "tests/unit/check.h"

#define DAY 86400
/* sync/plan_internal.h: PLAN_MAX_ALT_MAILS */
#define PLAN_MAX_ALT_MAILS_TEST 25

static struct conf_group groups[2];
static struct config cfg;

static struct user
mkuser(const char *id, const char *mail)
{
	struct user u;

	memset(&u, 0, sizeof(u));
	u.id = (char *)id;
	u.dn = (char *)id;
	u.mail = (char *)mail;
	u.enabled = true;
	return u;
}

static const struct plan_item *
find(const struct plan_item *items, size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(items[i].user->id, id) == 0)
			return &items[i];
	return NULL;
}

/* ---- step 2: leavers, the safety valve, reminders ---- */

static struct conf_group g2[2];
static struct config cfg2;

static struct store_holder
mkholder(const char *id, const char *group, int64_t cert_id, enum cert_status status,
    time_t not_before, time_t not_after, time_t left_at)
{
	struct store_holder h;

	memset(&h, 0, sizeof(h));
	h.user_id = (char *)id;
	h.mail = (char *)id;
	h.cert_mail = (char *)id;
	h.group_name = (char *)group;
	h.cert_id = cert_id;
	h.status = status;
	h.not_before = not_before;
	h.not_after = not_after;
	h.left_at = left_at;
	return h;
}

static const struct plan_leaver *
find_leaver(const struct plan *p, const char *id)
{
	for (size_t i = 0; i < p->n_leavers; i++)
		if (strcmp(p->leavers[i].h->user_id, id) == 0)
			return &p->leavers[i];
	return NULL;
}

static const struct plan_reminder *
find_reminder(const struct plan *p, int64_t cert_id)
{
	for (size_t i = 0; i < p->n_reminders; i++)
		if (p->reminders[i].h->cert_id == cert_id)
			return &p->reminders[i];
	return NULL;
}

/* Plan both steps for members u; a user's dn names its group here. */
static void
plan2(struct user *u, size_t n_users, const struct store_holder *h, size_t n_h,
    const bool *group_failed, bool allow_mass, time_t now, struct plan *p)
{
	struct plan_member m[16] = { 0 };

	for (size_t i = 0; i < n_users; i++) {
		m[i].user = &u[i];
		m[i].group = strcmp(u[i].dn, "staff") == 0 ? 1 : 0;
	}
	plan_build(&cfg2, m, n_users, NULL, 0, group_failed, now, p);
	plan_holders(&cfg2, h, n_h, group_failed, NULL, 0, allow_mass, now, p);
}

static void
test_reminders(time_t now)
{
	static const int64_t sent30[] = { 30 * DAY };
	struct user u[7];
	struct store_holder h[9];
	struct plan p;
	const struct plan_reminder *r;
	const char *ids[] = { "a", "b", "c", "d", "f", "g", "h" };

	for (size_t i = 0; i < 7; i++) {
		u[i] = mkuser(ids[i], ids[i]);
		u[i].dn = (char *)(strcmp(ids[i], "f") == 0 ? "staff" : "sales");
	}
	/* sorted by user id, newest first per person, as store_holders() returns them */
	h[0] = mkholder("a", "sales", 1, CERT_VALID, now - 340 * DAY, now + 25 * DAY, 0);
	h[1] = mkholder("b", "sales", 2, CERT_VALID, now - 334 * DAY, now + 31 * DAY, 0);
	h[2] = mkholder("c", "sales", 3, CERT_VALID, now - 340 * DAY, now + 25 * DAY, 0);
	h[2].reminded = (int64_t *)sent30;
	h[2].n_reminded = 1;
	h[3] = mkholder("d", "sales", 4, CERT_VALID, now - 350 * DAY, now + 15 * DAY, 0);
	h[4] = mkholder("f", "staff", 5, CERT_VALID, now - 360 * DAY, now + 5 * DAY, 0);
	h[5] = mkholder("g", "sales", 71, CERT_VALID, now - 8 * DAY, now + 357 * DAY, 0);
	h[6] = mkholder("g", "sales", 70, CERT_SUPERSEDED, now - 359 * DAY, now + 6 * DAY, 0);
	h[7] = mkholder("h", "sales", 81, CERT_VALID, now, now + 365 * DAY, 0);
	h[8] = mkholder("h", "sales", 80, CERT_SUPERSEDED, now - 351 * DAY, now + 14 * DAY, 0);
	plan2(u, 7, h, 9, NULL, false, now, &p);
	CHECK_INTEQ(p.n_leavers, 0);

	/* 25 days left, 30d is due: automatic renewal announced, renew_before ahead. */
	r = find_reminder(&p, 1);
	CHECK(r != NULL);
	if (r != NULL) {
		CHECK_INTEQ(r->kind, PLAN_REMIND_RENEW);
		CHECK_INTEQ(r->threshold, 30 * DAY);
		CHECK_INTEQ(r->renew_at, now + 10 * DAY);
		CHECK_INTEQ(r->n_mark, 1);
		CHECK_STREQ(r->reason, "expires within 30d: reminder-renew");
	}
	CHECK(find_reminder(&p, 2) == NULL); /* 31 days left: nothing due */
	CHECK(find_reminder(&p, 3) == NULL); /* 30d sent already: never twice */
	CHECK(find_reminder(&p, 4) == NULL); /* renewal due: its own mail says it all */
	/* After downtime only the nearest threshold goes out; larger ones are marked too. */
	r = find_reminder(&p, 5);
	CHECK(r != NULL);
	if (r != NULL) {
		CHECK_INTEQ(r->kind, PLAN_REMIND_RENEW);
		CHECK_INTEQ(r->threshold, 7 * DAY);
		CHECK_INTEQ(r->n_mark, 2);
		CHECK_INTEQ(r->mark[0], 30 * DAY);
		CHECK_INTEQ(r->mark[1], 7 * DAY);
	}
	/* Superseded by a renewal 8 days ago: install the new one. */
	CHECK(find_reminder(&p, 71) == NULL);
	r = find_reminder(&p, 70);
	CHECK(r != NULL);
	if (r != NULL) {
		CHECK_INTEQ(r->kind, PLAN_REMIND_INSTALL);
		CHECK_INTEQ(r->threshold, 7 * DAY);
		CHECK(r->newer == &h[5]);
		CHECK_STREQ(r->reason, "expires within 7d: reminder-install");
	}
	/* Renewed just now with 14 days left: 30d had passed, marked without a mail. */
	r = find_reminder(&p, 80);
	CHECK(r != NULL);
	if (r != NULL) {
		CHECK_INTEQ(r->kind, PLAN_REMIND_PASSED);
		CHECK_INTEQ(r->n_mark, 1);
		CHECK_INTEQ(r->mark[0], 30 * DAY);
	}
	plan_free(&p);

	/* A threshold is due when exactly that much is left. */
	h[1].not_after = now + 30 * DAY;
	/* The renewal window edge, the same rule as step 1: one second more reminds. */
	h[3].not_after = now + 15 * DAY + 1;
	/* Passed thresholds already recorded: nothing left to mark. */
	h[8].reminded = (int64_t *)sent30;
	h[8].n_reminded = 1;
	plan2(u, 7, h, 9, NULL, false, now, &p);
	CHECK(find_reminder(&p, 2) != NULL && find_reminder(&p, 2)->threshold == 30 * DAY);
	CHECK(find_reminder(&p, 4) != NULL && find_reminder(&p, 4)->kind == PLAN_REMIND_RENEW);
	CHECK(find_reminder(&p, 80) == NULL);
	plan_free(&p);

	/* Ignored, suspended, an unread group, or no [mail]: nobody is reminded. */
	h[0].ignored = true;
	h[4].notifications_suspended = true;
	plan2(u, 7, h, 9, NULL, false, now, &p);
	CHECK(find_reminder(&p, 1) == NULL);
	CHECK(find_reminder(&p, 5) == NULL);
	CHECK(find_reminder(&p, 70) != NULL);
	plan_free(&p);
	h[0].ignored = false;
	h[4].notifications_suspended = false;
	{
		bool failed[2] = { true, false };

		plan2(u, 7, h, 9, failed, false, now, &p);
		CHECK_INTEQ(p.n_reminders, 1);
		CHECK(find_reminder(&p, 5) != NULL);
		plan_free(&p);
	}
	cfg2.has_mail = false;
	plan2(u, 7, h, 9, NULL, false, now, &p);
	CHECK_INTEQ(p.n_reminders, 0);
	plan_free(&p);
	cfg2.has_mail = true;
}

static void
test_leavers(time_t now)
{
	struct user u[3];
	struct store_holder h[8];
	struct plan p;
	const struct plan_leaver *l;
	const struct plan_reminder *r;
	char want[256], date[32];

	/* Members now: "back" (sales), "dis" (sales, disabled), "m" (staff). */
	u[0] = mkuser("back", "back");
	u[0].dn = (char *)"sales";
	u[1] = mkuser("dis", "dis");
	u[1].dn = (char *)"sales";
	u[1].enabled = false;
	u[2] = mkuser("m", "m");
	u[2].dn = (char *)"staff";
	h[0] = mkholder("back", "sales", 1, CERT_VALID, now - 340 * DAY, now + 25 * DAY, now - 5 * DAY);
	h[1] = mkholder("dis", "sales", 2, CERT_VALID, now - 345 * DAY, now + 20 * DAY, 0);
	h[2] = mkholder("l1", "sales", 3, CERT_VALID, now - 345 * DAY, now + 20 * DAY, 0);
	h[3] = mkholder("l2", "sales", 4, CERT_VALID, now - 265 * DAY, now + 100 * DAY, now - 10 * DAY);
	h[4] = mkholder("r1", "staff", 5, CERT_VALID, now - 265 * DAY, now + 100 * DAY, 0);
	h[5] = mkholder("r2", "staff", 6, CERT_VALID, now - 265 * DAY, now + 100 * DAY, now - 3 * DAY);
	h[6] = mkholder("r3", "staff", 7, CERT_VALID, now - 345 * DAY, now + 20 * DAY, now - 7 * DAY);
	h[7] = mkholder("r4", "staff", 8, CERT_VALID, now - 265 * DAY, now + 100 * DAY,
	    now - 7 * DAY + 1);
	plan2(u, 3, h, 8, NULL, false, now, &p);
	CHECK(!p.valve.closed && p.valve.n_why == 0);

	/* Back in the group: a member again, reminded like one. */
	l = find_leaver(&p, "back");
	CHECK(l != NULL && l->action == PLAN_LEAVE_BACK);
	r = find_reminder(&p, 1);
	CHECK(r != NULL && r->kind == PLAN_REMIND_RENEW);
	/* Disabled: a leaver at once, and told why. */
	l = find_leaver(&p, "dis");
	CHECK(l != NULL && l->action == PLAN_LEAVE_KEEP && l->fresh);
	CHECK(l != NULL && strcmp(l->left, "the account is disabled or expired") == 0);
	r = find_reminder(&p, 2);
	CHECK(r != NULL && r->kind == PLAN_REMIND_LEAVER);
	CHECK(r != NULL && strcmp(r->left, "your account is disabled") == 0);
	/* Newly gone under stop-renewing: recorded, reported once, and reminded as a leaver. */
	l = find_leaver(&p, "l1");
	CHECK(l != NULL && l->action == PLAN_LEAVE_KEEP && l->fresh);
	format_time_utc(now + 20 * DAY, date, sizeof(date));
	snprintf(want, sizeof(want), "no longer a member of any synced group; the certificate is "
	    "not renewed and expires %s (on_leave = stop-renewing)", date);
	CHECK_STREQ(l != NULL ? l->reason : NULL, want);
	r = find_reminder(&p, 3);
	CHECK(r != NULL && r->kind == PLAN_REMIND_LEAVER && r->threshold == 30 * DAY);
	CHECK(find_leaver(&p, "l2") == NULL); /* said once, when they left */
	/* on_leave = revoke: grace from the day they left, exactly leave_grace revokes. */
	l = find_leaver(&p, "r1");
	CHECK(l != NULL && l->action == PLAN_LEAVE_GRACE && l->fresh);
	format_time_utc(now + 7 * DAY, date, sizeof(date));
	snprintf(want, sizeof(want), "no longer a member of any synced group; revoked on %s unless "
	    "they come back (on_leave = revoke, leave_grace)", date);
	CHECK_STREQ(l != NULL ? l->reason : NULL, want);
	CHECK(find_leaver(&p, "r2") == NULL);
	l = find_leaver(&p, "r3");
	CHECK(l != NULL && l->action == PLAN_LEAVE_REVOKE && !l->fresh);
	CHECK(find_reminder(&p, 7) == NULL); /* revoked: no reminder */
	CHECK(find_leaver(&p, "r4") == NULL);
	plan_free(&p);

	/* on_leave = keep: recorded, but no leaver reminder. */
	g2[0].on_leave = LEAVE_KEEP;
	plan2(u, 3, h, 8, NULL, false, now, &p);
	l = find_leaver(&p, "l1");
	CHECK(l != NULL && l->action == PLAN_LEAVE_KEEP);
	CHECK_CONTAINS(l != NULL ? l->reason : NULL, "(on_leave = keep)");
	CHECK(find_reminder(&p, 3) == NULL);
	plan_free(&p);
	g2[0].on_leave = LEAVE_STOP_RENEWING;

	/*
	 * I3: a certificate that never reached its holder (not published, no
	 * mail sent) is revoked once leave_grace passes, whatever on_leave
	 * says (sales: stop-renewing), and its provisioning is closed.
	 */
	g2[0].leave_grace = 2 * DAY;
	h[2].undelivered = true;
	h[2].open_action = 42;
	plan2(u, 3, h, 8, NULL, false, now, &p);
	l = find_leaver(&p, "l1");
	CHECK(l != NULL && l->action == PLAN_LEAVE_GRACE && l->fresh && l->abandon == 0);
	CHECK_CONTAINS(l != NULL ? l->reason : NULL, "never delivered");
	plan_free(&p);
	h[2].left_at = now - g2[0].leave_grace - 1;
	plan2(u, 3, h, 8, NULL, false, now, &p);
	l = find_leaver(&p, "l1");
	CHECK(l != NULL && l->action == PLAN_LEAVE_REVOKE && !l->fresh && l->abandon == 42);
	CHECK(find_reminder(&p, 3) == NULL); /* revoked: no leaver reminder */
	plan_free(&p);
	/* Delivered, the same leaver keeps it (stop-renewing), said once. */
	h[2].undelivered = false;
	h[2].open_action = 0;
	plan2(u, 3, h, 8, NULL, false, now, &p);
	CHECK(find_leaver(&p, "l1") == NULL);
	plan_free(&p);
	h[2].left_at = 0;
	g2[0].leave_grace = 0;

	/* A group that could not be read retires nobody. */
	{
		bool failed[2] = { true, true };

		plan2(u, 3, h, 8, failed, false, now, &p);
		CHECK_INTEQ(p.n_leavers, 0);
		CHECK_INTEQ(p.n_reminders, 0);
		plan_free(&p);
	}
}

static void
test_valve(time_t now)
{
	struct user u[4];
	struct store_holder h[5];
	struct plan p;
	const char *gone[] = { "x1", "x2", "x3", "x4", "x5" };

	for (size_t i = 0; i < 4; i++) {
		static const char *const ids[] = { "m1", "m2", "m3", "m4" };

		u[i] = mkuser(ids[i], ids[i]);
		u[i].dn = (char *)"sales";
	}
	for (size_t i = 0; i < 5; i++)
		h[i] = mkholder(gone[i], "sales", (int64_t)i + 1, CERT_VALID, now - 345 * DAY,
		    now + 20 * DAY, 0);
	/* 4 of 8 is max_retire_percent = 50 exactly: not more, the valve stays open. */
	plan2(u, 4, h, 4, NULL, false, now, &p);
	CHECK(!p.valve.closed && !p.valve.held);
	CHECK_INTEQ(p.n_leavers, 4);
	plan_free(&p);
	/* 5 of 9: closed; nobody is retired, and nobody is told they left. */
	plan2(u, 4, h, 5, NULL, false, now, &p);
	CHECK(p.valve.closed && p.valve.held);
	CHECK_INTEQ(p.valve.n_why, 1);
	CHECK_STREQ(p.valve.n_why > 0 ? p.valve.why[0] : NULL, "safety valve: 5 of 9 people would "
	    "leave group sales in this run, more than max_retire_percent = 50%; nobody was "
	    "retired. If the directory is right, run: smimesync run --allow-mass-retire");
	CHECK_INTEQ(p.n_reminders, 0);
	plan_free(&p);
	/* --allow-mass-retire: still reported (a notice), but carried out. */
	plan2(u, 4, h, 5, NULL, true, now, &p);
	CHECK(p.valve.closed && !p.valve.held);
	CHECK_STREQ(p.valve.n_why > 0 ? p.valve.why[0] : NULL, "mass retirement allowed by "
	    "--allow-mass-retire: 5 of 9 people leave group sales in this run, the limit is "
	    "max_retire_percent = 50%");
	CHECK_INTEQ(p.n_reminders, 5);
	plan_free(&p);
	/* max_retire counts every group: 5 > 4. */
	cfg2.service.max_retire = 4;
	plan2(u, 4, h, 5, NULL, false, now, &p);
	CHECK_INTEQ(p.valve.n_why, 2);
	CHECK_CONTAINS(p.valve.n_why > 0 ? p.valve.why[0] : NULL,
	    "5 people would leave in this run, more than max_retire = 4");
	plan_free(&p);
	cfg2.service.max_retire = 100;
	/* The percentage never stops fewer than 3 people. */
	plan2(u, 1, h, 2, NULL, false, now, &p);
	CHECK(!p.valve.closed);
	plan_free(&p);
}

/*
 * I4: an unfinished action is not resumed once the certificate it made
 * was revoked or superseded, nor when the person was revoked after it
 * began; it is closed (abandon) and the person skipped, or issued afresh
 * when an admin asked.
 */
static void
test_stale_resume(struct user *u, struct plan_member *m, struct store_user_state *st, size_t n_st,
    time_t now)
{
	struct plan p;
	const struct plan_item *it;

	(void)u;
	st[4].open_cert_status = (char *)"revoked";
	st[4].open_serial = (char *)"0ABC";
	plan_build(&cfg, m, 8, st, n_st, NULL, now, &p);
	it = find(p.items, p.n_items, "f");
	CHECK_INTEQ(it->action, PLAN_SKIP);
	CHECK_INTEQ(it->abandon, 77);
	CHECK_CONTAINS(it->reason, "serial 0ABC");
	CHECK_CONTAINS(it->reason, "was revoked before it was published and mailed");
	plan_free(&p);
	st[4].open_cert_status = (char *)"valid";
	plan_build(&cfg, m, 8, st, n_st, NULL, now, &p);
	CHECK_INTEQ(find(p.items, p.n_items, "f")->action, PLAN_RESUME);
	plan_free(&p);
	/* No certificate yet, but the person was revoked after the action began. */
	st[4].open_cert_status = NULL;
	st[4].open_created = now - 100;
	st[4].revoked = true;
	st[4].revoked_at = now - 50;
	st[4].force_issue = true;
	plan_build(&cfg, m, 8, st, n_st, NULL, now, &p);
	it = find(p.items, p.n_items, "f");
	CHECK_INTEQ(it->action, PLAN_ISSUE);
	CHECK(it->forced);
	CHECK_INTEQ(it->abandon, 77);
	plan_free(&p);
	/* Revoked before the action began (an admin's smimesync issue after it): resumed. */
	st[4].revoked_at = now - 200;
	plan_build(&cfg, m, 8, st, n_st, NULL, now, &p);
	CHECK_INTEQ(find(p.items, p.n_items, "f")->action, PLAN_RESUME);
	plan_free(&p);
	st[4].revoked = false;
	st[4].revoked_at = 0;
	st[4].force_issue = false;
}

/* I5: domains, addresses claimed twice, non-ASCII primaries, bounds, lost aliases. */
static void
test_addresses(time_t now)
{
	struct conf_group g[1];
	struct config c;
	struct user u[4];
	struct plan_member m[4] = { 0 };
	char *bob_alts[] = { "alice@example.org", "bob@evil.example", "BOB.B@example.org" };
	char *many[PLAN_MAX_ALT_MAILS_TEST + 1];
	char names[PLAN_MAX_ALT_MAILS_TEST + 1][32];
	struct store_user_state st[] = {
		{ .user_id = "d", .mail = "d@example.org", .cert_id = 5, .not_after = now + 100 * DAY,
		    .published = true, .alt_mails = (char *)"d.alias@example.org" },
	};
	struct plan p;
	const struct plan_item *it;

	memset(g, 0, sizeof(g));
	memset(&c, 0, sizeof(c));
	g[0].name = "sales";
	g[0].renew_before = 15 * DAY;
	g[0].allowed_domains = (char *)"example.org, .example.net";
	c.groups = g;
	c.n_groups = 1;
	u[0] = mkuser("a", "alice@example.org");
	u[1] = mkuser("b", "bob@example.org");
	u[1].alt_mails = bob_alts;
	u[1].n_alt_mails = 3;
	u[2] = mkuser("c", "j\xc3\xb6rg@example.org");
	u[3] = mkuser("d", "d@example.org");
	for (int i = 0; i < 4; i++) {
		m[i].user = &u[i];
		m[i].group = 0;
	}
	plan_build(&c, m, 4, st, 1, NULL, now, &p);
	it = find(p.items, p.n_items, "a");
	CHECK_INTEQ(it->action, PLAN_SKIP);
	CHECK_CONTAINS(it->reason, "claimed by this person (a) and by b as well");
	it = find(p.items, p.n_items, "b");
	CHECK_INTEQ(it->action, PLAN_ISSUE);
	CHECK_INTEQ(it->n_alt_mails, 1);
	CHECK_STREQ(it->alt_mails[0], "BOB.B@example.org");
	CHECK_CONTAINS(it->reason, "bob@evil.example (outside the allowed domains)");
	CHECK_CONTAINS(it->reason, "alice@example.org (claimed by another person too)");
	CHECK_INTEQ(p.n_conflicts, 1);
	CHECK_STREQ(p.conflicts[0].addr, "alice@example.org");
	it = find(p.items, p.n_items, "c");
	CHECK_INTEQ(it->action, PLAN_SKIP);
	CHECK_CONTAINS(it->reason, "not ASCII");
	it = find(p.items, p.n_items, "d");
	CHECK_INTEQ(it->action, PLAN_REISSUE);
	CHECK_CONTAINS(it->reason, "d.alias@example.org");
	plan_free(&p);

	/* A disabled account claims nothing: its old address may be a successor's. */
	u[1].enabled = false;
	plan_build(&c, m, 4, st, 1, NULL, now, &p);
	CHECK_INTEQ(find(p.items, p.n_items, "a")->action, PLAN_ISSUE);
	CHECK_INTEQ(p.n_conflicts, 0);
	plan_free(&p);
	u[1].enabled = true;

	/* A subdomain entry allows the domains below it, not the domain itself. */
	u[3].mail = (char *)"d@mx.example.net";
	st[0].mail = (char *)"d@mx.example.net";
	st[0].alt_mails = NULL;
	plan_build(&c, m, 4, st, 1, NULL, now, &p);
	CHECK_INTEQ(find(p.items, p.n_items, "d")->action, PLAN_NOTHING);
	plan_free(&p);
	st[0].cert_id = 0;
	u[3].mail = (char *)"d@example.net";
	plan_build(&c, m, 4, st, 1, NULL, now, &p);
	CHECK_INTEQ(find(p.items, p.n_items, "d")->action, PLAN_SKIP);
	CHECK_CONTAINS(find(p.items, p.n_items, "d")->reason, "outside the allowed mail domains");
	plan_free(&p);

	/* Too many alternative addresses: a per-person reason, not a CA failure. */
	for (int i = 0; i <= PLAN_MAX_ALT_MAILS_TEST; i++) {
		snprintf(names[i], sizeof(names[i]), "d%d@example.org", i);
		many[i] = names[i];
	}
	u[3].mail = (char *)"d@example.org";
	u[3].alt_mails = many;
	u[3].n_alt_mails = PLAN_MAX_ALT_MAILS_TEST + 1;
	plan_build(&c, m, 4, st, 1, NULL, now, &p);
	CHECK_INTEQ(find(p.items, p.n_items, "d")->action, PLAN_SKIP);
	CHECK_CONTAINS(find(p.items, p.n_items, "d")->reason, "alternative addresses, at most");
	plan_free(&p);
}

/* The mass-issuance valve: above the limit nobody new is issued, unless allowed. */
static void
test_issue_valve(time_t now)
{
	struct conf_group g[1];
	struct config c;
	struct user u[60];
	struct plan_member m[60] = { 0 };
	char ids[60][8], mails[60][32];
	struct plan p;

	memset(g, 0, sizeof(g));
	memset(&c, 0, sizeof(c));
	g[0].name = "all";
	g[0].renew_before = 15 * DAY;
	c.groups = g;
	c.n_groups = 1;
	for (int i = 0; i < 60; i++) {
		snprintf(ids[i], sizeof(ids[i]), "u%02d", i);
		snprintf(mails[i], sizeof(mails[i]), "u%02d@example.org", i);
		u[i] = mkuser(ids[i], mails[i]);
		m[i].user = &u[i];
		m[i].group = 0;
	}
	plan_build(&c, m, 60, NULL, 0, NULL, now, &p);
	plan_issue_valve(&c, NULL, 0, false, now, &p);
	CHECK_INTEQ(p.n_new, 60);
	CHECK_INTEQ(p.max_new, 50);
	CHECK(p.issue_valve.held);
	CHECK_INTEQ(find(p.items, p.n_items, "u07")->action, PLAN_SKIP);
	CHECK_CONTAINS(find(p.items, p.n_items, "u07")->reason, "--allow-mass-issue");
	plan_free(&p);
	plan_build(&c, m, 60, NULL, 0, NULL, now, &p);
	plan_issue_valve(&c, NULL, 0, true, now, &p);
	CHECK(p.issue_valve.closed && !p.issue_valve.held);
	CHECK_INTEQ(find(p.items, p.n_items, "u07")->action, PLAN_ISSUE);
	/* Opened on purpose: the report's notice says so, with the count and the limit. */
	CHECK_INTEQ(p.issue_valve.n_why, 1);
	CHECK_CONTAINS(p.issue_valve.why[0], "mass issuance allowed by --allow-mass-issue: 60 new "
	    "certificates, the limit is 50");
	plan_free(&p);
	c.service.max_new_per_run = 60;
	plan_build(&c, m, 60, NULL, 0, NULL, now, &p);
	plan_issue_valve(&c, NULL, 0, false, now, &p);
	CHECK(!p.issue_valve.closed);
	plan_free(&p);
}

/* I5, step 1c: what the directory says about entries in no synced group. */
static void
test_outsiders(time_t now)
{
	struct conf_group g[1];
	struct config c;
	struct user u[4];
	struct plan_member m[4] = { 0 };
	char *a_alts[] = { "a.alias@example.org", "dave@example.org" };
	struct store_user_state st[] = {
		{ .user_id = "d", .mail = "d@example.org", .cert_id = 5, .not_after = now + 100 * DAY,
		    .published = true },
	};
	struct plan_holder_check chk[4];
	struct plan p;
	const struct plan_item *it;

	memset(g, 0, sizeof(g));
	memset(&c, 0, sizeof(c));
	g[0].name = "sales";
	g[0].renew_before = 15 * DAY;
	c.groups = g;
	c.n_groups = 1;
	u[0] = mkuser("a", "a@example.org");
	u[0].alt_mails = a_alts;
	u[0].n_alt_mails = 2;
	u[1] = mkuser("b", "peggy@example.org");
	u[2] = mkuser("c", "c@example.org");
	u[3] = mkuser("d", "d@example.org");
	for (int i = 0; i < 4; i++) {
		m[i].user = &u[i];
		m[i].group = 0;
	}
	plan_build(&c, m, 4, st, 1, NULL, now, &p);
	/* Only a certificate about to be requested is asked about: the cost follows issuance. */
	CHECK(find(p.items, p.n_items, "a")->check_holders);
	CHECK(find(p.items, p.n_items, "c")->check_holders);
	CHECK(!find(p.items, p.n_items, "d")->check_holders);
	CHECK_INTEQ(find(p.items, p.n_items, "a")->n_alt_mails, 2);
	chk[0] = (struct plan_holder_check){ 0, "a@example.org", NULL, NULL };
	chk[1] = (struct plan_holder_check){ 0, "DAVE@example.org", "uid=dave,ou=people", NULL };
	chk[2] = (struct plan_holder_check){ 1, "peggy@example.org", "uid=peggy,ou=people", NULL };
	chk[3] = (struct plan_holder_check){ 2, "c@example.org", NULL, "ldap://dc: timeout" };
	plan_outsiders(chk, 4, &p);
	it = find(p.items, p.n_items, "a");
	CHECK_INTEQ(it->action, PLAN_ISSUE);
	CHECK_INTEQ(it->n_alt_mails, 1);
	CHECK_STREQ(it->alt_mails[0], "a.alias@example.org");
	CHECK_CONTAINS(it->reason, "left out of the certificate: DAVE@example.org "
	    "(uid=dave,ou=people holds it too, in no synced group)");
	it = find(p.items, p.n_items, "b");
	CHECK_INTEQ(it->action, PLAN_SKIP);
	CHECK_CONTAINS(it->reason, "not certified: peggy@example.org is this person's (b) and "
	    "uid=peggy,ou=people holds it too");
	/* Never certified unchecked. */
	it = find(p.items, p.n_items, "c");
	CHECK_INTEQ(it->action, PLAN_SKIP);
	CHECK_CONTAINS(it->reason, "could not check who else holds c@example.org: ldap://dc: "
	    "timeout; the next run asks again");
	CHECK_INTEQ(p.n_conflicts, 2);
	CHECK_STREQ(p.conflicts[0].addr, "dave@example.org");
	CHECK(p.conflicts[0].a == &u[0] && p.conflicts[0].b == NULL);
	CHECK_STREQ(p.conflicts[0].outsider, "uid=dave,ou=people");
	CHECK_STREQ(p.conflicts[1].outsider, "uid=peggy,ou=people");
	plan_free(&p);
}

/* I5: a resume whose addresses are no longer the person's is closed and re-issued. */
static void
test_resume_moved(time_t now)
{
	struct conf_group g[1];
	struct config c;
	struct user u[3];
	struct plan_member m[3] = { 0 };
	char *b_alts[] = { "b.kept@example.org" };
	struct store_user_state st[] = {
		/* planned for an address the person no longer has; its certificate made */
		{ .user_id = "a", .mail = "old@example.org", .cert_id = 31, .not_after = now + 300 * DAY,
		    .open_action = 81, .open_mail = (char *)"old@example.org", .open_cert_id = 31,
		    .open_cert_status = (char *)"valid", .open_serial = (char *)"1F" },
		/* same primary, but the certificate names an alias the person lost */
		{ .user_id = "b", .cert_id = 32, .not_after = now + 300 * DAY, .open_action = 82,
		    .open_mail = (char *)"b@example.org", .open_cert_id = 32,
		    .open_cert_status = (char *)"valid", .open_serial = (char *)"20",
		    .open_alt_mails = (char *)"b.kept@example.org\nb.gone@example.org" },
		/* nothing moved, no certificate yet: resumed, and its addresses checked */
		{ .user_id = "c", .open_action = 83, .open_mail = (char *)"c@example.org" },
	};
	struct plan p;
	const struct plan_item *it;

	memset(g, 0, sizeof(g));
	memset(&c, 0, sizeof(c));
	g[0].name = "sales";
	g[0].renew_before = 15 * DAY;
	c.groups = g;
	c.n_groups = 1;
	u[0] = mkuser("a", "new@example.org");
	u[1] = mkuser("b", "b@example.org");
	u[1].alt_mails = b_alts;
	u[1].n_alt_mails = 1;
	u[2] = mkuser("c", "c@example.org");
	for (int i = 0; i < 3; i++) {
		m[i].user = &u[i];
		m[i].group = 0;
	}
	plan_build(&c, m, 3, st, 3, NULL, now, &p);
	it = find(p.items, p.n_items, "a");
	CHECK_INTEQ(it->action, PLAN_REISSUE);
	CHECK_INTEQ(it->abandon, 81);
	CHECK_INTEQ(it->revoke_open, 31);
	CHECK_INTEQ(it->open_action, 0);
	CHECK_INTEQ(it->cert_id, 0);
	CHECK(it->check_holders);
	CHECK_CONTAINS(it->reason, "address changed while provisioning was unfinished: it was "
	    "planned for old@example.org, and the directory now says new@example.org");
	CHECK_CONTAINS(it->reason, "its certificate (serial 1F) revoked");
	it = find(p.items, p.n_items, "b");
	CHECK_INTEQ(it->action, PLAN_REISSUE);
	CHECK_INTEQ(it->abandon, 82);
	CHECK_INTEQ(it->revoke_open, 32);
	CHECK_CONTAINS(it->reason, "its certificate names b.gone@example.org");
	it = find(p.items, p.n_items, "c");
	CHECK_INTEQ(it->action, PLAN_RESUME);
	CHECK_INTEQ(it->abandon, 0);
	CHECK(it->check_holders);
	plan_free(&p);
	/* The lost alias back: the resume goes on, and a made certificate needs no search. */
	st[1].open_alt_mails = (char *)"b.kept@example.org";
	plan_build(&c, m, 3, st, 3, NULL, now, &p);
	it = find(p.items, p.n_items, "b");
	CHECK_INTEQ(it->action, PLAN_RESUME);
	CHECK(!it->check_holders);
	plan_free(&p);
	/*
	 * Moved to an address no domain rule allows: skipped, and still the
	 * provisioning planned for the old address is closed and what it made
	 * revoked (found by the simulation: dir acl; run; mail p2 ...; run).
	 */
	c.service.mail_domains = (char *)"example.org";
	u[0].mail = (char *)"new@example.com";
	plan_build(&c, m, 3, st, 3, NULL, now, &p);
	it = find(p.items, p.n_items, "a");
	CHECK_INTEQ(it->action, PLAN_SKIP);
	CHECK_INTEQ(it->abandon, 81);
	CHECK_INTEQ(it->revoke_open, 31);
	CHECK_CONTAINS(it->reason, "the unfinished provisioning planned for old@example.org, no "
	    "longer this person's address, is closed and its certificate (serial 1F) revoked");
	plan_free(&p);
	c.service.mail_domains = NULL;
	u[0].mail = (char *)"new@example.org";
}

/*
 * An incremental run judges the people it looked up alone (known) though
 * their groups were not read: a known non-member leaves, a known member
 * is planned although the group that governed them was not read, anyone
 * else is held. The valve measures a partly judged group by its size in
 * the store, not by the few people looked up.
 */
static void
test_known(time_t now)
{
	struct user u[1];
	struct plan_member m[1] = { 0 };
	struct store_user_state st[1];
	struct store_holder h[24];
	bool failed[2] = { true, true };
	const char *known[6] = { "k1", "y0", "y1", "y2", "y3", NULL };
	struct plan p;
	const struct plan_leaver *l;
	char ids[24][8];

	memset(st, 0, sizeof(st));
	st[0].user_id = (char *)"k2";
	st[0].cert_id = 2;
	st[0].not_after = now + 100 * DAY;
	st[0].published = true;
	st[0].group_name = (char *)"sales"; /* governed by sales before, not read now */
	u[0] = mkuser("k2", "k2");
	m[0].user = &u[0];
	m[0].group = 1;
	m[0].known = true;
	plan_build(&cfg2, m, 1, st, 1, failed, now, &p);
	CHECK_INTEQ(p.n_items, 1);
	CHECK(p.n_items == 1 && !p.items[0].hold && p.items[0].action == PLAN_NOTHING);
	h[0] = mkholder("k1", "staff", 1, CERT_VALID, now - 10 * DAY, now + 300 * DAY, 0);
	h[1] = mkholder("k2", "staff", 2, CERT_VALID, now - 10 * DAY, now + 300 * DAY, 0);
	h[2] = mkholder("x", "staff", 3, CERT_VALID, now - 10 * DAY, now + 300 * DAY, 0);
	plan_holders(&cfg2, h, 3, failed, known, 1, false, now, &p);
	l = find_leaver(&p, "k1");
	CHECK(l != NULL && l->action == PLAN_LEAVE_GRACE && l->fresh);
	CHECK(find_leaver(&p, "k2") == NULL);
	CHECK(find_leaver(&p, "x") == NULL); /* not looked up: held */
	plan_free(&p);
	/* Not known: nobody of an unread group is judged. */
	plan_build(&cfg2, m, 0, NULL, 0, failed, now, &p);
	plan_holders(&cfg2, h, 3, failed, NULL, 0, false, now, &p);
	CHECK_INTEQ(p.n_leavers, 0);
	plan_free(&p);
	/* 5 known leavers of a group of 20 in the store: 25 %, the valve stays open. */
	for (size_t i = 0; i < 20; i++) {
		snprintf(ids[i], sizeof(ids[i]), i == 0 ? "k1" : "y%zu", i - 1);
		h[i] = mkholder(ids[i], "staff", (int64_t)i + 1, CERT_VALID, now - 10 * DAY,
		    now + 300 * DAY, 0);
	}
	plan_build(&cfg2, m, 0, NULL, 0, failed, now, &p);
	plan_holders(&cfg2, h, 20, failed, known, 5, false, now, &p);
	CHECK(!p.valve.closed);
	CHECK_INTEQ(p.n_leavers, 5);
	plan_free(&p);
}

/*
 * Who an interval run that follows the streams looks up: the people whose
 * plan changes with the clock, and nobody else.
 */
static void
test_due(time_t now)
{
	static const int64_t sent30[] = { 30 * DAY };
	struct store_user_state st[6];
	struct store_holder h[5];
	const char **due = NULL;
	size_t n_due = 0;

	memset(st, 0, sizeof(st));
	for (size_t i = 0; i < 6; i++) {
		static const char *const ids[] = { "fi", "fresh", "open", "renew", "unpub", "zleft" };

		st[i].user_id = (char *)ids[i];
		st[i].cert_id = (int64_t)i + 1;
		st[i].not_after = now + 200 * DAY;
		st[i].published = true;
		st[i].group_name = (char *)"staff";
	}
	st[0].force_issue = true;               /* fi: an admin asked */
	st[2].open_action = 9;                  /* open: unfinished */
	st[3].not_after = now + DAY;            /* renew: within staff's renew_before (2 d) */
	st[4].published = false;                /* unpub: not yet in the directory */
	st[5].left_at = now - DAY;              /* zleft: a leaver, nothing due by state */
	h[0] = mkholder("gone-grace", "staff", 20, CERT_VALID, now - 9 * DAY, now + 200 * DAY,
	    now - 8 * DAY);                     /* staff: revoke after 7 d: due */
	h[1] = mkholder("gone-young", "staff", 21, CERT_VALID, now - 9 * DAY, now + 200 * DAY,
	    now - DAY);                         /* still in grace */
	h[2] = mkholder("remind", "sales", 22, CERT_VALID, now - 300 * DAY, now + 25 * DAY, 0);
	h[3] = mkholder("reminded", "sales", 23, CERT_VALID, now - 300 * DAY, now + 25 * DAY, 0);
	h[3].reminded = (int64_t *)sent30;
	h[3].n_reminded = 1;
	h[4] = mkholder("zleft", "staff", 6, CERT_VALID, now - 9 * DAY, now + 200 * DAY,
	    now - DAY);
	plan_due(&cfg2, st, 6, h, 5, now, &due, &n_due);
	CHECK_INTEQ(n_due, 6);
	if (n_due == 6) {
		CHECK_STREQ(due[0], "fi");
		CHECK_STREQ(due[1], "gone-grace");
		CHECK_STREQ(due[2], "open");
		CHECK_STREQ(due[3], "remind");
		CHECK_STREQ(due[4], "renew");
		CHECK_STREQ(due[5], "unpub");
	}
	free(due);
}

static void
test_step2(void)
{
	time_t now = 1800000000;

	memset(&cfg2, 0, sizeof(cfg2));
	for (size_t i = 0; i < 2; i++) {
		g2[i].name = (char *)(i == 0 ? "sales" : "staff");
		g2[i].enabled = true;
		g2[i].renew_before = 15 * DAY;
		g2[i].reminder_thresholds[0] = 30 * DAY;
		g2[i].reminder_thresholds[1] = 7 * DAY;
		g2[i].reminder_thresholds[2] = DAY;
		g2[i].n_reminder_thresholds = 3;
	}
	g2[1].renew_before = 2 * DAY;
	g2[1].on_leave = LEAVE_REVOKE;
	g2[1].leave_grace = 7 * DAY;
	cfg2.groups = g2;
	cfg2.n_groups = 2;
	cfg2.has_mail = true;
	cfg2.service.max_retire = 100;
	cfg2.service.max_retire_percent = 50;
	test_reminders(now);
	test_leavers(now);
	test_valve(now);
	test_outsiders(now);
	test_resume_moved(now);
	test_known(now);
	test_due(now);
}

int
main(void)
{
	time_t now = 1800000000;
	struct user u[7];
	struct plan_member m[8] = { 0 };
	/* sorted by user_id, as the store returns them */
	struct store_user_state st[] = {
		{ .user_id = "b", .mail = "b@example.org", .cert_id = 11, .not_after = now + 100 * DAY, .published = true, .open_action = 0 },    /* valid */
		{ .user_id = "c", .mail = "c@example.org", .cert_id = 12, .not_after = now + 10 * DAY, .published = true, .open_action = 0 },     /* inside window */
		{ .user_id = "d", .mail = "d@example.org", .cert_id = 13, .not_after = now - DAY, .published = true, .open_action = 0 },          /* expired */
		{ .user_id = "e", .mail = "old@example.org", .cert_id = 14, .not_after = now + 100 * DAY, .published = true, .open_action = 0 },  /* mail changed */
		{ .user_id = "f", .mail = "f@example.org", .cert_id = 0, .not_after = 0, .published = false, .open_action = 77 },                 /* unfinished */
		{ .user_id = "g", .mail = "g@example.org", .cert_id = 15, .not_after = now + 100 * DAY, .published = false, .open_action = 0 },   /* not published */
	};
	struct plan p;
	struct plan_item *items = NULL;
	size_t n = 0;
	const struct plan_item *it;

	memset(&cfg, 0, sizeof(cfg));
	groups[0].name = "sales";
	groups[0].renew_before = 15 * DAY;
	groups[1].name = "staff";
	groups[1].renew_before = 15 * DAY;
	cfg.groups = groups;
	cfg.n_groups = 2;

	u[0] = mkuser("a", "a@example.org");
	u[1] = mkuser("b", "b@example.org");
	u[2] = mkuser("c", "c@example.org");
	u[3] = mkuser("d", "d@example.org");
	u[4] = mkuser("e", "new@example.org");
	u[5] = mkuser("f", "f@example.org");
	u[6] = mkuser("g", "g@example.org");
	for (int i = 0; i < 7; i++) {
		m[i].user = &u[i];
		m[i].group = 0;
	}
	/* "b" is also in the second group: planned once, under "sales". */
	m[7].user = &u[1];
	m[7].group = 1;

	plan_build(&cfg, m, 8, st, sizeof(st) / sizeof(st[0]), NULL, now, &p);
	items = p.items;
	n = p.n_items;
	CHECK_INTEQ(n, 7);
	CHECK_INTEQ(find(items, n, "a")->action, PLAN_ISSUE);
	it = find(items, n, "b");
	CHECK_INTEQ(it->action, PLAN_NOTHING);
	CHECK_INTEQ(it->group, 0);
	CHECK_STREQ(it->also_in, "staff");
	CHECK_INTEQ(find(items, n, "c")->action, PLAN_RENEW);
	CHECK_INTEQ(find(items, n, "d")->action, PLAN_ISSUE);
	CHECK_CONTAINS(find(items, n, "d")->reason, "expired");
	CHECK_INTEQ(find(items, n, "e")->action, PLAN_REISSUE);
	CHECK_INTEQ(find(items, n, "f")->action, PLAN_RESUME);
	CHECK_INTEQ(find(items, n, "f")->open_action, 77);
	CHECK_INTEQ(find(items, n, "g")->action, PLAN_REPUBLISH);
	plan_free(&p);

	/* The renewal window edge: exactly renew_before left renews. */
	st[1].not_after = now + 15 * DAY;
	plan_build(&cfg, m, 8, st, sizeof(st) / sizeof(st[0]), NULL, now, &p);
	items = p.items;
	n = p.n_items;
	CHECK_INTEQ(find(items, n, "c")->action, PLAN_RENEW);
	plan_free(&p);
	st[1].not_after = now + 15 * DAY + 1;
	plan_build(&cfg, m, 8, st, sizeof(st) / sizeof(st[0]), NULL, now, &p);
	items = p.items;
	n = p.n_items;
	CHECK_INTEQ(find(items, n, "c")->action, PLAN_NOTHING);
	plan_free(&p);

	/* Problems and disabled accounts are skipped with the reason. */
	u[0].problem = "no mail attribute";
	u[2].enabled = false;
	plan_build(&cfg, m, 8, st, sizeof(st) / sizeof(st[0]), NULL, now, &p);
	items = p.items;
	n = p.n_items;
	CHECK_INTEQ(find(items, n, "a")->action, PLAN_SKIP);
	CHECK_STREQ(find(items, n, "a")->reason, "no mail attribute");
	CHECK_INTEQ(find(items, n, "c")->action, PLAN_SKIP);
	plan_free(&p);
	u[0].problem = NULL;
	u[2].enabled = true;

	/*
	 * A CA rejection holds back whoever would be asked for a certificate
	 * (d: expired, e: mail changed), with the reason and the way out; one
	 * who needs nothing from the CA (b, g) is planned as usual, and an
	 * admin's smimesync issue (force_issue) goes through.
	 */
	for (size_t i = 0; i < sizeof(st) / sizeof(st[0]); i++)
		st[i].ca_hold = (char *)"HTTP 400: address not allowed";
	plan_build(&cfg, m, 8, st, sizeof(st) / sizeof(st[0]), NULL, now, &p);
	items = p.items;
	n = p.n_items;
	it = find(items, n, "d");
	CHECK_INTEQ(it->action, PLAN_SKIP);
	CHECK_CONTAINS(it->reason, "held back: the CA rejected the last request (HTTP 400: address "
	    "not allowed); once the cause is fixed, smimesync issue d@example.org asks again");
	CHECK_INTEQ(find(items, n, "e")->action, PLAN_SKIP);
	CHECK_INTEQ(find(items, n, "b")->action, PLAN_NOTHING);
	CHECK_INTEQ(find(items, n, "g")->action, PLAN_REPUBLISH);
	CHECK_INTEQ(find(items, n, "f")->action, PLAN_RESUME);
	CHECK_INTEQ(find(items, n, "a")->action, PLAN_ISSUE); /* no state: nothing to hold */
	plan_free(&p);
	st[2].force_issue = true;
	plan_build(&cfg, m, 8, st, sizeof(st) / sizeof(st[0]), NULL, now, &p);
	items = p.items;
	n = p.n_items;
	CHECK_INTEQ(find(items, n, "d")->action, PLAN_ISSUE);
	CHECK(find(items, n, "d")->forced);
	plan_free(&p);
	st[2].force_issue = false;
	for (size_t i = 0; i < sizeof(st) / sizeof(st[0]); i++)
		st[i].ca_hold = NULL;

	test_stale_resume(u, m, st, sizeof(st) / sizeof(st[0]), now);
	test_addresses(now);
	test_issue_valve(now);
	test_step2();
	return check_finish();
}
