/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <netinet/in.h>

/* <openssl/ssl.h> before <libesmtp.h>: it declares smtp_starttls_set_ctx()
 * only when it sees OpenSSL. */
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <auth-client.h>
#include <libesmtp.h>

#include "common/fileutil.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "mail/mime.h"
#include "mail/nodelay.h"
#include "mail/transport.h"
#include "mail/transport_impl.h"

/*
 * How this maps onto libESMTP 1.1, and the traps in it:
 *
 * TLS. We hand libESMTP our own SSL_CTX (TLS 1.2, see make_ssl_ctx();
 * [mail] tls_ca_file or the system store; SSL_VERIFY_PEER) with the
 * expected host name or IP address set in its X509_VERIFY_PARAM, so
 * OpenSSL itself checks chain and name during the handshake and a bad certificate aborts it; our verify
 * callback records why. libESMTP then runs its own name check, which only
 * knows DNS names (no IP SANs) and reports a mismatch as
 * SMTP_EV_WRONG_PEER_CERTIFICATE; we accept that event only when
 * OpenSSL's stricter check (RFC 6125, IP SANs included) already passed.
 * Starttls_REQUIRED makes libESMTP quit when STARTTLS is not offered
 * (SMTP_EV_EXTNA_STARTTLS) before any MAIL command.
 *
 * AUTH. libESMTP silently goes on WITHOUT authentication when AUTH fails
 * or no mechanism fits, and the server then refuses MAIL FROM with a 5xx,
 * which would look like a permanent failure of every message. So we watch
 * the protocol with a monitor callback (never logging it: it carries the
 * credentials) to learn whether AUTH succeeded, and when it did not, every
 * unsent job is RETRY with the server's AUTH reply as the reason: a wrong
 * password is an operator's fix, not a reason to drop a user's mail.
 * AUTH is configured only together with STARTTLS (mail_transport_open
 * refuses smtp_user with starttls = off), and libESMTP issues AUTH only
 * after the TLS restart because STARTTLS is required.
 *
 * Outcomes are read per message after smtp_start_session(), which
 * "succeeds" even when everything was refused: the MAIL FROM status, the
 * recipient status and the transfer status after DATA, 2xx/4xx/5xx.
 * A job that has no status at all never got that far: the session failed,
 * and the job is RETRY with the session's reason.
 *
 * One transport runs one batch at a time (the SSL_CTX carries a pointer to
 * the running batch for the verify callback).
 */

#define CHUNK (64 * 1024)

struct smtp_transport {
	struct conf_mail conf; /* copy; the strings are borrowed from the config */
	const char *password;  /* borrowed */
	char hostport[320];
	SSL_CTX *ssl_ctx;      /* NULL with starttls = off */
};

/* What one batch learned from callbacks. */
struct batch {
	struct smtp_transport *t;
	char tls_problem[512];
	bool tls_ok;
	bool in_auth;
	bool auth_tried;
	bool authenticated;
	char auth_reply[300];
	char last_reply[300];
};

static int ssl_ex_index = -1;

static void
copy_text(char *dst, size_t size, const char *src, size_t len)
{
	size_t n = len < size - 1 ? len : size - 1;

	memcpy(dst, src, n);
	dst[n] = '\0';
	/* Server text goes into logs and reports: keep it on one line. */
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)dst[i] < 0x20)
			dst[i] = ' ';
	while (n > 0 && dst[n - 1] == ' ')
		dst[--n] = '\0';
}

static int
verify_cb(int ok, X509_STORE_CTX *xs)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct batch *b;
	char subject[256] = "";
	X509 *cert;
	int err;

	if (ok || ssl == NULL)
		return ok;
	b = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ssl_ex_index);
	if (b == NULL || b->tls_problem[0] != '\0')
		return ok;
	err = X509_STORE_CTX_get_error(xs);
	cert = X509_STORE_CTX_get_current_cert(xs);
	if (cert != NULL)
		X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof(subject));
	snprintf(b->tls_problem, sizeof(b->tls_problem),
	    "TLS certificate of %s not accepted: %s (certificate %s, depth %d); check "
	    "[mail] tls_ca_file and smtp_host", b->t->hostport,
	    X509_verify_cert_error_string(err), subject, X509_STORE_CTX_get_error_depth(xs));
	return ok;
}

