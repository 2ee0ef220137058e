/* SPDX-License-Identifier: ISC */
/*
 * A growable byte buffer with an explicit maximum.
 *
 * Every buffer filled from the network or from a file has a maximum size
 * (STYLE 13): appending past it fails with -1 and leaves the buffer as it
 * was, so a hostile peer cannot make us allocate without bound. The data is
 * always NUL-terminated (the NUL is not counted in len), so text can be
 * used as a C string directly.
 *
 *   struct buf b;
 *   buf_init(&b, 1 << 20);
 *   if (buf_append(&b, data, n) != 0) ... too large ...
 *   use b.data, b.len
 *   buf_free(&b);
 *
 * buf_steal() hands the data to the caller (new; free() it) and resets b.
 */
#ifndef SMIMESYNC_COMMON_BUF_H
#define SMIMESYNC_COMMON_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "common/attrs.h"

struct buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max; /* 0 means unbounded: only for data we generate ourselves */
};

void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);
int buf_append(struct buf *b, const void *data, size_t n) MUST_USE;
int buf_puts(struct buf *b, const char *s) MUST_USE;
int buf_putc(struct buf *b, char c) MUST_USE;
int buf_printf(struct buf *b, const char *fmt, ...) PRINTF_LIKE(2, 3) MUST_USE;
int buf_vprintf(struct buf *b, const char *fmt, va_list ap) PRINTF_LIKE(2, 0) MUST_USE;
char *buf_steal(struct buf *b, size_t *len_out);

#endif
