/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "common/fileutil.h"
#include "common/log.h"
#include "common/strutil.h"
#include "report/metrics.h"
#include "store/store.h"

/* Label values: backslash, double quote and newline are escaped. */
static void
put_label(FILE *out, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			fprintf(out, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", out);
		else
			fputc(*v, out);
	}
}

static void
head(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static time_t
time_of(json_t *doc, const char *key)
{
	const char *s = json_string_value(json_object_get(doc, key));
	time_t t = 0;

	if (s == NULL || parse_time_utc(s, &t) != 0)
		return 0;
	return t;
}

static void
errors_by_step(json_t *doc, FILE *out)
{
	json_t *errors = json_object_get(doc, "errors");
	json_t *by = json_object();
	json_t *v;
	const char *step;
	size_t i;

	json_array_foreach(errors, i, v) {
		const char *s = json_string_value(json_object_get(v, "step"));
		json_t *n;

		if (s == NULL)
			s = "unknown";
		n = json_object_get(by, s);
		json_object_set_new(by, s, json_integer((n ? json_integer_value(n) : 0) + 1));
	}
	head(out, "smimesync_last_run_errors", "gauge",
	    "Errors in the last run by the step that failed (directory, issue, publish, mail, run...).");
	json_object_foreach(by, step, v) {
		fputs("smimesync_last_run_errors{step=\"", out);
		put_label(out, step);
		fprintf(out, "\"} %lld\n", (long long)json_integer_value(v));
	}
	json_decref(by);
}

static const char *
dir_label(json_t *stream)
{
	const char *s = json_string_value(json_object_get(stream, "directory"));

	return s != NULL ? s : "?";
}

/*
 * The change streams the last run followed (report "streams", "run"): how
 * far behind the directory it started, when each directory was last read
 * whole, and how many changes the run acted on. Nothing without streams.
 */
static void
streams(json_t *doc, FILE *out)
{
	json_t *a = json_object_get(doc, "streams");
	json_t *lag = json_object_get(json_object_get(doc, "run"), "lag_s");
	json_t *v;
	size_t i;

	if (json_array_size(a) == 0)
		return;
	head(out, "smimesync_stream_lag_seconds", "gauge",
	    "How far behind the directory the last run started: from a change being seen in "
	    "the stream to the run, or the age of the last full read (-1: not known).");
	json_array_foreach(a, i, v) {
		fputs("smimesync_stream_lag_seconds{directory=\"", out);
		put_label(out, dir_label(v));
		fprintf(out, "\"} %lld\n", json_is_integer(lag) ?
		    (long long)json_integer_value(lag) : -1LL);
	}
	head(out, "smimesync_stream_last_full_read_timestamp_seconds", "gauge",
	    "When every group of the directory was last read whole (Unix time, 0: never).");
	json_array_foreach(a, i, v) {
		fputs("smimesync_stream_last_full_read_timestamp_seconds{directory=\"", out);
		put_label(out, dir_label(v));
		fprintf(out, "\"} %lld\n", (long long)time_of(v, "last_full_read"));
	}
	head(out, "smimesync_stream_changes", "gauge",
	    "Changes the directory's stream delivered that the last run acted on.");
	json_array_foreach(a, i, v) {
		fputs("smimesync_stream_changes{directory=\"", out);
		put_label(out, dir_label(v));
		fprintf(out, "\"} %lld\n", (long long)json_integer_value(json_object_get(v,
		    "changes")));
	}
}

int
metrics_render(const char *report_json, const struct store_counts *c, FILE *out,
    struct errbuf *e)
{
	static const char *const statuses[] = { "ok", "partial", "failed" };
	json_error_t jerr;
	json_t *doc = json_loads(report_json, 0, &jerr);
	json_t *counts, *v, *errs;
	const char *status, *key;
	bool interrupted = false;
	size_t i;

	if (doc == NULL || !json_is_object(doc)) {
		err_set(e, "run report is not valid JSON (line %d: %s)", jerr.line, jerr.text);
		json_decref(doc);
		return -1;
	}
	status = json_string_value(json_object_get(doc, "status"));
	errs = json_object_get(doc, "errors");
	json_array_foreach(errs, i, v) {
		const char *msg = json_string_value(json_object_get(v, "message"));

		if (json_is_null(json_object_get(v, "user")) && msg != NULL &&
		    strncmp(msg, "interrupted", 11) == 0)
			interrupted = true;
	}

	head(out, "smimesync_users", "gauge", "Users in the store by provisioning state.");
	fprintf(out, "smimesync_users{state=\"valid\"} %lld\n", (long long)c->users_valid);
	fprintf(out, "smimesync_users{state=\"expired\"} %lld\n", (long long)c->users_expired);
	fprintf(out, "smimesync_users{state=\"none\"} %lld\n", (long long)c->users_none);
	fprintf(out, "smimesync_users{state=\"pending\"} %lld\n", (long long)c->users_pending);
	fprintf(out, "smimesync_users{state=\"failed\"} %lld\n", (long long)c->users_failed);
	head(out, "smimesync_certificates_expiring", "gauge",
	    "Current certificates not yet expired that expire within the window.");
	fprintf(out, "smimesync_certificates_expiring{within=\"7d\"} %lld\n",
	    (long long)c->expiring_7d);
	fprintf(out, "smimesync_certificates_expiring{within=\"30d\"} %lld\n",
	    (long long)c->expiring_30d);
	head(out, "smimesync_certificates_expired", "gauge",
	    "Users whose current certificate has expired.");
	fprintf(out, "smimesync_certificates_expired %lld\n", (long long)c->expiry[EXPIRY_EXPIRED]);

	head(out, "smimesync_last_run_start_timestamp_seconds", "gauge",
	    "When the last recorded run started (Unix time).");
	fprintf(out, "smimesync_last_run_start_timestamp_seconds %lld\n",
	    (long long)time_of(doc, "started"));
	head(out, "smimesync_last_run_finish_timestamp_seconds", "gauge",
	    "When the last recorded run finished (Unix time).");
	fprintf(out, "smimesync_last_run_finish_timestamp_seconds %lld\n",
	    (long long)time_of(doc, "finished"));
	head(out, "smimesync_last_run_duration_seconds", "gauge", "How long the last run took.");
	fprintf(out, "smimesync_last_run_duration_seconds %.3f\n",
	    (double)json_integer_value(json_object_get(doc, "duration_ms")) / 1000.0);
	head(out, "smimesync_last_run_status", "gauge",
	    "1 for the status of the last run (ok, partial: some users or mails failed, failed).");
	for (i = 0; i < ARRAY_LEN(statuses); i++)
		fprintf(out, "smimesync_last_run_status{status=\"%s\"} %d\n", statuses[i],
		    status != NULL && strcmp(status, statuses[i]) == 0);
	head(out, "smimesync_last_run_interrupted", "gauge",
	    "1 if the last run was stopped by a signal before it finished its work.");
	fprintf(out, "smimesync_last_run_interrupted %d\n", interrupted);
	counts = json_object_get(doc, "counts");
	head(out, "smimesync_last_run_count", "gauge",
	    "What the last run saw and did (issued, renewed, mails_sent...).");
	json_object_foreach(counts, key, v) {
		fputs("smimesync_last_run_count{what=\"", out);
		put_label(out, key);
		fprintf(out, "\"} %lld\n", (long long)json_integer_value(v));
	}
	errors_by_step(doc, out);
	streams(doc, out);
	head(out, "smimesync_mails_queued", "gauge", "Mails waiting in the outbox for delivery.");
	fprintf(out, "smimesync_mails_queued %lld\n", (long long)c->mails_queued);
	head(out, "smimesync_mails_failed", "gauge",
	    "Mails given up after max_attempts (the user never got them).");
	fprintf(out, "smimesync_mails_failed %lld\n", (long long)c->mails_failed);
	json_decref(doc);
	return 0;
}

void
metrics_render_progress(const struct run_progress *p, FILE *out)
{
	double rate = 0, eta = -1;

	head(out, "smimesync_run_in_progress", "gauge", "1 while a run is going on, else 0.");
	fprintf(out, "smimesync_run_in_progress %d\n", p != NULL);
	if (p == NULL)
		return;
	progress_rate(p, &rate, &eta);
	head(out, "smimesync_run_phase", "gauge", "1 for the phase the running run is in.");
	for (int i = 0; i < PHASE_DONE; i++)
		fprintf(out, "smimesync_run_phase{phase=\"%s\"} %d\n", run_phase_key((enum run_phase)i),
		    (int)p->phase == i);
	head(out, "smimesync_run_progress_done", "gauge",
	    "Items (people, mails) the running phase has finished.");
	fprintf(out, "smimesync_run_progress_done{phase=\"%s\"} %llu\n", run_phase_key(p->phase),
	    (unsigned long long)p->done);
	head(out, "smimesync_run_progress_total", "gauge",
	    "Items the running phase has in all (0: not known).");
	fprintf(out, "smimesync_run_progress_total{phase=\"%s\"} %llu\n", run_phase_key(p->phase),
	    (unsigned long long)p->total);
	head(out, "smimesync_run_progress_rate", "gauge",
	    "Items per second in the running phase so far.");
	fprintf(out, "smimesync_run_progress_rate %.3f\n", rate);
	head(out, "smimesync_run_progress_eta_seconds", "gauge",
	    "Seconds the running phase needs at its rate so far (-1: not known).");
	fprintf(out, "smimesync_run_progress_eta_seconds %.0f\n", eta);
}

/* Render into metrics_file atomically: report_json may be NULL (no finished run yet). */
static int
write_file(const struct config *cfg, const char *report_json, const struct run_progress *p,
    struct errbuf *e)
{
	struct store *st = NULL;
	struct store_counts c;
	char *text = NULL;
	size_t len = 0;
	FILE *mem = NULL;
	int rc = -1;

	if (report_json != NULL && (store_open_readonly(cfg->service.state_dir, &st, e) != 0 ||
	    store_query_counts(st, time(NULL), &c, e) != 0))
		goto out;
	mem = open_memstream(&text, &len);
	if (mem == NULL) {
		err_set(e, "cannot build the metrics: out of memory");
		goto out;
	}
	if (report_json != NULL && metrics_render(report_json, &c, mem, e) != 0)
		goto out;
	metrics_render_progress(p, mem);
	if (fclose(mem) != 0) {
		mem = NULL;
		err_set(e, "cannot build the metrics: out of memory");
		goto out;
	}
	mem = NULL;
	/* node_exporter runs as another user: the file is world-readable. */
	if (file_write_atomic(cfg->service.metrics_file, text, len, 0644, e) != 0) {
		err_prefix(e, "metrics_file");
		goto out;
	}
	rc = 0;
out:
	if (mem != NULL)
		fclose(mem);
	free(text);
	store_close(st);
	return rc;
}

int
metrics_write(const struct config *cfg, const char *report_json, struct errbuf *e)
{
	return write_file(cfg, report_json, NULL, e);
}

int
metrics_write_progress(const struct config *cfg, const struct run_progress *p, struct errbuf *e)
{
	struct store *st = NULL;
	char *json = NULL;
	int rc;

	/* The last finished run, read while this one runs (WAL: readers never wait). */
	if (store_open_readonly(cfg->service.state_dir, &st, e) == 0 &&
	    store_run_report(st, NULL, &json, e) < 0) {
		store_close(st);
		return -1;
	}
	store_close(st);
	rc = write_file(cfg, json, p, e);
	free(json);
	return rc;
}

void
metrics_run_hook(const struct config *cfg, const char *report_json, void *arg)
{
	struct errbuf e;

	(void)arg;
	if (cfg->service.metrics_file == NULL)
		return;
	err_clear(&e);
	if (metrics_write(cfg, report_json, &e) != 0)
		log_error("cannot write the metrics: %s", e.text);
	else
		log_debug("metrics written to %s", cfg->service.metrics_file);
}
