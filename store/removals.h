/* SPDX-License-Identifier: ISC */
/*
 * The durable queue of directory removals (invariant I2): values of ours
 * that must leave the directory -- revoked, superseded or expired
 * certificates -- are queued here in the same transaction that decides
 * it, before anyone touches the directory, and stay queued until a
 * removal succeeded. A directory that is down, refuses the write, or a
 * process killed in between only delays a removal; sync/unpublish.c
 * retries every pending row at every run and the report lists what is
 * still pending.
 *
 * Same conventions as store/store.h: 0 or -1 with a message in e; arrays
 * returned are new and freed with the matching _free().
 */
#ifndef SMIMESYNC_STORE_REMOVALS_H
#define SMIMESYNC_STORE_REMOVALS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/attrs.h"
#include "common/errbuf.h"
#include "store/store.h"

struct store_removal {
	int64_t id;
	int64_t cert_id;
	char *user_id;
	char *why;        /* "revoked", "superseded", "expired" */
	int attempts;
	char *last_error; /* of the last failed attempt, or NULL */
};

/*
 * Queue cert_id for removal (once: a pending row for it is kept), inside
 * the caller's transaction. The certificate is marked unpublished at the
 * same time: from now on the queue, not the flag, says it may still be in
 * the directory.
 */
int store_removal_add(struct store *st, int64_t cert_id, const char *user_id, const char *why,
    time_t now, struct errbuf *e) MUST_USE;

/*
 * Queue every certificate of ours still marked published that is no
 * longer current -- expired by date, superseded or revoked -- in one
 * transaction of its own. *n: how many were queued.
 */
int store_removals_enqueue_stale(struct store *st, time_t now, size_t *n,
    struct errbuf *e) MUST_USE;

/* The pending removals, oldest first. */
int store_removals_pending(struct store *st, struct store_removal **out, size_t *n,
    struct errbuf *e) MUST_USE;
void store_removals_free(struct store_removal *v, size_t n);

/* The pending removal of cert_id, if any: its id (0: none), or -1. */
int64_t store_removal_pending_for(struct store *st, int64_t cert_id, struct errbuf *e);

/* Done (the value is out of the directory), or one more failed attempt. */
int store_removal_done(struct store *st, int64_t id, time_t now, struct errbuf *e) MUST_USE;
int store_removal_failed(struct store *st, int64_t id, const char *error, time_t now,
    struct errbuf *e) MUST_USE;

#endif
