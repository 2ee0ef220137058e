/* SPDX-License-Identifier: ISC */
/*
 * PKCS#12 files users can import, and their passwords.
 *
 * pkcs12_build() bundles key, leaf and chain. friendlyName is set on key
 * and leaf, localKeyID is the SHA-1 of the leaf, chain certs are included.
 * Profiles (smime/types.h): MODERN = PBES2 AES-256-CBC with PBKDF2
 * HMAC-SHA-256 for both bags and an HMAC-SHA-256 MAC; COMPAT =
 * pbeWithSHA1And3-KeyTripleDES-CBC for both bags and a SHA-1 MAC, for
 * clients that refuse AES (gpgsm 2.2, old Outlook). iterations applies to
 * both the PBE and the MAC.
 *
 * password_generate() returns a new password with at least 112 bits of
 * entropy: 24 characters from a 32-symbol alphabet without look-alikes
 * (no 0/O, 1/l/I), grouped in fours with dashes for reading aloud
 * ("k7mq-3xwz-..."). 24 * 5 = 120 bits. Free with secret_free_str().
 */
#ifndef SMIMESYNC_SMIME_PKCS12_H
#define SMIMESYNC_SMIME_PKCS12_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/attrs.h"
#include "common/errbuf.h"
#include "smime/types.h"

int pkcs12_build(EVP_PKEY *key, X509 *leaf, STACK_OF(X509) *chain,
    const char *friendly_name, const char *password, enum pkcs12_profile profile,
    int iterations, unsigned char **der, size_t *len, struct errbuf *e) MUST_USE;

/*
 * One PKCS#12 holding several key pairs (key recovery): keys[i] belongs to
 * certs[i]; each pair gets names[i] as friendlyName and the SHA-1 of its
 * certificate as localKeyID, so importers pair them; chain (may be NULL)
 * is added once. Same profiles and MAC as pkcs12_build().
 */
int pkcs12_build_many(EVP_PKEY *const *keys, X509 *const *certs, const char *const *names,
    size_t n, STACK_OF(X509) *chain, const char *password, enum pkcs12_profile profile,
    int iterations, unsigned char **der, size_t *len, struct errbuf *e) MUST_USE;

/*
 * Would gpgsm 2.2 decrypt every 3DES bag of the DER PKCS#12 with password?
 * Its key derivation departs from RFC 7292 for about one salt in 128
 * (smime/pkcs12_gpgsm.c says when); *agrees says whether this file is one
 * of them. pkcs12_build*() never return such a file in the compat profile:
 * they draw new salts until gpgsm agrees.
 */
int pkcs12_gpgsm_check(const unsigned char *der, size_t len, const char *password,
    bool *agrees, struct errbuf *e) MUST_USE;

char *password_generate(void);

#endif
