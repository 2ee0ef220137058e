/* SPDX-License-Identifier: ISC */
/*
 * Metrics and the HTML report from hand-made report documents: exact
 * Prometheus lines, label escaping, and HTML escaping of hostile values.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/metrics.h"
#include "report/progress.h"
#include "report/report_html.h"
#include "tests/unit/check.h"

static const char report[] =
    "{\"id\": \"20261123T185000Z-ab12\", \"started\": \"2026-11-23T18:50:00Z\","
    " \"finished\": \"2026-11-23T18:50:07Z\", \"duration_ms\": 7000, \"dry_run\": false,"
    " \"status\": \"partial\","
    " \"counts\": {\"users_seen\": 5, \"issued\": 2, \"errors\": 3},"
    " \"groups\": [{\"name\": \"g<1>\", \"directory\": \"corp\", \"members\": 5,"
    "   \"status\": \"ok\", \"error\": null}],"
    " \"users\": [{\"mail\": \"<script>alert(1)</script>@x\", \"name\": \"A & \\\"B\\\"\","
    "   \"id\": \"1\", \"dn\": \"uid=a\", \"group\": \"g<1>\", \"action\": \"issue\","
    "   \"reason\": null, \"outcome\": \"failed\", \"serial\": null, \"not_after\": null,"
    "   \"step\": \"publish\", \"error\": \"refused <b>\"}],"
    " \"errors\": [{\"user\": \"a@x\", \"step\": \"publish\", \"message\": \"m1\"},"
    "   {\"user\": \"b@x\", \"step\": \"publish\", \"message\": \"m2\"},"
    "   {\"user\": null, \"step\": \"we\\\"ird\", \"message\": \"interrupted by a signal\"}]}";

static char *
render_metrics(const char *json, int *rc)
{
	struct store_counts c;
	struct errbuf e;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	memset(&c, 0, sizeof(c));
	c.users_valid = 7;
	c.users_pending = 1;
	c.expiring_7d = 2;
	c.expiring_30d = 3;
	c.mails_queued = 4;
	c.mails_failed = 1;
	*rc = metrics_render(json, &c, f, &e);
	fclose(f);
	return text;
}

static void
test_metrics(void)
{
	int rc;
	char *m = render_metrics(report, &rc);

	CHECK_INTEQ(rc, 0);
	CHECK(strstr(m, "\nsmimesync_users{state=\"valid\"} 7\n") != NULL);
	CHECK(strstr(m, "\nsmimesync_users{state=\"pending\"} 1\n") != NULL);
	CHECK(strstr(m, "\nsmimesync_certificates_expiring{within=\"7d\"} 2\n") != NULL);
	CHECK(strstr(m, "\nsmimesync_certificates_expiring{within=\"30d\"} 3\n") != NULL);
	CHECK(strstr(m, "\nsmimesync_last_run_start_timestamp_seconds 1795459800\n") != NULL);
	CHECK(strstr(m, "\nsmimesync_last_run_duration_seconds 7.000\n") != NULL);
	CHECK(strstr(m, "\nsmimesync_last_run_status{status=\"partial\"} 1\n") != NULL);
	CHECK(strstr(m, "\nsmimesync_last_run_status{status=\"ok\"} 0\n") != NULL);
	CHECK(strstr(m, "\nsmimesync_last_run_interrupted 1\n") != NULL);
	CHECK(strstr(m, "\nsmimesync_last_run_count{what=\"issued\"} 2\n") != NULL);
	CHECK(strstr(m, "\nsmimesync_last_run_errors{step=\"publish\"} 2\n") != NULL);
	/* A quote in a label value is escaped, never ends the label. */
	CHECK(strstr(m, "\nsmimesync_last_run_errors{step=\"we\\\"ird\"} 1\n") != NULL);
	CHECK(strstr(m, "\nsmimesync_mails_queued 4\n") != NULL);
	CHECK(strstr(m, "\nsmimesync_mails_failed 1\n") != NULL);
	CHECK(strstr(m, "# TYPE smimesync_users gauge\n") != NULL);
	free(m);

	m = render_metrics("{not json", &rc);
	CHECK_INTEQ(rc, -1);
	free(m);
}

