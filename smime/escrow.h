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
 * Where the key lives is the caller's choice, made once when it loads the
 * key: master_key_load() with a signer (signer.h) does not read the file,
 * it returns a handle to the key that signer holds, and sealing and
 * opening with that handle are requests to the signer; with signer NULL
 * the key is read into this process. master_key_create() with a signer
 * has the signer create <master_key_file>.new (rotation); with NULL it
 * writes the file here ("ca init"). A process that talks to directories,
 * HTTP or SMTP servers passes its signer.
 *
 *   struct master_key k;
 *   if (master_key_load(cfg->service.master_key_file, signer, &k, &e) != 0) ...
 *   ... escrow_seal(&k, "key:cert=42", der, len, &sealed, &sealed_len, &e) ...
 *   master_key_wipe(&k);
 */
#ifndef SMIMESYNC_SMIME_ESCROW_H
#define SMIMESYNC_SMIME_ESCROW_H

#include <stddef.h>

#include <openssl/x509.h>

#include "common/attrs.h"
#include "common/errbuf.h"
#include "conf/conf.h"
#include "smime/types.h"

struct signer;

struct master_key {
	unsigned char bytes[MASTER_KEY_LEN]; /* all zero when signer is set */
	struct signer *signer;               /* borrowed: the key lives there, in slot */
	int slot;
};

/* signer (borrowed; must outlive *out) holds the key, or NULL: read path here. */
int master_key_load(const char *path, struct signer *signer, struct master_key *out,
    struct errbuf *e) MUST_USE;
/*
 * Create a new master key file (mode 0600); refuses to overwrite. With a
 * signer, only <master_key_file>.new, made and held by the signer.
 */
int master_key_create(const char *path, struct signer *signer, struct errbuf *e) MUST_USE;
/*
 * "ca init": the first master key at path, as [service] says: with
 * master_key_uri, sealed under that RSA key of a token (made there first,
 * RSA-3072, when the token has none), otherwise plain hex.
 */
int master_key_create_for(const struct conf_service *sv, const char *path, struct errbuf *e)
    MUST_USE;
void master_key_wipe(struct master_key *k);
/*
 * The two ends of a rotation, done where the key files are (the signer, or
 * here without one): <path>.new becomes path, durably (rename and fsync of
 * the directory), or <path>.new is removed. path is [service]
 * master_key_file.
 */
int master_key_commit(const char *path, struct signer *signer, struct errbuf *e) MUST_USE;
int master_key_discard_next(const char *path, struct signer *signer, struct errbuf *e) MUST_USE;

int escrow_seal(const struct master_key *k, const char *aad, const unsigned char *plain,
    size_t len, unsigned char **out, size_t *out_len, struct errbuf *e) MUST_USE;
int escrow_open(const struct master_key *k, const char *aad, const unsigned char *sealed,
    size_t len, unsigned char **out, size_t *out_len, struct errbuf *e) MUST_USE;

/*
 * Master-key rotation without the plaintext passing through this process:
 * the blob sealed under from (with aad) sealed again under to. Both keys
 * must live in the same place (the same signer, or both here).
 */
int escrow_reseal(const struct master_key *from, const struct master_key *to, const char *aad,
    const unsigned char *sealed, size_t len, unsigned char **out, size_t *out_len,
    struct errbuf *e) MUST_USE;
/* Does the blob open with k? 1 yes, 0 no, -1 the signer could not be asked. */
int escrow_probe(const struct master_key *k, const char *aad, const unsigned char *sealed,
    size_t len, struct errbuf *e) MUST_USE;

/*
 * Escrow: the subscriber key sealed for provisioning (key_aad, which starts
 * with "key:") sealed again as an escrowed key (escrow_aad, which starts
 * with "escrow:") after checking that it is the key of cert. With a signer,
 * the result opens only for key recovery under the operator's credential
 * (signer.h); escrow_open() refuses it.
 */
int escrow_for_recovery(const struct master_key *k, const char *key_aad,
    const unsigned char *sealed, size_t len, X509 *cert, const char *escrow_aad,
    unsigned char **out, size_t *out_len, struct errbuf *e) MUST_USE;
/*
 * The provisioning of this key is over: with a signer, escrow_open() of
 * any blob holding it is refused from now on. Without one, nothing to do.
 */
int escrow_close_key(const struct master_key *k, const char *key_aad,
    const unsigned char *sealed, size_t len, struct errbuf *e) MUST_USE;

#endif
