/* SPDX-License-Identifier: ISC */
/*
 * The master key in this process's memory: its file, and AES-256-GCM
 * sealing with it, in the format escrow.h describes. Private to smime/.
 *
 * Only a process that may hold the master key uses this: the signer
 * program (signer/), and escrow.c when its caller gave no signer
 * ("ca init" making the first key, unit tests). Everyone else seals and
 * opens through escrow.h, whose handle then points at the signer.
 *
 * Buffers returned are new; plaintext buffers hold a secret and get a
 * spare NUL byte (secret_free(p, len + 1)).
 */
#ifndef SMIMESYNC_SMIME_ESCROW_SEAL_H
#define SMIMESYNC_SMIME_ESCROW_SEAL_H

#include <stddef.h>

#include "common/attrs.h"
#include "common/errbuf.h"
#include "conf/conf.h"
#include "smime/types.h"

/*
 * Read the key from path (mode 0600 or refused); wiped on failure. The
 * file holds 64 hex digits, or, with sv->master_key_uri set, the key
 * sealed under that token's RSA key (RSA-OAEP with SHA-256), which only
 * the token opens:
 *
 *   smimesync-master-key sealed RSA-OAEP-SHA256
 *   <hex of the ciphertext>
 *
 * sv may be NULL (unit tests): hex only.
 */
int escrow_key_read(const char *path, const struct conf_service *sv,
    unsigned char key[MASTER_KEY_LEN], struct errbuf *e) MUST_USE;
/* Create a new master key file (mode 0600), sealed as sv says; refuses to overwrite. */
int escrow_key_create(const char *path, const struct conf_service *sv, struct errbuf *e)
    MUST_USE;

int escrow_seal_with(const unsigned char key[MASTER_KEY_LEN], const char *aad,
    const unsigned char *plain, size_t len, unsigned char **out, size_t *out_len,
    struct errbuf *e) MUST_USE;
int escrow_open_with(const unsigned char key[MASTER_KEY_LEN], const char *aad,
    const unsigned char *sealed, size_t len, unsigned char **out, size_t *out_len,
    struct errbuf *e) MUST_USE;

#endif
