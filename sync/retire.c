/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "sync/member_index.h"
#include "sync/retire.h"
#include "sync/revoke.h"

/* The valve's percentage never stops fewer than this many leavers in a group. */
#define VALVE_MIN_PEOPLE 3

static const char *const leave_names[] = {
	[LEAVE_STOP_RENEWING] = "stop-renewing",
	[LEAVE_KEEP] = "keep",
	[LEAVE_REVOKE] = "revoke",
};

struct leaver {
	const struct store_holder *h;
	size_t group;
	const char *reason;
	bool fresh; /* first seen gone in this run */
};

static void
report_leaver(struct engine *en, const struct leaver *l, const char *outcome, const char *why,
    const char *error)
{
	struct report_user ru;

	memset(&ru, 0, sizeof(ru));
	ru.mail = l->h->mail;
	ru.name = l->h->display_name;
	ru.id = l->h->user_id;
	ru.dn = l->h->dn;
	ru.group = en->cfg->groups[l->group].name;
	ru.action = "retire";
	ru.reason = why;
	ru.outcome = outcome;
	ru.serial = l->h->serial;
	ru.not_after = l->h->not_after;
	ru.step = error ? "retire" : NULL;
	ru.error = error;
	report_user(en->report, &ru);
}

static void
retire_one(struct engine *en, const struct leaver *l, bool dry_run)
{
	const struct conf_group *g = &en->cfg->groups[l->group];
	time_t left_at = l->fresh ? en->now : l->h->left_at;
	char why[512], date[32];
	struct errbuf e;

	err_clear(&e);
	if (l->fresh && !dry_run) {
		if (store_user_set_left(en->store, l->h->user_id, en->now, l->reason, &e) != 0) {
			report_error(en->report, l->h->mail, "retire", "%s", e.text);
			return;
		}
		log_info("%s left: %s (on_leave = %s)", l->h->mail, l->reason, leave_names[g->on_leave]);
	}
	format_time_utc(l->h->not_after, date, sizeof(date));
	switch (g->on_leave) {
	case LEAVE_KEEP:
	case LEAVE_STOP_RENEWING:
		if (!l->fresh)
			return; /* said once, when they left */
		snprintf(why, sizeof(why), "%s; the certificate is not renewed and expires %s "
		    "(on_leave = %s)", l->reason, date, leave_names[g->on_leave]);
		report_leaver(en, l, dry_run ? "planned" : "done", why, NULL);
		report_count(en->report, "retired", 1);
		return;
	case LEAVE_REVOKE:
		break;
	}
	if (en->now - left_at < g->leave_grace) {
		char when[32];

		if (!l->fresh)
			return;
		format_time_utc(left_at + g->leave_grace, when, sizeof(when));
		snprintf(why, sizeof(why), "%s; revoked on %s unless they come back "
		    "(on_leave = revoke, leave_grace)", l->reason, when);
		report_leaver(en, l, dry_run ? "planned" : "done", why, NULL);
		report_count(en->report, "retired", 1);
		return;
	}
	snprintf(why, sizeof(why), "%s; leave_grace has passed: revoking (on_leave = revoke)",
	    l->reason);
	if (dry_run) {
		report_leaver(en, l, "planned", why, NULL);
		report_count(en->report, "revoked", 1);
		return;
	}
	if (revoke_cert(en, l->h->cert_id, l->h->dn, REVOKE_AFFILIATION_CHANGED, g->directory,
	    g->publish, &e) != 0) {
		report_error(en->report, l->h->mail, "retire", "%s", e.text);
		report_leaver(en, l, "failed", why, e.text);
		return;
	}
	report_leaver(en, l, "done", why, NULL);
	report_count(en->report, "revoked", 1);
}

size_t
retire_leavers(struct engine *en, const struct plan_item *items, size_t n_items,
    const bool *group_ok, bool allow_mass, bool dry_run)
{
	struct store_holder *holders = NULL;
	size_t n_holders = 0, n = 0;
	struct errbuf e;

	if (en->store == NULL)
		return 0;
	if (store_holders(en->store, en->now, &holders, &n_holders, &e) != 0) {
		report_error(en->report, NULL, "retire", "%s", e.text);
		return 0;
	}
	n = retire_leavers_in(en, items, n_items, group_ok, allow_mass, dry_run, holders,
	    n_holders);
	store_holders_free(holders, n_holders);
	return n;
}

