/* SPDX-License-Identifier: ISC */
/*
 * Per-person admin commands: issue a certificate by hand, and the
 * switches that exclude a person from provisioning or from mail.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/strutil.h"
#include "conf/conf.h"
#include "cli/commands.h"
#include "cli/progress.h"
#include "sync/run.h"
#include "store/store.h"

/* Open the store for writing; prints why not. */
static struct store *
open_rw(const struct config *cfg)
{
	struct store *st = NULL;
	struct errbuf e;

	if (store_open(cfg->service.state_dir, &st, &e) != 0) {
		fprintf(stderr, "smimesync: %s\n", e.text);
		return NULL;
	}
	return st;
}

static int
find_user(struct store *st, const char *key, struct store_user *u)
{
	struct errbuf e;
	int found = store_user_find(st, key, u, &e);

	if (found < 0)
		fprintf(stderr, "smimesync: %s\n", e.text);
	else if (found == 0)
		fprintf(stderr, "smimesync: no user \"%s\" in the store: smimesync knows the "
		    "members it has seen in a run; check their group membership and run "
		    "smimesync run first\n", key);
	return found;
}

int
cmd_issue(int argc, char **argv, const struct cli_options *cli)
{
	static const struct option longopts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	struct run_options opt = { .format = REPORT_TEXT, .out = stdout };
	struct cli_progress cp;
	struct store_status_row *rows = NULL;
	struct store_user u;
	struct config *cfg = NULL;
	struct store *st = NULL;
	bool force = false;
	size_t n = 0;
	struct errbuf e;
	int ch, rc = 1;

	memset(&u, 0, sizeof(u));
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch != 'f')
			goto usage;
		force = true;
	}
	if (optind + 1 != argc)
		goto usage;
	cfg = commands_load_config(cli);
	if (cfg == NULL || (st = open_rw(cfg)) == NULL)
		goto out;
	if (find_user(st, argv[optind], &u) != 1)
		goto out;
	if (store_status_rows(st, u.id, &rows, &n, &e) != 0) {
		fprintf(stderr, "smimesync: %s\n", e.text);
		goto out;
	}
	if (!force && n > 0 && rows[0].serial != NULL && rows[0].not_after > time(NULL)) {
		char until[32];

		format_time_utc(rows[0].not_after, until, sizeof(until));
		fprintf(stderr, "smimesync: %s already holds a valid certificate (serial %s, "
		    "valid until %s); add --force to issue a new one anyway\n", u.mail, rows[0].serial,
		    until);
		goto out;
	}
	if (store_user_set_switch(st, u.id, "force_issue", true, &e) < 0 ||
	    store_audit(st, NULL, u.id, "issue-requested", force ? "--force" : NULL, &e) != 0) {
		fprintf(stderr, "smimesync: %s\n", e.text);
		goto out;
	}
	/* Release the lock: the run takes it. It re-reads the directory, so the
	 * new certificate carries today's data. */
	store_close(st);
	st = NULL;
	printf("issuing a new certificate for %s in this run\n", u.mail);
	fflush(stdout);
	cli_progress_start(&cp, cfg, isatty(STDERR_FILENO) == 1, false);
	opt.progress = cli_progress_hook;
	opt.progress_arg = &cp;
	rc = (int)run_sync(cfg, &opt);
	cli_progress_stop(&cp);
out:
	store_status_rows_free(rows, n);
	store_user_clear(&u);
	store_close(st);
	config_free(cfg);
	return rc;
usage:
	return cli_usage_error("issue", NULL);
}

static const struct {
	const char *verb;
	const char *which;
	bool on;
	const char *said;
} switches[] = {
	{ "ignore", "ignored", true, "is ignored: never provisioned, never mailed" },
	{ "unignore", "ignored", false, "is provisioned again from the next run" },
	{ "suspend-notifications", "notifications_suspended", true,
	    "gets no reminder mails until resume-notifications" },
	{ "resume-notifications", "notifications_suspended", false, "gets reminder mails again" },
};

int
cmd_user(int argc, char **argv, const struct cli_options *cli)
{
	struct store_user u;
	struct config *cfg = NULL;
	struct store *st = NULL;
	struct errbuf e;
	size_t k;
	int rc = 1;

	memset(&u, 0, sizeof(u));
	if (argc != 3)
		goto usage;
	for (k = 0; k < ARRAY_LEN(switches); k++)
		if (strcmp(argv[2], switches[k].verb) == 0)
			break;
	if (k == ARRAY_LEN(switches))
		goto usage;
	cfg = commands_load_config(cli);
	if (cfg == NULL || (st = open_rw(cfg)) == NULL)
		goto out;
	if (find_user(st, argv[1], &u) != 1)
		goto out;
	if (store_user_set_switch(st, u.id, switches[k].which, switches[k].on, &e) < 0 ||
	    store_audit(st, NULL, u.id, switches[k].verb, NULL, &e) != 0) {
		fprintf(stderr, "smimesync: %s\n", e.text);
		goto out;
	}
	printf("%s %s\n", u.mail ? u.mail : u.id, switches[k].said);
	rc = 0;
out:
	store_user_clear(&u);
	store_close(st);
	config_free(cfg);
	return rc;
usage:
	return cli_usage_error("user", NULL);
}
