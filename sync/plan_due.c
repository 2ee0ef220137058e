/* SPDX-License-Identifier: ISC */
/*
 * Who is due by the clock (plan.h, plan_due()): the people whose plan
 * changes with time rather than with the directory. An interval run that
 * follows change streams looks up only them (by DN, with their
 * memberships) instead of reading every group: whatever the directory
 * changed about anyone else came through the stream already.
 *
 * Pure, like the rest of the planner. The conditions mirror the planner's
 * own (plan.c decide(), plan_retire.c, plan_remind.c); erring towards
 * "due" costs one lookup, erring the other way would leave the work to
 * the daily full read, so where a condition depends on membership (which
 * only the lookup tells) the person is due.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "sync/member_index.h"
#include "sync/plan_internal.h"

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A state whose plan depends on the clock or on a step still to do. */
static bool
state_due(const struct config *cfg, const struct store_user_state *st, time_t now)
{
	ssize_t gi = st->group_name != NULL ? config_group_index(cfg, st->group_name) : -1;

	if (st->force_issue || st->open_action != 0)
		return true; /* an admin's request, an unfinished provisioning: resumed */
	if (st->ignored || st->cert_id == 0 || st->left_at != 0 || gi < 0)
		return false;
	/* A member's certificate: expired, to renew, or not yet in the directory. */
	return st->not_after <= now || !st->published ||
	    plan_renewal_due(&cfg->groups[gi], st->not_after, now);
}

/* A recorded leaver whose certificate's leave_grace has passed: revoked now. */
static bool
leaver_due(const struct config *cfg, const struct store_holder *holders, size_t i, time_t now)
{
	const struct store_holder *h = &holders[i];
	ssize_t gi = config_group_index(cfg, h->group_name);
	const struct conf_group *g;

	if (gi < 0 || h->left_at == 0 || h->status != CERT_VALID)
		return false;
	/* Only the newest valid certificate of a person is judged (plan_retire.c). */
	if (i > 0 && strcmp(holders[i - 1].user_id, h->user_id) == 0 &&
	    holders[i - 1].status == CERT_VALID)
		return false;
	g = &cfg->groups[gi];
	return (h->undelivered || g->on_leave == LEAVE_REVOKE) &&
	    now - h->left_at >= g->leave_grace;
}

void
plan_due(const struct config *cfg, const struct store_user_state *states, size_t n_states,
    const struct store_holder *holders, size_t n_holders, time_t now, const char ***out,
    size_t *n_out)
{
	const char **ids = xcalloc(n_states + n_holders + 1, sizeof(*ids));
	bool *judged = xcalloc(cfg->n_groups + 1, sizeof(*judged));
	/* Everyone not recorded as gone, as an enabled member (borrowed ids). */
	struct user *people = xcalloc(n_holders + 1, sizeof(*people));
	struct plan_item *as_members = xcalloc(n_holders + 1, sizeof(*as_members));
	size_t n_people = 0;
	struct member_index recorded;
	struct plan scratch;
	size_t n = 0, kept = 0;

	for (size_t i = 0; i < n_states; i++)
		if (state_due(cfg, &states[i], now))
			ids[n++] = states[i].user_id;
	for (size_t i = 0; i < n_holders; i++)
		if (leaver_due(cfg, holders, i, now))
			ids[n++] = holders[i].user_id;
	/*
	 * Reminders: what plan_reminders() would send if every group were
	 * read and everyone were as the store records them (a member, or a
	 * leaver since left_at). What the reminder says, and whether it goes
	 * at all, is decided by the real plan after the lookup.
	 */
	for (size_t gi = 0; gi < cfg->n_groups; gi++)
		judged[gi] = cfg->groups[gi].enabled;
	for (size_t i = 0; i < n_holders; i++) {
		ssize_t gi = config_group_index(cfg, holders[i].group_name);

		if (holders[i].left_at != 0 || gi < 0)
			continue;
		people[n_people].id = holders[i].user_id;
		people[n_people].enabled = true;
		as_members[n_people].user = &people[n_people];
		as_members[n_people].group = (size_t)gi;
		n_people++;
	}
	memset(&scratch, 0, sizeof(scratch));
	member_index_build(&recorded, as_members, n_people, cfg->n_groups, NULL, 0);
	plan_reminders(cfg, &recorded, holders, n_holders, judged, now, &scratch);
	ids = xreallocarray(ids, n + scratch.n_reminders + 1, sizeof(*ids));
	for (size_t i = 0; i < scratch.n_reminders; i++)
		ids[n++] = scratch.reminders[i].h->user_id;
	member_index_free(&recorded);
	plan_free(&scratch);
	free(judged);
	free(people);
	free(as_members);

	qsort(ids, n, sizeof(*ids), cmp_str);
	for (size_t i = 0; i < n; i++)
		if (kept == 0 || strcmp(ids[kept - 1], ids[i]) != 0)
			ids[kept++] = ids[i];
	*out = ids;
	*n_out = kept;
}
