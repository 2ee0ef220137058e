/* SPDX-License-Identifier: ISC */
/*
 * Room cli/: the smimesync program: main, the commands, the daemon loop.
 *
 * The smimesync commands. Each takes the arguments after its name and the
 * global options main() parsed (struct cli_options), prints what it did,
 * and returns the process exit status (0 success, 1 failure, 2 usage
 * error, 3 partial run). Failures end with a one-line reason on stderr.
 */
#ifndef SMIMESYNC_CLI_COMMANDS_H
#define SMIMESYNC_CLI_COMMANDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "common/attrs.h"

#define EXIT_USAGE 2

/* The options before the command name, as main() parsed them. */
struct cli_options {
	const char *conf_path; /* -c, $SMIMESYNC_CONF or the default */
	bool verbose;          /* -v: debug logging whatever the configuration says */
	const char *command;   /* the command's name, as typed */
	char *const *args;     /* the command and its arguments, NULL-terminated (borrowed argv) */
};

int cmd_check_config(int argc, char **argv, const struct cli_options *cli);
int cmd_ca(int argc, char **argv, const struct cli_options *cli);
int cmd_run(int argc, char **argv, const struct cli_options *cli);
int cmd_status(int argc, char **argv, const struct cli_options *cli);
int cmd_report(int argc, char **argv, const struct cli_options *cli);
int cmd_daemon(int argc, char **argv, const struct cli_options *cli);
int cmd_audit(int argc, char **argv, const struct cli_options *cli);
int cmd_issue(int argc, char **argv, const struct cli_options *cli);
int cmd_user(int argc, char **argv, const struct cli_options *cli);
int cmd_revoke(int argc, char **argv, const struct cli_options *cli);
int cmd_crl(int argc, char **argv, const struct cli_options *cli);
int cmd_recover(int argc, char **argv, const struct cli_options *cli);
int cmd_resend(int argc, char **argv, const struct cli_options *cli);
int cmd_master_key(int argc, char **argv, const struct cli_options *cli);

/*
 * The command table (cli/help.c): main() dispatches through it, and every
 * help text and usage line is printed from it.
 */
struct cli_command {
	const char *name;
	int (*run)(int argc, char **argv, const struct cli_options *cli);
	const char *synopsis; /* after "smimesync ": "run [--dry-run] ..." */
	const char *summary;  /* for "smimesync help"; may hold newlines */
	const char *help;     /* for "COMMAND --help": what, options, an example */
};

/* The command called name, or NULL. */
const struct cli_command *cli_command_find(const char *name);
/*
 * "CONTEXT: unknown command "NAME"", with the command probably meant (a
 * typo, or the start of a name) and where the list is, on stderr. Returns
 * EXIT_USAGE.
 */
int cli_unknown_command(const char *context, const char *name);
/* "smimesync help": the global usage and every command. */
void cli_usage(FILE *out);
/* "smimesync COMMAND --help". */
void cli_command_help(const struct cli_command *c, FILE *out);
/* Does a command's argv (argv[0] the command) ask for --help or -h before "--"? */
bool cli_wants_help(int argc, char **argv);
/*
 * A usage error of command name: "smimesync NAME: <fmt>" (when fmt is not
 * NULL), its usage line and where to read more, on stderr. Returns
 * EXIT_USAGE.
 */
int cli_usage_error(const char *name, const char *fmt, ...) PRINTF_LIKE(2, 3);
/*
 * A DURATION option: 0 and *out set, or the usage error printed (a
 * number without a unit is named as such) and EXIT_USAGE returned.
 */
int cli_duration_arg(const char *command, const char *option, const char *value,
    int64_t *out);

/*
 * --since for report and audit: a duration back from now ("30d", "12h"),
 * a date ("2026-11-01", UTC midnight) or "2026-11-01T00:00:00Z".
 */
int commands_parse_since(const char *s, time_t now, time_t *out);
/*
 * status USER (cli/cmd_status_user.c): the helpdesk view of the person
 * whose status row is row (borrowed), as text or JSON. Returns 0 or 1.
 */
struct store;
struct store_status_row;
struct config;
int status_user_view(const struct config *cfg, struct store *st, const char *key,
    struct store_status_row *row, bool json, time_t now);
/*
 * Where one outbox mail stands, in words (new): accepted (with the
 * server's queue id and reply), queued (why not yet, when next), or given
 * up (why).
 */
struct store_mail;
char *status_mail_explain(const struct store_mail *m, int64_t max_attempts);
/* The usage error for a --since that does not parse; returns EXIT_USAGE. */
int commands_since_error(const char *command, const char *value);

/*
 * Key recovery (recover, resend): the operator's credential from file, or
 * typed at the terminal when file is NULL (*out new, secret_free_str());
 * -1 after saying on stderr why there is none.
 */
int commands_read_credential(const char *file, char **out);

/*
 * Load cli->conf_path or print every error and return NULL. The log level
 * becomes the configured one unless cli->verbose. Run as root, a command
 * that writes to the state directory is refused (NULL) when that directory
 * belongs to another user: the lock, CA and key files root would leave
 * there could not be opened by the service afterwards.
 */
struct config *commands_load_config(const struct cli_options *cli);
/* The same without the refusal (check-config, which looks at everything). */
struct config *commands_load_config_only(const struct cli_options *cli);
/* The configured log level (unless cli->verbose), target and facility. */
void commands_apply_logging(const struct config *cfg, const struct cli_options *cli);

#endif
