/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"
#include "common/log.h"
#include "cli/commands.h"
#include "cli/progress.h"
#include "report/metrics.h"
#include "sync/run.h"

int
cmd_run(int argc, char **argv, const struct cli_options *cli)
{
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "allow-mass-retire", no_argument, NULL, 'm' },
		{ "allow-mass-issue", no_argument, NULL, 'i' },
		{ "format", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	/* Cron-driven runs keep the metrics file fresh too. */
	struct run_options opt = {
		.format = REPORT_TEXT,
		.out = stdout,
		.finished = metrics_run_hook,
	};
	struct cli_progress cp;
	struct config *cfg;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			opt.dry_run = true;
			break;
		case 'm':
			opt.allow_mass_retire = true;
			break;
		case 'i':
			opt.allow_mass_issue = true;
			break;
		case 'f':
			if (report_format_parse(optarg, &opt.format) == 0)
				break;
			return cli_usage_error("run", "unknown format \"%s\" (text, json or html)",
			    optarg);
		default:
			return cli_usage_error("run", NULL);
		}
	}
	if (optind < argc)
		return cli_usage_error("run", "unexpected argument \"%s\"", argv[optind]);
	cfg = commands_load_config(cli);
	if (cfg == NULL)
		return 1;
	/* A terminal watches each phase; a cron job's log stays short. */
	cli_progress_start(&cp, cfg, isatty(STDERR_FILENO) == 1, false);
	opt.progress = cli_progress_hook;
	opt.progress_arg = &cp;
	rc = (int)run_sync(cfg, &opt);
	cli_progress_stop(&cp);
	if (rc == RUN_FAILED)
		log_plain(LOGL_ERROR, "smimesync: the run failed; the report above says why");
	else if (rc == RUN_PARTIAL)
		log_plain(LOGL_WARN, "smimesync: the run completed with errors; see the report above");
	config_free(cfg);
	return rc;
}
