/* SPDX-License-Identifier: ISC */
/*
 * Room store/: the SQLite store (schema, numbered migrations, queries);
 * it depends on common/ only.
 *
 * The store: smimesync's system of record, one SQLite file.
 *
 * What we issued, to whom, where each user's provisioning stands, what
 * mail is waiting, every run's report and an append-only audit log. The
 * directory is only a published copy of part of this.
 *
 *   struct store *st = NULL;
 *   if (store_open(state_dir, &st, &e) != 0) ...
 *   store_begin(st, &e); ... writes ... store_commit(st, &e);
 *   store_close(st);
 *
 * store_open() creates state_dir (0700) and the database (0600), switches
 * to WAL and applies numbered migrations (PRAGMA user_version). Only one
 * process writes at a time: store_lock() takes an exclusive lock file in
 * state_dir for the duration of a run.
 *
 * Every function returns 0 or -1 with a message in e. Structs returned
 * through out-parameters own their strings and blobs; free them with the
 * matching _clear() or _free() function.
 */
#ifndef SMIMESYNC_STORE_STORE_H
#define SMIMESYNC_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/attrs.h"
#include "common/errbuf.h"

struct store;

int store_open(const char *state_dir, struct store **out, struct errbuf *e) MUST_USE;
/* Open an existing store read-only (status, report): never creates anything. */
int store_open_readonly(const char *state_dir, struct store **out, struct errbuf *e) MUST_USE;
void store_close(struct store *st);
/*
 * Exclusive lock on state_dir/lock. Another process holding it is waited
 * for, up to a minute (store_set_lock_wait), then refused with its path.
 */
int store_lock(struct store *st, struct errbuf *e) MUST_USE;
/* The longest store_lock waits, in milliseconds (tests: 0, refuse at once). */
void store_set_lock_wait(unsigned ms);
int store_begin(struct store *st, struct errbuf *e) MUST_USE;
int store_commit(struct store *st, struct errbuf *e) MUST_USE;
void store_rollback(struct store *st);
int store_integrity_check(struct store *st, struct errbuf *e) MUST_USE;

/* ---- users ---- */

struct store_user {
	char *id;
	char *source;
	char *dn;
	char *mail;
	char *display_name;
	char *group_name;
	char *language;     /* preferred language as the directory says it, or NULL */
	time_t first_seen;
	time_t last_seen;
	/* Read by store_user_find only (upsert leaves them alone): */
	time_t left_at;     /* recorded as gone at, 0 if not */
	char *left_reason;
	bool ignored;
	bool notifications_suspended;
	char *ca_hold;      /* why the CA rejected the last request, or NULL */
};

int store_user_upsert(struct store *st, const struct store_user *u, struct errbuf *e) MUST_USE;
/* Find by id, or by mail when key contains '@'. Returns 1 found, 0 not, -1 error. */
int store_user_find(struct store *st, const char *key, struct store_user *out,
    struct errbuf *e) MUST_USE;
void store_user_clear(struct store_user *u);

/* ---- certificates ---- */

enum cert_status {
	CERT_VALID = 0,   /* current: may still be expired by date */
	CERT_SUPERSEDED,  /* replaced by a renewal */
	CERT_REVOKED,
};

const char *cert_status_name(enum cert_status s);

struct store_cert {
	int64_t id;
	char *user_id;
	int64_t action_id;
	char *group_name;
	char *ca_name;
	char *serial;
	char *issuer;
	char *fingerprint;
	char *mail;
	char *key_type;
	time_t not_before;
	time_t not_after;
	enum cert_status status;
	bool published;
	unsigned char *der;
	size_t der_len;
	char *chain_pem;
	time_t created;
	time_t revoked_at;      /* 0 unless revoked */
	int revocation_reason;  /* RFC 5280 CRLReason code, -1 when not revoked */
	/*
	 * Written by store_cert_insert() only (NULL when read back): every
	 * alternative address the certificate was asked for, lowercased, one a
	 * line (I5: losing any of them is a reissue).
	 */
	const char *alt_mails;
};

void store_cert_clear(struct store_cert *c);
void store_certs_free(struct store_cert *v, size_t n);

int store_cert_insert(struct store *st, const struct store_cert *c, int64_t *id_out,
    struct errbuf *e) MUST_USE;
int store_cert_get(struct store *st, int64_t id, struct store_cert *out, struct errbuf *e) MUST_USE;
/* Every cert of a user, newest first. with_der: also load DER and chain. */
int store_certs_for_user(struct store *st, const char *user_id, bool with_der,
    struct store_cert **out, size_t *n, struct errbuf *e) MUST_USE;
