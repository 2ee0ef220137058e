/* SPDX-License-Identifier: ISC */
/*
 * status and report: reading the store without changing it.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "common/strutil.h"
#include "common/xalloc.h"
#include "conf/conf.h"
#include "cli/commands.h"
#include "report/report.h"
#include "report/report_html.h"
#include "store/store.h"

static struct store *
open_store_of(const struct config *cfg)
{
	struct store *st = NULL;
	struct errbuf e;

	if (store_open_readonly(cfg->service.state_dir, &st, &e) != 0) {
		fprintf(stderr, "smimesync: %s\n", e.text);
		st = NULL;
	}
	return st;
}

static struct store *
open_store(const struct cli_options *cli)
{
	struct config *cfg = commands_load_config(cli);
	struct store *st = NULL;

	if (cfg == NULL)
		return NULL;
	st = open_store_of(cfg);
	config_free(cfg);
	return st;
}

/*
 * --group must name a [group] of the configuration, or one the store still
 * has people of (a group since removed): a typo must not print an empty
 * list that reads as "nobody".
 */
static bool
group_known(const struct config *cfg, const struct store_status_row *rows, size_t n,
    const char *group)
{
	if (config_find_group(cfg, group) != NULL)
		return true;
	for (size_t i = 0; i < n; i++)
		if (rows[i].group_name != NULL && strcmp(rows[i].group_name, group) == 0)
			return true;
	fprintf(stderr, "smimesync status: --group %s: no [group %s] in %s", group, group,
	    cfg->path);
	for (size_t i = 0; i < cfg->n_groups; i++)
		fprintf(stderr, "%s%s", i == 0 ? " (its groups: " : ", ", cfg->groups[i].name);
	fprintf(stderr, "%s, and nobody in the store belongs to one of that name\n",
	    cfg->n_groups > 0 ? ")" : "");
	return false;
}

/* valid, expired, no certificate, or the step an unfinished provisioning stopped at. */
static const char *
row_state(const struct store_status_row *r, time_t now)
{
	if (r->ca_pending)
		return "pending at the CA";
	if (r->ca_hold != NULL && r->serial == NULL)
		return "held: the CA rejected the request";
	if (r->open_state != NULL)
		return r->open_state;
	if (r->serial == NULL)
		return "no certificate";
	return r->not_after <= now ? "expired" : "valid";
}

