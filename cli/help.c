/* SPDX-License-Identifier: ISC */
/*
 * The command table: each command's name, the function that runs it, its
 * synopsis and its help. "smimesync help", "smimesync help COMMAND",
 * "smimesync COMMAND --help" and every usage error print from here, so
 * what the program says about a command is written once. The bash
 * completion (cli/smimesync.bash) and smimesync(8) list the same
 * commands; tests/integration/cli_help.sh and man_commands.sh hold them
 * to this table.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/strutil.h"
#include "cli/commands.h"

static int cmd_help(int argc, char **argv, const struct cli_options *cli);

/*
 * Help texts follow one shape: what the command does and when to use it,
 * then its options, then an example. They are printed as they are, so keep
 * lines under 80 columns.
 */
static const struct cli_command commands[] = {
	{ "check-config", cmd_check_config, "check-config [-v] [--as-user USER] [--unit FILE]",
	    "validate configuration, secret files and templates, as the service's\n"
	    "user and in its systemd sandbox",
	    "Validate the configuration without contacting any server: syntax, types,\n"
	    "bounds and references (every error as FILE:LINE), then the files it\n"
	    "names (state directory, master key, CA files, secrets and their modes),\n"
	    "then every mail template in every language a group may use, and the\n"
	    "signer when [service] signer_socket is set. Run as root, it checks with\n"
	    "the rights of the user the service runs as (the installed unit's User=).\n"
	    "Prints \"configuration OK\" and exits 0, or lists every problem and exits 1.\n"
	    "\n"
	    "  -v               also print every option with its effective value\n"
	    "  --as-user USER   check as USER (only root may): what the service can read\n"
	    "  --unit FILE      check against this systemd unit's sandbox (default: the\n"
	    "                   installed smimesync.service with its drop-ins)\n"
	    "\n"
	    "Example: sudo smimesync check-config --as-user smimesync\n" },
	{ "ca", cmd_ca,
	    "ca (init [--ca NAME] --root-key-out FILE [--pkcs11 URI] | renew-issuing [--ca NAME] --root-key FILE | policy [--write])",
	    "init: create the internal root and issuing CA, the master key and the\n"
	    "signer's policy; renew-issuing: re-certify the issuing CA; policy: print\n"
	    "(or write) the policy this configuration needs",
	    "ca init: create the master key (if missing) and the internal CA of\n"
	    "[ca NAME], or of the first [ca] of type local: a root and an issuing CA.\n"
	    "The root key is written only to FILE: take it offline at once. With\n"
	    "--pkcs11 the issuing key is made in (or found on) the token and never\n"
	    "written anywhere. Then, if there is none, the signer's policy with a new\n"
	    "recovery credential. Existing files are never overwritten. Back up the\n"
	    "master key at once: without it escrowed keys and queued mails cannot be\n"
	    "read. Distribute root.pem (next to cert_file) to mail clients as a\n"
	    "trusted root.\n"
	    "\n"
	    "ca renew-issuing: re-certify the issuing key with the root key brought\n"
	    "back from offline, for the profiles its groups need now.\n"
	    "\n"
	    "ca policy: print the signer policy this configuration needs, to compare\n"
	    "with the one in use after groups changed.\n"
	    "\n"
	    "  --ca NAME            (init, renew-issuing) the [ca NAME] section\n"
	    "  --root-key-out FILE  (init) where the root key goes (an offline medium)\n"
	    "  --pkcs11 URI         (init) the issuing key on a PKCS#11 token\n"
	    "  --root-key FILE      (renew-issuing) the root key, brought back\n"
	    "  --write              (policy) write it, with a new recovery credential,\n"
	    "                       when there is no policy file yet\n"
	    "\n"
	    "Examples: smimesync ca init --root-key-out /media/usb/root.key\n"
	    "          smimesync ca policy | diff - /etc/smimesync/signer.conf\n" },
	{ "run", cmd_run,
	    "run [--dry-run] [--allow-mass-retire] [--allow-mass-issue] [--format text|json|html]",
	    "sync once; --dry-run prints the plan and changes nothing",
	    "One sync: read the groups, plan, issue, publish, mail, report. On a\n"
	    "terminal each phase shows one updating progress line (done of total,\n"
	    "rate, time left); the report goes to standard output and is stored.\n"
	    "\n"
	    "  --dry-run              read the directory and print what a real run\n"
	    "                         would do (issue, publish, mail); change nothing\n"
	    "  --allow-mass-retire    open the safety valve ([service] max_retire) for\n"
	    "                         this run, after checking the report of a dry run\n"
	    "  --allow-mass-issue     open the safety valve for new certificates\n"
	    "                         ([service] max_new_per_run) for this run\n"
	    "  --format FORMAT        text (default), json or html\n"
	    "\n"
	    "Exit status: 0 ok, 1 failed, 3 completed with errors (see the report).\n"
	    "Example: smimesync run --dry-run\n" },
	{ "issue", cmd_issue, "issue USER [--force]",
	    "issue a certificate now (after a revocation; --force: even though USER\n"
	    "holds a valid one)",
	    "Issue a new certificate for USER in a run started at once (the directory\n"
	    "is read again, so it carries today's data). Needed after a revocation or\n"
	    "after the CA rejected a request, which hold the person back.\n"
	    "USER is a mail address, a DN or the directory's id.\n"
	    "\n"
	    "  --force    issue even though USER holds a valid certificate\n"
	    "\n"
	    "Example: smimesync issue alice@example.org --force\n" },
	{ "user", cmd_user, "user USER ignore|unignore|suspend-notifications|resume-notifications",
	    "per-person switches",
	    "Switch provisioning or reminder mails off or on for one person.\n"
	    "\n"
	    "  ignore                  never provisioned, never mailed\n"
	    "  unignore                provisioned again from the next run\n"
	    "  suspend-notifications   no reminder mails\n"
	    "  resume-notifications    reminder mails again\n"
	    "\n"
	    "Example: smimesync user bob@example.org suspend-notifications\n" },
	{ "status", cmd_status,
	    "status [USER] [--expiring DURATION] [--group GROUP] [--format text|json|csv]",
	    "certificates in the store, for everyone or one user (USER: the helpdesk\n"
	    "view)",
	    "Without USER: one line per person (mail, group, serial, expiry, whether\n"
	    "published, state). With USER (mail, DN or id): the helpdesk view, every\n"
	    "certificate with its state and where it is published, every mail with\n"
	    "its time and the mail server's queue id, why the person is skipped, and\n"
	    "the next planned action with its date. Read-only, safe during a run.\n"
	    "\n"
	    "  --expiring DURATION  only certificates that end within DURATION (30d);\n"
	    "                       a unit is required: s, m, h, d or w\n"
	    "  --group GROUP        only people of this [group]\n"
	    "  --format FORMAT      text (default), json or csv (csv: the one-line form)\n"
	    "\n"
	    "Examples: smimesync status alice@example.org\n"
	    "          smimesync status --expiring 30d --format csv\n" },
	{ "report", cmd_report, "report [--last | RUN_ID | --since WHEN] [--format text|json|html]",
	    "print a stored run report (default: the last one)",
	    "Print the report of the last run, of RUN_ID, or a summary of every run\n"
	    "since WHEN. The HTML form is one self-contained page: summary first, the\n"
	    "people in a collapsible table with filters, and charts.\n"
	    "\n"
	    "  --last             the last finished run (the default)\n"
	    "  --since WHEN       a duration back from now (30d, 12h) or a date\n"
	    "                     (2026-11-01 or 2026-11-01T00:00:00Z)\n"
	    "  --format FORMAT    text (default), json or html\n"
	    "\n"
	    "Example: smimesync report --format html >report.html\n" },
	{ "audit", cmd_audit,
	    "audit [--user USER | --signing-log] [--since WHEN] [--format text|json]",
	    "read the audit log, or check the signer's signing log",
	    "Print the append-only audit log: what was issued, revoked, mailed and\n"
	    "published, in which run, and who ran the command (the invoking user and,\n"
	    "under sudo, SUDO_USER).\n"
	    "\n"
	    "  --user USER      only entries about this person (mail, DN or id)\n"
	    "  --signing-log    instead: the head of the signer's signing log, and for\n"
	    "                   each run report that recorded one whether that line is\n"
	    "                   still in the log (exit 1 when one was edited or cut)\n"
	    "  --since WHEN     a duration back from now (30d) or a date (2026-11-01)\n"
	    "  --format FORMAT  text (default) or json\n"
	    "\n"
	    "Examples: smimesync audit --user alice@example.org --since 90d\n"
	    "          smimesync audit --signing-log\n" },
	{ "daemon", cmd_daemon, "daemon",
	    "run every [service] interval until SIGTERM",
	    "Run a sync at start and then every [service] interval, in the\n"
	    "foreground, as systemd's Type=notify wants it; systemctl status shows the\n"
	    "progress of a running sync and the result of the last one.\n"
	    "SIGHUP reloads a valid configuration, SIGUSR1 runs now, SIGTERM stops\n"
	    "after the current step.\n"
	    "\n"
	    "Example: systemctl start smimesync (the unit runs: smimesync daemon)\n" },
	{ "revoke", cmd_revoke, "revoke (USER | --serial SERIAL) --reason REASON",
	    "revoke a certificate, unpublish it, sign a new CRL",
	    "Revoke USER's current certificate (or the one with SERIAL), take it out of\n"
	    "the directory at once and sign a new CRL when the CA has a crl_file.\n"
	    "\n"
	    "  --serial SERIAL   the certificate to revoke, hex as status prints it\n"
	    "  --reason REASON   keyCompromise, affiliationChanged, superseded,\n"
	    "                    cessationOfOperation, privilegeWithdrawn or unspecified\n"
	    "\n"
	    "Example: smimesync revoke alice@example.org --reason keyCompromise\n" },
	{ "crl", cmd_crl, "crl [--ca NAME]",
	    "sign and write the CRL of each CA with a crl_file",
	    "Sign a new CRL for every [ca] with a crl_file (or only [ca NAME]) and\n"
	    "write it there; the daemon does this after every run.\n"
	    "\n"
	    "  --ca NAME    only this CA\n"
	    "\n"
	    "Example: smimesync crl\n" },
	{ "recover", cmd_recover,
	    "recover USER --out FILE [--pkcs12 modern|compat] [--credential FILE]",
	    "all escrowed keys of USER in one PKCS#12; password on stdout",
	    "Write every escrowed key of USER, current and past, into one new PKCS#12\n"
	    "file, so that old mail stays readable after a lost key. The signer opens\n"
	    "the keys only with the operator's recovery credential and logs who asked.\n"
	    "The password is printed on standard output and nowhere else; the recovery\n"
	    "is audited.\n"
	    "\n"
	    "  --out FILE          the file to write (must not exist)\n"
	    "  --pkcs12 PROFILE    modern (AES-256) or compat (3DES, for older clients);\n"
	    "                      default: the group's pkcs12\n"
	    "  --credential FILE   the recovery credential (else typed at the terminal)\n"
	    "\n"
	    "Example: smimesync recover alice@example.org --out alice-all.p12\n" },
	{ "resend", cmd_resend, "resend USER [--credential FILE]",
	    "mail the current certificate again with a new password",
	    "Queue a new collection mail and password mail for USER's current\n"
	    "certificate (a new PKCS#12 with a new password) and send them now. Says\n"
	    "for each mail whether the server accepted it (with its queue id) and, if\n"
	    "not, why and when it is tried again. It hands the private key out again,\n"
	    "so it is a key recovery: it needs the recovery credential, as recover.\n"
	    "\n"
	    "  --credential FILE   the recovery credential (else typed at the terminal)\n"
	    "\n"
	    "Example: smimesync resend alice@example.org\n" },
	{ "master-key", cmd_master_key, "master-key rotate",
	    "re-seal every escrowed secret under a new master key",
	    "Make a new master key, re-seal every escrowed key, queued mail and\n"
	    "action key under it in one transaction, then replace the key file.\n"
	    "Back up the new key file afterwards.\n"
	    "\n"
	    "Example: smimesync master-key rotate\n" },
	{ "help", cmd_help, "help [COMMAND]",
	    "this text, or the help of one command",
	    "Without COMMAND: every command. With COMMAND: what it does, its options\n"
	    "and an example (the same as smimesync COMMAND --help).\n" },
};