int store_cert_set_status(struct store *st, int64_t id, enum cert_status s,
    struct errbuf *e) MUST_USE;
int store_cert_set_published(struct store *st, int64_t id, bool published,
    struct errbuf *e) MUST_USE;
/* Mark revoked at `when` with an RFC 5280 CRLReason code (sync/revoke.h). */
int store_cert_set_revoked(struct store *st, int64_t id, time_t when, int reason,
    struct errbuf *e) MUST_USE;
/* Is (issuer, serial) a certificate we issued? Returns 1/0, -1 on error. */
int store_cert_is_ours(struct store *st, const char *issuer, const char *serial,
    struct store_cert *out_or_null, struct errbuf *e) MUST_USE;

/*
 * The per-user summary the planner needs, for every user at once:
 * the newest cert with status VALID (id 0 when none) and whether an
 * unfinished action exists. Called once per run (one query, not one per user).
 */
struct store_user_state {
	char *user_id;
	char *mail;          /* mail on the current cert */
	int64_t cert_id;
	time_t not_after;
	bool published;
	int64_t open_action; /* id of an unfinished action, 0 if none */
	char *display_name;  /* as recorded at the last run */
	char *group_name;    /* the group that governed this person at the last run */
	bool ignored;        /* an admin said: never provision, never mail */
	bool force_issue;    /* an admin asked for a new certificate */
	bool revoked;        /* the newest certificate was revoked, none valid since */
	time_t left_at;      /* when we first saw this person leave, 0 if not */
	char *ca_hold;       /* why the CA rejected this person's last request, or NULL */
	/* The unfinished action (open_action), for the planner's I4 check: */
	char *open_cert_status; /* status of the certificate it made, NULL if none yet */
	char *open_serial;      /* that certificate's serial, NULL if none yet */
	time_t open_created;    /* when it was planned */
	bool open_at_ca;        /* an external CA holds its request (a cookie) */
	time_t revoked_at;      /* revoked: when the newest certificate was revoked */
	char *alt_mails;        /* the current certificate's alternative addresses, lowercased,
	                           one a line; NULL when not recorded (issued before) */
	/* The unfinished action's addresses, for the planner's I5 check of a resume: */
	char *open_mail;        /* the primary address it was planned for */
	int64_t open_cert_id;   /* the certificate it made, 0 if none yet */
	char *open_alt_mails;   /* that certificate's alternative addresses, as alt_mails */
	/* Where the person was read at the last run, to look them up again alone: */
	char *dn;               /* their entry (Graph: userPrincipalName or users/ID) */
	char *source;           /* the [directory] they were read from */
};

int store_load_states(struct store *st, struct store_user_state **out, size_t *n,
    struct errbuf *e) MUST_USE;
void store_states_free(struct store_user_state *v, size_t n);

int store_escrow_put(struct store *st, int64_t cert_id, const char *aad,
    const unsigned char *sealed, size_t len, struct errbuf *e) MUST_USE;

/* ---- actions: the persisted per-user state machine ---- */

struct store_action {
	int64_t id;
	char *run_id;
	char *user_id;
	char *kind;        /* "issue" | "renew" */
	char *state;       /* see sync/provision.h */
	char *group_name;
	char *mail;
	unsigned char *sealed_key;
	size_t sealed_key_len;
	int64_t cert_id;
	int64_t old_cert_id;
	int attempts;
	char *last_error;
	char *ca_cookie;     /* an external CA's reference to a pending request, or NULL */
	char *ca_cookie_ca;  /* the [ca] section that gave it */
	time_t ca_next_try;  /* do not ask the CA before this (0: any time) */
	int ca_failures;     /* unreachable answers in a row, for the back-off */
};

void store_action_clear(struct store_action *a);
int store_action_create(struct store *st, const struct store_action *a, int64_t *id_out,
    struct errbuf *e) MUST_USE;
int store_action_get(struct store *st, int64_t id, struct store_action *out,
    struct errbuf *e) MUST_USE;
/* Move to state; error_or_null is recorded as last_error (NULL clears it). */
int store_action_set_state(struct store *st, int64_t id, const char *state,
    const char *error_or_null, struct errbuf *e) MUST_USE;
int store_action_set_key(struct store *st, int64_t id, const unsigned char *sealed,
    size_t len, struct errbuf *e) MUST_USE;
int store_action_set_cert(struct store *st, int64_t id, int64_t cert_id,
    struct errbuf *e) MUST_USE;
int store_action_bump_attempts(struct store *st, int64_t id, struct errbuf *e) MUST_USE;
/*
 * Record where a request stands at CA ca_name: its cookie (NULL: none),
 * next try, failures.
 */