static void
status_json(const struct store_status_row *rows, size_t n, time_t now)
{
	json_t *arr = json_array();
	char when[32];

	for (size_t i = 0; i < n; i++) {
		json_t *o = json_object();

		json_object_set_new(o, "id", json_string(rows[i].user_id));
		json_object_set_new(o, "mail", rows[i].mail ? json_string(rows[i].mail) : json_null());
		json_object_set_new(o, "name",
		    rows[i].display_name ? json_string(rows[i].display_name) : json_null());
		json_object_set_new(o, "group",
		    rows[i].group_name ? json_string(rows[i].group_name) : json_null());
		json_object_set_new(o, "serial",
		    rows[i].serial ? json_string(rows[i].serial) : json_null());
		if (rows[i].serial != NULL) {
			format_time_utc(rows[i].not_after, when, sizeof(when));
			json_object_set_new(o, "not_after", json_string(when));
		} else {
			json_object_set_new(o, "not_after", json_null());
		}
		json_object_set_new(o, "published", json_boolean(rows[i].published));
		json_object_set_new(o, "state", json_string(row_state(&rows[i], now)));
		json_object_set_new(o, "pending_step",
		    rows[i].open_state ? json_string(rows[i].open_state) : json_null());
		json_object_set_new(o, "last_error",
		    rows[i].last_error ? json_string(rows[i].last_error) : json_null());
		if (rows[i].open_state != NULL && rows[i].ca_next_try != 0) {
			format_time_utc(rows[i].ca_next_try, when, sizeof(when));
			json_object_set_new(o, "ca_next_try", json_string(when));
		} else {
			json_object_set_new(o, "ca_next_try", json_null());
		}
		json_object_set_new(o, "ca_hold",
		    rows[i].ca_hold ? json_string(rows[i].ca_hold) : json_null());
		json_array_append_new(arr, o);
	}
	json_dumpf(arr, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(arr);
}

static void
status_text(const struct store_status_row *rows, size_t n, time_t now)
{
	char when[32];

	printf("%-32s %-16s %-34s %-20s %-9s %s\n", "MAIL", "GROUP", "SERIAL", "VALID UNTIL",
	    "PUBLISHED", "STATE");
	for (size_t i = 0; i < n; i++) {
		const char *state = row_state(&rows[i], now);

		if (rows[i].serial != NULL)
			format_time_utc(rows[i].not_after, when, sizeof(when));
		printf("%-32s %-16s %-34s %-20s %-9s %s\n", rows[i].mail ? rows[i].mail : "-",
		    rows[i].group_name ? rows[i].group_name : "-",
		    rows[i].serial ? rows[i].serial : "-", rows[i].serial ? when : "-",
		    rows[i].published ? "yes" : "no", state);
		if (rows[i].last_error != NULL)
			printf("    %s: %s\n", rows[i].ca_pending ? "CA said" : "last error",
			    rows[i].last_error);
		if (rows[i].open_state != NULL && rows[i].ca_next_try != 0) {
			format_time_utc(rows[i].ca_next_try, when, sizeof(when));
			printf("    next request to the CA: after %s\n", when);
		}
		if (rows[i].ca_hold != NULL)
			printf("    held back: the CA rejected the last request (%s); after fixing "
			    "the cause: smimesync issue %s\n", rows[i].ca_hold,
			    rows[i].mail ? rows[i].mail : rows[i].user_id);
	}
}

/*
 * RFC 4180: quote every field that needs it, double the quotes inside.
 * A cell a spreadsheet would read as a formula (leading = + - @, or a tab
 * or CR that some strip first) gets a leading apostrophe, quoted or not:
 * a display name like "=HYPERLINK(...), x" needs both.
 */
static void
csv_field(const char *s, bool last)
{
	bool formula = s != NULL && s[0] != '\0' && strchr("=+-@\t\r", s[0]) != NULL;

	if (s != NULL && strpbrk(s, ",\"\r\n") != NULL) {
		putchar('"');
		if (formula)
			putchar('\'');
		for (; *s != '\0'; s++) {
			if (*s == '"')
				putchar('"');
			putchar(*s);
		}
		putchar('"');
	} else if (s != NULL) {
		if (formula)
			putchar('\'');
		fputs(s, stdout);
	}
	fputs(last ? "\r\n" : ",", stdout);
}

static void
status_csv(const struct store_status_row *rows, size_t n, time_t now)
{
	char when[32];

	fputs("mail,name,group,id,serial,not_after,published,state,last_error\r\n", stdout);
	for (size_t i = 0; i < n; i++) {
		const char *state = row_state(&rows[i], now);

		if (rows[i].serial != NULL)
			format_time_utc(rows[i].not_after, when, sizeof(when));
		csv_field(rows[i].mail, false);
		csv_field(rows[i].display_name, false);
		csv_field(rows[i].group_name, false);
		csv_field(rows[i].user_id, false);
		csv_field(rows[i].serial, false);
		csv_field(rows[i].serial ? when : NULL, false);
		csv_field(rows[i].published ? "yes" : "no", false);
		csv_field(state, false);
		csv_field(rows[i].last_error, true);
	}
}

/* Keep the rows that pass the filters; the others are freed. */
static size_t
status_filter(struct store_status_row *rows, size_t n, const char *group, int64_t expiring,
    time_t now)
{
	size_t kept = 0;

	for (size_t i = 0; i < n; i++) {
		bool keep = true;

		if (group != NULL && (rows[i].group_name == NULL ||
		    strcmp(rows[i].group_name, group) != 0))
			keep = false;
		/* Expiring: a certificate (expired or not) that ends within the window. */
		if (expiring >= 0 && (rows[i].serial == NULL ||
		    rows[i].not_after > now + (time_t)expiring))
			keep = false;
		if (keep)
			rows[kept++] = rows[i];
		else
			store_status_rows_free(xmemdup(&rows[i], sizeof(rows[i])), 1);
	}
	return kept;
}

int
cmd_status(int argc, char **argv, const struct cli_options *cli)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "expiring", required_argument, NULL, 'x' },
		{ "group", required_argument, NULL, 'g' },
		{ NULL, 0, NULL, 0 },
	};
	const char *user = NULL, *group = NULL, *fmt = "text";
	int64_t expiring = -1;
	struct store_status_row *rows = NULL;
	struct config *cfg = NULL;
	struct store *st = NULL;
	size_t n = 0;
	time_t now = time(NULL);
	struct errbuf e;
	int ch, rc = 1;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			if (strcmp(optarg, "text") != 0 && strcmp(optarg, "json") != 0 &&
			    strcmp(optarg, "csv") != 0) {
				return cli_usage_error("status", "unknown format \"%s\" (text, json "
				    "or csv)", optarg);
			}
			fmt = optarg;
			break;
		case 'x':
			if (cli_duration_arg("status", "--expiring", optarg, &expiring) != 0)
				return EXIT_USAGE;
			break;
		case 'g':
			group = optarg;
			break;
		default:
			return cli_usage_error("status", NULL);
		}
	}
	if (optind < argc)
		user = argv[optind++];
	if (optind < argc)
		return cli_usage_error("status", "give at most one USER");
	cfg = commands_load_config(cli);
	if (cfg == NULL)
		return 1;
	st = open_store_of(cfg);
	if (st == NULL)
		goto out;
	if (store_status_rows(st, user, &rows, &n, &e) != 0) {
		fprintf(stderr, "smimesync: %s\n", e.text);
		goto out;
	}
	if (group != NULL && !group_known(cfg, rows, n, group)) {
		rc = EXIT_USAGE;
		goto out;
	}
	if (user != NULL && n == 0) {
		fprintf(stderr, "smimesync: no user \"%s\" in the store (give a mail address, "
		    "DN or directory id)\n", user);
		goto out;
	}
	n = status_filter(rows, n, group, expiring, now);
	if (user != NULL && strcmp(fmt, "csv") != 0) {
		if (n == 0) {
			fprintf(stderr, "smimesync: %s is not in the selection (--group, --expiring)\n",
			    user);
			goto out;
		}
		rc = status_user_view(cfg, st, user, &rows[0], strcmp(fmt, "json") == 0, now);
		goto out;
	}
	if (strcmp(fmt, "json") == 0)
		status_json(rows, n, now);
	else if (strcmp(fmt, "csv") == 0)
		status_csv(rows, n, now);
	else
		status_text(rows, n, now);
	rc = 0;
