/* SPDX-License-Identifier: ISC */
/*
 * HTML rendering of a run report and of a --since summary, with inline
 * SVG charts. Layout: what happened (summary cards), what went wrong and
 * what to do about it, the details (groups, users, runs), then charts.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/strutil.h"
#include "common/xalloc.h"
#include "report/report_html.h"
#include "store/queries.h"

/* How many past runs the issuance chart shows. */
#define CHART_RUNS 20
/* Lists longer than these start collapsed, behind their counts. */
#define PEOPLE_OPEN_MAX 300
#define ERRORS_OPEN_MAX 50
/* Values per filter (outcome, action, group) that get a button. */
#define FILTER_VALUES 32

static const char css[] =
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;"
    "margin:0;padding:24px 32px;color:#1f2933;background:#f5f7fa;line-height:1.4}"
    "h1{font-size:1.6em;margin:0 0 4px}h2{font-size:1.2em;margin:28px 0 10px;"
    "border-bottom:1px solid #d9e2ec;padding-bottom:4px}"
    ".meta{color:#52606d;margin:0 0 16px}"
    ".badge{display:inline-block;padding:2px 10px;border-radius:12px;font-weight:600;"
    "font-size:.9em;color:#fff}"
    ".st-ok{background:#2f8132}.st-partial{background:#b7791f}.st-failed{background:#c53030}"
    ".st-unfinished{background:#616e7c}"
    ".cards{display:flex;flex-wrap:wrap;gap:12px}"
    ".card{background:#fff;border:1px solid #d9e2ec;border-radius:8px;padding:10px 16px;"
    "min-width:110px}.card .n{font-size:1.8em;font-weight:700}.card .l{color:#52606d;"
    "font-size:.85em}.card.bad .n{color:#c53030}"
    "table{border-collapse:collapse;background:#fff;width:100%;font-size:.9em}"
    "th,td{border:1px solid #d9e2ec;padding:4px 8px;text-align:left;vertical-align:top}"
    "th{background:#e4e7eb}td.num{text-align:right}"
    "tr.failed td{background:#fff5f5}.mono{font-family:ui-monospace,'DejaVu Sans Mono',"
    "monospace;font-size:.85em;word-break:break-all}td.run{white-space:nowrap;word-break:normal}"
    ".todo{color:#334e68}.note{color:#52606d;font-style:italic}"
    ".charts{display:flex;flex-wrap:wrap;gap:16px}"
    ".chart{background:#fff;border:1px solid #d9e2ec;border-radius:8px;padding:8px}"
    ".chart h3{font-size:1em;margin:0 0 6px}"
    "footer{margin-top:32px;color:#7b8794;font-size:.8em}";

static void
esc(FILE *out, const char *s)
{
	if (s == NULL)
		return;
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", out);
			break;
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		case '\'':
			fputs("&#39;", out);
			break;
		default:
			fputc(*s, out);
		}
	}
}

static const char *
str(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static const char *
str_or(json_t *obj, const char *key, const char *dflt)
{
	const char *s = str(obj, key);

	return s != NULL ? s : dflt;
}

static long long
num(json_t *obj, const char *key)
{
	return (long long)json_integer_value(json_object_get(obj, key));
}

/* A status word we know, for the CSS class; anything else is "failed". */
static const char *
status_class(const char *status)
{
	if (status != NULL && (strcmp(status, "ok") == 0 || strcmp(status, "partial") == 0 ||
	    strcmp(status, "unfinished") == 0))
		return status;
	return "failed";
}

/* What an administrator can do about an error, by the step that failed. */
static const char *
advice(const char *step)
{
	static const struct {
		const char *step;
		const char *what;
	} table[] = {
		{ "directory", "Check that the directory server is reachable and that the bind "
		    "account may read the group and its members (smimesync check-config names "
		    "the server). Nothing was changed for this group." },
		{ "planned", "The user could not be planned or the key made: check free space "
		    "in the state directory. The next run starts this user again." },
		{ "key_made", "The key was made but the CA was not asked: the next run resumes "
		    "with the same key." },
		{ "ca_asked", "The CA could not be reached or could not be used: check the [ca] "
		    "settings (smimesync check-config) and the message. The request is kept: "
		    "later runs ask again, waiting longer after each failure." },
		{ "cert_stored", "Issued but not yet in the directory: check that the service "
		    "account may write userCertificate;binary and userSMIMECertificate on this "
		    "entry. The next run publishes it." },
		{ "publish", "Not written to the directory: check that the service account may "
		    "write userCertificate;binary and userSMIMECertificate on this entry. The "
		    "next run retries." },
		{ "published", "Published, but the mails were not queued: the next run queues "
		    "them." },
		{ "mail", "Mail stays queued and is retried with growing delays up to "
		    "[mail] max_attempts: check the SMTP server and the [mail] settings." },
		{ "failed", "The request was refused: read the message. A refusal by the CA holds "
		    "this person back until the cause is fixed and smimesync issue USER is run; "
		    "any other failure is planned afresh by the next run." },
		{ "run", "The run stopped early or could not start: read the message. "
		    "Unfinished work resumes at the next run." },
	};

	if (step != NULL)
		for (size_t i = 0; i < ARRAY_LEN(table); i++)
			if (strcmp(step, table[i].step) == 0)
				return table[i].what;
	return "Read the message; the next run retries this user.";
}

/*
 * The page head. No script runs on the page: the Content-Security-Policy
 * says so to the browser too (only the inline style is allowed), so that
 * a report that reached a browser some other way still runs nothing.
 */
static void
head(FILE *out, const char *title_a, const char *title_b, const char *extra_css)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	    "style-src 'unsafe-inline'\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	    "<title>", out);
	esc(out, title_a);
	esc(out, title_b);
	fprintf(out, "</title>\n<style>%s%s</style>\n</head>\n<body>\n", css,
	    extra_css != NULL ? extra_css : "");
}

