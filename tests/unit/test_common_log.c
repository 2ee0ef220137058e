/* SPDX-License-Identifier: ISC */
/*
 * common/log: the three forms of a log line (issue #18, item 4).
 *
 * - stderr that JOURNAL_STREAM names (a file here, as journald's stream
 *   socket would be): "<N>level ...: message", no timestamp, no pid;
 * - stderr that JOURNAL_STREAM does not name: timestamp and pid again;
 * - syslog: one datagram per line on a socket this test owns, with the
 *   configured facility and the level's priority; the socket's fd closed
 *   and reused for another socket behind the logger's back (as the signer
 *   child's fd shuffle does) never receives a log line; a syslog server that went away costs
 *   no line (it goes to stderr).
 * And everywhere: a message with a newline and a forged "<0>" stays one
 * line with our priority.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include "check.h"
#include "common/log.h"

static char tmpdir[] = "/tmp/test_common_log.XXXXXX";
static int saved_stderr = -1;

/* Point stderr at a new file path; returns its "dev:ino" for JOURNAL_STREAM. */
static void
stderr_to(const char *path, char *stream, size_t size)
{
	struct stat st;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || dup2(fd, STDERR_FILENO) < 0 || fstat(STDERR_FILENO, &st) != 0) {
		perror(path);
		exit(99);
	}
	close(fd);
	snprintf(stream, size, "%lu:%lu", (unsigned long)st.st_dev, (unsigned long)st.st_ino);
}

static void
stderr_back(void)
{
	fflush(stderr);
	dup2(saved_stderr, STDERR_FILENO);
}

