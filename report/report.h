/* SPDX-License-Identifier: ISC */
/*
 * Room report/: what a run is told as: the run report (JSON, text,
 * HTML in report_html.h) and the Prometheus metrics (metrics.h).
 *
 * The run report: what one run saw, did and failed to do.
 *
 * The engine feeds a struct report as it goes; report_finish() turns it
 * into one JSON document, which is what the store keeps. Every other
 * format (text today, HTML later) is rendered from that JSON, so what an
 * admin reads is always exactly what was recorded.
 *
 * JSON shape:
 *   { "id", "started", "finished", "duration_ms", "dry_run", "status": ok|partial|failed,
 *     "counts": { users_seen, issued, renewed, reissued, unchanged, skipped,
 *                 published, retired, revoked, reminded, mails_queued,
 *                 mails_sent, mails_failed, errors },
 *     "groups": [ { name, directory, members, status, error, publish_to?, note? } ],
 *     "users":  [ { mail, name, id, dn, group, also_in, action, reason, outcome,
 *                   serial, not_after, step, error } ],
 *     "errors": [ { user, step, message } ],
 *     "notices": [ text ]              (only when there is one: not errors),
 *     "signing_log": { lines, head }   (optional: the signer's log after the run),
 *     "run": { kind, trigger, lag_s },   (what kind of run, why, how far behind)
 *     "streams": [ { directory, kind, changes, last_full_read } ]   (optional) }
 *
 * Users with action "nothing" are counted, not listed, unless something
 * went wrong for them: at 100,000 people the report stays small.
 */
#ifndef SMIMESYNC_REPORT_REPORT_H
#define SMIMESYNC_REPORT_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "common/attrs.h"
#include "common/errbuf.h"

struct report;

/* One user line; every pointer is borrowed for the call only. */
struct report_user {
	const char *mail;
	const char *name;
	const char *id;
	const char *dn;
	const char *group;
	const char *also_in;
	const char *action;
	const char *reason;
	const char *outcome;   /* "done", "planned", "failed", "pending", "skipped" */
	const char *serial;
	time_t not_after;      /* 0: none */
	const char *step;      /* where it failed */
	const char *error;
};

struct report *report_new(const char *run_id, time_t started, bool dry_run);
void report_free(struct report *r);
void report_count(struct report *r, const char *counter, int64_t delta);
void report_group(struct report *r, const char *group, const char *directory, int64_t members,
    const char *error_or_null);
/*
 * Which kind of run this is ("full", "incremental"), what started it
 * ("daemon start", "interval", "a change in [directory X]", "refresh
 * required: <reason>", ...) and how far behind the directory it starts
 * (lag, seconds; -1 unknown): "run": { kind, trigger, lag_s }.
 */
void report_run_kind(struct report *r, const char *kind, const char *trigger, long long lag);
/*
 * A change stream the run followed: "streams": [ { directory, kind,
 * changes, last_full_read } ], changes it acted on, and when the
 * directory's groups were last read whole (0: never).
 */
void report_stream(struct report *r, const char *directory, const char *kind, int64_t changes,
    time_t last_full_read);
/*
 * Where the certificates of a group that was read go: publish_to names the
 * directory, or is NULL and note says in words why nowhere.
 */
void report_group_publish(struct report *r, const char *group, const char *publish_to,
    const char *note);
void report_user(struct report *r, const struct report_user *u);
/* An error; user may be NULL for run-wide errors. Also counted in "errors". */
void report_error(struct report *r, const char *user, const char *step, const char *fmt, ...)
    PRINTF_LIKE(4, 5);
/*
 * Something the admin should know that is not an error (the run stays
 * "ok"): an override given on purpose, for instance. In "notices".
 */
void report_notice(struct report *r, const char *fmt, ...) PRINTF_LIKE(2, 3);
/*
 * The head of the signer's signing log when the run ended: its number of
 * lines and the SHA-256 (hex) of the last, so that a later edit or removal
 * is seen (smimesync audit, smimesync-signer verify-log --head).
 */
void report_signing_log(struct report *r, uint64_t lines, const char *head);
/* Mark the whole run failed (nothing could be done), with the reason. */
void report_fail(struct report *r, const char *fmt, ...) PRINTF_LIKE(2, 3);
/* What happened in group so far: people with an action other than "nothing", and failures. */
void report_group_activity(const struct report *r, const char *group, size_t *acted,
    size_t *failed);
/* The counters so far that are not 0, and errors, on one line: "issued 3, errors 0" (new). */
char *report_counts_line(const struct report *r);
/* The counters so far as "label: value" lines (new). */
char *report_summary_text(const struct report *r);
/*
 * Error lines so far that concern group (its people, and run-wide errors),
 * at most max, "none" when there are none (new).
 */
char *report_error_lines(const struct report *r, const char *group, size_t max);
/* "ok" or "partial" as it stands now (a failed run never gets this far). */
const char *report_status_so_far(const struct report *r);

/* The JSON document (new) and the run status ("ok", "partial", "failed"). */
char *report_finish(struct report *r, time_t finished, const char **status_out);

enum report_format {
	REPORT_TEXT = 0,
	REPORT_JSON,
	REPORT_HTML, /* report/report_html.h; report_render() leaves out the store charts */
};

int report_format_parse(const char *s, enum report_format *out) MUST_USE;
/* Render a stored report. Returns -1 with e set if json is not a report. */
int report_render(const char *json, enum report_format fmt, FILE *out, struct errbuf *e) MUST_USE;

#endif
