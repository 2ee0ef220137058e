/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/buf.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "report/report.h"
#include "report/report_html.h"

static const char *const counter_names[] = {
	"users_seen", "issued", "renewed", "reissued", "unchanged", "skipped",
	"published", "retired", "revoked", "reminded", "mails_queued", "mails_sent",
	"mails_failed", "errors",
};

struct report {
	json_t *doc;    /* owned */
	json_t *counts; /* borrowed from doc */
	json_t *groups;
	json_t *users;
	json_t *errors;
	time_t started;
	bool failed;
};

static void
set_time(json_t *obj, const char *key, time_t t)
{
	char buf[32];

	format_time_utc(t, buf, sizeof(buf));
	json_object_set_new(obj, key, json_string(buf));
}

/* json_string() refuses invalid UTF-8: never lose a line over it. */
static json_t *
safe_string(const char *s)
{
	json_t *j;

	if (s == NULL)
		return json_null();
	j = json_string(s);
	return j != NULL ? j : json_string("(value is not valid UTF-8)");
}

struct report *
report_new(const char *run_id, time_t started, bool dry_run)
{
	struct report *r = xcalloc(1, sizeof(*r));

	r->doc = json_object();
	r->counts = json_object();
	r->groups = json_array();
	r->users = json_array();
	r->errors = json_array();
	if (r->doc == NULL || r->counts == NULL || r->groups == NULL || r->users == NULL ||
	    r->errors == NULL) {
		fprintf(stderr, "smimesync: fatal: out of memory building a report\n");
		abort();
	}
	r->started = started;
	json_object_set_new(r->doc, "id", json_string(run_id));
	set_time(r->doc, "started", started);
	json_object_set_new(r->doc, "dry_run", json_boolean(dry_run));
	for (size_t i = 0; i < ARRAY_LEN(counter_names); i++)
		json_object_set_new(r->counts, counter_names[i], json_integer(0));
	json_object_set(r->doc, "counts", r->counts);
	json_object_set(r->doc, "groups", r->groups);
	json_object_set(r->doc, "users", r->users);
	json_object_set(r->doc, "errors", r->errors);
	return r;
}

void
report_free(struct report *r)
{
	if (r == NULL)
		return;
	json_decref(r->counts);
	json_decref(r->groups);
	json_decref(r->users);
	json_decref(r->errors);
	json_decref(r->doc);
	free(r);
}

void
report_count(struct report *r, const char *counter, int64_t delta)
{
	json_t *v = json_object_get(r->counts, counter);

	json_object_set_new(r->counts, counter,
	    json_integer((v ? json_integer_value(v) : 0) + delta));
}

void
report_run_kind(struct report *r, const char *kind, const char *trigger, long long lag)
{
	json_t *o = json_object();

	json_object_set_new(o, "kind", safe_string(kind));
	json_object_set_new(o, "trigger", safe_string(trigger));
	json_object_set_new(o, "lag_s", lag >= 0 ? json_integer(lag) : json_null());
	json_object_set_new(r->doc, "run", o);
}

void
report_stream(struct report *r, const char *directory, const char *kind, int64_t changes,
    time_t last_full_read)
{
	json_t *a = json_object_get(r->doc, "streams");
	json_t *o = json_object();

	if (a == NULL) {
		a = json_array();
		json_object_set_new(r->doc, "streams", a);
	}
	json_object_set_new(o, "directory", safe_string(directory));
	json_object_set_new(o, "kind", safe_string(kind));
	json_object_set_new(o, "changes", json_integer(changes));
	if (last_full_read > 0)
		set_time(o, "last_full_read", last_full_read);
	else
		json_object_set_new(o, "last_full_read", json_null());
	json_array_append_new(a, o);
}

void
report_group(struct report *r, const char *group, const char *directory, int64_t members,
    const char *error_or_null)
{
	json_t *g = json_object();

	json_object_set_new(g, "name", safe_string(group));
	json_object_set_new(g, "directory", safe_string(directory));
	json_object_set_new(g, "members", json_integer(members));
	json_object_set_new(g, "status", json_string(error_or_null ? "failed" : "ok"));
	json_object_set_new(g, "error", safe_string(error_or_null));
	json_array_append_new(r->groups, g);
}

void
report_group_publish(struct report *r, const char *group, const char *publish_to,
    const char *note)
{
	json_t *v;
	size_t i;

	json_array_foreach(r->groups, i, v) {
		const char *name = json_string_value(json_object_get(v, "name"));

		if (name == NULL || strcmp(name, group) != 0)
			continue;
		json_object_set_new(v, "publish_to", safe_string(publish_to));
		json_object_set_new(v, "note", safe_string(note));
	}
}

