/* SPDX-License-Identifier: ISC */
/*
 * Step 2 of the plan (plan.h): which groups are judged in this run and
 * who is a member now, then the leavers (plan_retire.c) and, on the store
 * as their retirement leaves it, the reminders (plan_remind.c).
 */
#include "config.h"

#include <stdlib.h>

#include "common/xalloc.h"
#include "sync/member_index.h"
#include "sync/plan_internal.h"

void
plan_holders(const struct config *cfg, const struct store_holder *holders, size_t n_holders,
    const bool *group_failed, const char *const *known, size_t n_known, bool allow_mass_retire,
    time_t now, struct plan *p)
{
	bool *judged = xcalloc(cfg->n_groups + 1, sizeof(*judged));
	struct member_index mi;

	for (size_t gi = 0; gi < cfg->n_groups; gi++)
		judged[gi] = cfg->groups[gi].enabled && (group_failed == NULL || !group_failed[gi]);
	member_index_build(&mi, p->items, p->n_items, cfg->n_groups, known, n_known);
	plan_leavers(cfg, &mi, holders, n_holders, judged, allow_mass_retire, now, p);
	plan_reminders(cfg, &mi, holders, n_holders, judged, now, p);
	member_index_free(&mi);
	free(judged);
}
