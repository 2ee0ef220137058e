/* SPDX-License-Identifier: ISC */
/*
 * What the files of signer/ that answer requests share (sctx.c dispatches;
 * op_cert.c, op_revoke.c and op_keys.c answer). Nothing outside signer/
 * includes this header.
 *
 * A handler reads its fields from r, puts its results in res and says how
 * it went in a: SIGNER_OK (the default), SIGNER_ERR, SIGNER_REFUSED or
 * SIGNER_BUSY with a message (and the wait for BUSY). Anything it appends
 * to the signing log it does between sctx_lock() and sctx_unlock(), which
 * also bring the state up to date with lines other signers wrote.
 */
#ifndef SMIMESYNC_SIGNER_SCTX_INTERNAL_H
#define SMIMESYNC_SIGNER_SCTX_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "common/buf.h"
#include "common/errbuf.h"
#include "conf/conf.h"
#include "signer/policy.h"
#include "signer/sctx.h"
#include "signer/signlog.h"
#include "signer/state.h"
#include "smime/issuer.h"
#include "smime/signer_proto.h"
#include "smime/types.h"

/* A CA key the policy names, and how loading it went. */
struct held_ca {
	const struct policy_ca *pol;
	char *id;          /* key identifier of cert (hex), NULL when cert did not load */
	X509 *cert;        /* the issuing CA certificate, when it loaded */
	struct issuer *issuer; /* NULL when it failed to load: error says why */
	char *error;
};

struct held_key {
	unsigned char key[MASTER_KEY_LEN];
	bool loaded;
	char *error;
};

struct sctx {
	struct policy *pol;        /* NULL until HELLO brings it (policy_from_peer) */
	bool policy_from_peer;
	char *start_error;         /* the policy did not load: every request gets this */
	struct held_ca *cas;
	size_t n_cas;
	struct held_key keys[SIGNER_N_SLOTS];
	char *next_path;
	struct conf_service seal;  /* master_key_uri and its PIN (borrowed from pol) */
	struct signlog *log;
	struct signer_state st;
};

struct answer {
	uint32_t status;
	uint64_t retry_after;
	struct errbuf e;
};

void answer_err(struct answer *a, uint32_t status, const char *fmt, ...) PRINTF_LIKE(3, 4);

/* The CA with key identifier id, with its key; NULL with a in error. */
struct held_ca *sctx_find_ca(struct sctx *c, const char *id, struct answer *a);
/* The master key of slot, or NULL with a in error. */
const unsigned char *sctx_master_key(struct sctx *c, uint32_t slot, struct answer *a);

int sctx_lock(struct sctx *c, struct answer *a) MUST_USE;
void sctx_unlock(struct sctx *c);
/* Append event (stolen) to the log under the lock; on failure a says why. */
int sctx_log(struct sctx *c, json_t *event, struct answer *a) MUST_USE;
/*
 * A JSON string (new) for s, which may come from the client: bytes that
 * are not UTF-8 are written as \xHH, so no request can make a log line
 * impossible to write.
 */
json_t *sctx_str(const char *s);
/* A new event object {"event": name, "requester": requester (when set)}. */
json_t *sctx_event(const char *name, const char *requester, const struct sconn *conn);
/* The fault points of the test build (die:OP / hang:OP in SMIMESYNC_SIGNER_FAULT). */
void sctx_fault(const char *op);

/* The handlers. */
void op_sign_cert(struct sctx *c, struct sconn *conn, struct sp_reader *r, struct buf *res,
    struct answer *a);
void op_revoke(struct sctx *c, struct sconn *conn, struct sp_reader *r, struct buf *res,
    struct answer *a);
void op_revoked(struct sctx *c, struct sconn *conn, struct sp_reader *r, struct buf *res,
    struct answer *a);
void op_sign_crl(struct sctx *c, struct sconn *conn, struct sp_reader *r, struct buf *res,
    struct answer *a);
void op_seal(struct sctx *c, struct sconn *conn, struct sp_reader *r, struct buf *res,
    struct answer *a);
void op_unseal(struct sctx *c, struct sconn *conn, struct sp_reader *r, struct buf *res,
    struct answer *a);
void op_reseal(struct sctx *c, struct sconn *conn, struct sp_reader *r, struct buf *res,
    struct answer *a);
void op_probe(struct sctx *c, struct sconn *conn, struct sp_reader *r, struct buf *res,
    struct answer *a);
void op_escrow(struct sctx *c, struct sconn *conn, struct sp_reader *r, struct buf *res,
    struct answer *a);
void op_close_key(struct sctx *c, struct sconn *conn, struct sp_reader *r, struct buf *res,
    struct answer *a);
void op_recover(struct sctx *c, struct sconn *conn, struct sp_reader *r, struct buf *res,
    struct answer *a);

/* The lowercase hex SHA-256 of key's SubjectPublicKeyInfo (new), for closed keys and logs. */
char *spki_hash(EVP_PKEY *key);

#endif
