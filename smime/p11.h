/* SPDX-License-Identifier: ISC */
/*
 * Private keys on PKCS#11 tokens, under ca_key.h (which says what the
 * traps are and how they are avoided). Private to smime/: everyone else
 * goes through ca_key.h.
 *
 * p11_token.c finds keys through libp11 (PKCS11_* API: load the module,
 * enumerate slots, log in, find the key, PKCS11_get_private_key) and
 * reconnects; p11_keygen.c creates keys for "ca init" with the module's
 * own C_GenerateKeyPair, which libp11 0.4 cannot do for EC keys.
 *
 * Ownership: p11_key_open() returns a new handle, p11_key_close() frees
 * it; p11_key_pkey() is borrowed until the next reconnect or close and is
 * NULL while the key's module was reloaded for another key.
 */
#ifndef SMIMESYNC_SMIME_P11_H
#define SMIMESYNC_SMIME_P11_H

#include <stdbool.h>

#include <openssl/evp.h>

#include "common/attrs.h"
#include "common/errbuf.h"
#include "smime/types.h"

struct p11_key;

/* pin: the token's user PIN (borrowed, copied), or NULL for a token without login. */
int p11_key_open(const char *uri, const char *pin, struct p11_key **out, struct errbuf *e)
    MUST_USE;
void p11_key_close(struct p11_key *k);
EVP_PKEY *p11_key_pkey(const struct p11_key *k);
int p11_key_reconnect(struct p11_key *k, struct errbuf *e) MUST_USE;

/* ca_key_token_make() of ca_key.h; pin as above. */
int p11_key_generate(const char *uri, const char *pin, enum key_type type, bool wrap,
    bool *created, struct errbuf *e) MUST_USE;

#endif
