/* SPDX-License-Identifier: ISC */
/*
 * Progress of a run, as the engine reports it and as people read it.
 *
 * The engine (sync/run.c) calls the run's progress hook with a struct
 * run_progress at the start of each phase and after each person or mail;
 * the hook decides how often to show it: one updating line on a terminal
 * (cli/progress.c), STATUS= for systemctl status, gauges in the metrics
 * file (metrics.h). This module only words it:
 *
 *   struct run_progress p = { PHASE_ISSUING, 1234, 2000, t0, now };
 *   progress_format(&p, buf, sizeof(buf));
 *       "issuing 1,234 of 2,000 (61%), 64/s, 0:12 left"
 *
 * Times are seconds on a monotonic clock (progress_clock()); the rate is
 * the phase's average so far, the time left is what that rate leaves.
 */
#ifndef SMIMESYNC_REPORT_PROGRESS_H
#define SMIMESYNC_REPORT_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

enum run_phase {
	PHASE_READING = 0, /* reading the groups from the directory */
	PHASE_PLANNING,    /* recording the members, planning */
	PHASE_ISSUING,     /* keys, CA, store, directory, mails queued: per person */
	PHASE_PUBLISHING,  /* republishing certificates the directory lacks */
	PHASE_RETIRING,    /* leavers and reminders */
	PHASE_MAILING,     /* delivering the outbox */
	PHASE_DONE,
};
#define RUN_PHASES (PHASE_DONE + 1)

/* In words: "reading the directory", "issuing", "leavers and reminders", ... */
const char *run_phase_name(enum run_phase p);
/* As a metrics label: "reading", "planning", "issuing", "publishing", "retiring", "mailing", "done". */
const char *run_phase_key(enum run_phase p);

struct run_progress {
	enum run_phase phase;
	uint64_t done;   /* items finished in this phase */
	uint64_t total;  /* items the phase has, 0 when not known */
	double started;  /* progress_clock() when the phase began */
	double now;      /* progress_clock() now */
};

/* Seconds on CLOCK_MONOTONIC. */
double progress_clock(void);
/* Items per second so far (0 before there is one), and seconds left (-1: unknown). */
void progress_rate(const struct run_progress *p, double *per_second, double *seconds_left);
/* The one-line description (truncated to size). */
void progress_format(const struct run_progress *p, char *out, size_t size);

#endif