static void
foot(FILE *out, time_t now)
{
	char when[32];

	format_time_utc(now, when, sizeof(when));
	fprintf(out, "<footer>Made by smimesync %s at %s.</footer>\n</body>\n</html>\n",
	    PACKAGE_VERSION, when);
}

static void
card(FILE *out, const char *label, long long n, bool bad_if_nonzero)
{
	fprintf(out, "<div class=\"card%s\"><div class=\"n\">%lld</div><div class=\"l\">",
	    bad_if_nonzero && n > 0 ? " bad" : "", n);
	esc(out, label);
	fputs("</div></div>\n", out);
}

static void
cards(FILE *out, json_t *counts)
{
	static const struct {
		const char *key, *label;
		bool bad;
	} order[] = {
		{ "issued", "issued", false }, { "renewed", "renewed", false },
		{ "reissued", "reissued", false }, { "retired", "retired", false },
		{ "revoked", "revoked", false }, { "errors", "errors", true },
		{ "mails_sent", "mails sent", false }, { "mails_failed", "mails failed", true },
		{ "mails_queued", "mails queued", false }, { "published", "published", false },
		{ "reminded", "reminded", false },
		{ "unchanged", "unchanged", false }, { "skipped", "skipped", false },
		{ "users_seen", "users seen", false },
	};

	fputs("<div class=\"cards\">\n", out);
	for (size_t i = 0; i < ARRAY_LEN(order); i++)
		card(out, order[i].label, num(counts, order[i].key), order[i].bad);
	fputs("</div>\n", out);
}

/* ---- SVG charts ---- */

struct bar {
	const char *label;
	long long n;
};

