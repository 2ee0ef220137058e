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

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>

#include "conf/conf.h"
#include "report/progress.h"
#include "report/report.h"

enum run_status {
	RUN_OK = 0,
	RUN_FAILED = 1,
	RUN_PARTIAL = 3,
};

struct run_options {
	bool dry_run;
	bool allow_mass_retire; /* open the safety valve for this run */
	bool allow_mass_issue;  /* open the mass-issuance valve for this run */
	enum report_format format;
	FILE *out;
	/*
	 * Called after a recorded (non-dry) run with the stored report
	 * (borrowed for the call) and finished_arg, e.g. to write metrics;
	 * NULL for nothing.
	 */
	void (*finished)(const struct config *cfg, const char *report_json, void *arg);
	void *finished_arg;
	/*
	 * Called at the start of each phase and after each person or mail of
	 * it (report/progress.h), with progress_arg; NULL for nothing. The
	 * hook decides how often to show anything.
	 */
	void (*progress)(const struct run_progress *p, void *arg);
	void *progress_arg;
};

/*
 * Set from a signal handler (SIGTERM/SIGINT in the daemon) to end a run
 * early and cleanly: the user being processed finishes its current step,
 * nobody else is started, the outbox is not flushed, and the report says
 * the run was interrupted. Any later run resumes where this one stopped.
 */
extern volatile sig_atomic_t run_stop_requested;

enum run_status run_sync(const struct config *cfg, const struct run_options *opt);

#endif
