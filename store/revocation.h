/* SPDX-License-Identifier: ISC */
/*
 * The store's side of revocation lists and key recovery: the CRL number
 * of each CA (only ever grows, survives restarts), the revoked
 * certificates a CRL must list, certificates by serial, and the escrow
 * rows that recover and master-key rotation walk.
 *
 * Same conventions as store/store.h: 0 or -1 with a message in e; arrays
 * returned are new and freed with the matching _free().
 */
#ifndef SMIMESYNC_STORE_REVOCATION_H
#define SMIMESYNC_STORE_REVOCATION_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/attrs.h"
#include "common/errbuf.h"
#include "store/store.h"

/*
 * The next CRL number of ca_name (last + 1, starting at 1), recorded with
 * its signing time. Call inside a transaction; the number is used up even
 * if the CRL is never written, which keeps numbers increasing.
 */
int store_crl_next_number(struct store *st, const char *ca_name, time_t now, uint64_t *out,
    struct errbuf *e) MUST_USE;
/* When the last CRL of ca_name was signed: 1 found, 0 never, -1 error. */
int store_crl_last(struct store *st, const char *ca_name, uint64_t *number, time_t *issued,
    struct errbuf *e) MUST_USE;

struct store_revoked {
	char *serial;
	time_t revoked_at;
	int reason;
};

/* Every revoked certificate ca_name issued, oldest revocation first. */
int store_revoked_for_ca(struct store *st, const char *ca_name, struct store_revoked **out,
    size_t *n, struct errbuf *e) MUST_USE;
void store_revoked_free(struct store_revoked *v, size_t n);

/* Ids of the certificates with this serial (any issuer), at most max. */
int store_cert_ids_by_serial(struct store *st, const char *serial, int64_t *ids, size_t max,
    size_t *n, struct errbuf *e) MUST_USE;

/*
 * Blobs sealed under the master key (smime/escrow.h), wherever they live:
 * escrowed keys (id = cert id), queued mails (id = outbox id) and the keys
 * of provisioning actions (id = action id). aad is what the blob was
 * sealed with. Master-key rotation re-seals every one of them in one
 * transaction; recover opens a user's escrowed keys.
 */
enum store_sealed_table {
	SEALED_ESCROW = 0,
	SEALED_OUTBOX,
	SEALED_ACTIONS,
};

struct store_sealed {
	int64_t id;
	char *aad;
	unsigned char *sealed;
	size_t sealed_len;
};

/* Every sealed blob of a table; for SEALED_ESCROW, only user_id's when not NULL. */
int store_sealed_list(struct store *st, enum store_sealed_table t, const char *user_id,
    struct store_sealed **out, size_t *n, struct errbuf *e) MUST_USE;
void store_sealed_free(struct store_sealed *v, size_t n);
/* Replace one blob (the aad stays). */
int store_sealed_replace(struct store *st, enum store_sealed_table t, int64_t id,
    const unsigned char *sealed, size_t len, struct errbuf *e) MUST_USE;
/*
 * Forget a key that must not be kept (group escrow = no): the escrow row of
 * cert_id and the sealed key of the action that made it. Call in the
 * transaction that queues the collection mail (which carries the key, in
 * the PKCS#12, until it is sent).
 */
int store_escrow_delete(struct store *st, int64_t cert_id, struct errbuf *e) MUST_USE;
int store_action_forget_key(struct store *st, int64_t action_id, struct errbuf *e) MUST_USE;

#endif