/* Horizontal bars, one per label, with the count at the end. */
static void
chart_hbars(FILE *out, const char *title, const struct bar *bars, size_t n, const char *color)
{
	const int w = 440, label_w = 130, row = 24, top = 6;
	long long max = 1;
	int h = top * 2 + (int)(n ? n : 1) * row;

	for (size_t i = 0; i < n; i++)
		if (bars[i].n > max)
			max = bars[i].n;
	fputs("<div class=\"chart\"><h3>", out);
	esc(out, title);
	fprintf(out, "</h3>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
	    "viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"", w, h, w, h);
	esc(out, title);
	fputs("\">\n", out);
	if (n == 0)
		fprintf(out, "<text x=\"4\" y=\"%d\" font-size=\"12\" fill=\"#52606d\">"
		    "no certificates</text>\n", top + 16);
	for (size_t i = 0; i < n; i++) {
		int y = top + (int)i * row;
		int bw = (int)((double)(w - label_w - 60) * (double)bars[i].n / (double)max);

		fprintf(out, "<text x=\"%d\" y=\"%d\" font-size=\"12\" text-anchor=\"end\" "
		    "fill=\"#1f2933\">", label_w - 6, y + 16);
		esc(out, bars[i].label);
		fprintf(out, "</text><rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
		    "fill=\"%s\"/><text x=\"%d\" y=\"%d\" font-size=\"12\" fill=\"#1f2933\">"
		    "%lld</text>\n", label_w, y + 3, bw > 0 ? bw : 1, row - 6, color,
		    label_w + (bw > 0 ? bw : 1) + 4, y + 16, bars[i].n);
	}
	fputs("</svg></div>\n", out);
}

/* Vertical stacked bars, one per run: issued, renewed+reissued, errors. */
struct run_bar {
	char label[16];
	long long issued, renewed, errors;
};

static void
chart_runs(FILE *out, const char *title, const struct run_bar *runs, size_t n)
{
	const int w = 560, h = 236, left = 36, bottom = 56, top = 24;
	const int plot_h = h - bottom - top;
	long long max = 1;
	double slot;

	for (size_t i = 0; i < n; i++) {
		long long t = runs[i].issued + runs[i].renewed;

		if (t > max)
			max = t;
		if (runs[i].errors > max)
			max = runs[i].errors;
	}
	slot = n > 0 ? (double)(w - left - 8) / (double)n : 1.0;
	fputs("<div class=\"chart\"><h3>", out);
	esc(out, title);
	fprintf(out, "</h3>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
	    "viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"", w, h, w, h);
	esc(out, title);
	fputs("\">\n", out);
	fprintf(out, "<rect x=\"%d\" y=\"4\" width=\"10\" height=\"10\" fill=\"#2f8132\"/>"
	    "<text x=\"%d\" y=\"13\" font-size=\"11\">issued</text>"
	    "<rect x=\"%d\" y=\"4\" width=\"10\" height=\"10\" fill=\"#3b82c4\"/>"
	    "<text x=\"%d\" y=\"13\" font-size=\"11\">renewed/reissued</text>"
	    "<rect x=\"%d\" y=\"4\" width=\"10\" height=\"10\" fill=\"#c53030\"/>"
	    "<text x=\"%d\" y=\"13\" font-size=\"11\">errors</text>\n",
	    left, left + 14, left + 70, left + 84, left + 200, left + 214);
	fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#9aa5b1\"/>"
	    "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"end\">%lld</text>"
	    "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"end\">0</text>\n",
	    left, top + plot_h, w - 4, top + plot_h, left - 4, top + 10, max, left - 4,
	    top + plot_h);
	if (n == 0)
		fprintf(out, "<text x=\"%d\" y=\"%d\" font-size=\"12\" fill=\"#52606d\">"
		    "no runs yet</text>\n", left + 8, top + plot_h / 2);
	for (size_t i = 0; i < n; i++) {
		double x = left + 4 + slot * (double)i;
		double bw = slot * 0.6 > 28 ? 28 : slot * 0.6;
		int hi = (int)((double)plot_h * (double)runs[i].issued / (double)max);
		int hr = (int)((double)plot_h * (double)runs[i].renewed / (double)max);
		int he = (int)((double)plot_h * (double)runs[i].errors / (double)max);

		fprintf(out, "<g><title>");
		esc(out, runs[i].label);
		fprintf(out, ": %lld issued, %lld renewed or reissued, %lld errors</title>",
		    runs[i].issued, runs[i].renewed, runs[i].errors);
		fprintf(out, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" "
		    "fill=\"#2f8132\"/>", x, top + plot_h - hi, bw * 0.7, hi);
		fprintf(out, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" "
		    "fill=\"#3b82c4\"/>", x, top + plot_h - hi - hr, bw * 0.7, hr);
		fprintf(out, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" "
		    "fill=\"#c53030\"/>", x + bw * 0.7, top + plot_h - he, bw * 0.3, he);
		fprintf(out, "<text x=\"%.1f\" y=\"%d\" font-size=\"9\" fill=\"#52606d\" "
		    "transform=\"rotate(45 %.1f %d)\">", x, top + plot_h + 12, x, top + plot_h + 12);
		esc(out, runs[i].label);
		fputs("</text></g>\n", out);
	}
	fputs("</svg></div>\n", out);
}

static void
tally_chart(FILE *out, struct store *st, const char *column, time_t now, const char *title,
    const char *color)
{
	struct store_tally *v = NULL;
	struct bar *bars = NULL;
	size_t n = 0;
	struct errbuf e;

	if (store_query_certs_by(st, column, now, &v, &n, &e) != 0) {
		fputs("<p class=\"note\">", out);
		esc(out, e.text);
		fputs("</p>\n", out);
		return;
	}
	bars = xcalloc(n + 1, sizeof(*bars));
	for (size_t i = 0; i < n; i++) {
		bars[i].label = v[i].label;
		bars[i].n = v[i].n;
	}
	chart_hbars(out, title, bars, n, color);
	free(bars);
	store_tally_free(v, n);
}

/* "20261123-185000-ab12" -> "11-23 18:50"; anything else is kept short. */
static void
run_label(const char *id, time_t started, char *out, size_t size)
{
	struct tm tm;

	(void)id;
	if (gmtime_r(&started, &tm) != NULL)
		strftime(out, size, "%m-%d %H:%M", &tm);
	else
		snprintf(out, size, "?");
}

static void
issuance_chart(FILE *out, struct store *st)
{
	struct store_run_row *rows = NULL;
	struct run_bar bars[CHART_RUNS];
	size_t n = 0, k = 0;
	struct errbuf e;

	if (store_query_runs(st, 0, CHART_RUNS, &rows, &n, &e) != 0) {
		fputs("<p class=\"note\">", out);
		esc(out, e.text);
		fputs("</p>\n", out);
		return;
	}
	for (size_t i = 0; i < n && k < CHART_RUNS; i++) {
		json_t *doc = rows[i].report ? json_loads(rows[i].report, 0, NULL) : NULL;
		json_t *c = json_object_get(doc, "counts");

		memset(&bars[k], 0, sizeof(bars[k]));
		run_label(rows[i].id, rows[i].started, bars[k].label, sizeof(bars[k].label));
		bars[k].issued = num(c, "issued");
		bars[k].renewed = num(c, "renewed") + num(c, "reissued");
		bars[k].errors = num(c, "errors");
		k++;
		json_decref(doc);
	}
	chart_runs(out, "Issuance over the last runs", bars, k);
	store_run_rows_free(rows, n);
}

static void
charts(FILE *out, struct store *st, time_t now)
{
	struct store_counts c;
	struct bar bars[EXPIRY_BUCKETS];
	static const char *const labels[EXPIRY_BUCKETS] = {
		"expired", "≤ 30 days", "31–60 days", "61–90 days", "91–180 days", "> 180 days",
	};
	struct errbuf e;

	fputs("<h2>Certificates</h2>\n", out);
	if (st == NULL) {
		fputs("<p class=\"note\">Charts about all certificates come from the store: "
		    "run <code>smimesync report --format html</code> to see them.</p>\n", out);
		return;
	}
	if (store_query_counts(st, now, &c, &e) != 0) {
		fputs("<p class=\"note\">", out);
		esc(out, e.text);
		fputs("</p>\n", out);
		return;
	}
	fputs("<div class=\"cards\">\n", out);
	card(out, "users with a valid certificate", c.users_valid, false);
	card(out, "expiring within 30 days", c.expiring_30d, false);
	card(out, "expired", c.users_expired, true);
	card(out, "without a certificate", c.users_none + c.users_failed, false);
	card(out, "in progress", c.users_pending, false);
	card(out, "mails queued", c.mails_queued, false);
	card(out, "mails given up", c.mails_failed, true);
	fputs("</div>\n<div class=\"charts\">\n", out);
	for (size_t i = 0; i < EXPIRY_BUCKETS; i++) {
		bars[i].label = labels[i];
		bars[i].n = c.expiry[i];
	}
	chart_hbars(out, "Current certificates by days to expiry", bars, EXPIRY_BUCKETS,
	    "#3b82c4");
	tally_chart(out, st, "key_type", now, "Valid certificates by key type", "#6b46c1");
	tally_chart(out, st, "group_name", now, "Valid certificates by group", "#2c7a7b");
	issuance_chart(out, st);
	fputs("</div>\n", out);
}

/* ---- one run ---- */

/* What the admin should know that is not an error; nothing when there is none. */
static void
notices_section(FILE *out, json_t *notices)
{
	json_t *v;
	size_t i;

	if (json_array_size(notices) == 0)
		return;
	fputs("<h2>Notices</h2>\n<ul>\n", out);
	json_array_foreach(notices, i, v) {
		fputs("<li>", out);
		esc(out, json_string_value(v) != NULL ? json_string_value(v) : "");
		fputs("</li>\n", out);
	}
	fputs("</ul>\n", out);
}

static void
errors_section(FILE *out, json_t *errors, bool with_run)
{
	json_t *v;
	size_t i;

	/* Many errors (a directory down for everyone) start collapsed, behind their count. */
	fprintf(out, "<details class=\"errs\"%s><summary><h2>Errors (%zu)</h2></summary>\n",
	    json_array_size(errors) <= ERRORS_OPEN_MAX ? " open" : "", json_array_size(errors));
	if (json_array_size(errors) == 0) {
		fputs("<p>No errors.</p>\n</details>\n", out);
		return;
	}
	fprintf(out, "<table>\n<tr>%s<th>User</th><th>Step</th><th>Message</th>"
	    "<th>What to do</th></tr>\n", with_run ? "<th>Run</th>" : "");
	json_array_foreach(errors, i, v) {
		fputs("<tr class=\"failed\">", out);
		if (with_run) {
			fputs("<td class=\"mono run\">", out);
			esc(out, str_or(v, "run", ""));
			fputs("</td>", out);
		}
		fputs("<td>", out);
		esc(out, str_or(v, "user", "(whole run)"));
		fputs("</td><td>", out);
		esc(out, str_or(v, "step", "?"));
		fputs("</td><td>", out);
		esc(out, str_or(v, "message", ""));
		fputs("</td><td class=\"todo\">", out);
		esc(out, advice(str(v, "step")));
		fputs("</td></tr>\n", out);
	}
	fputs("</table>\n</details>\n", out);
}

static void
groups_section(FILE *out, json_t *groups)
{
	json_t *v;
	size_t i;

	fputs("<h2>Groups</h2>\n<table>\n<tr><th>Group</th><th>Directory</th><th>Members</th>"
	    "<th>Status</th></tr>\n", out);
	json_array_foreach(groups, i, v) {
		fprintf(out, "<tr%s><td>", json_is_string(json_object_get(v, "error")) ?
		    " class=\"failed\"" : "");
		esc(out, str_or(v, "name", "?"));
		fputs("</td><td>", out);
		esc(out, str_or(v, "directory", "?"));
		fprintf(out, "</td><td class=\"num\">%lld</td><td>", num(v, "members"));
		esc(out, str_or(v, "status", "?"));
		if (str(v, "error") != NULL) {
			fputs(": ", out);
			esc(out, str(v, "error"));
		}
		if (str(v, "note") != NULL) {
			fputs("<br>", out);
			esc(out, str(v, "note"));
		}
		fputs("</td></tr>\n", out);
	}
	fputs("</table>\n", out);
}

/*
 * The people table at 10,000 rows: collapsed unless short, and filtered
 * without a script. Each distinct outcome, action and group gets a hidden
 * radio button and a label; a row carries one class per dimension (o3 a1
 * g0: indexes, so that no value from the report ever becomes a CSS name),
 * and one rule per value hides the rows of other values while its button
 * is checked. The buttons come before the table as its siblings, which is
 * what the CSS ~ combinator needs.
 */

struct dimension {
	const char *key;   /* JSON member: "outcome", "action", "group" */
	const char *title; /* "Outcome" */
	char prefix;       /* class and id prefix: 'o', 'a', 'g' */
	const char *values[FILTER_VALUES];
	size_t counts[FILTER_VALUES];
	size_t n;
};

static void
dimensions_collect(json_t *users, struct dimension *d, size_t nd)
{
	json_t *v;
	size_t i;

	json_array_foreach(users, i, v) {
		for (size_t k = 0; k < nd; k++) {
			const char *s = str_or(v, d[k].key, "");
			size_t j;

			for (j = 0; j < d[k].n && strcmp(d[k].values[j], s) != 0; j++)
				;
			if (j == d[k].n && d[k].n < FILTER_VALUES)
				d[k].values[d[k].n++] = s;
			if (j < d[k].n)
				d[k].counts[j]++;
		}
	}
}

/* Index of v's value in dimension d, or -1 when it got no button. */
static int
dimension_index(const struct dimension *d, json_t *v)
{
	const char *s = str_or(v, d->key, "");

	for (size_t j = 0; j < d->n; j++)
		if (strcmp(d->values[j], s) == 0)
			return (int)j;
	return -1;
}

/* The rules of the filters, for the page's <style> (new). */
static char *
filter_css(const struct dimension *d, size_t nd)
{
	char *rules = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&rules, &len);

	if (m == NULL)
		return xstrdup("");
	fputs("input.f{position:absolute;opacity:0;width:1px;height:1px}"
	    ".filters{margin:8px 0}.filters div{margin:4px 0}.filters span{display:inline-block;"
	    "min-width:70px;color:#52606d}.filters label{display:inline-block;margin:2px 4px 2px 0;"
	    "padding:2px 10px;border:1px solid #9aa5b1;border-radius:12px;cursor:pointer;"
	    "background:#fff;font-size:.85em}input.f:focus-visible+label{outline:2px solid #3b82c4}"
	    "details.people>summary,details.errs>summary{cursor:pointer}"
	    "details>summary h2{display:inline}"
	    "table.people td:nth-child(6){font-family:ui-monospace,'DejaVu Sans Mono',monospace;"
	    "font-size:.85em;word-break:break-all}", m);
	for (size_t k = 0; k < nd; k++) {
		fprintf(m, "#f%c-all:checked~.filters label[for=f%c-all]", d[k].prefix,
		    d[k].prefix);
		for (size_t j = 0; j < d[k].n; j++)
			fprintf(m, ",#f%c%zu:checked~.filters label[for=f%c%zu]", d[k].prefix, j,
			    d[k].prefix, j);
		fputs("{background:#1f2933;color:#fff;border-color:#1f2933}", m);
		for (size_t j = 0; j < d[k].n; j++)
			fprintf(m, "#f%c%zu:checked~table tbody tr:not(.%c%zu){display:none}",
			    d[k].prefix, j, d[k].prefix, j);
	}
	fclose(m);
	return rules;
}