out:
	store_status_rows_free(rows, n);
	store_close(st);
	config_free(cfg);
	return rc;
}

int
cmd_report(int argc, char **argv, const struct cli_options *cli)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "last", no_argument, NULL, 'l' },
		{ "since", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	enum report_format fmt = REPORT_TEXT;
	const char *run_id = NULL, *since_arg = NULL;
	bool last = false;
	struct store *st = NULL;
	char *json = NULL;
	time_t now = time(NULL), since = 0;
	struct errbuf e;
	int ch, found, rc = 1;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			if (report_format_parse(optarg, &fmt) == 0)
				break;
			return cli_usage_error("report", "unknown format \"%s\" (text, json or "
			    "html)", optarg);
		case 'l':
			last = true;
			break;
		case 's':
			since_arg = optarg;
			if (commands_parse_since(optarg, now, &since) == 0)
				break;
			return commands_since_error("report", optarg);
		default:
			return cli_usage_error("report", NULL);
		}
	}
	if (optind < argc)
		run_id = argv[optind++];
	if (optind < argc)
		return cli_usage_error("report", "give at most one RUN_ID");
	if ((last ? 1 : 0) + (run_id ? 1 : 0) + (since_arg ? 1 : 0) > 1)
		return cli_usage_error("report", "give one of --last, a RUN_ID or --since");
	st = open_store(cli);
	if (st == NULL)
		return 1;
	if (since_arg != NULL) {
		if (report_summary_build(st, since, now, &json, &e) != 0 ||
		    report_summary_render(json, fmt, st, now, stdout, &e) != 0) {
			fprintf(stderr, "smimesync: %s\n", e.text);
			goto out;
		}
		rc = 0;
		goto out;
	}
	found = store_run_report(st, run_id, &json, &e);
	if (found < 0) {
		fprintf(stderr, "smimesync: %s\n", e.text);
		goto out;
	}
	if (found == 0) {
		fprintf(stderr, run_id ? "smimesync: no run \"%s\" in the store\n" :
		    "smimesync: no finished run in the store yet%s\n", run_id ? run_id : "");
		goto out;
	}
	/* HTML gets the store too: its charts cover every certificate. */
	if ((fmt == REPORT_HTML ? report_html_render(json, st, now, stdout, &e) :
	    report_render(json, fmt, stdout, &e)) != 0) {
		fprintf(stderr, "smimesync: %s\n", e.text);
		goto out;
	}
	rc = 0;
out:
	free(json);
	store_close(st);
	return rc;
}