/* Never prompt on a terminal for a key pass phrase: we are a daemon. */
static int
no_password_cb(char *buf, int size, int rwflag, void *arg)
{
	return 0;
}

static bool
is_ip_literal(const char *host)
{
	unsigned char tmp[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, tmp) == 1 || inet_pton(AF_INET6, host, tmp) == 1;
}

static int
make_ssl_ctx(struct smtp_transport *t, struct errbuf *e)
{
	X509_VERIFY_PARAM *param;
	SSL_CTX *ctx = NULL;
	int rc = -1;

	if (ssl_ex_index < 0)
		ssl_ex_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL || SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
		err_set(e, "cannot create a TLS context for SMTP");
		err_add_openssl(e);
		goto out;
	}
	SSL_CTX_set_default_passwd_cb(ctx, no_password_cb);
	/*
	 * TLS 1.2 only, on purpose. With TLS 1.3 the server sends its
	 * session tickets after the handshake; when they arrive while
	 * libESMTP 1.1 waits between STARTTLS and EHLO, its poll loop takes
	 * them for a reply, blocks in SSL_read until the timeout and then
	 * reports a dropped connection. We reproduced this with a slow
	 * client (valgrind) against aiosmtpd; a host busy generating keys
	 * is just as slow. TLS 1.2 has no post-handshake messages.
	 */
	if (SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION) != 1) {
		err_set(e, "cannot limit the SMTP TLS context to TLS 1.2");
		err_add_openssl(e);
		goto out;
	}
	if (t->conf.tls_ca_file != NULL) {
		if (SSL_CTX_load_verify_locations(ctx, t->conf.tls_ca_file, NULL) != 1) {
			err_set(e, "[mail] tls_ca_file %s: cannot load CA certificates",
			    t->conf.tls_ca_file);
			err_add_openssl(e);
			goto out;
		}
	} else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
		err_set(e, "cannot load the system CA store for SMTP");
		err_add_openssl(e);
		goto out;
	}
	if (t->conf.tls_verify) {
		param = SSL_CTX_get0_param(ctx);
		X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		if ((is_ip_literal(t->conf.smtp_host) ?
		    X509_VERIFY_PARAM_set1_ip_asc(param, t->conf.smtp_host) :
		    X509_VERIFY_PARAM_set1_host(param, t->conf.smtp_host, 0)) != 1) {
			err_set(e, "cannot set up host name verification for %s",
			    t->conf.smtp_host);
			err_add_openssl(e);
			goto out;
		}
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, verify_cb);
	} else {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	}
	t->ssl_ctx = ctx;
	ctx = NULL;
	rc = 0;
out:
	SSL_CTX_free(ctx);
	return rc;
}

int
smtp_transport_open(const struct conf_mail *conf, const char *password,
    struct smtp_transport **out, struct errbuf *e)
{
	struct smtp_transport *t = NULL;
	int rc = -1;
	static bool auth_initialised;

