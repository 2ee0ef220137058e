/* SPDX-License-Identifier: ISC */
/*
 * The store's sealed blobs: escrowed keys, queued mails and the keys of
 * provisioning actions, all sealed under the master key (smime/escrow.h).
 *
 * Same conventions as store/store.h: 0 or -1 with a message in e; arrays
 * returned are new and freed with the matching _free().
 */
#ifndef SMIMESYNC_STORE_SEALED_H
#define SMIMESYNC_STORE_SEALED_H

#include <stddef.h>
#include <stdint.h>

#include "common/attrs.h"
#include "common/errbuf.h"
#include "store/store.h"

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

/*
 * Escrowed keys still sealed the way provisioning sealed them (associated
 * data not "escrow:..."), written before escrowed keys went under the
 * signer's recovery control, and only those whose provisioning is over:
 * at most max, with the certificate's DER, for sync/escrow_upgrade.c.
 */
struct store_legacy_escrow {
	int64_t cert_id;
	int64_t action_id; /* 0: none */
	char *aad;
	unsigned char *sealed;
	size_t sealed_len;
	unsigned char *der;
	size_t der_len;
};

int store_escrow_legacy(struct store *st, size_t max, struct store_legacy_escrow **out,
    size_t *n, struct errbuf *e) MUST_USE;
void store_legacy_escrow_free(struct store_legacy_escrow *v, size_t n);

#endif