void
report_user(struct report *r, const struct report_user *u)
{
	json_t *o = json_object();

	json_object_set_new(o, "mail", safe_string(u->mail));
	json_object_set_new(o, "name", safe_string(u->name));
	json_object_set_new(o, "id", safe_string(u->id));
	json_object_set_new(o, "dn", safe_string(u->dn));
	json_object_set_new(o, "group", safe_string(u->group));
	if (u->also_in != NULL && u->also_in[0] != '\0')
		json_object_set_new(o, "also_in", safe_string(u->also_in));
	json_object_set_new(o, "action", safe_string(u->action));
	json_object_set_new(o, "reason", safe_string(u->reason));
	json_object_set_new(o, "outcome", safe_string(u->outcome));
	json_object_set_new(o, "serial", safe_string(u->serial));
	if (u->not_after != 0)
		set_time(o, "not_after", u->not_after);
	else
		json_object_set_new(o, "not_after", json_null());
	json_object_set_new(o, "step", safe_string(u->step));
	json_object_set_new(o, "error", safe_string(u->error));
	json_array_append_new(r->users, o);
}

void
report_error(struct report *r, const char *user, const char *step, const char *fmt, ...)
{
	char msg[2048];
	json_t *o = json_object();
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_set_new(o, "user", safe_string(user));
	json_object_set_new(o, "step", safe_string(step));
	json_object_set_new(o, "message", safe_string(msg));
	json_array_append_new(r->errors, o);
	report_count(r, "errors", 1);
}

void
report_notice(struct report *r, const char *fmt, ...)
{
	char msg[2048];
	json_t *notices = json_object_get(r->doc, "notices");
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Made on the first notice: a report without one has no "notices" key. */
	if (notices == NULL) {
		notices = json_array();
		json_object_set_new(r->doc, "notices", notices);
	}
	json_array_append_new(notices, safe_string(msg));
}

void
report_signing_log(struct report *r, uint64_t lines, const char *head)
{
	json_t *o = json_object();

	if (o == NULL || json_object_set_new(o, "lines", json_integer((json_int_t)lines)) != 0 ||
	    json_object_set_new(o, "head", safe_string(head)) != 0 ||
	    json_object_set_new(r->doc, "signing_log", o) != 0) {
		fprintf(stderr, "smimesync: fatal: out of memory building a report\n");
		abort();
	}
}

void
report_fail(struct report *r, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r->failed = true;
	report_error(r, NULL, "run", "%s", msg);
}

void
report_group_activity(const struct report *r, const char *group, size_t *acted, size_t *failed)
{
	size_t i;
	json_t *u;

	*acted = *failed = 0;
	json_array_foreach(r->users, i, u) {
		const char *g = json_string_value(json_object_get(u, "group"));
		const char *a = json_string_value(json_object_get(u, "action"));

		if (g == NULL || strcmp(g, group) != 0)
			continue;
		if (json_is_string(json_object_get(u, "error")))
			(*failed)++;
		else if (a != NULL && strcmp(a, "nothing") != 0 && strcmp(a, "skip") != 0)
			(*acted)++;
	}
}

char *
report_summary_text(const struct report *r)
{
	struct buf b;

	buf_init(&b, 0);
	for (size_t i = 0; i < ARRAY_LEN(counter_names); i++) {
		json_int_t v = json_integer_value(json_object_get(r->counts, counter_names[i]));

		if (buf_printf(&b, "%-14s %lld\n", counter_names[i], (long long)v) != 0)
			break;
	}
	return buf_steal(&b, NULL);
}

char *
report_counts_line(const struct report *r)
{
	struct buf b;

	buf_init(&b, 0);
	for (size_t i = 0; i < ARRAY_LEN(counter_names); i++) {
		json_int_t v = json_integer_value(json_object_get(r->counts, counter_names[i]));

		if (v == 0 && strcmp(counter_names[i], "errors") != 0)
			continue;
		if (buf_printf(&b, "%s%s %lld", b.len > 0 ? ", " : "", counter_names[i],
		    (long long)v) != 0)
			break;
	}
	for (char *p = b.data; p != NULL && *p != '\0'; p++)
		if (*p == '_')
			*p = ' ';
	return buf_steal(&b, NULL);
}

/* Does this user (mail) belong to group in this run's user lines? */
static bool
user_in_group(const struct report *r, const char *mail, const char *group)
{
	size_t i;
	json_t *u;

	json_array_foreach(r->users, i, u) {
		const char *m = json_string_value(json_object_get(u, "mail"));
		const char *g = json_string_value(json_object_get(u, "group"));

		if (m != NULL && g != NULL && strcmp(m, mail) == 0 && strcmp(g, group) == 0)
			return true;
	}
	return false;
}