	*out = NULL;
	if (conf->smtp_host == NULL || *conf->smtp_host == '\0' || conf->smtp_port <= 0 ||
	    conf->smtp_port > 65535) {
		err_set(e, "[mail] smtp_host and smtp_port must name an SMTP server");
		goto out;
	}
	/* No default here: the option table's is in every loaded configuration. */
	if (conf->timeout <= 0) {
		err_set(e, "[mail] timeout must be at least 1s");
		goto out;
	}
	if (conf->smtp_user != NULL && conf->starttls == TLS_MODE_OFF) {
		err_set(e, "[mail] smtp_user is set but starttls = off: refusing to send the "
		    "SMTP password in clear text; set starttls = required");
		goto out;
	}
	if (conf->smtp_user != NULL && password == NULL) {
		err_set(e, "[mail] smtp_user is set but no password was given "
		    "(smtp_password_file)");
		goto out;
	}
	t = xcalloc(1, sizeof(*t));
	t->conf = *conf;
	t->password = password;
	snprintf(t->hostport, sizeof(t->hostport), "%s:%lld", conf->smtp_host,
	    (long long)conf->smtp_port);
	if (conf->starttls != TLS_MODE_OFF) {
		if (make_ssl_ctx(t, e) != 0)
			goto out;
		if (!conf->tls_verify)
			log_warn("SMTP: TLS certificate verification for %s is OFF "
			    "([mail] tls_verify = no): anyone on the path can read the mail",
			    t->hostport);
	} else {
		log_warn("SMTP: starttls = off: mail to %s travels unencrypted", t->hostport);
	}
	if (!auth_initialised) {
		auth_client_init();
		smtp_starttls_set_password_cb(no_password_cb, NULL);
		auth_initialised = true;
	}
	*out = t;
	t = NULL;
	rc = 0;
out:
	smtp_transport_close(t);
	return rc;
}

void
smtp_transport_close(struct smtp_transport *t)
{
	if (t == NULL)
		return;
	SSL_CTX_free(t->ssl_ctx);
	free(t);
}

struct msg_reader {
	size_t off;
};

/* libESMTP pulls the message through this; it frees *ctx itself. */
static const char *
message_cb(void **ctx, int *len, void *arg)
{
	const struct mail_job *job = arg;
	struct msg_reader *r = *ctx;
	size_t n;

	if (r == NULL) {
		r = xcalloc(1, sizeof(*r));
		*ctx = r;
	}
	if (len == NULL) { /* rewind */
		r->off = 0;
		return NULL;
	}
	n = job->len - r->off > CHUNK ? CHUNK : job->len - r->off;
	*len = (int)n;
	r->off += n;
	return job->data + r->off - n;
}

static void
event_cb(smtp_session_t session, int event, void *arg, ...)
{
	struct batch *b = arg;
	va_list ap;
	int *ok;
	SSL *ssl;

	va_start(ap, arg);
	switch (event) {
	case SMTP_EV_CONNECT:
		if (tcp_nodelay_to_port((unsigned)b->t->conf.smtp_port) == 0)
			log_debug("SMTP: no socket to %s found to set TCP_NODELAY on",
			    b->t->hostport);
		break;
	case SMTP_EV_EXTNA_STARTTLS:
		snprintf(b->tls_problem, sizeof(b->tls_problem),
		    "SMTP server %s does not offer STARTTLS, and [mail] starttls = required",
		    b->t->hostport);
		break;
	case SMTP_EV_STARTTLS_OK:
		b->tls_ok = true;
		break;
	case SMTP_EV_INVALID_PEER_CERTIFICATE:
		(void)va_arg(ap, long);
		ok = va_arg(ap, int *);
		*ok = !b->t->conf.tls_verify;
		break;
	case SMTP_EV_NO_PEER_CERTIFICATE:
		ok = va_arg(ap, int *);
		*ok = !b->t->conf.tls_verify;
		if (!*ok)
			snprintf(b->tls_problem, sizeof(b->tls_problem),
			    "SMTP server %s presented no TLS certificate", b->t->hostport);
		break;
	case SMTP_EV_WRONG_PEER_CERTIFICATE:
		ok = va_arg(ap, int *);
		(void)va_arg(ap, char *);
		ssl = va_arg(ap, SSL *);
		/* See the comment at the top: OpenSSL already checked the name. */
		*ok = !b->t->conf.tls_verify || SSL_get_verify_result(ssl) == X509_V_OK;
		if (!*ok)
			snprintf(b->tls_problem, sizeof(b->tls_problem),
			    "TLS certificate of %s does not match the host name",
			    b->t->hostport);
		break;
	case SMTP_EV_WEAK_CIPHER:
		(void)va_arg(ap, int);
		ok = va_arg(ap, int *);
		*ok = 0;
		snprintf(b->tls_problem, sizeof(b->tls_problem),
		    "SMTP server %s negotiated a weak cipher", b->t->hostport);
		break;
	case SMTP_EV_UNUSABLE_CA_LIST:
	case SMTP_EV_UNUSABLE_CLIENT_CERTIFICATE:
		snprintf(b->tls_problem, sizeof(b->tls_problem),
		    "libESMTP could not set up TLS for %s (unusable CA list or client "
		    "certificate)", b->t->hostport);
		break;
	case SMTP_EV_NO_CLIENT_CERTIFICATE:
		ok = va_arg(ap, int *);
		*ok = 1;
		break;
	case SMTP_EV_SYNTAXWARNING:
		break;
	default:
		break;
	}
	va_end(ap);
}

