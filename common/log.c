/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"

enum log_dest {
	DEST_STDERR,  /* a terminal or a file: timestamp and pid on each line */
	DEST_JOURNAL, /* stderr is the journal: <N> prefix, no timestamp, no pid */
	DEST_SYSLOG,  /* datagrams to the syslog socket */
};

static struct {
	const char *progname;
	enum log_level level;
	enum log_dest dest;
	int facility;  /* LOG_DAEMON ... , already shifted as <syslog.h> has it */
	int sock;      /* syslog socket, -1 until the first line */
	dev_t sock_dev; /* what sock was when we made it: an fd closed and */
	ino_t sock_ino; /* reused behind our back is never written to */
	char run[64];
	char user[256];
	void (*before)(void *);  /* log_set_stderr_hooks(): around each stderr line */
	void (*after)(void *);
	void *hook_arg;
} logger = { "smimesync", LOGL_INFO, DEST_STDERR, LOG_DAEMON, -1, 0, 0, "", "", NULL, NULL,
	NULL };

/* Serialises the syslog socket between threads; one line is one write. */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = {
	[LOGL_ERROR] = "error",
	[LOGL_WARN] = "warning",
	[LOGL_INFO] = "info",
	[LOGL_DEBUG] = "debug",
};
/* The priority of each level: syslog(3) and sd-daemon(3) use the same numbers. */
static const int level_prio[] = {
	[LOGL_ERROR] = LOG_ERR,
	[LOGL_WARN] = LOG_WARNING,
	[LOGL_INFO] = LOG_INFO,
	[LOGL_DEBUG] = LOG_DEBUG,
};

const char *const log_facility_names[] = {
	[LOGF_DAEMON] = "daemon",
	[LOGF_USER] = "user",
	[LOGF_AUTHPRIV] = "authpriv",
	[LOGF_LOCAL0] = "local0",
	[LOGF_LOCAL1] = "local1",
	[LOGF_LOCAL2] = "local2",
	[LOGF_LOCAL3] = "local3",
	[LOGF_LOCAL4] = "local4",
	[LOGF_LOCAL5] = "local5",
	[LOGF_LOCAL6] = "local6",
	[LOGF_LOCAL7] = "local7",
	NULL,
};
static const int facility_codes[] = {
	[LOGF_DAEMON] = LOG_DAEMON,
	[LOGF_USER] = LOG_USER,
	[LOGF_AUTHPRIV] = LOG_AUTHPRIV,
	[LOGF_LOCAL0] = LOG_LOCAL0,
	[LOGF_LOCAL1] = LOG_LOCAL1,
	[LOGF_LOCAL2] = LOG_LOCAL2,
	[LOGF_LOCAL3] = LOG_LOCAL3,
	[LOGF_LOCAL4] = LOG_LOCAL4,
	[LOGF_LOCAL5] = LOG_LOCAL5,
	[LOGF_LOCAL6] = LOG_LOCAL6,
	[LOGF_LOCAL7] = LOG_LOCAL7,
};

/*
 * systemd sets JOURNAL_STREAM=DEV:INO for a service whose stdout or stderr
 * is connected to the journal. It is inherited by everything the service
 * starts, so it only counts when it names our stderr: "smimesync run
 * 2>file" from a unit's shell must still get timestamps.
 */
