/* SPDX-License-Identifier: ISC */
/*
 * Error messages that travel up the call stack.
 *
 * A function that can fail returns a status and, when it fails, writes one
 * human-readable sentence into a caller-provided struct errbuf: what went
 * wrong, where (file:line, DN, attribute, HTTP status) and, when we know,
 * what to do. Callers add context in front with err_prefix(). The buffer is
 * fixed-size so that reporting an error never allocates; long messages are
 * truncated with "...".
 *
 * Every function accepts a NULL errbuf and then simply drops the message.
 */
#ifndef SMIMESYNC_COMMON_ERRBUF_H
#define SMIMESYNC_COMMON_ERRBUF_H

#include "common/attrs.h"

#define ERRBUF_SIZE 2048

struct errbuf {
	char text[ERRBUF_SIZE];
};

void err_clear(struct errbuf *e);
void err_set(struct errbuf *e, const char *fmt, ...) PRINTF_LIKE(2, 3);
/* Prepend "context: " to the current message. */
void err_prefix(struct errbuf *e, const char *fmt, ...) PRINTF_LIKE(2, 3);
/* Append the OpenSSL error queue (most recent reason first) and clear it. */
void err_add_openssl(struct errbuf *e);

#endif
