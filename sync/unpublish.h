/* SPDX-License-Identifier: ISC */
/*
 * Taking stale values of ours out of the directory (invariant I2): every
 * run first queues every certificate of ours still marked published that
 * is no longer current (revoked, superseded, or expired: a leaver's or a
 * disabled person's certificate under on_leave = keep or stop-renewing
 * included), then works through the whole queue (store/removals.h) --
 * removals that failed in an earlier run or in `smimesync revoke` too.
 * Only the exact values of those certificates are removed
 * (publish_remove()); other issuers' values are never touched. What is
 * still pending after the run is listed in the report, one line each,
 * and counted as removals_pending.
 */
#ifndef SMIMESYNC_SYNC_UNPUBLISH_H
#define SMIMESYNC_SYNC_UNPUBLISH_H

#include <stdbool.h>

#include "sync/engine.h"

/*
 * group_failed: per cfg->groups index, the groups whose read failed in
 * this run, or that an incremental run did not read (NULL: none); their
 * people's removals wait for a run that could read them, and are reported
 * as pending -- except for the people in looked_up (user ids, sorted by
 * strcmp, borrowed): an incremental run looked them up alone and judged
 * them. dry_run: only report.
 */
void unpublish_stale(struct engine *en, const bool *group_failed,
    const char *const *looked_up, size_t n_looked_up, bool dry_run);

#endif