static bool
stderr_is_journal(void)
{
	const char *v = getenv("JOURNAL_STREAM");
	uintmax_t dev, ino;
	struct stat st;
	char *end = NULL;

	if (v == NULL || *v == '\0')
		return false;
	errno = 0;
	dev = strtoumax(v, &end, 10);
	if (errno != 0 || end == v || *end != ':')
		return false;
	v = end + 1;
	ino = strtoumax(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0')
		return false;
	if (fstat(STDERR_FILENO, &st) != 0)
		return false;
	return (uintmax_t)st.st_dev == dev && (uintmax_t)st.st_ino == ino;
}

void
log_init(const char *progname, enum log_level level)
{
	logger.progname = progname;
	logger.level = level;
	logger.dest = stderr_is_journal() ? DEST_JOURNAL : DEST_STDERR;
}

void
log_to_syslog(enum log_facility facility)
{
	if ((size_t)facility >= sizeof(facility_codes) / sizeof(facility_codes[0]))
		facility = LOGF_DAEMON;
	logger.facility = facility_codes[facility];
	logger.dest = DEST_SYSLOG;
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

/*
 * Copy src to dst (size bytes, NUL-terminated, truncated) with every
 * control character made visible: a value from the directory or a server
 * can neither start a new line nor carry its own priority prefix.
 */
static void
append_visible(char *dst, size_t size, size_t *off, const char *src)
{
	static const char hex[] = "0123456789abcdef";

	for (const unsigned char *p = (const unsigned char *)src; *p != '\0'; p++) {
		char esc[5];
		size_t n = 0;

		if (*p == '\n') {
			esc[n++] = '\\';
			esc[n++] = 'n';
		} else if (*p == '\r') {
			esc[n++] = '\\';
			esc[n++] = 'r';
		} else if (*p == '\t') {
			esc[n++] = ' ';
		} else if (*p < 0x20 || *p == 0x7f) {
			esc[n++] = '\\';
			esc[n++] = 'x';
			esc[n++] = hex[*p >> 4];
			esc[n++] = hex[*p & 0xf];
		} else {
			esc[n++] = (char)*p;
		}
		if (*off + n >= size)
			break;
		memcpy(dst + *off, esc, n);
		*off += n;
	}
	dst[*off] = '\0';
}

/* Connect (again) to the syslog socket; caller holds log_lock. */
static int
syslog_connect(void)
{
	const char *path = getenv("SMIMESYNC_SYSLOG_SOCKET");
	struct sockaddr_un sa;
	struct stat st;
	int fd;

	if (path == NULL || *path == '\0')
		path = "/dev/log";
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -1;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || fstat(fd, &st) != 0) {
		close(fd);
		return -1;
	}
	logger.sock = fd;
	logger.sock_dev = st.st_dev;
	logger.sock_ino = st.st_ino;
	return 0;
}

/* Is logger.sock still the socket we connected (not closed and reused)? */
static bool
syslog_sock_ours(void)
{
	struct stat st;

	return logger.sock >= 0 && fstat(logger.sock, &st) == 0 && S_ISSOCK(st.st_mode) &&
	    st.st_dev == logger.sock_dev && st.st_ino == logger.sock_ino;
}

/*
 * One datagram, as glibc's syslog(3) writes it: "<PRI>Mmm dd hh:mm:ss
 * TAG[PID]: text" in local time. A daemon restart of the syslog server
 * (or journald) breaks the connection: connect again once, then give up
 * on this line. Caller holds log_lock. Returns 0 when the line was taken.
 */
static int
syslog_send(int prio, const char *text)
{
	char line[4800];
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	int len;

	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);
	len = snprintf(line, sizeof(line), "<%d>%s %s[%ld]: %s", logger.facility | prio, stamp,
	    logger.progname, (long)getpid(), text);
	if (len < 0)
		return -1;
	if ((size_t)len >= sizeof(line))
		len = (int)sizeof(line) - 1;
	for (int attempt = 0; attempt < 2; attempt++) {
		if (!syslog_sock_ours()) {
			/* Never close() a number we no longer own: it may be someone's. */
			logger.sock = -1;
			if (syslog_connect() != 0)
				return -1;
		}
		if (send(logger.sock, line, (size_t)len, MSG_NOSIGNAL) == len)
			return 0;
		close(logger.sock);
		logger.sock = -1;
	}
	return -1;
}

void
log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	char msg[4096];
	char text[4600];
	size_t off = 0;
	int saved_errno = errno;

	if (level > logger.level)
		return;
	if (level > LOGL_DEBUG)
		level = LOGL_DEBUG;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* "info run=ID user=U: message", control characters made visible. */
	append_visible(text, sizeof(text), &off, level_names[level]);
	if (logger.run[0] != '\0') {
		append_visible(text, sizeof(text), &off, " run=");
		append_visible(text, sizeof(text), &off, logger.run);
	}
	if (logger.user[0] != '\0') {
		append_visible(text, sizeof(text), &off, " user=");
		append_visible(text, sizeof(text), &off, logger.user);
	}
	append_visible(text, sizeof(text), &off, ": ");
	append_visible(text, sizeof(text), &off, msg);

	pthread_mutex_lock(&log_lock);
	if (logger.dest == DEST_SYSLOG && syslog_send(level_prio[level], text) == 0) {
		pthread_mutex_unlock(&log_lock);
		errno = saved_errno;
		return;
	}
	if (logger.dest == DEST_JOURNAL) {
		fprintf(stderr, "<%d>%s\n", level_prio[level], text);
	} else {
		char stamp[32];
		time_t now = time(NULL);
		struct tm tm;

		gmtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
		/* Inside the lock: a progress line steps aside for exactly one line. */
		if (logger.before != NULL)
			logger.before(logger.hook_arg);
		fprintf(stderr, "%s %s[%ld] %s\n", stamp, logger.progname, (long)getpid(), text);
		if (logger.after != NULL)
			logger.after(logger.hook_arg);
	}
	pthread_mutex_unlock(&log_lock);
	errno = saved_errno;
}

void
log_plain(enum log_level level, const char *fmt, ...)
{
	char msg[4096];
	char text[4600];
	size_t off = 0;
	va_list ap;

	if (level > LOGL_DEBUG)
		level = LOGL_DEBUG;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	append_visible(text, sizeof(text), &off, msg);
	pthread_mutex_lock(&log_lock);
	if (stderr_is_journal()) {
		fprintf(stderr, "<%d>%s\n", level_prio[level], text);
	} else {
		if (logger.before != NULL)
			logger.before(logger.hook_arg);
		fprintf(stderr, "%s\n", text);
		if (logger.after != NULL)
			logger.after(logger.hook_arg);
	}
	pthread_mutex_unlock(&log_lock);
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