/*
 * Watch server replies for the AUTH result and keep the last reply for
 * error messages. Client lines are only inspected for "AUTH ", never
 * stored: they contain the credentials.
 */
static void
monitor_cb(const char *buf, int buflen, int writing, void *arg)
{
	struct batch *b = arg;
	size_t len = buflen > 0 ? (size_t)buflen : 0;
	size_t i = 0;

	while (i < len) {
		const char *line = buf + i;
		const char *nl = memchr(line, '\n', len - i);
		size_t llen = nl != NULL ? (size_t)(nl - line) : len - i;

		if (writing) {
			if (llen >= 5 && memcmp(line, "AUTH ", 5) == 0) {
				b->in_auth = true;
				b->auth_tried = true;
			}
		} else if (llen >= 3) {
			copy_text(b->last_reply, sizeof(b->last_reply), line, llen);
			if (b->in_auth && line[0] == '2') {
				b->authenticated = true;
				b->in_auth = false;
			} else if (b->in_auth && (line[0] == '4' || line[0] == '5')) {
				copy_text(b->auth_reply, sizeof(b->auth_reply), line, llen);
				b->in_auth = false;
			}
		}
		i += llen + 1;
	}
}

static int
interact_cb(auth_client_request_t req, char **result, int fields, void *arg)
{
	struct batch *b = arg;

	for (int i = 0; i < fields; i++) {
		if (req[i].flags & AUTH_USER)
			result[i] = b->t->conf.smtp_user;
		else if (req[i].flags & AUTH_PASS)
			result[i] = (char *)b->t->password;
		else
			result[i] = (char *)""; /* realm: not used by PLAIN/LOGIN */
	}
	return 1;
}

static void
set_outcome(struct mail_job *job, enum mail_outcome o, const char *fmt, ...)
    PRINTF_LIKE(3, 4);

static void
set_outcome(struct mail_job *job, enum mail_outcome o, const char *fmt, ...)
{
	va_list ap;

	job->outcome = o;
	va_start(ap, fmt);
	vsnprintf(job->reason, sizeof(job->reason), fmt, ap);
	va_end(ap);
}

static enum mail_outcome
class_outcome(int code)
{
	return code / 100 == 5 ? MAIL_FAILED : MAIL_RETRY;
}

/* The server's text, on one line (it may end in CRLF). */
static const char *
status_text(const smtp_status_t *s, char *buf, size_t size)
{
	if (s == NULL || s->text == NULL)
		return "";
	copy_text(buf, size, s->text, strlen(s->text));
	return buf;
}

/* vsnprintf on purpose: truncating a long server reply is fine here. */
static void
fmt_into(char *out, size_t size, const char *fmt, ...) PRINTF_LIKE(3, 4);

static void
fmt_into(char *out, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, size, fmt, ap);
	va_end(ap);
}