static void
users_section(FILE *out, json_t *users, struct dimension *d, size_t nd)
{
	json_t *v;
	size_t i, n = json_array_size(users);

	fprintf(out, "<details class=\"people\"%s><summary><h2>Users (%zu)</h2></summary>\n",
	    n <= PEOPLE_OPEN_MAX ? " open" : "", n);
	fputs("<p class=\"note\">Users for whom nothing had to be done are counted above, "
	    "not listed. Choose below to see only some; the browser's find (Ctrl+F) searches "
	    "the whole list.</p>\n", out);
	if (n == 0) {
		fputs("</details>\n", out);
		return;
	}
	/* The buttons: siblings of the table, before it. */
	for (size_t k = 0; k < nd; k++) {
		fprintf(out, "<input type=\"radio\" class=\"f\" name=\"f%c\" id=\"f%c-all\" checked>",
		    d[k].prefix, d[k].prefix);
		for (size_t j = 0; j < d[k].n; j++)
			fprintf(out, "<input type=\"radio\" class=\"f\" name=\"f%c\" id=\"f%c%zu\">",
			    d[k].prefix, d[k].prefix, j);
		fputc('\n', out);
	}
	fputs("<div class=\"filters\">\n", out);
	for (size_t k = 0; k < nd; k++) {
		fprintf(out, "<div><span>%s</span><label for=\"f%c-all\">all (%zu)</label>",
		    d[k].title, d[k].prefix, n);
		for (size_t j = 0; j < d[k].n; j++) {
			fprintf(out, "<label for=\"f%c%zu\">", d[k].prefix, j);
			esc(out, d[k].values[j][0] != '\0' ? d[k].values[j] : "(none)");
			fprintf(out, " (%zu)</label>", d[k].counts[j]);
		}
		fputs("</div>\n", out);
	}
	fputs("</div>\n<table class=\"people\">\n<thead><tr><th>Mail</th><th>Name</th>"
	    "<th>Group</th><th>Action</th><th>Outcome</th><th>Serial</th><th>Valid until</th>"
	    "<th>Note</th></tr></thead>\n<tbody>\n", out);
	json_array_foreach(users, i, v) {
		const char *outcome = str_or(v, "outcome", "?");

		/* Short markup per row: at 10,000 rows every byte counts 10,000 times. */
		fputs("<tr class=\"", out);
		for (size_t k = 0; k < nd; k++) {
			int x = dimension_index(&d[k], v);

			if (x >= 0)
				fprintf(out, "%s%c%d", k > 0 ? " " : "", d[k].prefix, x);
		}
		fprintf(out, "%s\"><td>", strcmp(outcome, "failed") == 0 ? " failed" : "");
		esc(out, str_or(v, "mail", str_or(v, "dn", "?")));
		fputs("<td>", out);
		esc(out, str_or(v, "name", ""));
		fputs("<td>", out);
		esc(out, str_or(v, "group", ""));
		if (str(v, "also_in") != NULL) {
			fputs(" <span class=\"note\">(also in ", out);
			esc(out, str(v, "also_in"));
			fputs(")</span>", out);
		}
		fputs("<td>", out);
		esc(out, str_or(v, "action", "?"));
		fputs("<td>", out);
		esc(out, outcome);
		fputs("<td>", out);
		esc(out, str_or(v, "serial", ""));
		fputs("<td>", out);
		esc(out, str_or(v, "not_after", ""));
		fputs("<td>", out);
		if (str(v, "error") != NULL) {
			fputs(strcmp(outcome, "pending") == 0 ? "waiting at " : "error at ", out);
			esc(out, str_or(v, "step", "?"));
			fputs(": ", out);
			esc(out, str(v, "error"));
		} else {
			esc(out, str_or(v, "reason", ""));
		}
		/* </td></tr> may be left out (HTML): 10 bytes a row. */
		fputc('\n', out);
	}
	fputs("</tbody>\n</table>\n</details>\n", out);
}

