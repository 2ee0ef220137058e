/* SPDX-License-Identifier: ISC */
/*
 * Revoking one of our certificates: record it in the store (status
 * revoked, time, RFC 5280 reason) and take it out of the directory at
 * once, so no mail client finds it again. The CRL is written from the
 * store's revoked certificates.
 *
 * The planner does not issue a new certificate to someone whose newest
 * certificate was revoked until an admin asks (smimesync issue).
 */
#ifndef SMIMESYNC_SYNC_REVOKE_H
#define SMIMESYNC_SYNC_REVOKE_H

#include <stdint.h>

#include "sync/engine.h"

/* RFC 5280 CRLReason codes we use. Never 0 (unspecified) in a CRL. */
enum revoke_reason {
	REVOKE_UNSPECIFIED = 0,
	REVOKE_KEY_COMPROMISE = 1,
	REVOKE_AFFILIATION_CHANGED = 3,
	REVOKE_SUPERSEDED = 4,
	REVOKE_CESSATION_OF_OPERATION = 5,
};

/*
 * Revoke cert_id in its own transaction, then unpublish it from target
 * (the group's publish directory; NULL: do not touch any directory), where
 * the person is dn in source (publish_locate()). A directory failure
 * leaves the revocation recorded and returns -1 with the reason; the
 * removal stays in the store's queue (store/removals.h), queued in the
 * revocation's own transaction, and every run retries it
 * (sync/unpublish.h) until it is done.
 */
int revoke_cert(struct engine *en, int64_t cert_id, const char *dn, enum revoke_reason reason,
    const struct conf_directory *source, const struct conf_directory *target,
    struct errbuf *e) MUST_USE;

/*
 * I3: a certificate (with its DER) of an external CA is revoked there too,
 * through its API: queued, inside the caller's transaction, for
 * sync/unwanted.c, which the run carries out and retries until it is
 * done; a CA without a revocation call (a certmonger helper) is reported
 * to the admin once, with the serial. Certificates of the internal CA
 * need nothing more: the store and its CRL are the revocation. revoke_cert()
 * calls it; so does every other place that marks a certificate revoked.
 */
int revoke_at_external_ca(struct engine *en, const struct store_cert *c,
    enum revoke_reason reason, struct errbuf *e) MUST_USE;

#endif