const struct cli_command *
cli_command_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_LEN(commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/*
 * Edit distance between a and b (insertions, deletions, substitutions and
 * swaps of neighbours), counted only up to limit: what a typo costs.
 */
static size_t
typo_distance(const char *a, const char *b, size_t limit)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t d[3][32];
	size_t *prev2 = d[0], *prev = d[1], *cur = d[2], *t;

	if (la >= 32 || lb >= 32)
		return limit + 1;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1];
			size_t best = prev[j - 1] + cost;

			if (prev[j] + 1 < best)
				best = prev[j] + 1;
			if (cur[j - 1] + 1 < best)
				best = cur[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    prev2[j - 2] + 1 < best)
				best = prev2[j - 2] + 1;
			cur[j] = best;
		}
		t = prev2;
		prev2 = prev;
		prev = cur;
		cur = t;
	}
	return prev[lb] < limit + 1 ? prev[lb] : limit + 1;
}

/* The command name probably meant (a typo or the start of one), or NULL. */
static const char *
command_meant(const char *name)
{
	const char *best = NULL;
	size_t best_d = 3, len = strlen(name), d;

	for (size_t i = 0; i < ARRAY_LEN(commands); i++) {
		/* "stat" for status, "check" for check-config: a start of 3 or more. */
		if (len >= 3 && strncmp(commands[i].name, name, len) == 0)
			return commands[i].name;
		d = typo_distance(name, commands[i].name, 2);
		/* Two edits in a short word are another word, not a typo. */
		if (d < best_d && (d == 1 || len >= 5)) {
			best = commands[i].name;
			best_d = d;
		}
	}
	return best;
}