static int
load(const char *json, json_t **doc, struct errbuf *e)
{
	json_error_t jerr;

	*doc = json_loads(json, 0, &jerr);
	if (*doc == NULL || !json_is_object(*doc)) {
		err_set(e, "stored report is not valid JSON (line %d: %s)", jerr.line, jerr.text);
		json_decref(*doc);
		*doc = NULL;
		return -1;
	}
	return 0;
}

int
report_html_render(const char *report_json, struct store *st, time_t now, FILE *out,
    struct errbuf *e)
{
	json_t *doc = NULL;
	const char *status;
	struct dimension dims[] = {
		{ "outcome", "Outcome", 'o', { NULL }, { 0 }, 0 },
		{ "action", "Action", 'a', { NULL }, { 0 }, 0 },
		{ "group", "Group", 'g', { NULL }, { 0 }, 0 },
	};
	char *extra = NULL;

	if (load(report_json, &doc, e) != 0)
		return -1;
	status = str_or(doc, "status", "unknown");
	dimensions_collect(json_object_get(doc, "users"), dims, ARRAY_LEN(dims));
	extra = filter_css(dims, ARRAY_LEN(dims));
	head(out, "smimesync run ", str_or(doc, "id", "?"), extra);
	free(extra);
	fputs("<h1>smimesync run report</h1>\n<p class=\"meta\">Run <span class=\"mono\">", out);
	esc(out, str_or(doc, "id", "?"));
	fprintf(out, "</span> &middot; <span class=\"badge st-%s\">", status_class(status));
	esc(out, status);
	fputs("</span>", out);
	if (json_is_true(json_object_get(doc, "dry_run")))
		fputs(" &middot; <strong>dry run: nothing was changed</strong>", out);
	fputs("<br>started ", out);
	esc(out, str_or(doc, "started", "?"));
	fputs(", finished ", out);
	esc(out, str_or(doc, "finished", "?"));
	fprintf(out, " (%.1f s)", (double)num(doc, "duration_ms") / 1000.0);
	if (json_is_object(json_object_get(doc, "run"))) {
		json_t *run = json_object_get(doc, "run");

		fputs("<br>", out);
		esc(out, str_or(run, "kind", "?"));
		fputs(" run, started by ", out);
		esc(out, str_or(run, "trigger", "?"));
		if (json_is_integer(json_object_get(run, "lag_s")))
			fprintf(out, "; %lld s behind the directory", (long long)num(run, "lag_s"));
	}
	if (json_is_object(json_object_get(doc, "signing_log"))) {
		json_t *sl = json_object_get(doc, "signing_log");

		fprintf(out, "<br>signing log: %lld lines, head <span class=\"mono\">sha256:",
		    (long long)num(sl, "lines"));
		esc(out, str_or(sl, "head", "?"));
		fputs("</span>", out);
	}
	fputs("</p>\n<h2>Summary</h2>\n", out);
	cards(out, json_object_get(doc, "counts"));
	notices_section(out, json_object_get(doc, "notices"));
	errors_section(out, json_object_get(doc, "errors"), false);
	groups_section(out, json_object_get(doc, "groups"));
	users_section(out, json_object_get(doc, "users"), dims, ARRAY_LEN(dims));
	charts(out, st, now);
	foot(out, now);
	json_decref(doc);
	return 0;
}

