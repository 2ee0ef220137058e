/* SPDX-License-Identifier: ISC */
/*
 * Planning leavers and the safety valve (step 2 of the plan, plan.h).
 * Pure: the leave grace and the valve's limits are decided here and
 * nowhere else; sync/retire.c carries the decisions out.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strutil.h"
#include "common/xalloc.h"
#include "sync/member_index.h"
#include "sync/plan_internal.h"

/* The valve's percentage never stops fewer than this many leavers in a group. */
#define VALVE_MIN_PEOPLE 3

/*
 * Is holders[i] a person's current certificate: valid, and not following
 * a valid one of theirs (holders are newest first per person)?
 */
static bool
is_current(const struct store_holder *holders, size_t i)
{
	return holders[i].status == CERT_VALID &&
	    !(i > 0 && strcmp(holders[i - 1].user_id, holders[i].user_id) == 0 &&
	    holders[i - 1].status == CERT_VALID);
}

/*
 * What happens to the certificate of someone who is gone, per on_leave
 * and leave_grace. Returns false when nothing is to be done or said now:
 * a known leaver whose certificate stays, or who is still in grace, was
 * reported once, when they left.
 */
static bool
decide_leaver(const struct conf_group *g, const struct store_holder *h, bool disabled,
    time_t now, struct plan_leaver *l)
{
	time_t left_at = h->left_at != 0 ? h->left_at : now;
	char date[32];

	l->fresh = h->left_at == 0;
	l->left = disabled ? "the account is disabled or expired" :
	    "no longer a member of any synced group";
	/*
	 * I3: a certificate that never reached them (unpublished, no mail
	 * sent) is wanted by nobody once they are gone, whatever on_leave
	 * keeps for delivered ones: revoked after leave_grace, so that
	 * someone moved between groups for a day keeps it.
	 */
	if (h->undelivered && now - left_at < g->leave_grace) {
		if (!l->fresh)
			return false;
		l->action = PLAN_LEAVE_GRACE;
		format_time_utc(left_at + g->leave_grace, date, sizeof(date));
		snprintf(l->reason, sizeof(l->reason), "%s; their certificate was never delivered "
		    "(not published, no mail sent): revoked on %s unless they come back "
		    "(leave_grace)", l->left, date);
		return true;
	}
	if (h->undelivered) {
		l->action = PLAN_LEAVE_REVOKE;
		l->abandon = h->open_action;
		snprintf(l->reason, sizeof(l->reason), "%s; their certificate was never delivered "
		    "(not published, no mail sent) and leave_grace has passed: revoking it and "
		    "closing its provisioning", l->left);
		return true;
	}
	if (g->on_leave != LEAVE_REVOKE) {
		if (!l->fresh)
			return false;
		l->action = PLAN_LEAVE_KEEP;
		format_time_utc(h->not_after, date, sizeof(date));
		snprintf(l->reason, sizeof(l->reason), "%s; the certificate is not renewed and "
		    "expires %s (on_leave = %s)", l->left, date, leave_policy_name(g->on_leave));
		return true;
	}
	if (now - left_at < g->leave_grace) {
		if (!l->fresh)
			return false;
		l->action = PLAN_LEAVE_GRACE;
		format_time_utc(left_at + g->leave_grace, date, sizeof(date));
		snprintf(l->reason, sizeof(l->reason), "%s; revoked on %s unless they come back "
		    "(on_leave = revoke, leave_grace)", l->left, date);
		return true;
	}
	l->action = PLAN_LEAVE_REVOKE;
	snprintf(l->reason, sizeof(l->reason),
	    "%s; leave_grace has passed: revoking (on_leave = revoke)", l->left);
	return true;
}

static void
valve_add(struct plan_valve *v, char *why)
{
	v->why = xreallocarray(v->why, v->n_why + 1, sizeof(*v->why));
	v->why[v->n_why++] = why; /* stolen */
}

/*
 * fresh_in: newly gone per cfg->groups index. current_in: the group's
 * current certificates held by people not recorded as gone -- its size
 * as the store knows it, for a group not read whole in this run, where
 * only the people looked up alone are members in mi.
 */
