/* SPDX-License-Identifier: ISC */
/*
 * Where a CA's private key comes from: the one function every process that
 * holds a CA key (the signer, "ca init" writing the first key, unit tests)
 * calls to get it. Private to smime/ and signer/.
 *
 * key_ref names the key. Today it is a file path: a PEM private key in a
 * secret file (refused when the group or others may read it). A PKCS#11
 * URI (RFC 7512, "pkcs11:token=...;object=...") is the other form this
 * function is meant to grow into; pin_file is then the file that holds
 * the token's PIN (NULL: none), and is ignored for a file path.
 *
 *   EVP_PKEY *k = NULL;
 *   if (ca_key_load(conf->key_file, NULL, &k, &e) != 0) ... e says which file and why ...
 *   ... sign with k ...
 *   EVP_PKEY_free(k);
 *
 * Its one caller is issuer_open() (issuer.c): in smimesync-signer with the
 * policy's [ca] key_file and pin_file (signer/sctx.c), and in-process for
 * unit tests with no PIN (ca_local.c). The signer is started with exec and
 * never forks after loading keys, so a PKCS#11 module loaded here is safe.
 *
 * Ownership: *out is new (EVP_PKEY_free()); it must be NULL on entry.
 */
#ifndef SMIMESYNC_SMIME_CA_KEY_H
#define SMIMESYNC_SMIME_CA_KEY_H

#include <openssl/evp.h>

#include "common/attrs.h"
#include "common/errbuf.h"

int ca_key_load(const char *key_ref, const char *pin_file, EVP_PKEY **out, struct errbuf *e)
    MUST_USE;

#endif
