/* SPDX-License-Identifier: ISC */
/*
 * Read-only questions about the store, for the people and programs that
 * watch smimesync rather than run it: metrics, the HTML report's charts,
 * report --since, status filters and the audit command.
 *
 *   struct store_counts c;
 *   if (store_query_counts(st, time(NULL), &c, &e) != 0) ...
 *
 * "Current certificate" means the newest certificate of a user with
 * status valid, as in status. Every function returns 0 or -1 with a
 * message in e; arrays returned are new and freed with the matching
 * _free() function.
 */
#ifndef SMIMESYNC_STORE_QUERIES_H
#define SMIMESYNC_STORE_QUERIES_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/attrs.h"
#include "common/errbuf.h"
#include "store/store.h"

/* Days-to-expiry buckets of current certificates, in this order. */
enum expiry_bucket {
	EXPIRY_EXPIRED = 0, /* not_after already passed */
	EXPIRY_30,          /* 0..30 days left */
	EXPIRY_60,          /* 31..60 */
	EXPIRY_90,          /* 61..90 */
	EXPIRY_180,         /* 91..180 */
	EXPIRY_LATER,       /* more than 180 */
	EXPIRY_BUCKETS,
};

extern const char *const expiry_bucket_names[EXPIRY_BUCKETS];

struct store_counts {
	/* Users by state: pending (an unfinished action), failed (the last
	 * action failed and no valid certificate), none, expired, valid. */
	int64_t users_total;
	int64_t users_valid;
	int64_t users_expired;
	int64_t users_none;
	int64_t users_pending;
	int64_t users_failed;
	int64_t expiring_7d;  /* current, not yet expired, expiring within 7 days */
	int64_t expiring_30d;
	int64_t expiry[EXPIRY_BUCKETS];
	int64_t mails_queued; /* the outbox now */
	int64_t mails_failed; /* gave up after max_attempts */
};

int store_query_counts(struct store *st, time_t now, struct store_counts *out,
    struct errbuf *e) MUST_USE;

/* (label, count) pairs, largest first. */
struct store_tally {
	char *label;
	int64_t n;
};

void store_tally_free(struct store_tally *v, size_t n);
/* Current, unexpired certificates by "key_type" or "group_name". */
int store_query_certs_by(struct store *st, const char *column, time_t now,
    struct store_tally **out, size_t *n, struct errbuf *e) MUST_USE;

struct store_run_row {
	char *id;
	time_t started;
	time_t finished; /* 0: never finished (killed) */
	char *status;    /* NULL when never finished */
	char *report;    /* the stored JSON, NULL when never finished */
};

void store_run_rows_free(struct store_run_row *v, size_t n);
/* Runs started at or after since, oldest first; at most limit (0: all), newest kept. */
int store_query_runs(struct store *st, time_t since, size_t limit, struct store_run_row **out,
    size_t *n, struct errbuf *e) MUST_USE;

struct store_audit_row {
	int64_t id;
	time_t time;
	char *run_id;
	char *user_id;
	char *mail;     /* the user's mail from the users table, NULL if unknown */
	char *event;
	char *detail;
	char *actor;     /* who ran the command (login name), NULL in entries older than the column */
	char *sudo_user; /* and, when that was root through sudo, who called sudo */
};

void store_audit_rows_free(struct store_audit_row *v, size_t n);
/* Audit entries at or after since, oldest first; user_key (id, mail or DN) narrows. */
int store_query_audit(struct store *st, const char *user_key_or_null, time_t since,
    struct store_audit_row **out, size_t *n, struct errbuf *e) MUST_USE;

#endif
