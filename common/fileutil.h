/* SPDX-License-Identifier: ISC */
/*
 * Files: bounded reads, secret files, atomic writes.
 *
 * Secret files (CA key, master key, bind and SMTP passwords) must be
 * regular files not readable or writable by group or others; anything else
 * is refused with a message that says which chmod fixes it (STYLE 9).
 * Atomic writes go to a temporary file in the same directory, are fsync'ed
 * and renamed, so a crash leaves either the old file or the new one.
 *
 * Returned buffers are new (free() them; secrets: cleanse first with
 * secret_free()). All reads are NUL-terminated (NUL not counted).
 */
#ifndef SMIMESYNC_COMMON_FILEUTIL_H
#define SMIMESYNC_COMMON_FILEUTIL_H

#include <stddef.h>
#include <sys/types.h>

#include "common/attrs.h"
#include "common/errbuf.h"

int file_read_all(const char *path, size_t max, char **out, size_t *len_out,
    struct errbuf *e) MUST_USE;
/* Refuse a secret file that is group/world accessible or not a regular file. */
int file_check_secret(const char *path, struct errbuf *e) MUST_USE;
/*
 * Refuse a directory that holds secrets (the state directory) if it is
 * not a directory or is accessible by group or others; the message says
 * which chmod fixes it.
 */
int file_check_private_dir(const char *path, struct errbuf *e) MUST_USE;
/* file_check_secret() then file_read_all(). */
int file_read_secret(const char *path, size_t max, char **out, size_t *len_out,
    struct errbuf *e) MUST_USE;
/* Read a one-line secret (a password): trailing CR/LF removed. */
int file_read_password(const char *path, char **out, struct errbuf *e) MUST_USE;
int file_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
    struct errbuf *e) MUST_USE;
int file_exists(const char *path);
/* rename(from, to) and make it durable: fsync the directory that holds both names. */
int file_replace_durably(const char *from, const char *to, struct errbuf *e) MUST_USE;
/*
 * Claim bytes of disk space in a new file at path (mode 0600, replaced if
 * it exists), so that they can be handed back (unlink) at the moment a
 * write must not fail for lack of space. Fails with ENOSPC's message when
 * the space is not there, and then leaves no file behind.
 */
int file_reserve(const char *path, off_t bytes, struct errbuf *e) MUST_USE;
/* Create a directory and its parents; the last component gets mode. */
int mkdir_p(const char *path, mode_t mode, struct errbuf *e) MUST_USE;
/* Zero then free a buffer that held a secret. NULL is fine. */
void secret_free(void *p, size_t len);
/* Zero then free a NUL-terminated secret string. */
void secret_free_str(char *s);

#endif
