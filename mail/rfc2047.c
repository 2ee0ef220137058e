/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <stdarg.h>
#include <stdbool.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/log.h"
#include "mail/encode.h"

/*
 * buf only fails on a size overflow when it has no maximum; we treat that
 * like any other allocation failure (common/xalloc.h): log and abort.
 */
void
mb_put(struct buf *b, const void *p, size_t n)
{
	if (buf_append(b, p, n) != 0)
		fatal("out of memory while building a mail message");
}

void
mb_puts(struct buf *b, const char *s)
{
	mb_put(b, s, strlen(s));
}

void
mb_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = buf_vprintf(b, fmt, ap);
	va_end(ap);
	if (rc != 0)
		fatal("out of memory while building a mail message");
}

static void
put_base64(struct buf *out, const unsigned char *data, size_t len)
{
	/* EVP_EncodeBlock writes 4 characters per 3 bytes plus a NUL. */
	unsigned char tmp[4 * (RFC2047_CHUNK / 3 + 1) + 1];
	size_t off = 0;

	while (off < len) {
		size_t n = len - off > RFC2047_CHUNK ? RFC2047_CHUNK : len - off;
		int w = EVP_EncodeBlock(tmp, data + off, (int)n);

		mb_put(out, tmp, (size_t)w);
		off += n;
	}
}

void
rfc2047_encode(struct buf *out, const char *utf8, size_t len)
{
	const unsigned char *p = (const unsigned char *)utf8;
	size_t off = 0;

	while (off < len) {
		size_t n = len - off > RFC2047_CHUNK ? RFC2047_CHUNK : len - off;

		/*
		 * Never split a multi-byte character between two words: a
		 * decoder decodes each word on its own (RFC 2047 section 5).
		 * Back off while the first byte after the chunk is a
		 * continuation byte.
		 */
		while (off + n < len && n > 0 && (p[off + n] & 0xc0) == 0x80)
			n--;
		if (n == 0) /* not UTF-8; the caller checked, but never loop */
			n = len - off > RFC2047_CHUNK ? RFC2047_CHUNK : len - off;
		if (off > 0)
			mb_puts(out, " ");
		mb_puts(out, "=?UTF-8?B?");
		put_base64(out, p + off, n);
		mb_puts(out, "?=");
		off += n;
	}
}

static void
qp_put_hex(struct buf *out, unsigned char c)
{
	static const char hex[] = "0123456789ABCDEF";
	char t[3] = { '=', hex[c >> 4], hex[c & 0xf] };

	mb_put(out, t, 3);
}

/* One line (no line end in it) as quoted-printable, soft-broken at 76. */
static void
qp_line(struct buf *out, const unsigned char *s, size_t len)
{
	size_t col = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = s[i];
		bool last = (i + 1 == len);
		bool literal;
		size_t unit;

		literal = (c >= 33 && c <= 126 && c != '=') ||
		    ((c == ' ' || c == '\t') && !last);
		/*
		 * A line starting with "." or "From " survives SMTP
		 * dot-stuffing and mbox "From " quoting untouched when we
		 * encode its first character.
		 */
		if (col == 0 && (c == '.' || (c == 'F' && len - i >= 5 &&
		    memcmp(s + i, "From ", 5) == 0)))
			literal = false;
		unit = literal ? 1 : 3;
		/* Leave room for the soft line break "=" unless this is the
		 * line's last character. */
		if (col + unit > (last ? 76 : 75)) {
			mb_puts(out, "=\r\n");
			col = 0;
			if (c == '.' || c == 'F')
				literal = false, unit = 3;
		}
		if (literal)
			mb_put(out, &c, 1);
		else
			qp_put_hex(out, c);
		col += unit;
	}
	mb_puts(out, "\r\n");
}

void
qp_encode(struct buf *out, const char *text, size_t len)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t start = 0;

	while (start < len) {
		const unsigned char *nl = memchr(p + start, '\n', len - start);
		size_t end = nl != NULL ? (size_t)(nl - p) : len;
		size_t line_len = end - start;

		if (line_len > 0 && p[start + line_len - 1] == '\r')
			line_len--;
		qp_line(out, p + start, line_len);
		start = end + 1;
	}
}

void
base64_lines(struct buf *out, const unsigned char *data, size_t len)
{
	unsigned char tmp[77];
	size_t off = 0;

	while (off < len) {
		size_t n = len - off > 57 ? 57 : len - off;
		int w = EVP_EncodeBlock(tmp, data + off, (int)n);

		mb_put(out, tmp, (size_t)w);
		mb_puts(out, "\r\n");
		off += n;
	}
}

void
header_fold(struct buf *out, const char *name, const char *value)
{
	size_t col = strlen(name) + 2;
	bool have_token = false;
	const char *p = value;

	mb_puts(out, name);
	mb_puts(out, ": ");
	while (*p != '\0') {
		const char *sp = strchr(p + 1, ' ');
		size_t tok = sp != NULL ? (size_t)(sp - p) : strlen(p);

		/*
		 * p points at a token, possibly starting with the space that
		 * separates it from the previous one. Break before that space
		 * when the token would pass 78 columns; the space stays as
		 * the continuation line's leading white space, so unfolding
		 * (removing CRLF) restores the value exactly.
		 */
		if (*p == ' ' && have_token && col + tok > 78) {
			mb_puts(out, "\r\n");
			col = 0;
		}
		mb_put(out, p, tok);
		col += tok;
		if (tok > (*p == ' ' ? 1u : 0u))
			have_token = true;
		p += tok;
	}
	mb_puts(out, "\r\n");
}
