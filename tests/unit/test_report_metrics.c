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

int
main(void)
{
	test_metrics();
	test_html_escapes();
	return check_finish();
}
