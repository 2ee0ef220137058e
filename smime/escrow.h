/* SPDX-License-Identifier: ISC */
/*
 * Sealing secrets at rest under the master key.
 *
 * The master key is 32 random bytes, kept as 64 hex digits in
 * [service] master_key_file (mode 0600, refused otherwise). Escrowed
 * private keys and queued mails that hold secrets are sealed with
 * AES-256-GCM: a fresh 96-bit nonce per seal, and an "associated data"
 * string (e.g. "key:cert=42") that binds the blob to its place in the
 * store, so a blob copied to another row does not open.
 *
 * Sealed format: "SS1" | nonce (12) | ciphertext | tag (16).
 * Buffers returned are new; plaintext buffers should be cleansed
 * (secret_free()).
 *
 * While a signer process runs (signer.h), master_key_load() does not read
 * the file: it returns a handle to the key the signer holds, and sealing
 * and opening with it are requests to the signer. master_key_create() of
 * <master_key_file>.new is then done by the signer too.
 */
#ifndef SMIMESYNC_SMIME_ESCROW_H
#define SMIMESYNC_SMIME_ESCROW_H

#include <stddef.h>

#include "common/attrs.h"
#include "common/errbuf.h"

#define MASTER_KEY_LEN 32

struct signer;

struct master_key {
	unsigned char bytes[MASTER_KEY_LEN]; /* all zero when signer is set */
	struct signer *signer;               /* borrowed: the key lives there, in slot */
	int slot;
};

int master_key_load(const char *path, struct master_key *out, struct errbuf *e) MUST_USE;
/* Create a new master key file (mode 0600); refuses to overwrite. */
int master_key_create(const char *path, struct errbuf *e) MUST_USE;
void master_key_wipe(struct master_key *k);

int escrow_seal(const struct master_key *k, const char *aad, const unsigned char *plain,
    size_t len, unsigned char **out, size_t *out_len, struct errbuf *e) MUST_USE;
int escrow_open(const struct master_key *k, const char *aad, const unsigned char *sealed,
    size_t len, unsigned char **out, size_t *out_len, struct errbuf *e) MUST_USE;

#endif