/* ---- many runs: report --since ---- */

#define SUMMARY_MAX_ERRORS 500

/* Summed whether or not a run's report has them (older reports lack some). */
static const char *const run_counters[] = {
	"users_seen", "issued", "renewed", "reissued", "unchanged", "skipped",
	"published", "retired", "revoked", "reminded", "mails_queued", "mails_sent",
	"mails_failed", "errors",
};

static void
set_time(json_t *obj, const char *key, time_t t)
{
	char buf[32];

	format_time_utc(t, buf, sizeof(buf));
	json_object_set_new(obj, key, json_string(buf));
}

/* Copy a string member; anything that is not a string becomes null. */
static void
copy_str(json_t *dst, const char *key, json_t *src, const char *skey)
{
	json_t *v = json_object_get(src, skey);

	json_object_set_new(dst, key, json_is_string(v) ? json_copy(v) : json_null());
}

int
report_summary_build(struct store *st, time_t since, time_t now, char **json_out,
    struct errbuf *e)
{
	struct store_run_row *rows = NULL;
	size_t n = 0, listed = 0, omitted = 0;
	json_t *doc = NULL, *counts, *by_status, *list, *errors;

	if (store_query_runs(st, since, 0, &rows, &n, e) != 0)
		return -1;
	doc = json_object();
	counts = json_object();
	by_status = json_object();
	list = json_array();
	errors = json_array();
	set_time(doc, "since", since);
	set_time(doc, "until", now);
	json_object_set_new(doc, "runs", json_integer((json_int_t)n));
	for (size_t i = 0; i < ARRAY_LEN(run_counters); i++)
		json_object_set_new(counts, run_counters[i], json_integer(0));
	json_object_set_new(by_status, "ok", json_integer(0));
	json_object_set_new(by_status, "partial", json_integer(0));
	json_object_set_new(by_status, "failed", json_integer(0));
	json_object_set_new(by_status, "unfinished", json_integer(0));
	for (size_t i = 0; i < n; i++) {
		json_t *rep = rows[i].report ? json_loads(rows[i].report, 0, NULL) : NULL;
		json_t *rc = json_object_get(rep, "counts");
		const char *status = rep ? str(rep, "status") : NULL;
		json_t *item = json_object();
		json_t *v;
		size_t k;

		if (status == NULL || json_object_get(by_status, status) == NULL)
			status = "unfinished";
		json_object_set_new(by_status, status,
		    json_integer(json_integer_value(json_object_get(by_status, status)) + 1));
		for (size_t c = 0; c < ARRAY_LEN(run_counters); c++)
			json_object_set_new(counts, run_counters[c], json_integer(
			    json_integer_value(json_object_get(counts, run_counters[c])) +
			    json_integer_value(json_object_get(rc, run_counters[c]))));
		json_object_set_new(item, "id", json_string(rows[i].id));
		set_time(item, "started", rows[i].started);
		if (rows[i].finished != 0)
			set_time(item, "finished", rows[i].finished);
		else
			json_object_set_new(item, "finished", json_null());
		json_object_set_new(item, "status", json_string(status));
		json_object_set_new(item, "issued", json_integer(num(rc, "issued")));
		json_object_set_new(item, "renewed", json_integer(num(rc, "renewed")));
		json_object_set_new(item, "reissued", json_integer(num(rc, "reissued")));
		json_object_set_new(item, "errors", json_integer(num(rc, "errors")));
		json_object_set_new(item, "mails_sent", json_integer(num(rc, "mails_sent")));
		json_object_set_new(item, "mails_failed", json_integer(num(rc, "mails_failed")));
		json_array_append_new(list, item);
		json_array_foreach(json_object_get(rep, "errors"), k, v) {
			json_t *er;

			if (listed >= SUMMARY_MAX_ERRORS) {
				omitted++;
				continue;
			}
			er = json_object();
			json_object_set_new(er, "run", json_string(rows[i].id));
			copy_str(er, "user", v, "user");
			copy_str(er, "step", v, "step");
			copy_str(er, "message", v, "message");
			json_array_append_new(errors, er);
			listed++;
		}
		json_decref(rep);
	}
	json_object_set_new(doc, "by_status", by_status);
	json_object_set_new(doc, "counts", counts);
	json_object_set_new(doc, "run_list", list);
	json_object_set_new(doc, "errors", errors);
	json_object_set_new(doc, "errors_omitted", json_integer((json_int_t)omitted));
	*json_out = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(doc);
	store_run_rows_free(rows, n);
	if (*json_out == NULL) {
		err_set(e, "cannot encode the summary: out of memory");
		return -1;
	}
	return 0;
}

