/* SPDX-License-Identifier: ISC */
/*
 * The operator credential that key recovery needs (smimesync recover and
 * resend): a secret string the operator holds and smimesync's own user does
 * not. The signer's policy keeps only a verifier of it:
 *
 *   scrypt$LOG2N$R$P$SALT$HASH     (SALT 16 bytes, HASH 32 bytes, hex)
 *
 * scrypt (RFC 7914) with N = 2^15, r = 8, p = 1 costs about 32 MiB and a
 * tenth of a second per guess, so a verifier that leaks is not a
 * credential that leaks.
 *
 *   char *v = credential_verifier(secret);       ... write v to the policy ...
 *   if (credential_check(v, given, &e) != 0) ... refused, e says why ...
 *
 * credential_generate() makes a new random credential: 32 random bytes in
 * base64url (43 characters). Strings returned are new; the credential is a
 * secret (secret_free_str()).
 */
#ifndef SMIMESYNC_SMIME_CREDENTIAL_H
#define SMIMESYNC_SMIME_CREDENTIAL_H

#include "common/attrs.h"
#include "common/errbuf.h"

char *credential_generate(void);
char *credential_verifier(const char *credential);
/* Is verifier well formed? 0, or -1 with the reason. */
int credential_verifier_check(const char *verifier, struct errbuf *e) MUST_USE;
/* 0 when credential matches verifier, -1 otherwise (constant time in the hash). */
int credential_check(const char *verifier, const char *credential, struct errbuf *e) MUST_USE;

#endif
