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
#include <time.h>

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
 * --since for report and audit: a duration back from now ("30d", "12h"),
 * a date ("2026-11-01", UTC midnight) or "2026-11-01T00:00:00Z".
 */
int commands_parse_since(const char *s, time_t now, time_t *out);

/*
 * Key recovery (recover, resend): the operator's credential from file, or
 * typed at the terminal when file is NULL (*out new, secret_free_str());
 * -1 after saying on stderr why there is none.
 */
int commands_read_credential(const char *file, char **out);
/* Who runs this command: the login name of the real uid, and SUDO_USER (or NULL). */
void commands_who(char *user, size_t size, const char **sudo_user);

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
