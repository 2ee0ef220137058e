/* SPDX-License-Identifier: ISC */
/*
 * Planning reminders (step 2 of the plan, plan.h), after the leavers:
 * which certificate is reminded of what, at which threshold, and which
 * thresholds are marked as passed. Pure: when a threshold is due is
 * decided here and nowhere else; sync/remind.c queues the mail.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strutil.h"
#include "common/xalloc.h"
#include "sync/member_index.h"
#include "sync/plan_internal.h"

/* A holder as the planned retirement leaves the store. */
struct after_retire {
	time_t left_at;
	bool revoked;
};

/*
 * Apply p->leavers to a copy of what reminders look at: a new leaver is
 * recorded at now, one who came back is cleared, a revoked certificate
 * is no longer live. With the valve held only people who came back change.
 */
static struct after_retire *
after_retirement(const struct plan *p, const struct store_holder *holders, size_t n,
    time_t now)
{
	struct after_retire *a = xcalloc(n + 1, sizeof(*a));

	for (size_t i = 0; i < n; i++)
		a[i].left_at = holders[i].left_at;
	for (size_t k = 0; k < p->n_leavers; k++) {
		const struct plan_leaver *l = &p->leavers[k];
		size_t at = (size_t)(l->h - holders), lo = at, hi = at + 1;
		time_t left_at;

		if (l->action != PLAN_LEAVE_BACK && p->valve.held)
			continue;
		left_at = l->action == PLAN_LEAVE_BACK ? 0 : l->fresh ? now : l->h->left_at;
		/* left_at is the person's: every certificate of theirs sees it. */
		while (lo > 0 && strcmp(holders[lo - 1].user_id, l->h->user_id) == 0)
			lo--;
		while (hi < n && strcmp(holders[hi].user_id, l->h->user_id) == 0)
			hi++;
		for (size_t i = lo; i < hi; i++)
			a[i].left_at = left_at;
		a[at].revoked = l->action == PLAN_LEAVE_REVOKE;
	}
	return a;
}

/* The smallest threshold that is due with remaining seconds left, or 0. */
static int64_t
due_threshold(const struct conf_group *g, time_t remaining)
{
	int64_t due = 0;

	for (size_t i = 0; i < g->n_reminder_thresholds; i++) /* largest first */
		if (remaining <= g->reminder_thresholds[i])
			due = g->reminder_thresholds[i];
	return due;
}

static bool
recorded(const struct store_holder *h, int64_t threshold)
{
	for (size_t i = 0; i < h->n_reminded; i++)
		if (h->reminded[i] == threshold)
			return true;
	return false;
}

/* The due threshold and every larger one: once one is sent, those are never sent later. */
static void
set_marks(const struct conf_group *g, struct plan_reminder *r)
{
	r->n_mark = 0;
	for (size_t i = 0; i < g->n_reminder_thresholds; i++)
		if (g->reminder_thresholds[i] >= r->threshold)
			r->mark[r->n_mark++] = g->reminder_thresholds[i];
}

/* The newest live valid certificate of h's person (holders[i]), NULL if none. */
static const struct store_holder *
newer_of(const struct store_holder *holders, const struct after_retire *a, size_t i)
{
	const struct store_holder *newer = NULL;

	/* holders are newest first per person: the newer ones are before it */
	for (size_t k = i; k-- > 0 && strcmp(holders[k].user_id, holders[i].user_id) == 0;)
		if (holders[k].status == CERT_VALID && !a[k].revoked)
			newer = &holders[k];
	return newer;
}

/*
 * Which reminder holders[i] is due, if any: false when none. r->threshold
 * is set; the caller checks whether it was sent already.
 */
static bool
decide_kind(const struct conf_group *g, const struct member_index *mi,
    const struct store_holder *holders, const struct after_retire *a, size_t i, time_t now,
    struct plan_reminder *r)
{
	const struct store_holder *h = &holders[i];
	bool disabled = member_index_disabled(mi, h->user_id);

	if (h->status == CERT_SUPERSEDED) {
		if ((r->newer = newer_of(holders, a, i)) == NULL)
			return false;
		/*
		 * Thresholds already passed when the renewal happened are not
		 * news: the renewal mail itself just arrived. Mark them passed.
		 */
		r->kind = h->not_after - r->newer->not_before <= r->threshold ?
		    PLAN_REMIND_PASSED : PLAN_REMIND_INSTALL;
		return true;
	}
	if (member_index_enabled(mi, h->user_id) && a[i].left_at == 0) {
		/* Renewal is due now or overdue: the new certificate's mail says it all. */
		if (plan_renewal_due(g, h->not_after, now))
			return false;
		r->kind = PLAN_REMIND_RENEW;
		r->renew_at = plan_renew_at(g, h->not_after);
		return true;
	}
	/*
	 * Only recorded leavers and disabled people: someone the safety valve
	 * is holding back has not left yet, as far as we will tell them.
	 */
	if (g->on_leave == LEAVE_KEEP || (a[i].left_at == 0 && !disabled))
		return false;
	r->kind = PLAN_REMIND_LEAVER;
	r->left = disabled ? "your account is disabled" :
	    "you are no longer a member of a group that receives S/MIME certificates";
	return true;
}

/* Append a copy of r to p->reminders: only planned reminders take memory. */
static void
add_reminder(struct plan *p, size_t *cap, const struct plan_reminder *r)
{
	if (p->n_reminders == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		p->reminders = xreallocarray(p->reminders, *cap, sizeof(*p->reminders));
	}
	p->reminders[p->n_reminders++] = *r;
}

void
plan_reminders(const struct config *cfg, const struct member_index *mi,
    const struct store_holder *holders, size_t n_holders, const bool *judged, time_t now,
    struct plan *p)
{
	struct after_retire *a = NULL;
	size_t cap = 0;

	if (!cfg->has_mail)
		return;
	a = after_retirement(p, holders, n_holders, now);
	for (size_t i = 0; i < n_holders; i++) {
		const struct store_holder *h = &holders[i];
		ssize_t gi = config_group_index(cfg, h->group_name);
		const struct conf_group *g;
		struct plan_reminder r;
		int64_t due;
		char d[32];

		if (gi < 0 || (!judged[gi] && !member_index_known(mi, h->user_id)) || h->ignored ||
		    h->notifications_suspended ||
		    a[i].revoked)
			continue;
		g = &cfg->groups[gi];
		if ((due = due_threshold(g, h->not_after - now)) == 0)
			continue;
		memset(&r, 0, sizeof(r));
		r.h = h;
		r.group = (size_t)gi;
		r.threshold = due;
		if (!decide_kind(g, mi, holders, a, i, now, &r))
			continue;
		set_marks(g, &r);
		format_duration(r.threshold, d, sizeof(d));
		if (r.kind == PLAN_REMIND_PASSED) {
			bool news = false;

			for (size_t k = 0; k < r.n_mark; k++)
				news = news || !recorded(h, r.mark[k]);
			if (!news)
				continue;
			snprintf(r.reason, sizeof(r.reason), "expires within %s, which had "
			    "passed when it was renewed: marked, no reminder", d);
		} else {
			if (recorded(h, r.threshold))
				continue; /* sent before */
			snprintf(r.reason, sizeof(r.reason), "expires within %s: %s", d,
			    plan_remind_name(r.kind));
		}
		add_reminder(p, &cap, &r);
	}
	free(a);
}
