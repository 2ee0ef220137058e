/* SPDX-License-Identifier: ISC */
/*
 * The signing log: every certificate and CRL the signer signed, every
 * revocation it recorded, every key it closed or recovered and every
 * request its policy refused, one JSON object per line in
 * <state_dir>/signing.log, each line chained to the one before it:
 *
 *   {"seq":1,"prev":"000…000","time":"2026-03-01T10:00:00Z","event":"certificate",…}
 *   {"seq":2,"prev":"<SHA-256 of line 1>","time":…}
 *
 * "prev" is the lowercase hex SHA-256 of the previous line's bytes
 * (without its newline), 64 zeros on line 1; "seq" counts lines from 1.
 * Editing or deleting a line breaks the chain at the next one; removing
 * the last lines leaves a shorter chain whose head (lines, hash of the
 * last) no longer matches the head recorded elsewhere (the run reports,
 * "smimesync audit").
 *
 * The log is also the signer's memory: revocation lists, CRL numbers, the
 * certificates of the last hour and the keys closed are what replaying it
 * gives (signer/state.h). Several signers may share a state directory
 * (each smimesync command starts its own): signlog_lock() takes an
 * exclusive lock and first applies the lines others appended, so every
 * decision is made on the whole log. A log whose chain is broken is
 * replayed no further, and nothing is appended to it: the signer refuses
 * to sign until an administrator has looked (signlog_broken()).
 *
 * Ownership: signlog_open() returns a new handle; signlog_close() frees it.
 * Events passed to signlog_append() are borrowed; "seq", "prev" and
 * "time" are set here.
 */
#ifndef SMIMESYNC_SIGNER_SIGNLOG_H
#define SMIMESYNC_SIGNER_SIGNLOG_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <jansson.h>

#include "common/attrs.h"
#include "common/errbuf.h"

#define SIGNLOG_FILE "signing.log"
/* A line longer than this is not one the signer wrote. */
#define SIGNLOG_LINE_MAX ((size_t)1 << 20)

struct signlog;

/* Called for each line, in order, as it is replayed (event borrowed). */
typedef void (*signlog_apply_fn)(void *arg, const json_t *event, uint64_t seq, time_t when);

/* Open (creating state_dir, mode 0700, and the log, 0600) and replay it into apply. */
int signlog_open(const char *state_dir, signlog_apply_fn apply, void *arg,
    struct signlog **out, struct errbuf *e) MUST_USE;
void signlog_close(struct signlog *l);
/* Why the log cannot be trusted (borrowed), or NULL. */
const char *signlog_broken(const struct signlog *l);

/* Exclusive lock, then catch up with what other signers appended. */
int signlog_lock(struct signlog *l, struct errbuf *e) MUST_USE;
void signlog_unlock(struct signlog *l);
/* Append one line (under the lock) and make it durable before returning. */
int signlog_append(struct signlog *l, json_t *event, time_t now, struct errbuf *e) MUST_USE;

/* The head: number of lines and hex SHA-256 of the last (64 zeros when empty). */
void signlog_head(const struct signlog *l, uint64_t *lines, char hash[65]);
/* Is line `line` still there with hash `hash`? enum signer_head_check. */
int signlog_check(const struct signlog *l, uint64_t line, const char *hash);

/*
 * smimesync-signer verify-log: check the chain of the file at path and
 * say so on out: the head when intact, else the first bad line
 * ("PATH:LINE: what"). With expect_line > 0, also that line's hash must
 * be expect_hash. Returns 0 intact, 1 broken, -1 unreadable.
 */
int signlog_verify_file(const char *path, uint64_t expect_line, const char *expect_hash,
    FILE *out);

#endif
