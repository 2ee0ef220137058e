/* SPDX-License-Identifier: ISC */
/*
 * A local CA's issuing certificate and private key in this process, and
 * what is signed with them: leaves in the profile a request names
 * (profile.c) and CRLs (crl.c). Private to smime/.
 *
 * Only a process that may hold CA keys uses this: the signer process
 * (smimesync-signer, signer/), and the local CA backend (ca_local.c) when ca_open()
 * was given no signer (unit tests). Everyone else asks the signer through
 * ca.h. The code is kept free of network and directory code.
 *
 * issuer_open() loads the key through ca_key_load() (ca_key.h): conf's
 * key_uri with pin_file or pin_credential (the signer fills them in from
 * its policy for a token key), else key_file; and it checks everything that can be checked before the first
 * request (files, permissions, key matches certificate, CA flags,
 * validity, URLs), so a broken CA is found at start-up rather than once
 * per user.
 *
 * Ownership: issuer_open() returns a new handle; issuer_close() frees it
 * with the key. Certificates, chain and key it hands out are borrowed
 * until then.
 */
#ifndef SMIMESYNC_SMIME_ISSUER_H
#define SMIMESYNC_SMIME_ISSUER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/attrs.h"
#include "common/errbuf.h"
#include "conf/conf.h"
#include "smime/ca_result.h"
#include "smime/crl.h"

struct issuer;

int issuer_open(const struct conf_ca *conf, struct issuer **out, struct errbuf *e) MUST_USE;
void issuer_close(struct issuer *is);
/* The issuing CA certificate, and its chain: issuing CA first, up to the root. */
X509 *issuer_cert(const struct issuer *is);
EVP_PKEY *issuer_key(const struct issuer *is);
STACK_OF(X509) *issuer_chain(const struct issuer *is);

/*
 * Sign a leaf for csr as req asks (ca_submit() of the local CA): CA_ISSUED
 * with out->cert (new) and out->chain (new references to the chain), or
 * CA_REJECTED / CA_MISCONFIGURED with out->reason.
 */
enum ca_outcome issuer_sign_leaf(struct issuer *is, X509_REQ *csr, const struct ca_request *req,
    struct ca_result *out) MUST_USE;
/* Sign a CRL (ca_make_crl() of the local CA; ca.h says what it holds). */
int issuer_sign_crl(struct issuer *is, const struct crl_entry *entries, size_t n,
    uint64_t number, time_t now, int64_t lifetime, unsigned char **der, size_t *len,
    struct errbuf *e) MUST_USE;

#endif