static void
summary_text(json_t *doc, FILE *out)
{
	json_t *counts = json_object_get(doc, "counts");
	json_t *bs = json_object_get(doc, "by_status");
	json_t *v;
	size_t i;

	fprintf(out, "smimesync: %lld runs from %s to %s\n", num(doc, "runs"),
	    str_or(doc, "since", "?"), str_or(doc, "until", "?"));
	fprintf(out, "  %lld ok, %lld partial, %lld failed, %lld unfinished\n\nTotals\n",
	    num(bs, "ok"), num(bs, "partial"), num(bs, "failed"), num(bs, "unfinished"));
	for (i = 0; i < ARRAY_LEN(run_counters); i++)
		fprintf(out, "  %-14s %lld\n", run_counters[i], num(counts, run_counters[i]));
	fprintf(out, "\nRuns\n  %-24s %-20s %-10s %7s %7s %7s %7s\n", "RUN", "STARTED",
	    "STATUS", "ISSUED", "RENEWED", "ERRORS", "MAILS");
	json_array_foreach(json_object_get(doc, "run_list"), i, v)
		fprintf(out, "  %-24s %-20s %-10s %7lld %7lld %7lld %7lld\n", str_or(v, "id", "?"),
		    str_or(v, "started", "?"), str_or(v, "status", "?"), num(v, "issued"),
		    num(v, "renewed") + num(v, "reissued"), num(v, "errors"), num(v, "mails_sent"));
	if (json_array_size(json_object_get(doc, "errors")) > 0) {
		fprintf(out, "\nErrors\n");
		json_array_foreach(json_object_get(doc, "errors"), i, v)
			fprintf(out, "  %s %s [%s] %s\n", str_or(v, "run", "?"),
			    str_or(v, "user", "(run)"), str_or(v, "step", "?"),
			    str_or(v, "message", ""));
		if (num(doc, "errors_omitted") > 0)
			fprintf(out, "  ... and %lld more\n", num(doc, "errors_omitted"));
	}
}