int store_action_set_ca(struct store *st, int64_t id, const char *ca_name,
    const char *cookie_or_null, time_t next_try, int failures, struct errbuf *e) MUST_USE;
/*
 * Hold a person back after their CA rejected a request (reason), or
 * release them (NULL). A held person is not provisioned until an admin
 * asks for it (smimesync issue), which releases the hold.
 */
int store_user_set_ca_hold(struct store *st, const char *user_id, const char *reason_or_null,
    struct errbuf *e) MUST_USE;

/* ---- outbox ---- */

struct store_mail {
	int64_t id;
	int64_t action_id;
	char *user_id;
	char *kind;        /* "collection" | "password" | a reminder | "notice" */
	char *recipient;
	char *aad;
	unsigned char *sealed;
	size_t sealed_len;
	char *state;       /* "queued" | "sent" | "failed" */
	int attempts;
	time_t next_attempt;
	char *last_error;
	char *reply;       /* the server's reply when it accepted the mail, or NULL */
	time_t created;
	time_t updated;    /* when it was sent or last tried, 0 if never */
	/*
	 * Read by store_outbox_due() only: the status ("valid", "superseded",
	 * "revoked") of the certificate the mail's action made, NULL when the
	 * mail carries none. A collection or password mail for a certificate
	 * that is no longer valid is cancelled, never sent (invariant I4).
	 */
	char *cert_status;
};

void store_mail_clear(struct store_mail *m);
void store_mails_free(struct store_mail *v, size_t n);
int store_outbox_add(struct store *st, const struct store_mail *m, int64_t *id_out,
    struct errbuf *e) MUST_USE;
/* Queued mails due at now, oldest first, at most limit. */
int store_outbox_due(struct store *st, time_t now, size_t limit, struct store_mail **out,
    size_t *n, struct errbuf *e) MUST_USE;
/*
 * Record an attempt: reply is what the server answered. It is kept as the
 * mail's reply when state is "sent" (for the helpdesk: it holds the
 * server's queue id), as its last_error otherwise. A mail that reaches its
 * end ("sent" or "failed") loses its sealed payload in the same statement:
 * nothing sealed in the outbox outlives its delivery, whatever the group's
 * escrow says (I6).
 */
int store_outbox_update(struct store *st, int64_t id, const char *state, int attempts,
    time_t next_attempt, const char *reply, time_t now, struct errbuf *e) MUST_USE;
/*
 * Every mail of one user, newest first, at most limit, without the sealed
 * message (sealed is NULL): for status USER and resend.
 */
int store_outbox_for_user(struct store *st, const char *user_id, size_t limit,
    struct store_mail **out, size_t *n, struct errbuf *e) MUST_USE;
/*
 * The certificate mail of an action failed for good: fail its queued
 * password mail too (a password without its file helps nobody). Returns
 * the number of mails changed, or -1.
 */
int store_outbox_fail_siblings(struct store *st, int64_t action_id, const char *reason,
    time_t now, struct errbuf *e) MUST_USE;
/* Queued mails due at now (a delivery's progress: its total). */
int store_outbox_due_count(struct store *st, time_t now, int64_t *count,
    struct errbuf *e) MUST_USE;
/* Counts of mails per state for one user (for status). */
int store_outbox_count(struct store *st, const char *state, int64_t *count,
    struct errbuf *e) MUST_USE;

/* ---- runs and reports ---- */

int store_run_start(struct store *st, const char *run_id, time_t started,
    struct errbuf *e) MUST_USE;
int store_run_finish(struct store *st, const char *run_id, time_t finished,
    const char *status, const char *report_json, struct errbuf *e) MUST_USE;
/* run_id NULL: the latest finished run. Returns 1 found, 0 none, -1 error. */
int store_run_report(struct store *st, const char *run_id, char **json_out,
    struct errbuf *e) MUST_USE;

/* ---- audit ---- */

int store_audit(struct store *st, const char *run_id, const char *user_id, const char *event,
    const char *detail, struct errbuf *e) MUST_USE;

/* ---- lifecycle (store/holders.c) ---- */

/*
 * A certificate that is still alive (not expired, not revoked) with its
 * owner: leavers and reminders are decided from these.
 */
struct store_holder {
	char *user_id;
	char *mail;          /* the user's current mail */
	char *display_name;
	char *dn;
	char *group_name;    /* the group the certificate was issued under */
	int64_t cert_id;
	char *cert_mail;
	char *serial;
	time_t not_before;
	time_t not_after;
	enum cert_status status;
	time_t left_at;
	bool ignored;
	bool notifications_suspended;
	char *language;      /* the user's preferred language from the directory, or NULL */
	/*
	 * The certificate never reached its holder: an unfinished provisioning
	 * made it, and it is neither published nor was any of its mails sent.
	 * open_action is that provisioning (0 when delivered).
	 */
	bool undelivered;
	int64_t open_action;
	int64_t *reminded;   /* thresholds already recorded for this certificate, largest first */
	size_t n_reminded;
};

