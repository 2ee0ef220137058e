/* SPDX-License-Identifier: ISC */
/*
 * The one log module.
 *
 * Every line carries the level, the current run id and the user being
 * processed, so that an operator can grep one run or one person. Where the
 * line goes decides the rest of its form:
 *
 * - stderr on a terminal or into a file: a UTC timestamp and the pid first,
 *     2026-11-23T18:50:00Z smimesync[4242] info run=20261123-185000-ab12 user=alice@example.org: certificate issued, serial 4F1A...
 * - stderr that is the systemd journal (JOURNAL_STREAM names stderr's
 *   device and inode): an sd-daemon(3) priority prefix instead, because
 *   the journal stamps time and pid itself and "journalctl -p err" filters
 *   on that prefix:
 *     <6>info run=20261123-185000-ab12 user=alice@example.org: certificate issued, ...
 * - syslog (log = syslog): one datagram per line to /dev/log with the
 *   configured facility (log_facility, default daemon) and the level's
 *   priority, in the RFC 3164 form syslog(3) writes.
 *
 * Control characters in a message (a hostile directory value with a
 * newline and a forged "<0>") are written as \n, \r or \xNN: one call is
 * always one line, and its priority is always ours.
 *
 * log_init() starts on stderr; log_to_syslog() switches after the
 * configuration is read. log_set_run()/log_set_user() copy their argument;
 * pass NULL to clear. fatal() is for a broken environment (cannot write the
 * state directory); bugs are assert()s. The module keeps one process-wide
 * logger: it is the one piece of hidden state the house allows, because a
 * log line must be writable from anywhere without a handle.
 */
#ifndef SMIMESYNC_COMMON_LOG_H
#define SMIMESYNC_COMMON_LOG_H

#include <stdarg.h>

#include "common/attrs.h"

enum log_level {
	LOGL_ERROR = 0,
	LOGL_WARN,
	LOGL_INFO,
	LOGL_DEBUG,
};

/* syslog facilities smimesync may log under; index = log_facility_names. */
enum log_facility {
	LOGF_DAEMON = 0,
	LOGF_USER,
	LOGF_AUTHPRIV,
	LOGF_LOCAL0,
	LOGF_LOCAL1,
	LOGF_LOCAL2,
	LOGF_LOCAL3,
	LOGF_LOCAL4,
	LOGF_LOCAL5,
	LOGF_LOCAL6,
	LOGF_LOCAL7,
};
/* "daemon", "user", "authpriv", "local0" ... "local7", then NULL. */
extern const char *const log_facility_names[];

/*
 * Log to stderr from now on; progname is borrowed (a string literal). The
 * journal is recognised here, from $JOURNAL_STREAM and fstat(stderr).
 */
void log_init(const char *progname, enum log_level level);
/*
 * Log to syslog from now on: datagrams to $SMIMESYNC_SYSLOG_SOCKET, or
 * /dev/log. A line the socket does not take goes to stderr instead, so
 * nothing is lost silently.
 */
void log_to_syslog(enum log_facility facility);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Returns 0 and sets *out for "error", "warn"/"warning", "info", "debug". */
int log_level_parse(const char *name, enum log_level *out) MUST_USE;
const char *log_level_name(enum log_level level);
void log_set_run(const char *run_id);
void log_set_user(const char *user);

/*
 * A line for the person who ran the command (a configuration error, "the
 * run failed"): on stderr as it is, without timestamp or context, but with
 * its priority prefix when stderr is the journal, so that a unit whose
 * configuration is broken shows up in "journalctl -p err". Ignores the
 * log level and log = syslog: the person at the terminal must see it.
 */
void log_plain(enum log_level level, const char *fmt, ...) PRINTF_LIKE(2, 3);

/*
 * A terminal progress line (cli/progress.c) shares stderr with the log:
 * before() is called ahead of each line written to stderr, after() once it
 * is written, both under the log's lock (they must not log), so the
 * progress line can step aside and come back. NULL hooks (the default) for
 * none; arg is passed on.
 */
void log_set_stderr_hooks(void (*before)(void *arg), void (*after)(void *arg), void *arg);

void log_msg(enum log_level level, const char *fmt, ...) PRINTF_LIKE(2, 3);
void log_vmsg(enum log_level level, const char *fmt, va_list ap) PRINTF_LIKE(2, 0);
void fatal(const char *fmt, ...) PRINTF_LIKE(1, 2) NORETURN;

#define log_error(...) log_msg(LOGL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOGL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOGL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOGL_DEBUG, __VA_ARGS__)

#endif