static void
test_html_escapes(void)
{
	struct errbuf e;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int rc = report_html_render(report, NULL, 1795459800, f, &e);

	fclose(f);
	CHECK_INTEQ(rc, 0);
	CHECK(strstr(text, "<script") == NULL);
	CHECK(strstr(text, "&lt;script&gt;alert(1)&lt;/script&gt;@x") != NULL);
	CHECK(strstr(text, "A &amp; &quot;B&quot;") != NULL);
	CHECK(strstr(text, "refused &lt;b&gt;") != NULL);
	CHECK(strstr(text, "g&lt;1&gt;") != NULL);
	CHECK(strstr(text, "<h2>Errors (3)</h2>") != NULL);
	/* Every error gets advice for its step. */
	CHECK(strstr(text, "userSMIMECertificate on this entry") != NULL);
	CHECK(strstr(text, "src=") == NULL && strstr(text, "href=") == NULL);
	CHECK(strstr(text, "</html>\n") != NULL);
	free(text);
}

/* What a terminal, systemctl status and the metrics file are told. */
static void
test_progress(void)
{
	struct run_progress p = { PHASE_ISSUING, 1234, 2000, 100.0, 120.0 };
	char line[128], small[24];
	char *text = NULL;
	size_t len = 0;
	FILE *mem;

	/* 1,234 in 20 s: 61.7/s; 766 left take 12.4 s, shown rounded up. */
	progress_format(&p, line, sizeof(line));
	CHECK_STREQ(line, "issuing 1,234 of 2,000 (61%), 62/s, 0:13 left");
	p.done = 3;
	p.now = 102.0;
	progress_format(&p, line, sizeof(line));
	CHECK_STREQ(line, "issuing 3 of 2,000 (0%), 1.5/s, 22:12 left");
	/* Nothing done yet, or one item: no rate, no guess. */
	p.done = 1;
	progress_format(&p, line, sizeof(line));
	CHECK_STREQ(line, "issuing 1 of 2,000 (0%)");
	/* Done: no time left. */
	p.done = 2000;
	progress_format(&p, line, sizeof(line));
	CHECK_STREQ(line, "issuing 2,000 of 2,000 (100%), 1000/s");
	/* A phase without a known total. */
	p.phase = PHASE_PLANNING;
	p.done = 0;
	p.total = 0;
	progress_format(&p, line, sizeof(line));
	CHECK_STREQ(line, "planning");
	/* Over an hour left, and a buffer too small: cut, still terminated. */
	p.phase = PHASE_MAILING;
	p.done = 10;
	p.total = 1000000;
	p.now = p.started + 10;
	progress_format(&p, line, sizeof(line));
	CHECK_STREQ(line, "mailing 10 of 1,000,000 (0%), 1.0/s, 277:46:30 left");
	progress_format(&p, small, sizeof(small));
	CHECK(strlen(small) == sizeof(small) - 1);

	mem = open_memstream(&text, &len);
	metrics_render_progress(&p, mem);
	fclose(mem);
	CHECK(strstr(text, "\nsmimesync_run_in_progress 1\n") != NULL);
	CHECK(strstr(text, "\nsmimesync_run_phase{phase=\"mailing\"} 1\n") != NULL);
	CHECK(strstr(text, "\nsmimesync_run_phase{phase=\"issuing\"} 0\n") != NULL);
	CHECK(strstr(text, "\nsmimesync_run_progress_done{phase=\"mailing\"} 10\n") != NULL);
	CHECK(strstr(text, "\nsmimesync_run_progress_total{phase=\"mailing\"} 1000000\n") != NULL);
	CHECK(strstr(text, "\nsmimesync_run_progress_rate 1.000\n") != NULL);
	CHECK(strstr(text, "\nsmimesync_run_progress_eta_seconds 999990\n") != NULL);
	free(text);
	text = NULL;
	mem = open_memstream(&text, &len);
	metrics_render_progress(NULL, mem);
	fclose(mem);
	CHECK(strstr(text, "\nsmimesync_run_in_progress 0\n") != NULL);
	CHECK(strstr(text, "smimesync_run_phase") == NULL);
	free(text);
}

int
main(void)
{
	test_progress();
	test_metrics();
	test_html_escapes();
	return check_finish();
}