static void
decide_valve(const struct config *cfg, const struct member_index *mi, const bool *judged,
    const size_t *current_in, const size_t *fresh_in, size_t fresh_total,
    bool allow_mass_retire, struct plan_valve *v)
{
	if (fresh_total > (size_t)cfg->service.max_retire)
		valve_add(v, allow_mass_retire ?
		    xasprintf("mass retirement allowed by --allow-mass-retire: %zu people leave in "
		    "this run, the limit is max_retire = %lld", fresh_total,
		    (long long)cfg->service.max_retire) :
		    xasprintf("safety valve: %zu people would leave in this run, more than "
		    "max_retire = %lld; nobody was retired. If the directory is right, run: "
		    "smimesync run --allow-mass-retire", fresh_total,
		    (long long)cfg->service.max_retire));
	for (size_t gi = 0; gi < cfg->n_groups; gi++) {
		size_t before = mi->per_group[gi] + fresh_in[gi];

		if (!judged[gi] && current_in[gi] > before)
			before = current_in[gi];

		if (fresh_in[gi] < VALVE_MIN_PEOPLE || before == 0 ||
		    fresh_in[gi] * 100 <= (size_t)cfg->service.max_retire_percent * before)
			continue;
		valve_add(v, allow_mass_retire ?
		    xasprintf("mass retirement allowed by --allow-mass-retire: %zu of %zu people "
		    "leave group %s in this run, the limit is max_retire_percent = %lld%%",
		    fresh_in[gi], before, cfg->groups[gi].name,
		    (long long)cfg->service.max_retire_percent) :
		    xasprintf("safety valve: %zu of %zu people would leave group %s in "
		    "this run, more than max_retire_percent = %lld%%; nobody was retired. If the "
		    "directory is right, run: smimesync run --allow-mass-retire", fresh_in[gi],
		    before, cfg->groups[gi].name, (long long)cfg->service.max_retire_percent));
	}
	v->closed = v->n_why > 0;
	v->held = v->closed && !allow_mass_retire;
}

/* Append a copy of l to p->leavers: only decided leavers take memory. */
static void
add_leaver(struct plan *p, size_t *cap, const struct plan_leaver *l)
{
	if (p->n_leavers == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		p->leavers = xreallocarray(p->leavers, *cap, sizeof(*p->leavers));
	}
	p->leavers[p->n_leavers++] = *l;
}

void
plan_leavers(const struct config *cfg, const struct member_index *mi,
    const struct store_holder *holders, size_t n_holders, const bool *judged,
    bool allow_mass_retire, time_t now, struct plan *p)
{
	size_t *fresh_in = xcalloc(cfg->n_groups + 1, sizeof(*fresh_in));
	size_t *current_in = xcalloc(cfg->n_groups + 1, sizeof(*current_in));
	size_t fresh_total = 0, cap = 0;

	for (size_t i = 0; i < n_holders; i++) {
		const struct store_holder *h = &holders[i];
		struct plan_leaver l;
		ssize_t gi;
		bool disabled;

		if (!is_current(holders, i))
			continue;
		gi = config_group_index(cfg, h->group_name);
		if (gi >= 0 && h->left_at == 0)
			current_in[gi]++;
		/*
		 * Not judged: a group no longer configured, switched off, or
		 * unread now -- unless the person was looked up alone.
		 */
		if (gi < 0 || (!judged[gi] && !member_index_known(mi, h->user_id)))
			continue;
		memset(&l, 0, sizeof(l));
		l.h = h;
		l.group = (size_t)gi;
		disabled = member_index_disabled(mi, h->user_id);
		if (!disabled && member_index_enabled(mi, h->user_id)) {
			if (h->left_at == 0)
				continue;
			l.action = PLAN_LEAVE_BACK;
			snprintf(l.reason, sizeof(l.reason), "a member again");
			add_leaver(p, &cap, &l);
			continue;
		}
		if (!decide_leaver(&cfg->groups[gi], h, disabled, now, &l))
			continue;
		if (l.fresh) {
			fresh_in[gi]++;
			fresh_total++;
		}
		add_leaver(p, &cap, &l);
	}
	decide_valve(cfg, mi, judged, current_in, fresh_in, fresh_total, allow_mass_retire,
	    &p->valve);
	free(fresh_in);
	free(current_in);
}
