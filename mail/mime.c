/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "common/buf.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "mail/encode.h"
#include "mail/mime.h"

/*
 * The message is assembled bottom-up: each MIME entity is rendered into
 * its own buffer as "header lines, blank line, body"; a multipart wraps
 * finished entities, choosing a boundary that occurs in none of them.
 * The top entity's header lines simply join the message header block.
 */

#define BOUNDARY_TRIES 8

/*
 * Refuse what must never reach a header. what_fmt names the value for the
 * error message ("display name of alice@example.org").
 */
static int
check_header_text(const char *s, const char *what, struct errbuf *e)
{
	if (strchr(s, '\r') != NULL || strchr(s, '\n') != NULL) {
		err_set(e, "%s contains a line break; refusing to build a header from it", what);
		return -1;
	}
	if (str_has_control(s)) {
		err_set(e, "%s contains a control character; refusing to build a header "
		    "from it", what);
		return -1;
	}
	if (!str_is_utf8(s, strlen(s))) {
		err_set(e, "%s is not valid UTF-8; refusing to build a header from it", what);
		return -1;
	}
	return 0;
}

static bool
is_printable_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

/* No token longer than a header line should be and nothing that looks
 * like an encoded word: then a text can go into Subject: as it is. */
static bool
unstructured_plain(const char *s)
{
	size_t run = 0;

	if (!is_printable_ascii(s) || strstr(s, "=?") != NULL)
		return false;
	for (; *s != '\0'; s++) {
		run = *s == ' ' ? 0 : run + 1;
		if (run > 66)
			return false;
	}
	return true;
}

/*
 * RFC 5322 atext plus the space between atoms: a phrase needing no quotes.
 * '=' and '?' are atext, so a name such as "=?UTF-8?B?...?=" would pass
 * as is and a mail client would decode it into whatever it hides (another
 * name, an address): such names, and over-long tokens, are encoded.
 */
static bool
is_plain_phrase(const char *s)
{
	if (!unstructured_plain(s))
		return false;
	if (*s == ' ' || (*s != '\0' && s[strlen(s) - 1] == ' ') || strstr(s, "  ") != NULL)
		return false;
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == ' ' ||
		    strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL))
			return false;
	}
	return true;
}

int
mime_encode_phrase(const char *utf8, char **out, struct errbuf *e)
{
	struct buf b;

	*out = NULL;
	if (check_header_text(utf8, "display name", e) != 0)
		return -1;
	buf_init(&b, 0);
	if (is_plain_phrase(utf8)) {
		mb_puts(&b, utf8);
	} else if (unstructured_plain(utf8)) {
		/* ASCII with specials: a quoted-string (RFC 5322 3.2.4). */
		mb_puts(&b, "\"");
		for (const char *p = utf8; *p != '\0'; p++) {
			if (*p == '"' || *p == '\\')
				mb_puts(&b, "\\");
			mb_put(&b, p, 1);
		}
		mb_puts(&b, "\"");
	} else {
		rfc2047_encode(&b, utf8, strlen(utf8));
	}
	*out = buf_steal(&b, NULL);
	return 0;
}

static char *
encode_unstructured(const char *utf8)
{
	struct buf b;

	buf_init(&b, 0);
	if (unstructured_plain(utf8))
		mb_puts(&b, utf8);
	else
		rfc2047_encode(&b, utf8, strlen(utf8));
	return buf_steal(&b, NULL);
}

/* "Name <addr>" (or "addr") header value; name is checked and encoded. */
static int
mailbox_value(const char *name, const char *addr, char **out, struct errbuf *e)
{
	char *phrase = NULL;
	int rc = -1;

	*out = NULL;
	if (name != NULL && *name != '\0') {
		char what[400];

		snprintf(what, sizeof(what), "display name of %s", addr);
		if (check_header_text(name, what, e) != 0)
			goto out;
		if (mime_encode_phrase(name, &phrase, e) != 0)
			goto out;
		*out = xasprintf("%s <%s>", phrase, addr);
	} else {
		*out = xstrdup(addr);
	}
	rc = 0;
out:
	free(phrase);
	return rc;
}

static void
format_rfc5322_date(time_t t, char *out, size_t size)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;

	/* Our own names: strftime's %a and %b follow the locale. */
	gmtime_r(&t, &tm);
	snprintf(out, size, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday],
	    tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
	    tm.tm_sec);
}

