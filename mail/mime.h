/* SPDX-License-Identifier: ISC */
/*
 * Building RFC 5322 / MIME messages.
 *
 * mime_build() produces a complete message with CRLF line ends, ready for
 * SMTP DATA: Date, From, Reply-To (when given), To, Subject (RFC 2047
 * encoded-words when not
 * plain ASCII, each word at most 75 characters), Message-ID, MIME-Version,
 * and a body that is text/plain, or multipart/alternative (text + HTML),
 * wrapped in multipart/mixed when there are attachments (base64, lines of
 * 76). Bodies are quoted-printable UTF-8. Boundaries are random and
 * checked not to occur in any part.
 *
 * Header values from the directory are untrusted: any CR, LF or other
 * control character in a display name, address or subject is refused with
 * an error (never "cleaned" into a header), and every address is checked
 * by mail_address_valid() first.
 *
 * Ownership: the spec borrows; *out is new (free()).
 */
#ifndef SMIMESYNC_MAIL_MIME_H
#define SMIMESYNC_MAIL_MIME_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "common/attrs.h"
#include "common/errbuf.h"

struct mail_attachment {
	const char *filename;     /* ASCII, e.g. "alice@example.org.p12" */
	const char *content_type; /* e.g. "application/pkcs12" */
	const unsigned char *data;
	size_t len;
};

struct mail_spec {
	const char *from;         /* "Display Name <addr>" or "addr" (from config) */
	const char *reply_to;     /* the same form, for Reply-To; NULL for none */
	const char *to_name;      /* display name, may be NULL */
	const char *to_addr;
	const char *subject;
	const char *text;         /* UTF-8, LF or CRLF line ends */
	const char *html;         /* may be NULL */
	const struct mail_attachment *attachments;
	size_t n_attachments;
	time_t date;
	const char *message_id;   /* "<...@domain>", NULL to generate one */
};

int mime_build(const struct mail_spec *spec, char **out, size_t *len,
    struct errbuf *e) MUST_USE;

/*
 * Addresses as the mail room takes them (mail/address.c): the one rule of
 * common/mailaddr.h with no flags, i.e. ASCII and a bare host name allowed.
 * mail_address_valid(): may addr go into RCPT TO / a header?
 */
bool mail_address_valid(const char *addr);

/*
 * The same test with a reason: 0, or -1 with a sentence in e (line break,
 * control character, non-ASCII "needs SMTPUTF8", or not an address).
 */
int mail_address_check(const char *addr, struct errbuf *e) MUST_USE;

/* Split "Name <addr>" into parts (new strings); plain "addr" gives name NULL. */
int mail_parse_mailbox(const char *mailbox, char **name, char **addr, struct errbuf *e) MUST_USE;

/* One header value encoded for a header line (RFC 2047 when needed); new. */
int mime_encode_phrase(const char *utf8, char **out, struct errbuf *e) MUST_USE;

#endif
