/* SPDX-License-Identifier: ISC */
/*
 * Leavers: people who hold a valid certificate but are no longer members
 * of any synced group, or whose account is disabled or expired.
 *
 * Only groups whose read succeeded in this run are judged: a directory
 * that is down or a group that failed to read retires nobody. Newly seen
 * leavers are recorded (users.left_at); under on_leave = revoke they are
 * revoked and unpublished once leave_grace has passed. Someone who comes
 * back is simply a member again.
 *
 * The safety valve: when more than [service] max_retire people, or more
 * than max_retire_percent of one group (and at least 3 people), would
 * newly leave in one run, nobody is retired, the report says why, and the
 * admin confirms with `smimesync run --allow-mass-retire`.
 */
#ifndef SMIMESYNC_SYNC_RETIRE_H
#define SMIMESYNC_SYNC_RETIRE_H

#include <stdbool.h>
#include <stddef.h>

#include "sync/engine.h"
#include "sync/plan.h"

/*
 * items: this run's plan. group_ok: per cfg->groups index, the read
 * succeeded. With dry_run nothing is changed, only reported. Returns the
 * number of people newly retired (or that would be).
 */
size_t retire_leavers(struct engine *en, const struct plan_item *items, size_t n_items,
    const bool *group_ok, bool allow_mass, bool dry_run);
/* The same over holders the caller loaded with store_holders() (borrowed). */
size_t retire_leavers_in(struct engine *en, const struct plan_item *items, size_t n_items,
    const bool *group_ok, bool allow_mass, bool dry_run, const struct store_holder *holders,
    size_t n_holders);

#endif
