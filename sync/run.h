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
#include "directory/directory.h"
#include "report/progress.h"
#include "report/report.h"
#include "store/store.h"

/*
 * One change a directory's stream delivered (directory.h, "change
 * streams"), with the [directory] it came from. Both borrowed.
 */
struct run_change {
	const struct conf_directory *dir;
	const struct dir_change *c;
};

/*
 * What a run reads, why it runs, and the stream positions it commits
 * (cli/daemon.c fills it; NULL in run_options: a full run, as `smimesync
 * run` does).
 *
 * An incremental run reads whole only the groups read_whole[] names (per
 * cfg->groups index; NULL: every group) and plans, of everyone else, only
 * the people changes[] names: a PERSON the store knows as a current
 * member is planned with the new values under the group that governed
 * them; a GONE, or a PERSON now disabled or unusable, has the groups that
 * governed them read whole, so the planner decides it as in a full run. A
 * group not read is held: nobody of it is judged a leaver, reminded or
 * unpublished. Before it certifies an address that someone it did not
 * read has in the store, the run reads every group (invariant I5 is
 * judged across everyone, as in a full run).
 *
 * streams[] are stored (store_stream_put()) in the transaction that
 * records the run's report, and only when every group the run meant to
 * read was read and the run was not interrupted: after a crash or a
 * failed read the stream delivers the same changes again. Acting twice
 * on a change is harmless (the planner finds nothing to do). last_full_read
 * of a stream whose directory's groups were all read whole becomes the
 * run's start.
 */
struct run_scope {
	const char *kind;     /* "full" or "incremental", for the report */
	const char *trigger;  /* what started the run, for the report (borrowed) */
	long long lag;        /* seconds the run starts behind the directory, -1 unknown */
	const bool *read_whole;
	const struct run_change *changes;
	size_t n_changes;
	struct store_stream *streams; /* borrowed; last_full_read may be set by the run */
	size_t n_streams;
	size_t *n_seen;       /* per streams[]: changes seen in this run (report), or NULL */
	bool due;             /* also look up the people due by the clock (plan_due()): a run
	                         at [service] interval while every directory is followed */
	bool committed;       /* out: streams[] were stored */
	bool escalated;       /* out: an incremental run became a full read (I5) */
};

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
	/* What to read and which stream positions to commit; NULL: a full run. */
	struct run_scope *scope;
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
