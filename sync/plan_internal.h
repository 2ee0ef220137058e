/* SPDX-License-Identifier: ISC */
/*
 * Private to the planner (sync/plan*.c): the rules more than one of its
 * files applies, written once here, and the parts of step 2.
 */
#ifndef SMIMESYNC_SYNC_PLAN_INTERNAL_H
#define SMIMESYNC_SYNC_PLAN_INTERNAL_H

#include <stdbool.h>
#include <time.h>

#include "sync/plan.h"

struct member_index; /* sync/member_index.h */

/* When a certificate expiring at not_after is renewed: renew_before ahead. */
static inline time_t
plan_renew_at(const struct conf_group *g, time_t not_after)
{
	return not_after - g->renew_before;
}

/* The renewal window: is a certificate expiring at not_after due for renewal now? */
static inline bool
plan_renewal_due(const struct conf_group *g, time_t not_after, time_t now)
{
	return plan_renew_at(g, not_after) <= now;
}

/*
 * The two parts of step 2 (plan_holders.c): leavers first (plan_retire.c),
 * then reminders (plan_remind.c), which read p->leavers and p->valve. mi: who is a member
 * in this run (from p->items). judged: per cfg->groups index, enabled and
 * read in this run.
 */
void plan_leavers(const struct config *cfg, const struct member_index *mi,
    const struct store_holder *holders, size_t n_holders, const bool *judged,
    bool allow_mass_retire, time_t now, struct plan *p);
void plan_reminders(const struct config *cfg, const struct member_index *mi,
    const struct store_holder *holders, size_t n_holders, const bool *judged, time_t now,
    struct plan *p);

/*
 * Addresses (plan_mail.c). Bounds on what the directory may give as
 * alternative addresses of one person.
 */
#define PLAN_MAX_ALT_MAILS 25
#define PLAN_MAX_ALT_BYTES 2048

/* Every address of every planned person, sorted, to find the ones claimed twice. */
struct claim;
struct plan_claims {
	struct claim *v;
	size_t n;
};
void plan_claims_build(const struct plan_item *items, size_t n, struct plan_claims *out);
void plan_claims_free(struct plan_claims *c);
/* Append every address claimed by two people to p->conflicts. */
void plan_conflicts(const struct plan_claims *c, const struct plan_item *items, struct plan *p);
/*
 * Apply the address rules to item self (decided already): may turn it
 * into a skip or a reissue, and sets it->alt_mails. Returns false when
 * the person was skipped over an address.
 */
bool plan_addresses(const struct config *cfg, const struct plan_claims *claims, size_t self,
    const struct store_user_state *st, struct plan_item *it, const struct plan_item *items);

#endif
