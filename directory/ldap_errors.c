/* SPDX-License-Identifier: ISC */
/*
 * LDAP result codes as typed errors with messages an administrator can
 * act on: which server, which operation on which DN, what the server said,
 * and what to change. The backend's dialect may know better advice for
 * its kind of server (Active Directory's bind sub-codes, its limits); the
 * advice here holds for any LDAP server.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ldap.h>

#include "common/xalloc.h"
#include "directory/ldap.h"

char *
dir_ldap_diag(LDAP *ld)
{
	char *msg = NULL;
	char *out = NULL;

	if (ld == NULL)
		return NULL;
	if (ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &msg) != LDAP_OPT_SUCCESS ||
	    msg == NULL)
		return NULL;
	if (*msg != '\0')
		out = dir_printable(msg, strlen(msg), 512);
	ldap_memfree(msg);
	return out;
}

static const char *
default_hint(const struct dir_ldap *dl, int rc, enum dir_status *st)
{
	switch (rc) {
	case LDAP_SERVER_DOWN:
	case LDAP_CONNECT_ERROR:
	case LDAP_TIMEOUT:
	case LDAP_UNAVAILABLE:
	case LDAP_BUSY:
		*st = DIR_UNREACHABLE;
		return "check that the server runs and is reachable at this URI; for a TLS "
		       "error check tls_ca_file and that the server certificate names this host";
	case LDAP_INVALID_CREDENTIALS:
		*st = DIR_AUTH_FAILED;
		if (dl->conf->sasl_mech != NULL)
			return "the server refused the SASL identity; check sasl_mech and the "
			       "server's authz-regexp mapping";
		return "check bind_dn and the password in bind_password_file";
	case LDAP_INAPPROPRIATE_AUTH:
		*st = DIR_AUTH_FAILED;
		return "the server does not allow this kind of bind for this DN; check bind_dn "
		       "and the password file, or use sasl_mech";
	case LDAP_STRONG_AUTH_REQUIRED:
	case LDAP_CONFIDENTIALITY_REQUIRED:
		*st = DIR_AUTH_FAILED;
		return "the server requires a protected connection: use ldaps:// or "
		       "starttls = required (StartTLS)";
	case LDAP_AUTH_UNKNOWN:
	case LDAP_AUTH_METHOD_NOT_SUPPORTED:
		*st = DIR_AUTH_FAILED;
		return "the SASL mechanism is not available on the client or the server; "
		       "check sasl_mech and that the Cyrus SASL module is installed";
	case LDAP_REFERRAL:
		*st = DIR_BAD_CONFIG;
		return "the server answered with a referral, which is never followed (it "
		       "would send our credentials elsewhere): set base_dn and group_dn inside "
		       "a naming context this server holds";
	case LDAP_NO_SUCH_OBJECT:
		*st = DIR_BAD_CONFIG;
		return "the entry does not exist (or the service account may not see it); "
		       "check base_dn and group_dn";
	case LDAP_INVALID_DN_SYNTAX:
		*st = DIR_BAD_CONFIG;
		return "this is not a valid DN; check base_dn, bind_dn and group_dn";
	case LDAP_FILTER_ERROR:
		*st = DIR_BAD_CONFIG;
		return "check user_filter (RFC 4515 syntax, in parentheses)";
	case LDAP_INSUFFICIENT_ACCESS:
		*st = DIR_FAILED;
		return "the service account lacks the access rights for this operation";
	case LDAP_SIZELIMIT_EXCEEDED:
	case LDAP_ADMINLIMIT_EXCEEDED:
		*st = DIR_FAILED;
		return "the server limits how many entries we may read; lower page_size or "
		       "raise the size limit for the service account";
	case LDAP_TIMELIMIT_EXCEEDED:
		*st = DIR_FAILED;
		return "the server ran out of time; raise timeout or the server's time limit";
	default:
		*st = DIR_FAILED;
		return NULL;
	}
}

/* One TCP connect to addr within timeout_ms: 0, or errno. */
static int
tcp_connect_once(const struct addrinfo *ai, int timeout_ms)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    ai->ai_protocol);
	struct pollfd pfd;
	socklen_t len = sizeof(int);
	int err = 0;

	if (fd < 0)
		return errno;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		err = errno;
		if (err == EINPROGRESS) {
			pfd.fd = fd;
			pfd.events = POLLOUT;
			if (poll(&pfd, 1, timeout_ms) <= 0)
				err = ETIMEDOUT;
			else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
				err = errno;
		}
	}
	close(fd);
	return err;
}

