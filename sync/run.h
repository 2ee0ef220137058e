/* SPDX-License-Identifier: ISC */
/*
 * One sync run: read the directory, load state, plan, execute, deliver
 * mail, report. With dry_run the plan is reported and nothing is changed
 * anywhere: not the store, not the directory, no mail.
 *
 * Returns an exit status: RUN_OK, RUN_PARTIAL (some users or mails
 * failed; the report says which) or RUN_FAILED (nothing could be done,
 * e.g. the store or every directory was unreachable).
 */
#ifndef SMIMESYNC_SYNC_RUN_H
#define SMIMESYNC_SYNC_RUN_H

#include <stdbool.h>
#include <stdio.h>

#include "conf/config.h"
#include "sync/report.h"

enum run_status {
	RUN_OK = 0,
	RUN_FAILED = 1,
	RUN_PARTIAL = 3,
};

struct run_options {
	bool dry_run;
	enum report_format format;
	FILE *out;
};

enum run_status run_sync(const struct config *cfg, const struct run_options *opt);

#endif
