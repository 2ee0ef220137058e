/* SPDX-License-Identifier: ISC */
/*
 * Showing a run's progress (report/progress.h) to the people watching it:
 *
 *   on a terminal  one line per phase on stderr, rewritten in place at most
 *                  ten times a second ("issuing 1,234 of 2,000 (61%),
 *                  64/s, 0:12 left"), and left standing with its total and
 *                  time when the phase ends; log lines step around it;
 *   under systemd  STATUS= once a second, so systemctl status shows it;
 *   in metrics     [service] metrics_file rewritten every 10 s with the
 *                  run's phase, counts, rate and time left.
 *
 *   struct cli_progress cp;
 *   cli_progress_start(&cp, cfg, isatty(STDERR_FILENO), false);
 *   opt.progress = cli_progress_hook; opt.progress_arg = &cp;
 *   run_sync(cfg, &opt);
 *   cli_progress_stop(&cp);
 *
 * cfg is borrowed until cli_progress_stop(). Only one may be started at a
 * time: it holds the log's stderr hooks.
 */
#ifndef SMIMESYNC_CLI_PROGRESS_H
#define SMIMESYNC_CLI_PROGRESS_H

#include <stdbool.h>

#include "conf/conf.h"
#include "report/progress.h"

struct cli_progress {
	const struct config *cfg;
	bool tty;               /* draw the line on stderr */
	bool notify;            /* STATUS= to systemd */
	char status_suffix[200]; /* appended to STATUS= (e.g. the last run) */
	bool shown;             /* a progress line stands unfinished on stderr */
	enum run_phase phase;   /* the phase last seen */
	struct run_progress last;
	double drawn, notified, metrics_written;
	int width;              /* terminal columns */
};

void cli_progress_start(struct cli_progress *cp, const struct config *cfg, bool tty,
    bool notify);
/* A run's progress hook (struct run_options); arg is the struct cli_progress. */
void cli_progress_hook(const struct run_progress *p, void *arg);
void cli_progress_stop(struct cli_progress *cp);

#endif
