/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "conf/conf.h"
#include "common/log.h"
#include "cli/commands.h"
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
			fprintf(stderr, "smimesync run: unknown format \"%s\" (text, json or html)\n", optarg);
			return EXIT_USAGE;
		default:
			fprintf(stderr, "usage: smimesync run [--dry-run] [--allow-mass-retire] [--allow-mass-issue] [--format text|json|html]\n");
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "usage: smimesync run [--dry-run] [--allow-mass-retire] [--allow-mass-issue] [--format text|json|html]\n");
		return EXIT_USAGE;
	}
	cfg = commands_load_config(cli);
	if (cfg == NULL)
		return 1;
	rc = (int)run_sync(cfg, &opt);
	if (rc == RUN_FAILED)
		log_plain(LOGL_ERROR, "smimesync: the run failed; the report above says why");
	else if (rc == RUN_PARTIAL)
		log_plain(LOGL_WARN, "smimesync: the run completed with errors; see the report above");
	config_free(cfg);
	return rc;
}