static int
random_hex(size_t nbytes, char **out, struct errbuf *e)
{
	unsigned char raw[32];

	*out = NULL;
	if (nbytes > sizeof(raw) || RAND_bytes(raw, (int)nbytes) != 1) {
		err_set(e, "cannot get random bytes for a MIME boundary or Message-ID");
		err_add_openssl(e);
		return -1;
	}
	*out = hex_encode(raw, nbytes);
	return 0;
}

static int
check_message_id(const char *id, struct errbuf *e)
{
	size_t len = strlen(id);

	if (len < 5 || id[0] != '<' || id[len - 1] != '>' || strchr(id, '@') == NULL ||
	    strchr(id, ' ') != NULL || !is_printable_ascii(id) || len > 250) {
		err_set(e, "Message-ID \"%s\" is not of the form <unique@domain>", id);
		return -1;
	}
	return 0;
}

/* A text entity: headers, blank line, quoted-printable body. */
static void
text_entity(struct buf *out, const char *subtype, const char *text)
{
	mb_printf(out, "Content-Type: text/%s; charset=utf-8\r\n", subtype);
	mb_puts(out, "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
	qp_encode(out, text, strlen(text));
}

static int
check_attachment(const struct mail_attachment *a, struct errbuf *e)
{
	const char *slash;

	if (a->filename == NULL || *a->filename == '\0' || !is_printable_ascii(a->filename) ||
	    strpbrk(a->filename, "\"\\/") != NULL || strlen(a->filename) > 200) {
		err_set(e, "attachment file name \"%s\" must be printable ASCII without "
		    "quotes, backslashes or slashes",
		    a->filename != NULL ? a->filename : "");
		return -1;
	}
	slash = a->content_type != NULL ? strchr(a->content_type, '/') : NULL;
	if (slash == NULL || slash == a->content_type || slash[1] == '\0' ||
	    strpbrk(a->content_type, " \t\";\\") != NULL ||
	    !is_printable_ascii(a->content_type)) {
		err_set(e, "attachment %s: content type \"%s\" is not of the form type/subtype",
		    a->filename, a->content_type != NULL ? a->content_type : "");
		return -1;
	}
	return 0;
}

static void
attachment_entity(struct buf *out, const struct mail_attachment *a)
{
	mb_printf(out, "Content-Type: %s; name=\"%s\"\r\n", a->content_type, a->filename);
	mb_puts(out, "Content-Transfer-Encoding: base64\r\n");
	mb_printf(out, "Content-Disposition: attachment; filename=\"%s\"\r\n\r\n", a->filename);
	base64_lines(out, a->data, a->len);
}

static bool
occurs_in(const struct buf *parts, size_t n, const char *needle)
{
	for (size_t i = 0; i < n; i++)
		if (parts[i].len > 0 && memmem(parts[i].data, parts[i].len, needle,
		    strlen(needle)) != NULL)
			return true;
	return false;
}

/*
 * Wrap finished entities in a multipart entity. The boundary is random and
 * checked against every part (our encodings cannot produce "=_" anyway:
 * quoted-printable never emits it and base64 has no "_").
 */
static int
multipart_entity(struct buf *out, const char *subtype, struct buf *parts, size_t n,
    struct errbuf *e)
{
	char *rnd = NULL, *boundary = NULL;
	int rc = -1;

	for (int tries = 0; tries < BOUNDARY_TRIES; tries++) {
		free(rnd);
		free(boundary);
		boundary = NULL;
		if (random_hex(12, &rnd, e) != 0)
			goto out;
		boundary = xasprintf("=_smimesync_%s", rnd);
		if (!occurs_in(parts, n, boundary))
			break;
		free(boundary);
		boundary = NULL;
	}
	if (boundary == NULL) {
		err_set(e, "could not find a MIME boundary that does not occur in the message");
		goto out;
	}
	mb_printf(out, "Content-Type: multipart/%s;\r\n boundary=\"%s\"\r\n\r\n", subtype,
	    boundary);
	mb_puts(out, "This is a message in MIME format.\r\n");
	for (size_t i = 0; i < n; i++) {
		mb_printf(out, "\r\n--%s\r\n", boundary);
		mb_put(out, parts[i].data, parts[i].len);
	}
	mb_printf(out, "\r\n--%s--\r\n", boundary);
	rc = 0;
out:
	free(rnd);
	free(boundary);
	return rc;
}

/* The body entity: text, or text + HTML alternatives, plus attachments. */
static int
body_entity(const struct mail_spec *spec, struct buf *out, struct errbuf *e)
{
	struct buf *parts = NULL;
	struct buf alt[2];
	size_t nparts = 0;
	int rc = -1;

	buf_init(&alt[0], 0);
	buf_init(&alt[1], 0);
	parts = xcalloc(spec->n_attachments + 1, sizeof(*parts));
	for (size_t i = 0; i < spec->n_attachments + 1; i++)
		buf_init(&parts[i], 0);

	if (spec->html != NULL) {
		text_entity(&alt[0], "plain", spec->text);
		text_entity(&alt[1], "html", spec->html);
		if (multipart_entity(&parts[0], "alternative", alt, 2, e) != 0)
			goto out;
	} else {
		text_entity(&parts[0], "plain", spec->text);
	}
	nparts = 1;
	for (size_t i = 0; i < spec->n_attachments; i++) {
		if (check_attachment(&spec->attachments[i], e) != 0)
			goto out;
		attachment_entity(&parts[nparts++], &spec->attachments[i]);
	}
	if (nparts == 1)
		mb_put(out, parts[0].data, parts[0].len);
	else if (multipart_entity(out, "mixed", parts, nparts, e) != 0)
		goto out;
	rc = 0;
out:
	buf_free(&alt[0]);
	buf_free(&alt[1]);
	for (size_t i = 0; i < spec->n_attachments + 1; i++)
		buf_free(&parts[i]);
	free(parts);
	return rc;
}

int
mime_build(const struct mail_spec *spec, char **out, size_t *len, struct errbuf *e)
{
	struct buf msg;
	char *from_name = NULL, *from_addr = NULL, *from_value = NULL, *to_value = NULL;
	char *reply_name = NULL, *reply_addr = NULL, *reply_value = NULL;
	char *subject = NULL, *msgid = NULL, *rnd = NULL;
	const char *at;
	char date[64];
	int rc = -1;

	*out = NULL;
	*len = 0;
	buf_init(&msg, 0);
	if (spec->from == NULL || mail_parse_mailbox(spec->from, &from_name, &from_addr, e) != 0) {
		if (spec->from == NULL)
			err_set(e, "no From address");
		err_prefix(e, "sender");
		goto out;
	}
	if (spec->reply_to != NULL &&
	    (mail_parse_mailbox(spec->reply_to, &reply_name, &reply_addr, e) != 0 ||
	    mailbox_value(reply_name, reply_addr, &reply_value, e) != 0)) {
		err_prefix(e, "reply-to address");
		goto out;
	}
	if (mail_address_check(spec->to_addr, e) != 0) {
		err_prefix(e, "recipient");
		goto out;
	}
	if (spec->subject == NULL || *spec->subject == '\0') {
		err_set(e, "mail to %s has an empty subject", spec->to_addr);
		goto out;
	}
	{
		char what[400];

		snprintf(what, sizeof(what), "subject of the mail to %s", spec->to_addr);
		if (check_header_text(spec->subject, what, e) != 0)
			goto out;
	}
	if (spec->text == NULL || !str_is_utf8(spec->text, strlen(spec->text)) ||
	    (spec->html != NULL && !str_is_utf8(spec->html, strlen(spec->html)))) {
		err_set(e, "body of the mail to %s is missing or not valid UTF-8", spec->to_addr);
		goto out;
	}
	if (mailbox_value(from_name, from_addr, &from_value, e) != 0 ||
	    mailbox_value(spec->to_name, spec->to_addr, &to_value, e) != 0)
		goto out;
	subject = encode_unstructured(spec->subject);

	if (spec->message_id != NULL) {
		if (check_message_id(spec->message_id, e) != 0)
			goto out;
		msgid = xstrdup(spec->message_id);
	} else {
		if (random_hex(16, &rnd, e) != 0)
			goto out;
		at = strchr(from_addr, '@');
		msgid = xasprintf("<%s@%s>", rnd, at + 1);
	}
	format_rfc5322_date(spec->date, date, sizeof(date));

	header_fold(&msg, "Date", date);
	header_fold(&msg, "From", from_value);
	if (reply_value != NULL)
		header_fold(&msg, "Reply-To", reply_value);
	header_fold(&msg, "To", to_value);
	header_fold(&msg, "Subject", subject);
	header_fold(&msg, "Message-ID", msgid);
	/* RFC 3834: keeps vacation responders from answering the PKI. */
	header_fold(&msg, "Auto-Submitted", "auto-generated");
	header_fold(&msg, "MIME-Version", "1.0");
	if (body_entity(spec, &msg, e) != 0)
		goto out;
	*out = buf_steal(&msg, len);
	rc = 0;
out:
	buf_free(&msg);
	free(from_name);
	free(from_addr);
	free(from_value);
	free(reply_name);
	free(reply_addr);
	free(reply_value);
	free(to_value);
	free(subject);
	free(msgid);
	free(rnd);
	return rc;
}
