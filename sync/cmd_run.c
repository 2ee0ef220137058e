/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "conf/config.h"
#include "sync/commands.h"
#include "sync/run.h"

int
cmd_run(int argc, char **argv, const char *conf_path)
{
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "format", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	struct run_options opt = { false, REPORT_TEXT, stdout };
	struct config *cfg;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			opt.dry_run = true;
			break;
		case 'f':
			if (report_format_parse(optarg, &opt.format) == 0)
				break;
			fprintf(stderr, "smimesync run: unknown format \"%s\" (text or json)\n", optarg);
			return EXIT_USAGE;
		default:
			fprintf(stderr, "usage: smimesync run [--dry-run] [--format text|json]\n");
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "usage: smimesync run [--dry-run] [--format text|json]\n");
		return EXIT_USAGE;
	}
	cfg = commands_load_config(conf_path);
	if (cfg == NULL)
		return 1;
	rc = (int)run_sync(cfg, &opt);
	if (rc == RUN_FAILED)
		fprintf(stderr, "smimesync: the run failed; the report above says why\n");
	else if (rc == RUN_PARTIAL)
		fprintf(stderr, "smimesync: the run completed with errors; see the report above\n");
	config_free(cfg);
	return rc;
}