/*
 * Every live certificate at now, ordered by user id then newest first,
 * with the reminder thresholds already recorded for each: all the planner
 * needs to decide leavers and reminders without asking again.
 */
int store_holders(struct store *st, time_t now, struct store_holder **out, size_t *n,
    struct errbuf *e) MUST_USE;
void store_holders_free(struct store_holder *v, size_t n);
/* Record (left_at != 0) or clear (left_at == 0) that a person left. */
int store_user_set_left(struct store *st, const char *user_id, time_t left_at,
    const char *reason, struct errbuf *e) MUST_USE;
/*
 * Set a per-user switch: "ignored", "notifications_suspended" or
 * "force_issue". user_key is an id, DN or mail. Returns 1 when a user
 * matched, 0 when none did, -1 on error.
 */
int store_user_set_switch(struct store *st, const char *user_key, const char *which, bool on,
    struct errbuf *e) MUST_USE;
/* Has a reminder for this certificate and threshold been sent? 1/0/-1. */
int store_reminder_sent(struct store *st, int64_t cert_id, int64_t threshold,
    struct errbuf *e) MUST_USE;
int store_reminder_record(struct store *st, int64_t cert_id, int64_t threshold,
    const char *kind, time_t now, struct errbuf *e) MUST_USE;

/* ---- change streams (store/stream.c) ---- */

/*
 * Where the change stream of one [directory] stands. state is the string
 * directory/'s dir_watch handed out with the last batch of changes the
 * caller acted on (NULL: none); store it with store_stream_put() in the
 * same transaction as what those changes did, so that a crash between the
 * two cannot skip or repeat a change. kind, server, server_id and
 * position describe it for people (status, reports): they are copied
 * from the directory's struct dir_stream_info and never read back into
 * the stream. issued: when the stream's position was issued by the
 * server (a Graph delta link), 0 if it does not age. last_full_read: when
 * the last full read of the directory's groups completed, 0 if never.
 */
struct store_stream {
	char *directory;   /* the [directory] name */
	char *kind;        /* "syncrepl", "ad-usn", "ad-dirsync", "graph-delta", or NULL */
	char *state;
	char *server;
	char *server_id;
	char *position;
	time_t issued;
	time_t last_full_read;
	time_t updated;
};

void store_stream_clear(struct store_stream *s);
/* Returns 1 found (out filled, new strings), 0 none, -1 error. */
int store_stream_get(struct store *st, const char *directory, struct store_stream *out,
    struct errbuf *e) MUST_USE;
/*
 * Insert or replace the row of s->directory with every field of s (updated
 * is set to now). Call it inside the caller's store_begin()/commit().
 */
int store_stream_put(struct store *st, const struct store_stream *s, time_t now,
    struct errbuf *e) MUST_USE;
/* Record that a full read of directory completed at when; keeps the rest. */
int store_stream_full_read(struct store *st, const char *directory, time_t when,
    struct errbuf *e) MUST_USE;
/*
 * Forget the stream position of directory (a full read comes next), keeping
 * when the last full read happened. Returns the number of rows changed.
 */
int store_stream_forget(struct store *st, const char *directory, struct errbuf *e) MUST_USE;
/*
 * The other people (user ids, new array of new strings) the store knows
 * with address addr (compared without case): as their directory mail at
 * the last run, or on a valid certificate of theirs. user_id is left out.
 * An incremental run plans a few people; before it certifies an address
 * it asks whether someone it did not read claims it too (invariant I5).
 */
int store_address_claimants(struct store *st, const char *addr, const char *user_id,
    char ***out, size_t *n_out, struct errbuf *e) MUST_USE;

/* ---- listing for status ---- */

struct store_status_row {
	char *user_id;
	char *mail;
	char *display_name;
	char *group_name;
	char *serial;       /* NULL when the user has no current certificate */
	time_t not_after;
	bool published;
	char *open_state;   /* state of an unfinished action, or NULL */
	char *last_error;
	bool ca_pending;    /* the open action waits for an external CA (has a cookie) */
	time_t ca_next_try; /* when the CA is asked next, 0 if not waiting */
	char *ca_hold;      /* the CA rejected the last request: why (until smimesync issue) */
};

int store_status_rows(struct store *st, const char *user_key_or_null,
    struct store_status_row **out, size_t *n, struct errbuf *e) MUST_USE;
void store_status_rows_free(struct store_status_row *v, size_t n);

#endif
