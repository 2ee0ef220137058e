/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"

static struct {
	const char *progname;
	enum log_level level;
	int use_syslog;
	char run[64];
	char user[256];
	void (*before)(void *);
	void (*after)(void *);
	void *hook_arg;
} logger = { "smimesync", LOGL_INFO, 0, "", "", NULL, NULL, NULL };

static const char *const level_names[] = {
	[LOGL_ERROR] = "error",
	[LOGL_WARN] = "warning",
	[LOGL_INFO] = "info",
	[LOGL_DEBUG] = "debug",
};

void
log_init(const char *progname, enum log_level level, int use_syslog)
{
	logger.progname = progname;
	logger.level = level;
	logger.use_syslog = use_syslog;
	if (use_syslog)
		openlog(progname, LOG_PID, LOG_DAEMON);
}

void
log_set_level(enum log_level level)
{
	logger.level = level;
}

enum log_level
log_get_level(void)
{
	return logger.level;
}

int
log_level_parse(const char *name, enum log_level *out)
{
	if (strcmp(name, "error") == 0)
		*out = LOGL_ERROR;
	else if (strcmp(name, "warn") == 0 || strcmp(name, "warning") == 0)
		*out = LOGL_WARN;
	else if (strcmp(name, "info") == 0)
		*out = LOGL_INFO;
	else if (strcmp(name, "debug") == 0)
		*out = LOGL_DEBUG;
	else
		return -1;
	return 0;
}

const char *
log_level_name(enum log_level level)
{
	return level <= LOGL_DEBUG ? level_names[level] : "?";
}

static void
copy_context(char *dst, size_t size, const char *src)
{
	if (src == NULL) {
		dst[0] = '\0';
		return;
	}
	snprintf(dst, size, "%s", src);
}

void
log_set_stderr_hooks(void (*before)(void *arg), void (*after)(void *arg), void *arg)
{
	logger.before = before;
	logger.after = after;
	logger.hook_arg = arg;
}

void
log_set_run(const char *run_id)
{
	copy_context(logger.run, sizeof(logger.run), run_id);
}

void
log_set_user(const char *user)
{
	copy_context(logger.user, sizeof(logger.user), user);
}

void
log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	static const int syslog_prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	char msg[4096];
	char ctx[400] = "";
	size_t off = 0;

	if (level > logger.level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (logger.run[0] != '\0')
		off += (size_t)snprintf(ctx + off, sizeof(ctx) - off, " run=%s", logger.run);
	if (logger.user[0] != '\0' && off < sizeof(ctx))
		snprintf(ctx + off, sizeof(ctx) - off, " user=%s", logger.user);

	if (logger.use_syslog) {
		syslog(syslog_prio[level], "%s%s: %s", level_names[level], ctx, msg);
		return;
	}
	{
		char stamp[32];
		time_t now = time(NULL);
		struct tm tm;

		gmtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
		if (logger.before != NULL)
			logger.before(logger.hook_arg);
		fprintf(stderr, "%s %s[%ld] %s%s: %s\n", stamp, logger.progname,
		    (long)getpid(), level_names[level], ctx, msg);
		if (logger.after != NULL)
			logger.after(logger.hook_arg);
	}
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOGL_ERROR, fmt, ap);
	va_end(ap);
	exit(EXIT_FAILURE);
}
