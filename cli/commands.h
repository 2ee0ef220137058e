/* SPDX-License-Identifier: ISC */
/*
 * The smimesync commands. Each takes the arguments after its name and the
 * path of the configuration file, prints what it did, and returns the
 * process exit status (0 success, 1 failure, 2 usage error, 3 partial
 * run). Failures end with a one-line reason on stderr.
 */
#ifndef SMIMESYNC_CLI_COMMANDS_H
#define SMIMESYNC_CLI_COMMANDS_H

#include <stdbool.h>
#include <time.h>

#define EXIT_USAGE 2

/* -v was given: debug logging whatever the configuration says. */
extern bool commands_verbose;

int cmd_check_config(int argc, char **argv, const char *conf_path);
int cmd_ca(int argc, char **argv, const char *conf_path);
int cmd_run(int argc, char **argv, const char *conf_path);
int cmd_status(int argc, char **argv, const char *conf_path);
int cmd_report(int argc, char **argv, const char *conf_path);
int cmd_daemon(int argc, char **argv, const char *conf_path);
int cmd_audit(int argc, char **argv, const char *conf_path);
int cmd_issue(int argc, char **argv, const char *conf_path);
int cmd_user(int argc, char **argv, const char *conf_path);
int cmd_revoke(int argc, char **argv, const char *conf_path);
int cmd_crl(int argc, char **argv, const char *conf_path);
int cmd_recover(int argc, char **argv, const char *conf_path);
int cmd_resend(int argc, char **argv, const char *conf_path);
int cmd_master_key(int argc, char **argv, const char *conf_path);

/*
 * --since for report and audit: a duration back from now ("30d", "12h"),
 * a date ("2026-11-01", UTC midnight) or "2026-11-01T00:00:00Z".
 */
int commands_parse_since(const char *s, time_t now, time_t *out);

/* Load the configuration or print every error and return NULL. */
struct config *commands_load_config(const char *conf_path);

#endif