int
cli_unknown_command(const char *context, const char *name)
{
	const char *meant = command_meant(name);

	if (meant != NULL)
		fprintf(stderr, "%s: unknown command \"%s\"; did you mean \"%s\"? "
		    "smimesync help lists the commands\n", context, name, meant);
	else
		fprintf(stderr, "%s: unknown command \"%s\"; smimesync help lists the commands\n",
		    context, name);
	return EXIT_USAGE;
}

void
cli_usage(FILE *out)
{
	fputs("usage: smimesync [-c FILE] [-v] COMMAND [ARGS]\n"
	    "\n"
	    "Give every member of the configured directory groups a valid S/MIME\n"
	    "certificate, publish it in the directory and mail it to them.\n"
	    "\n"
	    "Commands:\n", out);
	for (size_t i = 0; i < ARRAY_LEN(commands); i++) {
		const char *s = commands[i].summary;

		fprintf(out, "  %s\n", commands[i].synopsis);
		/* Indented further, so a summary line never reads as a command. */
		while (*s != '\0') {
			const char *nl = strchr(s, '\n');
			size_t n = nl != NULL ? (size_t)(nl - s) : strlen(s);

			fprintf(out, "        %.*s\n", (int)n, s);
			s += n + (nl != NULL);
		}
	}
	fprintf(out,
	    "\n"
	    "Options:\n"
	    "  -c FILE     configuration file (default: $SMIMESYNC_CONF, then %s)\n"
	    "  -v          verbose logging (debug)\n"
	    "  --version   print the version and exit\n"
	    "\n"
	    "smimesync COMMAND --help (or smimesync help COMMAND) explains one command.\n"
	    "Exit status: 0 success, 1 failure, 2 usage error, 3 run completed with errors.\n"
	    "See smimesync(8) and smimesync.conf(5).\n",
	    SMIMESYNC_SYSCONFDIR "/smimesync.conf");
}

