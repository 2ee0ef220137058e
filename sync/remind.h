/* SPDX-License-Identifier: ISC */
/*
 * Carrying out the plan's reminders (plan.h, step 2): render each mail,
 * queue it and record its thresholds in one transaction, mark passed
 * thresholds, and report each with the plan's reason. Which reminder is
 * due for whom is the planner's decision; this file says only what the
 * mail contains (dates, the contact a leaver should ask, the new
 * certificate's file).
 *
 * With dry_run the reminders are reported as planned, not queued.
 */
#ifndef SMIMESYNC_SYNC_REMIND_H
#define SMIMESYNC_SYNC_REMIND_H

#include <stdbool.h>

#include "sync/engine.h"
#include "sync/plan.h"

void remind_execute(struct engine *en, const struct plan *p, bool dry_run);

#endif
