/* SPDX-License-Identifier: ISC */
/*
 * The master key handle and sealing through it (escrow.h): the key is in
 * this process (escrow_seal.c) or in the signer process
 * (signer_internal.h), as the caller said when it loaded the key.
 */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "smime/ca_key.h"
#include "smime/escrow.h"
#include "smime/escrow_seal.h"
#include "smime/signer_internal.h"

int
master_key_load(const char *path, struct signer *signer, struct master_key *out,
    struct errbuf *e)
{
	memset(out, 0, sizeof(*out));
	if (signer == NULL)
		return escrow_key_read(path, NULL, out->bytes, e);
	if (signer_master_key(signer, path, &out->slot, e) != 0)
		return -1;
	out->signer = signer;
	return 0;
}

int
master_key_create(const char *path, struct signer *signer, struct errbuf *e)
{
	if (signer == NULL)
		return escrow_key_create(path, NULL, e);
	return signer_new_master_key(signer, path, e);
}

int
master_key_create_for(const struct conf_service *sv, const char *path, struct errbuf *e)
{
	bool created = false;
	char *pin = NULL;
	int rc;

	if (sv->master_key_uri != NULL) {
		/* The sealing key lives in the token: make it there unless it is. */
		if (ca_key_pin_path(sv->master_key_pin_file, sv->master_key_pin_credential, &pin,
		    e) != 0)
			return -1;
		rc = ca_key_token_make(sv->master_key_uri, pin, KEY_TYPE_RSA3072, true, &created,
		    e);
		free(pin);
		if (rc != 0) {
			err_prefix(e, "[service] master_key_uri");
			return -1;
		}
	}
	return escrow_key_create(path, sv, e);
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
