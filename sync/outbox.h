/* SPDX-License-Identifier: ISC */
/*
 * Delivering the outbox: every queued mail that is due goes out over one
 * SMTP session per batch. Accepted mails are marked sent; 4xx and
 * connection problems are retried with back-off (mail_retry_delay) until
 * [mail] max_attempts; 5xx answers fail at once. Every failure lands in the
 * run report with the recipient and the server's reply: no mail is dropped
 * silently.
 */
#ifndef SMIMESYNC_SYNC_OUTBOX_H
#define SMIMESYNC_SYNC_OUTBOX_H

#include "sync/engine.h"

/* Returns 0, or -1 when the outbox could not be read or updated at all. */
int outbox_flush(struct engine *en, struct errbuf *e) MUST_USE;

#endif