static void
summary_html(json_t *doc, struct store *st, time_t now, FILE *out)
{
	json_t *bs = json_object_get(doc, "by_status");
	json_t *v;
	size_t i;

	head(out, "smimesync runs since ", str_or(doc, "since", "?"), NULL);
	fputs("<h1>smimesync: runs since ", out);
	esc(out, str_or(doc, "since", "?"));
	fprintf(out, "</h1>\n<p class=\"meta\">%lld runs: %lld ok, %lld partial, %lld failed, "
	    "%lld unfinished</p>\n<h2>Summary</h2>\n", num(doc, "runs"), num(bs, "ok"),
	    num(bs, "partial"), num(bs, "failed"), num(bs, "unfinished"));
	cards(out, json_object_get(doc, "counts"));
	errors_section(out, json_object_get(doc, "errors"), true);
	if (num(doc, "errors_omitted") > 0)
		fprintf(out, "<p class=\"note\">%lld more errors are not listed: see the reports "
		    "of the single runs.</p>\n", num(doc, "errors_omitted"));
	fputs("<h2>Runs</h2>\n<table>\n<tr><th>Run</th><th>Started</th><th>Status</th>"
	    "<th>Issued</th><th>Renewed</th><th>Errors</th><th>Mails sent</th>"
	    "<th>Mails failed</th></tr>\n", out);
	json_array_foreach(json_object_get(doc, "run_list"), i, v) {
		const char *status = str_or(v, "status", "?");

		fputs("<tr><td class=\"mono run\">", out);
		esc(out, str_or(v, "id", "?"));
		fputs("</td><td>", out);
		esc(out, str_or(v, "started", "?"));
		fprintf(out, "</td><td><span class=\"badge st-%s\">", status_class(status));
		esc(out, status);
		fprintf(out, "</span></td><td class=\"num\">%lld</td><td class=\"num\">%lld</td>"
		    "<td class=\"num\">%lld</td><td class=\"num\">%lld</td><td class=\"num\">%lld"
		    "</td></tr>\n", num(v, "issued"), num(v, "renewed") + num(v, "reissued"),
		    num(v, "errors"), num(v, "mails_sent"), num(v, "mails_failed"));
	}
	fputs("</table>\n", out);
	charts(out, st, now);
	foot(out, now);
}

int
report_summary_render(const char *summary_json, enum report_format fmt, struct store *st,
    time_t now, FILE *out, struct errbuf *e)
{
	json_t *doc = NULL;

	if (load(summary_json, &doc, e) != 0)
		return -1;
	if (fmt == REPORT_JSON) {
		json_dumpf(doc, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', out);
	} else if (fmt == REPORT_HTML) {
		summary_html(doc, st, now, out);
	} else {
		summary_text(doc, out);
	}
	json_decref(doc);
	return 0;
}
