/* SPDX-License-Identifier: ISC */
/*
 * audit: read the append-only audit log (what was issued, mailed,
 * published, to whom, in which run), optionally for one user and from a
 * point in time on.
 *
 * audit --signing-log: the head of the signer's signing log (its lines and
 * the SHA-256 of the last), and for every stored run report that recorded
 * one, whether that line is still in the log with that hash: a line edited
 * or removed since shows as a mismatch, and the command exits 1.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "common/strutil.h"
#include "conf/conf.h"
#include "smime/signer.h"
#include "sync/engine.h"
#include "cli/commands.h"
#include "store/store.h"
#include "store/queries.h"

int
commands_parse_since(const char *s, time_t now, time_t *out)
{
	int64_t secs;
	struct tm tm;
	const char *end;

	if (parse_duration(s, &secs) == 0) {
		*out = now - (time_t)secs;
		return 0;
	}
	if (parse_time_utc(s, out) == 0)
		return 0;
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%d", &tm);
	if (end != NULL && *end == '\0') {
		*out = timegm(&tm);
		return 0;
	}
	return -1;
}

int
commands_since_error(const char *command, const char *value)
{
	if (duration_missing_unit(value))
		return cli_usage_error(command, "--since \"%s\" has no unit: write %sd for days "
		    "or %sh for hours, or give a date (2026-11-01)", value, value, value);
	return cli_usage_error(command, "--since \"%s\": give a duration (30d, 12h) or a date "
	    "(2026-11-01 or 2026-11-01T00:00:00Z)", value);
}

static void
audit_text(const struct store_audit_row *v, size_t n)
{
	char when[32];

	for (size_t i = 0; i < n; i++) {
		char by[160];

		format_time_utc(v[i].time, when, sizeof(when));
		/* "root(sudo:alice)": root ran it, and alice called sudo. */
		snprintf(by, sizeof(by), "%s%s%s%s", v[i].actor ? v[i].actor : "-",
		    v[i].sudo_user ? "(sudo:" : "", v[i].sudo_user ? v[i].sudo_user : "",
		    v[i].sudo_user ? ")" : "");
		printf("%s run=%s by=%s user=%s %s%s%s\n", when, v[i].run_id ? v[i].run_id : "-",
		    by, v[i].mail ? v[i].mail : v[i].user_id ? v[i].user_id : "-", v[i].event,
		    v[i].detail ? ": " : "", v[i].detail ? v[i].detail : "");
	}
}

static json_t *
str_or_null(const char *s)
{
	json_t *j = s != NULL ? json_string(s) : NULL;

	return j != NULL ? j : json_null();
}

