/* SPDX-License-Identifier: ISC */
/*
 * Reminders before a certificate expires, per the group's `reminders`
 * thresholds. Each threshold is sent at most once per certificate (the
 * store remembers); after downtime only the nearest due threshold goes
 * out and the earlier ones are marked as passed. What the mail says
 * depends on what will happen:
 *
 *   reminder-renew    a member's current certificate: renewed
 *                     automatically on <renew date>, nothing to do
 *   reminder-leaver   a leaver's certificate: not renewed, ask <contact>
 *                     (not sent with on_leave = keep)
 *   reminder-install  a certificate superseded by a renewal: install the
 *                     new one before the old one expires
 *
 * Nobody is reminded whose group could not be read in this run, who is
 * ignored, or whose notifications are suspended. With dry_run the
 * reminders are reported, not queued.
 */
#ifndef SMIMESYNC_SYNC_REMIND_H
#define SMIMESYNC_SYNC_REMIND_H

#include <stdbool.h>
#include <stddef.h>

#include "sync/engine.h"
#include "sync/plan.h"

void remind_due(struct engine *en, const struct plan_item *items, size_t n_items,
    const bool *group_ok, bool dry_run);
/* The same over holders the caller loaded with store_holders() (borrowed). */
void remind_due_in(struct engine *en, const struct plan_item *items, size_t n_items,
    const bool *group_ok, bool dry_run, const struct store_holder *holders, size_t n_holders);

#endif