size_t
retire_leavers_in(struct engine *en, const struct plan_item *items, size_t n_items,
    const bool *group_ok, bool allow_mass, bool dry_run, const struct store_holder *holders,
    size_t n_holders)
{
	const struct config *cfg = en->cfg;
	size_t n_leavers = 0, fresh_total = 0;
	struct member_index mi;
	struct leaver *leavers = NULL;
	size_t *fresh_in = xcalloc(cfg->n_groups + 1, sizeof(*fresh_in));
	bool blocked = false;
	struct errbuf e;

	member_index_build(&mi, items, n_items, cfg->n_groups);
	if (en->store == NULL)
		goto out;
	leavers = xcalloc(n_holders + 1, sizeof(*leavers));

	for (size_t i = 0; i < n_holders; i++) {
		const struct store_holder *h = &holders[i];
		ssize_t gi;
		bool is_disabled;

		/* Only the current certificate of each person (newest valid one). */
		if (h->status != CERT_VALID ||
		    (i > 0 && strcmp(holders[i - 1].user_id, h->user_id) == 0 &&
		    holders[i - 1].status == CERT_VALID))
			continue;
		gi = config_group_index(cfg, h->group_name);
		/* Not judged: a group no longer configured, switched off, or unread now. */
		if (gi < 0 || !cfg->groups[gi].enabled || !group_ok[gi])
			continue;
		is_disabled = member_index_disabled(&mi, h->user_id);
		if (!is_disabled && member_index_enabled(&mi, h->user_id)) {
			if (h->left_at != 0 && !dry_run) {
				/* Back again: a member like any other. */
				if (store_user_set_left(en->store, h->user_id, 0, NULL, &e) != 0)
					report_error(en->report, h->mail, "retire", "%s", e.text);
				else
					log_info("%s is a member again", h->mail);
			}
			continue;
		}
		leavers[n_leavers].h = h;
		leavers[n_leavers].group = (size_t)gi;
		leavers[n_leavers].reason = is_disabled ? "the account is disabled or expired" :
		    "no longer a member of any synced group";
		leavers[n_leavers].fresh = h->left_at == 0;
		if (leavers[n_leavers].fresh) {
			fresh_in[gi]++;
			fresh_total++;
		}
		n_leavers++;
	}

	/* The safety valve. */
	if (fresh_total > (size_t)cfg->service.max_retire) {
		blocked = true;
		report_error(en->report, NULL, "retire",
		    "safety valve: %zu people would leave in this run, more than max_retire = %lld; "
		    "nobody was retired. If the directory is right, run: smimesync run "
		    "--allow-mass-retire", fresh_total, (long long)cfg->service.max_retire);
	}
	for (size_t gi = 0; gi < cfg->n_groups; gi++) {
		size_t before = mi.per_group[gi] + fresh_in[gi];

		if (fresh_in[gi] < VALVE_MIN_PEOPLE || before == 0 ||
		    fresh_in[gi] * 100 <= (size_t)cfg->service.max_retire_percent * before)
			continue;
		blocked = true;
		report_error(en->report, NULL, "retire",
		    "safety valve: %zu of %zu people would leave group %s in this run, more than "
		    "max_retire_percent = %lld%%; nobody was retired. If the directory is right, "
		    "run: smimesync run --allow-mass-retire", fresh_in[gi], before,
		    cfg->groups[gi].name, (long long)cfg->service.max_retire_percent);
	}
	if (blocked && !allow_mass) {
		log_error("safety valve closed: nobody is retired in this run");
		fresh_total = 0;
		goto out;
	}
	if (blocked)
		log_warn("safety valve overridden with --allow-mass-retire");
	for (size_t i = 0; i < n_leavers; i++)
		retire_one(en, &leavers[i], dry_run);
out:
	member_index_free(&mi);
	free(leavers);
	free(fresh_in);
	return fresh_total;
}
