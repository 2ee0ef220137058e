/* SPDX-License-Identifier: ISC */
/* The planner decides per person from (members, state, policy, now) alone. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "sync/plan.h"
#include "tests/unit/check.h"

#define DAY 86400

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

int
main(void)
{
	time_t now = 1800000000;
	struct user u[7];
	struct plan_member m[8];
	/* sorted by user_id, as the store returns them */
	struct store_user_state st[] = {
		{ .user_id = "b", .mail = "b@example.org", .cert_id = 11, .not_after = now + 100 * DAY, .published = true, .open_action = 0 },    /* valid */
		{ .user_id = "c", .mail = "c@example.org", .cert_id = 12, .not_after = now + 10 * DAY, .published = true, .open_action = 0 },     /* inside window */
		{ .user_id = "d", .mail = "d@example.org", .cert_id = 13, .not_after = now - DAY, .published = true, .open_action = 0 },          /* expired */
		{ .user_id = "e", .mail = "old@example.org", .cert_id = 14, .not_after = now + 100 * DAY, .published = true, .open_action = 0 },  /* mail changed */
		{ .user_id = "f", .mail = "f@example.org", .cert_id = 0, .not_after = 0, .published = false, .open_action = 77 },                 /* unfinished */
		{ .user_id = "g", .mail = "g@example.org", .cert_id = 15, .not_after = now + 100 * DAY, .published = false, .open_action = 0 },   /* not published */
	};
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

	plan_build(&cfg, m, 8, st, sizeof(st) / sizeof(st[0]), NULL, now, &items, &n);
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
	free(items);

	/* The renewal window edge: exactly renew_before left renews. */
	st[1].not_after = now + 15 * DAY;
	plan_build(&cfg, m, 8, st, sizeof(st) / sizeof(st[0]), NULL, now, &items, &n);
	CHECK_INTEQ(find(items, n, "c")->action, PLAN_RENEW);
	free(items);
	st[1].not_after = now + 15 * DAY + 1;
	plan_build(&cfg, m, 8, st, sizeof(st) / sizeof(st[0]), NULL, now, &items, &n);
	CHECK_INTEQ(find(items, n, "c")->action, PLAN_NOTHING);
	free(items);

	/* Problems and disabled accounts are skipped with the reason. */
	u[0].problem = "no mail attribute";
	u[2].enabled = false;
	plan_build(&cfg, m, 8, st, sizeof(st) / sizeof(st[0]), NULL, now, &items, &n);
	CHECK_INTEQ(find(items, n, "a")->action, PLAN_SKIP);
	CHECK_STREQ(find(items, n, "a")->reason, "no mail attribute");
	CHECK_INTEQ(find(items, n, "c")->action, PLAN_SKIP);
	free(items);
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
	plan_build(&cfg, m, 8, st, sizeof(st) / sizeof(st[0]), NULL, now, &items, &n);
	it = find(items, n, "d");
	CHECK_INTEQ(it->action, PLAN_SKIP);
	CHECK_CONTAINS(it->reason, "held back: the CA rejected the last request (HTTP 400: address "
	    "not allowed); once the cause is fixed, smimesync issue d@example.org asks again");
	CHECK_INTEQ(find(items, n, "e")->action, PLAN_SKIP);
	CHECK_INTEQ(find(items, n, "b")->action, PLAN_NOTHING);
	CHECK_INTEQ(find(items, n, "g")->action, PLAN_REPUBLISH);
	CHECK_INTEQ(find(items, n, "f")->action, PLAN_RESUME);
	CHECK_INTEQ(find(items, n, "a")->action, PLAN_ISSUE); /* no state: nothing to hold */
	free(items);
	st[2].force_issue = true;
	plan_build(&cfg, m, 8, st, sizeof(st) / sizeof(st[0]), NULL, now, &items, &n);
	CHECK_INTEQ(find(items, n, "d")->action, PLAN_ISSUE);
	CHECK(find(items, n, "d")->forced);
	free(items);
	return check_finish();
}
