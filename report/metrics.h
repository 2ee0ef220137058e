/* SPDX-License-Identifier: ISC */
/*
 * Prometheus metrics in the text exposition format, for node_exporter's
 * textfile collector: after every recorded run, [service] metrics_file is
 * rewritten atomically (temporary file + rename, so the collector never
 * reads half a file) from the run's report and a few store counts.
 *
 *   struct run_options opt = { ..., .finished = metrics_run_hook };   (run does this)
 *
 * What is exported is listed in smimesync(8), METRICS.
 */
#ifndef SMIMESYNC_REPORT_METRICS_H
#define SMIMESYNC_REPORT_METRICS_H

#include <stdio.h>

#include "common/attrs.h"
#include "common/errbuf.h"
#include "conf/conf.h"
#include "report/progress.h"
#include "store/queries.h"

/* Write the metrics for one run report and the store counts to out. */
int metrics_render(const char *report_json, const struct store_counts *c, FILE *out,
    struct errbuf *e) MUST_USE;
/*
 * The gauges of the run going on (p), or of none (p NULL: in progress 0):
 * smimesync_run_in_progress, _run_phase{phase}, _run_progress_done and
 * _total{phase}, _run_progress_rate and _run_progress_eta_seconds.
 */
void metrics_render_progress(const struct run_progress *p_or_null, FILE *out);
/* Query the store in cfg's state_dir and write cfg->service.metrics_file. */
int metrics_write(const struct config *cfg, const char *report_json, struct errbuf *e) MUST_USE;
/*
 * During a run: the last finished run's metrics (if any) and the progress
 * of this one, written to metrics_file the same way.
 */
int metrics_write_progress(const struct config *cfg, const struct run_progress *p,
    struct errbuf *e) MUST_USE;
/*
 * A run's finished hook (struct run_options, sync/run.h): metrics_write()
 * when metrics_file is set; errors are logged. arg is not used.
 */
void metrics_run_hook(const struct config *cfg, const char *report_json, void *arg);

#endif
