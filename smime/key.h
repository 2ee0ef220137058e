/* SPDX-License-Identifier: ISC */
/*
 * Subscriber and CA key pairs.
 *
 * key_generate() makes a fresh key of the configured type with OpenSSL 3's
 * EVP API. It is thread-safe, so the engine may generate keys on every core.
 * Keys travel between rooms as EVP_PKEY (new: EVP_PKEY_free()) and rest in
 * the store only as PKCS#8 DER sealed with smime/escrow.h.
 */
#ifndef SMIMESYNC_SMIME_KEY_H
#define SMIMESYNC_SMIME_KEY_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/evp.h>

#include "common/attrs.h"
#include "common/errbuf.h"
#include "smime/types.h"

int key_generate(enum key_type type, EVP_PKEY **out, struct errbuf *e) MUST_USE;
/* Unencrypted PKCS#8 DER (new; cleanse with secret_free()). */
int key_to_pkcs8_der(EVP_PKEY *key, unsigned char **der, size_t *len, struct errbuf *e) MUST_USE;
int key_from_pkcs8_der(const unsigned char *der, size_t len, EVP_PKEY **out,
    struct errbuf *e) MUST_USE;
/*
 * A PEM private key in memory (what names it in messages). An encrypted
 * key is refused, unless prompt: then OpenSSL asks for its passphrase on
 * the terminal (for the offline root key, brought back by an admin).
 */
int key_from_pem(const char *what, const char *data, size_t len, bool prompt, EVP_PKEY **out,
    struct errbuf *e) MUST_USE;
/* Load a PEM private key from a secret file (refused if group/world readable). */
int key_load_pem_file(const char *path, EVP_PKEY **out, struct errbuf *e) MUST_USE;
/* Write a PEM private key, mode 0600, atomically. */
int key_save_pem_file(const char *path, EVP_PKEY *key, struct errbuf *e) MUST_USE;
/* "rsa2048", "p256" ... of an existing key, for reports; static string. */
const char *key_describe(EVP_PKEY *key);

#endif