/* Why the session as a whole did not get a job through. */
static void
session_reason(const struct batch *b, bool started, char *out, size_t size)
{
	char err[200] = "";
	int en = smtp_errno();

	if (b->tls_problem[0] != '\0') {
		fmt_into(out, size, "%s", b->tls_problem);
		return;
	}
	if (b->t->conf.smtp_user != NULL && b->auth_tried && !b->authenticated) {
		fmt_into(out, size, "SMTP AUTH as %s at %s failed: %s", b->t->conf.smtp_user,
		    b->t->hostport, b->auth_reply[0] != '\0' ? b->auth_reply : "no reply");
		return;
	}
	if (b->t->conf.starttls != TLS_MODE_OFF && !b->tls_ok && b->last_reply[0] != '\0' &&
	    !started) {
		fmt_into(out, size, "SMTP server %s: TLS could not be started (last reply: %s)",
		    b->t->hostport, b->last_reply);
		return;
	}
	if (en != 0)
		smtp_strerror(en, err, sizeof(err));
	fmt_into(out, size, "SMTP session with %s failed: %s%s%s%s", b->t->hostport,
	    err[0] != '\0' ? err : "the session ended early",
	    b->last_reply[0] != '\0' ? " (last server reply: " : "", b->last_reply,
	    b->last_reply[0] != '\0' ? ")" : "");
}

struct rcpt_status {
	const smtp_status_t *st;
};

static void
rcpt_cb(smtp_recipient_t r, const char *mailbox, void *arg)
{
	struct rcpt_status *rs = arg;

	rs->st = smtp_recipient_status(r);
}

static void
classify(struct batch *b, smtp_message_t m, struct mail_job *job, const char *why)
{
	const smtp_status_t *mail_st = smtp_reverse_path_status(m);
	const smtp_status_t *data_st = smtp_message_transfer_status(m);
	struct rcpt_status rs = { NULL };
	char text[300];
	int rcode;

	smtp_enumerate_recipients(m, rcpt_cb, &rs);
	rcode = rs.st != NULL ? rs.st->code : 0;
	if (data_st != NULL && data_st->code / 100 == 2 && rcode / 100 == 2) {
		set_outcome(job, MAIL_SENT, "%d %s", data_st->code,
		    status_text(data_st, text, sizeof(text)));
		return;
	}
	/* AUTH or TLS trouble explains any refusal that follows it. */
	if (b->tls_problem[0] != '\0' ||
	    (b->t->conf.smtp_user != NULL && !b->authenticated)) {
		set_outcome(job, MAIL_RETRY, "%s", why);
		return;
	}
	if (mail_st != NULL && mail_st->code == 530) {
		/* RFC 4954 "authentication required": our configuration, not the
		 * recipient, is at fault; keep the mail until it is fixed. */
		set_outcome(job, MAIL_RETRY, "%s requires authentication (530 %s); set "
		    "[mail] smtp_user and smtp_password_file", b->t->hostport,
		    status_text(mail_st, text, sizeof(text)));
	} else if (mail_st != NULL && mail_st->code / 100 >= 4) {
		set_outcome(job, class_outcome(mail_st->code), "%s refused MAIL FROM:<%s>: %d %s",
		    b->t->hostport, job->envelope_from, mail_st->code,
		    status_text(mail_st, text, sizeof(text)));
	} else if (rcode / 100 >= 4) {
		set_outcome(job, class_outcome(rcode), "%s refused RCPT TO:<%s>: %d %s",
		    b->t->hostport, job->rcpt, rcode, status_text(rs.st, text, sizeof(text)));
	} else if (data_st != NULL && data_st->code / 100 >= 4) {
		set_outcome(job, class_outcome(data_st->code),
		    "%s refused the message to <%s> after DATA: %d %s", b->t->hostport,
		    job->rcpt, data_st->code, status_text(data_st, text, sizeof(text)));
	} else {
		set_outcome(job, MAIL_RETRY, "%s", why);
	}
}