/*
 * When libldap says only "Can't contact LDAP server", was the server not
 * there at all, or did it answer and the TLS handshake fail? One TCP
 * connect to the URI's host and port tells: 1 reachable, 0 not (why says
 * what connect() said), -1 cannot tell (ldapi://, a URI without a host).
 */
static int
tcp_reachable(const char *uri, int timeout_s, char *why, size_t size)
{
	LDAPURLDesc *lud = NULL;
	struct addrinfo hints, *res = NULL;
	char port[16];
	int rc = -1, err = 0, gai;

	if (ldap_url_parse(uri, &lud) != LDAP_URL_SUCCESS || lud->lud_host == NULL ||
	    lud->lud_host[0] == '\0' || strcasecmp(lud->lud_scheme, "ldapi") == 0)
		goto out;
	snprintf(port, sizeof(port), "%d", lud->lud_port > 0 ? lud->lud_port :
	    strcasecmp(lud->lud_scheme, "ldaps") == 0 ? 636 : 389);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	gai = getaddrinfo(lud->lud_host, port, &hints, &res);
	if (gai != 0) {
		snprintf(why, size, "cannot resolve %s: %s", lud->lud_host, gai_strerror(gai));
		rc = 0;
		goto out;
	}
	for (const struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
		err = tcp_connect_once(ai, (timeout_s > 0 ? timeout_s : 5) * 1000);
		if (err == 0) {
			rc = 1;
			goto out;
		}
	}
	snprintf(why, size, "cannot connect to %s port %s: %s", lud->lud_host, port,
	    strerror(err));
	rc = 0;
out:
	if (res != NULL)
		freeaddrinfo(res);
	ldap_free_urldesc(lud);
	return rc;
}

enum dir_status
dir_ldap_fail(struct dir_ldap *dl, int rc, const char *op, const char *dn,
    const char *hint, struct errbuf *e)
{
	enum dir_status st = DIR_FAILED;
	const char *dhint = default_hint(dl, rc, &st);
	char *diag = dir_ldap_diag(dl->ld);
	char *tls_hint = NULL;

	char why[300] = "";
	int reachable = -1;

	if (hint == NULL && dl->dialect->hint != NULL)
		hint = dl->dialect->hint(dl, rc, diag);
	if (hint == NULL)
		hint = dhint;
	/*
	 * "Can't contact LDAP server" covers a server that is not there and a
	 * TLS handshake that failed; the advice for one is wrong for the
	 * other. A refused or unroutable connection is said as such, and never
	 * as a certificate problem.
	 */
	if (rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR)
		reachable = tcp_reachable(dl->uri, dl->timeout, why, sizeof(why));
	if (reachable == 0) {
		free(diag);
		diag = xstrdup(why);
		st = DIR_UNREACHABLE;
		hint = "nothing answers at this address: check that the server runs, that uri "
		    "names the right host and port, and that no firewall blocks the port "
		    "(this is not a TLS or certificate problem)";
	}
	/*
	 * With GnuTLS underneath, libldap reports a failed handshake or an
	 * unverifiable certificate only as "(unknown error code)": say what it
	 * almost always means instead of passing that on.
	 */
	else if (diag != NULL && strcmp(diag, "(unknown error code)") == 0 && dl->tls &&
	    (rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR)) {
		free(diag);
		diag = xstrdup("TLS handshake failed");
		tls_hint = xasprintf("the server certificate is usually not signed by a CA "
		    "in tls_ca_file (%s), does not name the host in uri, or has expired; "
		    "check with: openssl s_client -connect HOST:PORT%s -CAfile %s",
		    dl->conf->tls_ca_file != NULL ? dl->conf->tls_ca_file : "system default",
		    strncasecmp(dl->uri, "ldaps:", 6) == 0 ? "" : " -starttls ldap",
		    dl->conf->tls_ca_file != NULL ? dl->conf->tls_ca_file : "CAFILE");
		hint = tls_hint;
	}
	err_set(e, "%s: %s%s%s: %s%s%s%s%s%s", dl->uri, op, dn != NULL && dn[0] != '\0' ?
	    " " : "", dn != NULL ? dn : "", ldap_err2string(rc), diag != NULL ? " (" : "",
	    diag != NULL ? diag : "", diag != NULL ? ")" : "", hint != NULL ? "; " : "",
	    hint != NULL ? hint : "");
	free(diag);
	free(tls_hint);
	return st;
}
