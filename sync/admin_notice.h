/* SPDX-License-Identifier: ISC */
/*
 * Admin notices: after a run that changed something in a group or had
 * errors, the group's `notify` addresses get the summary and the errors
 * that concern that group (and the run as a whole), so each team hears
 * about its own people rather than one global mailbox about everyone's.
 */
#ifndef SMIMESYNC_SYNC_ADMIN_NOTICE_H
#define SMIMESYNC_SYNC_ADMIN_NOTICE_H

#include "sync/engine.h"

/* Queue the notices due for this run; problems land in the report. */
void notice_queue(struct engine *en);

#endif
