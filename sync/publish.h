/* SPDX-License-Identifier: ISC */
/*
 * Publishing a person's current certificate in the directory.
 *
 * The directory entry ends up holding our current certificate once in
 * userCertificate and once (as PKCS#7 with its chain) in
 * userSMIMECertificate. Values we issued earlier (found in the store by
 * issuer and serial) are removed: superseded, expired or revoked ones must
 * not shadow the new one in Outlook. Values we did not issue, or cannot
 * parse, are never touched.
 */
#ifndef SMIMESYNC_SYNC_PUBLISH_H
#define SMIMESYNC_SYNC_PUBLISH_H

#include <openssl/x509.h>

#include "directory/directory.h"
#include "sync/engine.h"

int publish_current(struct engine *en, struct dir_conn *dc, const char *dn,
    const struct store_cert *current, STACK_OF(X509) *chain, struct errbuf *e) MUST_USE;

/*
 * Remove one of our certificates from an entry: its userCertificate value
 * and every userSMIMECertificate value whose first certificate it is.
 * An entry that no longer exists has nothing to remove: that is success.
 */
int publish_remove(struct dir_conn *dc, const char *dn, const struct store_cert *cert,
    struct errbuf *e) MUST_USE;

#endif
