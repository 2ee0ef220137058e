/* SPDX-License-Identifier: ISC */
/*
 * The one log module.
 *
 * Every line carries a timestamp, the level, the current run id and the user
 * being processed, so that an operator can grep one run or one person:
 *
 *   2026-11-23T18:50:00Z smimesync[4242] info run=20261123-185000-ab12 user=alice@example.org: certificate issued, serial 4F1A...
 *
 * Output goes to stderr (systemd's journal picks it up) or to syslog.
 * log_set_run()/log_set_user() copy their argument; pass NULL to clear.
 * fatal() is for a broken environment (cannot write the state directory);
 * bugs are assert()s.
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

void log_init(const char *progname, enum log_level level, int use_syslog);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Returns 0 and sets *out for "error", "warn"/"warning", "info", "debug". */
int log_level_parse(const char *name, enum log_level *out) MUST_USE;
const char *log_level_name(enum log_level level);
void log_set_run(const char *run_id);
void log_set_user(const char *user);

/*
 * A terminal progress line (cli/progress.c) shares stderr with the log:
 * before() is called ahead of each line written to stderr, after() once it
 * is written, so the progress line can step aside and come back. NULL
 * hooks (the default) for none; arg is passed on.
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
