/* SPDX-License-Identifier: ISC */
/* The signer's sockets: a socketpair, or a listening socket (signer/listen.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/strutil.h"
#include "signer/listen.h"
#include "smime/signer_proto.h"

/* The first descriptor systemd passes (SD_LISTEN_FDS_START). */
#define LISTEN_FDS_START 3

static volatile sig_atomic_t stopping;

static void
on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

/* Read one request, answer it. 0 go on, 1 the peer is done, -1 drop it. */
static int
one_request(int fd, struct sctx *c, struct sconn *conn, int timeout_ms)
{
	unsigned char *body = NULL;
	size_t len = 0;
	struct buf out;
	int got = sp_recv(fd, &body, &len, timeout_ms);
	int rc = 0;

	if (got == 1)
		return 1;
	if (got != 0) {
		log_warn("cannot read a request: %s", got == -2 ? "the client stalled" :
		    strerror(errno));
		return -1;
	}
	buf_init(&out, 0);
	sctx_serve(c, conn, body, len, &out);
	OPENSSL_cleanse(body, len);
	free(body);
	if (sp_send(fd, &out) != 0) {
		log_warn("cannot send a reply: %s", strerror(errno));
		rc = -1;
	}
	if (out.data != NULL)
		OPENSSL_cleanse(out.data, out.cap);
	buf_free(&out);
	return rc;
}

int
listen_child(int fd, struct sctx *c)
{
	struct sconn conn;

	memset(&conn, 0, sizeof(conn));
	for (;;) {
		int rc = one_request(fd, c, &conn, -1);

		if (rc == 1)
			return 0; /* smimesync closed the socket: done */
		if (rc < 0)
			return 1;
	}
}

static int
from_systemd(int *out, struct errbuf *e)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	int64_t p = 0, n = 0;
	int type = 0, listening = 0;
	socklen_t len = sizeof(type);

	if (pid == NULL || fds == NULL)
		return 0;
	if (parse_int64(pid, 1, INT32_MAX, &p) != 0 || (pid_t)p != getpid())
		return 0; /* meant for another process */
	(void)unsetenv("LISTEN_PID");
	(void)unsetenv("LISTEN_FDS");
	(void)unsetenv("LISTEN_FDNAMES");
	if (parse_int64(fds, 0, 64, &n) != 0 || n != 1) {
		err_set(e, "systemd passed %s sockets; the signer takes exactly one (one "
		    "ListenStream= in smimesync-signer.socket)", fds);
		return -1;
	}
	if (getsockopt(LISTEN_FDS_START, SOL_SOCKET, SO_TYPE, &type, &len) != 0 ||
	    type != SOCK_STREAM ||
	    getsockopt(LISTEN_FDS_START, SOL_SOCKET, SO_ACCEPTCONN, &listening,
	    &(socklen_t){ sizeof(listening) }) != 0 || !listening) {
		err_set(e, "the socket systemd passed is not a listening stream socket");
		return -1;
	}
	(void)fcntl(LISTEN_FDS_START, F_SETFD, FD_CLOEXEC);
	*out = LISTEN_FDS_START;
	return 1;
}

int
listen_socket(const char *path, int *out, struct errbuf *e)
{
	struct sockaddr_un sa;
	struct stat st;
	int got = from_systemd(out, e);
	int fd;

	if (got != 0)
		return got < 0 ? -1 : 0;
	if (path == NULL) {
		err_set(e, "no socket: start smimesync-signer serve from smimesync-signer.socket "
		    "(systemd), or give --socket PATH");
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		err_set(e, "%s: too long for a Unix socket path", path);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path));
	/* A socket left by an earlier run goes; anything else stays and is an error. */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		(void)unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    chmod(path, 0666) != 0 || listen(fd, 16) != 0) {
		err_set(e, "cannot listen on %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*out = fd;
	return 0;
}

/* May this peer talk to us? Refused ones get one message, then the door. */
static bool
peer_allowed(int fd, bool has_client, uid_t client_uid, struct sconn *conn)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct buf b;
	char msg[256];

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
		log_warn("cannot learn who connected (SO_PEERCRED): %s", strerror(errno));
		return false;
	}
	conn->has_uid = true;
	conn->uid = cred.uid;
	if (cred.uid == 0 || (has_client && cred.uid == client_uid))
		return true;
	log_warn("refused a connection from uid %ld (pid %ld): only root%s may use the signer",
	    (long)cred.uid, (long)cred.pid, has_client ? " and client_user" : "");
	snprintf(msg, sizeof(msg), "uid %ld may not use this signer: its policy lets only root%s "
	    "connect (client_user)", (long)cred.uid, has_client ? " and client_user" : "");
	/*
	 * Take its greeting first: closing on a request not yet read would
	 * reset the connection, and the client would see no reason at all.
	 */
	{
		unsigned char *body = NULL;
		size_t body_len = 0;

		if (sp_recv(fd, &body, &body_len, 1000) == 0)
			free(body);
	}
	buf_init(&b, 0);
	sp_put_u32(&b, SIGNER_ERR);
	sp_put_str(&b, msg);
	if (sp_send(fd, &b) != 0)
		log_debug("cannot tell uid %ld why: %s", (long)cred.uid, strerror(errno));
	buf_free(&b);
	return false;
}

int
listen_serve(int lfd, struct sctx *c, bool has_client, uid_t client_uid)
{
	struct pollfd pfd[LISTEN_MAX_CLIENTS + 1];
	struct sconn conns[LISTEN_MAX_CLIENTS + 1];
	struct sigaction sa;
	nfds_t n = 1;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: poll() must return to see the flag. */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	pfd[0].fd = lfd;
	pfd[0].events = POLLIN;
	while (!stopping) {
		int r = poll(pfd, n, -1);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			log_error("poll: %s", strerror(errno));
			return 1;
		}
		for (nfds_t i = 1; i < n; i++) {
			int rc;

			if ((pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0)
				continue;
			rc = one_request(pfd[i].fd, c, &conns[i], LISTEN_READ_TIMEOUT_S * 1000);
			if (rc == 0)
				continue;
			close(pfd[i].fd);
			pfd[i] = pfd[n - 1];
			conns[i] = conns[n - 1];
			n--;
			i--;
		}
		if (pfd[0].revents & POLLIN) {
			int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

			if (fd < 0) {
				if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED)
					log_warn("accept: %s", strerror(errno));
				continue;
			}
			if (n > LISTEN_MAX_CLIENTS) {
				log_warn("refused a connection: %d clients already", LISTEN_MAX_CLIENTS);
				close(fd);
				continue;
			}
			memset(&conns[n], 0, sizeof(conns[n]));
			if (!peer_allowed(fd, has_client, client_uid, &conns[n])) {
				close(fd);
				continue;
			}
			pfd[n].fd = fd;
			pfd[n].events = POLLIN;
			pfd[n].revents = 0;
			n++;
		}
	}
	log_info("stopping on a signal; %lu client%s connected", (unsigned long)(n - 1),
	    n - 1 == 1 ? "" : "s");
	for (nfds_t i = 1; i < n; i++)
		close(pfd[i].fd);
	return 0;
}
