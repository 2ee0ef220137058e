/* SPDX-License-Identifier: ISC */
/*
 * The HTML report: one self-contained file an administrator opens in a
 * browser (no scripts, no external stylesheets, fonts or images; CSS is
 * inline and charts are inline SVG). Every string from the report or the
 * store is HTML-escaped.
 *
 * The stored report JSON describes one run only. The charts about the
 * whole population (certificates by days to expiry, by key type, by group)
 * and issuance over the last runs come from the store at render time:
 * pass the open store; with NULL those charts are left out with a note
 * (run --format html prints the report of the run just made, before
 * anything else could be asked of the store).
 *
 *   report_html_render(json, st, time(NULL), stdout, &e);
 *   report_html_render_summary(summary_json, st, time(NULL), stdout, &e);
 *
 * The summary JSON is made by report_summary_build() (report --since).
 */
#ifndef SMIMESYNC_REPORT_REPORT_HTML_H
#define SMIMESYNC_REPORT_REPORT_HTML_H

#include <stdio.h>
#include <time.h>

#include "common/attrs.h"
#include "common/errbuf.h"
#include "report/report.h"
#include "store/store.h"

int report_html_render(const char *report_json, struct store *st_or_null, time_t now, FILE *out,
    struct errbuf *e) MUST_USE;

/*
 * report --since: every run started at or after since, summed up.
 * Shape: { "since", "until", "runs", "by_status": {ok, partial, failed, unfinished},
 *          "counts": { the run counters, summed },
 *          "run_list": [ { id, started, finished, status, issued, renewed, reissued,
 *                          errors, mails_sent, mails_failed } ],
 *          "errors": [ { run, user, step, message } ], "errors_omitted" }
 * At most 500 errors are listed; errors_omitted counts the rest.
 */
int report_summary_build(struct store *st, time_t since, time_t now, char **json_out,
    struct errbuf *e) MUST_USE;
int report_summary_render(const char *summary_json, enum report_format fmt,
    struct store *st_or_null, time_t now, FILE *out, struct errbuf *e) MUST_USE;

#endif
