/* SPDX-License-Identifier: ISC */
/*
 * smimesync: command-line entry. Parses the global options, picks the
 * command and hands over; everything else lives in cli/cmd_*.c.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "common/log.h"
#include "conf/conf.h"
#include "cli/commands.h"

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_options cli = { .conf_path = NULL, .verbose = false, .command = NULL,
	    .args = NULL };
	const struct cli_command *command;
	const char *cmd;
	int ch;

	/*
	 * No core dumps, and no ptrace or /proc/PID/mem by other processes of
	 * this user: this process holds passwords, PKCS#12 files on their way
	 * out and directory credentials.
	 */
	{
		struct rlimit none = { 0, 0 };

		(void)setrlimit(RLIMIT_CORE, &none);
		(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	}
	log_init("smimesync", LOGL_INFO);
	/* "+": stop at the command name; its own options are its business. */
	while ((ch = getopt_long(argc, argv, "+c:vh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			cli.conf_path = optarg;
			break;
		case 'v':
			log_set_level(LOGL_DEBUG);
			cli.verbose = true;
			break;
		case 'V':
			printf("smimesync %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			cli_usage(stdout);
			return 0;
		default:
			cli_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		cli_usage(stderr);
		fprintf(stderr, "smimesync: no command given\n");
		return EXIT_USAGE;
	}
	if (cli.conf_path == NULL)
		cli.conf_path = config_default_path();
	cmd = argv[optind];
	cli.command = cmd;
	cli.args = argv + optind;
	argc -= optind;
	argv += optind;
	/*
	 * Reset getopt for the command's own options. 0, not 1: glibc then
	 * re-initialises fully and forgets the "+" above, so options may follow
	 * a command's operands ("issue USER --force").
	 */
	optind = 0;

	command = cli_command_find(cmd);
	/* Not the whole overview: the typo and what was meant are what matter. */
	if (command == NULL)
		return cli_unknown_command("smimesync", cmd);
	/* "COMMAND --help" anywhere before "--": help, whatever else was typed. */
	if (cli_wants_help(argc, argv)) {
		cli_command_help(command, stdout);
		return 0;
	}
	return command->run(argc, argv, &cli);
}
