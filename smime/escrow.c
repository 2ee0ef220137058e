/* SPDX-License-Identifier: ISC */
/*
 * The master key handle and sealing through it (escrow.h): the key is in
 * this process (escrow_seal.c) or in the signer process
 * (signer_internal.h), as the caller said when it loaded the key.
 */
#include "config.h"

#include <string.h>

#include <openssl/crypto.h>

#include "smime/escrow.h"
#include "smime/escrow_seal.h"
#include "smime/signer_internal.h"

int
master_key_load(const char *path, struct signer *signer, struct master_key *out,
    struct errbuf *e)
{
	memset(out, 0, sizeof(*out));
	if (signer == NULL)
		return escrow_key_read(path, out->bytes, e);
	if (signer_master_key(signer, path, &out->slot, e) != 0)
		return -1;
	out->signer = signer;
	return 0;
}

int
master_key_create(const char *path, struct signer *signer, struct errbuf *e)
{
	if (signer == NULL)
		return escrow_key_create(path, e);
	return signer_new_master_key(signer, path, e);
}

void
master_key_wipe(struct master_key *k)
{
	if (k != NULL) {
		OPENSSL_cleanse(k->bytes, sizeof(k->bytes));
		k->signer = NULL;
		k->slot = 0;
	}
}

int
escrow_seal(const struct master_key *k, const char *aad, const unsigned char *plain,
    size_t len, unsigned char **out, size_t *out_len, struct errbuf *e)
{
	if (k->signer != NULL)
		return signer_seal(k->signer, k->slot, aad, plain, len, out, out_len, e);
	return escrow_seal_with(k->bytes, aad, plain, len, out, out_len, e);
}

int
escrow_open(const struct master_key *k, const char *aad, const unsigned char *sealed,
    size_t len, unsigned char **out, size_t *out_len, struct errbuf *e)
{
	if (k->signer != NULL)
		return signer_unseal(k->signer, k->slot, aad, sealed, len, out, out_len, e);
	return escrow_open_with(k->bytes, aad, sealed, len, out, out_len, e);
}