char *
report_error_lines(const struct report *r, const char *group, size_t max)
{
	struct buf b;
	size_t i, n = 0, more = 0;
	json_t *err;

	buf_init(&b, 0);
	json_array_foreach(r->errors, i, err) {
		const char *user = json_string_value(json_object_get(err, "user"));
		const char *msg = json_string_value(json_object_get(err, "message"));

		if (user != NULL && !user_in_group(r, user, group))
			continue;
		if (n == max) {
			more++;
			continue;
		}
		n++;
		if (buf_printf(&b, "- %s%s%s\n", user ? user : "", user ? ": " : "",
		    msg ? msg : "") != 0)
			break;
	}
	if (more > 0 && buf_printf(&b, "... and %zu more: see the full report\n", more) != 0)
		more = 0;
	if (n == 0 && buf_puts(&b, "none\n") != 0)
		n = 0;
	return buf_steal(&b, NULL);
}

const char *
report_status_so_far(const struct report *r)
{
	return json_integer_value(json_object_get(r->counts, "errors")) > 0 ? "partial" : "ok";
}

char *
report_finish(struct report *r, time_t finished, const char **status_out)
{
	const char *status;
	json_int_t errors = json_integer_value(json_object_get(r->counts, "errors"));
	char *s;

	status = r->failed ? "failed" : errors > 0 ? "partial" : "ok";
	set_time(r->doc, "finished", finished);
	json_object_set_new(r->doc, "duration_ms", json_integer((json_int_t)(finished - r->started) * 1000));
	json_object_set_new(r->doc, "status", json_string(status));
	s = json_dumps(r->doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (s == NULL) {
		fprintf(stderr, "smimesync: fatal: out of memory encoding a report\n");
		abort();
	}
	*status_out = status;
	return s;
}

int
report_format_parse(const char *s, enum report_format *out)
{
	if (strcmp(s, "text") == 0)
		*out = REPORT_TEXT;
	else if (strcmp(s, "json") == 0)
		*out = REPORT_JSON;
	else if (strcmp(s, "html") == 0)
		*out = REPORT_HTML;
	else
		return -1;
	return 0;
}

static const char *
str_or(json_t *obj, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s != NULL ? s : dflt;
}

/*
 * Which kind of run, why, and how far behind the directory (reports of
 * runs before issue #17 have no "run": nothing is said).
 */
static void
render_run_kind(json_t *doc, FILE *out)
{
	json_t *run = json_object_get(doc, "run"), *lag, *v;
	size_t i;

	if (!json_is_object(run))
		return;
	lag = json_object_get(run, "lag_s");
	fprintf(out, "  %s run, started by %s", str_or(run, "kind", "?"), str_or(run, "trigger", "?"));
	if (json_is_integer(lag))
		fprintf(out, "; %lld s behind the directory%s", (long long)json_integer_value(lag),
		    strcmp(str_or(run, "kind", ""), "full") == 0 ? " (the age of the last full read)" :
		    "");
	fputc('\n', out);
	json_array_foreach(json_object_get(doc, "streams"), i, v) {
		fprintf(out, "  [directory %s] %s stream: %lld change(s) acted on, last read whole %s\n",
		    str_or(v, "directory", "?"), str_or(v, "kind", "?"),
		    (long long)json_integer_value(json_object_get(v, "changes")),
		    str_or(v, "last_full_read", "never"));
	}
}

static void
render_text(json_t *doc, FILE *out)
{
	json_t *counts = json_object_get(doc, "counts");
	json_t *v;
	size_t i;

	fprintf(out, "smimesync run %s%s: %s\n", str_or(doc, "id", "?"),
	    json_is_true(json_object_get(doc, "dry_run")) ? " (dry run: nothing was changed)" : "",
	    str_or(doc, "status", "?"));
	fprintf(out, "  started %s, finished %s (%.1f s)\n", str_or(doc, "started", "?"),
	    str_or(doc, "finished", "?"),
	    (double)json_integer_value(json_object_get(doc, "duration_ms")) / 1000.0);
	render_run_kind(doc, out);
	fputc('\n', out);

	fprintf(out, json_is_true(json_object_get(doc, "dry_run")) ?
	    "Summary of the plan (what a real run would do)\n" : "Summary\n");
	for (i = 0; i < ARRAY_LEN(counter_names); i++) {
		char label[32];
		size_t k;

		snprintf(label, sizeof(label), "%s", counter_names[i]);
		for (k = 0; label[k] != '\0'; k++)
			if (label[k] == '_')
				label[k] = ' ';
		fprintf(out, "  %-14s %lld\n", label,
		    (long long)json_integer_value(json_object_get(counts, counter_names[i])));
	}
	if (json_is_true(json_object_get(doc, "dry_run")))
		fprintf(out, "  A real run would issue %lld, renew %lld and reissue %lld "
		    "certificates,\n  publish %lld in the directory, retire %lld, and queue %lld "
		    "mails (%lld of them reminders).\n",
		    (long long)json_integer_value(json_object_get(counts, "issued")),
		    (long long)json_integer_value(json_object_get(counts, "renewed")),
		    (long long)json_integer_value(json_object_get(counts, "reissued")),
		    (long long)json_integer_value(json_object_get(counts, "published")),
		    (long long)json_integer_value(json_object_get(counts, "retired")),
		    (long long)json_integer_value(json_object_get(counts, "mails_queued")),
		    (long long)json_integer_value(json_object_get(counts, "reminded")));

	fprintf(out, "\nGroups\n");
	json_array_foreach(json_object_get(doc, "groups"), i, v) {
		fprintf(out, "  %-24s directory %-12s %5lld members  %s%s%s\n",
		    str_or(v, "name", "?"), str_or(v, "directory", "?"),
		    (long long)json_integer_value(json_object_get(v, "members")),
		    str_or(v, "status", "?"), json_is_string(json_object_get(v, "error")) ? ": " : "",
		    str_or(v, "error", ""));
		if (json_is_string(json_object_get(v, "publish_to")))
			fprintf(out, "  %-24s publishes to [directory %s]\n", "",
			    str_or(v, "publish_to", "?"));
		if (json_is_string(json_object_get(v, "note")))
			fprintf(out, "  %-24s note: %s\n", "", str_or(v, "note", ""));
	}

	if (json_is_object(json_object_get(doc, "signing_log"))) {
		json_t *sl = json_object_get(doc, "signing_log");

		fprintf(out, "\nSigning log: %lld lines, head sha256:%s\n",
		    (long long)json_integer_value(json_object_get(sl, "lines")),
		    str_or(sl, "head", "?"));
	}

	if (json_array_size(json_object_get(doc, "notices")) > 0) {
		fprintf(out, "\nNotices\n");
		json_array_foreach(json_object_get(doc, "notices"), i, v)
			fprintf(out, "  %s\n", json_string_value(v) != NULL ? json_string_value(v) : "");
	}

	if (json_array_size(json_object_get(doc, "errors")) > 0) {
		fprintf(out, "\nErrors (%zu)\n", json_array_size(json_object_get(doc, "errors")));
		json_array_foreach(json_object_get(doc, "errors"), i, v) {
			fprintf(out, "  %s [%s] %s\n", str_or(v, "user", "(run)"),
			    str_or(v, "step", "?"), str_or(v, "message", ""));
		}
	}

	if (json_array_size(json_object_get(doc, "users")) > 0) {
		fprintf(out, "\nUsers (unchanged users are counted above, not listed)\n");
		fprintf(out, "  %-32s %-16s %-9s %-8s %-34s %s\n", "MAIL", "GROUP", "ACTION",
		    "OUTCOME", "SERIAL", "VALID UNTIL");
		json_array_foreach(json_object_get(doc, "users"), i, v) {
			fprintf(out, "  %-32s %-16s %-9s %-8s %-34s %s\n",
			    str_or(v, "mail", "(no mail)"), str_or(v, "group", "-"),
			    str_or(v, "action", "?"), str_or(v, "outcome", "?"),
			    str_or(v, "serial", "-"), str_or(v, "not_after", "-"));
			if (!json_is_string(json_object_get(v, "mail")))
				fprintf(out, "      %s\n", str_or(v, "dn", "?"));
			/* A request the CA holds is news, not an error. */
			if (json_is_string(json_object_get(v, "error")))
				fprintf(out, "      %s at %s: %s\n",
				    strcmp(str_or(v, "outcome", ""), "pending") == 0 ? "waiting" : "error",
				    str_or(v, "step", "?"), str_or(v, "error", ""));
			else if (json_is_string(json_object_get(v, "reason")))
				fprintf(out, "      %s\n", str_or(v, "reason", ""));
			if (json_is_string(json_object_get(v, "also_in")))
				fprintf(out, "      also a member of %s; %s governs\n",
				    str_or(v, "also_in", ""), str_or(v, "group", "?"));
		}
	}
}

int
report_render(const char *json, enum report_format fmt, FILE *out, struct errbuf *e)
{
	json_error_t jerr;
	json_t *doc = json_loads(json, 0, &jerr);

	if (doc == NULL || !json_is_object(doc)) {
		err_set(e, "stored report is not valid JSON (line %d: %s)", jerr.line, jerr.text);
		json_decref(doc);
		return -1;
	}
	if (fmt == REPORT_JSON) {
		json_dumpf(doc, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', out);
	} else if (fmt == REPORT_HTML) {
		json_decref(doc);
		return report_html_render(json, NULL, time(NULL), out, e);
	} else {
		render_text(doc, out);
	}
	json_decref(doc);
	return 0;
}