static void
audit_json(const struct store_audit_row *v, size_t n)
{
	json_t *arr = json_array();
	char when[32];

	for (size_t i = 0; i < n; i++) {
		json_t *o = json_object();

		format_time_utc(v[i].time, when, sizeof(when));
		json_object_set_new(o, "id", json_integer(v[i].id));
		json_object_set_new(o, "time", json_string(when));
		json_object_set_new(o, "run", str_or_null(v[i].run_id));
		json_object_set_new(o, "user", str_or_null(v[i].user_id));
		json_object_set_new(o, "mail", str_or_null(v[i].mail));
		json_object_set_new(o, "event", str_or_null(v[i].event));
		json_object_set_new(o, "detail", str_or_null(v[i].detail));
		json_object_set_new(o, "actor", str_or_null(v[i].actor));
		json_object_set_new(o, "sudo_user", str_or_null(v[i].sudo_user));
		json_array_append_new(arr, o);
	}
	json_dumpf(arr, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(arr);
}

/* The signing log's head, and each recorded head checked against it. */
static int
audit_signing_log(const struct config *cfg, time_t since, bool json)
{
	struct store *st = NULL;
	struct store_run_row *runs = NULL;
	struct signer *s = NULL;
	struct signer_log_head head;
	struct errbuf e;
	json_t *out = NULL, *checked = NULL;
	size_t n = 0, bad = 0;
	int rc = 1;

	if (store_open_readonly(cfg->service.state_dir, &st, &e) != 0 ||
	    store_query_runs(st, since, 0, &runs, &n, &e) != 0 ||
	    signer_start(cfg, &s, &e) != 0 ||
	    signer_log_head(s, 0, NULL, &head, &e) != 0) {
		fprintf(stderr, "smimesync: %s\n", e.text);
		goto done;
	}
	out = json_object();
	checked = json_array();
	json_object_set_new(out, "lines", json_integer((json_int_t)head.lines));
	json_object_set_new(out, "head", json_string(head.hash));
	if (!json)
		printf("signing log: %llu line%s, head sha256:%s\n", (unsigned long long)head.lines,
		    head.lines == 1 ? "" : "s", head.hash);
	for (size_t i = 0; i < n; i++) {
		json_t *doc = runs[i].report != NULL ? json_loads(runs[i].report, 0, NULL) : NULL;
		json_t *sl = json_object_get(doc, "signing_log");
		const char *h = json_string_value(json_object_get(sl, "head"));
		json_int_t lines = json_integer_value(json_object_get(sl, "lines"));
		struct signer_log_head then;

		if (h != NULL && lines > 0) {
			if (signer_log_head(s, (uint64_t)lines, h, &then, &e) != 0) {
				fprintf(stderr, "smimesync: %s\n", e.text);
				json_decref(doc);
				goto done;
			}
			if (then.check != SIGNER_HEAD_MATCHES)
				bad++;
			if (json) {
				json_t *o = json_object();

				json_object_set_new(o, "run", json_string(runs[i].id));
				json_object_set_new(o, "line", json_integer(lines));
				json_object_set_new(o, "head", json_string(h));
				json_object_set_new(o, "check",
				    json_string(signer_head_check_name(then.check)));
				json_array_append_new(checked, o);
			} else {
				printf("run %s recorded line %lld sha256:%s: %s\n", runs[i].id,
				    (long long)lines, h, then.check == SIGNER_HEAD_MATCHES ? "present" :
				    then.check == SIGNER_HEAD_MISSING ? "MISSING: lines were removed from "
				    "the end of the log" : "DIFFERS: the log was rewritten up to there");
			}
		}
		json_decref(doc);
	}
	json_object_set_new(out, "runs", checked);
	checked = NULL;
	if (json) {
		json_dumpf(out, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
	}
	if (bad > 0)
		fprintf(stderr, "smimesync: %zu recorded head%s no longer in the signing log: it was "
		    "edited or cut since; compare with smimesync-signer verify-log\n", bad,
		    bad == 1 ? " is" : "s are");
	rc = bad > 0 ? 1 : 0;
done:
	json_decref(checked);
	json_decref(out);
	signer_stop(s);
	store_run_rows_free(runs, n);
	store_close(st);
	return rc;
}

int
cmd_audit(int argc, char **argv, const struct cli_options *cli)
{
	static const struct option longopts[] = {
		{ "user", required_argument, NULL, 'u' },
		{ "since", required_argument, NULL, 's' },
		{ "format", required_argument, NULL, 'f' },
		{ "signing-log", no_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	const char *user = NULL;
	bool json = false, signing_log = false;
	time_t since = 0;
	struct config *cfg = NULL;
	struct store *st = NULL;
	struct store_audit_row *rows = NULL;
	size_t n = 0;
	struct errbuf e;
	int ch, rc = 1;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'u':
			user = optarg;
			break;
		case 's':
			if (commands_parse_since(optarg, time(NULL), &since) == 0)
				break;
			return commands_since_error("audit", optarg);
		case 'f':
			if (strcmp(optarg, "json") == 0 || strcmp(optarg, "text") == 0) {
				json = strcmp(optarg, "json") == 0;
				break;
			}
			return cli_usage_error("audit", "unknown format \"%s\" (text or json)",
			    optarg);
		case 'l':
			signing_log = true;
			break;
		default:
			return cli_usage_error("audit", NULL);
		}
	}
	if (optind < argc)
		return cli_usage_error("audit", "unexpected argument \"%s\" (--user USER "
		    "selects a person)", argv[optind]);
	if (signing_log && user != NULL)
		return cli_usage_error("audit", "--signing-log is the signer's record of every "
		    "signature, not one person's: leave out --user");
	cfg = commands_load_config(cli);
	if (cfg == NULL)
		return 1;
	if (signing_log) {
		rc = audit_signing_log(cfg, since, json);
		config_free(cfg);
		return rc;
	}
	if (store_open_readonly(cfg->service.state_dir, &st, &e) != 0 ||
	    store_query_audit(st, user, since, &rows, &n, &e) != 0) {
		fprintf(stderr, "smimesync: %s\n", e.text);
		goto out;
	}
	if (json)
		audit_json(rows, n);
	else
		audit_text(rows, n);
	/* Nothing printed must not read as "nothing happened to a person" when
	 * the name was only mistyped. */
	if (n == 0 && user != NULL)
		fprintf(stderr, "smimesync audit: no entries for \"%s\"%s; --user takes the "
		    "mail address, DN or directory id the store knows (smimesync status %s "
		    "says whether it knows this one)\n", user, since > 0 ? " in that time" : "",
		    user);
	rc = 0;
out:
	store_audit_rows_free(rows, n);
	store_close(st);
	config_free(cfg);
	return rc;
}