static char *
slurp(const char *path)
{
	static char buf[16384];
	FILE *f = fopen(path, "r");
	size_t n;

	buf[0] = '\0';
	if (f == NULL)
		return buf;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static size_t
count_lines(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

static void
test_journal(void)
{
	char path[256], stream[64];
	char *out;

	snprintf(path, sizeof(path), "%s/journal", tmpdir);
	stderr_to(path, stream, sizeof(stream));
	setenv("JOURNAL_STREAM", stream, 1);
	log_init("smimesync", LOGL_INFO);
	log_set_run("20261123T185000Z-ab12");
	log_error("the directory refused the bind");
	log_set_user("alice@example.org");
	log_warn("no usable mail");
	log_info("certificate issued");
	log_debug("not shown at level info");
	log_set_user(NULL);
	/* A hostile value: a second line with the highest priority. */
	log_info("display name %s", "Eve\n<0>emergency: the CA key is compromised\r");
	log_set_run(NULL);
	stderr_back();
	out = slurp(path);
	CHECK_STREQ(out,
	    "<3>error run=20261123T185000Z-ab12: the directory refused the bind\n"
	    "<4>warning run=20261123T185000Z-ab12 user=alice@example.org: no usable mail\n"
	    "<6>info run=20261123T185000Z-ab12 user=alice@example.org: certificate issued\n"
	    "<6>info run=20261123T185000Z-ab12: display name "
	    "Eve\\n<0>emergency: the CA key is compromised\\r\n");

	/* At debug level the debug line is there, with priority 7. */
	stderr_to(path, stream, sizeof(stream));
	setenv("JOURNAL_STREAM", stream, 1);
	log_init("smimesync", LOGL_DEBUG);
	log_debug("step %d", 3);
	stderr_back();
	CHECK_STREQ(slurp(path), "<7>debug: step 3\n");
}

/* JOURNAL_STREAM inherited from a unit, but stderr is a file: timestamps. */
static void
test_not_journal(void)
{
	char path[256], stream[64], want[64];
	char *out;

	snprintf(path, sizeof(path), "%s/plain", tmpdir);
	stderr_to(path, stream, sizeof(stream));
	setenv("JOURNAL_STREAM", "1:2", 1);
	log_init("smimesync", LOGL_INFO);
	log_error("plain");
	unsetenv("JOURNAL_STREAM");
	log_init("smimesync", LOGL_INFO);
	log_warn("no journal at all");
	setenv("JOURNAL_STREAM", "garbage", 1);
	log_init("smimesync", LOGL_INFO);
	log_info("garbage in JOURNAL_STREAM");
	unsetenv("JOURNAL_STREAM");
	stderr_back();
	out = slurp(path);
	CHECK_INTEQ(count_lines(out), 3);
	CHECK(out[0] >= '2' && out[4] == '-' && out[19] == 'Z');
	snprintf(want, sizeof(want), " smimesync[%ld] error: plain\n", (long)getpid());
	CHECK_CONTAINS(out, want);
	CHECK_CONTAINS(out, "] warning: no journal at all\n");
	CHECK_CONTAINS(out, "] info: garbage in JOURNAL_STREAM\n");
	CHECK(strchr(out, '<') == NULL);
}

/* A datagram server at path; returns its fd. */
static int
dgram_server(const char *path)
{
	struct sockaddr_un sa;
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	unlink(path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		perror(path);
		exit(99);
	}
	return fd;
}

/* The next datagram, without waiting; "" when there is none. */
static const char *
next_dgram(int fd)
{
	static char buf[8192];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

/* The fd the logger holds: the one connected to path. */
static int
find_logger_fd(const char *path)
{
	for (int fd = 3; fd < 256; fd++) {
		struct sockaddr_un sa;
		socklen_t len = sizeof(sa);

		if (getpeername(fd, (struct sockaddr *)&sa, &len) == 0 && sa.sun_family == AF_UNIX &&
		    strcmp(sa.sun_path, path) == 0)
			return fd;
	}
	return -1;
}

static void
test_syslog(void)
{
	char sock[256], path[256], stream[64], want[256];
	const char *d;
	int srv, lfd, pipefd[2];
	char junk[64];

	snprintf(sock, sizeof(sock), "%s/log.sock", tmpdir);
	snprintf(path, sizeof(path), "%s/fallback", tmpdir);
	srv = dgram_server(sock);
	setenv("SMIMESYNC_SYSLOG_SOCKET", sock, 1);
	stderr_to(path, stream, sizeof(stream));
	log_init("smimesync", LOGL_INFO);
	log_to_syslog(LOGF_LOCAL3);
	log_set_run("20261123T185000Z-ab12");
	log_error("cannot reach ldap://dc1.example.org: Can't contact LDAP server");
	d = next_dgram(srv);
	/* local3 (19 << 3) | err (3) = 155 */
	snprintf(want, sizeof(want), " smimesync[%ld]: error run=20261123T185000Z-ab12: cannot "
	    "reach ldap://dc1.example.org: Can't contact LDAP server", (long)getpid());
	CHECK(strncmp(d, "<155>", 5) == 0);
	CHECK_CONTAINS(d, want);
	/* "Mmm dd hh:mm:ss" as syslog(3) writes it. */
	CHECK(strlen(d) > 21 && d[8] == ' ' && d[11] == ' ' && d[14] == ':' && d[17] == ':');
	log_set_run(NULL);
	log_warn("w");
	CHECK(strncmp(next_dgram(srv), "<156>", 5) == 0);
	log_info("i");
	CHECK(strncmp(next_dgram(srv), "<158>", 5) == 0);
	log_debug("not at level info");
	CHECK_STREQ(next_dgram(srv), "");
	log_info("a\nb");
	CHECK_CONTAINS(next_dgram(srv), "info: a\\nb");
	log_to_syslog(LOGF_DAEMON);
	log_error("daemon");
	CHECK(strncmp(next_dgram(srv), "<27>", 4) == 0);

	/* Put another socket on the logger's fd number, as the signer child
	 * moves its socket pair to fd 3: that peer must hear nothing and the
	 * line must still reach the server. */
	lfd = find_logger_fd(sock);
	CHECK(lfd >= 0);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, pipefd) != 0 || dup2(pipefd[1], lfd) < 0) {
		perror("socketpair");
		exit(99);
	}
	log_error("after the fd shuffle");
	CHECK_CONTAINS(next_dgram(srv), "error: after the fd shuffle");
	CHECK(recv(pipefd[0], junk, sizeof(junk), MSG_DONTWAIT) < 0 && errno == EAGAIN);
	close(pipefd[0]);
	close(pipefd[1]);
	if (lfd != pipefd[1])
		close(lfd);

	/* The server goes away: the line lands on stderr, not in the void. */
	close(srv);
	unlink(sock);
	log_error("syslog is down");
	stderr_back();
	CHECK_CONTAINS(slurp(path), "] error: syslog is down\n");

	/* It comes back: lines go to it again. */
	srv = dgram_server(sock);
	log_warn("syslog is back");
	CHECK_CONTAINS(next_dgram(srv), "warning: syslog is back");
	close(srv);
	unsetenv("SMIMESYNC_SYSLOG_SOCKET");
	log_init("test_common_log", LOGL_INFO);
}

static void
test_facility_names(void)
{
	size_t n = 0;

	while (log_facility_names[n] != NULL)
		n++;
	CHECK_INTEQ(n, LOGF_LOCAL7 + 1);
	CHECK_STREQ(log_facility_names[LOGF_DAEMON], "daemon");
	CHECK_STREQ(log_facility_names[LOGF_LOCAL7], "local7");
}

int
main(void)
{
	char cmd[300];
	int rc;

	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 99;
	}
	saved_stderr = dup(STDERR_FILENO);
	test_journal();
	test_not_journal();
	test_syslog();
	test_facility_names();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	rc = check_finish();
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	return rc;
}
