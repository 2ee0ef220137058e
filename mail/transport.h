/* SPDX-License-Identifier: ISC */
/*
 * Room mail/: templates (template.h), MIME messages (mime.h) and the
 * transports that send them (this header).
 *
 * Sending mail: over SMTP (libESMTP, smtp.c; the default) or, with [mail]
 * transport = graph, through Microsoft Graph sendMail (graph_mail.c, which
 * see for its outcomes). The rest of this comment is about SMTP.
 *
 * One transport is one SMTP session configuration; mail_send_batch() opens
 * a connection, sends every job over it (connection reuse; PIPELINING when
 * the server offers it) and closes it. STARTTLS is required by default and
 * then the server certificate is verified against [mail] tls_ca_file (or
 * the system store) and the host name; AUTH happens only inside TLS.
 *
 * Each job gets its own outcome:
 *   MAIL_SENT    the server accepted the message (2xx after DATA);
 *   MAIL_RETRY   a transient failure: 4xx, connection refused or dropped,
 *                TLS or timeout problems; try again later with back-off;
 *   MAIL_FAILED  a permanent failure: 5xx for the recipient or message;
 *                report it, do not retry.
 * reason holds the server's reply or the local error.
 *
 * Ownership: jobs are borrowed; the password is borrowed for the life of
 * the transport.
 */
#ifndef SMIMESYNC_MAIL_TRANSPORT_H
#define SMIMESYNC_MAIL_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "common/attrs.h"
#include "common/errbuf.h"
#include "conf/conf.h"

enum mail_outcome {
	MAIL_SENT = 0,
	MAIL_RETRY,
	MAIL_FAILED,
};

const char *mail_outcome_name(enum mail_outcome o);

struct mail_job {
	const char *envelope_from; /* bare address */
	const char *rcpt;          /* bare address, validated */
	const char *data;          /* complete message, CRLF */
	size_t len;
	enum mail_outcome outcome; /* out */
	char reason[512];          /* out */
};

struct mail_transport;

int mail_transport_open(const struct conf_mail *conf, const char *password,
    struct mail_transport **out, struct errbuf *e) MUST_USE;
void mail_transport_close(struct mail_transport *t);
/* Never fails as a whole: every job gets an outcome. */
void mail_send_batch(struct mail_transport *t, struct mail_job *jobs, size_t n);

/* Back-off before attempt number `attempt` (1-based): 1m, 2m, 4m ... capped at 6h. */
int64_t mail_retry_delay(int attempt);

#endif
