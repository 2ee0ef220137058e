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

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: smimesync [-c FILE] [-v] COMMAND [ARGS]\n"
	    "\n"
	    "Give every member of the configured directory groups a valid S/MIME\n"
	    "certificate, publish it in the directory and mail it to them.\n"
	    "\n"
	    "Commands:\n"
	    "  check-config [-v] [--as-user USER] [--unit FILE]\n"
	    "                               validate configuration, secret files and templates,\n"
	    "                               as the service's user and in its systemd sandbox\n"
	    "  ca init [--ca NAME] --root-key-out FILE [--pkcs11 URI]\n"
	    "                               create the internal root and issuing CA, the master key\n"
	    "                               and the signer's policy with a recovery credential;\n"
	    "                               the root key goes to FILE only (take it offline)\n"
	    "  ca renew-issuing [--ca NAME] --root-key FILE\n"
	    "                               re-certify the issuing CA for what its groups need now\n"
	    "  ca policy [--write]          print (or write) the signer policy this configuration needs\n"
	    "  run [--dry-run] [--allow-mass-retire] [--allow-mass-issue] [--format text|json|html]\n"
	    "                               sync once; --dry-run prints the plan and changes nothing\n"
	    "  issue USER [--force]         issue a certificate now (after a revocation; --force:\n"
	    "                               even though USER holds a valid one)\n"
	    "  user USER ignore|unignore|suspend-notifications|resume-notifications\n"
	    "                               per-person switches\n"
	    "  status [USER] [--format text|json]\n"
	    "                               certificates in the store, for everyone or one user\n"
	    "  status [--expiring 30d] [--group G] [--format text|json|csv]\n"
	    "                               filter the status list: expiring soon, one group\n"
	    "  report [--last | RUN_ID | --since 30d] [--format text|json|html]\n"
	    "                               print a stored run report (default: the last one)\n"
	    "  audit [--user U] [--since T] [--format text|json]\n"
	    "                               read the audit log\n"
	    "  audit --signing-log          the signer's log head, and the heads runs recorded\n"
	    "  daemon                       run every [service] interval until SIGTERM\n"
	    "  revoke (USER | --serial S) --reason R\n"
	    "                               revoke a certificate, unpublish it, sign a new CRL\n"
	    "  crl [--ca NAME]              sign and write the CRL of each CA with a crl_file\n"
	    "  recover USER --out FILE [--pkcs12 modern|compat] [--credential FILE]\n"
	    "                               all escrowed keys of USER in one PKCS#12; password on stdout\n"
	    "  resend USER [--credential FILE]\n"
	    "                               mail the current certificate again with a new password\n"
	    "  master-key rotate            re-seal every escrowed secret under a new master key\n"
	    "  help                         this text\n"
	    "\n"
	    "Options:\n"
	    "  -c FILE     configuration file (default: $SMIMESYNC_CONF, then %s)\n"
	    "  -v          verbose logging (debug)\n"
	    "  --version   print the version and exit\n"
	    "\n"
	    "Exit status: 0 success, 1 failure, 2 usage error, 3 run completed with errors.\n"
	    "See smimesync(8) and smimesync.conf(5).\n",
	    SMIMESYNC_SYSCONFDIR "/smimesync.conf");
}

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
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
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

	if (strcmp(cmd, "check-config") == 0)
		return cmd_check_config(argc, argv, &cli);
	if (strcmp(cmd, "ca") == 0)
		return cmd_ca(argc, argv, &cli);
	if (strcmp(cmd, "run") == 0)
		return cmd_run(argc, argv, &cli);
	if (strcmp(cmd, "status") == 0)
		return cmd_status(argc, argv, &cli);
	if (strcmp(cmd, "report") == 0)
		return cmd_report(argc, argv, &cli);
	if (strcmp(cmd, "daemon") == 0)
		return cmd_daemon(argc, argv, &cli);
	if (strcmp(cmd, "issue") == 0)
		return cmd_issue(argc, argv, &cli);
	if (strcmp(cmd, "user") == 0)
		return cmd_user(argc, argv, &cli);
	if (strcmp(cmd, "audit") == 0)
		return cmd_audit(argc, argv, &cli);
	if (strcmp(cmd, "revoke") == 0)
		return cmd_revoke(argc, argv, &cli);
	if (strcmp(cmd, "crl") == 0)
		return cmd_crl(argc, argv, &cli);
	if (strcmp(cmd, "recover") == 0)
		return cmd_recover(argc, argv, &cli);
	if (strcmp(cmd, "resend") == 0)
		return cmd_resend(argc, argv, &cli);
	if (strcmp(cmd, "master-key") == 0)
		return cmd_master_key(argc, argv, &cli);
	if (strcmp(cmd, "help") == 0) {
		usage(stdout);
		return 0;
	}
	usage(stderr);
	fprintf(stderr, "smimesync: unknown command \"%s\"\n", cmd);
	return EXIT_USAGE;
}
