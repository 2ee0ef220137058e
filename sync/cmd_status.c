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
#include "conf/config.h"
#include "sync/commands.h"
#include "sync/report.h"
#include "sync/store.h"

static int
parse_format_opts(int argc, char **argv, enum report_format *fmt, bool *last,
    const char **positional, const char *usage)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "last", no_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch == 'f' && report_format_parse(optarg, fmt) == 0)
			continue;
		if (ch == 'l' && last != NULL) {
			*last = true;
			continue;
		}
		if (ch == 'f')
			fprintf(stderr, "smimesync: unknown format \"%s\" (text or json)\n", optarg);
		fprintf(stderr, "usage: %s\n", usage);
		return -1;
	}
	if (optind < argc)
		*positional = argv[optind++];
	if (optind < argc) {
		fprintf(stderr, "usage: %s\n", usage);
		return -1;
	}
	return 0;
}

static struct store *
open_store(const char *conf_path)
{
	struct config *cfg = commands_load_config(conf_path);
	struct store *st = NULL;
	struct errbuf e;

	if (cfg == NULL)
		return NULL;
	if (store_open_readonly(cfg->service.state_dir, &st, &e) != 0) {
		fprintf(stderr, "smimesync: %s\n", e.text);
		st = NULL;
	}
	config_free(cfg);
	return st;
}

static void
status_json(const struct store_status_row *rows, size_t n)
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
		json_object_set_new(o, "pending_step",
		    rows[i].open_state ? json_string(rows[i].open_state) : json_null());
		json_object_set_new(o, "last_error",
		    rows[i].last_error ? json_string(rows[i].last_error) : json_null());
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
		const char *state = rows[i].open_state ? rows[i].open_state :
		    rows[i].serial == NULL ? "no certificate" :
		    rows[i].not_after <= now ? "expired" : "valid";

		if (rows[i].serial != NULL)
			format_time_utc(rows[i].not_after, when, sizeof(when));
		printf("%-32s %-16s %-34s %-20s %-9s %s\n", rows[i].mail ? rows[i].mail : "-",
		    rows[i].group_name ? rows[i].group_name : "-",
		    rows[i].serial ? rows[i].serial : "-", rows[i].serial ? when : "-",
		    rows[i].published ? "yes" : "no", state);
		if (rows[i].last_error != NULL)
			printf("    last error: %s\n", rows[i].last_error);
	}
}

int
cmd_status(int argc, char **argv, const char *conf_path)
{
	enum report_format fmt = REPORT_TEXT;
	const char *user = NULL;
	struct store_status_row *rows = NULL;
	struct store *st = NULL;
	size_t n = 0;
	struct errbuf e;
	int rc = 1;

	if (parse_format_opts(argc, argv, &fmt, NULL, &user,
	    "smimesync status [USER] [--format text|json]") != 0)
		return EXIT_USAGE;
	st = open_store(conf_path);
	if (st == NULL)
		return 1;
	if (store_status_rows(st, user, &rows, &n, &e) != 0) {
		fprintf(stderr, "smimesync: %s\n", e.text);
		goto out;
	}
	if (user != NULL && n == 0) {
		fprintf(stderr, "smimesync: no user \"%s\" in the store (give a mail address, "
		    "DN or directory id)\n", user);
		goto out;
	}
	if (fmt == REPORT_JSON)
		status_json(rows, n);
	else
		status_text(rows, n, time(NULL));
	rc = 0;
out:
	store_status_rows_free(rows, n);
	store_close(st);
	return rc;
}

int
cmd_report(int argc, char **argv, const char *conf_path)
{
	enum report_format fmt = REPORT_TEXT;
	const char *run_id = NULL;
	bool last = false;
	struct store *st = NULL;
	char *json = NULL;
	struct errbuf e;
	int found, rc = 1;

	if (parse_format_opts(argc, argv, &fmt, &last, &run_id,
	    "smimesync report [--last | RUN_ID] [--format text|json]") != 0)
		return EXIT_USAGE;
	if (last && run_id != NULL) {
		fprintf(stderr, "smimesync report: give --last or a RUN_ID, not both\n");
		return EXIT_USAGE;
	}
	st = open_store(conf_path);
	if (st == NULL)
		return 1;
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
	if (report_render(json, fmt, stdout, &e) != 0) {
		fprintf(stderr, "smimesync: %s\n", e.text);
		goto out;
	}
	rc = 0;
out:
	free(json);
	store_close(st);
	return rc;
}