void
cli_command_help(const struct cli_command *c, FILE *out)
{
	fprintf(out, "usage: smimesync %s\n\n%s", c->synopsis, c->help);
}

bool
cli_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return false;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return true;
	}
	return false;
}

int
cli_usage_error(const char *name, const char *fmt, ...)
{
	const struct cli_command *c = cli_command_find(name);
	va_list ap;

	if (fmt != NULL) {
		fprintf(stderr, "smimesync %s: ", name);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	if (c != NULL)
		fprintf(stderr, "usage: smimesync %s\n", c->synopsis);
	fprintf(stderr, "(smimesync %s --help explains it)\n", name);
	return EXIT_USAGE;
}

int
cli_duration_arg(const char *command, const char *option, const char *value, int64_t *out)
{
	if (parse_duration(value, out) == 0 && *out >= 0)
		return 0;
	if (duration_missing_unit(value))
		return cli_usage_error(command, "%s \"%s\" has no unit: write %sd for days, %sh "
		    "for hours (s, m, h, d or w)", option, value, value, value);
	return cli_usage_error(command, "%s \"%s\" is not a duration: write a number and a "
	    "unit, e.g. 30d or 12h", option, value);
}

static int
cmd_help(int argc, char **argv, const struct cli_options *cli)
{
	const struct cli_command *c;

	(void)cli;
	if (argc <= 1) {
		cli_usage(stdout);
		return 0;
	}
	if (argc > 2)
		return cli_usage_error("help", "give one command");
	c = cli_command_find(argv[1]);
	if (c == NULL)
		return cli_unknown_command("smimesync help", argv[1]);
	cli_command_help(c, stdout);
	return 0;
}
