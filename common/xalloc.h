/* SPDX-License-Identifier: ISC */
/*
 * The out-of-memory policy of smimesync, stated once:
 *
 *   Allocation failure is not recoverable. Every allocation goes through
 *   these wrappers, which log "out of memory" and abort the process. The
 *   store and the persisted state machine guarantee that an abort at any
 *   point loses nothing: the next run resumes each user at its last
 *   recorded step.
 *
 * So callers never test these results for NULL. All returned pointers are
 * new: the caller frees them with free().
 */
#ifndef SMIMESYNC_COMMON_XALLOC_H
#define SMIMESYNC_COMMON_XALLOC_H

#include <stddef.h>

#include "common/attrs.h"

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
/* Grow an array of count elements of size bytes to at least want elements. */
void *xreallocarray(void *p, size_t count, size_t size);
char *xstrdup(const char *s);
/* NULL in, NULL out. */
char *xstrdup_or_null(const char *s);
char *xstrndup(const char *s, size_t n);
void *xmemdup(const void *p, size_t n);
char *xasprintf(const char *fmt, ...) PRINTF_LIKE(1, 2);

#endif
