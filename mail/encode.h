/* SPDX-License-Identifier: ISC */
/*
 * Private to mail/: the byte-level encoders the MIME builder is made of.
 *
 * All of them append to a struct buf that has no maximum (we generate the
 * data ourselves), so they cannot fail short of running out of memory,
 * which is fatal by the project's policy (common/xalloc.h). The mb_*
 * wrappers turn buf's status into that policy so callers stay readable.
 *
 *   rfc2047_encode()  UTF-8 text -> "=?UTF-8?B?...?=" words, each at most
 *                     75 characters, split only between characters, joined
 *                     by single spaces (the header folder breaks there);
 *   qp_encode()       text with LF or CRLF line ends -> quoted-printable
 *                     with CRLF, lines of at most 76 characters;
 *   base64_lines()    bytes -> base64, lines of 76 characters, CRLF;
 *   header_fold()     "Name: value" folded at spaces to 78 columns where
 *                     possible, CRLF-terminated; unfolding gives the value
 *                     back exactly.
 */
#ifndef SMIMESYNC_MAIL_ENCODE_H
#define SMIMESYNC_MAIL_ENCODE_H

#include <stddef.h>

#include "common/attrs.h"
#include "common/buf.h"

/* Longest encoded word RFC 2047 allows. */
#define RFC2047_MAX_WORD 75
/* Raw bytes per encoded word: 42 bytes -> 56 base64 characters -> a word
 * of 68, which with "Subject: " in front still fits 78 columns. */
#define RFC2047_CHUNK 42

void mb_put(struct buf *b, const void *p, size_t n);
void mb_puts(struct buf *b, const char *s);
void mb_printf(struct buf *b, const char *fmt, ...) PRINTF_LIKE(2, 3);

void rfc2047_encode(struct buf *out, const char *utf8, size_t len);
void qp_encode(struct buf *out, const char *text, size_t len);
void base64_lines(struct buf *out, const unsigned char *data, size_t len);
void header_fold(struct buf *out, const char *name, const char *value);

#endif
