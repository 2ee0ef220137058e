/* SPDX-License-Identifier: ISC */
/*
 * The store's record of what external CAs were asked and what they made
 * that we do not keep (invariant I3: every certificate any CA issued at
 * our request is in the store; one we do not want is revoked at the CA).
 *
 *   ca_requests     one row per request sent to an external CA, written
 *                   and committed BEFORE it leaves (the CSR, the key's
 *                   SHA-256 id, a request id of our own), then marked
 *                   answered. A row still "sent" on the next run means the
 *                   answer was lost (timeout, dropped connection, a kill
 *                   in between): the engine reconciles before it submits
 *                   again (sync/provision.c).
 *   unwanted_certs  certificates a CA issued that we do not keep (refused
 *                   after issuance, found for a request we gave up on), and
 *                   lost answers a CA cannot be asked about. "pending": to
 *                   revoke at the CA through its API, retried every run;
 *                   "revoked": done; "admin": the CA has no revocation call
 *                   (a certmonger helper) or nothing can be looked up, so
 *                   the admin is told once, with the serial or the key id.
 *
 * Same conventions as store/store.h: 0 or -1 with a message in e; arrays
 * returned are new and freed with the matching _free().
 */
#ifndef SMIMESYNC_STORE_CA_REQUESTS_H
#define SMIMESYNC_STORE_CA_REQUESTS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/attrs.h"
#include "common/errbuf.h"
#include "store/store.h"

struct store_ca_request {
	int64_t id;
	int64_t action_id;
	char *ca_name;
	char *request_id; /* ours: random hex */
	char *key_id;     /* SHA-256 of the public key (SubjectPublicKeyInfo), hex */
	char *state;      /* "sent", "answered", "lost" */
	time_t created;
};

/* Record a request about to leave, inside the caller's transaction. */
int store_ca_request_add(struct store *st, const struct store_ca_request *r, const char *csr_pem,
    int64_t *id_out, struct errbuf *e) MUST_USE;
/* The newest request of an action: 1 found (*out filled, new strings), 0 none, -1 error. */
int store_ca_request_last(struct store *st, int64_t action_id, struct store_ca_request *out,
    struct errbuf *e) MUST_USE;
void store_ca_request_clear(struct store_ca_request *r);
/* state "answered" or "lost"; outcome and serial may be NULL. */
int store_ca_request_set(struct store *st, int64_t id, const char *state, const char *outcome,
    const char *serial, time_t now, struct errbuf *e) MUST_USE;

struct store_unwanted {
	int64_t id;
	char *user_id;
	char *ca_name;
	char *serial;     /* NULL for a lost answer nobody can look up */
	char *issuer;
	char *key_id;
	unsigned char *der;
	size_t der_len;
	char *why;
	int reason;       /* RFC 5280 reason code to revoke with */
	char *state;      /* "pending", "revoked", "admin" */
	int attempts;
};

/* Record one (inside the caller's transaction); a certificate already recorded is kept once. */
int store_unwanted_add(struct store *st, const struct store_unwanted *u, time_t now,
    struct errbuf *e) MUST_USE;
/* Rows to work on: "pending" ones, and "admin" ones not reported yet. */
int store_unwanted_todo(struct store *st, struct store_unwanted **out, size_t *n,
    struct errbuf *e) MUST_USE;
void store_unwanted_free(struct store_unwanted *v, size_t n);
/* New state (or NULL: unchanged) and the error of a failed attempt (NULL: none). */
int store_unwanted_set(struct store *st, int64_t id, const char *state, const char *error,
    time_t now, struct errbuf *e) MUST_USE;
int store_unwanted_reported(struct store *st, int64_t id, struct errbuf *e) MUST_USE;

#endif