void
smtp_send_batch(struct smtp_transport *t, struct mail_job *jobs, size_t n)
{
	smtp_session_t session = NULL;
	auth_context_t auth = NULL;
	smtp_message_t *msgs = NULL;
	struct batch b;
	struct errbuf e;
	char why[512];
	int64_t timeout;
	size_t queued = 0;
	int started = 0;
	sigset_t pipe_set, old_set;
	static const int phases[] = { Timeout_GREETING, Timeout_ENVELOPE, Timeout_DATA,
		Timeout_TRANSFER, Timeout_DATA2 };

	memset(&b, 0, sizeof(b));
	b.t = t;
	msgs = xcalloc(n + 1, sizeof(*msgs));

	/* A peer that closes the connection must not kill us with SIGPIPE. */
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);

	session = smtp_create_session();
	if (session == NULL || !smtp_set_server(session, t->hostport)) {
		snprintf(why, sizeof(why), "cannot set up an SMTP session for %s", t->hostport);
		goto fail_all;
	}
	if (t->conf.helo_name != NULL)
		smtp_set_hostname(session, t->conf.helo_name);
	timeout = t->conf.timeout;
	for (size_t i = 0; i < ARRAY_LEN(phases); i++)
		smtp_set_timeout(session, phases[i] | Timeout_OVERRIDE_RFC2822_MINIMUM,
		    (long)(timeout * 1000));
	if (t->conf.starttls == TLS_MODE_OFF) {
		smtp_starttls_enable(session, Starttls_DISABLED);
	} else {
		SSL_CTX_set_ex_data(t->ssl_ctx, ssl_ex_index, &b);
		smtp_starttls_set_ctx(session, t->ssl_ctx);
		smtp_starttls_enable(session, Starttls_REQUIRED);
	}
	if (t->conf.smtp_user != NULL) {
		auth = auth_create_context();
		auth_set_mechanism_flags(auth, AUTH_PLUGIN_PLAIN, 0);
		auth_set_interact_cb(auth, interact_cb, &b);
		smtp_auth_set_context(session, auth);
	}
	smtp_set_eventcb(session, event_cb, &b);
	smtp_set_monitorcb(session, monitor_cb, &b, 0);

	for (size_t i = 0; i < n; i++) {
		struct mail_job *job = &jobs[i];
		smtp_message_t m;

		job->outcome = MAIL_RETRY;
		job->reason[0] = '\0';
		err_clear(&e);
		/* libESMTP prints addresses into SMTP commands verbatim. */
		if (mail_address_check(job->envelope_from, &e) != 0 ||
		    mail_address_check(job->rcpt, &e) != 0) {
			set_outcome(job, MAIL_FAILED, "not sent: %s", e.text);
			continue;
		}
		if (job->data == NULL || job->len == 0 || job->len > INT32_MAX) {
			set_outcome(job, MAIL_FAILED, "not sent: empty or oversized message");
			continue;
		}
		m = smtp_add_message(session);
		if (m == NULL || !smtp_set_reverse_path(m, job->envelope_from) ||
		    smtp_add_recipient(m, job->rcpt) == NULL ||
		    !smtp_set_messagecb(m, message_cb, job)) {
			set_outcome(job, MAIL_RETRY, "libESMTP could not queue the message");
			continue;
		}
		msgs[i] = m;
		queued++;
	}
	if (queued == 0)
		goto out;

	started = smtp_start_session(session);
	session_reason(&b, started != 0, why, sizeof(why));
	for (size_t i = 0; i < n; i++)
		if (msgs[i] != NULL)
			classify(&b, msgs[i], &jobs[i], why);
	goto out;

fail_all:
	for (size_t i = 0; i < n; i++)
		set_outcome(&jobs[i], MAIL_RETRY, "%s", why);
out:
	for (size_t i = 0; i < n; i++)
		log_debug("SMTP %s -> %s: %s: %s", t->hostport,
		    jobs[i].rcpt != NULL ? jobs[i].rcpt : "?", mail_outcome_name(jobs[i].outcome),
		    jobs[i].reason);
	if (session != NULL)
		smtp_destroy_session(session);
	if (auth != NULL)
		auth_destroy_context(auth);
	if (t->ssl_ctx != NULL)
		SSL_CTX_set_ex_data(t->ssl_ctx, ssl_ex_index, NULL);
	ERR_clear_error();
	{
		/* Swallow a SIGPIPE raised while blocked, then restore the mask. */
		sigset_t pending;
		struct timespec zero = { 0, 0 };

		sigpending(&pending);
		if (sigismember(&pending, SIGPIPE))
			sigtimedwait(&pipe_set, NULL, &zero);
		pthread_sigmask(SIG_SETMASK, &old_set, NULL);
	}
	free(msgs);
}
