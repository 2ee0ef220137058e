/* SPDX-License-Identifier: ISC */
/*
 * Files: bounded reads, secret files, atomic writes.
 *
 * Secret files (CA key, master key, bind and SMTP passwords) must be
 * regular files, owned by the user smimesync runs as or by root, not
 * readable or writable by group or others, and named directly: a symbolic
 * link in the last component is refused (O_NOFOLLOW). The checks are made
 * on the open descriptor (fstat) that is then read, so the file cannot be
 * swapped between check and use. Anything else is refused with a message
 * that says which chmod/chown fixes it (STYLE 9).
 *
 * Every file smimesync writes goes through file_write_atomic() or
 * file_create_atomic(): a temporary with a random name beside the target,
 * created with O_EXCL (a planted symlink or file there is refused, never
 * followed), its final mode set before the first byte, fsync'ed, then
 * renamed (or linked) over the target. A crash leaves the old file or the
 * new one, never a partial one; a symlink at the target is replaced, not
 * followed.
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
/*
 * Refuse a secret file that is a symlink, not a regular file, owned by
 * another user than us or root, or group/world accessible.
 */
int file_check_secret(const char *path, struct errbuf *e) MUST_USE;
/*
 * Refuse a directory that holds secrets (the state directory) if it is a
 * symlink, not a directory, owned by another user than us or root, or
 * accessible by group or others; the message says which chmod fixes it.
 */
int file_check_private_dir(const char *path, struct errbuf *e) MUST_USE;
/* file_check_secret() and file_read_all() on one descriptor. */
int file_read_secret(const char *path, size_t max, char **out, size_t *len_out,
    struct errbuf *e) MUST_USE;
/* Read a one-line secret (a password): trailing CR/LF removed. */
int file_read_password(const char *path, char **out, struct errbuf *e) MUST_USE;
/* Replace path (or create it) atomically with data, in mode. */
int file_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
    struct errbuf *e) MUST_USE;
/*
 * Like file_write_atomic() but never replaces anything: fails ("already
 * exists") when any name is at path. For keys that sealed data.
 */
int file_create_atomic(const char *path, const void *data, size_t len, mode_t mode,
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
