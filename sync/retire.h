/* SPDX-License-Identifier: ISC */
/*
 * Carrying out the plan's leavers (plan.h, step 2): record who left or
 * came back, revoke and unpublish where the plan says so, and report each
 * with the plan's reason. What happens to whom, the leave grace and the
 * safety valve are the planner's decisions; with the valve held only
 * people who came back are recorded.
 *
 * With dry_run nothing is changed: the leavers are reported as planned,
 * the valve's findings as errors, exactly as a real run would.
 */
#ifndef SMIMESYNC_SYNC_RETIRE_H
#define SMIMESYNC_SYNC_RETIRE_H

#include <stdbool.h>

#include "sync/engine.h"
#include "sync/plan.h"

void retire_execute(struct engine *en, const struct plan *p, bool dry_run);

#endif
